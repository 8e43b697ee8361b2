//! CIS controls the benchmark marks Manual and rampart cannot observe: listed so the catalogue is
//! complete, reported as MANUAL (once per account) so a reviewer sees what still needs human eyes.
//! Each names its CIS v3.0 number and, where v5.0 kept the requirement, its v5.0 number.

use crate::{Control, Scope, Severity};

macro_rules! manual {
    ($id:literal, [$($fw:literal),+], $title:literal, $sev:expr, $why:literal, $console:literal, $cli:literal) => {
        Control {
            id: $id,
            title: $title,
            severity: $sev,
            scope: Scope::Account,
            rationale: $why,
            remediation_console: $console,
            remediation_cli: $cli,
            frameworks: &[$($fw),+],
            apis: &[],
            check: None,
        }
    };
}

pub static CONTROLS: &[Control] = &[
    manual!(
        "cis-1.1",
        ["cis-aws-3.0:1.1", "cis-aws-5.0:1.1"],
        "Contact details are current",
        Severity::Low,
        "AWS uses the account contacts to warn about abuse or compromise.",
        "Account → Contact information: review and update.",
        "aws account get-contact-information"
    ),
    manual!(
        "cis-1.2",
        ["cis-aws-3.0:1.2", "cis-aws-5.0:1.2"],
        "Security contact information is registered",
        Severity::Low,
        "Security notifications must reach a monitored mailbox, not a former employee.",
        "Account → Alternate contacts → Security: set a team address.",
        "aws account put-alternate-contact --alternate-contact-type SECURITY --email-address SEC --name NAME --phone-number PHONE --title TITLE"
    ),
    manual!(
        "cis-1.3",
        ["cis-aws-3.0:1.3"],
        "Security questions are registered for the account",
        Severity::Low,
        "Security questions help AWS Support verify ownership during account recovery.",
        "Account → Configure security challenge questions.",
        "No CLI: console only."
    ),
    manual!(
        "cis-1.21",
        ["cis-aws-3.0:1.21", "cis-aws-5.0:1.20"],
        "IAM users are managed centrally (identity federation or Organizations)",
        Severity::Medium,
        "Central identity means one place to revoke access and enforce MFA.",
        "Enable IAM Identity Center in the management account and move people off IAM users.",
        "aws sso-admin list-instances"
    ),
    manual!(
        "cis-1.22",
        ["cis-aws-3.0:1.22", "cis-aws-5.0:1.21"],
        "Access to AWSCloudShellFullAccess is restricted",
        Severity::Low,
        "CloudShell full access allows file upload/download that can bypass data-transfer controls.",
        "IAM → Policies → AWSCloudShellFullAccess → Entities attached: detach where not needed.",
        "aws iam list-entities-for-policy --policy-arn arn:aws:iam::aws:policy/AWSCloudShellFullAccess"
    ),
    manual!(
        "cis-2.1.3",
        ["cis-aws-3.0:2.1.3", "cis-aws-5.0:2.1.3"],
        "S3 data is discovered, classified and secured",
        Severity::Low,
        "You cannot protect sensitive data you have not found.",
        "Macie → Get started → enable, then create discovery jobs (org-wide from the delegated admin).",
        "aws macie2 enable-macie"
    ),
    manual!(
        "cis-5.5",
        ["cis-aws-3.0:5.5", "cis-aws-5.0:5.6"],
        "Routing tables for VPC peering are least access",
        Severity::Low,
        "Broad routes through peering connections widen the blast radius of a compromise.",
        "VPC → Route tables: narrow peering routes to the subnets that must talk.",
        "aws ec2 describe-route-tables --filters Name=route.vpc-peering-connection-id,Values=PCX"
    ),
];

#[cfg(test)]
mod tests {
    use crate::Status;
    use crate::fixtures::*;

    #[test]
    fn manual_controls_report_manual() {
        let s = org();
        for c in super::CONTROLS {
            assert_eq!(
                statuses(&s, c.id, WORKLOAD),
                vec![Status::Manual],
                "{}",
                c.id
            );
        }
    }
}
