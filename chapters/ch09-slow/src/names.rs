//! Which usernames are acceptable: checked at the boundary, before anything else sees them.

use std::fmt;

/// The longest username, in characters.
pub const MAX_NAME: usize = 32;

/// Why a username was refused; `Display` gives the exact line the client is sent.
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
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if name.len() > MAX_NAME || !name.chars().all(allowed) {
        return Err(NameError::Invalid);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_letters_digits_underscore_and_dash() {
        assert_eq!(validate_name("alice_B-42"), Ok(()));
        assert_eq!(validate_name(&"x".repeat(MAX_NAME)), Ok(()));
    }

    #[test]
    fn refuses_empty_long_spaced_and_escaped_names() {
        assert_eq!(validate_name(""), Err(NameError::Empty));
        assert_eq!(
            validate_name(&"x".repeat(MAX_NAME + 1)),
            Err(NameError::Invalid)
        );
        assert_eq!(validate_name("bob smith"), Err(NameError::Invalid));
        assert_eq!(validate_name("\x1b[31mbob"), Err(NameError::Invalid));
        assert_eq!(validate_name("zoë"), Err(NameError::Invalid));
    }
}
