//! How well the calling engine keeps a campaign's live-call slots busy, in
//! release mode, on the embedded store and the in-process dial queue, with
//! the voice simulator on a hand-moved clock (no real time passes in calls):
//!
//!     cargo run --release -p soraaya-bench --bin calling-bench             # 10,000 leads, cap 100
//!     cargo run --release -p soraaya-bench --bin calling-bench -- 2000 20  # leads, cap
//!
//! Every simulated call lasts 45 s. Until the last first attempt is placed the
//! campaign has a backlog, so ideally every slot is busy: the ideal time for
//! the calls placed by then is ⌈calls ÷ cap⌉ × 45 s. Prints the slot
//! utilisation (ideal ÷ actual), the peak of live calls, dial messages handled
//! per call placed (the cost of waiting for a slot), and wall time per call.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark stops on the first failure

use std::time::Instant;

use jiff::SignedDuration;
use serde_json::json;
use soraaya_local::simulator::SimulatorConfig;
use soraaya_tests::calling::CallingOptions;
use soraaya_tests::{TestApp, embedded_store};

const CALL_SECONDS: u32 = 45;

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .map(|a| a.parse().expect("a number"))
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let leads = arg(1, 10_000);
    let cap = arg(2, 100);
    let calling = TestApp::calling(
        embedded_store(),
        CallingOptions {
            simulator: SimulatorConfig {
                call_seconds: CALL_SECONDS,
                seed: 7,
                fixed_length: true,
            },
            org_cap: u32::try_from(cap).expect("a small cap"),
            ..CallingOptions::default()
        },
    )
    .await;
    let (_, token) = calling
        .api
        .organisation("Bench Estates", "bench@estates.in", "bench-password-1")
        .await;
    let campaign = calling
        .api
        .post(
            "/api/v1/campaigns",
            Some(&token),
            json!({ "name": "Bench", "settings": { "max_concurrent_calls": cap, "window": { "start": "09:00", "end": "21:00" } } }),
        )
        .await;
    campaign.expect(201);
    let campaign_id = campaign.body["id"].as_str().expect("id").to_owned();
    let mut csv = String::from("name,phone,city,campaign_id\n");
    for i in 0..leads {
        csv.push_str(&format!(
            "Lead {i},+91 98{:08},Mumbai,{campaign_id}\n",
            10_000_000 + i
        ));
    }
    let import = calling
        .api
        .post_raw("/api/v1/leads/import", &token, "text/csv", csv)
        .await;
    import.expect(200);
    assert_eq!(import.body["imported"], leads, "{}", import.body);

    let start = calling.clock_now();
    let wall = Instant::now();
    calling
        .api
        .post(
            &format!("/api/v1/campaigns/{campaign_id}/start"),
            Some(&token),
            json!({}),
        )
        .await
        .expect(200);
    // The first wave needs ⌈leads ÷ cap⌉ × 45 s; retries come later.
    let first_wave = SignedDuration::from_secs(
        i64::try_from(leads.div_ceil(cap)).expect("small") * i64::from(CALL_SECONDS),
    );
    let mut peak = 0;
    let tick = calling
        .run_until(
            start + first_wave * 2 + SignedDuration::from_mins(10),
            |c| {
                peak = peak.max(c.simulator.live());
            },
        )
        .await;
    let wall = wall.elapsed();

    let placed = calling.simulator.placed();
    let last_first = placed
        .iter()
        .filter(|c| c.attempt == 1)
        .map(|c| c.at)
        .max()
        .expect("calls were placed");
    let first_attempts = placed.iter().filter(|c| c.attempt == 1).count();
    let by_then = placed.iter().filter(|c| c.at <= last_first).count();
    let ideal = (by_then.div_ceil(cap) * CALL_SECONDS as usize) as f64;
    let actual = (last_first - start).as_secs_f64() + f64::from(CALL_SECONDS);
    println!("calling-bench: {leads} leads, cap {cap}, {CALL_SECONDS} s calls");
    println!(
        "  first attempts placed: {first_attempts} of {leads}; calls placed by the last of them: {by_then}"
    );
    println!(
        "  backlog phase: {actual:.0} s simulated, ideal {ideal:.0} s -> slot utilisation {:.1} %",
        100.0 * ideal / actual
    );
    println!(
        "  peak live calls: {peak} (simulator's own peak {})",
        calling.simulator.max_live()
    );
    println!(
        "  dial messages handled: {} ({:.2} per call placed); webhooks {}; scheduler runs {}",
        tick.dials,
        tick.dials as f64 / placed.len() as f64,
        tick.webhooks,
        tick.scheduler_runs
    );
    println!(
        "  calls placed in the run: {}; wall {:.1} s ({:.2} ms per call)",
        placed.len(),
        wall.as_secs_f64(),
        wall.as_secs_f64() * 1000.0 / placed.len() as f64
    );
}
