//! Forgotten passwords and forced resets: the email, the link used once
//! within its time, sessions ended, and nothing told about other accounts.

use jiff::SignedDuration;
use serde_json::json;
use soraaya_core::Clock;
use soraaya_tests::{PUBLIC_URL, TestApp, TestResponse};

const AGENT: &str = "ravi@skyline.in";
const AGENT_PASSWORD: &str = "worli-sea-link-1";
const NEW_PASSWORD: &str = "bandra-bandstand-7";

/// Skyline Estates with an admin and the agent Ravi; the admin's token and Ravi's id.
async fn skyline(t: &TestApp) -> (String, String) {
    let (_, admin) = t
        .organisation("Skyline Estates", "asha@skyline.in", "skyline admin pass")
        .await;
    let ravi = t.user(&admin, AGENT, "agent", AGENT_PASSWORD).await;
    (admin, ravi)
}

async fn forgot(t: &TestApp, email: &str) -> TestResponse {
    t.post(
        "/api/v1/auth/forgot-password",
        None,
        json!({ "email": email }),
    )
    .await
}

async fn reset(t: &TestApp, token: &str, password: &str) -> TestResponse {
    t.post(
        "/api/v1/auth/reset-password",
        None,
        json!({ "token": token, "password": password }),
    )
    .await
}

/// The message of the field error on `field`.
fn field_error(response: &TestResponse, field: &str) -> String {
    response.body["error"]["details"]
        .as_array()
        .and_then(|details| details.iter().find(|d| d["field"] == field))
        .and_then(|d| d["message"].as_str())
        .unwrap_or_else(|| panic!("no error on {field}: {}", response.body))
        .to_owned()
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_the_emailed_link_once() {
    let t = TestApp::new().await;
    skyline(&t).await;
    let phone = t.token(AGENT, AGENT_PASSWORD).await;
    let laptop = t.token(AGENT, AGENT_PASSWORD).await;

    let asked = forgot(&t, AGENT).await;
    asked.expect(202);
    let mail = t.mail_to(AGENT);
    assert_eq!(mail.len(), 1);
    let sent = &mail[0].mail;
    assert_eq!(
        sent.from_name, "Skyline Estates",
        "sent in the organisation's name"
    );
    assert!(sent.subject.contains("Skyline Estates"), "{}", sent.subject);
    assert!(sent.text.contains("30 minutes"), "{}", sent.text);
    let token = t.reset_token(AGENT);
    assert!(
        sent.html
            .contains(&format!("{PUBLIC_URL}/reset-password?token={token}")),
        "the HTML part has the same link: {}",
        sent.html
    );

    // The new password meets the policy, and the link is not spent by a refusal.
    let weak = reset(&t, &token, "password123").await;
    weak.expect(422);
    assert!(
        field_error(&weak, "password").contains("common"),
        "{}",
        weak.body
    );

    reset(&t, &token, NEW_PASSWORD).await.expect(204);
    for session in [&phone, &laptop] {
        t.get("/api/v1/auth/me", session).await.expect(401);
    }
    t.login(AGENT, AGENT_PASSWORD).await.expect(401);
    t.login(AGENT, NEW_PASSWORD).await.expect(200);

    let again = reset(&t, &token, "another-long-pass-9").await;
    again.expect(422);
    assert!(
        field_error(&again, "token").contains("already used"),
        "{}",
        again.body
    );
    t.login(AGENT, NEW_PASSWORD).await.expect(200);
}

#[tokio::test]
async fn a_link_expires_after_thirty_minutes_and_a_newer_one_replaces_it() {
    let t = TestApp::new().await;
    skyline(&t).await;
    forgot(&t, AGENT).await.expect(202);
    let first = t.reset_token(AGENT);
    t.clock.advance(SignedDuration::from_mins(31));
    let late = reset(&t, &first, NEW_PASSWORD).await;
    late.expect(422);
    assert!(
        field_error(&late, "token").contains("expired"),
        "{}",
        late.body
    );

    forgot(&t, AGENT).await.expect(202);
    let second = t.reset_token(AGENT);
    forgot(&t, AGENT).await.expect(202);
    let third = t.reset_token(AGENT);
    assert_ne!(second, third);
    let replaced = reset(&t, &second, NEW_PASSWORD).await;
    replaced.expect(422);
    assert!(
        field_error(&replaced, "token").contains("not a valid"),
        "{}",
        replaced.body
    );
    reset(&t, &third, NEW_PASSWORD).await.expect(204);

    // Tokens that are no link's at all.
    for bad in ["", "r1.x.y.z", &third.replace("r1.", "v1.")] {
        let refused = reset(&t, bad, NEW_PASSWORD).await;
        refused.expect(422);
        field_error(&refused, "token");
    }
}

#[tokio::test]
async fn asking_tells_nothing_about_accounts_and_is_limited() {
    let t = TestApp::new().await;
    let (admin, ravi) = skyline(&t).await;
    let known = forgot(&t, AGENT).await;
    let unknown = forgot(&t, "nobody@skyline.in").await;
    known.expect(202);
    unknown.expect(202);
    assert_eq!(known.body, unknown.body, "the same answer, account or not");
    assert!(t.mail_to("nobody@skyline.in").is_empty());
    forgot(&t, "not an email").await.expect(422);

    // A deactivated account gets no link.
    t.patch(
        &format!("/api/v1/users/{ravi}"),
        &admin,
        json!({ "is_active": false }),
    )
    .await
    .expect(200);
    let before = t.mail_to(AGENT).len();
    forgot(&t, AGENT).await.expect(202);
    assert_eq!(t.mail_to(AGENT).len(), before);

    // Three links per account in 15 minutes; the fourth request is answered
    // alike and sends nothing.
    let asha = "asha@skyline.in";
    for _ in 0..4 {
        forgot(&t, asha).await.expect(202);
    }
    assert_eq!(t.mail_to(asha).len(), 3);
    t.clock.advance(SignedDuration::from_mins(16));
    forgot(&t, asha).await.expect(202);
    assert_eq!(t.mail_to(asha).len(), 4);

    // Ten requests per address, over any emails.
    let from = |email: String| {
        let peer: std::net::SocketAddr = "203.0.113.9:50000".parse().unwrap();
        axum::http::Request::post("/api/v1/auth/forgot-password")
            .header("content-type", "application/json")
            .extension(axum::extract::ConnectInfo(peer))
            .body(axum::body::Body::from(
                json!({ "email": email }).to_string(),
            ))
            .unwrap()
    };
    for i in 0..10 {
        t.send(from(format!("guess{i}@skyline.in")))
            .await
            .expect(202);
    }
    let refused = t.send(from("guess10@skyline.in".into())).await;
    refused.expect(429);
    assert!(refused.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn an_admin_forces_a_reset_and_only_an_admin_of_the_organisation() {
    let t = TestApp::new().await;
    let (admin, ravi) = skyline(&t).await;
    let manager_id = t
        .user(&admin, "meera@skyline.in", "manager", "marine-drive-22")
        .await;
    let manager = t.token("meera@skyline.in", "marine-drive-22").await;
    let agent = t.token(AGENT, AGENT_PASSWORD).await;
    let path = format!("/api/v1/users/{ravi}/reset-password");
    t.post(&path, Some(&agent), json!({})).await.expect(403);
    t.post(&path, Some(&manager), json!({})).await.expect(403);
    let (_, other_admin) = t
        .organisation("Harbour Homes", "farah@harbour.in", "harbour admin pass")
        .await;
    t.post(&path, Some(&other_admin), json!({}))
        .await
        .expect(404);
    assert!(t.mail_to(AGENT).is_empty());

    let forced = t.post(&path, Some(&admin), json!({})).await;
    forced.expect(202);
    let expires: jiff::Timestamp = forced.body["link_expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(expires, t.clock.now() + SignedDuration::from_hours(24));
    t.get("/api/v1/auth/me", &agent).await.expect(401);
    t.login(AGENT, AGENT_PASSWORD).await.expect(401);
    let mail = t.mail_to(AGENT);
    assert!(
        mail[0].mail.text.contains("administrator"),
        "{}",
        mail[0].mail.text
    );
    assert!(
        mail[0].mail.text.contains("24 hours"),
        "{}",
        mail[0].mail.text
    );

    // Still good the next morning.
    t.clock.advance(SignedDuration::from_hours(20));
    reset(&t, &t.reset_token(AGENT), NEW_PASSWORD)
        .await
        .expect(204);
    t.login(AGENT, NEW_PASSWORD).await.expect(200);

    // A deactivated user is reactivated first.
    let admin = t.token("asha@skyline.in", "skyline admin pass").await;
    t.patch(
        &format!("/api/v1/users/{manager_id}"),
        &admin,
        json!({ "is_active": false }),
    )
    .await
    .expect(200);
    let deactivated = t
        .post(
            &format!("/api/v1/users/{manager_id}/reset-password"),
            Some(&admin),
            json!({}),
        )
        .await;
    deactivated.expect(409);
    assert_eq!(deactivated.code(), "user_deactivated");
}

#[tokio::test]
async fn changing_the_password_ends_an_outstanding_link() {
    let t = TestApp::new().await;
    skyline(&t).await;
    forgot(&t, AGENT).await.expect(202);
    let token = t.reset_token(AGENT);
    let session = t.token(AGENT, AGENT_PASSWORD).await;
    t.post(
        "/api/v1/auth/change-password",
        Some(&session),
        json!({ "current_password": AGENT_PASSWORD, "new_password": NEW_PASSWORD }),
    )
    .await
    .expect(204);
    reset(&t, &token, "another-long-pass-9").await.expect(422);
    t.login(AGENT, NEW_PASSWORD).await.expect(200);
}

/// Without a working mail service a forced reset changes nothing, and a
/// forgotten-password request is still answered alike.
#[tokio::test]
async fn a_reset_whose_email_cannot_be_sent_changes_nothing() {
    use std::sync::Arc;
    let clock = Arc::new(soraaya_core::ManualClock::at(soraaya_tests::start_time()));
    let mut config =
        soraaya_core::Config::with_secret("integration-test-secret-".repeat(3)).unwrap();
    config.calling.public_url = Some(PUBLIC_URL.into());
    let app = Arc::new(soraaya_core::App::with_clock(
        config,
        soraaya_tests::embedded_store(),
        clock.clone(),
    ));
    let t = TestApp::from_app(app, clock);
    let (admin, ravi) = skyline(&t).await;
    let agent = t.token(AGENT, AGENT_PASSWORD).await;
    forgot(&t, AGENT).await.expect(202);
    t.post(
        &format!("/api/v1/users/{ravi}/reset-password"),
        Some(&admin),
        json!({}),
    )
    .await
    .expect(503);
    t.get("/api/v1/auth/me", &agent).await.expect(200);
    t.login(AGENT, AGENT_PASSWORD).await.expect(200);
}
