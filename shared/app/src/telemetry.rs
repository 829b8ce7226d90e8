//! Logging set-up shared by every binary: JSON lines on stdout, with email
//! addresses and phone numbers masked in every line whatever logged them.

use std::io::{self, Write};
use std::sync::LazyLock;

use regex::Regex;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Installs the global subscriber. `RUST_LOG` filters (default `info`);
/// `SORAAYA_LOG_FORMAT=text` prints human-readable lines instead of JSON.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(RedactingStdout);
    let result = if std::env::var("SORAAYA_LOG_FORMAT").as_deref() == Ok("text") {
        builder.compact().try_init()
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    };
    // A second call (tests, or a binary that already initialised) keeps the first.
    drop(result);
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b([a-z0-9])[a-z0-9._%+-]*@([a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,})\b")
        .expect("email pattern compiles")
});

static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\+(\d{2})\d{4,11}(\d{3})\b").expect("phone pattern compiles"));

/// Masks email addresses (`a***@example.com`) and E.164 phone numbers (`+91*******345`).
pub fn redact(line: &str) -> String {
    let line = EMAIL.replace_all(line, "$1***@$2");
    PHONE
        .replace_all(&line, |caps: &regex::Captures<'_>| {
            let hidden = caps[0].len() - 1 - caps[1].len() - caps[2].len();
            format!("+{}{}{}", &caps[1], "*".repeat(hidden), &caps[2])
        })
        .into_owned()
}

/// Standard output, redacted. Each formatted event arrives in one write.
#[derive(Clone, Copy)]
struct RedactingStdout;

struct RedactingWriter;

impl Write for RedactingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        io::stdout().lock().write_all(redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stdout().flush()
    }
}

impl<'a> MakeWriter<'a> for RedactingStdout {
    type Writer = RedactingWriter;
    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn masks_personal_data_but_not_timestamps_or_ids() {
        let line = r#"{"msg":"login","email":"Asha.K@example.co.in","phone":"+919820012345","at":"2026-11-23T10:00:00Z","id":"01936f3a-1111-7000-8000-000000000000","expires":1767225600}"#;
        let out = redact(line);
        assert!(out.contains(r#""email":"A***@example.co.in""#), "{out}");
        assert!(out.contains(r#""phone":"+91*******345""#), "{out}");
        assert!(out.contains("2026-11-23T10:00:00Z"));
        assert!(out.contains("01936f3a-1111-7000-8000-000000000000"));
        assert!(out.contains("1767225600"));
    }
}
