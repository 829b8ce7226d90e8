//! Erasing a person: the lead, its timeline, its calls and transcripts, and
//! the live-call slots a call in progress held. An audit record without
//! personal data remains.

use soraaya_core::App;
use soraaya_domain::{LeadId, OrgId};
use soraaya_leads::record::Actor;
use soraaya_leads::service::{self as leads, LeadError};

use crate::records::{erase_calls_of, release_slots};

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
        // A call in progress gives its slots back now: its end finds no lead.
        Ok(lead
            .live_call
            .as_ref()
            .map(|call| release_slots(org, call.campaign_id).to_vec())
            .unwrap_or_default())
    })
    .await
}
