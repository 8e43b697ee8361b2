//! Network exposure and EC2 instances: CIS v3.0 5.1–5.4, 5.6 and 1.18 (v5.0 5.2–5.5, 5.7 and
//! 1.17), and CIS v5.0 5.1.2 (CIFS), which v3.0 does not have.

use crate::{Control, Ctx, Outcome, Scope, Severity};
use rampart_snapshot::{NetworkAcl, SgRule};

/// Remote administration ports CIS names: SSH and RDP.
pub const ADMIN_PORTS: &[i32] = &[22, 3389];

/// CIFS/SMB: direct-hosted SMB (445) and SMB over NetBIOS session service (139).
pub const CIFS_PORTS: &[i32] = &[139, 445];

pub static CONTROLS: &[Control] = &[
    Control {
        id: "cis-5.1",
        title: "No network ACL allows ingress from 0.0.0.0/0 to remote administration ports",
        severity: Severity::Medium,
        scope: Scope::Region,
        rationale: "SSH and RDP open to the internet invite brute force and exploitation.",
        remediation_console: "VPC → Network ACLs → the ACL → Inbound rules: deny or narrow the rule admitting 22/3389 from 0.0.0.0/0.",
        remediation_cli: "aws ec2 replace-network-acl-entry --network-acl-id ACL --ingress --rule-number N --protocol tcp --port-range From=22,To=22 --cidr-block 10.0.0.0/8 --rule-action allow",
        frameworks: &["cis-aws-3.0:5.1", "cis-aws-5.0:5.2", "fsbp:EC2.21"],
        apis: &["ec2:DescribeNetworkAcls"],
        check: Some(nacl_admin_ports),
    },
    Control {
        id: "cis-5.2",
        title: "No security group allows ingress from 0.0.0.0/0 to remote administration ports",
        severity: Severity::High,
        scope: Scope::Region,
        rationale: "SSH and RDP open to the IPv4 internet invite brute force and exploitation.",
        remediation_console: "EC2 → Security Groups → the group → Inbound rules: remove 0.0.0.0/0 on 22/3389 (use Session Manager instead).",
        remediation_cli: "aws ec2 revoke-security-group-ingress --group-id SG --protocol tcp --port 22 --cidr 0.0.0.0/0",
        frameworks: &[
            "cis-aws-3.0:5.2",
            "cis-aws-5.0:5.3",
            "fsbp:EC2.13",
            "fsbp:EC2.14",
        ],
        apis: &["ec2:DescribeSecurityGroups"],
        check: Some(sg_ipv4),
    },
    Control {
        id: "cis-5.3",
        title: "No security group allows ingress from ::/0 to remote administration ports",
        severity: Severity::High,
        scope: Scope::Region,
        rationale: "SSH and RDP open to the IPv6 internet invite brute force and exploitation.",
        remediation_console: "EC2 → Security Groups → the group → Inbound rules: remove ::/0 on 22/3389.",
        remediation_cli: "aws ec2 revoke-security-group-ingress --group-id SG --ip-permissions IpProtocol=tcp,FromPort=22,ToPort=22,Ipv6Ranges=[{CidrIpv6=::/0}]",
        frameworks: &["cis-aws-3.0:5.3", "cis-aws-5.0:5.4"],
        apis: &["ec2:DescribeSecurityGroups"],
        check: Some(sg_ipv6),
    },
    Control {
        id: "cis-5.4",
        title: "The default security group of every VPC restricts all traffic",
        severity: Severity::Medium,
        scope: Scope::Region,
        rationale: "Resources launched without a chosen group land in the default one; it must not let anything through.",
        remediation_console: "EC2 → Security Groups → each VPC's `default` group: delete every inbound and outbound rule.",
        remediation_cli: "aws ec2 revoke-security-group-ingress --group-id SG --ip-permissions file://rules.json && aws ec2 revoke-security-group-egress --group-id SG --ip-permissions file://rules.json",
        frameworks: &["cis-aws-3.0:5.4", "cis-aws-5.0:5.5", "fsbp:EC2.2"],
        apis: &["ec2:DescribeSecurityGroups"],
        check: Some(default_sg),
    },
    Control {
        id: "cis-5.6",
        title: "EC2 instances require IMDSv2",
        severity: Severity::High,
        scope: Scope::Region,
        rationale: "IMDSv1 lets a server-side request forgery read the instance role's credentials.",
        remediation_console: "EC2 → the instance → Actions → Instance settings → Modify instance metadata options: IMDSv2 Required.",
        remediation_cli: "aws ec2 modify-instance-metadata-options --instance-id I --http-tokens required --http-endpoint enabled",
        frameworks: &["cis-aws-3.0:5.6", "cis-aws-5.0:5.7", "fsbp:EC2.8"],
        apis: &["ec2:DescribeInstances"],
        check: Some(imdsv2),
    },
    Control {
        id: "cis5-5.1.2",
        title: "No security group allows ingress from the internet to CIFS (SMB ports 139, 445)",
        severity: Severity::High,
        scope: Scope::Region,
        rationale: "File shares reachable from the internet are a classic path for ransomware and credential relay; CIFS belongs on trusted networks only.",
        remediation_console: "EC2 → Security Groups → the group → Inbound rules: remove 0.0.0.0/0 and ::/0 on 139/445; reach shares over a VPN or Direct Connect.",
        remediation_cli: "aws ec2 revoke-security-group-ingress --group-id SG --protocol tcp --port 445 --cidr 0.0.0.0/0",
        frameworks: &["cis-aws-5.0:5.1.2"],
        apis: &["ec2:DescribeSecurityGroups"],
        check: Some(sg_cifs),
    },
    Control {
        id: "cis-1.18",
        title: "EC2 instances use an IAM instance role for AWS access",
        severity: Severity::Medium,
        scope: Scope::Region,
        rationale: "Instance profiles deliver short-lived, rotated credentials; access keys copied onto disks do not expire and leak with images and backups.",
        remediation_console: "EC2 → the instance → Actions → Security → Modify IAM role: attach a role with the permissions the workload needs.",
        remediation_cli: "aws ec2 associate-iam-instance-profile --instance-id I --iam-instance-profile Name=PROFILE",
        frameworks: &["cis-aws-3.0:1.18", "cis-aws-5.0:1.17"],
        apis: &["ec2:DescribeInstances"],
        check: Some(instance_role),
    },
];

fn covers(proto: &str, from: Option<i32>, to: Option<i32>, port: i32) -> bool {
    match proto {
        "-1" | "all" => true,
        "tcp" | "6" => from.unwrap_or(0) <= port && port <= to.unwrap_or(65535),
        _ => false,
    }
}

/// The first rule (by number) matching internet traffic to `port` decides, as AWS evaluates NACLs.
fn nacl_admits(acl: &NetworkAcl, port: i32) -> bool {
    let mut entries: Vec<_> = acl
        .entries
        .iter()
        .filter(|e| !e.egress && e.rule_number != 32767)
        .filter(|e| {
            e.cidr_block.as_deref() == Some("0.0.0.0/0")
                || e.ipv6_cidr_block.as_deref() == Some("::/0")
        })
        .filter(|e| covers(&e.protocol, e.from_port, e.to_port, port))
        .collect();
    entries.sort_by_key(|e| e.rule_number);
    entries.first().is_some_and(|e| e.rule_action == "allow")
}

fn nacl_admin_ports(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let r = ctx.reg();
    if r.network_acls.is_empty() {
        out.push(Outcome::na(
            ctx.account_resource(),
            "no network ACLs in this region",
        ));
    }
    for acl in &r.network_acls {
        let arn = format!(
            "arn:aws:ec2:{}:{}:network-acl/{}",
            r.region,
            ctx.account_id(),
            acl.network_acl_id
        );
        let open: Vec<String> = ADMIN_PORTS
            .iter()
            .filter(|p| nacl_admits(acl, **p))
            .map(|p| p.to_string())
            .collect();
        if open.is_empty() {
            out.push(Outcome::pass(
                arn,
                format!(
                    "{} admits no internet traffic to 22/3389",
                    acl.network_acl_id
                ),
            ));
        } else {
            out.push(Outcome::fail(
                arn,
                format!(
                    "{} admits 0.0.0.0/0 to port(s) {}",
                    acl.network_acl_id,
                    open.join(", ")
                ),
            ));
        }
    }
}

/// The internet as IPv4 and IPv6 ranges.
pub const IPV4_WORLD: &str = "0.0.0.0/0";
pub const IPV6_WORLD: &str = "::/0";

/// Which of `ports` the rules open to `world` (an IPv4 or IPv6 "everyone" range). Shared with
/// the IaC form of CIS 5.2/5.3 (rampart-iac), which builds the rules from a template.
pub fn open_ports(rules: &[SgRule], ports: &[i32], world: &str) -> Vec<i32> {
    let v6 = world == IPV6_WORLD;
    ports
        .iter()
        .copied()
        .filter(|p| {
            rules.iter().any(|r| {
                let ranges = if v6 { &r.ipv6_ranges } else { &r.ipv4_ranges };
                ranges.iter().any(|c| c == world)
                    && covers(&r.ip_protocol, r.from_port, r.to_port, *p)
            })
        })
        .collect()
}

/// One verdict per security group: does it admit any of `worlds` to any of `ports`?
fn sg_world(ctx: &Ctx, out: &mut Vec<Outcome>, worlds: &[&str], ports: &[i32]) {
    let port_list: Vec<String> = ports.iter().map(i32::to_string).collect();
    let port_list = port_list.join("/");
    let r = ctx.reg();
    if r.security_groups.is_empty() {
        out.push(Outcome::na(
            ctx.account_resource(),
            "no security groups in this region",
        ));
    }
    for sg in &r.security_groups {
        let arn = format!(
            "arn:aws:ec2:{}:{}:security-group/{}",
            r.region,
            ctx.account_id(),
            sg.group_id
        );
        let open: Vec<String> = worlds
            .iter()
            .flat_map(|world| {
                open_ports(&sg.ingress, ports, world)
                    .into_iter()
                    .map(move |p| format!("{world} to {p}"))
            })
            .collect();
        if open.is_empty() {
            out.push(Outcome::pass(
                arn,
                format!(
                    "{} ({}) admits nothing from {} to {port_list}",
                    sg.group_id,
                    sg.group_name,
                    worlds.join(" or ")
                ),
            ));
        } else {
            out.push(Outcome::fail(
                arn,
                format!(
                    "{} ({}) admits {}",
                    sg.group_id,
                    sg.group_name,
                    open.join(", ")
                ),
            ));
        }
    }
}

fn sg_ipv4(ctx: &Ctx, out: &mut Vec<Outcome>) {
    sg_world(ctx, out, &[IPV4_WORLD], ADMIN_PORTS);
}

fn sg_ipv6(ctx: &Ctx, out: &mut Vec<Outcome>) {
    sg_world(ctx, out, &[IPV6_WORLD], ADMIN_PORTS);
}

fn sg_cifs(ctx: &Ctx, out: &mut Vec<Outcome>) {
    sg_world(ctx, out, &[IPV4_WORLD, IPV6_WORLD], CIFS_PORTS);
}

fn default_sg(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let r = ctx.reg();
    let defaults: Vec<_> = r
        .security_groups
        .iter()
        .filter(|g| g.group_name == "default")
        .collect();
    if defaults.is_empty() {
        out.push(Outcome::na(
            ctx.account_resource(),
            "no default security groups in this region",
        ));
    }
    for sg in defaults {
        let arn = format!(
            "arn:aws:ec2:{}:{}:security-group/{}",
            r.region,
            ctx.account_id(),
            sg.group_id
        );
        let n = sg.ingress.len() + sg.egress.len();
        if n == 0 {
            out.push(Outcome::pass(
                arn,
                format!("default group {} has no rules", sg.group_id),
            ));
        } else {
            out.push(Outcome::fail(
                arn,
                format!("default group {} has {n} rule(s)", sg.group_id),
            ));
        }
    }
}

/// One verdict per instance that is not terminated: `Ok` passes, `Err` fails, with the reason.
fn each_instance(
    ctx: &Ctx,
    out: &mut Vec<Outcome>,
    judge: fn(&rampart_snapshot::Ec2Instance) -> Result<&'static str, &'static str>,
) {
    let r = ctx.reg();
    let live: Vec<_> = r
        .instances
        .iter()
        .filter(|i| i.state != "terminated")
        .collect();
    if live.is_empty() {
        out.push(Outcome::na(
            ctx.account_resource(),
            "no EC2 instances in this region",
        ));
    }
    for i in live {
        let arn = format!(
            "arn:aws:ec2:{}:{}:instance/{}",
            r.region,
            ctx.account_id(),
            i.instance_id
        );
        out.push(match judge(i) {
            Ok(why) => Outcome::pass(arn, format!("{}: {why}", i.instance_id)),
            Err(why) => Outcome::fail(arn, format!("{}: {why}", i.instance_id)),
        });
    }
}

fn imdsv2(ctx: &Ctx, out: &mut Vec<Outcome>) {
    each_instance(ctx, out, imds_judge);
}

/// CIS 5.6 on one instance's metadata options: `Ok` passes, `Err` fails, with the reason.
/// Shared with the IaC form (instances and launch templates in a template or plan).
pub fn imds_judge(i: &rampart_snapshot::Ec2Instance) -> Result<&'static str, &'static str> {
    if i.http_endpoint.as_deref() == Some("disabled") {
        Ok("metadata service disabled")
    } else if i.http_tokens.as_deref() == Some("required") {
        Ok("IMDSv2 required")
    } else {
        Err("IMDSv1 still allowed")
    }
}

fn instance_role(ctx: &Ctx, out: &mut Vec<Outcome>) {
    each_instance(ctx, out, |i| match i.iam_instance_profile_arn {
        Some(_) => Ok("has an IAM instance profile"),
        None => Err("has no IAM instance profile: AWS access from it needs stored keys"),
    });
}

#[cfg(test)]
mod tests {
    use crate::Status;
    use crate::fixtures::*;
    use rampart_snapshot::{NaclEntry, SgRule};

    #[test]
    fn nacl_first_matching_rule_decides() {
        let mut s = org();
        assert_eq!(
            statuses(&s, "cis-5.1", WORKLOAD),
            vec![Status::Pass, Status::Pass]
        );
        let acl = &mut acct(&mut s, WORKLOAD).regions[0].network_acls[0];
        acl.entries.push(NaclEntry {
            rule_number: 200,
            protocol: "-1".into(),
            rule_action: "allow".into(),
            cidr_block: Some("0.0.0.0/0".into()),
            ..NaclEntry::default()
        });
        assert_eq!(statuses(&s, "cis-5.1", WORKLOAD)[0], Status::Fail);
        // A lower-numbered deny for SSH and RDP shadows the allow-all.
        let acl = &mut acct(&mut s, WORKLOAD).regions[0].network_acls[0];
        for (n, p) in [(50, 22), (51, 3389)] {
            acl.entries.push(NaclEntry {
                rule_number: n,
                protocol: "6".into(),
                rule_action: "deny".into(),
                cidr_block: Some("0.0.0.0/0".into()),
                from_port: Some(p),
                to_port: Some(p),
                ..NaclEntry::default()
            });
        }
        assert_eq!(statuses(&s, "cis-5.1", WORKLOAD)[0], Status::Pass);
    }

    #[test]
    fn security_groups() {
        let mut s = org();
        assert_eq!(statuses(&s, "cis-5.2", WORKLOAD), vec![Status::Pass; 4]);
        let sg = &mut acct(&mut s, WORKLOAD).regions[0].security_groups[1];
        sg.ingress.push(SgRule {
            ip_protocol: "tcp".into(),
            from_port: Some(3000),
            to_port: Some(3400),
            ipv6_ranges: vec!["::/0".into()],
            ..SgRule::default()
        });
        assert_eq!(statuses(&s, "cis-5.2", WORKLOAD), vec![Status::Pass; 4]);
        assert_eq!(statuses(&s, "cis-5.3", WORKLOAD)[1], Status::Fail);
        let sg = &mut acct(&mut s, WORKLOAD).regions[0].security_groups[0];
        sg.egress.push(SgRule {
            ip_protocol: "-1".into(),
            ipv4_ranges: vec!["0.0.0.0/0".into()],
            ..SgRule::default()
        });
        assert_eq!(
            statuses(&s, "cis-5.4", WORKLOAD),
            vec![Status::Fail, Status::Pass]
        );
    }

    #[test]
    fn cifs_open_to_the_internet_fails_on_either_address_family() {
        let mut s = org();
        assert_eq!(statuses(&s, "cis5-5.1.2", WORKLOAD), vec![Status::Pass; 4]);
        // SSH open to the world is not a CIFS finding.
        let sg = &mut acct(&mut s, WORKLOAD).regions[0].security_groups[1];
        sg.ingress.push(SgRule {
            ip_protocol: "tcp".into(),
            from_port: Some(22),
            to_port: Some(22),
            ipv4_ranges: vec!["0.0.0.0/0".into()],
            ..SgRule::default()
        });
        assert_eq!(statuses(&s, "cis5-5.1.2", WORKLOAD), vec![Status::Pass; 4]);
        // 445 from ::/0 inside a wider range fails; a private range does not.
        let sg = &mut acct(&mut s, WORKLOAD).regions[0].security_groups[1];
        sg.ingress.push(SgRule {
            ip_protocol: "tcp".into(),
            from_port: Some(400),
            to_port: Some(500),
            ipv6_ranges: vec!["::/0".into()],
            ipv4_ranges: vec!["10.0.0.0/8".into()],
            ..SgRule::default()
        });
        let f = findings(&s, "cis5-5.1.2", WORKLOAD);
        assert_eq!(f[1].status, Status::Fail);
        assert!(f[1].message.contains("::/0 to 445"), "{}", f[1].message);
        assert!(!f[1].message.contains("139"), "{}", f[1].message);
        // All traffic from 0.0.0.0/0 opens both ports.
        let sg = &mut acct(&mut s, WORKLOAD).regions[1].security_groups[0];
        sg.ingress.push(SgRule {
            ip_protocol: "-1".into(),
            ipv4_ranges: vec!["0.0.0.0/0".into()],
            ..SgRule::default()
        });
        let f = findings(&s, "cis5-5.1.2", WORKLOAD);
        assert_eq!(f[2].status, Status::Fail);
        assert!(f[2].message.contains("0.0.0.0/0 to 139, 0.0.0.0/0 to 445"));
        assert_eq!(
            findings(&s, "cis5-5.1.2", WORKLOAD)[0].frameworks,
            vec!["cis-aws-5.0:5.1.2"]
        );
    }

    #[test]
    fn instances_need_an_instance_profile() {
        let mut s = org();
        assert_eq!(
            statuses(&s, "cis-1.18", WORKLOAD),
            vec![Status::Pass, Status::Pass]
        );
        let r = &mut acct(&mut s, WORKLOAD).regions[1];
        r.instances[0].iam_instance_profile_arn = None;
        assert_eq!(
            statuses(&s, "cis-1.18", WORKLOAD),
            vec![Status::Pass, Status::Fail]
        );
        // Terminated instances are gone: nothing left to judge.
        acct(&mut s, WORKLOAD).regions[1].instances[0].state = "terminated".into();
        assert_eq!(
            statuses(&s, "cis-1.18", WORKLOAD),
            vec![Status::Pass, Status::NotApplicable]
        );
    }

    #[test]
    fn imds() {
        let mut s = org();
        assert_eq!(
            statuses(&s, "cis-5.6", WORKLOAD),
            vec![Status::Pass, Status::Pass]
        );
        acct(&mut s, WORKLOAD).regions[0].instances[0].http_tokens = Some("optional".into());
        assert_eq!(
            statuses(&s, "cis-5.6", WORKLOAD),
            vec![Status::Fail, Status::Pass]
        );
    }
}
