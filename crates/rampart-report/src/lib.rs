//! Renderers for audit findings. Each format lives in its own module and takes the same input: a
//! [`Run`] (what was audited, when, with what result) and the findings. Renderers are pure
//! functions returning text, so the CLI decides where it goes.

use rampart_core::{Finding, Severity, Status, Summary};
use serde::Serialize;

mod asff;
pub mod catalogue;
mod csv;
pub mod history;
mod html;
mod markdown;
mod ocsf;
mod sarif;
mod table;
pub mod weekly;
pub use sarif::{Located, Unreadable, render_located};
pub use table::summary_line;

/// Output formats `rampart audit --format` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Ocsf,
    Asff,
    Sarif,
    Csv,
    Html,
    Markdown,
}

impl Format {
    pub const NAMES: &'static str = "table, json, ocsf, asff, sarif, csv, html, markdown";
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "table" => Format::Table,
            "json" => Format::Json,
            "ocsf" => Format::Ocsf,
            "asff" => Format::Asff,
            "sarif" => Format::Sarif,
            "csv" => Format::Csv,
            "html" => Format::Html,
            "markdown" | "md" => Format::Markdown,
            other => {
                return Err(format!(
                    "unknown format `{other}`: use one of {}",
                    Format::NAMES
                ));
            }
        })
    }
}

/// What was audited. Serialized as the `run` object of the JSON output.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub tool: String,
    pub version: String,
    /// When the evaluation ran (RFC 3339 UTC).
    pub evaluated_at: String,
    /// When the snapshot was collected.
    pub snapshot_generated_at: String,
    /// `live`, `snapshot:<path>` or `demo`.
    pub source: String,
    pub organization_id: Option<String>,
    pub management_account_id: Option<String>,
    pub accounts: usize,
    /// Account id → name (from Organizations or the account alias).
    pub account_names: std::collections::BTreeMap<String, String>,
    pub regions: Vec<String>,
    pub controls: usize,
    /// The framework the run reports by (`rampart audit --framework`); absent for a full run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    /// Severity at or above which unsuppressed FAIL/ERROR findings fail the run.
    pub fail_on: Option<Severity>,
    pub summary: Summary,
    /// Warnings raised while evaluating (e.g. expired suppressions).
    pub warnings: Vec<String>,
}

impl Run {
    pub fn new(
        snapshot: &rampart_snapshot::Snapshot,
        findings: &[Finding],
        source: &str,
        evaluated_at: &str,
    ) -> Run {
        let mut regions: Vec<String> = snapshot
            .accounts
            .iter()
            .flat_map(|a| a.regions.iter().map(|r| r.region.clone()))
            .collect();
        regions.sort();
        regions.dedup();
        Run {
            tool: "rampart".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            evaluated_at: evaluated_at.into(),
            snapshot_generated_at: snapshot.generated_at.clone(),
            source: source.into(),
            organization_id: snapshot.organization.as_ref().map(|o| o.id.clone()),
            management_account_id: snapshot
                .organization
                .as_ref()
                .map(|o| o.management_account_id.clone()),
            accounts: snapshot.accounts.len(),
            account_names: snapshot
                .accounts
                .iter()
                .filter(|a| !a.name.is_empty())
                .map(|a| (a.account_id.clone(), a.name.clone()))
                .collect(),
            regions,
            controls: rampart_core::catalogue().len(),
            framework: None,
            fail_on: None,
            summary: Summary::of(findings),
            warnings: Vec::new(),
        }
    }

    /// Unsuppressed FAIL/ERROR findings at or above `fail_on`.
    pub fn gating(&self, findings: &[Finding]) -> usize {
        match self.fail_on {
            None => 0,
            Some(s) => findings
                .iter()
                .filter(|f| f.is_open_problem() && f.severity >= s)
                .count(),
        }
    }
}

/// Rendering choices that only matter to some formats.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// ANSI colours in the table (off when NO_COLOR is set or output is not a terminal).
    pub color: bool,
    /// Include PASS/NOT_APPLICABLE/MANUAL rows in the table and Markdown.
    pub show_all: bool,
}

pub fn render(format: Format, run: &Run, findings: &[Finding], opts: Options) -> String {
    match format {
        Format::Table => table::render(run, findings, opts),
        Format::Json => {
            let doc = serde_json::json!({ "run": run, "findings": findings });
            let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
            s.push('\n');
            s
        }
        Format::Ocsf => ocsf::render(run, findings),
        Format::Asff => asff::render(run, findings),
        Format::Sarif => sarif::render(run, findings),
        Format::Csv => csv::render(findings),
        Format::Html => html::render(run, findings),
        Format::Markdown => markdown::render(run, findings, opts),
    }
}

/// The word shown for a finding's state: its status, or SUPPRESSED.
pub fn shown_status(f: &Finding) -> &'static str {
    if f.suppressed.is_some() {
        "SUPPRESSED"
    } else {
        f.status.as_str()
    }
}

/// How a finding's control is named: its id, preceded by the requirement it answers when the
/// run reports by a framework (`cis-aws-5.0:5.1.1 (cis-2.2.1)`).
pub fn control_label(f: &Finding) -> std::borrow::Cow<'_, str> {
    match &f.requirement {
        Some(r) => std::borrow::Cow::Owned(format!("{r} ({})", f.control)),
        None => std::borrow::Cow::Borrowed(&f.control),
    }
}

/// Findings that need attention first: open problems by severity, then suppressed ones. Within a
/// severity, a run that reports by a framework keeps the framework's order (the order
/// `evaluate_framework` returns); otherwise control, account, region and resource decide.
pub(crate) fn problems(findings: &[Finding]) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Error))
        .collect();
    if by_framework(findings) {
        // A stable sort: ties keep the framework's order.
        v.sort_by_key(|f| (f.suppressed.is_some(), std::cmp::Reverse(f.severity)));
    } else {
        v.sort_by(|a, b| {
            (
                a.suppressed.is_some(),
                std::cmp::Reverse(a.severity),
                &a.control,
                &a.account_id,
                &a.region,
                &a.resource,
            )
                .cmp(&(
                    b.suppressed.is_some(),
                    std::cmp::Reverse(b.severity),
                    &b.control,
                    &b.account_id,
                    &b.region,
                    &b.resource,
                ))
        });
    }
    v
}

/// True when the findings come from a run that reports by a framework (`--framework`).
pub(crate) fn by_framework(findings: &[Finding]) -> bool {
    findings.first().is_some_and(|f| f.requirement.is_some())
}

/// The region to file a global finding under in formats that need a real region.
pub(crate) fn real_region<'a>(f: &'a Finding, run: &'a Run) -> &'a str {
    if f.region == "global" {
        run.regions
            .first()
            .map(String::as_str)
            .unwrap_or("us-east-1")
    } else {
        &f.region
    }
}

#[cfg(test)]
pub(crate) mod testdata {
    use super::*;
    use rampart_core::sample;

    /// A small audited organization with a few failures, one error and one suppression.
    pub fn run_and_findings() -> (Run, Vec<Finding>) {
        let mut s = sample::compliant_org(2, &["us-east-1", "eu-west-1"]);
        s.accounts[3].regions[0].ebs_encryption_by_default = false;
        s.accounts[3].iam.credential_report[0].access_key_1_active = true;
        s.accounts[4].regions[1].rds_instances[0].storage_encrypted = false;
        let id = s.accounts[4].account_id.clone();
        s.accounts[4]
            .errors
            .push(rampart_snapshot::CollectionError {
                account_id: id,
                api: "iam:GetAccountPasswordPolicy".into(),
                code: "AccessDenied".into(),
                message: "not authorized <script>".into(),
                ..Default::default()
            });
        let mut f = rampart_core::evaluate(&s, &rampart_core::AuditSettings::default());
        let rules = vec![rampart_core::suppress::Suppression {
            control: Some("cis-2.3.1".into()),
            reason: "migration \"Q1\", ticket <SEC-1>".into(),
            expires: Some("2099-01-01".into()),
            ..Default::default()
        }];
        rampart_core::suppress::apply(&mut f, &rules, chrono_today());
        let mut run = Run::new(&s, &f, "test", "2026-11-01T00:00:00Z");
        run.fail_on = Some(Severity::High);
        (run, f)
    }

    fn chrono_today() -> rampart_core::NaiveDate {
        rampart_core::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse() {
        assert_eq!("SARIF".parse::<Format>(), Ok(Format::Sarif));
        assert!("xml".parse::<Format>().unwrap_err().contains("table, json"));
    }

    #[test]
    fn json_has_run_and_findings() {
        let (run, f) = testdata::run_and_findings();
        let v: serde_json::Value =
            serde_json::from_str(&render(Format::Json, &run, &f, Options::default())).unwrap();
        assert_eq!(v["findings"].as_array().unwrap().len(), f.len());
        assert_eq!(v["run"]["accounts"], 5);
        let x = &v["findings"][0];
        for k in [
            "id",
            "control",
            "title",
            "frameworks",
            "status",
            "severity",
            "account_id",
            "region",
            "resource",
            "message",
            "remediation",
        ] {
            assert!(!x[k].is_null(), "{k}");
        }
        assert!(
            v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["suppressed"]["reason"].is_string())
        );
        assert_eq!(
            run.gating(&f),
            2,
            "only the root key (cis-1.4, critical; base-member-root-credentials, high): the ERRORs on 1.8/1.9 are medium, RDS is suppressed"
        );
    }
}
