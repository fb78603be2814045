//! A connection's output buffer: the lines waiting for the client's socket to take them,
//! bounded by a number of lines (`--queue-lines`, chapter 9's slow-consumer rule).
//!
//! A non-blocking write takes what fits in the kernel's send buffer and returns at once; the
//! rest must wait here until the socket is writable again. Everything waiting is written in
//! one call, however many lines that is.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long a client may take none of what waits for it before it is disconnected: it has
/// stopped reading (chapter 4's write deadline; a client that reads, however slowly, is
/// bounded by `--queue-lines` instead).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// The buffer is full: the client is too slow.
#[derive(Debug, PartialEq, Eq)]
pub struct Full;

// ANCHOR: output
/// Lines waiting to be written to one client.
#[derive(Debug)]
pub struct Output {
    /// The bytes, lines with their `\n`; those before `written` are gone already.
    bytes: Vec<u8>,
    /// How much of `bytes` the kernel has taken.
    written: usize,
    /// Where each waiting line ends in `bytes`, and when it was queued: the count bounds the
    /// buffer. The first one's time sets the write deadline; it moves to the last write that
    /// made progress.
    ends: VecDeque<(usize, Instant)>,
    /// The most lines that may wait.
    max_lines: usize,
}
// ANCHOR_END: output

/// Above this capacity an emptied buffer gives its memory back: one burst should not cost a
/// connection its peak for ever.
const KEEP_CAPACITY: usize = 4096;

impl Output {
    /// An empty buffer for at most `max_lines` lines.
    pub fn new(max_lines: usize) -> Output {
        Output {
            bytes: Vec::new(),
            written: 0,
            ends: VecDeque::new(),
            max_lines,
        }
    }

    /// Queues `line` and its `\n`, or refuses when `max_lines` lines are waiting already.
    pub fn push(&mut self, line: &str, now: Instant) -> Result<(), Full> {
        if self.ends.len() >= self.max_lines {
            return Err(Full);
        }
        self.push_anyway(line, now);
        Ok(())
    }

    /// Queues `line` past the bound: for the one last line a connection gets (the shutdown
    /// notice, `error: too slow, disconnected`).
    pub fn push_anyway(&mut self, line: &str, now: Instant) {
        self.bytes.extend_from_slice(line.as_bytes());
        self.bytes.push(b'\n');
        self.ends.push_back((self.bytes.len(), now));
    }

    /// Everything waiting, for one write.
    pub fn pending(&self) -> &[u8] {
        &self.bytes[self.written..]
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.written == self.bytes.len()
    }

    /// How many lines wait (a line partly written counts).
    pub fn lines(&self) -> usize {
        self.ends.len()
    }

    /// How many bytes wait.
    pub fn len(&self) -> usize {
        self.bytes.len() - self.written
    }

    /// Records that the kernel took `n` more bytes.
    pub fn advance(&mut self, n: usize) {
        self.written = (self.written + n).min(self.bytes.len());
        while self
            .ends
            .front()
            .is_some_and(|&(end, _)| end <= self.written)
        {
            self.ends.pop_front();
        }
        if n > 0 {
            if let Some((_, since)) = self.ends.front_mut() {
                // The client took something: the deadline counts from now.
                *since = Instant::now();
            }
        }
        if self.is_empty() {
            self.bytes.clear();
            self.written = 0;
            if self.bytes.capacity() > KEEP_CAPACITY {
                self.bytes = Vec::new();
            }
        } else if self.written > self.bytes.len() / 2 {
            // Move what is left to the front, so the buffer does not grow without end while
            // the client reads just enough to keep it non-empty.
            self.bytes.drain(..self.written);
            for (end, _) in &mut self.ends {
                *end -= self.written;
            }
            self.written = 0;
        }
    }

    /// Drops the waiting lines that no byte of has been written yet: before a last line that
    /// must not wait behind them. A line partly written is kept, so the client never gets a
    /// torn line.
    pub fn discard_unstarted(&mut self) {
        let keep = match self.ends.front() {
            Some(&(end, _)) if self.written > 0 => end,
            _ => self.written,
        };
        self.bytes.truncate(keep);
        self.ends.truncate(usize::from(keep > self.written));
        if self.is_empty() {
            self.bytes.clear();
            self.written = 0;
        }
    }

    /// Starts the write deadline again from `now` for everything waiting: for a client's last
    /// line, which gets a deadline of its own (as chapter 9's writer gives each batch).
    pub fn restart_deadline(&mut self, now: Instant) {
        for (_, queued) in &mut self.ends {
            *queued = now;
        }
    }

    /// When the client must have taken something of what waits: `None` if nothing waits.
    pub fn deadline(&self) -> Option<Instant> {
        self.ends.front().map(|&(_, queued)| queued + WRITE_TIMEOUT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wait_until_written_and_the_bound_counts_lines() {
        let now = Instant::now();
        let mut out = Output::new(2);
        out.push("one", now).unwrap();
        out.push("two", now).unwrap();
        assert_eq!(out.push("three", now), Err(Full));
        assert_eq!(out.pending(), b"one\ntwo\n");
        out.advance(5);
        assert_eq!(out.lines(), 1);
        assert_eq!(out.pending(), b"wo\n");
        out.push("three", now).unwrap();
        out.advance(9);
        assert!(out.is_empty());
        assert_eq!(out.deadline(), None);
    }
}
