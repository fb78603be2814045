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

// ANCHOR: room
/// Every client that has chosen a name. Share it between threads as `Arc<Room>`.
#[derive(Default)]
pub struct Room {
    /// The members, in joining order. Locked only to change or copy the list, never across I/O.
    members: Mutex<Vec<Arc<Member>>>,
}
// ANCHOR_END: room

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

    // ANCHOR: claim_name
    /// Admits the client on `stream` as `name`, unless somebody online has it already. The
    /// newcomer gets `welcome NAME! online: ...`, everyone else `* NAME joined`. The client
    /// stays in the room until the returned [`Membership`] is dropped.
    pub fn claim_name(
        self: &Arc<Self>,
        name: &str,
        stream: &TcpStream,
        peer: SocketAddr,
    ) -> Result<Membership, JoinError> {
        let writer = stream.try_clone().map_err(JoinError::Io)?;
        let member = Arc::new(Member {
            name: name.to_string(),
            peer,
            writer: Mutex::new(writer),
            dead: AtomicBool::new(false),
        });
        // Hold the newcomer's own writer until its welcome is written, so that no broadcast
        // can reach it first. Nobody else knows this member yet, so this cannot block.
        let writer = member.writer.lock().unwrap_or_else(PoisonError::into_inner);
        // The console's `joined`/`left` and `online:` lines must come out in the order the
        // room changed, or it reads `online: nobody` before someone else's leaving. So take
        // the console before the room and write to it after the room's lock is released: the
        // room is never locked across I/O, yet no other change can print in between.
        let mut console = io::stdout().lock();
        let (online, others) = {
            let mut members = self.members();
            // Check and claim under one lock: two clients asking for the same name at the
            // same moment cannot both get it.
            if members.iter().any(|m| m.name.eq_ignore_ascii_case(name)) {
                return Err(JoinError::Taken);
            }
            // Who hears `* NAME joined` is decided under the same lock: exactly those who
            // were here before. Anyone who joins after this moment sees NAME in their own
            // welcome line instead, and must not be told again.
            let others = members.clone();
            members.push(Arc::clone(&member));
            (online_names(&members), others)
        };
        // A console that is gone (stdout closed) must not take the server down: no println!.
        let _ = writeln!(console, "joined {name} from {peer}");
        let _ = writeln!(console, "online: {online}");
        drop(console);
        member.write_locked(&writer, &format!("welcome {name}! online: {online}"));
        drop(writer);
        send_to(&others, &format!("* {name} joined"));
        Ok(Membership {
            room: Arc::clone(self),
            member,
        })
    }
    // ANCHOR_END: claim_name

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

// ANCHOR: membership
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
        // As with joining: those still here at the moment of leaving hear about it, nobody
        // who comes later; and the console before the room, so its lines keep the room's order.
        let mut console = io::stdout().lock();
        let (online, others) = {
            let mut members = self.room.members();
            members.retain(|member| !Arc::ptr_eq(member, &self.member));
            (online_names(&members), members.clone())
        };
        let Member { name, peer, .. } = self.member.as_ref();
        // `drop` may run while a panic unwinds, when a second panic would abort the whole
        // server: so no println! here (it panics if standard output is gone).
        let _ = writeln!(console, "left {name} ({peer})");
        let _ = writeln!(console, "online: {online}");
        drop(console);
        send_to(&others, &format!("* {name} left"));
    }
}
// ANCHOR_END: membership
