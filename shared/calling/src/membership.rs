//! Which leads a campaign holds: assigning leads (queued at once when the
//! campaign is calling), and deleting a campaign, which lets its leads go.

use serde::Serialize;
use soraaya_campaigns::CampaignError;
use soraaya_campaigns::service::{self as campaigns, get_campaign};
use soraaya_core::App;
use soraaya_core::validation::Patch;
use soraaya_domain::{CampaignId, CampaignStatus, LeadId, OrgId};
use soraaya_leads::record::Actor;
use soraaya_leads::repo::{LeadChange, LeadsRepo};
use soraaya_leads::service::{self as leads, BulkChangesInput, LeadError};
use std::sync::atomic::AtomicBool;
use tracing::info;
use utoipa::ToSchema;

use crate::CallingError;
use crate::control::{QueueReport, campaign_leads, queue_leads, unqueue};

/// Leads written per transaction when a campaign lets go of its leads.
const DETACH_BATCH: usize = 30;

/// Deletes a campaign that is not calling; its leads stay, outside any
/// campaign. Answers how many leads it let go.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn delete_campaign(app: &App, org: OrgId, id: CampaignId) -> Result<usize, CallingError> {
    let campaign = get_campaign(app, org, id).await?;
    if campaign.status == CampaignStatus::Active {
        return Err(
            CampaignError::InUse("the campaign is calling; pause or stop it first".into()).into(),
        );
    }
    unqueue(app, &campaign).await?;
    let zone = soraaya_accounts::org(app, org).await?.time_zone.zone();
    let repo = LeadsRepo::new(app.store.as_ref());
    let leads = campaign_leads(app, org, id).await?;
    let now = app.clock.now();
    let changes: Vec<LeadChange> = leads
        .into_iter()
        .filter(|lead| lead.live_call.is_none())
        .map(|lead| {
            let mut after = lead.clone();
            after.campaign_id = None;
            after.queued = None;
            after.next_call_at = None;
            after.next_call_reason = None;
            after.updated_at = now;
            LeadChange::new(Some(lead), Some(after), Vec::new())
        })
        .collect();
    let total = changes.len();
    // A lead changed meanwhile keeps its campaign id, which then names nothing.
    let left = repo
        .write_each(org, &zone, now, changes, DETACH_BATCH)
        .await?;
    let detached = total - left.len();
    campaigns::delete_campaign(app, &campaign).await?;
    info!(org_id = %org, campaign_id = %id, detached, "campaign deleted");
    Ok(detached)
}

/// What happened to one lead of an assignment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignResult {
    pub lead_id: LeadId,
    pub ok: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Assignment {
    pub assigned: usize,
    pub failed: usize,
    pub results: Vec<AssignResult>,
    /// When the campaign is calling, what queueing the newly assigned leads did.
    pub queued: Option<QueueReport>,
}

/// Puts leads in a campaign; when it is calling, they are queued at once.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn assign_leads(
    app: &App,
    org: OrgId,
    actor: &Actor,
    id: CampaignId,
    lead_ids: &[LeadId],
) -> Result<Assignment, CallingError> {
    let campaign = get_campaign(app, org, id).await?;
    if matches!(
        campaign.status,
        CampaignStatus::Completed | CampaignStatus::Archived
    ) {
        return Err(CampaignError::InUse(format!(
            "a {} campaign takes no more leads",
            campaign.status
        ))
        .into());
    }
    let changes = BulkChangesInput {
        campaign_id: Patch::Set(id),
        ..BulkChangesInput::default()
    };
    let prepared = leads::prepare_bulk_update(app, org, &changes).await?;
    let mut results = Vec::with_capacity(lead_ids.len());
    let mut assigned_leads = Vec::new();
    for &lead_id in lead_ids {
        let wrote = AtomicBool::new(false);
        match leads::apply_bulk_update(app, org, actor, lead_id, &prepared, &[], &wrote).await {
            Ok(lead) => {
                assigned_leads.push(lead);
                results.push(AssignResult {
                    lead_id,
                    ok: true,
                    error: None,
                });
            }
            Err(
                err @ (LeadError::NotFound
                | LeadError::Invalid(_)
                | LeadError::Transition(_)
                | LeadError::ChangedConcurrently),
            ) => {
                let message = match &err {
                    LeadError::Invalid(fields) => fields
                        .iter()
                        .map(|f| format!("{} {}", f.field, f.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                    other => other.to_string(),
                };
                results.push(AssignResult {
                    lead_id,
                    ok: false,
                    error: Some(message),
                });
            }
            Err(err) => return Err(err.into()),
        }
    }
    let queued = if campaign.status == CampaignStatus::Active && !assigned_leads.is_empty() {
        Some(queue_leads(app, &campaign, assigned_leads).await?)
    } else {
        None
    };
    let assigned = results.iter().filter(|r| r.ok).count();
    Ok(Assignment {
        assigned,
        failed: results.len() - assigned,
        results,
        queued,
    })
}
