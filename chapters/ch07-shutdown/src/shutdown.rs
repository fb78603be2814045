//! Turning SIGINT (Ctrl-C) and SIGTERM into an orderly shutdown.
//!
//! A signal handler interrupts whatever the process was doing, so it may only do
//! async-signal-safe work: no locks, no allocation, no `println!`. The `ctrlc` crate's real
//! handler only posts a semaphore (`sem_post`, which is async-signal-safe; older versions
//! wrote a byte to a pipe instead); a thread of its own waits on it and runs our closure,
//! which is therefore ordinary code and may do anything.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Makes the first SIGINT or SIGTERM set `stop` and wake the accepting thread; a second one
/// ends the process at once with status 130 (128 + SIGINT), for when a shutdown hangs.
pub fn install_handler(stop: Arc<AtomicBool>, listening: SocketAddr) -> Result<(), ctrlc::Error> {
    // TODO(ch07): Install the handler with `ctrlc::set_handler(move || ...)` and return its
    // result (the `termination` feature, already on, makes it catch SIGTERM too). In the
    // closure: `stop.swap(true, Ordering::SeqCst)` tells you whether a stop was already under
    // way; if it was, print `error: interrupted again during shutdown; exiting at once` on
    // standard error and `std::process::exit(130)`; if not, call `wake_accept(listening)`.
    // Until you do, this installs nothing and a signal kills the server on the spot, without
    // a word to anyone. Book: Signals.
    let _ = (stop, listening);
    Ok(())
}

/// Wakes the thread blocked in `accept()` by connecting to our own listener. Setting a flag
/// alone does nothing: a thread blocked in `accept()` looks at no flag until a connection
/// arrives, so we make one arrive.
pub fn wake_accept(listening: SocketAddr) {
    // TODO(ch07): Connect to `listening` with `TcpStream::connect_timeout` (1 s) and drop the
    // connection; on failure print `error: waking the accepting thread: ...` on standard
    // error. If the server is bound to every address (`ip().is_unspecified()`: 0.0.0.0 or
    // [::]), connect to the loopback address of the same family instead
    // (`Ipv4Addr::LOCALHOST`, `Ipv6Addr::LOCALHOST`). Book: Waking a blocked accept.
    let _ = listening;
    todo!(
        "ch07: wake the accepting thread by connecting to ourselves (book: Waking a blocked accept)"
    )
}
