//! What can be done to leads, with the rules that apply: validation, phone
//! uniqueness, the status machine, the do-not-call list, and a timeline entry
//! and counter update with every change.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use jiff::Timestamp;
use soraaya_domain::{
    CampaignId, EventId, Lead, LeadId, LeadStatus, Mover, OrgId, Organisation, Phone, Priority,
    TransitionError, UserId,
};
use soraaya_store::{ConditionCheck, Cursor, Put, StoreError, WriteOp};
use tracing::{info, warn};

use crate::input::{Context, LeadInput, LeadValues, validate};
use crate::record::{Actor, AuditRecord, EventKind, TimelineEvent, lead_key};
use crate::repo::{DncEntry, LeadChange, LeadsRepo, WriteError};
use serde::{Deserialize, Serialize};
use soraaya_accounts::{self as accounts, AccountError};
use soraaya_core::App;
use soraaya_core::tables::LEADS;
use soraaya_core::validation::{FieldError, FieldErrors};
use soraaya_core::{Patch, Raw};
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum LeadError {
    #[error("lead not found")]
    NotFound,
    #[error("the lead has invalid fields")]
    Invalid(Vec<FieldError>),
    #[error("another lead already has this phone number")]
    DuplicatePhone { existing: Option<LeadId> },
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("the lead was changed by someone else; reload and try again")]
    ChangedConcurrently,
    #[error("the lead is at version {actual}, not {expected}")]
    VersionMismatch { expected: u64, actual: u64 },
    #[error("this number is not on the do-not-call list")]
    NotOnDncList,
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl LeadError {
    /// The stable code the API answers this error with.
    pub fn code(&self) -> &'static str {
        match self {
            LeadError::NotFound => "not_found",
            LeadError::Invalid(_) => "validation_failed",
            LeadError::DuplicatePhone { .. } => "duplicate_phone",
            LeadError::Transition(_) => "invalid_transition",
            LeadError::ChangedConcurrently => "changed_concurrently",
            LeadError::VersionMismatch { .. } => "version_mismatch",
            LeadError::NotOnDncList => "not_found",
            LeadError::Account(_) | LeadError::Store(_) => "internal_error",
        }
    }

    fn field(field: &str, message: impl Into<String>) -> Self {
        LeadError::Invalid(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }
}

/// How many times a change is re-applied to a fresh read when another writer
/// got in first (for changes that do not depend on what the caller saw).
const STALE_RETRIES: usize = 3;

async fn organisation(app: &App, org: OrgId) -> Result<Arc<Organisation>, LeadError> {
    Ok(accounts::org(app, org).await?)
}

/// Checks that referenced users belong to the organisation and are active.
pub(crate) async fn check_references(
    app: &App,
    org: OrgId,
    values: &LeadValues,
) -> Result<(), LeadError> {
    let records = soraaya_core::records::Records::new(app.store.as_ref());
    if let Patch::Set(campaign) = &values.campaign_id
        && records
            .get::<soraaya_domain::Campaign>(org, &campaign.to_string())
            .await?
            .is_none()
    {
        return Err(LeadError::field(
            "campaign_id",
            "is not a campaign of this organisation",
        ));
    }
    if let Patch::Set(persona) = &values.agent_persona_id
        && records
            .get::<soraaya_domain::AgentPersona>(org, &persona.to_string())
            .await?
            .is_none()
    {
        return Err(LeadError::field(
            "agent_persona_id",
            "is not an agent persona of this organisation",
        ));
    }
    if let Patch::Set(agent) = &values.assigned_agent_id {
        match accounts::get_user(app, org, *agent).await {
            Ok(user) if user.is_active => {}
            Ok(_) => {
                return Err(LeadError::field(
                    "assigned_agent_id",
                    "is a deactivated user",
                ));
            }
            Err(AccountError::UserNotFound) => {
                return Err(LeadError::field(
                    "assigned_agent_id",
                    "is not a user of this organisation",
                ));
            }
            Err(err) => return Err(err.into()),
        }
    }
    Ok(())
}

fn dnc_entry(phone: &Phone, reason: &str, actor: &Actor, at: Timestamp) -> DncEntry {
    DncEntry {
        phone_number: phone.clone(),
        reason: Some(reason.to_owned()),
        added_by: actor.clone(),
        added_at: at,
    }
}

/// The next state of a lead, with the events and extra operations that go with it.
pub struct NextState {
    pub lead: Lead,
    pub events: Vec<TimelineEvent>,
    pub extra: Vec<WriteOp>,
}

impl NextState {
    /// The lead changed, with nothing else written.
    pub fn of(lead: Lead) -> Self {
        NextState {
            lead,
            events: Vec::new(),
            extra: Vec::new(),
        }
    }

    pub fn with_events(mut self, events: Vec<TimelineEvent>) -> Self {
        self.events = events;
        self
    }
}

/// Loads a lead, asks `next` for its next state, and writes it in one
/// transaction, as the next version at the clock's now. `None` from `next`
/// means nothing to change. With `retry`, a lead that changed meanwhile is
/// re-read and `next` asked again; when it keeps changing, the change is
/// given up with [`LeadError::ChangedConcurrently`], logged. (`next` is
/// synchronous: whatever it needs from the store is read before.)
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn modify<F>(
    app: &App,
    org: OrgId,
    id: LeadId,
    retry: bool,
    next: F,
) -> Result<Lead, LeadError>
where
    F: Fn(&Lead, Timestamp) -> Result<Option<NextState>, LeadError>,
{
    let repo = LeadsRepo::new(app.store.as_ref());
    let organisation = organisation(app, org).await?;
    let zone = organisation.time_zone.zone();
    let attempts = if retry { STALE_RETRIES } else { 1 };
    for _ in 0..attempts {
        let before = repo.lead(org, id).await?.ok_or(LeadError::NotFound)?;
        let now = app.clock.now();
        let Some(NextState {
            mut lead,
            events,
            extra,
        }) = next(&before, now)?
        else {
            return Ok(before);
        };
        lead.version = before.version + 1;
        lead.updated_at = now;
        let change = LeadChange::new(Some(before), Some(lead.clone()), events);
        match repo.write(org, &zone, now, &[change], extra).await {
            Ok(()) => return Ok(lead),
            Err(WriteError::Stale { .. }) => continue,
            Err(WriteError::DuplicatePhone { .. }) => {
                let owner = repo.phone_owners(org, &[&lead.phone_number]).await?;
                return Err(LeadError::DuplicatePhone {
                    existing: owner.get(&lead.phone_number).copied(),
                });
            }
            Err(WriteError::Extra { .. }) => return Err(LeadError::ChangedConcurrently),
            Err(WriteError::Store(err)) => return Err(err.into()),
        }
    }
    warn!(org_id = %org, lead_id = %id, attempts, "lead change given up: it kept changing meanwhile");
    Err(LeadError::ChangedConcurrently)
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn get(app: &App, org: OrgId, id: LeadId) -> Result<Lead, LeadError> {
    LeadsRepo::new(app.store.as_ref())
        .lead(org, id)
        .await?
        .ok_or(LeadError::NotFound)
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn create(
    app: &App,
    org: OrgId,
    actor: &Actor,
    input: LeadInput,
) -> Result<Lead, LeadError> {
    create_from_fields(app, org, actor, input.into_fields()).await
}

/// Creates a lead from fields as an import or an enquiry names them.
pub async fn create_from_fields(
    app: &App,
    org: OrgId,
    actor: &Actor,
    fields: Vec<(crate::fields::LeadField, Patch<Raw>)>,
) -> Result<Lead, LeadError> {
    let organisation = organisation(app, org).await?;
    let now = app.clock.now();
    let ctx = Context {
        organisation: &organisation,
        existing: None,
        now,
    };
    let values = validate(fields, &ctx).map_err(LeadError::Invalid)?;
    check_references(app, org, &values).await?;
    let do_not_call = values.do_not_call.clone();
    let mut lead = values
        .into_new_lead(&organisation, now)
        .map_err(LeadError::Invalid)?;

    let repo = LeadsRepo::new(app.store.as_ref());
    let listed = repo.dnc_entry(org, &lead.phone_number).await?.is_some();
    let mut extra = Vec::new();
    lead.do_not_call = match do_not_call {
        Patch::Set(true) if !listed => {
            extra.push(LeadsRepo::dnc_put(
                org,
                &dnc_entry(
                    &lead.phone_number,
                    "marked do-not-call on the lead",
                    actor,
                    now,
                ),
            )?);
            true
        }
        Patch::Set(false) if listed => {
            extra.push(LeadsRepo::dnc_delete(org, &lead.phone_number));
            false
        }
        _ => listed || matches!(do_not_call, Patch::Set(true)),
    };
    let mut event = TimelineEvent::new(&lead, EventKind::Created, actor, now);
    event.to = Some(lead.status);
    let change = LeadChange::new(None, Some(lead.clone()), vec![event]);
    match repo
        .write(org, &organisation.time_zone.zone(), now, &[change], extra)
        .await
    {
        Ok(()) => {
            info!(org_id = %org, lead_id = %lead.id, "lead created");
            Ok(lead)
        }
        Err(WriteError::DuplicatePhone { .. }) => {
            let owner = repo.phone_owners(org, &[&lead.phone_number]).await?;
            Err(LeadError::DuplicatePhone {
                existing: owner.get(&lead.phone_number).copied(),
            })
        }
        Err(WriteError::Stale { .. } | WriteError::Extra { .. }) => {
            Err(LeadError::ChangedConcurrently)
        }
        Err(WriteError::Store(err)) => Err(err.into()),
    }
}

/// Applies validated values to a lead: the fields, the do-not-call list, the
/// timeline. `None` when nothing changes. `new_number_listed` says whether a
/// number the values set is on the do-not-call list.
pub(crate) struct Edit<'a> {
    pub organisation: &'a Organisation,
    pub actor: &'a Actor,
    pub new_number_listed: Option<bool>,
    pub reason: Option<String>,
}

impl Edit<'_> {
    pub(crate) fn next(
        &self,
        org: OrgId,
        before: &Lead,
        values: LeadValues,
        now: Timestamp,
    ) -> Result<Option<NextState>, LeadError> {
        let explicit_dnc = values.do_not_call.clone();
        let mut lead = before.clone();
        let mut fields = values.apply(&mut lead, self.organisation);
        let mut extra = Vec::new();
        if lead.phone_number != before.phone_number && explicit_dnc.is_absent() {
            // A new number carries its own do-not-call state.
            let listed = self.new_number_listed.unwrap_or(false);
            if listed != lead.do_not_call {
                lead.do_not_call = listed;
                fields.push("do_not_call");
            }
        } else if let Patch::Set(flag) = explicit_dnc
            && flag != before.do_not_call
        {
            extra.push(if flag {
                LeadsRepo::dnc_put(
                    org,
                    &dnc_entry(
                        &lead.phone_number,
                        "marked do-not-call on the lead",
                        self.actor,
                        now,
                    ),
                )?
            } else {
                LeadsRepo::dnc_delete(org, &lead.phone_number)
            });
        }
        if fields.is_empty() {
            return Ok(None);
        }
        let mut event = TimelineEvent::new(&lead, EventKind::Updated, self.actor, now);
        event.fields = fields.into_iter().map(str::to_owned).collect();
        event.reason = self.reason.clone();
        Ok(Some(NextState {
            lead,
            events: vec![event],
            extra,
        }))
    }
}

/// Validates input once without the lead, for what must be read before the
/// write: referenced users, and the do-not-call state of a new number.
async fn prepare(
    app: &App,
    org: OrgId,
    organisation: &Organisation,
    fields: &[(crate::fields::LeadField, Patch<Raw>)],
) -> Result<Option<bool>, LeadError> {
    let ctx = Context {
        organisation,
        existing: None,
        now: app.clock.now(),
    };
    let values = validate(fields.to_vec(), &ctx).map_err(LeadError::Invalid)?;
    check_references(app, org, &values).await?;
    Ok(match &values.phone_number {
        Patch::Set(phone) => Some(
            LeadsRepo::new(app.store.as_ref())
                .dnc_entry(org, phone)
                .await?
                .is_some(),
        ),
        _ => None,
    })
}

/// Changes fields of a lead (not its status). With `expected_version`, the
/// change applies only to that version of the lead.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn update(
    app: &App,
    org: OrgId,
    actor: &Actor,
    id: LeadId,
    input: LeadInput,
    expected_version: Option<u64>,
) -> Result<Lead, LeadError> {
    if !input.status.is_absent() {
        return Err(LeadError::field(
            "status",
            "change the status with PUT /api/v1/leads/{id}/status",
        ));
    }
    let organisation = organisation(app, org).await?;
    let fields = input.into_fields();
    let edit = Edit {
        organisation: &organisation,
        actor,
        new_number_listed: prepare(app, org, &organisation, &fields).await?,
        reason: None,
    };
    modify(app, org, id, expected_version.is_none(), |before, now| {
        if let Some(expected) = expected_version
            && expected != before.version
        {
            return Err(LeadError::VersionMismatch {
                expected,
                actual: before.version,
            });
        }
        let ctx = Context {
            organisation: &organisation,
            existing: Some(before),
            now,
        };
        let values = validate(fields.clone(), &ctx).map_err(LeadError::Invalid)?;
        edit.next(org, before, values, now)
    })
    .await
}

/// A status change as a person or the system asks for it.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub to: LeadStatus,
    pub reason: Option<String>,
    /// When the lead wants to be called back (with `callback_requested`).
    pub callback_at: Option<Timestamp>,
}

/// The lead in its next status, if the state machine allows the move.
pub fn next_status(
    before: &Lead,
    change: &StatusChange,
    mover: Mover,
    actor: &Actor,
    now: Timestamp,
) -> Result<Option<(Lead, TimelineEvent)>, LeadError> {
    let same_callback =
        change.callback_at.is_none() || change.callback_at == before.callback_scheduled_at;
    if before.status == change.to && same_callback {
        return Ok(None);
    }
    if before.status != change.to {
        before.status.check_transition(change.to, mover)?;
    }
    let mut lead = before.clone();
    lead.status = change.to;
    if change.to == LeadStatus::CallbackRequested {
        if let Some(at) = change.callback_at {
            lead.callback_scheduled_at = Some(at);
        }
    } else {
        lead.callback_scheduled_at = None;
    }
    if change.to == LeadStatus::FollowUp && before.status != LeadStatus::FollowUp {
        lead.follow_up_count += 1;
    }
    let mut event = TimelineEvent::new(&lead, EventKind::StatusChanged, actor, now);
    event.from = Some(before.status);
    event.to = Some(change.to);
    event.reason = change.reason.clone();
    Ok(Some((lead, event)))
}

/// Moves a lead to another status. Concurrent changes: exactly one wins, the
/// others get [`LeadError::ChangedConcurrently`]. With `expected_version`, the
/// move applies only to that version of the lead.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn change_status(
    app: &App,
    org: OrgId,
    actor: &Actor,
    id: LeadId,
    change: StatusChange,
    mover: Mover,
    expected_version: Option<u64>,
) -> Result<Lead, LeadError> {
    if let Some(reason) = &change.reason
        && reason.chars().count() > 500
    {
        return Err(LeadError::field("reason", "is longer than 500 characters"));
    }
    modify(app, org, id, false, |before, now| {
        if let Some(expected) = expected_version
            && expected != before.version
        {
            return Err(LeadError::VersionMismatch {
                expected,
                actual: before.version,
            });
        }
        Ok(
            next_status(before, &change, mover, actor, now)?.map(|(lead, event)| NextState {
                lead,
                events: vec![event],
                extra: Vec::new(),
            }),
        )
    })
    .await
}

/// Erases a lead and its timeline; an audit record without personal data
/// remains. The number stays on the do-not-call list if it was there.
/// `also` erases what other domains hold about the lead and answers the
/// operations to write with the erasure (the lead as read is given).
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn erase<F, Fut>(
    app: &App,
    org: OrgId,
    actor: &Actor,
    id: LeadId,
    reason: Option<String>,
    also: F,
) -> Result<(), LeadError>
where
    F: Fn(Lead) -> Fut,
    Fut: Future<Output = Result<Vec<WriteOp>, StoreError>>,
{
    let repo = LeadsRepo::new(app.store.as_ref());
    let organisation = organisation(app, org).await?;
    for _ in 0..STALE_RETRIES {
        let before = repo.lead(org, id).await?.ok_or(LeadError::NotFound)?;
        repo.delete_events(org, id).await?;
        let mut extra = also(before.clone()).await?;
        let now = app.clock.now();
        let audit = AuditRecord {
            id: EventId::new(),
            action: "lead_erased".to_owned(),
            lead_id: id,
            actor: actor.clone(),
            at: now,
            reason: reason.clone(),
        };
        extra.push(Put::new(&LEADS, audit.item(org)?).into());
        let change = LeadChange::new(Some(before), None, Vec::new());
        match repo
            .write(org, &organisation.time_zone.zone(), now, &[change], extra)
            .await
        {
            Ok(()) => {
                info!(org_id = %org, lead_id = %id, "lead erased");
                return Ok(());
            }
            // Something was written meanwhile (perhaps an event): erase again.
            Err(WriteError::Stale { .. }) => continue,
            Err(WriteError::Store(err)) => return Err(err.into()),
            Err(_) => return Err(LeadError::ChangedConcurrently),
        }
    }
    Err(LeadError::ChangedConcurrently)
}

pub const MAX_NOTE_CHARS: usize = 5000;

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn add_note(
    app: &App,
    org: OrgId,
    actor: &Actor,
    id: LeadId,
    text: &str,
) -> Result<TimelineEvent, LeadError> {
    // The limit applies to the text as sent, as the API document states it.
    if text.chars().count() > MAX_NOTE_CHARS {
        return Err(LeadError::field(
            "text",
            format!("is longer than {MAX_NOTE_CHARS} characters"),
        ));
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(LeadError::field("text", "is required"));
    }
    let lead = get(app, org, id).await?;
    let mut event = TimelineEvent::new(&lead, EventKind::Note, actor, app.clock.now());
    event.reason = Some(text.to_owned());
    let ops: Vec<WriteOp> = vec![
        ConditionCheck::new(
            &LEADS,
            lead_key(org, id),
            soraaya_store::Condition::exists("pk"),
        )
        .into(),
        Put::new(&LEADS, event.item(org)?).into(),
    ];
    match LeadsRepo::new(app.store.as_ref()).apply(ops).await {
        Ok(()) => Ok(event),
        Err(StoreError::Conflict { .. }) => Err(LeadError::NotFound),
        Err(err) => Err(err.into()),
    }
}

/// A page of a lead's timeline, newest first.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn timeline(
    app: &App,
    org: OrgId,
    id: LeadId,
    cursor: Option<Cursor>,
    limit: u32,
) -> Result<(Vec<TimelineEvent>, Option<Cursor>), LeadError> {
    get(app, org, id).await?;
    Ok(LeadsRepo::new(app.store.as_ref())
        .events(org, id, cursor, limit)
        .await?)
}

/// What a bulk update changes, as a client writes it (the fields of
/// `POST /api/v1/leads/bulk-update` besides the leads; the `changes` of a
/// bulk-update job).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct BulkChangesInput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Why, for the status change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// A campaign id, or `null` to take the leads out of their campaign.
    #[serde(skip_serializing_if = "Patch::is_absent")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub campaign_id: Patch<CampaignId>,
    /// A user id, or `null` to unassign.
    #[serde(skip_serializing_if = "Patch::is_absent")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub assigned_agent_id: Patch<UserId>,
}

/// A bulk update's changes, read.
#[derive(Debug, Clone)]
pub struct BulkChanges {
    pub status: Option<StatusChange>,
    pub priority: Option<Priority>,
    pub campaign_id: Patch<CampaignId>,
    pub assigned_agent_id: Patch<UserId>,
}

impl BulkChangesInput {
    pub fn parse(&self) -> Result<BulkChanges, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let priority = self
            .priority
            .as_deref()
            .and_then(|p| errors.check("priority", Priority::parse(p)));
        let status = match &self.status {
            Some(status) => match LeadStatus::parse(status) {
                Some(to) => Some(StatusChange {
                    to,
                    reason: self.reason.clone(),
                    callback_at: None,
                }),
                None => {
                    errors.add("status", format!("{status:?} is not a lead status"));
                    None
                }
            },
            None => None,
        };
        let changes = BulkChanges {
            status,
            priority,
            campaign_id: self.campaign_id.clone(),
            assigned_agent_id: self.assigned_agent_id.clone(),
        };
        if changes.status.is_none()
            && changes.priority.is_none()
            && changes.campaign_id.is_absent()
            && changes.assigned_agent_id.is_absent()
        {
            errors.add(
                "body",
                "change at least one of status, priority, campaign_id, assigned_agent_id",
            );
        }
        errors.finish()?;
        Ok(changes)
    }
}

/// A bulk update checked once (its campaign and user exist), for many leads.
pub struct PreparedBulkUpdate {
    changes: BulkChanges,
    values: LeadValues,
}

/// Reads and checks a bulk update's changes.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn prepare_bulk_update(
    app: &App,
    org: OrgId,
    input: &BulkChangesInput,
) -> Result<PreparedBulkUpdate, LeadError> {
    let changes = input.parse().map_err(LeadError::Invalid)?;
    let values = LeadValues {
        priority: changes.priority.map_or(Patch::Absent, Patch::Set),
        campaign_id: changes.campaign_id.clone(),
        assigned_agent_id: changes.assigned_agent_id.clone(),
        ..LeadValues::default()
    };
    check_references(app, org, &values).await?;
    Ok(PreparedBulkUpdate { changes, values })
}

/// Applies a checked bulk update to one lead, writing `extra` in the same
/// transaction when the lead changes; `wrote` tells whether it did.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org, lead_id = %id))]
pub async fn apply_bulk_update(
    app: &App,
    org: OrgId,
    actor: &Actor,
    id: LeadId,
    prepared: &PreparedBulkUpdate,
    extra: &[WriteOp],
    wrote: &AtomicBool,
) -> Result<Lead, LeadError> {
    let organisation = organisation(app, org).await?;
    let edit = Edit {
        organisation: &organisation,
        actor,
        new_number_listed: None,
        reason: Some("bulk update".into()),
    };
    let changes = &prepared.changes;
    let lead = modify(app, org, id, true, |before, now| {
        let mut events = Vec::new();
        let mut current = before.clone();
        if let Some(change) = &changes.status
            && let Some((moved, event)) = next_status(before, change, Mover::Person, actor, now)?
        {
            current = moved;
            events.push(event);
        }
        let next = match edit.next(org, &current, prepared.values.clone(), now)? {
            Some(mut next) => {
                events.append(&mut next.events);
                next.events = events;
                Some(next)
            }
            None if !events.is_empty() => Some(NextState {
                lead: current,
                events,
                extra: Vec::new(),
            }),
            None => None,
        };
        // Set on every try: a retry may find nothing left to change.
        wrote.store(next.is_some(), Ordering::Relaxed);
        Ok(next.map(|mut next| {
            next.extra.extend_from_slice(extra);
            next
        }))
    })
    .await?;
    Ok(lead)
}

/// Adds a number to the do-not-call list and marks its lead, if any.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn dnc_add(
    app: &App,
    org: OrgId,
    actor: &Actor,
    phone: &str,
    reason: Option<String>,
) -> Result<DncEntry, LeadError> {
    let organisation = organisation(app, org).await?;
    let phone = Phone::parse(phone, organisation.default_region)
        .map_err(|e| LeadError::field("phone_number", e.to_string()))?;
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 200) {
        return Err(LeadError::field("reason", "is longer than 200 characters"));
    }
    let repo = LeadsRepo::new(app.store.as_ref());
    if let Some(existing) = repo.dnc_entry(org, &phone).await? {
        return Ok(existing);
    }
    let entry = DncEntry {
        phone_number: phone.clone(),
        reason,
        added_by: actor.clone(),
        added_at: app.clock.now(),
    };
    set_lead_dnc(
        app,
        org,
        actor,
        &phone,
        true,
        LeadsRepo::dnc_put(org, &entry)?,
    )
    .await?;
    info!(org_id = %org, phone = %phone.masked(), "added to the do-not-call list");
    Ok(entry)
}

/// Removes a number from the do-not-call list and unmarks its lead, if any.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn dnc_remove(
    app: &App,
    org: OrgId,
    actor: &Actor,
    phone: &str,
) -> Result<(), LeadError> {
    let organisation = organisation(app, org).await?;
    let phone = Phone::parse(phone, organisation.default_region)
        .map_err(|e| LeadError::field("phone_number", e.to_string()))?;
    let repo = LeadsRepo::new(app.store.as_ref());
    if repo.dnc_entry(org, &phone).await?.is_none() {
        return Err(LeadError::NotOnDncList);
    }
    set_lead_dnc(
        app,
        org,
        actor,
        &phone,
        false,
        LeadsRepo::dnc_delete(org, &phone),
    )
    .await?;
    info!(org_id = %org, phone = %phone.masked(), "removed from the do-not-call list");
    Ok(())
}

/// Writes the list change together with the flag on the number's lead.
async fn set_lead_dnc(
    app: &App,
    org: OrgId,
    actor: &Actor,
    phone: &Phone,
    flag: bool,
    list_op: WriteOp,
) -> Result<(), LeadError> {
    let repo = LeadsRepo::new(app.store.as_ref());
    let owner = repo.phone_owners(org, &[phone]).await?.get(phone).copied();
    let Some(lead_id) = owner else {
        return Ok(repo.apply(vec![list_op]).await?);
    };
    let reason = if flag {
        "added to the do-not-call list"
    } else {
        "removed from the do-not-call list"
    };
    let result = modify(app, org, lead_id, true, |before, now| {
        let mut lead = before.clone();
        lead.do_not_call = flag;
        let mut event = TimelineEvent::new(&lead, EventKind::Updated, actor, now);
        event.fields = vec!["do_not_call".to_owned()];
        event.reason = Some(reason.to_owned());
        Ok(Some(NextState {
            lead,
            events: vec![event],
            extra: vec![list_op.clone()],
        }))
    })
    .await;
    match result {
        Ok(_) => Ok(()),
        // The lead went away meanwhile: the list change alone.
        Err(LeadError::NotFound) => Ok(repo.apply(vec![list_op]).await?),
        Err(err) => Err(err),
    }
}
