//! The clock port: the system clock in production, a hand-moved one in tests.

use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// The system clock set forward or back by a fixed amount: lets a local demo
/// run inside calling hours whatever the time of day. Never used deployed.
#[derive(Debug, Clone, Copy)]
pub struct ShiftedClock(SignedDuration);

impl ShiftedClock {
    /// A clock that reads `start` now and runs on from there.
    pub fn starting_at(start: Timestamp) -> Self {
        ShiftedClock(start.duration_since(Timestamp::now()))
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> Timestamp {
        let now = Timestamp::now();
        now.checked_add(self.0).unwrap_or(now)
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn at(start: Timestamp) -> Self {
        ManualClock(Mutex::new(start))
    }

    pub fn advance(&self, by: SignedDuration) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *now = now.saturating_add(by).unwrap_or(*now);
    }

    pub fn set(&self, to: Timestamp) {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
