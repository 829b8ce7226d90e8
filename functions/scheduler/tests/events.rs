//! The sample scheduled event in `events/` goes through the scheduler's
//! handler: a lead deferred to its calling hours is queued when they come.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use jiff::SignedDuration;
use soraaya_tests::TestApp;
use soraaya_tests::calling::CallingOptions;
use soraaya_tests::events::sample;

#[tokio::test]
async fn the_scheduled_event_queues_leads_whose_hours_have_come() {
    let calling =
        TestApp::calling(soraaya_tests::embedded_store(), CallingOptions::default()).await;
    // 10:00 UTC is 15:30 in Mumbai; move to 21:00 there, after the campaign's 19:00.
    calling.clock.advance(SignedDuration::from_mins(330));
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
    assert_eq!(started.body["queue"]["deferred"], 1, "{}", started.body);
    let lead = calling
        .api
        .get(&format!("/api/v1/leads/{}", one.lead_id), &one.token)
        .await;
    assert_eq!(
        lead.body["next_call_at"], "2026-11-24T04:30:00Z",
        "10:00 in Mumbai the next morning"
    );

    let event: EventBridgeEvent<serde_json::Value> =
        serde_json::from_str(&sample("scheduler-every-minute.json")).unwrap();
    let early = scheduler::handler(&calling.api.app, event.clone())
        .await
        .unwrap();
    assert_eq!(early.scheduled, 0);

    calling.clock.advance(SignedDuration::from_hours(13));
    let run = scheduler::handler(&calling.api.app, event).await.unwrap();
    assert_eq!((run.due, run.scheduled), (1, 1), "{run:?}");
    let lead = soraaya_leads::service::get(
        &calling.api.app,
        one.org_id,
        soraaya_domain::LeadId::parse(&one.lead_id).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(lead.queued.map(|q| q.attempt), Some(1));
}
