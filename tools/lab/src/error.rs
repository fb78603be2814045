//! The tool's one error type: `error: <doing what>: <cause>`, and a hint where one helps.

use std::fmt;

/// What went wrong, in the words the learner reads.
#[derive(Debug)]
pub struct Error {
    /// What the tool was doing, as in "reading book/src/hints/ch05.md".
    pub doing: String,
    /// Why it failed.
    pub cause: String,
    /// What to try next, if anything helps.
    pub hint: Option<String>,
}

/// The tool's result type.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error while `doing` something, because of `cause`.
    pub fn new(doing: impl Into<String>, cause: impl fmt::Display) -> Error {
        Error {
            doing: doing.into(),
            cause: cause.to_string(),
            hint: None,
        }
    }

    /// Adds what to try next.
    pub fn hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }
}

/// Turns any error into an [`Error`] that says what was being done.
pub trait Doing<T> {
    /// Names what was being done when the error happened.
    fn doing(self, doing: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: fmt::Display> Doing<T> for std::result::Result<T, E> {
    fn doing(self, doing: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|err| Error::new(doing(), err))
    }
}
