//! Sessions this process has lately found open. Every authenticated request
//! must know that its session has not ended; without this, that is one store
//! read per request, the largest cost of a small read such as a one-lead page.
//!
//! A session found open is trusted for a few seconds. Ending a session in this
//! process (sign-out, a replayed refresh token, a deactivation or role change)
//! forgets it at once, so the next request here is refused; another process
//! (another Lambda instance) refuses it within [`KEEP_FOR`]. The expiry is
//! checked on every request against the application clock.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use soraaya_domain::{OrgId, SessionId, UserId};

/// How long a session found open is trusted without reading it again.
pub const KEEP_FOR: Duration = Duration::from_secs(5);

/// Most sessions kept; past it, the stale ones go, then all of them.
const MOST_SESSIONS: usize = 10_000;

#[derive(Default)]
pub struct SessionCache {
    open: RwLock<HashMap<SessionId, Open>>,
    /// Bumped whenever a session ends here, so that a read which raced with
    /// the ending is not remembered as open.
    endings: AtomicU64,
}

struct Open {
    org: OrgId,
    user: UserId,
    /// Unix seconds.
    expires_at: i64,
    seen: Instant,
}

impl SessionCache {
    /// Whether the session was found open lately and has not expired by `now` (Unix seconds).
    pub fn is_open(&self, org: OrgId, user: UserId, session: SessionId, now: i64) -> bool {
        self.open.read().is_ok_and(|open| {
            open.get(&session).is_some_and(|s| {
                s.org == org && s.user == user && s.expires_at > now && s.seen.elapsed() < KEEP_FOR
            })
        })
    }

    /// A mark to take before reading a session from the store, for [`Self::remember`].
    pub fn mark(&self) -> u64 {
        self.endings.load(Ordering::Acquire)
    }

    /// Records a session read from the store and found open, unless a session
    /// ended here since `mark` was taken (the read may predate the ending).
    pub fn remember(
        &self,
        mark: u64,
        org: OrgId,
        user: UserId,
        session: SessionId,
        expires_at: i64,
    ) {
        let Ok(mut open) = self.open.write() else {
            return;
        };
        if self.endings.load(Ordering::Acquire) != mark {
            return;
        }
        if open.len() >= MOST_SESSIONS {
            open.retain(|_, s| s.seen.elapsed() < KEEP_FOR);
            if open.len() >= MOST_SESSIONS {
                open.clear();
            }
        }
        let seen = Instant::now();
        open.insert(
            session,
            Open {
                org,
                user,
                expires_at,
                seen,
            },
        );
    }

    /// Forgets a session that has just ended.
    pub fn forget(&self, session: SessionId) {
        if let Ok(mut open) = self.open.write() {
            self.endings.fetch_add(1, Ordering::AcqRel);
            open.remove(&session);
        }
    }

    /// Forgets every session of a user whose sessions have just ended.
    pub fn forget_user(&self, org: OrgId, user: UserId) {
        if let Ok(mut open) = self.open.write() {
            self.endings.fetch_add(1, Ordering::AcqRel);
            open.retain(|_, s| s.org != org || s.user != user);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_open_session_is_trusted_until_it_expires_or_is_forgotten() {
        let cache = SessionCache::default();
        let (org, user, session) = (OrgId::new(), UserId::new(), SessionId::new());
        assert!(!cache.is_open(org, user, session, 100), "unknown");
        cache.remember(cache.mark(), org, user, session, 200);
        assert!(cache.is_open(org, user, session, 100));
        assert!(!cache.is_open(org, user, session, 200), "expired");
        assert!(
            !cache.is_open(OrgId::new(), user, session, 100),
            "another organisation's"
        );
        cache.forget(session);
        assert!(!cache.is_open(org, user, session, 100), "ended");
        cache.remember(cache.mark(), org, user, session, 200);
        let other = SessionId::new();
        cache.remember(cache.mark(), org, UserId::new(), other, 200);
        cache.forget_user(org, user);
        assert!(
            !cache.is_open(org, user, session, 100),
            "the user's sessions ended"
        );
        assert!(
            cache.open.read().unwrap().contains_key(&other),
            "others stay"
        );
    }

    #[test]
    fn a_read_that_raced_with_an_ending_is_not_remembered() {
        let cache = SessionCache::default();
        let (org, user, session) = (OrgId::new(), UserId::new(), SessionId::new());
        let mark = cache.mark();
        // The store said open; meanwhile the session was ended here.
        cache.forget(session);
        cache.remember(mark, org, user, session, 200);
        assert!(!cache.is_open(org, user, session, 100));
    }
}
