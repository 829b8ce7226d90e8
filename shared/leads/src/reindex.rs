//! Bringing an organisation's leads up to the indexes of this version: the
//! lead items' index attributes, their search words ([`crate::words`]) and
//! the counters by status and priority. Every write keeps these; leads
//! written by an earlier version lack them until reindexed. The
//! organisation's counters record the index generation its leads were
//! written at ([`INDEX_GENERATION`], set by the first write of this
//! version), so the work runs once: `soraaya serve` runs it for every
//! organisation at start, before serving (nothing else writes then). A
//! deployment upgrading from generation 1 runs it before the new functions
//! take traffic.

use std::collections::BTreeMap;

use soraaya_domain::{Lead, LeadStatus, OrgId, Priority};
use soraaya_store::{
    AttributeValue, Condition, Cursor, ItemStore, Key, Put, Query, StoreError, Update, UpdateItem,
    WriteOp,
};
use tracing::info;

use crate::counters::{INDEX_GENERATION, Scope, names, source_name};
use crate::record::{lead_item, list_partition, stats_pk};
use crate::repo::{LeadChange, LeadsRepo};
use crate::words::WordWrites;
use soraaya_core::tables::LEADS;

/// The counts of one scope a reindex sets whole.
#[derive(Debug, Default)]
struct Recount {
    by_status_priority: BTreeMap<(LeadStatus, Priority), i64>,
    /// Leads and qualified leads by source.
    by_source: BTreeMap<String, (i64, i64)>,
    called: i64,
}

impl Recount {
    fn count(&mut self, lead: &Lead) {
        *self
            .by_status_priority
            .entry((lead.status, lead.priority))
            .or_default() += 1;
        let source = self
            .by_source
            .entry(source_name(lead.lead_source.as_deref()))
            .or_default();
        source.0 += 1;
        if lead.status == LeadStatus::Qualified {
            source.1 += 1;
        }
        if lead.call_attempts > 0 {
            self.called += 1;
        }
    }
}

/// Leads rewritten per transaction.
const BATCH: usize = 25;

/// Reindexes the organisation's leads unless its counters say they are at
/// [`INDEX_GENERATION`]; returns how many leads were rewritten. Must not
/// run while others write the organisation's leads.
pub async fn bring_up_to_date(store: &dyn ItemStore, org: OrgId) -> Result<u64, StoreError> {
    let all = Key::new(stats_pk(org), Scope::All.key());
    let generation = match store.get(&LEADS, all.clone()).await? {
        Some(item) => match item.get(names::INDEX_GENERATION) {
            Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
            _ => 0,
        },
        None => 0,
    };
    if generation >= INDEX_GENERATION {
        return Ok(0);
    }
    let repo = LeadsRepo::new(store);
    let mut by_scope: BTreeMap<Scope, Recount> = BTreeMap::new();
    let mut rewritten = 0u64;
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = repo
            .query(
                Query::new(&LEADS, list_partition(org))
                    .index("by_created")
                    .project(["pk", "sk"])
                    .limit(BATCH as u32)
                    .after(cursor.take()),
            )
            .await?;
        let keys = page
            .items
            .iter()
            .map(Key::of)
            .collect::<Result<Vec<_>, _>>()?;
        let leads: Vec<Lead> = repo.leads_in_order(&keys).await?;
        let mut ops: Vec<WriteOp> = Vec::with_capacity(leads.len());
        let mut words = Vec::with_capacity(leads.len());
        for lead in &leads {
            for scope in std::iter::once(Scope::All).chain(lead.campaign_id.map(Scope::Campaign)) {
                by_scope.entry(scope).or_default().count(lead);
            }
            ops.push(
                Put::new(&LEADS, lead_item(lead)?)
                    .when(Condition::eq("version", lead.version))
                    .into(),
            );
            // As if created: every word is new.
            words.push(LeadChange::new(None, Some(lead.clone()), Vec::new()));
        }
        WordWrites::plan(org, &words).write_added(store).await?;
        if !ops.is_empty() {
            store.transact_write(ops).await?;
        }
        rewritten += leads.len() as u64;
        cursor = page.cursor;
        if cursor.is_none() {
            break;
        }
    }
    // The counts earlier versions did not keep, set whole.
    let mut updates: Vec<WriteOp> = Vec::new();
    for (scope, counts) in by_scope {
        let update = LeadStatus::ALL
            .iter()
            .flat_map(|s| Priority::ALL.iter().map(move |p| (*s, *p)))
            .fold(Update::new(), |update, (s, p)| {
                let n = counts.by_status_priority.get(&(s, p)).copied().unwrap_or(0);
                update.set(&names::status_priority(s, p), n)
            });
        let update = counts
            .by_source
            .iter()
            .fold(update, |update, (source, (leads, qualified))| {
                update
                    .set(&names::source(source), *leads)
                    .set(&names::source_qualified(source), *qualified)
            })
            .set(names::CALLED, counts.called);
        updates.push(UpdateItem::new(&LEADS, Key::new(stats_pk(org), scope.key()), update).into());
    }
    for chunk in updates.chunks(soraaya_store::MAX_TRANSACTION_OPS) {
        store.transact_write(chunk.to_vec()).await?;
    }
    let done = Update::new().set(names::INDEX_GENERATION, INDEX_GENERATION);
    store.update(UpdateItem::new(&LEADS, all, done)).await?;
    if rewritten > 0 {
        info!(org_id = %org, leads = rewritten, generation = INDEX_GENERATION, "leads reindexed");
    }
    Ok(rewritten)
}
