//! Grades chapter 1: `cargo test -p ch01` (your work), `cargo test -p ch01 --features solution`
//! (the reference answer).

use harness::Chapter;

/// The chapter under test, as the scenarios below see it.
static CH: Chapter = harness::chapter!("ch01", "ch01-echo");

#[path = "../scenarios/cli.rs"]
mod cli;
#[path = "../scenarios/echo.rs"]
mod echo;
