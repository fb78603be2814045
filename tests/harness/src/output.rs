//! A child process's standard output and error, drained line by line into a log that tests
//! can wait on.
//!
//! Draining matters: if nobody reads a child's pipe, the pipe fills (or, once the reader is
//! dropped, breaks) and the child's next `println!` blocks or fails. Two threads per child read
//! until end of file, which is also how the log learns that the child has exited. A test that
//! wants the pipe to break on purpose (`server | head -1`) drains a stream for a given number
//! of lines only, then closes its read end.

use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Instant;

/// Which of the child's streams a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Stdout,
    Stderr,
}

impl Source {
    /// The prefix a transcript shows before a line from this stream.
    pub(crate) fn marker(self) -> &'static str {
        match self {
            Source::Stdout => "|",
            Source::Stderr => "!",
        }
    }
}

/// Lines received so far, and which of the streams are still being read.
#[derive(Default)]
struct Lines {
    lines: Vec<(Source, String)>,
    /// Indexed by `Source as usize`: true from the start of a drain until its stream reached
    /// end of file or the test closed it.
    open: [bool; 2],
}

impl Lines {
    fn all_closed(&self) -> bool {
        !self.open.iter().any(|&open| open)
    }
}

/// The shared log; the drain threads append, tests wait with a deadline.
#[derive(Default)]
pub(crate) struct OutputLog {
    lines: Mutex<Lines>,
    changed: Condvar,
}

/// Why a wait ended without a matching line.
pub(crate) enum WaitEnd {
    TimedOut,
    /// No stream is being read any more: the process has exited (or closed its output, or the
    /// test closed it).
    Closed,
}

impl OutputLog {
    fn lock(&self) -> MutexGuard<'_, Lines> {
        self.lines.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts a thread that copies `stream` into the log until end of file.
    pub(crate) fn drain(self: &Arc<Self>, source: Source, stream: impl Read + Send + 'static) {
        self.drain_lines(source, stream, usize::MAX);
    }

    /// Starts a thread that copies the first `limit` lines of `stream` into the log, then
    /// drops the stream: for a pipe, that closes its read end, and the child's next write to it
    /// fails with `EPIPE`, as when the reader is `head -1`. Anything the child wrote after
    /// those lines, in the same read, is discarded.
    pub(crate) fn drain_lines(
        self: &Arc<Self>,
        source: Source,
        stream: impl Read + Send + 'static,
        limit: usize,
    ) {
        self.lock().open[source as usize] = true;
        let log = Arc::clone(self);
        thread::spawn(move || {
            let mut reader = BufReader::new(stream);
            let mut buf = Vec::new();
            for _ in 0..limit {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&buf);
                        let text = text.trim_end_matches(['\n', '\r']).to_string();
                        log.lock().lines.push((source, text));
                        log.changed.notify_all();
                    }
                }
            }
            // Close the stream (a pipe's read end) before saying so: a test that waited for
            // that knows the child's next write to it fails.
            drop(reader);
            log.lock().open[source as usize] = false;
            log.changed.notify_all();
        });
    }

    /// Waits until a line from `source` at index `from` or later satisfies `matches`;
    /// returns its index and text.
    pub(crate) fn wait_for(
        &self,
        source: Source,
        from: usize,
        deadline: Instant,
        mut matches: impl FnMut(&str) -> bool,
    ) -> Result<(usize, String), WaitEnd> {
        let mut lines = self.lock();
        let mut next = from;
        loop {
            while next < lines.lines.len() {
                let (src, text) = &lines.lines[next];
                if *src == source && matches(text) {
                    return Ok((next, text.clone()));
                }
                next += 1;
            }
            if lines.all_closed() {
                return Err(WaitEnd::Closed);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(WaitEnd::TimedOut);
            }
            lines = self
                .changed
                .wait_timeout(lines, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Waits until every stream has reached end of file; false if the deadline came first.
    pub(crate) fn wait_closed(&self, deadline: Instant) -> bool {
        self.wait_until(deadline, Lines::all_closed)
    }

    /// Waits until `source` is no longer read (end of file, or closed after its lines); false
    /// if the deadline came first.
    pub(crate) fn wait_stream_closed(&self, source: Source, deadline: Instant) -> bool {
        self.wait_until(deadline, |lines| !lines.open[source as usize])
    }

    fn wait_until(&self, deadline: Instant, done: impl Fn(&Lines) -> bool) -> bool {
        let within = deadline.saturating_duration_since(Instant::now());
        let (lines, _) = self
            .changed
            .wait_timeout_while(self.lock(), within, |lines| !done(lines))
            .unwrap_or_else(PoisonError::into_inner);
        done(&lines)
    }

    /// Whether every stream has reached end of file.
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().all_closed()
    }

    /// Every line so far, for a transcript.
    pub(crate) fn snapshot(&self) -> Vec<(Source, String)> {
        self.lock().lines.clone()
    }

    /// The lines so far from one stream.
    pub(crate) fn lines_from(&self, source: Source) -> Vec<String> {
        self.lock()
            .lines
            .iter()
            .filter(|(src, _)| *src == source)
            .map(|(_, text)| text.clone())
            .collect()
    }
}
