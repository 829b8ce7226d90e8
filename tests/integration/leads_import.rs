//! CSV import and export.

use serde_json::json;
use soraaya_tests::{TestApp, TestResponse};

const PASSWORD: &str = "marine-drive-view";

fn row(cells: &[&str]) -> String {
    format!("{}\n", cells.join(";"))
}

/// BOM, `;` delimiter, a quoted newline, a quoted delimiter-free comma, mixed
/// phone and budget formats, an in-file and an existing duplicate, bad rows,
/// a blank row and an unknown column.
fn messy_csv() -> Vec<u8> {
    let mut text = String::from("\u{feff}");
    text += &row(&[
        "Full Name",
        "Mobile",
        "Budget",
        "City",
        "Property Type",
        "Priority",
        "Notes",
        "E-mail",
        "Timezone",
        "Status",
        "Assigned To",
        "Favourite Colour",
    ]);
    text += &row(&[
        "\"Aarav Shah\"",
        "98201 11111",
        "\"₹3.2 Cr\"",
        "Bandra West",
        "Sea-facing 4BHK apartment",
        "High",
        "\"Wants sea view;\nprefers floor > 30\"",
        "aarav@example.com",
        "",
        "",
        "",
        "blue",
    ]); // lines 2-3
    text += &row(&[
        "Isha Kapoor",
        "+91-98201-22222",
        "45 crore",
        "Juhu",
        "Villa",
        "medium",
        "",
        "",
        "",
        "qualified",
        "manager@skyline.in",
        "",
    ]); // 4
    text += &row(&[
        "Kabir Mehta",
        "098201 33333",
        "85 lakh",
        "Lower Parel",
        "",
        "low",
        "",
        "",
        "America/New_York",
        "",
        "",
        "",
    ]); // 5
    text += &row(&[
        "Priya Nair",
        "+1 (415) 555-0100",
        "3,20,00,000",
        "Worli",
        "Penthouse",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ]); // 6
    text += &row(&[
        "Rahul Verma",
        "+91 98201 44444",
        "2.5-3 Cr",
        "Malabar Hill",
        "",
        "",
        "",
        "rahul@",
        "",
        "",
        "",
        "",
    ]); // 7
    text += &row(&[
        "No Phone Person",
        "",
        "3 Cr",
        "Worli",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ]); // 8
    text += &row(&[
        "Aarav Again",
        "+919820111111",
        "5 Cr",
        "Bandra",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ]); // 9
    text += &row(&[
        "Existing Lead",
        "9820099999",
        "4 Cr",
        "Juhu",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ]); // 10
    text += &row(&[
        "Bad Budget",
        "98201 55555",
        "lots of money",
        "Worli",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ]); // 11
    text += &row(&[
        "Wrong Status",
        "98201 66666",
        "4 Cr",
        "Juhu",
        "",
        "",
        "",
        "",
        "",
        "calling",
        "",
        "",
    ]); // 12
    text += &row(&[
        "Mars Time",
        "98201 77777",
        "4 Cr",
        "Juhu",
        "",
        "",
        "",
        "",
        "Mars/Olympus",
        "",
        "",
        "",
    ]); // 13
    text += &row(&[
        "Unknown Agent",
        "98201 88888",
        "4 Cr",
        "Juhu",
        "",
        "",
        "",
        "",
        "",
        "",
        "nobody@skyline.in",
        "",
    ]); // 14
    text += &row(&["", "", "", "", "", "", "", "", "", "", "", ""]); // 15: blank
    text += &row(&[
        "\"Quoted, Comma\"",
        "98201 99999",
        "\"1.5 Cr\"",
        "\"Andheri, West\"",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
    ]); // 16
    text.into_bytes()
}

async fn setup() -> (TestApp, String, String) {
    let t = TestApp::new().await;
    let (_, admin) = t
        .organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let manager = t
        .user(&admin, "manager@skyline.in", "manager", "manager password")
        .await;
    t.lead(
        &admin,
        json!({ "contact_person": "Existing Lead", "phone_number": "+91 98200 99999" }),
    )
    .await;
    (t, admin, manager)
}

async fn import(t: &TestApp, token: &str, query: &str, csv: Vec<u8>) -> TestResponse {
    let response = t
        .post_raw(
            &format!("/api/v1/leads/import{query}"),
            token,
            "text/csv",
            csv,
        )
        .await;
    response.expect(200);
    response
}

async fn find(t: &TestApp, token: &str, search: &str) -> serde_json::Value {
    let page = t
        .get(&format!("/api/v1/leads?search={search}"), token)
        .await;
    assert_eq!(page.body["total"], 1, "{search}: {}", page.body);
    page.body["items"][0].clone()
}

#[tokio::test]
async fn a_messy_csv_imports_with_exact_counts_and_line_numbered_errors() {
    let (t, admin, manager_id) = setup().await;
    let report = import(&t, &admin, "", messy_csv()).await.body;
    assert_eq!(report["imported"], 5, "{report}");
    assert_eq!(report["updated"], 0);
    assert_eq!(report["skipped_duplicates"], 2);
    assert_eq!(report["rejected"], 6);
    assert_eq!(report["rows"], 13);
    assert_eq!(report["ignored_columns"], json!(["Favourite Colour"]));
    let errors: Vec<(u64, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [
            (7, "email"),
            (8, "phone_number"),
            (11, "price_range"),
            (12, "status"),
            (13, "timezone"),
            (14, "assigned_agent_id")
        ]
    );
    assert_eq!(report["errors"][1]["message"], "is required");

    let aarav = find(&t, &admin, "aarav").await;
    assert_eq!(aarav["phone_number"], "+919820111111");
    assert_eq!(aarav["budget_range_min"], 32_000_000);
    assert_eq!(aarav["notes"], "Wants sea view;\nprefers floor > 30");
    assert_eq!(aarav["property_type"], "apartment");
    assert_eq!(aarav["priority"], "high");
    let isha = find(&t, &admin, "isha").await;
    assert_eq!(isha["budget_range_max"], 450_000_000);
    assert_eq!(isha["status"], "qualified");
    assert_eq!(isha["assigned_agent_id"], manager_id.as_str());
    let kabir = find(&t, &admin, "kabir").await;
    assert_eq!(kabir["phone_number"], "+919820133333");
    assert_eq!(kabir["budget_range_min"], 8_500_000);
    assert_eq!(
        (
            kabir["timezone"].as_str(),
            kabir["timezone_source"].as_str()
        ),
        (Some("America/New_York"), Some("given"))
    );
    let priya = find(&t, &admin, "priya").await;
    assert_eq!(priya["phone_number"], "+14155550100");
    assert_eq!(priya["timezone_source"], "phone_country_multi_zone");
    let quoted = find(&t, &admin, "quoted").await;
    assert_eq!(quoted["location"], "Andheri, West");
    assert_eq!(quoted["budget_range_max"], 15_000_000);

    // The existing lead was left alone; the timeline says where leads came from.
    let existing = find(&t, &admin, "existing").await;
    assert_eq!(existing["budget_range_min"], serde_json::Value::Null);
    let timeline = t
        .get(
            &format!("/api/v1/leads/{}/timeline", aarav["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(timeline.body["items"][0]["kind"], "imported");
    assert_eq!(t.get("/api/v1/leads", &admin).await.body["total"], 6);
}

#[tokio::test]
async fn an_export_reimports_as_all_duplicates() {
    let (t, admin, _) = setup().await;
    import(&t, &admin, "", messy_csv()).await;
    let export = t.get("/api/v1/leads/export", &admin).await;
    export.expect(200);
    assert_eq!(export.headers["content-type"], "text/csv; charset=utf-8");
    assert!(
        export.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("leads-")
    );
    let csv = export.body.as_str().unwrap().to_owned();
    assert!(csv.starts_with('\u{feff}'), "BOM for spreadsheets");
    assert_eq!(
        csv.lines()
            .next()
            .unwrap()
            .trim_start_matches('\u{feff}')
            .split(',')
            .next(),
        Some("contact_person")
    );

    let again = import(&t, &admin, "?on_duplicate=skip", csv.into_bytes())
        .await
        .body;
    assert_eq!(again["imported"], 0, "{again}");
    assert_eq!(again["skipped_duplicates"], 6);
    assert_eq!(again["rejected"], 0, "{again}");
    assert_eq!(again["ignored_columns"], json!([]));
    assert_eq!(t.get("/api/v1/leads", &admin).await.body["total"], 6);

    let qualified = t.get("/api/v1/leads/export?status=qualified", &admin).await;
    let rows: Vec<&str> = qualified.body.as_str().unwrap().lines().collect();
    assert_eq!(rows.len(), 2, "header and Isha");
    assert!(rows[1].starts_with("Isha Kapoor,"));
    let isha = find(&t, &admin, "isha").await;
    let chosen = t
        .get(
            &format!("/api/v1/leads/export?ids={}", isha["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(chosen.body.as_str().unwrap().lines().count(), 2);
}

#[tokio::test]
async fn on_duplicate_update_changes_known_leads() {
    let (t, admin, _) = setup().await;
    let csv = "name,phone,budget,notes\nExisting Lead,+91 98200 99999,6-7 Cr,Met at the site visit\nFresh Lead,98200 88888,2 Cr,\n";
    let report = import(&t, &admin, "?on_duplicate=update", csv.as_bytes().to_vec())
        .await
        .body;
    assert_eq!(
        (report["imported"].as_u64(), report["updated"].as_u64()),
        (Some(1), Some(1)),
        "{report}"
    );
    let existing = find(&t, &admin, "existing").await;
    assert_eq!(existing["budget_range_min"], 60_000_000);
    assert_eq!(existing["notes"], "Met at the site visit");
    assert_eq!(existing["version"], 2);
    // The same file again changes nothing.
    let report = import(&t, &admin, "?on_duplicate=update", csv.as_bytes().to_vec())
        .await
        .body;
    assert_eq!(
        (
            report["updated"].as_u64(),
            report["skipped_duplicates"].as_u64()
        ),
        (Some(0), Some(2)),
        "{report}"
    );
}

#[tokio::test]
async fn multipart_uploads_and_bad_files() {
    let (t, admin, _) = setup().await;
    let boundary = "XyZ-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nignored\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"leads.csv\"\r\nContent-Type: text/csv\r\n\r\nName,Phone\r\nMeera Iyer,98200 77777\r\n--{boundary}--\r\n"
    );
    let report = t
        .post_raw(
            "/api/v1/leads/import",
            &admin,
            &format!("multipart/form-data; boundary={boundary}"),
            body,
        )
        .await;
    report.expect(200);
    assert_eq!(report.body["imported"], 1);
    let meera = find(&t, &admin, "meera").await;
    let timeline = t
        .get(
            &format!("/api/v1/leads/{}/timeline", meera["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(timeline.body["items"][0]["reason"], "import of leads.csv");

    let no_phone = t
        .post_raw(
            "/api/v1/leads/import",
            &admin,
            "text/csv",
            "name,city\nA,B\n",
        )
        .await;
    no_phone.expect(400);
    assert_eq!(no_phone.code(), "invalid_csv");
    let json_body = t
        .post_raw("/api/v1/leads/import", &admin, "application/json", "{}")
        .await;
    json_body.expect(415);
    let empty = t
        .post_raw("/api/v1/leads/import", &admin, "text/csv", "name,phone\n")
        .await;
    empty.expect(200);
    assert_eq!(empty.body["rows"], 0);
    let bad_mode = t
        .post_raw(
            "/api/v1/leads/import?on_duplicate=merge",
            &admin,
            "text/csv",
            "name,phone\n",
        )
        .await;
    bad_mode.expect(422);
    let latin1 = t
        .post_raw(
            "/api/v1/leads/import",
            &admin,
            "text/csv",
            b"name,phone\nJos\xe9 P,98200 66666\n".to_vec(),
        )
        .await;
    latin1.expect(200);
    assert_eq!(latin1.body["rejected"], 1);
    assert!(
        latin1.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("UTF-8")
    );
    let ragged = t
        .post_raw(
            "/api/v1/leads/import",
            &admin,
            "text/csv",
            "name,phone\nA,98200 55555,extra\n",
        )
        .await;
    assert_eq!(ragged.body["errors"][0]["field"], "row");
}
