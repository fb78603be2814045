//! Admission slots: a counting semaphore that never waits, so a full server refuses at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

// ANCHOR: slots
/// At most `max` clients at a time. Share it as `Arc<Slots>`.
#[derive(Debug)]
pub struct Slots {
    /// Slots in use: one per admitted connection, from accept until it is fully closed.
    taken: AtomicUsize,
    /// The cap (`--max-clients`).
    max: usize,
}
// ANCHOR_END: slots

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

    // ANCHOR: try_acquire
    /// Takes a slot if one is free. The slot is given back when the guard is dropped.
    pub fn try_acquire(self: &Arc<Self>) -> Option<SlotGuard> {
        // The check (taken < max) and the increment are one atomic step: fetch_update retries
        // its compare-and-swap if another thread changed the count in between, so two threads
        // can never both see "4 of 5" and both get in.
        self.taken
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |taken| {
                (taken < self.max).then_some(taken + 1)
            })
            .ok()
            .map(|_| SlotGuard {
                slots: Arc::clone(self),
            })
    }
    // ANCHOR_END: try_acquire
}

// ANCHOR: slot_guard
/// One admitted connection's slot. Dropping it, on whatever path (a clean exit, an error, a
/// panic unwinding the connection's thread), gives the slot back.
#[derive(Debug)]
pub struct SlotGuard {
    slots: Arc<Slots>,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.slots.taken.fetch_sub(1, Ordering::AcqRel);
    }
}
// ANCHOR_END: slot_guard

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Barrier;
    use std::thread;

    #[test]
    fn gives_out_at_most_max_slots_and_takes_them_back_on_drop() {
        let slots = Slots::new(2);
        let first = slots.try_acquire().expect("a slot is free");
        let _second = slots.try_acquire().expect("a slot is free");
        assert!(slots.try_acquire().is_none());
        drop(first);
        assert!(slots.try_acquire().is_some());
    }

    #[test]
    fn many_threads_at_once_never_get_more_than_max() {
        for _ in 0..50 {
            let slots = Slots::new(5);
            let start = Arc::new(Barrier::new(40));
            let guards: Vec<Option<SlotGuard>> = thread::scope(|scope| {
                let handles: Vec<_> = (0..40)
                    .map(|_| {
                        let (slots, start) = (Arc::clone(&slots), Arc::clone(&start));
                        scope.spawn(move || {
                            start.wait();
                            slots.try_acquire()
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            assert_eq!(guards.iter().flatten().count(), 5);
        }
    }
}
