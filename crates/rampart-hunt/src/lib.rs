//! Hunt where the logs are: rampart's detection rules as one Apache Spark job over years of
//! organization trail.
//!
//! The rule IR ([`rampart_detect::ir`]) is compiled to data and to Spark SQL predicates
//! ([`compile`], [`sql`]) that a fixed PySpark runner (`runner.py`, embedded here) evaluates
//! with the local engine's semantics (or interprets, `Evaluation::Interpret`); the job
//! ([`job::Job`]) adds the inputs, pruned to the days of `--since/--until` by the S3 layout
//! ([`layout`]), and the output folder. [`job::Job::emit`] writes it for any Spark;
//! [`local`] runs it with a local `spark-submit`; [`results`] reads the alerts
//! (`rampart.alert/v1` JSON Lines, partitioned by day) and the run's counters back. Submission
//! to EMR Serverless lives in `rampart-aws` (the only crate on the AWS SDK).

pub mod compile;
pub mod job;
pub mod layout;
pub mod local;
pub mod results;
pub mod sql;

pub use compile::{Compiled, Fallback, Unsupported, compile};
pub use job::Job;

/// The PySpark runner every job uses (the same file for local, EMR and any other Spark).
pub const RUNNER_PY: &str = include_str!("runner.py");
