//! The API's documentation page for people: Swagger UI over
//! `/api/v1/openapi.json`, served from files vendored from npm
//! (`infra/vendor-swagger-ui.sh`: swagger-ui-dist at a pinned version and
//! integrity), so the page needs no CDN. The two large files are kept
//! gzipped and sent so to every client that accepts gzip (every browser);
//! another gets them inflated.

use std::io::Read;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;

use crate::ApiState;

const BUNDLE: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js.gz");
const STYLES: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui.css.gz");

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

fn asset(content_type: &'static str, body: impl Into<Body>) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body.into(),
    )
        .into_response()
}

/// A gzipped file: as it is when the client accepts gzip, else inflated.
fn gzipped_asset(
    headers: &HeaderMap,
    content_type: &'static str,
    gzipped: &'static [u8],
) -> Response {
    let mut response = if accepts_gzip(headers) {
        let mut response = asset(content_type, gzipped);
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        response
    } else {
        let mut inflated = Vec::with_capacity(gzipped.len() * 4);
        flate2::read::GzDecoder::new(gzipped)
            .read_to_end(&mut inflated)
            .expect("the vendored files are gzip");
        asset(content_type, inflated)
    };
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// Whether `Accept-Encoding` allows gzip (listed without `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
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
            get(|headers: HeaderMap| async move {
                gzipped_asset(&headers, "text/javascript; charset=utf-8", BUNDLE)
            }),
        )
        .route(
            "/api/v1/docs/swagger-ui.css",
            get(|headers: HeaderMap| async move {
                gzipped_asset(&headers, "text/css; charset=utf-8", STYLES)
            }),
        )
        .route(
            "/api/v1/docs/start.js",
            get(|| async { asset("text/javascript; charset=utf-8", START.as_bytes()) }),
        )
}
