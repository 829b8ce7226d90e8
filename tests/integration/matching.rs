//! Property matching over the API: the properties ranked for a lead, the
//! leads a property suits, each with its reasons, and the limits of both.

use serde_json::{Value, json};
use soraaya_tests::TestApp;

async fn property(t: &TestApp, token: &str, body: Value) -> String {
    let response = t.post("/api/v1/properties", Some(token), body).await;
    response.expect(201);
    response.body["id"].as_str().unwrap().to_owned()
}

fn lead_body(n: u32, location: &str, budget: &str, extra: Value) -> Value {
    let mut body = json!({
        "contact_person": format!("Buyer {n}"),
        "phone_number": format!("+91 98200 {:05}", 10_000 + n),
        "location": location,
        "price_range": budget,
        "property_type": "apartment",
    });
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

fn names(list: &Value, pick: impl Fn(&Value) -> &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| pick(i).as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn properties_rank_for_a_lead_and_leads_for_a_property_with_reasons() {
    let t = TestApp::new().await;
    let (_, token) = t
        .organisation("Skyline Estates", "asha@skyline.in", "marine-drive-view")
        .await;
    let sea_face = property(
        &t,
        &token,
        json!({
            "name": "Worli Sea-Face Residences, 4 BHK", "property_type": "apartment",
            "location": "Worli, Mumbai", "price_range": "₹28-35 Cr",
            "amenities": ["sea view deck", "gym", "3 car parks"],
        }),
    )
    .await;
    let bandra = property(
        &t,
        &token,
        json!({
            "name": "Bandstand Residences", "property_type": "apartment",
            "location": "Bandra West, Mumbai", "price_range": "₹12-16 Cr",
            "amenities": ["gym"], "specifications": {"bedrooms": "3"},
        }),
    )
    .await;
    let hebbal = property(
        &t,
        &token,
        json!({
            "name": "Hebbal Lake Terraces", "property_type": "villa",
            "location": "Hebbal, Bangalore", "price_range": "₹8-12 Cr",
        }),
    )
    .await;
    let sold = property(
        &t,
        &token,
        json!({
            "name": "Sold Sky Penthouse", "property_type": "apartment",
            "location": "Worli, Mumbai", "price_range": "₹30 Cr",
            "availability_status": "sold",
        }),
    )
    .await;

    let buyer = t
        .lead(
            &token,
            lead_body(
                1,
                "Worli, Mumbai",
                "₹25-35 Cr",
                json!({"property_preferences": {"bedrooms": 4, "amenities": ["sea view", "gym"]}}),
            ),
        )
        .await;
    let buyer_id = buyer["id"].as_str().unwrap();

    // For the lead: every available property, best first, sold left out.
    let matches = t
        .get(
            &format!("/api/v1/leads/{buyer_id}/property-matches"),
            &token,
        )
        .await;
    matches.expect(200);
    let body = &matches.body;
    let ids: Vec<String> = names(body, |i| &i["property"]["id"]);
    assert_eq!(ids, [sea_face.clone(), bandra, hebbal], "{body}");
    assert_eq!(body["unavailable"], 1);
    let best = &body["items"][0];
    assert_eq!(best["score"], 100, "{best}");
    assert_eq!(best["in_campaign"], false);
    let factors = best["factors"].as_array().unwrap();
    assert_eq!(factors.len(), 5);
    assert_eq!(
        factors
            .iter()
            .map(|f| f["max_points"].as_u64().unwrap())
            .sum::<u64>(),
        100
    );
    assert_eq!(factors[0]["factor"], "budget");
    assert_eq!(
        factors[0]["reason"],
        "₹28 Cr - ₹35 Cr is within the budget of ₹25 Cr - ₹35 Cr"
    );
    let scores: Vec<u64> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["score"].as_u64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert!(!body.to_string().contains(&sold));
    let one = t
        .get(
            &format!("/api/v1/leads/{buyer_id}/property-matches?limit=1"),
            &token,
        )
        .await;
    assert_eq!(one.body["items"].as_array().unwrap().len(), 1);

    // For a property: the leads whose place names its area or city, open
    // ones only, best first, at least `min_score`.
    let elsewhere = t
        .lead(
            &token,
            lead_body(2, "Andheri, Mumbai", "₹2-3 Cr", json!({})),
        )
        .await;
    let declined = t
        .lead(
            &token,
            lead_body(3, "Worli", "₹30 Cr", json!({"status": "not_interested"})),
        )
        .await;
    let unlisted = t
        .lead(&token, lead_body(4, "Pune", "₹30 Cr", json!({})))
        .await;
    let found = t
        .get(
            &format!("/api/v1/properties/{sea_face}/matching-leads?min_score=0"),
            &token,
        )
        .await;
    found.expect(200);
    let ids = names(&found.body, |i| &i["lead"]["id"]);
    assert_eq!(
        ids,
        [buyer_id, elsewhere["id"].as_str().unwrap()],
        "{}",
        found.body
    );
    assert!(!ids.contains(&declined["id"].as_str().unwrap().to_owned()));
    assert!(!ids.contains(&unlisted["id"].as_str().unwrap().to_owned()));
    assert_eq!(found.body["considered"], 2);
    assert_eq!(found.body["truncated"], false);
    assert_eq!(found.body["items"][0]["score"], 100);
    // Andheri is in the city, not the area, and far below the price.
    let far = &found.body["items"][1];
    assert_eq!(far["factors"][1]["points"], 12, "{far}");
    assert_eq!(far["factors"][0]["points"], 0, "{far}");
    // The default bar of 50 leaves the poor fit out.
    let default = t
        .get(
            &format!("/api/v1/properties/{sea_face}/matching-leads"),
            &token,
        )
        .await;
    assert_eq!(names(&default.body, |i| &i["lead"]["id"]), [buyer_id]);
    // A sold property suits no one.
    let none = t
        .get(
            &format!("/api/v1/properties/{sold}/matching-leads?min_score=0"),
            &token,
        )
        .await;
    none.expect(200);
    assert_eq!(none.body["items"], json!([]));

    // Bad parameters name their field; unknown ids are 404.
    for (path, field) in [
        (
            format!("/api/v1/leads/{buyer_id}/property-matches?limit=0"),
            "limit",
        ),
        (
            format!("/api/v1/leads/{buyer_id}/property-matches?limit=51"),
            "limit",
        ),
        (
            format!("/api/v1/properties/{sea_face}/matching-leads?min_score=101"),
            "min_score",
        ),
        (
            format!("/api/v1/properties/{sea_face}/matching-leads?limit=x"),
            "limit",
        ),
    ] {
        let response = t.get(&path, &token).await;
        response.expect(422);
        assert!(
            response.body.to_string().contains(field),
            "{path}: {}",
            response.body
        );
    }
    let missing = uuid::Uuid::now_v7();
    t.get(&format!("/api/v1/leads/{missing}/property-matches"), &token)
        .await
        .expect(404);
    t.get(
        &format!("/api/v1/properties/{missing}/matching-leads"),
        &token,
    )
    .await
    .expect(404);

    // Another organisation sees neither.
    let (_, other) = t
        .organisation("Other Realty", "ravi@other.in", "juhu-beach-house")
        .await;
    t.get(
        &format!("/api/v1/leads/{buyer_id}/property-matches"),
        &other,
    )
    .await
    .expect(404);
    t.get(
        &format!("/api/v1/properties/{sea_face}/matching-leads"),
        &other,
    )
    .await
    .expect(404);
}
