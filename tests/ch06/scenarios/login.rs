//! The login deadline: a client that has not chosen a name within `--login-timeout` seconds is
//! told so and closed, so idle connections cannot hold the slots; a named client may stay quiet.

use std::time::{Duration, Instant};

use assert_cmd::Command;
use harness::{Lab, ReadError};
use predicates::prelude::*;
use rstest::rstest;

use super::CH;
use super::support::{self, PROMPT, connect, join};

/// The book page that teaches these behaviours.
const PAGE: &str = "ch06-cap";

/// The line a client gets when its login time is up.
const TIMED_OUT: &str = "error: timed out waiting for a username";

/// How long a command-line check may run: it prints and exits at once.
const QUICK: Duration = Duration::from_secs(10);

/// The login timeout these tests give the server: short, so the tests are quick.
const LOGIN_TIMEOUT: Duration = Duration::from_millis(500);

#[test]
fn a_client_that_never_names_itself_is_told_and_closed_after_the_login_timeout() {
    let lab = Lab::at(&CH, PAGE, "Timeouts against idle connections");
    lab.hint(
        "give the login one deadline, `--login-timeout` seconds after connecting (fractions \
         allowed: 0.5), that every read of the socket respects (`DeadlineReader`, given in \
         connection.rs); when a read times out, send the line and close",
    );
    let mut server = lab.start_server(&["--login-timeout", "0.5"]);
    let started = Instant::now();
    let mut idle = connect(&server, "A");
    let peer = idle.local_addr();
    idle.expect_line(TIMED_OUT);
    let waited = started.elapsed();
    idle.expect_closed();
    if waited < LOGIN_TIMEOUT {
        lab.fail(
            &format!(
                "the timeout line no sooner than {} ms after connecting",
                LOGIN_TIMEOUT.as_millis()
            ),
            &format!("it came after {} ms", waited.as_millis()),
        );
    }
    let prefix = format!("timed out {peer}: no username within ");
    let logged = server.expect_stdout(&format!("a line starting with {prefix:?}"), |line| {
        line.starts_with(&prefix)
    });
    let expected = format!("{prefix}0.5 s");
    if logged != expected {
        lab.hint("the console gives the login timeout in seconds, as typed on the command line");
        lab.fail(
            &format!("server prints {expected:?} (seconds, like `--login-timeout 0.5`)"),
            &format!("it printed {logged:?}"),
        );
    }
    support::expect_disconnected(&mut server, &[peer]);
}

#[test]
fn sending_invalid_names_does_not_extend_the_login_time() {
    let lab = Lab::at(&CH, PAGE, "Timeouts against idle connections");
    lab.hint(
        "the login has one deadline, fixed at connect: a read timeout reset on every line \
         lets a client that keeps answering badly hold its slot for ever",
    );
    let server = lab.start_server(&["--login-timeout", "0.5"]);
    let mut pest = connect(&server, "A");
    lab.step("A: answers every prompt with an invalid name, as fast as the server answers");
    pest.quiet();
    let deadline = Instant::now() + harness::timeout();
    let mut answers = 0;
    loop {
        if !pest.try_send(b"not a name!\n") {
            break; // the server has closed the connection
        }
        answers += 1;
        let mut line = pest.read_line_bytes(harness::timeout());
        if matches!(&line, Ok(l) if l.starts_with(b"error: username may only")) {
            line = pest.read_line_bytes(harness::timeout());
            if matches!(&line, Ok(l) if l == PROMPT.as_bytes()) {
                if Instant::now() >= deadline {
                    lab.fail(
                        &format!(
                            "A is timed out {} ms after connecting",
                            LOGIN_TIMEOUT.as_millis()
                        ),
                        &format!(
                            "A was still being prompted after {} ms and {answers} invalid names",
                            harness::timeout().as_millis()
                        ),
                    );
                }
                continue;
            }
        }
        match line {
            Ok(l) if l == TIMED_OUT.as_bytes() => break,
            Ok(l) => lab.fail(
                &format!("A receives the refusal and the prompt, or {TIMED_OUT:?}"),
                &format!("A received {:?}", String::from_utf8_lossy(&l)),
            ),
            Err(ReadError::Closed { .. }) | Err(ReadError::Failed(_)) => break,
            Err(ReadError::TimedOut { .. }) => lab.fail(
                &format!("A receives {TIMED_OUT:?}"),
                &format!("nothing within {} ms", harness::timeout().as_millis()),
            ),
        }
    }
    lab.step(format!("A: was timed out after {answers} invalid names"));
}

#[test]
fn a_named_client_may_stay_quiet_longer_than_the_login_timeout() {
    let lab = Lab::at(&CH, PAGE, "Timeouts against idle connections");
    lab.hint("the deadline is for choosing a name only: clear the read timeout once the client has joined");
    let mut server = lab.start_server(&["--login-timeout", "0.5"]);
    let mut alice = join(&server, "alice", "alice");
    // B connects after alice joined and is timed out: by then alice has been quiet longer
    // than the login timeout.
    let mut idle = connect(&server, "B");
    let idle_peer = idle.local_addr();
    idle.expect_line(TIMED_OUT);
    support::expect_disconnected(&mut server, &[idle_peer]);
    alice.send_line("/who");
    alice.expect_line("online: alice");
}

/// How long the drip test waits between two bytes of a name.
const DRIP_EVERY: Duration = Duration::from_millis(300);

#[test]
fn a_client_dripping_its_name_a_byte_at_a_time_is_timed_out_like_a_silent_one() {
    let lab = Lab::at(&CH, PAGE, "Timeouts against idle connections");
    lab.hint(
        "a socket's read timeout bounds one read and starts again after every byte: apply the \
         time LEFT until the login deadline before every read of the socket, not once per line",
    );
    let server = lab.start_server(&["--login-timeout", "1"]);
    let started = Instant::now();
    let mut drip = connect(&server, "A");
    // The login timeout and 2 s of slack for a busy machine (1.8 s in all was once missed by
    // 67 ms under a load average near 100): a deadline per read never times this client out
    // at all, since a byte comes every 300 ms.
    let bound = Duration::from_millis(3000);
    lab.step(format!(
        "A: sends a name one byte every {} ms, never the newline",
        DRIP_EVERY.as_millis()
    ));
    drip.quiet();
    let mut sent = 0;
    // Each wait for the server's line lasts one drip interval: the next byte goes out when
    // nothing has come.
    let outcome = loop {
        if started.elapsed() > bound {
            break Err(format!(
                "A was still connected {} ms after connecting, after {sent} bytes",
                started.elapsed().as_millis()
            ));
        }
        if !drip.try_send(b"a") {
            break Err(format!("A's byte {} could not be sent", sent + 1));
        }
        sent += 1;
        match drip.read_line_bytes(DRIP_EVERY) {
            Err(ReadError::TimedOut { .. }) => continue,
            Ok(line) if line == TIMED_OUT.as_bytes() => break Ok(()),
            Ok(line) => {
                break Err(format!("A received {:?}", String::from_utf8_lossy(&line)));
            }
            Err(err) => break Err(format!("A's connection ended without the line: {err:?}")),
        }
    };
    let waited = started.elapsed();
    let expected = format!(
        "A receives {TIMED_OUT:?} within {} ms of connecting (`--login-timeout 1`), however \
         slowly it sends",
        bound.as_millis()
    );
    if let Err(got) = outcome {
        lab.fail(&expected, &got);
    }
    lab.step(format!(
        "A: received {TIMED_OUT:?} {} ms after connecting, after {sent} bytes",
        waited.as_millis()
    ));
    drip.expect_closed();
}

/// `--login-timeout` values the server refuses, and why.
#[rstest]
#[case::zero("0")]
#[case::negative("-1")]
#[case::too_small_to_count("1e-10")]
#[case::not_a_number("soon")]
#[case::infinite("inf")]
#[case::more_than_a_day("86401")]
fn a_login_timeout_that_is_not_between_a_millisecond_and_a_day_is_refused(#[case] value: &str) {
    let lab = Lab::at(&CH, PAGE, "Your task");
    lab.hint(
        "parse `--login-timeout` as seconds from 0.001 to 86400 (fractions allowed) and let \
         clap refuse anything else; a negative number must reach your parser too \
         (`allow_negative_numbers`)",
    );
    lab.step(format!("started the server with `--login-timeout {value}`"));
    let run = Command::new(CH.bin)
        .args(["--addr", "127.0.0.1:0", "--login-timeout", value])
        .timeout(QUICK)
        .assert();
    let run = lab.check("the server exits with a failure status", run.try_failure());
    let run = lab.check(
        &format!("standard error names --login-timeout and the value {value:?}"),
        run.try_stderr(
            predicate::str::contains("--login-timeout").and(predicate::str::contains(value)),
        ),
    );
    lab.check(
        "nothing is printed on standard output (the server never listens)",
        run.try_stdout(predicate::str::is_empty()),
    );
}

#[rstest]
#[case::a_millisecond("0.001")]
#[case::a_day("86400")]
fn a_login_timeout_from_a_millisecond_to_a_day_is_accepted(#[case] value: &str) {
    let lab = Lab::at(&CH, PAGE, "Your task");
    lab.hint("`--login-timeout` takes seconds from 0.001 to 86400, fractions allowed");
    let _server = lab.start_server(&["--login-timeout", value]);
}
