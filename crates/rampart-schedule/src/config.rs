//! `[schedule]` in rampart.toml: when each job runs, where the detection job reads the
//! organization trail, where weekly reports go, and where a failing job's alert goes.

use crate::spec::{Schedule, Spec, parse_zone};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The section as written.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSection {
    /// `UTC` (default) or a fixed offset `+02:00`.
    pub timezone: Option<String>,
    pub audit: Option<String>,
    pub drift: Option<String>,
    pub detect: Option<String>,
    pub weekly_report: Option<String>,
    /// Where `detect` reads the organization trail (`s3://bucket/prefix/`); default: the log
    /// archive bucket of `[log_archive]`, read by the binary.
    pub trail: Option<String>,
    /// An SQS queue receiving the bucket's object-created notifications: `detect` reads the
    /// objects they name (under `trail`) and deletes the messages after the detect run is
    /// recorded, instead of listing S3.
    pub detect_queue_url: Option<String>,
    /// Weekly reports are written here (relative: beside rampart.toml). Default `reports`.
    pub report_dir: Option<String>,
    /// Deliver each weekly report through `[alerts]` (webhook_env, sns_topic), like
    /// `rampart report weekly --send`. Failing-job alerts always go there.
    pub deliver_weekly_report: Option<bool>,
}

/// The jobs rampart knows, in the order they are listed.
pub const JOBS: &[&str] = &["audit", "drift", "detect", "weekly_report"];

/// The section, checked: every schedule parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleConfig {
    pub section: ScheduleSection,
    /// (job, its schedule) for every job not `off`.
    pub schedules: Vec<(String, Schedule)>,
    pub report_dir: PathBuf,
}

#[derive(Deserialize)]
struct View {
    #[serde(default)]
    schedule: Option<ScheduleSection>,
}

impl ScheduleConfig {
    /// Reads `[schedule]` from rampart.toml; a missing section schedules nothing. Errors name
    /// the file and the key.
    pub fn load(path: &Path) -> Result<ScheduleConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let view: View = toml::from_str(&text)
            .map_err(|e| format!("{}: [schedule]: {}", path.display(), e.message().trim_end()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Self::from_section(view.schedule.unwrap_or_default(), dir)
            .map_err(|e| format!("{}: [schedule] {e}", path.display()))
    }

    /// Checks a section; `dir` resolves a relative report directory.
    pub fn from_section(section: ScheduleSection, dir: &Path) -> Result<ScheduleConfig, String> {
        let zone = match &section.timezone {
            Some(z) => parse_zone(z).map_err(|e| format!("timezone: {e}"))?,
            None => parse_zone("UTC")?,
        };
        let mut schedules = Vec::new();
        for (job, text) in [
            ("audit", &section.audit),
            ("drift", &section.drift),
            ("detect", &section.detect),
            ("weekly_report", &section.weekly_report),
        ] {
            if let Some(text) = text
                && let Some(spec) = Spec::parse(text).map_err(|e| format!("{job}: {e}"))?
            {
                schedules.push((job.to_string(), Schedule { spec, zone }));
            }
        }
        let report_dir = dir.join(section.report_dir.as_deref().unwrap_or("reports"));
        Ok(ScheduleConfig {
            section,
            schedules,
            report_dir,
        })
    }

    pub fn schedule(&self, job: &str) -> Option<&Schedule> {
        self.schedules
            .iter()
            .find(|(j, _)| j == job)
            .map(|(_, s)| s)
    }
}

/// What `rampart init` writes.
pub const DEFAULT_SECTION: &str = r#"[schedule]
# When `rampart schedule run` (and `rampart serve`) run each job; `off` disables one.
# Forms: `every 5m|6h|1d` (aligned on midnight), `daily at HH:MM`, `mon 08:00`.
timezone = "UTC"                # or a fixed offset such as "+02:00"
audit = "every 6h"
drift = "daily at 03:00"
detect = "every 5m"             # follows the organization trail in the log archive bucket
weekly_report = "mon 08:00"
report_dir = "reports"
# trail = "s3://BUCKET/AWSLogs/o-XXXXXXXXXX/"   # default: the [log_archive] bucket
# detect_queue_url = "https://sqs.REGION.amazonaws.com/ACCOUNT/QUEUE"   # read the bucket's
#   object-created notifications from SQS instead of listing it (policies/rampart-detect.json)
deliver_weekly_report = false   # true: send it through [alerts] (webhook_env, sns_topic)
# Failing jobs raise a RAMPART-JOB-FAILED alert through [alerts] (kept in
# rampart-job-alerts.jsonl beside this file when no destination is configured).
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<ScheduleConfig, String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("rampart.toml");
        std::fs::write(&p, text).unwrap();
        ScheduleConfig::load(&p)
    }

    #[test]
    fn the_default_section_parses_and_schedules_all_four_jobs() {
        let c = load(&format!("[other]\nx = 1\n\n{DEFAULT_SECTION}")).unwrap();
        let jobs: Vec<&str> = c.schedules.iter().map(|(j, _)| j.as_str()).collect();
        assert_eq!(jobs, JOBS);
        assert!(c.report_dir.ends_with("reports"));
        assert_eq!(c.schedule("audit").unwrap().spec.to_string(), "every 6h");
    }

    #[test]
    fn errors_name_the_file_and_key() {
        let e = load("[schedule]\naudit = \"every 6x\"\n").unwrap_err();
        assert!(
            e.contains("rampart.toml: [schedule] audit: bad schedule `every 6x`"),
            "{e}"
        );
        let e = load("[schedule]\naudti = \"every 6h\"\n").unwrap_err();
        assert!(e.contains("unknown field `audti`"), "{e}");
        let e = load("[schedule]\ntimezone = \"Europe/Paris\"\n").unwrap_err();
        assert!(e.contains("timezone: bad timezone"), "{e}");
        let c = load("[schedule]\naudit = \"off\"\n").unwrap();
        assert!(c.schedules.is_empty());
        assert!(load("").unwrap().schedules.is_empty());
    }
}
