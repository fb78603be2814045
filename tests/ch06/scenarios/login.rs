//! The login deadline: a client that has not chosen a name within `--login-timeout` seconds is
//! told so and closed, so idle connections cannot hold the slots; a named client may stay quiet.

use std::time::{Duration, Instant};

use harness::{Lab, ReadError};

use super::CH;
use super::support::{self, PROMPT, connect, join};

/// The book page that teaches these behaviours.
const PAGE: &str = "ch06-cap";

/// The line a client gets when its login time is up.
const TIMED_OUT: &str = "error: timed out waiting for a username";

/// The login timeout these tests give the server: short, so the tests are quick.
const LOGIN_TIMEOUT: Duration = Duration::from_millis(500);

#[test]
fn a_client_that_never_names_itself_is_told_and_closed_after_the_login_timeout() {
    let lab = Lab::at(&CH, PAGE, "Timeouts against idle connections");
    lab.hint(
        "set a read timeout on the socket while the client chooses its name (it accepts \
         fractions: `--login-timeout 0.5`); when a read times out, send the line and close",
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
    server.expect_stdout(&format!("a line starting with {prefix:?}"), |line| {
        line.starts_with(&prefix)
    });
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
