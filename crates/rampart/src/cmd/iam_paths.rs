//! `rampart iam paths`: who can become admin (or another principal), per account, from a saved
//! snapshot or a live collection. The analysis is rampart-paths; this verb picks accounts and
//! principals and renders.

use crate::cli::{Exit, Global};
use crate::cmd::output;
use anyhow::{Context, bail};
use rampart_paths::{AccountIam, Goal, Path};
use rampart_snapshot::Snapshot;
use std::path::PathBuf;

pub const EXAMPLES: &str = "Examples:
  rampart iam paths --snapshot snap.json
  rampart iam paths --snapshot snap.json --account 123456789012 --from arn:aws:iam::123456789012:user/dev
  rampart iam paths --snapshot snap.json --to arn:aws:iam::123456789012:role/Deploy --format json
  rampart iam paths --regions us-east-1          # live: collects first";

#[derive(Debug, clap::Args)]
pub struct PathsArgs {
    /// Analyse this saved snapshot (from `rampart collect`) instead of reading AWS.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Only this account (default: every account in the snapshot).
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// Only paths from this user or role.
    #[arg(long, value_name = "ARN")]
    pub from: Option<String>,
    /// `admin` (full control, the default) or a user/role/group ARN.
    #[arg(long, value_name = "admin|ARN", default_value = "admin")]
    pub to: String,
    /// How the live collection runs (ignored with --snapshot).
    #[command(flatten)]
    pub collect: crate::cmd::collect::CollectArgs,
}

#[derive(serde::Serialize)]
struct AccountReport {
    account: String,
    admins: Vec<String>,
    paths: Vec<Path>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

pub fn run(g: &Global, a: &PathsArgs) -> anyhow::Result<Exit> {
    let json = match g.format.as_deref() {
        None | Some("text") => false,
        Some("json") => true,
        Some(other) => bail!("--format {other}: `iam paths` writes text or json"),
    };
    let snapshot = match &a.snapshot {
        Some(path) => Snapshot::load(path)?,
        None => crate::cmd::collect::collect_live(g, &a.collect)?,
    };
    let account_of = |arn: &str| arn.split(':').nth(4).map(str::to_string);
    let wanted = a
        .account
        .clone()
        .or_else(|| a.from.as_deref().and_then(account_of))
        .or_else(|| (a.to != "admin").then(|| account_of(&a.to)).flatten());
    let accounts: Vec<&str> = match &wanted {
        Some(id) => vec![id.as_str()],
        None => snapshot
            .accounts
            .iter()
            .map(|x| x.account_id.as_str())
            .collect(),
    };
    let mut reports = Vec::new();
    for id in accounts {
        let acct = AccountIam::from_snapshot(&snapshot, id)?;
        for w in &acct.warnings {
            output::note(g, format!("rampart: warning: {w}"));
        }
        let analysis = rampart_paths::analyze(acct);
        let node = |arn: &str, what: &str| {
            analysis.account.node_by_arn(arn).with_context(|| {
                format!("{what} {arn} is not a user, role or group of account {id} in the snapshot")
            })
        };
        let goal = if a.to == "admin" {
            Goal::Admin
        } else {
            Goal::Node(node(&a.to, "--to")?)
        };
        let paths = match &a.from {
            Some(from) => analysis
                .path(node(from, "--from")?, goal)
                .into_iter()
                .collect(),
            None => analysis.paths(goal),
        };
        let admins = analysis
            .account
            .nodes
            .iter()
            .enumerate()
            .filter(|(i, _)| analysis.is_admin(*i))
            .map(|(_, n)| n.arn.clone())
            .collect();
        reports.push(AccountReport {
            account: id.to_string(),
            admins,
            paths,
            warnings: analysis.account.warnings.clone(),
        });
    }
    let text = if json {
        serde_json::to_string_pretty(&reports)? + "\n"
    } else {
        let mut s = String::new();
        for r in &reports {
            s.push_str(&format!(
                "account {}: {} admin principal(s), {} path(s) to {}\n",
                r.account,
                r.admins.len(),
                r.paths.len(),
                a.to
            ));
            s.push_str(&rampart_paths::render_text(&r.paths));
        }
        s
    };
    output::emit(g, &text)?;
    Ok(Exit::Ok)
}

pub fn methods(g: &Global) -> anyhow::Result<Exit> {
    output::emit(g, &rampart_paths::methods_markdown())?;
    Ok(Exit::Ok)
}
