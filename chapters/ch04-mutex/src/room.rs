//! The room: every connected client, in one list shared by all connection threads.
//!
//! The list's lock is never held while writing to a client, and each client's writes are
//! behind a lock of its own, so a client that stops reading can delay only the lines sent to
//! it, and only until one line's [`WRITE_TIMEOUT`] runs out: then it is disconnected.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

// Add the `use` lines your code needs as you go: the compiler names each one it misses.

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
        // TODO(ch04): Lock the member list and return its guard. A connection thread that
        // panicked while holding this lock must not take the whole room down with it: decide
        // whether the list can still be trusted after such a panic, and act on that.
        // Book: Lock poisoning.
        let _ = &self.members;
        todo!("ch04: lock the member list, surviving a poisoned lock (book: Lock poisoning)")
    }

    /// Adds the client on `stream` to the room. It stays a member until the returned
    /// [`Membership`] is dropped.
    pub fn join(self: &Arc<Self>, stream: &TcpStream, peer: SocketAddr) -> io::Result<Membership> {
        // TODO(ch04): Make this client a member: other threads must be able to write to it while
        // its own thread reads, and it stays in the list exactly as long as the returned guard
        // lives. Out of file descriptors is no reason to vanish without a word: the client is
        // told (`refuse_busy`) and the error returned. Book: Arc and Mutex.
        let _ = (stream, peer, Self::members);
        todo!("ch04: add a client to the shared list (book: Arc and Mutex)")
    }

    /// Sends `line` to every member except `from`.
    pub fn broadcast(&self, from: &Member, line: &str) {
        // TODO(ch04): Send `line` to every member but `from`, its sender. Every other thread
        // needs the list too: no write may happen while the list is locked, or one client that
        // stops reading freezes them all. Book: Never hold a lock across I/O.
        let _ = (from, line);
        todo!("ch04: send a line to every other member (book: Never hold a lock across I/O)")
    }
}

impl Member {
    /// Writes `line` and a newline to this client. A client whose write fails, or blocks for
    /// [`WRITE_TIMEOUT`] because it stopped reading, is disconnected; returns false then.
    pub fn send(&self, line: &str) -> bool {
        // TODO(ch04): Write `line` and its newline to this client, whole: two senders' lines
        // never interleave. The whole line has one deadline, `WRITE_TIMEOUT` from now. A client
        // whose write fails or misses it is disconnected for good: nobody writes to it again,
        // its own thread wakes from its read, and a missed deadline is logged (protocol page,
        // the server's console). Book: Data races and why Rust refuses them; A deadline, not a
        // timeout.
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
        // TODO(ch04): Take this client out of the room's list, and make sure nobody writes to it
        // any more (a sender may still hold a copy of the list). This runs however the connection
        // ended, a panic included, so it must not panic itself: a panic here while another one
        // unwinds aborts the whole server. Book: The guard and when it is dropped.
        let _ = (&self.room, &self.member);
        // This stub keeps quiet while another panic unwinds, so that the server is not aborted
        // and you see the first panic's message. Replace all of it with your code.
        if !std::thread::panicking() {
            todo!("ch04: take the client out of the list (book: The guard and when it is dropped)")
        }
    }
}
