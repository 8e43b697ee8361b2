//! Credentials, per-account sessions, service clients, call counting and error recording.

use crate::{CollectError, CollectOptions};
use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextMut, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::SdkConfig;
use aws_types::region::Region;
use rampart_snapshot::CollectionError;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Counts HTTP attempts (retries included) and logical calls per `service:Operation`.
#[derive(Debug, Default)]
pub struct Counters {
    attempts: AtomicU64,
    logical: AtomicU64,
    by_api: Mutex<BTreeMap<String, u64>>,
}

impl Counters {
    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }
    pub fn logical(&self) -> u64 {
        self.logical.load(Ordering::Relaxed)
    }
    pub fn by_api(&self) -> BTreeMap<String, u64> {
        self.by_api.lock().map(|m| m.clone()).unwrap_or_default()
    }
    pub(crate) fn count(&self, api: &str) {
        self.logical.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut m) = self.by_api.lock() {
            *m.entry(api.to_string()).or_default() += 1;
        }
    }
}

/// Counts every transmitted attempt, so retries show in the totals.
#[derive(Debug, Clone)]
struct CountAttempts(Arc<Counters>);

impl Intercept for CountAttempts {
    fn name(&self) -> &'static str {
        "rampart-count-attempts"
    }
    fn read_before_transmit(
        &self,
        _ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.attempts.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// CloudTrail's `X-Amz-Target` in the long form, for emulators only.
///
/// The AWS SDK for Rust names a JSON-protocol operation as the Smithy awsJson protocol says:
/// the service shape's name, a dot, the operation (`CloudTrail_20131101.DescribeTrails`).
/// botocore's model gives CloudTrail a longer prefix
/// (`com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101`), and AWS accepts both. moto
/// from 5.2.6 routes JSON requests by botocore's prefix alone and answers the SDK's form with
/// HTTP 404. Behind an endpoint override (an emulator) the header is rewritten to the form both
/// accept; against AWS itself the SDK's request is left exactly as it is.
#[derive(Debug)]
struct CloudTrailLongTarget;

/// The prefix the SDK writes and the one botocore (and so moto) expects.
const CLOUDTRAIL_SHORT_TARGET: &str = "CloudTrail_20131101.";
const CLOUDTRAIL_LONG_TARGET: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.";

/// `target` in botocore's form when it is in the SDK's short form.
fn cloudtrail_long_target(target: &str) -> Option<String> {
    target
        .strip_prefix(CLOUDTRAIL_SHORT_TARGET)
        .map(|op| format!("{CLOUDTRAIL_LONG_TARGET}{op}"))
}

impl Intercept for CloudTrailLongTarget {
    fn name(&self) -> &'static str {
        "rampart-cloudtrail-long-target"
    }
    fn modify_before_signing(
        &self,
        ctx: &mut BeforeTransmitInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let headers = ctx.request_mut().headers_mut();
        if let Some(long) = headers.get("x-amz-target").and_then(cloudtrail_long_target) {
            headers.insert("x-amz-target", long);
        }
        Ok(())
    }
}

/// Per-service caps on HTTP requests in flight, shared by every account and region of a run.
///
/// The account × region fan-out is bounded globally; these caps sit below it because some
/// services have far lower request rates than others (Organizations and IAM are throttled per
/// organization or account at a few requests per second, EC2 describes are generous). Each
/// service's clients get their own HTTP client that waits for a permit before every attempt,
/// retries included.
#[derive(Debug, Clone)]
pub struct ServiceLimits {
    clients: Arc<BTreeMap<String, SharedHttpClient>>,
    fallback: SharedHttpClient,
}

/// Default caps (requests in flight) for services with low API rate limits; others get
/// [`DEFAULT_SERVICE_LIMIT`].
pub const DEFAULT_SERVICE_LIMITS: &[(&str, usize)] = &[
    ("organizations", 4),
    ("iam", 8),
    ("sts", 8),
    ("securityhub", 8),
    ("accessanalyzer", 8),
];
/// Cap for services not in [`DEFAULT_SERVICE_LIMITS`].
pub const DEFAULT_SERVICE_LIMIT: usize = 16;

/// Service names accepted by `--service-limit` (the client names used below).
pub const SERVICES: &[&str] = &[
    "sts",
    "organizations",
    "iam",
    "cloudtrail",
    "ec2",
    "guardduty",
    "securityhub",
    "config",
    "logs",
    "cloudwatch",
    "sns",
    "kms",
    "rds",
    "accessanalyzer",
    "efs",
    "s3",
    "s3control",
    "sso",
    "identitystore",
    "events",
    "sqs",
];

impl ServiceLimits {
    /// One limited client per service; `overrides` replace the defaults (`("iam", 2)`).
    pub fn new(overrides: &[(String, usize)]) -> Result<ServiceLimits, String> {
        for (svc, _) in overrides {
            if !SERVICES.contains(&svc.as_str()) {
                return Err(format!(
                    "unknown service `{svc}` in --service-limit; use one of: {}",
                    SERVICES.join(", ")
                ));
            }
        }
        let inner = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .build_https();
        let limit_of = |svc: &str| {
            overrides
                .iter()
                .rev()
                .find(|(s, _)| s == svc)
                .map(|(_, n)| *n)
                .or_else(|| {
                    DEFAULT_SERVICE_LIMITS
                        .iter()
                        .find(|(s, _)| *s == svc)
                        .map(|(_, n)| *n)
                })
                .unwrap_or(DEFAULT_SERVICE_LIMIT)
                .max(1)
        };
        let clients = SERVICES
            .iter()
            .map(|svc| {
                let limited = LimitedClient {
                    inner: inner.clone(),
                    permits: Arc::new(Semaphore::new(limit_of(svc))),
                };
                (svc.to_string(), SharedHttpClient::new(limited))
            })
            .collect();
        Ok(ServiceLimits {
            clients: Arc::new(clients),
            fallback: inner,
        })
    }

    fn client(&self, service: &str) -> SharedHttpClient {
        self.clients
            .get(service)
            .cloned()
            .unwrap_or_else(|| self.fallback.clone())
    }
}

/// An HTTP client whose every request first takes a permit from the service's semaphore.
#[derive(Debug)]
struct LimitedClient {
    inner: SharedHttpClient,
    permits: Arc<Semaphore>,
}

impl HttpClient for LimitedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(LimitedConnector {
            inner: self.inner.http_connector(settings, components),
            permits: self.permits.clone(),
        })
    }
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
    permits: Arc<Semaphore>,
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let permits = self.permits.clone();
        HttpConnectorFuture::new(async move {
            // The semaphore is never closed, so acquiring only fails if it were; then go on.
            let _permit = permits.acquire_owned().await.ok();
            inner.call(request).await
        })
    }
}

/// Who we are, from `sts:GetCallerIdentity`.
pub struct Caller {
    pub account_id: String,
    pub partition: String,
}

/// Credentials for one account, and clients built from them.
#[derive(Clone)]
pub struct Access {
    config: SdkConfig,
    counters: Arc<Counters>,
    endpoint_url: Option<String>,
    limits: ServiceLimits,
    /// The account these credentials act in (empty until known).
    pub account_id: String,
}

/// Public name for a per-account session.
pub type Session = Access;

macro_rules! client {
    ($name:ident, $krate:ident, $service:literal) => {
        pub fn $name(&self, region: &str) -> $krate::Client {
            let conf = $krate::config::Builder::from(&self.config)
                .region(Region::new(region.to_string()))
                .interceptor(CountAttempts(self.counters.clone()))
                .http_client(self.limits.client($service))
                .build();
            $krate::Client::from_conf(conf)
        }
    };
}

impl Access {
    pub async fn from_env(
        opts: &CollectOptions,
        counters: Arc<Counters>,
    ) -> Result<Access, CollectError> {
        let limits = ServiceLimits::new(&opts.service_limits).map_err(CollectError::Options)?;
        let retry = RetryConfig::standard()
            .with_max_attempts(opts.max_attempts.max(1))
            .with_initial_backoff(Duration::from_millis(200))
            .with_max_backoff(Duration::from_secs(20));
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(retry);
        if let Some(p) = &opts.profile {
            loader = loader.profile_name(p);
        }
        if let Some(e) = &opts.endpoint_url {
            loader = loader.endpoint_url(e);
        }
        let mut config = loader.load().await;
        let region = opts
            .home_region
            .clone()
            .or_else(|| config.region().map(|r| r.to_string()))
            .unwrap_or_else(|| "us-east-1".to_string());
        config = config.into_builder().region(Region::new(region)).build();
        Ok(Access {
            config,
            counters,
            endpoint_url: opts.endpoint_url.clone(),
            limits,
            account_id: String::new(),
        })
    }

    pub fn home_region(&self) -> String {
        self.config
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".into())
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    client!(sts, aws_sdk_sts, "sts");
    client!(organizations, aws_sdk_organizations, "organizations");
    client!(iam, aws_sdk_iam, "iam");
    client!(ssoadmin, aws_sdk_ssoadmin, "sso");
    client!(identitystore, aws_sdk_identitystore, "identitystore");

    pub fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        let mut b = aws_sdk_cloudtrail::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(CountAttempts(self.counters.clone()))
            .http_client(self.limits.client("cloudtrail"));
        if self.endpoint_url.is_some() {
            b = b.interceptor(CloudTrailLongTarget);
        }
        aws_sdk_cloudtrail::Client::from_conf(b.build())
    }
    client!(ec2, aws_sdk_ec2, "ec2");
    client!(guardduty, aws_sdk_guardduty, "guardduty");
    client!(securityhub, aws_sdk_securityhub, "securityhub");
    client!(config_service, aws_sdk_config, "config");
    client!(logs, aws_sdk_cloudwatchlogs, "logs");
    client!(cloudwatch, aws_sdk_cloudwatch, "cloudwatch");
    client!(sns, aws_sdk_sns, "sns");
    client!(events, aws_sdk_eventbridge, "events");
    client!(sqs, aws_sdk_sqs, "sqs");
    client!(kms, aws_sdk_kms, "kms");
    client!(rds, aws_sdk_rds, "rds");
    client!(accessanalyzer, aws_sdk_accessanalyzer, "accessanalyzer");
    client!(efs, aws_sdk_efs, "efs");
    client!(emr_serverless, aws_sdk_emrserverless, "emr-serverless");

    /// S3 with path-style addressing when an endpoint override (an emulator) is used.
    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .force_path_style(self.endpoint_url.is_some())
            .interceptor(CountAttempts(self.counters.clone()))
            .http_client(self.limits.client("s3"))
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// S3 Control. Real AWS puts the account id in the host name; an emulator behind an
    /// endpoint override is addressed path-style instead.
    pub fn s3control(&self, region: &str) -> aws_sdk_s3control::Client {
        let mut b = aws_sdk_s3control::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(CountAttempts(self.counters.clone()))
            .http_client(self.limits.client("s3control"));
        if let Some(url) = &self.endpoint_url {
            b = b.endpoint_resolver(FixedEndpoint(url.clone()));
        }
        aws_sdk_s3control::Client::from_conf(b.build())
    }

    pub async fn caller_identity(&self) -> Result<Caller, CollectError> {
        self.counters.count("sts:GetCallerIdentity");
        let out = self
            .sts(&self.home_region())
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| {
                let (code, message) = describe(&e);
                CollectError::NoCredentials { code, message }
            })?;
        let arn = out.arn().unwrap_or_default();
        Ok(Caller {
            account_id: out.account().unwrap_or_default().to_string(),
            partition: arn.split(':').nth(1).unwrap_or("aws").to_string(),
        })
    }

    /// Assumes `role_name` in `account`; a failure is an account-wide collection error.
    pub async fn assume(&self, account: &str, role_name: &str) -> Result<Access, CollectionError> {
        let partition = "aws";
        let role_arn = format!("arn:{partition}:iam::{account}:role/{role_name}");
        self.counters.count("sts:AssumeRole");
        let out = self
            .sts(&self.home_region())
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name("rampart-collect")
            .duration_seconds(3600)
            .send()
            .await
            .map_err(|e| {
                let (code, message) = describe(&e);
                CollectionError {
                    account_id: account.to_string(),
                    region: None,
                    api: "*".into(),
                    code: code.clone(),
                    message: format!(
                        "sts:AssumeRole into {role_arn} failed ({code}: {message}); check the role exists and trusts the caller, or pass --role-name"
                    ),
                    resource: Some(role_arn.clone()),
                }
            })?;
        let Some(c) = out.credentials() else {
            return Err(CollectionError {
                account_id: account.to_string(),
                api: "*".into(),
                code: "NoCredentials".into(),
                message: format!("sts:AssumeRole into {role_arn} returned no credentials"),
                resource: Some(role_arn),
                ..Default::default()
            });
        };
        let creds = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            None,
            "rampart-assume-role",
        );
        let config = self
            .config
            .clone()
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(creds))
            .build();
        Ok(Access {
            config,
            counters: self.counters.clone(),
            endpoint_url: self.endpoint_url.clone(),
            limits: self.limits.clone(),
            account_id: account.to_string(),
        })
    }
}

#[derive(Debug)]
struct FixedEndpoint(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for FixedEndpoint {
    fn resolve_endpoint<'a>(
        &'a self,
        _params: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> aws_sdk_s3control::config::endpoint::EndpointFuture<'a> {
        aws_sdk_s3control::config::endpoint::EndpointFuture::ready(Ok(
            aws_sdk_s3control::config::endpoint::Endpoint::builder()
                .url(self.0.clone())
                .build(),
        ))
    }
}

/// The AWS error code and message of an SDK error; transport failures get a class name.
pub fn describe<E>(
    e: &aws_smithy_runtime_api::client::result::SdkError<E, HttpResponse>,
) -> (String, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    match e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            let status = se.raw().status().as_u16();
            match err.code() {
                Some(code) => (code.to_string(), err.message().unwrap_or("").to_string()),
                // No error code: the endpoint does not implement the API (an emulator) or broke.
                None => (
                    format!("HTTP{status}"),
                    format!(
                        "HTTP {status} without an AWS error code (is the API implemented by this endpoint?)"
                    ),
                ),
            }
        }
        SdkError::TimeoutError(_) => ("Timeout".into(), "the request timed out".into()),
        SdkError::DispatchFailure(_) => {
            // The error chain ends with a Debug dump of the request; keep the readable part.
            let text = aws_smithy_types::error::display::DisplayErrorContext(e).to_string();
            let short = text
                .split(" (DispatchFailure(")
                .next()
                .unwrap_or(&text)
                .to_string();
            let code = if short.contains("loading credentials") {
                "NoCredentials"
            } else {
                "Dispatch"
            };
            (code.into(), short)
        }
        SdkError::ResponseError(_) => (
            "ResponseError".into(),
            "the response could not be read".into(),
        ),
        SdkError::ConstructionFailure(_) => (
            "ConstructionFailure".into(),
            aws_smithy_types::error::display::DisplayErrorContext(e).to_string(),
        ),
        _ => (
            "Unknown".into(),
            aws_smithy_types::error::display::DisplayErrorContext(e).to_string(),
        ),
    }
}

/// Every page of a paginated SDK request (`pages!(client.describe_vpcs())`), or the first error.
/// A partial listing is never returned as if it were complete.
macro_rules! pages {
    ($req:expr) => {{
        let mut stream = $req.into_paginator().send();
        let mut pages = Vec::new();
        let mut failed = None;
        while let Some(page) = stream.next().await {
            match page {
                Ok(p) => pages.push(p),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(pages),
        }
    }};
}
pub(crate) use pages;

/// Records failed calls of one account (and region) as collection errors.
pub struct Recorder<'a> {
    pub account_id: String,
    pub region: Option<String>,
    pub errors: Vec<CollectionError>,
    counters: &'a Counters,
}

impl<'a> Recorder<'a> {
    pub fn new(access: &'a Access, account_id: &str, region: Option<&str>) -> Recorder<'a> {
        Recorder {
            account_id: account_id.to_string(),
            region: region.map(str::to_string),
            errors: Vec::new(),
            counters: &access.counters,
        }
    }

    /// `Some(value)` on success; on failure records the error and returns `None`.
    pub fn ok<T, E>(
        &mut self,
        api: &str,
        resource: Option<&str>,
        r: Result<T, aws_smithy_runtime_api::client::result::SdkError<E, HttpResponse>>,
    ) -> Option<T>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.counters.count(api);
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.record(api, resource, &e);
                None
            }
        }
    }

    /// Like [`Recorder::ok`] for every page of a paginated call (see [`pages!`]): each page
    /// counts as one call.
    pub fn ok_pages<T, E>(
        &mut self,
        api: &str,
        resource: Option<&str>,
        r: Result<Vec<T>, aws_smithy_runtime_api::client::result::SdkError<E, HttpResponse>>,
    ) -> Option<Vec<T>>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        if let Ok(v) = &r {
            for _ in 1..v.len() {
                self.counters.count(api);
            }
        }
        self.ok(api, resource, r)
    }

    /// Like [`Recorder::ok`], but the listed error codes mean "observed: not configured"
    /// (`Ok(None)`), e.g. `NoSuchBucketPolicy`.
    pub fn absent_ok<T, E>(
        &mut self,
        api: &str,
        resource: Option<&str>,
        absent_codes: &[&str],
        r: Result<T, aws_smithy_runtime_api::client::result::SdkError<E, HttpResponse>>,
    ) -> Result<Option<T>, ()>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.counters.count(api);
        match r {
            Ok(v) => Ok(Some(v)),
            Err(e) => {
                let (code, _) = describe(&e);
                if absent_codes.contains(&code.as_str()) {
                    Ok(None)
                } else {
                    self.record(api, resource, &e);
                    Err(())
                }
            }
        }
    }

    fn record<E>(
        &mut self,
        api: &str,
        resource: Option<&str>,
        e: &aws_smithy_runtime_api::client::result::SdkError<E, HttpResponse>,
    ) where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let (code, message) = describe(e);
        tracing::debug!(account = %self.account_id, region = ?self.region, api, code = %code, "call failed");
        self.errors.push(CollectionError {
            account_id: self.account_id.clone(),
            region: self.region.clone(),
            api: api.to_string(),
            code,
            message,
            resource: resource.map(str::to_string),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::cloudtrail_long_target;

    #[test]
    fn cloudtrail_target_is_lengthened_once() {
        assert_eq!(
            cloudtrail_long_target("CloudTrail_20131101.DescribeTrails").as_deref(),
            Some("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails")
        );
        // Already long, or another service: left alone.
        assert_eq!(
            cloudtrail_long_target(
                "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.DescribeTrails"
            ),
            None
        );
        assert_eq!(
            cloudtrail_long_target("Logs_20140328.DescribeLogGroups"),
            None
        );
    }
}
