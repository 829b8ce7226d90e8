//! A/B tests of campaign approaches: leads split between variants by
//! weight, each call made with its variant's persona and recorded with its
//! variant, and the campaign's performance comparing the variants with
//! intervals and a verdict; the variants are checked and fixed once calling
//! began.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use soraaya_calling::records::{CallAttempt, recent_calls};
use soraaya_domain::{CallResult, Campaign, CampaignId, LeadStatus};
use soraaya_tests::TestApp;
use soraaya_tests::calling::CallingOptions;
use soraaya_tests::embedded_store;

const LEADS: usize = 60;

#[tokio::test]
async fn a_campaign_splits_its_leads_between_variants_and_compares_them() {
    let calling = TestApp::calling(embedded_store(), CallingOptions::simulated(120, 5)).await;
    let api = &calling.api;
    let (org, token) = calling.skyline().await;
    let mut personas = Vec::new();
    for name in ["Aisha", "Rahul"] {
        let persona = api
            .post(
                "/api/v1/agent-personas",
                Some(&token),
                json!({ "name": name, "region": "Mumbai", "accent": "Indian English", "communication_style": "consultative" }),
            )
            .await;
        persona.expect(201);
        personas.push(persona.body["id"].as_str().unwrap().to_owned());
    }
    let body = |variants: Value| {
        json!({
            "name": "Sea-Face A/B",
            "persona_id": personas[0],
            "variants": variants,
            "settings": { "max_concurrent_calls": 10, "window": { "start": "09:00", "end": "20:00" }, "max_attempts": 2 }
        })
    };

    // Bad variants name their fields.
    for (variants, field) in [
        (json!([{ "key": "only" }]), "variants"),
        (json!([{ "key": "a" }, { "key": "A" }]), "variants[1].key"),
        (json!([{ "key": "a b" }, { "key": "b" }]), "variants[0].key"),
        (
            json!([{ "key": "a", "weight": 0 }, { "key": "b" }]),
            "variants[0].weight",
        ),
        (
            json!([{ "key": "a" }, { "key": "b", "persona_id": uuid::Uuid::now_v7() }]),
            "variants[1].persona_id",
        ),
    ] {
        let response = api
            .post("/api/v1/campaigns", Some(&token), body(variants.clone()))
            .await;
        response.expect(422);
        assert!(
            response.body["error"]["details"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["field"] == field),
            "{variants}: {}",
            response.body
        );
    }

    let created = api
        .post(
            "/api/v1/campaigns",
            Some(&token),
            body(json!([
                { "key": "aisha", "description": "The campaign's persona" },
                { "key": "rahul", "persona_id": personas[1], "weight": 2,
                  "script": { "greeting": "Namaste {lead_name}, Rahul here from {company}." } }
            ])),
        )
        .await;
    created.expect(201);
    let campaign_id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["variants"][1]["weight"], 2);
    let mut csv = String::from("name,phone,city,budget,campaign_id\n");
    for i in 0..LEADS {
        csv.push_str(&format!(
            "Lead {i},+91 98{:08},\"Worli, Mumbai\",{} Cr,{campaign_id}\n",
            50_000_000 + i * 17,
            5 + i % 20,
        ));
    }
    calling.import(&token, csv).await;
    let token = calling.run_campaign(&token, &campaign_id, 30).await;

    // Once calling began, the split is fixed.
    let changed = api
        .put(
            &format!("/api/v1/campaigns/{campaign_id}"),
            &token,
            json!({ "variants": [{ "key": "x" }, { "key": "y" }] }),
        )
        .await;
    changed.expect(422);
    assert!(
        changed
            .body
            .to_string()
            .contains("only while the campaign is a draft")
    );

    // Every call carries its lead's variant, the same on every attempt.
    let id: CampaignId = campaign_id.parse().unwrap();
    let campaign: Campaign = soraaya_calling::control::campaign(&api.app, org, id)
        .await
        .unwrap();
    let calls: Vec<CallAttempt> = recent_calls(api.app.store.as_ref(), org, id, 10_000)
        .await
        .unwrap();
    assert!(calls.len() >= LEADS, "{} calls", calls.len());
    for call in &calls {
        assert_eq!(
            call.variant.as_deref(),
            campaign.variant_for(call.lead_id).map(|v| v.key.as_str()),
        );
    }
    let leads_by_variant: BTreeMap<String, usize> =
        soraaya_calling::control::campaign_leads(&api.app, org, id)
            .await
            .unwrap()
            .iter()
            .fold(BTreeMap::new(), |mut counts, lead| {
                *counts
                    .entry(campaign.variant_for(lead.id).unwrap().key.clone())
                    .or_default() += 1;
                counts
            });
    assert!(
        leads_by_variant["rahul"] > leads_by_variant["aisha"],
        "weight 2 against 1: {leads_by_variant:?}"
    );

    // The performance compares them, from the calls.
    let performance = api
        .get(
            &format!("/api/v1/campaigns/{campaign_id}/performance"),
            &token,
        )
        .await;
    performance.expect(200);
    let test = &performance.body["ab_test"];
    let variants = test["variants"].as_array().expect("variants");
    assert_eq!(variants.len(), 2, "{test}");
    for variant in variants {
        let key = variant["key"].as_str().unwrap();
        let mine: Vec<&CallAttempt> = calls
            .iter()
            .filter(|c| c.variant.as_deref() == Some(key))
            .collect();
        let connected = mine
            .iter()
            .filter(|c| c.result == Some(CallResult::Connected))
            .count();
        let qualified = mine
            .iter()
            .filter(|c| c.status_after == Some(LeadStatus::Qualified))
            .count();
        assert_eq!(variant["calls"], mine.len(), "{variant}");
        assert_eq!(variant["connected"], connected);
        assert_eq!(variant["qualified"], qualified);
        let rate = &variant["qualification_rate"];
        let value = rate["value"].as_f64().unwrap();
        assert!(rate["low"].as_f64().unwrap() <= value && value <= rate["high"].as_f64().unwrap());
        let cents: f64 = mine
            .iter()
            .map(|c| (c.cost.unwrap_or(0.0) * 100.0).round())
            .sum();
        assert_eq!(
            variant["cost"].as_f64().unwrap(),
            (cents / 100.0 * 100.0).round() / 100.0
        );
    }
    assert_eq!(
        variants[1]["persona_id"],
        personas[1].as_str(),
        "the variant's own persona"
    );
    assert_eq!(
        variants[0]["persona_id"],
        personas[0].as_str(),
        "the campaign's"
    );
    assert!(test["leader"].is_string(), "{test}");
    let comparisons = test["comparisons"].as_array().unwrap();
    assert_eq!(
        comparisons.len(),
        2,
        "two measures against the one other variant"
    );
    for comparison in comparisons {
        assert_eq!(
            comparison["significant"] == false,
            comparison["more_calls_needed"].is_u64(),
            "{comparison}"
        );
    }
    assert!(
        test["verdict"].as_str().unwrap().contains("Variant"),
        "{test}"
    );
}
