//! Sign-in under abuse, on a real `soraaya serve` process over loopback:
//! 200 concurrent failed logins across 200 accounts from one address, then
//! the owner of an account signing in from another address.
//!
//!     cargo build --release -p soraaya-cli
//!     cargo run --release -p soraaya-bench --bin login-load
//!
//! Prints what the burst got (each login is limited: 401 while the address
//! is under its limit, then 429, or 503 when every hasher stays busy), the
//! server's resident memory before, at its peak and 10 s after the burst
//! (targets: peak ≤ 300 MB, after within 30 MB of before), and whether the
//! owner still signs in from 127.0.0.2.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark stops on the first failure

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ACCOUNTS: usize = 200;
const OWNER: &str = "owner@bench.local";
const OWNER_PASSWORD: &str = "bench owner password";

/// Resident memory of a process, in MB.
fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .expect("VmRSS");
    kb / 1024.0
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(data_dir: &std::path::Path) -> Server {
    let binary = std::env::current_exe()
        .expect("this binary")
        .with_file_name("soraaya");
    assert!(
        binary.exists(),
        "{} is missing: cargo build --release -p soraaya-cli",
        binary.display()
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port();
    let child = Command::new(binary)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data_dir)
        .env("SORAAYA_ADMIN_EMAIL", OWNER)
        .env("SORAAYA_ADMIN_PASSWORD", OWNER_PASSWORD)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start soraaya serve");
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

fn client_from(address: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(address))
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

async fn login(client: &reqwest::Client, base: &str, email: &str, password: &str) -> (u16, Value) {
    let response = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("login request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::main]
async fn main() {
    let data_dir = tempfile::tempdir().expect("data dir");
    let server = start_server(data_dir.path());
    let pid = server.child.id();
    let base = server.base.clone();
    let attacker = client_from(Ipv4Addr::new(127, 0, 0, 1));
    let started = Instant::now();
    while attacker.get(format!("{base}/health")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // 200 accounts, made by the owner (from an address of their own).
    let office = client_from(Ipv4Addr::new(127, 0, 0, 3));
    let (status, body) = login(&office, &base, OWNER, OWNER_PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    for chunk in (0..ACCOUNTS).collect::<Vec<_>>().chunks(4) {
        let requests = chunk.iter().map(|i| {
            office
                .post(format!("{base}/api/v1/users"))
                .bearer_auth(&token)
                .json(&json!({ "email": format!("agent{i}@bench.local"), "full_name": format!("Agent {i}"), "role": "agent", "password": format!("agent {i} password") }))
                .send()
        });
        for response in futures::future::join_all(requests).await {
            assert_eq!(response.expect("create user").status(), 201);
        }
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = rss_mb(pid);

    // Peak memory, sampled while the burst runs.
    let peak = Arc::new(AtomicU64::new(before.to_bits()));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (Arc::clone(&peak), Arc::clone(&sampling));
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                let now = rss_mb(pid);
                if now > f64::from_bits(peak.load(Ordering::Relaxed)) {
                    peak.store(now.to_bits(), Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let burst = Instant::now();
    let logins = (0..ACCOUNTS).map(|i| {
        let attacker = attacker.clone();
        let base = base.clone();
        tokio::spawn(async move {
            login(
                &attacker,
                &base,
                &format!("agent{i}@bench.local"),
                "wrong guess",
            )
            .await
            .0
        })
    });
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for task in logins.collect::<Vec<_>>() {
        *statuses.entry(task.await.expect("login task")).or_default() += 1;
    }
    let burst_time = burst.elapsed();
    sampling.store(false, Ordering::Relaxed);
    sampler.await.expect("sampler");
    let peak = f64::from_bits(peak.load(Ordering::Relaxed));
    tokio::time::sleep(Duration::from_secs(10)).await;
    let after = rss_mb(pid);

    let owner = client_from(Ipv4Addr::new(127, 0, 0, 2));
    let (owner_status, _) = login(&owner, &base, OWNER, OWNER_PASSWORD).await;

    let limited: usize = statuses
        .iter()
        .filter(|(s, _)| matches!(**s, 429 | 503))
        .map(|(_, n)| n)
        .sum();
    println!(
        "login-load: {ACCOUNTS} concurrent failed logins over {ACCOUNTS} accounts from 127.0.0.1, on soraaya serve"
    );
    println!(
        "  answers     {}   ({limited} limited) in {:.1} s",
        statuses
            .iter()
            .map(|(s, n)| format!("{s}: {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        burst_time.as_secs_f64()
    );
    println!(
        "  server RSS  before {before:.1} MB   peak {peak:.1} MB (target ≤ 300: {})   10 s after {after:.1} MB ({:+.1} MB; target within 30: {})",
        if peak <= 300.0 { "met" } else { "MISSED" },
        after - before,
        if (after - before).abs() <= 30.0 {
            "met"
        } else {
            "MISSED"
        },
    );
    println!(
        "  owner from 127.0.0.2: {owner_status} ({})",
        if owner_status == 200 {
            "signs in"
        } else {
            "LOCKED OUT"
        }
    );
    println!(
        "  server error answers: {}",
        statuses
            .iter()
            .filter(|(s, _)| **s >= 500 && **s != 503)
            .map(|(_, n)| n)
            .sum::<usize>()
    );
}
