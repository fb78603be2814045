//! `Slots` itself, through its pub API: the check-then-act race is too narrow to see through a
//! socket (the accepting thread is the only one taking slots), so many threads race for the
//! slots directly here, over many rounds.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use harness::Lab;

use super::CH;
use super::chapter::slots::{SlotGuard, Slots};

/// The book page that teaches these behaviours.
const PAGE: &str = "ch06-cap";

/// Threads racing for the slots: a race needs two running at once, and a few more keep it
/// going while others wait for a core.
const THREADS: usize = 8;

/// Take-and-give-back attempts per thread per round.
const TRIES: usize = 2000;

/// The pause after giving a slot back varies from 0 to this many spin-loop hints (a few
/// nanoseconds each): the instant another core sees the slot free varies too.
const PAUSES: usize = 64;

/// How long the threads race at least, in rounds of `TRIES` each.
const RACE_TIME: Duration = Duration::from_millis(500);

/// How many overlapped tries (two threads running at the same instant) the race must have seen
/// before it stops: on a busy machine two threads run at once only now and then, so the race
/// goes on longer there, up to [`RACE_LIMIT`]. A check-then-act `try_acquire` was caught within
/// 552 to 4305 overlaps in 6 runs on this lab's 2 cores under a load average of 9 (with it
/// patched in, `cargo test -p ch06 --features solution -- slots::`). With 20,000 overlaps and
/// 200 ms, `.ci/broken --runs 3` still missed it once, while the machine was also building: the
/// race now goes on at least 2.5 times as long, and for five times as many overlaps.
const OVERLAPS: usize = 100_000;

/// How long the threads race at most.
const RACE_LIMIT: Duration = Duration::from_secs(5);

/// The text of a panic's payload (a `todo!()` message, say).
fn panic_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic".to_string())
}

/// Runs `task`, turning a panic into the test's failure with its message (chapter 9's queue
/// tests use it too).
pub fn without_panic<T>(lab: &Lab, what: &str, task: impl FnOnce() -> T) -> T {
    match panic::catch_unwind(AssertUnwindSafe(task)) {
        Ok(value) => value,
        Err(payload) => lab.fail(
            &format!("{what} returns"),
            &format!("it panicked: {}", panic_text(payload.as_ref())),
        ),
    }
}

/// Takes slots until none is left; fails unless exactly `max` were free.
fn take_all(lab: &Lab, slots: &Arc<Slots>, max: usize, when: &str) -> Vec<SlotGuard> {
    let mut guards = Vec::new();
    while guards.len() <= max {
        match without_panic(lab, "`Slots::try_acquire`", || slots.try_acquire()) {
            Some(guard) => guards.push(guard),
            None => break,
        }
    }
    if guards.len() != max {
        lab.fail(
            &format!("{when}, exactly {max} calls to `try_acquire` in a row get a slot"),
            &format!("{} did", guards.len()),
        );
    }
    guards
}

#[test]
fn slot_guards_give_their_slot_back_when_dropped() {
    let lab = Lab::at(&CH, PAGE, "RAII slot guards");
    lab.hint(
        "`try_acquire` counts one more slot taken and returns a guard; the guard's `Drop` \
         counts one fewer, so a dropped guard's slot can be taken again",
    );
    let slots = Slots::new(2);
    lab.step("Slots::new(2), then try_acquire until it returns None");
    let mut guards = take_all(&lab, &slots, 2, "on a new Slots::new(2)");
    lab.step("drop one guard, then try_acquire again");
    without_panic(&lab, "dropping a `SlotGuard`", || drop(guards.pop()));
    let again = without_panic(&lab, "`Slots::try_acquire`", || slots.try_acquire());
    if again.is_none() {
        lab.fail(
            "after a guard is dropped, `try_acquire` gets its slot",
            "it returned None: the slot was not given back",
        );
    }
    lab.step("drop every guard, then take them all again");
    without_panic(&lab, "dropping a `SlotGuard`", || drop((guards, again)));
    take_all(&lab, &slots, 2, "once every guard is dropped");
}

/// The hint for two threads holding one slot.
const CHECK_THEN_ACT: &str = "checking `taken < max` and then adding one are two steps, and \
    another thread can take the last slot in between: make them one atomic step \
    (`fetch_update`, a compare-and-swap loop, or both under one lock)";

/// What the racing threads saw.
#[derive(Default)]
struct Race {
    /// Slots held at this moment, as the threads count them: one more right after a slot is
    /// taken, one fewer right before its guard is dropped.
    held: AtomicUsize,
    /// The most slots held at once.
    most: AtomicUsize,
    /// Rounds run.
    rounds: AtomicUsize,
    /// Counts every try, by every thread: a thread that finds it moved on by more than its own
    /// one since its last try was overlapped by another thread.
    ticks: AtomicUsize,
    /// Tries that another thread overlapped: the instants at which a race was possible.
    overlaps: AtomicUsize,
    /// Set by the round's leader when the time is up, or by a thread that panicked.
    stop: AtomicBool,
    /// The first panic's message (a `todo!()`, say).
    panicked: Mutex<Option<String>>,
}

/// `THREADS` threads race for `slots` in rounds, for `RACE_TIME`: each round starts at a
/// barrier, then every thread takes a slot and gives it back, `TRIES` times.
fn race_for(slots: &Arc<Slots>, max: usize) -> Race {
    let race = Race::default();
    let barrier = Barrier::new(THREADS);
    let awake = AtomicUsize::new(0);
    let started = Instant::now();
    thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for round in 1.. {
                    // The leader decides, between two barriers, whether this round runs, so
                    // every thread makes the same choice.
                    if barrier.wait().is_leader() {
                        let elapsed = started.elapsed();
                        let seen_enough = elapsed >= RACE_TIME
                            && race.overlaps.load(Ordering::SeqCst) >= OVERLAPS;
                        let caught = race.most.load(Ordering::SeqCst) > max;
                        if seen_enough || caught || elapsed >= RACE_LIMIT {
                            race.stop.store(true, Ordering::SeqCst);
                        }
                    }
                    barrier.wait();
                    if race.stop.load(Ordering::SeqCst) {
                        return;
                    }
                    race.rounds.fetch_max(round, Ordering::SeqCst);
                    // A barrier wakes its waiters one after another: wait until every thread
                    // is awake, so that they race from the same instant.
                    awake.fetch_add(1, Ordering::SeqCst);
                    while awake.load(Ordering::SeqCst) < THREADS * round {
                        thread::yield_now();
                    }
                    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
                        let mut overlapped = 0;
                        let mut last = race.ticks.fetch_add(1, Ordering::SeqCst);
                        for try_number in 0..TRIES {
                            let tick = race.ticks.fetch_add(1, Ordering::SeqCst);
                            if tick != last + 1 {
                                overlapped += 1;
                            }
                            last = tick;
                            if let Some(guard) = slots.try_acquire() {
                                let now = race.held.fetch_add(1, Ordering::SeqCst) + 1;
                                race.most.fetch_max(now, Ordering::SeqCst);
                                race.held.fetch_sub(1, Ordering::SeqCst);
                                drop(guard);
                                // Wait a varying moment before trying again, so that the
                                // thread that gave the slot back and one that was waiting for
                                // it now and then ask for it at the same instant.
                                for _ in 0..try_number % PAUSES {
                                    std::hint::spin_loop();
                                }
                            }
                        }
                        race.overlaps.fetch_add(overlapped, Ordering::SeqCst);
                    }));
                    if let Err(payload) = outcome {
                        // Stop at the next round: the others must not wait at the barrier.
                        race.stop.store(true, Ordering::SeqCst);
                        let mut first =
                            race.panicked.lock().unwrap_or_else(PoisonError::into_inner);
                        first.get_or_insert_with(|| panic_text(payload.as_ref()));
                    }
                }
            });
        }
    });
    race
}

#[test]
fn slots_never_hands_out_more_than_max_to_threads_racing_for_them() {
    let lab = Lab::at(&CH, PAGE, "Check-then-act races");
    lab.hint(CHECK_THEN_ACT);
    if thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        lab.step(
            "(this machine runs one thread at a time: a check-then-act race can pass here and \
             fail on a machine with two cores or more)",
        );
    }
    for max in [1, 3] {
        let slots = Slots::new(max);
        let started = Instant::now();
        let race = race_for(&slots, max);
        let raced = started.elapsed();
        let (most, rounds) = (race.most.into_inner(), race.rounds.into_inner());
        let overlaps = race.overlaps.into_inner();
        lab.step(format!(
            "Slots::new({max}); {THREADS} threads raced for its slots for {} ms: {rounds} \
             rounds, each from a barrier, each thread taking a slot and giving it back \
             {TRIES} times per round; {overlaps} tries overlapped another thread's",
            raced.as_millis()
        ));
        if let Some(text) = race
            .panicked
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
        {
            lab.fail(
                "`try_acquire` and dropping a `SlotGuard` return",
                &format!("a thread panicked: {text}"),
            );
        }
        if most > max {
            lab.fail(
                &format!("at most {max} slots held at once (Slots::new({max}))"),
                &format!(
                    "{most} threads held a slot at the same time: two threads both saw a free \
                     slot and both took it (check-then-act)"
                ),
            );
        }
        lab.step(format!("at most {most} slots were held at once"));
        lab.section("RAII slot guards").hint(
            "every guard was dropped, so every slot must be free again: a guard's `Drop` gives \
             back exactly the one slot its `try_acquire` took",
        );
        take_all(&lab, &slots, max, "after every guard was dropped");
        lab.section("Check-then-act races").hint(CHECK_THEN_ACT);
    }
}
