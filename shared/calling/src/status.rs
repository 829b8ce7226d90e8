//! What calling looks like now, and how a campaign has done: read from the
//! live-call slots and the counters kept on write, never by scanning leads.

use std::collections::BTreeMap;

use serde::Serialize;
use soraaya_domain::{Campaign, CampaignId, CampaignStatus, LeadStatus, OrgId};
use utoipa::ToSchema;

use crate::CallingError;
use crate::records::{CallAttempt, SlotScope, live_calls, recent_calls};
use soraaya_core::App;
use soraaya_core::records::Records;
use soraaya_domain::CallResult;
use soraaya_leads::counters::{Scope, Tally};
use soraaya_leads::repo::LeadsRepo;

const RESULTS: [CallResult; 5] = [
    CallResult::Connected,
    CallResult::NoAnswer,
    CallResult::Busy,
    CallResult::Voicemail,
    CallResult::Failed,
];

/// Calls counted over some period.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct CallTotals {
    pub placed: i64,
    /// Calls that ended, whatever the result.
    pub completed: i64,
    /// `connected`, `no_answer`, `busy`, `voicemail`, `failed`.
    pub by_result: BTreeMap<String, i64>,
    pub talk_seconds: i64,
    pub average_seconds: Option<f64>,
    /// US dollars.
    pub cost: f64,
}

impl CallTotals {
    fn from_tally(tally: &Tally) -> CallTotals {
        let completed = count(tally.calls_ended);
        let talk_seconds = count(tally.call_seconds);
        CallTotals {
            placed: count(tally.calls_placed),
            completed,
            by_result: RESULTS
                .iter()
                .map(|r| (r.as_str().to_owned(), count(tally.calls(*r))))
                .collect(),
            talk_seconds,
            average_seconds: (completed > 0).then(|| talk_seconds as f64 / completed as f64),
            cost: tally.call_cost_cents as f64 / 100.0,
        }
    }

    fn result(&self, result: CallResult) -> i64 {
        self.by_result.get(result.as_str()).copied().unwrap_or(0)
    }
}

/// A counter as the API reports it.
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn today(app: &App, zone: &jiff::tz::TimeZone) -> jiff::civil::Date {
    zone.to_datetime(app.clock.now()).date()
}

/// How a campaign is doing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CampaignPerformance {
    pub campaign_id: CampaignId,
    pub name: String,
    pub status: CampaignStatus,
    pub paused_reason: Option<String>,
    /// Leads in the campaign.
    pub leads: i64,
    /// Leads by status.
    pub by_status: BTreeMap<String, i64>,
    /// Leads waiting for the dialer.
    pub queued: i64,
    pub live_calls: u32,
    pub max_concurrent_calls: u32,
    pub calls: CallTotals,
    pub today: CallTotals,
    /// Share of ended calls where someone spoke with the agent.
    pub contact_rate: Option<f64>,
    /// Qualified leads per lead that was spoken with.
    pub qualification_rate: Option<f64>,
    /// The last calls, newest first.
    pub recent_calls: Vec<CallAttempt>,
    /// The campaign's A/B test, when it runs one: each variant's results
    /// with confidence intervals, and whether the leader's lead is settled.
    pub ab_test: Option<soraaya_insights::ab::AbTest>,
}

fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 1000.0).round() / 1000.0)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn performance(
    app: &App,
    campaign: &Campaign,
) -> Result<CampaignPerformance, CallingError> {
    let org = campaign.org_id;
    let organisation = soraaya_accounts::org(app, org).await?;
    let repo = LeadsRepo::new(app.store.as_ref());
    let totals = repo.counters(org, Scope::Campaign(campaign.id)).await?;
    let day = today(app, &organisation.time_zone.zone());
    let day = repo
        .counters(org, Scope::CampaignDay(day, campaign.id))
        .await?;
    let by_status: BTreeMap<String, i64> = LeadStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), count(totals.status(*s))))
        .collect();
    let calls = CallTotals::from_tally(&totals);
    let spoken_with: i64 = LeadStatus::SPOKEN_WITH
        .iter()
        .map(|s| by_status.get(s.as_str()).copied().unwrap_or(0))
        .sum();
    Ok(CampaignPerformance {
        campaign_id: campaign.id,
        name: campaign.name.clone(),
        status: campaign.status,
        paused_reason: campaign.paused_reason.clone(),
        leads: count(totals.total),
        queued: count(totals.queued),
        live_calls: live_calls(app.store.as_ref(), org, SlotScope::Campaign(campaign.id)).await?,
        max_concurrent_calls: campaign.settings.max_concurrent_calls,
        contact_rate: rate(calls.result(CallResult::Connected), calls.completed),
        qualification_rate: rate(
            by_status.get("qualified").copied().unwrap_or(0),
            spoken_with,
        ),
        by_status,
        today: CallTotals::from_tally(&day),
        calls,
        recent_calls: recent_calls(app.store.as_ref(), org, campaign.id, 20).await?,
        ab_test: soraaya_insights::ab::ab_test(app.store.as_ref(), campaign).await?,
    })
}

/// One campaign in the calling status.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CampaignCalling {
    pub campaign_id: CampaignId,
    pub name: String,
    pub status: CampaignStatus,
    pub paused_reason: Option<String>,
    pub live_calls: u32,
    pub max_concurrent_calls: u32,
    pub queued: i64,
    pub completed_today: i64,
    pub failed_today: i64,
}

/// Calling across the organisation, now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallingStatus {
    /// Live calls of the organisation.
    pub live_calls: u32,
    /// Most live calls the organisation may have.
    pub max_concurrent_calls: u32,
    pub queued: i64,
    pub completed_today: i64,
    pub failed_today: i64,
    /// Active and paused campaigns, and any other with calls still live.
    pub campaigns: Vec<CampaignCalling>,
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn calling_status(app: &App, org: OrgId) -> Result<CallingStatus, CallingError> {
    let organisation = soraaya_accounts::org(app, org).await?;
    let day = today(app, &organisation.time_zone.zone());
    let repo = LeadsRepo::new(app.store.as_ref());
    let mut campaigns = Vec::new();
    for campaign in Records::new(app.store.as_ref())
        .list::<Campaign>(org)
        .await?
    {
        let live = live_calls(app.store.as_ref(), org, SlotScope::Campaign(campaign.id)).await?;
        if !matches!(
            campaign.status,
            CampaignStatus::Active | CampaignStatus::Paused
        ) && live == 0
        {
            continue;
        }
        let totals = repo.counters(org, Scope::Campaign(campaign.id)).await?;
        let today = CallTotals::from_tally(
            &repo
                .counters(org, Scope::CampaignDay(day, campaign.id))
                .await?,
        );
        campaigns.push(CampaignCalling {
            campaign_id: campaign.id,
            name: campaign.name,
            status: campaign.status,
            paused_reason: campaign.paused_reason,
            live_calls: live,
            max_concurrent_calls: campaign.settings.max_concurrent_calls,
            queued: count(totals.queued),
            completed_today: today.completed,
            failed_today: today.result(CallResult::Failed),
        });
    }
    let all = repo.counters(org, Scope::All).await?;
    let today = CallTotals::from_tally(&repo.counters(org, Scope::Day(day)).await?);
    Ok(CallingStatus {
        live_calls: live_calls(app.store.as_ref(), org, SlotScope::Organisation).await?,
        max_concurrent_calls: crate::line::org_cap(app, org).await?,
        queued: count(all.queued),
        completed_today: today.completed,
        failed_today: today.result(CallResult::Failed),
        campaigns,
    })
}
