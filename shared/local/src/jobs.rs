//! The job queue in this process: at-least-once like SQS, worked through by
//! the local runtime (a job that runs out of time, or fails, comes back).

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use soraaya_core::jobs::{JobMessage, JobQueue, JobQueueError};

/// A message waiting, and how often it was delivered.
#[derive(Debug, Clone)]
pub struct JobDelivery {
    pub message: JobMessage,
    pub tries: u32,
}

#[derive(Default)]
pub struct LocalJobQueue {
    pending: Mutex<VecDeque<JobDelivery>>,
}

impl LocalJobQueue {
    /// The next message, counted as delivered once more.
    pub fn receive(&self) -> Option<JobDelivery> {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        pending.pop_front().map(|mut delivery| {
            delivery.tries += 1;
            delivery
        })
    }

    /// Puts a delivered message back.
    pub fn retry(&self, delivery: JobDelivery) {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(delivery);
    }

    pub fn is_empty(&self) -> bool {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }
}

#[async_trait]
impl JobQueue for LocalJobQueue {
    async fn send(&self, message: &JobMessage) -> Result<(), JobQueueError> {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(JobDelivery {
                message: message.clone(),
                tries: 0,
            });
        Ok(())
    }
}
