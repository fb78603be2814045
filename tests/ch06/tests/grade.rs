//! Grades chapter 6: `cargo test -p ch06` (your work), `cargo test -p ch06 --features solution`
//! (the reference answer). Chapter 1's command line and all of chapter 5's behaviours run
//! again: none of chapter 5's scenarios has more than five clients at once, so the default cap
//! of 5 lets them through.

use harness::Chapter;

/// The chapter under test, as the scenarios below see it.
static CH: Chapter = harness::chapter!("ch06", "ch06-cap");

/// The chapter's library, for the one test that calls its pub API (`Slots`, named in the
/// TODO): your `chapters/ch06-cap`, or with `--features solution` the reference answer.
#[cfg(not(feature = "solution"))]
use ch06_cap as chapter;
#[cfg(feature = "solution")]
use ch06_cap_solution as chapter;

#[path = "../scenarios/cap.rs"]
mod cap;
#[path = "../../ch05/scenarios/chat.rs"]
mod chat;
#[path = "../../ch01/scenarios/cli.rs"]
mod cli;
#[path = "../../ch05/scenarios/client.rs"]
mod client;
#[path = "../../ch03/scenarios/client_cli.rs"]
mod client_cli;
#[path = "../scenarios/client_full.rs"]
mod client_full;
#[path = "../scenarios/closing.rs"]
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
#[path = "../scenarios/login.rs"]
mod login;
#[path = "../../ch05/scenarios/names.rs"]
mod names;
#[path = "../../ch05/scenarios/notices.rs"]
mod notices;
#[path = "../scenarios/slots.rs"]
mod slots;
#[path = "../../ch05/scenarios/support.rs"]
mod support;
