//! Leads arriving by API from a portal or a website form: the field names
//! and aliases of the CSV import, the phone normalised, a repeat enquiry
//! folded into the lead it repeats (its fields updated, its timeline told),
//! and a retried request answered as the first was (`Idempotency-Key`).

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use soraaya_core::App;
use soraaya_core::tables::LEADS;
use soraaya_core::validation::{FieldError, Patch, Raw};
use soraaya_domain::{CampaignId, Lead, LeadId, OrgId};
use soraaya_store::{Key, Put, StoreError, from_item, to_item};
use tracing::info;
use utoipa::ToSchema;

use crate::fields::LeadField;
use crate::input::{Context, validate};
use crate::record::{Actor, EventKind, TimelineEvent};
use crate::repo::LeadsRepo;
use crate::service::{self, Edit, LeadError, NextState};

/// Most enquiries in one request.
pub const MAX_BATCH: usize = 100;

/// How long a request's answer is kept for a retry with the same key.
pub const IDEMPOTENCY_WINDOW: SignedDuration = SignedDuration::from_hours(24);

/// What an enquiry may set: who the person is and what they look for, never
/// what the team decides (status, priority, campaign, assignee, score,
/// do-not-call, callbacks).
const TAKEN: &[LeadField] = &[
    LeadField::ContactPerson,
    LeadField::PhoneNumber,
    LeadField::Email,
    LeadField::PropertyName,
    LeadField::PropertyType,
    LeadField::Location,
    LeadField::PriceRange,
    LeadField::BudgetMin,
    LeadField::BudgetMax,
    LeadField::LeadSource,
    LeadField::PurchaseTimeline,
    LeadField::FinancingStatus,
    LeadField::DecisionMakerRole,
    LeadField::Notes,
    LeadField::Timezone,
    LeadField::ConsentSource,
    LeadField::ConsentAt,
    LeadField::Tags,
    LeadField::PreferredPropertyTypes,
    LeadField::PreferredLocations,
    LeadField::Bedrooms,
    LeadField::Amenities,
    LeadField::PreferenceNotes,
];

/// One enquiry: a JSON object whose names are those the CSV import takes
/// (`name`, `phone`, `email`, `budget`, `city`, `source`…).
pub type Enquiry = serde_json::Map<String, Value>;

/// What became of one enquiry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IntakeResult {
    /// The enquiry's place in the request (0 for a single one).
    pub index: usize,
    /// `created`, `updated` (a repeat enquiry of an existing lead) or `rejected`.
    pub outcome: IntakeOutcome,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub lead_id: Option<LeadId>,
    /// The campaign a new lead joined because it calls the lead's source
    /// (speed to lead): queued at once inside the campaign's window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub campaign_id: Option<CampaignId>,
    /// Why it was rejected, field by field, named as the enquiry named them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntakeOutcome {
    Created,
    Updated,
    Rejected,
}

/// The fields an enquiry sets, or what is wrong with its names and values'
/// shapes (the values themselves are checked as any lead's).
fn fields_of(
    enquiry: &Enquiry,
    source: &str,
) -> Result<Vec<(LeadField, Patch<Raw>)>, Vec<FieldError>> {
    let mut fields = Vec::new();
    let mut errors = Vec::new();
    let mut named: Vec<(LeadField, &str)> = Vec::new();
    for (name, value) in enquiry {
        let error = |message: String| FieldError {
            field: name.clone(),
            message,
        };
        let Some(field) = LeadField::from_header(name) else {
            errors.push(error("is not a lead field".into()));
            continue;
        };
        if !TAKEN.contains(&field) {
            errors.push(error(format!(
                "({}) is set by the team, not by an enquiry",
                field.name()
            )));
            continue;
        }
        if let Some((_, first)) = named.iter().find(|(f, _)| *f == field) {
            errors.push(error(format!("means the same as {first}")));
            continue;
        }
        named.push((field, name));
        let raw = match value {
            Value::Null => continue,
            Value::Bool(b) => Raw::Bool(*b),
            Value::Number(n) => Raw::Number(n.clone()),
            Value::String(s) => Raw::Text(s.clone()),
            Value::Array(items) => match items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<Vec<String>>>()
            {
                Some(list) => Raw::List(list),
                None => {
                    errors.push(error("must be a list of text".into()));
                    continue;
                }
            },
            Value::Object(_) => {
                errors.push(error("must be text, a number, true/false or a list".into()));
                continue;
            }
        };
        fields.push((field, Patch::Set(raw)));
    }
    if !fields.iter().any(|(f, _)| *f == LeadField::LeadSource) {
        fields.push((
            LeadField::LeadSource,
            Patch::Set(Raw::Text(source.to_owned())),
        ));
    }
    if errors.is_empty() {
        Ok(fields)
    } else {
        Err(errors)
    }
}

/// The enquiry's own name for a field a lead rule named.
fn as_named(enquiry: &Enquiry, mut errors: Vec<FieldError>) -> Vec<FieldError> {
    for error in &mut errors {
        if let Some(name) = enquiry
            .keys()
            .find(|k| LeadField::from_header(k).is_some_and(|f| f.name() == error.field))
        {
            error.field = name.clone();
        }
    }
    errors
}

/// Takes one enquiry: a new lead, or the lead with its number updated.
/// `source` is recorded where the enquiry names none.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn take(
    app: &App,
    org: OrgId,
    actor: &Actor,
    source: &str,
    index: usize,
    enquiry: &Enquiry,
) -> Result<(IntakeResult, Option<Lead>), LeadError> {
    let rejected = |errors: Vec<FieldError>| IntakeResult {
        index,
        outcome: IntakeOutcome::Rejected,
        lead_id: None,
        campaign_id: None,
        errors,
    };
    let fields = match fields_of(enquiry, source) {
        Ok(fields) => fields,
        Err(errors) => return Ok((rejected(errors), None)),
    };
    let organisation = soraaya_accounts::org(app, org).await?;
    let ctx = Context {
        organisation: &organisation,
        existing: None,
        now: app.clock.now(),
    };
    let phone = match validate(fields.clone(), &ctx) {
        Ok(values) => match values.phone_number {
            Patch::Set(phone) => Some(phone),
            _ => None,
        },
        Err(errors) => return Ok((rejected(as_named(enquiry, errors)), None)),
    };
    let repo = LeadsRepo::new(app.store.as_ref());
    let existing = match &phone {
        Some(phone) => repo.phone_owners(org, &[phone]).await?.get(phone).copied(),
        None => None,
    };
    let result = match existing {
        None => match service::create_from_fields(app, org, actor, fields.clone()).await {
            Ok(lead) => Ok((lead, IntakeOutcome::Created)),
            // Taken meanwhile by another enquiry of the same person.
            Err(LeadError::DuplicatePhone { existing: Some(id) }) => {
                repeat(app, org, actor, id, fields)
                    .await
                    .map(|l| (l, IntakeOutcome::Updated))
            }
            Err(err) => Err(err),
        },
        Some(id) => repeat(app, org, actor, id, fields)
            .await
            .map(|l| (l, IntakeOutcome::Updated)),
    };
    match result {
        Ok((lead, outcome)) => {
            info!(org_id = %org, lead_id = %lead.id, ?outcome, "enquiry taken");
            Ok((
                IntakeResult {
                    index,
                    outcome,
                    lead_id: Some(lead.id),
                    campaign_id: None,
                    errors: Vec::new(),
                },
                Some(lead),
            ))
        }
        Err(LeadError::Invalid(errors)) => Ok((rejected(as_named(enquiry, errors)), None)),
        Err(err) => Err(err),
    }
}

/// A repeat enquiry: the fields it sets replace the lead's (its notes are
/// added to the lead's, its source kept as the lead's first), and the
/// timeline says the person enquired again and where.
async fn repeat(
    app: &App,
    org: OrgId,
    actor: &Actor,
    id: LeadId,
    fields: Vec<(LeadField, Patch<Raw>)>,
) -> Result<Lead, LeadError> {
    let organisation = soraaya_accounts::org(app, org).await?;
    let source = fields
        .iter()
        .find(|(f, _)| *f == LeadField::LeadSource)
        .and_then(|(_, v)| match v {
            Patch::Set(raw) => Some(raw.text()),
            _ => None,
        })
        .unwrap_or_default();
    let fields: Vec<_> = fields
        .into_iter()
        .filter(|(f, _)| *f != LeadField::LeadSource)
        .collect();
    let reason = format!("enquired again ({source})");
    let edit = Edit {
        organisation: &organisation,
        actor,
        new_number_listed: None,
        reason: Some(reason.clone()),
    };
    service::modify(app, org, id, true, |before, now| {
        let fields: Vec<_> = fields
            .iter()
            .cloned()
            .map(|(field, value)| match (field, value, &before.notes) {
                (LeadField::Notes, Patch::Set(new), Some(old)) if !old.contains(&new.text()) => (
                    field,
                    Patch::Set(Raw::Text(format!("{old}\n\n{}", new.text()))),
                ),
                (field, value, _) => (field, value),
            })
            .collect();
        let ctx = Context {
            organisation: &organisation,
            existing: Some(before),
            now,
        };
        let values = validate(fields, &ctx).map_err(LeadError::Invalid)?;
        Ok(Some(match edit.next(org, before, values, now)? {
            Some(next) => next,
            None => {
                let mut event = TimelineEvent::new(before, EventKind::Updated, actor, now);
                event.reason = Some(reason.clone());
                NextState::of(before.clone()).with_events(vec![event])
            }
        }))
    })
    .await
}

fn idempotency_key(org: OrgId, key: &str) -> Key {
    Key::new(format!("ORG#{org}#IDEMPOTENCY"), format!("INTAKE#{key}"))
}

/// A request's answer, kept for its retries.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Remembered {
    request_hash: String,
    response: Value,
    expires_at: i64,
}

/// The SHA-256 of a request body, to tell a retry from another request
/// sent with the same key.
pub fn request_hash(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum IdempotencyError {
    #[error("this Idempotency-Key was used with another request")]
    KeyReused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The answer given to the request first sent with `key`, if any within
/// the window; a different request under the same key is refused.
pub async fn recall(
    app: &App,
    org: OrgId,
    key: &str,
    hash: &str,
) -> Result<Option<Value>, IdempotencyError> {
    let Some(item) = app.store.get(&LEADS, idempotency_key(org, key)).await? else {
        return Ok(None);
    };
    let remembered: Remembered = from_item(item)?;
    if remembered.expires_at <= app.clock.now().as_second() {
        return Ok(None);
    }
    if remembered.request_hash != hash {
        return Err(IdempotencyError::KeyReused);
    }
    Ok(Some(remembered.response))
}

/// Keeps `response` as the answer to the request sent with `key`.
pub async fn remember(
    app: &App,
    org: OrgId,
    key: &str,
    hash: &str,
    response: &Value,
    now: Timestamp,
) -> Result<(), StoreError> {
    let remembered = Remembered {
        request_hash: hash.to_owned(),
        response: response.clone(),
        expires_at: (now + IDEMPOTENCY_WINDOW).as_second(),
    };
    let mut item = to_item(&remembered)?;
    let key = idempotency_key(org, key);
    item.insert("pk".into(), soraaya_store::AttributeValue::S(key.pk));
    item.insert("sk".into(), soraaya_store::AttributeValue::S(key.sk));
    app.store.put(Put::new(&LEADS, item)).await
}
