//! The figures behind the dashboard's charts: the daily trend, the status
//! distribution, call volume by hour of the week and the lead sources.

use jiff::civil::{Date, Weekday};
use serde::Serialize;
use soraaya_core::App;
use soraaya_domain::{CampaignId, LeadStatus, OrgId};
use soraaya_leads::counters::Scope;
use utoipa::ToSchema;

use crate::{DashboardError, MAX_TREND_DAYS, View, connected, count, first_day, percent};

/// One day of the trend.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TrendDay {
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    pub leads_added: i64,
    /// Calls that ended that day, whatever the result.
    pub calls: i64,
    pub connected: i64,
    /// Leads that became qualified that day.
    pub qualified: i64,
    /// Qualified per connected call, in percent; `null` without connected calls.
    pub conversion_rate: Option<f64>,
}

/// A daily series, oldest day first, ending today in the organisation's time zone.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Trends {
    pub campaign_id: Option<CampaignId>,
    pub time_zone: String,
    pub days: Vec<TrendDay>,
}

/// The last `days` days (1 to [`MAX_TREND_DAYS`]), today included.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn trends(
    app: &App,
    org: OrgId,
    days: u16,
    campaign: Option<CampaignId>,
) -> Result<Trends, DashboardError> {
    let view = View::open(app, org, campaign).await?;
    let days = days.clamp(1, MAX_TREND_DAYS);
    let from = first_day(view.today, i16::try_from(days).unwrap_or(i16::MAX));
    let to = view.today;
    series(&view, from, to).await
}

/// The daily series from `from` to `to`, both included.
pub(crate) async fn series(
    view: &View<'_>,
    from: Date,
    to: Date,
) -> Result<Trends, DashboardError> {
    let series = view
        .days(from, to)
        .await?
        .into_iter()
        .map(|(date, day)| {
            let qualified = day.entered(LeadStatus::Qualified);
            TrendDay {
                date,
                leads_added: count(day.created),
                calls: count(day.calls_ended),
                connected: count(connected(&day)),
                qualified: count(qualified),
                conversion_rate: percent(qualified, connected(&day)),
            }
        })
        .collect();
    Ok(Trends {
        campaign_id: view.campaign,
        time_zone: view.time_zone.clone(),
        days: series,
    })
}

/// One status's leads now.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StatusShare {
    pub status: LeadStatus,
    pub count: i64,
    /// Share of all leads, in percent; `null` without leads.
    pub percent: Option<f64>,
}

/// Leads now by status: all eleven, in the order of the lead's journey.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusDistribution {
    pub campaign_id: Option<CampaignId>,
    pub total: i64,
    pub statuses: Vec<StatusShare>,
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn status_distribution(
    app: &App,
    org: OrgId,
    campaign: Option<CampaignId>,
) -> Result<StatusDistribution, DashboardError> {
    let view = View::open(app, org, campaign).await?;
    let now = view.now().await?;
    Ok(StatusDistribution {
        campaign_id: campaign,
        total: count(now.total),
        statuses: LeadStatus::ALL
            .iter()
            .map(|s| StatusShare {
                status: *s,
                count: count(now.status(*s)),
                percent: percent(now.status(*s), now.total),
            })
            .collect(),
    })
}

/// Calls at one hour of the day.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HourVolume {
    /// 0 to 23, in the organisation's time zone.
    pub hour: u8,
    /// Calls that ended in that hour.
    pub calls: i64,
    pub connected: i64,
    /// Connected per call, in percent.
    pub connect_rate: Option<f64>,
}

/// One weekday's 24 hours.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WeekdayVolume {
    /// `monday` to `sunday`.
    pub weekday: String,
    pub hours: Vec<HourVolume>,
}

/// Ended and connected calls by hour of the day and by weekday × hour (a
/// heatmap), since counting began, in the organisation's time zone.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallVolume {
    pub campaign_id: Option<CampaignId>,
    pub time_zone: String,
    pub by_hour: Vec<HourVolume>,
    pub by_weekday: Vec<WeekdayVolume>,
}

const WEEKDAYS: [(Weekday, &str); 7] = [
    (Weekday::Monday, "monday"),
    (Weekday::Tuesday, "tuesday"),
    (Weekday::Wednesday, "wednesday"),
    (Weekday::Thursday, "thursday"),
    (Weekday::Friday, "friday"),
    (Weekday::Saturday, "saturday"),
    (Weekday::Sunday, "sunday"),
];

fn hour_volume(hour: u8, calls: u64, connected: u64) -> HourVolume {
    HourVolume {
        hour,
        calls: count(calls),
        connected: count(connected),
        connect_rate: percent(connected, calls),
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn call_volume(
    app: &App,
    org: OrgId,
    campaign: Option<CampaignId>,
) -> Result<CallVolume, DashboardError> {
    let view = View::open(app, org, campaign).await?;
    let hours = view.repo().counters(org, Scope::hours_of(campaign)).await?;
    let mut by_weekday = Vec::with_capacity(7);
    let mut totals = [(0u64, 0u64); 24];
    for (weekday, name) in WEEKDAYS {
        let day = weekday.to_monday_zero_offset().unsigned_abs();
        let mut hours_of_day = Vec::with_capacity(24);
        for (hour, total) in (0u8..24).zip(totals.iter_mut()) {
            let (calls, connected) = hours.calls_at(day, hour);
            total.0 += calls;
            total.1 += connected;
            hours_of_day.push(hour_volume(hour, calls, connected));
        }
        by_weekday.push(WeekdayVolume {
            weekday: name.to_owned(),
            hours: hours_of_day,
        });
    }
    Ok(CallVolume {
        campaign_id: campaign,
        time_zone: view.time_zone,
        by_hour: (0u8..24)
            .zip(totals)
            .map(|(hour, (calls, connected))| hour_volume(hour, calls, connected))
            .collect(),
        by_weekday,
    })
}

/// How one source's leads do.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SourcePerformance {
    /// The lead's source in lower case; `unknown` where none was given.
    pub source: String,
    pub leads: i64,
    pub qualified: i64,
    /// Qualified leads per lead, in percent.
    pub conversion_rate: Option<f64>,
}

/// Leads now by source, most leads first.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn lead_sources(
    app: &App,
    org: OrgId,
    campaign: Option<CampaignId>,
) -> Result<Vec<SourcePerformance>, DashboardError> {
    let view = View::open(app, org, campaign).await?;
    let now = view.now().await?;
    let mut sources: Vec<SourcePerformance> = now
        .sources()
        .map(|(source, leads, qualified)| SourcePerformance {
            source: source.to_owned(),
            leads: count(leads),
            qualified: count(qualified),
            conversion_rate: percent(qualified, leads),
        })
        .collect();
    sources.sort_by(|a, b| b.leads.cmp(&a.leads).then_with(|| a.source.cmp(&b.source)));
    Ok(sources)
}
