//! One client's connection: run its session, then close it without losing the last line.

use std::io::{self, Read};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use crate::room::{Client, Room};
use crate::session;

/// Serves one client until it leaves or disconnects.
pub fn handle_client(
    room: &Arc<Room>,
    client: &Arc<Client>,
    stream: TcpStream,
    login_timeout: Duration,
) -> io::Result<()> {
    let outcome = session::run(room, client, &stream, login_timeout);
    close_gracefully(&stream);
    outcome
}

/// Closes a connection without losing the last line we sent (`bye`, or an error).
///
/// Closing a socket that still has unread input makes the kernel send a reset, and a reset can
/// destroy data the client has not read yet. So: stop sending (the client reads our last line,
/// then end of file), read and discard what the client is still sending, for a bounded time
/// and amount, and only then close.
pub fn close_gracefully(stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = io::copy(&mut stream.take(1 << 20), &mut io::sink());
}
