//! The client's side of a shutdown: when the server goes away, the client shows the notice,
//! says `connection closed by server` and exits 0 promptly, even though nobody is typing and
//! its input thread is blocked reading standard input.
//!
//! Unix only, like the server's shutdown tests: the server is stopped with a real SIGINT.

use std::time::Duration;

use harness::Lab;

use super::CH;

/// These behaviours are taught in chapter 7.
const PAGE: &str = "ch07-shutdown";

/// What every client is told before its connection closes.
const NOTICE: &str = "* server is shutting down";

/// How soon the client must be gone once the server has closed the connection.
const PROMPTLY: Duration = Duration::from_secs(2);

#[test]
fn the_client_exits_0_when_the_server_shuts_down_while_nobody_types() {
    let lab = Lab::at(&CH, PAGE, "The shutdown sequence");
    let mut server = lab.start_server(&[]);
    let mut args = vec!["client".to_string()];
    args.extend(server.addr_args());
    args.extend(["--name".to_string(), "alice".to_string()]);
    // Standard input stays open and silent: the client's input thread is blocked reading it.
    let mut client = lab.spawn("client", &args);
    server.expect_stdout("a line saying that alice joined", |line| {
        line.starts_with("joined alice from ")
    });
    server.signal(libc::SIGINT, "SIGINT (Ctrl-C)");
    client.expect_stdout_line(NOTICE);
    // The server is gone first, so what follows is the client's own doing.
    server.expect_stdout_line("shutdown complete");
    server.expect_exit_code(0);
    lab.hint(
        "when the server closes, the reader thread reports it and the client returns from main \
         without joining the input thread, which may stay blocked on standard input forever \
         (chapter 3, \"A thread blocked on stdin cannot be cancelled\")",
    );
    client.expect_stderr("`connection closed by server`", |line| {
        line == "connection closed by server"
    });
    let status = client.expect_exit(PROMPTLY);
    if status.code() != Some(0) {
        lab.fail(
            "the client exits with status 0 when the server shuts down",
            &format!("it ended with {status}"),
        );
    }
}
