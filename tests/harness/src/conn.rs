//! A TCP connection the test drives line by line, with a deadline on every read.
//!
//! Reads go through our own buffer rather than `BufRead::read_line`, because a read that times
//! out halfway through a line must keep the half it has: the rest may still arrive, and a
//! test that checks "nothing until the newline" depends on it.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::Lab;
use crate::transcript::quote;

/// Why no line could be read.
#[derive(Debug)]
pub enum ReadError {
    /// Nothing (or only part of a line) arrived before the deadline.
    TimedOut { partial: Vec<u8> },
    /// The peer closed the connection (end of file); `partial` is an unterminated last line.
    Closed { partial: Vec<u8> },
    /// The connection failed, typically reset by the peer.
    Failed(std::io::Error),
}

/// One end of a TCP connection, named in the transcript ("A", "bob", "server").
pub struct Conn {
    lab: Lab,
    name: String,
    stream: TcpStream,
    /// Bytes received but not yet returned as a line.
    pending: Vec<u8>,
    /// Steps are not recorded for bulk traffic (see [`Conn::quiet`]).
    quiet: bool,
}

impl Conn {
    pub(crate) fn connect(
        lab: Lab,
        name: &str,
        addr: SocketAddr,
        record: bool,
        receive_buffer: Option<usize>,
    ) -> Conn {
        match open(addr, receive_buffer) {
            Ok(stream) => {
                let mut conn = Conn::new(lab, name, stream);
                if record {
                    conn.step(match receive_buffer {
                        None => format!("connected to {addr}"),
                        Some(bytes) => {
                            format!("connected to {addr} with a {bytes}-byte receive buffer")
                        }
                    });
                } else {
                    conn.quiet();
                }
                conn
            }
            Err(err) => lab.fail(
                &format!("{name} connects to the server at {addr}"),
                &format!("connect failed: {err} (did the server stop accepting, or exit?)"),
            ),
        }
    }

    fn new(lab: Lab, name: &str, stream: TcpStream) -> Conn {
        // Small writes must leave at once, so a test sees the server's reaction to each one.
        let _ = stream.set_nodelay(true);
        Conn {
            lab,
            name: name.to_string(),
            stream,
            pending: Vec::new(),
            quiet: false,
        }
    }

    /// The test this connection reports to: for a scenario helper that is handed a
    /// connection and must fail with its own hint.
    pub fn lab(&self) -> &Lab {
        &self.lab
    }

    /// This end's name in the transcript.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The local address of this end (what the server sees as the peer address).
    pub fn local_addr(&self) -> SocketAddr {
        self.stream
            .local_addr()
            .expect("a connected socket has a local address")
    }

    /// Stops recording each line sent and received (for floods); failures still report.
    pub fn quiet(&mut self) -> &mut Conn {
        self.quiet = true;
        self
    }

    fn step(&self, text: String) {
        if !self.quiet {
            self.lab.step(format!("{}: {text}", self.name));
        }
    }

    /// Writes 1000-byte lines as fast as the peer takes them, until no byte at all is taken
    /// for `stalled` (the peer has stopped reading this connection): returns how many bytes
    /// went through. Fails (`Err`, saying why) if a write fails or `budget` bytes go through
    /// first. For tests that need a server stuck writing to a client that stopped reading:
    /// once that client's buffers are full, the thread relaying this connection's lines is
    /// stuck too, and stops reading them.
    pub fn flood_until_stalled(&self, stalled: Duration, budget: usize) -> Result<usize, String> {
        let mut line = vec![b'x'; 1000];
        line.push(b'\n');
        let before = self.stream.write_timeout().ok().flatten();
        self.stream
            .set_write_timeout(Some(stalled))
            .expect("a non-zero write timeout is valid");
        let mut writer = &self.stream;
        let (mut offset, mut written) = (0, 0);
        let outcome = loop {
            if written >= budget {
                break Err(format!(
                    "{written} bytes went through and the server never stopped reading"
                ));
            }
            // write() returns as soon as any byte is taken: only a peer that takes nothing
            // at all for `stalled` makes it time out.
            match writer.write(&line[offset..]) {
                Ok(0) => break Err("the connection took no more data".to_string()),
                Ok(n) => {
                    written += n;
                    offset = (offset + n) % line.len();
                }
                Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    break Ok(written);
                }
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => break Err(format!("the write failed after {written} bytes: {err}")),
            }
        };
        let _ = self.stream.set_write_timeout(before);
        outcome
    }

    /// Sends `line` followed by `\n`.
    pub fn send_line(&mut self, line: &str) {
        self.step(format!("sent {}", quote(line)));
        let mut bytes = line.as_bytes().to_vec();
        bytes.push(b'\n');
        self.write(&bytes);
    }

    /// Sends raw bytes: part of a line, several lines at once, or invalid UTF-8.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.step(format!(
            "sent the bytes {}",
            quote(&String::from_utf8_lossy(bytes))
        ));
        self.write(bytes);
    }

    /// Sends bytes without failing the test if the peer has gone: returns whether it worked.
    pub fn try_send(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).is_ok()
    }

    fn write(&mut self, bytes: &[u8]) {
        if let Err(err) = self.stream.write_all(bytes) {
            let name = self.name.clone();
            self.lab.fail(
                &format!("{name} can send to its peer"),
                &format!("the write failed: {err} (the connection was closed)"),
            );
        }
    }

    /// Reads one line (without its `\n`) within `within`, without failing the test.
    pub fn read_line_bytes(&mut self, within: Duration) -> Result<Vec<u8>, ReadError> {
        let deadline = Instant::now() + within;
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.pending.drain(..=end).collect();
                line.pop();
                return Ok(line);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(ReadError::TimedOut {
                    partial: self.pending.clone(),
                });
            }
            self.stream
                .set_read_timeout(Some(deadline - now))
                .expect("a non-zero read timeout is valid");
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(ReadError::Closed {
                        partial: std::mem::take(&mut self.pending),
                    });
                }
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
                Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    // Loop: the deadline check above decides.
                }
                Err(err) if err.kind() == ErrorKind::Interrupted => {}
                Err(err) => return Err(ReadError::Failed(err)),
            }
        }
    }

    /// Reads lines until one is exactly `wanted`, skipping the others, for `within` in all,
    /// without failing the test: `Err` says what happened instead (for scenarios that time the
    /// wait, or read amid a flood of other lines).
    pub fn read_until(&mut self, wanted: &str, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.read_line_bytes(left) {
                Ok(line) if line == wanted.as_bytes() => return Ok(()),
                Ok(_) => {}
                Err(ReadError::TimedOut { .. }) => {
                    return Err(format!("nothing within {} ms", within.as_millis()));
                }
                Err(_) => return Err(format!("the server closed {}'s connection", self.name)),
            }
        }
    }

    /// Lets the test's line check ([`Lab::on_unexpected_line`]) name the cause of `line`, which
    /// this end received when the test expected something else: call it before failing, in a
    /// scenario that reads lines itself. The harness's own checks call it.
    pub fn unexpected(&self, line: &[u8]) {
        self.lab
            .transcript()
            .recognise(self, &String::from_utf8_lossy(line));
    }

    /// Reads one line as text (invalid UTF-8 replaced), failing the test if none arrives.
    pub fn recv_line(&mut self) -> String {
        self.recv_line_within(crate::timeout(), "a line")
    }

    fn recv_line_within(&mut self, within: Duration, what: &str) -> String {
        match self.read_line_bytes(within) {
            Ok(line) => {
                let text = String::from_utf8_lossy(&line).into_owned();
                self.step(format!("received {}", quote(&text)));
                text
            }
            Err(err) => {
                let expected = format!("{} receives {what}", self.name);
                self.lab.fail(&expected, &describe(&err, within))
            }
        }
    }

    /// Fails unless the next line is exactly `expected`.
    pub fn expect_line(&mut self, expected: &str) {
        let what = quote(expected);
        let got = self.recv_line_within(crate::timeout(), &what);
        if got != expected {
            self.unexpected(got.as_bytes());
            self.lab.fail(
                &format!("{} receives {what}", self.name),
                &format!("{} received {}", self.name, quote(&got)),
            );
        }
    }

    /// Fails unless the next line is exactly these bytes (for invalid UTF-8).
    pub fn expect_line_bytes(&mut self, expected: &[u8]) {
        let within = crate::timeout();
        // As text with every byte that is not printable ASCII escaped: "caf\xc3\xa9\xff".
        let what = format!("the bytes \"{}\"", expected.escape_ascii());
        match self.read_line_bytes(within) {
            Ok(line) if line == expected => self.step(format!("received {what}")),
            Ok(line) => {
                self.unexpected(&line);
                self.lab.fail(
                    &format!("{} receives {what}", self.name),
                    &format!(
                        "{} received the bytes \"{}\"",
                        self.name,
                        line.escape_ascii()
                    ),
                )
            }
            Err(err) => self.lab.fail(
                &format!("{} receives {what}", self.name),
                &describe(&err, within),
            ),
        }
    }

    /// Reads the next line and fails unless `matches` accepts it; `what` describes it.
    pub fn expect_line_matching(&mut self, what: &str, matches: impl Fn(&str) -> bool) -> String {
        let got = self.recv_line_within(crate::timeout(), what);
        if !matches(&got) {
            self.unexpected(got.as_bytes());
            self.lab.fail(
                &format!("{} receives {what}", self.name),
                &format!("{} received {}", self.name, quote(&got)),
            );
        }
        got
    }

    /// Fails if anything at all arrives within `window` (for "not yet" and "not to me").
    pub fn expect_silence(&mut self, window: Duration) {
        match self.read_line_bytes(window) {
            Err(ReadError::TimedOut { partial }) if partial.is_empty() => {
                self.step(format!(
                    "received nothing for {} ms, as expected",
                    window.as_millis()
                ));
            }
            Err(ReadError::TimedOut { partial }) => self.lab.fail(
                &format!("{} receives nothing yet", self.name),
                &format!(
                    "{} received the unfinished line {}",
                    self.name,
                    quote(&String::from_utf8_lossy(&partial))
                ),
            ),
            Ok(line) => {
                self.unexpected(&line);
                self.lab.fail(
                    &format!("{} receives nothing", self.name),
                    &format!(
                        "{} received {}",
                        self.name,
                        quote(&String::from_utf8_lossy(&line))
                    ),
                )
            }
            Err(err) => self.lab.fail(
                &format!("{}'s connection stays open and quiet", self.name),
                &describe(&err, window),
            ),
        }
    }

    /// Fails unless the peer closes the connection (end of file or reset) with nothing more
    /// sent first.
    pub fn expect_closed(&mut self) {
        let within = crate::timeout();
        match self.read_line_bytes(within) {
            Err(ReadError::Closed { partial }) if partial.is_empty() => {
                self.step("saw the connection closed".to_string());
            }
            Err(ReadError::Failed(err)) => {
                self.step(format!("saw the connection fail: {err}"));
            }
            Ok(line) => {
                self.unexpected(&line);
                self.lab.fail(
                    &format!("the connection to {} is closed", self.name),
                    &format!(
                        "{} received {} first",
                        self.name,
                        quote(&String::from_utf8_lossy(&line))
                    ),
                )
            }
            Err(err) => self.lab.fail(
                &format!("the connection to {} is closed", self.name),
                &describe(&err, within),
            ),
        }
    }

    /// Half-closes: no more data from this end (the peer reads end of file).
    pub fn shutdown_write(&mut self) {
        self.step("closed its sending side (shutdown Write)".to_string());
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// Vanishes without a goodbye: the socket is reset, as when a client is killed. On Unix
    /// `SO_LINGER` 0 makes the close send a reset, the most abrupt way out.
    pub fn vanish(self) {
        self.lab
            .step(format!("{}: vanished (connection reset)", self.name));
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            let linger = libc::linger {
                l_onoff: 1,
                l_linger: 0,
            };
            // SAFETY: the fd is open for as long as `self.stream` lives, and we pass a pointer
            // to a correctly sized, initialised linger struct.
            unsafe {
                libc::setsockopt(
                    self.stream.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_LINGER,
                    (&linger as *const libc::linger).cast(),
                    std::mem::size_of::<libc::linger>() as libc::socklen_t,
                );
            }
        }
        drop(self.stream);
    }

    /// The raw stream, for scenarios the helpers do not cover (a reader thread, a flood).
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }
}

/// Connects to `addr`, first shrinking the receive buffer (`SO_RCVBUF`) to `receive_buffer`
/// bytes if asked: set before connecting, it also decides the window the handshake offers.
fn open(addr: SocketAddr, receive_buffer: Option<usize>) -> std::io::Result<TcpStream> {
    let Some(bytes) = receive_buffer else {
        return TcpStream::connect_timeout(&addr, crate::timeout());
    };
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    socket.set_recv_buffer_size(bytes)?;
    socket.connect_timeout(&addr.into(), crate::timeout())?;
    Ok(socket.into())
}

/// Says what a failed read saw, for a report.
fn describe(err: &ReadError, within: Duration) -> String {
    match err {
        ReadError::TimedOut { partial } if partial.is_empty() => {
            format!("nothing within {} ms", within.as_millis())
        }
        ReadError::TimedOut { partial } => format!(
            "only the unfinished line {} within {} ms (no \\n at its end)",
            quote(&String::from_utf8_lossy(partial)),
            within.as_millis()
        ),
        ReadError::Closed { partial } if partial.is_empty() => {
            "the connection was closed".to_string()
        }
        ReadError::Closed { partial } => format!(
            "the unfinished line {}, then the connection was closed",
            quote(&String::from_utf8_lossy(partial))
        ),
        ReadError::Failed(err) => format!("the connection failed: {err}"),
    }
}

/// A listener the test drives by hand, standing in for a server when testing a client.
pub struct ScriptedServer {
    lab: Lab,
    listener: TcpListener,
}

impl ScriptedServer {
    pub(crate) fn bind(lab: Lab) -> ScriptedServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0 works");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        lab.step(format!("scripted server: listening on {addr}"));
        ScriptedServer { lab, listener }
    }

    /// The address clients should connect to.
    pub fn addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// `--addr` and this listener's address, for starting a client against it.
    pub fn addr_args(&self) -> Vec<String> {
        vec!["--addr".to_string(), self.addr().to_string()]
    }

    /// Waits for a client to connect; the returned end is named `name` in the transcript.
    pub fn accept(&self, name: &str) -> Conn {
        let deadline = Instant::now() + crate::timeout();
        self.listener
            .set_nonblocking(true)
            .expect("a listener can be made non-blocking");
        // A bounded poll: std has no accept-with-timeout, and this is test-side code.
        let stream = loop {
            match self.listener.accept() {
                Ok((stream, _)) => break stream,
                Err(err) if err.kind() == ErrorKind::WouldBlock => {
                    if Instant::now() >= deadline {
                        self.lab.fail(
                            "the client connects to the scripted server",
                            &format!("no connection within {} ms", crate::timeout().as_millis()),
                        );
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(err) => self
                    .lab
                    .fail("the client connects", &format!("accept failed: {err}")),
            }
        };
        stream
            .set_nonblocking(false)
            .expect("a socket can be made blocking");
        self.lab
            .step(format!("{name}: accepted the client's connection"));
        Conn::new(self.lab.clone(), name, stream)
    }
}
