//! Blobs in a directory of the data dir, for `soraaya serve` and the tests:
//! the local stand-in for S3. Upload and download URLs are URLs of the local
//! server, signed (HMAC-SHA256 over the method, the key and the expiry) so
//! that, as with S3's presigned URLs, only whoever was given one can use it.
//! An upload of an import file starts its job, as S3's notification does.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;
use soraaya_core::AppState;
use soraaya_core::blobs::{BlobError, BlobKey, BlobReader, Blobs, SignedUrl};
use soraaya_jobs::import::{MAX_IMPORT_BYTES, job_of_upload};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use tracing::warn;

/// Blobs as files under a directory.
pub struct LocalBlobs {
    dir: PathBuf,
    /// The server's base URL (`http://127.0.0.1:3000`).
    base_url: String,
    key: [u8; 32],
    clock: Arc<dyn soraaya_core::Clock>,
}

impl LocalBlobs {
    pub fn new(
        dir: impl Into<PathBuf>,
        base_url: &str,
        clock: Arc<dyn soraaya_core::Clock>,
    ) -> Self {
        let mut key = [0u8; 32];
        rand::fill(&mut key);
        LocalBlobs {
            dir: dir.into(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            key,
            clock,
        }
    }

    fn path(&self, key: &BlobKey) -> PathBuf {
        self.dir.join(key.as_str())
    }

    fn signature(&self, method: &str, key: &str, expires: i64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(format!("{method}\n{key}\n{expires}").as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn sign(
        &self,
        method: &'static str,
        key: &BlobKey,
        expires: Duration,
        extra: &str,
    ) -> SignedUrl {
        let expires_at =
            self.clock.now() + jiff::SignedDuration::try_from(expires).unwrap_or_default();
        let seconds = expires_at.as_second();
        SignedUrl {
            url: format!(
                "{}/api/v1/blobs/{key}?expires={seconds}&signature={}{extra}",
                self.base_url,
                self.signature(method, key.as_str(), seconds)
            ),
            method,
            expires_at,
        }
    }

    fn verify(&self, method: &str, key: &str, query: &Signed) -> bool {
        let expected = self.signature(method, key, query.expires);
        let fresh = query.expires >= self.clock.now().as_second();
        fresh
            && bool::from(subtle::ConstantTimeEq::ct_eq(
                expected.as_bytes(),
                query.signature.as_bytes(),
            ))
    }

    /// Writes an upload's bytes, at most `max` of them.
    async fn receive(&self, key: &BlobKey, body: Body, max: u64) -> Result<u64, UploadError> {
        let path = self.path(key);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(UploadError::Io)?;
        }
        let partial = path.with_extension("part");
        let mut file = tokio::fs::File::create(&partial)
            .await
            .map_err(UploadError::Io)?;
        let mut stream = body.into_data_stream();
        let mut written = 0u64;
        while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
            let chunk = chunk.map_err(|e| UploadError::Io(std::io::Error::other(e)))?;
            written += chunk.len() as u64;
            if written > max {
                drop(file);
                let _ = tokio::fs::remove_file(&partial).await;
                return Err(UploadError::TooLarge(max));
            }
            file.write_all(&chunk).await.map_err(UploadError::Io)?;
        }
        file.sync_all().await.map_err(UploadError::Io)?;
        tokio::fs::rename(&partial, &path)
            .await
            .map_err(UploadError::Io)?;
        Ok(written)
    }
}

#[derive(Debug)]
enum UploadError {
    TooLarge(u64),
    Io(std::io::Error),
}

fn backend(err: std::io::Error) -> BlobError {
    BlobError::backend(err)
}

#[async_trait]
impl Blobs for LocalBlobs {
    async fn upload_url(
        &self,
        key: &BlobKey,
        _content_type: &str,
        expires: Duration,
    ) -> Result<SignedUrl, BlobError> {
        Ok(self.sign("PUT", key, expires, ""))
    }

    async fn download_url(
        &self,
        key: &BlobKey,
        file_name: &str,
        expires: Duration,
    ) -> Result<SignedUrl, BlobError> {
        let name: String = form_urlencoded::byte_serialize(file_name.as_bytes()).collect();
        Ok(self.sign("GET", key, expires, &format!("&name={name}")))
    }

    async fn read_from(&self, key: &BlobKey, offset: u64) -> Result<BlobReader, BlobError> {
        let mut file = match tokio::fs::File::open(self.path(key)).await {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(BlobError::NotFound(key.to_string()));
            }
            Err(err) => return Err(backend(err)),
        };
        file.seek(std::io::SeekFrom::Start(offset))
            .await
            .map_err(backend)?;
        Ok(Box::new(tokio::io::BufReader::with_capacity(
            256 * 1024,
            file,
        )))
    }

    async fn size(&self, key: &BlobKey) -> Result<Option<u64>, BlobError> {
        match tokio::fs::metadata(self.path(key)).await {
            Ok(meta) => Ok(Some(meta.len())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(backend(err)),
        }
    }

    async fn put(&self, key: &BlobKey, bytes: Bytes, _content_type: &str) -> Result<(), BlobError> {
        let path = self.path(key);
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(backend)?;
        }
        tokio::fs::write(&path, &bytes).await.map_err(backend)
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.path(key)).await {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(backend(err)),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Signed {
    expires: i64,
    signature: String,
    name: Option<String>,
}

#[derive(Clone)]
struct FilesState {
    app: AppState,
    blobs: Arc<LocalBlobs>,
}

fn refused(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        axum::Json(
            serde_json::json!({ "error": { "code": code, "message": message, "details": null } }),
        ),
    )
        .into_response()
}

async fn upload(
    State(state): State<FilesState>,
    UrlPath(key): UrlPath<String>,
    Query(signed): Query<Signed>,
    request: Request,
) -> Response {
    let Ok(key) = BlobKey::new(key) else {
        return refused(StatusCode::NOT_FOUND, "not_found", "no such file".into());
    };
    if !state.blobs.verify("PUT", key.as_str(), &signed) {
        return refused(
            StatusCode::FORBIDDEN,
            "bad_signature",
            "the upload URL is wrong or has expired".into(),
        );
    }
    match state
        .blobs
        .receive(&key, request.into_body(), MAX_IMPORT_BYTES)
        .await
    {
        Ok(_) => {}
        Err(UploadError::TooLarge(max)) => {
            return refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("an upload takes at most {max} bytes"),
            );
        }
        Err(UploadError::Io(err)) => {
            warn!(error = %err, "upload not stored");
            return refused(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the upload could not be stored".into(),
            );
        }
    }
    // As S3 tells the job queue of an upload.
    if let Some(message) = job_of_upload(key.as_str())
        && let Err(err) = state.app.jobs.send(&message).await
    {
        warn!(error = %err, "the job of an upload could not be started");
    }
    StatusCode::OK.into_response()
}

async fn download(
    State(state): State<FilesState>,
    UrlPath(key): UrlPath<String>,
    Query(signed): Query<Signed>,
) -> Response {
    let Ok(key) = BlobKey::new(key) else {
        return refused(StatusCode::NOT_FOUND, "not_found", "no such file".into());
    };
    if !state.blobs.verify("GET", key.as_str(), &signed) {
        return refused(
            StatusCode::FORBIDDEN,
            "bad_signature",
            "the download URL is wrong or has expired".into(),
        );
    }
    let reader = match state.blobs.read_from(&key, 0).await {
        Ok(reader) => reader,
        Err(_) => return refused(StatusCode::NOT_FOUND, "not_found", "no such file".into()),
    };
    let name = signed.name.unwrap_or_else(|| "download.csv".into());
    let disposition = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        name.replace(['"', '\\', '\r', '\n'], "_")
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(tokio_util::io::ReaderStream::new(reader)),
    )
        .into_response()
}

/// The routes that stand in for S3's presigned URLs.
pub fn routes(app: AppState, blobs: Arc<LocalBlobs>) -> Router {
    Router::new()
        .route("/api/v1/blobs/{*key}", put(upload).get(download))
        .with_state(FilesState { app, blobs })
}

/// The blobs directory of a data dir.
pub fn blobs_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("blobs")
}
