//! What every chapter's server shares from the command line to its console: `--addr` (and a
//! clear error for a busy port or an address without a port), `--help` (naming the chapter),
//! `--version`, the optional `server` subcommand, the `listening on` line, and a console that
//! nobody reads stopping nothing.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use harness::{Conn, Lab, ReadError, Server, Source};
use predicates::prelude::*;
use rstest::rstest;

use super::CH;

/// These behaviours are taught in chapter 1.
const PAGE: &str = "ch01-echo";

/// How long a command-line check may run: they print and exit at once.
const QUICK: Duration = Duration::from_secs(10);

/// The chapter under test as a number: 1 for `ch01`.
fn chapter_number() -> u32 {
    CH.id
        .strip_prefix("ch")
        .and_then(|number| number.parse().ok())
        .expect("grader ids are chNN")
}

#[rstest]
#[case::without_subcommand(&["--addr", "127.0.0.1:0"])]
#[case::with_server_subcommand(&["server", "--addr", "127.0.0.1:0"])]
fn announces_the_port_it_bound_and_accepts_on_it(#[case] args: &[&str]) {
    let lab = Lab::at(&CH, PAGE, "bind, listen, accept");
    lab.hint(
        "after `listening on`, the server must go on: accept connections on that listener, in \
         a loop, and log each one as `connected PEER`. If it ended instead (a `todo!()` or \
         another panic, in its output below), that code comes first",
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
fn help_names_this_chapter() {
    let lab = Lab::at(&CH, PAGE, "Your task");
    let chapter = chapter_number();
    let run = Command::new(CH.bin).arg("--help").timeout(QUICK).assert();
    let run = lab.check("`--help` exits with status 0", run.try_success());
    let help = String::from_utf8_lossy(&run.get_output().stdout).into_owned();
    // Every "chapter N" in the help, as numbers.
    let named: Vec<u32> = help
        .split("chapter ")
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect();
    if named.is_empty() || named.iter().any(|&n| n != chapter) {
        let first = help.lines().next().unwrap_or("");
        lab.fail(
            &format!("`--help` names chapter {chapter}, and no other"),
            &format!("it names chapters {named:?}; its first line is {first:?}"),
        );
    }
}

#[rstest]
#[case::alone(&["--version"])]
#[case::after_the_server_subcommand(&["server", "--version"])]
fn version_prints_the_version(#[case] args: &[&str]) {
    let lab = Lab::at(&CH, PAGE, "Your task");
    let shown = args.join(" ");
    let run = Command::new(CH.bin).args(args).timeout(QUICK).assert();
    let run = lab.check(&format!("`{shown}` exits with status 0"), run.try_success());
    lab.check(
        &format!("`{shown}` prints a version number"),
        run.try_stdout(predicate::str::is_match(r"\d+\.\d+\.\d+").expect("a valid regex")),
    );
}

#[test]
fn binding_a_busy_port_fails_with_a_clear_error() {
    let lab = Lab::at(&CH, PAGE, "bind, listen, accept");
    lab.hint(
        "`listen` and `bind_hint` (given, in src/lib.rs) build this line: keep the reason and \
         the hint, print the line with `say_err!`, and return an error status instead of panicking",
    );
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
    let run = lab.check(
        "standard error gives the hint `(is another server running? ...)`",
        run.try_stderr(predicate::str::contains("(is another server running?")),
    );
    lab.check(
        "no panic and no backtrace",
        run.try_stderr(predicate::str::contains("panicked").not()),
    );
}

#[test]
fn an_addr_without_a_port_is_a_usage_error() {
    let lab = Lab::at(&CH, PAGE, "bind, listen, accept");
    lab.hint("`--addr` takes HOST:PORT; check its form when the command line is parsed");
    let run = Command::new(CH.bin)
        .args(["--addr", "7878"])
        .timeout(QUICK)
        .assert();
    let run = lab.check(
        "`--addr 7878` exits with status 2, a usage error",
        run.try_code(2),
    );
    lab.check(
        "standard error says that --addr expects HOST:PORT",
        run.try_stderr(
            predicate::str::contains("'7878'").and(predicate::str::contains("expected HOST:PORT")),
        ),
    );
}

/// Whether the server still does its job, `round` telling one call's clients from the next:
/// in chapters 1 to 3 a client's line comes back, then another client's; in chapter 4 two
/// clients' lines reach each other; from chapter 5 two clients log in and chat. The clients
/// leave when the call returns.
fn serves_clients(lab: &Lab, server: &Server, round: usize) {
    let (first, second) = (format!("A{round}"), format!("B{round}"));
    match chapter_number() {
        1..=3 => {
            // One after the other: chapter 1 serves the next client once this one has left.
            for name in [first, second] {
                let mut client = server.connect(&name);
                client.send_line(&format!("hello from {name}"));
                client.expect_line(&format!("hello from {name}"));
            }
        }
        4 => {
            let mut a = server.connect(&first);
            let mut b = server.connect(&second);
            first_relay(lab, &mut a, &mut b);
            // B's line was relayed, so B is in the room: A's line must reach it.
            a.send_line("and back");
            b.expect_line(&format!("[{}] and back", a.local_addr()));
        }
        _ if round == 1 => {
            let mut a = log_in(server, &first, "alice", "alice");
            let mut b = log_in(server, &second, "bob", "alice, bob");
            a.expect_line("* bob joined");
            b.send_line("hello");
            a.expect_line("[bob] hello");
        }
        _ => {
            // The first round's clients may still be leaving, and their `* NAME left` could
            // reach a newcomer before or after its welcome: the prompt is enough here.
            let mut a = server.connect(&first);
            a.expect_line("Enter username:");
        }
    }
}

/// Connects `who`, answers the username prompt with `name`, and expects the welcome.
fn log_in(server: &Server, who: &str, name: &str, online: &str) -> Conn {
    let mut conn = server.connect(who);
    conn.expect_line("Enter username:");
    conn.send_line(name);
    conn.expect_line(&format!("welcome {name}! online: {online}"));
    conn
}

/// Chapter 4 has no greeting to wait for, and its console is closed here: `b` says hello until
/// one of its lines reaches `a`, which proves both are in the room.
fn first_relay(lab: &Lab, a: &mut Conn, b: &mut Conn) {
    let deadline = Instant::now() + harness::timeout();
    let prefix = format!("[{}] hello ", b.local_addr());
    let mut sent = 0;
    while Instant::now() < deadline {
        sent += 1;
        b.send_line(&format!("hello {sent}"));
        match a.read_line_bytes(Duration::from_millis(200)) {
            Ok(line) => {
                let line = String::from_utf8_lossy(&line).into_owned();
                if line.starts_with(&prefix) {
                    lab.step(format!("{}: received {line:?}", a.name()));
                    return;
                }
                lab.fail(
                    &format!("{} receives {prefix}N", a.name()),
                    &format!("{} received {line:?}", a.name()),
                );
            }
            Err(ReadError::TimedOut { .. }) => {}
            Err(ReadError::Closed { .. }) => lab.fail(
                &format!("{} receives {prefix}N", a.name()),
                "the server closed the connection",
            ),
            Err(ReadError::Failed(err)) => lab.fail(
                &format!("{} receives {prefix}N", a.name()),
                &format!("the connection failed: {err}"),
            ),
        }
    }
    lab.fail(
        &format!(
            "{} receives one of {sent} lines from {}",
            a.name(),
            b.name()
        ),
        &format!("nothing within {} ms", harness::timeout().as_millis()),
    );
}

#[test]
fn a_closed_console_does_not_stop_the_server() {
    let lab = Lab::at(&CH, PAGE, "The console is best effort");
    lab.hint(
        "log with `say!` and `say_err!` (src/console.rs), never `println!`: when standard \
         output is closed, `println!` panics on `Broken pipe`, and a panic on the accepting \
         thread ends the server",
    );
    let mut server = lab.start_server_then_close_console(&[]);
    serves_clients(&lab, &server, 1);
    serves_clients(&lab, &server, 2);
    server.expect_running();
    // A panic on a connection's thread spares the server, but it ends that connection
    // wherever it strikes. The first round's clients have left, and their threads' last
    // console lines are most likely printed by now: a panic there is usually caught, not
    // always.
    let panics: Vec<String> = server
        .lines(Source::Stderr)
        .into_iter()
        .filter(|line| line.contains("panicked"))
        .collect();
    if !panics.is_empty() {
        lab.fail("no thread of the server panicked", &panics.join("\n"));
    }
}
