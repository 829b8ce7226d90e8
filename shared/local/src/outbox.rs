//! Email on one machine: each message a JSON file in `data_dir/outbox`,
//! named by when it was sent so that a listing is in order. `soraaya
//! outbox` prints them; tests read them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use soraaya_core::Clock;
use soraaya_core::mail::{Mail, MailError, Mailer};

/// A message the outbox holds, and when it was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMail {
    pub sent_at: Timestamp,
    #[serde(flatten)]
    pub mail: Mail,
}

impl SentMail {
    /// The first link in the text that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> Option<&str> {
        let start = self.mail.text.find(prefix)?;
        let rest = &self.mail.text[start..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        Some(&rest[..end])
    }
}

/// A directory of sent messages.
pub struct Outbox {
    dir: PathBuf,
    clock: Arc<dyn Clock>,
}

/// Where `soraaya serve` keeps its outbox.
pub fn outbox_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("outbox")
}

impl Outbox {
    pub fn new(dir: impl Into<PathBuf>, clock: Arc<dyn Clock>) -> Outbox {
        Outbox {
            dir: dir.into(),
            clock,
        }
    }

    /// Every message, oldest first (none when the directory does not exist).
    pub fn messages(&self) -> std::io::Result<Vec<SentMail>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err),
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        let mut messages = Vec::with_capacity(paths.len());
        for path in paths {
            let bytes = std::fs::read(&path)?;
            match serde_json::from_slice(&bytes) {
                Ok(message) => messages.push(message),
                Err(err) => {
                    tracing::warn!(path = %path.display(), error = %err, "not a message; skipped")
                }
            }
        }
        Ok(messages)
    }

    /// The messages sent to `to`, oldest first.
    pub fn to(&self, to: &str) -> std::io::Result<Vec<SentMail>> {
        Ok(self
            .messages()?
            .into_iter()
            .filter(|m| m.mail.to.eq_ignore_ascii_case(to))
            .collect())
    }
}

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let sent = SentMail {
            sent_at: self.clock.now(),
            mail: mail.clone(),
        };
        let name = format!(
            "{}-{}.json",
            sent.sent_at.strftime("%Y%m%dT%H%M%S%.6fZ"),
            uuid::Uuid::now_v7().simple()
        );
        let dir = self.dir.clone();
        let bytes = serde_json::to_vec_pretty(&sent).map_err(MailError::backend)?;
        // Written aside and renamed, so a reader never sees half a message.
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            let partial = dir.join(format!(".{name}.partial"));
            std::fs::write(&partial, bytes)?;
            std::fs::rename(&partial, dir.join(&name))
        })
        .await
        .map_err(MailError::backend)?
        .map_err(MailError::backend)?;
        tracing::info!(subject = %mail.subject, "email written to the local outbox");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use soraaya_core::ManualClock;

    #[tokio::test]
    async fn messages_come_back_in_the_order_sent() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::at("2026-12-01T10:00:00Z".parse().unwrap()));
        let outbox = Outbox::new(dir.path().join("outbox"), clock.clone());
        assert!(outbox.messages().unwrap().is_empty());
        for (i, to) in ["a@x.in", "b@x.in", "A@x.in"].iter().enumerate() {
            outbox
                .send(&Mail {
                    to: (*to).to_owned(),
                    from_name: "Skyline".into(),
                    subject: format!("message {i}"),
                    text: format!("open https://soraaya.test/reset-password?token=t{i} now"),
                    html: String::new(),
                })
                .await
                .unwrap();
            clock.advance(jiff::SignedDuration::from_secs(1));
        }
        let all = outbox.messages().unwrap();
        let subjects: Vec<&str> = all.iter().map(|m| m.mail.subject.as_str()).collect();
        assert_eq!(subjects, ["message 0", "message 1", "message 2"]);
        let to_a = outbox.to("a@x.in").unwrap();
        assert_eq!(to_a.len(), 2);
        assert_eq!(
            to_a[1].link("https://soraaya.test/reset-password"),
            Some("https://soraaya.test/reset-password?token=t2")
        );
    }
}
