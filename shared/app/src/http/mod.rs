//! The HTTP foundation: routers per API area, middleware (request ids, traces,
//! panics caught), JSON fallbacks, health and the OpenAPI document.

pub mod error;
pub mod extract;

use std::sync::LazyLock;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

pub use error::{ApiError, ErrorBody, FieldError, FieldErrors, Require};
pub use extract::{ApiJson, ApiPath, ApiQuery, OptionalJson, etag, if_match};

use crate::AppState;

/// Largest JSON body accepted by default.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A group of endpoints deployed together as one Lambda function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// `/api/v1/auth`, `/api/v1/user`, `/api/v1/users`.
    Accounts,
    /// `/api/v1/leads`, `/api/v1/dnc`.
    Leads,
    /// `/api/v1/campaigns`, `/api/v1/agent-personas`, `/api/v1/properties`,
    /// `/api/v1/calling`, `/api/v1/notifications`.
    Campaigns,
    /// `POST /api/v1/webhooks/vapi`.
    VapiWebhook,
    /// `POST /api/v1/webhooks/twilio`.
    TwilioWebhook,
}

impl Area {
    pub const ALL: &'static [Area] = &[
        Area::Accounts,
        Area::Leads,
        Area::Campaigns,
        Area::VapiWebhook,
        Area::TwilioWebhook,
    ];

    fn routes(self) -> OpenApiRouter<AppState> {
        match self {
            Area::Accounts => crate::accounts::http::routes(),
            Area::Leads => crate::leads::http::routes(),
            Area::Campaigns => {
                crate::campaigns::http::routes().merge(crate::notifications::routes())
            }
            Area::VapiWebhook => crate::calling::webhooks::vapi_routes(),
            Area::TwilioWebhook => crate::calling::webhooks::twilio_routes(),
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Soraaya API",
        description = "AI lead qualification for luxury real estate. Every error answers `{\"error\": {\"code\", \"message\", \"details\"}}`.",
        version = "1.0.0"
    ),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody, FieldError, HealthResponse)),
    tags(
        (name = "auth", description = "Sign in, tokens, the signed-in user"),
        (name = "users", description = "Users of the organisation (admins)"),
        (name = "leads", description = "The lead book: leads, statuses, timeline, import and export"),
        (name = "dnc", description = "The do-not-call list"),
        (name = "campaigns", description = "Campaigns, agent personas and properties"),
        (name = "calling", description = "Starting and stopping calls, live status"),
        (name = "notifications", description = "What people must act on"),
        (name = "webhooks", description = "VAPI and Twilio callbacks"),
        (name = "system", description = "Health and the API document"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".to_owned());
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The OpenAPI document of the whole API, generated from the handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut router = OpenApiRouter::with_openapi(ApiDoc::openapi());
    for area in Area::ALL {
        router = router.merge(area.routes());
    }
    let (_, mut document) = router.split_for_parts();
    document.paths.paths.insert(
        "/health".to_owned(),
        utoipa::openapi::PathItem::new(
            utoipa::openapi::HttpMethod::Get,
            utoipa::openapi::path::OperationBuilder::new()
                .tag("system")
                .summary(Some("Liveness"))
                .response(
                    "200",
                    utoipa::openapi::ResponseBuilder::new()
                        .description("The service is up")
                        .content(
                            "application/json",
                            utoipa::openapi::ContentBuilder::new()
                                .schema(Some(utoipa::openapi::Ref::from_schema_name(
                                    "HealthResponse",
                                )))
                                .build(),
                        ),
                ),
        ),
    );
    document
}

static OPENAPI_JSON: LazyLock<String> = LazyLock::new(|| {
    openapi()
        .to_pretty_json()
        .unwrap_or_else(|err| format!("{{\"error\":\"{err}\"}}"))
});

#[derive(Serialize, ToSchema)]
pub struct HealthResponse {
    status: &'static str,
    version: &'static str,
}

async fn health() -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

async fn openapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        OPENAPI_JSON.as_str(),
    )
        .into_response()
}

async fn no_route(method: Method, uri: Uri) -> Response {
    error::envelope(
        StatusCode::NOT_FOUND,
        "no_route",
        format!("no endpoint {method} {}", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    error::envelope(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not supported on {}", uri.path()),
    )
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    ApiError::Internal("handler panicked".into()).into_response()
}

/// The router for some areas of the API, with health, the OpenAPI document and
/// every cross-cutting layer. The same router runs under Lambda and locally.
pub fn router(app: AppState, areas: &[Area]) -> Router {
    let mut api = OpenApiRouter::new();
    for area in areas {
        api = api.merge(area.routes());
    }
    let (routes, _) = api.split_for_parts();
    let router = routes
        .route("/health", get(health))
        .route("/api/v1/openapi.json", get(openapi_json))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(app);
    with_layers(router)
}

/// Request ids, request spans with structured fields, panics as 500s, and the
/// default body limit.
pub fn with_layers(router: Router) -> Router {
    router
        .layer(DefaultBodyLimit::max(DEFAULT_BODY_LIMIT))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let request_id = request
                        .headers()
                        .get(&REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    let route = request
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or_else(|| request.uri().path(), MatchedPath::as_str);
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        route,
                        request_id,
                        user_id = tracing::field::Empty,
                        org_id = tracing::field::Empty,
                    )
                })
                .on_request(())
                .on_response(|response: &Response, latency: Duration, _: &Span| {
                    tracing::info!(
                        status = response.status().as_u16(),
                        latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
                        "response"
                    );
                })
                .on_failure(()),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
}
