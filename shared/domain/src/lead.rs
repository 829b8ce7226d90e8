//! Leads: the people a sales team wants to qualify, and the vocabularies that
//! describe them. Parsers accept the spellings sales teams actually use.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    CampaignId, Email, Inr, LeadId, LeadStatus, OrgId, PersonName, PersonaId, Phone, TimeZoneName,
    Timestamp, TranscriptId, UserId,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be one of: {allowed}")]
pub struct ChoiceError {
    pub allowed: &'static str,
}

fn key(text: &str) -> String {
    text.trim()
        .to_ascii_lowercase()
        .replace(['-', ' ', '.'], "_")
}

/// How urgently a lead should be worked.
#[derive(
    Debug,
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
    ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    High,
    #[default]
    Medium,
    Low,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::High, Priority::Medium, Priority::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Medium => "medium",
            Priority::Low => "low",
        }
    }

    pub fn parse(text: &str) -> Result<Priority, ChoiceError> {
        match key(text).as_str() {
            "high" | "h" | "urgent" | "hot" | "1" => Ok(Priority::High),
            "medium" | "m" | "normal" | "warm" | "2" => Ok(Priority::Medium),
            "low" | "l" | "cold" | "3" => Ok(Priority::Low),
            _ => Err(ChoiceError {
                allowed: "high, medium, low",
            }),
        }
    }

    /// Sort rank, high first.
    pub fn rank(self) -> u8 {
        match self {
            Priority::High => 0,
            Priority::Medium => 1,
            Priority::Low => 2,
        }
    }
}

/// The kind of property a lead is interested in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PropertyType {
    Apartment,
    Penthouse,
    Villa,
    Bungalow,
    Duplex,
    RowHouse,
    Farmhouse,
    Plot,
    Commercial,
    Other,
}

impl PropertyType {
    const ALLOWED: &'static str = "apartment, penthouse, villa, bungalow, duplex, row_house, farmhouse, plot, commercial, other";

    pub fn as_str(self) -> &'static str {
        match self {
            PropertyType::Apartment => "apartment",
            PropertyType::Penthouse => "penthouse",
            PropertyType::Villa => "villa",
            PropertyType::Bungalow => "bungalow",
            PropertyType::Duplex => "duplex",
            PropertyType::RowHouse => "row_house",
            PropertyType::Farmhouse => "farmhouse",
            PropertyType::Plot => "plot",
            PropertyType::Commercial => "commercial",
            PropertyType::Other => "other",
        }
    }

    /// Reads a type from how listings describe it ("Sea-facing 4BHK flat" is an apartment).
    pub fn parse(text: &str) -> Result<PropertyType, ChoiceError> {
        let t = key(text);
        let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
        let found = if has(&["penthouse"]) {
            PropertyType::Penthouse
        } else if has(&["villa"]) {
            PropertyType::Villa
        } else if has(&["bungalow"]) {
            PropertyType::Bungalow
        } else if has(&["duplex", "triplex"]) {
            PropertyType::Duplex
        } else if has(&["row_house", "rowhouse", "townhouse"]) {
            PropertyType::RowHouse
        } else if has(&["farmhouse", "farm_house"]) {
            PropertyType::Farmhouse
        } else if has(&["plot", "land"]) {
            PropertyType::Plot
        } else if has(&["commercial", "office", "shop", "retail", "showroom"]) {
            PropertyType::Commercial
        } else if has(&["apartment", "flat", "bhk", "condo", "residence", "studio"]) {
            PropertyType::Apartment
        } else if t == "other" {
            PropertyType::Other
        } else {
            return Err(ChoiceError {
                allowed: Self::ALLOWED,
            });
        };
        Ok(found)
    }
}

/// When a lead means to buy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum PurchaseTimeline {
    #[serde(rename = "immediate")]
    Immediate,
    #[serde(rename = "3_months")]
    ThreeMonths,
    #[serde(rename = "6_months")]
    SixMonths,
    #[serde(rename = "1_year")]
    OneYear,
}

impl PurchaseTimeline {
    pub fn as_str(self) -> &'static str {
        match self {
            PurchaseTimeline::Immediate => "immediate",
            PurchaseTimeline::ThreeMonths => "3_months",
            PurchaseTimeline::SixMonths => "6_months",
            PurchaseTimeline::OneYear => "1_year",
        }
    }

    /// Months until purchase, for comparing against campaign criteria.
    pub fn months(self) -> u8 {
        match self {
            PurchaseTimeline::Immediate => 0,
            PurchaseTimeline::ThreeMonths => 3,
            PurchaseTimeline::SixMonths => 6,
            PurchaseTimeline::OneYear => 12,
        }
    }

    pub fn parse(text: &str) -> Result<PurchaseTimeline, ChoiceError> {
        let t = key(text);
        let digits: String = t.chars().filter(char::is_ascii_digit).collect();
        let months = digits.parse::<u32>().ok();
        let found = match t.as_str() {
            "immediate" | "immediately" | "asap" | "now" | "ready" | "urgent" => {
                PurchaseTimeline::Immediate
            }
            _ if t.contains("year") => match months {
                None | Some(1) => PurchaseTimeline::OneYear,
                _ => {
                    return Err(ChoiceError {
                        allowed: "immediate, 3_months, 6_months, 1_year",
                    });
                }
            },
            _ if t.contains("month") || t.ends_with('m') => match months {
                Some(0..=1) => PurchaseTimeline::Immediate,
                Some(2..=3) => PurchaseTimeline::ThreeMonths,
                Some(4..=6) => PurchaseTimeline::SixMonths,
                Some(7..=12) => PurchaseTimeline::OneYear,
                _ => {
                    return Err(ChoiceError {
                        allowed: "immediate, 3_months, 6_months, 1_year",
                    });
                }
            },
            _ => {
                return Err(ChoiceError {
                    allowed: "immediate, 3_months, 6_months, 1_year",
                });
            }
        };
        Ok(found)
    }
}

/// How a lead will pay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FinancingStatus {
    PreApproved,
    NeedsFinancing,
    CashBuyer,
}

impl FinancingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FinancingStatus::PreApproved => "pre_approved",
            FinancingStatus::NeedsFinancing => "needs_financing",
            FinancingStatus::CashBuyer => "cash_buyer",
        }
    }

    pub fn parse(text: &str) -> Result<FinancingStatus, ChoiceError> {
        let t = key(text);
        if t.contains("pre") && t.contains("approv") {
            Ok(FinancingStatus::PreApproved)
        } else if t.contains("cash") || t.contains("self_fund") || t == "own_funds" {
            Ok(FinancingStatus::CashBuyer)
        } else if t.contains("loan") || t.contains("financ") || t.contains("mortgage") {
            Ok(FinancingStatus::NeedsFinancing)
        } else {
            Err(ChoiceError {
                allowed: "pre_approved, needs_financing, cash_buyer",
            })
        }
    }
}

/// What a lead is looking for, beyond type and budget.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct PropertyPreferences {
    pub property_types: Vec<PropertyType>,
    pub locations: Vec<String>,
    /// Bedrooms wanted (BHK).
    pub bedrooms: Option<u8>,
    pub amenities: Vec<String>,
    /// Anything else said about the home they want.
    pub notes: Option<String>,
}

/// Where and when the lead agreed to be contacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Consent {
    /// Such as `website form`, `walk-in`, `whatsapp opt-in`.
    pub source: String,
    #[schema(value_type = String, format = DateTime)]
    pub given_at: Timestamp,
}

/// Free-form labels, lower-case, without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct Tags(Vec<String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagsError {
    #[error("has more than {0} tags")]
    TooMany(usize),
    #[error("has a tag longer than {0} characters")]
    TooLong(usize),
}

impl Tags {
    pub const MAX: usize = 20;
    pub const MAX_CHARS: usize = 40;

    pub fn new<S: AsRef<str>>(tags: impl IntoIterator<Item = S>) -> Result<Tags, TagsError> {
        let mut out: Vec<String> = Vec::new();
        for tag in tags {
            let tag = tag
                .as_ref()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase();
            if tag.is_empty() || out.contains(&tag) {
                continue;
            }
            if tag.chars().count() > Self::MAX_CHARS {
                return Err(TagsError::TooLong(Self::MAX_CHARS));
            }
            out.push(tag);
        }
        if out.len() > Self::MAX {
            return Err(TagsError::TooMany(Self::MAX));
        }
        Ok(Tags(out))
    }

    /// Tags written in one cell: `nri|sea view`, `nri, sea view`.
    pub fn parse_list(text: &str) -> Result<Tags, TagsError> {
        Tags::new(text.split(['|', ',', ';']))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A lead, as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Lead {
    pub id: LeadId,
    pub org_id: OrgId,
    pub contact_person: PersonName,
    pub phone_number: Phone,
    pub email: Option<Email>,
    pub property_name: Option<String>,
    pub property_type: Option<PropertyType>,
    pub location: Option<String>,
    /// The budget as written by the source, such as `₹3.2 - 4 Cr`.
    pub price_range: Option<String>,
    pub budget_range_min: Option<Inr>,
    pub budget_range_max: Option<Inr>,
    pub status: LeadStatus,
    pub priority: Priority,
    pub lead_source: Option<String>,
    pub follow_up_count: u32,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub callback_scheduled_at: Option<Timestamp>,
    pub campaign_id: Option<CampaignId>,
    pub agent_persona_id: Option<PersonaId>,
    /// 0-100, from the last qualifying call.
    pub qualification_score: Option<u8>,
    pub last_call_transcript_id: Option<TranscriptId>,
    pub property_preferences: PropertyPreferences,
    pub purchase_timeline: Option<PurchaseTimeline>,
    pub financing_status: Option<FinancingStatus>,
    pub decision_maker_role: Option<String>,
    pub notes: Option<String>,
    /// The lead's own time zone; calls happen inside its local calling window.
    pub timezone: TimeZoneName,
    /// Whether `timezone` was given or derived from the phone number's country.
    pub timezone_source: TimezoneSource,
    pub consent: Option<Consent>,
    /// Never dial: on the organisation's do-not-call list, or asked not to be called.
    pub do_not_call: bool,
    pub assigned_agent_id: Option<UserId>,
    pub tags: Tags,
    /// Calls placed to this lead, across every retry kind.
    pub call_attempts: u32,
    /// A dial waiting on the dial queue for its turn.
    #[serde(default)]
    pub queued: Option<QueuedDial>,
    /// The call under way; it holds one of its campaign's live-call slots.
    #[serde(default)]
    pub live_call: Option<LiveCall>,
    /// When the next call is due: a retry, a promised callback, or the next
    /// opening of the lead's calling hours.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_call_at: Option<Timestamp>,
    /// Why the next call is due (`no_answer`, `busy`, `voicemail`, `failed`, `callback`, `window`).
    #[serde(default)]
    pub next_call_reason: Option<String>,
    /// How the last call ended (`connected`, `no_answer`, `busy`, `voicemail`, `failed`).
    #[serde(default)]
    pub last_call_result: Option<String>,
    /// Optimistic-concurrency version, bumped by every change.
    pub version: u64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// A dial queued for a campaign: its message is on the dial queue, or it
/// waits in the campaign's line for a free slot (no message out for it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QueuedDial {
    pub campaign_id: CampaignId,
    /// The attempt this dial makes (calls so far + 1).
    pub attempt: u32,
    #[schema(value_type = String, format = DateTime)]
    pub queued_at: Timestamp,
    /// If nothing has dialled by then, the message is presumed lost (or
    /// the wait in line too long) and sent again.
    #[schema(value_type = String, format = DateTime)]
    pub watch_until: Timestamp,
    /// In the campaign's line: the end of a call sends its message when
    /// its turn comes (the first in line first).
    #[serde(default)]
    pub in_line: bool,
}

/// A call under way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LiveCall {
    pub campaign_id: CampaignId,
    pub attempt: u32,
    /// The voice provider's call id, once the call is placed.
    pub call_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Timestamp,
    /// Without a final word by then, the scheduler asks the provider about the call.
    #[schema(value_type = String, format = DateTime)]
    pub check_at: Timestamp,
}

impl Lead {
    /// A promised callback whose time has come: it goes ahead of every
    /// other dial of its campaign.
    pub fn callback_due(&self, now: Timestamp) -> bool {
        self.status == LeadStatus::CallbackRequested
            && self.callback_scheduled_at.is_some_and(|at| at <= now)
    }

    /// When the scheduler must next look at this lead, if ever.
    pub fn due_at(&self) -> Option<Timestamp> {
        match (&self.live_call, &self.queued) {
            (Some(call), _) => Some(call.check_at),
            (None, Some(queued)) => Some(queued.watch_until),
            (None, None) => self.next_call_at,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimezoneSource {
    /// Given explicitly.
    Given,
    /// The only zone of the number's country.
    PhoneCountry,
    /// The number's country spans several zones; calls use the hours legal in all of them.
    PhoneCountryMultiZone,
    /// Unknown country: the organisation's zone.
    Organisation,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_read_common_spellings() {
        assert_eq!(Priority::parse("HIGH"), Ok(Priority::High));
        assert_eq!(Priority::parse("hot"), Ok(Priority::High));
        assert!(Priority::parse("soon").is_err());
        assert_eq!(
            PropertyType::parse("Sea-facing 4BHK flat"),
            Ok(PropertyType::Apartment)
        );
        assert_eq!(PropertyType::parse("Sky Villa"), Ok(PropertyType::Villa));
        assert_eq!(
            PropertyType::parse("Penthouse"),
            Ok(PropertyType::Penthouse)
        );
        assert_eq!(PropertyType::parse("Row House"), Ok(PropertyType::RowHouse));
        assert!(PropertyType::parse("spaceship").is_err());
        assert_eq!(
            PurchaseTimeline::parse("3 months"),
            Ok(PurchaseTimeline::ThreeMonths)
        );
        assert_eq!(
            PurchaseTimeline::parse("3_months"),
            Ok(PurchaseTimeline::ThreeMonths)
        );
        assert_eq!(
            PurchaseTimeline::parse("within 6 months"),
            Ok(PurchaseTimeline::SixMonths)
        );
        assert_eq!(
            PurchaseTimeline::parse("1 year"),
            Ok(PurchaseTimeline::OneYear)
        );
        assert_eq!(
            PurchaseTimeline::parse("ASAP"),
            Ok(PurchaseTimeline::Immediate)
        );
        assert!(PurchaseTimeline::parse("5 years").is_err());
        assert_eq!(
            FinancingStatus::parse("Pre-approved loan"),
            Ok(FinancingStatus::PreApproved)
        );
        assert_eq!(
            FinancingStatus::parse("cash"),
            Ok(FinancingStatus::CashBuyer)
        );
        assert_eq!(
            FinancingStatus::parse("home loan"),
            Ok(FinancingStatus::NeedsFinancing)
        );
    }

    #[test]
    fn tags_are_cleaned() {
        let tags = Tags::parse_list("NRI| sea  view ,nri,").unwrap();
        assert_eq!(tags.as_slice(), ["nri", "sea view"]);
        assert!(Tags::new((0..25).map(|i| format!("t{i}"))).is_err());
    }
}
