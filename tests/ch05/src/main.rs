//! `ch05-graded`: the binary the chapter 5 grader starts. It is your `chapters/ch05-names`, or
//! with `--features solution` the reference answer in `solutions/ch05-names`.
fn main() -> std::process::ExitCode {
    #[cfg(not(feature = "solution"))]
    return ch05_names::main();
    #[cfg(feature = "solution")]
    return ch05_names_solution::main();
}
