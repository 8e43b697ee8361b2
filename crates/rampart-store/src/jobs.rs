//! The scheduler's memory: one row per job run and the cursors jobs keep between runs.
//!
//! A run is written `running` when it starts (its own small transaction) and finished in
//! place; the work it records (an audit, a drift plan) is a separate transaction. So a process
//! killed midway leaves a `running` row and the previous state of everything else, and the next
//! start marks the row [`JobStatus::Interrupted`] and runs the job again.

use crate::db::{ConnExt, DbError, DbResult, Row, Val};
use crate::record::{epoch, time};
use crate::{RunId, Store, StoreError, Time};

/// A job run's id.
pub type JobRunId = i64;

/// How a job run ended (or that it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobStatus {
    /// Started and not finished: still going, or killed (until the next start says so).
    Running,
    Ok,
    Failed,
    /// Found `running` at a scheduler's start: the process died during the run.
    Interrupted,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Running => "running",
            JobStatus::Ok => "ok",
            JobStatus::Failed => "failed",
            JobStatus::Interrupted => "interrupted",
        }
    }

    pub fn parse(s: &str) -> Option<JobStatus> {
        Some(match s {
            "running" => JobStatus::Running,
            "ok" => JobStatus::Ok,
            "failed" => JobStatus::Failed,
            "interrupted" => JobStatus::Interrupted,
            _ => return None,
        })
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One run of a scheduled job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRun {
    pub id: JobRunId,
    pub job: String,
    /// The schedule slot it ran for (a missed run: the newest missed slot).
    pub scheduled_for: Time,
    pub started_at: Time,
    pub finished_at: Option<Time>,
    pub status: JobStatus,
    pub error: Option<String>,
    /// The job's figures (findings, alerts, changes, objects read…), a JSON object.
    pub summary: serde_json::Value,
    /// The history run the job recorded (an audit, detect or drift run), if any.
    pub run_id: Option<RunId>,
}

/// How a finished run is written.
#[derive(Debug, Clone, PartialEq)]
pub struct JobEnd {
    pub finished_at: Time,
    pub status: JobStatus,
    pub error: Option<String>,
    pub summary: serde_json::Value,
    pub run_id: Option<RunId>,
}

const COLUMNS: &str =
    "id, job, scheduled_for, started_at, finished_at, status, error, summary_json, run_id";

fn job_run(r: &dyn Row) -> DbResult<JobRun> {
    let status = r.text0(5)?;
    Ok(JobRun {
        id: r.int0(0)?,
        job: r.string(1)?,
        scheduled_for: time(r.int0(2)?),
        started_at: time(r.int0(3)?),
        finished_at: r.int(4)?.map(time),
        status: JobStatus::parse(status)
            .ok_or_else(|| DbError(format!("unknown job status `{status}`")))?,
        error: r.opt_string(6)?,
        summary: serde_json::from_str(r.text0(7)?)
            .map_err(|e| DbError(format!("job run summary is not JSON: {e}")))?,
        run_id: r.int(8)?,
    })
}

impl Store {
    /// Writes a `running` row for a job run that starts now.
    pub fn job_started(
        &mut self,
        job: &str,
        scheduled_for: Time,
        started_at: Time,
    ) -> Result<JobRunId, StoreError> {
        self.write("recording the job start", |c| {
            let id = c
                .query_int("SELECT MAX(id) FROM job_runs", &[])?
                .unwrap_or(0)
                + 1;
            c.exec(
                "INSERT INTO job_runs (id, job, scheduled_for, started_at, finished_at, status, \
                 error, summary_json, run_id) VALUES (?1, ?2, ?3, ?4, NULL, ?5, NULL, '{}', NULL)",
                &[
                    Val::int(id),
                    job.into(),
                    Val::int(epoch(scheduled_for)),
                    Val::int(epoch(started_at)),
                    JobStatus::Running.as_str().into(),
                ],
            )?;
            Ok(id)
        })
    }

    /// Finishes a run written by [`Store::job_started`].
    pub fn job_finished(&mut self, id: JobRunId, end: &JobEnd) -> Result<(), StoreError> {
        let summary = end.summary.to_string();
        self.write("recording the job's outcome", |c| {
            let n = c.exec(
                "UPDATE job_runs SET finished_at = ?2, status = ?3, error = ?4, \
                 summary_json = ?5, run_id = ?6 WHERE id = ?1",
                &[
                    Val::int(id),
                    Val::int(epoch(end.finished_at)),
                    end.status.as_str().into(),
                    end.error.as_deref().into(),
                    summary.as_str().into(),
                    Val::I(end.run_id),
                ],
            )?;
            if n == 0 {
                return Err(DbError(format!("job run {id} does not exist")));
            }
            Ok(())
        })
    }

    /// Marks every `running` row interrupted (a scheduler starting: nothing of its own runs
    /// yet, so these were killed) and returns them.
    pub fn mark_interrupted(&mut self, now: Time) -> Result<Vec<JobRun>, StoreError> {
        self.write("marking interrupted job runs", |c| {
            let found = c.query_vec(
                &format!("SELECT {COLUMNS} FROM job_runs WHERE status = ?1 ORDER BY id"),
                &[JobStatus::Running.as_str().into()],
                job_run,
            )?;
            c.exec(
                "UPDATE job_runs SET status = ?2, finished_at = ?3, \
                 error = 'the process stopped during the run; it runs again at the next start' \
                 WHERE status = ?1",
                &[
                    JobStatus::Running.as_str().into(),
                    JobStatus::Interrupted.as_str().into(),
                    Val::int(epoch(now)),
                ],
            )?;
            Ok(found
                .into_iter()
                .map(|mut r| {
                    r.status = JobStatus::Interrupted;
                    r.finished_at = Some(now);
                    r
                })
                .collect())
        })
    }

    /// Job runs, newest first; of one job when `job` is given.
    pub fn job_runs(
        &self,
        job: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<JobRun>, StoreError> {
        let limit = limit.map_or(i64::MAX, |l| l as i64);
        self.read("cannot list job runs", |c| match job {
            Some(j) => c.query_vec(
                &format!("SELECT {COLUMNS} FROM job_runs WHERE job = ?1 ORDER BY id DESC LIMIT ?2"),
                &[j.into(), Val::int(limit)],
                job_run,
            ),
            None => c.query_vec(
                &format!("SELECT {COLUMNS} FROM job_runs ORDER BY id DESC LIMIT ?1"),
                &[Val::int(limit)],
                job_run,
            ),
        })
    }

    /// The newest slot each job completed (ok or failed): where its schedule resumes.
    /// Interrupted and running rows do not count, so a killed run's slot is due again.
    pub fn last_completed_slots(&self) -> Result<Vec<(String, Time)>, StoreError> {
        self.read("cannot read the last job runs", |c| {
            c.query_vec(
                "SELECT job, MAX(scheduled_for) FROM job_runs WHERE status IN ('ok', 'failed') \
                 GROUP BY job ORDER BY job",
                &[],
                |r| Ok((r.string(0)?, time(r.int0(1)?))),
            )
        })
    }

    /// A job's cursor (e.g. the last trail object processed under a prefix).
    pub fn job_cursor(&self, job: &str, name: &str) -> Result<Option<String>, StoreError> {
        self.read("cannot read the job cursor", |c| {
            let v = c.query_vec(
                "SELECT value FROM job_cursors WHERE job = ?1 AND name = ?2",
                &[job.into(), name.into()],
                |r| r.string(0),
            )?;
            Ok(v.into_iter().next())
        })
    }

    /// Every cursor of a job, by name.
    pub fn job_cursors(&self, job: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.read("cannot read the job cursors", |c| {
            c.query_vec(
                "SELECT name, value FROM job_cursors WHERE job = ?1 ORDER BY name",
                &[job.into()],
                |r| Ok((r.string(0)?, r.string(1)?)),
            )
        })
    }

    /// Sets a job's cursors in one transaction (all or none move).
    pub fn set_job_cursors(
        &mut self,
        job: &str,
        cursors: &[(String, String)],
        at: Time,
    ) -> Result<(), StoreError> {
        self.write("saving the job cursors", |c| {
            for (name, value) in cursors {
                c.exec(
                    "DELETE FROM job_cursors WHERE job = ?1 AND name = ?2",
                    &[job.into(), name.into()],
                )?;
                c.exec(
                    "INSERT INTO job_cursors (job, name, value, updated_at) VALUES (?1, ?2, ?3, ?4)",
                    &[job.into(), name.into(), value.into(), Val::int(epoch(at))],
                )?;
            }
            Ok(())
        })
    }

    /// Forgets a job's cursors last set before `before` (the detect job's record of trail
    /// objects it processed from a queue is kept only as long as a repeat can arrive).
    pub fn prune_job_cursors(&mut self, job: &str, before: Time) -> Result<u64, StoreError> {
        self.write("pruning the job cursors", |c| {
            c.exec(
                "DELETE FROM job_cursors WHERE job = ?1 AND updated_at < ?2",
                &[job.into(), Val::int(epoch(before))],
            )
        })
    }

    /// Consistency problems, one line each (empty: consistent): SQLite's own integrity check,
    /// rows that name a history run that does not exist, and job runs that claim to be
    /// finished without an end time. What `rampart store check` reports.
    pub fn verify(&self) -> Result<Vec<String>, StoreError> {
        let sqlite = self.backend == "sqlite";
        self.read("cannot check the store", |c| {
            let mut problems = Vec::new();
            if sqlite {
                for line in c.query_vec("PRAGMA integrity_check", &[], |r| r.string(0))? {
                    if line != "ok" {
                        problems.push(format!("SQLite integrity: {line}"));
                    }
                }
            }
            // Not finding_events nor job_runs: pruning keeps a finding's last event and the job
            // log of a pruned run on purpose.
            for table in [
                "run_accounts",
                "run_errors",
                "alerts",
                "changes",
                "apply_entries",
            ] {
                let n = c
                    .query_int(
                        &format!(
                            "SELECT COUNT(*) FROM {table} t WHERE t.run_id IS NOT NULL AND \
                             NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = t.run_id)"
                        ),
                        &[],
                    )?
                    .unwrap_or(0);
                if n > 0 {
                    problems.push(format!("{table}: {n} row(s) name a run that does not exist"));
                }
            }
            let n = c
                .query_int(
                    "SELECT COUNT(*) FROM finding_events e WHERE NOT EXISTS \
                     (SELECT 1 FROM findings f WHERE f.fid = e.fid)",
                    &[],
                )?
                .unwrap_or(0);
            if n > 0 {
                problems.push(format!(
                    "finding_events: {n} event(s) of a finding that does not exist"
                ));
            }
            let n = c
                .query_int(
                    "SELECT COUNT(*) FROM job_runs WHERE status <> 'running' AND finished_at IS NULL",
                    &[],
                )?
                .unwrap_or(0);
            if n > 0 {
                problems.push(format!(
                    "job_runs: {n} finished run(s) without an end time"
                ));
            }
            Ok(problems)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::on_both;
    use crate::tests::{account, audit, day, finding};
    use rampart_core::Status;

    fn end(at: Time, status: JobStatus) -> JobEnd {
        JobEnd {
            finished_at: at,
            status,
            error: (status == JobStatus::Failed).then(|| "boom".to_string()),
            summary: serde_json::json!({"findings": 3}),
            run_id: None,
        }
    }

    #[test]
    fn runs_start_finish_and_resume_from_the_last_completed_slot() {
        on_both(|db| {
            let mut s = db.open();
            let a = s.job_started("audit", day(0), day(0)).unwrap();
            s.job_finished(a, &end(day(0), JobStatus::Ok)).unwrap();
            let b = s.job_started("audit", day(1), day(1)).unwrap();
            s.job_finished(b, &end(day(1), JobStatus::Failed)).unwrap();
            let c = s.job_started("drift", day(2), day(2)).unwrap();
            // drift never finished: its slot does not count
            let slots = s.last_completed_slots().unwrap();
            assert_eq!(slots, vec![("audit".to_string(), day(1))]);
            let runs = s.job_runs(Some("audit"), None).unwrap();
            assert_eq!(runs.len(), 2);
            assert_eq!(runs[0].id, b);
            assert_eq!(runs[0].status, JobStatus::Failed);
            assert_eq!(runs[0].error.as_deref(), Some("boom"));
            assert_eq!(runs[0].summary["findings"], 3);
            assert_eq!(s.job_runs(None, Some(1)).unwrap()[0].id, c);

            let killed = s.mark_interrupted(day(3)).unwrap();
            assert_eq!(killed.len(), 1);
            assert_eq!(killed[0].id, c);
            let stored = &s.job_runs(Some("drift"), None).unwrap()[0];
            assert_eq!(stored.status, JobStatus::Interrupted);
            assert_eq!(stored.finished_at, Some(day(3)));
            assert!(s.mark_interrupted(day(4)).unwrap().is_empty());
            assert!(s.job_finished(99, &end(day(3), JobStatus::Ok)).is_err());
            assert_eq!(s.verify().unwrap(), Vec::<String>::new());
        });
    }

    #[test]
    fn cursors_move_together_and_survive_reopening() {
        on_both(|db| {
            let mut s = db.open();
            assert_eq!(s.job_cursor("detect", "o-1/AWSLogs/").unwrap(), None);
            let set = vec![
                ("p1".to_string(), "k1".to_string()),
                ("p2".to_string(), "k9".to_string()),
            ];
            s.set_job_cursors("detect", &set, day(0)).unwrap();
            s.set_job_cursors("detect", &[("p1".into(), "k2".into())], day(1))
                .unwrap();
            drop(s);
            let s = db.open();
            assert_eq!(s.job_cursor("detect", "p1").unwrap().as_deref(), Some("k2"));
            assert_eq!(
                s.job_cursors("detect").unwrap(),
                vec![
                    ("p1".to_string(), "k2".to_string()),
                    ("p2".to_string(), "k9".to_string())
                ]
            );
            assert!(s.job_cursors("audit").unwrap().is_empty());
            let mut s = s;
            assert_eq!(s.prune_job_cursors("detect", day(1)).unwrap(), 1);
            assert_eq!(s.prune_job_cursors("audit", day(9)).unwrap(), 0);
            assert_eq!(
                s.job_cursors("detect").unwrap(),
                vec![("p1".to_string(), "k2".to_string())]
            );
        });
    }

    #[test]
    fn verify_finds_rows_of_missing_runs() {
        on_both(|db| {
            let mut s = db.open();
            let run = audit(
                day(0),
                vec![account("111111111111", &["us-east-1"], false)],
                &["c1"],
            );
            let f = finding("c1", "111111111111", "us-east-1", "r", Status::Fail, "m");
            s.record_audit(&run, &[f]).unwrap();
            assert_eq!(s.verify().unwrap(), Vec::<String>::new());
            s.write("test damage", |c| {
                c.exec("DELETE FROM runs", &[])?;
                Ok(())
            })
            .unwrap();
            let problems = s.verify().unwrap();
            assert!(
                problems
                    .iter()
                    .any(|p| p.starts_with("run_accounts: 1 row(s)")),
                "{problems:?}"
            );
        });
    }
}
