//! CloudTrail `eventSource` + `eventName` → the IAM action that authorised the call.
//!
//! Three steps, each documented in `docs/policy-generate.md`:
//! 1. the service prefix: [`SOURCE_PREFIXES`] for the endpoints whose first label is not the
//!    IAM prefix (`monitoring` → `cloudwatch`), else the endpoint's first label, else its last;
//! 2. the action name: API version suffixes dropped (`GetFunction20150331v2`,
//!    `GetDistribution2020_05_31`), then [`NAME_RENAMES`] for data-plane operations whose IAM
//!    action has another name (`s3:ListObjects` → `s3:ListBucket`);
//! 3. the result checked against the IAM action catalogue, whose spelling it takes.
//!
//! A call that maps to no catalogued action is *unexpressible*, with the reason; never dropped.

use rampart_policy::catalog::catalog;
use std::collections::HashMap;

/// Endpoints whose IAM service prefix is not their first label.
pub const SOURCE_PREFIXES: &[(&str, &str)] = &[
    ("monitoring", "cloudwatch"),
    ("email", "ses"),
    ("tagging", "tag"),
    ("runtime.sagemaker", "sagemaker"),
    ("api.sagemaker", "sagemaker"),
    ("runtime.lex", "lex"),
    ("models.lex", "lex"),
    ("data.iot", "iot"),
    ("data.jobs.iot", "iot"),
    ("api.ecr", "ecr"),
    ("bedrock-runtime", "bedrock"),
    ("rds-data", "rds-data"),
    ("execute-api", "execute-api"),
    ("elasticmapreduce", "elasticmapreduce"),
    ("es", "es"),
    ("aoss", "aoss"),
    ("s3-outposts", "s3-outposts"),
    ("streams.dynamodb", "dynamodb"),
    ("kinesisvideo", "kinesisvideo"),
    ("iam-identity-center", "sso"),
    ("sso-directory", "sso-directory"),
    ("identitystore", "identitystore"),
    ("cloudcontrolapi", "cloudformation"),
    ("servicecatalog-appregistry", "servicecatalog"),
];

/// Sources whose events are not IAM-authorised API calls, and why.
pub const NOT_IAM_SOURCES: &[(&str, &str)] = &[
    (
        "signin",
        "console sign-in events are not IAM actions (no policy grants ConsoleLogin)",
    ),
    (
        "sso-oauth",
        "IAM Identity Center OIDC token calls are not authorised by identity policies",
    ),
];

/// Data-plane operations whose IAM action has another name: `(prefix, eventName, action name)`.
/// From the service authorization reference's "actions" tables and the S3 "required
/// permissions" of each operation.
pub const NAME_RENAMES: &[(&str, &str, &str)] = &[
    ("s3", "ListObjects", "ListBucket"),
    ("s3", "ListObjectsV2", "ListBucket"),
    ("s3", "HeadBucket", "ListBucket"),
    ("s3", "ListObjectVersions", "ListBucketVersions"),
    ("s3", "ListBuckets", "ListAllMyBuckets"),
    ("s3", "HeadObject", "GetObject"),
    ("s3", "SelectObjectContent", "GetObject"),
    ("s3", "CopyObject", "PutObject"),
    ("s3", "UploadPart", "PutObject"),
    ("s3", "UploadPartCopy", "PutObject"),
    ("s3", "CreateMultipartUpload", "PutObject"),
    ("s3", "CompleteMultipartUpload", "PutObject"),
    ("s3", "DeleteObjects", "DeleteObject"),
    ("s3", "ListMultipartUploads", "ListBucketMultipartUploads"),
    ("s3", "ListParts", "ListMultipartUploadParts"),
    ("s3", "GetBucketEncryption", "GetEncryptionConfiguration"),
    ("s3", "PutBucketEncryption", "PutEncryptionConfiguration"),
    ("s3", "DeleteBucketEncryption", "PutEncryptionConfiguration"),
    ("s3", "GetBucketLifecycle", "GetLifecycleConfiguration"),
    (
        "s3",
        "GetBucketLifecycleConfiguration",
        "GetLifecycleConfiguration",
    ),
    ("s3", "PutBucketLifecycle", "PutLifecycleConfiguration"),
    (
        "s3",
        "PutBucketLifecycleConfiguration",
        "PutLifecycleConfiguration",
    ),
    ("s3", "DeleteBucketLifecycle", "PutLifecycleConfiguration"),
    ("s3", "GetBucketCors", "GetBucketCORS"),
    ("s3", "PutBucketCors", "PutBucketCORS"),
    ("s3", "DeleteBucketCors", "PutBucketCORS"),
    ("s3", "GetBucketReplication", "GetReplicationConfiguration"),
    ("s3", "PutBucketReplication", "PutReplicationConfiguration"),
    (
        "s3",
        "DeleteBucketReplication",
        "PutReplicationConfiguration",
    ),
    ("s3", "DeleteBucketTagging", "PutBucketTagging"),
    (
        "s3",
        "DeleteBucketPublicAccessBlock",
        "PutBucketPublicAccessBlock",
    ),
    ("s3", "GetPublicAccessBlock", "GetAccountPublicAccessBlock"),
    ("s3", "PutPublicAccessBlock", "PutAccountPublicAccessBlock"),
    (
        "s3",
        "DeletePublicAccessBlock",
        "PutAccountPublicAccessBlock",
    ),
    (
        "s3",
        "GetBucketAccelerateConfiguration",
        "GetAccelerateConfiguration",
    ),
    (
        "s3",
        "PutBucketAccelerateConfiguration",
        "PutAccelerateConfiguration",
    ),
    (
        "s3",
        "GetBucketNotificationConfiguration",
        "GetBucketNotification",
    ),
    (
        "s3",
        "PutBucketNotificationConfiguration",
        "PutBucketNotification",
    ),
    (
        "s3",
        "GetBucketInventoryConfiguration",
        "GetInventoryConfiguration",
    ),
    (
        "s3",
        "PutBucketInventoryConfiguration",
        "PutInventoryConfiguration",
    ),
    (
        "s3",
        "GetBucketMetricsConfiguration",
        "GetMetricsConfiguration",
    ),
    (
        "s3",
        "PutBucketMetricsConfiguration",
        "PutMetricsConfiguration",
    ),
    (
        "s3",
        "GetBucketAnalyticsConfiguration",
        "GetAnalyticsConfiguration",
    ),
    (
        "s3",
        "PutBucketAnalyticsConfiguration",
        "PutAnalyticsConfiguration",
    ),
    (
        "s3",
        "GetBucketIntelligentTieringConfiguration",
        "GetIntelligentTieringConfiguration",
    ),
    (
        "s3",
        "GetObjectLockConfiguration",
        "GetBucketObjectLockConfiguration",
    ),
    (
        "s3",
        "PutObjectLockConfiguration",
        "PutBucketObjectLockConfiguration",
    ),
    (
        "s3",
        "DeleteBucketOwnershipControls",
        "PutBucketOwnershipControls",
    ),
    ("kms", "ReEncrypt", "ReEncryptFrom"),
    ("lambda", "Invoke", "InvokeFunction"),
    ("dynamodb", "ExecuteStatement", "PartiQLSelect"),
    ("ses", "SendEmailV2", "SendEmail"),
];

/// Actions AWS answers without an authorization check.
pub const NO_PERMISSION_NEEDED: &[&str] = &["sts:GetCallerIdentity"];

/// What one `(eventSource, eventName)` maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped {
    /// The IAM action, spelt as the catalogue spells it (`s3:ListBucket`).
    Action(String),
    /// The call needs no permission (`sts:GetCallerIdentity`): nothing to grant.
    NoPermission(String),
    /// No IAM action expresses the call; the reason says why.
    Unexpressible(String),
}

/// The IAM service prefix for an `eventSource` (without `.amazonaws.com`).
pub fn service_prefix(source: &str) -> Result<String, String> {
    let host = source
        .strip_suffix(".amazonaws.com")
        .or_else(|| source.strip_suffix(".amazonaws.com.cn"))
        .unwrap_or(source);
    if let Some((_, why)) = NOT_IAM_SOURCES.iter().find(|(h, _)| *h == host) {
        return Err(why.to_string());
    }
    if let Some((_, p)) = SOURCE_PREFIXES.iter().find(|(h, _)| *h == host) {
        return Ok(p.to_string());
    }
    let services = &catalog().services;
    let first = host.split('.').next().unwrap_or(host);
    let last = host.rsplit('.').next().unwrap_or(host);
    for candidate in [host, first, last] {
        if services.contains_key(candidate) {
            return Ok(candidate.to_string());
        }
    }
    Err(format!(
        "event source {source} names no service of the IAM catalogue"
    ))
}

/// `eventName` without an API version suffix: `GetFunction20150331v2` → `GetFunction`,
/// `GetDistribution2020_05_31` → `GetDistribution`.
pub fn strip_version(name: &str) -> &str {
    let b = name.as_bytes();
    let mut end = b.len();
    // `v2`, `v3`… after the date
    if end >= 2 && b[end - 1].is_ascii_digit() && b[end - 2] == b'v' {
        end -= 2;
    }
    let digits = b[..end]
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if digits == 8 && end > 8 {
        return &name[..end - 8];
    }
    // `2020_05_31`
    if end > 10 {
        let tail = &b[end - 10..end];
        let shape = tail.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'_'
            } else {
                c.is_ascii_digit()
            }
        });
        if shape {
            return &name[..end - 10];
        }
    }
    name
}

/// Maps one call; see the module documentation for the rules.
pub fn map(source: &str, event_name: &str) -> Mapped {
    let prefix = match service_prefix(source) {
        Ok(p) => p,
        Err(why) => return Mapped::Unexpressible(why),
    };
    let base = strip_version(event_name);
    let renamed = NAME_RENAMES
        .iter()
        .find(|(p, from, _)| *p == prefix && *from == base)
        .map_or(base, |(_, _, to)| *to);
    // API Gateway's management API is authorised by HTTP verb on the resource path.
    let renamed = if prefix == "apigateway" {
        match apigateway_verb(renamed) {
            Some(v) => v,
            None => {
                return Mapped::Unexpressible(format!(
                    "apigateway:{event_name}: API Gateway authorises by HTTP verb and this operation's verb is not known"
                ));
            }
        }
    } else {
        renamed
    };
    let joined = format!("{prefix}:{renamed}");
    if NO_PERMISSION_NEEDED
        .iter()
        .any(|a| a.eq_ignore_ascii_case(&joined))
    {
        return Mapped::NoPermission(joined);
    }
    let Some(service) = catalog().services.get(&prefix) else {
        return Mapped::Unexpressible(format!("no IAM service `{prefix}` in the catalogue"));
    };
    match service.action(&renamed.to_ascii_lowercase()) {
        Some(def) => Mapped::Action(format!("{prefix}:{}", def.name)),
        None => Mapped::Unexpressible(format!(
            "{prefix}:{renamed} (from {source} {event_name}) is not an action of the IAM catalogue"
        )),
    }
}

/// The HTTP verb API Gateway authorises a management operation by.
fn apigateway_verb(name: &str) -> Option<&'static str> {
    const VERBS: &[(&str, &str)] = &[
        ("Get", "GET"),
        ("Create", "POST"),
        ("Import", "PUT"),
        ("Put", "PUT"),
        ("Update", "PATCH"),
        ("Delete", "DELETE"),
    ];
    VERBS
        .iter()
        .find(|(p, _)| name.starts_with(p))
        .map(|(_, v)| *v)
}

/// [`map`] with a cache keyed by source and name, and each action interned as a small number
/// (the per-event path of `iam unused`).
#[derive(Default)]
pub struct Mapper {
    cache: HashMap<String, (Mapped, Option<u32>)>,
    key: String,
    actions: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Mapper {
    pub fn new() -> Mapper {
        Mapper::default()
    }

    /// The mapping of one call and, for an action, its interned id.
    pub fn map(&mut self, source: &str, name: &str) -> (&Mapped, Option<u32>) {
        self.key.clear();
        self.key.push_str(source);
        self.key.push('\0');
        self.key.push_str(name);
        if !self.cache.contains_key(self.key.as_str()) {
            let m = map(source, name);
            let id = match &m {
                Mapped::Action(a) => Some(self.intern(a)),
                _ => None,
            };
            self.cache.insert(self.key.clone(), (m, id));
        }
        let (m, id) = &self.cache[self.key.as_str()];
        (m, *id)
    }

    fn intern(&mut self, action: &str) -> u32 {
        if let Some(&id) = self.ids.get(action) {
            return id;
        }
        let id = self.actions.len() as u32;
        self.actions.push(action.to_string());
        self.ids.insert(action.to_string(), id);
        id
    }

    /// The action an id stands for.
    pub fn action(&self, id: u32) -> &str {
        &self.actions[id as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(source: &str, name: &str) -> String {
        match map(source, name) {
            Mapped::Action(a) => a,
            other => panic!("{source} {name}: {other:?}"),
        }
    }

    #[test]
    fn prefixes_that_are_not_the_first_label() {
        assert_eq!(
            action("monitoring.amazonaws.com", "PutMetricAlarm"),
            "cloudwatch:PutMetricAlarm"
        );
        assert_eq!(action("email.amazonaws.com", "SendEmail"), "ses:SendEmail");
        assert_eq!(
            action("tagging.amazonaws.com", "GetResources"),
            "tag:GetResources"
        );
        assert_eq!(action("iam.amazonaws.com", "ListUsers"), "iam:ListUsers");
        assert_eq!(
            action("ec2.amazonaws.com", "DescribeInstances"),
            "ec2:DescribeInstances"
        );
    }

    #[test]
    fn data_plane_names_become_their_actions() {
        assert_eq!(action("s3.amazonaws.com", "ListObjects"), "s3:ListBucket");
        assert_eq!(action("s3.amazonaws.com", "HeadObject"), "s3:GetObject");
        assert_eq!(
            action("s3.amazonaws.com", "ListBuckets"),
            "s3:ListAllMyBuckets"
        );
        assert_eq!(
            action("s3.amazonaws.com", "GetBucketEncryption"),
            "s3:GetEncryptionConfiguration"
        );
        assert_eq!(
            action("lambda.amazonaws.com", "GetFunction20150331v2"),
            "lambda:GetFunction"
        );
        assert_eq!(
            action("lambda.amazonaws.com", "ListFunctions20150331"),
            "lambda:ListFunctions"
        );
        assert_eq!(
            action("lambda.amazonaws.com", "Invoke"),
            "lambda:InvokeFunction"
        );
        assert_eq!(
            action("cloudfront.amazonaws.com", "GetDistribution2020_05_31"),
            "cloudfront:GetDistribution"
        );
        assert_eq!(
            action("apigateway.amazonaws.com", "GetRestApis"),
            "apigateway:GET"
        );
        // the catalogue's spelling wins over the event's
        assert_eq!(
            action("s3.amazonaws.com", "GetBucketCors"),
            "s3:GetBucketCORS"
        );
    }

    #[test]
    fn calls_without_an_action_say_why() {
        assert!(
            matches!(map("signin.amazonaws.com", "ConsoleLogin"), Mapped::Unexpressible(w) if w.contains("sign-in"))
        );
        assert!(matches!(
            map("sts.amazonaws.com", "GetCallerIdentity"),
            Mapped::NoPermission(_)
        ));
        assert!(
            matches!(map("nothing.amazonaws.com", "Foo"), Mapped::Unexpressible(w) if w.contains("nothing"))
        );
        assert!(
            matches!(map("s3.amazonaws.com", "NoSuchThing"), Mapped::Unexpressible(w) if w.contains("s3:NoSuchThing"))
        );
    }

    #[test]
    fn version_suffixes() {
        assert_eq!(strip_version("GetFunction20150331v2"), "GetFunction");
        assert_eq!(strip_version("AddPermission20150331"), "AddPermission");
        assert_eq!(
            strip_version("ListTagsForResource2017_10_30"),
            "ListTagsForResource"
        );
        assert_eq!(strip_version("DescribeInstances"), "DescribeInstances");
        assert_eq!(strip_version("Ec2v2"), "Ec2v2");
    }

    #[test]
    fn every_rename_lands_on_a_catalogued_action() {
        for (p, from, to) in NAME_RENAMES {
            let svc = &catalog().services[*p];
            assert!(
                svc.action(&to.to_ascii_lowercase()).is_some(),
                "{p}:{to} (from {from})"
            );
        }
        for (_, p) in SOURCE_PREFIXES {
            assert!(catalog().services.contains_key(*p), "{p}");
        }
    }

    #[test]
    fn mapper_interns_actions() {
        let mut m = Mapper::new();
        let (_, a) = m.map("s3.amazonaws.com", "ListObjects");
        let (_, b) = m.map("s3.amazonaws.com", "HeadBucket");
        assert_eq!(a, b);
        assert_eq!(m.action(a.unwrap()), "s3:ListBucket");
        assert_eq!(m.map("signin.amazonaws.com", "ConsoleLogin").1, None);
    }
}
