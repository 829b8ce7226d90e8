//! The sample events in `events/` go through this function's handler exactly
//! as the Lambda runtime passes them. Their `{{ACCESS_TOKEN}}` is replaced by a
//! token signed for the test organisation.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use std::sync::Arc;

use lambda_http::lambda_runtime::{Context, LambdaEvent};
use lambda_http::request::LambdaRequest;
use serde_json::Value;
use soraaya_accounts::{NewOrganisation, create_organisation, login};
use soraaya_core::{App, AppState, Config};
use soraaya_domain::{Email, OrgName, Password, PersonName, Region, TimeZoneName};
use soraaya_store::EmbeddedStore;
use tower::ServiceExt;

async fn app_and_token() -> (AppState, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path().join("store.redb")).unwrap());
    let app = Arc::new(App::new(
        Config::with_secret("e".repeat(48)).unwrap(),
        store,
    ));
    let email = Email::parse("asha@skyline-estates.in").unwrap();
    create_organisation(
        &app,
        NewOrganisation {
            name: OrgName::parse("Skyline Estates").unwrap(),
            default_region: Region::INDIA,
            time_zone: TimeZoneName::india(),
            admin_email: email.clone(),
            admin_name: PersonName::parse("Asha Kapoor").unwrap(),
            admin_password: Password::parse("sea-facing-4bhk").unwrap(),
        },
    )
    .await
    .unwrap();
    let token = login(&app, &email, "sea-facing-4bhk", None, true)
        .await
        .unwrap()
        .tokens
        .access_token;
    (app, token, dir)
}

async fn send(app: &AppState, event: &str, token: &str) -> (u16, Value) {
    let event: LambdaRequest =
        serde_json::from_str(&event.replace("{{ACCESS_TOKEN}}", token)).unwrap();
    let adapter = lambda_http::Adapter::from(leads_api::handler(app.clone()));
    let response = adapter
        .oneshot(LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    let response = serde_json::to_value(&response).unwrap();
    let status = response["statusCode"].as_u64().unwrap() as u16;
    let body =
        serde_json::from_str(response["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test]
async fn import_then_list_events_run_through_the_handler() {
    let (app, token, _dir) = app_and_token().await;
    let (status, report) = send(
        &app,
        include_str!("../../../events/leads-import.json"),
        &token,
    )
    .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["imported"], 2, "{report}");
    assert_eq!(report["rejected"], 0, "{report}");

    let (status, page) = send(
        &app,
        include_str!("../../../events/leads-list.json"),
        &token,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], 2);
    assert_eq!(page["limit"], 20);
    let phones: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["phone_number"].as_str().unwrap())
        .collect();
    assert!(phones.contains(&"+919820122222"), "{phones:?}");

    let (status, body) = send(
        &app,
        include_str!("../../../events/leads-list.json"),
        "not-a-token",
    )
    .await;
    assert_eq!(status, 401, "{body}");
}
