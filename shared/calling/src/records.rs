//! What the calling engine stores: each campaign's live-call slots, call
//! attempts, telephony call ids, and transcripts.

use futures::TryStreamExt;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use soraaya_analytics::Analysis;
use soraaya_core::keys::{keyed_item, sortable};
use soraaya_core::paging::{collect_all, query_all};
use soraaya_core::tables::{CALLS, CAMPAIGNS, TRANSCRIPTS};
use soraaya_domain::{
    CallMetadata, CallResult, CampaignId, DataRetention, LeadId, LeadStatus, OrgId, TranscriptId,
    TranscriptLine,
};
use soraaya_store::{
    AttributeValue, BatchOp, Condition, ItemStore, Key, Put, Query, SortKeyCondition, StoreError,
    Update, UpdateItem, WriteOp, from_item,
};
use utoipa::ToSchema;

/// How long telephony call ids are remembered.
const TELEPHONY_MEMORY_SECONDS: i64 = 14 * 86_400;

/// Where live calls are counted: one campaign, or the whole organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotScope {
    Campaign(CampaignId),
    Organisation,
}

fn slots_key(org: OrgId, scope: SlotScope) -> Key {
    match scope {
        SlotScope::Campaign(campaign) => {
            Key::new(format!("ORG#{org}#CAMPAIGN#{campaign}"), "SLOTS")
        }
        SlotScope::Organisation => Key::new(format!("ORG#{org}"), "SLOTS"),
    }
}

/// Until when (epoch seconds) the campaign's next free slot is held for a
/// promised callback that is due and waiting.
const HELD_FOR_CALLBACK: &str = "held_for_callback_until";

/// Who takes a slot: any dial, or a promised callback that is due (which
/// may take a slot held for callbacks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claimant {
    Dial,
    DueCallback,
}

fn below_cap(cap: u32) -> Condition {
    Condition::not_exists("live").or(Condition::lt("live", cap))
}

/// Takes a live-call slot of the campaign and one of the organisation, if
/// fewer than their caps are taken and, for a plain dial, the campaign's
/// next slot is not held for a due callback. Both or neither, in the lead's
/// transaction; a failed condition on either means "no slot now".
pub fn take_slots(
    org: OrgId,
    campaign: CampaignId,
    campaign_cap: u32,
    org_cap: u32,
    claimant: Claimant,
    now: Timestamp,
) -> [WriteOp; 2] {
    let (condition, update) = match claimant {
        Claimant::Dial => (
            below_cap(campaign_cap).and(
                Condition::not_exists(HELD_FOR_CALLBACK)
                    .or(Condition::lt(HELD_FOR_CALLBACK, now.as_second())),
            ),
            Update::new().add("live", 1),
        ),
        // The callback takes what was held for it; another waiting callback
        // holds the next slot again when it next looks.
        Claimant::DueCallback => (
            below_cap(campaign_cap),
            Update::new().add("live", 1).remove(HELD_FOR_CALLBACK),
        ),
    };
    [
        UpdateItem::new(
            &CAMPAIGNS,
            slots_key(org, SlotScope::Campaign(campaign)),
            update,
        )
        .when(condition)
        .into(),
        UpdateItem::new(
            &CAMPAIGNS,
            slots_key(org, SlotScope::Organisation),
            Update::new().add("live", 1),
        )
        .when(below_cap(org_cap))
        .into(),
    ]
}

/// Holds the campaign's next free slot for a due callback until `until`:
/// without it, a callback that polls for a slot races every waiting dial
/// and can lose for minutes. The hold lapses by itself if the callback's
/// message is lost.
pub async fn hold_slot_for_callback(
    store: &dyn ItemStore,
    org: OrgId,
    campaign: CampaignId,
    until: Timestamp,
) -> Result<(), StoreError> {
    store
        .update(UpdateItem::new(
            &CAMPAIGNS,
            slots_key(org, SlotScope::Campaign(campaign)),
            Update::new().set(HELD_FOR_CALLBACK, until.as_second()),
        ))
        .await?;
    Ok(())
}

/// Gives the slots back. Only the write that ends the lead's call does this,
/// so each slot taken is given back exactly once.
pub fn release_slots(org: OrgId, campaign: CampaignId) -> [WriteOp; 2] {
    [SlotScope::Campaign(campaign), SlotScope::Organisation].map(|scope| {
        UpdateItem::new(
            &CAMPAIGNS,
            slots_key(org, scope),
            Update::new().add("live", -1),
        )
        .into()
    })
}

/// Slots taken now.
pub async fn live_calls(
    store: &dyn ItemStore,
    org: OrgId,
    scope: SlotScope,
) -> Result<u32, StoreError> {
    Ok(store
        .get(&CAMPAIGNS, slots_key(org, scope))
        .await?
        .as_ref()
        .map_or(0, live_of))
}

/// The slot items of `scopes`, in their order (`None`: never taken), read
/// in one request.
async fn slot_items(
    store: &dyn ItemStore,
    org: OrgId,
    scopes: &[SlotScope],
) -> Result<Vec<Option<soraaya_store::Item>>, StoreError> {
    let keys: Vec<Key> = scopes.iter().map(|scope| slots_key(org, *scope)).collect();
    let mut items = store.get_many(&CAMPAIGNS, keys.clone()).await?;
    Ok(keys
        .iter()
        .map(|key| {
            let at = items.iter().position(
                |item| matches!(item.get("pk"), Some(AttributeValue::S(pk)) if *pk == key.pk),
            )?;
            Some(items.swap_remove(at))
        })
        .collect())
}

/// Live calls now in each of `scopes`, read in one request.
pub async fn live_calls_in(
    store: &dyn ItemStore,
    org: OrgId,
    scopes: &[SlotScope],
) -> Result<Vec<u32>, StoreError> {
    Ok(slot_items(store, org, scopes)
        .await?
        .iter()
        .map(|item| item.as_ref().map_or(0, live_of))
        .collect())
}

/// Whether a plain dial of the campaign would find a slot now: fewer live
/// calls than the campaign's and the organisation's caps, and no slot held
/// for a due callback (the conditions of [`take_slots`] for [`Claimant::Dial`]).
pub async fn slot_free_for_dial(
    store: &dyn ItemStore,
    org: OrgId,
    campaign: CampaignId,
    caps: (u32, u32),
    now: Timestamp,
) -> Result<bool, StoreError> {
    let scopes = [SlotScope::Campaign(campaign), SlotScope::Organisation];
    let slots = slot_items(store, org, &scopes).await?;
    let (of_campaign, of_org) = (slots[0].as_ref(), slots[1].as_ref());
    let held = of_campaign
        .and_then(|item| match item.get(HELD_FOR_CALLBACK) {
            Some(AttributeValue::N(until)) => until.parse::<i64>().ok(),
            _ => None,
        })
        .is_some_and(|until| until >= now.as_second());
    Ok(!held && of_campaign.map_or(0, live_of) < caps.0 && of_org.map_or(0, live_of) < caps.1)
}

fn live_of(item: &soraaya_store::Item) -> u32 {
    match item.get("live") {
        Some(AttributeValue::N(n)) => {
            u32::try_from(n.parse::<i64>().unwrap_or(0).max(0)).unwrap_or(u32::MAX)
        }
        _ => 0,
    }
}

/// One call attempt on one lead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CallAttempt {
    pub org_id: OrgId,
    pub lead_id: LeadId,
    pub campaign_id: CampaignId,
    pub attempt: u32,
    pub call_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<Timestamp>,
    pub result: Option<CallResult>,
    pub ended_reason: Option<String>,
    pub status_after: Option<LeadStatus>,
    pub duration_seconds: Option<f64>,
    pub cost: Option<f64>,
    /// The campaign's A/B variant the lead is in, when it tests one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl CallAttempt {
    fn key(&self) -> Key {
        Key::new(
            format!("ORG#{}#LEAD#{}", self.org_id, self.lead_id),
            format!("ATTEMPT#{:04}", self.attempt),
        )
    }

    /// The record, listed among its campaign's recent calls once ended.
    pub fn put(&self) -> Result<WriteOp, StoreError> {
        let mut item = keyed_item(&self.key(), self)?;
        if let Some(ended) = self.ended_at {
            item.insert(
                "campaign_pk".into(),
                AttributeValue::S(format!("ORG#{}#{}", self.org_id, self.campaign_id)),
            );
            item.insert(
                "ended_sk".into(),
                AttributeValue::S(format!(
                    "{}#{}#{:04}",
                    sortable(ended),
                    self.lead_id,
                    self.attempt
                )),
            );
        }
        Ok(Put::new(&CALLS, item).into())
    }
}

/// The last `n` ended calls of a campaign, newest first.
pub async fn recent_calls(
    store: &dyn ItemStore,
    org: OrgId,
    campaign: CampaignId,
    n: u32,
) -> Result<Vec<CallAttempt>, StoreError> {
    let page = store
        .query(
            Query::new(&CALLS, format!("ORG#{org}#{campaign}"))
                .index("by_campaign_ended")
                .backward()
                .limit(n),
        )
        .await?;
    page.items.into_iter().map(from_item).collect()
}

/// Up to `limit` calls of a campaign that ended from `from` to `to` (both
/// included), newest first: a range of the campaign's ended-calls index.
pub async fn calls_ended_between(
    store: &dyn ItemStore,
    org: OrgId,
    campaign: CampaignId,
    from: Timestamp,
    to: Timestamp,
    limit: usize,
) -> Result<Vec<CallAttempt>, StoreError> {
    let mut calls = Vec::new();
    let mut cursor = None;
    loop {
        let wanted = u32::try_from(limit - calls.len()).unwrap_or(u32::MAX);
        let page = store
            .query(
                Query::new(&CALLS, format!("ORG#{org}#{campaign}"))
                    .index("by_campaign_ended")
                    .sort(SortKeyCondition::Between(
                        sortable(from),
                        // Past every lead and attempt of the last instant.
                        format!("{}~", sortable(to)),
                    ))
                    .backward()
                    .limit(wanted)
                    .after(cursor.take()),
            )
            .await?;
        for item in page.items {
            calls.push(from_item(item)?);
        }
        cursor = page.cursor;
        if cursor.is_none() || calls.len() >= limit {
            return Ok(calls);
        }
    }
}

/// Which attempt a telephony call (Twilio CallSid) belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TelephonyCall {
    pub org_id: OrgId,
    pub lead_id: LeadId,
    pub attempt: u32,
    pub expires_at: i64,
}

fn telephony_key(sid: &str) -> Key {
    Key::new(format!("TWILIO#{sid}"), "CALL")
}

pub fn remember_telephony_call(sid: &str, call: &TelephonyCall) -> Result<WriteOp, StoreError> {
    Ok(Put::new(&CALLS, keyed_item(&telephony_key(sid), call)?).into())
}

pub fn telephony_call(org: OrgId, lead: LeadId, attempt: u32, now: Timestamp) -> TelephonyCall {
    TelephonyCall {
        org_id: org,
        lead_id: lead,
        attempt,
        expires_at: now.as_second() + TELEPHONY_MEMORY_SECONDS,
    }
}

pub async fn find_telephony_call(
    store: &dyn ItemStore,
    sid: &str,
) -> Result<Option<TelephonyCall>, StoreError> {
    store
        .get(&CALLS, telephony_key(sid))
        .await?
        .map(from_item)
        .transpose()
}

/// Which attempt a VAPI call belongs to: the webhook finds a call by its id
/// first, and by the metadata VAPI echoes only when the id is not known yet
/// (a status can arrive before `POST /call` has answered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoiceCall {
    #[serde(flatten)]
    pub call: CallMetadata,
    pub expires_at: i64,
}

fn voice_call_key(call_id: &str) -> Key {
    Key::new(format!("VAPI#{call_id}"), "CALL")
}

pub fn remember_voice_call(
    call_id: &str,
    call: &CallMetadata,
    now: Timestamp,
) -> Result<WriteOp, StoreError> {
    let record = VoiceCall {
        call: call.clone(),
        expires_at: now.as_second() + TELEPHONY_MEMORY_SECONDS,
    };
    Ok(Put::new(&CALLS, keyed_item(&voice_call_key(call_id), &record)?).into())
}

pub async fn find_voice_call(
    store: &dyn ItemStore,
    call_id: &str,
) -> Result<Option<CallMetadata>, StoreError> {
    Ok(store
        .get(&CALLS, voice_call_key(call_id))
        .await?
        .map(from_item::<VoiceCall>)
        .transpose()?
        .map(|v| v.call))
}

/// A call's transcript and what was made of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Transcript {
    pub id: TranscriptId,
    pub org_id: OrgId,
    pub lead_id: LeadId,
    pub call_id: String,
    pub campaign_id: Option<CampaignId>,
    pub attempt: u32,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<Timestamp>,
    /// Seconds.
    pub call_duration: Option<f64>,
    /// US dollars.
    pub cost: Option<f64>,
    pub ended_reason: String,
    pub call_outcome: CallResult,
    /// The lead's status after this call.
    pub lead_status: Option<LeadStatus>,
    pub messages: Vec<TranscriptLine>,
    pub summary: Option<String>,
    /// What the assistant extracted (interest, budget, timeline, callback...).
    #[schema(value_type = Object)]
    pub structured_data: Value,
    pub qualification_score: Option<u8>,
    /// `positive`, `neutral` or `negative`.
    pub sentiment: Option<String>,
    pub objections: Vec<String>,
    pub recording_url: Option<String>,
    /// Soraaya's own analysis of the words: sentiment of each utterance,
    /// objections, mentions, action items, criteria covered and the score's
    /// factors. Absent for calls without words, and for calls stored before
    /// the analysis existed.
    #[serde(default)]
    pub analysis: Option<Analysis>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When the organisation's retention deletes it (epoch seconds); absent:
    /// kept as long as the lead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

fn guard_key(org: OrgId, call_id: &str) -> Key {
    Key::new(format!("ORG#{org}#CALL#{call_id}"), "TRANSCRIPT")
}

#[derive(Serialize, Deserialize)]
struct TranscriptGuard {
    lead_id: LeadId,
    sk: String,
    /// The transcript's own end, so the guard goes with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
}

impl Transcript {
    fn key(&self) -> Key {
        let at = self.started_at.unwrap_or(self.created_at);
        Key::new(
            format!("ORG#{}#LEAD#{}", self.org_id, self.lead_id),
            format!("CALL#{}#{}", sortable(at), self.call_id),
        )
    }

    /// The writes that store it, once per call (a second report of the same
    /// call fails the guard), to be deleted when `retention` says.
    pub fn puts(&mut self, retention: DataRetention) -> Result<Vec<WriteOp>, StoreError> {
        self.expires_at = retention
            .transcript_days
            .map(|days| self.created_at.as_second() + i64::from(days) * 86_400);
        let key = self.key();
        let guard = TranscriptGuard {
            lead_id: self.lead_id,
            sk: key.sk.clone(),
            expires_at: self.expires_at,
        };
        Ok(vec![
            Put::new(
                &TRANSCRIPTS,
                keyed_item(&guard_key(self.org_id, &self.call_id), &guard)?,
            )
            .if_absent()
            .into(),
            Put::new(&TRANSCRIPTS, keyed_item(&key, self)?).into(),
        ])
    }
}

pub async fn transcript_exists(
    store: &dyn ItemStore,
    org: OrgId,
    call_id: &str,
) -> Result<bool, StoreError> {
    Ok(store
        .get(&TRANSCRIPTS, guard_key(org, call_id))
        .await?
        .is_some())
}

/// What `retention` lets be read of transcripts at `now`: none past the
/// days transcripts are kept (even before the store's TTL removes them,
/// which takes up to days, and for those written under a longer
/// retention), and no recording reference past the days recordings are.
pub fn retained(
    transcripts: Vec<Transcript>,
    retention: DataRetention,
    now: Timestamp,
) -> Vec<Transcript> {
    let age_days = |t: &Transcript| now.duration_since(t.created_at).as_secs() / 86_400;
    transcripts
        .into_iter()
        .filter(|t| {
            retention
                .transcript_days
                .is_none_or(|days| age_days(t) < i64::from(days))
        })
        .map(|mut t| {
            if retention
                .recording_days
                .is_some_and(|days| age_days(&t) >= i64::from(days))
            {
                t.recording_url = None;
            }
            t
        })
        .collect()
}

/// A lead's transcripts, newest first.
pub async fn transcripts_of(
    store: &dyn ItemStore,
    org: OrgId,
    lead: LeadId,
) -> Result<Vec<Transcript>, StoreError> {
    collect_all(
        store,
        Query::new(&TRANSCRIPTS, format!("ORG#{org}#LEAD#{lead}"))
            .begins_with("CALL#")
            .backward(),
    )
    .await
}

/// Deletes a lead's transcripts and call attempts (erasure).
pub async fn erase_calls_of(
    store: &dyn ItemStore,
    org: OrgId,
    lead: LeadId,
) -> Result<(), StoreError> {
    let transcripts = transcripts_of(store, org, lead).await?;
    let mut ops: Vec<BatchOp> = Vec::new();
    for transcript in &transcripts {
        ops.push(BatchOp::Delete {
            table: &TRANSCRIPTS,
            key: transcript.key(),
        });
        ops.push(BatchOp::Delete {
            table: &TRANSCRIPTS,
            key: guard_key(org, &transcript.call_id),
        });
    }
    let attempts = Query::new(&CALLS, format!("ORG#{org}#LEAD#{lead}")).project(["pk", "sk"]);
    let mut pages = std::pin::pin!(query_all(store, attempts));
    while let Some(items) = pages.try_next().await? {
        for item in &items {
            ops.push(BatchOp::Delete {
                table: &CALLS,
                key: Key::of(item)?,
            });
        }
    }
    store.batch_write(ops).await
}
