//! `rampart.toml`: the desired baseline, and the commented default `rampart init` writes.
//!
//! One file serves every verb: `[organization]`, `[[accounts]]`, `[guardrails]`,
//! `[log_archive]`, `[security_services]`, `[alerts]`, `[alerting]` and `[identity]` describe the
//! baseline; `[audit]`, `[[suppress]]`, `[detect]`, `[store]`, `[respond]` and `[schedule]` belong
//! to `audit`, `detect`, the history store, `respond` and the scheduler, which read them with
//! their own types (here they are accepted as they are). Unknown keys and
//! invalid values are errors with the line and column.

use crate::guardrails::{Block, GuardrailSettings};
use crate::rcp::{RcpBlock, RcpSettings};
use serde::Deserialize;
use std::collections::BTreeMap;

pub mod alerting;
pub mod identity;
pub use alerting::Alerting;
pub use identity::Identity;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub organization: Organization,
    #[serde(default)]
    pub accounts: Vec<Account>,
    pub guardrails: Guardrails,
    pub log_archive: LogArchive,
    #[serde(default)]
    pub security_services: SecurityServices,
    #[serde(default)]
    pub alerts: Alerts,
    /// IAM Identity Center as code (`None`: rampart leaves Identity Center alone).
    #[serde(default)]
    pub identity: Option<Identity>,
    /// Central alerting in AWS (`None`: rampart plans no EventBridge rules or alert topic).
    #[serde(default)]
    pub alerting: Option<Alerting>,
    // Sections of other verbs, validated by them.
    #[serde(default)]
    pub audit: Option<toml::Value>,
    #[serde(default)]
    pub suppress: Option<toml::Value>,
    #[serde(default)]
    pub detect: Option<toml::Value>,
    #[serde(default)]
    pub store: Option<toml::Value>,
    /// `rampart respond`'s playbook and audit log (rampart-respond reads it).
    #[serde(default)]
    pub respond: Option<toml::Value>,
    #[serde(default)]
    pub schedule: Option<toml::Value>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    /// OU paths, parents first (`Workloads`, `Workloads/Prod`).
    pub ous: Vec<String>,
    /// Regions workloads may use; the home region first.
    pub allowed_regions: Vec<String>,
    /// Name of the Log Archive account (must be listed in `[[accounts]]`).
    pub log_archive_account: String,
    /// Name of the Audit account, delegated administrator of the security services.
    pub audit_account: String,
    /// The role rampart assumes in member accounts.
    #[serde(default = "default_role")]
    pub role_name: String,
}

fn default_role() -> String {
    "OrganizationAccountAccessRole".into()
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub name: String,
    /// Root email address; for new accounts it must be unused in AWS.
    pub email: String,
    /// OU path (one of `organization.ous`).
    pub ou: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Guardrails {
    /// Role names never denied by any guardrail (break-glass, the role rampart runs as).
    pub exempt_roles: Vec<String>,
    /// OU path → guardrail block names.
    pub attach: BTreeMap<String, Vec<String>>,
    /// Quarantine new accounts (deny all but the exempt roles) until they are baselined.
    #[serde(default = "yes")]
    pub quarantine_new_accounts: bool,
    /// Resource control policies: the data perimeter (`[guardrails.rcps]`).
    #[serde(default)]
    pub rcps: Rcps,
}

/// `[guardrails.rcps]`: RCP blocks per OU and the accounts outside the organization let in.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rcps {
    /// OU path → RCP block names.
    #[serde(default)]
    pub attach: BTreeMap<String, Vec<String>>,
    /// Account ids outside the organization the perimeter still lets in (vendors).
    #[serde(default)]
    pub trusted_accounts: Vec<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogArchive {
    /// Bucket for the organization trail (in the Log Archive account).
    pub bucket: String,
    #[serde(default = "default_retention")]
    pub retention_days: u32,
    /// `GOVERNANCE` or `COMPLIANCE`.
    #[serde(default = "default_lock")]
    pub object_lock_mode: String,
    #[serde(default = "default_trail")]
    pub trail_name: String,
}

fn default_retention() -> u32 {
    730
}
fn default_lock() -> String {
    "GOVERNANCE".into()
}
fn default_trail() -> String {
    "rampart-org-trail".into()
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecurityServices {
    #[serde(default = "yes")]
    pub guardduty: bool,
    #[serde(default = "yes")]
    pub security_hub: bool,
    /// Security Hub standards: `fsbp`, `cis-5.0`, `cis-3.0`, `cis-1.4`, `nist-800-53`, `pci-dss`
    /// (see [`crate::plan::STANDARDS`]).
    #[serde(default = "default_standards")]
    pub standards: Vec<String>,
    #[serde(default = "yes")]
    pub config: bool,
    #[serde(default = "yes")]
    pub access_analyzer: bool,
}

impl Default for SecurityServices {
    fn default() -> Self {
        SecurityServices {
            guardduty: true,
            security_hub: true,
            standards: default_standards(),
            config: true,
            access_analyzer: true,
        }
    }
}

fn default_standards() -> Vec<String> {
    vec!["fsbp".into(), "cis-3.0".into()]
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Alerts {
    /// SNS topic name for the CIS alarms (created in the management account's home region).
    #[serde(default)]
    pub sns_topic: Option<String>,
    /// Email addresses subscribed to the topic.
    #[serde(default)]
    pub emails: Vec<String>,
    /// Slack-compatible webhook: the URL is a secret, so only the name of the environment
    /// variable that holds it is written here.
    #[serde(default)]
    pub webhook_env: Option<String>,
    /// `[[alerts.route]]` and the snapshot that places accounts in OUs: read and validated by
    /// `rampart-route` (accepted here as they are).
    #[serde(default)]
    pub route: Option<toml::Value>,
    #[serde(default)]
    pub org_snapshot: Option<toml::Value>,
}

/// A configuration problem, with its position when it comes from the TOML parser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Config {
    /// Parses and checks `text` (named `file` in messages).
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let at = |span: Option<std::ops::Range<usize>>| {
            let off = span.map(|s| s.start).unwrap_or(0).min(text.len());
            let before = &text[..off];
            let line = before.matches('\n').count() + 1;
            let column = off - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
            (line, column)
        };
        let cfg: Config = toml::from_str(text).map_err(|e| {
            let (line, column) = at(e.span());
            ConfigError {
                file: file.to_string(),
                line,
                column,
                message: e.message().trim().to_string(),
            }
        })?;
        let fail = |needle: &str, message: String| {
            // Point at the first mention of the offending value, else the top of the file.
            let (line, column) = at(text.find(needle).map(|i| i..i));
            Err(ConfigError {
                file: file.to_string(),
                line,
                column,
                message,
            })
        };
        for (i, ou) in cfg.organization.ous.iter().enumerate() {
            if let Some((parent, _)) = ou.rsplit_once('/')
                && !cfg.organization.ous[..i].iter().any(|o| o == parent)
            {
                return fail(
                    ou,
                    format!("OU `{ou}` is listed before (or without) its parent `{parent}`"),
                );
            }
        }
        for a in &cfg.accounts {
            if !cfg.organization.ous.contains(&a.ou) {
                return fail(
                    &a.ou,
                    format!(
                        "account `{}` is in OU `{}`, which is not in organization.ous",
                        a.name, a.ou
                    ),
                );
            }
            if !a.email.contains('@') {
                return fail(&a.email, format!("account `{}` has no valid email", a.name));
            }
        }
        for role in ["log_archive_account", "audit_account"] {
            let name = if role == "audit_account" {
                &cfg.organization.audit_account
            } else {
                &cfg.organization.log_archive_account
            };
            if !cfg.accounts.iter().any(|a| &a.name == name) {
                return fail(
                    name,
                    format!("organization.{role} `{name}` is not one of [[accounts]]"),
                );
            }
        }
        if cfg.organization.allowed_regions.is_empty() {
            return fail(
                "allowed_regions",
                "organization.allowed_regions is empty".into(),
            );
        }
        for r in &cfg.organization.allowed_regions {
            let ok = r.split('-').count() >= 3
                && r.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !ok {
                return fail(r, format!("`{r}` is not a region code (e.g. eu-west-1)"));
            }
        }
        if cfg.guardrails.exempt_roles.is_empty() {
            return fail("exempt_roles", "guardrails.exempt_roles is empty: list the break-glass role and the role rampart runs as".into());
        }
        if !cfg
            .guardrails
            .exempt_roles
            .contains(&cfg.organization.role_name)
        {
            return fail(
                "exempt_roles",
                format!(
                    "guardrails.exempt_roles must include the role rampart runs as (`{}`), or a guardrail could lock rampart out",
                    cfg.organization.role_name
                ),
            );
        }
        for (ou, blocks) in &cfg.guardrails.attach {
            if !cfg.organization.ous.contains(ou) {
                return fail(
                    ou,
                    format!("guardrails.attach names OU `{ou}`, which is not in organization.ous"),
                );
            }
            for b in blocks {
                if Block::parse(b).is_none() {
                    let names: Vec<&str> = Block::ALL.iter().map(|b| b.name()).collect();
                    return fail(
                        b,
                        format!("unknown guardrail `{b}`; use one of: {}", names.join(", ")),
                    );
                }
            }
        }
        for (ou, blocks) in &cfg.guardrails.rcps.attach {
            if !cfg.organization.ous.contains(ou) {
                return fail(
                    ou,
                    format!(
                        "guardrails.rcps.attach names OU `{ou}`, which is not in organization.ous"
                    ),
                );
            }
            for b in blocks {
                if RcpBlock::parse(b).is_none() {
                    let names: Vec<&str> = RcpBlock::ALL.iter().map(|b| b.name()).collect();
                    return fail(
                        b,
                        format!("unknown RCP block `{b}`; use one of: {}", names.join(", ")),
                    );
                }
            }
        }
        for a in &cfg.guardrails.rcps.trusted_accounts {
            if a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()) {
                return fail(
                    a,
                    format!("guardrails.rcps.trusted_accounts: `{a}` is not a 12-digit account id"),
                );
            }
        }
        if !matches!(
            cfg.log_archive.object_lock_mode.as_str(),
            "GOVERNANCE" | "COMPLIANCE"
        ) {
            return fail(
                "object_lock_mode",
                "log_archive.object_lock_mode must be GOVERNANCE or COMPLIANCE".into(),
            );
        }
        if cfg.log_archive.retention_days < 365 {
            return fail(
                "retention_days",
                format!(
                    "log_archive.retention_days is {}: keep logs at least 365 days (CIS and the baseline ask for 730)",
                    cfg.log_archive.retention_days
                ),
            );
        }
        for s in &cfg.security_services.standards {
            if !crate::plan::STANDARDS.iter().any(|(n, _)| n == s) {
                let known: Vec<&str> = crate::plan::STANDARDS.iter().map(|(n, _)| *n).collect();
                return fail(
                    s,
                    format!(
                        "unknown Security Hub standard `{s}`; use one of: {}",
                        known.join(", ")
                    ),
                );
            }
        }
        if let Some(identity) = &cfg.identity
            && let Err((needle, message)) = identity.check(&cfg)
        {
            return fail(&needle, message);
        }
        if let Some(alerting) = &cfg.alerting
            && let Err((needle, message)) = alerting.check()
        {
            return fail(&needle, message);
        }
        Ok(cfg)
    }

    /// What the guardrail builder needs.
    pub fn guardrail_settings(&self) -> GuardrailSettings {
        GuardrailSettings {
            allowed_regions: self.organization.allowed_regions.clone(),
            exempt_roles: self.guardrails.exempt_roles.clone(),
        }
    }

    /// The blocks attached to each OU, parsed (names were checked by [`Config::parse`]).
    pub fn blocks_by_ou(&self) -> BTreeMap<String, Vec<Block>> {
        self.guardrails
            .attach
            .iter()
            .map(|(ou, names)| {
                (
                    ou.clone(),
                    names.iter().filter_map(|n| Block::parse(n)).collect(),
                )
            })
            .collect()
    }
}

impl Config {
    /// What the RCP builder needs; `org_id` comes from the snapshot (`o-…`).
    pub fn rcp_settings(&self, org_id: &str) -> RcpSettings {
        RcpSettings {
            org_id: org_id.to_string(),
            trusted_accounts: self.guardrails.rcps.trusted_accounts.clone(),
        }
    }

    /// The RCP blocks attached to each OU, parsed (names were checked by [`Config::parse`]).
    pub fn rcp_blocks_by_ou(&self) -> BTreeMap<String, Vec<RcpBlock>> {
        self.guardrails
            .rcps
            .attach
            .iter()
            .map(|(ou, names)| {
                (
                    ou.clone(),
                    names.iter().filter_map(|n| RcpBlock::parse(n)).collect(),
                )
            })
            .filter(|(_, blocks): &(String, Vec<RcpBlock>)| !blocks.is_empty())
            .collect()
    }
}

/// `ops@example.com` + `log-archive` → `ops+log-archive@example.com`.
fn plus_address(email: &str, tag: &str) -> String {
    match email.split_once('@') {
        Some((user, domain)) => {
            let user = user.split('+').next().unwrap_or(user);
            format!("{user}+{tag}@{domain}")
        }
        None => format!("{email}+{tag}"),
    }
}

/// The log bucket name `rampart init` writes when it cannot read the organization id (bucket
/// names are global: `rampart apply` refuses to run until it is replaced).
pub const PLACEHOLDER_BUCKET: &str = "rampart-org-trail-CHANGE-ME";

/// The commented default `rampart init` writes: the seeds' baseline for an organization whose
/// management account uses `management_email`, with allowed regions `regions` (home first).
pub fn init_template(management_email: &str, regions: &[String]) -> String {
    let regions = if regions.is_empty() {
        vec!["us-east-1".to_string()]
    } else {
        regions.to_vec()
    };
    let quoted: Vec<String> = regions.iter().map(|r| format!("\"{r}\"")).collect();
    let la = plus_address(management_email, "log-archive");
    let audit = plus_address(management_email, "audit");
    let bucket_region = &regions[0];
    format!(
        r#"# rampart.toml — the security baseline of this organization, as code.
# `rampart init` wrote this default from the seeds' baseline; review it, then run the baseline
# verbs. Unknown keys and invalid values are errors with their line and column.

[organization]
# Organizational units, parents first. Security holds the Log Archive and Audit accounts.
ous = ["Security", "Infrastructure", "Sandbox", "Workloads", "Workloads/Prod", "Workloads/Test"]
# Regions workloads may use (the first is the home region). Everything else is denied by the
# `region-deny` guardrail, except global services (IAM, Organizations, STS, Route 53, …).
allowed_regions = [{regions}]
# The two privileged accounts: a locked data bunker for logs, and the security tooling account
# (delegated administrator of GuardDuty, Security Hub, Config and Access Analyzer).
log_archive_account = "Log Archive"
audit_account = "Audit"
# The role rampart assumes in member accounts (AWSControlTowerExecution under Control Tower).
role_name = "OrganizationAccountAccessRole"

# Accounts rampart creates if missing (matched by name), and the OU each belongs in.
# Add your workload and sandbox accounts here.
[[accounts]]
name = "Log Archive"
email = "{la}"
ou = "Security"

[[accounts]]
name = "Audit"
email = "{audit}"
ou = "Security"

[guardrails]
# Never denied by any guardrail: the break-glass role and the role rampart runs as.
exempt_roles = ["BreakGlass", "OrganizationAccountAccessRole"]
# New accounts get the quarantine guardrail (deny all but the exempt roles) until baselined.
quarantine_new_accounts = true

# Guardrails per OU (SCPs generated from these building blocks, proved before they are attached):
#   protect-org-trail, deny-leave-org, protect-security-services,
#   protect-bpa-and-ebs-encryption, deny-root, region-deny, quarantine, deny-iam-users
[guardrails.attach]
"Security" = ["protect-org-trail", "deny-leave-org", "protect-security-services", "protect-bpa-and-ebs-encryption", "deny-root", "deny-iam-users"]
"Infrastructure" = ["protect-org-trail", "deny-leave-org", "protect-security-services", "protect-bpa-and-ebs-encryption", "deny-root", "region-deny", "deny-iam-users"]
"Sandbox" = ["protect-org-trail", "deny-leave-org", "protect-security-services", "protect-bpa-and-ebs-encryption", "region-deny", "deny-iam-users"]
"Workloads" = ["protect-org-trail", "deny-leave-org", "protect-security-services", "protect-bpa-and-ebs-encryption", "deny-root", "region-deny", "deny-iam-users"]

# Resource control policies: a data perimeter around the organization's resources (built, proved
# and replayed like the SCPs; run `rampart plan --replay` first to see which outside callers
# they would stop). Blocks: perimeter-s3, perimeter-kms, perimeter-sqs,
# perimeter-secretsmanager, perimeter-sts (only principals of the organization, and AWS services
# acting for it), require-tls (no request without TLS).
# [guardrails.rcps]
# trusted_accounts = []   # vendors' account ids still let in
# [guardrails.rcps.attach]
# "Workloads" = ["perimeter-s3", "perimeter-kms", "perimeter-sqs", "perimeter-secretsmanager", "perimeter-sts", "require-tls"]

[log_archive]
# Organization trail bucket in the Log Archive account ({bucket_region}); object lock,
# versioning, access logging and a TLS-only, organization-only, CloudTrail-only policy.
bucket = "{PLACEHOLDER_BUCKET}"
retention_days = 730
object_lock_mode = "GOVERNANCE"
trail_name = "rampart-org-trail"

[security_services]
guardduty = true
security_hub = true
# Also: "cis-5.0" (CIS AWS Foundations v5.0.0), "cis-1.4", "nist-800-53", "pci-dss".
standards = ["fsbp", "cis-3.0"]
config = true
access_analyzer = true

[alerts]
# SNS topic for the CIS 4.x alarms, in the management account's home region.
sns_topic = "rampart-security-alerts"
emails = ["{management_email}"]
# A Slack-compatible webhook: name the environment variable that holds the URL (a secret).
# webhook_env = "RAMPART_WEBHOOK_URL"

[alerting]
# Central alerting in AWS itself: in the Audit account's home region, EventBridge rules send
# GuardDuty, Security Hub and Access Analyzer findings at or above min_severity ("low",
# "medium", "high", "critical") to this SNS topic, which only EventBridge of that account may
# publish to. Security Hub's cross-region aggregator brings the other allowed regions' findings
# to the home region, and existing accounts become Security Hub members of the Audit account.
# See docs/alerting-aws.md.
min_severity = "high"
topic = "rampart-alerts"
emails = ["{management_email}"]
finding_aggregator = true
members = true

[identity]
# IAM Identity Center as code: permission sets, groups (in Identity Center's own identity store)
# and assignments by OU. An assignment to an OU covers every account in it and in its child OUs,
# as the organization is when `plan` runs: an account moved into Sandbox gets the platform
# team's access there at the next `apply`, and loses it where it left. "/" is every account.
# Groups synced from an external identity provider (SCIM) are managed there, not here.
#
# Break-glass: these sign-ins all depend on Identity Center. If it (or the identity provider) is
# unavailable, use the `BreakGlass` IAM role named in guardrails.exempt_roles: its credentials
# are held offline by two people, every session is reviewed afterwards from CloudTrail (its
# AssumeRole events), and the procedure is tested twice a year. See docs/identity.md.
# Identity Center is read and changed in the home region (the first of allowed_regions).

[[identity.permission_sets]]
name = "SecurityAudit"
description = "Read-only security audit for the security team"
session_duration = "PT4H"
managed_policies = ["arn:aws:iam::aws:policy/SecurityAudit", "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"]

[[identity.permission_sets]]
name = "PlatformAdmin"
description = "Administrator, for the platform team, in Sandbox accounts only"
session_duration = "PT1H"
managed_policies = ["arn:aws:iam::aws:policy/AdministratorAccess"]

[[identity.permission_sets]]
name = "DeveloperReadOnly"
description = "Read-only access to workloads for developers"
session_duration = "PT8H"
managed_policies = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
# Also: inline_policy = '''{{ "Version": "2012-10-17", "Statement": [...] }}''' (linted, and
# checked against the guardrails: a grant the SCPs deny everywhere is reported as dead),
# customer_managed_policies = ["/team/policy-name"], permissions_boundary = "arn:…" or "name".

[[identity.groups]]
name = "security"
description = "Security team"

[[identity.groups]]
name = "platform"
description = "Platform team"

[[identity.groups]]
name = "developers"
description = "Developers"

[[identity.assignments]]
group = "security"
permission_set = "SecurityAudit"
ous = ["/"]

[[identity.assignments]]
group = "platform"
permission_set = "PlatformAdmin"
ous = ["Sandbox"]

[[identity.assignments]]
group = "developers"
permission_set = "DeveloperReadOnly"
ous = ["Workloads"]

[store]
# The history every audit, detect, plan, drift and apply run is recorded in (`rampart history`,
# `rampart diff`, `rampart report weekly`). A relative SQLite path is beside this file; a team
# store: url = "postgres://rampart@db.internal/rampart" (the password goes in the PGPASSWORD
# environment variable, not here). `--store URL` overrides, `--no-store` skips recording.
url = "sqlite://rampart.db"
"#,
        regions = quoted.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_config() -> String {
        init_template(
            "ops@example.com",
            &["eu-west-1".into(), "eu-central-1".into()],
        )
    }

    #[test]
    fn the_default_parses_and_derives_emails() {
        let text = default_config();
        let c = Config::parse(&text, "rampart.toml").unwrap();
        assert_eq!(c.accounts[0].email, "ops+log-archive@example.com");
        assert_eq!(c.accounts[1].email, "ops+audit@example.com");
        assert_eq!(c.log_archive.retention_days, 730);
        assert_eq!(
            c.organization.allowed_regions,
            vec!["eu-west-1", "eu-central-1"]
        );
        let by_ou = c.blocks_by_ou();
        assert!(by_ou["Workloads"].contains(&Block::RegionDeny));
        // Every OU's guardrails build and prove with the default settings.
        for (ou, blocks) in by_ou {
            let scps =
                crate::guardrails::build_guardrails(&ou, &blocks, &c.guardrail_settings()).unwrap();
            let proof = crate::proof::prove(&ou, &scps, &c.guardrail_settings());
            assert!(proof.holds(), "{:#?}", proof.failures());
        }
        assert_eq!(plus_address("a+b@x.io", "audit"), "a+audit@x.io");
    }

    #[test]
    fn other_verbs_sections_are_accepted() {
        let text = format!(
            "{}\n[audit]\nallowed_regions = [\"eu-west-1\"]\n\n[[suppress]]\ncontrol = \"cis-1.4\"\nreason = \"x\"\n\n[detect]\nuses_sso = true\n",
            default_config()
        );
        Config::parse(&text, "rampart.toml").unwrap();
        // `rampart init` turns the history store on, beside rampart.toml.
        let text = default_config();
        let store = &text[text.find("[store]").expect("a [store] section")..];
        assert!(store.contains("\nurl = \"sqlite://rampart.db\""), "{store}");
    }

    #[test]
    fn rcps_are_configured_and_checked() {
        let rcps = "\n[guardrails.rcps]\ntrusted_accounts = [\"111122223333\"]\n[guardrails.rcps.attach]\n\"Workloads\" = [\"perimeter-s3\", \"require-tls\"]\n";
        let text = default_config().replace("\n[log_archive]", &format!("{rcps}\n[log_archive]"));
        let c = Config::parse(&text, "rampart.toml").unwrap();
        assert_eq!(
            c.rcp_blocks_by_ou()["Workloads"],
            vec![RcpBlock::PerimeterS3, RcpBlock::RequireTls]
        );
        assert_eq!(
            c.rcp_settings("o-abc").trusted_accounts,
            vec!["111122223333"]
        );
        // The default has none (commented out): opting in is a decision.
        let d = Config::parse(&default_config(), "rampart.toml").unwrap();
        assert!(d.rcp_blocks_by_ou().is_empty());
        let bad = text.replace("\"require-tls\"]", "\"perimeter-ec2\"]");
        let e = Config::parse(&bad, "rampart.toml").unwrap_err();
        assert!(
            e.message.contains("unknown RCP block `perimeter-ec2`"),
            "{e}"
        );
        assert!(e.line > 1, "{e}");
        let bad = text.replace(
            "\"Workloads\" = [\"perimeter-s3\"",
            "\"Nowhere\" = [\"perimeter-s3\"",
        );
        assert!(
            Config::parse(&bad, "rampart.toml")
                .unwrap_err()
                .message
                .contains("Nowhere")
        );
        let bad = text.replace("111122223333", "vendor");
        assert!(
            Config::parse(&bad, "rampart.toml")
                .unwrap_err()
                .message
                .contains("12-digit")
        );
    }

    #[test]
    fn security_hub_standards_are_checked_by_name() {
        let text = default_config().replace(
            "standards = [\"fsbp\", \"cis-3.0\"]",
            "standards = [\"fsbp\", \"cis-5.0\"]",
        );
        let cfg = Config::parse(&text, "rampart.toml").unwrap();
        assert_eq!(cfg.security_services.standards, vec!["fsbp", "cis-5.0"]);
        let text = default_config().replace(
            "standards = [\"fsbp\", \"cis-3.0\"]",
            "standards = [\"fsbp\", \"cis-6.0\"]",
        );
        let e = Config::parse(&text, "rampart.toml").unwrap_err();
        assert!(
            e.message
                .contains("unknown Security Hub standard `cis-6.0`")
                && e.message.contains("cis-5.0, cis-3.0"),
            "{e}"
        );
    }

    #[test]
    fn errors_have_line_and_column() {
        let text = default_config().replace(
            "retention_days = 730",
            "retention_days = 730\ncolour = \"blue\"",
        );
        let e = Config::parse(&text, "rampart.toml").unwrap_err();
        let line = text.lines().position(|l| l.starts_with("colour")).unwrap() + 1;
        assert_eq!((e.line, e.column), (line, 1), "{e}");
        assert!(
            e.to_string()
                .starts_with(&format!("rampart.toml:{line}:1:")),
            "{e}"
        );
        assert!(e.message.contains("colour"), "{e}");

        let text = default_config().replace("retention_days = 730", "retention_days = \"long\"");
        let e = Config::parse(&text, "rampart.toml").unwrap_err();
        assert!(
            e.message.contains("integer") || e.message.contains("invalid type"),
            "{e}"
        );

        let text = default_config().replace("\"deny-iam-users\"]", "\"deny-everything\"]");
        let e = Config::parse(&text, "rampart.toml").unwrap_err();
        assert!(
            e.message.contains("unknown guardrail `deny-everything`"),
            "{e}"
        );
        assert!(e.line > 1, "{e}");

        let text = default_config().replace(
            "exempt_roles = [\"BreakGlass\", \"OrganizationAccountAccessRole\"]",
            "exempt_roles = [\"BreakGlass\"]",
        );
        let e = Config::parse(&text, "rampart.toml").unwrap_err();
        assert!(e.message.contains("lock rampart out"), "{e}");

        let text = default_config().replace("ou = \"Security\"", "ou = \"Nowhere\"");
        assert!(
            Config::parse(&text, "rampart.toml")
                .unwrap_err()
                .message
                .contains("Nowhere")
        );
        let text = default_config().replace("\"eu-central-1\"]", "\"Frankfurt\"]");
        assert!(
            Config::parse(&text, "rampart.toml")
                .unwrap_err()
                .message
                .contains("region code")
        );
    }
}
