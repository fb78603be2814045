//! Turning SIGINT (Ctrl-C) and SIGTERM into an orderly shutdown.
//!
//! A signal handler interrupts whatever the process was doing, so it may only do
//! async-signal-safe work: no locks, no allocation, no `println!`. The `ctrlc` crate's real
//! handler only posts a semaphore (`sem_post`, which is async-signal-safe; older versions
//! wrote a byte to a pipe instead); a thread of its own waits on it and runs our closure,
//! which is therefore ordinary code and may do anything.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

// ANCHOR: install_handler
/// Makes the first SIGINT or SIGTERM set `stop` and wake the accepting thread; a second one
/// ends the process at once with status 130 (128 + SIGINT), for when a shutdown hangs.
pub fn install_handler(stop: Arc<AtomicBool>, listening: SocketAddr) -> Result<(), ctrlc::Error> {
    ctrlc::set_handler(move || {
        if stop.swap(true, Ordering::SeqCst) {
            say_err!("error: interrupted again during shutdown; exiting at once");
            std::process::exit(130);
        }
        wake_accept(listening);
    })
}
// ANCHOR_END: install_handler

// ANCHOR: wake_accept
/// Wakes the thread blocked in `accept()` by connecting to our own listener. Setting a flag
/// alone does nothing: a thread blocked in `accept()` looks at no flag until a connection
/// arrives, so we make one arrive.
pub fn wake_accept(listening: SocketAddr) {
    let mut target = listening;
    if target.ip().is_unspecified() {
        // Bound to every address (0.0.0.0 or [::]): reach it through loopback.
        target.set_ip(match listening {
            SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
        });
    }
    if let Err(err) = TcpStream::connect_timeout(&target, Duration::from_secs(1)) {
        say_err!("error: waking the accepting thread: {err}; it stops at the next connection");
    }
}
// ANCHOR_END: wake_accept
