//! User administration: creation, validation, roles, deactivation, the last admin.

use serde_json::json;
use soraaya_tests::TestApp;

const PASSWORD: &str = "bandstand-promenade";

#[tokio::test]
async fn admins_create_users_who_can_sign_in() {
    let t = TestApp::new().await;
    let (_, admin) = t
        .organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let created = t
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({ "email": "Ravi@Skyline.in", "full_name": "  Ravi   Mehta ", "role": "manager", "password": "worli-sea-link-1" }),
        )
        .await;
    created.expect(201);
    assert_eq!(created.body["email"], "ravi@skyline.in");
    assert_eq!(created.body["full_name"], "Ravi Mehta");
    assert_eq!(created.body["role"], "manager");
    assert_eq!(created.body["is_active"], true);

    let manager = t.token("ravi@skyline.in", "worli-sea-link-1").await;
    let permissions = t.get("/api/v1/user/permissions", &manager).await;
    assert_eq!(permissions.body["role"], "manager");
    assert!(
        !permissions.body["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("users:manage"))
    );

    let list = t.get("/api/v1/users", &admin).await;
    list.expect(200);
    assert_eq!(list.body["total"], 2);
    let id = created.body["id"].as_str().unwrap();
    t.get(&format!("/api/v1/users/{id}"), &admin)
        .await
        .expect(200);
}

#[tokio::test]
async fn invalid_users_are_refused_field_by_field() {
    let t = TestApp::new().await;
    let (_, admin) = t
        .organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let response = t
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({ "email": "nope", "full_name": " ", "role": "agent", "password": "short" }),
        )
        .await;
    response.expect(422);
    assert_eq!(
        response.body["error"]["details"],
        json!([
            { "field": "email", "message": "is not a valid email address" },
            { "field": "full_name", "message": "is required" },
            { "field": "password", "message": "must be at least 10 characters" },
        ])
    );
    let role = t
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({ "email": "x@skyline.in", "full_name": "X", "role": "owner", "password": "long enough 1" }),
        )
        .await;
    role.expect(422);
    assert_eq!(role.body["error"]["details"][0]["field"], "role");

    let typo = t
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({ "email": "x@skyline.in", "full_name": "X", "role": "agent", "password": "long enough 1", "rol": "admin" }),
        )
        .await;
    typo.expect(422);
    assert_eq!(
        typo.body["error"]["details"][0],
        json!({ "field": "rol", "message": "is not a known field" })
    );

    t.user(&admin, "meera@skyline.in", "agent", "juhu-beach-house")
        .await;
    let duplicate = t
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({ "email": "MEERA@skyline.in", "full_name": "Meera", "role": "agent", "password": "juhu-beach-house" }),
        )
        .await;
    duplicate.expect(409);
    assert_eq!(duplicate.code(), "email_taken");

    let bad_id = t.get("/api/v1/users/not-a-uuid", &admin).await;
    bad_id.expect(400);
    assert_eq!(bad_id.code(), "invalid_path");
    assert_eq!(bad_id.body["error"]["details"][0]["field"], "id");
}

#[tokio::test]
async fn only_admins_manage_users() {
    let t = TestApp::new().await;
    let (_, admin) = t
        .organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    t.user(&admin, "ravi@skyline.in", "manager", "worli-sea-link-1")
        .await;
    t.user(&admin, "meera@skyline.in", "agent", "juhu-beach-house")
        .await;
    for (email, password) in [
        ("ravi@skyline.in", "worli-sea-link-1"),
        ("meera@skyline.in", "juhu-beach-house"),
    ] {
        let token = t.token(email, password).await;
        let list = t.get("/api/v1/users", &token).await;
        list.expect(403);
        assert_eq!(list.code(), "forbidden");
        assert_eq!(
            list.body["error"]["details"]["required_permission"],
            "users:manage"
        );
        t.post(
            "/api/v1/users",
            Some(&token),
            json!({ "email": "new@skyline.in", "full_name": "New", "role": "admin", "password": "long enough 1" }),
        )
        .await
        .expect(403);
    }
}

#[tokio::test]
async fn a_role_change_ends_the_users_sessions() {
    let t = TestApp::new().await;
    let (_, admin) = t
        .organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let id = t
        .user(&admin, "ravi@skyline.in", "agent", "worli-sea-link-1")
        .await;
    let before = t.token("ravi@skyline.in", "worli-sea-link-1").await;
    let changed = t
        .patch(
            &format!("/api/v1/users/{id}"),
            &admin,
            json!({ "role": "manager" }),
        )
        .await;
    changed.expect(200);
    assert_eq!(changed.body["role"], "manager");
    let stale = t.get("/api/v1/auth/me", &before).await;
    stale.expect(401);
    assert_eq!(stale.code(), "session_ended");
    let after = t.token("ravi@skyline.in", "worli-sea-link-1").await;
    let permissions = t.get("/api/v1/user/permissions", &after).await;
    assert_eq!(permissions.body["role"], "manager");
}

#[tokio::test]
async fn deactivated_users_cannot_sign_in_and_reactivation_restores_them() {
    let t = TestApp::new().await;
    let (_, admin) = t
        .organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let id = t
        .user(&admin, "meera@skyline.in", "agent", "juhu-beach-house")
        .await;
    let token = t.token("meera@skyline.in", "juhu-beach-house").await;
    t.patch(
        &format!("/api/v1/users/{id}"),
        &admin,
        json!({ "is_active": false }),
    )
    .await
    .expect(200);
    t.get("/api/v1/auth/me", &token).await.expect(401);
    // A deactivated account answers as a wrong password does: the answer
    // does not tell a guesser that the password was right.
    let refused = t.login("meera@skyline.in", "juhu-beach-house").await;
    let wrong = t.login("meera@skyline.in", "not-the-password").await;
    refused.expect(401);
    assert_eq!(refused.code(), "invalid_credentials");
    assert_eq!(refused.body, wrong.body);
    t.patch(
        &format!("/api/v1/users/{id}"),
        &admin,
        json!({ "is_active": true }),
    )
    .await
    .expect(200);
    t.login("meera@skyline.in", "juhu-beach-house")
        .await
        .expect(200);
}

#[tokio::test]
async fn the_last_active_admin_stays() {
    let t = TestApp::new().await;
    let (_, admin) = t
        .organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let me = t.get("/api/v1/auth/me", &admin).await;
    let admin_id = me.body["id"].as_str().unwrap().to_owned();
    for change in [json!({ "role": "manager" }), json!({ "is_active": false })] {
        let refused = t
            .patch(&format!("/api/v1/users/{admin_id}"), &admin, change)
            .await;
        refused.expect(409);
        assert_eq!(refused.code(), "last_admin");
    }
    // With a second admin, the first may step down.
    t.user(&admin, "second@skyline.in", "admin", "second admin pass")
        .await;
    t.patch(
        &format!("/api/v1/users/{admin_id}"),
        &admin,
        json!({ "role": "manager" }),
    )
    .await
    .expect(200);
    let second = t.token("second@skyline.in", "second admin pass").await;
    let second_id = t.get("/api/v1/auth/me", &second).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = t
        .patch(
            &format!("/api/v1/users/{second_id}"),
            &second,
            json!({ "is_active": false }),
        )
        .await;
    refused.expect(409);
}
