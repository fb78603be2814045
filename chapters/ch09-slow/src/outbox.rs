//! A bounded queue of lines for one client: many producers (every thread that sends the
//! client a line) and one consumer (the client's writer thread).
//!
//! ```text
//!  alice's thread ──┐                         ┌──────────── writer thread ───> socket
//!  bob's thread   ──┼─ push ─> [ l1 l2 l3 ] ──┤ take_all: every line queued,
//!  the shutdown   ──┘  never     at most N    │ written in one system call
//!                      blocks    lines        └─ waits on a Condvar while empty
//! ```
//!
//! Pushing never waits for the client: a full queue refuses the line instead, and the caller
//! decides what that means (in this server, the client is too slow and is disconnected).

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// A line on its way to clients, without its newline. One broadcast line is shared by every
/// recipient's queue: cloning it copies a pointer, not the text.
pub type Line = Arc<str>;

/// Why [`Outbox::push`] refused a line.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The queue holds its limit already: the client is not keeping up.
    Full,
    /// The queue is closed: the client is leaving, or was disconnected.
    Closed,
}

/// The lines waiting for one client, and the two conditions threads wait for.
pub struct Outbox {
    queue: Mutex<Queue>,
    /// Signalled when a line arrives or the queue closes: the writer waits on it.
    ready: Condvar,
    /// Signalled when the writer has stopped: a shutdown waits on it.
    stopped: Condvar,
    /// The most lines that may wait.
    limit: usize,
}

/// What the lock guards: the lines, and where the queue is in its life.
struct Queue {
    lines: VecDeque<Line>,
    /// No more lines are accepted; the writer writes what is queued, then stops.
    closed: bool,
    /// The writer has stopped, and nothing will be written any more.
    writer_stopped: bool,
}

impl Outbox {
    /// An empty, open queue that holds at most `limit` lines.
    pub fn new(limit: usize) -> Self {
        Outbox {
            queue: Mutex::new(Queue {
                lines: VecDeque::new(),
                closed: false,
                writer_stopped: false,
            }),
            ready: Condvar::new(),
            stopped: Condvar::new(),
            limit,
        }
    }

    /// How many lines may wait.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Whether the queue takes no more lines: the client is leaving, was dropped, or the
    /// server is shutting down.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Every change under this lock is one push, one drain or one flag: a thread that
        // panicked while holding it left the queue whole.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `line` for the writer, without waiting: a full or closed queue refuses it.
    pub fn push(&self, line: Line) -> Result<(), Refused> {
        // TODO(ch09): Queue the line for the writer without ever waiting: this runs on some
        // other client's thread, and a slow client must cost that thread nothing. A queue at
        // its limit refuses the line as full, a closed one as closed. The writer may be asleep,
        // waiting for work.
        let _ = line;
        todo!("ch09: queue a line, or refuse it (book: A queue and a writer per client)")
    }

    /// Queues `line` as the last one, even when the queue is full, and closes the queue:
    /// nothing can follow it. False if the queue was closed already.
    pub fn push_last(&self, line: Line) -> bool {
        let mut queue = self.lock();
        if queue.closed {
            return false;
        }
        queue.lines.push_back(line);
        queue.closed = true;
        self.ready.notify_one();
        true
    }

    /// Throws away every line still waiting, queues `line` as the last one, and closes the
    /// queue: for a client that fell too far behind. Returns how many lines were waiting, or
    /// `None` if the queue was closed already (someone else dropped the client first).
    pub fn replace_with_last(&self, line: Line) -> Option<usize> {
        let mut queue = self.lock();
        if queue.closed {
            return None;
        }
        let waiting = queue.lines.len();
        queue.lines.clear();
        queue.lines.push_back(line);
        queue.closed = true;
        self.ready.notify_one();
        Some(waiting)
    }

    /// Accepts no more lines; the writer writes what is queued, then stops.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_one();
    }

    /// Waits until there is something to write, then moves every waiting line into `batch`.
    /// Returns false, with `batch` empty, once the queue is closed and empty: time to stop.
    pub fn take_all(&self, batch: &mut Vec<Line>) -> bool {
        // TODO(ch09): Sleep until there is work, then hand over everything waiting at once, so
        // that one system call can carry many lines. Report the end only when no line will ever
        // come again. Waking up does not prove there is work (see the book on spurious
        // wake-ups).
        let _ = batch;
        todo!(
            "ch09: wait for lines and take them all (book: Condition variables and spurious wake-ups)"
        )
    }

    /// Called by the writer as it stops, whatever the reason: closes the queue, throws away
    /// what it holds, and wakes whoever waits in [`Outbox::wait_stopped`].
    pub fn writer_stopped(&self) {
        let mut queue = self.lock();
        queue.closed = true;
        queue.writer_stopped = true;
        queue.lines.clear();
        self.stopped.notify_all();
    }

    /// Waits until the writer has stopped, or `deadline` passes; true if it has stopped.
    pub fn wait_stopped(&self, deadline: Instant) -> bool {
        let mut queue = self.lock();
        while !queue.writer_stopped {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            queue = self
                .stopped
                .wait_timeout(queue, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}
