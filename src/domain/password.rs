//! Rules for a new password (OWASP ASVS 2.1: length over composition rules).

/// A password that meets the rules for new passwords. Never logged.
#[derive(Clone)]
pub struct NewPassword(String);

/// Why a new password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Use at least 10 characters.")]
    TooShort,
    #[error("Use at most 128 characters.")]
    TooLong,
    #[error("The two passwords do not match.")]
    Mismatch,
}

impl NewPassword {
    /// Checks a new password and its confirmation.
    pub fn parse(password: &str, confirmation: &str) -> Result<Self, PasswordError> {
        let length = password.chars().count();
        if length < 10 {
            return Err(PasswordError::TooShort);
        }
        if length > 128 {
            return Err(PasswordError::TooLong);
        }
        if password != confirmation {
            return Err(PasswordError::Mismatch);
        }
        Ok(Self(password.to_owned()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(**redacted**)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_and_confirmation_are_checked() {
        assert!(NewPassword::parse("correct horse", "correct horse").is_ok());
        assert_eq!(NewPassword::parse("short", "short").err(), Some(PasswordError::TooShort));
        let long = "x".repeat(129);
        assert_eq!(NewPassword::parse(&long, &long).err(), Some(PasswordError::TooLong));
        assert_eq!(NewPassword::parse("correct horse", "correct house").err(), Some(PasswordError::Mismatch));
    }

    #[test]
    fn debug_output_hides_the_password() {
        let password = NewPassword::parse("correct horse", "correct horse").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }
}
