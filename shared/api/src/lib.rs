//! The HTTP API: every axum route, the middleware (request ids, traces,
//! panics caught), health and the OpenAPI document; the one error mapping
//! and the extractors are `soraaya-http`'s. Each Lambda function serves the
//! routes of its area; the local server serves them all.

pub mod accounts;
pub mod api_keys;
pub mod campaigns;
pub mod dashboard;
pub mod docs;
pub mod insights;
pub mod intake;
pub mod jobs;
pub mod leads;
pub mod notifications;
pub mod preferences;
pub mod webhooks;

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

use soraaya_core::AppState;
pub use soraaya_core::validation::{FieldError, FieldErrors};
pub use soraaya_http::{
    ApiError, ApiJson, ApiPath, ApiQuery, ApiState, DEFAULT_BODY_LIMIT, ErrorBody, OptionalJson,
    Permitted, Require, error, etag, extract, if_match, may, permit,
};

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Every route of the API, as the local server serves them and as the
/// OpenAPI document describes them.
pub fn all_routes() -> OpenApiRouter<ApiState> {
    accounts::routes()
        .merge(api_keys::routes())
        .merge(preferences::routes())
        .merge(leads::routes())
        .merge(intake::routes())
        .merge(jobs::routes())
        .merge(campaigns::routes())
        .merge(notifications::routes())
        .merge(dashboard::routes())
        .merge(insights::routes())
        .merge(webhooks::vapi_routes())
        .merge(webhooks::twilio_routes())
        .merge(docs::routes())
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Soraaya API",
        description = "AI lead qualification for luxury real estate. Every error answers `{\"error\": {\"code\", \"message\", \"details\"}}`.",
        version = "1.0.0",
        // Cargo's `UNLICENSED` is not an SPDX identifier; say what it means.
        license(name = "Proprietary: Soraaya, all rights reserved")
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
        (name = "dashboard", description = "KPIs, trends and breakdowns, read from counters kept on write"),
        (name = "insights", description = "What calls show: objections, patterns, trends, recommendations"),
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
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Header(
                utoipa::openapi::security::ApiKeyValue::with_description(
                    "X-Api-Key",
                    "An organisation's API key (also taken as Authorization: Bearer <key>)",
                ),
            )),
        );
    }
}

/// The OpenAPI document of the whole API, generated from the handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let router = OpenApiRouter::with_openapi(ApiDoc::openapi()).merge(all_routes());
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
    add_standard_answers(&mut document);
    for (path, input, required) in [
        (
            "/api/v1/leads",
            "LeadInput",
            soraaya_leads::input::LeadInput::REQUIRED_ON_CREATE,
        ),
        (
            "/api/v1/campaigns",
            "CampaignInput",
            soraaya_campaigns::service::CampaignInput::REQUIRED_ON_CREATE,
        ),
        (
            "/api/v1/agent-personas",
            "PersonaInput",
            soraaya_campaigns::service::PersonaInput::REQUIRED_ON_CREATE,
        ),
        (
            "/api/v1/properties",
            "PropertyInput",
            soraaya_campaigns::service::PropertyInput::REQUIRED_ON_CREATE,
        ),
    ] {
        require_on_create(&mut document, path, input, required);
    }
    state_identifier_forms(&mut document);
    document
}

/// The textual forms of a UUID the server reads (those `uuid::Uuid::parse_str`
/// takes: simple, hyphenated, braced, URN in any case). `format: uuid` alone is an
/// annotation most validators skip, so a client generating from the document
/// could send `None` as an identifier and be told 400.
const UUID_PATTERN: &str = concat!(
    "^(?:[0-9a-fA-F]{32}",
    "|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    "|\\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\}",
    "|[uU][rR][nN]:[uU][uU][iI][dD]:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
);

/// Every identifier in the document, in a path, a query or a body, states
/// the forms it takes as a pattern.
fn state_identifier_forms(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, KnownFormat, SchemaFormat};
    use utoipa::openapi::{RefOr, Schema};
    fn visit(schema: &mut RefOr<Schema>) {
        let RefOr::T(schema) = schema else { return };
        match schema {
            Schema::Object(object) => {
                if matches!(
                    object.format,
                    Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))
                ) && object.pattern.is_none()
                {
                    object.pattern = Some(UUID_PATTERN.to_owned());
                }
                object.properties.values_mut().for_each(visit);
                if let Some(AdditionalProperties::RefOr(more)) =
                    object.additional_properties.as_deref_mut()
                {
                    visit(more);
                }
            }
            Schema::Array(array) => {
                if let ArrayItems::RefOrSchema(items) = &mut array.items {
                    visit(items);
                }
            }
            Schema::OneOf(choice) => choice.items.iter_mut().for_each(visit),
            Schema::AllOf(all) => all.items.iter_mut().for_each(visit),
            Schema::AnyOf(any) => any.items.iter_mut().for_each(visit),
            _ => {}
        }
    }
    if let Some(components) = document.components.as_mut() {
        components.schemas.values_mut().for_each(visit);
    }
    for item in document.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            for parameter in operation.parameters.iter_mut().flatten() {
                if let RefOr::T(parameter) = parameter
                    && let Some(schema) = parameter.schema.as_mut()
                {
                    visit(schema);
                }
            }
            if let Some(RefOr::T(body)) = operation.request_body.as_mut() {
                for content in body.content.values_mut() {
                    if let RefOr::T(content) = content
                        && let Some(schema) = content.schema.as_mut()
                    {
                        visit(schema);
                    }
                }
            }
        }
    }
}

/// One input schema serves creating and changing; creating also needs some
/// fields. The `POST` of `path` gets its own schema, `New<Thing>`: the input
/// with those fields required and not `null`.
fn require_on_create(
    document: &mut utoipa::openapi::OpenApi,
    path: &str,
    input: &str,
    required: &[&str],
) {
    use serde_json::Value;
    use utoipa::openapi::{Ref, RefOr};
    let components = document
        .components
        .as_mut()
        .expect("the document has components");
    let base = components
        .schemas
        .get(input)
        .unwrap_or_else(|| panic!("no schema {input}"));
    let mut schema = serde_json::to_value(base).expect("a schema is JSON");
    for field in required {
        let property = &mut schema["properties"][*field];
        assert!(property.is_object(), "{input} has no property {field}");
        let property = property.as_object_mut().expect("an object");
        property.remove("default");
        if let Some(Value::Array(types)) = property.get_mut("type") {
            types.retain(|t| t != "null");
        }
        if let Some(Value::Array(choices)) = property.remove("oneOf") {
            let mut choices: Vec<Value> = choices
                .into_iter()
                .filter(|c| c["type"] != "null")
                .collect();
            match choices.len() {
                1 => {
                    if let Value::Object(only) = choices.remove(0) {
                        property.extend(only);
                    }
                }
                _ => {
                    property.insert("oneOf".into(), Value::Array(choices));
                }
            }
        }
    }
    schema["required"] = required.iter().map(|f| Value::from(*f)).collect();
    let name = format!("New{}", input.trim_end_matches("Input"));
    let schema = serde_json::from_value(schema).expect("still a schema");
    components.schemas.insert(name.clone(), RefOr::T(schema));
    let body = document
        .paths
        .paths
        .get_mut(path)
        .and_then(|item| item.post.as_mut())
        .and_then(|post| match post.request_body.as_mut() {
            Some(RefOr::T(body)) => Some(body),
            _ => None,
        })
        .unwrap_or_else(|| panic!("POST {path} has no body"));
    for content in body.content.values_mut() {
        if let RefOr::T(content) = content {
            content.schema = Some(RefOr::Ref(Ref::from_schema_name(name.clone())));
        }
    }
}

/// Every status the cross-cutting layers can answer, on every operation
/// they apply to (a handler documents its own statuses; these are the
/// extractors', the authentication's and the server's).
fn add_standard_answers(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let error = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build(),
        )
    };
    for item in document.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            let parameters = operation.parameters.as_deref().unwrap_or_default();
            let has_path = parameters
                .iter()
                .any(|p| matches!(p, RefOr::T(p) if matches!(p.parameter_in, ParameterIn::Path)));
            let has_query = parameters
                .iter()
                .any(|p| matches!(p, RefOr::T(p) if matches!(p.parameter_in, ParameterIn::Query)));
            let json_body = operation.request_body.as_ref().is_some_and(
                |body| matches!(body, RefOr::T(b) if b.content.contains_key("application/json")),
            );
            let any_body = operation.request_body.is_some();
            let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
            let mut answers: Vec<(&str, &str)> = Vec::new();
            if has_path || has_query || json_body {
                answers.push(("400", "Malformed JSON, path or query"));
            }
            if secured {
                answers.push((
                    "401",
                    "Missing, invalid or expired access token, or session ended",
                ));
                answers.push(("403", "The caller's role may not do this"));
            }
            if any_body {
                answers.push(("413", "The body is over this endpoint's limit"));
                answers.push(("415", "The body is not of a media type this endpoint takes"));
            }
            if has_path || has_query || any_body {
                answers.push(("422", "Invalid fields, each named in details"));
            }
            answers.push(("500", "Unexpected failure (logged with the request id)"));
            answers.push((
                "503",
                "Busy for a moment; Retry-After says when to try again",
            ));
            for (status, description) in answers {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| error(description));
            }
        }
    }
}

/// The OpenAPI document as served: generated by [`openapi`] and kept in the
/// repository (a test checks they agree), so that a function serving one area
/// does not link every other area's handlers to describe them.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

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
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
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

/// The router for some routes of the API, with health, the OpenAPI document
/// and every cross-cutting layer. The same router runs under Lambda and locally.
pub fn router(app: AppState, routes: OpenApiRouter<ApiState>) -> Router {
    let (routes, _) = routes.split_for_parts();
    let router = routes
        .route("/health", get(health))
        .route("/api/v1/openapi.json", get(openapi_json))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(ApiState(app));
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
