//! `rampart history` (the recorded runs) and `rampart diff` (what changed between two audits).

use crate::cli::{Exit, Global};
use crate::cmd::output;
use crate::cmd::store::{for_reading, now, parse_age};
use anyhow::bail;
use rampart_report::history::{ViewFormat, render_diff, render_runs};
use rampart_store::{DiffClass, RunKind};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  rampart history                      # the last 20 runs of every kind\n  rampart history --kind audit --since 12w --format json\n\nFormats: text (default), json, markdown."
)]
pub struct HistoryArgs {
    /// Only runs of this kind: audit, detect, plan, drift, apply.
    #[arg(long, value_name = "KIND", value_parser = parse_kind)]
    pub kind: Option<RunKind>,
    /// Only runs that started within this age, e.g. 7d, 12w.
    #[arg(long, value_name = "AGE", value_parser = parse_age)]
    pub since: Option<chrono::Duration>,
    /// At most this many runs, newest first (0: all).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
}

fn parse_kind(s: &str) -> Result<RunKind, String> {
    s.parse()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Exit 3 when any finding newly fails.
    New,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  rampart diff                         # the last two audits\n  rampart diff 41 57 --format markdown # run #41 against run #57\n  rampart diff --fail-on new           # a gate: exit 3 when anything newly fails\n\nFormats: text (default), json, markdown. Exit codes: 0, 3 (--fail-on new and a new failure), 1 error."
)]
pub struct DiffArgs {
    /// The earlier audit run (default: the one before RUN_B).
    #[arg(value_name = "RUN_A")]
    pub from: Option<i64>,
    /// The later audit run (default: the latest).
    #[arg(value_name = "RUN_B")]
    pub to: Option<i64>,
    /// `new`: exit 3 when a finding fails in RUN_B that did not in RUN_A.
    #[arg(long, value_name = "WHAT", value_enum)]
    pub fail_on: Option<FailOn>,
}

fn view_format(g: &Global) -> anyhow::Result<ViewFormat> {
    match g.format.as_deref() {
        None => Ok(ViewFormat::Text),
        Some(f) => f.parse().map_err(anyhow::Error::msg),
    }
}

pub fn history(g: &Global, a: &HistoryArgs) -> anyhow::Result<Exit> {
    let format = view_format(g)?;
    let store = for_reading(g)?;
    let since = a.since.map(|d| now() - d);
    let limit = (a.limit > 0).then_some(a.limit);
    let runs = store
        .runs(a.kind, since, limit)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    output::emit(g, &render_runs(&runs, format))?;
    Ok(Exit::Ok)
}

pub fn diff(g: &Global, a: &DiffArgs) -> anyhow::Result<Exit> {
    let format = view_format(g)?;
    let store = for_reading(g)?;
    let (from, to) = pick_runs(&store, a.from, a.to)?;
    let d = store.diff(from, to).map_err(|e| anyhow::anyhow!("{e}"))?;
    output::emit(g, &render_diff(&d, format))?;
    if a.fail_on == Some(FailOn::New) && d.count(DiffClass::New) > 0 {
        return Ok(Exit::Findings);
    }
    Ok(Exit::Ok)
}

/// The two audits to compare: as given, or the latest and the one before it.
fn pick_runs(
    store: &rampart_store::Store,
    from: Option<i64>,
    to: Option<i64>,
) -> anyhow::Result<(i64, i64)> {
    let audits = store
        .runs(Some(RunKind::Audit), None, None)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let check = |id: i64| -> anyhow::Result<i64> {
        if audits.iter().any(|r| r.id == id) {
            Ok(id)
        } else {
            bail!(
                "run #{id} is not an audit recorded in {}; `rampart history --kind audit` lists them",
                store.url()
            )
        }
    };
    let to = match to {
        Some(id) => check(id)?,
        None => match audits.first() {
            Some(r) => r.id,
            None => bail!(
                "no audit recorded in {} yet: run `rampart audit` twice to compare",
                store.url()
            ),
        },
    };
    let from = match from {
        Some(id) => check(id)?,
        None => match audits.iter().find(|r| r.id < to) {
            Some(r) => r.id,
            None => bail!(
                "only one audit (run #{to}) is recorded in {}: there is nothing to compare it with yet",
                store.url()
            ),
        },
    };
    Ok((from, to))
}
