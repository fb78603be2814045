//! The client against chapter 3's own server, the echo server: piped input comes back whole
//! and in order, and the client exits once everything has come back. (From chapter 4 the
//! server no longer echoes, so only chapter 3 runs these.)

use std::time::Duration;

use assert_cmd::Command;
use harness::{Lab, Server};
use predicates::prelude::*;

use super::CH;

/// These behaviours are taught in chapter 3.
const PAGE: &str = "ch03-client";

/// How long a piped session may take: connect, a few round trips, exit.
const QUICK: Duration = Duration::from_secs(10);

/// Runs `client --addr ADDR` with `input` piped to it and checks that standard output is
/// exactly `input` (the echo server's answer) and the status is 0.
fn pipe_through_echo(lab: &Lab, server: &Server, input: &str) {
    lab.step(format!(
        "client: started `{} client --addr {}` with {} lines piped to it",
        CH.id,
        server.addr(),
        input.lines().count()
    ));
    let run = Command::new(CH.bin)
        .arg("client")
        .args(server.addr_args())
        .write_stdin(input)
        .timeout(QUICK)
        .assert();
    let run = lab.check(
        "the client exits with status 0 once the server has closed",
        run.try_success(),
    );
    let run = lab.check(
        "the client prints every echoed line, in order, and nothing else",
        run.try_stdout(input.to_string()),
    );
    lab.check(
        "no `connection closed by server` on standard error: the client closed first (its \
         input ended), the server only answered",
        run.try_stderr(predicate::str::contains("connection closed by server").not()),
    );
}

#[test]
fn piped_lines_come_back_from_the_echo_server_in_order() {
    let lab = Lab::at(&CH, PAGE, "Duplicating a socket with try_clone");
    lab.hint(
        "one thread copies standard input to the socket, another copies the socket to standard \
         output; `try_clone` gives each thread its own handle to the same connection",
    );
    let server = lab.start_server(&[]);
    pipe_through_echo(&lab, &server, "first\nsecond\nthird\n");
}

#[test]
fn a_thousand_piped_lines_all_come_back_before_the_client_exits() {
    let lab = Lab::at(&CH, PAGE, "Half-close: shutdown(Write)");
    lab.hint(
        "end of input is not the end of the session: half-close with `shutdown(Shutdown::Write)` \
         and exit only when the server has closed, after printing everything it sent",
    );
    let server = lab.start_server(&[]);
    let input: String = (1..=1000).map(|i| format!("line {i} of 1000\n")).collect();
    pipe_through_echo(&lab, &server, &input);
}

#[test]
fn the_server_logs_the_client_coming_and_going() {
    let lab = Lab::at(&CH, PAGE, "Your task");
    let mut server = lab.start_server(&[]);
    pipe_through_echo(&lab, &server, "hello\n");
    let connected = server.expect_stdout("a line `connected 127.0.0.1:PORT`", |line| {
        line.starts_with("connected 127.0.0.1:")
    });
    let peer = connected.trim_start_matches("connected ");
    server.expect_stdout_line(&format!("disconnected {peer}"));
}
