//! `ch02-graded`: the binary the chapter 2 grader starts. It is your `chapters/ch02-threads`,
//! or with `--features solution` the reference answer in `solutions/ch02-threads`.
fn main() -> std::process::ExitCode {
    #[cfg(not(feature = "solution"))]
    return ch02_threads::main();
    #[cfg(feature = "solution")]
    return ch02_threads_solution::main();
}
