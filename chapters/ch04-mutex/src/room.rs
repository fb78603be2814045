//! The room: every connected client, in one list shared by all connection threads.
//!
//! The list's lock is held only to add a client, remove one, or copy the list. Writing to
//! clients happens after the lock is released, each client behind a lock of its own, so a
//! client that stops reading can delay only the lines sent to it, and only for
//! [`WRITE_TIMEOUT`].

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

// Your code will also need some of: `std::io::{ErrorKind, Write}`, `std::net::Shutdown`,
// `std::sync::atomic::Ordering` and `std::sync::PoisonError`.

/// How long a write to one client may block before that client is disconnected.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// One connected client, as every thread sees it.
pub struct Member {
    /// The client's address; in this chapter it is also how others see the client.
    pub peer: SocketAddr,
    /// The writing side of the client's socket. A lock of its own, so two senders' lines to
    /// this client never interleave, and writing never needs the room's lock.
    writer: Mutex<TcpStream>,
    /// Set when a write failed or timed out: nobody writes to this client again.
    dead: AtomicBool,
}

/// Every connected client. Share it between threads as `Arc<Room>`.
#[derive(Default)]
pub struct Room {
    /// The members, in joining order. Locked only to change or copy the list, never across I/O.
    members: Mutex<Vec<Arc<Member>>>,
}

impl Room {
    /// Locks the member list.
    fn members(&self) -> MutexGuard<'_, Vec<Arc<Member>>> {
        // TODO(ch04): Lock `self.members` and return the guard. `lock()` returns an error only
        // when a thread panicked while holding the lock (the lock is "poisoned"). Every change
        // to this list is a single push or retain, so the list is still whole then: take the
        // guard anyway (`unwrap_or_else(PoisonError::into_inner)`) rather than let one crashed
        // connection take the whole room down. Book: Lock poisoning.
        let _ = &self.members;
        todo!("ch04: lock the member list, surviving a poisoned lock (book: Lock poisoning)")
    }

    /// Adds the client on `stream` to the room. It stays a member until the returned
    /// [`Membership`] is dropped.
    pub fn join(self: &Arc<Self>, stream: &TcpStream, peer: SocketAddr) -> io::Result<Membership> {
        // TODO(ch04): Make the member's writer, a second handle on the client's socket
        // (`stream.try_clone()?`), with a write timeout of `WRITE_TIMEOUT`
        // (`set_write_timeout`), so that a client that stops reading cannot hold up a sender
        // for longer. Put it in a new `Arc<Member>` (in a `Mutex`; `dead` starts false), push a
        // clone of that `Arc` onto the list (`self.members()`), and return a `Membership` with
        // `Arc::clone(self)` and the member. Book: Arc and Mutex.
        let _ = (stream, peer, Self::members);
        todo!("ch04: add a client to the shared list (book: Arc and Mutex)")
    }

    /// Sends `line` to every member except `from`.
    pub fn broadcast(&self, from: &Member, line: &str) {
        // TODO(ch04): Copy the recipients, every member but `from` (compare with
        // `std::ptr::eq(member.as_ref(), from)`), into a `Vec<Arc<Member>>` in one statement,
        // so the guard is dropped at its end; then `send` the line to each recipient. Never
        // write while holding the list's lock: one client that stops reading would freeze every
        // thread that needs the list. Book: Never hold a lock across I/O.
        let _ = (from, line);
        todo!("ch04: send a line to every other member (book: Never hold a lock across I/O)")
    }
}

impl Member {
    /// Writes `line` and a newline to this client. A client whose write fails, or blocks for
    /// [`WRITE_TIMEOUT`] because it stopped reading, is disconnected; returns false then.
    pub fn send(&self, line: &str) -> bool {
        // TODO(ch04): Return false if `dead` is set. Put `line` and its `\n` in one buffer, lock
        // `writer` (surviving poisoning, as in `Room::members`), check `dead` again under the
        // lock (another sender may have given up on this client meanwhile), and write the
        // buffer with ONE `write_all`, so lines from two senders never interleave. If the write
        // fails or times out (`ErrorKind::WouldBlock` or `TimedOut`): set `dead`, print
        // `error: writing to PEER: <cause>; disconnecting it` on standard error, shut the socket
        // down (`Shutdown::Both`, which wakes the client's own thread from `read`), and return
        // false. Book: Data races and why Rust refuses them.
        let _ = (&self.writer, &self.dead, line);
        todo!("ch04: write one line to this client (book: Data races and why Rust refuses them)")
    }
}

/// A client's place in the room. Dropping it removes the client, however the connection
/// ended: a clean close, an error, or a panic (unwinding runs `drop` too).
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
        // TODO(ch04): Remove this client from the room's list: `retain` every member that is
        // not `self.member` (`Arc::ptr_eq`). This runs however the connection ended, a panic
        // included (unwinding runs `drop`), so it must not panic itself: a panic here while
        // another one unwinds aborts the whole server. Book: The guard and when it is dropped.
        let _ = (&self.room, &self.member);
        // This stub keeps quiet while another panic unwinds, so that the server is not aborted
        // and you see the first panic's message. Replace all of it with your code.
        if !std::thread::panicking() {
            todo!("ch04: take the client out of the list (book: The guard and when it is dropped)")
        }
    }
}
