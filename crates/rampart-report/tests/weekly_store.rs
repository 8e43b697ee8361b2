//! The weekly report built from a real store (SQLite and PostgreSQL) over a generated 12-week
//! history: every section present, and the numbers reconcile with `diff`, the runs and the
//! recorded alerts.

use chrono::{DateTime, Duration, Utc};
use rampart_core::sample::compliant_org;
use rampart_report::weekly::{self, WeeklyFormat};
use rampart_snapshot::Snapshot;
use rampart_store::testing::on_both;
use rampart_store::{
    Acceptance, AlertRow, ApplyEntry, ApplyRun, AuditRun, ChangeRow, DetectRun, DiffClass,
    ObservedAccount, PlanRun, RunKind, Store,
};
use std::collections::BTreeSet;

const WEEKS: i64 = 12;

/// Week `w` of the organization: EBS default encryption off in fewer accounts every second
/// week (a team closing gaps), and a regression in the last week (one account loses its
/// password policy).
fn snapshot(w: i64) -> Snapshot {
    let mut s = compliant_org(6, &["us-east-1", "eu-west-1"]);
    let n = s.accounts.len() as i64;
    for (i, a) in s.accounts.iter_mut().enumerate() {
        if (i as i64) > (w + 1) / 2 && (i as i64) < n {
            for r in a.regions.iter_mut() {
                r.ebs_encryption_by_default = false;
            }
        }
    }
    if w == WEEKS - 1 {
        s.accounts[1].iam.password_policy = None;
    }
    s
}

fn observed(s: &Snapshot) -> Vec<ObservedAccount> {
    let org = s.organization.as_ref().unwrap();
    s.accounts
        .iter()
        .map(|a| {
            let parent = org
                .accounts
                .iter()
                .find(|o| o.id == a.account_id)
                .map(|o| o.parent_id.clone())
                .unwrap_or_default();
            let ou = org
                .organizational_units
                .iter()
                .find(|o| o.id == parent)
                .map(|o| format!("Root/{}", o.name))
                .unwrap_or_else(|| "Root".into());
            ObservedAccount {
                account_id: a.account_id.clone(),
                name: a.name.clone(),
                ou_path: ou,
                regions: a.regions.iter().map(|r| r.region.clone()).collect(),
                unreachable: false,
            }
        })
        .collect()
}

fn alert(
    rule: &str,
    sev: rampart_core::Severity,
    account: &str,
    who: &str,
    at: DateTime<Utc>,
) -> AlertRow {
    AlertRow {
        rule_id: rule.into(),
        rule_source: "builtin".into(),
        title: format!("{rule} title"),
        severity: sev,
        account: Some(account.into()),
        region: Some("us-east-1".into()),
        principal: Some(who.into()),
        event_time: Some(at),
        event_id: Some(format!("{rule}-{}", at.timestamp())),
        resource: None,
        count: 2,
        json: "{}".into(),
    }
}

/// Records the twelve weeks; returns `now` (an hour after the last audit).
fn record_history(store: &mut Store) -> DateTime<Utc> {
    let now = DateTime::from_timestamp(1_796_000_000, 0).unwrap();
    for w in 0..WEEKS {
        let at = now - Duration::weeks(WEEKS - 1 - w) - Duration::hours(1);
        let s = snapshot(w);
        let findings = rampart_core::evaluate(&s, &Default::default());
        let run = AuditRun {
            started_at: at,
            finished_at: at + Duration::seconds(30),
            source: "test".into(),
            organization_id: Some("o-rampart0001".into()),
            framework: None,
            rampart_version: "test".into(),
            catalogue_version: "test".into(),
            accounts: observed(&s),
            collection_errors: vec![],
            controls: rampart_core::catalogue()
                .iter()
                .map(|c| c.id.to_string())
                .collect(),
        };
        store.record_audit(&run, &findings).unwrap();
        // alerts: three a week, one noisy principal
        let detect = DetectRun {
            started_at: at + Duration::minutes(5),
            finished_at: at + Duration::minutes(6),
            source: "test".into(),
            events: 100,
            skipped: 0,
            files: 1,
            rules: 50,
        };
        let acct = &s.accounts[2].account_id;
        let alerts = vec![
            alert(
                "RD-A",
                rampart_core::Severity::High,
                acct,
                "arn:aws:iam::1:user/noisy",
                at - Duration::hours(2),
            ),
            alert(
                "RD-A",
                rampart_core::Severity::High,
                acct,
                "arn:aws:iam::1:user/noisy",
                at - Duration::hours(3),
            ),
            alert(
                "RD-B",
                rampart_core::Severity::Low,
                acct,
                "arn:aws:iam::1:user/quiet",
                at - Duration::hours(4),
            ),
        ];
        store.record_detect(&detect, &alerts).unwrap();
        let drift = PlanRun {
            kind: RunKind::Drift,
            started_at: at + Duration::minutes(10),
            finished_at: at + Duration::minutes(11),
            organization_id: None,
            unobserved: vec![],
        };
        let changes: Vec<ChangeRow> = (0..(WEEKS - w) as usize)
            .map(|i| ChangeRow {
                change_id: format!("ebs:{i}"),
                account: s.accounts[i % s.accounts.len()].account_id.clone(),
                region: Some("us-east-1".into()),
                action: "enable_ebs_encryption".into(),
                description: format!("turn on EBS default encryption {i}"),
                destructive: false,
                json: "{}".into(),
            })
            .collect();
        store.record_plan(&drift, &changes).unwrap();
    }
    let applied_at = now - Duration::minutes(30);
    store
        .record_apply(
            &ApplyRun {
                started_at: applied_at,
                finished_at: applied_at + Duration::minutes(1),
                organization_id: None,
                complete: true,
                rounds: 1,
                calls: 2,
                failures: 1,
            },
            &[
                ApplyEntry {
                    time: applied_at,
                    change_id: "ebs:0".into(),
                    account: "400000000000".into(),
                    region: Some("us-east-1".into()),
                    api: "ec2:EnableEbsEncryptionByDefault".into(),
                    parameters_json: "{}".into(),
                    outcome: "ok".into(),
                },
                ApplyEntry {
                    time: applied_at + Duration::seconds(1),
                    change_id: "ebs:1".into(),
                    account: "400000000001".into(),
                    region: Some("us-east-1".into()),
                    api: "ec2:EnableEbsEncryptionByDefault".into(),
                    parameters_json: "{}".into(),
                    outcome: "error: AccessDenied".into(),
                },
            ],
        )
        .unwrap();
    now
}

#[test]
fn the_weekly_report_reconciles_with_diff_runs_and_alerts() {
    on_both(|db| {
        let mut store = db.open();
        let now = record_history(&mut store);
        // an accepted risk expiring in ten days
        let open = store
            .findings()
            .unwrap()
            .into_iter()
            .find(|f| f.open)
            .expect("an open finding");
        store
            .accept(&Acceptance {
                finding_id: open.id.clone(),
                reason: "legacy, replaced next quarter".into(),
                who: "alice".into(),
                expires: Some((now + Duration::days(10)).date_naive()),
                created_at: now - Duration::days(1),
            })
            .unwrap();

        let r = weekly::build(&store, now, Duration::days(7)).unwrap();

        // The finding lists are `diff` between the last audit before the week and the last in it.
        let audits = store.runs(Some(RunKind::Audit), None, None).unwrap();
        assert_eq!(audits.len(), WEEKS as usize);
        let d = store.diff(audits[1].id, audits[0].id).unwrap();
        let ids = |class: DiffClass| -> BTreeSet<String> {
            d.items
                .iter()
                .filter(|i| i.class == class)
                .map(|i| i.finding_id.clone())
                .collect()
        };
        let got = |v: &[weekly::FindingItem]| -> BTreeSet<String> {
            v.iter().map(|f| f.finding_id.clone()).collect()
        };
        assert_eq!(got(&r.new_failures), ids(DiffClass::New));
        assert_eq!(got(&r.resolved), ids(DiffClass::Resolved));
        assert_eq!(got(&r.still_open), ids(DiffClass::StillFailing));
        assert_eq!(r.counts.new as usize, d.count(DiffClass::New));
        assert_eq!(r.counts.resolved as usize, d.count(DiffClass::Resolved));
        assert_eq!(
            r.counts.still_open as usize,
            d.count(DiffClass::StillFailing)
        );
        // the regression is new, the EBS fix of the last week resolved
        assert!(
            r.new_failures.iter().any(|f| f.control == "cis-1.8"),
            "{:?}",
            r.new_failures
        );
        assert!(r.resolved.iter().all(|f| f.control == "cis-2.2.1"));
        assert!(!r.resolved.is_empty());
        assert!(
            r.resolved
                .iter()
                .all(|f| f.age_days >= 7 * (WEEKS as u64 - 2)),
            "{:?}",
            r.resolved
        );

        // Score now and its change are the runs' own; twelve weekly points, each an audit's.
        assert_eq!(r.score, audits[0].score);
        let change = audits[0].score.unwrap() - audits[1].score.unwrap();
        assert!((r.score_change.unwrap() - change).abs() < 1e-9);
        assert_eq!(r.trend.len(), 12);
        let mut scores: Vec<Option<f64>> = audits.iter().rev().map(|a| a.score).collect();
        scores.truncate(12);
        assert_eq!(r.trend.iter().map(|p| p.score).collect::<Vec<_>>(), scores);
        assert!(
            r.trend.first().unwrap().score < r.trend[10].score,
            "it improved"
        );
        assert_eq!(r.by_account.len(), snapshot(0).accounts.len());
        assert!(r.by_account.iter().all(|a| a.trend.len() == 12));
        let fails_by_account: u64 = r.by_account.iter().map(|a| a.fail).sum();
        assert_eq!(fails_by_account, audits[0].fail);
        let fails_by_ou: u64 = r.by_ou.iter().map(|o| o.fail).sum();
        assert_eq!(fails_by_ou, audits[0].fail);

        // Alerts of the week: the last week's three alerts (count 2 each).
        assert_eq!(r.alerts.total, 6);
        assert_eq!(r.alerts.by_rule[0].rule_id, "RD-A");
        assert_eq!(r.alerts.by_rule[0].count, 4);
        assert_eq!(
            r.alerts.noisiest_principals[0].key,
            "arn:aws:iam::1:user/noisy"
        );

        // Top risks ranked, each with the control's remediation.
        assert!(!r.top_risks.is_empty());
        assert!(r.top_risks.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(r.top_risks.iter().all(|k| !k.remediation.is_empty()));
        // MTTR: the EBS findings resolved over the weeks.
        assert!(
            r.mttr.iter().any(|m| m.resolved > 0 && m.mean_days > 0.0),
            "{:?}",
            r.mttr
        );
        // The acceptance expiring in ten days.
        assert!(
            r.expiring
                .iter()
                .any(|e| e.finding_id == open.id && e.who == "alice" && e.days_left == 10),
            "{:?}",
            r.expiring
        );
        // Drift: one check in the week with its changes pending; the apply's one success.
        assert_eq!(r.drift.checks, 1);
        assert_eq!(r.drift.pending_now, 1);
        assert_eq!(r.drift.items.len(), 1);
        assert_eq!(r.drift.repaired, 1);
        assert_eq!(r.applied.len(), 2);

        // Every format renders it; the HTML has every section and the headline numbers.
        let html = weekly::render(&r, WeeklyFormat::Html);
        for id in [
            "summary",
            "trend",
            "by-ou",
            "by-account",
            "new",
            "resolved",
            "open",
            "mttr",
            "top-risks",
            "expiring",
            "alerts",
            "drift",
            "applied",
        ] {
            assert!(
                html.contains(&format!("id=\"{id}\"")),
                "section {id} missing"
            );
        }
        let md = weekly::render(&r, WeeklyFormat::Markdown);
        assert!(
            md.contains(&format!("{} new", r.counts.new)) || md.contains(&r.counts.new.to_string())
        );
        let json: serde_json::Value =
            serde_json::from_str(&weekly::render(&r, WeeklyFormat::Json)).unwrap();
        assert_eq!(json["counts"]["still_open"], r.counts.still_open);
    });
}

#[test]
fn an_empty_store_gives_a_report_that_says_so() {
    on_both(|db| {
        let store = db.open();
        let now = Utc::now();
        let r = weekly::build(&store, now, Duration::days(7)).unwrap();
        assert!(r.score.is_none());
        assert!(
            r.notes.iter().any(|n| n.contains("No audit")),
            "{:?}",
            r.notes
        );
        assert_eq!(r.trend.len(), 12);
        assert!(weekly::render(&r, WeeklyFormat::Html).contains("id=\"summary\""));
    });
}
