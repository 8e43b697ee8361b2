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

    /// Every object under `prefix`, in key order (all pages). `start_after` skips keys that sort
    /// before it, which prunes date-partitioned CloudTrail prefixes cheaply.
    pub fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
    ) -> Result<Vec<ObjectInfo>, String> {
        let region = self.bucket_region_cached(bucket)?;
        let client = self.access.s3(&region);
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .runtime
                .block_on(
                    client
                        .list_objects_v2()
                        .bucket(bucket)
                        .prefix(prefix)
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
            out.extend(page.contents().iter().map(|o| ObjectInfo {
                key: o.key().unwrap_or_default().to_string(),
                size: o.size().unwrap_or(0).max(0) as u64,
            }));
            token = page.next_continuation_token().map(str::to_string);
            if token.is_none() || page.is_truncated() != Some(true) {
                break;
            }
        }
        Ok(out)
    }

    /// The object's bytes.
    pub fn get_object(&self, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
        let region = self.bucket_region_cached(bucket)?;
        let client = self.access.s3(&region);
        self.runtime.block_on(async {
            let out = client
                .get_object()
                .bucket(bucket)
                .key(key)
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
        })
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
