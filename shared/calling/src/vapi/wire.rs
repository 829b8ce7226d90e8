//! VAPI's wire contract as typed serde structs: the body of `POST /call`
//! (only properties VAPI's `CreateCallDTO` and `CreateAssistantDto` declare:
//! its API refuses any other with a 400), the `Call` object, and the server
//! messages posted to our webhook. Reading is tolerant: unknown fields and
//! message types are ignored, and fields VAPI may leave out are optional.
//!
//! Followed, property by property (wire names from `[JsonPropertyName]`):
//! `VapiAI/server-sdk-csharp` @ aa3a1901 (2026-06-25):
//! `src/Vapi.Net/Calls/Requests/CreateCallDto.cs`, `Types/CreateAssistantDto.cs`,
//! `Types/CreateCustomerDto.cs`, `Types/Server.cs`, `Types/AnalysisPlan.cs`,
//! `Types/SummaryPlan.cs`, `Types/StructuredDataPlan.cs`, `Types/Call.cs`,
//! `Types/CallStatus.cs`, `Types/Artifact.cs`, `Types/Recording.cs`,
//! `Types/Analysis.cs`, `Types/ServerMessage.cs`,
//! `Types/ServerMessageStatusUpdate.cs`, `Types/ServerMessageEndOfCallReport.cs`,
//! `Types/ServerMessageHang.cs`, `Types/BotMessage.cs`, `Types/UserMessage.cs`;
//! the same lists in `VapiAI/server-sdk-typescript` @ 7ec0a68f (`src/api/types/`).
//! Limits (which the SDKs drop) from the OpenAPI document they are generated
//! from, `VapiAI/docs` `fern/apis/api/openapi.json` @ 0494c2f3: `name`,
//! assistant `name` and `customer.name` at most 40 characters;
//! `customer.number` E.164; `maxDurationSeconds` 10 to 43,200.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use soraaya_domain::{CallMetadata, CallReport, TranscriptLine};

/// The longest `name` (of a call, an assistant, a customer) VAPI accepts.
pub const MAX_NAME: usize = 40;

/// `text` cut to at most `max` UTF-16 code units (how VAPI's validator,
/// in JavaScript, counts a string's length), at a character boundary.
pub fn clip(text: &str, max: usize) -> String {
    let mut units = 0;
    let clipped: String = text
        .chars()
        .take_while(|c| {
            units += c.len_utf16();
            units <= max
        })
        .collect();
    clipped.trim_end_matches([' ', '-', '–', ',']).to_owned()
}

// ------------------------------------------------------------- POST /call

/// `CreateCallDTO`: one outbound call with a transient assistant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCall {
    /// For people reading VAPI's call log; at most 40 characters.
    pub name: String,
    pub phone_number_id: String,
    pub customer: CreateCustomer,
    pub assistant: CreateAssistant,
}

/// `CreateCustomerDto`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateCustomer {
    /// E.164.
    pub number: String,
    /// At most 40 characters.
    pub name: String,
}

/// `CreateAssistantDto`: the assistant, defined with the call.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateAssistant {
    /// At most 40 characters.
    pub name: String,
    pub first_message: String,
    pub model: OpenAiModel,
    pub voice: VoiceProvider,
    pub transcriber: DeepgramTranscriber,
    pub max_duration_seconds: u32,
    pub voicemail_detection: VoicemailDetection,
    /// The server messages we act on.
    pub server_messages: Vec<&'static str>,
    pub server: Server,
    pub analysis_plan: AnalysisPlan,
    /// "For metadata you want to store on the assistant": VAPI's one place
    /// for our ids, echoed back in every server message and `Call`.
    pub metadata: AssistantMetadata,
}

/// `OpenAIModel` (`provider: "openai"`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenAiModel {
    pub provider: &'static str,
    pub model: &'static str,
    pub temperature: f64,
    pub messages: Vec<ModelMessage>,
    /// `CreateEndCallToolDTO`: lets the model hang up.
    pub tools: Vec<Tool>,
}

/// `OpenAIMessage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelMessage {
    pub role: &'static str,
    pub content: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tool {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// A voice of one of VAPI's voice providers (`AzureVoice` and the others
/// share `provider` and `voiceId`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VoiceProvider {
    pub provider: String,
    pub voice_id: String,
}

/// `DeepgramTranscriber`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeepgramTranscriber {
    pub provider: &'static str,
    pub model: &'static str,
    pub language: String,
}

/// `TwilioVoicemailDetectionPlan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoicemailDetection {
    pub provider: &'static str,
}

/// `Server`: where VAPI posts server messages, with the header that
/// authenticates them (`server.secret` was removed from the DTO in 2025;
/// `headers` is the declared way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Server {
    pub url: String,
    pub headers: BTreeMap<String, String>,
}

/// `AnalysisPlan`: the summary and the structured answers VAPI derives
/// from the transcript after the call.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalysisPlan {
    pub summary_plan: SummaryPlan,
    pub structured_data_plan: StructuredDataPlan,
}

/// `SummaryPlan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SummaryPlan {
    pub messages: Vec<ModelMessage>,
}

/// `StructuredDataPlan` (off unless `enabled`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StructuredDataPlan {
    pub enabled: bool,
    pub schema: Value,
    pub messages: Vec<ModelMessage>,
}

/// What we keep on the assistant: who the call is for, and the customer's
/// zone (what their "tomorrow at four" means).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistantMetadata {
    #[serde(flatten)]
    pub call: CallMetadata,
    pub customer_time_zone: String,
}

// ------------------------------------------------- Call and server messages

/// `CallStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallStatus {
    Scheduled,
    Queued,
    Ringing,
    InProgress,
    Forwarding,
    Ended,
    NotFound,
    DeletionFailed,
    /// A status added after these types were written.
    #[serde(other)]
    Unknown,
}

/// The assistant as VAPI echoes it: we read only our metadata.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AssistantEcho {
    #[serde(default)]
    pub metadata: Option<Value>,
}

impl AssistantEcho {
    fn call_metadata(&self) -> Option<CallMetadata> {
        serde_json::from_value(self.metadata.clone()?).ok()
    }
}

/// `CreateCustomerDto`, as echoed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Customer {
    pub number: Option<String>,
    pub name: Option<String>,
}

/// `Analysis`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Analysis {
    pub summary: Option<String>,
    pub structured_data: Option<Value>,
    pub success_evaluation: Option<Value>,
}

/// `Recording` (its `mono.combinedUrl` replaces the deprecated `recordingUrl`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recording {
    pub stereo_url: Option<String>,
    pub mono: Option<MonoRecording>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonoRecording {
    pub combined_url: Option<String>,
}

/// `Artifact`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    #[serde(default)]
    pub messages: Vec<ArtifactMessage>,
    pub transcript: Option<String>,
    pub recording_url: Option<String>,
    pub recording: Option<Recording>,
}

impl Artifact {
    fn recording(&self) -> Option<String> {
        self.recording
            .as_ref()
            .and_then(|r| r.mono.as_ref())
            .and_then(|m| m.combined_url.clone())
            .or_else(|| self.recording_url.clone())
            .filter(|url| !url.is_empty())
    }
}

/// One of `BotMessage`, `UserMessage`, `SystemMessage`, `ToolCallMessage`,
/// `ToolCallResultMessage` (told apart by `role`; no discriminator is declared).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactMessage {
    #[serde(default)]
    pub role: String,
    pub message: Option<String>,
    /// Epoch milliseconds.
    pub time: Option<f64>,
    pub end_time: Option<f64>,
    pub seconds_from_start: Option<f64>,
    pub duration: Option<f64>,
}

/// `Call`: the answer of `POST /call` and `GET /call/{id}`, and the `call`
/// of server messages.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Call {
    #[serde(default)]
    pub id: String,
    pub status: Option<CallStatus>,
    pub ended_reason: Option<String>,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    /// US dollars.
    pub cost: Option<f64>,
    pub analysis: Option<Analysis>,
    pub artifact: Option<Artifact>,
    #[serde(default)]
    pub messages: Vec<ArtifactMessage>,
    pub assistant: Option<AssistantEcho>,
    pub customer: Option<Customer>,
    pub phone_number_id: Option<String>,
    /// The telephony provider's id (Twilio's CallSid).
    pub phone_call_provider_id: Option<String>,
}

/// A server message: `{"message": {"type": ..., ...}}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope {
    pub message: ServerMessage,
}

/// The server messages we act on; any other type is `Other`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type")]
pub enum ServerMessage {
    #[serde(rename = "status-update")]
    StatusUpdate(StatusUpdate),
    #[serde(rename = "end-of-call-report")]
    EndOfCallReport(Box<EndOfCallReport>),
    /// The assistant is stalling (a slow model, voice or tool): not the end of the call.
    #[serde(rename = "hang")]
    Hang(Hang),
    #[serde(other)]
    Other,
}

/// The `type` of any server message, to acknowledge it by name.
#[derive(Debug, Deserialize)]
pub struct EnvelopeKind {
    pub message: MessageKind,
}

#[derive(Debug, Deserialize)]
pub struct MessageKind {
    #[serde(rename = "type", default)]
    pub kind: String,
}

/// `ServerMessageStatusUpdate`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusUpdate {
    pub status: CallStatus,
    pub ended_reason: Option<String>,
    /// Epoch milliseconds.
    pub timestamp: Option<f64>,
    pub call: Option<Call>,
    pub assistant: Option<AssistantEcho>,
    pub customer: Option<Customer>,
}

/// `ServerMessageEndOfCallReport`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EndOfCallReport {
    #[serde(default)]
    pub ended_reason: String,
    pub cost: Option<f64>,
    pub timestamp: Option<f64>,
    #[serde(default)]
    pub artifact: Artifact,
    #[serde(default)]
    pub analysis: Analysis,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    pub call: Option<Call>,
    pub assistant: Option<AssistantEcho>,
    pub customer: Option<Customer>,
    /// Not declared by the SDKs, but sent in practice.
    pub duration_seconds: Option<f64>,
}

/// `ServerMessageHang`.
#[derive(Debug, Clone, Deserialize)]
pub struct Hang {
    pub timestamp: Option<f64>,
    pub call: Option<Call>,
}

fn text(value: Option<&String>) -> Option<String> {
    value.filter(|s| !s.is_empty()).cloned()
}

/// The conversation's spoken lines, in order.
fn lines(messages: &[ArtifactMessage], started: Option<Timestamp>) -> Vec<TranscriptLine> {
    messages
        .iter()
        .filter_map(|m| {
            let role = match m.role.as_str() {
                "bot" | "assistant" => "assistant",
                "user" | "customer" => "customer",
                _ => return None,
            };
            let text = text(m.message.as_ref())?;
            let seconds = m.seconds_from_start.or_else(|| {
                let at = Timestamp::from_millisecond(m.time? as i64).ok()?;
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

fn seconds_between(started: Option<Timestamp>, ended: Option<Timestamp>) -> Option<f64> {
    Some((ended? - started?).as_secs_f64())
}

impl Call {
    /// Our ids, from the assistant's metadata.
    pub fn metadata(&self) -> Option<CallMetadata> {
        self.assistant.as_ref()?.call_metadata()
    }

    /// A finished call read as a report.
    pub fn report(&self) -> CallReport {
        let artifact = self.artifact.clone().unwrap_or_default();
        let messages = if artifact.messages.is_empty() {
            &self.messages
        } else {
            &artifact.messages
        };
        let analysis = self.analysis.clone().unwrap_or_default();
        CallReport {
            call_id: self.id.clone(),
            metadata: self.metadata(),
            ended_reason: self.ended_reason.clone().unwrap_or_default(),
            started_at: self.started_at,
            ended_at: self.ended_at,
            duration_seconds: seconds_between(self.started_at, self.ended_at),
            cost: self.cost,
            lines: lines(messages, self.started_at),
            summary: text(analysis.summary.as_ref()),
            structured_data: analysis.structured_data.filter(Value::is_object),
            recording_url: artifact.recording(),
            telephony_call_id: text(self.phone_call_provider_id.as_ref()),
        }
    }
}

impl StatusUpdate {
    pub fn call_id(&self) -> Option<&str> {
        self.call
            .as_ref()
            .map(|c| c.id.as_str())
            .filter(|id| !id.is_empty())
    }

    pub fn metadata(&self) -> Option<CallMetadata> {
        self.assistant
            .as_ref()
            .and_then(AssistantEcho::call_metadata)
            .or_else(|| self.call.as_ref()?.metadata())
    }

    pub fn telephony_call_id(&self) -> Option<&str> {
        self.call.as_ref()?.phone_call_provider_id.as_deref()
    }
}

impl EndOfCallReport {
    /// The report: the message's own fields first, then its `call`'s.
    pub fn report(&self) -> CallReport {
        let mut report = self.call.as_ref().map(Call::report).unwrap_or_default();
        let started_at = self.started_at.or(report.started_at);
        let ended_at = self.ended_at.or(report.ended_at);
        let own_lines = lines(&self.artifact.messages, started_at);
        if !own_lines.is_empty() {
            report.lines = own_lines;
        }
        if !self.ended_reason.is_empty() {
            report.ended_reason = self.ended_reason.clone();
        }
        report.metadata = self
            .assistant
            .as_ref()
            .and_then(AssistantEcho::call_metadata)
            .or(report.metadata);
        report.started_at = started_at;
        report.ended_at = ended_at;
        report.duration_seconds = self
            .duration_seconds
            .or_else(|| seconds_between(started_at, ended_at))
            .or(report.duration_seconds);
        report.cost = self.cost.or(report.cost);
        report.summary = text(self.analysis.summary.as_ref()).or(report.summary);
        if let Some(data) = self
            .analysis
            .structured_data
            .clone()
            .filter(Value::is_object)
        {
            report.structured_data = Some(data);
        }
        report.recording_url = self.artifact.recording().or(report.recording_url);
        report
    }
}

/// VAPI's error body: `{"message": [..] | "..", "error": "Bad Request", "statusCode": 400}`.
#[derive(Debug, Deserialize)]
pub struct ApiErrorBody {
    pub message: Option<Value>,
    pub error: Option<String>,
}

impl ApiErrorBody {
    /// VAPI's own words, one line.
    pub fn text(&self) -> Option<String> {
        match self.message.as_ref()? {
            Value::String(s) => Some(s.clone()),
            Value::Array(items) => Some(
                items
                    .iter()
                    .map(|m| m.as_str().map_or_else(|| m.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            other => Some(other.to_string()),
        }
        .or_else(|| self.error.clone())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn metadata() -> Value {
        json!({
            "org_id": "01936f3a-1111-7000-8000-000000000001",
            "lead_id": "01936f3a-1111-7000-8000-000000000002",
            "campaign_id": "01936f3a-1111-7000-8000-000000000003",
            "attempt": 2,
            "customer_time_zone": "Asia/Kolkata",
        })
    }

    #[test]
    fn an_end_of_call_report_reads_as_a_report() {
        let body = json!({ "message": {
            "type": "end-of-call-report",
            "endedReason": "customer-ended-call",
            "cost": 0.21,
            "timestamp": 1795514490000i64,
            "startedAt": "2026-11-24T10:00:00.000Z",
            "endedAt": "2026-11-24T10:01:30.000Z",
            "artifact": {
                "messages": [
                    { "role": "system", "message": "prompt", "time": 1795514400000i64, "secondsFromStart": 0 },
                    { "role": "bot", "message": "Namaste, is this Rohan?", "time": 1795514400400i64, "endTime": 1795514402000i64, "secondsFromStart": 0.4 },
                    { "role": "user", "message": "Yes, speaking.", "time": 1795514403000i64, "endTime": 1795514404000i64 },
                    { "role": "tool_calls", "toolCalls": [], "message": "", "time": 1795514405000i64, "secondsFromStart": 5 },
                ],
                "recording": { "mono": { "combinedUrl": "https://storage.vapi.ai/mono.wav" } },
                "recordingUrl": "https://storage.vapi.ai/rec.wav",
                "someNewField": { "nested": true },
            },
            "analysis": { "summary": "Interested.", "structuredData": { "interested": true }, "successEvaluation": "true" },
            "assistant": { "name": "Aisha", "metadata": metadata() },
            "call": { "id": "call-1", "orgId": "org-1", "status": "ended", "phoneCallProviderId": "CA123", "createdAt": "2026-11-24T09:59:59.000Z" },
            "phoneNumber": { "id": "pn-1", "number": "+912233445566" },
        }});
        let Envelope {
            message: ServerMessage::EndOfCallReport(message),
        } = serde_json::from_value(body).unwrap()
        else {
            panic!("an end-of-call report");
        };
        let report = message.report();
        assert_eq!(report.call_id, "call-1");
        assert_eq!(report.ended_reason, "customer-ended-call");
        assert_eq!(report.duration_seconds, Some(90.0));
        assert_eq!(report.lines.len(), 2);
        assert_eq!(report.lines[0].role, "assistant");
        assert_eq!(report.lines[1].seconds, 3.0);
        assert_eq!(report.metadata.unwrap().attempt, 2);
        assert_eq!(report.telephony_call_id.as_deref(), Some("CA123"));
        assert_eq!(report.structured_data.unwrap()["interested"], true);
        assert_eq!(
            report.recording_url.as_deref(),
            Some("https://storage.vapi.ai/mono.wav")
        );
    }

    #[test]
    fn status_updates_unknown_statuses_and_other_types_are_read() {
        let update: Envelope = serde_json::from_value(json!({ "message": {
            "type": "status-update", "status": "in-progress", "timestamp": 1795514400000i64,
            "call": { "id": "call-1", "assistant": { "metadata": metadata() } },
        }}))
        .unwrap();
        let ServerMessage::StatusUpdate(update) = update.message else {
            panic!("a status update");
        };
        assert_eq!(update.status, CallStatus::InProgress);
        assert_eq!(update.call_id(), Some("call-1"));
        assert_eq!(update.metadata().unwrap().attempt, 2);

        let later: Envelope = serde_json::from_value(json!({ "message": {
            "type": "status-update", "status": "transferring-to-the-moon" }}))
        .unwrap();
        assert!(matches!(
            later.message,
            ServerMessage::StatusUpdate(StatusUpdate {
                status: CallStatus::Unknown,
                ..
            })
        ));
        let other: Envelope = serde_json::from_value(json!({ "message": {
            "type": "speech-update", "status": "started", "role": "assistant" }}))
        .unwrap();
        assert!(matches!(other.message, ServerMessage::Other));
    }

    #[test]
    fn names_are_clipped_as_vapi_counts_them() {
        assert_eq!(clip("Rohan Malhotra", 40), "Rohan Malhotra");
        let long = "Aisha – Mumbai Sea-Face Residences, all markets";
        let clipped = clip(long, 40);
        assert!(clipped.encode_utf16().count() <= 40, "{clipped}");
        assert!(long.starts_with(&clipped));
        // A character outside the BMP counts twice.
        assert_eq!(clip(&"🏠".repeat(30), 40).chars().count(), 20);
    }

    #[test]
    fn vapis_error_bodies_read_as_one_line() {
        let body: ApiErrorBody = serde_json::from_value(json!({
            "message": ["property metadata should not exist", "customer.name must be shorter than or equal to 40 characters"],
            "error": "Bad Request", "statusCode": 400,
        }))
        .unwrap();
        assert_eq!(
            body.text().unwrap(),
            "property metadata should not exist; customer.name must be shorter than or equal to 40 characters"
        );
    }
}
