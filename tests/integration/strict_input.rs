//! Strict input: JSON types as the OpenAPI document declares them (no
//! boolean or number taken as text), a body or nested object that is not a
//! JSON object refused, and every 4xx in the JSON error envelope.

use axum::http::Request;
use serde_json::{Value, json};
use soraaya_tests::calling::{CallingOptions, WEBHOOK_SECRET};
use soraaya_tests::{TestApp, TestResponse, embedded_store};

fn assert_field(response: &TestResponse, field: &str) {
    response.expect(422);
    let details = response.body["error"]["details"]
        .as_array()
        .expect("details");
    assert!(
        details.iter().any(|d| d["field"] == field),
        "no error for {field}: {}",
        response.body
    );
}

#[tokio::test]
async fn lead_fields_take_only_their_json_type() {
    let calling = TestApp::calling(embedded_store(), CallingOptions::default()).await;
    let one = calling.one_lead_campaign().await;
    let path = format!("/api/v1/leads/{}", one.lead_id);
    let before = calling.api.get(&path, &one.token).await.body;
    for (body, field) in [
        (json!({ "contact_person": false }), "contact_person"),
        (json!({ "location": -1349 }), "location"),
        (json!({ "phone_number": 919820012345u64 }), "phone_number"),
        (json!({ "do_not_call": "yes" }), "do_not_call"),
        (
            json!({ "qualification_score": "85" }),
            "qualification_score",
        ),
        (json!({ "tags": "sea view" }), "tags"),
        (json!({ "budget_range_min": true }), "budget_range_min"),
        (json!({ "notes": ["a", "b"] }), "notes"),
    ] {
        let response = calling.api.put(&path, &one.token, body.clone()).await;
        assert_field(&response, field);
    }
    // Nothing was stored by any of them.
    let after = calling.api.get(&path, &one.token).await.body;
    assert_eq!(before["version"], after["version"]);
    assert_eq!(after["contact_person"], "Rohan Malhotra");
    assert_eq!(after["location"], "Worli, Mumbai");
    // The documented spellings still work: text budgets, numbers, booleans, lists.
    let changed = calling
        .api
        .put(
            &path,
            &one.token,
            json!({ "budget_range_min": "8 Cr", "budget_range_max": 150000000, "do_not_call": false, "tags": ["sea view"], "qualification_score": 70 }),
        )
        .await;
    changed.expect(200);
    assert_eq!(changed.body["budget_range_min"], 80_000_000);
    assert_eq!(changed.body["tags"], json!(["sea view"]));
}

#[tokio::test]
async fn a_body_that_is_not_a_json_object_is_refused() {
    let calling = TestApp::calling(embedded_store(), CallingOptions::default()).await;
    let one = calling.one_lead_campaign().await;
    let persona = calling
        .api
        .post(
            "/api/v1/agent-personas",
            Some(&one.token),
            json!({ "name": "Aisha", "region": "Mumbai", "accent": "Indian English", "communication_style": "consultative" }),
        )
        .await;
    persona.expect(201);
    let property = calling
        .api
        .post(
            "/api/v1/properties",
            Some(&one.token),
            json!({ "name": "Lodha Altamount", "location": "Altamount Road, Mumbai", "property_type": "penthouse" }),
        )
        .await;
    property.expect(201);
    for path in [
        format!(
            "/api/v1/agent-personas/{}",
            persona.body["id"].as_str().unwrap()
        ),
        format!(
            "/api/v1/properties/{}",
            property.body["id"].as_str().unwrap()
        ),
        format!("/api/v1/leads/{}", one.lead_id),
        format!("/api/v1/campaigns/{}", one.campaign_id),
    ] {
        for body in [json!([null, null]), json!("name"), json!(12), json!(true)] {
            let response = calling.api.put(&path, &one.token, body.clone()).await;
            assert_field(&response, "body");
        }
    }
    // Nor is a nested object given as an array of its fields.
    let nested = calling
        .api
        .post(
            "/api/v1/agent-personas",
            Some(&one.token),
            json!({ "name": "Priya", "region": "Mumbai", "script_customizations": [null, null] }),
        )
        .await;
    assert_field(&nested, "script_customizations");
    let campaign = calling
        .api
        .post(
            "/api/v1/campaigns",
            Some(&one.token),
            json!({ "name": "Budget as a flag", "qualification_criteria": { "budget_min": true } }),
        )
        .await;
    assert_field(&campaign, "qualification_criteria.budget_min");
}

#[tokio::test]
async fn a_webhook_over_the_body_limit_is_413_in_the_envelope() {
    let calling = TestApp::calling(embedded_store(), CallingOptions::default()).await;
    let huge =
        json!({ "message": { "type": "status-update", "padding": "x".repeat(2 * 1024 * 1024) } });
    for (path, content_type) in [
        ("/api/v1/webhooks/vapi", "application/json"),
        (
            "/api/v1/webhooks/twilio",
            "application/x-www-form-urlencoded",
        ),
    ] {
        let request = Request::post(path)
            .header("content-type", content_type)
            .header("x-vapi-secret", WEBHOOK_SECRET)
            .body(huge.to_string().into())
            .expect("request");
        let response = calling.api.send(request).await;
        response.expect(413);
        let error: &Value = &response.body["error"];
        assert_eq!(error["code"], "payload_too_large", "{}", response.body);
        assert!(error["message"].as_str().unwrap().contains("1048576"));
    }
}

#[tokio::test]
async fn text_limits_count_the_text_as_sent_as_the_document_states() {
    let calling = TestApp::calling(embedded_store(), CallingOptions::default()).await;
    let one = calling.one_lead_campaign().await;
    // 75 characters of name inside 10 spaces: 85 as sent, over the 80 allowed.
    let padded = format!("{0}{1}{0}", " ".repeat(5), "a".repeat(75));
    let refused = calling
        .api
        .post(
            "/api/v1/agent-personas",
            Some(&one.token),
            json!({ "name": padded, "region": "mumbai" }),
        )
        .await;
    assert_field(&refused, "name");
    let fits = format!(" {} ", "a".repeat(78));
    let created = calling
        .api
        .post(
            "/api/v1/agent-personas",
            Some(&one.token),
            json!({ "name": fits, "region": "mumbai" }),
        )
        .await;
    created.expect(201);
    assert_eq!(created.body["name"], "a".repeat(78), "stored trimmed");
}
