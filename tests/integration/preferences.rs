//! A user's own preferences, and the audit that records every change.

use serde_json::json;
use soraaya_tests::TestApp;

/// Skyline with its admin and the agent Ravi: (admin token, agent token, Ravi's id).
async fn skyline(t: &TestApp) -> (String, String, String) {
    let (_, admin) = t
        .organisation("Skyline Estates", "asha@skyline.in", "skyline admin pass")
        .await;
    let ravi = t
        .user(&admin, "ravi@skyline.in", "agent", "worli-sea-link-1")
        .await;
    let agent = t.token("ravi@skyline.in", "worli-sea-link-1").await;
    (admin, agent, ravi)
}

const PATH: &str = "/api/v1/me/preferences";

#[tokio::test]
async fn preferences_start_sensible_and_change_field_by_field() {
    let t = TestApp::new().await;
    let (_, agent, _) = skyline(&t).await;
    let start = t.get(PATH, &agent).await;
    start.expect(200);
    let p = &start.body;
    assert_eq!(p["dashboard_refresh_seconds"], 30);
    assert_eq!(p["default_dashboard_view"], "overall");
    assert_eq!(p["time_zone"], serde_json::Value::Null);
    assert_eq!(p["effective_time_zone"], "Asia/Kolkata");
    assert_eq!(p["language"], "en-IN");
    assert_eq!(p["theme"], "system");
    assert_eq!(p["notifications"]["in_app"]["min_priority"], "low");
    assert_eq!(p["notifications"]["email"]["min_priority"], "high");
    assert_eq!(
        p["notifications"]["email"]["types"]
            .as_array()
            .unwrap()
            .len(),
        soraaya_domain::NotificationKind::ALL.len(),
        "every kind is emailed by default"
    );

    let changed = t
        .patch(
            PATH,
            &agent,
            json!({
                "dashboard_refresh_seconds": 60,
                "theme": "dark",
                "time_zone": "Europe/London",
                "notifications": { "email": {
                    "min_priority": "medium",
                    "types": ["urgent_callback", "qualified_lead", "urgent_callback"]
                } }
            }),
        )
        .await;
    changed.expect(200);
    let p = &changed.body;
    assert_eq!(p["dashboard_refresh_seconds"], 60);
    assert_eq!(p["theme"], "dark");
    assert_eq!(p["effective_time_zone"], "Europe/London");
    assert_eq!(p["language"], "en-IN", "untouched");
    assert_eq!(p["notifications"]["email"]["min_priority"], "medium");
    assert_eq!(
        p["notifications"]["email"]["types"],
        json!(["qualified_lead", "urgent_callback"]),
        "each type once, in the taxonomy's order"
    );
    assert_eq!(p["notifications"]["email"]["enabled"], true, "untouched");
    assert_eq!(
        p["notifications"]["in_app"]["min_priority"], "low",
        "untouched"
    );
    assert_eq!(t.get(PATH, &agent).await.body, changed.body, "kept");
    let me = t.get("/api/v1/auth/me", &agent).await;
    assert_eq!(me.body["time_zone"], "Europe/London");
    assert_eq!(me.body["theme"], "dark");

    // Back to the organisation's zone.
    let cleared = t.patch(PATH, &agent, json!({ "time_zone": null })).await;
    cleared.expect(200);
    assert_eq!(cleared.body["time_zone"], serde_json::Value::Null);
    assert_eq!(cleared.body["effective_time_zone"], "Asia/Kolkata");
}

#[tokio::test]
async fn bad_preferences_are_refused_field_by_field_and_change_nothing() {
    let t = TestApp::new().await;
    let (_, agent, _) = skyline(&t).await;
    let before = t.get(PATH, &agent).await.body;
    for (body, field) in [
        (
            json!({ "dashboard_refresh_seconds": 10 }),
            "dashboard_refresh_seconds",
        ),
        (
            json!({ "dashboard_refresh_seconds": 601 }),
            "dashboard_refresh_seconds",
        ),
        (json!({ "time_zone": "Mars/Olympus" }), "time_zone"),
        (json!({ "theme": "blue" }), "theme"),
        (json!({ "language": "fr-FR" }), "language"),
        (
            json!({ "notifications": { "email": { "types": ["gossip"] } } }),
            "notifications",
        ),
        (json!({ "colour": "red" }), "colour"),
    ] {
        let refused = t.patch(PATH, &agent, body.clone()).await;
        refused.expect(422);
        assert!(
            refused.body.to_string().contains(field),
            "{body} names {field}: {}",
            refused.body
        );
    }
    assert_eq!(t.get(PATH, &agent).await.body, before);
}

#[tokio::test]
async fn the_audit_records_each_change_for_admins_only() {
    let t = TestApp::new().await;
    let (admin, agent, ravi) = skyline(&t).await;
    t.patch(PATH, &agent, json!({ "dashboard_refresh_seconds": 60 }))
        .await
        .expect(200);
    // The same again changes nothing and records nothing.
    t.patch(PATH, &agent, json!({ "dashboard_refresh_seconds": 60 }))
        .await
        .expect(200);
    t.patch(
        &format!("/api/v1/users/{ravi}"),
        &admin,
        json!({ "role": "manager" }),
    )
    .await
    .expect(200);

    let all = t.get("/api/v1/audit", &admin).await;
    all.expect(200);
    let items = all.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", all.body);
    // Newest first: the role change, then the preference.
    assert_eq!(items[0]["entity"], "user");
    assert_eq!(items[0]["entity_id"], ravi);
    assert_eq!(
        items[0]["changes"],
        json!([{ "field": "role", "old": "agent", "new": "manager" }])
    );
    assert_eq!(items[1]["entity"], "preferences");
    assert_eq!(items[1]["actor_id"], ravi);
    assert_eq!(
        items[1]["changes"],
        json!([{ "field": "dashboard_preferences.refresh_seconds", "old": 30, "new": 60 }])
    );

    let preferences = t.get("/api/v1/audit?entity=preferences", &admin).await;
    assert_eq!(preferences.body["items"].as_array().unwrap().len(), 1);
    let by_ravi = t.get(&format!("/api/v1/audit?actor={ravi}"), &admin).await;
    assert_eq!(by_ravi.body["items"].as_array().unwrap().len(), 1);
    // Paged.
    let first = t.get("/api/v1/audit?limit=1", &admin).await;
    assert_eq!(first.body["items"][0]["entity"], "user");
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = t
        .get(&format!("/api/v1/audit?limit=1&cursor={cursor}"), &admin)
        .await;
    assert_eq!(second.body["items"][0]["entity"], "preferences");
    t.get("/api/v1/audit?entity=weather", &admin)
        .await
        .expect(422);

    // Ravi is a manager now: still not an admin.
    let manager = t.token("ravi@skyline.in", "worli-sea-link-1").await;
    t.get("/api/v1/audit", &manager).await.expect(403);
    t.get("/api/v1/audit", &agent).await.expect(401);
    let (_, other) = t
        .organisation("Harbour Homes", "farah@harbour.in", "harbour admin pass")
        .await;
    let theirs = t.get("/api/v1/audit", &other).await;
    assert_eq!(
        theirs.body["items"],
        json!([]),
        "another organisation's audit is its own"
    );
}
