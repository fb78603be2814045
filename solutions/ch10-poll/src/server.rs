//! The event loop: one thread serves every connection.
//!
//! ```text
//!        ┌──────────────────────────────────────────────────────────────┐
//!        v                                                              │
//!  poll(timeout = earliest deadline) ──> events: listener readable ─> accept until WouldBlock
//!                                                socket readable ───> read until WouldBlock
//!                                                                     (or its budget), lines
//!                                                                     to the session, lines
//!                                                                     queued for others
//!                                                socket writable ───> write what waits
//!                                                waker ─────────────> start the shutdown
//!        then: deadlines that came due; then every connection with new output is written
//!        to, once, and keeps WRITABLE interest only if something is still waiting ──────┘
//! ```
//!
//! mio is edge-triggered: an event says "something changed", once. A socket that is not read
//! until `WouldBlock` is never reported again for the bytes left in it.

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mio::event::Event;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

use crate::conn::{Closing, Conn, DRAIN_BYTES, DRAIN_TIME};
use crate::line::{self, Line, MAX_LINE};
use crate::output::WRITE_TIMEOUT;
use crate::room::{Outbox, Room};
use crate::session::{self, Next, PROMPT, Phase};
use crate::timers::Timers;

/// The listening socket's token (and its timer's, when accepting is paused).
pub const LISTENER: Token = Token(usize::MAX - 1);
/// The waker's token: the signal handler's thread wakes the loop with it.
pub const WAKER: Token = Token(usize::MAX - 2);
/// The shutdown's bound, in the timer heap.
const SHUTDOWN: Token = Token(usize::MAX - 3);

/// How long to wait before accepting again after `accept` failed (for example when the
/// process has run out of file descriptors): long enough not to spin, short enough to recover.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(100);

/// How long a shutdown waits for its notices to be written and read before it closes every
/// connection anyway, so that the whole shutdown fits in 2 s.
pub const NOTICE_DEADLINE: Duration = Duration::from_secs(1);

/// The last line of a client whose output buffer filled up.
pub const TOO_SLOW: &str = "error: too slow, disconnected";

/// The kernel's send buffer for each client. Left alone, Linux grows it up to 4 MiB for a
/// client that stops reading: a second queue, out of `--queue-lines`' reach. 64 KiB is many
/// lines of chat.
pub const SEND_BUFFER: usize = 64 * 1024;

/// The notice every client gets as its last line when the server shuts down.
pub const NOTICE: &str = "* server is shutting down";

/// How many lines may wait for a client before they are written in the middle of a turn
/// rather than at its end: batching saves system calls, and this bounds what the batching
/// holds (a turn that handles a thousand clients leaving queues a thousand notices for each
/// of the others).
pub const EAGER_LINES: usize = 64;

/// Bytes per `read` call.
const READ_CHUNK: usize = 16 * 1024;

/// Bytes read from one connection per turn of the loop, at most: a client that floods us is
/// read again on the next turn, after everyone else has had theirs.
pub const READ_BUDGET: usize = 64 * 1024;

/// The server's options, from the command line.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How many connections may be open at once (`--max-clients`).
    pub max_clients: usize,
    /// How long a new client has to choose a name (`--login-timeout`).
    pub login_timeout: Duration,
    /// How many lines may wait for one client (`--queue-lines`).
    pub queue_lines: usize,
}

// ANCHOR: server
/// Everything the loop owns: the poller, the listener, every connection, the room and the
/// deadlines. No lock anywhere: only this thread touches any of it.
pub struct Server {
    /// The poller: every socket, the waker, and what each is registered for.
    poll: Poll,
    /// `None` once the shutdown has begun.
    listener: Option<TcpListener>,
    /// The connections, indexed by their token; `None` marks a free slot.
    conns: Vec<Option<Conn>>,
    /// Free slots in `conns`, reused before the vector grows.
    free: Vec<usize>,
    /// How many connections are open: the cap counts them, from accept to the last close.
    open: usize,
    /// Who is online.
    room: Room,
    /// Every deadline, earliest first.
    timers: Timers,
    /// The command line's limits.
    settings: Settings,
    /// Set by the signal handler's thread, which then wakes the loop.
    stop: Arc<AtomicBool>,
    /// The shutdown has begun: nothing is accepted, nothing but the notice is sent.
    shutting_down: bool,
    /// Accepting failed (out of descriptors?): wait for the listener's timer.
    accept_paused: bool,
    /// Connections whose read budget ran out with input left: read again next turn.
    readable: VecDeque<Token>,
    /// Connections with new output: written to at the end of this turn.
    dirty: Vec<Token>,
    /// Connections whose output buffer is full (token, generation): dropped at the end of
    /// this turn.
    too_slow: Vec<(Token, u64)>,
    /// Connections a write to failed (token, generation): closed at the end of this turn.
    broken: Vec<(Token, u64)>,
    /// Numbers every connection ever accepted (see [`Conn::generation`]).
    generations: u64,
    /// Where reads land before their lines are cut out: one buffer for all connections.
    scratch: Vec<u8>,
}
// ANCHOR_END: server

impl Server {
    /// A loop that will serve `listener` (registered already) with `settings`.
    pub fn new(
        poll: Poll,
        listener: TcpListener,
        settings: Settings,
        stop: Arc<AtomicBool>,
    ) -> Self {
        Server {
            poll,
            listener: Some(listener),
            conns: Vec::new(),
            free: Vec::new(),
            open: 0,
            room: Room::default(),
            timers: Timers::default(),
            settings,
            stop,
            shutting_down: false,
            accept_paused: false,
            readable: VecDeque::new(),
            dirty: Vec::new(),
            too_slow: Vec::new(),
            broken: Vec::new(),
            generations: 0,
            scratch: vec![0; READ_CHUNK],
        }
    }

    // ANCHOR: run
    /// Serves until a signal has shut everything down.
    pub fn run(mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        while !(self.shutting_down && self.open == 0) {
            // Sleep until something happens on a socket or the earliest deadline comes; not
            // at all if a connection still has input we left for the next turn.
            let timeout = if self.readable.is_empty() {
                self.timers.timeout(Instant::now())
            } else {
                Some(Duration::ZERO)
            };
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                // A signal arrived while we slept: its handler's thread wakes us properly.
                Err(err) if err.kind() == ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            }
            for event in events.iter() {
                self.on_event(event);
            }
            self.read_again();
            self.expire(Instant::now());
            self.settle();
        }
        Ok(())
    }
    // ANCHOR_END: run

    /// Handles one readiness event.
    fn on_event(&mut self, event: &Event) {
        match event.token() {
            WAKER => {
                if self.stop.load(Ordering::SeqCst) && !self.shutting_down {
                    self.begin_shutdown();
                }
            }
            LISTENER => {
                if !self.accept_paused {
                    self.accept_all();
                }
            }
            token => {
                if event.is_readable() || event.is_read_closed() || event.is_error() {
                    self.read_from(token);
                }
                if event.is_writable() {
                    self.mark_dirty(token);
                }
            }
        }
    }

    /// The open connection on `token`, if any.
    fn conn_mut(&mut self, token: Token) -> Option<&mut Conn> {
        self.conns.get_mut(token.0).and_then(Option::as_mut)
    }

    // ANCHOR: accept_all
    /// Accepts every connection waiting in the backlog: the listener, edge-triggered too, is
    /// reported again only when a new one arrives.
    fn accept_all(&mut self) {
        loop {
            let Some(listener) = &self.listener else {
                return;
            };
            match listener.accept() {
                Ok((stream, peer)) => self.admit(stream, peer),
                Err(err) if err.kind() == ErrorKind::WouldBlock => return,
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => {
                    // Most likely out of descriptors (EMFILE): the connection stays in the
                    // backlog. Pause, then try again on a timer: no event will come for it.
                    say_err!("error: accepting a connection: {err}");
                    self.accept_paused = true;
                    let at = Instant::now() + ACCEPT_RETRY_DELAY;
                    self.timers.add(at, LISTENER, 0);
                    return;
                }
            }
        }
    }
    // ANCHOR_END: accept_all

    // ANCHOR: admit
    /// Takes a new connection in, or refuses it when every slot is taken.
    fn admit(&mut self, mut stream: TcpStream, peer: SocketAddr) {
        let max = self.settings.max_clients;
        if self.open >= max {
            refuse(stream, peer, max);
            return;
        }
        say!("connected {peer}");
        tune(&stream, peer);
        let index = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        let token = Token(index);
        if let Err(err) = self
            .poll
            .registry()
            .register(&mut stream, token, Interest::READABLE)
        {
            say_err!("error: setting up {peer}: {err}; refusing it for now");
            let _ = (&stream).write(b"error: server is busy, try again later\n");
            self.free.push(index);
            return;
        }
        self.generations += 1;
        let login_deadline = Instant::now() + self.settings.login_timeout;
        let conn = Conn::new(
            stream,
            peer,
            self.generations,
            login_deadline,
            self.settings.queue_lines,
        );
        self.conns[index] = Some(conn);
        self.open += 1;
        self.send(token, PROMPT);
        self.arm(token);
    }
    // ANCHOR_END: admit

    // ANCHOR: read_from
    /// Reads what the client on `token` sent, until `WouldBlock` or [`READ_BUDGET`] bytes.
    fn read_from(&mut self, token: Token) {
        let mut scratch = std::mem::take(&mut self.scratch);
        let mut budget = READ_BUDGET;
        while let Some(conn) = self.conn_mut(token) {
            if budget == 0 {
                // Fair to the others: the rest is read on the next turn of the loop. No
                // event will say so (it was reported once already), so remember it.
                if !conn.queued {
                    conn.queued = true;
                    self.readable.push_back(token);
                }
                break;
            }
            let chunk = scratch.len().min(budget);
            match (&conn.stream).read(&mut scratch[..chunk]) {
                // End of file: the client shut down its side (or vanished).
                Ok(0) => {
                    self.on_eof(token);
                    break;
                }
                Ok(n) => {
                    budget -= n;
                    self.on_bytes(token, &scratch[..n]);
                }
                // Drained: the next event for this socket will come when more arrives.
                Err(err) if err.kind() == ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => {
                    let peer = conn.peer;
                    if err.kind() != ErrorKind::ConnectionReset {
                        say_err!("error: serving {peer}: {err}");
                    }
                    self.close_now(token);
                    break;
                }
            }
        }
        self.scratch = scratch;
    }
    // ANCHOR_END: read_from

    /// Reads again the connections whose budget ran out last turn, in the order they ran out.
    fn read_again(&mut self) {
        for _ in 0..self.readable.len() {
            let Some(token) = self.readable.pop_front() else {
                break;
            };
            if let Some(conn) = self.conn_mut(token) {
                conn.queued = false;
                self.read_from(token);
            }
        }
    }

    // ANCHOR: on_bytes
    /// Cuts the lines out of `bytes` and hands each to the session.
    fn on_bytes(&mut self, token: Token, bytes: &[u8]) {
        let Some(conn) = self.conns.get_mut(token.0).and_then(Option::as_mut) else {
            return;
        };
        match &mut conn.closing {
            // On its way out: what the client still sends is discarded, within a bound.
            Some(Closing::Draining { left, .. }) => {
                *left = left.saturating_sub(bytes.len() as u64);
                if *left == 0 {
                    self.close_now(token);
                }
                return;
            }
            Some(Closing::Flushing) => return,
            None => {}
        }
        let mut input = bytes;
        loop {
            let Some(conn) = self.conns.get_mut(token.0).and_then(Option::as_mut) else {
                return;
            };
            let Some(line) = line::split_line(&mut conn.input, &mut input) else {
                return;
            };
            let text = match line {
                Line::Text(text) => text,
                Line::TooLong => {
                    self.send(
                        token,
                        &format!("error: line too long (max {MAX_LINE} bytes)"),
                    );
                    self.begin_close(token);
                    return;
                }
            };
            let mut out = Outbox::default();
            let next = session::on_line(
                &mut self.room,
                token,
                conn.peer,
                conn.phase,
                &text,
                &mut out,
            );
            if let Next::Stay(phase) = next {
                conn.phase = phase;
            }
            self.deliver(out);
            if next == Next::Close {
                self.begin_close(token);
                return;
            }
        }
    }
    // ANCHOR_END: on_bytes

    /// The client shut down its side: it leaves, once what waits for it is written.
    fn on_eof(&mut self, token: Token) {
        let Some(conn) = self.conn_mut(token) else {
            return;
        };
        conn.eof = true;
        match conn.closing {
            Some(Closing::Draining { .. }) => self.close_now(token),
            Some(Closing::Flushing) => {}
            None => self.begin_close(token),
        }
    }

    /// Queues every line of `out` on its connection.
    fn deliver(&mut self, out: Outbox) {
        for (to, line) in out.lines {
            self.send(to, &line);
        }
    }

    // ANCHOR: send
    /// Queues `line` for the client on `to`; it is written at the end of this turn, or at
    /// once when [`EAGER_LINES`] wait. A client whose buffer is full, even after a write, is
    /// dropped as too slow.
    fn send(&mut self, to: Token, line: &str) {
        if self.shutting_down {
            // Nothing but the notice from now on (it is queued directly).
            return;
        }
        let now = Instant::now();
        let Some(conn) = self.conn_mut(to) else {
            return;
        };
        if conn.broken {
            return;
        }
        if conn.output.push(line, now).is_ok() {
            let eager = conn.output.lines() >= EAGER_LINES && !conn.writable;
            self.mark_dirty(to);
            if eager {
                self.write_now(to);
            }
            return;
        }
        // Full: perhaps only because this turn queued a lot. Let the kernel take what it can.
        self.write_now(to);
        let Some(conn) = self.conn_mut(to) else {
            return;
        };
        if conn.broken || conn.output.push(line, now).is_ok() {
            return;
        }
        let generation = conn.generation;
        self.too_slow.push((to, generation));
    }

    /// Writes what waits for `to` now, in the middle of a turn. A failed write marks the
    /// connection broken, to be closed when the turn settles: closing it here would tell the
    /// others it left, in the middle of telling them something else.
    fn write_now(&mut self, to: Token) {
        let Some(conn) = self.conn_mut(to) else {
            return;
        };
        if let Err(err) = conn.write_pending() {
            let generation = conn.generation;
            self.broke(to, generation, &err);
        }
    }

    /// Records that writing to `token` failed: nothing more is queued for it, and
    /// [`Server::settle`] closes it.
    fn broke(&mut self, token: Token, generation: u64, err: &io::Error) {
        let Some(conn) = self.conn_mut(token) else {
            return;
        };
        // The client has gone (a reset, a broken pipe): not news, it leaves as on end of
        // file. Anything else is.
        if !matches!(
            err.kind(),
            ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
        ) {
            say_err!("error: writing to {}: {err}", conn.peer);
        }
        conn.broken = true;
        self.broken.push((token, generation));
    }
    // ANCHOR_END: send

    /// Puts `token` on the list of connections to write to at the end of this turn (once).
    fn mark_dirty(&mut self, token: Token) {
        let Some(conn) = self.conn_mut(token) else {
            return;
        };
        if !conn.dirty {
            conn.dirty = true;
            self.dirty.push(token);
        }
    }

    /// Finishes a turn: drops the clients found too slow, and writes to every connection
    /// with new output, until neither leaves more work (a drop tells the others someone left).
    fn settle(&mut self) {
        while !(self.dirty.is_empty() && self.too_slow.is_empty() && self.broken.is_empty()) {
            for (token, generation) in std::mem::take(&mut self.broken) {
                if self
                    .conn_mut(token)
                    .is_some_and(|conn| conn.generation == generation)
                {
                    self.close_now(token);
                }
            }
            for (token, generation) in std::mem::take(&mut self.too_slow) {
                self.drop_too_slow(token, generation);
            }
            for token in std::mem::take(&mut self.dirty) {
                self.flush(token);
            }
        }
    }

    // ANCHOR: flush
    /// Writes what waits for `token`, keeps WRITABLE interest only while something still
    /// waits, and moves a closing connection on once its last line is out.
    fn flush(&mut self, token: Token) {
        let registry = self.poll.registry();
        let Some(conn) = self.conns.get_mut(token.0).and_then(Option::as_mut) else {
            return;
        };
        conn.dirty = false;
        if conn.broken {
            return;
        }
        if let Err(err) = conn.write_pending() {
            let generation = conn.generation;
            self.broke(token, generation, &err);
            return;
        }
        let waiting = !conn.output.is_empty();
        if waiting != conn.writable {
            let interest = if waiting {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            if let Err(err) = registry.reregister(&mut conn.stream, token, interest) {
                say_err!("error: serving {}: {err}", conn.peer);
                self.close_now(token);
                return;
            }
            conn.writable = waiting;
        }
        if !waiting && conn.closing == Some(Closing::Flushing) {
            // The last line is out: stop sending (the client reads it, then end of file).
            let _ = conn.stream.shutdown(Shutdown::Write);
            if conn.eof {
                self.close_now(token);
                return;
            }
            conn.closing = Some(Closing::Draining {
                until: Instant::now() + DRAIN_TIME,
                left: DRAIN_BYTES,
            });
        }
        self.arm(token);
    }
    // ANCHOR_END: flush

    /// Starts closing `token` gracefully: it leaves the room now, its last lines are written,
    /// then it is drained and closed.
    fn begin_close(&mut self, token: Token) {
        let Some(conn) = self.conn_mut(token) else {
            return;
        };
        if conn.closing.is_some() {
            return;
        }
        conn.closing = Some(Closing::Flushing);
        conn.input = Vec::new();
        let peer = conn.peer;
        let mut out = Outbox::default();
        self.room.leave(token, peer, &mut out);
        self.deliver(out);
        self.mark_dirty(token);
    }

    // ANCHOR: close_now
    /// Closes `token` at once: it leaves the room (if it was in it), its socket is
    /// deregistered and closed, and its slot is free.
    fn close_now(&mut self, token: Token) {
        let Some(mut conn) = self.conns.get_mut(token.0).and_then(Option::take) else {
            return;
        };
        let mut out = Outbox::default();
        self.room.leave(token, conn.peer, &mut out);
        let _ = self.poll.registry().deregister(&mut conn.stream);
        self.free.push(token.0);
        self.open -= 1;
        // Dropping the stream closes the socket.
        drop(conn.stream);
        say!("disconnected {}", conn.peer);
        self.deliver(out);
    }
    // ANCHOR_END: close_now

    // ANCHOR: drop_too_slow
    /// Drops a client whose output buffer is full (chapter 9's slow-consumer policy): the lines
    /// not yet started are thrown away, `error: too slow, disconnected` becomes its last line,
    /// it leaves the room at once, and its connection closes once that line is out (or its
    /// write deadline passes).
    fn drop_too_slow(&mut self, token: Token, generation: u64) {
        let Some(conn) = self.conn_mut(token) else {
            return;
        };
        if conn.generation != generation || conn.closing.is_some() {
            return;
        }
        say!(
            "too slow {}: {} lines waiting, its queue is full; disconnecting it",
            conn.peer,
            conn.output.lines()
        );
        let now = Instant::now();
        conn.output.discard_unstarted();
        conn.output.push_anyway(TOO_SLOW, now);
        // The last line gets a write deadline of its own, from now.
        conn.output.restart_deadline(now);
        self.begin_close(token);
    }
    // ANCHOR_END: drop_too_slow

    // ANCHOR: arm
    /// Makes sure the timer heap holds `token`'s earliest deadline.
    fn arm(&mut self, token: Token) {
        let Some(conn) = self.conns.get_mut(token.0).and_then(Option::as_mut) else {
            return;
        };
        let Some(next) = conn.next_deadline() else {
            return;
        };
        if conn.armed.is_none_or(|armed| next < armed) {
            self.timers.add(next, token, conn.generation);
            conn.armed = Some(next);
        }
    }
    // ANCHOR_END: arm

    // ANCHOR: expire
    /// Handles every deadline that has come; drops the stale ones.
    fn expire(&mut self, now: Instant) {
        while let Some((at, token, generation)) = self.timers.pop_due(now) {
            match token {
                LISTENER => {
                    self.accept_paused = false;
                    self.accept_all();
                }
                SHUTDOWN => {
                    for index in 0..self.conns.len() {
                        self.close_now(Token(index));
                    }
                }
                token => {
                    let Some(conn) = self.conn_mut(token) else {
                        continue;
                    };
                    // Lazy invalidation: a deadline for a closed connection, an earlier one
                    // on this token, or one replaced by an earlier deadline, is ignored.
                    if conn.generation != generation || conn.armed != Some(at) {
                        continue;
                    }
                    conn.armed = None;
                    self.expire_conn(token, now);
                    self.arm(token);
                }
            }
        }
    }
    // ANCHOR_END: expire

    /// Applies whichever of `token`'s deadlines have passed.
    fn expire_conn(&mut self, token: Token, now: Instant) {
        let login_timeout = self.settings.login_timeout;
        let Some(conn) = self.conn_mut(token) else {
            return;
        };
        let peer = conn.peer;
        if conn.output.deadline().is_some_and(|at| at <= now) {
            say_err!(
                "error: writing to {peer}: it could not take its lines within {} s (not \
                 reading?); disconnecting it",
                WRITE_TIMEOUT.as_secs()
            );
            self.close_now(token);
            return;
        }
        match conn.closing {
            Some(Closing::Draining { until, .. }) if until <= now => self.close_now(token),
            None if conn.phase == Phase::ChoosingName && conn.login_deadline <= now => {
                say!(
                    "timed out {peer}: no username within {} s",
                    login_timeout.as_secs_f64()
                );
                self.send(token, "error: timed out waiting for a username");
                self.begin_close(token);
            }
            _ => {}
        }
    }

    // ANCHOR: begin_shutdown
    /// Stops accepting, queues the notice as every connection's last line, and gives the
    /// notices [`NOTICE_DEADLINE`] to be written before everything is closed.
    fn begin_shutdown(&mut self) {
        say!("shutting down");
        self.shutting_down = true;
        if let Some(mut listener) = self.listener.take() {
            let _ = self.poll.registry().deregister(&mut listener);
            // Dropping it closes it: from now on, connecting is refused at once.
        }
        let now = Instant::now();
        for index in 0..self.conns.len() {
            let Some(conn) = self.conns[index].as_mut() else {
                continue;
            };
            // On its way out already: its last line (`bye`, an error) stays its last line.
            if conn.closing.is_some() {
                continue;
            }
            // An unfinished line is dropped, never relayed as if it were complete.
            conn.input = Vec::new();
            conn.output.push_anyway(NOTICE, now);
            conn.closing = Some(Closing::Flushing);
            self.mark_dirty(Token(index));
        }
        self.timers.add(now + NOTICE_DEADLINE, SHUTDOWN, 0);
    }
    // ANCHOR_END: begin_shutdown
}

// ANCHOR: tune
/// Sets a new connection up as chapter 9 does.
fn tune(stream: &TcpStream, peer: SocketAddr) {
    // Lines are batched per turn already: Nagle's algorithm would only hold a batch back,
    // waiting for an acknowledgement, and add latency.
    if let Err(err) = stream.set_nodelay(true) {
        say_err!("error: setting TCP_NODELAY for {peer}: {err}");
    }
    // Bound what waits in the kernel, so that the output buffer's bound means something.
    if let Err(err) = set_send_buffer(stream, SEND_BUFFER) {
        say_err!("error: setting the send buffer for {peer}: {err}");
    }
}
// ANCHOR_END: tune

/// Sets the socket's send buffer (`SO_SNDBUF`) to about `bytes`.
#[cfg(unix)]
fn set_send_buffer(stream: &TcpStream, bytes: usize) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let size = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
    // SAFETY: setsockopt reads one c_int through a valid pointer, on a descriptor we own.
    let set = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            std::ptr::from_ref(&size).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if set == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Elsewhere the system's default stands.
#[cfg(not(unix))]
fn set_send_buffer(_stream: &TcpStream, _bytes: usize) -> io::Result<()> {
    Ok(())
}

/// Tells a client the server is full and closes the connection.
fn refuse(stream: TcpStream, peer: SocketAddr, max: usize) {
    say!("refused {peer}: server is full ({max}/{max})");
    let _ = (&stream)
        .write(format!("error: server is full ({max}/{max}), try again later\n").as_bytes());
    // Closing a socket with unread input sends a reset, which can destroy the line we just
    // wrote. Discard what has already arrived (the socket never blocks), then close.
    let _ = stream.shutdown(Shutdown::Write);
    let _ = (&stream).read(&mut [0u8; 4096]);
}
