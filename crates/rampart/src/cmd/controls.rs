//! `rampart controls`.

use crate::cli::{Exit, Global};

#[derive(Debug, clap::Args)]
pub struct ControlsArgs {}

pub fn run(_g: &Global, _a: &ControlsArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("`rampart controls` is not built yet")
}
