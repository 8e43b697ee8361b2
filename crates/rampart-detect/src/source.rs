//! What a rule source loader returns: the rules it lowered into the IR and every rule it could
//! not lower, with the reason (rule sources are never skipped silently).

use crate::ir::Rule;

/// A rule that a loader could not lower.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// The rule's id (Sigma `id`), or the file path when the id is unknown.
    pub id: String,
    pub title: String,
    /// File it came from.
    pub path: String,
    /// One line: which feature is missing or what is malformed.
    pub reason: String,
}

/// The result of loading one rule source (`sigma:DIR`, `patterns:FILE`).
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    pub rules: Vec<Rule>,
    pub unsupported: Vec<Unsupported>,
}
