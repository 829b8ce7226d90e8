//! One integration-test binary; each module is an area of behaviour.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

mod ab_tests;
mod architecture;
mod auth;
mod bulk_jobs;
mod calling;
mod calling_e2e;
mod conformance;
mod dashboard;
mod demo_history;
mod docs;
mod insights;
mod intake;
mod lead_jobs;
mod leads;
mod leads_access;
mod leads_import;
mod matching;
mod notification_workflow;
mod on_dynamodb;
mod org_settings;
mod password_reset;
mod personal_data;
mod preferences;
mod reports;
mod roles;
mod strict_input;
mod template;
mod tenancy;
mod users;
