//! A fake VAPI on a local port: `POST /call` and `GET /call/{id}` as VAPI's
//! API answers them. Requests are validated the way VAPI's validator does
//! (NestJS `whitelist` + `forbidNonWhitelisted`): any property its published
//! DTOs do not declare is refused with `400 {"message": ["property X should
//! not exist"], ...}`, as are names over 40 characters and numbers that are
//! not E.164. Accepted calls are played by the simulator (its status updates
//! and end-of-call report, which the local runtime posts to the real webhook
//! handler); `GET /call/{id}` answers the simulator's `Call`. It can be rude
//! on purpose: scripted answers first, then a share of 429s and 500s.
//!
//! The property lists follow `VapiAI/server-sdk-csharp` @ aa3a1901:
//! `Calls/Requests/CreateCallDto.cs`, `Types/CreateAssistantDto.cs`,
//! `Types/CreateCustomerDto.cs`, `Types/OpenAiModel.cs`, `Types/OpenAiMessage.cs`,
//! `Types/CreateEndCallToolDto.cs`, `Types/AzureVoice.cs`,
//! `Types/DeepgramTranscriber.cs`, `Types/TwilioVoicemailDetectionPlan.cs`,
//! `Types/Server.cs`, `Types/AnalysisPlan.cs`, `Types/SummaryPlan.cs`,
//! `Types/StructuredDataPlan.cs`, `Types/CreateAssistantDtoServerMessagesItem.cs`;
//! the limits follow `VapiAI/docs` `fern/apis/api/openapi.json` @ 0494c2f3.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};
use soraaya_calling::vapi::wire::AssistantMetadata;
use soraaya_domain::TimeZoneName;
use soraaya_local::simulator::{SimulatedCall, Simulator};

const CREATE_CALL: &[&str] = &[
    "customers",
    "name",
    "schedulePlan",
    "transport",
    "assistantId",
    "assistant",
    "assistantOverrides",
    "squadId",
    "squad",
    "squadOverrides",
    "workflowId",
    "workflow",
    "workflowOverrides",
    "phoneNumberId",
    "phoneNumber",
    "customerId",
    "customer",
    "assistantVersion",
];
const CUSTOMER: &[&str] = &[
    "numberE164CheckEnabled",
    "extension",
    "assistantOverrides",
    "number",
    "sipUri",
    "name",
    "email",
    "externalId",
    "squadOverrides",
];
const ASSISTANT: &[&str] = &[
    "transcriber",
    "model",
    "voice",
    "firstMessage",
    "firstMessageInterruptionsEnabled",
    "firstMessageMode",
    "voicemailDetection",
    "clientMessages",
    "serverMessages",
    "maxDurationSeconds",
    "backgroundSound",
    "modelOutputInMessagesEnabled",
    "transportConfigurations",
    "observabilityPlan",
    "credentials",
    "hooks",
    "name",
    "voicemailMessage",
    "endCallMessage",
    "endCallPhrases",
    "compliancePlan",
    "metadata",
    "backgroundSpeechDenoisingPlan",
    "analysisPlan",
    "artifactPlan",
    "startSpeakingPlan",
    "stopSpeakingPlan",
    "monitorPlan",
    "credentialIds",
    "server",
    "keypadInputPlan",
];
const OPENAI_MODEL: &[&str] = &[
    "provider",
    "model",
    "messages",
    "tools",
    "toolIds",
    "knowledgeBase",
    "fallbackModels",
    "temperature",
    "maxTokens",
    "emotionRecognitionEnabled",
    "numFastTurns",
    "toolStrictCompatibilityMode",
    "promptCacheRetention",
    "promptCacheKey",
];
const MODEL_MESSAGE: &[&str] = &["content", "role"];
const END_CALL_TOOL: &[&str] = &["type", "messages", "rejectionPlan"];
const AZURE_VOICE: &[&str] = &[
    "provider",
    "voiceId",
    "speed",
    "cachingEnabled",
    "chunkPlan",
    "fallbackPlan",
];
const DEEPGRAM: &[&str] = &[
    "provider",
    "model",
    "language",
    "smartFormat",
    "keywords",
    "keyterm",
    "endpointing",
    "fallbackPlan",
];
const TWILIO_VOICEMAIL: &[&str] = &[
    "provider",
    "voicemailDetectionTypes",
    "enabled",
    "machineDetectionTimeout",
    "machineDetectionSpeechThreshold",
    "machineDetectionSpeechEndThreshold",
    "machineDetectionSilenceTimeout",
];
const SERVER: &[&str] = &[
    "url",
    "timeoutSeconds",
    "credentialId",
    "headers",
    "staticIpAddressesEnabled",
    "encryptedPaths",
    "backoffPlan",
];
const ANALYSIS_PLAN: &[&str] = &[
    "minMessagesThreshold",
    "summaryPlan",
    "structuredDataPlan",
    "structuredDataMultiPlan",
    "successEvaluationPlan",
    "outcomeIds",
];
const SUMMARY_PLAN: &[&str] = &["messages", "enabled", "timeoutSeconds"];
const STRUCTURED_DATA_PLAN: &[&str] = &["messages", "enabled", "schema", "timeoutSeconds"];
const SERVER_MESSAGES: &[&str] = &[
    "assistant.started",
    "assistant.speechStarted",
    "conversation-update",
    "end-of-call-report",
    "function-call",
    "hang",
    "language-changed",
    "language-change-detected",
    "model-output",
    "phone-call-control",
    "speech-update",
    "status-update",
    "transcript",
    "transcript[transcriptType=\"final\"]",
    "tool-calls",
    "transfer-destination-request",
    "handoff-destination-request",
    "transfer-update",
    "user-interrupted",
    "voice-input",
];

/// How the fake behaves.
#[derive(Debug, Clone)]
pub struct FakeVapiOptions {
    /// The private API key it accepts.
    pub api_key: String,
    /// Answers given to the first `POST /call`s, in order, before any call
    /// is accepted (a status and VAPI's message).
    pub scripted: Vec<(StatusCode, String)>,
    /// Share of `POST /call`s answered 429, then share answered 500.
    pub too_many_requests: f64,
    pub server_errors: f64,
    pub seed: u64,
}

impl Default for FakeVapiOptions {
    fn default() -> Self {
        FakeVapiOptions {
            api_key: "vapi-private-key".into(),
            scripted: Vec::new(),
            too_many_requests: 0.0,
            server_errors: 0.0,
            seed: 5,
        }
    }
}

/// One request the fake received, and how it answered.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: &'static str,
    pub authorization: Option<String>,
    pub body: Value,
    pub status: StatusCode,
    /// The validator's messages, for a 400.
    pub refused: Vec<String>,
}

struct Fake {
    options: FakeVapiOptions,
    simulator: Arc<Simulator>,
    rng: ChaCha8Rng,
    received: Vec<Received>,
}

#[derive(Clone)]
pub struct FakeVapi {
    state: Arc<Mutex<Fake>>,
    pub base_url: String,
}

fn lock(state: &Mutex<Fake>) -> std::sync::MutexGuard<'_, Fake> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

fn error(status: StatusCode, message: Value) -> (StatusCode, Json<Value>) {
    (
        status,
        Json(json!({
            "message": message,
            "error": status.canonical_reason().unwrap_or("Error"),
            "statusCode": status.as_u16(),
        })),
    )
}

/// Refusals of properties `allowed` does not declare, at `path`.
fn whitelist(value: &Value, path: &str, allowed: &[&str], refused: &mut Vec<String>) {
    let Some(object) = value.as_object() else {
        refused.push(format!("{path}must be an object"));
        return;
    };
    for name in object.keys() {
        if !allowed.contains(&name.as_str()) {
            refused.push(format!("{path}property {name} should not exist"));
        }
    }
}

fn max_length(
    object: &Map<String, Value>,
    path: &str,
    field: &str,
    max: usize,
    refused: &mut Vec<String>,
) {
    if let Some(text) = object.get(field) {
        match text.as_str() {
            Some(text) if text.encode_utf16().count() <= max => {}
            Some(_) => refused.push(format!(
                "{path}{field} must be shorter than or equal to {max} characters"
            )),
            None => refused.push(format!("{path}{field} must be a string")),
        }
    }
}

fn each(value: Option<&Value>, path: &str, allowed: &[&str], refused: &mut Vec<String>) {
    for (i, item) in value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        whitelist(item, &format!("{path}{i}."), allowed, refused);
    }
}

fn is_e164(number: &str) -> bool {
    let digits = number.strip_prefix('+').unwrap_or("");
    (2..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0')
}

/// What VAPI's validator says of a `POST /call` body; empty when it passes.
pub fn validate_create_call(body: &Value) -> Vec<String> {
    let mut refused = Vec::new();
    whitelist(body, "", CREATE_CALL, &mut refused);
    let Some(call) = body.as_object() else {
        return refused;
    };
    max_length(call, "", "name", 40, &mut refused);
    if let Some(customer) = call.get("customer") {
        whitelist(customer, "customer.", CUSTOMER, &mut refused);
        if let Some(customer) = customer.as_object() {
            max_length(customer, "customer.", "name", 40, &mut refused);
            let number = customer.get("number").and_then(Value::as_str).unwrap_or("");
            let check = customer.get("numberE164CheckEnabled") != Some(&Value::Bool(false));
            if !(3..=40).contains(&number.len()) || (check && !is_e164(number)) {
                refused.push(
                    "customer.number must be a valid phone number in the E.164 format".into(),
                );
            }
        }
    }
    if let Some(assistant) = call.get("assistant") {
        whitelist(assistant, "assistant.", ASSISTANT, &mut refused);
        let Some(a) = assistant.as_object() else {
            return refused;
        };
        max_length(a, "assistant.", "name", 40, &mut refused);
        max_length(a, "assistant.", "voicemailMessage", 1000, &mut refused);
        max_length(a, "assistant.", "endCallMessage", 1000, &mut refused);
        if let Some(seconds) = a.get("maxDurationSeconds")
            && !seconds
                .as_f64()
                .is_some_and(|s| (10.0..=43_200.0).contains(&s))
        {
            refused.push(
                "assistant.maxDurationSeconds must not be less than 10 and not greater than 43200"
                    .into(),
            );
        }
        if let Some(model) = a.get("model") {
            whitelist(model, "assistant.model.", OPENAI_MODEL, &mut refused);
            each(
                model.get("messages"),
                "assistant.model.messages.",
                MODEL_MESSAGE,
                &mut refused,
            );
            each(
                model.get("tools"),
                "assistant.model.tools.",
                END_CALL_TOOL,
                &mut refused,
            );
            if model
                .get("temperature")
                .and_then(Value::as_f64)
                .is_some_and(|t| !(0.0..=2.0).contains(&t))
            {
                refused.push("assistant.model.temperature must not be greater than 2".into());
            }
        }
        if let Some(voice) = a.get("voice") {
            whitelist(voice, "assistant.voice.", AZURE_VOICE, &mut refused);
        }
        if let Some(transcriber) = a.get("transcriber") {
            whitelist(
                transcriber,
                "assistant.transcriber.",
                DEEPGRAM,
                &mut refused,
            );
        }
        if let Some(detection) = a.get("voicemailDetection") {
            whitelist(
                detection,
                "assistant.voicemailDetection.",
                TWILIO_VOICEMAIL,
                &mut refused,
            );
        }
        if let Some(server) = a.get("server") {
            whitelist(server, "assistant.server.", SERVER, &mut refused);
        }
        for kind in a
            .get("serverMessages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !kind.as_str().is_some_and(|k| SERVER_MESSAGES.contains(&k)) {
                refused.push(format!("assistant.each value in serverMessages must be one of the following values: {}", SERVER_MESSAGES.join(", ")));
            }
        }
        if let Some(plan) = a.get("analysisPlan") {
            whitelist(plan, "assistant.analysisPlan.", ANALYSIS_PLAN, &mut refused);
            if let Some(summary) = plan.get("summaryPlan") {
                whitelist(
                    summary,
                    "assistant.analysisPlan.summaryPlan.",
                    SUMMARY_PLAN,
                    &mut refused,
                );
                each(
                    summary.get("messages"),
                    "assistant.analysisPlan.summaryPlan.messages.",
                    MODEL_MESSAGE,
                    &mut refused,
                );
            }
            if let Some(data) = plan.get("structuredDataPlan") {
                whitelist(
                    data,
                    "assistant.analysisPlan.structuredDataPlan.",
                    STRUCTURED_DATA_PLAN,
                    &mut refused,
                );
                each(
                    data.get("messages"),
                    "assistant.analysisPlan.structuredDataPlan.messages.",
                    MODEL_MESSAGE,
                    &mut refused,
                );
            }
        }
        if let Some(metadata) = a.get("metadata")
            && !metadata.is_object()
        {
            refused.push("assistant.metadata must be an object".into());
        }
    }
    refused
}

impl FakeVapi {
    /// Starts the fake on a free local port, playing calls with `simulator`.
    pub async fn start(simulator: Arc<Simulator>, options: FakeVapiOptions) -> FakeVapi {
        let state = Arc::new(Mutex::new(Fake {
            rng: ChaCha8Rng::seed_from_u64(options.seed),
            options,
            simulator,
            received: Vec::new(),
        }));
        let app = axum::Router::new()
            .route("/call", post(create_call))
            .route("/call/{id}", get(get_call))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local port");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        FakeVapi {
            state,
            base_url: format!("http://{address}"),
        }
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.state).received.clone()
    }

    /// `POST /call`s the validator refused.
    pub fn refused(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| !r.refused.is_empty())
            .collect()
    }

    /// `POST /call`s accepted.
    pub fn accepted(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.method == "POST" && r.status == StatusCode::CREATED)
            .collect()
    }
}

fn authorized(state: &Fake, headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {}", state.options.api_key))
}

fn authorization(headers: &HeaderMap) -> Option<String> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn create_call(
    State(state): State<Arc<Mutex<Fake>>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, Json<Value>) {
    let mut state = lock(&state);
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let record = |state: &mut Fake, status: StatusCode, refused: Vec<String>| {
        state.received.push(Received {
            method: "POST",
            authorization: authorization(&headers),
            body: body.clone(),
            status,
            refused,
        });
    };
    if !authorized(&state, &headers) {
        record(&mut state, StatusCode::UNAUTHORIZED, Vec::new());
        return error(
            StatusCode::UNAUTHORIZED,
            json!(
                "Invalid Key. Hot tip, you may be using the private key instead of the public key, or vice versa."
            ),
        );
    }
    if !state.options.scripted.is_empty() {
        let (status, message) = state.options.scripted.remove(0);
        record(&mut state, status, Vec::new());
        return error(status, json!(message));
    }
    let roll: f64 = state.rng.random();
    let (throttled, failing) = (state.options.too_many_requests, state.options.server_errors);
    if roll < throttled {
        record(&mut state, StatusCode::TOO_MANY_REQUESTS, Vec::new());
        return error(StatusCode::TOO_MANY_REQUESTS, json!("Too Many Requests"));
    }
    if roll < throttled + failing {
        record(&mut state, StatusCode::INTERNAL_SERVER_ERROR, Vec::new());
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!("Internal server error"),
        );
    }
    let refused = validate_create_call(&body);
    if !refused.is_empty() {
        record(&mut state, StatusCode::BAD_REQUEST, refused.clone());
        return error(StatusCode::BAD_REQUEST, json!(refused));
    }
    let Ok(metadata) =
        serde_json::from_value::<AssistantMetadata>(body["assistant"]["metadata"].clone())
    else {
        let refused = vec!["assistant.metadata is not what Soraaya sends".to_owned()];
        record(&mut state, StatusCode::BAD_REQUEST, refused.clone());
        return error(StatusCode::BAD_REQUEST, json!(refused));
    };
    let call = SimulatedCall {
        number: body["customer"]["number"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        name: body["customer"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        time_zone: TimeZoneName::parse(&metadata.customer_time_zone)
            .unwrap_or_else(|_| TimeZoneName::india()),
        metadata: metadata.call,
    };
    let placed = state.simulator.start(&call);
    record(&mut state, StatusCode::CREATED, Vec::new());
    let mut answer = state
        .simulator
        .call_object(&placed.call_id)
        .unwrap_or_else(|| json!({ "id": placed.call_id }));
    answer["status"] = json!("queued");
    (StatusCode::CREATED, Json(answer))
}

async fn get_call(
    State(state): State<Arc<Mutex<Fake>>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> (StatusCode, Json<Value>) {
    let mut state = lock(&state);
    let authorized = authorized(&state, &headers);
    let status = if !authorized {
        StatusCode::UNAUTHORIZED
    } else if state.simulator.call_object(&id).is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    state.received.push(Received {
        method: "GET",
        authorization: authorization(&headers),
        body: json!({ "id": id }),
        status,
        refused: Vec::new(),
    });
    match status {
        StatusCode::OK => (
            status,
            Json(state.simulator.call_object(&id).unwrap_or_default()),
        ),
        StatusCode::UNAUTHORIZED => error(status, json!("Invalid Key.")),
        _ => error(status, json!("Couldn't Get Call. Call Not Found")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_validator_refuses_what_vapis_dtos_do_not_declare() {
        let refused = validate_create_call(&json!({
            "phoneNumberId": "pn-1",
            "metadata": { "lead_id": "x" },
            "customer": { "number": "98200 12345", "name": "A name far longer than forty characters, surely" },
            "assistant": {
                "name": "Aisha",
                "endCallFunctionEnabled": true,
                "server": { "url": "https://x", "secret": "s" },
                "analysisPlan": { "summaryPrompt": "…" },
                "maxDurationSeconds": 5,
            },
        }));
        for expected in [
            "property metadata should not exist",
            "customer.name must be shorter than or equal to 40 characters",
            "customer.number must be a valid phone number in the E.164 format",
            "assistant.property endCallFunctionEnabled should not exist",
            "assistant.server.property secret should not exist",
            "assistant.analysisPlan.property summaryPrompt should not exist",
            "assistant.maxDurationSeconds must not be less than 10 and not greater than 43200",
        ] {
            assert!(
                refused.iter().any(|r| r == expected),
                "{expected} missing from {refused:?}"
            );
        }
        assert!(validate_create_call(&json!({ "phoneNumberId": "pn-1", "customer": { "number": "+919820012345", "name": "Rohan" } })).is_empty());
    }
}
