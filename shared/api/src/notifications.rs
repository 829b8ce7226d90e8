//! Notifications: listing (with the counts behind the badge), changing,
//! assigning, deleting, in bulk too, escalating, and quick actions that act
//! on the lead and resolve the notification in one step.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use soraaya_calling::follow_up::{QuickActionOutcome, QuickActionRequest, take_quick_action};
use soraaya_core::validation::Patch;
use soraaya_domain::moment::{parse_moment, parse_until};
use soraaya_domain::{CampaignId, LeadId};
use soraaya_domain::{
    Notification, NotificationId, NotificationKind, NotificationStatus, Priority, UserId,
};
use soraaya_leads::record::Actor;
use soraaya_notifications::workflow::{
    self, NotificationBulkOutcome, NotificationBulkRequest, NotificationCounts, escalate,
};
use soraaya_notifications::{
    Assignee, NotificationChange, NotificationFilter, delete, list, update,
};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::permit::{Permitted, may};
use crate::{ApiError, ApiJson, ApiPath, ApiQuery, ApiState, ErrorBody, FieldErrors, Require};

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(update_notification, delete_notification))
        .routes(routes!(assign_notification))
        .routes(routes!(bulk_notifications))
        .routes(routes!(escalate_notification))
        .routes(routes!(quick_action))
}

#[derive(Debug, Default, Deserialize, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationParams {
    #[param(value_type = Option<soraaya_domain::NotificationStatus>)]
    pub status: Option<String>,
    #[param(value_type = Option<soraaya_domain::Priority>)]
    pub priority: Option<String>,
    #[serde(rename = "type")]
    #[param(rename = "type", value_type = Option<soraaya_domain::NotificationKind>)]
    pub kind: Option<String>,
    /// `me`, `none` (no one) or a user's id.
    #[param(
        pattern = "^(me|none|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
    )]
    pub assigned_to: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub lead_id: Option<String>,
    #[param(value_type = Option<uuid::Uuid>)]
    pub campaign_id: Option<String>,
    /// Created on or after (date or date-time; dates in the organisation's zone).
    #[param(schema_with = crate::leads::moment_schema)]
    pub created_from: Option<String>,
    /// Created on or before (a date includes the whole day).
    #[param(schema_with = crate::leads::moment_schema)]
    pub created_to: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    pub next_cursor: Option<String>,
    /// Over every notification of the organisation, whatever the filter.
    pub counts: NotificationCounts,
}

/// Notifications, newest first.
#[utoipa::path(
    get, path = "/api/v1/notifications", tag = "notifications",
    params(NotificationParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of notifications", body = NotificationPage),
        (status = 422, description = "Invalid filters", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn list_notifications(
    State(app): State<ApiState>,
    caller: Permitted<may::NotificationsRead>,
    ApiQuery(params): ApiQuery<NotificationParams>,
) -> Result<Json<NotificationPage>, ApiError> {
    let mut errors = FieldErrors::new();
    let mut filter = NotificationFilter {
        status: params.status.as_deref().and_then(|s| {
            errors.check(
                "status",
                NotificationStatus::parse(s).ok_or("must be pending, in_progress or resolved"),
            )
        }),
        priority: params
            .priority
            .as_deref()
            .and_then(|p| errors.check("priority", Priority::parse(p))),
        kind: params.kind.as_deref().and_then(|k| {
            errors.check(
                "type",
                NotificationKind::parse(k).ok_or(format!(
                    "must be one of {}",
                    NotificationKind::ALL.map(|k| k.as_str()).join(", ")
                )),
            )
        }),
        assigned: params.assigned_to.as_deref().and_then(|a| match a.trim() {
            "me" => Some(Assignee::User(caller.user_id)),
            "none" => Some(Assignee::Nobody),
            id => errors
                .check(
                    "assigned_to",
                    id.parse::<UserId>()
                        .map_err(|_| "must be me, none or a user's id"),
                )
                .map(Assignee::User),
        }),
        lead_id: params.lead_id.as_deref().and_then(|id| {
            errors.check(
                "lead_id",
                id.trim().parse::<LeadId>().map_err(|_| "is not an id"),
            )
        }),
        campaign_id: params.campaign_id.as_deref().and_then(|id| {
            errors.check(
                "campaign_id",
                id.trim().parse::<CampaignId>().map_err(|_| "is not an id"),
            )
        }),
        created_from: None,
        created_to: None,
    };
    if params.created_from.is_some() || params.created_to.is_some() {
        let zone = soraaya_accounts::org(&app, caller.org_id)
            .await?
            .time_zone
            .clone();
        filter.created_from = params
            .created_from
            .as_deref()
            .and_then(|t| errors.check("created_from", parse_moment(t, &zone)));
        filter.created_to = params
            .created_to
            .as_deref()
            .and_then(|t| errors.check("created_to", parse_until(t, &zone)));
        if let (Some(from), Some(to)) = (filter.created_from, filter.created_to)
            && to < from
        {
            errors.add("created_to", "is before created_from");
        }
    }
    let (cursor, limit) =
        crate::leads::page_of(params.cursor.as_deref(), params.limit, &mut errors);
    errors.finish()?;
    let (items, next) = list(&app, caller.org_id, &filter, cursor, limit).await?;
    let counts = workflow::counts(&app, caller.org_id, caller.user_id).await?;
    Ok(Json(NotificationPage {
        items,
        next_cursor: next.map(|c| c.to_string()),
        counts,
    }))
}

/// Change a notification's status (`resolved` records when), resolution note or assignee.
#[utoipa::path(
    put, path = "/api/v1/notifications/{id}", tag = "notifications",
    params(("id" = uuid::Uuid, Path, description = "Notification id")),
    request_body = NotificationChange,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = Notification),
        (status = 404, description = "No such notification", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn update_notification(
    State(app): State<ApiState>,
    caller: Permitted<may::NotificationsManage>,
    ApiPath(id): ApiPath<NotificationId>,
    ApiJson(change): ApiJson<NotificationChange>,
) -> Result<Json<Notification>, ApiError> {
    Ok(Json(update(&app, caller.org_id, id, change).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignNotificationRequest {
    pub user_id: UserId,
}

/// Assign a notification to a user of the organisation.
#[utoipa::path(
    post, path = "/api/v1/notifications/{id}/assign", tag = "notifications",
    params(("id" = uuid::Uuid, Path, description = "Notification id")),
    request_body = AssignNotificationRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Assigned", body = Notification),
        (status = 404, description = "No such notification", body = ErrorBody),
        (status = 422, description = "Not a user of the organisation", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn assign_notification(
    State(app): State<ApiState>,
    caller: Permitted<may::NotificationsManage>,
    ApiPath(id): ApiPath<NotificationId>,
    ApiJson(body): ApiJson<AssignNotificationRequest>,
) -> Result<Json<Notification>, ApiError> {
    let change = NotificationChange {
        assigned_to: Patch::Set(body.user_id),
        status: Some("in_progress".into()),
        ..NotificationChange::default()
    };
    Ok(Json(update(&app, caller.org_id, id, change).await?))
}

/// Delete a notification.
#[utoipa::path(
    delete, path = "/api/v1/notifications/{id}", tag = "notifications",
    params(("id" = uuid::Uuid, Path, description = "Notification id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such notification", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn delete_notification(
    State(app): State<ApiState>,
    caller: Permitted<may::NotificationsManage>,
    ApiPath(id): ApiPath<NotificationId>,
) -> Result<StatusCode, ApiError> {
    delete(&app, caller.org_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Assign, resolve, delete or set the priority of many notifications: a
/// result per id (`not_found`, `duplicate`), the others unaffected.
#[utoipa::path(
    post, path = "/api/v1/notifications/bulk", tag = "notifications",
    request_body = NotificationBulkRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A result per id", body = NotificationBulkOutcome),
        (status = 422, description = "Invalid request (nothing changed)", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id))]
async fn bulk_notifications(
    State(app): State<ApiState>,
    caller: Permitted<may::NotificationsManage>,
    ApiJson(request): ApiJson<NotificationBulkRequest>,
) -> Result<Json<NotificationBulkOutcome>, ApiError> {
    Ok(Json(workflow::bulk(&app, caller.org_id, &request).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateRequest {
    /// Why, 1 to 500 characters.
    #[schema(
        min_length = 1,
        max_length = 500,
        example = "Buyer threatens to go to another broker"
    )]
    pub reason: String,
}

/// Escalate: the priority raised one step, assigned to the next manager or
/// admin in turn (round robin, skipping deactivated ones and the person
/// escalating), in progress, and who escalated it and why recorded.
#[utoipa::path(
    post, path = "/api/v1/notifications/{id}/escalate", tag = "notifications",
    params(("id" = uuid::Uuid, Path, description = "Notification id")),
    request_body = EscalateRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Escalated", body = Notification),
        (status = 404, description = "No such notification", body = ErrorBody),
        (status = 409, description = "The notification is resolved", body = ErrorBody),
        (status = 422, description = "Invalid reason", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn escalate_notification(
    State(app): State<ApiState>,
    caller: Permitted<may::NotificationsManage>,
    ApiPath(id): ApiPath<NotificationId>,
    ApiJson(body): ApiJson<EscalateRequest>,
) -> Result<Json<Notification>, ApiError> {
    Ok(Json(escalate(&app, &caller, id, &body.reason).await?))
}

/// A quick action on the notification's lead, and the notification resolved
/// in the same step: `call_back_now` (needs `calling:control`),
/// `schedule_callback` with `at`, `mark_qualified`, `mark_not_interested`
/// (`leads:status`), `hand_to_agent` with `user_id` (`leads:write`),
/// `add_note` with `note` (`leads:notes`). When the action fails nothing is
/// resolved.
#[utoipa::path(
    post, path = "/api/v1/notifications/{id}/actions", tag = "notifications",
    params(("id" = uuid::Uuid, Path, description = "Notification id")),
    request_body = QuickActionRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Done; the notification is resolved", body = QuickActionOutcome),
        (status = 403, description = "The action needs a permission the role lacks", body = ErrorBody),
        (status = 404, description = "No such notification, or its lead is gone", body = ErrorBody),
        (status = 409, description = "Resolved already, or the lead cannot take the action now", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all, fields(org_id = %caller.org_id, user_id = %caller.user_id, id = %id))]
async fn quick_action(
    State(app): State<ApiState>,
    caller: Permitted<may::NotificationsManage>,
    ApiPath(id): ApiPath<NotificationId>,
    ApiJson(request): ApiJson<QuickActionRequest>,
) -> Result<Json<QuickActionOutcome>, ApiError> {
    caller.require(request.action.needs())?;
    let actor = Actor::user(&caller);
    Ok(Json(
        take_quick_action(&app, caller.org_id, &actor, caller.user_id, id, &request).await?,
    ))
}
