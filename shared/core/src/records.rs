//! Campaigns, personas and properties are all organisation records of one
//! shape: an item per record, listed by creation time, changed under an
//! optimistic version. One repository serves the three, and one versioned
//! update (read, check `If-Match`, apply, skip a no-op, write on the version
//! read, retry on a conflict) serves every change to them.

use std::future::Future;

use jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;
use soraaya_domain::{AgentPersona, Campaign, OrgId, Property};
use soraaya_store::{
    AttributeValue, Condition, Delete, Item, ItemStore, Key, Put, Query, StoreError, StoredItem,
    WriteOp, from_item,
};

use crate::clock::Clock;
use crate::keys::{keyed_item, sortable};
use crate::paging::collect_all;
use crate::tables::CAMPAIGNS;

/// A kind of organisation record.
pub trait OrgRecord: Serialize + DeserializeOwned + Clone + Send + Sync {
    /// `CAMPAIGN`, `PERSONA`, `PROPERTY`.
    const KIND: &'static str;
    /// What people call it: `campaign`, `agent persona`, `property`.
    const NAME: &'static str;
    fn id_text(&self) -> String;
    fn org(&self) -> OrgId;
    fn created(&self) -> Timestamp;
    fn version(&self) -> u64;
    /// Marks the record as the next version, changed at `at`.
    fn next_version(&mut self, at: Timestamp);
}

macro_rules! org_record {
    ($type:ty, $kind:literal, $name:literal) => {
        impl OrgRecord for $type {
            const KIND: &'static str = $kind;
            const NAME: &'static str = $name;
            fn id_text(&self) -> String {
                self.id.to_string()
            }
            fn org(&self) -> OrgId {
                self.org_id
            }
            fn created(&self) -> Timestamp {
                self.created_at
            }
            fn version(&self) -> u64 {
                self.version
            }
            fn next_version(&mut self, at: Timestamp) {
                self.version += 1;
                self.updated_at = at;
            }
        }
    };
}
org_record!(Campaign, "CAMPAIGN", "campaign");
org_record!(AgentPersona, "PERSONA", "agent persona");
org_record!(Property, "PROPERTY", "property");

/// Why a versioned update of a record did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the {kind} is at version {actual}, not {expected}")]
    VersionMismatch {
        kind: &'static str,
        expected: u64,
        actual: u64,
    },
    #[error("changed by someone else meanwhile; reload and try again")]
    ChangedConcurrently,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The next state of a record, and what else must be written with it.
pub struct Change<R, E> {
    pub record: R,
    /// Written in the same transaction as the record.
    pub extra: Vec<WriteOp>,
    /// The error when one of `extra`'s conditions fails (otherwise the
    /// update is tried again on a fresh read).
    pub if_extra_fails: Option<E>,
}

impl<R, E> Change<R, E> {
    pub fn to(record: R) -> Self {
        Change {
            record,
            extra: Vec::new(),
            if_extra_fails: None,
        }
    }

    /// Writes `extra` with the record; if one of their conditions fails, the
    /// update fails with `error`.
    pub fn with(mut self, extra: Vec<WriteOp>, error: E) -> Self {
        self.extra = extra;
        self.if_extra_fails = Some(error);
        self
    }
}

/// How many times a versioned update reads again after losing a race.
const UPDATE_TRIES: usize = 3;

pub fn record_key<R: OrgRecord>(org: OrgId, id: &str) -> Key {
    Key::new(format!("ORG#{org}#{}#{id}", R::KIND), R::KIND)
}

fn list_partition<R: OrgRecord>(org: OrgId) -> String {
    format!("ORG#{org}#{}S", R::KIND)
}

pub fn record_item<R: OrgRecord>(record: &R) -> Result<Item, StoreError> {
    let mut item = keyed_item(&record_key::<R>(record.org(), &record.id_text()), record)?;
    item.insert(
        "org_pk".into(),
        AttributeValue::S(list_partition::<R>(record.org())),
    );
    item.insert(
        "org_sk".into(),
        AttributeValue::S(format!(
            "{}#{}",
            sortable(record.created()),
            record.id_text()
        )),
    );
    Ok(item)
}

pub struct Records<'a> {
    store: &'a dyn ItemStore,
}

impl<'a> Records<'a> {
    pub fn new(store: &'a dyn ItemStore) -> Self {
        Records { store }
    }

    pub async fn get<R: OrgRecord>(&self, org: OrgId, id: &str) -> Result<Option<R>, StoreError> {
        self.store
            .get(&CAMPAIGNS, record_key::<R>(org, id))
            .await?
            .map(from_item)
            .transpose()
    }

    pub async fn many<R: OrgRecord>(
        &self,
        org: OrgId,
        ids: &[String],
    ) -> Result<Vec<R>, StoreError> {
        let keys = ids.iter().map(|id| record_key::<R>(org, id)).collect();
        self.store
            .get_stored(&CAMPAIGNS, keys)
            .await?
            .into_iter()
            .map(StoredItem::read)
            .collect()
    }

    /// Every record of the kind, oldest first.
    pub async fn list<R: OrgRecord>(&self, org: OrgId) -> Result<Vec<R>, StoreError> {
        collect_all(
            self.store,
            Query::new(&CAMPAIGNS, list_partition::<R>(org)).index("by_org"),
        )
        .await
    }

    /// Writes a new record with `extra` operations; operation 0 is the record.
    pub async fn create<R: OrgRecord>(
        &self,
        record: &R,
        extra: Vec<WriteOp>,
    ) -> Result<(), StoreError> {
        let mut ops: Vec<WriteOp> = vec![
            Put::new(&CAMPAIGNS, record_item(record)?)
                .if_absent()
                .into(),
        ];
        ops.extend(extra);
        self.store.transact_write(ops).await
    }

    /// Replaces a record that is still at `version`; operation 0 is the record.
    pub async fn replace<R: OrgRecord>(
        &self,
        record: &R,
        version: u64,
        extra: Vec<WriteOp>,
    ) -> Result<(), StoreError> {
        let mut ops: Vec<WriteOp> = vec![
            Put::new(&CAMPAIGNS, record_item(record)?)
                .when(Condition::eq("version", version))
                .into(),
        ];
        ops.extend(extra);
        self.store.transact_write(ops).await
    }

    /// Deletes a record that is still at `version`; operation 0 is the record.
    pub async fn remove<R: OrgRecord>(
        &self,
        record: &R,
        extra: Vec<WriteOp>,
    ) -> Result<(), StoreError> {
        let mut ops: Vec<WriteOp> = vec![
            Delete::new(&CAMPAIGNS, record_key::<R>(record.org(), &record.id_text()))
                .when(Condition::eq("version", record.version()))
                .into(),
        ];
        ops.extend(extra);
        self.store.transact_write(ops).await
    }

    /// Changes a record: reads it, checks it is at `expected` (an `If-Match`),
    /// asks `change` for its next state given the record as read (`None`:
    /// nothing to change), and writes it on the version read, as the next
    /// version at the clock's now. A record changed meanwhile is read again
    /// and `change` asked again.
    pub async fn update<R, E, F, Fut>(
        &self,
        org: OrgId,
        id: &str,
        expected: Option<u64>,
        clock: &dyn Clock,
        change: F,
    ) -> Result<R, E>
    where
        R: OrgRecord,
        E: From<RecordError>,
        F: Fn(R) -> Fut,
        Fut: Future<Output = Result<Option<Change<R, E>>, E>>,
    {
        for _ in 0..UPDATE_TRIES {
            let before = self
                .get::<R>(org, id)
                .await
                .map_err(RecordError::from)?
                .ok_or(RecordError::NotFound(R::NAME))?;
            if let Some(expected) = expected
                && expected != before.version()
            {
                return Err(RecordError::VersionMismatch {
                    kind: R::NAME,
                    expected,
                    actual: before.version(),
                }
                .into());
            }
            let Some(Change {
                record: mut after,
                extra,
                if_extra_fails,
            }) = change(before.clone()).await?
            else {
                return Ok(before);
            };
            after.next_version(clock.now());
            match self.replace(&after, before.version(), extra).await {
                Ok(()) => return Ok(after),
                Err(StoreError::Conflict { failed }) => {
                    if failed.iter().any(|op| *op > 0)
                        && let Some(error) = if_extra_fails
                    {
                        return Err(error);
                    }
                }
                Err(err) => return Err(RecordError::from(err).into()),
            }
        }
        Err(RecordError::ChangedConcurrently.into())
    }
}
