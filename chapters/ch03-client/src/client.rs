//! The client: one thread prints what the server sends, another sends what you type.
//!
//! Two blocking sources, the socket and standard input, each get a thread, so neither has to
//! wait for the other: a line from the server is printed while you are still typing yours.

use std::io;
use std::net::TcpStream;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::thread::{self, JoinHandle};

// Your code will also need some of: `std::io::{BufRead, BufReader, IsTerminal, Write}`,
// `std::net::Shutdown` and `std::sync::atomic::Ordering`.

/// Connects to `addr` and runs a session until the server closes the connection.
pub fn run(addr: &str) -> ExitCode {
    let Some(stream) = connect(addr) else {
        return ExitCode::FAILURE;
    };
    // try_clone() duplicates the file descriptor (dup(2)): two handles on one socket, so each
    // thread owns one. Closing or shutting down through either affects the one socket.
    let for_reader = match stream.try_clone() {
        Ok(clone) => clone,
        Err(err) => {
            eprintln!("error: duplicating the connection: {err}");
            return ExitCode::FAILURE;
        }
    };
    // Set once standard input has ended, so the reader knows who closed first.
    let input_done = Arc::new(AtomicBool::new(false));
    let reader = spawn_reader(for_reader, Arc::clone(&input_done));
    let sender = thread::Builder::new()
        .name("stdin".to_string())
        .spawn(move || send_input(stream, &input_done));
    if let Err(err) = sender {
        eprintln!("error: starting the input thread: {err}");
        return ExitCode::FAILURE;
    }
    // The session ends when the server closes. We do not join the stdin thread: it may be
    // blocked in read() forever, and nothing can cancel that. Returning from main ends the
    // process, and the thread with it.
    match reader.map(JoinHandle::join) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(_)) => ExitCode::FAILURE, // the reader panicked; its message is already printed
        Err(err) => {
            eprintln!("error: starting the reader thread: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Connects to the server, or says why not.
fn connect(addr: &str) -> Option<TcpStream> {
    // TODO(ch03): Connect with `TcpStream::connect(addr)`. On failure print
    // `error: cannot connect to HOST:PORT: <reason> (is the server running?)` on standard error
    // (HOST:PORT is `addr`, <reason> the error) and return `None`: no panic, no unwrap.
    // Book: Your task.
    let _ = addr;
    todo!("ch03: connect, or say why not (book: Your task)")
}

/// Starts the thread that prints every line from the server as soon as it arrives, until the
/// server closes the connection.
fn spawn_reader(stream: TcpStream, input_done: Arc<AtomicBool>) -> io::Result<JoinHandle<()>> {
    // TODO(ch03): Spawn a thread (`thread::Builder::new().name(...).spawn(move || ...)`) that
    // reads `stream` through a `BufReader`, line by line as bytes (`read_until(b'\n', ...)`,
    // so a line that is not UTF-8 cannot stop it), and writes each line to standard output at
    // once (lock stdout, `write_all`, `flush`; add a `\n` if the last one lacks it), with a
    // bell (`\x07`) first only when stdout is a terminal (`IsTerminal`). When a read returns
    // 0 bytes or fails, the server is gone: print `connection closed by server` on standard
    // error unless `input_done` is set (then our own half-close started the ending), and let
    // the thread end. Return the spawn result. Book: Two blocking sources need two threads.
    let _ = (stream, input_done);
    todo!("ch03: print server lines as they arrive (book: Two blocking sources need two threads)")
}

/// Sends every line typed on standard input; at end of input, half-closes the connection so
/// the server sees end of file while we keep reading what it still sends.
fn send_input(stream: TcpStream, input_done: &AtomicBool) {
    // TODO(ch03): Read standard input line by line (`io::stdin().lock()`, `read_until`) and
    // write each line, ending in `\n`, to `stream` with `write_all`; if a write fails, the
    // server is gone: just return (the reader thread says so). At end of input, set
    // `input_done`, then call `stream.shutdown(Shutdown::Write)`: the server reads end of file,
    // and our reading side stays open for what it still sends. Book: Half-close: shutdown(Write).
    let _ = (stream, input_done);
    todo!("ch03: send what the user types, then half-close (book: Half-close: shutdown(Write))")
}
