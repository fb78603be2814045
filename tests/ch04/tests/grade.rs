//! Grades chapter 4: `cargo test -p ch04` (your work), `cargo test -p ch04 --features solution`
//! (the reference answer). The command line and chapter 3's client run again; the echo
//! behaviours do not, since the server now relays instead of echoing.

use harness::Chapter;

/// The chapter under test, as the scenarios below see it.
static CH: Chapter = harness::chapter!("ch04", "ch04-mutex");

#[path = "../scenarios/broadcast.rs"]
mod broadcast;
#[path = "../scenarios/chat_clients.rs"]
mod chat_clients;
#[path = "../../ch01/scenarios/cli.rs"]
mod cli;
#[path = "../../ch03/scenarios/client.rs"]
mod client;
#[path = "../../ch03/scenarios/client_cli.rs"]
mod client_cli;
#[path = "../scenarios/deadline.rs"]
mod deadline;
#[path = "../scenarios/lines.rs"]
mod lines;
#[path = "../scenarios/poisoning.rs"]
mod poisoning;
#[path = "../scenarios/stall.rs"]
mod stall;
#[path = "../scenarios/support.rs"]
mod support;
