//! A test double for the load generator: a tiny chat server, in the grader, that speaks the
//! protocol (prompt, welcome, join notices, `[NAME] text`) on 127.0.0.1:0 and mishandles
//! chosen lines on purpose, so that the grader knows exactly what the report must say.
//!
//! A measured line is `L <sender> <seq> <nanos> <padding>`; a [`Fault`] is keyed by its sender
//! and sequence number. The double relays under one lock with blocking writes, which is fine
//! for the few clients and lines of a test.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

/// What the double does to one line.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Relays it to nobody.
    Drop,
    /// Relays it twice.
    Duplicate,
    /// Holds it back until the sender's next line has been relayed.
    Reorder,
    /// Relays it cut short: its last ten bytes are missing.
    Tear,
    /// Waits this long before relaying it (and so everything after it from that sender).
    Delay(Duration),
    /// Relays it, and sends everyone else an `error:` line.
    Error,
    /// Relays it, then closes the sender's connection.
    Disconnect,
}

/// The `error:` line sent for [`Fault::Error`].
pub const ERROR_LINE: &str = "error: the test double complains";

/// How the double behaves.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Faults by (sender, sequence number).
    pub faults: HashMap<(u32, u64), Fault>,
    /// Ask for no names and relay lines as `[ADDR] text`, as chapter 4 does.
    pub unnamed: bool,
    /// Accept connections and never say or relay anything.
    pub silent: bool,
}

impl Plan {
    /// A plan with one fault.
    pub fn with(sender: u32, seq: u64, fault: Fault) -> Plan {
        let mut plan = Plan::default();
        plan.faults.insert((sender, seq), fault);
        plan
    }
}

/// One client of the double.
struct Member {
    name: String,
    stream: TcpStream,
}

/// What the double's threads share.
#[derive(Default)]
struct Room {
    members: Mutex<Vec<Member>>,
    /// Every name that joined, in order.
    joined: Mutex<Vec<String>>,
    /// Per sender, the stamps (nanos) of its lines, in the order received.
    stamps: Mutex<HashMap<u32, Vec<u64>>>,
}

/// The running double; dropping it stops accepting.
pub struct Double {
    addr: SocketAddr,
    room: Arc<Room>,
    stop: Arc<AtomicBool>,
}

impl Double {
    /// Starts the double on a free loopback port.
    pub fn start(plan: Plan) -> Double {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0 works");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        listener
            .set_nonblocking(true)
            .expect("a listener can be made non-blocking");
        let room = Arc::new(Room::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (accept_room, accept_stop) = (Arc::clone(&room), Arc::clone(&stop));
        thread::spawn(move || accept(listener, &plan, &accept_room, &accept_stop));
        Double { addr, room, stop }
    }

    /// `--addr HOST:PORT` for the load generator.
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }

    /// Every name that joined, in order.
    pub fn joined(&self) -> Vec<String> {
        self.room
            .joined
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The stamps of `sender`'s lines, in the order they arrived.
    pub fn stamps(&self, sender: u32) -> Vec<u64> {
        let stamps = self
            .room
            .stamps
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        stamps.get(&sender).cloned().unwrap_or_default()
    }
}

impl Drop for Double {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let members = self
            .room
            .members
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for member in members.iter() {
            let _ = member.stream.shutdown(Shutdown::Both);
        }
    }
}

/// Accepts clients until stopped (a bounded poll: this is test-side code).
fn accept(listener: TcpListener, plan: &Plan, room: &Arc<Room>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, peer)) => {
                let _ = stream.set_nonblocking(false);
                let (plan, room) = (plan.clone(), Arc::clone(room));
                thread::spawn(move || serve(stream, peer, &plan, &room));
            }
            Err(err) if err.kind() == ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(2));
            }
            Err(_) => return,
        }
    }
}

/// Serves one client: login, then relaying its lines through the plan.
fn serve(stream: TcpStream, peer: SocketAddr, plan: &Plan, room: &Room) {
    let Ok(reader) = stream.try_clone() else {
        return;
    };
    let mut lines = BufReader::new(reader);
    if plan.silent {
        // Keep the connection open and read nothing: the generator must give up by itself.
        let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
        let mut line = String::new();
        while matches!(lines.read_line(&mut line), Ok(n) if n > 0) {}
        return;
    }
    let name = if plan.unnamed {
        peer.to_string()
    } else {
        let _ = (&stream).write_all(b"Enter username:\n");
        let mut name = String::new();
        if !matches!(lines.read_line(&mut name), Ok(n) if n > 0) {
            return;
        }
        name.trim().to_string()
    };
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    {
        let mut members = room.members.lock().unwrap_or_else(PoisonError::into_inner);
        room.joined
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(name.clone());
        if !plan.unnamed {
            let mut online: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
            online.push(&name);
            let welcome = format!("welcome {name}! online: {}\n", online.join(", "));
            let _ = (&writer).write_all(welcome.as_bytes());
            for member in members.iter() {
                let _ = (&member.stream).write_all(format!("* {name} joined\n").as_bytes());
            }
        }
        members.push(Member {
            name: name.clone(),
            stream: writer,
        });
    }
    let mut held: Option<String> = None;
    let mut line = String::new();
    loop {
        line.clear();
        if !matches!(lines.read_line(&mut line), Ok(n) if n > 0) {
            return;
        }
        let text = line.trim_end_matches(['\r', '\n']).to_string();
        let key = measured(&text);
        if let Some((sender, _, nanos)) = key {
            room.stamps
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(sender)
                .or_default()
                .push(nanos);
        }
        let fault = key.and_then(|(sender, seq, _)| plan.faults.get(&(sender, seq)).copied());
        let relayed = format!("[{name}] {text}");
        match fault {
            None => relay(room, &name, &relayed, 1),
            Some(Fault::Drop) => {}
            Some(Fault::Duplicate) => relay(room, &name, &relayed, 2),
            Some(Fault::Reorder) => {
                held = Some(relayed);
                continue;
            }
            Some(Fault::Tear) => relay(room, &name, &relayed[..relayed.len() - 10], 1),
            Some(Fault::Delay(delay)) => {
                thread::sleep(delay);
                relay(room, &name, &relayed, 1);
            }
            Some(Fault::Error) => {
                relay(room, &name, &relayed, 1);
                relay(room, &name, ERROR_LINE, 1);
            }
            Some(Fault::Disconnect) => {
                relay(room, &name, &relayed, 1);
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
        }
        if let Some(overtaken) = held.take() {
            relay(room, &name, &overtaken, 1);
        }
    }
}

/// The sender, sequence number and stamp of a measured line.
fn measured(text: &str) -> Option<(u32, u64, u64)> {
    let mut fields = text.split(' ');
    if fields.next()? != "L" {
        return None;
    }
    let sender = fields.next()?.parse().ok()?;
    let seq = fields.next()?.parse().ok()?;
    let nanos = fields.next()?.parse().ok()?;
    Some((sender, seq, nanos))
}

/// Writes `line` `times` times to every member but `from`.
fn relay(room: &Room, from: &str, line: &str, times: usize) {
    let members = room.members.lock().unwrap_or_else(PoisonError::into_inner);
    let bytes = format!("{line}\n").repeat(times);
    for member in members.iter().filter(|m| m.name != from) {
        let _ = member
            .stream
            .set_write_timeout(Some(Duration::from_secs(5)));
        let _ = (&member.stream).write_all(bytes.as_bytes());
    }
}
