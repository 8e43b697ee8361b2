//! Guardrail SCPs from named building blocks.
//!
//! Each block is a handful of Deny statements with the same exemption: principals whose ARN
//! matches an exempt role (break-glass, the role rampart runs as) are never denied, so a
//! guardrail can always be repaired. The blocks chosen for an OU are minified and packed into as
//! few policies as possible, each within the 5,120-character SCP quota, and at most four per
//! target (five attached SCPs per target, one of them `FullAWSAccess`).

use serde_json::{Value, json};
use std::fmt;

/// Organizations' size quota for one SCP document (characters, whitespace included).
pub const SCP_MAX_CHARS: usize = 5120;
/// SCPs one target can carry besides `FullAWSAccess`.
pub const SCPS_PER_TARGET: usize = 4;

/// A named guardrail building block (the names are what `rampart.toml` uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Block {
    /// Deny stopping, deleting or weakening CloudTrail trails and event selectors.
    ProtectOrgTrail,
    /// Deny leaving the organization.
    DenyLeaveOrg,
    /// Deny disabling GuardDuty, Security Hub, Config and Access Analyzer.
    ProtectSecurityServices,
    /// Deny changing account-level S3 Block Public Access and EBS default encryption.
    ProtectBpaAndEbs,
    /// Deny every action by the root user.
    DenyRoot,
    /// Deny regional actions outside the allowed regions (global services exempt).
    RegionDeny,
    /// Deny everything: for new accounts until they are baselined.
    Quarantine,
    /// Deny creating IAM users and any long-lived credential for one (password, access key,
    /// SSH key, signing certificate, service-specific credential).
    DenyIamUsers,
}

impl Block {
    pub const ALL: [Block; 8] = [
        Block::ProtectOrgTrail,
        Block::DenyLeaveOrg,
        Block::ProtectSecurityServices,
        Block::ProtectBpaAndEbs,
        Block::DenyRoot,
        Block::RegionDeny,
        Block::Quarantine,
        Block::DenyIamUsers,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Block::ProtectOrgTrail => "protect-org-trail",
            Block::DenyLeaveOrg => "deny-leave-org",
            Block::ProtectSecurityServices => "protect-security-services",
            Block::ProtectBpaAndEbs => "protect-bpa-and-ebs-encryption",
            Block::DenyRoot => "deny-root",
            Block::RegionDeny => "region-deny",
            Block::Quarantine => "quarantine",
            Block::DenyIamUsers => "deny-iam-users",
        }
    }

    pub fn parse(name: &str) -> Option<Block> {
        Block::ALL.into_iter().find(|b| b.name() == name)
    }

    /// One line for the plan and the docs.
    pub fn summary(self) -> &'static str {
        match self {
            Block::ProtectOrgTrail => {
                "no one but the exempt roles can stop, delete or reconfigure CloudTrail trails"
            }
            Block::DenyLeaveOrg => "accounts cannot leave the organization",
            Block::ProtectSecurityServices => {
                "GuardDuty, Security Hub, Config and Access Analyzer cannot be disabled"
            }
            Block::ProtectBpaAndEbs => {
                "account S3 Block Public Access and EBS default encryption cannot be changed"
            }
            Block::DenyRoot => "the root user can do nothing",
            Block::RegionDeny => {
                "regional services only in the allowed regions; global services everywhere"
            }
            Block::Quarantine => {
                "nothing at all but the exempt roles (new accounts until baselined)"
            }
            Block::DenyIamUsers => {
                "no IAM users or long-lived user credentials but by the exempt roles (use Identity Center)"
            }
        }
    }

    /// The actions the block promises to deny (to non-exempt principals), used by the proofs.
    pub fn promised_actions(self) -> &'static [&'static str] {
        match self {
            Block::ProtectOrgTrail => &[
                "cloudtrail:StopLogging",
                "cloudtrail:DeleteTrail",
                "cloudtrail:UpdateTrail",
                "cloudtrail:PutEventSelectors",
            ],
            Block::DenyLeaveOrg => &["organizations:LeaveOrganization"],
            Block::ProtectSecurityServices => &[
                "guardduty:DeleteDetector",
                "guardduty:UpdateDetector",
                "guardduty:DisassociateFromAdministratorAccount",
                "securityhub:DisableSecurityHub",
                "securityhub:BatchDisableStandards",
                "config:StopConfigurationRecorder",
                "config:DeleteConfigurationRecorder",
                "config:DeleteDeliveryChannel",
                "access-analyzer:DeleteAnalyzer",
            ],
            Block::ProtectBpaAndEbs => &[
                "s3:PutAccountPublicAccessBlock",
                "ec2:DisableEbsEncryptionByDefault",
            ],
            // Root and region deny are conditional: proved separately.
            Block::DenyRoot | Block::RegionDeny => &[],
            Block::Quarantine => &["s3:GetObject", "ec2:RunInstances", "iam:CreateUser"],
            Block::DenyIamUsers => IAM_USER_CREDENTIAL_ACTIONS,
        }
    }

    fn actions(self) -> &'static [&'static str] {
        match self {
            Block::ProtectOrgTrail => &[
                "cloudtrail:StopLogging",
                "cloudtrail:DeleteTrail",
                "cloudtrail:UpdateTrail",
                "cloudtrail:PutEventSelectors",
                "cloudtrail:PutInsightSelectors",
                "cloudtrail:DeleteEventDataStore",
            ],
            Block::DenyLeaveOrg => &["organizations:LeaveOrganization"],
            Block::ProtectSecurityServices => &[
                "guardduty:DeleteDetector",
                "guardduty:UpdateDetector",
                "guardduty:DisassociateFromAdministratorAccount",
                "guardduty:DisassociateFromMasterAccount",
                "guardduty:DeleteMembers",
                "guardduty:StopMonitoringMembers",
                "guardduty:CreateFilter",
                "guardduty:UpdateFilter",
                "securityhub:DisableSecurityHub",
                "securityhub:BatchDisableStandards",
                "securityhub:DisassociateFromAdministratorAccount",
                "securityhub:DeleteMembers",
                "config:StopConfigurationRecorder",
                "config:DeleteConfigurationRecorder",
                "config:DeleteDeliveryChannel",
                "config:DeleteConfigurationAggregator",
                "access-analyzer:DeleteAnalyzer",
            ],
            Block::ProtectBpaAndEbs => &[
                "s3:PutAccountPublicAccessBlock",
                "ec2:DisableEbsEncryptionByDefault",
                "ec2:ModifyEbsDefaultKmsKeyId",
                "ec2:ResetEbsDefaultKmsKeyId",
            ],
            Block::DenyIamUsers => IAM_USER_CREDENTIAL_ACTIONS,
            Block::DenyRoot | Block::RegionDeny | Block::Quarantine => &[],
        }
    }
}

/// Every IAM action that creates a user or a long-lived credential for one: the user itself,
/// a console password (created or reset), an access key, an SSH public key (CodeCommit), an
/// X.509 signing certificate, and service-specific credentials (CodeCommit Git, Keyspaces,
/// Bedrock API keys) created or reset. Re-activating an existing key (`UpdateAccessKey`) is left
/// out on purpose: the same call deactivates one, which incident response needs.
pub const IAM_USER_CREDENTIAL_ACTIONS: &[&str] = &[
    "iam:CreateUser",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:CreateAccessKey",
    "iam:UploadSSHPublicKey",
    "iam:UploadSigningCertificate",
    "iam:CreateServiceSpecificCredential",
    "iam:ResetServiceSpecificCredential",
];

impl fmt::Display for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Services AWS serves from a global endpoint (signed for us-east-1): a region deny must exempt
/// them or it breaks IAM, Organizations, STS and the console's global parts everywhere.
pub const GLOBAL_SERVICE_ACTIONS: &[&str] = &[
    "account:*",
    "aws-marketplace:*",
    "aws-portal:*",
    "billing:*",
    "budgets:*",
    "ce:*",
    "cloudfront:*",
    "cur:*",
    "ec2:DescribeRegions",
    "freetier:*",
    "globalaccelerator:*",
    "health:*",
    "iam:*",
    "invoicing:*",
    "networkmanager:*",
    "organizations:*",
    "payments:*",
    "pricing:*",
    "route53:*",
    "route53domains:*",
    "route53-recovery-cluster:*",
    "route53-recovery-control-config:*",
    "route53-recovery-readiness:*",
    "s3:GetAccountPublicAccessBlock",
    "s3:ListAllMyBuckets",
    "s3:PutAccountPublicAccessBlock",
    "shield:*",
    "sso:*",
    "sts:*",
    "support:*",
    "tax:*",
    "trustedadvisor:*",
    "waf:*",
];

/// What the blocks need to know about the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardrailSettings {
    /// Regions workloads may use (for `region-deny`).
    pub allowed_regions: Vec<String>,
    /// Role names never denied (break-glass, the role rampart runs as), in every account.
    pub exempt_roles: Vec<String>,
}

impl GuardrailSettings {
    /// ARN patterns of the exempt roles, as the SCPs and proofs use them.
    pub fn exempt_arns(&self) -> Vec<String> {
        self.exempt_roles
            .iter()
            .map(|r| format!("arn:aws:iam::*:role/{r}"))
            .collect()
    }
}

/// A generated SCP.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Scp {
    /// `rampart-<ou>-<n>`: rampart owns every policy whose name starts with `rampart-`.
    pub name: String,
    pub blocks: Vec<Block>,
    /// Minified JSON document.
    pub content: String,
}

impl<'de> serde::Deserialize<'de> for Block {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <String as serde::Deserialize>::deserialize(d)?;
        Block::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown guardrail block `{name}`")))
    }
}

impl serde::Serialize for Block {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardrailError {
    #[error(
        "guardrail `{0}` needs at least one allowed region (set `allowed_regions` in rampart.toml)"
    )]
    NoRegions(Block),
    #[error(
        "guardrails for `{target}` need {needed} SCPs but a target takes at most {SCPS_PER_TARGET} besides FullAWSAccess; attach fewer blocks to it"
    )]
    TooMany { target: String, needed: usize },
    #[error(
        "guardrail `{block}` alone is {chars} characters, over the {SCP_MAX_CHARS}-character SCP quota"
    )]
    TooLarge { block: Block, chars: usize },
    #[error(
        "no exempt role: every guardrail needs at least one (the break-glass role and the role rampart runs as) so it can be repaired"
    )]
    NoExemptRole,
}

/// The Deny statements of one block.
pub fn statements(
    block: Block,
    settings: &GuardrailSettings,
) -> Result<Vec<Value>, GuardrailError> {
    let exempt = settings.exempt_arns();
    if exempt.is_empty() {
        return Err(GuardrailError::NoExemptRole);
    }
    let sid = block
        .name()
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<String>();
    let not_exempt = json!({"ArnNotLike": {"aws:PrincipalArn": exempt}});
    Ok(match block {
        Block::DenyRoot => vec![json!({
            "Sid": sid,
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}}
        })],
        Block::RegionDeny => {
            if settings.allowed_regions.is_empty() {
                return Err(GuardrailError::NoRegions(block));
            }
            vec![json!({
                "Sid": sid,
                "Effect": "Deny",
                "NotAction": GLOBAL_SERVICE_ACTIONS,
                "Resource": "*",
                "Condition": {
                    "StringNotEquals": {"aws:RequestedRegion": settings.allowed_regions},
                    "ArnNotLike": {"aws:PrincipalArn": exempt}
                }
            })]
        }
        Block::Quarantine => vec![json!({
            "Sid": sid,
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": not_exempt
        })],
        _ => vec![json!({
            "Sid": sid,
            "Effect": "Deny",
            "Action": block.actions(),
            "Resource": "*",
            "Condition": not_exempt
        })],
    })
}

/// A policy document of `statements`, minified.
pub(crate) fn document(statements: &[Value]) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// Packs units (blocks and their statements), in order, first-fit into documents of at most
/// `max` characters; a unit is never split.
pub(crate) fn pack_first_fit<B>(
    units: Vec<(Vec<B>, Vec<Value>)>,
    max: usize,
) -> Vec<(Vec<B>, Vec<Value>)> {
    let mut packs: Vec<(Vec<B>, Vec<Value>)> = Vec::new();
    for (bs, st) in units {
        let fits = packs.iter_mut().find(|(_, s)| {
            let mut all = s.clone();
            all.extend(st.iter().cloned());
            document(&all).len() <= max
        });
        match fits {
            Some((b, s)) => {
                b.extend(bs);
                s.extend(st);
            }
            None => packs.push((bs, st)),
        }
    }
    packs
}

/// The SCPs for one target (an OU path such as `Workloads/Prod`): the blocks' statements packed
/// first-fit, in block order, into policies within the size quota, at most
/// [`SCPS_PER_TARGET`] of them.
pub fn build_guardrails(
    target: &str,
    blocks: &[Block],
    settings: &GuardrailSettings,
) -> Result<Vec<Scp>, GuardrailError> {
    let mut blocks: Vec<Block> = blocks.to_vec();
    blocks.sort();
    blocks.dedup();
    let mut units = Vec::new();
    for b in blocks {
        let st = statements(b, settings)?;
        let alone = document(&st).len();
        if alone > SCP_MAX_CHARS {
            return Err(GuardrailError::TooLarge {
                block: b,
                chars: alone,
            });
        }
        units.push((vec![b], st));
    }
    let packs = pack_first_fit(units, SCP_MAX_CHARS);
    if packs.len() > SCPS_PER_TARGET {
        return Err(GuardrailError::TooMany {
            target: target.to_string(),
            needed: packs.len(),
        });
    }
    let slug = slug(target);
    Ok(packs
        .into_iter()
        .enumerate()
        .map(|(i, (blocks, st))| Scp {
            name: format!("rampart-{slug}-{}", i + 1),
            blocks,
            content: document(&st),
        })
        .collect())
}

/// An OU path as a policy-name part: `Workloads/Prod` → `workloads-prod`.
pub(crate) fn slug(target: &str) -> String {
    target
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn settings() -> GuardrailSettings {
        GuardrailSettings {
            allowed_regions: vec!["eu-west-1".into(), "eu-central-1".into()],
            exempt_roles: vec!["BreakGlass".into(), "RampartExecution".into()],
        }
    }

    #[test]
    fn every_block_within_quota_and_packed() {
        let scps = build_guardrails("Workloads/Prod", &Block::ALL, &settings()).unwrap();
        assert!(scps.len() <= SCPS_PER_TARGET);
        let mut seen: Vec<Block> = scps.iter().flat_map(|s| s.blocks.clone()).collect();
        seen.sort();
        assert_eq!(seen, Block::ALL.to_vec());
        for s in &scps {
            assert!(
                s.content.len() <= SCP_MAX_CHARS,
                "{} is {}",
                s.name,
                s.content.len()
            );
            assert!(
                !s.content.contains(' ') || s.content.contains("\"Sid\""),
                "minified"
            );
            assert!(s.name.starts_with("rampart-workloads-prod-"));
            rampart_policy::parse_policy(&s.content).expect("valid policy");
        }
        // First-fit packing: the small blocks share one policy.
        assert!(scps.len() < Block::ALL.len());
    }

    #[test]
    fn names_round_trip() {
        for b in Block::ALL {
            assert_eq!(Block::parse(b.name()), Some(b));
        }
        assert_eq!(Block::parse("nope"), None);
    }

    #[test]
    fn misconfiguration_is_an_error() {
        let mut s = settings();
        s.allowed_regions.clear();
        assert_eq!(
            build_guardrails("Sandbox", &[Block::RegionDeny], &s),
            Err(GuardrailError::NoRegions(Block::RegionDeny))
        );
        let mut s = settings();
        s.exempt_roles.clear();
        assert_eq!(
            build_guardrails("Sandbox", &[Block::DenyLeaveOrg], &s),
            Err(GuardrailError::NoExemptRole)
        );
        // Many allowed regions with a long exemption list still fit, or say why not.
        let mut s = settings();
        s.exempt_roles = (0..200)
            .map(|i| format!("Role{i:03}WithAVeryLongName"))
            .collect();
        assert!(matches!(
            build_guardrails("Sandbox", &[Block::RegionDeny], &s),
            Err(GuardrailError::TooLarge { .. })
        ));
    }
}
