//! The lead book over the API: validation, the status machine, concurrency,
//! listings, counters, bulk changes, notes, the do-not-call list.

use serde_json::{Value, json};
use soraaya_domain::{LeadId, LeadStatus, MovedBy, Mover, TRANSITIONS};
use soraaya_leads::record::Actor;
use soraaya_leads::service::{StatusChange, change_status};
use soraaya_tests::TestApp;

const PASSWORD: &str = "marine-drive-view";

async fn admin() -> (TestApp, String) {
    let t = TestApp::new().await;
    let (_, token) = t
        .organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    (t, token)
}

/// The caller's organisation.
async fn org_of(t: &TestApp, token: &str) -> soraaya_domain::OrgId {
    t.get("/api/v1/auth/me", token).await.body["org_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// A listing's total, and one field of each lead on its page.
async fn listed(t: &TestApp, token: &str, query: &str, field: &str) -> (u64, Vec<String>) {
    let response = t.get(&format!("/api/v1/leads?{query}"), token).await;
    response.expect(200);
    let values = response.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l[field].as_str().unwrap().to_owned())
        .collect();
    (response.body["total"].as_u64().unwrap(), values)
}

async fn first_page(t: &TestApp, token: &str) -> Vec<Value> {
    let response = t.get("/api/v1/leads?limit=10", token).await;
    response.expect(200);
    response.body["items"].as_array().unwrap().clone()
}

/// Lead pages are written from kept renderings: a page read again after a
/// change shows the change, and every lead of a page is as `GET` of it.
#[tokio::test]
async fn lead_pages_show_every_change_at_once() {
    let (t, token) = admin().await;
    let mut ids = Vec::new();
    for (n, name) in ["Asha Rao", "Dev Shah", "Meera Iyer"].iter().enumerate() {
        let lead = t
            .lead(
                &token,
                json!({ "contact_person": name, "phone_number": phone(700 + n as u32) }),
            )
            .await;
        ids.push(lead["id"].as_str().unwrap().to_owned());
    }
    let first = first_page(&t, &token).await;
    assert_eq!(first, first_page(&t, &token).await, "the same page twice");
    t.put(
        &format!("/api/v1/leads/{}", ids[1]),
        &token,
        json!({ "contact_person": "Dev Shah Jr", "location": "Bandra" }),
    )
    .await
    .expect(200);
    let after = first_page(&t, &token).await;
    let dev = after.iter().find(|l| l["id"] == ids[1].as_str()).unwrap();
    assert_eq!(dev["contact_person"], "Dev Shah Jr");
    assert_eq!(dev["location"], "Bandra");
    assert_eq!(dev["version"], 2);
    for lead in &after {
        let one = t
            .get(
                &format!("/api/v1/leads/{}", lead["id"].as_str().unwrap()),
                &token,
            )
            .await;
        one.expect(200);
        assert_eq!(&one.body, lead, "a page's lead is the lead");
    }
    t.delete(&format!("/api/v1/leads/{}", ids[0]), &token)
        .await
        .expect(204);
    let left = first_page(&t, &token).await;
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|l| l["id"] != ids[0].as_str()));
}

fn phone(n: u32) -> String {
    format!("+91 98200 {n:05}")
}

#[tokio::test]
async fn leads_are_validated_normalised_and_unique_by_phone() {
    let (t, token) = admin().await;
    let lead = t
        .lead(
            &token,
            json!({
                "contact_person": "  Rohan   Malhotra ",
                "phone_number": "098200 12345",
                "email": "Rohan@Example.com",
                "price_range": "₹12-15 Cr",
                "property_type": "Sky penthouse",
                "location": "Worli, Mumbai",
                "priority": "High",
                "purchase_timeline": "within 3 months",
                "financing_status": "cash",
                "tags": ["NRI", "sea view"],
                "property_preferences": { "bedrooms": 5, "amenities": ["infinity pool"], "locations": ["Worli"] },
            }),
        )
        .await;
    assert_eq!(lead["contact_person"], "Rohan Malhotra");
    assert_eq!(lead["phone_number"], "+919820012345");
    assert_eq!(lead["email"], "rohan@example.com");
    assert_eq!(lead["budget_range_min"], 120_000_000);
    assert_eq!(lead["budget_range_max"], 150_000_000);
    assert_eq!(lead["property_type"], "penthouse");
    assert_eq!(lead["priority"], "high");
    assert_eq!(lead["purchase_timeline"], "3_months");
    assert_eq!(lead["financing_status"], "cash_buyer");
    assert_eq!(lead["timezone"], "Asia/Kolkata");
    assert_eq!(lead["timezone_source"], "phone_country");
    assert_eq!(lead["status"], "to_call");
    assert_eq!(lead["tags"], json!(["nri", "sea view"]));
    assert_eq!(lead["property_preferences"]["bedrooms"], 5);
    assert_eq!(lead["version"], 1);

    let duplicate = t
        .post(
            "/api/v1/leads",
            Some(&token),
            json!({ "contact_person": "Someone", "phone_number": "+91-98200-12345" }),
        )
        .await;
    duplicate.expect(409);
    assert_eq!(duplicate.code(), "duplicate_phone");
    assert_eq!(
        duplicate.body["error"]["details"]["existing_lead_id"],
        lead["id"]
    );

    let invalid = t
        .post(
            "/api/v1/leads",
            Some(&token),
            json!({ "phone_number": "12345", "email": "x@", "price_range": "lots", "qualification_score": 150, "status": "in_call", "colour": "red" }),
        )
        .await;
    invalid.expect(422);
    assert_eq!(invalid.body["error"]["details"][0]["field"], "colour");
    let invalid = t
        .post(
            "/api/v1/leads",
            Some(&token),
            json!({ "phone_number": "12345", "email": "x@", "price_range": "lots", "qualification_score": 150, "status": "in_call" }),
        )
        .await;
    invalid.expect(422);
    let fields: Vec<&str> = invalid.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "phone_number",
            "email",
            "qualification_score",
            "price_range",
            "status"
        ]
    );
    let missing = t
        .post(
            "/api/v1/leads",
            Some(&token),
            json!({ "email": "x@example.com" }),
        )
        .await;
    missing.expect(422);
    assert_eq!(
        missing.body["error"]["details"].as_array().unwrap().len(),
        2
    );
}

#[tokio::test]
async fn updates_are_partial_versioned_and_keep_phones_unique() {
    let (t, token) = admin().await;
    let lead = t.lead(&token, json!({ "contact_person": "Isha Kapoor", "phone_number": phone(1), "email": "isha@example.com", "location": "Juhu" })).await;
    let other = t
        .lead(
            &token,
            json!({ "contact_person": "Kabir Mehta", "phone_number": phone(2) }),
        )
        .await;
    let id = lead["id"].as_str().unwrap();
    let path = format!("/api/v1/leads/{id}");

    let got = t.get(&path, &token).await;
    got.expect(200);
    assert_eq!(got.headers["etag"], "\"1\"");

    let updated = t
        .put(
            &path,
            &token,
            json!({ "email": null, "location": "Juhu Tara Road", "notes": "Prefers evenings" }),
        )
        .await;
    updated.expect(200);
    assert_eq!(updated.body["email"], Value::Null);
    assert_eq!(updated.body["location"], "Juhu Tara Road");
    assert_eq!(
        updated.body["contact_person"], "Isha Kapoor",
        "absent fields stay"
    );
    assert_eq!(updated.body["version"], 2);
    assert_eq!(updated.headers["etag"], "\"2\"");

    let stale = t
        .send(
            http::Request::put(&path)
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .header("if-match", "\"1\"")
                .body(axum::body::Body::from(
                    json!({ "notes": "lost update" }).to_string(),
                ))
                .unwrap(),
        )
        .await;
    stale.expect(409);
    assert_eq!(stale.code(), "version_mismatch");

    let taken = t
        .put(
            &path,
            &token,
            json!({ "phone_number": other["phone_number"] }),
        )
        .await;
    taken.expect(409);
    assert_eq!(taken.code(), "duplicate_phone");
    let moved = t
        .put(&path, &token, json!({ "phone_number": phone(3) }))
        .await;
    moved.expect(200);
    // The old number is free again.
    t.lead(
        &token,
        json!({ "contact_person": "New Person", "phone_number": phone(1) }),
    )
    .await;

    let status = t.put(&path, &token, json!({ "status": "qualified" })).await;
    status.expect(422);
    assert_eq!(status.body["error"]["details"][0]["field"], "status");
    let timeline = t.get(&format!("{path}/timeline"), &token).await;
    let kinds: Vec<&str> = timeline.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["updated", "updated", "created"]);
    assert_eq!(
        timeline.body["items"][1]["fields"],
        json!(["email", "location", "notes"])
    );
}

/// A lead of the organisation moved into `status` by whatever may move it there.
async fn lead_in(t: &TestApp, token: &str, status: LeadStatus, n: u32) -> String {
    let settable = !status.is_live();
    let lead = t
        .lead(
            token,
            json!({ "contact_person": "State Test", "phone_number": phone(10_000 + n), "status": if settable { status.as_str() } else { "to_call" } }),
        )
        .await;
    let id = lead["id"].as_str().unwrap().to_owned();
    if !settable {
        let org = t.get("/api/v1/auth/me", token).await.body["org_id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let lead_id: LeadId = id.parse().unwrap();
        for step in [LeadStatus::Calling, LeadStatus::InCall] {
            let change = StatusChange {
                to: step,
                reason: None,
                callback_at: None,
            };
            change_status(
                &t.app,
                org,
                &Actor::system("dialer"),
                lead_id,
                change,
                Mover::System,
                None,
            )
            .await
            .unwrap();
            if step == status {
                break;
            }
        }
    }
    id
}

#[tokio::test]
async fn every_transition_follows_the_table() {
    let (t, token) = admin().await;
    let mut n = 0;
    for from in LeadStatus::ALL {
        for to in LeadStatus::ALL {
            if from == to {
                continue;
            }
            n += 1;
            let id = lead_in(&t, &token, from, n).await;
            let path = format!("/api/v1/leads/{id}/status");
            let response = t
                .put(
                    &path,
                    &token,
                    json!({ "status": to.as_str(), "reason": "test" }),
                )
                .await;
            let rule = TRANSITIONS
                .iter()
                .find(|(f, x, _)| *f == from && *x == to)
                .map(|(_, _, by)| *by);
            match rule {
                Some(MovedBy::Anyone) => {
                    response.expect(200);
                    assert_eq!(response.body["status"], to.as_str());
                    let timeline = t.get(&format!("/api/v1/leads/{id}/timeline"), &token).await;
                    let last = &timeline.body["items"][0];
                    assert_eq!(
                        (last["from"].as_str(), last["to"].as_str()),
                        (Some(from.as_str()), Some(to.as_str()))
                    );
                    assert_eq!(last["reason"], "test");
                    assert_eq!(last["actor"]["name"], "Org Admin");
                }
                Some(MovedBy::System) => {
                    response.expect(409);
                    assert_eq!(response.code(), "invalid_transition");
                    assert_eq!(
                        response.body["error"]["message"],
                        format!("only the calling system moves a lead from {from} to {to}")
                    );
                }
                None => {
                    response.expect(409);
                    assert_eq!(response.code(), "invalid_transition", "{from} -> {to}");
                    assert_eq!(
                        response.body["error"]["message"],
                        format!("a lead cannot go from {from} to {to}")
                    );
                    assert_eq!(response.body["error"]["details"]["from"], from.as_str());
                }
            }
            if rule != Some(MovedBy::Anyone) {
                let unchanged = t.get(&format!("/api/v1/leads/{id}"), &token).await;
                assert_eq!(
                    unchanged.body["status"],
                    from.as_str(),
                    "{from} -> {to} must not move the lead"
                );
            }
        }
    }
}

#[tokio::test]
async fn concurrent_status_changes_have_exactly_one_winner() {
    let t = std::sync::Arc::new(TestApp::new().await);
    let (_, token) = t
        .organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    for round in 0..5 {
        let lead = t
            .lead(
                &token,
                json!({ "contact_person": "Race", "phone_number": phone(round) }),
            )
            .await;
        let path = format!("/api/v1/leads/{}/status", lead["id"].as_str().unwrap());
        let targets = [
            "qualified",
            "not_interested",
            "follow_up",
            "human_follow_up",
            "callback_requested",
            "human_input_needed",
        ];
        let mut tasks = Vec::new();
        for target in targets {
            let (t, token, path) = (t.clone(), token.clone(), path.clone());
            tasks.push(tokio::spawn(async move {
                let response = t
                    .send(
                        http::Request::put(&path)
                            .header("authorization", format!("Bearer {token}"))
                            .header("content-type", "application/json")
                            .header("if-match", "\"1\"")
                            .body(axum::body::Body::from(
                                json!({ "status": target }).to_string(),
                            ))
                            .unwrap(),
                    )
                    .await;
                (target, response.status.as_u16(), response.code().to_owned())
            }));
        }
        let mut winners = Vec::new();
        for task in tasks {
            let (target, status, code) = task.await.unwrap();
            match status {
                200 => winners.push(target),
                409 => assert!(
                    code == "changed_concurrently" || code == "version_mismatch",
                    "{code}"
                ),
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(winners.len(), 1, "{winners:?}");
        let lead = t.get(&path.replace("/status", ""), &token).await;
        assert_eq!(lead.body["status"], winners[0]);
        assert_eq!(lead.body["version"], 2);
        let timeline = t.get(&path.replace("/status", "/timeline"), &token).await;
        assert_eq!(
            timeline.body["items"].as_array().unwrap().len(),
            2,
            "one change, one entry"
        );
    }
}

#[tokio::test]
async fn listings_filter_search_sort_and_page() {
    let (t, mut token) = admin().await;
    let cities = [
        "Worli",
        "Bandra West",
        "Juhu",
        "Malabar Hill",
        "Lower Parel",
    ];
    let priorities = ["high", "medium", "low"];
    let statuses = [
        "to_call",
        "qualified",
        "follow_up",
        "to_call",
        "not_interested",
    ];
    for i in 0..25u32 {
        t.clock.advance(jiff::SignedDuration::from_secs(3600));
        token = t.token("asha@skyline.in", PASSWORD).await;
        t.lead(
            &token,
            json!({
                "contact_person": format!("Buyer {i:02}"),
                "phone_number": phone(i),
                "location": cities[i as usize % 5],
                "budget_range_min": 30_000_000 + u64::from(i) * 10_000_000,
                "budget_range_max": 40_000_000 + u64::from(i) * 10_000_000,
                "priority": priorities[i as usize % 3],
                "status": statuses[i as usize % 5],
                "tags": if i % 4 == 0 { json!(["nri"]) } else { json!([]) },
            }),
        )
        .await;
    }
    let list = |query: &str| {
        let t = &t;
        let token = token.clone();
        let query = query.to_owned();
        async move {
            let response = t.get(&format!("/api/v1/leads?{query}"), &token).await;
            response.expect(200);
            response.body
        }
    };
    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["contact_person"].as_str().unwrap().to_owned())
            .collect()
    };

    let all = list("limit=10").await;
    assert_eq!(
        (all["total"].as_u64(), all["pages"].as_u64()),
        (Some(25), Some(3))
    );
    assert_eq!(names(&all)[0], "Buyer 24", "newest first");
    let third = list("limit=10&page=3").await;
    assert_eq!(
        names(&third),
        ["Buyer 04", "Buyer 03", "Buyer 02", "Buyer 01", "Buyer 00"]
    );
    let oldest = list("limit=2&sort=created_at").await;
    assert_eq!(names(&oldest), ["Buyer 00", "Buyer 01"]);

    let to_call = list("status=to_call").await;
    assert_eq!(to_call["total"], 10);
    assert!(
        to_call["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["status"] == "to_call")
    );
    let two = list("status=qualified,not_interested").await;
    assert_eq!(two["total"], 10);
    let high = list("priority=high&status=to_call").await;
    assert_eq!(high["total"], 4);
    let worli = list("search=worli").await;
    assert_eq!(worli["total"], 5);
    let by_phone = list("search=98200%2000007").await;
    assert_eq!(names(&by_phone), ["Buyer 07"]);
    let by_name = list("search=BUYER%2013").await;
    assert_eq!(names(&by_name), ["Buyer 13"]);
    let nri = list("tag=nri").await;
    assert_eq!(nri["total"], 7);

    let budget = list("sort=-budget&limit=3").await;
    assert_eq!(names(&budget), ["Buyer 24", "Buyer 23", "Buyer 22"]);
    let by_name_sorted = list("sort=contact_person&limit=2&page=2").await;
    assert_eq!(names(&by_name_sorted), ["Buyer 02", "Buyer 03"]);

    // Created 10:00 + 1 h per lead (UTC); IST is +5:30.
    let range =
        list("created_from=2026-11-23T15:00:00Z&created_to=2026-11-23T18:00:00Z&sort=created_at")
            .await;
    assert_eq!(
        names(&range),
        ["Buyer 04", "Buyer 05", "Buyer 06", "Buyer 07"]
    );
    let by_day = list("created_from=2026-11-24&created_to=2026-11-24").await;
    // Created 11:00 + i h UTC; Nov 24 in IST is 18:30 Nov 23 to 18:30 Nov 24 UTC: i = 8..=24.
    assert_eq!(by_day["total"], 17);

    let bad = t
        .get(
            "/api/v1/leads?status=sleeping&limit=500&sort=colour&page=0&created_from=yesterday",
            &token,
        )
        .await;
    bad.expect(422);
    let fields: Vec<&str> = bad.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["status", "created_from", "sort", "page", "limit"]);
    let unknown = t.get("/api/v1/leads?colour=red", &token).await;
    unknown.expect(422);

    // A period that ends before it starts, in the listing and the export
    // (whose ids do not excuse bad filters), and a page past the sorted window.
    for path in [
        "/api/v1/leads?created_from=2026-11-24&created_to=2026-11-23",
        "/api/v1/leads/export?created_from=2026-11-24&created_to=2026-11-23",
        "/api/v1/leads/export?ids=01936f3a-1111-7000-8000-00000000dead&status=sleeping",
        "/api/v1/leads?sort=qualification_score&limit=50&page=201",
    ] {
        let refused = t.get(path, &token).await;
        refused.expect(422);
        let field = &refused.body["error"]["details"][0]["field"];
        let expected = if path.contains("created_to") {
            "created_to"
        } else if path.contains("status") {
            "status"
        } else {
            "page"
        };
        assert_eq!(field, expected, "{path}: {}", refused.body);
    }
    // Orders an index keeps page to any depth.
    for order in ["created_at", "budget", "-budget"] {
        t.get(
            &format!("/api/v1/leads?sort={order}&limit=50&page=201"),
            &token,
        )
        .await
        .expect(200);
    }
}

#[tokio::test]
async fn counters_follow_every_change() {
    let (t, token) = admin().await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(
            t.lead(
                &token,
                json!({ "contact_person": "Counted", "phone_number": phone(i) }),
            )
            .await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    t.put(
        &format!("/api/v1/leads/{}/status", ids[0]),
        &token,
        json!({ "status": "qualified" }),
    )
    .await
    .expect(200);
    t.put(
        &format!("/api/v1/leads/{}/status", ids[1]),
        &token,
        json!({ "status": "qualified" }),
    )
    .await
    .expect(200);
    t.put(
        &format!("/api/v1/leads/{}/status", ids[1]),
        &token,
        json!({ "status": "human_follow_up" }),
    )
    .await
    .expect(200);
    t.delete(&format!("/api/v1/leads/{}", ids[2]), &token)
        .await
        .expect(204);

    // Totals from the counters (status-only filters) equal counted totals
    // (a filter that matches everything forces counting).
    for status in LeadStatus::ALL {
        let from_counters = t
            .get(&format!("/api/v1/leads?status={status}"), &token)
            .await
            .body["total"]
            .clone();
        let counted = t
            .get(
                &format!("/api/v1/leads?status={status}&do_not_call=false"),
                &token,
            )
            .await
            .body["total"]
            .clone();
        assert_eq!(from_counters, counted, "{status}");
    }
    assert_eq!(t.get("/api/v1/leads", &token).await.body["total"], 5);
    assert_eq!(
        t.get("/api/v1/leads?status=qualified", &token).await.body["total"],
        1
    );
    assert_eq!(
        t.get("/api/v1/leads?status=to_call", &token).await.body["total"],
        3
    );
}

#[tokio::test]
async fn search_finds_leads_by_the_start_of_their_words_and_follows_every_change() {
    let (t, token) = admin().await;
    let people = [
        (
            "Anaya Mehta",
            "Malabar Hill",
            "anaya.mehta@example.in",
            "qualified",
            90_000_000,
        ),
        (
            "Anil Kapoor",
            "Malad West",
            "anil@kapoor.co",
            "qualified",
            50_000_000,
        ),
        (
            "Kabir Shah",
            "Worli",
            "kabir@example.in",
            "to_call",
            70_000_000,
        ),
        (
            "Meher Anand",
            "Juhu",
            "meher@example.in",
            "qualified",
            120_000_000,
        ),
    ];
    let mut ids = Vec::new();
    for (i, (name, place, email, status, budget)) in people.iter().enumerate() {
        t.clock.advance(jiff::SignedDuration::from_secs(60));
        let lead = t
            .lead(
                &token,
                json!({
                    "contact_person": name,
                    "phone_number": phone(100 + i as u32),
                    "location": place,
                    "email": email,
                    "status": status,
                    "budget_range_max": budget,
                }),
            )
            .await;
        ids.push(lead["id"].as_str().unwrap().to_owned());
    }
    let found = |query: String| {
        let (t, token) = (&t, token.clone());
        async move { listed(t, &token, &query, "contact_person").await }
    };
    let search = |text: &str| found(format!("search={}", urlencode(text)));

    // The start of any word of the name, place, email or number, any case.
    assert_eq!(search("malab").await, (1, vec!["Anaya Mehta".into()]));
    assert_eq!(
        search("ma").await,
        (2, vec!["Anil Kapoor".into(), "Anaya Mehta".into()]),
        "Malad and Malabar, newest first"
    );
    assert_eq!(search("ANAND").await.1, ["Meher Anand"]);
    assert_eq!(search("ana").await.1, ["Meher Anand", "Anaya Mehta"]);
    assert_eq!(search("alabar").await.0, 0, "words match from their start");
    assert_eq!(search("kabir@example").await.1, ["Kabir Shah"]);
    assert_eq!(search("+91 98200 00102").await.1, ["Kabir Shah"]);
    assert_eq!(
        search("9820000103").await.1,
        ["Meher Anand"],
        "national digits"
    );
    assert_eq!(search("98200 001").await.0, 4, "a number's beginning");
    // Every word must match, in any field.
    assert_eq!(search("anaya hill").await.1, ["Anaya Mehta"]);
    assert_eq!(search("anaya juhu").await.0, 0);
    // With filters, other orders and pages.
    assert_eq!(
        found("search=a&status=qualified&sort=-budget".into())
            .await
            .1,
        ["Meher Anand", "Anaya Mehta", "Anil Kapoor"]
    );
    assert_eq!(
        found("search=an&limit=1&page=2&sort=created_at".into()).await,
        (3, vec!["Anil Kapoor".into()])
    );

    // A rename and a move are found by their new words only.
    let path = format!("/api/v1/leads/{}", ids[2]);
    t.put(
        &path,
        &token,
        json!({ "contact_person": "Kiaan Shah", "location": "Colaba" }),
    )
    .await
    .expect(200);
    assert_eq!(search("kabir").await.1, ["Kiaan Shah"], "by the email kept");
    assert_eq!(search("kabir shah worli").await.0, 0);
    assert_eq!(search("worli").await.0, 0);
    assert_eq!(search("kiaan colaba").await.1, ["Kiaan Shah"]);
    assert_eq!(search("shah").await.1, ["Kiaan Shah"], "kept words stay");

    // A lead refused for a taken number leaves no words behind.
    t.post(
        "/api/v1/leads",
        Some(&token),
        json!({ "contact_person": "Zubin Refused", "phone_number": phone(100) }),
    )
    .await
    .expect(409);
    assert_eq!(search("zubin").await.0, 0);
    let org = org_of(&t, &token).await;
    let z_words = t
        .app
        .store
        .query(soraaya_store::Query::new(
            &soraaya_core::tables::LEADS,
            format!("ORG#{org}#WORDS#z"),
        ))
        .await
        .unwrap();
    assert!(z_words.items.is_empty(), "{:?}", z_words.items);

    // Exports take the same matches.
    let export = t.get("/api/v1/leads/export?search=ana", &token).await;
    let rows: Vec<&str> = export.body.as_str().unwrap().lines().collect();
    assert_eq!(rows.len(), 3, "header, Meher and Anaya: {rows:?}");
}

/// A search with filters narrows its candidates by the keys the filters
/// select when those are few, and reads the candidates when they are many:
/// the same leads, order and totals either way.
#[tokio::test]
async fn searches_with_filters_find_the_same_leads_whichever_side_is_read() {
    let (t, token) = admin().await;
    // 24 Sharmas (two of them qualified, one high priority), one Zed among
    // 24 other leads to call.
    let mut qualified = Vec::new();
    let mut zed = String::new();
    for i in 0..49u32 {
        t.clock.advance(jiff::SignedDuration::from_secs(1));
        let (name, status, priority) = match i {
            0..=21 => (format!("Ria Sharma {i}"), "to_call", "medium"),
            22 => (format!("Dev Sharma {i}"), "qualified", "high"),
            23 => (format!("Dev Sharma {i}"), "qualified", "low"),
            24 => ("Zed Khan".to_owned(), "to_call", "medium"),
            _ => (format!("Other Person {i}"), "to_call", "medium"),
        };
        let lead = t
            .lead(
                &token,
                json!({ "contact_person": name, "phone_number": phone(700 + i), "status": status, "priority": priority }),
            )
            .await;
        let id = lead["id"].as_str().unwrap().to_owned();
        match i {
            22 | 23 => qualified.push(id),
            24 => zed = id,
            _ => {}
        }
    }
    let ids = |query: &'static str| listed(&t, &token, query, "id");
    // Few selected (2 qualified) against 24 candidates: keys narrow them.
    let mut newest_first = qualified.clone();
    newest_first.reverse();
    assert_eq!(
        ids("search=sharma&status=qualified").await,
        (2, newest_first)
    );
    assert_eq!(
        ids("search=sharma&status=qualified&priority=high").await,
        (1, qualified[..1].to_vec())
    );
    let (total, page) = ids("search=sharma&status=to_call&limit=5&page=2").await;
    assert_eq!((total, page.len()), (22, 5));
    // Many selected (47 to call) against one candidate: the candidate is read.
    assert_eq!(
        ids("search=zed&status=to_call").await,
        (1, vec![zed.clone()])
    );
    assert_eq!(ids("search=zed&status=qualified").await.0, 0);
    // A lead that leaves the status leaves the results at once.
    t.put(
        &format!("/api/v1/leads/{}/status", qualified[1]),
        &token,
        json!({ "status": "not_interested" }),
    )
    .await
    .expect(200);
    assert_eq!(
        ids("search=sharma&status=qualified").await,
        (1, qualified[..1].to_vec())
    );
}

#[tokio::test]
async fn status_and_priority_totals_and_budget_order_come_from_indexes() {
    const PRIORITIES: [&str; 2] = ["high", "low"];
    const STATUSES: [&str; 3] = ["to_call", "qualified", "to_call"];
    let (t, token) = admin().await;
    let budgets = [
        Some(50_000_000u64),
        None,
        Some(90_000_000),
        Some(50_000_000),
        None,
        Some(70_000_000),
    ];
    for (i, budget) in budgets.iter().enumerate() {
        t.clock.advance(jiff::SignedDuration::from_secs(60));
        let mut body = json!({
            "contact_person": format!("Buyer {i}"),
            "phone_number": phone(i as u32),
            "priority": PRIORITIES[i % 2],
            "status": STATUSES[i % 3],
        });
        if let Some(budget) = budget {
            body["budget_range_max"] = json!(budget);
        }
        t.lead(&token, body).await;
    }
    let names = |query: &'static str| listed(&t, &token, query, "contact_person");
    // Buyers 0..6: priority high, low, high, low, high, low; status to_call,
    // qualified, to_call, to_call, qualified, to_call.
    assert_eq!(
        names("status=to_call&priority=high").await,
        (2, vec!["Buyer 2".into(), "Buyer 0".into()])
    );
    assert_eq!(names("priority=low").await.0, 3);
    assert_eq!(
        names("priority=low,high&status=qualified,to_call&limit=2").await,
        (6, vec!["Buyer 5".into(), "Buyer 4".into()]),
        "partitions merge newest first"
    );
    // Largest budget first; equal budgets newest first; none last.
    assert_eq!(
        names("sort=-budget").await.1,
        [
            "Buyer 2", "Buyer 5", "Buyer 3", "Buyer 0", "Buyer 4", "Buyer 1"
        ]
    );
    assert_eq!(
        names("sort=budget&limit=3&page=2").await,
        (
            6,
            vec!["Buyer 3".into(), "Buyer 5".into(), "Buyer 2".into()]
        ),
        "none first, then smallest; equal budgets oldest first"
    );
    assert_eq!(
        names("sort=-budget&status=to_call&priority=low").await.1,
        ["Buyer 5", "Buyer 3"]
    );
    // A change of status and priority moves the lead between partitions
    // and counters.
    let listed = t.get("/api/v1/leads?search=buyer%202", &token).await;
    let id = listed.body["items"][0]["id"].as_str().unwrap().to_owned();
    t.put(
        &format!("/api/v1/leads/{id}"),
        &token,
        json!({ "priority": "low" }),
    )
    .await
    .expect(200);
    assert_eq!(names("status=to_call&priority=high").await.1, ["Buyer 0"]);
    assert_eq!(names("status=to_call&priority=low").await.0, 3);
}

#[tokio::test]
async fn leads_written_before_the_search_and_priority_indexes_are_reindexed_once() {
    use soraaya_core::tables::LEADS;
    use soraaya_store::{AttributeValue, BatchOp, Key, Put, Query, Update, UpdateItem};
    let (t, token) = admin().await;
    for (i, (name, priority)) in [
        ("Rhea Old", "high"),
        ("Vir Old", "low"),
        ("Ira Old", "high"),
    ]
    .into_iter()
    .enumerate()
    {
        t.clock.advance(jiff::SignedDuration::from_secs(60));
        t.lead(
            &token,
            json!({ "contact_person": name, "phone_number": phone(i as u32), "priority": priority }),
        )
        .await;
    }
    let org = org_of(&t, &token).await;
    let store = t.app.store.as_ref();
    // Make the book look as the previous version left it: no search words,
    // no status-and-priority or budget index keys, no counts by priority.
    let listed = store
        .query(Query::new(&LEADS, format!("ORG#{org}")).index("by_created"))
        .await
        .unwrap();
    for entry in &listed.items {
        let mut item = store
            .get(&LEADS, Key::of(entry).unwrap())
            .await
            .unwrap()
            .unwrap();
        item.remove("status_priority_pk");
        item.remove("budget_sk");
        store.put(Put::new(&LEADS, item)).await.unwrap();
    }
    for first in ['r', 'v', 'i', 'o', '9'] {
        let words = store
            .query(Query::new(&LEADS, format!("ORG#{org}#WORDS#{first}")))
            .await
            .unwrap();
        let ops = words
            .items
            .iter()
            .map(|w| BatchOp::Delete {
                table: &LEADS,
                key: Key::of(w).unwrap(),
            })
            .collect();
        store.batch_write(ops).await.unwrap();
    }
    let counters = Key::new(format!("ORG#{org}#STATS"), "ALL");
    let stripped = store
        .get(&LEADS, counters.clone())
        .await
        .unwrap()
        .unwrap()
        .iter()
        .filter(|(name, _)| name.starts_with("pri_") || name.as_str() == "index_generation")
        .fold(Update::new(), |update, (name, _)| update.remove(name));
    store
        .update(UpdateItem::new(&LEADS, counters.clone(), stripped))
        .await
        .unwrap();
    let total = |query: &'static str| {
        let t = &t;
        let token = token.clone();
        async move { t.get(&format!("/api/v1/leads?{query}"), &token).await.body["total"].clone() }
    };
    assert_eq!(total("search=old").await, 0, "unindexed");

    assert_eq!(
        soraaya_leads::reindex::bring_up_to_date(store, org)
            .await
            .unwrap(),
        3
    );
    assert_eq!(total("search=old").await, 3);
    assert_eq!(total("search=rhea").await, 1);
    assert_eq!(total("priority=high&status=to_call").await, 2);
    assert_eq!(total("sort=-budget").await, 3);
    let after = store.get(&LEADS, counters).await.unwrap().unwrap();
    assert_eq!(
        after.get("pri_high_to_call"),
        Some(&AttributeValue::N("2".into()))
    );
    // Once only.
    assert_eq!(
        soraaya_leads::reindex::bring_up_to_date(store, org)
            .await
            .unwrap(),
        0
    );
    assert_eq!(total("search=old").await, 3);
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn erasing_leaves_no_personal_data_but_an_audit_record() {
    let (t, token) = admin().await;
    let lead = t.lead(&token, json!({ "contact_person": "Forget Me", "phone_number": phone(1), "email": "forget@example.com" })).await;
    let id = lead["id"].as_str().unwrap();
    t.post(
        &format!("/api/v1/leads/{id}/notes"),
        Some(&token),
        json!({ "text": "Lives at 12 Carmichael Road" }),
    )
    .await
    .expect(201);
    t.delete(&format!("/api/v1/leads/{id}"), &token)
        .await
        .expect(204);
    t.get(&format!("/api/v1/leads/{id}"), &token)
        .await
        .expect(404);
    t.get(&format!("/api/v1/leads/{id}/timeline"), &token)
        .await
        .expect(404);
    t.delete(&format!("/api/v1/leads/{id}"), &token)
        .await
        .expect(404);
    // The number can be used again.
    t.lead(
        &token,
        json!({ "contact_person": "Someone Else", "phone_number": phone(1) }),
    )
    .await;

    // Nothing of the lead is left in the store but the audit record.
    let org = org_of(&t, &token).await;
    let timeline = t
        .app
        .store
        .query(soraaya_store::Query::new(
            &soraaya_core::tables::LEADS,
            format!("ORG#{org}#LEAD#{id}"),
        ))
        .await
        .unwrap();
    assert!(timeline.items.is_empty());
    let audit = t
        .app
        .store
        .query(soraaya_store::Query::new(
            &soraaya_core::tables::LEADS,
            format!("ORG#{org}#AUDIT"),
        ))
        .await
        .unwrap();
    assert_eq!(audit.items.len(), 1);
    // Nor any of its search words.
    for first in ('a'..='z').chain('0'..='9') {
        let words = t
            .app
            .store
            .query(soraaya_store::Query::new(
                &soraaya_core::tables::LEADS,
                format!("ORG#{org}#WORDS#{first}"),
            ))
            .await
            .unwrap();
        assert!(
            words.items.iter().all(|w| !format!("{w:?}").contains(id)),
            "{first}: {:?}",
            words.items
        );
    }
    let record = format!("{:?}", audit.items[0]);
    assert!(record.contains("lead_erased") && record.contains(id));
    assert!(
        !record.contains("Forget") && !record.contains("forget@") && !record.contains("9820000001"),
        "{record}"
    );
}

#[tokio::test]
async fn bulk_changes_report_each_lead() {
    let (t, token) = admin().await;
    let a = t
        .lead(
            &token,
            json!({ "contact_person": "A", "phone_number": phone(1) }),
        )
        .await;
    let b = t
        .lead(
            &token,
            json!({ "contact_person": "B", "phone_number": phone(2), "status": "not_interested" }),
        )
        .await;
    let missing = LeadId::new().to_string();
    let response = t
        .post(
            "/api/v1/leads/bulk-update",
            Some(&token),
            json!({ "lead_ids": [a["id"], b["id"], missing], "status": "follow_up", "priority": "high" }),
        )
        .await;
    response.expect(200);
    assert_eq!(
        (
            response.body["succeeded"].as_u64(),
            response.body["failed"].as_u64()
        ),
        (Some(1), Some(2))
    );
    let results = response.body["results"].as_array().unwrap();
    assert_eq!(results[0]["ok"], true);
    assert_eq!(results[1]["error"]["code"], "invalid_transition");
    assert_eq!(results[2]["error"]["code"], "not_found");
    let a_now = t
        .get(
            &format!("/api/v1/leads/{}", a["id"].as_str().unwrap()),
            &token,
        )
        .await;
    assert_eq!(
        (
            a_now.body["status"].as_str(),
            a_now.body["priority"].as_str()
        ),
        (Some("follow_up"), Some("high"))
    );
    assert_eq!(a_now.body["follow_up_count"], 1);
    let b_now = t
        .get(
            &format!("/api/v1/leads/{}", b["id"].as_str().unwrap()),
            &token,
        )
        .await;
    assert_eq!(
        b_now.body["priority"], "medium",
        "a failed lead is not half-changed"
    );

    let nothing = t
        .post(
            "/api/v1/leads/bulk-update",
            Some(&token),
            json!({ "lead_ids": [a["id"]] }),
        )
        .await;
    nothing.expect(422);
    let too_many: Vec<String> = (0..501).map(|_| LeadId::new().to_string()).collect();
    t.post(
        "/api/v1/leads/bulk-update",
        Some(&token),
        json!({ "lead_ids": too_many, "priority": "low" }),
    )
    .await
    .expect(422);

    let deleted = t
        .post(
            "/api/v1/leads/bulk-delete",
            Some(&token),
            json!({ "lead_ids": [a["id"], missing] }),
        )
        .await;
    deleted.expect(200);
    assert_eq!(
        (
            deleted.body["succeeded"].as_u64(),
            deleted.body["failed"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(t.get("/api/v1/leads", &token).await.body["total"], 1);
}

#[tokio::test]
async fn notes_go_on_the_timeline() {
    let (t, token) = admin().await;
    let lead = t
        .lead(
            &token,
            json!({ "contact_person": "Noted", "phone_number": phone(1) }),
        )
        .await;
    let path = format!("/api/v1/leads/{}", lead["id"].as_str().unwrap());
    for i in 0..7 {
        t.clock.advance(jiff::SignedDuration::from_secs(60));
        let note = t
            .post(
                &format!("{path}/notes"),
                Some(&token),
                json!({ "text": format!("call note {i}") }),
            )
            .await;
        note.expect(201);
        assert_eq!(note.body["kind"], "note");
    }
    t.post(
        &format!("{path}/notes"),
        Some(&token),
        json!({ "text": "   " }),
    )
    .await
    .expect(422);
    t.post(
        &format!("{path}/notes"),
        Some(&token),
        json!({ "text": "x".repeat(5001) }),
    )
    .await
    .expect(422);
    let first = t.get(&format!("{path}/timeline?limit=5"), &token).await;
    assert_eq!(first.body["items"][0]["reason"], "call note 6");
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = t
        .get(&format!("{path}/timeline?limit=5&cursor={cursor}"), &token)
        .await;
    let reasons: Vec<&str> = second.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert_eq!(reasons, ["call note 1", "call note 0"]);
    assert_eq!(second.body["items"][2]["kind"], "created");
    t.get(&format!("{path}/timeline?cursor=garbage"), &token)
        .await
        .expect(422);
}

#[tokio::test]
async fn the_do_not_call_list_marks_and_unmarks_leads() {
    let (t, token) = admin().await;
    let lead = t
        .lead(
            &token,
            json!({ "contact_person": "Quiet", "phone_number": phone(1) }),
        )
        .await;
    let path = format!("/api/v1/leads/{}", lead["id"].as_str().unwrap());
    let added = t
        .post(
            "/api/v1/dnc",
            Some(&token),
            json!({ "phone_number": "098200 00001", "reason": "asked by email" }),
        )
        .await;
    added.expect(201);
    assert_eq!(added.body["phone_number"], "+919820000001");
    assert_eq!(t.get(&path, &token).await.body["do_not_call"], true);
    assert_eq!(
        t.get("/api/v1/leads?do_not_call=true", &token).await.body["total"],
        1
    );

    // A listed number is marked on arrival, by the API and by import.
    t.post(
        "/api/v1/dnc",
        Some(&token),
        json!({ "phone_number": phone(2) }),
    )
    .await
    .expect(201);
    let arriving = t
        .lead(
            &token,
            json!({ "contact_person": "Also Quiet", "phone_number": phone(2) }),
        )
        .await;
    assert_eq!(arriving["do_not_call"], true);
    t.post(
        "/api/v1/dnc",
        Some(&token),
        json!({ "phone_number": phone(3) }),
    )
    .await
    .expect(201);
    let report = t
        .post_raw(
            "/api/v1/leads/import",
            &token,
            "text/csv",
            format!("name,phone\nImported Quiet,{}\n", phone(3)),
        )
        .await;
    report.expect(200);
    assert_eq!(
        t.get("/api/v1/leads?search=imported", &token).await.body["items"][0]["do_not_call"],
        true
    );

    let list = t.get("/api/v1/dnc", &token).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 3);
    t.delete("/api/v1/dnc/+919820000001", &token)
        .await
        .expect(204);
    assert_eq!(t.get(&path, &token).await.body["do_not_call"], false);
    t.delete("/api/v1/dnc/+919820000001", &token)
        .await
        .expect(404);
    t.post(
        "/api/v1/dnc",
        Some(&token),
        json!({ "phone_number": "not a number" }),
    )
    .await
    .expect(422);

    // Setting the flag on the lead keeps the list in step.
    t.put(&path, &token, json!({ "do_not_call": true }))
        .await
        .expect(200);
    assert_eq!(
        t.get("/api/v1/dnc", &token).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let timeline = t.get(&format!("{path}/timeline"), &token).await;
    assert_eq!(timeline.body["items"][0]["fields"], json!(["do_not_call"]));
}
