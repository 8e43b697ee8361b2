//! GuardDuty, Security Hub and IAM Access Analyzer in every account and allowed region, with the
//! Audit account as delegated administrator: CIS 1.20, 4.16 and the baseline. Org-wide
//! enablement from the delegated administrator is credited to members.

use crate::{Control, Ctx, Outcome, Scope, Severity};

pub static CONTROLS: &[Control] = &[
    Control {
        id: "cis-1.20",
        title: "IAM Access Analyzer is enabled in every region",
        severity: Severity::Medium,
        scope: Scope::Region,
        rationale: "Access Analyzer flags resources shared outside the account or organization.",
        remediation_console: "IAM → Access analyzer → Create analyzer (zone of trust: organization, from the delegated administrator) in each region.",
        remediation_cli: "aws accessanalyzer create-analyzer --analyzer-name org --type ORGANIZATION --region REGION",
        frameworks: &[
            "cis-aws-3.0:1.20",
            "cis-aws-5.0:1.19",
            "fsbp:IAM.21",
            "rampart-baseline:access-analyzer",
        ],
        apis: &["access-analyzer:ListAnalyzers"],
        check: Some(access_analyzer),
    },
    Control {
        id: "cis-4.16",
        title: "AWS Security Hub is enabled",
        severity: Severity::Medium,
        scope: Scope::Region,
        rationale: "Security Hub aggregates findings and runs the FSBP and CIS standards continuously.",
        remediation_console: "Security Hub (delegated administrator) → Configuration → enable for all accounts and regions (central configuration).",
        remediation_cli: "aws securityhub enable-security-hub --enable-default-standards --region REGION",
        frameworks: &[
            "cis-aws-3.0:4.16",
            "cis-aws-5.0:4.16",
            "fsbp:SecurityHub.1",
            "rampart-baseline:securityhub",
        ],
        apis: &["securityhub:DescribeHub"],
        check: Some(security_hub),
    },
    Control {
        id: "base-guardduty",
        title: "GuardDuty is enabled in every account and allowed region",
        severity: Severity::High,
        scope: Scope::Region,
        rationale: "GuardDuty is the managed threat detection the baseline relies on for credential misuse, crypto-mining and exfiltration.",
        remediation_console: "GuardDuty (delegated administrator) → Accounts → Auto-enable for all organization accounts, in each region.",
        remediation_cli: "aws guardduty update-organization-configuration --detector-id DET --auto-enable-organization-members ALL --region REGION",
        frameworks: &["fsbp:GuardDuty.1", "rampart-baseline:guardduty"],
        apis: &["guardduty:ListDetectors", "guardduty:GetDetector"],
        check: Some(guardduty),
    },
    Control {
        id: "base-security-admin",
        title: "The Audit account is delegated administrator for GuardDuty, Security Hub, Config and Access Analyzer",
        severity: Severity::Medium,
        scope: Scope::Organization,
        rationale: "Security tooling belongs in the Audit account, not the management account: separation of duties and a smaller blast radius.",
        remediation_console: "In each service's console of the management account, set the Audit account as delegated administrator.",
        remediation_cli: "aws organizations register-delegated-administrator --account-id AUDIT --service-principal guardduty.amazonaws.com  # repeat for securityhub, config, access-analyzer",
        frameworks: &["rampart-baseline:delegated-admin"],
        apis: &["organizations:ListDelegatedAdministrators"],
        check: Some(delegated_admins),
    },
];

fn not_allowed(ctx: &Ctx, out: &mut Vec<Outcome>) -> bool {
    if ctx.region_allowed() {
        return false;
    }
    out.push(Outcome::na(
        ctx.account_resource(),
        format!("{} is not an allowed region", ctx.region_name()),
    ));
    true
}

fn access_analyzer(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let r = ctx.reg();
    if let Some(a) = r.access_analyzers.iter().find(|a| a.status == "ACTIVE") {
        out.push(Outcome::pass(
            &a.arn,
            format!("analyzer {} ({}) is active", a.name, a.analyzer_type),
        ));
        return;
    }
    let org_analyzer = ctx.org.org_analyzer(&r.region);
    match org_analyzer.filter(|_| ctx.org.in_organization()) {
        Some((owner, a)) => out.push(Outcome::pass(
            &a.arn,
            format!(
                "credited: organization analyzer {} in account {owner} covers this account",
                a.name
            ),
        )),
        None => out.push(Outcome::fail(
            ctx.account_resource(),
            format!("no active Access Analyzer in {}", r.region),
        )),
    }
}

/// The delegated administrator's view of `region`, if it has one in the snapshot.
fn admin_region<'a>(
    ctx: &Ctx<'a>,
    principal: &str,
) -> Option<(&'a str, &'a rampart_snapshot::RegionSnapshot)> {
    let admin = ctx.org.delegated_admin(principal)?;
    let acct = ctx.org.account(admin)?;
    Some((
        admin,
        acct.regions
            .iter()
            .find(|r| r.region == ctx.region_name())?,
    ))
}

fn security_hub(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let r = ctx.reg();
    if let Some(h) = &r.securityhub {
        out.push(Outcome::pass(&h.hub_arn, "Security Hub is enabled"));
        return;
    }
    let auto = admin_region(ctx, "securityhub.amazonaws.com")
        .filter(|(_, ar)| ar.securityhub.as_ref().and_then(|h| h.auto_enable) == Some(true));
    match auto {
        Some((admin, _)) => out.push(Outcome::pass(
            ctx.account_resource(),
            format!("credited: delegated administrator {admin} auto-enables Security Hub for members in {}", r.region),
        )),
        None => out.push(Outcome::fail(ctx.account_resource(), format!("Security Hub is not enabled in {}", r.region))),
    }
}

fn guardduty(ctx: &Ctx, out: &mut Vec<Outcome>) {
    if not_allowed(ctx, out) {
        return;
    }
    let r = ctx.reg();
    match &r.guardduty {
        Some(d) if d.status == "ENABLED" => {
            out.push(Outcome::pass(
                format!(
                    "arn:aws:guardduty:{}:{}:detector/{}",
                    r.region,
                    ctx.account_id(),
                    d.detector_id
                ),
                match &d.administrator_account_id {
                    Some(a) => format!("detector enabled, reporting to administrator {a}"),
                    None => "detector enabled".to_string(),
                },
            ));
        }
        Some(d) => out.push(Outcome::fail(
            format!(
                "arn:aws:guardduty:{}:{}:detector/{}",
                r.region,
                ctx.account_id(),
                d.detector_id
            ),
            format!("the detector in {} is {}", r.region, d.status),
        )),
        None => {
            let auto = admin_region(ctx, "guardduty.amazonaws.com").filter(|(_, ar)| {
                ar.guardduty.as_ref().is_some_and(|g| {
                    g.status == "ENABLED" && g.auto_enable_members.as_deref() == Some("ALL")
                })
            });
            match auto {
                Some((admin, _)) => out.push(Outcome::pass(
                    ctx.account_resource(),
                    format!("credited: delegated administrator {admin} auto-enables GuardDuty for ALL members in {}", r.region),
                )),
                None => out.push(Outcome::fail(ctx.account_resource(), format!("no GuardDuty detector in {}", r.region))),
            }
        }
    }
}

fn delegated_admins(ctx: &Ctx, out: &mut Vec<Outcome>) {
    if !ctx.org.in_organization() {
        out.push(Outcome::na(ctx.account_resource(), "not an organization"));
        return;
    }
    let audit = ctx.org.audit_account.as_deref();
    for sp in [
        "guardduty.amazonaws.com",
        "securityhub.amazonaws.com",
        "config.amazonaws.com",
        "access-analyzer.amazonaws.com",
    ] {
        let res = format!("{}/{sp}", ctx.account_resource());
        match (ctx.org.delegated_admin(sp), audit) {
            (Some(a), Some(audit)) if a == audit => out.push(Outcome::pass(res, format!("{sp}: delegated to the Audit account {a}"))),
            (Some(a), Some(audit)) => out.push(Outcome::fail(res, format!("{sp}: delegated to {a}, not the Audit account {audit}"))),
            (Some(a), None) if Some(a) != ctx.org.management_account => {
                out.push(Outcome::pass(res, format!("{sp}: delegated to {a} (no Audit account identified; set audit_account in rampart.toml)")))
            }
            (Some(a), None) => out.push(Outcome::fail(res, format!("{sp}: delegated to the management account {a}"))),
            (None, _) => out.push(Outcome::fail(res, format!("{sp}: no delegated administrator"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Status;
    use crate::fixtures::*;

    #[test]
    fn org_analyzer_credits_members() {
        let mut s = org();
        assert_eq!(
            statuses(&s, "cis-1.20", WORKLOAD),
            vec![Status::Pass, Status::Pass]
        );
        assert!(
            findings(&s, "cis-1.20", WORKLOAD)[0]
                .message
                .contains("credited")
        );
        acct(&mut s, AUDIT).regions[1].access_analyzers.clear();
        assert_eq!(
            statuses(&s, "cis-1.20", WORKLOAD),
            vec![Status::Pass, Status::Fail]
        );
    }

    #[test]
    fn guardduty_enabled_credited_or_missing() {
        let mut s = org();
        assert_eq!(
            statuses(&s, "base-guardduty", WORKLOAD),
            vec![Status::Pass, Status::Pass]
        );
        acct(&mut s, WORKLOAD).regions[0].guardduty = None;
        // The Audit account auto-enables ALL members: credited.
        let f = findings(&s, "base-guardduty", WORKLOAD);
        assert_eq!(f[0].status, Status::Pass);
        assert!(f[0].message.contains("credited"));
        acct(&mut s, AUDIT).regions[0]
            .guardduty
            .as_mut()
            .unwrap()
            .auto_enable_members = Some("NEW".into());
        assert_eq!(
            statuses(&s, "base-guardduty", WORKLOAD),
            vec![Status::Fail, Status::Pass]
        );
        acct(&mut s, WORKLOAD).regions[1]
            .guardduty
            .as_mut()
            .unwrap()
            .status = "DISABLED".into();
        assert_eq!(
            statuses(&s, "base-guardduty", WORKLOAD),
            vec![Status::Fail, Status::Fail]
        );
    }

    #[test]
    fn security_hub_and_disallowed_region() {
        let mut s = org();
        acct(&mut s, WORKLOAD).regions[1].securityhub = None;
        assert_eq!(
            statuses(&s, "cis-4.16", WORKLOAD),
            vec![Status::Pass, Status::Pass]
        );
        acct(&mut s, AUDIT).regions[1]
            .securityhub
            .as_mut()
            .unwrap()
            .auto_enable = Some(false);
        assert_eq!(
            statuses(&s, "cis-4.16", WORKLOAD),
            vec![Status::Pass, Status::Fail]
        );
        // CIS asks for every region; the baseline only for allowed ones.
        acct(&mut s, WORKLOAD).regions[1].region = "ap-south-1".into();
        acct(&mut s, WORKLOAD).regions[1].guardduty = None;
        assert_eq!(
            statuses(&s, "cis-4.16", WORKLOAD),
            vec![Status::Pass, Status::Fail]
        );
        assert_eq!(
            statuses(&s, "base-guardduty", WORKLOAD),
            vec![Status::Pass, Status::NotApplicable]
        );
    }

    #[test]
    fn delegated_admin_must_be_audit() {
        let mut s = org();
        assert_eq!(
            statuses(&s, "base-security-admin", MANAGEMENT),
            vec![Status::Pass; 4]
        );
        let o = s.organization.as_mut().unwrap();
        o.delegated_administrators[0].account_id = MANAGEMENT.into();
        o.delegated_administrators.pop();
        assert_eq!(
            statuses(&s, "base-security-admin", MANAGEMENT),
            vec![Status::Fail, Status::Pass, Status::Pass, Status::Fail]
        );
    }
}
