//! `ch06-graded`: the binary the chapter 6 grader starts. It is your `chapters/ch06-cap`, or
//! with `--features solution` the reference answer in `solutions/ch06-cap`.
fn main() -> std::process::ExitCode {
    #[cfg(not(feature = "solution"))]
    return ch06_cap::main();
    #[cfg(feature = "solution")]
    return ch06_cap_solution::main();
}
