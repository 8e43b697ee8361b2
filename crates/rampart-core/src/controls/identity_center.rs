//! IAM Identity Center: people sign in once, through the organization's instance, and get
//! short-lived role sessions in the accounts they are assigned to, instead of IAM users.

use crate::{Control, Ctx, Outcome, Scope, Severity};
use std::collections::BTreeSet;

pub static CONTROLS: &[Control] = &[Control {
    id: "base-identity-center",
    title: "IAM Identity Center is enabled for the organization and in use",
    severity: Severity::High,
    scope: Scope::Organization,
    rationale: "Single sign-on gives one place to enforce MFA and revoke access, and short-lived credentials instead of IAM users' long-lived keys; an instance with no account assignment signs nobody in.",
    remediation_console: "IAM Identity Center console of the management account → Enable (organization instance); then assign groups and permission sets to accounts (or declare them in rampart.toml [identity] and run `rampart apply`).",
    remediation_cli: "aws sso-admin list-instances && aws sso-admin list-account-assignments-for-principal --instance-arn ARN --principal-type GROUP --principal-id ID",
    frameworks: &["rampart-baseline:identity-center"],
    apis: &[
        "sso:ListInstances",
        "identitystore:ListGroups",
        "sso:ListAccountAssignmentsForPrincipal",
    ],
    check: Some(identity_center),
}];

fn identity_center(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let res = ctx.account_resource();
    let Some(ic) = ctx.snapshot.identity_center.as_ref() else {
        out.push(Outcome::error(
            res,
            "IAM Identity Center was not collected: run `rampart collect` with the management account's credentials",
        ));
        return;
    };
    let failed = |api: &str| ic.errors.iter().find(|e| e.api.starts_with(api));
    if let Some(e) = failed("sso:ListInstances") {
        out.push(Outcome::error(
            res,
            format!("sso:ListInstances in {} failed: {}", ic.region, e.code),
        ));
        return;
    }
    let Some(instance) = &ic.instance else {
        out.push(Outcome::fail(
            res,
            format!(
                "no IAM Identity Center instance in {} of the management account",
                ic.region
            ),
        ));
        return;
    };
    let arn = instance.instance_arn.clone();
    if !instance.status.is_empty() && instance.status != "ACTIVE" {
        out.push(Outcome::fail(
            arn,
            format!("the instance is {}, not ACTIVE", instance.status),
        ));
        return;
    }
    if let Some(owner) = ctx.org.management_account
        && !instance.owner_account_id.is_empty()
        && instance.owner_account_id != owner
    {
        out.push(Outcome::fail(
            arn,
            format!(
                "the instance belongs to account {} (an account instance), not to the organization's management account {owner}",
                instance.owner_account_id
            ),
        ));
        return;
    }
    if ic.assignments.is_empty() {
        match failed("identitystore:").or_else(|| failed("sso:ListAccountAssignments")) {
            Some(e) => out.push(Outcome::error(
                arn,
                format!(
                    "the instance's assignments could not be read ({}: {})",
                    e.api, e.code
                ),
            )),
            None => out.push(Outcome::fail(
                arn,
                "the instance is enabled but not in use: no group has an account assignment",
            )),
        }
        return;
    }
    let accounts: BTreeSet<&str> = ic
        .assignments
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    out.push(Outcome::pass(
        arn,
        format!(
            "enabled in {}: {} account assignment(s) across {} account(s), {} permission set(s)",
            ic.region,
            ic.assignments.len(),
            accounts.len(),
            ic.permission_sets.len()
        ),
    ));
}

#[cfg(test)]
mod tests {
    use crate::Status;
    use crate::fixtures::*;
    use rampart_snapshot::*;

    fn with_identity_center(s: &mut Snapshot, assignments: usize) {
        s.identity_center = Some(IdentityCenter {
            region: "us-east-1".into(),
            instance: Some(SsoInstance {
                instance_arn: "arn:aws:sso:::instance/ssoins-1".into(),
                identity_store_id: "d-1".into(),
                owner_account_id: MANAGEMENT.into(),
                status: "ACTIVE".into(),
            }),
            assignments: (0..assignments)
                .map(|i| AccountAssignment {
                    account_id: format!("{:012}", 300000000000u64 + i as u64),
                    permission_set_arn: "arn:aws:sso:::permissionSet/ssoins-1/ps-1".into(),
                    principal_type: "GROUP".into(),
                    principal_id: "g-1".into(),
                })
                .collect(),
            ..Default::default()
        });
    }

    #[test]
    fn enabled_and_assigned_passes_otherwise_fails_or_errors() {
        let mut s = org();
        s.identity_center = None;
        assert_eq!(
            statuses(&s, "base-identity-center", MANAGEMENT),
            vec![Status::Error]
        );
        with_identity_center(&mut s, 2);
        assert_eq!(
            statuses(&s, "base-identity-center", MANAGEMENT),
            vec![Status::Pass]
        );
        assert!(
            findings(&s, "base-identity-center", MANAGEMENT)[0]
                .message
                .contains("2 account assignment(s) across 2 account(s)")
        );
        // Enabled but unused.
        with_identity_center(&mut s, 0);
        assert_eq!(
            statuses(&s, "base-identity-center", MANAGEMENT),
            vec![Status::Fail]
        );
        // Unused because the reads failed: an error, never a guess.
        s.identity_center
            .as_mut()
            .unwrap()
            .errors
            .push(CollectionError {
                api: "identitystore:ListGroups".into(),
                code: "AccessDeniedException".into(),
                ..Default::default()
            });
        assert_eq!(
            statuses(&s, "base-identity-center", MANAGEMENT),
            vec![Status::Error]
        );
        // Not enabled.
        let ic = s.identity_center.as_mut().unwrap();
        ic.errors.clear();
        ic.instance = None;
        assert_eq!(
            statuses(&s, "base-identity-center", MANAGEMENT),
            vec![Status::Fail]
        );
        // An account instance in a member is not the organization's.
        with_identity_center(&mut s, 1);
        s.identity_center
            .as_mut()
            .unwrap()
            .instance
            .as_mut()
            .unwrap()
            .owner_account_id = WORKLOAD.into();
        let f = findings(&s, "base-identity-center", MANAGEMENT);
        assert_eq!(f[0].status, Status::Fail);
        assert!(
            f[0].message.contains("account instance"),
            "{}",
            f[0].message
        );
        // ListInstances failed.
        let ic = s.identity_center.as_mut().unwrap();
        ic.instance = None;
        ic.errors.push(CollectionError {
            api: "sso:ListInstances".into(),
            code: "AccessDeniedException".into(),
            ..Default::default()
        });
        assert_eq!(
            statuses(&s, "base-identity-center", MANAGEMENT),
            vec![Status::Error]
        );
    }
}
