//! `rampart collect`: read the organization (or one account) into a snapshot file.

use crate::cli::{Exit, Global};
use crate::cmd::output;
use rampart_snapshot::Snapshot;

#[derive(Debug, Clone, clap::Args)]
#[command(
    after_help = "Examples:\n  rampart collect --output snapshot.json\n  rampart collect --regions eu-west-1,eu-central-1 --role-name AWSControlTowerExecution -o snap.json\n  rampart audit --snapshot snap.json"
)]
pub struct CollectArgs {
    /// At most this many account × region collections run at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Attempts per AWS call; throttling and transient errors are retried with backoff and jitter.
    #[arg(long, default_value_t = 5)]
    pub max_attempts: u32,
    /// Cap on requests in flight to one service across the run, e.g. `iam=4` (repeatable).
    /// Defaults: organizations=4, iam=8, sts=8, securityhub=8, accessanalyzer=8, others 16.
    #[arg(long = "service-limit", value_name = "SERVICE=N", value_parser = parse_service_limit)]
    pub service_limits: Vec<(String, usize)>,
}

impl Default for CollectArgs {
    fn default() -> Self {
        CollectArgs {
            concurrency: 32,
            max_attempts: 5,
            service_limits: Vec::new(),
        }
    }
}

fn parse_service_limit(s: &str) -> Result<(String, usize), String> {
    let (svc, n) = s
        .split_once('=')
        .ok_or_else(|| format!("expected SERVICE=N (e.g. iam=4), got `{s}`"))?;
    let n: usize = n
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{n}` is not a positive number in --service-limit {s}"))?;
    Ok((svc.trim().to_ascii_lowercase(), n))
}

pub fn run(g: &Global, a: &CollectArgs) -> anyhow::Result<Exit> {
    let snap = collect_live(g, a)?;
    output::emit(g, &snap.to_json())?;
    Ok(Exit::Ok)
}

/// Collects live and reports on stderr: one line per failed call, then a summary.
pub fn collect_live(g: &Global, a: &CollectArgs) -> anyhow::Result<Snapshot> {
    collect_scoped(g, a, None)
}

/// [`collect_live`], narrowed to what the baseline planner compares when `baseline_buckets` is
/// given (the Log Archive buckets are the only ones read in detail).
pub fn collect_scoped(
    g: &Global,
    a: &CollectArgs,
    baseline_buckets: Option<Vec<String>>,
) -> anyhow::Result<Snapshot> {
    let snap = collect_impl(g, a, baseline_buckets)?;
    let all_errors = snap
        .errors
        .iter()
        .chain(snap.identity_center.iter().flat_map(|i| i.errors.iter()))
        .chain(snap.accounts.iter().flat_map(|a| {
            a.errors
                .iter()
                .chain(a.regions.iter().flat_map(|r| r.errors.iter()))
        }));
    let mut n = 0;
    for e in all_errors {
        n += 1;
        if g.verbose > 0 || n <= 20 {
            output::note(
                g,
                format!(
                    "rampart: warning: account {} region {} {}: {}: {}",
                    if e.account_id.is_empty() {
                        "-"
                    } else {
                        &e.account_id
                    },
                    e.region.as_deref().unwrap_or("global"),
                    e.api,
                    e.code,
                    e.message
                ),
            );
        }
    }
    if n > 20 && g.verbose == 0 {
        output::note(
            g,
            format!(
                "rampart: … {} more failed calls (use -v to list all)",
                n - 20
            ),
        );
    }
    let st = snap.stats();
    output::note(
        g,
        format!(
            "collected {} account(s), {} region(s): {} API calls ({} retried), {} failed call(s), {:.1} s",
            st.accounts,
            st.regions,
            st.api_calls,
            snap.collection.throttle_retries,
            st.errors,
            snap.collection.duration_ms as f64 / 1000.0
        ),
    );
    Ok(snap)
}

/// AWS access options from the global flags (profile, endpoint, regions, role).
#[cfg(feature = "aws")]
pub fn options(g: &Global) -> rampart_aws::CollectOptions {
    rampart_aws::CollectOptions {
        profile: g.profile.clone(),
        endpoint_url: g.endpoint_url.clone(),
        regions: g.regions.clone(),
        role_name: g.role_name.clone(),
        ..Default::default()
    }
}

#[cfg(feature = "aws")]
fn collect_impl(
    g: &Global,
    a: &CollectArgs,
    baseline_buckets: Option<Vec<String>>,
) -> anyhow::Result<Snapshot> {
    let opts = rampart_aws::CollectOptions {
        concurrency: a.concurrency,
        max_attempts: a.max_attempts,
        service_limits: a.service_limits.clone(),
        baseline: baseline_buckets.map(|buckets| rampart_aws::BaselineScope { buckets }),
        ..options(g)
    };
    rampart_aws::collect_blocking(&opts).map_err(|e| anyhow::anyhow!("collect: {e}"))
}

#[cfg(not(feature = "aws"))]
fn collect_impl(
    _g: &Global,
    _a: &CollectArgs,
    _baseline_buckets: Option<Vec<String>>,
) -> anyhow::Result<Snapshot> {
    anyhow::bail!(
        "this rampart was built without AWS access (--no-default-features); build with the default `aws` feature to collect"
    )
}
