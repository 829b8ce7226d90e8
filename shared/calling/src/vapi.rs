//! VAPI: the REST client behind the voice port, and the reading of VAPI's
//! payloads (webhook messages and call objects) into the port's types.
//! Payloads are read leniently, field by field: VAPI adds fields often.

use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use serde_json::{Value, json};

use secrecy::{ExposeSecret, SecretString};
use soraaya_core::config::{
    Config, ConfigError, VAPI_BASE_URL_VAR, VAPI_WEBHOOK_SECRET_VAR, VapiAccount,
};
use soraaya_core::voice::{OutboundCall, PlacedCall, Voice, VoiceError};
use soraaya_domain::{CallMetadata, CallReport, TranscriptLine};

/// How to reach VAPI and how VAPI reaches us.
#[derive(Debug, Clone)]
pub struct VapiConfig {
    pub base_url: String,
    pub api_key: SecretString,
    /// The VAPI phone number (imported from Twilio) calls are placed from.
    pub phone_number_id: String,
    /// Where VAPI posts webhooks (`…/api/v1/webhooks/vapi`).
    pub server_url: String,
    /// Sent back by VAPI as `x-vapi-secret`.
    pub server_secret: SecretString,
}

impl VapiConfig {
    /// The account calls go through, with webhooks to this deployment's
    /// public URL, authenticated by its webhook secret.
    pub fn new(account: &VapiAccount, config: &Config) -> Result<Self, ConfigError> {
        Ok(VapiConfig {
            base_url: account.base_url.clone(),
            api_key: account.api_key.clone(),
            phone_number_id: account.phone_number_id.clone(),
            server_url: format!("{}/api/v1/webhooks/vapi", config.public_url()?),
            server_secret: config
                .calling
                .vapi_webhook_secret
                .clone()
                .ok_or(ConfigError::Missing(VAPI_WEBHOOK_SECRET_VAR))?,
        })
    }
}

pub struct VapiVoice {
    http: reqwest::Client,
    config: VapiConfig,
}

impl VapiVoice {
    pub fn new(config: VapiConfig) -> Result<Self, ConfigError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20))
            .user_agent(concat!("soraaya/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| ConfigError::Invalid {
                name: VAPI_BASE_URL_VAR,
                reason: err.to_string(),
            })?;
        Ok(VapiVoice { http, config })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.base_url.trim_end_matches('/'))
    }

    /// The body of `POST /call`.
    pub fn call_body(&self, call: &OutboundCall) -> Value {
        let mut assistant = call.assistant.clone();
        assistant["server"] = json!({
            "url": self.config.server_url,
            "secret": self.config.server_secret.expose_secret(),
        });
        json!({
            "assistant": assistant,
            "phoneNumberId": self.config.phone_number_id,
            "customer": { "number": call.customer_number.as_str(), "name": call.customer_name },
            "metadata": call.metadata,
        })
    }
}

fn classify(status: reqwest::StatusCode, body: &str) -> VoiceError {
    let detail = format!("{status}: {}", body.chars().take(300).collect::<String>());
    if status.as_u16() == 429 || status.is_server_error() || status.as_u16() == 408 {
        VoiceError::Transient(detail)
    } else {
        VoiceError::Rejected(detail)
    }
}

fn transport(err: reqwest::Error) -> VoiceError {
    // Timeouts and connection failures: the call may be retried.
    VoiceError::Transient(err.to_string())
}

#[async_trait]
impl Voice for VapiVoice {
    async fn place_call(&self, call: &OutboundCall) -> Result<PlacedCall, VoiceError> {
        let response = self
            .http
            .post(self.url("/call"))
            .bearer_auth(self.config.api_key.expose_secret())
            .json(&self.call_body(call))
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let body = response.text().await.map_err(transport)?;
        if !status.is_success() {
            return Err(classify(status, &body));
        }
        let value: Value = serde_json::from_str(&body)
            .map_err(|e| VoiceError::Transient(format!("unreadable answer from VAPI: {e}")))?;
        value["id"]
            .as_str()
            .map(|id| PlacedCall {
                call_id: id.to_owned(),
            })
            .ok_or_else(|| VoiceError::Transient("VAPI answered without a call id".into()))
    }

    async fn final_report(&self, call_id: &str) -> Result<Option<CallReport>, VoiceError> {
        let response = self
            .http
            .get(self.url(&format!("/call/{call_id}")))
            .bearer_auth(self.config.api_key.expose_secret())
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let body = response.text().await.map_err(transport)?;
        if !status.is_success() {
            return Err(classify(status, &body));
        }
        let call: Value = serde_json::from_str(&body)
            .map_err(|e| VoiceError::Transient(format!("unreadable answer from VAPI: {e}")))?;
        Ok((call["status"].as_str() == Some("ended")).then(|| report_from_call(&call)))
    }
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned).filter(|s| !s.is_empty())
}

fn timestamp(value: &Value) -> Option<Timestamp> {
    match value {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n
            .as_i64()
            .and_then(|ms| Timestamp::from_millisecond(ms).ok()),
        _ => None,
    }
}

/// The metadata we sent with the call, as VAPI echoes it.
pub fn metadata(call: &Value) -> Option<CallMetadata> {
    serde_json::from_value(call["metadata"].clone()).ok()
}

fn lines(messages: &Value, started: Option<Timestamp>) -> Vec<TranscriptLine> {
    let Some(messages) = messages.as_array() else {
        return Vec::new();
    };
    messages
        .iter()
        .filter_map(|m| {
            let role = match m["role"].as_str()? {
                "bot" | "assistant" => "assistant",
                "user" | "customer" => "customer",
                _ => return None,
            };
            let text = text(&m["message"]).or_else(|| text(&m["content"]))?;
            let seconds = m["secondsFromStart"].as_f64().or_else(|| {
                let at = timestamp(&m["time"])?;
                Some((at - started?).as_secs_f64())
            })?;
            Some(TranscriptLine {
                role: role.to_owned(),
                text,
                seconds,
            })
        })
        .collect()
}

/// Reads a finished call, from `GET /call/{id}` or a webhook's `call`.
pub fn report_from_call(call: &Value) -> CallReport {
    let started_at = timestamp(&call["startedAt"]);
    let ended_at = timestamp(&call["endedAt"]);
    let artifact = &call["artifact"];
    let messages = if artifact["messages"].is_array() {
        &artifact["messages"]
    } else {
        &call["messages"]
    };
    CallReport {
        call_id: text(&call["id"]).unwrap_or_default(),
        metadata: metadata(call),
        ended_reason: text(&call["endedReason"]).unwrap_or_default(),
        started_at,
        ended_at,
        duration_seconds: call["durationSeconds"]
            .as_f64()
            .or_else(|| Some((ended_at? - started_at?).as_secs_f64())),
        cost: call["cost"].as_f64(),
        lines: lines(messages, started_at),
        summary: text(&call["analysis"]["summary"]).or_else(|| text(&call["summary"])),
        structured_data: Some(call["analysis"]["structuredData"].clone()).filter(Value::is_object),
        recording_url: text(&artifact["recordingUrl"]).or_else(|| text(&call["recordingUrl"])),
        telephony_call_id: text(&call["phoneCallProviderId"]),
    }
}

/// Reads an `end-of-call-report` message: its own fields first, then its `call`'s.
pub fn report_from_end_of_call(message: &Value) -> CallReport {
    let mut report = report_from_call(&message["call"]);
    let started_at = timestamp(&message["startedAt"]).or(report.started_at);
    let ended_at = timestamp(&message["endedAt"]).or(report.ended_at);
    let artifact = &message["artifact"];
    let messages = if artifact["messages"].is_array() {
        &artifact["messages"]
    } else {
        &message["messages"]
    };
    let own_lines = lines(messages, started_at);
    if !own_lines.is_empty() {
        report.lines = own_lines;
    }
    report.ended_reason = text(&message["endedReason"]).unwrap_or(report.ended_reason);
    report.started_at = started_at;
    report.ended_at = ended_at;
    report.duration_seconds = message["durationSeconds"]
        .as_f64()
        .or(report.duration_seconds)
        .or_else(|| Some((ended_at? - started_at?).as_secs_f64()));
    report.cost = message["cost"].as_f64().or(report.cost);
    report.summary = text(&message["analysis"]["summary"]).or(report.summary);
    if message["analysis"]["structuredData"].is_object() {
        report.structured_data = Some(message["analysis"]["structuredData"].clone());
    }
    report.recording_url = text(&artifact["recordingUrl"]).or(report.recording_url);
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_of_call_reports_are_read_from_either_layout() {
        let message = json!({
            "type": "end-of-call-report",
            "endedReason": "customer-ended-call",
            "cost": 0.21,
            "startedAt": "2026-11-24T10:00:00Z",
            "endedAt": "2026-11-24T10:01:30Z",
            "artifact": {
                "messages": [
                    { "role": "system", "message": "prompt" },
                    { "role": "bot", "message": "Namaste, is this Rohan?", "secondsFromStart": 0.4 },
                    { "role": "user", "message": "Yes, speaking.", "time": 1795514403000i64 },
                ],
                "recordingUrl": "https://storage.vapi.ai/rec.wav",
            },
            "analysis": { "summary": "Interested.", "structuredData": { "interested": true } },
            "call": { "id": "call-1", "phoneCallProviderId": "CA123", "metadata": {
                "org_id": "01936f3a-1111-7000-8000-000000000001",
                "lead_id": "01936f3a-1111-7000-8000-000000000002",
                "campaign_id": "01936f3a-1111-7000-8000-000000000003",
                "attempt": 2,
            } },
        });
        let report = report_from_end_of_call(&message);
        assert_eq!(report.call_id, "call-1");
        assert_eq!(report.ended_reason, "customer-ended-call");
        assert_eq!(report.duration_seconds, Some(90.0));
        assert_eq!(report.lines.len(), 2);
        assert_eq!(report.lines[0].role, "assistant");
        assert_eq!(report.lines[1].seconds, 3.0);
        assert_eq!(report.metadata.unwrap().attempt, 2);
        assert_eq!(report.telephony_call_id.as_deref(), Some("CA123"));
        assert_eq!(report.structured_data.unwrap()["interested"], true);
    }
}
