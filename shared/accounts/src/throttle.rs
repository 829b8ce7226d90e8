//! Login throttling: at most 5 failed attempts per email address in any 15
//! minutes. An attempt is counted *before* the password is checked and the
//! count is cleared on success, so parallel guesses cannot slip past the limit.

use std::time::Duration;

use jiff::Timestamp;
use soraaya_domain::Email;
use soraaya_store::StoreError;

use crate::repo::{AccountsRepo, ThrottleRecord};

pub(super) const MAX_FAILURES: usize = 5;
pub(super) const WINDOW_SECONDS: i64 = 15 * 60;

/// The outcome of asking to attempt a login.
pub(super) enum Attempt {
    Allowed,
    /// Too many recent failures; try again after this long.
    Refused(Duration),
}

pub(super) async fn reserve_attempt(
    repo: &AccountsRepo<'_>,
    email: &Email,
    now: Timestamp,
) -> Result<Attempt, StoreError> {
    let now = now.as_second();
    loop {
        let current = repo.throttle(email).await?;
        let expected_version = current.as_ref().map_or(0, |r| r.version);
        let mut attempts: Vec<i64> = current
            .map(|r| r.attempts)
            .unwrap_or_default()
            .into_iter()
            .filter(|at| *at > now - WINDOW_SECONDS)
            .collect();
        if attempts.len() >= MAX_FAILURES {
            // Allowed again once the oldest of the last five leaves the window.
            let oldest = attempts[attempts.len() - MAX_FAILURES];
            let wait = (oldest + WINDOW_SECONDS - now).max(1);
            return Ok(Attempt::Refused(Duration::from_secs(wait.unsigned_abs())));
        }
        attempts.push(now);
        let record = ThrottleRecord {
            attempts,
            version: expected_version + 1,
            expires_at: now + WINDOW_SECONDS,
        };
        match repo.save_throttle(email, &record, expected_version).await {
            Ok(()) => return Ok(Attempt::Allowed),
            // Another attempt counted itself first; count again.
            Err(StoreError::Conflict { .. }) => continue,
            Err(err) => return Err(err),
        }
    }
}

pub(super) async fn clear(repo: &AccountsRepo<'_>, email: &Email) -> Result<(), StoreError> {
    repo.clear_throttle(email).await
}
