//! The `ch09-slow` binary: everything lives in the library (src/lib.rs).
fn main() -> std::process::ExitCode {
    ch09_slow::main()
}
