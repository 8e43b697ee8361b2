//! The demo's twelve weeks: the embedded organization audited, checked for drift and watched
//! once a week, improving as gaps are closed (with one regression in the last week), recorded
//! in a real store, so that `rampart history`, `rampart diff` and the weekly report have
//! something to show without AWS.

use rampart_core::sample::demo_org;
use rampart_snapshot::Snapshot;
use rampart_store::{Store, Time};

/// Weeks of history the demo records.
pub const WEEKS: usize = 12;

/// A gap the organization had at first and closed in week `fixed` (0-based).
struct Gap {
    fixed: usize,
    open: fn(&mut Snapshot),
}

fn account<'a>(s: &'a mut Snapshot, id: &str) -> Option<&'a mut rampart_snapshot::AccountSnapshot> {
    s.accounts.iter_mut().find(|a| a.account_id == id)
}

/// The gaps of the early weeks, each closed in a later week: the story of a team working
/// through its findings.
fn gaps() -> Vec<Gap> {
    vec![
        Gap {
            fixed: 2,
            open: |s| {
                for a in s.accounts.iter_mut().take(4) {
                    a.iam.password_policy = None;
                }
            },
        },
        Gap {
            fixed: 3,
            open: |s| {
                for a in s.accounts.iter_mut() {
                    if let Some(r) = a.regions.get_mut(1) {
                        r.ebs_encryption_by_default = false;
                    }
                }
            },
        },
        Gap {
            fixed: 5,
            open: |s| {
                for a in s.accounts.iter_mut().skip(2) {
                    a.s3.account_public_access_block = None;
                }
            },
        },
        Gap {
            fixed: 6,
            open: |s| {
                for a in s.accounts.iter_mut() {
                    for r in a.regions.iter_mut() {
                        for k in r.kms_keys.iter_mut() {
                            k.rotation_enabled = Some(false);
                        }
                    }
                }
            },
        },
        Gap {
            fixed: 8,
            open: |s| {
                if let Some(a) = account(s, "400000000001") {
                    for r in a.regions.iter_mut() {
                        r.guardduty = None;
                    }
                }
            },
        },
        Gap {
            fixed: 9,
            open: |s| {
                if let Some(db) = account(s, "400000000004")
                    .and_then(|a| a.regions.first_mut())
                    .and_then(|r| r.rds_instances.first_mut())
                {
                    db.storage_encrypted = false;
                    db.publicly_accessible = true;
                }
            },
        },
        Gap {
            fixed: 11,
            open: |s| {
                if let Some(a) = account(s, "400000000003") {
                    for r in a.regions.iter_mut() {
                        r.ebs_encryption_by_default = false;
                    }
                }
            },
        },
    ]
}

/// The organization as audited in `week` (0 = twelve weeks ago, 11 = this week): the demo
/// snapshot with the gaps not yet closed, and, before the last week, without the regression
/// the last week brings (EBS default encryption switched off in one production region).
pub fn snapshot_of_week(week: usize) -> Snapshot {
    let mut s = demo_org();
    for g in gaps() {
        if week < g.fixed {
            (g.open)(&mut s);
        }
    }
    if week + 1 < WEEKS
        && let Some(a) = account(&mut s, "400000000000")
        && let Some(r) = a.regions.get_mut(2)
    {
        r.ebs_encryption_by_default = true;
    }
    s
}

/// Shifts the embedded trail's events into `week` and keeps a varying share of them, so each
/// week has its own alerts.
fn trail_of_week(records: &[serde_json::Value], at: Time, week: usize) -> Vec<serde_json::Value> {
    records
        .iter()
        .enumerate()
        .filter(|(i, _)| week + 1 == WEEKS || !(i + week).is_multiple_of(3))
        .map(|(i, r)| {
            let mut r = r.clone();
            let t = at - chrono::Duration::hours(30) + chrono::Duration::minutes(7 * i as i64);
            r["eventTime"] = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true).into();
            r
        })
        .collect()
}

/// Records the twelve weeks into `store`, the last audit an hour before `now`. Returns the
/// number of runs recorded.
pub fn record(
    store: &mut Store,
    now: Time,
    config: &crate::cmd::audit::AuditConfig,
) -> anyhow::Result<usize> {
    let doc: serde_json::Value = serde_json::from_str(super::demo::DEMO_TRAIL)
        .map_err(|e| anyhow::anyhow!("embedded demo trail: {e}"))?;
    let records = doc["Records"].as_array().cloned().unwrap_or_default();
    let baseline_cfg = super::demo::demo_baseline_config()?;
    let mut runs = 0;
    for week in 0..WEEKS {
        let at =
            now - chrono::Duration::weeks((WEEKS - 1 - week) as i64) - chrono::Duration::hours(1);
        let snapshot = snapshot_of_week(week);

        // The audit.
        let ev = crate::cmd::audit::evaluate(&snapshot, config, "demo", None, None)?;
        let mut run = crate::cmd::store::audit_run(&snapshot, &ev.run, at);
        run.finished_at = at + chrono::Duration::seconds(40);
        store
            .record_audit(&run, &ev.findings)
            .map_err(|e| anyhow::anyhow!("{e}"))?;

        // The drift check against the default rampart.toml.
        let plan = rampart_baseline::plan(&baseline_cfg, &snapshot)
            .map_err(|e| anyhow::anyhow!("demo plan: {e}"))?;
        let drift = rampart_store::PlanRun {
            kind: rampart_store::RunKind::Drift,
            started_at: at + chrono::Duration::minutes(5),
            finished_at: at + chrono::Duration::minutes(6),
            organization_id: snapshot.organization.as_ref().map(|o| o.id.clone()),
            unobserved: plan.unobserved.clone(),
        };
        store
            .record_plan(&drift, &crate::cmd::store::change_rows(&plan))
            .map_err(|e| anyhow::anyhow!("{e}"))?;

        // The week's detections.
        let alerts = super::demo::detect(&trail_of_week(&records, at, week))?;
        let detect = rampart_store::DetectRun {
            started_at: at + chrono::Duration::minutes(10),
            finished_at: at + chrono::Duration::minutes(11),
            source: "demo trail".into(),
            events: records.len() as u64,
            skipped: 0,
            files: 1,
            rules: alerts.rules,
        };
        let rows: Vec<_> = alerts
            .alerts
            .iter()
            .map(crate::cmd::store::alert_row)
            .collect();
        store
            .record_detect(&detect, &rows)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        runs += 3;
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each closed gap lowers the failures; the last week brings one regression.
    #[test]
    fn the_demo_organization_improves_week_by_week() {
        let config = crate::cmd::demo::demo_config();
        let fails: Vec<usize> = (0..WEEKS)
            .map(|w| {
                crate::cmd::audit::evaluate(&snapshot_of_week(w), &config, "demo", None, None)
                    .unwrap()
                    .findings
                    .iter()
                    .filter(|f| f.is_open_problem())
                    .count()
            })
            .collect();
        assert!(fails[0] > fails[WEEKS - 2] + 10, "{fails:?}");
        for w in 1..WEEKS - 1 {
            assert!(fails[w] <= fails[w - 1], "week {w} got worse: {fails:?}");
        }
        // the demo's own audit is the last week's
        let last = crate::cmd::audit::evaluate(&demo_org(), &config, "demo", None, None).unwrap();
        assert_eq!(
            last.findings.iter().filter(|f| f.is_open_problem()).count(),
            fails[WEEKS - 1]
        );
    }
}
