//! Extractors that turn bad input into field-level 4xx answers instead of
//! axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};

use soraaya_accounts::{self as accounts, Caller};
use soraaya_domain::Permission;

use crate::ApiState;
use crate::error::ApiError;

/// A JSON body, with every deserialisation problem reported against its field.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(&req) {
            return Err(not_json());
        }
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        parse_json(&bytes).map(ApiJson)
    }
}

fn is_json(req: &Request) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| {
            let mime = mime.trim();
            mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
        })
}

fn not_json() -> ApiError {
    ApiError::UnsupportedMediaType(
        "send the body as JSON with content-type: application/json".into(),
    )
}

/// A JSON body that may be left out: an empty body or `null` is `T::default()`.
#[derive(Debug, Clone)]
pub struct OptionalJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = is_json(&req);
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        if !is_json {
            return Err(not_json());
        }
        // `null` is the body left out, written out.
        if bytes.trim_ascii() == b"null" {
            return Ok(OptionalJson(T::default()));
        }
        parse_json(&bytes).map(OptionalJson)
    }
}

/// Where a request comes from: the source address API Gateway saw (on
/// Lambda), or the connection's peer (`soraaya serve`). Forwarding headers
/// are not read: anyone can write them. `None` for an in-process request.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            return Ok(ClientAddress(Some(peer.ip())));
        }
        let from_gateway = match parts
            .extensions
            .get::<lambda_http::request::RequestContext>()
        {
            Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) => context
                .http
                .source_ip
                .as_deref()
                .and_then(|ip| ip.parse().ok()),
            _ => None,
        };
        Ok(ClientAddress(from_gateway))
    }
}

/// A body taken as it is (a webhook's), with the JSON error envelope for
/// one that is too large or cannot be read.
#[derive(Debug, Clone)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(body_error)
    }
}

pub(crate) fn body_error(rejection: BytesRejection) -> ApiError {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge(format!(
            "the request body is larger than the {} bytes this endpoint takes",
            crate::DEFAULT_BODY_LIMIT
        ))
    } else {
        ApiError::bad_request("unreadable_body", rejection.body_text())
    }
}

/// Parses JSON into `T`, naming the failing field on a type or value error.
/// Parses JSON into `T`, naming the failing field on a type or value error.
/// Structs are read only from JSON objects, at every depth (see
/// [`crate::strict`]).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|err| {
        ApiError::bad_request(
            "malformed_json",
            format!("the body is not valid JSON: {err}"),
        )
    })?;
    serde_path_to_error::deserialize(crate::strict::Strict(&value)).map_err(|err| {
        let path = err.path().to_string();
        let (field, message) = describe(&path, &err.into_inner().to_string());
        ApiError::field(field, message)
    })
}

/// Turns serde's message into a field path and a sentence about that field.
fn describe(path: &str, message: &str) -> (String, String) {
    // serde_json appends the position; the field path says more.
    let message = message
        .rsplit_once(" at line ")
        .map_or(message, |(text, _)| text)
        .to_owned();
    let root = path == "." || path.is_empty();
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some(name) = rest.strip_suffix('`')
    {
        let field = if root {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
        return (field, "is required".to_owned());
    }
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((name, _)) = rest.split_once('`')
    {
        // The path already ends at the unknown field.
        let field = if root {
            name.to_owned()
        } else {
            path.to_owned()
        };
        return (field, "is not a known field".to_owned());
    }
    let field = if root {
        "body".to_owned()
    } else {
        path.to_owned()
    };
    (field, message)
}

/// Query parameters, with problems reported against the parameter.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|err| {
                let path = err.path().to_string();
                let (field, message) = describe(&path, &err.into_inner().to_string());
                ApiError::field(field, message)
            })
    }
}

/// Path parameters; a malformed identifier is a 400 naming the parameter.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(PathRejection::FailedToDeserializePathParams(err)) => {
                use axum::extract::path::ErrorKind;
                let field = match err.kind() {
                    ErrorKind::ParseErrorAtKey { key, .. }
                    | ErrorKind::DeserializeError { key, .. }
                    | ErrorKind::InvalidUtf8InPathParam { key } => key.clone(),
                    _ => "path".to_owned(),
                };
                Err(ApiError::BadRequest {
                    code: "invalid_path",
                    message: format!("the path parameter {field} is not valid"),
                    details: Some(
                        serde_json::json!([{ "field": field, "message": "is not a valid identifier" }]),
                    ),
                })
            }
            Err(other) => Err(ApiError::bad_request("invalid_path", other.body_text())),
        }
    }
}

/// A person's sign-in: every endpoint that acts as the person themself (their
/// profile, preferences, password, sign-out) takes this and refuses an API key.
impl FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &ApiState) -> Result<Self, ApiError> {
        caller(parts, app, &[]).await
    }
}

/// Who makes the request: a person's access token, as `Authorization: Bearer
/// <token>`, or an organisation's API key, as `Authorization: Bearer <key>`
/// or `X-Api-Key: <key>`, taken only where the operation needs one of
/// `needs` that a key can be given (refused before the key is looked up
/// otherwise). Found once per request.
pub(crate) async fn caller(
    parts: &mut Parts,
    app: &ApiState,
    needs: &[Permission],
) -> Result<Caller, ApiError> {
    let keys_taken = needs.iter().any(|p| Permission::FOR_KEYS.contains(p));
    if let Some(caller) = parts.extensions.get::<Caller>()
        && (keys_taken || caller.api_key.is_none())
    {
        return Ok(caller.clone());
    }
    let bearer = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            let (scheme, token) = value.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|token| !token.is_empty());
    // A key header sent is a key given, even empty or unreadable: it is
    // refused as such, never ignored in favour of other credentials.
    let api_key = parts
        .headers
        .get("x-api-key")
        .map(|value| value.to_str().map_or("", str::trim));
    let caller = match (bearer, api_key) {
        (Some(token), None) if !accounts::ApiKeyToken::looks_like(token) => {
            accounts::authenticate(app, token).await?
        }
        (Some(_), None) | (None, Some(_)) if !keys_taken => {
            return Err(ApiError::Unauthorized {
                code: "api_key_not_accepted",
                message: format!(
                    "an API key may not make this request (keys may: {}); sign in as a person",
                    Permission::FOR_KEYS
                        .iter()
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        (Some(key), None) | (None, Some(key)) => {
            let operation = format!(
                "{} {}",
                parts.method,
                parts
                    .extensions
                    .get::<axum::extract::MatchedPath>()
                    .map_or(parts.uri.path(), |p| p.as_str())
            );
            accounts::authenticate_key(app, key, &operation).await?
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::Unauthorized {
                code: "ambiguous_credentials",
                message: "send either Authorization or X-Api-Key, not both".into(),
            });
        }
        (None, None) => {
            return Err(ApiError::Unauthorized {
                code: "missing_token",
                message: "sign in and send the access token as Authorization: Bearer <token>"
                    .into(),
            });
        }
    };
    let span = tracing::Span::current();
    span.record("user_id", tracing::field::display(caller.user_id));
    span.record("org_id", tracing::field::display(caller.org_id));
    parts.extensions.insert(caller.clone());
    Ok(caller)
}

/// The version an `If-Match: "<version>"` header asks a change to apply to.
pub fn if_match(headers: &axum::http::HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(axum::http::header::IF_MATCH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.parse().ok())
        .map(Some)
        .ok_or_else(|| ApiError::field("If-Match", "must be the record's ETag, such as \"3\""))
}

/// An `ETag` header carrying a record's version.
pub fn etag(version: u64) -> [(axum::http::HeaderName, axum::http::HeaderValue); 1] {
    [(
        axum::http::header::ETAG,
        axum::http::HeaderValue::from_str(&format!("\"{version}\""))
            .unwrap_or(axum::http::HeaderValue::from_static("\"0\"")),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        email: soraaya_domain::Email,
        role: soraaya_domain::Role,
        items: Vec<Item>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Item {
        count: u32,
    }

    fn fields(err: ApiError) -> Vec<(String, String)> {
        match err {
            ApiError::Validation(fields) => {
                fields.into_iter().map(|f| (f.field, f.message)).collect()
            }
            other => panic!("expected validation error, got {other:?}"),
        }
    }

    #[test]
    fn json_errors_name_their_field() {
        let missing = parse_json::<Body>(br#"{"role":"admin","items":[]}"#).unwrap_err();
        assert_eq!(
            fields(missing),
            vec![("email".into(), "is required".into())]
        );
        let bad_email =
            parse_json::<Body>(br#"{"email":"nope","role":"admin","items":[]}"#).unwrap_err();
        assert_eq!(
            fields(bad_email),
            vec![("email".into(), "is not a valid email address".into())]
        );
        let nested =
            parse_json::<Body>(br#"{"email":"a@b.co","role":"admin","items":[{"count":-1}]}"#)
                .unwrap_err();
        assert_eq!(fields(nested)[0].0, "items[0].count");
        let role =
            parse_json::<Body>(br#"{"email":"a@b.co","role":"boss","items":[]}"#).unwrap_err();
        assert!(fields(role)[0].1.contains("unknown variant `boss`"));
        assert!(matches!(
            parse_json::<Body>(b"{not json"),
            Err(ApiError::BadRequest {
                code: "malformed_json",
                ..
            })
        ));
        assert!(matches!(
            parse_json::<Body>(br#"{"email":"a@b.co","role":"admin","items":[]} trailing"#),
            Err(ApiError::BadRequest {
                code: "malformed_json",
                ..
            })
        ));
    }
}
