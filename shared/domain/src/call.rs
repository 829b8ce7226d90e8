//! Calls as the business sees them: who a call was for, what was said, how it
//! ended and what that result means, whichever voice provider placed it.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{CampaignId, LeadId, OrgId};

/// Who a call is for; carried with the call and returned in every report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallMetadata {
    pub org_id: OrgId,
    pub lead_id: LeadId,
    pub campaign_id: CampaignId,
    pub attempt: u32,
}

/// One line of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TranscriptLine {
    /// `assistant` or `customer`.
    pub role: String,
    pub text: String,
    /// Seconds from the start of the call.
    pub seconds: f64,
}

/// How a call ended, as the voice provider reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallReport {
    pub call_id: String,
    pub metadata: Option<CallMetadata>,
    /// The provider's reason (VAPI `endedReason`, such as `customer-ended-call`).
    pub ended_reason: String,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    pub duration_seconds: Option<f64>,
    /// Cost in US dollars.
    pub cost: Option<f64>,
    pub lines: Vec<TranscriptLine>,
    pub summary: Option<String>,
    pub structured_data: Option<serde_json::Value>,
    pub recording_url: Option<String>,
    /// The telephony provider's call id (Twilio CallSid).
    pub telephony_call_id: Option<String>,
}

impl CallReport {
    /// The ended reason of a call the voice provider refused to place (its
    /// words in the summary).
    pub const REJECTED: &'static str = "call.start.error-rejected";

    /// The ended reason of a call cut off by a restart of the local process
    /// (its simulated conversation died with the process): not the lead's
    /// doing, so it does not use one of the lead's attempts.
    pub const LOST_IN_RESTART: &'static str = "unknown-error-simulator-restarted";

    /// The report of a call the voice provider refused to place.
    pub fn rejected(call_id: &str, why: &str) -> CallReport {
        CallReport {
            call_id: call_id.to_owned(),
            ended_reason: CallReport::REJECTED.to_owned(),
            summary: Some(why.to_owned()),
            ..CallReport::default()
        }
    }
}

/// How a call went on the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallResult {
    Connected,
    NoAnswer,
    Busy,
    Voicemail,
    Failed,
}

impl CallResult {
    pub fn as_str(self) -> &'static str {
        match self {
            CallResult::Connected => "connected",
            CallResult::NoAnswer => "no_answer",
            CallResult::Busy => "busy",
            CallResult::Voicemail => "voicemail",
            CallResult::Failed => "failed",
        }
    }

    /// Reads VAPI's `endedReason`.
    pub fn from_ended_reason(reason: &str) -> CallResult {
        let reason = reason.to_ascii_lowercase();
        match reason.as_str() {
            "customer-did-not-answer" | "no-answer" => CallResult::NoAnswer,
            "customer-busy" | "busy" => CallResult::Busy,
            "voicemail" | "voicemail-reached" => CallResult::Voicemail,
            r if r.contains("error")
                || r.contains("fault")
                || r.contains("failed")
                || r.starts_with("pipeline")
                || r.starts_with("twilio-")
                || r.starts_with("vonage-")
                || r.starts_with("phone-call-provider")
                || r.starts_with("call.start")
                || r == "assistant-join-timed-out"
                || r == "unknown" =>
            {
                CallResult::Failed
            }
            _ => CallResult::Connected,
        }
    }
}
