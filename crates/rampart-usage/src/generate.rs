//! `rampart policy generate`: one principal's calls, gathered event by event, into the smallest
//! identity policy that covers them — each action on the resources CloudTrail names for it
//! (`*` only where it names none), actions sharing a resource set merged into one statement.

use crate::identity::{Identity, caller_arn};
use crate::mapping::{Mapped, Mapper};
use crate::resources::{Place, Scope, scope};
use crate::{Window, denied_in_log};
use rampart_trail::Event;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Settings of one generation.
#[derive(Debug, Clone)]
pub struct Options {
    /// Distinct resources one action may list before they are folded under their parent
    /// (`bucket/dir/a`, `bucket/dir/b` → `bucket/dir/*`); past that again, `*`.
    pub max_resources: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { max_resources: 20 }
    }
}

/// The principal's calls, deduplicated: per action and resource list, how many calls.
#[derive(Debug, Default)]
pub struct Calls {
    /// `(action, resources)` → calls; an empty list means any resource (see `any_reason`).
    pub by_request: HashMap<(String, Vec<String>), u64>,
    /// Why an action's resource is `*` (the first reason seen).
    pub any_reason: BTreeMap<String, &'static str>,
    /// Calls no IAM action expresses: `(eventSource eventName, reason)` → calls.
    pub unexpressed: BTreeMap<(String, String), u64>,
    /// Calls that need no permission (`sts:GetCallerIdentity`).
    pub no_permission: u64,
    /// Calls the log shows denied (`AccessDenied`…): not granted, by action.
    pub denied_in_log: BTreeMap<String, u64>,
}

/// Counters of the read.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct ReadCounts {
    pub events: u64,
    pub out_of_window: u64,
    /// Events made by the principal (any of its sessions) in the window.
    pub matched: u64,
}

/// Gathers one principal's calls from events.
pub struct Generator {
    partition: String,
    account: String,
    kind: crate::identity::Kind,
    name: String,
    window: Window,
    mapper: Mapper,
    pub calls: Calls,
    pub counts: ReadCounts,
}

impl Generator {
    /// For the principal `arn` (a role, user, root, federated user, or one of a role's session
    /// ARNs: the role).
    pub fn new(arn: &str, window: Window) -> Result<Generator, String> {
        let id = Identity::of_arn(arn).ok_or_else(|| {
            format!("{arn}: not the ARN of an IAM role, user, root or federated user (arn:aws:iam::ACCOUNT:role/NAME)")
        })?;
        Ok(Generator {
            partition: id.partition.to_string(),
            account: id.account.to_string(),
            kind: id.kind,
            name: id.name.to_string(),
            window,
            mapper: Mapper::new(),
            calls: Calls::default(),
            counts: ReadCounts::default(),
        })
    }

    /// The principal's canonical ARN.
    pub fn principal(&self) -> String {
        self.identity().arn()
    }

    fn identity(&self) -> Identity<'_> {
        Identity {
            partition: &self.partition,
            account: &self.account,
            kind: self.kind,
            name: &self.name,
        }
    }

    fn is_target(&self, arn: &str) -> bool {
        Identity::of_arn(arn).is_some_and(|id| id == self.identity())
    }

    /// Takes one event into account.
    pub fn observe(&mut self, ev: &Event<'_>) {
        self.counts.events += 1;
        let Some(arn) = caller_arn(ev) else {
            return;
        };
        if !self.is_target(arn) {
            return;
        }
        if !self.window.contains(ev) {
            self.counts.out_of_window += 1;
            return;
        }
        self.counts.matched += 1;
        let h = ev.header();
        let (Some(source), Some(name)) = (h.event_source.as_deref(), h.event_name.as_deref())
        else {
            *self
                .calls
                .unexpressed
                .entry((
                    "(no eventSource/eventName)".into(),
                    "the event names no API call".into(),
                ))
                .or_default() += 1;
            return;
        };
        let action = match self.mapper.map(source, name).0 {
            Mapped::Action(a) => a.clone(),
            Mapped::NoPermission(_) => {
                self.calls.no_permission += 1;
                return;
            }
            Mapped::Unexpressible(why) => {
                *self
                    .calls
                    .unexpressed
                    .entry((format!("{source} {name}"), why.clone()))
                    .or_default() += 1;
                return;
            }
        };
        if denied_in_log(h.error_code.as_deref()) {
            *self.calls.denied_in_log.entry(action).or_default() += 1;
            return;
        }
        let region = h.aws_region.as_deref().unwrap_or("us-east-1");
        let place = Place {
            partition: &self.partition,
            account: h.recipient_account_id.as_deref().unwrap_or(&self.account),
            region,
        };
        let resources = match ev.doc() {
            Some(doc) => scope(&action, doc, place),
            None => scope(&action, &Value::Null, place),
        };
        let list = match resources {
            Scope::Named(list) => list,
            Scope::Any(why) => {
                self.calls.any_reason.entry(action.clone()).or_insert(why);
                Vec::new()
            }
        };
        *self.calls.by_request.entry((action, list)).or_default() += 1;
    }
}

/// One statement of the generated policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GeneratedStatement {
    pub sid: String,
    pub actions: Vec<String>,
    /// `["*"]` for any resource.
    pub resources: Vec<String>,
    /// Why the resource is `*`, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wildcard_reason: Option<String>,
}

/// Builds the statements from the calls: per action its resources (folded past
/// `max_resources`), then one statement per distinct resource set, ordered by their first
/// action, each with a Sid naming its service.
pub fn statements(calls: &Calls, opts: &Options) -> Vec<GeneratedStatement> {
    let mut per_action: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut any: BTreeMap<&str, String> = BTreeMap::new();
    for (action, list) in calls.by_request.keys() {
        if list.is_empty() {
            let why = calls
                .any_reason
                .get(action)
                .copied()
                .unwrap_or(crate::resources::NOT_LOGGED);
            any.insert(action, why.to_string());
        }
        per_action
            .entry(action)
            .or_default()
            .extend(list.iter().map(String::as_str));
    }
    let mut groups: BTreeMap<Vec<String>, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for (action, set) in per_action {
        let (resources, reason) = match any.get(action) {
            Some(why) => (vec!["*".to_string()], Some(why.clone())),
            None => match fold(&set, opts.max_resources) {
                Some(r) => (r, None),
                None => (
                    vec!["*".to_string()],
                    Some(format!(
                        "more than {} distinct resources, even folded under their parents",
                        opts.max_resources
                    )),
                ),
            },
        };
        let g = groups.entry(resources).or_default();
        g.0.insert(action.to_string());
        g.1.extend(reason);
    }
    let mut out: Vec<GeneratedStatement> = groups
        .into_iter()
        .map(|(resources, (actions, reasons))| GeneratedStatement {
            sid: String::new(),
            actions: actions.into_iter().collect(),
            resources,
            wildcard_reason: (!reasons.is_empty())
                .then(|| reasons.into_iter().collect::<Vec<_>>().join("; ")),
        })
        .collect();
    out.sort_by(|a, b| a.actions.cmp(&b.actions));
    let mut per_service: BTreeMap<String, usize> = BTreeMap::new();
    for st in &mut out {
        let service = st.actions[0].split(':').next().unwrap_or("");
        let n = per_service.entry(service.to_string()).or_default();
        *n += 1;
        st.sid = format!("{}{}", sid_word(service), n);
    }
    out
}

/// `resource-explorer-2` → `ResourceExplorer2`: Sids are alphanumeric.
fn sid_word(service: &str) -> String {
    let mut s = String::new();
    let mut upper = true;
    for c in service.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(if upper { c.to_ascii_uppercase() } else { c });
            upper = false;
        } else {
            upper = true;
        }
    }
    s
}

/// The resources themselves when few enough; else folded once under their parent path
/// (`…/dir/*`, `…:log-group:*`); `None` when still too many.
fn fold(set: &BTreeSet<&str>, max: usize) -> Option<Vec<String>> {
    if set.len() <= max {
        return Some(set.iter().map(|s| s.to_string()).collect());
    }
    let folded: BTreeSet<String> = set
        .iter()
        .map(|arn| {
            // the parent of the resource part (after the fifth `:`)
            let res_at = arn
                .match_indices(':')
                .nth(4)
                .map_or(arn.len(), |(i, _)| i + 1);
            match arn[res_at..].rfind(['/', ':']) {
                Some(i) => format!("{}*", &arn[..res_at + i + 1]),
                None => format!("{}*", &arn[..res_at]),
            }
        })
        .collect();
    // a folded pattern may cover others (`b/*` covers `b/dir/*`): keep the set as is; it is
    // small by then
    (folded.len() <= max).then(|| folded.into_iter().collect())
}

/// The policy document of the statements: pretty-printed JSON in the order people write it
/// (`Version`, `Statement`; `Sid`, `Effect`, `Action`, `Resource`), stable for a given input.
pub fn policy_json(statements: &[GeneratedStatement]) -> String {
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let list = |items: &[String]| {
        if let [one] = items {
            return quoted(one);
        }
        let inner: Vec<String> = items
            .iter()
            .map(|i| format!("        {}", quoted(i)))
            .collect();
        format!("[\n{}\n      ]", inner.join(",\n"))
    };
    let body: Vec<String> = statements
        .iter()
        .map(|s| {
            format!(
                "    {{\n      \"Sid\": {},\n      \"Effect\": \"Allow\",\n      \"Action\": {},\n      \"Resource\": {}\n    }}",
                quoted(&s.sid),
                list(&s.actions),
                list(&s.resources)
            )
        })
        .collect();
    format!(
        "{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n{}\n  ]\n}}\n",
        body.join(",\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(list: &[(&str, &[&str])]) -> Calls {
        let mut c = Calls::default();
        for (a, r) in list {
            let key = (a.to_string(), r.iter().map(|s| s.to_string()).collect());
            *c.by_request.entry(key).or_default() += 1;
        }
        c
    }

    #[test]
    fn actions_sharing_resources_merge_in_a_stable_order() {
        let c = calls(&[
            ("s3:PutObject", &["arn:aws:s3:::b/k"]),
            ("s3:GetObject", &["arn:aws:s3:::b/k"]),
            ("s3:ListAllMyBuckets", &[]),
            ("iam:ListRoles", &[]),
            ("s3:GetObject", &["arn:aws:s3:::b/j"]),
        ]);
        let st = statements(&c, &Options::default());
        let shown: Vec<(String, Vec<String>, Vec<String>)> = st
            .iter()
            .map(|s| (s.sid.clone(), s.actions.clone(), s.resources.clone()))
            .collect();
        assert_eq!(
            shown,
            vec![
                (
                    "Iam1".into(),
                    vec!["iam:ListRoles".into(), "s3:ListAllMyBuckets".into()],
                    vec!["*".into()]
                ),
                (
                    "S31".into(),
                    vec!["s3:GetObject".into()],
                    vec!["arn:aws:s3:::b/j".into(), "arn:aws:s3:::b/k".into()]
                ),
                (
                    "S32".into(),
                    vec!["s3:PutObject".into()],
                    vec!["arn:aws:s3:::b/k".into()]
                ),
            ]
        );
        // same input in another order: same text
        let again = statements(&c, &Options::default());
        assert_eq!(policy_json(&st), policy_json(&again));
    }

    #[test]
    fn many_resources_fold_under_their_parent() {
        let keys: Vec<String> = (0..30)
            .map(|i| format!("arn:aws:s3:::b/logs/{i}"))
            .collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let c = calls(&[("s3:GetObject", &refs)]);
        let st = statements(&c, &Options { max_resources: 5 });
        assert_eq!(st[0].resources, vec!["arn:aws:s3:::b/logs/*".to_string()]);
        let c = calls(&[("s3:GetObject", &refs)]);
        let st = statements(&c, &Options { max_resources: 40 });
        assert_eq!(st[0].resources.len(), 30);
    }

    #[test]
    fn an_action_seen_with_and_without_resources_is_any() {
        let c = calls(&[
            ("iam:GetRole", &["arn:aws:iam::1:role/a"]),
            ("iam:GetRole", &[]),
        ]);
        let st = statements(&c, &Options::default());
        assert_eq!(st.len(), 1);
        assert_eq!(st[0].resources, vec!["*".to_string()]);
        assert!(st[0].wildcard_reason.is_some());
    }

    #[test]
    fn the_document_is_json_in_the_usual_order() {
        let c = calls(&[
            ("s3:GetObject", &["arn:aws:s3:::b/\"k"]),
            ("s3:PutObject", &["arn:aws:s3:::b/\"k"]),
            ("iam:ListRoles", &[]),
        ]);
        let text = policy_json(&statements(&c, &Options::default()));
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["Statement"][1]["Action"][1], "s3:PutObject");
        assert_eq!(v["Statement"][1]["Resource"], "arn:aws:s3:::b/\"k");
        assert_eq!(v["Statement"][0]["Resource"], "*");
        assert!(text.find("Version") < text.find("Statement"));
        assert!(text.find("Sid") < text.find("Effect"));
    }

    #[test]
    fn sids_are_alphanumeric() {
        assert_eq!(sid_word("resource-explorer-2"), "ResourceExplorer2");
        assert_eq!(sid_word("s3"), "S3");
    }
}
