//! A client that stops reading must not stall the others: the server never holds the list's
//! lock across a blocking write, and a client that cannot take a line within 2 seconds is
//! disconnected.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use harness::{Conn, Lab, ReadError};

use super::CH;
use super::support::{join_all, relayed, stalled_writes_diagnosis};

/// These behaviours are taught in chapter 4.
const PAGE: &str = "ch04-mutex";

/// The server's write timeout (protocol page): a client that cannot take a line for this
/// long is disconnected.
const SERVER_WRITE_TIMEOUT: Duration = Duration::from_secs(2);

/// Bytes per flood line, newline not counted (under the 1024-byte limit).
const LINE_BYTES: usize = 1000;
/// Flood lines per write.
const BATCH: usize = 64;
/// G sends its line once F has written this much, or once F has been held up for
/// [`HELD_UP`] before getting that far (the server has stopped reading F: it is stuck on S).
const MARKER_AFTER_BYTES: usize = 8 << 20;
const HELD_UP: Duration = Duration::from_secs(1);
/// The most F sends: far more than the socket buffers between the server and S can hold.
const MAX_FLOOD_BYTES: usize = 64 << 20;
/// How often the helper threads look at the stop flags while they wait.
const POLL: Duration = Duration::from_millis(100);

/// Flood line `n` (without its newline), exactly [`LINE_BYTES`] long.
fn flood_line(n: usize) -> String {
    let head = format!("flood {n:06} ");
    format!("{head}{}", "z".repeat(LINE_BYTES - head.len()))
}

/// What the test's threads share: when to stop, and how far the flood has got. Dropping
/// [`StopAllOnDrop`] stops every thread, so a failing check (which unwinds) does not leave
/// the scope waiting for them.
struct Shared {
    stop_flood: AtomicBool,
    stop_draining: AtomicBool,
    stop_reading: AtomicBool,
    /// How many lines F wrote in full; `usize::MAX` until F has stopped.
    flood_total: AtomicUsize,
    /// How many of F's lines L has received so far.
    flood_received: AtomicUsize,
}

impl Shared {
    fn new() -> Shared {
        Shared {
            stop_flood: AtomicBool::new(false),
            stop_draining: AtomicBool::new(false),
            stop_reading: AtomicBool::new(false),
            flood_total: AtomicUsize::new(usize::MAX),
            flood_received: AtomicUsize::new(0),
        }
    }
}

struct StopAllOnDrop<'a>(&'a Shared);

impl Drop for StopAllOnDrop<'_> {
    fn drop(&mut self) {
        for flag in [
            &self.0.stop_flood,
            &self.0.stop_draining,
            &self.0.stop_reading,
        ] {
            flag.store(true, Ordering::SeqCst);
        }
    }
}

/// F's side: writes flood lines until told to stop, and returns how many it wrote in full.
/// `marker_due` hears once [`MARKER_AFTER_BYTES`] are out.
fn flood(mut stream: TcpStream, stop: &AtomicBool, marker_due: mpsc::Sender<()>) -> usize {
    stream
        .set_write_timeout(Some(POLL))
        .expect("a non-zero write timeout is valid");
    let mut lines = 0;
    while !stop.load(Ordering::SeqCst) && lines * (LINE_BYTES + 1) < MAX_FLOOD_BYTES {
        let batch: String = (lines..lines + BATCH)
            .map(|n| format!("{}\n", flood_line(n)))
            .collect();
        let bytes = batch.as_bytes();
        let mut written = 0;
        while written < bytes.len() {
            match stream.write(&bytes[written..]) {
                Ok(0) => return lines + written / (LINE_BYTES + 1),
                Ok(n) => written += n,
                Err(err)
                    if matches!(
                        err.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) =>
                {
                    if stop.load(Ordering::SeqCst) {
                        return lines + written / (LINE_BYTES + 1);
                    }
                }
                Err(_) => return lines + written / (LINE_BYTES + 1),
            }
        }
        lines += BATCH;
        if lines * (LINE_BYTES + 1) >= MARKER_AFTER_BYTES {
            // Only the first send is heard; later ones fail harmlessly.
            let _ = marker_due.send(());
        }
    }
    lines
}

/// L's side: reads everything, checking F's lines arrive whole and in order; reports G's
/// line on `marker_seen` the moment it arrives. Ends once it has G's line and all of F's
/// lines (their number is known when F stops), and returns how many of F's lines it got.
fn read_live(
    conn: &mut Conn,
    shared: &Shared,
    (flood_prefix, marker): (&str, &str),
    marker_seen: mpsc::Sender<Instant>,
    deadline: Instant,
) -> Result<usize, String> {
    let mut next = 0;
    let mut have_marker = false;
    loop {
        if have_marker && next == shared.flood_total.load(Ordering::SeqCst) {
            return Ok(next);
        }
        if shared.stop_reading.load(Ordering::SeqCst) {
            return Err(format!("L stopped after {next} of F's lines"));
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(format!(
                "L received {next} of F's lines{}, then nothing more in time",
                if have_marker { " and G's line" } else { "" }
            ));
        }
        match conn.read_line_bytes(POLL.min(deadline - now)) {
            Ok(line) => {
                let text = String::from_utf8_lossy(&line);
                if text == marker {
                    have_marker = true;
                    let _ = marker_seen.send(Instant::now());
                } else if text.strip_prefix(flood_prefix) == Some(flood_line(next).as_str()) {
                    next += 1;
                    shared.flood_received.store(next, Ordering::SeqCst);
                } else {
                    conn.unexpected(&line);
                    let shown: String = text.chars().take(60).collect();
                    return Err(format!(
                        "L received {shown:?}... when F's line {next} was expected (F's lines \
                         must arrive whole, in order, none missing)"
                    ));
                }
            }
            Err(ReadError::TimedOut { .. }) => {}
            Err(_) => {
                return Err(format!(
                    "the server closed L's connection after {next} of F's lines, although L \
                     was reading all along"
                ));
            }
        }
    }
}

/// G's side: reads and discards everything (G is a live reader too) until told to stop.
fn drain(conn: &mut Conn, stop: &AtomicBool) -> Result<(), String> {
    while !stop.load(Ordering::SeqCst) {
        match conn.read_line_bytes(POLL) {
            Ok(_) | Err(ReadError::TimedOut { .. }) => {}
            Err(_) => {
                return Err(
                    "the server closed G's connection, although G was reading all along"
                        .to_string(),
                );
            }
        }
    }
    Ok(())
}

/// Reads S's connection until the server closes it; S has some megabytes buffered.
fn expect_closed_after_backlog(lab: &Lab, conn: &Conn, within: Duration) {
    let deadline = Instant::now() + within;
    let mut stream = conn.stream();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut backlog = 0usize;
    loop {
        let now = Instant::now();
        if now >= deadline {
            lab.fail(
                "the server has closed S's connection (S reads its backlog, then end of file)",
                &format!(
                    "S read {backlog} bytes, then the connection stayed open for {} ms \
                     (shut the stream down, `shutdown(Shutdown::Both)`, when a write times out)",
                    within.as_millis()
                ),
            );
        }
        stream
            .set_read_timeout(Some(deadline - now))
            .expect("a non-zero read timeout is valid");
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => backlog += n,
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(err) if err.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    lab.step(format!(
        "S: read the {backlog} bytes still buffered for it, then saw the connection closed"
    ));
}

#[test]
fn a_client_that_stops_reading_does_not_stall_the_others() {
    let lab = Lab::at(&CH, PAGE, "Never hold a lock across I/O");
    lab.hint(
        "give every client's stream a 2 s write timeout (`set_write_timeout`); when a write to a \
         client fails or times out, shut that client down and remove it; and never write while \
         holding the list's lock (copy the streams out under the lock, then write)",
    );
    lab.hint_from_output(stalled_writes_diagnosis);
    let mut server = lab.start_server(&[]);
    // S connects first, so it most likely comes before the live readers in the server's list
    // (the check that S is disconnected does not depend on it).
    let [s, mut l, mut g, mut f] = join_all(&lab, &mut server, ["S", "L", "G", "F"]);
    let s_peer = s.local_addr();
    l.quiet();
    g.quiet();
    f.quiet();
    let flood_writer = f
        .stream()
        .try_clone()
        .expect("a connected socket can be cloned");
    let mut marker_writer = g
        .stream()
        .try_clone()
        .expect("a connected socket can be cloned");
    let marker_text = "G speaks while S is stalled";
    let marker = relayed(&g, marker_text);
    let flood_prefix = relayed(&f, "");
    lab.step(format!(
        "S: never reads again. F: floods {LINE_BYTES}-byte lines; L and G read everything"
    ));

    let shared = Shared::new();
    let allowed = harness::timeout() + SERVER_WRITE_TIMEOUT;
    let deadline = Instant::now() + 4 * harness::timeout() + SERVER_WRITE_TIMEOUT;
    let (marker_due_tx, marker_due) = mpsc::channel();
    let (marker_seen_tx, marker_seen) = mpsc::channel();

    let (live, drained) = thread::scope(|scope| {
        let _stop_all = StopAllOnDrop(&shared);
        let flooder = scope.spawn(|| {
            let total = flood(flood_writer, &shared.stop_flood, marker_due_tx);
            shared.flood_total.store(total, Ordering::SeqCst);
            total
        });
        let live = scope.spawn(|| {
            let expected = (flood_prefix.as_str(), marker.as_str());
            read_live(&mut l, &shared, expected, marker_seen_tx, deadline)
        });
        let drainer = scope.spawn(|| drain(&mut g, &shared.stop_draining));

        match marker_due.recv_timeout(HELD_UP) {
            Ok(()) => lab.step(format!("F: has written {} MB", MARKER_AFTER_BYTES >> 20)),
            Err(_) => lab.step(format!(
                "F: held up, the server stopped reading it (L has {} of F's lines so far)",
                shared.flood_received.load(Ordering::SeqCst)
            )),
        }
        lab.step(format!("G: sent {marker_text:?}"));
        if let Err(err) = marker_writer.write_all(format!("{marker_text}\n").as_bytes()) {
            lab.fail("G can send its line", &format!("the write failed: {err}"));
        }
        let sent = Instant::now();
        match marker_seen.recv_timeout(allowed) {
            Ok(at) => lab.step(format!(
                "L: received G's line {} ms after it was sent",
                (at - sent).as_millis()
            )),
            Err(_) => lab.fail(
                &format!(
                    "L receives {marker:?} within {} ms, although S has stopped reading",
                    allowed.as_millis()
                ),
                &format!(
                    "nothing from G; L had received {} of F's lines (a write to S is holding up \
                     the others)",
                    shared.flood_received.load(Ordering::SeqCst)
                ),
            ),
        }
        server.expect_stdout_within(
            allowed,
            &format!("the line \"disconnected {s_peer}\" (S could not take a line for 2 s)"),
            |line| line == format!("disconnected {s_peer}"),
        );
        shared.stop_flood.store(true, Ordering::SeqCst);
        let total = flooder.join().expect("the flood thread does not panic");
        lab.step(format!("F: stopped after {total} lines"));
        let live = live.join().expect("L's thread does not panic");
        shared.stop_draining.store(true, Ordering::SeqCst);
        let drained = drainer.join().expect("G's thread does not panic");
        (live, drained)
    });
    match live {
        Ok(lines) => lab.step(format!("L: received all {lines} of F's lines, in order")),
        Err(got) => lab.fail(
            "L receives every one of F's lines, whole and in order, and G's line",
            &got,
        ),
    }
    if let Err(got) = drained {
        lab.fail("G keeps receiving while it reads", &got);
    }
    expect_closed_after_backlog(&lab, &s, harness::timeout());
}

/// How long F's writes must make no progress before the test concludes that the server has
/// stopped reading F: the thread relaying F's lines is stuck writing to S.
const F_STUCK: Duration = Duration::from_millis(200);

#[test]
fn a_client_leaves_at_once_while_a_write_to_a_stalled_client_is_blocked() {
    let lab = Lab::at(&CH, PAGE, "Never hold a lock across I/O");
    lab.hint(
        "a thread stuck writing to a client that stopped reading must not hold the list's lock: \
         copy the recipients under the lock, release it, then write. Otherwise every thread \
         that needs the list (one removing its client, say) waits until that write times out",
    );
    let mut server = lab.start_server(&[]);
    let [s, f, q] = join_all(&lab, &mut server, ["S", "F", "Q"]);
    let q_peer = q.local_addr();
    lab.step(format!(
        "S and Q: stop reading; F: floods 1000-byte lines until the server takes none for {} ms",
        F_STUCK.as_millis()
    ));
    match f.flood_until_stalled(F_STUCK, 256 << 20) {
        Ok(bytes) => lab.step(format!(
            "F: the server stopped reading after {bytes} bytes (it is stuck writing to S)"
        )),
        Err(why) => lab.fail(
            "the server gets stuck writing to S, which stopped reading, and so stops reading F",
            &why,
        ),
    }
    lab.step("Q: vanishes (connection reset)".to_string());
    let vanished = Instant::now();
    q.vanish();
    let within = SERVER_WRITE_TIMEOUT / 2;
    server.expect_stdout_within(
        within,
        &format!(
            "the line \"disconnected {q_peer}\" within {} ms",
            within.as_millis()
        ),
        |line| line == format!("disconnected {q_peer}"),
    );
    lab.step(format!(
        "server: logged Q's departure {} ms after it vanished",
        vanished.elapsed().as_millis()
    ));
    drop((s, f));
}
