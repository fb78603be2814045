//! A thread per connection: clients are served at the same time, and one client's trouble
//! stays its own.

use std::thread;

use harness::Lab;

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
    lab.hint("an error on one connection ends that connection's thread only");
    let server = lab.start_server(&[]);
    let mut a = server.connect("A");
    let mut b = server.connect("B");
    let mut c = server.connect("C");
    a.send_line("before");
    a.expect_line("before");
    b.send_bytes(b"half a li");
    b.vanish();
    c.send_line("after B left");
    c.expect_line("after B left");
    a.send_line("still here");
    a.expect_line("still here");
}
