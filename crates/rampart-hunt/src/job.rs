//! The job: the compiled rules, the inputs and the output folder, as `job.json` beside the
//! runner (`runner.py`). The same two files run on every Spark.

use crate::layout::Input;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Version of `job.json`; the runner refuses another.
pub const JOB_VERSION: u32 = 1;

/// One hunt: what to read, with which rules, from when to when, and where alerts go.
#[derive(Debug, Clone)]
pub struct Job {
    /// The rule data ([`crate::compile::Compiled::data`]).
    pub rules: Value,
    pub inputs: Vec<Input>,
    /// Window in epoch seconds (inclusive), as `rampart detect --since/--until`.
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Where the job writes `alerts/day=YYYY-MM-DD/` and `stats/` (a folder or an s3:// URI).
    pub output: String,
}

impl Job {
    /// `job.json`'s text.
    pub fn to_json(&self) -> String {
        json!({
            "version": JOB_VERSION,
            "since": self.since,
            "until": self.until,
            "output": self.output,
            "inputs": self.inputs,
            "rules": self.rules,
        })
        .to_string()
    }

    /// Writes `runner.py` and `job.json` into `dir` (created if needed); returns their paths.
    pub fn emit(&self, dir: &Path) -> Result<(PathBuf, PathBuf), String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create job folder {}: {e}", dir.display()))?;
        let runner = dir.join("runner.py");
        let job = dir.join("job.json");
        std::fs::write(&runner, crate::RUNNER_PY)
            .map_err(|e| format!("cannot write {}: {e}", runner.display()))?;
        std::fs::write(&job, self.to_json())
            .map_err(|e| format!("cannot write {}: {e}", job.display()))?;
        Ok((runner, job))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emitted_job_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let job = Job {
            rules: json!({"version": 1, "rules": []}),
            inputs: vec![crate::layout::input("s3://b/AWSLogs", None, None, 0)],
            since: Some(1),
            until: None,
            output: "s3://b/out".into(),
        };
        let (runner, path) = job.emit(&dir.path().join("j")).unwrap();
        assert!(
            std::fs::read_to_string(runner)
                .unwrap()
                .contains("def main(")
        );
        let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(v["version"], 1);
        assert_eq!(v["inputs"][0]["globs"][0], "s3://b/AWSLogs");
        assert_eq!(v["since"], 1);
        assert!(v["until"].is_null());
    }
}
