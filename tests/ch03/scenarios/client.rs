//! The client (chapter 3 on): what it prints, what it sends, and how it ends, checked against
//! a scripted server that the test drives line by line. None of these depend on what the
//! chapter's own server does, so every later chapter with the same client runs them again.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use assert_cmd::Command;
use harness::{Lab, Process, ReadError, ScriptedServer, Source};
use predicates::prelude::*;

use super::CH;

/// These behaviours are taught in chapter 3.
const PAGE: &str = "ch03-client";

/// How long a command-line check may run: they print and exit at once.
const QUICK: Duration = Duration::from_secs(10);

/// How long a client must stay after its input ended: one that exits at end of input is gone
/// within a millisecond, so a quarter of a second is ample to see it.
const STAYS: Duration = Duration::from_millis(250);

/// `client --addr HOST:PORT` for a client of `server`.
fn client_args(server: &ScriptedServer) -> Vec<String> {
    let mut args = vec!["client".to_string()];
    args.extend(server.addr_args());
    args
}

/// Waits for the client's next line on standard output and fails unless it is exactly
/// `expected`: no prompt, no bell, no decoration when the output is not a terminal.
fn expect_next_stdout(lab: &Lab, client: &mut Process, expected: &str) {
    let what = format!("the line {expected:?} (and nothing before it)");
    let got = client.expect_stdout(&what, |_| true);
    if got != expected {
        lab.fail(
            &format!("client prints {expected:?} as its next line"),
            &format!(
                "client printed {got:?} (when standard output is not a terminal, print the \
                 server's lines exactly as they arrive)"
            ),
        );
    }
}

/// An address where nothing listens: a port the OS just handed out and took back.
fn address_with_no_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("the test can bind a free port");
    listener
        .local_addr()
        .expect("a bound listener has an address")
    // The listener is dropped here: connecting to the port is now refused.
}

#[test]
fn prints_a_line_the_server_sends_while_the_user_types_nothing() {
    let lab = Lab::at(&CH, PAGE, "Two blocking sources need two threads");
    lab.hint(
        "a thread waiting for standard input cannot also wait for the socket: give the socket \
         a thread of its own that prints every line the moment it arrives",
    );
    let scripted = lab.scripted_server();
    let mut client = lab.spawn("client", &client_args(&scripted));
    let mut server = scripted.accept("server");
    server.send_line("hello before you typed anything");
    expect_next_stdout(&lab, &mut client, "hello before you typed anything");
    server.send_line("and another one");
    expect_next_stdout(&lab, &mut client, "and another one");
}

#[test]
fn sends_typed_lines_while_the_server_answers_nothing() {
    let lab = Lab::at(&CH, PAGE, "Two blocking sources need two threads");
    lab.hint(
        "do not wait for an answer after sending a line: in a chat, the server may never \
         answer; sending and printing happen on separate threads",
    );
    let scripted = lab.scripted_server();
    let mut client = lab.spawn("client", &client_args(&scripted));
    let mut server = scripted.accept("server");
    for line in ["first", "second", "third"] {
        client.type_line(line);
    }
    for line in ["first", "second", "third"] {
        server.expect_line(line);
    }
    server.send_line("a line from the server");
    expect_next_stdout(&lab, &mut client, "a line from the server");
    client.type_line("typed after it");
    server.expect_line("typed after it");
}

#[test]
fn end_of_input_half_closes_and_still_prints_what_arrives() {
    let lab = Lab::at(&CH, PAGE, "Half-close: shutdown(Write)");
    lab.hint(
        "at end of input call `shutdown(Shutdown::Write)` on the socket and let the printing \
         thread run on until the server closes: exiting at once loses what is still on its way",
    );
    let scripted = lab.scripted_server();
    let mut client = lab.spawn("client", &client_args(&scripted));
    let mut server = scripted.accept("server");
    client.type_line("last question");
    client.close_stdin();
    server.expect_line("last question");
    // End of file here, while the client is still running, is the half-close.
    match server.read_line_bytes(harness::timeout()) {
        Err(ReadError::Closed { partial }) if partial.is_empty() => {
            lab.step("server: read end of file (the client half-closed)");
        }
        Ok(line) => lab.fail(
            "server reads end of file after the client's input ended",
            &format!("server received {:?}", String::from_utf8_lossy(&line)),
        ),
        Err(ReadError::TimedOut { .. }) => lab.fail(
            "server reads end of file after the client's input ended",
            &format!(
                "nothing within {} ms: the client did not shut down its sending side",
                harness::timeout().as_millis()
            ),
        ),
        Err(err) => lab.fail(
            "server reads end of file after the client's input ended",
            &format!("{err:?}"),
        ),
    }
    if let Some(status) = client.wait_exit(STAYS) {
        lab.fail(
            "the client keeps running after its input ended, until the server closes",
            &format!("it exited ({status}) before the server had answered"),
        );
    }
    lab.step(format!(
        "client: still running {} ms after its input ended",
        STAYS.as_millis()
    ));
    server.send_line("the answer, after your input ended");
    expect_next_stdout(&lab, &mut client, "the answer, after your input ended");
    lab.step("server: closes the connection");
    drop(server);
    client.expect_exit_code(0);
}

#[test]
fn exits_when_the_server_closes_while_the_user_types_nothing() {
    let lab = Lab::at(&CH, PAGE, "A thread blocked on stdin cannot be cancelled");
    lab.hint(
        "when a read from the socket returns 0 bytes, print `connection closed by server` on \
         standard error and end the process (return from main): waiting for the thread blocked \
         on standard input would wait forever",
    );
    let scripted = lab.scripted_server();
    let mut client = lab.spawn("client", &client_args(&scripted));
    let mut server = scripted.accept("server");
    server.send_line("last words");
    expect_next_stdout(&lab, &mut client, "last words");
    lab.step("server: closes the connection (standard input stays open and silent)");
    drop(server);
    client.expect_stderr("the line \"connection closed by server\"", |line| {
        line == "connection closed by server"
    });
    client.expect_exit_code(0);
    lab.section("What the Python client got wrong");
    let printed = client.lines(Source::Stdout);
    if printed != ["last words"] {
        lab.fail(
            "client's standard output is exactly [\"last words\"]",
            &format!(
                "{} lines: {:?}",
                printed.len(),
                printed.iter().take(5).collect::<Vec<_>>()
            ),
        );
    }
}

#[test]
fn a_line_that_is_not_utf8_does_not_stop_the_printing() {
    let lab = Lab::at(&CH, PAGE, "What the Python client got wrong");
    lab.hint(
        "read the socket as bytes (`read_until`) and print them, or decode them with \
         `String::from_utf8_lossy`: a line that is not UTF-8 must not end the printing thread",
    );
    let scripted = lab.scripted_server();
    let mut client = lab.spawn("client", &client_args(&scripted));
    let mut server = scripted.accept("server");
    server.send_bytes(b"\xff\xfe not utf-8\n");
    server.send_line("still printing");
    client.expect_stdout_line("still printing");
    client.type_line("still sending");
    server.expect_line("still sending");
}

#[test]
fn connecting_to_no_server_fails_with_a_clear_error() {
    let lab = Lab::at(&CH, PAGE, "Your task");
    lab.hint(
        "print `error: cannot connect to HOST:PORT: <reason> (is the server running?)` on \
         standard error and return ExitCode::FAILURE: no panic, no unwrap",
    );
    let addr = address_with_no_server().to_string();
    lab.step(format!(
        "test: nothing listens on {addr}; starts the client"
    ));
    let run = Command::new(CH.bin)
        .args(["client", "--addr", &addr])
        .timeout(QUICK)
        .assert();
    let run = lab.check("the client exits with status 1", run.try_code(1));
    let prefix = format!("error: cannot connect to {addr}: ");
    let run = lab.check(
        &format!("standard error reads `{prefix}<reason> (is the server running?)`"),
        run.try_stderr(
            predicate::str::starts_with(prefix.clone())
                .and(predicate::str::ends_with("(is the server running?)").trim()),
        ),
    );
    lab.check(
        "no panic and no backtrace",
        run.try_stderr(predicate::str::contains("panicked").not()),
    );
}

#[test]
fn client_help_describes_the_addr_option() {
    let lab = Lab::at(&CH, PAGE, "Your task");
    let run = Command::new(CH.bin)
        .args(["client", "--help"])
        .timeout(QUICK)
        .assert();
    let run = lab.check("`client --help` exits with status 0", run.try_success());
    lab.check(
        "`client --help` describes --addr HOST:PORT",
        run.try_stdout(
            predicate::str::contains("--addr").and(predicate::str::contains("HOST:PORT")),
        ),
    );
}
