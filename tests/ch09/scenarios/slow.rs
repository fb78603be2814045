//! Chapter 9: slow clients. Every client has a bounded queue and a writer thread of its own, so
//! a client that stops reading, or reads slowly, costs the others nothing; one that falls a
//! whole queue behind is told `error: too slow, disconnected` and dropped, and the room hears
//! `* NAME left`; one that stops reading with room left in its queue is disconnected by its
//! writer's deadline. Black box only, so that chapter 10's event loop reruns them; the queue's
//! own API is graded in outbox.rs.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use harness::{Conn, Lab, ReadError, Server};
use rstest::rstest;

use super::CH;
use super::support::{join_all_with, join_each_with, relayed, write_raw};

/// The book page that teaches these behaviours.
const PAGE: &str = "ch09-slow";

/// What a client whose queue overflowed is told.
const TOO_SLOW: &str = "error: too slow, disconnected";

/// The stalled readers' receive buffer, as on the book page.
const SMALL_RECEIVE_BUFFER: usize = 4096;

/// The flood: 6 MB, in lines of 1000 bytes (with the newline).
const FLOOD_BYTES: usize = 6 << 20;

/// The queue for the flood tests, in lines: more than the flood.
const FLOOD_QUEUE: usize = 8192;

/// How soon a line must reach a client that reads, whatever the stalled ones do.
const PROMPTLY: Duration = Duration::from_millis(200);

/// No line may be this late, even once: half a write deadline.
const LATE_AT_ALL: Duration = Duration::from_millis(1000);

/// The server's default queue, in lines (`--queue-lines`).
const DEFAULT_QUEUE: usize = 1024;

/// The writer's deadline for one batch of lines (chapter 4's 2 s): a client that takes none
/// of it by then is disconnected.
const WRITE_DEADLINE: Duration = Duration::from_secs(2);

/// Connects `name`: `S...` and `K` with a small receive buffer, as clients that will stop
/// reading, the others as usual.
fn open(server: &Server, name: &str) -> Conn {
    if name.starts_with('S') || name == "K" {
        server.connect_with_receive_buffer(name, SMALL_RECEIVE_BUFFER)
    } else {
        server.connect(name)
    }
}

/// `lines` numbered 1000-byte lines (with the newline), as one buffer: `0001 xxx...`.
fn numbered_lines(lines: usize) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(lines * 1000);
    for i in 1..=lines {
        bytes.extend_from_slice(format!("{i:04} {}\n", "x".repeat(994)).as_bytes());
    }
    bytes
}

const HEAD_OF_LINE: &str = "a line to a client that reads waited behind clients that do not: \
    the thread that relays a line must only queue it for each recipient (a push that never \
    waits, even on a full queue), and each client's own writer thread does the writing";

/// Stalls `stalled` readers and has F flood the room with [`FLOOD_BYTES`] while L keeps
/// reading everything; meanwhile L says one line after another, each once the last has reached
/// F, until L has received the whole flood and one more line has gone through. Fails if two
/// lines in a row, or the last one, took more than [`PROMPTLY`] to reach F, or any line more
/// than [`LATE_AT_ALL`].
///
/// Every line, not only one sent after the flood: a server that writes from the sender's
/// thread gets stuck on a stalled reader only once that reader's kernel buffers are full,
/// which can be megabytes into the flood (Linux grows a send buffer up to 4 MiB), and from
/// then on every line waits.
#[rstest]
#[case::one(1)]
#[case::three(3)]
fn stalled_readers_cost_the_others_nothing(#[case] stalled: usize) {
    let lab = Lab::at(&CH, PAGE, "A queue and a writer per client");
    lab.hint(HEAD_OF_LINE);
    // Queues that hold the whole flood: L reads as fast as it can, but on a busy machine its
    // thread may wait for a core for longer than a 1024-line queue lasts at full speed, and it
    // must not be dropped as too slow meanwhile. (The stalled readers are then dropped by the
    // write deadline instead.)
    let server = lab.start_server(&["--queue-lines", &FLOOD_QUEUE.to_string()]);
    let mut names: Vec<String> = (1..=stalled).map(|i| format!("S{i}")).collect();
    names.extend(["F".to_string(), "L".to_string()]);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut room = join_each_with(&server, &names, open);
    let l = room.pop().expect("L joined last");
    let mut f = room.pop().expect("F joined before L");
    // How F sees L's lines: `[L] ` and the text (L itself moves to its reader thread).
    let from_l = relayed(&l, "");
    let mut l_writer = l
        .stream()
        .try_clone()
        .expect("a connected socket can be cloned");
    let flood_lines = FLOOD_BYTES / 1000;
    let last_flood_line = format!("[F] {flood_lines:04} {}", "x".repeat(994));
    lab.step(format!(
        "S1..S{stalled}: stop reading (4096-byte receive buffers); L: reads everything; F: \
         sends {} MB of 1000-byte lines; L: says a line, each once the last has reached F, \
         until L has the whole flood",
        FLOOD_BYTES >> 20
    ));
    let flood = numbered_lines(flood_lines);
    let flood_seen = AtomicBool::new(false);
    let mut slowest = (0, Duration::ZERO);
    let outcome: Result<usize, String> = thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut l = l;
            let deadline = Instant::now() + harness::timeout() * 2;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match l.read_line_bytes(left) {
                    Ok(line) if line == last_flood_line.as_bytes() => {
                        flood_seen.store(true, Ordering::SeqCst);
                        return l;
                    }
                    Ok(_) => {}
                    Err(_) => return l,
                }
            }
        });
        let f_writer = f
            .stream()
            .try_clone()
            .expect("a connected socket can be cloned");
        let flooding = scope.spawn(move || (&f_writer).write_all(&flood));
        let mut said = 0;
        let mut late_in_a_row = 0;
        let outcome = loop {
            // One more line once the flood is all through, then stop.
            let last = flood_seen.load(Ordering::SeqCst) || reader.is_finished();
            said += 1;
            let text = format!("L speaks during the flood ({said})");
            let sent = Instant::now();
            if let Err(err) = l_writer.write_all(format!("{text}\n").as_bytes()) {
                break Err(format!("L's write failed: {err}"));
            }
            let wanted = format!("{from_l}{text}");
            if let Err(why) = f.read_until(&wanted, harness::timeout() + PROMPTLY) {
                break Err(format!("line {said}: {why}"));
            }
            let took = sent.elapsed();
            if took > slowest.1 {
                slowest = (said, took);
            }
            // One late line can be the test's own thread waiting for a core on a busy
            // machine; a server that makes L wait behind a stalled reader makes line after
            // line late, by up to a write deadline each.
            if took > PROMPTLY {
                late_in_a_row += 1;
            } else {
                late_in_a_row = 0;
            }
            if late_in_a_row == 2 || took > LATE_AT_ALL {
                break Err(format!(
                    "L's line {said} arrived after {} ms{}",
                    took.as_millis(),
                    if late_in_a_row == 2 {
                        " (and the line before it was late too)"
                    } else {
                        ""
                    }
                ));
            }
            if last && late_in_a_row == 0 {
                break Ok(said);
            }
        };
        let _ = l_writer.shutdown(std::net::Shutdown::Both);
        let flooded = flooding.join();
        let l = reader.join();
        match (outcome, flooded, flood_seen.load(Ordering::SeqCst)) {
            (Err(why), _, _) => Err(why),
            (Ok(_), Ok(Err(err)), _) => Err(format!("F's flood failed: {err}")),
            (Ok(_), _, false) => Err(format!(
                "L never received the flood's last line ({}: dropped?)",
                match l {
                    Ok(_) => "it stopped arriving",
                    Err(_) => "L's reader panicked",
                }
            )),
            (Ok(said), _, true) => Ok(said),
        }
    });
    let expected = format!(
        "L's lines reach F within {} ms (never two late in a row, none after {} ms), with \
         {stalled} client(s) not reading and a flood under way",
        PROMPTLY.as_millis(),
        LATE_AT_ALL.as_millis()
    );
    match outcome {
        Ok(said) => lab.step(format!(
            "F: received all {said} of L's lines, the slowest (line {}) in {} ms",
            slowest.0,
            slowest.1.as_millis()
        )),
        Err(why) => lab.fail(&expected, &why),
    }
    drop(room);
}

#[test]
fn a_reader_half_a_queue_behind_catches_up_and_is_not_dropped() {
    let lab = Lab::at(&CH, PAGE, "Three policies for a full queue");
    lab.hint(
        "K fell half a queue behind and should have caught up: is the default queue 1024 lines \
         (`--queue-lines`)? Is a client dropped only when its queue is full, not when a write \
         would block or takes a moment? Does the writer write every line it takes, in order?",
    );
    let mut server = lab.start_server(&[]);
    let [mut k, mut p] = join_all_with(&lab, &mut server, ["K", "P"], open);
    let lines = DEFAULT_QUEUE / 2;
    lab.step(format!(
        "K: stops reading (4096-byte receive buffer); P: sends {lines} numbered lines of 1000 \
         bytes and `/who`, and reads the answer (by then every line is queued for K)"
    ));
    let mut burst = numbered_lines(lines);
    burst.extend_from_slice(b"/who\n");
    write_raw(&p, &burst);
    p.expect_line("online: K, P");
    lab.step(format!(
        "K: reads again, and must get all {lines} lines, in order"
    ));
    k.quiet();
    for i in 1..=lines {
        let wanted = format!("[P] {i:04} {}", "x".repeat(994));
        match k.read_line_bytes(harness::timeout()) {
            Ok(line) if line == wanted.as_bytes() => {}
            Ok(line) => {
                let got = String::from_utf8_lossy(&line);
                let shown: String = got.chars().take(60).collect();
                lab.fail(
                    &format!("K receives P's line {i} of {lines}"),
                    &format!("K received {shown:?} instead"),
                )
            }
            Err(err) => lab.fail(
                &format!("K receives P's line {i} of {lines}"),
                &format!("{err:?}"),
            ),
        }
    }
    lab.step(format!("K: received all {lines} lines"));
    p.send_line("still with us, K?");
    k.expect_line("[P] still with us, K?");
}

#[test]
fn a_reader_a_whole_queue_behind_is_told_and_dropped_and_the_others_hear_it_left() {
    let lab = Lab::at(&CH, PAGE, "Three policies for a full queue");
    lab.hint(
        "when a push finds the queue full, the client is too slow: queue `error: too slow, \
         disconnected` as its last line (throw away the rest), log it, and wake its own \
         thread from its read, so that it leaves the room as on any disconnect",
    );
    let queue = 64;
    let mut server = lab.start_server(&["--queue-lines", &queue.to_string()]);
    let [mut k, mut p] = join_all_with(&lab, &mut server, ["K", "P"], open);
    let lines = 400;
    lab.step(format!(
        "server: started with --queue-lines {queue}; K: stops reading (4096-byte receive \
         buffer); P: sends {lines} lines of 1000 bytes, far more than K's queue and kernel \
         buffers hold"
    ));
    let flood_started = Instant::now();
    write_raw(&p, &numbered_lines(lines));
    lab.step("P: waits for `* K left`");
    if let Err(why) = p.read_until("* K left", harness::timeout()) {
        lab.fail(
            "P receives \"* K left\": K fell a whole queue behind and was dropped",
            &why,
        );
    }
    // A drop that does not wake K's own thread leaves it in read() until K's writer gives up
    // on its batch (the write deadline, counted from after the flood began): only an earlier
    // `* K left` shows that the drop itself ended K.
    let took = flood_started.elapsed();
    if took >= WRITE_DEADLINE {
        lab.hint(
            "K left the room only when its writer's deadline ended it: when you drop a client, \
             also shut its socket down for reading (`Shutdown::Read`), so that its own thread \
             wakes from read() at once and leaves the room",
        );
        lab.fail(
            &format!(
                "P receives \"* K left\" within {} ms of the flood's start (before K's writer \
                 deadline could end K)",
                WRITE_DEADLINE.as_millis()
            ),
            &format!("it arrived after {} ms", took.as_millis()),
        );
    }
    lab.step(format!(
        "P: received \"* K left\" {} ms after the flood began",
        took.as_millis()
    ));
    lab.hint(
        "log the drop on the console with the client's address and the queue's size, as \
         `too slow ADDR: N lines waiting, its queue is full; disconnecting it`",
    );
    let peer = k.local_addr().to_string();
    server.expect_stdout(
        &format!("a line starting \"too slow {peer}\" and naming the queue's size, {queue}"),
        |line| line.starts_with(&format!("too slow {peer}")) && line.contains(&queue.to_string()),
    );
    lab.hint(
        "K should get every line that reached its socket, then `error: too slow, \
         disconnected` as its last line, then end of file: queue the error last (nothing may \
         follow it) and let the writer finish before the connection closes",
    );
    lab.step("K: reads again, until the connection closes");
    k.quiet();
    let mut last = None;
    let outcome = loop {
        match k.read_line_bytes(harness::timeout()) {
            Ok(line) => last = Some(String::from_utf8_lossy(&line).into_owned()),
            Err(ReadError::Closed { partial }) if partial.is_empty() => break Ok(()),
            Err(err) => break Err(format!("{err:?}")),
        }
    };
    match (outcome, last.as_deref()) {
        (Ok(()), Some(TOO_SLOW)) => {
            lab.step(format!("K: received {TOO_SLOW:?} last, then end of file"));
        }
        (Ok(()), other) => lab.fail(
            &format!("K's last line is {TOO_SLOW:?}, then end of file"),
            &format!(
                "its last line was {:?}",
                other.map(|line| line.chars().take(60).collect::<String>())
            ),
        ),
        (Err(why), _) => lab.fail(
            &format!("K receives {TOO_SLOW:?} and then end of file"),
            &why,
        ),
    }
}

#[test]
fn a_reader_that_stops_for_good_is_disconnected_at_the_write_deadline() {
    let lab = Lab::at(&CH, PAGE, "Batching: many lines, one system call");
    lab.hint(
        "K stopped reading for good while its queue still had room: its writer must give up \
         on a batch the kernel has not taken within the write deadline (2 s for the whole \
         batch, not per system call), and disconnect K, so that K's own thread leaves the room \
         as on any disconnect",
    );
    // A queue that holds everything: K is not dropped as too slow, only its writer can end it.
    let mut server = lab.start_server(&["--queue-lines", &FLOOD_QUEUE.to_string()]);
    let [k, mut p] = join_all_with(&lab, &mut server, ["K", "P"], open);
    let lines = 400;
    lab.step(format!(
        "server: started with --queue-lines {FLOOD_QUEUE}; K: stops reading (4096-byte \
         receive buffer); P: sends {lines} lines of 1000 bytes, more than K's kernel buffers \
         hold, and `/who`, and reads the answer (by then K's writer is stuck)"
    ));
    let mut burst = numbered_lines(lines);
    burst.extend_from_slice(b"/who\n");
    write_raw(&p, &burst);
    p.expect_line("online: K, P");
    let within = WRITE_DEADLINE + harness::timeout();
    lab.step(format!(
        "P: waits up to {} ms (the write deadline and the harness timeout) for `* K left`",
        within.as_millis()
    ));
    if let Err(why) = p.read_until("* K left", within) {
        lab.fail(
            "P receives \"* K left\": K's writer gave up on it at the write deadline",
            &why,
        );
    }
    drop(k);
}

#[test]
fn a_queue_of_no_lines_is_a_usage_error() {
    let lab = Lab::at(&CH, PAGE, "Memory bounds");
    lab.hint("`--queue-lines` takes 1 or more: a queue of 0 lines would drop every client");
    lab.step("server: started with --queue-lines 0");
    // With a time limit: a server that accepts 0 starts, listens, and never exits by itself.
    let run = assert_cmd::Command::new(CH.bin)
        .args(["--addr", "127.0.0.1:0", "--queue-lines", "0"])
        .timeout(harness::timeout())
        .assert();
    lab.check(
        &format!(
            "the server refuses --queue-lines 0 as a usage error (exit status 2) within {} ms, \
             instead of starting",
            harness::timeout().as_millis()
        ),
        run.try_code(2),
    );
}
