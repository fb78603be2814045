//! One client's session: a tiny state machine from the username prompt to the goodbye.
//!
//! ```text
//!  connect ──> ChoosingName ──valid, free name──> Chatting ──exit / EOF / error──> (gone)
//!                 │  ^  invalid or taken name:        │
//!                 └──┘  error line, prompt again      └── lines relayed as [NAME] text
//! ```

use std::io::{self, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use crate::line::{self, Line, MAX_LINE};
use crate::room::{Membership, Room, WRITE_TIMEOUT};

/// The prompt a client gets on connect and after every refused name.
///
/// Keep as is: the grader reads this line.
pub const PROMPT: &str = "Enter username:";

/// Where a connection is in the protocol. Each state owns what only it has: a chatting
/// client owns its [`Membership`], so leaving that state, by any path, leaves the room.
pub enum State {
    /// Connected, waiting for a valid, free username.
    ChoosingName,
    /// In the room under a name.
    Chatting(Membership),
    /// Said `exit`: the session is over.
    Gone,
}

/// Runs one client's session until it leaves or its connection ends.
pub fn run(room: &Arc<Room>, stream: &TcpStream, peer: SocketAddr) -> io::Result<()> {
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
        let text = match line::read_line(&mut reader, &mut buf)? {
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

/// Handles one answer to the username prompt and returns the session's next state.
///
/// The answer, trimmed, is one of: `exit` (answer `bye`: the session is over), a name that
/// [`names::validate_name`](crate::names::validate_name) refuses or that someone online has
/// (answer the error line and the prompt again, and stay), or a free name (claim it with
/// [`Room::claim_name`]: the client is in the room, and chatting).
fn choose_name(
    room: &Arc<Room>,
    stream: &TcpStream,
    peer: SocketAddr,
    answer: &str,
) -> io::Result<State> {
    // TODO(ch05): Trim `answer`. Answer `exit` with `bye` and return `State::Gone`. Otherwise
    // check it with `crate::names::validate_name` and claim it with `room.claim_name`: on
    // success return `State::Chatting(membership)`; on a refusal write the error line (the
    // `NameError`'s text, or `error: username 'NAME' is already taken` for
    // `JoinError::Taken`), then `PROMPT`, with `write_line`, and return `State::ChoosingName`.
    // Book: Protocol state per connection.
    let _ = (room, stream, peer, answer);
    todo!("ch05: handle an answer to the username prompt (book: Protocol state per connection)")
}

/// Handles one line from a client in the room and returns the session's next state.
///
/// The line, spaces around it ignored, is `exit` (answer `bye NAME`; the client leaves),
/// `/who` (answer `online: A, B` to this client only), another `/word` (answer
/// `error: unknown command '/word' (try /who or exit)`), or chat: cleaned with
/// [`line::sanitize`], it is relayed as `[NAME] text` to everyone else with
/// [`Room::broadcast`], unless nothing but blanks is left. Commands are recognised in the
/// line as sent, not in its cleaned copy: `ex\0it` is chat, not `exit`.
fn chat(room: &Room, membership: Membership, text: &str) -> State {
    // TODO(ch05): Implement the cases above; answer this client with
    // `membership.member().send(...)`. Return `State::Gone` after `exit` (dropping the
    // membership is what takes the client out of the room) and
    // `State::Chatting(membership)` otherwise. Book: Protocol state per connection.
    let _ = (room, membership, text);
    todo!("ch05: handle a chatting client's line (book: Protocol state per connection)")
}

/// Writes one line straight to the socket (for a client not yet in the room).
fn write_line(mut stream: &TcpStream, line: &str) -> io::Result<()> {
    stream.write_all(format!("{line}\n").as_bytes())
}
