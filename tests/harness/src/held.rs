//! Holding a server's standard output full, to catch it in the middle of a console line
//! (Linux only: it reads `/proc`).
//!
//! At startup: catching a server between its `listening on` line and its signal handler.
//! The contract is "once `listening on` is printed, a signal starts a shutdown": so the handler
//! must be installed before the line is written. A server that installs it just after leaves a
//! window of a few microseconds, too narrow for a test that reads the line and then signals to
//! hit reliably. So the test makes the window as wide as it likes: it fills the pipe that will
//! be the server's standard output before starting it, so the server's write of its first line
//! blocks; it waits until `/proc/PID/syscall` shows the server in that write (to fd 1); then it
//! signals, and only then reads. A server that installed its handler first survives and shuts
//! down; one that prints first is killed by the signal, every time.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// A pipe whose buffer the test has filled: the write end for the child's standard output, the
/// read end for the test, and how many filler bytes come before the child's own output.
pub(crate) struct FullPipe {
    pub(crate) read: File,
    pub(crate) write: OwnedFd,
    pub(crate) filler: usize,
}

/// Makes a pipe and fills its buffer, so that the next write to it blocks.
pub(crate) fn full_pipe() -> io::Result<FullPipe> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two new descriptors into `fds`, which we then own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and nothing else owns them.
    let (read, write) = unsafe { (File::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let filler = fill_pipe_at(&format!("/proc/self/fd/{}", write.as_raw_fd()))?;
    Ok(FullPipe {
        read,
        write,
        filler,
    })
}

/// Whether the process's main thread is blocked writing to its standard output, from
/// `/proc/PID/syscall` (the system call's number, then its arguments: `1 0x1 ...` is
/// `write(1, ...)` on x86-64). `None` when that file cannot be read (another OS, or a kernel
/// that hides it).
pub(crate) fn writing_stdout(pid: u32) -> Option<bool> {
    thread_call(&format!("/proc/{pid}/syscall")).map(ThreadCall::writes_stdout)
}

// ---------------------------------------------------------------------------------------------
// Holding a running server's console.
//
// Some contracts are about the order of two things a server does around a console line: "the
// slot is free the moment `disconnected` is printed". A server that prints first and frees the
// slot a microsecond later is wrong, but a test that reads the line and then connects almost
// never lands in that microsecond. So the test stretches the moment: it stops reading the
// server's standard output and fills the pipe, so that the server's next console line blocks
// in `write`, in the middle of whatever the server was doing. It checks `/proc` until a server
// thread is blocked there, does what the contract says is already allowed (connect), and only
// then reads again.

/// The switch between a child's standard output and the thread that drains it.
pub(crate) struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
    /// The write end of a pipe the drain thread also polls, to leave a blocked wait.
    wake: OwnedFd,
}

#[derive(Default)]
struct GateState {
    /// The test wants nobody to read the pipe.
    held: bool,
    /// The drain thread has stopped reading and waits for `held` to clear.
    parked: bool,
    /// Filler bytes (`\n`, each an empty line) the test put in the pipe while it was held.
    filler: usize,
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stops the drain thread before its next read of the pipe. False when it had not stopped
    /// by `deadline` (or has ended: the child closed its output).
    pub(crate) fn hold(&self, deadline: Instant) -> bool {
        let mut state = self.lock();
        state.held = true;
        state.parked = false;
        // Wakes the drain thread if it is waiting in poll(); a full wake pipe already will.
        // SAFETY: a one-byte write from a valid buffer to a descriptor we own.
        unsafe { libc::write(self.wake.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
        let within = deadline.saturating_duration_since(Instant::now());
        let (state, _) = self
            .changed
            .wait_timeout_while(state, within, |state| !state.parked)
            .unwrap_or_else(PoisonError::into_inner);
        state.parked
    }

    /// Lets the drain thread read again; it skips the `filler` bytes the test wrote meanwhile.
    pub(crate) fn release(&self, filler: usize) {
        let mut state = self.lock();
        state.held = false;
        state.filler += filler;
        self.changed.notify_all();
    }
}

/// A child's standard output as its drain thread reads it: through a [`Gate`], with the test's
/// filler taken out.
pub(crate) struct Gated<R> {
    inner: R,
    wake: File,
    gate: Arc<Gate>,
    /// Filler still to skip.
    filler: usize,
    /// Whether the next byte starts a line (filler is only ever whole empty lines).
    at_line_start: bool,
}

/// Wraps a child's standard output in a gate the test can close; `held`: closed from the
/// start (for a pipe the test filled before the child started).
pub(crate) fn gated<R: Read + AsRawFd>(inner: R, held: bool) -> io::Result<(Arc<Gate>, Gated<R>)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two new descriptors into `fds`, which we then own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and nothing else owns them.
    let (wake_read, wake_write) =
        unsafe { (File::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let gate = Arc::new(Gate {
        state: Mutex::new(GateState {
            held,
            ..GateState::default()
        }),
        changed: Condvar::new(),
        wake: wake_write,
    });
    let reader = Gated {
        inner,
        wake: wake_read,
        gate: Arc::clone(&gate),
        filler: 0,
        at_line_start: true,
    };
    Ok((gate, reader))
}

impl<R: Read + AsRawFd> Gated<R> {
    /// Parks while the test holds the gate; then takes over the filler count.
    fn pass_gate(&mut self) {
        let gate = Arc::clone(&self.gate);
        let mut state = gate.lock();
        if state.held {
            state.parked = true;
            gate.changed.notify_all();
            state = gate
                .changed
                .wait_while(state, |state| state.held)
                .unwrap_or_else(PoisonError::into_inner);
        }
        self.filler += std::mem::take(&mut state.filler);
    }

    /// Removes whole empty lines from `bytes` while filler remains; returns the length kept.
    fn strip_filler(&mut self, bytes: &mut [u8]) -> usize {
        let mut kept = 0;
        for i in 0..bytes.len() {
            let byte = bytes[i];
            if byte == b'\n' && self.at_line_start && self.filler > 0 {
                self.filler -= 1;
                continue;
            }
            bytes[kept] = byte;
            kept += 1;
            self.at_line_start = byte == b'\n';
        }
        kept
    }
}

impl<R: Read + AsRawFd> Read for Gated<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            self.pass_gate();
            let mut fds = [
                libc::pollfd {
                    fd: self.inner.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: self.wake.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            // SAFETY: `fds` is a valid array of two pollfd structures.
            if unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) } == -1 {
                let err = io::Error::last_os_error();
                if err.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(err);
            }
            if fds[1].revents != 0 {
                // A wake-up: empty the wake pipe (non-blocking), then look at the gate again.
                let mut scratch = [0u8; 64];
                while matches!(self.wake.read(&mut scratch), Ok(n) if n > 0) {}
                continue;
            }
            if fds[0].revents != 0 {
                let n = self.inner.read(buf)?;
                if n == 0 {
                    return Ok(0);
                }
                let kept = self.strip_filler(&mut buf[..n]);
                if kept > 0 {
                    return Ok(kept);
                }
            }
        }
    }
}

/// A child's standard output that nobody reads and that the test filled: its next console line
/// blocks in `write`. Dropping the hold lets the drain thread read again.
pub(crate) struct StdoutHold {
    pub(crate) gate: Arc<Gate>,
    pub(crate) filler: usize,
}

impl Drop for StdoutHold {
    fn drop(&mut self) {
        self.gate.release(self.filler);
    }
}

/// Fills the pipe that is process `pid`'s standard output (see [`fill_pipe_at`]).
pub(crate) fn fill_stdout_of(pid: u32) -> io::Result<usize> {
    fill_pipe_at(&format!("/proc/{pid}/fd/1"))
}

/// Fills the pipe that `path` (`/proc/PID/fd/N`) names, through a descriptor of our own,
/// opened non-blocking: a new open file, so the writer's own descriptor stays blocking. Whole
/// pages first, then single bytes, until the kernel says the pipe is full; returns how many
/// bytes (`\n`, empty lines) it took. Nobody may be reading the pipe meanwhile.
fn fill_pipe_at(path: &str) -> io::Result<usize> {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let mut pipe = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    if !pipe.metadata()?.file_type().is_fifo() {
        return Err(io::Error::other(format!("{path} is not a pipe")));
    }
    let mut filler = 0;
    for chunk in [4096, 1] {
        let bytes = vec![b'\n'; chunk];
        loop {
            match std::io::Write::write(&mut pipe, &bytes) {
                Ok(n) => filler += n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) => return Err(err),
            }
        }
    }
    Ok(filler)
}

/// What one thread is doing, from `/proc/PID/task/TID/syscall`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ThreadCall {
    /// On a core, or between system calls.
    Running,
    /// Blocked in system call `number`, whose first argument is `arg0`.
    Blocked { number: libc::c_long, arg0: u64 },
}

impl ThreadCall {
    /// Blocked writing to its standard output (fd 1).
    pub(crate) fn writes_stdout(self) -> bool {
        matches!(self, ThreadCall::Blocked { number, arg0: 1 }
            if number == libc::SYS_write || number == libc::SYS_writev)
    }

    /// Blocked in `accept`, waiting for the next connection.
    pub(crate) fn accepts(self) -> bool {
        matches!(self, ThreadCall::Blocked { number, .. }
            if number == libc::SYS_accept || number == libc::SYS_accept4)
    }
}

fn thread_call(path: &str) -> Option<ThreadCall> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut fields = text.split_whitespace();
    let Some(number) = fields.next().and_then(|n| n.parse::<libc::c_long>().ok()) else {
        return Some(ThreadCall::Running);
    };
    let arg0 = fields
        .next()
        .and_then(|arg| u64::from_str_radix(arg.trim_start_matches("0x"), 16).ok())?;
    Some(ThreadCall::Blocked { number, arg0 })
}

/// What each of process `pid`'s threads is doing; `None` when `/proc` does not say.
pub(crate) fn thread_calls(pid: u32) -> Option<Vec<(u32, ThreadCall)>> {
    let mut calls = Vec::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let Ok(entry) = entry else { continue };
        let Some(tid) = entry.file_name().to_str().and_then(|t| t.parse().ok()) else {
            continue;
        };
        // A thread that ended since the listing has no file any more: skip it.
        if let Some(call) = thread_call(&format!("/proc/{pid}/task/{tid}/syscall")) {
            calls.push((tid, call));
        }
    }
    // No thread's file could be read: this kernel does not say.
    (!calls.is_empty()).then_some(calls)
}

/// Polls `done` every millisecond until it holds or `within` has passed (the kernel announces
/// no "blocked in write"). `None` when `/proc` cannot tell.
pub(crate) fn wait_for_threads(
    pid: u32,
    within: Duration,
    mut done: impl FnMut(&[(u32, ThreadCall)]) -> bool,
) -> Option<bool> {
    let deadline = Instant::now() + within;
    loop {
        if done(&thread_calls(pid)?) {
            return Some(true);
        }
        if Instant::now() >= deadline {
            return Some(false);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}
