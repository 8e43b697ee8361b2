//! Encryption, exposure and availability of block, database and file storage: CIS v3.0 2.2.1,
//! 2.3.1–2.3.3, 2.4.1 (v5.0 5.1.1, 2.2.1–2.2.3, 2.3.1) and v5.0 2.2.4 (RDS Multi-AZ).

use crate::{Control, Ctx, Outcome, Scope, Severity};
use rampart_snapshot::RdsInstance;

pub static CONTROLS: &[Control] = &[
    Control {
        id: "cis-2.2.1",
        title: "EBS default encryption is enabled in every region",
        severity: Severity::Medium,
        scope: Scope::Region,
        rationale: "With default encryption on, no new volume or snapshot can be created unencrypted by mistake.",
        remediation_console: "EC2 → Settings → EBS encryption → Manage: enable 'Always encrypt new EBS volumes' (in each region).",
        remediation_cli: "aws ec2 enable-ebs-encryption-by-default --region REGION",
        frameworks: &[
            "cis-aws-3.0:2.2.1",
            "cis-aws-5.0:5.1.1",
            "fsbp:EC2.7",
            "rampart-baseline:ebs-default-encryption",
        ],
        apis: &["ec2:GetEbsEncryptionByDefault"],
        check: Some(ebs_default),
    },
    Control {
        id: "cis-2.3.1",
        title: "RDS instances are encrypted at rest",
        severity: Severity::High,
        scope: Scope::Region,
        rationale: "Unencrypted database storage and snapshots expose data to anyone who obtains a copy.",
        remediation_console: "RDS cannot encrypt an existing instance: snapshot it, copy the snapshot with encryption, restore, and switch over.",
        remediation_cli: "aws rds copy-db-snapshot --source-db-snapshot-identifier SNAP --target-db-snapshot-identifier SNAP-enc --kms-key-id KEY && aws rds restore-db-instance-from-db-snapshot ...",
        frameworks: &[
            "cis-aws-3.0:2.3.1",
            "cis-aws-5.0:2.2.1",
            "fsbp:RDS.3",
            "rampart-baseline:rds-encryption",
        ],
        apis: &["rds:DescribeDBInstances"],
        check: Some(rds_encrypted),
    },
    Control {
        id: "cis-2.3.2",
        title: "RDS instances have auto minor version upgrade on",
        severity: Severity::Low,
        scope: Scope::Region,
        rationale: "Minor versions carry security fixes; automatic upgrades apply them in the maintenance window.",
        remediation_console: "RDS → the instance → Modify → Maintenance: enable auto minor version upgrade.",
        remediation_cli: "aws rds modify-db-instance --db-instance-identifier DB --auto-minor-version-upgrade --apply-immediately",
        frameworks: &["cis-aws-3.0:2.3.2", "cis-aws-5.0:2.2.2", "fsbp:RDS.13"],
        apis: &["rds:DescribeDBInstances"],
        check: Some(rds_minor_upgrade),
    },
    Control {
        id: "cis-2.3.3",
        title: "RDS instances are not publicly accessible",
        severity: Severity::High,
        scope: Scope::Region,
        rationale: "A public database endpoint is exposed to credential attacks and engine vulnerabilities from the internet.",
        remediation_console: "RDS → the instance → Modify → Connectivity: set 'Publicly accessible' to No.",
        remediation_cli: "aws rds modify-db-instance --db-instance-identifier DB --no-publicly-accessible --apply-immediately",
        frameworks: &["cis-aws-3.0:2.3.3", "cis-aws-5.0:2.2.3", "fsbp:RDS.2"],
        apis: &["rds:DescribeDBInstances"],
        check: Some(rds_private),
    },
    Control {
        id: "cis5-2.2.4",
        title: "RDS instances use Multi-AZ deployments",
        severity: Severity::Medium,
        scope: Scope::Region,
        rationale: "A standby in another Availability Zone keeps the database available through an AZ failure and during maintenance.",
        remediation_console: "RDS → the instance → Modify → Availability & durability: create a standby instance (Multi-AZ).",
        remediation_cli: "aws rds modify-db-instance --db-instance-identifier DB --multi-az --apply-immediately",
        frameworks: &["cis-aws-5.0:2.2.4", "fsbp:RDS.5"],
        apis: &["rds:DescribeDBInstances"],
        check: Some(rds_multi_az),
    },
    Control {
        id: "cis-2.4.1",
        title: "EFS file systems are encrypted at rest",
        severity: Severity::Medium,
        scope: Scope::Region,
        rationale: "EFS encryption can only be chosen at creation; unencrypted file systems stay that way.",
        remediation_console: "Create a new encrypted EFS file system, copy the data (AWS DataSync), and delete the old one.",
        remediation_cli: "aws efs create-file-system --encrypted --kms-key-id KEY",
        frameworks: &["cis-aws-3.0:2.4.1", "cis-aws-5.0:2.3.1", "fsbp:EFS.1"],
        apis: &["elasticfilesystem:DescribeFileSystems"],
        check: Some(efs_encrypted),
    },
];

fn ebs_default(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let r = ctx.reg();
    let res = format!(
        "arn:aws:ec2:{}:{}:ebs-default-encryption",
        r.region,
        ctx.account_id()
    );
    if r.ebs_encryption_by_default {
        out.push(Outcome::pass(res, "EBS encryption by default is on"));
    } else {
        out.push(Outcome::fail(
            res,
            format!("EBS encryption by default is off in {}", r.region),
        ));
    }
}

/// Aurora instances report `MultiAZ` false: their availability comes from replicas in the
/// cluster, a cluster property, so instance-level availability skips them.
fn not_aurora(d: &RdsInstance) -> bool {
    !d.engine.starts_with("aurora")
}

fn any_rds(_: &RdsInstance) -> bool {
    true
}

/// One verdict per RDS instance the control `applies` to; NOT_APPLICABLE when there is none.
fn each_rds(
    ctx: &Ctx,
    out: &mut Vec<Outcome>,
    applies: fn(&RdsInstance) -> bool,
    ok: fn(&RdsInstance) -> bool,
    pass: &str,
    fail: &str,
) {
    let r = ctx.reg();
    let judged: Vec<&RdsInstance> = r.rds_instances.iter().filter(|d| applies(d)).collect();
    if judged.is_empty() {
        out.push(Outcome::na(
            ctx.account_resource(),
            "no RDS instances this control applies to in this region",
        ));
    }
    for db in judged {
        let msg = format!(
            "{}: {}",
            db.db_instance_identifier,
            if ok(db) { pass } else { fail }
        );
        out.push(if ok(db) {
            Outcome::pass(&db.arn, msg)
        } else {
            Outcome::fail(&db.arn, msg)
        });
    }
}

fn rds_encrypted(ctx: &Ctx, out: &mut Vec<Outcome>) {
    each_rds(
        ctx,
        out,
        any_rds,
        |d| d.storage_encrypted,
        "storage is encrypted",
        "storage is NOT encrypted",
    );
}

fn rds_minor_upgrade(ctx: &Ctx, out: &mut Vec<Outcome>) {
    each_rds(
        ctx,
        out,
        any_rds,
        |d| d.auto_minor_version_upgrade,
        "auto minor version upgrade is on",
        "auto minor version upgrade is off",
    );
}

fn rds_private(ctx: &Ctx, out: &mut Vec<Outcome>) {
    each_rds(
        ctx,
        out,
        any_rds,
        |d| !d.publicly_accessible,
        "not publicly accessible",
        "is publicly accessible",
    );
}

fn rds_multi_az(ctx: &Ctx, out: &mut Vec<Outcome>) {
    each_rds(
        ctx,
        out,
        not_aurora,
        |d| d.multi_az,
        "Multi-AZ deployment",
        "single-AZ deployment",
    );
}

fn efs_encrypted(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let r = ctx.reg();
    if r.efs_file_systems.is_empty() {
        out.push(Outcome::na(
            ctx.account_resource(),
            "no EFS file systems in this region",
        ));
    }
    for fs in &r.efs_file_systems {
        if fs.encrypted {
            out.push(Outcome::pass(
                &fs.arn,
                format!("{} is encrypted", fs.file_system_id),
            ));
        } else {
            out.push(Outcome::fail(
                &fs.arn,
                format!("{} is NOT encrypted", fs.file_system_id),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Status;
    use crate::fixtures::*;

    #[test]
    fn ebs_per_region() {
        let mut s = org();
        assert_eq!(
            statuses(&s, "cis-2.2.1", WORKLOAD),
            vec![Status::Pass, Status::Pass]
        );
        acct(&mut s, WORKLOAD).regions[1].ebs_encryption_by_default = false;
        let f = findings(&s, "cis-2.2.1", WORKLOAD);
        assert_eq!(
            (f[1].status, f[1].region.as_str()),
            (Status::Fail, "eu-west-1")
        );
        deny_api(
            &mut s,
            WORKLOAD,
            Some("us-east-1"),
            "ec2:GetEbsEncryptionByDefault",
        );
        assert_eq!(
            statuses(&s, "cis-2.2.1", WORKLOAD),
            vec![Status::Error, Status::Fail]
        );
    }

    #[test]
    fn rds_multi_az_skips_aurora() {
        let mut s = org();
        assert_eq!(
            statuses(&s, "cis5-2.2.4", WORKLOAD),
            vec![Status::Pass, Status::Pass]
        );
        acct(&mut s, WORKLOAD).regions[0].rds_instances[0].multi_az = false;
        assert_eq!(
            statuses(&s, "cis5-2.2.4", WORKLOAD),
            vec![Status::Fail, Status::Pass]
        );
        let db = &mut acct(&mut s, WORKLOAD).regions[0].rds_instances[0];
        db.engine = "aurora-postgresql".into();
        assert_eq!(
            statuses(&s, "cis5-2.2.4", WORKLOAD),
            vec![Status::NotApplicable, Status::Pass]
        );
    }

    #[test]
    fn rds_and_efs() {
        let mut s = org();
        for c in ["cis-2.3.1", "cis-2.3.2", "cis-2.3.3", "cis-2.4.1"] {
            assert_eq!(
                statuses(&s, c, WORKLOAD),
                vec![Status::Pass, Status::Pass],
                "{c}"
            );
        }
        let r = &mut acct(&mut s, WORKLOAD).regions[0];
        r.rds_instances[0].storage_encrypted = false;
        r.rds_instances[0].publicly_accessible = true;
        r.rds_instances[0].auto_minor_version_upgrade = false;
        r.efs_file_systems[0].encrypted = false;
        for c in ["cis-2.3.1", "cis-2.3.2", "cis-2.3.3", "cis-2.4.1"] {
            assert_eq!(
                statuses(&s, c, WORKLOAD),
                vec![Status::Fail, Status::Pass],
                "{c}"
            );
        }
        acct(&mut s, WORKLOAD).regions[1].rds_instances.clear();
        assert_eq!(
            statuses(&s, "cis-2.3.1", WORKLOAD)[1],
            Status::NotApplicable
        );
    }
}
