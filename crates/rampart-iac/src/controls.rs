//! Controls that only the IaC form has: properties the audit does not collect from a live
//! account (a volume's own encryption flag, a bucket's default KMS key, a template's lint
//! errors), or questions only a deployment asks (will the guardrails let it through).
//!
//! They are [`rampart_core::Control`]s like the catalogue's, with the same fields and text style;
//! they are not in the audit catalogue because the audit has nothing to judge them on
//! (`check: None` here means "judged by rampart-iac", not MANUAL). Every other IaC check uses the
//! audit's own control: same id, title, severity and remediation.

use rampart_core::{Control, Scope, Severity};

pub static CONTROLS: &[Control] = &[
    Control {
        id: "iac-s3-kms-encryption",
        title: "S3 buckets encrypt new objects with a KMS key by default",
        severity: Severity::Low,
        scope: Scope::Account,
        rationale: "Every bucket gets SSE-S3 by default; SSE-KMS adds a key policy and CloudTrail records of every decrypt, so reading the data needs two permissions.",
        remediation_console: "S3 → the bucket → Properties → Default encryption → Edit: SSE-KMS with a customer-managed key.",
        remediation_cli: "aws s3api put-bucket-encryption --bucket BUCKET --server-side-encryption-configuration '{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"aws:kms\",\"KMSMasterKeyID\":\"KEY\"},\"BucketKeyEnabled\":true}]}'",
        frameworks: &["rampart-baseline:data-protection-kms"],
        apis: &[],
        check: None,
    },
    Control {
        id: "iac-ebs-volume-encryption",
        title: "EBS volumes, instance block devices and launch templates are encrypted",
        severity: Severity::Medium,
        scope: Scope::Region,
        rationale: "An unencrypted volume or snapshot exposes its data to anyone who obtains a copy; EBS default encryption covers it only where it is on.",
        remediation_console: "Set Encrypted on the volume or block device mapping, or turn on EBS encryption by default in the region (EC2 → Settings → EBS encryption).",
        remediation_cli: "aws ec2 enable-ebs-encryption-by-default --region REGION",
        frameworks: &["fsbp:EC2.3", "rampart-baseline:ebs-default-encryption"],
        apis: &[],
        check: None,
    },
    Control {
        id: "iac-resource-policy-exposure",
        title: "Resource policies grant nothing to the public or to accounts outside the organization",
        severity: Severity::High,
        scope: Scope::Region,
        rationale: "A resource policy is the one place an outsider's request can be allowed without any identity in your accounts; the access analysis proves who can get in.",
        remediation_console: "Restrict the policy's Principal to your accounts, or add aws:PrincipalOrgID / aws:SourceAccount conditions.",
        remediation_cli: "rampart policy access --kind KIND --account ACCOUNT --org-id ORG policy.json",
        frameworks: &[
            "fsbp:S3.2",
            "fsbp:S3.3",
            "fsbp:SQS.3",
            "fsbp:SNS.4",
            "fsbp:KMS.5",
            "fsbp:Lambda.1",
            "rampart-baseline:external-access",
        ],
        apis: &[],
        check: None,
    },
    Control {
        id: "iac-iam-trust-exposure",
        title: "Role trust policies trust no principal outside the organization and never any principal",
        severity: Severity::High,
        scope: Scope::Account,
        rationale: "A trust policy open to any principal, or to accounts outside the organization, lets others assume the role and use its permissions.",
        remediation_console: "IAM → the role → Trust relationships: name your own accounts or roles, or condition on aws:PrincipalOrgID; for OIDC, condition on the token's sub.",
        remediation_cli: "aws iam update-assume-role-policy --role-name ROLE --policy-document file://trust.json",
        frameworks: &["rampart-baseline:external-access"],
        apis: &[],
        check: None,
    },
    Control {
        id: "iac-iam-policy-lint",
        title: "IAM policies in the deployment have no lint errors",
        severity: Severity::Medium,
        scope: Scope::Account,
        rationale: "A policy AWS rejects fails the deployment half-way; one with an unknown action or a wrong condition operator silently grants or denies something else than written.",
        remediation_console: "Fix the statements `rampart policy lint` reports.",
        remediation_cli: "rampart policy lint --kind identity policy.json",
        frameworks: &["rampart-baseline:policy-lint"],
        apis: &[],
        check: None,
    },
    Control {
        id: "iac-guardrail-impact",
        title: "The organization's guardrails allow what the deployment does",
        severity: Severity::High,
        scope: Scope::Region,
        rationale: "A resource the account's SCPs deny makes the deployment fail half-way and roll back; knowing before deploy saves the failed run.",
        remediation_console: "Deploy to an account and region the guardrails allow, or change the resource (for example its region or type).",
        remediation_cli: "rampart guardrails --config rampart.toml",
        frameworks: &["rampart-baseline:guardrails"],
        apis: &[],
        check: None,
    },
];
