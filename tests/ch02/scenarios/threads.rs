//! A thread per connection: clients are served at the same time, and one client's trouble
//! stays its own.

use std::thread;

use harness::{Lab, Source};

use super::CH;

/// These behaviours are taught in chapter 2.
const PAGE: &str = "ch02-threads";

#[test]
fn a_second_client_is_served_while_the_first_is_connected_and_silent() {
    let lab = Lab::at(&CH, PAGE, "Spawning a thread per client");
    lab.hint("Did you actually spawn a thread? If the accept loop calls handle_client itself, B waits for A to leave");
    let server = lab.start_server(&[]);
    let _a = server.connect("A");
    let mut b = server.connect("B");
    b.send_line("B does not wait for A");
    b.expect_line("B does not wait for A");
}

#[test]
fn fifty_clients_at_once_all_get_their_echoes() {
    let lab = Lab::at(&CH, PAGE, "Spawning a thread per client");
    lab.hint(
        "each client needs a thread of its own: a fixed pool of N threads serves N clients at \
         once, and the next one waits for a free thread",
    );
    let server = lab.start_server(&[]);
    // Everyone connects before anyone is answered: a server that serves one at a time can
    // only answer the first.
    let mut clients = server.connect_many("C", 50);
    lab.step("each client sends one line, from a thread of its own");
    thread::scope(|scope| {
        for (i, client) in clients.iter_mut().enumerate() {
            scope.spawn(move || {
                let line = format!("client {i} says hello");
                client.send_line(&line);
                client.expect_line(&line);
            });
        }
    });
    lab.step("all 50 got their own line back");
}

#[test]
fn one_client_vanishing_does_not_disturb_the_others() {
    let lab = Lab::at(&CH, PAGE, "Spawning a thread per client");
    lab.hint(
        "an error on one connection ends that connection's thread only: return it from \
         handle_client, log it and print `disconnected PEER`; never unwrap it or exit on it",
    );
    let mut server = lab.start_server(&[]);
    let mut a = server.connect("A");
    let mut b = server.connect("B");
    let mut c = server.connect("C");
    a.send_line("before");
    a.expect_line("before");
    let b_addr = b.local_addr();
    b.send_bytes(b"half a li");
    b.vanish();
    // Only once the server has seen B go is the rest a test of what B's error did.
    server.expect_stdout_line(&format!("disconnected {b_addr}"));
    c.send_line("after B left");
    c.expect_line("after B left");
    a.send_line("still here");
    a.expect_line("still here");
    let panics: Vec<String> = server
        .lines(Source::Stderr)
        .into_iter()
        .filter(|line| line.contains("panicked"))
        .collect();
    if !panics.is_empty() {
        lab.fail(
            "no panic on the server's standard error",
            &format!("{panics:?}"),
        );
    }
}

#[test]
fn disconnected_is_logged_only_when_the_client_leaves() {
    let lab = Lab::at(&CH, PAGE, "Spawning a thread per client");
    lab.hint(
        "print `disconnected PEER` in the client's thread, after handle_client returns: the \
         accepting thread goes straight back to accept and cannot know when a client leaves",
    );
    let mut server = lab.start_server(&[]);
    let mut a = server.connect("A");
    let peer = a.local_addr().to_string();
    server.expect_stdout_line(&format!("connected {peer}"));
    a.send_line("ping");
    a.expect_line("ping");
    // The accepting thread prints `connected B` after it has finished with A, so by then
    // anything it printed about A is in the log too.
    let b = server.connect("B");
    server.expect_stdout_line(&format!("connected {}", b.local_addr()));
    let early = format!("disconnected {peer}");
    if server.lines(Source::Stdout).contains(&early) {
        lab.fail(
            &format!("the server prints `{early}` only once A has left"),
            "it printed it while A was still connected",
        );
    }
    lab.step("A is still connected, and no `disconnected` line names it");
    a.shutdown_write();
    a.expect_closed();
    server.expect_stdout_line(&early);
}
