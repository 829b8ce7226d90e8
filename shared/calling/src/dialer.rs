//! The dialer: takes dial messages, re-checks each lead, wins the lead and a
//! live-call slot in one conditional write (so a message delivered twice
//! dials once, and live calls never exceed the campaign's cap), then places
//! the call; a dial that finds no slot waits in its campaign's line
//! ([`crate::line`]). Transport-agnostic: it answers a disposition per
//! message, which SQS or the local queue applies.

use std::time::Duration;

use jiff::SignedDuration;
use rand::RngExt;
use soraaya_domain::{
    AgentPersona, Campaign, CampaignStatus, Lead, LeadStatus, LiveCall, Mover, NotificationKind,
};
use soraaya_notifications as notifications;
use tracing::{Instrument, info, info_span, warn};

use crate::CallingError;
use crate::assistant::{AssistantContext, assistant};
use crate::call_now::pause_calling;
use crate::control::save_schedule;
use crate::ending::{EndSource, end_call};
use crate::line;
use crate::records::{
    Claimant, SlotScope, hold_slot_for_callback, live_calls_in, release_slots, remember_voice_call,
    take_slots,
};
use soraaya_core::App;
use soraaya_core::queue::{Delivery, DialMessage, Disposition};
use soraaya_core::records::Records;
use soraaya_core::voice::{OutboundCall, VoiceError};
use soraaya_domain::eligibility::{Decision, decide};
use soraaya_domain::{CallMetadata, CallReport};
use soraaya_leads::record::{Actor, EventKind, TimelineEvent};
use soraaya_leads::repo::{LeadChange, LeadsRepo, WriteError};
use soraaya_leads::service::{self as leads, LeadError, NextState};

/// A due callback's message received this often without finding a slot
/// is sent afresh (before SQS would move it to the dead-letter queue), and
/// looks less often the longer it waits.
const MAX_RECEIVES: u32 = 50;

/// How long a due callback holds the campaign's next free slot; it renews
/// the hold each time it looks, well within this.
const CALLBACK_HOLD: SignedDuration = SignedDuration::from_secs(20);

/// Tries of a call the provider answered with a transient failure.
const PLACE_TRIES: u32 = 3;

/// Deliveries of one dial that may find the provider unavailable (every try
/// transient) and wait, the lead's attempt unused; past them the attempt
/// ends as a failed call, as a call the provider could not place.
const UNAVAILABLE_RECEIVES: u32 = 8;

/// How long a dial waits after the provider was unavailable: 5 s, doubling
/// with each delivery that found it so, at most 5 minutes.
fn unavailable_wait(receive_count: u32) -> Duration {
    let doublings = receive_count.saturating_sub(1).min(6);
    Duration::from_secs(5 << doublings).min(Duration::from_secs(300))
}

/// Handles a batch of messages concurrently; one disposition per message id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn handle_batch(app: &App, deliveries: Vec<Delivery>) -> Vec<(String, Disposition)> {
    let handled = deliveries.into_iter().map(|delivery| async move {
        let id = delivery.id.clone();
        let disposition = match serde_json::from_str::<DialMessage>(&delivery.body) {
            Err(err) => {
                // It can never succeed; keeping it would only block the queue.
                warn!(message_id = %id, error = %err, "unreadable dial message dropped");
                Disposition::Done
            }
            Ok(message) => {
                let span = info_span!("dial", org_id = %message.org_id, lead_id = %message.lead_id, attempt = message.attempt);
                match dial(app, &message, delivery.receive_count).instrument(span).await {
                    Ok(disposition) => disposition,
                    Err(err) => {
                        warn!(message_id = %id, error = %err, "dial failed; retrying later");
                        Disposition::RetryAfter(Duration::from_secs(30))
                    }
                }
            }
        };
        (id, disposition)
    });
    futures::future::join_all(handled).await
}

/// No slot now: a plain dial joins the campaign's line (the end of a call
/// sends it on, [`crate::line`]); a promised callback that is due holds the
/// campaign's next free slot and looks again soon, so that it takes the
/// next slot that frees ahead of the line.
async fn no_slot(
    app: &App,
    message: &DialMessage,
    lead: &Lead,
    campaign: &Campaign,
    receive_count: u32,
    now: jiff::Timestamp,
) -> Result<Disposition, CallingError> {
    if !lead.callback_due(now) {
        return Ok(if line::join(app, lead, campaign, now).await? {
            Disposition::Done
        } else {
            // The lead changed meanwhile: the next delivery decides afresh.
            Disposition::RetryAfter(Duration::from_secs(1))
        });
    }
    if receive_count >= MAX_RECEIVES {
        app.queue
            .send(&[(message.clone(), app.config.calling.no_slot_retry)])
            .await?;
        return Ok(Disposition::Done);
    }
    hold_slot_for_callback(
        app.store.as_ref(),
        campaign.org_id,
        campaign.id,
        now + CALLBACK_HOLD,
    )
    .await?;
    // Back before the hold lapses.
    let floor = app.config.calling.no_slot_retry.as_secs_f64();
    let patience = 1.0 + f64::from(receive_count) / 20.0;
    let wait = (floor * rand::rng().random_range(0.2..0.4) * patience)
        .min(CALLBACK_HOLD.as_secs_f64() * 0.75);
    let wait = Duration::from_secs_f64(wait);

    let resend = line::message_watch(app);
    let back_at = now + SignedDuration::try_from(wait).unwrap_or(SignedDuration::ZERO);
    if let Some(queued) = &lead.queued
        && queued.watch_until < back_at + resend / 2
    {
        let mut after = lead.clone();
        if let Some(q) = after.queued.as_mut() {
            q.watch_until = back_at + resend;
        }
        if !save_schedule(app, lead, after, now).await? {
            return Ok(Disposition::RetryAfter(Duration::from_secs(1)));
        }
    }
    Ok(Disposition::RetryAfter(wait))
}

/// Dials the lead a message names, if it still should be dialled.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn dial(
    app: &App,
    message: &DialMessage,
    receive_count: u32,
) -> Result<Disposition, CallingError> {
    let org = message.org_id;
    let records = Records::new(app.store.as_ref());
    let repo = LeadsRepo::new(app.store.as_ref());
    let Some(lead) = repo.lead(org, message.lead_id).await? else {
        return Ok(Disposition::Done);
    };
    // Only the queued attempt this message is for: a duplicate, or a message
    // for an attempt already made, ends here.
    let current = lead
        .queued
        .as_ref()
        .is_some_and(|q| q.campaign_id == message.campaign_id && q.attempt == message.attempt);
    if !current {
        return Ok(Disposition::Done);
    }
    let Some(campaign) = records
        .get::<Campaign>(org, &message.campaign_id.to_string())
        .await?
    else {
        return Ok(Disposition::Done);
    };
    match campaign.status {
        CampaignStatus::Active => {}
        // Stays queued: resuming sends it again.
        CampaignStatus::Paused => return Ok(Disposition::Done),
        _ => {
            unqueue_lead(app, &lead, None).await?;
            return Ok(Disposition::Done);
        }
    }
    let organisation = soraaya_accounts::org(app, org).await?;
    let zone = organisation.time_zone.zone();
    let now = app.clock.now();
    match decide(&lead, &campaign, &zone, now, true) {
        Decision::DialNow => {}
        Decision::Defer(at) => {
            unqueue_lead(app, &lead, Some(at)).await?;
            return Ok(Disposition::Done);
        }
        Decision::Skip(reason) => {
            info!(?reason, "lead no longer to be dialled");
            unqueue_lead(app, &lead, None).await?;
            return Ok(Disposition::Done);
        }
    }
    let cap = campaign.settings.max_concurrent_calls;
    let org_cap = crate::line::org_cap(app, org).await?;
    let live = live_calls_in(
        app.store.as_ref(),
        org,
        &[SlotScope::Campaign(campaign.id), SlotScope::Organisation],
    )
    .await?;
    if live[0] >= cap || live[1] >= org_cap {
        return no_slot(app, message, &lead, &campaign, receive_count, now).await;
    }

    // Win the lead for this attempt and a slot, together.
    let check_after = SignedDuration::try_from(app.config.calling.check_call_after)
        .unwrap_or(SignedDuration::from_mins(20));
    let mut after = lead.clone();
    lead.status
        .check_transition(LeadStatus::Calling, Mover::System)?;
    after.status = LeadStatus::Calling;
    after.queued = None;
    after.next_call_at = None;
    after.next_call_reason = None;
    after.call_attempts = lead.call_attempts + 1;
    after.live_call = Some(LiveCall {
        campaign_id: campaign.id,
        attempt: message.attempt,
        call_id: None,
        started_at: now,
        check_at: now + check_after,
    });
    after.version = lead.version + 1;
    after.updated_at = now;
    let actor = Actor::system("dialer");
    let mut placed = TimelineEvent::new(&after, EventKind::CallPlaced, &actor, now);
    placed.reason = Some(format!(
        "calling, attempt {} of {} ({})",
        message.attempt, campaign.settings.max_attempts, campaign.name
    ));
    let mut moved = TimelineEvent::new(&after, EventKind::StatusChanged, &actor, now);
    moved.from = Some(lead.status);
    moved.to = Some(LeadStatus::Calling);
    let change = LeadChange::new(Some(lead.clone()), Some(after.clone()), vec![placed, moved]);
    match repo
        .write(
            org,
            &zone,
            now,
            &[change],
            take_slots(
                org,
                campaign.id,
                cap,
                org_cap,
                if lead.callback_due(now) {
                    Claimant::DueCallback
                } else {
                    Claimant::Dial
                },
                now,
            )
            .into(),
        )
        .await
    {
        Ok(()) => {}
        Err(WriteError::Extra { .. }) => {
            return no_slot(app, message, &lead, &campaign, receive_count, now).await;
        }
        // Someone else won this lead, or it changed: this message has nothing to do.
        Err(WriteError::Stale { .. }) => return Ok(Disposition::Done),
        Err(WriteError::Store(err)) => return Err(err.into()),
        Err(WriteError::DuplicatePhone { .. }) => return Ok(Disposition::Done),
    }

    let metadata = CallMetadata {
        org_id: org,
        lead_id: lead.id,
        campaign_id: campaign.id,
        attempt: message.attempt,
    };
    let call = OutboundCall {
        customer_number: lead.phone_number.clone(),
        customer_name: lead.contact_person.to_string(),
        customer_time_zone: lead.timezone.clone(),
        assistant: build_assistant(app, &organisation, &campaign, &after).await?,
        metadata: metadata.clone(),
    };
    match place(app, &call).await {
        Ok(call_id) => {
            info!(call_id = %call_id, "call placed");
            remember_call_id(app, &metadata, &call_id).await?;
        }
        Err(VoiceError::Unauthorized(why)) => {
            warn!(error = %why, "the voice provider refused the API key; calling paused");
            take_back(app, &lead, &metadata, &why).await?;
            stop_for_the_organisation(app, org, &why).await?;
        }
        // The provider was busy or down on every try: nobody was called, so
        // the lead keeps its attempt and the dial comes back later; its slot
        // goes on to the line meanwhile.
        Err(VoiceError::Transient(why)) if receive_count < UNAVAILABLE_RECEIVES => {
            warn!(error = %why, "the voice provider is unavailable; the dial waits, its attempt unused");
            take_back(app, &lead, &metadata, &why).await?;
            line::hand_on_slot(app, org, &campaign).await;
            return Ok(Disposition::RetryAfter(unavailable_wait(receive_count)));
        }
        Err(err) => {
            warn!(error = %err, "call could not be placed");
            let report = match err {
                VoiceError::Rejected(why) => CallReport::rejected("", &why),
                other => CallReport {
                    ended_reason: match other {
                        VoiceError::Unconfigured => "call.start.error-no-voice-provider".into(),
                        _ => "call.start.error-provider-unavailable".into(),
                    },
                    summary: Some(other.to_string()),
                    ..CallReport::default()
                },
            };
            end_call(app, &metadata, &report, EndSource::Placement).await?;
        }
    }
    Ok(Disposition::Done)
}

/// Undoes the win of a call that was never placed: the lead is back where it
/// was (queued, its attempt not used), the slots are free.
async fn take_back(
    app: &App,
    before: &Lead,
    metadata: &CallMetadata,
    why: &str,
) -> Result<(), CallingError> {
    let result = leads::modify(app, metadata.org_id, metadata.lead_id, true, |lead, now| {
        let Some(live) = lead
            .live_call
            .as_ref()
            .filter(|c| c.attempt == metadata.attempt && c.call_id.is_none())
        else {
            return Ok(None);
        };
        lead.status.check_transition(before.status, Mover::System)?;
        let mut after = lead.clone();
        after.status = before.status;
        after.queued = before.queued.clone();
        after.call_attempts = before.call_attempts;
        after.live_call = None;
        let mut event = TimelineEvent::new(
            &after,
            EventKind::StatusChanged,
            &Actor::system("dialer"),
            now,
        );
        event.from = Some(lead.status);
        event.to = Some(before.status);
        event.reason = Some(format!("the call was not placed: {why}"));
        Ok(Some(NextState {
            lead: after,
            events: vec![event],
            extra: release_slots(metadata.org_id, live.campaign_id).into(),
        }))
    })
    .await;
    match result {
        Ok(_) | Err(LeadError::NotFound) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// Pauses every calling campaign of the organisation, once, and tells people.
async fn stop_for_the_organisation(
    app: &App,
    org: soraaya_domain::OrgId,
    why: &str,
) -> Result<(), CallingError> {
    let reason = format!("the voice provider refused the API key ({why})");
    let paused = pause_calling(app, org, None, &reason).await?;
    if paused.is_empty() {
        // Another dial of the same batch paused them first.
        return Ok(());
    }
    let now = app.clock.now();
    let names: Vec<&str> = paused.iter().map(|c| c.name.as_str()).collect();
    let note = notifications::notification(
        NotificationKind::SystemAlert,
        org,
        None,
        None,
        &format!(
            "The voice provider refused Soraaya's API key: {why}. Calling is paused ({}). \
             Put a valid VAPI key in place, then resume the campaigns; their queued leads \
             keep their attempts.",
            names.join(", ")
        ),
        &format!("org:voice-key-refused:{}", now.as_second()),
        now,
    );
    app.store
        .transact_write(vec![notifications::put_op(&note)?])
        .await?;
    Ok(())
}

/// Places a call, trying again on transient failures with growing waits.
async fn place(app: &App, call: &OutboundCall) -> Result<String, VoiceError> {
    let mut wait = Duration::from_millis(250);
    for attempt in 1..=PLACE_TRIES {
        match app.voice.place_call(call).await {
            Ok(placed) => return Ok(placed.call_id),
            Err(VoiceError::Transient(reason)) if attempt < PLACE_TRIES => {
                warn!(attempt, reason = %reason, "voice provider busy; trying again");
                tokio::time::sleep(wait).await;
                wait *= 4;
            }
            Err(err) => return Err(err),
        }
    }
    Err(VoiceError::Transient("no more tries".into()))
}

async fn build_assistant(
    app: &App,
    organisation: &soraaya_domain::Organisation,
    campaign: &Campaign,
    lead: &Lead,
) -> Result<soraaya_core::voice::Assistant, CallingError> {
    let records = Records::new(app.store.as_ref());
    let persona = match campaign.persona_for(lead) {
        Some(id) => {
            records
                .get::<AgentPersona>(campaign.org_id, &id.to_string())
                .await?
        }
        None => None,
    };
    let properties = crate::ending::campaign_properties(app, Some(campaign)).await?;
    Ok(assistant(&AssistantContext {
        organisation,
        persona: persona.as_ref(),
        campaign,
        properties: &properties,
        lead,
        now: app.clock.now(),
        variant: campaign.variant_for(lead.id),
    }))
}

/// Notes the provider's call id: on the live call (for checking it later),
/// and as the way back from the call to its attempt (for the webhooks).
async fn remember_call_id(
    app: &App,
    metadata: &CallMetadata,
    call_id: &str,
) -> Result<(), CallingError> {
    app.store
        .transact_write(vec![remember_voice_call(
            call_id,
            metadata,
            app.clock.now(),
        )?])
        .await?;
    let result = leads::modify(app, metadata.org_id, metadata.lead_id, true, |lead, _| {
        // Already ended, or already known: nothing to note.
        let Some(live) = lead
            .live_call
            .clone()
            .filter(|c| c.attempt == metadata.attempt && c.call_id.is_none())
        else {
            return Ok(None);
        };
        let mut after = lead.clone();
        after.live_call = Some(LiveCall {
            call_id: Some(call_id.to_owned()),
            ..live
        });
        Ok(Some(NextState::of(after)))
    })
    .await;
    match result {
        Ok(_) | Err(LeadError::NotFound) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// Takes a lead off the queue; with `next_at`, schedules it for then.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn unqueue_lead(
    app: &App,
    lead: &Lead,
    next_at: Option<jiff::Timestamp>,
) -> Result<(), CallingError> {
    let mut after = lead.clone();
    after.queued = None;
    after.next_call_at = next_at;
    after.next_call_reason = next_at.map(|_| "window".to_owned());
    save_schedule(app, lead, after, app.clock.now()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dial_waits_longer_each_time_the_provider_was_unavailable() {
        let waits: Vec<u64> = (1..=9).map(|n| unavailable_wait(n).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 300, 300, 300]);
        assert_eq!(unavailable_wait(0).as_secs(), 5);
    }
}
