//! Grades chapter 5: `cargo test -p ch05` (your work), `cargo test -p ch05 --features solution`
//! (the reference answer). Chapter 1's command line runs again; chapters 3 and 4's client and
//! chat behaviours are checked here in chapter 5's terms, since every client must now pick a
//! name first.

use harness::Chapter;

/// The chapter under test, as the scenarios below see it.
static CH: Chapter = harness::chapter!("ch05", "ch05-names");

#[path = "../scenarios/chat.rs"]
mod chat;
#[path = "../../ch01/scenarios/cli.rs"]
mod cli;
#[path = "../scenarios/client.rs"]
mod client;
#[path = "../../ch03/scenarios/client_cli.rs"]
mod client_cli;
#[path = "../scenarios/console.rs"]
mod console;
#[path = "../../ch04/scenarios/deadline.rs"]
mod deadline;
#[cfg(unix)]
#[path = "../scenarios/descriptors.rs"]
mod descriptors;
#[path = "../scenarios/leaving.rs"]
mod leaving;
#[path = "../scenarios/names.rs"]
mod names;
#[path = "../scenarios/notices.rs"]
mod notices;
#[path = "../scenarios/support.rs"]
mod support;
