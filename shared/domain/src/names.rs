//! Human-entered names and labels: trimmed, bounded, free of control characters.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("is required")]
    Empty,
    #[error("is longer than {0} characters")]
    TooLong(usize),
    #[error("contains control characters")]
    ControlCharacters,
}

fn clean(input: &str, max: usize) -> Result<String, NameError> {
    let collapsed = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return Err(NameError::Empty);
    }
    if collapsed.chars().count() > max {
        return Err(NameError::TooLong(max));
    }
    if collapsed.chars().any(char::is_control) {
        return Err(NameError::ControlCharacters);
    }
    Ok(collapsed)
}

macro_rules! name_type {
    ($(#[$meta:meta])* $name:ident, $max:expr, $example:expr) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(try_from = "String", into = "String")]
        #[schema(value_type = String, example = $example)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            /// Trims and collapses whitespace; refuses empty, over-long or control text.
            pub fn parse(input: &str) -> Result<Self, NameError> {
                clean(input, $max).map($name)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = NameError;
            fn try_from(value: String) -> Result<Self, NameError> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(name: $name) -> String {
                name.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_type!(
    /// A person's full name.
    PersonName, 120, "Asha Kapoor"
);
name_type!(
    /// An organisation's display name.
    OrgName, 120, "Skyline Estates"
);

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let initial: String = self.0.chars().take(1).collect();
        write!(f, "PersonName({initial}***)")
    }
}

impl fmt::Debug for OrgName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrgName({})", self.0)
    }
}

/// A new password that meets the policy. Never printed, never serialised.
#[derive(Clone)]
pub struct Password(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("must be at least {0} characters")]
    TooShort(usize),
    #[error("must be at most {0} characters")]
    TooLong(usize),
    #[error("is one of the most common passwords; choose one nobody would guess")]
    Common,
    #[error("must not be the email address")]
    IsTheEmail,
}

/// Common passwords long enough to pass the length rule, lower-cased, one
/// per line (from zxcvbn's list of leaked passwords; `infra/vendor-common-passwords.sh`).
const COMMON_PASSWORDS: &str = include_str!("../common-passwords.txt");

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(input: &str) -> Result<Password, PasswordError> {
        let chars = input.chars().count();
        if chars < Self::MIN_CHARS || input.trim().is_empty() {
            return Err(PasswordError::TooShort(Self::MIN_CHARS));
        }
        if chars > Self::MAX_CHARS {
            return Err(PasswordError::TooLong(Self::MAX_CHARS));
        }
        Ok(Password(input.to_owned()))
    }

    /// A new password for the account of `email`: long enough, not the
    /// email (or its name before the `@`), not a common password.
    pub fn for_account(input: &str, email: &crate::Email) -> Result<Password, PasswordError> {
        let password = Password::parse(input)?;
        let lower = input.trim().to_lowercase();
        let address = email.as_str().to_lowercase();
        let name = address.split('@').next().unwrap_or_default();
        if lower == address || lower == name {
            return Err(PasswordError::IsTheEmail);
        }
        if COMMON_PASSWORDS.lines().any(|common| common == lower) {
            return Err(PasswordError::Common);
        }
        Ok(password)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_passwords_are_long_not_the_email_and_not_common() {
        let email = crate::Email::parse("asha.rao@skyline.in").unwrap();
        assert!(Password::for_account("sea-facing-4bhk", &email).is_ok());
        assert_eq!(
            Password::for_account("short", &email).unwrap_err(),
            PasswordError::TooShort(10)
        );
        assert_eq!(
            Password::for_account("Asha.Rao@Skyline.in", &email).unwrap_err(),
            PasswordError::IsTheEmail
        );
        assert_eq!(
            Password::for_account("asha.rao@x", &crate::Email::parse("asha.rao@x.in").unwrap())
                .map(|_| ()),
            Ok(()),
            "only the whole name before the @ is refused"
        );
        for common in ["Password123", "qwertyuiop", "1234567890"] {
            assert_eq!(
                Password::for_account(common, &email).unwrap_err(),
                PasswordError::Common,
                "{common}"
            );
        }
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(
            PersonName::parse("  Asha   Kapoor ").unwrap().as_str(),
            "Asha Kapoor"
        );
        assert_eq!(PersonName::parse(" \t "), Err(NameError::Empty));
        assert_eq!(
            PersonName::parse(&"x".repeat(121)),
            Err(NameError::TooLong(120))
        );
        assert_eq!(OrgName::parse("A\u{7}B"), Err(NameError::ControlCharacters));
    }

    #[test]
    fn password_policy() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("          ").is_err());
        assert!(Password::parse("long enough pass").is_ok());
        assert_eq!(
            format!("{:?}", Password::parse("long enough pass").unwrap()),
            "Password(***)"
        );
    }
}
