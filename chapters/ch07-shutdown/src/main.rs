//! The `ch07-shutdown` binary: everything lives in the library (src/lib.rs).
fn main() -> std::process::ExitCode {
    ch07_shutdown::main()
}
