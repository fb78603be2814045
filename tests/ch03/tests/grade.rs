//! Grades chapter 3: `cargo test -p ch03` (your work), `cargo test -p ch03 --features solution`
//! (the reference answer). The server is chapter 2's echo server, so chapters 1 and 2's
//! behaviours run again beside the new client's.

use harness::Chapter;

/// The chapter under test, as the scenarios below see it.
static CH: Chapter = harness::chapter!("ch03", "ch03-client");

#[path = "../../ch01/scenarios/cli.rs"]
mod cli;
#[path = "../scenarios/client.rs"]
mod client;
#[path = "../scenarios/client_cli.rs"]
mod client_cli;
#[path = "../scenarios/client_echo.rs"]
mod client_echo;
#[path = "../../ch01/scenarios/echo.rs"]
mod echo;
#[path = "../../ch02/scenarios/threads.rs"]
mod threads;
