//! Getting the load generator's clients into the room: connect, answer the username prompt,
//! wait for the welcome; and [`Lines`], the buffered line reader every client reads with.
//!
//! The generator works with the chapters that ask for a name (5 on) and with chapter 4's,
//! which does not: the first client listens for the prompt for a moment and decides.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long one step of joining (connect, prompt, welcome) may take before it counts as failed.
const STEP_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the first client waits for a username prompt before deciding that the server
/// asks for none (chapter 4).
const PROMPT_WAIT: Duration = Duration::from_secs(1);

/// How much [`Lines`] reads at once.
const READ_SIZE: usize = 64 * 1024;

/// A line longer than this without a newline is cut off and handed on as it is (it will count
/// as torn), so a server that never sends a newline cannot fill our memory.
const MAX_LINE: usize = 1024 * 1024;

/// The username prompt of chapters 5 on.
const PROMPT: &[u8] = b"Enter username:";

/// Whether the server asks for usernames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Chapters 5 on: a prompt, a name, a welcome, and join notices.
    Named,
    /// Chapter 4: no names; lines are relayed as `[ADDR] text`.
    Unnamed,
}

impl Mode {
    /// How the report names this mode.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Named => "named",
            Mode::Unnamed => "unnamed",
        }
    }
}

/// A client in the room: its socket, its reader (holding what arrived after the welcome), and
/// how many of the run's names the welcome listed as online.
pub struct Joined {
    pub stream: Arc<TcpStream>,
    pub lines: Lines,
    pub online: u32,
}

/// Why a client could not join.
pub enum JoinError {
    /// Connecting failed.
    Connect(io::Error),
    /// The server answered with an `error:` line (full, name taken, ...).
    Refused(String),
    /// Anything else: what went wrong, as a phrase.
    Other(String),
}

// ANCHOR: join
/// Connects to `addr` and joins as `name`; `mode` is found out by the first client and then
/// kept. `prefix` is the run's name prefix, for counting the run's names in the welcome.
pub fn join(
    addr: SocketAddr,
    name: &str,
    prefix: &str,
    mode: &mut Option<Mode>,
    deadline: Instant,
) -> Result<Joined, JoinError> {
    let left = deadline.saturating_duration_since(Instant::now());
    let stream =
        TcpStream::connect_timeout(&addr, left.min(STEP_TIMEOUT).max(Duration::from_millis(1)))
            .map_err(JoinError::Connect)?;
    let stream = Arc::new(stream);
    let mut lines = Lines::new(Arc::clone(&stream));
    let first = match *mode {
        Some(Mode::Unnamed) => None,
        Some(Mode::Named) => Some(lines.line_within(STEP_TIMEOUT.min(left))),
        None => {
            let first = lines.line_within(PROMPT_WAIT.min(left));
            if let Err(err) = &first {
                if is_timeout(err) {
                    // Nothing said on connect: a chapter 4 server, which asks for no name.
                    *mode = Some(Mode::Unnamed);
                    return Ok(Joined {
                        stream,
                        lines,
                        online: 0,
                    });
                }
            }
            *mode = Some(Mode::Named);
            Some(first)
        }
    };
    let Some(first) = first else {
        return Ok(Joined {
            stream,
            lines,
            online: 0,
        });
    };
    expect_prompt(first)?;
    (&*stream)
        .write_all(format!("{name}\n").as_bytes())
        .map_err(|err| JoinError::Other(format!("sending the username {name}: {err}")))?;
    loop {
        let line = lines.line_within(STEP_TIMEOUT.min(left)).map_err(|err| {
            JoinError::Other(format!(
                "waiting for the welcome for {name}: {}",
                describe(&err)
            ))
        })?;
        let text = String::from_utf8_lossy(&line);
        if text.starts_with("error: ") {
            return Err(JoinError::Refused(text.into_owned()));
        }
        if let Some((_, online)) = text
            .strip_prefix("welcome ")
            .and_then(|w| w.split_once("online: "))
        {
            let ours = online
                .split(", ")
                .filter(|n| n.starts_with(prefix) && n[prefix.len()..].starts_with('-'))
                .count();
            let online = u32::try_from(ours).unwrap_or(u32::MAX);
            return Ok(Joined {
                stream,
                lines,
                online,
            });
        }
    }
}
// ANCHOR_END: join

/// Checks that the first line is the username prompt.
fn expect_prompt(first: io::Result<Vec<u8>>) -> Result<(), JoinError> {
    let line = first.map_err(|err| {
        JoinError::Other(format!(
            "waiting for the username prompt: {}",
            describe(&err)
        ))
    })?;
    if line.starts_with(b"error: ") {
        return Err(JoinError::Refused(
            String::from_utf8_lossy(&line).into_owned(),
        ));
    }
    if line.strip_suffix(b"\r").unwrap_or(&line) != PROMPT {
        let got = String::from_utf8_lossy(&line);
        return Err(JoinError::Other(format!(
            "expected the prompt 'Enter username:', got '{got}'"
        )));
    }
    Ok(())
}

/// Whether a read failed because its timeout passed.
pub fn is_timeout(err: &io::Error) -> bool {
    matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// An error as a phrase for a message.
fn describe(err: &io::Error) -> String {
    if is_timeout(err) {
        "nothing arrived in time".to_string()
    } else if err.kind() == ErrorKind::UnexpectedEof {
        "the server closed the connection".to_string()
    } else {
        err.to_string()
    }
}

/// Reads lines from a socket through a buffer of its own, in big reads.
pub struct Lines {
    stream: Arc<TcpStream>,
    buf: Vec<u8>,
    /// Where the unread part of `buf` starts.
    start: usize,
}

impl Lines {
    /// A reader on `stream`.
    pub fn new(stream: Arc<TcpStream>) -> Lines {
        Lines {
            stream,
            buf: Vec::with_capacity(READ_SIZE),
            start: 0,
        }
    }

    /// The socket read from.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// The socket, without the buffer (and whatever it still holds).
    pub fn into_stream(self) -> Arc<TcpStream> {
        self.stream
    }

    /// Reads once, blocking until something arrives (or the socket's read timeout passes);
    /// returns how many bytes arrived, 0 when the server closed the connection.
    pub fn fill(&mut self) -> io::Result<usize> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + READ_SIZE, 0);
        let result = (&*self.stream).read(&mut self.buf[len..]);
        self.buf.truncate(len + *result.as_ref().unwrap_or(&0));
        result
    }

    /// The next complete line already read, without its newline.
    pub fn next_line(&mut self) -> Option<&[u8]> {
        let unread = &self.buf[self.start..];
        let end = match unread.iter().position(|&b| b == b'\n') {
            Some(end) => end,
            None if unread.len() > MAX_LINE => unread.len() - 1,
            None => return None,
        };
        let line = self.start..self.start + end;
        self.start += end + 1;
        Some(&self.buf[line])
    }

    /// The next line, waiting at most `within` for it.
    fn line_within(&mut self, within: Duration) -> io::Result<Vec<u8>> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(line) = self.next_line() {
                return Ok(line.to_vec());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ErrorKind::TimedOut.into());
            }
            self.stream.set_read_timeout(Some(left))?;
            if self.fill()? == 0 {
                return Err(ErrorKind::UnexpectedEof.into());
            }
        }
    }
}
