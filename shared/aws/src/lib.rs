//! The AWS adapters of the ports besides the store: blobs in an S3 bucket
//! (uploads and downloads through presigned URLs, reads by byte range), the
//! job queue on SQS, and email through Amazon SES.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use bytes::Bytes;
use soraaya_core::blobs::{BlobError, BlobKey, BlobReader, Blobs, SignedUrl};
use soraaya_core::config::{AwsService, AwsSettings};
use soraaya_core::jobs::{JobMessage, JobQueue, JobQueueError};
use soraaya_core::mail::{Mail, MailError, Mailer, sender};
use soraaya_core::storage::service_config;

/// Blobs in one S3 bucket.
pub struct S3Blobs {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Blobs {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3Blobs {
            client,
            bucket: bucket.into(),
        }
    }

    /// The bucket, reached as a deployed function's settings say. Path-style
    /// addressing when an endpoint is overridden (an emulator has no
    /// per-bucket host names).
    pub async fn at(bucket: &str, settings: &AwsSettings) -> Self {
        let shared = service_config(settings, AwsService::S3).await;
        let config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(settings.endpoint_of(AwsService::S3).is_some())
            .build();
        S3Blobs::new(aws_sdk_s3::Client::from_conf(config), bucket)
    }
}

fn backend(err: impl std::error::Error + Send + Sync + 'static) -> BlobError {
    BlobError::backend(err)
}

fn presigning(expires: Duration) -> Result<PresigningConfig, BlobError> {
    PresigningConfig::expires_in(expires).map_err(backend)
}

fn signed(
    request: &aws_sdk_s3::presigning::PresignedRequest,
    method: &'static str,
    expires: Duration,
) -> SignedUrl {
    SignedUrl {
        url: request.uri().to_owned(),
        method,
        expires_at: jiff::Timestamp::now()
            + jiff::SignedDuration::try_from(expires).unwrap_or_default(),
    }
}

#[async_trait]
impl Blobs for S3Blobs {
    async fn upload_url(
        &self,
        key: &BlobKey,
        content_type: &str,
        expires: Duration,
    ) -> Result<SignedUrl, BlobError> {
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .presigned(presigning(expires)?)
            .await
            .map_err(backend)?;
        Ok(signed(&request, "PUT", expires))
    }

    async fn download_url(
        &self,
        key: &BlobKey,
        file_name: &str,
        expires: Duration,
    ) -> Result<SignedUrl, BlobError> {
        let name = file_name.replace(['"', '\\', '\r', '\n'], "_");
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .response_content_disposition(format!("attachment; filename=\"{name}\""))
            .response_content_type("text/csv; charset=utf-8")
            .presigned(presigning(expires)?)
            .await
            .map_err(backend)?;
        Ok(signed(&request, "GET", expires))
    }

    async fn read_from(&self, key: &BlobKey, offset: u64) -> Result<BlobReader, BlobError> {
        // A range that starts at the end is refused (416): nothing is left.
        if self.size(key).await?.is_some_and(|size| offset >= size) {
            return Ok(Box::new(tokio::io::empty()));
        }
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .range(format!("bytes={offset}-"))
            .send()
            .await
            .map_err(|err| match err.as_service_error() {
                Some(e) if e.is_no_such_key() => BlobError::NotFound(key.to_string()),
                _ => backend(err),
            })?;
        Ok(Box::new(object.body.into_async_read()))
    }

    async fn size(&self, key: &BlobKey) -> Result<Option<u64>, BlobError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
        {
            Ok(head) => Ok(Some(
                head.content_length()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
            )),
            Err(err) if err.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(err) => Err(backend(err)),
        }
    }

    async fn put(&self, key: &BlobKey, bytes: Bytes, content_type: &str) -> Result<(), BlobError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .content_type(content_type)
            .body(bytes.into())
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), BlobError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// The job queue on SQS.
pub struct SqsJobQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl SqsJobQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        SqsJobQueue {
            client,
            url: url.into(),
        }
    }

    /// The queue at `url`, as a deployed function's settings reach SQS.
    pub async fn at(url: &str, settings: &AwsSettings) -> Self {
        let config = service_config(settings, AwsService::Sqs).await;
        SqsJobQueue::new(aws_sdk_sqs::Client::new(&config), url)
    }

    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.client
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

#[async_trait]
impl JobQueue for SqsJobQueue {
    async fn send(&self, message: &JobMessage) -> Result<(), JobQueueError> {
        let body = serde_json::to_string(message).map_err(|e| JobQueueError::Send(Box::new(e)))?;
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| JobQueueError::Send(Box::new(e)))?;
        Ok(())
    }
}

/// Email through Amazon SES (API v2 `SendEmail`, a `Simple` message with a
/// text and an HTML part, both UTF-8), from one verified address with the
/// organisation's name as the sender's. Followed: the SES API v2 reference
/// for `SendEmail` (<https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html>):
/// `MessageRejected`, `MailFromDomainNotVerifiedException` and
/// `BadRequestException` are refusals of this message; the rest (throttling,
/// a paused account) are the service failing.
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from_address: String,
}

impl SesMailer {
    pub fn new(client: aws_sdk_sesv2::Client, from_address: impl Into<String>) -> Self {
        SesMailer {
            client,
            from_address: from_address.into(),
        }
    }

    /// SES as a deployed function's settings say.
    pub async fn at(from_address: &str, settings: &AwsSettings) -> Self {
        let shared = service_config(settings, AwsService::Ses).await;
        SesMailer::new(aws_sdk_sesv2::Client::new(&shared), from_address)
    }
}

fn utf8(text: &str) -> Result<aws_sdk_sesv2::types::Content, MailError> {
    aws_sdk_sesv2::types::Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .map_err(MailError::backend)
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        use aws_sdk_sesv2::types::{Body, Destination, EmailContent, Message};
        let message = Message::builder()
            .subject(utf8(&mail.subject)?)
            .body(
                Body::builder()
                    .text(utf8(&mail.text)?)
                    .html(utf8(&mail.html)?)
                    .build(),
            )
            .build();
        let sent = self
            .client
            .send_email()
            .from_email_address(sender(&mail.from_name, &self.from_address))
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(err) => match err.as_service_error() {
                Some(refused)
                    if refused.is_message_rejected()
                        || refused.is_mail_from_domain_not_verified_exception()
                        || refused.is_bad_request_exception() =>
                {
                    Err(MailError::Refused(refused.to_string()))
                }
                _ => Err(MailError::backend(err)),
            },
        }
    }
}
