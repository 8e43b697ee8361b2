//! `rampart collect`: read the organization (or one account) into a snapshot file.

use crate::cli::{Exit, Global};
use crate::cmd::output;
use rampart_snapshot::Snapshot;

#[derive(Debug, clap::Args)]
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
}

pub fn run(g: &Global, a: &CollectArgs) -> anyhow::Result<Exit> {
    let snap = collect_live(g, a.concurrency, a.max_attempts)?;
    output::emit(g, &snap.to_json())?;
    Ok(Exit::Ok)
}

/// Collects live and reports on stderr: one line per failed call, then a summary.
pub fn collect_live(g: &Global, concurrency: usize, max_attempts: u32) -> anyhow::Result<Snapshot> {
    let snap = collect_impl(g, concurrency, max_attempts)?;
    let all_errors = snap.errors.iter().chain(snap.accounts.iter().flat_map(|a| {
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

#[cfg(feature = "aws")]
fn collect_impl(g: &Global, concurrency: usize, max_attempts: u32) -> anyhow::Result<Snapshot> {
    let opts = rampart_aws::CollectOptions {
        profile: g.profile.clone(),
        endpoint_url: g.endpoint_url.clone(),
        regions: g.regions.clone(),
        role_name: g.role_name.clone(),
        concurrency,
        max_attempts,
        ..Default::default()
    };
    rampart_aws::collect_blocking(&opts).map_err(|e| anyhow::anyhow!("collect: {e}"))
}

#[cfg(not(feature = "aws"))]
fn collect_impl(_g: &Global, _c: usize, _m: u32) -> anyhow::Result<Snapshot> {
    anyhow::bail!(
        "this rampart was built without AWS access (--no-default-features); build with the default `aws` feature to collect"
    )
}
