//! Notices about one name alternate for every observer: `* x joined`, `* x left`, `* x joined`,
//! ... even when the name is taken again the instant its owner leaves. The name is free once
//! the old owner is out of the list, but its `* x left` is written after that; a new owner's
//! `* x joined` must not overtake it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use harness::{Conn, Lab, ReadError, Server};

use super::CH;
use super::support::{self, PAGE, PROMPT, join};

/// The contested name, and how many clients keep trying to take it: the more requests in
/// flight, the sooner one lands in the instant between a leaving and its notice (from chapter
/// 6, the test raises the cap to let them all in, with a slot to spare for reconnecting).
const NAME: &str = "x";
const CONTENDERS: usize = 6;

/// How long the contenders keep taking the name and giving it back, at most: they stop at the
/// first notice out of order.
const CHURN: Duration = Duration::from_millis(5000);

#[test]
fn notices_about_one_name_alternate_even_when_it_is_taken_again_at_once() {
    let lab = Lab::at(&CH, PAGE, "Notices in the order the room changed");
    lab.hint(
        "the observer heard `* x joined` while x was still online for it: the new owner's join \
         notice overtook the old owner's `* x left`. Announce each join and leave completely \
         (the list change and every notice) before the next one starts",
    );
    let server = lab.start_server(&support::room_for("8"));
    let mut observer = join(&server, "observer", "observer");
    lab.step(format!(
        "{CONTENDERS} clients take the name {NAME:?} in turn for {} ms: each asks for it until \
         it is free, says exit, and comes back",
        CHURN.as_millis()
    ));
    let until = Instant::now() + CHURN;
    let stop = AtomicBool::new(false);
    let (turns, verdict) = std::thread::scope(|scope| {
        let contenders: Vec<_> = (0..CONTENDERS)
            .map(|i| {
                let (server, stop) = (&server, &stop);
                scope.spawn(move || contend(server, &format!("{NAME}{i}"), until, stop))
            })
            .collect();
        let verdict = watch(&mut observer, until);
        stop.store(true, Ordering::SeqCst);
        let turns: Result<usize, String> = contenders
            .into_iter()
            .map(|c| c.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .sum();
        (turns, verdict)
    });
    let turns = match turns {
        Ok(turns) => turns,
        Err(got) => lab.fail(
            "each contender takes the name, says exit and gets bye",
            &got,
        ),
    };
    match verdict {
        Ok(notices) => lab.step(format!(
            "observer: {notices} notices about {NAME:?} over {turns} turns, alternating"
        )),
        Err(got) => lab.fail(
            &format!("the observer's notices about {NAME:?} alternate joined, left, joined, ..."),
            &format!("{got} (after {turns} turns)"),
        ),
    }
}

/// One contender: until `until` (or `stop`), connects, asks for [`NAME`] until it gets it, and leaves with
/// `exit`. Returns how many times it held the name.
fn contend(server: &Server, who: &str, until: Instant, stop: &AtomicBool) -> Result<usize, String> {
    let mut turns = 0;
    while Instant::now() < until && !stop.load(Ordering::SeqCst) {
        let mut conn = server.connect_quiet(who);
        if !take_name(&mut conn, until)? {
            continue;
        }
        turns += 1;
        conn.send_line("exit");
        expect(&mut conn, &format!("bye {NAME}"))?;
    }
    Ok(turns)
}

/// Asks for the name until it is granted (true), or the server is full or time is up (false).
fn take_name(conn: &mut Conn, until: Instant) -> Result<bool, String> {
    let welcome = format!("welcome {NAME}! ");
    loop {
        let line = next(conn)?;
        if line.starts_with("error: server is full") {
            return Ok(false);
        }
        if line != PROMPT {
            return Err(format!(
                "{} received {line:?} instead of the prompt",
                conn.name()
            ));
        }
        if Instant::now() >= until {
            return Ok(false);
        }
        conn.send_line(NAME);
        let answer = next(conn)?;
        if answer.starts_with(&welcome) {
            return Ok(true);
        }
        if answer != format!("error: username '{NAME}' is already taken") {
            return Err(format!(
                "{} received {answer:?} after asking for {NAME:?}",
                conn.name()
            ));
        }
    }
}

/// Reads `conn`'s next line, failing on silence or a closed connection.
fn next(conn: &mut Conn) -> Result<String, String> {
    conn.read_line_bytes(harness::timeout())
        .map(|line| String::from_utf8_lossy(&line).into_owned())
        .map_err(|err| match err {
            ReadError::TimedOut { .. } => format!("{} received nothing in time", conn.name()),
            _ => format!("{}'s connection ended unexpectedly", conn.name()),
        })
}

/// Fails unless `conn`'s next line is `expected`.
fn expect(conn: &mut Conn, expected: &str) -> Result<(), String> {
    let got = next(conn)?;
    if got == expected {
        Ok(())
    } else {
        Err(format!(
            "{} received {got:?}, expected {expected:?}",
            conn.name()
        ))
    }
}

/// The observer's side: reads notices until the churn is over and the name is free, checking
/// that joined and left alternate. Returns how many notices it saw.
fn watch(observer: &mut Conn, until: Instant) -> Result<usize, String> {
    let (joined, left) = (format!("* {NAME} joined"), format!("* {NAME} left"));
    let mut online = false;
    let mut notices = 0;
    let mut history: Vec<&str> = Vec::new();
    let give_up = until + harness::timeout();
    loop {
        if Instant::now() >= until && !online {
            return Ok(notices);
        }
        // Short reads, so that the end of the churn is noticed while nothing arrives.
        let wait = give_up.saturating_duration_since(Instant::now());
        let line = match observer.read_line_bytes(wait.min(Duration::from_millis(100))) {
            Ok(line) => String::from_utf8_lossy(&line).into_owned(),
            Err(ReadError::TimedOut { .. }) if Instant::now() < give_up => continue,
            Err(ReadError::TimedOut { .. }) => {
                return Err(format!(
                    "{NAME:?} never left for the observer (no `{left}`)"
                ));
            }
            Err(_) => return Err("the server closed the observer's connection".to_string()),
        };
        notices += 1;
        let this = if line == joined {
            "joined"
        } else if line == left {
            "left"
        } else {
            return Err(format!("the observer received {line:?}"));
        };
        history.push(this);
        if history.len() > 4 {
            history.remove(0);
        }
        if (this == "joined") == online {
            return Err(format!(
                "the observer received {line:?} while {NAME:?} was {} for it; its last notices \
                 about {NAME:?}: {}",
                if online { "online" } else { "gone" },
                history.join(", ")
            ));
        }
        online = !online;
    }
}
