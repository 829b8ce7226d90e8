//! CSV export of the leads a listing selects (or of chosen leads), streamed
//! page by page, in the columns import reads.

use std::sync::Arc;

use bytes::Bytes;
use futures::Stream;
use soraaya_domain::{Lead, LeadId, OrgId};
use soraaya_store::{Cursor, Key};

use crate::fields::LeadField;
use crate::list::LeadQuery;
use crate::repo::LeadsRepo;
use soraaya_core::App;

/// Rows read per store page while exporting.
const EXPORT_PAGE: u32 = 500;

/// What to export.
pub enum Selection {
    Filtered(LeadQuery),
    Chosen(Vec<LeadId>),
}

/// The file's first line (with a byte-order mark).
pub fn header() -> Bytes {
    // A byte-order mark, so spreadsheet programs read the file as UTF-8.
    let mut out = b"\xEF\xBB\xBF".to_vec();
    out.extend(rows(std::iter::once(
        LeadField::ALL.iter().map(|f| f.name().to_owned()).collect(),
    )));
    Bytes::from(out)
}

fn rows(records: impl IntoIterator<Item = Vec<String>>) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for record in records {
        // Writing to memory cannot fail.
        let _ = writer.write_record(&record);
    }
    writer.into_inner().unwrap_or_default()
}

/// The leads' lines.
pub fn lead_rows(leads: &[Lead]) -> Bytes {
    Bytes::from(rows(leads.iter().map(|lead| {
        LeadField::ALL
            .iter()
            .map(|field| field.export(lead))
            .collect()
    })))
}

enum State {
    Header,
    Page(Option<Cursor>),
    Done,
}

/// The CSV file as a stream of chunks.
pub fn export(
    app: Arc<App>,
    org: OrgId,
    selection: Selection,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    let selection = Arc::new(selection);
    futures::stream::unfold(State::Header, move |state| {
        let app = Arc::clone(&app);
        let selection = Arc::clone(&selection);
        async move {
            let repo = LeadsRepo::new(app.store.as_ref());
            match state {
                State::Done => None,
                State::Header => Some((Ok(header()), State::Page(None))),
                State::Page(cursor) => {
                    let result = match selection.as_ref() {
                        Selection::Chosen(ids) => repo.leads(org, ids).await.map(|mut leads| {
                            leads.sort_by_key(|l| (l.created_at, l.id));
                            (leads, None)
                        }),
                        Selection::Filtered(query) => {
                            // The listing indexes hold keys and a few fields;
                            // the rows need whole leads.
                            let mut query = query
                                .plan(org)
                                .query
                                .project(["pk", "sk"])
                                .limit(EXPORT_PAGE)
                                .after(cursor);
                            query.forward = true;
                            match repo.query(query).await {
                                Ok(page) => {
                                    let keys: Result<Vec<Key>, _> =
                                        page.items.iter().map(Key::of).collect();
                                    match keys {
                                        Ok(keys) => repo
                                            .leads_in_order(&keys)
                                            .await
                                            .map(|leads| (leads, page.cursor)),
                                        Err(err) => Err(err),
                                    }
                                }
                                Err(err) => Err(err),
                            }
                        }
                    };
                    match result {
                        Ok((leads, next)) => {
                            let next_state = if next.is_some() {
                                State::Page(next)
                            } else {
                                State::Done
                            };
                            Some((Ok(lead_rows(&leads)), next_state))
                        }
                        Err(err) => {
                            tracing::error!(error = %err, "export failed");
                            Some((Err(std::io::Error::other(err)), State::Done))
                        }
                    }
                }
            }
        }
    })
}
