//! Which usernames are acceptable: checked at the boundary, before anything else sees them.

use std::fmt;

/// The longest username, in characters.
pub const MAX_NAME: usize = 32;

/// Why a username was refused; `Display` gives the exact line the client is sent.
///
/// Keep as is: the grader checks these lines exactly.
#[derive(Debug, PartialEq, Eq)]
pub enum NameError {
    Empty,
    Invalid,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => write!(f, "error: username can't be empty"),
            NameError::Invalid => write!(
                f,
                "error: username may only contain letters, digits, '_' and '-' (max {MAX_NAME})"
            ),
        }
    }
}

/// Accepts 1 to 32 ASCII letters, digits, `_` and `-`: nothing that could pass for punctuation
/// in a chat line, break a terminal, or look like somebody else's name in another script.
pub fn validate_name(name: &str) -> Result<(), NameError> {
    // TODO(ch05): Decide whether `name` is acceptable, as the doc comment above defines it;
    // the two ways to refuse it are the two `NameError`s. Book: Validation at the boundary.
    let _ = name;
    todo!("ch05: check the username (book: Validation at the boundary)")
}
