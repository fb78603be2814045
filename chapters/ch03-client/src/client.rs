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

// Add the `use` lines your code needs as you go: the compiler names each one it misses.

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
    // TODO(ch03): Connect to `addr`, or say why not on standard error, in the protocol page's
    // exact line (the address, the cause, and whether the server is running), and return None.
    // A refused connection is an ordinary outcome here: no panic. Book: Your task.
    let _ = addr;
    todo!("ch03: connect, or say why not (book: Your task)")
}

/// Starts the thread that prints every line from the server as soon as it arrives, until the
/// server closes the connection.
fn spawn_reader(stream: TcpStream, input_done: Arc<AtomicBool>) -> io::Result<JoinHandle<()>> {
    // TODO(ch03): Start the thread that shows every line from the server the moment it arrives,
    // whatever its bytes (a line that is not UTF-8 must not stop it), with a bell before it only
    // when standard output is a terminal. When the server has gone, the thread says so on
    // standard error, unless our own end of input began the ending (`input_done`), and ends:
    // `run` waits for it. A thread that cannot start is the caller's error, not a panic.
    // Book: Two blocking sources need two threads.
    let _ = (stream, input_done);
    todo!("ch03: print server lines as they arrive (book: Two blocking sources need two threads)")
}

/// Sends every line typed on standard input; at end of input, half-closes the connection so
/// the server sees end of file while we keep reading what it still sends.
fn send_input(stream: TcpStream, input_done: &AtomicBool) {
    // TODO(ch03): Send the server each line typed on standard input. At end of input, tell the
    // reader (`input_done`), then tell the server we have finished sending, while we still
    // read what it sends back. A failed write means the server has gone: the reader thread
    // reports that, not this one. Book: Half-close: shutdown(Write).
    let _ = (stream, input_done);
    todo!("ch03: send what the user types, then half-close (book: Half-close: shutdown(Write))")
}
