//! The `ch06-cap-solution` binary: everything lives in the library (src/lib.rs).
fn main() -> std::process::ExitCode {
    ch06_cap_solution::main()
}
