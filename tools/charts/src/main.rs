//! Draws the book's chapter 8 charts from the load generator's reports.
//!
//! `tools/charts/measure.sh` runs the measurements and appends one JSON line per run to
//! `book/src/figures/ch08-measurements.jsonl`: the chapter, the experiment, the run number, the
//! command and the generator's `--json` report. `cargo run -p charts` reads that file (or the
//! one given as its argument), takes the median of the runs of each experiment, writes the SVG
//! charts next to it (`ch08-*.svg`), and prints the medians as a Markdown table for the book.

use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use serde_json::Value;

mod ch09;

/// The chapters measured, in order.
const CHAPTERS: [&str; 4] = ["ch04", "ch05", "ch06", "ch07"];

/// The series colours, in order: readable on white, told apart without colour by position.
const COLOURS: [RGBColor; 4] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
];

/// The median of every number in the reports of one experiment on one chapter.
struct Measurements {
    /// (chapter, experiment) -> the reports of its runs.
    runs: BTreeMap<(String, String), Vec<Value>>,
    /// (chapter, experiment) -> the command of its runs.
    commands: BTreeMap<(String, String), String>,
}

impl Measurements {
    /// Reads the JSON lines of `path`.
    fn read(path: &Path) -> Result<Measurements, Box<dyn Error>> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| format!("reading {}: {err}", path.display()))?;
        let mut runs: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
        let mut commands = BTreeMap::new();
        for (number, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let run: Value = serde_json::from_str(line)
                .map_err(|err| format!("{}:{}: {err}", path.display(), number + 1))?;
            let text_of = |key: &str| run[key].as_str().unwrap_or_default().to_string();
            // Chapter 9's measurements come in sets (main, variants, ...), measured apart: an
            // experiment of a set other than the main one is kept apart, as "EXPERIMENT [SET]".
            let experiment = match run["set"].as_str() {
                Some(set) if set != "main" => format!("{} [{set}]", text_of("experiment")),
                _ => text_of("experiment"),
            };
            let key = (text_of("chapter"), experiment);
            commands.insert(key.clone(), text_of("command"));
            if !run["report"].is_null() {
                let mut report = run["report"].clone();
                // Chapter 9's measurements add what was read from outside the generator (the
                // server's write system calls, its peak memory, the load average): kept with
                // the report, so that medians of them work alike.
                for extra in ["server_writes", "server_vmhwm_kib", "loadavg"] {
                    if let (Some(object), Some(value)) = (report.as_object_mut(), run.get(extra)) {
                        object.insert(extra.to_string(), value.clone());
                    }
                }
                runs.entry(key).or_default().push(report);
            }
        }
        Ok(Measurements { runs, commands })
    }

    /// The median over the runs of `experiment` on `chapter` of the number at `path`
    /// (`deliveries_per_s`, `latency_us.p99`, ...).
    fn median(&self, chapter: &str, experiment: &str, path: &str) -> Option<f64> {
        self.median_of(chapter, experiment, |report| number(report, path))
    }

    /// The median over the runs of `experiment` on `chapter` of what `measure` makes of each
    /// report.
    fn median_of(
        &self,
        chapter: &str,
        experiment: &str,
        measure: impl Fn(&Value) -> Option<f64>,
    ) -> Option<f64> {
        let reports = self
            .runs
            .get(&(chapter.to_string(), experiment.to_string()))?;
        let mut values: Vec<f64> = reports.iter().filter_map(measure).collect();
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        Some(values[values.len() / 2])
    }
}

/// The number at `path` (`latency_us.p99`) in a report.
fn number(report: &Value, path: &str) -> Option<f64> {
    path.split('.')
        .try_fold(report, |value, part| value.get(part))
        .and_then(Value::as_f64)
}

/// The server's CPU time per delivery, in microseconds.
fn server_us_per_delivery(report: &Value) -> Option<f64> {
    let deliveries = number(report, "deliveries")?;
    (deliveries > 0.0)
        .then(|| number(report, "server.cpu_s"))
        .flatten()
        .map(|cpu| cpu * 1e6 / deliveries)
}

/// One series of bars: a label and a value per group (`None`: not measured).
struct Series {
    label: String,
    values: Vec<Option<f64>>,
}

/// Draws grouped bars: one group per name in `groups`, one bar per series in each.
fn bars<Y>(
    file: &Path,
    title: &str,
    y_desc: &str,
    groups: &[&str],
    series: &[Series],
    (y_range, base): (Y, f64),
) -> Result<(), Box<dyn Error>>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let root = SVGBackend::new(file, (720, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(72)
        .build_cartesian_2d(0.0..groups.len() as f64, y_range)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(groups.len() * 2 + 1)
        .x_label_formatter(&|x| {
            let i = x.floor() as usize;
            let centred = (x - x.floor() - 0.5).abs() < 0.01;
            match groups.get(i) {
                Some(name) if centred => name.to_string(),
                _ => String::new(),
            }
        })
        .y_label_formatter(&|y| {
            if y.abs() >= 10.0 {
                format!("{y:.0}")
            } else {
                format!("{y}")
            }
        })
        .y_desc(y_desc)
        .draw()?;
    let width = 0.8 / series.len() as f64;
    for (s, one) in series.iter().enumerate() {
        let colour = COLOURS[s % COLOURS.len()];
        let rects = one.values.iter().enumerate().filter_map(|(g, value)| {
            let left = g as f64 + 0.1 + s as f64 * width;
            value.map(|v| Rectangle::new([(left, base), (left + width * 0.9, v)], colour.filled()))
        });
        chart
            .draw_series(rects)?
            .label(one.label.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    println!("wrote {}", file.display());
    Ok(())
}

/// The largest value of every series, or 1.
fn top(series: &[Series]) -> f64 {
    series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .copied()
        .fold(1.0, f64::max)
}

/// Bars on a linear scale from zero.
fn linear(series: &[Series]) -> (std::ops::Range<f64>, f64) {
    // Headroom above the tallest bar for the legend.
    (0.0..top(series) * 1.45, 0.0)
}

/// One series per `(label, experiment, path)`, over the chapters, scaled by `scale`.
fn series_of(m: &Measurements, wanted: &[(&str, &str, &str)], scale: f64) -> Vec<Series> {
    wanted
        .iter()
        .map(|&(label, experiment, path)| Series {
            label: label.to_string(),
            values: CHAPTERS
                .iter()
                .map(|ch| m.median(ch, experiment, path).map(|v| v * scale))
                .collect(),
        })
        .collect()
}

fn main() -> Result<(), Box<dyn Error>> {
    let input = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("book/src/figures/ch08-measurements.jsonl"));
    let m = Measurements::read(&input)?;
    let dir = input.parent().unwrap_or(Path::new("."));
    let is_ch09 = input
        .file_name()
        .is_some_and(|name| name.to_string_lossy().starts_with("ch09"));
    if is_ch09 {
        return ch09::draw(&m, &input, dir);
    }

    let throughput = series_of(
        &m,
        &[
            (
                "10 clients x 1000 lines",
                "throughput 10x1000",
                "deliveries_per_s",
            ),
            (
                "100 clients x 100 lines",
                "throughput 100x100",
                "deliveries_per_s",
            ),
        ],
        1.0,
    );
    bars(
        &dir.join("ch08-throughput.svg"),
        "Deliveries per second (median of 3)",
        "deliveries/s",
        &CHAPTERS,
        &throughput,
        linear(&throughput),
    )?;

    let latency = series_of(
        &m,
        &[
            ("p50", "latency 100 at 5/s", "latency_us.p50"),
            ("p99", "latency 100 at 5/s", "latency_us.p99"),
            (
                "p50, receiver with --quickack",
                "latency 100 at 5/s, quickack",
                "latency_us.p50",
            ),
            (
                "p99, receiver with --quickack",
                "latency 100 at 5/s, quickack",
                "latency_us.p99",
            ),
        ],
        0.001,
    );
    bars(
        &dir.join("ch08-latency.svg"),
        "Latency, 100 clients x 5 lines/s (ms, log scale, median of 3)",
        "milliseconds",
        &CHAPTERS,
        &latency,
        ((0.1..top(&latency) * 30.0).log_scale(), 0.1),
    )?;

    let idle = series_of(
        &m,
        &[(
            "KiB of server memory per idle client",
            "idle 1000",
            "rss_per_client_kib",
        )],
        1.0,
    );
    bars(
        &dir.join("ch08-idle.svg"),
        "Server memory per idle client, 1000 clients (median of 3)",
        "KiB per client",
        &CHAPTERS,
        &idle,
        linear(&idle),
    )?;

    let stalled_groups = ["ch04", "ch07"];
    let stalled: Vec<Series> = [
        ("p50, nobody stalled", "stalled 0", "latency_us.p50"),
        ("p99, nobody stalled", "stalled 0", "latency_us.p99"),
        ("p50, one stalled reader", "stalled 1", "latency_us.p50"),
        ("p99, one stalled reader", "stalled 1", "latency_us.p99"),
    ]
    .iter()
    .map(|&(label, experiment, path)| Series {
        label: label.to_string(),
        values: stalled_groups
            .iter()
            .map(|ch| m.median(ch, experiment, path).map(|v| v / 1000.0))
            .collect(),
    })
    .collect();
    bars(
        &dir.join("ch08-stalled.svg"),
        "One reader that stops: 10 clients x 100 lines/s (ms, log scale)",
        "milliseconds",
        &stalled_groups,
        &stalled,
        ((0.1..top(&stalled) * 30.0).log_scale(), 0.1),
    )?;

    print_table(&m);
    Ok(())
}

/// Prints the medians as Markdown tables, with the command behind each experiment.
fn print_table(m: &Measurements) {
    let cell = |value: Option<f64>, digits: usize| match value {
        Some(v) => format!("{v:.digits$}"),
        None => "-".to_string(),
    };
    println!(
        "\n| chapter | deliveries/s 10x1000 | deliveries/s 100x100 | server CPU per delivery, 100x100 | p50 | p99 | p99.9 | p99 with --quickack | memory per idle client (1000) | server threads (1000 idle) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for ch in CHAPTERS {
        let lat = |path: &str, experiment: &str| m.median(ch, experiment, path).map(|v| v / 1000.0);
        println!(
            "| {ch} | {} | {} | {} us | {} ms | {} ms | {} ms | {} ms | {} KiB | {} |",
            cell(m.median(ch, "throughput 10x1000", "deliveries_per_s"), 0),
            cell(m.median(ch, "throughput 100x100", "deliveries_per_s"), 0),
            cell(
                m.median_of(ch, "throughput 100x100", server_us_per_delivery),
                2
            ),
            cell(lat("latency_us.p50", "latency 100 at 5/s"), 2),
            cell(lat("latency_us.p99", "latency 100 at 5/s"), 1),
            cell(lat("latency_us.p999", "latency 100 at 5/s"), 1),
            cell(lat("latency_us.p99", "latency 100 at 5/s, quickack"), 1),
            cell(m.median(ch, "idle 1000", "rss_per_client_kib"), 1),
            cell(m.median(ch, "idle 1000", "server.threads"), 0),
        );
    }
    println!("\n| chapter | experiment | p50 ms | p90 ms | p99 ms | max ms | disconnections |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for ch in ["ch04", "ch07"] {
        for experiment in ["stalled 0", "stalled 1"] {
            let lat = |path: &str| m.median(ch, experiment, path).map(|v| v / 1000.0);
            println!(
                "| {ch} | {experiment} | {} | {} | {} | {} | {} |",
                cell(lat("latency_us.p50"), 2),
                cell(lat("latency_us.p90"), 2),
                cell(lat("latency_us.p99"), 2),
                cell(lat("latency_us.max"), 2),
                cell(m.median(ch, experiment, "disconnections"), 0),
            );
        }
    }
    for (ch, experiment) in [("ch07", "idle 5000")] {
        if let Some(kib) = m.median(ch, experiment, "rss_per_client_kib") {
            let threads = cell(m.median(ch, experiment, "server.threads"), 0);
            let rss = cell(
                m.median(ch, experiment, "server.rss_kib")
                    .map(|k| k / 1024.0),
                1,
            );
            println!("\n{ch} {experiment}: {kib:.1} KiB per client, {rss} MiB, {threads} threads");
        }
    }
    // How far apart the runs of one experiment were: the largest (max - min) / median.
    let mut widest = (0.0, String::new());
    for ((ch, experiment), reports) in &m.runs {
        for path in ["deliveries_per_s", "latency_us.p99"] {
            let mut values: Vec<f64> = reports.iter().filter_map(|r| number(r, path)).collect();
            if values.len() < 2 {
                continue;
            }
            values.sort_by(f64::total_cmp);
            let median = values[values.len() / 2];
            let spread = (values[values.len() - 1] - values[0]) / median;
            if median > 0.0 && spread > widest.0 {
                widest = (spread, format!("{ch} {experiment}, {path}"));
            }
        }
    }
    println!(
        "\nWidest spread between runs: {:.0}% of the median ({})",
        widest.0 * 100.0,
        widest.1
    );
    println!("\nCommands:");
    let mut seen = std::collections::BTreeSet::new();
    for ((_, experiment), command) in &m.commands {
        if seen.insert(experiment.clone()) {
            println!(
                "- {experiment}: `ch08-load-solution {command} --addr HOST:PORT --server-pid PID --json`"
            );
        }
    }
}
