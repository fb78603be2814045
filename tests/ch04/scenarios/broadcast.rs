//! Broadcast through a shared list: every line goes to every other client, whole and in
//! order, and clients that leave (cleanly or not) are removed without disturbing the rest.

use std::collections::HashMap;
use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use harness::{Conn, Lab, ReadError};

use super::CH;
use super::support::{join, join_all, relayed};

/// These behaviours are taught in chapter 4.
const PAGE: &str = "ch04-mutex";

/// How long "nothing arrives" is watched for: loopback delivers in microseconds.
const SILENCE: Duration = Duration::from_millis(250);

#[test]
fn a_line_from_one_client_reaches_every_other_client() {
    let lab = Lab::at(&CH, PAGE, "Arc and Mutex");
    lab.hint(
        "keep every connected client's stream in one `Arc<Mutex<Vec<...>>>` and, for each line, \
         write `[PEER_ADDR] text` to every entry but the sender's",
    );
    let mut server = lab.start_server(&[]);
    let [mut a, mut b, mut c] = join_all(&lab, &mut server, ["A", "B", "C"]);
    a.send_line("hello everyone");
    b.expect_line(&relayed(&a, "hello everyone"));
    c.expect_line(&relayed(&a, "hello everyone"));
    c.send_line("hello from C");
    a.expect_line(&relayed(&c, "hello from C"));
    b.expect_line(&relayed(&c, "hello from C"));
}

#[test]
fn the_sender_does_not_get_its_own_line_back() {
    let lab = Lab::at(&CH, PAGE, "Arc and Mutex");
    lab.hint("when relaying, skip the list entry whose peer address is the sender's");
    let mut server = lab.start_server(&[]);
    let [mut a, mut b] = join_all(&lab, &mut server, ["A", "B"]);
    a.send_line("only for the others");
    b.expect_line(&relayed(&a, "only for the others"));
    a.expect_silence(SILENCE);
    // Had A been sent its own line, it would come before B's.
    b.send_line("this one is for A");
    a.expect_line(&relayed(&b, "this one is for A"));
}

/// How many clients flood at once, and how many lines each sends.
const FLOODERS: usize = 10;
const FLOOD_LINES: usize = 200;

/// Line `n` of client `i`'s flood: every byte depends on `i` and `n`, so a line torn apart or
/// spliced with another cannot pass for a whole one.
fn flood_line(i: usize, n: usize) -> String {
    format!("c{i} n{n:03} {}", format!("<c{i}:{n:03}>").repeat(4))
}

/// Reads `(FLOODERS - 1) * FLOOD_LINES` lines on `conn` (client `me`) and checks that each is
/// whole and well formed, comes from another client, and follows that client's previous line.
fn receive_flood(
    conn: &mut Conn,
    me: usize,
    senders: &HashMap<String, usize>,
    deadline: Instant,
) -> Result<(), String> {
    let name = format!("C{me}");
    let expected_total = (FLOODERS - 1) * FLOOD_LINES;
    let mut next = [0usize; FLOODERS];
    for received in 0..expected_total {
        let within = deadline.saturating_duration_since(Instant::now());
        let line = match conn.read_line_bytes(within) {
            Ok(line) => String::from_utf8_lossy(&line).into_owned(),
            Err(err) => {
                let missing: Vec<String> = (0..FLOODERS)
                    .filter(|&i| i != me && next[i] < FLOOD_LINES)
                    .map(|i| format!("C{i} from line {}", next[i]))
                    .collect();
                let how = match err {
                    ReadError::TimedOut { .. } => "then nothing more arrived in time",
                    ReadError::Closed { .. } => "then the server closed the connection",
                    ReadError::Failed(_) => "then the connection failed",
                };
                return Err(format!(
                    "{name} received {received} of {expected_total} lines, {how}; missing: {}",
                    missing.join(", ")
                ));
            }
        };
        let Some((addr, text)) = line
            .strip_prefix('[')
            .and_then(|rest| rest.split_once("] "))
        else {
            return Err(format!(
                "{name} received {line:?}, which is not `[PEER_ADDR] text`"
            ));
        };
        let Some(&from) = senders.get(addr) else {
            return Err(format!(
                "{name} received {line:?}: no client has the address {addr:?}"
            ));
        };
        if from == me {
            conn.unexpected(line.as_bytes());
            return Err(format!("{name} received its own line back: {line:?}"));
        }
        if next[from] >= FLOOD_LINES {
            return Err(format!(
                "{name} received {line:?} after all of C{from}'s lines (a line came twice)"
            ));
        }
        let expected = flood_line(from, next[from]);
        if text != expected {
            let out_of_order = (0..FLOOD_LINES).any(|n| text == flood_line(from, n));
            return Err(if out_of_order {
                format!(
                    "{name} received {line:?} when C{from}'s next line was {expected:?} \
                     (one sender's lines must arrive in the order sent, none missing)"
                )
            } else {
                format!(
                    "{name} received the torn line {line:?}; C{from}'s next line was \
                     {expected:?} (write each line in one `write_all`, and never let two \
                     threads write to one client at the same time)"
                )
            });
        }
        next[from] += 1;
    }
    Ok(())
}

#[test]
fn ten_clients_flooding_at_once_get_every_line_whole_and_in_order() {
    let lab = Lab::at(&CH, PAGE, "Data races and why Rust refuses them");
    lab.hint(
        "relay each line with a single `write_all` of the whole `[PEER] text\\n`, and do not \
         let two threads write to the same client at once (the Mutex serialises them)",
    );
    let mut server = lab.start_server(&[]);
    let names: [String; FLOODERS] = std::array::from_fn(|i| format!("C{i}"));
    let mut clients = join_all(&lab, &mut server, names.each_ref().map(String::as_str));
    for client in &mut clients {
        client.quiet();
    }
    let senders: HashMap<String, usize> = clients
        .iter()
        .enumerate()
        .map(|(i, client)| (client.local_addr().to_string(), i))
        .collect();
    let writers: Vec<_> = clients
        .iter()
        .map(|client| {
            client
                .stream()
                .try_clone()
                .expect("a connected socket can be cloned")
        })
        .collect();
    lab.step(format!(
        "all {FLOODERS} joined; each now sends {FLOOD_LINES} lines (one write per line) while \
         reading the others' {} lines, all at once",
        (FLOODERS - 1) * FLOOD_LINES
    ));
    let started = Instant::now();
    let deadline = started + 2 * harness::timeout();
    let results: Vec<Result<(), String>> = thread::scope(|scope| {
        let senders = &senders;
        for (i, mut writer) in writers.into_iter().enumerate() {
            scope.spawn(move || {
                for n in 0..FLOOD_LINES {
                    let line = format!("{}\n", flood_line(i, n));
                    if writer.write_all(line.as_bytes()).is_err() {
                        // The reader reports what went missing.
                        return;
                    }
                }
            });
        }
        let readers: Vec<_> = clients
            .iter_mut()
            .enumerate()
            .map(|(i, client)| scope.spawn(move || receive_flood(client, i, senders, deadline)))
            .collect();
        readers
            .into_iter()
            .map(|reader| reader.join().expect("a reader thread does not panic"))
            .collect()
    });
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    if let Some(first) = failures.first() {
        lab.fail(
            &format!(
                "each of the {FLOODERS} clients receives the other {} clients' {FLOOD_LINES} \
                 lines each, whole and in order, within {} ms",
                FLOODERS - 1,
                (deadline - started).as_millis()
            ),
            &format!(
                "{first}{}",
                if failures.len() > 1 {
                    format!(" (and {} more clients failed)", failures.len() - 1)
                } else {
                    String::new()
                }
            ),
        );
    }
    lab.step(format!(
        "every client got all {} lines, whole and in order, in {} ms",
        (FLOODERS - 1) * FLOOD_LINES,
        started.elapsed().as_millis()
    ));
}

#[test]
fn a_client_that_vanishes_mid_broadcast_is_dropped_and_the_others_go_on() {
    let lab = Lab::at(&CH, PAGE, "The guard and when it is dropped");
    lab.hint(
        "a failed write to one client is that client's trouble: go on to the next one, and \
         remove the dead client from the list (the guard is released on every path out)",
    );
    let mut server = lab.start_server(&[]);
    let [mut a, mut b, mut c] = join_all(&lab, &mut server, ["A", "B", "C"]);
    let b_peer = b.local_addr();
    a.quiet();
    lab.step("A: sends lines 0 to 149");
    for n in 0..150 {
        a.send_line(&format!("line {n} from A"));
    }
    b.expect_line(&relayed(&a, "line 0 from A"));
    b.vanish();
    lab.step("A: sends lines 150 to 299, after B vanished");
    for n in 150..300 {
        a.send_line(&format!("line {n} from A"));
    }
    for n in 0..300 {
        c.expect_line(&relayed(&a, &format!("line {n} from A")));
    }
    lab.step("C: received all 300 lines in order");
    server.expect_stdout_line(&format!("disconnected {b_peer}"));
    let mut d = join(&mut server, &mut [&mut a, &mut c], "D");
    a.send_line("still going");
    c.expect_line(&relayed(&a, "still going"));
    d.expect_line(&relayed(&a, "still going"));
}

#[test]
fn a_client_that_ends_its_input_is_closed_removed_and_logged() {
    let lab = Lab::at(&CH, PAGE, "Your task");
    lab.hint(
        "when a client's read returns 0 bytes, remove its entry from the list: the list's \
         clone of the stream keeps the connection open until it is dropped",
    );
    let mut server = lab.start_server(&[]);
    let [mut a, mut b] = join_all(&lab, &mut server, ["A", "B"]);
    let a_peer = a.local_addr();
    a.shutdown_write();
    // The server closes its own handle at once; a connection that stays open is held by the
    // list's clone of the stream, that is, by a member nobody took out of the list.
    lab.section("The guard and when it is dropped").hint(
        "A's connection stayed open after its input ended: the room's list still holds A's \
         member, and with it a clone of A's stream. Take the member out of the list in \
         `Drop for Membership` (`retain`, `Arc::ptr_eq`), which runs however the connection ends",
    );
    a.expect_closed();
    lab.section("Your task").hint(
        "when a client's read returns 0 bytes, remove its entry from the list: the list's \
         clone of the stream keeps the connection open until it is dropped",
    );
    server.expect_stdout_line(&format!("disconnected {a_peer}"));
    let mut c = join(&mut server, &mut [&mut b], "C");
    b.send_line("hello C");
    c.expect_line(&relayed(&b, "hello C"));
    let b_peer = b.local_addr();
    b.vanish();
    server.expect_stdout_line(&format!("disconnected {b_peer}"));
}
