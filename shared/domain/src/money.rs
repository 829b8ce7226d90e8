//! Indian rupee amounts, read and written the way Indian property buyers do:
//! `₹3.2 Cr`, `85 lakh`, `3,20,00,000`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount of Indian rupees, in whole rupees (property prices never need paise).
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(transparent)]
#[schema(value_type = u64, example = 32000000)]
pub struct Inr(u64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("is required")]
    Empty,
    #[error("is not an amount (try 3.2 Cr, 85 lakh or 3,20,00,000)")]
    Unparseable,
    #[error("has an unknown unit {0:?} (use Cr, crore, L, lakh or K)")]
    UnknownUnit(String),
    #[error("is too large")]
    TooLarge,
}

pub const LAKH: u64 = 100_000;
pub const CRORE: u64 = 10_000_000;

impl Inr {
    pub const ZERO: Inr = Inr(0);

    pub const fn rupees(rupees: u64) -> Inr {
        Inr(rupees)
    }

    pub const fn as_rupees(&self) -> u64 {
        self.0
    }

    /// `n` lakh, with `n` in hundredths (so `lakh_hundredths(850)` is 8.5 lakh).
    pub const fn lakh_hundredths(hundredths: u64) -> Inr {
        Inr(hundredths * (LAKH / 100))
    }

    /// `n` crore, with `n` in hundredths (so `crore_hundredths(320)` is ₹3.2 Cr).
    pub const fn crore_hundredths(hundredths: u64) -> Inr {
        Inr(hundredths * (CRORE / 100))
    }

    /// Parses one amount: `₹3.2 Cr`, `45 crore`, `85 lakh`, `Rs. 3,20,00,000`, `50L`, `1.5 cr`.
    pub fn parse(input: &str) -> Result<Inr, MoneyError> {
        let text = input.trim().to_lowercase().replace('₹', " ");
        let mut text = text.trim();
        for prefix in ["inr", "rs.", "rs", "rupees"] {
            if let Some(rest) = text.strip_prefix(prefix) {
                text = rest.trim_start();
                break;
            }
        }
        for suffix in ["/-", "only", "rupees", "rupee", "inr"] {
            if let Some(rest) = text.strip_suffix(suffix) {
                text = rest.trim_end();
            }
        }
        if text.is_empty() {
            return Err(MoneyError::Empty);
        }
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.' || c == ' '))
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let unit = unit.trim().trim_end_matches('.');
        let multiplier = match unit {
            "" => 1,
            "k" | "thousand" => 1_000,
            "l" | "lk" | "lac" | "lacs" | "lakh" | "lakhs" => LAKH,
            "c" | "cr" | "crs" | "crore" | "crores" => CRORE,
            "m" | "mn" | "million" => 1_000_000,
            "b" | "bn" | "billion" => 1_000_000_000,
            other => return Err(MoneyError::UnknownUnit(other.to_owned())),
        };
        let number: String = number.chars().filter(|c| *c != ' ').collect();
        let (whole, fraction) = match number.split_once('.') {
            Some((whole, fraction)) => (whole, fraction),
            None => (number.as_str(), ""),
        };
        if !valid_grouping(whole) || !fraction.chars().all(|c| c.is_ascii_digit()) {
            return Err(MoneyError::Unparseable);
        }
        let whole: String = whole.chars().filter(char::is_ascii_digit).collect();
        if whole.is_empty() && fraction.is_empty() {
            return Err(MoneyError::Unparseable);
        }
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| MoneyError::TooLarge)?
        };
        // Up to 9 fractional digits matter; beyond that they are below a rupee.
        let fraction = &fraction[..fraction.len().min(9)];
        let scale = 10u128.pow(u32::try_from(fraction.len()).unwrap_or(0));
        let fraction: u128 = if fraction.is_empty() {
            0
        } else {
            fraction.parse().map_err(|_| MoneyError::Unparseable)?
        };
        let multiplier = u128::from(multiplier);
        let rupees = whole
            .checked_mul(multiplier)
            .and_then(|w| w.checked_add((fraction * multiplier + scale / 2) / scale))
            .ok_or(MoneyError::TooLarge)?;
        u64::try_from(rupees)
            .map(Inr)
            .map_err(|_| MoneyError::TooLarge)
    }

    /// The short form used on screens and by the voice agent: `₹3.2 Cr`, `₹85 L`, `₹45,000`.
    pub fn compact(&self) -> String {
        let in_units = |unit: u64, suffix: &str| {
            let hundredths = (u128::from(self.0) * 100 + u128::from(unit) / 2) / u128::from(unit);
            let (whole, part) = (hundredths / 100, hundredths % 100);
            match part {
                0 => format!("₹{whole} {suffix}"),
                p if p % 10 == 0 => format!("₹{whole}.{} {suffix}", p / 10),
                p => format!("₹{whole}.{p:02} {suffix}"),
            }
        };
        if self.0 >= CRORE {
            in_units(CRORE, "Cr")
        } else if self.0 >= LAKH {
            in_units(LAKH, "L")
        } else {
            self.to_string()
        }
    }

    pub fn checked_add(self, other: Inr) -> Option<Inr> {
        self.0.checked_add(other.0).map(Inr)
    }
}

/// A budget: a minimum, a maximum, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BudgetRange {
    pub min: Option<Inr>,
    pub max: Option<Inr>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    #[error("{0}")]
    Amount(#[from] MoneyError),
    #[error("has a minimum above its maximum")]
    Inverted,
}

impl BudgetRange {
    /// Reads `₹3.2 Cr`, `2.5-3 Cr`, `50L - 1.2 Cr`, `3 to 5 crore`, `above 10 Cr`,
    /// `10 Cr+`, `under 5 Cr`. A single amount is both minimum and maximum; in a
    /// range, a unit written only at the end applies to both ends.
    pub fn parse(input: &str) -> Result<BudgetRange, BudgetError> {
        let text = input.trim().to_lowercase().replace(['–', '—'], "-");
        let text = text.trim();
        if text.is_empty() {
            return Err(MoneyError::Empty.into());
        }
        for prefix in [
            "above ",
            "over ",
            "more than ",
            "min ",
            "minimum ",
            "from ",
            "starting ",
        ] {
            if let Some(rest) = text.strip_prefix(prefix) {
                return Ok(BudgetRange {
                    min: Some(Inr::parse(rest)?),
                    max: None,
                });
            }
        }
        if let Some(rest) = text.strip_suffix('+') {
            return Ok(BudgetRange {
                min: Some(Inr::parse(rest)?),
                max: None,
            });
        }
        for prefix in [
            "under ",
            "below ",
            "upto ",
            "up to ",
            "less than ",
            "max ",
            "maximum ",
            "within ",
        ] {
            if let Some(rest) = text.strip_prefix(prefix) {
                return Ok(BudgetRange {
                    min: None,
                    max: Some(Inr::parse(rest)?),
                });
            }
        }
        let parts: Vec<&str> = if let Some((low, high)) = text.split_once(" to ") {
            vec![low, high]
        } else {
            text.splitn(2, '-').collect()
        };
        match parts.as_slice() {
            [single] => {
                let amount = Inr::parse(single)?;
                Ok(BudgetRange {
                    min: Some(amount),
                    max: Some(amount),
                })
            }
            [low, high] => {
                let high_amount = Inr::parse(high)?;
                let low_amount = match Inr::parse(low) {
                    // "2.5-3 Cr": the low end borrows the unit of the high end.
                    Ok(amount) if amount.as_rupees() < 1_000 => {
                        Inr::parse(&format!("{} {}", low.trim(), unit_of(high)))?
                    }
                    Ok(amount) => amount,
                    Err(err) => return Err(err.into()),
                };
                if low_amount > high_amount {
                    return Err(BudgetError::Inverted);
                }
                Ok(BudgetRange {
                    min: Some(low_amount),
                    max: Some(high_amount),
                })
            }
            _ => Err(MoneyError::Unparseable.into()),
        }
    }

    /// `₹3.2 Cr`, `₹2.5 Cr - ₹3 Cr`, `above ₹10 Cr`, `up to ₹5 Cr`.
    pub fn describe(&self) -> String {
        match (self.min, self.max) {
            (Some(min), Some(max)) if min == max => min.compact(),
            (Some(min), Some(max)) => format!("{} - {}", min.compact(), max.compact()),
            (Some(min), None) => format!("above {}", min.compact()),
            (None, Some(max)) => format!("up to {}", max.compact()),
            (None, None) => String::new(),
        }
    }
}

/// The unit word at the end of an amount (`cr` in `3 cr`).
fn unit_of(amount: &str) -> &str {
    let trimmed = amount.trim().trim_end_matches('.');
    let start = trimmed
        .rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ' || c == ',')
        .map_or(0, |i| i + 1);
    &trimmed[start..]
}

/// Commas, if any, must group digits the Indian way (…,XX,XX,XXX) or the
/// international way (…,XXX,XXX); `3,2` is refused rather than guessed.
fn valid_grouping(whole: &str) -> bool {
    if !whole.chars().all(|c| c.is_ascii_digit() || c == ',') {
        return false;
    }
    let groups: Vec<&str> = whole.split(',').collect();
    if groups.len() == 1 {
        return true;
    }
    let (first, rest) = groups
        .split_first()
        .expect("split yields at least one group");
    let (last, middle) = rest.split_last().expect("more than one group");
    let indian = middle.iter().all(|g| g.len() == 2);
    let international = middle.iter().all(|g| g.len() == 3);
    !first.is_empty() && first.len() <= 3 && last.len() == 3 && (indian || international)
}

/// Indian digit grouping: `₹3,20,00,000`.
impl fmt::Display for Inr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.to_string();
        if digits.len() <= 3 {
            return write!(f, "₹{digits}");
        }
        let (head, last3) = digits.split_at(digits.len() - 3);
        let mut groups = Vec::new();
        let mut rest = head;
        while rest.len() > 2 {
            let (more, pair) = rest.split_at(rest.len() - 2);
            groups.push(pair);
            rest = more;
        }
        groups.push(rest);
        groups.reverse();
        write!(f, "₹{},{last3}", groups.join(","))
    }
}

impl fmt::Debug for Inr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Inr({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_ways_people_write_amounts() {
        let cases = [
            ("₹3.2 Cr", 32_000_000),
            ("45 crore", 450_000_000),
            ("45 Crores", 450_000_000),
            ("85 lakh", 8_500_000),
            ("85L", 8_500_000),
            ("8.5 lacs", 850_000),
            ("3,20,00,000", 32_000_000),
            ("Rs. 3,20,00,000/-", 32_000_000),
            ("INR 1.25 Cr", 12_500_000),
            ("32,000,000", 32_000_000),
            ("45000", 45_000),
            ("75k", 75_000),
            ("₹ 2.5 cr.", 25_000_000),
            (".5 cr", 5_000_000),
        ];
        for (input, rupees) in cases {
            assert_eq!(Inr::parse(input), Ok(Inr::rupees(rupees)), "{input}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert_eq!(Inr::parse(""), Err(MoneyError::Empty));
        assert_eq!(Inr::parse("₹"), Err(MoneyError::Empty));
        assert_eq!(Inr::parse("3,2 Cr"), Err(MoneyError::Unparseable));
        assert_eq!(
            Inr::parse("lots"),
            Err(MoneyError::UnknownUnit("lots".into()))
        );
        assert_eq!(
            Inr::parse("3 bananas"),
            Err(MoneyError::UnknownUnit("bananas".into()))
        );
        assert_eq!(Inr::parse("1.2.3"), Err(MoneyError::Unparseable));
        assert_eq!(
            Inr::parse("99999999999999999999999 cr"),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn budget_ranges() {
        let cr = |h: u64| Some(Inr::crore_hundredths(h));
        let range = |text: &str| BudgetRange::parse(text).unwrap();
        assert_eq!(
            range("₹3.2 Cr"),
            BudgetRange {
                min: cr(320),
                max: cr(320)
            }
        );
        assert_eq!(
            range("2.5-3 Cr"),
            BudgetRange {
                min: cr(250),
                max: cr(300)
            }
        );
        assert_eq!(
            range("2.5 – 3 crore"),
            BudgetRange {
                min: cr(250),
                max: cr(300)
            }
        );
        assert_eq!(
            range("50L - 1.2 Cr"),
            BudgetRange {
                min: Some(Inr::rupees(5_000_000)),
                max: cr(120)
            }
        );
        assert_eq!(
            range("3 to 5 crore"),
            BudgetRange {
                min: cr(300),
                max: cr(500)
            }
        );
        assert_eq!(
            range("Above 10 Cr"),
            BudgetRange {
                min: cr(1000),
                max: None
            }
        );
        assert_eq!(
            range("10 Cr+"),
            BudgetRange {
                min: cr(1000),
                max: None
            }
        );
        assert_eq!(
            range("under 5 cr"),
            BudgetRange {
                min: None,
                max: cr(500)
            }
        );
        assert_eq!(
            range("3,20,00,000"),
            BudgetRange {
                min: cr(320),
                max: cr(320)
            }
        );
        assert_eq!(BudgetRange::parse("5-3 Cr"), Err(BudgetError::Inverted));
        assert!(BudgetRange::parse("lots").is_err());
        assert_eq!(range("2.5-3 Cr").describe(), "₹2.5 Cr - ₹3 Cr");
    }

    #[test]
    fn prints_indian_grouping_and_compact_forms() {
        assert_eq!(Inr::rupees(32_000_000).to_string(), "₹3,20,00,000");
        assert_eq!(Inr::rupees(450_000_000).to_string(), "₹45,00,00,000");
        assert_eq!(Inr::rupees(45_000).to_string(), "₹45,000");
        assert_eq!(Inr::rupees(999).to_string(), "₹999");
        assert_eq!(Inr::rupees(32_000_000).compact(), "₹3.2 Cr");
        assert_eq!(Inr::rupees(450_000_000).compact(), "₹45 Cr");
        assert_eq!(Inr::rupees(8_500_000).compact(), "₹85 L");
        assert_eq!(Inr::rupees(12_500_000).compact(), "₹1.25 Cr");
        assert_eq!(Inr::rupees(45_000).compact(), "₹45,000");
        assert_eq!(Inr::crore_hundredths(320), Inr::rupees(32_000_000));
    }
}
