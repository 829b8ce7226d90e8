//! The sample event in `events/` goes through this function's handler as the
//! Lambda runtime passes it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use serde_json::json;
use soraaya_tests::TestApp;
use soraaya_tests::events::{api_gateway, fill, sample};

#[tokio::test]
async fn the_metrics_event_runs_through_the_handler() {
    let api = TestApp::new().await;
    let (_, token) = api
        .organisation(
            "Skyline Estates",
            "asha@skyline-estates.in",
            "sea-facing-4bhk",
        )
        .await;
    for (name, phone, source) in [
        ("Rohan Mehta", "+919820012345", "Website"),
        ("Kavya Iyer", "+919820012346", "referral"),
        ("Arjun Shah", "+919820012347", " website "),
    ] {
        api.lead(
            &token,
            json!({"contact_person": name, "phone_number": phone, "lead_source": source}),
        )
        .await;
    }
    let handler = || dashboard_api::handler(api.app.clone());

    let event = fill(
        &sample("dashboard-metrics.json"),
        &[("ACCESS_TOKEN", &token)],
    );
    let (status, metrics) = api_gateway(handler(), &event).await;
    assert_eq!(status, 200, "{metrics}");
    assert_eq!(metrics["date_range"], "30d");
    assert_eq!(metrics["total_leads"]["value"], 3.0);
    assert_eq!(
        metrics["total_leads"]["previous"], 0.0,
        "none of them were there before the period"
    );
    assert_eq!(metrics["total_leads"]["change"], 3.0);
    assert_eq!(metrics["leads_added_today"]["value"], 3.0);
    assert_eq!(
        metrics["leads_added_today_by_source"],
        json!({"referral": 1, "website": 2})
    );
    assert_eq!(metrics["active_calls"]["value"], 0.0);
    assert_eq!(metrics["active_calls"]["previous"], json!(null));
    assert_eq!(
        metrics["call_success_rate"]["value"],
        json!(null),
        "no calls, no rate"
    );

    let (status, body) = api_gateway(
        handler(),
        &fill(
            &sample("dashboard-metrics.json"),
            &[("ACCESS_TOKEN", "forged")],
        ),
    )
    .await;
    assert_eq!(status, 401, "{body}");
}

#[tokio::test]
async fn the_insights_event_runs_through_the_handler() {
    let api = TestApp::new().await;
    let (_, token) = api
        .organisation(
            "Skyline Estates",
            "asha@skyline-estates.in",
            "sea-facing-4bhk",
        )
        .await;
    let event = fill(
        &sample("dashboard-insights.json"),
        &[("ACCESS_TOKEN", &token)],
    );
    let (status, body) = api_gateway(dashboard_api::handler(api.app.clone()), &event).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["period"]["days"], 30);
    assert_eq!(body["calls"], 0);
    assert_eq!(body["enough_calls"], false, "no calls yet, and it says so");
    assert_eq!(body["items"], json!([]));
}
