//! VAPI: the REST client behind the voice port (`POST /call`, `GET
//! /call/{id}`), speaking VAPI's published contract (see [`wire`]).

pub mod wire;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use soraaya_core::config::{
    Config, ConfigError, VAPI_BASE_URL_VAR, VAPI_WEBHOOK_SECRET_VAR, VapiAccount,
};
use soraaya_core::voice::{OutboundCall, PlacedCall, Voice, VoiceError};
use soraaya_domain::CallReport;

use wire::{
    AnalysisPlan, ApiErrorBody, AssistantMetadata, Call, CallStatus, CreateAssistant, CreateCall,
    CreateCustomer, DeepgramTranscriber, MAX_NAME, ModelMessage, OpenAiModel, Server,
    StructuredDataPlan, SummaryPlan, Tool, VoiceProvider, VoicemailDetection, clip,
};

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

/// The server messages the webhook acts on.
const SERVER_MESSAGES: [&str; 3] = ["status-update", "end-of-call-report", "hang"];

/// What VAPI's analysis reads, as its default analysis prompts put it.
const TRANSCRIPT_PROMPT: &str = "Here is the transcript:\n\n{{transcript}}\n\n. Here is the ended reason of the call:\n\n{{endedReason}}\n\n";

fn system(content: String) -> ModelMessage {
    ModelMessage {
        role: "system",
        content,
    }
}

fn user(content: &str) -> ModelMessage {
    ModelMessage {
        role: "user",
        content: content.to_owned(),
    }
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

    /// The body of `POST /call`: only what `CreateCallDTO` declares.
    pub fn call_body(&self, call: &OutboundCall) -> CreateCall {
        let spec = &call.assistant;
        let headers = BTreeMap::from([(
            "x-vapi-secret".to_owned(),
            self.config.server_secret.expose_secret().to_owned(),
        )]);
        CreateCall {
            name: clip(
                &format!("{} · attempt {}", call.customer_name, call.metadata.attempt),
                MAX_NAME,
            ),
            phone_number_id: self.config.phone_number_id.clone(),
            customer: CreateCustomer {
                number: call.customer_number.as_str().to_owned(),
                name: clip(&call.customer_name, MAX_NAME),
            },
            assistant: CreateAssistant {
                name: clip(&spec.name, MAX_NAME),
                first_message: spec.first_message.clone(),
                model: OpenAiModel {
                    provider: "openai",
                    model: "gpt-4o",
                    temperature: 0.4,
                    messages: vec![system(spec.system_prompt.clone())],
                    tools: vec![Tool { kind: "endCall" }],
                },
                voice: VoiceProvider {
                    provider: spec.voice.provider.clone(),
                    voice_id: spec.voice.voice_id.clone(),
                },
                transcriber: DeepgramTranscriber {
                    provider: "deepgram",
                    model: "nova-2",
                    language: spec.language.clone(),
                },
                max_duration_seconds: u32::try_from(spec.max_duration.as_secs())
                    .unwrap_or(u32::MAX)
                    .clamp(10, 43_200),
                voicemail_detection: VoicemailDetection { provider: "twilio" },
                server_messages: SERVER_MESSAGES.to_vec(),
                server: Server {
                    url: self.config.server_url.clone(),
                    headers,
                },
                analysis_plan: AnalysisPlan {
                    summary_plan: SummaryPlan {
                        messages: vec![
                            system(spec.summary_prompt.clone()),
                            user(TRANSCRIPT_PROMPT),
                        ],
                    },
                    structured_data_plan: StructuredDataPlan {
                        enabled: true,
                        schema: spec.structured_data_schema.clone(),
                        messages: vec![
                            system(format!(
                                "{}\n\nJson Schema:\n{{{{schema}}}}\n\nOnly respond with the JSON.",
                                spec.structured_data_prompt
                            )),
                            user(TRANSCRIPT_PROMPT),
                        ],
                    },
                },
                metadata: AssistantMetadata {
                    call: call.metadata.clone(),
                    customer_time_zone: call.customer_time_zone.to_string(),
                },
            },
        }
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, String), VoiceError> {
        let response = request
            .bearer_auth(self.config.api_key.expose_secret())
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let body = response.text().await.map_err(transport)?;
        Ok((status, body))
    }
}

/// What an answer other than 2xx means: 429, 408 and 5xx pass; 401 and 403
/// are our key; any other 4xx is this request, refused for good.
fn classify(status: StatusCode, body: &str) -> VoiceError {
    let said = serde_json::from_str::<ApiErrorBody>(body)
        .ok()
        .and_then(|b| b.text())
        .unwrap_or_else(|| body.chars().take(300).collect());
    let detail = format!("{status}: {said}");
    match status.as_u16() {
        408 | 429 | 500..=599 => VoiceError::Transient(detail),
        401 | 403 => VoiceError::Unauthorized(detail),
        _ => VoiceError::Rejected(said),
    }
}

fn transport(err: reqwest::Error) -> VoiceError {
    // Timeouts and connection failures: the call may be retried.
    VoiceError::Transient(err.to_string())
}

fn unreadable(err: serde_json::Error) -> VoiceError {
    VoiceError::Transient(format!("unreadable answer from VAPI: {err}"))
}

#[async_trait]
impl Voice for VapiVoice {
    async fn place_call(&self, call: &OutboundCall) -> Result<PlacedCall, VoiceError> {
        let (status, body) = self
            .send(
                self.http
                    .post(self.url("/call"))
                    .json(&self.call_body(call)),
            )
            .await?;
        if !status.is_success() {
            return Err(classify(status, &body));
        }
        let placed: Call = serde_json::from_str(&body).map_err(unreadable)?;
        if placed.id.is_empty() {
            return Err(VoiceError::Transient(
                "VAPI answered without a call id".into(),
            ));
        }
        Ok(PlacedCall { call_id: placed.id })
    }

    async fn final_report(&self, call_id: &str) -> Result<Option<CallReport>, VoiceError> {
        let (status, body) = self
            .send(self.http.get(self.url(&format!("/call/{call_id}"))))
            .await?;
        if status == StatusCode::NOT_FOUND {
            return Err(VoiceError::UnknownCall);
        }
        if !status.is_success() {
            return Err(classify(status, &body));
        }
        let call: Call = serde_json::from_str(&body).map_err(unreadable)?;
        Ok((call.status == Some(CallStatus::Ended)).then(|| call.report()))
    }
}
