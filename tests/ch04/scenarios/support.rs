//! Helpers the chapter 4 scenarios share: connecting clients so that the server is known to
//! relay to every one of them.
//!
//! The console's `connected PEER` says that the server accepted a connection, not that the
//! connection's thread has added the client to the shared list yet: a line sent in between
//! would miss the newcomer, and a test relying on it would fail now and then. So membership is
//! proved by traffic: a client is in the list once a line it sent has been relayed (a thread
//! adds its client before reading the client's lines), and a client that received a relayed
//! line was in the list when that line was sent.

use std::time::{Duration, Instant};

use harness::{Conn, Lab, Printed, ReadError, Server, Source};

/// How long the first client waits for each of the second one's greetings before the second
/// sends another: only the number of greetings depends on it, never the outcome.
const GREETING_WINDOW: Duration = Duration::from_millis(200);

/// `text` as the other clients receive it from `sender`: `[PEER_ADDR] text`.
pub fn relayed(sender: &Conn, text: &str) -> String {
    format!("[{}] {text}", sender.local_addr())
}

/// Whether `line`, received by `receiver`, is `receiver`'s own line sent back to it.
pub fn own_line(receiver: &Conn, line: &str) -> bool {
    line.starts_with(&relayed(receiver, ""))
}

/// The hint for a client that received its own line back.
pub fn own_line_hint(receiver: &Conn) -> String {
    format!(
        "{} received its own line back: skip the sender when relaying (compare each member with \
         the sender, `std::ptr::eq`)",
        receiver.name()
    )
}

/// Makes every failure of `lab` caused by a client receiving its own line say so, whichever
/// check saw it: an echo to the sender shows up in most tests, each expecting something else.
pub fn recognise_own_lines(lab: &Lab) {
    lab.on_unexpected_line(|receiver, line| {
        if !own_line(receiver, line) {
            return None;
        }
        // Whatever the test was about, the cause is taught where the sender is skipped.
        receiver.lab().read("ch04-mutex", "Arc and Mutex");
        Some(own_line_hint(receiver))
    });
}

/// For the tests with a client that stopped reading: the likely cause of a failure, from what
/// the server logged on standard error (`error: writing to PEER...: CAUSE; disconnecting it`).
/// None when the log does not tell (the test's own hint stands).
pub fn stalled_writes_diagnosis(printed: &Printed<'_>) -> Option<String> {
    let given_up: Vec<&str> = printed
        .lines("server", Source::Stderr)
        .into_iter()
        .filter_map(|line| line.strip_prefix("error: writing to "))
        .filter_map(|rest| rest.split_once(": ").map(|(who, _)| who))
        .collect();
    if given_up.is_empty() {
        return Some(
            "the server never logged `error: writing to PEER: ...`: its write to the client \
             that stopped reading never gave up, so it has no write deadline. Bound each line's \
             write (2 s, `WRITE_TIMEOUT`), and when it runs out, log it and disconnect that \
             client"
                .to_string(),
        );
    }
    if let Some(who) = given_up
        .iter()
        .find(|who| given_up.iter().filter(|other| other == who).count() > 1)
    {
        return Some(format!(
            "the server logged `error: writing to {who}` more than once: after its write timed \
             out, the client stayed in the room, and every later line waited for it again. Mark \
             it dead so nobody writes to it again, and shut its socket down (`Shutdown::Both`) \
             so its own thread wakes up and takes it out of the list"
        ));
    }
    // ch04 logs `PEER`, later chapters `NAME (PEER)`: the console says `disconnected PEER`.
    let stdout = printed.lines("server", Source::Stdout);
    let peer = |who: &str| {
        who.rsplit_once(" (")
            .map_or(who, |(_, peer)| peer.trim_end_matches(')'))
            .to_string()
    };
    given_up
        .iter()
        .find(|who| !stdout.contains(&format!("disconnected {}", peer(who)).as_str()))
        .map(|who| {
            format!(
                "the server gave up writing to {who} but never closed its connection: shut the \
                 socket down (`Shutdown::Both`) when its write times out, so its own thread wakes \
                 up from `read` and takes it out of the room"
            )
        })
}

/// Connects a client with `open` and waits for the server's `connected PEER` line.
fn connect(server: &mut Server, name: &str, open: &impl Fn(&Server, &str) -> Conn) -> Conn {
    let conn = open(server, name);
    server.expect_stdout_line(&format!("connected {}", conn.local_addr()));
    conn
}

/// Connects `names` one after another and returns them once the server relays between all
/// of them. The second greets the first until a greeting arrives; each later one greets all
/// who came before.
pub fn join_all<const N: usize>(lab: &Lab, server: &mut Server, names: [&str; N]) -> [Conn; N] {
    join_all_with(lab, server, names, |server, name| server.connect(name))
}

/// [`join_all`], each client connected by `open` (for example with a small receive buffer).
pub fn join_all_with<const N: usize>(
    lab: &Lab,
    server: &mut Server,
    names: [&str; N],
    open: impl Fn(&Server, &str) -> Conn,
) -> [Conn; N] {
    assert!(N >= 2, "join_all needs at least two clients");
    recognise_own_lines(lab);
    let mut clients: Vec<Conn> = Vec::with_capacity(N);
    clients.push(connect(server, names[0], &open));
    let mut second = connect(server, names[1], &open);
    handshake(lab, &mut clients[0], &mut second);
    clients.push(second);
    for name in &names[2..] {
        let mut members: Vec<&mut Conn> = clients.iter_mut().collect();
        let newcomer = connect(server, name, &open);
        let newcomer = greet(&mut members, newcomer);
        clients.push(newcomer);
    }
    match clients.try_into() {
        Ok(clients) => clients,
        Err(_) => unreachable!("N names give N clients"),
    }
}

/// Connects `name` to a chat whose `members` the server already relays to: the newcomer
/// greets them, and each must receive the greeting.
pub fn join(server: &mut Server, members: &mut [&mut Conn], name: &str) -> Conn {
    let newcomer = connect(server, name, &|server: &Server, name: &str| {
        server.connect(name)
    });
    greet(members, newcomer)
}

/// The newcomer greets `members`, and each must receive the greeting.
fn greet(members: &mut [&mut Conn], mut newcomer: Conn) -> Conn {
    let name = newcomer.name().to_string();
    let greeting = format!("{name} is here");
    newcomer.send_line(&greeting);
    let line = relayed(&newcomer, &greeting);
    for member in members.iter_mut() {
        member.expect_line(&line);
    }
    newcomer
}

/// `sender` greets `receiver` until a greeting arrives; then the greetings sent after it
/// arrive too, in order, and are read.
fn handshake(lab: &Lab, receiver: &mut Conn, sender: &mut Conn) {
    let name = sender.name().to_string();
    let greeting = |n: usize| format!("{name} is here ({n})");
    let deadline = Instant::now() + harness::timeout();
    let mut sent = 0;
    let first = loop {
        sent += 1;
        sender.send_line(&greeting(sent));
        match receiver.read_line_bytes(GREETING_WINDOW) {
            Ok(line) => {
                let line = String::from_utf8_lossy(&line).into_owned();
                match (1..=sent).find(|&n| line == relayed(sender, &greeting(n))) {
                    Some(n) => {
                        lab.step(format!("{}: received {line:?}", receiver.name()));
                        break n;
                    }
                    None => lab.fail(
                        &format!(
                            "{} receives {:?} (or an earlier greeting)",
                            receiver.name(),
                            relayed(sender, &greeting(sent))
                        ),
                        &format!("{} received {line:?}", receiver.name()),
                    ),
                }
            }
            Err(ReadError::TimedOut { .. }) if Instant::now() < deadline => {}
            Err(err) => lab.fail(
                &format!(
                    "{} receives {:?} (the server relays {}'s lines to it)",
                    receiver.name(),
                    relayed(sender, &greeting(sent)),
                    sender.name()
                ),
                &match err {
                    ReadError::TimedOut { .. } => format!(
                        "nothing within {} ms ({sent} greetings sent)",
                        harness::timeout().as_millis()
                    ),
                    ReadError::Closed { .. } => "the server closed the connection".to_string(),
                    ReadError::Failed(err) => format!("the connection failed: {err}"),
                },
            ),
        }
    };
    for n in first + 1..=sent {
        receiver.expect_line(&relayed(sender, &greeting(n)));
    }
}
