//! Which leads a campaign holds: assigning leads (queued at once when the
//! campaign is calling), new leads from a campaign's chosen sources joining
//! it by themselves (speed to lead), and deleting a campaign, which lets its
//! leads go.

use serde::Serialize;
use soraaya_campaigns::CampaignError;
use soraaya_campaigns::service::CampaignFilter;
use soraaya_campaigns::service::{self as campaigns, get_campaign};
use soraaya_core::App;
use soraaya_core::validation::Patch;
use soraaya_domain::{Campaign, CampaignId, CampaignStatus, Lead, LeadId, OrgId};
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

/// Which campaign calls new leads from `source`: of those set to, one that
/// calls now before a paused or draft one, then the oldest.
fn calling_source<'a>(campaigns: &'a [Campaign], source: &str) -> Option<&'a Campaign> {
    campaigns
        .iter()
        .filter(|c| {
            !matches!(
                c.status,
                CampaignStatus::Completed | CampaignStatus::Archived
            )
        })
        .filter(|c| {
            c.auto_call_sources
                .iter()
                .any(|s| s.eq_ignore_ascii_case(source))
        })
        .min_by_key(|c| (c.status != CampaignStatus::Active, c.created_at, c.id))
}

/// Speed to lead: each new lead that no campaign holds yet joins the
/// campaign set to call its source, and is queued at once while that
/// campaign calls (inside its window; at the window's next opening
/// otherwise). Answers the campaign each lead joined.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org, leads = leads.len()))]
pub async fn call_new_leads(
    app: &App,
    org: OrgId,
    actor: &Actor,
    leads: &[Lead],
) -> Result<Vec<(LeadId, CampaignId)>, CallingError> {
    let waiting: Vec<&Lead> = leads
        .iter()
        .filter(|l| l.campaign_id.is_none() && l.lead_source.is_some())
        .collect();
    if waiting.is_empty() {
        return Ok(Vec::new());
    }
    let campaigns = campaigns::list_campaigns(app, org, &CampaignFilter::default()).await?;
    let mut chosen: Vec<(CampaignId, Vec<LeadId>)> = Vec::new();
    for lead in waiting {
        let source = lead.lead_source.as_deref().unwrap_or_default();
        let Some(campaign) = calling_source(&campaigns, source) else {
            continue;
        };
        match chosen.iter_mut().find(|(id, _)| *id == campaign.id) {
            Some((_, ids)) => ids.push(lead.id),
            None => chosen.push((campaign.id, vec![lead.id])),
        }
    }
    let mut joined = Vec::new();
    for (campaign, ids) in chosen {
        let assignment = assign_leads(app, org, actor, campaign, &ids).await?;
        info!(
            org_id = %org,
            campaign_id = %campaign,
            joined = assignment.assigned,
            queued = assignment.queued.as_ref().map_or(0, |q| q.queued),
            "new leads joined the campaign calling their source"
        );
        joined.extend(
            assignment
                .results
                .iter()
                .filter(|r| r.ok)
                .map(|r| (r.lead_id, campaign)),
        );
    }
    Ok(joined)
}
