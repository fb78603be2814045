//! A signal shuts the server down cleanly: SIGINT (Ctrl-C) or SIGTERM makes it stop accepting,
//! tell every client `* server is shutting down`, close every connection, join every thread,
//! print `shutdown complete` and exit 0, within 2 seconds; a second Ctrl-C exits at once with
//! status 130, and the port is free again afterwards.
//!
//! Unix only: the tests send real signals with kill(2), as Ctrl-C in a terminal does.
//!
//! What "a client mid-sentence loses nothing it already sent" means here, precisely: a line the
//! server has relayed before the signal is never cut off or overtaken by the notice, and an
//! unfinished line (no `\n` yet) is dropped, never relayed as if it were complete. A line still
//! in flight when the signal arrives may go either way; no test depends on that race.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

use harness::transcript::quote;
use harness::{Conn, Lab, ReadError, Server, Source};
use rstest::rstest;

use super::CH;
use super::support::{BACKLOG_LINES, back_up, queues_per_client};

/// These behaviours are taught in chapter 7.
const PAGE: &str = "ch07-shutdown";

/// What every client is told before its connection closes.
const NOTICE: &str = "* server is shutting down";

/// The spec's bound, from the signal to the exit, even with idle clients connected.
const BOUND: Duration = Duration::from_secs(2);

/// How soon "at once" is: a second Ctrl-C ends the process without finishing the shutdown.
const AT_ONCE: Duration = Duration::from_secs(1);

/// A signal as the test sends it: its number, and its name in the transcript.
#[derive(Clone, Copy)]
struct Signal {
    number: i32,
    name: &'static str,
}

const SIGINT: Signal = Signal {
    number: libc::SIGINT,
    name: "SIGINT (Ctrl-C)",
};

const SIGTERM: Signal = Signal {
    number: libc::SIGTERM,
    name: "SIGTERM",
};

/// Sends `signal` to the server; returns when it was sent, for timing the shutdown.
fn send(server: &mut Server, signal: Signal) -> Instant {
    let sent = Instant::now();
    server.signal(signal.number, signal.name);
    sent
}

/// Connects a client named `name` and has it choose that name; everyone in `room` (already
/// named, in joining order) sees it join.
fn join(server: &Server, room: &mut [Conn], name: &str) -> Conn {
    join_on(server.connect(name), room, name)
}

/// [`join`] on a connection the caller opened.
fn join_on(mut conn: Conn, room: &mut [Conn], name: &str) -> Conn {
    conn.expect_line("Enter username:");
    conn.send_line(name);
    let online: Vec<&str> = room.iter().map(Conn::name).chain([name]).collect();
    conn.expect_line(&format!("welcome {name}! online: {}", online.join(", ")));
    for other in room.iter_mut() {
        other.expect_line(&format!("* {name} joined"));
    }
    conn
}

/// Connects and names a client for each of `names`, in order.
fn join_all(server: &Server, names: &[&str]) -> Vec<Conn> {
    let mut room = Vec::new();
    for name in names {
        let conn = join(server, &mut room, name);
        room.push(conn);
    }
    room
}

/// A `* NAME left` line: another client that the shutdown closed.
fn is_leave(line: &str) -> bool {
    line.starts_with("* ") && line.ends_with(" left")
}

/// `client` receives the notice once and then end of file. The only other lines allowed, before
/// or after the notice, are up to `others` `* NAME left` lines: the shutdown closes the
/// connections one after another, and the clients closed first leave the room as on any
/// disconnect.
fn expect_notice_then_close(lab: &Lab, client: &mut Conn, others: usize) {
    lab.section("The shutdown sequence");
    lab.hint(
        "every open connection gets the notice, named or still choosing a name, and nothing \
         else: an unfinished line is dropped, never relayed as if it were complete",
    );
    let mut leaves = 0;
    let expected = format!("{} receives {}", client.name(), quote(NOTICE));
    loop {
        let within = harness::timeout();
        match client.read_line_bytes(within) {
            Ok(line) => {
                let line = String::from_utf8_lossy(&line).into_owned();
                lab.step(format!("{}: received {}", client.name(), quote(&line)));
                if line == NOTICE {
                    break;
                }
                if leaves < others && is_leave(&line) {
                    leaves += 1;
                    continue;
                }
                lab.fail(
                    &expected,
                    &format!("{} received {} instead", client.name(), quote(&line)),
                );
            }
            Err(ReadError::TimedOut { .. }) => lab.fail(
                &expected,
                &format!("nothing within {} ms", within.as_millis()),
            ),
            Err(end) => {
                lab.hint(
                    "the connection was closed before the notice reached it: write the notice to \
                     every connection first, and shut them down only then (a socket shut down \
                     for writing takes no more lines)",
                );
                let how = match end {
                    ReadError::Closed { partial } if !partial.is_empty() => format!(
                        "the unfinished line {}, then the connection was closed",
                        quote(&String::from_utf8_lossy(&partial))
                    ),
                    ReadError::Failed(err) => format!("the connection failed: {err}"),
                    _ => "the connection was closed without it".to_string(),
                };
                lab.fail(&expected, &how);
            }
        }
    }
    lab.section("Closing connections to wake readers");
    lab.hint(
        "after the notice, shut each connection down (shutdown(Both)): that also wakes the \
         thread blocked reading it",
    );
    while leaves < others {
        let within = harness::timeout();
        let expected = format!("the connection to {} is closed", client.name());
        match client.read_line_bytes(within) {
            Ok(line) => {
                let line = String::from_utf8_lossy(&line).into_owned();
                if !is_leave(&line) {
                    lab.fail(
                        &expected,
                        &format!("{} received {} first", client.name(), quote(&line)),
                    );
                }
                lab.step(format!("{}: received {}", client.name(), quote(&line)));
                leaves += 1;
            }
            Err(ReadError::Closed { partial }) if partial.is_empty() => {
                lab.step(format!("{}: saw the connection closed", client.name()));
                return;
            }
            Err(ReadError::Failed(err)) => {
                lab.step(format!("{}: saw the connection fail: {err}", client.name()));
                return;
            }
            Err(ReadError::Closed { partial }) => lab.fail(
                &expected,
                &format!(
                    "the unfinished line {}, then the connection was closed",
                    quote(&String::from_utf8_lossy(&partial))
                ),
            ),
            Err(ReadError::TimedOut { .. }) => lab.fail(
                &expected,
                &format!("it was still open after {} ms", within.as_millis()),
            ),
        }
    }
    client.expect_closed();
}

/// After a signal sent at `sent`: the server prints `shutting down`, every client gets the
/// notice and then end of file, the server prints `shutdown complete` as its last line and
/// exits 0, and all that within [`BOUND`].
fn expect_clean_shutdown(lab: &Lab, server: &mut Server, clients: &mut [Conn], sent: Instant) {
    expect_shutting_down(lab, server);
    let others = clients.len().saturating_sub(1);
    for client in clients.iter_mut() {
        expect_notice_then_close(lab, client, others);
    }
    lab.section("Joining every thread");
    lab.hint(
        "`shutdown complete` comes once every connection's thread has been joined; if it never \
         comes, one of them is still blocked (in a read, a write or a lock)",
    );
    server.expect_stdout_line("shutdown complete");
    let status = server.expect_exit(harness::timeout());
    let took = sent.elapsed();
    lab.section("The shutdown sequence");
    lab.hint(
        "after `shutdown complete`, return from main with ExitCode::SUCCESS; nothing in the \
         sequence should wait out a timeout when the clients are idle",
    );
    if status.code() != Some(0) {
        lab.fail(
            "the server exits with status 0 after a clean shutdown",
            &format!("it ended with {status}"),
        );
    }
    if took > BOUND {
        lab.fail(
            &format!(
                "the server exits within {} ms of the signal",
                BOUND.as_millis()
            ),
            &format!(
                "it exited {} ms after the signal (a blocked call waited out a timeout?)",
                took.as_millis()
            ),
        );
    }
    lab.step(format!(
        "server: exited {} ms after the signal",
        took.as_millis()
    ));
    lab.section("Joining every thread");
    lab.hint(
        "a thread printed after `shutdown complete`: keep every connection thread's JoinHandle \
         and join them all before printing it. Returning from main ends the process, and every \
         thread still running is cut off wherever it is",
    );
    let stdout = server.lines(Source::Stdout);
    let complete = stdout
        .iter()
        .rposition(|line| line == "shutdown complete")
        .expect("the server printed `shutdown complete`, checked above");
    if complete + 1 != stdout.len() {
        lab.fail(
            "`shutdown complete` is the server's last line: every thread has finished before it",
            &format!(
                "it went on printing {} (a thread that was never joined?)",
                stdout[complete + 1..]
                    .iter()
                    .map(|line| quote(line))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    expect_no_stranger(lab, &stdout, clients);
}

/// Waits for `shutting down`; when it does not come, says why from how the server ended.
fn expect_shutting_down(lab: &Lab, server: &mut Server) {
    let within = harness::timeout();
    if server
        .wait_stdout(within, |line| line == "shutting down")
        .is_some()
    {
        return;
    }
    let expected = "server prints the line \"shutting down\" on standard output";
    let Some(status) = server.wait_exit(Duration::from_millis(500)) else {
        lab.section("Waking a blocked accept");
        lab.hint(
            "the server is still running: a flag alone never reaches a thread blocked in \
             accept(). After setting it, the handler must wake that thread (connect to the \
             listening address), and the accept loop must then see the flag",
        );
        lab.fail(
            expected,
            &format!(
                "no such line within {} ms, and the server is still running",
                within.as_millis()
            ),
        );
    };
    explain_the_end(lab, status, expected);
}

/// Fails for a server that ended, where a signal should have started a shutdown, with the
/// hint its exit status points to.
fn explain_the_end(lab: &Lab, status: ExitStatus, expected: &str) -> ! {
    let how = match (status.code(), status.signal()) {
        (Some(code), _) => format!("status {code}"),
        (None, Some(number)) => format!("killed by signal {number}"),
        (None, None) => status.to_string(),
    };
    let got = format!("the server ended without printing it ({how})");
    match (status.code(), status.signal()) {
        (Some(0), _) => {
            lab.section("Async-signal-safety and the self-pipe");
            lab.hint(
                "the server exited with status 0 but never said `shutting down`: does the \
                 handler call std::process::exit? Then no client is told, no thread is joined. \
                 The handler only starts the shutdown (set the flag, wake accept); the main \
                 thread does the rest and returns from main",
            );
        }
        (_, Some(libc::SIGABRT)) => {
            lab.section("Async-signal-safety and the self-pipe");
            lab.hint(
                "the server aborted (SIGABRT) when the signal came: a panic where no unwinding \
                 is possible, such as in a raw signal handler (println! there re-enters the \
                 standard output the interrupted thread holds, and panics). Do nothing in a \
                 handler but async-signal-safe work: with ctrlc, your closure runs on an \
                 ordinary thread",
            );
        }
        (_, Some(libc::SIGINT | libc::SIGTERM)) => {
            lab.section("Signals");
            lab.hint(
                "the signal killed the server: no handler was installed for it yet. Install \
                 the handler (ctrlc::set_handler, with ctrlc's `termination` feature for \
                 SIGTERM) BEFORE printing `listening on`: whoever reads that line may signal at \
                 once",
            );
        }
        _ => {
            lab.section("The shutdown sequence");
            lab.hint(
                "after the first signal the server prints `shutting down`, tells every client, \
                 joins every thread, prints `shutdown complete` and exits with status 0; only a \
                 second signal exits at once (status 130)",
            );
        }
    }
    lab.fail(expected, &got)
}

/// Fails if the server logged a connection that none of `clients` made: the connection the
/// handler makes to wake `accept`, served as a client because the loop looked at the flag
/// before `accept` instead of after it.
fn expect_no_stranger(lab: &Lab, stdout: &[String], clients: &[Conn]) {
    let ours: Vec<String> = clients
        .iter()
        .map(|conn| format!("connected {}", conn.local_addr()))
        .collect();
    if let Some(stranger) = stdout
        .iter()
        .find(|line| line.starts_with("connected ") && !ours.contains(line))
    {
        lab.section("Waking a blocked accept");
        lab.hint(
            "the server served the connection the handler made to wake accept(), as if a \
             client had come: check the flag right after accept() returns, before serving what \
             it returned, not before calling accept()",
        );
        lab.fail(
            "no connection is served after the signal (the test connected no one then)",
            &format!("the server printed {}", quote(stranger)),
        );
    }
}

#[rstest]
#[case::with_no_clients(0)]
#[case::with_one_idle_client(1)]
#[case::with_four_idle_clients(4)]
fn sigint_shuts_the_server_down_cleanly(#[case] clients: usize) {
    let lab = Lab::at(&CH, PAGE, "The shutdown sequence");
    let mut server = lab.start_server(&[]);
    let names = ["alice", "bob", "carol", "dave"];
    let mut room = join_all(&server, &names[..clients]);
    let sent = send(&mut server, SIGINT);
    expect_clean_shutdown(&lab, &mut server, &mut room, sent);
}

#[test]
fn sigterm_shuts_the_server_down_like_sigint() {
    let lab = Lab::at(&CH, PAGE, "Signals");
    let mut server = lab.start_server(&[]);
    let mut room = join_all(&server, &["alice", "bob"]);
    let sent = send(&mut server, SIGTERM);
    expect_clean_shutdown(&lab, &mut server, &mut room, sent);
}

#[rstest]
#[case::sigint(SIGINT)]
#[case::sigterm(SIGTERM)]
fn a_signal_right_after_the_listening_line_starts_a_shutdown(#[case] signal: Signal) {
    let lab = Lab::at(&CH, PAGE, "Signals");
    lab.hint(
        "the signal killed the server: it came while `listening on` was being printed, before \
         the handler was installed. Install the handler first, then print the line",
    );
    // The window between the line and a handler installed after it is a few microseconds
    // wide; the harness holds the server's standard output full so that the signal lands
    // while the server is writing the line (Linux), every time.
    let sent = Instant::now();
    let started = lab.start_server_and_signal_it_while_announcing(&[], signal.number, signal.name);
    let mut server = match started {
        Ok(server) => server,
        Err(mut ended) => {
            let expected = "the server prints `listening on ...`, then shuts down";
            match ended.wait_exit(Duration::from_secs(1)) {
                Some(status) => explain_the_end(&lab, status, expected),
                None => lab.fail(
                    expected,
                    "it closed its standard output and went on running",
                ),
            }
        }
    };
    expect_clean_shutdown(&lab, &mut server, &mut [], sent);
}

#[test]
fn a_client_still_choosing_a_name_is_told_and_closed_too() {
    let lab = Lab::at(&CH, PAGE, "Closing connections to wake readers");
    let mut server = lab.start_server(&[]);
    let alice = join(&server, &mut [], "alice");
    let mut carol = server.connect("carol");
    carol.expect_line("Enter username:");
    let sent = send(&mut server, SIGINT);
    expect_clean_shutdown(&lab, &mut server, &mut [alice, carol], sent);
}

/// How many servers [`every_connection_is_closed_and_logged_before_shutdown_complete`] shuts
/// down: the connection threads finish within microseconds of their sockets being shut down,
/// so a main thread that does not wait for them loses the race only now and then.
const JOIN_ROUNDS: usize = 10;

#[test]
fn every_connection_is_closed_and_logged_before_shutdown_complete() {
    let lab = Lab::at(&CH, PAGE, "Joining every thread");
    for round in 1..=JOIN_ROUNDS {
        lab.step(format!("round {round} of {JOIN_ROUNDS}"));
        let mut server = lab.start_server(&[]);
        let mut room = join_all(&server, &["alice", "bob", "carol"]);
        let mut dave = server.connect("dave");
        dave.expect_line("Enter username:");
        room.push(dave);
        let peers: Vec<String> = room
            .iter()
            .map(|conn| conn.local_addr().to_string())
            .collect();
        let sent = send(&mut server, SIGINT);
        expect_clean_shutdown(&lab, &mut server, &mut room, sent);
        lab.section("Joining every thread");
        lab.hint(
            "a connection's thread never printed `disconnected`: main returned before it \
             finished. Keep every connection thread's JoinHandle and join them all before \
             printing `shutdown complete`: returning from main cuts off every thread still \
             running",
        );
        let stdout = server.lines(Source::Stdout);
        for peer in &peers {
            let line = format!("disconnected {peer}");
            if !stdout.contains(&line) {
                lab.fail(
                    &format!(
                        "the server prints {} before `shutdown complete`",
                        quote(&line)
                    ),
                    "it never did: that connection's thread did not finish (or was not joined)",
                );
            }
        }
    }
}

#[test]
fn a_client_mid_sentence_loses_no_complete_line_and_its_unfinished_one_is_dropped() {
    let lab = Lab::at(&CH, PAGE, "The shutdown sequence");
    let mut server = lab.start_server(&[]);
    // alice joins first, so a server that closes connections in joining order wakes her
    // thread while the four others can still receive what it might wrongly relay.
    let mut room = join_all(&server, &["alice", "bob", "carol", "dave", "erin"]);
    // One write: two whole lines and the start of a third, so the server has read the
    // unfinished part by the time the others have the whole ones.
    room[0].send_bytes(b"first whole line\nsecond whole line\nhalf a sen");
    for other in &mut room[1..] {
        other.expect_line("[alice] first whole line");
        other.expect_line("[alice] second whole line");
    }
    let sent = send(&mut server, SIGINT);
    expect_clean_shutdown(&lab, &mut server, &mut room, sent);
}

#[test]
fn the_port_is_free_for_a_new_server_right_after_shutdown() {
    let lab = Lab::at(&CH, PAGE, "The shutdown sequence");
    let mut server = lab.start_server(&[]);
    let addr = server.addr().to_string();
    // A connection the server closes itself leaves its end in TIME_WAIT: the case where a new
    // bind on the same port could fail.
    let mut room = join_all(&server, &["alice"]);
    let sent = send(&mut server, SIGINT);
    expect_clean_shutdown(&lab, &mut server, &mut room, sent);
    lab.step(format!(
        "test: starts a new server on the same address, {addr}"
    ));
    let again = lab.start_server_with(&["--addr", &addr]);
    let mut bob = again.connect("bob");
    bob.expect_line("Enter username:");
}

/// How long a write must make no progress at all before the test concludes that the server has
/// stopped reading: it is stuck writing to a client that stopped reading (for up to 2 s).
const STALLED: Duration = Duration::from_millis(500);

/// Chapters 7 and 8: `alice` floods the room until the server stops reading her, because the
/// thread relaying her lines is stuck writing to a client that stopped reading.
fn flood_until_the_server_is_stuck(lab: &Lab, alice: &Conn) {
    lab.step(format!(
        "slow: stops reading; alice: floods the room with 1000-byte lines until the server \
         stops reading them for {} ms",
        STALLED.as_millis()
    ));
    match alice.flood_until_stalled(STALLED, 256 << 20) {
        Ok(bytes) => lab.step(format!(
            "alice: the server stopped reading after {bytes} bytes"
        )),
        Err(why) => lab.fail(
            "the server gets stuck writing to slow, a client that stopped reading (for up to \
             2 s), and so stops reading alice's flood",
            &why,
        ),
    }
}

#[test]
fn a_second_ctrl_c_during_shutdown_exits_at_once_with_status_130() {
    let lab = Lab::at(&CH, PAGE, "The shutdown sequence");
    let mut server = lab.start_server(&[]);
    let mut room = join_all(&server, &["alice", "slow"]);
    // To catch the server in the middle of a shutdown, give it one that takes a while: slow
    // stops reading while alice floods the room. Once slow's buffers are full, the thread
    // relaying alice's lines is stuck writing to slow (for up to 2 s, the write timeout) and
    // stops reading alice; a shutdown started then waits for that write before it can tell
    // slow, and so is still under way when the second signal comes.
    //
    // From chapter 9 on nothing gets stuck but slow's writer: alice backs up slow's queue
    // instead, and the shutdown waits (up to its deadline) for slow's writer to get the
    // notice through.
    if queues_per_client() {
        lab.step(format!(
            "slow: stops reading; alice: sends {BACKLOG_LINES} lines of 1000 bytes and `/who`, \
             and reads the answer (by then they all wait for slow)"
        ));
        back_up(&mut room[0], BACKLOG_LINES);
    } else {
        flood_until_the_server_is_stuck(&lab, &room[0]);
    }
    lab.section("Waking a blocked accept");
    send(&mut server, SIGINT);
    server.expect_stdout_line("shutting down");
    lab.section("The shutdown sequence");
    lab.hint(
        "the ctrlc handler runs on a thread of its own, once per signal: let it only start \
         the shutdown, and exit(130) when one is already under way. If the first call does \
         the whole shutdown itself, the second signal waits behind it",
    );
    if server
        .lines(Source::Stdout)
        .iter()
        .any(|line| line == "shutdown complete")
    {
        lab.fail(
            "the shutdown is still under way when the second SIGINT comes (slow's notice waits \
             for the write stuck on slow, up to 2 s)",
            "the server had already printed `shutdown complete`: did it skip the notice to \
             slow?",
        );
    }
    let second = send(&mut server, SIGINT);
    let status = server.expect_exit(AT_ONCE);
    let took = second.elapsed();
    if status.code() != Some(130) {
        lab.fail(
            "the server exits at once with status 130 on the second SIGINT",
            &format!("it ended with {status}"),
        );
    }
    lab.step(format!(
        "server: exited {} ms after the second SIGINT",
        took.as_millis()
    ));
    drop(room);
}

#[test]
fn a_shutdown_with_four_stalled_readers_and_a_flooder_still_takes_under_2_s() {
    let lab = Lab::at(&CH, PAGE, "A deadline for the whole shutdown");
    let mut server = lab.start_server(&[]);
    // Small receive buffers, so that the floods fill them quickly.
    let mut room = Vec::new();
    for name in ["s1", "s2", "s3", "s4", "flood"] {
        let conn = match name {
            "flood" => server.connect(name),
            _ => server.connect_with_receive_buffer(name, 4096),
        };
        let conn = join_on(conn, &mut room, name);
        room.push(conn);
    }
    if queues_per_client() {
        // Chapter 9 on: the four stalled readers' writers get stuck, each with a backlog
        // behind it, and the notice waits at the end of every one of those queues.
        lab.step(format!(
            "s1..s4: stop reading; flood: sends {BACKLOG_LINES} lines of 1000 bytes and `/who`, \
             and reads the answer (by then they all wait for s1..s4)"
        ));
        back_up(&mut room[4], BACKLOG_LINES);
    } else {
        // Every client floods and none reads, so every connection's buffers fill up and every
        // connection's thread ends up stuck writing to another: a notice to any of them must
        // wait for a stuck write, then finds no room for itself.
        lab.step(format!(
            "s1..s4 and flood: all flood the room with 1000-byte lines and never read, until \
             the server stops reading each of them for {} ms",
            STALLED.as_millis()
        ));
        let floods =
            harness::all_at_once(&room, |conn| conn.flood_until_stalled(STALLED, 64 << 20));
        if let Some(why) = floods.into_iter().find_map(Result::err) {
            lab.fail(
                "the server gets stuck writing to clients that stopped reading, and so stops \
                 reading their floods",
                &why,
            );
        }
    }
    let sent = send(&mut server, SIGTERM);
    lab.hint(
        "a notice to a client that stopped reading cannot be delivered: give up on it. The \
         notices need one deadline for all of them (a write stuck on one client must not hold \
         up the others), and when it passes, shut every connection down, which makes a stuck \
         write fail at once",
    );
    server.expect_stdout_line("shutting down");
    server.expect_stdout_within(BOUND, "the line \"shutdown complete\"", |line| {
        line == "shutdown complete"
    });
    let status = server.expect_exit(BOUND);
    let took = sent.elapsed();
    if status.code() != Some(0) || took > BOUND {
        lab.fail(
            &format!(
                "the server exits with status 0 within {} ms of SIGTERM",
                BOUND.as_millis()
            ),
            &format!("it ended with {status} after {} ms", took.as_millis()),
        );
    }
    lab.step(format!(
        "server: exited {} ms after SIGTERM",
        took.as_millis()
    ));
    drop(room);
}
