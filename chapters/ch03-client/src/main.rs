//! The `ch03-client` binary: everything lives in the library (src/lib.rs).
fn main() -> std::process::ExitCode {
    ch03_client::main()
}
