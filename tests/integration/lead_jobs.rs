//! Large imports as jobs: created with an upload URL, run from the uploaded
//! file batch by batch, with exact counts and row errors, resumed after a
//! run that ran out of time or crashed without importing a row twice; and
//! the small synchronous import refusing what is too big for it.

use std::time::Instant;

use serde_json::json;
use soraaya_core::jobs::{JobMessage, JobQueue};
use soraaya_domain::{JobId, OrgId};
use soraaya_jobs::JobsRepo;
use soraaya_jobs::RunOutcome;
use soraaya_jobs::runner::run as run_import;
use soraaya_tests::jobs::{Expected, JobsApp, generated_csv, phone};
use soraaya_tests::{TestApp, embedded_store};

const PASSWORD: &str = "marine-drive-view";

/// Leads the book has before the import: the rows named `known`.
fn known_csv(known: &[usize]) -> String {
    let mut csv = String::from("name,phone\n");
    for i in known {
        csv.push_str(&format!("Known {i},{}\n", phone(*i)));
    }
    csv
}

async fn setup() -> (JobsApp, OrgId, String) {
    let jobs = TestApp::with_jobs(embedded_store()).await;
    let (org, admin) = jobs
        .api
        .organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    (jobs, org, admin)
}

async fn create(jobs: &JobsApp, token: &str, file_name: &str) -> (JobId, String) {
    let created = jobs
        .api
        .post(
            "/api/v1/leads/imports",
            Some(token),
            json!({ "file_name": file_name }),
        )
        .await;
    created.expect(201);
    assert_eq!(created.body["job"]["status"], "queued");
    assert_eq!(created.body["upload"]["method"], "PUT");
    let id = JobId::parse(created.body["job"]["id"].as_str().expect("id")).expect("job id");
    (
        id,
        created.body["upload"]["url"]
            .as_str()
            .expect("url")
            .to_owned(),
    )
}

async fn all_errors(jobs: &JobsApp, token: &str, id: JobId) -> Vec<u64> {
    let mut lines = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/leads/imports/{id}?limit=200&cursor={c}"),
            None => format!("/api/v1/leads/imports/{id}?limit=200"),
        };
        let page = jobs.api.get(&path, token).await;
        page.expect(200);
        for error in page.body["errors"].as_array().expect("errors") {
            lines.push(error["line"].as_u64().expect("line"));
        }
        match page.body["next_errors_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return lines,
        }
    }
}

async fn total_leads(jobs: &JobsApp, token: &str) -> u64 {
    let listed = jobs.api.get("/api/v1/leads?limit=1", token).await;
    listed.expect(200);
    listed.body["total"].as_u64().expect("total")
}

fn assert_counts(job: &serde_json::Value, expected: &Expected) {
    let counts = &job["counts"];
    assert_eq!(
        (
            counts["rows"].as_u64(),
            counts["imported"].as_u64(),
            counts["updated"].as_u64(),
            counts["skipped_duplicates"].as_u64(),
            counts["rejected"].as_u64(),
        ),
        (
            Some(expected.rows),
            Some(expected.imported),
            Some(0),
            Some(expected.skipped_duplicates),
            Some(expected.rejected),
        ),
        "{job}"
    );
}

#[tokio::test]
async fn a_large_import_runs_as_a_job_with_exact_counts_and_every_rejected_line() {
    let (jobs, _, admin) = setup().await;
    let known = [50, 1_250, 2_450];
    jobs.api
        .post_raw(
            "/api/v1/leads/import",
            &admin,
            "text/csv",
            known_csv(&known),
        )
        .await
        .expect(200);
    let (csv, expected) = generated_csv(3_000, &known);
    let (id, url) = create(&jobs, &admin, "portal-leads-november.csv").await;

    // Before the upload the job waits; running it does nothing.
    jobs.run_jobs().await;
    let waiting = jobs
        .api
        .get(&format!("/api/v1/leads/imports/{id}"), &admin)
        .await;
    assert_eq!(waiting.body["status"], "queued", "{}", waiting.body);

    jobs.upload(&url, csv).await.expect(200);
    jobs.run_jobs().await;
    let done = jobs
        .api
        .get(&format!("/api/v1/leads/imports/{id}"), &admin)
        .await;
    done.expect(200);
    assert_eq!(done.body["status"], "completed", "{}", done.body);
    assert_counts(&done.body, &expected);
    assert_eq!(all_errors(&jobs, &admin, id).await, expected.rejected_lines);
    assert_eq!(
        total_leads(&jobs, &admin).await,
        known.len() as u64 + expected.imported
    );
    // Batches are written several at once: a number repeated in a later
    // batch is still the lead of its first row.
    let mut cursor: Option<String> = None;
    loop {
        let page = jobs
            .api
            .get(
                &format!(
                    "/api/v1/leads?limit=200{}",
                    cursor.map(|c| format!("&cursor={c}")).unwrap_or_default()
                ),
                &admin,
            )
            .await;
        page.expect(200);
        for lead in page.body["items"].as_array().expect("items") {
            let name = lead["contact_person"].as_str().expect("name");
            if let Some(row) = name.strip_prefix("Lead ") {
                let row: usize = row.parse().expect("row number");
                assert_ne!(row % 10, 9, "{name} repeats an earlier row's number");
            }
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let listed = jobs.api.get("/api/v1/leads/jobs", &admin).await;
    assert_eq!(listed.body["items"][0]["id"], id.to_string());
    let lead = jobs
        .api
        .get("/api/v1/leads?search=Lead%202998", &admin)
        .await;
    let timeline = jobs
        .api
        .get(
            &format!(
                "/api/v1/leads/{}/timeline",
                lead.body["items"][0]["id"].as_str().expect("id")
            ),
            &admin,
        )
        .await;
    assert_eq!(
        timeline.body["items"][0]["reason"],
        "import of portal-leads-november.csv"
    );
}

#[tokio::test]
async fn an_import_that_stops_midway_or_loses_its_place_imports_nothing_twice() {
    let (jobs, org, admin) = setup().await;
    let (csv, expected) = generated_csv(1_200, &[]);
    let (id, url) = create(&jobs, &admin, "big.csv").await;
    jobs.upload(&url, csv).await.expect(200);
    let message = JobMessage {
        org_id: org,
        job_id: id,
    };
    // Out of time at once: one group of batches, then its place is saved.
    let outcome = run_import(&jobs.api.app, &message, Some(Instant::now()), 1)
        .await
        .expect("a first run");
    assert_eq!(outcome, RunOutcome::Continue);
    let repo = JobsRepo::new(jobs.api.app.store.as_ref());
    let partway = repo.get(org, id).await.expect("job").expect("job");
    assert!(
        partway.counts.rows > 0 && partway.counts.rows < expected.rows,
        "{:?}",
        partway.counts
    );
    // A crash after its batches were written but before its place was saved:
    // the next run starts from the top again.
    let mut lost = partway.clone();
    lost.resume = None;
    assert!(repo.save(&partway, &lost).await.expect("save"));
    let outcome = run_import(&jobs.api.app, &message, Some(Instant::now()), 2)
        .await
        .expect("a second run");
    assert_eq!(outcome, RunOutcome::Continue);
    // Then to the end, twice over (the second finds it over).
    jobs.queue.send(&message).await.expect("sent");
    jobs.run_jobs().await;
    jobs.queue.send(&message).await.expect("sent");
    jobs.run_jobs().await;
    let done = jobs
        .api
        .get(&format!("/api/v1/leads/imports/{id}"), &admin)
        .await;
    assert_eq!(done.body["status"], "completed", "{}", done.body);
    assert_counts(&done.body, &expected);
    assert_eq!(all_errors(&jobs, &admin, id).await, expected.rejected_lines);
    assert_eq!(total_leads(&jobs, &admin).await, expected.imported);
}

#[tokio::test]
async fn import_jobs_are_checked_guarded_and_kept_to_their_organisation() {
    let (jobs, _, admin) = setup().await;
    jobs.api
        .user(&admin, "kabir@skyline.in", "agent", PASSWORD)
        .await;
    let agent = jobs.api.token("kabir@skyline.in", PASSWORD).await;
    let refused = jobs
        .api
        .post(
            "/api/v1/leads/imports",
            Some(&agent),
            json!({ "file_name": "x.csv" }),
        )
        .await;
    refused.expect(403);
    let invalid = jobs
        .api
        .post(
            "/api/v1/leads/imports",
            Some(&admin),
            json!({ "file_name": "  ", "on_duplicate": "skip" }),
        )
        .await;
    invalid.expect(422);
    assert_eq!(invalid.body["error"]["details"][0]["field"], "file_name");
    let unknown = jobs
        .api
        .post(
            "/api/v1/leads/imports",
            Some(&admin),
            json!({ "file_name": "x.csv", "on_duplicate": "merge" }),
        )
        .await;
    unknown.expect(422);

    let (id, url) = create(&jobs, &admin, "leads.csv").await;
    // A URL tampered with, or for another file, is refused.
    let tampered = url.replace("signature=", "signature=00");
    jobs.upload(&tampered, "name,phone\nA,9820000001\n")
        .await
        .expect(403);
    let elsewhere = url.replace(&id.to_string(), &JobId::new().to_string());
    jobs.upload(&elsewhere, "name,phone\nA,9820000001\n")
        .await
        .expect(403);

    // Another organisation's token does not see the job.
    let (_, other) = jobs
        .api
        .organisation("Other Realty", "meera@other.in", PASSWORD)
        .await;
    jobs.api
        .get(&format!("/api/v1/leads/imports/{id}"), &other)
        .await
        .expect(404);
    jobs.api
        .get(&format!("/api/v1/leads/jobs/{id}"), &other)
        .await
        .expect(404);

    // A file that is not a lead file fails the job, saying why.
    jobs.upload(&url, "colour,size\nblue,4\n").await.expect(200);
    jobs.run_jobs().await;
    let failed = jobs
        .api
        .get(&format!("/api/v1/leads/imports/{id}"), &admin)
        .await;
    assert_eq!(failed.body["status"], "failed", "{}", failed.body);
    assert!(
        failed.body["failure"]
            .as_str()
            .is_some_and(|f| f.contains("phone_number column")),
        "{}",
        failed.body
    );
}

#[tokio::test]
async fn the_synchronous_import_refuses_files_over_its_cap_and_says_where_to_go() {
    let (jobs, _, admin) = setup().await;
    let (csv, _) = generated_csv(40_000, &[]);
    assert!(csv.len() > soraaya_api::leads::IMPORT_BODY_LIMIT);
    let refused = jobs
        .api
        .post_raw("/api/v1/leads/import", &admin, "text/csv", csv)
        .await;
    refused.expect(413);
    assert_eq!(refused.code(), "payload_too_large");
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("/api/v1/leads/imports")),
        "{}",
        refused.body
    );
    assert_eq!(total_leads(&jobs, &admin).await, 0, "nothing half-imported");
}
