//! The lead-jobs function: SQS batches of lead-job messages, which are
//! S3's notices of uploaded import files and the runner's own continuations
//! (a job that ran out of time goes on in a fresh invocation). Each job runs
//! from where it stands, so a message delivered twice does no harm.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::s3::S3Event;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use soraaya_aws::{S3Blobs, SqsJobQueue};
use soraaya_core::App;
use soraaya_core::config::{ConfigError, JobRunnerFunctionConfig, Vars};
use soraaya_core::jobs::JobMessage;
use soraaya_core::storage::deployed_store;
use soraaya_jobs::RunOutcome;
use soraaya_jobs::import::job_of_upload;
use tracing::{Instrument, info_span, warn};

/// Time kept back from the invocation's deadline, to save the job's place
/// and send its continuation.
const MARGIN: Duration = Duration::from_secs(30);

/// The function's dependencies, from exactly the variables it is given.
pub async fn init(vars: &dyn Vars) -> Result<App, ConfigError> {
    let JobRunnerFunctionConfig { config, jobs } = JobRunnerFunctionConfig::from_vars(vars)?;
    let store = deployed_store(&config).await;
    let blobs = S3Blobs::at(&jobs.bucket, &config.aws).await;
    let queue = SqsJobQueue::at(&jobs.job_queue_url, &config.aws).await;
    Ok(App::new(config, store)
        .with_blobs(Arc::new(blobs))
        .with_jobs(Arc::new(queue)))
}

/// The jobs one message body asks for: an S3 notification (its object keys,
/// URL-encoded, name import files), S3's test event (none), or a job message.
pub fn messages_of(body: &str) -> Result<Vec<JobMessage>, String> {
    if let Ok(message) = serde_json::from_str::<JobMessage>(body) {
        return Ok(vec![message]);
    }
    let mut value: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    if value["Event"] == "s3:TestEvent" {
        return Ok(Vec::new());
    }
    // S3 always sends these; emulators (moto) leave them out, and the typed
    // event requires them. Nothing here reads them.
    for record in value["Records"].as_array_mut().into_iter().flatten() {
        for part in ["userIdentity", "requestParameters", "responseElements"] {
            if record.get(part).is_none_or(serde_json::Value::is_null) {
                record[part] = serde_json::json!({});
            }
        }
    }
    let event: S3Event =
        serde_json::from_value(value).map_err(|e| format!("not an S3 notification: {e}"))?;
    Ok(event
        .records
        .iter()
        .filter_map(|record| record.s3.object.key.as_deref())
        .filter_map(|key| {
            let key: String = form_urlencoded::parse(format!("k={key}").as_bytes())
                .map(|(_, v)| v.into_owned())
                .next()
                .unwrap_or_default();
            let message = job_of_upload(&key);
            if message.is_none() {
                warn!(key, "an upload that is no import file");
            }
            message
        })
        .collect())
}

/// The function's handler. `deadline` is when the invocation ends.
pub async fn handler(app: &App, event: SqsEvent, deadline: Option<Instant>) -> SqsBatchResponse {
    let stop_at = deadline.map(|at| at.checked_sub(MARGIN).unwrap_or(at));
    let mut failures = Vec::new();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let tries = record
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        let messages = match messages_of(record.body.as_deref().unwrap_or_default()) {
            Ok(messages) => messages,
            Err(why) => {
                // It can never be read; keeping it would only block the queue.
                warn!(message_id = %id, reason = %why, "unreadable job message dropped");
                continue;
            }
        };
        for message in messages {
            let span = info_span!("job", org_id = %message.org_id, job_id = %message.job_id, tries);
            let outcome = soraaya_jobs::runner::run(app, &message, stop_at, tries)
                .instrument(span)
                .await;
            match outcome {
                Ok(RunOutcome::Continue) => {
                    if let Err(err) = app.jobs.send(&message).await {
                        warn!(error = %err, "the job's continuation was not sent; its message comes back");
                        failures.push(id.clone());
                    }
                }
                Ok(_) => {}
                Err(err) => {
                    warn!(message_id = %id, error = %err, "job run failed; it goes on from where it stands");
                    failures.push(id.clone());
                }
            }
        }
    }
    failures.dedup();
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures
        .into_iter()
        .map(|id| {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failure
        })
        .collect();
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_named_in_s3_notifications_are_jobs() {
        let org = "01936f3a-1111-7000-8000-000000000001";
        let job = "01936f3a-1111-7000-8000-000000000002";
        // As moto sends it (S3's own carries more, see events/).
        let body = format!(
            r#"{{"Records": [{{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1", "eventTime": "2026-12-02T07:32:29.938Z", "eventName": "ObjectCreated:Put", "s3": {{"s3SchemaVersion": "1.0", "configurationId": "x", "bucket": {{"name": "b", "arn": "arn:aws:s3:::b"}}, "object": {{"key": "imports/{org}/{job}.csv", "size": 10, "eTag": "e", "sequencer": "1"}}}}}}]}}"#
        );
        let messages = messages_of(&body).unwrap();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].job_id.to_string(), job);
        let continuation = serde_json::to_string(&messages[0]).unwrap();
        assert_eq!(messages_of(&continuation).unwrap(), messages);
        assert!(
            messages_of("{\"Event\": \"s3:TestEvent\"}")
                .unwrap()
                .is_empty()
        );
        assert!(messages_of("not json").is_err());
    }
}
