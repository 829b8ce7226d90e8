//! Insights against a recount: a simulated campaign with a persona and two
//! properties runs for two days (every webhook delivered twice), and the
//! figures of the three insights endpoints equal what counting the call
//! records and the stored analyses gives.

use std::collections::{BTreeMap, BTreeSet};

use jiff::tz::TimeZone;
use serde_json::{Value, json};
use soraaya_calling::records::{CallAttempt, recent_calls};
use soraaya_domain::{CallResult, CampaignId, LeadStatus};
use soraaya_insights::record::name_part;
use soraaya_local::runtime::Chaos;
use soraaya_tests::calling::CallingOptions;
use soraaya_tests::{TestApp, embedded_store};

const LEADS: usize = 40;

fn percent(part: usize, whole: usize) -> Value {
    if whole == 0 {
        Value::Null
    } else {
        json!(((part as f64 * 1000.0 / whole as f64).round()) / 10.0)
    }
}

fn length_band(seconds: f64) -> &'static str {
    match seconds.max(0.0) / 60.0 {
        m if m < 1.0 => "under_1m",
        m if m < 3.0 => "1_3m",
        m if m < 5.0 => "3_5m",
        m if m < 10.0 => "5_10m",
        _ => "10m_plus",
    }
}

/// The entry of `list` whose `field` is `value`.
fn entry<'a>(list: &'a Value, field: &str, value: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|e| e[field] == value)
        .unwrap_or_else(|| panic!("no {field} = {value} in {list}"))
}

#[tokio::test]
async fn every_insight_figure_equals_a_recount_of_calls_and_analyses() {
    let calling = TestApp::calling(
        embedded_store(),
        CallingOptions {
            chaos: Chaos {
                duplicates: 1.0,
                reorder_seconds: 0,
                drop_reports: 0.0,
                silent_calls: 0.0,
                seed: 5,
            },
            ..CallingOptions::simulated(150, 11)
        },
    )
    .await;
    let api = &calling.api;
    let (org, token) = calling.skyline().await;
    let persona = api
        .post(
            "/api/v1/agent-personas",
            Some(&token),
            json!({ "name": "Aisha", "region": "Mumbai", "accent": "Indian English", "communication_style": "consultative" }),
        )
        .await;
    persona.expect(201);
    let persona_id = persona.body["id"].as_str().unwrap().to_owned();
    let mut property_ids = Vec::new();
    for (name, location, price) in [
        ("Worli Sea-Face Residences", "Worli, Mumbai", "₹28-35 Cr"),
        ("Bandstand Residences", "Bandra West, Mumbai", "₹12-16 Cr"),
    ] {
        let property = api
            .post(
                "/api/v1/properties",
                Some(&token),
                json!({ "name": name, "location": location, "property_type": "apartment", "price_range": price }),
            )
            .await;
        property.expect(201);
        property_ids.push(property.body["id"].as_str().unwrap().to_owned());
    }
    let campaign = api
        .post(
            "/api/v1/campaigns",
            Some(&token),
            json!({
                "name": "Sea-Face Residences",
                "persona_id": persona_id,
                "property_ids": property_ids,
                "qualification_criteria": { "custom_questions": ["Do you need parking for three cars?"] },
                "settings": { "max_concurrent_calls": 8, "window": { "start": "09:00", "end": "20:00" }, "max_attempts": 3 }
            }),
        )
        .await;
    campaign.expect(201);
    let campaign_id = campaign.body["id"].as_str().unwrap().to_owned();
    let mut csv = String::from("name,phone,city,budget,campaign_id\n");
    for i in 0..LEADS {
        csv.push_str(&format!(
            "Lead {i},+91 98{:08},\"Worli, Mumbai\",{} Cr,{campaign_id}\n",
            40_000_000 + i * 13,
            10 + i % 25,
        ));
    }
    calling.import(&token, csv).await;
    let token = calling.run_campaign(&token, &campaign_id, 48).await;

    // The recount: call records, and every lead's transcripts.
    let campaign: CampaignId = campaign_id.parse().unwrap();
    let calls: Vec<CallAttempt> = recent_calls(api.app.store.as_ref(), org, campaign, 10_000)
        .await
        .unwrap();
    assert!(calls.len() >= LEADS, "{} calls", calls.len());
    let leads = soraaya_calling::control::campaign_leads(&api.app, org, campaign)
        .await
        .unwrap();
    let mut transcripts: Vec<Value> = Vec::new();
    for lead in &leads {
        let listed = api
            .get(&format!("/api/v1/leads/{}/transcripts", lead.id), &token)
            .await;
        listed.expect(200);
        transcripts.extend(listed.body["items"].as_array().unwrap().iter().cloned());
    }
    let analysed: Vec<&Value> = transcripts
        .iter()
        .filter(|t| !t["analysis"].is_null())
        .collect();
    assert!(analysed.len() >= LEADS / 2, "{} analysed", analysed.len());
    assert!(
        analysed.iter().all(|t| !t["lead_status"].is_null()),
        "every transcript came with its call's end"
    );
    let qualified = |t: &Value| t["lead_status"] == "qualified";
    let qualified_calls = analysed.iter().filter(|t| qualified(t)).count();
    assert!(qualified_calls > 0, "some calls qualified");

    // Conversation analysis.
    let query = format!("days=7&campaign_id={campaign_id}");
    let response = api
        .get(
            &format!("/api/v1/insights/conversation-analysis?{query}"),
            &token,
        )
        .await;
    response.expect(200);
    let body = &response.body;
    assert_eq!(body["calls_analysed"], analysed.len(), "{body}");
    assert_eq!(body["qualified_calls"], qualified_calls);
    let mut objections: BTreeMap<String, (usize, usize, BTreeSet<String>)> = BTreeMap::new();
    for t in &analysed {
        let kinds: BTreeSet<String> = t["analysis"]["objections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["kind"].as_str().unwrap().to_owned())
            .collect();
        for kind in kinds {
            let entry = objections.entry(kind).or_default();
            entry.0 += 1;
            entry.1 += usize::from(qualified(t));
            entry.2.insert(t["id"].as_str().unwrap().to_owned());
        }
    }
    assert!(!objections.is_empty(), "the simulator raises objections");
    assert_eq!(
        body["objections"].as_array().unwrap().len(),
        objections.len()
    );
    for (kind, (count, still_qualified, with_it)) in &objections {
        let insight = entry(&body["objections"], "kind", kind);
        assert_eq!(insight["calls"], *count, "{insight}");
        assert_eq!(insight["share"], percent(*count, analysed.len()));
        assert_eq!(insight["qualified_anyway"], *still_qualified);
        assert_eq!(insight["previous_calls"], 0);
        let examples = insight["examples"].as_array().unwrap();
        assert!(!examples.is_empty() && examples.len() <= 2, "{insight}");
        for example in examples {
            assert!(with_it.contains(example["transcript_id"].as_str().unwrap()));
        }
    }
    let counted = |field: &str, key: &dyn Fn(&Value) -> Option<String>| {
        let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for t in &analysed {
            let keys: BTreeSet<String> = t["analysis"]["mentions"][field]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(key)
                .collect();
            for k in keys {
                let e = counts.entry(k).or_default();
                e.0 += 1;
                e.1 += usize::from(qualified(t));
            }
        }
        counts
    };
    let places = counted("locations", &|m| Some(name_part(m["location"].as_str()?)));
    assert!(!places.is_empty());
    for (place, (count, q)) in &places {
        let preference = entry(&body["locations"], "key", place);
        assert_eq!(preference["calls"], *count, "{preference}");
        assert_eq!(preference["qualified"], *q);
    }
    let features = counted("features", &|m| Some(name_part(m["feature"].as_str()?)));
    assert_eq!(body["features"].as_array().unwrap().len(), features.len());
    let timelines = counted("timelines", &|m| m["timeline"].as_str().map(str::to_owned));
    for (timeline, (count, _)) in &timelines {
        assert_eq!(entry(&body["timelines"], "key", timeline)["calls"], *count);
    }
    let with_budget = analysed
        .iter()
        .filter(|t| {
            !t["analysis"]["mentions"]["budgets"]
                .as_array()
                .unwrap()
                .is_empty()
        })
        .count();
    let banded: u64 = body["price_sensitivity"]["bands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["calls"].as_u64().unwrap())
        .sum();
    assert_eq!(
        banded as usize, with_budget,
        "every stated budget met a pitched price"
    );
    let no_objection = analysed
        .iter()
        .filter(|t| t["analysis"]["objections"].as_array().unwrap().is_empty())
        .collect::<Vec<_>>();
    let pattern = entry(&body["qualification_patterns"], "pattern", "no_objection");
    assert_eq!(
        pattern["qualified_calls_with"],
        no_objection.iter().filter(|t| qualified(t)).count()
    );
    assert_eq!(
        pattern["other_calls_with"],
        no_objection.iter().filter(|t| !qualified(t)).count()
    );

    // Trends.
    let response = api
        .get(&format!("/api/v1/insights/trends?{query}"), &token)
        .await;
    response.expect(200);
    let trends = &response.body;
    let connected: Vec<&CallAttempt> = calls
        .iter()
        .filter(|c| c.result == Some(CallResult::Connected))
        .collect();
    assert_eq!(trends["calls"], calls.len());
    assert_eq!(trends["connected"], connected.len());
    let zone = TimeZone::get("Asia/Kolkata").unwrap();
    for hour in 0..24 {
        let at_hour = |c: &CallAttempt| zone.to_datetime(c.started_at).hour() == hour;
        let row = &trends["connect_rate_by_local_hour"][hour as usize];
        assert_eq!(
            row["calls"],
            calls.iter().filter(|c| at_hour(c)).count(),
            "{row}"
        );
        assert_eq!(
            row["connected"],
            connected.iter().filter(|c| at_hour(c)).count()
        );
    }
    for band in ["under_1m", "1_3m", "3_5m", "5_10m", "10m_plus"] {
        let of_band: Vec<&&CallAttempt> = connected
            .iter()
            .filter(|c| length_band(c.duration_seconds.unwrap_or(0.0)) == band)
            .collect();
        let row = entry(&trends["call_length"], "band", band);
        assert_eq!(row["calls"], of_band.len(), "{row}");
        assert_eq!(
            row["qualified"],
            of_band
                .iter()
                .filter(|c| c.status_after == Some(LeadStatus::Qualified))
                .count()
        );
    }
    let persona_row = entry(&trends["personas"], "persona_id", &persona_id);
    assert_eq!(persona_row["name"], "Aisha");
    assert_eq!(persona_row["calls"], calls.len());
    assert_eq!(persona_row["connected"], connected.len());
    assert_eq!(
        persona_row["qualified"],
        calls
            .iter()
            .filter(|c| c.status_after == Some(LeadStatus::Qualified))
            .count()
    );
    let mut by_day: BTreeMap<String, (i64, usize)> = BTreeMap::new();
    for t in &analysed {
        let at: jiff::Timestamp = t["created_at"].as_str().unwrap().parse().unwrap();
        let day = zone.to_datetime(at).date().to_string();
        let score = t["analysis"]["customer_sentiment"]["overall"]["score"]
            .as_f64()
            .unwrap();
        let e = by_day.entry(day).or_default();
        e.0 += (score * 1000.0).round() as i64;
        e.1 += 1;
    }
    for (day, (milli, n)) in &by_day {
        let row = entry(&trends["sentiment_by_day"], "date", day);
        assert_eq!(row["calls"], *n);
        let expected = ((*milli as f64 / 1000.0 / *n as f64) * 1000.0).round() / 1000.0;
        assert_eq!(row["average"].as_f64().unwrap(), expected, "{row}");
    }
    assert_eq!(trends["sentiment_by_day"].as_array().unwrap().len(), 7);
    for criterion in ["budget", "timeline", "location"] {
        let (asked, answered) = analysed.iter().fold((0, 0), |(a, n), t| {
            let c = entry(
                &t["analysis"]["coverage"]["criteria"],
                "criterion",
                criterion,
            );
            (
                a + usize::from(c["asked"] == true),
                n + usize::from(c["asked"] == true && c["answered"] == true),
            )
        });
        let row = entry(&trends["questions"], "key", criterion);
        assert_eq!(row["asked"], asked, "{row}");
        assert_eq!(row["answered"], answered, "{row}");
    }

    // Recommendations rest on the same figures, and say when they cannot conclude.
    let response = api
        .get(&format!("/api/v1/insights/recommendations?{query}"), &token)
        .await;
    response.expect(200);
    let recommendations = &response.body;
    assert_eq!(recommendations["calls"], calls.len());
    assert_eq!(recommendations["calls_analysed"], analysed.len());
    let items = recommendations["items"].as_array().unwrap();
    assert!(!items.is_empty(), "{recommendations}");
    for item in items {
        assert!(!item["evidence"].as_array().unwrap().is_empty(), "{item}");
        assert!(item["sample_size"].as_u64().unwrap() > 0);
        assert_eq!(
            item["conclusive"] == false,
            item["more_calls_needed"].is_u64(),
            "{item}"
        );
    }

    // The organisation's view holds the campaign's calls; the persona's too.
    let all = api
        .get("/api/v1/insights/conversation-analysis?days=7", &token)
        .await;
    assert_eq!(all.body["calls_analysed"], analysed.len());
    let own = api
        .get(
            &format!("/api/v1/insights/trends?days=7&persona_id={persona_id}"),
            &token,
        )
        .await;
    assert_eq!(own.body["calls"], calls.len());
    let both = api
        .get(
            &format!(
                "/api/v1/insights/trends?days=7&campaign_id={campaign_id}&persona_id={persona_id}"
            ),
            &token,
        )
        .await;
    assert_eq!(both.body["calls"], calls.len(), "{}", both.body);
    assert_eq!(both.body["period"]["persona_id"], persona_id.as_str());
}

#[tokio::test]
async fn insights_say_so_when_there_are_no_calls_and_refuse_bad_parameters() {
    let t = TestApp::new().await;
    let (_, token) = t
        .organisation("Skyline Estates", "asha@skyline.in", "marine-drive-view")
        .await;
    for path in ["conversation-analysis", "trends", "recommendations"] {
        let empty = t.get(&format!("/api/v1/insights/{path}"), &token).await;
        empty.expect(200);
    }
    let empty = t.get("/api/v1/insights/recommendations", &token).await;
    assert_eq!(empty.body["enough_calls"], false);
    assert_eq!(empty.body["items"], json!([]));
    assert_eq!(empty.body["period"]["days"], 30);
    let analysis = t
        .get("/api/v1/insights/conversation-analysis", &token)
        .await;
    assert_eq!(analysis.body["period"]["days"], 7);
    assert_eq!(analysis.body["calls_analysed"], 0);
    assert_eq!(analysis.body["objections"], json!([]));

    let id = uuid::Uuid::now_v7();
    for (query, field) in [
        ("days=0", "days"),
        ("days=91", "days"),
        ("days=x", "days"),
        ("campaign_id=nope", "campaign_id"),
        ("persona_id=nope", "persona_id"),
    ] {
        let response = t
            .get(&format!("/api/v1/insights/trends?{query}"), &token)
            .await;
        response.expect(422);
        assert!(
            response.body.to_string().contains(field),
            "{query}: {}",
            response.body
        );
    }
    t.get(&format!("/api/v1/insights/trends?campaign_id={id}"), &token)
        .await
        .expect(404);
    t.get(&format!("/api/v1/insights/trends?persona_id={id}"), &token)
        .await
        .expect(404);
}
