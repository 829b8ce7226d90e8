//! Signing in, tokens, throttling, and bad input to the auth endpoints.

use http::Method;
use jiff::SignedDuration;
use serde_json::json;
use soraaya_tests::TestApp;

const PASSWORD: &str = "marine-drive-view";

#[tokio::test]
async fn login_returns_tokens_and_me_returns_the_user() {
    let t = TestApp::new().await;
    t.organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let login = t.login("Asha@Skyline.in", PASSWORD).await;
    login.expect(200);
    let body = &login.body;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["email"], "asha@skyline.in");
    assert_eq!(body["user"]["role"], "admin");
    assert!(body["user"].get("password_hash").is_none());
    assert!(body["user"]["last_login_at"].is_string());

    let token = body["access_token"].as_str().unwrap();
    let me = t.get("/api/v1/auth/me", token).await;
    me.expect(200);
    assert_eq!(me.body["email"], "asha@skyline.in");

    let permissions = t.get("/api/v1/user/permissions", token).await;
    permissions.expect(200);
    assert_eq!(permissions.body["role"], "admin");
    assert!(
        permissions.body["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("users:manage"))
    );
}

#[tokio::test]
async fn wrong_password_is_401_in_the_envelope() {
    let t = TestApp::new().await;
    t.organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    for (email, password) in [
        ("asha@skyline.in", "not-the-password"),
        ("nobody@skyline.in", PASSWORD),
    ] {
        let response = t.login(email, password).await;
        response.expect(401);
        assert_eq!(response.code(), "invalid_credentials");
        assert_eq!(
            response.body["error"]["message"],
            "email or password is wrong"
        );
        assert!(response.body["error"].get("details").is_some());
        assert_eq!(response.headers["www-authenticate"], "Bearer");
    }
}

#[tokio::test]
async fn sixth_failed_login_within_15_minutes_is_429_with_retry_after() {
    let t = TestApp::new().await;
    t.organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    for attempt in 1..=5 {
        t.clock.advance(SignedDuration::from_secs(60));
        let response = t
            .login("asha@skyline.in", &format!("guess number {attempt}"))
            .await;
        response.expect(401);
    }
    let sixth = t.login("asha@skyline.in", "guess number 6").await;
    sixth.expect(429);
    assert_eq!(sixth.code(), "too_many_requests");
    // The first failure was 4 minutes ago: 11 minutes to wait.
    assert_eq!(sixth.headers["retry-after"], "660");
    assert_eq!(sixth.body["error"]["details"]["retry_after_seconds"], 660);

    // Locked means locked, even with the right password.
    t.login("asha@skyline.in", PASSWORD).await.expect(429);

    // Still locked a second early; once the oldest failure leaves the window,
    // one more try is allowed.
    t.clock.advance(SignedDuration::from_secs(659));
    t.login("asha@skyline.in", PASSWORD).await.expect(429);
    t.clock.advance(SignedDuration::from_secs(1));
    t.login("asha@skyline.in", PASSWORD).await.expect(200);
    // Success clears the count.
    for _ in 0..5 {
        t.login("asha@skyline.in", "wrong again!").await.expect(401);
    }
    t.login("asha@skyline.in", "wrong again!").await.expect(429);
}

#[tokio::test]
async fn unknown_accounts_are_throttled_too() {
    let t = TestApp::new().await;
    for _ in 0..5 {
        t.login("ghost@skyline.in", "whatever-it-is")
            .await
            .expect(401);
    }
    t.login("ghost@skyline.in", "whatever-it-is")
        .await
        .expect(429);
}

#[tokio::test]
async fn one_address_guessing_many_accounts_is_limited_and_cannot_lock_the_owner_out() {
    let t = TestApp::new().await;
    t.organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let attacker = "203.0.113.7";
    // Five wrong guesses at the owner's account from the attacker...
    for _ in 0..5 {
        t.login_from(attacker, "asha@skyline.in", "guess")
            .await
            .expect(401);
    }
    // ...lock the account from that address only.
    t.login_from(attacker, "asha@skyline.in", PASSWORD)
        .await
        .expect(429);
    t.login_from("198.51.100.20", "asha@skyline.in", PASSWORD)
        .await
        .expect(200);
    // The attacker's address may try 30 times in 15 minutes, over any
    // accounts (the refused attempt above counts too).
    for i in 0..24 {
        t.login_from(attacker, &format!("agent{i}@skyline.in"), "guess")
            .await
            .expect(401);
    }
    let refused = t
        .login_from(attacker, "someone-else@skyline.in", "guess")
        .await;
    refused.expect(429);
    assert!(refused.headers.contains_key("retry-after"));
    // The owner still signs in from elsewhere, and the window slides.
    t.login_from("198.51.100.20", "asha@skyline.in", PASSWORD)
        .await
        .expect(200);
    t.clock.advance(SignedDuration::from_secs(15 * 60 + 1));
    t.login_from(attacker, "someone-else@skyline.in", "guess")
        .await
        .expect(401);
}

#[tokio::test]
async fn guessing_one_account_from_many_addresses_meets_a_ceiling() {
    let t = TestApp::new().await;
    for address in 0..20 {
        for _ in 0..5 {
            t.login_from(&format!("203.0.113.{address}"), "ghost@skyline.in", "guess")
                .await
                .expect(401);
        }
    }
    // 100 failures from anywhere: the account waits, from any address.
    t.login_from("198.51.100.1", "ghost@skyline.in", "guess")
        .await
        .expect(429);
}

#[tokio::test]
async fn parallel_guesses_cannot_exceed_the_limit() {
    let t = std::sync::Arc::new(TestApp::new().await);
    t.organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let t = std::sync::Arc::clone(&t);
        tasks.push(tokio::spawn(async move {
            t.login("asha@skyline.in", &format!("parallel guess {i}"))
                .await
                .status
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        7,
        "{statuses:?}"
    );
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_replay_after_the_grace_revokes_the_family() {
    let t = TestApp::new().await;
    t.organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let login = t.login("asha@skyline.in", PASSWORD).await;
    let first = login.body["refresh_token"].as_str().unwrap().to_owned();
    let access = login.body["access_token"].as_str().unwrap().to_owned();

    let rotated = t
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": first }),
        )
        .await;
    rotated.expect(200);
    let second = rotated.body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    assert_eq!(rotated.body["user"]["email"], "asha@skyline.in");

    // A retry within the grace (the client timed out) gets the same pair.
    t.clock.advance(SignedDuration::from_secs(20));
    let retried = t
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": first }),
        )
        .await;
    retried.expect(200);
    assert_eq!(retried.body["refresh_token"], rotated.body["refresh_token"]);
    assert_eq!(retried.body["access_token"], rotated.body["access_token"]);

    // After the grace, replaying the used token is theft or a bug: the
    // whole session ends.
    t.clock.advance(SignedDuration::from_secs(11));
    let replay = t
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": first }),
        )
        .await;
    replay.expect(401);
    assert_eq!(replay.code(), "refresh_token_reused");
    let after = t
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": second }),
        )
        .await;
    after.expect(401);
    assert_eq!(after.code(), "session_ended");
    let me = t.get("/api/v1/auth/me", &access).await;
    me.expect(401);
    assert_eq!(me.code(), "session_ended");

    // Another login is a new, independent session.
    t.login("asha@skyline.in", PASSWORD).await.expect(200);
    let garbage = t
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": "v1.nope" }),
        )
        .await;
    garbage.expect(401);
    assert_eq!(garbage.code(), "invalid_token");
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_get_one_pair_that_keeps_working() {
    let t = TestApp::new().await;
    t.organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let login = t.login("asha@skyline.in", PASSWORD).await;
    let first = login.body["refresh_token"].as_str().unwrap().to_owned();
    let refresh = || {
        t.post(
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": first }),
        )
    };
    let (a, b, c, d) = tokio::join!(refresh(), refresh(), refresh(), refresh());
    let answers = [a, b, c, d];
    for answer in &answers {
        answer.expect(200);
        assert_eq!(
            answer.body["refresh_token"],
            answers[0].body["refresh_token"]
        );
        assert_eq!(answer.body["access_token"], answers[0].body["access_token"]);
    }
    let successor = answers[0].body["refresh_token"].as_str().unwrap();
    assert_ne!(successor, first);
    // The pair they got is the session's: it refreshes, and the access token works.
    let access = answers[0].body["access_token"].as_str().unwrap();
    t.get("/api/v1/auth/me", access).await.expect(200);
    t.post(
        "/api/v1/auth/refresh",
        None,
        json!({ "refresh_token": successor }),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn access_tokens_expire_and_logout_ends_the_session() {
    let t = TestApp::new().await;
    t.organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let token = t.token("asha@skyline.in", PASSWORD).await;
    t.clock.advance(SignedDuration::from_secs(14 * 60));
    t.get("/api/v1/auth/me", &token).await.expect(200);
    t.clock.advance(SignedDuration::from_secs(61));
    let expired = t.get("/api/v1/auth/me", &token).await;
    expired.expect(401);
    assert_eq!(expired.code(), "token_expired");

    let login = t.login("asha@skyline.in", PASSWORD).await;
    let token = login.body["access_token"].as_str().unwrap().to_owned();
    let refresh = login.body["refresh_token"].as_str().unwrap().to_owned();
    t.request(Method::POST, "/api/v1/auth/logout", Some(&token), None)
        .await
        .expect(204);
    t.get("/api/v1/auth/me", &token).await.expect(401);
    t.post(
        "/api/v1/auth/refresh",
        None,
        json!({ "refresh_token": refresh }),
    )
    .await
    .expect(401);
}

#[tokio::test]
async fn logout_everywhere_ends_every_session() {
    let t = TestApp::new().await;
    t.organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let laptop = t.token("asha@skyline.in", PASSWORD).await;
    let phone = t.token("asha@skyline.in", PASSWORD).await;
    t.request(
        Method::POST,
        "/api/v1/auth/logout?everywhere=true",
        Some(&laptop),
        None,
    )
    .await
    .expect(204);
    t.get("/api/v1/auth/me", &phone).await.expect(401);
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx() {
    let t = TestApp::new().await;
    let missing = t
        .post(
            "/api/v1/auth/login",
            None,
            json!({ "email": "asha@skyline.in" }),
        )
        .await;
    missing.expect(422);
    assert_eq!(missing.code(), "validation_failed");
    assert_eq!(
        missing.body["error"]["details"],
        json!([{ "field": "password", "message": "is required" }])
    );

    let both = t
        .post(
            "/api/v1/auth/login",
            None,
            json!({ "email": "not-an-email", "password": "" }),
        )
        .await;
    both.expect(422);
    let fields: Vec<&str> = both.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "password"]);

    let wrong_type = t
        .post(
            "/api/v1/auth/login",
            None,
            json!({ "email": 42, "password": "x" }),
        )
        .await;
    wrong_type.expect(422);
    assert_eq!(wrong_type.body["error"]["details"][0]["field"], "email");

    let malformed = t
        .send(
            http::Request::post("/api/v1/auth/login")
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{\"email\": "))
                .unwrap(),
        )
        .await;
    malformed.expect(400);
    assert_eq!(malformed.code(), "malformed_json");

    let form = t
        .send(
            http::Request::post("/api/v1/auth/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(axum::body::Body::from("email=a"))
                .unwrap(),
        )
        .await;
    form.expect(415);

    let huge = t
        .send(
            http::Request::post("/api/v1/auth/login")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(format!(
                    "{{\"email\":\"{}\"}}",
                    "a".repeat(2 * 1024 * 1024)
                )))
                .unwrap(),
        )
        .await;
    huge.expect(413);

    let no_token = t.request(Method::GET, "/api/v1/auth/me", None, None).await;
    no_token.expect(401);
    assert_eq!(no_token.code(), "missing_token");
    let forged = t
        .get("/api/v1/auth/me", "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl")
        .await;
    forged.expect(401);
    assert_eq!(forged.code(), "invalid_token");

    let nowhere = t.request(Method::GET, "/api/v1/nowhere", None, None).await;
    nowhere.expect(404);
    assert_eq!(nowhere.code(), "no_route");
    let wrong_method = t
        .request(Method::DELETE, "/api/v1/auth/login", None, None)
        .await;
    wrong_method.expect(405);
    assert_eq!(wrong_method.code(), "method_not_allowed");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_health_answers() {
    let t = TestApp::new().await;
    let health = t.request(Method::GET, "/health", None, None).await;
    health.expect(200);
    assert_eq!(health.body["status"], "ok");
    assert!(health.headers.contains_key("x-request-id"));
    let echoed = t
        .send(
            http::Request::get("/health")
                .header("x-request-id", "req-from-gateway-1")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(echoed.headers["x-request-id"], "req-from-gateway-1");
}

#[tokio::test]
async fn the_openapi_document_covers_the_auth_api() {
    let t = TestApp::new().await;
    let doc = t
        .request(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    doc.expect(200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/me",
        "/api/v1/user/permissions",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/health",
    ] {
        assert!(
            doc.body["paths"].get(path).is_some(),
            "{path} missing from the document"
        );
    }
    assert!(doc.body["components"]["schemas"].get("ErrorBody").is_some());
    assert!(
        doc.body["components"]["securitySchemes"]
            .get("bearer")
            .is_some()
    );
}

/// "Remember me" keeps a session for its whole life; without it, a session
/// ends after 12 hours unused, and each use (a refresh) moves that end.
#[tokio::test]
async fn a_session_without_remember_me_ends_after_twelve_hours_unused() {
    let t = TestApp::new().await;
    t.organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let sign_in = |remember: bool| {
        t.post(
            "/api/v1/auth/login",
            None,
            json!({ "email": "asha@skyline.in", "password": PASSWORD, "remember": remember }),
        )
    };
    let refresh = |token: String| {
        t.post(
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": token }),
        )
    };
    let short = sign_in(false).await.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let long = sign_in(true).await.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // Used every 11 hours, the short session goes on past 12 hours.
    t.clock.advance(SignedDuration::from_hours(11));
    let used = refresh(short).await;
    used.expect(200);
    let short = used.body["refresh_token"].as_str().unwrap().to_owned();
    t.clock.advance(SignedDuration::from_hours(11));
    let used = refresh(short).await;
    used.expect(200);
    let short = used.body["refresh_token"].as_str().unwrap().to_owned();
    // Then 13 hours unused: ended. The remembered one, 35 hours on, lives.
    t.clock.advance(SignedDuration::from_hours(13));
    let ended = refresh(short).await;
    ended.expect(401);
    assert_eq!(ended.code(), "session_ended");
    refresh(long).await.expect(200);
}

/// Changing a password: the current one is checked, the new one meets the
/// policy, other sessions end, this one goes on, and only the new one signs in.
#[tokio::test]
async fn changing_a_password_ends_the_other_sessions_and_keeps_this_one() {
    let t = TestApp::new().await;
    t.organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let here = t.login("asha@skyline.in", PASSWORD).await;
    let token = here.body["access_token"].as_str().unwrap().to_owned();
    let here_refresh = here.body["refresh_token"].as_str().unwrap().to_owned();
    let elsewhere = t.token("asha@skyline.in", PASSWORD).await;
    let change = |current: &str, new: &str| {
        t.post(
            "/api/v1/auth/change-password",
            Some(&token),
            json!({ "current_password": current, "new_password": new }),
        )
    };
    for (current, new, field) in [
        ("not my password", "worli-sea-link-2026", "current_password"),
        (PASSWORD, "short", "new_password"),
        (PASSWORD, "Password123", "new_password"),
        (PASSWORD, "ASHA@skyline.in", "new_password"),
        (PASSWORD, PASSWORD, "new_password"),
    ] {
        let refused = change(current, new).await;
        refused.expect(422);
        assert_eq!(
            refused.body["error"]["details"][0]["field"], field,
            "{new}: {}",
            refused.body
        );
    }
    let common = change(PASSWORD, "qwertyuiop").await;
    assert!(
        common.body.to_string().contains("most common passwords"),
        "{}",
        common.body
    );
    change(PASSWORD, "worli-sea-link-2026").await.expect(204);

    t.get("/api/v1/auth/me", &token).await.expect(200);
    t.get("/api/v1/auth/me", &elsewhere).await.expect(401);
    t.post(
        "/api/v1/auth/refresh",
        None,
        json!({ "refresh_token": here_refresh }),
    )
    .await
    .expect(200);
    t.login("asha@skyline.in", PASSWORD).await.expect(401);
    t.login("asha@skyline.in", "worli-sea-link-2026")
        .await
        .expect(200);
    // Without a session, nothing to change.
    t.post(
        "/api/v1/auth/change-password",
        None,
        json!({ "current_password": "worli-sea-link-2026", "new_password": "bandra-bandstand-9" }),
    )
    .await
    .expect(401);
    // A new user's password meets the same policy.
    let user = t
        .post(
            "/api/v1/users",
            Some(&token),
            json!({ "email": "dev@skyline.in", "full_name": "Dev Shah", "role": "agent", "password": "1234567890" }),
        )
        .await;
    user.expect(422);
    assert_eq!(user.body["error"]["details"][0]["field"], "password");
}
