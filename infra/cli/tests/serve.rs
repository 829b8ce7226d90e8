//! `soraaya serve` as a real process: first start, durability across kill -9,
//! and the demo campaign called through from curl-like requests.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

struct Server {
    child: Child,
    base: String,
    lines: Vec<String>,
}

/// Starts `soraaya serve` on a free port and waits until it serves. The
/// process is killed and reaped when the `Server` drops, even if a test fails.
fn start(data_dir: &Path, admin: Option<(&str, &str)>) -> Server {
    start_with(data_dir, admin, &[], &[])
}

/// `start`, with more arguments and environment.
#[allow(clippy::zombie_processes)]
fn start_with(
    data_dir: &Path,
    admin: Option<(&str, &str)>,
    args: &[&str],
    env: &[(&str, &str)],
) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_soraaya"));
    command
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(args)
        .envs(env.iter().copied())
        .env_remove("SORAAYA_VAPI_API_KEY")
        .env_remove("SORAAYA_ADMIN_EMAIL")
        .env_remove("SORAAYA_ADMIN_PASSWORD")
        .env_remove("SORAAYA_JWT_SECRET")
        .env_remove("AWS_ENDPOINT_URL_DYNAMODB")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some((email, password)) = admin {
        command
            .env("SORAAYA_ADMIN_EMAIL", email)
            .env("SORAAYA_ADMIN_PASSWORD", password);
    }
    let mut child = command.spawn().expect("spawn soraaya serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("soraaya serve printed its address within 30 s");
        lines.push(line.clone());
        if let Some(rest) = line.strip_prefix("Soraaya is serving ") {
            let base = rest.split_whitespace().next().expect("address").to_owned();
            return Server { child, base, lines };
        }
    }
}

impl Server {
    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let mut request = reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let response = reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn login(&self, email: &str, password: &str) -> (u16, Value) {
        self.post(
            "/api/v1/auth/login",
            None,
            json!({ "email": email, "password": password }),
        )
        .await
    }

    /// SIGKILL: no shutdown hooks, no flush.
    fn kill_9(self) {
        drop(self);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_user_created_over_the_api_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), Some(("owner@skyline.in", "owner password 1")));
    assert!(
        server.lines.iter().any(|l| l.contains("First start")),
        "{:?}",
        server.lines
    );
    let (status, login) = server.login("owner@skyline.in", "owner password 1").await;
    assert_eq!(status, 200, "{login}");
    let token = login["access_token"].as_str().unwrap().to_owned();
    let (status, created) = server
        .post(
            "/api/v1/users",
            Some(&token),
            json!({ "email": "ravi@skyline.in", "full_name": "Ravi Mehta", "role": "manager", "password": "worli-sea-link-1" }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    server.kill_9();

    let server = start(
        dir.path(),
        Some(("someone-else@skyline.in", "other password 1")),
    );
    assert!(
        !server.lines.iter().any(|l| l.contains("First start")),
        "bootstrap ran twice"
    );
    let (status, body) = server.login("ravi@skyline.in", "worli-sea-link-1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["role"], "manager");
    let (status, _) = server.login("owner@skyline.in", "owner password 1").await;
    assert_eq!(status, 200);
    // Tokens issued before the crash still verify: the signing secret was kept.
    let (status, _) = server
        .post("/api/v1/auth/logout", Some(&token), json!({}))
        .await;
    assert_eq!(status, 204);
    server.kill_9();
}

#[tokio::test]
async fn first_start_without_credentials_prints_a_generated_password_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), None);
    let password = server
        .lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("admin password: "))
        .expect("the generated password is printed")
        .to_owned();
    assert!(
        server
            .lines
            .iter()
            .any(|l| l.contains("admin@soraaya.local"))
    );
    let (status, body) = server.login("admin@soraaya.local", &password).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = server
        .login("admin@soraaya.local", "not the password")
        .await;
    assert_eq!(status, 401);
    server.kill_9();

    let server = start(dir.path(), None);
    assert!(
        !server.lines.iter().any(|l| l.contains("admin password")),
        "printed twice"
    );
    server.kill_9();
}

/// The README's walkthrough: `serve --demo`, sign in, start the demo
/// campaign; simulated calls run to their end, and transcripts, statuses and
/// notifications appear through the API.
#[tokio::test]
async fn the_demo_campaign_calls_its_leads_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_with(
        dir.path(),
        Some(("owner@skyline.in", "owner password 1")),
        // 11:30 in Mumbai: inside the campaign's 09:00-21:00.
        &[
            "--demo",
            "--sim-call-seconds",
            "2",
            "--sim-seed",
            "1",
            "--sim-clock-start",
            "2026-11-24T06:00:00Z",
        ],
        &[("SORAAYA_NO_SLOT_RETRY_SECONDS", "1")],
    );
    let (_, login) = server.login("owner@skyline.in", "owner password 1").await;
    let token = login["access_token"].as_str().unwrap().to_owned();
    let (status, campaigns) = server.get("/api/v1/campaigns?status=draft", &token).await;
    assert_eq!(status, 200, "{campaigns}");
    let campaign = &campaigns["items"][0];
    let id = campaign["id"]
        .as_str()
        .expect("the demo campaign")
        .to_owned();
    let (status, preflight) = server
        .get(&format!("/api/v1/campaigns/{id}/preflight"), &token)
        .await;
    assert_eq!(status, 200);
    let to_dial = preflight["dial_now"].as_u64().unwrap();
    assert!(to_dial >= 10, "{preflight}");
    let (status, started) = server
        .post(
            &format!("/api/v1/campaigns/{id}/start"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{started}");

    let mut performance = Value::Null;
    for _ in 0..120 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        performance = server
            .get(&format!("/api/v1/campaigns/{id}/performance"), &token)
            .await
            .1;
        if performance["calls"]["completed"].as_u64() >= Some(to_dial)
            && performance["live_calls"] == 0
        {
            break;
        }
    }
    assert_eq!(
        performance["calls"]["completed"].as_u64(),
        Some(to_dial),
        "{performance}"
    );

    let (_, leads) = server
        .get(&format!("/api/v1/leads?campaign_id={id}&limit=100"), &token)
        .await;
    let leads = leads["items"].as_array().expect("leads");
    assert!(
        leads
            .iter()
            .all(|l| l["status"] != "calling" && l["status"] != "in_call")
    );
    let called: Vec<&Value> = leads.iter().filter(|l| l["call_attempts"] == 1).collect();
    assert_eq!(called.len() as u64, to_dial);
    assert!(
        leads.iter().any(|l| l["status"] == "qualified"),
        "some demo lead qualifies"
    );
    let lead_id = called[0]["id"].as_str().unwrap();
    let (status, transcripts) = server
        .get(&format!("/api/v1/leads/{lead_id}/transcripts"), &token)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        transcripts["items"].as_array().map(Vec::len),
        Some(1),
        "{transcripts}"
    );
    // Conversations are random per lead: whichever lead a call qualified
    // has its notification for a person.
    let (_, notifications) = server.get("/api/v1/notifications?limit=200", &token).await;
    let notifications = notifications["items"].as_array().expect("notifications");
    for lead in called.iter().filter(|l| l["status"] == "qualified") {
        assert!(
            notifications
                .iter()
                .any(|n| n["type"] == "qualified_lead" && n["lead_id"] == lead["id"]),
            "no notification for qualified lead {}: {notifications:?}",
            lead["id"]
        );
    }
    server.kill_9();
}

/// kill -9 in the middle of a campaign, with calls on the line and dials
/// waiting for a slot: after the restart the queue resumes at once, the
/// calls that were live are settled without using the leads' attempts, and
/// every lead is called to the end with the cap held.
#[tokio::test]
async fn a_campaign_killed_mid_call_resumes_without_losing_or_charging_anything() {
    let dir = tempfile::tempdir().unwrap();
    let owner = ("owner@skyline.in", "owner password 1");
    let server = start_with(
        dir.path(),
        Some(owner),
        // Long calls: some are surely on the line at the kill.
        &[
            "--demo",
            "--sim-call-seconds",
            "60",
            "--sim-seed",
            "3",
            "--sim-clock-start",
            "2026-11-24T06:00:00Z",
        ],
        &[("SORAAYA_NO_SLOT_RETRY_SECONDS", "1")],
    );
    let (_, login) = server.login(owner.0, owner.1).await;
    let token = login["access_token"].as_str().unwrap().to_owned();
    let (_, campaigns) = server.get("/api/v1/campaigns?status=draft", &token).await;
    let id = campaigns["items"][0]["id"].as_str().unwrap().to_owned();
    let cap = campaigns["items"][0]["settings"]["max_concurrent_calls"]
        .as_u64()
        .unwrap();
    let (_, preflight) = server
        .get(&format!("/api/v1/campaigns/{id}/preflight"), &token)
        .await;
    let to_dial = preflight["dial_now"].as_u64().unwrap();
    let (status, _) = server
        .post(
            &format!("/api/v1/campaigns/{id}/start"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    // Kill once every slot is taken: with 60-second calls none ends and the
    // cap lets none start before the kill, so the count read is the count
    // killed (reading it while slots still fill would race the dialer).
    let full = cap.min(to_dial);
    let mut live_at_kill = 0;
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (_, performance) = server
            .get(&format!("/api/v1/campaigns/{id}/performance"), &token)
            .await;
        live_at_kill = performance["live_calls"].as_u64().unwrap_or(0);
        if live_at_kill == full {
            break;
        }
    }
    assert_eq!(live_at_kill, full, "the slots did not fill before the kill");
    server.kill_9();

    // Back, with short calls now, a few minutes later on the clock.
    let server = start_with(
        dir.path(),
        None,
        &[
            "--sim-call-seconds",
            "2",
            "--sim-seed",
            "4",
            "--sim-clock-start",
            "2026-11-24T06:05:00Z",
        ],
        &[("SORAAYA_NO_SLOT_RETRY_SECONDS", "1")],
    );
    let (_, login) = server.login(owner.0, owner.1).await;
    let token = login["access_token"].as_str().unwrap().to_owned();
    let called_once = |leads: &[Value]| {
        leads
            .iter()
            .filter(|l| {
                l["status"] != "calling" && l["status"] != "in_call" && l["call_attempts"] == 1
            })
            .count() as u64
    };
    let mut leads = Vec::new();
    for _ in 0..240 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (_, performance) = server
            .get(&format!("/api/v1/campaigns/{id}/performance"), &token)
            .await;
        assert!(
            performance["live_calls"].as_u64().unwrap_or(0) <= cap,
            "over the cap: {performance}"
        );
        let (_, listed) = server
            .get(&format!("/api/v1/leads?campaign_id={id}&limit=100"), &token)
            .await;
        leads = listed["items"].as_array().cloned().unwrap_or_default();
        if called_once(&leads) == to_dial && performance["live_calls"] == 0 {
            break;
        }
    }
    assert_eq!(
        called_once(&leads),
        to_dial,
        "every lead called once, the cut-off calls not counted: {leads:?}"
    );
    // The cut-off calls say so on their leads' timelines.
    let mut cut_off = 0;
    for lead in &leads {
        let (_, timeline) = server
            .get(
                &format!(
                    "/api/v1/leads/{}/timeline?limit=50",
                    lead["id"].as_str().unwrap()
                ),
                &token,
            )
            .await;
        let items = timeline["items"].as_array().cloned().unwrap_or_default();
        if items.iter().any(|e| {
            e["reason"]
                .as_str()
                .is_some_and(|r| r.contains("cut off when the process restarted"))
        }) {
            cut_off += 1;
        }
    }
    assert_eq!(
        cut_off, live_at_kill,
        "each call live at the kill was settled"
    );
    server.kill_9();
}
