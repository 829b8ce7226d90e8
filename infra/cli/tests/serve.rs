//! `soraaya serve` as a real process: first start, and durability across kill -9.

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
#[allow(clippy::zombie_processes)]
fn start(data_dir: &Path, admin: Option<(&str, &str)>) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_soraaya"));
    command
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
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
