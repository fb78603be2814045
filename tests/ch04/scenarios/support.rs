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

use harness::{Conn, Lab, ReadError, Server};

/// How long the first client waits for each of the second one's greetings before the second
/// sends another: only the number of greetings depends on it, never the outcome.
const GREETING_WINDOW: Duration = Duration::from_millis(200);

/// `text` as the other clients receive it from `sender`: `[PEER_ADDR] text`.
pub fn relayed(sender: &Conn, text: &str) -> String {
    format!("[{}] {text}", sender.local_addr())
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
