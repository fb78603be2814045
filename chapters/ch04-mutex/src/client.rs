//! The client: one thread prints what the server sends, another sends what you type.
//!
//! Two blocking sources, the socket and standard input, each get a thread, so neither has to
//! wait for the other: a line from the server is printed while you are still typing yours.

use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::net::{Shutdown, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};

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
    match TcpStream::connect(addr) {
        Ok(stream) => Some(stream),
        Err(err) => {
            eprintln!("error: cannot connect to {addr}: {err} (is the server running?)");
            None
        }
    }
}

/// Starts the thread that prints every line from the server as soon as it arrives, until the
/// server closes the connection.
fn spawn_reader(stream: TcpStream, input_done: Arc<AtomicBool>) -> io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name("server".to_string())
        .spawn(move || {
            let ring_bell = io::stdout().is_terminal();
            let mut reader = BufReader::new(stream);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break, // end of file, or reset: the server is gone
                    Ok(_) => {
                        if !line.ends_with(b"\n") {
                            line.push(b'\n');
                        }
                        let mut out = io::stdout().lock();
                        if ring_bell {
                            let _ = out.write_all(b"\x07");
                        }
                        let _ = out.write_all(&line);
                        let _ = out.flush();
                    }
                }
            }
            if !input_done.load(Ordering::SeqCst) {
                eprintln!("connection closed by server");
            }
        })
}

/// Sends every line typed on standard input; at end of input, half-closes the connection so
/// the server sees end of file while we keep reading what it still sends.
fn send_input(stream: TcpStream, input_done: &AtomicBool) {
    let mut writer = &stream;
    let mut stdin = io::stdin().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        match stdin.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                if !line.ends_with(b"\n") {
                    line.push(b'\n');
                }
                if writer.write_all(&line).is_err() {
                    return; // the server is gone; the reader thread reports it
                }
            }
        }
    }
    input_done.store(true, Ordering::SeqCst);
    // shutdown(Write) sends FIN: the server reads end of file, but our reading side stays open.
    let _ = stream.shutdown(Shutdown::Write);
}
