//! One client's connection: read its lines and relay them to the room.

use std::io::{self, BufReader, Read};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use crate::line::{self, Line, MAX_LINE};
use crate::room::Room;

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

/// Closes a connection we are refusing, without losing the error line we just sent.
///
/// Closing a socket that still has unread input makes the kernel send a reset, and a reset can
/// destroy data the client has not read yet, our error line included. So: stop sending (the
/// client reads our line, then end of file), then read and discard what the client is still
/// sending, for a bounded time and amount, and only then close.
pub fn close_after_error(stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = io::copy(&mut stream.take(1 << 20), &mut io::sink());
}
