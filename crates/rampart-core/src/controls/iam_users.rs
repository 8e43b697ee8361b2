//! IAM users and their credentials: CIS 1.10–1.15.

use crate::{Control, Ctx, Outcome, Scope, Severity};
use rampart_snapshot::IamUser;

pub static CONTROLS: &[Control] = &[
    Control {
        id: "cis-1.10",
        title: "Every IAM user with a console password has MFA",
        severity: Severity::High,
        scope: Scope::Account,
        rationale: "A password without MFA is the most common way into AWS consoles.",
        remediation_console: "IAM → Users → the user → Security credentials → Assign MFA device (or move the person to IAM Identity Center).",
        remediation_cli: "aws iam create-virtual-mfa-device --virtual-mfa-device-name USER --outfile qr.png --bootstrap-method QRCodePNG && aws iam enable-mfa-device --user-name USER --serial-number ARN --authentication-code1 C1 --authentication-code2 C2",
        frameworks: &[
            "cis-aws-3.0:1.10",
            "cis-aws-5.0:1.9",
            "fsbp:IAM.5",
            "rampart-baseline:identity-console-mfa",
        ],
        apis: &["iam:ListUsers", "iam:GetLoginProfile", "iam:ListMFADevices"],
        check: Some(console_mfa),
    },
    Control {
        id: "cis-1.11",
        title: "No access keys created at initial set-up for console users and never used",
        severity: Severity::Low,
        scope: Scope::Account,
        rationale: "Keys handed out by default and never used are standing credentials with no purpose.",
        remediation_console: "IAM → Users → the user → Security credentials → delete the unused access key.",
        remediation_cli: "aws iam delete-access-key --user-name USER --access-key-id KEY",
        frameworks: &["cis-aws-3.0:1.11", "cis-aws-5.0:1.10"],
        apis: &["iam:ListUsers", "iam:ListAccessKeys"],
        check: Some(unused_initial_keys),
    },
    Control {
        id: "cis-1.12",
        title: "Credentials unused for 45 days or more are disabled",
        severity: Severity::Medium,
        scope: Scope::Account,
        rationale: "Dormant passwords and keys are forgotten credentials that still work for an attacker. The 45 days are CIS's; `[audit] credential_unused_days` in rampart.toml sets another limit.",
        remediation_console: "IAM → Users → the user → Security credentials: remove the console password and deactivate stale keys.",
        remediation_cli: "aws iam delete-login-profile --user-name USER; aws iam update-access-key --user-name USER --access-key-id KEY --status Inactive",
        frameworks: &[
            "cis-aws-3.0:1.12",
            "cis-aws-5.0:1.11",
            "fsbp:IAM.22",
            "rampart-baseline:identity-unused-credentials",
        ],
        apis: &[
            "iam:GetCredentialReport",
            "iam:ListUsers",
            "iam:ListAccessKeys",
        ],
        check: Some(unused_credentials),
    },
    Control {
        id: "cis-1.13",
        title: "No IAM user has more than one active access key",
        severity: Severity::Medium,
        scope: Scope::Account,
        rationale: "Two active keys double the exposure and usually mean a rotation was never finished.",
        remediation_console: "IAM → Users → the user → Security credentials: deactivate and delete the older key.",
        remediation_cli: "aws iam update-access-key --user-name USER --access-key-id OLDKEY --status Inactive",
        frameworks: &["cis-aws-3.0:1.13", "cis-aws-5.0:1.12"],
        apis: &["iam:ListUsers", "iam:ListAccessKeys"],
        check: Some(one_active_key),
    },
    Control {
        id: "cis-1.14",
        title: "Access keys are rotated every 90 days or less",
        severity: Severity::Medium,
        scope: Scope::Account,
        rationale: "Old keys have had more time to leak into laptops, logs and repositories. The 90 days are CIS's; `[audit] access_key_max_age_days` in rampart.toml sets another limit.",
        remediation_console: "IAM → Users → the user → Security credentials: create a new key, switch the workload, deactivate the old one.",
        remediation_cli: "aws iam create-access-key --user-name USER && aws iam update-access-key --user-name USER --access-key-id OLDKEY --status Inactive",
        frameworks: &[
            "cis-aws-3.0:1.14",
            "cis-aws-5.0:1.13",
            "fsbp:IAM.3",
            "rampart-baseline:identity-key-age",
        ],
        apis: &["iam:ListUsers", "iam:ListAccessKeys"],
        check: Some(key_rotation),
    },
    Control {
        id: "cis-1.15",
        title: "IAM users receive permissions only through groups",
        severity: Severity::Low,
        scope: Scope::Account,
        rationale: "Permissions attached to individual users drift and escape review.",
        remediation_console: "IAM → Users → the user → Permissions: move each policy to a group and add the user to it.",
        remediation_cli: "aws iam detach-user-policy --user-name USER --policy-arn ARN; aws iam delete-user-policy --user-name USER --policy-name NAME",
        frameworks: &["cis-aws-3.0:1.15", "cis-aws-5.0:1.14", "fsbp:IAM.2"],
        apis: &[
            "iam:ListUsers",
            "iam:ListAttachedUserPolicies",
            "iam:ListUserPolicies",
        ],
        check: Some(policies_via_groups),
    },
];

/// CIS 1.12's limit, unless `[audit] credential_unused_days` sets another.
const UNUSED_DAYS: u32 = 45;
/// CIS 1.14's limit, unless `[audit] access_key_max_age_days` sets another.
const ROTATION_DAYS: u32 = 90;

fn unused_days(ctx: &Ctx) -> i64 {
    i64::from(
        ctx.org
            .settings
            .credential_unused_days
            .unwrap_or(UNUSED_DAYS),
    )
}

fn rotation_days(ctx: &Ctx) -> i64 {
    i64::from(
        ctx.org
            .settings
            .access_key_max_age_days
            .unwrap_or(ROTATION_DAYS),
    )
}

/// Runs `per_user` for each user, or reports a single PASS when the account has no IAM users.
fn each_user(
    ctx: &Ctx,
    out: &mut Vec<Outcome>,
    per_user: impl Fn(&IamUser) -> Option<Outcome>,
    none: &str,
) {
    let users = &ctx.account.iam.users;
    if users.is_empty() {
        out.push(Outcome::pass(
            ctx.account_resource(),
            "the account has no IAM users",
        ));
        return;
    }
    let before = out.len();
    for u in users {
        if let Some(o) = per_user(u) {
            out.push(o);
        }
    }
    if out.len() == before {
        out.push(Outcome::pass(ctx.account_resource(), none));
    }
}

fn console_mfa(ctx: &Ctx, out: &mut Vec<Outcome>) {
    each_user(
        ctx,
        out,
        |u| {
            if !u.has_console_password {
                return None;
            }
            Some(if u.mfa_devices.is_empty() {
                Outcome::fail(
                    &u.arn,
                    format!("user {} has a console password and no MFA device", u.name),
                )
            } else {
                Outcome::pass(&u.arn, format!("user {} has MFA", u.name))
            })
        },
        "no IAM user has a console password",
    );
}

fn unused_initial_keys(ctx: &Ctx, out: &mut Vec<Outcome>) {
    each_user(
        ctx,
        out,
        |u| {
            if !u.has_console_password {
                return None;
            }
            let idle: Vec<&str> = u
                .access_keys
                .iter()
                .filter(|k| k.status == "Active" && k.last_used_date.is_none())
                .map(|k| k.id.as_str())
                .collect();
            Some(if idle.is_empty() {
                Outcome::pass(
                    &u.arn,
                    format!("user {} has no never-used access keys", u.name),
                )
            } else {
                Outcome::fail(
                    &u.arn,
                    format!(
                        "user {} has active access keys never used: {}",
                        u.name,
                        idle.join(", ")
                    ),
                )
            })
        },
        "no console user has access keys",
    );
}

fn unused_credentials(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let report = &ctx.account.iam.credential_report;
    let limit = unused_days(ctx);
    each_user(
        ctx,
        out,
        |u| {
            let mut stale = Vec::new();
            if u.has_console_password {
                let row = report.iter().find(|r| r.user == u.name);
                let last = row
                    .and_then(|r| r.password_last_used.as_deref())
                    .or(u.create_date.as_deref());
                if ctx.days_since(last).is_some_and(|d| d >= limit) {
                    stale.push("console password".to_string());
                }
            }
            for k in u.access_keys.iter().filter(|k| k.status == "Active") {
                let last = k.last_used_date.as_deref().or(k.create_date.as_deref());
                if ctx.days_since(last).is_some_and(|d| d >= limit) {
                    stale.push(format!("access key {}", k.id));
                }
            }
            Some(if stale.is_empty() {
                Outcome::pass(
                    &u.arn,
                    format!("user {} has no credentials idle for {limit}+ days", u.name),
                )
            } else {
                Outcome::fail(
                    &u.arn,
                    format!(
                        "user {}: unused for {limit}+ days and still enabled: {}",
                        u.name,
                        stale.join(", ")
                    ),
                )
            })
        },
        "no IAM user credentials",
    );
}

fn one_active_key(ctx: &Ctx, out: &mut Vec<Outcome>) {
    each_user(
        ctx,
        out,
        |u| {
            let n = u
                .access_keys
                .iter()
                .filter(|k| k.status == "Active")
                .count();
            Some(if n > 1 {
                Outcome::fail(
                    &u.arn,
                    format!("user {} has {n} active access keys", u.name),
                )
            } else {
                Outcome::pass(
                    &u.arn,
                    format!("user {} has {n} active access key(s)", u.name),
                )
            })
        },
        "",
    );
}

fn key_rotation(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let limit = rotation_days(ctx);
    each_user(
        ctx,
        out,
        |u| {
            let old: Vec<String> = u
                .access_keys
                .iter()
                .filter(|k| k.status == "Active")
                .filter_map(|k| {
                    ctx.days_since(k.create_date.as_deref())
                        .filter(|d| *d > limit)
                        .map(|d| format!("{} ({d} days)", k.id))
                })
                .collect();
            if u.access_keys.iter().all(|k| k.status != "Active") {
                return None;
            }
            Some(if old.is_empty() {
                Outcome::pass(
                    &u.arn,
                    format!("user {}: active keys are younger than {limit} days", u.name),
                )
            } else {
                Outcome::fail(
                    &u.arn,
                    format!(
                        "user {}: keys older than {limit} days: {}",
                        u.name,
                        old.join(", ")
                    ),
                )
            })
        },
        "no active access keys",
    );
}

fn policies_via_groups(ctx: &Ctx, out: &mut Vec<Outcome>) {
    each_user(
        ctx,
        out,
        |u| {
            let n = u.attached_policies.len() + u.inline_policies.len();
            Some(if n > 0 {
                Outcome::fail(
                    &u.arn,
                    format!("user {} has {n} policy(ies) attached directly", u.name),
                )
            } else {
                Outcome::pass(
                    &u.arn,
                    format!("user {} gets permissions only through groups", u.name),
                )
            })
        },
        "",
    );
}

#[cfg(test)]
mod tests {
    use crate::Status;
    use crate::fixtures::*;
    use rampart_snapshot::{AccessKey, CredentialReportRow, IamUser};

    fn user(s: &mut rampart_snapshot::Snapshot) -> &mut IamUser {
        let a = acct(s, WORKLOAD);
        a.iam.users.push(IamUser {
            name: "alice".into(),
            arn: format!("arn:aws:iam::{WORKLOAD}:user/alice"),
            create_date: Some("2026-10-20T00:00:00Z".into()),
            has_console_password: true,
            mfa_devices: vec!["arn:aws:iam::1:mfa/alice".into()],
            groups: vec!["admins".into()],
            ..IamUser::default()
        });
        a.iam.credential_report.push(CredentialReportRow {
            user: "alice".into(),
            password_enabled: true,
            password_last_used: Some("2026-10-30T00:00:00Z".into()),
            ..CredentialReportRow::default()
        });
        a.iam.users.last_mut().unwrap()
    }

    fn key(id: &str, created: &str, used: Option<&str>) -> AccessKey {
        AccessKey {
            id: id.into(),
            status: "Active".into(),
            create_date: Some(created.into()),
            last_used_date: used.map(str::to_string),
        }
    }

    #[test]
    fn no_users_pass() {
        let s = org();
        for c in [
            "cis-1.10", "cis-1.11", "cis-1.12", "cis-1.13", "cis-1.14", "cis-1.15",
        ] {
            assert_eq!(statuses(&s, c, WORKLOAD), vec![Status::Pass], "{c}");
        }
    }

    #[test]
    fn compliant_user_passes_everything() {
        let mut s = org();
        user(&mut s).access_keys.push(key(
            "AK1",
            "2026-10-01T00:00:00Z",
            Some("2026-10-31T00:00:00Z"),
        ));
        for c in [
            "cis-1.10", "cis-1.11", "cis-1.12", "cis-1.13", "cis-1.14", "cis-1.15",
        ] {
            assert_eq!(statuses(&s, c, WORKLOAD), vec![Status::Pass], "{c}");
        }
    }

    #[test]
    fn key_age_and_idle_limits_are_configurable() {
        let mut s = org();
        // A key 60 days old, last used 30 days ago ("now" is 2026-11-01).
        user(&mut s).access_keys.push(key(
            "AK1",
            "2026-09-02T00:00:00Z",
            Some("2026-10-02T00:00:00Z"),
        ));
        let run = |settings: crate::AuditSettings, control: &str| {
            findings_with(&s, control, WORKLOAD, &settings)
        };
        assert_eq!(run(settings(), "cis-1.14")[0].status, Status::Pass);
        assert_eq!(run(settings(), "cis-1.12")[0].status, Status::Pass);
        let strict = crate::AuditSettings {
            access_key_max_age_days: Some(30),
            credential_unused_days: Some(20),
            ..settings()
        };
        let f = run(strict.clone(), "cis-1.14");
        assert_eq!(f[0].status, Status::Fail);
        assert!(
            f[0].message.contains("older than 30 days: AK1"),
            "{}",
            f[0].message
        );
        let f = run(strict, "cis-1.12");
        assert_eq!(f[0].status, Status::Fail);
        assert!(f[0].message.contains("20+ days"), "{}", f[0].message);
    }

    #[test]
    fn bad_user_fails_each() {
        let mut s = org();
        let u = user(&mut s);
        u.mfa_devices.clear();
        u.attached_policies
            .push("arn:aws:iam::aws:policy/ReadOnlyAccess".into());
        u.access_keys.push(key(
            "AK1",
            "2026-01-01T00:00:00Z",
            Some("2026-02-01T00:00:00Z"),
        ));
        u.access_keys.push(key("AK2", "2026-10-01T00:00:00Z", None));
        for c in [
            "cis-1.10", "cis-1.11", "cis-1.12", "cis-1.13", "cis-1.14", "cis-1.15",
        ] {
            assert_eq!(statuses(&s, c, WORKLOAD), vec![Status::Fail], "{c}");
        }
        let msg = &findings(&s, "cis-1.12", WORKLOAD)[0].message;
        assert!(msg.contains("AK1") && !msg.contains("console"), "{msg}");
    }
}
