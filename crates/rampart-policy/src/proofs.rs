//! Questions the audit asks of guardrails, answered with the evaluator.
//!
//! "For any principal" is decided by enumerating the distinct principal classes that can make a
//! difference: an ordinary role, user, role session and the account root user, plus one concrete
//! principal for every principal ARN pattern the policies mention in a condition or
//! `NotPrincipal` (so an exemption such as `ArnNotLike aws:PrincipalArn …/Admin*` is probed on both
//! sides). Principals matching the caller's exempt patterns are skipped.

use crate::eval::{CompiledPolicySet, ContextValue, Decision, OrgLevel, PolicySet, Request};
use crate::glob::Glob;
use crate::model::{Effect, Policy, Principals};
use crate::parse::{ParseError, parse_policy};
use std::collections::BTreeMap;

/// An identity policy allowing everything: isolates the guardrail under test.
fn allow_all() -> Policy {
    parse_policy(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    )
    .unwrap_or_else(|_| unreachable!("constant policy parses"))
}

/// True when the SCP chain (root → OUs → account) stops the request: an explicit deny at any
/// level, or a level with no applicable Allow. The identity side is taken to allow everything.
pub fn scp_chain_denies(
    levels: &[OrgLevel],
    action: &str,
    resource: &str,
    principal_arn: &str,
    context: &BTreeMap<String, ContextValue>,
) -> bool {
    scp_chain_decision(levels, action, resource, principal_arn, context) != Decision::Allowed
}

/// The decision of the SCP chain alone, with an allow-all identity policy.
pub fn scp_chain_decision(
    levels: &[OrgLevel],
    action: &str,
    resource: &str,
    principal_arn: &str,
    context: &BTreeMap<String, ContextValue>,
) -> Decision {
    let set = PolicySet {
        identity: vec![allow_all()],
        scps: Some(levels.to_vec()),
        ..PolicySet::default()
    };
    let req = Request {
        action: action.to_string(),
        resource: resource.to_string(),
        principal: Some(principal_arn.to_string()),
        context: context.clone(),
        ..Request::default()
    };
    CompiledPolicySet::new(&set).decide(&req)
}

/// The outcome of a guardrail proof.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GuardrailProof {
    /// True when every probed principal is denied.
    pub holds: bool,
    /// A principal that is not denied, if any.
    pub counterexample: Option<String>,
    /// Context keys (beyond the given context) the counterexample needs, e.g. a principal tag.
    pub counterexample_context: BTreeMap<String, String>,
    /// The principals probed (exempt ones excluded).
    pub probed: Vec<String>,
}

/// Proves that the SCP chain denies `action` on `resource` to every principal of `account`
/// except those matching `exempt` (ARN patterns with `*`/`?`, e.g.
/// `arn:aws:iam::*:role/OrgAdmin`). Role sessions of exempt roles count as exempt.
pub fn scp_chain_denies_except(
    levels: &[OrgLevel],
    action: &str,
    resource: &str,
    account: &str,
    exempt: &[&str],
    context: &BTreeMap<String, ContextValue>,
) -> GuardrailProof {
    let exempt: Vec<Glob> = exempt.iter().map(|e| Glob::new(e)).collect();
    let policies: Vec<&Policy> = levels.iter().flat_map(|l| l.policies.iter()).collect();
    let contexts = context_variants(&policies, context);
    let set = PolicySet {
        identity: vec![allow_all()],
        scps: Some(levels.to_vec()),
        ..PolicySet::default()
    };
    let compiled = CompiledPolicySet::new(&set);
    let mut probed = Vec::new();
    for p in probe_principals(&policies, account) {
        let role_arn = session_role_arn(&p);
        let is_exempt = exempt
            .iter()
            .any(|g| g.is_match(&p) || role_arn.as_deref().is_some_and(|r| g.is_match(r)));
        if is_exempt {
            continue;
        }
        probed.push(p.clone());
        for ctx in &contexts {
            let req = Request {
                action: action.to_string(),
                resource: resource.to_string(),
                principal: Some(p.clone()),
                context: ctx.clone(),
                ..Request::default()
            };
            if compiled.decide(&req) == Decision::Allowed {
                let counterexample_context = ctx
                    .iter()
                    .filter(|(k, _)| !context.contains_key(*k))
                    .map(|(k, v)| (k.clone(), format!("{v:?}")))
                    .collect();
                return GuardrailProof {
                    holds: false,
                    counterexample: Some(p),
                    counterexample_context,
                    probed,
                };
            }
        }
    }
    GuardrailProof {
        holds: true,
        counterexample: None,
        counterexample_context: BTreeMap::new(),
        probed,
    }
}

/// The given context, extended with every combination of the values the policies' conditions
/// name for keys the caller did not fix (plus another value and absence), so a condition-based
/// exemption (a principal tag, `aws:ViaAWSService`, a Region) cannot hide a bypass. Keys tied to
/// the principal ARN are covered by the principal probes instead.
fn context_variants(
    policies: &[&Policy],
    given: &BTreeMap<String, ContextValue>,
) -> Vec<BTreeMap<String, ContextValue>> {
    const BUDGET: usize = 4096;
    let fixed: Vec<String> = given.keys().map(|k| k.to_ascii_lowercase()).collect();
    let mut keys: BTreeMap<String, (String, std::collections::BTreeSet<String>)> = BTreeMap::new();
    for p in policies {
        for st in &p.statements {
            for c in &st.conditions {
                let lower = c.key.to_ascii_lowercase();
                if fixed.contains(&lower)
                    || matches!(
                        lower.as_str(),
                        "aws:principalarn" | "aws:principalaccount" | "aws:username"
                    )
                {
                    continue;
                }
                let e = keys
                    .entry(lower)
                    .or_insert_with(|| (c.key.clone(), Default::default()));
                for v in &c.values {
                    e.1.extend(crate::access::concrete_values(
                        c.operator,
                        &v.compiled,
                        &v.text,
                    ));
                }
            }
        }
    }
    let options: Vec<(String, Vec<Option<String>>)> = keys
        .into_values()
        .map(|(name, vals)| {
            let mut o = vec![None, Some("rampart-other".to_string())];
            o.extend(vals.into_iter().map(Some));
            (name, o)
        })
        .collect();
    let combos = options
        .iter()
        .try_fold(1usize, |acc, (_, o)| acc.checked_mul(o.len()));
    let mut out = vec![given.clone()];
    if combos.is_some_and(|n| n <= BUDGET) {
        for (k, opts) in &options {
            let mut next = Vec::with_capacity(out.len() * opts.len());
            for base in &out {
                for o in opts {
                    let mut b = base.clone();
                    if let Some(v) = o {
                        b.insert(k.clone(), ContextValue::String(v.clone()));
                    }
                    next.push(b);
                }
            }
            out = next;
        }
    } else {
        // Too many combinations: vary one key at a time.
        for (k, opts) in &options {
            for v in opts.iter().flatten() {
                let mut b = given.clone();
                b.insert(k.clone(), ContextValue::String(v.clone()));
                out.push(b);
            }
        }
    }
    out
}

fn session_role_arn(p: &str) -> Option<String> {
    let (head, res) = p.rsplit_once(':')?;
    let role = res.strip_prefix("assumed-role/")?.split('/').next()?;
    let head = head.replacen(":sts:", ":iam:", 1);
    Some(format!("{head}:role/{role}"))
}

/// Concrete principals: generic ones plus one per principal ARN pattern in the policies.
fn probe_principals(policies: &[&Policy], account: &str) -> Vec<String> {
    let mut out = vec![
        format!("arn:aws:iam::{account}:role/rampart-probe-role"),
        format!("arn:aws:iam::{account}:user/rampart-probe-user"),
        format!("arn:aws:sts::{account}:assumed-role/rampart-probe-role/probe-session"),
        format!("arn:aws:iam::{account}:root"),
    ];
    let mut add = |pattern: &str| {
        let concrete = pattern.replace(['*', '?'], "x");
        let parts: Vec<&str> = concrete.splitn(6, ':').collect();
        if parts.len() != 6 || parts[0] != "arn" {
            return;
        }
        let arn = format!("arn:{}:{}::{account}:{}", parts[1], parts[2], parts[5]);
        if let Some(role) = parts[5].strip_prefix("role/") {
            let name = role.rsplit('/').next().unwrap_or(role);
            out.push(format!(
                "arn:{}:sts::{account}:assumed-role/{name}/probe-session",
                parts[1]
            ));
        }
        out.push(arn);
    };
    for p in policies {
        for st in &p.statements {
            for c in &st.conditions {
                let k = c.key.to_ascii_lowercase();
                if k == "aws:principalarn" || k == "aws:userid" || k == "aws:sourcearn" {
                    for v in &c.values {
                        add(&v.text);
                    }
                }
            }
            if let Some(pe) = &st.principal
                && let Principals::Map(m) = &pe.principals
            {
                for (_, vals) in m {
                    for v in vals {
                        add(v);
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Actions of global services, whose requests carry `aws:RequestedRegion = us-east-1` whatever
/// Region the caller works in: a region-deny guardrail must exempt them.
pub const GLOBAL_SERVICE_PROBES: &[&str] = &[
    "iam:CreateRole",
    "iam:ListRoles",
    "organizations:DescribeOrganization",
    "sts:AssumeRole",
    "sts:GetCallerIdentity",
    "route53:ListHostedZones",
    "cloudfront:ListDistributions",
    "support:DescribeCases",
    "sso:ListInstances",
    "budgets:ViewBudget",
    "waf:ListWebACLs",
    "health:DescribeEvents",
];

/// What a region-deny SCP chain does.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RegionDenyReport {
    /// A regional action (`ec2:RunInstances`) in `denied_region` is denied: the guardrail works.
    pub blocks_regional: bool,
    /// Global-service actions that the chain wrongly blocks when the caller's Region is denied.
    pub blocked_global: Vec<String>,
}

impl RegionDenyReport {
    /// The guardrail blocks the denied Region and spares every global service.
    pub fn is_sound(&self) -> bool {
        self.blocks_regional && self.blocked_global.is_empty()
    }
}

/// Checks a region-deny chain for `principal_arn`: regional calls in `denied_region` must be
/// denied, and global-service calls (which AWS signs for `us-east-1`) must not be, whether
/// `us-east-1` is an allowed Region or not.
pub fn region_deny_check(
    levels: &[OrgLevel],
    principal_arn: &str,
    denied_region: &str,
) -> RegionDenyReport {
    let ctx = |r: &str| {
        let mut c = BTreeMap::new();
        c.insert(
            "aws:RequestedRegion".to_string(),
            ContextValue::String(r.to_string()),
        );
        c
    };
    let blocks_regional = scp_chain_denies(
        levels,
        "ec2:RunInstances",
        "*",
        principal_arn,
        &ctx(denied_region),
    );
    let blocked_global = GLOBAL_SERVICE_PROBES
        .iter()
        .filter(|a| {
            scp_chain_denies(levels, a, "*", principal_arn, &ctx("us-east-1"))
                || scp_chain_denies(levels, a, "*", principal_arn, &ctx(denied_region))
        })
        .map(|a| a.to_string())
        .collect();
    RegionDenyReport {
        blocks_regional,
        blocked_global,
    }
}

/// CIS 2.1.1: does the bucket policy explicitly deny every request made without TLS
/// (`aws:SecureTransport = false`)? Probes reads, writes and listing, by a same-account role, an
/// other-account role and an anonymous caller; each must be explicitly denied by the bucket
/// policy itself.
pub fn denies_insecure_transport(bucket_policy: &Policy, bucket: &str) -> bool {
    let set = PolicySet {
        identity: vec![allow_all()],
        resource: Some(bucket_policy.clone()),
        ..PolicySet::default()
    };
    let compiled = CompiledPolicySet::new(&set);
    let object = format!("arn:aws:s3:::{bucket}/rampart-probe");
    let bucket_arn = format!("arn:aws:s3:::{bucket}");
    let probes = [
        ("s3:GetObject", &object),
        ("s3:PutObject", &object),
        ("s3:DeleteObject", &object),
        ("s3:ListBucket", &bucket_arn),
    ];
    let principals = [
        Some("arn:aws:iam::111111111111:role/rampart-probe"),
        Some("arn:aws:iam::999999999999:role/rampart-probe"),
        None,
    ];
    probes.iter().all(|(action, resource)| {
        principals.iter().all(|p| {
            let mut context = BTreeMap::new();
            context.insert("aws:SecureTransport".to_string(), ContextValue::Bool(false));
            let req = Request {
                action: action.to_string(),
                resource: resource.to_string(),
                resource_account: Some("111111111111".into()),
                principal: p.map(str::to_string),
                context,
                ..Request::default()
            };
            compiled.decide(&req) == Decision::ExplicitlyDenied
        })
    })
}

/// [`denies_insecure_transport`] on policy text.
pub fn denies_insecure_transport_text(
    bucket_policy: &str,
    bucket: &str,
) -> Result<bool, ParseError> {
    Ok(denies_insecure_transport(
        &parse_policy(bucket_policy)?,
        bucket,
    ))
}

/// True when some statement of the policy is a Deny (a cheap pre-check for reports).
pub fn has_deny(policy: &Policy) -> bool {
    policy.statements.iter().any(|s| s.effect == Effect::Deny)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(id: &str, texts: &[&str]) -> OrgLevel {
        OrgLevel {
            id: id.into(),
            policies: texts.iter().map(|t| parse_policy(t).unwrap()).collect(),
        }
    }
    const FULL: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    const STOP: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["cloudtrail:StopLogging","cloudtrail:DeleteTrail"],"Resource":"*",
        "Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/BreakGlass"}}}]}"#;

    #[test]
    fn stoplogging_guardrail_with_exemption() {
        let chain = vec![
            level("r-root", &[FULL, STOP]),
            level("ou-1", &[FULL]),
            level("111111111111", &[FULL]),
        ];
        let trail = "arn:aws:cloudtrail:us-east-1:111111111111:trail/org";
        let p = scp_chain_denies_except(
            &chain,
            "cloudtrail:StopLogging",
            trail,
            "111111111111",
            &["arn:aws:iam::*:role/BreakGlass"],
            &BTreeMap::new(),
        );
        assert!(p.holds, "{p:?}");
        assert!(p.probed.iter().any(|x| x.contains("assumed-role")));
        // Without declaring the exemption, the BreakGlass role is a counterexample.
        let p = scp_chain_denies_except(
            &chain,
            "cloudtrail:StopLogging",
            trail,
            "111111111111",
            &[],
            &BTreeMap::new(),
        );
        assert!(!p.holds);
        assert!(p.counterexample.unwrap().contains("BreakGlass"));
        // A guardrail only at an OU that does not cover this account proves nothing.
        let chain = vec![
            level("r-root", &[FULL]),
            level("ou-1", &[FULL]),
            level("111111111111", &[FULL]),
        ];
        assert!(
            !scp_chain_denies_except(
                &chain,
                "cloudtrail:StopLogging",
                trail,
                "111111111111",
                &[],
                &BTreeMap::new()
            )
            .holds
        );
    }

    #[test]
    fn tag_based_exemption_is_a_counterexample() {
        let tagged = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"cloudtrail:StopLogging","Resource":"*",
            "Condition":{"StringNotEquals":{"aws:PrincipalTag/exempt":"yes"}}}]}"#;
        let chain = vec![level("r-root", &[FULL, tagged])];
        let p = scp_chain_denies_except(
            &chain,
            "cloudtrail:StopLogging",
            "*",
            "111111111111",
            &[],
            &BTreeMap::new(),
        );
        assert!(!p.holds);
        assert!(
            p.counterexample_context
                .get("aws:PrincipalTag/exempt")
                .is_some_and(|v| v.contains("yes")),
            "{p:?}"
        );
        // Fixing the key in the given context removes the variation.
        let mut ctx = BTreeMap::new();
        ctx.insert(
            "aws:PrincipalTag/exempt".to_string(),
            ContextValue::String("no".into()),
        );
        assert!(
            scp_chain_denies_except(
                &chain,
                "cloudtrail:StopLogging",
                "*",
                "111111111111",
                &[],
                &ctx
            )
            .holds
        );
    }

    #[test]
    fn missing_full_access_at_a_level_denies() {
        let chain = vec![level("r-root", &[FULL]), level("ou-1", &[STOP])];
        assert!(scp_chain_denies(
            &chain,
            "s3:GetObject",
            "*",
            "arn:aws:iam::111111111111:role/x",
            &BTreeMap::new()
        ));
    }

    #[test]
    fn region_deny() {
        let good = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["iam:*","organizations:*","sts:*","route53:*","cloudfront:*","support:*","sso:*","budgets:*","waf:*","health:*"],
            "Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}}]}"#;
        let naive = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1"]}}}]}"#;
        let role = "arn:aws:iam::111111111111:role/dev";
        let r = region_deny_check(&[level("r", &[FULL, good])], role, "ap-south-1");
        assert!(r.is_sound(), "{r:?}");
        let r = region_deny_check(&[level("r", &[FULL, naive])], role, "ap-south-1");
        assert!(r.blocks_regional);
        assert!(r.blocked_global.contains(&"iam:CreateRole".to_string()));
        let r = region_deny_check(&[level("r", &[FULL])], role, "ap-south-1");
        assert!(!r.blocks_regional);
    }

    #[test]
    fn tls_only_bucket_policy() {
        let good = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;
        assert!(denies_insecure_transport_text(good, "b").unwrap());
        // Only objects covered: listing still works over HTTP.
        let partial = good.replace(
            r#"["arn:aws:s3:::b","arn:aws:s3:::b/*"]"#,
            r#""arn:aws:s3:::b/*""#,
        );
        assert!(!denies_insecure_transport_text(&partial, "b").unwrap());
        // An Allow conditioned on TLS is not a deny.
        let allow = good.replace("Deny", "Allow").replace("false", "true");
        assert!(!denies_insecure_transport_text(&allow, "b").unwrap());
        // Another bucket's policy text.
        assert!(!denies_insecure_transport_text(good, "other").unwrap());
        assert!(denies_insecure_transport_text("{", "b").is_err());
        // NumericLessThan on s3:TlsVersion does not cover plain HTTP (the key is absent).
        let tls = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"NumericLessThan":{"s3:TlsVersion":"1.2"}}}]}"#;
        assert!(!denies_insecure_transport_text(tls, "b").unwrap());
    }
}
