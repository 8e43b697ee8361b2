//! `rampart audit`.

use crate::cli::{Exit, Global};

#[derive(Debug, clap::Args)]
pub struct AuditArgs {}

pub fn run(_g: &Global, _a: &AuditArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("`rampart audit` is not built yet")
}
