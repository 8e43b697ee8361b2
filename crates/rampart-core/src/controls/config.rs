//! AWS Config recording: CIS 3.3.

use crate::{Control, Ctx, Outcome, Scope, Severity};

pub static CONTROLS: &[Control] = &[Control {
    id: "cis-3.3",
    title: "AWS Config is recording all resource types in every region",
    severity: Severity::Medium,
    scope: Scope::Region,
    rationale: "The configuration history is what proves when a resource changed and what it looked like before.",
    remediation_console: "AWS Config → Settings → Edit: record all resource types (global types in one region), start recording; or deploy it org-wide from the delegated administrator.",
    remediation_cli: "aws configservice put-configuration-recorder --configuration-recorder name=default,roleARN=ROLE --recording-group allSupported=true,includeGlobalResourceTypes=true && aws configservice start-configuration-recorder --configuration-recorder-name default",
    frameworks: &[
        "cis-aws-3.0:3.3",
        "cis-aws-5.0:3.3",
        "fsbp:Config.1",
        "rampart-baseline:config-everywhere",
    ],
    apis: &[
        "config:DescribeConfigurationRecorders",
        "config:DescribeConfigurationRecorderStatus",
    ],
    check: Some(recording),
}];

fn recording(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let r = ctx.reg();
    let recs = &r.config.recorders;
    let res = |name: &str| {
        format!(
            "arn:aws:config:{}:{}:config-recorder/{name}",
            r.region,
            ctx.account_id()
        )
    };
    match recs.iter().find(|c| c.recording && c.all_supported) {
        Some(c) => out.push(Outcome::pass(
            res(&c.name),
            format!("recorder {} records all supported resource types", c.name),
        )),
        None => match recs.first() {
            None => out.push(Outcome::fail(
                res("default"),
                format!("no Config recorder in {}", r.region),
            )),
            Some(c) if !c.recording => out.push(Outcome::fail(
                res(&c.name),
                format!("recorder {} is stopped", c.name),
            )),
            Some(c) => out.push(Outcome::fail(
                res(&c.name),
                format!("recorder {} does not record all resource types", c.name),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use crate::Status;
    use crate::fixtures::*;

    #[test]
    fn recorder_states() {
        let mut s = org();
        assert_eq!(
            statuses(&s, "cis-3.3", WORKLOAD),
            vec![Status::Pass, Status::Pass]
        );
        acct(&mut s, WORKLOAD).regions[0].config.recorders[0].recording = false;
        acct(&mut s, WORKLOAD).regions[1].config.recorders.clear();
        assert_eq!(
            statuses(&s, "cis-3.3", WORKLOAD),
            vec![Status::Fail, Status::Fail]
        );
        deny_api(
            &mut s,
            WORKLOAD,
            Some("eu-west-1"),
            "config:DescribeConfigurationRecorders",
        );
        assert_eq!(
            statuses(&s, "cis-3.3", WORKLOAD),
            vec![Status::Fail, Status::Error]
        );
    }
}
