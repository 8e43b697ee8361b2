//! Proofs, with the policy engine, that generated guardrails do what they promise — before any
//! SCP is attached: every promised action is denied to every non-exempt principal class, the
//! exempt roles are never denied anything, the region deny blocks regional calls outside the
//! allowed regions but never a global service, and the root user is denied when `deny-root` is
//! chosen.

use crate::guardrails::{Block, GuardrailSettings, Scp};
use rampart_policy::proofs::{region_deny_check, scp_chain_denies, scp_chain_denies_except};
use rampart_policy::{ContextValue, OrgLevel, parse_policy};
use std::collections::BTreeMap;

/// One checked promise.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Claim {
    pub block: Option<Block>,
    /// What was checked, in words.
    pub claim: String,
    pub holds: bool,
    /// Why not, with a counterexample, when it does not hold.
    pub detail: Option<String>,
}

/// The proof of one target's guardrails.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Proof {
    pub target: String,
    pub claims: Vec<Claim>,
}

impl Proof {
    pub fn holds(&self) -> bool {
        self.claims.iter().all(|c| c.holds)
    }
    /// The failing claims, one line each.
    pub fn failures(&self) -> Vec<String> {
        self.claims
            .iter()
            .filter(|c| !c.holds)
            .map(|c| {
                format!(
                    "{}: {}{}",
                    self.target,
                    c.claim,
                    c.detail
                        .as_deref()
                        .map(|d| format!(" ({d})"))
                        .unwrap_or_default()
                )
            })
            .collect()
    }
}

const PROBE_ACCOUNT: &str = "123456789012";
/// A sample of what exempt roles must still be able to do (repair work, normal operations).
const EXEMPT_SAMPLE: &[&str] = &[
    "cloudtrail:StopLogging",
    "cloudtrail:UpdateTrail",
    "guardduty:DeleteDetector",
    "organizations:AttachPolicy",
    "ec2:DisableEbsEncryptionByDefault",
    "s3:PutAccountPublicAccessBlock",
    "iam:CreateRole",
    "iam:CreateUser",
    "iam:CreateAccessKey",
    "ec2:RunInstances",
];

/// Proves `scps` (the guardrails of one target) against their blocks' promises.
pub fn prove(target: &str, scps: &[Scp], settings: &GuardrailSettings) -> Proof {
    let mut claims = Vec::new();
    let mut policies = Vec::new();
    for s in scps {
        match parse_policy(&s.content) {
            Ok(p) => policies.push(p),
            Err(e) => claims.push(Claim {
                block: None,
                claim: format!("{} is a valid policy", s.name),
                holds: false,
                detail: Some(e.to_string()),
            }),
        }
    }
    let full_access = parse_policy(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    )
    .unwrap_or_else(|_| unreachable!("constant policy parses"));
    let levels = vec![
        OrgLevel {
            id: "root".into(),
            policies: vec![full_access.clone()],
        },
        OrgLevel {
            id: target.into(),
            policies: {
                let mut p = vec![full_access];
                p.extend(policies);
                p
            },
        },
    ];
    let exempt = settings.exempt_arns();
    let exempt_refs: Vec<&str> = exempt.iter().map(String::as_str).collect();
    let allowed = settings
        .allowed_regions
        .first()
        .cloned()
        .unwrap_or_else(|| "us-east-1".into());
    let ctx_in = region_ctx(&allowed);
    let blocks: Vec<Block> = scps.iter().flat_map(|s| s.blocks.iter().copied()).collect();

    for &b in &blocks {
        for action in b.promised_actions() {
            let p =
                scp_chain_denies_except(&levels, action, "*", PROBE_ACCOUNT, &exempt_refs, &ctx_in);
            claims.push(Claim {
                block: Some(b),
                claim: format!("denies {action} to every non-exempt principal"),
                holds: p.holds,
                detail: match p.counterexample {
                    Some(c) => Some(format!("allowed for {c}")),
                    None if !p.complete => Some(
                        "not proved: the conditions name too many values to try every combination"
                            .into(),
                    ),
                    None => None,
                },
            });
        }
    }
    if blocks.contains(&Block::DenyRoot) {
        let root = format!("arn:aws:iam::{PROBE_ACCOUNT}:root");
        let holds = scp_chain_denies(&levels, "s3:ListAllMyBuckets", "*", &root, &ctx_in);
        claims.push(Claim {
            block: Some(Block::DenyRoot),
            claim: "denies the root user".into(),
            holds,
            detail: (!holds).then(|| "root can call s3:ListAllMyBuckets".into()),
        });
    }
    if blocks.contains(&Block::RegionDeny) {
        let principal = format!("arn:aws:iam::{PROBE_ACCOUNT}:role/Developer");
        let denied = [
            "ap-southeast-3",
            "me-central-1",
            "sa-east-1",
            "us-west-2",
            "eu-west-1",
        ]
        .into_iter()
        .find(|r| !settings.allowed_regions.iter().any(|a| a == r))
        .unwrap_or("ap-southeast-3");
        let report = region_deny_check(&levels, &principal, denied);
        claims.push(Claim {
            block: Some(Block::RegionDeny),
            claim: format!("denies regional calls in {denied}"),
            holds: report.blocks_regional,
            detail: (!report.blocks_regional).then(|| "ec2:RunInstances is allowed there".into()),
        });
        claims.push(Claim {
            block: Some(Block::RegionDeny),
            claim: "never blocks a global service".into(),
            holds: report.blocked_global.is_empty(),
            detail: (!report.blocked_global.is_empty())
                .then(|| format!("blocks {}", report.blocked_global.join(", "))),
        });
        for r in &settings.allowed_regions {
            let holds =
                !scp_chain_denies(&levels, "ec2:RunInstances", "*", &principal, &region_ctx(r));
            claims.push(Claim {
                block: Some(Block::RegionDeny),
                claim: format!("allows regional calls in allowed region {r}"),
                holds,
                detail: (!holds).then(|| "ec2:RunInstances is denied".into()),
            });
        }
    }
    // The exempt roles (and their sessions) keep every permission, everywhere.
    for role in &settings.exempt_roles {
        let arn = format!("arn:aws:iam::{PROBE_ACCOUNT}:role/{role}");
        let session = format!("arn:aws:sts::{PROBE_ACCOUNT}:assumed-role/{role}/rampart");
        let outside = region_ctx("ap-southeast-3");
        let blocked: Vec<String> = EXEMPT_SAMPLE
            .iter()
            .flat_map(|a| {
                [
                    (a, &arn, &ctx_in),
                    (a, &arn, &outside),
                    (a, &session, &ctx_in),
                ]
            })
            .filter(|(a, p, c)| scp_chain_denies(&levels, a, "*", p, c))
            .map(|(a, p, _)| format!("{a} for {p}"))
            .collect();
        claims.push(Claim {
            block: None,
            claim: format!("never denies the exempt role {role}"),
            holds: blocked.is_empty(),
            detail: (!blocked.is_empty()).then(|| format!("denied: {}", blocked.join(", "))),
        });
    }
    Proof {
        target: target.to_string(),
        claims,
    }
}

fn region_ctx(region: &str) -> BTreeMap<String, ContextValue> {
    let mut c = BTreeMap::new();
    c.insert(
        "aws:RequestedRegion".to_string(),
        ContextValue::String(region.to_string()),
    );
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guardrails::build_guardrails;

    fn settings() -> GuardrailSettings {
        GuardrailSettings {
            allowed_regions: vec!["eu-west-1".into(), "us-east-1".into()],
            exempt_roles: vec!["BreakGlass".into(), "RampartExecution".into()],
        }
    }

    #[test]
    fn generated_guardrails_prove() {
        let s = settings();
        let all: Vec<Block> = Block::ALL
            .into_iter()
            .filter(|b| *b != Block::Quarantine)
            .collect();
        let scps = build_guardrails("Workloads", &all, &s).unwrap();
        let p = prove("Workloads", &scps, &s);
        assert!(p.holds(), "{:#?}", p.failures());
        assert!(p.claims.len() > 20, "{}", p.claims.len());
        let q = build_guardrails("Quarantine", &[Block::Quarantine], &s).unwrap();
        let p = prove("Quarantine", &q, &s);
        assert!(p.holds(), "{:#?}", p.failures());
    }

    #[test]
    fn a_broken_guardrail_is_refused_with_a_reason() {
        let s = settings();
        let mut scps = build_guardrails("Workloads", &[Block::ProtectOrgTrail], &s).unwrap();
        // Someone "optimises" the trail guardrail and drops StopLogging.
        scps[0].content = scps[0].content.replace("\"cloudtrail:StopLogging\",", "");
        let p = prove("Workloads", &scps, &s);
        assert!(!p.holds());
        let f = p.failures().join("\n");
        assert!(f.contains("cloudtrail:StopLogging"), "{f}");
    }

    #[test]
    fn deny_iam_users_proves_and_a_gap_is_found() {
        let s = settings();
        let scps = build_guardrails("Workloads", &[Block::DenyIamUsers], &s).unwrap();
        let p = prove("Workloads", &scps, &s);
        assert!(p.holds(), "{:#?}", p.failures());
        // One claim per credential-creating action, plus the exempt roles keep the power.
        let claims: Vec<&str> = p.claims.iter().map(|c| c.claim.as_str()).collect();
        for a in crate::guardrails::IAM_USER_CREDENTIAL_ACTIONS {
            assert!(claims.iter().any(|c| c.contains(a)), "{a}: {claims:?}");
        }
        // A version that forgets login profiles is refused, naming the action.
        let mut broken = scps.clone();
        broken[0].content = broken[0].content.replace("\"iam:UpdateLoginProfile\",", "");
        let f = prove("Workloads", &broken, &s).failures().join("\n");
        assert!(f.contains("iam:UpdateLoginProfile"), "{f}");
    }

    #[test]
    fn a_region_deny_that_blocks_global_services_is_refused() {
        let s = settings();
        let mut scps = build_guardrails("Sandbox", &[Block::RegionDeny], &s).unwrap();
        scps[0].content = scps[0].content.replace("\"iam:*\",", "");
        let p = prove("Sandbox", &scps, &s);
        let f = p.failures().join("\n");
        assert!(
            f.contains("never blocks a global service") && f.contains("iam:"),
            "{f}"
        );
    }

    #[test]
    fn a_guardrail_that_locks_out_the_exempt_roles_is_refused() {
        let s = settings();
        let mut scps =
            build_guardrails("Security", &[Block::DenyLeaveOrg, Block::Quarantine], &s).unwrap();
        // Exemption removed: the break-glass role would be locked out.
        for scp in &mut scps {
            scp.content = scp.content.replace("BreakGlass", "SomeoneElse");
        }
        let p = prove("Security", &scps, &s);
        let f = p.failures().join("\n");
        assert!(f.contains("never denies the exempt role BreakGlass"), "{f}");
    }
}
