//! The accounts flows on DynamoDB (the emulator), proving the repository layer
//! is adapter-neutral, not only the store port.

use serde_json::json;
use soraaya_tests::{TestApp, dynamodb_store};

#[tokio::test]
async fn accounts_work_end_to_end_on_dynamodb() {
    let Some(store) = dynamodb_store(soraaya_core::tables::ALL).await else {
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
    // Within the grace a retry gets the same pair; after it, a replay revokes.
    t.post(
        "/api/v1/auth/refresh",
        None,
        json!({ "refresh_token": first }),
    )
    .await
    .expect(200);
    t.clock.advance(jiff::SignedDuration::from_secs(31));
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

#[tokio::test]
async fn leads_work_end_to_end_on_dynamodb() {
    let Some(store) = dynamodb_store(soraaya_core::tables::ALL).await else {
        return;
    };
    let t = TestApp::on(store).await;
    let (_, admin) = t
        .organisation("Skyline Estates", "asha@skyline.in", "skyline admin pass")
        .await;
    let (_, other) = t
        .organisation("Harbour Homes", "farah@harbour.in", "harbour admin pass")
        .await;

    // An import large enough for several 30-row transactions.
    let mut csv = String::from("name;mobile;budget;city\n");
    for i in 0..75 {
        csv += &format!(
            "Buyer {i};98201 {i:05};{}.5 Cr;{}\n",
            3 + i % 10,
            ["Worli", "Juhu", "Bandra"][i % 3]
        );
    }
    csv += "Dup;98201 00000;4 Cr;Worli\nBad;12;4 Cr;Worli\n";
    let report = t
        .post_raw("/api/v1/leads/import", &admin, "text/csv", csv)
        .await;
    report.expect(200);
    assert_eq!(
        (
            report.body["imported"].as_u64(),
            report.body["skipped_duplicates"].as_u64(),
            report.body["rejected"].as_u64()
        ),
        (Some(75), Some(1), Some(1)),
        "{}",
        report.body
    );

    // Listing through each index, totals from counters and counted.
    assert_eq!(
        t.get("/api/v1/leads?limit=10", &admin).await.body["total"],
        75
    );
    assert_eq!(
        t.get("/api/v1/leads?search=juhu&limit=100", &admin)
            .await
            .body["total"],
        25
    );
    let lead = t
        .lead(
            &admin,
            json!({ "contact_person": "Rohan", "phone_number": "+91 98200 12345" }),
        )
        .await;
    let id = lead["id"].as_str().unwrap();
    t.put(
        &format!("/api/v1/leads/{id}/status"),
        &admin,
        json!({ "status": "qualified" }),
    )
    .await
    .expect(200);
    let qualified = t.get("/api/v1/leads?status=qualified", &admin).await;
    assert_eq!(qualified.body["total"], 1);
    assert_eq!(qualified.body["items"][0]["id"], id);
    t.put(
        &format!("/api/v1/leads/{id}/status"),
        &admin,
        json!({ "status": "calling" }),
    )
    .await
    .expect(409);

    // Tenancy, export, erase, do-not-call.
    t.get(&format!("/api/v1/leads/{id}"), &other)
        .await
        .expect(404);
    let export = t.get("/api/v1/leads/export", &admin).await;
    assert_eq!(export.body.as_str().unwrap().lines().count(), 77);
    t.post(
        "/api/v1/dnc",
        Some(&admin),
        json!({ "phone_number": "+91 98200 12345" }),
    )
    .await
    .expect(201);
    assert_eq!(
        t.get(&format!("/api/v1/leads/{id}"), &admin).await.body["do_not_call"],
        true
    );
    t.delete(&format!("/api/v1/leads/{id}"), &admin)
        .await
        .expect(204);
    t.get(&format!("/api/v1/leads/{id}/timeline"), &admin)
        .await
        .expect(404);
    assert_eq!(
        t.get("/api/v1/leads?status=qualified", &admin).await.body["total"],
        0
    );
}
