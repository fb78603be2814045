//! The load generator stops where it should and says why: within its time limit, before an
//! address that is not loopback, and with a clear `error:` line when there is no server, the
//! server is full, or `ulimit -n` is too low for the clients asked for.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use harness::Lab;

use super::CH;
use super::double::{Double, Fault, Plan};
use super::load::{Run, args, load};

/// Fails unless `run` exited with `code` and its standard error has every piece of `needles`.
fn expect_error(lab: &Lab, run: &Run, code: i32, expected: &str, needles: &[&str]) {
    let stderr = run.stderr.join("\n");
    let missing: Vec<&&str> = needles.iter().filter(|n| !stderr.contains(**n)).collect();
    let starts_right = run.stderr.first().is_some_and(|l| l.starts_with("error: "));
    if run.status.code() != Some(code) || !missing.is_empty() || !starts_right {
        lab.fail(
            &format!(
                "exit status {code} and {expected} (an `error: ` line mentioning {needles:?})"
            ),
            &format!("{}; standard error:\n{stderr}", run.status),
        );
    }
}

#[test]
fn the_run_stops_at_its_time_limit_when_the_room_never_fills() {
    let lab = Lab::new(&CH, "Bounded waits and clear errors");
    lab.hint("every wait needs a deadline: joining, waiting for the room, draining, the whole run");
    let double = Double::start(Plan {
        silent: true,
        ..Plan::default()
    });
    lab.step(format!(
        "test double: listening on {}, silent: it never answers",
        double.addr()
    ));
    let limit = Duration::from_secs(2);
    let started = Instant::now();
    let run = load(
        &lab,
        &args(&[
            "--addr",
            &double.addr(),
            "-n",
            "2",
            "-m",
            "5",
            "--time-limit",
            "2",
            "--json",
        ]),
        limit + Duration::from_secs(8),
    );
    let took = started.elapsed();
    if took > limit + Duration::from_millis(1500) {
        lab.fail(
            "the run ends within its --time-limit of 2 s (give or take a moment)",
            &format!("it took {} ms", took.as_millis()),
        );
    }
    expect_error(
        &lab,
        &run,
        1,
        "a word about the time limit",
        &["time limit"],
    );
}

#[test]
fn a_run_cut_short_by_its_time_limit_still_reports_what_arrived() {
    let lab = Lab::new(&CH, "Bounded waits and clear errors");
    lab.hint(
        "when the time limit passes mid-run, print the report anyway, then the error, and exit 1",
    );
    let double = Double::start(Plan::with(1, 5, Fault::Delay(Duration::from_secs(20))));
    lab.step(format!(
        "test double: listening on {}; holds client 1's line 5 for 20 s",
        double.addr()
    ));
    let run = load(
        &lab,
        &args(&[
            "--addr",
            &double.addr(),
            "-n",
            "3",
            "-m",
            "20",
            "--time-limit",
            "2",
            "--json",
        ]),
        Duration::from_secs(10),
    );
    let cut_short = run
        .stdout
        .first()
        .and_then(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .and_then(|report| report.get("cut_short").and_then(serde_json::Value::as_bool));
    if cut_short != Some(true) {
        lab.fail(
            "the JSON report on standard output, with \"cut_short\": true",
            &format!("standard output: {:?}", run.stdout),
        );
    }
    expect_error(
        &lab,
        &run,
        1,
        "a word about the time limit",
        &["time limit"],
    );
}

#[test]
fn an_address_that_is_not_loopback_is_refused() {
    let lab = Lab::new(&CH, "Bounded waits and clear errors");
    lab.hint("check that every address HOST:PORT resolves to is loopback before connecting");
    // 0.0.0.0 is not a loopback address, yet on Linux a connect to it reaches this machine:
    // a generator that skipped the check sends nothing off the machine (this lab never sends
    // test traffic anywhere but loopback), and fails on the closed port instead of refusing.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap_or(9);
    let addr = format!("0.0.0.0:{closed}");
    let run = load(
        &lab,
        &args(&["--addr", &addr, "-n", "2", "-m", "1"]),
        Duration::from_secs(3),
    );
    expect_error(
        &lab,
        &run,
        2,
        "a refusal that names the way to allow it",
        &["0.0.0.0", "loopback", "--allow-remote"],
    );
}

#[test]
fn the_help_says_why_remote_addresses_are_refused() {
    let lab = Lab::new(&CH, "Bounded waits and clear errors");
    let run = load(&lab, &args(&["--help"]), Duration::from_secs(5));
    let help = run.stdout.join("\n");
    if !run.status.success() || !help.contains("--allow-remote") || !help.contains("loopback") {
        lab.fail(
            "`load --help` explains that only loopback is loaded unless --allow-remote",
            &help,
        );
    }
}

#[test]
fn no_server_is_reported_with_the_address() {
    let lab = Lab::new(&CH, "Bounded waits and clear errors");
    // A port that was free a moment ago: nothing listens on it now.
    let addr = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("binding 127.0.0.1:0 works");
    let run = load(
        &lab,
        &args(&["--addr", &addr.to_string()]),
        Duration::from_secs(10),
    );
    expect_error(
        &lab,
        &run,
        1,
        "the address and a question about the server",
        &[
            &format!("cannot connect to {addr}"),
            "is the server running?",
        ],
    );
}

#[test]
fn a_full_server_is_reported_with_how_many_got_in() {
    let lab = Lab::new(&CH, "Bounded waits and clear errors");
    lab.hint("when the server answers `error: server is full`, say how many clients got in and suggest --max-clients");
    let server = lab.start_server(&["--max-clients", "2"]);
    let run = load(
        &lab,
        &args(&["--addr", &server.addr().to_string(), "-n", "5", "-m", "1"]),
        Duration::from_secs(15),
    );
    expect_error(
        &lab,
        &run,
        1,
        "how many got in and what to change",
        &["server is full", "2 of 5", "--max-clients"],
    );
}

#[cfg(unix)]
#[test]
fn too_low_a_descriptor_limit_is_reported_with_how_to_raise_it() {
    let lab = Lab::new(&CH, "Bounded waits and clear errors");
    lab.hint("compare the clients asked for with RLIMIT_NOFILE (getrlimit) before connecting");
    let double = Double::start(Plan::default());
    let shell = format!(
        "ulimit -n 50 && exec '{}' load --addr {} -n 200 -m 1",
        CH.bin,
        double.addr()
    );
    lab.step(format!("test: sh -c \"{shell}\""));
    let output = assert_cmd::Command::new("sh")
        .args(["-c", &shell])
        .timeout(Duration::from_secs(15))
        .output();
    let output = lab.check("the shell runs the load generator", output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let wanted = ["error: ", "ulimit -n", "50"];
    if output.status.code() != Some(1) || !wanted.iter().all(|w| stderr.contains(w)) {
        lab.fail(
            "exit status 1 and an `error:` line giving the limit (50) and how to raise it \
             (`ulimit -n`)",
            &format!("{}; standard error:\n{stderr}", output.status),
        );
    }
}
