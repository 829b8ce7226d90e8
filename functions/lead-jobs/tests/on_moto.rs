//! The import job on the emulator, as on AWS: the file uploaded to S3
//! through its presigned URL, S3's notice of it on the SQS job queue, the
//! function's handler fed what SQS delivers, DynamoDB written. The first
//! invocation runs out of time; then the job loses its place, as after a
//! crash; the counts still come out exact and no row is imported twice.
//! `SORAAYA_IMPORT_ROWS` sets the file's size (3,000 rows by default).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use std::sync::Arc;
use std::time::Instant;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use serde_json::json;
use soraaya_aws::{S3Blobs, SqsJobQueue};
use soraaya_core::jobs::JobMessage;
use soraaya_core::{App, Config, ManualClock};
use soraaya_domain::JobId;
use soraaya_emulator::{emulator_bucket, emulator_endpoint, emulator_queue, emulator_s3};
use soraaya_jobs::JobsRepo;
use soraaya_tests::TestApp;
use soraaya_tests::jobs::generated_csv;

/// What SQS delivers now, as the Lambda service would pass it.
async fn receive(client: &aws_sdk_sqs::Client, url: &str) -> Vec<(SqsMessage, String)> {
    let received = client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .send()
        .await
        .expect("receive");
    received
        .messages
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            let mut message = SqsMessage::default();
            message.message_id = m.message_id.clone();
            message.body = m.body.clone();
            message.attributes = m
                .attributes
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k.as_str().to_owned(), v))
                .collect();
            (message, m.receipt_handle.unwrap_or_default())
        })
        .collect()
}

/// Feeds what SQS delivers through the handler until nothing comes; deletes
/// what the handler did not report failed (as the Lambda service does).
async fn drain(
    app: &App,
    client: &aws_sdk_sqs::Client,
    url: &str,
    deadline: Option<Instant>,
) -> usize {
    let mut handled = 0;
    loop {
        let messages = receive(client, url).await;
        if messages.is_empty() {
            return handled;
        }
        for (message, receipt) in messages {
            let mut event = SqsEvent::default();
            event.records = vec![message.clone()];
            let response = lead_jobs::handler(app, event, deadline).await;
            handled += 1;
            if response.batch_item_failures.is_empty() {
                client
                    .delete_message()
                    .queue_url(url)
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .expect("delete");
            }
        }
        if deadline.is_some() {
            return handled;
        }
    }
}

#[tokio::test]
async fn a_large_import_through_s3_sqs_and_dynamodb_resumes_without_doing_anything_twice() {
    let Some(endpoint) = emulator_endpoint() else {
        return;
    };
    let rows: usize = std::env::var("SORAAYA_IMPORT_ROWS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3_000);
    let store = soraaya_tests::dynamodb_store(soraaya_core::tables::ALL)
        .await
        .expect("tables");
    let bucket = emulator_bucket().await.expect("bucket");
    let (sqs, url) = emulator_queue().await.expect("queue");
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes")
        .attributes
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .expect("queue arn");
    let s3 = emulator_s3(&endpoint).await;
    // As template.yaml configures the bucket: uploads under imports/ go to the job queue.
    s3.put_bucket_notification_configuration()
        .bucket(&bucket)
        .notification_configuration(
            aws_sdk_s3::types::NotificationConfiguration::builder()
                .queue_configurations(
                    aws_sdk_s3::types::QueueConfiguration::builder()
                        .queue_arn(arn)
                        .events(aws_sdk_s3::types::Event::S3ObjectCreated)
                        .build()
                        .expect("queue configuration"),
                )
                .build(),
        )
        .send()
        .await
        .expect("bucket notification");
    // S3's test event, sent when a notification is configured.
    drain_test_events(&sqs, &url).await;

    let clock = Arc::new(ManualClock::at(soraaya_tests::start_time()));
    let config = Config::with_secret("integration-test-secret-".repeat(3)).expect("config");
    let app = Arc::new(
        App::with_clock(config, store, clock.clone())
            .with_blobs(Arc::new(S3Blobs::new(s3, &bucket)))
            .with_jobs(Arc::new(SqsJobQueue::new(sqs.clone(), &url))),
    );
    let api = TestApp::from_app(app.clone(), clock);
    let (org, admin) = api
        .organisation("Skyline Estates", "asha@skyline.in", "marine-drive-view")
        .await;
    let (csv, expected) = generated_csv(rows, &[]);
    let created = api
        .post(
            "/api/v1/leads/imports",
            Some(&admin),
            json!({ "file_name": "portal-export.csv" }),
        )
        .await;
    created.expect(201);
    let job = JobId::parse(created.body["job"]["id"].as_str().unwrap()).unwrap();
    let upload = created.body["upload"]["url"].as_str().unwrap();
    assert!(
        upload.contains("X-Amz-Signature"),
        "a presigned URL: {upload}"
    );
    let started = Instant::now();
    let put = reqwest::Client::new()
        .put(upload)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("upload");
    assert!(put.status().is_success(), "{}", put.status());

    // The first invocation runs out of time at once: one group of batches.
    assert_eq!(drain(&app, &sqs, &url, Some(Instant::now())).await, 1);
    let repo = JobsRepo::new(app.store.as_ref());
    let partway = repo.get(org, job).await.unwrap().unwrap();
    assert!(partway.counts.rows > 0 && partway.counts.rows < expected.rows);
    // A crash before its place was saved: the next run starts at the top.
    let mut lost = partway.clone();
    lost.resume = None;
    assert!(repo.save(&partway, &lost).await.unwrap());
    // Its continuation message, and a duplicate of it, run it to the end.
    app.jobs
        .send(&JobMessage {
            org_id: org,
            job_id: job,
        })
        .await
        .unwrap();
    drain(&app, &sqs, &url, None).await;
    let seconds = started.elapsed().as_secs_f64();

    let done = api
        .get(&format!("/api/v1/leads/imports/{job}?limit=200"), &admin)
        .await;
    assert_eq!(done.body["status"], "completed", "{}", done.body);
    let counts = &done.body["counts"];
    assert_eq!(counts["rows"], expected.rows);
    assert_eq!(counts["imported"], expected.imported);
    assert_eq!(counts["skipped_duplicates"], expected.skipped_duplicates);
    assert_eq!(counts["rejected"], expected.rejected);
    assert_eq!(
        done.body["errors"][0]["line"], expected.rejected_lines[0],
        "{}",
        done.body["errors"]
    );
    let listed = api.get("/api/v1/leads?limit=1", &admin).await;
    assert_eq!(listed.body["total"], expected.imported, "no lead twice");
    eprintln!(
        "{rows} rows through S3, SQS and DynamoDB on the emulator in {seconds:.1} s ({:.0} rows/s)",
        rows as f64 / seconds
    );
}

/// Deletes S3's `s3:TestEvent` (and anything else already waiting).
async fn drain_test_events(client: &aws_sdk_sqs::Client, url: &str) {
    for (_, receipt) in receive(client, url).await {
        client
            .delete_message()
            .queue_url(url)
            .receipt_handle(receipt)
            .send()
            .await
            .expect("delete");
    }
}
