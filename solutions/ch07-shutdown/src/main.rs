//! The `ch07-shutdown-solution` binary: everything lives in the library (src/lib.rs).
fn main() -> std::process::ExitCode {
    ch07_shutdown_solution::main()
}
