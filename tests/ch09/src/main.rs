//! `ch09-graded`: the binary the chapter 9 grader starts. It is your `chapters/ch09-slow`, or
//! with `--features solution` the reference answer in `solutions/ch09-slow`.
fn main() -> std::process::ExitCode {
    #[cfg(not(feature = "solution"))]
    return ch09_slow::main();
    #[cfg(feature = "solution")]
    return ch09_slow_solution::main();
}
