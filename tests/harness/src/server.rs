//! The chapter's server, started on a free port and found through its `listening on` line.

use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use crate::output::{Source, WaitEnd};
use crate::transcript::quote;
use crate::{Conn, Lab, Process};

/// How long a server may take to print its `listening on` line: startup is a bind and a print,
/// so this only matters on a very loaded machine.
const STARTUP: Duration = Duration::from_secs(10);

/// A running server of the chapter under test. Derefs to its [`Process`] for console checks.
pub struct Server {
    process: Process,
    addr: SocketAddr,
    lab: Lab,
}

impl Server {
    pub(crate) fn start(lab: Lab, args: &[&str]) -> Server {
        Server::start_reading(lab, args, usize::MAX, None)
    }

    /// Starts the server allowed at most `limit` open file descriptors.
    pub(crate) fn start_with_fd_limit(lab: Lab, args: &[&str], limit: u64) -> Server {
        Server::start_reading(lab, args, usize::MAX, Some(limit))
    }

    /// Starts the server, reads its `listening on` line, then closes the read end of its
    /// standard output, as `server | head -1` does once `head` has its line and exits.
    pub(crate) fn start_then_close_console(lab: Lab, args: &[&str]) -> Server {
        let server = Server::start_reading(lab, args, 1, None);
        let closed = server
            .process
            .log
            .wait_stream_closed(Source::Stdout, Instant::now() + STARTUP);
        if !closed {
            // The drain thread closes the pipe right after the first line; only a machine
            // too loaded to schedule it gets here.
            server.lab.fail(
                "the test closes the server's standard output after its first line",
                &format!("it was still open after {} ms", STARTUP.as_millis()),
            );
        }
        server.lab.step(
            "test: closed the server's standard output after that line, as `server | head -1` \
             does: every later console line fails with EPIPE (`Broken pipe`)",
        );
        server
    }

    /// See [`Lab::start_server_and_signal_it_while_announcing`].
    #[cfg(target_os = "linux")]
    pub(crate) fn start_signalled_while_announcing(
        lab: Lab,
        args: &[&str],
        signal: i32,
        name: &str,
    ) -> Result<Server, Process> {
        let all: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        let bin = lab.chapter().bin;
        let pipe = match crate::held::full_pipe() {
            Ok(pipe) => pipe,
            Err(err) => lab.fail(
                "the test makes a full pipe for the server's standard output",
                &format!("it could not: {err}"),
            ),
        };
        let (mut process, hold) =
            Process::spawn_holding_stdout(lab.clone(), "server", bin, &all, pipe);
        lab.step(
            "test: holds the server's standard output full, so its first line waits to be written",
        );
        let deadline = Instant::now() + STARTUP;
        let mut cannot_tell = false;
        loop {
            match crate::held::writing_stdout(process.pid()) {
                Some(true) => break,
                None => {
                    cannot_tell = true;
                    break;
                }
                Some(false) => {}
            }
            if process.wait_exit(Duration::ZERO).is_some() {
                break; // it ended before writing: reading the line below says how
            }
            if Instant::now() >= deadline {
                lab.fail(
                    "the server writes its first line (`listening on ...`) on standard output",
                    &format!(
                        "it had not started writing it after {} ms",
                        STARTUP.as_millis()
                    ),
                );
            }
            // A bounded poll: the kernel announces no "blocked in write".
            std::thread::sleep(Duration::from_millis(1));
        }
        if cannot_tell {
            // /proc/PID/syscall is unreadable here: signal right after the line instead.
            drop(hold);
            let addr = read_listening_line(&lab, &mut process);
            process.signal(signal, name);
            return Ok(Server { process, addr, lab });
        }
        if process.wait_exit(Duration::ZERO).is_none() {
            lab.step("server: is blocked writing its first line to standard output");
            process.signal(signal, name);
        }
        lab.step("test: reads the server's standard output again");
        drop(hold);
        let first = process
            .log
            .wait_for(Source::Stdout, 0, Instant::now() + STARTUP, |_| true);
        if let Err(WaitEnd::Closed) = first {
            return Err(process);
        }
        let addr = read_listening_line(&lab, &mut process);
        Ok(Server { process, addr, lab })
    }

    /// See [`Lab::start_server_and_signal_it_while_announcing`]: here, the signal follows the
    /// line as closely as the test can.
    #[cfg(all(unix, not(target_os = "linux")))]
    pub(crate) fn start_signalled_while_announcing(
        lab: Lab,
        args: &[&str],
        signal: i32,
        name: &str,
    ) -> Result<Server, Process> {
        let mut server = Server::start(lab, args);
        server.process.signal(signal, name);
        Ok(server)
    }

    fn start_reading(
        lab: Lab,
        args: &[&str],
        stdout_lines: usize,
        fd_limit: Option<u64>,
    ) -> Server {
        let all: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        let bin = lab.chapter().bin;
        let mut process =
            Process::spawn_reading(lab.clone(), "server", bin, &all, stdout_lines, fd_limit);
        let addr = read_listening_line(&lab, &mut process);
        Server { process, addr, lab }
    }

    /// Starts the server with a console the test can hold (see [`Server::hold_console`]).
    #[cfg(target_os = "linux")]
    pub(crate) fn start_holdable(lab: Lab, args: &[&str]) -> Server {
        let all: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        let bin = lab.chapter().bin;
        let mut process = Process::spawn_holdable(lab.clone(), "server", bin, &all);
        let addr = read_listening_line(&lab, &mut process);
        Server { process, addr, lab }
    }

    /// Stops reading the server's console and fills the pipe behind it, so that the server's
    /// next console line blocks in `write`, halfway through whatever the server is doing, until
    /// the returned [`HeldConsole`] is dropped (see `held.rs`). `None` where that cannot be
    /// done: on other systems, on a kernel that hides `/proc/PID/task/*/syscall`, or for a
    /// server not started with [`Lab::start_server_with_holdable_console`].
    pub fn hold_console(&self) -> Option<HeldConsole> {
        #[cfg(target_os = "linux")]
        match self.process.hold_stdout() {
            Ok((hold, threads)) => {
                self.lab.step(
                    "test: stops reading the server's standard output and fills the pipe: \
                     the server's next console line will wait in write()",
                );
                Some(HeldConsole {
                    _hold: hold,
                    pid: self.process.pid(),
                    threads,
                    lab: self.lab.clone(),
                })
            }
            Err(why) => {
                self.lab
                    .step(format!("test: cannot hold the server's console: {why}"));
                None
            }
        }
        #[cfg(not(target_os = "linux"))]
        None
    }

    /// The address the server announced.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `--addr` and the server's address, for starting a client against it.
    pub fn addr_args(&self) -> Vec<String> {
        vec!["--addr".to_string(), self.addr.to_string()]
    }

    /// Connects a test client named `name` ("A", "bob") to the server.
    pub fn connect(&self, name: &str) -> Conn {
        Conn::connect(self.lab.clone(), name, self.addr, true, None)
    }

    /// Connects a client that records no steps (see [`Conn::quiet`]): for one of many clients
    /// that come and go in a loop. Failures still report in full.
    pub fn connect_quiet(&self, name: &str) -> Conn {
        Conn::connect(self.lab.clone(), name, self.addr, false, None)
    }

    /// Connects like [`Server::connect`], with a receive buffer of about `bytes` (`SO_RCVBUF`),
    /// as a client on a small device would have: once it stops reading, a server writing to it
    /// finds the connection full sooner, and its kernel may still let bytes through in trickles.
    pub fn connect_with_receive_buffer(&self, name: &str, bytes: usize) -> Conn {
        Conn::connect(self.lab.clone(), name, self.addr, true, Some(bytes))
    }

    /// Connects `n` clients named `{prefix}0`, `{prefix}1`, ... one after another, recording
    /// one step for the group. They are quiet (see [`Conn::quiet`]): a flood of traffic does
    /// not bury the transcript, and failures still report in full.
    pub fn connect_many(&self, prefix: &str, n: usize) -> Vec<Conn> {
        let conns = (0..n)
            .map(|i| {
                Conn::connect(
                    self.lab.clone(),
                    &format!("{prefix}{i}"),
                    self.addr,
                    false,
                    None,
                )
            })
            .collect();
        self.lab.step(format!(
            "{prefix}0..{prefix}{}: {n} clients connected to {}",
            n.saturating_sub(1),
            self.addr
        ));
        conns
    }
}

impl Deref for Server {
    type Target = Process;
    fn deref(&self) -> &Process {
        &self.process
    }
}

impl DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Process {
        &mut self.process
    }
}

/// Reads the first line of standard output, which must be exactly `listening on HOST:PORT`.
fn read_listening_line(lab: &Lab, process: &mut Process) -> SocketAddr {
    let expected = "the server's first line on standard output is `listening on 127.0.0.1:PORT`";
    let first = process
        .log
        .wait_for(Source::Stdout, 0, Instant::now() + STARTUP, |_| true);
    let line = match first {
        Ok((_, line)) => line,
        Err(WaitEnd::TimedOut) => lab.fail(
            expected,
            &format!(
                "nothing on standard output within {} ms",
                STARTUP.as_millis()
            ),
        ),
        Err(WaitEnd::Closed) => lab.fail(expected, &process.ended_before_listening()),
    };
    let addr = line
        .strip_prefix("listening on ")
        .and_then(|rest| rest.parse::<SocketAddr>().ok());
    match addr {
        Some(addr) if addr.port() != 0 && addr.ip().is_loopback() => {
            process.skip_stdout_lines(1);
            lab.step(format!("server: printed {}", quote(&line)));
            addr
        }
        Some(_) => lab.fail(
            expected,
            &format!(
                "{} (print the address the listener actually bound: `listener.local_addr()`)",
                quote(&line)
            ),
        ),
        None => lab.fail(expected, &quote(&line)),
    }
}

impl Process {
    pub(crate) fn skip_stdout_lines(&mut self, n: usize) {
        self.cursors[Source::Stdout as usize] += n;
    }

    pub(crate) fn ended_before_listening(&mut self) -> String {
        let status = self.wait_exit(Duration::from_secs(1));
        format!(
            "the server ended before printing it ({})",
            crate::process::describe_status(status)
        )
    }
}

/// A server's console that the test has stopped reading and filled (see
/// [`Server::hold_console`]). Dropping it reads again, starting with the held lines.
#[cfg(target_os = "linux")]
pub struct HeldConsole {
    /// Released when this is dropped.
    _hold: crate::held::StdoutHold,
    /// The server's process id, and how many threads it had when the hold began.
    pid: u32,
    threads: usize,
    lab: Lab,
}

/// A server's console held full; never made on this system.
#[cfg(not(target_os = "linux"))]
pub struct HeldConsole {
    never: std::convert::Infallible,
}

#[cfg(target_os = "linux")]
impl HeldConsole {
    /// Waits until one of the server's threads is blocked writing to its console, the line
    /// described by `what`; fails the test when none is within the harness timeout.
    pub fn expect_printing(&self, what: &str) {
        let pid = self.pid;
        let printing = crate::held::wait_for_threads(pid, crate::timeout(), |threads| {
            threads.iter().any(|(_, call)| call.writes_stdout())
        });
        match printing {
            Some(true) => self.lab.step(format!(
                "server: is blocked writing {what} to its full standard output"
            )),
            Some(false) => self.lab.fail(
                &format!("the server prints {what} on standard output"),
                &format!(
                    "no thread of the server was writing to standard output after {} ms",
                    crate::timeout().as_millis()
                ),
            ),
            None => self.lab.fail(
                &format!("the server prints {what} on standard output"),
                "the server has ended",
            ),
        }
    }

    /// Waits at most `within` until the server has dealt with a connection made during the
    /// hold: every one of its threads is blocked, and none waits in `accept` unless a thread has
    /// started since the hold (one that took the connection over). False when that did not
    /// happen in time, as with a server whose accepting thread goes back to `accept` and whose
    /// new thread is still running.
    pub fn wait_until_accepted(&self, within: Duration) -> bool {
        let before = self.threads;
        let settled = crate::held::wait_for_threads(self.pid, within, |threads| {
            let blocked = threads
                .iter()
                .all(|(_, call)| *call != crate::held::ThreadCall::Running);
            let accepting = threads.iter().any(|(_, call)| call.accepts());
            blocked && (!accepting || threads.len() > before)
        });
        settled == Some(true)
    }
}

#[cfg(not(target_os = "linux"))]
impl HeldConsole {
    /// See the Linux version.
    pub fn expect_printing(&self, _what: &str) {
        match self.never {}
    }

    /// See the Linux version.
    pub fn wait_until_accepted(&self, _within: Duration) -> bool {
        match self.never {}
    }
}

#[cfg(target_os = "linux")]
impl Drop for HeldConsole {
    fn drop(&mut self) {
        self.lab
            .step("test: reads the server's standard output again");
    }
}
