//! Campaign control: which leads to dial and when, starting, pausing,
//! resuming and stopping, preflight, and pausing a campaign whose calls fail.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use soraaya_domain::{
    Campaign, CampaignAction, CampaignId, CampaignStatus, Lead, LeadId, NotificationKind, OrgId,
    Phone, QueuedDial,
};
use soraaya_store::{Key, Query};
use tracing::{info, warn};
use utoipa::ToSchema;

use super::CallingError;
use super::outcome::CallResult;
use super::queue::{DialMessage, MAX_DELAY};
use super::records::recent_calls;
use crate::App;
use crate::campaigns::records::Records;
use crate::leads::record::campaign_partition;
use crate::leads::repo::{LeadChange, LeadsRepo, WriteError};
use crate::notifications;
use crate::tables::LEADS;

/// Why a lead is not dialled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    NotInCampaign,
    InCall,
    AlreadyQueued,
    DoNotCall,
    NoValidPhone,
    AttemptsExhausted,
    WrongStatus,
    NoCallingHours,
    CampaignEnded,
}

/// What to do with a lead now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    DialNow,
    /// Not yet: at this moment (its next calling hours, or a retry or callback time).
    Defer(Timestamp),
    Skip(SkipReason),
}

/// Decides whether `lead` may be dialled for `campaign` at `now`. A queued
/// lead counts as skipped unless `dialling` (the dialer deciding on it).
pub fn decide(
    lead: &Lead,
    campaign: &Campaign,
    org_zone: &jiff::tz::TimeZone,
    now: Timestamp,
    dialling: bool,
) -> Decision {
    use SkipReason::*;
    if lead.campaign_id != Some(campaign.id) {
        return Decision::Skip(NotInCampaign);
    }
    if lead.live_call.is_some() || lead.status.is_live() {
        return Decision::Skip(InCall);
    }
    if lead.queued.is_some() && !dialling {
        return Decision::Skip(AlreadyQueued);
    }
    if lead.do_not_call {
        return Decision::Skip(DoNotCall);
    }
    if Phone::parse_international(lead.phone_number.as_str()).is_err() {
        return Decision::Skip(NoValidPhone);
    }
    if !lead.status.is_diallable() {
        return Decision::Skip(WrongStatus);
    }
    if lead.call_attempts >= campaign.settings.max_attempts {
        return Decision::Skip(AttemptsExhausted);
    }
    let day_start = |date: jiff::civil::Date| {
        org_zone
            .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
            .ok()
    };
    if let Some(end) = campaign.end_date
        && let Some(after_end) = end.tomorrow().ok().and_then(day_start)
        && now >= after_end
    {
        return Decision::Skip(CampaignEnded);
    }
    let Some(hours) = soraaya_domain::CallingHours::for_lead(
        &lead.timezone,
        lead.timezone_source,
        lead.phone_number.region(),
        campaign.settings.window,
    ) else {
        return Decision::Skip(NoCallingHours);
    };
    let mut earliest = now;
    if let Some(start) = campaign.start_date.and_then(day_start) {
        earliest = earliest.max(start);
    }
    if let Some(next) = lead.next_call_at {
        earliest = earliest.max(next);
    }
    match hours.next_opening(earliest) {
        Some(at) if at <= now => Decision::DialNow,
        Some(at) => Decision::Defer(at),
        None => Decision::Skip(NoCallingHours),
    }
}

/// Every lead of a campaign.
pub async fn campaign_leads(
    app: &App,
    org: OrgId,
    campaign: CampaignId,
) -> Result<Vec<Lead>, CallingError> {
    let repo = LeadsRepo::new(app.store.as_ref());
    let mut leads = Vec::new();
    let mut cursor = None;
    loop {
        let page = repo
            .query(
                Query::new(&LEADS, campaign_partition(org, campaign))
                    .index("by_campaign")
                    .project(["pk", "sk"])
                    .limit(500)
                    .after(cursor.take()),
            )
            .await?;
        let keys: Vec<Key> = page.items.iter().map(Key::of).collect::<Result<_, _>>()?;
        leads.extend(repo.leads_in_order(&keys).await?);
        cursor = page.cursor;
        if cursor.is_none() {
            return Ok(leads);
        }
    }
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
/// dialled later, and sends their messages again for leads already queued.
pub async fn queue_leads(
    app: &App,
    campaign: &Campaign,
    leads: Vec<Lead>,
) -> Result<QueueReport, CallingError> {
    let org = campaign.org_id;
    let organisation = app.organisations.get(app, org).await?;
    let zone = organisation.time_zone.zone();
    let repo = LeadsRepo::new(app.store.as_ref());
    let resend = SignedDuration::try_from(app.config.calling.resend_queued_after)
        .unwrap_or(SignedDuration::from_mins(15));
    let max_delay = SignedDuration::try_from(MAX_DELAY).unwrap_or(SignedDuration::ZERO);
    let mut report = QueueReport::default();
    let mut messages = Vec::new();
    let mut changes = Vec::new();
    let now = app.clock.now();
    for lead in leads {
        match decide(&lead, campaign, &zone, now, false) {
            Decision::DialNow => {
                let attempt = lead.call_attempts + 1;
                let mut after = lead.clone();
                after.queued = Some(QueuedDial {
                    campaign_id: campaign.id,
                    attempt,
                    queued_at: now,
                    // Beyond the longest delay a message is sent with.
                    watch_until: now + resend + max_delay,
                });
                after.next_call_at = None;
                after.next_call_reason = None;
                messages.push(DialMessage {
                    org_id: org,
                    lead_id: lead.id,
                    campaign_id: campaign.id,
                    attempt,
                });
                changes.push(LeadChange::new(Some(lead), Some(after), Vec::new()));
                report.queued += 1;
            }
            Decision::Defer(at) => {
                if lead.next_call_at != Some(at) {
                    let mut after = lead.clone();
                    after.next_call_at = Some(at);
                    after.next_call_reason = after.next_call_reason.or(Some("window".into()));
                    changes.push(LeadChange::new(Some(lead), Some(after), Vec::new()));
                }
                report.deferred += 1;
            }
            Decision::Skip(SkipReason::AlreadyQueued) => {
                if let Some(queued) = &lead.queued
                    && queued.campaign_id == campaign.id
                {
                    messages.push(DialMessage {
                        org_id: org,
                        lead_id: lead.id,
                        campaign_id: campaign.id,
                        attempt: queued.attempt,
                    });
                    report.queued += 1;
                }
            }
            Decision::Skip(reason) => {
                *report
                    .skipped
                    .entry(
                        serde_json::to_value(reason)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default(),
                    )
                    .or_default() += 1;
            }
        }
    }
    let mut sendable: std::collections::HashSet<LeadId> =
        messages.iter().map(|m| m.lead_id).collect();
    for batch in changes.chunks(QUEUE_BATCH) {
        let mut batch = batch.to_vec();
        while !batch.is_empty() {
            match repo.write(org, &zone, now, &batch, Vec::new()).await {
                Ok(()) => break,
                // That lead changed meanwhile: leave it out.
                Err(WriteError::Stale { change } | WriteError::DuplicatePhone { change }) => {
                    let dropped = batch.remove(change);
                    if let Some(lead) = dropped.after.as_ref()
                        && lead.queued.is_some()
                    {
                        sendable.remove(&lead.id);
                        report.queued -= 1;
                    }
                }
                Err(WriteError::Store(err)) => return Err(err.into()),
                Err(WriteError::Extra { .. }) => break,
            }
        }
    }
    // Staggered: the n-th dial is sent about when its slot should come
    // (n ÷ cap calls ahead of it), so that a large campaign does not start
    // with every dial polling for a slot. Dials that find none still wait.
    let pace = app.config.calling.typical_call.as_secs_f64() * 0.8
        / f64::from(campaign.settings.max_concurrent_calls.max(1));
    let messages: Vec<(DialMessage, Duration)> = messages
        .into_iter()
        .filter(|m| sendable.contains(&m.lead_id))
        .enumerate()
        .map(|(n, m)| (m, Duration::from_secs_f64(n as f64 * pace).min(MAX_DELAY)))
        .collect();
    // A failed send is not lost: the queued leads are sent again by the scheduler.
    if let Err(err) = app.queue.send(&messages).await {
        warn!(error = %err, "dial messages not sent; the scheduler will send them again");
    }
    info!(org_id = %org, campaign_id = %campaign.id, queued = report.queued, deferred = report.deferred, "campaign leads queued");
    Ok(report)
}

/// Takes a campaign's leads out of the queue and the schedule.
pub async fn unqueue(app: &App, campaign: &Campaign) -> Result<usize, CallingError> {
    let org = campaign.org_id;
    let organisation = app.organisations.get(app, org).await?;
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
    for batch in changes.chunks(QUEUE_BATCH) {
        let mut batch = batch.to_vec();
        while !batch.is_empty() {
            match repo.write(org, &zone, now, &batch, Vec::new()).await {
                Ok(()) => break,
                Err(WriteError::Stale { change }) => {
                    batch.remove(change);
                }
                Err(WriteError::Store(err)) => return Err(err.into()),
                Err(_) => break,
            }
        }
    }
    Ok(count)
}

pub async fn campaign(app: &App, org: OrgId, id: CampaignId) -> Result<Campaign, CallingError> {
    Records::new(app.store.as_ref())
        .get::<Campaign>(org, &id.to_string())
        .await?
        .ok_or(CallingError::CampaignNotFound)
}

/// Moves a campaign through its lifecycle and does what that means for its leads.
pub async fn act(
    app: &App,
    org: OrgId,
    id: CampaignId,
    action: CampaignAction,
    reason: Option<String>,
) -> Result<(Campaign, Option<QueueReport>), CallingError> {
    let records = Records::new(app.store.as_ref());
    for _ in 0..3 {
        let before = campaign(app, org, id).await?;
        let status = before.status.after(action)?;
        let mut after = before.clone();
        after.status = status;
        after.paused_reason = if status == CampaignStatus::Paused {
            reason.clone()
        } else {
            None
        };
        after.version = before.version + 1;
        after.updated_at = app.clock.now();
        match records.replace(&after, before.version, Vec::new()).await {
            Ok(()) => {}
            Err(soraaya_store::StoreError::Conflict { .. }) => continue,
            Err(err) => return Err(err.into()),
        }
        info!(org_id = %org, campaign_id = %id, status = %status, "campaign moved");
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
        return Ok((after, report));
    }
    Err(crate::leads::service::LeadError::ChangedConcurrently.into())
}

/// How many recent calls the failure check looks at, and how many it needs.
const RECENT_CALLS: u32 = 10;
const FEWEST_FOR_VERDICT: usize = 6;

/// Pauses a campaign when more than half of its recent calls failed, and
/// tells people.
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
    if recent.len() < FEWEST_FOR_VERDICT || failed * 2 <= recent.len() {
        return Ok(());
    }
    let Ok(current) = campaign(app, org, campaign_id).await else {
        return Ok(());
    };
    if current.status != CampaignStatus::Active {
        return Ok(());
    }
    let reason = format!("{failed} of the last {} calls failed", recent.len());
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

pub async fn preflight(app: &App, campaign: &Campaign) -> Result<Preflight, CallingError> {
    let organisation = app.organisations.get(app, campaign.org_id).await?;
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
                let name = serde_json::to_value(reason)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                *preflight.skipped.entry(name).or_default() += 1;
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
pub(super) async fn save_schedule(
    app: &App,
    before: &Lead,
    mut after: Lead,
    now: Timestamp,
) -> Result<bool, CallingError> {
    let organisation = app.organisations.get(app, before.org_id).await?;
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
