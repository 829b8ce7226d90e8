//! Phone numbers in E.164 and the regions they are read in.

use std::fmt;
use std::str::FromStr;

use phonenumber::country;
use serde::{Deserialize, Serialize};

/// A country or region, as its ISO 3166-1 alpha-2 code (`IN`, `US`, `AE`...).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "IN")]
pub struct Region(country::Id);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not a known country code (two letters, such as IN or US)")]
pub struct RegionError;

impl Region {
    pub const INDIA: Region = Region(country::Id::IN);
    pub const UNITED_STATES: Region = Region(country::Id::US);

    pub fn parse(code: &str) -> Result<Region, RegionError> {
        let code = code.trim().to_ascii_uppercase();
        if code.len() != 2 {
            return Err(RegionError);
        }
        country::Id::from_str(&code)
            .map(Region)
            .map_err(|_| RegionError)
    }
}

impl TryFrom<String> for Region {
    type Error = RegionError;
    fn try_from(value: String) -> Result<Self, RegionError> {
        Region::parse(&value)
    }
}

impl From<Region> for String {
    fn from(region: Region) -> String {
        region.to_string()
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_ref())
    }
}

impl fmt::Debug for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Region({})", self.0.as_ref())
    }
}

/// A diallable phone number in E.164 form (`+919820012345`).
//
// People's input becomes a `Phone` through [`Phone::parse`], which applies
// the numbering plan of the number's country. Deserialising reads what was
// stored in that form back and checks its shape only (`+` and 8 to 15
// digits, the first not 0): re-applying the numbering plan on every read of
// a stored lead cost more than a quarter of a lead listing's CPU.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(into = "String")]
#[schema(value_type = String, example = "+919820012345")]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("is required")]
    Empty,
    #[error("is not a phone number")]
    Unparseable,
    #[error("is not a valid number for its country")]
    Invalid,
}

impl Phone {
    /// Parses a number as people write it; numbers without a country code are
    /// read as numbers of `default_region`.
    pub fn parse(input: &str, default_region: Region) -> Result<Phone, PhoneError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        if trimmed.len() > 40 {
            return Err(PhoneError::Unparseable);
        }
        let number = phonenumber::parse(Some(default_region.0), trimmed)
            .map_err(|_| PhoneError::Unparseable)?;
        if !phonenumber::is_valid(&number) {
            return Err(PhoneError::Invalid);
        }
        let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
        Ok(Phone(e164))
    }

    /// Parses a number that must carry its country code.
    pub fn parse_international(input: &str) -> Result<Phone, PhoneError> {
        if !input.trim_start().starts_with('+') {
            return Err(PhoneError::Unparseable);
        }
        Phone::parse(input, Region::INDIA)
    }

    /// Takes text already in E.164 form, as [`Phone::parse`] wrote it.
    pub fn from_e164(text: &str) -> Result<Phone, PhoneError> {
        let digits = text.strip_prefix('+').ok_or(PhoneError::Unparseable)?;
        let shaped = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if shaped {
            Ok(Phone(text.to_owned()))
        } else {
            Err(PhoneError::Unparseable)
        }
    }

    /// The E.164 text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The country the number belongs to.
    pub fn region(&self) -> Option<Region> {
        phonenumber::parse(None, &self.0)
            .ok()
            .and_then(|number| number.country().id())
            .map(Region)
    }

    pub fn masked(&self) -> String {
        crate::mask::phone(&self.0)
    }

    /// The digits after the country code (`9820012345` for `+919820012345`).
    pub fn national_digits(&self) -> String {
        phonenumber::parse(None, &self.0)
            .map(|number| number.national().value().to_string())
            .unwrap_or_default()
    }
}

impl TryFrom<String> for Phone {
    type Error = PhoneError;
    fn try_from(value: String) -> Result<Self, PhoneError> {
        Phone::parse_international(&value)
    }
}

impl<'de> Deserialize<'de> for Phone {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct E164;
        impl serde::de::Visitor<'_> for E164 {
            type Value = Phone;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a phone number in E.164 form")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Phone, E> {
                Phone::from_e164(text).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(E164)
    }
}

impl From<Phone> for String {
    fn from(phone: Phone) -> String {
        phone.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indian_formats_normalise_to_e164() {
        for input in [
            "98200 12345",
            "+91-98200-12345",
            "098200 12345",
            "+91 98200 12345",
            "0091 9820012345",
            "919820012345",
        ] {
            assert_eq!(
                Phone::parse(input, Region::INDIA).map(|p| p.to_string()),
                Ok("+919820012345".to_owned()),
                "{input}"
            );
        }
    }

    #[test]
    fn default_region_applies_to_national_numbers() {
        let us = Phone::parse("(415) 555-0100", Region::UNITED_STATES).unwrap();
        assert_eq!(us.as_str(), "+14155550100");
        assert_eq!(us.national_digits(), "4155550100");
        assert_eq!(us.region(), Some(Region::UNITED_STATES));
        let uk = Phone::parse("+44 20 7946 0958", Region::INDIA).unwrap();
        assert_eq!(uk.region().map(|r| r.to_string()), Some("GB".to_owned()));
    }

    #[test]
    fn rejects_non_numbers() {
        assert_eq!(Phone::parse("", Region::INDIA), Err(PhoneError::Empty));
        assert_eq!(
            Phone::parse("call me", Region::INDIA),
            Err(PhoneError::Unparseable)
        );
        assert_eq!(
            Phone::parse("12345", Region::INDIA),
            Err(PhoneError::Invalid)
        );
        assert!(
            Phone::try_from("9820012345".to_owned()).is_err(),
            "stored numbers carry +"
        );
    }

    #[test]
    fn stored_numbers_read_back_by_their_shape() {
        let phone: Phone = serde_json::from_str("\"+919820012345\"").unwrap();
        assert_eq!(phone.as_str(), "+919820012345");
        for bad in [
            "\"9820012345\"",
            "\"+91 98200 12345\"",
            "\"+0123456789\"",
            "\"+1234\"",
            "12",
        ] {
            assert!(serde_json::from_str::<Phone>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn regions() {
        assert_eq!(Region::parse("in"), Ok(Region::INDIA));
        assert_eq!(Region::parse("XX"), Err(RegionError));
        assert_eq!(Region::INDIA.to_string(), "IN");
    }
}
