//! The DynamoDB adapter: renders the port's requests to DynamoDB expressions.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    self as ddb, AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    PointInTimeRecoverySpecification, Projection, ProjectionType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification, TimeToLiveStatus, TransactWriteItem, WriteRequest,
};
use tracing::{debug, warn};

use crate::expr::{Cmp, Condition, Update, UpdateAction};
use crate::item::{AttributeValue, Item};
use crate::request::{
    BatchOp, Cursor, Delete, Key, Page, Put, Query, SortKeyCondition, UpdateItem, WriteOp,
};
use crate::schema::{PK, SK, TableDef};
use crate::{ItemStore, MAX_TRANSACTION_OPS, StoreError};

/// DynamoDB's largest batch write.
const BATCH_WRITE_LIMIT: usize = 25;
/// DynamoDB's largest batch read.
const BATCH_GET_LIMIT: usize = 100;
/// Attempts for batch leftovers and transaction conflicts before giving up.
const ATTEMPTS: u32 = 8;

type SdkItem = HashMap<String, ddb::AttributeValue>;

/// Item storage on DynamoDB tables named `{prefix}{table}`.
#[derive(Debug, Clone)]
pub struct DynamoDbStore {
    client: Client,
    prefix: String,
}

impl DynamoDbStore {
    pub fn new(client: Client, table_prefix: impl Into<String>) -> Self {
        DynamoDbStore {
            client,
            prefix: table_prefix.into(),
        }
    }

    fn table_name(&self, table: &TableDef) -> String {
        format!("{}{}", self.prefix, table.name)
    }
}

fn sdk_item(item: Item) -> SdkItem {
    item.into()
}

fn sdk_value(value: &AttributeValue) -> ddb::AttributeValue {
    value.clone().into()
}

fn key_item(key: &Key) -> SdkItem {
    HashMap::from([
        (PK.to_owned(), ddb::AttributeValue::S(key.pk.clone())),
        (SK.to_owned(), ddb::AttributeValue::S(key.sk.clone())),
    ])
}

/// Placeholders for one request's expressions.
#[derive(Default)]
struct Expressions {
    names: HashMap<String, String>,
    placeholders: HashMap<String, String>,
    values: HashMap<String, ddb::AttributeValue>,
}

impl Expressions {
    fn name(&mut self, name: &str) -> String {
        if let Some(placeholder) = self.placeholders.get(name) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), name.to_owned());
        self.placeholders
            .insert(name.to_owned(), placeholder.clone());
        placeholder
    }

    fn value(&mut self, value: ddb::AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    fn condition(&mut self, condition: &Condition) -> Result<String, StoreError> {
        Ok(match condition {
            Condition::Exists(name) => format!("attribute_exists({})", self.name(name)),
            Condition::NotExists(name) => format!("attribute_not_exists({})", self.name(name)),
            Condition::Compare(name, op, value) => {
                let op = match op {
                    Cmp::Eq => "=",
                    Cmp::Ne => "<>",
                    Cmp::Lt => "<",
                    Cmp::Le => "<=",
                    Cmp::Gt => ">",
                    Cmp::Ge => ">=",
                };
                format!("{} {op} {}", self.name(name), self.value(sdk_value(value)))
            }
            Condition::BeginsWith(name, prefix) => format!(
                "begins_with({}, {})",
                self.name(name),
                self.value(ddb::AttributeValue::S(prefix.clone()))
            ),
            Condition::Contains(name, value) => format!(
                "contains({}, {})",
                self.name(name),
                self.value(sdk_value(value))
            ),
            Condition::In(name, values) => {
                let name = self.name(name);
                if values.is_empty() {
                    // Nothing is in an empty list.
                    format!("(attribute_exists({name}) AND attribute_not_exists({name}))")
                } else {
                    let list: Vec<String> =
                        values.iter().map(|v| self.value(sdk_value(v))).collect();
                    format!("{name} IN ({})", list.join(", "))
                }
            }
            Condition::And(all) => self.join(all, " AND ")?,
            Condition::Or(any) => self.join(any, " OR ")?,
            Condition::Not(inner) => format!("NOT ({})", self.condition(inner)?),
        })
    }

    fn join(&mut self, parts: &[Condition], op: &str) -> Result<String, StoreError> {
        if parts.is_empty() {
            return Err(StoreError::Invalid("empty AND/OR condition".into()));
        }
        let rendered = parts
            .iter()
            .map(|part| self.condition(part).map(|c| format!("({c})")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rendered.join(op))
    }

    fn update(&mut self, update: &Update) -> String {
        let (mut set, mut remove, mut add) = (Vec::new(), Vec::new(), Vec::new());
        for action in &update.actions {
            match action {
                UpdateAction::Set(name, value) => {
                    let (n, v) = (self.name(name), self.value(sdk_value(value)));
                    set.push(format!("{n} = {v}"));
                }
                UpdateAction::SetIfAbsent(name, value) => {
                    let (n, v) = (self.name(name), self.value(sdk_value(value)));
                    set.push(format!("{n} = if_not_exists({n}, {v})"));
                }
                UpdateAction::Remove(name) => remove.push(self.name(name)),
                UpdateAction::Add(name, delta) => {
                    let (n, v) = (
                        self.name(name),
                        self.value(ddb::AttributeValue::N(delta.to_string())),
                    );
                    add.push(format!("{n} {v}"));
                }
            }
        }
        let mut clauses = Vec::new();
        if !set.is_empty() {
            clauses.push(format!("SET {}", set.join(", ")));
        }
        if !remove.is_empty() {
            clauses.push(format!("REMOVE {}", remove.join(", ")));
        }
        if !add.is_empty() {
            clauses.push(format!("ADD {}", add.join(", ")));
        }
        clauses.join(" ")
    }

    fn key_condition(
        &mut self,
        (pk_name, sk_name): (&str, &str),
        partition: &str,
        sort: Option<&SortKeyCondition>,
    ) -> String {
        let pk = self.name(pk_name);
        let partition = self.value(ddb::AttributeValue::S(partition.to_owned()));
        let mut expression = format!("{pk} = {partition}");
        if let Some(sort) = sort {
            let sk = self.name(sk_name);
            let mut v = |s: &String| self.value(ddb::AttributeValue::S(s.clone()));
            let clause = match sort {
                SortKeyCondition::Eq(s) => format!("{sk} = {}", v(s)),
                SortKeyCondition::Lt(s) => format!("{sk} < {}", v(s)),
                SortKeyCondition::Le(s) => format!("{sk} <= {}", v(s)),
                SortKeyCondition::Gt(s) => format!("{sk} > {}", v(s)),
                SortKeyCondition::Ge(s) => format!("{sk} >= {}", v(s)),
                SortKeyCondition::Between(a, b) => format!("{sk} BETWEEN {} AND {}", v(a), v(b)),
                SortKeyCondition::BeginsWith(p) => format!("begins_with({sk}, {})", v(p)),
            };
            expression.push_str(" AND ");
            expression.push_str(&clause);
        }
        expression
    }

    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    fn values(&self) -> Option<HashMap<String, ddb::AttributeValue>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// Maps an SDK failure to the port's errors.
fn store_error<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match err.code() {
        Some("ConditionalCheckFailedException") => StoreError::single_conflict(),
        Some(
            "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "TransactionConflictException"
            | "TransactionInProgressException",
        ) => StoreError::Busy(Some(Box::new(err))),
        Some("ValidationException") => StoreError::Invalid(
            err.message()
                .unwrap_or("DynamoDB rejected the request")
                .to_owned(),
        ),
        _ => StoreError::Backend(Box::new(err)),
    }
}

/// How long to wait before retry `attempt`: capped exponential backoff with
/// jitter ("Exponential Backoff And Jitter", AWS Architecture Blog), so that
/// writers that collided do not collide again in step.
fn backoff(attempt: u32) -> Duration {
    let ceiling = 25u64 << attempt.min(6);
    Duration::from_millis(ceiling / 2 + rand::random_range(0..=ceiling / 2))
}

#[async_trait]
impl ItemStore for DynamoDbStore {
    #[tracing::instrument(level = "debug", skip_all, fields(table = table.name))]
    async fn get(&self, table: &'static TableDef, key: Key) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(self.table_name(table))
            .set_key(Some(key_item(&key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        Ok(output.item.map(Item::from))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(table = table.name))]
    async fn get_many(
        &self,
        table: &'static TableDef,
        keys: Vec<Key>,
    ) -> Result<Vec<Item>, StoreError> {
        let name = self.table_name(table);
        let mut unique: Vec<Key> = Vec::with_capacity(keys.len());
        let mut seen = std::collections::HashSet::with_capacity(keys.len());
        for key in keys {
            if seen.insert(key.clone()) {
                unique.push(key);
            }
        }
        let mut found = Vec::with_capacity(unique.len());
        for chunk in unique.chunks(BATCH_GET_LIMIT) {
            let mut pending = Some(
                ddb::KeysAndAttributes::builder()
                    .set_keys(Some(chunk.iter().map(key_item).collect()))
                    .consistent_read(true)
                    .build()
                    .map_err(StoreError::backend)?,
            );
            let mut attempt = 0;
            while let Some(request) = pending.take() {
                let output = self
                    .client
                    .batch_get_item()
                    .request_items(&name, request)
                    .send()
                    .await
                    .map_err(store_error)?;
                if let Some(mut responses) = output.responses
                    && let Some(items) = responses.remove(&name)
                {
                    found.extend(items.into_iter().map(Item::from));
                }
                pending = output
                    .unprocessed_keys
                    .and_then(|mut left| left.remove(&name))
                    .filter(|left| !left.keys().is_empty());
                if pending.is_some() {
                    attempt += 1;
                    if attempt >= ATTEMPTS {
                        return Err(StoreError::Busy(None));
                    }
                    tokio::time::sleep(backoff(attempt)).await;
                }
            }
        }
        Ok(found)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(table = put.table.name))]
    async fn put(&self, put: Put) -> Result<(), StoreError> {
        Key::of(&put.item)?;
        let mut expr = Expressions::default();
        let condition = put
            .condition
            .as_ref()
            .map(|c| expr.condition(c))
            .transpose()?;
        self.client
            .put_item()
            .table_name(self.table_name(put.table))
            .set_item(Some(sdk_item(put.item)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(table = op.table.name))]
    async fn update(&self, op: UpdateItem) -> Result<Item, StoreError> {
        op.update.validate()?;
        let mut expr = Expressions::default();
        let update = expr.update(&op.update);
        let condition = op
            .condition
            .as_ref()
            .map(|c| expr.condition(c))
            .transpose()?;
        let output = self
            .client
            .update_item()
            .table_name(self.table_name(op.table))
            .set_key(Some(key_item(&op.key)))
            .update_expression(update)
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ddb::ReturnValue::AllNew)
            .send()
            .await
            .map_err(store_error)?;
        Ok(output.attributes.map(Item::from).unwrap_or_default())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(table = op.table.name))]
    async fn delete(&self, op: Delete) -> Result<Option<Item>, StoreError> {
        let mut expr = Expressions::default();
        let condition = op
            .condition
            .as_ref()
            .map(|c| expr.condition(c))
            .transpose()?;
        let output = self
            .client
            .delete_item()
            .table_name(self.table_name(op.table))
            .set_key(Some(key_item(&op.key)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ddb::ReturnValue::AllOld)
            .send()
            .await
            .map_err(store_error)?;
        Ok(output.attributes.map(Item::from))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(table = query.table.name, index = query.index))]
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        query.validate()?;
        let key_names = query.key_names()?;
        let start = match &query.cursor {
            None => None,
            Some(cursor) => {
                if cursor.key_part(key_names.0)? != query.partition {
                    return Err(StoreError::BadCursor);
                }
                Some(sdk_item(cursor.key_item()?))
            }
        };
        let mut expr = Expressions::default();
        let key_condition = expr.key_condition(key_names, &query.partition, query.sort.as_ref());
        let filter = query
            .filter
            .as_ref()
            .map(|f| expr.condition(f))
            .transpose()?;
        let projection = query.projection.as_ref().map(|names| {
            names
                .iter()
                .map(|n| expr.name(n))
                .collect::<Vec<_>>()
                .join(", ")
        });
        let output = self
            .client
            .query()
            .table_name(self.table_name(query.table))
            .set_index_name(query.index.map(str::to_owned))
            .key_condition_expression(key_condition)
            .set_filter_expression(filter)
            .set_projection_expression(projection)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .scan_index_forward(query.forward)
            .set_limit(query.limit.map(|l| i32::try_from(l).unwrap_or(i32::MAX)))
            .set_exclusive_start_key(start)
            .consistent_read(query.index.is_none())
            .send()
            .await
            .map_err(store_error)?;
        Ok(Page {
            items: output
                .items
                .unwrap_or_default()
                .into_iter()
                .map(Item::from)
                .collect(),
            cursor: output
                .last_evaluated_key
                .filter(|key| !key.is_empty())
                .map(|key| Cursor::from_key_item(&Item::from(key))),
        })
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
        let items = ops
            .iter()
            .map(|op| self.transact_item(op))
            .collect::<Result<Vec<_>, _>>()?;
        let mut attempt = 0;
        loop {
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await;
            let err = match result {
                Ok(_) => return Ok(()),
                Err(err) => err,
            };
            let retryable = match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                    let reasons = cancelled.cancellation_reasons();
                    let failed: Vec<usize> = reasons
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                        .map(|(i, _)| i)
                        .collect();
                    if !failed.is_empty() {
                        return Err(StoreError::Conflict { failed });
                    }
                    reasons.iter().any(|r| {
                        matches!(r.code(), Some("TransactionConflict" | "ThrottlingError"))
                    })
                }
                Some(TransactWriteItemsError::TransactionInProgressException(_)) => true,
                _ => false,
            };
            attempt += 1;
            if !retryable {
                return Err(store_error(err));
            }
            if attempt >= ATTEMPTS {
                return Err(StoreError::Busy(Some(Box::new(err))));
            }
            debug!(attempt, "transaction conflicted; retrying");
            tokio::time::sleep(backoff(attempt)).await;
        }
    }

    #[tracing::instrument(level = "debug", skip_all, fields(ops = ops.len()))]
    async fn batch_write(&self, ops: Vec<BatchOp>) -> Result<(), StoreError> {
        // DynamoDB refuses two requests for one key in a batch; the last one wins anyway.
        let mut latest: HashMap<(&'static str, Key), usize> = HashMap::new();
        for (index, op) in ops.iter().enumerate() {
            let key = match op {
                BatchOp::Put { table, item } => (table.name, Key::of(item)?),
                BatchOp::Delete { table, key } => (table.name, key.clone()),
            };
            latest.insert(key, index);
        }
        let mut keep: Vec<usize> = latest.into_values().collect();
        keep.sort_unstable();
        let mut requests: Vec<(String, WriteRequest)> = Vec::with_capacity(keep.len());
        let mut ops: Vec<Option<BatchOp>> = ops.into_iter().map(Some).collect();
        for index in keep {
            let Some(op) = ops[index].take() else {
                continue;
            };
            let request = match op {
                BatchOp::Put { table, item } => (
                    self.table_name(table),
                    WriteRequest::builder()
                        .put_request(
                            ddb::PutRequest::builder()
                                .set_item(Some(sdk_item(item)))
                                .build()
                                .map_err(StoreError::backend)?,
                        )
                        .build(),
                ),
                BatchOp::Delete { table, key } => (
                    self.table_name(table),
                    WriteRequest::builder()
                        .delete_request(
                            ddb::DeleteRequest::builder()
                                .set_key(Some(key_item(&key)))
                                .build()
                                .map_err(StoreError::backend)?,
                        )
                        .build(),
                ),
            };
            requests.push(request);
        }
        for chunk in requests.chunks(BATCH_WRITE_LIMIT) {
            let mut pending: HashMap<String, Vec<WriteRequest>> = HashMap::new();
            for (table, request) in chunk {
                pending
                    .entry(table.clone())
                    .or_default()
                    .push(request.clone());
            }
            let mut attempt = 0;
            while !pending.is_empty() {
                let output = self
                    .client
                    .batch_write_item()
                    .set_request_items(Some(pending))
                    .send()
                    .await
                    .map_err(store_error)?;
                pending = output.unprocessed_items.unwrap_or_default();
                pending.retain(|_, requests| !requests.is_empty());
                if pending.is_empty() {
                    break;
                }
                attempt += 1;
                if attempt >= ATTEMPTS {
                    return Err(StoreError::Busy(None));
                }
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
        Ok(())
    }
}

impl DynamoDbStore {
    fn transact_item(&self, op: &WriteOp) -> Result<TransactWriteItem, StoreError> {
        let mut expr = Expressions::default();
        let table = self.table_name(op.table());
        let item = match op {
            WriteOp::Put(put) => {
                Key::of(&put.item)?;
                let condition = put
                    .condition
                    .as_ref()
                    .map(|c| expr.condition(c))
                    .transpose()?;
                TransactWriteItem::builder().put(
                    ddb::Put::builder()
                        .table_name(table)
                        .set_item(Some(sdk_item(put.item.clone())))
                        .set_condition_expression(condition)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .build()
                        .map_err(StoreError::backend)?,
                )
            }
            WriteOp::Update(update) => {
                update.update.validate()?;
                let expression = expr.update(&update.update);
                let condition = update
                    .condition
                    .as_ref()
                    .map(|c| expr.condition(c))
                    .transpose()?;
                TransactWriteItem::builder().update(
                    ddb::Update::builder()
                        .table_name(table)
                        .set_key(Some(key_item(&update.key)))
                        .update_expression(expression)
                        .set_condition_expression(condition)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .build()
                        .map_err(StoreError::backend)?,
                )
            }
            WriteOp::Delete(delete) => {
                let condition = delete
                    .condition
                    .as_ref()
                    .map(|c| expr.condition(c))
                    .transpose()?;
                TransactWriteItem::builder().delete(
                    ddb::Delete::builder()
                        .table_name(table)
                        .set_key(Some(key_item(&delete.key)))
                        .set_condition_expression(condition)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .build()
                        .map_err(StoreError::backend)?,
                )
            }
            WriteOp::Check(check) => {
                let condition = expr.condition(&check.condition)?;
                TransactWriteItem::builder().condition_check(
                    ddb::ConditionCheck::builder()
                        .table_name(table)
                        .set_key(Some(key_item(&check.key)))
                        .condition_expression(condition)
                        .set_expression_attribute_names(expr.names())
                        .set_expression_attribute_values(expr.values())
                        .build()
                        .map_err(StoreError::backend)?,
                )
            }
        };
        Ok(item.build())
    }
}

/// What [`create_tables`] did with one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCreation {
    pub name: String,
    pub created: bool,
}

/// Creates the tables that do not exist yet (on-demand billing, TTL, point-in-time
/// recovery where the endpoint offers it) and waits until every one is active.
pub async fn create_tables(
    client: &Client,
    prefix: &str,
    tables: &[&TableDef],
) -> Result<Vec<TableCreation>, StoreError> {
    let mut report = Vec::with_capacity(tables.len());
    for table in tables {
        let name = format!("{prefix}{}", table.name);
        let definitions = table
            .key_attributes()
            .into_iter()
            .map(|attribute| {
                AttributeDefinition::builder()
                    .attribute_name(attribute)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(StoreError::backend)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let indexes = table
            .indexes
            .iter()
            .map(|index| {
                GlobalSecondaryIndex::builder()
                    .index_name(index.name)
                    .key_schema(key_element(index.pk, KeyType::Hash)?)
                    .key_schema(key_element(index.sk, KeyType::Range)?)
                    .projection(match index.projection {
                        crate::schema::Projection::All => Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                        crate::schema::Projection::KeysOnly => Projection::builder()
                            .projection_type(ProjectionType::KeysOnly)
                            .build(),
                        crate::schema::Projection::Include(attributes) => Projection::builder()
                            .projection_type(ProjectionType::Include)
                            .set_non_key_attributes(Some(
                                attributes.iter().map(|a| (*a).to_owned()).collect(),
                            ))
                            .build(),
                    })
                    .build()
                    .map_err(StoreError::backend)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let result = client
            .create_table()
            .table_name(&name)
            .set_attribute_definitions(Some(definitions))
            .key_schema(key_element(PK, KeyType::Hash)?)
            .key_schema(key_element(SK, KeyType::Range)?)
            .set_global_secondary_indexes((!indexes.is_empty()).then_some(indexes))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        let created = match result {
            Ok(_) => true,
            Err(err) if err.code() == Some("ResourceInUseException") => false,
            Err(err) => return Err(store_error(err)),
        };
        wait_until_active(client, &name).await?;
        if let Some(attribute) = table.ttl_attribute {
            enable_ttl(client, &name, attribute).await?;
        }
        let pitr = client
            .update_continuous_backups()
            .table_name(&name)
            .point_in_time_recovery_specification(
                PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(true)
                    .build()
                    .map_err(StoreError::backend)?,
            )
            .send()
            .await;
        if let Err(err) = pitr {
            warn!(table = %name, error = %store_error(err), "point-in-time recovery not enabled");
        }
        report.push(TableCreation { name, created });
    }
    Ok(report)
}

fn key_element(name: &str, key_type: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .map_err(StoreError::backend)
}

/// Polls DescribeTable (SDK waiters poll every 20 s, too slow for emulators).
async fn wait_until_active(client: &Client, name: &str) -> Result<(), StoreError> {
    for _ in 0..1200 {
        let output = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(store_error)?;
        if let Some(description) = output.table {
            let indexes_active = description
                .global_secondary_indexes()
                .iter()
                .all(|index| index.index_status() == Some(&ddb::IndexStatus::Active));
            if description.table_status == Some(TableStatus::Active) && indexes_active {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(StoreError::Busy(None))
}

async fn enable_ttl(client: &Client, name: &str, attribute: &str) -> Result<(), StoreError> {
    let current = client
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .map_err(store_error)?;
    let enabled = current.time_to_live_description().is_some_and(|d| {
        matches!(
            d.time_to_live_status(),
            Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
        )
    });
    if !enabled {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(attribute)
                    .enabled(true)
                    .build()
                    .map_err(StoreError::backend)?,
            )
            .send()
            .await
            .map_err(store_error)?;
    }
    Ok(())
}
