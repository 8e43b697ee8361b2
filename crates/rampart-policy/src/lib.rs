//! IAM, SCP and RCP policies: parser, evaluator, linter and access analysis, with no AWS SDK.
//!
//! The public API other crates use:
//!
//! * [`parse_policy`] turns policy JSON into a [`Policy`]; a [`ParseError`] displays as
//!   `line:column: what AWS expects`.
//! * [`evaluate`] decides one [`Request`] against a [`PolicySet`] (identity policies,
//!   permissions boundaries, session policy, resource-based policy, SCP and RCP chains as
//!   [`OrgLevel`]s from the root to the account) and returns an [`Evaluation`]: a [`Decision`]
//!   (`Allowed`, `ImplicitlyDenied`, `ExplicitlyDenied`) with an [`Explain`] naming the layer,
//!   org level, policy and statements that decided. Both serialise with serde.
//! * [`CompiledPolicySet`] compiles a set once; [`CompiledPolicySet::decide`] is the fast path.
//! * [`proofs`] holds the audit's questions: does an SCP chain deny an action to everyone but
//!   the exempt roles, does a region-deny SCP spare global services, does a bucket policy deny
//!   insecure transport (CIS 2.1.1).
//! * [`lint`] checks a policy against the embedded IAM table ([`catalog`]) and the rules of its
//!   kind, with stable finding codes.
//! * [`access`] reports who outside an account can use a resource-based policy.
//! * [`simulate`] reads the `rampart policy simulate` input format.
//!
//! ```
//! use rampart_policy::{evaluate, parse_policy, ContextValue, Decision, OrgLevel, PolicySet, Request};
//!
//! let identity = parse_policy(r#"{"Version": "2012-10-17", "Statement":
//!     {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#).unwrap();
//! let guardrail = parse_policy(r#"{"Version": "2012-10-17", "Statement": [
//!     {"Effect": "Allow", "Action": "*", "Resource": "*"},
//!     {"Sid": "TlsOnly", "Effect": "Deny", "Action": "s3:*", "Resource": "*",
//!      "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}"#).unwrap();
//! let set = PolicySet {
//!     identity: vec![identity],
//!     scps: Some(vec![OrgLevel { id: "r-root".into(), policies: vec![guardrail] }]),
//!     ..PolicySet::default()
//! };
//! let mut req = Request {
//!     action: "s3:GetObject".into(),
//!     resource: "arn:aws:s3:::bucket/key".into(),
//!     principal: Some("arn:aws:iam::111111111111:role/app".into()),
//!     ..Request::default()
//! };
//! assert_eq!(evaluate(&req, &set).decision, Decision::Allowed);
//! req.context.insert("aws:SecureTransport".into(), ContextValue::Bool(false));
//! let e = evaluate(&req, &set);
//! assert_eq!(e.decision, Decision::ExplicitlyDenied);
//! assert_eq!(e.explain.layers[0].statements[1].sid.as_deref(), Some("TlsOnly"));
//! assert!(parse_policy("{\"Statement\": {\"Effect\": \"Permit\"}}").unwrap_err().to_string().starts_with("1:26:"));
//! ```
//!
//! Semantics follow the AWS IAM guide (see `docs/policy.md` for the rules and their sources).

pub mod access;
pub mod catalog;
mod cond;
mod eval;
mod glob;
mod json;
pub mod lint;
mod model;
mod parse;
pub mod proofs;
pub mod simulate;

pub use eval::{
    CompiledPolicySet, ContextValue, Decision, Evaluation, Explain, Layer, LayerReport, OrgLevel,
    PolicySet, Request, StatementRef, evaluate,
};
pub use model::{
    ActionElement, ActionPattern, Condition, ConditionValue, Effect, Operator, OperatorFamily,
    Policy, PrincipalElement, PrincipalKind, Principals, ResourceElement, ResourcePattern,
    SetQualifier, Statement, Version,
};
pub use parse::{ParseError, parse_policy};
