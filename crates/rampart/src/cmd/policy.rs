//! `rampart policy …`.

use crate::cli::{Exit, Global};

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Evaluate requests against policies, as AWS does.
    Simulate {},
}

pub fn run(_g: &Global, _a: &PolicyCommand) -> anyhow::Result<Exit> {
    anyhow::bail!("`rampart policy` is not built yet")
}
