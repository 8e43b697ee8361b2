//! One record per alert that someone took on (schema version 9): the acknowledgement the
//! router acts on and the triage state the dashboard shows, in table `alert_acks`.
//!
//! Before version 9 `rampart alerts ack` wrote `alert_acks` and the dashboard wrote its own
//! `alert_state`, so a dashboard ack never stopped an escalation and the CLI never showed it.
//! Now both write this table: the first acknowledgement (`acked_by`, `acked_at`, `comment`)
//! stands and is what the router takes in before each tick (escalations stop, PagerDuty is
//! told); the latest triage change (`state`, `assignee`, `note`, `updated_by`, `updated_at`)
//! moves on with each acknowledge, assign or resolve. Migration 9 folds the old `alert_state`
//! rows in and drops that table.

use crate::db::{Conn, ConnExt, DbResult, Row, Val};
use crate::model::Time;
use crate::record::{epoch, time};
use crate::{Store, StoreError};
use serde::{Deserialize, Serialize};

/// Migration 9: `alert_acks` gains the triage columns; `alert_state`'s rows move into it.
/// Where both tables held the alert, the CLI's acknowledgement stays the first one (it is
/// the one the router acted on) and the dashboard's state becomes the latest change.
/// (`WHERE 1 = 1` keeps SQLite from reading `ON CONFLICT` as a join constraint.)
pub(crate) const V9: &str = "
ALTER TABLE alert_acks ADD COLUMN state TEXT NOT NULL DEFAULT 'acknowledged';
ALTER TABLE alert_acks ADD COLUMN assignee TEXT;
ALTER TABLE alert_acks ADD COLUMN note TEXT;
ALTER TABLE alert_acks ADD COLUMN updated_by TEXT NOT NULL DEFAULT '';
ALTER TABLE alert_acks ADD COLUMN updated_at {BIG} NOT NULL DEFAULT 0;
UPDATE alert_acks SET note = comment, updated_by = acked_by, updated_at = acked_at;
INSERT INTO alert_acks (alert_id, acked_by, comment, acked_at, state, assignee, note, \
updated_by, updated_at) \
SELECT alert_id, updated_by, NULLIF(comment, ''), updated_at, state, assignee, \
NULLIF(comment, ''), updated_by, updated_at FROM alert_state WHERE 1 = 1 \
ON CONFLICT (alert_id) DO UPDATE SET state = excluded.state, assignee = excluded.assignee, \
note = excluded.note, updated_by = excluded.updated_by, updated_at = excluded.updated_at;
DROP TABLE alert_state;
";

/// An acknowledged alert: the first acknowledgement, as the router takes it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertAck {
    pub alert_id: String,
    pub by: String,
    pub comment: Option<String>,
    /// Unix seconds.
    pub at: i64,
}

/// The triage state of one alert, keyed by `rampart_detect::alert::Alert::id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertStateRecord {
    pub alert_id: String,
    /// `acknowledged` or `resolved`.
    pub state: String,
    pub assignee: Option<String>,
    /// The latest change's comment (empty when it had none).
    pub comment: String,
    pub updated_by: String,
    pub updated_at: Time,
    /// Who acknowledged first (the dashboard, or `rampart alerts ack`): the ack that stopped
    /// escalation. Filled by the store; ignored when writing.
    pub acknowledged_by: String,
    pub acknowledged_at: Time,
    /// The first acknowledgement's comment.
    pub ack_comment: Option<String>,
}

impl Store {
    /// Records an acknowledgement (`rampart alerts ack`); the first one stands, and an alert
    /// the dashboard took on already keeps its state.
    pub fn record_alert_ack(&mut self, ack: &AlertAck) -> Result<(), StoreError> {
        self.write("recording the acknowledgement", |c| {
            c.exec(
                "INSERT INTO alert_acks (alert_id, acked_by, comment, acked_at, state, \
                 assignee, note, updated_by, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, 'acknowledged', NULL, ?3, ?2, ?4) \
                 ON CONFLICT (alert_id) DO NOTHING",
                &[
                    Val::from(ack.alert_id.as_str()),
                    Val::from(ack.by.as_str()),
                    Val::T(ack.comment.as_deref()),
                    Val::int(ack.at),
                ],
            )?;
            Ok(())
        })
    }

    /// Every acknowledged (or resolved) alert's first acknowledgement, by id.
    pub fn alert_acks(&self) -> Result<Vec<AlertAck>, StoreError> {
        self.read("cannot read acknowledgements", |c| {
            c.query_vec(
                "SELECT alert_id, acked_by, comment, acked_at FROM alert_acks ORDER BY alert_id",
                &[],
                |r| {
                    Ok(AlertAck {
                        alert_id: r.string(0)?,
                        by: r.string(1)?,
                        comment: r.opt_string(2)?,
                        at: r.int0(3)?,
                    })
                },
            )
        })
    }

    /// A dashboard or API change: acknowledge, assign or resolve. The first change of an alert
    /// is also its acknowledgement (the router stops escalating it at its next tick); later
    /// ones move the state on and leave the acknowledgement as it was.
    pub fn set_alert_state(&mut self, s: &AlertStateRecord) -> Result<(), StoreError> {
        self.write("recording the alert's state", |c| set_alert_state(c, s))
    }

    /// Every alert someone took on, by id, wherever it was taken on.
    pub fn alert_states(&self) -> Result<Vec<AlertStateRecord>, StoreError> {
        self.read("cannot read alert states", alert_states)
    }
}

fn set_alert_state(c: &mut dyn Conn, s: &AlertStateRecord) -> DbResult<()> {
    let comment = Some(s.comment.as_str()).filter(|c| !c.is_empty());
    c.exec(
        "INSERT INTO alert_acks (alert_id, acked_by, comment, acked_at, state, assignee, note, \
         updated_by, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?3, ?2, ?4) \
         ON CONFLICT (alert_id) DO UPDATE SET state = excluded.state, \
         assignee = excluded.assignee, note = excluded.note, \
         updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        &[
            Val::from(&s.alert_id),
            Val::from(&s.updated_by),
            Val::T(comment),
            Val::int(epoch(s.updated_at)),
            Val::from(&s.state),
            Val::T(s.assignee.as_deref()),
        ],
    )?;
    Ok(())
}

fn alert_state(r: &dyn Row) -> DbResult<AlertStateRecord> {
    Ok(AlertStateRecord {
        alert_id: r.string(0)?,
        state: r.string(1)?,
        assignee: r.opt_string(2)?,
        comment: r.opt_string(3)?.unwrap_or_default(),
        updated_by: r.string(4)?,
        updated_at: time(r.int0(5)?),
        acknowledged_by: r.string(6)?,
        acknowledged_at: time(r.int0(7)?),
        ack_comment: r.opt_string(8)?,
    })
}

fn alert_states(c: &mut dyn Conn) -> DbResult<Vec<AlertStateRecord>> {
    c.query_vec(
        "SELECT alert_id, state, assignee, note, updated_by, updated_at, acked_by, acked_at, \
         comment FROM alert_acks ORDER BY alert_id",
        &[],
        alert_state,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::on_both;

    fn at(secs: i64) -> Time {
        time(secs)
    }

    fn dashboard(id: &str, state: &str, by: &str, comment: &str, secs: i64) -> AlertStateRecord {
        AlertStateRecord {
            alert_id: id.into(),
            state: state.into(),
            assignee: None,
            comment: comment.into(),
            updated_by: by.into(),
            updated_at: at(secs),
            acknowledged_by: String::new(),
            acknowledged_at: at(0),
            ack_comment: None,
        }
    }

    /// The dashboard's first change is the ack the router reads; the CLI's ack shows on the
    /// dashboard; the first acknowledgement stands whoever makes a later change.
    #[test]
    fn one_record_for_the_cli_and_the_dashboard() {
        on_both(|db| {
            let mut s = db.open();
            // the dashboard acknowledges a: the router's reader sees it
            s.set_alert_state(&dashboard("a", "acknowledged", "ana", "on it", 10))
                .unwrap();
            assert_eq!(
                s.alert_acks().unwrap(),
                vec![AlertAck {
                    alert_id: "a".into(),
                    by: "ana".into(),
                    comment: Some("on it".into()),
                    at: 10,
                }]
            );
            // the CLI's later ack of a changes nothing; its ack of b shows on the dashboard
            s.record_alert_ack(&AlertAck {
                alert_id: "a".into(),
                by: "bo".into(),
                comment: None,
                at: 20,
            })
            .unwrap();
            s.record_alert_ack(&AlertAck {
                alert_id: "b".into(),
                by: "bo".into(),
                comment: Some("mine".into()),
                at: 30,
            })
            .unwrap();
            // resolving a keeps ana's acknowledgement, and a resolution is an ack too (c)
            let mut resolve = dashboard("a", "resolved", "cy", "false positive", 40);
            resolve.assignee = Some("cy".into());
            s.set_alert_state(&resolve).unwrap();
            s.set_alert_state(&dashboard("c", "resolved", "cy", "test", 50))
                .unwrap();
            let states = s.alert_states().unwrap();
            assert_eq!(states.len(), 3);
            let a = &states[0];
            assert_eq!(
                (a.state.as_str(), a.assignee.as_deref(), a.comment.as_str()),
                ("resolved", Some("cy"), "false positive")
            );
            assert_eq!((a.updated_by.as_str(), a.updated_at), ("cy", at(40)));
            assert_eq!(
                (a.acknowledged_by.as_str(), a.acknowledged_at),
                ("ana", at(10))
            );
            assert_eq!(a.ack_comment.as_deref(), Some("on it"));
            let b = &states[1];
            assert_eq!(
                (b.state.as_str(), b.updated_by.as_str(), b.comment.as_str()),
                ("acknowledged", "bo", "mine")
            );
            assert_eq!(
                (b.acknowledged_by.as_str(), b.acknowledged_at),
                ("bo", at(30))
            );
            let acks: Vec<(String, String, i64)> = s
                .alert_acks()
                .unwrap()
                .into_iter()
                .map(|a| (a.alert_id, a.by, a.at))
                .collect();
            assert_eq!(
                acks,
                [("a", "ana", 10), ("b", "bo", 30), ("c", "cy", 50)].map(|(i, b, t)| (
                    i.to_string(),
                    b.to_string(),
                    t
                ))
            );
            assert_eq!(s.counts().unwrap().get("alert_acks"), 3);
        });
    }

    /// A store written before version 9, with an alert acked by the CLI only (a), one taken on
    /// in the dashboard only (b) and one in both (c), opened by this binary: one table with
    /// all three, `alert_state` gone.
    #[test]
    fn migration_9_folds_the_dashboard_state_in() {
        on_both(|db| {
            let before: Vec<crate::schema::Migration> = crate::schema::MIGRATIONS
                .iter()
                .copied()
                .filter(|m| m.version < 9)
                .collect();
            {
                let mut s = Store::open_with(db.url(), &before).unwrap();
                s.write("seeding", |c| {
                    c.exec(
                        "INSERT INTO alert_acks (alert_id, acked_by, comment, acked_at) VALUES \
                         ('a', 'bo', 'mine', 10), ('c', 'bo', NULL, 30)",
                        &[],
                    )?;
                    c.exec(
                        "INSERT INTO alert_state (alert_id, state, assignee, comment, \
                         updated_by, updated_at) VALUES \
                         ('b', 'resolved', 'cy', 'benign', 'cy', 20), \
                         ('c', 'acknowledged', 'ana', '', 'ana', 40)",
                        &[],
                    )?;
                    Ok(())
                })
                .unwrap();
            }
            let s = db.open();
            assert_eq!(s.schema_version().unwrap(), crate::SCHEMA_VERSION);
            let acks: Vec<(String, String, Option<String>, i64)> = s
                .alert_acks()
                .unwrap()
                .into_iter()
                .map(|a| (a.alert_id, a.by, a.comment, a.at))
                .collect();
            assert_eq!(
                acks,
                vec![
                    ("a".into(), "bo".into(), Some("mine".into()), 10),
                    ("b".into(), "cy".into(), Some("benign".into()), 20),
                    ("c".into(), "bo".into(), None, 30),
                ]
            );
            let states = s.alert_states().unwrap();
            let summary: Vec<(&str, Option<&str>, &str, &str, Time)> = states
                .iter()
                .map(|r| {
                    (
                        r.state.as_str(),
                        r.assignee.as_deref(),
                        r.comment.as_str(),
                        r.updated_by.as_str(),
                        r.updated_at,
                    )
                })
                .collect();
            assert_eq!(
                summary,
                vec![
                    ("acknowledged", None, "mine", "bo", at(10)),
                    ("resolved", Some("cy"), "benign", "cy", at(20)),
                    ("acknowledged", Some("ana"), "", "ana", at(40)),
                ]
            );
            let left = s
                .read("listing", |c| {
                    c.query_vec(
                        "SELECT alert_id FROM alert_acks WHERE updated_by = ''",
                        &[],
                        |r| r.string(0),
                    )
                })
                .unwrap();
            assert!(left.is_empty(), "every old row has its latest change");
            assert!(
                s.read("probing", |c| c.query_vec(
                    "SELECT 1 FROM alert_state",
                    &[],
                    |r| r.int0(0)
                ))
                .is_err(),
                "alert_state is dropped"
            );
        });
    }
}
