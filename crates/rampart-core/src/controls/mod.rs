//! The controls, one file per control family. Each file exports `CONTROLS`; the catalogue is
//! the concatenation of those lists, so adding a control is adding it to its family's file.
//!
//! Id scheme: `cis-<number>` for CIS AWS Foundations v3.0 controls (e.g. `cis-1.4`, `cis-2.1.1`)
//! and `base-<topic>` for the rampart baseline controls from the seeds.

pub mod cloudtrail;
pub mod config;
pub mod guardrails;
pub mod iam_escalation;
pub mod iam_password;
pub mod iam_policies;
pub mod iam_root;
pub mod iam_users;
pub mod identity;
pub mod identity_center;
pub mod kms;
pub mod manual;
pub mod monitoring;
pub mod network;
pub mod s3;
pub mod security_services;
pub mod storage;
pub mod vpc;

use crate::Control;

/// Every family, in catalogue order.
pub static ALL: &[&[Control]] = &[
    iam_root::CONTROLS,
    iam_password::CONTROLS,
    identity_center::CONTROLS,
    iam_users::CONTROLS,
    identity::CONTROLS,
    iam_policies::CONTROLS,
    iam_escalation::CONTROLS,
    s3::CONTROLS,
    storage::CONTROLS,
    cloudtrail::CONTROLS,
    config::CONTROLS,
    kms::CONTROLS,
    vpc::CONTROLS,
    monitoring::CONTROLS,
    security_services::CONTROLS,
    network::CONTROLS,
    guardrails::CONTROLS,
    manual::CONTROLS,
];

pub(crate) fn bucket_arn(name: &str) -> String {
    format!("arn:aws:s3:::{name}")
}
