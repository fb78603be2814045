//! The room: every connected client, in one list shared by all connection threads.
//!
//! The list's lock is held only to add a client, remove one, or copy the list. Writing to
//! clients happens after the lock is released, each client behind a lock of its own, so a
//! client that stops reading can delay only the lines sent to it, and only until one line's
//! [`WRITE_TIMEOUT`] runs out: then it is disconnected.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

// Your code will also need some of: `std::io::ErrorKind`, `std::net::Shutdown`,
// `std::sync::atomic::Ordering` and `std::sync::PoisonError`.

/// How long one line may take to reach a client's kernel buffer, in total, before that client
/// is disconnected: a deadline for the whole line, not a timeout per system call.
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
        // TODO(ch04): Add this client to the shared list, with a second handle on its socket
        // for other threads to write to, and return the guard that keeps it there. If that
        // handle cannot be made (out of file descriptors), tell the client (`refuse_busy`)
        // and return the error. Book: Arc and Mutex.
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
        // TODO(ch04): Write `line` and its newline to this client, whole: lines from two
        // senders never interleave. The whole line gets one deadline, `WRITE_TIMEOUT` from now
        // (`write_all_by`), not a timeout per system call. A client whose write fails or misses
        // the deadline is disconnected for good (nobody writes to it again, and its own thread
        // wakes from `read`); one that missed the deadline is logged as `error: writing to
        // PEER: ...; disconnecting it`. Book: Data races and why Rust refuses them; A deadline,
        // not a timeout.
        let _ = (&self.writer, &self.dead, line, write_all_by);
        todo!("ch04: write one line to this client (book: Data races and why Rust refuses them)")
    }
}

/// Tells a client the server cannot take it now (for example, out of file descriptors).
pub fn refuse_busy(mut stream: &TcpStream) {
    let _ = stream.write_all(b"error: server is busy, try again later\n");
}

/// Writes all of `bytes` to `stream`, or fails with `TimedOut` once `deadline` has passed,
/// however many system calls it takes and however slowly the client takes the bytes.
fn write_all_by(stream: &TcpStream, bytes: &[u8], deadline: Instant) -> io::Result<()> {
    // TODO(ch04): A socket's write timeout bounds ONE system call, and a call that hands the
    // kernel a single byte returns as a success: so `write_all` with a write timeout does not
    // bound the line. Make the deadline hold across every partial write. Book: A deadline, not
    // a timeout.
    let _ = (stream, bytes, deadline);
    todo!("ch04: write a whole line by a deadline (book: A deadline, not a timeout)")
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
