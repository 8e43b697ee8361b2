//! CloudTrail monitoring with metric filters and alarms: CIS 4.1–4.15 (v3.0 and v5.0 alike).
//!
//! Judged semantically, not by comparing pattern text: every metric filter on a log group that a
//! covering trail delivers to is parsed with `rampart-pattern` and run against CloudTrail events
//! that the control must catch (positives) and events it must not count (negatives). A filter
//! passes when it matches every positive and no negative; its metric must then have an enabled
//! alarm whose action is an SNS topic with at least one confirmed subscription. Filters on the
//! organization trail's log group count for every member account, wherever that group lives.

use crate::context::LogGroupHome;
use crate::{Control, Ctx, Outcome, Scope, Severity};
use rampart_pattern::FilterPattern;
use serde_json::{Value, json};

macro_rules! monitor {
    ($id:literal, $num:literal, $title:literal, $sev:expr, $why:literal, [$($fw:literal),*], $check:ident, $pattern:literal) => {
        Control {
            id: $id,
            title: $title,
            severity: $sev,
            scope: Scope::Account,
            rationale: $why,
            remediation_console: concat!(
                "CloudWatch → Log groups → the CloudTrail (organization trail) log group → Metric filters → Create: pattern ",
                $pattern,
                ", metric value 1; then create an alarm (Sum ≥ 1 over 5 minutes) notifying an SNS topic with a confirmed subscription."
            ),
            remediation_cli: concat!(
                "aws logs put-metric-filter --log-group-name TRAIL_LOG_GROUP --filter-name cis-", $num,
                " --metric-transformations metricName=cis-", $num, ",metricNamespace=CISBenchmark,metricValue=1 --filter-pattern '",
                $pattern,
                "' && aws cloudwatch put-metric-alarm --alarm-name cis-", $num, " --metric-name cis-", $num,
                " --namespace CISBenchmark --statistic Sum --period 300 --threshold 1 --comparison-operator GreaterThanOrEqualToThreshold --evaluation-periods 1 --alarm-actions TOPIC_ARN"
            ),
            // CIS v3.0 and v5.0 number the monitoring requirements alike (4.1–4.15).
            frameworks: &[concat!("cis-aws-3.0:", $num), concat!("cis-aws-5.0:", $num) $(, $fw)*],
            apis: &["cloudtrail:DescribeTrails"],
            check: Some($check),
        }
    };
}

pub static CONTROLS: &[Control] = &[
    monitor!(
        "cis-4.1",
        "4.1",
        "Unauthorized API calls are monitored (metric filter and alarm)",
        Severity::Low,
        "Bursts of AccessDenied are the noise an attacker makes while probing stolen credentials.",
        ["fsbp:CloudWatch.2"],
        c4_1,
        r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }"#
    ),
    monitor!(
        "cis-4.2",
        "4.2",
        "Console sign-in without MFA is monitored",
        Severity::Medium,
        "A console login without MFA is either a policy gap or a stolen password being used.",
        ["fsbp:CloudWatch.3"],
        c4_2,
        r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#
    ),
    monitor!(
        "cis-4.3",
        "4.3",
        "Usage of the root user is monitored",
        Severity::High,
        "Root use should be rare and deliberate; every occurrence deserves a look.",
        ["fsbp:CloudWatch.1"],
        c4_3,
        r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#
    ),
    monitor!(
        "cis-4.4",
        "4.4",
        "IAM policy changes are monitored",
        Severity::Medium,
        "Policy changes are how privileges are escalated or persistence is planted.",
        ["fsbp:CloudWatch.4"],
        c4_4,
        "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}"
    ),
    monitor!(
        "cis-4.5",
        "4.5",
        "CloudTrail configuration changes are monitored",
        Severity::High,
        "Stopping or changing the trail is how an intruder hides what follows.",
        ["fsbp:CloudWatch.5"],
        c4_5,
        "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }"
    ),
    monitor!(
        "cis-4.6",
        "4.6",
        "Console authentication failures are monitored",
        Severity::Low,
        "Repeated failed logins point to password guessing.",
        ["fsbp:CloudWatch.6"],
        c4_6,
        r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#
    ),
    monitor!(
        "cis-4.7",
        "4.7",
        "Disabling or scheduled deletion of customer KMS keys is monitored",
        Severity::Medium,
        "Disabling a key makes the data it protects unreadable: sabotage or ransom.",
        ["fsbp:CloudWatch.7"],
        c4_7,
        "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }"
    ),
    monitor!(
        "cis-4.8",
        "4.8",
        "S3 bucket policy changes are monitored",
        Severity::Medium,
        "A changed bucket policy or ACL can expose data in one call.",
        ["fsbp:CloudWatch.8"],
        c4_8,
        "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }"
    ),
    monitor!(
        "cis-4.9",
        "4.9",
        "AWS Config configuration changes are monitored",
        Severity::Medium,
        "Stopping the recorder erases the history investigators rely on.",
        ["fsbp:CloudWatch.9"],
        c4_9,
        "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }"
    ),
    monitor!(
        "cis-4.10",
        "4.10",
        "Security group changes are monitored",
        Severity::Low,
        "Opened security groups expose workloads to the internet.",
        ["fsbp:CloudWatch.10"],
        c4_10,
        "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }"
    ),
    monitor!(
        "cis-4.11",
        "4.11",
        "Network ACL changes are monitored",
        Severity::Low,
        "NACL changes can silently open whole subnets.",
        ["fsbp:CloudWatch.11"],
        c4_11,
        "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }"
    ),
    monitor!(
        "cis-4.12",
        "4.12",
        "Network gateway changes are monitored",
        Severity::Low,
        "A new internet or customer gateway creates a path in or out of the network.",
        ["fsbp:CloudWatch.12"],
        c4_12,
        "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }"
    ),
    monitor!(
        "cis-4.13",
        "4.13",
        "Route table changes are monitored",
        Severity::Low,
        "Route changes can divert traffic through an attacker-controlled path.",
        ["fsbp:CloudWatch.13"],
        c4_13,
        "{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }"
    ),
    monitor!(
        "cis-4.14",
        "4.14",
        "VPC changes are monitored",
        Severity::Low,
        "New VPCs and peerings change who can reach what.",
        ["fsbp:CloudWatch.14"],
        c4_14,
        "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) }"
    ),
    monitor!(
        "cis-4.15",
        "4.15",
        "AWS Organizations changes are monitored",
        Severity::Medium,
        "Organization changes move accounts out from under guardrails or weaken SCPs.",
        [],
        c4_15,
        r#"{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }"#
    ),
];

macro_rules! checks {
    ($($f:ident => $num:literal),*) => {
        $(fn $f(ctx: &Ctx, out: &mut Vec<Outcome>) { monitored(ctx, out, $num) })*
    };
}
checks!(c4_1 => "4.1", c4_2 => "4.2", c4_3 => "4.3", c4_4 => "4.4", c4_5 => "4.5", c4_6 => "4.6", c4_7 => "4.7",
        c4_8 => "4.8", c4_9 => "4.9", c4_10 => "4.10", c4_11 => "4.11", c4_12 => "4.12", c4_13 => "4.13",
        c4_14 => "4.14", c4_15 => "4.15");

/// A CloudTrail management event as it reaches CloudWatch Logs.
fn event(source: &str, name: &str) -> Value {
    json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::123456789012:user/alice",
                         "accountId": "123456789012", "userName": "alice"},
        "eventTime": "2026-11-01T12:00:00Z",
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": null,
        "responseElements": null,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "123456789012"
    })
}

fn many(source: &str, names: &[&str]) -> Vec<Value> {
    names.iter().map(|n| event(source, n)).collect()
}

fn with(mut e: Value, path: &[&str], v: Value) -> Value {
    let mut cur = &mut e;
    for (i, k) in path.iter().enumerate() {
        if i + 1 == path.len() {
            cur[*k] = v;
            break;
        }
        if !cur[*k].is_object() {
            cur[*k] = json!({});
        }
        cur = &mut cur[*k];
    }
    e
}

fn console_login(mfa: &str, result: &str) -> Value {
    let e = with(
        event("signin.amazonaws.com", "ConsoleLogin"),
        &["additionalEventData", "MFAUsed"],
        json!(mfa),
    );
    let e = with(e, &["responseElements", "ConsoleLogin"], json!(result));
    with(e, &["eventType"], json!("AwsConsoleSignIn"))
}

/// Events a filter for CIS `num` must count, and events it must not.
pub fn cases(num: &str) -> (Vec<Value>, Vec<Value>) {
    let ok = |src, name| event(src, name);
    match num {
        "4.1" => (
            vec![
                with(
                    event("ec2.amazonaws.com", "RunInstances"),
                    &["errorCode"],
                    json!("Client.UnauthorizedOperation"),
                ),
                with(
                    event("s3.amazonaws.com", "GetObject"),
                    &["errorCode"],
                    json!("AccessDenied"),
                ),
                with(
                    event("iam.amazonaws.com", "ListUsers"),
                    &["errorCode"],
                    json!("AccessDenied"),
                ),
            ],
            vec![
                ok("s3.amazonaws.com", "GetObject"),
                with(
                    event("s3.amazonaws.com", "GetObject"),
                    &["errorCode"],
                    json!("NoSuchKey"),
                ),
            ],
        ),
        "4.2" => (
            vec![console_login("No", "Success")],
            vec![
                console_login("Yes", "Success"),
                ok("s3.amazonaws.com", "ListBuckets"),
            ],
        ),
        "4.3" => {
            let root = |src, name| {
                with(
                    event(src, name),
                    &["userIdentity"],
                    json!({"type": "Root", "arn": "arn:aws:iam::123456789012:root", "accountId": "123456789012"}),
                )
            };
            (
                vec![
                    root("s3.amazonaws.com", "ListBuckets"),
                    root("iam.amazonaws.com", "CreateAccessKey"),
                ],
                vec![ok("s3.amazonaws.com", "ListBuckets")],
            )
        }
        "4.4" => (
            many(
                "iam.amazonaws.com",
                &[
                    "DeleteGroupPolicy",
                    "DeleteRolePolicy",
                    "DeleteUserPolicy",
                    "PutGroupPolicy",
                    "PutRolePolicy",
                    "PutUserPolicy",
                    "CreatePolicy",
                    "DeletePolicy",
                    "CreatePolicyVersion",
                    "DeletePolicyVersion",
                    "AttachRolePolicy",
                    "DetachRolePolicy",
                    "AttachUserPolicy",
                    "DetachUserPolicy",
                    "AttachGroupPolicy",
                    "DetachGroupPolicy",
                ],
            ),
            many(
                "iam.amazonaws.com",
                &["GetPolicy", "ListPolicies", "CreateUser"],
            ),
        ),
        "4.5" => (
            many(
                "cloudtrail.amazonaws.com",
                &[
                    "CreateTrail",
                    "UpdateTrail",
                    "DeleteTrail",
                    "StartLogging",
                    "StopLogging",
                ],
            ),
            many(
                "cloudtrail.amazonaws.com",
                &["DescribeTrails", "LookupEvents"],
            ),
        ),
        "4.6" => {
            let failed = with(
                console_login("No", "Failure"),
                &["errorMessage"],
                json!("Failed authentication"),
            );
            (vec![failed], vec![console_login("Yes", "Success")])
        }
        "4.7" => (
            many("kms.amazonaws.com", &["DisableKey", "ScheduleKeyDeletion"]),
            many("kms.amazonaws.com", &["EnableKey", "Decrypt", "CreateKey"]),
        ),
        "4.8" => (
            many(
                "s3.amazonaws.com",
                &[
                    "PutBucketAcl",
                    "PutBucketPolicy",
                    "PutBucketCors",
                    "PutBucketLifecycle",
                    "PutBucketReplication",
                    "DeleteBucketPolicy",
                    "DeleteBucketCors",
                    "DeleteBucketLifecycle",
                    "DeleteBucketReplication",
                ],
            ),
            many(
                "s3.amazonaws.com",
                &["GetBucketPolicy", "PutObject", "ListBuckets"],
            ),
        ),
        "4.9" => (
            many(
                "config.amazonaws.com",
                &[
                    "StopConfigurationRecorder",
                    "DeleteDeliveryChannel",
                    "PutDeliveryChannel",
                    "PutConfigurationRecorder",
                ],
            ),
            many(
                "config.amazonaws.com",
                &[
                    "DescribeConfigurationRecorders",
                    "StartConfigurationRecorder",
                ],
            ),
        ),
        "4.10" => (
            many(
                "ec2.amazonaws.com",
                &[
                    "AuthorizeSecurityGroupIngress",
                    "AuthorizeSecurityGroupEgress",
                    "RevokeSecurityGroupIngress",
                    "RevokeSecurityGroupEgress",
                    "CreateSecurityGroup",
                    "DeleteSecurityGroup",
                ],
            ),
            many(
                "ec2.amazonaws.com",
                &["DescribeSecurityGroups", "RunInstances"],
            ),
        ),
        "4.11" => (
            many(
                "ec2.amazonaws.com",
                &[
                    "CreateNetworkAcl",
                    "CreateNetworkAclEntry",
                    "DeleteNetworkAcl",
                    "DeleteNetworkAclEntry",
                    "ReplaceNetworkAclEntry",
                    "ReplaceNetworkAclAssociation",
                ],
            ),
            many("ec2.amazonaws.com", &["DescribeNetworkAcls"]),
        ),
        "4.12" => (
            many(
                "ec2.amazonaws.com",
                &[
                    "CreateCustomerGateway",
                    "DeleteCustomerGateway",
                    "AttachInternetGateway",
                    "CreateInternetGateway",
                    "DeleteInternetGateway",
                    "DetachInternetGateway",
                ],
            ),
            many("ec2.amazonaws.com", &["DescribeInternetGateways"]),
        ),
        "4.13" => (
            many(
                "ec2.amazonaws.com",
                &[
                    "CreateRoute",
                    "CreateRouteTable",
                    "ReplaceRoute",
                    "ReplaceRouteTableAssociation",
                    "DeleteRouteTable",
                    "DeleteRoute",
                    "DisassociateRouteTable",
                ],
            ),
            many("ec2.amazonaws.com", &["DescribeRouteTables"]),
        ),
        "4.14" => (
            many(
                "ec2.amazonaws.com",
                &[
                    "CreateVpc",
                    "DeleteVpc",
                    "ModifyVpcAttribute",
                    "AcceptVpcPeeringConnection",
                    "CreateVpcPeeringConnection",
                    "DeleteVpcPeeringConnection",
                    "RejectVpcPeeringConnection",
                ],
            ),
            many("ec2.amazonaws.com", &["DescribeVpcs"]),
        ),
        "4.15" => (
            many(
                "organizations.amazonaws.com",
                &[
                    "AcceptHandshake",
                    "AttachPolicy",
                    "CreateAccount",
                    "CreateOrganizationalUnit",
                    "CreatePolicy",
                    "DeclineHandshake",
                    "DeleteOrganization",
                    "DeleteOrganizationalUnit",
                    "DeletePolicy",
                    "DetachPolicy",
                    "DisablePolicyType",
                    "EnablePolicyType",
                    "InviteAccountToOrganization",
                    "LeaveOrganization",
                    "MoveAccount",
                    "RemoveAccountFromOrganization",
                    "UpdatePolicy",
                    "UpdateOrganizationalUnit",
                ],
            ),
            many(
                "organizations.amazonaws.com",
                &["DescribeOrganization", "ListAccounts"],
            ),
        ),
        _ => (Vec::new(), Vec::new()),
    }
}

/// Whether a deployed pattern does the job of CIS `num`; `Err` explains why not.
pub fn pattern_fits(num: &str, pattern: &str) -> Result<(), String> {
    let p = FilterPattern::parse(pattern).map_err(|e| format!("does not parse ({e})"))?;
    let (pos, neg) = cases(num);
    if let Some(missed) = pos.iter().find(|e| !p.matches_json(e)) {
        return Err(format!("misses {}", describe(missed)));
    }
    if let Some(extra) = neg.iter().find(|e| p.matches_json(e)) {
        return Err(format!("also counts {}", describe(extra)));
    }
    Ok(())
}

fn describe(e: &Value) -> String {
    let name = e["eventName"].as_str().unwrap_or("?");
    let who = e["userIdentity"]["type"].as_str().unwrap_or("?");
    match e.get("errorCode").and_then(Value::as_str) {
        Some(code) => format!("{name} ({who}, {code})"),
        None => format!("{name} ({who})"),
    }
}

/// The verdict for one log group and one CIS number (memoized per run: the organization trail's
/// group is shared by every member account).
pub(crate) fn judge_log_group(ctx: &Ctx, home: &LogGroupHome, num: &str) -> Outcome {
    let key = (home.log_group.arn.clone(), num.to_string());
    if let Some(hit) = ctx.org.monitoring_cache.borrow().get(&key) {
        return hit.clone();
    }
    let verdict = judge_uncached(ctx, home, num);
    ctx.org
        .monitoring_cache
        .borrow_mut()
        .insert(key, verdict.clone());
    verdict
}

fn judge_uncached(ctx: &Ctx, home: &LogGroupHome, num: &str) -> Outcome {
    let lg = &home.log_group.name;
    let where_ = format!(
        "log group {lg} (account {}, {})",
        home.account_id, home.region.region
    );
    for api in [
        "logs:DescribeMetricFilters",
        "cloudwatch:DescribeAlarms",
        "sns:",
    ] {
        if let Some(e) = ctx
            .snapshot
            .error_for(home.account_id, Some(&home.region.region), api)
        {
            return Outcome::error(
                &home.log_group.arn,
                format!(
                    "could not read {} for {where_}: {} ({})",
                    e.api, e.code, e.message
                ),
            );
        }
    }
    let mut reasons = Vec::new();
    for f in home.metric_filters() {
        if let Err(why) = pattern_fits(num, &f.pattern) {
            reasons.push(format!("filter {} {why}", f.name));
            continue;
        }
        for m in &f.metrics {
            let alarms: Vec<_> = home
                .alarms()
                .iter()
                .filter(|a| {
                    a.metric_name.as_deref() == Some(m.name.as_str())
                        && a.namespace.as_deref() == Some(m.namespace.as_str())
                })
                .collect();
            if alarms.is_empty() {
                reasons.push(format!(
                    "filter {} fits, but no alarm watches metric {}/{}",
                    f.name, m.namespace, m.name
                ));
            }
            for a in alarms {
                if !a.actions_enabled {
                    reasons.push(format!("alarm {} has actions disabled", a.name));
                    continue;
                }
                let notified = a.alarm_actions.iter().find(|t| {
                    ctx.org
                        .sns_topic(t)
                        .is_some_and(|topic| topic.subscriptions.iter().any(|s| s.confirmed))
                });
                match notified {
                    Some(t) => {
                        return Outcome::pass(
                            &home.log_group.arn,
                            format!(
                                "filter {} on {where_} catches CIS {num} events; alarm {} notifies {t}",
                                f.name, a.name
                            ),
                        );
                    }
                    None => reasons.push(format!(
                        "alarm {} notifies no SNS topic with a confirmed subscription",
                        a.name
                    )),
                }
            }
        }
    }
    if reasons.is_empty() {
        reasons.push("no metric filter".into());
    }
    Outcome::fail(
        &home.log_group.arn,
        format!("{where_}: {}", reasons.join("; ")),
    )
}

fn monitored(ctx: &Ctx, out: &mut Vec<Outcome>, num: &str) {
    let mut trails: Vec<&rampart_snapshot::Trail> = ctx.account.trails.iter().collect();
    for t in ctx.org.org_trails_covering(ctx.account_id()) {
        if !trails.iter().any(|x| x.arn == t.trail.arn) {
            trails.push(t.trail);
        }
    }
    let mut failures = Vec::new();
    for t in trails
        .iter()
        .filter(|t| t.is_multi_region && t.is_logging != Some(false))
    {
        let Some(arn) = &t.cloudwatch_logs_log_group_arn else {
            continue;
        };
        let Some(home) = ctx.org.log_group_home(arn) else {
            failures.push(Outcome::error(
                arn.trim_end_matches(":*"),
                format!("trail {} sends to log group {arn}, which is not in the snapshot (collect that account and region)", t.name),
            ));
            continue;
        };
        let v = judge_log_group(ctx, &home, num);
        if v.status == crate::Status::Pass {
            let credit = if home.account_id != ctx.account_id() {
                format!(
                    " (credited: {} trail {} in account {})",
                    if t.is_organization_trail {
                        "organization"
                    } else {
                        ""
                    },
                    t.name,
                    t.owner_account_id
                )
            } else {
                String::new()
            };
            out.push(Outcome {
                message: format!("{}{credit}", v.message),
                ..v
            });
            return;
        }
        failures.push(v);
    }
    if failures.is_empty() {
        out.push(Outcome::fail(
            ctx.account_resource(),
            "no multi-region trail covering this account delivers to CloudWatch Logs, so nothing can be monitored",
        ));
    } else {
        // An ERROR anywhere outranks a FAIL: the passing filter may be the one we could not read.
        failures.sort_by_key(|o| o.status != crate::Status::Error);
        out.push(failures.swap_remove(0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;
    use crate::fixtures::*;

    #[test]
    fn every_cis_pattern_fits_its_own_cases() {
        for c in CONTROLS {
            let num = c.id.trim_start_matches("cis-");
            let (pos, neg) = cases(num);
            assert!(!pos.is_empty() && !neg.is_empty(), "{num}");
            let pattern = crate::sample::CIS_PATTERNS
                .iter()
                .find(|(n, _)| *n == num)
                .unwrap()
                .1;
            assert_eq!(pattern_fits(num, pattern), Ok(()), "{num}");
        }
    }

    #[test]
    fn older_and_alternative_patterns_still_fit() {
        // CIS v1.4 pattern for 4.1 (no exclusions) and the short 4.2 pattern.
        assert_eq!(
            pattern_fits(
                "4.1",
                r#"{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}"#
            ),
            Ok(())
        );
        assert_eq!(
            pattern_fits(
                "4.2",
                r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#
            ),
            Ok(())
        );
    }

    #[test]
    fn wrong_patterns_are_caught_semantically() {
        // Case matters: "root" never matches the Root identity type.
        assert!(
            pattern_fits("4.3", r#"{ $.userIdentity.type = "root" }"#)
                .unwrap_err()
                .contains("misses ListBuckets")
        );
        // Missing one event name.
        assert!(
            pattern_fits(
                "4.5",
                "{ ($.eventName = CreateTrail) || ($.eventName = DeleteTrail) }"
            )
            .unwrap_err()
            .contains("misses UpdateTrail")
        );
        // Too broad: counts every KMS call.
        assert!(
            pattern_fits("4.7", "{ $.eventSource = kms.amazonaws.com }")
                .unwrap_err()
                .contains("also counts")
        );
        assert!(
            pattern_fits("4.7", "{ $.eventSource = ")
                .unwrap_err()
                .contains("does not parse")
        );
    }

    #[test]
    fn org_log_group_credits_members() {
        let s = org();
        for c in CONTROLS {
            for a in [MANAGEMENT, WORKLOAD, AUDIT] {
                assert_eq!(statuses(&s, c.id, a), vec![Status::Pass], "{} {a}", c.id);
            }
        }
        assert!(
            findings(&s, "cis-4.3", WORKLOAD)[0]
                .message
                .contains("credited")
        );
    }

    #[test]
    fn alarm_chain_must_reach_a_confirmed_subscriber() {
        let mut s = org();
        let home = &mut acct(&mut s, MANAGEMENT).regions[0];
        home.sns_topics[0].subscriptions[0].confirmed = false;
        let f = findings(&s, "cis-4.4", WORKLOAD);
        assert_eq!(f[0].status, Status::Fail);
        assert!(
            f[0].message.contains("confirmed subscription"),
            "{}",
            f[0].message
        );
        let home = &mut acct(&mut s, MANAGEMENT).regions[0];
        home.sns_topics[0].subscriptions[0].confirmed = true;
        home.alarms.retain(|a| a.name != "cis-4.5-alarm");
        assert_eq!(statuses(&s, "cis-4.5", WORKLOAD), vec![Status::Fail]);
        assert_eq!(statuses(&s, "cis-4.4", WORKLOAD), vec![Status::Pass]);
        let home = &mut acct(&mut s, MANAGEMENT).regions[0];
        home.metric_filters
            .iter_mut()
            .find(|f| f.name == "cis-4.3-filter")
            .unwrap()
            .pattern = r#"{ $.userIdentity.type = "root" }"#.into();
        assert!(
            findings(&s, "cis-4.3", WORKLOAD)[0]
                .message
                .contains("misses")
        );
    }

    #[test]
    fn org_log_group_in_another_account_credits_everyone() {
        let mut s = org();
        // Move the trail's log group, filters, alarms and topic to the Audit account.
        let home = std::mem::take(&mut acct(&mut s, MANAGEMENT).regions[0]);
        let audit = &mut acct(&mut s, AUDIT).regions[0];
        audit.log_groups = home.log_groups;
        audit.metric_filters = home.metric_filters;
        audit.alarms = home.alarms;
        audit.sns_topics = home.sns_topics;
        acct(&mut s, MANAGEMENT).regions[0] =
            crate::sample::compliant_org(0, &["us-east-1"]).accounts[1].regions[0].clone();
        acct(&mut s, MANAGEMENT).trails[0].cloudwatch_logs_log_group_arn = Some(format!(
            "arn:aws:logs:us-east-1:{AUDIT}:log-group:aws-cloudtrail-logs-org:*"
        ));
        for a in [MANAGEMENT, WORKLOAD, WORKLOAD2] {
            assert_eq!(statuses(&s, "cis-4.10", a), vec![Status::Pass], "{a}");
        }
        assert!(
            findings(&s, "cis-4.10", WORKLOAD)[0]
                .message
                .contains(&format!("account {AUDIT}"))
        );
        // Pointing the trail at a group nobody collected is an ERROR, not a PASS or a FAIL.
        acct(&mut s, MANAGEMENT).trails[0].cloudwatch_logs_log_group_arn =
            Some("arn:aws:logs:us-east-1:999999999999:log-group:elsewhere:*".into());
        assert_eq!(statuses(&s, "cis-4.10", WORKLOAD), vec![Status::Error]);
    }

    #[test]
    fn unreadable_filters_give_error() {
        let mut s = org();
        deny_api(
            &mut s,
            MANAGEMENT,
            Some("us-east-1"),
            "logs:DescribeMetricFilters",
        );
        let f = findings(&s, "cis-4.1", WORKLOAD);
        assert_eq!(f[0].status, Status::Error);
        assert!(f[0].message.contains("logs:DescribeMetricFilters"));
    }

    #[test]
    fn no_cloudwatch_delivery_fails() {
        let mut s = org();
        acct(&mut s, MANAGEMENT).trails[0].cloudwatch_logs_log_group_arn = None;
        assert_eq!(statuses(&s, "cis-4.1", WORKLOAD), vec![Status::Fail]);
    }
}
