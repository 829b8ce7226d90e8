//! Email addresses, checked and normalised once at the edge.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An email address, trimmed and lower-cased (addresses are compared without case).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, format = Email, example = "asha@example.com")]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("is required")]
    Empty,
    #[error("is longer than 254 characters")]
    TooLong,
    #[error("is not a valid email address")]
    Invalid,
}

impl Email {
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.len() > 254 {
            return Err(EmailError::TooLong);
        }
        // Display names ("Asha <a@b.com>") and quoted local parts are not accepted.
        if trimmed.contains(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"')) {
            return Err(EmailError::Invalid);
        }
        let address =
            email_address::EmailAddress::from_str(trimmed).map_err(|_| EmailError::Invalid)?;
        if !address.domain().contains('.') {
            return Err(EmailError::Invalid);
        }
        Ok(Email(trimmed.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        crate::mask::email(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = EmailError;
    fn try_from(value: String) -> Result<Self, EmailError> {
        Email::parse(&value)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> String {
        email.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_validates() {
        assert_eq!(
            Email::parse("  Asha.K@Example.COM ").unwrap().as_str(),
            "asha.k@example.com"
        );
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
        for bad in [
            "asha",
            "asha@",
            "@example.com",
            "asha@localhost",
            "Asha <a@b.com>",
            "a b@c.com",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Invalid), "{bad}");
        }
    }

    #[test]
    fn debug_masks() {
        let email = Email::parse("asha@example.com").unwrap();
        assert_eq!(format!("{email:?}"), "Email(a***@example.com)");
    }
}
