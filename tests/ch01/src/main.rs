//! `ch01-graded`: the binary the chapter 1 grader starts. It is your `chapters/ch01-echo`, or
//! with `--features solution` the reference answer in `solutions/ch01-echo`.
fn main() -> std::process::ExitCode {
    #[cfg(not(feature = "solution"))]
    return ch01_echo::main();
    #[cfg(feature = "solution")]
    return ch01_echo_solution::main();
}
