//! The job queue port: work bigger than one request (an import, a bulk
//! change, an export) is a job, and a message on this queue asks a runner to
//! work on it. SQS on AWS (the same queue S3 tells of uploads), in-process
//! locally; at-least-once either way, so a runner must not mind a message
//! twice.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use soraaya_domain::{JobId, OrgId};

/// Work on this job (from where it stands).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct JobMessage {
    pub org_id: OrgId,
    pub job_id: JobId,
}

#[derive(Debug, thiserror::Error)]
pub enum JobQueueError {
    #[error("the job queue refused the message")]
    Send(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("no job queue is configured (SORAAYA_JOB_QUEUE_URL)")]
    Unconfigured,
}

#[async_trait]
pub trait JobQueue: Send + Sync + 'static {
    async fn send(&self, message: &JobMessage) -> Result<(), JobQueueError>;
}

/// A job queue for functions that start no jobs.
pub struct NoJobQueue;

#[async_trait]
impl JobQueue for NoJobQueue {
    async fn send(&self, _: &JobMessage) -> Result<(), JobQueueError> {
        Err(JobQueueError::Unconfigured)
    }
}
