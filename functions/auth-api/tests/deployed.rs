//! `auth-api` starts with exactly the environment `template.yaml` gives it
//! (parameters resolved to sample values, on a fresh stack on the emulator)
//! and reaches its tables; without `SORAAYA_JWT_SECRET` it refuses to start
//! and names it. A forgotten password is reset through SES on the emulator.

#![allow(clippy::expect_used, clippy::unwrap_used)] // test code

use soraaya_emulator::deployed::{reaches_its_tables, starts_as_deployed};

#[tokio::test]
async fn it_starts_with_the_environment_the_template_gives_it() {
    let Some(app) = starts_as_deployed("auth-api", "SORAAYA_JWT_SECRET", |vars| async move {
        auth_api::init(&vars).await
    })
    .await
    else {
        return;
    };
    reaches_its_tables(app.store.as_ref()).await;
}

/// Forgot → the email SES sent (on the emulator) → reset → the old session
/// refused → sign in with the new password, through the function as
/// deployed: its tables, its SES sender, its public URL.
#[tokio::test]
async fn a_forgotten_password_is_reset_through_ses() {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use serde_json::{Value, json};
    use soraaya_emulator::deployed::deployed;
    use tower::ServiceExt;

    let Some(deployed) = deployed("auth-api").await else {
        return;
    };
    let endpoint = deployed.vars["AWS_ENDPOINT_URL"].clone();
    soraaya_emulator::emulator_ses_identity(&endpoint, "soraaya.example").await;
    let app = auth_api::init(&deployed.vars).await.expect("starts");
    let email = format!("ravi-{}@skyline.in", &deployed.stack);
    soraaya_accounts::create_organisation(
        &app,
        soraaya_accounts::NewOrganisation {
            name: soraaya_domain::OrgName::parse("Skyline Estates").unwrap(),
            default_region: soraaya_domain::Region::INDIA,
            time_zone: soraaya_domain::TimeZoneName::india(),
            admin_email: soraaya_domain::Email::parse(&email).unwrap(),
            admin_name: soraaya_domain::PersonName::parse("Ravi Kumar").unwrap(),
            admin_password: soraaya_domain::Password::parse("worli-sea-link-1").unwrap(),
        },
    )
    .await
    .expect("organisation");
    let router = auth_api::handler(app);
    let call = |path: &str, token: Option<&str>, body: Option<Value>| {
        let mut request = axum::http::Request::builder()
            .uri(path)
            .method(if body.is_some() { "POST" } else { "GET" })
            .header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = request
            .body(Body::from(body.map(|b| b.to_string()).unwrap_or_default()))
            .unwrap();
        let router = router.clone();
        async move {
            let response = router.oneshot(request).await.unwrap();
            let status = response.status().as_u16();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (
                status,
                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
            )
        }
    };
    let login = |password: &'static str| {
        call(
            "/api/v1/auth/login",
            None,
            Some(json!({ "email": email, "password": password })),
        )
    };
    let (status, signed_in) = login("worli-sea-link-1").await;
    assert_eq!(status, 200, "{signed_in}");
    let session = signed_in["access_token"].as_str().unwrap().to_owned();

    let (status, _) = call(
        "/api/v1/auth/forgot-password",
        None,
        Some(json!({ "email": email })),
    )
    .await;
    assert_eq!(status, 202);
    let sent = soraaya_emulator::emulator_sent_email(&endpoint, &email).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0].source,
        "\"Skyline Estates\" <no-reply@soraaya.example>"
    );
    assert_eq!(sent[0].subject, "Reset your password for Skyline Estates");
    let prefix = "https://api.soraaya.example/reset-password?token=";
    let start = sent[0].body.find(prefix).expect("the link") + prefix.len();
    let token: String = sent[0].body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();

    let (status, body) = call(
        "/api/v1/auth/reset-password",
        None,
        Some(json!({ "token": token, "password": "bandra-bandstand-7" })),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = call("/api/v1/auth/me", Some(&session), None).await;
    assert_eq!(status, 401, "the old session ended");
    assert_eq!(login("worli-sea-link-1").await.0, 401);
    assert_eq!(login("bandra-bandstand-7").await.0, 200);
    let (status, body) = call(
        "/api/v1/auth/reset-password",
        None,
        Some(json!({ "token": token, "password": "another-long-pass-9" })),
    )
    .await;
    assert_eq!(status, 422, "a used link: {body}");
}
