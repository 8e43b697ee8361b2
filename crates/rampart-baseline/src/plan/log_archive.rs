//! The data bunker and what feeds it: the Log Archive buckets, the organization trail and the
//! CIS 4.x metric filters and alarms on the trail's log group.

use super::{Action, Builder, same_json};
use crate::config::Config;
use rampart_core::controls::monitoring::pattern_fits;
use rampart_core::sample::CIS_PATTERNS;
use rampart_snapshot::{Bucket, Organization, RegionSnapshot, Snapshot};
use serde_json::json;
use std::collections::BTreeMap;

/// What later changes (Config delivery channels) wait for.
pub(super) struct LogArchiveRefs {
    pub bucket_dep: Vec<String>,
}

/// The bucket that receives the Log Archive bucket's server access logs.
pub fn access_log_bucket(bucket: &str) -> String {
    format!("{bucket}-access-logs")
}

/// The CloudWatch Logs group the organization trail delivers to.
pub fn trail_log_group(cfg: &Config) -> String {
    cfg.log_archive.trail_name.clone()
}

/// The SNS topic the CIS alarms notify.
pub fn alert_topic(cfg: &Config) -> String {
    cfg.alerts
        .sns_topic
        .clone()
        .unwrap_or_else(|| "rampart-security-alerts".into())
}

/// Name shared by the metric filter, its metric and its alarm for CIS number `num`.
pub fn cis_alarm_name(num: &str) -> String {
    format!("rampart-cis-{num}")
}

/// Namespace of the CIS metrics rampart creates.
pub const CIS_NAMESPACE: &str = "rampart/CIS";

/// The alias of the KMS key rampart creates for the organization trail.
pub fn trail_key_alias(cfg: &Config) -> String {
    format!("alias/{}", cfg.log_archive.trail_name)
}

/// The trail key's policy: the management account administers the key (so it can never be
/// locked out), CloudTrail may encrypt only for this organization's trail, and only principals
/// of the Log Archive account may decrypt, and only CloudTrail log files.
pub fn trail_key_policy(
    management: &str,
    log_archive: &str,
    home_region: &str,
    trail: &str,
) -> String {
    let trail_arn = format!("arn:aws:cloudtrail:{home_region}:{management}:trail/{trail}");
    let context = format!("arn:aws:cloudtrail:*:{management}:trail/*");
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "KeyAdministration",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{management}:root")},
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Sid": "CloudTrailEncrypts",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceArn": trail_arn},
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": context}
                }
            },
            {
                "Sid": "CloudTrailDescribes",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:DescribeKey",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}
            },
            {
                "Sid": "LogArchiveReads",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{log_archive}:root")},
                "Action": ["kms:Decrypt", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:CallerAccount": log_archive},
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": context}
                }
            }
        ]
    })
    .to_string()
}

/// The Log Archive bucket policy: only CloudTrail (for this organization's trail, proved with
/// `aws:SourceArn`) and Config may write; every request without TLS and every principal outside
/// the organization (other than AWS services acting for it) is denied.
pub fn bucket_policy(
    bucket: &str,
    org_id: &str,
    management: &str,
    home_region: &str,
    trail: &str,
) -> String {
    let arn = format!("arn:aws:s3:::{bucket}");
    let trail_arn = format!("arn:aws:cloudtrail:{home_region}:{management}:trail/{trail}");
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": arn,
                "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}
            },
            {
                "Sid": "CloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": [
                    format!("{arn}/AWSLogs/{management}/*"),
                    format!("{arn}/AWSLogs/{org_id}/*")
                ],
                "Condition": {"StringEquals": {
                    "s3:x-amz-acl": "bucket-owner-full-control",
                    "aws:SourceArn": trail_arn
                }}
            },
            {
                "Sid": "ConfigAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "config.amazonaws.com"},
                "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
                "Resource": arn,
                "Condition": {"StringEquals": {"aws:SourceOrgID": org_id}}
            },
            {
                "Sid": "ConfigWrite",
                "Effect": "Allow",
                "Principal": {"Service": "config.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": format!("{arn}/AWSLogs/*/Config/*"),
                "Condition": {"StringEquals": {
                    "s3:x-amz-acl": "bucket-owner-full-control",
                    "aws:SourceOrgID": org_id
                }}
            },
            {
                "Sid": "DenyWithoutTls",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn.clone(), format!("{arn}/*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            },
            {
                "Sid": "DenyOutsideOrganization",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn.clone(), format!("{arn}/*")],
                "Condition": {
                    "StringNotEqualsIfExists": {"aws:PrincipalOrgID": org_id},
                    "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}
                }
            }
        ]
    })
    .to_string()
}

/// What is missing from the Log Archive buckets (empty when both are as the baseline wants).
/// A setting whose read failed (`unread` names the API) is reported, never "repaired" blind.
fn bucket_gaps(
    cfg: &Config,
    main: &Bucket,
    access: Option<&Bucket>,
    policy: &str,
    unread: &dyn Fn(&str, &str) -> bool,
    unobserved: &mut Vec<String>,
) -> Vec<String> {
    let la = &cfg.log_archive;
    let blocked = |b: &Bucket| {
        b.public_access_block.as_ref().is_some_and(|p| {
            p.block_public_acls
                && p.ignore_public_acls
                && p.block_public_policy
                && p.restrict_public_buckets
        })
    };
    let mut gaps = Vec::new();
    if !blocked(main) {
        gaps.push("block public access".to_string());
    }
    if main.versioning.as_deref() != Some("Enabled") {
        gaps.push("versioning".into());
    }
    let lock_ok = main.object_lock.as_ref().is_some_and(|l| {
        l.enabled
            && l.mode.as_deref() == Some(la.object_lock_mode.as_str())
            && l.days == Some(la.retention_days as i32)
    });
    if !lock_ok {
        gaps.push(format!(
            "object lock ({} {} days)",
            la.object_lock_mode, la.retention_days
        ));
    }
    if !main
        .lifecycle_rules
        .iter()
        .any(|r| r.status == "Enabled" && r.expiration_days == Some(la.retention_days as i32))
    {
        gaps.push(format!("lifecycle expiry at {} days", la.retention_days));
    }
    if main.encryption.is_empty() {
        gaps.push("default encryption".into());
    }
    if main.logging_target_bucket.as_deref() != Some(access_log_bucket(&la.bucket).as_str()) {
        gaps.push("server access logging".into());
    }
    if !main.policy.as_deref().is_some_and(|p| same_json(p, policy)) {
        gaps.push("bucket policy".into());
    }
    match access {
        Some(a) if blocked(a) && !a.encryption.is_empty() => {}
        _ => gaps.push("access-log bucket hardening".into()),
    }
    let api_of = |gap: &str| match gap.split(' ').next().unwrap_or_default() {
        "block" => "s3:GetPublicAccessBlock",
        "versioning" => "s3:GetBucketVersioning",
        "object" => "s3:GetObjectLockConfiguration",
        "lifecycle" => "s3:GetBucketLifecycleConfiguration",
        "default" => "s3:GetBucketEncryption",
        "server" => "s3:GetBucketLogging",
        "bucket" => "s3:GetBucketPolicy",
        _ => "",
    };
    gaps.retain(|g| {
        let api = api_of(g);
        let bucket = if g.starts_with("access-log") {
            access_log_bucket(&la.bucket)
        } else {
            la.bucket.clone()
        };
        if !api.is_empty() && unread(api, &bucket) {
            unobserved.push(format!("s3://{bucket} {g} ({api} could not be read)"));
            return false;
        }
        true
    });
    gaps
}

/// Plans the Log Archive buckets, the organization trail and the CIS alarms.
pub(super) fn plan_log_archive(
    cfg: &Config,
    snap: &Snapshot,
    org: &Organization,
    b: &mut Builder,
    access_dep: &BTreeMap<&str, String>,
    unobserved: &mut Vec<String>,
) -> LogArchiveRefs {
    let mgmt = org.management_account_id.clone();
    let home = cfg
        .organization
        .allowed_regions
        .first()
        .cloned()
        .unwrap_or_else(|| "us-east-1".into());
    let la = &cfg.log_archive;
    let trail_name = &la.trail_name;
    let access_bucket = access_log_bucket(&la.bucket);
    let policy = bucket_policy(&la.bucket, &org.id, &mgmt, &home, trail_name);
    let la_name = &cfg.organization.log_archive_account;

    // The buckets, in the Log Archive account.
    let mut bucket_dep = Vec::new();
    let la_account = org.accounts.iter().find(|a| a.name == *la_name);
    let (la_ref, account_dep) = match la_account {
        Some(a) => (a.id.clone(), vec![]),
        None => (
            format!("name:{la_name}"),
            vec![format!("account:{la_name}")],
        ),
    };
    let la_snap = la_account.and_then(|a| snap.accounts.iter().find(|s| s.account_id == a.id));
    let observed = la_snap.is_some_and(|s| {
        !s.errors
            .iter()
            .any(|e| e.api == "*" || e.api.starts_with("s3:ListBuckets"))
    });
    let main = la_snap.and_then(|s| s.s3.buckets.iter().find(|x| x.name == la.bucket));
    let access = la_snap.and_then(|s| s.s3.buckets.iter().find(|x| x.name == access_bucket));
    if la_account.is_some() && !observed {
        unobserved.push(format!(
            "Log Archive account {la_ref} buckets (could not be listed)"
        ));
    } else {
        let mut deps = account_dep.clone();
        if main.is_none() || access.is_none() {
            deps = vec![b.add(
                format!("buckets:{}", la.bucket),
                &la_ref,
                Some(&home),
                Action::CreateLogArchiveBuckets {
                    bucket: la.bucket.clone(),
                    access_log_bucket: access_bucket.clone(),
                },
                format!(
                    "create the Log Archive bucket s3://{} (object lock) and its access-log bucket s3://{access_bucket} in account {la_ref}",
                    la.bucket
                ),
                account_dep.clone(),
            )];
        }
        let unread = |api: &str, bucket: &str| {
            la_snap.is_some_and(|s| {
                s.errors
                    .iter()
                    .any(|e| e.api == api && e.resource.as_deref() == Some(bucket))
            })
        };
        let gaps = match main {
            Some(m) => bucket_gaps(cfg, m, access, &policy, &unread, unobserved),
            None => vec!["every setting (new bucket)".into()],
        };
        if !gaps.is_empty() {
            bucket_dep.push(b.add(
                format!("bucket-settings:{}", la.bucket),
                &la_ref,
                Some(&home),
                Action::ConfigureLogArchiveBucket {
                    bucket: la.bucket.clone(),
                    access_log_bucket: access_bucket.clone(),
                    retention_days: la.retention_days,
                    object_lock_mode: la.object_lock_mode.clone(),
                    policy: policy.clone(),
                    fix: gaps.clone(),
                },
                format!("harden s3://{}: {}", la.bucket, gaps.join(", ")),
                deps,
            ));
        }
    }

    // The organization trail, in the management account.
    let log_group = trail_log_group(cfg);
    let log_group_arn = format!("arn:aws:logs:{home}:{mgmt}:log-group:{log_group}:*");
    let trail = snap
        .accounts
        .iter()
        .filter(|a| a.account_id == mgmt)
        .flat_map(|a| a.trails.iter())
        .find(|t| t.name == *trail_name && t.is_organization_trail);
    let mut trail_dep = Vec::new();
    let kms_key = trail_key_alias(cfg);
    // The key: created when the trail has none (a key the trail already uses is left as chosen).
    let mut key_dep = Vec::new();
    if trail.is_none_or(|t| t.kms_key_id.is_none()) {
        key_dep.push(b.add(
            format!("trail-key:{kms_key}"),
            &mgmt,
            Some(&home),
            Action::CreateTrailKey {
                alias: kms_key.clone(),
                trail: trail_name.clone(),
                log_archive_account: la_ref.clone(),
            },
            format!(
                "create KMS key {kms_key} for trail {trail_name} (rotation on; CloudTrail encrypts, only {la_name} ({la_ref}) decrypts)"
            ),
            account_dep.clone(),
        ));
    }
    match trail {
        None => {
            let mut deps = bucket_dep.clone();
            deps.extend(key_dep.iter().cloned());
            deps.extend(access_dep.get("cloudtrail.amazonaws.com").cloned());
            trail_dep.push(b.add(
                format!("trail:{trail_name}"),
                &mgmt,
                Some(&home),
                Action::CreateOrganizationTrail {
                    name: trail_name.clone(),
                    bucket: la.bucket.clone(),
                    log_group: log_group.clone(),
                    kms_key: kms_key.clone(),
                },
                format!(
                    "create organization trail {trail_name} (all regions, global events, log file validation, encrypted with {kms_key}) into s3://{} and log group {log_group}",
                    la.bucket
                ),
                deps,
            ));
        }
        Some(t) => {
            let mut wrong = Vec::new();
            if !t.is_multi_region {
                wrong.push("not multi-region");
            }
            if !t.log_file_validation_enabled {
                wrong.push("no log file validation");
            }
            if !t.include_global_service_events {
                wrong.push("no global service events");
            }
            if t.cloudwatch_logs_log_group_arn.as_deref() != Some(log_group_arn.as_str()) {
                wrong.push("not delivering to the CloudWatch Logs group");
            }
            if t.kms_key_id.is_none() {
                wrong.push("log files not encrypted with KMS");
            }
            if !wrong.is_empty() {
                let mut deps = bucket_dep.clone();
                deps.extend(key_dep.iter().cloned());
                trail_dep.push(b.add(
                    format!("trail-settings:{trail_name}"),
                    &mgmt,
                    Some(&t.home_region),
                    Action::UpdateTrail {
                        name: trail_name.clone(),
                        bucket: la.bucket.clone(),
                        log_group: log_group.clone(),
                        // A key the trail already uses stays.
                        kms_key: t.kms_key_id.clone().unwrap_or_else(|| kms_key.clone()),
                    },
                    format!("repair trail {trail_name}: {}", wrong.join(", ")),
                    deps,
                ));
            }
            if t.is_logging == Some(false) {
                b.add(
                    format!("trail-logging:{trail_name}"),
                    &mgmt,
                    Some(&t.home_region),
                    Action::StartLogging {
                        name: trail_name.clone(),
                    },
                    format!("start logging on trail {trail_name} (it was stopped)"),
                    trail_dep.clone(),
                );
            }
        }
    }

    // The CIS 4.x metric filters and alarms on the trail's log group.
    let topic = alert_topic(cfg);
    let topic_arn = format!("arn:aws:sns:{home}:{mgmt}:{topic}");
    let region = snap
        .accounts
        .iter()
        .find(|a| a.account_id == mgmt)
        .and_then(|a| a.regions.iter().find(|r| r.region == home));
    let missing: Option<Vec<String>> = match region {
        None => None,
        Some(r)
            if r.errors.iter().any(|e| {
                ["logs:", "cloudwatch:", "sns:"]
                    .iter()
                    .any(|p| e.api.starts_with(p))
            }) =>
        {
            None
        }
        Some(r) => Some(
            CIS_PATTERNS
                .iter()
                .filter(|(num, _)| !cis_alarm_in_place(r, &log_group, num, &topic_arn))
                .map(|(num, _)| num.to_string())
                .collect(),
        ),
    };
    let topic_ok = region.is_some_and(|r| {
        r.sns_topics.iter().any(|t| {
            t.arn == topic_arn && (cfg.alerts.emails.is_empty() || !t.subscriptions.is_empty())
        })
    });
    match missing {
        None if trail.is_some() => unobserved.push(format!(
            "CIS alarms in account {mgmt} region {home} (logs, alarms or topics could not be read)"
        )),
        _ => {
            let controls = missing
                .unwrap_or_else(|| CIS_PATTERNS.iter().map(|(n, _)| n.to_string()).collect());
            if !controls.is_empty() || !topic_ok {
                b.add(
                    format!("cis-alarms:{mgmt}:{home}"),
                    &mgmt,
                    Some(&home),
                    Action::PutCisAlarms {
                        log_group: log_group.clone(),
                        topic: topic.clone(),
                        emails: cfg.alerts.emails.clone(),
                        controls: controls.clone(),
                    },
                    format!(
                        "put the CIS {} metric filters and alarms on log group {log_group}, notifying SNS topic {topic}",
                        if controls.len() == CIS_PATTERNS.len() {
                            "4.1–4.15".to_string()
                        } else if controls.is_empty() {
                            "(topic subscriptions only)".to_string()
                        } else {
                            controls.join(", ")
                        }
                    ),
                    trail_dep,
                );
            }
        }
    }
    LogArchiveRefs { bucket_dep }
}

/// A filter on `log_group` that does CIS `num`'s job, whose metric has an enabled alarm
/// notifying `topic_arn`.
fn cis_alarm_in_place(r: &RegionSnapshot, log_group: &str, num: &str, topic_arn: &str) -> bool {
    r.metric_filters
        .iter()
        .filter(|f| f.log_group_name == log_group && pattern_fits(num, &f.pattern).is_ok())
        .flat_map(|f| f.metrics.iter())
        .any(|m| {
            r.alarms.iter().any(|a| {
                a.metric_name.as_deref() == Some(m.name.as_str())
                    && a.namespace.as_deref() == Some(m.namespace.as_str())
                    && a.actions_enabled
                    && a.alarm_actions.iter().any(|x| x == topic_arn)
            })
        })
}
