//! The snapshot: everything rampart's controls need, read once from AWS and evaluated offline.
//!
//! `rampart collect` writes a [`Snapshot`] as JSON; `rampart audit --snapshot FILE` reads it back.
//! Collection and evaluation meet only here, so the collector (the only code on the AWS SDK) and
//! the controls (pure functions) can be built and tested apart.
//!
//! # Conventions
//! - Field names are `snake_case`; AWS enum values keep AWS's spelling (`"Enabled"`, `"ACTIVE"`).
//! - Policy documents are kept as the JSON text AWS returned (URL-decoded), so the policy engine
//!   can report line and column in the original.
//! - Absence and failure are different things. An empty list or `None` means "observed, and there
//!   is none". When a read failed, the collector records a [`CollectionError`] (in the account's or
//!   the region's `errors`) naming the API; controls that depend on that API report ERROR, never
//!   PASS. [`Snapshot::error_for`] and friends answer "could this be observed?".
//! - Every struct accepts missing fields (`#[serde(default)]`) so that older snapshots of the same
//!   major `schema_version` still load.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod model;
pub use model::*;

/// The schema version this build writes and reads. Bump on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// Why a snapshot could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: cannot read snapshot: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path}:{line}:{column}: not a rampart snapshot: {message} (write one with `rampart collect --output FILE`)"
    )]
    Json {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "{path}: snapshot schema_version {found} is not supported by this rampart (expects {expected}); re-run `rampart collect`"
    )]
    Version {
        path: String,
        found: u32,
        expected: u32,
    },
}

impl Snapshot {
    /// Parses a snapshot from JSON text; `path` only names the source in errors.
    pub fn from_json(path: &str, text: &str) -> Result<Snapshot, LoadError> {
        #[derive(Deserialize)]
        struct Probe {
            schema_version: Option<u32>,
        }
        let to_err = |e: serde_json::Error| LoadError::Json {
            path: path.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        let probe: Probe = serde_json::from_str(text).map_err(to_err)?;
        match probe.schema_version {
            Some(SCHEMA_VERSION) => {}
            Some(found) => {
                return Err(LoadError::Version {
                    path: path.to_string(),
                    found,
                    expected: SCHEMA_VERSION,
                });
            }
            None => {
                return Err(LoadError::Json {
                    path: path.to_string(),
                    line: 1,
                    column: 1,
                    message: "missing field `schema_version`".into(),
                });
            }
        }
        serde_json::from_str(text).map_err(to_err)
    }

    /// Reads and parses a snapshot file.
    pub fn load(path: &std::path::Path) -> Result<Snapshot, LoadError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
            path: shown.clone(),
            source,
        })?;
        Self::from_json(&shown, &text)
    }

    /// Pretty JSON, the on-disk form.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("snapshot serialises")
    }

    /// The account with this id, if it was collected.
    pub fn account(&self, id: &str) -> Option<&AccountSnapshot> {
        self.accounts.iter().find(|a| a.account_id == id)
    }

    /// The first collection error for `api` (e.g. `"iam:GetAccountPasswordPolicy"`; a prefix such as
    /// `"iam:"` matches every IAM call) in `account` and `region` (`None` = account-wide or global).
    /// Errors recorded for the whole account (role not assumable) match every api and region.
    pub fn error_for(
        &self,
        account: &str,
        region: Option<&str>,
        api: &str,
    ) -> Option<&CollectionError> {
        let acct = self.account(account)?;
        let matches = |e: &&CollectionError| e.api == "*" || e.api.starts_with(api);
        if let Some(e) = acct.errors.iter().find(matches) {
            return Some(e);
        }
        let region = region?;
        acct.regions
            .iter()
            .find(|r| r.region == region)
            .and_then(|r| r.errors.iter().find(matches))
    }
}

/// Counts of what a snapshot holds; shown after `collect`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SnapshotStats {
    pub accounts: usize,
    pub regions: usize,
    pub errors: usize,
    pub api_calls: u64,
}

impl Snapshot {
    pub fn stats(&self) -> SnapshotStats {
        SnapshotStats {
            accounts: self.accounts.len(),
            regions: self.accounts.iter().map(|a| a.regions.len()).sum(),
            errors: self.errors.len()
                + self
                    .accounts
                    .iter()
                    .map(|a| {
                        a.errors.len() + a.regions.iter().map(|r| r.errors.len()).sum::<usize>()
                    })
                    .sum::<usize>(),
            api_calls: self.collection.api_calls,
        }
    }
}

/// Free-form counters (API calls per service, retries, throttles) kept for benchmarks.
pub type Counters = BTreeMap<String, u64>;
