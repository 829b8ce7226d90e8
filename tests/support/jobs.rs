//! A test app that runs lead jobs in-process: blobs in a temporary
//! directory behind signed URLs of the app's own router, the in-process job
//! queue, and the local runtime to work through it.

use std::sync::Arc;

use axum::body::Body;
use http::Request;
use soraaya_core::{App, Config, ManualClock};
use soraaya_local::files::{LocalBlobs, routes};
use soraaya_local::jobs::LocalJobQueue;
use soraaya_local::queue::LocalQueue;
use soraaya_local::runtime::{Chaos, Consumer, LocalRuntime, Tick};
use soraaya_store::ItemStore;

use crate::{TestApp, TestResponse};

/// The base URL of signed file URLs in tests (requests go to the router).
pub const FILES_URL: &str = "http://files.soraaya.test";

pub struct JobsApp {
    pub api: TestApp,
    pub runtime: Arc<LocalRuntime>,
    pub queue: Arc<LocalJobQueue>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// An app on `store` that runs lead jobs in this process.
    pub async fn with_jobs(store: Arc<dyn ItemStore>) -> JobsApp {
        let clock = Arc::new(ManualClock::at(crate::start_time()));
        let config = Config::with_secret("integration-test-secret-".repeat(3)).expect("config");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let blobs = Arc::new(LocalBlobs::new(dir.path(), FILES_URL, clock.clone()));
        let queue = Arc::new(LocalJobQueue::default());
        let dials = Arc::new(
            LocalQueue::open(clock.clone(), Arc::clone(&store))
                .await
                .expect("dial queue"),
        );
        let app = Arc::new(
            App::with_clock(config, store, clock.clone())
                .with_blobs(blobs.clone())
                .with_jobs(queue.clone())
                .with_queue(dials.clone()),
        );
        let runtime = Arc::new(
            LocalRuntime::new(app.clone(), Consumer::Local(dials), None, Chaos::default())
                .with_jobs(queue.clone()),
        );
        let files = routes(app.clone(), blobs);
        JobsApp {
            api: TestApp::from_app_with(app, clock, files),
            runtime,
            queue,
            _dir: dir,
        }
    }
}

impl JobsApp {
    /// `PUT`s a file to a signed upload URL.
    pub async fn upload(&self, url: &str, body: impl Into<Body>) -> TestResponse {
        let path = url.strip_prefix(FILES_URL).unwrap_or(url);
        let request = Request::put(path)
            .header("content-type", "text/csv")
            .body(body.into())
            .expect("request");
        self.api.send(request).await
    }

    /// Runs the jobs waiting until none is left.
    pub async fn run_jobs(&self) -> Tick {
        self.runtime.settle().await
    }
}

/// What a generated file should import as.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Expected {
    pub rows: u64,
    pub imported: u64,
    pub skipped_duplicates: u64,
    pub rejected: u64,
    /// Lines of the rejected rows.
    pub rejected_lines: Vec<u64>,
}

/// The number of row `i` of a generated file.
pub fn phone(i: usize) -> String {
    format!("+91 98{:08}", 30_000_000 + i * 13)
}

/// A file of `rows` rows: every 20th has a number that is none (rejected),
/// every 10th repeats the number of the row nine before it (a duplicate in
/// the file), and the rows named in `known` have numbers the book has already.
pub fn generated_csv(rows: usize, known: &[usize]) -> (String, Expected) {
    let mut csv = String::from("name,phone,city,budget,source\r\n");
    let mut expected = Expected::default();
    for i in 0..rows {
        let line = i as u64 + 2;
        expected.rows += 1;
        let number = if i % 20 == 19 {
            expected.rejected += 1;
            expected.rejected_lines.push(line);
            "12".to_owned()
        } else if i % 10 == 9 {
            expected.skipped_duplicates += 1;
            phone(i - 9)
        } else if known.contains(&i) {
            expected.skipped_duplicates += 1;
            phone(i)
        } else {
            expected.imported += 1;
            phone(i)
        };
        csv.push_str(&format!(
            "Lead {i},{number},\"Worli, Mumbai\",{} Cr,portal\r\n",
            3 + i % 40
        ));
    }
    (csv, expected)
}
