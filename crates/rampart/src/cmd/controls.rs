//! `rampart controls`: list the controls catalogue.

use crate::cli::{Exit, Global};
use crate::cmd::output;
use rampart_report::catalogue;

#[derive(Debug, clap::Args)]
pub struct ControlsArgs {
    /// Only controls whose id or framework mapping contains this text (e.g. `cis-aws-3.0:4.`, `fsbp:`, `base-`).
    #[arg(long)]
    pub filter: Option<String>,
}

pub fn run(g: &Global, a: &ControlsArgs) -> anyhow::Result<Exit> {
    let controls: Vec<_> = rampart_core::catalogue()
        .into_iter()
        .filter(|c| {
            a.filter
                .as_deref()
                .is_none_or(|f| c.id.contains(f) || c.frameworks.iter().any(|fw| fw.contains(f)))
        })
        .collect();
    let text = match g.format.as_deref().unwrap_or("table") {
        "table" => catalogue::to_table(&controls),
        "json" => catalogue::to_json(&controls),
        "markdown" | "md" => catalogue::to_markdown(&controls),
        other => anyhow::bail!(
            "`rampart controls` cannot print `{other}`: use --format table, json or markdown"
        ),
    };
    output::emit(g, &text)?;
    Ok(Exit::Ok)
}
