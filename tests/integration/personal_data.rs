//! A person's data: one document of everything held about a lead (for an
//! access request), only for those who may export, only in its
//! organisation, audited; and the erasure that leaves none of it behind.

use serde_json::json;
use soraaya_core::Clock;
use soraaya_domain::{Lead, NotificationKind};
use soraaya_notifications::{notification, put_op};
use soraaya_tests::calling::{CallingApp, CallingOptions};
use soraaya_tests::{TestApp, embedded_store};

const PASSWORD: &str = "marine-drive-view";

#[tokio::test]
async fn a_persons_data_is_one_document_and_an_erasure_leaves_none_of_it() {
    let calling: CallingApp = TestApp::calling(embedded_store(), CallingOptions::default()).await;
    let one = calling.one_lead_campaign().await;
    let api = &calling.api;
    let lead_path = format!("/api/v1/leads/{}", one.lead_id);
    api.post(
        &format!("{lead_path}/notes"),
        Some(&one.token),
        json!({ "text": "Prefers evening calls" }),
    )
    .await
    .expect(201);
    let token = calling.run_campaign(&one.token, &one.campaign_id, 2).await;
    let lead: Lead = serde_json::from_value(api.get(&lead_path, &token).await.body).unwrap();
    let about = notification(
        NotificationKind::HumanInputNeeded,
        one.org_id,
        Some(&lead),
        None,
        "asked about parking",
        "test-1",
        calling.clock.now(),
    );
    api.app
        .store
        .transact_write(vec![put_op(&about).unwrap()])
        .await
        .unwrap();

    let data = api.get(&format!("{lead_path}/personal-data"), &token).await;
    data.expect(200);
    assert!(
        data.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("personal-data-"),
    );
    let body = &data.body;
    assert_eq!(body["lead"]["id"], one.lead_id.as_str());
    assert_eq!(body["lead"]["phone_number"], "+919820012345");
    let kinds: Vec<&str> = body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in ["created", "note", "call_placed", "call_ended"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let transcripts = body["transcripts"].as_array().unwrap();
    assert!(!transcripts.is_empty(), "{body}");
    assert!(
        transcripts[0]["messages"]
            .as_array()
            .is_some_and(|m| !m.is_empty())
    );
    let notifications: Vec<&str> = body["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["message"].as_str().unwrap())
        .collect();
    assert!(
        notifications.contains(&"asked about parking"),
        "{notifications:?}"
    );
    let audit = api.get("/api/v1/audit?entity=lead", &token).await;
    assert_eq!(audit.body["items"][0]["action"], "export_personal_data");
    assert_eq!(audit.body["items"][0]["entity_id"], one.lead_id.as_str());

    // Only for those who may export, only in the organisation.
    api.user(&token, "ravi@skyline.in", "agent", PASSWORD).await;
    let agent = api.token("ravi@skyline.in", PASSWORD).await;
    api.get(&format!("{lead_path}/personal-data"), &agent)
        .await
        .expect(403);
    let (_, other) = api
        .organisation("Harbour Homes", "neil@harbour.in", PASSWORD)
        .await;
    api.get(&format!("{lead_path}/personal-data"), &other)
        .await
        .expect(404);

    // The erasure leaves none of it.
    api.delete(&lead_path, &token).await.expect(204);
    api.get(&format!("{lead_path}/personal-data"), &token)
        .await
        .expect(404);
    let left = api
        .get(
            &format!("/api/v1/notifications?lead_id={}", one.lead_id),
            &token,
        )
        .await;
    assert_eq!(left.body["items"], json!([]), "{}", left.body);
    for table in [
        &soraaya_core::tables::TRANSCRIPTS,
        &soraaya_core::tables::CALLS,
    ] {
        let held = api
            .app
            .store
            .query(soraaya_store::Query::new(
                table,
                format!("ORG#{}#LEAD#{}", one.org_id, one.lead_id),
            ))
            .await
            .unwrap();
        assert!(held.items.is_empty(), "{}: {:?}", table.name, held.items);
    }
}
