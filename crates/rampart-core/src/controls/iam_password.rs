//! The account password policy: CIS 1.8 and 1.9.

use crate::{Control, Ctx, Outcome, Scope, Severity};

pub static CONTROLS: &[Control] = &[
    Control {
        id: "cis-1.8",
        title: "The IAM password policy requires at least 14 characters",
        severity: Severity::Medium,
        scope: Scope::Account,
        rationale: "Short passwords fall to guessing and credential stuffing.",
        remediation_console: "IAM → Account settings → Password policy → Edit: minimum length 14.",
        remediation_cli: "aws iam update-account-password-policy --minimum-password-length 14 --password-reuse-prevention 24",
        frameworks: &["cis-aws-3.0:1.8", "cis-aws-5.0:1.7", "fsbp:IAM.15"],
        apis: &["iam:GetAccountPasswordPolicy"],
        check: Some(min_length),
    },
    Control {
        id: "cis-1.9",
        title: "The IAM password policy prevents reuse of the last 24 passwords",
        severity: Severity::Medium,
        scope: Scope::Account,
        rationale: "Reused passwords bring back credentials that may already be compromised.",
        remediation_console: "IAM → Account settings → Password policy → Edit: prevent password reuse, remember 24.",
        remediation_cli: "aws iam update-account-password-policy --minimum-password-length 14 --password-reuse-prevention 24",
        frameworks: &["cis-aws-3.0:1.9", "cis-aws-5.0:1.8", "fsbp:IAM.16"],
        apis: &["iam:GetAccountPasswordPolicy"],
        check: Some(reuse),
    },
];

fn min_length(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let r = ctx.account_resource();
    match &ctx.account.iam.password_policy {
        None => out.push(Outcome::fail(
            r,
            "no password policy: AWS defaults allow 8-character passwords",
        )),
        Some(p) => match p.minimum_password_length {
            Some(n) if n >= 14 => out.push(Outcome::pass(r, format!("minimum length is {n}"))),
            n => out.push(Outcome::fail(
                r,
                format!("minimum length is {} (needs 14)", n.unwrap_or(8)),
            )),
        },
    }
}

fn reuse(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let r = ctx.account_resource();
    match &ctx.account.iam.password_policy {
        None => out.push(Outcome::fail(
            r,
            "no password policy: password reuse is allowed",
        )),
        Some(p) => match p.password_reuse_prevention {
            Some(n) if n >= 24 => out.push(Outcome::pass(
                r,
                format!("the last {n} passwords are remembered"),
            )),
            Some(n) => out.push(Outcome::fail(
                r,
                format!("only the last {n} passwords are remembered (needs 24)"),
            )),
            None => out.push(Outcome::fail(r, "password reuse prevention is off")),
        },
    }
}

#[cfg(test)]
mod tests {
    use crate::Status;
    use crate::fixtures::*;

    #[test]
    fn password_policy() {
        let mut s = org();
        assert_eq!(statuses(&s, "cis-1.8", WORKLOAD), vec![Status::Pass]);
        assert_eq!(statuses(&s, "cis-1.9", WORKLOAD), vec![Status::Pass]);
        let p = acct(&mut s, WORKLOAD).iam.password_policy.as_mut().unwrap();
        p.minimum_password_length = Some(12);
        p.password_reuse_prevention = Some(5);
        assert_eq!(statuses(&s, "cis-1.8", WORKLOAD), vec![Status::Fail]);
        assert_eq!(statuses(&s, "cis-1.9", WORKLOAD), vec![Status::Fail]);
        acct(&mut s, WORKLOAD).iam.password_policy = None;
        assert_eq!(statuses(&s, "cis-1.8", WORKLOAD), vec![Status::Fail]);
        deny_api(&mut s, WORKLOAD, None, "iam:GetAccountPasswordPolicy");
        assert_eq!(statuses(&s, "cis-1.9", WORKLOAD), vec![Status::Error]);
    }
}
