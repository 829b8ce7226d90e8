//! Bulk changes, deletions and exports as jobs: every chosen lead changed
//! exactly once (also when the change takes leads out of the filter that
//! chose them, when a run runs out of time, and when a run loses its place),
//! each lead that cannot be changed reported with why, and an export's file
//! downloaded from its signed URL.

use std::time::Instant;

use serde_json::{Value, json};
use soraaya_core::jobs::JobMessage;
use soraaya_domain::{JobId, OrgId};
use soraaya_jobs::runner::run;
use soraaya_jobs::{JobsRepo, RunOutcome};
use soraaya_tests::jobs::{FILES_URL, JobsApp, generated_csv};
use soraaya_tests::{TestApp, embedded_store};

const PASSWORD: &str = "marine-drive-view";

async fn setup(rows: usize) -> (JobsApp, OrgId, String, u64) {
    let jobs = TestApp::with_jobs(embedded_store()).await;
    let (org, admin) = jobs
        .api
        .organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let (csv, expected) = generated_csv(rows, &[]);
    jobs.api
        .post_raw("/api/v1/leads/import", &admin, "text/csv", csv)
        .await
        .expect(200);
    (jobs, org, admin, expected.imported)
}

async fn start(jobs: &JobsApp, token: &str, body: Value) -> JobId {
    let created = jobs.api.post("/api/v1/leads/jobs", Some(token), body).await;
    created.expect(202);
    assert_eq!(created.body["status"], "queued", "{}", created.body);
    let id = created.body["id"].as_str().expect("id");
    assert_eq!(
        created.headers["location"],
        format!("/api/v1/leads/jobs/{id}")
    );
    JobId::parse(id).expect("job id")
}

async fn job(jobs: &JobsApp, token: &str, id: JobId) -> Value {
    let got = jobs
        .api
        .get(&format!("/api/v1/leads/jobs/{id}?limit=200"), token)
        .await;
    got.expect(200);
    got.body
}

async fn total(jobs: &JobsApp, token: &str, filter: &str) -> u64 {
    let listed = jobs
        .api
        .get(&format!("/api/v1/leads?limit=1&{filter}"), token)
        .await;
    listed.expect(200);
    listed.body["total"].as_u64().expect("total")
}

async fn fetch_file(jobs: &JobsApp, path: &str) -> soraaya_tests::TestResponse {
    let request = http::Request::get(path)
        .body(axum::body::Body::empty())
        .expect("request");
    jobs.api.send(request).await
}

fn counts(job: &Value) -> (u64, u64, u64) {
    let c = &job["counts"];
    (
        c["rows"].as_u64().unwrap_or_default(),
        c["succeeded"].as_u64().unwrap_or_default(),
        c["failed"].as_u64().unwrap_or_default(),
    )
}

#[tokio::test]
async fn a_bulk_update_by_filter_changes_every_lead_once_through_timeouts_and_a_lost_place() {
    // 2,040 leads (the file's duplicates and bad numbers left out): three chunks of ids.
    let (jobs, org, admin, leads) = setup(2_400).await;
    assert_eq!(total(&jobs, &admin, "priority=medium").await, leads);
    // The change takes every lead out of the filter that chose it.
    let id = start(
        &jobs,
        &admin,
        json!({
            "kind": "bulk_update",
            "filter": { "priority": "medium" },
            "changes": { "priority": "high", "status": "follow_up", "reason": "festive offer" },
        }),
    )
    .await;
    let message = JobMessage {
        org_id: org,
        job_id: id,
    };
    // Out of time at every step: it goes on a page or a chunk at a time.
    let mut runs = 0;
    loop {
        runs += 1;
        let outcome = run(&jobs.api.app, &message, Some(Instant::now()), 1)
            .await
            .expect("a run");
        if outcome != RunOutcome::Continue {
            assert_eq!(
                outcome,
                RunOutcome::Over(soraaya_jobs::JobStatus::Completed)
            );
            break;
        }
        if runs == 4 {
            // A run that changed its chunk's leads but lost its place: the
            // next one goes over the same chunk and changes none of them again.
            let repo = JobsRepo::new(jobs.api.app.store.as_ref());
            let partway = repo.get(org, id).await.expect("job").expect("job");
            let mut lost = partway.clone();
            let chunk = lost.resume.expect("a place").offset;
            lost.resume.as_mut().expect("a place").offset = chunk - 1;
            assert!(repo.save(&partway, &lost).await.expect("save"));
        }
    }
    // Choosing three pages, then three chunks, plus the chunk done again.
    assert!(runs >= 6, "{runs} runs");
    let done = job(&jobs, &admin, id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(counts(&done), (leads, leads, 0), "{done}");
    assert_eq!(
        done["selection"]["filtered"]["filter"]["priority"],
        "medium"
    );
    assert_eq!(total(&jobs, &admin, "priority=high").await, leads);
    assert_eq!(
        total(&jobs, &admin, "status=follow_up&priority=high").await,
        leads
    );
    // One status change per lead on its timeline, not two.
    let one = jobs
        .api
        .get("/api/v1/leads?limit=1&priority=high", &admin)
        .await;
    let lead = one.body["items"][0]["id"].as_str().expect("a lead");
    let timeline = jobs
        .api
        .get(&format!("/api/v1/leads/{lead}/timeline"), &admin)
        .await;
    let changes = timeline.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["reason"] == "festive offer")
        .count();
    assert_eq!(changes, 1, "{}", timeline.body);
}

#[tokio::test]
async fn a_bulk_delete_by_ids_erases_them_and_reports_each_lead_it_could_not() {
    let (jobs, _, admin, leads) = setup(40).await;
    let listed = jobs.api.get("/api/v1/leads?limit=25", &admin).await;
    let mut ids: Vec<String> = listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|l| l["id"].as_str().expect("id").to_owned())
        .collect();
    let unknown = soraaya_domain::LeadId::new().to_string();
    ids.push(unknown.clone());
    // Named twice: gone through once.
    ids.push(ids[0].clone());
    // An agent may not delete.
    jobs.api
        .user(&admin, "meera@skyline.in", "agent", "agent password!")
        .await;
    let agent = jobs.api.token("meera@skyline.in", "agent password!").await;
    let refused = jobs
        .api
        .post(
            "/api/v1/leads/jobs",
            Some(&agent),
            json!({ "kind": "bulk_delete", "lead_ids": ids }),
        )
        .await;
    refused.expect(403);

    let id = start(
        &jobs,
        &admin,
        json!({ "kind": "bulk_delete", "lead_ids": ids }),
    )
    .await;
    jobs.run_jobs().await;
    let done = job(&jobs, &admin, id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(counts(&done), (26, 25, 1), "{done}");
    assert_eq!(done["selection"]["chosen"]["leads"], 26);
    let failures = done["failures"].as_array().expect("failures");
    assert_eq!(failures.len(), 1, "{done}");
    assert_eq!(failures[0]["lead_id"], unknown);
    assert_eq!(failures[0]["code"], "not_found");
    assert_eq!(total(&jobs, &admin, "").await, leads - 25);
    jobs.api
        .get(&format!("/api/v1/leads/{}", ids[0]), &admin)
        .await
        .expect(404);
}

#[tokio::test]
async fn an_export_job_writes_the_chosen_leads_to_a_file_downloaded_from_its_url() {
    let (jobs, _, admin, leads) = setup(1_300).await;
    let id = start(&jobs, &admin, json!({ "kind": "export", "filter": {} })).await;
    let queued = job(&jobs, &admin, id).await;
    assert!(queued["download"].is_null(), "{queued}");
    jobs.run_jobs().await;
    let done = job(&jobs, &admin, id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(counts(&done), (leads, leads, 0), "{done}");
    let download = &done["download"];
    assert!(
        download["file_name"]
            .as_str()
            .is_some_and(|n| n.starts_with("leads-") && n.ends_with(".csv")),
        "{done}"
    );
    let url = download["url"].as_str().expect("url");
    let path = url.strip_prefix(FILES_URL).expect("a URL of the app");
    let file = fetch_file(&jobs, path).await;
    file.expect(200);
    let text = file.body.as_str().expect("a CSV file");
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().expect("a header").clone();
    assert!(headers.iter().any(|h| h == "phone_number"), "{headers:?}");
    assert_eq!(reader.records().count() as u64, leads);
    // A URL altered or for another file is refused.
    let forged = path.replace(&id.to_string(), &JobId::new().to_string());
    fetch_file(&jobs, &forged).await.expect(403);

    // Chosen leads, in the order they were named.
    let listed = jobs.api.get("/api/v1/leads?limit=3", &admin).await;
    let ids: Vec<&str> = listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|l| l["id"].as_str().expect("id"))
        .collect();
    let chosen = start(&jobs, &admin, json!({ "kind": "export", "lead_ids": ids })).await;
    jobs.run_jobs().await;
    let done = job(&jobs, &admin, chosen).await;
    assert_eq!(counts(&done), (3, 3, 0), "{done}");
}

#[tokio::test]
async fn lead_jobs_are_checked_field_by_field() {
    let (jobs, _, admin, _) = setup(5).await;
    let cases = [
        (json!({ "kind": "bulk_update", "filter": {} }), "changes"),
        (
            json!({ "kind": "bulk_update", "filter": {}, "changes": { "priority": "top-ish" } }),
            "changes.priority",
        ),
        (
            json!({ "kind": "bulk_update", "filter": {}, "changes": {} }),
            "changes",
        ),
        (
            json!({ "kind": "bulk_delete", "filter": {}, "changes": { "priority": "high" } }),
            "changes",
        ),
        (json!({ "kind": "export" }), "lead_ids"),
        (
            json!({ "kind": "export", "filter": {}, "lead_ids": [] }),
            "filter",
        ),
        (json!({ "kind": "export", "lead_ids": [] }), "lead_ids"),
        (
            json!({ "kind": "export", "filter": { "status": "asleep" } }),
            "filter.status",
        ),
        (
            json!({ "kind": "export", "filter": { "created_from": "yesterday-ish" } }),
            "filter.created_from",
        ),
        (json!({ "kind": "import", "filter": {} }), "kind"),
        (
            json!({ "kind": "bulk_update", "filter": {}, "changes": { "campaign_id": soraaya_domain::CampaignId::new() } }),
            "changes.campaign_id",
        ),
    ];
    for (body, field) in cases {
        let answer = jobs
            .api
            .post("/api/v1/leads/jobs", Some(&admin), body.clone())
            .await;
        assert_eq!(answer.status.as_u16(), 422, "{body} -> {}", answer.body);
        let fields: Vec<&str> = answer.body["error"]["details"]
            .as_array()
            .expect("field errors")
            .iter()
            .filter_map(|f| f["field"].as_str())
            .collect();
        assert!(fields.contains(&field), "{body} -> {}", answer.body);
    }
    let unknown = jobs
        .api
        .post(
            "/api/v1/leads/jobs",
            Some(&admin),
            json!({ "kind": "export", "filter": { "colour": "blue" } }),
        )
        .await;
    assert_eq!(unknown.status.as_u16(), 422, "{}", unknown.body);
    let listed = jobs.api.get("/api/v1/leads/jobs", &admin).await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(0));
}
