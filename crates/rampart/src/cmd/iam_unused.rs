//! `rampart iam unused`: per user and role, the granted services and actions never used in the
//! window — grants from the snapshot's IAM decided by the policy engine, use from CloudTrail.

use crate::cli::{Exit, Global};
use crate::cmd::{activity, detect::parse_when, output};
use rampart_snapshot::Snapshot;
use rampart_usage::Window;
use rampart_usage::unused::{Usage, report};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct IamUnusedArgs {
    /// CloudTrail input: a file, a directory in the S3 delivery layout, `-` for stdin, or
    /// s3://bucket/prefix (needs the `aws` build).
    #[arg(long, value_name = "PATH")]
    pub from: String,
    /// The window of use (RFC 3339, YYYY-MM-DD, or an age such as 90d).
    #[arg(long, value_name = "TIME", default_value = "90d")]
    pub since: String,
    /// End of the window (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Read IAM from this `rampart collect` snapshot instead of collecting live.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Unused actions listed per service in the text output (all of them in JSON).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub per_service: usize,
    /// How the live collection runs (ignored with --snapshot).
    #[command(flatten)]
    pub collect: crate::cmd::collect::CollectArgs,
}

pub fn run(g: &Global, a: &IamUnusedArgs) -> anyhow::Result<Exit> {
    let json = match g.format.as_deref() {
        None | Some("text") => false,
        Some("json") => true,
        Some(f) => anyhow::bail!("`rampart iam unused` formats are text and json, not `{f}`"),
    };
    let window = Window {
        since: Some(parse_when(&a.since)?),
        until: a.until.as_deref().map(parse_when).transpose()?,
    };
    let snapshot = match &a.snapshot {
        Some(p) => Snapshot::load(p)?,
        None => crate::cmd::collect::collect_live(g, &a.collect)?,
    };
    let mut usage = Usage::new(window);
    let stats = activity::for_each_event(g, &a.from, window.since, window.until, &mut |e| {
        usage.observe(e)
    })?;
    output::note(
        g,
        format!(
            "rampart: {} file(s), {} event(s) read ({} outside the window); {} principal(s) seen",
            stats.files,
            usage.events,
            usage.out_of_window,
            usage.principals()
        ),
    );
    let r = report(&snapshot, &usage);
    if json {
        output::emit(g, &(serde_json::to_string_pretty(&r)? + "\n"))?;
    } else if r.principals.is_empty() {
        output::note(g, "rampart: the snapshot holds no IAM users or roles");
    } else {
        output::emit(g, &r.to_text(a.per_service))?;
    }
    Ok(Exit::Ok)
}
