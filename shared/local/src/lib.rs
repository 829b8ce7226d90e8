//! Soraaya on one machine: the in-process dial and job queues, blobs in a
//! directory, email in an outbox of files, the voice simulator, the runtime that runs the dialer,
//! webhooks, scheduler and jobs in one process, an SQS poller for running
//! against an emulator, the first admin, and demo data with thirty days of calling history. Only the `soraaya` command and tests use it; no Lambda links it.

pub mod bootstrap;
pub mod demo;
pub mod files;
pub mod history;
pub mod jobs;
pub mod outbox;
pub mod queue;
pub mod runtime;
pub mod simulator;
pub mod sqs_poller;
