//! A fresh app per test on the embedded store with a hand-moved clock, called
//! through its router in-process (no sockets).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use soraaya_accounts::{NewOrganisation, create_organisation};
use soraaya_api::{all_routes, router};
use soraaya_core::{App, AppState, Config, ManualClock};
use soraaya_domain::{
    Email, OrgId, OrgName, Password, PersonName, Region, TimeZoneName, Timestamp,
};
use soraaya_local::outbox::{Outbox, SentMail};
use soraaya_store::ItemStore;
use tower::ServiceExt;

pub struct TestApp {
    pub app: AppState,
    pub clock: Arc<ManualClock>,
    router: Router,
    /// The app's email, when this TestApp made the app (see [`TestApp::on`]).
    outbox: Option<(Arc<Outbox>, Arc<tempfile::TempDir>)>,
}

/// The public URL the test apps' email links point at.
pub const PUBLIC_URL: &str = "https://soraaya.test";

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestResponse {
    /// The `error.code` of an error envelope.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        self
    }
}

/// 2026-11-23 10:00 UTC.
pub fn start_time() -> Timestamp {
    "2026-11-23T10:00:00Z".parse().expect("valid timestamp")
}

impl TestApp {
    pub async fn new() -> TestApp {
        TestApp::on(crate::embedded_store()).await
    }

    /// An app on `store` whose email goes to an outbox in a temporary
    /// directory (read with [`TestApp::mail_to`]), its links to [`PUBLIC_URL`].
    pub async fn on(store: Arc<dyn ItemStore>) -> TestApp {
        let clock = Arc::new(ManualClock::at(start_time()));
        let mut config = Config::with_secret("integration-test-secret-".repeat(3)).expect("config");
        config.calling.public_url = Some(PUBLIC_URL.to_owned());
        let dir = Arc::new(tempfile::tempdir().expect("outbox dir"));
        let outbox = Arc::new(Outbox::new(dir.path().join("outbox"), clock.clone()));
        let app = Arc::new(
            App::with_clock(config, store, clock.clone()).with_mailer(Arc::clone(&outbox) as _),
        );
        let mut test = TestApp::from_app(app, clock);
        test.outbox = Some((outbox, dir));
        test
    }

    /// The email sent to `to`, oldest first.
    pub fn mail_to(&self, to: &str) -> Vec<SentMail> {
        let (outbox, _) = self.outbox.as_ref().expect("an app made by TestApp::on");
        outbox.to(to).expect("read the outbox")
    }

    /// The token of the last reset link sent to `to`.
    pub fn reset_token(&self, to: &str) -> String {
        let mail = self.mail_to(to);
        let last = mail.last().unwrap_or_else(|| panic!("no email to {to}"));
        let link = last
            .link(&format!("{PUBLIC_URL}/reset-password?token="))
            .unwrap_or_else(|| panic!("no reset link in {:?}", last.mail.text));
        link.rsplit_once("token=").expect("token").1.to_owned()
    }

    /// Every router over `app`, whose clock is `clock`.
    pub fn from_app(app: AppState, clock: Arc<ManualClock>) -> TestApp {
        TestApp::from_app_with(app, clock, Router::new())
    }

    /// Every router over `app`, and `more` routes besides.
    pub fn from_app_with(app: AppState, clock: Arc<ManualClock>, more: Router) -> TestApp {
        TestApp {
            router: more.merge(router(Arc::clone(&app), all_routes())),
            app,
            clock,
            outbox: None,
        }
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .expect("request");
        self.send(request).await
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let (status, headers, bytes) = self.send_raw(request).await;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// The response as sent: status, headers and the body's bytes.
    pub async fn send_raw(
        &self,
        request: Request<Body>,
    ) -> (StatusCode, HeaderMap, axum::body::Bytes) {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, headers, bytes)
    }

    pub async fn get(&self, path: &str, token: &str) -> TestResponse {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> TestResponse {
        self.request(Method::PUT, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> TestResponse {
        self.request(Method::DELETE, path, Some(token), None).await
    }

    /// Sends a raw body with a content type.
    pub async fn post_raw(
        &self,
        path: &str,
        token: &str,
        content_type: &str,
        body: impl Into<Body>,
    ) -> TestResponse {
        self.send(
            Request::post(path)
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", content_type)
                .body(body.into())
                .expect("request"),
        )
        .await
    }

    /// Creates a lead through the API; returns it.
    pub async fn lead(&self, token: &str, body: Value) -> Value {
        let response = self.post("/api/v1/leads", Some(token), body).await;
        response.expect(201);
        response.body
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> TestResponse {
        self.request(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn login(&self, email: &str, password: &str) -> TestResponse {
        self.post(
            "/api/v1/auth/login",
            None,
            serde_json::json!({ "email": email, "password": password }),
        )
        .await
    }

    /// Signs in from a client address (as `soraaya serve` sees its peers).
    pub async fn login_from(&self, address: &str, email: &str, password: &str) -> TestResponse {
        let peer: std::net::SocketAddr = format!("{address}:50000").parse().expect("address");
        let request = Request::post("/api/v1/auth/login")
            .header("content-type", "application/json")
            .extension(axum::extract::ConnectInfo(peer))
            .body(Body::from(
                serde_json::json!({ "email": email, "password": password }).to_string(),
            ))
            .expect("request");
        self.send(request).await
    }

    /// Signs in and returns the access token, failing the test otherwise.
    pub async fn token(&self, email: &str, password: &str) -> String {
        let response = self.login(email, password).await;
        response.expect(200);
        response.body["access_token"]
            .as_str()
            .expect("access token")
            .to_owned()
    }

    /// Creates an organisation whose admin is `admin_email` / `password`;
    /// returns its id and the admin's access token.
    pub async fn organisation(
        &self,
        name: &str,
        admin_email: &str,
        password: &str,
    ) -> (OrgId, String) {
        let (org, _) = create_organisation(
            &self.app,
            NewOrganisation {
                name: OrgName::parse(name).expect("name"),
                default_region: Region::INDIA,
                time_zone: TimeZoneName::india(),
                admin_email: Email::parse(admin_email).expect("email"),
                admin_name: PersonName::parse("Org Admin").expect("name"),
                admin_password: Password::parse(password).expect("password"),
            },
        )
        .await
        .expect("create organisation");
        (org.id, self.token(admin_email, password).await)
    }

    /// Adds a user through the API as `admin_token`; returns the user's id.
    pub async fn user(&self, admin_token: &str, email: &str, role: &str, password: &str) -> String {
        let response = self
            .post(
                "/api/v1/users",
                Some(admin_token),
                serde_json::json!({ "email": email, "full_name": "Team Member", "role": role, "password": password }),
            )
            .await;
        response.expect(201);
        response.body["id"].as_str().expect("id").to_owned()
    }
}
