//! Network exposure: CIS 5.1–5.4 and 5.6.

use crate::{Control, Ctx, Outcome, Scope, Severity};
use rampart_snapshot::{NetworkAcl, SgRule};

/// Remote administration ports CIS names: SSH and RDP.
const ADMIN_PORTS: [i32; 2] = [22, 3389];

pub static CONTROLS: &[Control] = &[
    Control {
        id: "cis-5.1",
        title: "No network ACL allows ingress from 0.0.0.0/0 to remote administration ports",
        severity: Severity::Medium,
        scope: Scope::Region,
        rationale: "SSH and RDP open to the internet invite brute force and exploitation.",
        remediation_console: "VPC → Network ACLs → the ACL → Inbound rules: deny or narrow the rule admitting 22/3389 from 0.0.0.0/0.",
        remediation_cli: "aws ec2 replace-network-acl-entry --network-acl-id ACL --ingress --rule-number N --protocol tcp --port-range From=22,To=22 --cidr-block 10.0.0.0/8 --rule-action allow",
        frameworks: &["cis-aws-3.0:5.1", "fsbp:EC2.21"],
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
        frameworks: &["cis-aws-3.0:5.2", "fsbp:EC2.13", "fsbp:EC2.14"],
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
        frameworks: &["cis-aws-3.0:5.3"],
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
        frameworks: &["cis-aws-3.0:5.4", "fsbp:EC2.2"],
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
        frameworks: &["cis-aws-3.0:5.6", "fsbp:EC2.8"],
        apis: &["ec2:DescribeInstances"],
        check: Some(imdsv2),
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

fn open_ports(rules: &[SgRule], world: &str, v6: bool) -> Vec<i32> {
    ADMIN_PORTS
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

fn sg_world(ctx: &Ctx, out: &mut Vec<Outcome>, world: &str, v6: bool) {
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
        let open = open_ports(&sg.ingress, world, v6);
        if open.is_empty() {
            out.push(Outcome::pass(
                arn,
                format!(
                    "{} ({}) admits nothing from {world} to 22/3389",
                    sg.group_id, sg.group_name
                ),
            ));
        } else {
            let ports: Vec<String> = open.iter().map(i32::to_string).collect();
            out.push(Outcome::fail(
                arn,
                format!(
                    "{} ({}) admits {world} to port(s) {}",
                    sg.group_id,
                    sg.group_name,
                    ports.join(", ")
                ),
            ));
        }
    }
}

fn sg_ipv4(ctx: &Ctx, out: &mut Vec<Outcome>) {
    sg_world(ctx, out, "0.0.0.0/0", false);
}

fn sg_ipv6(ctx: &Ctx, out: &mut Vec<Outcome>) {
    sg_world(ctx, out, "::/0", true);
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

fn imdsv2(ctx: &Ctx, out: &mut Vec<Outcome>) {
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
        if i.http_endpoint.as_deref() == Some("disabled") {
            out.push(Outcome::pass(
                arn,
                format!("{}: metadata service disabled", i.instance_id),
            ));
        } else if i.http_tokens.as_deref() == Some("required") {
            out.push(Outcome::pass(
                arn,
                format!("{}: IMDSv2 required", i.instance_id),
            ));
        } else {
            out.push(Outcome::fail(
                arn,
                format!("{}: IMDSv1 still allowed", i.instance_id),
            ));
        }
    }
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
