//! Global flags, exit codes and the verb list.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Exit codes a pipeline can gate on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success; nothing at or above `--fail-on`.
    Ok = 0,
    /// An error stopped the command (details on stderr).
    Error = 1,
    /// Bad usage (clap reports these itself with the same code).
    #[allow(dead_code)]
    Usage = 2,
    /// Findings or alerts at or above `--fail-on SEVERITY`.
    Findings = 3,
    /// `plan` / `drift` / `apply`: changes are pending.
    Changes = 4,
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "rampart",
    version,
    about = "A complete, fast security baseline for AWS Organizations",
    long_about = "rampart sets up an AWS Organization's security baseline, proves that it holds \
(CIS AWS Foundations v3.0 and the baseline controls, organization-aware), watches CloudTrail for \
attacks, and reports.\n\nTry `rampart demo` first: it needs no AWS account.",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every verb accepts.
#[derive(Debug, Args, Clone)]
pub struct Global {
    /// AWS named profile (otherwise the standard credential chain: env, SSO, instance role).
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Send every AWS call to this endpoint (an emulator such as moto).
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// Only these regions (comma-separated); default every enabled region.
    #[arg(long, global = true, value_delimiter = ',')]
    pub regions: Vec<String>,
    /// Role assumed in member accounts.
    #[arg(long, global = true, default_value = "OrganizationAccountAccessRole")]
    pub role_name: String,
    /// Output format (each verb lists the ones it supports).
    #[arg(long, global = true)]
    pub format: Option<String>,
    /// Write the main output to this file instead of stdout.
    #[arg(long, short = 'o', global = true)]
    pub output: Option<PathBuf>,
    /// Print only the main output and errors.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// More detail on stderr (repeat for more).
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Configuration file.
    #[arg(long, global = true, default_value = "rampart.toml")]
    pub config: PathBuf,
    /// History store URL (sqlite://FILE or postgres://…); overrides `[store] url`.
    #[arg(
        long,
        global = true,
        env = "RAMPART_STORE",
        value_name = "URL",
        hide_env_values = true
    )]
    pub store: Option<String>,
    /// Record nothing in the history store this time.
    #[arg(long, global = true)]
    pub no_store: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the main job on embedded sample data: no AWS account needed.
    Demo(crate::cmd::demo::DemoArgs),
    /// Read an organization (or one account) into a snapshot file.
    Collect(crate::cmd::collect::CollectArgs),
    /// Evaluate the controls, live or against a saved snapshot.
    Audit(crate::cmd::audit::AuditArgs),
    /// List the controls catalogue.
    Controls(crate::cmd::controls::ControlsArgs),
    /// Parse, lint, simulate and analyse IAM, SCP and RCP policies.
    #[command(subcommand)]
    Policy(crate::cmd::policy::PolicyCommand),
    /// Detect threats in CloudTrail logs.
    Detect(crate::cmd::detect::DetectArgs),
    /// Routed alerts: acknowledge, list, and send due digests, escalations and retries.
    Alerts(crate::cmd::alerts::AlertsArgs),
    /// Run the detection rules as one Apache Spark job over years of trail (local or EMR Serverless).
    Hunt(crate::cmd::hunt::HuntArgs),
    /// List or test detection rules.
    #[command(subcommand)]
    Rules(crate::cmd::rules::RulesCommand),
    /// Pull GuardDuty, Security Hub, Access Analyzer and Config findings as alerts.
    #[command(subcommand)]
    Findings(crate::cmd::findings::FindingsCommand),
    /// Print a rule's runbook (triage, containment, recovery, escalation), filled from an alert.
    Runbook(crate::cmd::runbook::RunbookArgs),
    /// Contain what an alert found (playbook, guards, audit log), or undo it.
    Respond(crate::cmd::respond::RespondArgs),
    /// Run a harmless attack in a sandbox account and prove it was detected and alerted.
    Drill(crate::cmd::drill::DrillArgs),
    /// Write a commented rampart.toml implementing the security baseline.
    Init(crate::cmd::init::InitArgs),
    /// Show the guardrail SCPs rampart.toml generates per OU, with their proofs.
    Guardrails(crate::cmd::init::GuardrailsArgs),
    /// Compare rampart.toml with the organization: ordered, typed changes (exit 4 when any).
    Plan(crate::cmd::plan::PlanArgs),
    /// What drifted from rampart.toml, for scheduled checks (same as plan; exit 4 on drift).
    Drift(crate::cmd::plan::PlanArgs),
    /// Converge the organization to rampart.toml: plan, confirm, apply, repeat until converged.
    Apply(crate::cmd::apply::ApplyArgs),
    /// List the recorded runs: audits with their score, detections, plans, drift checks, applies.
    History(crate::cmd::history::HistoryArgs),
    /// What changed between two recorded audits (default: the last two): new failures,
    /// resolved, still failing, newly unobservable.
    Diff(crate::cmd::history::DiffArgs),
    /// Reports made from the history store.
    #[command(subcommand)]
    Report(crate::cmd::weekly::ReportCommand),
    /// Look after the history store: info, prune, export, copy.
    #[command(subcommand)]
    Store(crate::cmd::store::StoreCommand),
    /// Run audit, drift, detect and the weekly report on the `[schedule]` of rampart.toml.
    #[command(subcommand)]
    Schedule(crate::cmd::schedule::ScheduleCommand),
    /// Check CloudFormation templates and Terraform plans before they deploy.
    #[command(subcommand)]
    Iac(crate::cmd::iac::IacCommand),
    /// Questions about IAM: who can become admin, what was granted and never used.
    #[command(subcommand)]
    Iam(crate::cmd::iam::IamCommand),
    /// The dashboard and JSON API over the history store; its users and API tokens.
    Serve(crate::cmd::serve::ServeArgs),
}
