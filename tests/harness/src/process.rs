//! A child process under test: output drained into a log, standard input at hand, killed on drop.

use std::io::Write;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::Lab;
use crate::output::{OutputLog, Source, WaitEnd};
use crate::transcript::quote;

/// A running binary of the chapter under test (a server or a client).
pub struct Process {
    lab: Lab,
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    pub(crate) log: Arc<OutputLog>,
    /// Where the next `expect_stdout` / `expect_stderr` starts looking.
    pub(crate) cursors: [usize; 2],
    status: Option<ExitStatus>,
    /// For a child whose standard output is drained through a gate (see `held.rs`): stops
    /// the drain thread.
    #[cfg(target_os = "linux")]
    gate: Option<Arc<crate::held::Gate>>,
}

/// Where a child's standard output goes.
enum StdoutMode {
    /// A pipe, drained for its first `lines` lines (`usize::MAX`: all).
    Drain { lines: usize },
    /// A pipe the test made and filled (see `held.rs`), drained through a gate that stays
    /// closed until the test releases it.
    #[cfg(target_os = "linux")]
    Held(crate::held::FullPipe),
    /// A pipe drained through a gate the test can close (see [`Process::hold_stdout`]).
    #[cfg(target_os = "linux")]
    Holdable,
}

/// How the drain thread reads the child's standard output, once the child runs.
enum Reading {
    /// The child's pipe, for its first `lines` lines.
    Lines(usize),
    /// Through a gate: from the test's filled pipe (`Some`, the gate closed until the test
    /// releases it), or from the child's pipe (`None`).
    #[cfg(target_os = "linux")]
    Gated(Option<std::fs::File>),
}

impl Process {
    /// Starts `program` with `args`, stdin piped, both output streams drained.
    pub(crate) fn spawn(lab: Lab, name: &str, program: &str, args: &[String]) -> Process {
        Process::spawn_reading(lab, name, program, args, usize::MAX, None)
    }

    /// Like [`Process::spawn`], but only the first `stdout_lines` lines of standard output are
    /// read; then the test closes its end of that pipe, and the child's next write to standard
    /// output fails with `EPIPE` (Rust ignores `SIGPIPE`, so the write returns an error instead
    /// of killing the child). Standard error is drained as usual. With `fd_limit`, the child may
    /// open at most that many file descriptors (`RLIMIT_NOFILE`, Unix only).
    pub(crate) fn spawn_reading(
        lab: Lab,
        name: &str,
        program: &str,
        args: &[String],
        stdout_lines: usize,
        fd_limit: Option<u64>,
    ) -> Process {
        let stdout = StdoutMode::Drain {
            lines: stdout_lines,
        };
        Process::spawn_with(lab, name, program, args, stdout, fd_limit)
    }

    /// Like [`Process::spawn`], with a standard output the test can stop reading at any time,
    /// to hold the child's next console line in its `write` (see [`Process::hold_stdout`]).
    #[cfg(target_os = "linux")]
    pub(crate) fn spawn_holdable(lab: Lab, name: &str, program: &str, args: &[String]) -> Process {
        Process::spawn_with(lab, name, program, args, StdoutMode::Holdable, None)
    }

    /// Like [`Process::spawn`], with standard output going to `pipe`, which the test filled:
    /// the child's first line to it waits until the returned hold is dropped.
    #[cfg(target_os = "linux")]
    pub(crate) fn spawn_holding_stdout(
        lab: Lab,
        name: &str,
        program: &str,
        args: &[String],
        pipe: crate::held::FullPipe,
    ) -> (Process, crate::held::StdoutHold) {
        let filler = pipe.filler;
        let process = Process::spawn_with(lab, name, program, args, StdoutMode::Held(pipe), None);
        let gate = process.gate.clone().expect("a held stdout is gated");
        (process, crate::held::StdoutHold { gate, filler })
    }

    fn spawn_with(
        lab: Lab,
        name: &str,
        program: &str,
        args: &[String],
        stdout: StdoutMode,
        fd_limit: Option<u64>,
    ) -> Process {
        let mut command = Command::new(program);
        // Where the child's standard output goes, and how it will be read.
        let (stdio, reading) = match stdout {
            StdoutMode::Drain { lines } => (Stdio::piped(), Reading::Lines(lines)),
            #[cfg(target_os = "linux")]
            StdoutMode::Held(pipe) => (Stdio::from(pipe.write), Reading::Gated(Some(pipe.read))),
            #[cfg(target_os = "linux")]
            StdoutMode::Holdable => (Stdio::piped(), Reading::Gated(None)),
        };
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(stdio)
            .stderr(Stdio::piped())
            // A learner's panic should show where it happened, not a backtrace.
            .env("RUST_BACKTRACE", "0");
        die_with_parent(&mut command);
        default_signals(&mut command);
        let mut shown = format!("`{} {}`", short_name(program), args.join(" "));
        if let Some(limit) = fd_limit {
            limit_descriptors(&mut command, limit);
            shown = format!("{shown} with at most {limit} open file descriptors");
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(err) => lab.fail(
                &format!("{name} starts as {shown}"),
                &format!("error: cannot start {program}: {err}"),
            ),
        };
        // Our copy of a held pipe's write end must close now: the child's exit is seen as the
        // end of that pipe only once no other write end is open.
        drop(command);
        let log = Arc::new(OutputLog::default());
        let piped = child.stdout.take();
        #[cfg(target_os = "linux")]
        let mut gate = None;
        match reading {
            Reading::Lines(lines) => {
                log.drain_lines(Source::Stdout, piped.expect("stdout is piped"), lines);
            }
            #[cfg(target_os = "linux")]
            Reading::Gated(filled) => {
                let held = filled.is_some();
                let read = filled.unwrap_or_else(|| {
                    std::fs::File::from(std::os::fd::OwnedFd::from(piped.expect("stdout is piped")))
                });
                match crate::held::gated(read, held) {
                    Ok((switch, reader)) => {
                        gate = Some(switch);
                        log.drain(Source::Stdout, reader);
                    }
                    Err(err) => lab.fail(
                        &format!("the test reads {name}'s standard output through a gate"),
                        &format!("error: making its wake-up pipe: {err}"),
                    ),
                }
            }
        }
        log.drain(
            Source::Stderr,
            child.stderr.take().expect("stderr is piped"),
        );
        lab.transcript().attach_output(name, Arc::clone(&log));
        lab.step(format!("{name}: started {shown}"));
        Process {
            stdin: child.stdin.take(),
            lab,
            name: name.to_string(),
            child,
            log,
            cursors: [0, 0],
            status: None,
            #[cfg(target_os = "linux")]
            gate,
        }
    }

    /// Stops reading the child's standard output and fills its pipe, so that the child's next
    /// console line blocks in `write` until the returned hold is dropped. `Err` says why it
    /// cannot: the child was not started with [`Process::spawn_holdable`], or this kernel does
    /// not show threads' system calls in `/proc`. With the hold, how many threads the child
    /// had when it began.
    #[cfg(target_os = "linux")]
    pub(crate) fn hold_stdout(&self) -> Result<(crate::held::StdoutHold, usize), String> {
        let Some(gate) = &self.gate else {
            return Err("its standard output was not started holdable".into());
        };
        let pid = self.pid();
        let Some(threads) = crate::held::thread_calls(pid) else {
            return Err(format!("/proc/{pid}/task/*/syscall cannot be read here"));
        };
        if !gate.hold(Instant::now() + crate::timeout()) {
            return Err("the thread reading its standard output did not stop".into());
        }
        match crate::held::fill_stdout_of(pid) {
            Ok(filler) => Ok((
                crate::held::StdoutHold {
                    gate: Arc::clone(gate),
                    filler,
                },
                threads.len(),
            )),
            Err(err) => {
                gate.release(0);
                Err(format!("filling its standard output: {err}"))
            }
        }
    }

    /// The name this process has in the transcript.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The operating system's process id (for sending signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the next line on standard output that satisfies `matches` and returns it.
    /// `what` describes the line for the report ("a line announcing the connection").
    pub fn expect_stdout(&mut self, what: &str, matches: impl FnMut(&str) -> bool) -> String {
        self.expect_line_on(Source::Stdout, what, matches)
    }

    /// Like [`Process::expect_stdout`], for standard error.
    pub fn expect_stderr(&mut self, what: &str, matches: impl FnMut(&str) -> bool) -> String {
        self.expect_line_on(Source::Stderr, what, matches)
    }

    /// Waits for the next standard output line and checks that it is exactly `expected`.
    pub fn expect_stdout_line(&mut self, expected: &str) -> String {
        let what = format!("the line {}", quote(expected));
        self.expect_stdout(&what, |line| line == expected)
    }

    /// Like [`Process::expect_stdout`], with an explicit deadline.
    pub fn expect_stdout_within(
        &mut self,
        within: Duration,
        what: &str,
        matches: impl FnMut(&str) -> bool,
    ) -> String {
        self.expect_line_within(Source::Stdout, within, what, matches)
    }

    /// Like [`Process::expect_stdout_within`], but returns `None` instead of failing when no
    /// such line comes (in time, or before the process ends): for a test that works out why
    /// before it fails.
    pub fn wait_stdout(
        &mut self,
        within: Duration,
        matches: impl FnMut(&str) -> bool,
    ) -> Option<String> {
        let cursor = &mut self.cursors[Source::Stdout as usize];
        let (index, line) = self
            .log
            .wait_for(Source::Stdout, *cursor, Instant::now() + within, matches)
            .ok()?;
        *cursor = index + 1;
        self.lab
            .step(format!("{}: printed {}", self.name, quote(&line)));
        Some(line)
    }

    fn expect_line_on(
        &mut self,
        source: Source,
        what: &str,
        matches: impl FnMut(&str) -> bool,
    ) -> String {
        self.expect_line_within(source, crate::timeout(), what, matches)
    }

    fn expect_line_within(
        &mut self,
        source: Source,
        within: Duration,
        what: &str,
        matches: impl FnMut(&str) -> bool,
    ) -> String {
        let stream = match source {
            Source::Stdout => "standard output",
            Source::Stderr => "standard error",
        };
        let cursor = &mut self.cursors[source as usize];
        match self
            .log
            .wait_for(source, *cursor, Instant::now() + within, matches)
        {
            Ok((index, line)) => {
                *cursor = index + 1;
                self.lab
                    .step(format!("{}: printed {}", self.name, quote(&line)));
                line
            }
            Err(end) => {
                let got = match end {
                    WaitEnd::TimedOut => {
                        format!("no such line within {} ms", within.as_millis())
                    }
                    WaitEnd::Closed => {
                        // Its output is closed, so it is exiting: give it a moment to be
                        // reaped, so the report can say how it ended.
                        let status = self.wait_exit(Duration::from_millis(500));
                        format!(
                            "the process ended without printing it ({})",
                            describe_status(status)
                        )
                    }
                };
                let expected = format!("{} prints {what} on {stream}", self.name);
                self.lab.fail(&expected, &got)
            }
        }
    }

    /// Every line the process has printed on `source` so far.
    pub fn lines(&self, source: Source) -> Vec<String> {
        self.log.lines_from(source)
    }

    /// Types `line` and Enter on the process's standard input.
    pub fn type_line(&mut self, line: &str) {
        self.lab
            .step(format!("{}: typed {}", self.name, quote(line)));
        let name = self.name.clone();
        let Some(stdin) = self.stdin.as_mut() else {
            self.lab.fail(
                &format!("{name}'s standard input to be open"),
                "it was already closed by the test",
            )
        };
        if let Err(err) = stdin.write_all(format!("{line}\n").as_bytes()) {
            self.lab.fail(
                &format!("{name} reads its standard input"),
                &format!("writing to it failed: {err} (has the process exited?)"),
            );
        }
    }

    /// Closes the process's standard input: end of input, as Ctrl-D in a terminal.
    pub fn close_stdin(&mut self) {
        self.lab.step(format!(
            "{}: standard input closed (end of input)",
            self.name
        ));
        self.stdin = None;
    }

    /// Sends a Unix signal (for example `libc::SIGINT`) to the process.
    #[cfg(unix)]
    pub fn signal(&mut self, signal: i32, name: &str) {
        self.lab.step(format!("{}: sent {name}", self.name));
        // SAFETY: kill(2) has no memory-safety preconditions; the pid is our own child, which
        // has not been reaped (we reap only in `expect_exit` and on drop).
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            self.lab.fail(
                &format!("{name} reaches {}", self.name),
                &format!("kill failed: {err}"),
            );
        }
    }

    /// Fails unless the process is still running (it has not exited, for whatever reason).
    pub fn expect_running(&mut self) {
        if let Some(status) = self.wait_exit(Duration::ZERO) {
            self.lab.fail(
                &format!("{} is still running", self.name),
                &format!("it has exited ({})", describe_status(Some(status))),
            );
        }
        self.lab.step(format!("{}: still running", self.name));
    }

    /// Waits for the process to exit within `within` and returns its status; fails if it is
    /// still running then.
    pub fn expect_exit(&mut self, within: Duration) -> ExitStatus {
        match self.wait_exit(within) {
            Some(status) => {
                self.lab.step(format!(
                    "{}: exited ({})",
                    self.name,
                    describe_status(Some(status))
                ));
                status
            }
            None => self.lab.fail(
                &format!("{} exits within {} ms", self.name, within.as_millis()),
                "it was still running",
            ),
        }
    }

    /// Waits for the process to exit; `None` if it is still running after `within`.
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        if let Some(status) = self.status {
            return Some(status);
        }
        let deadline = Instant::now() + within;
        // End of file on both pipes is the exit notification we can block on; a process
        // that closes its output early is then polled until the deadline.
        self.log.wait_closed(deadline);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.status = Some(status);
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Fails unless the process exited with `code` within the usual timeout.
    pub fn expect_exit_code(&mut self, code: i32) {
        let status = self.expect_exit(crate::timeout());
        if status.code() != Some(code) {
            self.lab.fail(
                &format!("{} exits with status {code}", self.name),
                &format!("it exited with {}", describe_status(Some(status))),
            );
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Says how a process ended, for a report.
pub(crate) fn describe_status(status: Option<ExitStatus>) -> String {
    match status {
        None => "still running".to_string(),
        Some(status) => match status.code() {
            Some(101) => "status 101: it panicked, see its output below".to_string(),
            Some(code) => format!("status {code}"),
            None => {
                #[cfg(unix)]
                {
                    use std::os::unix::process::ExitStatusExt;
                    if let Some(signal) = status.signal() {
                        return format!("killed by signal {signal}");
                    }
                }
                "killed by a signal".to_string()
            }
        },
    }
}

fn short_name(program: &str) -> &str {
    std::path::Path::new(program)
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or(program)
}

/// On Linux, asks the kernel to kill the child if the thread that started it dies, so a
/// test process killed by a timeout does not leave servers running. (The signal follows the
/// spawning *thread*: the harness only spawns from the test's own thread, which outlives the
/// child because the `Process` is dropped, and the child killed, before the test returns.)
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs between fork and exec and only calls prctl(2), which is
    // async-signal-safe; it allocates nothing and touches no locks.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_command: &mut Command) {}

/// Gives the child the default action for SIGINT and SIGTERM (end the process). A child
/// inherits signals its parent ignores: a shell starts a background job (`cargo test &`, or
/// `nohup`) with SIGINT ignored, and a server that installs its handler late would then
/// survive the signal that should have killed it, and the tests about signals would judge a
/// different server from the one a terminal runs.
#[cfg(unix)]
fn default_signals(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs between fork and exec and only calls signal(2), which is
    // async-signal-safe; it allocates nothing and touches no locks.
    unsafe {
        command.pre_exec(|| {
            for signal in [libc::SIGINT, libc::SIGTERM] {
                if libc::signal(signal, libc::SIG_DFL) == libc::SIG_ERR {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

#[cfg(not(unix))]
fn default_signals(_command: &mut Command) {}

/// Lets the child open at most `limit` file descriptors, as `ulimit -n` would.
#[cfg(unix)]
fn limit_descriptors(command: &mut Command, limit: u64) {
    use std::os::unix::process::CommandExt;
    let limit = libc::rlimit {
        rlim_cur: limit as libc::rlim_t,
        rlim_max: limit as libc::rlim_t,
    };
    // SAFETY: the closure runs between fork and exec and only calls setrlimit(2), which is
    // async-signal-safe; it allocates nothing and touches no locks.
    unsafe {
        command.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(unix))]
fn limit_descriptors(_command: &mut Command, _limit: u64) {}
