//! The AWS side of `rampart drill`: the scenario's calls in the sandbox account, the removal of
//! canaries and the search for leftovers (resources named `rampart-drill-…`). The permissions
//! used here are exactly those of `policies/rampart-drill.json`.

use crate::access::{Access, Counters, describe};
use crate::{CollectError, CollectOptions};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;
use rampart_drill::run::{Response, Sandbox};
use rampart_drill::{CANARY_PREFIX, Canary};
use serde_json::Value;
use std::sync::Arc;

/// A session in the sandbox account (assumed through `role_name` when the caller is elsewhere).
pub struct AwsSandbox {
    runtime: tokio::runtime::Runtime,
    access: Access,
    account: String,
    region: String,
}

impl AwsSandbox {
    /// Connects with the global credentials; assumes `role_name` in `account` unless the
    /// credentials already act there.
    pub fn connect(
        opts: &CollectOptions,
        account: &str,
        region: &str,
    ) -> Result<AwsSandbox, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CollectError::Runtime(e.to_string()).to_string())?;
        let access = runtime.block_on(async {
            let base = Access::from_env(opts, Arc::new(Counters::default()))
                .await
                .map_err(|e| e.to_string())?;
            let me = base.caller_identity().await.map_err(|e| e.to_string())?;
            if me.account_id == account {
                let mut a = base;
                a.account_id = account.to_string();
                Ok::<_, String>(a)
            } else {
                base.assume(account, &opts.role_name)
                    .await
                    .map_err(|e| e.message)
            }
        })?;
        Ok(AwsSandbox {
            runtime,
            access,
            account: account.to_string(),
            region: region.to_string(),
        })
    }

    fn failed<E>(&self, api: &str, e: &SdkError<E, HttpResponse>) -> String
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let (code, message) = describe(e);
        format!(
            "{api} in account {} failed ({code}: {message}); check the drill role has policies/rampart-drill.json",
            self.account
        )
    }
}

fn code<E>(e: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    describe(e).0
}

fn text<'v>(params: &'v Value, key: &str) -> Result<&'v str, String> {
    params[key]
        .as_str()
        .ok_or_else(|| format!("drill step lacks `{key}`"))
}

fn rid<T: RequestId>(out: &T) -> Response {
    Response {
        request_id: out.request_id().map(str::to_string),
        outputs: Vec::new(),
    }
}

/// Codes meaning "already gone": removal is done.
const GONE: &[&str] = &[
    "NoSuchEntity",
    "NoSuchBucket",
    "TrailNotFoundException",
    "NoSuchBucketPolicy",
    "NoSuchPublicAccessBlockConfiguration",
];

impl Sandbox for AwsSandbox {
    fn account(&self) -> &str {
        &self.account
    }

    fn call(
        &mut self,
        event_source: &str,
        event_name: &str,
        p: &Value,
    ) -> Result<Response, String> {
        let iam = self.access.iam(&self.region);
        let s3 = self.access.s3(&self.region);
        let ct = self.access.cloudtrail(&self.region);
        let api = format!(
            "{}:{event_name}",
            event_source.trim_end_matches(".amazonaws.com")
        );
        let rt = &self.runtime;
        match event_name {
            "CreateUser" => {
                let mut req = iam.create_user().user_name(text(p, "userName")?);
                for t in p["tags"].as_array().into_iter().flatten() {
                    let tag = aws_sdk_iam::types::Tag::builder()
                        .key(t["key"].as_str().unwrap_or_default())
                        .value(t["value"].as_str().unwrap_or_default())
                        .build()
                        .map_err(|e| format!("{api}: {e}"))?;
                    req = req.tags(tag);
                }
                rt.block_on(req.send())
                    .map(|o| rid(&o))
                    .map_err(|e| self.failed(&api, &e))
            }
            "CreateAccessKey" => {
                let o = rt
                    .block_on(
                        iam.create_access_key()
                            .user_name(text(p, "userName")?)
                            .send(),
                    )
                    .map_err(|e| self.failed(&api, &e))?;
                let mut r = rid(&o);
                // only the id is kept; the secret is dropped unread
                if let Some(k) = o.access_key() {
                    r.outputs
                        .push(("accessKeyId".into(), k.access_key_id().to_string()));
                }
                Ok(r)
            }
            "DeleteAccessKey" => rt
                .block_on(
                    iam.delete_access_key()
                        .user_name(text(p, "userName")?)
                        .access_key_id(text(p, "accessKeyId")?)
                        .send(),
                )
                .map(|o| rid(&o))
                .map_err(|e| self.failed(&api, &e)),
            "CreateBucket" => {
                let mut req = s3.create_bucket().bucket(text(p, "bucketName")?);
                if self.region != "us-east-1" {
                    req = req.create_bucket_configuration(
                        aws_sdk_s3::types::CreateBucketConfiguration::builder()
                            .location_constraint(self.region.as_str().into())
                            .build(),
                    );
                }
                rt.block_on(req.send())
                    .map(|o| rid(&o))
                    .map_err(|e| self.failed(&api, &e))
            }
            "PutBucketPolicy" => rt
                .block_on(
                    s3.put_bucket_policy()
                        .bucket(text(p, "bucketName")?)
                        .policy(p["bucketPolicy"].to_string())
                        .send(),
                )
                .map(|o| rid(&o))
                .map_err(|e| self.failed(&api, &e)),
            "DeleteBucketPolicy" => rt
                .block_on(
                    s3.delete_bucket_policy()
                        .bucket(text(p, "bucketName")?)
                        .send(),
                )
                .map(|o| rid(&o))
                .map_err(|e| self.failed(&api, &e)),
            "DeleteBucketPublicAccessBlock" => rt
                .block_on(
                    s3.delete_public_access_block()
                        .bucket(text(p, "bucketName")?)
                        .send(),
                )
                .map(|o| rid(&o))
                .map_err(|e| self.failed(&api, &e)),
            "PutBucketPublicAccessBlock" => {
                let c = &p["PublicAccessBlockConfiguration"];
                let flag = |k: &str| c[k].as_bool().unwrap_or(true);
                let conf = aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                    .block_public_acls(flag("BlockPublicAcls"))
                    .ignore_public_acls(flag("IgnorePublicAcls"))
                    .block_public_policy(flag("BlockPublicPolicy"))
                    .restrict_public_buckets(flag("RestrictPublicBuckets"))
                    .build();
                rt.block_on(
                    s3.put_public_access_block()
                        .bucket(text(p, "bucketName")?)
                        .public_access_block_configuration(conf)
                        .send(),
                )
                .map(|o| rid(&o))
                .map_err(|e| self.failed(&api, &e))
            }
            "CreateTrail" => {
                let mut req = ct
                    .create_trail()
                    .name(text(p, "name")?)
                    .s3_bucket_name(text(p, "s3BucketName")?);
                for t in p["tagsList"].as_array().into_iter().flatten() {
                    let tag = aws_sdk_cloudtrail::types::Tag::builder()
                        .key(t["key"].as_str().unwrap_or_default())
                        .value(t["value"].as_str().unwrap_or_default())
                        .build()
                        .map_err(|e| format!("{api}: {e}"))?;
                    req = req.tags_list(tag);
                }
                rt.block_on(req.send())
                    .map(|o| rid(&o))
                    .map_err(|e| self.failed(&api, &e))
            }
            "StartLogging" => rt
                .block_on(ct.start_logging().name(text(p, "name")?).send())
                .map(|o| rid(&o))
                .map_err(|e| self.failed(&api, &e)),
            "StopLogging" => rt
                .block_on(ct.stop_logging().name(text(p, "name")?).send())
                .map(|o| rid(&o))
                .map_err(|e| self.failed(&api, &e)),
            other => Err(format!("drill step {other} is not implemented for AWS")),
        }
    }

    fn remove(&mut self, canary: &Canary) -> Result<(), String> {
        if !canary.name().starts_with(CANARY_PREFIX) {
            return Err(format!(
                "refusing to remove {canary}: not a drill canary ({CANARY_PREFIX}…)"
            ));
        }
        match canary {
            Canary::User(n) => self.remove_user(n),
            Canary::Bucket(n) => self.remove_bucket(n),
            Canary::Trail(n) => {
                let r = self.runtime.block_on(
                    self.access
                        .cloudtrail(&self.region)
                        .delete_trail()
                        .name(n)
                        .send(),
                );
                match r {
                    Ok(_) => Ok(()),
                    Err(e) if GONE.contains(&code(&e).as_str()) => Ok(()),
                    Err(e) => Err(self.failed("cloudtrail:DeleteTrail", &e)),
                }
            }
        }
    }

    fn leftovers(&mut self) -> Result<Vec<Canary>, String> {
        let mut found = Vec::new();
        let iam = self.access.iam(&self.region);
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .runtime
                .block_on(iam.list_users().set_marker(marker.clone()).send())
                .map_err(|e| self.failed("iam:ListUsers", &e))?;
            found.extend(
                page.users()
                    .iter()
                    .filter(|u| u.user_name().starts_with(CANARY_PREFIX))
                    .map(|u| Canary::User(u.user_name().to_string())),
            );
            marker = page.marker().map(str::to_string);
            if !page.is_truncated() || marker.is_none() {
                break;
            }
        }
        let buckets = self
            .runtime
            .block_on(self.access.s3(&self.region).list_buckets().send())
            .map_err(|e| self.failed("s3:ListBuckets", &e))?;
        found.extend(
            buckets
                .buckets()
                .iter()
                .filter_map(|b| b.name())
                .filter(|n| n.starts_with(CANARY_PREFIX))
                .map(|n| Canary::Bucket(n.to_string())),
        );
        let trails = self
            .runtime
            .block_on(
                self.access
                    .cloudtrail(&self.region)
                    .describe_trails()
                    .include_shadow_trails(false)
                    .send(),
            )
            .map_err(|e| self.failed("cloudtrail:DescribeTrails", &e))?;
        found.extend(
            trails
                .trail_list()
                .iter()
                .filter_map(|t| t.name())
                .filter(|n| n.starts_with(CANARY_PREFIX))
                .map(|n| Canary::Trail(n.to_string())),
        );
        Ok(found)
    }
}

impl AwsSandbox {
    /// Deletes the user's access keys, then the user.
    fn remove_user(&self, name: &str) -> Result<(), String> {
        let iam = self.access.iam(&self.region);
        let keys = match self
            .runtime
            .block_on(iam.list_access_keys().user_name(name).send())
        {
            Ok(k) => k,
            Err(e) if GONE.contains(&code(&e).as_str()) => return Ok(()),
            Err(e) => return Err(self.failed("iam:ListAccessKeys", &e)),
        };
        for k in keys.access_key_metadata() {
            let Some(id) = k.access_key_id() else {
                continue;
            };
            match self.runtime.block_on(
                iam.delete_access_key()
                    .user_name(name)
                    .access_key_id(id)
                    .send(),
            ) {
                Ok(_) => {}
                Err(e) if GONE.contains(&code(&e).as_str()) => {}
                Err(e) => return Err(self.failed("iam:DeleteAccessKey", &e)),
            }
        }
        match self
            .runtime
            .block_on(iam.delete_user().user_name(name).send())
        {
            Ok(_) => Ok(()),
            Err(e) if GONE.contains(&code(&e).as_str()) => Ok(()),
            Err(e) => Err(self.failed("iam:DeleteUser", &e)),
        }
    }

    /// Deletes the bucket's objects (the canary trail's log files), then the bucket.
    fn remove_bucket(&self, name: &str) -> Result<(), String> {
        let s3 = self.access.s3(&self.region);
        loop {
            let page = match self
                .runtime
                .block_on(s3.list_objects_v2().bucket(name).send())
            {
                Ok(p) => p,
                Err(e) if GONE.contains(&code(&e).as_str()) => return Ok(()),
                Err(e) => return Err(self.failed("s3:ListBucket", &e)),
            };
            if page.contents().is_empty() {
                break;
            }
            for o in page.contents() {
                if let Some(key) = o.key() {
                    self.runtime
                        .block_on(s3.delete_object().bucket(name).key(key).send())
                        .map_err(|e| self.failed("s3:DeleteObject", &e))?;
                }
            }
        }
        match self
            .runtime
            .block_on(s3.delete_bucket().bucket(name).send())
        {
            Ok(_) => Ok(()),
            Err(e) if GONE.contains(&code(&e).as_str()) => Ok(()),
            Err(e) => Err(self.failed("s3:DeleteBucket", &e)),
        }
    }
}
