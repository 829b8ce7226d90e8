//! The scheduler, every minute: queues the retries and callbacks that are
//! due, sends again the dials whose message seems lost, and checks calls
//! that never reported their end (asking the voice provider how they ended).
//! It reads only leads that have something due (the `by_due` index). It
//! also emails the notification digests that are due.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use soraaya_domain::{Campaign, CampaignId, CampaignStatus, Lead, LeadId, LiveCall, OrgId};
use soraaya_store::{Query, SortKeyCondition};
use tracing::{info, warn};

use crate::CallingError;
use crate::control::{queue_leads, save_schedule};
use crate::ending::{EndSource, end_call};
use futures::TryStreamExt;
use soraaya_core::App;
use soraaya_core::keys::sortable;
use soraaya_core::paging::query_all;
use soraaya_core::queue::DialMessage;
use soraaya_core::records::Records;
use soraaya_core::tables::{DUE_SHARDS, LEADS};
use soraaya_core::voice::VoiceError;
use soraaya_domain::{CallMetadata, CallReport};
use soraaya_leads::repo::LeadsRepo;

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct SchedulerRun {
    pub due: usize,
    /// Retries and callbacks handed to the dialer (or moved to their next calling hours).
    pub scheduled: usize,
    /// Queued dials sent again.
    pub resent: usize,
    /// Live calls asked about.
    pub checked: usize,
    /// Calls that ended through the check.
    pub ended: usize,
    /// Notification digests emailed.
    pub digests: usize,
    /// When nothing was due: when something next is (none: nothing at all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_due: Option<Timestamp>,
}

/// How long to wait before asking again about a call still going.
const RECHECK: SignedDuration = SignedDuration::from_mins(5);
/// A call with no provider id this long after dialling was never placed.
const NEVER_PLACED: SignedDuration = SignedDuration::from_mins(2);

/// Runs the scheduler once at `now`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn run(app: &App, now: Timestamp) -> Result<SchedulerRun, CallingError> {
    let repo = LeadsRepo::new(app.store.as_ref());
    let mut run = SchedulerRun::default();
    let mut due_by_campaign: HashMap<(OrgId, CampaignId), Vec<Lead>> = HashMap::new();
    for shard in 0..DUE_SHARDS {
        let mut pages =
            std::pin::pin!(query_all(app.store.as_ref(), due_entries(shard, Some(now))));
        while let Some(items) = pages.try_next().await? {
            for item in &items {
                let Some(lead) = lead_of_due_entry(&repo, item).await? else {
                    continue;
                };
                let org = lead.org_id;
                run.due += 1;
                if let Some(call) = lead.live_call.clone() {
                    if call.check_at <= now {
                        run.checked += 1;
                        if check_call(app, &lead, &call, now).await? {
                            run.ended += 1;
                        }
                    }
                } else if let Some(queued) = lead.queued.clone() {
                    if queued.watch_until <= now {
                        resend(app, &lead, now).await?;
                        run.resent += 1;
                    }
                } else if let (Some(next), Some(campaign)) = (lead.next_call_at, lead.campaign_id)
                    && next <= now
                {
                    due_by_campaign
                        .entry((org, campaign))
                        .or_default()
                        .push(lead);
                }
            }
        }
    }
    if run.due == 0 {
        run.next_due = next_due(&repo, now).await?;
    }
    let records = Records::new(app.store.as_ref());
    for ((org, campaign_id), leads) in due_by_campaign {
        let campaign = records
            .get::<Campaign>(org, &campaign_id.to_string())
            .await?;
        match campaign {
            Some(campaign) if campaign.status == CampaignStatus::Active => {
                run.scheduled += leads.len();
                queue_leads(app, &campaign, leads).await?;
            }
            // Paused: look again in a quarter of an hour (resuming queues them at once).
            Some(campaign) if campaign.status == CampaignStatus::Paused => {
                postpone(app, leads, now + SignedDuration::from_mins(15)).await?;
            }
            // Gone, or over: nothing more is due.
            _ => postpone_forever(app, leads, now).await?,
        }
    }
    run.digests = soraaya_notifications::digest::send_digests(app, now)
        .await?
        .digests;
    if run.due > 0 {
        info!(
            due = run.due,
            scheduled = run.scheduled,
            resent = run.resent,
            checked = run.checked,
            ended = run.ended,
            "scheduler ran"
        );
    }
    Ok(run)
}

/// After a restart of the local process: every call that was live when the
/// process stopped is settled at once, so that none holds a slot or waits
/// for the scheduler's check. A call the voice port still knows ends as it
/// says; one it does not (a simulated conversation dies with the process),
/// and a dial that died before its call was placed, end as cut off by the
/// restart, which does not use one of the lead's attempts. Returns how many
/// calls were settled.
pub async fn settle_calls_after_restart(app: &App) -> Result<usize, CallingError> {
    let repo = LeadsRepo::new(app.store.as_ref());
    let mut settled = 0;
    for shard in 0..DUE_SHARDS {
        let mut pages = std::pin::pin!(query_all(app.store.as_ref(), due_entries(shard, None)));
        while let Some(items) = pages.try_next().await? {
            for item in &items {
                let Some(lead) = lead_of_due_entry(&repo, item).await? else {
                    continue;
                };
                let Some(call) = lead.live_call.clone() else {
                    continue;
                };
                let lost = |call_id: &str| CallReport {
                    call_id: call_id.to_owned(),
                    ended_reason: CallReport::LOST_IN_RESTART.into(),
                    summary: Some("the process restarted during the call".into()),
                    ..CallReport::default()
                };
                let report = match &call.call_id {
                    None => Some(lost("")),
                    Some(call_id) => match app.voice.final_report(call_id).await {
                        Ok(Some(report)) => Some(report),
                        Err(VoiceError::UnknownCall) => Some(lost(call_id)),
                        // Still on the line (a real provider's call): its webhooks will come.
                        Ok(None) => None,
                        Err(err) => {
                            warn!(call_id = %call_id, error = %err, "could not ask the voice provider about a call after a restart; the scheduler will");
                            None
                        }
                    },
                };
                if let Some(report) = report {
                    end_call(app, &metadata(&lead, &call), &report, EndSource::Checked).await?;
                    settled += 1;
                }
            }
        }
    }
    if settled > 0 {
        info!(settled, "calls live at the restart settled");
    }
    Ok(settled)
}

/// One shard of the `by_due` index, page by page: every entry, or those due by `until`.
fn due_entries(shard: u32, until: Option<Timestamp>) -> Query {
    let query = Query::new(&LEADS, format!("DUE#{shard}"))
        .index("by_due")
        .limit(200);
    match until {
        Some(at) => query.sort(SortKeyCondition::Le(format!("{}~", sortable(at)))),
        None => query,
    }
}

/// The lead a `by_due` entry names, if it is still there.
async fn lead_of_due_entry(
    repo: &LeadsRepo<'_>,
    item: &soraaya_store::Item,
) -> Result<Option<Lead>, CallingError> {
    let Some(soraaya_store::AttributeValue::S(due)) = item.get("due_sk") else {
        return Ok(None);
    };
    let mut parts = due.split('#').skip(1);
    let (Some(org), Some(lead)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    let (Ok(org), Ok(lead)) = (OrgId::parse(org), LeadId::parse(lead)) else {
        return Ok(None);
    };
    Ok(repo.lead(org, lead).await?)
}

/// The earliest moment after `now` at which something is due.
async fn next_due(repo: &LeadsRepo<'_>, now: Timestamp) -> Result<Option<Timestamp>, CallingError> {
    let mut earliest: Option<Timestamp> = None;
    for shard in 0..DUE_SHARDS {
        let page = repo
            .query(
                Query::new(&LEADS, format!("DUE#{shard}"))
                    .index("by_due")
                    .sort(SortKeyCondition::Gt(format!("{}~", sortable(now))))
                    .limit(1),
            )
            .await?;
        let first = page
            .items
            .first()
            .and_then(|item| match item.get("due_sk") {
                Some(soraaya_store::AttributeValue::S(due)) => due.split('#').next()?.parse().ok(),
                _ => None,
            });
        earliest = earliest.into_iter().chain(first).min();
    }
    Ok(earliest)
}

fn metadata(lead: &Lead, call: &LiveCall) -> CallMetadata {
    CallMetadata {
        org_id: lead.org_id,
        lead_id: lead.id,
        campaign_id: call.campaign_id,
        attempt: call.attempt,
    }
}

/// Asks how a silent call ended; returns whether it ended now.
async fn check_call(
    app: &App,
    lead: &Lead,
    call: &LiveCall,
    now: Timestamp,
) -> Result<bool, CallingError> {
    let meta = metadata(lead, call);
    let give_up = SignedDuration::try_from(app.config.calling.give_up_after)
        .unwrap_or(SignedDuration::from_hours(2));
    let report = match &call.call_id {
        None if now - call.started_at >= NEVER_PLACED => Some(CallReport {
            ended_reason: "call.start.error-never-placed".into(),
            summary: Some("the dialer stopped before the call was placed".into()),
            ..CallReport::default()
        }),
        None => None,
        Some(call_id) => match app.voice.final_report(call_id).await {
            Ok(Some(report)) => Some(report),
            // The provider has no such call: it never happened, or is gone.
            Err(VoiceError::UnknownCall) => Some(CallReport {
                call_id: call_id.clone(),
                ended_reason: "unknown-error-call-not-found".into(),
                summary: Some("the voice provider does not know this call".into()),
                ..CallReport::default()
            }),
            Ok(None) | Err(_) if now - call.started_at >= give_up => Some(CallReport {
                call_id: call_id.clone(),
                ended_reason: "unknown-error-no-final-report".into(),
                summary: Some("the voice provider never reported how the call ended".into()),
                ..CallReport::default()
            }),
            Ok(None) => None,
            Err(err) => {
                warn!(call_id = %call_id, error = %err, "could not ask the voice provider about a call");
                None
            }
        },
    };
    match report {
        Some(report) => {
            end_call(app, &meta, &report, EndSource::Checked).await?;
            Ok(true)
        }
        None => {
            let mut after = lead.clone();
            if let Some(live) = after.live_call.as_mut() {
                live.check_at = now + RECHECK;
            }
            save_schedule(app, lead, after, now).await?;
            Ok(false)
        }
    }
}

/// Sends a queued dial's message again (a dial in line too: its turn is
/// overdue) and watches it for another while.
async fn resend(app: &App, lead: &Lead, now: Timestamp) -> Result<(), CallingError> {
    let Some(queued) = lead.queued.clone() else {
        return Ok(());
    };
    let watch = crate::line::message_watch(app);
    let mut after = lead.clone();
    if let Some(q) = after.queued.as_mut() {
        q.watch_until = now + watch;
        q.in_line = false;
    }
    if save_schedule(app, lead, after, now).await? {
        let message = DialMessage {
            org_id: lead.org_id,
            lead_id: lead.id,
            campaign_id: queued.campaign_id,
            attempt: queued.attempt,
        };
        app.queue
            .send(&[(message, std::time::Duration::ZERO)])
            .await?;
    }
    Ok(())
}

async fn postpone(app: &App, leads: Vec<Lead>, until: Timestamp) -> Result<(), CallingError> {
    for lead in leads {
        let mut after = lead.clone();
        after.next_call_at = Some(until);
        save_schedule(app, &lead, after, app.clock.now()).await?;
    }
    Ok(())
}

async fn postpone_forever(app: &App, leads: Vec<Lead>, now: Timestamp) -> Result<(), CallingError> {
    for lead in leads {
        let mut after = lead.clone();
        after.next_call_at = None;
        after.next_call_reason = None;
        save_schedule(app, &lead, after, now).await?;
    }
    Ok(())
}
