//! Every campaign side by side, with its timeline for a Gantt chart.

use jiff::civil::Date;
use serde::Serialize;
use soraaya_campaigns::service::{CampaignFilter, list_campaigns};
use soraaya_core::App;
use soraaya_domain::{CampaignId, CampaignStatus, LeadStatus, OrgId};
use soraaya_leads::counters::Scope;
use soraaya_leads::repo::LeadsRepo;
use utoipa::ToSchema;

use crate::{DashboardError, connected, count, in_statuses, percent, round2};

/// Statuses a campaign is done with: nothing more for the dialer to do.
const SETTLED: [LeadStatus; 5] = [
    LeadStatus::Qualified,
    LeadStatus::NotInterested,
    LeadStatus::Unresponsive,
    LeadStatus::HumanInputNeeded,
    LeadStatus::HumanFollowUp,
];

/// A campaign's span and how far it has come.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CampaignTimeline {
    #[schema(value_type = Option<String>, format = Date)]
    pub start_date: Option<Date>,
    #[schema(value_type = Option<String>, format = Date)]
    pub end_date: Option<Date>,
    /// Leads the dialer is done with (qualified, not interested,
    /// unresponsive, or with a person).
    pub settled_leads: i64,
    /// Settled leads in all its leads, in percent.
    pub progress: Option<f64>,
}

/// One campaign's figures since it began.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CampaignComparison {
    pub campaign_id: CampaignId,
    pub name: String,
    pub status: CampaignStatus,
    pub leads: i64,
    /// Calls that ended, whatever the result.
    pub calls: i64,
    pub connected: i64,
    /// Connected per ended call, in percent.
    pub connect_rate: Option<f64>,
    /// Leads qualified now.
    pub qualified: i64,
    /// Qualified leads per lead, in percent.
    pub conversion_rate: Option<f64>,
    /// US dollars.
    pub cost: f64,
    /// US dollars per qualified lead.
    pub cost_per_qualified: Option<f64>,
    pub timeline: CampaignTimeline,
}

/// Every campaign of the organisation, newest first, read in one batch of
/// counters items.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn campaigns(app: &App, org: OrgId) -> Result<Vec<CampaignComparison>, DashboardError> {
    let campaigns = list_campaigns(app, org, &CampaignFilter::default()).await?;
    let scopes: Vec<Scope> = campaigns.iter().map(|c| Scope::Campaign(c.id)).collect();
    let tallies = LeadsRepo::new(app.store.as_ref())
        .counters_of(org, &scopes)
        .await?;
    Ok(campaigns
        .into_iter()
        .zip(tallies)
        .map(|(campaign, tally)| {
            let qualified = tally.status(LeadStatus::Qualified);
            let settled = in_statuses(&tally, &SETTLED);
            let cost = tally.call_cost_cents as f64 / 100.0;
            CampaignComparison {
                campaign_id: campaign.id,
                name: campaign.name,
                status: campaign.status,
                leads: count(tally.total),
                calls: count(tally.calls_ended),
                connected: count(connected(&tally)),
                connect_rate: percent(connected(&tally), tally.calls_ended),
                qualified: count(qualified),
                conversion_rate: percent(qualified, tally.total),
                cost: round2(cost),
                cost_per_qualified: (qualified > 0).then(|| round2(cost / qualified as f64)),
                timeline: CampaignTimeline {
                    start_date: campaign.start_date,
                    end_date: campaign.end_date,
                    settled_leads: count(settled),
                    progress: percent(settled, tally.total),
                },
            }
        })
        .collect())
}
