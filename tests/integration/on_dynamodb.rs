//! The accounts flows on DynamoDB (the emulator), proving the repository layer
//! is adapter-neutral, not only the store port.

use serde_json::json;
use soraaya_tests::{TestApp, dynamodb_store};

#[tokio::test]
async fn accounts_work_end_to_end_on_dynamodb() {
    let Some(store) = dynamodb_store(soraaya_app::tables::ALL).await else {
        return;
    };
    let t = TestApp::on(store).await;
    let (_, a_admin) = t
        .organisation("Skyline Estates", "asha@skyline.in", "skyline admin pass")
        .await;
    let (_, b_admin) = t
        .organisation("Harbour Homes", "farah@harbour.in", "harbour admin pass")
        .await;
    let ravi = t
        .user(&a_admin, "ravi@skyline.in", "agent", "worli-sea-link-1")
        .await;

    // Tenancy.
    t.get(&format!("/api/v1/users/{ravi}"), &b_admin)
        .await
        .expect(404);
    assert_eq!(t.get("/api/v1/users", &b_admin).await.body["total"], 1);
    t.post(
        "/api/v1/users",
        Some(&b_admin),
        json!({ "email": "ravi@skyline.in", "full_name": "Dup", "role": "agent", "password": "long enough 1" }),
    )
    .await
    .expect(409);

    // Refresh rotation and replay.
    let login = t.login("ravi@skyline.in", "worli-sea-link-1").await;
    let first = login.body["refresh_token"].as_str().unwrap().to_owned();
    t.post(
        "/api/v1/auth/refresh",
        None,
        json!({ "refresh_token": first }),
    )
    .await
    .expect(200);
    let replay = t
        .post(
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": first }),
        )
        .await;
    assert_eq!(replay.code(), "refresh_token_reused");

    // Role change ends sessions; the last admin stays.
    let token = t.token("ravi@skyline.in", "worli-sea-link-1").await;
    t.patch(
        &format!("/api/v1/users/{ravi}"),
        &a_admin,
        json!({ "role": "manager" }),
    )
    .await
    .expect(200);
    t.get("/api/v1/auth/me", &token).await.expect(401);
    let a_admin_id = t.get("/api/v1/auth/me", &a_admin).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let last = t
        .patch(
            &format!("/api/v1/users/{a_admin_id}"),
            &a_admin,
            json!({ "is_active": false }),
        )
        .await;
    last.expect(409);

    // Throttling.
    for _ in 0..5 {
        t.login("farah@harbour.in", "wrong password!")
            .await
            .expect(401);
    }
    t.login("farah@harbour.in", "harbour admin pass")
        .await
        .expect(429);
}
