//! One connection, as the event loop keeps it between events: its socket, where it is in the
//! protocol, the unfinished line it sent, the lines waiting for it, and its deadlines.
//!
//! A thread per client kept most of this on the thread's stack and in the blocked call it was
//! making. One thread serving every client cannot block anywhere, so all of it lives here.

use std::io::{self, ErrorKind, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;

use crate::output::Output;
use crate::session::Phase;

/// How long closing a connection may wait for the client to stop sending, in total.
pub const DRAIN_TIME: Duration = Duration::from_millis(500);

/// How much a closing connection reads from the client, at most, before closing anyway.
pub const DRAIN_BYTES: u64 = 1 << 20;

/// How a connection is closing: first its last lines are written, then (chapter 6's
/// graceful close) what the client still sends is read and discarded for a bounded time, so
/// that closing does not send a reset that could destroy those lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    /// Writing what is left in the output buffer (`bye`, an error, the shutdown notice).
    Flushing,
    /// Written and shut down for writing: discarding input until end of file, `until`, or
    /// `left` more bytes.
    Draining { until: Instant, left: u64 },
}

// ANCHOR: conn
/// One client's connection.
#[derive(Debug)]
pub struct Conn {
    /// The non-blocking socket.
    pub stream: TcpStream,
    /// Where the client connects from (for the console).
    pub peer: SocketAddr,
    /// Which connection this is, of all that had this token: a deadline or a decision made
    /// for an earlier one must not hit this one.
    pub generation: u64,
    /// Where the client is in the protocol.
    pub phase: Phase,
    /// Set once the connection is on its way out.
    pub closing: Option<Closing>,
    /// When a client still choosing its name is timed out.
    pub login_deadline: Instant,
    /// The start of a line whose end has not arrived yet (at most one line, see `line.rs`).
    pub input: Vec<u8>,
    /// Lines waiting for the client to take them.
    pub output: Output,
    /// The client has shut down its side (end of file): close as soon as our last lines are
    /// written.
    pub eof: bool,
    /// Whether WRITABLE interest is registered: only while output waits, or every turn of
    /// the loop would report this socket writable again.
    pub writable: bool,
    /// The earliest deadline of this connection in the timer heap, if any.
    pub armed: Option<Instant>,
    /// In the loop's list of connections to write to at the end of this turn.
    pub dirty: bool,
    /// A write failed: the client is gone, nothing more is queued for it, and the loop closes
    /// it at the end of this turn.
    pub broken: bool,
    /// In the loop's list of connections with input left to read (their read budget ran out).
    pub queued: bool,
}
// ANCHOR_END: conn

impl Conn {
    /// A connection just accepted.
    pub fn new(
        stream: TcpStream,
        peer: SocketAddr,
        generation: u64,
        login_deadline: Instant,
        max_lines: usize,
    ) -> Conn {
        Conn {
            stream,
            peer,
            generation,
            phase: Phase::ChoosingName,
            closing: None,
            login_deadline,
            input: Vec::new(),
            output: Output::new(max_lines),
            eof: false,
            writable: false,
            armed: None,
            dirty: false,
            broken: false,
            queued: false,
        }
    }

    // ANCHOR: next_deadline
    /// The earliest moment something must happen to this connection, whatever happens on
    /// its socket: a login timeout, a write deadline, the end of a graceful close.
    pub fn next_deadline(&self) -> Option<Instant> {
        let login = (self.closing.is_none() && self.phase == Phase::ChoosingName)
            .then_some(self.login_deadline);
        let drain = match self.closing {
            Some(Closing::Draining { until, .. }) => Some(until),
            _ => None,
        };
        [login, self.output.deadline(), drain]
            .into_iter()
            .flatten()
            .min()
    }
    // ANCHOR_END: next_deadline

    // ANCHOR: write_pending
    /// Writes everything waiting, in one call (and again only if the kernel took part of it
    /// and may take more). Stops without error when the socket's send buffer is full
    /// (`WouldBlock`): the rest waits for the next WRITABLE event.
    pub fn write_pending(&mut self) -> io::Result<()> {
        while !self.output.is_empty() {
            match (&self.stream).write(self.output.pending()) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => self.output.advance(n),
                Err(err) if err.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }
    // ANCHOR_END: write_pending
}
