//! The room: every client that has chosen a name, in one list shared by all connection threads.
//!
//! The list's lock is held only to add a client, remove one, or copy the list. Writing to
//! clients happens after the lock is released, each client behind a lock of its own, so a
//! client that stops reading can delay only the lines sent to it, and only for
//! [`WRITE_TIMEOUT`].

use std::io::{self, ErrorKind, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How long a write to one client may block before that client is disconnected.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// One client in the room, as every thread sees it.
pub struct Member {
    /// The client's username, unique in the room ignoring case.
    pub name: String,
    /// Where the client connects from (for the console).
    pub peer: SocketAddr,
    /// The writing side of the client's socket. A lock of its own, so two senders' lines to
    /// this client never interleave, and writing never needs the room's lock.
    writer: Mutex<TcpStream>,
    /// Set when a write failed or timed out: nobody writes to this client again.
    dead: AtomicBool,
}

/// Why [`Room::claim_name`] did not admit a client.
#[derive(Debug)]
pub enum JoinError {
    /// Somebody online has this name already (ignoring case).
    Taken,
    /// The socket could not be prepared for sharing.
    Io(io::Error),
}

/// Every client that has chosen a name. Share it between threads as `Arc<Room>`.
#[derive(Default)]
pub struct Room {
    /// The members, in joining order. Locked only to change or copy the list, never across I/O.
    members: Mutex<Vec<Arc<Member>>>,
}

impl Room {
    /// Locks the member list.
    fn members(&self) -> MutexGuard<'_, Vec<Arc<Member>>> {
        // A thread that panicked while holding this lock left the list whole: every change to
        // it is a single push or retain. So a poisoned lock is safe to go on using.
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The names online, in joining order, as `alice, bob`.
    pub fn online(&self) -> String {
        online_names(&self.members())
    }

    /// Admits the client on `stream` as `name`, unless somebody online has it already. The
    /// newcomer gets `welcome NAME! online: ...`, everyone else `* NAME joined`. The client
    /// stays in the room until the returned [`Membership`] is dropped.
    pub fn claim_name(
        self: &Arc<Self>,
        name: &str,
        stream: &TcpStream,
        peer: SocketAddr,
    ) -> Result<Membership, JoinError> {
        // TODO(ch05): Make the newcomer's `Member` (its writer is `stream.try_clone()`; an error
        // is `JoinError::Io`) and lock that member's own `writer`, so that no broadcast can reach
        // the newcomer before its welcome; then lock the console (`io::stdout().lock()`), so that
        // console lines come out in the order the room changed. Then, under ONE lock of the
        // member list (`self.members()`): refuse a name someone online has, ignoring case
        // (`eq_ignore_ascii_case`), with `JoinError::Taken`; copy the list as it is now (exactly
        // these clients hear `* NAME joined`: anyone who joins later sees NAME in their own
        // welcome instead); push the newcomer; note `online_names`. With the list's lock
        // released: `writeln!` `joined NAME from PEER` and `online: A, B, NAME` to the console
        // (ignoring errors) and let it go; write `welcome NAME! online: A, B, NAME` with
        // `write_locked` and let go of the newcomer's writer; `send_to` the copied list
        // `* NAME joined`; return the `Membership`. Book: Validation at the boundary.
        let _ = (name, stream, peer);
        todo!("ch05: admit a client under a free name (book: Validation at the boundary)")
    }

    /// Sends `line` to every member except `from`.
    pub fn broadcast(&self, from: &Member, line: &str) {
        // Copy the list (cheap: reference-counted pointers) and let go of the lock at the end
        // of this statement, before any write that could block.
        let recipients: Vec<Arc<Member>> = self
            .members()
            .iter()
            .filter(|member| !std::ptr::eq(member.as_ref(), from))
            .cloned()
            .collect();
        send_to(&recipients, line);
    }
}

/// Sends `line` to each of `recipients`, in order. Call it without holding the room's lock.
fn send_to(recipients: &[Arc<Member>], line: &str) {
    for member in recipients {
        member.send(line);
    }
}

/// Joins the names of `members` with commas, or says nobody is there.
fn online_names(members: &[Arc<Member>]) -> String {
    if members.is_empty() {
        return "nobody".to_string();
    }
    let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    names.join(", ")
}

impl Member {
    /// Writes `line` and a newline to this client. A client whose write fails, or blocks for
    /// [`WRITE_TIMEOUT`] because it stopped reading, is disconnected; returns false then.
    pub fn send(&self, line: &str) -> bool {
        if self.dead.load(Ordering::Acquire) {
            return false;
        }
        let writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        self.write_locked(&writer, line)
    }

    /// [`Member::send`], for a caller that already holds this member's writer.
    fn write_locked(&self, writer: &TcpStream, line: &str) -> bool {
        // Checked under the lock: another sender may have given up on this client while we
        // waited for it.
        if self.dead.load(Ordering::Acquire) {
            return false;
        }
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        match (&*writer).write_all(&bytes) {
            Ok(()) => true,
            Err(err) => {
                self.dead.store(true, Ordering::Release);
                let cause = match err.kind() {
                    ErrorKind::WouldBlock | ErrorKind::TimedOut => format!(
                        "it took no data for {} s (not reading?)",
                        WRITE_TIMEOUT.as_secs()
                    ),
                    _ => err.to_string(),
                };
                say_err!(
                    "error: writing to {} ({}): {cause}; disconnecting it",
                    self.name,
                    self.peer
                );
                // Shutting the socket down wakes the client's own thread from read(), and
                // that thread then leaves the room as on any other disconnect.
                let _ = writer.shutdown(Shutdown::Both);
                false
            }
        }
    }
}

/// A client's place in the room. Dropping it is the one way out of the room, whatever ended
/// the connection: `exit`, end of file, a reset, an error, or a panic (unwinding runs `drop`
/// too). The name is free again at once, and everyone else hears `* NAME left`.
pub struct Membership {
    room: Arc<Room>,
    member: Arc<Member>,
}

impl Membership {
    /// This client, as the other threads see it.
    pub fn member(&self) -> &Member {
        &self.member
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        // TODO(ch05): Lock the console first (`io::stdout().lock()`), as `claim_name` does.
        // Then, under ONE lock of `self.room`'s member list, remove `self.member` (`retain` with
        // `Arc::ptr_eq`), copy the list and note `online_names`: exactly the clients still here
        // at this moment hear `* NAME left`. With the list's lock released, `writeln!`
        // `left NAME (PEER)` and `online: ...` (or `online: nobody`) to the console, ignoring
        // errors (not `println!`: this may run while a panic unwinds, and a second panic would
        // abort the server), let the console go, and `send_to` the copied list `* NAME left`.
        // Book: Cleanup on every path.
        let _ = (&self.room, &self.member);
        todo!("ch05: take the client out of the room and say so (book: Cleanup on every path)")
    }
}
