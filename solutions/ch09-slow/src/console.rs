//! The server's console: one line per event on standard output, problems on standard error.
//!
//! The console is best effort. `println!` panics when standard output is gone (run the server
//! as `server | head -1`, and once `head` exits every write to the pipe fails with `EPIPE`), and
//! a panic on the accepting thread would take every client down with it. So the server writes
//! its console lines with [`say!`] and [`say_err!`], which ignore a failed write.

use std::fmt;
use std::io::Write;

/// Prints a console line on standard output, like `println!`, but never panics.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::console::line(&mut ::std::io::stdout(), format_args!($($arg)*))
    };
}

/// Prints a line on standard error, like `eprintln!`, but never panics.
macro_rules! say_err {
    ($($arg:tt)*) => {
        $crate::console::line(&mut ::std::io::stderr(), format_args!($($arg)*))
    };
}

/// Writes one line to `out`. A failed write is dropped: nobody is reading, and the clients
/// matter more than the log.
pub fn line(out: &mut impl Write, text: fmt::Arguments<'_>) {
    let _ = writeln!(out, "{text}");
}
