//! The room: every client that has chosen a name, in one list shared by all connection threads,
//! and, new in chapter 7, every open connection, so that a shutdown can reach them all.
//!
//! The list's lock is held only to add a client, remove one, or copy the list. Writing to
//! clients happens after the lock is released, each client behind a lock of its own, so a
//! client that stops reading can delay only the lines sent to it, and only until one line's
//! [`WRITE_TIMEOUT`] runs out: then it is disconnected. Joins and leaves are announced one at
//! a time, in the order the room changed.

use std::io::{self, ErrorKind, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// How long one line may take to reach a client's kernel buffer, in total, before that client
/// is disconnected: a deadline for the whole line, not a timeout per system call.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a shutdown waits for its notices to be written before it closes every connection
/// anyway: the notice to a client that stopped reading is given up, so that the whole
/// shutdown fits in 2 s.
pub const NOTICE_DEADLINE: Duration = Duration::from_secs(1);

/// One open connection, as every thread sees it: where lines to that client are written.
pub struct Client {
    /// Where the client connects from (for the console).
    pub peer: SocketAddr,
    /// A second handle on the client's socket (dup), for other threads to write to.
    stream: TcpStream,
    /// Whose turn it is to write to `stream`: a lock of its own, so two senders' lines to this
    /// client never interleave, and writing never needs the room's lock. It guards the turn,
    /// not the stream, so a shutdown can still cut a write that is stuck.
    write_turn: Mutex<()>,
    /// Set when a write failed or timed out, the client left, or the server is closing the
    /// connection: nobody writes to this client again (but for the shutdown notice).
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

// ANCHOR: room
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
    /// Every open connection, named or not. Locked only to change or copy the list.
    clients: Mutex<Vec<Arc<Client>>>,
}
// ANCHOR_END: room

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
        let client = Arc::new(Client {
            peer,
            stream: stream.try_clone()?,
            write_turn: Mutex::new(()),
            dead: AtomicBool::new(false),
        });
        self.clients().push(Arc::clone(&client));
        Ok(Registration {
            room: Arc::clone(self),
            client,
        })
    }

    // ANCHOR: close_all
    /// Sends `notice` to every open connection as the last line it will get, then shuts each
    /// one down, within [`NOTICE_DEADLINE`] however many clients have stopped reading. Shutting
    /// a socket down wakes the thread blocked reading it, which then leaves as on any
    /// disconnect.
    pub fn close_all(&self, notice: &str) {
        let clients = self.clients().clone();
        // From here on nothing but the notice is written: a sender that comes later finds
        // every client dead, so nobody hears `* alice left` before the notice.
        for client in &clients {
            client.dead.store(true, Ordering::Release);
        }
        let deadline = Instant::now() + NOTICE_DEADLINE;
        let (done, finished) = mpsc::channel();
        thread::scope(|scope| {
            // One thread per notice: a write stuck on a client that stopped reading must not
            // hold up the notices to everyone else.
            for client in &clients {
                let done = done.clone();
                let spawned = thread::Builder::new()
                    .name(format!("notice {}", client.peer))
                    .spawn_scoped(scope, move || {
                        client.send_last(notice, deadline);
                        let _ = done.send(());
                    });
                if let Err(err) = spawned {
                    say_err!("error: starting a thread to notify {}: {err}", client.peer);
                }
            }
            drop(done);
            // Every notice written, or the deadline passed: either way, close everything. A
            // write still stuck then fails at once, so the scope's threads all end.
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                if finished.recv_timeout(left).is_err() {
                    break;
                }
            }
            for client in &clients {
                client.close();
            }
        });
    }
    // ANCHOR_END: close_all

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
        client: &Arc<Client>,
    ) -> Result<Membership, JoinError> {
        let member = Arc::new(Member {
            name: name.to_string(),
            client: Arc::clone(client),
        });
        // Hold the newcomer's turn to write until its welcome is written, so that no broadcast
        // can reach it first.
        let turn = client.write_turn();
        // One announcement at a time: the console's lines and everyone's notices come out in
        // the order the room changed. The list itself is locked only for the change below.
        let announcing = self.announcing();
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
        // One console write for both lines, so no other thread's line comes in between.
        say!("joined {name} from {}\nonline: {online}", client.peer);
        client.write_in_turn(&turn, &format!("welcome {name}! online: {online}"));
        drop(turn);
        send_to(&others, &format!("* {name} joined"));
        drop(announcing);
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
    /// Waits for the turn to write to this client.
    fn write_turn(&self) -> MutexGuard<'_, ()> {
        self.write_turn
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes `line` and a newline to this client. A client whose write fails, or that cannot
    /// take the line within [`WRITE_TIMEOUT`] because it stopped reading, is disconnected;
    /// returns false then.
    pub fn send(&self, line: &str) -> bool {
        if self.dead.load(Ordering::Acquire) {
            return false;
        }
        let turn = self.write_turn();
        self.write_in_turn(&turn, line)
    }

    /// [`Client::send`], for a caller whose turn it is already: `_turn` proves it.
    fn write_in_turn(&self, _turn: &MutexGuard<'_, ()>, line: &str) -> bool {
        // Checked in our turn: another sender may have given up on this client while we
        // waited for it.
        if self.dead.load(Ordering::Acquire) {
            return false;
        }
        match write_line_by(&self.stream, line, Instant::now() + WRITE_TIMEOUT) {
            Ok(()) => true,
            Err(err) => {
                self.dead.store(true, Ordering::Release);
                // A client that has gone (a reset, a broken pipe) is not news: its own thread
                // sees the same and says it left. One that stopped reading is.
                if err.kind() == ErrorKind::TimedOut {
                    say_err!(
                        "error: writing to {}: it could not take a line within {} s (not \
                         reading?); disconnecting it",
                        self.peer,
                        WRITE_TIMEOUT.as_secs()
                    );
                }
                // Shutting the socket down wakes the client's own thread from read(), and
                // that thread then leaves the room as on any other disconnect.
                let _ = self.stream.shutdown(Shutdown::Both);
                false
            }
        }
    }

    /// Writes `line` as the last line this client gets, giving up at `deadline`.
    fn send_last(&self, line: &str, deadline: Instant) {
        let _turn = self.write_turn();
        let _ = write_line_by(&self.stream, line, deadline);
    }

    // ANCHOR: close
    /// Marks the connection closed and shuts the socket down in both directions, without
    /// waiting for the turn to write: a write stuck on a client that stopped reading fails at
    /// once.
    fn close(&self) {
        self.dead.store(true, Ordering::Release);
        let _ = self.stream.shutdown(Shutdown::Both);
    }
    // ANCHOR_END: close
}

/// Writes `line` and a newline to `stream`, or fails with `TimedOut` once `deadline` passed.
///
/// A socket's write timeout (`SO_SNDTIMEO`) bounds one `write` call, and a call that hands the
/// kernel even one byte returns as a success: with the timeout alone, a client that takes a
/// few bytes every second could stretch one `write_all` for ever. So the time left until the
/// deadline is set again before every call.
fn write_line_by(mut stream: &TcpStream, line: &str, deadline: Instant) -> io::Result<()> {
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(ErrorKind::TimedOut, "write deadline passed"));
        }
        stream.set_write_timeout(Some(left))?;
        match stream.write(rest) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => rest = &rest[n..],
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
        // Nobody writes to a client that has left (a sender may still hold a copy of the list).
        self.member.client.dead.store(true, Ordering::Release);
        // As with joining: those still here at the moment of leaving hear about it, nobody
        // who comes later, and no announcement can come in between. The name is free as soon
        // as the list's lock is released, but whoever takes it next announces that only after
        // this leaving has been announced to everyone.
        let announcing = self.room.announcing();
        let (online, others) = {
            let mut members = self.room.members();
            members.retain(|member| !Arc::ptr_eq(member, &self.member));
            (online_names(&members), members.clone())
        };
        let name = &self.member.name;
        let peer = self.member.client.peer;
        // `drop` may run while a panic unwinds, when a second panic would abort the whole
        // server: say! never panics (println! does when standard output is gone).
        say!("left {name} ({peer})\nonline: {online}");
        send_to(&others, &format!("* {name} left"));
        drop(announcing);
    }
}
// ANCHOR_END: membership
