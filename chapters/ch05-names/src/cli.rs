//! The command line: `ch05-names [server] [--addr HOST:PORT]` and
//! `ch05-names client [--addr HOST:PORT] [--name NAME]`.
//!
//! Keep as is: the grader starts the server with `--addr 127.0.0.1:0` and the client with
//! `client --addr HOST:PORT [--name NAME]`.

use clap::{Args, Parser, Subcommand};

/// A chat server that relays every line to everyone else, and its client (chat lab, chapter 5).
#[derive(Debug, Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no subcommand, the server runs with these options.
    #[command(flatten)]
    server: ServerArgs,
}

/// What to run.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the chat server (the default).
    Server(ServerArgs),
    /// Connect to a server: print every line it sends, send every line you type.
    Client(ClientArgs),
}

/// The server's options.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Address to listen on; port 0 asks the operating system for a free port.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:7878")]
    pub addr: String,
}

/// The client's options.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// Address of the server to connect to.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:7878")]
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
