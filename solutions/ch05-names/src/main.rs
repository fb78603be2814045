//! The `ch05-names-solution` binary: everything lives in the library (src/lib.rs).
fn main() -> std::process::ExitCode {
    ch05_names_solution::main()
}
