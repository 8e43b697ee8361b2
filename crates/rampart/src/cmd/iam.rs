//! `rampart iam …`: questions about an account's IAM.

use crate::cli::{Exit, Global};

#[derive(Debug, clap::Subcommand)]
pub enum IamCommand {
    /// Who can become admin: the shortest privilege-escalation paths per account, each step
    /// with the statement that allows it.
    #[command(after_help = crate::cmd::iam_paths::EXAMPLES)]
    Paths(crate::cmd::iam_paths::PathsArgs),
    /// List the privilege-escalation methods `iam paths` knows (Markdown).
    Methods,
}

pub fn run(g: &Global, c: &IamCommand) -> anyhow::Result<Exit> {
    match c {
        IamCommand::Paths(a) => crate::cmd::iam_paths::run(g, a),
        IamCommand::Methods => crate::cmd::iam_paths::methods(g),
    }
}
