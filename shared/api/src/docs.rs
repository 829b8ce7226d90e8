//! The API's documentation page for people: Swagger UI over
//! `/api/v1/openapi.json`, served from files vendored from npm
//! (`infra/vendor-swagger-ui.sh`: swagger-ui-dist at a pinned version and
//! integrity), so the page needs no CDN.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;

use crate::ApiState;

const BUNDLE: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js");
const STYLES: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui.css");

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Soraaya API</title>
  <link rel="stylesheet" href="/api/v1/docs/swagger-ui.css">
</head>
<body>
  <div id="api-docs"></div>
  <script src="/api/v1/docs/swagger-ui-bundle.js"></script>
  <script src="/api/v1/docs/start.js"></script>
</body>
</html>
"#;

/// Kept out of the page, so that the page's policy allows no inline script.
const START: &str = "window.ui = SwaggerUIBundle({ url: '/api/v1/openapi.json', dom_id: '#api-docs', deepLinking: true, persistAuthorization: true });\n";

/// Swagger UI styles itself inline; everything else comes from this server.
const POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static [u8]) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
        .into_response()
}

async fn page() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(POLICY),
            ),
        ],
        PAGE,
    )
        .into_response()
}

/// `/api/v1/docs` and its files (not operations of the API document).
pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .route("/api/v1/docs", get(page))
        .route(
            "/api/v1/docs/swagger-ui-bundle.js",
            get(|| async { asset("text/javascript; charset=utf-8", BUNDLE) }),
        )
        .route(
            "/api/v1/docs/swagger-ui.css",
            get(|| async { asset("text/css; charset=utf-8", STYLES) }),
        )
        .route(
            "/api/v1/docs/start.js",
            get(|| async { asset("text/javascript; charset=utf-8", START.as_bytes()) }),
        )
}
