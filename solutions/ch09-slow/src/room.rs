//! The room: every client that has chosen a name, and every open connection, so that a
//! shutdown can reach them all.
//!
//! New in chapter 9: nobody writes to another client's socket. Each client has a bounded
//! queue of lines ([`Outbox`]) and a writer thread of its own that empties it; sending a line
//! to someone only queues it, which never waits for them. A client whose queue is full is too
//! slow: it is told so, when possible, and disconnected, and the room goes on at the speed of
//! everyone else.
//!
//! Queuing never blocks, so the room's lock can be held while lines are queued: every client
//! hears joins, leaves and chat in the one order in which the room saw them.

use std::fmt;
use std::io::{self, ErrorKind, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::outbox::{Line, Outbox, Refused};

/// How long a client's writer may take to hand one batch of lines to the kernel, in total,
/// before the client is disconnected: a deadline for the batch, not a timeout per system call.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a shutdown waits for the writers to deliver the notice before it closes every
/// connection anyway, so that the whole shutdown fits in 2 s.
pub const NOTICE_DEADLINE: Duration = Duration::from_secs(1);

/// What a client whose queue is full is told, as its last line.
pub const TOO_SLOW: &str = "error: too slow, disconnected";

// ANCHOR: client
/// One open connection, as every thread sees it: where lines to that client go.
pub struct Client {
    /// Where the client connects from (for the console).
    pub peer: SocketAddr,
    /// A second handle on the client's socket (dup): the writer thread writes to it, and a
    /// shutdown or a drop shuts it down.
    stream: TcpStream,
    /// The lines waiting for the writer thread.
    outbox: Outbox,
}
// ANCHOR_END: client

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
}

// ANCHOR: room
/// Every client that has chosen a name. Share it between threads as `Arc<Room>`.
pub struct Room {
    /// The members, in joining order. Held while lines are queued for them (queuing never
    /// waits), never across I/O.
    members: Mutex<Vec<Arc<Member>>>,
    /// Every open connection, named or not. Locked only to change or copy the list.
    clients: Mutex<Vec<Arc<Client>>>,
    /// The console's turn: taken while the member list is still locked and held while a join
    /// or leave is printed, after the list is let go. So the console lists changes in the
    /// order the room saw them, and a console nobody reads (a full pipe) holds up the next
    /// join or leave, never the list that every chat line needs.
    console: Mutex<()>,
    /// How many lines may wait for one client.
    queue_lines: usize,
}
// ANCHOR_END: room

impl Room {
    /// An empty room whose clients may each have `queue_lines` lines waiting.
    pub fn new(queue_lines: usize) -> Room {
        Room {
            members: Mutex::default(),
            clients: Mutex::default(),
            console: Mutex::default(),
            queue_lines,
        }
    }

    /// Locks the member list.
    fn members(&self) -> MutexGuard<'_, Vec<Arc<Member>>> {
        // A thread that panicked while holding this lock left the list whole: every change to
        // it is a single push or retain. So a poisoned lock is safe to go on using.
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Prints a join or a leave on the console once `members`, the locked list, is let go.
    /// The console's turn is taken first, while the list is still held, so no later change
    /// prints before this one (the lock order is the list, then the console; the turn guards
    /// no data, so poisoning is harmless).
    fn print_after(&self, members: MutexGuard<'_, Vec<Arc<Member>>>, text: fmt::Arguments<'_>) {
        let turn = self.console.lock().unwrap_or_else(PoisonError::into_inner);
        drop(members);
        say!("{text}");
        drop(turn);
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
        let client = Arc::new(Client {
            peer,
            // A second handle on the same socket (dup), for the writer thread.
            stream: stream.try_clone()?,
            outbox: Outbox::new(self.queue_lines),
        });
        self.clients().push(Arc::clone(&client));
        Ok(Registration {
            room: Arc::clone(self),
            client,
        })
    }

    // ANCHOR: close_all
    /// Queues `notice` as the last line of every open connection, gives the writers
    /// [`NOTICE_DEADLINE`] to deliver it, then shuts every connection down: a writer stuck on
    /// a client that stopped reading fails at once, and every connection's thread wakes from
    /// its read and leaves as on any disconnect.
    pub fn close_all(&self, notice: &str) {
        let clients = self.clients().clone();
        let notice: Line = Arc::from(notice);
        // Closing each queue behind the notice means nothing can follow it: a sender that
        // comes later is refused, so nobody hears `* alice left` after the notice.
        for client in &clients {
            client.outbox.push_last(Arc::clone(&notice));
        }
        // One deadline for all of them: the writers work at the same time, so waiting for
        // each in turn costs no more than waiting for the slowest.
        let deadline = Instant::now() + NOTICE_DEADLINE;
        for client in &clients {
            client.outbox.wait_stopped(deadline);
        }
        for client in &clients {
            let _ = client.stream.shutdown(Shutdown::Both);
        }
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
        let mut members = self.members();
        // Check and claim under one lock: two clients asking for the same name at the same
        // moment cannot both get it.
        if members.iter().any(|m| m.name.eq_ignore_ascii_case(name)) {
            return Err(JoinError::Taken);
        }
        // Everything below only queues lines, so it is done under the lock: the notice reaches
        // exactly those who were here before, the welcome is queued before any broadcast can
        // see the newcomer, and no other join, leave or chat line can come in between.
        let joined: Line = Arc::from(format!("* {name} joined"));
        for other in members.iter() {
            other.client.deliver(&joined);
        }
        members.push(Arc::clone(&member));
        let online = online_names(&members);
        client.send(&format!("welcome {name}! online: {online}"));
        // The console is I/O, and a write to it can block: printed after letting go of the
        // list. One console write for both lines, so no other thread's line comes in between.
        self.print_after(
            members,
            format_args!("joined {name} from {}\nonline: {online}", client.peer),
        );
        Ok(Membership {
            room: Arc::clone(self),
            member,
        })
    }
    // ANCHOR_END: claim_name

    // ANCHOR: broadcast
    /// Queues `line` for every member except `from`. Nothing here waits for a client.
    pub fn broadcast(&self, from: &Member, line: &str) {
        // Made once, shared by every queue.
        let line: Line = Arc::from(line);
        let members = self.members();
        for member in members.iter() {
            if !std::ptr::eq(member.as_ref(), from) {
                member.client.deliver(&line);
            }
        }
    }
    // ANCHOR_END: broadcast
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
    /// Queues `line` for this client. False if the client is leaving or was disconnected.
    pub fn send(&self, line: &str) -> bool {
        self.deliver(&Arc::from(line))
    }

    /// Queues `line` as the last line this client gets: nothing is queued after it, and the
    /// writer stops once it is written. False if the queue was closed already.
    pub fn send_last(&self, line: &str) -> bool {
        self.outbox.push_last(Arc::from(line))
    }

    /// No more lines for this client: its writer writes what is queued, then stops.
    pub fn finish(&self) {
        self.outbox.close();
    }

    /// Whether the server has given up on this client (dropped it as too slow, its writer
    /// failed, or a shutdown is under way): nothing more will be queued for it.
    pub fn is_closed(&self) -> bool {
        self.outbox.is_closed()
    }

    // ANCHOR: deliver
    /// Queues a shared line for this client; a client whose queue is full is dropped.
    fn deliver(&self, line: &Line) -> bool {
        match self.outbox.push(Arc::clone(line)) {
            Ok(()) => true,
            Err(Refused::Closed) => false,
            Err(Refused::Full) => {
                self.drop_too_slow();
                false
            }
        }
    }

    /// The slow-consumer policy: a client that has fallen a whole queue behind is told so,
    /// if its writer can still get the line through, and disconnected. Its lines are dropped
    /// with it, and the room goes on without waiting.
    fn drop_too_slow(&self) {
        let Some(waiting) = self.outbox.replace_with_last(Arc::from(TOO_SLOW)) else {
            return; // somebody else dropped it first
        };
        say!(
            "too slow {}: {waiting} lines waiting, its queue is full; disconnecting it",
            self.peer
        );
        // Wake the client's own thread from read() now, so that the room hears `* NAME left`
        // at once, not after the writer's deadline. Writing is not shut down: the writer may
        // still get the error line through.
        let _ = self.stream.shutdown(Shutdown::Read);
    }
    // ANCHOR_END: deliver

    /// Starts this client's writer thread, which writes everything queued for it until the
    /// queue is closed and empty, or a write fails.
    pub fn spawn_writer(self: &Arc<Self>) -> io::Result<JoinHandle<()>> {
        let client = Arc::clone(self);
        thread::Builder::new()
            .name(format!("writer {}", self.peer))
            .spawn(move || client.write_queued())
    }

    // ANCHOR: writer
    /// The writer thread: waits for lines, takes all that are waiting, and writes them in one
    /// call, so that under load many lines share one system call.
    fn write_queued(&self) {
        let mut batch: Vec<Line> = Vec::new();
        let mut bytes: Vec<u8> = Vec::new();
        while self.outbox.take_all(&mut batch) {
            bytes.clear();
            for line in batch.drain(..) {
                bytes.extend_from_slice(line.as_bytes());
                bytes.push(b'\n');
            }
            if let Err(err) = write_all_by(&self.stream, &bytes, Instant::now() + WRITE_TIMEOUT) {
                // A client that has gone (a reset, a broken pipe) is not news: its own thread
                // sees the same and says it left. One that stopped reading is.
                if err.kind() == ErrorKind::TimedOut {
                    say_err!(
                        "error: writing to {}: it could not take its lines within {} s (not \
                         reading?); disconnecting it",
                        self.peer,
                        WRITE_TIMEOUT.as_secs()
                    );
                }
                // Wake the client's own thread from read(): it leaves as on any disconnect.
                let _ = self.stream.shutdown(Shutdown::Both);
                break;
            }
        }
        self.outbox.writer_stopped();
    }
    // ANCHOR_END: writer
}

/// Writes all of `bytes` to `stream`, or fails with `TimedOut` once `deadline` passed.
///
/// A socket's write timeout (`SO_SNDTIMEO`) bounds one `write` call, and a call that hands the
/// kernel even one byte returns as a success: with the timeout alone, a client that takes a
/// few bytes every second could stretch one `write_all` for ever. So the time left until the
/// deadline is set again before every call.
pub fn write_all_by(mut stream: &TcpStream, bytes: &[u8], deadline: Instant) -> io::Result<()> {
    let mut rest = bytes;
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
/// the connection: `exit`, end of file, a reset, an error, a queue that overflowed, or a panic
/// (unwinding runs `drop` too). The name is free again at once, and everyone else hears
/// `* NAME left`.
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
        // Nothing more is queued for a client that has left (its goodbye, if any, is queued
        // already, as the last line).
        self.member.client.finish();
        let name = &self.member.name;
        let peer = self.member.client.peer;
        // As with joining: those still here at the moment of leaving hear about it, nobody
        // who comes later, and no other line can come in between.
        let mut members = self.room.members();
        members.retain(|member| !Arc::ptr_eq(member, &self.member));
        let left: Line = Arc::from(format!("* {name} left"));
        for other in members.iter() {
            other.client.deliver(&left);
        }
        let online = online_names(&members);
        // Printed as a join is. `drop` may run while a panic unwinds, when a second panic
        // would abort the whole server: say! never panics (println! does when standard output
        // is gone).
        self.room.print_after(
            members,
            format_args!("left {name} ({peer})\nonline: {online}"),
        );
    }
}
// ANCHOR_END: membership
