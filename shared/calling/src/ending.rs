//! Ending a call, whoever reports it (VAPI's webhook, Twilio's callback, the
//! scheduler checking a stuck call, a call that could not be placed): one
//! transaction moves the lead out of its live status, gives back the slot,
//! and stores the transcript, the call record, notifications and counters.
//! Only the write that ends the lead's live call can do this, so reports of
//! the same call in any number and order end it exactly once.

use jiff::Timestamp;
use soraaya_domain::{
    Campaign, CampaignId, Lead, LeadStatus, Mover, OrgId, PersonaId, Property,
    QualificationCriteria, TranscriptId, User, matching,
};
use soraaya_insights::record::{AnalysedCall, EndedCall, InsightDelta, InsightScope};
use soraaya_store::WriteOp;
use tracing::{info, warn};

use crate::CallingError;
use crate::records::{CallAttempt, Transcript, release_slots, transcript_exists};
use soraaya_accounts::Turn;
use soraaya_core::App;
use soraaya_core::records::Records;
use soraaya_domain::CallResult;
use soraaya_domain::outcome::{Answers, apply_answers, decide};
use soraaya_domain::{CallMetadata, CallReport};
use soraaya_leads::record::{Actor, EventKind, TimelineEvent};
use soraaya_leads::repo::{CallTally, DncEntry, LeadChange, LeadsRepo, WriteError};
use soraaya_notifications as notifications;

/// Who reported the end of the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndSource {
    Webhook,
    Telephony,
    Checked,
    Placement,
}

impl EndSource {
    fn actor(self) -> Actor {
        Actor::system(match self {
            EndSource::Webhook => "vapi webhook",
            EndSource::Telephony => "twilio callback",
            EndSource::Checked => "scheduler",
            EndSource::Placement => "dialer",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// This report ended the call; the lead moved to this status.
    Now(LeadStatus),
    /// The call had already ended (a duplicate or late report).
    Already,
    /// The lead no longer exists.
    NoLead,
}

/// A campaign that was deleted during a call still needs settings to decide
/// the outcome: the defaults.
fn fallback_campaign(org: OrgId, id: CampaignId, now: Timestamp) -> Campaign {
    Campaign {
        id,
        org_id: org,
        name: "deleted campaign".into(),
        description: None,
        start_date: None,
        end_date: None,
        campaign_type: soraaya_domain::CampaignType::Outbound,
        priority_level: soraaya_domain::Priority::Medium,
        status: soraaya_domain::CampaignStatus::Completed,
        persona_id: None,
        property_ids: Vec::new(),
        qualification_criteria: Default::default(),
        settings: Default::default(),
        paused_reason: None,
        variants: Vec::new(),
        auto_call_sources: Vec::new(),
        created_by: None,
        version: 0,
        created_at: now,
        updated_at: now,
    }
}

/// The transcript record of a call, with Soraaya's own analysis of what was
/// said against the campaign's criteria (none for a call without words).
#[allow(clippy::too_many_arguments)]
fn transcript(
    lead: &Lead,
    meta: &CallMetadata,
    report: &CallReport,
    understood: &Understood,
    result: CallResult,
    status: Option<LeadStatus>,
    score: Option<u8>,
    now: Timestamp,
) -> Transcript {
    let answers = &understood.answers;
    Transcript {
        id: TranscriptId::new(),
        org_id: lead.org_id,
        lead_id: lead.id,
        call_id: report.call_id.clone(),
        campaign_id: Some(meta.campaign_id),
        attempt: meta.attempt,
        started_at: report.started_at,
        ended_at: report.ended_at,
        call_duration: report.duration_seconds,
        cost: report.cost,
        ended_reason: report.ended_reason.clone(),
        call_outcome: result,
        lead_status: status,
        messages: report.lines.clone(),
        summary: report.summary.clone(),
        structured_data: report
            .structured_data
            .clone()
            .unwrap_or(serde_json::Value::Object(Default::default())),
        qualification_score: score,
        sentiment: answers.sentiment.clone(),
        objections: answers.objections.clone(),
        recording_url: report.recording_url.clone(),
        analysis: understood.analysis.clone(),
        created_at: now,
        expires_at: None,
    }
}

/// What a call's words told: Soraaya's analysis of them (none for a call
/// without words), and the answers its outcome is decided on: the
/// structured data the voice provider extracted, or, when it gave none,
/// what the analysis established.
struct Understood {
    analysis: Option<soraaya_analytics::Analysis>,
    answers: Answers,
}

impl Understood {
    fn of(
        report: &CallReport,
        criteria: &QualificationCriteria,
        lead: &Lead,
        now: Timestamp,
    ) -> Understood {
        let analysis =
            (!report.lines.is_empty()).then(|| soraaya_analytics::analyse(&report.lines, criteria));
        let structured = Answers::from_structured(report.structured_data.as_ref());
        let answers = match &analysis {
            Some(analysis) if structured == Answers::default() => {
                let local = lead.timezone.zone().to_datetime(now);
                soraaya_analytics::established::established(analysis, criteria, local)
            }
            _ => structured,
        };
        Understood { analysis, answers }
    }
}

/// The campaign's properties, in its own order.
pub(crate) async fn campaign_properties(
    app: &App,
    campaign: Option<&Campaign>,
) -> Result<Vec<Property>, CallingError> {
    let Some(campaign) = campaign.filter(|c| !c.property_ids.is_empty()) else {
        return Ok(Vec::new());
    };
    let ids: Vec<String> = campaign
        .property_ids
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut properties: Vec<Property> = Records::new(app.store.as_ref())
        .many(campaign.org_id, &ids)
        .await?;
    properties.sort_by_key(|p| campaign.property_ids.iter().position(|id| *id == p.id));
    Ok(properties)
}

/// The property the agent led with: the campaign's best fit for the lead
/// (as the assistant's context ranks them).
fn pitched<'p>(lead: &Lead, properties: &'p [Property]) -> Option<&'p Property> {
    matching::rank(lead, properties).first().map(|(p, _)| *p)
}

/// Ends the call `meta` describes with `report`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn end_call(
    app: &App,
    meta: &CallMetadata,
    report: &CallReport,
    source: EndSource,
) -> Result<Ended, CallingError> {
    let org = meta.org_id;
    let organisation = soraaya_accounts::org(app, org).await?;
    let zone = organisation.time_zone.zone();
    let repo = LeadsRepo::new(app.store.as_ref());
    let campaign = Records::new(app.store.as_ref())
        .get::<Campaign>(org, &meta.campaign_id.to_string())
        .await?;
    let properties = campaign_properties(app, campaign.as_ref()).await?;
    let actor = source.actor();
    let mut keep_transcript = !report.call_id.is_empty();
    // The agent whose turn it is, asked once (only when the call qualifies).
    let mut agent_in_turn: Option<Option<User>> = None;
    for _ in 0..5 {
        let Some(lead) = repo.lead(org, meta.lead_id).await? else {
            return Ok(Ended::NoLead);
        };
        let now = app.clock.now();
        let live = lead
            .live_call
            .clone()
            .filter(|call| call.attempt == meta.attempt && call.campaign_id == meta.campaign_id);
        let Some(live) = live else {
            store_late_transcript(app, &lead, meta, report, now).await?;
            return Ok(Ended::Already);
        };
        let campaign = campaign
            .clone()
            .unwrap_or_else(|| fallback_campaign(org, meta.campaign_id, now));
        let understood = Understood::of(report, &campaign.qualification_criteria, &lead, now);
        let outcome = decide(&lead, &campaign, report, understood.answers.clone(), now);
        let status = match lead.status.check_transition(outcome.status, Mover::System) {
            Ok(()) => outcome.status,
            Err(err) => {
                warn!(lead_id = %lead.id, error = %err, "outcome not allowed from the lead's status; asking a person");
                LeadStatus::HumanInputNeeded
            }
        };

        let mut after = lead.clone();
        after.status = status;
        after.live_call = None;
        after.next_call_at = outcome.next_call_at;
        after.next_call_reason = outcome.next_call_reason.map(str::to_owned);
        after.last_call_result = Some(outcome.result.as_str().to_owned());
        after.callback_scheduled_at = outcome.callback_at;
        if status == LeadStatus::FollowUp && lead.status != LeadStatus::FollowUp {
            after.follow_up_count += 1;
        }
        apply_answers(&mut after, &outcome.answers, outcome.score);
        // A newly qualified lead no one holds goes to the agent whose turn it is.
        let handed = if status == LeadStatus::Qualified
            && lead.status != LeadStatus::Qualified
            && lead.assigned_agent_id.is_none()
        {
            if agent_in_turn.is_none() {
                agent_in_turn = Some(
                    soraaya_accounts::next_in_turn(app, org, Turn::QualifiedLead, None).await?,
                );
            }
            agent_in_turn.clone().flatten()
        } else {
            None
        };
        if let Some(agent) = &handed {
            after.assigned_agent_id = Some(agent.id);
        }
        if !outcome.counts_attempt {
            after.call_attempts = lead.call_attempts.saturating_sub(1);
        }
        after.version = lead.version + 1;
        after.updated_at = now;

        let mut extra: Vec<WriteOp> = release_slots(org, live.campaign_id).into();
        let guard_index = extra.len();
        let transcript_at =
            keep_transcript && !transcript_exists(app.store.as_ref(), org, &report.call_id).await?;
        let persona = campaign.persona_for(&lead);
        let variant = campaign.variant_for(lead.id);
        let mut insight = InsightDelta::default();
        insight.ended(&EndedCall {
            lead: &lead,
            status_after: status,
            result: outcome.result,
            persona,
            variant: variant.map(|v| v.key.as_str()),
            started_at: live.started_at,
            duration_seconds: report.duration_seconds,
            cost_cents: report
                .cost
                .map_or(0, |c| (c * 100.0).round().max(0.0) as u64),
            score: outcome.score,
        });
        if transcript_at {
            let mut record = transcript(
                &lead,
                meta,
                report,
                &understood,
                outcome.result,
                Some(status),
                outcome.score,
                now,
            );
            if let Some(analysis) = &record.analysis {
                insight.analysed(&AnalysedCall {
                    analysis,
                    qualified: status == LeadStatus::Qualified,
                    pitched: pitched(&after, &properties),
                    lead_id: lead.id,
                    transcript_id: record.id,
                });
            }
            after.last_call_transcript_id = Some(record.id);
            extra.extend(record.puts(organisation.settings.data_retention)?);
        }
        extra.extend(insight.into_ops(
            org,
            &InsightScope::of_call(live.campaign_id, persona),
            zone.to_datetime(now).date(),
        ));
        if outcome.do_not_call && !lead.do_not_call {
            after.do_not_call = true;
            extra.push(LeadsRepo::dnc_put(
                org,
                &DncEntry {
                    phone_number: lead.phone_number.clone(),
                    reason: Some("asked during a call not to be called again".into()),
                    added_by: actor.clone(),
                    added_at: now,
                },
            )?);
        }
        extra.push(
            CallAttempt {
                org_id: org,
                lead_id: lead.id,
                campaign_id: live.campaign_id,
                attempt: live.attempt,
                call_id: Some(report.call_id.clone())
                    .filter(|c| !c.is_empty())
                    .or(live.call_id.clone()),
                started_at: live.started_at,
                ended_at: Some(now),
                result: Some(outcome.result),
                ended_reason: Some(report.ended_reason.clone()),
                status_after: Some(status),
                duration_seconds: report.duration_seconds,
                cost: report.cost,
                variant: variant.map(|v| v.key.clone()),
            }
            .put()?,
        );
        // A refusal of the provider is about the campaign's calls, not this
        // lead: one notification per campaign and cause, however many leads.
        let refused = report.ended_reason == CallReport::REJECTED;
        let (about, source_key, detail) = if refused {
            let cause = report.summary.as_deref().unwrap_or("no reason given");
            (
                None,
                format!("campaign:{}:refused:{cause}", live.campaign_id),
                format!(
                    "The voice provider refuses this campaign's calls: {cause}. \
                     The leads it refused are in call_failed; once fixed, call them again."
                ),
            )
        } else {
            (
                Some(&after),
                format!("call:{}:{}", lead.id, live.attempt),
                outcome.reason.clone(),
            )
        };
        for kind in &outcome.notify {
            let note = notifications::notification(
                *kind,
                org,
                about,
                Some(&campaign),
                &detail,
                &source_key,
                now,
            );
            extra.push(notifications::put_op(&note)?);
        }

        let mut ended = TimelineEvent::new(&after, EventKind::CallEnded, &actor, now);
        ended.reason = Some(match &report.summary {
            Some(summary) => format!(
                "{} ({}): {summary}",
                outcome.result.as_str(),
                report.ended_reason
            ),
            None => format!("{} ({})", outcome.result.as_str(), report.ended_reason),
        });
        let mut moved = TimelineEvent::new(&after, EventKind::StatusChanged, &actor, now);
        moved.from = Some(lead.status);
        moved.to = Some(status);
        moved.reason = Some(match &handed {
            Some(agent) => format!(
                "{}; handed to {} (in turn)",
                outcome.reason,
                agent.full_name.as_str()
            ),
            None => outcome.reason.clone(),
        });
        let mut change = LeadChange::new(Some(lead.clone()), Some(after), vec![ended, moved]);
        change.call = Some(CallTally {
            seconds: report.duration_seconds.unwrap_or(0.0),
            cost_cents: report
                .cost
                .map_or(0, |c| (c * 100.0).round().max(0.0) as u64),
        });
        match repo.write(org, &zone, now, &[change], extra).await {
            Ok(()) => {
                info!(org_id = %org, lead_id = %lead.id, attempt = live.attempt, result = outcome.result.as_str(), status = %status, "call ended");
                if outcome.result == CallResult::Failed {
                    crate::control::check_failures(app, org, live.campaign_id).await?;
                }
                crate::control::check_performance(app, &campaign).await?;
                // The slot goes to the first in line.
                crate::line::hand_on_slot(app, org, &campaign).await;
                return Ok(Ended::Now(status));
            }
            // The lead changed (a status update raced us): read it again.
            Err(WriteError::Stale { .. }) => continue,
            // Another report stored this call's transcript first.
            Err(WriteError::Extra { index }) if transcript_at && index == guard_index => {
                keep_transcript = false;
                continue;
            }
            Err(WriteError::Store(err)) => return Err(err.into()),
            Err(other) => return Err(soraaya_store::StoreError::Invalid(other.to_string()).into()),
        }
    }
    Err(soraaya_leads::service::LeadError::ChangedConcurrently.into())
}

/// A report that arrives after its call ended still brings its transcript,
/// if the call has none.
async fn store_late_transcript(
    app: &App,
    lead: &Lead,
    meta: &CallMetadata,
    report: &CallReport,
    now: Timestamp,
) -> Result<(), CallingError> {
    if report.call_id.is_empty()
        || transcript_exists(app.store.as_ref(), lead.org_id, &report.call_id).await?
    {
        return Ok(());
    }
    let result = CallResult::from_ended_reason(&report.ended_reason);
    let campaign = Records::new(app.store.as_ref())
        .get::<Campaign>(lead.org_id, &meta.campaign_id.to_string())
        .await?;
    let criteria = campaign
        .as_ref()
        .map(|c| c.qualification_criteria.clone())
        .unwrap_or_default();
    let understood = Understood::of(report, &criteria, lead, now);
    let mut record = transcript(lead, meta, report, &understood, result, None, None, now);
    let retention = soraaya_accounts::org(app, lead.org_id)
        .await?
        .settings
        .data_retention;
    let mut ops = record.puts(retention)?;
    if let Some(analysis) = &record.analysis {
        let properties = campaign_properties(app, campaign.as_ref()).await?;
        let mut insight = InsightDelta::default();
        insight.analysed(&AnalysedCall {
            analysis,
            qualified: lead.status == LeadStatus::Qualified,
            pitched: pitched(lead, &properties),
            lead_id: lead.id,
            transcript_id: record.id,
        });
        let persona: Option<PersonaId> = match &campaign {
            Some(campaign) => campaign.persona_for(lead),
            None => lead.agent_persona_id,
        };
        let zone = soraaya_accounts::org(app, lead.org_id)
            .await?
            .time_zone
            .zone();
        ops.extend(insight.into_ops(
            lead.org_id,
            &InsightScope::of_call(meta.campaign_id, persona),
            zone.to_datetime(now).date(),
        ));
    }
    match app.store.transact_write(ops).await {
        Ok(()) | Err(soraaya_store::StoreError::Conflict { .. }) => Ok(()),
        Err(err) => Err(err.into()),
    }
}
