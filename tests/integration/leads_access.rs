//! Who may do what to leads (the table in shared/docs/leads.md, call by call),
//! and that no organisation reaches another's leads.

use http::Method;
use serde_json::{Value, json};
use soraaya_tests::{TestApp, TestResponse};

const PASSWORD: &str = "marine-drive-view";

struct Endpoint {
    method: Method,
    path: String,
    allowed: [bool; 3],
}

/// Rows of the endpoint table in the docs.
fn documented_endpoints() -> Vec<Endpoint> {
    let docs = include_str!("../../shared/docs/leads.md");
    let start = docs.find("<!-- endpoints:start -->").unwrap();
    let end = docs.find("<!-- endpoints:end -->").unwrap();
    docs[start..end]
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let (method, path) = cells[1].trim_matches('`').split_once(' ').unwrap();
            Endpoint {
                method: method.parse().unwrap(),
                path: path.to_owned(),
                allowed: [cells[3] == "✓", cells[4] == "✓", cells[5] == "✓"],
            }
        })
        .collect()
}

/// Calls an endpoint with a body that would succeed for a permitted caller.
async fn call(t: &TestApp, token: &str, admin: &str, endpoint: &Endpoint, n: u32) -> TestResponse {
    // A fresh lead for destructive calls, so every role meets the same state.
    let lead = t
        .lead(
            admin,
            json!({ "contact_person": "Access Test", "phone_number": format!("+91 98201 {n:05}") }),
        )
        .await;
    let id = lead["id"].as_str().unwrap();
    let phone = format!("+9198202{n:05}");
    t.post("/api/v1/dnc", Some(admin), json!({ "phone_number": phone }))
        .await
        .expect(201);
    let path = if endpoint.path.contains("/imports/") || endpoint.path.contains("/jobs/") {
        let job = t
            .post(
                "/api/v1/leads/imports",
                Some(admin),
                json!({ "file_name": "access.csv" }),
            )
            .await;
        job.expect(201);
        endpoint
            .path
            .replace("{id}", job.body["job"]["id"].as_str().unwrap())
    } else {
        endpoint.path.replace("{id}", id).replace("{phone}", &phone)
    };
    let body: Option<Value> = match (endpoint.method.as_str(), endpoint.path.as_str()) {
        ("POST", "/api/v1/leads") => {
            Some(json!({ "contact_person": "New", "phone_number": format!("+91 98203 {n:05}") }))
        }
        ("PUT", "/api/v1/leads/{id}") => Some(json!({ "notes": "updated" })),
        ("PUT", "/api/v1/leads/{id}/status") => Some(json!({ "status": "follow_up" })),
        ("POST", "/api/v1/leads/{id}/notes") => Some(json!({ "text": "a note" })),
        ("POST", "/api/v1/leads/bulk-update") => {
            Some(json!({ "lead_ids": [id], "priority": "high" }))
        }
        ("POST", "/api/v1/leads/bulk-delete") => Some(json!({ "lead_ids": [id] })),
        ("POST", "/api/v1/leads/imports") => Some(json!({ "file_name": "leads.csv" })),
        ("POST", "/api/v1/leads/jobs") => Some(json!({ "kind": "export", "filter": {} })),
        ("POST", "/api/v1/dnc") => Some(json!({ "phone_number": format!("+91 98204 {n:05}") })),
        ("POST", "/api/v1/leads/import") => {
            return t
                .post_raw(
                    &path,
                    token,
                    "text/csv",
                    format!("name,phone\nImported,+91 98205 {n:05}\n"),
                )
                .await;
        }
        _ => None,
    };
    t.request(endpoint.method.clone(), &path, Some(token), body)
        .await
}

#[tokio::test]
async fn each_role_may_do_what_the_docs_say_and_nothing_more() {
    // With blobs and a job queue, for the import and export jobs.
    let jobs = TestApp::with_jobs(soraaya_tests::embedded_store()).await;
    let t = &jobs.api;
    let (_, admin) = t
        .organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    t.user(&admin, "ravi@skyline.in", "manager", "manager password")
        .await;
    t.user(&admin, "meera@skyline.in", "agent", "agent password!")
        .await;
    let tokens = [
        admin.clone(),
        t.token("ravi@skyline.in", "manager password").await,
        t.token("meera@skyline.in", "agent password!").await,
    ];
    let endpoints = documented_endpoints();
    assert_eq!(endpoints.len(), 20, "every leads endpoint is in the table");
    let mut n = 0;
    for endpoint in &endpoints {
        for (role, token) in ["admin", "manager", "agent"].iter().zip(&tokens) {
            n += 1;
            let response = call(t, token, &admin, endpoint, n).await;
            let allowed = endpoint.allowed[["admin", "manager", "agent"]
                .iter()
                .position(|r| r == role)
                .unwrap()];
            let what = format!("{role}: {} {}", endpoint.method, endpoint.path);
            if allowed {
                assert!(
                    response.status.is_success(),
                    "{what} -> {} {}",
                    response.status,
                    response.body
                );
            } else {
                assert_eq!(response.status.as_u16(), 403, "{what} -> {}", response.body);
                assert_eq!(response.code(), "forbidden", "{what}");
                assert!(response.body["error"]["details"]["required_permission"].is_string());
            }
        }
    }
}

#[tokio::test]
async fn another_organisations_token_gets_404_and_learns_nothing() {
    let t = TestApp::new().await;
    let (_, a) = t
        .organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let (_, b) = t
        .organisation("Harbour Homes", "farah@harbour.in", PASSWORD)
        .await;
    let lead = t
        .lead(&a, json!({ "contact_person": "Secret Buyer", "phone_number": "+91 98200 12345", "location": "Altamount Road" }))
        .await;
    let id = lead["id"].as_str().unwrap();
    t.post(
        "/api/v1/dnc",
        Some(&a),
        json!({ "phone_number": "+91 98200 54321" }),
    )
    .await
    .expect(201);
    let leaks = |response: &TestResponse| {
        let text = response.body.to_string();
        text.contains("Secret")
            || text.contains("Altamount")
            || text.contains("9820012345")
            || text.contains("9820054321")
    };

    let calls: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/v1/leads/{id}"), None),
        (
            Method::PUT,
            format!("/api/v1/leads/{id}"),
            Some(json!({ "notes": "mine now" })),
        ),
        (Method::DELETE, format!("/api/v1/leads/{id}"), None),
        (
            Method::PUT,
            format!("/api/v1/leads/{id}/status"),
            Some(json!({ "status": "not_interested" })),
        ),
        (Method::GET, format!("/api/v1/leads/{id}/timeline"), None),
        (
            Method::POST,
            format!("/api/v1/leads/{id}/notes"),
            Some(json!({ "text": "hello" })),
        ),
        (Method::DELETE, "/api/v1/dnc/+919820054321".to_owned(), None),
    ];
    for (method, path, body) in calls {
        let response = t.request(method.clone(), &path, Some(&b), body).await;
        assert_eq!(
            response.status.as_u16(),
            404,
            "{method} {path}: {}",
            response.body
        );
        assert!(
            !leaks(&response),
            "{method} {path} leaked: {}",
            response.body
        );
    }
    for path in [
        "/api/v1/leads",
        "/api/v1/leads?search=secret",
        "/api/v1/leads?status=to_call",
        "/api/v1/dnc",
    ] {
        let response = t.get(path, &b).await;
        response.expect(200);
        assert!(!leaks(&response), "{path} leaked: {}", response.body);
        assert_eq!(
            response.body["items"].as_array().unwrap().len(),
            0,
            "{path}"
        );
    }
    for body in [
        json!({ "lead_ids": [id], "status": "not_interested" }),
        json!({ "lead_ids": [id] }),
    ] {
        let path = if body.get("status").is_some() {
            "/api/v1/leads/bulk-update"
        } else {
            "/api/v1/leads/bulk-delete"
        };
        let response = t.post(path, Some(&b), body).await;
        assert_eq!(response.body["results"][0]["error"]["code"], "not_found");
        assert!(!leaks(&response));
    }
    let export = t.get(&format!("/api/v1/leads/export?ids={id}"), &b).await;
    assert!(!leaks(&export), "export leaked");
    assert_eq!(
        export.body.as_str().unwrap().lines().count(),
        1,
        "header only"
    );

    // B may hold its own lead with the same number: tenants do not collide.
    let report = t
        .post_raw(
            "/api/v1/leads/import",
            &b,
            "text/csv",
            "name,phone\nB's Buyer,+91 98200 12345\n",
        )
        .await;
    assert_eq!(report.body["imported"], 1);
    assert_eq!(t.get("/api/v1/leads", &b).await.body["total"], 1);

    // A's lead is untouched.
    let unchanged = t.get(&format!("/api/v1/leads/{id}"), &a).await;
    unchanged.expect(200);
    assert_eq!(unchanged.body["version"], 1);
    assert_eq!(unchanged.body["do_not_call"], false);
}
