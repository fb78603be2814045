//! Echoing lines: read bytes until a newline, write the line back.

use std::io;
use std::net::TcpStream;

/// Echoes every complete line from `stream` until the client closes the connection.
///
/// Bytes go back unchanged (invalid UTF-8 included); a `\r\n` ending becomes `\n`.
pub fn handle_client(stream: TcpStream) -> io::Result<()> {
    // TODO(ch01): Echo every complete line back, byte for byte, until the client closes; a line
    // that ends in `\r\n` goes back ending in `\n`, and a last piece without its newline is not
    // a line, so it is never echoed. The caller logs any error you return: never panic on a
    // client's behalf. Book: TCP is a byte stream.
    let _ = stream;
    todo!("ch01: read complete lines and write each one back (book: TCP is a byte stream)")
}
