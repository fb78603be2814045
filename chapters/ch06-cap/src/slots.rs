//! Admission slots: a counting semaphore that never waits, so a full server refuses at once.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

/// At most `max` clients at a time. Share it as `Arc<Slots>`.
#[derive(Debug)]
pub struct Slots {
    /// Slots in use: one per admitted connection, from accept until it is fully closed.
    taken: AtomicUsize,
    /// The cap (`--max-clients`).
    max: usize,
}

impl Slots {
    /// A semaphore with `max` free slots.
    pub fn new(max: usize) -> Arc<Slots> {
        Arc::new(Slots {
            taken: AtomicUsize::new(0),
            max,
        })
    }

    /// The cap.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Takes a slot if one is free. The slot is given back when the guard is dropped.
    pub fn try_acquire(self: &Arc<Self>) -> Option<SlotGuard> {
        // TODO(ch06): Take a slot if fewer than `max` are taken, and return its guard; if not,
        // None. Two threads must never both see "4 of 5" and both get in: the check and the
        // count are one step, which no other thread can come between.
        // Book: Check-then-act races.
        let _ = (&self.taken, self.max);
        todo!("ch06: take a slot if one is free, in one atomic step (book: Check-then-act races)")
    }
}

/// One admitted connection's slot. Dropping it, on whatever path (a clean exit, an error, a
/// panic unwinding the connection's thread), gives the slot back.
#[derive(Debug)]
pub struct SlotGuard {
    slots: Arc<Slots>,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        // TODO(ch06): Give the slot back. This runs on every way out of a connection's thread, a
        // panic included, so it must not panic itself. Book: RAII slot guards.
        let _ = &self.slots;
        todo!("ch06: give the slot back (book: RAII slot guards)")
    }
}
