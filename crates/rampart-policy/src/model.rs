//! The policy model: what a parsed IAM, SCP, RCP, trust, resource, boundary, session or VPC
//! endpoint policy says. Matchers are compiled at parse time, so evaluation does no parsing.

use crate::glob::{Glob, Part};
use serde::Serialize;

/// `Version`: variables `${…}` are substituted only under `2012-10-17`. An absent `Version`
/// means `2008-10-17` (AWS's rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Version {
    #[serde(rename = "2008-10-17")]
    V2008,
    #[serde(rename = "2012-10-17")]
    V2012,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// A parsed policy document.
#[derive(Debug, Clone)]
pub struct Policy {
    pub version: Version,
    /// Whether `Version` was written explicitly.
    pub version_present: bool,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

/// One statement. `line`/`column` locate it in the source for explanations and lint findings.
#[derive(Debug, Clone)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    /// `Principal` or `NotPrincipal` (resource-based and trust policies only).
    pub principal: Option<PrincipalElement>,
    /// `Action` or `NotAction`.
    pub action: ActionElement,
    /// `Resource` or `NotResource`; absent (trust policies) means the statement's resource is
    /// the one the policy is attached to.
    pub resource: Option<ResourceElement>,
    /// The `Condition` block: every entry must hold (AND).
    pub conditions: Vec<Condition>,
    pub line: usize,
    pub column: usize,
}

/// `Principal` / `NotPrincipal`.
#[derive(Debug, Clone)]
pub struct PrincipalElement {
    pub negated: bool,
    pub principals: Principals,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    /// `"*"`: everyone, including anonymous callers.
    Any,
    /// `{"AWS": …, "Service": …, "Federated": …, "CanonicalUser": …}`.
    Map(Vec<(PrincipalKind, Vec<String>)>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PrincipalKind {
    #[serde(rename = "AWS")]
    Aws,
    Service,
    Federated,
    CanonicalUser,
}

impl PrincipalKind {
    pub fn name(self) -> &'static str {
        match self {
            PrincipalKind::Aws => "AWS",
            PrincipalKind::Service => "Service",
            PrincipalKind::Federated => "Federated",
            PrincipalKind::CanonicalUser => "CanonicalUser",
        }
    }
}

/// `Action` / `NotAction`.
#[derive(Debug, Clone)]
pub struct ActionElement {
    pub negated: bool,
    pub actions: Vec<ActionPattern>,
}

/// `service:Action` with wildcards; matched case-insensitively.
#[derive(Debug, Clone)]
pub struct ActionPattern {
    /// As written.
    pub text: String,
    /// Lower-cased service prefix pattern (`"*"` when the whole action is `*`).
    pub(crate) service: Glob,
    /// Lower-cased action-name pattern.
    pub(crate) name: Glob,
}

impl ActionPattern {
    /// The lower-cased service prefix if it has no wildcard.
    pub fn service(&self) -> Option<&str> {
        match &self.service {
            Glob::Exact(s) => Some(s),
            _ => None,
        }
    }

    /// The lower-cased `service:name` when the pattern has no wildcard.
    pub fn literal(&self) -> Option<String> {
        self.literal_parts().map(|(s, n)| format!("{s}:{n}"))
    }

    /// The lower-cased service and name when the pattern has no wildcard (nothing allocated).
    pub fn literal_parts(&self) -> Option<(&str, &str)> {
        match (&self.service, &self.name) {
            (Glob::Exact(s), Glob::Exact(n)) => Some((s, n)),
            _ => None,
        }
    }

    /// True when this pattern matches the action (`service:name`, any case).
    pub fn matches(&self, action: &str) -> bool {
        let lower = action.to_ascii_lowercase();
        match lower.split_once(':') {
            Some((s, n)) => self.matches_lower(s, n),
            None => false,
        }
    }

    #[inline]
    pub(crate) fn matches_lower(&self, service: &str, name: &str) -> bool {
        self.service.is_match(service) && self.name.is_match(name)
    }
}

/// `Resource` / `NotResource`.
#[derive(Debug, Clone)]
pub struct ResourceElement {
    pub negated: bool,
    pub resources: Vec<ResourcePattern>,
}

/// A resource ARN pattern, matched case-sensitively; `*` may span `:` and `/`.
#[derive(Debug, Clone)]
pub struct ResourcePattern {
    pub text: String,
    pub(crate) glob: Glob,
    /// Set when the pattern uses policy variables (2012-10-17 only).
    pub(crate) template: Option<Vec<Part>>,
}

/// The comparison an operator makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

/// The kind of value an operator compares (for lint and value checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum OperatorFamily {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

impl Operator {
    pub const ALL: [Operator; 27] = [
        Operator::StringEquals,
        Operator::StringNotEquals,
        Operator::StringEqualsIgnoreCase,
        Operator::StringNotEqualsIgnoreCase,
        Operator::StringLike,
        Operator::StringNotLike,
        Operator::NumericEquals,
        Operator::NumericNotEquals,
        Operator::NumericLessThan,
        Operator::NumericLessThanEquals,
        Operator::NumericGreaterThan,
        Operator::NumericGreaterThanEquals,
        Operator::DateEquals,
        Operator::DateNotEquals,
        Operator::DateLessThan,
        Operator::DateLessThanEquals,
        Operator::DateGreaterThan,
        Operator::DateGreaterThanEquals,
        Operator::Bool,
        Operator::BinaryEquals,
        Operator::IpAddress,
        Operator::NotIpAddress,
        Operator::ArnEquals,
        Operator::ArnLike,
        Operator::ArnNotEquals,
        Operator::ArnNotLike,
        Operator::Null,
    ];

    pub fn name(self) -> &'static str {
        use Operator::*;
        match self {
            StringEquals => "StringEquals",
            StringNotEquals => "StringNotEquals",
            StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            StringLike => "StringLike",
            StringNotLike => "StringNotLike",
            NumericEquals => "NumericEquals",
            NumericNotEquals => "NumericNotEquals",
            NumericLessThan => "NumericLessThan",
            NumericLessThanEquals => "NumericLessThanEquals",
            NumericGreaterThan => "NumericGreaterThan",
            NumericGreaterThanEquals => "NumericGreaterThanEquals",
            DateEquals => "DateEquals",
            DateNotEquals => "DateNotEquals",
            DateLessThan => "DateLessThan",
            DateLessThanEquals => "DateLessThanEquals",
            DateGreaterThan => "DateGreaterThan",
            DateGreaterThanEquals => "DateGreaterThanEquals",
            Bool => "Bool",
            BinaryEquals => "BinaryEquals",
            IpAddress => "IpAddress",
            NotIpAddress => "NotIpAddress",
            ArnEquals => "ArnEquals",
            ArnLike => "ArnLike",
            ArnNotEquals => "ArnNotEquals",
            ArnNotLike => "ArnNotLike",
            Null => "Null",
        }
    }

    /// Case-insensitive lookup, as AWS accepts operator names.
    pub fn from_name(s: &str) -> Option<Operator> {
        Operator::ALL
            .into_iter()
            .find(|o| o.name().eq_ignore_ascii_case(s))
    }

    pub fn family(self) -> OperatorFamily {
        use Operator::*;
        match self {
            StringEquals
            | StringNotEquals
            | StringEqualsIgnoreCase
            | StringNotEqualsIgnoreCase
            | StringLike
            | StringNotLike => OperatorFamily::String,
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => OperatorFamily::Numeric,
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => OperatorFamily::Date,
            Bool => OperatorFamily::Bool,
            BinaryEquals => OperatorFamily::Binary,
            IpAddress | NotIpAddress => OperatorFamily::Ip,
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => OperatorFamily::Arn,
            Null => OperatorFamily::Null,
        }
    }

    /// Negated operators are true when the key is missing and when no value matches.
    pub fn is_negated(self) -> bool {
        use Operator::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    /// Whether policy variables are substituted in this operator's values (string and ARN
    /// operators only, per the AWS docs).
    pub fn allows_variables(self) -> bool {
        matches!(self.family(), OperatorFamily::String | OperatorFamily::Arn)
    }
}

/// `ForAllValues:` / `ForAnyValue:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SetQualifier {
    ForAllValues,
    ForAnyValue,
}

/// One `operator: { key: values }` entry of a `Condition` block.
#[derive(Debug, Clone)]
pub struct Condition {
    pub qualifier: Option<SetQualifier>,
    pub operator: Operator,
    pub if_exists: bool,
    /// The key as written (matching is case-insensitive).
    pub key: String,
    pub(crate) key_lower: String,
    pub values: Vec<ConditionValue>,
}

impl Condition {
    /// The operator as written in a policy, e.g. `ForAnyValue:StringLikeIfExists`.
    pub fn operator_text(&self) -> String {
        let q = match self.qualifier {
            Some(SetQualifier::ForAllValues) => "ForAllValues:",
            Some(SetQualifier::ForAnyValue) => "ForAnyValue:",
            None => "",
        };
        let ie = if self.if_exists { "IfExists" } else { "" };
        format!("{q}{}{ie}", self.operator.name())
    }
}

/// A condition value, pre-compiled for its operator.
#[derive(Debug, Clone)]
pub struct ConditionValue {
    pub text: String,
    pub(crate) compiled: Compiled,
}

#[derive(Debug, Clone)]
pub(crate) enum Compiled {
    /// A string or ARN pattern with no variables.
    Glob(Glob),
    /// ARN pattern split into its six segments.
    Arn(Vec<Glob>),
    /// Needs variables from the request.
    Template(Vec<Part>),
    Num(f64),
    /// Milliseconds since the Unix epoch.
    Date(i64),
    Bool(bool),
    Ip(crate::cond::IpNet),
    /// Not a valid value for the operator: never matches.
    Invalid,
}
