//! Campaigns, personas and properties are all organisation records of one
//! shape: an item per record, listed by creation time, changed under an
//! optimistic version. One repository serves the three.

use jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;
use soraaya_domain::{AgentPersona, Campaign, OrgId, Property};
use soraaya_store::{
    AttributeValue, Condition, Delete, Item, ItemStore, Key, Put, Query, StoreError, WriteOp,
    from_item,
};

use crate::leads::record::{keyed_item, sortable};
use crate::tables::CAMPAIGNS;

/// A kind of organisation record.
pub trait OrgRecord: Serialize + DeserializeOwned + Clone + Send + Sync {
    /// `CAMPAIGN`, `PERSONA`, `PROPERTY`.
    const KIND: &'static str;
    fn id_text(&self) -> String;
    fn org(&self) -> OrgId;
    fn created(&self) -> Timestamp;
    fn version(&self) -> u64;
}

macro_rules! org_record {
    ($type:ty, $kind:literal) => {
        impl OrgRecord for $type {
            const KIND: &'static str = $kind;
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
        }
    };
}
org_record!(Campaign, "CAMPAIGN");
org_record!(AgentPersona, "PERSONA");
org_record!(Property, "PROPERTY");

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
            .get_many(&CAMPAIGNS, keys)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    /// Every record of the kind, oldest first.
    pub async fn list<R: OrgRecord>(&self, org: OrgId) -> Result<Vec<R>, StoreError> {
        let mut records = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .store
                .query(
                    Query::new(&CAMPAIGNS, list_partition::<R>(org))
                        .index("by_org")
                        .after(cursor.take()),
                )
                .await?;
            for item in page.items {
                records.push(from_item(item)?);
            }
            cursor = page.cursor;
            if cursor.is_none() {
                return Ok(records);
            }
        }
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
}
