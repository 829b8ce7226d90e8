//! The embedded adapter: every table and index in one redb file. A write is
//! committed durably before it returns, so a committed write survives
//! `kill -9`.
//!
//! Writes go through one writer thread that commits them in groups (group
//! commit): the writes waiting while a commit runs are applied one after
//! another in the next redb write transaction, each with its own conditions
//! and against the state its predecessors left, and are all made durable by
//! one commit. A write that fails its conditions writes nothing and does
//! not disturb the others; a backend failure fails the whole group. redb
//! serialises write transactions anyway, so concurrent writers gain one
//! fsync per group instead of paying one each.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Weak, mpsc};

use async_trait::async_trait;
use redb::{
    Database, ReadableDatabase, ReadableTable, TableDefinition, TableError, WriteTransaction,
};

use crate::codec::{self, EncodedItem, KeyRange, key_bytes};
use crate::expr::Condition;
use crate::item::{AttributeValue, Item, StoredItem, string_attr};
use crate::request::{
    BatchOp, Cursor, Delete, Key, Page, Put, Query, SortKeys, UpdateItem, WriteOp,
};
use crate::schema::{IndexDef, PK, SK, TableDef};
use crate::{ItemStore, MAX_ITEM_BYTES, MAX_TRANSACTION_OPS, StoreError};

type Bytes<'a> = &'a [u8];

/// Items of a table keyed by (pk, sk).
fn items_table(table: &TableDef) -> String {
    format!("items/{}", table.name)
}

/// Entries of an index keyed by (index pk, index sk, pk, sk), valued by the item's key.
fn index_table(table: &TableDef, index: &str) -> String {
    format!("index/{}/{}", table.name, index)
}

/// When items expire, for the sweep: keyed by (expiry, pk, sk) with the
/// expiry first as an order-preserving 8 bytes, valued by the item's key.
fn expiry_table(table: &TableDef) -> String {
    format!("expiry/{}", table.name)
}

/// Marks of one-time work done on the file (`expiry/<table>`: its expiry
/// table holds every item's expiry, including items written before it existed).
const MARKS: TableDefinition<&str, &[u8]> = TableDefinition::new("marks");

fn expiry_entry(at: i64, primary: &[u8]) -> Vec<u8> {
    let mut entry = Vec::with_capacity(8 + primary.len());
    // Flipping the sign bit makes big-endian byte order the numeric order.
    entry.extend_from_slice(&((at as u64) ^ (1 << 63)).to_be_bytes());
    entry.extend_from_slice(primary);
    entry
}

/// An expiry as DynamoDB's TTL reads the attribute: whole epoch seconds in a number.
fn expiry(value: Option<&AttributeValue>) -> Option<i64> {
    match value {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

/// Most entries read on the executor at once (DynamoDB's batch-read size):
/// keys of a batch read, or the `Limit` of a query, which bounds the entries
/// it evaluates whatever its filter.
const READ_HERE_ENTRIES: usize = 100;

/// A durable, single-file item store.
#[derive(Clone)]
pub struct EmbeddedStore {
    db: Arc<Database>,
    writer: mpsc::Sender<Work>,
}

/// A write waiting for the writer thread: it runs in the group's
/// transaction and hands back what to tell its caller once the group's
/// commit is known.
type Work = Box<dyn FnOnce(&WriteTransaction) -> Settle + Send>;

/// Answers a caller, given the group's commit outcome (or why it failed).
type Reply = Box<dyn FnOnce(Result<(), &str>) + Send>;

/// Tells a caller how its write ended, given the group's commit outcome.
struct Settle {
    /// The write failed in the backend: the transaction may hold part of it.
    poisoned: bool,
    reply: Reply,
}

/// Most writes one commit takes.
const MAX_GROUP: usize = 256;

/// The writer thread: takes whatever writes are waiting, applies them in
/// one transaction and commits once. It ends when every handle is dropped.
fn run_writer(db: Weak<Database>, queue: mpsc::Receiver<Work>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(work) => group.push(work),
                Err(_) => break,
            }
        }
        let Some(db) = db.upgrade() else { return };
        let txn = match db.begin_write() {
            Ok(txn) => txn,
            Err(err) => {
                // Nothing ran: dropping the writes tells each caller so.
                tracing::error!(error = %err, writes = group.len(), "embedded store: cannot begin a write");
                continue;
            }
        };
        let settles: Vec<Settle> = group.into_iter().map(|work| work(&txn)).collect();
        let outcome = if settles.iter().any(|s| s.poisoned) {
            drop(txn);
            Err("a write of the same group failed in the store; nothing was written".to_owned())
        } else {
            txn.commit().map_err(|err| err.to_string())
        };
        drop(db);
        for settle in settles {
            (settle.reply)(outcome.as_ref().map(|_| ()).map_err(String::as_str));
        }
    }
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedStore").finish_non_exhaustive()
    }
}

impl EmbeddedStore {
    /// Page cache of the store; more only speeds up very large books.
    pub const DEFAULT_CACHE_BYTES: usize = 256 * 1024 * 1024;

    /// Opens the store file, creating it if needed. Only one process may hold it.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with_cache(path, Self::DEFAULT_CACHE_BYTES)
    }

    /// Opens the store file with a page cache of `cache_bytes`.
    pub fn open_with_cache(path: impl AsRef<Path>, cache_bytes: usize) -> Result<Self, StoreError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(StoreError::backend)?;
        }
        let db = Database::builder()
            .set_cache_size(cache_bytes)
            .create(path)
            .map_err(StoreError::backend)?;
        Self::start(db)
    }

    /// A store held in memory only: for tests that do not test durability
    /// (no file, no fsync per write).
    pub fn in_memory() -> Result<Self, StoreError> {
        let db = Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(StoreError::backend)?;
        Self::start(db)
    }

    /// Starts the writer thread of a newly opened database.
    fn start(db: Database) -> Result<Self, StoreError> {
        let db = Arc::new(db);
        let (writer, queue) = mpsc::channel();
        let weak = Arc::downgrade(&db);
        std::thread::Builder::new()
            .name("embedded-store-writer".into())
            .spawn(move || run_writer(weak, queue))
            .map_err(StoreError::backend)?;
        Ok(EmbeddedStore { db, writer })
    }

    /// Runs `work` in the writer's next group and waits for its commit.
    /// When `work` fails with a conflict or an invalid request it must have
    /// written nothing; any other failure fails the whole group.
    async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&WriteTransaction) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let queued: Work = Box::new(move |txn| {
            let result = work(txn);
            let poisoned = matches!(
                result,
                Err(StoreError::Backend(_)
                    | StoreError::Corrupt(_)
                    | StoreError::Busy(_)
                    | StoreError::BadCursor)
            );
            Settle {
                poisoned,
                reply: Box::new(move |committed| {
                    let answer = match (result, committed) {
                        (Err(err), _) => Err(err),
                        (Ok(value), Ok(())) => Ok(value),
                        (Ok(_), Err(message)) => Err(StoreError::backend(std::io::Error::other(
                            message.to_owned(),
                        ))),
                    };
                    let _ = sender.send(answer);
                }),
            }
        });
        self.writer
            .send(queued)
            .map_err(|_| StoreError::backend(std::io::Error::other("the store writer stopped")))?;
        receiver.await.map_err(|_| {
            StoreError::backend(std::io::Error::other(
                "the store writer could not begin a transaction",
            ))
        })?
    }

    /// Reads here, on the executor, when the work reads at most `entries`
    /// entries and that is few: each is a B-tree step through pages redb
    /// mostly has in its cache, shorter than handing the work to a blocking
    /// thread and back (on a lead listing those hand-offs were a tenth of the
    /// CPU, and on one-lead pages the waking of blocking threads a third).
    /// More entries, unbounded queries and every write go through
    /// [`Self::blocking`].
    async fn bounded<T: Send + 'static>(
        &self,
        entries: usize,
        work: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        if entries <= READ_HERE_ENTRIES {
            work(&self.db)
        } else {
            self.blocking(work).await
        }
    }

    /// Runs blocking redb work off the async executor.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || work(&db))
            .await
            .map_err(StoreError::backend)?
    }

    /// How the file's space is used: (bytes of data, bytes allocated but free).
    pub async fn space(&self) -> Result<(u64, u64), StoreError> {
        self.blocking(|db| {
            let txn = db.begin_write().map_err(StoreError::backend)?;
            let stats = txn.stats().map_err(StoreError::backend)?;
            let used = stats.stored_bytes() + stats.metadata_bytes();
            let free = stats.fragmented_bytes();
            txn.abort().map_err(StoreError::backend)?;
            Ok((used, free))
        })
        .await
    }

    /// Deletes every item whose TTL attribute lies before `now_epoch_seconds`,
    /// as DynamoDB's TTL process does; returns how many were deleted. It reads
    /// only the expired entries of each table's expiry table (the first sweep
    /// of a file written before that table existed fills it once), so a sweep
    /// neither holds the writer for a scan of every item nor fills the page
    /// cache with them.
    pub async fn sweep_expired(
        &self,
        tables: &'static [&'static TableDef],
        now_epoch_seconds: i64,
    ) -> Result<usize, StoreError> {
        self.write(move |txn| {
            let mut removed = 0;
            for table in tables {
                let Some(ttl) = table.ttl_attribute else {
                    continue;
                };
                record_expiries_once(txn, table, ttl)?;
                let expired: Vec<Key> = {
                    let entries = txn
                        .open_table(TableDefinition::<Bytes, Bytes>::new(&expiry_table(table)))
                        .map_err(StoreError::backend)?;
                    let before = expiry_entry(now_epoch_seconds, &[]);
                    let mut expired = Vec::new();
                    for entry in entries
                        .range::<&[u8]>(..before.as_slice())
                        .map_err(StoreError::backend)?
                    {
                        let (_, key) = entry.map_err(StoreError::backend)?;
                        expired.push(Key::of(&codec::decode_item(key.value())?)?);
                    }
                    expired
                };
                for key in expired {
                    write_item(txn, table, &key, None)?;
                    removed += 1;
                }
            }
            Ok(removed)
        })
        .await
    }
}

/// Fills a table's expiry table from its items, once per file: stores
/// written before expiry tables existed have items with no entry.
fn record_expiries_once(
    txn: &WriteTransaction,
    table: &'static TableDef,
    ttl: &str,
) -> Result<(), StoreError> {
    let mark = expiry_table(table);
    let mut marks = txn.open_table(MARKS).map_err(StoreError::backend)?;
    if marks
        .get(mark.as_str())
        .map_err(StoreError::backend)?
        .is_some()
    {
        return Ok(());
    }
    let items = txn
        .open_table(TableDefinition::<Bytes, Bytes>::new(&items_table(table)))
        .map_err(StoreError::backend)?;
    let mut entries = txn
        .open_table(TableDefinition::<Bytes, Bytes>::new(&mark))
        .map_err(StoreError::backend)?;
    for entry in items.iter().map_err(StoreError::backend)? {
        let (primary, value) = entry.map_err(StoreError::backend)?;
        let lazy = EncodedItem::new(value.value());
        if let Some(at) = expiry(lazy.attribute(ttl)?.as_ref()) {
            let key = lazy.project(&[PK.to_owned(), SK.to_owned()])?;
            entries
                .insert(
                    expiry_entry(at, primary.value()).as_slice(),
                    codec::encode_item(&key).as_slice(),
                )
                .map_err(StoreError::backend)?;
        }
    }
    marks
        .insert(mark.as_str(), [].as_slice())
        .map_err(StoreError::backend)?;
    Ok(())
}

/// Reads the items with these keys in one read transaction, each through
/// `found`: a key given twice is read once, a missing one is left out. Keys go
/// in byte order, so neighbouring items are read from pages just visited.
fn read_each<T>(
    db: &Database,
    table: &'static TableDef,
    mut keys: Vec<Key>,
    mut found: impl FnMut(Key, &[u8]) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let txn = db.begin_read().map_err(StoreError::backend)?;
    let name = items_table(table);
    let items = match txn.open_table(TableDefinition::<Bytes, Bytes>::new(&name)) {
        Ok(items) => items,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(err) => return Err(StoreError::backend(err)),
    };
    keys.sort_unstable();
    keys.dedup();
    let mut read = Vec::with_capacity(keys.len());
    for key in keys {
        if let Some(value) = items
            .get(key_bytes(&[&key.pk, &key.sk]).as_slice())
            .map_err(StoreError::backend)?
        {
            read.push(found(key, value.value())?);
        }
    }
    Ok(read)
}

fn read_item(
    txn: &WriteTransaction,
    table: &TableDef,
    key: &Key,
) -> Result<Option<Item>, StoreError> {
    let name = items_table(table);
    let items = txn
        .open_table(TableDefinition::<Bytes, Bytes>::new(&name))
        .map_err(StoreError::backend)?;
    let found = items
        .get(key_bytes(&[&key.pk, &key.sk]).as_slice())
        .map_err(StoreError::backend)?;
    found
        .map(|value| codec::decode_item(value.value()))
        .transpose()
}

fn index_keys<'a>(
    table: &'static TableDef,
    item: &'a Item,
) -> Vec<(&'static IndexDef, &'a str, &'a str)> {
    table
        .indexes
        .iter()
        .filter_map(|index| {
            Some((
                index,
                string_attr(item, index.pk)?,
                string_attr(item, index.sk)?,
            ))
        })
        .collect()
}

/// Replaces (or with `None`, deletes) the item at `key`, keeping indexes in
/// step. An index entry holds the item's primary key (projection `All`) or
/// the projected attributes themselves (`Include`), as a DynamoDB index does.
fn write_item(
    txn: &WriteTransaction,
    table: &'static TableDef,
    key: &Key,
    new: Option<&Item>,
) -> Result<(), StoreError> {
    let name = items_table(table);
    let mut items = txn
        .open_table(TableDefinition::<Bytes, Bytes>::new(&name))
        .map_err(StoreError::backend)?;
    let primary = key_bytes(&[&key.pk, &key.sk]);
    let replaced = match new {
        Some(item) => items.insert(primary.as_slice(), codec::encode_item(item).as_slice()),
        None => items.remove(primary.as_slice()),
    }
    .map_err(StoreError::backend)?;
    if table.indexes.is_empty() && table.ttl_attribute.is_none() {
        return Ok(());
    }
    // Only the old item's index keys and expiry matter.
    let key_names: Vec<String> = table
        .key_attributes()
        .iter()
        .copied()
        .chain(table.ttl_attribute)
        .map(str::to_owned)
        .collect();
    let old = replaced
        .map(|value| EncodedItem::new(value.value()).project(&key_names))
        .transpose()?;
    if let Some(ttl) = table.ttl_attribute {
        let old_expiry = expiry(old.as_ref().and_then(|o| o.get(ttl)));
        let new_expiry = expiry(new.and_then(|n| n.get(ttl)));
        if old_expiry != new_expiry {
            let mut entries = txn
                .open_table(TableDefinition::<Bytes, Bytes>::new(&expiry_table(table)))
                .map_err(StoreError::backend)?;
            if let Some(at) = old_expiry {
                entries
                    .remove(expiry_entry(at, &primary).as_slice())
                    .map_err(StoreError::backend)?;
            }
            if let Some(at) = new_expiry {
                entries
                    .insert(
                        expiry_entry(at, &primary).as_slice(),
                        codec::encode_item(&key.to_item()).as_slice(),
                    )
                    .map_err(StoreError::backend)?;
            }
        }
    }

    let old_entries = old
        .as_ref()
        .map(|o| index_keys(table, o))
        .unwrap_or_default();
    let new_entries = new.map(|n| index_keys(table, n)).unwrap_or_default();
    let same_entry = |a: &(&IndexDef, &str, &str), b: &(&IndexDef, &str, &str)| {
        a.0.name == b.0.name && a.1 == b.1 && a.2 == b.2
    };
    for old_entry in &old_entries {
        if !new_entries
            .iter()
            .any(|new_entry| same_entry(old_entry, new_entry))
        {
            let (index, gpk, gsk) = old_entry;
            let name = index_table(table, index.name);
            let mut entries = txn
                .open_table(TableDefinition::<Bytes, Bytes>::new(&name))
                .map_err(StoreError::backend)?;
            entries
                .remove(key_bytes(&[gpk, gsk, &key.pk, &key.sk]).as_slice())
                .map_err(StoreError::backend)?;
        }
    }
    if let Some(item) = new {
        for (index, gpk, gsk) in &new_entries {
            let value = match index.projected() {
                None => primary.clone(),
                Some(names) => {
                    let projected: std::collections::HashMap<String, AttributeValue> = names
                        .iter()
                        .filter_map(|n| item.get(n).map(|v| (n.clone(), v.clone())))
                        .collect();
                    codec::encode_item(&Item::from(projected))
                }
            };
            let name = index_table(table, index.name);
            let mut entries = txn
                .open_table(TableDefinition::<Bytes, Bytes>::new(&name))
                .map_err(StoreError::backend)?;
            entries
                .insert(
                    key_bytes(&[gpk, gsk, &key.pk, &key.sk]).as_slice(),
                    value.as_slice(),
                )
                .map_err(StoreError::backend)?;
        }
    }
    Ok(())
}

/// Checks what DynamoDB checks of an item before writing it.
fn validate_item(table: &TableDef, item: &Item) -> Result<Key, StoreError> {
    let key = Key::of(item)?;
    for index in table.indexes {
        for name in [index.pk, index.sk] {
            match item.get(name) {
                None => {}
                Some(AttributeValue::S(s)) if !s.is_empty() => {}
                Some(_) => {
                    return Err(StoreError::Invalid(format!(
                        "index key attribute {name} must be a non-empty string"
                    )));
                }
            }
        }
    }
    if codec::encode_item(item).len() > MAX_ITEM_BYTES {
        return Err(StoreError::Invalid("item exceeds 400 KB".into()));
    }
    Ok(key)
}

fn check(condition: Option<&Condition>, current: Option<&Item>) -> bool {
    condition.is_none_or(|c| c.evaluate(current))
}

/// The item an update produces from the current one (or from just the key).
fn updated(current: Option<Item>, op: &UpdateItem) -> Result<Item, StoreError> {
    let mut item = current.unwrap_or_else(|| op.key.to_item());
    op.update.apply(&mut item)?;
    validate_item(op.table, &item)?;
    Ok(item)
}

#[async_trait]
impl ItemStore for EmbeddedStore {
    #[tracing::instrument(level = "debug", skip_all, fields(table = table.name))]
    async fn get(&self, table: &'static TableDef, key: Key) -> Result<Option<Item>, StoreError> {
        self.bounded(1, move |db| {
            read_each(db, table, vec![key], |_, bytes| codec::decode_item(bytes))
                .map(|found| found.into_iter().next())
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(table = table.name))]
    async fn get_many(
        &self,
        table: &'static TableDef,
        keys: Vec<Key>,
    ) -> Result<Vec<Item>, StoreError> {
        self.bounded(keys.len(), move |db| {
            read_each(db, table, keys, |_, bytes| codec::decode_item(bytes))
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(table = table.name))]
    async fn get_stored(
        &self,
        table: &'static TableDef,
        keys: Vec<Key>,
    ) -> Result<Vec<StoredItem>, StoreError> {
        self.bounded(keys.len(), move |db| {
            read_each(db, table, keys, |key, bytes| {
                Ok(StoredItem::encoded(key, bytes.to_vec()))
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(table = put.table.name))]
    async fn put(&self, put: Put) -> Result<(), StoreError> {
        let key = validate_item(put.table, &put.item)?;
        self.write(move |txn| {
            let current = read_item(txn, put.table, &key)?;
            if !check(put.condition.as_ref(), current.as_ref()) {
                return Err(StoreError::single_conflict());
            }
            write_item(txn, put.table, &key, Some(&put.item))
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(table = op.table.name))]
    async fn update(&self, op: UpdateItem) -> Result<Item, StoreError> {
        op.update.validate()?;
        self.write(move |txn| {
            let current = read_item(txn, op.table, &op.key)?;
            if !check(op.condition.as_ref(), current.as_ref()) {
                return Err(StoreError::single_conflict());
            }
            let item = updated(current, &op)?;
            write_item(txn, op.table, &op.key, Some(&item))?;
            Ok(item)
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(table = op.table.name))]
    async fn delete(&self, op: Delete) -> Result<Option<Item>, StoreError> {
        self.write(move |txn| {
            let current = read_item(txn, op.table, &op.key)?;
            if !check(op.condition.as_ref(), current.as_ref()) {
                return Err(StoreError::single_conflict());
            }
            if current.is_some() {
                write_item(txn, op.table, &op.key, None)?;
            }
            Ok(current)
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(table = query.table.name, index = query.index))]
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        query.validate()?;
        let run = if asks_only_keys(&query)? {
            run_key_query
        } else {
            run_query
        };
        self.bounded(query.evaluated(), move |db| run(db, &query))
            .await
    }

    async fn query_sort_keys(&self, query: Query) -> Result<SortKeys, StoreError> {
        query.validate()?;
        if query.filter.is_some() {
            // A filter reads the items.
            let (_, sk) = query.key_names()?;
            let query = query.project([sk]);
            let page = self
                .bounded(query.evaluated(), move |db| run_query(db, &query))
                .await?;
            return SortKeys::of_page(page, sk);
        }
        self.bounded(query.evaluated(), move |db| run_sort_key_query(db, &query))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(ops = ops.len()))]
    async fn transact_write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        if ops.len() > MAX_TRANSACTION_OPS {
            return Err(StoreError::Invalid(format!(
                "a transaction holds at most {MAX_TRANSACTION_OPS} operations"
            )));
        }
        let mut seen = HashSet::new();
        for op in &ops {
            if !seen.insert((op.table().name, op.key()?)) {
                return Err(StoreError::Invalid(
                    "a transaction may touch each item only once".into(),
                ));
            }
            match op {
                WriteOp::Put(put) => {
                    validate_item(put.table, &put.item)?;
                }
                WriteOp::Update(update) => update.update.validate()?,
                WriteOp::Delete(_) | WriteOp::Check(_) => {}
            }
        }
        self.write(move |txn| {
            // Evaluate every condition against the state before the transaction...
            let mut currents = Vec::with_capacity(ops.len());
            let mut failed = Vec::new();
            for (index, op) in ops.iter().enumerate() {
                let current = read_item(txn, op.table(), &op.key()?)?;
                let condition = match op {
                    WriteOp::Put(put) => put.condition.as_ref(),
                    WriteOp::Update(update) => update.condition.as_ref(),
                    WriteOp::Delete(delete) => delete.condition.as_ref(),
                    WriteOp::Check(check) => Some(&check.condition),
                };
                if !check(condition, current.as_ref()) {
                    failed.push(index);
                }
                currents.push(current);
            }
            if !failed.is_empty() {
                return Err(StoreError::Conflict { failed });
            }
            // ...work out every item's new state (an update may still be
            // refused)...
            let mut writes = Vec::with_capacity(ops.len());
            for (op, current) in ops.iter().zip(currents) {
                match op {
                    WriteOp::Put(put) => {
                        writes.push((
                            put.table,
                            Key::of(&put.item)?,
                            Some(Cow::Borrowed(&put.item)),
                        ));
                    }
                    WriteOp::Update(update) => {
                        let item = updated(current, update)?;
                        writes.push((update.table, update.key.clone(), Some(Cow::Owned(item))));
                    }
                    WriteOp::Delete(delete) => {
                        if current.is_some() {
                            writes.push((delete.table, delete.key.clone(), None));
                        }
                    }
                    WriteOp::Check(_) => {}
                }
            }
            // ...then write them all.
            for (table, key, item) in &writes {
                write_item(txn, table, key, item.as_deref())?;
            }
            Ok(())
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(ops = ops.len()))]
    async fn batch_write(&self, ops: Vec<BatchOp>) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        let mut keyed = Vec::with_capacity(ops.len());
        for op in ops {
            match op {
                BatchOp::Put { table, item } => {
                    let key = validate_item(table, &item)?;
                    keyed.push((table, key, Some(item)));
                }
                BatchOp::Delete { table, key } => keyed.push((table, key, None)),
            }
        }
        self.write(move |txn| {
            for (table, key, item) in &keyed {
                write_item(txn, table, key, item.as_ref())?;
            }
            Ok(())
        })
        .await
    }
}

/// The entry keys a query covers: its partition and sort-key condition,
/// after its cursor.
fn key_range(query: &Query) -> Result<KeyRange, StoreError> {
    let (pk_name, sk_name) = query.key_names()?;
    let (mut lower, mut upper) = codec::partition_range(&query.partition, query.sort.as_ref());
    if let Some(cursor) = &query.cursor {
        let mut resume = vec![cursor.key_part(pk_name)?, cursor.key_part(sk_name)?];
        if query.index.is_some() {
            resume.push(cursor.key_part(PK)?);
            resume.push(cursor.key_part(SK)?);
        }
        if resume[0] != query.partition {
            return Err(StoreError::BadCursor);
        }
        let parts: Vec<&str> = resume.iter().map(String::as_str).collect();
        let position = key_bytes(&parts);
        if query.forward {
            lower = Bound::Excluded(position);
        } else {
            upper = Bound::Excluded(position);
        }
    }
    Ok((lower, upper))
}

/// Walks a query's entries by their keys alone (`(pk, sk)` in the table,
/// `(index pk, index sk, pk, sk)` in an index), never reading an item:
/// `visit` gets each entry's key and says whether to go on. Answers the
/// cursor after the last entry visited when entries remain.
fn walk_entry_keys(
    db: &Database,
    query: &Query,
    mut visit: impl FnMut(&[u8]) -> Result<bool, StoreError>,
) -> Result<Option<Cursor>, StoreError> {
    let (pk_name, sk_name) = query.key_names()?;
    let txn = db.begin_read().map_err(StoreError::backend)?;
    let name = match query.index {
        None => items_table(query.table),
        Some(index) => index_table(query.table, index),
    };
    let entries = match txn.open_table(TableDefinition::<Bytes, Bytes>::new(&name)) {
        Ok(entries) => entries,
        Err(TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(err) => return Err(StoreError::backend(err)),
    };
    let range = key_range(query)?;
    let mut last: Vec<u8> = Vec::new();
    let mut range = entries
        .range::<Bytes>(borrow(&range))
        .map_err(StoreError::backend)?;
    let more = walk(&mut range, query.forward, |key, _| {
        last.clear();
        last.extend_from_slice(key);
        visit(key)
    })?;
    if !more || last.is_empty() {
        return Ok(None);
    }
    let item = key_item(&last, &[pk_name, sk_name, PK, SK], |_| true)?;
    Ok(Some(Cursor::from_key_item(&item)))
}

/// The key attributes of an entry key, named by `names` in the order of its
/// components, those that `wanted` keeps.
fn key_item(
    entry_key: &[u8],
    names: &[&str],
    wanted: impl Fn(&str) -> bool,
) -> Result<Item, StoreError> {
    let mut item = std::collections::HashMap::with_capacity(names.len());
    codec::read_components_where(
        entry_key,
        |position| names.get(position).is_some_and(|name| wanted(name)),
        |position, part| {
            item.insert(names[position].to_owned(), AttributeValue::S(part));
        },
    )?;
    Ok(Item::from(item))
}

/// The sort keys of an unfiltered query, read from the entries' keys: no
/// item is decoded, or even looked at.
fn run_sort_key_query(db: &Database, query: &Query) -> Result<SortKeys, StoreError> {
    let partition_len = key_bytes(&[&query.partition]).len();
    let limit = query.evaluated();
    let mut keys: Vec<String> = Vec::new();
    let cursor = walk_entry_keys(db, query, |key| {
        let sort = key
            .get(partition_len..)
            .ok_or_else(|| StoreError::Corrupt("an entry key outside its partition".into()))?;
        keys.push(codec::read_component(sort)?.0);
        Ok(keys.len() < limit)
    })?;
    Ok(SortKeys { keys, cursor })
}

/// Whether a query asks only for key attributes (no filter, a projection of
/// the table's or the index's keys), which its entry keys hold.
fn asks_only_keys(query: &Query) -> Result<bool, StoreError> {
    let (pk_name, sk_name) = query.key_names()?;
    let keys = [pk_name, sk_name, PK, SK];
    Ok(query.filter.is_none()
        && query
            .projection
            .as_ref()
            .is_some_and(|names| names.iter().all(|n| keys.contains(&n.as_str()))))
}

/// A query of key attributes only, answered from the entry keys.
fn run_key_query(db: &Database, query: &Query) -> Result<Page, StoreError> {
    let (pk_name, sk_name) = query.key_names()?;
    let names = [pk_name, sk_name, PK, SK];
    let projection = query.projection.as_deref().unwrap_or_default();
    let limit = query.evaluated();
    let mut items = Vec::new();
    let cursor = walk_entry_keys(db, query, |key| {
        items.push(key_item(key, &names, |name| {
            projection.iter().any(|p| p == name)
        })?);
        Ok(items.len() < limit)
    })?;
    Ok(Page { items, cursor })
}

fn run_query(db: &Database, query: &Query) -> Result<Page, StoreError> {
    let (pk_name, sk_name) = query.key_names()?;
    let txn = db.begin_read().map_err(StoreError::backend)?;
    let items_name = items_table(query.table);
    let items = match txn.open_table(TableDefinition::<Bytes, Bytes>::new(&items_name)) {
        Ok(items) => items,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Page::default()),
        Err(err) => return Err(StoreError::backend(err)),
    };
    let range = key_range(query)?;
    let limit = query.limit.map_or(usize::MAX, |l| l as usize);
    let mut page = Page::default();
    let mut evaluated = 0usize;
    // The last evaluated item, kept encoded: the cursor needs only its keys.
    let mut last: Vec<u8> = Vec::new();

    // Filters read the encoded item lazily; only matches are decoded (whole,
    // or the projected attributes).
    let mut visit = |bytes: &[u8]| -> Result<bool, StoreError> {
        evaluated += 1;
        let lazy = EncodedItem::new(bytes);
        let matched = match &query.filter {
            None => true,
            Some(filter) => filter.evaluate_on(&lazy)?,
        };
        if matched {
            page.items.push(match &query.projection {
                None => codec::decode_item(bytes)?,
                Some(names) => lazy.project(names)?,
            });
        }
        last.clear();
        last.extend_from_slice(bytes);
        Ok(evaluated < limit)
    };

    let more = match query.index {
        None => {
            let mut entries = items
                .range::<Bytes>(borrow(&range))
                .map_err(StoreError::backend)?;
            walk(&mut entries, query.forward, |_, value| visit(value))?
        }
        Some(index) => {
            let name = index_table(query.table, index);
            let entries_table = match txn.open_table(TableDefinition::<Bytes, Bytes>::new(&name)) {
                Ok(table) => table,
                Err(TableError::TableDoesNotExist(_)) => return Ok(Page::default()),
                Err(err) => return Err(StoreError::backend(err)),
            };
            let mut entries = entries_table
                .range::<Bytes>(borrow(&range))
                .map_err(StoreError::backend)?;
            let holds_items = query
                .table
                .index(index)
                .is_some_and(|i| i.projected().is_some());
            walk(&mut entries, query.forward, |_, value| {
                if holds_items {
                    return visit(value);
                }
                let item = items
                    .get(value)
                    .map_err(StoreError::backend)?
                    .ok_or_else(|| StoreError::Corrupt("index entry without item".into()))?;
                visit(item.value())
            })?
        }
    };

    if more && !last.is_empty() {
        let mut names = vec![pk_name.to_owned(), sk_name.to_owned()];
        for name in [PK, SK] {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
        let key = EncodedItem::new(&last).project(&names)?;
        page.cursor = Some(Cursor::from_key_item(&key));
    }
    Ok(page)
}

fn borrow(range: &KeyRange) -> (Bound<&[u8]>, Bound<&[u8]>) {
    (
        range.0.as_ref().map(Vec::as_slice),
        range.1.as_ref().map(Vec::as_slice),
    )
}

/// Feeds entries to `visit` until it says stop; returns whether entries remain.
fn walk(
    entries: &mut redb::Range<'_, Bytes<'static>, Bytes<'static>>,
    forward: bool,
    mut visit: impl FnMut(&[u8], &[u8]) -> Result<bool, StoreError>,
) -> Result<bool, StoreError> {
    loop {
        let next = if forward {
            entries.next()
        } else {
            entries.next_back()
        };
        let Some(entry) = next else { return Ok(false) };
        let (key, value) = entry.map_err(StoreError::backend)?;
        if !visit(key.value(), value.value())? {
            let peek = if forward {
                entries.next()
            } else {
                entries.next_back()
            };
            return Ok(peek.is_some());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::TableDef;

    static TABLE: TableDef = TableDef {
        name: "sweep",
        indexes: &[],
        ttl_attribute: Some("expires_at"),
    };
    static TABLES: &[&TableDef] = &[&TABLE];

    fn lead(sk: &str, expires_at: Option<i64>) -> Item {
        let mut item = Key::new("p", sk).to_item();
        if let Some(at) = expires_at {
            item.insert("expires_at".into(), AttributeValue::N(at.to_string()));
        }
        item
    }

    async fn sks(store: &EmbeddedStore) -> Vec<String> {
        let page = store.query(Query::new(&TABLE, "p")).await.unwrap();
        page.items
            .iter()
            .map(|item| string_attr(item, SK).unwrap().to_owned())
            .collect()
    }

    #[tokio::test]
    async fn the_sweep_deletes_exactly_the_items_expired_by_now() {
        let store = EmbeddedStore::in_memory().unwrap();
        for item in [
            lead("past", Some(-5)),
            lead("just", Some(99)),
            lead("now", Some(100)),
            lead("later", Some(1_000)),
            lead("never", None),
            lead("extended", Some(10)),
            lead("kept", Some(10)),
        ] {
            store.put(Put::new(&TABLE, item)).await.unwrap();
        }
        // Rewritten with a later expiry, and without one.
        store
            .put(Put::new(&TABLE, lead("extended", Some(5_000))))
            .await
            .unwrap();
        store
            .put(Put::new(&TABLE, lead("kept", None)))
            .await
            .unwrap();

        assert_eq!(store.sweep_expired(TABLES, 100).await.unwrap(), 2);
        assert_eq!(
            sks(&store).await,
            ["extended", "kept", "later", "never", "now"]
        );
        assert_eq!(store.sweep_expired(TABLES, 100).await.unwrap(), 0);
        store
            .delete(Delete::new(&TABLE, Key::new("p", "later")))
            .await
            .unwrap();
        assert_eq!(store.sweep_expired(TABLES, 10_000).await.unwrap(), 2);
        assert_eq!(sks(&store).await, ["kept", "never"]);
    }

    #[tokio::test]
    async fn a_file_written_before_expiry_tables_is_swept_too() {
        let store = EmbeddedStore::in_memory().unwrap();
        for item in [
            lead("old", Some(1)),
            lead("fresh", Some(1_000)),
            lead("never", None),
        ] {
            store.put(Put::new(&TABLE, item)).await.unwrap();
        }
        // As a file from before: no expiry table, no mark.
        store
            .write(|txn| {
                txn.delete_table(TableDefinition::<Bytes, Bytes>::new(&expiry_table(&TABLE)))
                    .map_err(StoreError::backend)?;
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(store.sweep_expired(TABLES, 100).await.unwrap(), 1);
        assert_eq!(sks(&store).await, ["fresh", "never"]);
        assert_eq!(store.sweep_expired(TABLES, 2_000).await.unwrap(), 1);
        assert_eq!(sks(&store).await, ["never"]);
    }
}
