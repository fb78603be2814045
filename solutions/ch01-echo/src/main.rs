//! The `ch01-echo-solution` binary: everything lives in the library (src/lib.rs).
fn main() -> std::process::ExitCode {
    ch01_echo_solution::main()
}
