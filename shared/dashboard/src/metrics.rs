//! The twelve KPIs of the dashboard, each with its value in the previous
//! period of the same length.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Serialize;
use soraaya_calling::records::{SlotScope, live_calls};
use soraaya_core::App;
use soraaya_domain::{CampaignId, LeadStatus, OrgId};
use soraaya_leads::counters::Tally;
use utoipa::ToSchema;

use crate::{
    DashboardError, DateRange, View, before_period, connected, count, first_day, in_statuses,
    in_statuses_before, percent, round1, round2, sum,
};

/// What a KPI measures in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KpiUnit {
    Count,
    Percent,
    Seconds,
    PerHour,
    /// US dollars.
    Usd,
}

/// One KPI: its value now (or over the period), the same measure over the
/// previous period, and the change between them. `null` where there is
/// nothing to measure (a rate without calls) or nothing to compare with.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Kpi {
    pub value: Option<f64>,
    pub previous: Option<f64>,
    /// `value - previous`.
    pub change: Option<f64>,
    pub unit: KpiUnit,
}

impl Kpi {
    fn new(unit: KpiUnit, value: Option<f64>, previous: Option<f64>) -> Kpi {
        let change = value.zip(previous).map(|(v, p)| round2(v - p));
        Kpi {
            value,
            previous,
            change,
            unit,
        }
    }

    fn count(value: u64, previous: Option<u64>) -> Kpi {
        Kpi::new(
            KpiUnit::Count,
            Some(value as f64),
            previous.map(|p| p as f64),
        )
    }
}

/// The days a dashboard compares, in the organisation's time zone.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Period {
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    /// Today.
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    #[schema(value_type = String, format = Date)]
    pub previous_from: Date,
    #[schema(value_type = String, format = Date)]
    pub previous_to: Date,
    /// IANA name of the organisation's time zone.
    pub time_zone: String,
}

/// The dashboard's KPIs. Counts of leads now compare with the same count at
/// the end of the previous period; measures of a period compare with the
/// previous period; "today" compares with yesterday.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DashboardMetrics {
    pub date_range: DateRange,
    pub campaign_id: Option<CampaignId>,
    pub period: Period,
    /// Leads now.
    pub total_leads: Kpi,
    /// Leads qualified now.
    pub qualified_leads: Kpi,
    /// Qualified leads in all leads now, in percent.
    pub qualified_share: Option<f64>,
    /// Calls under way now (no previous value).
    pub active_calls: Kpi,
    /// Leads that became qualified in the period per connected call, in percent.
    pub conversion_rate: Kpi,
    /// Leads created today (previous: yesterday).
    pub leads_added_today: Kpi,
    /// Today's new leads by source (lower case; `unknown` without one).
    pub leads_added_today_by_source: BTreeMap<String, i64>,
    /// Calls that ended today, whatever the result (previous: yesterday).
    pub calls_completed_today: Kpi,
    /// Today's ended calls that connected, in percent.
    pub calls_completed_today_success_rate: Option<f64>,
    /// Seconds per ended call in the period.
    pub average_call_duration: Kpi,
    /// Leads now waiting for a person (`human_input_needed`, `human_follow_up`).
    pub human_intervention_required: Kpi,
    /// Ended calls in the period that connected, in percent.
    pub call_success_rate: Kpi,
    /// Leads ever called that have spoken with the agent (their status says
    /// so: qualified, not interested, follow up, callback, or with a person), in percent.
    pub lead_response_rate: Kpi,
    /// Leads qualified in the period per hour of calls.
    pub qualified_per_hour: Kpi,
    /// Cost of the period's calls per lead qualified in it, US dollars.
    pub cost_per_qualified_lead: Kpi,
}

/// What one period's days add up to, for the measures of a period.
struct PeriodMeasures {
    conversion_rate: Option<f64>,
    average_call_duration: Option<f64>,
    call_success_rate: Option<f64>,
    qualified_per_hour: Option<f64>,
    cost_per_qualified_lead: Option<f64>,
}

impl PeriodMeasures {
    fn of(period: &Tally) -> PeriodMeasures {
        let qualified = period.entered(LeadStatus::Qualified);
        let hours = period.call_seconds as f64 / 3600.0;
        PeriodMeasures {
            conversion_rate: percent(qualified, connected(period)),
            average_call_duration: (period.calls_ended > 0)
                .then(|| round1(period.call_seconds as f64 / period.calls_ended as f64)),
            call_success_rate: percent(connected(period), period.calls_ended),
            qualified_per_hour: (period.call_seconds > 0).then(|| round2(qualified as f64 / hours)),
            cost_per_qualified_lead: (qualified > 0)
                .then(|| round2(period.call_cost_cents as f64 / 100.0 / qualified as f64)),
        }
    }
}

/// The dashboard's KPIs for the organisation or one of its campaigns.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn metrics(
    app: &App,
    org: OrgId,
    range: DateRange,
    campaign: Option<CampaignId>,
) -> Result<DashboardMetrics, DashboardError> {
    let view = View::open(app, org, campaign).await?;
    let n = range.days();
    let from = first_day(view.today, n);
    let previous_to = from.yesterday().unwrap_or(from);
    let previous_from = first_day(previous_to, n);
    let (now, days, live) = futures::join!(
        view.now(),
        view.days(previous_from, view.today),
        live_calls(
            app.store.as_ref(),
            org,
            campaign.map_or(SlotScope::Organisation, SlotScope::Campaign),
        ),
    );
    let (now, days, live) = (now?, days?, live?);
    let in_range = |a: Date, b: Date| days.iter().filter(move |(d, _)| *d >= a && *d <= b);
    let this = sum(in_range(from, view.today).map(|(_, t)| t));
    let previous = sum(in_range(previous_from, previous_to).map(|(_, t)| t));
    let on = |day: Option<Date>| {
        days.iter()
            .find(|(d, _)| Some(*d) == day)
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    };
    let today = on(Some(view.today));
    let yesterday = on(view.today.yesterday().ok());

    let qualified = LeadStatus::Qualified;
    let spoken_now = in_statuses(&now, &LeadStatus::SPOKEN_WITH);
    let spoken_before = in_statuses_before(&now, &this, &LeadStatus::SPOKEN_WITH);
    let called_before = now.called.saturating_sub(this.newly_called);
    let measures = PeriodMeasures::of(&this);
    let before = PeriodMeasures::of(&previous);

    Ok(DashboardMetrics {
        date_range: range,
        campaign_id: campaign,
        period: Period {
            from,
            to: view.today,
            previous_from,
            previous_to,
            time_zone: view.time_zone.clone(),
        },
        total_leads: Kpi::count(
            now.total,
            Some(before_period(now.total, this.arrived, this.departed)),
        ),
        qualified_leads: Kpi::count(
            now.status(qualified),
            Some(before_period(
                now.status(qualified),
                this.entered(qualified),
                this.left(qualified),
            )),
        ),
        qualified_share: percent(now.status(qualified), now.total),
        active_calls: Kpi::count(u64::from(live), None),
        conversion_rate: Kpi::new(
            KpiUnit::Percent,
            measures.conversion_rate,
            before.conversion_rate,
        ),
        leads_added_today: Kpi::count(today.created, Some(yesterday.created)),
        leads_added_today_by_source: today
            .created_by_source()
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(source, n)| (source.clone(), count(*n)))
            .collect(),
        calls_completed_today: Kpi::count(today.calls_ended, Some(yesterday.calls_ended)),
        calls_completed_today_success_rate: percent(connected(&today), today.calls_ended),
        average_call_duration: Kpi::new(
            KpiUnit::Seconds,
            measures.average_call_duration,
            before.average_call_duration,
        ),
        human_intervention_required: Kpi::count(
            in_statuses(&now, &LeadStatus::NEEDS_A_PERSON),
            Some(in_statuses_before(&now, &this, &LeadStatus::NEEDS_A_PERSON)),
        ),
        call_success_rate: Kpi::new(
            KpiUnit::Percent,
            measures.call_success_rate,
            before.call_success_rate,
        ),
        lead_response_rate: Kpi::new(
            KpiUnit::Percent,
            percent(spoken_now, now.called),
            percent(spoken_before, called_before),
        ),
        qualified_per_hour: Kpi::new(
            KpiUnit::PerHour,
            measures.qualified_per_hour,
            before.qualified_per_hour,
        ),
        cost_per_qualified_lead: Kpi::new(
            KpiUnit::Usd,
            measures.cost_per_qualified_lead,
            before.cost_per_qualified_lead,
        ),
    })
}
