//! The drills: which harmless calls each one makes in the sandbox, which canaries it creates, and
//! which built-in rule must raise an alert on the CloudTrail events those calls produce.

use serde::Serialize;
use serde_json::{Value, json};

/// Every canary resource's name starts with this, so leftovers of an interrupted drill can be
/// found and removed (`rampart drill cleanup`).
pub const CANARY_PREFIX: &str = "rampart-drill-";

/// A drill scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    AccessKey,
    StopLogging,
    PublicBucket,
}

/// One API call of a scenario, named as CloudTrail names it. String parameters may hold
/// `${name}`: an output of an earlier call (`${accessKeyId}`) or `${account}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub event_source: &'static str,
    pub event_name: &'static str,
    pub params: Value,
    /// The attack itself: its time is the start of time to detect and time to alert.
    pub trigger: bool,
}

/// A resource a drill creates; removing it removes everything in it (keys, objects, policies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(tag = "kind", content = "name", rename_all = "kebab-case")]
pub enum Canary {
    // order matters: trails go before the buckets they write to
    Trail(String),
    User(String),
    Bucket(String),
}

impl Canary {
    pub fn name(&self) -> &str {
        match self {
            Canary::Trail(n) | Canary::User(n) | Canary::Bucket(n) => n,
        }
    }
}

impl std::fmt::Display for Canary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            Canary::Trail(_) => "trail",
            Canary::User(_) => "IAM user",
            Canary::Bucket(_) => "bucket",
        };
        write!(f, "{kind} {}", self.name())
    }
}

/// One run of a scenario: its canaries are named after `run_id`, so two runs never collide and
/// the run's own CloudTrail events can be told apart from everything else in the trail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub scenario: Scenario,
    /// The name every event of the attack carries (the canary user, trail or bucket).
    pub marker: String,
    pub steps: Vec<Step>,
    /// Removed after the drill, in this order, whatever happened.
    pub canaries: Vec<Canary>,
}

impl Scenario {
    pub const ALL: [Scenario; 3] = [
        Scenario::AccessKey,
        Scenario::StopLogging,
        Scenario::PublicBucket,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::AccessKey => "access-key",
            Scenario::StopLogging => "stop-logging",
            Scenario::PublicBucket => "public-bucket",
        }
    }

    pub fn parse(s: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|x| x.name() == s)
    }

    /// What the drill does, in one line (`rampart drill --list`).
    pub fn summary(self) -> &'static str {
        match self {
            Scenario::AccessKey => {
                "a canary IAM user gets an access key, which is deleted at once, then the user"
            }
            Scenario::StopLogging => {
                "logging is stopped and restarted on a canary trail (into a canary bucket), both then deleted"
            }
            Scenario::PublicBucket => {
                "a canary bucket's Block Public Access is removed and a public-read policy set, then reverted and the bucket deleted"
            }
        }
    }

    /// The built-in rule that must raise an alert on the scenario's events.
    pub fn expected_rule(self) -> &'static str {
        match self {
            // the drill's principal creates a key for another user (the canary)
            Scenario::AccessKey => "RD-IAM-003",
            Scenario::StopLogging => "RD-TAMPER-001",
            Scenario::PublicBucket => "RD-EXP-001",
        }
    }

    /// The calls and canaries of one run. `run_id` is lowercase letters, digits and `-` (a
    /// bucket name part).
    pub fn plan(self, run_id: &str) -> Plan {
        let iam = "iam.amazonaws.com";
        let s3 = "s3.amazonaws.com";
        let ct = "cloudtrail.amazonaws.com";
        let step = |event_source, event_name, params| Step {
            event_source,
            event_name,
            params,
            trigger: false,
        };
        let trigger = |event_source, event_name, params| Step {
            event_source,
            event_name,
            params,
            trigger: true,
        };
        match self {
            Scenario::AccessKey => {
                let user = format!("{CANARY_PREFIX}ak-{run_id}");
                Plan {
                    scenario: self,
                    marker: user.clone(),
                    steps: vec![
                        step(
                            iam,
                            "CreateUser",
                            json!({"userName": user, "tags": [{"key": "rampart-drill", "value": run_id}]}),
                        ),
                        trigger(iam, "CreateAccessKey", json!({"userName": user})),
                        step(
                            iam,
                            "DeleteAccessKey",
                            json!({"userName": user, "accessKeyId": "${accessKeyId}"}),
                        ),
                    ],
                    canaries: vec![Canary::User(user)],
                }
            }
            Scenario::StopLogging => {
                let name = format!("{CANARY_PREFIX}trail-{run_id}");
                let policy = json!({
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Sid": "AclCheck", "Effect": "Allow", "Principal": {"Service": ct},
                         "Action": "s3:GetBucketAcl", "Resource": format!("arn:aws:s3:::{name}")},
                        {"Sid": "Write", "Effect": "Allow", "Principal": {"Service": ct},
                         "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{name}/AWSLogs/${{account}}/*"),
                         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}
                    ]
                });
                Plan {
                    scenario: self,
                    marker: name.clone(),
                    steps: vec![
                        step(s3, "CreateBucket", json!({"bucketName": name})),
                        step(
                            s3,
                            "PutBucketPolicy",
                            json!({"bucketName": name, "bucketPolicy": policy}),
                        ),
                        step(
                            ct,
                            "CreateTrail",
                            json!({"name": name, "s3BucketName": name, "tagsList": [{"key": "rampart-drill", "value": run_id}]}),
                        ),
                        step(ct, "StartLogging", json!({"name": name})),
                        trigger(ct, "StopLogging", json!({"name": name})),
                        step(ct, "StartLogging", json!({"name": name})),
                    ],
                    canaries: vec![Canary::Trail(name.clone()), Canary::Bucket(name)],
                }
            }
            Scenario::PublicBucket => {
                let name = format!("{CANARY_PREFIX}pub-{run_id}");
                let public = json!({
                    "Version": "2012-10-17",
                    "Statement": [{"Sid": "RampartDrillPublicRead", "Effect": "Allow", "Principal": "*",
                                   "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{name}/*")}]
                });
                Plan {
                    scenario: self,
                    marker: name.clone(),
                    steps: vec![
                        step(s3, "CreateBucket", json!({"bucketName": name})),
                        step(
                            s3,
                            "DeleteBucketPublicAccessBlock",
                            json!({"bucketName": name}),
                        ),
                        trigger(
                            s3,
                            "PutBucketPolicy",
                            json!({"bucketName": name, "bucketPolicy": public}),
                        ),
                        step(s3, "DeleteBucketPolicy", json!({"bucketName": name})),
                        step(
                            s3,
                            "PutBucketPublicAccessBlock",
                            json!({"bucketName": name, "PublicAccessBlockConfiguration": {
                                "BlockPublicAcls": true, "IgnorePublicAcls": true,
                                "BlockPublicPolicy": true, "RestrictPublicBuckets": true}}),
                        ),
                    ],
                    canaries: vec![Canary::Bucket(name)],
                }
            }
        }
    }
}

/// `${name}` placeholders of `v` replaced from `vars`; an unknown name is an error naming it.
pub fn substitute(v: &Value, vars: &[(String, String)]) -> Result<Value, String> {
    Ok(match v {
        Value::String(s) => {
            // one pass, left to right: a value is never scanned for placeholders itself
            let mut out = String::with_capacity(s.len());
            let mut rest = s.as_str();
            while let Some(start) = rest.find("${") {
                let end = rest[start..]
                    .find('}')
                    .map(|e| start + e)
                    .ok_or_else(|| format!("unclosed placeholder in `{s}`"))?;
                let name = &rest[start + 2..end];
                let value = vars
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
                    .ok_or_else(|| {
                        format!("no value for `${{{name}}}` (an earlier step failed?)")
                    })?;
                out.push_str(&rest[..start]);
                out.push_str(value);
                rest = &rest[end + 1..];
            }
            out.push_str(rest);
            Value::String(out)
        }
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| substitute(x, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| Ok((k.clone(), substitute(x, vars)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_each_plan_has_one_trigger() {
        for s in Scenario::ALL {
            assert_eq!(Scenario::parse(s.name()), Some(s));
            let p = s.plan("abc123");
            assert_eq!(p.steps.iter().filter(|x| x.trigger).count(), 1, "{s:?}");
            assert!(p.marker.starts_with(CANARY_PREFIX));
            assert!(p.marker.len() <= 63, "bucket-name sized");
            assert!(
                p.canaries
                    .iter()
                    .all(|c| c.name().starts_with(CANARY_PREFIX))
            );
            let mut sorted = p.canaries.clone();
            sorted.sort();
            assert_eq!(sorted, p.canaries, "trails are removed before buckets");
        }
        assert_eq!(Scenario::parse("nope"), None);
    }

    #[test]
    fn placeholders_come_from_earlier_outputs() {
        let vars = vec![
            ("accessKeyId".to_string(), "AKIA1".to_string()),
            ("account".to_string(), "123456789012".to_string()),
        ];
        let v = json!({"a": ["x/${account}/${accessKeyId}"], "n": 1});
        assert_eq!(
            substitute(&v, &vars).unwrap(),
            json!({"a": ["x/123456789012/AKIA1"], "n": 1})
        );
        let err = substitute(&json!("${missing}"), &vars).unwrap_err();
        assert!(err.contains("${missing}"), "{err}");
        assert!(substitute(&json!("${open"), &vars).is_err());
    }

    proptest::proptest! {
        /// Text without placeholders is left as it is; with known placeholders, none remains
        /// and the values appear in order.
        #[test]
        fn substitution_is_exact(pre in "[a-z/ ]{0,12}", mid in "[a-z/ ]{0,12}", v1 in "[A-Z0-9$b{}]{0,8}", v2 in "[0-9]{0,12}") {
            let vars = vec![("a".to_string(), v1.clone()), ("b".to_string(), v2.clone())];
            proptest::prop_assert_eq!(substitute(&json!(pre.clone()), &vars).unwrap(), json!(pre.clone()));
            let got = substitute(&json!(format!("{pre}${{a}}{mid}${{b}}")), &vars).unwrap();
            proptest::prop_assert_eq!(got, json!(format!("{pre}{v1}{mid}{v2}")));
        }
    }
}
