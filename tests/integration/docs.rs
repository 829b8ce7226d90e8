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
