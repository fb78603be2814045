//! One deadline per line: a client that stops reading costs everyone else at most one write
//! deadline (2 s) before it is disconnected, even when its kernel lets a few bytes through now
//! and then. A write timeout alone (`SO_SNDTIMEO`) bounds one system call and starts again after
//! every partial write, so it does not bound the line.
//!
//! The scenario: S1..Sk stop reading (with small receive buffers, so the kernel trickles bytes
//! to them); F floods the room until the server stops reading F (the thread relaying F's lines
//! is stuck writing to the S's); then L says five lines, each once the last has reached F, and
//! F measures how long they take in all.
//! Chapters 5 to 7 run it again with their own `join_all` and `relayed`.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use harness::{Conn, Lab, ReadError, Server};

use super::CH;
use super::support::{join_all_with, relayed};

/// The book page and section that teach per-call timeouts against deadlines.
const PAGE: &str = "ch04-mutex";
const SECTION: &str = "A deadline, not a timeout";

/// The stalled readers' receive buffer, as in the measurements on the book page.
const SMALL_RECEIVE_BUFFER: usize = 4096;

/// How long F's writes must make no progress before the test concludes that the server has
/// stopped reading F.
const F_STUCK: Duration = Duration::from_millis(200);

/// What a failure most likely means, from how late L's line was.
const HINT: &str = "L's line waited behind writes to clients that stopped reading for longer \
    than one 2 s deadline each. A write timeout (`set_write_timeout`) bounds one system call, and \
    `write_all` starts a new wait after every partial write: give each line one deadline, and set \
    the time left before every write";

#[test]
fn one_stalled_reader_delays_the_others_by_at_most_one_write_deadline() {
    let lab = Lab::at(&CH, PAGE, SECTION);
    lab.hint(HINT);
    let mut server = lab.start_server(&[]);
    let [s1, f, l] = join_all_with(&lab, &mut server, ["S1", "F", "L"], open);
    stalled_readers_cost_one_deadline_each(&lab, vec![s1], f, l, Duration::from_millis(2500));
}

#[test]
fn three_stalled_readers_delay_the_others_by_at_most_three_write_deadlines() {
    let lab = Lab::at(&CH, PAGE, SECTION);
    lab.hint(HINT);
    let mut server = lab.start_server(&[]);
    let [s1, s2, s3, f, l] = join_all_with(&lab, &mut server, ["S1", "S2", "S3", "F", "L"], open);
    stalled_readers_cost_one_deadline_each(
        &lab,
        vec![s1, s2, s3],
        f,
        l,
        Duration::from_millis(6500),
    );
}

/// Connects the stalled readers (named `S...`) with a small receive buffer, the others as usual.
fn open(server: &Server, name: &str) -> Conn {
    if name.starts_with('S') {
        server.connect_with_receive_buffer(name, SMALL_RECEIVE_BUFFER)
    } else {
        server.connect(name)
    }
}

/// How many lines L says, each once the last has reached F: the first may slip through before
/// the stalled clients are full, the later ones meet every write that is stuck.
const L_LINES: usize = 5;

/// Stalls `stalled`, floods from `f`, then has `l` say [`L_LINES`] lines, each once the last has
/// reached `f`; fails unless all of them have arrived within `bound`.
fn stalled_readers_cost_one_deadline_each(
    lab: &Lab,
    stalled: Vec<Conn>,
    mut f: Conn,
    l: Conn,
    bound: Duration,
) {
    lab.step(format!(
        "{} client(s) stop reading; L reads everything; F floods until the server stops reading it",
        stalled.len()
    ));
    let mut l_writer = l
        .stream()
        .try_clone()
        .expect("a connected socket can be cloned");
    let texts: Vec<String> = (1..=L_LINES)
        .map(|i| format!("L speaks while the others are stalled ({i})"))
        .collect();
    let relayed_texts: Vec<String> = texts.iter().map(|text| relayed(&l, text)).collect();
    let stop = AtomicBool::new(false);
    thread::scope(|scope| {
        // L is a live reader: everything F sends reaches it, and it must keep taking it.
        let reader = scope.spawn(|| keep_reading(l, &stop));
        let flooded = f.flood_until_stalled(F_STUCK, 256 << 20);
        let start = Instant::now();
        let mut waits = Vec::new();
        let outcome = match flooded {
            Ok(bytes) => {
                lab.step(format!(
                    "F: the server stopped reading after {bytes} bytes (it is stuck writing to \
                     a client that stopped reading)"
                ));
                lab.step(format!(
                    "L: says {L_LINES} lines, each once the last has reached F"
                ));
                texts
                    .iter()
                    .zip(&relayed_texts)
                    .try_for_each(|(text, wanted)| {
                        let sent = Instant::now();
                        l_writer
                            .write_all(format!("{text}\n").as_bytes())
                            .map_err(|err| format!("L's write failed: {err}"))?;
                        f.read_until(wanted, bound + harness::timeout())?;
                        waits.push(sent.elapsed().as_millis());
                        Ok(())
                    })
            }
            Err(why) => Err(format!(
                "the server never stopped reading F ({why}): are the stalled clients still in \
                 the room?"
            )),
        };
        stop.store(true, Ordering::SeqCst);
        let _ = reader.join();
        let took = start.elapsed();
        let expected = format!(
            "F receives L's {L_LINES} lines within {} ms in all",
            bound.as_millis()
        );
        let each = format!("each took {waits:?} ms");
        match outcome {
            Ok(()) if took <= bound => lab.step(format!(
                "F: received L's {L_LINES} lines within {} ms ({each})",
                took.as_millis()
            )),
            Ok(()) => lab.fail(
                &expected,
                &format!(
                    "they took {} ms, with {} client(s) not reading ({each})",
                    took.as_millis(),
                    stalled.len()
                ),
            ),
            Err(got) => lab.fail(&expected, &format!("{got} ({each} before that)")),
        }
    });
    drop(stalled);
}

/// Reads `conn` until `stop` is set or the connection ends.
fn keep_reading(mut conn: Conn, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match conn.read_line_bytes(Duration::from_millis(100)) {
            Ok(_) | Err(ReadError::TimedOut { .. }) => {}
            Err(_) => return,
        }
    }
}
