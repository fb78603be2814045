//! One client's connection: run its session, then close it without losing the last line.
//!
//! [`DeadlineReader`] reads the socket until a deadline, however slowly the bytes come: the
//! close waits for the client within one, and so does the login (see [`session::run`]).

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::room::{Client, Room};
use crate::session;

// ANCHOR: handle_client
/// Serves one client until it leaves or disconnects: its session on this thread, what is
/// sent to it on a writer thread of its own.
pub fn handle_client(
    room: &Arc<Room>,
    client: &Arc<Client>,
    stream: TcpStream,
    login_timeout: Duration,
) -> io::Result<()> {
    let writer = match client.spawn_writer() {
        Ok(writer) => writer,
        Err(err) => {
            // Out of threads: nothing can be queued for this client, so say it directly.
            let _ = (&stream).write_all(b"error: server is busy, try again later\n");
            return Err(err);
        }
    };
    let outcome = session::run(room, client, &stream, login_timeout);
    // However the session ended, nothing more is queued: the writer writes what is waiting
    // (the goodbye or the error last), within its deadline, and stops. Only then close.
    client.finish();
    let _ = writer.join();
    close_gracefully(&stream);
    outcome
}
// ANCHOR_END: handle_client

/// How long closing a connection may wait for the client to stop sending, in total.
pub const DRAIN_TIME: Duration = Duration::from_millis(500);

/// How much a closing connection reads from the client, at most, before closing anyway.
pub const DRAIN_BYTES: u64 = 1 << 20;

// ANCHOR: close_gracefully
/// Closes a connection without losing the last line we sent (`bye`, or an error).
///
/// Closing a socket that still has unread input makes the kernel send a reset, and a reset can
/// destroy data the client has not read yet. So: stop sending (the client reads our last line,
/// then end of file), read and discard what the client is still sending, for a bounded time
/// and amount, and only then close.
pub fn close_gracefully(stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    // One deadline for the whole drain, not one per read: a client that keeps sending cannot
    // keep us here.
    let reader = DeadlineReader::new(stream, Instant::now() + DRAIN_TIME);
    let _ = io::copy(&mut reader.take(DRAIN_BYTES), &mut io::sink());
}
// ANCHOR_END: close_gracefully

/// Reads a socket until a deadline, however the bytes trickle in.
///
/// A socket's read timeout (`SO_RCVTIMEO`) bounds one `read` call, and the next call starts a
/// fresh one: a client sending a byte just before each timeout would never be timed out. So
/// before every read, this sets the timeout to the time *left* until the deadline.
pub struct DeadlineReader<'a> {
    stream: &'a TcpStream,
    /// When reads stop: `None` means no deadline (and no read timeout on the socket).
    deadline: Option<Instant>,
}

impl<'a> DeadlineReader<'a> {
    /// Reads `stream` until `deadline`.
    pub fn new(stream: &'a TcpStream, deadline: Instant) -> Self {
        DeadlineReader {
            stream,
            deadline: Some(deadline),
        }
    }

    /// From now on, reads wait as long as it takes: the socket's read timeout is cleared,
    /// once, here, rather than set again before every read.
    pub fn clear_deadline(&mut self) -> io::Result<()> {
        if self.deadline.take().is_some() {
            self.stream.set_read_timeout(None)?;
        }
        Ok(())
    }
}

// ANCHOR: deadline_read
impl Read for DeadlineReader<'_> {
    /// Reads as `TcpStream::read` does; once the deadline has passed, fails with `TimedOut`.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(deadline) = self.deadline else {
            return self.stream.read(buf);
        };
        let left = deadline.saturating_duration_since(Instant::now());
        // A zero timeout means "none" to the kernel, and set_read_timeout refuses it.
        if left.is_zero() {
            return Err(ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        match self.stream.read(buf) {
            // Unix reports an expired SO_RCVTIMEO as EAGAIN (WouldBlock); say what it means.
            Err(err) if err.kind() == ErrorKind::WouldBlock => Err(ErrorKind::TimedOut.into()),
            other => other,
        }
    }
}
// ANCHOR_END: deadline_read
