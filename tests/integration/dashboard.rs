//! The dashboard against a recount: a simulated campaign runs for three
//! days (webhooks twice and out of order, a few reports lost), a person
//! then moves a qualified lead on, and every figure of every dashboard
//! endpoint equals what counting the leads and the call records gives.

use std::collections::{BTreeMap, HashMap};

use jiff::tz::TimeZone;
use serde_json::{Value, json};
use soraaya_calling::records::{CallAttempt, recent_calls};
use soraaya_domain::{CallResult, CampaignId, Lead, LeadStatus};
use soraaya_leads::counters::source_name;
use soraaya_local::runtime::Chaos;
use soraaya_tests::calling::CallingOptions;
use soraaya_tests::{TestApp, embedded_store};

const LEADS: usize = 60;
const SOURCES: [&str; 4] = ["Website", "Referral", "99acres", ""];

const SPOKEN_WITH: [LeadStatus; 6] = [
    LeadStatus::Qualified,
    LeadStatus::NotInterested,
    LeadStatus::FollowUp,
    LeadStatus::CallbackRequested,
    LeadStatus::HumanInputNeeded,
    LeadStatus::HumanFollowUp,
];

fn percent(part: usize, whole: usize) -> Value {
    if whole == 0 {
        Value::Null
    } else {
        json!(((part as f64 * 1000.0 / whole as f64).round()) / 10.0)
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn leads_csv(campaign_id: &str) -> String {
    let mut csv = String::from("name,phone,city,budget,source,campaign_id\n");
    for i in 0..LEADS {
        csv.push_str(&format!(
            "Lead {i},+91 98{:08},\"Worli, Mumbai\",{} Cr,{},{campaign_id}\n",
            30_000_000 + i * 11,
            3 + i % 20,
            SOURCES[i % SOURCES.len()],
        ));
    }
    csv
}

fn count_by<K: Ord>(items: impl IntoIterator<Item = K>) -> BTreeMap<K, usize> {
    let mut counts = BTreeMap::new();
    for key in items {
        *counts.entry(key).or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn every_dashboard_figure_equals_a_recount_of_leads_and_calls() {
    let calling = TestApp::calling(
        embedded_store(),
        CallingOptions {
            chaos: Chaos {
                duplicates: 1.0,
                reorder_seconds: 30,
                drop_reports: 0.05,
                silent_calls: 0.0,
                seed: 3,
            },
            ..CallingOptions::simulated(90, 7)
        },
    )
    .await;
    let api = &calling.api;
    let (org, token) = calling.skyline().await;
    let campaign = api
        .post(
            "/api/v1/campaigns",
            Some(&token),
            json!({
                "name": "Worli Sea-Face Penthouses",
                "settings": { "max_concurrent_calls": 10, "window": { "start": "09:00", "end": "20:00" }, "max_attempts": 3 }
            }),
        )
        .await;
    campaign.expect(201);
    let campaign_id = campaign.body["id"].as_str().unwrap().to_owned();
    calling.import(&token, leads_csv(&campaign_id)).await;
    // Two leads outside the campaign.
    let mut outside_ids = Vec::new();
    for (name, phone, source) in [
        ("Meera Nair", "+919820099001", "Walk-in"),
        ("Dev Rao", "+919820099002", "website"),
    ] {
        let lead = api
            .lead(
                &token,
                json!({"contact_person": name, "phone_number": phone, "lead_source": source}),
            )
            .await;
        outside_ids.push(lead["id"].as_str().unwrap().to_owned());
    }

    let token = calling.run_campaign(&token, &campaign_id, 72).await;

    let campaign: CampaignId = campaign_id.parse().unwrap();
    let in_campaign = |app: &TestApp| {
        let app = app.app.clone();
        async move {
            soraaya_calling::control::campaign_leads(&app, org, campaign)
                .await
                .unwrap()
        }
    };
    // A person takes one qualified lead on: it leaves `qualified`.
    let qualified_one = in_campaign(api)
        .await
        .into_iter()
        .find(|l| l.status == LeadStatus::Qualified)
        .expect("the campaign qualified someone");
    api.put(
        &format!("/api/v1/leads/{}/status", qualified_one.id),
        &token,
        json!({"status": "human_follow_up", "reason": "site visit booked"}),
    )
    .await
    .expect(200);

    // The recount.
    let campaign_leads: Vec<Lead> = in_campaign(api).await;
    let mut all_leads = campaign_leads.clone();
    for id in &outside_ids {
        let lead = api.get(&format!("/api/v1/leads/{id}"), &token).await;
        lead.expect(200);
        all_leads.push(serde_json::from_value(lead.body.clone()).unwrap());
    }
    let calls: Vec<CallAttempt> =
        recent_calls(calling.api.app.store.as_ref(), org, campaign, 10_000)
            .await
            .unwrap();
    assert!(calls.len() >= LEADS, "{} calls", calls.len());
    assert!(
        calls
            .iter()
            .any(|c| c.status_after == Some(LeadStatus::Qualified)),
        "some calls qualified their lead"
    );
    let zone = TimeZone::get("Asia/Kolkata").unwrap();
    let today = zone.to_datetime(calling.clock_now()).date();
    let connected = |c: &&CallAttempt| c.result == Some(CallResult::Connected);
    let ended_on = |c: &CallAttempt| zone.to_datetime(c.ended_at.unwrap()).date();
    let statuses = |leads: &[Lead]| count_by(leads.iter().map(|l| l.status));
    let qualified_by_calls = calls
        .iter()
        .filter(|c| c.status_after == Some(LeadStatus::Qualified))
        .count();
    let seconds: f64 = calls
        .iter()
        .map(|c| c.duration_seconds.unwrap_or(0.0).max(0.0).round())
        .sum();
    let cents: f64 = calls
        .iter()
        .map(|c| (c.cost.unwrap_or(0.0) * 100.0).round())
        .sum();

    // Status distribution, organisation and campaign.
    for (path, leads) in [
        (
            "/api/v1/dashboard/status-distribution".to_owned(),
            &all_leads,
        ),
        (
            format!("/api/v1/dashboard/status-distribution?campaign_id={campaign_id}"),
            &campaign_leads,
        ),
    ] {
        let got = api.get(&path, &token).await;
        got.expect(200);
        assert_eq!(got.body["total"], leads.len());
        let counted = statuses(leads);
        let shown = got.body["statuses"].as_array().unwrap();
        assert_eq!(shown.len(), 11, "all eleven statuses");
        for share in shown {
            let status: LeadStatus = serde_json::from_value(share["status"].clone()).unwrap();
            let n = counted.get(&status).copied().unwrap_or(0);
            assert_eq!(share["count"], n, "{status}");
            assert_eq!(share["percent"], percent(n, leads.len()), "{status}");
        }
    }

    // Lead sources.
    let got = api.get("/api/v1/dashboard/lead-sources", &token).await;
    got.expect(200);
    let by_source = count_by(
        all_leads
            .iter()
            .map(|l| source_name(l.lead_source.as_deref())),
    );
    let qualified_by_source = count_by(
        all_leads
            .iter()
            .filter(|l| l.status == LeadStatus::Qualified)
            .map(|l| source_name(l.lead_source.as_deref())),
    );
    let shown: BTreeMap<String, (usize, usize)> = got
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["source"].as_str().unwrap().to_owned(),
                (
                    s["leads"].as_u64().unwrap() as usize,
                    s["qualified"].as_u64().unwrap() as usize,
                ),
            )
        })
        .collect();
    let expected: BTreeMap<String, (usize, usize)> = by_source
        .iter()
        .map(|(s, n)| {
            (
                s.clone(),
                (*n, qualified_by_source.get(s).copied().unwrap_or(0)),
            )
        })
        .collect();
    assert_eq!(shown, expected);
    assert!(shown.contains_key("unknown") && shown.contains_key("99acres"));
    assert_eq!(shown["website"].0, LEADS / 4 + 1, "case and spaces merge");

    // Campaign comparison.
    let got = api.get("/api/v1/dashboard/campaigns", &token).await;
    got.expect(200);
    let row = &got.body[0];
    let campaign_statuses = statuses(&campaign_leads);
    let qualified_now = campaign_statuses
        .get(&LeadStatus::Qualified)
        .copied()
        .unwrap_or(0);
    assert_eq!(row["campaign_id"], campaign_id);
    assert_eq!(row["leads"], LEADS);
    assert_eq!(row["calls"], calls.len());
    assert_eq!(row["connected"], calls.iter().filter(connected).count());
    assert_eq!(row["qualified"], qualified_now);
    assert_eq!(row["cost"], json!(round2(cents / 100.0)));
    let settled: usize = [
        LeadStatus::Qualified,
        LeadStatus::NotInterested,
        LeadStatus::Unresponsive,
        LeadStatus::HumanInputNeeded,
        LeadStatus::HumanFollowUp,
    ]
    .iter()
    .map(|s| campaign_statuses.get(s).copied().unwrap_or(0))
    .sum();
    assert_eq!(row["timeline"]["settled_leads"], settled);
    assert_eq!(row["timeline"]["progress"], percent(settled, LEADS));

    // The KPIs over 7 days: everything happened in them, nothing before.
    let got = api
        .get("/api/v1/dashboard/metrics?date_range=7d", &token)
        .await;
    got.expect(200);
    let m = &got.body;
    let all_statuses = statuses(&all_leads);
    let status = |s: LeadStatus| all_statuses.get(&s).copied().unwrap_or(0);
    assert_eq!(m["total_leads"]["value"], json!(all_leads.len() as f64));
    assert_eq!(m["total_leads"]["previous"], json!(0.0));
    assert_eq!(
        m["qualified_leads"]["value"],
        json!(status(LeadStatus::Qualified) as f64)
    );
    assert_eq!(
        m["qualified_leads"]["previous"],
        json!(0.0),
        "qualified then less qualified since, less the one moved on: none before"
    );
    assert_eq!(
        m["qualified_share"],
        percent(status(LeadStatus::Qualified), all_leads.len())
    );
    assert_eq!(m["active_calls"]["value"], json!(0.0));
    let connected_calls = calls.iter().filter(connected).count();
    assert_eq!(
        m["conversion_rate"]["value"],
        percent(qualified_by_calls, connected_calls)
    );
    assert_eq!(m["conversion_rate"]["previous"], Value::Null);
    assert_eq!(
        m["call_success_rate"]["value"],
        percent(connected_calls, calls.len())
    );
    assert_eq!(
        m["average_call_duration"]["value"],
        json!((seconds / calls.len() as f64 * 10.0).round() / 10.0)
    );
    assert_eq!(
        m["human_intervention_required"]["value"],
        json!((status(LeadStatus::HumanInputNeeded) + status(LeadStatus::HumanFollowUp)) as f64)
    );
    assert_eq!(m["human_intervention_required"]["previous"], json!(0.0));
    let called = all_leads.iter().filter(|l| l.call_attempts > 0).count();
    let spoken: usize = SPOKEN_WITH.iter().map(|s| status(*s)).sum();
    assert_eq!(m["lead_response_rate"]["value"], percent(spoken, called));
    assert_eq!(
        m["qualified_per_hour"]["value"],
        json!(round2(qualified_by_calls as f64 / (seconds / 3600.0)))
    );
    if qualified_by_calls > 0 {
        assert_eq!(
            m["cost_per_qualified_lead"]["value"],
            json!(round2(cents / 100.0 / qualified_by_calls as f64))
        );
    }
    let today_calls: Vec<&CallAttempt> = calls.iter().filter(|c| ended_on(c) == today).collect();
    assert_eq!(
        m["calls_completed_today"]["value"],
        json!(today_calls.len() as f64)
    );
    assert_eq!(
        m["calls_completed_today_success_rate"],
        percent(
            today_calls.iter().filter(|c| connected(c)).count(),
            today_calls.len()
        )
    );
    let yesterday = today.yesterday().unwrap();
    assert_eq!(
        m["calls_completed_today"]["previous"],
        json!(calls.iter().filter(|c| ended_on(c) == yesterday).count() as f64)
    );
    assert_eq!(
        m["leads_added_today"]["value"],
        json!(0.0),
        "all came three days ago"
    );

    // The trend: by day.
    let got = api.get("/api/v1/dashboard/trends?days=7", &token).await;
    got.expect(200);
    let days = got.body["days"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    assert_eq!(days[6]["date"], today.to_string());
    let created_on = count_by(
        all_leads
            .iter()
            .map(|l| zone.to_datetime(l.created_at).date()),
    );
    let calls_on = count_by(calls.iter().map(ended_on));
    let connected_on = count_by(calls.iter().filter(connected).map(ended_on));
    let qualified_on = count_by(
        calls
            .iter()
            .filter(|c| c.status_after == Some(LeadStatus::Qualified))
            .map(ended_on),
    );
    for day in days {
        let date: jiff::civil::Date = day["date"].as_str().unwrap().parse().unwrap();
        let on =
            |counts: &BTreeMap<jiff::civil::Date, usize>| counts.get(&date).copied().unwrap_or(0);
        assert_eq!(day["leads_added"], on(&created_on), "{date}");
        assert_eq!(day["calls"], on(&calls_on), "{date}");
        assert_eq!(day["connected"], on(&connected_on), "{date}");
        assert_eq!(day["qualified"], on(&qualified_on), "{date}");
        assert_eq!(
            day["conversion_rate"],
            percent(on(&qualified_on), on(&connected_on)),
            "{date}"
        );
    }
    assert!(
        days.iter()
            .map(|d| d["calls"].as_u64().unwrap())
            .sum::<u64>() as usize
            == calls.len()
    );

    // Call volume by hour and weekday, in the organisation's zone.
    let got = api.get("/api/v1/dashboard/call-volume", &token).await;
    got.expect(200);
    assert_eq!(got.body["time_zone"], "Asia/Kolkata");
    let at = |c: &CallAttempt| {
        let local = zone.to_datetime(c.ended_at.unwrap());
        (
            local.weekday().to_monday_zero_offset() as usize,
            local.hour() as usize,
        )
    };
    let by_slot = count_by(calls.iter().map(at));
    let connected_by_slot = count_by(calls.iter().filter(connected).map(at));
    let weekdays = got.body["by_weekday"].as_array().unwrap();
    assert_eq!(weekdays.len(), 7);
    assert_eq!(weekdays[0]["weekday"], "monday");
    for (w, weekday) in weekdays.iter().enumerate() {
        for (h, hour) in weekday["hours"].as_array().unwrap().iter().enumerate() {
            let slot = (w, h);
            assert_eq!(
                hour["calls"],
                by_slot.get(&slot).copied().unwrap_or(0),
                "{slot:?}"
            );
            assert_eq!(
                hour["connected"],
                connected_by_slot.get(&slot).copied().unwrap_or(0),
                "{slot:?}"
            );
        }
    }
    let by_hour: HashMap<usize, usize> =
        calls
            .iter()
            .map(|c| at(c).1)
            .fold(HashMap::new(), |mut m, h| {
                *m.entry(h).or_default() += 1;
                m
            });
    for hour in got.body["by_hour"].as_array().unwrap() {
        let h = hour["hour"].as_u64().unwrap() as usize;
        assert_eq!(hour["calls"], by_hour.get(&h).copied().unwrap_or(0), "{h}");
    }
}

#[tokio::test]
async fn dashboard_parameters_are_checked_field_by_field() {
    let api = TestApp::new().await;
    let (_, token) = api
        .organisation(
            "Skyline Estates",
            "asha@skyline-estates.in",
            "sea-facing-4bhk",
        )
        .await;
    let got = api
        .get(
            "/api/v1/dashboard/metrics?date_range=1y&campaign_id=nope",
            &token,
        )
        .await;
    got.expect(422);
    let fields: Vec<&str> = got.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["date_range", "campaign_id"], "{}", got.body);
    api.get("/api/v1/dashboard/trends?days=0", &token)
        .await
        .expect(422);
    api.get("/api/v1/dashboard/trends?days=91", &token)
        .await
        .expect(422);
    let unknown = CampaignId::new();
    let got = api
        .get(
            &format!("/api/v1/dashboard/status-distribution?campaign_id={unknown}"),
            &token,
        )
        .await;
    got.expect(404);
    let got = api.get("/api/v1/dashboard/campaigns", "forged").await;
    got.expect(401);
    // An empty organisation: zeros and nulls, never a division by zero.
    let got = api.get("/api/v1/dashboard/metrics", &token).await;
    got.expect(200);
    assert_eq!(got.body["date_range"], "7d");
    assert_eq!(got.body["total_leads"]["value"], json!(0.0));
    assert_eq!(got.body["qualified_share"], Value::Null);
    assert_eq!(got.body["cost_per_qualified_lead"]["value"], Value::Null);
}
