//! `rampart collect`.

use crate::cli::{Exit, Global};

#[derive(Debug, clap::Args)]
pub struct CollectArgs {}

pub fn run(_g: &Global, _a: &CollectArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("`rampart collect` is not built yet")
}
