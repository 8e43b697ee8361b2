//! The IAM policies shipped for the roles rampart runs as (`policies/`) are checked by rampart's
//! own linter and against the code: every API the collector or `apply` calls must be allowed by
//! the matching policy, the audit policy allows nothing that changes state, and neither allows
//! more than the code uses.

use rampart_policy::lint::{PolicyKind, lint};
use rampart_policy::{Decision, Layer, PolicySet, Request, evaluate, parse_policy};
use std::collections::BTreeSet;
use std::path::Path;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// `service:Operation` names the code passes to its call recorders (`rec.ok("s3:…"`,
/// `call.done("…"`, `counters.count("…"`).
fn apis_called(files: &[&str]) -> BTreeSet<String> {
    let re = regex::Regex::new(
        r#"(?:\bok|ok_pages|absent_ok|count|done|failed|failure)\(\s*"([a-z0-9-]+:[A-Za-z0-9]+)""#,
    )
    .unwrap();
    let mut out = BTreeSet::new();
    for f in files {
        let text = std::fs::read_to_string(repo().join("crates/rampart-aws/src").join(f)).unwrap();
        for c in re.captures_iter(&text) {
            out.insert(c[1].to_string());
        }
    }
    out
}

/// The IAM action that authorizes an API call, where the two names differ.
fn iam_action(api: &str) -> String {
    match api {
        "s3:ListBuckets" => "s3:ListAllMyBuckets",
        "s3:GetPublicAccessBlock" => "s3:GetBucketPublicAccessBlock",
        "s3:PutPublicAccessBlock" => "s3:PutBucketPublicAccessBlock",
        "s3:GetBucketEncryption" => "s3:GetEncryptionConfiguration",
        "s3:PutBucketEncryption" => "s3:PutEncryptionConfiguration",
        "s3:GetBucketLifecycleConfiguration" => "s3:GetLifecycleConfiguration",
        "s3:PutBucketLifecycleConfiguration" => "s3:PutLifecycleConfiguration",
        "s3:GetObjectLockConfiguration" => "s3:GetBucketObjectLockConfiguration",
        "s3:PutObjectLockConfiguration" => "s3:PutBucketObjectLockConfiguration",
        "s3control:GetPublicAccessBlock" => "s3:GetAccountPublicAccessBlock",
        "s3control:PutPublicAccessBlock" => "s3:PutAccountPublicAccessBlock",
        // ListFindings and ListFindingsV2 share one IAM action (Access Analyzer API reference).
        "access-analyzer:ListFindingsV2" => "access-analyzer:ListFindings",
        other => other,
    }
    .to_string()
}

fn allowed(policy: &str, action: &str, resource: &str) -> bool {
    let p = parse_policy(policy).unwrap();
    let set = PolicySet {
        identity: vec![p],
        ..Default::default()
    };
    let mut req = Request {
        action: action.to_string(),
        resource: resource.to_string(),
        // Same account as the resources: only the identity policy decides.
        principal: Some("arn:aws:iam::222222222222:role/rampart".into()),
        ..Default::default()
    };
    if action == "iam:CreateServiceLinkedRole" {
        req.context.insert(
            "iam:AWSServiceName".into(),
            rampart_policy::ContextValue::String("config.amazonaws.com".into()),
        );
    }
    // The identity layer's verdict: other layers (a role's trust policy for sts:AssumeRole)
    // belong to the resources, not to what is shipped here.
    evaluate(&req, &set)
        .explain
        .layers
        .iter()
        .any(|l| l.layer == Layer::IdentityPolicy && l.result == Decision::Allowed)
}

/// Every `Allow`ed action in a policy, lower-cased.
fn actions_in(policy: &str) -> BTreeSet<String> {
    let v: serde_json::Value = serde_json::from_str(policy).unwrap();
    let mut out = BTreeSet::new();
    for st in v["Statement"].as_array().unwrap() {
        match &st["Action"] {
            serde_json::Value::String(a) => {
                out.insert(a.to_lowercase());
            }
            serde_json::Value::Array(a) => {
                out.extend(a.iter().map(|x| x.as_str().unwrap().to_lowercase()))
            }
            _ => panic!("no Action in {st}"),
        }
    }
    out
}

fn read(name: &str) -> String {
    std::fs::read_to_string(repo().join("policies").join(name)).unwrap()
}

fn lint_clean(name: &str, text: &str) {
    let findings = lint(text, PolicyKind::Identity);
    assert!(findings.is_empty(), "{name}: {findings:#?}");
}

#[test]
fn the_audit_policy_allows_exactly_what_the_collector_reads() {
    let policy = read("rampart-audit.json");
    lint_clean("rampart-audit.json", &policy);
    let apis = apis_called(&[
        "account.rs",
        "region.rs",
        "org.rs",
        "lib.rs",
        "access.rs",
        "identity.rs",
        "alerting.rs",
        "findings.rs",
    ]);
    assert!(apis.len() > 50, "{apis:?}");
    let mut needed = BTreeSet::new();
    for api in &apis {
        let action = iam_action(api);
        let resource = if action == "sts:AssumeRole" {
            "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"
        } else {
            "*"
        };
        assert!(
            allowed(&policy, &action, resource),
            "rampart-audit.json does not allow {action} (called as {api})"
        );
        needed.insert(action.to_lowercase());
    }
    for action in actions_in(&policy) {
        assert!(
            needed.contains(&action),
            "rampart-audit.json allows {action}, which the collector never calls"
        );
        let verb = action.split(':').nth(1).unwrap();
        assert!(
            ["get", "list", "describe", "generate", "assumerole"]
                .iter()
                .any(|p| verb.starts_with(p)),
            "rampart-audit.json allows a state-changing action: {action}"
        );
    }
}

#[test]
fn the_apply_policy_allows_what_apply_calls() {
    let policy = read("rampart-apply.json");
    lint_clean("rampart-apply.json", &policy);
    let mut apis = apis_called(&["apply.rs", "apply/identity.rs", "apply/alerting.rs"]);
    // Calls whose names only appear inside messages, and what the SDK calls need implicitly.
    for extra in [
        "organizations:DescribeOrganization",
        "organizations:TagResource",
        "kms:TagResource",
        // Permission sets are created with the `rampart:managed` tag.
        "sso:TagResource",
        // Members are entered through the collector's AssumeRole (access.rs).
        "sts:AssumeRole",
    ] {
        apis.insert(extra.into());
    }
    assert!(apis.len() > 30, "{apis:?}");
    let mut needed = BTreeSet::new();
    for api in &apis {
        let action = iam_action(api);
        let resource = match action.as_str() {
            "sts:AssumeRole" => "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole",
            "iam:CreateRole" | "iam:PutRolePolicy" => {
                "arn:aws:iam::222222222222:role/rampart-cloudtrail-logs"
            }
            "iam:AttachRolePolicy" => "arn:aws:iam::222222222222:role/rampart-config-aggregator",
            "iam:CreateServiceLinkedRole" => {
                "arn:aws:iam::222222222222:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
            }
            _ => "*",
        };
        assert!(
            allowed(&policy, &action, resource),
            "rampart-apply.json does not allow {action} (called as {api})"
        );
        needed.insert(action.to_lowercase());
    }
    // Passing the trail's delivery role to CloudTrail, and only that role.
    assert!(allowed(
        &policy,
        "iam:PassRole",
        "arn:aws:iam::222222222222:role/rampart-cloudtrail-logs"
    ));
    assert!(!allowed(
        &policy,
        "iam:PassRole",
        "arn:aws:iam::222222222222:role/Admin"
    ));
    assert!(!allowed(
        &policy,
        "iam:CreateRole",
        "arn:aws:iam::222222222222:role/Admin"
    ));
    assert!(!allowed(
        &policy,
        "sts:AssumeRole",
        "arn:aws:iam::222222222222:role/Admin"
    ));
    for action in actions_in(&policy) {
        assert!(
            needed.contains(&action) || ["iam:getrole", "iam:passrole"].contains(&action.as_str()),
            "rampart-apply.json allows {action}, which apply never calls"
        );
    }
    // Nothing that deletes, except in Identity Center, which `[identity]` converges (a retired
    // permission set, group, assignment, inline policy or boundary).
    assert!(actions_in(&policy).iter().all(|a| !a.contains(":delete")
        || a.starts_with("sso:")
        || a.starts_with("identitystore:")));
}

/// `service:Action` names in the non-test part of a rampart-aws source file.
fn actions_named(file: &str, services: &[&str]) -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo().join("crates/rampart-aws/src").join(file)).unwrap();
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let re = regex::Regex::new(r#""([a-z0-9-]+):([A-Z][A-Za-z0-9]+)"#).unwrap();
    let quoted_in_message = regex::Regex::new(r"\b([a-z0-9-]+):([A-Z][A-Za-z0-9]+)\b").unwrap();
    let mut out = BTreeSet::new();
    for c in re
        .captures_iter(code)
        .chain(quoted_in_message.captures_iter(code))
    {
        if services.contains(&&c[1]) {
            out.insert(format!("{}:{}", &c[1], &c[2]));
        }
    }
    out
}

fn allowed_with(policy: &str, action: &str, resource: &str, service: &str) -> bool {
    let p = parse_policy(policy).unwrap();
    let set = PolicySet {
        identity: vec![p],
        ..Default::default()
    };
    let mut req = Request {
        action: action.to_string(),
        resource: resource.to_string(),
        principal: Some("arn:aws:iam::222222222222:role/rampart".into()),
        ..Default::default()
    };
    req.context.insert(
        "iam:PassedToService".into(),
        rampart_policy::ContextValue::String(service.into()),
    );
    evaluate(&req, &set)
        .explain
        .layers
        .iter()
        .any(|l| l.layer == Layer::IdentityPolicy && l.result == Decision::Allowed)
}

#[test]
fn the_hunt_policy_allows_what_the_emr_serverless_submission_calls() {
    let policy = read("rampart-hunt.json");
    lint_clean("rampart-hunt.json", &policy);
    // the submission's own calls, and the S3 calls of the session it uploads and reads with
    let mut apis = actions_named("emr.rs", &["emr-serverless", "s3"]);
    apis.extend(actions_named("objects.rs", &["s3"]));
    for must in [
        "emr-serverless:StartJobRun",
        "emr-serverless:GetJobRun",
        "s3:PutObject",
        "s3:GetObject",
        "s3:ListObjectsV2",
    ] {
        assert!(
            apis.contains(must),
            "{must} not found in the code: {apis:?}"
        );
    }
    let mut needed = BTreeSet::new();
    for api in &apis {
        let action = match api.as_str() {
            "s3:ListObjectsV2" => "s3:ListBucket".to_string(),
            a => iam_action(a),
        };
        let resource = if action.starts_with("emr-serverless:") {
            "arn:aws:emr-serverless:eu-west-1:222222222222:/applications/00fabc123"
        } else {
            "arn:aws:s3:::staging-bucket/rampart/runs/hunt-1/job/job.json"
        };
        assert!(
            allowed(&policy, &action, resource),
            "rampart-hunt.json does not allow {action} (called as {api})"
        );
        needed.insert(action.to_lowercase());
    }
    // the job's role is passed to EMR Serverless, and to nothing else
    let role = "arn:aws:iam::222222222222:role/rampart-hunt-job";
    assert!(allowed_with(
        &policy,
        "iam:PassRole",
        role,
        "emr-serverless.amazonaws.com"
    ));
    assert!(!allowed_with(
        &policy,
        "iam:PassRole",
        role,
        "ec2.amazonaws.com"
    ));
    for action in actions_in(&policy) {
        assert!(
            needed.contains(&action) || action == "iam:passrole",
            "rampart-hunt.json allows {action}, which the submission never calls"
        );
    }
    // the job's own role reads the trail and writes alerts, nothing more
    let job = read("rampart-hunt-job-role.json");
    lint_clean("rampart-hunt-job-role.json", &job);
    let job_actions = actions_in(&job);
    for a in [
        "s3:getobject",
        "s3:listbucket",
        "s3:putobject",
        "kms:decrypt",
    ] {
        assert!(
            job_actions.contains(a),
            "rampart-hunt-job-role.json lacks {a}"
        );
    }
    assert!(
        job_actions
            .iter()
            .all(|a| a.starts_with("s3:") || a == "kms:decrypt")
    );
}

/// The resource (and context) each respond action is authorized on.
fn respond_request(action: &str) -> Request {
    let resource = match action.split(':').next().unwrap_or("") {
        "iam" if action.contains("Role") => "arn:aws:iam::222222222222:role/Dev",
        "iam" => "arn:aws:iam::222222222222:user/alice",
        "s3" if action.contains("Account") => "*",
        "s3" => "arn:aws:s3:::public-data",
        "sts" if action == "sts:AssumeRole" => {
            "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"
        }
        "ec2" if action == "ec2:CreateTags" => "arn:aws:ec2:us-east-1::snapshot/snap-1",
        _ => "*",
    };
    let mut req = Request {
        action: action.to_string(),
        resource: resource.to_string(),
        principal: Some("arn:aws:iam::222222222222:role/rampart".into()),
        ..Default::default()
    };
    req.context.insert(
        "ec2:CreateAction".into(),
        rampart_policy::ContextValue::String("CreateSnapshot".into()),
    );
    req
}

fn allows(policy: &str, req: &Request) -> bool {
    let set = PolicySet {
        identity: vec![parse_policy(policy).unwrap()],
        ..Default::default()
    };
    evaluate(req, &set)
        .explain
        .layers
        .iter()
        .any(|l| l.layer == Layer::IdentityPolicy && l.result == Decision::Allowed)
}

#[test]
fn the_respond_policy_allows_exactly_what_respond_calls() {
    let policy = read("rampart-respond.json");
    lint_clean("rampart-respond.json", &policy);
    let apis = actions_named(
        "respond.rs",
        &[
            "iam",
            "cloudtrail",
            "guardduty",
            "config",
            "s3",
            "s3control",
            "ec2",
            "sts",
        ],
    );
    let mut needed = BTreeSet::new();
    for api in &apis {
        let action = match api.as_str() {
            "s3:DeletePublicAccessBlock" => "s3:PutBucketPublicAccessBlock".to_string(),
            "s3control:DeletePublicAccessBlock" => "s3:PutAccountPublicAccessBlock".to_string(),
            a => iam_action(a),
        };
        assert!(
            allows(&policy, &respond_request(&action)),
            "rampart-respond.json does not allow {action} (called as {api})"
        );
        needed.insert(action.to_lowercase());
    }
    // Members are entered through the collector's AssumeRole (access.rs).
    needed.insert("sts:assumerole".into());
    // What the docs list per action is what the code calls.
    let declared: BTreeSet<String> = rampart_respond::ACTIONS
        .iter()
        .flat_map(|a| a.permissions())
        .map(|p| p.to_lowercase())
        .collect();
    let called: BTreeSet<String> = needed
        .iter()
        .filter(|a| !a.starts_with("sts:"))
        .cloned()
        .collect();
    assert_eq!(
        called, declared,
        "Action::permissions() and respond.rs differ"
    );
    for action in actions_in(&policy) {
        assert!(
            needed.contains(&action),
            "rampart-respond.json allows {action}, which respond never calls"
        );
    }
    // IAM itself keeps rampart's own role and the break-glass role out of reach.
    for role in ["OrganizationAccountAccessRole", "BreakGlass"] {
        let mut req = respond_request("iam:PutRolePolicy");
        req.resource = format!("arn:aws:iam::222222222222:role/{role}");
        assert!(!allows(&policy, &req), "{role} can be quarantined");
    }
    // Deletes: only the login profile, quarantine's own inline policies and bucket policies.
    let deletes: Vec<String> = actions_in(&policy)
        .into_iter()
        .filter(|a| a.contains(":delete"))
        .collect();
    assert_eq!(
        deletes,
        [
            "iam:deleteloginprofile",
            "iam:deleterolepolicy",
            "iam:deleteuserpolicy",
            "s3:deletebucketpolicy"
        ]
    );
}

/// The sandbox role of `rampart drill` (policies/rampart-drill.json): every call a scenario
/// makes and every call of canary removal and leftover search, only on `rampart-drill-…`
/// resources (listing aside), and nothing else.
#[test]
fn the_drill_policy_allows_what_drills_call_on_canaries_only() {
    let policy = read("rampart-drill.json");
    lint_clean("rampart-drill.json", &policy);
    // the scenarios' calls, as CloudTrail names them, and the literal calls of rampart-aws
    let mut apis: BTreeSet<String> = rampart_drill::Scenario::ALL
        .iter()
        .flat_map(|s| s.plan("t").steps)
        .map(|st| {
            format!(
                "{}:{}",
                st.event_source.trim_end_matches(".amazonaws.com"),
                st.event_name
            )
        })
        .collect();
    let re = regex::Regex::new(r#"failed\(\s*"([a-z0-9-]+:[A-Za-z0-9]+)""#).unwrap();
    let text = std::fs::read_to_string(repo().join("crates/rampart-aws/src/drill.rs")).unwrap();
    apis.extend(re.captures_iter(&text).map(|c| c[1].to_string()));
    for must in ["iam:ListUsers", "s3:DeleteBucket", "cloudtrail:DeleteTrail"] {
        assert!(apis.contains(must), "{must} not found: {apis:?}");
    }
    let mut needed = BTreeSet::new();
    for api in &apis {
        let mut actions = vec![match api.as_str() {
            // S3 authorizes removing a bucket's Block Public Access as setting it
            "s3:DeleteBucketPublicAccessBlock" => "s3:PutBucketPublicAccessBlock".to_string(),
            a => iam_action(a),
        }];
        // tags given at creation need the tagging permission too
        match api.as_str() {
            "iam:CreateUser" => actions.push("iam:TagUser".into()),
            "cloudtrail:CreateTrail" => actions.push("cloudtrail:AddTags".into()),
            _ => {}
        }
        for action in actions {
            let (canary, other) = match action.split(':').next().unwrap() {
                "iam" => (
                    "arn:aws:iam::210987654321:user/rampart-drill-ak-1",
                    "arn:aws:iam::210987654321:user/alice",
                ),
                "cloudtrail" => (
                    "arn:aws:cloudtrail:us-east-1:210987654321:trail/rampart-drill-trail-1",
                    "arn:aws:cloudtrail:us-east-1:210987654321:trail/org-trail",
                ),
                _ if action == "s3:DeleteObject" => (
                    "arn:aws:s3:::rampart-drill-trail-1/AWSLogs/x.json.gz",
                    "arn:aws:s3:::log-archive/AWSLogs/x.json.gz",
                ),
                _ => (
                    "arn:aws:s3:::rampart-drill-pub-1",
                    "arn:aws:s3:::log-archive",
                ),
            };
            assert!(
                allowed(&policy, &action, canary),
                "rampart-drill.json does not allow {action} (called as {api}) on {canary}"
            );
            let listing = [
                "iam:ListUsers",
                "s3:ListAllMyBuckets",
                "cloudtrail:DescribeTrails",
            ];
            if !listing.contains(&action.as_str()) {
                assert!(
                    !allowed(&policy, &action, other),
                    "rampart-drill.json allows {action} beyond the canaries ({other})"
                );
            }
            needed.insert(action.to_lowercase());
        }
    }
    for action in actions_in(&policy) {
        assert!(
            needed.contains(&action),
            "rampart-drill.json allows {action}, which drills never call"
        );
    }
}

#[test]
fn the_detect_policy_allows_what_the_detect_job_reads_and_deletes() {
    let policy = read("rampart-detect.json");
    lint_clean("rampart-detect.json", &policy);
    // the trail objects (listed, or named by notifications) and the notification queue
    let mut apis = actions_named("queue.rs", &["sqs"]);
    apis.extend(actions_named("objects.rs", &["s3"]));
    for must in [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessageBatch",
        "sqs:GetQueueAttributes",
        "s3:GetObject",
        "s3:ListObjectsV2",
    ] {
        assert!(
            apis.contains(must),
            "{must} not found in the code: {apis:?}"
        );
    }
    // what the detect job's session calls (objects.rs also writes for `hunt`: not this role)
    let used: Vec<&String> = apis
        .iter()
        .filter(|a| {
            a.starts_with("sqs:")
                || ["s3:GetObject", "s3:ListObjectsV2", "s3:GetBucketLocation"]
                    .contains(&a.as_str())
        })
        .collect();
    let queue = "arn:aws:sqs:eu-west-1:222222222222:rampart-trail-events";
    let mut needed = BTreeSet::new();
    for api in used {
        let action = match api.as_str() {
            "s3:ListObjectsV2" => "s3:ListBucket".to_string(),
            "sqs:DeleteMessageBatch" => "sqs:DeleteMessage".to_string(),
            a => iam_action(a),
        };
        let resource = if action.starts_with("sqs:") {
            queue
        } else {
            "arn:aws:s3:::org-trail/AWSLogs/o-abc/x.json.gz"
        };
        assert!(
            allowed(&policy, &action, resource),
            "rampart-detect.json does not allow {action} (called as {api})"
        );
        needed.insert(action.to_lowercase());
    }
    // only that queue
    assert!(!allowed(
        &policy,
        "sqs:DeleteMessage",
        "arn:aws:sqs:eu-west-1:222222222222:payments"
    ));
    for action in actions_in(&policy) {
        assert!(
            needed.contains(&action) || action == "kms:decrypt",
            "rampart-detect.json allows {action}, which the detect job never calls"
        );
    }
}
