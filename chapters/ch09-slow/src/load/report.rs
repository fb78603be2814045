//! The load generator's report: a table for people, one JSON line for programs (`--json`).

use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::system::ServerUse;
use super::tally::Counts;

/// What a run of lines measured.
pub struct LinesReport {
    /// The address as given, and whether the server asks for names.
    pub addr: String,
    pub mode: &'static str,
    pub clients: u32,
    pub lines: u32,
    pub size: usize,
    pub rate: Option<f64>,
    pub stalled: u32,
    /// Lines the clients sent, and deliveries that makes (each line goes to every other client).
    pub sent: u64,
    pub expected: u64,
    pub counts: Counts,
    pub lost: u64,
    pub disconnections: u64,
    pub first_error: Option<String>,
    /// From the start signal to the last delivery.
    pub duration: Duration,
    /// Every delivery's latency, in nanoseconds.
    pub latency: Histogram<u64>,
    /// The server's use during the run: CPU spent, and the most memory and threads seen.
    pub server: Option<ServerUse>,
    /// The CPU time the generator itself spent during the run.
    pub own_cpu: Option<Duration>,
    /// Set when the time limit cut the run short.
    pub cut_short: bool,
}

/// What an idle run measured.
pub struct IdleReport {
    pub addr: String,
    pub mode: &'static str,
    pub idle: u32,
    pub held: Duration,
    pub disconnections: u64,
    /// The server before the clients connected, and while they were held.
    pub before: Option<ServerUse>,
    pub during: Option<ServerUse>,
    pub cut_short: bool,
}

/// The percentiles the report gives, as (label, JSON key, quantile).
const PERCENTILES: [(&str, &str, f64); 4] = [
    ("p50", "p50", 0.50),
    ("p90", "p90", 0.90),
    ("p99", "p99", 0.99),
    ("p99.9", "p999", 0.999),
];

impl LinesReport {
    /// Deliveries per second over the run.
    pub fn rate_achieved(&self) -> f64 {
        let seconds = self.duration.as_secs_f64();
        if seconds > 0.0 {
            self.counts.deliveries as f64 / seconds
        } else {
            0.0
        }
    }

    /// Nanoseconds of the generator's CPU per delivery.
    fn own_cost(&self) -> Option<f64> {
        let cpu = self.own_cpu?;
        (self.counts.deliveries > 0).then(|| cpu.as_nanos() as f64 / self.counts.deliveries as f64)
    }

    /// Latency at `quantile` in microseconds (0 when nothing arrived).
    fn latency_us(&self, quantile: f64) -> f64 {
        self.latency.value_at_quantile(quantile) as f64 / 1000.0
    }

    /// The report as a table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let pace = match self.rate {
            Some(rate) => format!("{rate} lines/s each"),
            None => "as fast as possible".to_string(),
        };
        let _ = writeln!(
            out,
            "load: {} clients x {} lines of {} bytes, {pace}, {}{} ({})",
            self.clients,
            self.lines,
            self.size,
            self.addr,
            stalled_note(self.stalled),
            self.mode
        );
        let mut row = |label: &str, value: String| {
            let _ = writeln!(out, "  {label:<16}{value}");
        };
        row(
            "deliveries",
            format!("{} of {} expected", self.counts.deliveries, self.expected),
        );
        row(
            "throughput",
            format!(
                "{:.0} deliveries/s over {:.3} s",
                self.rate_achieved(),
                self.duration.as_secs_f64()
            ),
        );
        let mut latency = PERCENTILES
            .iter()
            .map(|&(label, _, q)| format!("{label} {}", human_us(self.latency_us(q))))
            .collect::<Vec<_>>();
        latency.push(format!(
            "max {}",
            human_us(self.latency.max() as f64 / 1000.0)
        ));
        row("latency", latency.join("  "));
        row("lost", self.lost.to_string());
        row("torn", self.counts.torn.to_string());
        row("duplicated", self.counts.duplicated.to_string());
        row("out of order", self.counts.out_of_order.to_string());
        row("unexpected", self.counts.unexpected.to_string());
        row("disconnections", self.disconnections.to_string());
        let errors = match &self.first_error {
            Some(first) => format!("{} (first: {first})", self.counts.error_lines),
            None => self.counts.error_lines.to_string(),
        };
        row("error lines", errors);
        if let Some(server) = &self.server {
            row(
                "server",
                format!(
                    "cpu {:.2} s  memory {}  threads {}",
                    server.cpu_s,
                    human_kib(server.rss_kib),
                    server.threads
                ),
            );
        }
        if let (Some(cpu), Some(cost)) = (self.own_cpu, self.own_cost()) {
            row(
                "generator",
                format!(
                    "cpu {:.2} s  ({cost:.0} ns per delivery)",
                    cpu.as_secs_f64()
                ),
            );
        }
        if self.cut_short {
            row(
                "stopped",
                "by the time limit, before every line arrived".to_string(),
            );
        }
        out
    }

    /// The report as one JSON line.
    pub fn json(&self) -> String {
        let mut latency = Json::default();
        for (_, key, q) in PERCENTILES {
            latency.number(key, self.latency_us(q));
        }
        latency.number("max", self.latency.max() as f64 / 1000.0);
        let mut json = Json::default();
        json.string("kind", "lines");
        json.string("addr", &self.addr);
        json.string("mode", self.mode);
        json.count("clients", self.clients.into());
        json.count("lines", self.lines.into());
        json.count("size", self.size as u64);
        json.raw("rate", self.rate.map_or("null".to_string(), number));
        json.count("stalled", self.stalled.into());
        json.count("sent", self.sent);
        json.count("expected", self.expected);
        json.count("deliveries", self.counts.deliveries);
        json.number("duration_s", self.duration.as_secs_f64());
        json.number("deliveries_per_s", self.rate_achieved());
        json.raw("latency_us", latency.finish());
        json.count("lost", self.lost);
        json.count("torn", self.counts.torn);
        json.count("duplicated", self.counts.duplicated);
        json.count("out_of_order", self.counts.out_of_order);
        json.count("unexpected", self.counts.unexpected);
        json.count("disconnections", self.disconnections);
        json.count("error_lines", self.counts.error_lines);
        json.raw(
            "first_error",
            self.first_error
                .as_deref()
                .map_or("null".to_string(), quote),
        );
        json.raw(
            "server",
            self.server.map_or("null".to_string(), server_json),
        );
        json.raw(
            "load_cpu_s",
            self.own_cpu
                .map_or("null".to_string(), |c| number(c.as_secs_f64())),
        );
        json.raw(
            "load_cpu_ns_per_delivery",
            self.own_cost().map_or("null".to_string(), number),
        );
        json.raw("cut_short", self.cut_short.to_string());
        json.finish()
    }
}

impl IdleReport {
    /// Resident memory per held client, in KiB, when the server was watched.
    fn per_client_kib(&self) -> Option<f64> {
        let (before, during) = (self.before?, self.during?);
        (self.idle > 0)
            .then(|| (during.rss_kib as f64 - before.rss_kib as f64) / f64::from(self.idle))
    }

    /// The report as a table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "load: {} idle clients held for {:.1} s, {} ({})",
            self.idle,
            self.held.as_secs_f64(),
            self.addr,
            self.mode
        );
        let mut row = |label: &str, value: String| {
            let _ = writeln!(out, "  {label:<16}{value}");
        };
        row("disconnections", self.disconnections.to_string());
        if let (Some(before), Some(during)) = (self.before, self.during) {
            row(
                "server memory",
                format!(
                    "{} before, {} with the clients",
                    human_kib(before.rss_kib),
                    human_kib(during.rss_kib)
                ),
            );
            row(
                "server threads",
                format!(
                    "{} before, {} with the clients",
                    before.threads, during.threads
                ),
            );
        }
        if let Some(per_client) = self.per_client_kib() {
            row("per client", format!("{per_client:.1} KiB of memory"));
        }
        if self.cut_short {
            row("stopped", "by the time limit".to_string());
        }
        out
    }

    /// The report as one JSON line.
    pub fn json(&self) -> String {
        let mut json = Json::default();
        json.string("kind", "idle");
        json.string("addr", &self.addr);
        json.string("mode", self.mode);
        json.count("idle", self.idle.into());
        json.number("held_s", self.held.as_secs_f64());
        json.count("disconnections", self.disconnections);
        json.raw(
            "server_before",
            self.before.map_or("null".to_string(), server_json),
        );
        json.raw(
            "server",
            self.during.map_or("null".to_string(), server_json),
        );
        json.raw(
            "rss_per_client_kib",
            self.per_client_kib().map_or("null".to_string(), number),
        );
        json.raw("cut_short", self.cut_short.to_string());
        json.finish()
    }
}

/// ", with K stalled readers", or nothing.
fn stalled_note(stalled: u32) -> String {
    match stalled {
        0 => String::new(),
        1 => ", with 1 stalled reader".to_string(),
        k => format!(", with {k} stalled readers"),
    }
}

/// The server's use as a JSON object.
fn server_json(server: ServerUse) -> String {
    let mut json = Json::default();
    json.number("cpu_s", server.cpu_s);
    json.count("rss_kib", server.rss_kib);
    json.count("threads", server.threads);
    json.finish()
}

/// Microseconds for people: `850 us`, `12.3 ms`, `2.10 s`.
fn human_us(us: f64) -> String {
    if us < 1000.0 {
        format!("{us:.0} us")
    } else if us < 1_000_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else {
        format!("{:.2} s", us / 1_000_000.0)
    }
}

/// KiB for people: `812 KiB`, `4.1 MiB`.
fn human_kib(kib: u64) -> String {
    if kib < 1024 {
        format!("{kib} KiB")
    } else {
        format!("{:.1} MiB", kib as f64 / 1024.0)
    }
}

/// A JSON number with three decimals at most (`null` if it is not finite).
fn number(value: f64) -> String {
    if value.is_finite() {
        let text = format!("{value:.3}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        text.to_string()
    } else {
        "null".to_string()
    }
}

/// A JSON string.
fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON object, written field by field.
#[derive(Default)]
struct Json {
    fields: Vec<String>,
}

impl Json {
    fn raw(&mut self, key: &str, value: String) {
        self.fields.push(format!("\"{key}\":{value}"));
    }
    fn string(&mut self, key: &str, value: &str) {
        self.raw(key, quote(value));
    }
    fn count(&mut self, key: &str, value: u64) {
        self.raw(key, value.to_string());
    }
    fn number(&mut self, key: &str, value: f64) {
        self.raw(key, number(value));
    }
    fn finish(self) -> String {
        format!("{{{}}}", self.fields.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_numbers_and_strings_are_valid() {
        assert_eq!(number(1.5), "1.5");
        assert_eq!(number(2.0), "2");
        assert_eq!(number(f64::NAN), "null");
        assert_eq!(quote("a \"b\"\n"), "\"a \\\"b\\\"\\u000a\"");
    }
}
