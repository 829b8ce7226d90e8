//! Leads: the lead book, its status machine, timeline, counters, import,
//! intake by API and export.

pub use soraaya_counters as counters;
pub mod export;
pub mod fields;
pub mod import;
pub mod input;
pub mod intake;
pub mod list;
pub mod record;
pub mod reindex;
pub mod repo;
pub mod service;
pub mod words;
