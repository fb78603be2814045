//! The command line: `ch09-slow [server] [--addr HOST:PORT] [--max-clients N]
//! [--login-timeout SECONDS] [--queue-lines N]`, `ch09-slow client [--addr HOST:PORT] [--name NAME]` and, new in
//! chapter 8, `ch09-slow load --addr HOST:PORT -n CLIENTS -m LINES [...]` (see [`LoadArgs`]).
//!
//! Keep as is: the grader starts the server with `--addr 127.0.0.1:0` and the client with
//! `client --addr HOST:PORT [--name NAME]`.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// A chat server that relays every line to everyone else through a bounded queue per client,
/// its client, and a load generator that measures it (chat lab, chapter 9).
#[derive(Debug, Parser)]
#[command(
    version,
    propagate_version = true,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no subcommand, the server runs with these options.
    #[command(flatten)]
    server: ServerArgs,
}

// ANCHOR: subcommands
/// What to run.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the chat server (the default).
    Server(ServerArgs),
    /// Connect to a server: print every line it sends, send every line you type.
    Client(ClientArgs),
    /// Measure a server: N clients each send M lines while all of them read everything.
    ///
    /// This is a load generator: it opens many connections and sends as fast as it can. It
    /// refuses any address that is not loopback (127.0.0.0/8, ::1) unless given
    /// --allow-remote, so that a typo cannot aim it at a machine that is not yours.
    #[command(long_about)]
    Load(LoadArgs),
}
// ANCHOR_END: subcommands

/// The server's options.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Address to listen on; port 0 asks the operating system for a free port.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:7878",
          value_parser = parse_addr)]
    pub addr: String,
    /// How many clients may be connected at once; the next one is refused.
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub max_clients: u16,
    /// Seconds a new client has to choose a username before it is disconnected (0.001 to
    /// 86400, fractions allowed).
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = parse_seconds,
          allow_negative_numbers = true)]
    pub login_timeout: Duration,
    // ANCHOR: queue_lines
    /// How many lines may wait for one client before it counts as too slow and is
    /// disconnected. Memory per client is bounded by this times the longest line (about 1 KiB).
    #[arg(long, value_name = "N", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub queue_lines: u32,
    // ANCHOR_END: queue_lines
}

/// Checks that `text` has the form HOST:PORT (`127.0.0.1:7878`, `localhost:7878`,
/// `[::1]:7878`), so that a mistyped address is refused here, as a usage error, instead of
/// failing later as a bind or a connect. Whether HOST exists is for bind or connect to say.
fn parse_addr(text: &str) -> Result<String, String> {
    let well_formed = text.rsplit_once(':').is_some_and(|(host, port)| {
        // An IPv6 host has colons of its own, so it must be in brackets.
        let host_ok = !host.is_empty()
            && (!host.contains(':') || (host.starts_with('[') && host.ends_with(']')));
        host_ok && port.parse::<u16>().is_ok()
    });
    if well_formed {
        Ok(text.to_string())
    } else {
        Err("expected HOST:PORT, such as 127.0.0.1:7878".to_string())
    }
}

/// The shortest and longest `--login-timeout`, in seconds: a millisecond (below it the
/// deadline is gone before the first read), and a day (far beyond any login, and small enough
/// that adding it to the clock cannot overflow).
const LOGIN_TIMEOUT_RANGE: (f64, f64) = (0.001, 86_400.0);

/// Parses a number of seconds within [`LOGIN_TIMEOUT_RANGE`], fractions allowed (`0.5`).
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    let (min, max) = LOGIN_TIMEOUT_RANGE;
    // Written so that NaN, which compares false with everything, is refused too.
    if !(min..=max).contains(&seconds) {
        return Err(format!("'{text}' must be from {min} to {max} seconds"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// The client's options.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// Address of the server to connect to.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:7878",
          value_parser = parse_addr)]
    pub addr: String,
    /// Username to answer the server's prompt with; without it, you type it.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

// ANCHOR: load_args
/// The load generator's options.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Address of the server to measure (loopback only, unless --allow-remote).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:7878",
          value_parser = parse_addr)]
    pub addr: String,
    /// How many clients send and read.
    #[arg(short = 'n', long = "clients", value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(2..=100_000))]
    pub clients: u32,
    /// How many lines each client sends.
    #[arg(short = 'm', long = "lines", value_name = "M", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub lines: u32,
    /// Length of each line in bytes, without its newline (the server's limit is 1024).
    #[arg(long, value_name = "BYTES", default_value_t = 64,
          value_parser = clap::value_parser!(u16).range(48..=1024))]
    pub size: u16,
    /// Lines per second per client, on a fixed schedule; without it, as fast as possible.
    /// Latency is then measured from each line's scheduled time, so a stall cannot hide.
    #[arg(long, value_name = "LINES_PER_SEC", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Usernames are PREFIX-0, PREFIX-1, ... (stalled clients PREFIX-stalled-0, ...).
    #[arg(long, value_name = "NAME", default_value = "load", value_parser = parse_prefix)]
    pub prefix: String,
    /// Extra clients that join and then never read: what does one slow reader do to the room?
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub stalled: u32,
    /// Instead of sending lines, hold K logged-in clients for --hold seconds and report the
    /// server's memory and threads (with --server-pid).
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub idle: u32,
    /// Seconds to hold the --idle clients.
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = parse_run_seconds)]
    pub hold: Duration,
    /// The server's process id: report its CPU time, memory and threads (Linux, from /proc).
    #[arg(long, value_name = "PID")]
    pub server_pid: Option<u32>,
    /// Print the report as one JSON line instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Seconds the whole run may take, connecting included; then it stops and says so.
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = parse_run_seconds)]
    pub time_limit: Duration,
    /// Seconds to wait for missing lines once every client has sent its last one.
    #[arg(long, value_name = "SECONDS", default_value = "10", value_parser = parse_run_seconds)]
    pub drain: Duration,
    /// Acknowledge every segment at once (TCP_QUICKACK, Linux): shows what delayed ACKs cost.
    #[arg(long)]
    pub quickack: bool,
    /// Allow an address that is not loopback: only for a server that is yours to load.
    #[arg(long)]
    pub allow_remote: bool,
}
// ANCHOR_END: load_args

/// Parses a rate in lines per second: positive, at most a million.
fn parse_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number of lines per second"))?;
    if !(0.001..=1_000_000.0).contains(&rate) {
        return Err(format!(
            "'{text}' must be from 0.001 to 1000000 lines per second"
        ));
    }
    Ok(rate)
}

/// Parses a duration of a run in seconds: from 0 to a day, fractions allowed.
fn parse_run_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if !(0.0..=86_400.0).contains(&seconds) {
        return Err(format!("'{text}' must be from 0 to 86400 seconds"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Checks a name prefix: the server's name rules, with room left for `-stalled-99999`.
fn parse_prefix(text: &str) -> Result<String, String> {
    let valid = (1..=12).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        Ok(text.to_string())
    } else {
        Err("expected 1 to 12 letters, digits, '_' or '-'".to_string())
    }
}

impl Cli {
    /// The subcommand to run: the one typed, or the server.
    pub fn command(self) -> Command {
        self.command.unwrap_or(Command::Server(self.server))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_needs_a_host_and_a_port() {
        for good in ["127.0.0.1:0", "localhost:7878", "[::1]:7878"] {
            assert_eq!(parse_addr(good), Ok(good.to_string()));
        }
        for bad in [
            "7878",
            "127.0.0.1",
            ":7878",
            "127.0.0.1:",
            "localhost:http",
            "::1:7878",
        ] {
            assert!(parse_addr(bad).is_err(), "{bad} was accepted");
        }
    }
}
