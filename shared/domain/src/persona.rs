//! AI agent personas and the properties they present.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Inr, OrgId, PersonaId, PropertyId, PropertyType, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Accent {
    Indian,
    Uk,
    Usa,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommunicationStyle {
    Formal,
    Casual,
    Consultative,
}

/// Region-specific conversation flow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ScriptCustomizations {
    /// The first thing the agent says; `{lead_name}`, `{agent_name}`, `{company}` are filled in.
    #[schema(max_length = 1000)]
    pub greeting: Option<String>,
    #[schema(max_length = 1000)]
    pub pitch: Option<String>,
    #[schema(max_length = 1000)]
    pub closing: Option<String>,
    /// When the agent hands the conversation to a person (up to 20, each up to 200 characters).
    #[schema(schema_with = crate::schema::escalation_triggers)]
    pub escalation_triggers: Vec<String>,
}

/// An AI voice agent: who it is, how it sounds and how it talks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AgentPersona {
    pub id: PersonaId,
    pub org_id: OrgId,
    /// The name the agent introduces itself with.
    pub name: String,
    /// Market it knows: mumbai, delhi, bangalore, pune, chennai, hyderabad...
    pub region: String,
    pub accent: Accent,
    pub communication_style: CommunicationStyle,
    /// Voice of the text-to-speech provider, `provider:voice` (such as `azure:en-IN-NeerjaNeural`).
    pub voice_model_id: String,
    pub personality_traits: Vec<String>,
    /// Local market knowledge the agent may draw on.
    pub market_knowledge: String,
    pub script_customizations: ScriptCustomizations,
    pub is_active: bool,
    pub version: u64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    Available,
    Reserved,
    Sold,
}

/// A property the agents may present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Property {
    pub id: PropertyId,
    pub org_id: OrgId,
    pub name: String,
    pub property_type: PropertyType,
    pub location: String,
    pub price_range: Option<String>,
    pub price_min: Option<Inr>,
    pub price_max: Option<Inr>,
    pub amenities: Vec<String>,
    /// Details such as bedrooms, carpet area, floor, view, possession.
    pub specifications: BTreeMap<String, String>,
    pub availability_status: Availability,
    pub version: u64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}
