//! The blob port: files too big for a request (imports, exports). On AWS an
//! S3 bucket, whose presigned URLs let a client upload or download without
//! passing the bytes through a Lambda; locally a directory of the data dir,
//! with URLs of `soraaya serve` signed the same way.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::AsyncRead;

/// Where a blob lives: `imports/{org}/{job}.csv`, `exports/{org}/{job}.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlobKey(String);

impl BlobKey {
    /// A key of path segments made only of letters, digits, `-`, `_` and `.`.
    pub fn new(path: impl Into<String>) -> Result<BlobKey, BlobError> {
        let path = path.into();
        let safe = !path.is_empty()
            && path.split('/').all(|segment| {
                !segment.is_empty()
                    && segment != "."
                    && segment != ".."
                    && segment
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            });
        if safe {
            Ok(BlobKey(path))
        } else {
            Err(BlobError::BadKey(path))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BlobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A URL a client uses directly, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedUrl {
    pub url: String,
    /// `PUT` to upload, `GET` to download.
    pub method: &'static str,
    pub expires_at: jiff::Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("not a blob key: {0}")]
    BadKey(String),
    #[error("no such blob: {0}")]
    NotFound(String),
    #[error("the blob store failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("no blob store is configured")]
    Unconfigured,
}

impl BlobError {
    pub fn backend(err: impl std::error::Error + Send + Sync + 'static) -> BlobError {
        BlobError::Backend(Box::new(err))
    }
}

/// A blob read from some offset on.
pub type BlobReader = Box<dyn AsyncRead + Send + Unpin>;

#[async_trait]
pub trait Blobs: Send + Sync + 'static {
    /// A URL to `PUT` the blob's bytes to, for at most `max_bytes`.
    async fn upload_url(
        &self,
        key: &BlobKey,
        content_type: &str,
        expires: Duration,
    ) -> Result<SignedUrl, BlobError>;

    /// A URL to download the blob, saved as `file_name`.
    async fn download_url(
        &self,
        key: &BlobKey,
        file_name: &str,
        expires: Duration,
    ) -> Result<SignedUrl, BlobError>;

    /// The blob's bytes from `offset` to its end.
    async fn read_from(&self, key: &BlobKey, offset: u64) -> Result<BlobReader, BlobError>;

    /// Its size, or `None` if there is no such blob.
    async fn size(&self, key: &BlobKey) -> Result<Option<u64>, BlobError>;

    async fn put(&self, key: &BlobKey, bytes: Bytes, content_type: &str) -> Result<(), BlobError>;

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError>;
}

/// Blobs for functions that keep none.
pub struct NoBlobs;

#[async_trait]
impl Blobs for NoBlobs {
    async fn upload_url(&self, _: &BlobKey, _: &str, _: Duration) -> Result<SignedUrl, BlobError> {
        Err(BlobError::Unconfigured)
    }

    async fn download_url(
        &self,
        _: &BlobKey,
        _: &str,
        _: Duration,
    ) -> Result<SignedUrl, BlobError> {
        Err(BlobError::Unconfigured)
    }

    async fn read_from(&self, _: &BlobKey, _: u64) -> Result<BlobReader, BlobError> {
        Err(BlobError::Unconfigured)
    }

    async fn size(&self, _: &BlobKey) -> Result<Option<u64>, BlobError> {
        Err(BlobError::Unconfigured)
    }

    async fn put(&self, _: &BlobKey, _: Bytes, _: &str) -> Result<(), BlobError> {
        Err(BlobError::Unconfigured)
    }

    async fn delete(&self, _: &BlobKey) -> Result<(), BlobError> {
        Err(BlobError::Unconfigured)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_climb_out_of_their_folder() {
        assert!(BlobKey::new("imports/org-1/job-1.csv").is_ok());
        for bad in [
            "",
            "../etc/passwd",
            "imports//x",
            "imports/./x",
            "a b",
            "imports/x?y",
        ] {
            assert!(BlobKey::new(bad).is_err(), "{bad}");
        }
    }
}
