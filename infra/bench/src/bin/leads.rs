//! Lead import and listing figures on the embedded store, through the real
//! HTTP router (in-process), in release mode:
//!
//!     cargo run --release -p soraaya-bench --bin leads-bench            # 100,000 rows
//!     cargo run --release -p soraaya-bench --bin leads-bench -- 20000   # smaller
//!     BENCH_CACHE_MB=64 cargo run --release -p soraaya-bench --bin leads-bench  # store page cache
//!     BENCH_REPEAT_QUERY='search=malabar' …   # after the import, one listing for 60 s (to profile)
//!
//! Import: a generated CSV (15 % duplicate numbers, 5 % invalid rows) goes
//! through the job path (`POST /api/v1/leads/imports`, the upload streamed
//! from disk to its signed URL, the job run from the stored file); prints
//! rows/s and peak RSS. Listing: p50/p95 of several filtered listings at
//! 10,000 leads and at the full size, and their ratio.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark stops on the first failure

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use http_body_util::BodyExt;
use soraaya_accounts::{NewOrganisation, create_organisation, login};
use soraaya_api::{all_routes, router};
use soraaya_core::jobs::JobMessage;
use soraaya_core::{App, Config};
use soraaya_domain::{Email, OrgName, Password, PersonName, Region, TimeZoneName};
use soraaya_domain::{JobId, OrgId};
use soraaya_local::files::{self, LocalBlobs};
use soraaya_local::jobs::LocalJobQueue;
use soraaya_store::EmbeddedStore;

/// The base of signed file URLs (requests go to the router in-process).
const FILES_URL: &str = "http://files.bench";

#[path = "leads/calls.rs"]
mod calls;
use tower::ServiceExt;

const CITIES: [&str; 10] = [
    "Worli",
    "Lower Parel",
    "Bandra West",
    "Juhu",
    "Malabar Hill",
    "Powai",
    "Andheri West",
    "Prabhadevi",
    "Khar",
    "Colaba",
];
const STATUSES: [&str; 6] = [
    "to_call",
    "to_call",
    "qualified",
    "follow_up",
    "not_interested",
    "callback_requested",
];

/// Peak resident memory of this process, from /proc (kB).
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

/// Generates CSV files whose numbers never collide across files.
struct Generator {
    /// Numbers of valid rows written so far, for duplicates to reuse.
    valid: Vec<u64>,
    next_number: u64,
    row: usize,
}

impl Generator {
    /// Writes `rows` rows; with `mixed`, one in twenty is invalid and three in
    /// twenty repeat an earlier valid number (5 % and 15 %).
    fn write(&mut self, path: &std::path::Path, rows: usize, mixed: bool) -> (usize, usize, usize) {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
        writeln!(
            out,
            "Full Name,Mobile,Email,Budget,City,Property Type,Priority,Status"
        )
        .unwrap();
        let (mut unique, mut duplicates, mut invalid) = (0, 0, 0);
        for _ in 0..rows {
            let i = self.row;
            self.row += 1;
            let kind = if mixed { i % 20 } else { 0 };
            let (phone, email) = match kind {
                7 => {
                    invalid += 1;
                    if i % 40 == 7 {
                        ("12345".to_owned(), String::new())
                    } else {
                        self.next_number += 1;
                        (
                            format!("98{:08}", self.next_number),
                            "not-an-email".to_owned(),
                        )
                    }
                }
                1 | 9 | 15 if !self.valid.is_empty() => {
                    duplicates += 1;
                    (
                        format!("98{:08}", self.valid[(i * 7919) % self.valid.len()]),
                        String::new(),
                    )
                }
                _ => {
                    unique += 1;
                    self.next_number += 1;
                    self.valid.push(self.next_number);
                    (
                        format!("98{:08}", self.next_number),
                        format!("buyer{i}@example.in"),
                    )
                }
            };
            let budget = format!("{}.{}-{} Cr", 3 + i % 40, i % 10, 4 + i % 40);
            writeln!(
                out,
                "Buyer {i},{phone},{email},{budget},{},{},{},{}",
                CITIES[i % CITIES.len()],
                ["apartment", "penthouse", "villa"][i % 3],
                ["high", "medium", "low"][i % 3],
                STATUSES[i % STATUSES.len()],
            )
            .unwrap();
        }
        out.flush().unwrap();
        (unique, duplicates, invalid)
    }
}

struct Bench {
    app: Arc<App>,
    router: Router,
    token: String,
}

impl Bench {
    async fn get(&self, path: &str) -> serde_json::Value {
        let request = axum::http::Request::get(path)
            .header("authorization", format!("Bearer {}", self.token))
            .body(Body::empty())
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap()
    }

    async fn send(&self, request: axum::http::Request<Body>) -> serde_json::Value {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        assert!(
            status.is_success(),
            "{status}: {}",
            String::from_utf8_lossy(&bytes)
        );
        serde_json::from_slice(&bytes).unwrap_or_default()
    }

    /// An import job of the file: created, uploaded, run; its counts, and the
    /// time from the upload's start to the job's end.
    async fn import(&self, path: &std::path::Path) -> (serde_json::Value, Duration) {
        let created = self
            .send(
                axum::http::Request::post("/api/v1/leads/imports")
                    .header("authorization", format!("Bearer {}", self.token))
                    .header("content-type", "application/json")
                    .body(Body::from(r#"{"file_name": "bench.csv"}"#))
                    .unwrap(),
            )
            .await;
        let url = created["upload"]["url"].as_str().unwrap();
        let upload = url.strip_prefix(FILES_URL).unwrap();
        let file = tokio::fs::File::open(path).await.unwrap();
        let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024));
        let started = Instant::now();
        self.send(
            axum::http::Request::put(upload)
                .header("content-type", "text/csv")
                .body(body)
                .unwrap(),
        )
        .await;
        let message = JobMessage {
            org_id: OrgId::parse(created["job"]["org_id"].as_str().unwrap()).unwrap(),
            job_id: JobId::parse(created["job"]["id"].as_str().unwrap()).unwrap(),
        };
        soraaya_jobs::runner::run(&self.app, &message, None, 1)
            .await
            .unwrap();
        let elapsed = started.elapsed();
        let job = self
            .get(&format!("/api/v1/leads/imports/{}?limit=1", message.job_id))
            .await;
        assert_eq!(job["status"], "completed", "{job}");
        (job["counts"].clone(), elapsed)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

const SHAPES: [(&str, &str); 9] = [
    ("newest page", "limit=50"),
    ("one status", "status=qualified&limit=50"),
    ("status + priority", "status=to_call&priority=high&limit=50"),
    ("search by place", "search=malabar&limit=50"),
    ("search by phone", "search=98000012&limit=50"),
    ("search by name", "search=Buyer%204242&limit=50"),
    (
        "search + status",
        "search=malabar&status=qualified&limit=50",
    ),
    ("sorted by budget", "status=qualified&sort=-budget&limit=50"),
    ("page 20", "status=to_call&page=20&limit=50"),
];

/// The dashboard's endpoints: counters read, never leads, so their time
/// should not grow with the book.
const DASHBOARD: &[(&str, &str)] = &[
    ("metrics 7d", "/api/v1/dashboard/metrics?date_range=7d"),
    ("metrics 90d", "/api/v1/dashboard/metrics?date_range=90d"),
    ("trends 30 days", "/api/v1/dashboard/trends?days=30"),
    (
        "status distribution",
        "/api/v1/dashboard/status-distribution",
    ),
    ("call volume", "/api/v1/dashboard/call-volume"),
    ("lead sources", "/api/v1/dashboard/lead-sources"),
    ("campaigns", "/api/v1/dashboard/campaigns"),
    (
        "insights: analysis 7d",
        "/api/v1/insights/conversation-analysis?days=7",
    ),
    (
        "insights: analysis 90d",
        "/api/v1/insights/conversation-analysis?days=90",
    ),
    ("insights: trends 30d", "/api/v1/insights/trends?days=30"),
    (
        "insights: advice 30d",
        "/api/v1/insights/recommendations?days=30",
    ),
];

async fn measure(bench: &Bench, runs: usize) -> Vec<(Duration, Duration)> {
    let listings: Vec<String> = SHAPES
        .iter()
        .map(|(_, query)| format!("/api/v1/leads?{query}"))
        .collect();
    measure_paths(bench, &listings, runs).await
}

async fn measure_dashboard(bench: &Bench, runs: usize) -> Vec<(Duration, Duration)> {
    let paths: Vec<String> = DASHBOARD.iter().map(|(_, p)| (*p).to_owned()).collect();
    measure_paths(bench, &paths, runs).await
}

/// p50 and p95 of each path, after one warm-up request.
async fn measure_paths(bench: &Bench, paths: &[String], runs: usize) -> Vec<(Duration, Duration)> {
    let mut figures = Vec::new();
    for path in paths {
        bench.get(path).await;
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let started = Instant::now();
            bench.get(path).await;
            times.push(started.elapsed());
        }
        times.sort();
        figures.push((percentile(&times, 0.5), percentile(&times, 0.95)));
    }
    figures
}

#[tokio::main]
async fn main() {
    let total: usize = std::env::args()
        .nth(1)
        .map_or(100_000, |n| n.parse().expect("a row count"));
    let small = total.min(10_000);
    let dir = tempfile::tempdir().unwrap();
    let cache_mb: usize = std::env::var("BENCH_CACHE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(EmbeddedStore::DEFAULT_CACHE_BYTES >> 20);
    let store_path = dir.path().join("bench.redb");
    let embedded = EmbeddedStore::open_with_cache(&store_path, cache_mb << 20).unwrap();
    let store = Arc::new(embedded.clone());
    let clock: Arc<dyn soraaya_core::Clock> = Arc::new(soraaya_core::SystemClock);
    let blobs = Arc::new(LocalBlobs::new(dir.path().join("blobs"), FILES_URL, clock));
    let app = Arc::new(
        App::new(Config::with_secret("b".repeat(48)).unwrap(), store)
            .with_blobs(blobs.clone())
            .with_jobs(Arc::new(LocalJobQueue::default())),
    );
    let email = Email::parse("bench@soraaya.local").unwrap();
    create_organisation(
        &app,
        NewOrganisation {
            name: OrgName::parse("Bench Realty").unwrap(),
            default_region: Region::INDIA,
            time_zone: TimeZoneName::india(),
            admin_email: email.clone(),
            admin_name: PersonName::parse("Bench").unwrap(),
            admin_password: Password::parse("benchmark password").unwrap(),
        },
    )
    .await
    .unwrap();
    let token = login(&app, &email, "benchmark password", None, true)
        .await
        .unwrap()
        .tokens
        .access_token;
    let bench = Bench {
        router: files::routes(Arc::clone(&app), blobs)
            .merge(router(Arc::clone(&app), all_routes())),
        app,
        token,
    };

    // The import file of `total` rows is cut in two, so that listings can be
    // measured at 10,000 leads on the way; then unique rows top the book up
    // to `total` leads for the second measurement.
    let mut generator = Generator {
        valid: Vec::new(),
        next_number: 0,
        row: 0,
    };
    let tiny = dir.path().join("tiny.csv");
    let first = dir.path().join("first.csv");
    let rest = dir.path().join("rest.csv");
    let top_up = dir.path().join("top-up.csv");
    let first_rows = (small * 5 / 4).min(total);
    let tiny_rows = 1_250.min(first_rows / 2);
    let (u0, d0, i0) = generator.write(&tiny, tiny_rows, true);
    let (u1, d1, i1) = generator.write(&first, first_rows - tiny_rows, true);
    let (u1, d1, i1) = (u0 + u1, d0 + d1, i0 + i1);
    let (u2, d2, i2) = generator.write(&rest, total - first_rows, true);
    let file_bytes = [&tiny, &first, &rest]
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum::<u64>();
    println!(
        "leads-bench: {total} CSV rows ({} unique numbers, {} duplicates, {} invalid), {:.1} MB",
        u1 + u2,
        d1 + d2,
        i1 + i2,
        file_bytes as f64 / 1e6
    );
    let rss_before = peak_rss_kb();

    let (report0, time0) = bench.import(&tiny).await;
    let leads_tiny = bench.get("/api/v1/leads?limit=1").await["total"]
        .as_u64()
        .unwrap();
    // As many calls as leads so far, spread over the last 90 days.
    let org: OrgId = bench.get("/api/v1/auth/me").await["org_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let some_lead: soraaya_domain::Lead =
        serde_json::from_value(bench.get("/api/v1/leads?limit=1").await["items"][0].clone())
            .unwrap();
    let today = TimeZoneName::india()
        .zone()
        .to_datetime(jiff::Timestamp::now())
        .date();
    let history = calls::History::new();
    let calls_tiny = usize::try_from(leads_tiny).unwrap();
    history
        .record(&bench.app, org, &some_lead, today, 0, calls_tiny)
        .await;
    let dashboard_tiny = measure_dashboard(&bench, 200).await;
    let (report1, time1) = bench.import(&first).await;
    let leads_small = bench.get("/api/v1/leads?limit=1").await["total"]
        .as_u64()
        .unwrap();
    let at_small = measure(&bench, 40).await;
    let (report2, time2) = bench.import(&rest).await;
    let rss_after = peak_rss_kb();
    let imported = [&report0, &report1, &report2]
        .iter()
        .map(|r| r["imported"].as_u64().unwrap())
        .sum::<u64>();
    generator.write(&top_up, total - usize::try_from(imported).unwrap(), false);
    bench.import(&top_up).await;
    let leads_total = bench.get("/api/v1/leads?limit=1").await["total"]
        .as_u64()
        .unwrap();
    if let Ok(query) = std::env::var("BENCH_REPEAT_QUERY") {
        // For a profiler to attach: the one listing, again and again.
        println!(
            "repeating /api/v1/leads?{query} for 60 s (pid {})",
            std::process::id()
        );
        let path = format!("/api/v1/leads?{query}");
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            bench.get(&path).await;
        }
        return;
    }
    let at_total = measure(&bench, 40).await;
    let calls_total = usize::try_from(leads_total).unwrap();
    history
        .record(
            &bench.app,
            org,
            &some_lead,
            today,
            calls_tiny,
            calls_total - calls_tiny,
        )
        .await;
    let dashboard_total = measure_dashboard(&bench, 200).await;

    let sum = |key: &str| {
        [&report0, &report1, &report2]
            .iter()
            .map(|r| r[key].as_u64().unwrap())
            .sum::<u64>()
    };
    let elapsed = time0 + time1 + time2;
    println!();
    println!("import ({total} rows, embedded store, through the job path: upload, then the job)");
    println!(
        "  imported {}  skipped_duplicates {}  rejected {}",
        sum("imported"),
        sum("skipped_duplicates"),
        sum("rejected")
    );
    println!(
        "  time {:.1} s   {:.0} rows/s",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  peak RSS {:.1} MB (before import {:.1} MB; store page cache up to {cache_mb} MB; the CSV is {:.1} MB; the store file {:.1} MB)",
        rss_after as f64 / 1024.0,
        rss_before as f64 / 1024.0,
        file_bytes as f64 / 1e6,
        std::fs::metadata(&store_path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6,
    );
    let (used, free) = embedded.space().await.unwrap();
    println!(
        "  store holds {:.1} MB of data and metadata, {:.1} MB of free pages (at {leads_total} leads)",
        used as f64 / 1e6,
        free as f64 / 1e6
    );
    println!();
    println!(
        "listing latency, {runs} runs each (p50 / p95, ms)",
        runs = 40
    );
    print_table(
        "query",
        (leads_small, leads_total),
        &SHAPES,
        (&at_small, &at_total),
        2,
    );
    println!();
    println!(
        "dashboard and insights latency, 200 runs each (p50 / p95, ms; counters and day aggregates only, \
         so the ratio should stay near 1; as many calls as leads over 90 days)"
    );
    print_table(
        "endpoint",
        (leads_tiny, leads_total),
        DASHBOARD,
        (&dashboard_tiny, &dashboard_total),
        3,
    );
}

/// p50 and p95 of one request.
type Percentiles = (Duration, Duration);

/// p50 / p95 of each row at two book sizes, and the ratio of the p50s.
fn print_table(
    what: &str,
    (small_leads, big_leads): (u64, u64),
    rows: &[(&str, &str)],
    (small, big): (&[Percentiles], &[Percentiles]),
    decimals: usize,
) {
    println!(
        "  {:<24} {:>18} {:>18} {:>9}",
        what,
        format!("{small_leads} leads"),
        format!("{big_leads} leads"),
        "p50 ratio"
    );
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    for ((name, _), (s, b)) in rows.iter().zip(small.iter().zip(big)) {
        println!(
            "  {:<24} {:>8.decimals$} / {:>7.decimals$} {:>8.decimals$} / {:>7.decimals$} {:>9.ratio$}",
            name,
            ms(s.0),
            ms(s.1),
            ms(b.0),
            ms(b.1),
            b.0.as_secs_f64() / s.0.as_secs_f64().max(1e-9),
            ratio = decimals - 1,
        );
    }
}
