//! One client's connection: read its lines and relay them to the room.
//!
//! [`DeadlineReader`] reads the socket until a deadline, however slowly the bytes come: the
//! close waits for the client within one.

use std::io::{self, BufReader, ErrorKind, Read};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::line::{self, Line, MAX_LINE};
use crate::room::Room;

// ANCHOR: handle_client
/// Serves one client until it disconnects: every line it sends goes to everyone else as
/// `[PEER] text`.
pub fn handle_client(room: &Arc<Room>, stream: TcpStream, peer: SocketAddr) -> io::Result<()> {
    // From here until this function returns (or panics), the client is in the room.
    let membership = room.join(&stream, peer)?;
    let mut reader = BufReader::new(&stream);
    let mut buf = Vec::new();
    loop {
        match line::read_line(&mut reader, &mut buf)? {
            Line::Eof => return Ok(()),
            Line::TooLong => {
                membership
                    .member()
                    .send(&format!("error: line too long (max {MAX_LINE} bytes)"));
                close_after_error(&stream);
                return Ok(());
            }
            Line::Text(text) => {
                let text = line::sanitize(&text);
                if !text.trim().is_empty() {
                    room.broadcast(membership.member(), &format!("[{peer}] {text}"));
                }
            }
        }
    }
}
// ANCHOR_END: handle_client

/// How long closing a connection may wait for the client to stop sending, in total.
pub const DRAIN_TIME: Duration = Duration::from_millis(500);

/// How much a closing connection reads from the client, at most, before closing anyway.
pub const DRAIN_BYTES: u64 = 1 << 20;

// ANCHOR: close_after_error
/// Closes a connection we are refusing, without losing the error line we just sent.
///
/// Closing a socket that still has unread input makes the kernel send a reset, and a reset can
/// destroy data the client has not read yet, our error line included. So: stop sending (the
/// client reads our line, then end of file), then read and discard what the client is still
/// sending, for a bounded time and amount, and only then close.
pub fn close_after_error(stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    // One deadline for the whole drain, not one per read: a client that keeps sending cannot
    // keep us here.
    let reader = DeadlineReader::new(stream, Instant::now() + DRAIN_TIME);
    let _ = io::copy(&mut reader.take(DRAIN_BYTES), &mut io::sink());
}
// ANCHOR_END: close_after_error

/// Reads a socket until a deadline, however the bytes trickle in.
///
/// A socket's read timeout (`SO_RCVTIMEO`) bounds one `read` call, and the next call starts a
/// fresh one: a client sending a byte just before each timeout would never be timed out. So
/// before every read, this sets the timeout to the time *left* until the deadline.
pub struct DeadlineReader<'a> {
    stream: &'a TcpStream,
    /// When reads stop.
    deadline: Instant,
}

impl<'a> DeadlineReader<'a> {
    /// Reads `stream` until `deadline`.
    pub fn new(stream: &'a TcpStream, deadline: Instant) -> Self {
        DeadlineReader { stream, deadline }
    }
}

// ANCHOR: deadline_read
impl Read for DeadlineReader<'_> {
    /// Reads as `TcpStream::read` does; once the deadline has passed, fails with `TimedOut`.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
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
