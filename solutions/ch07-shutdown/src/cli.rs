//! The command line: `ch07-shutdown [server] [--addr HOST:PORT] [--max-clients N]
//! [--login-timeout SECONDS]` and
//! `ch07-shutdown client [--addr HOST:PORT] [--name NAME]`.
//!
//! Keep as is: the grader starts the server with `--addr 127.0.0.1:0` and the client with
//! `client --addr HOST:PORT [--name NAME]`.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// A chat server that relays every line to everyone else, and its client (chat lab, chapter 7).
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
