//! IANA time zone names, checked against the bundled time zone database.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An IANA time zone name known to the bundled time zone database (`Asia/Kolkata`).
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "Asia/Kolkata")]
pub struct TimeZoneName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not an IANA time zone name (such as Asia/Kolkata)")]
pub struct TimeZoneError;

impl TimeZoneName {
    pub fn parse(input: &str) -> Result<TimeZoneName, TimeZoneError> {
        let input = input.trim();
        if input.is_empty() || input.len() > 64 {
            return Err(TimeZoneError);
        }
        let zone = jiff::tz::TimeZone::get(input).map_err(|_| TimeZoneError)?;
        // Keep the canonical spelling of the name the database knows it by.
        let name = zone.iana_name().unwrap_or(input).to_owned();
        Ok(TimeZoneName(name))
    }

    pub fn india() -> TimeZoneName {
        TimeZoneName("Asia/Kolkata".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn zone(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.0).unwrap_or(jiff::tz::TimeZone::UTC)
    }
}

impl TryFrom<String> for TimeZoneName {
    type Error = TimeZoneError;
    fn try_from(value: String) -> Result<Self, TimeZoneError> {
        TimeZoneName::parse(&value)
    }
}

impl From<TimeZoneName> for String {
    fn from(zone: TimeZoneName) -> String {
        zone.0
    }
}

impl fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeZoneName({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_zones_only() {
        assert_eq!(
            TimeZoneName::parse("Asia/Kolkata").unwrap().as_str(),
            "Asia/Kolkata"
        );
        assert!(TimeZoneName::parse("America/New_York").is_ok());
        assert!(TimeZoneName::parse("Mars/Olympus").is_err());
        assert!(TimeZoneName::parse("").is_err());
    }
}
