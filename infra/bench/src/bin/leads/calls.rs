//! Calls' insight aggregates, written as the end of each call writes them,
//! spread over the last 90 days: so that the insights endpoints are timed
//! over a history that grows with the book (one call per lead).

use jiff::civil::Date;
use soraaya_analytics::analyse;
use soraaya_core::App;
use soraaya_domain::{
    CallResult, CampaignId, Lead, LeadStatus, OrgId, PersonaId, QualificationCriteria,
    TranscriptId, TranscriptLine,
};
use soraaya_insights::record::{AnalysedCall, EndedCall, InsightDelta, InsightScope};

/// Written conversations, each as (speaker, words) lines.
const CONVERSATIONS: [&[(&str, &str)]; 4] = [
    &[
        (
            "assistant",
            "What budget do you have in mind, and when do you plan to buy?",
        ),
        (
            "customer",
            "Around four crore, within three months, in Worli with a sea view and a gym.",
        ),
        ("assistant", "Shall I book a site visit this Saturday?"),
        (
            "customer",
            "Yes, Saturday works. I decide with my wife, we will pay from savings.",
        ),
    ],
    &[
        (
            "assistant",
            "Is this a good time to talk about the Bandra residences?",
        ),
        (
            "customer",
            "The price is too high for us, honestly, and the possession is too far.",
        ),
    ],
    &[
        ("assistant", "Which area are you looking at?"),
        (
            "customer",
            "Powai or Lower Parel, a four BHK with parking for two cars. Call me tomorrow at six.",
        ),
    ],
    &[
        ("assistant", "Would you like the brochure?"),
        (
            "customer",
            "We already bought a flat in Khar last month, thank you.",
        ),
    ],
];

/// The campaign and personas the calls are made for.
pub struct History {
    campaign: CampaignId,
    personas: Vec<PersonaId>,
}

impl History {
    pub fn new() -> History {
        History {
            campaign: CampaignId::new(),
            personas: (0..4).map(|_| PersonaId::new()).collect(),
        }
    }

    /// Adds `calls` calls (numbered from `first`) to the organisation's
    /// aggregates, one item write per scope, persona and day.
    pub async fn record(
        &self,
        app: &App,
        org: OrgId,
        lead: &Lead,
        today: Date,
        first: usize,
        calls: usize,
    ) {
        record(app, org, lead, today, first, calls, self).await;
    }
}

async fn record(
    app: &App,
    org: OrgId,
    lead: &Lead,
    today: Date,
    first: usize,
    calls: usize,
    history: &History,
) {
    let criteria = QualificationCriteria::default();
    let analyses: Vec<_> = CONVERSATIONS
        .iter()
        .map(|lines| {
            let lines: Vec<TranscriptLine> = lines
                .iter()
                .enumerate()
                .map(|(i, (role, text))| TranscriptLine {
                    role: (*role).to_owned(),
                    text: (*text).to_owned(),
                    seconds: i as f64 * 12.0,
                })
                .collect();
            analyse(&lines, &criteria)
        })
        .collect();
    let (personas, campaign) = (&history.personas, history.campaign);
    let mut by_day: Vec<Vec<(InsightDelta, PersonaId)>> = vec![Vec::new(); 90];
    for n in first..first + calls {
        let day = n % 90;
        let persona = personas[n % personas.len()];
        let slot = &mut by_day[day];
        if !slot.iter().any(|(_, p)| *p == persona) {
            slot.push((InsightDelta::default(), persona));
        }
        let delta = &mut slot.iter_mut().find(|(_, p)| *p == persona).unwrap().0;
        let connected = n % 3 != 0;
        let status = match n % 7 {
            0 => LeadStatus::Qualified,
            1 => LeadStatus::NotInterested,
            _ => LeadStatus::FollowUp,
        };
        let started_at = jiff::Timestamp::now() - jiff::SignedDuration::from_mins((n % 600) as i64);
        delta.ended(&EndedCall {
            lead,
            status_after: status,
            result: if connected {
                CallResult::Connected
            } else {
                CallResult::NoAnswer
            },
            persona: Some(persona),
            variant: None,
            started_at,
            duration_seconds: Some((n % 900) as f64),
            cost_cents: (n % 30) as u64,
            score: Some((n % 100) as u8),
        });
        if connected {
            delta.analysed(&AnalysedCall {
                analysis: &analyses[n % analyses.len()],
                qualified: status == LeadStatus::Qualified,
                pitched: None,
                lead_id: lead.id,
                transcript_id: TranscriptId::new(),
            });
        }
    }
    for (back, deltas) in by_day.into_iter().enumerate() {
        let day = today
            .checked_sub(jiff::Span::new().days(back as i64))
            .unwrap();
        for (delta, persona) in deltas {
            let ops = delta.into_ops(org, &InsightScope::of_call(campaign, Some(persona)), day);
            app.store.transact_write(ops).await.unwrap();
        }
    }
}
