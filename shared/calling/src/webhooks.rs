//! Webhooks from VAPI (call status, end-of-call reports) and Twilio (call
//! status callbacks): their authentication and what they do. Both are
//! idempotent and order-independent: they act only through conditional lead
//! changes, so a duplicate does nothing and a late status never moves a lead
//! backwards. The HTTP side (headers, bodies, status codes) is the API's.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use secrecy::ExposeSecret;
use sha1::Sha1;
use sha2::Sha256;
use soraaya_core::App;
use soraaya_core::config::CallingConfig;
use soraaya_domain::{CallMetadata, CallReport, LeadStatus, LiveCall, Mover};
use soraaya_leads::record::{Actor, EventKind, TimelineEvent};
use soraaya_leads::repo::LeadsRepo;
use soraaya_leads::service::{self as leads, LeadError, NextState};
use subtle::ConstantTimeEq;
use tracing::{info, warn};

use crate::CallingError;
use crate::ending::{EndSource, end_call};
use crate::records::{
    find_telephony_call, find_voice_call, remember_telephony_call, telephony_call,
};
use crate::vapi::wire::{CallStatus, Envelope, EnvelopeKind, ServerMessage};

/// Oldest `x-timestamp` accepted with an HMAC signature.
const SIGNATURE_MAX_AGE_SECONDS: i64 = 300;

/// Why a webhook was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// VAPI's secret or signature is missing or wrong.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// Twilio's signature is missing or wrong, or Twilio is not configured.
    #[error("{0}")]
    BadSignature(&'static str),
    /// The body is not what the sender documents.
    #[error("{0}")]
    Malformed(String),
    /// A required field is missing.
    #[error("{field} {message}")]
    MissingField {
        field: &'static str,
        message: &'static str,
    },
    #[error(transparent)]
    Calling(#[from] CallingError),
}

fn same(a: &[u8], b: &[u8]) -> bool {
    bool::from(a.ct_eq(b))
}

/// The headers VAPI authenticates a webhook with.
#[derive(Debug, Default, Clone, Copy)]
pub struct VapiCredentials<'a> {
    /// `x-vapi-secret`.
    pub secret: Option<&'a str>,
    /// `x-timestamp`, with an HMAC signature.
    pub timestamp: Option<&'a str>,
    /// `x-signature`.
    pub signature: Option<&'a str>,
}

/// Checks VAPI's shared secret, and its HMAC signature when one is configured.
pub fn verify_vapi(
    config: &CallingConfig,
    presented: VapiCredentials<'_>,
    body: &[u8],
    now: Timestamp,
) -> Result<(), WebhookError> {
    let Some(secret) = &config.vapi_webhook_secret else {
        return Err(WebhookError::Unauthenticated(
            "webhooks are refused: no VAPI webhook secret is configured",
        ));
    };
    let given = presented.secret.unwrap_or_default();
    if !same(given.as_bytes(), secret.expose_secret().as_bytes()) {
        return Err(WebhookError::Unauthenticated(
            "missing or wrong x-vapi-secret",
        ));
    }
    if let Some(hmac_secret) = &config.vapi_webhook_hmac_secret {
        let (Some(stamp), Some(signature)) = (presented.timestamp, presented.signature) else {
            return Err(WebhookError::Unauthenticated(
                "missing x-timestamp or x-signature",
            ));
        };
        let seconds = stamp
            .trim()
            .parse::<i64>()
            .map(|t| if t > 100_000_000_000 { t / 1000 } else { t });
        match seconds {
            Ok(at) if (now.as_second() - at).abs() <= SIGNATURE_MAX_AGE_SECONDS => {}
            _ => {
                return Err(WebhookError::Unauthenticated(
                    "stale or unreadable x-timestamp",
                ));
            }
        }
        let expected = vapi_signature(hmac_secret.expose_secret(), stamp.trim(), body);
        if !same(
            expected.as_bytes(),
            signature.trim().to_ascii_lowercase().as_bytes(),
        ) {
            return Err(WebhookError::Unauthenticated("wrong x-signature"));
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

/// Acts on one VAPI server message (`{"message": {"type", ...}}`):
/// `status-update`, `end-of-call-report`, `hang`; other types are
/// acknowledged and ignored. Answers the message's type.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn on_vapi_message(app: &App, body: &[u8]) -> Result<String, WebhookError> {
    let malformed =
        |e: serde_json::Error| WebhookError::Malformed(format!("not a VAPI server message: {e}"));
    let kind = serde_json::from_slice::<EnvelopeKind>(body)
        .map_err(malformed)?
        .message
        .kind;
    let Envelope { message } = serde_json::from_slice(body).map_err(malformed)?;
    match message {
        ServerMessage::StatusUpdate(update) => {
            match find_call(app, update.call_id(), update.metadata()).await? {
                Some(meta) => {
                    on_status(
                        app,
                        &meta,
                        update.status == CallStatus::InProgress,
                        update.call_id(),
                        update.telephony_call_id(),
                    )
                    .await?;
                }
                None => {
                    warn!(
                        call_id = update.call_id().unwrap_or_default(),
                        "status of a call Soraaya did not place"
                    )
                }
            }
        }
        ServerMessage::EndOfCallReport(message) => {
            let report = message.report();
            let call_id = Some(report.call_id.as_str()).filter(|id| !id.is_empty());
            match find_call(app, call_id, report.metadata.clone()).await? {
                Some(meta) => {
                    let ended = end_call(app, &meta, &report, EndSource::Webhook).await?;
                    info!(call_id = %report.call_id, ?ended, "end-of-call report");
                }
                None => {
                    warn!(call_id = %report.call_id, "end-of-call report for a call Soraaya did not place")
                }
            }
        }
        ServerMessage::Hang(hang) => {
            warn!(
                call_id = hang
                    .call
                    .as_ref()
                    .map(|c| c.id.as_str())
                    .unwrap_or_default(),
                "the assistant did not answer in time (hang)"
            );
        }
        ServerMessage::Other => {}
    }
    Ok(kind)
}

/// Which attempt a VAPI call is: by its id first (recorded when it was
/// placed), then by the metadata VAPI echoes (a message can come before the
/// id is recorded).
async fn find_call(
    app: &App,
    call_id: Option<&str>,
    echoed: Option<CallMetadata>,
) -> Result<Option<CallMetadata>, CallingError> {
    if let Some(id) = call_id
        && let Some(known) = find_voice_call(app.store.as_ref(), id).await?
    {
        return Ok(Some(known));
    }
    Ok(echoed)
}

/// A call status from VAPI or Twilio: `in-progress` moves a dialling lead in
/// call; the provider ids are remembered. Statuses never move a lead backwards.
async fn on_status(
    app: &App,
    meta: &CallMetadata,
    connected: bool,
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
    let result = leads::modify(app, meta.org_id, meta.lead_id, true, |lead, now| {
        // This attempt already ended: a late status changes nothing.
        let Some(live) = lead
            .live_call
            .clone()
            .filter(|c| c.attempt == meta.attempt && c.campaign_id == meta.campaign_id)
        else {
            return Ok(None);
        };
        let learns_id = live.call_id.is_none() && call_id.is_some();
        let moves = connected && lead.status == LeadStatus::Calling;
        if !learns_id && !moves {
            return Ok(None);
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
        Ok(Some(NextState::of(after).with_events(events)))
    })
    .await;
    match result {
        Ok(_) | Err(LeadError::NotFound) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// What Twilio says of a call, from a status callback's form parameters.
pub struct TwilioStatus<'a> {
    pub params: &'a [(String, String)],
}

impl TwilioStatus<'_> {
    fn field(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Checks a Twilio status callback's signature over the URL it was sent to
/// (the public URL with the request's path and query) and its parameters.
pub fn verify_twilio_callback(
    config: &CallingConfig,
    path_and_query: &str,
    params: &[(String, String)],
    presented: Option<&str>,
) -> Result<(), WebhookError> {
    let (Some(token), Some(public_url)) = (&config.twilio_auth_token, &config.public_url) else {
        return Err(WebhookError::BadSignature(
            "Twilio callbacks are refused: no auth token or public URL is configured",
        ));
    };
    let url = format!("{public_url}{path_and_query}");
    if verify_twilio(token.expose_secret(), &url, params, presented) {
        Ok(())
    } else {
        Err(WebhookError::BadSignature(
            "missing or wrong X-Twilio-Signature",
        ))
    }
}

/// Acts on a Twilio call status callback. A call that Twilio reports busy,
/// unanswered or failed ends at once; `in-progress` moves the lead in call;
/// `completed` waits for VAPI's report of what was said.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn on_twilio_status(app: &App, status: TwilioStatus<'_>) -> Result<(), WebhookError> {
    let (Some(sid), Some(call_status)) = (status.field("CallSid"), status.field("CallStatus"))
    else {
        return Err(WebhookError::MissingField {
            field: "CallSid",
            message: "CallSid and CallStatus are required",
        });
    };
    let Some(call) = find_telephony_call(app.store.as_ref(), sid)
        .await
        .map_err(CallingError::from)?
    else {
        // Not (yet) known: VAPI's own reports settle the call.
        return Ok(());
    };
    let repo = LeadsRepo::new(app.store.as_ref());
    let Some(lead) = repo
        .lead(call.org_id, call.lead_id)
        .await
        .map_err(CallingError::from)?
    else {
        return Ok(());
    };
    let Some(live) = lead.live_call.filter(|c| c.attempt == call.attempt) else {
        return Ok(());
    };
    let meta = CallMetadata {
        org_id: call.org_id,
        lead_id: call.lead_id,
        campaign_id: live.campaign_id,
        attempt: call.attempt,
    };
    let ended_reason = match call_status {
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
                duration_seconds: status.field("CallDuration").and_then(|d| d.parse().ok()),
                ..CallReport::default()
            };
            end_call(app, &meta, &report, EndSource::Telephony).await?;
        }
        None if call_status == "in-progress" => {
            on_status(app, &meta, true, None, None).await?;
        }
        None => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

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
        let mut presented = VapiCredentials::default();
        assert!(
            verify_vapi(&config, presented, body, now).is_err(),
            "no secret configured: refused"
        );
        config.vapi_webhook_secret = Some(SecretString::from("s3cret"));
        assert!(verify_vapi(&config, presented, body, now).is_err());
        presented.secret = Some("wrong");
        assert!(verify_vapi(&config, presented, body, now).is_err());
        presented.secret = Some("s3cret");
        assert!(verify_vapi(&config, presented, body, now).is_ok());

        config.vapi_webhook_hmac_secret = Some(SecretString::from("hmac-key"));
        assert!(
            verify_vapi(&config, presented, body, now).is_err(),
            "signature now required"
        );
        let stamp = now.as_second().to_string();
        let signature = vapi_signature("hmac-key", &stamp, body);
        presented.timestamp = Some(&stamp);
        presented.signature = Some(&signature);
        assert!(verify_vapi(&config, presented, body, now).is_ok());
        assert!(
            verify_vapi(&config, presented, b"{}", now).is_err(),
            "altered body"
        );
        let later = now + jiff::SignedDuration::from_secs(301);
        assert!(
            verify_vapi(&config, presented, body, later).is_err(),
            "stale"
        );
    }
}
