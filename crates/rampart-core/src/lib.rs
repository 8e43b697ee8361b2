//! Controls catalogue, organization-aware evaluation of a snapshot, and findings.
