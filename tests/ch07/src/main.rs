//! `ch07-graded`: the binary the chapter 7 grader starts. It is your `chapters/ch07-shutdown`, or
//! with `--features solution` the reference answer in `solutions/ch07-shutdown`.
fn main() -> std::process::ExitCode {
    #[cfg(not(feature = "solution"))]
    return ch07_shutdown::main();
    #[cfg(feature = "solution")]
    return ch07_shutdown_solution::main();
}
