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

use crate::connection::DeadlineReader;
use crate::line::{self, Line, MAX_LINE};
use crate::names;
use crate::room::{Client, JoinError, Membership, Room};

/// The prompt a client gets on connect and after every refused name.
pub const PROMPT: &str = "Enter username:";

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

/// Runs one client's session until it leaves or its connection ends. A client that has not
/// chosen a name within `login_timeout` is told so and disconnected.
pub fn run(
    room: &Arc<Room>,
    client: &Arc<Client>,
    stream: &TcpStream,
    login_timeout: Duration,
) -> io::Result<()> {
    // One deadline for the whole login, applied before every read: a client that sends its
    // name a byte at a time, or keeps sending bad names, has `login_timeout` in all.
    let deadline = Instant::now() + login_timeout;
    let mut reader = BufReader::new(DeadlineReader::new(stream, deadline));
    let mut buf = Vec::new();
    let mut state = State::ChoosingName;
    write_line(client, PROMPT)?;
    loop {
        if let State::Gone = state {
            return Ok(());
        }
        // The server may have given up on this client (dropped it as too slow, or is shutting
        // down) while it keeps sending. Shutting its socket down for reading ends a read only
        // once nothing is waiting: on Linux, data that keeps arriving is still handed over,
        // so a client sending faster than its lines are handled would stay in the room.
        // Leave now: the room hears `* NAME left`.
        if client.is_closed() {
            return Ok(());
        }
        let line = match line::read_line(&mut reader, &mut buf) {
            // Only a client still choosing its name has a deadline.
            Err(err)
                if err.kind() == ErrorKind::TimedOut && matches!(state, State::ChoosingName) =>
            {
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
                client.send_last(&format!("error: line too long (max {MAX_LINE} bytes)"));
                return Ok(());
            }
        };
        state = match state {
            State::ChoosingName => match choose_name(room, client, &text)? {
                State::Chatting(membership) => {
                    // Named: no deadline from now on, so a chat line costs no extra system call.
                    reader.get_mut().clear_deadline()?;
                    State::Chatting(membership)
                }
                other => other,
            },
            State::Chatting(membership) => chat(room, membership, &text),
            State::Gone => State::Gone,
        };
    }
}

/// Handles one answer to the username prompt.
fn choose_name(room: &Arc<Room>, client: &Arc<Client>, answer: &str) -> io::Result<State> {
    let name = answer.trim();
    if name == "exit" {
        client.send_last("bye");
        return Ok(State::Gone);
    }
    let refusal = match names::validate_name(name) {
        Err(problem) => problem.to_string(),
        Ok(()) => match room.claim_name(name, client) {
            Ok(membership) => return Ok(State::Chatting(membership)),
            Err(JoinError::Taken) => format!("error: username '{name}' is already taken"),
        },
    };
    write_line(client, &refusal)?;
    write_line(client, PROMPT)?;
    Ok(State::ChoosingName)
}

/// Handles one line from a client in the room.
fn chat(room: &Room, membership: Membership, text: &str) -> State {
    let me = membership.member();
    // Commands are recognised in the line as sent (spaces around it ignored); only what others
    // will see is cleaned. So `ex\0it` is chat (relayed as `exit`), not a goodbye.
    let command = text.trim();
    if command == "exit" {
        // The last line it gets: nothing queued later can follow it.
        me.client.send_last(&format!("bye {}", me.name));
        // Returning Gone drops `membership` here: the client leaves the room before its
        // connection closes.
        return State::Gone;
    }
    if command == "/who" {
        me.client.send(&format!("online: {}", room.online()));
    } else if command.starts_with('/') {
        let word = command.split_whitespace().next().unwrap_or(command);
        me.client.send(&format!(
            "error: unknown command '{}' (try /who or exit)",
            word.escape_debug()
        ));
    } else {
        let clean = line::sanitize(text);
        if !clean.trim().is_empty() {
            room.broadcast(me, &format!("[{}] {clean}", me.name));
        }
    }
    State::Chatting(membership)
}

/// Tells a client that took too long to choose a name, and logs it.
fn login_timed_out(client: &Client, timeout: Duration) -> io::Result<()> {
    // In seconds, as the command line takes them: `0.5 s`, `30 s`.
    say!(
        "timed out {}: no username within {} s",
        client.peer,
        timeout.as_secs_f64()
    );
    client.send_last("error: timed out waiting for a username");
    Ok(())
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
