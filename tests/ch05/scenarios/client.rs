//! The client from chapter 5 on: it answers the prompt with `--name` or lets the user type a
//! name, refuses an empty one itself, and leaves by saying `exit` on `exit`, end of input and
//! Ctrl-C. Driven against the chapter's own server, and against a scripted one where the test
//! must see exactly what the client sends.

use std::time::Duration;

use assert_cmd::Command;
use harness::{Conn, Lab, Process, ScriptedServer, Server};
use predicates::prelude::*;

use super::CH;
use super::support::{PAGE, PROMPT, join};

/// How long a command-line check may run: it prints and exits at once.
const QUICK: Duration = Duration::from_secs(10);

/// `client --addr HOST:PORT`, then `extra`.
fn client_args(addr: Vec<String>, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["client".to_string()];
    args.extend(addr);
    args.extend(extra.iter().map(|arg| arg.to_string()));
    args
}

/// Starts a client of `server`, with `extra` arguments.
fn start_client(lab: &Lab, server: &Server, extra: &[&str]) -> Process {
    lab.spawn("client", &client_args(server.addr_args(), extra))
}

/// Fails unless the client's next line on standard output is exactly `expected`: when standard
/// output is not a terminal, the client prints the server's lines as they are, no bell, no prompt.
fn expect_next_stdout(lab: &Lab, client: &mut Process, expected: &str) {
    let got = client.expect_stdout(&format!("the line {expected:?}"), |_| true);
    if got != expected {
        lab.fail(
            &format!("client prints {expected:?} as its next line on standard output"),
            &format!("client printed {got:?}"),
        );
    }
}

/// Like [`expect_next_stdout`] for the welcome, allowing the prompt before it: with `--name`
/// the client may or may not show the prompt it answered.
fn expect_welcome(lab: &Lab, client: &mut Process, expected: &str) {
    let got = client.expect_stdout(&format!("the line {expected:?}"), |line| line != PROMPT);
    if got != expected {
        lab.fail(
            &format!("client prints {expected:?} after the prompt"),
            &format!("client printed {got:?}"),
        );
    }
}

/// Starts `client --name bob` against a scripted server that plays the login: prompt, the
/// name, the welcome. Returns the client and the server's end of its connection.
fn bob_logged_in(lab: &Lab, scripted: &ScriptedServer) -> (Process, Conn) {
    let mut client = lab.spawn(
        "client",
        &client_args(scripted.addr_args(), &["--name", "bob"]),
    );
    let mut server = scripted.accept("server");
    server.send_line(PROMPT);
    server.expect_line("bob");
    server.send_line("welcome bob! online: bob");
    expect_welcome(lab, &mut client, "welcome bob! online: bob");
    (client, server)
}

#[test]
fn a_client_with_a_name_joins_chats_and_exits_with_status_0() {
    let lab = Lab::at(&CH, PAGE, "The client's side");
    lab.hint(
        "with --name, answer the first `Enter username:` yourself; typing `exit` sends `exit`, \
         and the client ends with status 0 once the server has said `bye NAME` and closed",
    );
    let server = lab.start_server(&[]);
    let mut alice = join(&server, "alice", "alice");
    let mut client = start_client(&lab, &server, &["--name", "bob"]);
    alice.expect_line("* bob joined");
    expect_welcome(&lab, &mut client, "welcome bob! online: alice, bob");
    alice.send_line("hi bob");
    expect_next_stdout(&lab, &mut client, "[alice] hi bob");
    client.type_line("hello alice");
    alice.expect_line("[bob] hello alice");
    client.type_line("exit");
    expect_next_stdout(&lab, &mut client, "bye bob");
    alice.expect_line("* bob left");
    client.expect_exit_code(0);
}

#[test]
fn without_a_name_the_client_shows_the_prompt_and_refuses_an_empty_name_itself() {
    let lab = Lab::at(&CH, PAGE, "The client's side");
    lab.hint(
        "without --name, print the prompt and send what the user types; an empty line before \
         the welcome is refused on the spot with `Username can't be empty` on standard error",
    );
    let server = lab.start_server(&[]);
    let mut alice = join(&server, "alice", "alice");
    let mut client = start_client(&lab, &server, &[]);
    expect_next_stdout(&lab, &mut client, PROMPT);
    client.type_line("");
    client.expect_stderr("the line \"Username can't be empty\"", |line| {
        line == "Username can't be empty"
    });
    client.type_line("bob");
    // Had the empty name gone to the server, its error and a second prompt would come first.
    expect_next_stdout(&lab, &mut client, "welcome bob! online: alice, bob");
    alice.expect_line("* bob joined");
    lab.section("Why exit alone was never enough");
    client.close_stdin();
    expect_next_stdout(&lab, &mut client, "bye bob");
    alice.expect_line("* bob left");
    client.expect_exit_code(0);
}

#[test]
fn a_name_refused_by_the_server_lets_the_user_type_another() {
    let lab = Lab::at(&CH, PAGE, "The client's side");
    lab.hint(
        "answer only the first prompt with --name; show the server's error and any later prompt",
    );
    let server = lab.start_server(&[]);
    let mut alice = join(&server, "alice", "alice");
    let mut client = start_client(&lab, &server, &["--name", "Alice"]);
    let got = client.expect_stdout("the server's refusal", |line| line != PROMPT);
    if got != "error: username 'Alice' is already taken" {
        lab.fail(
            "client prints \"error: username 'Alice' is already taken\"",
            &format!("client printed {got:?}"),
        );
    }
    expect_next_stdout(&lab, &mut client, PROMPT);
    client.type_line("bob");
    expect_next_stdout(&lab, &mut client, "welcome bob! online: alice, bob");
    alice.expect_line("* bob joined");
}

#[cfg(unix)]
#[test]
fn ctrl_c_in_the_client_says_exit_and_ends_with_status_0() {
    let lab = Lab::at(&CH, PAGE, "The client's side");
    lab.hint(
        "install a Ctrl-C handler (the `ctrlc` crate) that sends `exit` to the server; the \
         client then ends as after typing `exit`",
    );
    let server = lab.start_server(&[]);
    let mut alice = join(&server, "alice", "alice");
    let mut client = start_client(&lab, &server, &["--name", "bob"]);
    expect_welcome(&lab, &mut client, "welcome bob! online: alice, bob");
    alice.expect_line("* bob joined");
    client.signal(libc::SIGINT, "SIGINT (Ctrl-C)");
    expect_next_stdout(&lab, &mut client, "bye bob");
    alice.expect_line("* bob left");
    client.expect_exit_code(0);
}

#[test]
fn end_of_input_makes_the_client_say_exit_and_wait_for_the_server() {
    let lab = Lab::at(&CH, PAGE, "Why exit alone was never enough");
    lab.hint(
        "at end of input send `exit` (not just a half-close), keep printing until the server \
         closes, then exit with status 0",
    );
    let scripted = lab.scripted_server();
    let (mut client, mut server) = bob_logged_in(&lab, &scripted);
    client.close_stdin();
    server.expect_line("exit");
    server.send_line("bye bob");
    lab.step("server: closes the connection");
    drop(server);
    expect_next_stdout(&lab, &mut client, "bye bob");
    client.expect_exit_code(0);
}

#[test]
fn the_client_ends_when_the_server_closes_while_the_user_types_nothing() {
    let lab = Lab::at(&CH, PAGE, "The client's side");
    lab.hint(
        "when the socket reaches end of file without your `exit`, print `connection closed by \
         server` on standard error and end with status 0",
    );
    let scripted = lab.scripted_server();
    let (mut client, server) = bob_logged_in(&lab, &scripted);
    lab.step("server: closes the connection (the client's input stays open and silent)");
    drop(server);
    client.expect_stderr("the line \"connection closed by server\"", |line| {
        line == "connection closed by server"
    });
    client.expect_exit_code(0);
}

#[test]
fn client_help_describes_the_name_option() {
    let lab = Lab::at(&CH, PAGE, "Your task");
    let run = Command::new(CH.bin)
        .args(["client", "--help"])
        .timeout(QUICK)
        .assert();
    let run = lab.check("`client --help` exits with status 0", run.try_success());
    lab.check(
        "`client --help` describes --addr and --name",
        run.try_stdout(predicate::str::contains("--addr").and(predicate::str::contains("--name"))),
    );
}
