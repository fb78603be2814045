//! Reading one line with a bounded buffer, and cleaning text before others see it.

use std::io::{self, BufRead, Read};

/// The longest line accepted, in bytes, not counting its `\n` or `\r\n`.
pub const MAX_LINE: usize = 1024;

/// What one call to [`read_line`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A complete line, decoded as UTF-8 (invalid sequences replaced), its ending removed.
    Text(String),
    /// The line is longer than [`MAX_LINE`]; the connection should be closed.
    TooLong,
    /// The client closed the connection (an unfinished last line is dropped).
    Eof,
}

/// Reads the next line from `reader`, buffering at most `MAX_LINE + 2` bytes of it in `buf`.
pub fn read_line(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> io::Result<Line> {
    buf.clear();
    let limit = MAX_LINE + 2; // room for the `\r\n`
    // take() caps what read_until may buffer: a client that never sends a newline cannot make
    // us hold more than `limit` bytes for it.
    let n = reader.by_ref().take(limit as u64).read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(Line::Eof);
    }
    if !buf.ends_with(b"\n") {
        // No newline: either the limit cut the line short, or the connection ended mid-line.
        return Ok(if n == limit { Line::TooLong } else { Line::Eof });
    }
    buf.pop();
    if buf.ends_with(b"\r") {
        buf.pop();
    }
    if buf.len() > MAX_LINE {
        return Ok(Line::TooLong);
    }
    Ok(Line::Text(String::from_utf8_lossy(buf).into_owned()))
}

/// The Unicode bidirectional controls: the marks (U+200E, U+200F), the embeddings and
/// overrides (U+202A to U+202E) and the isolates (U+2066 to U+2069). They print nothing and are
/// not `char::is_control`, yet they reorder how the rest of a line is displayed.
pub const BIDI_CONTROLS: [char; 11] = [
    '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}',
    '\u{2067}', '\u{2068}', '\u{2069}',
];

/// Removes control characters other than tab, so that nobody can send terminal escape
/// sequences (colours, cursor moves, a cleared screen) to someone else's terminal, and the
/// bidirectional controls, so that nobody can reorder what someone else's screen shows.
pub fn sanitize(text: &str) -> String {
    text.chars()
        .filter(|&c| c == '\t' || !(c.is_control() || BIDI_CONTROLS.contains(&c)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8]) -> Vec<Line> {
        let mut reader = io::BufReader::new(input);
        let mut buf = Vec::new();
        let mut lines = Vec::new();
        loop {
            let line = read_line(&mut reader, &mut buf).expect("reading a slice cannot fail");
            let end = line == Line::Eof;
            lines.push(line);
            if end {
                return lines;
            }
        }
    }

    #[test]
    fn splits_lines_and_drops_their_endings() {
        let text = |s: &str| Line::Text(s.to_string());
        assert_eq!(
            read_all(b"one\ntwo\r\n\nunfinished"),
            [text("one"), text("two"), text(""), Line::Eof]
        );
    }

    #[test]
    fn accepts_exactly_the_limit_and_refuses_one_byte_more() {
        let at_limit = [vec![b'a'; MAX_LINE], b"\r\n".to_vec()].concat();
        assert_eq!(read_all(&at_limit)[0], Line::Text("a".repeat(MAX_LINE)));
        let over = [vec![b'a'; MAX_LINE + 1], b"\n".to_vec()].concat();
        assert_eq!(read_all(&over)[0], Line::TooLong);
        let far_over = vec![b'a'; 10 * MAX_LINE];
        assert_eq!(read_all(&far_over)[0], Line::TooLong);
    }

    #[test]
    fn replaces_invalid_utf8() {
        assert_eq!(
            read_all(b"caf\xff\n")[0],
            Line::Text("caf\u{fffd}".to_string())
        );
    }

    #[test]
    fn sanitize_removes_escape_sequences_but_keeps_tabs_and_text() {
        assert_eq!(sanitize("\x1b[31mred\x1b[0m\there\x07"), "[31mred[0m\there");
        assert_eq!(sanitize("héllo wörld"), "héllo wörld");
    }

    #[test]
    fn sanitize_removes_bidirectional_controls() {
        // "Trojan Source": U+202E makes a terminal show the rest of the line reversed.
        assert_eq!(sanitize("abc\u{202E}fed\u{202C} ok"), "abcfed ok");
        let every_one: String = BIDI_CONTROLS.iter().collect();
        assert_eq!(sanitize(&format!("a{every_one}b")), "ab");
        // Right-to-left text itself is not a control: it stays.
        assert_eq!(sanitize("שלום and سلام"), "שלום and سلام");
    }
}
