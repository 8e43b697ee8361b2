//! Suppressions (`[[suppress]]` in `rampart.toml`): accepted risks stay visible in every report,
//! marked with their reason and expiry; they only stop counting towards `--fail-on`. An expired
//! suppression is ignored, with a warning, so accepted risks come back up for review.

use crate::Finding;
use crate::finding::Suppressed;
use chrono::NaiveDate;
use serde::Deserialize;

/// One `[[suppress]]` entry. Every field but `reason` is optional; `account`, `region` and
/// `resource` accept `*` and `?` wildcards.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    /// Control id (`cis-1.14`) or a wildcard (`cis-4.*`).
    #[serde(default)]
    pub control: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    /// Resource ARN pattern.
    #[serde(default)]
    pub resource: Option<String>,
    /// Why the risk is accepted (required: a suppression without a reason is not reviewable).
    pub reason: String,
    /// Last day the suppression applies (`YYYY-MM-DD`).
    #[serde(default)]
    pub expires: Option<String>,
}

impl Suppression {
    fn matches(&self, f: &Finding) -> bool {
        let m = |pat: &Option<String>, v: &str| pat.as_deref().is_none_or(|p| glob(p, v));
        m(&self.control, &f.control)
            && m(&self.account, &f.account_id)
            && m(&self.region, &f.region)
            && m(&self.resource, &f.resource)
    }

    fn describe(&self) -> String {
        format!(
            "control={} account={} region={} resource={}",
            self.control.as_deref().unwrap_or("*"),
            self.account.as_deref().unwrap_or("*"),
            self.region.as_deref().unwrap_or("*"),
            self.resource.as_deref().unwrap_or("*")
        )
    }
}

/// Marks matching findings as suppressed; returns warnings (expired or malformed entries, and
/// entries that matched nothing) for the caller to print.
pub fn apply(findings: &mut [Finding], rules: &[Suppression], today: NaiveDate) -> Vec<String> {
    let mut warnings = Vec::new();
    let mut live = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        match r
            .expires
            .as_deref()
            .map(|e| NaiveDate::parse_from_str(e, "%Y-%m-%d"))
        {
            Some(Err(_)) => warnings.push(format!(
                "suppression #{} ({}): expires `{}` is not a YYYY-MM-DD date; ignored",
                i + 1,
                r.describe(),
                r.expires.as_deref().unwrap_or("")
            )),
            Some(Ok(d)) if d < today => warnings.push(format!(
                "suppression #{} ({}) expired on {d}; ignored — review the risk or extend it",
                i + 1,
                r.describe()
            )),
            _ if r.reason.trim().is_empty() => warnings.push(format!(
                "suppression #{} ({}) has no reason; ignored",
                i + 1,
                r.describe()
            )),
            _ => live.push((i, r, 0usize)),
        }
    }
    for f in findings
        .iter_mut()
        .filter(|f| matches!(f.status, crate::Status::Fail | crate::Status::Error))
    {
        if let Some((_, r, n)) = live.iter_mut().find(|(_, r, _)| r.matches(f)) {
            *n += 1;
            f.suppressed = Some(Suppressed {
                reason: r.reason.clone(),
                expires: r.expires.clone(),
            });
        }
    }
    for (i, r, n) in live {
        if n == 0 {
            warnings.push(format!(
                "suppression #{} ({}) matched no finding",
                i + 1,
                r.describe()
            ));
        }
    }
    warnings
}

/// Wildcard match for suppression patterns: `*` any run, `?` any one character; case-sensitive.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || (p[pi] != b'*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use crate::{Status, evaluate};

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn suppressed_findings_stay_and_expired_rules_warn() {
        let mut s = org();
        acct(&mut s, WORKLOAD).regions[0].ebs_encryption_by_default = false;
        acct(&mut s, WORKLOAD2).regions[0].ebs_encryption_by_default = false;
        let mut f = evaluate(&s, &settings());
        let before = f.len();
        let rules = vec![
            Suppression {
                control: Some("cis-2.2.*".into()),
                account: Some(WORKLOAD.into()),
                reason: "legacy AMI pipeline, ticket SEC-12".into(),
                expires: Some("2027-01-31".into()),
                ..Suppression::default()
            },
            Suppression {
                control: Some("cis-2.2.1".into()),
                account: Some(WORKLOAD2.into()),
                reason: "old".into(),
                expires: Some("2026-01-01".into()),
                ..Suppression::default()
            },
        ];
        let warnings = apply(&mut f, &rules, day("2026-11-01"));
        assert_eq!(f.len(), before, "never dropped");
        let ebs: Vec<_> = f
            .iter()
            .filter(|x| x.control == "cis-2.2.1" && x.status == Status::Fail)
            .collect();
        assert_eq!(ebs.len(), 2);
        let w1 = ebs.iter().find(|x| x.account_id == WORKLOAD).unwrap();
        assert_eq!(
            w1.suppressed.as_ref().unwrap().reason,
            "legacy AMI pipeline, ticket SEC-12"
        );
        assert!(!w1.is_open_problem());
        assert!(
            ebs.iter()
                .find(|x| x.account_id == WORKLOAD2)
                .unwrap()
                .suppressed
                .is_none()
        );
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("expired on 2026-01-01"));
    }

    #[test]
    fn resource_glob_and_no_match_warning() {
        let mut s = org();
        acct(&mut s, WORKLOAD).regions[1].instances[0].http_tokens = None;
        let mut f = evaluate(&s, &settings());
        let rules = vec![
            Suppression {
                resource: Some("arn:aws:ec2:eu-west-1:*:instance/*".into()),
                reason: "batch fleet".into(),
                ..Suppression::default()
            },
            Suppression {
                control: Some("cis-9.9".into()),
                reason: "typo".into(),
                ..Suppression::default()
            },
        ];
        let warnings = apply(&mut f, &rules, day("2026-11-01"));
        assert!(
            f.iter()
                .any(|x| x.control == "cis-5.6" && x.suppressed.is_some())
        );
        assert!(
            f.iter()
                .all(|x| x.status != Status::Pass || x.suppressed.is_none())
        );
        assert_eq!(
            warnings,
            vec![
                "suppression #2 (control=cis-9.9 account=* region=* resource=*) matched no finding"
                    .to_string()
            ]
        );
    }
}
