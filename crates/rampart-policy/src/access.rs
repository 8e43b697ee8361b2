//! External access analysis: who outside the account can do what under a resource-based policy.
//!
//! How it reasons (so that it never calls a policy private while some outside request is
//! allowed): the policy's own text bounds what can matter. We enumerate
//!
//! * **principal classes** — anonymous; a role in an unrelated account outside the organization;
//!   a role in another account of the organization (`--org-id`); every account, principal ARN,
//!   ARN pattern (`aws:PrincipalArn`, wildcards filled in an outsider's account), organization id
//!   and service principal the policy mentions;
//! * **condition classes** — for every condition key the policy mentions, each value it names
//!   (wildcards filled, CIDRs by their first address, numbers ±1), another value, and absence.
//!   Keys tied to the caller (`aws:PrincipalOrgID`, `aws:PrincipalAccount`, `aws:PrincipalArn`, …)
//!   follow the principal class instead; an outsider cannot claim the owner's account or
//!   organization in `aws:SourceAccount`/`aws:SourceOrgID`;
//! * **actions** — every catalogue action of the resource's service the policy's Allow
//!   statements can match; **resources** — each resource pattern with wildcards filled.
//!
//! Every combination is evaluated with the evaluator (an outsider's own identity policy is taken
//! to allow everything). Any allowed request is reported with the context it needed. When the
//! combinations exceed a budget, keys are varied one at a time and the report says it is
//! incomplete; the policy is then never reported as private.

use crate::catalog;
use crate::eval::{CompiledPolicySet, ContextValue, Decision, PolicySet, Request};
use crate::model::{Compiled, Effect, Operator, OperatorFamily, Policy, PrincipalKind, Principals};
use crate::parse::parse_policy;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The resource kinds `rampart policy access` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    S3,
    Kms,
    Trust,
    Sns,
    Sqs,
    Lambda,
    SecretsManager,
    Ecr,
    /// OpenSearch Service / Elasticsearch domains (IAM prefix `es`).
    OpenSearch,
    Efs,
    Glacier,
    /// EventBridge event buses.
    EventBridge,
}

impl ResourceKind {
    pub fn from_name(s: &str) -> Option<ResourceKind> {
        Some(match s.to_ascii_lowercase().as_str() {
            "s3" => ResourceKind::S3,
            "kms" => ResourceKind::Kms,
            "trust" | "iam" | "role" => ResourceKind::Trust,
            "sns" => ResourceKind::Sns,
            "sqs" => ResourceKind::Sqs,
            "lambda" => ResourceKind::Lambda,
            "secretsmanager" => ResourceKind::SecretsManager,
            "ecr" => ResourceKind::Ecr,
            "opensearch" | "es" => ResourceKind::OpenSearch,
            "efs" | "elasticfilesystem" => ResourceKind::Efs,
            "glacier" => ResourceKind::Glacier,
            "eventbridge" | "events" => ResourceKind::EventBridge,
            _ => return None,
        })
    }

    fn service(self) -> &'static str {
        match self {
            ResourceKind::S3 => "s3",
            ResourceKind::Kms => "kms",
            ResourceKind::Trust => "sts",
            ResourceKind::Sns => "sns",
            ResourceKind::Sqs => "sqs",
            ResourceKind::Lambda => "lambda",
            ResourceKind::SecretsManager => "secretsmanager",
            ResourceKind::Ecr => "ecr",
            ResourceKind::OpenSearch => "es",
            ResourceKind::Efs => "elasticfilesystem",
            ResourceKind::Glacier => "glacier",
            ResourceKind::EventBridge => "events",
        }
    }

    fn default_resource(self, account: &str) -> String {
        match self {
            ResourceKind::S3 => "arn:aws:s3:::rampart-probe-bucket/probe".into(),
            ResourceKind::Kms => format!("arn:aws:kms:us-east-1:{account}:key/rampart-probe"),
            ResourceKind::Trust => format!("arn:aws:iam::{account}:role/rampart-probe"),
            ResourceKind::Sns => format!("arn:aws:sns:us-east-1:{account}:rampart-probe"),
            ResourceKind::Sqs => format!("arn:aws:sqs:us-east-1:{account}:rampart-probe"),
            ResourceKind::Lambda => {
                format!("arn:aws:lambda:us-east-1:{account}:function:rampart-probe")
            }
            ResourceKind::SecretsManager => {
                format!("arn:aws:secretsmanager:us-east-1:{account}:secret:rampart-probe")
            }
            ResourceKind::Ecr => {
                format!("arn:aws:ecr:us-east-1:{account}:repository/rampart-probe")
            }
            ResourceKind::OpenSearch => {
                format!("arn:aws:es:us-east-1:{account}:domain/rampart-probe/probe")
            }
            ResourceKind::Efs => {
                format!("arn:aws:elasticfilesystem:us-east-1:{account}:file-system/fs-rampartprobe")
            }
            ResourceKind::Glacier => {
                format!("arn:aws:glacier:us-east-1:{account}:vaults/rampart-probe")
            }
            ResourceKind::EventBridge => {
                format!("arn:aws:events:us-east-1:{account}:event-bus/rampart-probe")
            }
        }
    }
}

/// Who the outside caller is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase", tag = "type", content = "id")]
pub enum Outsider {
    /// Anyone on the internet, unauthenticated.
    Public,
    /// Any AWS account outside the organization.
    AnyAccount,
    /// A specific other account (named by the policy).
    Account(String),
    /// Another account of the owner's organization.
    SameOrganization(String),
    /// Another organization named by the policy.
    Organization(String),
    /// An AWS service principal acting for an account other than the owner.
    Service(String),
    /// Whoever holds a token from a federated identity provider (OIDC/SAML), or a canonical user.
    Federated(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessFinding {
    pub who: Outsider,
    /// The principal used for the probe (absent for anonymous).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
    /// Request context the access needs (keys set to the values the policy names).
    pub context: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessReport {
    /// True only when the enumeration was complete and nothing outside can get in.
    pub private: bool,
    /// False when the combination budget was exceeded (keys were varied one at a time).
    pub complete: bool,
    pub requests_evaluated: usize,
    pub findings: Vec<AccessFinding>,
    /// Statements the analysis read in a way worth knowing: one without `Principal` (AWS
    /// rejects the policy; it grants nobody here, never everyone).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// (outsider, probe principal, context) — one finding each.
type GroupKey = (Outsider, Option<String>, Vec<(String, String)>);

/// Keys that follow the caller's identity rather than what the caller sends.
const IDENTITY_KEYS: &[&str] = &[
    "aws:principalorgid",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgpaths",
    "aws:principalisawsservice",
    "aws:principalservicename",
    "aws:principaltype",
    "aws:userid",
    "aws:sourceaccount",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:resourceaccount",
    "aws:sourceowner",
    "kms:calleraccount",
];

/// The value the analysis gives a caller-controlled condition key besides those the policy
/// names: an access found with it holds whatever the caller sends for that key.
pub const ANY_OTHER_VALUE: &str = "rampart-other";

const OUTSIDER_ACCOUNT: &str = "999999999999";
const ORG_PEER_ACCOUNT: &str = "888888888888";
const BUDGET: usize = 200_000;

/// Analyses policy text.
pub fn analyze_text(
    text: &str,
    kind: ResourceKind,
    account: &str,
    org_id: Option<&str>,
) -> Result<AccessReport, crate::ParseError> {
    Ok(analyze(&parse_policy(text)?, kind, account, org_id))
}

struct Probe {
    who: Outsider,
    principal: Option<String>,
    fixed: BTreeMap<String, ContextValue>,
}

fn fill(p: &str) -> String {
    p.replace(['*', '?'], "x")
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Analyses a parsed resource-based policy.
pub fn analyze(
    policy: &Policy,
    kind: ResourceKind,
    account: &str,
    org_id: Option<&str>,
) -> AccessReport {
    // A statement without Principal names nobody: it grants nothing (the evaluator agrees).
    let allows: Vec<_> = policy
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow && s.principal.is_some())
        .collect();
    let notes: Vec<String> = policy
        .statements
        .iter()
        .enumerate()
        .filter(|(_, s)| s.principal.is_none())
        .map(|(i, s)| {
            format!(
                "statement {} (line {}, column {}) has no \"Principal\": AWS rejects a resource-based policy without one; it grants nobody here",
                i + 1,
                s.line,
                s.column
            )
        })
        .collect();
    // What the policy mentions.
    let mut accounts = BTreeSet::new();
    let mut arns = BTreeSet::new();
    let mut services = BTreeSet::new();
    let mut federated = BTreeSet::new();
    let mut orgs = BTreeSet::new();
    // organization paths the policy names, by organization id (`o-a/r-b/ou-c/`)
    let mut org_paths: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut source_arns = BTreeSet::new();
    let mut keys: BTreeMap<String, (String, BTreeSet<String>)> = BTreeMap::new();
    for st in &policy.statements {
        if let Some(pe) = &st.principal
            && let Principals::Map(m) = &pe.principals
        {
            for (k, vals) in m {
                for v in vals {
                    match k {
                        PrincipalKind::Aws if is_account(v) => {
                            accounts.insert(v.clone());
                        }
                        PrincipalKind::Aws if v != "*" => {
                            if let Some(a) = v.split(':').nth(4).filter(|a| is_account(a)) {
                                accounts.insert(a.to_string());
                            }
                            arns.insert(v.clone());
                        }
                        PrincipalKind::Service => {
                            services.insert(v.clone());
                        }
                        PrincipalKind::Federated | PrincipalKind::CanonicalUser if v != "*" => {
                            federated.insert(v.clone());
                        }
                        _ => {}
                    }
                }
            }
        }
        for c in &st.conditions {
            let k = c.key.to_ascii_lowercase();
            let entry = keys
                .entry(k.clone())
                .or_insert_with(|| (c.key.clone(), BTreeSet::new()));
            for v in &c.values {
                let concrete = concrete_values(c.operator, &v.compiled, &v.text);
                for x in &concrete {
                    match k.as_str() {
                        "aws:principalaccount"
                        | "aws:sourceaccount"
                        | "aws:sourceowner"
                        | "kms:calleraccount"
                            if is_account(x) =>
                        {
                            accounts.insert(x.clone());
                        }
                        "aws:principalorgid" | "aws:sourceorgid" | "aws:resourceorgid" => {
                            orgs.insert(x.clone());
                        }
                        "aws:principalarn" => {
                            arns.insert(v.text.clone());
                        }
                        "aws:sourcearn" => {
                            source_arns.insert(v.text.clone());
                        }
                        "aws:principalorgpaths" | "aws:sourceorgpaths" => {
                            if let Some(o) = x.split('/').next().filter(|o| o.starts_with("o-")) {
                                orgs.insert(o.to_string());
                                org_paths
                                    .entry(o.to_string())
                                    .or_default()
                                    .insert(x.clone());
                            }
                        }
                        _ => {}
                    }
                }
                entry.1.extend(concrete);
            }
        }
    }
    accounts.remove(account);
    // Principal classes.
    let mut probes = vec![Probe {
        who: Outsider::Public,
        principal: None,
        fixed: BTreeMap::new(),
    }];
    let outsider_role = format!("arn:aws:iam::{OUTSIDER_ACCOUNT}:role/rampart-outsider");
    probes.push(Probe {
        who: Outsider::AnyAccount,
        principal: Some(outsider_role.clone()),
        fixed: BTreeMap::new(),
    });
    for o in &orgs {
        if Some(o.as_str()) != org_id {
            probes.push(Probe {
                who: Outsider::Organization(o.clone()),
                principal: Some(outsider_role.clone()),
                fixed: org_ctx(o, &org_paths),
            });
        }
    }
    if let Some(org) = org_id {
        probes.push(Probe {
            who: Outsider::SameOrganization(org.to_string()),
            principal: Some(format!(
                "arn:aws:iam::{ORG_PEER_ACCOUNT}:role/rampart-org-peer"
            )),
            fixed: org_ctx(org, &org_paths),
        });
    }
    for a in &accounts {
        probes.push(Probe {
            who: Outsider::Account(a.clone()),
            principal: Some(format!("arn:aws:iam::{a}:role/rampart-probe")),
            fixed: BTreeMap::new(),
        });
    }
    for arn in &arns {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() != 6 || parts[2] != "iam" && parts[2] != "sts" {
            continue;
        }
        let acct = if parts[4].contains(['*', '?']) || parts[4].is_empty() {
            OUTSIDER_ACCOUNT.to_string()
        } else {
            parts[4].to_string()
        };
        if acct == account {
            continue;
        }
        let concrete = format!("arn:{}:{}::{acct}:{}", parts[1], parts[2], fill(parts[5]));
        let who = if acct == OUTSIDER_ACCOUNT {
            Outsider::AnyAccount
        } else {
            Outsider::Account(acct.clone())
        };
        probes.push(Probe {
            who: who.clone(),
            principal: Some(concrete.clone()),
            fixed: BTreeMap::new(),
        });
        if let Some(role) = parts[5].strip_prefix("role/") {
            let name = fill(role.rsplit('/').next().unwrap_or(role));
            probes.push(Probe {
                who,
                principal: Some(format!(
                    "arn:{}:sts::{acct}:assumed-role/{name}/rampart",
                    parts[1]
                )),
                fixed: BTreeMap::new(),
            });
        }
    }
    for s in &services {
        let mut fixed = BTreeMap::new();
        fixed.insert(
            "aws:SourceAccount".to_string(),
            ContextValue::String(OUTSIDER_ACCOUNT.into()),
        );
        fixed.insert(
            "aws:SourceArn".to_string(),
            ContextValue::String(format!(
                "arn:aws:{}:us-east-1:{OUTSIDER_ACCOUNT}:rampart",
                s.split('.').next().unwrap_or("x")
            )),
        );
        probes.push(Probe {
            who: Outsider::Service(s.clone()),
            principal: Some(s.clone()),
            fixed,
        });
        service_probes(
            s,
            &accounts,
            &source_arns,
            &orgs,
            org_id,
            account,
            &org_paths,
            &mut probes,
        );
    }

    for f in &federated {
        probes.push(Probe {
            who: Outsider::Federated(f.clone()),
            principal: Some(f.clone()),
            fixed: BTreeMap::new(),
        });
    }

    // Condition classes for keys the caller controls.
    let free: Vec<(String, Vec<Option<String>>)> = keys
        .iter()
        .filter(|(k, _)| !IDENTITY_KEYS.contains(&k.as_str()) && k.as_str() != "aws:sourcearn")
        .map(|(_, (name, vals))| {
            let mut options: Vec<Option<String>> = vec![None, Some(ANY_OTHER_VALUE.into())];
            options.extend(vals.iter().cloned().map(Some));
            (name.clone(), options)
        })
        .collect();
    let combos: usize = free
        .iter()
        .map(|(_, o)| o.len())
        .try_fold(1usize, |acc, n| acc.checked_mul(n))
        .unwrap_or(usize::MAX);

    // Actions and resources.
    let service = kind.service();
    let cat = catalog::catalog();
    let mut actions: Vec<String> = match cat.services.get(service) {
        Some(s) => s
            .actions
            .iter()
            .map(|a| format!("{service}:{}", a.name))
            .filter(|a| {
                allows.iter().any(|st| {
                    let hit = st.action.actions.iter().any(|p| p.matches(a));
                    hit != st.action.negated
                })
            })
            .collect(),
        None => Vec::new(),
    };
    if kind == ResourceKind::Trust {
        actions.retain(|a| {
            a.starts_with("sts:AssumeRole") || a == "sts:TagSession" || a == "sts:SetSourceIdentity"
        });
    }
    let mut resources: BTreeSet<String> = BTreeSet::new();
    resources.insert(kind.default_resource(account));
    for st in &allows {
        if let Some(r) = &st.resource
            && !r.negated
        {
            for p in &r.resources {
                if p.text != "*" {
                    resources.insert(fill(&p.text.replace("${", "").replace('}', "")));
                }
            }
        }
    }

    let set = PolicySet {
        identity: vec![allow_all()],
        resource: Some(policy.clone()),
        ..PolicySet::default()
    };
    let compiled = CompiledPolicySet::new(&set);
    let complete = combos
        .saturating_mul(probes.len())
        .saturating_mul(actions.len().max(1))
        .saturating_mul(resources.len())
        <= BUDGET;
    let contexts: Vec<Vec<(String, String)>> = if complete {
        let mut out = vec![Vec::new()];
        for (k, opts) in &free {
            let mut next = Vec::new();
            for base in &out {
                for o in opts {
                    let mut b: Vec<(String, String)> = base.clone();
                    if let Some(v) = o {
                        b.push((k.clone(), v.clone()));
                    }
                    next.push(b);
                }
            }
            out = next;
        }
        out
    } else {
        let mut out = vec![Vec::new()];
        for (k, opts) in &free {
            for v in opts.iter().flatten() {
                out.push(vec![(k.clone(), v.clone())]);
            }
        }
        out
    };

    let mut evaluated = 0;
    let mut grouped: BTreeMap<GroupKey, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for probe in &probes {
        for ctx in &contexts {
            let mut context = probe.fixed.clone();
            for (k, v) in ctx {
                context.insert(k.clone(), ContextValue::String(v.clone()));
            }
            for res in &resources {
                for action in &actions {
                    let req = Request {
                        action: action.clone(),
                        resource: res.clone(),
                        resource_account: Some(account.to_string()),
                        principal: probe.principal.clone(),
                        principal_account: None,
                        context: context.clone(),
                    };
                    evaluated += 1;
                    if compiled.decide(&req) == Decision::Allowed {
                        let e = grouped
                            .entry((probe.who.clone(), probe.principal.clone(), ctx.clone()))
                            .or_default();
                        e.0.insert(action.clone());
                        e.1.insert(res.clone());
                    }
                }
            }
        }
    }
    // Keep, per outsider, the findings with the fewest context requirements first.
    let mut findings: Vec<AccessFinding> = grouped
        .into_iter()
        .map(|((who, principal, ctx), (acts, res))| AccessFinding {
            who,
            principal,
            actions: acts.into_iter().collect(),
            resources: res.into_iter().collect(),
            context: ctx.into_iter().collect(),
        })
        .collect();
    findings.sort_by_key(|a| (a.who.clone(), a.context.len()));
    dedupe(&mut findings);
    AccessReport {
        private: complete && findings.is_empty(),
        complete,
        requests_evaluated: evaluated,
        findings,
        notes,
    }
}

/// Drops findings whose actions are already reported for the same outsider with a subset of
/// its context requirements.
fn dedupe(findings: &mut Vec<AccessFinding>) {
    let mut keep: Vec<AccessFinding> = Vec::new();
    for f in findings.drain(..) {
        let covered = keep.iter().any(|k| {
            k.who == f.who
                && k.context
                    .iter()
                    .all(|(key, v)| f.context.get(key) == Some(v))
                && f.actions.iter().all(|a| k.actions.contains(a))
        });
        if !covered {
            keep.push(f);
        }
    }
    *findings = keep;
}

/// The caller context of a principal in organization `org`: its id, and as its path every
/// path of `org` the policy names (wildcards filled) besides the root's.
fn org_ctx(
    org: &str,
    paths: &BTreeMap<String, BTreeSet<String>>,
) -> BTreeMap<String, ContextValue> {
    let mut m = BTreeMap::new();
    m.insert(
        "aws:PrincipalOrgID".to_string(),
        ContextValue::String(org.to_string()),
    );
    m.insert(
        "aws:PrincipalOrgPaths".to_string(),
        ContextValue::List(org_path_list(org, paths)),
    );
    m
}

fn org_path_list(org: &str, paths: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut list = vec![format!("{org}/r-root/")];
    list.extend(paths.get(org).into_iter().flatten().cloned());
    list
}

/// Probes of service principal `service` acting for a resource of each account, source ARN and
/// organization the policy names (other than the owner's): a service principal guarded by
/// `aws:SourceAccount`, `aws:SourceArn` or `aws:SourceOrgID` is reachable by whoever owns the
/// named source, so a named outside account or organization is an outsider like any other.
#[allow(clippy::too_many_arguments)]
fn service_probes(
    service: &str,
    accounts: &BTreeSet<String>,
    source_arns: &BTreeSet<String>,
    orgs: &BTreeSet<String>,
    org_id: Option<&str>,
    owner: &str,
    org_paths: &BTreeMap<String, BTreeSet<String>>,
    probes: &mut Vec<Probe>,
) {
    let prefix = service.split('.').next().unwrap_or("x");
    let probe = |who: Outsider, source_account: &str, source_arn: String| {
        let mut fixed = BTreeMap::new();
        fixed.insert(
            "aws:SourceAccount".to_string(),
            ContextValue::String(source_account.to_string()),
        );
        fixed.insert(
            "aws:SourceArn".to_string(),
            ContextValue::String(source_arn),
        );
        Probe {
            who,
            principal: Some(service.to_string()),
            fixed,
        }
    };
    for a in accounts {
        probes.push(probe(
            Outsider::Account(a.clone()),
            a,
            format!("arn:aws:{prefix}:us-east-1:{a}:rampart"),
        ));
    }
    for arn in source_arns {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        if parts.len() != 6 {
            continue;
        }
        // an ARN without an account (an S3 bucket's) names a resource of a global namespace:
        // whoever owns it is one of the accounts named beside it (`aws:SourceAccount`)
        if parts[4].is_empty() {
            for a in accounts {
                probes.push(probe(Outsider::Account(a.clone()), a, fill(arn)));
            }
            continue;
        }
        let (who, acct) = if parts[4].contains(['*', '?']) {
            (Outsider::AnyAccount, OUTSIDER_ACCOUNT.to_string())
        } else if parts[4] == owner {
            continue;
        } else {
            (
                Outsider::Account(parts[4].to_string()),
                parts[4].to_string(),
            )
        };
        let concrete = format!(
            "arn:{}:{}:{}:{acct}:{}",
            fill(parts[1]),
            fill(parts[2]),
            fill(parts[3]),
            fill(parts[5])
        );
        probes.push(probe(who, &acct, concrete));
    }
    for o in orgs.iter().filter(|o| Some(o.as_str()) != org_id) {
        let mut p = probe(
            Outsider::Organization(o.clone()),
            OUTSIDER_ACCOUNT,
            format!("arn:aws:{prefix}:us-east-1:{OUTSIDER_ACCOUNT}:rampart"),
        );
        p.fixed.insert(
            "aws:SourceOrgID".to_string(),
            ContextValue::String(o.clone()),
        );
        p.fixed.insert(
            "aws:SourceOrgPaths".to_string(),
            ContextValue::List(org_path_list(o, org_paths)),
        );
        probes.push(p);
    }
}

fn allow_all() -> Policy {
    parse_policy(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    )
    .unwrap_or_else(|_| unreachable!("constant policy parses"))
}

/// Values that satisfy (and sit at the edge of) a condition value.
pub(crate) fn concrete_values(op: Operator, compiled: &Compiled, text: &str) -> Vec<String> {
    match (op.family(), compiled) {
        (OperatorFamily::Numeric, Compiled::Num(n)) => vec![
            format!("{}", n - 1.0),
            format!("{n}"),
            format!("{}", n + 1.0),
        ],
        (OperatorFamily::Ip, Compiled::Ip(net)) => vec![net.network().to_string()],
        (OperatorFamily::Bool | OperatorFamily::Null, _) => vec!["true".into(), "false".into()],
        (OperatorFamily::Date, _) => vec![
            text.to_string(),
            "1970-01-01T00:00:00Z".into(),
            "2999-01-01T00:00:00Z".into(),
        ],
        _ => vec![fill(&text.replace("${", "").replace('}', ""))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(policy: &str, kind: ResourceKind) -> AccessReport {
        analyze_text(policy, kind, "111111111111", Some("o-mine")).unwrap()
    }

    #[test]
    fn public_bucket() {
        let r = report(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#,
            ResourceKind::S3,
        );
        assert!(!r.private);
        assert!(
            r.findings
                .iter()
                .any(|f| f.who == Outsider::Public && f.actions == ["s3:GetObject"])
        );
    }

    #[test]
    fn org_restricted_bucket_is_org_only() {
        let r = report(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-mine"}}}}"#,
            ResourceKind::S3,
        );
        assert!(!r.private);
        assert!(
            r.findings
                .iter()
                .all(|f| matches!(f.who, Outsider::SameOrganization(_))),
            "{r:#?}"
        );
    }

    /// `kms:CallerAccount` and SNS's `aws:SourceOwner` follow the caller's account: pinned to
    /// the owner they keep outsiders out, pinned to another account they let that one in.
    #[test]
    fn caller_account_keys_follow_the_caller() {
        let kms = |acct: &str| {
            report(
                &format!(
                    r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"*"}},"Action":"kms:Decrypt","Resource":"*","Condition":{{"StringEquals":{{"kms:CallerAccount":"{acct}"}}}}}}}}"#
                ),
                ResourceKind::Kms,
            )
        };
        assert!(kms("111111111111").private, "{:#?}", kms("111111111111"));
        let r = kms("999988887777");
        assert!(
            r.findings
                .iter()
                .any(|f| f.who == Outsider::Account("999988887777".into())),
            "{r:#?}"
        );
        assert!(
            r.findings.iter().all(|f| f.who != Outsider::Public),
            "{r:#?}"
        );
        let sns = report(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:Publish","SNS:Subscribe"],"Resource":"arn:aws:sns:us-east-1:111111111111:t","Condition":{"StringEquals":{"AWS:SourceOwner":"111111111111"}}}}"#,
            ResourceKind::Sns,
        );
        assert!(sns.private, "{sns:#?}");
    }

    #[test]
    fn same_account_only_is_private() {
        let r = report(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"kms:*","Resource":"*"}]}"#,
            ResourceKind::Kms,
        );
        assert!(r.private, "{r:#?}");
        assert!(r.complete);
    }

    #[test]
    fn named_account_and_ip_conditions_are_reported() {
        let r = report(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"sqs:SendMessage","Resource":"*"},
            {"Effect":"Allow","Principal":"*","Action":"sqs:ReceiveMessage","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}]}"#,
            ResourceKind::Sqs,
        );
        assert!(
            r.findings
                .iter()
                .any(|f| f.who == Outsider::Account("222222222222".into())
                    && f.actions.contains(&"sqs:SendMessage".to_string()))
        );
        let ip = r
            .findings
            .iter()
            .find(|f| f.who == Outsider::Public)
            .expect("public via IP range");
        assert_eq!(
            ip.context.get("aws:SourceIp").map(String::as_str),
            Some("203.0.113.0")
        );
    }

    #[test]
    fn trust_policy_with_wildcard_principal_arn_pattern() {
        let r = report(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/deploy"}}}}"#,
            ResourceKind::Trust,
        );
        assert!(!r.private);
        assert!(
            r.findings.iter().any(|f| f
                .principal
                .as_deref()
                .is_some_and(|p| p.contains(OUTSIDER_ACCOUNT))),
            "{r:#?}"
        );
    }

    #[test]
    fn oidc_trust_without_subject_condition_is_open() {
        let open = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}}}"#;
        let r = report(open, ResourceKind::Trust);
        assert!(!r.private);
        assert!(
            r.findings
                .iter()
                .any(|f| matches!(&f.who, Outsider::Federated(p) if p.contains("oidc-provider"))),
            "{r:#?}"
        );
        // Scoped to a repository, holders of matching tokens are still outsiders: reported with
        // the subject they need.
        let scoped = open.replace(r#""StringEquals""#, r#""StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/*"},"StringEquals""#);
        let r = report(&scoped, ResourceKind::Trust);
        let f = r
            .findings
            .iter()
            .find(|f| matches!(f.who, Outsider::Federated(_)))
            .expect("federated finding");
        assert_eq!(
            f.context
                .get("token.actions.githubusercontent.com:sub")
                .map(String::as_str),
            Some("repo:acme/x")
        );
    }

    #[test]
    fn confused_deputy_guarded_by_source_account() {
        let guarded = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"111111111111"}}}}"#;
        assert!(report(guarded, ResourceKind::Sqs).private);
        let open = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*"}}"#;
        let r = report(open, ResourceKind::Sqs);
        assert!(
            r.findings
                .iter()
                .any(|f| f.who == Outsider::Service("sns.amazonaws.com".into()))
        );
    }

    /// A service principal guarded by a source condition reaches whoever owns the named
    /// source: an outside account or organization is reported, the owner's is not.
    #[test]
    fn service_principal_source_conditions_name_their_owner() {
        let policy = |cond: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"Service":"sns.amazonaws.com"}},"Action":"sqs:SendMessage","Resource":"*","Condition":{cond}}}}}"#
            )
        };
        let who = |cond: &str| -> Vec<Outsider> {
            report(&policy(cond), ResourceKind::Sqs)
                .findings
                .into_iter()
                .map(|f| f.who)
                .collect()
        };
        let outside = Outsider::Account("333333333333".into());
        assert_eq!(
            who(r#"{"StringEquals":{"aws:SourceAccount":"333333333333"}}"#),
            std::slice::from_ref(&outside)
        );
        assert_eq!(
            who(r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:eu-west-1:333333333333:t"}}"#),
            [outside]
        );
        assert!(
            who(r#"{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:*:t"}}"#)
                .contains(&Outsider::AnyAccount)
        );
        assert!(
            who(r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:eu-west-1:111111111111:t"}}"#)
                .is_empty()
        );
        // a bucket ARN has no account: the one named beside it owns it
        assert!(who(r#"{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::b"}}"#).is_empty());
        assert_eq!(
            who(
                r#"{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::b"},"StringEquals":{"aws:SourceAccount":"333333333333"}}"#
            ),
            [Outsider::Account("333333333333".into())]
        );
        assert!(who(r#"{"StringEquals":{"aws:SourceOrgID":"o-mine"}}"#).is_empty());
        assert_eq!(
            who(r#"{"StringEquals":{"aws:SourceOrgID":"o-other"}}"#),
            [Outsider::Organization("o-other".into())]
        );
    }

    /// `aws:PrincipalOrgPaths` pins callers to an organization like `aws:PrincipalOrgID`.
    #[test]
    fn principal_org_paths_pin_the_organization() {
        let policy = |path: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{{"ForAnyValue:StringLike":{{"aws:PrincipalOrgPaths":"{path}"}}}}}}}}"#
            )
        };
        let mine = report(
            &policy("o-mine/r-ab12/ou-ab12-prod/*"),
            ResourceKind::SecretsManager,
        );
        assert!(
            !mine.findings.is_empty()
                && mine
                    .findings
                    .iter()
                    .all(|f| matches!(f.who, Outsider::SameOrganization(_))),
            "{mine:#?}"
        );
        let other = report(&policy("o-other/*"), ResourceKind::SecretsManager);
        assert!(
            other
                .findings
                .iter()
                .any(|f| f.who == Outsider::Organization("o-other".into())),
            "{other:#?}"
        );
        assert!(other.findings.iter().all(|f| f.who != Outsider::Public));
    }

    #[test]
    fn new_resource_kinds_have_their_service_actions() {
        for (kind, action) in [
            (ResourceKind::Ecr, "ecr:BatchGetImage"),
            (ResourceKind::OpenSearch, "es:ESHttpGet"),
            (ResourceKind::Efs, "elasticfilesystem:ClientMount"),
            (ResourceKind::Glacier, "glacier:InitiateJob"),
            (ResourceKind::EventBridge, "events:PutEvents"),
        ] {
            let p = format!(
                r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":"*","Action":"{action}","Resource":"*"}}}}"#
            );
            let r = report(&p, kind);
            assert!(
                r.findings
                    .iter()
                    .any(|f| f.who == Outsider::Public && f.actions == [action]),
                "{kind:?}: {r:#?}"
            );
        }
    }

    #[test]
    fn statement_without_principal_grants_nobody() {
        let r = report(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
            ResourceKind::S3,
        );
        assert!(r.private && r.findings.is_empty(), "{r:#?}");
        assert_eq!(r.notes.len(), 1);
        assert!(r.notes[0].contains("no \"Principal\""), "{r:#?}");
        // Beside a real grant, only the real grant is reported.
        let r = report(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
            {"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
            ResourceKind::S3,
        );
        assert!(
            r.findings
                .iter()
                .all(|f| f.who == Outsider::Account("222222222222".into())
                    && f.actions == ["s3:GetObject"]),
            "{r:#?}"
        );
        assert!(!r.findings.is_empty());
    }
}
