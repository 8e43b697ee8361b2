//! Property tests of the evaluator (issue 3 item 7): adding a Deny never turns a denial into an
//! Allow; statement order never matters; adding an Allow never undoes an explicit deny; the fast
//! path (`decide`) agrees with the explained path (`evaluate`). With the VPC endpoint layer: an
//! endpoint policy never turns a denial into an Allow; `sts:GetCallerIdentity` is allowed for
//! every authenticated caller whatever the policies say. Requests include wildcard and
//! incomplete resource ARNs, so every property also holds for the "all resources named" reading.

use proptest::prelude::*;
use rampart_policy::{
    ContextValue, Decision, OrgLevel, Policy, PolicySet, Request, evaluate, parse_policy,
};
use std::collections::BTreeMap;

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:*",
    "s3:Get*",
    "iam:*",
    "*",
    "ec2:RunInstances",
    "kms:Decrypt",
];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b/k",
    "arn:aws:s3:::other/*",
    "arn:aws:iam::*:role/*",
];
const CONDITIONS: &[&str] = &[
    "",
    r#","Condition":{"Bool":{"aws:SecureTransport":"false"}}"#,
    r#","Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}"#,
    r#","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
    r#","Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":["a*"]}}"#,
    r#","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/admin"}}"#,
    r#","Condition":{"StringEqualsIfExists":{"aws:PrincipalOrgID":"o-1"}}"#,
];
const PRINCIPALS: &[&str] = &[
    "\"*\"",
    r#"{"AWS":"111111111111"}"#,
    r#"{"AWS":"arn:aws:iam::111111111111:role/app"}"#,
    r#"{"AWS":"arn:aws:iam::222222222222:root"}"#,
];

#[derive(Debug, Clone)]
struct St {
    deny: bool,
    not_action: bool,
    actions: Vec<usize>,
    resource: usize,
    cond: usize,
    principal: usize,
}

fn st() -> impl Strategy<Value = St> {
    (
        any::<bool>(),
        prop::bool::weighted(0.15),
        prop::collection::vec(0..ACTIONS.len(), 1..3),
        0..RESOURCES.len(),
        0..CONDITIONS.len(),
        0..PRINCIPALS.len(),
    )
        .prop_map(
            |(deny, not_action, actions, resource, cond, principal)| St {
                deny,
                not_action,
                actions,
                resource,
                cond,
                principal,
            },
        )
}

fn render(s: &St, with_principal: bool) -> String {
    let acts: Vec<String> = s
        .actions
        .iter()
        .map(|&i| format!("\"{}\"", ACTIONS[i]))
        .collect();
    let p = if with_principal {
        format!(r#","Principal":{}"#, PRINCIPALS[s.principal])
    } else {
        String::new()
    };
    format!(
        r#"{{"Effect":"{}"{p},"{}":[{}],"Resource":"{}"{}}}"#,
        if s.deny { "Deny" } else { "Allow" },
        if s.not_action { "NotAction" } else { "Action" },
        acts.join(","),
        RESOURCES[s.resource],
        CONDITIONS[s.cond]
    )
}

fn policy(sts: &[St], with_principal: bool) -> Policy {
    let body: Vec<String> = sts.iter().map(|s| render(s, with_principal)).collect();
    parse_policy(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        body.join(",")
    ))
    .unwrap()
}

#[derive(Debug, Clone)]
struct Layers {
    identity: Vec<Vec<St>>,
    boundary: Option<Vec<St>>,
    resource: Option<Vec<St>>,
    scp: Option<Vec<St>>,
    endpoint: Option<Vec<St>>,
}

fn layers() -> impl Strategy<Value = Layers> {
    let stmts = || prop::collection::vec(st(), 1..5);
    (
        prop::collection::vec(stmts(), 0..3),
        prop::option::of(stmts()),
        prop::option::of(stmts()),
        prop::option::of(stmts()),
        prop::option::of(stmts()),
    )
        .prop_map(|(identity, boundary, resource, scp, endpoint)| Layers {
            identity,
            boundary,
            resource,
            scp,
            endpoint,
        })
}

fn build(l: &Layers) -> PolicySet {
    PolicySet {
        identity: l.identity.iter().map(|s| policy(s, false)).collect(),
        boundaries: l.boundary.iter().map(|s| policy(s, false)).collect(),
        session: None,
        resource: l.resource.as_ref().map(|s| policy(s, true)),
        scps: l.scp.as_ref().map(|s| {
            vec![OrgLevel {
                id: "r-root".into(),
                policies: vec![policy(s, false)],
            }]
        }),
        rcps: None,
        vpc_endpoint: l.endpoint.as_ref().map(|s| policy(s, true)),
    }
}

fn request() -> impl Strategy<Value = Request> {
    (
        0..4usize,
        prop::sample::select(vec![
            "s3:GetObject",
            "s3:PutObject",
            "iam:CreateUser",
            "ec2:RunInstances",
            "kms:Decrypt",
            "sts:GetCallerIdentity",
        ]),
        prop::sample::select(vec![
            "arn:aws:s3:::b/k",
            "arn:aws:s3:::other/x",
            "arn:aws:iam::111111111111:role/x",
            "arn:aws:s3:::b/*",
            "arn:aws:s3:::*",
            "arn:aws:s3:::",
            "arn:aws:iam",
        ]),
        any::<bool>(),
        prop::sample::select(vec!["10.1.1.1", "192.0.2.1"]),
    )
        .prop_map(|(p, action, resource, tls, ip)| {
            let principal = [
                Some("arn:aws:sts::111111111111:assumed-role/app/s"),
                Some("arn:aws:iam::111111111111:user/bob"),
                Some("arn:aws:iam::222222222222:role/ext"),
                None,
            ][p];
            let mut context = BTreeMap::new();
            context.insert("aws:SecureTransport".into(), ContextValue::Bool(tls));
            context.insert("aws:SourceIp".into(), ContextValue::String(ip.into()));
            context.insert("aws:TagKeys".into(), ContextValue::List(vec!["abc".into()]));
            Request {
                action: action.into(),
                resource: resource.into(),
                resource_account: Some("111111111111".into()),
                principal: principal.map(str::to_string),
                principal_account: None,
                context,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn adding_a_deny_never_allows(l in layers(), req in request(), extra in st(), layer in 0..5usize) {
        let before = evaluate(&req, &build(&l)).decision;
        let mut l2 = l.clone();
        let mut d = extra;
        d.deny = true;
        match layer {
            0 => l2.identity.push(vec![d]),
            1 => if let Some(b) = &mut l2.boundary { b.push(d) } else { l2.identity.push(vec![d]) },
            2 => if let Some(r) = &mut l2.resource { r.push(d) } else { l2.resource = Some(vec![d]) },
            3 => if let Some(s) = &mut l2.scp { s.push(d) } else { l2.identity.push(vec![d]) },
            _ => if let Some(e) = &mut l2.endpoint { e.push(d) } else { l2.endpoint = Some(vec![d]) },
        }
        let after = evaluate(&req, &build(&l2)).decision;
        if before != Decision::Allowed {
            prop_assert_ne!(after, Decision::Allowed);
        }
        if before == Decision::ExplicitlyDenied {
            prop_assert_eq!(after, Decision::ExplicitlyDenied);
        }
    }

    #[test]
    fn statement_order_never_matters(l in layers(), req in request()) {
        let before = evaluate(&req, &build(&l)).decision;
        let mut rev = l.clone();
        for p in &mut rev.identity { p.reverse(); }
        rev.identity.reverse();
        if let Some(b) = &mut rev.boundary { b.reverse(); }
        if let Some(r) = &mut rev.resource { r.reverse(); }
        if let Some(s) = &mut rev.scp { s.reverse(); }
        if let Some(e) = &mut rev.endpoint { e.reverse(); }
        prop_assert_eq!(before, evaluate(&req, &build(&rev)).decision);
    }

    #[test]
    fn adding_an_allow_never_undoes_an_explicit_deny(l in layers(), req in request(), extra in st()) {
        let before = evaluate(&req, &build(&l)).decision;
        let mut l2 = l.clone();
        let mut a = extra;
        a.deny = false;
        l2.identity.push(vec![a]);
        let after = evaluate(&req, &build(&l2)).decision;
        if before == Decision::ExplicitlyDenied {
            prop_assert_eq!(after, Decision::ExplicitlyDenied);
        }
    }

    #[test]
    fn fast_path_agrees_with_the_explained_path(l in layers(), req in request()) {
        let c = rampart_policy::CompiledPolicySet::new(&build(&l));
        prop_assert_eq!(c.decide(&req), c.evaluate(&req).decision);
    }

    #[test]
    fn an_endpoint_policy_never_grants(l in layers(), req in request(), ep in prop::collection::vec(st(), 1..4)) {
        let mut without = l.clone();
        without.endpoint = None;
        let mut with = l.clone();
        with.endpoint = Some(ep);
        if evaluate(&req, &build(&without)).decision != Decision::Allowed {
            prop_assert_ne!(evaluate(&req, &build(&with)).decision, Decision::Allowed);
        }
    }

    #[test]
    fn get_caller_identity_is_allowed_for_every_authenticated_caller(l in layers(), req in request()) {
        let mut req = req;
        req.action = "sts:GetCallerIdentity".into();
        let c = rampart_policy::CompiledPolicySet::new(&build(&l));
        let want = if req.principal.is_some() { Decision::Allowed } else { c.evaluate(&req).decision };
        prop_assert_eq!(c.decide(&req), want);
        prop_assert_eq!(c.evaluate(&req).decision, want);
    }

    #[test]
    fn parser_never_panics(s in "\\PC{0,200}") {
        let _ = parse_policy(&s);
    }

    #[test]
    fn explain_names_a_deny_when_explicitly_denied(l in layers(), req in request()) {
        let e = evaluate(&req, &build(&l));
        if e.decision == Decision::ExplicitlyDenied {
            prop_assert!(e.explain.layers.iter().any(|r| r.result == Decision::ExplicitlyDenied
                && r.statements.iter().any(|s| s.effect == rampart_policy::Effect::Deny)));
        }
    }
}

/// A policy's text in one of three layouts (one line; one statement per line; a single
/// statement as an object), so a repeated policy moves statements across lines and columns.
fn policy_text(sts: &[St], with_principal: bool, layout: usize) -> String {
    let body: Vec<String> = sts.iter().map(|s| render(s, with_principal)).collect();
    match layout % 3 {
        0 => format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            body.join(",")
        ),
        1 => format!(
            "{{\"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {}\n  ]}}",
            body.join(",\n    ")
        ),
        _ => format!(r#"{{"Version":"2012-10-17","Statement":{}}}"#, body[0]),
    }
}

/// Which policy a slot of a simulation takes: one of the shared pool (repeated across the
/// file) or one of its own.
#[derive(Debug, Clone)]
enum Pick {
    Pool(usize),
    Own(Vec<St>, usize),
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        3 => (0..4usize).prop_map(Pick::Pool),
        1 => (prop::collection::vec(st(), 1..3), 0..3usize).prop_map(|(s, l)| Pick::Own(s, l)),
    ]
}

#[derive(Debug, Clone)]
struct SimSpec {
    action: usize,
    resource: usize,
    principal: usize,
    identity: Vec<Pick>,
    resource_policy: Option<Pick>,
    /// Given as a JSON string (as AWS APIs return policies).
    session_as_string: Option<Pick>,
    scps: Option<Vec<Pick>>,
    /// Blank lines and spaces before the item, so copies sit at other positions.
    pad: (usize, usize),
}

fn sim_spec() -> impl Strategy<Value = SimSpec> {
    (
        (0..ACTIONS.len(), 0..RESOURCES.len(), 0..3usize),
        prop::collection::vec(pick(), 0..3),
        prop::option::of(pick()),
        prop::option::of(pick()),
        prop::option::of(prop::collection::vec(pick(), 1..3)),
        (0..3usize, 0..5usize),
    )
        .prop_map(
            |(
                (action, resource, principal),
                identity,
                resource_policy,
                session_as_string,
                scps,
                pad,
            )| SimSpec {
                action,
                resource,
                principal,
                identity,
                resource_policy,
                session_as_string,
                scps,
                pad,
            },
        )
}

fn simulate_file(pool: &[(Vec<St>, usize)], sims: &[SimSpec]) -> String {
    let text = |p: &Pick, principal: bool| match p {
        Pick::Pool(i) => {
            let (s, l) = &pool[i % pool.len()];
            policy_text(s, principal, *l)
        }
        Pick::Own(s, l) => policy_text(s, principal, *l),
    };
    let items: Vec<String> = sims
        .iter()
        .map(|s| {
            let action = ACTIONS[s.action].replace('*', "GetObject");
            let principal = [
                "arn:aws:iam::111111111111:role/app",
                "arn:aws:sts::111111111111:assumed-role/app/s",
                "arn:aws:iam::222222222222:user/u",
            ][s.principal];
            let mut parts = vec![format!(
                r#""request": {{"action": "{action}", "resource": {{"resource": "{}", "accountId": "111111111111"}}, "principal": "{principal}", "context": {{"aws:SecureTransport": true}}}}"#,
                RESOURCES[s.resource]
            )];
            let ids: Vec<String> = s.identity.iter().map(|p| text(p, false)).collect();
            parts.push(format!("\"identityPolicies\": [{}]", ids.join(",\n ")));
            if let Some(p) = &s.resource_policy {
                parts.push(format!("\"resourcePolicy\": {}", text(p, true)));
            }
            if let Some(p) = &s.session_as_string {
                let t = serde_json::to_string(&text(p, false)).unwrap();
                parts.push(format!("\"sessionPolicy\": {t}"));
            }
            if let Some(scps) = &s.scps {
                let ps: Vec<String> = scps.iter().map(|p| text(p, false)).collect();
                parts.push(format!(
                    "\"serviceControlPolicies\": [{{\"orgIdentifier\": \"r-root\", \"policies\": [{}]}}]",
                    ps.join(", ")
                ));
            }
            format!(
                "{}{}{{{}}}",
                "\n".repeat(s.pad.0),
                " ".repeat(s.pad.1),
                parts.join(",\n  ")
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

/// Every statement's position in a parsed simulation, layer by layer.
fn positions(set: &PolicySet) -> Vec<(usize, usize)> {
    let mut all: Vec<&Policy> = set.identity.iter().collect();
    all.extend(set.resource.iter());
    all.extend(set.session.iter());
    for lvl in set.scps.iter().flatten() {
        all.extend(lvl.policies.iter());
    }
    all.iter()
        .flat_map(|p| p.statements.iter().map(|s| (s.line, s.column)))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// `simulate`'s policy cache changes nothing a user sees: the same decisions and
    /// explanations (statement lines and columns included) as lowering every policy from its
    /// JSON, for any cache size (1 and 2 make it start over often).
    #[test]
    fn simulate_cache_changes_no_answer(
        pool in prop::collection::vec((prop::collection::vec(st(), 1..4), 0..3usize), 1..5),
        sims in prop::collection::vec(sim_spec(), 1..10),
    ) {
        use rampart_policy::simulate::{POLICY_CACHE_SIZE, parse_simulations_with_cache};
        let file = simulate_file(&pool, &sims);
        let plain = parse_simulations_with_cache(&file, 0).unwrap();
        for size in [1, 2, POLICY_CACHE_SIZE] {
            let cached = parse_simulations_with_cache(&file, size).unwrap();
            prop_assert_eq!(plain.len(), cached.len());
            for (a, b) in plain.iter().zip(&cached) {
                prop_assert_eq!(positions(&a.policies), positions(&b.policies));
                prop_assert_eq!(
                    evaluate(&a.request, &a.policies),
                    evaluate(&b.request, &b.policies)
                );
            }
        }
    }
}
