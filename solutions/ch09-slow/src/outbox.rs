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

// ANCHOR: outbox
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
// ANCHOR_END: outbox

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

    // ANCHOR: push
    /// Queues `line` for the writer, without waiting: a full or closed queue refuses it.
    pub fn push(&self, line: Line) -> Result<(), Refused> {
        let mut queue = self.lock();
        if queue.closed {
            return Err(Refused::Closed);
        }
        if queue.lines.len() >= self.limit {
            return Err(Refused::Full);
        }
        queue.lines.push_back(line);
        let was_empty = queue.lines.len() == 1;
        drop(queue);
        // The writer sleeps only on an empty queue, so only the line that makes it non-empty
        // needs to wake it. (Notifying costs a system call even when nobody waits: under load
        // this saves one per line.) And only once the lock is released: woken while we still
        // held it, the writer would find it taken and go back to sleep until we let go.
        if was_empty {
            self.ready.notify_one();
        }
        Ok(())
    }
    // ANCHOR_END: push

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

    // ANCHOR: take_all
    /// Waits until there is something to write, then moves every waiting line into `batch`.
    /// Returns false, with `batch` empty, once the queue is closed and empty: time to stop.
    pub fn take_all(&self, batch: &mut Vec<Line>) -> bool {
        let mut queue = self.lock();
        // A loop, not an `if`: a wait can end without a notify (a spurious wake-up), and
        // another line may have been taken or the queue closed in between.
        while queue.lines.is_empty() {
            if queue.closed {
                return false;
            }
            queue = self
                .ready
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
        batch.extend(queue.lines.drain(..));
        true
    }
    // ANCHOR_END: take_all

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;
    use std::time::Duration;

    fn line(text: &str) -> Line {
        Arc::from(text)
    }

    #[test]
    fn a_full_queue_refuses_the_next_line_and_keeps_the_others() {
        let outbox = Outbox::new(2);
        assert_eq!(outbox.push(line("a")), Ok(()));
        assert_eq!(outbox.push(line("b")), Ok(()));
        assert_eq!(outbox.push(line("c")), Err(Refused::Full));
        let mut batch = Vec::new();
        assert!(outbox.take_all(&mut batch));
        assert_eq!(batch, vec![line("a"), line("b")]);
    }

    #[test]
    fn the_last_line_is_queued_even_when_full_and_nothing_follows_it() {
        let outbox = Outbox::new(1);
        outbox.push(line("a")).unwrap();
        assert!(outbox.push_last(line("bye")));
        assert_eq!(outbox.push(line("late")), Err(Refused::Closed));
        let mut batch = Vec::new();
        assert!(outbox.take_all(&mut batch));
        assert_eq!(batch, vec![line("a"), line("bye")]);
        batch.clear();
        assert!(
            !outbox.take_all(&mut batch),
            "closed and empty: the writer stops"
        );
    }

    #[test]
    fn a_waiting_writer_wakes_for_a_line_pushed_by_another_thread() {
        let outbox = Outbox::new(4);
        thread::scope(|scope| {
            let writer = scope.spawn(|| {
                let mut batch = Vec::new();
                outbox.take_all(&mut batch);
                batch
            });
            outbox.push(line("hello")).unwrap();
            assert_eq!(writer.join().unwrap(), vec![line("hello")]);
        });
    }

    #[test]
    fn waiting_for_the_writer_gives_up_at_the_deadline() {
        let outbox = Outbox::new(1);
        let started = Instant::now();
        assert!(!outbox.wait_stopped(started + Duration::from_millis(20)));
        assert!(started.elapsed() >= Duration::from_millis(20));
        outbox.writer_stopped();
        assert!(outbox.wait_stopped(Instant::now()));
    }
}
