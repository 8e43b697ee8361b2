//! `rampart detect`.

use crate::cli::{Exit, Global};

#[derive(Debug, clap::Args)]
pub struct DetectArgs {}

pub fn run(_g: &Global, _a: &DetectArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("`rampart detect` is not built yet")
}
