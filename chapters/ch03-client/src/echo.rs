//! Echoing lines: read bytes until a newline, write the line back.

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;

/// Echoes every complete line from `stream` until the client closes the connection.
///
/// Bytes go back unchanged (invalid UTF-8 included); a `\r\n` ending becomes `\n`.
pub fn handle_client(stream: TcpStream) -> io::Result<()> {
    // `&TcpStream` is both `Read` and `Write`: one socket, read through a buffer, written directly.
    let mut reader = BufReader::new(&stream);
    let mut writer = &stream;
    let mut line = Vec::new();
    loop {
        line.clear();
        // TCP delivers a byte stream, not messages: read_until gathers bytes across as many
        // read() calls as it takes to reach the newline.
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 || !line.ends_with(b"\n") {
            // read() returned 0: the client closed. An unfinished last line is dropped.
            return Ok(());
        }
        if line.ends_with(b"\r\n") {
            line.truncate(line.len() - 2);
            line.push(b'\n');
        }
        writer.write_all(&line)?;
    }
}
