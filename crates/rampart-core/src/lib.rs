//! Controls catalogue, organization-aware evaluation of a snapshot, and findings.
//!
//! Data flow: a [`rampart_snapshot::Snapshot`] goes in, [`evaluate`] runs every control of the
//! [`catalogue`] over every account (and region, for regional controls), and [`Finding`]s come
//! out. Controls are pure functions of the snapshot, so a saved snapshot gives exactly the
//! findings of the live run.
//!
//! Each control is defined once, in `src/controls/<family>.rs`, with its id, title, severity,
//! rationale, remediation, framework mappings, the APIs it needs, the check, and its tests beside
//! it. The catalogue (`rampart controls`) is generated from those definitions.
//!
//! Never a PASS that was not observed: before a control runs in an account or region, every API
//! it depends on is looked up in the snapshot's collection errors; a failed read yields ERROR
//! naming the API and error code.

mod context;
pub mod controls;
mod finding;
pub mod proof;
pub mod sample;
pub mod suppress;

pub use chrono::NaiveDate;
pub use context::{Ctx, OrgView};
pub use finding::{Finding, Severity, Status, Summary, Suppressed};

use rampart_snapshot::Snapshot;

/// Where a control runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Once per account (IAM, S3, account settings). Findings carry region `global`.
    Account,
    /// Once per account and examined region.
    Region,
    /// Once per organization (reported on the management account, or the caller's account).
    Organization,
}

/// One control: everything a user needs to know about it, and the check itself.
pub struct Control {
    /// Stable id, e.g. `cis-1.4` (CIS v3.0 number), `cis5-5.1.2` (a requirement only CIS v5.0
    /// has) or `base-org-trail`.
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub scope: Scope,
    /// Why it matters.
    pub rationale: &'static str,
    /// How to fix it in the console.
    pub remediation_console: &'static str,
    /// How to fix it with the AWS CLI.
    pub remediation_cli: &'static str,
    /// `cis-aws-3.0:<number>`, `cis-aws-5.0:<number>`, `fsbp:<id>`, `rampart-baseline:<name>`.
    pub frameworks: &'static [&'static str],
    /// `service:Operation` prefixes the check reads; a collection error on any of them gives ERROR.
    pub apis: &'static [&'static str],
    /// The check. Manual controls have none and always report MANUAL.
    pub check: Option<fn(&Ctx, &mut Vec<Outcome>)>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control").field("id", &self.id).finish()
    }
}

/// What a check reports for one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: Status,
    pub resource: String,
    pub message: String,
}

impl Outcome {
    pub fn pass(resource: impl Into<String>, message: impl Into<String>) -> Self {
        Outcome {
            status: Status::Pass,
            resource: resource.into(),
            message: message.into(),
        }
    }
    pub fn fail(resource: impl Into<String>, message: impl Into<String>) -> Self {
        Outcome {
            status: Status::Fail,
            resource: resource.into(),
            message: message.into(),
        }
    }
    pub fn na(resource: impl Into<String>, message: impl Into<String>) -> Self {
        Outcome {
            status: Status::NotApplicable,
            resource: resource.into(),
            message: message.into(),
        }
    }
    pub fn error(resource: impl Into<String>, message: impl Into<String>) -> Self {
        Outcome {
            status: Status::Error,
            resource: resource.into(),
            message: message.into(),
        }
    }
}

/// Every control rampart knows, in catalogue order.
pub fn catalogue() -> Vec<&'static Control> {
    controls::ALL
        .iter()
        .flat_map(|family| family.iter())
        .collect()
}

/// The frameworks the catalogue maps to (`cis-aws-3.0`, `cis-aws-5.0`, `fsbp`,
/// `rampart-baseline`): the part of each mapping before the `:`, sorted.
pub fn frameworks() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = catalogue()
        .into_iter()
        .flat_map(|c| c.frameworks.iter())
        .filter_map(|fw| fw.split_once(':').map(|(name, _)| name))
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The requirements of `framework` a control maps to, e.g. `["cis-aws-5.0:5.1.1"]`.
pub fn requirements<'c>(control: &'c Control, framework: &str) -> Vec<&'c str> {
    control
        .frameworks
        .iter()
        .copied()
        .filter(|fw| {
            fw.strip_prefix(framework)
                .is_some_and(|rest| rest.starts_with(':'))
        })
        .collect()
}

/// The controls mapped to `framework`, in the framework's own order (its requirement numbers
/// compared numerically: 1.2 < 1.10 < 2.1.1). An unknown framework is an error naming the known ones.
pub fn select(framework: &str) -> Result<Vec<&'static Control>, String> {
    let known = frameworks();
    if !known.contains(&framework) {
        return Err(format!(
            "unknown framework `{framework}`; use one of: {}",
            known.join(", ")
        ));
    }
    let mut chosen: Vec<(Vec<RequirementPart>, &'static Control)> = catalogue()
        .into_iter()
        .filter_map(|c| {
            let first = *requirements(c, framework).first()?;
            Some((requirement_order(&first[framework.len() + 1..]), c))
        })
        .collect();
    chosen.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(chosen.into_iter().map(|(_, c)| c).collect())
}

/// One dot-separated part of a requirement id: numbers compare as numbers (`EC2.13`, `5.1.1`).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum RequirementPart {
    Number(u32),
    Text(String),
}

fn requirement_order(id: &str) -> Vec<RequirementPart> {
    id.split('.')
        .map(|p| match p.parse() {
            Ok(n) => RequirementPart::Number(n),
            Err(_) => RequirementPart::Text(p.to_string()),
        })
        .collect()
}

/// Runs the controls mapped to `framework` and reports by it: findings in the framework's
/// order, each naming its requirement(s) in [`Finding::requirement`].
pub fn evaluate_framework(
    snapshot: &Snapshot,
    settings: &AuditSettings,
    framework: &str,
) -> Result<Vec<Finding>, String> {
    let org = OrgView::new(snapshot, settings);
    let mut out = Vec::new();
    for control in select(framework)? {
        let start = out.len();
        evaluate_control(control, snapshot, &org, &mut out);
        let ids = requirements(control, framework);
        let requirement: finding::Text = match ids.as_slice() {
            [one] => std::borrow::Cow::Borrowed(one),
            many => std::borrow::Cow::Owned(many.join(" ")),
        };
        for f in &mut out[start..] {
            f.requirement = Some(requirement.clone());
        }
    }
    Ok(out)
}

/// Settings that shape evaluation (from `rampart.toml`).
#[derive(Debug, Clone, Default)]
pub struct AuditSettings {
    /// Regions workloads may use; others must be denied by the region guardrail.
    pub allowed_regions: Vec<String>,
    /// Account id of the Audit (security tooling) account, if known; otherwise found by name.
    pub audit_account: Option<String>,
    /// Account id of the Log Archive account, if known; otherwise found by name.
    pub log_archive_account: Option<String>,
    /// Minimum log retention in days (default 730).
    pub log_retention_days: Option<u32>,
    /// Roles exempt from guardrails (names or ARN patterns); they must not be the only principals denied.
    pub exempt_roles: Vec<String>,
    /// "Now" for age-based checks, as RFC 3339; defaults to the snapshot's `generated_at`.
    pub now: Option<String>,
    /// IAM users allowed a console password in member accounts (break-glass), by user name.
    pub break_glass_users: Vec<String>,
    /// An active access key older than this many days fails (default 90, CIS 1.14).
    pub access_key_max_age_days: Option<u32>,
    /// A password or active access key unused for this many days fails (default 45, CIS 1.12).
    pub credential_unused_days: Option<u32>,
}

/// Runs every control of the catalogue over the snapshot.
pub fn evaluate(snapshot: &Snapshot, settings: &AuditSettings) -> Vec<Finding> {
    let org = OrgView::new(snapshot, settings);
    let mut out = Vec::new();
    for control in catalogue() {
        evaluate_control(control, snapshot, &org, &mut out);
    }
    out
}

/// Runs one control over every account (and region) of the snapshot.
pub fn evaluate_control(
    control: &Control,
    snapshot: &Snapshot,
    org: &OrgView,
    out: &mut Vec<Finding>,
) {
    if control.scope == Scope::Organization {
        let anchor = org
            .management_account
            .unwrap_or(snapshot.caller_account_id.as_str());
        let account = snapshot
            .accounts
            .iter()
            .find(|a| a.account_id == anchor)
            .or(snapshot.accounts.first());
        if let Some(account) = account {
            run_one(control, &Ctx::new(snapshot, org, account, None), out);
        }
        return;
    }
    for account in &snapshot.accounts {
        match control.scope {
            Scope::Account | Scope::Organization => {
                let ctx = Ctx::new(snapshot, org, account, None);
                run_one(control, &ctx, out);
            }
            // An account that could not be entered has no regions; one ERROR per control
            // says so instead of the control silently having nothing to judge.
            Scope::Region if account.regions.is_empty() && account_unreachable(account) => {
                run_one(control, &Ctx::new(snapshot, org, account, None), out);
            }
            Scope::Region => {
                for region in &account.regions {
                    let ctx = Ctx::new(snapshot, org, account, Some(region));
                    run_one(control, &ctx, out);
                }
            }
        }
    }
}

/// True when collection could not enter the account at all (e.g. AssumeRole was refused).
fn account_unreachable(account: &rampart_snapshot::AccountSnapshot) -> bool {
    account.errors.iter().any(|e| e.api == "*")
}

fn run_one(control: &Control, ctx: &Ctx, out: &mut Vec<Finding>) {
    let region = ctx.region_name();
    let Some(check) = control.check else {
        out.push(Finding::new(
            control,
            ctx.account.account_id.as_str(),
            region,
            Outcome {
                status: Status::Manual,
                resource: ctx.account_resource(),
                message: "This control needs a manual review; rampart cannot observe it.".into(),
            },
        ));
        return;
    };
    if let Some(err) = control
        .apis
        .iter()
        .find_map(|api| ctx.collection_error(api))
    {
        let message = if err.api == "*" {
            // The whole account was out of reach; the error says why and what to do.
            format!("account {} was not read: {}", err.account_id, err.message)
        } else {
            format!(
                "could not read {} in account {}{}: {} ({}); grant the read permission or fix access, then re-run",
                err.api,
                err.account_id,
                err.region
                    .as_deref()
                    .map(|r| format!(" region {r}"))
                    .unwrap_or_default(),
                err.code,
                err.message
            )
        };
        out.push(Finding::new(
            control,
            ctx.account.account_id.as_str(),
            region,
            Outcome::error(ctx.account_resource(), message),
        ));
        return;
    }
    // Errors about single resources: ERROR for that resource, the check's verdict for the rest.
    let mut outcomes = Vec::new();
    let mut unreadable: Vec<&str> = Vec::new();
    for api in control.apis {
        for err in ctx.resource_errors(api) {
            let res = err.resource.as_deref().unwrap_or_default();
            if unreadable.contains(&res) {
                continue;
            }
            unreadable.push(res);
            outcomes.push(Outcome::error(
                res,
                format!(
                    "could not read {} for {res} in account {}: {} ({})",
                    err.api, err.account_id, err.code, err.message
                ),
            ));
        }
    }
    let errors_end = outcomes.len();
    check(ctx, &mut outcomes);
    if !unreadable.is_empty() {
        let mut i = 0;
        outcomes.retain(|o| {
            i += 1;
            i <= errors_end
                || !unreadable.iter().any(|r| {
                    o.resource == *r
                        || o.resource.ends_with(&format!(":{r}"))
                        || o.resource.ends_with(&format!("/{r}"))
                })
        });
    }
    for o in outcomes {
        out.push(Finding::new(
            control,
            ctx.account.account_id.as_str(),
            region,
            o,
        ));
    }
}

#[cfg(test)]
pub(crate) mod fixtures;

#[cfg(test)]
mod catalogue_tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_unique_and_documented() {
        let mut seen = HashSet::new();
        for c in catalogue() {
            assert!(seen.insert(c.id), "duplicate id {}", c.id);
            assert!(
                c.id.starts_with("cis-") || c.id.starts_with("cis5-") || c.id.starts_with("base-"),
                "{}",
                c.id
            );
            for text in [
                c.title,
                c.rationale,
                c.remediation_console,
                c.remediation_cli,
            ] {
                assert!(!text.trim().is_empty(), "{} has an empty field", c.id);
            }
            assert!(!c.frameworks.is_empty(), "{}", c.id);
            for fw in c.frameworks {
                assert!(
                    fw.starts_with("cis-aws-3.0:")
                        || fw.starts_with("cis-aws-5.0:")
                        || fw.starts_with("fsbp:")
                        || fw.starts_with("rampart-baseline:"),
                    "{}: {fw}",
                    c.id
                );
            }
            if let Some(num) = c.id.strip_prefix("cis-") {
                assert!(
                    c.frameworks
                        .contains(&format!("cis-aws-3.0:{num}").as_str()),
                    "{}",
                    c.id
                );
            }
            if let Some(num) = c.id.strip_prefix("cis5-") {
                assert!(
                    c.frameworks
                        .contains(&format!("cis-aws-5.0:{num}").as_str()),
                    "{}",
                    c.id
                );
            }
        }
    }

    /// The rows of one CIS version's table in the shared reference list:
    /// `(id, title, assessment)`. `None` when the file is not present.
    fn reference_rows(version: &str) -> Option<Vec<(String, String, String)>> {
        // `shared/` sits beside the checkout (…/work/main) or a level further up (a worktree in
        // …/work/wt/<name>): look in every ancestor so the test runs from either.
        let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let Some(text) = manifest
            .ancestors()
            .map(|dir| dir.join("shared/reference/cis_controls.md"))
            .find_map(|p| std::fs::read_to_string(p).ok())
        else {
            eprintln!("skipping: no shared/reference/cis_controls.md above {manifest:?}");
            return None;
        };
        let section = text
            .split(&format!("## CIS AWS Foundations Benchmark v{version}"))
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .unwrap_or_else(|| panic!("v{version} section"));
        let rows = section
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| Id") && !l.starts_with("|---"))
            .map(|line| {
                let cols: Vec<&str> = line.split('|').map(str::trim).collect();
                (
                    cols[1].to_string(),
                    cols[2].to_string(),
                    cols[5].to_string(),
                )
            })
            .collect();
        Some(rows)
    }

    /// The reference list (Prowler's `cis_5.0_aws.json`) numbers "Do not create access keys
    /// during initial setup…" 1.1, a second 1.1; in the benchmark it is 1.10 (between 1.9 and
    /// 1.11, where v3.0's 1.11 lands after v5.0 dropped v3.0 1.3). Corrected here.
    fn v5_id(id: &str, title: &str) -> String {
        if id == "1.1" && title.starts_with("Do not create access keys") {
            "1.10".into()
        } else {
            id.into()
        }
    }

    /// Every CIS v3.0 requirement in the shared reference list is in the catalogue; Automated ones
    /// have a check, Manual ones report MANUAL — unless CIS v5.0 made the same requirement
    /// Automated (v3.0 1.18, instance roles = v5.0 1.17), which the one control then checks.
    #[test]
    fn covers_cis_v3_reference_list() {
        let Some(rows) = reference_rows("3.0") else {
            return;
        };
        let v5_automated: Vec<String> = reference_rows("5.0")
            .unwrap()
            .into_iter()
            .filter(|(_, _, a)| a == "Automated")
            .map(|(id, title, _)| format!("cis-aws-5.0:{}", v5_id(&id, &title)))
            .collect();
        for (id, _, assessment) in &rows {
            let c = catalogue()
                .into_iter()
                .find(|c| c.id == format!("cis-{id}"))
                .unwrap_or_else(|| panic!("CIS {id} missing from the catalogue"));
            let automated_later = c
                .frameworks
                .iter()
                .any(|fw| v5_automated.iter().any(|a| a == fw));
            let expect_check = assessment == "Automated" || automated_later;
            assert_eq!(c.check.is_some(), expect_check, "CIS {id} is {assessment}");
        }
        assert_eq!(rows.len(), 62);
    }

    /// CIS v5.0, mapped by meaning (the sections were renumbered): every requirement of the
    /// reference list is mapped by some control, every Automated one by a control with a check,
    /// and every `cis-aws-5.0:<n>` in the catalogue is a real requirement.
    #[test]
    fn covers_cis_v5_reference_list() {
        let Some(rows) = reference_rows("5.0") else {
            return;
        };
        assert_eq!(rows.len(), 63);
        let mut ids = HashSet::new();
        for (id, title, assessment) in &rows {
            let id = v5_id(id, title);
            assert!(ids.insert(id.clone()), "v5.0 {id} twice in the reference");
            let fw = format!("cis-aws-5.0:{id}");
            let mapped: Vec<&Control> = catalogue()
                .into_iter()
                .filter(|c| c.frameworks.contains(&fw.as_str()))
                .collect();
            assert!(!mapped.is_empty(), "CIS v5.0 {id} ({title}) is not mapped");
            if assessment == "Automated" {
                assert!(
                    mapped.iter().any(|c| c.check.is_some()),
                    "CIS v5.0 {id} is Automated but only manual controls map it"
                );
            }
        }
        for c in catalogue() {
            for fw in c.frameworks {
                if let Some(num) = fw.strip_prefix("cis-aws-5.0:") {
                    assert!(
                        ids.contains(num),
                        "{}: {fw} is not a v5.0 requirement",
                        c.id
                    );
                }
            }
        }
    }

    /// docs/audit.md's v5.0 table is the catalogue's mapping: one row per mapping, naming the
    /// control, and no row the catalogue does not have.
    #[test]
    fn docs_v5_table_matches_the_catalogue() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/audit.md");
        let doc = std::fs::read_to_string(path).expect("docs/audit.md");
        let section = doc
            .split("### CIS AWS Foundations v5.0")
            .nth(1)
            .and_then(|s| s.split("\nSources:").next())
            .expect("v5.0 section in docs/audit.md");
        let rows: Vec<&str> = section
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| v5.0"))
            .collect();
        let mut expected = 0;
        for c in catalogue() {
            for fw in c.frameworks {
                let Some(num) = fw.strip_prefix("cis-aws-5.0:") else {
                    continue;
                };
                expected += 1;
                let row = rows
                    .iter()
                    .find(|r| r.starts_with(&format!("| {num} | ")))
                    .unwrap_or_else(|| panic!("docs/audit.md has no v5.0 row {num}"));
                assert!(
                    row.contains(&format!("`{}`", c.id)),
                    "{row} should name {}",
                    c.id
                );
            }
        }
        assert_eq!(rows.len(), expected, "rows in docs/audit.md vs mappings");
    }

    #[test]
    fn compliant_org_has_no_failures_and_ids_are_stable() {
        let s = sample::compliant_org(4, &["us-east-1", "eu-west-1"]);
        let settings = AuditSettings::default();
        let f = evaluate(&s, &settings);
        let bad: Vec<_> = f
            .iter()
            .filter(|x| matches!(x.status, Status::Fail | Status::Error))
            .map(|x| format!("{} {} {} {}", x.control, x.account_id, x.region, x.message))
            .collect();
        assert!(bad.is_empty(), "{bad:#?}");
        let again = evaluate(&s, &settings);
        assert_eq!(f, again);
        let ids: HashSet<_> = f.iter().map(|x| &x.id).collect();
        assert_eq!(ids.len(), f.len(), "finding ids are unique");
    }

    #[test]
    fn unreachable_account_is_error_everywhere_not_pass() {
        let mut s = sample::compliant_org(2, &["us-east-1"]);
        let a = s
            .accounts
            .iter_mut()
            .find(|a| a.account_id == "400000000001")
            .unwrap();
        a.errors.push(rampart_snapshot::CollectionError {
            account_id: "400000000001".into(),
            api: "*".into(),
            code: "AccessDenied".into(),
            message: "sts:AssumeRole on OrganizationAccountAccessRole denied".into(),
            ..Default::default()
        });
        let f = evaluate(&s, &AuditSettings::default());
        let mine: Vec<_> = f
            .iter()
            .filter(|x| x.account_id == "400000000001")
            .collect();
        assert!(!mine.is_empty());
        for x in mine {
            assert!(
                matches!(x.status, Status::Error | Status::Manual),
                "{} {:?}",
                x.control,
                x.status
            );
        }
    }
}

#[cfg(test)]
mod framework_tests {
    use super::*;
    use crate::fixtures::*;

    #[test]
    fn frameworks_are_the_mapping_prefixes() {
        assert_eq!(
            frameworks(),
            vec!["cis-aws-3.0", "cis-aws-5.0", "fsbp", "rampart-baseline"]
        );
        let e = select("cis-aws-9.9").unwrap_err();
        assert!(e.contains("unknown framework `cis-aws-9.9`") && e.contains("cis-aws-5.0"));
        // A prefix of a framework name is not a framework.
        assert!(select("cis-aws").is_err());
    }

    /// `cis-aws-5.0` selects the controls mapped to v5.0, in v5.0 order, and names the v5.0
    /// requirement on every finding; controls v5.0 does not have (v3.0 1.3, the baseline) stay out.
    #[test]
    fn reports_by_cis_v5_in_its_order() {
        let chosen = select("cis-aws-5.0").unwrap();
        let ids: Vec<&str> = chosen.iter().map(|c| c.id).collect();
        assert_eq!(&ids[..4], &["cis-1.1", "cis-1.2", "cis-1.4", "cis-1.5"]);
        assert!(!ids.contains(&"cis-1.3") && !ids.iter().any(|i| i.starts_with("base-")));
        let pos = |id: &str| ids.iter().position(|x| *x == id).unwrap();
        // 1.9 (v3 1.10) < 1.10 (v3 1.11) < 1.11 (v3 1.12): numeric, not text, order.
        assert!(pos("cis-1.10") < pos("cis-1.11") && pos("cis-1.11") < pos("cis-1.12"));
        // EBS encryption moved from v3.0 2.2.1 to v5.0 5.1.1: after every 4.x control.
        assert!(pos("cis-2.2.1") > pos("cis-4.16") && pos("cis-2.2.1") < pos("cis5-5.1.2"));

        let s = org();
        let f = evaluate_framework(&s, &settings(), "cis-aws-5.0").unwrap();
        assert!(f.iter().all(|x| x.requirement.is_some()));
        let ebs = f.iter().find(|x| x.control == "cis-2.2.1").unwrap();
        assert_eq!(ebs.requirement.as_deref(), Some("cis-aws-5.0:5.1.1"));
        let json = serde_json::to_string(ebs).unwrap();
        assert!(
            json.contains(r#""requirement":"cis-aws-5.0:5.1.1""#),
            "{json}"
        );
        // The verdicts are the catalogue's: same findings as a full run, restricted.
        let all = evaluate(&s, &settings());
        for x in &f {
            let same = all.iter().find(|y| y.id == x.id).unwrap();
            assert_eq!((same.status, &same.message), (x.status, &x.message));
        }
        // A plain run names no requirement.
        assert!(all.iter().all(|x| x.requirement.is_none()));
        let fsbp = evaluate_framework(&s, &settings(), "fsbp").unwrap();
        let sg = fsbp.iter().find(|x| x.control == "cis-5.2").unwrap();
        assert_eq!(sg.requirement.as_deref(), Some("fsbp:EC2.13 fsbp:EC2.14"));
    }
}

#[cfg(test)]
mod unreachable_account_tests {
    use crate::fixtures::*;
    use crate::{Scope, Status, catalogue, evaluate};
    use rampart_snapshot::CollectionError;

    /// An account whose role could not be assumed: every control that judges it gives ERROR
    /// (account- and region-scoped alike), never PASS or FAIL, and other accounts are unaffected.
    #[test]
    fn an_account_that_cannot_be_entered_is_error_everywhere() {
        let mut s = org();
        let a = acct(&mut s, WORKLOAD);
        let role = format!("arn:aws:iam::{WORKLOAD}:role/OrganizationAccountAccessRole");
        *a = rampart_snapshot::AccountSnapshot {
            account_id: WORKLOAD.into(),
            errors: vec![CollectionError {
                account_id: WORKLOAD.into(),
                api: "*".into(),
                code: "AccessDenied".into(),
                message: format!("sts:AssumeRole into {role} failed (AccessDenied: no)"),
                resource: Some(role),
                ..Default::default()
            }],
            ..Default::default()
        };
        let findings = evaluate(&s, &settings());
        let mine: Vec<_> = findings
            .iter()
            .filter(|f| f.account_id == WORKLOAD)
            .collect();
        for f in &mine {
            assert!(
                matches!(
                    f.status,
                    Status::Error | Status::Manual | Status::NotApplicable
                ),
                "{} gave {:?}: {}",
                f.control,
                f.status,
                f.message
            );
        }
        let errors = mine.iter().filter(|f| f.status == Status::Error).count();
        let judged = catalogue()
            .into_iter()
            .filter(|c| c.check.is_some() && matches!(c.scope, Scope::Account | Scope::Region))
            .count();
        assert!(
            errors * 10 >= judged * 8,
            "{errors} ERROR findings for {judged} account/region controls"
        );
        assert!(
            mine.iter()
                .any(|f| f.control == "cis-2.2.1" && f.status == Status::Error),
            "region-scoped controls report the unreachable account"
        );
        assert!(
            mine.iter()
                .find(|f| f.status == Status::Error)
                .unwrap()
                .message
                .contains("AssumeRole")
        );
        // The other accounts are judged as before.
        assert!(
            findings
                .iter()
                .any(|f| f.account_id == WORKLOAD2 && f.status == Status::Pass)
        );
    }
}
