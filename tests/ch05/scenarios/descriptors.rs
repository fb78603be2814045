//! Running out of file descriptors: `accept` can succeed with the last free descriptor, and the
//! second handle a connection needs (the dup for writers, made at accept from chapter 7 on and
//! when the name is claimed before) then fails with `EMFILE`. The server tells the client, and
//! recovers once clients leave. It never drops a client without a word.

use std::time::Duration;

use harness::{Conn, Lab, ReadError};

use super::CH;
use super::support::{self, PROMPT};

/// How long a client may wait for its first line before the test takes it as queued in the
/// backlog (the server's `accept` itself is failing): the prompt takes a millisecond or two.
const QUEUED: Duration = Duration::from_millis(500);

/// The most clients one round connects: far more than the descriptor limit allows.
const MAX_CLIENTS: usize = 40;

/// What happened to one client of a round.
enum First {
    Prompted(Conn),
    Refused,
    Queued,
}

#[test]
#[cfg(unix)]
fn running_out_of_file_descriptors_never_drops_a_client_without_a_word() {
    let lab = Lab::at(&CH, "ch04-mutex", "Arc and Mutex");
    lab.hint(
        "a client got end of file without a line: when making the second handle on its socket \
         fails (try_clone finds no free descriptor: EMFILE), tell the client with an `error:` \
         line (chapter 7, where it happens right after accept: and pause before accepting again)",
    );
    // Chapter 6 on: a cap far above what the descriptors allow, so that they run out first.
    let args = support::room_for("64");
    // Whether the last descriptor goes to an accept or to the dup after it depends on how many
    // the process had open to start with, so try two limits of different parity.
    for limit in [24, 25] {
        lab.step(format!("round with at most {limit} descriptors"));
        let server = lab.start_server_with_fd_limit(&args, limit);
        let mut prompted = Vec::new();
        let mut saw_limit = false;
        for i in 0..MAX_CLIENTS {
            let conn = server.connect_quiet(&format!("c{limit}x{i}"));
            match log_in(&lab, conn) {
                First::Prompted(conn) => prompted.push(conn),
                First::Refused | First::Queued => {
                    saw_limit = true;
                    break;
                }
            }
        }
        if !saw_limit {
            lab.fail(
                &format!("the server runs out of descriptors before {MAX_CLIENTS} clients"),
                &format!("all {MAX_CLIENTS} were prompted (did the limit apply?)"),
            );
        }
        lab.step(format!(
            "{} clients were prompted before the limit; they all leave",
            prompted.len()
        ));
        drop(prompted);
        let mut late = server.connect("late");
        late.expect_line(PROMPT);
    }
}

/// Logs a new client in under its transcript name: the prompt and the welcome, or an `error:`
/// line at either step, or nothing yet (queued in the backlog). Fails on a close with no word.
fn log_in(lab: &Lab, mut conn: Conn) -> First {
    match next(lab, &mut conn) {
        Some(line) if line == PROMPT => {}
        Some(line) if line.starts_with("error: ") => return First::Refused,
        Some(line) => unexpected(lab, &conn, &line),
        None => return First::Queued,
    }
    let name = conn.name().to_string();
    conn.send_line(&name);
    match next(lab, &mut conn) {
        Some(line) if line.starts_with(&format!("welcome {name}!")) => First::Prompted(conn),
        Some(line) if line.starts_with("error: ") => First::Refused,
        Some(line) => unexpected(lab, &conn, &line),
        None => lab.fail(
            &format!("{name} is welcomed or gets an `error:` line"),
            &format!("nothing within {} ms", QUEUED.as_millis()),
        ),
    }
}

/// The next line, or `None` if nothing came within [`QUEUED`]; fails on a close with no word.
fn next(lab: &Lab, conn: &mut Conn) -> Option<String> {
    match conn.read_line_bytes(QUEUED) {
        Ok(line) => Some(String::from_utf8_lossy(&line).into_owned()),
        Err(ReadError::TimedOut { partial }) if partial.is_empty() => None,
        Err(_) => lab.fail(
            &format!(
                "{} receives the prompt, its welcome or an `error:` line, never a silent close",
                conn.name()
            ),
            "the connection was closed without a word",
        ),
    }
}

fn unexpected(lab: &Lab, conn: &Conn, line: &str) -> ! {
    lab.fail(
        &format!(
            "{} receives the prompt, its welcome or an `error:` line",
            conn.name()
        ),
        &format!("it received {line:?}"),
    )
}
