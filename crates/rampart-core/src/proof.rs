//! Proofs over policies, all decided by the one IAM evaluator (`rampart-policy`): "is this
//! request denied by the SCPs and RCPs in force at this account's place in the OU tree?" for the
//! guardrail controls, and "is every request without TLS denied?" for CIS 2.1.1.
//!
//! A guardrail proof sets the other layers aside: the caller's identity policy allows
//! everything and the resource is taken to be the caller's own, so a request can only be
//! stopped by an SCP (principal side, every level root → OU → account must allow, any Deny
//! denies) or an RCP (resource side, the same per level; only for resources of member accounts,
//! only for the services AWS lists as supporting RCPs, never for service-linked roles — the
//! evaluator knows these rules). It speaks for every ordinary principal class of the account
//! ([`ordinary_principals`]: a role, a session of it, an IAM user and the account root user).
//!
//! Conservative by construction: a request counts as denied only if it is denied in *every*
//! combination of the values the policies' conditions test and the probe does not fix
//! (absence, another value, each value the policies name — see
//! [`rampart_policy::proofs::denied_for_all`]), so a condition the audit cannot settle (a date, a
//! principal tag, a source IP) never becomes a false PASS; it becomes a FAIL naming the context
//! that gets through. A policy the evaluator cannot read (bad JSON, an operator AWS does not
//! have) is [`Unreadable`] and gives ERROR, and so does a proof whose combinations exceed the
//! evaluator's budget ([`Verdict::Undecided`]).

use rampart_policy::proofs::{DenialProof, denied_for_all_compiled};
use rampart_policy::{
    CompiledPolicySet, ContextValue, Decision, Effect, Evaluation, Layer, OrgLevel, Policy,
    PolicySet, Request,
};
use std::collections::BTreeMap;

/// The policies of one type (SCP or RCP) in force for an account, level by level from the root.
#[derive(Debug, Clone, Default)]
pub struct Chain {
    /// Root, OUs, account; a level where the snapshot shows no policy of this type is left out
    /// (AWS always has one there, so the collector did not see it and it cannot prove a deny).
    pub levels: Vec<OrgLevel>,
    /// The policy names of each level, in the order of `levels[i].policies`.
    pub names: Vec<Vec<String>>,
}

impl Chain {
    /// Adds a level (skipped when empty).
    pub fn push(&mut self, id: String, policies: Vec<(String, Policy)>) {
        if policies.is_empty() {
            return;
        }
        let (names, policies) = policies.into_iter().unzip();
        self.levels.push(OrgLevel { id, policies });
        self.names.push(names);
    }

    fn name(&self, level: &str, policy: usize) -> Option<&str> {
        let i = self.levels.iter().position(|l| l.id == level)?;
        self.names[i].get(policy).map(String::as_str)
    }
}

/// A policy on the account's path that the evaluator cannot read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// `SCP` or `RCP`.
    pub kind: &'static str,
    pub policy: String,
    /// The parser's `line:column: what AWS expects`.
    pub reason: String,
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} `{}` cannot be evaluated: {}",
            self.kind, self.policy, self.reason
        )
    }
}

/// The guardrails in force for one member account, compiled once for all its proofs.
#[derive(Debug)]
pub struct Guardrails {
    pub scps: Chain,
    /// `None` when RCPs are not enabled in the organization.
    pub rcps: Option<Chain>,
    /// SCPs and RCPs (requests to the account's own resources).
    with_rcps: CompiledPolicySet,
    /// SCPs alone (resources of the management account), compiled on first use.
    scps_only: std::sync::OnceLock<CompiledPolicySet>,
}

/// The outcome of proving that requests are denied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every probe is denied, in every context; says which policy denies the first.
    Denied(String),
    /// A probe gets through; describes it (who, and in which context).
    Open(String),
    /// No probe got through, but there were more condition combinations than the evaluator
    /// tries, so that is not a proof.
    Undecided(String),
}

/// The principal classes a guardrail must stop: a role, a session of that role, an IAM user and
/// the account root user (SCPs do restrict a member account's root user).
pub fn ordinary_principals(partition: &str, account: &str) -> [String; 4] {
    [
        format!("arn:{partition}:iam::{account}:role/WorkloadAdministrator"),
        format!("arn:{partition}:sts::{account}:assumed-role/WorkloadAdministrator/rampart-probe"),
        format!("arn:{partition}:iam::{account}:user/rampart-probe-user"),
        format!("arn:{partition}:iam::{account}:root"),
    ]
}

/// An identity policy allowing everything: isolates the guardrails.
fn allow_all() -> &'static Policy {
    static ALLOW_ALL: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
    ALLOW_ALL.get_or_init(|| {
        rampart_policy::parse_policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        )
        .unwrap_or_else(|_| unreachable!("constant policy parses"))
    })
}

/// One request to a guardrail proof.
#[derive(Debug, Clone)]
pub struct Probe<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    /// The account the caller is in (and, for the proof, the resource too).
    pub account: &'a str,
    /// False when the resource belongs to the management account: RCPs never apply there.
    pub resource_in_member: bool,
    /// Fixed context: `aws:RequestedRegion`, `aws:SecureTransport`, …
    pub context: &'a BTreeMap<String, ContextValue>,
}

impl Guardrails {
    pub fn new(scps: Chain, rcps: Option<Chain>) -> Guardrails {
        let with_rcps = CompiledPolicySet::new(&Self::set(&scps, rcps.as_ref()));
        Guardrails {
            scps,
            rcps,
            with_rcps,
            scps_only: std::sync::OnceLock::new(),
        }
    }

    fn set(scps: &Chain, rcps: Option<&Chain>) -> PolicySet {
        PolicySet {
            identity: vec![allow_all().clone()],
            scps: Some(scps.levels.clone()),
            rcps: rcps.map(|c| c.levels.clone()),
            ..PolicySet::default()
        }
    }

    fn compiled(&self, rcps_apply: bool) -> &CompiledPolicySet {
        if rcps_apply || self.rcps.is_none() {
            &self.with_rcps
        } else {
            self.scps_only
                .get_or_init(|| CompiledPolicySet::new(&Self::set(&self.scps, None)))
        }
    }

    /// Every policy whose conditions the proofs vary.
    fn policies(&self, rcps_apply: bool) -> Vec<&Policy> {
        let rcps = self.rcps.iter().filter(|_| rcps_apply);
        std::iter::once(allow_all())
            .chain(self.scps.levels.iter().flat_map(|l| l.policies.iter()))
            .chain(rcps.flat_map(|c| c.levels.iter().flat_map(|l| l.policies.iter())))
            .collect()
    }

    fn request(probe: &Probe<'_>, principal: &str) -> Request {
        Request {
            action: probe.action.to_string(),
            resource: probe.resource.to_string(),
            resource_account: Some(probe.account.to_string()),
            principal: Some(principal.to_string()),
            context: probe.context.clone(),
            ..Request::default()
        }
    }

    /// Is the request denied to every one of `principals`, whatever the context?
    pub fn denied(&self, probe: &Probe<'_>, principals: &[String]) -> Verdict {
        let requests: Vec<Request> = principals.iter().map(|p| Self::request(probe, p)).collect();
        let rcps = probe.resource_in_member;
        let proof =
            denied_for_all_compiled(self.compiled(rcps), &self.policies(rcps), &requests, false);
        self.verdict(&proof)
    }

    /// The decision for one principal in exactly the given context (for "must stay usable").
    pub fn decide(&self, probe: &Probe<'_>, principal: &str) -> Decision {
        self.compiled(probe.resource_in_member)
            .decide(&Self::request(probe, principal))
    }

    fn verdict(&self, proof: &DenialProof) -> Verdict {
        if let Some(c) = &proof.counterexample {
            return Verdict::Open(c.describe());
        }
        if !proof.complete {
            return Verdict::Undecided(
                "the guardrails test more combinations of condition values than the evaluator tries, so no counterexample is not a proof".into(),
            );
        }
        let why = proof
            .witness
            .as_ref()
            .map(|w| self.explain(w))
            .unwrap_or_else(|| "denied".into());
        Verdict::Denied(why)
    }

    fn explain(&self, e: &Evaluation) -> String {
        explain(Some(&self.scps), self.rcps.as_ref(), e)
    }
}

/// Names the organization policy and level that decided a denied request (`explicitly denied
/// by SCP `x` on r-root`), or the evaluator's reason when no SCP/RCP decided it.
pub fn explain(scps: Option<&Chain>, rcps: Option<&Chain>, e: &Evaluation) -> String {
    for report in &e.explain.layers {
        let (kind, chain) = match report.layer {
            Layer::ServiceControlPolicy => ("SCP", scps),
            Layer::ResourceControlPolicy => ("RCP", rcps),
            _ => continue,
        };
        let (Some(chain), Some(level)) = (chain, report.org_level.as_deref()) else {
            continue;
        };
        match report.result {
            Decision::ExplicitlyDenied => {
                let names: Vec<String> = report
                    .statements
                    .iter()
                    .filter(|s| s.effect == Effect::Deny)
                    .filter_map(|s| chain.name(level, s.policy))
                    .map(|n| format!("`{n}`"))
                    .collect();
                return format!(
                    "explicitly denied by {kind} {} on {level}",
                    names.join(", ")
                );
            }
            Decision::ImplicitlyDenied => {
                return format!("implicitly denied: no {kind} on {level} allows it");
            }
            Decision::Allowed => {}
        }
    }
    e.explain.reason.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_policy::parse_policy;

    const FULL: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    const DENY_STOP: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["cloudtrail:StopLogging","cloudtrail:Delete*"],"Resource":"*",
        "Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/BreakGlass"}}}]}"#;
    const ACCOUNT: &str = "111111111111";

    fn chain(levels: &[(&str, &[(&str, &str)])]) -> Chain {
        let mut c = Chain::default();
        for (id, pols) in levels {
            c.push(
                id.to_string(),
                pols.iter()
                    .map(|(n, t)| (n.to_string(), parse_policy(t).unwrap()))
                    .collect(),
            );
        }
        c
    }

    fn guardrails(root: &[(&str, &str)]) -> Guardrails {
        Guardrails::new(
            chain(&[("r-root", root), (ACCOUNT, &[("FullAWSAccess", FULL)])]),
            None,
        )
    }

    fn ctx(region: &str) -> BTreeMap<String, ContextValue> {
        let mut c = BTreeMap::new();
        c.insert(
            "aws:RequestedRegion".into(),
            ContextValue::String(region.into()),
        );
        c.insert("aws:SecureTransport".into(), ContextValue::Bool(true));
        c
    }

    fn probe<'a>(action: &'a str, c: &'a BTreeMap<String, ContextValue>) -> Probe<'a> {
        Probe {
            action,
            resource: "*",
            account: ACCOUNT,
            resource_in_member: true,
            context: c,
        }
    }

    fn everyone() -> [String; 4] {
        ordinary_principals("aws", ACCOUNT)
    }

    #[test]
    fn deny_with_exemption_names_the_policy() {
        let g = guardrails(&[("FullAWSAccess", FULL), ("protect-trail", DENY_STOP)]);
        let c = ctx("us-east-1");
        assert_eq!(
            g.denied(&probe("CloudTrail:stoplogging", &c), &everyone()),
            Verdict::Denied("explicitly denied by SCP `protect-trail` on r-root".into())
        );
        let exempt = "arn:aws:iam::111111111111:role/BreakGlass".to_string();
        assert!(matches!(
            g.denied(&probe("cloudtrail:StopLogging", &c), &[exempt]),
            Verdict::Open(_)
        ));
        assert!(matches!(
            g.denied(&probe("cloudtrail:UpdateTrail", &c), &everyone()),
            Verdict::Open(_)
        ));
    }

    #[test]
    fn implicit_deny_when_a_level_lacks_allow() {
        let g = guardrails(&[(
            "AllowEc2",
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*"}}"#,
        )]);
        let c = ctx("us-east-1");
        assert_eq!(
            g.denied(&probe("iam:CreateUser", &c), &everyone()),
            Verdict::Denied("implicitly denied: no SCP on r-root allows it".into())
        );
        assert!(matches!(
            g.denied(&probe("ec2:RunInstances", &c), &everyone()),
            Verdict::Open(_)
        ));
    }

    #[test]
    fn a_condition_the_probe_cannot_settle_never_proves_a_deny() {
        // Denied only after a date: the probe does not know the time, so it is not a proof.
        let dated = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}]}"#;
        let g = guardrails(&[("FullAWSAccess", FULL), ("dated", dated)]);
        let c = ctx("us-east-1");
        let Verdict::Open(why) = g.denied(&probe("s3:GetObject", &c), &everyone()) else {
            panic!("a date condition proved a deny")
        };
        assert!(why.contains("aws:CurrentTime"), "{why}");
        // A tag exemption: any principal carrying the tag gets through, and the proof says how.
        let tagged = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"cloudtrail:StopLogging","Resource":"*",
            "Condition":{"StringNotEquals":{"aws:PrincipalTag/exempt":"yes"}}}]}"#;
        let g = guardrails(&[("FullAWSAccess", FULL), ("tagged", tagged)]);
        let Verdict::Open(why) = g.denied(&probe("cloudtrail:StopLogging", &c), &everyone()) else {
            panic!("a tag exemption proved a deny")
        };
        assert!(why.contains("aws:PrincipalTag/exempt = yes"), "{why}");
    }

    #[test]
    fn set_operators_and_dates_are_decided_by_the_evaluator() {
        // A set operator on a key the probe fixes: denied in every context.
        let any_region = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*",
            "Condition":{"ForAnyValue:StringLike":{"aws:RequestedRegion":["*"]}}}]}"#;
        let g = guardrails(&[("FullAWSAccess", FULL), ("stay", any_region)]);
        let c = ctx("ap-south-1");
        assert!(matches!(
            g.denied(&probe("organizations:LeaveOrganization", &c), &everyone()),
            Verdict::Denied(_)
        ));
    }

    #[test]
    fn only_ordinary_principals_of_some_classes_left_open_is_a_failure() {
        // Roles only: IAM users and the root user can still stop the trail.
        let roles_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"cloudtrail:StopLogging","Resource":"*",
            "Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}}]}"#;
        let g = guardrails(&[("FullAWSAccess", FULL), ("roles-only", roles_only)]);
        let c = ctx("us-east-1");
        let Verdict::Open(why) = g.denied(&probe("cloudtrail:StopLogging", &c), &everyone()) else {
            panic!("users and root are not covered")
        };
        assert!(why.contains(":user/") || why.contains(":root"), "{why}");
    }

    #[test]
    fn region_deny_with_notaction() {
        let p = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["iam:*","organizations:*","sts:*"],"Resource":"*",
            "Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}}}]}"#;
        let g = guardrails(&[("FullAWSAccess", FULL), ("region", p)]);
        let role = &everyone()[0];
        let out = ctx("ap-south-1");
        let inside = ctx("eu-west-1");
        assert!(matches!(
            g.denied(&probe("ec2:RunInstances", &out), &everyone()),
            Verdict::Denied(_)
        ));
        assert_eq!(
            g.decide(&probe("ec2:RunInstances", &inside), role),
            Decision::Allowed
        );
        assert_eq!(
            g.decide(&probe("iam:CreateRole", &out), role),
            Decision::Allowed
        );
    }

    #[test]
    fn rcps_deny_on_the_resource_side_for_supported_services_only() {
        let rcp = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":["s3:PutAccountPublicAccessBlock","cloudtrail:StopLogging"],"Resource":"*"}]}"#;
        let rcp_full = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;
        let g = guardrails(&[("FullAWSAccess", FULL)]);
        let g = Guardrails::new(
            g.scps,
            Some(chain(&[
                (
                    "r-root",
                    &[("RCPFullAWSAccess", rcp_full), ("protect-bpa", rcp)],
                ),
                (ACCOUNT, &[("RCPFullAWSAccess", rcp_full)]),
            ])),
        );
        let c = ctx("us-east-1");
        assert_eq!(
            g.denied(&probe("s3:PutAccountPublicAccessBlock", &c), &everyone()),
            Verdict::Denied("explicitly denied by RCP `protect-bpa` on r-root".into())
        );
        // CloudTrail does not support RCPs: the same Deny does nothing for it.
        assert!(matches!(
            g.denied(&probe("cloudtrail:StopLogging", &c), &everyone()),
            Verdict::Open(_)
        ));
        // Resources of the management account are outside every RCP.
        let mgmt = Probe {
            resource_in_member: false,
            ..probe("s3:PutAccountPublicAccessBlock", &c)
        };
        assert!(matches!(g.denied(&mgmt, &everyone()), Verdict::Open(_)));
        // Service-linked roles are outside every RCP (and SCP).
        let slr = format!(
            "arn:aws:iam::{ACCOUNT}:role/aws-service-role/s3.amazonaws.com/AWSServiceRoleForS3"
        );
        assert_eq!(
            g.decide(&probe("s3:PutAccountPublicAccessBlock", &c), &slr),
            Decision::Allowed
        );
    }

    #[test]
    fn empty_levels_prove_nothing() {
        // The collector saw no SCP on the OU: no implicit deny is claimed for it.
        let mut c = Chain::default();
        c.push(
            "r-root".into(),
            vec![("full".into(), parse_policy(FULL).unwrap())],
        );
        c.push("ou-unseen".into(), vec![]);
        assert_eq!(c.levels.len(), 1);
        let g = Guardrails::new(c, None);
        let cx = ctx("us-east-1");
        assert!(matches!(
            g.denied(&probe("s3:GetObject", &cx), &everyone()),
            Verdict::Open(_)
        ));
    }
}

/// The example guardrails in `../shared/reference/scps` (written by other projects; read, never
/// copied): every one is readable by the evaluator, and the simple ones prove what they say.
#[cfg(test)]
mod reference_guardrails {
    use super::*;
    use rampart_policy::parse_policy;

    /// `shared/reference/scps` beside the repository (or beside the folder of worktrees).
    fn dir() -> Option<std::path::PathBuf> {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|a| a.join("shared/reference/scps"))
            .find(|d| d.is_dir())
    }

    fn verdict(file: &str, action: &str, region: &str) -> Verdict {
        let text = std::fs::read_to_string(dir().unwrap().join(file)).unwrap();
        let full = parse_policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        )
        .unwrap();
        let mut scps = Chain::default();
        scps.push(
            "r-root".into(),
            vec![
                ("FullAWSAccess".into(), full),
                (file.into(), parse_policy(&text).unwrap()),
            ],
        );
        let g = Guardrails::new(scps, None);
        let mut c = BTreeMap::new();
        c.insert(
            "aws:RequestedRegion".into(),
            ContextValue::String(region.into()),
        );
        let p = Probe {
            action,
            resource: "*",
            account: "400000000000",
            resource_in_member: true,
            context: &c,
        };
        g.denied(&p, &ordinary_principals("aws", "400000000000"))
    }

    #[test]
    fn reference_guardrails_are_readable_and_decided() {
        let Some(dir) = dir() else {
            return; // the shared reference folder is not part of the repository
        };
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.ends_with(".json") {
                let text = std::fs::read_to_string(e.path()).unwrap();
                assert!(parse_policy(&text).is_ok(), "{name}");
            }
        }
        let denied = |f, a, r| matches!(verdict(f, a, r), Verdict::Denied(_));
        assert!(denied(
            "wa-quest-deny-stoplogging.json",
            "cloudtrail:StopLogging",
            "us-east-1"
        ));
        assert!(denied(
            "wa-quest-deny-s3-pab-changes.json",
            "s3:PutAccountPublicAccessBlock",
            "us-east-1"
        ));
        // The naive region deny also blocks IAM outside the allowed regions.
        assert!(denied(
            "wa-quest-region-deny-NAIVE-do-not-use.json",
            "iam:CreateRole",
            "ap-southeast-2"
        ));
        // A root-user deny leaves roles and users free to stop the trail.
        let Verdict::Open(why) = verdict(
            "controltower-strongly-recommended-root.json",
            "cloudtrail:StopLogging",
            "us-east-1",
        ) else {
            panic!("a root-only deny protects the trail from everyone")
        };
        assert!(!why.contains(":root"), "{why}");
    }
}
