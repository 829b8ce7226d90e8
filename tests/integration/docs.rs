//! Documentation that restates the code is checked against it.

use soraaya_domain::{Permission, Role};

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).expect("start marker") + start.len();
    let to = text.find(end).expect("end marker");
    text[from..to].trim()
}

#[test]
fn the_rbac_table_in_the_docs_is_the_code() {
    let mut table = String::from(
        "| permission | what it allows | admin | manager | agent |\n|---|---|:-:|:-:|:-:|\n",
    );
    for permission in Permission::ALL {
        let mark = |role: Role| if role.can(*permission) { "✓" } else { "" };
        table.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            permission.as_str(),
            permission.description(),
            mark(Role::Admin),
            mark(Role::Manager),
            mark(Role::Agent),
        ));
    }
    let docs = include_str!("../../shared/docs/accounts.md");
    assert_eq!(
        between(docs, "<!-- rbac:start -->", "<!-- rbac:end -->"),
        table.trim(),
        "shared/docs/accounts.md: paste the table above"
    );
}

#[test]
fn the_transition_table_in_the_docs_is_the_code() {
    use soraaya_domain::{LeadStatus, MovedBy, TRANSITIONS};
    let mut table = String::from(
        "| from | people or the system may move it to | only the calling system may move it to |\n|---|---|---|\n",
    );
    for from in LeadStatus::ALL {
        let to = |who: MovedBy| {
            let names: Vec<String> = TRANSITIONS
                .iter()
                .filter(|(f, _, by)| *f == from && *by == who)
                .map(|(_, t, _)| format!("`{t}`"))
                .collect();
            if names.is_empty() {
                "—".to_owned()
            } else {
                names.join(", ")
            }
        };
        table.push_str(&format!(
            "| `{from}` | {} | {} |\n",
            to(MovedBy::Anyone),
            to(MovedBy::System)
        ));
    }
    let docs = include_str!("../../shared/docs/leads.md");
    assert_eq!(
        between(
            docs,
            "<!-- transitions:start -->",
            "<!-- transitions:end -->"
        ),
        table.trim(),
        "shared/docs/leads.md: paste the table above"
    );
}

/// The OpenAPI document every function serves is the one the handlers
/// generate. `SORAAYA_UPDATE_OPENAPI=1` rewrites it after an API change.
#[test]
fn the_served_openapi_document_is_the_generated_one() {
    let generated = format!(
        "{}\n",
        soraaya_api::openapi()
            .to_pretty_json()
            .expect("the document serialises")
    );
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/api/openapi.json");
    if std::env::var("SORAAYA_UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(path, &generated).expect("write shared/api/openapi.json");
        return;
    }
    assert!(
        soraaya_api::OPENAPI_JSON == generated,
        "shared/api/openapi.json is out of date: run SORAAYA_UPDATE_OPENAPI=1 cargo test -p soraaya-tests --test integration docs::"
    );
}

/// The documentation page for people, and the files it loads, all from this
/// server (Swagger UI vendored by `infra/vendor-swagger-ui.sh`).
#[tokio::test]
async fn the_api_documentation_page_is_served_without_a_cdn() {
    let t = soraaya_tests::TestApp::new().await;
    let page = t
        .request(http::Method::GET, "/api/v1/docs", None, None)
        .await;
    page.expect(200);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.body.as_str().expect("the page");
    let policy = page.headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    let mut loaded = Vec::new();
    for part in html.split(['"', '\'']) {
        if part.starts_with("/api/v1/docs/") {
            loaded.push(part.to_owned());
        }
    }
    assert_eq!(loaded.len(), 3, "{html}");
    assert!(!html.contains("http"), "nothing from elsewhere: {html}");
    for file in loaded {
        let response = t.request(http::Method::GET, &file, None, None).await;
        response.expect(200);
        let text = response.body.as_str().expect("text");
        assert!(text.len() > 20, "{file}");
        if file.ends_with("swagger-ui-bundle.js") {
            assert!(text.contains("SwaggerUIBundle"));
        }
        if file.ends_with("start.js") {
            assert!(text.contains("/api/v1/openapi.json"));
        }
    }
    // A browser (which accepts gzip) gets the large files as they are kept.
    for (file, inflated) in [
        ("/api/v1/docs/swagger-ui-bundle.js", "SwaggerUIBundle"),
        ("/api/v1/docs/swagger-ui.css", ".swagger-ui"),
    ] {
        let plain = t.request(http::Method::GET, file, None, None).await;
        let request = http::Request::get(file)
            .header("accept-encoding", "br;q=1.0, gzip;q=0.8, *;q=0.1")
            .body(axum::body::Body::empty())
            .unwrap();
        let (status, headers, gzipped) = t.send_raw(request).await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-encoding"], "gzip");
        assert_eq!(headers["vary"], "accept-encoding");
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gzipped[..]), &mut text)
            .unwrap();
        assert!(text.contains(inflated), "{file}");
        assert_eq!(plain.body.as_str(), Some(text.as_str()), "{file}");
        assert!(gzipped.len() * 3 < text.len(), "{file} is compressed");
        assert!(plain.headers.get("content-encoding").is_none());
    }
}

/// OpenAPI names a schema by its type's name and keeps the last of two
/// types of one name, silently: every documented type's name is unique.
#[test]
fn no_two_documented_types_share_a_name() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut seen: std::collections::BTreeMap<String, String> = Default::default();
    let mut twice = Vec::new();
    let mut dirs = vec![root.join("shared")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                if !(line.contains("#[derive(") && line.contains("ToSchema")) {
                    continue;
                }
                let Some(name) = lines[i + 1..].iter().take(8).find_map(|l| {
                    let l = l.trim_start();
                    let rest = l
                        .strip_prefix("pub struct ")
                        .or_else(|| l.strip_prefix("pub enum "))?;
                    Some(
                        rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                            .next()?
                            .to_owned(),
                    )
                }) else {
                    continue;
                };
                // Types a macro declares (`pub struct $name`) are named where it is used.
                if name.is_empty() {
                    continue;
                }
                let at = path.display().to_string();
                if let Some(first) = seen.insert(name.clone(), at.clone()) {
                    twice.push(format!("{name}: {first} and {at}"));
                }
            }
        }
    }
    assert!(twice.is_empty(), "types of one name: {twice:?}");
}
