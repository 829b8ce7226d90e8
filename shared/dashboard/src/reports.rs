//! Reports of leads, calls or campaigns over a period, as CSV or as PDF.
//! The PDF opens with the period's figures and its daily chart, from the
//! same day counters as the dashboard's trend (so the same numbers), then
//! the first rows of the report; the CSV has every row, up to
//! [`MAX_ROWS`].

use jiff::Timestamp;
use jiff::civil::Date;
use soraaya_calling::records::{CallAttempt, calls_ended_between};
use soraaya_core::App;
use soraaya_domain::{CampaignId, Lead, LeadStatus, OrgId};
use soraaya_leads::counters::Scope;
use soraaya_leads::list::{LeadQuery, SortField, list};
use soraaya_leads::repo::LeadsRepo;

use crate::charts::series;
use crate::{DashboardError, View, sum};

mod pdf;

/// Most rows in one report; a larger one is an export job.
pub const MAX_ROWS: usize = 10_000;

/// Most days one report covers.
pub const MAX_DAYS: i64 = 366;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    Leads,
    Calls,
    Campaigns,
}

impl ReportKind {
    pub const ALLOWED: &'static str = "leads, calls or campaigns";

    pub fn parse(text: &str) -> Option<ReportKind> {
        match text {
            "leads" => Some(ReportKind::Leads),
            "calls" => Some(ReportKind::Calls),
            "campaigns" => Some(ReportKind::Campaigns),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Leads => "leads",
            ReportKind::Calls => "calls",
            ReportKind::Campaigns => "campaigns",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportFormat {
    #[default]
    Csv,
    Pdf,
}

/// What to report on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportQuery {
    pub kind: ReportKind,
    pub format: ReportFormat,
    /// Both days included, in the organisation's time zone.
    pub from: Date,
    pub to: Date,
    pub campaign: Option<CampaignId>,
}

/// A report, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub file_name: String,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// Rows in the report, and rows of the period left out (past [`MAX_ROWS`]).
    pub rows: usize,
    pub omitted: usize,
}

/// The report's rows: a header and the cells of each row.
struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    omitted: usize,
}

/// The period's figures, as the dashboard's trend has them, summed.
pub(crate) struct Totals {
    pub leads_added: i64,
    pub calls: i64,
    pub connected: i64,
    pub qualified: i64,
    pub call_minutes: f64,
    pub cost_usd: f64,
}

/// The organisation's (or the campaign's) report for the period.
pub async fn report(app: &App, org: OrgId, query: ReportQuery) -> Result<Report, DashboardError> {
    let view = View::open(app, org, query.campaign).await?;
    let table = match query.kind {
        ReportKind::Leads => leads(app, org, &query).await?,
        ReportKind::Calls => calls(app, org, &query).await?,
        ReportKind::Campaigns => campaigns(app, org, &query).await?,
    };
    let scope = match query.campaign {
        Some(c) => format!("-campaign-{}", &c.to_string()[..8]),
        None => String::new(),
    };
    let base = format!(
        "soraaya-{}{scope}-{}-to-{}",
        query.kind.as_str(),
        query.from,
        query.to
    );
    let rows = table.rows.len();
    let omitted = table.omitted;
    match query.format {
        ReportFormat::Csv => Ok(Report {
            file_name: format!("{base}.csv"),
            content_type: "text/csv; charset=utf-8",
            body: csv_of(&table),
            rows,
            omitted,
        }),
        ReportFormat::Pdf => {
            let trend = series(&view, query.from, query.to).await?;
            let days = view.days(query.from, query.to).await?;
            let period = sum(days.iter().map(|(_, t)| t));
            let totals = Totals {
                leads_added: trend.days.iter().map(|d| d.leads_added).sum(),
                calls: trend.days.iter().map(|d| d.calls).sum(),
                connected: trend.days.iter().map(|d| d.connected).sum(),
                qualified: trend.days.iter().map(|d| d.qualified).sum(),
                call_minutes: period.call_seconds as f64 / 60.0,
                cost_usd: period.call_cost_cents as f64 / 100.0,
            };
            let organisation = soraaya_accounts::org(app, org).await?;
            let title = format!(
                "{} report: {}",
                organisation.name.as_str(),
                query.kind.as_str()
            );
            let subtitle = format!(
                "{} to {} ({}){}; made {}",
                query.from,
                query.to,
                trend.time_zone,
                match query.campaign {
                    Some(c) => format!(", campaign {c}"),
                    None => String::new(),
                },
                app.clock.now().strftime("%Y-%m-%d %H:%M UTC"),
            );
            Ok(Report {
                file_name: format!("{base}.pdf"),
                content_type: "application/pdf",
                body: pdf::document(&title, &subtitle, &totals, &trend, &table),
                rows,
                omitted,
            })
        }
    }
}

fn csv_of(table: &Table) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Writing to memory fails only on a bug; an empty file is no answer either.
    let _ = writer.write_record(&table.header);
    for row in &table.rows {
        let _ = writer.write_record(row);
    }
    writer.into_inner().unwrap_or_default()
}

/// The first and last instants of the period's days in the organisation's
/// zone (the calendar's ends where a day has no midnight there); `None`
/// for a period that ends before it starts.
fn bounds(zone: &jiff::tz::TimeZone, query: &ReportQuery) -> Option<(Timestamp, Timestamp)> {
    let midnight = |day: Date| {
        zone.to_timestamp(day.to_datetime(jiff::civil::Time::midnight()))
            .ok()
    };
    let start = midnight(query.from).unwrap_or(Timestamp::MIN);
    let end = query
        .to
        .tomorrow()
        .ok()
        .and_then(midnight)
        .map_or(Timestamp::MAX, |next| {
            next - jiff::SignedDuration::from_nanos(1)
        });
    (start <= end).then_some((start, end))
}

/// Leads created in the period, oldest first.
async fn leads(app: &App, org: OrgId, query: &ReportQuery) -> Result<Table, DashboardError> {
    let zone = soraaya_accounts::org(app, org).await?.time_zone.zone();
    let repo = LeadsRepo::new(app.store.as_ref());
    let mut leads: Vec<Lead> = Vec::new();
    let mut total = 0;
    // A period that ends before it starts holds no leads.
    if let Some((start, end)) = bounds(&zone, query) {
        for page in 1.. {
            let listing = LeadQuery {
                campaign_id: query.campaign,
                created_from: Some(start),
                created_to: Some(end),
                sort: SortField::CreatedAt,
                descending: false,
                page,
                limit: 100,
                ..LeadQuery::default()
            };
            let found = list(&repo, org, &listing, &app.renderings)
                .await
                .map_err(|err| soraaya_store::StoreError::Invalid(err.to_string()))?;
            total = usize::try_from(found.total).unwrap_or(usize::MAX);
            let last = found.items.len() < 100;
            for rendered in found.items {
                if let Ok(lead) = serde_json::from_str::<Lead>(rendered.json()) {
                    leads.push(lead);
                }
            }
            if last || leads.len() >= MAX_ROWS {
                break;
            }
        }
    }
    leads.truncate(MAX_ROWS);
    let header = vec![
        "created_at",
        "contact_person",
        "phone_number",
        "email",
        "status",
        "priority",
        "lead_source",
        "location",
        "price_range",
        "qualification_score",
        "call_attempts",
        "campaign_id",
    ];
    let rows: Vec<Vec<String>> = leads
        .iter()
        .map(|l| {
            vec![
                l.created_at.to_string(),
                l.contact_person.as_str().to_owned(),
                l.phone_number.as_str().to_owned(),
                l.email
                    .as_ref()
                    .map(|e| e.as_str().to_owned())
                    .unwrap_or_default(),
                l.status.as_str().to_owned(),
                l.priority.as_str().to_owned(),
                l.lead_source.clone().unwrap_or_default(),
                l.location.clone().unwrap_or_default(),
                l.price_range.clone().unwrap_or_default(),
                l.qualification_score
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
                l.call_attempts.to_string(),
                l.campaign_id.map(|c| c.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    Ok(Table {
        header,
        omitted: total.saturating_sub(rows.len()),
        rows,
    })
}

/// The campaigns reported on: the one asked for, or every one.
async fn campaign_list(
    app: &App,
    org: OrgId,
    query: &ReportQuery,
) -> Result<Vec<soraaya_domain::Campaign>, DashboardError> {
    Ok(
        soraaya_campaigns::service::list_campaigns(app, org, &Default::default())
            .await?
            .into_iter()
            .filter(|c| query.campaign.is_none_or(|id| id == c.id))
            .collect(),
    )
}

/// Calls that ended in the period, newest first: each campaign's range of
/// its ended-calls index, and the period's count from the day counters
/// (for those left out past [`MAX_ROWS`]).
async fn calls(app: &App, org: OrgId, query: &ReportQuery) -> Result<Table, DashboardError> {
    let zone = soraaya_accounts::org(app, org).await?.time_zone.zone();
    let mut found: Vec<(String, CallAttempt)> = Vec::new();
    // A period that ends before it starts holds no calls.
    if let Some((start, end)) = bounds(&zone, query) {
        for campaign in campaign_list(app, org, query).await? {
            let calls =
                calls_ended_between(app.store.as_ref(), org, campaign.id, start, end, MAX_ROWS)
                    .await?;
            found.extend(calls.into_iter().map(|c| (campaign.name.clone(), c)));
        }
    }
    found.sort_by_key(|(_, call)| std::cmp::Reverse(call.ended_at));
    found.truncate(MAX_ROWS);
    let view = View::open(app, org, query.campaign).await?;
    let in_period = sum(view
        .days(query.from, query.to)
        .await?
        .iter()
        .map(|(_, t)| t));
    let omitted = usize::try_from(in_period.calls_ended)
        .unwrap_or(usize::MAX)
        .saturating_sub(found.len());
    let header = vec![
        "ended_at",
        "campaign",
        "lead_id",
        "attempt",
        "result",
        "lead_status_after",
        "duration_seconds",
        "cost_usd",
        "ended_reason",
        "variant",
    ];
    let rows = found
        .into_iter()
        .map(|(campaign, c)| {
            vec![
                c.ended_at.map(|t| t.to_string()).unwrap_or_default(),
                campaign,
                c.lead_id.to_string(),
                c.attempt.to_string(),
                c.result.map(|r| r.as_str().to_owned()).unwrap_or_default(),
                c.status_after
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                c.duration_seconds
                    .map(|d| format!("{d:.0}"))
                    .unwrap_or_default(),
                c.cost.map(|d| format!("{d:.2}")).unwrap_or_default(),
                c.ended_reason.unwrap_or_default(),
                c.variant.unwrap_or_default(),
            ]
        })
        .collect();
    Ok(Table {
        header,
        rows,
        omitted,
    })
}

/// Each campaign's figures in the period (calls, connected, qualified,
/// cost, from its day counters) and its leads now.
async fn campaigns(app: &App, org: OrgId, query: &ReportQuery) -> Result<Table, DashboardError> {
    let mut rows = Vec::new();
    let repo = LeadsRepo::new(app.store.as_ref());
    for campaign in campaign_list(app, org, query).await? {
        let view = View::open(app, org, Some(campaign.id)).await?;
        let days = view.days(query.from, query.to).await?;
        let period = sum(days.iter().map(|(_, t)| t));
        let now = repo.counters(org, Scope::Campaign(campaign.id)).await?;
        let connected = crate::connected(&period);
        let qualified = period.entered(LeadStatus::Qualified);
        let cost = period.call_cost_cents as f64 / 100.0;
        rows.push(vec![
            campaign.name.clone(),
            format!("{:?}", campaign.status).to_lowercase(),
            now.total.to_string(),
            period.calls_ended.to_string(),
            connected.to_string(),
            crate::percent(connected, period.calls_ended)
                .map(|p| format!("{p:.1}"))
                .unwrap_or_default(),
            qualified.to_string(),
            crate::percent(qualified, connected)
                .map(|p| format!("{p:.1}"))
                .unwrap_or_default(),
            format!("{cost:.2}"),
            if qualified > 0 {
                format!("{:.2}", cost / qualified as f64)
            } else {
                String::new()
            },
        ]);
    }
    Ok(Table {
        header: vec![
            "campaign",
            "status",
            "leads_now",
            "calls",
            "connected",
            "connect_rate_percent",
            "qualified",
            "conversion_percent",
            "cost_usd",
            "cost_per_qualified_usd",
        ],
        rows,
        omitted: 0,
    })
}

impl Totals {
    /// The figures as label and value, for the PDF's table.
    pub(crate) fn lines(&self) -> Vec<(&'static str, String)> {
        let rate = |part: i64, whole: i64| {
            if whole > 0 {
                format!("{:.1}%", part as f64 * 100.0 / whole as f64)
            } else {
                "-".to_owned()
            }
        };
        vec![
            ("Leads added", self.leads_added.to_string()),
            ("Calls ended", self.calls.to_string()),
            (
                "Connected",
                format!("{} ({})", self.connected, rate(self.connected, self.calls)),
            ),
            (
                "Qualified",
                format!(
                    "{} ({} of connected)",
                    self.qualified,
                    rate(self.qualified, self.connected)
                ),
            ),
            ("Call minutes", format!("{:.0}", self.call_minutes)),
            ("Cost (USD)", format!("{:.2}", self.cost_usd)),
            (
                "Cost per qualified (USD)",
                if self.qualified > 0 {
                    format!("{:.2}", self.cost_usd / self.qualified as f64)
                } else {
                    "-".to_owned()
                },
            ),
        ]
    }
}
