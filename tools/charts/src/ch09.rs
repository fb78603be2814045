//! Chapter 9's timeline chart and tables: chapter 7 beside chapter 9, and chapter 9's variants
//! (Nagle left on; one line per system call; ...), from `book/src/figures/ch09-measurements.jsonl`.
//!
//! `book/src/experiments/ch09/measure.sh` writes the load generator's reports into that file,
//! with the server's write system calls and peak memory; `timeline.py` adds one `timeline` line
//! per server: the latency of the lines sent in each 100 ms while a reader had stopped.

use std::error::Error;
use std::path::Path;

use plotters::prelude::*;
use serde_json::Value;

use crate::{COLOURS, Measurements, number, server_us_per_delivery};

/// The servers measured, as the measurements name them and as the charts label them.
const SERVERS: [(&str, &str); 9] = [
    ("ch07", "chapter 7"),
    ("ch09", "chapter 9"),
    ("ch09-first-version", "9, first version"),
    (
        "ch09-first-version --queue-lines 8192",
        "9, first, 8192 lines",
    ),
    ("ch09 --queue-lines 16384", "9, 16384 lines"),
    ("ch09 --queue-lines 8192", "9, 8192 lines"),
    ("ch09-nodelay-off", "9, Nagle on"),
    ("ch09-unbatched", "9, unbatched"),
    ("ch09-notify-when-empty", "9, notify when empty"),
];

/// Draws chapter 9's timeline chart next to `input` and prints the medians as Markdown tables
/// (the medians of every run of a server and an experiment, whichever set it came from).
pub fn draw(m: &Measurements, input: &Path, dir: &Path) -> Result<(), Box<dyn Error>> {
    timeline(&dir.join("ch09-timeline.svg"), input)?;
    print_tables(m);
    Ok(())
}

/// The latency of every 100 ms of lines over a run with a stalled reader, one pair of lines
/// (median and slowest) per server.
fn timeline(file: &Path, input: &Path) -> Result<(), Box<dyn Error>> {
    // The last timeline measured of each server.
    let mut runs: Vec<(String, Value)> = Vec::new();
    for line in std::fs::read_to_string(input)?.lines() {
        let Ok(run) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if run["experiment"] == "timeline" {
            let server = run["chapter"].as_str().unwrap_or_default().to_string();
            runs.retain(|(seen, _)| *seen != server);
            runs.push((server, run["timeline"].clone()));
        }
    }
    if runs.is_empty() {
        return Ok(());
    }
    let points = |timeline: &Value, key: &str| -> Vec<(f64, f64)> {
        let values = |k: &str| -> Vec<f64> {
            timeline[k]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_f64).collect())
                .unwrap_or_default()
        };
        values("t_s")
            .into_iter()
            .zip(values(key))
            // A log scale has no zero: below 0.1 ms is drawn at 0.1 ms.
            .map(|(t, ms)| (t, ms.max(0.1)))
            .collect()
    };
    let end = runs
        .iter()
        .flat_map(|(_, t)| points(t, "max_ms"))
        .map(|(t, _)| t)
        .fold(1.0, f64::max);
    let highest = runs
        .iter()
        .flat_map(|(_, t)| points(t, "max_ms"))
        .map(|(_, ms)| ms)
        .fold(1.0, f64::max);

    let root = SVGBackend::new(file, (720, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "One reader stops: 10 clients x 100 lines/s of 1000 bytes",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(72)
        // Room above the highest line for the legend.
        .build_cartesian_2d(0.0..end + 0.1, (0.1..highest * 100.0).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("seconds into the run (when the line was due)")
        .y_desc("latency, milliseconds (log scale)")
        .y_label_formatter(&|y| {
            if *y >= 1.0 {
                format!("{y:.0}")
            } else {
                format!("{y}")
            }
        })
        .draw()?;
    for (index, (server, timeline)) in runs.iter().enumerate() {
        let colour = COLOURS[(index * 3) % COLOURS.len()];
        let label = SERVERS
            .iter()
            .find(|(name, _)| name == server)
            .map_or(server.as_str(), |&(_, label)| label);
        chart
            .draw_series(LineSeries::new(
                points(timeline, "max_ms"),
                colour.stroke_width(2),
            ))?
            .label(format!("{label}: slowest line of each 100 ms"))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2)));
        let light = colour.mix(0.6);
        chart
            .draw_series(LineSeries::new(points(timeline, "p50_ms"), light))?
            .label(format!("{label}: median line"))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], light));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    println!("wrote {}", file.display());
    Ok(())
}

/// Deliveries per write system call: the batching.
fn deliveries_per_write(report: &Value) -> Option<f64> {
    let writes = number(report, "server_writes")?;
    (writes > 0.0).then(|| number(report, "deliveries").map(|d| d / writes))?
}

/// Prints the medians as Markdown tables, one row per server and experiment.
fn print_tables(m: &Measurements) {
    let cell = |value: Option<f64>, digits: usize| match value {
        Some(v) => format!("{v:.digits$}"),
        None => "-".to_string(),
    };
    println!(
        "\n| server | experiment | deliveries | deliveries/s | server CPU per delivery | \
         deliveries per write | p50 | p99 | p99.9 | max | disconnections | lost | server memory (peak) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for &(server, _) in &SERVERS {
        let experiments: Vec<&String> = m
            .runs
            .keys()
            .filter(|(name, _)| name == server)
            .map(|(_, experiment)| experiment)
            .collect();
        for experiment in experiments {
            let med = |path: &str| m.median(server, experiment, path);
            let ms = |path: &str| med(path).map(|us| us / 1000.0);
            println!(
                "| {server} | {experiment} | {} | {} | {} us | {} | {} ms | {} ms | {} ms | {} ms | {} | {} | {} MiB |",
                cell(med("deliveries"), 0),
                cell(med("deliveries_per_s"), 0),
                cell(m.median_of(server, experiment, server_us_per_delivery), 2),
                cell(m.median_of(server, experiment, deliveries_per_write), 2),
                cell(ms("latency_us.p50"), 2),
                cell(ms("latency_us.p99"), 2),
                cell(ms("latency_us.p999"), 2),
                cell(ms("latency_us.max"), 1),
                cell(med("disconnections"), 0),
                cell(med("lost"), 0),
                cell(med("server_vmhwm_kib").map(|k| k / 1024.0), 1),
            );
        }
    }
    println!("\nCommands (each with --addr HOST:PORT --server-pid PID --json):");
    for ((server, experiment), command) in &m.commands {
        if command.starts_with("load ") {
            println!("- {server}, {experiment}: `ch09-slow-solution {command}`");
        } else {
            println!("- {server}, {experiment}: `{command}`");
        }
    }
}
