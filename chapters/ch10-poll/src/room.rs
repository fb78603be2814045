//! The room: who is online, in joining order, and what each join, leave and chat line tells
//! whom. Plain data and plain functions, no I/O: they write lines into an [`Outbox`], and the
//! event loop ([`crate::server`]) queues them on the connections.
//!
//! Chapters 4 to 9 needed a lock around this list, and an extra lock so that announcements
//! never overtook each other. Here one thread owns it: every change and every notice happens
//! in the order the loop runs them, and nothing can come in between.

use std::net::SocketAddr;

use mio::Token;

/// One client in the room.
#[derive(Debug)]
pub struct Member {
    /// Its connection, as the event loop knows it.
    pub token: Token,
    /// Its username, unique in the room ignoring case.
    pub name: String,
}

/// Lines to send, each to one connection, in order.
#[derive(Debug, Default)]
pub struct Outbox {
    /// The lines (without their `\n`) and who gets each.
    pub lines: Vec<(Token, String)>,
}

impl Outbox {
    /// Adds `line` for the connection `to`.
    pub fn to(&mut self, to: Token, line: impl Into<String>) {
        self.lines.push((to, line.into()));
    }
}

/// Why [`Room::join`] did not admit a client.
#[derive(Debug, PartialEq, Eq)]
pub struct Taken;

/// Every client that has chosen a name, in joining order. Owned by the event loop's thread.
#[derive(Debug, Default)]
pub struct Room {
    /// The members, in joining order.
    members: Vec<Member>,
}

impl Room {
    /// The names online, in joining order, as `alice, bob`, or `nobody`.
    pub fn online(&self) -> String {
        if self.members.is_empty() {
            return "nobody".to_string();
        }
        let names: Vec<&str> = self.members.iter().map(|m| m.name.as_str()).collect();
        names.join(", ")
    }

    /// The name of the member on connection `token`, if it has one.
    pub fn name_of(&self, token: Token) -> Option<&str> {
        self.members
            .iter()
            .find(|m| m.token == token)
            .map(|m| m.name.as_str())
    }

    /// How many members are online.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether nobody is online.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Admits the client on `token` as `name`, unless somebody online has it already (ignoring
    /// case). The newcomer gets `welcome NAME! online: ...`, everyone else `* NAME joined`.
    pub fn join(
        &mut self,
        token: Token,
        name: &str,
        peer: SocketAddr,
        out: &mut Outbox,
    ) -> Result<(), Taken> {
        if self
            .members
            .iter()
            .any(|m| m.name.eq_ignore_ascii_case(name))
        {
            return Err(Taken);
        }
        for member in &self.members {
            out.to(member.token, format!("* {name} joined"));
        }
        self.members.push(Member {
            token,
            name: name.to_string(),
        });
        let online = self.online();
        say!("joined {name} from {peer}\nonline: {online}");
        out.to(token, format!("welcome {name}! online: {online}"));
        Ok(())
    }

    /// Removes the member on `token`, if any: everyone left gets `* NAME left`. Returns the
    /// name it had.
    pub fn leave(&mut self, token: Token, peer: SocketAddr, out: &mut Outbox) -> Option<String> {
        let at = self.members.iter().position(|m| m.token == token)?;
        let member = self.members.remove(at);
        let name = member.name;
        say!("left {name} ({peer})\nonline: {}", self.online());
        for other in &self.members {
            out.to(other.token, format!("* {name} left"));
        }
        Some(name)
    }

    /// Sends `line` to every member except `from`.
    pub fn broadcast(&self, from: Token, line: &str, out: &mut Outbox) {
        for member in self.members.iter().filter(|m| m.token != from) {
            out.to(member.token, line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 9))
    }

    #[test]
    fn joining_welcomes_the_newcomer_and_tells_the_others() {
        let mut room = Room::default();
        let mut out = Outbox::default();
        room.join(Token(1), "alice", peer(), &mut out).unwrap();
        room.join(Token(2), "bob", peer(), &mut out).unwrap();
        assert_eq!(room.join(Token(3), "BOB", peer(), &mut out), Err(Taken));
        let lines: Vec<(usize, &str)> = out.lines.iter().map(|(t, l)| (t.0, l.as_str())).collect();
        assert_eq!(
            lines,
            [
                (1, "welcome alice! online: alice"),
                (1, "* bob joined"),
                (2, "welcome bob! online: alice, bob"),
            ]
        );
    }

    #[test]
    fn leaving_frees_the_name_and_tells_who_is_left() {
        let mut room = Room::default();
        let mut out = Outbox::default();
        room.join(Token(1), "alice", peer(), &mut out).unwrap();
        room.join(Token(2), "bob", peer(), &mut out).unwrap();
        out.lines.clear();
        assert_eq!(
            room.leave(Token(1), peer(), &mut out).as_deref(),
            Some("alice")
        );
        assert_eq!(room.leave(Token(1), peer(), &mut out), None);
        assert_eq!(out.lines, [(Token(2), "* alice left".to_string())]);
        assert_eq!(room.online(), "bob");
    }
}
