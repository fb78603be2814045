//! The command line every chapter's server shares: `--addr`, `--help`, `--version`, the
//! optional `server` subcommand, the `listening on` line, and a clear error for a busy port.

use std::net::TcpListener;
use std::time::Duration;

use assert_cmd::Command;
use harness::Lab;
use predicates::prelude::*;
use rstest::rstest;

use super::CH;

/// These behaviours are taught in chapter 1.
const PAGE: &str = "ch01-echo";

/// How long a command-line check may run: they print and exit at once.
const QUICK: Duration = Duration::from_secs(10);

#[rstest]
#[case::without_subcommand(&["--addr", "127.0.0.1:0"])]
#[case::with_server_subcommand(&["server", "--addr", "127.0.0.1:0"])]
fn announces_the_port_it_bound_and_accepts_on_it(#[case] args: &[&str]) {
    let lab = Lab::at(&CH, PAGE, "bind, listen, accept");
    lab.hint(
        "print `listening on {addr}` with the address from `listener.local_addr()`, then accept \
         connections on that listener and log each one as `connected PEER`",
    );
    let mut server = lab.start_server_with(args);
    // The harness has read and checked the line. A connection the server reports accepting
    // proves the port is real (connecting alone would not: the kernel completes connections
    // into the backlog even for a server that never calls accept).
    let client = server.connect("A");
    server.expect_stdout_line(&format!("connected {}", client.local_addr()));
}

#[test]
fn help_describes_the_addr_option() {
    let lab = Lab::at(&CH, PAGE, "Your task");
    let run = Command::new(CH.bin).arg("--help").timeout(QUICK).assert();
    let run = lab.check("`--help` exits with status 0", run.try_success());
    lab.check(
        "`--help` describes --addr HOST:PORT",
        run.try_stdout(
            predicate::str::contains("--addr").and(predicate::str::contains("HOST:PORT")),
        ),
    );
}

#[test]
fn version_prints_the_version() {
    let lab = Lab::at(&CH, PAGE, "Your task");
    let run = Command::new(CH.bin)
        .arg("--version")
        .timeout(QUICK)
        .assert();
    let run = lab.check("`--version` exits with status 0", run.try_success());
    lab.check(
        "`--version` prints a version number",
        run.try_stdout(predicate::str::is_match(r"\d+\.\d+\.\d+").expect("a valid regex")),
    );
}

#[test]
fn binding_a_busy_port_fails_with_a_clear_error() {
    let lab = Lab::at(&CH, PAGE, "bind, listen, accept");
    let taken = TcpListener::bind("127.0.0.1:0").expect("the test can bind a free port");
    let addr = taken
        .local_addr()
        .expect("a bound listener has an address")
        .to_string();
    lab.step(format!("test: holds {addr}, then starts the server on it"));
    let run = Command::new(CH.bin)
        .args(["--addr", &addr])
        .timeout(QUICK)
        .assert();
    let run = lab.check("the server exits with status 1", run.try_code(1));
    let expected_start = format!("error: cannot listen on {addr}: ");
    let run = lab.check(
        &format!("standard error starts with `{expected_start}` and the reason"),
        run.try_stderr(predicate::str::starts_with(expected_start.clone())),
    );
    lab.check(
        "no panic and no backtrace",
        run.try_stderr(predicate::str::contains("panicked").not()),
    );
}
