//! The organisation's settings: admins change them, and new campaigns,
//! reports and the calling cap follow.

use serde_json::json;
use soraaya_tests::TestApp;

const PATH: &str = "/api/v1/org/settings";

#[tokio::test]
async fn settings_change_what_follows_them_and_are_audited() {
    let t = TestApp::new().await;
    let (_, admin) = t
        .organisation("Skyline Estates", "asha@skyline.in", "skyline admin pass")
        .await;
    let start = t.get(PATH, &admin).await;
    start.expect(200);
    let s = &start.body;
    assert_eq!(s["name"], "Skyline Estates");
    assert_eq!(s["default_region"], "IN");
    assert_eq!(
        s["campaign_defaults"]["window"],
        json!({ "start": "10:00", "end": "19:00" })
    );
    assert_eq!(s["campaign_defaults"]["max_attempts"], 3);
    assert_eq!(s["export_format"], "csv");
    assert_eq!(
        s["data_retention"]["transcript_days"],
        serde_json::Value::Null
    );
    assert_eq!(s["max_live_calls"], serde_json::Value::Null);
    assert_eq!(s["effective_max_live_calls"], 100);

    let changed = t
        .patch(
            PATH,
            &admin,
            json!({
                "name": "Skyline Realty",
                "campaign_defaults": { "window": { "start": "09:30", "end": "18:00" }, "max_attempts": 5 },
                "export_format": "pdf",
                "data_retention": { "transcript_days": 90 },
                "max_live_calls": 2
            }),
        )
        .await;
    changed.expect(200);
    let s = &changed.body;
    assert_eq!(s["name"], "Skyline Realty");
    assert_eq!(s["campaign_defaults"]["window"]["start"], "09:30");
    assert_eq!(s["campaign_defaults"]["max_attempts"], 5);
    assert_eq!(
        s["campaign_defaults"]["max_concurrent_calls"], 10,
        "untouched"
    );
    assert_eq!(s["data_retention"]["transcript_days"], 90);
    assert_eq!(
        s["data_retention"]["recording_days"],
        serde_json::Value::Null
    );
    assert_eq!(s["effective_max_live_calls"], 2);
    assert_eq!(t.get(PATH, &admin).await.body, changed.body, "kept");

    // A new campaign starts from the defaults; what it sets itself wins.
    let campaign = t
        .post(
            "/api/v1/campaigns",
            Some(&admin),
            json!({ "name": "Worli Towers", "settings": { "max_attempts": 2 } }),
        )
        .await;
    campaign.expect(201);
    assert_eq!(campaign.body["settings"]["window"]["start"], "09:30");
    assert_eq!(campaign.body["settings"]["max_attempts"], 2);
    // Reports in the export format; the calling status shows the cap.
    let request = axum::http::Request::get("/api/v1/reports/leads")
        .header("authorization", format!("Bearer {admin}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let (status, headers, _) = t.send_raw(request).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/pdf");
    let calling = t.get("/api/v1/calling/status", &admin).await;
    assert_eq!(calling.body["max_concurrent_calls"], 2);
    // The directory has the new name too.
    let orgs = soraaya_accounts::list_organisations(&t.app).await.unwrap();
    assert_eq!(orgs[0].name.as_str(), "Skyline Realty");

    let audit = t.get("/api/v1/audit?entity=org_settings", &admin).await;
    let entry = &audit.body["items"][0];
    let fields: Vec<&str> = entry["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "name",
            "settings.campaign_defaults.max_attempts",
            "settings.campaign_defaults.window.end",
            "settings.campaign_defaults.window.start",
            "settings.data_retention.transcript_days",
            "settings.export_format",
            "settings.max_live_calls",
        ]
    );

    // Back to the deployment's cap.
    let cleared = t
        .patch(PATH, &admin, json!({ "max_live_calls": null }))
        .await;
    assert_eq!(cleared.body["effective_max_live_calls"], 100);
}

#[tokio::test]
async fn bad_settings_are_refused_field_by_field_and_only_admins_change_them() {
    let t = TestApp::new().await;
    let (_, admin) = t
        .organisation("Skyline Estates", "asha@skyline.in", "skyline admin pass")
        .await;
    let before = t.get(PATH, &admin).await.body;
    for (body, field) in [
        (
            json!({ "data_retention": { "transcript_days": 10 } }),
            "data_retention.transcript_days",
        ),
        (
            json!({ "campaign_defaults": { "window": { "start": "18:00", "end": "09:00" } } }),
            "campaign_defaults.window.end",
        ),
        (
            json!({ "campaign_defaults": { "max_attempts": 0 } }),
            "campaign_defaults.max_attempts",
        ),
        (json!({ "max_live_calls": 0 }), "max_live_calls"),
        (json!({ "time_zone": "Mars/Olympus" }), "time_zone"),
        (json!({ "default_region": "XX" }), "default_region"),
        (json!({ "name": "" }), "name"),
        (json!({ "export_format": "xlsx" }), "export_format"),
    ] {
        let refused = t.patch(PATH, &admin, body.clone()).await;
        refused.expect(422);
        assert!(
            refused.body.to_string().contains(field),
            "{body} names {field}: {}",
            refused.body
        );
    }
    assert_eq!(t.get(PATH, &admin).await.body, before);

    for role in ["manager", "agent"] {
        let email = format!("{role}@skyline.in");
        t.user(&admin, &email, role, "marine-drive-22").await;
        let token = t.token(&email, "marine-drive-22").await;
        t.get(PATH, &token).await.expect(403);
        t.patch(PATH, &token, json!({ "name": "Mine" }))
            .await
            .expect(403);
    }
}

/// Transcripts are written to expire when the retention says, and are not
/// read past it (nor recordings past theirs), whatever the store's TTL.
#[tokio::test]
async fn conversations_are_kept_as_long_as_the_retention_says() {
    use jiff::SignedDuration;
    use soraaya_local::simulator::Scenario;
    let calling = TestApp::calling(
        soraaya_tests::embedded_store(),
        soraaya_tests::calling::CallingOptions::default(),
    )
    .await;
    let one = calling.one_lead_campaign().await;
    calling
        .api
        .patch(
            PATH,
            &one.token,
            json!({ "data_retention": { "transcript_days": 60, "recording_days": 30 } }),
        )
        .await
        .expect(200);
    calling.simulator.force([Scenario::Qualified]);
    calling
        .api
        .post(
            &format!("/api/v1/campaigns/{}/start", one.campaign_id),
            Some(&one.token),
            json!({}),
        )
        .await
        .expect(200);
    calling
        .run_until(calling.clock_now() + SignedDuration::from_mins(20), |_| {})
        .await;
    let transcripts = |token: String| {
        let path = format!("/api/v1/leads/{}/transcripts", one.lead_id);
        let api = &calling.api;
        async move { api.get(&path, &token).await.body["items"].clone() }
    };
    let login = || {
        calling
            .api
            .token("asha@skyline-estates.in", "sea-facing-4bhk")
    };
    let items = transcripts(login().await).await;
    let first = &items[0];
    let created: jiff::Timestamp = first["created_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        first["expires_at"].as_i64(),
        Some(created.as_second() + 60 * 86_400),
        "{first}"
    );
    assert!(first["recording_url"].is_string(), "{first}");

    calling
        .api
        .clock
        .advance(SignedDuration::from_hours(31 * 24));
    let items = transcripts(login().await).await;
    assert_eq!(items.as_array().unwrap().len(), 1, "the transcript is kept");
    assert!(
        items[0]["recording_url"].is_null(),
        "the recording is not: {}",
        items[0]
    );

    calling
        .api
        .clock
        .advance(SignedDuration::from_hours(30 * 24));
    assert_eq!(
        transcripts(login().await).await,
        json!([]),
        "nor, after 60 days, the transcript"
    );
}
