//! KMS key rotation: CIS 3.6.

use crate::{Control, Ctx, Outcome, Scope, Severity};

pub static CONTROLS: &[Control] = &[Control {
    id: "cis-3.6",
    title: "Rotation is enabled for customer-managed symmetric KMS keys",
    severity: Severity::Medium,
    scope: Scope::Region,
    rationale: "Rotation limits how much data one key version protects and how long a leaked version stays useful.",
    remediation_console: "KMS → Customer managed keys → the key → Key rotation: enable automatic rotation.",
    remediation_cli: "aws kms enable-key-rotation --key-id KEY",
    frameworks: &["cis-aws-3.0:3.6", "cis-aws-5.0:3.6", "fsbp:KMS.4"],
    apis: &[
        "kms:ListKeys",
        "kms:DescribeKey",
        "kms:GetKeyRotationStatus",
    ],
    check: Some(rotation),
}];

fn rotation(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let r = ctx.reg();
    let keys: Vec<_> = r
        .kms_keys
        .iter()
        .filter(|k| {
            k.key_manager == "CUSTOMER"
                && k.key_spec == "SYMMETRIC_DEFAULT"
                && k.key_state == "Enabled"
        })
        .collect();
    if keys.is_empty() {
        out.push(Outcome::na(
            ctx.account_resource(),
            "no enabled customer-managed symmetric keys in this region",
        ));
    }
    for k in keys {
        match k.rotation_enabled {
            Some(true) => out.push(Outcome::pass(
                &k.arn,
                format!("key {} rotates automatically", k.key_id),
            )),
            Some(false) => out.push(Outcome::fail(
                &k.arn,
                format!("key {} does not rotate", k.key_id),
            )),
            None => out.push(Outcome::error(
                &k.arn,
                format!(
                    "rotation status of key {} could not be read (kms:GetKeyRotationStatus)",
                    k.key_id
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Status;
    use crate::fixtures::*;

    #[test]
    fn rotation_states() {
        let mut s = org();
        assert_eq!(
            statuses(&s, "cis-3.6", WORKLOAD),
            vec![Status::Pass, Status::Pass]
        );
        acct(&mut s, WORKLOAD).regions[0].kms_keys[0].rotation_enabled = Some(false);
        acct(&mut s, WORKLOAD).regions[1].kms_keys[0].rotation_enabled = None;
        assert_eq!(
            statuses(&s, "cis-3.6", WORKLOAD),
            vec![Status::Fail, Status::Error]
        );
        acct(&mut s, WORKLOAD).regions[0].kms_keys[0].key_manager = "AWS".into();
        assert_eq!(statuses(&s, "cis-3.6", WORKLOAD)[0], Status::NotApplicable);
    }
}
