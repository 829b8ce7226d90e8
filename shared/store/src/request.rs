//! The requests the store port accepts, with small builders.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::StoreError;
use crate::codec;
use crate::expr::{Condition, Update};
use crate::item::{AttributeValue, Item, string_attr};
use crate::schema::{PK, SK, TableDef};

/// The primary key of an item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    /// The key of an item, if it has string `pk` and `sk` attributes.
    pub fn of(item: &Item) -> Result<Key, StoreError> {
        match (string_attr(item, PK), string_attr(item, SK)) {
            (Some(pk), Some(sk)) if !pk.is_empty() && !sk.is_empty() => Ok(Key::new(pk, sk)),
            _ => Err(StoreError::Invalid(
                "an item needs non-empty string attributes pk and sk".into(),
            )),
        }
    }

    pub(crate) fn to_item(&self) -> Item {
        let mut item = Item::default();
        item.insert(PK.into(), AttributeValue::S(self.pk.clone()));
        item.insert(SK.into(), AttributeValue::S(self.sk.clone()));
        item
    }
}

/// Write a whole item.
#[derive(Debug, Clone)]
pub struct Put {
    pub table: &'static TableDef,
    pub item: Item,
    pub condition: Option<Condition>,
}

impl Put {
    pub fn new(table: &'static TableDef, item: Item) -> Self {
        Put {
            table,
            item,
            condition: None,
        }
    }

    /// Write only if no item with this key exists.
    pub fn if_absent(self) -> Self {
        self.when(Condition::not_exists(PK))
    }

    pub fn when(mut self, condition: Condition) -> Self {
        self.condition = Some(condition);
        self
    }
}

/// Update some attributes of an item, creating it if it does not exist.
#[derive(Debug, Clone)]
pub struct UpdateItem {
    pub table: &'static TableDef,
    pub key: Key,
    pub update: Update,
    pub condition: Option<Condition>,
}

impl UpdateItem {
    pub fn new(table: &'static TableDef, key: Key, update: Update) -> Self {
        UpdateItem {
            table,
            key,
            update,
            condition: None,
        }
    }

    /// Update only if the item exists.
    pub fn if_present(self) -> Self {
        self.when(Condition::exists(PK))
    }

    pub fn when(mut self, condition: Condition) -> Self {
        self.condition = Some(match self.condition.take() {
            Some(existing) => existing.and(condition),
            None => condition,
        });
        self
    }
}

/// Delete an item.
#[derive(Debug, Clone)]
pub struct Delete {
    pub table: &'static TableDef,
    pub key: Key,
    pub condition: Option<Condition>,
}

impl Delete {
    pub fn new(table: &'static TableDef, key: Key) -> Self {
        Delete {
            table,
            key,
            condition: None,
        }
    }

    pub fn when(mut self, condition: Condition) -> Self {
        self.condition = Some(condition);
        self
    }
}

/// Check a condition on an item inside a transaction without writing it.
#[derive(Debug, Clone)]
pub struct ConditionCheck {
    pub table: &'static TableDef,
    pub key: Key,
    pub condition: Condition,
}

impl ConditionCheck {
    pub fn new(table: &'static TableDef, key: Key, condition: Condition) -> Self {
        ConditionCheck {
            table,
            key,
            condition,
        }
    }
}

/// One operation of a transaction.
#[derive(Debug, Clone)]
pub enum WriteOp {
    Put(Put),
    Update(UpdateItem),
    Delete(Delete),
    Check(ConditionCheck),
}

impl WriteOp {
    pub(crate) fn table(&self) -> &'static TableDef {
        match self {
            WriteOp::Put(op) => op.table,
            WriteOp::Update(op) => op.table,
            WriteOp::Delete(op) => op.table,
            WriteOp::Check(op) => op.table,
        }
    }

    pub(crate) fn key(&self) -> Result<Key, StoreError> {
        match self {
            WriteOp::Put(op) => Key::of(&op.item),
            WriteOp::Update(op) => Ok(op.key.clone()),
            WriteOp::Delete(op) => Ok(op.key.clone()),
            WriteOp::Check(op) => Ok(op.key.clone()),
        }
    }
}

impl From<Put> for WriteOp {
    fn from(op: Put) -> Self {
        WriteOp::Put(op)
    }
}
impl From<UpdateItem> for WriteOp {
    fn from(op: UpdateItem) -> Self {
        WriteOp::Update(op)
    }
}
impl From<Delete> for WriteOp {
    fn from(op: Delete) -> Self {
        WriteOp::Delete(op)
    }
}
impl From<ConditionCheck> for WriteOp {
    fn from(op: ConditionCheck) -> Self {
        WriteOp::Check(op)
    }
}

/// One unconditional write of a batch.
#[derive(Debug, Clone)]
pub enum BatchOp {
    Put {
        table: &'static TableDef,
        item: Item,
    },
    Delete {
        table: &'static TableDef,
        key: Key,
    },
}

/// A condition on the sort key (of the table or of the queried index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKeyCondition {
    Eq(String),
    Lt(String),
    Le(String),
    Gt(String),
    Ge(String),
    /// Inclusive at both ends.
    Between(String, String),
    BeginsWith(String),
}

/// Read items of one partition, in sort-key order.
#[derive(Debug, Clone)]
pub struct Query {
    pub table: &'static TableDef,
    /// Query this global secondary index instead of the table.
    pub index: Option<&'static str>,
    pub partition: String,
    pub sort: Option<SortKeyCondition>,
    /// Ascending sort-key order when true.
    pub forward: bool,
    /// How many items to evaluate (before the filter), as DynamoDB's `Limit`.
    pub limit: Option<u32>,
    /// Continue after the page that returned this cursor.
    pub cursor: Option<Cursor>,
    /// Drop evaluated items that do not match.
    pub filter: Option<Condition>,
    /// Return only these attributes (the filter still sees every attribute).
    pub projection: Option<Vec<String>>,
}

impl Query {
    /// The most entries this query evaluates: its `Limit`, else unbounded.
    pub fn evaluated(&self) -> usize {
        self.limit.map_or(usize::MAX, |limit| limit as usize)
    }

    pub fn new(table: &'static TableDef, partition: impl Into<String>) -> Self {
        Query {
            table,
            index: None,
            partition: partition.into(),
            sort: None,
            forward: true,
            limit: None,
            cursor: None,
            filter: None,
            projection: None,
        }
    }

    pub fn index(mut self, index: &'static str) -> Self {
        self.index = Some(index);
        self
    }

    pub fn sort(mut self, condition: SortKeyCondition) -> Self {
        self.sort = Some(condition);
        self
    }

    pub fn begins_with(self, prefix: impl Into<String>) -> Self {
        self.sort(SortKeyCondition::BeginsWith(prefix.into()))
    }

    pub fn backward(mut self) -> Self {
        self.forward = false;
        self
    }

    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }

    pub fn filter(mut self, condition: Condition) -> Self {
        self.filter = Some(condition);
        self
    }

    /// Returns only the named attributes of each item.
    pub fn project<S: Into<String>>(mut self, attributes: impl IntoIterator<Item = S>) -> Self {
        self.projection = Some(attributes.into_iter().map(Into::into).collect());
        self
    }

    /// The partition and sort key attribute names this query reads.
    pub(crate) fn key_names(&self) -> Result<(&'static str, &'static str), StoreError> {
        match self.index {
            None => Ok((PK, SK)),
            Some(name) => self
                .table
                .index(name)
                .map(|index| (index.pk, index.sk))
                .ok_or_else(|| {
                    StoreError::Invalid(format!("table {} has no index {name}", self.table.name))
                }),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), StoreError> {
        self.key_names()?;
        if self.partition.is_empty() {
            return Err(StoreError::Invalid("empty partition key".into()));
        }
        if self.projection.as_ref().is_some_and(Vec::is_empty) {
            return Err(StoreError::Invalid(
                "a projection names at least one attribute".into(),
            ));
        }
        if self.limit == Some(0) {
            return Err(StoreError::Invalid("limit must be at least 1".into()));
        }
        if let Some(SortKeyCondition::Between(low, high)) = &self.sort
            && low > high
        {
            return Err(StoreError::Invalid(
                "between: the lower bound exceeds the upper bound".into(),
            ));
        }
        Ok(())
    }
}

/// One page of query results.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// Present when more items may follow.
    pub cursor: Option<Cursor>,
}

/// One page of a query's sort keys ([`crate::ItemStore::query_sort_keys`]).
#[derive(Debug, Clone, Default)]
pub struct SortKeys {
    pub keys: Vec<String>,
    /// Present when more items may follow.
    pub cursor: Option<Cursor>,
}

impl SortKeys {
    /// The sort keys of a page whose items hold the attribute `sk`.
    pub(crate) fn of_page(page: Page, sk: &str) -> Result<SortKeys, StoreError> {
        let keys = page
            .items
            .into_iter()
            .map(|mut item| match item.remove(sk) {
                Some(AttributeValue::S(key)) => Ok(key),
                _ => Err(StoreError::Corrupt(format!("an item without its {sk}"))),
            })
            .collect::<Result<_, _>>()?;
        Ok(SortKeys {
            keys,
            cursor: page.cursor,
        })
    }
}

/// An opaque position in a query's results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(String);

impl Cursor {
    /// Accepts a cursor string from a client; it is checked when used.
    pub fn parse(text: &str) -> Result<Cursor, StoreError> {
        let cursor = Cursor(text.to_owned());
        cursor.key_item()?;
        Ok(cursor)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Where a query of a table's own keys (not an index) resumes after the
    /// item at `key`: for a reader that stops within a page.
    pub fn after_key(key: &Key) -> Cursor {
        let mut item = Item::default();
        item.insert(PK.to_owned(), AttributeValue::S(key.pk.clone()));
        item.insert(SK.to_owned(), AttributeValue::S(key.sk.clone()));
        Cursor::from_key_item(&item)
    }

    pub(crate) fn from_key_item(item: &Item) -> Cursor {
        Cursor(URL_SAFE_NO_PAD.encode(codec::encode_item(item)))
    }

    /// The key attributes of the last evaluated item.
    pub(crate) fn key_item(&self) -> Result<Item, StoreError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(&self.0)
            .map_err(|_| StoreError::BadCursor)?;
        let item = codec::decode_item(&bytes).map_err(|_| StoreError::BadCursor)?;
        let all_strings = item
            .values()
            .all(|value| matches!(value, AttributeValue::S(_)));
        if item.is_empty() || item.len() > 4 || !all_strings {
            return Err(StoreError::BadCursor);
        }
        Ok(item)
    }

    /// The string value of one key attribute of the cursor.
    pub(crate) fn key_part(&self, name: &str) -> Result<String, StoreError> {
        string_attr(&self.key_item()?, name)
            .map(str::to_owned)
            .ok_or(StoreError::BadCursor)
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
