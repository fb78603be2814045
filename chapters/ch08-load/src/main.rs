//! The `ch08-load` binary: everything lives in the library (src/lib.rs).
fn main() -> std::process::ExitCode {
    ch08_load::main()
}
