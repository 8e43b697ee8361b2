//! What the dashboard's Accounts page shows of each account's security services. The store
//! keeps no copy of the collected snapshot, so the honest source is the audit's own verdicts:
//! the latest observed status of the controls that check each service, per account and
//! region (a scoped audit updates only what it covered), beside the regions the last audit
//! collected for the account.

use crate::db::{ConnExt, Val};
use crate::model::{LifeStatus, RunId};
use crate::record::time;
use crate::{Store, StoreError, Time};
use serde::Serialize;

/// The latest status of one control in one account and region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlStatus {
    pub control: String,
    pub account_id: String,
    /// `global` (or the home region) for account-wide controls.
    pub region: String,
    pub status: LifeStatus,
    /// The audit's message, e.g. `no Config recorder in eu-west-1`.
    pub message: String,
    pub first_seen: Time,
}

impl Store {
    /// The current (not gone) findings of `controls`, by account, control and region.
    pub fn control_statuses(&self, controls: &[&str]) -> Result<Vec<ControlStatus>, StoreError> {
        if controls.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=controls.len()).map(|i| format!("?{i}")).collect();
        let params: Vec<Val> = controls.iter().map(|c| Val::from(*c)).collect();
        self.read("cannot read the security services' findings", |c| {
            let rows = c.query_vec(
                &format!(
                    "SELECT control, account_id, region, status, message, first_seen \
                     FROM findings WHERE control IN ({}) \
                     ORDER BY account_id, control, region, id",
                    marks.join(", ")
                ),
                &params,
                |r| {
                    let code = r.int0(3)?;
                    Ok(ControlStatus {
                        control: r.string(0)?,
                        account_id: r.string(1)?,
                        region: r.string(2)?,
                        status: LifeStatus::from_code(code).ok_or_else(|| {
                            crate::db::DbError(format!("unknown finding status code {code}"))
                        })?,
                        message: r.string(4)?,
                        first_seen: time(r.int0(5)?),
                    })
                },
            )?;
            Ok(rows
                .into_iter()
                .filter(|s| s.status != LifeStatus::Gone)
                .collect())
        })
    }

    /// The regions an audit run collected, per account (account id, regions in order).
    pub fn run_regions(&self, run_id: RunId) -> Result<Vec<(String, Vec<String>)>, StoreError> {
        self.read("cannot read the audit's regions", |c| {
            c.query_vec(
                "SELECT account_id, regions FROM run_accounts WHERE run_id = ?1 \
                 ORDER BY account_id",
                &[Val::int(run_id)],
                |r| {
                    Ok((
                        r.string(0)?,
                        r.text0(1)?.split_whitespace().map(str::to_string).collect(),
                    ))
                },
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::on_both;
    use crate::tests::{account, audit, day, finding};
    use crate::*;
    use rampart_core::Status;

    #[test]
    fn latest_status_per_control_account_and_region() {
        on_both(|db| {
            let mut s = db.open();
            let run = |s: &mut Store, at, fs: &[(&str, &str, Status)]| {
                let fs: Vec<_> = fs
                    .iter()
                    .map(|(c, r, st)| finding(c, "111", r, "acct", *st, &format!("{c} {r}")))
                    .collect();
                s.record_audit(
                    &audit(
                        day(at),
                        vec![account("111", &["r1", "r2"], false)],
                        &["gd", "cfg", "other"],
                    ),
                    &fs,
                )
                .unwrap()
            };
            run(
                &mut s,
                0,
                &[
                    ("gd", "r1", Status::Pass),
                    ("gd", "r2", Status::Fail),
                    ("cfg", "r1", Status::Pass),
                    ("other", "r1", Status::Fail),
                ],
            );
            // the next audit: GuardDuty on in r2 too, the Config recorder in r1 gone
            let id = run(
                &mut s,
                1,
                &[
                    ("gd", "r1", Status::Pass),
                    ("gd", "r2", Status::Pass),
                    ("other", "r1", Status::Fail),
                ],
            );
            let got: Vec<(String, String, LifeStatus)> = s
                .control_statuses(&["gd", "cfg"])
                .unwrap()
                .into_iter()
                .map(|c| (c.control, c.region, c.status))
                .collect();
            assert_eq!(
                got,
                vec![
                    ("gd".into(), "r1".into(), LifeStatus::Pass),
                    ("gd".into(), "r2".into(), LifeStatus::Pass),
                ]
            );
            assert!(s.control_statuses(&[]).unwrap().is_empty());
            assert_eq!(
                s.run_regions(id).unwrap(),
                vec![("111".to_string(), vec!["r1".to_string(), "r2".to_string()])]
            );
        });
    }
}
