//! CSV import, streamed: rows are read, validated and written in batches, so a
//! 100,000-row file never sits in memory. Every good row is kept; every
//! rejected row is reported with its line number and the reason.
//!
//! One engine serves the small synchronous import and the import job. A
//! batch is written in one transaction, with whatever its sink adds: the job
//! adds a marker of the batch (by its start in the file), its counts and its
//! row errors, so a batch is done exactly once however often a crashed or
//! timed-out job is resumed. Batch boundaries depend only on the file's
//! content, so a resumed job cuts the same batches.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use soraaya_domain::{CampaignId, Lead, LeadId, OrgId, Organisation, Phone, UserId};
use soraaya_store::{StoreError, WriteOp};
use tokio::io::{AsyncRead, AsyncReadExt};
use tracing::info;
use utoipa::ToSchema;

use crate::fields::LeadField;
use crate::input::{Context, validate};
use crate::record::{Actor, EventKind, TimelineEvent};
use crate::repo::{LeadChange, LeadsRepo, WriteError};
use crate::service::{self, LeadError};
use soraaya_accounts as accounts;
use soraaya_core::App;
use soraaya_core::{Patch, Raw};

/// What to do with a row whose phone number already belongs to a lead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnDuplicate {
    /// Leave the existing lead as it is.
    #[default]
    Skip,
    /// Update the existing lead with the row's non-empty cells.
    Update,
}

/// One reason a row was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RowError {
    /// Line of the file where the row starts (the header is line 1).
    pub line: u64,
    pub field: String,
    pub message: String,
}

/// What a job did: an import row by row; a bulk job or an export lead by
/// lead (`rows` counts the leads it went through, `succeeded` and `failed`
/// what came of them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct JobCounts {
    /// Data rows read (header and blank lines excluded), or leads gone through.
    pub rows: u64,
    pub imported: u64,
    pub updated: u64,
    pub skipped_duplicates: u64,
    pub rejected: u64,
    #[serde(default)]
    pub succeeded: u64,
    #[serde(default)]
    pub failed: u64,
}

impl JobCounts {
    pub fn add(&mut self, other: &JobCounts) {
        self.rows += other.rows;
        self.imported += other.imported;
        self.updated += other.updated;
        self.skipped_duplicates += other.skipped_duplicates;
        self.rejected += other.rejected;
        self.succeeded += other.succeeded;
        self.failed += other.failed;
    }
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ImportReport {
    pub imported: u64,
    pub updated: u64,
    pub skipped_duplicates: u64,
    pub rejected: u64,
    pub errors: Vec<RowError>,
    /// More errors than are listed were found.
    pub errors_truncated: bool,
    /// Columns that match no lead field and were ignored.
    pub ignored_columns: Vec<String>,
    /// Data rows read (header excluded).
    pub rows: u64,
}

/// Most errors listed in a synchronous report.
pub const MAX_REPORTED_ERRORS: usize = 10_000;

/// Most rows of a batch. A transaction holds at most 100 operations: a new
/// lead takes 3 (the lead, its phone guard, its timeline event), an update at
/// most 4 (with the counters of a campaign it leaves), a rejected row 1 (its
/// errors, in a job); the counters take 2 items, and 2 more per campaign
/// the rows name; a job adds its marker and a counts shard.
const MAX_BATCH_ROWS: usize = 23;
const MAX_BATCH_OPS: usize = 98;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    BadFile(String),
    #[error(transparent)]
    Lead(#[from] LeadError),
    #[error("reading the upload failed")]
    Read(#[source] std::io::Error),
    /// Another runner of the same job is ahead; this one stops.
    #[error("another run of this import is ahead")]
    Superseded,
}

impl From<StoreError> for ImportError {
    fn from(err: StoreError) -> Self {
        ImportError::Lead(err.into())
    }
}

/// How a row read.
enum Parsed {
    Lead {
        lead: Box<Lead>,
        fields: Vec<(LeadField, Patch<Raw>)>,
    },
    Rejected(Vec<(String, String)>),
    /// A lead whose number an earlier batch written alongside this one
    /// takes first (see [`Engine::claim_numbers`]).
    Duplicate,
}

struct Row {
    line: u64,
    parsed: Parsed,
}

/// Rows written in one transaction, and where they are in the file.
pub struct Batch {
    /// Byte offset of the first row (its marker in a job).
    pub start: u64,
    /// Byte offset and line just after the last row: where the next batch starts.
    pub end: u64,
    pub end_line: u64,
    rows: Vec<Row>,
}

/// What one batch did.
#[derive(Debug, Default)]
pub struct BatchResult {
    pub counts: JobCounts,
    pub errors: Vec<RowError>,
}

/// What a batch's transaction carries besides the leads.
pub trait Sink: Send + Sync {
    /// Operations to write with the batch. When `marks_batches`, the first is
    /// a condition that fails if the batch was written already.
    fn ops(&self, batch: &Batch, result: &BatchResult) -> Result<Vec<WriteOp>, StoreError>;

    fn marks_batches(&self) -> bool;
}

/// The synchronous import: nothing besides the leads.
struct InMemory;

impl Sink for InMemory {
    fn ops(&self, _: &Batch, _: &BatchResult) -> Result<Vec<WriteOp>, StoreError> {
        Ok(Vec::new())
    }

    fn marks_batches(&self) -> bool {
        false
    }
}

/// The bytes a reader passed on lately, to tell where a record really
/// starts: after a `\r\n`, the CSV reader puts the next record at the
/// `\n` and still on the line before.
#[derive(Default)]
struct Recent {
    /// Offset (from the reader's start) of `bytes[0]`.
    start: u64,
    bytes: Vec<u8>,
}

/// Keeps what the CSV reader read (the last 128 KiB at least).
struct Tap<R> {
    inner: R,
    recent: std::sync::Arc<std::sync::Mutex<Recent>>,
}

const RECENT_KEPT: usize = 128 * 1024;

impl<R: AsyncRead + Unpin> AsyncRead for Tap<R> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if let std::task::Poll::Ready(Ok(())) = &polled {
            let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            recent.bytes.extend_from_slice(&buf.filled()[before..]);
            if recent.bytes.len() > 2 * RECENT_KEPT {
                let drop = recent.bytes.len() - RECENT_KEPT;
                recent.bytes.drain(..drop);
                recent.start += drop as u64;
            }
        }
        polled
    }
}

/// The rows of a CSV file from some byte offset on, cut into batches.
pub struct Rows<R> {
    reader: csv_async::AsyncReader<Tap<R>>,
    recent: std::sync::Arc<std::sync::Mutex<Recent>>,
    /// Where the reader's position 0 is in the file.
    base_offset: u64,
    base_line: u64,
    columns: Vec<Option<LeadField>>,
    record: csv_async::ByteRecord,
    /// A row read but not yet in a batch (it started the next one).
    held: Option<(u64, u64, csv_async::ByteRecord)>,
    done: bool,
}

/// The file's header: the delimiter, the columns, and where the rows start.
pub struct Header {
    pub delimiter: u8,
    pub columns: Vec<Option<LeadField>>,
    pub ignored_columns: Vec<String>,
    /// Byte offset and line of the first data row.
    pub rows_offset: u64,
    pub rows_line: u64,
}

/// Reads the header line of a file (UTF-8, with or without BOM).
pub async fn read_header<R: AsyncRead + Unpin + Send>(mut input: R) -> Result<Header, ImportError> {
    let mut head = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    while !head.contains(&b'\n') && head.len() < 1 << 20 {
        let n = input.read(&mut chunk).await.map_err(ImportError::Read)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    let bom = if head.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let delimiter = sniff_delimiter(&head[bom..]);
    let mut reader = csv_async::AsyncReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .create_reader(&head[bom..]);
    let mut headers = csv_async::ByteRecord::new();
    let read = reader
        .read_byte_record(&mut headers)
        .await
        .map_err(|e| ImportError::BadFile(format!("the header row cannot be read: {e}")))?;
    if !read {
        return Err(ImportError::BadFile("the file is empty".into()));
    }
    let (columns, ignored_columns) = map_columns(&headers)?;
    // The rows start after the header's line end (outside quotes).
    let body = &head[bom..];
    let (mut in_quotes, mut end, mut newlines) = (false, body.len(), 0u64);
    for (i, byte) in body.iter().enumerate() {
        match byte {
            b'"' => in_quotes = !in_quotes,
            b'\n' => {
                newlines += 1;
                if !in_quotes {
                    end = i + 1;
                    break;
                }
            }
            _ => {}
        }
    }
    Ok(Header {
        delimiter,
        columns,
        ignored_columns,
        rows_offset: (bom + end) as u64,
        rows_line: 1 + newlines,
    })
}

impl<R: AsyncRead + Unpin + Send> Rows<R> {
    /// The rows of a file read from `offset` (a row start, at `line`) on.
    pub fn new(input: R, header: &Header, offset: u64, line: u64) -> Self {
        let recent = std::sync::Arc::default();
        let reader = csv_async::AsyncReaderBuilder::new()
            .delimiter(header.delimiter)
            .flexible(true)
            .has_headers(false)
            .create_reader(Tap {
                inner: input,
                recent: std::sync::Arc::clone(&recent),
            });
        Rows {
            reader,
            recent,
            base_offset: offset,
            base_line: line,
            columns: header.columns.clone(),
            record: csv_async::ByteRecord::new(),
            held: None,
            done: false,
        }
    }

    /// Where a position of the reader really is in the file: its byte
    /// offset and line (a position on the `\n` of a `\r\n` is one on).
    fn locate(&self, position: &csv_async::Position) -> (u64, u64) {
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let at_newline = position
            .byte()
            .checked_sub(recent.start)
            .and_then(|i| recent.bytes.get(usize::try_from(i).ok()?))
            == Some(&b'\n');
        let (byte, line) = if at_newline {
            (position.byte() + 1, position.line() + 1)
        } else {
            (position.byte(), position.line())
        };
        (self.base_offset + byte, self.base_line + line - 1)
    }
}

/// One run of an import: the file's columns and what rows become.
pub struct Engine<'a> {
    app: &'a App,
    org: OrgId,
    organisation: &'a Organisation,
    actor: &'a Actor,
    on_duplicate: OnDuplicate,
    source: String,
    users_by_email: Option<HashMap<String, UserId>>,
    /// Campaign, persona and agent ids already checked, and whether they are the org's.
    references: HashMap<String, Result<(), Vec<soraaya_core::FieldError>>>,
}

impl<'a> Engine<'a> {
    pub fn new(
        app: &'a App,
        organisation: &'a Organisation,
        actor: &'a Actor,
        on_duplicate: OnDuplicate,
        source: String,
    ) -> Self {
        Engine {
            app,
            org: organisation.id,
            organisation,
            actor,
            on_duplicate,
            source,
            users_by_email: None,
            references: HashMap::new(),
        }
    }

    /// The next batch of rows, or `None` at the end of the file.
    pub async fn next_batch<R: AsyncRead + Unpin + Send>(
        &mut self,
        rows: &mut Rows<R>,
    ) -> Result<Option<Batch>, ImportError> {
        if rows.done && rows.held.is_none() {
            return Ok(None);
        }
        let mut batch: Option<Batch> = None;
        let mut campaigns: HashSet<CampaignId> = HashSet::new();
        loop {
            let (start, line, record) = match rows.held.take() {
                Some(held) => held,
                None if rows.done => break,
                None => match rows.reader.read_byte_record(&mut rows.record).await {
                    Ok(true) => {
                        let position = rows.record.position().cloned().unwrap_or_default();
                        let (start, line) = rows.locate(&position);
                        (start, line, rows.record.clone())
                    }
                    Ok(false) => {
                        rows.done = true;
                        break;
                    }
                    Err(err) => {
                        // The rest of the file cannot be read: one last rejected row.
                        rows.done = true;
                        let position = err.position().cloned().unwrap_or_default();
                        let (start, line) = rows.locate(&position);
                        let batch = batch.get_or_insert_with(|| Batch {
                            start,
                            end: start,
                            end_line: line,
                            rows: Vec::new(),
                        });
                        batch.rows.push(Row {
                            line,
                            parsed: Parsed::Rejected(vec![(
                                "file".into(),
                                format!("the row cannot be read: {err}"),
                            )]),
                        });
                        batch.end = u64::MAX;
                        break;
                    }
                },
            };
            if record
                .iter()
                .all(|cell| cell.iter().all(u8::is_ascii_whitespace))
            {
                continue;
            }
            let parsed = self.parse(&record, &rows.columns).await?;
            let campaign = match &parsed {
                Parsed::Lead { lead, .. } => lead.campaign_id,
                Parsed::Rejected(_) | Parsed::Duplicate => None,
            };
            if let Some(current) = &batch {
                let mut named = campaigns.clone();
                named.extend(campaign);
                let ops = 4 * (current.rows.len() + 1) + 2 + 2 * named.len() + 2;
                if current.rows.len() >= MAX_BATCH_ROWS || ops > MAX_BATCH_OPS {
                    rows.held = Some((start, line, record));
                    break;
                }
            }
            campaigns.extend(campaign);
            let batch = batch.get_or_insert_with(|| Batch {
                start,
                end: start,
                end_line: line,
                rows: Vec::new(),
            });
            batch.rows.push(Row { line, parsed });
        }
        if let Some(batch) = batch.as_mut()
            && batch.end != u64::MAX
        {
            let (end, end_line) = match &rows.held {
                Some((start, line, _)) => (*start, *line),
                None => {
                    let position = rows.reader.position().clone();
                    rows.locate(&position)
                }
            };
            batch.end = end;
            batch.end_line = end_line;
        }
        Ok(batch)
    }

    /// An assigned agent may be given by email; the id is what validation reads.
    async fn agent_id(&mut self, email: &str) -> Result<Option<UserId>, ImportError> {
        if self.users_by_email.is_none() {
            let users = accounts::list_users(self.app, self.org)
                .await
                .map_err(LeadError::from)?;
            self.users_by_email = Some(
                users
                    .into_iter()
                    .filter(|u| u.is_active)
                    .map(|u| (u.email.to_string(), u.id))
                    .collect(),
            );
        }
        Ok(self
            .users_by_email
            .as_ref()
            .and_then(|users| users.get(&email.trim().to_lowercase()).copied()))
    }

    async fn parse(
        &mut self,
        record: &csv_async::ByteRecord,
        columns: &[Option<LeadField>],
    ) -> Result<Parsed, ImportError> {
        if record.len() > columns.len() {
            return Ok(Parsed::Rejected(vec![(
                "row".into(),
                format!(
                    "has {} cells but the header has {} columns",
                    record.len(),
                    columns.len()
                ),
            )]));
        }
        let mut fields = Vec::new();
        let mut problems = Vec::new();
        for (cell, field) in record.iter().zip(columns) {
            let Some(field) = field else { continue };
            let Ok(text) = std::str::from_utf8(cell) else {
                problems.push((
                    field.name().to_owned(),
                    "is not UTF-8 text (save the file as CSV UTF-8)".to_owned(),
                ));
                continue;
            };
            let mut text = text.trim().to_owned();
            if text.is_empty() {
                continue;
            }
            if *field == LeadField::AssignedAgent && text.contains('@') {
                match self.agent_id(&text).await? {
                    Some(id) => text = id.to_string(),
                    None => {
                        problems.push((
                            field.name().to_owned(),
                            "is not the email of an active user".to_owned(),
                        ));
                        continue;
                    }
                }
            }
            fields.push((*field, Patch::Set(Raw::Text(text))));
        }
        let ctx = Context {
            organisation: self.organisation,
            existing: None,
            now: self.app.clock.now(),
        };
        let lead = match validate(fields.clone(), &ctx) {
            Ok(values) => {
                let key = values.reference_key();
                let checked = match self.references.get(&key) {
                    Some(checked) => checked.clone(),
                    None => {
                        let checked =
                            match service::check_references(self.app, self.org, &values).await {
                                Ok(()) => Ok(()),
                                Err(LeadError::Invalid(errors)) => Err(errors),
                                Err(err) => return Err(err.into()),
                            };
                        self.references.insert(key, checked.clone());
                        checked
                    }
                };
                checked.and_then(|()| values.into_new_lead(self.organisation, ctx.now))
            }
            Err(errors) => Err(errors),
        };
        Ok(match lead {
            Err(errors) => {
                problems.extend(errors.into_iter().map(|e| (e.field, e.message)));
                Parsed::Rejected(problems)
            }
            Ok(_) if !problems.is_empty() => Parsed::Rejected(problems),
            Ok(lead) => Parsed::Lead {
                lead: Box::new(lead),
                fields,
            },
        })
    }

    /// Applies a row to a lead it duplicates; what changed, or the row's errors.
    fn apply_row(
        &self,
        lead: &mut Lead,
        fields: &[(LeadField, Patch<Raw>)],
        now: jiff::Timestamp,
    ) -> Result<Vec<&'static str>, Vec<(String, String)>> {
        let fields: Vec<_> = fields
            .iter()
            .filter(|(field, _)| *field != LeadField::Status && *field != LeadField::PhoneNumber)
            .cloned()
            .collect();
        let ctx = Context {
            organisation: self.organisation,
            existing: Some(lead),
            now,
        };
        let values = validate(fields, &ctx).map_err(|errors| {
            errors
                .into_iter()
                .map(|e| (e.field, e.message))
                .collect::<Vec<_>>()
        })?;
        Ok(values.apply(lead, self.organisation))
    }

    /// Writes a batch with what `sink` adds; `None` if a job wrote it already.
    /// Before batches that follow each other in the file are written at
    /// once, when duplicates are skipped: a number is taken by its first row,
    /// later rows of it in other batches are duplicates. So the lead is the
    /// first row's whichever batch commits first, and the batches do not
    /// collide over a number.
    pub fn claim_numbers(&self, batches: &mut [Batch]) {
        if self.on_duplicate != OnDuplicate::Skip {
            return;
        }
        let mut claimed: HashSet<Phone> = HashSet::new();
        for batch in batches {
            let mut in_batch: Vec<Phone> = Vec::new();
            for row in &mut batch.rows {
                if let Parsed::Lead { lead, .. } = &row.parsed {
                    if claimed.contains(&lead.phone_number) {
                        row.parsed = Parsed::Duplicate;
                    } else {
                        in_batch.push(lead.phone_number.clone());
                    }
                }
            }
            claimed.extend(in_batch);
        }
    }

    pub async fn write_batch(
        &self,
        batch: &Batch,
        sink: &dyn Sink,
    ) -> Result<Option<BatchResult>, ImportError> {
        let repo = LeadsRepo::new(self.app.store.as_ref());
        let zone = self.organisation.time_zone.zone();
        // A lead that changed meanwhile, or a number another import took
        // meanwhile: the batch is worked out again from what is stored now.
        for _ in 0..5 {
            let now = self.app.clock.now();
            let (changes, result) = self.plan(&repo, batch, now).await?;
            let extra = sink.ops(batch, &result)?;
            match repo.write(self.org, &zone, now, &changes, extra).await {
                Ok(()) => return Ok(Some(result)),
                Err(WriteError::Extra { index: 0 }) if sink.marks_batches() => return Ok(None),
                Err(WriteError::Extra { .. }) => return Err(ImportError::Superseded),
                Err(WriteError::Stale { .. } | WriteError::DuplicatePhone { .. }) => continue,
                Err(WriteError::Store(err)) => return Err(err.into()),
            }
        }
        Err(LeadError::ChangedConcurrently.into())
    }

    /// What a batch does, given what is stored: its lead changes and counts.
    async fn plan(
        &self,
        repo: &LeadsRepo<'_>,
        batch: &Batch,
        now: jiff::Timestamp,
    ) -> Result<(Vec<LeadChange>, BatchResult), ImportError> {
        let mut result = BatchResult::default();
        result.counts.rows = batch.rows.len() as u64;
        let phones: Vec<&Phone> = batch
            .rows
            .iter()
            .filter_map(|row| match &row.parsed {
                Parsed::Lead { lead, .. } => Some(&lead.phone_number),
                Parsed::Rejected(_) | Parsed::Duplicate => None,
            })
            .collect();
        let owners = repo.phone_owners(self.org, &phones).await?;
        let listed = repo.on_dnc_list(self.org, &phones).await?;
        let mut existing: HashMap<LeadId, Lead> = HashMap::new();
        if self.on_duplicate == OnDuplicate::Update && !owners.is_empty() {
            let ids: Vec<LeadId> = owners.values().copied().collect();
            for lead in repo.leads(self.org, &ids).await? {
                existing.insert(lead.id, lead);
            }
        }
        // Leads this batch creates or changes, by phone, in row order.
        struct Planned {
            before: Option<Lead>,
            after: Lead,
            events: Vec<TimelineEvent>,
        }
        let mut planned: Vec<Planned> = Vec::new();
        let mut by_phone: HashMap<Phone, usize> = HashMap::new();
        for row in &batch.rows {
            let (lead, fields) = match &row.parsed {
                Parsed::Duplicate => {
                    result.counts.skipped_duplicates += 1;
                    continue;
                }
                Parsed::Rejected(errors) => {
                    result.counts.rejected += 1;
                    result
                        .errors
                        .extend(errors.iter().map(|(field, message)| RowError {
                            line: row.line,
                            field: field.clone(),
                            message: message.clone(),
                        }));
                    continue;
                }
                Parsed::Lead { lead, fields } => (lead, fields),
            };
            let phone = &lead.phone_number;
            let target = match by_phone.get(phone) {
                Some(index) => Some(*index),
                None => match owners.get(phone) {
                    Some(owner) if self.on_duplicate == OnDuplicate::Update => {
                        match existing.get(owner) {
                            Some(stored) => {
                                planned.push(Planned {
                                    before: Some(stored.clone()),
                                    after: stored.clone(),
                                    events: Vec::new(),
                                });
                                by_phone.insert(phone.clone(), planned.len() - 1);
                                Some(planned.len() - 1)
                            }
                            // Erased meanwhile: the row is a new lead after all.
                            None => None,
                        }
                    }
                    Some(_) => {
                        result.counts.skipped_duplicates += 1;
                        continue;
                    }
                    None => None,
                },
            };
            match target {
                // A number known (stored, or earlier in the batch).
                Some(index) => {
                    if self.on_duplicate == OnDuplicate::Skip {
                        result.counts.skipped_duplicates += 1;
                        continue;
                    }
                    let entry = &mut planned[index];
                    let mut lead = entry.after.clone();
                    match self.apply_row(&mut lead, fields, now) {
                        Err(errors) => {
                            result.counts.rejected += 1;
                            result
                                .errors
                                .extend(errors.into_iter().map(|(field, message)| RowError {
                                    line: row.line,
                                    field,
                                    message,
                                }));
                        }
                        Ok(changed) if changed.is_empty() => {
                            result.counts.skipped_duplicates += 1;
                        }
                        Ok(changed) => {
                            result.counts.updated += 1;
                            entry.after = lead;
                            if entry.before.is_some() {
                                let mut event = TimelineEvent::new(
                                    &entry.after,
                                    EventKind::Updated,
                                    self.actor,
                                    now,
                                );
                                event.fields = changed.into_iter().map(str::to_owned).collect();
                                event.reason = Some(self.source.clone());
                                entry.events = vec![event];
                            }
                        }
                    }
                }
                None => {
                    let mut lead = (**lead).clone();
                    lead.do_not_call = listed.contains(&lead.phone_number);
                    let mut event = TimelineEvent::new(&lead, EventKind::Imported, self.actor, now);
                    event.to = Some(lead.status);
                    event.reason = Some(self.source.clone());
                    result.counts.imported += 1;
                    by_phone.insert(lead.phone_number.clone(), planned.len());
                    planned.push(Planned {
                        before: None,
                        after: lead,
                        events: vec![event],
                    });
                }
            }
        }
        let changes = planned
            .into_iter()
            .filter(|p| p.before.as_ref() != Some(&p.after))
            .map(|p| {
                let mut change = LeadChange::new(p.before, Some(p.after), p.events);
                if let (Some(before), Some(after)) = (&change.before, change.after.as_mut()) {
                    after.updated_at = now;
                    after.version = before.version + 1;
                }
                change
            })
            .collect();
        Ok((changes, result))
    }
}

/// Maps header cells to lead fields: the columns, and the names ignored.
fn map_columns(
    headers: &csv_async::ByteRecord,
) -> Result<(Vec<Option<LeadField>>, Vec<String>), ImportError> {
    let mut taken = HashSet::new();
    let mut columns = Vec::with_capacity(headers.len());
    let mut ignored = Vec::new();
    for header in headers {
        let name = String::from_utf8_lossy(header).trim().to_owned();
        match LeadField::from_header(&name) {
            Some(field) if taken.insert(field) => columns.push(Some(field)),
            _ => {
                if !name.is_empty() {
                    ignored.push(name);
                }
                columns.push(None);
            }
        }
    }
    let missing: Vec<&str> = [LeadField::ContactPerson, LeadField::PhoneNumber]
        .into_iter()
        .filter(|f| !taken.contains(f))
        .map(LeadField::name)
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::BadFile(format!(
            "the file has no {} column (headers such as name, full name, phone, mobile are recognised)",
            missing.join(" or ")
        )));
    }
    Ok((columns, ignored))
}

/// Reads a CSV file (`,` or `;` separated, UTF-8 with or without BOM, header
/// names matched case-insensitively with common aliases) into leads, in one go.
#[tracing::instrument(level = "debug", skip_all, fields(org_id = %org))]
pub async fn import<R: AsyncRead + Unpin + Send>(
    app: &App,
    org: OrgId,
    actor: &Actor,
    mut input: R,
    on_duplicate: OnDuplicate,
    source: Option<String>,
) -> Result<ImportReport, ImportError> {
    let organisation = accounts::org(app, org).await.map_err(LeadError::from)?;
    // The header is read from the first bytes; the rest follows them.
    let mut head = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    while !head.contains(&b'\n') && head.len() < 1 << 20 {
        let n = input.read(&mut chunk).await.map_err(ImportError::Read)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    let header = read_header(head.as_slice()).await?;
    let offset = usize::try_from(header.rows_offset)
        .unwrap_or(usize::MAX)
        .min(head.len());
    let rest = std::io::Cursor::new(head[offset..].to_vec()).chain(input);
    let mut rows = Rows::new(rest, &header, header.rows_offset, header.rows_line);
    let mut engine = Engine::new(
        app,
        &organisation,
        actor,
        on_duplicate,
        source.unwrap_or_else(|| "CSV import".to_owned()),
    );
    let mut report = ImportReport {
        ignored_columns: header.ignored_columns.clone(),
        ..ImportReport::default()
    };
    let mut counts = JobCounts::default();
    while let Some(batch) = engine.next_batch(&mut rows).await? {
        let Some(result) = engine.write_batch(&batch, &InMemory).await? else {
            continue;
        };
        counts.add(&result.counts);
        for error in result.errors {
            if report.errors.len() < MAX_REPORTED_ERRORS {
                report.errors.push(error);
            } else {
                report.errors_truncated = true;
            }
        }
    }
    report.rows = counts.rows;
    report.imported = counts.imported;
    report.updated = counts.updated;
    report.skipped_duplicates = counts.skipped_duplicates;
    report.rejected = counts.rejected;
    info!(
        org_id = %org,
        rows = report.rows,
        imported = report.imported,
        updated = report.updated,
        skipped = report.skipped_duplicates,
        rejected = report.rejected,
        "import finished"
    );
    Ok(report)
}

/// `,` unless the header line has more `;` (or tabs) outside quotes.
fn sniff_delimiter(head: &[u8]) -> u8 {
    let line_end = head.iter().position(|b| *b == b'\n').unwrap_or(head.len());
    let (mut in_quotes, mut counts) = (false, [0usize; 3]);
    for byte in &head[..line_end] {
        match byte {
            b'"' => in_quotes = !in_quotes,
            b',' if !in_quotes => counts[0] += 1,
            b';' if !in_quotes => counts[1] += 1,
            b'\t' if !in_quotes => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let best = (0..3)
        .max_by_key(|i| (counts[*i], usize::from(*i == 0)))
        .unwrap_or(0);
    candidates[best]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_are_sniffed_from_the_header() {
        assert_eq!(sniff_delimiter(b"name,phone,budget\nx"), b',');
        assert_eq!(sniff_delimiter(b"name;phone;budget\nx"), b';');
        assert_eq!(sniff_delimiter(b"\"name, full\";phone\n"), b';');
        assert_eq!(sniff_delimiter(b"name\tphone\tbudget"), b'\t');
        assert_eq!(sniff_delimiter(b"name"), b',');
    }

    async fn batches(csv: &[u8]) -> Vec<(u64, u64, Vec<u64>)> {
        let header = read_header(csv).await.unwrap();
        let mut rows = Rows::new(
            &csv[header.rows_offset as usize..],
            &header,
            header.rows_offset,
            header.rows_line,
        );
        let mut out = Vec::new();
        loop {
            let mut batch_rows = Vec::new();
            let mut start = None;
            // Cut batches of two rows, as the engine cuts larger ones.
            while batch_rows.len() < 2 {
                match rows
                    .reader
                    .read_byte_record(&mut rows.record)
                    .await
                    .unwrap()
                {
                    true => {
                        let position = rows.record.position().cloned().unwrap();
                        let (at, line) = rows.locate(&position);
                        start.get_or_insert(at);
                        batch_rows.push(line);
                    }
                    false => break,
                }
            }
            if batch_rows.is_empty() {
                return out;
            }
            let (end, _) = rows.locate(&rows.reader.position().clone());
            out.push((start.unwrap(), end, batch_rows));
        }
    }

    #[tokio::test]
    async fn rows_are_found_where_they_are_whatever_the_line_ends() {
        for (csv, lines) in [
            (&b"name,phone\na,1\nb,2\nc,3\n"[..], vec![2, 3, 4]),
            (&b"name,phone\r\na,1\r\nb,2\r\nc,3\r\n"[..], vec![2, 3, 4]),
            (
                &b"name,phone\r\n\"a\r\nx\",1\r\nb,2\nc,3"[..],
                vec![2, 4, 5],
            ),
        ] {
            let found = batches(csv).await;
            let all: Vec<u64> = found.iter().flat_map(|(_, _, l)| l.clone()).collect();
            assert_eq!(all, lines, "{}", String::from_utf8_lossy(csv));
            // Every batch starts where a row starts: reading from there gives it.
            for (start, _, lines) in &found {
                let header = read_header(csv).await.unwrap();
                let mut rows = Rows::new(&csv[*start as usize..], &header, *start, lines[0]);
                assert!(
                    rows.reader
                        .read_byte_record(&mut rows.record)
                        .await
                        .unwrap()
                );
                let (_, line) = rows.locate(&rows.record.position().cloned().unwrap());
                assert_eq!(line, lines[0]);
                assert!(!rows.record.get(0).unwrap().is_empty());
            }
        }
    }

    #[tokio::test]
    async fn the_header_says_where_the_rows_start() {
        let header = read_header(&b"\xEF\xBB\xBFname,phone\r\nA,1\n"[..])
            .await
            .unwrap();
        assert_eq!(header.rows_offset, 3 + 12);
        assert_eq!(header.rows_line, 2);
        assert_eq!(header.columns.len(), 2);
    }
}
