//! Grades chapter 10: `cargo test -p ch10` (your work), `cargo test -p ch10 --features solution`
//! (the reference answer). Chapter 10 rebuilds the server as one event loop and keeps every
//! behaviour of chapters 5 to 9, so their scenarios run again (and with them chapter 1's
//! command line and chapter 3's client); then scenarios/poll.rs grades what only a loop can
//! get wrong.
//!
//! Not rerun:
//!
//! - chapter 4's deadline.rs, which measures how long a server stuck writing to clients that
//!   stopped reading makes the others wait. From chapter 9 on nobody waits (chapter 9 drops it
//!   too), and its flood waits for the server to stop reading, which a loop never does.
//! - chapter 5's console.rs, which holds the console full while a client joins and checks that
//!   chat goes on. Here it cannot: the loop itself blocks writing the `joined` line, and
//!   everyone waits for the console (the page's "Where an event loop is worse" says so).
//! - chapter 6's slots.rs, which calls `chapter::slots::Slots`, an atomic counting semaphore
//!   that threads share. A loop needs none: one thread owns the count of open connections, so
//!   admitting one is a comparison, and no two accepts can race.
//! - chapter 8's load-generator tests (double.rs, load.rs, load_errors.rs): the generator is
//!   chapter 8's code, unchanged, and two of them check its /proc readings against a thread per
//!   client, which a loop does not have (`load --server-pid` reports 2 threads here).
//! - chapter 9's outbox.rs, which tests `chapter::outbox::Outbox`, a queue that writer threads
//!   wait on; a loop has none (its bounded buffer is `output::Output`, graded through the
//!   socket by slow.rs and poll.rs).
//!
//! The shutdown tests send Unix signals. Elsewhere they are not compiled, and one ignored test
//! says why: `cargo test` then lists it as `ignored, <reason>` (nextest as SKIP), where a test
//! that passed without checking anything would claim more than was graded.

use harness::Chapter;

/// The chapter under test, as the scenarios below see it.
static CH: Chapter = harness::chapter!("ch10", "ch10-poll");

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

// Chapter 9: slow clients (its socket scenarios; the Outbox API tests in outbox.rs are chapter
// 9's own).
#[path = "../../ch09/scenarios/slow.rs"]
mod slow;

// Chapter 10: what only an event loop gets wrong.
#[path = "../scenarios/poll.rs"]
mod poll;
