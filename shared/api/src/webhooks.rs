//! The webhook endpoints: VAPI's server messages and Twilio's status
//! callbacks. Each is authenticated from its headers and answers fast; what a
//! message does is the calling engine's.

use crate::extract::RawBody;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use serde_json::{Value, json};
use soraaya_calling::webhooks::{
    TwilioStatus, VapiCredentials, on_twilio_status, on_vapi_message, verify_twilio_callback,
    verify_vapi,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::{ApiError, ApiState, ErrorBody};

pub fn vapi_routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(vapi_webhook))
}

pub fn twilio_routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(twilio_webhook))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// VAPI server messages: `status-update`, `end-of-call-report`, `hang`; other
/// types are acknowledged and ignored.
#[utoipa::path(
    post, path = "/api/v1/webhooks/vapi", tag = "webhooks",
    request_body(content = Object, description = "A VAPI server message: {\"message\": {\"type\", \"call\", ...}}"),
    params(("x-vapi-secret" = String, Header, description = "The configured webhook secret")),
    responses(
        (status = 200, description = "Received"),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 401, description = "Missing or wrong secret or signature", body = ErrorBody),
        (status = 413, description = "Larger than the body limit", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all)]
async fn vapi_webhook(
    State(app): State<ApiState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<Value>, ApiError> {
    let presented = VapiCredentials {
        secret: header(&headers, "x-vapi-secret"),
        timestamp: header(&headers, "x-timestamp"),
        signature: header(&headers, "x-signature"),
    };
    verify_vapi(&app.config.calling, presented, &body, app.clock.now())?;
    let kind = on_vapi_message(&app, &body).await?;
    Ok(Json(json!({ "received": kind })))
}

/// Twilio call status callbacks (form-encoded). A call that Twilio reports
/// busy, unanswered or failed ends at once; `in-progress` moves the lead in
/// call; `completed` waits for VAPI's report of what was said.
#[utoipa::path(
    post, path = "/api/v1/webhooks/twilio", tag = "webhooks",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    params(("X-Twilio-Signature" = String, Header, description = "Twilio's request signature")),
    responses(
        (status = 204, description = "Received"),
        (status = 403, description = "Missing or wrong signature", body = ErrorBody),
        (status = 413, description = "Larger than the body limit", body = ErrorBody),
        (status = 422, description = "CallSid or CallStatus missing", body = ErrorBody),
    )
)]
#[tracing::instrument(skip_all)]
async fn twilio_webhook(
    State(app): State<ApiState>,
    uri: Uri,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<StatusCode, ApiError> {
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let path_and_query = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
    verify_twilio_callback(
        &app.config.calling,
        &path_and_query,
        &params,
        header(&headers, "x-twilio-signature"),
    )?;
    on_twilio_status(&app, TwilioStatus { params: &params }).await?;
    Ok(StatusCode::NO_CONTENT)
}
