//! Cutting lines out of the bytes a socket delivers, with a bound, and cleaning text before
//! others see it.
//!
//! A non-blocking read returns whatever has arrived: half a line, three lines, the end of one
//! and the start of the next. [`split_line`] keeps the unfinished part in the connection's own
//! buffer, which never holds more than one line ([`MAX_LINE`] bytes and its ending).

/// The longest line accepted, in bytes, not counting its `\n` or `\r\n`.
pub const MAX_LINE: usize = 1024;

/// The most bytes of one unfinished line a connection buffers: the line and a `\r`.
pub const MAX_PENDING: usize = MAX_LINE + 1;

/// One line cut out of the input by [`split_line`].
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A complete line, decoded as UTF-8 (invalid sequences replaced), its ending removed.
    Text(String),
    /// The line is longer than [`MAX_LINE`]; the connection should be closed.
    TooLong,
}

/// Takes bytes from the front of `input` up to and including the next `\n`, adding them to
/// `pending` (the unfinished line kept between reads). Returns the complete line, or `None`
/// once `input` is used up without one: the start of the line then waits in `pending`.
/// Returns [`Line::TooLong`] as soon as the line cannot fit, so `pending` stays bounded.
pub fn split_line(pending: &mut Vec<u8>, input: &mut &[u8]) -> Option<Line> {
    if input.is_empty() {
        return None;
    }
    let newline = input.iter().position(|&b| b == b'\n');
    let end = newline.unwrap_or(input.len());
    if pending.len() + end > MAX_PENDING {
        pending.clear();
        *input = &[];
        return Some(Line::TooLong);
    }
    pending.extend_from_slice(&input[..end]);
    let Some(at) = newline else {
        *input = &[];
        return None;
    };
    *input = &input[at + 1..];
    if pending.ends_with(b"\r") {
        pending.pop();
    }
    let line = if pending.len() > MAX_LINE {
        Line::TooLong
    } else {
        Line::Text(String::from_utf8_lossy(pending).into_owned())
    };
    pending.clear();
    Some(line)
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

    /// Feeds `chunks` one read at a time; returns every line, and what is left pending.
    fn feed(chunks: &[&[u8]]) -> (Vec<Line>, Vec<u8>) {
        let mut pending = Vec::new();
        let mut lines = Vec::new();
        for chunk in chunks {
            let mut input = *chunk;
            while let Some(line) = split_line(&mut pending, &mut input) {
                lines.push(line);
            }
        }
        (lines, pending)
    }

    fn text(s: &str) -> Line {
        Line::Text(s.to_string())
    }

    #[test]
    fn splits_lines_across_reads_and_drops_their_endings() {
        let (lines, pending) = feed(&[b"one\ntw", b"o\r\n\nunfin", b"ished"]);
        assert_eq!(lines, [text("one"), text("two"), text("")]);
        assert_eq!(pending, b"unfinished");
    }

    #[test]
    fn accepts_exactly_the_limit_and_refuses_one_byte_more() {
        let at_limit = [vec![b'a'; MAX_LINE], b"\r\n".to_vec()].concat();
        assert_eq!(feed(&[&at_limit]).0, [text(&"a".repeat(MAX_LINE))]);
        let over = [vec![b'a'; MAX_LINE + 1], b"\n".to_vec()].concat();
        assert_eq!(feed(&[&over]).0, [Line::TooLong]);
        let (lines, pending) = feed(&[&[b'a'; 600], &[b'a'; 600]]);
        assert_eq!(lines, [Line::TooLong]);
        assert!(pending.is_empty());
    }

    #[test]
    fn replaces_invalid_utf8() {
        assert_eq!(feed(&[b"caf\xff\n"]).0, [text("caf\u{fffd}")]);
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
        assert_eq!(sanitize("שלום and سلام"), "שלום and سلام");
    }
}
