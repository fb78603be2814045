//! Closing is bounded: a client that keeps sending after its last line (`bye`, or an error)
//! loses its connection, and with it its slot, within the drain time; and a refusal never
//! makes the accepting thread wait for the refused client.

use std::io::Write;
use std::net::TcpStream;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use harness::{Conn, Lab};
use rstest::rstest;

use super::CH;
use super::support::{TOO_LONG, connect, join};

/// The book page that teaches these behaviours.
const PAGE: &str = "ch06-cap";

/// How often the dripping client sends a byte after its last line.
const DRIP_EVERY: Duration = Duration::from_millis(100);

/// From the last line to a free slot, at most: the drain's 500 ms, and room for a busy machine.
const FREED_WITHIN: Duration = Duration::from_millis(2500);

/// Sends one byte every [`DRIP_EVERY`] on `stream` until told to stop (or `stop` is dropped),
/// the connection fails, or `limit` has passed; returns how many bytes went out.
fn drip(mut stream: &TcpStream, stop: &mpsc::Receiver<()>, limit: Duration) -> usize {
    let started = Instant::now();
    let mut sent = 0;
    while started.elapsed() < limit {
        if stream.write_all(b"x").is_err() {
            break; // the server has closed the connection (a reset, once it is gone)
        }
        sent += 1;
        match stop.recv_timeout(DRIP_EVERY) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    sent
}

/// The last line the server sends before it closes a connection.
#[derive(Debug, Clone, Copy)]
enum LastLine {
    /// `bye NAME`, after `exit` from a named client.
    Bye,
    /// `bye`, after `exit` at the username prompt.
    ByeAtThePrompt,
    /// `error: line too long (max 1024 bytes)`.
    LineTooLong,
}

/// Brings the only client to its last line, as `last` says.
fn say_goodbye(server: &harness::Server, last: LastLine) -> Conn {
    match last {
        LastLine::Bye => {
            let mut alice = join(server, "alice", "alice");
            alice.send_line("exit");
            alice.expect_line("bye alice");
            alice
        }
        LastLine::ByeAtThePrompt => {
            let mut a = connect(server, "A");
            a.send_line("exit");
            a.expect_line("bye");
            a
        }
        LastLine::LineTooLong => {
            let mut alice = join(server, "alice", "alice");
            alice.send_line(&"x".repeat(1025));
            alice.expect_line(TOO_LONG);
            alice
        }
    }
}

#[rstest]
#[case::after_bye(LastLine::Bye)]
#[case::after_bye_at_the_prompt(LastLine::ByeAtThePrompt)]
#[case::after_line_too_long(LastLine::LineTooLong)]
fn a_client_that_keeps_sending_after_its_last_line_loses_its_slot_within_the_drain_time(
    #[case] last: LastLine,
) {
    let lab = Lab::at(&CH, PAGE, "Timeouts against idle connections");
    lab.hint(
        "the graceful close reads what the client still sends, so that closing does not reset \
         the connection; bound that drain by ONE deadline in total, not a timeout per read \
         (which a client sending a byte now and then restarts for ever)",
    );
    let mut server = lab.start_server(&["--max-clients", "1"]);
    let holder = say_goodbye(&server, last);
    let said = Instant::now();
    let peer = holder.local_addr();
    lab.step(format!(
        "{}: keeps sending a byte every {} ms and never closes",
        holder.name(),
        DRIP_EVERY.as_millis()
    ));
    let stream = holder
        .stream()
        .try_clone()
        .expect("a connected socket can be cloned");
    // If this test fails, unwinding drops `stop`, and the dripping thread ends.
    let (stop, stopped) = mpsc::channel();
    let dripper = thread::spawn(move || drip(&stream, &stopped, FREED_WITHIN * 2));
    let what = format!(
        "\"disconnected {peer}\" within {} ms of the client's last line, though the client \
         keeps sending",
        FREED_WITHIN.as_millis()
    );
    server.expect_stdout_within(FREED_WITHIN, &what, |line| {
        line == format!("disconnected {peer}")
    });
    let closed_after = said.elapsed();
    drop(stop);
    let sent = dripper.join().unwrap_or(0);
    lab.step(format!(
        "the connection was closed {} ms after the last line; the client had sent {sent} bytes \
         after it",
        closed_after.as_millis()
    ));
    lab.section("RAII slot guards");
    let _next = join(&server, "bob", "bob");
}

#[test]
fn refusals_are_answered_at_once_while_earlier_refused_clients_stay_connected() {
    let lab = Lab::at(&CH, PAGE, "The backlog is not a cap");
    lab.hint(
        "`refuse` runs on the accepting thread: it must not wait for the refused client (no \
         graceful close with a timeout, no blocking read). Write the line, shut down the \
         sending side, discard what has already arrived without waiting, and close",
    );
    let server = lab.start_server(&["--max-clients", "1"]);
    let _holder = connect(&server, "A");
    let bound = Duration::from_millis(1000);
    let started = Instant::now();
    lab.step("R1..R5: connect one after another, stay connected, and read nothing");
    let mut waiting: Vec<Conn> = server.connect_many("R", 5);
    let mut last = server.connect("R6");
    let refusal = "error: server is full (1/1), try again later";
    last.expect_line(refusal);
    let took = started.elapsed();
    if took > bound {
        lab.fail(
            &format!(
                "R6 is refused within {} ms of R1 connecting: refusing must not wait for the \
                 refused clients before it",
                bound.as_millis()
            ),
            &format!("R6's refusal came after {} ms", took.as_millis()),
        );
    }
    lab.step(format!(
        "R6: refused {} ms after R1 connected",
        took.as_millis()
    ));
    for conn in &mut waiting {
        conn.expect_line(refusal);
    }
}
