//! The client's command line (chapter 3 on): `client --version`, and an `--addr` that is not
//! HOST:PORT refused as a usage error. Every chapter with a client runs these again.

use std::time::Duration;

use assert_cmd::Command;
use harness::Lab;
use predicates::prelude::*;

use super::CH;

/// These behaviours are taught in chapter 3.
const PAGE: &str = "ch03-client";

/// How long a command-line check may run: they print and exit at once.
const QUICK: Duration = Duration::from_secs(10);

#[test]
fn client_version_prints_the_version() {
    let lab = Lab::at(&CH, PAGE, "Your task");
    let run = Command::new(CH.bin)
        .args(["client", "--version"])
        .timeout(QUICK)
        .assert();
    let run = lab.check("`client --version` exits with status 0", run.try_success());
    lab.check(
        "`client --version` prints a version number",
        run.try_stdout(predicate::str::is_match(r"\d+\.\d+\.\d+").expect("a valid regex")),
    );
}

#[test]
fn client_addr_without_a_port_is_a_usage_error() {
    let lab = Lab::at(&CH, PAGE, "Your task");
    lab.hint("`--addr` takes HOST:PORT; check its form when the command line is parsed");
    let run = Command::new(CH.bin)
        .args(["client", "--addr", "7878"])
        .timeout(QUICK)
        .assert();
    let run = lab.check(
        "`client --addr 7878` exits with status 2, a usage error",
        run.try_code(2),
    );
    let run = lab.check(
        "standard error says that --addr expects HOST:PORT",
        run.try_stderr(
            predicate::str::contains("'7878'").and(predicate::str::contains("expected HOST:PORT")),
        ),
    );
    lab.check(
        "standard error does not blame a missing server",
        run.try_stderr(predicate::str::contains("is the server running?").not()),
    );
}
