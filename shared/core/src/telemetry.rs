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

/// Anything that may be a phone number as people write one: an optional `+`
/// or `(`, then digits with spaces, dots, dashes or brackets between them.
/// Candidates are then judged by [`mask_phone`].
static PHONE_LIKE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[+(]?\d[\d ().-]{5,22}\d").expect("phone pattern compiles"));

/// Masks email addresses (`a***@example.com`) and phone numbers in every
/// common format (`+91*******345`, `098*****345`, `(41*) ***-*100`), leaving
/// timestamps, dates, ids and other numbers alone.
pub fn redact(line: &str) -> String {
    let line = EMAIL.replace_all(line, "$1***@$2");
    let mut out = String::with_capacity(line.len());
    let mut last = 0;
    for candidate in PHONE_LIKE.find_iter(&line) {
        if let Some(masked) = mask_phone(&line, candidate.start(), candidate.end()) {
            out.push_str(&line[last..candidate.start()]);
            out.push_str(&masked);
            last = candidate.end();
        }
    }
    out.push_str(&line[last..]);
    out
}

/// The masked form of `line[start..end]` if it reads as a phone number:
/// 10 to 15 digits (8 or more after a `+`), standing alone (not part of an
/// id, a decimal or a longer number), and not a date or an epoch time.
fn mask_phone(line: &str, start: usize, end: usize) -> Option<String> {
    let text = line[start..end].trim_end_matches([' ', '.', '-', '(']);
    let before = line[..start].chars().next_back();
    let after = line[start + text.len()..].chars().next();
    let glued =
        |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(c));
    if glued(before) || glued(after) {
        return None;
    }
    let digits = text.chars().filter(char::is_ascii_digit).count();
    let international = text.starts_with('+');
    let enough = if international {
        (8..=15).contains(&digits)
    } else {
        (10..=15).contains(&digits)
    };
    // Epoch seconds and milliseconds (until 2033) begin with 1; no national
    // number of ten or more digits does.
    let epoch_like =
        !international && text.chars().all(|c| c.is_ascii_digit()) && text.starts_with('1');
    // A date such as 2026-11-23 or 23.11.2026 has fewer digits, but a date
    // and time such as 2026-11-23 10 may reach ten: dates have 4-2-2 or 2-2-4 groups.
    let groups: Vec<usize> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .map(str::len)
        .collect();
    let first_separator = text
        .trim_start_matches(|c: char| c.is_ascii_digit())
        .chars()
        .next();
    let date_like = !international
        && first_separator.is_some_and(|c| "-/.".contains(c))
        && (groups.starts_with(&[4, 2, 2]) || groups.starts_with(&[2, 2, 4]));
    let address_like = groups.len() == 4
        && groups.iter().all(|g| *g <= 3)
        && text.chars().all(|c| c.is_ascii_digit() || c == '.');
    if !enough || epoch_like || date_like || address_like {
        return None;
    }
    // Keep the first two and the last three digits.
    let mut seen = 0;
    let masked: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen <= 2 || seen > digits - 3 {
                    c
                } else {
                    '*'
                }
            } else {
                c
            }
        })
        .collect();
    Some(masked)
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
    fn masks_phone_numbers_in_every_common_format() {
        for (given, masked) in [
            ("+919820012345", "+91*******345"),
            ("+91 98200 12345", "+91 ***** **345"),
            ("098200 12345", "09**** **345"),
            ("9820012345", "98*****345"),
            ("(415) 555-0100", "(41*) ***-*100"),
            ("415.555.0100", "41*.***.*100"),
            ("+44 20 7946 0958", "+44 ** **** *958"),
            ("91-98200-12345", "91-*****-**345"),
        ] {
            let line = format!(r#"{{"msg":"call","to":"{given}","n":1}}"#);
            let out = redact(&line);
            assert!(out.contains(masked), "{given}: {out}");
            assert!(!out.contains(given), "{given}: {out}");
        }
    }

    #[test]
    fn leaves_numbers_that_are_not_phones_alone() {
        for kept in [
            "2026-11-23T10:00:00.123456Z",
            "2026-11-23 10:00",
            "01936f3a-1111-7000-8000-000000000000",
            "1767225600",
            "1767225600123",
            "v1.2.3",
            "12.50",
            "42",
            "192.168.100.200",
            "latency_ms 1234567",
        ] {
            assert!(redact(kept).contains(kept), "{kept}: {}", redact(kept));
        }
    }

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
