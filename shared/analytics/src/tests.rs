//! Whole calls, written the way Indian luxury buyers talk, through `analyse`.

use soraaya_domain::{
    FinancingStatus, Inr, PropertyType, PurchaseTimeline, QualificationCriteria, TranscriptLine,
};

use crate::score::answers_from;
use crate::*;

fn call(lines: &[(&str, &str, f64)]) -> Vec<TranscriptLine> {
    lines
        .iter()
        .map(|(role, text, seconds)| TranscriptLine {
            role: (*role).to_owned(),
            text: (*text).to_owned(),
            seconds: *seconds,
        })
        .collect()
}

const A: &str = "assistant";
const C: &str = "customer";
const CRORE: u64 = 10_000_000;

fn worli_campaign() -> QualificationCriteria {
    QualificationCriteria {
        budget_min: Some(Inr::rupees(3 * CRORE)),
        budget_max: Some(Inr::rupees(8 * CRORE)),
        timelines: vec![PurchaseTimeline::Immediate, PurchaseTimeline::ThreeMonths],
        property_types: vec![PropertyType::Apartment, PropertyType::Penthouse],
        locations: vec!["Worli".into(), "Lower Parel".into()],
        decision_maker_required: true,
        financing: vec![],
        custom_questions: vec!["Are you buying as an NRI?".into()],
        qualify_at: 70,
    }
}

fn has_objection(analysis: &Analysis, kind: ObjectionKind) -> bool {
    analysis.objections.iter().any(|o| o.kind == kind)
}

fn factor(analysis: &Analysis, criterion: Criterion) -> &ScoreFactor {
    analysis
        .qualification
        .factors
        .iter()
        .find(|f| f.criterion == criterion)
        .expect("every standard criterion has a factor")
}

fn assert_score_is_the_domains(analysis: &Analysis, criteria: &QualificationCriteria) {
    let answers = answers_from(&analysis.mentions, criteria);
    let score = criteria.score(&answers);
    assert_eq!(analysis.qualification.score, score);
    let sum: u32 = analysis
        .qualification
        .factors
        .iter()
        .map(|f| u32::from(f.points))
        .sum();
    assert_eq!(sum, u32::from(score));
    assert_eq!(
        analysis.qualification.qualified,
        score >= criteria.qualify_at
    );
}

#[test]
fn a_qualified_buyer() {
    let lines = call(&[
        (
            A,
            "Good evening Mr Mehta, this is Ananya from Skyline Residences. Is this a good time?",
            0.0,
        ),
        (C, "Yes, sure, go ahead.", 4.0),
        (A, "What budget do you have in mind?", 8.0),
        (
            C,
            "Around four to five crore, that is comfortable for us.",
            12.5,
        ),
        (
            A,
            "Wonderful. Which location and configuration are you looking for?",
            18.0,
        ),
        (
            C,
            "Worli, a 4 BHK with a sea view. A gym and parking for two cars would be great.",
            22.0,
        ),
        (A, "When are you planning to buy?", 30.0),
        (
            C,
            "Within three months, we want to move before Diwali.",
            33.0,
        ),
        (A, "Will you take a home loan or is it self-funded?", 38.0),
        (C, "Fully self-funded, no loan needed.", 41.0),
        (A, "And are you the decision maker for this purchase?", 45.0),
        (C, "Yes, I decide.", 48.0),
        (A, "Are you buying as an NRI?", 50.0),
        (C, "No, we are resident in Mumbai.", 52.0),
        (
            C,
            "Bahut accha. Can I come for a site visit on Saturday?",
            55.0,
        ),
        (
            A,
            "Absolutely, I will book the site visit for Saturday at 11 am.",
            60.0,
        ),
        (C, "Perfect, thank you so much!", 64.0),
    ]);
    let criteria = worli_campaign();
    let analysis = analyse(&lines, &criteria);

    let budget = &analysis.mentions.budgets[0];
    assert_eq!(budget.range.min, Some(Inr::rupees(4 * CRORE)));
    assert_eq!(budget.range.max, Some(Inr::rupees(5 * CRORE)));
    assert_eq!(budget.quote.seconds, 12.5);
    assert_eq!(analysis.mentions.locations[0].location, "Worli");
    assert_eq!(analysis.mentions.bedrooms[0].bedrooms, 4);
    let features: Vec<&str> = analysis
        .mentions
        .features
        .iter()
        .map(|f| f.feature.as_str())
        .collect();
    assert!(
        features.contains(&"sea view")
            && features.contains(&"gym")
            && features.contains(&"parking")
    );
    assert_eq!(
        analysis.mentions.property_types[0].property_type,
        PropertyType::Apartment
    );
    assert_eq!(
        analysis.mentions.timelines[0].timeline,
        Some(PurchaseTimeline::ThreeMonths)
    );
    assert_eq!(
        analysis.mentions.financing[0].financing,
        FinancingStatus::CashBuyer
    );
    assert!(
        analysis
            .mentions
            .decision_maker
            .iter()
            .all(|d| d.decision_maker)
    );
    assert!(analysis.objections.is_empty(), "{:?}", analysis.objections);

    assert_eq!(
        analysis.customer_sentiment.overall.label,
        SentimentLabel::Positive
    );
    let visit = analysis
        .action_items
        .iter()
        .find(|a| a.kind == ActionKind::SiteVisit)
        .expect("a site visit");
    assert_eq!(visit.due.as_deref(), Some("Saturday"));
    assert_eq!(visit.owner, ActionOwner::HumanTeam);

    assert_eq!(analysis.qualification.score, 100);
    assert!(analysis.qualification.qualified);
    assert_eq!(factor(&analysis, Criterion::Budget).points, 30);
    assert!(
        factor(&analysis, Criterion::Budget)
            .evidence
            .contains("four to five crore")
    );
    assert_eq!(
        factor(&analysis, Criterion::Timeline).evidence,
        "Within three months, we want to move before Diwali."
    );
    assert_score_is_the_domains(&analysis, &criteria);

    let nri = analysis
        .coverage
        .criteria
        .last()
        .expect("the custom question");
    assert_eq!(nri.criterion, Criterion::CustomQuestion);
    assert!(nri.asked && nri.answered);
    assert_eq!(nri.answer.as_ref().map(|q| q.seconds), Some(52.0));
    assert_eq!(analysis.coverage.duration_seconds, 64.0);
    assert_eq!(analysis.coverage.customer_turns, 9);
    assert_eq!(analysis.coverage.agent_turns, 8);

    let json = serde_json::to_string(&analysis).expect("serialises");
    let back: Analysis = serde_json::from_str(&json).expect("deserialises");
    assert_eq!(back, analysis);
    assert!(json.contains("\"kind\":\"site_visit\""));
}

#[test]
fn a_price_objector() {
    let lines = call(&[
        (
            A,
            "Namaste! The 3 BHK at Lower Parel starts at three and a half crore. Would that suit you?",
            0.0,
        ),
        (C, "Accha, the project sounds nice.", 6.0),
        (A, "Shall I share the payment plan?", 10.0),
        (C, "Bahut mehenga hai yaar. That's out of my budget.", 14.0),
        (A, "What budget were you considering?", 19.0),
        (
            C,
            "Two crore max. Anything more is a waste of my time, bekaar.",
            23.0,
        ),
        (C, "Sorry, this is terrible value, nahi chahiye.", 29.0),
    ]);
    let criteria = worli_campaign();
    let analysis = analyse(&lines, &criteria);
    let price = analysis
        .objections
        .iter()
        .find(|o| o.kind == ObjectionKind::Price)
        .expect("a price objection");
    assert_eq!(
        price.quote.text,
        "Bahut mehenga hai yaar. That's out of my budget."
    );
    assert_eq!(price.quote.seconds, 14.0);
    assert_eq!(price.quote.line, 3);
    assert_eq!(
        analysis.customer_sentiment.end.label,
        SentimentLabel::Negative
    );
    assert_eq!(analysis.customer_sentiment.trend, SentimentTrend::Worsening);
    let budget = analysis.mentions.budgets.last().expect("a budget");
    assert_eq!(budget.range.max, Some(Inr::rupees(2 * CRORE)));
    // The agent's price is no budget of the lead's.
    assert_eq!(analysis.mentions.budgets.len(), 1);
    // Two crore is under the campaign's three crore floor.
    assert_eq!(factor(&analysis, Criterion::Budget).points, 0);
    assert!(!analysis.qualification.qualified);
    assert_score_is_the_domains(&analysis, &criteria);
}

#[test]
fn not_the_decision_maker_asks_for_a_callback() {
    let lines = call(&[
        (A, "Are you the one deciding on the purchase?", 0.0),
        (
            C,
            "Look, I'm driving. Call me tomorrow at 6 pm, I need to ask my wife before anything.",
            3.0,
        ),
        (A, "Of course, I will call you tomorrow at 6 pm.", 9.0),
    ]);
    let criteria = QualificationCriteria::default();
    let analysis = analyse(&lines, &criteria);
    assert!(has_objection(&analysis, ObjectionKind::NotDecisionMaker));
    let callback = analysis
        .action_items
        .iter()
        .find(|a| a.kind == ActionKind::Callback)
        .expect("a callback");
    assert_eq!(callback.due.as_deref(), Some("tomorrow 6 pm"));
    assert_eq!(callback.due_in_hours, Some(24));
    assert_eq!(callback.owner, ActionOwner::Agent);
    assert!(!analysis.mentions.decision_maker[0].decision_maker);
    // Not the decision maker, not required: half the points.
    assert_eq!(factor(&analysis, Criterion::DecisionMaker).points, 5);
    assert_score_is_the_domains(&analysis, &criteria);
}

#[test]
fn already_bought_and_just_browsing() {
    let bought = analyse(
        &call(&[
            (A, "Are you still looking for a flat in Bandra?", 0.0),
            (
                C,
                "No, we have already booked a flat in Powai last month.",
                4.0,
            ),
        ]),
        &QualificationCriteria::default(),
    );
    assert!(has_objection(&bought, ObjectionKind::AlreadyBought));
    assert!(!has_objection(&bought, ObjectionKind::JustBrowsing));

    let browsing = analyse(
        &call(&[
            (A, "When are you planning to buy?", 0.0),
            (C, "Honestly I'm just browsing, no hurry at all.", 3.0),
            (C, "Can you send me the brochure on WhatsApp?", 8.0),
        ]),
        &QualificationCriteria::default(),
    );
    assert!(has_objection(&browsing, ObjectionKind::JustBrowsing));
    assert!(!has_objection(&browsing, ObjectionKind::AlreadyBought));
    assert_eq!(browsing.mentions.timelines[0].timeline, None);
    assert_eq!(factor(&browsing, Criterion::Timeline).points, 0);
    let brochure = &browsing.action_items[0];
    assert_eq!(brochure.kind, ActionKind::SendBrochure);
    assert_eq!(brochure.quote.seconds, 8.0);
}

#[test]
fn numbers_spelled_out() {
    let budgets = |text: &str| {
        let analysis = analyse(&call(&[(C, text, 1.0)]), &QualificationCriteria::default());
        analysis
            .mentions
            .budgets
            .first()
            .map(|b| (b.range.min, b.range.max))
    };
    let cr = |tenths: u64| Some(Inr::rupees(tenths * CRORE / 10));
    assert_eq!(budgets("Dedh crore tak chalega"), Some((None, cr(15))));
    assert_eq!(
        budgets("Eighty five lakh is what we have"),
        Some((Some(Inr::rupees(8_500_000)), Some(Inr::rupees(8_500_000))))
    );
    assert_eq!(
        budgets("Maybe one and a half crore"),
        Some((cr(15), cr(15)))
    );
    assert_eq!(budgets("Dhai crore"), Some((cr(25), cr(25))));
    assert_eq!(
        budgets("Somewhere between three and four crore"),
        Some((cr(30), cr(40)))
    );
    assert_eq!(budgets("We want a three bhk"), None);
}

#[test]
fn negated_price_is_no_objection() {
    let analysis = analyse(
        &call(&[
            (A, "Is the price okay for you?", 0.0),
            (
                C,
                "Price is not a problem, but the possession is too late for us.",
                2.0,
            ),
        ]),
        &QualificationCriteria::default(),
    );
    assert!(!has_objection(&analysis, ObjectionKind::Price));
    assert!(has_objection(&analysis, ObjectionKind::PossessionTimeline));
}

#[test]
fn coverage_shows_what_was_asked_and_answered() {
    let criteria = QualificationCriteria {
        custom_questions: vec![
            "Do you need parking for more than two cars?".into(),
            "Is Vastu compliance important?".into(),
        ],
        ..QualificationCriteria::default()
    };
    let analysis = analyse(
        &call(&[
            (A, "What is your budget for the new home?", 0.0),
            (C, "About 6 crore.", 3.0),
            (A, "And when do you plan to buy?", 6.0),
            (C, "Let me think about that.", 9.0),
            (A, "Do you need parking for three cars?", 12.0),
            (C, "Yes, three.", 14.0),
        ]),
        &criteria,
    );
    let of = |criterion: Criterion| {
        analysis
            .coverage
            .criteria
            .iter()
            .find(|c| c.criterion == criterion)
            .expect("covered")
    };
    assert!(of(Criterion::Budget).asked && of(Criterion::Budget).answered);
    assert!(of(Criterion::Timeline).asked && !of(Criterion::Timeline).answered);
    assert!(!of(Criterion::Location).asked && !of(Criterion::Location).answered);
    assert!(!of(Criterion::Financing).asked);
    let custom: Vec<&CriterionCoverage> = analysis
        .coverage
        .criteria
        .iter()
        .filter(|c| c.criterion == Criterion::CustomQuestion)
        .collect();
    assert_eq!(custom.len(), 2);
    assert!(custom[0].asked && custom[0].answered);
    assert_eq!(
        custom[0].answer.as_ref().map(|q| q.text.as_str()),
        Some("Yes, three.")
    );
    assert!(!custom[1].asked && !custom[1].answered);
    assert_eq!(analysis.coverage.customer_turns, 3);
    assert_eq!(analysis.coverage.agent_turns, 3);
    let ratio = analysis.coverage.talk_ratio;
    assert!(ratio > 0.2 && ratio < 0.5, "{ratio}");
    assert_eq!(
        factor(&analysis, Criterion::Timeline).evidence,
        score::NOT_DISCUSSED
    );
    assert_eq!(factor(&analysis, Criterion::Budget).points, 30);
    assert_score_is_the_domains(&analysis, &criteria);
}

#[test]
fn score_matches_the_domain_across_calls() {
    let criteria = worli_campaign();
    let calls = [
        vec![(
            C,
            "Penthouse in Lower Parel, 10 crore, home loan, next year. My father decides.",
            1.0,
        )],
        vec![(
            C,
            "Villa in Juhu, dhai crore, pre-approved, immediately. I am the decision maker.",
            1.0,
        )],
        vec![(
            C,
            "Just a 2 BHK flat in Thane, 85 lakh, cash, in 6 months.",
            1.0,
        )],
    ];
    for lines in calls {
        let analysis = analyse(&call(&lines), &criteria);
        assert_score_is_the_domains(&analysis, &criteria);
    }
}

#[test]
fn odd_input_never_panics() {
    let criteria = worli_campaign();
    let empty = analyse(&[], &criteria);
    assert_eq!(empty.qualification.score, 0);
    assert_eq!(empty.coverage.talk_ratio, 0.0);
    assert_eq!(empty.customer_sentiment.trend, SentimentTrend::Steady);
    let huge = "9".repeat(400);
    let odd = [
        ("", "", f64::NAN),
        ("customer", "", f64::INFINITY),
        ("CUSTOMER", "   ", -5.0),
        (
            "customer",
            "₹₹₹ ,,, --- 1-2-3 crore lakh . . a a a and a half",
            1.0,
        ),
        (
            "customer",
            &format!("{huge} crore, {huge},00,000, in {huge} days"),
            2.0,
        ),
        ("customer", "मुझे वर्ली में 4 BHK चाहिए 😀🏠 बहुत अच्छा", 3.0),
        ("robot", "call me at 99:99 pm in 4294967296 hours", 4.0),
        ("customer", "sadhe sadhe sadhe dedh dhai point point", 5.0),
        ("assistant", &"why? ".repeat(2000), 6.0),
    ];
    let lines: Vec<TranscriptLine> = odd
        .iter()
        .map(|(role, text, seconds)| TranscriptLine {
            role: (*role).to_owned(),
            text: (*text).to_owned(),
            seconds: *seconds,
        })
        .collect();
    let analysis = analyse(&lines, &criteria);
    assert_eq!(analysis.utterances.len(), lines.len());
    assert!(analysis.utterances.iter().all(|u| u.seconds.is_finite()));
    assert!(
        analysis
            .utterances
            .iter()
            .all(|u| (-1.0..=1.0).contains(&u.sentiment.score))
    );
    serde_json::to_string(&analysis).expect("always serialises");
    assert_score_is_the_domains(&analysis, &criteria);
}

#[test]
fn the_same_call_gives_the_same_analysis() {
    let lines = call(&[
        (A, "What is your budget?", 0.0),
        (C, "Three crore, and I want a sea view in Bandra.", 2.0),
    ]);
    let criteria = worli_campaign();
    assert_eq!(analyse(&lines, &criteria), analyse(&lines, &criteria));
}
