//! Turning SIGINT (Ctrl-C) and SIGTERM into an orderly shutdown of the event loop.
//!
//! The `ctrlc` crate's real signal handler only posts a semaphore; a thread of its own waits
//! on it and runs our closure, which is ordinary code. The loop's thread sleeps in `poll`, and
//! a flag alone would not wake it: a [`mio::Waker`] is an event the loop's poll reports like
//! any socket's (an eventfd on Linux), so setting the flag and waking it is all it takes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mio::Waker;

// ANCHOR: install_handler
/// Makes the first SIGINT or SIGTERM set `stop` and wake the loop; a second one ends the
/// process at once with status 130 (128 + SIGINT), for when a shutdown hangs.
pub fn install_handler(stop: Arc<AtomicBool>, waker: Arc<Waker>) -> Result<(), ctrlc::Error> {
    ctrlc::set_handler(move || {
        if stop.swap(true, Ordering::SeqCst) {
            say_err!("error: interrupted again during shutdown; exiting at once");
            std::process::exit(130);
        }
        if let Err(err) = waker.wake() {
            say_err!("error: waking the event loop: {err}");
        }
    })
}
// ANCHOR_END: install_handler
