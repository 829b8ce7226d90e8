//! Campaigns, agent personas and properties.

pub mod http;
pub mod records;
pub mod service;
