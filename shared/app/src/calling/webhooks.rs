//! Webhooks from VAPI (call status, end-of-call reports) and Twilio (call
//! status callbacks). Both are authenticated, answer fast, and are idempotent
//! and order-independent: they act only through conditional lead changes, so
//! a duplicate does nothing and a late status never moves a lead backwards.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::Sha256;
use soraaya_domain::{LeadStatus, LiveCall, Mover};
use subtle::ConstantTimeEq;
use tracing::{info, warn};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::CallingError;
use super::ending::{EndSource, end_call};
use super::records::{find_telephony_call, remember_telephony_call, telephony_call};
use super::vapi::{metadata, report_from_end_of_call};
use super::voice::{CallMetadata, CallReport};
use crate::config::CallingConfig;
use crate::http::{ApiError, ErrorBody};
use crate::leads::record::{Actor, EventKind, TimelineEvent};
use crate::leads::repo::{LeadChange, LeadsRepo, WriteError};
use crate::{App, AppState};

/// Oldest `x-timestamp` accepted with an HMAC signature.
const SIGNATURE_MAX_AGE_SECONDS: i64 = 300;

pub fn vapi_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(vapi_webhook))
}

pub fn twilio_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(twilio_webhook))
}

fn same(a: &[u8], b: &[u8]) -> bool {
    bool::from(a.ct_eq(b))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::Unauthorized {
        code: "invalid_webhook_credentials",
        message: message.to_owned(),
    }
}

/// Checks VAPI's shared secret, and its HMAC signature when one is configured.
pub fn verify_vapi(
    config: &CallingConfig,
    headers: &HeaderMap,
    body: &[u8],
    now: Timestamp,
) -> Result<(), ApiError> {
    let Some(secret) = &config.vapi_webhook_secret else {
        return Err(unauthorized(
            "webhooks are refused: no VAPI webhook secret is configured",
        ));
    };
    let presented = header(headers, "x-vapi-secret").unwrap_or_default();
    if !same(presented.as_bytes(), secret.expose().as_bytes()) {
        return Err(unauthorized("missing or wrong x-vapi-secret"));
    }
    if let Some(hmac_secret) = &config.vapi_webhook_hmac_secret {
        let (Some(stamp), Some(signature)) = (
            header(headers, "x-timestamp"),
            header(headers, "x-signature"),
        ) else {
            return Err(unauthorized("missing x-timestamp or x-signature"));
        };
        let seconds = stamp
            .trim()
            .parse::<i64>()
            .map(|t| if t > 100_000_000_000 { t / 1000 } else { t });
        match seconds {
            Ok(at) if (now.as_second() - at).abs() <= SIGNATURE_MAX_AGE_SECONDS => {}
            _ => return Err(unauthorized("stale or unreadable x-timestamp")),
        }
        let expected = vapi_signature(hmac_secret.expose(), stamp.trim(), body);
        if !same(
            expected.as_bytes(),
            signature.trim().to_ascii_lowercase().as_bytes(),
        ) {
            return Err(unauthorized("wrong x-signature"));
        }
    }
    Ok(())
}

/// Hex HMAC-SHA256 over `{timestamp}.{body}`.
pub fn vapi_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Twilio's signature: base64 HMAC-SHA1 of the URL followed by every form
/// parameter, sorted by name, as name then value.
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

pub fn verify_twilio(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    presented: Option<&str>,
) -> bool {
    let Some(presented) = presented else {
        return false;
    };
    same(
        twilio_signature(auth_token, url, params).as_bytes(),
        presented.trim().as_bytes(),
    )
}

fn failure(err: CallingError) -> ApiError {
    match err {
        CallingError::Store(store) => store.into(),
        other => ApiError::internal(other),
    }
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
    )
)]
async fn vapi_webhook(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    verify_vapi(&app.config.calling, &headers, &body, app.clock.now())?;
    let value: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
    })?;
    let message = &value["message"];
    let kind = message["type"].as_str().unwrap_or_default();
    match kind {
        "status-update" => {
            let status = message["status"].as_str().unwrap_or_default();
            if let Some(meta) = metadata(&message["call"]) {
                let call_id = message["call"]["id"].as_str();
                let telephony = message["call"]["phoneCallProviderId"].as_str();
                on_status(&app, &meta, status, call_id, telephony)
                    .await
                    .map_err(failure)?;
            }
        }
        "end-of-call-report" => {
            let report = report_from_end_of_call(message);
            match report.metadata.clone() {
                Some(meta) => {
                    let ended = end_call(&app, &meta, &report, EndSource::Webhook)
                        .await
                        .map_err(failure)?;
                    info!(call_id = %report.call_id, ?ended, "end-of-call report");
                }
                None => {
                    warn!(call_id = %report.call_id, "end-of-call report for a call Soraaya did not place")
                }
            }
        }
        "hang" => {
            warn!(
                call_id = message["call"]["id"].as_str().unwrap_or_default(),
                "the assistant did not answer in time (hang)"
            );
        }
        _ => {}
    }
    Ok(Json(json!({ "received": kind })))
}

/// A call status from VAPI or Twilio: `in-progress` moves a dialling lead in
/// call; the provider ids are remembered. Statuses never move a lead backwards.
async fn on_status(
    app: &App,
    meta: &CallMetadata,
    status: &str,
    call_id: Option<&str>,
    telephony: Option<&str>,
) -> Result<(), CallingError> {
    let now = app.clock.now();
    if let Some(sid) = telephony {
        let record = telephony_call(meta.org_id, meta.lead_id, meta.attempt, now);
        app.store
            .transact_write(vec![remember_telephony_call(sid, &record)?])
            .await?;
    }
    let connected = status == "in-progress";
    let repo = LeadsRepo::new(app.store.as_ref());
    let organisation = app.organisations.get(app, meta.org_id).await?;
    for _ in 0..3 {
        let Some(lead) = repo.lead(meta.org_id, meta.lead_id).await? else {
            return Ok(());
        };
        let Some(live) = lead
            .live_call
            .clone()
            .filter(|c| c.attempt == meta.attempt && c.campaign_id == meta.campaign_id)
        else {
            // This attempt already ended: a late status changes nothing.
            return Ok(());
        };
        let learns_id = live.call_id.is_none() && call_id.is_some();
        let moves = connected && lead.status == LeadStatus::Calling;
        if !learns_id && !moves {
            return Ok(());
        }
        let mut after = lead.clone();
        let mut events = Vec::new();
        if learns_id {
            after.live_call = Some(LiveCall {
                call_id: call_id.map(str::to_owned),
                ..live
            });
        }
        if moves {
            lead.status
                .check_transition(LeadStatus::InCall, Mover::System)?;
            after.status = LeadStatus::InCall;
            let mut event = TimelineEvent::new(
                &after,
                EventKind::StatusChanged,
                &Actor::system("vapi webhook"),
                now,
            );
            event.from = Some(lead.status);
            event.to = Some(LeadStatus::InCall);
            event.reason = Some("the call connected".into());
            events.push(event);
        }
        after.version = lead.version + 1;
        after.updated_at = now;
        let change = LeadChange::new(Some(lead), Some(after), events);
        match repo
            .write(
                meta.org_id,
                &organisation.time_zone.zone(),
                now,
                &[change],
                Vec::new(),
            )
            .await
        {
            Ok(()) => return Ok(()),
            Err(WriteError::Stale { .. }) => continue,
            Err(WriteError::Store(err)) => return Err(err.into()),
            Err(_) => return Ok(()),
        }
    }
    Ok(())
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
    )
)]
async fn twilio_webhook(
    State(app): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let calling = &app.config.calling;
    let forbidden = |message: &str| ApiError::Forbidden {
        code: "invalid_signature",
        message: message.to_owned(),
        details: None,
    };
    let (Some(token), Some(public_url)) = (&calling.twilio_auth_token, &calling.public_url) else {
        return Err(forbidden(
            "Twilio callbacks are refused: no auth token or public URL is configured",
        ));
    };
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let url = match uri.query() {
        Some(query) => format!("{public_url}{}?{query}", uri.path()),
        None => format!("{public_url}{}", uri.path()),
    };
    if !verify_twilio(
        token.expose(),
        &url,
        &params,
        header(&headers, "x-twilio-signature"),
    ) {
        return Err(forbidden("missing or wrong X-Twilio-Signature"));
    }
    let field = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (Some(sid), Some(status)) = (field("CallSid"), field("CallStatus")) else {
        return Err(ApiError::field(
            "CallSid",
            "CallSid and CallStatus are required",
        ));
    };
    let Some(call) = find_telephony_call(app.store.as_ref(), sid).await? else {
        // Not (yet) known: VAPI's own reports settle the call.
        return Ok(StatusCode::NO_CONTENT);
    };
    let repo = LeadsRepo::new(app.store.as_ref());
    let Some(lead) = repo.lead(call.org_id, call.lead_id).await? else {
        return Ok(StatusCode::NO_CONTENT);
    };
    let Some(live) = lead.live_call.filter(|c| c.attempt == call.attempt) else {
        return Ok(StatusCode::NO_CONTENT);
    };
    let meta = CallMetadata {
        org_id: call.org_id,
        lead_id: call.lead_id,
        campaign_id: live.campaign_id,
        attempt: call.attempt,
    };
    let ended_reason = match status {
        "busy" => Some("customer-busy"),
        "no-answer" => Some("customer-did-not-answer"),
        "failed" => Some("twilio-failed-to-connect-call"),
        "canceled" => Some("twilio-call-canceled"),
        _ => None,
    };
    match ended_reason {
        Some(reason) => {
            let report = CallReport {
                call_id: live.call_id.clone().unwrap_or_default(),
                ended_reason: reason.to_owned(),
                telephony_call_id: Some(sid.to_owned()),
                duration_seconds: field("CallDuration").and_then(|d| d.parse().ok()),
                ..CallReport::default()
            };
            end_call(&app, &meta, &report, EndSource::Telephony)
                .await
                .map_err(failure)?;
        }
        None if status == "in-progress" => {
            on_status(&app, &meta, status, None, None)
                .await
                .map_err(failure)?;
        }
        None => {}
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector_params() -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// The worked example of Twilio's webhook security documentation.
    #[test]
    fn twilios_published_vector_verifies() {
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            twilio_signature("12345", url, &vector_params()),
            "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
        );
        assert!(verify_twilio(
            "12345",
            url,
            &vector_params(),
            Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
        ));
        let mut altered = vector_params();
        altered[2].1 = "9999".into();
        assert!(!verify_twilio(
            "12345",
            url,
            &altered,
            Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
        ));
        assert!(!verify_twilio(
            "12345",
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            &vector_params(),
            Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
        ));
        assert!(!verify_twilio(
            "wrong",
            url,
            &vector_params(),
            Some("0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
        ));
        assert!(!verify_twilio("12345", url, &vector_params(), None));
    }

    #[test]
    fn vapi_secrets_and_signatures() {
        let mut config = CallingConfig::default();
        let now: Timestamp = "2026-11-24T10:00:00Z".parse().unwrap();
        let body = br#"{"message":{"type":"hang"}}"#;
        let mut headers = HeaderMap::new();
        assert!(
            verify_vapi(&config, &headers, body, now).is_err(),
            "no secret configured: refused"
        );
        config.vapi_webhook_secret = Some(crate::Secret::new("s3cret".into()));
        assert!(verify_vapi(&config, &headers, body, now).is_err());
        headers.insert("x-vapi-secret", "wrong".parse().unwrap());
        assert!(verify_vapi(&config, &headers, body, now).is_err());
        headers.insert("x-vapi-secret", "s3cret".parse().unwrap());
        assert!(verify_vapi(&config, &headers, body, now).is_ok());

        config.vapi_webhook_hmac_secret = Some(crate::Secret::new("hmac-key".into()));
        assert!(
            verify_vapi(&config, &headers, body, now).is_err(),
            "signature now required"
        );
        let stamp = now.as_second().to_string();
        headers.insert("x-timestamp", stamp.parse().unwrap());
        headers.insert(
            "x-signature",
            vapi_signature("hmac-key", &stamp, body).parse().unwrap(),
        );
        assert!(verify_vapi(&config, &headers, body, now).is_ok());
        assert!(
            verify_vapi(&config, &headers, b"{}", now).is_err(),
            "altered body"
        );
        let later = now + jiff::SignedDuration::from_secs(301);
        assert!(
            verify_vapi(&config, &headers, body, later).is_err(),
            "stale"
        );
    }
}
