//! What the load generator sends and how it reads what comes back.
//!
//! Every measured line is `L <sender> <seq> <nanos> <padding>`: the sending client's number,
//! the line's sequence number from that client (0, 1, 2, ...), its send time in nanoseconds
//! since the run's epoch, and padding up to `--size` bytes. The padding is one letter chosen
//! by sender and sequence, so a line that arrives cut short or mixed with another is noticed
//! (torn), not counted.

// ANCHOR: encode
/// Appends line `seq` of client `sender`, stamped `nanos`, padded to `size` bytes, and a newline.
pub fn encode(out: &mut Vec<u8>, sender: u32, seq: u64, nanos: u64, size: usize) {
    let start = out.len();
    // Writing to a Vec cannot fail.
    let _ = std::io::Write::write_fmt(out, format_args!("L {sender} {seq} {nanos} "));
    let pad = padding(sender, seq);
    let header = out.len() - start;
    out.resize(start + size.max(header), pad);
    out.push(b'\n');
}
// ANCHOR_END: encode

/// The padding letter of line `seq` from `sender`.
fn padding(sender: u32, seq: u64) -> u8 {
    b'a' + ((u64::from(sender) + seq) % 26) as u8
}

/// One line from the server, as the load generator sees it.
#[derive(Debug, PartialEq, Eq)]
pub enum Received<'a> {
    /// A whole measured line: who sent it, its number, and when it was sent.
    Load { sender: u32, seq: u64, nanos: u64 },
    /// A readiness probe (`P <n>`), sent while waiting for everyone to be in the room.
    Probe,
    /// `* NAME joined`.
    Joined(&'a str),
    /// `* NAME left`.
    Left(&'a str),
    /// An `error: ...` line.
    Error,
    /// Anything else the server says on its own (`welcome`, `online:`, other notices).
    Notice,
    /// A relayed line that is not a whole measured line of `--size` bytes: torn.
    Torn,
}

// ANCHOR: classify
/// Classifies one received line (without its newline); `size` is the length of a measured line.
pub fn classify(line: &[u8], size: usize) -> Received<'_> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.starts_with(b"error: ") {
        return Received::Error;
    }
    if line.starts_with(b"[") {
        // A relayed line: `[NAME] text` (or `[ADDR] text` in chapter 4).
        let Some(end) = line.windows(2).position(|pair| pair == b"] ") else {
            return Received::Torn;
        };
        let text = &line[end + 2..];
        if text.starts_with(b"P ") {
            return Received::Probe;
        }
        return parse_load(text, size).unwrap_or(Received::Torn);
    }
    if let Some(rest) = line.strip_prefix(b"* ") {
        let rest = std::str::from_utf8(rest).unwrap_or("");
        if let Some(name) = rest.strip_suffix(" joined") {
            return Received::Joined(name);
        }
        if let Some(name) = rest.strip_suffix(" left") {
            return Received::Left(name);
        }
        return Received::Notice;
    }
    const NOTICES: [&[u8]; 4] = [b"welcome ", b"online: ", b"Enter username:", b"bye "];
    if NOTICES.iter().any(|notice| line.starts_with(notice)) {
        Received::Notice
    } else {
        Received::Torn
    }
}
// ANCHOR_END: classify

/// Parses `L <sender> <seq> <nanos> <padding>` of exactly `size` bytes with the right padding.
fn parse_load(text: &[u8], size: usize) -> Option<Received<'static>> {
    let mut fields = text.splitn(5, |&b| b == b' ');
    if fields.next()? != b"L" {
        return None;
    }
    let sender = number(fields.next()?)?;
    let seq = number(fields.next()?)?;
    let nanos = number(fields.next()?)?;
    let pad = fields.next()?;
    let sender = u32::try_from(sender).ok()?;
    let expected = padding(sender, seq);
    let whole = text.len() == size && pad.iter().all(|&b| b == expected);
    whole.then_some(Received::Load { sender, seq, nanos })
}

/// Parses a decimal number of ASCII digits, at most 19 of them (so it fits in a u64).
fn number(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    digits.iter().try_fold(0u64, |value, &digit| {
        digit
            .is_ascii_digit()
            .then(|| value * 10 + u64::from(digit - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relayed(line: &[u8]) -> Vec<u8> {
        let mut out = b"[load-1] ".to_vec();
        out.extend_from_slice(line);
        out
    }

    #[test]
    fn a_line_reads_back_as_sent() {
        let mut line = Vec::new();
        encode(&mut line, 7, 42, 123_456_789, 64);
        assert_eq!(line.len(), 65);
        assert_eq!(line.last(), Some(&b'\n'));
        let received = relayed(&line[..64]);
        assert_eq!(
            classify(&received, 64),
            Received::Load {
                sender: 7,
                seq: 42,
                nanos: 123_456_789
            }
        );
    }

    #[test]
    fn a_cut_or_mixed_line_is_torn() {
        let mut line = Vec::new();
        encode(&mut line, 1, 2, 3, 64);
        assert_eq!(classify(&relayed(&line[..50]), 64), Received::Torn);
        let mut mixed = line[..30].to_vec();
        mixed.extend_from_slice(&line[..34]);
        assert_eq!(classify(&relayed(&mixed), 64), Received::Torn);
        assert_eq!(classify(b"3 4 5 aaaa", 64), Received::Torn);
    }

    #[test]
    fn server_lines_are_recognised() {
        assert_eq!(classify(b"* load-3 joined", 64), Received::Joined("load-3"));
        assert_eq!(classify(b"* load-3 left", 64), Received::Left("load-3"));
        assert_eq!(classify(b"error: line too long", 64), Received::Error);
        assert_eq!(classify(b"welcome x! online: x", 64), Received::Notice);
        assert_eq!(classify(b"[127.0.0.1:5000] P 3", 64), Received::Probe);
    }
}
