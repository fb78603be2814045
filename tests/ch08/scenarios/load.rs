//! The load generator's counts are exact: run against the test double ([`super::double`]),
//! which mishandles known lines, its `--json` report says exactly what happened. Also: the
//! report's format, the schedule behind `--rate`, idle clients, and a clean run against the
//! chapter's own server.

use std::process::ExitStatus;
use std::time::Duration;

use harness::{Lab, Source};
use serde_json::Value;

use super::CH;
use super::double::{Double, ERROR_LINE, Fault, Plan};

/// Clients and lines per client in the runs against the double: small, so each run is quick.
const N: u64 = 3;
const M: u64 = 20;

/// The line the double mishandles: client 1's sixth line.
const SENDER: u32 = 1;
const SEQ: u64 = 5;

/// How long any run in these tests may take before it counts as hung.
const RUN_BOUND: Duration = Duration::from_secs(30);

/// What a finished run of the generator left behind.
pub struct Run {
    pub status: ExitStatus,
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
}

/// Runs `load ARGS` and waits for it to exit within `within`.
pub fn load(lab: &Lab, args: &[String], within: Duration) -> Run {
    let mut all = vec!["load".to_string()];
    all.extend_from_slice(args);
    let mut process = lab.spawn("load", &all);
    let status = process.expect_exit(within);
    Run {
        status,
        stdout: process.lines(Source::Stdout),
        stderr: process.lines(Source::Stderr),
    }
}

/// Strings from string slices, for command lines.
pub fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The `--json` report of a run that succeeded: its one line on standard output, parsed.
fn report(lab: &Lab, run: &Run) -> Value {
    if !run.status.success() {
        lab.fail(
            "the load generator exits with status 0 after a run that completed",
            &format!("{}; standard error: {:?}", run.status, run.stderr),
        );
    }
    let [line] = run.stdout.as_slice() else {
        lab.fail(
            "exactly one line on standard output with --json (the report)",
            &format!("{} lines: {:?}", run.stdout.len(), run.stdout),
        );
    };
    match serde_json::from_str::<Value>(line) {
        Ok(value) if value.is_object() => value,
        Ok(_) | Err(_) => lab.fail("the report is a JSON object on one line", line),
    }
}

/// A number in the report (`key` or `outer.inner`), or a failure naming it.
fn number(lab: &Lab, report: &Value, key: &str) -> f64 {
    let value = key
        .split('.')
        .try_fold(report, |value, part| value.get(part));
    match value.and_then(Value::as_f64) {
        Some(number) => number,
        None => lab.fail(
            &format!("the JSON report has a number \"{key}\""),
            &report.to_string(),
        ),
    }
}

/// Checks each count in `expected` against the report, and lists every one that differs.
fn expect_counts(lab: &Lab, report: &Value, what_happened: &str, expected: &[(&str, u64)]) {
    let wrong: Vec<String> = expected
        .iter()
        .filter_map(|&(key, want)| {
            let got = number(lab, report, key);
            (got != want as f64).then(|| format!("{key} {got} (expected {want})"))
        })
        .collect();
    if !wrong.is_empty() {
        let all: Vec<String> = expected.iter().map(|(k, v)| format!("{k} {v}")).collect();
        lab.fail(
            &format!("{what_happened}, so the report says {}", all.join(", ")),
            &format!("{}; the whole report: {report}", wrong.join(", ")),
        );
    }
}

/// Runs `N` clients of `M` lines against a double following `plan`; returns the double (to
/// ask what it saw) and the report.
fn run_against(lab: &Lab, plan: Plan, extra: &[&str]) -> (Double, Value) {
    let double = Double::start(plan.clone());
    lab.step(format!(
        "test double: listening on {}; faults: {:?}",
        double.addr(),
        plan.faults
    ));
    let mut all = args(&[
        "--addr",
        &double.addr(),
        "-n",
        &N.to_string(),
        "-m",
        &M.to_string(),
        "--drain",
        "0.5",
        "--time-limit",
        "20",
        "--json",
    ]);
    all.extend(args(extra));
    let run = load(lab, &all, RUN_BOUND);
    let report = report(lab, &run);
    (double, report)
}

/// Every delivery when nothing goes wrong: each line reaches every other client.
const ALL: u64 = N * (N - 1) * M;

/// The counts of a run in which nothing went wrong, with `changes` made.
fn counts(changes: &[(&'static str, u64)]) -> Vec<(&'static str, u64)> {
    let mut all = vec![
        ("sent", N * M),
        ("expected", ALL),
        ("deliveries", ALL),
        ("lost", 0),
        ("torn", 0),
        ("duplicated", 0),
        ("out_of_order", 0),
        ("unexpected", 0),
        ("disconnections", 0),
        ("error_lines", 0),
    ];
    for &(key, value) in changes {
        if let Some(count) = all.iter_mut().find(|(k, _)| *k == key) {
            count.1 = value;
        }
    }
    all
}

/// Runs against a double with one fault on client 1's line 5 and checks the counts.
fn fault_is_counted(section: &str, hint: &str, fault: Fault, changes: &[(&'static str, u64)]) {
    let lab = Lab::new(&CH, section);
    lab.hint(hint);
    let (_double, report) = run_against(&lab, Plan::with(SENDER, SEQ, fault), &[]);
    let what = format!("the double applied {fault:?} to line {SEQ} of client {SENDER}");
    expect_counts(&lab, &report, &what, &counts(changes));
}

#[test]
fn a_clean_run_reports_every_line_delivered_once() {
    fault_is_counted_with_no_fault();
}

/// The clean run, on its own so that its failure reads as such.
fn fault_is_counted_with_no_fault() {
    let lab = Lab::new(&CH, "Counting every line");
    lab.hint("each line from another client is one delivery; nothing else is counted as one");
    let (_double, report) = run_against(&lab, Plan::default(), &[]);
    expect_counts(
        &lab,
        &report,
        "the double relayed every line once, in order",
        &counts(&[]),
    );
}

#[test]
fn a_dropped_line_is_reported_lost_by_every_other_client() {
    fault_is_counted(
        "Counting every line",
        "lost = lines each sender sent minus the different lines that arrived from it, per \
         receiver",
        Fault::Drop,
        &[("deliveries", ALL - (N - 1)), ("lost", N - 1)],
    );
}

#[test]
fn a_line_that_arrives_twice_is_one_delivery_and_one_duplicate() {
    fault_is_counted(
        "Counting every line",
        "remember which sequence numbers arrived from each sender: a second copy is a \
         duplicate, not a delivery",
        Fault::Duplicate,
        &[("duplicated", N - 1)],
    );
}

#[test]
fn a_line_overtaken_by_a_later_one_is_reported_out_of_order() {
    fault_is_counted(
        "Counting every line",
        "a line is out of order when a later line from the same sender arrived before it; it \
         still counts as a delivery",
        Fault::Reorder,
        &[("out_of_order", N - 1)],
    );
}

#[test]
fn a_line_cut_short_is_reported_torn_and_lost() {
    fault_is_counted(
        "Counting every line",
        "a line is whole only with all its fields and exactly --size bytes; anything else from \
         the server is torn (and the line it should have been is lost)",
        Fault::Tear,
        &[
            ("deliveries", ALL - (N - 1)),
            ("lost", N - 1),
            ("torn", N - 1),
        ],
    );
}

#[test]
fn error_lines_from_the_server_are_counted_and_the_first_is_shown() {
    let section = "Counting every line";
    fault_is_counted(
        section,
        "count every line that starts with `error: `",
        Fault::Error,
        &[("error_lines", N - 1)],
    );
    let lab = Lab::new(&CH, section);
    let (_double, report) = run_against(&lab, Plan::with(SENDER, SEQ, Fault::Error), &[]);
    if report.get("first_error").and_then(Value::as_str) != Some(ERROR_LINE) {
        lab.fail(
            &format!("the report's \"first_error\" is {ERROR_LINE:?}"),
            &report.to_string(),
        );
    }
}

#[test]
fn a_connection_the_server_closes_is_one_disconnection() {
    let lab = Lab::new(&CH, "Counting every line");
    lab.hint("a client whose connection ends before the run does is one disconnection, however many of its threads notice");
    let (_double, report) = run_against(&lab, Plan::with(SENDER, SEQ, Fault::Disconnect), &[]);
    expect_counts(
        &lab,
        &report,
        &format!("the double closed client {SENDER}'s connection after its line {SEQ}"),
        &[("disconnections", 1), ("duplicated", 0), ("torn", 0)],
    );
}

#[test]
fn a_delayed_line_shows_in_the_maximum_latency_but_not_the_median() {
    let lab = Lab::new(&CH, "Percentiles, not averages");
    lab.hint("latency is the time a line arrived minus the time stamped in it; record each in the histogram");
    let delay = Duration::from_millis(400);
    let plan = Plan::with(SENDER, SEQ, Fault::Delay(delay));
    let (_double, report) = run_against(&lab, plan, &[]);
    expect_counts(&lab, &report, "the double delayed one line", &counts(&[]));
    let max_us = number(&lab, &report, "latency_us.max");
    let p50_us = number(&lab, &report, "latency_us.p50");
    let delay_us = delay.as_micros() as f64;
    if max_us < delay_us || p50_us >= delay_us {
        lab.fail(
            &format!(
                "the double held client {SENDER}'s line {SEQ} (and so its later lines) for \
                 {} ms: max latency at least that, median below it",
                delay.as_millis()
            ),
            &format!("max {max_us} us, p50 {p50_us} us; the whole report: {report}"),
        );
    }
}

#[test]
fn percentiles_are_read_from_the_latencies_not_estimated_from_their_mean() {
    let lab = Lab::new(&CH, "Percentiles, not averages");
    lab.hint(
        "read each percentile from the histogram (value_at_quantile); a mean and standard \
         deviation describe no line, and a latency tail is not a bell curve",
    );
    let delay = Duration::from_millis(400);
    let plan = Plan::with(SENDER, SEQ, Fault::Delay(delay));
    let (_double, report) = run_against(&lab, plan, &[]);
    expect_counts(&lab, &report, "the double delayed one line", &counts(&[]));
    // Client 1's lines from SEQ on are held together: a quarter of all deliveries come late.
    let late = (M - SEQ) * (N - 1);
    let p90_us = number(&lab, &report, "latency_us.p90");
    let p50_us = number(&lab, &report, "latency_us.p50");
    // Later lines went out a moment after the held one; allow them that moment.
    let held_us = delay.as_micros() as f64 * 0.9;
    if p90_us < held_us || p50_us >= held_us / 4.0 {
        lab.fail(
            &format!(
                "the double held client {SENDER}'s lines from {SEQ} on for {} ms: {late} of \
                 {ALL} deliveries (a quarter) took at least that long, so the p90 is at least \
                 {} ms and the p50 far below it",
                delay.as_millis(),
                held_us / 1000.0
            ),
            &format!("p50 {p50_us} us, p90 {p90_us} us; the whole report: {report}"),
        );
    }
}

#[test]
fn with_a_rate_each_line_carries_its_scheduled_send_time() {
    let lab = Lab::new(&CH, "Coordinated omission");
    lab.hint(
        "stamp each line with the time it was due on the schedule (start + seq / rate), not \
         with the time it went out, and sleep until that time",
    );
    let rate = 50.0;
    let (double, report) = run_against(&lab, Plan::default(), &["--rate", "50"]);
    expect_counts(&lab, &report, "the double relayed every line", &counts(&[]));
    let step_ns = 1e9 / rate;
    for sender in 0..N as u32 {
        let stamps = double.stamps(sender);
        let Some(&first) = stamps.first() else {
            lab.fail(
                &format!("client {sender} sends lines"),
                "the double saw none",
            );
        };
        let off_schedule: Vec<String> = stamps
            .iter()
            .enumerate()
            .filter(|&(k, &stamp)| {
                let due = first as f64 + k as f64 * step_ns;
                (stamp as f64 - due).abs() > 1_000.0
            })
            .map(|(k, stamp)| format!("line {k}: {} ns after line 0", stamp - first))
            .collect();
        if !off_schedule.is_empty() {
            lab.fail(
                &format!(
                    "with --rate 50, client {sender}'s line k is stamped k x 20 ms after its \
                     line 0, to the microsecond (the schedule, not the moment it went out)"
                ),
                &off_schedule.join("; "),
            );
        }
    }
}

#[test]
fn the_json_report_is_one_line_with_every_measure() {
    let lab = Lab::new(&CH, "The report");
    let (_double, report) = run_against(&lab, Plan::default(), &[]);
    for key in [
        "deliveries",
        "deliveries_per_s",
        "latency_us.p50",
        "latency_us.p90",
        "latency_us.p99",
        "latency_us.p999",
        "latency_us.max",
        "lost",
        "torn",
        "duplicated",
        "out_of_order",
        "disconnections",
        "error_lines",
    ] {
        number(&lab, &report, key);
    }
    let p50 = number(&lab, &report, "latency_us.p50");
    let max = number(&lab, &report, "latency_us.max");
    if !(p50 > 0.0 && p50 <= max) || number(&lab, &report, "deliveries_per_s") <= 0.0 {
        lab.fail(
            "latencies above zero with p50 <= max, and deliveries per second above zero",
            &report.to_string(),
        );
    }
}

#[test]
fn the_table_names_every_measure() {
    let lab = Lab::new(&CH, "The report");
    let double = Double::start(Plan::default());
    let run = load(
        &lab,
        &args(&[
            "--addr",
            &double.addr(),
            "-n",
            "3",
            "-m",
            "10",
            "--time-limit",
            "20",
        ]),
        RUN_BOUND,
    );
    let table = run.stdout.join("\n");
    let missing: Vec<&str> = [
        "deliveries",
        "deliveries/s",
        "p50",
        "p90",
        "p99",
        "p99.9",
        "max",
        "lost",
        "torn",
        "duplicated",
        "out of order",
        "disconnections",
        "error lines",
    ]
    .into_iter()
    .filter(|label| !table.contains(label))
    .collect();
    if !run.status.success() || !missing.is_empty() || table.trim_start().starts_with('{') {
        lab.fail(
            "without --json, a table on standard output naming every measure, and status 0",
            &format!(
                "{}; missing {missing:?}; standard output:\n{table}",
                run.status
            ),
        );
    }
}

#[test]
fn stalled_readers_join_the_room_too() {
    let lab = Lab::new(&CH, "The slow reader");
    lab.hint("--stalled K adds K clients that join before the run and never read");
    let (double, report) = run_against(&lab, Plan::default(), &["--stalled", "2"]);
    let joined = double.joined();
    let stalled = joined
        .iter()
        .filter(|name| name.contains("stalled"))
        .count();
    if stalled != 2 || joined.len() != N as usize + 2 {
        lab.fail(
            &format!("{N} measured clients and 2 stalled ones join"),
            &format!("these joined: {joined:?}"),
        );
    }
    // The stalled clients send nothing and their reading is not measured.
    expect_counts(
        &lab,
        &report,
        "two more clients joined and read nothing",
        &counts(&[]),
    );
}

#[test]
fn a_server_without_names_is_measured_too() {
    let lab = Lab::new(&CH, "The load generator");
    lab.hint("chapter 4's server asks for no name: without a prompt, the clients just connect");
    let plan = Plan {
        unnamed: true,
        ..Plan::default()
    };
    let (_double, report) = run_against(&lab, plan, &[]);
    expect_counts(
        &lab,
        &report,
        "a server without names relayed every line",
        &counts(&[]),
    );
}

#[test]
fn the_chapter_server_passes_a_clean_run_and_is_watched_through_proc() {
    let lab = Lab::new(&CH, "The load generator");
    let server = lab.start_server(&["--max-clients", "10"]);
    let pid = server.pid().to_string();
    let run = load(
        &lab,
        &args(&[
            "--addr",
            &server.addr().to_string(),
            "-n",
            "4",
            "-m",
            "50",
            "--server-pid",
            &pid,
            "--json",
        ]),
        RUN_BOUND,
    );
    let report = report(&lab, &run);
    let all = 4 * 3 * 50;
    expect_counts(
        &lab,
        &report,
        "chapter 8's own server relayed 4 clients' lines",
        &[
            ("deliveries", all),
            ("lost", 0),
            ("torn", 0),
            ("duplicated", 0),
            ("out_of_order", 0),
        ],
    );
    if cfg!(target_os = "linux") {
        lab.section("What to measure, and why");
        let threads = number(&lab, &report, "server.threads");
        let rss = number(&lab, &report, "server.rss_kib");
        if threads < 5.0 || rss <= 0.0 {
            lab.fail(
                "with --server-pid, the server's threads (one per client and the main one: 5 \
                 or more) and resident memory from /proc",
                &report.to_string(),
            );
        }
    }
}

#[test]
fn idle_clients_are_held_and_the_server_watched() {
    let lab = Lab::new(&CH, "Memory per connection");
    let server = lab.start_server(&["--max-clients", "10"]);
    let pid = server.pid().to_string();
    let run = load(
        &lab,
        &args(&[
            "--addr",
            &server.addr().to_string(),
            "--idle",
            "4",
            "--hold",
            "0.3",
            "--server-pid",
            &pid,
            "--json",
        ]),
        RUN_BOUND,
    );
    let report = report(&lab, &run);
    expect_counts(
        &lab,
        &report,
        "4 idle clients were held",
        &[("idle", 4), ("disconnections", 0)],
    );
    if cfg!(target_os = "linux") {
        let before = number(&lab, &report, "server_before.threads");
        let during = number(&lab, &report, "server.threads");
        if during < before + 4.0 {
            lab.fail(
                "the server has a thread more per idle client while they are held",
                &report.to_string(),
            );
        }
    }
}
