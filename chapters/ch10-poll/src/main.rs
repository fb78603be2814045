//! The `ch10-poll` binary: everything lives in the library (src/lib.rs).
fn main() -> std::process::ExitCode {
    ch10_poll::main()
}
