//! Blocking access for the synchronous parts of rampart: reading CloudTrail objects from S3
//! (`rampart detect s3://…`, `rampart plan --replay s3://…`) and publishing alerts to SNS.
//!
//! The detection pipeline is synchronous and CPU-bound; these calls wrap the async SDK in a
//! small runtime of their own so callers stay simple.

use crate::access::{Access, Counters, describe};
use crate::{CollectError, CollectOptions};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One object under a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub key: String,
    pub size: u64,
}

/// What receives each fetched object: its key and its bytes, or why it could not be read.
pub type ObjectBytes<'a> = dyn FnMut(&str, Result<Vec<u8>, String>) + 'a;

/// One page of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub objects: Vec<ObjectInfo>,
    /// With a delimiter: the prefixes one level down (`…/eu-west-1/`), each once.
    pub prefixes: Vec<String>,
}

/// One GET, its body collected.
async fn fetch(client: aws_sdk_s3::Client, bucket: String, key: String) -> Result<Vec<u8>, String> {
    let out = client
        .get_object()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
        .map_err(|e| {
            let (code, message) = describe(&e);
            format!(
                "s3:GetObject on s3://{bucket}/{key} failed ({code}: {message}); check s3:GetObject permission (and kms:Decrypt for SSE-KMS trails)"
            )
        })?;
    out.body
        .collect()
        .await
        .map(|b| b.into_bytes().to_vec())
        .map_err(|e| format!("reading s3://{bucket}/{key} failed: {e}"))
}

/// A session for blocking S3 reads and SNS publishing.
pub struct BlockingAws {
    runtime: tokio::runtime::Runtime,
    access: Access,
    /// Bucket → region, so each object read costs one call.
    regions: Mutex<HashMap<String, String>>,
}

impl BlockingAws {
    /// Loads credentials the same way `collect` does (profile, endpoint, retries).
    pub fn connect(opts: &CollectOptions) -> Result<BlockingAws, CollectError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CollectError::Runtime(e.to_string()))?;
        let access = runtime.block_on(Access::from_env(opts, Arc::new(Counters::default())))?;
        Ok(BlockingAws {
            runtime,
            access,
            regions: Mutex::new(HashMap::new()),
        })
    }

    /// The session's clients (for other modules of this crate).
    pub(crate) fn access(&self) -> &Access {
        &self.access
    }

    /// Runs one SDK call to its end on this session's runtime.
    pub(crate) fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// Writes one object (`rampart hunt` uploads its Spark job with it).
    pub fn put_object(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), String> {
        let region = self.bucket_region_cached(bucket)?;
        let client = self.access.s3(&region);
        self.runtime
            .block_on(
                client
                    .put_object()
                    .bucket(bucket)
                    .key(key)
                    .body(aws_sdk_s3::primitives::ByteStream::from(body))
                    .send(),
            )
            .map(|_| ())
            .map_err(|e| {
                let (code, message) = describe(&e);
                format!(
                    "s3:PutObject on s3://{bucket}/{key} failed ({code}: {message}); check s3:PutObject permission on the staging prefix"
                )
            })
    }

    /// The bucket's region (`GetBucketLocation`; an empty constraint means us-east-1).
    fn bucket_region(&self, bucket: &str) -> Result<String, String> {
        let home = self.access.home_region();
        let out = self
            .runtime
            .block_on(
                self.access
                    .s3(&home)
                    .get_bucket_location()
                    .bucket(bucket)
                    .send(),
            )
            .map_err(|e| {
                let (code, message) = describe(&e);
                format!(
                    "s3:GetBucketLocation on bucket {bucket} failed ({code}: {message}); check the bucket name and that the credentials may read it"
                )
            })?;
        Ok(out
            .location_constraint()
            .map(|c| c.as_str().to_string())
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "us-east-1".to_string()))
    }

    /// Calls `each` with every page of the listing under `prefix` (objects and, with a
    /// `delimiter`, the common prefixes one level down), in key order, until it returns false.
    /// `start_after` skips keys that sort before it, which prunes date-partitioned CloudTrail
    /// prefixes cheaply. Memory holds one page (up to 1,000 keys) at a time.
    pub fn list_pages(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        delimiter: Option<&str>,
        each: &mut dyn FnMut(Page) -> bool,
    ) -> Result<(), String> {
        let region = self.bucket_region_cached(bucket)?;
        let client = self.access.s3(&region);
        let mut token: Option<String> = None;
        loop {
            let page = self
                .runtime
                .block_on(
                    client
                        .list_objects_v2()
                        .bucket(bucket)
                        .prefix(prefix)
                        .set_delimiter(delimiter.map(str::to_string))
                        .set_start_after(start_after.map(str::to_string))
                        .set_continuation_token(token.clone())
                        .send(),
                )
                .map_err(|e| {
                    let (code, message) = describe(&e);
                    format!(
                        "s3:ListObjectsV2 on s3://{bucket}/{prefix} failed ({code}: {message}); check s3:ListBucket permission on the bucket"
                    )
                })?;
            let objects = page
                .contents()
                .iter()
                .map(|o| ObjectInfo {
                    key: o.key().unwrap_or_default().to_string(),
                    size: o.size().unwrap_or(0).max(0) as u64,
                })
                .collect();
            let prefixes = page
                .common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_string))
                .collect();
            token = page.next_continuation_token().map(str::to_string);
            let more = token.is_some() && page.is_truncated() == Some(true);
            if !each(Page { objects, prefixes }) || !more {
                return Ok(());
            }
        }
    }

    /// Every object under `prefix`, in key order (all pages).
    pub fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
    ) -> Result<Vec<ObjectInfo>, String> {
        let mut out = Vec::new();
        self.list_pages(bucket, prefix, start_after, None, &mut |p| {
            out.extend(p.objects);
            true
        })?;
        Ok(out)
    }

    /// The object's bytes.
    pub fn get_object(&self, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
        let region = self.bucket_region_cached(bucket)?;
        let client = self.access.s3(&region);
        self.runtime
            .block_on(fetch(client, bucket.to_string(), key.to_string()))
    }

    /// Fetches `keys` with up to `in_flight` requests at once and hands each object's bytes (or
    /// the error) to `each` in the order of `keys`: S3 answers each GET in tens of
    /// milliseconds, so one at a time would leave the reader idle most of the time.
    pub fn get_objects(
        &self,
        bucket: &str,
        keys: Vec<String>,
        in_flight: usize,
        each: &mut ObjectBytes<'_>,
    ) -> Result<(), String> {
        let region = self.bucket_region_cached(bucket)?;
        let client = self.access.s3(&region);
        // the GETs run on this session's runtime while the next one in order is awaited;
        // `each` runs outside it (it may make blocking calls of its own, SNS for one)
        let mut keys = keys.into_iter();
        let mut pending = std::collections::VecDeque::new();
        loop {
            while pending.len() < in_flight.max(1) {
                let Some(key) = keys.next() else { break };
                let task =
                    self.runtime
                        .spawn(fetch(client.clone(), bucket.to_string(), key.clone()));
                pending.push_back((key, task));
            }
            let Some((key, task)) = pending.pop_front() else {
                break;
            };
            let got = self
                .runtime
                .block_on(task)
                .unwrap_or_else(|e| Err(format!("s3:GetObject on s3://{bucket}/{key}: {e}")));
            each(&key, got);
        }
        Ok(())
    }

    fn bucket_region_cached(&self, bucket: &str) -> Result<String, String> {
        if let Some(r) = self
            .regions
            .lock()
            .ok()
            .and_then(|m| m.get(bucket).cloned())
        {
            return Ok(r);
        }
        let r = self.bucket_region(bucket)?;
        if let Ok(mut m) = self.regions.lock() {
            m.insert(bucket.to_string(), r.clone());
        }
        Ok(r)
    }

    /// Writes one object with its content type (a report): `s3:PutObject` in the bucket's
    /// region, encrypted with the bucket's default (SSE-S3 at least).
    pub fn put_object_as(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), String> {
        let region = self.bucket_region_cached(bucket)?;
        self.runtime
            .block_on(
                self.access
                    .s3(&region)
                    .put_object()
                    .bucket(bucket)
                    .key(key)
                    .content_type(content_type)
                    .body(aws_sdk_s3::primitives::ByteStream::from(body))
                    .send(),
            )
            .map(|_| ())
            .map_err(|e| {
                let (code, message) = describe(&e);
                format!(
                    "s3:PutObject to s3://{bucket}/{key} failed ({code}: {message}); check the bucket exists and s3:PutObject is allowed on the prefix"
                )
            })
    }

    /// The ARN of the topic called `name` in the home region (`sns:ListTopics`), for a
    /// configuration that names its alert topic rather than giving its ARN.
    pub fn find_topic(&self, name: &str) -> Result<String, String> {
        let region = self.access.home_region();
        let client = self.access.sns(&region);
        let mut token: Option<String> = None;
        loop {
            let page = self
                .runtime
                .block_on(client.list_topics().set_next_token(token.clone()).send())
                .map_err(|e| {
                    let (code, message) = describe(&e);
                    format!("sns:ListTopics in {region} failed ({code}: {message})")
                })?;
            if let Some(arn) = page
                .topics()
                .iter()
                .filter_map(|t| t.topic_arn())
                .find(|arn| arn.rsplit(':').next() == Some(name))
            {
                return Ok(arn.to_string());
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Err(format!(
                    "no SNS topic named `{name}` in {region}; create it with `rampart apply` or give its ARN"
                ));
            }
        }
    }

    /// Publishes one message to an SNS topic (the region comes from the topic ARN).
    pub fn publish_sns(&self, topic_arn: &str, subject: &str, message: &str) -> Result<(), String> {
        let region = topic_arn
            .split(':')
            .nth(3)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| self.access.home_region());
        self.runtime
            .block_on(
                self.access
                    .sns(&region)
                    .publish()
                    .topic_arn(topic_arn)
                    .subject(subject)
                    .message(message)
                    .send(),
            )
            .map(|_| ())
            .map_err(|e| {
                let (code, message) = describe(&e);
                format!(
                    "sns:Publish to {topic_arn} failed ({code}: {message}); check the topic exists and sns:Publish is allowed"
                )
            })
    }
}

/// Splits `s3://bucket/prefix` into bucket and prefix; `None` when it is not an S3 URL.
pub fn parse_s3_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return None;
    }
    Some((bucket.to_string(), prefix.to_string()))
}

#[cfg(test)]
mod tests {
    use super::parse_s3_url;

    #[test]
    fn s3_urls() {
        assert_eq!(
            parse_s3_url("s3://logs/AWSLogs/o-1/"),
            Some(("logs".into(), "AWSLogs/o-1/".into()))
        );
        assert_eq!(parse_s3_url("s3://logs"), Some(("logs".into(), "".into())));
        assert_eq!(parse_s3_url("s3:///x"), None);
        assert_eq!(parse_s3_url("/tmp/x"), None);
    }
}
