//! Who can become admin (rampart-paths): a principal that can escalate to full control is an
//! administrator in all but name.

use crate::{Control, Ctx, Outcome, Scope, Severity};

pub static CONTROLS: &[Control] = &[Control {
    id: "base-no-privilege-escalation",
    title: "No IAM principal that is not admin can make itself admin",
    severity: Severity::High,
    scope: Scope::Account,
    rationale: "A user or role that can pass a role to a service, rewrite a policy, create another user's keys or assume a stronger role is an administrator in all but name; least privilege and separation of duties fail quietly. Every step is decided by the policy engine with the principal's policies, boundary, the SCPs in force and the trust policies.",
    remediation_console: "IAM → the principal → Permissions: remove the permission named in the path's first step, or add a permissions boundary (or an SCP) that denies it; `rampart iam paths --from ARN` shows every step.",
    remediation_cli: "rampart iam paths --snapshot snap.json --from ARN; then aws iam detach-user-policy / delete-role-policy / put-role-permissions-boundary for the statement named",
    frameworks: &["rampart-baseline:least-privilege"],
    apis: &[
        "iam:GetAccountAuthorizationDetails",
        "iam:ListUsers",
        "iam:ListRoles",
        "iam:ListPolicies",
    ],
    check: Some(no_privilege_escalation),
}];

fn no_privilege_escalation(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let iam = &ctx.account.iam;
    let missing_details = !iam.authorization_details
        && (iam
            .users
            .iter()
            .any(|u| !u.inline_policies.is_empty() || !u.groups.is_empty()));
    if missing_details {
        out.push(Outcome::error(
            ctx.account_resource(),
            "the snapshot lacks iam:GetAccountAuthorizationDetails (inline policy documents, groups, boundaries): re-run `rampart collect` with a current rampart",
        ));
        return;
    }
    let acct = match rampart_paths::AccountIam::from_snapshot(ctx.snapshot, ctx.account_id()) {
        Ok(a) => a,
        Err(e) => {
            out.push(Outcome::error(ctx.account_resource(), e.to_string()));
            return;
        }
    };
    let analysis = rampart_paths::analyze(acct);
    let before = out.len();
    for p in analysis.paths_to_admin() {
        let mut why = Vec::new();
        for s in &p.steps {
            let by: Vec<String> = s
                .checks
                .iter()
                .flat_map(|c| c.allowed_by.iter().map(|b| format!("{} by {b}", c.action)))
                .collect();
            why.push(format!("{}: {}", s.method, by.join(", ")));
        }
        out.push(Outcome::fail(
            &p.from,
            format!(
                "can become admin in {} step(s){}: {} ({})",
                p.steps.len(),
                if p.conditional {
                    ", if conditions the snapshot cannot settle hold"
                } else {
                    ""
                },
                p.summary(),
                why.join("; ")
            ),
        ));
    }
    if out.len() == before {
        let admins = analysis.admin.iter().filter(|a| a.is_some()).count();
        out.push(Outcome::pass(
            ctx.account_resource(),
            format!(
                "no principal that is not admin can become admin ({} users and roles analysed, {admins} already admin, {} escalation methods)",
                analysis
                    .account
                    .nodes
                    .iter()
                    .filter(|n| n.kind != rampart_paths::NodeKind::Group)
                    .count(),
                rampart_paths::METHODS.len()
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::Status;
    use rampart_snapshot::{IamUser, InlinePolicy, ManagedPolicy};

    fn outcome(s: &rampart_snapshot::Snapshot, account: &str) -> Vec<(Status, String, String)> {
        crate::fixtures::findings(s, "base-no-privilege-escalation", account)
            .into_iter()
            .map(|f| (f.status, f.resource, f.message))
            .collect()
    }

    #[test]
    fn escalating_user_fails_and_an_scp_makes_it_pass() {
        let mut s = crate::fixtures::org();
        let acct = s.accounts[1].account_id.clone();
        let user_arn = format!("arn:aws:iam::{acct}:user/dev");
        {
            let iam = &mut s.accounts[1].iam;
            iam.authorization_details = true;
            iam.users.push(IamUser {
                name: "dev".into(),
                arn: user_arn.clone(),
                inline_policies: vec!["keys".into()],
                inline_policy_documents: vec![InlinePolicy {
                    name: "keys".into(),
                    document: r#"{"Version":"2012-10-17","Statement":[{"Sid":"Keys","Effect":"Allow","Action":"iam:CreateAccessKey","Resource":"*"}]}"#.into(),
                }],
                ..IamUser::default()
            });
            iam.users.push(IamUser {
                name: "ops".into(),
                arn: format!("arn:aws:iam::{acct}:user/ops"),
                attached_policies: vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
                ..IamUser::default()
            });
            if !iam.policies.iter().any(|p| p.name == "AdministratorAccess") {
                iam.policies.push(ManagedPolicy {
                    arn: "arn:aws:iam::aws:policy/AdministratorAccess".into(),
                    name: "AdministratorAccess".into(),
                    aws_managed: true,
                    document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#.into(),
                    ..ManagedPolicy::default()
                });
            }
        }
        let got = outcome(&s, &acct);
        let fail = got
            .iter()
            .find(|(st, r, _)| *st == Status::Fail && *r == user_arn)
            .unwrap_or_else(|| panic!("no FAIL for dev: {got:?}"));
        assert!(fail.2.contains("iam-create-access-key"), "{}", fail.2);
        assert!(
            fail.2.contains("user/dev inline keys statement Keys"),
            "{}",
            fail.2
        );

        // An SCP on the account that denies iam:CreateAccessKey closes the path.
        let org = s.organization.as_mut().unwrap();
        org.policies.push(rampart_snapshot::OrgPolicy {
            id: "p-nokeys".into(),
            name: "no-keys".into(),
            policy_type: "SERVICE_CONTROL_POLICY".into(),
            content: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:CreateAccessKey","Resource":"*"}]}"#.into(),
            targets: vec![acct.clone()],
            ..Default::default()
        });
        let got = outcome(&s, &acct);
        assert!(got.iter().all(|(st, _, _)| *st == Status::Pass), "{got:?}");
    }
}
