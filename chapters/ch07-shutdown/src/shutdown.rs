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
    // TODO(ch07): Make the first SIGINT or SIGTERM start the shutdown (raise `stop` and wake
    // the accepting thread), and one that comes while a shutdown is under way end the process
    // at once, with status 130 and the protocol page's line. A handler that cannot be
    // installed is this function's error. Until you do, this installs nothing, and a signal
    // kills the server on the spot without a word to anyone. Book: Signals.
    let _ = (stop, listening);
    Ok(())
}

/// Wakes the thread blocked in `accept()` by connecting to our own listener. Setting a flag
/// alone does nothing: a thread blocked in `accept()` looks at no flag until a connection
/// arrives, so we make one arrive.
pub fn wake_accept(listening: SocketAddr) {
    // TODO(ch07): Wake the accepting thread: make a connection arrive at our own listener,
    // waiting a bounded time for it, and let it go. A server bound to every address (0.0.0.0
    // or [::]) is reached through loopback. If that fails, say so on standard error: the
    // accept loop then stops at the next real connection. Book: Waking a blocked accept.
    let _ = listening;
    todo!(
        "ch07: wake the accepting thread by connecting to ourselves (book: Waking a blocked accept)"
    )
}
