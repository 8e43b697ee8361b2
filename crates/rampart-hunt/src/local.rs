//! Running a job with a local Spark (`spark-submit --master local[N]`): PySpark from PyPI on the
//! machine's Java, as `scripts/install-test-deps.sh` installs them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What to do when Spark is missing.
pub const INSTALL_HINT: &str = "install PySpark and Java with `bash scripts/install-test-deps.sh` (PySpark into .venv, openjdk-17-jre-headless from Debian), or point RAMPART_SPARK_SUBMIT at a spark-submit";

/// The `spark-submit` to use: `RAMPART_SPARK_SUBMIT`, else `.venv/bin/spark-submit` under
/// `base` (the project folder), else `spark-submit` on `PATH`. Java must be on `PATH` too (or
/// `JAVA_HOME` set).
pub fn find_spark_submit(base: &Path) -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("RAMPART_SPARK_SUBMIT") {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!(
                "RAMPART_SPARK_SUBMIT={} is not a file; {INSTALL_HINT}",
                p.display()
            ))
        };
    }
    let venv = base.join(".venv/bin/spark-submit");
    let found = if venv.is_file() {
        Some(venv)
    } else {
        on_path("spark-submit")
    };
    let Some(spark) = found else {
        return Err(format!("no spark-submit found; {INSTALL_HINT}"));
    };
    if std::env::var_os("JAVA_HOME").is_none() && on_path("java").is_none() {
        return Err(format!(
            "spark-submit found ({}) but no Java (java on PATH or JAVA_HOME); {INSTALL_HINT}",
            spark.display()
        ));
    }
    Ok(spark)
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Runs `runner.py job.json` with `spark-submit` on `master` (`local[2]`), its output (Spark's
/// log and the runner's lines) in `log`. The Python of the venv that holds `spark-submit`, when
/// there is one, runs the workers too.
pub fn run(
    spark_submit: &Path,
    master: &str,
    runner: &Path,
    job: &Path,
    log: &Path,
) -> Result<(), String> {
    let log_file =
        std::fs::File::create(log).map_err(|e| format!("cannot write {}: {e}", log.display()))?;
    let err_file = log_file
        .try_clone()
        .map_err(|e| format!("cannot write {}: {e}", log.display()))?;
    let mut cmd = Command::new(spark_submit);
    cmd.arg("--master")
        .arg(master)
        .args(["--conf", "spark.ui.enabled=false"])
        .args(["--conf", "spark.log.level=WARN"])
        .args(["--conf", "spark.sql.shuffle.partitions=4"])
        .args(["--conf", "spark.driver.memory=2g"])
        .arg(runner)
        .arg(job)
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(err_file);
    if let Some(python) = spark_submit.parent().map(|d| d.join("python"))
        && python.is_file()
    {
        cmd.env("PYSPARK_PYTHON", &python)
            .env("PYSPARK_DRIVER_PYTHON", &python);
    }
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {}: {e}; {INSTALL_HINT}", spark_submit.display()))?;
    if status.success() {
        return Ok(());
    }
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let tail: Vec<&str> = text.lines().rev().take(25).collect();
    Err(format!(
        "spark-submit failed ({status}); the end of its log ({}):\n{}",
        log.display(),
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_spark_says_how_to_install_it() {
        let dir = tempfile::tempdir().unwrap();
        // the venv path is tried first; an empty folder has none
        match find_spark_submit(dir.path()) {
            Ok(p) => assert!(p.ends_with("spark-submit")),
            Err(e) => assert!(e.contains("install-test-deps.sh"), "{e}"),
        }
    }
}
