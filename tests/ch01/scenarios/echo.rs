//! Echo behaviours: chapter 1's server has them, and chapter 2's must keep them.

use std::time::Duration;

use harness::Lab;

use super::CH;

/// These behaviours are taught in chapter 1.
const PAGE: &str = "ch01-echo";

/// How long "nothing arrives" is watched for. Loopback delivers in microseconds, so a
/// quarter of a second is ample to see a line that should not be there.
const SILENCE: Duration = Duration::from_millis(250);

#[test]
fn echoes_lines_in_order() {
    let lab = Lab::at(&CH, PAGE, "Framing lines");
    let server = lab.start_server(&[]);
    let mut a = server.connect("A");
    for line in ["first", "second", "third"] {
        a.send_line(line);
    }
    for line in ["first", "second", "third"] {
        a.expect_line(line);
    }
}

#[test]
fn two_lines_in_one_write_come_back_as_two_lines() {
    let lab = Lab::at(&CH, PAGE, "TCP is a byte stream");
    lab.hint("one read() is not one line: keep reading up to each newline");
    let server = lab.start_server(&[]);
    let mut a = server.connect("A");
    a.send_bytes(b"one\ntwo\n");
    a.expect_line("one");
    a.expect_line("two");
}

#[test]
fn a_line_split_across_writes_comes_back_once_after_its_newline() {
    let lab = Lab::at(&CH, PAGE, "TCP is a byte stream");
    lab.hint("echo a line only when its newline has arrived; buffer the part before it");
    let server = lab.start_server(&[]);
    let mut a = server.connect("A");
    a.send_bytes(b"hel");
    a.expect_silence(SILENCE);
    a.send_bytes(b"lo wor");
    a.expect_silence(SILENCE);
    a.send_bytes(b"ld\n");
    a.expect_line("hello world");
    a.expect_silence(SILENCE);
}

#[test]
fn a_carriage_return_before_the_newline_is_dropped() {
    let lab = Lab::at(&CH, PAGE, "Framing lines");
    lab.hint("a line from telnet or Windows ends in `\\r\\n`: drop the `\\r` before the newline");
    let server = lab.start_server(&[]);
    let mut a = server.connect("A");
    a.send_bytes(b"from telnet\r\n");
    a.expect_line_bytes(b"from telnet");
}

#[test]
fn an_unfinished_last_line_is_not_echoed() {
    let lab = Lab::at(&CH, PAGE, "Framing lines");
    lab.hint(
        "a line ends at its newline: when the client closes after `hel`, there is no line to \
         echo; drop the unfinished bytes and close",
    );
    let server = lab.start_server(&[]);
    let mut a = server.connect("A");
    a.send_line("a whole line");
    a.expect_line("a whole line");
    a.send_bytes(b"no newline");
    a.shutdown_write();
    a.expect_closed();
}

#[test]
fn a_long_line_comes_back_whole() {
    let lab = Lab::at(&CH, PAGE, "Framing lines");
    let server = lab.start_server(&[]);
    let mut a = server.connect("A");
    let long = "abcdefghij".repeat(10_000);
    a.send_line(&long);
    a.expect_line(&long);
}

#[test]
fn invalid_utf8_is_echoed_unchanged() {
    let lab = Lab::at(&CH, PAGE, "Framing lines");
    lab.hint("echo bytes, not strings: a line need not be valid UTF-8");
    let server = lab.start_server(&[]);
    let mut a = server.connect("A");
    a.send_bytes(b"\xff\xfe not utf-8\n");
    a.expect_line_bytes(b"\xff\xfe not utf-8");
    // "é" is two bytes; the two halves arrive in separate writes.
    a.send_bytes(b"caf\xc3");
    a.send_bytes(b"\xa9\n");
    a.expect_line("café");
}

#[test]
fn a_client_that_vanishes_mid_line_does_not_stop_the_server() {
    let lab = Lab::at(&CH, PAGE, "Blocking calls");
    lab.hint(
        "a read error or 0 bytes ends that client only: return from the handler, keep accepting",
    );
    let server = lab.start_server(&[]);
    let mut a = server.connect("A");
    a.send_bytes(b"half a li");
    a.vanish();
    let mut b = server.connect("B");
    b.send_line("still there?");
    b.expect_line("still there?");
}

#[test]
fn serves_the_next_client_after_one_leaves() {
    let lab = Lab::at(&CH, PAGE, "bind, listen, accept");
    let server = lab.start_server(&[]);
    let mut a = server.connect("A");
    a.send_line("from A");
    a.expect_line("from A");
    a.shutdown_write();
    a.expect_closed();
    let mut b = server.connect("B");
    b.send_line("from B");
    b.expect_line("from B");
}

#[test]
fn logs_connects_and_disconnects_with_the_peer_address() {
    let lab = Lab::at(&CH, PAGE, "Your task");
    let mut server = lab.start_server(&[]);
    let mut a = server.connect("A");
    let peer = a.local_addr().to_string();
    server.expect_stdout_line(&format!("connected {peer}"));
    a.send_line("ping");
    a.expect_line("ping");
    a.shutdown_write();
    a.expect_closed();
    server.expect_stdout_line(&format!("disconnected {peer}"));
}
