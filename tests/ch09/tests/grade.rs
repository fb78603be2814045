//! Grades chapter 9: `cargo test -p ch09` (your work), `cargo test -p ch09 --features solution`
//! (the reference answer). Chapter 9 is chapter 8 with a writer thread and a bounded queue per
//! client, so chapters 5-7's server behaviours and chapter 8's load generator run again; then
//! scenarios/slow.rs grades what is new: stalled and slow readers cost the others nothing, a
//! client a whole queue behind is dropped, and one that keeps up is not.
//!
//! Chapter 4's deadline tests do not run here: they measure how long a stalled reader holds
//! the others up, and from this chapter on it holds nobody up (slow.rs checks that instead).
//!
//! The shutdown tests send Unix signals. Elsewhere they are not compiled, and one ignored test
//! says why: `cargo test` then lists it as `ignored, <reason>` (nextest as SKIP), where a test
//! that passed without checking anything would claim more than was graded.

use harness::Chapter;

/// The chapter under test, as the scenarios below see it.
static CH: Chapter = harness::chapter!("ch09", "ch09-slow");

/// The chapter's library, for the tests that call its pub API (chapter 6's `Slots`): your
/// `chapters/ch09-slow`, or with `--features solution` the reference answer.
#[cfg(not(feature = "solution"))]
use ch09_slow as chapter;
#[cfg(feature = "solution")]
use ch09_slow_solution as chapter;

#[path = "../../ch06/scenarios/cap.rs"]
mod cap;
#[path = "../../ch05/scenarios/chat.rs"]
mod chat;
#[path = "../../ch01/scenarios/cli.rs"]
mod cli;
#[path = "../../ch05/scenarios/client.rs"]
mod client;
#[path = "../../ch03/scenarios/client_cli.rs"]
mod client_cli;
#[path = "../../ch06/scenarios/client_full.rs"]
mod client_full;
#[path = "../../ch06/scenarios/closing.rs"]
mod closing;
#[path = "../../ch05/scenarios/console.rs"]
mod console;
#[cfg(unix)]
#[path = "../../ch05/scenarios/descriptors.rs"]
mod descriptors;
#[path = "../../ch05/scenarios/leaving.rs"]
mod leaving;
#[path = "../../ch06/scenarios/login.rs"]
mod login;
#[path = "../../ch05/scenarios/names.rs"]
mod names;
#[path = "../../ch05/scenarios/notices.rs"]
mod notices;
#[path = "../../ch06/scenarios/slots.rs"]
mod slots;
#[path = "../../ch05/scenarios/support.rs"]
mod support;

#[cfg(unix)]
#[path = "../../ch07/scenarios/shutdown.rs"]
mod shutdown;

#[cfg(unix)]
#[path = "../../ch07/scenarios/client_shutdown.rs"]
mod client_shutdown;

#[cfg(not(unix))]
#[test]
#[ignore = "chapter 7's shutdown tests send Unix signals (SIGINT, SIGTERM): run them on Linux, macOS or WSL"]
fn shutdown_tests_need_unix_signals() {}

// Chapter 8: the load generator.
#[path = "../../ch08/scenarios/double.rs"]
mod double;
#[path = "../../ch08/scenarios/load.rs"]
mod load;
#[path = "../../ch08/scenarios/load_errors.rs"]
mod load_errors;

// Chapter 9: slow clients, and the queue's API.
#[path = "../scenarios/outbox.rs"]
mod outbox;
#[path = "../scenarios/slow.rs"]
mod slow;
