//! Exports as jobs: the chosen leads written as one CSV file (the columns of
//! `GET /api/v1/leads/export`) to the blob store, downloaded from a signed
//! URL. A run writes the whole file; a run cut short starts the file again.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use soraaya_core::App;
use soraaya_core::blobs::{BlobError, BlobKey, SignedUrl};
use soraaya_domain::{JobId, OrgId};
use soraaya_leads::export::{header, lead_rows};
use soraaya_leads::import::JobCounts;
use soraaya_leads::record::lead_key;
use soraaya_leads::repo::LeadsRepo;
use soraaya_store::StoreError;

use crate::repo::{Job, JobStatus, JobsRepo};
use crate::runner::JobError;

/// How long a download URL works.
pub const DOWNLOAD_EXPIRES: Duration = Duration::from_secs(15 * 60);

/// Where an export job's file is written.
pub fn export_key(org: OrgId, job: JobId) -> Result<BlobKey, BlobError> {
    BlobKey::new(format!("exports/{org}/{job}.csv"))
}

/// Writes the file of the job's chosen leads, in the order they were chosen.
pub(crate) async fn write(app: &App, job: &Job) -> Result<(), JobError> {
    let repo = JobsRepo::new(app.store.as_ref());
    let leads = LeadsRepo::new(app.store.as_ref());
    let mut file = BytesMut::from(header().as_ref());
    let mut exported = 0u64;
    for n in 0..job.chunks.unwrap_or_default() {
        let ids = repo.chunk(job, n).await?;
        let keys: Vec<_> = ids.iter().map(|id| lead_key(job.org_id, *id)).collect();
        // Leads erased since they were chosen are left out.
        let found = leads.leads_in_order(&keys).await?;
        exported += found.len() as u64;
        file.extend_from_slice(&lead_rows(&found));
    }
    app.blobs
        .put(
            &export_key(job.org_id, job.id)?,
            Bytes::from(file),
            "text/csv; charset=utf-8",
        )
        .await?;
    // Counted once, however many runs wrote the file.
    let counts = JobCounts {
        rows: exported,
        succeeded: exported,
        ..JobCounts::default()
    };
    let ops = vec![
        JobsRepo::batch_marker(job, 0)?,
        JobsRepo::add_counts(job, 0, &counts),
    ];
    match app.store.transact_write(ops).await {
        Ok(()) | Err(StoreError::Conflict { .. }) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// Where to download a completed export's file.
pub async fn download(app: &App, job: &Job) -> Result<Option<SignedUrl>, JobError> {
    if job.kind != crate::repo::JobKind::Export || job.status != JobStatus::Completed {
        return Ok(None);
    }
    let name = job.file_name.as_deref().unwrap_or("leads.csv");
    let url = app
        .blobs
        .download_url(&export_key(job.org_id, job.id)?, name, DOWNLOAD_EXPIRES)
        .await?;
    Ok(Some(url))
}
