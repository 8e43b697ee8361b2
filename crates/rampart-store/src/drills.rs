//! Drill results (`rampart drill`, schema version 5): one row per drill, for the history and the
//! weekly report's Drills section. Kept apart from runs: a drill is not an audit or detect run,
//! and pruning runs leaves drills alone.

use crate::db::{ConnExt, DbError, Row, Val};
use crate::model::Time;
use crate::record::epoch;
use crate::{Store, StoreError};
use chrono::TimeZone;
use serde::{Deserialize, Serialize};

/// One drill's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrillRow {
    pub scenario: String,
    pub account: String,
    pub run_id: String,
    pub started_at: Time,
    pub finished_at: Time,
    pub expected_rule: String,
    pub passed: bool,
    /// `pass`, `fail` or `skipped`, per stage.
    pub acted: String,
    pub detected: String,
    pub alerted: String,
    pub cleaned: String,
    /// Milliseconds from the attack to the first matching event seen / to delivery.
    pub time_to_detect_ms: Option<i64>,
    pub time_to_alert_ms: Option<i64>,
    pub alert_id: Option<String>,
    /// Why it failed (the first failed stage's detail), empty when it passed.
    pub detail: String,
}

const COLUMNS: &str = "scenario, account, run_id, started_at, finished_at, expected_rule, passed, \
    acted, detected, alerted, cleaned, time_to_detect_ms, time_to_alert_ms, alert_id, detail";

fn time(r: &dyn Row, i: usize) -> Result<Time, DbError> {
    let s = r.int0(i)?;
    chrono::Utc
        .timestamp_opt(s, 0)
        .single()
        .ok_or_else(|| DbError(format!("column {i} holds an invalid time {s}")))
}

impl Store {
    /// Keeps one drill's result.
    pub fn record_drill(&mut self, d: &DrillRow) -> Result<(), StoreError> {
        self.write("recording the drill", |c| {
            c.exec(
                &format!(
                    "INSERT INTO drills ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
                ),
                &[
                    Val::from(&d.scenario),
                    Val::from(&d.account),
                    Val::from(&d.run_id),
                    Val::int(epoch(d.started_at)),
                    Val::int(epoch(d.finished_at)),
                    Val::from(&d.expected_rule),
                    Val::flag(d.passed),
                    Val::from(&d.acted),
                    Val::from(&d.detected),
                    Val::from(&d.alerted),
                    Val::from(&d.cleaned),
                    Val::from(d.time_to_detect_ms),
                    Val::from(d.time_to_alert_ms),
                    Val::from(d.alert_id.as_deref()),
                    Val::from(&d.detail),
                ],
            )
            .map(|_| ())
        })
    }

    /// Drills that started with `from <= started_at < to`, oldest first.
    pub fn drills(&self, from: Time, to: Time) -> Result<Vec<DrillRow>, StoreError> {
        self.read("cannot read drills", |c| {
            c.query_vec(
                &format!(
                    "SELECT {COLUMNS} FROM drills WHERE started_at >= ?1 AND started_at < ?2 \
                     ORDER BY started_at, run_id, scenario"
                ),
                &[Val::int(epoch(from)), Val::int(epoch(to))],
                |r| {
                    Ok(DrillRow {
                        scenario: r.string(0)?,
                        account: r.string(1)?,
                        run_id: r.string(2)?,
                        started_at: time(r, 3)?,
                        finished_at: time(r, 4)?,
                        expected_rule: r.string(5)?,
                        passed: r.int0(6)? != 0,
                        acted: r.string(7)?,
                        detected: r.string(8)?,
                        alerted: r.string(9)?,
                        cleaned: r.string(10)?,
                        time_to_detect_ms: r.int(11)?,
                        time_to_alert_ms: r.int(12)?,
                        alert_id: r.opt_string(13)?,
                        detail: r.string(14)?,
                    })
                },
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::on_both;
    use crate::tests::day;

    fn drill(scenario: &str, at: Time, passed: bool) -> DrillRow {
        DrillRow {
            scenario: scenario.into(),
            account: "210987654321".into(),
            run_id: format!("r-{scenario}-{}", at.timestamp()),
            started_at: at,
            finished_at: at + chrono::Duration::seconds(40),
            expected_rule: "RD-TAMPER-001".into(),
            passed,
            acted: "pass".into(),
            detected: "pass".into(),
            alerted: if passed { "pass" } else { "fail" }.into(),
            cleaned: "pass".into(),
            time_to_detect_ms: Some(310_000),
            time_to_alert_ms: passed.then_some(311_500),
            alert_id: Some("ra-1".into()),
            detail: if passed { "" } else { "webhook down" }.into(),
        }
    }

    #[test]
    fn drills_are_kept_and_read_back_by_period_on_both_backends() {
        on_both(|db| {
            let mut s = db.open();
            assert!(s.schema_version().unwrap() >= 5);
            let a = drill("stop-logging", day(1), true);
            let b = drill("access-key", day(3), false);
            let c = drill("public-bucket", day(9), true);
            for d in [&c, &a, &b] {
                s.record_drill(d).unwrap();
            }
            assert_eq!(
                s.drills(day(0), day(7)).unwrap(),
                vec![a.clone(), b.clone()]
            );
            assert_eq!(s.drills(day(3), day(10)).unwrap(), vec![b, c]);
            assert!(s.drills(day(10), day(20)).unwrap().is_empty());
            let counts = s.counts().unwrap();
            assert!(counts.tables.contains(&("drills".to_string(), 3)));
        });
    }
}
