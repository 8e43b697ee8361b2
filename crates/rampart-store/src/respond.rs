//! `rampart respond`'s record: one row per containment action or undo (schema version 4),
//! beside the JSON Lines audit log. The whole record is kept as JSON; the columns are what
//! lists and look-ups filter on.

use crate::db::{Conn, ConnExt, DbResult, Val};
use crate::model::Time;
use crate::record::{epoch, time};
use crate::{Store, StoreError};

/// Migration 4: the `respond_actions` table.
pub(crate) const V4: &str = "
CREATE TABLE respond_actions (
    id TEXT PRIMARY KEY,
    time {BIG} NOT NULL,
    who TEXT NOT NULL,
    alert_id TEXT,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    result TEXT NOT NULL,
    undoes TEXT,
    json TEXT NOT NULL
);
CREATE INDEX respond_actions_alert ON respond_actions (alert_id);
";

/// One recorded action (or undo, when `undoes` names the action it undid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseAction {
    pub id: String,
    pub time: Time,
    /// The AWS identity that acted.
    pub who: String,
    pub alert_id: Option<String>,
    pub action: String,
    /// The target as `--target` spells it (or its description).
    pub target: String,
    pub account: String,
    pub region: String,
    /// applied, unchanged, refused or failed.
    pub result: String,
    pub undoes: Option<String>,
    /// The full `rampart.respond/v1` record.
    pub json: String,
}

fn insert(conn: &mut dyn Conn, a: &ResponseAction) -> DbResult<()> {
    conn.exec(
        "INSERT INTO respond_actions (id, time, who, alert_id, action, target, account, region, \
         result, undoes, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        &[
            Val::T(Some(&a.id)),
            Val::int(epoch(a.time)),
            Val::T(Some(&a.who)),
            Val::T(a.alert_id.as_deref()),
            Val::T(Some(&a.action)),
            Val::T(Some(&a.target)),
            Val::T(Some(&a.account)),
            Val::T(Some(&a.region)),
            Val::T(Some(&a.result)),
            Val::T(a.undoes.as_deref()),
            Val::T(Some(&a.json)),
        ],
    )?;
    Ok(())
}

fn select(conn: &mut dyn Conn, filter: &str, params: &[Val<'_>]) -> DbResult<Vec<ResponseAction>> {
    conn.query_vec(
        &format!(
            "SELECT id, time, who, alert_id, action, target, account, region, result, undoes, json \
             FROM respond_actions {filter} ORDER BY time, id"
        ),
        params,
        |r| {
            Ok(ResponseAction {
                id: r.string(0)?,
                time: time(r.int0(1)?),
                who: r.string(2)?,
                alert_id: r.opt_string(3)?,
                action: r.string(4)?,
                target: r.string(5)?,
                account: r.string(6)?,
                region: r.string(7)?,
                result: r.string(8)?,
                undoes: r.opt_string(9)?,
                json: r.string(10)?,
            })
        },
    )
}

impl Store {
    /// Records one action or undo.
    pub fn record_response_action(&mut self, a: &ResponseAction) -> Result<(), StoreError> {
        self.write("recording the respond action", |c| insert(c, a))
    }

    /// Every recorded action and undo, oldest first.
    pub fn response_actions(&self) -> Result<Vec<ResponseAction>, StoreError> {
        self.read("cannot read respond actions", |c| select(c, "", &[]))
    }

    /// The actions taken for one alert (and their undos), oldest first.
    pub fn response_actions_for_alert(
        &self,
        alert_id: &str,
    ) -> Result<Vec<ResponseAction>, StoreError> {
        self.read("cannot read respond actions", |c| {
            select(c, "WHERE alert_id = ?1", &[Val::T(Some(alert_id))])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::on_both;
    use crate::tests::day;

    fn action(id: &str, at: i64, alert: Option<&str>, undoes: Option<&str>) -> ResponseAction {
        ResponseAction {
            id: id.into(),
            time: day(at),
            who: "arn:aws:iam::111122223333:user/oncall".into(),
            alert_id: alert.map(str::to_string),
            action: "quarantine".into(),
            target: "role/Dev".into(),
            account: "111122223333".into(),
            region: "us-east-1".into(),
            result: "applied".into(),
            undoes: undoes.map(str::to_string),
            json: format!("{{\"id\":\"{id}\"}}"),
        }
    }

    #[test]
    fn actions_are_recorded_listed_and_found_by_alert() {
        on_both(|db| {
            let mut s = db.open();
            assert_eq!(s.schema_version().unwrap(), crate::SCHEMA_VERSION);
            assert!(s.response_actions().unwrap().is_empty());
            let a = action("act-2", 1, Some("0123456789abcdef"), None);
            let b = action("act-1", 0, None, None);
            let u = action("act-3", 2, Some("0123456789abcdef"), Some("act-2"));
            for x in [&a, &b, &u] {
                s.record_response_action(x).unwrap();
            }
            assert_eq!(
                s.response_actions().unwrap(),
                vec![b.clone(), a.clone(), u.clone()]
            );
            assert_eq!(
                s.response_actions_for_alert("0123456789abcdef").unwrap(),
                vec![a.clone(), u]
            );
            // ids are unique: recording one twice fails and writes nothing
            let e = s.record_response_action(&a).unwrap_err();
            assert!(e.to_string().contains("nothing was written"), "{e}");
            assert_eq!(s.response_actions().unwrap().len(), 3);
            // the table is counted with the others (store info, export, copy)
            let counts = s.counts().unwrap();
            assert!(
                counts
                    .tables
                    .iter()
                    .any(|(t, n)| t == "respond_actions" && *n == 3)
            );
        });
    }
}
