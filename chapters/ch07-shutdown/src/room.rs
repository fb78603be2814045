//! The room: every client that has chosen a name, in one list shared by all connection threads,
//! and, new in chapter 7, every open connection, so that a shutdown can reach them all.
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

/// One open connection, as every thread sees it: where lines to that client are written.
pub struct Client {
    /// Where the client connects from (for the console).
    pub peer: SocketAddr,
    /// The writing side of the client's socket. A lock of its own, so two senders' lines to
    /// this client never interleave, and writing never needs the room's lock.
    writer: Mutex<TcpStream>,
    /// Set when a write failed or timed out, or the server closed the connection: nobody
    /// writes to this client again.
    dead: AtomicBool,
}

/// One client in the room.
pub struct Member {
    /// The client's username, unique in the room ignoring case.
    pub name: String,
    /// Its connection.
    pub client: Arc<Client>,
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
    /// Every open connection, named or not. Locked only to change or copy the list.
    clients: Mutex<Vec<Arc<Client>>>,
}

impl Room {
    /// Locks the member list.
    fn members(&self) -> MutexGuard<'_, Vec<Arc<Member>>> {
        // A thread that panicked while holding this lock left the list whole: every change to
        // it is a single push or retain. So a poisoned lock is safe to go on using.
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Locks the list of connections (poisoning is harmless for the same reason).
    fn clients(&self) -> MutexGuard<'_, Vec<Arc<Client>>> {
        self.clients.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a new connection, so that [`Room::close_all`] can reach it. It stays
    /// registered until the returned [`Registration`] is dropped.
    pub fn register(
        self: &Arc<Self>,
        stream: &TcpStream,
        peer: SocketAddr,
    ) -> io::Result<Registration> {
        // A second handle on the same socket (dup), for other threads to write to.
        let writer = stream.try_clone()?;
        writer.set_write_timeout(Some(WRITE_TIMEOUT))?;
        let client = Arc::new(Client {
            peer,
            writer: Mutex::new(writer),
            dead: AtomicBool::new(false),
        });
        self.clients().push(Arc::clone(&client));
        Ok(Registration {
            room: Arc::clone(self),
            client,
        })
    }

    /// Sends `notice` to every open connection as the last line it will get, then shuts each
    /// one down. Shutting a socket down wakes the thread blocked reading it, which then leaves
    /// as on any disconnect.
    pub fn close_all(&self, notice: &str) {
        // Copy the list and release its lock: the writes below may block (up to the write
        // timeout, for a client that stopped reading).
        let clients = self.clients().clone();
        // Everyone hears the notice before anyone is closed, and nothing after it: closing
        // alice first would otherwise send `* alice left` to the others ahead of the notice.
        for client in &clients {
            client.send_last(notice);
        }
        for client in &clients {
            client.close();
        }
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
        client: &Arc<Client>,
    ) -> Result<Membership, JoinError> {
        let member = Arc::new(Member {
            name: name.to_string(),
            client: Arc::clone(client),
        });
        // Hold the newcomer's own writer until its welcome is written, so that no broadcast
        // can reach it first.
        let writer = client.writer.lock().unwrap_or_else(PoisonError::into_inner);
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
        let _ = writeln!(console, "joined {name} from {}", client.peer);
        let _ = writeln!(console, "online: {online}");
        drop(console);
        client.write_locked(&writer, &format!("welcome {name}! online: {online}"));
        drop(writer);
        send_to(&others, &format!("* {name} joined"));
        Ok(Membership {
            room: Arc::clone(self),
            member,
        })
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
        member.client.send(line);
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

impl Client {
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
                say_err!("error: writing to {}: {cause}; disconnecting it", self.peer);
                // Shutting the socket down wakes the client's own thread from read(), and
                // that thread then leaves the room as on any other disconnect.
                let _ = writer.shutdown(Shutdown::Both);
                false
            }
        }
    }

    /// Writes `line` as the last line this client gets: nothing is written to it afterwards.
    fn send_last(&self, line: &str) {
        let writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        self.write_locked(&writer, line);
        self.dead.store(true, Ordering::Release);
    }

    /// Marks the connection closed and shuts the socket down in both directions.
    fn close(&self) {
        // TODO(ch07): Set `dead` (`Ordering::Release`), so nobody writes to this client again,
        // then lock `writer` (so no line is cut in half) and `shutdown(Shutdown::Both)` the
        // socket, ignoring errors. Shutting down, unlike dropping our handle, reaches the one
        // socket behind every handle: the connection's thread, blocked in `read`, wakes with end
        // of file. Book: Closing connections to wake readers.
        let _ = (&self.dead, &self.writer);
        todo!("ch07: shut this connection down (book: Closing connections to wake readers)")
    }
}

/// A connection's entry in the room's list of connections; dropping it removes the entry.
pub struct Registration {
    room: Arc<Room>,
    client: Arc<Client>,
}

impl Registration {
    /// The connection, as the other threads see it.
    pub fn client(&self) -> &Arc<Client> {
        &self.client
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.room
            .clients()
            .retain(|client| !Arc::ptr_eq(client, &self.client));
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
        // As with joining: those still here at the moment of leaving hear about it, nobody
        // who comes later; and the console before the room, so its lines keep the room's order.
        let mut console = io::stdout().lock();
        let (online, others) = {
            let mut members = self.room.members();
            members.retain(|member| !Arc::ptr_eq(member, &self.member));
            (online_names(&members), members.clone())
        };
        let name = &self.member.name;
        let peer = self.member.client.peer;
        // `drop` may run while a panic unwinds, when a second panic would abort the whole
        // server: so no println! here (it panics if standard output is gone).
        let _ = writeln!(console, "left {name} ({peer})");
        let _ = writeln!(console, "online: {online}");
        drop(console);
        send_to(&others, &format!("* {name} left"));
    }
}
