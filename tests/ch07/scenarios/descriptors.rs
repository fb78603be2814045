//! Running out of file descriptors: `accept` can succeed with the last free descriptor, and the
//! second handle a connection needs (the dup for writers) then fails with `EMFILE`. That is a
//! failed accept: the server says so, tells the client, pauses, and recovers once clients leave.
//! It never drops a client without a word.

use std::time::Duration;

use harness::{Conn, Lab, ReadError};

use super::CH;

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
    let lab = Lab::at(&CH, "ch06-cap", "Why a server needs limits");
    lab.hint(
        "a client got end of file without a line: when setting up a connection fails after \
         accept (try_clone finds no free descriptor: EMFILE), treat it as a failed accept: log \
         it, write an `error:` line to the client, and pause before accepting again",
    );
    // Whether the last descriptor goes to an accept or to the dup after it depends on how many
    // the process had open to start with, so try two limits of different parity.
    for limit in [24, 25] {
        lab.step(format!("round with at most {limit} descriptors"));
        let server = lab.start_server_with_fd_limit(&["--max-clients", "64"], limit);
        let mut prompted = Vec::new();
        let mut saw_limit = false;
        for i in 0..MAX_CLIENTS {
            let conn = server.connect_quiet(&format!("c{limit}-{i}"));
            match first_line(&lab, conn) {
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
        late.expect_line("Enter username:");
    }
}

/// Reads a new client's first line: the prompt, an `error:` line, or nothing yet (queued).
/// Fails on end of file with no line.
fn first_line(lab: &Lab, mut conn: Conn) -> First {
    match conn.read_line_bytes(QUEUED) {
        Ok(line) if line == b"Enter username:" => First::Prompted(conn),
        Ok(line) if line.starts_with(b"error: ") => First::Refused,
        Ok(line) => lab.fail(
            &format!("{} receives the prompt or an `error:` line", conn.name()),
            &format!("it received {:?}", String::from_utf8_lossy(&line)),
        ),
        Err(ReadError::TimedOut { partial }) if partial.is_empty() => First::Queued,
        Err(_) => lab.fail(
            &format!(
                "{} receives the prompt or an `error:` line, never a silent close",
                conn.name()
            ),
            "the connection was closed without a word",
        ),
    }
}
