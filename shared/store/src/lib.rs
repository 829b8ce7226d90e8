//! The item store: a port shaped like DynamoDB's item API, and its two adapters.
//!
//! Repositories speak only to [`ItemStore`]. [`EmbeddedStore`] keeps items in one
//! durable redb file for local mode and tests; [`DynamoDbStore`] talks to DynamoDB.
//! Both pass the same conformance suite (`conformance` feature).

mod codec;
#[cfg(feature = "conformance")]
pub mod conformance;
mod dynamodb;
mod embedded;
mod error;
mod expr;
mod item;
mod request;
mod schema;

use async_trait::async_trait;

pub use dynamodb::{DynamoDbStore, TableCreation, create_tables};
pub use embedded::EmbeddedStore;
pub use error::StoreError;
pub use expr::{Attributes, Cmp, Condition, Update, UpdateAction};
pub use item::{AttributeValue, IntoValue, Item, StoredItem, from_item, to_item, to_value};
pub use request::{
    BatchOp, ConditionCheck, Cursor, Delete, Key, Page, Put, Query, SortKeyCondition, SortKeys,
    UpdateItem, WriteOp,
};
pub use schema::{IndexDef, PK, Projection, SK, TableDef};

/// Largest number of operations one transaction may hold (DynamoDB's limit).
pub const MAX_TRANSACTION_OPS: usize = 100;

/// Largest stored item, in bytes (DynamoDB's limit).
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// DynamoDB-shaped item storage. Every method is atomic on its own;
/// [`ItemStore::transact_write`] is atomic across its operations.
#[async_trait]
pub trait ItemStore: Send + Sync + 'static {
    /// Reads one item, strongly consistent.
    async fn get(&self, table: &'static TableDef, key: Key) -> Result<Option<Item>, StoreError>;

    /// Reads any number of items, strongly consistent. Missing keys are simply
    /// absent from the result, which comes in no particular order.
    async fn get_many(
        &self,
        table: &'static TableDef,
        keys: Vec<Key>,
    ) -> Result<Vec<Item>, StoreError>;

    /// [`ItemStore::get_many`] for reading records: each item comes with its
    /// key, and the embedded store leaves it encoded, so that reading it into
    /// a record ([`StoredItem::read`]) builds no [`Item`] on the way.
    async fn get_stored(
        &self,
        table: &'static TableDef,
        keys: Vec<Key>,
    ) -> Result<Vec<StoredItem>, StoreError> {
        self.get_many(table, keys)
            .await?
            .into_iter()
            .map(StoredItem::decoded)
            .collect()
    }

    /// Writes a whole item, replacing any item with the same key, if the condition holds.
    async fn put(&self, put: Put) -> Result<(), StoreError>;

    /// Applies an update (creating the item if absent) if the condition holds; returns the new item.
    async fn update(&self, update: UpdateItem) -> Result<Item, StoreError>;

    /// Deletes an item if the condition holds; returns the deleted item, if there was one.
    async fn delete(&self, delete: Delete) -> Result<Option<Item>, StoreError>;

    /// Reads one page of a partition of the table or of one of its indexes.
    async fn query(&self, query: Query) -> Result<Page, StoreError>;

    /// [`ItemStore::query`] for the sort keys alone (of the table or of
    /// the index queried), for walking many items by key: the embedded
    /// store reads them from its keys without decoding a single item.
    async fn query_sort_keys(&self, query: Query) -> Result<SortKeys, StoreError> {
        let (_, sk) = query.key_names()?;
        SortKeys::of_page(self.query(query.project([sk])).await?, sk)
    }

    /// Applies every operation or none of them. A failed condition is
    /// [`StoreError::Conflict`] naming the failed operations.
    async fn transact_write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError>;

    /// Writes and deletes any number of items without conditions; each item is
    /// atomic on its own, the batch as a whole is not.
    async fn batch_write(&self, ops: Vec<BatchOp>) -> Result<(), StoreError>;
}
