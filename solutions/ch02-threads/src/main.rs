//! The `ch02-threads-solution` binary: everything lives in the library (src/lib.rs).
fn main() -> std::process::ExitCode {
    ch02_threads_solution::main()
}
