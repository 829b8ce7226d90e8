//! What a call's end means for the lead: its result (connected, no answer,
//! busy, voicemail, failed), its next status, when to call again, its score,
//! and who must hear about it. Pure, so every rule is tested on its own.

use crate::{
    BudgetRange, Campaign, FinancingStatus, Inr, Lead, LeadStatus, NotificationKind, PropertyType,
    PurchaseTimeline, QualificationAnswers,
};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use crate::call::{CallReport, CallResult};
use crate::moment::parse_moment;

/// What the conversation established, read from the call's structured data
/// (the schema the assistant is given, see `assistant.rs`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answers {
    pub interested: Option<bool>,
    pub budget: BudgetRange,
    pub timeline: Option<PurchaseTimeline>,
    pub property_type: Option<PropertyType>,
    pub location: Option<String>,
    pub bedrooms: Option<u8>,
    pub decision_maker: Option<bool>,
    pub financing: Option<FinancingStatus>,
    pub callback_requested: bool,
    /// As the lead said it, local to the lead (`2026-11-25T16:00`).
    pub callback_time: Option<String>,
    pub do_not_call: bool,
    pub needs_human: bool,
    pub objections: Vec<String>,
    pub sentiment: Option<String>,
}

fn text(data: &Value, key: &str) -> Option<String> {
    data[key]
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "unknown")
        .map(str::to_owned)
}

fn flag(data: &Value, key: &str) -> Option<bool> {
    match &data[key] {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" => Some(true),
            "false" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn rupees(data: &Value, key: &str) -> Option<Inr> {
    match &data[key] {
        Value::Number(n) => n
            .as_f64()
            .filter(|v| *v > 0.0)
            .map(|v| Inr::rupees(v.round() as u64)),
        Value::String(s) => Inr::parse(s).ok(),
        _ => None,
    }
}

impl Answers {
    pub fn from_structured(data: Option<&Value>) -> Answers {
        let Some(data) = data.filter(|d| d.is_object()) else {
            return Answers::default();
        };
        let mut budget = BudgetRange {
            min: rupees(data, "budget_min_inr"),
            max: rupees(data, "budget_max_inr"),
        };
        if budget.min.is_none()
            && budget.max.is_none()
            && let Some(parsed) =
                text(data, "budget_text").and_then(|t| BudgetRange::parse(&t).ok())
        {
            budget = parsed;
        }
        Answers {
            interested: flag(data, "interested"),
            budget,
            timeline: text(data, "purchase_timeline")
                .and_then(|t| PurchaseTimeline::parse(&t).ok()),
            property_type: text(data, "property_type").and_then(|t| PropertyType::parse(&t).ok()),
            location: text(data, "preferred_location"),
            bedrooms: data["bedrooms"]
                .as_u64()
                .and_then(|b| u8::try_from(b).ok())
                .filter(|b| (1..=20).contains(b)),
            decision_maker: flag(data, "decision_maker"),
            financing: text(data, "financing").and_then(|t| FinancingStatus::parse(&t).ok()),
            callback_requested: flag(data, "callback_requested").unwrap_or(false),
            callback_time: text(data, "callback_time"),
            do_not_call: flag(data, "do_not_call").unwrap_or(false),
            needs_human: flag(data, "needs_human").unwrap_or(false),
            objections: data["objections"]
                .as_array()
                .map(|o| {
                    o.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            sentiment: text(data, "sentiment"),
        }
    }

    pub fn for_scoring(&self) -> QualificationAnswers {
        QualificationAnswers {
            budget_min: self.budget.min,
            budget_max: self.budget.max,
            timeline: self.timeline,
            property_type: self.property_type,
            location: self.location.clone(),
            decision_maker: self.decision_maker,
            financing: self.financing,
        }
    }
}

/// What happens to a lead after a call.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub result: CallResult,
    pub status: LeadStatus,
    /// Why, for the timeline.
    pub reason: String,
    pub next_call_at: Option<Timestamp>,
    pub next_call_reason: Option<&'static str>,
    pub callback_at: Option<Timestamp>,
    pub score: Option<u8>,
    pub answers: Answers,
    pub do_not_call: bool,
    pub notify: Vec<NotificationKind>,
    /// Whether the call uses one of the lead's attempts (not when it was
    /// cut off by a restart).
    pub counts_attempt: bool,
}

/// How many points below the campaign's qualifying score an interested
/// lead's call asks for a person's review.
pub const REVIEW_MARGIN: u8 = 10;

/// A callback this soon is urgent.
const URGENT_CALLBACK: SignedDuration = SignedDuration::from_hours(24);

fn minutes(m: u32) -> SignedDuration {
    SignedDuration::from_mins(i64::from(m))
}

/// Decides the outcome of `lead`'s call (its `call_attempts` counts this
/// call) from the answers given: the structured data's, or what the
/// analysis of the words established.
pub fn decide(
    lead: &Lead,
    campaign: &Campaign,
    report: &CallReport,
    answers: Answers,
    now: Timestamp,
) -> Outcome {
    let result = CallResult::from_ended_reason(&report.ended_reason);
    let attempts_left = lead.call_attempts < campaign.settings.max_attempts;
    let delays = campaign.settings.retry_delays;
    let mut outcome = Outcome {
        result,
        status: LeadStatus::FollowUp,
        reason: String::new(),
        next_call_at: None,
        next_call_reason: None,
        callback_at: None,
        score: None,
        answers: answers.clone(),
        do_not_call: false,
        notify: Vec::new(),
        counts_attempt: true,
    };
    let retry = |outcome: &mut Outcome, status: LeadStatus, wait: u32, why: &'static str| {
        outcome.status = status;
        outcome.next_call_at = Some(now + minutes(wait));
        outcome.next_call_reason = Some(why);
    };
    match result {
        CallResult::NoAnswer | CallResult::Busy | CallResult::Voicemail => {
            let (wait, why, said) = match result {
                CallResult::NoAnswer => (delays.no_answer_minutes, "no_answer", "no answer"),
                CallResult::Busy => (delays.busy_minutes, "busy", "line busy"),
                _ => (delays.voicemail_minutes, "voicemail", "reached voicemail"),
            };
            if attempts_left {
                retry(&mut outcome, LeadStatus::FollowUp, wait, why);
                outcome.reason = format!("{said}; calling again after {wait} minutes");
            } else {
                outcome.status = LeadStatus::Unresponsive;
                outcome.reason = format!(
                    "{said} on the last of {} attempts",
                    campaign.settings.max_attempts
                );
            }
        }
        CallResult::Failed if report.ended_reason == CallReport::LOST_IN_RESTART => {
            // Cut off by a restart: called again at once, the attempt given back.
            retry(&mut outcome, LeadStatus::CallFailed, 0, "failed");
            outcome.counts_attempt = false;
            outcome.reason =
                "the call was cut off when the process restarted; calling again, and it does not count as an attempt".into();
        }
        CallResult::Failed if report.ended_reason == CallReport::REJECTED => {
            // The provider refused the request itself: the same request
            // would be refused again, so no retry; people must look.
            outcome.status = LeadStatus::CallFailed;
            outcome.reason = format!(
                "the voice provider refused the call: {}",
                report.summary.as_deref().unwrap_or("no reason given")
            );
            outcome.notify.push(NotificationKind::TechnicalIssue);
        }
        CallResult::Failed => {
            if attempts_left {
                retry(
                    &mut outcome,
                    LeadStatus::CallFailed,
                    delays.failed_minutes,
                    "failed",
                );
                outcome.reason = format!(
                    "call failed ({}); retrying after {} minutes",
                    report.ended_reason, delays.failed_minutes
                );
            } else {
                outcome.status = LeadStatus::CallFailed;
                outcome.reason =
                    format!("call failed ({}) on the last attempt", report.ended_reason);
                outcome.notify.push(NotificationKind::TechnicalIssue);
            }
        }
        CallResult::Connected => {
            let score = campaign
                .qualification_criteria
                .score(&answers.for_scoring());
            outcome.score = Some(score);
            if answers.do_not_call {
                outcome.status = LeadStatus::NotInterested;
                outcome.do_not_call = true;
                outcome.reason = "asked not to be called again".into();
            } else if answers.callback_requested {
                let promised = answers
                    .callback_time
                    .as_deref()
                    .and_then(|t| parse_moment(t, &lead.timezone).ok());
                match promised {
                    Some(at) if attempts_left => {
                        outcome.status = LeadStatus::CallbackRequested;
                        outcome.callback_at = Some(at);
                        outcome.next_call_at = Some(at.max(now));
                        outcome.next_call_reason = Some("callback");
                        let local = lead.timezone.zone().to_datetime(at);
                        outcome.reason = format!(
                            "asked to be called back at {} ({})",
                            local.strftime("%Y-%m-%d %H:%M"),
                            lead.timezone
                        );
                        if at - now <= URGENT_CALLBACK {
                            outcome.notify.push(NotificationKind::UrgentCallback);
                        }
                    }
                    Some(at) => {
                        outcome.status = LeadStatus::HumanFollowUp;
                        outcome.callback_at = Some(at);
                        outcome.reason = "asked for a callback after the last allowed attempt; a person should call".into();
                        outcome.notify.push(NotificationKind::UrgentCallback);
                    }
                    None if attempts_left => {
                        retry(&mut outcome, LeadStatus::FollowUp, 24 * 60, "callback");
                        outcome.reason = "asked to be called back later, without a time".into();
                    }
                    None => {
                        outcome.status = LeadStatus::HumanFollowUp;
                        outcome.reason =
                            "asked to be called back, after the last allowed attempt".into();
                    }
                }
            } else if answers.needs_human || report.ended_reason == "assistant-forwarded-call" {
                outcome.status = LeadStatus::HumanInputNeeded;
                outcome.reason = "the conversation needs a person".into();
                outcome.notify.push(NotificationKind::HumanInputNeeded);
            } else if answers.interested == Some(false) {
                outcome.status = LeadStatus::NotInterested;
                outcome.reason = match answers.objections.first() {
                    Some(objection) => format!("not interested: {objection}"),
                    None => "not interested".into(),
                };
            } else if score >= campaign.qualification_criteria.qualify_at {
                outcome.status = LeadStatus::Qualified;
                outcome.reason = format!("qualified with score {score}");
                outcome.notify.push(NotificationKind::QualifiedLead);
            } else if answers.interested == Some(true) {
                outcome.status = LeadStatus::FollowUp;
                let short = campaign
                    .qualification_criteria
                    .qualify_at
                    .saturating_sub(score);
                if short <= REVIEW_MARGIN {
                    // A near miss: a person decides whether it qualifies.
                    outcome.reason = format!(
                        "interested, {short} points short of qualifying (score {score}): worth a person's review"
                    );
                    outcome.notify.push(NotificationKind::ReviewRequired);
                } else {
                    outcome.reason = format!("interested but not yet qualified (score {score})");
                }
            } else {
                outcome.status = LeadStatus::HumanInputNeeded;
                outcome.reason = "the call did not establish whether the lead is interested".into();
                outcome.notify.push(NotificationKind::HumanInputNeeded);
            }
        }
    }
    outcome
}

/// Copies what the call learnt into the lead's own fields.
pub fn apply_answers(lead: &mut Lead, answers: &Answers, score: Option<u8>) {
    if score.is_some() {
        lead.qualification_score = score;
    }
    if answers.budget.min.is_some() || answers.budget.max.is_some() {
        lead.budget_range_min = answers.budget.min;
        lead.budget_range_max = answers.budget.max;
        lead.price_range = Some(answers.budget.describe());
    }
    if answers.timeline.is_some() {
        lead.purchase_timeline = answers.timeline;
    }
    if answers.financing.is_some() {
        lead.financing_status = answers.financing;
    }
    if let Some(decides) = answers.decision_maker {
        lead.decision_maker_role = Some(
            if decides {
                "decision maker"
            } else {
                "not the decision maker"
            }
            .to_owned(),
        );
    }
    let prefs = &mut lead.property_preferences;
    if let Some(kind) = answers.property_type
        && !prefs.property_types.contains(&kind)
    {
        prefs.property_types.push(kind);
    }
    if let Some(location) = &answers.location
        && !prefs.locations.contains(location)
    {
        prefs.locations.push(location.clone());
    }
    if answers.bedrooms.is_some() {
        prefs.bedrooms = answers.bedrooms;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The outcome decided on the call's structured data.
    fn decide_on_data(
        lead: &Lead,
        campaign: &Campaign,
        report: &CallReport,
        now: Timestamp,
    ) -> Outcome {
        let answers = Answers::from_structured(report.structured_data.as_ref());
        decide(lead, campaign, report, answers, now)
    }
    use crate::{
        CallingSettings, CampaignId, CampaignStatus, CampaignType, OrgId, Priority,
        QualificationCriteria,
    };
    use serde_json::json;

    fn campaign() -> Campaign {
        Campaign {
            id: CampaignId::new(),
            org_id: OrgId::new(),
            name: "Worli launch".into(),
            description: None,
            start_date: None,
            end_date: None,
            campaign_type: CampaignType::Outbound,
            priority_level: Priority::High,
            status: CampaignStatus::Active,
            persona_id: None,
            property_ids: Vec::new(),
            qualification_criteria: QualificationCriteria {
                budget_min: Some(Inr::crore_hundredths(500)),
                ..QualificationCriteria::default()
            },
            settings: CallingSettings::default(),
            paused_reason: None,
            variants: Vec::new(),
            auto_call_sources: Vec::new(),
            created_by: None,
            version: 1,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn lead(attempts: u32) -> Lead {
        let json = json!({
            "id": "01936f3a-1111-7000-8000-000000000002", "org_id": "01936f3a-1111-7000-8000-000000000001",
            "contact_person": "Rohan", "phone_number": "+919820012345", "email": null, "property_name": null,
            "property_type": null, "location": null, "price_range": null, "budget_range_min": null, "budget_range_max": null,
            "status": "in_call", "priority": "high", "lead_source": null, "follow_up_count": 0, "callback_scheduled_at": null,
            "campaign_id": null, "agent_persona_id": null, "qualification_score": null, "last_call_transcript_id": null,
            "property_preferences": {}, "purchase_timeline": null, "financing_status": null, "decision_maker_role": null,
            "notes": null, "timezone": "Asia/Kolkata", "timezone_source": "phone_country", "consent": null,
            "do_not_call": false, "assigned_agent_id": null, "tags": [], "call_attempts": attempts, "version": 3,
            "created_at": "2026-11-20T10:00:00Z", "updated_at": "2026-11-20T10:00:00Z"
        });
        serde_json::from_value(json).unwrap()
    }

    fn report(reason: &str, data: Value) -> CallReport {
        CallReport {
            ended_reason: reason.into(),
            structured_data: Some(data),
            ..CallReport::default()
        }
    }

    fn now() -> Timestamp {
        "2026-11-24T06:00:00Z".parse().unwrap()
    }

    #[test]
    fn ended_reasons_map_to_results() {
        assert_eq!(
            CallResult::from_ended_reason("customer-did-not-answer"),
            CallResult::NoAnswer
        );
        assert_eq!(
            CallResult::from_ended_reason("customer-busy"),
            CallResult::Busy
        );
        assert_eq!(
            CallResult::from_ended_reason("voicemail"),
            CallResult::Voicemail
        );
        assert_eq!(
            CallResult::from_ended_reason("pipeline-error-openai-llm-failed"),
            CallResult::Failed
        );
        assert_eq!(
            CallResult::from_ended_reason("twilio-failed-to-connect-call"),
            CallResult::Failed
        );
        assert_eq!(
            CallResult::from_ended_reason("customer-ended-call"),
            CallResult::Connected
        );
        assert_eq!(
            CallResult::from_ended_reason("assistant-said-end-call-phrase"),
            CallResult::Connected
        );
    }

    #[test]
    fn a_call_cut_off_by_a_restart_is_retried_at_once_and_not_counted() {
        // Even on the last attempt: the restart was not the lead's doing.
        let outcome = decide_on_data(
            &lead(3),
            &campaign(),
            &report(CallReport::LOST_IN_RESTART, json!({})),
            now(),
        );
        assert!(!outcome.counts_attempt);
        assert_eq!(outcome.status, LeadStatus::CallFailed);
        assert_eq!(outcome.next_call_at, Some(now()));
        assert!(outcome.notify.is_empty());
        let failed = decide_on_data(
            &lead(1),
            &campaign(),
            &report("pipeline-error", json!({})),
            now(),
        );
        assert!(failed.counts_attempt);
    }

    #[test]
    fn unanswered_calls_retry_until_attempts_run_out() {
        let outcome = decide_on_data(
            &lead(1),
            &campaign(),
            &report("customer-did-not-answer", json!({})),
            now(),
        );
        assert_eq!(outcome.status, LeadStatus::FollowUp);
        assert_eq!(
            outcome.next_call_at,
            Some(now() + SignedDuration::from_mins(120))
        );
        assert_eq!(outcome.next_call_reason, Some("no_answer"));
        let busy = decide_on_data(
            &lead(2),
            &campaign(),
            &report("customer-busy", json!({})),
            now(),
        );
        assert_eq!(
            busy.next_call_at,
            Some(now() + SignedDuration::from_mins(30))
        );
        let last = decide_on_data(
            &lead(3),
            &campaign(),
            &report("voicemail", json!({})),
            now(),
        );
        assert_eq!(
            (last.status, last.next_call_at),
            (LeadStatus::Unresponsive, None)
        );
        let failed = decide_on_data(
            &lead(3),
            &campaign(),
            &report("pipeline-error", json!({})),
            now(),
        );
        assert_eq!(failed.status, LeadStatus::CallFailed);
        assert_eq!(failed.notify, vec![NotificationKind::TechnicalIssue]);
    }

    #[test]
    fn a_call_the_provider_refused_is_not_retried_and_tells_people() {
        let refused = decide_on_data(
            &lead(1),
            &campaign(),
            &CallReport::rejected("", "property metadata should not exist"),
            now(),
        );
        assert_eq!(refused.result, CallResult::Failed);
        assert_eq!(refused.status, LeadStatus::CallFailed);
        assert_eq!(
            refused.next_call_at, None,
            "the same request would fail again"
        );
        assert!(
            refused
                .reason
                .contains("property metadata should not exist")
        );
        assert_eq!(refused.notify, vec![NotificationKind::TechnicalIssue]);
    }

    #[test]
    fn conversations_qualify_decline_or_ask_for_a_callback() {
        let qualified = decide_on_data(
            &lead(1),
            &campaign(),
            &report(
                "customer-ended-call",
                json!({
                    "interested": true, "budget_text": "₹12-15 Cr", "purchase_timeline": "3 months",
                    "property_type": "penthouse", "preferred_location": "Worli", "decision_maker": true, "financing": "cash_buyer"
                }),
            ),
            now(),
        );
        assert_eq!(qualified.status, LeadStatus::Qualified);
        assert_eq!(qualified.score, Some(100));
        assert_eq!(qualified.notify, vec![NotificationKind::QualifiedLead]);

        let callback = decide_on_data(
            &lead(1),
            &campaign(),
            &report(
                "customer-ended-call",
                json!({ "callback_requested": true, "callback_time": "2026-11-24T16:00" }),
            ),
            now(),
        );
        assert_eq!(callback.status, LeadStatus::CallbackRequested);
        // 16:00 in Mumbai is 10:30 UTC.
        assert_eq!(
            callback.callback_at,
            Some("2026-11-24T10:30:00Z".parse().unwrap())
        );
        assert_eq!(callback.next_call_at, callback.callback_at);
        assert_eq!(callback.notify, vec![NotificationKind::UrgentCallback]);

        let dnc = decide_on_data(
            &lead(1),
            &campaign(),
            &report(
                "customer-ended-call",
                json!({ "do_not_call": true, "interested": false }),
            ),
            now(),
        );
        assert_eq!(
            (dnc.status, dnc.do_not_call),
            (LeadStatus::NotInterested, true)
        );
        let no = decide_on_data(
            &lead(1),
            &campaign(),
            &report(
                "customer-ended-call",
                json!({ "interested": false, "objections": ["bought elsewhere"] }),
            ),
            now(),
        );
        assert_eq!(no.reason, "not interested: bought elsewhere");
        let human = decide_on_data(
            &lead(1),
            &campaign(),
            &report("assistant-forwarded-call", json!({})),
            now(),
        );
        assert_eq!(human.status, LeadStatus::HumanInputNeeded);
        let unclear = decide_on_data(
            &lead(1),
            &campaign(),
            &report("customer-ended-call", json!({})),
            now(),
        );
        assert_eq!(unclear.status, LeadStatus::HumanInputNeeded);
        let lukewarm = decide_on_data(
            &lead(1),
            &campaign(),
            &report(
                "customer-ended-call",
                json!({ "interested": true, "budget_text": "2 Cr" }),
            ),
            now(),
        );
        assert_eq!(lukewarm.status, LeadStatus::FollowUp);
    }

    #[test]
    fn an_interested_lead_just_short_of_qualifying_asks_for_a_review() {
        let data = json!({ "interested": true, "budget_text": "2 Cr" });
        let score = decide_on_data(
            &lead(1),
            &campaign(),
            &report("customer-ended-call", data.clone()),
            now(),
        )
        .score
        .expect("a score");
        let with_bar = |qualify_at: u8| {
            let mut campaign = campaign();
            campaign.qualification_criteria.qualify_at = qualify_at;
            decide_on_data(
                &lead(1),
                &campaign,
                &report("customer-ended-call", data.clone()),
                now(),
            )
        };
        let near = with_bar(score + REVIEW_MARGIN);
        assert_eq!(near.status, LeadStatus::FollowUp);
        assert_eq!(near.notify, vec![NotificationKind::ReviewRequired]);
        assert!(near.reason.contains("points short"), "{}", near.reason);
        let far = with_bar(score + REVIEW_MARGIN + 1);
        assert_eq!(far.status, LeadStatus::FollowUp);
        assert!(far.notify.is_empty());
    }
}
