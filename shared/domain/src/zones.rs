//! Time zones of countries, to place a lead in time from its phone number.

use crate::{Region, TimeZoneName};

/// Zones of the countries Soraaya's customers sell to (India and the NRI
/// markets). Several zones: the lead's hours are those legal in all of them.
const COUNTRY_ZONES: &[(&str, &[&str])] = &[
    ("IN", &["Asia/Kolkata"]),
    ("AE", &["Asia/Dubai"]),
    ("SA", &["Asia/Riyadh"]),
    ("QA", &["Asia/Qatar"]),
    ("KW", &["Asia/Kuwait"]),
    ("OM", &["Asia/Muscat"]),
    ("BH", &["Asia/Bahrain"]),
    ("SG", &["Asia/Singapore"]),
    ("HK", &["Asia/Hong_Kong"]),
    ("MY", &["Asia/Kuala_Lumpur"]),
    ("TH", &["Asia/Bangkok"]),
    ("JP", &["Asia/Tokyo"]),
    ("LK", &["Asia/Colombo"]),
    ("NP", &["Asia/Kathmandu"]),
    ("BD", &["Asia/Dhaka"]),
    ("GB", &["Europe/London"]),
    ("IE", &["Europe/Dublin"]),
    ("DE", &["Europe/Berlin"]),
    ("FR", &["Europe/Paris"]),
    ("NL", &["Europe/Amsterdam"]),
    ("CH", &["Europe/Zurich"]),
    ("IT", &["Europe/Rome"]),
    ("ES", &["Europe/Madrid"]),
    ("ZA", &["Africa/Johannesburg"]),
    ("KE", &["Africa/Nairobi"]),
    ("NG", &["Africa/Lagos"]),
    ("MU", &["Indian/Mauritius"]),
    ("NZ", &["Pacific/Auckland"]),
    (
        "US",
        &[
            "America/New_York",
            "America/Chicago",
            "America/Denver",
            "America/Phoenix",
            "America/Los_Angeles",
            "America/Anchorage",
            "Pacific/Honolulu",
        ],
    ),
    (
        "CA",
        &[
            "America/St_Johns",
            "America/Halifax",
            "America/Toronto",
            "America/Winnipeg",
            "America/Edmonton",
            "America/Vancouver",
        ],
    ),
    (
        "AU",
        &[
            "Australia/Sydney",
            "Australia/Brisbane",
            "Australia/Adelaide",
            "Australia/Darwin",
            "Australia/Perth",
        ],
    ),
];

/// The zones of a country, if known.
pub fn zones_of(region: Region) -> Option<Vec<TimeZoneName>> {
    let code = region.to_string();
    COUNTRY_ZONES
        .iter()
        .find(|(country, _)| *country == code)
        .map(|(_, zones)| {
            zones
                .iter()
                .filter_map(|zone| TimeZoneName::parse(zone).ok())
                .collect()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_zone_exists() {
        for (country, zones) in COUNTRY_ZONES {
            let region = Region::parse(country).unwrap();
            assert_eq!(zones_of(region).unwrap().len(), zones.len(), "{country}");
        }
        assert_eq!(zones_of(Region::INDIA).unwrap()[0].as_str(), "Asia/Kolkata");
        assert!(zones_of(Region::parse("FJ").unwrap()).is_none());
    }
}
