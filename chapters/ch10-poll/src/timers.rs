//! Deadlines without threads: one heap of every deadline the loop must keep (logins, writes,
//! graceful closes, a paused accept, the shutdown's bound), whose earliest sets how long
//! `poll` may sleep.
//!
//! Entries are never removed when their deadline stops mattering (a client chose its name, a
//! buffer was written): that would mean searching the heap. Each entry names a connection's
//! token and its generation, and when it comes due the loop checks whether that connection
//! still exists, is still the same one, and still has that deadline; if not, the entry is
//! dropped ("lazy invalidation").

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use mio::Token;

/// One deadline: when, for which connection (or the listener, or the shutdown), and which
/// generation of that token it was meant for.
pub type Deadline = (Instant, Token, u64);

/// Every pending deadline, earliest first.
#[derive(Debug, Default)]
pub struct Timers {
    /// A min-heap: `Reverse` turns std's max-heap around.
    heap: BinaryHeap<Reverse<Deadline>>,
}

impl Timers {
    /// Adds a deadline for `token` (in its `generation`) at `at`.
    pub fn add(&mut self, at: Instant, token: Token, generation: u64) {
        self.heap.push(Reverse((at, token, generation)));
    }

    /// How long `poll` may wait from `now` before the earliest deadline: `None` (for ever) if
    /// there is none.
    pub fn timeout(&self, now: Instant) -> Option<Duration> {
        self.heap
            .peek()
            .map(|Reverse((at, _, _))| at.saturating_duration_since(now))
    }

    /// Removes and returns the earliest deadline if it has come (`at <= now`).
    pub fn pop_due(&mut self, now: Instant) -> Option<Deadline> {
        match self.heap.peek() {
            Some(Reverse((at, _, _))) if *at <= now => self.heap.pop().map(|Reverse(d)| d),
            _ => None,
        }
    }

    /// How many deadlines are waiting, stale ones included.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no deadline is waiting.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_come_due_earliest_first_and_set_the_timeout() {
        let now = Instant::now();
        let mut timers = Timers::default();
        assert_eq!(timers.timeout(now), None);
        timers.add(now + Duration::from_secs(2), Token(1), 0);
        timers.add(now + Duration::from_secs(1), Token(2), 0);
        assert_eq!(timers.timeout(now), Some(Duration::from_secs(1)));
        assert_eq!(timers.pop_due(now), None);
        let later = now + Duration::from_secs(3);
        assert_eq!(timers.pop_due(later).map(|d| d.1), Some(Token(2)));
        assert_eq!(timers.pop_due(later).map(|d| d.1), Some(Token(1)));
        assert!(timers.is_empty());
    }
}
