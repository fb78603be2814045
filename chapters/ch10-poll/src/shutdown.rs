//! Turning SIGINT (Ctrl-C) and SIGTERM into an orderly shutdown of the event loop.
//!
//! The `ctrlc` crate's real signal handler only posts a semaphore; a thread of its own waits
//! on it and runs our closure, which is ordinary code. The loop's thread sleeps in `poll`, and
//! a flag alone would not wake it: a [`mio::Waker`] is an event the loop's poll reports like
//! any socket's (an eventfd on Linux), so setting the flag and waking it is all it takes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mio::Waker;

/// Makes the first SIGINT or SIGTERM set `stop` and wake the loop; a second one ends the
/// process at once with status 130 (128 + SIGINT), for when a shutdown hangs.
pub fn install_handler(stop: Arc<AtomicBool>, waker: Arc<Waker>) -> Result<(), ctrlc::Error> {
    ctrlc::set_handler(move || {
        if stop.swap(true, Ordering::SeqCst) {
            say_err!("error: interrupted again during shutdown; exiting at once");
            std::process::exit(130);
        }
        // TODO(ch10): The loop sleeps in poll and looks at no flag until something wakes it:
        // wake it. Book: Waking the loop.
        let _ = waker;
    })
}
