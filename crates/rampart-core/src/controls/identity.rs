//! The identity foundation across the organization: people sign in through Identity Center, not
//! as IAM users of member accounts; the management account's root is on a hardware key; member
//! accounts' root users have no credentials (centralized root access) or, failing that, MFA.
//! The per-user checks they build on (MFA of console users, key age and idle credentials) are
//! CIS 1.10, 1.12 and 1.14, mapped to the baseline too and configurable in `[audit]`.

use super::iam_root::{root_row, virtual_root_mfa};
use crate::{Control, Ctx, Outcome, Scope, Severity};

pub static CONTROLS: &[Control] = &[
    Control {
        id: "base-no-member-console-users",
        title: "No IAM user in a member account has a console password, except the named break-glass users",
        severity: Severity::High,
        scope: Scope::Account,
        rationale: "People sign in once, through Identity Center, with MFA enforced there; an IAM user's password in a member account is a second door per account that nobody reviews. Break-glass users are named in `[audit] break_glass_users`.",
        remediation_console: "IAM → Users → the user → Security credentials → Console sign-in → Disable console access; give the person an Identity Center assignment instead.",
        remediation_cli: "aws iam delete-login-profile --user-name USER",
        frameworks: &["rampart-baseline:identity-no-console-users"],
        apis: &["iam:ListUsers", "iam:GetLoginProfile"],
        check: Some(no_member_console_users),
    },
    Control {
        id: "base-management-root-hardware-mfa",
        title: "The management account's root user has a hardware MFA device",
        severity: Severity::Critical,
        scope: Scope::Organization,
        rationale: "The management account's root can undo every guardrail and cannot be restricted by SCPs or managed centrally; it must be behind a hardware key kept offline.",
        remediation_console: "Sign in to the management account as root → Security credentials → remove any virtual MFA device and assign a FIDO security key or hardware TOTP token (two, stored apart).",
        remediation_cli: "aws iam list-virtual-mfa-devices --assignment-status Assigned  # in the management account: a root device listed here is virtual",
        frameworks: &["rampart-baseline:identity-management-root-hardware-mfa"],
        apis: &["iam:GetCredentialReport", "iam:ListVirtualMFADevices"],
        check: Some(management_root_hardware_mfa),
    },
    Control {
        id: "base-member-root-credentials",
        title: "Member accounts' root users have no credentials (centralized root access), or else MFA",
        severity: Severity::High,
        scope: Scope::Account,
        rationale: "With centralized root access (IAM RootCredentialsManagement) a member account's root has no password, keys or MFA to steal, and the management account performs the rare root tasks; where root credentials remain they need MFA and never access keys.",
        remediation_console: "Management account → IAM → Root access management → enable Root credentials management (and Privileged root actions), then delete each member's root password, keys and MFA devices.",
        remediation_cli: "aws iam enable-organizations-root-credentials-management && aws iam enable-organizations-root-sessions  # then per member: aws sts assume-root … and delete-login-profile / delete-access-key",
        frameworks: &["rampart-baseline:identity-member-root-credentials"],
        apis: &["iam:GetCredentialReport"],
        check: Some(member_root_credentials),
    },
];

fn no_member_console_users(ctx: &Ctx, out: &mut Vec<Outcome>) {
    if ctx.snapshot.organization.is_some() && ctx.is_management_account() {
        out.push(Outcome::na(
            ctx.account_resource(),
            "the management account: break-glass access lives here (its users' MFA is cis-1.10)",
        ));
        return;
    }
    let allowed = &ctx.org.settings.break_glass_users;
    let console: Vec<_> = ctx
        .account
        .iam
        .users
        .iter()
        .filter(|u| u.has_console_password)
        .collect();
    if console.is_empty() {
        out.push(Outcome::pass(
            ctx.account_resource(),
            "no IAM user has a console password",
        ));
        return;
    }
    for u in console {
        if allowed.contains(&u.name) {
            out.push(Outcome::pass(
                &u.arn,
                format!(
                    "user {} is a named break-glass user{}",
                    u.name,
                    if u.mfa_devices.is_empty() {
                        " (without MFA: see cis-1.10)"
                    } else {
                        ""
                    }
                ),
            ));
        } else {
            out.push(Outcome::fail(
                &u.arn,
                format!(
                    "user {} has a console password in a member account and is not a named break-glass user",
                    u.name
                ),
            ));
        }
    }
}

fn management_root_hardware_mfa(ctx: &Ctx, out: &mut Vec<Outcome>) {
    if ctx.snapshot.organization.is_none() {
        out.push(Outcome::na(
            ctx.account_resource(),
            "not an organization: cis-1.6 judges this account's root",
        ));
        return;
    }
    if !ctx.is_management_account() {
        out.push(Outcome::error(
            ctx.account_resource(),
            "the management account was not collected: run `rampart collect` with its credentials",
        ));
        return;
    }
    let Some(root) = root_row(ctx, out) else {
        return;
    };
    let res = ctx.account_resource();
    out.push(match (root.mfa_active, virtual_root_mfa(ctx)) {
        (false, _) => Outcome::fail(res, "the management account's root user has no MFA at all"),
        (true, Some(d)) => Outcome::fail(
            res,
            format!(
                "the management account's root MFA is the virtual device {}, not a hardware device",
                d.serial_number
            ),
        ),
        (true, None) => Outcome::pass(
            res,
            "the management account's root MFA is a hardware device",
        ),
    });
}

/// What the organization says about centralized root access: `Some(true)` when IAM's
/// RootCredentialsManagement is on for members, `None` when the snapshot did not read it.
fn centralized_root(ctx: &Ctx) -> Option<bool> {
    let features = ctx.snapshot.organization.as_ref()?.iam_features.as_ref()?;
    Some(features.iter().any(|f| f == "RootCredentialsManagement"))
}

fn member_root_credentials(ctx: &Ctx, out: &mut Vec<Outcome>) {
    if ctx.snapshot.organization.is_some() && ctx.is_management_account() {
        out.push(Outcome::na(
            ctx.account_resource(),
            "the management account's root cannot be managed centrally: base-management-root-hardware-mfa judges it",
        ));
        return;
    }
    let Some(root) = root_row(ctx, out) else {
        return;
    };
    let keys = root.access_key_1_active || root.access_key_2_active;
    let credentials = root.password_enabled || keys;
    let centralized = centralized_root(ctx);
    let res = ctx.account_resource();
    if keys {
        out.push(Outcome::fail(
            res,
            "the root user has active access keys: delete them (centralized root access can, from the management account)",
        ));
        return;
    }
    match (credentials, root.mfa_active, centralized) {
        (false, _, Some(true)) => out.push(Outcome::pass(
            res,
            "the root user has no password or keys, and the organization manages root credentials centrally",
        )),
        (true, true, Some(true)) => out.push(Outcome::pass(
            res,
            "centralized root access is on but this root still has a password (protected by MFA): delete it from the management account",
        )),
        (true, true, _) => out.push(Outcome::pass(
            res,
            "the root user has a password protected by MFA (centralized root access would remove it)",
        )),
        (true, false, _) => out.push(Outcome::fail(
            res,
            "the root user has a password and no MFA",
        )),
        (false, _, Some(false)) => out.push(Outcome::fail(
            res,
            "the root user has no password now, but centralized root access is off: a password reset by email would give a root without MFA",
        )),
        (false, _, None) if ctx.snapshot.organization.is_none() => out.push(Outcome::fail(
            res,
            "the root user has no password now, but a standalone account cannot manage root centrally: a password reset by email would give a root without MFA",
        )),
        (false, _, None) => out.push(Outcome::error(
            res,
            "the snapshot does not say whether centralized root access is on (iam:ListOrganizationsFeatures was not read in the management account): re-run collect with that permission",
        )),
    }
}

#[cfg(test)]
mod tests {
    use crate::Status;
    use crate::fixtures::*;
    use rampart_snapshot::{IamUser, VirtualMfaDevice};

    fn console_user(s: &mut rampart_snapshot::Snapshot, account: &str, name: &str) {
        acct(s, account).iam.users.push(IamUser {
            name: name.into(),
            arn: format!("arn:aws:iam::{account}:user/{name}"),
            has_console_password: true,
            ..IamUser::default()
        });
    }

    #[test]
    fn console_users_in_members_fail_unless_break_glass() {
        let mut s = org();
        let c = "base-no-member-console-users";
        assert_eq!(statuses(&s, c, WORKLOAD), vec![Status::Pass]);
        // The management account is where break-glass users live.
        console_user(&mut s, MANAGEMENT, "breakglass");
        assert_eq!(statuses(&s, c, MANAGEMENT), vec![Status::NotApplicable]);
        console_user(&mut s, WORKLOAD, "bob");
        console_user(&mut s, WORKLOAD, "emergency");
        // A user with keys only is not a console user.
        acct(&mut s, WORKLOAD).iam.users.push(IamUser {
            name: "ci".into(),
            arn: format!("arn:aws:iam::{WORKLOAD}:user/ci"),
            ..IamUser::default()
        });
        assert_eq!(statuses(&s, c, WORKLOAD), vec![Status::Fail, Status::Fail]);
        let settings = crate::AuditSettings {
            break_glass_users: vec!["emergency".into()],
            ..settings()
        };
        let found = findings_with(&s, c, WORKLOAD, &settings);
        let got: Vec<(Status, &str)> = found
            .iter()
            .map(|f| (f.status, f.message.as_str()))
            .collect();
        assert_eq!(got[0].0, Status::Fail);
        assert!(got[0].1.contains("bob"), "{got:?}");
        assert_eq!(got[1].0, Status::Pass);
        assert!(got[1].1.contains("break-glass") && got[1].1.contains("without MFA"));
        deny_api(&mut s, WORKLOAD, None, "iam:GetLoginProfile");
        assert_eq!(statuses(&s, c, WORKLOAD), vec![Status::Error]);
    }

    #[test]
    fn management_root_needs_a_hardware_key() {
        let mut s = org();
        let c = "base-management-root-hardware-mfa";
        assert_eq!(statuses(&s, c, MANAGEMENT), vec![Status::Pass]);
        // Reported once, on the management account; members have their own cis-1.6.
        assert!(statuses(&s, c, WORKLOAD).is_empty());
        acct(&mut s, MANAGEMENT)
            .iam
            .virtual_mfa_devices
            .push(VirtualMfaDevice {
                serial_number: format!("arn:aws:iam::{MANAGEMENT}:mfa/root-account-mfa-device"),
                user_arn: Some(format!("arn:aws:iam::{MANAGEMENT}:root")),
            });
        let f = findings(&s, c, MANAGEMENT);
        assert_eq!(f[0].status, Status::Fail);
        assert!(f[0].message.contains("virtual device"), "{}", f[0].message);
        acct(&mut s, MANAGEMENT).iam.credential_report[0].mfa_active = false;
        assert!(
            findings(&s, c, MANAGEMENT)[0]
                .message
                .contains("no MFA at all")
        );
        acct(&mut s, MANAGEMENT).iam.credential_report.clear();
        assert_eq!(statuses(&s, c, MANAGEMENT), vec![Status::Error]);
        let mut s = org();
        deny_api(&mut s, MANAGEMENT, None, "iam:ListVirtualMFADevices");
        assert_eq!(statuses(&s, c, MANAGEMENT), vec![Status::Error]);
    }

    #[test]
    fn member_root_without_credentials_or_with_mfa() {
        let c = "base-member-root-credentials";
        let mut s = org();
        // The sample: centralized root access on, member roots still have a password with MFA.
        let f = findings(&s, c, WORKLOAD);
        assert_eq!(f[0].status, Status::Pass);
        assert!(f[0].message.contains("delete it"), "{}", f[0].message);
        assert_eq!(statuses(&s, c, MANAGEMENT), vec![Status::NotApplicable]);
        // Credentials removed centrally.
        let root = &mut acct(&mut s, WORKLOAD).iam.credential_report[0];
        root.password_enabled = false;
        root.mfa_active = false;
        let f = findings(&s, c, WORKLOAD);
        assert_eq!(f[0].status, Status::Pass);
        assert!(f[0].message.contains("centrally"), "{}", f[0].message);
        // No password, but the feature is off: recoverable by email.
        s.organization.as_mut().unwrap().iam_features = Some(vec![]);
        let f = findings(&s, c, WORKLOAD);
        assert_eq!(f[0].status, Status::Fail);
        assert!(f[0].message.contains("off"), "{}", f[0].message);
        // Not read: said so, never guessed.
        s.organization.as_mut().unwrap().iam_features = None;
        let f = findings(&s, c, WORKLOAD);
        assert_eq!(f[0].status, Status::Error);
        assert!(
            f[0].message.contains("iam:ListOrganizationsFeatures"),
            "{}",
            f[0].message
        );
        // A password without MFA fails whatever the feature says; keys always fail.
        let root = &mut acct(&mut s, WORKLOAD).iam.credential_report[0];
        root.password_enabled = true;
        assert_eq!(statuses(&s, c, WORKLOAD), vec![Status::Fail]);
        let root = &mut acct(&mut s, WORKLOAD).iam.credential_report[0];
        root.mfa_active = true;
        root.access_key_1_active = true;
        let f = findings(&s, c, WORKLOAD);
        assert_eq!(f[0].status, Status::Fail);
        assert!(f[0].message.contains("access keys"), "{}", f[0].message);
        acct(&mut s, WORKLOAD).iam.credential_report.clear();
        assert_eq!(statuses(&s, c, WORKLOAD), vec![Status::Error]);
    }
}
