//! Grades chapter 2: `cargo test -p ch02` (your work), `cargo test -p ch02 --features solution`
//! (the reference answer). Chapter 1's behaviours run again: threads must not break them.

use harness::Chapter;

/// The chapter under test, as the scenarios below see it.
static CH: Chapter = harness::chapter!("ch02", "ch02-threads");

#[path = "../../ch01/scenarios/cli.rs"]
mod cli;
#[path = "../../ch01/scenarios/echo.rs"]
mod echo;
#[path = "../scenarios/threads.rs"]
mod threads;
