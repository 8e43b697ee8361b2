//! VPC flow logs: CIS 3.7.

use crate::{Control, Ctx, Outcome, Scope, Severity};

pub static CONTROLS: &[Control] = &[Control {
    id: "cis-3.7",
    title: "VPC flow logging is enabled in every VPC",
    severity: Severity::Medium,
    scope: Scope::Region,
    rationale: "Flow logs are the network record an investigation needs to see who talked to what.",
    remediation_console: "VPC → the VPC → Flow logs → Create flow log: filter Reject (or All), destination S3 or CloudWatch Logs.",
    remediation_cli: "aws ec2 create-flow-logs --resource-type VPC --resource-ids VPC --traffic-type REJECT --log-destination-type s3 --log-destination arn:aws:s3:::BUCKET",
    frameworks: &["cis-aws-3.0:3.7", "cis-aws-5.0:3.7", "fsbp:EC2.6"],
    apis: &["ec2:DescribeVpcs", "ec2:DescribeFlowLogs"],
    check: Some(flow_logs),
}];

fn flow_logs(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let r = ctx.reg();
    if r.vpcs.is_empty() {
        out.push(Outcome::na(
            ctx.account_resource(),
            "no VPCs in this region",
        ));
    }
    for v in &r.vpcs {
        let arn = format!(
            "arn:aws:ec2:{}:{}:vpc/{}",
            r.region,
            ctx.account_id(),
            v.vpc_id
        );
        let active = r
            .flow_logs
            .iter()
            .any(|f| f.resource_id == v.vpc_id && f.status == "ACTIVE");
        if active {
            out.push(Outcome::pass(
                arn,
                format!("{} has an active flow log", v.vpc_id),
            ));
        } else {
            out.push(Outcome::fail(
                arn,
                format!("{} has no active flow log", v.vpc_id),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Status;
    use crate::fixtures::*;

    #[test]
    fn flow_log_per_vpc() {
        let mut s = org();
        assert_eq!(
            statuses(&s, "cis-3.7", WORKLOAD),
            vec![Status::Pass, Status::Pass]
        );
        acct(&mut s, WORKLOAD).regions[1].flow_logs.clear();
        assert_eq!(
            statuses(&s, "cis-3.7", WORKLOAD),
            vec![Status::Pass, Status::Fail]
        );
    }
}
