//! The sample SQS batch in `events/` goes through the dialer's handler as the
//! Lambda runtime passes it: the first delivery dials, a duplicate does not.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use aws_lambda_events::event::sqs::SqsEvent;
use soraaya_calling::sqs::SqsQueue;
use soraaya_tests::TestApp;
use soraaya_tests::calling::CallingOptions;
use soraaya_tests::events::sample;

fn batch(body: &str) -> SqsEvent {
    let mut event: serde_json::Value =
        serde_json::from_str(&sample("dialer-sqs-batch.json")).unwrap();
    event["Records"][0]["body"] = serde_json::Value::String(body.to_owned());
    serde_json::from_value(event).unwrap()
}

#[tokio::test]
async fn the_sqs_batch_event_dials_once() {
    let calling =
        TestApp::calling(soraaya_tests::embedded_store(), CallingOptions::default()).await;
    let one = calling.one_lead_campaign().await;
    let started = calling
        .api
        .post(
            &format!("/api/v1/campaigns/{}/start", one.campaign_id),
            Some(&one.token),
            serde_json::json!({}),
        )
        .await;
    started.expect(200);
    assert_eq!(started.body["queue"]["queued"], 1, "{}", started.body);

    // Nothing answers at this address: the handler must not need SQS for a dial that succeeds.
    let queue = SqsQueue::new(
        soraaya_calling::sqs::sqs_client(Some("http://127.0.0.1:9")).await,
        "http://127.0.0.1:9/queue/dial",
    );
    let message = serde_json::json!({ "org_id": one.org_id, "lead_id": one.lead_id, "campaign_id": one.campaign_id, "attempt": 1 }).to_string();
    let response = dialer::handler(&calling.api.app, &queue, batch(&message)).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "{:?}",
        response.batch_item_failures
    );
    let placed = calling.simulator.placed();
    assert_eq!(placed.len(), 1);
    assert_eq!(placed[0].number, "+919820012345");
    let lead = calling
        .api
        .get(&format!("/api/v1/leads/{}", one.lead_id), &one.token)
        .await;
    assert_eq!(lead.body["status"], "calling");
    assert_eq!(lead.body["call_attempts"], 1);

    let again = dialer::handler(&calling.api.app, &queue, batch(&message)).await;
    assert!(again.batch_item_failures.is_empty());
    assert_eq!(
        calling.simulator.placed().len(),
        1,
        "a duplicate delivery never dials"
    );

    let garbage = dialer::handler(&calling.api.app, &queue, batch("not a dial message")).await;
    assert!(
        garbage.batch_item_failures.is_empty(),
        "an unreadable message is dropped, not retried forever"
    );
}
