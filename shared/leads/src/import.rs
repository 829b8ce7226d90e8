//! CSV import, streamed: rows are read, validated and written in batches, so a
//! 100,000-row file never sits in memory. Every good row is kept; every
//! rejected row is reported with its line number and the reason.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use soraaya_domain::{Lead, LeadId, OrgId, Organisation, Phone, UserId};
use tokio::io::{AsyncRead, AsyncReadExt};
use tracing::info;
use utoipa::ToSchema;

use crate::fields::LeadField;
use crate::input::{Context, validate};
use crate::record::{Actor, EventKind, TimelineEvent};
use crate::repo::{LeadChange, LeadsRepo, WriteError};
use crate::service::{self, LeadError, NextState};
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RowError {
    /// Line of the file where the row starts (the header is line 1).
    pub line: u64,
    pub field: String,
    pub message: String,
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

/// Most errors listed in a report.
pub const MAX_REPORTED_ERRORS: usize = 10_000;

/// Rows written per transaction (each new lead takes 3 operations of 100).
const BATCH_ROWS: usize = 30;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    BadFile(String),
    #[error(transparent)]
    Lead(#[from] LeadError),
    #[error("reading the upload failed")]
    Read(#[source] std::io::Error),
}

struct Row {
    line: u64,
    lead: Lead,
    fields: Vec<(LeadField, Patch<Raw>)>,
}

struct Importer<'a> {
    app: &'a App,
    org: OrgId,
    organisation: &'a Organisation,
    actor: &'a Actor,
    on_duplicate: OnDuplicate,
    source: String,
    report: ImportReport,
    seen_phones: HashSet<Phone>,
    users_by_email: Option<HashMap<String, UserId>>,
    batch: Vec<Row>,
}

/// Reads a CSV file (`,` or `;` separated, UTF-8 with or without BOM, header
/// names matched case-insensitively with common aliases) into leads.
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

    // Read the header line to find the delimiter, then read on from there.
    let mut head = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    while !head.contains(&b'\n') && head.len() < 1 << 20 {
        let n = input.read(&mut chunk).await.map_err(ImportError::Read)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    if head.starts_with(b"\xEF\xBB\xBF") {
        head.drain(..3);
    }
    let delimiter = sniff_delimiter(&head);
    let mut reader = csv_async::AsyncReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .create_reader(std::io::Cursor::new(head).chain(input));

    let headers = reader
        .byte_headers()
        .await
        .map_err(|e| ImportError::BadFile(format!("the header row cannot be read: {e}")))?
        .clone();
    let mut importer = Importer {
        app,
        org,
        organisation: &organisation,
        actor,
        on_duplicate,
        source: source.unwrap_or_else(|| "CSV import".to_owned()),
        report: ImportReport::default(),
        seen_phones: HashSet::new(),
        users_by_email: None,
        batch: Vec::with_capacity(BATCH_ROWS),
    };
    let columns = importer.map_columns(&headers)?;

    let mut record = csv_async::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record).await {
            Ok(true) => {}
            Ok(false) => break,
            Err(err) => {
                let line = err.position().map_or(0, csv_async::Position::line);
                importer.report.rows += 1;
                importer.reject(
                    line,
                    vec![("file".into(), format!("the row cannot be read: {err}"))],
                );
                break;
            }
        }
        importer.report.rows += 1;
        let line = record.position().map_or(0, csv_async::Position::line);
        importer.row(line, &record, &columns).await?;
        if importer.batch.len() >= BATCH_ROWS {
            importer.flush().await?;
        }
    }
    importer.flush().await?;
    let report = importer.report;
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

impl Importer<'_> {
    fn map_columns(
        &mut self,
        headers: &csv_async::ByteRecord,
    ) -> Result<Vec<Option<LeadField>>, ImportError> {
        let mut taken = HashSet::new();
        let mut columns = Vec::with_capacity(headers.len());
        for header in headers {
            let name = String::from_utf8_lossy(header).trim().to_owned();
            match LeadField::from_header(&name) {
                Some(field) if taken.insert(field) => columns.push(Some(field)),
                _ => {
                    if !name.is_empty() {
                        self.report.ignored_columns.push(name);
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
        Ok(columns)
    }

    fn reject(&mut self, line: u64, errors: Vec<(String, String)>) {
        self.report.rejected += 1;
        for (field, message) in errors {
            if self.report.errors.len() < MAX_REPORTED_ERRORS {
                self.report.errors.push(RowError {
                    line,
                    field,
                    message,
                });
            } else {
                self.report.errors_truncated = true;
            }
        }
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

    async fn row(
        &mut self,
        line: u64,
        record: &csv_async::ByteRecord,
        columns: &[Option<LeadField>],
    ) -> Result<(), ImportError> {
        if record
            .iter()
            .all(|cell| cell.iter().all(u8::is_ascii_whitespace))
        {
            self.report.rows -= 1;
            return Ok(());
        }
        if record.len() > columns.len() {
            self.reject(
                line,
                vec![(
                    "row".into(),
                    format!(
                        "has {} cells but the header has {} columns",
                        record.len(),
                        columns.len()
                    ),
                )],
            );
            return Ok(());
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
            Ok(values) => match service::check_references(self.app, self.org, &values).await {
                Ok(()) => values.into_new_lead(self.organisation, ctx.now),
                Err(LeadError::Invalid(errors)) => Err(errors),
                Err(err) => return Err(err.into()),
            },
            Err(errors) => Err(errors),
        };
        match lead {
            Err(errors) => {
                problems.extend(errors.into_iter().map(|e| (e.field, e.message)));
                self.reject(line, problems);
            }
            Ok(_) if !problems.is_empty() => self.reject(line, problems),
            Ok(lead) => {
                if !self.seen_phones.insert(lead.phone_number.clone()) {
                    self.report.skipped_duplicates += 1;
                } else {
                    self.batch.push(Row { line, lead, fields });
                }
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), ImportError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.batch);
        let repo = LeadsRepo::new(self.app.store.as_ref());
        let phones: Vec<&Phone> = rows.iter().map(|r| &r.lead.phone_number).collect();
        let owners = repo
            .phone_owners(self.org, &phones)
            .await
            .map_err(LeadError::from)?;
        let listed = repo
            .on_dnc_list(self.org, &phones)
            .await
            .map_err(LeadError::from)?;

        let mut fresh = Vec::with_capacity(rows.len());
        for mut row in rows {
            if let Some(existing) = owners.get(&row.lead.phone_number) {
                self.duplicate(*existing, row).await?;
            } else {
                row.lead.do_not_call = listed.contains(&row.lead.phone_number);
                fresh.push(row);
            }
        }
        let now = self.app.clock.now();
        let zone = self.organisation.time_zone.zone();
        // Retried without any row another import created meanwhile.
        while !fresh.is_empty() {
            let changes: Vec<LeadChange> = fresh
                .iter()
                .map(|row| {
                    let mut event =
                        TimelineEvent::new(&row.lead, EventKind::Imported, self.actor, now);
                    event.to = Some(row.lead.status);
                    event.reason = Some(self.source.clone());
                    LeadChange::new(None, Some(row.lead.clone()), vec![event])
                })
                .collect();
            match repo.write(self.org, &zone, now, &changes, Vec::new()).await {
                Ok(()) => {
                    self.report.imported += fresh.len() as u64;
                    return Ok(());
                }
                Err(WriteError::DuplicatePhone { change }) => {
                    let row = fresh.remove(change);
                    let owner = repo
                        .phone_owners(self.org, &[&row.lead.phone_number])
                        .await
                        .map_err(LeadError::from)?;
                    match owner.get(&row.lead.phone_number) {
                        Some(existing) => self.duplicate(*existing, row).await?,
                        None => fresh.push(row),
                    }
                }
                Err(WriteError::Store(err)) => return Err(LeadError::from(err).into()),
                Err(_) => return Err(LeadError::ChangedConcurrently.into()),
            }
        }
        Ok(())
    }

    /// A row whose number has a lead: skipped, or applied to that lead.
    async fn duplicate(&mut self, existing: LeadId, row: Row) -> Result<(), ImportError> {
        if self.on_duplicate == OnDuplicate::Skip {
            self.report.skipped_duplicates += 1;
            return Ok(());
        }
        let organisation = self.organisation;
        let (actor, source) = (self.actor, self.source.clone());
        let fields: Vec<_> = row
            .fields
            .into_iter()
            .filter(|(field, _)| *field != LeadField::Status && *field != LeadField::PhoneNumber)
            .collect();
        let changed_any = std::sync::atomic::AtomicBool::new(false);
        let result = service::modify(self.app, self.org, existing, true, |before, now| {
            let ctx = Context {
                organisation,
                existing: Some(before),
                now,
            };
            let values = validate(fields.clone(), &ctx).map_err(LeadError::Invalid)?;
            let mut lead = before.clone();
            let changed = values.apply(&mut lead, organisation);
            changed_any.store(!changed.is_empty(), std::sync::atomic::Ordering::Relaxed);
            if changed.is_empty() {
                return Ok(None);
            }
            let mut event = TimelineEvent::new(&lead, EventKind::Updated, actor, now);
            event.fields = changed.into_iter().map(str::to_owned).collect();
            event.reason = Some(source.clone());
            Ok(Some(NextState {
                lead,
                events: vec![event],
                extra: Vec::new(),
            }))
        })
        .await;
        match result {
            Ok(_) if changed_any.load(std::sync::atomic::Ordering::Relaxed) => {
                self.report.updated += 1
            }
            Ok(_) => self.report.skipped_duplicates += 1,
            Err(LeadError::Invalid(errors)) => {
                self.reject(
                    row.line,
                    errors.into_iter().map(|e| (e.field, e.message)).collect(),
                );
            }
            Err(err) => return Err(err.into()),
        }
        Ok(())
    }
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
}
