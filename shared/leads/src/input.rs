//! Lead input, from an API body or a CSV row, validated into typed changes.
//! Both sources go through [`validate`], so rules and messages are the same.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use soraaya_domain::{
    BudgetRange, CampaignId, Consent, Email, FinancingStatus, Inr, Lead, LeadId, LeadStatus,
    Organisation, PersonName, PersonaId, Phone, Priority, PropertyPreferences, PropertyType,
    PurchaseTimeline, Tags, TimeZoneName, TimezoneSource, UserId, parse_moment, zones,
};
use utoipa::ToSchema;

use crate::fields::LeadField;
use soraaya_core::validation::{Amount, FieldError, FieldErrors, Patch, Raw, Text};

/// What a person wants, beyond type and budget (API form).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PreferencesInput {
    pub property_types: Vec<String>,
    pub locations: Vec<String>,
    pub bedrooms: Option<u8>,
    pub amenities: Vec<String>,
    pub notes: Option<String>,
}

/// A lead to create, or the fields of a lead to change (absent: unchanged;
/// `null`: cleared). Enumerations accept common spellings (`High`, `3 months`,
/// `Pre-approved`); budgets accept `₹3.2 Cr`, `85 lakh`, `2.5-3 Cr` or rupees.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LeadInput {
    #[schema(value_type = Option<String>, example = "Rohan Malhotra")]
    pub contact_person: Patch<Text>,
    #[schema(value_type = Option<String>, example = "+91 98200 12345")]
    pub phone_number: Patch<Text>,
    #[schema(value_type = Option<String>)]
    pub email: Patch<Text>,
    #[schema(value_type = Option<String>, example = "Lodha Altamount")]
    pub property_name: Patch<Text>,
    #[schema(value_type = Option<String>, example = "penthouse")]
    pub property_type: Patch<Text>,
    #[schema(value_type = Option<String>, example = "Worli, Mumbai")]
    pub location: Patch<Text>,
    #[schema(value_type = Option<String>, example = "₹12-15 Cr")]
    pub price_range: Patch<Text>,
    #[schema(value_type = Option<Amount>)]
    pub budget_range_min: Patch<Amount>,
    #[schema(value_type = Option<Amount>)]
    pub budget_range_max: Patch<Amount>,
    /// Initial status when creating (default `to_call`); change it later with `PUT /leads/{id}/status`.
    #[schema(value_type = Option<String>)]
    pub status: Patch<Text>,
    #[schema(value_type = Option<String>, example = "high")]
    pub priority: Patch<Text>,
    #[schema(value_type = Option<String>)]
    pub lead_source: Patch<Text>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub campaign_id: Patch<uuid::Uuid>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub agent_persona_id: Patch<uuid::Uuid>,
    #[schema(value_type = Option<u8>)]
    pub qualification_score: Patch<u8>,
    #[schema(value_type = Option<String>, example = "3_months")]
    pub purchase_timeline: Patch<Text>,
    #[schema(value_type = Option<String>, example = "cash_buyer")]
    pub financing_status: Patch<Text>,
    #[schema(value_type = Option<String>)]
    pub decision_maker_role: Patch<Text>,
    #[schema(value_type = Option<String>)]
    pub notes: Patch<Text>,
    /// IANA zone; derived from the phone number's country when not given.
    #[schema(value_type = Option<String>, example = "Asia/Kolkata")]
    pub timezone: Patch<Text>,
    #[schema(value_type = Option<String>, example = "website form")]
    pub consent_source: Patch<Text>,
    /// RFC 3339, or a date and time as people write them (`2026-11-24
    /// 15:00`, `24/11/2026`), read in the organisation's zone.
    #[schema(value_type = Option<String>, example = "2026-11-24T15:00:00+05:30")]
    pub consent_at: Patch<Text>,
    #[schema(value_type = Option<bool>)]
    pub do_not_call: Patch<bool>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assigned_agent_id: Patch<uuid::Uuid>,
    #[schema(value_type = Option<Vec<String>>)]
    pub tags: Patch<Vec<String>>,
    /// RFC 3339, or a date and time as people write them (`2026-11-24
    /// 15:00`), read in the lead's zone.
    #[schema(value_type = Option<String>, example = "2026-11-25T18:30:00+05:30")]
    pub callback_scheduled_at: Patch<Text>,
    #[schema(value_type = Option<PreferencesInput>)]
    pub property_preferences: Patch<PreferencesInput>,
}

impl LeadInput {
    /// What creating a lead needs (changing one needs none).
    pub const REQUIRED_ON_CREATE: &'static [&'static str] = &["contact_person", "phone_number"];

    /// The input as (field, value) pairs, preferences spread over their fields.
    pub fn into_fields(self) -> Vec<(LeadField, Patch<Raw>)> {
        use LeadField as F;
        let mut fields = vec![
            (F::ContactPerson, self.contact_person.map(Raw::from)),
            (F::PhoneNumber, self.phone_number.map(Raw::from)),
            (F::Email, self.email.map(Raw::from)),
            (F::PropertyName, self.property_name.map(Raw::from)),
            (F::PropertyType, self.property_type.map(Raw::from)),
            (F::Location, self.location.map(Raw::from)),
            (F::PriceRange, self.price_range.map(Raw::from)),
            (F::BudgetMin, self.budget_range_min.map(Raw::from)),
            (F::BudgetMax, self.budget_range_max.map(Raw::from)),
            (F::Status, self.status.map(Raw::from)),
            (F::Priority, self.priority.map(Raw::from)),
            (F::LeadSource, self.lead_source.map(Raw::from)),
            (
                F::CampaignId,
                self.campaign_id.map(|id| Raw::Text(id.to_string())),
            ),
            (
                F::AgentPersonaId,
                self.agent_persona_id.map(|id| Raw::Text(id.to_string())),
            ),
            (
                F::QualificationScore,
                self.qualification_score.map(|n| Raw::Number(n.into())),
            ),
            (F::PurchaseTimeline, self.purchase_timeline.map(Raw::from)),
            (F::FinancingStatus, self.financing_status.map(Raw::from)),
            (
                F::DecisionMakerRole,
                self.decision_maker_role.map(Raw::from),
            ),
            (F::Notes, self.notes.map(Raw::from)),
            (F::Timezone, self.timezone.map(Raw::from)),
            (F::ConsentSource, self.consent_source.map(Raw::from)),
            (F::ConsentAt, self.consent_at.map(Raw::from)),
            (F::DoNotCall, self.do_not_call.map(Raw::Bool)),
            (
                F::AssignedAgent,
                self.assigned_agent_id.map(|id| Raw::Text(id.to_string())),
            ),
            (F::Tags, self.tags.map(Raw::List)),
            (
                F::CallbackScheduledAt,
                self.callback_scheduled_at.map(Raw::from),
            ),
        ];
        match self.property_preferences {
            Patch::Absent => {}
            Patch::Clear => {
                for field in [
                    F::PreferredPropertyTypes,
                    F::PreferredLocations,
                    F::Bedrooms,
                    F::Amenities,
                ] {
                    fields.push((field, Patch::Clear));
                }
            }
            Patch::Set(p) => {
                fields.push((
                    F::PreferredPropertyTypes,
                    Patch::Set(Raw::List(p.property_types)),
                ));
                fields.push((F::PreferredLocations, Patch::Set(Raw::List(p.locations))));
                fields.push((
                    F::Bedrooms,
                    p.bedrooms
                        .map_or(Patch::Clear, |b| Patch::Set(Raw::Number(b.into()))),
                ));
                fields.push((F::Amenities, Patch::Set(Raw::List(p.amenities))));
                fields.push((
                    F::PreferenceNotes,
                    p.notes.map_or(Patch::Clear, |n| Patch::Set(Raw::Text(n))),
                ));
            }
        }
        fields
    }
}

/// Validated values: each is left alone, cleared, or set.
#[derive(Debug, Clone, Default)]
pub struct LeadValues {
    pub contact_person: Patch<PersonName>,
    pub phone_number: Patch<Phone>,
    pub email: Patch<Email>,
    pub property_name: Patch<String>,
    pub property_type: Patch<PropertyType>,
    pub location: Patch<String>,
    pub price_range: Patch<String>,
    pub budget_range_min: Patch<Inr>,
    pub budget_range_max: Patch<Inr>,
    pub status: Patch<LeadStatus>,
    pub priority: Patch<Priority>,
    pub lead_source: Patch<String>,
    pub campaign_id: Patch<CampaignId>,
    pub agent_persona_id: Patch<PersonaId>,
    pub qualification_score: Patch<u8>,
    pub purchase_timeline: Patch<PurchaseTimeline>,
    pub financing_status: Patch<FinancingStatus>,
    pub decision_maker_role: Patch<String>,
    pub notes: Patch<String>,
    pub timezone: Patch<TimeZoneName>,
    pub consent: Patch<Consent>,
    pub do_not_call: Patch<bool>,
    pub assigned_agent_id: Patch<UserId>,
    pub tags: Patch<Tags>,
    pub callback_scheduled_at: Patch<Timestamp>,
    pub preferred_property_types: Patch<Vec<PropertyType>>,
    pub preferred_locations: Patch<Vec<String>>,
    pub bedrooms: Patch<u8>,
    pub amenities: Patch<Vec<String>>,
    pub preference_notes: Patch<String>,
}

/// Words that mean "no value" in a spreadsheet cell.
fn is_blank(text: &str) -> bool {
    matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "" | "-"
            | "--"
            | "na"
            | "n/a"
            | "nil"
            | "none"
            | "null"
            | "tbd"
            | "unknown"
            | "not specified"
    )
}

fn bounded_text(text: &str, max: usize) -> Result<String, String> {
    let text = text.trim();
    if text.chars().count() > max {
        return Err(format!("is longer than {max} characters"));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err("contains control characters".into());
    }
    Ok(text.to_owned())
}

fn yes_no(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" | "1" => Ok(true),
        "no" | "n" | "false" | "0" => Ok(false),
        _ => Err("must be yes or no".into()),
    }
}

fn list(text: &str) -> Vec<String> {
    text.split(['|', ',', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What validation needs to know.
pub struct Context<'a> {
    pub organisation: &'a Organisation,
    /// The lead being changed, when updating.
    pub existing: Option<&'a Lead>,
    pub now: Timestamp,
}

/// Validates fields into typed values, collecting an error for every bad one.
pub fn validate(
    fields: Vec<(LeadField, Patch<Raw>)>,
    ctx: &Context<'_>,
) -> Result<LeadValues, Vec<FieldError>> {
    use LeadField as F;
    let mut errors = FieldErrors::new();
    let mut v = LeadValues::default();
    let region = ctx.organisation.default_region;
    // Values that depend on others (the zone on the phone; dates on the zone)
    // are read after the loop.
    let (mut consent_source, mut consent_at, mut callback_at) =
        (Patch::Absent, Patch::Absent, Patch::Absent);

    for (field, patch) in fields {
        let name = field.name();
        let patch = match patch {
            Patch::Set(raw) => {
                let text = raw.text();
                if is_blank(&text) && !matches!(raw, Raw::List(_)) {
                    Patch::Clear
                } else {
                    Patch::Set((raw, text))
                }
            }
            Patch::Clear => Patch::Clear,
            Patch::Absent => Patch::Absent,
        };
        let mut check = |result: Result<(), String>| {
            if let Err(message) = result {
                errors.add(name, message);
            }
        };
        macro_rules! parse_into {
            ($target:expr, $parse:expr) => {{
                let parsed = match patch {
                    Patch::Absent => Ok(Patch::Absent),
                    Patch::Clear => Ok(Patch::Clear),
                    Patch::Set((raw, text)) =>
                    {
                        #[allow(clippy::redundant_closure_call)]
                        ($parse)(raw, text).map(Patch::Set)
                    }
                };
                match parsed {
                    Ok(value) => $target = value,
                    Err(message) => check(Err(message)),
                }
            }};
        }
        match field {
            F::ContactPerson => parse_into!(v.contact_person, |_, t: String| PersonName::parse(&t)
                .map_err(|e| e.to_string())),
            F::PhoneNumber => parse_into!(v.phone_number, |_, t: String| Phone::parse(&t, region)
                .map_err(|e| e.to_string())),
            F::Email => parse_into!(v.email, |_, t: String| Email::parse(&t)
                .map_err(|e| e.to_string())),
            F::PropertyName => parse_into!(v.property_name, |_, t: String| bounded_text(&t, 200)),
            F::PropertyType => parse_into!(v.property_type, |_, t: String| PropertyType::parse(&t)
                .map_err(|e| e.to_string())),
            F::Location => parse_into!(v.location, |_, t: String| bounded_text(&t, 200)),
            F::PriceRange => parse_into!(v.price_range, |_, t: String| bounded_text(&t, 100)),
            F::BudgetMin => parse_into!(v.budget_range_min, |_, t: String| Inr::parse(&t)
                .map_err(|e| e.to_string())),
            F::BudgetMax => parse_into!(v.budget_range_max, |_, t: String| Inr::parse(&t)
                .map_err(|e| e.to_string())),
            F::Status => parse_into!(v.status, |_, t: String| {
                LeadStatus::parse(&t).ok_or_else(|| {
                "must be one of: to_call, qualified, not_interested, follow_up, callback_requested, unresponsive, human_input_needed, human_follow_up, call_failed".to_owned()
            })
            }),
            F::Priority => parse_into!(v.priority, |_, t: String| Priority::parse(&t)
                .map_err(|e| e.to_string())),
            F::LeadSource => parse_into!(v.lead_source, |_, t: String| bounded_text(&t, 100)),
            F::CampaignId => parse_into!(v.campaign_id, |_, t: String| CampaignId::parse(&t)
                .map_err(|_| "is not a campaign id".to_owned())),
            F::AgentPersonaId => {
                parse_into!(v.agent_persona_id, |_, t: String| PersonaId::parse(&t)
                    .map_err(|_| "is not a persona id".to_owned()))
            }
            F::QualificationScore => parse_into!(v.qualification_score, |_, t: String| match t
                .parse::<f64>()
            {
                Ok(score) if (0.0..=100.0).contains(&score) => Ok(score.round() as u8),
                _ => Err("must be a number from 0 to 100".to_owned()),
            }),
            F::PurchaseTimeline => {
                parse_into!(v.purchase_timeline, |_, t: String| PurchaseTimeline::parse(
                    &t
                )
                .map_err(|e| e.to_string()))
            }
            F::FinancingStatus => {
                parse_into!(v.financing_status, |_, t: String| FinancingStatus::parse(
                    &t
                )
                .map_err(|e| e.to_string()))
            }
            F::DecisionMakerRole => {
                parse_into!(v.decision_maker_role, |_, t: String| bounded_text(&t, 100))
            }
            F::Notes => parse_into!(v.notes, |_, t: String| bounded_text(&t, 5000)),
            F::Timezone => parse_into!(v.timezone, |_, t: String| TimeZoneName::parse(&t)
                .map_err(|e| e.to_string())),
            F::ConsentSource => parse_into!(consent_source, |_, t: String| bounded_text(&t, 100)),
            F::ConsentAt => parse_into!(consent_at, |_, t: String| Ok::<String, String>(t)),
            F::DoNotCall => parse_into!(v.do_not_call, |raw: Raw, t: String| match raw {
                Raw::Bool(b) => Ok(b),
                _ => yes_no(&t),
            }),
            F::AssignedAgent => parse_into!(v.assigned_agent_id, |_, t: String| UserId::parse(&t)
                .map_err(|_| "is not a user id".to_owned())),
            F::Tags => parse_into!(v.tags, |raw: Raw, t: String| match raw {
                Raw::List(items) => Tags::new(items),
                _ => Tags::parse_list(&t),
            }
            .map_err(|e| e.to_string())),
            F::CallbackScheduledAt => {
                parse_into!(callback_at, |_, t: String| Ok::<String, String>(t))
            }
            F::PreferredPropertyTypes => parse_into!(v.preferred_property_types, |_, t: String| {
                list(&t)
                    .iter()
                    .map(|p| PropertyType::parse(p).map_err(|e| e.to_string()))
                    .collect::<Result<Vec<_>, _>>()
            }),
            F::PreferredLocations => parse_into!(v.preferred_locations, |_, t: String| {
                list(&t)
                    .iter()
                    .map(|l| bounded_text(l, 100))
                    .collect::<Result<Vec<_>, _>>()
            }),
            F::Bedrooms => parse_into!(v.bedrooms, |_, t: String| {
                let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
                match digits.parse::<u8>() {
                    Ok(b) if (1..=20).contains(&b) => Ok(b),
                    _ => Err("must be a number of bedrooms from 1 to 20".to_owned()),
                }
            }),
            F::Amenities => parse_into!(v.amenities, |_, t: String| {
                list(&t)
                    .iter()
                    .map(|a| bounded_text(a, 60))
                    .collect::<Result<Vec<_>, _>>()
            }),
            F::PreferenceNotes => {
                parse_into!(v.preference_notes, |_, t: String| bounded_text(&t, 1000))
            }
        }
    }

    // A budget written as text fills minimum and maximum unless they are given.
    if let Patch::Set(text) = &v.price_range
        && v.budget_range_min.is_absent()
        && v.budget_range_max.is_absent()
    {
        match BudgetRange::parse(text) {
            Ok(range) => {
                v.budget_range_min = range.min.map_or(Patch::Clear, Patch::Set);
                v.budget_range_max = range.max.map_or(Patch::Clear, Patch::Set);
            }
            Err(err) => errors.add(F::PriceRange.name(), err),
        }
    }
    let min = match &v.budget_range_min {
        Patch::Set(min) => Some(*min),
        Patch::Absent => ctx.existing.and_then(|l| l.budget_range_min),
        Patch::Clear => None,
    };
    let max = match &v.budget_range_max {
        Patch::Set(max) => Some(*max),
        Patch::Absent => ctx.existing.and_then(|l| l.budget_range_max),
        Patch::Clear => None,
    };
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        errors.add(F::BudgetMin.name(), "is above budget_range_max");
    }
    if matches!(v.status, Patch::Set(status) if status.is_live()) {
        errors.add(
            F::Status.name(),
            "calling and in_call are set by the dialer, not by hand",
        );
    }

    // Dates are read in the lead's own zone.
    let zone = match (&v.timezone, &v.phone_number) {
        (Patch::Set(zone), _) => zone.clone(),
        (_, Patch::Set(phone)) => derive_zone(phone, ctx.organisation).0,
        _ => ctx.existing.map_or_else(
            || ctx.organisation.time_zone.clone(),
            |l| l.timezone.clone(),
        ),
    };
    match (consent_source, consent_at) {
        (Patch::Set(source), at) => {
            let given_at = match at {
                Patch::Set(text) => match parse_moment(&text, &zone) {
                    Ok(at) => at,
                    Err(message) => {
                        errors.add(F::ConsentAt.name(), message);
                        ctx.now
                    }
                },
                _ => ctx.now,
            };
            v.consent = Patch::Set(Consent { source, given_at });
        }
        (Patch::Clear, _) => v.consent = Patch::Clear,
        (Patch::Absent, Patch::Set(_)) => {
            errors.add(F::ConsentSource.name(), "is required with consent_at")
        }
        (Patch::Absent, _) => {}
    }
    v.callback_scheduled_at = match callback_at {
        Patch::Set(text) => match parse_moment(&text, &zone) {
            Ok(at) => Patch::Set(at),
            Err(message) => {
                errors.add(F::CallbackScheduledAt.name(), message);
                Patch::Absent
            }
        },
        Patch::Clear => Patch::Clear,
        Patch::Absent => Patch::Absent,
    };

    errors.finish().map(|()| v)
}

/// The zone of a lead from its number: the country's zone, the first of a
/// multi-zone country's (calls then keep to hours legal in all of them), or
/// the organisation's.
pub fn derive_zone(phone: &Phone, organisation: &Organisation) -> (TimeZoneName, TimezoneSource) {
    match phone.region().and_then(zones::zones_of) {
        Some(zones) if zones.len() == 1 => (zones[0].clone(), TimezoneSource::PhoneCountry),
        Some(zones) if !zones.is_empty() => {
            (zones[0].clone(), TimezoneSource::PhoneCountryMultiZone)
        }
        _ => (organisation.time_zone.clone(), TimezoneSource::Organisation),
    }
}

impl LeadValues {
    /// The organisation records these values name (campaign, persona,
    /// agent), as one key: values with the same key check the same.
    pub fn reference_key(&self) -> String {
        fn part<T: std::fmt::Display>(patch: &Patch<T>) -> String {
            match patch {
                Patch::Set(value) => value.to_string(),
                _ => String::new(),
            }
        }
        format!(
            "{}|{}|{}",
            part(&self.campaign_id),
            part(&self.agent_persona_id),
            part(&self.assigned_agent_id)
        )
    }

    /// A new lead from these values; name and phone are required.
    pub fn into_new_lead(
        self,
        organisation: &Organisation,
        now: Timestamp,
    ) -> Result<Lead, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let name = self.contact_person.clone().set();
        let phone = self.phone_number.clone().set();
        if name.is_none() {
            errors.add(LeadField::ContactPerson.name(), "is required");
        }
        if phone.is_none() {
            errors.add(LeadField::PhoneNumber.name(), "is required");
        }
        let (Some(contact_person), Some(phone_number)) = (name, phone) else {
            return Err(errors.into_vec());
        };
        let (timezone, timezone_source) = match self.timezone.clone() {
            Patch::Set(zone) => (zone, TimezoneSource::Given),
            _ => derive_zone(&phone_number, organisation),
        };
        let mut lead = Lead {
            id: LeadId::new(),
            org_id: organisation.id,
            contact_person,
            phone_number,
            email: None,
            property_name: None,
            property_type: None,
            location: None,
            price_range: None,
            budget_range_min: None,
            budget_range_max: None,
            status: self.status.clone().set().unwrap_or(LeadStatus::ToCall),
            priority: Priority::default(),
            lead_source: None,
            follow_up_count: 0,
            callback_scheduled_at: None,
            campaign_id: None,
            agent_persona_id: None,
            qualification_score: None,
            last_call_transcript_id: None,
            property_preferences: PropertyPreferences::default(),
            purchase_timeline: None,
            financing_status: None,
            decision_maker_role: None,
            notes: None,
            timezone,
            timezone_source,
            consent: None,
            do_not_call: false,
            assigned_agent_id: None,
            tags: Tags::default(),
            call_attempts: 0,
            queued: None,
            live_call: None,
            next_call_at: None,
            next_call_reason: None,
            last_call_result: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        self.apply(&mut lead, organisation);
        Ok(lead)
    }

    /// Applies the values to a lead; returns the names of the fields that changed.
    /// The status is not applied (status changes go through the state machine).
    pub fn apply(self, lead: &mut Lead, organisation: &Organisation) -> Vec<&'static str> {
        use LeadField as F;
        let mut changed = Vec::new();
        let mut mark = |field: LeadField, did: bool| {
            if did {
                changed.push(field.name());
            }
        };
        if let Patch::Set(name) = self.contact_person {
            mark(F::ContactPerson, set_value(&mut lead.contact_person, name));
        }
        if let Patch::Set(phone) = self.phone_number {
            let moved = set_value(&mut lead.phone_number, phone);
            mark(F::PhoneNumber, moved);
            if moved && lead.timezone_source != TimezoneSource::Given && self.timezone.is_absent() {
                (lead.timezone, lead.timezone_source) =
                    derive_zone(&lead.phone_number, organisation);
            }
        }
        mark(F::Email, self.email.apply_to(&mut lead.email));
        mark(
            F::PropertyName,
            self.property_name.apply_to(&mut lead.property_name),
        );
        mark(
            F::PropertyType,
            self.property_type.apply_to(&mut lead.property_type),
        );
        mark(F::Location, self.location.apply_to(&mut lead.location));
        mark(
            F::PriceRange,
            self.price_range.apply_to(&mut lead.price_range),
        );
        mark(
            F::BudgetMin,
            self.budget_range_min.apply_to(&mut lead.budget_range_min),
        );
        mark(
            F::BudgetMax,
            self.budget_range_max.apply_to(&mut lead.budget_range_max),
        );
        mark(
            F::Priority,
            patch_or_default(self.priority, &mut lead.priority),
        );
        mark(
            F::LeadSource,
            self.lead_source.apply_to(&mut lead.lead_source),
        );
        mark(
            F::CampaignId,
            self.campaign_id.apply_to(&mut lead.campaign_id),
        );
        mark(
            F::AgentPersonaId,
            self.agent_persona_id.apply_to(&mut lead.agent_persona_id),
        );
        mark(
            F::QualificationScore,
            self.qualification_score
                .apply_to(&mut lead.qualification_score),
        );
        mark(
            F::PurchaseTimeline,
            self.purchase_timeline.apply_to(&mut lead.purchase_timeline),
        );
        mark(
            F::FinancingStatus,
            self.financing_status.apply_to(&mut lead.financing_status),
        );
        mark(
            F::DecisionMakerRole,
            self.decision_maker_role
                .apply_to(&mut lead.decision_maker_role),
        );
        mark(F::Notes, self.notes.apply_to(&mut lead.notes));
        match self.timezone {
            Patch::Set(zone) => {
                let was_derived = lead.timezone_source != TimezoneSource::Given;
                mark(
                    F::Timezone,
                    set_value(&mut lead.timezone, zone) || was_derived,
                );
                lead.timezone_source = TimezoneSource::Given;
            }
            Patch::Clear => {
                let (zone, source) = derive_zone(&lead.phone_number, organisation);
                mark(F::Timezone, set_value(&mut lead.timezone, zone));
                lead.timezone_source = source;
            }
            Patch::Absent => {}
        }
        mark(F::ConsentSource, self.consent.apply_to(&mut lead.consent));
        if let Patch::Set(flag) = self.do_not_call {
            mark(F::DoNotCall, set_value(&mut lead.do_not_call, flag));
        }
        mark(
            F::AssignedAgent,
            self.assigned_agent_id.apply_to(&mut lead.assigned_agent_id),
        );
        mark(F::Tags, patch_or_default(self.tags, &mut lead.tags));
        mark(
            F::CallbackScheduledAt,
            self.callback_scheduled_at
                .apply_to(&mut lead.callback_scheduled_at),
        );
        let prefs = &mut lead.property_preferences;
        mark(
            F::PreferredPropertyTypes,
            patch_or_default(self.preferred_property_types, &mut prefs.property_types),
        );
        mark(
            F::PreferredLocations,
            patch_or_default(self.preferred_locations, &mut prefs.locations),
        );
        mark(F::Bedrooms, self.bedrooms.apply_to(&mut prefs.bedrooms));
        mark(
            F::Amenities,
            patch_or_default(self.amenities, &mut prefs.amenities),
        );
        mark(
            F::PreferenceNotes,
            self.preference_notes.apply_to(&mut prefs.notes),
        );
        changed
    }
}

/// Replaces a value; returns whether it changed.
fn set_value<T: PartialEq>(target: &mut T, value: T) -> bool {
    let changed = *target != value;
    *target = value;
    changed
}

/// Applies a patch to a field whose "cleared" state is its default.
fn patch_or_default<T: PartialEq + Default>(patch: Patch<T>, target: &mut T) -> bool {
    match patch {
        Patch::Absent => false,
        Patch::Clear => set_value(target, T::default()),
        Patch::Set(value) => set_value(target, value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn organisation() -> Organisation {
        Organisation {
            id: soraaya_domain::OrgId::new(),
            name: soraaya_domain::OrgName::parse("Skyline").unwrap(),
            default_region: soraaya_domain::Region::INDIA,
            time_zone: TimeZoneName::india(),
            settings: Default::default(),
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn text(field: LeadField, value: &str) -> (LeadField, Patch<Raw>) {
        (field, Patch::Set(Raw::Text(value.to_owned())))
    }

    #[test]
    fn a_messy_row_becomes_a_lead() {
        let org = organisation();
        let now: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        let ctx = Context {
            organisation: &org,
            existing: None,
            now,
        };
        let values = validate(
            vec![
                text(LeadField::ContactPerson, "  Rohan  Malhotra "),
                text(LeadField::PhoneNumber, "098200 12345"),
                text(LeadField::PriceRange, "2.5-3 Cr"),
                text(LeadField::Priority, "HOT"),
                text(LeadField::PurchaseTimeline, "within 3 months"),
                text(LeadField::ConsentSource, "website form"),
                text(LeadField::ConsentAt, "20/11/2026 6:30 pm"),
                text(LeadField::Tags, "NRI|sea view"),
                text(LeadField::Email, "n/a"),
            ],
            &ctx,
        )
        .unwrap();
        let lead = values.into_new_lead(&org, now).unwrap();
        assert_eq!(lead.contact_person.as_str(), "Rohan Malhotra");
        assert_eq!(lead.phone_number.as_str(), "+919820012345");
        assert_eq!(lead.budget_range_min, Some(Inr::crore_hundredths(250)));
        assert_eq!(lead.budget_range_max, Some(Inr::crore_hundredths(300)));
        assert_eq!(lead.priority, Priority::High);
        assert_eq!(lead.purchase_timeline, Some(PurchaseTimeline::ThreeMonths));
        assert_eq!(lead.timezone.as_str(), "Asia/Kolkata");
        assert_eq!(lead.timezone_source, TimezoneSource::PhoneCountry);
        assert_eq!(
            lead.consent.unwrap().given_at.to_string(),
            "2026-11-20T13:00:00Z"
        );
        assert_eq!(lead.tags.as_slice(), ["nri", "sea view"]);
        assert_eq!(lead.email, None);
        assert_eq!(lead.status, LeadStatus::ToCall);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let org = organisation();
        let ctx = Context {
            organisation: &org,
            existing: None,
            now: Timestamp::UNIX_EPOCH,
        };
        let errors = validate(
            vec![
                text(LeadField::PhoneNumber, "12345"),
                text(LeadField::Email, "rohan@"),
                text(LeadField::PriceRange, "lots of money"),
                text(LeadField::QualificationScore, "140"),
                text(LeadField::Status, "calling"),
                text(LeadField::Timezone, "Mars/Olympus"),
            ],
            &ctx,
        )
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "phone_number",
                "email",
                "qualification_score",
                "timezone",
                "price_range",
                "status"
            ]
        );
    }

    #[test]
    fn us_numbers_get_a_us_zone_marked_multi_zone() {
        let org = organisation();
        let us = Phone::parse("+1 415 555 0100", soraaya_domain::Region::INDIA).unwrap();
        let (zone, source) = derive_zone(&us, &org);
        assert_eq!(zone.as_str(), "America/New_York");
        assert_eq!(source, TimezoneSource::PhoneCountryMultiZone);
    }
}
