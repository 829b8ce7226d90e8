//! The dashboard: the spec's twelve KPIs with their change against the
//! previous period, the daily trend, the status distribution, call volume
//! by hour of the week, lead sources and the campaign comparison.
//!
//! Every figure is read from the counters the lead writes keep in the same
//! transaction as the change they count ([`soraaya_leads::counters`]): one
//! item per organisation and campaign (the leads now), one per day (what
//! happened that day, in the organisation's time zone) and one of calls by
//! hour. A dashboard reads at most a few hundred small items, whatever the
//! number of leads or calls; none of it scans.
//!
//! Counts of leads now (total, qualified, needing a person) are compared
//! with the same count at the end of the previous period, which follows
//! from today's count and the moves in and out recorded by day since.

mod campaigns;
mod charts;
mod metrics;
pub mod reports;

use std::fmt;

use jiff::civil::Date;
use serde::Serialize;
use soraaya_core::App;
use soraaya_domain::{CallResult, CampaignId, LeadStatus, OrgId};
use soraaya_leads::counters::{Scope, Tally};
use soraaya_leads::repo::LeadsRepo;
use utoipa::ToSchema;

pub use campaigns::{CampaignComparison, CampaignTimeline, campaigns};
pub use charts::{
    CallVolume, HourVolume, SourcePerformance, StatusDistribution, StatusShare, TrendDay, Trends,
    WeekdayVolume, call_volume, lead_sources, status_distribution, trends,
};
pub use metrics::{DashboardMetrics, Kpi, KpiUnit, Period, metrics};

#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error(transparent)]
    Campaign(#[from] soraaya_campaigns::service::CampaignError),
    #[error(transparent)]
    Account(#[from] soraaya_accounts::AccountError),
    #[error(transparent)]
    Store(#[from] soraaya_store::StoreError),
}

/// The period a dashboard looks at: the last 7, 30 or 90 days, today included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, ToSchema)]
pub enum DateRange {
    #[serde(rename = "7d")]
    #[default]
    Days7,
    #[serde(rename = "30d")]
    Days30,
    #[serde(rename = "90d")]
    Days90,
}

impl DateRange {
    pub const ALLOWED: &'static str = "7d, 30d or 90d";

    pub fn parse(text: &str) -> Option<DateRange> {
        match text.trim().to_ascii_lowercase().as_str() {
            "7d" | "7" => Some(DateRange::Days7),
            "30d" | "30" => Some(DateRange::Days30),
            "90d" | "90" => Some(DateRange::Days90),
            _ => None,
        }
    }

    pub fn days(self) -> i16 {
        match self {
            DateRange::Days7 => 7,
            DateRange::Days30 => 30,
            DateRange::Days90 => 90,
        }
    }
}

impl fmt::Display for DateRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}d", self.days())
    }
}

/// Most days a trend covers.
pub const MAX_TREND_DAYS: u16 = 90;

/// What one dashboard reads: whose, which campaign (or all), in which zone.
struct View<'a> {
    app: &'a App,
    org: OrgId,
    campaign: Option<CampaignId>,
    time_zone: String,
    today: Date,
}

impl<'a> View<'a> {
    /// The organisation's view, or one campaign's (which must be the organisation's).
    async fn open(
        app: &'a App,
        org: OrgId,
        campaign: Option<CampaignId>,
    ) -> Result<View<'a>, DashboardError> {
        if let Some(id) = campaign {
            soraaya_campaigns::service::get_campaign(app, org, id).await?;
        }
        let organisation = soraaya_accounts::org(app, org).await?;
        let zone = organisation.time_zone.zone();
        let today = zone.to_datetime(app.clock.now()).date();
        Ok(View {
            app,
            org,
            campaign,
            time_zone: organisation.time_zone.to_string(),
            today,
        })
    }

    fn repo(&self) -> LeadsRepo<'a> {
        LeadsRepo::new(self.app.store.as_ref())
    }

    /// The counts of leads now.
    async fn now(&self) -> Result<Tally, DashboardError> {
        Ok(self
            .repo()
            .counters(self.org, Scope::of(self.campaign))
            .await?)
    }

    /// Each day's counts from `from` to `to`, both included, oldest first.
    async fn days(&self, from: Date, to: Date) -> Result<Vec<(Date, Tally)>, DashboardError> {
        let dates: Vec<Date> = from
            .series(jiff::Span::new().days(1))
            .take_while(|d| *d <= to)
            .collect();
        let scopes: Vec<Scope> = dates
            .iter()
            .map(|d| Scope::day_of(self.campaign, *d))
            .collect();
        let tallies = self.repo().counters_of(self.org, &scopes).await?;
        Ok(dates.into_iter().zip(tallies).collect())
    }
}

/// `days` days ending `ends` (included): its first day.
fn first_day(ends: Date, days: i16) -> Date {
    ends.saturating_sub(jiff::Span::new().days(i64::from(days) - 1))
}

/// The sum of days.
fn sum<'t>(days: impl IntoIterator<Item = &'t Tally>) -> Tally {
    days.into_iter().fold(Tally::default(), |mut sum, day| {
        sum.merge(day);
        sum
    })
}

/// Leads in some statuses now.
fn in_statuses(tally: &Tally, statuses: &[LeadStatus]) -> u64 {
    statuses.iter().map(|s| tally.status(*s)).sum()
}

/// The same count at the start of a period: now, less what came in since, plus what went out.
fn before_period(now: u64, came_in: u64, went_out: u64) -> u64 {
    (now + went_out).saturating_sub(came_in)
}

/// Leads in some statuses at the start of the period whose moves `period` sums.
fn in_statuses_before(now: &Tally, period: &Tally, statuses: &[LeadStatus]) -> u64 {
    statuses
        .iter()
        .map(|s| before_period(now.status(*s), period.entered(*s), period.left(*s)))
        .sum()
}

/// `part` in `whole` as a percentage with one decimal; none of nothing.
fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| round1(part as f64 * 100.0 / whole as f64))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A counter as the API reports it.
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn connected(tally: &Tally) -> u64 {
    tally.calls(CallResult::Connected)
}
