//! The sample event in `events/` (an SQS batch carrying S3's notice of an
//! uploaded import file) goes through the function's handler: the job runs
//! to its end; the same notice again changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use aws_lambda_events::event::sqs::SqsEvent;
use serde_json::json;
use soraaya_tests::events::{fill, sample};
use soraaya_tests::{TestApp, embedded_store};

#[tokio::test]
async fn s3s_notice_of_an_upload_runs_its_import_once() {
    let jobs = TestApp::with_jobs(embedded_store()).await;
    let (org, admin) = jobs
        .api
        .organisation("Skyline Estates", "asha@skyline.in", "marine-drive-view")
        .await;
    let created = jobs
        .api
        .post(
            "/api/v1/leads/imports",
            Some(&admin),
            json!({ "file_name": "portal.csv" }),
        )
        .await;
    created.expect(201);
    let job = created.body["job"]["id"].as_str().unwrap().to_owned();
    let csv = "name,phone,city\nRohan Malhotra,98200 12345,Worli\nIsha Kapoor,98200 54321,Juhu\nNo Phone,,Bandra\n";
    jobs.upload(created.body["upload"]["url"].as_str().unwrap(), csv)
        .await
        .expect(200);
    let event: SqsEvent = serde_json::from_str(&fill(
        &sample("lead-jobs-s3-upload.json"),
        &[("ORG_ID", &org.to_string()), ("JOB_ID", &job)],
    ))
    .unwrap();
    for _ in 0..2 {
        let response = lead_jobs::handler(&jobs.api.app, event.clone(), None).await;
        assert!(
            response.batch_item_failures.is_empty(),
            "{:?}",
            response.batch_item_failures
        );
        let done = jobs
            .api
            .get(&format!("/api/v1/leads/imports/{job}"), &admin)
            .await;
        assert_eq!(done.body["status"], "completed", "{}", done.body);
        assert_eq!(done.body["counts"]["imported"], 2);
        assert_eq!(done.body["counts"]["rejected"], 1);
        assert_eq!(done.body["errors"][0]["line"], 4);
    }
    // S3's test event, and a body that is no message, are dropped.
    let mut test_event = event.clone();
    test_event.records[0].body =
        Some(json!({ "Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b" }).to_string());
    assert!(
        lead_jobs::handler(&jobs.api.app, test_event, None)
            .await
            .batch_item_failures
            .is_empty()
    );
}
