//! `rampart iac check`: CloudFormation templates and Terraform plans checked before they deploy,
//! against the audit's controls and (with `--account`) the organization's guardrails.

use crate::cli::{Exit, Global};
use crate::cmd::output;
use anyhow::Context;
use rampart_core::Severity;
use rampart_iac::checks::{Env, GuardrailEnv};
use rampart_iac::model::{ReadOptions, STAND_IN_ACCOUNT};
use rampart_iac::{Report, Status, Suppression};
use rampart_snapshot::Snapshot;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum IacCommand {
    /// Check templates (YAML/JSON) and plans (`terraform show -json`); directories are searched
    /// for .yaml, .yml, .json and .template files.
    #[command(after_help = "Examples:
  rampart iac check templates/
  rampart iac check stack.yaml --parameter Env=prod --region eu-west-1 --fail-on high
  terraform show -json plan.out > plan.json && rampart iac check plan.json --format sarif -o iac.sarif
  rampart iac check stack.yaml --account 210987654321 --region eu-north-1 --snapshot snap.json

Exit codes: 0 clean; 1 a file could not be read (the others are still checked and reported);
3 an unsuppressed FAIL (or UNKNOWN with --fail-on-unknown) at or above --fail-on.")]
    Check(IacCheckArgs),
}

#[derive(Debug, clap::Args)]
pub struct IacCheckArgs {
    /// Templates, plans, or directories.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Exit 3 when an unsuppressed FAIL at or above this severity remains
    /// (informational, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// UNKNOWN results (values known only at deploy) count towards --fail-on too.
    #[arg(long)]
    pub fail_on_unknown: bool,
    /// A template parameter's value, overriding its Default (repeatable).
    #[arg(long = "parameter", value_name = "KEY=VALUE", value_parser = parse_parameter)]
    pub parameters: Vec<(String, String)>,
    /// The region the deployment goes to (`${AWS::Region}`; the guardrails' aws:RequestedRegion).
    /// A plan's AWS provider region is used when this is not given.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// The account the deployment goes to: `${AWS::AccountId}`, and, with --snapshot or --live,
    /// whose SCP chain the implied actions are evaluated against.
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// The organization id: principals of other organizations count as external.
    #[arg(long, value_name = "ID")]
    pub org_id: Option<String>,
    /// Read the organization (SCPs, accounts, org id, EBS default encryption) from this snapshot.
    #[arg(long, value_name = "FILE", conflicts_with = "live")]
    pub snapshot: Option<PathBuf>,
    /// Read the organization live (needs AWS credentials for the management account).
    #[arg(long)]
    pub live: bool,
    /// The role that deploys, as the principal of the guardrail evaluation.
    #[arg(long, value_name = "ARN")]
    pub deploy_role: Option<String>,
    /// Also list PASS results in text output.
    #[arg(long)]
    pub all: bool,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

fn parse_parameter(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("expected KEY=VALUE, got `{s}`"))
}

/// `[[iac.suppress]]` entries of `rampart.toml`; other sections belong to other verbs.
#[derive(Debug, Default, Deserialize)]
struct IacConfig {
    #[serde(default)]
    iac: IacSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct IacSection {
    #[serde(default)]
    suppress: Vec<Suppression>,
}

fn load_config(path: &Path) -> anyhow::Result<IacConfig> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(IacConfig::default()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.message()))
}

pub fn run(g: &Global, cmd: &IacCommand) -> anyhow::Result<Exit> {
    match cmd {
        IacCommand::Check(a) => check(g, a),
    }
}

/// The checks' view of the target: account, organization, guardrails.
fn environment(g: &Global, a: &IacCheckArgs) -> anyhow::Result<Env> {
    let mut env = Env {
        account: a.account.clone().unwrap_or_else(|| STAND_IN_ACCOUNT.into()),
        org_id: a.org_id.clone(),
        ..Env::default()
    };
    let snapshot = match (&a.snapshot, a.live) {
        (Some(p), _) => Some(Snapshot::load(p)?),
        (None, true) => Some(crate::cmd::collect::collect_live(
            g,
            &crate::cmd::collect::CollectArgs::default(),
        )?),
        (None, false) => None,
    };
    let Some(snapshot) = snapshot else {
        if a.account.is_some() {
            output::note(
                g,
                "rampart: note: --account without --snapshot or --live: guardrail impact is not evaluated",
            );
        }
        return Ok(env);
    };
    if let Some(org) = &snapshot.organization {
        env.org_id = env.org_id.or_else(|| Some(org.id.clone()));
        env.org_accounts = org.accounts.iter().map(|a| a.id.clone()).collect();
    }
    let Some(account) = &a.account else {
        anyhow::bail!("--snapshot/--live need --account ID: the account whose guardrails apply");
    };
    if let (Some(region), Some(acct)) = (
        &a.region,
        snapshot.accounts.iter().find(|x| &x.account_id == account),
    ) {
        env.ebs_default = acct
            .regions
            .iter()
            .find(|r| &r.region == region)
            .map(|r| r.ebs_encryption_by_default);
    }
    let settings = rampart_core::AuditSettings::default();
    let view = rampart_core::OrgView::new(&snapshot, &settings);
    if view.management_account == Some(account.as_str()) {
        output::note(
            g,
            format!(
                "rampart: note: {account} is the management account: no SCP applies to it, guardrail impact not evaluated"
            ),
        );
        return Ok(env);
    }
    if snapshot.organization.is_none() {
        output::note(
            g,
            "rampart: note: the snapshot has no organization: guardrail impact not evaluated",
        );
        return Ok(env);
    }
    let chain = view
        .guardrails(account)
        .map_err(|e| anyhow::anyhow!("guardrails of account {account}: {e}"))?;
    let principal = a
        .deploy_role
        .clone()
        .unwrap_or_else(|| format!("arn:aws:iam::{account}:role/rampart-deploy"));
    env.guardrails = Some(GuardrailEnv::new(
        rampart_core::proof::Guardrails::new(chain.scps.clone(), chain.rcps.clone()),
        a.region.clone(),
        true,
        principal,
    ));
    Ok(env)
}

fn check(g: &Global, a: &IacCheckArgs) -> anyhow::Result<Exit> {
    let format = match g.format.as_deref() {
        None | Some("text") | Some("table") => "text",
        Some("json") => "json",
        Some("sarif") => "sarif",
        Some(other) => {
            anyhow::bail!("unknown format `{other}` for iac check: use text, json or sarif")
        }
    };
    let config = load_config(&g.config)?;
    let opts = ReadOptions {
        parameters: a.parameters.iter().cloned().collect::<HashMap<_, _>>(),
        region: a.region.clone(),
        account: a.account.clone(),
    };
    let env = environment(g, a)?;
    let mut report = rampart_iac::check_paths(&a.paths, &opts, &env);
    let today = chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    for w in rampart_iac::suppress(&mut report.findings, &config.iac.suppress, &today) {
        output::note(g, format!("rampart: warning: {w}"));
    }
    let text = match format {
        "json" => serde_json::to_string_pretty(&report)? + "\n",
        "sarif" => sarif(&report),
        _ => text(&report, a.all),
    };
    output::emit(g, &text)?;
    for e in &report.errors {
        output::note(g, format!("rampart: error: {e}"));
    }
    output::note(g, summary(&report));
    if !report.errors.is_empty() {
        return Ok(Exit::Error);
    }
    if let Some(level) = a.fail_on
        && report
            .findings
            .iter()
            .any(|f| f.gates(level, a.fail_on_unknown))
    {
        return Ok(Exit::Findings);
    }
    Ok(Exit::Ok)
}

fn summary(r: &Report) -> String {
    format!(
        "rampart iac: {} file(s), {} resource(s): {} FAIL, {} UNKNOWN, {} PASS, {} suppressed{}",
        r.files,
        r.resources,
        r.count(Status::Fail),
        r.count(Status::Unknown),
        r.count(Status::Pass),
        r.suppressed(),
        if r.errors.is_empty() {
            String::new()
        } else {
            format!(", {} file(s) unreadable", r.errors.len())
        }
    )
}

fn text(r: &Report, all: bool) -> String {
    let mut out = String::new();
    for f in &r.findings {
        if f.status == Status::Pass && !all {
            continue;
        }
        let sup = f
            .suppressed
            .as_ref()
            .map(|s| format!(" [suppressed ({}): {}]", s.source, s.reason))
            .unwrap_or_default();
        out.push_str(&format!(
            "{}:{}:{}: {} {} {} {}{sup}\n",
            f.file,
            f.line,
            f.column,
            f.status.as_str(),
            f.control.severity.as_str(),
            f.control.id,
            f.message
        ));
    }
    for e in &r.errors {
        out.push_str(&format!("{e}\n"));
    }
    out
}

/// Stable across runs and line moves: control, file and resource.
fn fingerprint(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn sarif(r: &Report) -> String {
    let uris: Vec<String> = r
        .findings
        .iter()
        .map(|f| f.file.replace('\\', "/"))
        .collect();
    let located: Vec<rampart_report::Located<'_>> = r
        .findings
        .iter()
        .zip(&uris)
        .filter(|(f, _)| f.status != Status::Pass)
        .map(|(f, uri)| rampart_report::Located {
            control: f.control,
            status: f.status.as_str(),
            message: &f.message,
            uri: uri.trim_start_matches("./"),
            line: f.line,
            column: f.column,
            resource: &f.resource,
            fingerprint: fingerprint(&[f.control.id, uri, &f.resource]),
            suppressed: f.suppressed.as_ref().map(|s| s.reason.as_str()),
        })
        .collect();
    let messages: Vec<String> = r.errors.iter().map(|e| e.to_string()).collect();
    let errors: Vec<rampart_report::Unreadable<'_>> = r
        .errors
        .iter()
        .zip(&messages)
        .map(|(e, m)| {
            (
                e.file.trim_start_matches("./"),
                e.line,
                e.column,
                m.as_str(),
            )
        })
        .collect();
    rampart_report::render_located(env!("CARGO_PKG_VERSION"), &located, &errors)
}
