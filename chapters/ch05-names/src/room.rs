//! The room: every client that has chosen a name, in one list shared by all connection threads.
//!
//! The list's lock is held only to add a client, remove one, or copy the list. Writing to
//! clients happens after the lock is released, each client behind a lock of its own, so a
//! client that stops reading can delay only the lines sent to it, and only until one line's
//! [`WRITE_TIMEOUT`] runs out: then it is disconnected. Joins and leaves are announced one at
//! a time, in the order the room changed.

use std::io::{self, ErrorKind, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// How long one line may take to reach a client's kernel buffer, in total, before that client
/// is disconnected: a deadline for the whole line, not a timeout per system call.
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
    /// Set when a write failed or timed out, or the client left: nobody writes to it again.
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
    /// Held while one join or leave is announced, from the change to the list until every
    /// notice is written, so that announcements never overtake each other: otherwise a new
    /// owner's `* x joined` could reach someone before the old owner's `* x left`. Chat lines
    /// never take it, so a client that stops reading can hold up joins and leaves (for one
    /// write deadline, then it is gone), but never the conversation.
    announcing: Mutex<()>,
}

impl Room {
    /// Locks the member list.
    fn members(&self) -> MutexGuard<'_, Vec<Arc<Member>>> {
        // A thread that panicked while holding this lock left the list whole: every change to
        // it is a single push or retain. So a poisoned lock is safe to go on using.
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the right to announce a join or a leave.
    fn announcing(&self) -> MutexGuard<'_, ()> {
        // Poisoned only if a thread panicked while announcing; the () it guards cannot be
        // left half-changed.
        self.announcing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
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
        // TODO(ch05): Admit the client under `name`, unless someone online has that name,
        // ignoring case (`JoinError::Taken`). The contract others rely on: two clients asking
        // for one name at the same instant never both get it; the newcomer's first line is its
        // welcome, listing everyone online in joining order, itself last; exactly the clients
        // that welcome lists (but itself) hear `* NAME joined`; and joins and leaves are
        // announced one at a time, in the order the room changed (`announcing`), so that the
        // notices about one name alternate. The console logs `joined NAME from PEER` and the new
        // `online:` line. A client whose second handle cannot be made (out of file descriptors)
        // is told `error: server is busy, try again later` (`JoinError::Io`).
        // Book: Validation at the boundary; Notices in the order the room changed.
        let _ = (name, stream, peer, Self::announcing);
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
    /// Writes `line` and a newline to this client. A client whose write fails, or that cannot
    /// take the line within [`WRITE_TIMEOUT`] because it stopped reading, is disconnected;
    /// returns false then.
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
        match write_all_by(writer, &bytes, Instant::now() + WRITE_TIMEOUT) {
            Ok(()) => true,
            Err(err) => {
                self.dead.store(true, Ordering::Release);
                // A client that has gone (a reset, a broken pipe) is not news: its own thread
                // sees the same and says it left. One that stopped reading is.
                if err.kind() == ErrorKind::TimedOut {
                    say_err!(
                        "error: writing to {} ({}): it could not take a line within {} s (not \
                         reading?); disconnecting it",
                        self.name,
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
}

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
        // TODO(ch05): Take this client out of the room and say so: the clients still here at
        // that moment hear `* NAME left`, and nobody else; nothing is written to this client
        // again; the console logs `left NAME (PEER)` and the new `online:` line. Announce it as
        // `claim_name` announces a join. This runs on every way out, a panic included, so it
        // must not panic itself (a panic while another unwinds aborts the server).
        // Book: Cleanup on every path.
        let _ = (&self.room, &self.member);
        todo!("ch05: take the client out of the room and say so (book: Cleanup on every path)")
    }
}
