//! What each measured client does once in the room: one thread reads everything that arrives
//! and accounts for it ([`read_all`]), another sends the client's lines ([`send_all`]).
//!
//! Reading and writing on separate threads means a client keeps reading while a write blocks,
//! as a chat user's client does; reading in big chunks and stamping the arrival time once per
//! chunk keeps the generator's cost per delivery small (the book measures it).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::fleet::{Lines, is_timeout};
use super::system;
use super::tally::Tally;
use super::wire::{self, Received};

/// What the run's threads share.
pub struct Shared {
    /// Time zero: every stamp in a line is nanoseconds since this instant.
    pub epoch: Instant,
    /// Set when the run is over: a connection closing after it is no disconnection.
    pub stop: AtomicBool,
    /// How many readers have seen everyone in the room.
    pub ready: AtomicU32,
    /// Deliveries so far, over every reader (for the progress bar and to notice the end).
    pub deliveries: AtomicU64,
    /// Writers that have sent all their lines (or given up).
    pub writers_done: AtomicU32,
    /// Per client: its connection broke during the run.
    pub disconnected: Vec<AtomicBool>,
    /// The first `error:` line any client received.
    pub first_error: Mutex<Option<String>>,
}

impl Shared {
    /// Shared state for `clients` clients, time zero now.
    pub fn new(clients: u32) -> Shared {
        Shared {
            epoch: Instant::now(),
            stop: AtomicBool::new(false),
            ready: AtomicU32::new(0),
            deliveries: AtomicU64::new(0),
            writers_done: AtomicU32::new(0),
            disconnected: (0..clients).map(|_| AtomicBool::new(false)).collect(),
            first_error: Mutex::new(None),
        }
    }

    /// Nanoseconds from time zero to `at`.
    pub fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }

    /// Notes that client `me`'s connection broke, unless the run is over.
    fn lost_connection(&self, me: u32) {
        if !self.stop.load(Ordering::SeqCst) {
            self.disconnected[me as usize].store(true, Ordering::SeqCst);
        }
    }
}

/// What a reader needs to know about the run.
#[derive(Debug, Clone)]
pub struct ReadSpec {
    pub clients: u32,
    pub lines: u32,
    pub size: usize,
    /// The run's name prefix, and how many of its names must be online before the room is
    /// complete (named servers); 0 for a server without names (probes instead).
    pub prefix: String,
    pub need_online: u32,
    /// Set `TCP_QUICKACK` after every read.
    pub quickack: bool,
}

/// How long a reader blocks before looking at the stop flag again.
const READ_TICK: Duration = Duration::from_millis(200);

/// Reads until the run stops or the connection breaks, accounting for every line; returns
/// client `me`'s tally.
pub fn read_all(me: u32, mut lines: Lines, online: u32, spec: &ReadSpec, shared: &Shared) -> Tally {
    let mut tally = Tally::new(me, spec.clients, spec.lines);
    let mut online = online;
    let mut ready = false;
    let _ = lines.stream().set_read_timeout(Some(READ_TICK));
    loop {
        // Whatever the login left in the buffer comes first, then one read at a time.
        let now = shared.nanos(Instant::now());
        let before = tally.counts.deliveries;
        while let Some(line) = lines.next_line() {
            match wire::classify(line, spec.size) {
                Received::Load { sender, seq, nanos } => tally.record(sender, seq, nanos, now),
                Received::Probe => online = online.max(spec.need_online),
                Received::Joined(name) if is_ours(name, &spec.prefix) => online += 1,
                Received::Left(name) if is_ours(name, &spec.prefix) => {
                    online = online.saturating_sub(1);
                }
                Received::Error => {
                    tally.counts.error_lines += 1;
                    let mut first = shared
                        .first_error
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    first.get_or_insert_with(|| String::from_utf8_lossy(line).into_owned());
                }
                Received::Torn => tally.counts.torn += 1,
                Received::Joined(_) | Received::Left(_) | Received::Notice => {}
            }
        }
        shared
            .deliveries
            .fetch_add(tally.counts.deliveries - before, Ordering::Relaxed);
        if !ready && online >= spec.need_online {
            ready = true;
            shared.ready.fetch_add(1, Ordering::SeqCst);
        }
        match lines.fill() {
            // read() returning 0: the server closed the connection (or we shut it down).
            Ok(0) => break,
            Ok(_) => {
                if spec.quickack {
                    system::quickack(lines.stream());
                }
            }
            Err(err) if is_timeout(&err) => {
                if shared.stop.load(Ordering::SeqCst) {
                    return tally;
                }
            }
            Err(_) => break,
        }
    }
    // The connection is over: shut our end down too, which wakes this client's writer if it
    // is blocked sending. Otherwise it can stay blocked for a minute: a connection the server
    // closed while we kept sending can linger in the kernel (FIN-WAIT-2, window full) and
    // send no reset until the kernel gives up on it.
    let _ = lines.stream().shutdown(Shutdown::Both);
    shared.lost_connection(me);
    tally
}

/// Reads and forgets everything until the run stops (an idle client); notes a disconnection.
/// A small buffer of its own: a run may hold thousands of idle clients.
pub fn discard_all(me: u32, lines: Lines, shared: &Shared) {
    let stream = lines.into_stream();
    let mut stream = &*stream;
    let _ = stream.set_read_timeout(Some(READ_TICK));
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(err) if is_timeout(&err) => {
                if shared.stop.load(Ordering::SeqCst) {
                    return;
                }
            }
            Err(_) => break,
        }
    }
    shared.lost_connection(me);
}

/// Whether `name` is one of this run's clients.
fn is_ours(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|rest| rest.starts_with('-'))
}

/// What a writer needs to know about the run.
#[derive(Debug, Clone, Copy)]
pub struct WriteSpec {
    pub clients: u32,
    pub lines: u32,
    pub size: usize,
    /// Lines per second per client; `None` for as fast as possible.
    pub rate: Option<f64>,
    /// When the whole run must be over.
    pub deadline: Instant,
}

/// When line `seq` of client `me` is due, at `rate` lines per second per client from `start`.
/// The clients' schedules are staggered evenly, so that they do not all send at once.
pub fn due(start: Instant, rate: f64, me: u32, clients: u32, seq: u64) -> Instant {
    let offset = f64::from(me) / f64::from(clients);
    start + Duration::from_secs_f64((seq as f64 + offset) / rate)
}

/// Sends client `me`'s lines from `start` on; returns how many it sent.
///
/// With a rate, each line is stamped with the time it was due, not the time it went out: if
/// the server stalls, the lines queued behind the stall carry the wait in their latency
/// (measuring from the actual send would hide it: coordinated omission).
pub fn send_all(
    me: u32,
    stream: &TcpStream,
    spec: &WriteSpec,
    start: Instant,
    shared: &Shared,
) -> u64 {
    // A bound on every write, a little past the run's end: by then the run has stopped us.
    let left = spec.deadline.saturating_duration_since(Instant::now());
    let _ = stream.set_write_timeout(Some(left + Duration::from_secs(1)));
    let mut line = Vec::with_capacity(spec.size + 1);
    let mut sent = 0;
    for seq in 0..u64::from(spec.lines) {
        if shared.stop.load(Ordering::Relaxed) {
            break;
        }
        let stamp = match spec.rate {
            Some(rate) => {
                let due = due(start, rate, me, spec.clients, seq);
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                due
            }
            None => Instant::now(),
        };
        line.clear();
        wire::encode(&mut line, me, seq, shared.nanos(stamp), spec.size);
        if let Err(_err) = (&*stream).write_all(&line) {
            shared.lost_connection(me);
            break;
        }
        sent += 1;
    }
    shared.writers_done.fetch_add(1, Ordering::SeqCst);
    sent
}
