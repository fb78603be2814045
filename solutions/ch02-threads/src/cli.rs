//! The command line: `ch02-threads [server] [--addr HOST:PORT]`.
//!
//! Keep as is: the grader starts the server with `--addr 127.0.0.1:0` and reads the port back.

use clap::{Args, Parser, Subcommand};

/// A line echo server with a thread per client (chat lab, chapter 2).
#[derive(Debug, Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no subcommand, the server runs with these options.
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the echo server (the default).
    Server(ServerArgs),
}

/// The server's options.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Address to listen on; port 0 asks the operating system for a free port.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:7878")]
    pub addr: String,
}

impl Cli {
    /// The server's options, whether or not `server` was typed.
    pub fn server_args(self) -> ServerArgs {
        match self.command {
            Some(Command::Server(args)) => args,
            None => self.server,
        }
    }
}
