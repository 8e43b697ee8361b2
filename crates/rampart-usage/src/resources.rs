//! The resources a call acted on, where CloudTrail names them: the event's `resources` array,
//! ARNs among `requestParameters`, and well-known parameters (`bucketName` + `key`, `roleName`,
//! `functionName`, `tableName`, `queueUrl`, `secretId`, …) built into ARNs with the event's
//! partition, account and region. Each candidate is kept only if it is an ARN of a resource type
//! the IAM catalogue lists for the action; when none is left, the call's resource is `*`, with
//! the reason (the action takes no resource, or CloudTrail does not name it).

use rampart_policy::catalog::{ActionDef, Service, catalog};
use serde_json::Value;
use std::borrow::Cow;

/// Where the event happened: fills the ARNs built from names.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub partition: &'a str,
    pub account: &'a str,
    pub region: &'a str,
}

/// The resources of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// These ARNs (sorted, distinct).
    Named(Vec<String>),
    /// Any resource; the reason why no ARN can be named.
    Any(&'static str),
}

/// Why a statement's resource is `*`.
pub const NO_RESOURCE_TYPES: &str = "the action supports no resource-level permissions";
pub const NOT_LOGGED: &str = "CloudTrail does not name the resource of these calls";
pub const EC2_PARTIAL: &str =
    "EC2 authorises one call on several resources and CloudTrail names only some of them";

/// Placeholders of the catalogue's ARN formats whose values may hold `/` (paths, object keys,
/// names that AWS allows slashes in).
const SLASHED: &[&str] = &[
    "Path",
    "ObjectName",
    "Slash",
    "LogGroupName",
    "LogStreamName",
    "SecretId",
    "ParameterName",
];

/// Whether `arn` is an ARN of the catalogue format `pattern` (`arn:${Partition}:s3:::${BucketName}`):
/// a placeholder matches any run without `:`, and without `/` unless its name says it may hold
/// one ([`SLASHED`]).
pub fn arn_matches(pattern: &str, arn: &str) -> bool {
    let p = pattern.as_bytes();
    let a = arn.as_bytes();
    // (pattern index, arn index) pairs still to try: a placeholder is tried at every length.
    let mut stack = vec![(0usize, 0usize)];
    while let Some((i, j)) = stack.pop() {
        if i == p.len() {
            if j == a.len() {
                return true;
            }
            continue;
        }
        if p[i..].starts_with(b"${") {
            let Some(close) = pattern[i..].find('}') else {
                return false;
            };
            let name = &pattern[i + 2..i + close];
            let slash = SLASHED.iter().any(|s| name.contains(s));
            // object keys may hold `:` too
            let colon = name.contains("ObjectName");
            let next = i + close + 1;
            let mut k = j;
            loop {
                stack.push((next, k));
                if k == a.len() || (a[k] == b':' && !colon) || (a[k] == b'/' && !slash) {
                    break;
                }
                k += 1;
            }
        } else if j < a.len() && p[i] == a[j] {
            stack.push((i + 1, j + 1));
        }
    }
    false
}

/// The catalogue's definition of an action (`s3:GetObject`) and its service.
pub fn action_def(action: &str) -> Option<(&'static Service, &'static ActionDef)> {
    let (prefix, name) = action.split_once(':')?;
    let svc = catalog().services.get(prefix)?;
    Some((svc, svc.action(&name.to_ascii_lowercase())?))
}

/// The resources of one call of `action` (an action the catalogue knows) in `event`.
pub fn scope(action: &str, event: &Value, place: Place<'_>) -> Scope {
    let Some((svc, def)) = action_def(action) else {
        return Scope::Any(NO_RESOURCE_TYPES);
    };
    if def.resource_types.is_empty() {
        return Scope::Any(NO_RESOURCE_TYPES);
    }
    let prefix = svc.prefix.as_str();
    if prefix == "ec2" && def.resource_types.len() > 1 {
        return Scope::Any(EC2_PARTIAL);
    }
    let mut found = Vec::new();
    candidates(prefix, event, place, &mut found);
    let formats: Vec<&str> = def
        .resource_types
        .iter()
        .filter_map(|&i| svc.resource_types.get(usize::from(i)))
        .map(|t| t.arn.as_str())
        .collect();
    found.retain(|arn| formats.iter().any(|f| arn_matches(f, arn)));
    found.sort();
    found.dedup();
    if found.is_empty() {
        Scope::Any(NOT_LOGGED)
    } else {
        Scope::Named(found)
    }
}

/// `s` as literal text of a policy's `Resource`: `*`, `?` and `$` written as the escapes
/// `${*}`, `${?}`, `${$}`, so a key or name holding them grants that resource only.
pub fn literal(s: &str) -> Cow<'_, str> {
    if !s.contains(['*', '?', '$']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '*' => out.push_str("${*}"),
            '?' => out.push_str("${?}"),
            '$' => out.push_str("${$}"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Every ARN the event names or lets us build, for a call to service `prefix` (the values taken
/// from the event as literal text, see [`literal`]).
fn candidates(prefix: &str, event: &Value, place: Place<'_>, out: &mut Vec<String>) {
    if let Some(list) = event.get("resources").and_then(Value::as_array) {
        for r in list {
            if let Some(arn) = r
                .get("ARN")
                .or_else(|| r.get("arn"))
                .and_then(Value::as_str)
            {
                out.push(literal(arn).into_owned());
            }
        }
    }
    let Some(params) = event.get("requestParameters").and_then(Value::as_object) else {
        return;
    };
    for v in params.values() {
        match v {
            Value::String(s) if s.starts_with("arn:") => out.push(literal(s).into_owned()),
            Value::Array(items) => out.extend(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|s| s.starts_with("arn:"))
                    .map(|s| literal(s).into_owned()),
            ),
            _ => {}
        }
    }
    let Place {
        partition: p,
        account: a,
        region: r,
    } = place;
    let raw = |k: &str| {
        params
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let text = |k: &str| raw(k).map(literal);
    let named = |k: &str| raw(k).filter(|s| !s.starts_with("arn:")).map(literal);
    match prefix {
        "s3" => {
            if let Some(b) = named("bucketName") {
                out.push(format!("arn:{p}:s3:::{b}"));
                if let Some(k) = text("key") {
                    out.push(format!("arn:{p}:s3:::{b}/{k}"));
                }
            }
        }
        "iam" => {
            for (k, kind) in [
                ("roleName", "role"),
                ("userName", "user"),
                ("groupName", "group"),
                ("instanceProfileName", "instance-profile"),
            ] {
                if let Some(n) = named(k) {
                    out.push(format!("arn:{p}:iam::{a}:{kind}/{n}"));
                }
            }
        }
        "lambda" => {
            if let Some(f) = named("functionName") {
                out.push(format!("arn:{p}:lambda:{r}:{a}:function:{f}"));
            }
        }
        "dynamodb" => {
            if let Some(t) = named("tableName") {
                out.push(format!("arn:{p}:dynamodb:{r}:{a}:table/{t}"));
                if let Some(i) = text("indexName") {
                    out.push(format!("arn:{p}:dynamodb:{r}:{a}:table/{t}/index/{i}"));
                }
            }
        }
        "sqs" => {
            if let Some(url) = text("queueUrl") {
                // https://sqs.REGION.amazonaws.com/ACCOUNT/NAME
                let mut parts = url.rsplit('/');
                if let (Some(name), Some(account)) = (parts.next(), parts.next())
                    && !name.is_empty()
                {
                    out.push(format!("arn:{p}:sqs:{r}:{account}:{name}"));
                }
            }
            if let Some(n) = named("queueName") {
                out.push(format!("arn:{p}:sqs:{r}:{a}:{n}"));
            }
        }
        "sns" => {
            if let Some(n) = named("name") {
                out.push(format!("arn:{p}:sns:{r}:{a}:{n}"));
            }
        }
        "kms" => {
            if let Some(k) = named("keyId") {
                match k.strip_prefix("alias/") {
                    Some(alias) => out.push(format!("arn:{p}:kms:{r}:{a}:alias/{alias}")),
                    None => out.push(format!("arn:{p}:kms:{r}:{a}:key/{k}")),
                }
            }
        }
        "secretsmanager" => {
            if let Some(s) = named("secretId").or_else(|| named("name")) {
                // a secret's ARN ends with `-` and six random characters
                out.push(format!("arn:{p}:secretsmanager:{r}:{a}:secret:{s}-??????"));
            }
        }
        "ssm" => {
            let param = |n: &str| {
                format!(
                    "arn:{p}:ssm:{r}:{a}:parameter/{}",
                    n.strip_prefix('/').unwrap_or(n)
                )
            };
            if let Some(n) = named("name") {
                out.push(param(&n));
            }
            if let Some(names) = params.get("names").and_then(Value::as_array) {
                out.extend(
                    names
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|n| param(&literal(n))),
                );
            }
            if let Some(path) = named("path") {
                out.push(param(&format!("{}/*", path.trim_end_matches('/'))));
            }
        }
        "logs" => {
            if let Some(g) = named("logGroupName") {
                out.push(format!("arn:{p}:logs:{r}:{a}:log-group:{g}"));
                if let Some(s) = text("logStreamName") {
                    out.push(format!("arn:{p}:logs:{r}:{a}:log-group:{g}:log-stream:{s}"));
                }
            }
        }
        "cloudformation" => {
            if let Some(s) = named("stackName") {
                out.push(format!("arn:{p}:cloudformation:{r}:{a}:stack/{s}/*"));
            }
        }
        "ecr" => {
            if let Some(n) = named("repositoryName") {
                out.push(format!("arn:{p}:ecr:{r}:{a}:repository/{n}"));
            }
        }
        "kinesis" => {
            if let Some(n) = named("streamName") {
                out.push(format!("arn:{p}:kinesis:{r}:{a}:stream/{n}"));
            }
        }
        "cloudtrail" => {
            if let Some(n) = named("name") {
                out.push(format!("arn:{p}:cloudtrail:{r}:{a}:trail/{n}"));
            }
        }
        "ec2" => {
            let mut ids: Vec<Cow<'_, str>> = text("instanceId").into_iter().collect();
            if let Some(items) = params
                .get("instancesSet")
                .and_then(|s| s.get("items"))
                .and_then(Value::as_array)
            {
                ids.extend(
                    items
                        .iter()
                        .filter_map(|i| i.get("instanceId").and_then(Value::as_str))
                        .map(literal),
                );
            }
            for id in ids {
                out.push(format!("arn:{p}:ec2:{r}:{a}:instance/{id}"));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const HERE: Place<'static> = Place {
        partition: "aws",
        account: "111122223333",
        region: "eu-west-1",
    };

    #[test]
    fn arn_formats_respect_segments() {
        let bucket = "arn:${Partition}:s3:::${BucketName}";
        let object = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";
        assert!(arn_matches(bucket, "arn:aws:s3:::b"));
        assert!(!arn_matches(bucket, "arn:aws:s3:::b/k"));
        assert!(arn_matches(object, "arn:aws:s3:::b/dir/k"));
        assert!(!arn_matches(object, "arn:aws:s3:::b"));
        let role = "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}";
        assert!(arn_matches(role, "arn:aws:iam::1:role/team/app"));
        assert!(!arn_matches(role, "arn:aws:iam::1:user/app"));
        let function = "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}";
        assert!(arn_matches(
            function,
            "arn:aws:lambda:eu-west-1:1:function:f"
        ));
        assert!(!arn_matches(
            function,
            "arn:aws:lambda:eu-west-1:1:function:f:live"
        ));
    }

    #[test]
    fn s3_objects_and_buckets_by_action() {
        let ev = json!({"requestParameters": {"bucketName": "data", "key": "a/b.csv"}});
        assert_eq!(
            scope("s3:GetObject", &ev, HERE),
            Scope::Named(vec!["arn:aws:s3:::data/a/b.csv".into()])
        );
        assert_eq!(
            scope("s3:ListBucket", &ev, HERE),
            Scope::Named(vec!["arn:aws:s3:::data".into()])
        );
        assert_eq!(
            scope("s3:ListAllMyBuckets", &ev, HERE),
            Scope::Any(NO_RESOURCE_TYPES)
        );
    }

    #[test]
    fn names_become_arns_of_the_event_place() {
        let cases = [
            (
                "iam:GetRole",
                json!({"roleName": "app"}),
                "arn:aws:iam::111122223333:role/app",
            ),
            (
                "lambda:GetFunction",
                json!({"functionName": "f"}),
                "arn:aws:lambda:eu-west-1:111122223333:function:f",
            ),
            (
                "dynamodb:GetItem",
                json!({"tableName": "t"}),
                "arn:aws:dynamodb:eu-west-1:111122223333:table/t",
            ),
            (
                "sqs:SendMessage",
                json!({"queueUrl": "https://sqs.eu-west-1.amazonaws.com/444455556666/q"}),
                "arn:aws:sqs:eu-west-1:444455556666:q",
            ),
            (
                "secretsmanager:GetSecretValue",
                json!({"secretId": "prod/db"}),
                "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-??????",
            ),
            (
                "ssm:GetParameter",
                json!({"name": "/app/key"}),
                "arn:aws:ssm:eu-west-1:111122223333:parameter/app/key",
            ),
            (
                "sns:Publish",
                json!({"topicArn": "arn:aws:sns:eu-west-1:111122223333:t"}),
                "arn:aws:sns:eu-west-1:111122223333:t",
            ),
            (
                "kms:Decrypt",
                json!({"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}),
                "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            ),
            (
                "ec2:StopInstances",
                json!({"instancesSet": {"items": [{"instanceId": "i-1"}]}}),
                "arn:aws:ec2:eu-west-1:111122223333:instance/i-1",
            ),
        ];
        for (action, params, want) in cases {
            let ev = json!({"requestParameters": params});
            assert_eq!(
                scope(action, &ev, HERE),
                Scope::Named(vec![want.into()]),
                "{action}"
            );
        }
    }

    #[test]
    fn wildcard_characters_in_names_stay_literal() {
        let ev = json!({"requestParameters": {"bucketName": "b", "key": "a*b?c$d:e"}});
        assert_eq!(
            scope("s3:GetObject", &ev, HERE),
            Scope::Named(vec!["arn:aws:s3:::b/a${*}b${?}c${$}d:e".into()])
        );
        assert_eq!(literal("plain"), "plain");
    }

    #[test]
    fn the_resources_array_counts_and_unlogged_resources_are_any() {
        let ev = json!({"resources": [{"ARN": "arn:aws:kms:eu-west-1:111122223333:key/k1", "type": "AWS::KMS::Key"}], "requestParameters": null});
        assert_eq!(
            scope("kms:Decrypt", &ev, HERE),
            Scope::Named(vec!["arn:aws:kms:eu-west-1:111122223333:key/k1".into()])
        );
        assert_eq!(
            scope("iam:GetRole", &json!({}), HERE),
            Scope::Any(NOT_LOGGED)
        );
        assert_eq!(
            scope("ec2:RunInstances", &json!({}), HERE),
            Scope::Any(EC2_PARTIAL)
        );
    }
}
