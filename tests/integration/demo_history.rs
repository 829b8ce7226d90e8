//! The demo's thirty days of history: made through the real calling engine
//! on a clock moved from thirty days ago to now, so the dashboard and the
//! insights have data on every chart at the first start, and the same seed
//! makes the same history.

use soraaya_local::files::blobs_dir;
use soraaya_local::history::{self, DAYS};
use soraaya_local::runtime::LocalFiles;
use soraaya_tests::TestApp;

async fn with_history(seed: u64) -> (TestApp, String, history::History) {
    let t = TestApp::new().await;
    let (org, token) = t
        .organisation("Skyline Estates", "asha@skyline.in", "marine-drive-view")
        .await;
    soraaya_local::demo::seed(&t.app, org)
        .await
        .expect("demo data");
    let dir = tempfile::tempdir().expect("dir");
    let made = history::backfill(
        std::sync::Arc::clone(&t.app.store),
        t.app.config.clone(),
        org,
        seed,
        LocalFiles {
            dir: blobs_dir(dir.path()),
            base_url: "http://localhost".into(),
        },
        soraaya_core::Clock::now(t.clock.as_ref()),
    )
    .await
    .expect("history");
    (t, token, made)
}

#[tokio::test]
async fn the_demo_history_fills_every_chart_through_the_real_engine() {
    let (t, token, made) = with_history(7).await;
    assert_eq!(made.campaigns, 3);
    assert!(made.leads >= 150, "{made:?}");
    assert!(made.calls >= made.leads / 2, "{made:?}");

    let trends = t.get("/api/v1/dashboard/trends?days=30", &token).await;
    trends.expect(200);
    let days = trends.body["days"].as_array().expect("days");
    let with_calls = days
        .iter()
        .filter(|d| d["calls"].as_u64() > Some(0))
        .count();
    let with_leads = days
        .iter()
        .filter(|d| d["leads_added"].as_u64() > Some(0))
        .count();
    assert!(with_calls >= 20, "calls on most days: {}", trends.body);
    assert!(
        with_leads >= DAYS as usize - 2,
        "leads arrive every day: {}",
        trends.body
    );

    let volume = t.get("/api/v1/dashboard/call-volume", &token).await;
    volume.expect(200);
    let campaigns = t.get("/api/v1/dashboard/campaigns", &token).await;
    campaigns.expect(200);
    let called: Vec<_> = campaigns
        .body
        .as_array()
        .expect("campaigns")
        .iter()
        .filter(|c| c["calls"].as_u64() > Some(0))
        .collect();
    assert_eq!(called.len(), 3, "{}", campaigns.body);

    let analysis = t
        .get("/api/v1/insights/conversation-analysis?days=30", &token)
        .await;
    analysis.expect(200);
    assert!(
        analysis.body["calls_analysed"].as_u64() > Some(30),
        "{}",
        analysis.body
    );
    assert!(analysis.body["objections"].as_array().map_or(0, Vec::len) >= 3);
    assert!(
        !analysis.body["features"]
            .as_array()
            .expect("features")
            .is_empty()
    );
    let trends = t.get("/api/v1/insights/trends?days=30", &token).await;
    assert!(
        trends.body["personas"].as_array().map_or(0, Vec::len) >= 3,
        "{}",
        trends.body
    );
    let advice = t
        .get("/api/v1/insights/recommendations?days=30", &token)
        .await;
    assert_eq!(advice.body["enough_calls"], true, "{}", advice.body);
}

#[tokio::test]
async fn the_same_seed_makes_the_same_history() {
    let (t1, token1, first) = with_history(11).await;
    let (t2, token2, again) = with_history(11).await;
    assert_eq!(first, again);
    let statuses = |t: TestApp, token: String| async move {
        t.get("/api/v1/dashboard/status-distribution", &token)
            .await
            .body
    };
    assert_eq!(statuses(t1, token1).await, statuses(t2, token2).await);
}
