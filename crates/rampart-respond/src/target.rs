//! What an action acts on: parsed from `--target`, or derived from an alert's principal,
//! resource and matched fields.

use crate::action::Action;
use rampart_detect::Alert;
use serde::{Deserialize, Serialize};

/// The resource an action contains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Target {
    AccessKey {
        user: String,
        key_id: String,
    },
    User {
        name: String,
    },
    Role {
        name: String,
    },
    Trail {
        name: String,
    },
    /// `None`: the region's (only) detector.
    Detector {
        id: Option<String>,
    },
    /// `None`: the region's (only) configuration recorder.
    Recorder {
        name: Option<String>,
    },
    Bucket {
        name: String,
        account_level: bool,
    },
    Instance {
        id: String,
    },
}

impl Target {
    /// Parses `--target` for `action`. `account_level` applies to `block-public-s3` only.
    pub fn parse(
        action: Action,
        text: Option<&str>,
        account_level: bool,
    ) -> Result<Target, String> {
        let text = text.map(str::trim).filter(|t| !t.is_empty());
        let need =
            || text.ok_or_else(|| format!("{action} needs --target {}", action.target_hint()));
        let t = match action {
            Action::DisableAccessKey => {
                let t = need()?;
                let (user, key) = t.rsplit_once('/').ok_or_else(|| {
                    format!(
                        "{action}: `{t}` is not USER/ACCESS_KEY_ID (UpdateAccessKey needs the user)"
                    )
                })?;
                if user.is_empty() || !key.starts_with("AKIA") {
                    return Err(format!(
                        "{action}: `{t}` is not USER/ACCESS_KEY_ID with a long-term key (AKIA…); temporary keys (ASIA…) are contained with `quarantine`"
                    ));
                }
                Target::AccessKey {
                    user: user.trim_start_matches("user/").to_string(),
                    key_id: key.to_string(),
                }
            }
            Action::DeleteLoginProfile => {
                let t = need()?;
                match principal(t) {
                    Some(Target::User { name }) => Target::User { name },
                    Some(_) => return Err(format!("{action}: `{t}` is not an IAM user")),
                    None => Target::User {
                        name: t.trim_start_matches("user/").to_string(),
                    },
                }
            }
            Action::Quarantine => {
                let t = need()?;
                principal(t).ok_or_else(|| {
                    format!("{action}: `{t}` is not user/NAME, role/NAME or a user, role or assumed-role ARN")
                })?
            }
            Action::RestartLogging => Target::Trail {
                name: need()?.to_string(),
            },
            Action::EnableGuardduty => Target::Detector {
                id: text.map(str::to_string),
            },
            Action::EnableConfigRecorder => Target::Recorder {
                name: text.map(str::to_string),
            },
            Action::BlockPublicS3 => {
                let t = need()?;
                let name = t.strip_prefix("arn:aws:s3:::").unwrap_or(t);
                if name.contains('/') {
                    return Err(format!("{action}: `{t}` is not a bucket name"));
                }
                Target::Bucket {
                    name: name.to_string(),
                    account_level,
                }
            }
            Action::IsolateInstance => {
                let t = need()?;
                let id = t.rsplit('/').next().unwrap_or(t);
                if !id.starts_with("i-") {
                    return Err(format!("{action}: `{t}` is not an EC2 instance id (i-…)"));
                }
                Target::Instance { id: id.to_string() }
            }
        };
        Ok(t)
    }

    /// The `--target` text that parses back to this target (`None`: no target needed).
    pub fn to_arg(&self) -> Option<String> {
        match self {
            Target::AccessKey { user, key_id } => Some(format!("{user}/{key_id}")),
            Target::User { name } => Some(format!("user/{name}")),
            Target::Role { name } => Some(format!("role/{name}")),
            Target::Trail { name } => Some(name.clone()),
            Target::Detector { id } => id.clone(),
            Target::Recorder { name } => name.clone(),
            Target::Bucket { name, .. } => Some(name.clone()),
            Target::Instance { id } => Some(id.clone()),
        }
    }

    /// For people: `user alice`, `bucket logs (and the account's Block Public Access)`.
    pub fn describe(&self) -> String {
        match self {
            Target::AccessKey { user, key_id } => format!("access key {key_id} of user {user}"),
            Target::User { name } => format!("user {name}"),
            Target::Role { name } => format!("role {name}"),
            Target::Trail { name } => format!("trail {name}"),
            Target::Detector { id: Some(id) } => format!("GuardDuty detector {id}"),
            Target::Detector { id: None } => "the region's GuardDuty detector".into(),
            Target::Recorder { name: Some(n) } => format!("Config recorder {n}"),
            Target::Recorder { name: None } => "the region's Config recorder".into(),
            Target::Bucket {
                name,
                account_level: false,
            } => format!("bucket {name}"),
            Target::Bucket {
                name,
                account_level: true,
            } => format!("bucket {name} and the account's Block Public Access"),
            Target::Instance { id } => format!("instance {id}"),
        }
    }

    /// The target of `action` for `alert`, or why it cannot be told (then the plan asks for
    /// `--target`). IAM calls that create credentials for someone (`CreateAccessKey`,
    /// `CreateLoginProfile`, …) point at the user in the request; otherwise the caller is the
    /// identity to contain.
    pub fn from_alert(action: Action, alert: &Alert) -> Result<Target, String> {
        let resource = alert.resource();
        let service = alert.event_source().unwrap_or("");
        let event = alert.event_name().unwrap_or("");
        let about_credentials = service == "iam.amazonaws.com"
            && (event.contains("AccessKey") || event.contains("LoginProfile"));
        let caller = alert.principal().and_then(principal);
        let user = || -> Option<String> {
            if about_credentials && let Some(r) = resource {
                return Some(r.to_string());
            }
            match &caller {
                Some(Target::User { name }) => Some(name.clone()),
                _ => None,
            }
        };
        let unknown = |what: &str| {
            Err(format!(
                "the alert names no {what}: give it with `rampart respond action {action} --target {}`",
                action.target_hint()
            ))
        };
        let arg = match action {
            Action::DisableAccessKey => {
                let key = access_key_in(alert);
                match (user(), key) {
                    (Some(u), Some(k)) => Some(format!("{u}/{k}")),
                    _ => return unknown("IAM user with a long-term access key"),
                }
            }
            Action::DeleteLoginProfile => match user() {
                Some(u) => Some(u),
                None => return unknown("IAM user"),
            },
            Action::Quarantine => {
                if about_credentials && let Some(u) = user() {
                    Some(format!("user/{u}"))
                } else {
                    match caller.as_ref().and_then(Target::to_arg) {
                        Some(p) => Some(p),
                        None => return unknown("IAM user or role"),
                    }
                }
            }
            Action::RestartLogging => {
                match resource.filter(|_| service == "cloudtrail.amazonaws.com") {
                    Some(t) => Some(t.to_string()),
                    None => return unknown("trail"),
                }
            }
            Action::EnableGuardduty => resource
                .filter(|_| service == "guardduty.amazonaws.com")
                .map(str::to_string),
            Action::EnableConfigRecorder => None,
            Action::BlockPublicS3 => match resource.filter(|_| service == "s3.amazonaws.com") {
                Some(b) => Some(b.to_string()),
                None => return unknown("bucket"),
            },
            Action::IsolateInstance => match resource.filter(|r| r.starts_with("i-")) {
                Some(i) => Some(i.to_string()),
                None => return unknown("EC2 instance"),
            },
        };
        Target::parse(action, arg.as_deref(), false)
    }
}

/// A user or role from `user/NAME`, `role/NAME`, or an IAM user, role or STS assumed-role ARN.
fn principal(text: &str) -> Option<Target> {
    let resource = if text.starts_with("arn:") {
        let mut parts = text.splitn(6, ':');
        let service = parts.nth(2)?;
        let rest = parts.nth(2)?;
        match (service, rest.split_once('/')?) {
            ("iam", ("user", path)) => {
                return Some(Target::User {
                    name: path.rsplit('/').next()?.to_string(),
                });
            }
            ("iam", ("role", path)) => {
                return Some(Target::Role {
                    name: path.rsplit('/').next()?.to_string(),
                });
            }
            // arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
            ("sts", ("assumed-role", rest)) => {
                return Some(Target::Role {
                    name: rest.split('/').next()?.to_string(),
                });
            }
            _ => return None,
        }
    } else {
        text
    };
    match resource.split_once('/')? {
        ("user", n) if !n.is_empty() => Some(Target::User { name: n.into() }),
        ("role", n) if !n.is_empty() => Some(Target::Role { name: n.into() }),
        _ => None,
    }
}

/// A long-term access key id among the alert's matched values.
fn access_key_in(alert: &Alert) -> Option<String> {
    fn walk(v: &serde_json::Value) -> Option<String> {
        match v {
            serde_json::Value::String(s)
                if s.len() == 20
                    && s.starts_with("AKIA")
                    && s.bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                Some(s.clone())
            }
            serde_json::Value::Array(a) => a.iter().find_map(walk),
            serde_json::Value::Object(m) => m.values().find_map(walk),
            _ => None,
        }
    }
    walk(&serde_json::Value::Object(alert.matched().to_map()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn alert(v: serde_json::Value) -> Alert {
        let mut rec = json!({
            "schema": "rampart.alert/v1", "rule_id": "RD-TEST", "rule_source": "builtin",
            "title": "t", "severity": "high", "account": "111122223333", "region": "us-east-1",
            "event_id": "e-1",
        });
        rec.as_object_mut()
            .unwrap()
            .extend(v.as_object().unwrap().clone());
        Alert::from_record(&rec).unwrap()
    }

    #[test]
    fn targets_parse_and_round_trip() {
        let cases = [
            (Action::DisableAccessKey, "alice/AKIAIOSFODNN7EXAMPLE"),
            (Action::DeleteLoginProfile, "user/alice"),
            (Action::Quarantine, "role/Admin"),
            (Action::Quarantine, "user/alice"),
            (Action::RestartLogging, "org-trail"),
            (Action::EnableGuardduty, "abc123"),
            (Action::BlockPublicS3, "logs"),
            (Action::IsolateInstance, "i-0123456789abcdef0"),
        ];
        for (a, t) in cases {
            let parsed = Target::parse(a, Some(t), false).unwrap();
            assert_eq!(parsed.to_arg().as_deref(), Some(t), "{a}");
            assert_eq!(
                Target::parse(a, parsed.to_arg().as_deref(), false),
                Ok(parsed)
            );
        }
        assert_eq!(
            Target::parse(
                Action::Quarantine,
                Some("arn:aws:sts::111122223333:assumed-role/Dev/sess"),
                false
            ),
            Ok(Target::Role { name: "Dev".into() })
        );
        assert_eq!(
            Target::parse(
                Action::Quarantine,
                Some("arn:aws:iam::111122223333:user/ops/bob"),
                false
            ),
            Ok(Target::User { name: "bob".into() })
        );
        assert_eq!(
            Target::parse(Action::EnableConfigRecorder, None, false),
            Ok(Target::Recorder { name: None })
        );
    }

    #[test]
    fn bad_targets_say_what_is_expected() {
        let e = Target::parse(
            Action::DisableAccessKey,
            Some("ASIAXXXXXXXXXXXXXXXX"),
            false,
        )
        .unwrap_err();
        assert!(e.contains("USER/ACCESS_KEY_ID"), "{e}");
        let e = Target::parse(
            Action::DisableAccessKey,
            Some("bob/ASIA1234567890123456"),
            false,
        )
        .unwrap_err();
        assert!(e.contains("quarantine"), "{e}");
        let e = Target::parse(Action::Quarantine, Some("alice"), false).unwrap_err();
        assert!(e.contains("user/NAME"), "{e}");
        let e = Target::parse(Action::IsolateInstance, Some("vol-1"), false).unwrap_err();
        assert!(e.contains("i-"), "{e}");
        let e = Target::parse(Action::BlockPublicS3, None, false).unwrap_err();
        assert!(e.contains("--target BUCKET"), "{e}");
    }

    #[test]
    fn targets_come_from_the_alert() {
        let created_key = alert(json!({
            "event_source": "iam.amazonaws.com", "event_name": "CreateAccessKey",
            "principal": "arn:aws:iam::111122223333:user/mallory", "resource": "victim",
            "matched": {"responseElements.accessKey.accessKeyId": "AKIAIOSFODNN7EXAMPLE"},
        }));
        assert_eq!(
            Target::from_alert(Action::DisableAccessKey, &created_key),
            Ok(Target::AccessKey {
                user: "victim".into(),
                key_id: "AKIAIOSFODNN7EXAMPLE".into()
            })
        );
        assert_eq!(
            Target::from_alert(Action::Quarantine, &created_key),
            Ok(Target::User {
                name: "victim".into()
            })
        );
        let stopped = alert(json!({
            "event_source": "cloudtrail.amazonaws.com", "event_name": "StopLogging",
            "principal": "arn:aws:sts::111122223333:assumed-role/Dev/s", "resource": "org-trail",
        }));
        assert_eq!(
            Target::from_alert(Action::RestartLogging, &stopped),
            Ok(Target::Trail {
                name: "org-trail".into()
            })
        );
        assert_eq!(
            Target::from_alert(Action::Quarantine, &stopped),
            Ok(Target::Role { name: "Dev".into() })
        );
        let e = Target::from_alert(Action::BlockPublicS3, &stopped).unwrap_err();
        assert!(
            e.contains("rampart respond action block-public-s3 --target BUCKET"),
            "{e}"
        );
        let public = alert(json!({
            "event_source": "s3.amazonaws.com", "event_name": "PutBucketPolicy", "resource": "data",
        }));
        assert_eq!(
            Target::from_alert(Action::BlockPublicS3, &public),
            Ok(Target::Bucket {
                name: "data".into(),
                account_level: false
            })
        );
        let run = alert(json!({"event_source": "ec2.amazonaws.com", "resource": "i-0abc"}));
        assert_eq!(
            Target::from_alert(Action::IsolateInstance, &run),
            Ok(Target::Instance {
                id: "i-0abc".into()
            })
        );
    }
}
