//! Chapter 6: not written yet.

/// Not written yet: says so and fails.
pub fn main() -> std::process::ExitCode {
    eprintln!("error: chapter 6 is not written yet");
    std::process::ExitCode::FAILURE
}
