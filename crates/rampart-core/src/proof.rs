//! Proofs over policies: "is this request denied by the SCPs in force?" and "does this bucket
//! policy deny that request?".
//!
//! The guardrail controls and CIS 2.1.1 ask one question each through [`scp_decision`] and
//! [`resource_policy_denies`]. The evaluation here follows the documented IAM logic for the parts
//! those questions need (Action/NotAction, Resource/NotResource, Principal, the string, ARN and
//! Bool condition operators with `IfExists`), and is deliberately conservative: a condition it
//! cannot evaluate makes a Deny statement *not* count, so an unknown construct can never turn
//! into a false PASS. When `rampart-policy` exposes its evaluator, these two functions are the
//! only place to switch over.

use serde_json::Value;
use std::collections::BTreeMap;

/// The request a proof is about.
#[derive(Debug, Clone)]
pub struct ProbeRequest {
    /// `service:Action`.
    pub action: String,
    /// Resource ARN (`*` for actions without a resource).
    pub resource: String,
    /// Condition context: `aws:PrincipalArn`, `aws:RequestedRegion`, `aws:SecureTransport`, …
    pub context: BTreeMap<String, String>,
}

impl ProbeRequest {
    pub fn new(action: &str, resource: &str) -> Self {
        ProbeRequest {
            action: action.to_string(),
            resource: resource.to_string(),
            context: BTreeMap::new(),
        }
    }
    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.context
            .insert(key.to_ascii_lowercase(), value.to_string());
        self
    }
    fn get(&self, key: &str) -> Option<&str> {
        self.context
            .get(&key.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// The outcome of SCP evaluation for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScpDecision {
    /// A Deny statement applies: `(level, policy name)`.
    ExplicitDeny { level: String, policy: String },
    /// Some level has no Allow that covers the request.
    ImplicitDeny { level: String },
    /// Every level allows and nothing denies.
    Allowed,
    /// A policy could not be read; names it and why.
    Unreadable { policy: String, reason: String },
}

impl ScpDecision {
    pub fn is_denied(&self) -> bool {
        matches!(
            self,
            ScpDecision::ExplicitDeny { .. } | ScpDecision::ImplicitDeny { .. }
        )
    }
    pub fn explain(&self) -> String {
        match self {
            ScpDecision::ExplicitDeny { level, policy } => {
                format!("explicitly denied by SCP `{policy}` on {level}")
            }
            ScpDecision::ImplicitDeny { level } => {
                format!("implicitly denied: no SCP on {level} allows it")
            }
            ScpDecision::Allowed => "allowed by the SCPs in force".to_string(),
            ScpDecision::Unreadable { policy, reason } => {
                format!("SCP `{policy}` cannot be read: {reason}")
            }
        }
    }
}

/// One level of the organization (root, an OU, the account) with the SCPs attached there.
#[derive(Debug, Clone)]
pub struct ScpLevel<'a> {
    pub target: String,
    /// `(policy name, parsed document or the JSON error)`.
    pub policies: Vec<(&'a str, &'a Result<Value, String>)>,
}

/// Evaluates `req` against the SCPs along root → OU → account, as AWS does: an applicable Deny
/// anywhere denies; otherwise every level needs an applicable Allow.
pub fn scp_decision(levels: &[ScpLevel<'_>], req: &ProbeRequest) -> ScpDecision {
    scp_decision_detail(levels, req).0
}

/// [`scp_decision`], plus whether a statement that could change the outcome had a condition this
/// evaluator cannot decide (then only a full evaluator can settle an `Allowed`).
pub fn scp_decision_detail(levels: &[ScpLevel<'_>], req: &ProbeRequest) -> (ScpDecision, bool) {
    let mut uncertain = false;
    for level in levels {
        for (name, doc) in &level.policies {
            match doc {
                Err(reason) => {
                    let d = ScpDecision::Unreadable {
                        policy: name.to_string(),
                        reason: reason.clone(),
                    };
                    return (d, false);
                }
                Ok(doc) => {
                    for s in statements(doc).filter(|s| effect_is(s, "Deny")) {
                        match applies(s, req, false) {
                            Tri::Yes => {
                                let d = ScpDecision::ExplicitDeny {
                                    level: level.target.clone(),
                                    policy: name.to_string(),
                                };
                                return (d, false);
                            }
                            Tri::Unknown => uncertain = true,
                            Tri::No => {}
                        }
                    }
                }
            }
        }
    }
    // Every entity has at least one SCP attached when SCPs are enabled; a level listed with none
    // means the collector could not see its attachments, so it cannot prove an implicit deny.
    for level in levels.iter().filter(|l| !l.policies.is_empty()) {
        let mut allowed = Tri::No;
        for (_, doc) in &level.policies {
            let Ok(d) = doc else { continue };
            for s in statements(d).filter(|s| effect_is(s, "Allow")) {
                match applies(s, req, false) {
                    Tri::Yes => allowed = Tri::Yes,
                    Tri::Unknown if allowed == Tri::No => allowed = Tri::Unknown,
                    _ => {}
                }
            }
        }
        match allowed {
            Tri::Yes => {}
            // An Allow we cannot decide: no implicit deny can be claimed.
            Tri::Unknown => return (ScpDecision::Allowed, true),
            Tri::No => {
                let d = ScpDecision::ImplicitDeny {
                    level: level.target.clone(),
                };
                return (d, uncertain);
            }
        }
    }
    (ScpDecision::Allowed, uncertain)
}

/// Parses a policy document once, keeping the error text for reports.
pub fn parse_doc(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

/// The full IAM evaluator's view (`rampart-policy`), consulted when the conservative evaluator
/// above cannot prove a deny (for example a date or IP condition it does not model). A request is
/// treated as denied when either evaluator proves it; rampart-policy's own tests cover its
/// semantics, and the differential test below checks that the two never contradict on a proved deny.
pub fn full_scp_denies(levels: &[rampart_policy::OrgLevel], req: &ProbeRequest) -> bool {
    if levels.is_empty() {
        return false;
    }
    let principal = req.get("aws:PrincipalArn").unwrap_or_default();
    let context = req
        .context
        .iter()
        .map(|(k, v)| (k.clone(), rampart_policy::ContextValue::String(v.clone())))
        .collect();
    // Only an explicit deny counts: with an allow-all identity policy and no other layers it can
    // only come from an SCP, whereas an implicit deny may come from unrelated cross-account rules.
    rampart_policy::proofs::scp_chain_decision(
        levels,
        &req.action,
        &req.resource,
        principal,
        &context,
    ) == rampart_policy::Decision::ExplicitlyDenied
}

/// CIS 2.1.1 by the full evaluator: reads, writes and listing without TLS are explicitly denied
/// for same-account, cross-account and anonymous callers.
pub fn full_denies_insecure_transport(policy: &str, bucket: &str) -> bool {
    rampart_policy::proofs::denies_insecure_transport_text(policy, bucket).unwrap_or(false)
}

/// True when the resource policy has a Deny statement that certainly applies to `req` coming from
/// any principal (`Principal: "*"`). `Err` when the policy is not JSON.
pub fn resource_policy_denies(policy: &str, req: &ProbeRequest) -> Result<bool, String> {
    let doc: Value = serde_json::from_str(policy).map_err(|e| e.to_string())?;
    Ok(statements(&doc).any(|s| effect_is(s, "Deny") && applies(s, req, true) == Tri::Yes))
}

/// Three-valued logic: a construct we cannot evaluate is `Unknown`, never `Yes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    Unknown,
}

fn statements(doc: &Value) -> impl Iterator<Item = &Value> {
    let st = doc.get("Statement");
    let list: Vec<&Value> = match st {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    };
    list.into_iter()
}

fn effect_is(s: &Value, effect: &str) -> bool {
    s.get("Effect").and_then(Value::as_str) == Some(effect)
}

fn strings(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn applies(s: &Value, req: &ProbeRequest, resource_policy: bool) -> Tri {
    let action_ok = if s.get("Action").is_some() {
        strings(s.get("Action"))
            .iter()
            .any(|p| glob_ci(p, &req.action))
    } else if s.get("NotAction").is_some() {
        !strings(s.get("NotAction"))
            .iter()
            .any(|p| glob_ci(p, &req.action))
    } else {
        false
    };
    if !action_ok {
        return Tri::No;
    }
    let resource_ok = if s.get("Resource").is_some() {
        strings(s.get("Resource"))
            .iter()
            .any(|p| glob(p, &req.resource))
    } else if s.get("NotResource").is_some() {
        !strings(s.get("NotResource"))
            .iter()
            .any(|p| glob(p, &req.resource))
    } else {
        // SCPs may omit Resource in Deny statements only when it is "*" implicitly? No: AWS
        // requires it; treat absence as not applicable.
        false
    };
    if !resource_ok {
        return Tri::No;
    }
    if resource_policy {
        // The proof is about *any* caller, so only a statement naming every principal counts.
        let p = s.get("Principal");
        let everyone = match p {
            Some(Value::String(s)) => s == "*",
            Some(Value::Object(m)) => m
                .get("AWS")
                .is_some_and(|a| strings(Some(a)).contains(&"*")),
            _ => false,
        };
        if !everyone || s.get("NotPrincipal").is_some() {
            return Tri::No;
        }
    }
    match s.get("Condition") {
        None => Tri::Yes,
        Some(Value::Object(ops)) => {
            let mut all = Tri::Yes;
            for (op, block) in ops {
                let Value::Object(keys) = block else {
                    return Tri::Unknown;
                };
                for (key, values) in keys {
                    match condition(op, key, &strings(Some(values)), values, req) {
                        Tri::Yes => {}
                        Tri::No => return Tri::No,
                        Tri::Unknown => all = Tri::Unknown,
                    }
                }
            }
            all
        }
        Some(_) => Tri::Unknown,
    }
}

fn condition(op: &str, key: &str, values: &[&str], raw: &Value, req: &ProbeRequest) -> Tri {
    if op.starts_with("ForAnyValue:") || op.starts_with("ForAllValues:") {
        return Tri::Unknown;
    }
    let (base, if_exists) = match op.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (op, false),
    };
    let bool_values: Vec<String> = match raw {
        Value::Bool(b) => vec![b.to_string()],
        Value::Array(a) => a
            .iter()
            .filter_map(|v| {
                v.as_bool()
                    .map(|b| b.to_string())
                    .or(v.as_str().map(str::to_string))
            })
            .collect(),
        _ => values.iter().map(|s| s.to_string()).collect(),
    };
    let negated = matches!(
        base,
        "StringNotEquals"
            | "StringNotEqualsIgnoreCase"
            | "StringNotLike"
            | "ArnNotEquals"
            | "ArnNotLike"
    );
    let Some(actual) = req.get(key) else {
        if base == "Null" {
            return tri(bool_values.iter().any(|v| v == "true"));
        }
        // A missing key: IfExists and negated operators match, the rest do not.
        return tri(if_exists || negated);
    };
    let any = |f: &dyn Fn(&str) -> bool| values.iter().any(|v| f(v));
    let r = match base {
        "StringEquals" | "ArnEquals" => any(&|v| v == actual),
        "StringNotEquals" | "ArnNotEquals" => !any(&|v| v == actual),
        "StringEqualsIgnoreCase" => any(&|v| v.eq_ignore_ascii_case(actual)),
        "StringNotEqualsIgnoreCase" => !any(&|v| v.eq_ignore_ascii_case(actual)),
        "StringLike" | "ArnLike" => any(&|v| glob(v, actual)),
        "StringNotLike" | "ArnNotLike" => !any(&|v| glob(v, actual)),
        "Bool" => bool_values.iter().any(|v| v.eq_ignore_ascii_case(actual)),
        "Null" => bool_values.iter().any(|v| v == "false"),
        _ => return Tri::Unknown,
    };
    tri(r)
}

fn tri(b: bool) -> Tri {
    if b { Tri::Yes } else { Tri::No }
}

/// IAM wildcard match: `*` any run, `?` any one character; case-sensitive.
pub fn glob(pattern: &str, text: &str) -> bool {
    glob_bytes(pattern.as_bytes(), text.as_bytes(), false)
}

/// Case-insensitive variant, for actions.
pub fn glob_ci(pattern: &str, text: &str) -> bool {
    glob_bytes(pattern.as_bytes(), text.as_bytes(), true)
}

fn glob_bytes(p: &[u8], t: &[u8], ci: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if ci {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || (p[pi] != b'*' && eq(p[pi], t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    const DENY_STOP: &str = r#"{"Statement":[{"Effect":"Deny","Action":["cloudtrail:StopLogging","cloudtrail:Delete*"],"Resource":"*",
        "Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/BreakGlass"}}}]}"#;

    fn levels(p: &[(&'static str, &str)]) -> Vec<ScpLevel<'static>> {
        let leak =
            |t: &str| -> &'static Result<Value, String> { Box::leak(Box::new(parse_doc(t))) };
        vec![
            ScpLevel {
                target: "r-root".into(),
                policies: p.iter().map(|(n, t)| (*n, leak(t))).collect(),
            },
            ScpLevel {
                target: "111".into(),
                policies: vec![("FullAWSAccess", leak(FULL))],
            },
        ]
    }

    #[test]
    fn deny_with_exemption_condition() {
        let l = levels(&[("FullAWSAccess", FULL), ("deny", DENY_STOP)]);
        let probe = ProbeRequest::new(
            "CloudTrail:stoplogging",
            "arn:aws:cloudtrail:us-east-1:1:trail/org",
        )
        .with("aws:PrincipalArn", "arn:aws:iam::1:role/Dev");
        assert!(matches!(
            scp_decision(&l, &probe),
            ScpDecision::ExplicitDeny { .. }
        ));
        let exempt = ProbeRequest::new("cloudtrail:StopLogging", "*")
            .with("aws:PrincipalArn", "arn:aws:iam::1:role/BreakGlass");
        assert_eq!(scp_decision(&l, &exempt), ScpDecision::Allowed);
        let other = ProbeRequest::new("cloudtrail:DeleteTrail", "*")
            .with("aws:PrincipalArn", "arn:aws:iam::1:role/Dev");
        assert!(scp_decision(&l, &other).is_denied());
    }

    #[test]
    fn implicit_deny_when_a_level_lacks_allow() {
        let l = levels(&[(
            "AllowEc2",
            r#"{"Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*"}}"#,
        )]);
        assert_eq!(
            scp_decision(&l, &ProbeRequest::new("iam:CreateUser", "*")),
            ScpDecision::ImplicitDeny {
                level: "r-root".into()
            }
        );
        assert_eq!(
            scp_decision(&l, &ProbeRequest::new("ec2:RunInstances", "*")),
            ScpDecision::Allowed
        );
    }

    #[test]
    fn unknown_condition_never_proves_a_deny() {
        let p = r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01"}}}]}"#;
        let l = levels(&[("FullAWSAccess", FULL), ("odd", p)]);
        assert_eq!(
            scp_decision(&l, &ProbeRequest::new("s3:GetObject", "*")),
            ScpDecision::Allowed
        );
    }

    #[test]
    fn undecidable_allow_never_proves_an_implicit_deny() {
        let p = r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":"x"}}}]}"#;
        let l = levels(&[("odd-allow", p)]);
        let (d, uncertain) = scp_decision_detail(&l, &ProbeRequest::new("s3:GetObject", "*"));
        assert_eq!((d, uncertain), (ScpDecision::Allowed, true));
    }

    #[test]
    fn region_deny_with_notaction() {
        let p = r#"{"Statement":[{"Effect":"Deny","NotAction":["iam:*","organizations:*","sts:*"],"Resource":"*",
            "Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}}}]}"#;
        let l = levels(&[("FullAWSAccess", FULL), ("region", p)]);
        let ec2 =
            |r: &str| ProbeRequest::new("ec2:RunInstances", "*").with("aws:RequestedRegion", r);
        assert!(scp_decision(&l, &ec2("ap-south-1")).is_denied());
        assert!(!scp_decision(&l, &ec2("eu-west-1")).is_denied());
        let iam =
            ProbeRequest::new("iam:CreateRole", "*").with("aws:RequestedRegion", "ap-south-1");
        assert!(!scp_decision(&l, &iam).is_denied());
    }

    #[test]
    fn tls_only_bucket_policy() {
        let p = r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],
            "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;
        let req = ProbeRequest::new("s3:GetObject", "arn:aws:s3:::b/k")
            .with("aws:SecureTransport", "false");
        assert_eq!(resource_policy_denies(p, &req), Ok(true));
        let tls = ProbeRequest::new("s3:GetObject", "arn:aws:s3:::b/k")
            .with("aws:SecureTransport", "true");
        assert_eq!(resource_policy_denies(p, &tls), Ok(false));
        // A deny limited to one principal does not prove TLS-only for everyone.
        let narrow = p.replace(
            r#""Principal":"*""#,
            r#""Principal":{"AWS":"arn:aws:iam::1:root"}"#,
        );
        assert_eq!(resource_policy_denies(&narrow, &req), Ok(false));
        assert!(resource_policy_denies("{", &req).is_err());
    }

    #[test]
    fn globbing() {
        assert!(glob("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y"));
        assert!(!glob("arn:aws:s3:::b/*", "arn:aws:s3:::c/x"));
        assert!(glob_ci("GuardDuty:Delete*", "guardduty:deletedetector"));
        assert!(glob("a?c", "abc") && !glob("a?c", "ac"));
    }
}

/// Soundness against the team's full evaluator (`rampart-policy`): whenever this module proves a
/// request denied, the full evaluator must agree. Runs over the example guardrails in
/// `../shared/reference/scps` and the sample organization's SCPs, with ordinary, exempt-looking
/// and root principals, in allowed and disallowed regions.
#[cfg(test)]
mod differential {
    use super::*;
    use rampart_policy::proofs::scp_chain_denies;
    use rampart_policy::{ContextValue, OrgLevel, parse_policy};

    const FULL: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

    fn documents() -> Vec<(String, String)> {
        let mut docs = vec![
            (
                "sample-guardrails".to_string(),
                crate::sample::GUARDRAIL_SCP.to_string(),
            ),
            (
                "sample-region-deny".to_string(),
                crate::sample::region_deny_scp(&["us-east-1", "eu-west-1"]),
            ),
        ];
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/reference/scps"
        );
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                let wanted = name.ends_with(".json")
                    && !name.contains("RCP")
                    && !name.starts_with("BUCKET-POLICY");
                if let Some(text) = wanted
                    .then(|| std::fs::read_to_string(e.path()).ok())
                    .flatten()
                {
                    docs.push((name, text));
                }
            }
        }
        docs
    }

    #[test]
    fn every_proved_deny_is_a_deny_for_the_full_evaluator() {
        let actions = [
            (
                "cloudtrail:StopLogging",
                "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail",
            ),
            (
                "cloudtrail:DeleteTrail",
                "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail",
            ),
            ("organizations:LeaveOrganization", "*"),
            ("guardduty:DeleteDetector", "*"),
            ("securityhub:DisableSecurityHub", "*"),
            ("config:StopConfigurationRecorder", "*"),
            ("s3:PutAccountPublicAccessBlock", "*"),
            ("ec2:RunInstances", "*"),
            ("iam:CreateRole", "*"),
            ("sts:GetCallerIdentity", "*"),
        ];
        let principals = [
            "arn:aws:iam::400000000000:role/WorkloadAdministrator",
            "arn:aws:iam::400000000000:role/RampartPlatform",
            "arn:aws:iam::400000000000:role/AWSControlTowerExecution",
            "arn:aws:iam::400000000000:root",
        ];
        let mut checked = 0;
        let mut proved = 0;
        for (name, text) in documents() {
            let Ok(policy) = parse_policy(&text) else {
                continue;
            };
            let full = parse_policy(FULL).unwrap();
            let theirs = vec![
                OrgLevel {
                    id: "r-root".into(),
                    policies: vec![full.clone(), policy],
                },
                OrgLevel {
                    id: "400000000000".into(),
                    policies: vec![full],
                },
            ];
            let full_doc = parse_doc(FULL);
            let doc = parse_doc(&text);
            let ours = vec![
                ScpLevel {
                    target: "r-root".into(),
                    policies: vec![("FullAWSAccess", &full_doc), (name.as_str(), &doc)],
                },
                ScpLevel {
                    target: "400000000000".into(),
                    policies: vec![("FullAWSAccess", &full_doc)],
                },
            ];
            for (action, resource) in actions {
                for principal in principals {
                    for region in ["us-east-1", "ap-southeast-2"] {
                        let req = ProbeRequest::new(action, resource)
                            .with("aws:PrincipalArn", principal)
                            .with("aws:PrincipalAccount", "400000000000")
                            .with("aws:RequestedRegion", region)
                            .with("aws:SecureTransport", "true");
                        let context = req
                            .context
                            .iter()
                            .map(|(k, v)| (k.clone(), ContextValue::String(v.clone())))
                            .collect();
                        let mine = scp_decision(&ours, &req);
                        checked += 1;
                        if mine.is_denied() {
                            proved += 1;
                            assert!(
                                scp_chain_denies(&theirs, action, resource, principal, &context),
                                "{name}: {action} by {principal} in {region}: {} but rampart-policy allows it",
                                mine.explain()
                            );
                        }
                    }
                }
            }
        }
        assert!(
            checked > 0 && proved > 0,
            "checked {checked}, proved {proved}"
        );
    }
}
