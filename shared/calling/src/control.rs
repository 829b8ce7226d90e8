//! Campaign control: which leads to dial and when, starting, pausing,
//! resuming and stopping, preflight, and pausing a campaign whose calls fail.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::TryStreamExt;
use jiff::Timestamp;
use serde::Serialize;
use soraaya_core::App;
use soraaya_core::paging::query_all;
use soraaya_core::queue::DialMessage;
use soraaya_core::records::{Change, Records};
use soraaya_core::tables::LEADS;
use soraaya_domain::eligibility::{Decision, SkipReason, decide};
use soraaya_domain::{
    CallResult, Campaign, CampaignAction, CampaignId, CampaignStatus, Lead, LeadId,
    NotificationKind, OrgId, QueuedDial,
};
use soraaya_leads::counters::Scope;
use soraaya_leads::record::campaign_partition;
use soraaya_leads::repo::{LeadChange, LeadsRepo, WriteError};
use soraaya_notifications as notifications;
use soraaya_store::{Key, Query};
use tracing::{info, warn};
use utoipa::ToSchema;

use crate::records::{SlotScope, live_calls, live_calls_in, recent_calls};
use crate::{CallingError, line};

/// Every lead of a campaign.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org, campaign_id = %campaign))]
pub async fn campaign_leads(
    app: &App,
    org: OrgId,
    campaign: CampaignId,
) -> Result<Vec<Lead>, CallingError> {
    let repo = LeadsRepo::new(app.store.as_ref());
    let query = Query::new(&LEADS, campaign_partition(org, campaign))
        .index("by_campaign")
        .project(["pk", "sk"])
        .limit(500);
    let mut pages = std::pin::pin!(query_all(app.store.as_ref(), query));
    let mut leads = Vec::new();
    while let Some(items) = pages.try_next().await? {
        let keys: Vec<Key> = items.iter().map(Key::of).collect::<Result<_, _>>()?;
        leads.extend(repo.leads_in_order(&keys).await?);
    }
    Ok(leads)
}

/// What queueing a campaign's leads did.
#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct QueueReport {
    /// Sent to the dialer now.
    pub queued: usize,
    /// Outside their calling hours (or with a retry or callback later): the
    /// scheduler queues them when the time comes.
    pub deferred: usize,
    pub skipped: BTreeMap<String, usize>,
}

/// Leads written per transaction while queueing.
const QUEUE_BATCH: usize = 30;

/// Queues the leads that may be dialled now, schedules those that may be
/// dialled later, and queues again the leads already queued for the
/// campaign. Dials go out for the slots free now, promised callbacks that
/// are due first (all of them: they hold the next slot when none is free);
/// the others join the campaign's line in order, and the end of each call
/// sends the next ([`crate::line`]).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn queue_leads(
    app: &App,
    campaign: &Campaign,
    leads: Vec<Lead>,
) -> Result<QueueReport, CallingError> {
    let org = campaign.org_id;
    let organisation = soraaya_accounts::org(app, org).await?;
    let zone = organisation.time_zone.zone();
    let repo = LeadsRepo::new(app.store.as_ref());
    let resend = line::message_watch(app);
    let scopes = [SlotScope::Campaign(campaign.id), SlotScope::Organisation];
    let live = live_calls_in(app.store.as_ref(), org, &scopes).await?;
    let free = campaign
        .settings
        .max_concurrent_calls
        .saturating_sub(live[0])
        .min(
            organisation
                .settings
                .live_call_cap(app.config.calling.org_max_live_calls)
                .saturating_sub(live[1]),
        ) as usize;
    let (_, average_call) = line::campaign_pace(app, campaign).await?;
    let mut report = QueueReport::default();
    let mut messages = Vec::new();
    let mut changes = Vec::new();
    let mut in_line = 0usize;
    let now = app.clock.now();
    let (callbacks, others): (Vec<Lead>, Vec<Lead>) =
        leads.into_iter().partition(|l| l.callback_due(now));
    let leads = callbacks
        .into_iter()
        .map(|lead| (lead, true))
        .chain(others.into_iter().map(|lead| (lead, false)));
    for (lead, callback) in leads {
        let mut queued = match decide(&lead, campaign, &zone, now, false) {
            Decision::DialNow => QueuedDial {
                campaign_id: campaign.id,
                attempt: lead.call_attempts + 1,
                queued_at: now,
                watch_until: now,
                in_line: false,
            },
            Decision::Skip(SkipReason::AlreadyQueued) => match &lead.queued {
                Some(queued) if queued.campaign_id == campaign.id => queued.clone(),
                // Queued for another campaign.
                _ => {
                    *report
                        .skipped
                        .entry(SkipReason::AlreadyQueued.as_str().to_owned())
                        .or_default() += 1;
                    continue;
                }
            },
            Decision::Defer(at) => {
                if lead.next_call_at != Some(at) {
                    let mut after = lead.clone();
                    after.next_call_at = Some(at);
                    after.next_call_reason = after.next_call_reason.or(Some("window".into()));
                    changes.push(LeadChange::new(Some(lead), Some(after), Vec::new()));
                }
                report.deferred += 1;
                continue;
            }
            Decision::Skip(reason) => {
                *report
                    .skipped
                    .entry(reason.as_str().to_owned())
                    .or_default() += 1;
                continue;
            }
        };
        queued.in_line = !callback && messages.len() >= free;
        if queued.in_line {
            queued.watch_until =
                line::watch_until(app, campaign, in_line as f64, average_call, now);
            in_line += 1;
        } else {
            queued.watch_until = now + resend;
            messages.push(DialMessage {
                org_id: org,
                lead_id: lead.id,
                campaign_id: campaign.id,
                attempt: queued.attempt,
            });
        }
        let mut after = lead.clone();
        after.queued = Some(queued);
        after.next_call_at = None;
        after.next_call_reason = None;
        changes.push(LeadChange::new(Some(lead), Some(after), Vec::new()));
        report.queued += 1;
    }
    let mut sendable: std::collections::HashSet<LeadId> =
        messages.iter().map(|m| m.lead_id).collect();
    // A lead that changed meanwhile is left out.
    for dropped in repo
        .write_each(org, &zone, now, changes, QUEUE_BATCH)
        .await?
    {
        if let Some(lead) = dropped.after.as_ref()
            && lead.queued.is_some()
        {
            sendable.remove(&lead.id);
            report.queued -= 1;
        }
    }
    let messages: Vec<(DialMessage, Duration)> = messages
        .into_iter()
        .filter(|m| sendable.contains(&m.lead_id))
        .map(|m| (m, Duration::ZERO))
        .collect();
    // A failed send is not lost: the queued leads are sent again by the scheduler.
    if let Err(err) = app.queue.send(&messages).await {
        warn!(error = %err, "dial messages not sent; the scheduler will send them again");
    }
    // Calls that ended while the line formed found it empty: their slots
    // go to the first in line now.
    if in_line > 0 {
        let live_now = live_calls_in(app.store.as_ref(), org, &scopes[..1]).await?;
        let ended = live[0].saturating_sub(live_now[0]) as usize;
        if ended > 0 {
            line::call_next(app, org, campaign.id, ended).await?;
        }
    }
    info!(org_id = %org, campaign_id = %campaign.id, queued = report.queued, in_line, deferred = report.deferred, "campaign leads queued");
    Ok(report)
}

/// Takes a campaign's leads out of the queue and the schedule.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn unqueue(app: &App, campaign: &Campaign) -> Result<usize, CallingError> {
    let org = campaign.org_id;
    let organisation = soraaya_accounts::org(app, org).await?;
    let zone = organisation.time_zone.zone();
    let repo = LeadsRepo::new(app.store.as_ref());
    let now = app.clock.now();
    let changes: Vec<LeadChange> = campaign_leads(app, org, campaign.id)
        .await?
        .into_iter()
        .filter(|l| l.queued.is_some() || l.next_call_at.is_some())
        .map(|lead| {
            let mut after = lead.clone();
            after.queued = None;
            after.next_call_at = None;
            after.next_call_reason = None;
            LeadChange::new(Some(lead), Some(after), Vec::new())
        })
        .collect();
    let count = changes.len();
    repo.write_each(org, &zone, now, changes, QUEUE_BATCH)
        .await?;
    Ok(count)
}

#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn campaign(app: &App, org: OrgId, id: CampaignId) -> Result<Campaign, CallingError> {
    Records::new(app.store.as_ref())
        .get::<Campaign>(org, &id.to_string())
        .await?
        .ok_or(CallingError::CampaignNotFound)
}

/// Moves a campaign through its lifecycle and does what that means for its leads.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn act(
    app: &App,
    org: OrgId,
    id: CampaignId,
    action: CampaignAction,
    reason: Option<String>,
) -> Result<(Campaign, Option<QueueReport>), CallingError> {
    let reason = &reason;
    let after = Records::new(app.store.as_ref())
        .update(
            org,
            &id.to_string(),
            None,
            app.clock.as_ref(),
            |before: Campaign| async move {
                let status = before.status.after(action)?;
                let mut after = before;
                after.status = status;
                after.paused_reason = (status == CampaignStatus::Paused)
                    .then(|| reason.clone())
                    .flatten();
                Ok::<_, CallingError>(Some(Change::to(after)))
            },
        )
        .await?;
    info!(org_id = %org, campaign_id = %id, status = %after.status, "campaign moved");
    let report = match action {
        CampaignAction::Start | CampaignAction::Resume => {
            let leads = campaign_leads(app, org, id).await?;
            Some(queue_leads(app, &after, leads).await?)
        }
        CampaignAction::Stop | CampaignAction::Archive => {
            unqueue(app, &after).await?;
            None
        }
        CampaignAction::Pause => None,
    };
    Ok((after, report))
}

/// How many recent calls the failure check looks at, and how many it needs.
const RECENT_CALLS: u32 = 10;
const FEWEST_FOR_VERDICT: usize = 6;

/// Pauses a campaign when more than half of its recent calls failed, and
/// tells people. Calls still on the line count as not failed: failures end
/// within seconds, so at the start of a campaign the first calls to end are
/// its failures, and judging only ended calls would pause a healthy campaign
/// whose first few short calls happened to fail.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org, campaign_id = %campaign_id))]
pub async fn check_failures(
    app: &App,
    org: OrgId,
    campaign_id: CampaignId,
) -> Result<(), CallingError> {
    let recent = recent_calls(app.store.as_ref(), org, campaign_id, RECENT_CALLS).await?;
    let failed = recent
        .iter()
        .filter(|c| c.result == Some(CallResult::Failed))
        .count();
    if recent.len() < FEWEST_FOR_VERDICT {
        return Ok(());
    }
    let live = live_calls(app.store.as_ref(), org, SlotScope::Campaign(campaign_id)).await?;
    let judged = recent.len() + usize::try_from(live).unwrap_or(usize::MAX);
    if failed * 2 <= judged {
        return Ok(());
    }
    let Ok(current) = campaign(app, org, campaign_id).await else {
        return Ok(());
    };
    if current.status != CampaignStatus::Active {
        return Ok(());
    }
    let reason = format!("{failed} of the last {judged} calls failed");
    let (paused, _) = match act(
        app,
        org,
        campaign_id,
        CampaignAction::Pause,
        Some(reason.clone()),
    )
    .await
    {
        Ok(done) => done,
        // Someone paused or stopped it meanwhile.
        Err(CallingError::CampaignAction(_)) => return Ok(()),
        Err(err) => return Err(err),
    };
    warn!(org_id = %org, campaign_id = %campaign_id, failed, "campaign paused: calls are failing");
    let now = app.clock.now();
    let note = notifications::notification(
        NotificationKind::CampaignPaused,
        org,
        None,
        Some(&paused),
        &format!(
            "{reason}; the campaign paused itself. Check the voice provider and the numbers, then resume."
        ),
        &format!("campaign:{campaign_id}:paused:{}", now.as_second()),
        now,
    );
    app.store
        .transact_write(vec![notifications::put_op(&note)?])
        .await?;
    Ok(())
}

/// Fewest ended calls of a campaign, and of the organisation's other
/// campaigns, before their rates are compared.
const FEWEST_FOR_COMPARISON: u64 = 20;

/// A campaign's rate below this share of the other campaigns' asks for an adjustment.
const FAR_BELOW: f64 = 0.5;

/// Tells people when a campaign connects or qualifies far below the
/// organisation's other campaigns (under half their rate, both with enough
/// calls to tell), once per campaign and measure.
pub async fn check_performance(app: &App, campaign: &Campaign) -> Result<(), CallingError> {
    let org = campaign.org_id;
    let tallies = LeadsRepo::new(app.store.as_ref())
        .counters_of(org, &[Scope::Campaign(campaign.id), Scope::All])
        .await?;
    let (mine, all) = (&tallies[0], &tallies[1]);
    let others_ended = all.calls_ended.saturating_sub(mine.calls_ended);
    if mine.calls_ended < FEWEST_FOR_COMPARISON || others_ended < FEWEST_FOR_COMPARISON {
        return Ok(());
    }
    let rate = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
    let connected = |t: &soraaya_leads::counters::Tally| t.calls(CallResult::Connected);
    let qualified =
        |t: &soraaya_leads::counters::Tally| t.status(soraaya_domain::LeadStatus::Qualified);
    let measures = [
        (
            "connect",
            "connects",
            "of its calls",
            rate(connected(mine), mine.calls_ended),
            rate(connected(all).saturating_sub(connected(mine)), others_ended),
        ),
        (
            "qualification",
            "qualifies",
            "of the leads it called",
            rate(qualified(mine), mine.called),
            rate(
                qualified(all).saturating_sub(qualified(mine)),
                all.called.saturating_sub(mine.called),
            ),
        ),
    ];
    let now = app.clock.now();
    for (measure, verb, of_what, own, others) in measures {
        let (Some(own), Some(others)) = (own, others) else {
            continue;
        };
        if others <= 0.0 || own >= others * FAR_BELOW {
            continue;
        }
        let detail = format!(
            "{} {verb} {:.0}% {of_what} against {:.0}% for the organisation's other campaigns.",
            campaign.name,
            own * 100.0,
            others * 100.0
        );
        let note = notifications::notification(
            NotificationKind::CampaignAdjustment,
            org,
            None,
            Some(campaign),
            &detail,
            &format!("campaign:{}:adjustment:{measure}", campaign.id),
            now,
        );
        if notifications::record_once(app.store.as_ref(), &note).await? {
            warn!(org_id = %org, campaign_id = %campaign.id, measure, own, others, "campaign underperforms");
        }
    }
    Ok(())
}

/// One lead in a preflight.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PreflightLead {
    pub lead_id: LeadId,
    pub contact_person: String,
    /// `dial_now`, `deferred` or `skipped`.
    pub decision: &'static str,
    pub reason: Option<SkipReason>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub dial_at: Option<Timestamp>,
}

/// What starting (or resuming) the campaign now would do.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Preflight {
    pub dial_now: usize,
    pub deferred: usize,
    pub skipped: BTreeMap<String, usize>,
    /// The first 500 leads with their decision.
    pub leads: Vec<PreflightLead>,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn preflight(app: &App, campaign: &Campaign) -> Result<Preflight, CallingError> {
    let organisation = soraaya_accounts::org(app, campaign.org_id).await?;
    let zone = organisation.time_zone.zone();
    let now = app.clock.now();
    let mut preflight = Preflight {
        dial_now: 0,
        deferred: 0,
        skipped: BTreeMap::new(),
        leads: Vec::new(),
    };
    for lead in campaign_leads(app, campaign.org_id, campaign.id).await? {
        let decision = decide(&lead, campaign, &zone, now, false);
        let (label, reason, at) = match decision {
            Decision::DialNow => {
                preflight.dial_now += 1;
                ("dial_now", None, Some(now))
            }
            Decision::Defer(at) => {
                preflight.deferred += 1;
                ("deferred", None, Some(at))
            }
            Decision::Skip(reason) => {
                *preflight
                    .skipped
                    .entry(reason.as_str().to_owned())
                    .or_default() += 1;
                ("skipped", Some(reason), None)
            }
        };
        if preflight.leads.len() < 500 {
            preflight.leads.push(PreflightLead {
                lead_id: lead.id,
                contact_person: lead.contact_person.to_string(),
                decision: label,
                reason,
                dial_at: at,
            });
        }
    }
    Ok(preflight)
}

/// Writes a change to when a lead is dialled (its queued dial or its next
/// call); `false` if the lead changed meanwhile and the change was not made.
pub(crate) async fn save_schedule(
    app: &App,
    before: &Lead,
    mut after: Lead,
    now: Timestamp,
) -> Result<bool, CallingError> {
    let organisation = soraaya_accounts::org(app, before.org_id).await?;
    after.version = before.version + 1;
    let change = LeadChange::new(Some(before.clone()), Some(after), Vec::new());
    match LeadsRepo::new(app.store.as_ref())
        .write(
            before.org_id,
            &organisation.time_zone.zone(),
            now,
            &[change],
            Vec::new(),
        )
        .await
    {
        Ok(()) => Ok(true),
        Err(WriteError::Store(err)) => Err(err.into()),
        Err(_) => Ok(false),
    }
}
