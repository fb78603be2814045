//! Chapter 9: slow clients. The server, client and load generator are chapter 8's; new is how
//! lines reach clients. Every client has a bounded queue ([`outbox::Outbox`]) and a writer
//! thread of its own: sending a line to someone only queues it, so no thread ever waits for
//! another client's socket, and a client whose queue is full is too slow and is dropped.
//!
//! - [`main`] parses the command line and runs the server or, with `client`, [`client::run`],
//!   or, with `load`, [`load::run`].
//! - `run_server` binds the listening socket and announces its address.
//! - `serve` accepts connections, sets each one up for batched writes (`tune`), and hands it
//!   to `spawn_handler`, which serves it on a thread of its own.
//! - [`connection::handle_client`] starts the client's writer thread, runs its session, then
//!   closes its queue, waits for the writer, and closes the connection.
//! - [`outbox::Outbox`]: the bounded queue, a `Mutex<VecDeque>` and two `Condvar`s; the writer
//!   thread ([`room::Client`]) takes everything waiting and writes it in one call.
//! - [`room::Room`] is the shared list of named clients; broadcasting, notices and the
//!   shutdown's notice only queue lines. A [`room::Membership`] guard announces a client's
//!   leaving however its connection ends, a dropped slow client included.
//! - [`shutdown`], [`slots::Slots`], [`session`], [`names`], [`line`](mod@line) and [`client`]
//!   are chapter 8's: the signal handler, the cap, the protocol, names, lines and the client.
//!
//! This is chapter 8's answer with the queue and the writer in place but for their key parts,
//! marked `TODO(ch09)`: queuing a line without waiting ([`outbox::Outbox::push`]), waiting for
//! lines and taking them all ([`outbox::Outbox::take_all`]), the writer thread's loop, and
//! dropping a client that is too slow (both in [`room`]). Grade it with `cargo test -p ch09`.

#[macro_use]
mod console;
mod cli;
pub mod client;
pub mod connection;
pub mod line;
pub mod load;
pub mod names;
pub mod outbox;
pub mod room;
pub mod session;
pub mod shutdown;
pub mod slots;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use clap::Parser;

use cli::ServerArgs;
use room::{Registration, Room};
use slots::{SlotGuard, Slots};

/// How long to wait before accepting again after `accept` failed (for example when the
/// process has run out of file descriptors): long enough not to spin, short enough to recover.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(100);

/// Runs the server or the client; returns the process's exit status.
pub fn main() -> ExitCode {
    match cli::Cli::parse().command() {
        cli::Command::Server(args) => run_server(&args),
        cli::Command::Client(args) => client::run(&args.addr, args.name.as_deref()),
        cli::Command::Load(args) => load::run(&args),
    }
}

/// Runs the server until SIGINT or SIGTERM, then shuts it down in order.
fn run_server(args: &ServerArgs) -> ExitCode {
    let (listener, local) = match bind(&args.addr) {
        Ok(bound) => bound,
        Err(message) => {
            say_err!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    if let Err(err) = shutdown::install_handler(Arc::clone(&stop), local) {
        say_err!("error: installing the signal handler: {err}");
        return ExitCode::FAILURE;
    }
    // Only now: a signal that arrives right after this line must start a shutdown, and until
    // the handler was installed it would have killed the process instead.
    say!("listening on {local}");
    let room = Arc::new(Room::new(args.queue_lines as usize));
    let threads = serve(listener, args, &room, &stop);
    shutdown_sequence(&room, threads);
    ExitCode::SUCCESS
}

/// Binds `addr`; returns the listener and the address actually bound.
///
/// Keep as is: the grader reads the port from the `listening on` line printed with it.
pub fn bind(addr: &str) -> Result<(TcpListener, SocketAddr), String> {
    // bind() + listen() in one call: the kernel now queues incoming connections for us.
    let listener = TcpListener::bind(addr)
        .map_err(|err| format!("error: cannot listen on {addr}: {err}{}", bind_hint(&err)))?;
    let local = listener
        .local_addr()
        .map_err(|err| format!("error: cannot read the bound address: {err}"))?;
    Ok((listener, local))
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

/// Accepts clients while slots are free and starts a thread for each; refuses the rest.
/// Returns when `stop` is set, with the threads still running, and closes the listener.
fn serve(
    listener: TcpListener,
    args: &ServerArgs,
    room: &Arc<Room>,
    stop: &AtomicBool,
) -> Vec<JoinHandle<()>> {
    let slots = Slots::new(usize::from(args.max_clients));
    let mut threads = Vec::new();
    loop {
        // accept() blocks until a client has completed the TCP handshake, or until the
        // signal handler connects to us to say it is time to stop.
        let accepted = listener.accept();
        if stop.load(Ordering::SeqCst) {
            // Returning drops the listener: from now on, connecting is refused at once.
            return threads;
        }
        match accepted {
            Ok((stream, peer)) => {
                // Taken here, on the one accepting thread, before anything else happens: a
                // client still choosing its name holds a slot too.
                let Some(slot) = slots.try_acquire() else {
                    refuse(stream, peer, slots.max());
                    continue;
                };
                say!("connected {peer}");
                tune(&stream, peer);
                // Registered here, on the accepting thread, so that no connection accepted
                // before the stop can be missed by the shutdown sequence.
                let registration = match room.register(&stream, peer) {
                    Ok(registration) => registration,
                    Err(err) => {
                        // Most likely out of file descriptors (EMFILE): the accept took the
                        // last one and the dup found none. Treat it as a failed accept: say
                        // so, tell the client, and pause before accepting again.
                        say_err!("error: setting up {peer}: {err}; refusing it for now");
                        let _ = (&stream).write_all(b"error: server is busy, try again later\n");
                        drop(stream);
                        thread::sleep(ACCEPT_RETRY_DELAY);
                        continue;
                    }
                };
                let session = Session {
                    room: Arc::clone(room),
                    registration,
                    slot,
                    login_timeout: args.login_timeout,
                };
                match spawn_handler(session, stream, peer) {
                    Ok(thread) => threads.push(thread),
                    // The stream and the slot went down with the thread that never started.
                    Err(err) => say_err!("error: starting a thread for {peer}: {err}"),
                }
                // Forget the threads that have finished, so the list holds only live ones.
                threads.retain(|thread| !thread.is_finished());
            }
            Err(err) => {
                say_err!("error: accepting a connection: {err}");
                thread::sleep(ACCEPT_RETRY_DELAY);
            }
        }
    }
}

/// Tells every client, closes every connection, and waits for every connection's thread.
fn shutdown_sequence(room: &Room, threads: Vec<JoinHandle<()>>) {
    say!("shutting down");
    // The notice, then shutdown(Both): each connection's thread wakes from its blocking read,
    // sees end of file, and leaves as on any disconnect.
    room.close_all("* server is shutting down");
    for thread in threads {
        // A thread that panicked has printed why already; joining collects it all the same.
        let _ = thread.join();
    }
    say!("shutdown complete");
}

/// The kernel's send buffer for each client. Left alone, Linux grows it to 4 MiB for a client
/// that stops reading: a second queue, unbounded by `--queue-lines` and out of our sight. 64 KiB
/// is many lines of chat, and what the queue cannot hold beyond it is the client's problem.
pub const SEND_BUFFER: usize = 64 * 1024;

/// Sets up a new connection for the writer thread.
fn tune(stream: &TcpStream, peer: SocketAddr) {
    // The writer batches lines itself: Nagle's algorithm would only hold a small batch back,
    // waiting for an acknowledgement, and add latency.
    if let Err(err) = stream.set_nodelay(true) {
        say_err!("error: setting TCP_NODELAY for {peer}: {err}");
    }
    // Bound what waits in the kernel, so that the queue's bound means something.
    if let Err(err) = socket2::SockRef::from(stream).set_send_buffer_size(SEND_BUFFER) {
        say_err!("error: setting the send buffer for {peer}: {err}");
    }
}

/// Tells a client the server is full and closes the connection.
fn refuse(mut stream: TcpStream, peer: SocketAddr, max: usize) {
    say!("refused {peer}: server is full ({max}/{max})");
    let _ = stream
        .write_all(format!("error: server is full ({max}/{max}), try again later\n").as_bytes());
    // Closing a socket with unread input sends a reset, which can destroy the line we just
    // wrote. Discard what has already arrived (without waiting: this is the accepting thread),
    // then close.
    let _ = stream.shutdown(std::net::Shutdown::Write);
    if stream.set_nonblocking(true).is_ok() {
        let _ = stream.read(&mut [0u8; 4096]);
    }
}

/// What a connection's thread owns besides its socket.
struct Session {
    room: Arc<Room>,
    /// The connection's entry in the room's list of connections.
    registration: Registration,
    /// Held until the connection is fully closed.
    slot: SlotGuard,
    login_timeout: std::time::Duration,
}

/// Serves `stream` on a new thread until the client disconnects.
fn spawn_handler(
    session: Session,
    stream: TcpStream,
    peer: SocketAddr,
) -> io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name(format!("client {peer}"))
        .spawn(move || {
            let Session {
                room,
                registration,
                slot,
                login_timeout,
            } = session;
            let client = registration.client();
            if let Err(err) = connection::handle_client(&room, client, stream, login_timeout) {
                say_err!("error: serving {peer}: {err}");
            }
            // Give the slot back before saying so: whoever reads `disconnected` may count on
            // the slot being free. (If the thread panics instead, unwinding drops it.)
            drop(slot);
            say!("disconnected {peer}");
        })
}
