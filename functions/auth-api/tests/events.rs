//! The sample events in `events/` go through this function's handler exactly
//! as the Lambda runtime passes them (API Gateway v2 in, v2 response out).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use std::sync::Arc;

use lambda_http::lambda_runtime::{Context, LambdaEvent};
use lambda_http::request::LambdaRequest;
use soraaya_accounts::{NewOrganisation, create_organisation};
use soraaya_core::{App, Config};
use soraaya_domain::{Email, OrgName, Password, PersonName, Region, TimeZoneName};
use soraaya_store::EmbeddedStore;
use tower::ServiceExt;

async fn app_with_admin(
    email: &str,
    password: &str,
) -> (soraaya_core::AppState, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path().join("store.redb")).unwrap());
    let app = Arc::new(App::new(
        Config::with_secret("e".repeat(48)).unwrap(),
        store,
    ));
    create_organisation(
        &app,
        NewOrganisation {
            name: OrgName::parse("Skyline Estates").unwrap(),
            default_region: Region::INDIA,
            time_zone: TimeZoneName::india(),
            admin_email: Email::parse(email).unwrap(),
            admin_name: PersonName::parse("Asha Kapoor").unwrap(),
            admin_password: Password::parse(password).unwrap(),
        },
    )
    .await
    .unwrap();
    (app, dir)
}

#[tokio::test]
async fn login_event_signs_in_through_the_handler() {
    let (app, _dir) = app_with_admin("asha@skyline-estates.in", "sea-facing-4bhk").await;
    let event: LambdaRequest =
        serde_json::from_str(include_str!("../../../events/auth-login.json")).unwrap();
    let adapter = lambda_http::Adapter::from(auth_api::handler(app));
    let response = adapter
        .oneshot(LambdaEvent::new(event, Context::default()))
        .await
        .unwrap();
    let response = serde_json::to_value(&response).unwrap();
    assert_eq!(response["statusCode"], 200, "{response}");
    let body: serde_json::Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["access_token"].as_str().unwrap().len() > 20);
    assert!(body["refresh_token"].as_str().unwrap().starts_with("v1."));
    assert_eq!(body["user"]["email"], "asha@skyline-estates.in");
    assert_eq!(body["user"]["role"], "admin");
}
