//! The client against a full server: it shows the refusal and exits with status 2.

use harness::{Lab, Source};

use super::CH;
use super::support::connect;

/// The book page that teaches these behaviours.
const PAGE: &str = "ch06-cap";

#[test]
fn a_client_refused_by_a_full_server_shows_why_and_exits_with_status_2() {
    let lab = Lab::at(&CH, PAGE, "Your task");
    lab.hint(
        "when the server's first line is `error: server is full ...`, show it and exit with \
         status 2 (`ExitCode::from(2)`), so a script can tell \"try later\" from \"cannot connect\"",
    );
    let server = lab.start_server(&["--max-clients", "1"]);
    let _holder = connect(&server, "A");
    let mut args = vec!["client".to_string()];
    args.extend(server.addr_args());
    args.extend(["--name".to_string(), "bob".to_string()]);
    let mut client = lab.spawn("client", &args);
    client.expect_exit_code(2);
    let refusal = "error: server is full (1/1), try again later";
    let shown = client
        .lines(Source::Stdout)
        .into_iter()
        .chain(client.lines(Source::Stderr))
        .any(|line| line == refusal);
    if !shown {
        lab.fail(
            &format!("the client shows {refusal:?} (on standard output or error)"),
            "it did not (see its output below)",
        );
    }
}
