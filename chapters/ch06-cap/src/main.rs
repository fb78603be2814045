//! The `ch06-cap` binary: everything lives in the library (src/lib.rs).
fn main() -> std::process::ExitCode {
    ch06_cap::main()
}
