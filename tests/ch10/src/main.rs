//! `ch10-graded`: the binary the chapter 10 grader starts. It is your `chapters/ch10-poll`, or
//! with `--features solution` the reference answer in `solutions/ch10-poll`.
fn main() -> std::process::ExitCode {
    #[cfg(not(feature = "solution"))]
    return ch10_poll::main();
    #[cfg(feature = "solution")]
    return ch10_poll_solution::main();
}
