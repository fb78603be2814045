//! Catching a server between its `listening on` line and its signal handler (Linux only).
//!
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
use std::os::fd::{FromRawFd, OwnedFd};

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
    let raw = fds[1];
    set_nonblocking(raw, true)?;
    let mut filler = 0;
    // Whole pages first, then single bytes, until the kernel says the pipe is full.
    for chunk in [4096, 1] {
        let bytes = vec![b'\n'; chunk];
        loop {
            // SAFETY: `bytes` is valid for `chunk` bytes; `raw` is our open write end.
            let n = unsafe { libc::write(raw, bytes.as_ptr().cast(), chunk) };
            if n < 0 {
                let err = io::Error::last_os_error();
                if err.kind() == io::ErrorKind::WouldBlock {
                    break;
                }
                return Err(err);
            }
            filler += n as usize;
        }
    }
    // The child inherits the same open file: it must block, not fail with EAGAIN.
    set_nonblocking(raw, false)?;
    Ok(FullPipe {
        read,
        write,
        filler,
    })
}

fn set_nonblocking(fd: i32, on: bool) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we own, with integer arguments only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    let flags = if on {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Whether the process's main thread is blocked writing to its standard output, from
/// `/proc/PID/syscall` (the system call's number, then its arguments: `1 0x1 ...` is
/// `write(1, ...)` on x86-64). `None` when that file cannot be read (another OS, or a kernel
/// that hides it).
pub(crate) fn writing_stdout(pid: u32) -> Option<bool> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/syscall")).ok()?;
    let mut fields = text.split_whitespace();
    // `running` (or a process that has exited) is no system call: not yet.
    let Some(number) = fields.next().and_then(|n| n.parse::<libc::c_long>().ok()) else {
        return Some(false);
    };
    let write = number == libc::SYS_write || number == libc::SYS_writev;
    Some(write && fields.next() == Some("0x1"))
}

/// Reads `inner`, discarding its first `skip` bytes: the filler ahead of the child's output.
pub(crate) struct SkipFirst<R> {
    pub(crate) inner: R,
    pub(crate) skip: usize,
}

impl<R: Read> Read for SkipFirst<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.skip > 0 {
            let mut scratch = [0u8; 4096];
            let want = self.skip.min(scratch.len());
            match self.inner.read(&mut scratch[..want])? {
                0 => return Ok(0),
                n => self.skip -= n,
            }
        }
        self.inner.read(buf)
    }
}
