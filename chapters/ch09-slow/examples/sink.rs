//! A relay built to cost as little as possible per delivery, for measuring the load generator
//! itself: `cargo run --release -p ch09-slow --example sink` prints `listening on
//! HOST:PORT`; then `load --addr HOST:PORT` reports the generator's own CPU per delivery.
//!
//! It asks for no names (like chapter 4) and relays whole chunks, not lines: what one read
//! brings from a client is prefixed line by line once and appended to every other client's
//! outbox, and each client's writer thread sends its whole outbox in one write. Not a chat
//! server (no limits, no cleaning, no leaving), only a fast pair of hands.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;

/// One client's outgoing bytes, filled by the others' readers and emptied by its writer;
/// `None` once the client is gone.
struct Outbox {
    bytes: Mutex<Option<Vec<u8>>>,
    ready: Condvar,
}

/// Every client's outbox, in connection order.
type Outboxes = Arc<Mutex<Vec<Arc<Outbox>>>>;

fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    println!("listening on {}", listener.local_addr()?);
    let outboxes: Outboxes = Arc::default();
    for stream in listener.incoming() {
        let stream = stream?;
        let outbox = Arc::new(Outbox {
            bytes: Mutex::new(Some(Vec::new())),
            ready: Condvar::new(),
        });
        let me = {
            let mut all = outboxes.lock().unwrap_or_else(PoisonError::into_inner);
            all.push(Arc::clone(&outbox));
            all.len() - 1
        };
        let writer = stream.try_clone()?;
        thread::spawn(move || send(writer, &outbox));
        let outboxes = Arc::clone(&outboxes);
        thread::spawn(move || relay(stream, me, &outboxes));
    }
    Ok(())
}

/// Reads chunks from client `me` and appends their complete lines, prefixed, to every other
/// client's outbox.
fn relay(mut stream: TcpStream, me: usize, outboxes: &Outboxes) {
    let prefix = format!("[{me}] ");
    let mut buf = vec![0u8; 64 * 1024];
    let mut partial = Vec::new();
    let mut chunk = Vec::new();
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        partial.extend_from_slice(&buf[..n]);
        let Some(end) = partial.iter().rposition(|&b| b == b'\n') else {
            continue;
        };
        chunk.clear();
        for line in partial[..end].split(|&b| b == b'\n') {
            chunk.extend_from_slice(prefix.as_bytes());
            chunk.extend_from_slice(line);
            chunk.push(b'\n');
        }
        partial.drain(..=end);
        let all = outboxes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for (i, outbox) in all.iter().enumerate() {
            if i != me {
                let mut bytes = outbox.bytes.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(bytes) = bytes.as_mut() {
                    bytes.extend_from_slice(&chunk);
                    outbox.ready.notify_one();
                }
            }
        }
    }
}

/// Writes whatever is in `outbox`, all of it at once, until the client is gone.
fn send(mut stream: TcpStream, outbox: &Outbox) {
    let mut out = Vec::new();
    loop {
        {
            let bytes = outbox.bytes.lock().unwrap_or_else(PoisonError::into_inner);
            let mut bytes = outbox
                .ready
                .wait_while(bytes, |bytes| bytes.as_ref().is_some_and(Vec::is_empty))
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(bytes) = bytes.as_mut() {
                std::mem::swap(bytes, &mut out);
            }
        }
        if stream.write_all(&out).is_err() {
            *outbox.bytes.lock().unwrap_or_else(PoisonError::into_inner) = None;
            return;
        }
        out.clear();
    }
}
