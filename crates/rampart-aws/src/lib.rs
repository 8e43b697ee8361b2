//! The only crate on the AWS SDK: credentials, AssumeRole into member accounts, region fan-out
//! with bounded concurrency, retries on throttling, and the collectors that fill a
//! [`rampart_snapshot::Snapshot`].
//!
//! Failure is data: a call that fails becomes a [`CollectionError`] naming the account, region,
//! API (`service:Operation`) and AWS error code, and collection goes on. Only "nothing at all can
//! be done" (no usable credentials) is a [`CollectError`].

mod access;
mod account;
mod alerting;
pub mod apply;
pub mod drill;
pub mod emr;
pub mod findings;
mod identity;
mod objects;
mod org;
mod queue;
mod region;
pub mod respond;
pub mod schedule;

use access::{Access, Counters};
use rampart_snapshot::{
    AccountSnapshot, CollectionError, CollectionInfo, SCHEMA_VERSION, Snapshot,
};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;

pub use access::{DEFAULT_SERVICE_LIMIT, DEFAULT_SERVICE_LIMITS, SERVICES, Session};
pub use objects::{BlockingAws, ObjectBytes, ObjectInfo, Page, parse_s3_url};
pub use queue::{QueueMessage, queue_region};

/// What to collect and how.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// Named profile; `None` = the standard credential chain.
    pub profile: Option<String>,
    /// Send every call here (an emulator); `None` = real AWS endpoints.
    pub endpoint_url: Option<String>,
    /// Only these regions; empty = every region enabled in each account.
    pub regions: Vec<String>,
    /// Role assumed in member accounts.
    pub role_name: String,
    /// At most this many account × region collections run at once.
    pub concurrency: usize,
    /// Region used for global services and discovery (default: the profile's, else us-east-1).
    pub home_region: Option<String>,
    /// Attempts per call (1 = no retry); throttling and transient errors are retried with
    /// exponential backoff and jitter.
    pub max_attempts: u32,
    /// Caps on requests in flight per service (`("iam", 4)`), replacing
    /// [`DEFAULT_SERVICE_LIMITS`] for that service.
    pub service_limits: Vec<(String, usize)>,
    /// Read only what the baseline planner compares (`plan`, `drift`, `apply`); `None` reads
    /// everything the audit controls need.
    pub baseline: Option<BaselineScope>,
}

/// The narrower read of the baseline verbs: per-account and per-region security settings, the
/// organization trail, the CIS alarms, and only the named buckets in detail. IAM users and
/// roles, credential reports, network, compute, databases, file systems and keys are skipped.
#[derive(Debug, Clone, Default)]
pub struct BaselineScope {
    /// Buckets whose settings are read (the Log Archive buckets); others are only listed.
    pub buckets: Vec<String>,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            profile: None,
            endpoint_url: None,
            regions: Vec::new(),
            role_name: "OrganizationAccountAccessRole".into(),
            concurrency: 32,
            home_region: None,
            max_attempts: 5,
            service_limits: Vec::new(),
            baseline: None,
        }
    }
}

/// Collection could not start at all.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(
        "no usable AWS credentials: sts:GetCallerIdentity failed ({code}: {message}); set AWS_PROFILE or --profile, or run `aws sso login`"
    )]
    NoCredentials { code: String, message: String },
    #[error("{0}")]
    Options(String),
    #[error("cannot start the async runtime: {0}")]
    Runtime(String),
}

/// The management account's root email and the organization id
/// (`organizations:DescribeOrganization`), for `rampart init` to derive the Log Archive and Audit
/// addresses and a globally unique log bucket name from.
pub fn management_email(opts: &CollectOptions) -> Result<(String, String), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let base = Access::from_env(opts, Arc::new(Counters::default()))
            .await
            .map_err(|e| e.to_string())?;
        let out = base
            .organizations(&base.home_region())
            .describe_organization()
            .send()
            .await
            .map_err(|e| {
                let (code, message) = access::describe(&e);
                format!("organizations:DescribeOrganization failed ({code}: {message})")
            })?;
        let o = out.organization();
        let email = o
            .and_then(|o| o.master_account_email())
            .map(str::to_string)
            .ok_or_else(|| {
                "organizations:DescribeOrganization returned no management email".to_string()
            })?;
        let id = o.and_then(|o| o.id()).unwrap_or_default().to_string();
        Ok((email, id))
    })
}

/// Builds a tokio runtime and collects.
pub fn collect_blocking(opts: &CollectOptions) -> Result<Snapshot, CollectError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CollectError::Runtime(e.to_string()))?
        .block_on(collect(opts))
}

/// Reads the organization (or the standalone account) into a snapshot.
pub async fn collect(opts: &CollectOptions) -> Result<Snapshot, CollectError> {
    let started = Instant::now();
    let counters = Arc::new(Counters::default());
    let base = Access::from_env(opts, counters.clone()).await?;
    let caller = base.caller_identity().await?;

    let mut snapshot = Snapshot {
        schema_version: SCHEMA_VERSION,
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        partition: caller.partition.clone(),
        caller_account_id: caller.account_id.clone(),
        ..Default::default()
    };

    let mut top_errors = Vec::new();
    let organization = org::discover(&base, &mut top_errors).await;

    // Which accounts to visit: every ACTIVE member (through the role) plus the caller itself.
    let mut targets: Vec<(String, String)> = Vec::new();
    match &organization {
        Some(o) if o.management_account_id == caller.account_id => {
            for a in o.accounts.iter().filter(|a| a.status == "ACTIVE") {
                targets.push((a.id.clone(), a.name.clone()));
            }
        }
        _ => targets.push((caller.account_id.clone(), String::new())),
    }
    if !targets.iter().any(|(id, _)| *id == caller.account_id) {
        targets.insert(0, (caller.account_id.clone(), String::new()));
    }

    let is_management = organization
        .as_ref()
        .is_some_and(|o| o.management_account_id == caller.account_id);
    let sem = Arc::new(Semaphore::new(opts.concurrency.max(1)));
    let mut tasks = Vec::new();
    for (id, name) in targets {
        let base = base.clone();
        let sem = sem.clone();
        let opts = opts.clone();
        let caller_id = caller.account_id.clone();
        let administers = organization
            .iter()
            .flat_map(|o| o.delegated_administrators.iter())
            .filter(|d| d.account_id == id)
            .map(|d| d.service_principal.clone())
            .collect();
        tasks.push(tokio::spawn(async move {
            let session = if id == caller_id {
                Ok(base.clone())
            } else {
                base.assume(&id, &opts.role_name).await
            };
            match session {
                Ok(s) => {
                    let standing = region::Standing {
                        management: is_management && id == caller_id,
                        administers,
                    };
                    account::collect_account(&s, &id, &name, &opts, sem, standing).await
                }
                Err(e) => AccountSnapshot {
                    account_id: id.clone(),
                    name,
                    errors: vec![e],
                    ..Default::default()
                },
            }
        }));
    }
    for t in tasks {
        match t.await {
            Ok(a) => snapshot.accounts.push(a),
            Err(e) => top_errors.push(CollectionError {
                api: "*".into(),
                code: "InternalError".into(),
                message: format!("collector task failed: {e}"),
                ..Default::default()
            }),
        }
    }
    snapshot
        .accounts
        .sort_by(|a, b| a.account_id.cmp(&b.account_id));
    // Identity Center lives in the management account, in the home region (the first of
    // `--regions` when given).
    if is_management {
        let region = opts
            .regions
            .first()
            .cloned()
            .unwrap_or_else(|| base.home_region());
        snapshot.identity_center =
            Some(identity::collect(&base, &caller.account_id, &region).await);
    }
    snapshot.organization = organization;
    snapshot.errors = top_errors;
    snapshot.collection = CollectionInfo {
        requested_regions: opts.regions.clone(),
        role_name: opts.role_name.clone(),
        api_calls: counters.attempts(),
        calls_by_api: counters.by_api(),
        throttle_retries: counters.attempts().saturating_sub(counters.logical()),
        duration_ms: started.elapsed().as_millis() as u64,
    };
    Ok(snapshot)
}
