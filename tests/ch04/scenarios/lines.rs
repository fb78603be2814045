//! Bounded lines and clean text: the 1024-byte limit (counted in bytes, enforced before the
//! newline arrives), `\r\n` endings, lossy UTF-8, control characters, bidirectional controls,
//! and blank lines.

use std::time::Duration;

use harness::Lab;
use rstest::rstest;

use super::CH;
use super::support::{join, join_all, relayed};

/// These behaviours are taught in chapter 4.
const PAGE: &str = "ch04-mutex";
const SECTION: &str = "Bounded lines and clean text";

/// The server's answer to a line over the limit.
const TOO_LONG: &str = "error: line too long (max 1024 bytes)";

/// How long "nothing arrives" is watched for: loopback delivers in microseconds.
const SILENCE: Duration = Duration::from_millis(250);

#[rstest]
#[case::ending_in_lf("\n")]
#[case::ending_in_crlf("\r\n")]
fn a_line_of_exactly_1024_bytes_is_relayed_whole(#[case] ending: &str) {
    let lab = Lab::at(&CH, PAGE, SECTION);
    lab.hint(
        "the limit counts the line's bytes without its `\\n` or `\\r\\n`: 1024 is allowed, so \
         `take` must let 1026 bytes through (`MAX_LINE + 2`: 1024 and `\\r\\n`); with 1025, a \
         1024-byte line ending in `\\r\\n` is cut before its newline and refused",
    );
    let mut server = lab.start_server(&[]);
    let [mut a, mut b] = join_all(&lab, &mut server, ["A", "B"]);
    let text = "0123456789abcdef".repeat(64);
    a.send_bytes(format!("{text}{ending}").as_bytes());
    b.expect_line(&relayed(&a, &text));
    a.send_line("and the connection stays open");
    b.expect_line(&relayed(&a, "and the connection stays open"));
}

#[rstest]
#[case::of_1025_ascii_bytes("x".repeat(1025))]
#[case::of_600_two_byte_characters("é".repeat(600))]
fn a_line_over_1024_bytes_is_refused_and_its_connection_closed(#[case] text: String) {
    let lab = Lab::at(&CH, PAGE, SECTION);
    lab.hint(
        "count bytes (`line.len()`), not characters; over 1024, send `error: line too long \
         (max 1024 bytes)` to the sender and end its connection without relaying anything",
    );
    let mut server = lab.start_server(&[]);
    let [mut a, mut b] = join_all(&lab, &mut server, ["A", "B"]);
    let a_peer = a.local_addr();
    a.send_line(&text);
    a.expect_line(TOO_LONG);
    a.expect_closed();
    server.expect_stdout_line(&format!("disconnected {a_peer}"));
    // B's next line must be C's greeting: the refused line was not relayed.
    let mut c = join(&mut server, &mut [&mut b], "C");
    c.send_line("still chatting");
    b.expect_line(&relayed(&c, "still chatting"));
}

#[test]
fn a_line_that_passes_1024_bytes_is_refused_before_its_newline_arrives() {
    let lab = Lab::at(&CH, PAGE, SECTION);
    lab.hint(
        "read at most 1026 bytes of a line (`MAX_LINE + 2`: 1024 and `\\r\\n`, with `Read::take` \
         on the reader), and refuse it once that much has come without a newline: a server \
         that waits for the newline lets one client fill its memory",
    );
    let server = lab.start_server(&[]);
    let mut a = server.connect("A");
    // 2000 bytes and no newline: the server must not wait for one.
    a.send_bytes(&[b'x'; 2000]);
    a.expect_line(TOO_LONG);
    a.expect_closed();
}

#[test]
fn a_carriage_return_before_the_newline_is_dropped() {
    let lab = Lab::at(&CH, PAGE, SECTION);
    let mut server = lab.start_server(&[]);
    let [mut a, mut b] = join_all(&lab, &mut server, ["A", "B"]);
    a.send_bytes(b"from telnet\r\n");
    b.expect_line(&relayed(&a, "from telnet"));
}

#[test]
fn control_characters_are_removed_from_relayed_text() {
    let lab = Lab::at(&CH, PAGE, SECTION);
    lab.hint(
        "before relaying, drop every character for which `char::is_control` is true, except \
         the tab: an escape sequence must not reach another user's terminal",
    );
    let mut server = lab.start_server(&[]);
    let [mut a, mut b] = join_all(&lab, &mut server, ["A", "B"]);
    // ESC (colours, screen clearing), BEL, a lone CR (overwrites the line), DEL, and the
    // one-character CSI U+009B; the tab stays.
    a.send_bytes(
        "\x1b[31mred\x1b[0m \x1b[2Jbell\x07 a\rb del\x7f csi\u{9b}2J tab\tok\n".as_bytes(),
    );
    b.expect_line(&relayed(&a, "[31mred[0m [2Jbell ab del csi2J tab\tok"));
}

#[test]
fn bidirectional_controls_are_removed_from_relayed_text() {
    let lab = Lab::at(&CH, PAGE, SECTION);
    lab.hint(
        "the bidirectional controls are not `char::is_control`: drop the `BIDI_CONTROLS` too \
         (U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069), or another user's screen shows \
         the line reordered",
    );
    let mut server = lab.start_server(&[]);
    let [mut a, mut b] = join_all(&lab, &mut server, ["A", "B"]);
    // U+202E shows what follows it reversed ("Trojan Source"): B would read "pay 1000 now".
    // Every bidirectional control goes; right-to-left letters are text, and stay.
    a.send_line(
        "pay \u{202E}0001\u{202C} now \u{200E}\u{200F}\u{202A}\u{202B}\u{202D}\u{2066}\u{2067}\
         \u{2068}\u{2069}\u{5e9}\u{5dc}\u{5d5}\u{5dd}",
    );
    b.expect_line(&relayed(&a, "pay 0001 now \u{5e9}\u{5dc}\u{5d5}\u{5dd}"));
}

#[test]
fn invalid_utf8_is_relayed_with_replacement_characters() {
    let lab = Lab::at(&CH, PAGE, SECTION);
    lab.hint(
        "decode each whole line with `String::from_utf8_lossy`, never the bytes of one read: \
         a character can be split between two reads",
    );
    let mut server = lab.start_server(&[]);
    let [mut a, mut b] = join_all(&lab, &mut server, ["A", "B"]);
    a.send_bytes(b"caf\xc3\xa9 \xff\xfe end\n");
    b.expect_line(&relayed(&a, "café \u{fffd}\u{fffd} end"));
    // "é" is two bytes; its halves arrive in separate writes.
    a.send_bytes(b"caf\xc3");
    a.send_bytes(b"\xa9 split\n");
    b.expect_line(&relayed(&a, "café split"));
}

#[test]
fn empty_and_whitespace_only_lines_are_not_relayed() {
    let lab = Lab::at(&CH, PAGE, SECTION);
    lab.hint("skip a line whose `trim()` is empty instead of relaying it");
    let mut server = lab.start_server(&[]);
    let [mut a, mut b] = join_all(&lab, &mut server, ["A", "B"]);
    a.send_bytes(b"\n   \n\t \t\n\r\n \r\n");
    b.expect_silence(SILENCE);
    // Had a blank line been relayed, it would arrive before this one.
    a.send_line("after the blank lines");
    b.expect_line(&relayed(&a, "after the blank lines"));
}
