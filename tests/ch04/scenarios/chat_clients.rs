//! The chapter's own client and server together: people chatting.

use harness::{Lab, Process, Server};

use super::CH;
use super::support::{join_all, relayed};

/// These behaviours are taught in chapter 4.
const PAGE: &str = "ch04-mutex";

/// Starts `client --addr ADDR` named `name` and waits until the server announces it; returns
/// the process and its address as the server sees it.
fn start_client(lab: &Lab, server: &mut Server, name: &str) -> (Process, String) {
    let mut args = vec!["client".to_string()];
    args.extend(server.addr_args());
    let client = lab.spawn(name, &args);
    let connected = server.expect_stdout("a line `connected 127.0.0.1:PORT`", |line| {
        line.starts_with("connected ")
    });
    let peer = connected.trim_start_matches("connected ").to_string();
    (client, peer)
}

#[test]
fn the_chapter_client_chats_through_the_server() {
    let lab = Lab::at(&CH, PAGE, "Your task");
    let mut server = lab.start_server(&[]);
    let [mut a, mut b] = join_all(&lab, &mut server, ["A", "B"]);
    let (mut p, p_peer) = start_client(&lab, &mut server, "client P");
    // P is in the list once its first line has been relayed.
    p.type_line("P is here");
    a.expect_line(&format!("[{p_peer}] P is here"));
    b.expect_line(&format!("[{p_peer}] P is here"));
    a.send_line("hello P");
    p.expect_stdout_line(&relayed(&a, "hello P"));
    b.expect_line(&relayed(&a, "hello P"));
    let (mut q, q_peer) = start_client(&lab, &mut server, "client Q");
    q.type_line("Q is here");
    p.expect_stdout_line(&format!("[{q_peer}] Q is here"));
    p.type_line("hi Q");
    q.expect_stdout_line(&format!("[{p_peer}] hi Q"));
    lab.step("test: P's input ends; P half-closes, the server closes P, P exits");
    p.close_stdin();
    p.expect_exit_code(0);
    server.expect_stdout_line(&format!("disconnected {p_peer}"));
    q.type_line("P has gone");
    a.expect_line(&format!("[{q_peer}] Q is here"));
    a.expect_line(&format!("[{p_peer}] hi Q"));
    a.expect_line(&format!("[{q_peer}] P has gone"));
}
