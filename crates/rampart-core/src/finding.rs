//! Findings: one verdict of one control on one resource.

use crate::{Control, Outcome};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// Text shared by every finding of a control: borrowed from the definition, not copied per finding
/// (a 1,000-account run has hundreds of thousands of findings).
pub type Text = Cow<'static, str>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Pass,
    Fail,
    Error,
    NotApplicable,
    Manual,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Error => "ERROR",
            Status::NotApplicable => "NOT_APPLICABLE",
            Status::Manual => "MANUAL",
        }
    }
}

/// Ordered from least to most severe, so `>=` compares with `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "INFORMATIONAL",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" | "informational" => Ok(Severity::Informational),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity `{other}`: use informational, low, medium, high or critical"
            )),
        }
    }
}

/// A suppression that matched a finding: it stays in the output, marked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suppressed {
    pub reason: String,
    pub expires: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable across runs: a hash of control, account, region and resource.
    pub id: String,
    pub control: Text,
    pub title: Text,
    pub frameworks: Vec<Text>,
    pub status: Status,
    pub severity: Severity,
    pub account_id: String,
    /// A region name, or `global`.
    pub region: String,
    pub resource: String,
    pub message: String,
    pub remediation: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppressed>,
    /// The requirement(s) this finding answers in the framework the audit was asked to report by
    /// (`rampart audit --framework cis-aws-5.0`), e.g. `cis-aws-5.0:5.1.1`; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement: Option<Text>,
}

impl Finding {
    pub(crate) fn new(control: &Control, account: &str, region: &str, o: Outcome) -> Finding {
        Finding {
            id: finding_id(control.id, account, region, &o.resource),
            control: Cow::Borrowed(control.id),
            title: Cow::Borrowed(control.title),
            frameworks: control
                .frameworks
                .iter()
                .map(|s| Cow::Borrowed(*s))
                .collect(),
            status: o.status,
            severity: control.severity,
            account_id: account.to_string(),
            region: region.to_string(),
            resource: o.resource,
            message: o.message,
            remediation: Cow::Borrowed(remediation_text(control)),
            suppressed: None,
            requirement: None,
        }
    }

    /// A FAIL or ERROR that is not suppressed: what `--fail-on` counts.
    pub fn is_open_problem(&self) -> bool {
        matches!(self.status, Status::Fail | Status::Error) && self.suppressed.is_none()
    }
}

/// `console\nCLI: cli`, built once per control for the life of the process.
fn remediation_text(control: &Control) -> &'static str {
    static TEXTS: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        crate::catalogue()
            .into_iter()
            .map(|c| {
                let text: &'static str = Box::leak(
                    format!("{}\nCLI: {}", c.remediation_console, c.remediation_cli)
                        .into_boxed_str(),
                );
                (c.id, text)
            })
            .collect()
    });
    texts
        .get(control.id)
        .copied()
        .unwrap_or(control.remediation_console)
}

/// FNV-1a 64: stable across Rust versions and platforms, unlike `DefaultHasher`.
fn finding_id(control: &str, account: &str, region: &str, resource: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [control, account, region, resource] {
        for b in part.bytes().chain(std::iter::once(0u8)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("rf-{h:016x}")
}

/// Counts per status, overall and per account and per control.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub total: usize,
    pub by_status: BTreeMap<String, usize>,
    pub suppressed: usize,
    pub by_account: BTreeMap<String, BTreeMap<String, usize>>,
    pub by_control: BTreeMap<String, BTreeMap<String, usize>>,
}

impl Summary {
    pub fn of(findings: &[Finding]) -> Summary {
        let mut s = Summary {
            total: findings.len(),
            ..Summary::default()
        };
        for f in findings {
            let st = if f.suppressed.is_some() {
                s.suppressed += 1;
                "SUPPRESSED"
            } else {
                f.status.as_str()
            };
            *s.by_status.entry(st.to_string()).or_default() += 1;
            *s.by_account
                .entry(f.account_id.clone())
                .or_default()
                .entry(st.to_string())
                .or_default() += 1;
            *s.by_control
                .entry(f.control.to_string())
                .or_default()
                .entry(st.to_string())
                .or_default() += 1;
        }
        s
    }

    pub fn count(&self, status: &str) -> usize {
        self.by_status.get(status).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = finding_id("cis-1.4", "111111111111", "global", "root");
        assert_eq!(a, finding_id("cis-1.4", "111111111111", "global", "root"));
        assert_ne!(a, finding_id("cis-1.4", "111111111112", "global", "root"));
        // Field boundaries matter: ("ab","c") differs from ("a","bc").
        assert_ne!(finding_id("ab", "c", "", ""), finding_id("a", "bc", "", ""));
    }

    #[test]
    fn severity_orders_and_parses() {
        assert!(Severity::Critical > Severity::High);
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert!("urgent".parse::<Severity>().is_err());
    }
}
