//! The dashboard's figures, read from counters kept on write.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use soraaya_dashboard::reports::{self, MAX_DAYS, ReportFormat, ReportKind, ReportQuery};
use soraaya_dashboard::{
    self as dashboard, CallVolume, CampaignComparison, DashboardMetrics, DateRange, MAX_TREND_DAYS,
    SourcePerformance, StatusDistribution, Trends,
};
use soraaya_domain::CampaignId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::permit::{Permitted, may};
use crate::{ApiError, ApiQuery, ApiState, ErrorBody, FieldErrors};

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(dashboard_metrics))
        .routes(routes!(dashboard_trends))
        .routes(routes!(dashboard_status_distribution))
        .routes(routes!(dashboard_call_volume))
        .routes(routes!(dashboard_lead_sources))
        .routes(routes!(dashboard_campaigns))
        .routes(routes!(report))
}

/// One campaign's figures instead of the organisation's.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct CampaignParam {
    #[param(value_type = Option<uuid::Uuid>)]
    pub campaign_id: Option<String>,
}

fn campaign(id: Option<&str>, errors: &mut FieldErrors) -> Option<CampaignId> {
    id.and_then(|id| {
        errors.check(
            "campaign_id",
            CampaignId::parse(id).map_err(|_| "is not a campaign id"),
        )
    })
}

fn campaign_only(params: &CampaignParam) -> Result<Option<CampaignId>, ApiError> {
    let mut errors = FieldErrors::new();
    let id = campaign(params.campaign_id.as_deref(), &mut errors);
    errors.finish()?;
    Ok(id)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsParams {
    /// The period: `7d` (default), `30d` or `90d`, today included, in the organisation's time zone.
    #[param(value_type = Option<DateRange>)]
    pub date_range: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub campaign_id: Option<String>,
}

/// The twelve KPIs, each with its value in the previous period of the same length.
#[utoipa::path(
    get, path = "/api/v1/dashboard/metrics", tag = "dashboard",
    params(MetricsParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "KPIs", body = DashboardMetrics),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 422, description = "Invalid parameters", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn dashboard_metrics(
    State(app): State<ApiState>,
    caller: Permitted<may::DashboardRead>,
    ApiQuery(params): ApiQuery<MetricsParams>,
) -> Result<Json<DashboardMetrics>, ApiError> {
    let mut errors = FieldErrors::new();
    let range = match params.date_range.as_deref() {
        None => Some(DateRange::default()),
        Some(text) => errors.check(
            "date_range",
            DateRange::parse(text).ok_or(DateRange::ALLOWED),
        ),
    };
    let id = campaign(params.campaign_id.as_deref(), &mut errors);
    errors.finish()?;
    let range = range.unwrap_or_default();
    Ok(Json(
        dashboard::metrics(&app, caller.org_id, range, id).await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct TrendParams {
    /// Days to show, today included: 1 to 90 (default 30).
    #[param(minimum = 1, maximum = 90)]
    pub days: Option<u16>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub campaign_id: Option<String>,
}

/// Leads added, calls, connected calls, qualified leads and the conversion rate, by day.
#[utoipa::path(
    get, path = "/api/v1/dashboard/trends", tag = "dashboard",
    params(TrendParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Daily series", body = Trends),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 422, description = "Invalid parameters", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn dashboard_trends(
    State(app): State<ApiState>,
    caller: Permitted<may::DashboardRead>,
    ApiQuery(params): ApiQuery<TrendParams>,
) -> Result<Json<Trends>, ApiError> {
    let mut errors = FieldErrors::new();
    let days = params.days.unwrap_or(30);
    if !(1..=MAX_TREND_DAYS).contains(&days) {
        errors.add("days", format!("must be 1 to {MAX_TREND_DAYS}"));
    }
    let id = campaign(params.campaign_id.as_deref(), &mut errors);
    errors.finish()?;
    Ok(Json(
        dashboard::trends(&app, caller.org_id, days, id).await?,
    ))
}

/// Leads now in each of the eleven statuses, with their share.
#[utoipa::path(
    get, path = "/api/v1/dashboard/status-distribution", tag = "dashboard",
    params(CampaignParam),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Leads by status", body = StatusDistribution),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 422, description = "Invalid parameters", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn dashboard_status_distribution(
    State(app): State<ApiState>,
    caller: Permitted<may::DashboardRead>,
    ApiQuery(params): ApiQuery<CampaignParam>,
) -> Result<Json<StatusDistribution>, ApiError> {
    let id = campaign_only(&params)?;
    Ok(Json(
        dashboard::status_distribution(&app, caller.org_id, id).await?,
    ))
}

/// Calls and connected calls by hour of the day, and by weekday and hour, in the organisation's time zone.
#[utoipa::path(
    get, path = "/api/v1/dashboard/call-volume", tag = "dashboard",
    params(CampaignParam),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Calls by hour", body = CallVolume),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 422, description = "Invalid parameters", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn dashboard_call_volume(
    State(app): State<ApiState>,
    caller: Permitted<may::DashboardRead>,
    ApiQuery(params): ApiQuery<CampaignParam>,
) -> Result<Json<CallVolume>, ApiError> {
    let id = campaign_only(&params)?;
    Ok(Json(dashboard::call_volume(&app, caller.org_id, id).await?))
}

/// Leads, qualified leads and conversion by lead source, most leads first.
#[utoipa::path(
    get, path = "/api/v1/dashboard/lead-sources", tag = "dashboard",
    params(CampaignParam),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Lead sources", body = Vec<SourcePerformance>),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 422, description = "Invalid parameters", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn dashboard_lead_sources(
    State(app): State<ApiState>,
    caller: Permitted<may::DashboardRead>,
    ApiQuery(params): ApiQuery<CampaignParam>,
) -> Result<Json<Vec<SourcePerformance>>, ApiError> {
    let id = campaign_only(&params)?;
    Ok(Json(
        dashboard::lead_sources(&app, caller.org_id, id).await?,
    ))
}

/// Every campaign side by side (leads, calls, connect rate, qualified,
/// conversion, cost) with its timeline, newest first.
#[utoipa::path(
    get, path = "/api/v1/dashboard/campaigns", tag = "dashboard",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Campaign comparison", body = Vec<CampaignComparison>),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn dashboard_campaigns(
    State(app): State<ApiState>,
    caller: Permitted<may::DashboardRead>,
) -> Result<Json<Vec<CampaignComparison>>, ApiError> {
    Ok(Json(dashboard::campaigns(&app, caller.org_id).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct ReportParams {
    /// First day, `YYYY-MM-DD` in the organisation's time zone (default: 29 days before `to`).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Last day, included (default: today). A report covers at most 366 days: of a longer period, the last.
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    /// `csv` or `pdf` (default: the organisation's export format, CSV unless changed).
    #[param(value_type = Option<String>, pattern = "^(csv|pdf)$")]
    pub format: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub campaign_id: Option<String>,
}

/// A report of the period: `leads` created, `calls` ended, or `campaigns`
/// with their figures. CSV has every row (up to 10,000; the header
/// `X-Report-Rows-Omitted` says how many more the period has); the PDF opens
/// with the period's figures and daily chart, the same counters as the
/// dashboard's trend, then the first rows.
#[utoipa::path(
    get, path = "/api/v1/reports/{kind}", tag = "dashboard",
    params(
        ("kind" = String, Path, description = "`leads`, `calls` or `campaigns`", pattern = "^(leads|calls|campaigns)$"),
        ReportParams,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The report", content(
            (String = "text/csv"),
            (Vec<u8> = "application/pdf"),
        )),
        (status = 404, description = "No such campaign", body = ErrorBody),
        (status = 422, description = "Invalid parameters", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn report(
    State(app): State<ApiState>,
    caller: Permitted<may::LeadsExport>,
    crate::ApiPath(kind): crate::ApiPath<String>,
    ApiQuery(params): ApiQuery<ReportParams>,
) -> Result<Response, ApiError> {
    let mut errors = FieldErrors::new();
    let kind = errors.check("kind", ReportKind::parse(&kind).ok_or(ReportKind::ALLOWED));
    let organisation = soraaya_accounts::org(&app, caller.org_id).await?;
    let format = match params.format.as_deref() {
        // The organisation's choice.
        None => Some(match organisation.settings.export_format {
            soraaya_domain::ExportFormat::Csv => ReportFormat::Csv,
            soraaya_domain::ExportFormat::Pdf => ReportFormat::Pdf,
        }),
        Some("csv") => Some(ReportFormat::Csv),
        Some("pdf") => Some(ReportFormat::Pdf),
        Some(_) => {
            errors.add("format", "must be csv or pdf");
            None
        }
    };
    let date = |field: &str, text: &Option<String>, errors: &mut FieldErrors| {
        text.as_deref().and_then(|t| {
            errors.check(
                field,
                t.trim()
                    .parse::<jiff::civil::Date>()
                    .map_err(|_| "must be a date, YYYY-MM-DD"),
            )
        })
    };
    let to = date("to", &params.to, &mut errors);
    let from = date("from", &params.from, &mut errors);
    let id = campaign(params.campaign_id.as_deref(), &mut errors);
    errors.finish()?;
    let today = organisation
        .time_zone
        .zone()
        .to_datetime(app.clock.now())
        .date();
    let to = to.unwrap_or(today);
    // A period longer than a report covers keeps its last days (the
    // headers say which); one that ends before it starts has no days.
    let earliest = to.saturating_sub(jiff::Span::new().days(MAX_DAYS - 1));
    let from = from
        .unwrap_or_else(|| to.saturating_sub(jiff::Span::new().days(29)))
        .max(earliest);
    let (Some(kind), Some(format)) = (kind, format) else {
        // Each left its field's error, which the first finish() returned.
        return Err(ApiError::NotFound("report"));
    };
    let report = reports::report(
        &app,
        caller.org_id,
        ReportQuery {
            kind,
            format,
            from,
            to,
            campaign: id,
        },
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, report.content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", report.file_name),
            ),
            (
                header::HeaderName::from_static("x-report-rows-omitted"),
                report.omitted.to_string(),
            ),
            (
                header::HeaderName::from_static("x-report-period"),
                format!("{from}/{to}"),
            ),
        ],
        report.body,
    )
        .into_response())
}
