//! The `ch04-mutex` binary: everything lives in the library (src/lib.rs), which the grader
//! also builds into a binary of its own. Keep as is.
fn main() -> std::process::ExitCode {
    ch04_mutex::main()
}
