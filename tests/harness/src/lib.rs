//! The graders' shared machinery: real processes, real TCP on loopback, and a transcript when
//! an expectation fails.
//!
//! Every grader (`tests/chNN`) holds scenarios only; everything they share lives here:
//!
//! - [`Chapter`] names the binary under test and the book page its failures point to.
//! - [`Lab`] is one test's context. It records every step in a [`transcript::Transcript`] and,
//!   when an expectation fails, panics with the numbered steps, what was expected, what
//!   arrived, the processes' output so far, and the book section to read.
//! - [`Lab::start_server`] starts the chapter's server on `--addr 127.0.0.1:0` and reads the
//!   port from its first line (`listening on HOST:PORT`): no fixed ports, no sleeps.
//!   [`Lab::start_server_then_close_console`] then closes the server's standard output, as
//!   `server | head -1` does, for testing that a lost console stops nothing.
//!   [`Lab::start_server_with_holdable_console`] lets a test stop reading the console at any
//!   moment ([`Server::hold_console`], Linux): the server's next console line then waits in
//!   `write`, which opens the microsecond after a line wide enough to test (see `held.rs`).
//! - [`Conn`] is a TCP client (or, from [`ScriptedServer`], the server side of a connection)
//!   whose every read has a deadline.
//! - [`Process`] is a child process whose output is drained into a log (a dropped pipe would
//!   make the child's next `println!` fail) and which is killed when dropped, even if the test
//!   panics. On Linux, `PR_SET_PDEATHSIG` also stops it if the test process itself is killed.
//!
//! # How a grader gets the binary under test
//!
//! Each chapter is a library with a thin `main`. The grader package depends on the learner's
//! chapter and, behind its `solution` feature, on the reference solution, and wraps whichever
//! is selected in a binary of its own, `chNN-graded`. Cargo builds that binary before the
//! grader's tests and hands its path to them as `CARGO_BIN_EXE_chNN-graded`, so:
//!
//! - a plain `cargo test -p chNN` on a fresh clone works, and rebuilds when the learner edits
//!   the chapter (it is an ordinary dependency);
//! - `cargo nextest run` works with tests in parallel: there is no nested cargo build and no
//!   shared `target/debug/NAME` link that another build could re-point (the failure measured
//!   with `escargot` and shared binary names, recorded in the lab spec's Grading section);
//! - every binary in the workspace has its own name, so no output file collides.
//!
//! The alternative that also proved sound, listing the chapter's sources as the grader's own
//! `[[bin]]` targets, would compile the learner's files twice under two crates and hide their
//! dependencies in the grader's manifest; the library route keeps each chapter an ordinary crate.

mod conn;
#[cfg(target_os = "linux")]
mod held;
mod output;
mod process;
mod server;
pub mod transcript;

use std::sync::Arc;
use std::time::Duration;

pub use conn::{Conn, ReadError, ScriptedServer};
pub use output::Source;
pub use process::Process;
pub use server::{HeldConsole, Server};
pub use transcript::Printed;
use transcript::Transcript;

/// One chapter's binary under test and its book page.
#[derive(Debug)]
pub struct Chapter {
    /// The grader's name, as in `cargo test -p ch01`.
    pub id: &'static str,
    /// The book page (without `.md`), which is also the chapter's package name.
    pub page: &'static str,
    /// Path of the `chNN-graded` binary: the learner's code, or the solution.
    pub bin: &'static str,
}

/// Declares a grader's [`Chapter`]: `harness::chapter!("ch01", "ch01-echo")`.
///
/// It must be expanded inside the grader's tests, where Cargo sets `CARGO_BIN_EXE_chNN-graded`.
#[macro_export]
macro_rules! chapter {
    ($id:literal, $page:literal) => {
        $crate::Chapter {
            id: $id,
            page: $page,
            bin: env!(concat!("CARGO_BIN_EXE_", $id, "-graded")),
        }
    };
}

impl Chapter {
    /// A `std::process::Command` for the binary under test (wrap it in `assert_cmd` as needed).
    pub fn command(&self) -> std::process::Command {
        std::process::Command::new(self.bin)
    }
}

/// How long any single expectation may wait before it counts as "nothing arrived".
///
/// Five seconds by default: far above what a working server needs on loopback, so a loaded CI
/// machine does not cause false failures, yet short enough to give feedback quickly.
/// `LAB_TIMEOUT_MS` overrides it.
pub fn timeout() -> Duration {
    std::env::var("LAB_TIMEOUT_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(5))
}

/// Runs `task` once per item, each on its own thread, all released at the same instant (a
/// barrier), and returns the results in the items' order: for races, such as many clients
/// connecting or naming themselves at once. A task that fails through its [`Lab`] (which
/// panics) fails the caller the same way, with its transcript.
pub fn all_at_once<I: Send, T: Send>(
    items: impl IntoIterator<Item = I>,
    task: impl Fn(I) -> T + Sync,
) -> Vec<T> {
    let items: Vec<I> = items.into_iter().collect();
    let start = std::sync::Barrier::new(items.len());
    std::thread::scope(|scope| {
        let racers: Vec<_> = items
            .into_iter()
            .map(|item| {
                let (start, task) = (&start, &task);
                scope.spawn(move || {
                    start.wait();
                    task(item)
                })
            })
            .collect();
        racers
            .into_iter()
            .map(|racer| {
                racer
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// One test's context: the chapter under test and the transcript of what the test did.
///
/// Cheap to clone; every process and connection it creates writes to the same transcript.
#[derive(Clone)]
pub struct Lab {
    transcript: Arc<Transcript>,
}

impl Lab {
    /// Starts a test of `chapter`; failures point to the book section `section` until
    /// [`Lab::section`] names another.
    pub fn new(chapter: &'static Chapter, section: &str) -> Lab {
        Lab::at(chapter, chapter.page, section)
    }

    /// Like [`Lab::new`], pointing to a section of another chapter's page: for the earlier
    /// chapters' behaviours that a later grader runs again.
    pub fn at(chapter: &'static Chapter, page: &'static str, section: &str) -> Lab {
        Lab {
            transcript: Arc::new(Transcript::new(chapter, page, section)),
        }
    }

    /// The chapter under test.
    pub fn chapter(&self) -> &'static Chapter {
        self.transcript.chapter()
    }

    /// Points later failures to another book section.
    pub fn section(&self, section: &str) -> &Lab {
        self.transcript.set_section(section);
        self
    }

    /// Points later failures to a section of another page: for a symptom whose cause another
    /// chapter teaches (a chapter 5 scenario refused by chapter 6's cap, say).
    pub fn read(&self, page: &'static str, section: &str) -> &Lab {
        self.transcript.set_page(page, section);
        self
    }

    /// Adds a hint to later failures: what the learner probably forgot.
    pub fn hint(&self, hint: &str) -> &Lab {
        self.transcript.set_hint(hint);
        self
    }

    /// Names the likely cause when a connection receives a line the test did not expect:
    /// `check` gets the receiving connection and the line, and what it returns (if anything)
    /// becomes the failure's hint, in place of [`Lab::hint`]'s. For a mistake that shows up in
    /// many tests as the same stray line (a chat server that sends a client its own line back,
    /// say), set once by the chapter's helpers rather than in every test. It runs on the
    /// harness's own checks ([`Conn::expect_line`] and the like); a scenario that reads lines
    /// itself calls [`Conn::unexpected`] before failing. The check may also point the failure
    /// to the section that teaches the cause (`receiver.lab().read(..)`).
    pub fn on_unexpected_line(
        &self,
        check: impl Fn(&Conn, &str) -> Option<String> + Send + Sync + 'static,
    ) -> &Lab {
        self.transcript.set_line_check(Arc::new(check));
        self
    }

    /// Chooses the failure's hint from what the processes printed, when the test fails: for a
    /// symptom with several likely causes that the output tells apart (a server that never
    /// logged a write timeout has no write deadline; one that logged it again and again kept
    /// the client). `choose` returning None keeps [`Lab::hint`]'s.
    pub fn hint_from_output(
        &self,
        choose: impl Fn(&transcript::Printed<'_>) -> Option<String> + Send + Sync + 'static,
    ) -> &Lab {
        self.transcript.set_output_check(Arc::new(choose));
        self
    }

    /// Records a step of the scenario that no connection or process records by itself.
    pub fn step(&self, text: impl Into<String>) {
        self.transcript.step(text.into());
    }

    /// Fails the test with the transcript: what was expected and what happened instead.
    pub fn fail(&self, expected: &str, got: &str) -> ! {
        self.transcript.fail(expected, got)
    }

    /// Returns `result`'s value, or fails with the transcript: for checks made with other
    /// tools (assert_cmd's `try_*` methods), so that their failures point to the book too.
    pub fn check<T, E: std::fmt::Display>(&self, expected: &str, result: Result<T, E>) -> T {
        match result {
            Ok(value) => value,
            Err(err) => self.fail(expected, &err.to_string()),
        }
    }

    /// Starts the chapter's server with `--addr 127.0.0.1:0` and `args`, and waits for its
    /// `listening on HOST:PORT` line.
    pub fn start_server(&self, args: &[&str]) -> Server {
        let mut all = vec!["--addr", "127.0.0.1:0"];
        all.extend_from_slice(args);
        Server::start(self.clone(), &all)
    }

    /// Like [`Lab::start_server`], then closes the server's console: once its `listening on`
    /// line is read, the test closes the read end of the server's standard output, as
    /// `server | head -1` does. Every later console line then fails with `EPIPE`: `println!`
    /// panics on it, a best-effort console ignores it. The server's standard error is still
    /// read, so a panic shows in the report.
    pub fn start_server_then_close_console(&self, args: &[&str]) -> Server {
        let mut all = vec!["--addr", "127.0.0.1:0"];
        all.extend_from_slice(args);
        Server::start_then_close_console(self.clone(), &all)
    }

    /// Starts the server as [`Lab::start_server`] does, and sends it `signal` (`name` for the
    /// transcript) while it writes its `listening on` line: on Linux the test holds the
    /// server's standard output full, so that write blocks until the signal has been sent (see
    /// `held.rs`); elsewhere the signal follows the line as closely as the test can. A server
    /// that installs its handler only after printing the line is killed by it. `Err` holds the
    /// server when it ended without printing anything, for the test to say why.
    #[cfg(unix)]
    pub fn start_server_and_signal_it_while_announcing(
        &self,
        args: &[&str],
        signal: i32,
        name: &str,
    ) -> Result<Server, Process> {
        let mut all = vec!["--addr", "127.0.0.1:0"];
        all.extend_from_slice(args);
        Server::start_signalled_while_announcing(self.clone(), &all, signal, name)
    }

    /// Like [`Lab::start_server`], with a console the test can hold full at any moment (see
    /// [`Server::hold_console`]); elsewhere than on Linux, the same as [`Lab::start_server`].
    pub fn start_server_with_holdable_console(&self, args: &[&str]) -> Server {
        let mut all = vec!["--addr", "127.0.0.1:0"];
        all.extend_from_slice(args);
        #[cfg(target_os = "linux")]
        return Server::start_holdable(self.clone(), &all);
        #[cfg(not(target_os = "linux"))]
        Server::start(self.clone(), &all)
    }

    /// Like [`Lab::start_server`], with the server allowed at most `limit` open file
    /// descriptors (`RLIMIT_NOFILE`, as `ulimit -n` sets; Unix only): for running out of them.
    pub fn start_server_with_fd_limit(&self, args: &[&str], limit: u64) -> Server {
        let mut all = vec!["--addr", "127.0.0.1:0"];
        all.extend_from_slice(args);
        Server::start_with_fd_limit(self.clone(), &all, limit)
    }

    /// Starts the server with exactly `args` (which must make it listen on a free loopback
    /// port), for testing the command line itself: `["server", "--addr", "127.0.0.1:0"]`.
    pub fn start_server_with(&self, args: &[&str]) -> Server {
        Server::start(self.clone(), args)
    }

    /// Starts the chapter's binary with `args` (for example a client) as a [`Process`].
    pub fn spawn(&self, name: &str, args: &[String]) -> Process {
        Process::spawn(self.clone(), name, self.chapter().bin, args)
    }

    /// A listener on a free loopback port that the test drives by hand, for testing clients.
    pub fn scripted_server(&self) -> ScriptedServer {
        ScriptedServer::bind(self.clone())
    }

    pub(crate) fn transcript(&self) -> &Transcript {
        &self.transcript
    }
}
