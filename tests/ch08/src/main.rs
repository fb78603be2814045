//! `ch08-graded`: the binary the chapter 8 grader starts. It is your `chapters/ch08-load`, or
//! with `--features solution` the reference answer in `solutions/ch08-load`.
fn main() -> std::process::ExitCode {
    #[cfg(not(feature = "solution"))]
    return ch08_load::main();
    #[cfg(feature = "solution")]
    return ch08_load_solution::main();
}
