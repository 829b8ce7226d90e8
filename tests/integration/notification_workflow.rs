//! Notifications as a work queue: filters by assignee, lead, campaign and
//! date with the counts behind the badge; bulk changes answered id by id
//! with nothing else changed; escalation by round robin among managers and
//! admins; quick actions that act on the lead and resolve the notification
//! in one step (and resolve nothing when they fail or are not allowed).

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use soraaya_domain::{Lead, LeadId, NotificationKind, OrgId};
use soraaya_local::simulator::Scenario;
use soraaya_notifications::{notification, put_op};
use soraaya_tests::calling::{CallingApp, CallingOptions};
use soraaya_tests::{TestApp, embedded_store};

const PASSWORD: &str = "marine-drive-view";

/// Skyline, its admin's token, and a manager's, a second manager's and an
/// agent's, with their ids.
struct Team {
    org: OrgId,
    admin: String,
    admin_id: String,
    manager: String,
    manager_id: String,
    second_manager_id: String,
    agent: String,
    agent_id: String,
}

async fn team(t: &TestApp) -> Team {
    let (org, admin) = t
        .organisation("Skyline Estates", "asha@skyline.in", PASSWORD)
        .await;
    let admin_id = t.get("/api/v1/auth/me", &admin).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let manager_id = t
        .user(&admin, "meera@skyline.in", "manager", PASSWORD)
        .await;
    let second_manager_id = t
        .user(&admin, "vikram@skyline.in", "manager", PASSWORD)
        .await;
    let agent_id = t.user(&admin, "ravi@skyline.in", "agent", PASSWORD).await;
    Team {
        org,
        manager: t.token("meera@skyline.in", PASSWORD).await,
        agent: t.token("ravi@skyline.in", PASSWORD).await,
        admin,
        admin_id,
        manager_id,
        second_manager_id,
        agent_id,
    }
}

async fn lead(t: &TestApp, token: &str, name: &str, phone: &str) -> Lead {
    let body = t
        .lead(
            token,
            json!({ "contact_person": name, "phone_number": phone }),
        )
        .await;
    serde_json::from_value(body).expect("a lead")
}

/// Records a notification of `kind` about `lead` now, as the calling engine does.
async fn notify(
    t: &TestApp,
    org: OrgId,
    kind: NotificationKind,
    lead: Option<&Lead>,
    source: &str,
) -> String {
    use soraaya_core::Clock;
    notify_at(t, org, kind, lead, source, t.clock.now()).await
}

async fn notify_at(
    t: &TestApp,
    org: OrgId,
    kind: NotificationKind,
    lead: Option<&Lead>,
    source: &str,
    at: Timestamp,
) -> String {
    let n = notification(kind, org, lead, None, "from the test", source, at);
    t.app
        .store
        .transact_write(vec![put_op(&n).unwrap()])
        .await
        .unwrap();
    n.id.to_string()
}

fn ids(page: &Value) -> Vec<String> {
    let mut ids: Vec<String> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(mut ids: Vec<&String>) -> Vec<String> {
    ids.sort();
    ids.into_iter().cloned().collect()
}

#[tokio::test]
async fn the_list_filters_by_assignee_lead_and_date_and_counts_for_the_badge() {
    let t = TestApp::new().await;
    let team = team(&t).await;
    let asha = lead(&t, &team.admin, "Asha Mehta", "+91 98200 12345").await;
    let kabir = lead(&t, &team.admin, "Kabir Shah", "+91 98200 54321").await;
    let qualified = notify(
        &t,
        team.org,
        NotificationKind::QualifiedLead,
        Some(&asha),
        "call-1",
    )
    .await;
    let technical = notify(
        &t,
        team.org,
        NotificationKind::TechnicalIssue,
        Some(&kabir),
        "call-2",
    )
    .await;
    let callback = notify(
        &t,
        team.org,
        NotificationKind::UrgentCallback,
        Some(&asha),
        "call-3",
    )
    .await;
    let next_day = soraaya_tests::start_time() + SignedDuration::from_hours(24);
    let tomorrow = notify_at(
        &t,
        team.org,
        NotificationKind::HumanInputNeeded,
        Some(&kabir),
        "call-4",
        next_day,
    )
    .await;
    t.post(
        &format!("/api/v1/notifications/{qualified}/assign"),
        Some(&team.admin),
        json!({ "user_id": team.agent_id }),
    )
    .await
    .expect(200);
    t.put(
        &format!("/api/v1/notifications/{callback}"),
        &team.admin,
        json!({ "status": "resolved" }),
    )
    .await
    .expect(200);

    let mine = t
        .get("/api/v1/notifications?assigned_to=me", &team.agent)
        .await;
    mine.expect(200);
    assert_eq!(ids(&mine.body), [qualified.as_str()]);
    let counts = &mine.body["counts"];
    assert_eq!(
        (
            counts["pending"].as_u64(),
            counts["in_progress"].as_u64(),
            counts["resolved"].as_u64()
        ),
        (Some(2), Some(1), Some(1)),
        "{counts}"
    );
    assert_eq!(counts["assigned_to_me"], 1);
    assert_eq!(counts["unread"], 2, "the pending ones no one else holds");
    // Open ones by priority: qualified (high), technical (medium), human input (high).
    assert_eq!(
        (counts["open_high"].as_u64(), counts["open_medium"].as_u64()),
        (Some(2), Some(1))
    );

    let nobody = t
        .get("/api/v1/notifications?assigned_to=none", &team.admin)
        .await;
    assert_eq!(
        ids(&nobody.body),
        sorted(vec![&technical, &callback, &tomorrow])
    );
    let by_user = t
        .get(
            &format!("/api/v1/notifications?assigned_to={}", team.agent_id),
            &team.admin,
        )
        .await;
    assert_eq!(ids(&by_user.body), [qualified.as_str()]);
    let of_asha = t
        .get(
            &format!("/api/v1/notifications?lead_id={}", asha.id),
            &team.admin,
        )
        .await;
    assert_eq!(ids(&of_asha.body), sorted(vec![&qualified, &callback]));
    // The test clock starts at 15:30 in Mumbai on 23 November.
    let today = jiff::civil::date(2026, 11, 23);
    let from_tomorrow = t
        .get(
            &format!(
                "/api/v1/notifications?created_from={}",
                today.tomorrow().unwrap()
            ),
            &team.admin,
        )
        .await;
    assert_eq!(ids(&from_tomorrow.body), [tomorrow.as_str()]);
    let through_today = t
        .get(
            &format!("/api/v1/notifications?created_to={today}"),
            &team.admin,
        )
        .await;
    assert_eq!(
        ids(&through_today.body),
        sorted(vec![&qualified, &technical, &callback])
    );

    let bad = t
        .get(
            &format!(
                "/api/v1/notifications?assigned_to=someone&created_from={}&created_to={today}",
                today.tomorrow().unwrap()
            ),
            &team.admin,
        )
        .await;
    bad.expect(422);
    let fields: Vec<&str> = bad.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["assigned_to", "created_to"], "{}", bad.body);
}

#[tokio::test]
async fn bulk_changes_answer_each_id_and_change_nothing_else() {
    let t = TestApp::new().await;
    let team = team(&t).await;
    let asha = lead(&t, &team.admin, "Asha Mehta", "+91 98200 12345").await;
    let one = notify(
        &t,
        team.org,
        NotificationKind::QualifiedLead,
        Some(&asha),
        "call-1",
    )
    .await;
    let two = notify(
        &t,
        team.org,
        NotificationKind::TechnicalIssue,
        Some(&asha),
        "call-2",
    )
    .await;
    let untouched = notify(
        &t,
        team.org,
        NotificationKind::UrgentCallback,
        Some(&asha),
        "call-3",
    )
    .await;
    let unknown = uuid::Uuid::now_v7().to_string();

    let resolved = t
        .post(
            "/api/v1/notifications/bulk",
            Some(&team.agent),
            json!({ "ids": [one, unknown, two, one], "action": "resolve", "resolution_note": "Handled by phone" }),
        )
        .await;
    resolved.expect(200);
    let results: Vec<(bool, Option<&str>)> = resolved.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["ok"].as_bool().unwrap(), r["error"].as_str()))
        .collect();
    assert_eq!(
        results,
        [
            (true, None),
            (false, Some("not_found")),
            (true, None),
            (false, Some("duplicate"))
        ]
    );
    assert_eq!(
        (
            resolved.body["done"].as_u64(),
            resolved.body["failed"].as_u64()
        ),
        (Some(2), Some(2))
    );
    let all = t.get("/api/v1/notifications", &team.admin).await;
    let status_of = |id: &str| {
        all.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == id)
            .map(|n| (n["status"].clone(), n["resolution_note"].clone()))
            .unwrap()
    };
    assert_eq!(
        status_of(&one),
        (json!("resolved"), json!("Handled by phone"))
    );
    assert_eq!(status_of(&untouched), (json!("pending"), Value::Null));

    // A request wrong as a whole changes nothing.
    t.patch(
        &format!("/api/v1/users/{}", team.second_manager_id),
        &team.admin,
        json!({ "is_active": false }),
    )
    .await
    .expect(200);
    for (body, field) in [
        (
            json!({ "ids": [untouched], "action": "assign", "user_id": team.second_manager_id }),
            "assigned_to",
        ),
        (
            json!({ "ids": [untouched], "action": "set_priority" }),
            "priority",
        ),
        (
            json!({ "ids": [untouched], "action": "delete", "user_id": team.agent_id }),
            "user_id",
        ),
        (json!({ "ids": [], "action": "delete" }), "ids"),
    ] {
        let refused = t
            .post("/api/v1/notifications/bulk", Some(&team.admin), body)
            .await;
        refused.expect(422);
        assert_eq!(
            refused.body["error"]["details"][0]["field"], field,
            "{}",
            refused.body
        );
    }
    let priority = t
        .post(
            "/api/v1/notifications/bulk",
            Some(&team.admin),
            json!({ "ids": [untouched, two], "action": "set_priority", "priority": "low" }),
        )
        .await;
    priority.expect(200);
    let assigned = t
        .post(
            "/api/v1/notifications/bulk",
            Some(&team.admin),
            json!({ "ids": [untouched], "action": "assign", "user_id": team.agent_id }),
        )
        .await;
    assigned.expect(200);
    let mine = t
        .get("/api/v1/notifications?assigned_to=me", &team.agent)
        .await;
    assert_eq!(mine.body["items"][0]["priority"], "low");
    assert_eq!(mine.body["items"][0]["status"], "in_progress");
    let deleted = t
        .post(
            "/api/v1/notifications/bulk",
            Some(&team.admin),
            json!({ "ids": [two, untouched], "action": "delete" }),
        )
        .await;
    deleted.expect(200);
    assert_eq!(deleted.body["done"], 2);
    let left = t.get("/api/v1/notifications", &team.admin).await;
    assert_eq!(ids(&left.body), [one.as_str()]);
}

#[tokio::test]
async fn an_escalation_goes_to_managers_and_admins_in_turn_and_says_who_and_why() {
    let t = TestApp::new().await;
    let team = team(&t).await;
    let asha = lead(&t, &team.admin, "Asha Mehta", "+91 98200 12345").await;
    let mut owners = Vec::new();
    for i in 0..4 {
        let id = notify(
            &t,
            team.org,
            NotificationKind::TechnicalIssue,
            Some(&asha),
            &format!("call-{i}"),
        )
        .await;
        let escalated = t
            .post(
                &format!("/api/v1/notifications/{id}/escalate"),
                Some(&team.agent),
                json!({ "reason": "The buyer is angry about repeated calls" }),
            )
            .await;
        escalated.expect(200);
        assert_eq!(escalated.body["priority"], "high", "medium raised to high");
        assert_eq!(escalated.body["status"], "in_progress");
        assert_eq!(escalated.body["escalation"]["by"], team.agent_id.as_str());
        assert_eq!(
            escalated.body["escalation"]["reason"],
            "The buyer is angry about repeated calls"
        );
        owners.push(escalated.body["assigned_to"].as_str().unwrap().to_owned());
    }
    let managers_and_admins = sorted(vec![
        &team.admin_id,
        &team.manager_id,
        &team.second_manager_id,
    ]);
    let mut first_three = owners[..3].to_vec();
    first_three.sort();
    assert_eq!(first_three, managers_and_admins, "each in turn: {owners:?}");
    assert_eq!(owners[3], owners[0], "then round again");

    // A deactivated manager is skipped; the one escalating is not their own owner.
    t.patch(
        &format!("/api/v1/users/{}", team.second_manager_id),
        &team.admin,
        json!({ "is_active": false }),
    )
    .await
    .expect(200);
    for i in 4..8 {
        let id = notify(
            &t,
            team.org,
            NotificationKind::TechnicalIssue,
            Some(&asha),
            &format!("call-{i}"),
        )
        .await;
        let escalated = t
            .post(
                &format!("/api/v1/notifications/{id}/escalate"),
                Some(&team.manager),
                json!({ "reason": "Needs a decision on price" }),
            )
            .await;
        escalated.expect(200);
        assert_eq!(escalated.body["assigned_to"], team.admin_id.as_str());
    }

    let done = notify(
        &t,
        team.org,
        NotificationKind::QualifiedLead,
        Some(&asha),
        "call-done",
    )
    .await;
    t.put(
        &format!("/api/v1/notifications/{done}"),
        &team.admin,
        json!({ "status": "resolved" }),
    )
    .await
    .expect(200);
    let refused = t
        .post(
            &format!("/api/v1/notifications/{done}/escalate"),
            Some(&team.agent),
            json!({ "reason": "late" }),
        )
        .await;
    refused.expect(409);
    assert_eq!(refused.code(), "notification_resolved");
    let empty = t
        .post(
            &format!("/api/v1/notifications/{done}/escalate"),
            Some(&team.agent),
            json!({ "reason": "  " }),
        )
        .await;
    empty.expect(422);
}

#[tokio::test]
async fn quick_actions_act_on_the_lead_and_resolve_the_notification_in_one_step() {
    let t = TestApp::new().await;
    let team = team(&t).await;
    let asha = lead(&t, &team.admin, "Asha Mehta", "+91 98200 12345").await;
    let action = |id: &str, token: &str, body: Value| {
        let path = format!("/api/v1/notifications/{id}/actions");
        let token = token.to_owned();
        let t = &t;
        async move { t.post(&path, Some(&token), body).await }
    };
    let lead_of = |id: LeadId| {
        let t = &t;
        let token = team.admin.clone();
        async move { t.get(&format!("/api/v1/leads/{id}"), &token).await.body }
    };

    // Not allowed, or invalid: nothing happens, nothing is resolved.
    let qualified = notify(
        &t,
        team.org,
        NotificationKind::QualifiedLead,
        Some(&asha),
        "call-1",
    )
    .await;
    let forbidden = action(
        &qualified,
        &team.agent,
        json!({ "action": "hand_to_agent", "user_id": team.agent_id }),
    )
    .await;
    forbidden.expect(403);
    assert_eq!(
        forbidden.body["error"]["details"]["required_permission"],
        "leads:write"
    );
    let invalid = action(&qualified, &team.agent, json!({ "action": "add_note" })).await;
    invalid.expect(422);
    assert_eq!(invalid.body["error"]["details"][0]["field"], "note");
    let past = action(
        &qualified,
        &team.agent,
        json!({ "action": "schedule_callback", "at": "2020-01-01T10:00:00Z" }),
    )
    .await;
    past.expect(422);
    let pending = t
        .get("/api/v1/notifications?status=pending", &team.admin)
        .await;
    assert_eq!(ids(&pending.body), [qualified.as_str()]);

    // An agent marks the lead qualified.
    let done = action(
        &qualified,
        &team.agent,
        json!({ "action": "mark_qualified", "note": "Confirmed budget 12 Cr" }),
    )
    .await;
    done.expect(200);
    assert_eq!(done.body["lead"]["status"], "qualified");
    assert_eq!(done.body["notification"]["status"], "resolved");
    assert_eq!(
        done.body["notification"]["resolution_note"],
        "marked qualified: Confirmed budget 12 Cr"
    );
    let again = action(
        &qualified,
        &team.agent,
        json!({ "action": "mark_not_interested" }),
    )
    .await;
    again.expect(409);
    assert_eq!(
        lead_of(asha.id).await["status"],
        "qualified",
        "a resolved notification acts no more"
    );

    // A manager hands the lead to the agent; a callback is scheduled; a note added.
    let hand = notify(
        &t,
        team.org,
        NotificationKind::HumanInputNeeded,
        Some(&asha),
        "call-2",
    )
    .await;
    action(
        &hand,
        &team.manager,
        json!({ "action": "hand_to_agent", "user_id": team.agent_id }),
    )
    .await
    .expect(200);
    assert_eq!(
        lead_of(asha.id).await["assigned_agent_id"],
        team.agent_id.as_str()
    );
    let kabir = lead(&t, &team.admin, "Kabir Shah", "+91 98200 54321").await;
    let callback = notify(
        &t,
        team.org,
        NotificationKind::UrgentCallback,
        Some(&kabir),
        "call-3",
    )
    .await;
    let at: Timestamp = "2026-11-24T06:30:00Z".parse().unwrap();
    let scheduled = action(
        &callback,
        &team.agent,
        json!({ "action": "schedule_callback", "at": "2026-11-24 12:00" }),
    )
    .await;
    scheduled.expect(200);
    assert_eq!(scheduled.body["lead"]["status"], "callback_requested");
    assert_eq!(
        scheduled.body["lead"]["callback_scheduled_at"],
        at.to_string(),
        "noon in Mumbai"
    );
    let note = notify(
        &t,
        team.org,
        NotificationKind::HumanInputNeeded,
        Some(&kabir),
        "call-4",
    )
    .await;
    action(
        &note,
        &team.agent,
        json!({ "action": "add_note", "note": "Prefers WhatsApp" }),
    )
    .await
    .expect(200);
    let timeline = t
        .get(&format!("/api/v1/leads/{}/timeline", kabir.id), &team.admin)
        .await;
    assert_eq!(
        timeline.body["items"][0]["reason"], "Prefers WhatsApp",
        "{}",
        timeline.body
    );

    // About no lead: resolve it instead.
    let alert = notify(&t, team.org, NotificationKind::SystemAlert, None, "alert-1").await;
    action(&alert, &team.admin, json!({ "action": "mark_qualified" }))
        .await
        .expect(422);
}

#[tokio::test]
async fn call_back_now_queues_the_lead_and_resolves_the_notification() {
    let calling: CallingApp = TestApp::calling(embedded_store(), CallingOptions::default()).await;
    let one = calling.one_lead_campaign().await;
    let lead: Lead = serde_json::from_value(
        calling
            .api
            .get(&format!("/api/v1/leads/{}", one.lead_id), &one.token)
            .await
            .body,
    )
    .unwrap();
    let id = notify(
        &calling.api,
        one.org_id,
        NotificationKind::UrgentCallback,
        Some(&lead),
        "call-1",
    )
    .await;
    let started = calling.clock_now();
    let done = calling
        .api
        .post(
            &format!("/api/v1/notifications/{id}/actions"),
            Some(&one.token),
            json!({ "action": "call_back_now" }),
        )
        .await;
    done.expect(200);
    assert_eq!(done.body["notification"]["status"], "resolved");
    assert_eq!(
        done.body["notification"]["resolution_note"],
        "called back now"
    );
    calling
        .run_until(started + SignedDuration::from_secs(60), |_| {})
        .await;
    let placed = calling.simulator.placed();
    assert_eq!(placed.len(), 1, "called within the minute");
    assert_eq!(placed[0].lead_id.to_string(), one.lead_id);
    assert_eq!(
        calling
            .api
            .get(
                &format!("/api/v1/campaigns/{}", one.campaign_id),
                &one.token
            )
            .await
            .body["status"],
        "active",
        "in the lead's own campaign"
    );
}

#[tokio::test]
async fn qualified_leads_go_to_active_agents_in_turn_with_their_notification() {
    let calling: CallingApp = TestApp::calling(embedded_store(), CallingOptions::default()).await;
    let (_, token) = calling.skyline().await;
    let api = &calling.api;
    let ravi = api.user(&token, "ravi@skyline.in", "agent", PASSWORD).await;
    let sana = api.user(&token, "sana@skyline.in", "agent", PASSWORD).await;
    let gone = api.user(&token, "gone@skyline.in", "agent", PASSWORD).await;
    api.patch(
        &format!("/api/v1/users/{gone}"),
        &token,
        json!({ "is_active": false }),
    )
    .await
    .expect(200);
    let campaign = api
        .post(
            "/api/v1/campaigns",
            Some(&token),
            json!({ "name": "Turns", "settings": { "max_concurrent_calls": 1 } }),
        )
        .await;
    campaign.expect(201);
    let campaign_id = campaign.body["id"].as_str().unwrap().to_owned();
    let mut leads = Vec::new();
    for i in 0..4 {
        let lead = api
            .lead(
                &token,
                json!({ "contact_person": format!("Buyer {i}"), "phone_number": format!("+91 98200 2{i:04}"), "campaign_id": campaign_id }),
            )
            .await;
        leads.push(lead["id"].as_str().unwrap().to_owned());
    }
    calling.simulator.force([Scenario::Qualified; 4]);
    let token = calling.run_campaign(&token, &campaign_id, 3).await;

    let mut holders = Vec::new();
    for id in &leads {
        let lead = api.get(&format!("/api/v1/leads/{id}"), &token).await.body;
        assert_eq!(lead["status"], "qualified", "{lead}");
        holders.push(lead["assigned_agent_id"].as_str().unwrap().to_owned());
    }
    assert!(!holders.contains(&gone), "a deactivated agent gets none");
    let count = |who: &String| holders.iter().filter(|h| *h == who).count();
    assert_eq!(
        (count(&ravi), count(&sana)),
        (2, 2),
        "each in turn: {holders:?}"
    );
    let notifications = api
        .get("/api/v1/notifications?type=qualified_lead", &token)
        .await;
    for n in notifications.body["items"].as_array().unwrap() {
        let lead = n["lead_id"].as_str().unwrap();
        let at = leads.iter().position(|l| l == lead).unwrap();
        assert_eq!(
            n["assigned_to"],
            holders[at].as_str(),
            "the notification goes to the lead's agent"
        );
    }
    let timeline = api
        .get(&format!("/api/v1/leads/{}/timeline", leads[0]), &token)
        .await;
    assert!(
        timeline.body.to_string().contains("(in turn)"),
        "{}",
        timeline.body
    );
}

#[tokio::test]
async fn high_priority_notifications_reach_their_assignee_by_email_one_digest_per_quarter_hour() {
    use soraaya_core::Clock;
    let t = TestApp::new().await;
    let team = team(&t).await;
    let asha = lead(&t, &team.admin, "Asha Mehta", "+91 98200 12345").await;
    // The manager takes no email at all.
    t.patch(
        "/api/v1/me/preferences",
        &team.manager,
        json!({ "notifications": { "email": { "enabled": false } } }),
    )
    .await
    .expect(200);
    let assign = |ids: Vec<&String>, to: &String| {
        let body = json!({ "ids": ids, "action": "assign", "user_id": to });
        let t = &t;
        let token = team.admin.clone();
        async move {
            t.post("/api/v1/notifications/bulk", Some(&token), body)
                .await
                .expect(200);
        }
    };
    let urgent = notify(
        &t,
        team.org,
        NotificationKind::UrgentCallback,
        Some(&asha),
        "call-1",
    )
    .await;
    let medium = notify(
        &t,
        team.org,
        NotificationKind::TechnicalIssue,
        Some(&asha),
        "call-2",
    )
    .await;
    let to_manager = notify(
        &t,
        team.org,
        NotificationKind::QualifiedLead,
        Some(&asha),
        "call-3",
    )
    .await;
    let resolved = notify(
        &t,
        team.org,
        NotificationKind::HumanInputNeeded,
        Some(&asha),
        "call-4",
    )
    .await;
    assign(vec![&urgent, &medium, &resolved], &team.agent_id).await;
    assign(vec![&to_manager], &team.manager_id).await;
    t.put(
        &format!("/api/v1/notifications/{resolved}"),
        &team.admin,
        json!({ "status": "resolved" }),
    )
    .await
    .expect(200);

    // The scheduler's run sends the digests.
    let run = soraaya_calling::scheduler::run(&t.app, t.clock.now())
        .await
        .unwrap();
    assert_eq!(run.digests, 1);
    let mail = t.mail_to("ravi@skyline.in");
    assert_eq!(mail.len(), 1);
    assert_eq!(
        mail[0].mail.subject,
        "Skyline Estates: Urgent callback: Asha Mehta"
    );
    assert!(
        mail[0]
            .mail
            .text
            .contains("Make sure the promised callback happens")
    );
    assert!(
        !mail[0].mail.text.contains("Technical issue"),
        "medium priority stays in the app"
    );
    assert!(
        !mail[0].mail.text.contains("Human input"),
        "resolved before the digest"
    );
    assert!(
        mail[0]
            .mail
            .text
            .contains("https://soraaya.test/notifications")
    );
    assert!(t.mail_to("meera@skyline.in").is_empty(), "email turned off");

    // Within the quarter hour, new ones wait for the next digest.
    t.clock.advance(SignedDuration::from_mins(5));
    let second = notify(
        &t,
        team.org,
        NotificationKind::QualifiedLead,
        Some(&asha),
        "call-5",
    )
    .await;
    let third = notify(
        &t,
        team.org,
        NotificationKind::UrgentCallback,
        Some(&asha),
        "call-6",
    )
    .await;
    assign(vec![&second, &third], &team.agent_id).await;
    let run = soraaya_notifications::digest::send_digests(&t.app, t.clock.now())
        .await
        .unwrap();
    assert_eq!(run.digests, 0);
    assert_eq!(t.mail_to("ravi@skyline.in").len(), 1);
    t.clock.advance(SignedDuration::from_mins(11));
    let run = soraaya_notifications::digest::send_digests(&t.app, t.clock.now())
        .await
        .unwrap();
    assert_eq!((run.digests, run.notifications), (1, 2));
    let mail = t.mail_to("ravi@skyline.in");
    assert_eq!(mail.len(), 2);
    assert_eq!(
        mail[1].mail.subject,
        "Skyline Estates: 2 notifications need you"
    );
    assert_eq!(
        mail[1].mail.text.matches("- [high]").count(),
        2,
        "only the new ones: {}",
        mail[1].mail.text
    );
    // Nothing new: nothing sent.
    t.clock.advance(SignedDuration::from_mins(20));
    let run = soraaya_notifications::digest::send_digests(&t.app, t.clock.now())
        .await
        .unwrap();
    assert_eq!(run.digests, 0);
}

#[tokio::test]
async fn rejected_rows_and_enquiries_are_data_to_fix_for_whoever_sent_them() {
    let t = TestApp::new().await;
    let team = team(&t).await;
    let csv =
        "name,phone,city\nAsha Mehta,+91 98200 12345,Mumbai\nNo Phone,,Pune\nBad Phone,12,Delhi\n";
    let report = t
        .post_raw(
            "/api/v1/leads/import",
            &team.manager,
            "text/csv",
            csv.to_owned(),
        )
        .await;
    report.expect(200);
    assert_eq!(report.body["rejected"], 2);
    let (_, key) = {
        let created = t
            .post(
                "/api/v1/api-keys",
                Some(&team.admin),
                json!({ "name": "Portal", "scopes": ["leads:write"] }),
            )
            .await;
        created.expect(201);
        ((), created.body["key"].as_str().unwrap().to_owned())
    };
    let intake = t
        .send(
            http::Request::post("/api/v1/leads/intake")
                .header("x-api-key", &key)
                .header("content-type", "application/json")
                .body(axum::body::Body::from(
                    json!([{ "name": "Kabir", "phone": "98200 54321" }, { "name": "Nobody" }])
                        .to_string(),
                ))
                .unwrap(),
        )
        .await;
    intake.expect(201);

    let found = t
        .get("/api/v1/notifications?type=data_validation", &team.admin)
        .await;
    let items = found.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", found.body);
    let of = |who: &str| items.iter().find(|n| n["assigned_to"] == who).unwrap();
    let import = of(&team.manager_id);
    assert_eq!(import["priority"], "medium");
    assert_eq!(import["title"], "Leads need fixing");
    assert!(
        import["message"]
            .as_str()
            .unwrap()
            .starts_with("An import rejected 2 of 3 rows (line 3: phone_number"),
        "{import}"
    );
    let refused = of(&team.admin_id);
    assert_eq!(
        refused["message"],
        "1 of 2 enquiries from API key Portal were refused (phone_number is required)."
    );
}

#[tokio::test]
async fn a_campaign_far_below_the_other_campaigns_asks_for_an_adjustment_once() {
    let calling: CallingApp = TestApp::calling(embedded_store(), CallingOptions::default()).await;
    let (_, token) = calling.skyline().await;
    let api = &calling.api;
    let mut campaigns = Vec::new();
    for (name, first) in [("Worli Penthouses", 3), ("Cold List", 5)] {
        let campaign = api
            .post(
                "/api/v1/campaigns",
                Some(&token),
                json!({ "name": name, "settings": { "max_concurrent_calls": 5, "max_attempts": 1 } }),
            )
            .await;
        campaign.expect(201);
        let id = campaign.body["id"].as_str().unwrap().to_owned();
        let mut csv = String::from("name,phone,campaign_id\n");
        for i in 0..24 {
            csv.push_str(&format!("Buyer {i},+91 98{first}00 1{i:04},{id}\n"));
        }
        calling.import(&token, csv).await;
        campaigns.push(id);
    }
    calling.simulator.force([Scenario::Qualified; 24]);
    // Both inside today's calling hours (the clock starts at 15:30 in Mumbai).
    let token = calling.run_campaign(&token, &campaigns[0], 1).await;
    calling.simulator.force([Scenario::NoAnswer; 24]);
    let token = calling.run_campaign(&token, &campaigns[1], 1).await;

    let found = api
        .get("/api/v1/notifications?type=campaign_adjustment", &token)
        .await;
    let items = found.body["items"].as_array().unwrap();
    let mut messages: Vec<&str> = items
        .iter()
        .map(|n| n["message"].as_str().unwrap())
        .collect();
    messages.sort();
    assert_eq!(
        messages,
        [
            "Cold List connects 0% of its calls against 100% for the organisation's other campaigns.",
            "Cold List qualifies 0% of the leads it called against 100% for the organisation's other campaigns.",
        ],
        "once per measure, for the campaign below only"
    );
    assert!(
        items
            .iter()
            .all(|n| n["campaign_id"] == campaigns[1].as_str())
    );
    assert_eq!(items[0]["title"], "Campaign underperforms: Cold List");
}
