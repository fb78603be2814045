//! Chapter 5's helpers (ch05/scenarios/support.rs), all of them, with one replaced:
//! [`stall_a_member`]. Chapter 5's version floods the room until the server stops reading the
//! flooder, because a thread stuck writing to the stalled member stops reading too. A loop
//! never gets stuck: it queues the stalled member's lines in that member's own buffer and goes
//! on reading (and drops the member once `--queue-lines` lines wait). So here the flood is a
//! fixed amount: enough to fill the stalled member's socket buffers and leave lines waiting in
//! the server, far too little to fill its queue.

use std::io::Write;

use harness::{Conn, Lab, Server};

// Some of its helpers serve only tests this grader does not rerun.
#[allow(dead_code)]
#[path = "../../ch05/scenarios/support.rs"]
mod ch05;

pub use ch05::*;

/// The chapter under test, for chapter 5's helpers.
use super::CH;

/// How many 1000-byte lines the flooder sends: 400 KB, far more than a 4 KB receive buffer
/// and the server's send buffer to it take, and well below the default `--queue-lines 1024`.
const FLOOD_LINES: usize = 400;

/// Logs in `stalled`, with a small receive buffer, and `flooder`, who sends a burst of lines
/// that `stalled` does not read: from then on lines wait for `stalled` in the server (until its
/// write deadline, 2 s, drops it). Returns both.
pub fn stall_a_member(lab: &Lab, server: &Server) -> (Conn, Conn) {
    let _ = &CH;
    let mut stalled = server.connect_with_receive_buffer("stalled", 4096);
    stalled.expect_line(PROMPT);
    stalled.send_line("stalled");
    stalled.expect_line("welcome stalled! online: stalled");
    let flooder = join(server, "flooder", "stalled, flooder");
    stalled.expect_line("* flooder joined");
    lab.step(format!(
        "stalled: stops reading; flooder: sends {FLOOD_LINES} lines of 1000 bytes (lines now \
         wait for stalled in the server)"
    ));
    let line = [vec![b'x'; 999], vec![b'\n']].concat();
    let burst = line.repeat(FLOOD_LINES);
    if let Err(err) = flooder.stream().write_all(&burst) {
        lab.fail(
            "the server reads flooder's burst",
            &format!("the write failed: {err}"),
        );
    }
    (stalled, flooder)
}
