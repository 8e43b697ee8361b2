//! The root user: CIS 1.4–1.7.

use crate::{Control, Ctx, Outcome, Scope, Severity};
use rampart_snapshot::{CredentialReportRow, VirtualMfaDevice};

pub static CONTROLS: &[Control] = &[
    Control {
        id: "cis-1.4",
        title: "No access key exists for the root user",
        severity: Severity::Critical,
        scope: Scope::Account,
        rationale: "Root access keys give unrestricted, unconditioned access to the account and cannot be limited by IAM or SCPs.",
        remediation_console: "Sign in as root, open Security credentials, and delete every access key.",
        remediation_cli: "No CLI for root keys: delete them in the console (or use centralized root access: `aws iam delete-login-profile`/`aws sts assume-root` from the management account).",
        frameworks: &["cis-aws-3.0:1.4", "cis-aws-5.0:1.3", "fsbp:IAM.4"],
        apis: &["iam:GetCredentialReport"],
        check: Some(no_root_keys),
    },
    Control {
        id: "cis-1.5",
        title: "MFA is enabled for the root user",
        severity: Severity::Critical,
        scope: Scope::Account,
        rationale: "A root password alone is one phishing away from full account takeover.",
        remediation_console: "Sign in as root, open Security credentials, and assign an MFA device.",
        remediation_cli: "Root MFA cannot be set from the CLI; use the console, or remove root credentials with centralized root access.",
        frameworks: &["cis-aws-3.0:1.5", "cis-aws-5.0:1.4", "fsbp:IAM.9"],
        apis: &["iam:GetCredentialReport"],
        check: Some(root_mfa),
    },
    Control {
        id: "cis-1.6",
        title: "Hardware MFA is enabled for the root user",
        severity: Severity::High,
        scope: Scope::Account,
        rationale: "A virtual MFA lives on a phone or laptop that can be compromised or cloned; a hardware key cannot.",
        remediation_console: "Sign in as root, remove the virtual MFA device and assign a hardware (FIDO or TOTP token) device.",
        remediation_cli: "aws iam list-virtual-mfa-devices --assignment-status Assigned  # find the root's virtual device, then replace it in the console",
        frameworks: &["cis-aws-3.0:1.6", "cis-aws-5.0:1.5", "fsbp:IAM.6"],
        apis: &["iam:GetCredentialReport", "iam:ListVirtualMFADevices"],
        check: Some(root_hardware_mfa),
    },
    Control {
        id: "cis-1.7",
        title: "The root user is not used for daily tasks",
        severity: Severity::High,
        scope: Scope::Account,
        rationale: "Every use of root is an unconstrained session; routine work belongs to least-privilege roles.",
        remediation_console: "Create administrative roles in IAM Identity Center, stop using root, and investigate recent root activity in CloudTrail.",
        remediation_cli: "aws cloudtrail lookup-events --lookup-attributes AttributeKey=Username,AttributeValue=root --max-results 50",
        frameworks: &["cis-aws-3.0:1.7", "cis-aws-5.0:1.6"],
        apis: &["iam:GetCredentialReport"],
        check: Some(root_not_used),
    },
];

/// Root counts as used "recently" within this many days.
const ROOT_RECENT_DAYS: i64 = 90;

/// The credential report's root row; an ERROR outcome when the report has none.
pub(crate) fn root_row<'a>(
    ctx: &Ctx<'a>,
    out: &mut Vec<Outcome>,
) -> Option<&'a CredentialReportRow> {
    let row = ctx
        .account
        .iam
        .credential_report
        .iter()
        .find(|r| r.is_root());
    if row.is_none() {
        out.push(Outcome::error(
            ctx.account_resource(),
            "the credential report has no <root_account> row; re-run collect with iam:GenerateCredentialReport and iam:GetCredentialReport",
        ));
    }
    row
}

fn no_root_keys(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let Some(root) = root_row(ctx, out) else {
        return;
    };
    let summary = ctx
        .account
        .iam
        .account_summary
        .get("AccountAccessKeysPresent")
        .copied()
        .unwrap_or(0);
    let active = [root.access_key_1_active, root.access_key_2_active]
        .iter()
        .filter(|b| **b)
        .count();
    if active > 0 || summary > 0 {
        out.push(Outcome::fail(
            ctx.account_resource(),
            format!(
                "the root user has {} access key(s)",
                active.max(summary as usize)
            ),
        ));
    } else {
        out.push(Outcome::pass(
            ctx.account_resource(),
            "the root user has no access keys",
        ));
    }
}

/// Root credentials removed (centralized root access): nothing left to protect with MFA.
fn root_has_no_credentials(root: &CredentialReportRow) -> bool {
    !root.password_enabled && !root.access_key_1_active && !root.access_key_2_active
}

fn root_mfa(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let Some(root) = root_row(ctx, out) else {
        return;
    };
    if root.mfa_active {
        out.push(Outcome::pass(ctx.account_resource(), "root MFA is enabled"));
    } else if root_has_no_credentials(root) {
        out.push(Outcome::pass(
            ctx.account_resource(),
            "the root user has no password and no keys (centralized root access), so it cannot sign in",
        ));
    } else {
        out.push(Outcome::fail(
            ctx.account_resource(),
            "the root user can sign in without MFA",
        ));
    }
}

fn root_hardware_mfa(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let Some(root) = root_row(ctx, out) else {
        return;
    };
    if !root.mfa_active {
        if root_has_no_credentials(root) {
            out.push(Outcome::pass(
                ctx.account_resource(),
                "the root user has no credentials to protect",
            ));
        } else {
            out.push(Outcome::fail(
                ctx.account_resource(),
                "the root user has no MFA at all",
            ));
        }
        return;
    }
    match virtual_root_mfa(ctx) {
        Some(d) => out.push(Outcome::fail(
            ctx.account_resource(),
            format!(
                "root MFA is the virtual device {}, not a hardware device",
                d.serial_number
            ),
        )),
        None => out.push(Outcome::pass(
            ctx.account_resource(),
            "root MFA is a hardware device",
        )),
    }
}

/// The root user's virtual MFA device, if its MFA is one (else it is hardware).
pub(crate) fn virtual_root_mfa<'a>(ctx: &Ctx<'a>) -> Option<&'a VirtualMfaDevice> {
    ctx.account
        .iam
        .virtual_mfa_devices
        .iter()
        .find(|d| d.user_arn.as_deref().is_some_and(|a| a.ends_with(":root")))
}

fn root_not_used(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let Some(root) = root_row(ctx, out) else {
        return;
    };
    let last = [
        root.password_last_used.as_deref(),
        root.access_key_1_last_used_date.as_deref(),
        root.access_key_2_last_used_date.as_deref(),
    ]
    .into_iter()
    .filter_map(|t| ctx.days_since(t))
    .min();
    match last {
        Some(d) if d < ROOT_RECENT_DAYS => out.push(Outcome::fail(
            ctx.account_resource(),
            format!(
                "the root user was used {d} day(s) ago (limit: none in {ROOT_RECENT_DAYS} days)"
            ),
        )),
        Some(d) => out.push(Outcome::pass(
            ctx.account_resource(),
            format!("root last used {d} days ago"),
        )),
        None => out.push(Outcome::pass(
            ctx.account_resource(),
            "no recorded root usage",
        )),
    }
}

#[cfg(test)]
mod tests {
    use crate::Status;
    use crate::fixtures::*;

    #[test]
    fn root_keys() {
        let mut s = org();
        assert_eq!(statuses(&s, "cis-1.4", WORKLOAD), vec![Status::Pass]);
        s.accounts[3].iam.credential_report[0].access_key_2_active = true;
        assert_eq!(statuses(&s, "cis-1.4", WORKLOAD), vec![Status::Fail]);
        s.accounts[3].iam.credential_report.clear();
        assert_eq!(statuses(&s, "cis-1.4", WORKLOAD), vec![Status::Error]);
    }

    #[test]
    fn root_mfa_and_hardware() {
        let mut s = org();
        assert_eq!(statuses(&s, "cis-1.5", WORKLOAD), vec![Status::Pass]);
        assert_eq!(statuses(&s, "cis-1.6", WORKLOAD), vec![Status::Pass]);
        s.accounts[3]
            .iam
            .virtual_mfa_devices
            .push(rampart_snapshot::VirtualMfaDevice {
                serial_number: "arn:aws:iam::1:mfa/root".into(),
                user_arn: Some(format!("arn:aws:iam::{WORKLOAD}:root")),
            });
        assert_eq!(statuses(&s, "cis-1.6", WORKLOAD), vec![Status::Fail]);
        s.accounts[3].iam.credential_report[0].mfa_active = false;
        assert_eq!(statuses(&s, "cis-1.5", WORKLOAD), vec![Status::Fail]);
        // Centralized root access: no password, no keys, nothing to sign in with.
        s.accounts[3].iam.credential_report[0].password_enabled = false;
        assert_eq!(statuses(&s, "cis-1.5", WORKLOAD), vec![Status::Pass]);
    }

    #[test]
    fn root_usage_and_api_error() {
        let mut s = org();
        assert_eq!(statuses(&s, "cis-1.7", WORKLOAD), vec![Status::Pass]);
        s.accounts[3].iam.credential_report[0].password_last_used =
            Some("2026-10-25T00:00:00Z".into());
        assert_eq!(statuses(&s, "cis-1.7", WORKLOAD), vec![Status::Fail]);
        deny_api(&mut s, WORKLOAD, None, "iam:GetCredentialReport");
        let f = findings(&s, "cis-1.7", WORKLOAD);
        assert_eq!(f[0].status, Status::Error);
        assert!(
            f[0].message.contains("iam:GetCredentialReport")
                && f[0].message.contains("AccessDenied")
        );
    }
}
