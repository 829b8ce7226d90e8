//! When a lead may be called: the campaign's daily window within the legal
//! window of the number's country (India 09-21, US 08-21, elsewhere 09-21), in
//! the lead's own zone — and, for a country of several zones whose lead's zone
//! is only guessed, in every zone of that country.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::{Region, TimeZoneName, TimezoneSource, zones};

/// A time of day on the local clock, written `HH:MM`.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "10:00")]
pub struct ClockTime(Time);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not a time of day (use HH:MM, such as 10:00 or 19:30)")]
pub struct ClockTimeError;

impl ClockTime {
    pub const fn hm(hour: i8, minute: i8) -> ClockTime {
        ClockTime(Time::constant(hour, minute, 0, 0))
    }

    pub fn time(self) -> Time {
        self.0
    }
}

impl FromStr for ClockTime {
    type Err = ClockTimeError;
    fn from_str(text: &str) -> Result<Self, ClockTimeError> {
        let (hour, minute) = text.trim().split_once(':').ok_or(ClockTimeError)?;
        let hour: i8 = hour.parse().map_err(|_| ClockTimeError)?;
        let minute: i8 = minute.parse().map_err(|_| ClockTimeError)?;
        if hour == 24 && minute == 0 {
            return Ok(ClockTime(Time::MAX));
        }
        Time::new(hour, minute, 0, 0)
            .map(ClockTime)
            .map_err(|_| ClockTimeError)
    }
}

impl TryFrom<String> for ClockTime {
    type Error = ClockTimeError;
    fn try_from(value: String) -> Result<Self, ClockTimeError> {
        value.parse()
    }
}

impl From<ClockTime> for String {
    fn from(time: ClockTime) -> String {
        time.to_string()
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == Time::MAX {
            return f.write_str("24:00");
        }
        write!(f, "{:02}:{:02}", self.0.hour(), self.0.minute())
    }
}

impl fmt::Debug for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClockTime({self})")
    }
}

/// A daily window on the local clock, from `start` (included) to `end` (excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DailyWindow {
    pub start: ClockTime,
    pub end: ClockTime,
}

impl DailyWindow {
    pub const fn new(start: ClockTime, end: ClockTime) -> Self {
        DailyWindow { start, end }
    }

    /// The hours both windows allow, if any.
    pub fn intersect(self, other: DailyWindow) -> Option<DailyWindow> {
        let window = DailyWindow::new(self.start.max(other.start), self.end.min(other.end));
        (window.start < window.end).then_some(window)
    }

    pub fn contains(self, time: Time) -> bool {
        self.start.time() <= time && time < self.end.time()
    }
}

/// The hours the law allows calling a number of a country, in its local time.
pub fn legal_window(region: Option<Region>) -> DailyWindow {
    match region {
        Some(region) if region == Region::UNITED_STATES => {
            DailyWindow::new(ClockTime::hm(8, 0), ClockTime::hm(21, 0))
        }
        _ => DailyWindow::new(ClockTime::hm(9, 0), ClockTime::hm(21, 0)),
    }
}

/// When one lead may be called.
#[derive(Debug, Clone)]
pub struct CallingHours {
    zones: Vec<TimeZone>,
    window: DailyWindow,
}

impl CallingHours {
    /// `None` when the campaign window and the legal window do not overlap.
    pub fn for_lead(
        zone: &TimeZoneName,
        source: TimezoneSource,
        number_region: Option<Region>,
        campaign: DailyWindow,
    ) -> Option<CallingHours> {
        let window = campaign.intersect(legal_window(number_region))?;
        let zones = match (source, number_region.and_then(zones::zones_of)) {
            (TimezoneSource::PhoneCountryMultiZone, Some(all)) if !all.is_empty() => {
                all.iter().map(TimeZoneName::zone).collect()
            }
            _ => vec![zone.zone()],
        };
        Some(CallingHours { zones, window })
    }

    pub fn window(&self) -> DailyWindow {
        self.window
    }

    /// Whether calling is allowed at `at` in every zone that applies.
    pub fn open_at(&self, at: Timestamp) -> bool {
        self.zones
            .iter()
            .all(|zone| self.window.contains(zone.to_datetime(at).time()))
    }

    /// The first moment at or after `at` when calling is allowed.
    pub fn next_opening(&self, at: Timestamp) -> Option<Timestamp> {
        if self.open_at(at) {
            return Some(at);
        }
        // Openings are where some zone's window starts; try each, in order.
        let mut candidates: Vec<Timestamp> = Vec::new();
        for zone in &self.zones {
            let today: Date = zone.to_datetime(at).date();
            for days in -1..=8 {
                let Ok(day) = today.checked_add(SignedDuration::from_hours(24 * days)) else {
                    continue;
                };
                let start = DateTime::from_parts(day, self.window.start.time());
                if let Ok(instant) = zone.to_timestamp(start)
                    && instant > at
                {
                    candidates.push(instant);
                }
            }
        }
        candidates.sort();
        candidates.into_iter().find(|c| self.open_at(*c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn window(start: &str, end: &str) -> DailyWindow {
        DailyWindow::new(start.parse().unwrap(), end.parse().unwrap())
    }

    #[test]
    fn india_keeps_to_nine_to_nine_within_the_campaign_window() {
        let hours = CallingHours::for_lead(
            &TimeZoneName::india(),
            TimezoneSource::PhoneCountry,
            Some(Region::INDIA),
            window("08:00", "22:00"),
        )
        .unwrap();
        assert_eq!(hours.window(), window("09:00", "21:00"));
        // 03:00 UTC is 08:30 IST: too early; opens at 09:00 IST (03:30 UTC).
        assert!(!hours.open_at(at("2026-11-24T03:00:00Z")));
        assert_eq!(
            hours.next_opening(at("2026-11-24T03:00:00Z")),
            Some(at("2026-11-24T03:30:00Z"))
        );
        assert!(hours.open_at(at("2026-11-24T15:29:00Z")));
        // 21:00 IST closes; the next opening is tomorrow 09:00 IST.
        assert!(!hours.open_at(at("2026-11-24T15:30:00Z")));
        assert_eq!(
            hours.next_opening(at("2026-11-24T15:30:00Z")),
            Some(at("2026-11-25T03:30:00Z"))
        );
    }

    #[test]
    fn a_guessed_us_zone_keeps_to_hours_legal_from_coast_to_coast() {
        let us = CallingHours::for_lead(
            &TimeZoneName::parse("America/New_York").unwrap(),
            TimezoneSource::PhoneCountryMultiZone,
            Some(Region::UNITED_STATES),
            window("08:00", "21:00"),
        )
        .unwrap();
        // 14:00 UTC is 09:00 in New York but 04:00 in Honolulu: closed.
        assert!(!us.open_at(at("2026-11-24T14:00:00Z")));
        // 18:00 in Honolulu (04:00 UTC next day) is 23:00 in New York: closed too.
        assert!(!us.open_at(at("2026-11-25T04:00:00Z")));
        let open = us.next_opening(at("2026-11-24T14:00:00Z")).unwrap();
        for zone in [
            "America/New_York",
            "America/Los_Angeles",
            "Pacific/Honolulu",
            "America/Anchorage",
        ] {
            let local = TimeZone::get(zone).unwrap().to_datetime(open).time();
            assert!(
                (Time::constant(8, 0, 0, 0)..Time::constant(21, 0, 0, 0)).contains(&local),
                "{zone} {local}"
            );
        }
        // Given explicitly, the lead's own zone is enough.
        let given = CallingHours::for_lead(
            &TimeZoneName::parse("America/New_York").unwrap(),
            TimezoneSource::Given,
            Some(Region::UNITED_STATES),
            window("08:00", "21:00"),
        )
        .unwrap();
        assert!(given.open_at(at("2026-11-24T14:00:00Z")));
    }

    #[test]
    fn windows_that_do_not_overlap_allow_nothing() {
        assert!(
            CallingHours::for_lead(
                &TimeZoneName::india(),
                TimezoneSource::PhoneCountry,
                Some(Region::INDIA),
                window("21:30", "23:00")
            )
            .is_none()
        );
        assert_eq!("24:00".parse::<ClockTime>().unwrap().to_string(), "24:00");
        assert!("25:00".parse::<ClockTime>().is_err());
        assert!("9am".parse::<ClockTime>().is_err());
    }
}
