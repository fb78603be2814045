//! The room: every connected client, in one list shared by all connection threads.
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
        // A second handle on the same socket (dup), for other threads to write to.
        let writer = stream.try_clone()?;
        writer.set_write_timeout(Some(WRITE_TIMEOUT))?;
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
    /// Writes `line` and a newline to this client. A client whose write fails, or blocks for
    /// [`WRITE_TIMEOUT`] because it stopped reading, is disconnected; returns false then.
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
                say_err!("error: writing to {}: {cause}; disconnecting it", self.peer);
                // Shutting the socket down wakes the client's own thread from read(), and
                // that thread then leaves the room as on any other disconnect.
                let _ = writer.shutdown(Shutdown::Both);
                false
            }
        }
    }
    // ANCHOR_END: send
}

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
        self.room
            .members()
            .retain(|member| !Arc::ptr_eq(member, &self.member));
    }
}
// ANCHOR_END: membership
