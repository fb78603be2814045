//! Chapter 2: the echo server, with a thread per client.
//!
//! - [`main`] parses the command line, binds the listening socket and announces its address.
//! - `serve` accepts connections and hands each to `spawn_handler`, which serves it on a
//!   thread of its own, so one quiet client no longer blocks everyone else.
//! - [`echo::handle_client`] echoes each complete line back to one client.
//!
//! This is chapter 1's answer; your work is `spawn_handler`. Run it with
//! `cargo run -p ch02-threads`, grade it with `cargo test -p ch02`.

#[macro_use]
mod console;
mod cli;
pub mod echo;

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use clap::Parser;

/// How long to wait before accepting again after `accept` failed (for example when the
/// process has run out of file descriptors): long enough not to spin, short enough to recover.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(100);

/// Runs the server; returns the process's exit status.
pub fn main() -> ExitCode {
    let args = cli::Cli::parse().server_args();
    let listener = match listen(&args.addr) {
        Ok(listener) => listener,
        Err(message) => {
            say_err!("{message}");
            return ExitCode::FAILURE;
        }
    };
    serve(listener);
    ExitCode::SUCCESS
}

/// Binds `addr` and prints `listening on HOST:PORT` with the address actually bound.
///
/// Keep as is: the grader reads the port from that first line.
pub fn listen(addr: &str) -> Result<TcpListener, String> {
    // bind() + listen() in one call: the kernel now queues incoming connections for us.
    let listener = TcpListener::bind(addr)
        .map_err(|err| format!("error: cannot listen on {addr}: {err}{}", bind_hint(&err)))?;
    let local = listener
        .local_addr()
        .map_err(|err| format!("error: cannot read the bound address: {err}"))?;
    say!("listening on {local}");
    Ok(listener)
}

/// A hint for the usual reasons a bind fails.
fn bind_hint(err: &io::Error) -> &'static str {
    match err.kind() {
        io::ErrorKind::AddrInUse => {
            " (is another server running? stop it, or pick a free port with --addr 127.0.0.1:0)"
        }
        io::ErrorKind::PermissionDenied => " (ports below 1024 need privileges; use a higher port)",
        io::ErrorKind::AddrNotAvailable => " (that address does not belong to this machine)",
        _ => "",
    }
}

/// Accepts clients and starts a thread for each, going straight back to `accept`.
fn serve(listener: TcpListener) {
    loop {
        // accept() blocks until a client has completed the TCP handshake.
        match listener.accept() {
            Ok((stream, peer)) => {
                say!("connected {peer}");
                if let Err(err) = spawn_handler(stream, peer) {
                    // The stream went down with the thread that never started: that client is
                    // disconnected, everyone else carries on.
                    say_err!("error: starting a thread for {peer}: {err}");
                }
            }
            Err(err) => {
                say_err!("error: accepting a connection: {err}");
                thread::sleep(ACCEPT_RETRY_DELAY);
            }
        }
    }
}

/// Serves `stream` on a new thread until the client disconnects.
fn spawn_handler(stream: TcpStream, peer: SocketAddr) -> io::Result<()> {
    // TODO(ch02): Serve this client on a thread of its own, so that the accepting thread is
    // back at `accept` at once. The client's thread prints what chapter 1 printed for a client
    // once it was served (its error, then `disconnected PEER`). A thread that cannot be started
    // is this function's error, which the caller logs: never a panic.
    // Book: Spawning a thread per client.
    let _ = (stream, peer);
    todo!("ch02: serve this client on a thread of its own (book: Spawning a thread per client)")
}
