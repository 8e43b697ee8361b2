//! `rampart demo`.

use crate::cli::{Exit, Global};

#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

pub fn run(_g: &Global, _a: &DemoArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("`rampart demo` is not built yet")
}
