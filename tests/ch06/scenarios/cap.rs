//! The cap: at most `--max-clients` connections at once, counted from accept; the next one is
//! told the server is full and closed; a slot comes back on every way out; and many clients
//! connecting at the same instant never get more than the cap in.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use assert_cmd::Command;
use harness::transcript::quote;
use harness::{Conn, Lab, ReadError, Server};
use predicates::prelude::*;
use rstest::rstest;

use super::CH;
use super::support::{self, PROMPT, Way, connect, join};

/// The book page that teaches these behaviours.
const PAGE: &str = "ch06-cap";

/// How long a command-line check may run: it prints and exits at once.
const QUICK: Duration = Duration::from_secs(10);

/// The line a client gets when all `max` slots are taken.
fn full(max: usize) -> String {
    format!("error: server is full ({max}/{max}), try again later")
}

/// Connects one client too many and expects the refusal, the close, and the console's log.
fn expect_refused(lab: &Lab, server: &mut Server, who: &str, max: usize) {
    let mut extra = server.connect(who);
    let peer = extra.local_addr();
    let refusal = full(max);
    let first = extra.expect_line_matching(&format!("{refusal:?}"), |line| {
        line == refusal || line == PROMPT
    });
    if first == PROMPT {
        lab.section("RAII slot guards");
        lab.hint(
            "a slot was free although every one should be taken: a slot is held from accept \
             (a client still at the prompt holds one too) until the connection is closed. \
             Count connections, not names in the room; and keep the guard in a variable the \
             connection's thread owns (`let Some(_) = slots.try_acquire()` drops it at once)",
        );
        lab.fail(
            &format!("{who} is refused: {max} connections are open, each holding a slot"),
            &format!("{who} received {PROMPT:?}: it was admitted"),
        );
    }
    extra.expect_closed();
    lab.section("Why a server needs limits");
    support::expect_console(
        lab,
        server,
        &format!("refused {peer}: server is full ({max}/{max})"),
    );
}

#[test]
fn the_sixth_client_is_refused_with_the_exact_line_and_closed() {
    let lab = Lab::at(&CH, PAGE, "The backlog is not a cap");
    lab.hint(
        "accept the connection, write `error: server is full (5/5), try again later`, close it, \
         and log `refused PEER: server is full (5/5)`: a connection left waiting in the \
         backlog is not refused, it just hangs",
    );
    let mut server = lab.start_server(&[]);
    let (mut alice, mut bob) = support::alice_and_bob(&server);
    let _carol = join(&server, "carol", "alice, bob, carol");
    // Two clients still at the prompt hold a slot each: the cap counts from accept.
    let _d = connect(&server, "D");
    let _e = connect(&server, "E");
    expect_refused(&lab, &mut server, "F", 5);
    // The five inside are not disturbed.
    alice.send_line("still here");
    bob.expect_line("* carol joined");
    bob.expect_line("[alice] still here");
}

#[test]
fn when_one_of_five_leaves_a_new_client_gets_in() {
    let lab = Lab::at(&CH, PAGE, "RAII slot guards");
    lab.hint(
        "give the slot back when the connection's thread ends, before printing `disconnected PEER`",
    );
    let mut server = lab.start_server(&[]);
    let mut inside: Vec<Conn> = ["A", "B", "C", "D", "E"]
        .iter()
        .map(|who| connect(&server, who))
        .collect();
    expect_refused(&lab, &mut server, "F", 5);
    let leaver = inside.remove(0);
    let leaver_peer = leaver.local_addr();
    lab.section("RAII slot guards");
    drop(leaver);
    support::expect_disconnected(&mut server, &[leaver_peer]);
    let _g = join(&server, "gina", "gina");
    expect_refused(&lab, &mut server, "H", 5);
}

/// How many times [`the_slot_is_free_the_moment_disconnected_is_printed`] hands the only slot
/// from one client to the next while holding the server's console: each handover settles it.
const HELD_HANDOVERS: usize = 3;

/// How many times it hands the slot over where the console cannot be held, racing instead: the
/// gap between a `disconnected` line printed first and the slot given back after it is a few
/// microseconds, so it is looked for many times.
const RACED_HANDOVERS: usize = 500;

/// How long the server may take to deal with a connection while its console is held: its
/// accepting thread only has to take the connection and find the slot free or not.
const ACCEPT_WITHIN: Duration = Duration::from_secs(1);

#[test]
fn the_slot_is_free_the_moment_disconnected_is_printed() {
    let lab = Lab::at(&CH, PAGE, "RAII slot guards");
    lab.hint(
        "the slot came back only after `disconnected PEER` was printed: give it back first (drop \
         the guard), then print the line, since whoever reads it may connect at once",
    );
    let mut server = lab.start_server_with_holdable_console(&["--max-clients", "1"]);
    lab.step(format!(
        "{HELD_HANDOVERS} times: the client holding the only slot closes; while the server is \
         printing its `disconnected` line, the next client connects"
    ));
    let mut holder = server.connect("C0");
    expect_the_prompt(&lab, &mut holder, 0, || {
        "C0 was refused, with nobody else connected".to_string()
    });
    for i in 1..=HELD_HANDOVERS {
        // Its `connected` line is out: the console is quiet, so the next line the server
        // writes is the one this handover is about.
        server.expect_stdout_line(&format!("connected {}", holder.local_addr()));
        let Some(console) = server.hold_console() else {
            // Another system, or a kernel that hides what threads are doing: race instead.
            return hand_over_racing(&lab, &mut server, holder);
        };
        let peer = holder.local_addr();
        lab.step(format!("C{} closes", i - 1));
        drop(holder);
        let line = format!("disconnected {peer}");
        console.expect_printing(&quote(&line));
        holder = server.connect(&format!("C{i}"));
        if !console.wait_until_accepted(ACCEPT_WITHIN) {
            // Not a failure in itself: the new client's first line is the verdict.
            lab.step(format!(
                "test: the server's threads had not all settled after {} ms",
                ACCEPT_WITHIN.as_millis()
            ));
        }
        drop(console);
        expect_the_prompt(&lab, &mut holder, i, || {
            format!(
                "C{i} was refused: it connected while the server was still writing C{}'s \
                 `disconnected` line (the test held the server's console full), so the slot \
                 was given back only after that line",
                i - 1
            )
        });
        server.expect_stdout(&quote(&line), |printed| printed == line);
    }
    lab.step(format!(
        "every one of the {} clients got the prompt",
        HELD_HANDOVERS + 1
    ));
}

/// Reads `holder`'s first line, which must be the prompt; `refused` says why a refusal is wrong.
fn expect_the_prompt(lab: &Lab, holder: &mut Conn, i: usize, refused: impl FnOnce() -> String) {
    let refusal = full(1);
    match holder.read_line_bytes(harness::timeout()) {
        Ok(line) if line == PROMPT.as_bytes() => {}
        Ok(line) if line == refusal.as_bytes() => lab.fail(
            &format!("C{i} receives {PROMPT:?}: the slot was free"),
            &refused(),
        ),
        other => lab.fail(&format!("C{i} receives {PROMPT:?}"), &format!("{other:?}")),
    }
}

/// [`the_slot_is_free_the_moment_disconnected_is_printed`] where the console cannot be held:
/// the next client connects as soon as the test reads the `disconnected` line, many times.
fn hand_over_racing(lab: &Lab, server: &mut Server, mut holder: Conn) {
    lab.step(format!(
        "{RACED_HANDOVERS} times: the client holding the only slot closes, and the next one \
         connects as soon as the server prints the first one's `disconnected` line"
    ));
    // Two busy threads keep both cores contended, as on a loaded machine: the server's thread
    // is then now and then paused between its `disconnected` line and what follows it, which
    // is the gap this test looks into.
    let busy = AtomicBool::new(true);
    thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                while busy.load(Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            });
        }
        // Stops the busy threads however the scope ends, a failure's unwinding included.
        let _stop = StopOnDrop(&busy);
        for i in 1..=RACED_HANDOVERS {
            let peer = holder.local_addr();
            drop(holder);
            let line = format!("disconnected {peer}");
            server.expect_stdout(&quote(&line), |printed| printed == line);
            holder = server.connect_quiet(&format!("C{i}"));
            expect_the_prompt(lab, &mut holder, i, || {
                format!(
                    "C{i} was refused: the server had printed C{}'s `disconnected` line before \
                     C{i} connected ({} handovers went well before)",
                    i - 1,
                    i - 1
                )
            });
        }
    });
    lab.step(format!(
        "every one of the {} clients got the prompt",
        RACED_HANDOVERS + 1
    ));
}

/// Clears its flag when dropped.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// How a connection holding the only slot goes away.
#[derive(Debug, Clone, Copy)]
enum Departure {
    /// A named client leaves in one of chapter 5's ways.
    Named(Way),
    /// A client at the prompt says `exit`.
    ExitAtThePrompt,
    /// A client at the prompt closes its side.
    EndOfInputAtThePrompt,
    /// A client at the prompt is reset.
    ResetAtThePrompt,
    /// A client at the prompt says nothing until the login timeout.
    LoginTimeout,
}

#[rstest]
#[case::exit(Departure::Named(Way::Exit))]
#[case::end_of_input(Departure::Named(Way::EndOfInput))]
#[case::reset(Departure::Named(Way::Reset))]
#[case::line_too_long(Departure::Named(Way::LineTooLong))]
#[case::exit_at_the_prompt(Departure::ExitAtThePrompt)]
#[case::end_of_input_at_the_prompt(Departure::EndOfInputAtThePrompt)]
#[case::reset_at_the_prompt(Departure::ResetAtThePrompt)]
#[case::login_timeout(Departure::LoginTimeout)]
fn a_slot_is_given_back_on_every_way_out(#[case] departure: Departure) {
    let lab = Lab::at(&CH, PAGE, "RAII slot guards");
    lab.hint(
        "tie the slot to a guard whose Drop gives it back, owned by the connection's thread: \
         then every way out, an error or a panic included, frees it",
    );
    let mut server = lab.start_server(&["--max-clients", "1", "--login-timeout", "0.5"]);
    let holder = connect(&server, "A");
    let peer = holder.local_addr();
    expect_refused(&lab, &mut server, "B", 1);
    lab.section("RAII slot guards");
    let mut half_closed = None;
    match departure {
        Departure::Named(way) => {
            let mut holder = holder;
            holder.send_line("alice");
            holder.expect_line("welcome alice! online: alice");
            half_closed = support::leave(holder, "alice", way);
        }
        Departure::ExitAtThePrompt => {
            let mut holder = holder;
            holder.send_line("exit");
            holder.expect_line("bye");
            holder.expect_closed();
        }
        Departure::EndOfInputAtThePrompt => {
            let mut holder = holder;
            holder.shutdown_write();
            half_closed = Some(holder);
        }
        Departure::ResetAtThePrompt => holder.vanish(),
        Departure::LoginTimeout => {
            let mut holder = holder;
            holder.expect_line("error: timed out waiting for a username");
            holder.expect_closed();
        }
    }
    support::expect_disconnected(&mut server, &[peer]);
    let _c = join(&server, "carol", "carol");
    drop(half_closed);
}

#[rstest]
#[case::one(1)]
#[case::fifty(50)]
fn max_clients_sets_the_cap(#[case] max: usize) {
    let lab = Lab::at(&CH, PAGE, "Your task");
    lab.hint(
        "`--max-clients N` (default 5) is the number of slots; the refusal line names it: `(N/N)`",
    );
    let mut server = lab.start_server(&["--max-clients", &max.to_string()]);
    let mut inside: Vec<Conn> = (0..max)
        .map(|i| {
            let mut conn = server.connect(&format!("C{i}"));
            conn.quiet().expect_line(PROMPT);
            conn
        })
        .collect();
    lab.step(format!("{max} clients connected, each got the prompt"));
    expect_refused(&lab, &mut server, "X", max);
    let leaver = inside.pop().expect("max is at least 1");
    let leaver_peer = leaver.local_addr();
    drop(leaver);
    support::expect_disconnected(&mut server, &[leaver_peer]);
    let _y = connect(&server, "Y");
    expect_refused(&lab, &mut server, "Z", max);
}

/// What one racing client saw first.
enum Outcome {
    Admitted(Conn),
    Refused(SocketAddr),
}

/// Releases `count` clients at one instant (a barrier), each reading its first line.
fn race(lab: &Lab, server: &Server, round: usize, count: usize, max: usize) -> Vec<Outcome> {
    let refusal = full(max);
    let results: Vec<Result<Outcome, String>> = harness::all_at_once(0..count, |i| {
        let mut conn = server.connect(&format!("R{round}.{i}"));
        conn.quiet();
        let peer = conn.local_addr();
        match conn.read_line_bytes(harness::timeout()) {
            Ok(line) if line == PROMPT.as_bytes() => Ok(Outcome::Admitted(conn)),
            Ok(line) if line == refusal.as_bytes() => Ok(Outcome::Refused(peer)),
            Ok(line) => Err(format!(
                "R{round}.{i} received {:?}",
                String::from_utf8_lossy(&line)
            )),
            Err(ReadError::TimedOut { .. }) => Err(format!(
                "R{round}.{i} received nothing within {} ms",
                harness::timeout().as_millis()
            )),
            Err(err) => Err(format!("R{round}.{i}: {err:?}")),
        }
    });
    results
        .into_iter()
        .map(|result| match result {
            Ok(outcome) => outcome,
            Err(got) => lab.fail(
                &format!("every racing client gets either {PROMPT:?} or {refusal:?}"),
                &got,
            ),
        })
        .collect()
}

#[test]
fn forty_clients_connecting_at_once_never_get_more_than_the_cap_in() {
    let lab = Lab::at(&CH, PAGE, "Check-then-act races");
    lab.hint(
        "checking `count < max` and then incrementing are two steps another thread can come \
         between: make them one (a compare-and-swap loop, `fetch_update`, or both under one \
         lock), and take the slot on the accepting thread",
    );
    let mut server = lab.start_server(&[]);
    for round in 1..=5 {
        lab.step(format!(
            "round {round}: 40 clients connect at the same instant"
        ));
        let outcomes = race(&lab, &server, round, 40, 5);
        let mut admitted = Vec::new();
        let mut refused = Vec::new();
        for outcome in outcomes {
            match outcome {
                Outcome::Admitted(conn) => admitted.push(conn),
                Outcome::Refused(peer) => refused.push(peer),
            }
        }
        lab.step(format!(
            "round {round}: {} got the prompt, {} were refused",
            admitted.len(),
            refused.len()
        ));
        if admitted.len() > 5 {
            lab.fail(
                "at most 5 of 40 clients connecting at once get the prompt",
                &format!("{} got the prompt in round {round}", admitted.len()),
            );
        }
        if admitted.len() < 5 {
            let cause = support::diagnose_full(&lab, &server);
            lab.fail(
                "exactly 5 of 40 clients get the prompt when the server starts the round empty",
                &format!(
                    "only {} got the prompt in round {round}; {cause}",
                    admitted.len()
                ),
            );
        }
        let peers: Vec<SocketAddr> = admitted.iter().map(Conn::local_addr).collect();
        lab.step(format!("round {round}: the 5 admitted clients close"));
        drop(admitted);
        support::expect_disconnected(&mut server, &peers);
    }
}

#[test]
fn help_describes_the_max_clients_and_login_timeout_options() {
    let lab = Lab::at(&CH, PAGE, "Your task");
    let run = Command::new(CH.bin).arg("--help").timeout(QUICK).assert();
    let run = lab.check("`--help` exits with status 0", run.try_success());
    lab.check(
        "`--help` describes --max-clients and --login-timeout",
        run.try_stdout(
            predicate::str::contains("--max-clients")
                .and(predicate::str::contains("--login-timeout")),
        ),
    );
}

#[test]
fn a_cap_of_zero_is_refused_on_the_command_line() {
    let lab = Lab::at(&CH, PAGE, "Your task");
    lab.hint("a server that admits nobody is a mistake: reject `--max-clients 0` when parsing (clap's `range(1..)`)");
    let run = Command::new(CH.bin)
        .args(["--addr", "127.0.0.1:0", "--max-clients", "0"])
        .timeout(QUICK)
        .assert();
    let run = lab.check("the server exits with a failure status", run.try_failure());
    let run = lab.check(
        "standard error mentions --max-clients",
        run.try_stderr(predicate::str::contains("--max-clients")),
    );
    lab.check(
        "nothing is printed on standard output (the server never listens)",
        run.try_stdout(predicate::str::is_empty()),
    );
}
