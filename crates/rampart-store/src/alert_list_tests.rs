//! Tests of the alert list (keyset pages, filters, lookup by id, the version 8 backfill), on
//! SQLite and PostgreSQL.

use crate::alert_list::alert_id;
use crate::testing::on_both;
use crate::tests::day;
use crate::*;
use rampart_core::Severity;

const SEVERITIES: [Severity; 3] = [Severity::Critical, Severity::High, Severity::Low];

/// Alert `i` of a run: times repeat (so the tiebreak matters), some have no event time.
fn alert(run: usize, i: usize) -> AlertRow {
    AlertRow {
        rule_id: format!("rule-{}", i % 4),
        rule_source: "builtin".into(),
        title: format!("alert {run}/{i}"),
        severity: SEVERITIES[i % 3],
        account: (!i.is_multiple_of(5)).then(|| format!("acct-{}", i % 2)),
        region: Some("eu-west-1".into()),
        principal: None,
        event_time: (!i.is_multiple_of(7))
            .then(|| day(run as i64) + chrono::Duration::hours((i % 3) as i64)),
        event_id: Some(format!("ev-{run}-{i}")),
        resource: None,
        count: 1,
        json: "{}".into(),
    }
}

fn record(s: &mut Store, run: usize, n: usize) {
    let alerts: Vec<AlertRow> = (0..n).map(|i| alert(run, i)).collect();
    s.record_detect(
        &DetectRun {
            started_at: day(run as i64),
            finished_at: day(run as i64),
            source: "test".into(),
            events: n as u64,
            skipped: 0,
            files: 1,
            rules: 4,
        },
        &alerts,
    )
    .unwrap();
}

fn triage(s: &mut Store, id: &str, state: &str) {
    s.set_alert_state(&AlertStateRecord {
        alert_id: id.into(),
        state: state.into(),
        assignee: None,
        comment: "seen".into(),
        updated_by: "ana".into(),
        updated_at: day(9),
        acknowledged_by: String::new(),
        acknowledged_at: day(9),
        ack_comment: None,
    })
    .unwrap();
}

fn assert_id_is_the_detectors(a: &ListedAlert) {
    let r = &a.alert;
    let id = alert_id(
        &r.rule_source,
        &r.rule_id,
        r.event_id.as_deref(),
        r.account.as_deref(),
    );
    assert_eq!(a.id, id);
}

/// Every page of `filter`, `size` at a time, following the cursor.
fn all_pages(s: &Store, filter: &AlertFilter, size: usize) -> Vec<ListedAlert> {
    let mut out: Vec<ListedAlert> = Vec::new();
    let mut f = filter.clone();
    loop {
        let mut page = s.alerts_page(&f, size + 1).unwrap();
        let more = page.len() > size;
        page.truncate(size);
        f.after = page.last().map(|a| a.cursor);
        out.extend(page);
        if !more {
            return out;
        }
    }
}

#[test]
fn pages_return_every_alert_once_newest_first() {
    on_both(|db| {
        let mut s = db.open();
        for run in 1..=3 {
            record(&mut s, run, 20);
        }
        let everything = s.alerts_page(&AlertFilter::default(), 1000).unwrap();
        assert_eq!(everything.len(), 60);
        let keys: Vec<_> = everything
            .iter()
            .map(|a| (a.cursor.at, a.cursor.run_id, a.cursor.seq))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(
            keys, sorted,
            "newest first, ties broken by run and position"
        );
        for size in [1, 3, 7, 60, 100] {
            let paged = all_pages(&s, &AlertFilter::default(), size);
            assert_eq!(paged, everything, "page size {size}");
        }
        // The id column is the detector's id; the time is the event's, else the run's start.
        for a in &everything {
            let r = &a.alert;
            assert_id_is_the_detectors(a);
            let run_start = s.run(a.run_id).unwrap().unwrap().started_at;
            assert_eq!(a.cursor.at, r.event_time.unwrap_or(run_start).timestamp());
        }
        let token = everything[5].cursor.token();
        assert_eq!(AlertCursor::parse(&token), Some(everything[5].cursor));
        assert_eq!(AlertCursor::parse("1.2"), None);
        assert_eq!(AlertCursor::parse("1.2.3.4"), None);
        assert_eq!(AlertCursor::parse("a.b.c"), None);
    });
}

#[test]
fn filters_run_in_sql_and_agree_with_the_rows() {
    on_both(|db| {
        let mut s = db.open();
        for run in 1..=4 {
            record(&mut s, run, 15);
        }
        let everything = s.alerts_page(&AlertFilter::default(), 1000).unwrap();
        triage(&mut s, &everything[0].id, "acknowledged");
        triage(&mut s, &everything[3].id, "resolved");
        triage(&mut s, &everything[10].id, "acknowledged");
        let everything = s.alerts_page(&AlertFilter::default(), 1000).unwrap();
        let state_of = |a: &ListedAlert| match a.state.as_ref().map(|s| s.state.as_str()) {
            None => AlertTriage::New,
            Some("acknowledged") => AlertTriage::Acknowledged,
            Some(_) => AlertTriage::Resolved,
        };
        assert_eq!(
            everything
                .iter()
                .filter(|a| state_of(a) != AlertTriage::New)
                .count(),
            3
        );
        let filters = [
            AlertFilter {
                since: Some(day(3)),
                ..Default::default()
            },
            AlertFilter {
                severity: Some(Severity::High),
                ..Default::default()
            },
            AlertFilter {
                account: Some("acct-1".into()),
                ..Default::default()
            },
            AlertFilter {
                rule: Some("rule-2".into()),
                since: Some(day(2)),
                ..Default::default()
            },
            AlertFilter {
                state: Some(AlertTriage::New),
                ..Default::default()
            },
            AlertFilter {
                state: Some(AlertTriage::Acknowledged),
                ..Default::default()
            },
            AlertFilter {
                state: Some(AlertTriage::Resolved),
                severity: Some(everything[3].alert.severity),
                ..Default::default()
            },
            AlertFilter {
                severity: Some(Severity::Critical),
                account: Some("acct-0".into()),
                rule: Some("rule-0".into()),
                state: Some(AlertTriage::New),
                since: Some(day(2)),
                after: None,
            },
        ];
        for f in filters {
            let expected: Vec<&ListedAlert> = everything
                .iter()
                .filter(|a| f.since.is_none_or(|t| a.cursor.at >= t.timestamp()))
                .filter(|a| f.severity.is_none_or(|v| a.alert.severity == v))
                .filter(|a| {
                    f.account
                        .as_deref()
                        .is_none_or(|v| a.alert.account.as_deref() == Some(v))
                })
                .filter(|a| f.rule.as_deref().is_none_or(|v| a.alert.rule_id == v))
                .filter(|a| f.state.is_none_or(|v| state_of(a) == v))
                .collect();
            assert!(!expected.is_empty(), "{f:?} selects something");
            let got = all_pages(&s, &f, 4);
            assert_eq!(got.iter().collect::<Vec<_>>(), expected, "{f:?}");
        }
        // Lookup by id, with its state.
        let acked = s.alert_by_id(&everything[0].id).unwrap().unwrap();
        assert_eq!(acked, everything[0]);
        assert_eq!(acked.state.unwrap().state, "acknowledged");
        assert!(s.alert_by_id("0000000000000000").unwrap().is_none());
        // Counts per severity since a time, most severe first.
        let counts = s.alert_counts(day(3)).unwrap();
        let mut expected: std::collections::BTreeMap<Severity, u64> = Default::default();
        for a in everything
            .iter()
            .filter(|a| a.cursor.at >= day(3).timestamp())
        {
            *expected.entry(a.alert.severity).or_default() += 1;
        }
        assert_eq!(counts, expected.into_iter().rev().collect::<Vec<_>>());
    });
}

#[test]
fn migration_8_backfills_ids_and_times_of_older_alerts() {
    on_both(|db| {
        let before_8: Vec<_> = schema::MIGRATIONS
            .iter()
            .copied()
            .filter(|m| m.version < 8)
            .collect();
        {
            let mut old = Store::open_with(db.url(), &before_8).unwrap();
            let alerts: Vec<AlertRow> = (0..9).map(|i| alert(2, i)).collect();
            old.write("recording the old way", |c| {
                // Version 7 has neither column: insert as that version's binary did.
                c.exec(
                    "INSERT INTO runs (id, kind, started_at, finished_at, source, rampart_version, \
                     catalogue_version, scope, accounts, regions, pass, fail, error, suppressed, \
                     other, alerts, changes, collection_errors, errors_json, controls, detail_json) \
                     VALUES (1, 'detect', ?1, ?1, 'old', '0', '', '', 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, \
                     '[]', '', '{}')",
                    &[crate::db::Val::int(day(2).timestamp())],
                )?;
                for (seq, a) in alerts.iter().enumerate() {
                    c.exec(
                        "INSERT INTO alerts (run_id, seq, rule_id, rule_source, title, severity, \
                         account, event_time, event_id, alert_count, json) \
                         VALUES (1, ?1, ?2, ?3, ?4, 3, ?5, ?6, ?7, 1, '{}')",
                        &[
                            crate::db::Val::int(seq as i64),
                            crate::db::Val::from(&a.rule_id),
                            crate::db::Val::from(&a.rule_source),
                            crate::db::Val::from(&a.title),
                            crate::db::Val::T(a.account.as_deref()),
                            crate::db::Val::I(a.event_time.map(|t| t.timestamp())),
                            crate::db::Val::T(a.event_id.as_deref()),
                        ],
                    )?;
                }
                Ok(())
            })
            .unwrap();
        }
        let s = db.open();
        let listed = s.alerts_page(&AlertFilter::default(), 100).unwrap();
        assert_eq!(listed.len(), 9);
        for a in &listed {
            let r = &a.alert;
            assert_id_is_the_detectors(a);
            assert_eq!(
                a.cursor.at,
                r.event_time.unwrap_or(day(2)).timestamp(),
                "the run's start stands in for a missing event time"
            );
        }
    });
}

#[test]
fn data_version_moves_with_runs_and_acceptances_and_other_connections_see_writes() {
    on_both(|db| {
        let mut s = db.open();
        let v0 = s.data_version().unwrap();
        record(&mut s, 1, 2);
        let v1 = s.data_version().unwrap();
        assert_ne!(v0, v1, "a run");
        triage(&mut s, "0123456789abcdef", "acknowledged");
        assert_eq!(s.data_version().unwrap(), v1, "triage is not cached data");
        s.accept(&Acceptance {
            finding_id: "rf-1".into(),
            reason: "r".into(),
            who: "ana".into(),
            expires: None,
            created_at: day(3),
        })
        .unwrap();
        assert_ne!(s.data_version().unwrap(), v1, "an acceptance");
        // A second connection (SQLite file or PostgreSQL) reads what the first wrote.
        let other = s
            .open_another(4)
            .unwrap()
            .expect("a store on disk or a server");
        assert_eq!(other.data_version().unwrap(), s.data_version().unwrap());
        assert_eq!(
            other
                .alerts_page(&AlertFilter::default(), 10)
                .unwrap()
                .len(),
            2
        );
    });
}

#[test]
fn an_in_memory_store_has_no_second_connection() {
    let s = Store::open("sqlite::memory:").unwrap();
    assert!(s.open_another(4).unwrap().is_none());
}
