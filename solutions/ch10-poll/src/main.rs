//! The `ch10-poll-solution` binary: everything lives in the library (src/lib.rs).
fn main() -> std::process::ExitCode {
    ch10_poll_solution::main()
}
