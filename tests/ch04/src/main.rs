//! `ch04-graded`: the binary the chapter 4 grader starts. It is your `chapters/ch04-mutex`, or
//! with `--features solution` the reference answer in `solutions/ch04-mutex`.
fn main() -> std::process::ExitCode {
    #[cfg(not(feature = "solution"))]
    return ch04_mutex::main();
    #[cfg(feature = "solution")]
    return ch04_mutex_solution::main();
}
