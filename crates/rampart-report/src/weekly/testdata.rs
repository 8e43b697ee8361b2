//! Reports for the tests, made by a generator: twelve weeks of history, some accounts in two OUs
//! and N findings split into new, resolved and still open. Every string goes through `text`, so
//! the same report comes plain or with hostile text in every field.

use super::*;

/// What an attacker controls in a resource name, a CloudTrail principal or a message: markup,
/// both quotes, an ampersand, a table pipe, a backtick, Markdown emphasis, a link to an external
/// image and a line break.
pub(crate) const HOSTILE: &str =
    "\"<script>alert('x')</script>&|`*_[img](http://evil.example/x.png)\nnext";

/// A week's Monday, `weeks_ago` weeks before 2026-11-30.
fn monday(weeks_ago: i64) -> String {
    let d = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
        - chrono::TimeDelta::days(7 * weeks_ago);
    format!("{d}T00:00:00Z")
}

const CONTROLS: [(&str, &str, Severity); 5] = [
    ("cis-1.4", "No root access keys", Severity::Critical),
    ("cis-2.1.1", "S3 buckets deny plain HTTP", Severity::High),
    ("cis-3.1", "CloudTrail in every region", Severity::High),
    ("cis-5.2", "No SSH from 0.0.0.0/0", Severity::Medium),
    ("base-tags", "Owner tag on resources", Severity::Low),
];

/// A full report with `findings` findings; `text` decorates every string field.
pub(crate) fn report_with(findings: usize, text: &dyn Fn(&str) -> String) -> WeeklyReport {
    let mut r = WeeklyReport::new(
        &text("2026-11-30T06:00:00Z"),
        &text(&monday(1)),
        &text(&monday(0)),
    );
    r.organization_id = Some(text("o-abc123"));
    r.score = Some(84.5);
    r.score_change = Some(-1.25);
    r.last_audit = Some(text("2026-11-29T23:00:00Z"));
    r.trend = (0..TREND_WEEKS)
        .map(|i| {
            let weeks_ago = (TREND_WEEKS - 1 - i) as i64;
            let audited = i != 4 && i != 5;
            TrendPoint {
                week_start: text(&monday(weeks_ago)),
                score: audited.then_some(70.0 + 1.5 * i as f64),
                pass: if audited { 200 + i as u64 } else { 0 },
                fail: if audited { 40 - i as u64 } else { 0 },
            }
        })
        .collect();
    let accounts = [
        ("111111111111", "prod-a", "Root/Workloads/Prod"),
        ("222222222222", "prod-b", "Root/Workloads/Prod"),
        ("333333333333", "dev-a", "Root/Workloads/Dev"),
        ("444444444444", "security", "Root/Security"),
    ];
    let spark = |base: f64| -> Vec<Option<f64>> {
        (0..TREND_WEEKS)
            .map(|i| (i != 4).then_some(base + i as f64))
            .collect()
    };
    r.by_ou = ["Root/Workloads/Prod", "Root/Workloads/Dev", "Root/Security"]
        .iter()
        .enumerate()
        .map(|(i, ou)| ScoreRow {
            key: text(ou),
            name: text(ou.rsplit('/').next().unwrap()),
            ou_path: text(ou),
            score: Some(80.0 + 5.0 * i as f64),
            change: Some(i as f64 - 1.0),
            fail: 10 - i as u64,
            trend: spark(70.0 + 5.0 * i as f64),
        })
        .collect();
    r.by_account = accounts
        .iter()
        .enumerate()
        .map(|(i, (id, name, ou))| ScoreRow {
            key: text(id),
            name: text(name),
            ou_path: text(ou),
            score: Some(75.0 + 5.0 * i as f64),
            change: if i == 0 { None } else { Some(2.0) },
            fail: 8 - i as u64,
            trend: spark(60.0 + 8.0 * i as f64),
        })
        .collect();

    let items: Vec<FindingItem> = (0..findings)
        .map(|i| {
            let (control, title, severity) = CONTROLS[i % CONTROLS.len()];
            let (acct, name, ou) = accounts[(i / 2) % accounts.len()];
            FindingItem {
                finding_id: text(&format!("f{i:04}")),
                control: text(control),
                title: text(title),
                severity,
                account_id: text(acct),
                account_name: text(name),
                ou_path: text(ou),
                region: text(if i % 3 == 0 { "global" } else { "eu-west-1" }),
                resource: text(&format!("arn:aws:s3:::bucket-{i}")),
                message: text(&format!("message {i}")),
                age_days: (i as u64 * 7) % 60,
                opened_at: Some(text("2026-10-01T00:00:00Z")),
            }
        })
        .collect();
    for (i, f) in items.into_iter().enumerate() {
        match i % 3 {
            0 => r.new_failures.push(f),
            1 => r.resolved.push(f),
            _ => r.still_open.push(f),
        }
    }
    let open: Vec<FindingItem> = r
        .new_failures
        .iter()
        .chain(&r.still_open)
        .cloned()
        .collect();
    r.counts = Counts {
        new: r.new_failures.len() as u64,
        resolved: r.resolved.len() as u64,
        still_open: r.still_open.len() as u64,
        open_by_severity: severity_counts(open.iter().map(|f| f.severity)),
    };
    r.mttr = mttr_by_severity(r.resolved.iter().map(|f| (f.severity, f.age_days as f64)));
    r.top_risks = rank_risks(
        &open,
        |c| {
            Some(text(&format!(
                "Console: fix {c} in the console\naws fix-{c} --all"
            )))
        },
        10,
    );
    r.expiring = [-2i64, 3, 12]
        .iter()
        .enumerate()
        .map(|(i, left)| ExpiringAcceptance {
            finding_id: text(&format!("f-acc-{i}")),
            control: text("cis-2.1.1"),
            account_id: text(accounts[i].0),
            resource: text(&format!("arn:aws:s3:::accepted-{i}")),
            reason: text(&format!("vendor bucket {i}")),
            who: text(&format!("alice-{i}@example.com")),
            expires: text(&format!("2026-12-{:02}", 1 + i * 5)),
            days_left: *left,
        })
        .collect();
    r.alerts = AlertSummary {
        total: 42,
        by_rule: vec![
            RuleCount {
                rule_id: text("root-login"),
                title: text("Root user signed in"),
                severity: Severity::Critical,
                count: 2,
            },
            RuleCount {
                rule_id: text("sg-open"),
                title: text("Security group opened to the world"),
                severity: Severity::High,
                count: 10,
            },
            RuleCount {
                rule_id: text("console-no-mfa"),
                title: text("Console sign-in without MFA"),
                severity: Severity::Medium,
                count: 30,
            },
        ],
        by_severity: vec![
            SeverityCount {
                severity: Severity::Critical,
                count: 2,
            },
            SeverityCount {
                severity: Severity::High,
                count: 10,
            },
            SeverityCount {
                severity: Severity::Medium,
                count: 30,
            },
        ],
        by_account: vec![
            KeyCount {
                key: text("111111111111"),
                count: 30,
            },
            KeyCount {
                key: text("333333333333"),
                count: 12,
            },
        ],
        noisiest_principals: vec![
            KeyCount {
                key: text("arn:aws:iam::111111111111:user/deploy-bot"),
                count: 25,
            },
            KeyCount {
                key: text("arn:aws:sts::333333333333:assumed-role/Admin/bob"),
                count: 9,
            },
        ],
    };
    r.drift = DriftSummary {
        checks: 7,
        found: 3,
        pending_now: 1,
        repaired: 2,
        items: vec![
            DriftItem {
                account: text("111111111111"),
                region: Some(text("eu-west-1")),
                description: text("EBS default encryption turned off"),
                destructive: false,
            },
            DriftItem {
                account: text("222222222222"),
                region: None,
                description: text("extra IAM policy attached to the break-glass role"),
                destructive: true,
            },
        ],
    };
    r.applied = vec![AppliedChange {
        time: text("2026-11-26T10:15:00Z"),
        account: text("111111111111"),
        region: Some(text("eu-west-1")),
        api: text("ec2:EnableEbsEncryptionByDefault"),
        change_id: text("ebs-default-encryption"),
        outcome: text("applied"),
    }];
    r.notes = vec![text("2 of the last 12 weeks had no audit")];
    r
}

pub(crate) fn report(findings: usize) -> WeeklyReport {
    report_with(findings, &|s| s.to_string())
}

/// Every string field ends with [`HOSTILE`].
pub(crate) fn hostile(findings: usize) -> WeeklyReport {
    report_with(findings, &|s| format!("{s}{HOSTILE}"))
}

/// A store with no runs at all: what the builder returns on day one.
pub(crate) fn empty() -> WeeklyReport {
    let mut r = WeeklyReport::new(
        "2026-11-30T06:00:00Z",
        "2026-11-23T00:00:00Z",
        "2026-11-30T00:00:00Z",
    );
    r.trend = (0..TREND_WEEKS)
        .map(|i| TrendPoint {
            week_start: monday((TREND_WEEKS - 1 - i) as i64),
            score: None,
            pass: 0,
            fail: 0,
        })
        .collect();
    r.notes = vec!["no audit recorded in the period".into()];
    r
}
