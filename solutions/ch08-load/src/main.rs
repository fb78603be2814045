//! The `ch08-load-solution` binary: everything lives in the library (src/lib.rs).
fn main() -> std::process::ExitCode {
    ch08_load_solution::main()
}
