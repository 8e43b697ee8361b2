//! CloudTrail: CIS 3.1, 3.2, 3.4, 3.5, 3.8, 3.9 and the baseline's organization trail and
//! log-archive bucket. An organization trail covers every member account, so members are
//! credited with it (the trail is listed only in the management account's snapshot).
//!
//! Crediting decides *coverage* only (3.1, 3.8, 3.9: does some trail record this account). A
//! property of trails (3.2 validation, 3.4 bucket access logging, 3.5 KMS) is judged on every
//! trail that exists for the account — its own trails, in any region, logging or stopped, and the
//! organization trails that cover it — so a fine organization trail never hides a member's own
//! misconfigured trail.

use super::bucket_arn;
use crate::{Control, Ctx, Outcome, Scope, Severity};
use rampart_snapshot::{Bucket, Trail};

pub static CONTROLS: &[Control] = &[
    Control {
        id: "cis-3.1",
        title: "CloudTrail is enabled in all regions (multi-region trail logging management events)",
        severity: Severity::High,
        scope: Scope::Account,
        rationale: "Without a multi-region trail recording read and write management events, activity in some regions goes unrecorded.",
        remediation_console: "CloudTrail → Trails → Create trail (or edit): apply to all regions, management events Read and Write; for an organization, create it in the management account as an organization trail.",
        remediation_cli: "aws cloudtrail create-trail --name org-trail --s3-bucket-name BUCKET --is-multi-region-trail --is-organization-trail && aws cloudtrail start-logging --name org-trail",
        frameworks: &["cis-aws-3.0:3.1", "cis-aws-5.0:3.1", "fsbp:CloudTrail.1"],
        apis: &["cloudtrail:DescribeTrails"],
        check: Some(multi_region),
    },
    Control {
        id: "cis-3.2",
        title: "CloudTrail log file validation is enabled",
        severity: Severity::Medium,
        scope: Scope::Account,
        rationale: "Digest files prove that delivered log files were not changed or deleted after delivery.",
        remediation_console: "CloudTrail → the trail → Edit → Additional settings: enable log file validation.",
        remediation_cli: "aws cloudtrail update-trail --name TRAIL --enable-log-file-validation",
        frameworks: &["cis-aws-3.0:3.2", "cis-aws-5.0:3.2", "fsbp:CloudTrail.4"],
        apis: &["cloudtrail:DescribeTrails"],
        check: Some(validation),
    },
    Control {
        id: "cis-3.4",
        title: "Server access logging is enabled on the CloudTrail S3 bucket",
        severity: Severity::Medium,
        scope: Scope::Account,
        rationale: "Access logs on the trail bucket show who read or tried to tamper with the audit logs.",
        remediation_console: "S3 → the trail bucket → Properties → Server access logging → Enable, target a separate bucket.",
        remediation_cli: "aws s3api put-bucket-logging --bucket TRAIL_BUCKET --bucket-logging-status '{\"LoggingEnabled\":{\"TargetBucket\":\"LOGS\",\"TargetPrefix\":\"cloudtrail/\"}}'",
        frameworks: &["cis-aws-3.0:3.4", "cis-aws-5.0:3.4", "fsbp:CloudTrail.7"],
        apis: &["cloudtrail:DescribeTrails"],
        check: Some(bucket_logging),
    },
    Control {
        id: "cis-3.5",
        title: "CloudTrail logs are encrypted at rest with a KMS key",
        severity: Severity::Medium,
        scope: Scope::Account,
        rationale: "SSE-KMS adds a key policy between the log files and anyone who can read the bucket.",
        remediation_console: "CloudTrail → the trail → Edit → Log file SSE-KMS encryption: enable with a customer managed key.",
        remediation_cli: "aws cloudtrail update-trail --name TRAIL --kms-key-id KEY_ARN",
        frameworks: &["cis-aws-3.0:3.5", "cis-aws-5.0:3.5", "fsbp:CloudTrail.2"],
        apis: &["cloudtrail:DescribeTrails"],
        check: Some(kms),
    },
    Control {
        id: "cis-3.8",
        title: "Object-level logging for S3 write events is enabled",
        severity: Severity::Low,
        scope: Scope::Account,
        rationale: "Data events record who wrote or deleted which object, which management events never show.",
        remediation_console: "CloudTrail → the trail → Data events → add S3, all current and future buckets, Write (or All).",
        remediation_cli: "aws cloudtrail put-event-selectors --trail-name TRAIL --event-selectors '[{\"ReadWriteType\":\"All\",\"IncludeManagementEvents\":true,\"DataResources\":[{\"Type\":\"AWS::S3::Object\",\"Values\":[\"arn:aws:s3\"]}]}]'",
        frameworks: &["cis-aws-3.0:3.8", "cis-aws-5.0:3.8", "fsbp:S3.22"],
        apis: &["cloudtrail:DescribeTrails", "cloudtrail:GetEventSelectors"],
        check: Some(s3_write_events),
    },
    Control {
        id: "cis-3.9",
        title: "Object-level logging for S3 read events is enabled",
        severity: Severity::Low,
        scope: Scope::Account,
        rationale: "Read data events show which objects were downloaded, the evidence an exfiltration investigation needs.",
        remediation_console: "CloudTrail → the trail → Data events → add S3, all current and future buckets, Read (or All).",
        remediation_cli: "aws cloudtrail put-event-selectors --trail-name TRAIL --event-selectors '[{\"ReadWriteType\":\"All\",\"IncludeManagementEvents\":true,\"DataResources\":[{\"Type\":\"AWS::S3::Object\",\"Values\":[\"arn:aws:s3\"]}]}]'",
        frameworks: &["cis-aws-3.0:3.9", "cis-aws-5.0:3.9", "fsbp:S3.23"],
        apis: &["cloudtrail:DescribeTrails", "cloudtrail:GetEventSelectors"],
        check: Some(s3_read_events),
    },
    Control {
        id: "base-org-trail",
        title: "An organization trail delivers to a log-archive bucket in another account",
        severity: Severity::High,
        scope: Scope::Organization,
        rationale: "One organization trail records every account, cannot be removed by members, and keeps logs out of reach of the accounts it records.",
        remediation_console: "CloudTrail (management account) → Create trail → Enable for all accounts in my organization, all regions, log file validation, bucket in the Log Archive account.",
        remediation_cli: "aws cloudtrail create-trail --name org-trail --s3-bucket-name LOG_ARCHIVE_BUCKET --is-multi-region-trail --is-organization-trail --enable-log-file-validation && aws cloudtrail start-logging --name org-trail",
        frameworks: &["rampart-baseline:org-trail"],
        apis: &["cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus"],
        check: Some(org_trail),
    },
    Control {
        id: "base-log-archive-bucket",
        title: "The organization trail bucket is versioned, access-logged and keeps logs at least 2 years",
        severity: Severity::High,
        scope: Scope::Organization,
        rationale: "The log archive is the evidence of last resort: it must survive deletion attempts and outlive the investigations that need it.",
        remediation_console: "S3 (Log Archive account) → the trail bucket: enable versioning, server access logging, object lock or a lifecycle that keeps objects 730+ days.",
        remediation_cli: "aws s3api put-bucket-versioning --bucket B --versioning-configuration Status=Enabled && aws s3api put-bucket-logging --bucket B --bucket-logging-status file://logging.json && aws s3api put-object-lock-configuration --bucket B --object-lock-configuration file://lock-730d.json",
        frameworks: &["rampart-baseline:log-archive"],
        apis: &["cloudtrail:DescribeTrails"],
        check: Some(log_archive_bucket),
    },
];

/// Trails that record this account: its own, and organization trails that cover it.
fn covering<'a>(ctx: &Ctx<'a>) -> Vec<&'a Trail> {
    let mut v: Vec<&Trail> = ctx.account.trails.iter().collect();
    for t in ctx.org.org_trails_covering(ctx.account_id()) {
        if !v.iter().any(|x| x.arn == t.trail.arn) {
            v.push(t.trail);
        }
    }
    v
}

fn credit(ctx: &Ctx, t: &Trail) -> String {
    if t.is_organization_trail && t.owner_account_id != ctx.account_id() {
        format!(
            " (credited: organization trail {} in account {})",
            t.name, t.owner_account_id
        )
    } else {
        String::new()
    }
}

/// True when the trail records read and write management events.
pub(crate) fn logs_all_management(t: &Trail) -> bool {
    if t.event_selectors.is_empty() && t.advanced_event_selectors.is_empty() {
        return true; // The default selector: all management events.
    }
    t.event_selectors
        .iter()
        .any(|s| s.include_management_events && s.read_write_type == "All")
        || t.advanced_event_selectors.iter().any(|a| {
            a.field_selectors
                .iter()
                .any(|f| f.field == "eventCategory" && f.equals.iter().any(|e| e == "Management"))
                && !a.field_selectors.iter().any(|f| f.field == "readOnly")
        })
}

fn multi_region(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let trails = covering(ctx);
    let good = trails
        .iter()
        .find(|t| t.is_multi_region && t.is_logging == Some(true) && logs_all_management(t));
    if let Some(t) = good {
        out.push(Outcome::pass(
            &t.arn,
            format!(
                "trail {} is multi-region, logging, with all management events{}",
                t.name,
                credit(ctx, t)
            ),
        ));
        return;
    }
    if let Some(t) = trails
        .iter()
        .find(|t| t.is_multi_region && t.is_logging.is_none())
    {
        out.push(Outcome::error(
            &t.arn,
            format!(
                "the logging status of trail {} could not be read (cloudtrail:GetTrailStatus)",
                t.name
            ),
        ));
        return;
    }
    let why = if trails.is_empty() {
        "no trail records this account".to_string()
    } else {
        let names: Vec<String> = trails
            .iter()
            .map(|t| {
                let mut gaps = Vec::new();
                if !t.is_multi_region {
                    gaps.push("single-region");
                }
                if t.is_logging != Some(true) {
                    gaps.push("not logging");
                }
                if !logs_all_management(t) {
                    gaps.push("not all management events");
                }
                format!("{} ({})", t.name, gaps.join(", "))
            })
            .collect();
        format!(
            "no trail is multi-region, logging and recording all management events: {}",
            names.join("; ")
        )
    };
    out.push(Outcome::fail(ctx.account_resource(), why));
}

/// Trails that record events for this account now: multi-region and not stopped. Coverage
/// controls (S3 data events) ask whether one of these does the job.
fn recording_trails<'a>(ctx: &Ctx<'a>) -> Vec<&'a Trail> {
    covering(ctx)
        .into_iter()
        .filter(|t| t.is_multi_region && t.is_logging != Some(false))
        .collect()
}

fn no_trail(ctx: &Ctx, out: &mut Vec<Outcome>) {
    out.push(Outcome::fail(
        ctx.account_resource(),
        "no trail records this account",
    ));
}

/// CIS judges a property of trails on every trail that exists, not only on the one that gives
/// coverage: a member's own single-region trail with validation off fails even when the
/// organization trail that covers the account is fine. Every covering trail is judged.
fn each_trail(ctx: &Ctx, out: &mut Vec<Outcome>, judge: impl Fn(&Trail) -> Result<String, String>) {
    let trails = covering(ctx);
    if trails.is_empty() {
        return no_trail(ctx, out);
    }
    for t in trails {
        match judge(t) {
            Ok(why) => out.push(Outcome::pass(&t.arn, format!("{why}{}", credit(ctx, t)))),
            Err(why) => out.push(Outcome::fail(&t.arn, format!("{why}{}", credit(ctx, t)))),
        }
    }
}

fn validation(ctx: &Ctx, out: &mut Vec<Outcome>) {
    each_trail(ctx, out, |t| {
        if t.log_file_validation_enabled {
            Ok(format!("trail {} has log file validation", t.name))
        } else {
            Err(format!("trail {} has log file validation off", t.name))
        }
    });
}

fn find_bucket<'a>(ctx: &Ctx<'a>, name: &str) -> Option<(&'a str, &'a Bucket)> {
    ctx.org.bucket(name)
}

fn bucket_logging(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let trails = covering(ctx);
    if trails.is_empty() {
        return no_trail(ctx, out);
    }
    // Every trail's bucket, each judged once (several trails may share one bucket).
    let mut seen: Vec<&str> = Vec::new();
    for t in trails {
        let Some(name) = t.s3_bucket_name.as_deref() else {
            continue;
        };
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        let arn = bucket_arn(name);
        match find_bucket(ctx, name) {
            None => out.push(Outcome::error(
                arn,
                format!("trail bucket {name} (trail {}) is not in the snapshot (its account was not collected or s3:ListBuckets failed)", t.name),
            )),
            Some((_, b)) if b.logging_target_bucket.is_some() => out.push(Outcome::pass(
                arn,
                format!("trail bucket {name} logs access to {}{}", b.logging_target_bucket.as_deref().unwrap_or(""), credit(ctx, t)),
            )),
            Some(_) => out.push(Outcome::fail(
                arn,
                format!("trail bucket {name} (trail {}) has server access logging off{}", t.name, credit(ctx, t)),
            )),
        }
    }
}

fn kms(ctx: &Ctx, out: &mut Vec<Outcome>) {
    each_trail(ctx, out, |t| match &t.kms_key_id {
        Some(k) => Ok(format!("trail {} encrypts with {k}", t.name)),
        None => Err(format!("trail {} uses SSE-S3, not a KMS key", t.name)),
    });
}

/// Whether a trail logs S3 object data events of the given kind (`ReadOnly` or `WriteOnly`) for all buckets.
pub(crate) fn logs_s3_data(t: &Trail, kind: &str) -> bool {
    let basic = t.event_selectors.iter().any(|s| {
        (s.read_write_type == "All" || s.read_write_type == kind)
            && s.data_resources.iter().any(|d| {
                d.resource_type == "AWS::S3::Object"
                    && d.values
                        .iter()
                        .any(|v| v == "arn:aws:s3" || v == "arn:aws:s3:::")
            })
    });
    let advanced = t.advanced_event_selectors.iter().any(|a| {
        let field = |n: &str| a.field_selectors.iter().find(|f| f.field == n);
        let data = field("eventCategory").is_some_and(|f| f.equals.iter().any(|e| e == "Data"));
        let s3 = field("resources.type")
            .is_some_and(|f| f.equals.iter().any(|e| e == "AWS::S3::Object"));
        let scoped = field("resources.ARN").is_some();
        let ro_ok = match field("readOnly") {
            None => true,
            Some(f) => f
                .equals
                .iter()
                .any(|v| v == if kind == "ReadOnly" { "true" } else { "false" }),
        };
        data && s3 && !scoped && ro_ok
    });
    basic || advanced
}

fn data_events(ctx: &Ctx, out: &mut Vec<Outcome>, kind: &str, word: &str) {
    if covering(ctx).is_empty() {
        return no_trail(ctx, out);
    }
    // Coverage: one recording trail that logs the data events is enough.
    let trails = recording_trails(ctx);
    match trails.iter().find(|t| logs_s3_data(t, kind)) {
        Some(t) => out.push(Outcome::pass(
            &t.arn,
            format!(
                "trail {} logs S3 {word} data events for all buckets{}",
                t.name,
                credit(ctx, t)
            ),
        )),
        None => out.push(Outcome::fail(
            ctx.account_resource(),
            format!("no trail logs S3 object-level {word} events for all buckets"),
        )),
    }
}

fn s3_write_events(ctx: &Ctx, out: &mut Vec<Outcome>) {
    data_events(ctx, out, "WriteOnly", "write");
}

fn s3_read_events(ctx: &Ctx, out: &mut Vec<Outcome>) {
    data_events(ctx, out, "ReadOnly", "read");
}

fn org_trail(ctx: &Ctx, out: &mut Vec<Outcome>) {
    if !ctx.org.in_organization() {
        out.push(Outcome::fail(
            ctx.account_resource(),
            "not an organization: there is no organization trail",
        ));
        return;
    }
    if ctx.org.org_trails.is_empty() {
        out.push(Outcome::fail(
            ctx.account_resource(),
            "no organization trail exists",
        ));
        return;
    }
    for tr in &ctx.org.org_trails {
        let t = tr.trail;
        let mut gaps = Vec::new();
        if !t.is_multi_region {
            gaps.push("not multi-region".to_string());
        }
        match t.is_logging {
            Some(true) => {}
            Some(false) => gaps.push("not logging".into()),
            None => {
                out.push(Outcome::error(
                    &t.arn,
                    format!("logging status of {} could not be read", t.name),
                ));
                continue;
            }
        }
        if !t.log_file_validation_enabled {
            gaps.push("log file validation off".into());
        }
        let bucket_home = t
            .s3_bucket_name
            .as_deref()
            .and_then(|n| find_bucket(ctx, n))
            .map(|(a, _)| a);
        match bucket_home {
            None => gaps.push(format!(
                "bucket {} not found in any collected account",
                t.s3_bucket_name.as_deref().unwrap_or("(none)")
            )),
            Some(a) if a == t.owner_account_id => gaps.push(format!(
                "bucket is in the trail's own account {a}, not a log archive"
            )),
            Some(a)
                if ctx
                    .org
                    .log_archive_account
                    .as_deref()
                    .is_some_and(|la| la != a) =>
            {
                gaps.push(format!(
                    "bucket is in account {a}, not the Log Archive account {}",
                    ctx.org.log_archive_account.as_deref().unwrap_or("")
                ))
            }
            Some(_) => {}
        }
        if gaps.is_empty() {
            out.push(Outcome::pass(
                &t.arn,
                format!(
                    "organization trail {} delivers to {} in account {}",
                    t.name,
                    t.s3_bucket_name.as_deref().unwrap_or(""),
                    bucket_home.unwrap_or("")
                ),
            ));
        } else {
            out.push(Outcome::fail(
                &t.arn,
                format!("organization trail {}: {}", t.name, gaps.join("; ")),
            ));
        }
    }
}

fn log_archive_bucket(ctx: &Ctx, out: &mut Vec<Outcome>) {
    let min_days = i64::from(ctx.org.settings.log_retention_days.unwrap_or(730));
    let names: Vec<&str> = ctx
        .org
        .org_trails
        .iter()
        .filter_map(|t| t.trail.s3_bucket_name.as_deref())
        .collect();
    if names.is_empty() {
        out.push(Outcome::fail(
            ctx.account_resource(),
            "no organization trail, so no log archive bucket to check",
        ));
        return;
    }
    for name in names {
        let arn = bucket_arn(name);
        let Some((account, b)) = find_bucket(ctx, name) else {
            out.push(Outcome::error(
                arn,
                format!("bucket {name} is not in the snapshot: collect the Log Archive account"),
            ));
            continue;
        };
        let mut gaps = Vec::new();
        if b.versioning.as_deref() != Some("Enabled") {
            gaps.push("versioning off".to_string());
        }
        if b.logging_target_bucket.is_none() {
            gaps.push("server access logging off".into());
        }
        let lock_days = b
            .object_lock
            .as_ref()
            .filter(|l| l.enabled)
            .map(|l| i64::from(l.days.unwrap_or(0)).max(i64::from(l.years.unwrap_or(0)) * 365))
            .unwrap_or(0);
        let shortest_expiry = b
            .lifecycle_rules
            .iter()
            .filter(|r| r.status == "Enabled")
            .filter_map(|r| r.expiration_days)
            .map(i64::from)
            .min();
        if let Some(d) = shortest_expiry.filter(|d| *d < min_days) {
            gaps.push(format!(
                "lifecycle expires logs after {d} days (needs {min_days})"
            ));
        }
        if gaps.is_empty() {
            let lock = if lock_days >= min_days {
                format!(", object lock {lock_days} days")
            } else {
                String::new()
            };
            out.push(Outcome::pass(arn, format!("bucket {name} in account {account}: versioned, access-logged, kept {min_days}+ days{lock}")));
        } else {
            out.push(Outcome::fail(
                arn,
                format!("bucket {name} in account {account}: {}", gaps.join("; ")),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Status;
    use crate::fixtures::*;
    use rampart_snapshot::{LifecycleRule, Trail};

    #[test]
    fn org_trail_credits_every_member() {
        let s = org();
        for a in [MANAGEMENT, LOG_ARCHIVE, AUDIT, WORKLOAD, WORKLOAD2] {
            for c in [
                "cis-3.1", "cis-3.2", "cis-3.4", "cis-3.5", "cis-3.8", "cis-3.9",
            ] {
                assert_eq!(statuses(&s, c, a), vec![Status::Pass], "{c} {a}");
            }
        }
        assert!(
            findings(&s, "cis-3.1", WORKLOAD)[0]
                .message
                .contains("credited: organization trail org-trail")
        );
    }

    #[test]
    fn without_org_trail_members_fail_unless_own_trail() {
        let mut s = org();
        acct(&mut s, MANAGEMENT).trails[0].is_organization_trail = false;
        assert_eq!(statuses(&s, "cis-3.1", MANAGEMENT), vec![Status::Pass]);
        assert_eq!(statuses(&s, "cis-3.1", WORKLOAD), vec![Status::Fail]);
        acct(&mut s, WORKLOAD).trails.push(Trail {
            name: "local".into(),
            arn: "arn:aws:cloudtrail:us-east-1:400000000000:trail/local".into(),
            is_multi_region: true,
            is_logging: Some(true),
            owner_account_id: WORKLOAD.into(),
            ..Trail::default()
        });
        assert_eq!(statuses(&s, "cis-3.1", WORKLOAD), vec![Status::Pass]);
        assert_eq!(statuses(&s, "cis-3.2", WORKLOAD), vec![Status::Fail]);
        assert_eq!(statuses(&s, "cis-3.5", WORKLOAD), vec![Status::Fail]);
        assert_eq!(statuses(&s, "cis-3.8", WORKLOAD), vec![Status::Fail]);
        // Unknown logging status never passes.
        acct(&mut s, WORKLOAD).trails[0].is_logging = None;
        assert_eq!(statuses(&s, "cis-3.1", WORKLOAD), vec![Status::Error]);
    }

    /// A member's own single-region trail with validation off, SSE-S3 and an unlogged bucket,
    /// next to a fine organization trail: the organization trail still passes (and still gives
    /// coverage), the member's own trail fails each property control.
    #[test]
    fn every_trail_is_judged_not_only_the_crediting_one() {
        let mut s = org();
        let mut bucket = crate::sample::good_bucket("member-trail-logs", "eu-west-1");
        bucket.logging_target_bucket = None;
        let a = acct(&mut s, WORKLOAD);
        a.s3.buckets.push(bucket);
        a.trails.push(Trail {
            name: "local".into(),
            arn: format!("arn:aws:cloudtrail:eu-west-1:{WORKLOAD}:trail/local"),
            home_region: "eu-west-1".into(),
            owner_account_id: WORKLOAD.into(),
            is_logging: Some(true),
            s3_bucket_name: Some("member-trail-logs".into()),
            ..Trail::default()
        });
        for (c, word) in [
            ("cis-3.2", "validation off"),
            ("cis-3.4", "access logging off"),
            ("cis-3.5", "SSE-S3"),
        ] {
            let f = findings(&s, c, WORKLOAD);
            let verdicts: Vec<(Status, bool)> = f
                .iter()
                .map(|x| {
                    let own = x.resource.ends_with("trail/local")
                        || x.resource.ends_with("member-trail-logs");
                    (x.status, own)
                })
                .collect();
            assert_eq!(verdicts.len(), 2, "{c}: {f:#?}");
            assert!(verdicts.contains(&(Status::Pass, false)), "{c}: {f:#?}");
            assert!(verdicts.contains(&(Status::Fail, true)), "{c}: {f:#?}");
            let bad = f.iter().find(|x| x.status == Status::Fail).unwrap();
            assert!(bad.message.contains(word), "{c}: {}", bad.message);
            // The other member, without a trail of its own, is judged on the org trail alone.
            assert_eq!(statuses(&s, c, WORKLOAD2), vec![Status::Pass], "{c}");
        }
        // Coverage is still the organization trail's.
        for c in ["cis-3.1", "cis-3.8", "cis-3.9"] {
            assert_eq!(statuses(&s, c, WORKLOAD), vec![Status::Pass], "{c}");
        }
        // A stopped trail is still a trail: its settings are judged too.
        let a = acct(&mut s, WORKLOAD);
        a.trails[0].is_logging = Some(false);
        assert!(statuses(&s, "cis-3.2", WORKLOAD).contains(&Status::Fail));
        // Fixing the member's trail clears every failure.
        let a = acct(&mut s, WORKLOAD);
        a.trails[0].log_file_validation_enabled = true;
        a.trails[0].kms_key_id = Some("arn:aws:kms:eu-west-1:400000000000:key/k".into());
        a.s3.buckets.last_mut().unwrap().logging_target_bucket = Some("access-logs".into());
        for c in ["cis-3.2", "cis-3.4", "cis-3.5"] {
            assert_eq!(
                statuses(&s, c, WORKLOAD),
                vec![Status::Pass, Status::Pass],
                "{c}"
            );
        }
    }

    /// A broken organization trail fails its property controls in every member it covers, even
    /// when a member has a fine trail of its own.
    #[test]
    fn a_broken_org_trail_fails_where_it_is_credited() {
        let mut s = org();
        acct(&mut s, MANAGEMENT).trails[0].log_file_validation_enabled = false;
        acct(&mut s, WORKLOAD).trails.push(Trail {
            name: "own".into(),
            arn: format!("arn:aws:cloudtrail:us-east-1:{WORKLOAD}:trail/own"),
            owner_account_id: WORKLOAD.into(),
            is_multi_region: true,
            is_logging: Some(true),
            log_file_validation_enabled: true,
            ..Trail::default()
        });
        let mut v = statuses(&s, "cis-3.2", WORKLOAD);
        v.sort();
        assert_eq!(v, vec![Status::Pass, Status::Fail]);
        assert_eq!(statuses(&s, "cis-3.2", WORKLOAD2), vec![Status::Fail]);
    }

    #[test]
    fn stopped_org_trail_fails() {
        let mut s = org();
        acct(&mut s, MANAGEMENT).trails[0].is_logging = Some(false);
        assert_eq!(statuses(&s, "cis-3.1", WORKLOAD), vec![Status::Fail]);
        assert_eq!(
            statuses(&s, "base-org-trail", MANAGEMENT),
            vec![Status::Fail]
        );
    }

    #[test]
    fn read_only_data_events_do_not_satisfy_write() {
        let mut s = org();
        acct(&mut s, MANAGEMENT).trails[0].event_selectors[0].read_write_type = "ReadOnly".into();
        assert_eq!(statuses(&s, "cis-3.9", WORKLOAD), vec![Status::Pass]);
        assert_eq!(statuses(&s, "cis-3.8", WORKLOAD), vec![Status::Fail]);
    }

    #[test]
    fn standalone_account() {
        let mut s = org();
        s.organization = None;
        s.accounts.retain(|a| a.account_id == MANAGEMENT);
        // Its own multi-region trail still satisfies CIS 3.1; the org-level baseline fails.
        assert_eq!(statuses(&s, "cis-3.1", MANAGEMENT), vec![Status::Pass]);
        assert_eq!(
            statuses(&s, "base-org-trail", MANAGEMENT),
            vec![Status::Fail]
        );
        assert_eq!(
            statuses(&s, "base-security-admin", MANAGEMENT),
            vec![Status::NotApplicable]
        );
    }

    #[test]
    fn org_trail_and_archive_bucket() {
        let mut s = org();
        assert_eq!(
            statuses(&s, "base-org-trail", MANAGEMENT),
            vec![Status::Pass]
        );
        assert_eq!(
            statuses(&s, "base-log-archive-bucket", MANAGEMENT),
            vec![Status::Pass]
        );
        // Organization controls are reported once, on the management account.
        assert!(statuses(&s, "base-org-trail", WORKLOAD).is_empty());
        let b = &mut acct(&mut s, LOG_ARCHIVE).s3.buckets[0];
        b.versioning = Some("Suspended".into());
        b.lifecycle_rules.push(LifecycleRule {
            id: "short".into(),
            status: "Enabled".into(),
            expiration_days: Some(365),
            noncurrent_expiration_days: None,
        });
        let f = findings(&s, "base-log-archive-bucket", MANAGEMENT);
        assert_eq!(f[0].status, Status::Fail);
        assert!(f[0].message.contains("versioning off") && f[0].message.contains("365"));
        // Moving the bucket into the management account defeats the separation.
        let bucket = acct(&mut s, LOG_ARCHIVE).s3.buckets.remove(0);
        acct(&mut s, MANAGEMENT).s3.buckets.push(bucket);
        assert_eq!(
            statuses(&s, "base-org-trail", MANAGEMENT),
            vec![Status::Fail]
        );
    }
}
