//! Reports: CSV rows that are the period's leads, calls and campaigns, and
//! a PDF whose figures are the dashboard's trend summed.

use serde_json::json;
use soraaya_calling::records::{CallAttempt, recent_calls};
use soraaya_domain::CampaignId;
use soraaya_tests::TestApp;
use soraaya_tests::calling::CallingOptions;
use soraaya_tests::embedded_store;

const LEADS: usize = 24;

fn csv_rows(text: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("a CSV row"))
        .collect()
}

#[tokio::test]
async fn reports_hold_the_periods_rows_and_the_dashboards_numbers() {
    let calling = TestApp::calling(embedded_store(), CallingOptions::simulated(90, 9)).await;
    let api = &calling.api;
    let (org, token) = calling.skyline().await;
    let campaign = api
        .post(
            "/api/v1/campaigns",
            Some(&token),
            json!({ "name": "Reported", "settings": { "max_concurrent_calls": 6, "window": { "start": "09:00", "end": "20:00" } } }),
        )
        .await;
    campaign.expect(201);
    let campaign_id = campaign.body["id"].as_str().unwrap().to_owned();
    let mut csv = String::from("name,phone,city,budget,campaign_id\n");
    for i in 0..LEADS {
        csv.push_str(&format!(
            "Lead {i},+91 98{:08},Worli,{} Cr,{campaign_id}\n",
            70_000_000 + i * 19,
            4 + i % 9
        ));
    }
    calling.import(&token, csv).await;
    let token = calling.run_campaign(&token, &campaign_id, 30).await;
    let id: CampaignId = campaign_id.parse().unwrap();
    let calls: Vec<CallAttempt> = recent_calls(api.app.store.as_ref(), org, id, 10_000)
        .await
        .unwrap();
    assert!(calls.len() >= LEADS);

    let get = |path: String| {
        let token = token.clone();
        async move { api.get(&path, &token).await }
    };
    // The body as sent, and its headers.
    let raw = |path: String| {
        let token = token.clone();
        async move {
            let request = axum::http::Request::get(path.clone())
                .header("authorization", format!("Bearer {token}"))
                .body(axum::body::Body::empty())
                .unwrap();
            let (status, headers, bytes) = api.send_raw(request).await;
            assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&bytes));
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            (
                header("content-type"),
                header("content-disposition"),
                header("x-report-rows-omitted"),
                bytes.to_vec(),
            )
        }
    };
    // Calls: one row per call, newest first, the costs adding up.
    let (_, _, omitted, body) = raw("/api/v1/reports/calls?format=csv".into()).await;
    assert_eq!(
        omitted.as_deref(),
        Some("0"),
        "the day counters hold the same calls"
    );
    let text = String::from_utf8(body).unwrap();
    let rows = csv_rows(&text);
    assert_eq!(rows.len(), calls.len(), "{text}");
    let cost: f64 = rows
        .iter()
        .map(|r| r[7].parse::<f64>().unwrap_or(0.0))
        .sum();
    let expected: f64 = calls.iter().map(|c| c.cost.unwrap_or(0.0)).sum();
    assert!(
        (cost - expected).abs() < 0.01 * calls.len() as f64,
        "{cost} vs {expected}"
    );
    assert!(text.starts_with("ended_at,campaign,lead_id,attempt,result"));
    // Leads: every lead created in the period.
    let (kind, disposition, omitted, body) = raw("/api/v1/reports/leads".into()).await;
    assert_eq!(csv_rows(&String::from_utf8(body).unwrap()).len(), LEADS);
    assert_eq!(omitted.as_deref(), Some("0"));
    assert_eq!(kind.as_deref(), Some("text/csv; charset=utf-8"));
    assert!(disposition.is_some_and(|d| d.contains("soraaya-leads-") && d.ends_with(".csv\"")),);
    // Campaigns: the campaign's calls in the period.
    let (_, _, _, body) = raw("/api/v1/reports/campaigns".into()).await;
    let rows = csv_rows(&String::from_utf8(body).unwrap());
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][0], "Reported");
    assert_eq!(rows[0][3].parse::<usize>().unwrap(), calls.len());

    // The PDF: the dashboard trend's sums, written in the page.
    let trend = get("/api/v1/dashboard/trends?days=30".into()).await;
    let total = |field: &str| -> i64 {
        trend.body["days"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d[field].as_i64().unwrap())
            .sum()
    };
    let (kind, _, _, bytes) = raw(format!(
        "/api/v1/reports/campaigns?format=pdf&campaign_id={campaign_id}"
    ))
    .await;
    assert_eq!(kind.as_deref(), Some("application/pdf"));
    assert!(bytes.starts_with(b"%PDF-"), "a PDF");
    let page = String::from_utf8_lossy(&bytes);
    assert!(page.contains("(Calls ended) Tj"), "{page}");
    assert!(page.contains(&format!("({}) Tj", total("calls"))), "{page}");
    assert!(page.contains(&format!("({}) Tj", total("leads_added"))));
    assert!(page.contains("(Reported) Tj"), "the campaign's row");

    // Bad parameters name their field; another organisation's campaign is 404.
    for (query, field) in [
        ("leads?format=doc", "format"),
        ("leads?from=yesterday", "from"),
        ("people", "kind"),
        ("leads?campaign_id=nope", "campaign_id"),
    ] {
        let response = get(format!("/api/v1/reports/{query}")).await;
        response.expect(422);
        assert!(
            response.body.to_string().contains(field),
            "{query}: {}",
            response.body
        );
    }
    // A period that ends before it starts has no rows; a longer one than a
    // report covers keeps its last 366 days, and says so.
    for kind in ["calls", "leads", "campaigns"] {
        let (_, _, _, body) = raw(format!(
            "/api/v1/reports/{kind}?from=2026-11-30&to=2026-11-01"
        ))
        .await;
        // (A campaigns report has each campaign, its period's figures nought.)
        let rows = csv_rows(&String::from_utf8(body).unwrap());
        assert!(kind == "campaigns" || rows.is_empty(), "{kind}");
        // The PDF too (schemathesis found the leads one answering 500).
        raw(format!(
            "/api/v1/reports/{kind}?format=pdf&from=2026-11-10&to=0017-07-08"
        ))
        .await;
    }
    let request = axum::http::Request::get("/api/v1/reports/leads?from=2000-01-01&to=2026-11-30")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let (status, headers, _) = api.send_raw(request).await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-report-period"], "2025-11-30/2026-11-30");
    let elsewhere = uuid::Uuid::now_v7();
    get(format!("/api/v1/reports/leads?campaign_id={elsewhere}"))
        .await
        .expect(404);
}
