//! The `ch03-client-solution` binary: everything lives in the library (src/lib.rs).
fn main() -> std::process::ExitCode {
    ch03_client_solution::main()
}
