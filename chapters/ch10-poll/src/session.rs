//! One client's session: a tiny state machine from the username prompt to the goodbye, driven
//! one line at a time by the event loop.
//!
//! ```text
//!  connect ──> ChoosingName ──valid, free name──> Chatting ──exit / EOF / error──> (closing)
//!                 │  ^  invalid or taken name:        │
//!                 └──┘  error line, prompt again      └── lines relayed as [NAME] text
//! ```
//!
//! Chapters 5 to 9 kept this state on a thread's stack, between blocking reads. A loop serves
//! every client on one stack, so each connection keeps its state in a [`Phase`] instead, and
//! [`on_line`] moves it one step.

use std::net::SocketAddr;

use mio::Token;

use crate::line;
use crate::names;
use crate::room::{Outbox, Room, Taken};

/// The prompt a client gets on connect and after every refused name.
pub const PROMPT: &str = "Enter username:";

/// Where a connection is in the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Connected, waiting for a valid, free username (within the login timeout).
    ChoosingName,
    /// In the room under a name.
    Chatting,
}

/// What the connection does after a line.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Stays open in this phase.
    Stay(Phase),
    /// Said `exit`: close it once its last line is written (leaving the room first).
    Close,
}

/// Handles one line from the client on `token`, which is in `phase`.
pub fn on_line(
    room: &mut Room,
    token: Token,
    peer: SocketAddr,
    phase: Phase,
    text: &str,
    out: &mut Outbox,
) -> Next {
    match phase {
        Phase::ChoosingName => choose_name(room, token, peer, text, out),
        Phase::Chatting => chat(room, token, text, out),
    }
}

/// Handles one answer to the username prompt.
fn choose_name(
    room: &mut Room,
    token: Token,
    peer: SocketAddr,
    answer: &str,
    out: &mut Outbox,
) -> Next {
    let name = answer.trim();
    if name == "exit" {
        out.to(token, "bye");
        return Next::Close;
    }
    let refusal = match names::validate_name(name) {
        Err(problem) => problem.to_string(),
        Ok(()) => match room.join(token, name, peer, out) {
            Ok(()) => return Next::Stay(Phase::Chatting),
            Err(Taken) => format!("error: username '{name}' is already taken"),
        },
    };
    out.to(token, refusal);
    out.to(token, PROMPT);
    Next::Stay(Phase::ChoosingName)
}

/// Handles one line from a client in the room.
fn chat(room: &Room, token: Token, text: &str, out: &mut Outbox) -> Next {
    let Some(name) = room.name_of(token) else {
        // Not in the room after all (cannot happen: Chatting means joined); close it.
        return Next::Close;
    };
    // Commands are recognised in the line as sent (spaces around it ignored); only what others
    // will see is cleaned. So `ex\0it` is chat (relayed as `exit`), not a goodbye.
    let command = text.trim();
    if command == "exit" {
        out.to(token, format!("bye {name}"));
        return Next::Close;
    }
    if command == "/who" {
        out.to(token, format!("online: {}", room.online()));
    } else if command.starts_with('/') {
        let word = command.split_whitespace().next().unwrap_or(command);
        out.to(
            token,
            format!(
                "error: unknown command '{}' (try /who or exit)",
                word.escape_debug()
            ),
        );
    } else {
        let clean = line::sanitize(text);
        if !clean.trim().is_empty() {
            room.broadcast(token, &format!("[{name}] {clean}"), out);
        }
    }
    Next::Stay(Phase::Chatting)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 9))
    }

    #[test]
    fn a_bad_name_is_refused_and_the_prompt_repeated() {
        let mut room = Room::default();
        let mut out = Outbox::default();
        let next = on_line(
            &mut room,
            Token(1),
            peer(),
            Phase::ChoosingName,
            "a b",
            &mut out,
        );
        assert_eq!(next, Next::Stay(Phase::ChoosingName));
        assert_eq!(out.lines.len(), 2);
        assert_eq!(out.lines[1].1, PROMPT);
    }

    #[test]
    fn chat_lines_go_to_the_others_cleaned() {
        let mut room = Room::default();
        let mut out = Outbox::default();
        on_line(
            &mut room,
            Token(1),
            peer(),
            Phase::ChoosingName,
            "al",
            &mut out,
        );
        on_line(
            &mut room,
            Token(2),
            peer(),
            Phase::ChoosingName,
            "bo",
            &mut out,
        );
        out.lines.clear();
        let next = on_line(
            &mut room,
            Token(1),
            peer(),
            Phase::Chatting,
            "hi\x1b",
            &mut out,
        );
        assert_eq!(next, Next::Stay(Phase::Chatting));
        assert_eq!(out.lines, [(Token(2), "[al] hi".to_string())]);
        let next = on_line(
            &mut room,
            Token(1),
            peer(),
            Phase::Chatting,
            " exit ",
            &mut out,
        );
        assert_eq!(next, Next::Close);
    }
}
