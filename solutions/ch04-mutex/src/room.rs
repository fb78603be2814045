//! The room: every connected client, in one list shared by all connection threads.
//!
//! The list's lock is held only to add a client, remove one, or copy the list. Writing to
//! clients happens after the lock is released, each client behind a lock of its own, so a
//! client that stops reading can delay only the lines sent to it, and only until one line's
//! [`WRITE_TIMEOUT`] runs out: then it is disconnected.

use std::io::{self, ErrorKind, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

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
    /// Set when a write failed or timed out, or the client left: nobody writes to it again.
    dead: AtomicBool,
}

// ANCHOR: room
/// Every connected client. Share it between threads as `Arc<Room>`.
#[derive(Default)]
pub struct Room {
    /// The members, in joining order. Locked only to change or copy the list, never across I/O.
    members: Mutex<Vec<Arc<Member>>>,
}
// ANCHOR_END: room

impl Room {
    // ANCHOR: lock
    /// Locks the member list.
    fn members(&self) -> MutexGuard<'_, Vec<Arc<Member>>> {
        // A thread that panicked while holding this lock left the list whole: every change to
        // it is a single push or retain. So a poisoned lock is safe to go on using; refusing to
        // would let one crashed connection take the whole room down.
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }
    // ANCHOR_END: lock

    // ANCHOR: join
    /// Adds the client on `stream` to the room. It stays a member until the returned
    /// [`Membership`] is dropped.
    pub fn join(self: &Arc<Self>, stream: &TcpStream, peer: SocketAddr) -> io::Result<Membership> {
        // A second handle on the same socket (dup), for other threads to write to. It fails
        // when the process is out of file descriptors: tell the client rather than vanish.
        let writer = stream.try_clone().inspect_err(|_| refuse_busy(stream))?;
        let member = Arc::new(Member {
            peer,
            writer: Mutex::new(writer),
            dead: AtomicBool::new(false),
        });
        self.members().push(Arc::clone(&member));
        Ok(Membership {
            room: Arc::clone(self),
            member,
        })
    }
    // ANCHOR_END: join

    // ANCHOR: broadcast
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
        for member in recipients {
            member.send(line);
        }
    }
    // ANCHOR_END: broadcast
}

impl Member {
    // ANCHOR: send
    /// Writes `line` and a newline to this client. A client whose write fails, or that cannot
    /// take the line within [`WRITE_TIMEOUT`] because it stopped reading, is disconnected;
    /// returns false then.
    pub fn send(&self, line: &str) -> bool {
        if self.dead.load(Ordering::Acquire) {
            return false;
        }
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        let writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        // Checked again under the lock: another sender may have given up on this client while
        // we waited for it.
        if self.dead.load(Ordering::Acquire) {
            return false;
        }
        match write_all_by(&writer, &bytes, Instant::now() + WRITE_TIMEOUT) {
            Ok(()) => true,
            Err(err) => {
                self.dead.store(true, Ordering::Release);
                // A client that has gone (a reset, a broken pipe) is not news: its own thread
                // sees the same and says `disconnected`. One that stopped reading is.
                if err.kind() == ErrorKind::TimedOut {
                    say_err!(
                        "error: writing to {}: it could not take a line within {} s (not reading?); \
                         disconnecting it",
                        self.peer,
                        WRITE_TIMEOUT.as_secs()
                    );
                }
                // Shutting the socket down wakes the client's own thread from read(), and
                // that thread then leaves the room as on any other disconnect.
                let _ = writer.shutdown(Shutdown::Both);
                false
            }
        }
    }
    // ANCHOR_END: send
}

/// Tells a client the server cannot take it now (for example, out of file descriptors).
pub fn refuse_busy(mut stream: &TcpStream) {
    let _ = stream.write_all(b"error: server is busy, try again later\n");
}

// ANCHOR: write_all_by
/// Writes all of `bytes` to `stream`, or fails with `TimedOut` once `deadline` has passed.
///
/// A socket's write timeout (`SO_SNDTIMEO`) bounds one `write` call, and a call that hands the
/// kernel even one byte returns as a success: with the timeout alone, a client that takes a
/// few bytes every second could stretch one `write_all` for ever. So the time left until the
/// deadline is set again before every call.
fn write_all_by(mut stream: &TcpStream, mut bytes: &[u8], deadline: Instant) -> io::Result<()> {
    while !bytes.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(ErrorKind::TimedOut, "write deadline passed"));
        }
        stream.set_write_timeout(Some(left))?;
        match stream.write(bytes) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            // Blocked for all the time left: Unix reports it as WouldBlock (EAGAIN).
            Err(err) if err.kind() == ErrorKind::WouldBlock => {
                return Err(io::Error::new(ErrorKind::TimedOut, "write deadline passed"));
            }
            Err(err) => return Err(err),
        }
    }
    Ok(())
}
// ANCHOR_END: write_all_by

// ANCHOR: membership
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
        // Nobody writes to a client that has left (a sender may still hold a copy of the list).
        self.member.dead.store(true, Ordering::Release);
        self.room
            .members()
            .retain(|member| !Arc::ptr_eq(member, &self.member));
    }
}
// ANCHOR_END: membership
