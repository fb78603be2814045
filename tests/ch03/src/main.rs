//! `ch03-graded`: the binary the chapter 3 grader starts. It is your `chapters/ch03-client`, or
//! with `--features solution` the reference answer in `solutions/ch03-client`.
fn main() -> std::process::ExitCode {
    #[cfg(not(feature = "solution"))]
    return ch03_client::main();
    #[cfg(feature = "solution")]
    return ch03_client_solution::main();
}
