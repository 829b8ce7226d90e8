//! The voice port: place a call with an AI assistant, and ask how a call
//! ended. VAPI on AWS; a simulator locally. The port speaks the business's
//! terms; each adapter turns them into its provider's contract.

use std::time::Duration;

use async_trait::async_trait;
use soraaya_domain::{CallMetadata, CallReport, Phone, TimeZoneName};

/// The AI agent of one call: what it says first, how it behaves, how it
/// sounds, and what it must find out.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Assistant {
    /// For people reading the provider's call log (persona and campaign).
    pub name: String,
    pub first_message: String,
    pub system_prompt: String,
    pub voice: VoiceChoice,
    /// The conversation's language, BCP 47 (`en-IN`, `en-GB`, `en-US`).
    pub language: String,
    /// The longest the call may last.
    pub max_duration: Duration,
    /// How to summarise the call for a sales manager.
    pub summary_prompt: String,
    /// How to fill in the structured answers, and their JSON schema.
    pub structured_data_prompt: String,
    pub structured_data_schema: serde_json::Value,
}

/// A text-to-speech voice: its provider and the provider's voice id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VoiceChoice {
    pub provider: String,
    pub voice_id: String,
}

/// A call to place.
#[derive(Debug, Clone)]
pub struct OutboundCall {
    pub customer_number: Phone,
    pub customer_name: String,
    /// The customer's own zone (what "tomorrow at four" means).
    pub customer_time_zone: TimeZoneName,
    pub assistant: Assistant,
    pub metadata: CallMetadata,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedCall {
    pub call_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    /// Rate limited, failing, or too slow: worth retrying.
    #[error("the voice provider is busy or failing: {0}")]
    Transient(String),
    /// This request was refused for good (VAPI's 400: the same request
    /// would be refused again). Carries the provider's own words.
    #[error("the voice provider refused the call: {0}")]
    Rejected(String),
    /// Our credentials were refused (401, 403): no call can be placed until
    /// someone fixes the key.
    #[error("the voice provider refused the API key: {0}")]
    Unauthorized(String),
    /// The provider does not know the call asked about.
    #[error("the voice provider does not know this call")]
    UnknownCall,
    #[error("no voice provider is configured")]
    Unconfigured,
}

#[async_trait]
pub trait Voice: Send + Sync + 'static {
    async fn place_call(&self, call: &OutboundCall) -> Result<PlacedCall, VoiceError>;

    /// How the call ended, or `None` while it is still going.
    async fn final_report(&self, call_id: &str) -> Result<Option<CallReport>, VoiceError>;
}

/// A voice port for functions that never call.
pub struct NoVoice;

#[async_trait]
impl Voice for NoVoice {
    async fn place_call(&self, _: &OutboundCall) -> Result<PlacedCall, VoiceError> {
        Err(VoiceError::Unconfigured)
    }

    async fn final_report(&self, _: &str) -> Result<Option<CallReport>, VoiceError> {
        Err(VoiceError::Unconfigured)
    }
}
