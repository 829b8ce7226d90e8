//! Each campaign's line: the queued dials waiting for a free live-call slot.
//!
//! A dial that finds every slot taken joins its campaign's line instead of
//! coming back to look again, and the end of each call sends the dial
//! message of the first in line: a slot that frees is taken at once, and
//! each call costs about one dial message however long the line. The line
//! is the `by_line` index of the leads whose queued dial is `in_line`, so
//! joining and leaving it are writes of the lead itself, checked against
//! its version: two calls that end at once send two different leads, and
//! no lead is sent twice. The dialer still decides everything when the
//! message comes (the cap, the lead's state), so the line only orders and
//! paces the messages.
//!
//! A missed turn is not lost. A lead in line is watched beyond its expected
//! turn (`queued.watch_until`, from the dials ahead of it and the average
//! call), and the scheduler sends a lead whose watch lapsed. A dial that
//! joins the line looks for a free slot once more afterwards: a call that
//! ended while it was joining found it not yet in line (on DynamoDB an
//! index read can also lag the write by a moment).

use jiff::{SignedDuration, Timestamp};
use soraaya_core::App;
use soraaya_core::queue::DialMessage;
use soraaya_core::records::Records;
use soraaya_core::tables::LEADS;
use soraaya_domain::{Campaign, CampaignId, CampaignStatus, Lead, OrgId};
use soraaya_leads::counters::Scope;
use soraaya_leads::record::line_partition;
use soraaya_leads::repo::LeadsRepo;
use soraaya_store::{Key, Query};
use tracing::{debug, warn};

use crate::CallingError;
use crate::control::save_schedule;
use crate::records::slot_free_for_dial;

/// How long a sent dial message is watched before the scheduler takes it
/// for lost and sends it again.
pub(crate) fn message_watch(app: &App) -> SignedDuration {
    SignedDuration::try_from(app.config.calling.resend_queued_after)
        .unwrap_or(SignedDuration::from_mins(15))
}

/// The campaign's totals (its counters): dials queued, and its average call
/// so far in seconds (the configured typical call until a few have ended).
/// Most live calls of the organisation at once: its own setting under the
/// deployment's cap (the voice account's concurrency).
pub(crate) async fn org_cap(app: &App, org: OrgId) -> Result<u32, CallingError> {
    Ok(soraaya_accounts::org(app, org)
        .await?
        .settings
        .live_call_cap(app.config.calling.org_max_live_calls))
}

pub(crate) async fn campaign_pace(
    app: &App,
    campaign: &Campaign,
) -> Result<(u64, f64), CallingError> {
    let totals = LeadsRepo::new(app.store.as_ref())
        .counters(campaign.org_id, Scope::Campaign(campaign.id))
        .await?;
    let ended = totals.calls_ended as f64;
    let average_call = if ended >= 5.0 {
        totals.call_seconds as f64 / ended
    } else {
        app.config.calling.typical_call.as_secs_f64()
    };
    Ok((totals.queued, average_call))
}

/// When to give up on a turn with `ahead` dials before it: the time the
/// slots take to work through them, plus the usual watch of a message.
pub(crate) fn watch_until(
    app: &App,
    campaign: &Campaign,
    ahead: f64,
    average_call: f64,
    now: Timestamp,
) -> Timestamp {
    let turn = ahead / f64::from(campaign.settings.max_concurrent_calls.max(1)) * average_call;
    now + message_watch(app) + SignedDuration::from_secs_f64(turn.clamp(0.0, 86_400.0))
}

/// Puts a queued dial that found no slot in its campaign's line. `false`:
/// the lead changed meanwhile (its next message decides afresh).
pub(crate) async fn join(
    app: &App,
    lead: &Lead,
    campaign: &Campaign,
    now: Timestamp,
) -> Result<bool, CallingError> {
    let (ahead, average) = campaign_pace(app, campaign).await?;
    let mut after = lead.clone();
    let Some(queued) = after.queued.as_mut() else {
        return Ok(false);
    };
    queued.in_line = true;
    queued.watch_until = watch_until(app, campaign, ahead as f64, average, now);
    if !save_schedule(app, lead, after, now).await? {
        return Ok(false);
    }
    debug!(lead_id = %lead.id, "dial waits in the campaign's line");
    // A slot that freed while the lead joined found nobody to send.
    let caps = (
        campaign.settings.max_concurrent_calls,
        org_cap(app, campaign.org_id).await?,
    );
    if slot_free_for_dial(app.store.as_ref(), campaign.org_id, campaign.id, caps, now).await? {
        call_next(app, campaign.org_id, campaign.id, 1).await?;
    }
    Ok(true)
}

/// Gives the slot a call freed to the first in its campaign's line (when
/// the campaign still calls); otherwise to the first in the line of another
/// active campaign of the organisation with room under its own cap (the
/// organisation's cap may be what keeps that line waiting). A slot not
/// handed on is logged, not an error of the caller: the scheduler sends
/// lapsed dials in line.
pub async fn hand_on_slot(app: &App, org: OrgId, campaign: &Campaign) {
    if let Err(err) = try_hand_on_slot(app, org, campaign).await {
        warn!(error = %err, "the next dial in line was not sent; the scheduler will send it");
    }
}

async fn try_hand_on_slot(app: &App, org: OrgId, campaign: &Campaign) -> Result<(), CallingError> {
    if campaign.status == CampaignStatus::Active && call_next(app, org, campaign.id, 1).await? > 0 {
        return Ok(());
    }
    let campaign = campaign.id;
    let now = app.clock.now();
    let campaigns = Records::new(app.store.as_ref())
        .list::<Campaign>(org)
        .await?;
    let others = campaigns
        .iter()
        .filter(|c| c.id != campaign && c.status == CampaignStatus::Active);
    let cap = org_cap(app, org).await?;
    for other in others {
        let caps = (other.settings.max_concurrent_calls, cap);
        if slot_free_for_dial(app.store.as_ref(), org, other.id, caps, now).await?
            && call_next(app, org, other.id, 1).await? > 0
        {
            return Ok(());
        }
    }
    Ok(())
}

/// Sends the dial messages of the first `count` leads in the campaign's
/// line, taking them out of it (fewer if fewer wait); returns how many.
#[tracing::instrument(level = "debug", skip(app), fields(org_id = %org, campaign_id = %campaign))]
pub async fn call_next(
    app: &App,
    org: OrgId,
    campaign: CampaignId,
    count: usize,
) -> Result<usize, CallingError> {
    let repo = LeadsRepo::new(app.store.as_ref());
    let resend = message_watch(app);
    let mut messages: Vec<(DialMessage, std::time::Duration)> = Vec::new();
    let mut cursor = None;
    while messages.len() < count {
        // A few more than needed: another call's end may take the first.
        let wanted = u32::try_from(count - messages.len()).unwrap_or(u32::MAX);
        let page = repo
            .query(
                Query::new(&LEADS, line_partition(org, campaign))
                    .index("by_line")
                    .limit(wanted.saturating_add(4).min(100))
                    .after(cursor.take()),
            )
            .await?;
        let keys: Vec<Key> = page.items.iter().map(Key::of).collect::<Result<_, _>>()?;
        for lead in repo.leads_in_order(&keys).await? {
            if messages.len() >= count {
                break;
            }
            let Some(queued) = lead
                .queued
                .as_ref()
                .filter(|q| q.in_line && q.campaign_id == campaign)
            else {
                continue;
            };
            let message = DialMessage {
                org_id: org,
                lead_id: lead.id,
                campaign_id: campaign,
                attempt: queued.attempt,
            };
            let now = app.clock.now();
            let mut after = lead.clone();
            if let Some(q) = after.queued.as_mut() {
                q.in_line = false;
                q.watch_until = now + resend;
            }
            // Taken by another call's end meanwhile: the next in line.
            if save_schedule(app, &lead, after, now).await? {
                messages.push((message, std::time::Duration::ZERO));
            }
        }
        cursor = page.cursor;
        if cursor.is_none() {
            break;
        }
    }
    let sent = messages.len();
    if sent > 0
        && let Err(err) = app.queue.send(&messages).await
    {
        // Out of line and watched: the scheduler sends them again.
        warn!(error = %err, leads = sent, "dial messages from the line not sent; the scheduler will send them again");
    }
    Ok(sent)
}
