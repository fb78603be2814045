//! One client's session: a tiny state machine from the username prompt to the goodbye.
//!
//! ```text
//!  connect ──> ChoosingName ──valid, free name──> Chatting ──exit / EOF / error──> (gone)
//!                 │  ^  invalid or taken name:        │
//!                 └──┘  error line, prompt again      └── lines relayed as [NAME] text
//! ```

use std::io::{self, BufReader, ErrorKind, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use crate::line::{self, Line, MAX_LINE};
use crate::names;
use crate::room::{JoinError, Membership, Room, WRITE_TIMEOUT};

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
    stream: &TcpStream,
    peer: SocketAddr,
    login_timeout: Duration,
) -> io::Result<()> {
    // Until the client has a name, we write to it directly; the timeout protects us from a
    // client that never reads, as it does for members.
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::new();
    let mut state = State::ChoosingName;
    write_line(stream, PROMPT)?;
    loop {
        if let State::Gone = state {
            return Ok(());
        }
        // TODO(ch06): Give the client `login_timeout` to choose a name: ONE deadline, fixed
        // before this loop (`Instant::now() + login_timeout`), not a fresh timeout per read, so
        // a client that keeps sending bad names cannot hold its slot for ever. Before each read,
        // set the socket's read timeout with `stream.set_read_timeout`: while
        // `State::ChoosingName`, the time left until the deadline (`checked_duration_since`;
        // when none is left, return `login_timed_out(...)` at once, since a zero timeout is an
        // error); once chatting, `None`. Book: Timeouts against idle connections.
        let line = match line::read_line(&mut reader, &mut buf) {
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                // Only a client still choosing its name has a read timeout.
                return login_timed_out(stream, peer, login_timeout);
            }
            other => other?,
        };
        let text = match line {
            Line::Text(text) => text,
            // End of file: the client left without `exit`. Returning drops the state, and with
            // it any membership: the others hear `* NAME left` all the same.
            Line::Eof => return Ok(()),
            Line::TooLong => {
                let refusal = format!("error: line too long (max {MAX_LINE} bytes)");
                match &state {
                    State::Chatting(membership) => {
                        membership.member().send(&refusal);
                    }
                    _ => write_line(stream, &refusal)?,
                }
                return Ok(());
            }
        };
        state = match state {
            State::ChoosingName => choose_name(room, stream, peer, &text)?,
            State::Chatting(membership) => chat(room, membership, &text),
            State::Gone => State::Gone,
        };
    }
}

/// Handles one answer to the username prompt.
fn choose_name(
    room: &Arc<Room>,
    stream: &TcpStream,
    peer: SocketAddr,
    answer: &str,
) -> io::Result<State> {
    let name = answer.trim();
    if name == "exit" {
        write_line(stream, "bye")?;
        return Ok(State::Gone);
    }
    let refusal = match names::validate_name(name) {
        Err(problem) => problem.to_string(),
        Ok(()) => match room.claim_name(name, stream, peer) {
            Ok(membership) => return Ok(State::Chatting(membership)),
            Err(JoinError::Taken) => format!("error: username '{name}' is already taken"),
            Err(JoinError::Io(err)) => return Err(err),
        },
    };
    write_line(stream, &refusal)?;
    write_line(stream, PROMPT)?;
    Ok(State::ChoosingName)
}

/// Handles one line from a client in the room.
fn chat(room: &Room, membership: Membership, text: &str) -> State {
    let me = membership.member();
    let text = line::sanitize(text);
    let command = text.trim();
    if command == "exit" {
        me.send(&format!("bye {}", me.name));
        // Returning Gone drops `membership` here: the client leaves the room before its
        // connection closes.
        return State::Gone;
    }
    if command == "/who" {
        me.send(&format!("online: {}", room.online()));
    } else if command.starts_with('/') {
        let word = command.split_whitespace().next().unwrap_or(command);
        me.send(&format!(
            "error: unknown command '{word}' (try /who or exit)"
        ));
    } else if !command.is_empty() {
        room.broadcast(me, &format!("[{}] {text}", me.name));
    }
    State::Chatting(membership)
}

/// Tells a client that took too long to choose a name, and logs it.
///
/// Keep as is: the grader reads these lines.
fn login_timed_out(stream: &TcpStream, peer: SocketAddr, timeout: Duration) -> io::Result<()> {
    say!("timed out {peer}: no username within {timeout:?}");
    write_line(stream, "error: timed out waiting for a username")
}

/// Writes one line straight to the socket (for a client not yet in the room).
fn write_line(mut stream: &TcpStream, line: &str) -> io::Result<()> {
    stream.write_all(format!("{line}\n").as_bytes())
}
