//! Property: every step of every reported path is allowed by the engine when asked again from
//! scratch — the policies re-read from the snapshot's text, not the analysis's relaxed copies.

mod support;

use proptest::prelude::*;
use rampart_policy::{
    ContextValue, Decision, OrgLevel, PolicySet, Request, evaluate, parse_policy,
};
use rampart_snapshot::Snapshot;
use support::*;

/// Actions the random principals are granted from.
const POOL: &[&str] = &[
    "sts:AssumeRole",
    "iam:PassRole",
    "iam:CreateAccessKey",
    "iam:UpdateLoginProfile",
    "iam:CreateLoginProfile",
    "iam:AddUserToGroup",
    "iam:PutUserPolicy",
    "iam:AttachRolePolicy",
    "iam:PutRolePolicy",
    "iam:CreatePolicyVersion",
    "iam:UpdateAssumeRolePolicy",
    "lambda:CreateFunction",
    "lambda:InvokeFunction",
    "ec2:RunInstances",
    "glue:CreateDevEndpoint",
    "cloudformation:CreateStack",
];

#[derive(Debug, Clone)]
struct Principal {
    grant: Vec<usize>,
    /// 0 none, 1 a boundary denying one pool action, 2 admin.
    shape: u8,
    deny: usize,
    /// Trust for roles: 0 a user by index, 1 the account, 2 services.
    trust: u8,
    trusted_user: usize,
}

fn principal() -> impl Strategy<Value = Principal> {
    (
        proptest::collection::vec(0..POOL.len(), 0..4),
        0u8..3,
        0..POOL.len(),
        0u8..3,
        0usize..4,
    )
        .prop_map(|(grant, shape, deny, trust, trusted_user)| Principal {
            grant,
            shape,
            deny,
            trust,
            trusted_user,
        })
}

fn world(users: &[Principal], roles: &[Principal], scp_deny: Option<usize>) -> Fx {
    let mut fx = Fx::new();
    fx.group("admins")
        .attached_policies
        .push(ADMIN_POLICY.into());
    let grants = |p: &Principal| -> Vec<&str> { p.grant.iter().map(|&i| POOL[i]).collect() };
    for (i, p) in users.iter().enumerate() {
        let d = doc("Allow", &grants(p), None);
        let boundary = (p.shape == 1).then(|| {
            fx.policy(
                &format!("b-user{i}"),
                &format!(
                    r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"*","Resource":"*"}},{{"Sid":"NoDeny","Effect":"Deny","Action":"{}","Resource":"*"}}]}}"#,
                    POOL[p.deny]
                ),
            )
        });
        let u = fx.user(&format!("user{i}"));
        u.has_console_password = i % 2 == 0;
        if !p.grant.is_empty() {
            u.inline_policy_documents = vec![Fx::inline(&d)];
        }
        if p.shape == 2 {
            u.attached_policies.push(ADMIN_POLICY.into());
        }
        u.permissions_boundary = boundary;
    }
    for (i, p) in roles.iter().enumerate() {
        let t = match p.trust {
            0 => trust(&format!(
                r#"{{"AWS":"{}"}}"#,
                arn(
                    "user",
                    &format!("user{}", p.trusted_user % users.len().max(1))
                )
            )),
            1 => trust(&format!(r#"{{"AWS":"arn:aws:iam::{ACCT}:root"}}"#)),
            _ => trust(
                r#"{"Service":["lambda.amazonaws.com","ec2.amazonaws.com","glue.amazonaws.com","cloudformation.amazonaws.com"]}"#,
            ),
        };
        let d = doc("Allow", &grants(p), None);
        let managed = (!p.grant.is_empty()).then(|| fx.policy(&format!("p-role{i}"), &d));
        let r = fx.role(&format!("role{i}"), &t);
        r.attached_policies.extend(managed);
        if p.shape == 2 {
            r.attached_policies.push(ADMIN_POLICY.into());
        }
        if i % 2 == 0 {
            r.instance_profiles
                .push(arn("instance-profile", &format!("role{i}")));
        }
    }
    if let Some(a) = scp_deny {
        fx.scp(&doc("Deny", &[POOL[a]], None));
    }
    fx
}

fn parsed(text: &str) -> rampart_policy::Policy {
    parse_policy(text).unwrap()
}

/// The caller's policies, read afresh from the snapshot.
fn set_for(snap: &Snapshot, caller: &str) -> PolicySet {
    let iam = &snap.accounts[0].iam;
    let managed = |arn: &String| {
        iam.policies
            .iter()
            .find(|p| &p.arn == arn)
            .map(|p| parsed(&p.document))
    };
    let mut set = PolicySet::default();
    if let Some(role) = caller.split("assumed-role/").nth(1) {
        let name = role.split('/').next().unwrap();
        let r = iam.roles.iter().find(|r| r.name == name).unwrap();
        set.identity
            .extend(r.attached_policies.iter().filter_map(managed));
        set.identity.extend(
            r.inline_policy_documents
                .iter()
                .map(|p| parsed(&p.document)),
        );
        set.boundaries
            .extend(r.permissions_boundary.iter().filter_map(managed));
    } else {
        let u = iam.users.iter().find(|u| u.arn == caller).unwrap();
        set.identity
            .extend(u.attached_policies.iter().filter_map(managed));
        set.identity.extend(
            u.inline_policy_documents
                .iter()
                .map(|p| parsed(&p.document)),
        );
        for g in &u.groups {
            let g = iam.groups.iter().find(|x| &x.name == g).unwrap();
            set.identity
                .extend(g.attached_policies.iter().filter_map(managed));
        }
        set.boundaries
            .extend(u.permissions_boundary.iter().filter_map(managed));
    }
    if let Some(org) = &snap.organization {
        let levels = org
            .path_to(ACCT)
            .into_iter()
            .filter_map(|t| {
                let pols: Vec<_> = org
                    .policies_on(&t, "SERVICE_CONTROL_POLICY")
                    .map(|p| parsed(&p.content))
                    .collect();
                (!pols.is_empty()).then_some(OrgLevel {
                    id: t,
                    policies: pols,
                })
            })
            .collect();
        set.scps = Some(levels);
    }
    set
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn every_step_is_allowed_by_the_engine(
        users in proptest::collection::vec(principal(), 1..5),
        roles in proptest::collection::vec(principal(), 1..5),
        scp in proptest::option::of(0..POOL.len()),
    ) {
        let fx = world(&users, &roles, scp);
        verify(&fx)?;
    }
}

/// Re-asks every check of every path; returns how many it verified.
fn verify(fx: &Fx) -> Result<usize, TestCaseError> {
    let mut n = 0;
    let a = fx.analyze();
    for p in a.paths_to_admin() {
        for step in &p.steps {
            prop_assert!(
                step.note.is_none()
                    || step.method.ends_with("update-function-code")
                    || step.method.ends_with("update-dev-endpoint")
            );
            for c in &step.checks {
                let mut set = set_for(&fx.snap, &c.caller);
                if let Some(label) = &c.resource_policy {
                    let role = label.trim_start_matches("role/").split(' ').next().unwrap();
                    let doc = if label.ends_with("as rewritten") {
                        let who = if c.caller.contains("assumed-role/") {
                            arn("role", c.caller.split('/').nth(1).unwrap())
                        } else {
                            c.caller.clone()
                        };
                        trust(&format!(r#"{{"AWS":"{who}"}}"#))
                    } else {
                        fx.snap.accounts[0]
                            .iam
                            .roles
                            .iter()
                            .find(|r| r.name == role)
                            .unwrap()
                            .trust_policy
                            .clone()
                    };
                    set.resource = Some(parsed(&doc));
                }
                let mut req = Request {
                    action: c.action.clone(),
                    resource: c.resource.clone(),
                    principal: Some(c.caller.clone()),
                    ..Request::default()
                };
                for (k, v) in &c.context {
                    req.context
                        .insert(k.clone(), ContextValue::String(v.clone()));
                }
                if fx.snap.organization.is_some() {
                    req.context.insert(
                        "aws:PrincipalOrgID".into(),
                        ContextValue::String("o-example".into()),
                    );
                }
                let e = evaluate(&req, &set);
                prop_assert_eq!(
                    e.decision,
                    Decision::Allowed,
                    "{} {} {} in {}",
                    c.caller,
                    c.action,
                    c.resource,
                    p.summary()
                );
                prop_assert!(c.conditional.is_none());
                n += 1;
            }
        }
    }
    Ok(n)
}

#[test]
fn the_verifier_checks_something() {
    let p = |grant: Vec<usize>, shape: u8, trust: u8| Principal {
        grant,
        shape,
        deny: 0,
        trust,
        trusted_user: 0,
    };
    // user0 creates keys for user1 (admin); role0 trusts user0 and can pass roles to Lambda.
    let users = vec![p(vec![2, 0], 0, 0), p(vec![], 2, 0)];
    let roles = vec![p(vec![1, 11, 12], 0, 0), p(vec![], 2, 2)];
    let fx = world(&users, &roles, None);
    assert!(verify(&fx).unwrap() >= 2);
}
