//! SigmaHQ rule loader: lowers `logsource: product aws, service cloudtrail` YAML rules into the
//! rule IR ([`crate::ir`]). Owned by the Sigma engineer; this placeholder only reserves the module.
