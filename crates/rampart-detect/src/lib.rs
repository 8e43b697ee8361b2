//! CloudTrail detection: rule IR, built-in rules, Sigma and filter-pattern rules, baselines, alert sinks.
//!
//! Every rule source lowers into one compiled form, [`ir::Rule`]; the [`engine`] indexes rules by
//! `eventSource`/`eventName` and evaluates them over raw event bytes, building a document only
//! when a rule needs a field the typed header does not carry.

pub mod alert;
/// The CloudTrail reader and event view live in `rampart-trail`; re-exported for convenience.
pub use rampart_trail::{event, read as input, stream, time};
pub mod baseline;
pub mod detector;
pub mod engine;
pub mod ir;
pub mod optimize;
pub mod parallel;
pub mod patterns;
pub mod rules;
pub mod runbook;
pub mod sigma;
pub mod signin;
pub mod sink;
pub mod source;

pub use alert::Alert;
pub use detector::{DetectStats, Detector};
pub use engine::{Engine, EvalStats};
pub use event::{Event, EventError, Header};
pub use ir::{
    ATTEMPT_PREFIX, Cidr, Condition, FieldPath, IndexKeys, IrError, NumOp, OnFailure, Outcome,
    Predicate, Reach, Rule, RuleMeta, RuleSource, Segment, Severity, StrMatch, StrOp,
};
pub use rules::{Builtin, BuiltinConfig, OrgContext, builtin};
pub use signin::{SigninConfig, SigninTracker};
