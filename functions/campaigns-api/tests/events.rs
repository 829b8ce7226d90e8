//! The sample events in `events/` go through this function's handler as the
//! Lambda runtime passes them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use soraaya_tests::TestApp;
use soraaya_tests::calling::CallingOptions;
use soraaya_tests::events::{api_gateway, fill, sample};

#[tokio::test]
async fn create_campaign_and_calling_status_events_run_through_the_handler() {
    let calling =
        TestApp::calling(soraaya_tests::embedded_store(), CallingOptions::default()).await;
    let (_, token) = calling
        .api
        .organisation(
            "Skyline Estates",
            "asha@skyline-estates.in",
            "sea-facing-4bhk",
        )
        .await;
    let handler = || campaigns_api::handler(calling.api.app.clone());

    let create = fill(
        &sample("campaigns-create.json"),
        &[("ACCESS_TOKEN", &token)],
    );
    let (status, campaign) = api_gateway(handler(), &create).await;
    assert_eq!(status, 201, "{campaign}");
    assert_eq!(campaign["name"], "Worli Sea-Face Penthouses");
    assert_eq!(campaign["status"], "draft");
    assert_eq!(campaign["settings"]["max_concurrent_calls"], 20);
    assert_eq!(
        campaign["qualification_criteria"]["budget_min"],
        100_000_000
    );
    assert_eq!(
        campaign["qualification_criteria"]["financing"],
        serde_json::json!(["cash_buyer", "pre_approved"])
    );

    let (status, again) = api_gateway(handler(), &create).await;
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["error"]["code"], "name_taken");

    let status_event = fill(
        &sample("campaigns-calling-status.json"),
        &[("ACCESS_TOKEN", &token)],
    );
    let (status, calling_now) = api_gateway(handler(), &status_event).await;
    assert_eq!(status, 200, "{calling_now}");
    assert_eq!(calling_now["live_calls"], 0);
    assert_eq!(calling_now["max_concurrent_calls"], 100);
    assert_eq!(
        calling_now["campaigns"],
        serde_json::json!([]),
        "a draft is not calling"
    );

    let (status, body) = api_gateway(
        handler(),
        &fill(
            &sample("campaigns-calling-status.json"),
            &[("ACCESS_TOKEN", "forged")],
        ),
    )
    .await;
    assert_eq!(status, 401, "{body}");
}
