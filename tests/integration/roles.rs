//! Every operation of the API against every role: the table "Operations by
//! role" in shared/docs/accounts.md is the decision, and this test holds the
//! server to it (a role without the permission gets 403 forbidden naming it;
//! a role with it gets past the permission check). The table must name every
//! operation of the OpenAPI document that a signed-in user calls.

use http::Method;
use serde_json::json;
use soraaya_tests::TestApp;

const PASSWORD: &str = "marine-drive-view";
const ROLES: [&str; 3] = ["admin", "manager", "agent"];

struct Row {
    method: Method,
    path: String,
    /// What the operation needs: the refused role must be told it lacks a
    /// permission this cell names (in backticks).
    permission: String,
    allowed: [bool; 3],
}

fn documented() -> Vec<Row> {
    let docs = include_str!("../../shared/docs/accounts.md");
    let start = docs
        .find("<!-- operations:start -->")
        .expect("the table's start");
    let end = docs
        .find("<!-- operations:end -->")
        .expect("the table's end");
    docs[start..end]
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let (method, path) = cells[1].trim_matches('`').split_once(' ').unwrap();
            Row {
                method: method.parse().unwrap(),
                path: path.to_owned(),
                permission: cells[2].to_owned(),
                allowed: [cells[3] == "✓", cells[4] == "✓", cells[5] == "✓"],
            }
        })
        .collect()
}

/// The operations a signed-in user calls: every secured one in the document.
fn secured_operations() -> Vec<(String, String)> {
    let doc: serde_json::Value = serde_json::from_str(soraaya_api::OPENAPI_JSON).unwrap();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty())
            {
                out.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_table_names_every_secured_operation_once() {
    let mut listed: Vec<(String, String)> = documented()
        .iter()
        .map(|r| (r.method.to_string(), r.path.clone()))
        .collect();
    listed.sort();
    assert_eq!(listed, secured_operations());
}

#[tokio::test]
async fn every_role_meets_the_permission_the_table_gives_each_operation() {
    let t = TestApp::new().await;
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
    let nobody = "01936f3a-1111-7000-8000-00000000dead";
    let print = std::env::var("SORAAYA_PRINT_ROLES").is_ok();
    let rows = if print {
        secured_operations()
            .into_iter()
            .map(|(m, p)| Row {
                method: m.parse().unwrap(),
                path: p,
                permission: String::new(),
                allowed: [true; 3],
            })
            .collect()
    } else {
        documented()
    };
    let mut failures = Vec::new();
    for row in &rows {
        let path = row
            .path
            .replace("{id}", nobody)
            .replace("{phone}", "+919820012345");
        let mut seen = Vec::new();
        let mut refused_for = None;
        for (i, token) in tokens.iter().enumerate() {
            let body =
                matches!(row.method, Method::POST | Method::PUT | Method::PATCH).then(|| json!({}));
            // Logging out would end the session the rest of the test uses.
            if path.ends_with("/auth/logout") {
                seen.push(true);
                continue;
            }
            let response = t
                .request(row.method.clone(), &path, Some(token), body)
                .await;
            let forbidden = response.status.as_u16() == 403 && response.code() == "forbidden";
            seen.push(!forbidden);
            if !print && forbidden == row.allowed[i] {
                failures.push(format!(
                    "{} {}: {} {} ({})",
                    row.method, row.path, ROLES[i], response.status, response.body
                ));
            }
            if forbidden {
                let named = response.body["error"]["details"]["required_permission"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                if !print && !row.permission.contains(&format!("`{named}`")) {
                    failures.push(format!(
                        "{} {}: {} is refused for lacking {named:?}, the table says {}",
                        row.method, row.path, ROLES[i], row.permission
                    ));
                }
                refused_for = Some(named);
            }
        }
        if print {
            let mark = |b: bool| if b { "✓" } else { "" };
            println!(
                "| `{} {}` | {} | {} | {} | {} |",
                row.method,
                row.path,
                refused_for.map_or("—".to_owned(), |p| format!("`{p}`")),
                mark(seen[0]),
                mark(seen[1]),
                mark(seen[2])
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
