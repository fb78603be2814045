//! One client's session: a tiny state machine from the username prompt to the goodbye.
//!
//! ```text
//!  connect ──> ChoosingName ──valid, free name──> Chatting ──exit / EOF / error──> (gone)
//!                 │  ^  invalid or taken name:        │
//!                 └──┘  error line, prompt again      └── lines relayed as [NAME] text
//! ```

use std::io::{self, BufReader, ErrorKind};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::line::{self, Line, MAX_LINE};
use crate::names;
use crate::room::{Client, JoinError, Membership, Room};

/// The prompt a client gets on connect and after every refused name.
pub const PROMPT: &str = "Enter username:";

// ANCHOR: state
/// Where a connection is in the protocol. Each state owns what only it has: a chatting
/// client owns its [`Membership`], so leaving that state, by any path, leaves the room.
enum State {
    /// Connected, waiting for a valid, free username.
    ChoosingName,
    /// In the room under a name.
    Chatting(Membership),
    /// Said `exit`: the session is over.
    Gone,
}
// ANCHOR_END: state

/// Runs one client's session until it leaves or its connection ends. A client that has not
/// chosen a name within `login_timeout` is told so and disconnected.
pub fn run(
    room: &Arc<Room>,
    client: &Arc<Client>,
    stream: &TcpStream,
    login_timeout: Duration,
) -> io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::new();
    let mut state = State::ChoosingName;
    // ANCHOR: login_deadline
    // One deadline for the whole login, not a timeout per read: a client that keeps sending
    // invalid names must not hold its slot for ever either.
    let deadline = Instant::now() + login_timeout;
    // ANCHOR_END: login_deadline
    write_line(client, PROMPT)?;
    loop {
        let read_timeout = match &state {
            State::Gone => return Ok(()),
            State::Chatting(_) => None,
            State::ChoosingName => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return login_timed_out(client, login_timeout),
            },
        };
        stream.set_read_timeout(read_timeout)?;
        let line = match line::read_line(&mut reader, &mut buf) {
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                // Only a client still choosing its name has a read timeout.
                return login_timed_out(client, login_timeout);
            }
            other => other?,
        };
        let text = match line {
            Line::Text(text) => text,
            // End of file: the client left without `exit`. Returning drops the state, and with
            // it any membership: the others hear `* NAME left` all the same.
            Line::Eof => return Ok(()),
            Line::TooLong => {
                write_line(
                    client,
                    &format!("error: line too long (max {MAX_LINE} bytes)"),
                )?;
                return Ok(());
            }
        };
        state = match state {
            State::ChoosingName => choose_name(room, client, &text)?,
            State::Chatting(membership) => chat(room, membership, &text),
            State::Gone => State::Gone,
        };
    }
}

// ANCHOR: choose_name
/// Handles one answer to the username prompt.
fn choose_name(room: &Arc<Room>, client: &Arc<Client>, answer: &str) -> io::Result<State> {
    let name = answer.trim();
    if name == "exit" {
        write_line(client, "bye")?;
        return Ok(State::Gone);
    }
    let refusal = match names::validate_name(name) {
        Err(problem) => problem.to_string(),
        Ok(()) => match room.claim_name(name, client) {
            Ok(membership) => return Ok(State::Chatting(membership)),
            Err(JoinError::Taken) => format!("error: username '{name}' is already taken"),
            Err(JoinError::Io(err)) => return Err(err),
        },
    };
    write_line(client, &refusal)?;
    write_line(client, PROMPT)?;
    Ok(State::ChoosingName)
}
// ANCHOR_END: choose_name

// ANCHOR: chat
/// Handles one line from a client in the room.
fn chat(room: &Room, membership: Membership, text: &str) -> State {
    let me = membership.member();
    let text = line::sanitize(text);
    let command = text.trim();
    if command == "exit" {
        me.client.send(&format!("bye {}", me.name));
        // Returning Gone drops `membership` here: the client leaves the room before its
        // connection closes.
        return State::Gone;
    }
    if command == "/who" {
        me.client.send(&format!("online: {}", room.online()));
    } else if command.starts_with('/') {
        let word = command.split_whitespace().next().unwrap_or(command);
        me.client.send(&format!(
            "error: unknown command '{word}' (try /who or exit)"
        ));
    } else if !command.is_empty() {
        room.broadcast(me, &format!("[{}] {text}", me.name));
    }
    State::Chatting(membership)
}
// ANCHOR_END: chat

/// Tells a client that took too long to choose a name, and logs it.
fn login_timed_out(client: &Client, timeout: Duration) -> io::Result<()> {
    say!("timed out {}: no username within {timeout:?}", client.peer);
    write_line(client, "error: timed out waiting for a username")
}

/// Writes one line to a client not yet in the room; an error if the connection is closed.
fn write_line(client: &Client, line: &str) -> io::Result<()> {
    if client.send(line) {
        Ok(())
    } else {
        Err(io::Error::new(
            ErrorKind::BrokenPipe,
            "the connection is closed",
        ))
    }
}
