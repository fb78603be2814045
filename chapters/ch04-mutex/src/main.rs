//! The `ch04-mutex` binary: everything lives in the library (src/lib.rs).
fn main() -> std::process::ExitCode {
    ch04_mutex::main()
}
