//! CSV export of the leads a listing selects (or of chosen leads), streamed
//! page by page, in the columns import reads.

use std::sync::Arc;

use bytes::Bytes;
use futures::Stream;
use soraaya_domain::{Lead, LeadId, OrgId};
use soraaya_store::{Key, StoreError};

use crate::fields::LeadField;
use crate::list::{LeadQuery, Walk, search_matches, walk_selected};
use crate::record::lead_key;
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
    /// Just after the header.
    Start,
    /// Through the leads a filtered listing selects.
    Walk(Walk),
    /// Leads still to write, in order (chosen ones, or a search's matches).
    Keys(Vec<Key>),
    Done,
}

/// The file's rows after the header: where they start.
async fn first_rows(
    repo: &LeadsRepo<'_>,
    org: OrgId,
    selection: &Selection,
) -> Result<State, StoreError> {
    Ok(match selection {
        Selection::Chosen(ids) => {
            let mut leads = repo.leads(org, ids).await?;
            leads.sort_by_key(|l| (l.created_at, l.id));
            State::Keys(leads.iter().map(|l| lead_key(org, l.id)).collect())
        }
        Selection::Filtered(query) if query.searches() => {
            State::Keys(search_matches(repo, org, query).await?)
        }
        Selection::Filtered(_) => State::Walk(Walk::default()),
    })
}

/// One chunk of rows, and where the next starts.
async fn rows_from(
    repo: &LeadsRepo<'_>,
    org: OrgId,
    selection: &Selection,
    state: State,
) -> Result<(Vec<Lead>, State), StoreError> {
    match state {
        State::Keys(mut keys) => {
            let rest = keys.split_off(keys.len().min(EXPORT_PAGE as usize));
            let leads = repo.leads_in_order(&keys).await?;
            let next = if rest.is_empty() {
                State::Done
            } else {
                State::Keys(rest)
            };
            Ok((leads, next))
        }
        State::Walk(walk) => {
            let Selection::Filtered(query) = selection else {
                return Ok((Vec::new(), State::Done));
            };
            // The listing indexes hold keys and a few fields; the rows need
            // whole leads.
            let (keys, next) = walk_selected(repo, org, query, walk, EXPORT_PAGE).await?;
            let leads = repo.leads_in_order(&keys).await?;
            Ok((leads, next.map_or(State::Done, State::Walk)))
        }
        State::Header | State::Start | State::Done => Ok((Vec::new(), State::Done)),
    }
}

/// The CSV file as a stream of chunks.
pub fn export(
    app: Arc<App>,
    org: OrgId,
    selection: Selection,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    let selection = Arc::new(selection);
    futures::stream::unfold(Some(State::Header), move |state| {
        let app = Arc::clone(&app);
        let selection = Arc::clone(&selection);
        async move {
            let repo = LeadsRepo::new(app.store.as_ref());
            let result = match state? {
                State::Done => return None,
                State::Header => return Some((Ok(header()), Some(State::Start))),
                State::Start => match first_rows(&repo, org, &selection).await {
                    Ok(first) => rows_from(&repo, org, &selection, first).await,
                    Err(err) => Err(err),
                },
                state => rows_from(&repo, org, &selection, state).await,
            };
            match result {
                Ok((leads, next)) => Some((Ok(lead_rows(&leads)), Some(next))),
                Err(err) => {
                    tracing::error!(error = %err, "export failed");
                    Some((Err(std::io::Error::other(err)), None))
                }
            }
        }
    })
}
