//! Says where the grader is, for `cargo test -p chNN-slug`.
//!
//! A chapter's starter (`chNN-slug`) and its reference answer (`chNN-slug-solution`) hold no
//! grader: the grader is the package `chNN` (tests/chNN). Every starter and solution lists
//! this file as a test target named `the_grader_is_cargo_test_p_chNN`, so that running the
//! wrong package says so instead of showing only the unit tests' green result.
//!
//! The note is written to the process's standard error directly: libtest captures only
//! `print!` and `eprint!`, so the note shows on a passing run too. The test always passes, as
//! `cargo test --workspace` runs it.

use std::io::Write as _;

#[test]
fn this_package_is_not_its_grader() {
    let package = env!("CARGO_PKG_NAME");
    let id = package.get(..4).unwrap_or(package);
    let note = if package.ends_with("-solution") {
        format!(
            "note: {package} is a reference answer, not its grader: grade it with \
             `cargo test -p {id} --features solution`\n"
        )
    } else {
        format!(
            "note: {package} is your code, not its grader: grade it with `cargo lab check {id}` \
             (or `cargo test -p {id}`)\n"
        )
    };
    let _ = std::io::stderr().write_all(note.as_bytes());
}
