//! Echoing lines: read bytes until a newline, write the line back.

use std::io;
use std::net::TcpStream;

/// Echoes every complete line from `stream` until the client closes the connection.
///
/// Bytes go back unchanged (invalid UTF-8 included); a `\r\n` ending becomes `\n`.
pub fn handle_client(stream: TcpStream) -> io::Result<()> {
    // TODO(ch01): Wrap `&stream` in a `BufReader` and call `read_until(b'\n', ...)` in a loop;
    // write each complete line back with `write_all`. Return Ok(()) when the read returns 0
    // bytes (the client closed) or ends without a newline. Book: TCP is a byte stream.
    let _ = stream;
    todo!("ch01: read complete lines and write each one back (book: TCP is a byte stream)")
}
