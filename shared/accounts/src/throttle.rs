//! Login throttling, in the store so that it holds across Lambda instances.
//! A login attempt counts against three limits, each a sliding window of 15
//! minutes:
//!
//! - the client address: at most 30 failed attempts, over any accounts (one
//!   machine guessing many accounts);
//! - the account from that address: at most 5 (one machine guessing one
//!   account);
//! - the account from anywhere: at most 100, a ceiling far above what one
//!   address may try, so that a stranger cannot lock the owner out from
//!   another address, while guessing from many addresses stays slow.
//!
//! An attempt is counted *before* the password is checked, so parallel
//! guesses cannot slip past a limit; a successful sign-in takes its attempt
//! back (and clears the account-from-address count). Without a known address
//! (a test's in-process request) only the account limits apply.
//!
//! Password reset requests have limits of their own, in the same windows:
//! 10 from one address, and 3 links sent to one account.

use std::net::IpAddr;
use std::time::Duration;

use jiff::Timestamp;
use soraaya_domain::Email;
use soraaya_store::StoreError;

use crate::repo::{AccountsRepo, ThrottleRecord};

pub(super) const WINDOW_SECONDS: i64 = 15 * 60;

/// What an attempt is counted against.
#[derive(Debug, Clone, Copy)]
pub(super) enum Scope<'a> {
    Client(IpAddr),
    AccountFromClient(&'a Email, Option<IpAddr>),
    Account(&'a Email),
    /// Password reset requests from one address, for any accounts.
    ResetFromClient(IpAddr),
    /// Password reset links sent to one account.
    ResetFor(&'a Email),
}

impl Scope<'_> {
    /// Failed attempts allowed in the window.
    pub(super) fn limit(self) -> usize {
        match self {
            Scope::Client(_) => 30,
            Scope::AccountFromClient(..) => 5,
            Scope::Account(_) => 100,
            Scope::ResetFromClient(_) => 10,
            Scope::ResetFor(_) => 3,
        }
    }

    /// The throttle record's partition.
    pub(super) fn partition(self) -> String {
        match self {
            Scope::Client(ip) => format!("LOGIN_CLIENT#{ip}"),
            Scope::AccountFromClient(email, Some(ip)) => format!("LOGIN#{email}#FROM#{ip}"),
            Scope::AccountFromClient(email, None) => format!("LOGIN#{email}"),
            Scope::Account(email) => format!("LOGIN_ALL#{email}"),
            Scope::ResetFromClient(ip) => format!("RESET_CLIENT#{ip}"),
            Scope::ResetFor(email) => format!("RESET#{email}"),
        }
    }
}

/// The outcome of asking to attempt a login.
pub(super) enum Attempt {
    /// Counted against these scopes; hand them back to [`succeeded`].
    Allowed(Reserved),
    /// Too many recent failures; try again after this long.
    Refused(Duration),
}

/// The attempt as counted, to take back if it succeeds.
pub(super) struct Reserved {
    at: i64,
}

fn scopes(email: &Email, client: Option<IpAddr>) -> Vec<Scope<'_>> {
    let mut scopes = Vec::with_capacity(3);
    if let Some(ip) = client {
        scopes.push(Scope::Client(ip));
    }
    scopes.push(Scope::AccountFromClient(email, client));
    scopes.push(Scope::Account(email));
    scopes
}

/// Counts an attempt against every scope, the client's first: a refused
/// client does not use up the account's allowance.
pub(super) async fn reserve_attempt(
    repo: &AccountsRepo<'_>,
    email: &Email,
    client: Option<IpAddr>,
    now: Timestamp,
) -> Result<Attempt, StoreError> {
    let now = now.as_second();
    for scope in scopes(email, client) {
        if let Some(wait) = reserve(repo, scope, now).await? {
            return Ok(Attempt::Refused(wait));
        }
    }
    Ok(Attempt::Allowed(Reserved { at: now }))
}

/// Counts one attempt in `scope`, or says how long until it may be tried.
pub(super) async fn reserve(
    repo: &AccountsRepo<'_>,
    scope: Scope<'_>,
    now: i64,
) -> Result<Option<Duration>, StoreError> {
    let limit = scope.limit();
    loop {
        let current = repo.throttle(scope).await?;
        let expected_version = current.as_ref().map_or(0, |r| r.version);
        let mut attempts: Vec<i64> = current
            .map(|r| r.attempts)
            .unwrap_or_default()
            .into_iter()
            .filter(|at| *at > now - WINDOW_SECONDS)
            .collect();
        if attempts.len() >= limit {
            // Allowed again once the oldest of the last `limit` leaves the window.
            let oldest = attempts[attempts.len() - limit];
            let wait = (oldest + WINDOW_SECONDS - now).max(1);
            return Ok(Some(Duration::from_secs(wait.unsigned_abs())));
        }
        attempts.push(now);
        let record = ThrottleRecord {
            attempts,
            version: expected_version + 1,
            expires_at: now + WINDOW_SECONDS,
        };
        match repo.save_throttle(scope, &record, expected_version).await {
            Ok(()) => return Ok(None),
            // Another attempt counted itself first; count again.
            Err(StoreError::Conflict { .. }) => continue,
            Err(err) => return Err(err),
        }
    }
}

/// A sign-in succeeded: its attempt is not a failure. The account from this
/// address starts afresh; the client and the account ceiling keep the other
/// attempts they counted.
pub(super) async fn succeeded(
    repo: &AccountsRepo<'_>,
    email: &Email,
    client: Option<IpAddr>,
    reserved: Reserved,
) -> Result<(), StoreError> {
    for scope in scopes(email, client) {
        match scope {
            Scope::AccountFromClient(..) => repo.clear_throttle(scope).await?,
            _ => take_back(repo, scope, reserved.at).await?,
        }
    }
    Ok(())
}

async fn take_back(repo: &AccountsRepo<'_>, scope: Scope<'_>, at: i64) -> Result<(), StoreError> {
    loop {
        let Some(current) = repo.throttle(scope).await? else {
            return Ok(());
        };
        let mut attempts = current.attempts;
        let Some(position) = attempts.iter().rposition(|t| *t == at) else {
            return Ok(());
        };
        attempts.remove(position);
        let record = ThrottleRecord {
            attempts,
            version: current.version + 1,
            expires_at: current.expires_at,
        };
        match repo.save_throttle(scope, &record, current.version).await {
            Ok(()) => return Ok(()),
            Err(StoreError::Conflict { .. }) => continue,
            Err(err) => return Err(err),
        }
    }
}
