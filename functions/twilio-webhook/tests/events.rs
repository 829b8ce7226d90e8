//! The sample Twilio status callback in `events/` goes through the Twilio
//! webhook's handler: signed with Twilio's algorithm it ends a busy call;
//! forged or altered, it is refused with 403.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code

use jiff::SignedDuration;
use soraaya_calling::dialer::dial;
use soraaya_calling::webhooks::twilio_signature;
use soraaya_core::queue::DialMessage;
use soraaya_domain::{CampaignId, LeadId};
use soraaya_tests::TestApp;
use soraaya_tests::calling::{CallingOptions, PUBLIC_URL, TWILIO_AUTH_TOKEN};
use soraaya_tests::events::{api_gateway, fill, sample};

#[tokio::test]
async fn a_signed_busy_callback_ends_the_call_and_a_forged_one_is_refused() {
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
    // VAPI's "ringing" status tells Soraaya the call's Twilio CallSid.
    calling.clock.advance(SignedDuration::from_secs(1));
    calling.runtime.tick().await;
    let sid = calling.simulator.placed()[0].telephony_id.clone();

    let unsigned = fill(
        &sample("twilio-status-callback.json"),
        &[("CALL_SID", &sid)],
    );
    let event: serde_json::Value = serde_json::from_str(&unsigned).unwrap();
    let form = event["body"].as_str().unwrap();
    let params: Vec<(String, String)> = form
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap();
            (k.to_owned(), v.replace("%2B", "+"))
        })
        .collect();
    let signature = twilio_signature(
        TWILIO_AUTH_TOKEN,
        &format!("{PUBLIC_URL}/api/v1/webhooks/twilio"),
        &params,
    );
    let handler = || twilio_webhook::handler(calling.api.app.clone());

    let forged = fill(
        &unsigned,
        &[("TWILIO_SIGNATURE", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")],
    );
    let (status, body) = api_gateway(handler(), &forged).await;
    assert_eq!(status, 403, "{body}");
    let altered = fill(
        &unsigned.replace("CallStatus=busy", "CallStatus=failed"),
        &[("TWILIO_SIGNATURE", &signature)],
    );
    let (status, _) = api_gateway(handler(), &altered).await;
    assert_eq!(status, 403, "a signature covers every parameter");

    let signed = fill(&unsigned, &[("TWILIO_SIGNATURE", &signature)]);
    let (status, body) = api_gateway(handler(), &signed).await;
    assert_eq!(status, 204, "{body}");
    let lead = calling
        .api
        .get(&format!("/api/v1/leads/{}", one.lead_id), &one.token)
        .await;
    assert_eq!(
        lead.body["live_call"],
        serde_json::Value::Null,
        "{}",
        lead.body
    );
    assert_eq!(lead.body["last_call_result"], "busy");
    assert!(
        lead.body["next_call_at"].is_string(),
        "a busy line is retried later"
    );
}
