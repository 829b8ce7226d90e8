//! Insights from calls, read from per-day aggregates kept on write.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use soraaya_domain::{CampaignId, PersonaId};
use soraaya_insights::{
    self as insights, ConversationAnalysis, InsightTrends, InsightsQuery, MAX_DAYS, Recommendations,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::permit::{Permitted, may};
use crate::{ApiError, ApiQuery, ApiState, ErrorBody, FieldErrors};

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(conversation_analysis))
        .routes(routes!(insight_trends))
        .routes(routes!(insight_recommendations))
}

/// Whose calls, over how many days.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct InsightParams {
    /// Days, today included, in the organisation's time zone: 1 to 90
    /// (default 7 for the conversation analysis, 30 otherwise).
    #[param(minimum = 1, maximum = 90)]
    pub days: Option<u16>,
    /// One campaign's calls.
    #[param(value_type = Option<uuid::Uuid>)]
    pub campaign_id: Option<String>,
    /// One persona's calls (in the campaign, with `campaign_id`).
    #[param(value_type = Option<uuid::Uuid>)]
    pub persona_id: Option<String>,
}

impl InsightParams {
    fn query(&self, default_days: u16) -> Result<InsightsQuery, ApiError> {
        let mut errors = FieldErrors::new();
        let days = self.days.unwrap_or(default_days);
        if !(1..=MAX_DAYS).contains(&days) {
            errors.add("days", format!("must be 1 to {MAX_DAYS}"));
        }
        let campaign = self.campaign_id.as_deref().and_then(|id| {
            errors.check(
                "campaign_id",
                CampaignId::parse(id).map_err(|_| "is not a campaign id"),
            )
        });
        let persona = self.persona_id.as_deref().and_then(|id| {
            errors.check(
                "persona_id",
                PersonaId::parse(id).map_err(|_| "is not an agent persona id"),
            )
        });
        errors.finish()?;
        Ok(InsightsQuery {
            days,
            campaign,
            persona,
        })
    }
}

/// Common objections (with their change and example quotes), what qualified
/// calls have that others lack, price sensitivity, and the timelines,
/// features and places customers asked for.
#[utoipa::path(
    get, path = "/api/v1/insights/conversation-analysis", tag = "insights",
    params(InsightParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Conversation analysis", body = ConversationAnalysis),
        (status = 404, description = "No such campaign or persona", body = ErrorBody),
        (status = 422, description = "Invalid parameters", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn conversation_analysis(
    State(app): State<ApiState>,
    caller: Permitted<may::DashboardRead>,
    ApiQuery(params): ApiQuery<InsightParams>,
) -> Result<Json<ConversationAnalysis>, ApiError> {
    let query = params.query(7)?;
    Ok(Json(
        insights::conversation_analysis(&app, caller.org_id, query).await?,
    ))
}

/// Connect rate by the lead's local hour, call length against outcome,
/// sentiment by day, persona performance, question effectiveness, and
/// callbacks answered by how late they were placed.
#[utoipa::path(
    get, path = "/api/v1/insights/trends", tag = "insights",
    params(InsightParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Trends", body = InsightTrends),
        (status = 404, description = "No such campaign or persona", body = ErrorBody),
        (status = 422, description = "Invalid parameters", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn insight_trends(
    State(app): State<ApiState>,
    caller: Permitted<may::DashboardRead>,
    ApiQuery(params): ApiQuery<InsightParams>,
) -> Result<Json<InsightTrends>, ApiError> {
    let query = params.query(30)?;
    Ok(Json(insights::trends(&app, caller.org_id, query).await?))
}

/// What to change (script, timing, persona, qualification criteria,
/// callbacks), each with the figures and sample size behind it, and whether
/// the sample is large enough to conclude.
#[utoipa::path(
    get, path = "/api/v1/insights/recommendations", tag = "insights",
    params(InsightParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Recommendations", body = Recommendations),
        (status = 404, description = "No such campaign or persona", body = ErrorBody),
        (status = 422, description = "Invalid parameters", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn insight_recommendations(
    State(app): State<ApiState>,
    caller: Permitted<may::DashboardRead>,
    ApiQuery(params): ApiQuery<InsightParams>,
) -> Result<Json<Recommendations>, ApiError> {
    let query = params.query(30)?;
    Ok(Json(
        insights::recommendations(&app, caller.org_id, query).await?,
    ))
}
