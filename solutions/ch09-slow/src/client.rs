//! The client: one thread prints what the server sends, another sends what you type.
//!
//! The client answers the username prompt itself when given `--name`, refuses an empty name on
//! the spot, and leaves the same clean way, by saying `exit`, when you type `exit`, end your
//! input, or press Ctrl-C. New in chapter 6: a server that is full says so and closes; the
//! client shows why and exits with status 2.

use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};

/// The server's username prompt (see the session on the server side).
const PROMPT: &str = "Enter username:";

/// What the client's threads share.
struct Session {
    /// The socket's writing side, shared by the input thread, the reader thread (which answers
    /// the prompt) and the Ctrl-C handler; the lock keeps their lines whole.
    writer: Mutex<TcpStream>,
    /// The name to answer the first prompt with (`--name`); taken when used.
    auto_name: Mutex<Option<String>>,
    /// Set once the server has welcomed us: from then on an empty line is just nothing to say.
    named: AtomicBool,
    /// Set once we have said `exit`: the server closing is then expected, not news.
    leaving: AtomicBool,
}

impl Session {
    /// Sends one line to the server.
    fn send_line(&self, line: &str) -> io::Result<()> {
        let writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        (&*writer).write_all(format!("{line}\n").as_bytes())
    }

    /// Says `exit` to the server, once; the server answers `bye` and closes, which ends the
    /// reader thread and so the client.
    fn leave(&self) {
        if !self.leaving.swap(true, Ordering::SeqCst) {
            let _ = self.send_line("exit");
        }
    }
}

// ANCHOR: run_client
/// Connects to `addr` and runs a session until the server closes the connection.
pub fn run(addr: &str, name: Option<&str>) -> ExitCode {
    let Some(stream) = connect(addr) else {
        return ExitCode::FAILURE;
    };
    let for_reader = match stream.try_clone() {
        Ok(clone) => clone,
        Err(err) => {
            eprintln!("error: duplicating the connection: {err}");
            return ExitCode::FAILURE;
        }
    };
    let auto_name = match name {
        Some("") => {
            eprintln!("Username can't be empty");
            None
        }
        other => other.map(str::to_string),
    };
    let session = Arc::new(Session {
        writer: Mutex::new(stream),
        auto_name: Mutex::new(auto_name),
        named: AtomicBool::new(false),
        leaving: AtomicBool::new(false),
    });
    handle_ctrl_c(&session);
    let reader = spawn_reader(for_reader, Arc::clone(&session));
    let input = Arc::clone(&session);
    let sender = thread::Builder::new()
        .name("stdin".to_string())
        .spawn(move || send_input(&input));
    if let Err(err) = sender {
        eprintln!("error: starting the input thread: {err}");
        return ExitCode::FAILURE;
    }
    // The session ends when the server closes. We do not join the stdin thread: it may be
    // blocked in read() forever, and nothing can cancel that. Returning from main ends the
    // process, and the thread with it.
    match reader.map(JoinHandle::join) {
        Ok(Ok(status)) => status,
        Ok(Err(_)) => ExitCode::FAILURE, // the reader panicked; its message is already printed
        Err(err) => {
            eprintln!("error: starting the reader thread: {err}");
            ExitCode::FAILURE
        }
    }
}
// ANCHOR_END: run_client

// ANCHOR: ctrlc
/// Makes Ctrl-C leave cleanly: the first one says `exit` to the server, a second one (if the
/// server does not answer) ends the client at once.
fn handle_ctrl_c(session: &Arc<Session>) {
    let session = Arc::clone(session);
    // ctrlc runs this closure on an ordinary thread of its own, not inside the signal handler,
    // so it may lock and write like any other code.
    let installed = ctrlc::set_handler(move || {
        if session.leaving.load(Ordering::SeqCst) {
            std::process::exit(130);
        }
        session.leave();
    });
    if let Err(err) = installed {
        eprintln!(
            "error: installing the Ctrl-C handler: {err} (Ctrl-C will end the client abruptly)"
        );
    }
}
// ANCHOR_END: ctrlc

/// Connects to the server, or says why not.
fn connect(addr: &str) -> Option<TcpStream> {
    match TcpStream::connect(addr) {
        Ok(stream) => Some(stream),
        Err(err) => {
            eprintln!("error: cannot connect to {addr}: {err} (is the server running?)");
            None
        }
    }
}

/// Starts the thread that prints what the server sends; see [`print_server_lines`].
fn spawn_reader(stream: TcpStream, session: Arc<Session>) -> io::Result<JoinHandle<ExitCode>> {
    thread::Builder::new()
        .name("server".to_string())
        .spawn(move || print_server_lines(stream, &session))
}

// ANCHOR: print_server_lines
/// Prints every line from the server as soon as it arrives, until the server closes the
/// connection. Returns the client's exit status: 2 if the server refused to admit us.
fn print_server_lines(stream: TcpStream, session: &Session) -> ExitCode {
    let ring_bell = io::stdout().is_terminal();
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    let mut first = true;
    // Ok(0) is end of file; an error is a reset: either way the server is gone.
    while let Ok(1..) = reader.read_until(b'\n', &mut line) {
        let text = String::from_utf8_lossy(&line)
            .trim_end_matches(['\n', '\r'])
            .to_string();
        line.clear();
        if std::mem::take(&mut first) && text.starts_with("error: server is full") {
            eprintln!("{text}");
            return ExitCode::from(2);
        }
        if answer_prompt(session, &text) {
            continue;
        }
        let mut out = io::stdout().lock();
        if ring_bell {
            let _ = out.write_all(b"\x07");
        }
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }
    if !session.leaving.load(Ordering::SeqCst) {
        eprintln!("connection closed by server");
    }
    ExitCode::SUCCESS
}
// ANCHOR_END: print_server_lines

// ANCHOR: answer_prompt
/// Follows the login from the server's side: answers the first prompt with `--name` (and
/// returns true: that prompt is not shown), and notes when we are welcomed.
fn answer_prompt(session: &Session, text: &str) -> bool {
    if text.starts_with("welcome ") {
        session.named.store(true, Ordering::SeqCst);
    }
    if text != PROMPT || session.named.load(Ordering::SeqCst) {
        return false;
    }
    let name = session
        .auto_name
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    match name {
        Some(name) => session.send_line(&name).is_ok(),
        None => false,
    }
}
// ANCHOR_END: answer_prompt

// ANCHOR: send_input
/// Sends every line typed on standard input. `exit` or the end of input leaves the room.
fn send_input(session: &Session) {
    let mut stdin = io::stdin().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        match stdin.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches(['\n', '\r']);
                if text.trim() == "exit" {
                    break;
                }
                if text.trim().is_empty() && !session.named.load(Ordering::SeqCst) {
                    // The server would refuse it too; saying so here saves a round trip.
                    eprintln!("Username can't be empty");
                    continue;
                }
                if session.send_line(text).is_err() {
                    return; // the server is gone; the reader thread reports it
                }
            }
        }
    }
    session.leave();
}
// ANCHOR_END: send_input
