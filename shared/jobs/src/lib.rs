//! Lead jobs: imports, bulk changes, deletions and exports too big for one request.
//!
//! A request creates the job and answers at once; a runner fed by the job
//! queue (the `lead-jobs` function on AWS, the local runtime in `soraaya
//! serve`) works through it in batches, each written with its marker and its
//! counts, so a runner that crashed or ran out of time is resumed where it
//! stood without doing anything twice.

pub mod bulk;
pub mod export;
pub mod import;
pub mod repo;
pub mod runner;

pub use repo::{Job, JobKind, JobStatus, JobsRepo};
pub use runner::{JobError, RunOutcome};
