//! Reads and writes of the leads table. Every lead change goes through
//! [`LeadsRepo::write`]: one transaction that writes the lead (conditional on
//! its version), its phone guard, its timeline events and the counters, with
//! its search words written around it ([`crate::words`]).

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use soraaya_domain::{Lead, LeadId, OrgId, Phone};
use soraaya_store::{
    BatchOp, Condition, Cursor, Delete, Item, ItemStore, Key, Page, Put, Query, SortKeys,
    StoreError, StoredItem, WriteOp, from_item,
};
use tracing::warn;

use crate::counters::{Counters, Scope, Tally};
use crate::record::{TimelineEvent, dnc_pk, lead_item, lead_key, lead_pk, phone_key, stats_pk};
use crate::words::WordWrites;
use soraaya_core::keys::keyed_item;
use soraaya_core::renderings::{Rendered, Renderings};
use soraaya_core::tables::LEADS;

/// One lead before and after a change (`None` before: created; `None` after: erased).
#[derive(Debug, Clone)]
pub struct LeadChange {
    pub before: Option<Lead>,
    pub after: Option<Lead>,
    pub events: Vec<TimelineEvent>,
    /// Length and cost of a call that ended with this change.
    pub call: Option<CallTally>,
}

pub use soraaya_counters::CallTally;

impl LeadChange {
    /// A change of a lead; a changed lead is written as the next version of
    /// the one read, so that any other writer of the version read loses.
    pub fn new(before: Option<Lead>, mut after: Option<Lead>, events: Vec<TimelineEvent>) -> Self {
        if let (Some(before), Some(after)) = (&before, after.as_mut()) {
            after.version = before.version + 1;
        }
        LeadChange {
            before,
            after,
            events,
            call: None,
        }
    }
}

impl LeadChange {
    /// Transaction operations this change needs, counters aside.
    pub fn op_count(&self) -> usize {
        let guard_ops = match (&self.before, &self.after) {
            (Some(b), Some(a)) if b.phone_number != a.phone_number => 2,
            (Some(_), Some(_)) => 0,
            _ => 1,
        };
        1 + guard_ops + self.events.len()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The lead changed since it was read (or, when creating, exists already).
    #[error("lead changed meanwhile")]
    Stale { change: usize },
    /// Another lead already has the phone number.
    #[error("phone number taken")]
    DuplicatePhone { change: usize },
    /// One of the caller's extra operations failed its condition.
    #[error("extra condition failed")]
    Extra { index: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
}

enum Role {
    Lead(usize),
    Guard(usize),
    Counters,
    Extra(usize),
}

/// The phone guard: which lead has a number.
#[derive(Debug, Serialize, Deserialize)]
struct PhoneGuard {
    lead_id: LeadId,
    phone_number: Phone,
}

/// One number on an organisation's do-not-call list.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DncEntry {
    pub phone_number: Phone,
    pub reason: Option<String>,
    pub added_by: super::record::Actor,
    #[schema(value_type = String, format = DateTime)]
    pub added_at: Timestamp,
}

pub struct LeadsRepo<'a> {
    store: &'a dyn ItemStore,
}

impl<'a> LeadsRepo<'a> {
    pub fn new(store: &'a dyn ItemStore) -> Self {
        LeadsRepo { store }
    }

    pub async fn lead(&self, org: OrgId, id: LeadId) -> Result<Option<Lead>, StoreError> {
        self.store
            .get(&LEADS, lead_key(org, id))
            .await?
            .map(from_item)
            .transpose()
    }

    pub async fn leads(&self, org: OrgId, ids: &[LeadId]) -> Result<Vec<Lead>, StoreError> {
        let keys = ids.iter().map(|id| lead_key(org, *id)).collect();
        self.store
            .get_stored(&LEADS, keys)
            .await?
            .into_iter()
            .map(StoredItem::read)
            .collect()
    }

    /// Leads by their item keys, in the order of the keys (missing ones skipped).
    pub async fn leads_in_order(&self, keys: &[Key]) -> Result<Vec<Lead>, StoreError> {
        self.stored_in_order(keys)
            .await?
            .into_iter()
            .map(StoredItem::read)
            .collect()
    }

    /// Leads by their item keys as the API's JSON, in the order of the keys
    /// (missing ones skipped), from `renderings` where a lead's version is
    /// the one rendered before.
    pub async fn rendered_in_order(
        &self,
        keys: &[Key],
        renderings: &Renderings,
    ) -> Result<Vec<Rendered>, StoreError> {
        renderings.render::<Lead>(self.stored_in_order(keys).await?)
    }

    async fn stored_in_order(&self, keys: &[Key]) -> Result<Vec<StoredItem>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let stored = self.store.get_stored(&LEADS, keys.to_vec()).await?;
        // The embedded store answers in the order asked; DynamoDB may not.
        if stored.len() == keys.len() && stored.iter().zip(keys).all(|(s, k)| s.key() == k) {
            return Ok(stored);
        }
        let mut found: HashMap<Key, StoredItem> = stored
            .into_iter()
            .map(|stored| (stored.key().clone(), stored))
            .collect();
        Ok(keys.iter().filter_map(|key| found.remove(key)).collect())
    }

    /// Which of these numbers already belong to a lead, and to which.
    pub async fn phone_owners(
        &self,
        org: OrgId,
        phones: &[&Phone],
    ) -> Result<HashMap<Phone, LeadId>, StoreError> {
        let keys = phones.iter().map(|p| phone_key(org, p.as_str())).collect();
        self.store
            .get_stored(&LEADS, keys)
            .await?
            .into_iter()
            .map(|stored| {
                stored
                    .read::<PhoneGuard>()
                    .map(|g| (g.phone_number, g.lead_id))
            })
            .collect()
    }

    /// Applies lead changes, their counters and `extra` operations atomically.
    pub async fn write(
        &self,
        org: OrgId,
        zone: &TimeZone,
        at: Timestamp,
        changes: &[LeadChange],
        extra: Vec<WriteOp>,
    ) -> Result<(), WriteError> {
        let mut ops: Vec<WriteOp> = Vec::new();
        let mut roles = Vec::new();
        let mut counters = Counters::default();
        let guard = |lead: &Lead| -> Result<Item, StoreError> {
            let record = PhoneGuard {
                lead_id: lead.id,
                phone_number: lead.phone_number.clone(),
            };
            keyed_item(&phone_key(org, lead.phone_number.as_str()), &record)
        };
        let owned_by = |lead: &Lead| Condition::eq("lead_id", lead.id.to_string());
        for (i, change) in changes.iter().enumerate() {
            counters.record(change.before.as_ref(), change.after.as_ref(), zone, at);
            if let (Some(tally), Some(lead)) = (change.call, change.before.as_ref())
                && let Some(call) = &lead.live_call
            {
                counters.record_call(call.campaign_id, tally, zone, at);
            }
            match (&change.before, &change.after) {
                (None, Some(after)) => {
                    ops.push(Put::new(&LEADS, lead_item(after)?).if_absent().into());
                    roles.push(Role::Lead(i));
                    ops.push(Put::new(&LEADS, guard(after)?).if_absent().into());
                    roles.push(Role::Guard(i));
                }
                (Some(before), Some(after)) => {
                    ops.push(
                        Put::new(&LEADS, lead_item(after)?)
                            .when(Condition::eq("version", before.version))
                            .into(),
                    );
                    roles.push(Role::Lead(i));
                    if before.phone_number != after.phone_number {
                        ops.push(
                            Delete::new(&LEADS, phone_key(org, before.phone_number.as_str()))
                                .when(owned_by(before))
                                .into(),
                        );
                        roles.push(Role::Lead(i));
                        ops.push(Put::new(&LEADS, guard(after)?).if_absent().into());
                        roles.push(Role::Guard(i));
                    }
                }
                (Some(before), None) => {
                    ops.push(
                        Delete::new(&LEADS, lead_key(org, before.id))
                            .when(Condition::eq("version", before.version))
                            .into(),
                    );
                    roles.push(Role::Lead(i));
                    ops.push(
                        Delete::new(&LEADS, phone_key(org, before.phone_number.as_str()))
                            .when(owned_by(before))
                            .into(),
                    );
                    roles.push(Role::Lead(i));
                }
                (None, None) => {}
            }
            for event in &change.events {
                ops.push(Put::new(&LEADS, event.item(org)?).into());
                roles.push(Role::Lead(i));
            }
        }
        for op in counters.into_ops(org) {
            ops.push(op);
            roles.push(Role::Counters);
        }
        for (index, op) in extra.into_iter().enumerate() {
            ops.push(op);
            roles.push(Role::Extra(index));
        }
        let words = WordWrites::plan(org, changes);
        words.write_added(self.store).await?;
        let written = self.store.transact_write(ops).await;
        match &written {
            Ok(()) => words.delete_removed(self.store).await?,
            // Refused, so nothing of it committed; after any other error it
            // may have, and its words stay (readers check them).
            Err(StoreError::Conflict { .. }) => {
                if let Err(err) = words.undo_added(self.store).await {
                    warn!(org_id = %org, error = %err, "search words of a refused write stay behind");
                }
            }
            Err(_) => {}
        }
        match written {
            Ok(()) => Ok(()),
            Err(StoreError::Conflict { failed }) => {
                // A guard failure says more than a version failure of the same change.
                let roles_failed: Vec<&Role> =
                    failed.iter().filter_map(|i| roles.get(*i)).collect();
                if let Some(Role::Guard(change)) =
                    roles_failed.iter().find(|r| matches!(r, Role::Guard(_)))
                {
                    return Err(WriteError::DuplicatePhone { change: *change });
                }
                match roles_failed.first() {
                    Some(Role::Lead(change) | Role::Guard(change)) => {
                        Err(WriteError::Stale { change: *change })
                    }
                    Some(Role::Extra(index)) => Err(WriteError::Extra { index: *index }),
                    Some(Role::Counters) | None => Err(StoreError::Conflict { failed }.into()),
                }
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Writes many lead changes, `batch` leads per transaction. A change whose
    /// lead changed meanwhile (or whose new number another lead has) is left
    /// out and the rest written; the left-out changes are returned.
    pub async fn write_each(
        &self,
        org: OrgId,
        zone: &TimeZone,
        at: Timestamp,
        changes: Vec<LeadChange>,
        batch: usize,
    ) -> Result<Vec<LeadChange>, StoreError> {
        let mut left_out = Vec::new();
        let mut pending = changes.into_iter().peekable();
        while pending.peek().is_some() {
            let mut chunk: Vec<LeadChange> = pending.by_ref().take(batch.max(1)).collect();
            while !chunk.is_empty() {
                match self.write(org, zone, at, &chunk, Vec::new()).await {
                    Ok(()) => break,
                    Err(WriteError::Stale { change } | WriteError::DuplicatePhone { change }) => {
                        left_out.push(chunk.remove(change));
                    }
                    Err(WriteError::Store(err)) => return Err(err),
                    Err(WriteError::Extra { .. }) => {
                        unreachable!("no extra operations were given")
                    }
                }
            }
        }
        Ok(left_out)
    }

    /// One page of a lead's timeline, newest first.
    pub async fn events(
        &self,
        org: OrgId,
        lead: LeadId,
        cursor: Option<Cursor>,
        limit: u32,
    ) -> Result<(Vec<TimelineEvent>, Option<Cursor>), StoreError> {
        let Page { items, cursor } = self
            .store
            .query(
                Query::new(&LEADS, lead_pk(org, lead))
                    .begins_with("EVENT#")
                    .backward()
                    .limit(limit)
                    .after(cursor),
            )
            .await?;
        let events = items.into_iter().map(from_item).collect::<Result<_, _>>()?;
        Ok((events, cursor))
    }

    /// Deletes every timeline event of a lead; returns how many.
    pub async fn delete_events(&self, org: OrgId, lead: LeadId) -> Result<usize, StoreError> {
        let mut deleted = 0;
        loop {
            let page = self
                .store
                .query(
                    Query::new(&LEADS, lead_pk(org, lead))
                        .begins_with("EVENT#")
                        .limit(500),
                )
                .await?;
            if page.items.is_empty() {
                return Ok(deleted);
            }
            let ops: Vec<BatchOp> = page
                .items
                .iter()
                .map(|item| Key::of(item).map(|key| BatchOp::Delete { table: &LEADS, key }))
                .collect::<Result<_, _>>()?;
            deleted += ops.len();
            self.store.batch_write(ops).await?;
        }
    }

    /// The counters of a scope; all zero where nothing was counted yet.
    pub async fn counters(&self, org: OrgId, scope: Scope) -> Result<Tally, StoreError> {
        let item = self
            .store
            .get(&LEADS, Key::new(stats_pk(org), scope.key()))
            .await?;
        Ok(item.as_ref().map(Tally::from_item).unwrap_or_default())
    }

    /// The counters of several scopes in one read, in the order asked.
    pub async fn counters_of(
        &self,
        org: OrgId,
        scopes: &[Scope],
    ) -> Result<Vec<Tally>, StoreError> {
        let keys = scopes
            .iter()
            .map(|scope| Key::new(stats_pk(org), scope.key()))
            .collect();
        let found: HashMap<String, Tally> = self
            .store
            .get_many(&LEADS, keys)
            .await?
            .iter()
            .filter_map(|item| Some((Key::of(item).ok()?.sk, Tally::from_item(item))))
            .collect();
        Ok(scopes
            .iter()
            .map(|scope| found.get(&scope.key()).cloned().unwrap_or_default())
            .collect())
    }

    pub fn dnc_key(org: OrgId, phone: &Phone) -> Key {
        Key::new(dnc_pk(org), phone.as_str())
    }

    /// The do-not-call entry operation for a number.
    pub fn dnc_put(org: OrgId, entry: &DncEntry) -> Result<WriteOp, StoreError> {
        let item = keyed_item(&Self::dnc_key(org, &entry.phone_number), entry)?;
        Ok(Put::new(&LEADS, item).into())
    }

    pub fn dnc_delete(org: OrgId, phone: &Phone) -> WriteOp {
        Delete::new(&LEADS, Self::dnc_key(org, phone)).into()
    }

    /// Which of these numbers are on the do-not-call list.
    pub async fn on_dnc_list(
        &self,
        org: OrgId,
        phones: &[&Phone],
    ) -> Result<HashSet<Phone>, StoreError> {
        let keys = phones.iter().map(|p| Self::dnc_key(org, p)).collect();
        self.store
            .get_stored(&LEADS, keys)
            .await?
            .into_iter()
            .map(|stored| stored.read::<DncEntry>().map(|e| e.phone_number))
            .collect()
    }

    pub async fn dnc_entry(
        &self,
        org: OrgId,
        phone: &Phone,
    ) -> Result<Option<DncEntry>, StoreError> {
        self.store
            .get(&LEADS, Self::dnc_key(org, phone))
            .await?
            .map(from_item)
            .transpose()
    }

    pub async fn dnc_page(
        &self,
        org: OrgId,
        cursor: Option<Cursor>,
        limit: u32,
    ) -> Result<(Vec<DncEntry>, Option<Cursor>), StoreError> {
        let page = self
            .store
            .query(Query::new(&LEADS, dnc_pk(org)).limit(limit).after(cursor))
            .await?;
        let entries = page
            .items
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        Ok((entries, page.cursor))
    }

    /// The leads a search's narrowest word finds ([`crate::words::candidates`]).
    pub async fn search_candidates(
        &self,
        org: OrgId,
        words: &[String],
    ) -> Result<Vec<crate::words::Found>, StoreError> {
        crate::words::candidates(self.store, org, words).await
    }

    /// The sort keys a query on the leads table reads ([`ItemStore::query_sort_keys`]).
    pub async fn sort_keys(&self, query: Query) -> Result<SortKeys, StoreError> {
        self.store.query_sort_keys(query).await
    }

    /// Runs a query on the leads table (for listings and exports).
    pub async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.store.query(query).await
    }

    pub async fn apply(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.store.transact_write(ops).await
    }
}
