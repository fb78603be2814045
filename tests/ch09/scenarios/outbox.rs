//! Chapter 9's queue (`Outbox`) through its pub API, for what a socket cannot show: a push
//! that waits for room, a writer that sleeps through a line, a closed queue that is not
//! drained. (The black-box scenarios are in slow.rs; chapter 10, which has no `Outbox`,
//! reruns those only.)

use std::sync::{Arc, mpsc};
use std::thread;

use harness::Lab;

use super::CH;
use super::chapter::outbox::{Line, Outbox, Refused};
use super::slots::without_panic;

/// The book page that teaches these behaviours.
const PAGE: &str = "ch09-slow";

fn line(text: &str) -> Line {
    Arc::from(text)
}

/// Runs `task` on a thread of its own and returns its result, failing the test if it panics
/// or has not returned within the harness timeout (a call that waits for ever).
fn returns<T: Send + 'static>(
    lab: &Lab,
    what: &str,
    task: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done, result) = mpsc::channel();
    let worker = thread::spawn(move || {
        let _ = done.send(task());
    });
    match result.recv_timeout(harness::timeout()) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => lab.fail(
            &format!("{what} returns at once"),
            &format!(
                "it had not returned after {} ms: it waits",
                harness::timeout().as_millis()
            ),
        ),
        // The sender was dropped without a value: the task panicked.
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let payload = worker.join().err();
            without_panic(lab, what, || {
                if let Some(payload) = payload {
                    std::panic::resume_unwind(payload)
                }
            });
            unreachable!("a task that sent nothing panicked")
        }
    }
}

#[test]
fn the_queue_refuses_a_line_beyond_its_limit_and_keeps_the_others_in_order() {
    let lab = Lab::at(&CH, PAGE, "A queue and a writer per client");
    lab.hint(
        "`push` adds a line at the back unless the queue holds `limit` lines already: then it \
         returns `Err(Refused::Full)` at once, without waiting for room (the sender's thread \
         must never wait for a slow client); `take_all` moves every waiting line out, oldest \
         first",
    );
    let outbox = Arc::new(Outbox::new(3));
    lab.step("Outbox::new(3); push a, b, c, d");
    let pushed = returns(&lab, "each of four `Outbox::push` calls", {
        let outbox = Arc::clone(&outbox);
        move || {
            ["a", "b", "c", "d"]
                .iter()
                .map(|text| outbox.push(line(text)))
                .collect::<Vec<_>>()
        }
    });
    if pushed != [Ok(()), Ok(()), Ok(()), Err(Refused::Full)] {
        lab.fail(
            "the first three pushes are Ok, the fourth Err(Refused::Full)",
            &format!("they returned {pushed:?}"),
        );
    }
    lab.step("take_all");
    let (more, batch) = returns(
        &lab,
        "`Outbox::take_all` on a queue with lines",
        move || {
            let mut batch = Vec::new();
            let more = outbox.take_all(&mut batch);
            (more, batch)
        },
    );
    if !more || batch != [line("a"), line("b"), line("c")] {
        lab.fail(
            "take_all returns true with a, b, c",
            &format!("it returned {more} with {batch:?}"),
        );
    }
}

#[test]
fn the_writer_wakes_for_every_line_that_many_threads_push() {
    let lab = Lab::at(&CH, PAGE, "Condition variables and spurious wake-ups");
    lab.hint(
        "a writer slept through lines that were waiting: wait on the Condvar only while the \
         queue is empty (in a loop: a wait can end for no reason), and notify it after every \
         push, while or right after holding the lock",
    );
    const THREADS: usize = 4;
    const EACH: usize = 20_000;
    let outbox = Arc::new(Outbox::new(THREADS * EACH));
    lab.step(format!(
        "{THREADS} threads push {EACH} lines each, one by one, while a writer thread takes all \
         it can, until it has {} lines",
        THREADS * EACH
    ));
    let (done, finished) = mpsc::channel();
    let writer = {
        let outbox = Arc::clone(&outbox);
        thread::spawn(move || {
            let mut got = 0;
            let mut batch = Vec::new();
            while got < THREADS * EACH {
                batch.clear();
                if !outbox.take_all(&mut batch) {
                    break;
                }
                got += batch.len();
                let _ = done.send(got);
            }
        })
    };
    let pushers: Vec<_> = (0..THREADS)
        .map(|t| {
            let outbox = Arc::clone(&outbox);
            thread::spawn(move || {
                for i in 0..EACH {
                    let _ = outbox.push(line(&format!("{t} {i}")));
                }
            })
        })
        .collect();
    for pusher in pushers {
        if let Err(payload) = pusher.join() {
            without_panic(&lab, "`Outbox::push`", || {
                std::panic::resume_unwind(payload)
            });
        }
    }
    let mut got = 0;
    while got < THREADS * EACH {
        match finished.recv_timeout(harness::timeout()) {
            Ok(count) => got = count,
            Err(_) => break,
        }
    }
    if got != THREADS * EACH {
        lab.fail(
            &format!("the writer takes all {} lines", THREADS * EACH),
            &format!(
                "it had taken {got} when it stopped taking any (for {} ms, or it panicked)",
                harness::timeout().as_millis()
            ),
        );
    }
    lab.step(format!("the writer took all {got} lines"));
    outbox.close();
    let _ = writer.join();
}

#[test]
fn a_closed_queue_is_drained_before_its_writer_is_told_to_stop() {
    let lab = Lab::at(&CH, PAGE, "A queue and a writer per client");
    lab.hint(
        "after `close`, pushes are refused (`Refused::Closed`), but `take_all` still hands \
         out what is waiting; only a closed and empty queue makes it return false, at once",
    );
    let outbox = Outbox::new(4);
    lab.step("Outbox::new(4); push a; close; push b");
    without_panic(&lab, "`Outbox::push`", || outbox.push(line("a")))
        .unwrap_or_else(|refused| lab.fail("push a is Ok", &format!("{refused:?}")));
    outbox.close();
    let late = without_panic(&lab, "`Outbox::push`", || outbox.push(line("b")));
    if late != Err(Refused::Closed) {
        lab.fail(
            "a push after close is Err(Refused::Closed)",
            &format!("{late:?}"),
        );
    }
    lab.step("take_all, twice (on a thread of its own, in case it waits)");
    let outbox = Arc::new(outbox);
    let (done, results) = mpsc::channel();
    {
        let outbox = Arc::clone(&outbox);
        thread::spawn(move || {
            for _ in 0..2 {
                let mut batch = Vec::new();
                let more = outbox.take_all(&mut batch);
                if done.send((more, batch)).is_err() {
                    return;
                }
            }
        });
    }
    let expected = [(true, vec![line("a")]), (false, Vec::new())];
    for (i, wanted) in expected.iter().enumerate() {
        match results.recv_timeout(harness::timeout()) {
            Ok(got) if got == *wanted => {}
            Ok(got) => lab.fail(
                &format!("take_all call {} returns {wanted:?}", i + 1),
                &format!("it returned {got:?}"),
            ),
            Err(_) => lab.fail(
                &format!("take_all call {} returns {wanted:?}", i + 1),
                "it never returned (it waits on a queue that is closed and empty)",
            ),
        }
    }
}
