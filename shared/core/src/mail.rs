//! The email port: messages to people (a password reset link, a digest of
//! urgent notifications). On AWS, Amazon SES; locally an outbox of files in
//! the data directory that `soraaya outbox` lists and tests read.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// One message, written as plain text and as HTML, sent in an
/// organisation's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// Shown as the sender's name: the organisation the message is from.
    pub from_name: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("no mail service is configured")]
    Unconfigured,
    #[error("the mail service refused the message: {0}")]
    Refused(String),
    #[error("the mail service failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl MailError {
    pub fn backend(err: impl std::error::Error + Send + Sync + 'static) -> MailError {
        MailError::Backend(Box::new(err))
    }
}

#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

/// Mail for functions that send none.
pub struct NoMailer;

#[async_trait]
impl Mailer for NoMailer {
    async fn send(&self, _: &Mail) -> Result<(), MailError> {
        Err(MailError::Unconfigured)
    }
}

/// `text` made safe inside HTML elements and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// The display form of a sender: `"Name" <address>` with the name's quotes
/// and backslashes escaped and line breaks dropped (RFC 5322 quoted string),
/// so no name can add a header.
pub fn sender(name: &str, address: &str) -> String {
    let mut quoted = String::with_capacity(name.len() + address.len() + 4);
    quoted.push('"');
    for c in name.chars().filter(|c| !c.is_control()) {
        if matches!(c, '"' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push_str("\" <");
    quoted.push_str(address);
    quoted.push('>');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_and_sender_names_cannot_inject() {
        assert_eq!(
            escape_html(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
        assert_eq!(
            sender("Acme \"Homes\"\r\nBcc: x@y", "no-reply@soraaya.app"),
            r#""Acme \"Homes\"Bcc: x@y" <no-reply@soraaya.app>"#
        );
    }
}
