//! The `ch04-mutex-solution` binary: everything lives in the library (src/lib.rs).
fn main() -> std::process::ExitCode {
    ch04_mutex_solution::main()
}
