//! Campaigns and calling through the API: validation, lifecycle, permissions
//! and tenancy, preflight, one call from start to transcript and
//! notification, calling by lead ids, a campaign that pauses itself when its
//! calls fail, the webhooks' authentication, and calls through the real VAPI
//! client to a fake VAPI that validates them as VAPI's API does.

use axum::http::StatusCode;
use http::Request;
use jiff::SignedDuration;
use serde_json::{Value, json};
use soraaya_calling::webhooks::twilio_signature;
use soraaya_local::runtime::Chaos;
use soraaya_local::simulator::{Scenario, SimulatorConfig};
use soraaya_tests::calling::{
    CallingApp, CallingOptions, PUBLIC_URL, TWILIO_AUTH_TOKEN, WEBHOOK_SECRET,
};
use soraaya_tests::fake_vapi::{FakeVapi, FakeVapiOptions};
use soraaya_tests::{TestApp, embedded_store};

async fn calling_app() -> CallingApp {
    TestApp::calling(embedded_store(), CallingOptions::default()).await
}

/// Runs the engine for `minutes` of test clock.
async fn run_for(calling: &CallingApp, minutes: i64) {
    run_for_seconds(calling, minutes * 60).await;
}

async fn run_for_seconds(calling: &CallingApp, seconds: i64) {
    let until = calling.clock_now() + SignedDuration::from_secs(seconds);
    calling.run_until(until, |_| {}).await;
}

#[tokio::test]
async fn campaigns_are_checked_field_by_field_and_names_are_unique() {
    let calling = calling_app().await;
    let (_, token) = calling
        .api
        .organisation("Skyline Estates", "asha@skyline.in", "sea-facing-4bhk")
        .await;
    let bad = calling
        .api
        .post(
            "/api/v1/campaigns",
            Some(&token),
            json!({
                "campaign_type": "cold_blast",
                "settings": { "max_concurrent_calls": 0, "window": { "start": "19:00", "end": "10:00" }, "max_attempts": 40 },
                "qualification_criteria": { "budget_min": "lots", "qualify_at": 101 },
            }),
        )
        .await;
    bad.expect(422);
    assert_eq!(bad.code(), "validation_failed");
    let fields: Vec<&str> = bad.body["error"]["details"]
        .as_array()
        .expect("details")
        .iter()
        .filter_map(|d| d["field"].as_str())
        .collect();
    for field in [
        "name",
        "campaign_type",
        "settings.max_concurrent_calls",
        "settings.window.end",
        "settings.max_attempts",
        "qualification_criteria.budget_min",
        "qualification_criteria.qualify_at",
    ] {
        assert!(fields.contains(&field), "{field} missing from {fields:?}");
    }

    let first = calling
        .api
        .post(
            "/api/v1/campaigns",
            Some(&token),
            json!({ "name": "Worli Sea-Face Penthouses" }),
        )
        .await;
    first.expect(201);
    assert_eq!(first.body["status"], "draft");
    let again = calling
        .api
        .post(
            "/api/v1/campaigns",
            Some(&token),
            json!({ "name": "worli sea-face penthouses" }),
        )
        .await;
    again.expect(409);
    assert_eq!(again.code(), "name_taken");

    // A change made against an old version is refused.
    let id = first.body["id"].as_str().expect("id");
    let etag = first.headers["etag"].to_str().expect("etag").to_owned();
    let renamed = calling
        .api
        .send(
            Request::put(format!("/api/v1/campaigns/{id}"))
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .header("if-match", &etag)
                .body(json!({ "name": "Worli Sea-Face, Q1" }).to_string().into())
                .expect("request"),
        )
        .await;
    renamed.expect(200);
    let stale = calling
        .api
        .send(
            Request::put(format!("/api/v1/campaigns/{id}"))
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .header("if-match", &etag)
                .body(json!({ "description": "late edit" }).to_string().into())
                .expect("request"),
        )
        .await;
    stale.expect(409);
    assert_eq!(stale.code(), "version_mismatch");
}

#[tokio::test]
async fn the_lifecycle_is_enforced_and_campaigns_stay_in_their_organisation() {
    let calling = calling_app().await;
    let one = calling.one_lead_campaign().await;
    let path = |action: &str| format!("/api/v1/campaigns/{}/{action}", one.campaign_id);

    // An agent sees campaigns but does not run them.
    calling
        .api
        .user(&one.token, "meera@skyline.in", "agent", "agent-password-1")
        .await;
    let agent = calling
        .api
        .token("meera@skyline.in", "agent-password-1")
        .await;
    calling
        .api
        .get(&format!("/api/v1/campaigns/{}", one.campaign_id), &agent)
        .await
        .expect(200);
    calling
        .api
        .post(&path("start"), Some(&agent), json!({}))
        .await
        .expect(403);
    calling
        .api
        .post("/api/v1/campaigns", Some(&agent), json!({ "name": "Mine" }))
        .await
        .expect(403);

    // Another organisation cannot even see it.
    let (_, other) = calling
        .api
        .organisation("Other Realty", "ops@other.in", "other-password-1")
        .await;
    calling
        .api
        .get(&format!("/api/v1/campaigns/{}", one.campaign_id), &other)
        .await
        .expect(404);
    calling
        .api
        .post(&path("start"), Some(&other), json!({}))
        .await
        .expect(404);
    let status = calling.api.get("/api/v1/calling/status", &other).await;
    status.expect(200);
    assert_eq!(
        status.body["campaigns"].as_array().map_or(0, Vec::len),
        0,
        "{}",
        status.body
    );

    calling
        .api
        .post(&path("pause"), Some(&one.token), json!({}))
        .await
        .expect(409);
    let started = calling
        .api
        .post(&path("start"), Some(&one.token), json!({}))
        .await;
    started.expect(200);
    assert_eq!(
        started.body["campaign"]["status"], "active",
        "{}",
        started.body
    );
    let twice = calling
        .api
        .post(&path("start"), Some(&one.token), json!({}))
        .await;
    twice.expect(409);
    assert_eq!(twice.code(), "invalid_campaign_transition");
    calling
        .api
        .delete(
            &format!("/api/v1/campaigns/{}", one.campaign_id),
            &one.token,
        )
        .await
        .expect(409);
    calling
        .api
        .post(&path("pause"), Some(&one.token), json!({}))
        .await
        .expect(200);
    calling
        .api
        .post(&path("resume"), Some(&one.token), json!({}))
        .await
        .expect(200);
    let stopped = calling
        .api
        .post(&path("stop"), Some(&one.token), json!({}))
        .await;
    stopped.expect(200);
    assert_eq!(
        stopped.body["campaign"]["status"], "completed",
        "{}",
        stopped.body
    );
    calling
        .api
        .post(&path("resume"), Some(&one.token), json!({}))
        .await
        .expect(409);
    calling
        .api
        .post(&path("archive"), Some(&one.token), json!({}))
        .await
        .expect(200);

    // Stopped in time: the queued dial is dropped, nobody was called.
    run_for(&calling, 10).await;
    assert!(calling.simulator.placed().is_empty());
    let lead = calling
        .api
        .get(&format!("/api/v1/leads/{}", one.lead_id), &one.token)
        .await;
    assert_eq!(lead.body["status"], "to_call", "{}", lead.body);
    assert_eq!(lead.body["call_attempts"], 0);
}

#[tokio::test]
async fn preflight_says_who_would_be_called_and_why_not() {
    let calling = calling_app().await;
    let one = calling.one_lead_campaign().await;
    let lead = |name: &str, phone: &str, extra: Value| {
        let mut body = json!({ "contact_person": name, "phone_number": phone, "campaign_id": one.campaign_id });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        body
    };
    // 15:30 in Mumbai, 05:00 in New York.
    calling
        .api
        .lead(
            &one.token,
            lead("Vikram Shah", "+91 98200 22222", json!({})),
        )
        .await;
    calling
        .api
        .lead(&one.token, lead("Ethan Cole", "+1 212 555 0142", json!({})))
        .await;
    calling
        .api
        .lead(
            &one.token,
            lead(
                "Nisha Rao",
                "+91 98200 33333",
                json!({ "do_not_call": true }),
            ),
        )
        .await;
    calling
        .api
        .lead(
            &one.token,
            lead(
                "Kabir Mehta",
                "+91 98200 44444",
                json!({ "status": "qualified" }),
            ),
        )
        .await;

    let preflight = calling
        .api
        .get(
            &format!("/api/v1/campaigns/{}/preflight", one.campaign_id),
            &one.token,
        )
        .await;
    preflight.expect(200);
    assert_eq!(preflight.body["dial_now"], 2, "{}", preflight.body);
    assert_eq!(preflight.body["deferred"], 1);
    assert_eq!(preflight.body["skipped"]["do_not_call"], 1);
    assert_eq!(preflight.body["skipped"]["wrong_status"], 1);
    let ethan = preflight.body["leads"]
        .as_array()
        .expect("leads")
        .iter()
        .find(|l| l["contact_person"] == "Ethan Cole")
        .expect("Ethan");
    // Its zone is only guessed from the country, so the campaign's 10:00 must
    // have come in every US zone: 10:00 in Honolulu, 20:00 UTC.
    assert_eq!(ethan["dial_at"], "2026-11-23T20:00:00Z", "{ethan}");
    assert!(
        calling.simulator.placed().is_empty(),
        "preflight dials nobody"
    );
}

#[tokio::test]
async fn a_call_ends_in_a_transcript_a_status_and_a_notification() {
    let calling = calling_app().await;
    let one = calling.one_lead_campaign().await;
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
    run_for_seconds(&calling, 10).await;
    let status = calling.api.get("/api/v1/calling/status", &one.token).await;
    assert_eq!(status.body["live_calls"], 1, "{}", status.body);
    let lead = calling
        .api
        .get(&format!("/api/v1/leads/{}", one.lead_id), &one.token)
        .await;
    assert!(
        ["calling", "in_call"].contains(&lead.body["status"].as_str().unwrap_or_default()),
        "{}",
        lead.body
    );

    run_for(&calling, 10).await;
    let token = calling
        .api
        .token("asha@skyline-estates.in", "sea-facing-4bhk")
        .await;
    let lead = calling
        .api
        .get(&format!("/api/v1/leads/{}", one.lead_id), &token)
        .await;
    assert_eq!(lead.body["status"], "qualified", "{}", lead.body);
    assert!(lead.body["qualification_score"].as_u64().unwrap_or(0) >= 70);
    let transcripts = calling
        .api
        .get(
            &format!("/api/v1/leads/{}/transcripts", one.lead_id),
            &token,
        )
        .await;
    transcripts.expect(200);
    let transcript = &transcripts.body["items"][0];
    assert_eq!(transcript["attempt"], 1, "{}", transcripts.body);
    assert!(
        transcript["messages"]
            .as_array()
            .is_some_and(|m| m.len() >= 4),
        "{transcript}"
    );
    assert!(
        transcript["summary"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert!(
        transcript["structured_data"]["budget_min_inr"].is_number(),
        "{transcript}"
    );
    assert_eq!(lead.body["last_call_transcript_id"], transcript["id"]);
    // Soraaya's own analysis of the words, stored with the transcript.
    let analysis = &transcript["analysis"];
    assert_eq!(
        analysis["utterances"].as_array().map(Vec::len),
        transcript["messages"].as_array().map(Vec::len),
        "a sentiment per utterance: {analysis}"
    );
    assert!(
        analysis["mentions"]["budgets"]
            .as_array()
            .is_some_and(|b| !b.is_empty()),
        "the budget said in crores: {analysis}"
    );
    let factors = analysis["qualification"]["factors"]
        .as_array()
        .expect("factors");
    let points: u64 = factors.iter().filter_map(|f| f["points"].as_u64()).sum();
    assert_eq!(
        Some(points),
        analysis["qualification"]["score"].as_u64(),
        "{analysis}"
    );
    let notifications = calling.api.get("/api/v1/notifications", &token).await;
    notifications.expect(200);
    assert!(
        notifications.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|n| n["type"] == "qualified_lead" && n["lead_id"] == one.lead_id.as_str()),
        "{}",
        notifications.body
    );
    let timeline = calling
        .api
        .get(&format!("/api/v1/leads/{}/timeline", one.lead_id), &token)
        .await;
    let kinds: Vec<&str> = timeline.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"call_placed") && kinds.contains(&"call_ended"),
        "{kinds:?}"
    );
    let status = calling.api.get("/api/v1/calling/status", &token).await;
    assert_eq!(status.body["live_calls"], 0, "{}", status.body);
    let performance = calling
        .api
        .get(
            &format!("/api/v1/campaigns/{}/performance", one.campaign_id),
            &token,
        )
        .await;
    assert_eq!(
        performance.body["calls"]["placed"], 1,
        "{}",
        performance.body
    );
    assert_eq!(performance.body["calls"]["by_result"]["connected"], 1);
}

#[tokio::test]
async fn leads_are_called_by_id_and_calling_stops_on_request() {
    let calling = calling_app().await;
    let (_, token) = calling
        .api
        .organisation("Skyline Estates", "asha@skyline.in", "sea-facing-4bhk")
        .await;
    let mut ids = Vec::new();
    for (name, phone) in [
        ("Rohan Malhotra", "+91 98200 12345"),
        ("Ananya Iyer", "+91 98200 54321"),
        ("Dev Kapoor", "+91 98200 67890"),
    ] {
        let lead = calling
            .api
            .lead(
                &token,
                json!({ "contact_person": name, "phone_number": phone }),
            )
            .await;
        ids.push(lead["id"].as_str().expect("id").to_owned());
    }
    let bad = calling
        .api
        .post(
            "/api/v1/calling/start",
            Some(&token),
            json!({ "lead_ids": ["not-an-id"] }),
        )
        .await;
    bad.expect(422);
    // Calls that talk for a while: a busy line would end at once and hand
    // its slot to the next lead within the ten seconds looked at.
    calling.simulator.force(vec![Scenario::Qualified; 2]);
    let started = calling
        .api
        .post(
            "/api/v1/calling/start",
            Some(&token),
            json!({ "lead_ids": ids[..2], "max_concurrent_calls": 1 }),
        )
        .await;
    started.expect(200);
    assert_eq!(
        started.body["campaign"]["name"], "Direct calls",
        "{}",
        started.body
    );
    assert_eq!(
        started.body["campaign"]["settings"]["max_concurrent_calls"],
        1
    );
    run_for_seconds(&calling, 10).await;
    assert_eq!(calling.simulator.placed().len(), 1, "one at a time");
    let stopped = calling
        .api
        .post("/api/v1/calling/stop", Some(&token), json!({}))
        .await;
    stopped.expect(200);
    assert_eq!(
        stopped.body["paused"].as_array().map_or(0, Vec::len),
        1,
        "{}",
        stopped.body
    );
    run_for(&calling, 30).await;
    assert_eq!(
        calling.simulator.placed().len(),
        1,
        "the second lead waits for a resume"
    );
    assert!(
        calling
            .simulator
            .placed()
            .iter()
            .all(|c| c.lead_id.to_string() != ids[2]),
        "the third lead was not asked for"
    );
}

#[tokio::test]
async fn a_campaign_whose_calls_fail_pauses_itself_and_says_so() {
    let calling = calling_app().await;
    let (_, token) = calling
        .api
        .organisation("Skyline Estates", "asha@skyline.in", "sea-facing-4bhk")
        .await;
    let campaign = calling
        .api
        .post(
            "/api/v1/campaigns",
            Some(&token),
            json!({ "name": "Bandra Bungalows", "settings": { "max_concurrent_calls": 2 } }),
        )
        .await;
    let campaign_id = campaign.body["id"].as_str().expect("id").to_owned();
    for i in 0..10 {
        calling.api.lead(&token, json!({ "contact_person": format!("Lead {i}"), "phone_number": format!("+91 98200 1{i:04}"), "campaign_id": campaign_id })).await;
    }
    calling.simulator.force([Scenario::Failed; 10]);
    calling
        .api
        .post(
            &format!("/api/v1/campaigns/{campaign_id}/start"),
            Some(&token),
            json!({}),
        )
        .await
        .expect(200);
    run_for(&calling, 10).await;
    let token = calling
        .api
        .token("asha@skyline.in", "sea-facing-4bhk")
        .await;
    let campaign = calling
        .api
        .get(&format!("/api/v1/campaigns/{campaign_id}"), &token)
        .await;
    assert_eq!(campaign.body["status"], "paused", "{}", campaign.body);
    let placed = calling.simulator.placed().len();
    assert!((6..10).contains(&placed), "paused after {placed} calls");
    let notifications = calling.api.get("/api/v1/notifications", &token).await;
    assert!(
        notifications.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|n| n["type"] == "campaign_paused"),
        "{}",
        notifications.body
    );
    run_for(&calling, 60).await;
    assert_eq!(
        calling.simulator.placed().len(),
        placed,
        "a paused campaign places no calls"
    );
}

/// Failures end within seconds: when the first calls of a campaign happen
/// to include a few, they end first. That is no outage while the other calls
/// are still on the line (a CI run once paused a healthy campaign this way).
#[tokio::test]
async fn a_few_quick_failures_among_many_live_calls_do_not_pause_a_campaign() {
    let calling = calling_app().await;
    let (_, token) = calling
        .api
        .organisation("Skyline Estates", "asha@skyline.in", "sea-facing-4bhk")
        .await;
    let campaign = calling
        .api
        .post(
            "/api/v1/campaigns",
            Some(&token),
            json!({ "name": "Juhu Villas", "settings": { "max_concurrent_calls": 20 } }),
        )
        .await;
    let campaign_id = campaign.body["id"].as_str().expect("id").to_owned();
    for i in 0..20 {
        calling.api.lead(&token, json!({ "contact_person": format!("Lead {i}"), "phone_number": format!("+91 98200 2{i:04}"), "campaign_id": campaign_id })).await;
    }
    // Ten calls that talk, then two busy lines and four failures: the six
    // quick ones end while the ten are still on the line.
    let mut first = vec![Scenario::Qualified; 10];
    first.extend([Scenario::Busy; 2]);
    first.extend([Scenario::Failed; 4]);
    first.extend([Scenario::Qualified; 4]);
    calling.simulator.force(first);
    calling
        .api
        .post(
            &format!("/api/v1/campaigns/{campaign_id}/start"),
            Some(&token),
            json!({}),
        )
        .await
        .expect(200);
    run_for(&calling, 5).await;
    assert_eq!(calling.simulator.placed().len(), 20);
    let token = calling
        .api
        .token("asha@skyline.in", "sea-facing-4bhk")
        .await;
    let campaign = calling
        .api
        .get(&format!("/api/v1/campaigns/{campaign_id}"), &token)
        .await;
    assert_eq!(campaign.body["status"], "active", "{}", campaign.body);
}

/// A campaign of `leads` leads with a cap of `cap` live calls, made through
/// the API; its id and its leads' ids, in the order they were added.
async fn campaign_of(
    calling: &CallingApp,
    token: &str,
    name: &str,
    cap: u32,
    leads: usize,
    first_number: usize,
) -> (String, Vec<String>) {
    let campaign = calling
        .api
        .post(
            "/api/v1/campaigns",
            Some(token),
            json!({ "name": name, "settings": { "max_concurrent_calls": cap } }),
        )
        .await;
    campaign.expect(201);
    let campaign_id = campaign.body["id"].as_str().expect("id").to_owned();
    let mut ids = Vec::new();
    for i in first_number..first_number + leads {
        let lead = calling.api.lead(token, json!({ "contact_person": format!("Lead {i}"), "phone_number": format!("+91 98200 3{i:04}"), "campaign_id": campaign_id })).await;
        ids.push(lead["id"].as_str().expect("id").to_owned());
    }
    (campaign_id, ids)
}

/// The leads called so far, in the order their calls were placed.
fn placed_leads(calling: &CallingApp) -> Vec<String> {
    calling
        .simulator
        .placed()
        .iter()
        .map(|call| call.lead_id.to_string())
        .collect()
}

/// An organisation allowed two live calls, whose calls last 45 s, and its
/// admin's token.
async fn org_of_two_live_calls() -> (CallingApp, String) {
    let calling = TestApp::calling(
        embedded_store(),
        CallingOptions {
            org_cap: 2,
            simulator: SimulatorConfig {
                call_seconds: 45,
                seed: 7,
                fixed_length: true,
            },
            ..CallingOptions::default()
        },
    )
    .await;
    let (_, token) = calling
        .api
        .organisation("Skyline Estates", "asha@skyline.in", "sea-facing-4bhk")
        .await;
    (calling, token)
}

/// Dials go out for the free slots only; the other leads wait in the
/// campaign's line, and the end of each call sends the first in line. Every
/// lead is called once, in the order it was added, never above the cap,
/// with one dial message per call: no dial comes back to look for a slot.
#[tokio::test]
async fn dials_wait_in_their_campaigns_line_and_each_end_of_a_call_sends_the_next() {
    let calling = calling_app().await;
    let (_, token) = calling
        .api
        .organisation("Skyline Estates", "asha@skyline.in", "sea-facing-4bhk")
        .await;
    let (campaign_id, ids) = campaign_of(&calling, &token, "Bandra Lofts", 2, 6, 0).await;
    calling.simulator.force(vec![Scenario::Qualified; 6]);
    start(&calling, &campaign_id, &token).await;
    let first = calling
        .run_until(calling.clock_now() + SignedDuration::from_secs(1), |_| {})
        .await;
    assert_eq!(calling.simulator.placed().len(), 2);
    assert_eq!(
        first.dials, 2,
        "a message for each free slot, none for the rest"
    );
    let mut waiting = Vec::new();
    for id in &ids {
        let lead = calling
            .api
            .get(&format!("/api/v1/leads/{id}"), &token)
            .await;
        if lead.body["queued"]["in_line"] == true {
            waiting.push(id.clone());
        }
    }
    assert_eq!(waiting, ids[2..], "the rest wait in line, in order");

    let rest = calling
        .run_until(calling.clock_now() + SignedDuration::from_mins(10), |c| {
            assert!(c.simulator.live() <= 2, "the cap holds at every step");
        })
        .await;
    let placed = placed_leads(&calling);
    // The two free slots are dialled at once, so those two in either order.
    let (mut opening, mut first_two) = (placed[..2].to_vec(), ids[..2].to_vec());
    opening.sort();
    first_two.sort();
    assert_eq!(opening, first_two, "the first two at once");
    assert_eq!(placed[2..], ids[2..], "each lead once, first in line first");
    assert_eq!(first.dials + rest.dials, 6, "one dial message per call");
}

/// An organisation that sets itself a lower cap than the deployment's is
/// held to it: one call at a time though its campaign allows three.
#[tokio::test]
async fn an_organisations_own_cap_holds_its_calls_under_it() {
    let calling = calling_app().await;
    let (_, token) = calling
        .api
        .organisation("Skyline Estates", "asha@skyline.in", "sea-facing-4bhk")
        .await;
    calling
        .api
        .patch(
            "/api/v1/org/settings",
            &token,
            json!({ "max_live_calls": 1 }),
        )
        .await
        .expect(200);
    let (campaign_id, ids) = campaign_of(&calling, &token, "Bandra Lofts", 3, 3, 0).await;
    calling.simulator.force(vec![Scenario::Qualified; 3]);
    start(&calling, &campaign_id, &token).await;
    let mut most = 0;
    calling
        .run_until(calling.clock_now() + SignedDuration::from_mins(10), |c| {
            most = most.max(c.simulator.live());
        })
        .await;
    assert_eq!(most, 1, "never more than the organisation's one");
    let mut placed = placed_leads(&calling);
    placed.sort();
    let mut all = ids.clone();
    all.sort();
    assert_eq!(placed, all, "each lead called, once");
}

/// When the organisation's cap is what keeps a campaign's line waiting,
/// the end of another campaign's call, whose own line is empty, sends it.
#[tokio::test]
async fn a_slot_of_the_organisation_goes_to_another_campaigns_line() {
    let (calling, token) = org_of_two_live_calls().await;
    let (first, _) = campaign_of(&calling, &token, "Juhu Villas", 2, 2, 0).await;
    let (second, waiting) = campaign_of(&calling, &token, "Powai Towers", 2, 2, 10).await;
    calling.simulator.force(vec![Scenario::Qualified; 4]);
    start(&calling, &first, &token).await;
    let opening = calling
        .run_until(calling.clock_now() + SignedDuration::from_secs(1), |_| {})
        .await;
    assert_eq!(calling.simulator.live(), 2);
    start(&calling, &second, &token).await;
    // The first calls end after 45 s; a lapsed watch (120 s here) would
    // come after the 90 s looked at.
    let tick = calling
        .run_until(calling.clock_now() + SignedDuration::from_secs(90), |c| {
            assert!(c.simulator.live() <= 2, "the organisation's cap holds");
        })
        .await;
    let placed = placed_leads(&calling);
    assert_eq!(placed.len(), 4, "{placed:?}");
    assert_eq!(placed[2..], waiting, "the second campaign's line followed");
    assert_eq!(opening.dials + tick.dials, 4, "one dial message per call");
}

/// A call of a paused campaign hands its slot to another campaign's line;
/// the paused campaign's own line waits for its resume.
#[tokio::test]
async fn a_paused_campaigns_slot_goes_to_another_campaigns_line() {
    let (calling, token) = org_of_two_live_calls().await;
    let (first, first_leads) = campaign_of(&calling, &token, "Juhu Villas", 2, 4, 0).await;
    let (second, waiting) = campaign_of(&calling, &token, "Powai Towers", 2, 2, 10).await;
    calling.simulator.force(vec![Scenario::Qualified; 6]);
    start(&calling, &first, &token).await;
    calling
        .run_until(calling.clock_now() + SignedDuration::from_secs(1), |_| {})
        .await;
    start(&calling, &second, &token).await;
    calling
        .api
        .post(
            &format!("/api/v1/campaigns/{first}/pause"),
            Some(&token),
            json!({}),
        )
        .await
        .expect(200);
    // As above: well before a lapsed watch.
    calling
        .run_until(calling.clock_now() + SignedDuration::from_secs(90), |c| {
            assert!(c.simulator.live() <= 2, "the organisation's cap holds");
        })
        .await;
    let placed = placed_leads(&calling);
    assert_eq!(placed[..2], first_leads[..2], "{placed:?}");
    assert_eq!(placed[2..], waiting, "the paused campaign's slots went on");
}

/// A VAPI server message finds its call by the call id recorded when the
/// call was placed; only a message whose id is not known yet (it can come
/// before `POST /call` answers) is matched by the metadata VAPI echoes.
#[tokio::test]
async fn webhooks_find_the_call_by_its_id_first_and_by_its_metadata_second() {
    let calling = calling_app().await;
    let one = calling.one_lead_campaign().await;
    calling.simulator.force([Scenario::NoAnswer]);
    start(&calling, &one.campaign_id, &one.token).await;
    run_for_seconds(&calling, 1).await;
    let placed = calling.simulator.placed();
    let call_id = placed[0].call_id.clone();
    let meta = |lead_id: &str| json!({ "org_id": one.org_id, "lead_id": lead_id, "campaign_id": one.campaign_id, "attempt": 1, "customer_time_zone": "Asia/Kolkata" });
    let post = |body: Value| {
        let request = Request::post("/api/v1/webhooks/vapi")
            .header("content-type", "application/json")
            .header("x-vapi-secret", WEBHOOK_SECRET)
            .body(body.to_string().into())
            .expect("request");
        calling.api.send(request)
    };
    // The id is known: the echoed metadata (here naming another lead) is not used.
    let elsewhere = "01936f3a-1111-7000-8000-00000000dead";
    let answer = post(
        json!({ "message": { "type": "status-update", "status": "in-progress",
        "call": { "id": call_id }, "assistant": { "metadata": meta(elsewhere) } } }),
    )
    .await;
    assert!(answer.status.is_success(), "{}", answer.body);
    let lead = calling
        .api
        .get(&format!("/api/v1/leads/{}", one.lead_id), &one.token)
        .await;
    assert_eq!(lead.body["status"], "in_call", "{}", lead.body);

    // An id not known yet: the metadata says which attempt it is.
    let campaign = calling
        .api
        .post(
            "/api/v1/campaigns",
            Some(&one.token),
            json!({ "name": "Bandra Sea Link Homes", "settings": { "window": { "start": "10:00", "end": "19:00" } } }),
        )
        .await;
    let campaign_id = campaign.body["id"].as_str().expect("id").to_owned();
    let other = calling
        .api
        .lead(&one.token, json!({ "contact_person": "Kabir Mehta", "phone_number": "+91 98200 54321", "campaign_id": campaign_id }))
        .await;
    let other_id = other["id"].as_str().expect("id");
    calling.simulator.force([Scenario::NoAnswer]);
    start(&calling, &campaign_id, &one.token).await;
    run_for_seconds(&calling, 1).await;
    let early = json!({ "message": { "type": "status-update", "status": "in-progress",
        "call": { "id": "vapi-call-not-yet-recorded" },
        "assistant": { "metadata": { "org_id": one.org_id, "lead_id": other_id, "campaign_id": campaign_id, "attempt": 1, "customer_time_zone": "Asia/Kolkata" } } } });
    assert!(post(early).await.status.is_success());
    let lead = calling
        .api
        .get(&format!("/api/v1/leads/{other_id}"), &one.token)
        .await;
    assert_eq!(lead.body["status"], "in_call", "{}", lead.body);
}

#[tokio::test]
async fn webhooks_without_the_secret_or_the_signature_are_refused() {
    let calling = calling_app().await;
    let hang = json!({ "message": { "type": "hang", "call": { "id": "call-1" } } }).to_string();
    let vapi = |secret: Option<&str>| {
        let mut request =
            Request::post("/api/v1/webhooks/vapi").header("content-type", "application/json");
        if let Some(secret) = secret {
            request = request.header("x-vapi-secret", secret);
        }
        request.body(hang.clone().into()).expect("request")
    };
    assert_eq!(calling.api.send(vapi(None)).await.status, 401);
    assert_eq!(calling.api.send(vapi(Some("guessed"))).await.status, 401);
    assert!(
        calling
            .api
            .send(vapi(Some(WEBHOOK_SECRET)))
            .await
            .status
            .is_success()
    );

    let params: Vec<(String, String)> = [
        ("CallSid", "CA0123456789abcdef0123456789abcdef"),
        ("CallStatus", "completed"),
        ("CallDuration", "42"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let form = |params: &[(String, String)]| {
        params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    };
    let signature = twilio_signature(
        TWILIO_AUTH_TOKEN,
        &format!("{PUBLIC_URL}/api/v1/webhooks/twilio"),
        &params,
    );
    let twilio = |body: String, signature: Option<&str>| {
        let mut request = Request::post("/api/v1/webhooks/twilio")
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(signature) = signature {
            request = request.header("x-twilio-signature", signature);
        }
        request.body(body.into()).expect("request")
    };
    assert!(
        calling
            .api
            .send(twilio(form(&params), Some(&signature)))
            .await
            .status
            .is_success()
    );
    assert_eq!(
        calling.api.send(twilio(form(&params), None)).await.status,
        403
    );
    assert_eq!(
        calling
            .api
            .send(twilio(form(&params), Some("bm90IGEgc2lnbmF0dXJl")))
            .await
            .status,
        403
    );
    let mut altered = params.clone();
    altered[2].1 = "4200".into();
    let refused = calling
        .api
        .send(twilio(form(&altered), Some(&signature)))
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.code(), "invalid_signature");
}

// ------------------------------------------------------- through a fake VAPI

async fn vapi_app(options: FakeVapiOptions) -> (CallingApp, FakeVapi) {
    let calling = TestApp::calling(
        embedded_store(),
        CallingOptions {
            fake_vapi: Some(options),
            ..CallingOptions::default()
        },
    )
    .await;
    let vapi = calling.vapi.clone().expect("a fake VAPI");
    (calling, vapi)
}

async fn start(calling: &CallingApp, campaign_id: &str, token: &str) {
    calling
        .api
        .post(
            &format!("/api/v1/campaigns/{campaign_id}/start"),
            Some(token),
            json!({}),
        )
        .await
        .expect(200);
}

#[tokio::test]
async fn calls_reach_vapi_as_its_published_contract_says_and_busy_answers_are_retried() {
    let (calling, vapi) = vapi_app(FakeVapiOptions {
        scripted: vec![
            (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests".into()),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable".into(),
            ),
        ],
        ..FakeVapiOptions::default()
    })
    .await;
    let one = calling.one_lead_campaign().await;
    calling.simulator.force([Scenario::Qualified]);
    start(&calling, &one.campaign_id, &one.token).await;
    run_for(&calling, 5).await;

    let posts: Vec<_> = vapi
        .received()
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(posts.len(), 3, "429 and 503 tried again");
    assert!(vapi.refused().is_empty(), "{:?}", vapi.refused());
    let body = &posts[2].body;
    assert_eq!(
        posts[2].authorization.as_deref(),
        Some("Bearer vapi-private-key")
    );
    assert_eq!(body["phoneNumberId"], "pn-mumbai-1");
    assert_eq!(body["customer"]["number"], "+919820012345");
    assert_eq!(body["customer"]["name"], "Rohan Malhotra");
    assert!(
        body.get("metadata").is_none(),
        "CreateCallDTO has no metadata"
    );
    let metadata = &body["assistant"]["metadata"];
    assert_eq!(metadata["lead_id"], one.lead_id.as_str());
    assert_eq!(metadata["campaign_id"], one.campaign_id.as_str());
    assert_eq!(metadata["attempt"], 1);
    assert_eq!(metadata["customer_time_zone"], "Asia/Kolkata");
    assert_eq!(
        body["assistant"]["server"]["url"],
        format!("{PUBLIC_URL}/api/v1/webhooks/vapi")
    );
    assert_eq!(
        body["assistant"]["server"]["headers"]["x-vapi-secret"],
        WEBHOOK_SECRET
    );
    assert!(
        body["assistant"]["firstMessage"]
            .as_str()
            .is_some_and(|m| m.contains("Rohan")),
        "{}",
        body["assistant"]["firstMessage"]
    );
    assert!(
        body["assistant"]["analysisPlan"]["structuredDataPlan"]["schema"]["properties"]["budget_min_inr"]
            .is_object()
    );
    assert_eq!(body["assistant"]["model"]["tools"][0]["type"], "endCall");

    // The webhooks found the call by its id, and the lead qualified.
    let lead = calling
        .api
        .get(&format!("/api/v1/leads/{}", one.lead_id), &one.token)
        .await;
    assert_eq!(lead.body["status"], "qualified", "{}", lead.body);
}

#[tokio::test]
async fn a_call_whose_webhooks_never_come_is_read_from_vapi() {
    let calling = TestApp::calling(
        embedded_store(),
        CallingOptions {
            fake_vapi: Some(FakeVapiOptions::default()),
            chaos: Chaos {
                silent_calls: 1.0,
                ..Chaos::default()
            },
            ..CallingOptions::default()
        },
    )
    .await;
    let vapi = calling.vapi.clone().expect("fake");
    let one = calling.one_lead_campaign().await;
    calling.simulator.force([Scenario::Callback]);
    start(&calling, &one.campaign_id, &one.token).await;
    run_for(&calling, 30).await;
    assert!(
        vapi.received()
            .iter()
            .any(|r| r.method == "GET" && r.status == StatusCode::OK),
        "the scheduler asked GET /call/{{id}}"
    );
    let token = calling
        .api
        .token("asha@skyline-estates.in", "sea-facing-4bhk")
        .await;
    let lead = calling
        .api
        .get(&format!("/api/v1/leads/{}", one.lead_id), &token)
        .await;
    assert_eq!(lead.body["status"], "callback_requested", "{}", lead.body);
    let transcripts = calling
        .api
        .get(
            &format!("/api/v1/leads/{}/transcripts", one.lead_id),
            &token,
        )
        .await;
    let transcript = &transcripts.body["items"][0];
    assert!(
        transcript["call_duration"]
            .as_f64()
            .is_some_and(|d| d > 10.0),
        "{transcript}"
    );
    // The promised time, local to Mumbai, is the callback's time.
    let promised: jiff::civil::DateTime = transcript["structured_data"]["callback_time"]
        .as_str()
        .expect("callback time")
        .parse()
        .expect("local time");
    let promised = jiff::tz::TimeZone::get("Asia/Kolkata")
        .expect("zone")
        .to_timestamp(promised)
        .expect("instant");
    assert_eq!(lead.body["callback_scheduled_at"], promised.to_string());
}

/// VAPI busy or down on every try of a dial: nobody was called, so the lead
/// keeps its attempt and is dialled again seconds later.
#[tokio::test]
async fn a_call_vapi_cannot_take_now_waits_with_its_attempt_unused() {
    let (calling, vapi) = vapi_app(FakeVapiOptions {
        scripted: vec![(StatusCode::BAD_GATEWAY, "Bad Gateway".into()); 3],
        ..FakeVapiOptions::default()
    })
    .await;
    let one = calling.one_lead_campaign().await;
    let path = format!("/api/v1/leads/{}", one.lead_id);
    let before = calling.api.get(&path, &one.token).await.body;
    start(&calling, &one.campaign_id, &one.token).await;
    run_for_seconds(&calling, 2).await;
    assert_eq!(vapi.received().len(), 3, "three tries");
    assert!(vapi.accepted().is_empty());
    let lead = calling.api.get(&path, &one.token).await.body;
    assert_eq!(lead["call_attempts"], 0, "no attempt used: {lead}");
    assert_eq!(lead["status"], before["status"], "{lead}");
    let timeline = calling
        .api
        .get(&format!("{path}/timeline?limit=50"), &one.token)
        .await;
    assert!(
        timeline.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reason"]
                .as_str()
                .is_some_and(|r| r.contains("not placed"))),
        "{}",
        timeline.body
    );
    run_for(&calling, 1).await;
    assert_eq!(vapi.accepted().len(), 1, "dialled again");
    run_for(&calling, 5).await;
    let lead = calling.api.get(&path, &one.token).await.body;
    assert_eq!(lead["call_attempts"], 1, "{lead}");
}

/// VAPI down through every wait of a dial (some ten minutes): the attempt
/// ends as a failed call and is retried after the campaign's interval.
#[tokio::test]
async fn a_call_vapi_keeps_failing_ends_as_failed_and_is_retried_later() {
    let (calling, vapi) = vapi_app(FakeVapiOptions {
        scripted: vec![(StatusCode::BAD_GATEWAY, "Bad Gateway".into()); 3 * 8],
        ..FakeVapiOptions::default()
    })
    .await;
    let one = calling.one_lead_campaign().await;
    start(&calling, &one.campaign_id, &one.token).await;
    run_for(&calling, 12).await;
    assert_eq!(vapi.received().len(), 24, "eight deliveries of three tries");
    let lead = calling
        .api
        .get(&format!("/api/v1/leads/{}", one.lead_id), &one.token)
        .await;
    assert_eq!(lead.body["status"], "call_failed", "{}", lead.body);
    assert_eq!(lead.body["call_attempts"], 1, "{}", lead.body);
    let retry: jiff::Timestamp = lead.body["next_call_at"].as_str().unwrap().parse().unwrap();
    assert!(
        retry > calling.clock_now(),
        "retried after the campaign's 15 minutes: {}",
        lead.body
    );
    run_for(&calling, 20).await;
    assert_eq!(vapi.accepted().len(), 1, "the retry went out");
}

#[tokio::test]
async fn a_call_vapi_refuses_fails_its_lead_for_good_and_tells_people_once_per_cause() {
    let refusal = "customer.number must be a valid phone number in the E.164 format";
    let (calling, vapi) = vapi_app(FakeVapiOptions {
        scripted: vec![(StatusCode::BAD_REQUEST, refusal.into()); 3],
        ..FakeVapiOptions::default()
    })
    .await;
    let (_, token) = calling
        .api
        .organisation("Skyline Estates", "asha@skyline.in", "sea-facing-4bhk")
        .await;
    let campaign = calling
        .api
        .post(
            "/api/v1/campaigns",
            Some(&token),
            json!({ "name": "Bandra Bungalows", "settings": { "max_concurrent_calls": 3 } }),
        )
        .await;
    let campaign_id = campaign.body["id"].as_str().expect("id").to_owned();
    let mut ids = Vec::new();
    for i in 0..3 {
        let lead = calling.api.lead(&token, json!({ "contact_person": format!("Lead {i}"), "phone_number": format!("+91 98200 3{i:04}"), "campaign_id": campaign_id })).await;
        ids.push(lead["id"].as_str().expect("id").to_owned());
    }
    start(&calling, &campaign_id, &token).await;
    run_for(&calling, 60).await;
    let token = calling
        .api
        .token("asha@skyline.in", "sea-facing-4bhk")
        .await;
    assert_eq!(vapi.received().len(), 3, "a refusal is not tried again");
    for id in &ids {
        let lead = calling
            .api
            .get(&format!("/api/v1/leads/{id}"), &token)
            .await;
        assert_eq!(lead.body["status"], "call_failed", "{}", lead.body);
        assert!(lead.body["next_call_at"].is_null(), "{}", lead.body);
        let timeline = calling
            .api
            .get(&format!("/api/v1/leads/{id}/timeline"), &token)
            .await;
        assert!(
            timeline.body.to_string().contains(refusal),
            "VAPI's words are on the timeline: {}",
            timeline.body
        );
    }
    let notifications = calling.api.get("/api/v1/notifications", &token).await;
    let technical: Vec<&Value> = notifications.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|n| n["type"] == "technical_issue")
        .collect();
    assert_eq!(
        technical.len(),
        1,
        "one per campaign and cause: {technical:?}"
    );
    assert_eq!(technical[0]["campaign_id"], campaign_id.as_str());
    assert!(
        technical[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains(refusal))
    );
}

#[tokio::test]
async fn a_refused_api_key_pauses_calling_for_the_organisation_and_charges_no_attempt() {
    let (calling, vapi) = vapi_app(FakeVapiOptions {
        api_key: "another-key".into(),
        ..FakeVapiOptions::default()
    })
    .await;
    let (_, token) = calling
        .api
        .organisation("Skyline Estates", "asha@skyline.in", "sea-facing-4bhk")
        .await;
    let mut campaigns = Vec::new();
    for (name, phone) in [
        ("Juhu Villas", "+91 98200 40001"),
        ("Worli Towers", "+91 98200 40002"),
    ] {
        let campaign = calling
            .api
            .post("/api/v1/campaigns", Some(&token), json!({ "name": name }))
            .await;
        let campaign_id = campaign.body["id"].as_str().expect("id").to_owned();
        calling.api.lead(&token, json!({ "contact_person": "Meera Shah", "phone_number": phone, "campaign_id": campaign_id })).await;
        start(&calling, &campaign_id, &token).await;
        campaigns.push(campaign_id);
    }
    run_for(&calling, 10).await;
    assert!(!vapi.received().is_empty());
    assert!(vapi.accepted().is_empty());
    for id in &campaigns {
        let campaign = calling
            .api
            .get(&format!("/api/v1/campaigns/{id}"), &token)
            .await;
        assert_eq!(campaign.body["status"], "paused", "{}", campaign.body);
        assert!(
            campaign.body["paused_reason"]
                .as_str()
                .is_some_and(|r| r.contains("API key")),
            "{}",
            campaign.body
        );
    }
    let leads = calling.api.get("/api/v1/leads", &token).await;
    for lead in leads.body["items"].as_array().expect("items") {
        assert_eq!(lead["status"], "to_call", "{lead}");
        assert_eq!(lead["call_attempts"], 0, "no attempt charged: {lead}");
    }
    let notifications = calling.api.get("/api/v1/notifications", &token).await;
    let alerts = notifications.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|n| n["type"] == "system_alert")
        .count();
    assert_eq!(alerts, 1, "{}", notifications.body);
    let status = calling.api.get("/api/v1/calling/status", &token).await;
    assert_eq!(status.body["live_calls"], 0, "{}", status.body);
}

/// A report without structured data (VAPI's analysis plan gave none): the
/// outcome comes from Soraaya's own reading of the words. A callback said
/// as "tomorrow at 6 pm" is booked for then, in the lead's time zone, and
/// the lead's score is this call's.
#[tokio::test]
async fn a_report_without_structured_data_is_decided_on_the_words() {
    let calling = calling_app().await;
    let one = calling.one_lead_campaign().await;
    calling.simulator.force([Scenario::NoAnswer]);
    start(&calling, &one.campaign_id, &one.token).await;
    run_for_seconds(&calling, 1).await;
    let call_id = calling.simulator.placed()[0].call_id.clone();
    let meta = json!({ "org_id": one.org_id, "lead_id": one.lead_id, "campaign_id": one.campaign_id, "attempt": 1, "customer_time_zone": "Asia/Kolkata" });
    let post = |body: Value| {
        let request = Request::post("/api/v1/webhooks/vapi")
            .header("content-type", "application/json")
            .header("x-vapi-secret", WEBHOOK_SECRET)
            .body(body.to_string().into())
            .expect("request");
        calling.api.send(request)
    };
    let lines = [
        ("bot", "What budget do you have in mind for the new home?"),
        (
            "user",
            "Around eight crore, in Worli. I decide, and we pay from our own funds.",
        ),
        (
            "bot",
            "Wonderful. Is now a good time to go through the options?",
        ),
        (
            "user",
            "I am driving right now. Call me tomorrow at 6 pm, please.",
        ),
    ];
    let messages: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (role, text))| json!({ "role": role, "message": text, "secondsFromStart": 3.0 + 9.0 * i as f64 }))
        .collect();
    let now = calling.clock_now();
    let report = json!({ "message": {
        "type": "end-of-call-report", "endedReason": "customer-ended-call",
        "call": { "id": call_id, "startedAt": now.to_string(), "endedAt": now.to_string() },
        "assistant": { "metadata": meta },
        "durationSeconds": 40.0, "cost": 0.08,
        "artifact": { "messages": messages },
        "analysis": { "summary": "Asked to be called back tomorrow evening." },
    } });
    let answer = post(report).await;
    assert!(answer.status.is_success(), "{}", answer.body);

    let lead = calling
        .api
        .get(&format!("/api/v1/leads/{}", one.lead_id), &one.token)
        .await;
    assert_eq!(lead.body["status"], "callback_requested", "{}", lead.body);
    let zone = jiff::tz::TimeZone::get("Asia/Kolkata").expect("zone");
    let tomorrow = zone.to_datetime(now).date().tomorrow().expect("tomorrow");
    let promised = zone
        .to_timestamp(tomorrow.at(18, 0, 0, 0))
        .expect("instant");
    assert_eq!(lead.body["callback_scheduled_at"], promised.to_string());
    assert_eq!(lead.body["budget_range_max"], 80_000_000, "{}", lead.body);
    assert_eq!(lead.body["decision_maker_role"], "decision maker");
    let transcripts = calling
        .api
        .get(
            &format!("/api/v1/leads/{}/transcripts", one.lead_id),
            &one.token,
        )
        .await;
    let transcript = &transcripts.body["items"][0];
    assert_eq!(transcript["structured_data"], json!({}));
    let score = transcript["qualification_score"].as_u64().expect("scored");
    assert_eq!(lead.body["qualification_score"], score);
    assert_eq!(
        transcript["analysis"]["qualification"]["score"], score,
        "the stored breakdown adds up to the lead's score: {transcript}"
    );
}
