//! Moments as people write them in sheets and say them on calls: RFC 3339, or
//! a local date and time read in a given zone.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};

use crate::TimeZoneName;

/// A moment, as written in a sheet: RFC 3339 (`2026-11-24T15:00:00+05:30`), or a
/// local date and time in `zone` (`2026-11-24 15:00`, `24/11/2026 3:00 pm`,
/// `2026-11-24`).
pub fn parse_moment(text: &str, zone: &TimeZoneName) -> Result<Timestamp, String> {
    let text = text.trim();
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(at);
    }
    let lower = text.to_ascii_lowercase();
    let (date_part, time_part) = match lower.split_once([' ', 'T', 't']) {
        Some((d, t)) => (d, Some(t.trim())),
        None => (lower.as_str(), None),
    };
    let date = parse_date(date_part).ok_or("is not a date (use 2026-11-24 15:00 or 24/11/2026)")?;
    let time = match time_part {
        None => Time::midnight(),
        Some(t) => parse_time(t).ok_or("has a time that is not HH:MM")?,
    };
    zone.zone()
        .to_timestamp(DateTime::from_parts(date, time))
        .map_err(|e| e.to_string())
}

/// The end of a period as written: a moment as [`parse_moment`] reads it,
/// or, for a date alone, the last instant of that day in `zone` (whatever
/// the day's length: 23 or 25 hours on daylight-saving days).
pub fn parse_until(text: &str, zone: &TimeZoneName) -> Result<Timestamp, String> {
    let lower = text.trim().to_ascii_lowercase();
    if lower.contains([' ', 't']) {
        return parse_moment(text, zone);
    }
    let date = parse_date(&lower).ok_or("is not a date (use 2026-11-24 15:00 or 24/11/2026)")?;
    let next_day = date.tomorrow().map_err(|e| e.to_string())?;
    let next_start = zone
        .zone()
        .to_timestamp(next_day.to_datetime(Time::midnight()))
        .map_err(|e| e.to_string())?;
    next_start
        .checked_sub(jiff::SignedDuration::from_micros(1))
        .map_err(|e| e.to_string())
}

fn parse_date(text: &str) -> Option<Date> {
    if let Ok(date) = text.parse::<Date>() {
        return Some(date);
    }
    // Day first, as Indian sheets write dates.
    let parts: Vec<&str> = text.split(['/', '-', '.']).collect();
    if let [d, m, y] = parts.as_slice() {
        let (d, m, y) = (d.parse().ok()?, m.parse().ok()?, y.parse::<i16>().ok()?);
        let y = if y < 100 { 2000 + y } else { y };
        return Date::new(y, m, d).ok();
    }
    None
}

fn parse_time(text: &str) -> Option<Time> {
    let (clock, meridiem) = if let Some(rest) = text.strip_suffix("am") {
        (rest.trim(), Some(false))
    } else if let Some(rest) = text.strip_suffix("pm") {
        (rest.trim(), Some(true))
    } else {
        (text, None)
    };
    let mut parts = clock.split(':');
    let mut hour: i8 = parts.next()?.trim().parse().ok()?;
    let minute: i8 = parts.next().unwrap_or("0").trim().parse().ok()?;
    let second: i8 = parts
        .next()
        .unwrap_or("0")
        .trim()
        .trim_end_matches('z')
        .parse()
        .ok()?;
    match meridiem {
        Some(pm) if (1..=12).contains(&hour) => {
            hour %= 12;
            if pm {
                hour += 12;
            }
        }
        Some(_) => return None,
        None => {}
    }
    Time::new(hour, minute, second, 0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_in_the_leads_zone() {
        let zone = TimeZoneName::india();
        let at = |t| parse_moment(t, &zone).map(|ts| ts.to_string());
        assert_eq!(at("2026-11-24 15:00").unwrap(), "2026-11-24T09:30:00Z");
        assert_eq!(at("24/11/2026 3:00 pm").unwrap(), "2026-11-24T09:30:00Z");
        assert_eq!(
            at("2026-11-24T15:00:00+05:30").unwrap(),
            "2026-11-24T09:30:00Z"
        );
        assert_eq!(at("2026-11-24").unwrap(), "2026-11-23T18:30:00Z");
        assert!(at("next tuesday").is_err());
        assert!(at("2026-11-24 25:00").is_err());
    }

    #[test]
    fn a_date_alone_runs_to_the_end_of_that_local_day() {
        let india = TimeZoneName::india();
        let until = |t, zone| parse_until(t, zone).map(|ts| ts.to_string());
        assert_eq!(
            until("2026-11-24", &india).unwrap(),
            "2026-11-24T18:29:59.999999Z"
        );
        // London's clocks go forward on 2026-03-29: a day of 23 hours.
        let london = TimeZoneName::parse("Europe/London").unwrap();
        assert_eq!(
            until("2026-03-29", &london).unwrap(),
            "2026-03-29T22:59:59.999999Z"
        );
        assert_eq!(
            until("2026-03-28", &london).unwrap(),
            "2026-03-28T23:59:59.999999Z"
        );
        assert_eq!(
            until("2026-11-24 15:00", &india).unwrap(),
            "2026-11-24T09:30:00Z"
        );
        assert!(until("someday", &india).is_err());
    }
}
