//! Grades chapter 8: `cargo test -p ch08` (your work), `cargo test -p ch08 --features solution`
//! (the reference answer). Chapter 8 is chapter 7's server and client plus a load generator, so
//! chapter 7's behaviours run again (and with them chapters 5 and 6's, and chapter 1's command
//! line); then the load generator is graded against a test double, a tiny chat server in
//! scenarios/double.rs that drops, duplicates, reorders, tears or delays known lines.
//!
//! The shutdown tests send Unix signals. Elsewhere they are not compiled, and one ignored test
//! says why: `cargo test` then lists it as `ignored, <reason>` (nextest as SKIP), where a test
//! that passed without checking anything would claim more than was graded.

use harness::Chapter;

/// The chapter under test, as the scenarios below see it.
static CH: Chapter = harness::chapter!("ch08", "ch08-load");

/// The chapter's library, for the tests that call its pub API (chapter 6's `Slots`): your
/// `chapters/ch08-load`, or with `--features solution` the reference answer.
#[cfg(not(feature = "solution"))]
use ch08_load as chapter;
#[cfg(feature = "solution")]
use ch08_load_solution as chapter;

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
#[path = "../../ch04/scenarios/deadline.rs"]
mod deadline;
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
#[path = "../scenarios/double.rs"]
mod double;
#[path = "../scenarios/load.rs"]
mod load;
#[path = "../scenarios/load_errors.rs"]
mod load_errors;
