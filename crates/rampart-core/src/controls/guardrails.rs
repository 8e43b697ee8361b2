//! Preventive guardrails: SCPs (principal side) and RCPs (resource side) in force along root →
//! OU → account must deny tampering with the baseline for every ordinary principal of the
//! account (a role, a session, an IAM user, the root user). Each control states the requests
//! that must be denied and proves it with the IAM evaluator (`crate::proof`), rather than
//! looking for a policy by name: a deny attached only to one OU, shadowed by a condition, or
//! missing an action fails for exactly the accounts it leaves open.

use crate::proof::{Guardrails, Probe, Verdict, ordinary_principals};
use crate::{Control, Ctx, Outcome, Scope, Severity};
use rampart_policy::{ContextValue, Decision};
use std::collections::BTreeMap;
use std::rc::Rc;

pub static CONTROLS: &[Control] = &[
    Control {
        id: "base-scp-protect-trail",
        title: "SCPs deny stopping, deleting or changing the organization trail",
        severity: Severity::Critical,
        scope: Scope::Account,
        rationale: "An attacker's first move is to blind the defenders; only the platform role may change the trail.",
        remediation_console: "Organizations → Policies → Service control policies: attach a policy denying cloudtrail:StopLogging, DeleteTrail, UpdateTrail and PutEventSelectors (except the platform role) at the root.",
        remediation_cli: "aws organizations create-policy --type SERVICE_CONTROL_POLICY --name protect-trail --content file://protect-trail.json && aws organizations attach-policy --policy-id P --target-id ROOT",
        frameworks: &["rampart-baseline:scp-protect-trail"],
        apis: &[
            "organizations:ListPolicies",
            "organizations:DescribePolicy",
            "organizations:ListTargetsForPolicy",
        ],
        check: Some(protect_trail),
    },
    Control {
        id: "base-scp-stay-in-org",
        title: "SCPs deny leaving the organization",
        severity: Severity::High,
        scope: Scope::Account,
        rationale: "An account that leaves the organization escapes every guardrail, the org trail and central security services.",
        remediation_console: "Organizations → Policies → attach an SCP denying organizations:LeaveOrganization at the root.",
        remediation_cli: "aws organizations attach-policy --policy-id P --target-id ROOT",
        frameworks: &["rampart-baseline:scp-stay-in-org"],
        apis: &[
            "organizations:ListPolicies",
            "organizations:DescribePolicy",
            "organizations:ListTargetsForPolicy",
        ],
        check: Some(stay_in_org),
    },
    Control {
        id: "base-scp-protect-security-services",
        title: "SCPs deny disabling GuardDuty, Security Hub, Config and Access Analyzer",
        severity: Severity::High,
        scope: Scope::Account,
        rationale: "Detective services are worthless if the account they watch can switch them off.",
        remediation_console: "Organizations → Policies → attach an SCP denying guardduty:DeleteDetector, securityhub:DisableSecurityHub, config:StopConfigurationRecorder, access-analyzer:DeleteAnalyzer… at the root.",
        remediation_cli: "aws organizations attach-policy --policy-id P --target-id ROOT",
        frameworks: &["rampart-baseline:scp-protect-security-services"],
        apis: &[
            "organizations:ListPolicies",
            "organizations:DescribePolicy",
            "organizations:ListTargetsForPolicy",
        ],
        check: Some(protect_security_services),
    },
    Control {
        id: "base-scp-protect-s3-bpa",
        title: "SCPs deny changing account-level S3 Block Public Access",
        severity: Severity::High,
        scope: Scope::Account,
        rationale: "Turning account-level Block Public Access off is the step before exposing a bucket.",
        remediation_console: "Organizations → Policies → attach an SCP denying s3:PutAccountPublicAccessBlock (except the platform role) at the root.",
        remediation_cli: "aws organizations attach-policy --policy-id P --target-id ROOT",
        frameworks: &["rampart-baseline:scp-protect-s3-bpa"],
        apis: &[
            "organizations:ListPolicies",
            "organizations:DescribePolicy",
            "organizations:ListTargetsForPolicy",
        ],
        check: Some(protect_s3_bpa),
    },
    Control {
        id: "base-scp-region-deny",
        title: "SCPs deny regional services outside the allowed regions, but not global services",
        severity: Severity::Medium,
        scope: Scope::Account,
        rationale: "Unused regions are where attackers mine crypto and hide resources; global services (IAM, Organizations, STS) must keep working.",
        remediation_console: "Organizations → Policies → attach a region-deny SCP (Deny NotAction [global services] when aws:RequestedRegion is not an allowed region).",
        remediation_cli: "aws organizations attach-policy --policy-id P --target-id ROOT",
        frameworks: &["rampart-baseline:scp-region-deny"],
        apis: &[
            "organizations:ListPolicies",
            "organizations:DescribePolicy",
            "organizations:ListTargetsForPolicy",
        ],
        check: Some(region_deny),
    },
];

/// The fixed part of every probe: a request in `region`, over TLS.
fn probe_context(region: &str) -> BTreeMap<String, ContextValue> {
    let mut c = BTreeMap::new();
    c.insert(
        "aws:RequestedRegion".to_string(),
        ContextValue::String(region.to_string()),
    );
    c.insert("aws:SecureTransport".to_string(), ContextValue::Bool(true));
    c
}

/// The resource's owner when its ARN names one; `None` for `*` and account-less ARNs (S3),
/// which the probes use for the account's own resources.
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// Common preconditions; the guardrails in force when the proof can run.
fn preconditions(ctx: &Ctx, out: &mut Vec<Outcome>) -> Option<Rc<Guardrails>> {
    let Some(org) = ctx.snapshot.organization.as_ref() else {
        out.push(Outcome::fail(
            ctx.account_resource(),
            "not in an organization: no SCP can protect this account",
        ));
        return None;
    };
    if ctx.is_management_account() {
        out.push(Outcome::na(
            ctx.account_resource(),
            "SCPs never apply to the management account",
        ));
        return None;
    }
    if !org.roots.iter().any(|r| {
        r.enabled_policy_types
            .iter()
            .any(|t| t == "SERVICE_CONTROL_POLICY")
    }) {
        out.push(Outcome::fail(
            ctx.account_resource(),
            "SCPs are not enabled on the organization root",
        ));
        return None;
    }
    if org.path_to(ctx.account_id()).is_empty() {
        out.push(Outcome::error(
            ctx.account_resource(),
            "the account's place in the OU tree is unknown (organizations:ListParents); re-run collect from the management account",
        ));
        return None;
    }
    match ctx.org.guardrails(ctx.account_id()) {
        Ok(g) => Some(g),
        Err(e) => {
            out.push(Outcome::error(ctx.account_resource(), e.to_string()));
            None
        }
    }
}

/// Proves every request is denied to every ordinary principal; one finding for the account.
fn all_denied(ctx: &Ctx, out: &mut Vec<Outcome>, requests: &[(String, String)], what: &str) {
    let Some(guardrails) = preconditions(ctx, out) else {
        return;
    };
    let account = ctx.account_id();
    let principals = ordinary_principals(crate::context::partition(ctx.snapshot), account);
    let context = probe_context(ctx.home_region());
    let mut open = Vec::new();
    let mut first_open = None;
    let mut proof = Vec::new();
    for (action, resource) in requests {
        // An action is open when any of its resources is; one explanation per denied action.
        if open.contains(&action.as_str()) {
            continue;
        }
        let probe = Probe {
            action,
            resource,
            account,
            resource_in_member: arn_account(resource)
                .is_none_or(|owner| ctx.org.management_account != Some(owner)),
            context: &context,
        };
        match guardrails.denied(&probe, &principals) {
            Verdict::Denied(why) => {
                let label = format!("{action}: ");
                if !proof.iter().any(|p: &String| p.starts_with(&label)) {
                    proof.push(format!("{label}{why}"));
                }
            }
            Verdict::Open(how) => {
                open.push(action.as_str());
                first_open.get_or_insert(how);
            }
            Verdict::Undecided(why) => {
                out.push(Outcome::error(
                    ctx.account_resource(),
                    format!("{action} cannot be proved denied: {why}"),
                ));
                return;
            }
        }
    }
    if open.is_empty() {
        out.push(Outcome::pass(
            ctx.account_resource(),
            format!(
                "{what} is denied to every ordinary principal (role, session, IAM user, root user; proved by the full IAM evaluator): {}",
                proof.join("; ")
            ),
        ));
    } else {
        out.push(Outcome::fail(
            ctx.account_resource(),
            format!(
                "an ordinary principal in this account is still allowed ({}): {}",
                first_open.unwrap_or_default(),
                open.join(", ")
            ),
        ));
    }
}

fn protect_trail(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let arns: Vec<String> = if ctx.org.org_trails.is_empty() {
        vec![format!(
            "arn:aws:cloudtrail:{}:{}:trail/org-trail",
            ctx.home_region(),
            ctx.org.management_account.unwrap_or("")
        )]
    } else {
        ctx.org
            .org_trails
            .iter()
            .flat_map(|t| {
                // The trail as owned, and a trail of that name in the member itself: the latter
                // isolates the SCP from the cross-account rules that also protect the org trail.
                [
                    t.trail.arn.clone(),
                    format!(
                        "arn:aws:cloudtrail:{}:{}:trail/{}",
                        t.trail.home_region,
                        ctx.account_id(),
                        t.trail.name
                    ),
                ]
            })
            .collect()
    };
    let mut reqs = Vec::new();
    for arn in &arns {
        for a in [
            "cloudtrail:StopLogging",
            "cloudtrail:DeleteTrail",
            "cloudtrail:UpdateTrail",
            "cloudtrail:PutEventSelectors",
        ] {
            reqs.push((a.to_string(), arn.clone()));
        }
    }
    all_denied(ctx, out, &reqs, "changing the organization trail");
}

fn stay_in_org(ctx: &Ctx, out: &mut Vec<Outcome>) {
    all_denied(
        ctx,
        out,
        &[("organizations:LeaveOrganization".into(), "*".into())],
        "leaving the organization",
    );
}

fn protect_security_services(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let reqs: Vec<(String, String)> = [
        "guardduty:DeleteDetector",
        "guardduty:DisassociateFromAdministratorAccount",
        "securityhub:DisableSecurityHub",
        "securityhub:DisassociateFromAdministratorAccount",
        "config:StopConfigurationRecorder",
        "config:DeleteConfigurationRecorder",
        "config:DeleteDeliveryChannel",
        "access-analyzer:DeleteAnalyzer",
    ]
    .iter()
    .map(|a| (a.to_string(), "*".to_string()))
    .collect();
    all_denied(ctx, out, &reqs, "disabling the security services");
}

fn protect_s3_bpa(ctx: &Ctx, out: &mut Vec<Outcome>) {
    all_denied(
        ctx,
        out,
        &[("s3:PutAccountPublicAccessBlock".into(), "*".into())],
        "changing account-level Block Public Access",
    );
}

/// Global-service calls that must keep working from any region.
const GLOBAL_PROBES: [&str; 4] = [
    "iam:CreateRole",
    "organizations:DescribeOrganization",
    "sts:GetCallerIdentity",
    "iam:ListRoles",
];

fn region_deny(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let Some(guardrails) = preconditions(ctx, out) else {
        return;
    };
    let allowed = ctx.allowed_regions();
    if allowed.is_empty() {
        out.push(Outcome::na(
            ctx.account_resource(),
            "no allowed regions configured: set allowed_regions in rampart.toml (or collect with --regions)",
        ));
        return;
    }
    let Some(outside) = crate::sample::DEFAULT_REGIONS
        .iter()
        .find(|r| !allowed.iter().any(|a| a == *r))
    else {
        out.push(Outcome::na(
            ctx.account_resource(),
            "every default region is allowed: nothing to deny",
        ));
        return;
    };
    let account = ctx.account_id();
    let principals = ordinary_principals(crate::context::partition(ctx.snapshot), account);
    let mut checks: Vec<(&str, &str, bool)> = vec![
        ("ec2:RunInstances", outside, true),
        ("s3:CreateBucket", outside, true),
        ("ec2:RunInstances", allowed[0].as_str(), false),
    ];
    for g in GLOBAL_PROBES {
        checks.push((g, outside, false));
        checks.push((g, "us-east-1", false));
    }
    let mut problems = Vec::new();
    for (action, region, must_deny) in checks {
        let context = probe_context(region);
        let probe = Probe {
            action,
            resource: "*",
            account,
            resource_in_member: true,
            context: &context,
        };
        if must_deny {
            match guardrails.denied(&probe, &principals) {
                Verdict::Denied(_) => {}
                Verdict::Open(how) => {
                    problems.push(format!("{action} in {region} is allowed ({how})"))
                }
                Verdict::Undecided(why) => {
                    out.push(Outcome::error(
                        ctx.account_resource(),
                        format!("{action} in {region} cannot be proved denied: {why}"),
                    ));
                    return;
                }
            }
        } else if guardrails.decide(&probe, &principals[0]) != Decision::Allowed {
            // Usability, not security: the ordinary role in the plain context must get through.
            problems.push(format!(
                "{action} in {region} is denied (global services must stay usable)"
            ));
        }
    }
    if problems.is_empty() {
        out.push(Outcome::pass(
            ctx.account_resource(),
            format!(
                "regional calls outside {} are denied; global services stay usable",
                allowed.join(", ")
            ),
        ));
    } else {
        out.push(Outcome::fail(ctx.account_resource(), problems.join("; ")));
    }
}

#[cfg(test)]
mod tests {
    use crate::Status;
    use crate::fixtures::*;
    use crate::sample::GUARDRAIL_SCP;

    const ALL: [&str; 5] = [
        "base-scp-protect-trail",
        "base-scp-stay-in-org",
        "base-scp-protect-security-services",
        "base-scp-protect-s3-bpa",
        "base-scp-region-deny",
    ];

    #[test]
    fn root_guardrails_protect_every_member_not_management() {
        let s = org();
        for c in ALL {
            for a in [LOG_ARCHIVE, AUDIT, WORKLOAD, WORKLOAD2] {
                assert_eq!(statuses(&s, c, a), vec![Status::Pass], "{c} {a}");
            }
            assert_eq!(
                statuses(&s, c, MANAGEMENT),
                vec![Status::NotApplicable],
                "{c}"
            );
        }
    }

    #[test]
    fn guardrail_on_one_ou_leaves_others_open() {
        let mut s = org();
        let o = s.organization.as_mut().unwrap();
        let g = o
            .policies
            .iter_mut()
            .find(|p| p.name == "rampart-guardrails")
            .unwrap();
        g.targets = vec!["ou-security".into()];
        assert_eq!(
            statuses(&s, "base-scp-stay-in-org", LOG_ARCHIVE),
            vec![Status::Pass]
        );
        let f = findings(&s, "base-scp-protect-trail", WORKLOAD);
        assert_eq!(f[0].status, Status::Fail);
        assert!(
            f[0].message.contains("cloudtrail:StopLogging"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn missing_action_is_named() {
        let mut s = org();
        let o = s.organization.as_mut().unwrap();
        let g = o
            .policies
            .iter_mut()
            .find(|p| p.name == "rampart-guardrails")
            .unwrap();
        g.content = GUARDRAIL_SCP.replace("\"securityhub:DisableSecurityHub\", ", "");
        let f = findings(&s, "base-scp-protect-security-services", WORKLOAD);
        assert_eq!(f[0].status, Status::Fail);
        assert!(
            f[0].message.ends_with("securityhub:DisableSecurityHub"),
            "{}",
            f[0].message
        );
        g_invalid(&mut s);
        assert_eq!(
            statuses(&s, "base-scp-stay-in-org", WORKLOAD),
            vec![Status::Error]
        );
    }

    fn g_invalid(s: &mut rampart_snapshot::Snapshot) {
        let o = s.organization.as_mut().unwrap();
        o.policies
            .iter_mut()
            .find(|p| p.name == "rampart-guardrails")
            .unwrap()
            .content = "{".into();
    }

    #[test]
    fn exemption_for_everyone_is_not_a_guardrail() {
        let mut s = org();
        let o = s.organization.as_mut().unwrap();
        let g = o
            .policies
            .iter_mut()
            .find(|p| p.name == "rampart-guardrails")
            .unwrap();
        g.content = GUARDRAIL_SCP.replace("role/RampartPlatform", "role/*");
        assert_eq!(
            statuses(&s, "base-scp-protect-trail", WORKLOAD),
            vec![Status::Fail]
        );
        // LeaveOrganization has no exemption in the sample policy.
        assert_eq!(
            statuses(&s, "base-scp-stay-in-org", WORKLOAD),
            vec![Status::Pass]
        );
    }

    #[test]
    fn naive_region_deny_blocks_global_services() {
        let mut s = org();
        let o = s.organization.as_mut().unwrap();
        let r = o
            .policies
            .iter_mut()
            .find(|p| p.name == "rampart-region-deny")
            .unwrap();
        r.content = r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}}]}"#.into();
        let f = findings(&s, "base-scp-region-deny", WORKLOAD);
        assert_eq!(f[0].status, Status::Fail);
        assert!(
            f[0].message
                .contains("iam:CreateRole in us-east-2 is denied"),
            "{}",
            f[0].message
        );
        s.organization
            .as_mut()
            .unwrap()
            .policies
            .retain(|p| p.name != "rampart-region-deny");
        let f = findings(&s, "base-scp-region-deny", WORKLOAD);
        assert!(
            f[0].message
                .contains("ec2:RunInstances in us-east-2 is allowed"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn conditions_outside_the_conservative_model_are_proved_by_the_full_evaluator() {
        let mut s = org();
        let o = s.organization.as_mut().unwrap();
        let g = o
            .policies
            .iter_mut()
            .find(|p| p.name == "rampart-guardrails")
            .unwrap();
        // A deny in force for every region, written with a set operator the conservative
        // evaluator does not model: only the full evaluator can prove it.
        g.content = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*",
            "Condition":{"ForAnyValue:StringLike":{"aws:RequestedRegion":["*"]}}}]}"#
            .into();
        let f = findings(&s, "base-scp-stay-in-org", WORKLOAD);
        assert_eq!(f[0].status, Status::Pass);
        assert!(
            f[0].message.contains("full IAM evaluator"),
            "{}",
            f[0].message
        );
        // A condition on a key the probe does not carry (a date) proves nothing: FAIL.
        let o = s.organization.as_mut().unwrap();
        let g = o
            .policies
            .iter_mut()
            .find(|p| p.name == "rampart-guardrails")
            .unwrap();
        g.content = g.content.replace(
            r#""ForAnyValue:StringLike":{"aws:RequestedRegion":["*"]}"#,
            r#""DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}"#,
        );
        assert_eq!(
            statuses(&s, "base-scp-stay-in-org", WORKLOAD),
            vec![Status::Fail]
        );
    }

    fn set_guardrail(s: &mut rampart_snapshot::Snapshot, content: &str) {
        let o = s.organization.as_mut().unwrap();
        o.policies
            .iter_mut()
            .find(|p| p.name == "rampart-guardrails")
            .unwrap()
            .content = content.into();
    }

    #[test]
    fn rcps_count_on_the_resource_side() {
        let mut s = org();
        // The SCP no longer protects Block Public Access; an RCP on the Workloads OU does.
        set_guardrail(
            &mut s,
            &GUARDRAIL_SCP.replace(r#""s3:PutAccountPublicAccessBlock""#, r#""s3:Nothing""#),
        );
        assert_eq!(
            statuses(&s, "base-scp-protect-s3-bpa", WORKLOAD),
            vec![Status::Fail]
        );
        let rcp = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutAccountPublicAccessBlock","Resource":"*",
            "Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/RampartPlatform"}}}]}"#;
        attach_rcp(&mut s, "protect-bpa", rcp, "ou-workloads");
        let f = findings(&s, "base-scp-protect-s3-bpa", WORKLOAD);
        assert_eq!(f[0].status, Status::Pass, "{}", f[0].message);
        assert!(
            f[0].message
                .contains("explicitly denied by RCP `protect-bpa` on ou-workloads"),
            "{}",
            f[0].message
        );
        // Outside the OU the RCP does not reach.
        assert_eq!(
            statuses(&s, "base-scp-protect-s3-bpa", LOG_ARCHIVE),
            vec![Status::Fail]
        );
        // RCPs not enabled on the root: attached policies do nothing.
        s.organization.as_mut().unwrap().roots[0]
            .enabled_policy_types
            .retain(|t| t != "RESOURCE_CONTROL_POLICY");
        assert_eq!(
            statuses(&s, "base-scp-protect-s3-bpa", WORKLOAD),
            vec![Status::Fail]
        );
    }

    #[test]
    fn an_rcp_only_on_supported_services() {
        // CloudTrail does not support RCPs: a trail deny in an RCP protects nothing.
        let mut s = org();
        set_guardrail(
            &mut s,
            &GUARDRAIL_SCP.replace("cloudtrail:StopLogging", "cloudtrail:Nothing"),
        );
        let rcp = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"cloudtrail:StopLogging","Resource":"*"}]}"#;
        attach_rcp(&mut s, "trail-rcp", rcp, "r-root");
        let f = findings(&s, "base-scp-protect-trail", WORKLOAD);
        assert_eq!(f[0].status, Status::Fail);
        assert!(
            f[0].message.ends_with("cloudtrail:StopLogging"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn iam_users_and_the_root_user_must_be_denied_too() {
        // A deny written for roles only. The old single-role probe passed it; an IAM user (or
        // the root user) of the account can still stop the trail, so it is a FAIL.
        let mut s = org();
        set_guardrail(
            &mut s,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*",
                "Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}}]}"#,
        );
        let f = findings(&s, "base-scp-stay-in-org", WORKLOAD);
        assert_eq!(f[0].status, Status::Fail);
        assert!(
            f[0].message.contains(":user/rampart-probe-user") || f[0].message.contains(":root"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn a_tag_exemption_is_not_proved() {
        // Exempt by principal tag: any principal carrying the tag (tags are set with
        // iam:TagRole, not by the guardrail's owner) leaves the organization. The old evaluator
        // read the absent tag as "not exempt" and passed it; the proof names the tag value.
        let mut s = org();
        set_guardrail(
            &mut s,
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*",
                "Condition":{"StringNotEquals":{"aws:PrincipalTag/team":"platform"}}}]}"#,
        );
        let f = findings(&s, "base-scp-stay-in-org", WORKLOAD);
        assert_eq!(f[0].status, Status::Fail);
        assert!(
            f[0].message.contains("aws:PrincipalTag/team = platform"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn a_policy_the_evaluator_cannot_read_is_an_error() {
        // An operator AWS does not have: the evaluator refuses the policy, so no verdict.
        let mut s = org();
        set_guardrail(
            &mut s,
            &GUARDRAIL_SCP.replace("ArnNotLike", "ArnNotLikeish"),
        );
        let f = findings(&s, "base-scp-protect-trail", WORKLOAD);
        assert_eq!(f[0].status, Status::Error);
        assert!(
            f[0].message
                .starts_with("SCP `rampart-guardrails` cannot be evaluated: "),
            "{}",
            f[0].message
        );
        // The same for an RCP on the path.
        let mut s = org();
        attach_rcp(&mut s, "broken", "{", "ou-workloads");
        let f = findings(&s, "base-scp-region-deny", WORKLOAD);
        assert_eq!(f[0].status, Status::Error);
        assert!(f[0].message.starts_with("RCP `broken`"), "{}", f[0].message);
        assert_eq!(
            statuses(&s, "base-scp-region-deny", LOG_ARCHIVE),
            vec![Status::Pass]
        );
    }

    #[test]
    fn unreadable_organization_policies_give_error() {
        let mut s = org();
        s.errors.push(rampart_snapshot::CollectionError {
            api: "organizations:ListPolicies".into(),
            code: "TooManyRequestsException".into(),
            message: "rate exceeded after 8 retries".into(),
            ..Default::default()
        });
        let f = findings(&s, "base-scp-stay-in-org", WORKLOAD);
        assert_eq!(f[0].status, Status::Error);
        assert!(
            f[0].message.contains("organizations:ListPolicies")
                && f[0].message.contains("TooManyRequestsException")
        );
        // Controls that do not read Organizations are unaffected.
        assert_eq!(statuses(&s, "cis-1.4", WORKLOAD), vec![Status::Pass]);
    }

    #[test]
    fn standalone_account_fails() {
        let mut s = org();
        s.organization = None;
        assert_eq!(
            statuses(&s, "base-scp-stay-in-org", WORKLOAD),
            vec![Status::Fail]
        );
    }
}
