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
    /// Per user and role, the granted services and actions never used in the window
    /// (grants from the snapshot's policies, decided by the policy engine; use from CloudTrail).
    ///
    /// Examples:
    ///   rampart iam unused --from trail/ --since 90d --snapshot snapshot.json
    ///   rampart iam unused --from s3://trail-bucket/AWSLogs/ --format json -o unused.json
    #[command(verbatim_doc_comment)]
    Unused(crate::cmd::iam_unused::IamUnusedArgs),
}

pub fn run(g: &Global, c: &IamCommand) -> anyhow::Result<Exit> {
    match c {
        IamCommand::Paths(a) => crate::cmd::iam_paths::run(g, a),
        IamCommand::Methods => crate::cmd::iam_paths::methods(g),
        IamCommand::Unused(a) => crate::cmd::iam_unused::run(g, a),
    }
}
