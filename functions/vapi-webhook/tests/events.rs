//! The sample end-of-call report in `events/` goes through the VAPI webhook's
//! handler: it ends the call once, stores the transcript, and qualifies the
//! lead; a wrong secret is refused.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use soraaya_calling::dialer::dial;
use soraaya_core::queue::DialMessage;
use soraaya_domain::{CampaignId, LeadId};
use soraaya_tests::TestApp;
use soraaya_tests::calling::{CallingOptions, WEBHOOK_SECRET};
use soraaya_tests::events::{api_gateway, fill, sample};

#[tokio::test]
async fn the_end_of_call_report_event_ends_the_call_once() {
    let calling =
        TestApp::calling(soraaya_tests::embedded_store(), CallingOptions::default()).await;
    let one = calling.one_lead_campaign().await;
    calling
        .api
        .post(
            &format!("/api/v1/campaigns/{}/start", one.campaign_id),
            Some(&one.token),
            serde_json::json!({}),
        )
        .await
        .expect(200);
    let message = DialMessage {
        org_id: one.org_id,
        lead_id: LeadId::parse(&one.lead_id).unwrap(),
        campaign_id: CampaignId::parse(&one.campaign_id).unwrap(),
        attempt: 1,
    };
    dial(&calling.api.app, &message, 1).await.unwrap();
    let call_id = calling.simulator.placed()[0].call_id.clone();
    let org = one.org_id.to_string();
    let event = |secret: &str| {
        fill(
            &sample("vapi-end-of-call-report.json"),
            &[
                ("ORG_ID", &org),
                ("LEAD_ID", &one.lead_id),
                ("CAMPAIGN_ID", &one.campaign_id),
                ("CALL_ID", &call_id),
                ("VAPI_SECRET", secret),
            ],
        )
    };
    let handler = || vapi_webhook::handler(calling.api.app.clone());

    let (status, body) = api_gateway(handler(), &event("not-the-secret")).await;
    assert_eq!(status, 401, "{body}");

    for _ in 0..2 {
        let (status, body) = api_gateway(handler(), &event(WEBHOOK_SECRET)).await;
        assert_eq!(status, 200, "{body}");
    }
    let lead = calling
        .api
        .get(&format!("/api/v1/leads/{}", one.lead_id), &one.token)
        .await;
    assert_eq!(lead.body["status"], "qualified", "{}", lead.body);
    assert_eq!(lead.body["live_call"], serde_json::Value::Null);
    assert_eq!(lead.body["budget_range_min"], 120_000_000);
    let transcripts = calling
        .api
        .get(
            &format!("/api/v1/leads/{}/transcripts", one.lead_id),
            &one.token,
        )
        .await;
    transcripts.expect(200);
    assert_eq!(
        transcripts.body["total"], 1,
        "a repeated report stores one transcript"
    );
    let transcript = &transcripts.body["items"][0];
    assert_eq!(transcript["messages"].as_array().unwrap().len(), 5);
    assert_eq!(transcript["call_duration"], 135.2);
    assert_eq!(transcript["ended_reason"], "assistant-ended-call");
    assert!(
        transcript["summary"]
            .as_str()
            .unwrap()
            .contains("₹12-15 Cr")
    );
    let status = calling.api.get("/api/v1/calling/status", &one.token).await;
    assert_eq!(status.body["live_calls"], 0, "the slot came back once");
}
