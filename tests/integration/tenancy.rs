//! Tenancy: an organisation's token never reaches another organisation's data.

use serde_json::json;
use soraaya_tests::TestApp;

#[tokio::test]
async fn an_org_b_token_never_reads_or_changes_org_a_data() {
    let t = TestApp::new().await;
    let (_, a_admin) = t
        .organisation("Skyline Estates", "asha@skyline.in", "skyline admin pass")
        .await;
    let (_, b_admin) = t
        .organisation("Harbour Homes", "farah@harbour.in", "harbour admin pass")
        .await;
    let a_user = t
        .user(&a_admin, "ravi@skyline.in", "agent", "worli-sea-link-1")
        .await;
    let a_admin_id = t.get("/api/v1/auth/me", &a_admin).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Reads: 404, as if the user did not exist, with nothing of A in the answer.
    for id in [&a_user, &a_admin_id] {
        let read = t.get(&format!("/api/v1/users/{id}"), &b_admin).await;
        read.expect(404);
        assert!(!read.body.to_string().contains("skyline"), "{}", read.body);
    }
    let list = t.get("/api/v1/users", &b_admin).await;
    assert_eq!(list.body["total"], 1);
    assert!(!list.body.to_string().contains("skyline"));

    // Writes: 404, and A's user is untouched.
    t.patch(
        &format!("/api/v1/users/{a_user}"),
        &b_admin,
        json!({ "role": "admin" }),
    )
    .await
    .expect(404);
    t.patch(
        &format!("/api/v1/users/{a_admin_id}"),
        &b_admin,
        json!({ "is_active": false }),
    )
    .await
    .expect(404);
    let unchanged = t.get(&format!("/api/v1/users/{a_user}"), &a_admin).await;
    assert_eq!(unchanged.body["role"], "agent");
    t.token("asha@skyline.in", "skyline admin pass").await;

    // The organisation is taken from the token, never from the request.
    let created = t
        .post(
            "/api/v1/users",
            Some(&b_admin),
            json!({ "email": "new@harbour.in", "full_name": "New", "role": "agent", "password": "harbour agent 1", "org_id": "ignored" }),
        )
        .await;
    created.expect(422);
    let me = t.get("/api/v1/auth/me", &b_admin).await;
    let b_org = me.body["org_id"].as_str().unwrap().to_owned();
    let added = t
        .user(&b_admin, "new@harbour.in", "agent", "harbour agent 1")
        .await;
    let added = t.get(&format!("/api/v1/users/{added}"), &b_admin).await;
    assert_eq!(added.body["org_id"], b_org.as_str());
    assert_eq!(t.get("/api/v1/users", &a_admin).await.body["total"], 2);
}
