//! Exposure: a request that sets a resource policy, adds a permission or shares a snapshot so
//! that anyone, or principals outside the organization, can reach the resource.
//!
//! The verdict on a policy is the policy engine's access analysis (`rampart policy access`):
//! every outsider class the policy names is probed, with its conditions (`aws:PrincipalOrgID`,
//! `aws:PrincipalOrgPaths`, `aws:SourceAccount`, `aws:SourceArn`, `aws:SourceOrgID`) honoured.
//! Requests that carry parameters instead of a document (Lambda and SNS `AddPermission`,
//! EventBridge `PutPermission`) are turned into the statement AWS would add, and judged the
//! same way. The judge runs only on events whose `eventSource`/`eventName` matched.
//!
//! Whether an account is outside the organization needs the organization's account list
//! ([`OrgContext`], from `[detect]` or a snapshot). Without it, grants to named accounts (and,
//! without the organization id, to named organizations) are *unknown*: the rules of each
//! resource family stay silent about them and [`UNKNOWN_MEMBERSHIP`] reports them at a lower
//! severity.

use super::{Builtin, Def, ev};
use crate::ir::{Condition, Judge, Severity};
use crate::runbook::{Contact, Runbook, Step, common, note, sh};
use rampart_policy::access::{self, AccessFinding, Outsider, ResourceKind};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The rule that reports grants to accounts whose membership is unknown.
pub const UNKNOWN_MEMBERSHIP: &str = "RD-EXP-014";

/// What detection knows about the organization.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgContext {
    /// `o-…`, when known.
    pub id: Option<String>,
    /// Every account of the organization, when known (then the id is known too).
    pub accounts: Option<BTreeSet<String>>,
}

/// How surely a grant reaches outside the organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grade {
    /// Anyone, any account, or an account or organization known not to be the organization's.
    Outside,
    /// A named account or organization, while the organization's membership is not known.
    Unknown,
}

/// What a request sets.
enum Grant {
    /// A resource policy document (its JSON text), judged for a kind of resource.
    Policy(ResourceKind, String),
    /// The accounts (`all` for everyone, or an organization / OU ARN) a snapshot or image is
    /// shared with.
    Shared(Vec<String>),
}

/// One resource family: the requests that set its access, how to read what they grant, and
/// the test events of its rule.
struct Family {
    id: &'static str,
    title: &'static str,
    description: &'static str,
    false_positives: &'static [&'static str],
    attack: &'static [&'static str],
    sources: &'static [&'static str],
    names: &'static [&'static str],
    /// What a responder does about the family's alert.
    runbook: fn() -> Runbook,
    /// What a request (its event name and `requestParameters`) grants; `None` when it sets no
    /// access or the document does not parse (AWS refuses such a request).
    read: fn(&str, &Value) -> Option<Grant>,
    /// The events of one test case, one per API of the family that can express it.
    examples: fn(&Case<'_>) -> Vec<Value>,
}

/// The judge of one family: the grants of `grade` its requests make.
#[derive(Debug)]
struct Exposes {
    read: fn(&str, &Value) -> Option<Grant>,
    grade: Grade,
    org: Arc<OrgContext>,
}

/// The access analysis of a policy, remembered by (kind, owner, organization, text): an
/// analysis evaluates thousands of requests, and the same document comes back often (every
/// rule of a family and both grades judge the event; tools re-apply the same policy again and
/// again). Bounded: the memo starts over when full.
fn analyzed(
    text: &str,
    kind: ResourceKind,
    owner: &str,
    org: Option<&str>,
) -> Option<Arc<access::AccessReport>> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    type Key = (ResourceKind, String, Option<String>, String);
    const MAX: usize = 1024;
    static MEMO: OnceLock<Mutex<HashMap<Key, Option<Arc<access::AccessReport>>>>> = OnceLock::new();
    let memo = MEMO.get_or_init(Default::default);
    let key: Key = (
        kind,
        owner.to_string(),
        org.map(str::to_string),
        text.to_string(),
    );
    if let Some(hit) = memo.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return hit;
    }
    let report = access::analyze_text(text, kind, owner, org)
        .ok()
        .map(Arc::new);
    if let Ok(mut m) = memo.lock() {
        if m.len() >= MAX {
            m.clear();
        }
        m.insert(key, report.clone());
    }
    report
}

impl Judge for Exposes {
    fn key(&self) -> &str {
        "exposure"
    }

    fn judge(&self, event: &Value) -> Option<Value> {
        let name = event.get("eventName")?.as_str()?;
        let params = event.get("requestParameters")?;
        let owner = event
            .get("recipientAccountId")
            .or_else(|| event.pointer("/userIdentity/accountId"))
            .and_then(Value::as_str)?;
        let to: Vec<Value> = match (self.read)(name, params)? {
            Grant::Policy(kind, text) => {
                let report = analyzed(&text, kind, owner, self.org.id.as_deref())?;
                // what anyone may do unconditionally, any account may too: not said twice
                let public: Vec<&String> = report
                    .findings
                    .iter()
                    .filter(|f| f.who == Outsider::Public && f.context.is_empty())
                    .flat_map(|f| &f.actions)
                    .collect();
                report
                    .findings
                    .iter()
                    .filter(|f| {
                        f.who != Outsider::AnyAccount
                            || !f.context.is_empty()
                            || !f.actions.iter().all(|a| public.contains(&a))
                    })
                    .filter_map(|f| self.finding(f))
                    .collect()
            }
            Grant::Shared(with) => with
                .iter()
                .filter_map(|w| {
                    let (grade, who) = self.shared(w, owner)?;
                    (grade == self.grade).then(|| json!({"who": who}))
                })
                .collect(),
        };
        if to.is_empty() {
            return None;
        }
        let mut out = Map::new();
        if let Some(r) = resource_name(params) {
            out.insert("resource".into(), r);
        }
        out.insert("to".into(), Value::Array(to));
        if self.grade == Grade::Unknown {
            out.insert(
                "note".into(),
                "the organization's account list is not known: set [detect] organization_id and organization_accounts, or --org-snapshot".into(),
            );
        }
        Some(Value::Object(out))
    }
}

/// The most actions an alert lists per grantee (`s3:*` allows over a hundred).
const ACTIONS_SHOWN: usize = 8;

impl Exposes {
    /// How surely an account is outside the organization (`None`: it is inside).
    fn account(&self, a: &str) -> Option<Grade> {
        match &self.org.accounts {
            Some(accounts) => (!accounts.contains(a)).then_some(Grade::Outside),
            None => Some(Grade::Unknown),
        }
    }

    /// How surely an organization is another one (the analysis never reports the own one).
    fn organization(&self, o: &str) -> Option<Grade> {
        match &self.org.id {
            Some(id) => (id != o).then_some(Grade::Outside),
            None => Some(Grade::Unknown),
        }
    }

    /// One finding of the access analysis as the alert shows it, when it is of this grade.
    fn finding(&self, f: &AccessFinding) -> Option<Value> {
        if network_pinned(&f.context) {
            return None;
        }
        let (grade, mut who) = match &f.who {
            Outsider::Public => (Grade::Outside, "anyone (public)".to_string()),
            Outsider::AnyAccount => (Grade::Outside, "any AWS account".to_string()),
            Outsider::Account(a) => (self.account(a)?, format!("account {a}")),
            Outsider::Organization(o) => (self.organization(o)?, format!("organization {o}")),
            Outsider::Federated(p) if web_identity(p) && !subject_scoped(&f.context) => {
                (Grade::Outside, format!("anyone with a token from {p}"))
            }
            // the organization itself; a service for an unnamed account (confused deputy,
            // `rampart policy access` lists it); SAML, scoped web identity, canonical users
            Outsider::SameOrganization(_) | Outsider::Service(_) | Outsider::Federated(_) => {
                return None;
            }
        };
        if grade != self.grade {
            return None;
        }
        if let Some(p) = f
            .principal
            .as_deref()
            .filter(|p| !p.starts_with("arn:") && p.contains('.'))
        {
            who.push_str(&format!(" through {p}"));
        }
        let mut item = Map::new();
        item.insert("who".into(), who.into());
        item.insert(
            "actions".into(),
            f.actions
                .iter()
                .take(ACTIONS_SHOWN)
                .cloned()
                .collect::<Vec<_>>()
                .into(),
        );
        if f.actions.len() > ACTIONS_SHOWN {
            item.insert(
                "more_actions".into(),
                (f.actions.len() - ACTIONS_SHOWN).into(),
            );
        }
        if !f.context.is_empty() {
            item.insert("needs".into(), json!(f.context));
        }
        Some(Value::Object(item))
    }

    /// Whom a share with `with` reaches (`None`: the owner or the organization).
    fn shared(&self, with: &str, owner: &str) -> Option<(Grade, String)> {
        if with.eq_ignore_ascii_case("all") {
            return Some((Grade::Outside, "anyone (public)".into()));
        }
        if with == owner {
            return None;
        }
        if is_account(with) {
            return Some((self.account(with)?, format!("account {with}")));
        }
        // arn:aws:organizations::<management>:organization/o-x or …:ou/o-x/ou-y
        let org = with.split(['/', ':']).find(|p| p.starts_with("o-"))?;
        Some((
            self.organization(org)?,
            format!("organization {org} ({with})"),
        ))
    }
}

/// Whether a finding needs the caller to come from a fixed network (a VPC, an endpoint, an
/// address range other than everything): AWS does not call such a grant public.
fn network_pinned(context: &BTreeMap<String, String>) -> bool {
    context
        .iter()
        .any(|(k, v)| match k.to_ascii_lowercase().as_str() {
            "aws:sourcevpc" | "aws:sourcevpce" => true,
            "aws:sourceip" => v
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| !ip.is_unspecified()),
            _ => false,
        })
}

/// A web identity access is scoped when it needs a `…:sub` condition to name a subject. An
/// access that holds with any subject the token carries (the analysis's
/// [`access::ANY_OTHER_VALUE`], as for a bare `"*"` pattern) scopes nothing.
fn subject_scoped(context: &std::collections::BTreeMap<String, String>) -> bool {
    context
        .iter()
        .any(|(k, v)| k.ends_with(":sub") && v != access::ANY_OTHER_VALUE)
}

/// OpenID Connect providers and the public web identity providers: anyone can get a token.
fn web_identity(p: &str) -> bool {
    p.contains(":oidc-provider/")
        || matches!(
            p,
            "cognito-identity.amazonaws.com"
                | "accounts.google.com"
                | "graph.facebook.com"
                | "www.amazon.com"
        )
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The parameter naming the resource, for the alert.
fn resource_name(params: &Value) -> Option<Value> {
    const KEYS: &[&str] = &[
        "bucketName",
        "queueUrl",
        "topicArn",
        "keyId",
        "functionName",
        "layerName",
        "repositoryName",
        "secretId",
        "domainName",
        "fileSystemId",
        "vaultName",
        "eventBusName",
        "roleName",
        "snapshotId",
        "imageId",
        "dBSnapshotIdentifier",
        "dBClusterSnapshotIdentifier",
        "name",
    ];
    KEYS.iter()
        .find_map(|k| get_ci(params, k).filter(|v| v.is_string()).cloned())
}

// -------------------------------------------------------------------------- reading requests

/// `key` of an object, in any case (CloudTrail writes `attributes`, the API `Attributes`).
fn get_ci<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    let m = v.as_object()?;
    m.get(key).or_else(|| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn str_ci<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    get_ci(v, key)?.as_str()
}

/// A policy document as a request logs it: an object, a JSON string, or a URL-encoded JSON
/// string (IAM documents its policy parameters as URL-encoded).
fn policy_text(v: &Value) -> Option<String> {
    match v {
        Value::Object(_) => serde_json::to_string(v).ok(),
        Value::String(s) => {
            let t = s.trim();
            if t.starts_with('{') {
                return Some(t.to_string());
            }
            let decoded = percent_decode(t)?;
            decoded.trim_start().starts_with('{').then_some(decoded)
        }
        _ => None,
    }
}

/// `%XX` escapes decoded (`+` is left alone: policies are not form-encoded).
fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return None;
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn policy(kind: ResourceKind, v: Option<&Value>) -> Option<Grant> {
    Some(Grant::Policy(kind, policy_text(v?)?))
}

/// A one-statement policy, as AWS writes the statement a permission API adds.
fn statement_policy(kind: ResourceKind, statement: Value) -> Option<Grant> {
    let doc = json!({"Version": "2012-10-17", "Statement": [statement]});
    Some(Grant::Policy(kind, doc.to_string()))
}

/// A principal parameter (`*`, an account, an ARN, a service) as a policy `Principal`.
fn principal_of(p: &str) -> Value {
    if p == "*" {
        json!("*")
    } else if is_account(p) || p.starts_with("arn:") {
        json!({"AWS": p})
    } else {
        json!({"Service": p})
    }
}

/// A list parameter (`["a", "b"]`, `"a"`, `{"items": [...]}`) as strings.
fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(o @ Value::Object(_)) => strings(get_ci(o, "items")),
        _ => Vec::new(),
    }
}

fn read_s3(name: &str, p: &Value) -> Option<Grant> {
    match name {
        "PutBucketPolicy" => policy(ResourceKind::S3, get_ci(p, "bucketPolicy")),
        _ => policy(ResourceKind::S3, get_ci(p, "policy")),
    }
}

fn read_sqs(_: &str, p: &Value) -> Option<Grant> {
    policy(
        ResourceKind::Sqs,
        get_ci(get_ci(p, "attributes")?, "Policy"),
    )
}

fn read_sns(name: &str, p: &Value) -> Option<Grant> {
    match name {
        "SetTopicAttributes" if str_ci(p, "attributeName")?.eq_ignore_ascii_case("Policy") => {
            policy(ResourceKind::Sns, get_ci(p, "attributeValue"))
        }
        "CreateTopic" => policy(
            ResourceKind::Sns,
            get_ci(get_ci(p, "attributes")?, "Policy"),
        ),
        "AddPermission" => {
            let accounts = strings(get_ci(p, "aWSAccountId").or_else(|| get_ci(p, "awsAccountId")));
            let actions: Vec<String> = strings(get_ci(p, "actionName"))
                .into_iter()
                .map(|a| {
                    if a.contains(':') {
                        a
                    } else {
                        format!("sns:{a}")
                    }
                })
                .collect();
            if accounts.is_empty() || actions.is_empty() {
                return None;
            }
            statement_policy(
                ResourceKind::Sns,
                json!({"Effect": "Allow", "Principal": {"AWS": accounts}, "Action": actions, "Resource": "*"}),
            )
        }
        _ => None,
    }
}

fn read_kms(_: &str, p: &Value) -> Option<Grant> {
    // CreateKey without a policy gets the default one: the owner account only
    policy(ResourceKind::Kms, get_ci(p, "policy"))
}

fn read_lambda(name: &str, p: &Value) -> Option<Grant> {
    let principal = str_ci(p, "principal")?;
    let action = str_ci(p, "action")?;
    let action = if action.contains(':') {
        action.to_string()
    } else {
        format!("lambda:{action}")
    };
    let mut cond = Map::new();
    let mut add = |op: &str, key: &str, v: &str| {
        let e = cond.entry(op.to_string()).or_insert_with(|| json!({}));
        e[key] = v.into();
    };
    if name.starts_with("AddLayerVersionPermission") {
        if let Some(o) = str_ci(p, "organizationId") {
            add("StringEquals", "aws:PrincipalOrgID", o);
        }
    } else {
        if let Some(a) = str_ci(p, "sourceAccount") {
            add("StringEquals", "aws:SourceAccount", a);
        }
        if let Some(a) = str_ci(p, "sourceArn") {
            add("ArnLike", "aws:SourceArn", a);
        }
        if let Some(o) = str_ci(p, "principalOrgID") {
            add("StringEquals", "aws:PrincipalOrgID", o);
        }
    }
    let mut st = json!({"Effect": "Allow", "Principal": principal_of(principal), "Action": action, "Resource": "*"});
    if !cond.is_empty() {
        st["Condition"] = Value::Object(cond);
    }
    statement_policy(ResourceKind::Lambda, st)
}

fn read_ecr(_: &str, p: &Value) -> Option<Grant> {
    policy(ResourceKind::Ecr, get_ci(p, "policyText"))
}

fn read_secrets(_: &str, p: &Value) -> Option<Grant> {
    policy(ResourceKind::SecretsManager, get_ci(p, "resourcePolicy"))
}

fn read_opensearch(_: &str, p: &Value) -> Option<Grant> {
    policy(ResourceKind::OpenSearch, get_ci(p, "accessPolicies"))
}

fn read_efs(_: &str, p: &Value) -> Option<Grant> {
    policy(ResourceKind::Efs, get_ci(p, "policy"))
}

fn read_glacier(_: &str, p: &Value) -> Option<Grant> {
    // the request body is `{"policy": {"Policy": "<document>"}}`
    let v = get_ci(p, "policy")?;
    let inner = get_ci(v, "policy").filter(|i| i.is_string()).unwrap_or(v);
    policy(ResourceKind::Glacier, Some(inner))
}

fn read_eventbridge(_: &str, p: &Value) -> Option<Grant> {
    if let Some(doc) = get_ci(p, "policy") {
        return policy(ResourceKind::EventBridge, Some(doc));
    }
    let principal = str_ci(p, "principal")?;
    let action = str_ci(p, "action").unwrap_or("events:PutEvents");
    let mut st = json!({"Effect": "Allow", "Principal": principal_of(principal), "Action": action, "Resource": "*"});
    if let Some(c) = get_ci(p, "condition") {
        let (op, key, value) = (str_ci(c, "type")?, str_ci(c, "key")?, str_ci(c, "value")?);
        st["Condition"] = json!({op: {key: value}});
    }
    statement_policy(ResourceKind::EventBridge, st)
}

fn read_trust(name: &str, p: &Value) -> Option<Grant> {
    let key = if name == "CreateRole" {
        "assumeRolePolicyDocument"
    } else {
        "policyDocument"
    };
    policy(ResourceKind::Trust, get_ci(p, key))
}

fn read_sharing(name: &str, p: &Value) -> Option<Grant> {
    let mut with = Vec::new();
    match name {
        "ModifyDBSnapshotAttribute" | "ModifyDBClusterSnapshotAttribute" => {
            if !str_ci(p, "attributeName")?.eq_ignore_ascii_case("restore") {
                return None;
            }
            with = strings(get_ci(p, "valuesToAdd"));
        }
        _ => {
            let attr = if name == "ModifyImageAttribute" {
                "launchPermission"
            } else {
                "createVolumePermission"
            };
            if let Some(add) = get_ci(p, attr).and_then(|a| get_ci(a, "add")) {
                let items = get_ci(add, "items").unwrap_or(add);
                let items: Vec<&Value> = match items {
                    Value::Array(a) => a.iter().collect(),
                    one => vec![one],
                };
                for item in items {
                    for k in [
                        "userId",
                        "group",
                        "organizationArn",
                        "organizationalUnitArn",
                    ] {
                        with.extend(str_ci(item, k).map(str::to_string));
                    }
                }
            }
            // the flat form (`operationType: add` with `userIds` / `groupNames`)
            if str_ci(p, "operationType").is_some_and(|o| o.eq_ignore_ascii_case("add")) {
                for k in [
                    "userIds",
                    "userId",
                    "groupNames",
                    "userGroups",
                    "organizationArns",
                    "organizationalUnitArns",
                ] {
                    with.extend(strings(get_ci(p, k)));
                }
            }
        }
    }
    (!with.is_empty()).then_some(Grant::Shared(with))
}

// ------------------------------------------------------------------------------ test events

/// One kind of test event; each family renders it for each of its APIs that can express it.
#[derive(Debug, Clone, Copy)]
enum Case<'a> {
    /// Allow to `*`.
    Public,
    /// Allow to one account.
    Account(&'a str),
    /// Allow to `*` with `aws:PrincipalOrgID` (to a principal of that organization).
    Org(&'a str),
    /// Allow to a service principal acting for one account (`aws:SourceAccount`).
    ServiceFor(&'a str),
    /// Allow to a service principal acting for a resource of one account (`aws:SourceArn`).
    ServiceArnFor(&'a str),
    /// Deny to `*` only.
    DenyOnly,
    /// A document that does not parse.
    Malformed,
    /// Allow to `*` from one address range only.
    Network,
}

/// The test case as a policy document for `action`, with `service` as the service principal.
fn doc(case: &Case<'_>, action: &str, service: &str) -> Value {
    let prefix = action.split(':').next().unwrap_or("x");
    let allow = |principal: Value, cond: Value| {
        let mut st =
            json!({"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"});
        if !cond.is_null() {
            st["Condition"] = cond;
        }
        json!({"Version": "2012-10-17", "Statement": [st]})
    };
    match *case {
        Case::Public => allow(json!("*"), Value::Null),
        Case::Account(a) => allow(
            json!({"AWS": format!("arn:aws:iam::{a}:root")}),
            Value::Null,
        ),
        Case::Org(o) => allow(
            json!("*"),
            json!({"StringEquals": {"aws:PrincipalOrgID": o}}),
        ),
        Case::ServiceFor(a) => allow(
            json!({"Service": service}),
            json!({"StringEquals": {"aws:SourceAccount": a}}),
        ),
        Case::ServiceArnFor(a) => allow(
            json!({"Service": service}),
            json!({"ArnLike": {"aws:SourceArn": format!("arn:aws:{prefix}:eu-west-1:{a}:*")}}),
        ),
        Case::DenyOnly => {
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": action, "Resource": "*"}]})
        }
        Case::Malformed => json!(format!(
            "{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"{action}\""
        )),
        Case::Network => allow(
            json!("*"),
            json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
        ),
    }
}

/// A document as APIs that take a string log it (a string stays as it is).
fn text(v: Value) -> Value {
    match v {
        Value::String(_) => v,
        other => Value::String(other.to_string()),
    }
}

fn examples_s3(c: &Case<'_>) -> Vec<Value> {
    let s3 = "s3.amazonaws.com";
    let d = doc(c, "s3:GetObject", "cloudtrail.amazonaws.com");
    vec![
        ev(
            s3,
            "PutBucketPolicy",
            json!({"requestParameters": {"bucketName": "b", "bucketPolicy": d.clone(), "Host": "b.s3.eu-west-1.amazonaws.com", "policy": ""}}),
        ),
        ev(
            s3,
            "PutAccessPointPolicy",
            json!({"requestParameters": {"accountId": "111122223333", "name": "ap", "policy": text(d)}}),
        ),
    ]
}

fn examples_sqs(c: &Case<'_>) -> Vec<Value> {
    let d = text(doc(c, "sqs:SendMessage", "sns.amazonaws.com"));
    let sqs = "sqs.amazonaws.com";
    vec![
        ev(
            sqs,
            "SetQueueAttributes",
            json!({"requestParameters": {"queueUrl": "https://sqs.eu-west-1.amazonaws.com/111122223333/q", "attributes": {"Policy": d.clone()}}}),
        ),
        ev(
            sqs,
            "CreateQueue",
            json!({"requestParameters": {"queueName": "q", "attributes": {"Policy": d, "VisibilityTimeout": "30"}}}),
        ),
    ]
}

fn examples_sns(c: &Case<'_>) -> Vec<Value> {
    let d = text(doc(c, "sns:Publish", "events.amazonaws.com"));
    let sns = "sns.amazonaws.com";
    let topic = "arn:aws:sns:eu-west-1:111122223333:t";
    let mut v = vec![
        ev(
            sns,
            "SetTopicAttributes",
            json!({"requestParameters": {"topicArn": topic, "attributeName": "Policy", "attributeValue": d.clone()}}),
        ),
        ev(
            sns,
            "CreateTopic",
            json!({"requestParameters": {"name": "t", "attributes": {"Policy": d}}}),
        ),
    ];
    // AddPermission names accounts only: the account a case names (`*` for anyone)
    let account = match *c {
        Case::Public => Some("*"),
        Case::Account(a) | Case::ServiceFor(a) | Case::ServiceArnFor(a) => Some(a),
        _ => None,
    };
    if let Some(a) = account {
        v.push(ev(sns, "AddPermission", json!({"requestParameters": {"topicArn": topic, "label": "share", "aWSAccountId": [a], "actionName": ["Publish", "Subscribe"]}})));
    }
    v
}

fn examples_kms(c: &Case<'_>) -> Vec<Value> {
    let d = text(doc(c, "kms:Decrypt", "cloudtrail.amazonaws.com"));
    let kms = "kms.amazonaws.com";
    vec![
        ev(
            kms,
            "PutKeyPolicy",
            json!({"requestParameters": {"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "policyName": "default", "policy": d.clone()}}),
        ),
        ev(
            kms,
            "CreateKey",
            json!({"requestParameters": {"keyUsage": "ENCRYPT_DECRYPT", "keySpec": "SYMMETRIC_DEFAULT", "policy": d}}),
        ),
    ]
}

fn examples_lambda(c: &Case<'_>) -> Vec<Value> {
    let lambda = "lambda.amazonaws.com";
    let function = |extra: Value| {
        let mut p =
            json!({"functionName": "f", "statementId": "s", "action": "lambda:InvokeFunction"});
        if let (Some(p), Value::Object(e)) = (p.as_object_mut(), extra) {
            p.extend(e);
        }
        [
            "AddPermission20150331v2",
            "AddPermission20150331",
            "AddPermission",
        ]
        .map(|n| ev(lambda, n, json!({"requestParameters": p.clone()})))
        .to_vec()
    };
    let layer = |extra: Value| {
        let mut p = json!({"layerName": "l", "versionNumber": 1, "statementId": "s", "action": "lambda:GetLayerVersion"});
        if let (Some(p), Value::Object(e)) = (p.as_object_mut(), extra) {
            p.extend(e);
        }
        [
            "AddLayerVersionPermission20181031",
            "AddLayerVersionPermission",
        ]
        .map(|n| ev(lambda, n, json!({"requestParameters": p.clone()})))
        .to_vec()
    };
    let both = |f: Value, l: Value| {
        let mut v = function(f);
        v.extend(layer(l));
        v
    };
    match *c {
        // the Stratus Red Team backdoor: anyone may invoke the function
        Case::Public => both(json!({"principal": "*"}), json!({"principal": "*"})),
        Case::Account(a) => both(json!({"principal": a}), json!({"principal": a})),
        Case::Org(o) => both(
            json!({"principal": "*", "principalOrgID": o}),
            json!({"principal": "*", "organizationId": o}),
        ),
        Case::ServiceFor(a) => {
            function(json!({"principal": "s3.amazonaws.com", "sourceAccount": a}))
        }
        Case::ServiceArnFor(a) => function(
            json!({"principal": "sns.amazonaws.com", "sourceArn": format!("arn:aws:sns:eu-west-1:{a}:t")}),
        ),
        Case::DenyOnly | Case::Network => Vec::new(),
        // a request without a principal (AWS refuses it)
        Case::Malformed => both(json!({}), json!({})),
    }
}

fn examples_ecr(c: &Case<'_>) -> Vec<Value> {
    vec![ev(
        "ecr.amazonaws.com",
        "SetRepositoryPolicy",
        json!({"requestParameters": {"repositoryName": "r", "policyText": text(doc(c, "ecr:BatchGetImage", "codebuild.amazonaws.com"))}}),
    )]
}

fn examples_secrets(c: &Case<'_>) -> Vec<Value> {
    vec![ev(
        "secretsmanager.amazonaws.com",
        "PutResourcePolicy",
        json!({"requestParameters": {"secretId": "s", "resourcePolicy": text(doc(c, "secretsmanager:GetSecretValue", "appsync.amazonaws.com"))}}),
    )]
}

fn examples_opensearch(c: &Case<'_>) -> Vec<Value> {
    let d = text(doc(c, "es:ESHttpGet", "firehose.amazonaws.com"));
    let mut v = Vec::new();
    for source in ["es.amazonaws.com", "opensearch.amazonaws.com"] {
        for name in [
            "CreateDomain",
            "UpdateDomainConfig",
            "CreateElasticsearchDomain",
            "UpdateElasticsearchDomainConfig",
        ] {
            v.push(ev(
                source,
                name,
                json!({"requestParameters": {"domainName": "d", "accessPolicies": d.clone()}}),
            ));
        }
    }
    v
}

fn examples_efs(c: &Case<'_>) -> Vec<Value> {
    vec![ev(
        "elasticfilesystem.amazonaws.com",
        "PutFileSystemPolicy",
        json!({"requestParameters": {"fileSystemId": "fs-1", "policy": text(doc(c, "elasticfilesystem:ClientMount", "backup.amazonaws.com"))}}),
    )]
}

fn examples_glacier(c: &Case<'_>) -> Vec<Value> {
    vec![ev(
        "glacier.amazonaws.com",
        "SetVaultAccessPolicy",
        json!({"requestParameters": {"accountId": "-", "vaultName": "v", "policy": {"policy": text(doc(c, "glacier:InitiateJob", "backup.amazonaws.com"))}}}),
    )]
}

fn examples_eventbridge(c: &Case<'_>) -> Vec<Value> {
    let events = "events.amazonaws.com";
    let put = |p: Value| ev(events, "PutPermission", json!({"requestParameters": p}));
    let mut v = vec![put(
        json!({"eventBusName": "default", "policy": text(doc(c, "events:PutEvents", "sns.amazonaws.com"))}),
    )];
    match *c {
        Case::Public => v.push(put(json!({"eventBusName": "default", "action": "events:PutEvents", "principal": "*", "statementId": "s"}))),
        Case::Account(a) => v.push(put(json!({"eventBusName": "default", "action": "events:PutEvents", "principal": a, "statementId": "s"}))),
        Case::Org(o) => v.push(put(json!({"eventBusName": "default", "action": "events:PutEvents", "principal": "*", "statementId": "s",
            "condition": {"type": "StringEquals", "key": "aws:PrincipalOrgID", "value": o}}))),
        _ => {}
    }
    v
}

fn examples_trust(c: &Case<'_>) -> Vec<Value> {
    let d = text(doc(c, "sts:AssumeRole", "ec2.amazonaws.com"));
    let iam = "iam.amazonaws.com";
    vec![
        ev(
            iam,
            "UpdateAssumeRolePolicy",
            json!({"requestParameters": {"roleName": "r", "policyDocument": d.clone()}}),
        ),
        ev(
            iam,
            "CreateRole",
            json!({"requestParameters": {"roleName": "r", "path": "/", "assumeRolePolicyDocument": d}}),
        ),
    ]
}

fn examples_sharing(c: &Case<'_>) -> Vec<Value> {
    let ec2 = "ec2.amazonaws.com";
    let rds = "rds.amazonaws.com";
    let share = |item: Value, values: Value| {
        vec![
            ev(
                ec2,
                "ModifySnapshotAttribute",
                json!({"requestParameters": {"snapshotId": "snap-1", "attributeType": "CREATE_VOLUME_PERMISSION", "createVolumePermission": {"add": {"items": [item.clone()]}}}}),
            ),
            ev(
                ec2,
                "ModifyImageAttribute",
                json!({"requestParameters": {"imageId": "ami-1", "attributeType": "launchPermission", "launchPermission": {"add": {"items": [item]}}}}),
            ),
            ev(
                rds,
                "ModifyDBSnapshotAttribute",
                json!({"requestParameters": {"dBSnapshotIdentifier": "s", "attributeName": "restore", "valuesToAdd": values.clone()}}),
            ),
            ev(
                rds,
                "ModifyDBClusterSnapshotAttribute",
                json!({"requestParameters": {"dBClusterSnapshotIdentifier": "s", "attributeName": "restore", "valuesToAdd": values}}),
            ),
        ]
    };
    match *c {
        Case::Public => share(json!({"group": "all"}), json!(["all"])),
        Case::Account(a) | Case::ServiceFor(a) | Case::ServiceArnFor(a) => {
            share(json!({"userId": a}), json!([a]))
        }
        Case::Org(o) => vec![ev(
            ec2,
            "ModifyImageAttribute",
            json!({"requestParameters": {"imageId": "ami-1", "launchPermission": {"add": {"items": [
            {"organizationArn": format!("arn:aws:organizations::111122223333:organization/{o}")}]}}}}),
        )],
        // removing a share
        Case::DenyOnly => vec![
            ev(
                ec2,
                "ModifySnapshotAttribute",
                json!({"requestParameters": {"snapshotId": "snap-1", "createVolumePermission": {"remove": {"items": [{"group": "all"}]}}}}),
            ),
            ev(
                rds,
                "ModifyDBSnapshotAttribute",
                json!({"requestParameters": {"dBSnapshotIdentifier": "s", "attributeName": "restore", "valuesToRemove": ["all"]}}),
            ),
        ],
        Case::Malformed => vec![ev(
            rds,
            "ModifyDBSnapshotAttribute",
            json!({"requestParameters": {"dBSnapshotIdentifier": "s", "attributeName": "copy", "valuesToAdd": ["all"]}}),
        )],
        Case::Network => Vec::new(),
    }
}

// ------------------------------------------------------------------------------ the rules

/// The runbook of an exposure family: the same response to a resource opened to outsiders,
/// with the family's own way to `read` the grant and to `remove` it, and what to look for
/// while it was open (`exposed`).
fn exposure_runbook(summary: &str, why: &str, read: Step, remove: Step, exposed: &str) -> Runbook {
    Runbook::new(summary, why)
        .triage([
            read,
            common::read_event(),
            note("Compare the principals in the grant with the organization's accounts: a partner account shared with on purpose has a ticket and a named owner."),
            common::principal_activity(),
            common::confirm_with_owner(),
        ])
        .contain([
            remove,
            note("Restore the reviewed policy from the infrastructure code, or the next deployment puts the grant back (or removes a legitimate one)."),
        ])
        .recover([note(exposed), common::audit_again(), common::record_outcome()])
        .escalate(Contact::SecurityOnCall, "at once when the grant is public or the account is unknown")
        .escalate(Contact::AccountOwner, "to confirm an intended share and record it")
}

const FAMILIES: &[Family] = &[
    Family {
        id: "RD-EXP-001",
        title: "S3 bucket or access point exposed by its policy",
        description: "A bucket policy (`PutBucketPolicy`) or an access point policy (`PutAccessPointPolicy`) lets anyone, any AWS account, or an account or organization outside this one reach the data.",
        false_positives: &[
            "A reviewed public website or download bucket",
            "Data shared with a partner account on purpose",
        ],
        attack: &["T1530"],
        sources: &["s3.amazonaws.com"],
        names: &["PutBucketPolicy", "PutAccessPointPolicy"],
        runbook: || {
            exposure_runbook(
                "Bucket or access point {bucket} was given a policy that lets outsiders reach its data.",
                "A bucket policy open to everyone or to a foreign account exposes every object it covers; data read through it leaves no trace in this account unless data events are logged.",
                sh("Read the policy and whether S3 judges it public.", "aws s3api get-bucket-policy --bucket {bucket} --query Policy --output text").sh("aws s3api get-bucket-policy-status --bucket {bucket}"),
                sh("Remove the policy (then restore its reviewed version without the outside statement), and re-apply Block Public Access.", "aws s3api delete-bucket-policy --bucket {bucket}").sh("aws s3api put-public-access-block --bucket {bucket} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true").respond("remove-public-statement"),
                "Read the bucket's server access logs or S3 data events since the change for requests by outside principals or anonymous callers; what they read is disclosed.",
            )
        },
        read: read_s3,
        examples: examples_s3,
    },
    Family {
        id: "RD-EXP-002",
        title: "SQS queue exposed by its policy",
        description: "A queue policy set by `SetQueueAttributes` or `CreateQueue` (`Policy` attribute) lets outsiders send, receive or manage messages.",
        false_positives: &["A queue that receives events from a partner account on purpose"],
        attack: &["T1537"],
        sources: &["sqs.amazonaws.com"],
        names: &["SetQueueAttributes", "CreateQueue"],
        runbook: || {
            exposure_runbook(
                "An SQS queue was given a policy that lets outsiders send, receive or manage its messages.",
                "An outsider who can receive reads (and deletes) the queue's messages; one who can send injects work into whatever consumes the queue.",
                sh(
                    "Read the queue policy (the queue URL is in the event).",
                    "aws sqs get-queue-attributes --region {region} --queue-url <queue_url> --attribute-names Policy",
                ),
                sh(
                    "Replace the policy with its reviewed version (an empty policy removes it).",
                    "aws sqs set-queue-attributes --region {region} --queue-url <queue_url> --attributes Policy=''",
                ),
                "Check the consumers for messages the outsider could have injected, and whether messages went missing.",
            )
        },
        read: read_sqs,
        examples: examples_sqs,
    },
    Family {
        id: "RD-EXP-003",
        title: "SNS topic exposed by its policy or a permission",
        description: "A topic policy (`SetTopicAttributes` / `CreateTopic` `Policy`) or an `AddPermission` grant lets outsiders publish to or subscribe to the topic.",
        false_positives: &["A topic a partner account subscribes to on purpose"],
        attack: &["T1537"],
        sources: &["sns.amazonaws.com"],
        names: &["SetTopicAttributes", "CreateTopic", "AddPermission"],
        runbook: || {
            exposure_runbook(
                "An SNS topic was opened to outsiders by its policy or a permission.",
                "An outsider who can subscribe receives every notification (often alerts or data); one who can publish sends messages every subscriber trusts.",
                sh("Read the topic policy and its subscriptions (an outside endpoint is a leak).", "aws sns get-topic-attributes --region {region} --topic-arn <topic_arn> --query Attributes.Policy --output text").sh("aws sns list-subscriptions-by-topic --region {region} --topic-arn <topic_arn>"),
                sh("Remove a permission added by AddPermission (its label is in the event), or set the reviewed policy back.", "aws sns remove-permission --region {region} --topic-arn <topic_arn> --label <label>").sh("aws sns unsubscribe --region {region} --subscription-arn <outside_subscription_arn>"),
                "Unsubscribe every endpoint outside the organization and tell the consumers about any message published by an outsider.",
            )
        },
        read: read_sns,
        examples: examples_sns,
    },
    Family {
        id: "RD-EXP-004",
        title: "KMS key exposed by its key policy",
        description: "A key policy set by `PutKeyPolicy` or `CreateKey` lets outsiders use or manage the key (decrypting data encrypted with it, or locking the owner out).",
        false_positives: &["A key shared with a partner account for cross-account encryption"],
        attack: &["T1537"],
        sources: &["kms.amazonaws.com"],
        names: &["PutKeyPolicy", "CreateKey"],
        runbook: || {
            exposure_runbook(
                "KMS key {resource} was given a key policy that lets outsiders use or manage it.",
                "An outsider who can decrypt with the key reads every snapshot, object and secret encrypted under it; one who can manage it can lock this account out of its own data.",
                sh("Read the key policy.", "aws kms get-key-policy --region {region} --key-id {resource} --policy-name default --output text").sh("aws kms list-grants --region {region} --key-id {resource}"),
                sh("Put the reviewed key policy back (without the outside principal), and revoke outside grants.", "aws kms put-key-policy --region {region} --key-id {resource} --policy-name default --policy file://key-policy.json").sh("aws kms revoke-grant --region {region} --key-id {resource} --grant-id <grant_id>"),
                "Look for Decrypt and CreateGrant calls on the key by outside accounts since the change; data they decrypted is disclosed.",
            )
        },
        read: read_kms,
        examples: examples_kms,
    },
    Family {
        id: "RD-EXP-005",
        title: "Lambda function or layer exposed by a permission",
        description: "`AddPermission` (any API version) or `AddLayerVersionPermission` added a statement — built from its `principal`, `sourceAccount`, `sourceArn`, `principalOrgID` / `organizationId` parameters — that lets anyone or an outside account invoke the function or read the layer.",
        false_positives: &[
            "A public layer published on purpose",
            "A function invoked by a partner account",
        ],
        attack: &["T1546", "T1098"],
        sources: &["lambda.amazonaws.com"],
        names: &[
            "AddPermission20150331v2",
            "AddPermission20150331",
            "AddPermission",
            "AddLayerVersionPermission20181031",
            "AddLayerVersionPermission",
        ],
        runbook: || {
            exposure_runbook(
                "Lambda function or layer {resource} was given a permission that lets anyone or an outside account invoke or read it.",
                "Anyone who can invoke a function runs its code with its role's permissions; a readable layer leaks its code and any secrets built into it.",
                sh(
                    "Read the function's resource policy.",
                    "aws lambda get-policy --region {region} --function-name {resource}",
                ),
                sh(
                    "Remove the statement (its id is the event's statementId); for a layer use remove-layer-version-permission.",
                    "aws lambda remove-permission --region {region} --function-name {resource} --statement-id <statement_id>",
                ),
                "Check the function's invocations since the change (CloudWatch metrics and logs) for calls nobody expected.",
            )
        },
        read: read_lambda,
        examples: examples_lambda,
    },
    Family {
        id: "RD-EXP-006",
        title: "ECR repository exposed by its policy",
        description: "A repository policy (`SetRepositoryPolicy`) lets outsiders pull or push images.",
        false_positives: &["A repository shared with a partner account"],
        attack: &["T1530"],
        sources: &["ecr.amazonaws.com"],
        names: &["SetRepositoryPolicy"],
        runbook: || {
            exposure_runbook(
                "An ECR repository was given a policy that lets outsiders pull or push images.",
                "Pulls leak the images (code, embedded credentials); pushes let an outsider replace an image every deployment then runs.",
                sh(
                    "Read the repository policy.",
                    "aws ecr get-repository-policy --region {region} --repository-name <repository_name>",
                ),
                sh(
                    "Delete the policy, then set the reviewed one back.",
                    "aws ecr delete-repository-policy --region {region} --repository-name <repository_name>",
                ),
                "List images pushed since the change (aws ecr describe-images) and redeploy from known digests if any appeared; rotate secrets baked into images that were pullable.",
            )
        },
        read: read_ecr,
        examples: examples_ecr,
    },
    Family {
        id: "RD-EXP-007",
        title: "Secrets Manager secret exposed by its policy",
        description: "A secret's resource policy (`PutResourcePolicy`) lets outsiders read or change the secret.",
        false_positives: &["A secret shared with a partner account on purpose"],
        attack: &["T1552"],
        sources: &["secretsmanager.amazonaws.com"],
        names: &["PutResourcePolicy"],
        runbook: || {
            exposure_runbook(
                "Secret {resource} was given a resource policy that lets outsiders read or change it.",
                "A readable secret is a credential in the outsider's hands (database passwords, API keys); a writable one lets them swap it for theirs.",
                sh(
                    "Read the secret's resource policy.",
                    "aws secretsmanager get-resource-policy --region {region} --secret-id {resource}",
                ),
                sh(
                    "Delete the resource policy (then restore the reviewed one).",
                    "aws secretsmanager delete-resource-policy --region {region} --secret-id {resource}",
                ),
                "Look for GetSecretValue calls by outside accounts since the change; if any, rotate the secret (aws secretsmanager rotate-secret) and the credential it holds.",
            )
        },
        read: read_secrets,
        examples: examples_secrets,
    },
    Family {
        id: "RD-EXP-008",
        title: "OpenSearch domain exposed by its access policy",
        description: "A domain's access policy (`accessPolicies` of `CreateDomain`, `UpdateDomainConfig` or their Elasticsearch names, logged by `es` or `opensearch`) lets outsiders query or change the domain.",
        false_positives: &["A domain in a VPC whose open policy is guarded by security groups"],
        attack: &["T1530"],
        sources: &["es.amazonaws.com", "opensearch.amazonaws.com"],
        names: &[
            "CreateDomain",
            "UpdateDomainConfig",
            "CreateElasticsearchDomain",
            "UpdateElasticsearchDomainConfig",
        ],
        runbook: || {
            exposure_runbook(
                "An OpenSearch domain was given an access policy that lets outsiders query or change it.",
                "An open domain serves its indexes (often logs full of personal data or tokens) to whoever finds it, and can be wiped or ransomed.",
                sh(
                    "Read the domain's access policy and whether it sits in a VPC.",
                    "aws opensearch describe-domain-config --region {region} --domain-name <domain_name> --query DomainConfig.AccessPolicies",
                ),
                sh(
                    "Put the reviewed access policy back.",
                    "aws opensearch update-domain-config --region {region} --domain-name <domain_name> --access-policies file://access-policy.json",
                ),
                "Check the domain's audit or slow logs for queries from outside addresses, and snapshot the indexes before anything else changes.",
            )
        },
        read: read_opensearch,
        examples: examples_opensearch,
    },
    Family {
        id: "RD-EXP-009",
        title: "EFS file system exposed by its policy",
        description: "A file system policy (`PutFileSystemPolicy`) lets outsiders mount or write to the file system.",
        false_positives: &["A file system shared with a partner account"],
        attack: &["T1530"],
        sources: &["elasticfilesystem.amazonaws.com"],
        names: &["PutFileSystemPolicy"],
        runbook: || {
            exposure_runbook(
                "An EFS file system was given a policy that lets outsiders mount or write to it.",
                "Mount access from another account exposes every file; write access lets an outsider plant files the workloads read.",
                sh(
                    "Read the file system policy.",
                    "aws efs describe-file-system-policy --region {region} --file-system-id <file_system_id>",
                ),
                sh(
                    "Delete the policy (then restore the reviewed one).",
                    "aws efs delete-file-system-policy --region {region} --file-system-id <file_system_id>",
                ),
                "Check the mount targets' security groups and the VPC flow logs for NFS (2049) traffic from outside the organization.",
            )
        },
        read: read_efs,
        examples: examples_efs,
    },
    Family {
        id: "RD-EXP-010",
        title: "Glacier vault exposed by its access policy",
        description: "A vault access policy (`SetVaultAccessPolicy`) lets outsiders read or delete archives.",
        false_positives: &["A vault shared with a partner account"],
        attack: &["T1530"],
        sources: &["glacier.amazonaws.com"],
        names: &["SetVaultAccessPolicy"],
        runbook: || {
            exposure_runbook(
                "A Glacier vault was given an access policy that lets outsiders read or delete archives.",
                "Vaults hold backups and archives: an outsider can retrieve them or delete them, destroying the recovery path.",
                sh(
                    "Read the vault access policy.",
                    "aws glacier get-vault-access-policy --region {region} --account-id - --vault-name <vault_name>",
                ),
                sh(
                    "Delete the access policy (then restore the reviewed one).",
                    "aws glacier delete-vault-access-policy --region {region} --account-id - --vault-name <vault_name>",
                ),
                "List retrieval jobs since the change (aws glacier list-jobs) and check the vault inventory for deleted archives.",
            )
        },
        read: read_glacier,
        examples: examples_glacier,
    },
    Family {
        id: "RD-EXP-011",
        title: "EventBridge event bus exposed by a permission",
        description: "`PutPermission` (a `policy`, or `principal` with an optional `condition`) lets outsiders put events on the bus.",
        false_positives: &["A bus that receives events from a partner account"],
        attack: &["T1546"],
        sources: &["events.amazonaws.com"],
        names: &["PutPermission"],
        runbook: || {
            exposure_runbook(
                "An EventBridge event bus was given a permission that lets outsiders put events on it.",
                "Rules on the bus trigger targets (functions, pipelines, automation) from the events they match: an outsider who can put events can drive them.",
                sh(
                    "Read the bus policy.",
                    "aws events describe-event-bus --region {region} --name <event_bus_name>",
                ),
                sh(
                    "Remove the statement (its id is in the event).",
                    "aws events remove-permission --region {region} --event-bus-name <event_bus_name> --statement-id <statement_id>",
                ),
                "Review the bus's rule targets for invocations caused by outside events since the change.",
            )
        },
        read: read_eventbridge,
        examples: examples_eventbridge,
    },
    Family {
        id: "RD-EXP-012",
        title: "IAM role assumable from outside the organization",
        description: "A trust policy set by `UpdateAssumeRolePolicy` or `CreateRole` lets anyone, an outside account or organization, or anyone holding a token of an OpenID Connect provider without a subject condition assume the role: a backdoor into the account.",
        false_positives: &[
            "A role a vendor assumes on purpose (SaaS integrations), ideally with sts:ExternalId",
        ],
        attack: &["T1098", "T1199"],
        sources: &["iam.amazonaws.com"],
        names: &["UpdateAssumeRolePolicy", "CreateRole"],
        runbook: || {
            exposure_runbook(
                "Role {target_role} can now be assumed from outside the organization.",
                "An outside principal in a trust policy is a standing backdoor: it survives password resets and key rotation, and its sessions look like normal role use.",
                sh("Read the trust policy.", "aws iam get-role --role-name {target_role} --query Role.AssumeRolePolicyDocument"),
                sh("Restore the reviewed trust policy, and revoke sessions already opened.", "aws iam update-assume-role-policy --role-name {target_role} --policy-document file://trust-policy.json").sh("aws iam attach-role-policy --role-name {target_role} --policy-arn arn:aws:iam::aws:policy/AWSDenyAll").respond("quarantine-principal"),
                "List AssumeRole calls on the role from outside accounts since the change and review what those sessions did; detach AWSDenyAll once the trust is fixed.",
            )
        },
        read: read_trust,
        examples: examples_trust,
    },
    Family {
        id: "RD-EXP-013",
        title: "Snapshot or AMI shared publicly or outside the organization",
        description: "An EBS snapshot (`ModifySnapshotAttribute` createVolumePermission add), an AMI (`ModifyImageAttribute` launchPermission add) or an RDS snapshot (`ModifyDBSnapshotAttribute` / `ModifyDBClusterSnapshotAttribute` restore values to add) was shared with `all` or with an account or organization outside this one.",
        false_positives: &[
            "A public AMI published on purpose",
            "A snapshot copied to a backup account outside the organization",
        ],
        attack: &["T1537"],
        sources: &["ec2.amazonaws.com", "rds.amazonaws.com"],
        names: &[
            "ModifySnapshotAttribute",
            "ModifyImageAttribute",
            "ModifyDBSnapshotAttribute",
            "ModifyDBClusterSnapshotAttribute",
        ],
        runbook: || {
            exposure_runbook(
                "A snapshot or image ({resource}) was shared publicly or with an account outside the organization.",
                "A shared snapshot is a full copy of a disk or database: the outsider restores it in their account and reads everything, including credentials on it, with no further trace here.",
                sh(
                    "Read who the snapshot or image is shared with (EBS shown; for an AMI describe-image-attribute --attribute launchPermission, for RDS describe-db-snapshot-attributes).",
                    "aws ec2 describe-snapshot-attribute --region {region} --snapshot-id {resource} --attribute createVolumePermission",
                ),
                sh(
                    "Stop sharing (EBS; for an AMI modify-image-attribute --launch-permission Remove=[{Group=all}], for RDS modify-db-snapshot-attribute --attribute-name restore --values-to-remove all).",
                    "aws ec2 modify-snapshot-attribute --region {region} --snapshot-id {resource} --attribute createVolumePermission --operation-type remove --group-names all",
                ),
                "Assume an outsider copied it while shared: rotate every credential stored on the disk or in the database, and review the data it held.",
            )
        },
        read: read_sharing,
        examples: examples_sharing,
    },
];

/// `eventSource ∈ sources AND eventName ∈ names`.
fn calls(f: &Family) -> Condition {
    Condition::All(vec![
        Condition::one_of("eventSource", f.sources),
        Condition::one_of("eventName", f.names),
    ])
}

fn judged(f: &Family, grade: Grade, org: &Arc<OrgContext>) -> Condition {
    Condition::All(vec![
        calls(f),
        Condition::Judge(Arc::new(Exposes {
            read: f.read,
            grade,
            org: org.clone(),
        })),
    ])
}

fn cases(f: &Family, cs: &[Case<'_>]) -> Vec<Value> {
    cs.iter().flat_map(|c| (f.examples)(c)).collect()
}

/// An account outside the organization in test events.
const OUTSIDER: &str = "999988887777";

pub(super) fn rules(org: &OrgContext) -> Vec<Builtin> {
    let shared = Arc::new(org.clone());
    // test events follow what is known: an organization member and the organization's id
    let owner = "111122223333";
    let member = org
        .accounts
        .as_ref()
        .and_then(|a| a.iter().find(|a| *a != owner).cloned())
        .unwrap_or_else(|| "222233334444".into());
    let org_id = org.id.clone().unwrap_or_else(|| "o-exampleorg1".into());
    let mut positive = vec![Case::Public];
    let mut negative = vec![
        Case::Org(&org_id),
        Case::ServiceFor(&member),
        Case::ServiceArnFor(&member),
        Case::DenyOnly,
        Case::Malformed,
        Case::Network,
        Case::Account(owner),
    ];
    if org.accounts.is_some() {
        positive.extend([Case::Account(OUTSIDER), Case::ServiceFor(OUTSIDER)]);
        negative.push(Case::Account(&member));
    } else {
        negative.push(Case::Account(OUTSIDER));
    }
    if org.id.is_some() {
        positive.push(Case::Org("o-otherorg99"));
    }
    let mut out: Vec<Builtin> = FAMILIES
        .iter()
        .map(|f| {
            Def {
                id: f.id,
                title: f.title,
                severity: Severity::High,
                attack: f.attack,
                description: f.description,
                false_positives: f.false_positives,
                condition: judged(f, Grade::Outside, &shared),
                positives: cases(f, &positive),
                negatives: cases(f, &negative),
                runbook: (f.runbook)(),
            }
            .build()
        })
        .collect();
    let mut unknown = Def {
        id: UNKNOWN_MEMBERSHIP,
        title: "Resource shared with accounts of unknown membership",
        severity: Severity::Low,
        attack: &["T1537"],
        description: "A resource policy, permission or snapshot share of the RD-EXP-001 … RD-EXP-013 requests grants access to named accounts (or, without the organization id, organizations), and the organization's account list is not configured, so rampart cannot tell whether they are outside. Configure `[detect] organization_id` and `organization_accounts` (or `--org-snapshot`) to judge them.",
        false_positives: &["Any share with an account of the organization, until its account list is configured"],
        runbook: Runbook::new(
            "A resource was shared with an account whose membership of the organization rampart does not know.",
            "rampart cannot tell a share inside the organization from one with an outsider until the account list is configured: this may be routine, or one of the exposures RD-EXP-001 … RD-EXP-013 describe.",
        )
        .triage([
            common::read_event(),
            sh("Check whether the account in the grant is a member of the organization.", "aws organizations describe-account --account-id <granted_account>"),
            note("An outsider: follow the runbook of the resource's family (`rampart runbook RD-EXP-001` for a bucket, RD-EXP-012 for a role, RD-EXP-013 for a snapshot, …)."),
        ])
        .contain([note(
            "Only for an outsider: remove the grant as the family's runbook says; a member account needs nothing.",
        )])
        .recover([
            note("Configure `[detect] organization_id` and `organization_accounts` (or run detect with `--org-snapshot`) so the exposure rules judge every grant and this rule retires."),
            common::record_outcome(),
        ])
        .escalate(Contact::SecurityOnCall, "when the account is not a member")
        .escalate(Contact::AccountOwner, "to confirm the share"),
        condition: Condition::Any(FAMILIES.iter().map(|f| judged(f, Grade::Unknown, &shared)).collect()),
        positives: FAMILIES.iter().flat_map(|f| cases(f, &[Case::Account(OUTSIDER)])).collect(),
        negatives: FAMILIES
            .iter()
            .flat_map(|f| cases(f, &[Case::Public, Case::DenyOnly, Case::Malformed, Case::Account(owner)]))
            .collect(),
    }
    .build();
    if org.accounts.is_some() {
        unknown.disabled = Some(
            "the organization's accounts are configured: RD-EXP-001 … RD-EXP-013 judge every grant"
                .into(),
        );
    }
    out.push(unknown);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{fires, self_test};

    fn known() -> OrgContext {
        OrgContext {
            id: Some("o-exampleorg1".into()),
            accounts: Some(
                ["111122223333", "222233334444", "333344445555"]
                    .map(String::from)
                    .into(),
            ),
        }
    }

    fn rule<'a>(rules: &'a [Builtin], id: &str) -> &'a Builtin {
        rules
            .iter()
            .find(|b| b.rule.meta.id == id)
            .expect("rule listed")
    }

    /// Every rule's own events, with the organization known, with its id only, and unknown.
    #[test]
    fn own_events_hold_whatever_is_known_of_the_organization() {
        let id_only = OrgContext {
            id: Some("o-exampleorg1".into()),
            accounts: None,
        };
        for org in [known(), id_only, OrgContext::default()] {
            let rules = rules(&org);
            let failures = self_test(&rules);
            assert!(failures.is_empty(), "{org:?}: {failures:#?}");
            for b in &rules {
                assert!(
                    !b.positives.is_empty() && !b.negatives.is_empty(),
                    "{}",
                    b.rule.meta.id
                );
            }
            assert_eq!(
                rule(&rules, UNKNOWN_MEMBERSHIP).disabled.is_some(),
                org.accounts.is_some()
            );
        }
    }

    /// The matched object says what is exposed and to whom.
    #[test]
    fn alert_names_the_resource_and_the_grantee() {
        let rules = rules(&known());
        let b = rule(&rules, "RD-EXP-002");
        let e = ev(
            "sqs.amazonaws.com",
            "SetQueueAttributes",
            json!({"requestParameters": {
            "queueUrl": "https://sqs.eu-west-1.amazonaws.com/111122223333/orders",
            "attributes": {"Policy": "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"999988887777\"},\"Action\":\"sqs:ReceiveMessage\",\"Resource\":\"*\"}]}"}}}),
        );
        let raw = serde_json::to_vec(&e).unwrap();
        let event = crate::event::Event::parse(&raw).unwrap();
        let alert = crate::Alert::new(&b.rule, &event, None);
        let exposure = alert
            .matched()
            .get("exposure")
            .expect("exposure in matched");
        assert_eq!(
            exposure["resource"],
            "https://sqs.eu-west-1.amazonaws.com/111122223333/orders"
        );
        assert_eq!(exposure["to"][0]["who"], "account 999988887777");
        assert_eq!(exposure["to"][0]["actions"], json!(["sqs:ReceiveMessage"]));
        assert_eq!(
            alert.matched().get("eventName"),
            Some(json!("SetQueueAttributes"))
        );
        // anyone's access is not repeated as any account's
        let public = ev(
            "lambda.amazonaws.com",
            "AddPermission20150331v2",
            json!({"requestParameters": {
            "functionName": "f", "statementId": "s", "action": "lambda:InvokeFunction", "principal": "*"}}),
        );
        let found = Exposes {
            read: read_lambda,
            grade: Grade::Outside,
            org: Arc::new(known()),
        }
        .judge(&public)
        .expect("public");
        assert_eq!(
            found["to"],
            json!([{"who": "anyone (public)", "actions": ["lambda:InvokeFunction"]}])
        );
        // the same map as the document-side definition
        let want = crate::engine::matched_fields(&b.rule.condition, &e);
        assert_eq!(alert.matched().to_map(), want);
    }

    /// Documents logged as objects, JSON strings and URL-encoded strings read alike.
    #[test]
    fn policy_forms() {
        let rules = rules(&known());
        let b = rule(&rules, "RD-EXP-012");
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole"}]}"#;
        let encoded: String = doc
            .bytes()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    (c as char).to_string()
                } else {
                    format!("%{c:02X}")
                }
            })
            .collect();
        let forms = [
            json!(doc),
            json!(encoded),
            serde_json::from_str::<Value>(doc).unwrap(),
        ];
        for form in forms {
            let e = ev(
                "iam.amazonaws.com",
                "UpdateAssumeRolePolicy",
                json!({"requestParameters": {"roleName": "r", "policyDocument": form}}),
            );
            assert!(fires(&b.rule, &e), "{e}");
        }
        assert_eq!(
            percent_decode("%7B%22a%22%3A1%7D").as_deref(),
            Some(r#"{"a":1}"#)
        );
        assert_eq!(percent_decode("%7"), Some("%7".into()));
        assert_eq!(percent_decode("%zz"), None);
    }

    /// Trust policies: the owner's own account, services and SAML are not exposure; an open
    /// OpenID Connect trust is, unless it names the token subject.
    #[test]
    fn trust_policies() {
        let rules = rules(&known());
        let b = rule(&rules, "RD-EXP-012");
        let trust = |principal: Value, cond: Value| {
            let mut st = json!({"Effect": "Allow", "Principal": principal, "Action": ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"]});
            if !cond.is_null() {
                st["Condition"] = cond;
            }
            ev(
                "iam.amazonaws.com",
                "CreateRole",
                json!({"requestParameters": {"roleName": "r",
                "assumeRolePolicyDocument": json!({"Version": "2012-10-17", "Statement": [st]}).to_string()}}),
            )
        };
        let oidc = json!({"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"});
        let aud = json!({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}});
        assert!(fires(&b.rule, &trust(oidc.clone(), aud.clone())));
        let sub = json!({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
            "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/app:*"}});
        assert!(!fires(&b.rule, &trust(oidc, sub)));
        assert!(!fires(
            &b.rule,
            &trust(json!({"Service": "ec2.amazonaws.com"}), Value::Null)
        ));
        assert!(!fires(
            &b.rule,
            &trust(
                json!({"Federated": "arn:aws:iam::111122223333:saml-provider/idp"}),
                Value::Null
            )
        ));
        assert!(!fires(
            &b.rule,
            &trust(
                json!({"AWS": "arn:aws:iam::333344445555:role/ci"}),
                Value::Null
            )
        ));
        assert!(fires(
            &b.rule,
            &trust(
                json!({"AWS": "arn:aws:iam::999988887777:role/ci"}),
                Value::Null
            )
        ));
        // the real Stratus Red Team event: the role trusts its own account
        let own = ev(
            "iam.amazonaws.com",
            "CreateRole",
            json!({"recipientAccountId": "123837392027", "requestParameters": {"roleName": "r",
            "assumeRolePolicyDocument": "{\"Statement\":[{\"Action\":[\"sts:AssumeRole\",\"sts:SetSourceIdentity\"],\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"123837392027\"},\"Sid\":\"AllowAssumeRole\"}],\"Version\":\"2012-10-17\"}"}}),
        );
        assert!(!fires(&b.rule, &own));
    }

    /// Sharing with an account: outside fires the family rule; unknown membership only the
    /// low-severity rule; a member neither.
    #[test]
    fn sharing_by_membership() {
        let share = |a: &str| {
            ev(
                "ec2.amazonaws.com",
                "ModifySnapshotAttribute",
                json!({"requestParameters": {"snapshotId": "snap-083d3b857c13988bc",
            "createVolumePermission": {"add": {"items": [{"userId": a}]}}, "attributeType": "CREATE_VOLUME_PERMISSION"}}),
            )
        };
        let with_known = rules(&known());
        let unknown = rules(&OrgContext::default());
        let fam = |r: &[Builtin], a: &str| fires(&rule(r, "RD-EXP-013").rule, &share(a));
        let low = |r: &[Builtin], a: &str| fires(&rule(r, UNKNOWN_MEMBERSHIP).rule, &share(a));
        assert!(fam(&with_known, OUTSIDER));
        assert!(!fam(&with_known, "222233334444"));
        assert!(!fam(&unknown, OUTSIDER));
        assert!(low(&unknown, OUTSIDER));
        assert!(low(&unknown, "222233334444"));
        let b = rule(&unknown, UNKNOWN_MEMBERSHIP);
        let raw = serde_json::to_vec(&share(OUTSIDER)).unwrap();
        let alert = crate::Alert::new(&b.rule, &crate::event::Event::parse(&raw).unwrap(), None);
        let exposure = alert.matched().get("exposure").unwrap();
        assert!(
            exposure["note"]
                .as_str()
                .unwrap()
                .contains("account list is not known")
        );
        assert_eq!(alert.severity(), Severity::Low);
    }

    /// A service principal reaches the account its source condition names.
    #[test]
    fn service_grants_follow_the_source_account() {
        let rules = rules(&known());
        let b = rule(&rules, "RD-EXP-005");
        let add = |extra: Value| {
            let mut p = json!({"functionName": "f", "statementId": "s", "action": "lambda:InvokeFunction", "principal": "s3.amazonaws.com"});
            p.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            ev(
                "lambda.amazonaws.com",
                "AddPermission20150331v2",
                json!({"requestParameters": p}),
            )
        };
        // without a source condition: a confused deputy, not called exposure
        assert!(!fires(&b.rule, &add(json!({}))));
        assert!(fires(&b.rule, &add(json!({"sourceAccount": OUTSIDER}))));
        assert!(!fires(
            &b.rule,
            &add(json!({"sourceAccount": "333344445555"}))
        ));
        assert!(fires(
            &b.rule,
            &add(json!({"sourceArn": "arn:aws:s3:::b", "sourceAccount": OUTSIDER}))
        ));
    }
    /// The bucket policies the former field-test rule judged: the analysis agrees with each.
    #[test]
    fn bucket_policies() {
        let org = OrgContext {
            id: Some("o-abc123".into()),
            accounts: None,
        };
        let rules = rules(&org);
        let b = rule(&rules, "RD-EXP-001");
        let s3 = "s3.amazonaws.com";
        let positives = vec![
            ev(
                s3,
                "PutBucketPolicy",
                json!({"requestParameters": {"bucketName": "b", "bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}]}}}),
            ),
            ev(
                s3,
                "PutBucketPolicy",
                json!({"requestParameters": {"bucketName": "b", "bucketPolicy": {"Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:*"}}}}),
            ),
            // rampart's own TLS-only deny beside a statement that opens the bucket
            ev(
                s3,
                "PutBucketPolicy",
                json!({"requestParameters": {"bucketName": "b", "bucketPolicy": {"Version": "2012-10-17", "Statement": [
                {"Sid": "DenyWithoutTls", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}}}),
            ),
            // conditions that do not restrict the callers
            ev(
                s3,
                "PutBucketPolicy",
                json!({"requestParameters": {"bucketName": "b", "bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]}}}),
            ),
            ev(
                s3,
                "PutBucketPolicy",
                json!({"requestParameters": {"bucketName": "b", "bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Condition": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}]}}}),
            ),
            ev(
                s3,
                "PutBucketPolicy",
                json!({"requestParameters": {"bucketName": "b", "bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Condition": {"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}}]}}}),
            ),
            ev(
                s3,
                "PutBucketPolicy",
                json!({"requestParameters": {"bucketName": "b", "bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Condition": {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "0.0.0.0/0"]}}}]}}}),
            ),
            ev(
                s3,
                "PutBucketPolicy",
                json!({"requestParameters": {"bucketName": "b", "bucketPolicy": {"Statement": [{"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject"}]}}}),
            ),
            ev(
                s3,
                "PutBucketPolicy",
                json!({"requestParameters": {"bucketName": "b", "bucketPolicy": "{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\"}]}"}}),
            ),
        ];
        let negatives = [
            ev(
                s3,
                "PutBucketPolicy",
                json!({"requestParameters": {"bucketName": "b", "bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}}]}}}),
            ),
            // the Log Archive bucket policy rampart writes: service principals, TLS-only and
            // organization-only denies for `*`
            ev(
                s3,
                "PutBucketPolicy",
                json!({"requestParameters": {"bucketName": "b", "bucketPolicy": {"Version": "2012-10-17", "Statement": [
                {"Sid": "CloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/AWSLogs/*", "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceOrgID": "o-abc123"}}},
                {"Sid": "DenyWithoutTls", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                {"Sid": "DenyOutsideOrganization", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}, "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}]}}}),
            ),
            // `*` restricted to fixed callers
            ev(
                s3,
                "PutBucketPolicy",
                json!({"requestParameters": {"bucketName": "b", "bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c"}}}]}}}),
            ),
            ev(
                s3,
                "PutBucketPolicy",
                json!({"requestParameters": {"bucketName": "b", "bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Condition": {"IpAddress": {"AWS:SourceIp": ["192.0.2.0/24"]}, "Bool": {"aws:SecureTransport": "true"}}}]}}}),
            ),
            ev(
                s3,
                "PutBucketPolicy",
                json!({"requestParameters": {"bucketName": "b", "bucketPolicy": {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Condition": {"StringEquals": {"aws:PrincipalOrgID": ["o-abc123"]}}}]}}}),
            ),
        ];
        for (i, e) in positives.iter().enumerate() {
            assert!(fires(&b.rule, e), "positive #{}", i + 1);
        }
        for (i, e) in negatives.iter().enumerate() {
            assert!(!fires(&b.rule, e), "negative #{}", i + 1);
        }
    }
}
