//! Campaigns, agent personas and properties: what they are and the rules
//! that tie them together.

pub mod matching;
pub mod service;

pub use service::CampaignError;
