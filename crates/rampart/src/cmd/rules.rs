//! `rampart rules …`.

use crate::cli::{Exit, Global};

#[derive(Debug, clap::Subcommand)]
pub enum RulesCommand {
    /// List every loaded rule and its status.
    List {},
}

pub fn run(_g: &Global, _a: &RulesCommand) -> anyhow::Result<Exit> {
    anyhow::bail!("`rampart rules` is not built yet")
}
