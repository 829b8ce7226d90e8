//! Leads arriving by API: an organisation's API keys (admins create, list and
//! revoke them; a key acts only for its organisation, within its scopes and
//! only where a key is accepted), the intake (the import's names, a repeat
//! enquiry folded into its lead, a batch answered enquiry by enquiry, a retry
//! answered as the first request was), and speed to lead (a campaign calling
//! a source dials its new leads at once inside its window).

use axum::body::Body;
use http::Request;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use soraaya_tests::calling::{CallingApp, CallingOptions};
use soraaya_tests::{TestApp, TestResponse, embedded_store};

const PASSWORD: &str = "marine-drive-view";

/// A key of the organisation of `admin_token` with `scopes`.
async fn api_key(t: &TestApp, admin_token: &str, name: &str, scopes: &[&str]) -> (String, String) {
    let created = t
        .post(
            "/api/v1/api-keys",
            Some(admin_token),
            json!({ "name": name, "scopes": scopes }),
        )
        .await;
    created.expect(201);
    (
        created.body["id"].as_str().expect("id").to_owned(),
        created.body["key"].as_str().expect("key").to_owned(),
    )
}

/// `POST /api/v1/leads/intake` with `key` as `X-Api-Key`, and `headers`.
async fn intake_with(
    t: &TestApp,
    key: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> TestResponse {
    let mut request = Request::post("/api/v1/leads/intake")
        .header("x-api-key", key)
        .header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    t.send(request.body(Body::from(body.to_string())).unwrap())
        .await
}

fn lead_ids(page: &TestResponse) -> Vec<String> {
    page.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn admins_alone_create_list_and_revoke_keys_shown_once_and_each_use_is_audited() {
    let t = TestApp::new().await;
    let (_, admin) = t
        .organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    t.user(&admin, "meera@skyline.in", "manager", PASSWORD)
        .await;
    let manager = t.token("meera@skyline.in", PASSWORD).await;
    let refused = t
        .post(
            "/api/v1/api-keys",
            Some(&manager),
            json!({ "name": "Website", "scopes": ["leads:write"] }),
        )
        .await;
    refused.expect(403);

    let bad = t
        .post(
            "/api/v1/api-keys",
            Some(&admin),
            json!({ "name": " ", "scopes": ["leads:write", "users:manage"] }),
        )
        .await;
    bad.expect(422);
    let fields: Vec<&str> = bad.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "scopes[1]"], "{}", bad.body);

    let (id, key) = api_key(&t, &admin, "Website enquiry form", &["leads:write"]).await;
    assert!(key.starts_with("sk1."), "{key}");
    let listed = t.get("/api/v1/api-keys", &admin).await;
    listed.expect(200);
    let item = &listed.body["items"][0];
    assert_eq!(item["id"], id.as_str());
    assert_eq!(item["scopes"], json!(["leads:write"]));
    assert!(item["last_used_at"].is_null());
    assert!(
        !listed.body.to_string().contains(&key),
        "the secret is shown only once"
    );

    intake_with(
        &t,
        &key,
        &[],
        &json!({ "name": "Asha Mehta", "phone": "98200 12345" }),
    )
    .await
    .expect(201);
    let listed = t.get("/api/v1/api-keys", &admin).await;
    assert!(listed.body["items"][0]["last_used_at"].is_string());
    let audit = t.get("/api/v1/audit?entity=api_key", &admin).await;
    audit.expect(200);
    let actions: Vec<(&str, &str)> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["changes"][0]["new"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        actions[0],
        ("use", "POST /api/v1/leads/intake"),
        "{actions:?}"
    );
    assert!(actions.iter().any(|(a, _)| *a == "create"), "{actions:?}");

    t.delete(&format!("/api/v1/api-keys/{id}"), &admin)
        .await
        .expect(200);
    let revoked = intake_with(
        &t,
        &key,
        &[],
        &json!({ "name": "Rohan Malhotra", "phone": "98200 54321" }),
    )
    .await;
    revoked.expect(401);
    assert_eq!(revoked.code(), "api_key_revoked");
    let tampered = format!("{}x", &key[..key.len() - 1]);
    let wrong = intake_with(
        &t,
        &tampered,
        &[],
        &json!({ "name": "X", "phone": "98200 54321" }),
    )
    .await;
    wrong.expect(401);
}

#[tokio::test]
async fn a_key_acts_only_for_its_organisation_within_its_scopes_and_where_keys_are_taken() {
    let t = TestApp::new().await;
    let (_, skyline) = t
        .organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let (_, harbour) = t
        .organisation("Harbour Homes", "neil@harbour.in", PASSWORD)
        .await;
    let (skyline_key_id, _) = api_key(&t, &skyline, "Portal", &["leads:write"]).await;
    let (_, harbour_key) = api_key(&t, &harbour, "Portal", &["leads:write", "leads:read"]).await;
    let skyline_lead = t
        .lead(
            &skyline,
            json!({ "contact_person": "Rohan Malhotra", "phone_number": "+91 98200 12345" }),
        )
        .await;
    let skyline_lead = skyline_lead["id"].as_str().unwrap();

    // The same number in another organisation is another organisation's lead.
    let taken = intake_with(
        &t,
        &harbour_key,
        &[],
        &json!({ "name": "Rohan Malhotra", "phone": "+91 98200 12345" }),
    )
    .await;
    taken.expect(201);
    assert_eq!(taken.body["results"][0]["outcome"], "created");
    let harbour_lead = taken.body["results"][0]["lead_id"].as_str().unwrap();
    assert_ne!(harbour_lead, skyline_lead);
    let bearer = |path: &str| {
        Request::get(path)
            .header("authorization", format!("Bearer {harbour_key}"))
            .body(Body::empty())
            .unwrap()
    };
    t.send(bearer(&format!("/api/v1/leads/{skyline_lead}")))
        .await
        .expect(404);
    let listed = t.send(bearer("/api/v1/leads")).await;
    listed.expect(200);
    assert_eq!(lead_ids(&listed), [harbour_lead]);
    let revoking = t
        .send(
            Request::delete(format!("/api/v1/api-keys/{skyline_key_id}"))
                .header("x-api-key", &harbour_key)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    revoking.expect(401);
    assert_eq!(revoking.code(), "api_key_not_accepted");

    // Where a person is needed, a key is refused before it is looked up.
    for path in [
        "/api/v1/me/preferences",
        "/api/v1/auth/me",
        "/api/v1/api-keys",
    ] {
        let refused = t.send(bearer(path)).await;
        refused.expect(401);
        assert_eq!(refused.code(), "api_key_not_accepted", "{path}");
    }
    // Without `leads:read`, listing is forbidden.
    let (_, write_only) = api_key(&t, &harbour, "Form", &["leads:write"]).await;
    let forbidden = t
        .send(
            Request::get("/api/v1/leads")
                .header("x-api-key", &write_only)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    forbidden.expect(403);
    let both = t
        .send(
            Request::get("/api/v1/leads")
                .header("x-api-key", &write_only)
                .header("authorization", format!("Bearer {harbour}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    both.expect(401);
    assert_eq!(both.code(), "ambiguous_credentials");
    let empty = intake_with(&t, "", &[], &json!({ "name": "X", "phone": "98200 54321" })).await;
    empty.expect(401);
    // Another organisation's key cannot be revoked.
    t.delete(&format!("/api/v1/api-keys/{skyline_key_id}"), &harbour)
        .await
        .expect(404);
}

#[tokio::test]
async fn a_repeat_enquiry_updates_the_lead_and_its_timeline_instead_of_adding_one() {
    let t = TestApp::new().await;
    let (_, admin) = t
        .organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let (_, key) = api_key(&t, &admin, "Website", &["leads:write"]).await;
    let first = intake_with(
        &t,
        &key,
        &[],
        &json!({ "name": "Asha Mehta", "phone": "098200 12345", "city": "Bandra, Mumbai", "budget": "3-5 Cr", "source": "website", "notes": "Wants a sea view" }),
    )
    .await;
    first.expect(201);
    let id = first.body["results"][0]["lead_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let lead = t.get(&format!("/api/v1/leads/{id}"), &admin).await;
    assert_eq!(lead.body["phone_number"], "+919820012345");
    assert_eq!(lead.body["lead_source"], "website");
    assert_eq!(lead.body["location"], "Bandra, Mumbai");

    let again = intake_with(
        &t,
        &key,
        &[],
        &json!({ "full name": "Asha Mehta", "mobile": "+91 98200 12345", "bhk": 4, "source": "99acres", "notes": "Asks about parking" }),
    )
    .await;
    again.expect(200);
    assert_eq!(again.body["results"][0]["outcome"], "updated");
    assert_eq!(again.body["results"][0]["lead_id"], id.as_str());
    let lead = t.get(&format!("/api/v1/leads/{id}"), &admin).await;
    assert_eq!(
        lead.body["lead_source"], "website",
        "the first source stays"
    );
    assert_eq!(
        lead.body["location"], "Bandra, Mumbai",
        "what it did not say stays"
    );
    assert_eq!(lead.body["property_preferences"]["bedrooms"], 4);
    assert_eq!(lead.body["notes"], "Wants a sea view\n\nAsks about parking");
    let all = t.get("/api/v1/leads", &admin).await;
    assert_eq!(lead_ids(&all), [id.as_str()], "one lead, not two");
    let timeline = t.get(&format!("/api/v1/leads/{id}/timeline"), &admin).await;
    let newest = &timeline.body["items"][0];
    assert_eq!(newest["kind"], "updated");
    assert_eq!(newest["reason"], "enquired again (99acres)");
    assert_eq!(newest["actor"]["name"], "API key Website");
}

#[tokio::test]
async fn a_batch_is_answered_enquiry_by_enquiry_and_a_single_bad_one_gets_its_fields() {
    let t = TestApp::new().await;
    let (_, admin) = t
        .organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let (_, key) = api_key(&t, &admin, "Portal", &["leads:write"]).await;
    let batch = intake_with(
        &t,
        &key,
        &[],
        &json!({ "leads": [
            { "name": "Kabir Shah", "phone": "98200 11111", "email": "kabir@example.com" },
            { "name": "No Number" },
            { "name": "Wrong Field", "phone": "98200 22222", "status": "qualified", "colour": "blue" },
            { "name": "Kabir Shah", "phone": "+91 98200 11111" },
        ] }),
    )
    .await;
    batch.expect(201);
    assert_eq!(
        (
            batch.body["created"].as_u64(),
            batch.body["updated"].as_u64(),
            batch.body["rejected"].as_u64()
        ),
        (Some(1), Some(1), Some(2)),
        "{}",
        batch.body
    );
    let results = batch.body["results"].as_array().unwrap();
    let outcomes: Vec<&str> = results
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["created", "rejected", "rejected", "updated"]);
    let fields = |i: usize| -> Vec<String> {
        results[i]["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(
        fields(1).contains(&"phone_number".to_owned()),
        "{:?}",
        fields(1)
    );
    assert_eq!(fields(2), ["colour", "status"]);
    assert_eq!(results[3]["lead_id"], results[0]["lead_id"]);

    let single = intake_with(&t, &key, &[], &json!({ "name": "Priya", "phone": "12" })).await;
    single.expect(422);
    assert_eq!(
        single.body["error"]["details"][0]["field"], "phone",
        "{}",
        single.body
    );
    let list = intake_with(&t, &key, &[], &json!([])).await;
    list.expect(422);
    let shape = intake_with(&t, &key, &[], &json!("a lead")).await;
    shape.expect(400);
    let all = t.get("/api/v1/leads", &admin).await;
    assert_eq!(lead_ids(&all).len(), 1, "nothing else was taken");
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_is_answered_as_the_first_request() {
    let t = TestApp::new().await;
    let (_, admin) = t
        .organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let (_, key) = api_key(&t, &admin, "Website", &["leads:write"]).await;
    let body = json!({ "name": "Asha Mehta", "phone": "98200 12345", "notes": "Evening calls" });
    let first = intake_with(&t, &key, &[("idempotency-key", "form-7781")], &body).await;
    first.expect(201);
    let retry = intake_with(&t, &key, &[("idempotency-key", "form-7781")], &body).await;
    retry.expect(201);
    assert_eq!(retry.body, first.body);
    assert_eq!(
        retry
            .headers
            .get("idempotent-replayed")
            .map(|v| v.to_str().unwrap()),
        Some("true")
    );
    let id = first.body["results"][0]["lead_id"].as_str().unwrap();
    let timeline = t.get(&format!("/api/v1/leads/{id}/timeline"), &admin).await;
    assert_eq!(
        timeline.body["items"].as_array().unwrap().len(),
        1,
        "taken once: {}",
        timeline.body
    );
    let other = intake_with(
        &t,
        &key,
        &[("idempotency-key", "form-7781")],
        &json!({ "name": "Someone Else", "phone": "98200 99999" }),
    )
    .await;
    other.expect(422);
    assert_eq!(
        other.body["error"]["details"][0]["field"],
        "Idempotency-Key"
    );
    let bad = intake_with(&t, &key, &[("idempotency-key", "a key with spaces")], &body).await;
    bad.expect(400);
    // After the window, the key is free again (and the number is the lead's).
    t.clock.advance(SignedDuration::from_hours(25));
    let later = intake_with(&t, &key, &[("idempotency-key", "form-7781")], &body).await;
    later.expect(200);
    assert_eq!(later.body["results"][0]["outcome"], "updated");
}

async fn calling_app() -> CallingApp {
    TestApp::calling(embedded_store(), CallingOptions::default()).await
}

/// A campaign calling `website` leads in `window` (IST), started.
async fn speed_to_lead_campaign(calling: &CallingApp, token: &str, window: (&str, &str)) -> String {
    let campaign = calling
        .api
        .post(
            "/api/v1/campaigns",
            Some(token),
            json!({
                "name": "Website enquiries",
                "auto_call_sources": ["Website"],
                "settings": { "max_concurrent_calls": 3, "window": { "start": window.0, "end": window.1 } },
            }),
        )
        .await;
    campaign.expect(201);
    assert_eq!(campaign.body["auto_call_sources"], json!(["Website"]));
    let id = campaign.body["id"].as_str().unwrap().to_owned();
    calling
        .api
        .post(
            &format!("/api/v1/campaigns/{id}/start"),
            Some(token),
            json!({}),
        )
        .await
        .expect(200);
    id
}

#[tokio::test]
async fn a_new_lead_from_a_source_a_campaign_calls_is_called_within_a_minute() {
    let calling = calling_app().await;
    let (_, token) = calling.skyline().await;
    let campaign = speed_to_lead_campaign(&calling, &token, ("10:00", "19:00")).await;
    let (_, key) = api_key(&calling.api, &token, "Website form", &["leads:write"]).await;
    let taken_at = calling.clock_now();
    let taken = intake_with(
        &calling.api,
        &key,
        &[],
        &json!([
            { "name": "Asha Mehta", "phone": "98200 12345", "city": "Worli, Mumbai", "source": "website" },
            { "name": "Kabir Shah", "phone": "98200 54321", "source": "walk-in" },
        ]),
    )
    .await;
    taken.expect(201);
    let results = taken.body["results"].as_array().unwrap();
    assert_eq!(
        results[0]["campaign_id"],
        campaign.as_str(),
        "{}",
        taken.body
    );
    assert!(
        results[1].get("campaign_id").is_none(),
        "no campaign calls walk-ins"
    );
    let lead = results[0]["lead_id"].as_str().unwrap();

    calling
        .run_until(taken_at + SignedDuration::from_secs(60), |_| {})
        .await;
    let sources = calling
        .api
        .get("/api/v1/dashboard/lead-sources", &token)
        .await;
    sources.expect(200);
    let leads_of = |name: &str| {
        sources
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["source"] == name)
            .map(|s| s["leads"].clone())
    };
    assert_eq!(leads_of("website"), Some(json!(1)), "{}", sources.body);
    assert_eq!(leads_of("walk-in"), Some(json!(1)), "{}", sources.body);
    let placed = calling.simulator.placed();
    assert_eq!(placed.len(), 1, "only the website lead is called");
    assert_eq!(placed[0].lead_id.to_string(), lead);
    assert!(
        placed[0].at.duration_since(taken_at) <= SignedDuration::from_secs(60),
        "called {} after it arrived",
        placed[0].at.duration_since(taken_at)
    );
}

#[tokio::test]
async fn outside_the_window_a_new_lead_is_called_at_its_next_opening() {
    let calling = calling_app().await;
    let (_, token) = calling.skyline().await;
    // The clock starts at 15:30 in Mumbai: the window has closed for today.
    speed_to_lead_campaign(&calling, &token, ("09:00", "11:00")).await;
    let (_, key) = api_key(&calling.api, &token, "Website form", &["leads:write"]).await;
    let taken = intake_with(
        &calling.api,
        &key,
        &[],
        &json!({ "name": "Asha Mehta", "phone": "98200 12345", "source": "WEBSITE" }),
    )
    .await;
    taken.expect(201);
    let lead = taken.body["results"][0]["lead_id"].as_str().unwrap();
    let opening: Timestamp = "2026-11-24T03:30:00Z".parse().unwrap();
    let read = calling
        .api
        .get(&format!("/api/v1/leads/{lead}"), &token)
        .await;
    assert_eq!(
        read.body["next_call_at"],
        opening.to_string(),
        "{}",
        read.body
    );
    calling
        .run_until(opening - SignedDuration::from_mins(1), |_| {})
        .await;
    assert!(calling.simulator.placed().is_empty());
    calling
        .run_until(opening + SignedDuration::from_mins(2), |_| {})
        .await;
    let placed = calling.simulator.placed();
    assert_eq!(placed.len(), 1);
    assert!(placed[0].at >= opening);
}

#[tokio::test]
async fn a_campaigns_sources_are_checked() {
    let t = TestApp::new().await;
    let (_, admin) = t
        .organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let bad = t
        .post(
            "/api/v1/campaigns",
            Some(&admin),
            json!({ "name": "Portal leads", "auto_call_sources": ["website", " WEBSITE ", ""] }),
        )
        .await;
    bad.expect(422);
    let fields: Vec<&str> = bad.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["auto_call_sources[1]", "auto_call_sources[2]"]);
}
