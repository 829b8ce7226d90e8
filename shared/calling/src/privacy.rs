//! A person's data: everything held about them as one document (for an
//! access request), and erasing it: the lead, its timeline, its calls and
//! transcripts (recordings' references with them), the notifications that
//! name them, and the live-call slots a call in progress held. An audit
//! record without personal data remains.

use jiff::Timestamp;
use serde::Serialize;
use soraaya_accounts::Caller;
use soraaya_accounts::audit::{self, AuditEntity, AuditEntry};
use soraaya_core::App;
use soraaya_domain::{Lead, LeadId, Notification, OrgId};
use soraaya_leads::record::{Actor, TimelineEvent};
use soraaya_leads::repo::{DncEntry, LeadsRepo};
use soraaya_leads::service::{self as leads, LeadError};
use utoipa::ToSchema;

use crate::CallingError;
use crate::records::{Transcript, erase_calls_of, release_slots, retained, transcripts_of};

/// Everything held about one person.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonalData {
    #[schema(value_type = String, format = DateTime)]
    pub exported_at: Timestamp,
    /// Contact, preferences, consent, do-not-call, notes, assignment, score.
    pub lead: Lead,
    /// The number's do-not-call entry, if it has one.
    pub do_not_call_entry: Option<DncEntry>,
    /// Every event, newest first (the notes among them).
    pub timeline: Vec<TimelineEvent>,
    /// The calls' transcripts, newest first, with their analysis and
    /// recording references (within the organisation's retention).
    pub transcripts: Vec<Transcript>,
    /// The notifications about the person.
    pub notifications: Vec<Notification>,
}

/// The document of everything held about a lead, for `by`; the audit
/// records who read it and when.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %by.org_id))]
pub async fn personal_data(
    app: &App,
    by: &Caller,
    id: LeadId,
) -> Result<PersonalData, CallingError> {
    let org = by.org_id;
    let lead = leads::get(app, org, id).await?;
    let store = app.store.as_ref();
    let repo = LeadsRepo::new(store);
    let mut timeline = Vec::new();
    let mut cursor = None;
    loop {
        let (events, next) = repo.events(org, id, cursor, 500).await?;
        timeline.extend(events);
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let retention = soraaya_accounts::org(app, org)
        .await?
        .settings
        .data_retention;
    let now = app.clock.now();
    let entry = AuditEntry::by(
        by,
        now,
        AuditEntity::Lead,
        id,
        "export_personal_data",
        Vec::new(),
    );
    store.put(audit::record(org, &entry)?).await?;
    Ok(PersonalData {
        exported_at: now,
        do_not_call_entry: repo.dnc_entry(org, &lead.phone_number).await?,
        timeline,
        transcripts: retained(transcripts_of(store, org, id).await?, retention, now),
        notifications: soraaya_notifications::of_lead(store, org, id).await?,
        lead,
    })
}

/// Erases a lead and everything held about it.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn erase_lead(
    app: &App,
    org: OrgId,
    actor: &Actor,
    id: LeadId,
    reason: Option<String>,
) -> Result<(), LeadError> {
    let store = app.store.as_ref();
    leads::erase(app, org, actor, id, reason, |lead| async move {
        erase_calls_of(store, org, lead.id).await?;
        soraaya_notifications::erase_of_lead(store, org, lead.id).await?;
        // A call in progress gives its slots back now: its end finds no lead.
        Ok(lead
            .live_call
            .as_ref()
            .map(|call| release_slots(org, call.campaign_id).to_vec())
            .unwrap_or_default())
    })
    .await
}
