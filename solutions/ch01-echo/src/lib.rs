//! Chapter 1: a line echo server that serves one client at a time.
//!
//! - [`main`] parses the command line, binds the listening socket and announces its address.
//! - `serve` accepts connections one after another.
//! - [`echo::handle_client`] echoes each complete line back to one client.

#[macro_use]
mod console;
mod cli;
pub mod echo;

use std::io;
use std::net::TcpListener;
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
    // ANCHOR: listen
    let listener = match listen(&args.addr) {
        Ok(listener) => listener,
        Err(message) => {
            say_err!("{message}");
            return ExitCode::FAILURE;
        }
    };
    // ANCHOR_END: listen
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

// ANCHOR: serve
/// Accepts clients one after another, serving each until it disconnects.
fn serve(listener: TcpListener) {
    loop {
        // accept() blocks until a client has completed the TCP handshake. While we are busy
        // with one client, the next ones wait in the kernel's backlog.
        match listener.accept() {
            Ok((stream, peer)) => {
                say!("connected {peer}");
                if let Err(err) = echo::handle_client(stream) {
                    say_err!("error: serving {peer}: {err}");
                }
                say!("disconnected {peer}");
            }
            Err(err) => {
                say_err!("error: accepting a connection: {err}");
                thread::sleep(ACCEPT_RETRY_DELAY);
            }
        }
    }
}
// ANCHOR_END: serve
