//! Small helpers the chapter 5 scenarios share (and chapter 6's, which run them again): logging
//! in under a name, leaving in each of the ways a client can leave, reading the console, and,
//! from chapter 6, telling a leaked slot from a late one when a client is refused.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use harness::{Conn, Lab, Server};

use super::CH;

/// The book page that teaches these behaviours.
pub const PAGE: &str = "ch05-names";

/// The server's username prompt.
pub const PROMPT: &str = "Enter username:";

/// The answer to a line over 1024 bytes (chapter 4 on).
pub const TOO_LONG: &str = "error: line too long (max 1024 bytes)";

/// How a refusal starts when every slot is taken (chapter 6 on).
pub const FULL: &str = "error: server is full";

/// Connects a test client named `who` in the transcript and expects the username prompt.
///
/// From chapter 6 the server may answer `error: server is full` instead; where this is called,
/// a slot should have been free, so the failure names the likely cause ([`diagnose_full`]).
pub fn connect(server: &Server, who: &str) -> Conn {
    let mut conn = server.connect(who);
    let first = conn.expect_line_matching(&format!("{PROMPT:?}"), |line| {
        line == PROMPT || line.starts_with(FULL)
    });
    if first != PROMPT {
        let lab = conn.lab().clone();
        let cause = diagnose_full(&lab, server);
        lab.fail(
            &format!("{who} receives {PROMPT:?}: fewer clients than the cap are connected"),
            &format!("{who} received {first:?}; {cause}"),
        );
    }
    conn
}

/// How long [`diagnose_full`] keeps trying to get in.
const RETRY_FOR: Duration = Duration::from_secs(2);

/// How long [`diagnose_full`] waits between two tries.
const RETRY_EVERY: Duration = Duration::from_millis(50);

/// For a server that refused a client although a slot should have been free: tries to get in
/// again for up to [`RETRY_FOR`], then points the failure at chapter 6's RAII section with the
/// hint for the symptom (a slot that came back late, or never), and returns what it saw.
pub fn diagnose_full(lab: &Lab, server: &Server) -> String {
    lab.read("ch06-cap", "RAII slot guards");
    let started = Instant::now();
    let mut tries = 0;
    while started.elapsed() < RETRY_FOR {
        tries += 1;
        if probe_admitted(server.addr()) {
            lab.hint(
                "a slot came back late: give it back as soon as the connection is closed, and \
                 before printing `disconnected PEER` (whoever reads that line may connect at \
                 once): drop the guard first",
            );
            return format!(
                "a client that tried again got in {} ms later (try {tries}): the slot came back, \
                 but late",
                started.elapsed().as_millis()
            );
        }
        // A bounded poll: the server gives no signal when a slot comes back.
        std::thread::sleep(RETRY_EVERY);
    }
    lab.hint(
        "a slot was never given back: tie it to a guard whose `Drop` gives it back, owned by the \
         connection's thread, so that every way out, an error or a panic included, frees it",
    );
    format!(
        "nobody got in during the next {} ms ({tries} tries): a slot was never given back",
        RETRY_FOR.as_millis()
    )
}

/// Connects once, outside the transcript, and says whether the server sent the prompt.
fn probe_admitted(addr: SocketAddr) -> bool {
    let Ok(stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut first = String::new();
    let _ = BufReader::new(stream).read_line(&mut first);
    first.trim_end() == PROMPT
}

/// Connects, answers the prompt with `name`, and expects `welcome NAME! online: ONLINE`.
/// From then on, a failure caused by a client receiving its own chat line says so.
pub fn join(server: &Server, name: &str, online: &str) -> Conn {
    let mut conn = connect(server, name);
    name_own_lines(conn.lab());
    conn.send_line(name);
    conn.expect_line(&format!("welcome {name}! online: {online}"));
    conn
}

/// From now on in this test, a failure caused by a client receiving its own chat line says so.
fn name_own_lines(lab: &Lab) {
    lab.on_unexpected_line(|receiver, line| {
        if !line.starts_with(&format!("[{}] ", receiver.name())) {
            return None;
        }
        // Skipping the sender is chapter 4's lesson.
        receiver.lab().read("ch04-mutex", "Arc and Mutex");
        Some(own_line_hint(receiver.name()))
    });
}

/// `text` as the other clients receive it from `sender`, whose transcript name is its
/// username: `[NAME] text`. (Chapter 4's scenarios that run again here call it too.)
pub fn relayed(sender: &Conn, text: &str) -> String {
    format!("[{}] {text}", sender.name())
}

/// Connects each of `names` with `open`, logs it in under that name, and has everyone already
/// in the room read its `* NAME joined`: then every one of them is in the room. For chapter 4's
/// scenarios that run again here (their `join_all_with`).
pub fn join_all_with<const N: usize>(
    _lab: &Lab,
    server: &mut Server,
    names: [&str; N],
    open: impl Fn(&Server, &str) -> Conn,
) -> [Conn; N] {
    match join_each_with(server, &names, open).try_into() {
        Ok(room) => room,
        Err(_) => unreachable!("N names give N clients"),
    }
}

/// [`join_all_with`] for a number of names known only at run time.
pub fn join_each_with(
    server: &Server,
    names: &[&str],
    open: impl Fn(&Server, &str) -> Conn,
) -> Vec<Conn> {
    let mut room: Vec<Conn> = Vec::with_capacity(names.len());
    for &name in names {
        let mut conn = open(server, name);
        name_own_lines(conn.lab());
        conn.expect_line(PROMPT);
        conn.send_line(name);
        let online: Vec<&str> = room.iter().map(Conn::name).chain([name]).collect();
        conn.expect_line(&format!("welcome {name}! online: {}", online.join(", ")));
        for member in &mut room {
            member.expect_line(&format!("* {name} joined"));
        }
        room.push(conn);
    }
    room
}

/// The hint for a client, logged in as `name`, that received its own chat line back.
pub fn own_line_hint(name: &str) -> String {
    format!(
        "{name} received its own line back: skip the sender when relaying (compare each member \
         with the sender, `std::ptr::eq`)"
    )
}

/// The arguments that let `clients` connections in at once: none in chapter 5, which has no
/// cap, and `--max-clients` from chapter 6 on (its default of 5 is too few for a race).
pub fn room_for(clients: &'static str) -> Vec<&'static str> {
    if CH.id == "ch05" {
        Vec::new()
    } else {
        vec!["--max-clients", clients]
    }
}

/// Whether the chapter under test queues every client's lines for a writer of its own
/// (chapter 9 on): then the server never gets stuck writing to a client that stopped reading,
/// and a scenario that needs such a client backs up its queue instead ([`back_up`]).
pub fn queues_per_client() -> bool {
    CH.id >= "ch09"
}

/// How many 1000-byte lines [`back_up`] sends: far more than the kernel buffers of a client
/// with a 4096-byte receive buffer hold, and far fewer than chapter 9's default queue (1024).
pub const BACKLOG_LINES: usize = 400;

/// Sends `lines` 1000-byte lines from `flooder`, then `/who`, and waits for its answer: the
/// server handles a client's lines in order, so by then every one of them has been queued
/// for (or written to) everyone else.
pub fn back_up(flooder: &mut Conn, lines: usize) {
    let line = "x".repeat(1000);
    let mut batch = String::with_capacity(lines * 1001 + 5);
    for _ in 0..lines {
        batch.push_str(&line);
        batch.push('\n');
    }
    batch.push_str("/who\n");
    write_raw(flooder, batch.as_bytes());
    flooder.expect_line_matching("the answer to /who", |line| line.starts_with("online: "));
}

/// Writes `bytes` straight to `conn`'s socket, unrecorded: for floods, where the transcript
/// says what was sent rather than hundreds of kilobytes of it.
pub fn write_raw(conn: &Conn, bytes: &[u8]) {
    if let Err(err) = conn.stream().write_all(bytes) {
        conn.lab().fail(
            &format!("the server reads everything {} sends", conn.name()),
            &format!("the write failed: {err}"),
        );
    }
}

/// Logs in `stalled`, with a small receive buffer, and `flooder`, who floods the room until
/// `stalled`, which has stopped reading, has a backlog: in chapters 5-8 until the server is
/// stuck writing to it (from then on, for up to one write deadline, every write to `stalled`
/// waits); from chapter 9 on, [`BACKLOG_LINES`] lines that wait in its queue. Returns both.
pub fn stall_a_member(lab: &Lab, server: &Server) -> (Conn, Conn) {
    // A small receive buffer, so that the server soon finds the connection full.
    let mut stalled = server.connect_with_receive_buffer("stalled", 4096);
    stalled.expect_line(PROMPT);
    stalled.send_line("stalled");
    stalled.expect_line("welcome stalled! online: stalled");
    let mut flooder = join(server, "flooder", "stalled, flooder");
    stalled.expect_line("* flooder joined");
    if queues_per_client() {
        lab.step(format!(
            "stalled: stops reading; flooder: sends {BACKLOG_LINES} lines of 1000 bytes and \
             `/who`, and reads the answer (by then they all wait for stalled)"
        ));
        back_up(&mut flooder, BACKLOG_LINES);
        return (stalled, flooder);
    }
    lab.step(
        "stalled: stops reading; flooder: floods 1000-byte lines until the server takes none \
         for 200 ms (it is stuck writing to stalled)",
    );
    if let Err(why) = flooder.flood_until_stalled(Duration::from_millis(200), 256 << 20) {
        lab.fail(
            "the server gets stuck writing to stalled, which stopped reading",
            &why,
        );
    }
    (stalled, flooder)
}

/// The usual two-person room: alice joins, then bob, and alice has heard of bob.
pub fn alice_and_bob(server: &Server) -> (Conn, Conn) {
    let mut alice = join(server, "alice", "alice");
    let bob = join(server, "bob", "alice, bob");
    alice.expect_line("* bob joined");
    (alice, bob)
}

/// The ways a named client can leave. Each must look the same to everyone else.
#[derive(Debug, Clone, Copy)]
pub enum Way {
    /// Sends `exit`, gets `bye NAME`, and sees the connection closed.
    Exit,
    /// Half-closes the connection (end of file), as a client whose input ended.
    EndOfInput,
    /// Resets the connection, as a client that was killed.
    Reset,
    /// Sends a line over 1024 bytes, gets the error, and sees the connection closed.
    LineTooLong,
}

/// Makes `conn`, logged in as `name`, leave in the given way. A half-closed connection is
/// handed back so the caller can keep it open (the server must act on end of file alone).
pub fn leave(mut conn: Conn, name: &str, way: Way) -> Option<Conn> {
    match way {
        Way::Exit => {
            conn.send_line("exit");
            conn.expect_line(&format!("bye {name}"));
            conn.expect_closed();
        }
        Way::EndOfInput => {
            conn.shutdown_write();
            return Some(conn);
        }
        Way::Reset => conn.vanish(),
        Way::LineTooLong => {
            conn.send_line(&"x".repeat(1025));
            conn.expect_line(TOO_LONG);
            conn.expect_closed();
        }
    }
    None
}

/// Waits for the server's next console line that starts like `expected` (its first word) and
/// fails unless it is exactly `expected`.
pub fn expect_console(lab: &Lab, server: &mut Server, expected: &str) {
    let first_word = expected.split(' ').next().unwrap_or(expected);
    let prefix = format!("{first_word} ");
    let got = server.expect_stdout(&format!("a line starting with {prefix:?}"), |line| {
        line.starts_with(&prefix)
    });
    if got != expected {
        lab.fail(
            &format!("server prints {expected:?} on standard output"),
            &format!("it printed {got:?}"),
        );
    }
}

/// Waits until the server's console has said `disconnected PEER` for each of `peers`, in any
/// order: once it has, the connections are gone from the server's point of view (their names,
/// and from chapter 6 their slots, are free).
pub fn expect_disconnected(server: &mut Server, peers: &[SocketAddr]) {
    let mut waiting: Vec<String> = peers
        .iter()
        .map(|peer| format!("disconnected {peer}"))
        .collect();
    while !waiting.is_empty() {
        let what = format!("{:?} (in any order)", waiting);
        let got = server.expect_stdout(&what, |line| waiting.iter().any(|w| w == line));
        waiting.retain(|w| *w != got);
    }
}
