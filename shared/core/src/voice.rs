//! The voice port: place a call with an AI assistant, and ask how a call
//! ended. VAPI on AWS; a simulator locally.

use async_trait::async_trait;
use soraaya_domain::{CallMetadata, CallReport, Phone};

/// A call to place.
#[derive(Debug, Clone)]
pub struct OutboundCall {
    pub customer_number: Phone,
    pub customer_name: String,
    /// The customer's own zone (what "tomorrow at four" means).
    pub customer_time_zone: soraaya_domain::TimeZoneName,
    /// The provider's assistant definition (for VAPI, a transient assistant).
    pub assistant: serde_json::Value,
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
    /// Refused for good (a bad number, a bad request).
    #[error("the voice provider refused the call: {0}")]
    Rejected(String),
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
