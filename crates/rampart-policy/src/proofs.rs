//! Questions the audit asks of guardrails, answered with the evaluator.
//!
//! "For any principal" is decided by enumerating the distinct principal classes that can make a
//! difference: an ordinary role, user, role session and the account root user, plus one concrete
//! principal for every principal ARN pattern the policies mention in a condition or
//! `NotPrincipal` (so an exemption such as `ArnNotLike aws:PrincipalArn …/Admin*` is probed on both
//! sides). Principals matching the caller's exempt patterns are skipped.

use crate::eval::{
    CompiledPolicySet, ContextValue, Decision, Evaluation, OrgLevel, PolicySet, Request,
};
use crate::glob::Glob;
use crate::model::{Effect, Policy, Principals};
use crate::parse::{ParseError, parse_policy};
use std::collections::BTreeMap;

/// An identity policy allowing everything: isolates the guardrail under test.
fn allow_all() -> Policy {
    static ALLOW_ALL: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
    ALLOW_ALL
        .get_or_init(|| {
            parse_policy(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            )
            .unwrap_or_else(|_| unreachable!("constant policy parses"))
        })
        .clone()
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

/// A resource-based policy that grants everyone everything: with [`allow_all`] on the identity
/// side it isolates the resource control policies, cross-account requests included.
fn grant_everyone() -> Policy {
    static GRANT: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
    GRANT
        .get_or_init(|| {
            parse_policy(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#,
            )
            .unwrap_or_else(|_| unreachable!("constant policy parses"))
        })
        .clone()
}

/// The decision of an RCP chain (root → OUs → the resource's account) alone: the caller's
/// identity policies and the resource's own policy are taken to allow everything, so whatever
/// is not `Allowed` was stopped by an RCP. `req.resource_account` names the account whose
/// resource is asked for; RCPs apply to service principals and other accounts' callers too.
pub fn rcp_chain_decision(levels: &[OrgLevel], req: &Request) -> Decision {
    rcp_chain(levels).decide(req)
}

/// [`rcp_chain_decision`]'s set compiled once, for deciding many requests against one chain.
pub fn rcp_chain(levels: &[OrgLevel]) -> CompiledPolicySet {
    CompiledPolicySet::new(&PolicySet {
        identity: vec![allow_all()],
        resource: Some(grant_everyone()),
        rcps: Some(levels.to_vec()),
        ..PolicySet::default()
    })
}

/// The outcome of a guardrail proof.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GuardrailProof {
    /// True when every probed principal is denied in every context tried, and every
    /// combination of the conditions' values was tried.
    pub holds: bool,
    /// False when the conditions named too many values to try every combination (they were
    /// varied one key at a time): without a counterexample the claim is then *not proved*
    /// (`holds` false), never taken as holding.
    pub complete: bool,
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
    let (contexts, complete) = context_variants_counted(&policies, context);
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
                    complete,
                    counterexample: Some(p),
                    counterexample_context,
                    probed,
                };
            }
        }
    }
    GuardrailProof {
        holds: complete,
        complete,
        counterexample: None,
        counterexample_context: BTreeMap::new(),
        probed,
    }
}

/// The condition keys a set of policies tests that `given` does not fix and the principal does
/// not determine: the keys a proof has to vary.
fn varied_keys(policies: &[&Policy], given: &BTreeMap<String, ContextValue>) -> Vec<String> {
    let mut keys: Vec<String> = policies
        .iter()
        .flat_map(|p| p.statements.iter())
        .flat_map(|st| st.conditions.iter())
        .filter(|c| {
            !given.keys().any(|k| k.eq_ignore_ascii_case(&c.key))
                && !PRINCIPAL_KEYS.contains(&c.key.to_ascii_lowercase().as_str())
        })
        .map(|c| c.key.clone())
        .collect();
    keys.sort_by_key(|k| k.to_ascii_lowercase());
    keys.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    keys
}

/// Keys derived from the principal: the principal probes cover them, not the context variants.
const PRINCIPAL_KEYS: [&str; 3] = ["aws:principalarn", "aws:principalaccount", "aws:username"];

/// The given context, extended with every combination of the values the policies' conditions
/// name for keys the caller did not fix (plus another value and absence), so a condition-based
/// exemption (a principal tag, `aws:ViaAWSService`, a Region) cannot hide a bypass; and whether every combination was enumerated (false when the budget
/// made it vary one key at a time, so a hole needing two keys at once could be missed).
fn context_variants_counted(
    policies: &[&Policy],
    given: &BTreeMap<String, ContextValue>,
) -> (Vec<BTreeMap<String, ContextValue>>, bool) {
    const BUDGET: usize = 4096;
    let fixed: Vec<String> = given.keys().map(|k| k.to_ascii_lowercase()).collect();
    let mut keys: BTreeMap<String, (String, std::collections::BTreeSet<String>)> = BTreeMap::new();
    for p in policies {
        for st in &p.statements {
            for c in &st.conditions {
                let lower = c.key.to_ascii_lowercase();
                if fixed.contains(&lower) || PRINCIPAL_KEYS.contains(&lower.as_str()) {
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
            let mut o = vec![None, Some(crate::access::ANY_OTHER_VALUE.to_string())];
            o.extend(vals.into_iter().map(Some));
            (name, o)
        })
        .collect();
    let combos = options
        .iter()
        .try_fold(1usize, |acc, (_, o)| acc.checked_mul(o.len()));
    let mut out = vec![given.clone()];
    let complete = combos.is_some_and(|n| n <= BUDGET);
    if complete {
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
    (out, complete)
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
/// (`aws:SecureTransport = false`)? Probes reads, writes, deletes and listing, by a same-account
/// role, an other-account role and an anonymous caller, in every context its other conditions
/// could see; each must be explicitly denied by the bucket policy itself
/// ([`insecure_transport_proof`] without RCPs).
pub fn denies_insecure_transport(bucket_policy: &Policy, bucket: &str) -> bool {
    insecure_transport_proof(Some(bucket_policy), None, bucket, "111111111111").proved()
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

/// A request a proof found not denied, in the context that let it through.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Counterexample {
    pub action: String,
    pub resource: String,
    /// The caller; `None` for an anonymous request.
    pub principal: Option<String>,
    /// Context values beyond the request's own that the counterexample needs.
    pub context: BTreeMap<String, String>,
    /// Keys the policies test that the counterexample leaves absent.
    pub absent: Vec<String>,
    pub decision: Decision,
}

impl Counterexample {
    /// `s3:PutObject on arn:aws:s3:::b/k by arn:… when aws:SourceVpce = vpce-1, aws:x absent`.
    pub fn describe(&self) -> String {
        let who = self.principal.as_deref().unwrap_or("an anonymous caller");
        let mut when: Vec<String> = self
            .context
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        when.extend(self.absent.iter().map(|k| format!("{k} absent")));
        let when = if when.is_empty() {
            String::new()
        } else {
            format!(" when {}", when.join(", "))
        };
        format!("{} on {} by {who}{when}", self.action, self.resource)
    }
}

/// The outcome of a universally quantified proof ([`denied_for_all`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DenialProof {
    /// No probed request was let through, in any context tried.
    pub denied: bool,
    /// Every combination of context values was tried. When false, a `denied` answer is not a
    /// proof: a hole that needs two keys at once may have been missed.
    pub complete: bool,
    pub counterexample: Option<Counterexample>,
    /// The evaluation, with its explanation, of the first request in its own context.
    pub witness: Option<Evaluation>,
}

impl DenialProof {
    /// Denied, and nothing was left untried.
    pub fn proved(&self) -> bool {
        self.denied && self.complete
    }
}

/// Proves that every request is denied (explicitly, when `explicit_only`) by `set` whatever the
/// values of the condition keys the policies test and the request does not fix: each request
/// is decided in every combination of absence, another value and each value the policies name
/// (see [`scp_chain_denies_except`]). A condition the request cannot settle therefore never
/// counts as a deny unless it denies on every side.
pub fn denied_for_all(set: &PolicySet, requests: &[Request], explicit_only: bool) -> DenialProof {
    let policies: Vec<&Policy> = set
        .identity
        .iter()
        .chain(&set.boundaries)
        .chain(&set.session)
        .chain(&set.resource)
        .chain(set.scps.iter().flatten().flat_map(|l| l.policies.iter()))
        .chain(set.rcps.iter().flatten().flat_map(|l| l.policies.iter()))
        .collect();
    denied_for_all_compiled(
        &CompiledPolicySet::new(set),
        &policies,
        requests,
        explicit_only,
    )
}

/// [`denied_for_all`] with the set compiled once by the caller, for many proofs over one set;
/// `policies` are the set's policies (their conditions say which context keys to vary).
pub fn denied_for_all_compiled(
    compiled: &CompiledPolicySet,
    policies: &[&Policy],
    requests: &[Request],
    explicit_only: bool,
) -> DenialProof {
    let stops = |d: Decision| {
        if explicit_only {
            d == Decision::ExplicitlyDenied
        } else {
            d != Decision::Allowed
        }
    };
    let mut complete = true;
    for req in requests {
        let (contexts, all) = context_variants_counted(policies, &req.context);
        complete &= all;
        let mut probe = req.clone();
        for ctx in contexts {
            probe.context = ctx;
            let decision = compiled.decide(&probe);
            if stops(decision) {
                continue;
            }
            let context = probe
                .context
                .iter()
                .filter(|(k, _)| !req.context.contains_key(*k))
                .map(|(k, v)| (k.clone(), context_text(v)))
                .collect();
            let absent = varied_keys(policies, &req.context)
                .into_iter()
                .filter(|k| !probe.context.keys().any(|c| c.eq_ignore_ascii_case(k)))
                .collect();
            return DenialProof {
                denied: false,
                complete,
                counterexample: Some(Counterexample {
                    action: req.action.clone(),
                    resource: req.resource.clone(),
                    principal: req.principal.clone(),
                    context,
                    absent,
                    decision,
                }),
                witness: None,
            };
        }
    }
    DenialProof {
        denied: true,
        complete,
        counterexample: None,
        witness: requests.first().map(|r| compiled.evaluate(r)),
    }
}

fn context_text(v: &ContextValue) -> String {
    match v {
        ContextValue::String(s) => s.clone(),
        ContextValue::List(l) => format!("[{}]", l.join(", ")),
        ContextValue::Bool(b) => b.to_string(),
        ContextValue::Number(n) => n.to_string(),
    }
}

/// CIS 2.1.1 with the organization's RCPs: is every request to `bucket` (owned by `account`)
/// made without TLS explicitly denied — by the bucket policy, or by an RCP in force for the
/// account (`rcps`: root → account; `None` when RCPs do not apply there)? Probes reads, writes,
/// deletes and listing by a role of the owner, a role of another account and an anonymous
/// caller, in every context the policies' other conditions could see.
pub fn insecure_transport_proof(
    bucket_policy: Option<&Policy>,
    rcps: Option<&[OrgLevel]>,
    bucket: &str,
    account: &str,
) -> DenialProof {
    let set = PolicySet {
        identity: vec![allow_all()],
        resource: bucket_policy.cloned(),
        rcps: rcps.map(<[OrgLevel]>::to_vec),
        ..PolicySet::default()
    };
    let object = format!("arn:aws:s3:::{bucket}/rampart-probe");
    let bucket_arn = format!("arn:aws:s3:::{bucket}");
    let other = if account == "999999999999" {
        "888888888888"
    } else {
        "999999999999"
    };
    let principals = [
        Some(format!("arn:aws:iam::{account}:role/rampart-probe")),
        Some(format!("arn:aws:iam::{other}:role/rampart-probe")),
        None,
    ];
    let mut context = BTreeMap::new();
    context.insert("aws:SecureTransport".to_string(), ContextValue::Bool(false));
    let mut requests = Vec::new();
    for (action, resource) in [
        ("s3:GetObject", &object),
        ("s3:PutObject", &object),
        ("s3:DeleteObject", &object),
        ("s3:ListBucket", &bucket_arn),
    ] {
        for p in &principals {
            requests.push(Request {
                action: action.to_string(),
                resource: resource.clone(),
                resource_account: Some(account.to_string()),
                principal: p.clone(),
                context: context.clone(),
                ..Request::default()
            });
        }
    }
    denied_for_all(&set, &requests, true)
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
    fn rcp_chain_isolates_the_perimeter() {
        const RCP_FULL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;
        const ORG_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*",
            "Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-ours"},"BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}}]}"#;
        let chain = vec![
            level("r-root", &[RCP_FULL]),
            level("ou-1", &[RCP_FULL, ORG_ONLY]),
            level("111111111111", &[RCP_FULL]),
        ];
        let req = |principal: &str, org: Option<&str>| {
            let mut context = BTreeMap::new();
            if let Some(o) = org {
                context.insert(
                    "aws:PrincipalOrgID".to_string(),
                    ContextValue::String(o.into()),
                );
            }
            Request {
                action: "s3:GetObject".into(),
                resource: "arn:aws:s3:::data/key".into(),
                resource_account: Some("111111111111".into()),
                principal: Some(principal.into()),
                context,
                ..Request::default()
            }
        };
        let outsider = "arn:aws:iam::999999999999:role/x";
        assert_eq!(
            rcp_chain_decision(&chain, &req(outsider, None)),
            Decision::ExplicitlyDenied
        );
        assert_eq!(
            rcp_chain_decision(&chain, &req(outsider, Some("o-other"))),
            Decision::ExplicitlyDenied
        );
        // Another account of the organization, and an AWS service: not stopped.
        assert_eq!(
            rcp_chain_decision(
                &chain,
                &req("arn:aws:iam::222222222222:role/app", Some("o-ours"))
            ),
            Decision::Allowed
        );
        assert_eq!(
            rcp_chain_decision(&chain, &req("cloudtrail.amazonaws.com", None)),
            Decision::Allowed
        );
        // Not an RCP service: the chain does not apply.
        let mut ec2 = req(outsider, None);
        ec2.action = "ec2:DescribeInstances".into();
        assert_eq!(rcp_chain_decision(&chain, &ec2), Decision::Allowed);
        // A level without RCPFullAWSAccess allows nothing.
        let gap = vec![level("r-root", &[RCP_FULL]), level("ou-1", &[ORG_ONLY])];
        assert_eq!(
            rcp_chain_decision(
                &gap,
                &req("arn:aws:iam::222222222222:role/app", Some("o-ours"))
            ),
            Decision::ImplicitlyDenied
        );
    }

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

    /// Eight keys that must all hold their value at once open a hole no one-key-at-a-time
    /// search finds: past the combination budget the claim is *not proved*, never a pass.
    #[test]
    fn past_the_budget_a_claim_is_not_proved() {
        let statements: Vec<String> = (0..8)
            .map(|i| {
                format!(
                    r#"{{"Effect":"Deny","Action":"cloudtrail:StopLogging","Resource":"*","Condition":{{"StringNotEquals":{{"aws:PrincipalTag/k{i}":"v{i}"}}}}}}"#
                )
            })
            .collect();
        let scp = format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            statements.join(",")
        );
        let chain = vec![level("r-root", &[FULL, &scp])];
        let p = scp_chain_denies_except(
            &chain,
            "cloudtrail:StopLogging",
            "*",
            "111111111111",
            &[],
            &BTreeMap::new(),
        );
        assert!(!p.complete, "{p:?}");
        assert!(!p.holds, "{p:?}");
        assert!(p.counterexample.is_none(), "{p:?}");
        // Seven keys fit the budget: the hole is found.
        let chain = vec![level(
            "r-root",
            &[
                FULL,
                &format!(
                    r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
                    statements[..7].join(",")
                ),
            ],
        )];
        let p = scp_chain_denies_except(
            &chain,
            "cloudtrail:StopLogging",
            "*",
            "111111111111",
            &[],
            &BTreeMap::new(),
        );
        assert!(
            p.complete && !p.holds && p.counterexample.is_some(),
            "{p:?}"
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

    #[test]
    fn insecure_transport_in_every_context() {
        // Spares one VPC endpoint: plain HTTP through it gets in, and the counterexample says so.
        let vpce = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],
            "Condition":{"Bool":{"aws:SecureTransport":"false"},"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}}]}"#;
        let p = insecure_transport_proof(
            Some(&parse_policy(vpce).unwrap()),
            None,
            "b",
            "111111111111",
        );
        assert!(!p.proved());
        let c = p.counterexample.unwrap();
        assert_eq!(
            c.context.get("aws:SourceVpce").map(String::as_str),
            Some("vpce-1")
        );
        assert_eq!(c.decision, Decision::Allowed);
        assert!(
            c.describe().contains("when aws:SourceVpce = vpce-1"),
            "{}",
            c.describe()
        );
        // No bucket policy, but an RCP in force denies it.
        let rcp = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"BoolIfExists":{"aws:SecureTransport":"false"}}}]}"#;
        let chain = vec![level("r-root", &[FULL, rcp])];
        let p = insecure_transport_proof(None, Some(&chain), "b", "111111111111");
        assert!(p.proved(), "{p:?}");
        let w = p.witness.unwrap();
        assert_eq!(
            w.explain.deciding_layer,
            Some(crate::eval::Layer::ResourceControlPolicy)
        );
        assert!(!insecure_transport_proof(None, None, "b", "111111111111").proved());
    }

    #[test]
    fn a_proof_beyond_the_budget_is_not_a_proof() {
        // Seven keys with three values each: more combinations than the budget, so the keys are
        // varied one at a time; no counterexample is found, and the proof says it is incomplete.
        let keys: Vec<String> = (0..7)
            .map(|i| format!(r#""aws:PrincipalTag/k{i}":["a","b","c"]"#))
            .collect();
        let deny = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Action":"*","Resource":"*"}},
               {{"Effect":"Deny","Action":"*","Resource":"*","Condition":{{"StringEquals":{{{}}}}}}}]}}"#,
            keys.join(",")
        );
        let set = PolicySet {
            identity: vec![allow_all()],
            scps: Some(vec![level("r-root", &[FULL, &deny])]),
            ..PolicySet::default()
        };
        let req = Request {
            action: "s3:GetObject".into(),
            resource: "*".into(),
            principal: Some("arn:aws:iam::111111111111:role/r".into()),
            ..Request::default()
        };
        let p = denied_for_all(&set, std::slice::from_ref(&req), true);
        assert!(p.denied && !p.complete && !p.proved(), "{p:?}");
        // Within the budget the same question is a proof.
        let set = PolicySet {
            identity: vec![allow_all()],
            scps: Some(vec![level("r-root", &[FULL, STOP])]),
            ..PolicySet::default()
        };
        let req = Request {
            action: "cloudtrail:StopLogging".into(),
            ..req
        };
        let p = denied_for_all(&set, &[req], false);
        assert!(p.proved() && p.witness.is_some(), "{p:?}");
    }
}
