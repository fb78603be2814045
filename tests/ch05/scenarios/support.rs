//! Small helpers the chapter 5 scenarios share (and chapter 6's, which run them again): logging
//! in under a name, leaving in each of the ways a client can leave, and reading the console.

use std::net::SocketAddr;

use harness::{Conn, Lab, Server};

/// The book page that teaches these behaviours.
pub const PAGE: &str = "ch05-names";

/// The server's username prompt.
pub const PROMPT: &str = "Enter username:";

/// The answer to a line over 1024 bytes (chapter 4 on).
pub const TOO_LONG: &str = "error: line too long (max 1024 bytes)";

/// Connects a test client named `who` in the transcript and expects the username prompt.
pub fn connect(server: &Server, who: &str) -> Conn {
    let mut conn = server.connect(who);
    conn.expect_line(PROMPT);
    conn
}

/// Connects, answers the prompt with `name`, and expects `welcome NAME! online: ONLINE`.
pub fn join(server: &Server, name: &str, online: &str) -> Conn {
    let mut conn = connect(server, name);
    conn.send_line(name);
    conn.expect_line(&format!("welcome {name}! online: {online}"));
    conn
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
