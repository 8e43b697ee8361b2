//! The store's tests. Every test body runs on SQLite and on PostgreSQL (a throwaway cluster,
//! see [`crate::testing`]).

use crate::lifecycle::{self, AccountScope, Observation, RunScope, State};
use crate::testing::{TestDb, on_both, postgres_db, sqlite_db};
use crate::*;
use chrono::TimeZone;
use rampart_core::{Finding, Severity, Status};
use std::collections::{BTreeMap, HashMap};

pub(crate) fn day(d: i64) -> Time {
    chrono::Utc.with_ymd_and_hms(2026, 1, 1, 6, 0, 0).unwrap() + chrono::Duration::days(d)
}

pub(crate) fn finding(
    control: &str,
    account: &str,
    region: &str,
    resource: &str,
    status: Status,
    message: &str,
) -> Finding {
    let id = format!("rf-{control}-{account}-{region}-{resource}");
    serde_json::from_value(serde_json::json!({
        "id": id,
        "control": control,
        "title": format!("title of {control}"),
        "frameworks": [],
        "status": status,
        "severity": Severity::High,
        "account_id": account,
        "region": region,
        "resource": resource,
        "message": message,
        "remediation": "fix it",
    }))
    .expect("finding JSON")
}

fn suppressed(mut f: Finding, reason: &str) -> Finding {
    f.suppressed = Some(rampart_core::Suppressed {
        reason: reason.into(),
        expires: None,
    });
    f
}

pub(crate) fn account(id: &str, regions: &[&str], unreachable: bool) -> ObservedAccount {
    ObservedAccount {
        account_id: id.into(),
        name: format!("name-{id}"),
        ou_path: format!("Root/OU-{id}"),
        regions: regions.iter().map(|r| r.to_string()).collect(),
        unreachable,
    }
}

pub(crate) fn audit(at: Time, accounts: Vec<ObservedAccount>, controls: &[&str]) -> AuditRun {
    AuditRun {
        started_at: at,
        finished_at: at + chrono::Duration::minutes(3),
        source: "test".into(),
        organization_id: Some("o-test".into()),
        framework: None,
        rampart_version: "0.1.0".into(),
        catalogue_version: "3 controls".into(),
        accounts,
        collection_errors: vec![],
        controls: controls.iter().map(|c| c.to_string()).collect(),
    }
}

const CONTROLS: &[&str] = &["c1", "c2", "c3"];

fn by_id(store: &Store) -> BTreeMap<String, FindingLife> {
    store
        .findings()
        .unwrap()
        .into_iter()
        .map(|f| (f.id.clone(), f))
        .collect()
}

#[test]
fn lifecycle_open_resolve_reopen() {
    on_both(|db| {
        let mut s = db.open();
        let acc = || vec![account("111", &["eu-west-1"], false)];
        let f = |st| finding("c1", "111", "eu-west-1", "r", st, "m");
        let r1 = s
            .record_audit(&audit(day(0), acc(), CONTROLS), &[f(Status::Pass)])
            .unwrap();
        let r2 = s
            .record_audit(&audit(day(1), acc(), CONTROLS), &[f(Status::Fail)])
            .unwrap();
        let r3 = s
            .record_audit(&audit(day(2), acc(), CONTROLS), &[f(Status::Fail)])
            .unwrap();
        let r4 = s
            .record_audit(&audit(day(3), acc(), CONTROLS), &[f(Status::Pass)])
            .unwrap();
        let r5 = s
            .record_audit(&audit(day(4), acc(), CONTROLS), &[f(Status::Fail)])
            .unwrap();
        assert!(r1 < r2 && r2 < r3 && r3 < r4 && r4 < r5);
        let all = by_id(&s);
        let life = &all["rf-c1-111-eu-west-1-r"];
        assert_eq!(life.status, LifeStatus::Fail);
        assert!(life.open);
        assert_eq!(life.first_seen, day(0));
        assert_eq!(life.last_seen, day(4));
        assert_eq!(life.opened_at, Some(day(4)));
        assert_eq!(life.resolved_at, None);
        assert_eq!(life.reopened, 1);
        let kinds: Vec<LifeEventKind> = s
            .finding_history("rf-c1-111-eu-west-1-r")
            .unwrap()
            .iter()
            .map(|e| e.kind)
            .collect();
        use LifeEventKind::*;
        assert_eq!(
            kinds,
            vec![Appeared, Opened, Resolved, Reopened],
            "one event per change"
        );
        let rem = s.remediations(day(0), day(10)).unwrap();
        assert_eq!(rem.len(), 1);
        assert_eq!((rem[0].opened_at, rem[0].resolved_at), (day(1), day(3)));
        assert_eq!(
            s.events_between(day(1), day(3)).unwrap().len(),
            1,
            "half-open"
        );
        assert_eq!(s.events_between(day(1), day(4)).unwrap().len(), 2);

        let d = s.diff(r1, r2).unwrap();
        assert_eq!(d.count(DiffClass::New), 1);
        assert_eq!(d.items[0].account_name, "name-111");
        assert_eq!(d.items[0].ou_path, "Root/OU-111");
        assert_eq!(d.items[0].opened_at, Some(day(1)));
        assert_eq!(s.diff(r2, r3).unwrap().count(DiffClass::StillFailing), 1);
        assert_eq!(s.diff(r3, r4).unwrap().count(DiffClass::Resolved), 1);
        assert!(s.diff(r1, r4).unwrap().items.is_empty());

        let runs = s.runs(Some(RunKind::Audit), None, Some(2)).unwrap();
        assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), vec![r5, r4]);
        assert_eq!(runs[1].score, Some(100.0));
        assert_eq!(runs[0].score, Some(0.0));
        assert_eq!(runs[0].scope, "1/1 accounts observed, 1 regions");
    });
}

#[test]
fn an_account_we_cannot_see_never_resolves() {
    on_both(|db| {
        let mut s = db.open();
        let f = finding("c1", "111", "eu-west-1", "r", Status::Fail, "m");
        let g = finding("c1", "222", "eu-west-1", "r", Status::Fail, "m");
        let both = |u: bool| {
            vec![
                account("111", &["eu-west-1"], u),
                account("222", &["eu-west-1"], false),
            ]
        };
        let r1 = s
            .record_audit(
                &audit(day(0), both(false), CONTROLS),
                &[f.clone(), g.clone()],
            )
            .unwrap();
        // 111 unreachable: its finding is absent but must stay open; 222's is gone → resolved.
        let r2 = s
            .record_audit(&audit(day(1), both(true), CONTROLS), &[])
            .unwrap();
        let all = by_id(&s);
        assert!(all[&f.id].open);
        assert_eq!(all[&f.id].status, LifeStatus::Fail);
        assert_eq!(all[&f.id].last_seen, day(0));
        assert!(!all[&g.id].open);
        assert_eq!(all[&g.id].status, LifeStatus::Gone);
        assert_eq!(all[&g.id].resolved_at, Some(day(1)));
        assert_eq!(all[&g.id].last_seen, day(0));
        let d = s.diff(r1, r2).unwrap();
        assert_eq!(d.count(DiffClass::NewlyUnobservable), 1);
        assert_eq!(d.count(DiffClass::Resolved), 1);
        assert_eq!(d.count(DiffClass::StillFailing), 0);

        // A region not read, a control not evaluated, an ERROR in the place: nothing happens.
        let h = finding("c2", "222", "us-east-1", "r", Status::Fail, "m");
        let k = finding("c3", "222", "eu-west-1", "r", Status::Fail, "m");
        let accs = || vec![account("222", &["eu-west-1", "us-east-1"], false)];
        s.record_audit(&audit(day(2), accs(), CONTROLS), &[h.clone(), k.clone()])
            .unwrap();
        let err = finding("c3", "222", "eu-west-1", "account", Status::Error, "denied");
        s.record_audit(
            &audit(
                day(3),
                vec![account("222", &["eu-west-1"], false)],
                &["c1", "c3"],
            ),
            std::slice::from_ref(&err),
        )
        .unwrap();
        let all = by_id(&s);
        assert!(all[&h.id].open, "region not read");
        assert!(all[&k.id].open, "ERROR in the same place");
        assert_eq!(all[&err.id].status, LifeStatus::Error);
        assert!(!all[&err.id].open);
        s.record_audit(
            &audit(
                day(4),
                vec![account("222", &["eu-west-1", "us-east-1"], false)],
                &["c1"],
            ),
            &[],
        )
        .unwrap();
        assert!(by_id(&s)[&h.id].open, "control not evaluated");
    });
}

#[test]
fn error_after_fail_stays_open_and_messages_change_in_place() {
    on_both(|db| {
        let mut s = db.open();
        let acc = || vec![account("111", &["eu-west-1"], false)];
        let f = |st, m| finding("c1", "111", "eu-west-1", "r", st, m);
        let r1 = s
            .record_audit(&audit(day(0), acc(), CONTROLS), &[f(Status::Fail, "a")])
            .unwrap();
        let r2 = s
            .record_audit(&audit(day(1), acc(), CONTROLS), &[f(Status::Error, "e")])
            .unwrap();
        s.record_audit(&audit(day(2), acc(), CONTROLS), &[f(Status::Fail, "b")])
            .unwrap();
        s.record_audit(&audit(day(3), acc(), CONTROLS), &[f(Status::Fail, "c")])
            .unwrap();
        let life = &by_id(&s)["rf-c1-111-eu-west-1-r"];
        assert!(life.open);
        assert_eq!(life.opened_at, Some(day(0)));
        assert_eq!(life.message, "c");
        assert_eq!(life.last_seen, day(3));
        let kinds: Vec<_> = s
            .finding_history(&life.id)
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        use LifeEventKind::*;
        assert_eq!(kinds, vec![Opened, Unobservable, StatusChanged]);
        assert_eq!(
            s.diff(r1, r2).unwrap().count(DiffClass::NewlyUnobservable),
            1
        );
        assert_eq!(s.counts().unwrap().get("finding_events"), 3);
    });
}

#[test]
fn suppressions_and_acceptances() {
    on_both(|db| {
        let mut s = db.open();
        let acc = || vec![account("111", &["eu-west-1"], false)];
        let f = finding("c1", "111", "eu-west-1", "r", Status::Fail, "m");
        let g = finding("c2", "111", "eu-west-1", "r", Status::Fail, "m");
        let p = finding("c3", "111", "eu-west-1", "r", Status::Pass, "m");
        let r1 = s
            .record_audit(
                &audit(day(0), acc(), CONTROLS),
                &[suppressed(f.clone(), "known"), g.clone(), p.clone()],
            )
            .unwrap();
        let run = s.run(r1).unwrap().unwrap();
        assert_eq!((run.pass, run.fail, run.suppressed), (1, 1, 1));
        assert_eq!(run.score, Some(50.0));
        s.accept(&Acceptance {
            finding_id: g.id.clone(),
            reason: "compensating control".into(),
            who: "alice".into(),
            expires: Some(day(5).date_naive()),
            created_at: day(0),
        })
        .unwrap();
        assert_eq!(s.acceptances().unwrap().len(), 1);
        let r2 = s
            .record_audit(
                &audit(day(1), acc(), CONTROLS),
                &[f.clone(), g.clone(), p.clone()],
            )
            .unwrap();
        let all = by_id(&s);
        let sup = all[&g.id].suppressed.as_ref().expect("accepted");
        assert!(sup.reason.contains("compensating control") && sup.reason.contains("alice"));
        assert_eq!(sup.expires.as_deref(), Some("2026-01-06"));
        assert!(all[&g.id].open, "a suppressed FAIL is still FAIL");
        assert!(all[&f.id].suppressed.is_none());
        let run = s.run(r2).unwrap().unwrap();
        assert_eq!((run.pass, run.fail, run.suppressed), (1, 1, 1));
        // f lost its suppression: new as an unsuppressed problem? It was open already: no.
        assert_eq!(s.diff(r1, r2).unwrap().count(DiffClass::New), 0);
        // After the expiry the acceptance no longer applies.
        s.record_audit(
            &audit(day(7), acc(), CONTROLS),
            &[f.clone(), g.clone(), p.clone()],
        )
        .unwrap();
        assert!(by_id(&s)[&g.id].suppressed.is_none());
        let kinds: Vec<_> = s
            .finding_history(&g.id)
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        use LifeEventKind::*;
        assert_eq!(kinds, vec![Opened, Suppressed, Unsuppressed]);
        let scores = s.account_scores(day(0)).unwrap();
        assert_eq!(scores.len(), 3);
        assert_eq!(scores[0].score(), Some(50.0));
        assert_eq!(scores[2].score(), Some(100.0 / 3.0));
    });
}

/// The narrow reads return exactly what filtering `findings()` would, `last_seen` included.
#[test]
fn open_suppressed_and_by_id_reads_match_findings() {
    on_both(|db| {
        let mut s = db.open();
        let acc = |regions: &[&str]| vec![account("111", regions, false)];
        let f = finding("c1", "111", "eu-west-1", "r", Status::Fail, "m");
        let g = finding("c2", "111", "eu-west-1", "r", Status::Fail, "m");
        let p = finding("c3", "111", "eu-west-1", "r", Status::Pass, "m");
        let h = finding("c1", "111", "us-east-1", "r", Status::Fail, "m");
        let fixed = Finding {
            status: Status::Pass,
            ..h.clone()
        };
        let all_regions = &["eu-west-1", "us-east-1"];
        s.record_audit(
            &audit(day(0), acc(all_regions), CONTROLS),
            &[
                suppressed(f.clone(), "known"),
                g.clone(),
                p.clone(),
                h.clone(),
            ],
        )
        .unwrap();
        s.record_audit(
            &audit(day(7), acc(all_regions), CONTROLS),
            &[suppressed(f.clone(), "known"), g.clone(), p.clone(), fixed],
        )
        .unwrap();
        // eu-west-1 only: us-east-1's last_seen stays at day 7, the others move to day 14.
        s.record_audit(
            &audit(day(14), acc(&["eu-west-1"]), CONTROLS),
            &[suppressed(f.clone(), "known"), g.clone(), p.clone()],
        )
        .unwrap();
        let all = s.findings().unwrap();
        let ids = |v: &[FindingLife]| v.iter().map(|f| f.id.clone()).collect::<Vec<_>>();

        let open = s.open_findings().unwrap();
        let expected: Vec<FindingLife> = all.iter().filter(|f| f.open).cloned().collect();
        assert_eq!(open, expected);
        assert_eq!(ids(&open), {
            let mut v = vec![f.id.clone(), g.id.clone()];
            v.sort();
            v
        });
        assert!(open.iter().all(|x| x.last_seen == day(14)));

        let sup = s.suppressed_findings().unwrap();
        assert_eq!(ids(&sup), vec![f.id.clone()]);
        assert_eq!(sup[0], all.iter().find(|x| x.id == f.id).unwrap().clone());

        let wanted = vec![
            h.id.clone(),
            "rf-unknown".to_string(),
            p.id.clone(),
            h.id.clone(),
        ];
        let got = s.findings_by_ids(&wanted).unwrap();
        let expected: Vec<FindingLife> = all
            .iter()
            .filter(|x| x.id == h.id || x.id == p.id)
            .cloned()
            .collect();
        assert_eq!(got, expected);
        let h_life = got.iter().find(|x| x.id == h.id).unwrap();
        assert_eq!(h_life.last_seen, day(7));
        assert!(!h_life.open);
        assert!(s.findings_by_ids(&[]).unwrap().is_empty());
        // More ids than one statement takes: read in chunks, still each once.
        let many: Vec<String> = (0..1200)
            .map(|i| format!("rf-none-{i}"))
            .chain([g.id.clone()])
            .collect();
        assert_eq!(ids(&s.findings_by_ids(&many).unwrap()), vec![g.id.clone()]);
    });
}

#[test]
fn detect_plan_and_apply_runs() {
    on_both(|db| {
        let mut s = db.open();
        let alert = AlertRow {
            rule_id: "root-login".into(),
            rule_source: "builtin".into(),
            title: "Root login".into(),
            severity: Severity::Critical,
            account: Some("111".into()),
            region: None,
            principal: Some("root".into()),
            event_time: Some(day(1)),
            event_id: Some("ev-1".into()),
            resource: None,
            count: 2,
            json: "{\"tab\":\"a\\tb\",\"nl\":\"x\\ny\"}\twith\ttabs\nand newlines \\ backslash"
                .into(),
        };
        let d = s
            .record_detect(
                &DetectRun {
                    started_at: day(1),
                    finished_at: day(1),
                    source: "cloudtrail".into(),
                    events: 100,
                    skipped: 1,
                    files: 3,
                    rules: 40,
                },
                &[alert.clone(), alert.clone()],
            )
            .unwrap();
        let change = ChangeRow {
            change_id: "ch-1".into(),
            account: "111".into(),
            region: Some("eu-west-1".into()),
            action: "create_trail".into(),
            description: "create the organization trail".into(),
            destructive: false,
            json: "{}".into(),
        };
        let p = s
            .record_plan(
                &PlanRun {
                    kind: RunKind::Drift,
                    started_at: day(2),
                    finished_at: day(2),
                    organization_id: None,
                    unobserved: vec!["222".into()],
                },
                std::slice::from_ref(&change),
            )
            .unwrap();
        let entry = ApplyEntry {
            time: day(3),
            change_id: "ch-1".into(),
            account: "111".into(),
            region: None,
            api: "cloudtrail:CreateTrail".into(),
            parameters_json: "{\"Name\":\"org\"}".into(),
            outcome: "ok".into(),
        };
        let a = s
            .record_apply(
                &ApplyRun {
                    started_at: day(3),
                    finished_at: day(3),
                    organization_id: None,
                    complete: true,
                    rounds: 1,
                    calls: 1,
                    failures: 0,
                },
                std::slice::from_ref(&entry),
            )
            .unwrap();
        assert_eq!(
            s.alerts(day(0), day(5)).unwrap(),
            vec![(d, alert.clone()), (d, alert.clone())]
        );
        assert_eq!(
            s.changes(RunKind::Drift, day(0), day(9)).unwrap(),
            vec![(p, change)]
        );
        assert!(s.changes(RunKind::Plan, day(0), day(9)).unwrap().is_empty());
        assert_eq!(s.apply_entries(day(0), day(9)).unwrap(), vec![(a, entry)]);
        assert!(s.alerts(day(2), day(9)).unwrap().is_empty());
        // An alert without an event time falls in the window of its run's start.
        let timeless = AlertRow {
            event_time: None,
            ..alert.clone()
        };
        let d2 = s
            .record_detect(
                &DetectRun {
                    started_at: day(5),
                    finished_at: day(5),
                    source: "cloudtrail".into(),
                    events: 1,
                    skipped: 0,
                    files: 1,
                    rules: 40,
                },
                std::slice::from_ref(&timeless),
            )
            .unwrap();
        assert_eq!(s.alerts(day(5), day(6)).unwrap(), vec![(d2, timeless)]);
        assert!(s.alerts(day(4), day(5)).unwrap().is_empty(), "half-open");
        let runs = s.runs(None, None, None).unwrap();
        assert_eq!(
            runs.iter()
                .map(|r| (r.kind, r.alerts, r.changes))
                .collect::<Vec<_>>(),
            vec![
                (RunKind::Detect, 1, 0),
                (RunKind::Apply, 0, 1),
                (RunKind::Drift, 0, 1),
                (RunKind::Detect, 2, 0)
            ]
        );
        assert_eq!(s.runs(None, Some(day(2)), None).unwrap().len(), 3);
        let err = s.diff(d, a).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("detect"), "{err}");
        assert_eq!(s.diff(99, 98).unwrap_err().kind(), ErrorKind::NotFound);
    });
}

#[test]
fn two_writers_lose_nothing() {
    on_both(|db| {
        let per_writer = 6;
        let accounts = || vec![account("111", &["eu-west-1"], false)];
        std::thread::scope(|scope| {
            for w in 0..2 {
                let url = db.url().to_string();
                scope.spawn(move || {
                    let mut s = Store::open(&url).unwrap();
                    for i in 0..per_writer {
                        let n = w * 100 + i;
                        let st = if n % 3 == 0 {
                            Status::Fail
                        } else {
                            Status::Pass
                        };
                        let fs = vec![
                            finding("c1", "111", "eu-west-1", "shared", st, "m"),
                            finding(
                                "c1",
                                "111",
                                "eu-west-1",
                                &format!("w{w}-{i}"),
                                Status::Fail,
                                "m",
                            ),
                        ];
                        s.record_audit(&audit(day(n as i64), accounts(), CONTROLS), &fs)
                            .unwrap();
                    }
                });
            }
        });
        let s = db.open();
        let runs = s.runs(Some(RunKind::Audit), None, None).unwrap();
        assert_eq!(runs.len(), 2 * per_writer as usize);
        // Replaying the runs in the order they were recorded gives the store's state.
        let mut ordered: Vec<&RunSummary> = runs.iter().collect();
        ordered.sort_by_key(|r| r.id);
        let history: Vec<(AuditRun, Vec<Finding>)> = ordered
            .iter()
            .map(|r| {
                let n = (r.started_at - day(0)).num_days();
                let (w, i) = (n / 100, n % 100);
                let st = if n % 3 == 0 {
                    Status::Fail
                } else {
                    Status::Pass
                };
                (
                    audit(r.started_at, accounts(), CONTROLS),
                    vec![
                        finding("c1", "111", "eu-west-1", "shared", st, "m"),
                        finding(
                            "c1",
                            "111",
                            "eu-west-1",
                            &format!("w{w}-{i}"),
                            Status::Fail,
                            "m",
                        ),
                    ],
                )
            })
            .collect();
        let model = replay(&history, &[]);
        assert_eq!(by_id(&s).len(), 1 + 2 * per_writer as usize);
        compare(&s, &model.states, &model.meta);
    });
}

#[test]
fn prune_keeps_the_current_state() {
    on_both(|db| {
        let mut s = db.open();
        let acc = || vec![account("111", &["eu-west-1", "us-east-1"], false)];
        let mut history = Vec::new();
        for d in 0..10i64 {
            let mut fs = vec![finding(
                "c1",
                "111",
                "eu-west-1",
                "flaky",
                if d % 2 == 0 {
                    Status::Fail
                } else {
                    Status::Pass
                },
                "m",
            )];
            if d < 3 {
                fs.push(finding(
                    "c1",
                    "111",
                    "eu-west-1",
                    "went-away",
                    Status::Fail,
                    "m",
                ));
            }
            if d >= 2 {
                fs.push(finding(
                    "c2",
                    "111",
                    "us-east-1",
                    "steady",
                    Status::Fail,
                    "m",
                ));
            }
            let run = audit(day(d), acc(), CONTROLS);
            s.record_audit(&run, &fs).unwrap();
            s.record_detect(
                &DetectRun {
                    started_at: day(d),
                    finished_at: day(d),
                    source: "x".into(),
                    events: 1,
                    skipped: 0,
                    files: 1,
                    rules: 1,
                },
                &[],
            )
            .unwrap();
            history.push((run, fs));
        }
        let before = by_id(&s);
        let last_two: Vec<RunId> = s
            .runs(Some(RunKind::Audit), None, Some(2))
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        let diff_before = s.diff(last_two[1], last_two[0]).unwrap();
        let report = s.prune(day(6)).unwrap();
        assert_eq!(report.runs, 12);
        assert_eq!(report.findings, 1, "the finding gone on day 3 is deleted");
        assert_eq!(report.findings_kept, 2);
        let line = report.to_string();
        assert!(
            line.starts_with("pruned 12 run(s) before 2026-01-07 06:00:00 UTC: "),
            "{line}"
        );
        assert!(line.ends_with("; 2 findings kept"), "{line}");
        assert!(report.events > 0);
        let after = by_id(&s);
        let mut expected = before.clone();
        expected.remove("rf-c1-111-eu-west-1-went-away");
        assert_eq!(after, expected);
        assert_eq!(s.diff(last_two[1], last_two[0]).unwrap(), diff_before);
        // Recording after a prune continues the same lifecycles.
        let mut fs = history[9].1.clone();
        fs.push(finding(
            "c1",
            "111",
            "eu-west-1",
            "went-away",
            Status::Fail,
            "m",
        ));
        s.record_audit(&audit(day(10), acc(), CONTROLS), &fs)
            .unwrap();
        history.push((audit(day(10), acc(), CONTROLS), fs));
        let model = replay(&history, &[]);
        let mut after = by_id(&s);
        let back = after.remove("rf-c1-111-eu-west-1-went-away").unwrap();
        assert_eq!(
            back.first_seen,
            day(10),
            "a pruned finding starts a new life"
        );
        for (id, life) in after {
            assert_eq!(life_state(&life), model.states[&id], "{id}");
        }
        // Nothing left to prune: a second prune deletes nothing from the findings.
        assert_eq!(s.prune(day(6)).unwrap().findings, 0);
    });
}

#[test]
fn export_writes_every_row() {
    on_both(|db| {
        let mut s = db.open();
        let acc = || vec![account("111", &["eu-west-1"], false)];
        s.record_audit(
            &audit(day(0), acc(), CONTROLS),
            &[finding(
                "c1",
                "111",
                "eu-west-1",
                "r",
                Status::Fail,
                "line\none\ttab",
            )],
        )
        .unwrap();
        let mut out = Vec::new();
        let counts = s.export_jsonl(&mut out).unwrap();
        assert_eq!(counts, s.counts().unwrap());
        let text = String::from_utf8(out).unwrap();
        let mut types: BTreeMap<String, u64> = BTreeMap::new();
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            *types
                .entry(v["type"].as_str().unwrap().to_string())
                .or_default() += 1;
            if v["type"] == "findings" {
                assert_eq!(v["message"], "line\none\ttab");
            }
        }
        assert_eq!(types["runs"], 1);
        assert_eq!(types["findings"], 1);
        assert_eq!(types["finding_events"], 1);
        assert_eq!(types["run_accounts"], 1);
        assert!(types["meta"] >= 2);
    });
}

#[test]
fn copy_sqlite_to_postgres_and_back_is_verified() {
    let src_db = sqlite_db();
    let mut src = src_db.open();
    let history = random_history(7, 8);
    for (run, fs) in &history {
        src.record_audit(run, fs).unwrap();
    }
    src.accept(&Acceptance {
        finding_id: "rf-c1-111-r1-x".into(),
        reason: "r".into(),
        who: "w".into(),
        expires: None,
        created_at: day(1),
    })
    .unwrap();
    let Some(pg_db) = postgres_db() else {
        return;
    };
    let mut pg = pg_db.open();
    let counts = src.copy_to(&mut pg).unwrap();
    assert_eq!(counts, src.counts().unwrap());
    assert_eq!(by_id(&pg), by_id(&src));
    assert_eq!(
        pg.runs(None, None, None).unwrap(),
        src.runs(None, None, None).unwrap()
    );
    let ids: Vec<RunId> = src
        .runs(None, None, None)
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(
        pg.diff(ids[3], ids[0]).unwrap(),
        src.diff(ids[3], ids[0]).unwrap()
    );
    // The copy continues: the next run gets the same id and lifecycle in both.
    let next = audit(day(100), vec![account("111", &["r1"], false)], CONTROLS);
    assert_eq!(
        pg.record_audit(&next, &[]).unwrap(),
        src.record_audit(&next, &[]).unwrap()
    );
    assert_eq!(by_id(&pg), by_id(&src));
    // Into a store that holds data: refused, nothing written.
    let err = src.copy_to(&mut pg).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotEmpty);
    assert!(!err.to_string().contains('\n'));
    // And back into a new SQLite file.
    let back_db = sqlite_db();
    let mut back = back_db.open();
    pg.copy_to(&mut back).unwrap();
    assert_eq!(back.counts().unwrap(), pg.counts().unwrap());
    assert_eq!(by_id(&back), by_id(&pg));
}

#[test]
fn in_memory_store_works_and_urls_are_checked() {
    let mut s = Store::open("sqlite::memory:").unwrap();
    assert_eq!(s.backend_name(), "sqlite");
    assert_eq!(s.url(), "sqlite::memory:");
    s.record_audit(
        &audit(day(0), vec![account("111", &["r1"], false)], CONTROLS),
        &[finding("c1", "111", "r1", "x", Status::Fail, "m")],
    )
    .unwrap();
    assert_eq!(s.findings().unwrap().len(), 1);
    for bad in ["sqlite://", "mysql://u@h/db", "rampart.db"] {
        let err = Store::open(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadUrl, "{bad}: {err}");
    }
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(&format!("sqlite://{}", dir.path().display())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable, "{err}");
    assert!(err.to_string().contains("is a directory"), "{err}");
}

#[test]
fn unreachable_postgres_is_one_line_without_the_password() {
    let err = Store::open("postgres://rampart:secret@127.0.0.1:1/rampart").unwrap_err();
    let text = err.to_string();
    assert_eq!(err.kind(), ErrorKind::Unreachable);
    assert!(!text.contains("secret"), "{text}");
    assert!(
        text.contains("postgres://rampart:***@127.0.0.1:1/rampart"),
        "{text}"
    );
    assert!(!text.contains('\n'), "{text}");
    let err = Store::open("mysql://x").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadUrl);
}

#[test]
fn corrupt_and_foreign_sqlite_files_are_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.db");
    std::fs::write(
        &garbage,
        b"this is not a database, just text that is long enough",
    )
    .unwrap();
    let err = Store::open(&format!("sqlite://{}", garbage.display())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.to_string().contains("garbage.db"));
    assert_eq!(
        std::fs::read(&garbage).unwrap(),
        b"this is not a database, just text that is long enough"
    );

    // A valid header with a damaged body.
    let damaged = dir.path().join("damaged.db");
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend(std::iter::repeat_n(0xA5u8, 8192));
    std::fs::write(&damaged, &bytes).unwrap();
    let err = Store::open(&format!("sqlite://{}", damaged.display())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert_eq!(std::fs::read(&damaged).unwrap(), bytes);

    let foreign = dir.path().join("foreign.db");
    {
        let c = rusqlite::Connection::open(&foreign).unwrap();
        c.execute_batch("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'x');")
            .unwrap();
    }
    let before = std::fs::read(&foreign).unwrap();
    let err = Store::open(&format!("sqlite://{}", foreign.display())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Foreign, "{err}");
    assert!(err.to_string().contains("customers"), "{err}");
    assert_eq!(std::fs::read(&foreign).unwrap(), before);
    assert!(!dir.path().join("foreign.db-wal").exists());

    let err = Store::open(&format!(
        "sqlite://{}",
        dir.path().join("no/such/dir/x.db").display()
    ))
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreachable);
    assert!(err.to_string().contains("does not exist"));
}

#[test]
fn a_newer_schema_is_refused_untouched() {
    on_both(|db| {
        {
            let mut s = db.open();
            assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
            s.record_audit(&audit(day(0), vec![], CONTROLS), &[])
                .unwrap();
            let mut conn = s.conn.borrow_mut();
            conn.exec(
                "UPDATE meta SET value = '999' WHERE key = 'schema_version'",
                &[],
            )
            .unwrap();
        }
        let file_before = db.sqlite_path().map(|p| std::fs::read(p).unwrap());
        let err = Store::open(db.url()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooNew, "{err}");
        assert!(err.to_string().contains("999"), "{err}");
        assert!(err.to_string().contains("upgrade rampart"), "{err}");
        if let Some(before) = file_before {
            assert_eq!(std::fs::read(db.sqlite_path().unwrap()).unwrap(), before);
        }
    });
}

#[test]
fn foreign_postgres_database_is_refused() {
    let Some(db) = postgres_db() else { return };
    let mut c = postgres::Client::connect(db.url(), postgres::NoTls).unwrap();
    c.batch_execute("CREATE TABLE orders (id BIGINT)").unwrap();
    let err = Store::open(db.url()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Foreign, "{err}");
    let tables: i64 = c
        .query_one(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 1, "nothing was created");
}

/// Every statement is planned for its parameters (a generic plan of the scopes' `IN` list was
/// 80× slower under the dashboard's load; see `pg.rs`).
#[test]
fn postgres_statements_get_plans_for_their_parameters() {
    let Some(db) = postgres_db() else { return };
    let s = Store::open(db.url()).unwrap();
    let mode = s
        .conn
        .borrow_mut()
        .query_vec("SHOW plan_cache_mode", &[], |r| r.string(0))
        .unwrap();
    assert_eq!(mode, vec!["force_custom_plan".to_string()]);
}

/// A first audit larger than the table goes in with its indexes dropped and built again at the
/// end: afterwards the store has exactly the indexes it had, and they answer queries.
#[test]
fn a_large_first_audit_keeps_every_index() {
    on_both(|db| {
        let mut s = db.open();
        let indexes = |s: &Store| {
            let mut conn = s.conn.borrow_mut();
            crate::db::secondary_indexes(&mut **conn, "findings").unwrap()
        };
        let before = indexes(&s);
        assert!(
            before.iter().any(|(n, _)| n == "findings_account_id"),
            "{before:?}"
        );
        let accounts: Vec<String> = (0..50).map(|a| format!("{:012}", 100 + a)).collect();
        let regions = ["r1", "r2", "r3", "r4"];
        let mut findings = Vec::new();
        for a in &accounts {
            for r in regions {
                for c in CONTROLS {
                    for res in 0..25 {
                        let status = if res == 0 { Status::Fail } else { Status::Pass };
                        findings.push(finding(c, a, r, &format!("x{res}"), status, "m"));
                    }
                }
            }
        }
        assert!(findings.len() >= 15_000, "above the rebuild threshold");
        let observed = accounts
            .iter()
            .map(|a| account(a, &regions, false))
            .collect();
        s.record_audit(&audit(day(0), observed, CONTROLS), &findings)
            .unwrap();
        assert_eq!(indexes(&s), before, "the same indexes after the load");
        assert_eq!(s.findings().unwrap().len(), findings.len());
        // The rebuilt account and open indexes answer the dashboard's filters.
        let page = s
            .findings_page(
                &FindingFilter {
                    accounts: Some(vec![accounts[7].clone()]),
                    status: Some("open".into()),
                    ..Default::default()
                },
                1000,
            )
            .unwrap();
        assert_eq!(page.len(), regions.len() * CONTROLS.len());
        assert!(page.iter().all(|f| f.account_id == accounts[7] && f.open));
    });
}

/// A migration after the first schema, used only here (renumbered after the current schema by
/// the test): adds a column and fills it from existing rows.
const TEST_V2: schema::Migration = schema::Migration {
    version: 2,
    sql: "ALTER TABLE runs ADD COLUMN note TEXT; UPDATE runs SET note = 'migrated ' || kind;",
};

/// A migration that fails halfway: the first statement must not survive it.
const BROKEN_V2: schema::Migration = schema::Migration {
    version: 2,
    sql: "ALTER TABLE runs ADD COLUMN note TEXT; INSERT INTO no_such_table VALUES (1);",
};

#[test]
fn migrations_from_the_first_schema() {
    on_both(|db| {
        let v1_only = &schema::MIGRATIONS[..1];
        assert_eq!(v1_only[0].version, 1, "version 1 is the first schema");
        {
            let mut s = Store::open_with(db.url(), v1_only).unwrap();
            assert_eq!(s.schema_version().unwrap(), 1);
            s.record_audit(
                &audit(day(0), vec![account("111", &["r1"], false)], CONTROLS),
                &[finding("c1", "111", "r1", "x", Status::Fail, "m")],
            )
            .unwrap();
        }
        // A failing migration leaves version 1 and its data.
        let err = Store::open_with(db.url(), &[v1_only[0], BROKEN_V2]).unwrap_err();
        assert!(err.to_string().contains("nothing was changed"), "{err}");
        let s = Store::open_with(db.url(), v1_only).unwrap();
        assert_eq!(s.schema_version().unwrap(), 1);
        drop(s);
        // The current binary opens a v1 store and keeps its data.
        let s = Store::open(db.url()).unwrap();
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(s.findings().unwrap().len(), 1);
        drop(s);
        // An upgrade step runs once, on existing rows (a step after the current schema).
        let next = schema::Migration {
            version: SCHEMA_VERSION + 1,
            ..TEST_V2
        };
        let with_next: Vec<schema::Migration> =
            schema::MIGRATIONS.iter().copied().chain([next]).collect();
        let s = Store::open_with(db.url(), &with_next).unwrap();
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION + 1);
        let note = s
            .conn
            .borrow_mut()
            .query_vec("SELECT note FROM runs", &[], |r| r.string(0))
            .unwrap();
        assert_eq!(note, vec!["migrated audit".to_string()]);
        drop(s);
        let s = Store::open_with(db.url(), &with_next).unwrap();
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION + 1);
        drop(s);
        // And the v1-only binary now refuses it.
        assert_eq!(
            Store::open_with(db.url(), v1_only).unwrap_err().kind(),
            ErrorKind::TooNew
        );
    });
}

use crate::db::ConnExt;

// ---------------------------------------------------------------------------------------------
// The in-memory model: the whole history replayed through the pure lifecycle.

/// What the model keeps per finding besides the lifecycle state.
#[derive(Debug, Clone)]
struct Meta {
    control: String,
    account: String,
    region: String,
    message: String,
    suppressed_reason: Option<String>,
    last_event_at: Time,
}

struct Model {
    states: HashMap<String, State>,
    meta: HashMap<String, Meta>,
    /// The states after each run, and what each run observed.
    after: Vec<(HashMap<String, State>, RunScope)>,
}

fn scope_of(run: &AuditRun, findings: &[Finding]) -> RunScope {
    let mut scope = RunScope {
        controls: run.controls.iter().cloned().collect(),
        accounts: HashMap::new(),
    };
    for a in &run.accounts {
        scope.accounts.insert(
            a.account_id.clone(),
            AccountScope {
                unreachable: a.unreachable,
                regions: a.regions.iter().cloned().collect(),
                errors: vec![],
            },
        );
    }
    for f in findings.iter().filter(|f| f.status == Status::Error) {
        if let Some(a) = scope.accounts.get_mut(&f.account_id) {
            a.errors.push((f.control.to_string(), f.region.clone()));
        }
    }
    scope
}

/// Replays a history; `acceptances[i]` are the acceptances in force (by id, with expiry)
/// when run `i` was recorded.
fn replay(
    history: &[(AuditRun, Vec<Finding>)],
    acceptances: &[HashMap<String, Option<chrono::NaiveDate>>],
) -> Model {
    let mut m = Model {
        states: HashMap::new(),
        meta: HashMap::new(),
        after: Vec::new(),
    };
    for (i, (run, findings)) in history.iter().enumerate() {
        let at = run.started_at;
        let scope = scope_of(run, findings);
        let accepted = acceptances.get(i).cloned().unwrap_or_default();
        let mut present = std::collections::HashSet::new();
        for f in findings {
            if !present.insert(f.id.clone()) {
                continue;
            }
            let by_acceptance = accepted
                .get(&f.id)
                .is_some_and(|exp| exp.is_none_or(|d| d >= at.date_naive()));
            let sup = f.suppressed.is_some() || by_acceptance;
            let obs = Observation::Present {
                status: f.status,
                suppressed: sup,
            };
            let (state, event) = lifecycle::step(m.states.get(&f.id), obs, at).unwrap();
            let meta = m.meta.entry(f.id.clone()).or_insert(Meta {
                control: f.control.to_string(),
                account: f.account_id.clone(),
                region: f.region.clone(),
                message: String::new(),
                suppressed_reason: None,
                last_event_at: at,
            });
            meta.message = f.message.clone();
            meta.suppressed_reason = f.suppressed.as_ref().map(|s| s.reason.clone());
            if event.is_some() {
                meta.last_event_at = at;
            }
            m.states.insert(f.id.clone(), state);
        }
        let absent: Vec<String> = m
            .states
            .keys()
            .filter(|id| !present.contains(*id))
            .cloned()
            .collect();
        for id in absent {
            let meta = &m.meta[&id];
            if !scope.covers(&meta.control, &meta.account, &meta.region) {
                continue;
            }
            if let Some((state, event)) = lifecycle::step(m.states.get(&id), Observation::Gone, at)
            {
                if event.is_some() {
                    m.meta.get_mut(&id).unwrap().last_event_at = at;
                }
                m.states.insert(id, state);
            }
        }
        m.after.push((m.states.clone(), scope));
    }
    m
}

fn life_state(f: &FindingLife) -> State {
    State {
        status: f.status,
        open: f.open,
        suppressed: f.suppressed.is_some(),
        first_seen: f.first_seen,
        last_seen: f.last_seen,
        opened_at: f.opened_at,
        resolved_at: f.resolved_at,
        reopened: f.reopened,
    }
}

fn compare(store: &Store, states: &HashMap<String, State>, meta: &HashMap<String, Meta>) {
    let got = by_id(store);
    let got_ids: Vec<&String> = got.keys().collect();
    let mut want_ids: Vec<&String> = states.keys().collect();
    want_ids.sort();
    assert_eq!(got_ids, want_ids, "the same findings");
    for (id, life) in &got {
        assert_eq!(life_state(life), states[id], "state of {id}");
        assert_eq!(life.message, meta[id].message, "message of {id}");
    }
}

/// The diff rule, written against the model.
fn expected_diff(m: &Model, from: usize, to: usize) -> BTreeMap<String, DiffClass> {
    let (a_states, a_scope) = &m.after[from];
    let (b_states, b_scope) = &m.after[to];
    let mut out = BTreeMap::new();
    for (id, b) in b_states {
        let meta = &m.meta[id];
        let a = a_states.get(id);
        let observed_before = a
            .is_some_and(|a| !matches!(a.status, LifeStatus::Error | LifeStatus::Gone))
            && a_scope.observes_place(&meta.account, &meta.region)
            && !a_scope.has_error(&meta.control, &meta.account, &meta.region);
        let unobserved_now = b.status == LifeStatus::Error
            || (b.status != LifeStatus::Gone
                && (!b_scope.observes_place(&meta.account, &meta.region)
                    || b_scope.has_error(&meta.control, &meta.account, &meta.region)));
        let was_open = a.is_some_and(|a| a.open);
        let class = if observed_before && unobserved_now {
            DiffClass::NewlyUnobservable
        } else if b.open && b.status == LifeStatus::Fail && !b.suppressed && !was_open {
            DiffClass::New
        } else if was_open && !b.open {
            DiffClass::Resolved
        } else if was_open && b.status == LifeStatus::Fail {
            DiffClass::StillFailing
        } else {
            continue;
        };
        out.insert(id.clone(), class);
    }
    out
}

/// A deterministic pseudo-random history (xorshift), for tests that need "some history".
fn random_history(seed: u64, runs: usize) -> Vec<(AuditRun, Vec<Finding>)> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let choices: Vec<RunChoice> = (0..runs)
        .map(|_| RunChoice {
            controls: (1 + next(7)) as u8,
            accounts: (0..3)
                .map(|_| (next(10) < 9, next(6) == 0, (1 + next(3)) as u8))
                .collect(),
            cells: (0..CELLS).map(|_| next(u64::MAX) as u32).collect(),
            accept: next(4) == 0,
        })
        .collect();
    build_history(&choices).0
}

const ACCOUNTS: &[&str] = &["111", "222", "333"];
const REGIONS: &[&str] = &["r1", "r2"];
const RESOURCES: &[&str] = &["x", "y"];
/// accounts × (regions + global) × controls × resources.
const CELLS: usize = 3 * 3 * 3 * 2;

/// The random choices behind one run.
#[derive(Debug, Clone)]
struct RunChoice {
    /// Bit mask over CONTROLS (0 is taken as all: a run evaluates something).
    controls: u8,
    /// Per account: listed, unreachable, bit mask of regions read.
    accounts: Vec<(bool, bool, u8)>,
    /// Per cell: what the run reports there.
    cells: Vec<u32>,
    /// Record an acceptance before this run.
    accept: bool,
}

type AcceptLog = Vec<HashMap<String, Option<chrono::NaiveDate>>>;
type History = Vec<(AuditRun, Vec<Finding>)>;

/// Turns choices into runs and findings (and the acceptances in force per run).
fn build_history(choices: &[RunChoice]) -> (History, AcceptLog, Vec<Acceptance>) {
    let mut history = Vec::new();
    let mut in_force: HashMap<String, Option<chrono::NaiveDate>> = HashMap::new();
    let mut log = Vec::new();
    let mut acceptances = Vec::new();
    for (i, c) in choices.iter().enumerate() {
        let at = day(i as i64);
        let mask = if c.controls & 7 == 0 {
            7
        } else {
            c.controls & 7
        };
        let controls: Vec<&str> = CONTROLS
            .iter()
            .enumerate()
            .filter(|(k, _)| mask & (1 << k) != 0)
            .map(|(_, c)| *c)
            .collect();
        let mut accounts = Vec::new();
        let mut findings = Vec::new();
        let mut cell = 0;
        for (a, acc) in ACCOUNTS.iter().enumerate() {
            let (listed, unreachable, regions_mask) = c.accounts[a];
            let regions: Vec<&str> = REGIONS
                .iter()
                .enumerate()
                .filter(|(k, _)| regions_mask & (1 << k) != 0)
                .map(|(_, r)| *r)
                .collect();
            if listed {
                accounts.push(account(acc, &regions, unreachable));
            }
            for region in REGIONS.iter().copied().chain(["global"]) {
                for control in CONTROLS {
                    for resource in RESOURCES {
                        let roll = c.cells[cell];
                        cell += 1;
                        let observable = listed
                            && !unreachable
                            && (region == "global" || regions.contains(&region))
                            && controls.contains(control);
                        // Unobservable places mostly report nothing; sometimes a stray
                        // finding (as a partial snapshot may carry) keeps the model honest.
                        if !observable && roll % 13 != 0 {
                            continue;
                        }
                        let status = match roll % 10 {
                            0 | 1 => continue, // absent
                            2..=4 => Status::Pass,
                            5..=7 => Status::Fail,
                            8 => Status::Error,
                            _ => Status::NotApplicable,
                        };
                        let message = format!("m{}", (roll >> 8) % 2);
                        let f = finding(control, acc, region, resource, status, &message);
                        findings.push(if (roll >> 12) % 8 == 0 {
                            suppressed(f, "in rampart.toml")
                        } else {
                            f
                        });
                    }
                }
            }
        }
        if c.accept {
            let id = format!(
                "rf-{}-{}-r1-x",
                CONTROLS[c.cells[0] as usize % 3],
                ACCOUNTS[c.cells[1] as usize % 3]
            );
            let expires =
                (c.cells[2] % 3 != 0).then(|| day(i as i64 + (c.cells[3] % 4) as i64).date_naive());
            acceptances.push((i, id.clone(), expires));
            in_force.insert(id, expires);
        }
        log.push(in_force.clone());
        history.push((audit(at, accounts, &controls), findings));
    }
    let accepted = acceptances
        .into_iter()
        .map(|(i, id, expires)| Acceptance {
            finding_id: id,
            reason: "accepted in test".into(),
            who: "tester".into(),
            expires,
            created_at: day(i as i64),
        })
        .collect();
    (history, log, accepted)
}

fn run_choice() -> impl proptest::strategy::Strategy<Value = RunChoice> {
    use proptest::prelude::*;
    (
        any::<u8>(),
        proptest::collection::vec(
            (
                prop::bool::weighted(0.9),
                prop::bool::weighted(0.15),
                0u8..4,
            ),
            3,
        ),
        proptest::collection::vec(any::<u32>(), CELLS),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(controls, accounts, cells, accept)| RunChoice {
            controls,
            accounts,
            cells,
            accept,
        })
}

/// Records the history (with acceptances and an optional prune), then checks the store's
/// findings, and diffs between random runs, against the replayed model.
fn check_history(
    db: &TestDb,
    choices: &[RunChoice],
    prune_at: Option<usize>,
    pairs: &[(usize, usize)],
) {
    let (history, log, acceptances) = build_history(choices);
    let model = replay(&history, &log);
    let mut s = db.open();
    let mut ids = Vec::new();
    let mut pending = acceptances.iter().peekable();
    for (i, (run, findings)) in history.iter().enumerate() {
        while let Some(a) = pending.peek() {
            if a.created_at != day(i as i64) {
                break;
            }
            s.accept(a).unwrap();
            pending.next();
        }
        ids.push(s.record_audit(run, findings).unwrap());
    }
    compare(&s, &model.states, &model.meta);
    for &(a, b) in pairs {
        let (a, b) = (a % ids.len(), b % ids.len());
        let (a, b) = (a.min(b), a.max(b));
        let got: BTreeMap<String, DiffClass> = s
            .diff(ids[a], ids[b])
            .unwrap()
            .items
            .into_iter()
            .map(|i| (i.finding_id, i.class))
            .collect();
        assert_eq!(got, expected_diff(&model, a, b), "diff {a} → {b}");
    }
    if let Some(p) = prune_at {
        let p = p % history.len();
        let cutoff = day(p as i64);
        s.prune(cutoff).unwrap();
        let mut states = model.states.clone();
        states.retain(|id, st| {
            !(st.status == LifeStatus::Gone && !st.open && model.meta[id].last_event_at < cutoff)
        });
        compare(&s, &states, &model.meta);
        // Diffs between surviving runs are unchanged by the prune.
        let last = history.len() - 1;
        if p < last {
            let got: BTreeMap<String, DiffClass> = s
                .diff(ids[p], ids[last])
                .unwrap()
                .items
                .into_iter()
                .map(|i| (i.finding_id, i.class))
                .collect();
            let want: BTreeMap<String, DiffClass> = expected_diff(&model, p, last)
                .into_iter()
                .filter(|(id, _)| states.contains_key(id))
                .collect();
            assert_eq!(got, want, "diff {p} → {last} after pruning before run {p}");
        }
    }
}

mod property {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        #[test]
        fn sqlite_store_equals_the_replayed_history(
            choices in proptest::collection::vec(run_choice(), 1..10),
            prune_at in proptest::option::of(0usize..10),
            pairs in proptest::collection::vec((0usize..10, 0usize..10), 3),
        ) {
            check_history(&sqlite_db(), &choices, prune_at, &pairs);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]
        #[test]
        fn postgres_store_equals_the_replayed_history(
            choices in proptest::collection::vec(run_choice(), 1..10),
            prune_at in proptest::option::of(0usize..10),
            pairs in proptest::collection::vec((0usize..10, 0usize..10), 3),
        ) {
            if let Some(db) = postgres_db() {
                check_history(&db, &choices, prune_at, &pairs);
            }
        }
    }
}
