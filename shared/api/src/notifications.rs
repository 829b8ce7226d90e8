//! Notifications: listing, changing, assigning and deleting what people must act on.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use soraaya_core::validation::Patch;
use soraaya_domain::{
    Notification, NotificationId, NotificationKind, NotificationStatus, Priority, UserId,
};
use soraaya_notifications::{NotificationChange, NotificationFilter, delete, list, update};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::permit::{Permitted, may};
use crate::{ApiError, ApiJson, ApiPath, ApiQuery, ApiState, ErrorBody, FieldErrors};

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(update_notification, delete_notification))
        .routes(routes!(assign_notification))
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
    pub cursor: Option<String>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    pub next_cursor: Option<String>,
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
    let filter = NotificationFilter {
        status: params.status.as_deref().and_then(|s| {
            errors.check("status", NotificationStatus::parse(s).ok_or("must be pending, in_progress or resolved"))
        }),
        priority: params.priority.as_deref().and_then(|p| errors.check("priority", Priority::parse(p))),
        kind: params.kind.as_deref().and_then(|k| {
            errors.check(
                "type",
                NotificationKind::parse(k).ok_or(
                    "must be qualified_lead, human_input_needed, technical_issue, urgent_callback or campaign_paused",
                ),
            )
        }),
    };
    let (cursor, limit) =
        crate::leads::page_of(params.cursor.as_deref(), params.limit, &mut errors);
    errors.finish()?;
    let (items, next) = list(&app, caller.org_id, &filter, cursor, limit).await?;
    Ok(Json(NotificationPage {
        items,
        next_cursor: next.map(|c| c.to_string()),
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
