//! One module per verb. Each exposes its clap arguments and a `run` returning the exit code.

pub mod activity;
pub mod alerts;
pub mod apply;
pub mod audit;
pub mod collect;
pub mod controls;
pub mod demo;
pub mod demo_history;
pub mod detect;
pub mod drill;
pub mod findings;
pub mod follow;
pub mod history;
pub mod hunt;
pub mod iac;
pub mod iam;
pub mod iam_paths;
pub mod iam_unused;
pub mod init;
pub mod output;
pub mod plan;
pub mod policy;
pub mod policy_generate;
pub mod respond;
pub mod rules;
pub mod runbook;
pub mod s3;
pub mod schedule;
pub mod serve;
pub mod store;
pub mod weekly;

use crate::cli::{Cli, Command, Exit};

pub fn run(cli: &Cli) -> anyhow::Result<Exit> {
    let g = &cli.global;
    // alert messages and `rampart runbook` resolve finding types to their runbooks
    rampart_findings::runbooks::install();
    match &cli.command {
        Command::Demo(a) => demo::run(g, a),
        Command::Collect(a) => collect::run(g, a),
        Command::Audit(a) => audit::run(g, a),
        Command::Controls(a) => controls::run(g, a),
        Command::Policy(a) => policy::run(g, a),
        Command::Detect(a) => detect::run(g, a),
        Command::Alerts(a) => alerts::run(g, a),
        Command::Rules(a) => rules::run(g, a),
        Command::Hunt(a) => hunt::run(g, a),
        Command::Findings(c) => findings::run(g, c),
        Command::Runbook(a) => runbook::run(g, a),
        Command::Respond(a) => respond::run(g, a),
        Command::Drill(a) => drill::run(g, a),
        Command::Init(a) => init::run(g, a),
        Command::Guardrails(a) => init::guardrails(g, a),
        Command::Plan(a) => plan::run(g, a, false),
        Command::Drift(a) => plan::run(g, a, true),
        Command::Apply(a) => apply::run(g, a),
        Command::History(a) => history::history(g, a),
        Command::Diff(a) => history::diff(g, a),
        Command::Report(c) => weekly::run(g, c),
        Command::Store(c) => store::run(g, c),
        Command::Schedule(c) => schedule::run(g, c),
        Command::Iac(a) => iac::run(g, a),
        Command::Iam(c) => iam::run(g, c),
        Command::Serve(a) => serve::run(g, a),
    }
}
