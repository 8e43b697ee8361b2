//! `rampart audit`: evaluate every control, live or against a saved snapshot, render the findings
//! and gate on `--fail-on`.

use crate::cli::{Exit, Global};
use crate::cmd::output;
use anyhow::Context;
use rampart_core::suppress::Suppression;
use rampart_core::{AuditSettings, Finding, Severity};
use rampart_report::{Format, Options, Run};
use rampart_snapshot::Snapshot;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Evaluate this saved snapshot (from `rampart collect`) instead of reading AWS.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Exit 3 when an unsuppressed FAIL or ERROR at or above this severity remains
    /// (informational, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// Also list PASS, NOT_APPLICABLE and MANUAL results in table and Markdown output.
    #[arg(long)]
    pub all: bool,
    /// Evaluate only the controls mapped to this framework and report by it: findings in its
    /// order, each naming its requirement (e.g. `cis-aws-5.0:5.1.1`). Frameworks: cis-aws-5.0,
    /// cis-aws-3.0, fsbp, rampart-baseline.
    #[arg(long, value_name = "FRAMEWORK")]
    pub framework: Option<String>,
    /// How the live collection runs (ignored with --snapshot).
    #[command(flatten)]
    pub collect: crate::cmd::collect::CollectArgs,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

/// The parts of `rampart.toml` the audit reads: `[audit]` settings and `[[suppress]]` entries.
/// Other sections belong to other verbs and are left alone.
#[derive(Debug, Default, Deserialize)]
pub struct AuditConfig {
    #[serde(default)]
    pub audit: AuditSection,
    #[serde(default)]
    pub suppress: Vec<Suppression>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSection {
    #[serde(default)]
    pub allowed_regions: Vec<String>,
    pub audit_account: Option<String>,
    pub log_archive_account: Option<String>,
    pub log_retention_days: Option<u32>,
    /// IAM users allowed a console password in member accounts.
    #[serde(default)]
    pub break_glass_users: Vec<String>,
    /// Age limit of active access keys (default 90).
    pub access_key_max_age_days: Option<u32>,
    /// Idle limit of passwords and access keys (default 45).
    pub credential_unused_days: Option<u32>,
}

impl AuditConfig {
    /// Reads `path` if it exists; a missing file means defaults.
    pub fn load(path: &Path) -> anyhow::Result<AuditConfig> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(AuditConfig::default()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        toml::from_str(&text).map_err(|e| {
            let msg = e.message().to_string();
            match e.span() {
                Some(span) => {
                    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                    let col = span.start
                        - text[..span.start.min(text.len())]
                            .rfind('\n')
                            .map_or(0, |i| i + 1)
                        + 1;
                    anyhow::anyhow!("{}:{line}:{col}: {msg}", path.display())
                }
                None => anyhow::anyhow!("{}: {msg}", path.display()),
            }
        })
    }

    pub fn settings(&self) -> AuditSettings {
        AuditSettings {
            allowed_regions: self.audit.allowed_regions.clone(),
            audit_account: self.audit.audit_account.clone(),
            log_archive_account: self.audit.log_archive_account.clone(),
            log_retention_days: self.audit.log_retention_days,
            break_glass_users: self.audit.break_glass_users.clone(),
            access_key_max_age_days: self.audit.access_key_max_age_days,
            credential_unused_days: self.audit.credential_unused_days,
            ..AuditSettings::default()
        }
    }
}

/// Evaluated findings with the run description, suppressions applied.
pub struct Evaluated {
    pub run: Run,
    pub findings: Vec<Finding>,
}

/// Checks a `--framework` value before anything slow (a live collection) runs.
pub fn check_framework(framework: Option<&str>) -> anyhow::Result<()> {
    if let Some(fw) = framework {
        rampart_core::select(fw).map_err(|e| anyhow::anyhow!(e))?;
    }
    Ok(())
}

/// Evaluates `snapshot` with the configuration's settings and suppressions: every control, or
/// only those of `framework`, reported by it.
pub fn evaluate(
    snapshot: &Snapshot,
    config: &AuditConfig,
    source: &str,
    fail_on: Option<Severity>,
    framework: Option<&str>,
) -> anyhow::Result<Evaluated> {
    let now = chrono::Utc::now();
    let settings = config.settings();
    let mut findings = match framework {
        None => rampart_core::evaluate(snapshot, &settings),
        Some(fw) => rampart_core::evaluate_framework(snapshot, &settings, fw)
            .map_err(|e| anyhow::anyhow!(e))?,
    };
    let warnings = rampart_core::suppress::apply(&mut findings, &config.suppress, now.date_naive());
    let mut run = Run::new(
        snapshot,
        &findings,
        source,
        &now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    );
    run.fail_on = fail_on;
    run.warnings = warnings;
    if let Some(fw) = framework {
        run.controls = rampart_core::select(fw)
            .map_err(|e| anyhow::anyhow!(e))?
            .len();
        run.framework = Some(fw.to_string());
    }
    Ok(Evaluated { run, findings })
}

/// `--format`, or the default: a table on a terminal, JSON otherwise.
pub fn format(g: &Global) -> anyhow::Result<Format> {
    match g.format.as_deref() {
        Some(f) => f.parse().map_err(|e: String| anyhow::anyhow!(e)),
        None if output::to_terminal(g) => Ok(Format::Table),
        None => Ok(Format::Json),
    }
}

/// Colour only on a terminal and when NO_COLOR is unset or empty (https://no-color.org).
pub fn color(g: &Global) -> bool {
    output::to_terminal(g) && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub fn run(g: &Global, a: &AuditArgs) -> anyhow::Result<Exit> {
    let format = format(g)?;
    check_framework(a.framework.as_deref())?;
    let config = AuditConfig::load(&g.config)?;
    // Opened before the (slow) collection: an unreachable store stops the run at once.
    let mut store = crate::cmd::store::for_recording(g)?;
    let started_at = crate::cmd::store::now();
    let (snapshot, source) = match &a.snapshot {
        Some(path) => (
            Snapshot::load(path)?,
            format!("snapshot:{}", path.display()),
        ),
        None => (
            crate::cmd::collect::collect_live(g, &a.collect)?,
            "live".to_string(),
        ),
    };
    let mut ev = evaluate(
        &snapshot,
        &config,
        &source,
        a.fail_on,
        a.framework.as_deref(),
    )?;
    if let Some(store) = store.as_ref() {
        crate::cmd::store::apply_acceptances(store, &mut ev)?;
    }
    for w in &ev.run.warnings {
        output::note(g, format!("rampart: warning: {w}"));
    }
    let text = rampart_report::render(
        format,
        &ev.run,
        &ev.findings,
        Options {
            color: color(g),
            show_all: a.all,
        },
    );
    output::emit(g, &text)?;
    if format != Format::Table {
        output::note(g, rampart_report::summary_line(&ev.run, false).trim_end());
    }
    if let Some(store) = store.as_mut() {
        let run = crate::cmd::store::audit_run(&snapshot, &ev.run, started_at);
        let id = store
            .record_audit(&run, &ev.findings)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        crate::cmd::store::note_recorded(g, store, "audit", id);
    }
    if ev.run.gating(&ev.findings) > 0 {
        return Ok(Exit::Findings);
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rampart.toml");
        std::fs::write(&p, text).unwrap();
        (dir, p)
    }

    #[test]
    fn config_reads_audit_and_suppressions_and_ignores_other_sections() {
        let (_d, p) = write(
            r#"
[baseline]
whatever = true

[audit]
allowed_regions = ["us-east-1"]
audit_account = "333333333333"
break_glass_users = ["emergency"]
access_key_max_age_days = 60

[[suppress]]
control = "cis-2.2.1"
account = "400000000000"
reason = "legacy"
expires = "2099-01-01"
"#,
        );
        let c = AuditConfig::load(&p).unwrap();
        assert_eq!(c.settings().allowed_regions, vec!["us-east-1"]);
        assert_eq!(c.settings().break_glass_users, vec!["emergency"]);
        assert_eq!(c.settings().access_key_max_age_days, Some(60));
        assert_eq!(c.settings().credential_unused_days, None);
        assert_eq!(c.suppress.len(), 1);
        assert_eq!(c.suppress[0].reason, "legacy");
    }

    #[test]
    fn config_errors_name_file_line_and_column() {
        let (_d, p) = write("[audit]\nallowed_regions = [\"us-east-1\"]\nlog_retention = 5\n");
        let e = AuditConfig::load(&p).unwrap_err().to_string();
        assert!(e.contains("rampart.toml:3:1:"), "{e}");
        assert!(e.contains("log_retention"), "{e}");
        let missing = AuditConfig::load(Path::new("/nonexistent/rampart.toml")).unwrap();
        assert!(missing.suppress.is_empty());
    }

    #[test]
    fn fail_on_counts_only_open_problems_at_or_above() {
        let mut s = rampart_core::sample::compliant_org(2, &["us-east-1"]);
        s.accounts[3].regions[0].ebs_encryption_by_default = false; // MEDIUM
        let mut c = AuditConfig::default();
        let ev = evaluate(&s, &c, "test", Some(Severity::Medium), None).unwrap();
        assert_eq!(ev.run.gating(&ev.findings), 1);
        let ev = evaluate(&s, &c, "test", Some(Severity::High), None).unwrap();
        assert_eq!(ev.run.gating(&ev.findings), 0);
        c.suppress.push(Suppression {
            control: Some("cis-2.2.1".into()),
            reason: "accepted".into(),
            ..Suppression::default()
        });
        let ev = evaluate(&s, &c, "test", Some(Severity::Medium), None).unwrap();
        assert_eq!(ev.run.gating(&ev.findings), 0);
        assert!(
            ev.findings.iter().any(|f| f.suppressed.is_some()),
            "suppressed, not dropped"
        );
    }

    /// `--framework cis-aws-5.0`: only the controls v5.0 maps, the v5.0 requirement on each
    /// finding, suppressions by control id still apply; an unknown framework is one clear error.
    #[test]
    fn framework_selects_and_reports_by_it() {
        let mut s = rampart_core::sample::compliant_org(2, &["us-east-1"]);
        s.accounts[3].regions[0].ebs_encryption_by_default = false;
        let c = AuditConfig::default();
        let ev = evaluate(&s, &c, "test", Some(Severity::Medium), Some("cis-aws-5.0")).unwrap();
        assert_eq!(ev.run.framework.as_deref(), Some("cis-aws-5.0"));
        assert!(ev.run.controls < rampart_core::catalogue().len());
        assert!(!ev.findings.iter().any(|f| f.control.starts_with("base-")));
        let ebs: Vec<_> = ev.findings.iter().filter(|f| f.is_open_problem()).collect();
        assert_eq!(ebs.len(), 1);
        assert_eq!(ebs[0].requirement.as_deref(), Some("cis-aws-5.0:5.1.1"));
        assert_eq!(ev.run.gating(&ev.findings), 1);
        let e = check_framework(Some("cis-5.0")).unwrap_err().to_string();
        assert!(
            e.starts_with("unknown framework `cis-5.0`; use one of: cis-aws-3.0, cis-aws-5.0"),
            "{e}"
        );
        assert!(!e.contains('\n'));
    }
}
