//! A failing job raises an alert: a `rampart.alert/v1` record with the builtin-style rule id
//! `RAMPART-JOB-FAILED`, sent through the same sinks as detections (webhook, SNS, spool).

use crate::scheduler::{FailureHook, LogHook};
use rampart_detect::Alert;
use rampart_detect::sink::Dispatcher;
use rampart_store::JobRun;
use std::sync::Arc;

/// The rule id of a failing job's alert.
pub const RULE_ID: &str = "RAMPART-JOB-FAILED";

/// The alert for one failed run: HIGH (a baseline nobody checks is a gap), the job as the
/// resource, its error in `matched`.
pub fn failure_alert(run: &JobRun) -> Alert {
    let at = run.finished_at.unwrap_or(run.started_at);
    let record = serde_json::json!({
        "schema": rampart_detect::alert::SCHEMA,
        "rule_id": RULE_ID,
        "rule_source": "builtin",
        "title": format!("Scheduled job `{}` failed", run.job),
        "severity": "HIGH",
        "event_id": format!("rampart-job-run-{}", run.id),
        "event_time": at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "event_source": "rampart.schedule",
        "event_name": run.job,
        "resource": format!("rampart:job/{}", run.job),
        "outcome": "failure",
        "matched": {
            "job": run.job,
            "job_run": run.id,
            "scheduled_for": run.scheduled_for.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "error": run.error.as_deref().unwrap_or(""),
        },
    });
    // Every field above is one from_record accepts; an error here is a bug in this function.
    Alert::from_record(&record).unwrap_or_else(|e| panic!("job failure alert: {e}"))
}

/// A failure hook that sends [`failure_alert`] through the sinks `dispatcher` builds (built
/// per alert: sinks are not shareable between threads) and logs what could not be delivered.
pub fn alert_hook(
    dispatcher: impl Fn() -> Result<Dispatcher, String> + Send + Sync + 'static,
    log: LogHook,
) -> FailureHook {
    Arc::new(move |run: &JobRun| match dispatcher() {
        Ok(mut d) => {
            d.send(&[failure_alert(run)]);
            for r in d.reports() {
                for e in r.errors {
                    log(&format!("alert for job {} run #{}: {e}", run.job, run.id));
                }
            }
        }
        Err(e) => log(&format!(
            "alert for job {} run #{} not sent: {e}",
            run.job, run.id
        )),
    })
}
