//! `rampart iam unused`: per principal, the services and actions its policies grant that it
//! never used in the window. Use comes from CloudTrail ([`Usage`]); grants from the snapshot's
//! IAM, decided by the policy engine for every catalogued action the policies' `Action`
//! elements can match (wildcards expanded through the IAM action catalogue).

use crate::identity::{Identity, Kind, caller_arn};
use crate::mapping::{Mapped, Mapper};
use crate::{Window, denied_in_log};
use rampart_policy::catalog::catalog;
use rampart_policy::{CompiledPolicySet, Decision, Effect, Policy, PolicySet, parse_policy};
use rampart_snapshot::Snapshot;
use rampart_trail::Event;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::rc::Rc;

/// What each principal used: per principal (canonical ARN) the actions (ids of the
/// [`Mapper`], as a bit set) it called successfully, and its call count.
#[derive(Default)]
pub struct Usage {
    mapper: Mapper,
    window: Window,
    principals: Vec<Used>,
    /// Canonical ARN → index in `principals`.
    index: HashMap<String, u32>,
    /// The caller ARN as the event writes it (a session) → index in `principals`, or `NOBODY`:
    /// an event's identity is parsed once per distinct caller, not once per event.
    callers: HashMap<String, u32>,
    key: String,
    pub events: u64,
    pub out_of_window: u64,
}

#[derive(Default)]
struct Used {
    arn: String,
    actions: Vec<u64>,
    calls: u64,
}

/// A caller that is no principal (no IAM identity in its ARN).
const NOBODY: u32 = u32::MAX;

/// Distinct caller ARNs remembered at most (session names are unbounded): past it the memo
/// starts again.
const MAX_CALLERS: usize = 1 << 20;

impl Usage {
    pub fn new(window: Window) -> Usage {
        Usage {
            window,
            ..Usage::default()
        }
    }

    /// The principal index of a caller ARN.
    fn principal_of(&mut self, caller: &str) -> u32 {
        if let Some(&i) = self.callers.get(caller) {
            return i;
        }
        let i = match Identity::of_arn(caller) {
            None => NOBODY,
            Some(id) => {
                id.write_arn(&mut self.key);
                match self.index.get(self.key.as_str()) {
                    Some(&i) => i,
                    None => {
                        let i = self.principals.len() as u32;
                        self.principals.push(Used {
                            arn: self.key.clone(),
                            ..Used::default()
                        });
                        self.index.insert(self.key.clone(), i);
                        i
                    }
                }
            }
        };
        if self.callers.len() >= MAX_CALLERS {
            self.callers.clear();
        }
        self.callers.insert(caller.to_string(), i);
        i
    }

    /// Takes one event into account.
    pub fn observe(&mut self, ev: &Event<'_>) {
        self.events += 1;
        let Some(caller) = caller_arn(ev) else {
            return;
        };
        let who = self.principal_of(caller);
        if who == NOBODY {
            return;
        }
        if !self.window.contains(ev) {
            self.out_of_window += 1;
            return;
        }
        let h = ev.header();
        let action = match (h.event_source.as_deref(), h.event_name.as_deref()) {
            // a call refused by authorization used no permission
            _ if denied_in_log(h.error_code.as_deref()) => None,
            (Some(source), Some(name)) => match self.mapper.map(source, name) {
                (Mapped::Action(_), Some(a)) => Some(a),
                _ => None,
            },
            _ => None,
        };
        let used = &mut self.principals[who as usize];
        used.calls += 1;
        if let Some(a) = action {
            let (word, bit) = (a as usize / 64, a % 64);
            if used.actions.len() <= word {
                used.actions.resize(word + 1, 0);
            }
            used.actions[word] |= 1 << bit;
        }
    }

    /// The actions a principal (canonical ARN) used, and its calls.
    pub fn used_by(&self, arn: &str) -> (BTreeSet<&str>, u64) {
        let Some(u) = self.index.get(arn).map(|&i| &self.principals[i as usize]) else {
            return (BTreeSet::new(), 0);
        };
        let mut actions = BTreeSet::new();
        for (w, bits) in u.actions.iter().enumerate() {
            for b in 0..64 {
                if bits >> b & 1 == 1 {
                    actions.insert(self.mapper.action((w * 64 + b) as u32));
                }
            }
        }
        (actions, u.calls)
    }

    /// Principals seen in the log.
    pub fn principals(&self) -> usize {
        self.principals.len()
    }
}

/// One granted service of a principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceUse {
    pub service: String,
    pub granted: usize,
    pub used: usize,
    /// Granted actions never used, sorted; empty when the service was not used at all (it is
    /// then in [`PrincipalUnused::unused_services`]).
    pub unused: Vec<String>,
}

/// One principal of the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrincipalUnused {
    pub principal: String,
    pub kind: Kind,
    pub account: String,
    /// Calls in the window (every call, failed ones included).
    pub calls: u64,
    pub granted_actions: usize,
    pub used_actions: usize,
    /// Granted services with no call at all.
    pub unused_services: Vec<String>,
    /// Every granted service, with what was not used.
    pub services: Vec<ServiceUse>,
    /// Used actions the snapshot's policies do not grant (granted by a group, an inline policy
    /// or a resource policy the snapshot does not hold).
    pub used_not_granted: Vec<String>,
    /// Policies the snapshot names but cannot show (inline policies, group policies, managed
    /// policies missing from `iam.policies`): grants from them are not counted.
    pub not_read: Vec<String>,
}

/// The report over every user and role of the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnusedReport {
    pub principals: Vec<PrincipalUnused>,
    /// Principals seen in the log that the snapshot does not hold.
    pub unknown_principals: usize,
}

/// Compares what each user and role of `snap` was granted with what `usage` saw it use.
pub fn report(snap: &Snapshot, usage: &Usage) -> UnusedReport {
    let mut grants = Grants::default();
    let mut out = Vec::new();
    let mut known = HashSet::new();
    for acct in &snap.accounts {
        let managed: HashMap<&str, &str> = acct
            .iam
            .policies
            .iter()
            .map(|p| (p.arn.as_str(), p.document.as_str()))
            .collect();
        let mut subjects: Vec<(&str, &[String], Vec<String>)> = Vec::new();
        for u in &acct.iam.users {
            let mut not_read: Vec<String> = u
                .inline_policies
                .iter()
                .map(|n| format!("inline policy {n}"))
                .collect();
            not_read.extend(u.groups.iter().map(|g| format!("policies of group {g}")));
            subjects.push((&u.arn, &u.attached_policies, not_read));
        }
        for r in &acct.iam.roles {
            subjects.push((&r.arn, &r.attached_policies, Vec::new()));
        }
        for (arn, attached, mut not_read) in subjects {
            let Some(id) = Identity::of_arn(arn) else {
                continue;
            };
            let key = id.arn();
            known.insert(key.clone());
            let mut docs = Vec::new();
            for p in attached {
                match managed.get(p.as_str()) {
                    Some(d) => docs.push((p.clone(), d.to_string())),
                    None => not_read.push(format!("managed policy {p} (not in the snapshot)")),
                }
            }
            let granted = grants.of(&docs, &key, &mut not_read);
            let (used, calls) = usage.used_by(&key);
            out.push(principal_report(arn, &id, calls, &granted, &used, not_read));
        }
    }
    let unknown_principals = usage
        .principals
        .iter()
        .filter(|u| !known.contains(&u.arn))
        .count();
    out.sort_by(|a, b| a.principal.cmp(&b.principal));
    UnusedReport {
        principals: out,
        unknown_principals,
    }
}

fn principal_report(
    arn: &str,
    id: &Identity<'_>,
    calls: u64,
    granted: &BTreeSet<String>,
    used: &BTreeSet<&str>,
    not_read: Vec<String>,
) -> PrincipalUnused {
    // `granted` is sorted, so each service's actions are consecutive
    let mut services: Vec<ServiceUse> = Vec::new();
    let mut actions = granted.iter().peekable();
    while let Some(first) = actions.peek() {
        let service = first.split(':').next().unwrap_or("");
        let mut group = Vec::new();
        while let Some(a) = actions.next_if(|a| a.split(':').next() == Some(service)) {
            group.push(a);
        }
        let used_here = group.iter().filter(|a| used.contains(a.as_str())).count();
        services.push(ServiceUse {
            service: service.to_string(),
            granted: group.len(),
            used: used_here,
            // a service never used is listed as such, not action by action
            unused: if used_here == 0 {
                Vec::new()
            } else {
                group
                    .into_iter()
                    .filter(|a| !used.contains(a.as_str()))
                    .cloned()
                    .collect()
            },
        });
    }
    PrincipalUnused {
        principal: arn.to_string(),
        kind: id.kind,
        account: id.account.to_string(),
        calls,
        granted_actions: granted.len(),
        used_actions: used.iter().filter(|a| granted.contains(**a)).count(),
        unused_services: services
            .iter()
            .filter(|s| s.used == 0)
            .map(|s| s.service.clone())
            .collect(),
        services,
        used_not_granted: used
            .iter()
            .filter(|a| !granted.contains(**a))
            .map(|a| a.to_string())
            .collect(),
        not_read,
    }
}

/// Granted actions per distinct list of policy documents (principals sharing their policies
/// are decided once).
#[derive(Default)]
struct Grants {
    cache: HashMap<Vec<String>, Rc<BTreeSet<String>>>,
}

impl Grants {
    fn of(
        &mut self,
        docs: &[(String, String)],
        principal: &str,
        not_read: &mut Vec<String>,
    ) -> Rc<BTreeSet<String>> {
        let key: Vec<String> = docs.iter().map(|(_, d)| d.clone()).collect();
        if let Some(g) = self.cache.get(&key) {
            return Rc::clone(g);
        }
        let mut policies = Vec::new();
        for (name, text) in docs {
            match parse_policy(text) {
                Ok(p) => policies.push(p),
                Err(e) => not_read.push(format!("{name} (does not parse: {e})")),
            }
        }
        let g = Rc::new(granted_actions(&policies, principal));
        self.cache.insert(key, Rc::clone(&g));
        g
    }
}

/// Every catalogued action the identity `policies` allow on some resource, by the engine: an
/// action is tried when an Allow statement's `Action` can match it, first on `*`, then on each
/// resource pattern an Allow statement names. Conditions are evaluated with an empty request
/// context, so a grant that holds only under a condition counts as not granted.
pub fn granted_actions(policies: &[Policy], principal: &str) -> BTreeSet<String> {
    let set = CompiledPolicySet::from_set(PolicySet {
        identity: policies.to_vec(),
        ..PolicySet::default()
    });
    let allows: Vec<&rampart_policy::Statement> = policies
        .iter()
        .flat_map(|p| &p.statements)
        .filter(|s| s.effect == Effect::Allow)
        .collect();
    let mut tried_resources: Vec<String> = vec!["*".into()];
    for s in &allows {
        if let Some(r) = &s.resource
            && !r.negated
        {
            tried_resources.extend(r.resources.iter().map(|p| p.text.clone()));
        }
    }
    tried_resources.sort();
    tried_resources.dedup();
    let mut out = BTreeSet::new();
    for (prefix, svc) in &catalog().services {
        // most services no statement can name: skip them whole
        let relevant = allows.iter().any(|s| {
            s.action.negated
                || s.action
                    .actions
                    .iter()
                    .any(|p| p.service().is_none_or(|x| x == prefix))
        });
        if !relevant {
            continue;
        }
        for def in &svc.actions {
            let action = format!("{prefix}:{}", def.name);
            let can_match = allows.iter().any(|s| {
                let hit = s.action.actions.iter().any(|p| p.matches(&action));
                hit != s.action.negated
            });
            if !can_match {
                continue;
            }
            let allowed = tried_resources
                .iter()
                .any(|r| set.decide(&crate::request(&action, r, principal)) == Decision::Allowed);
            if allowed {
                out.insert(action);
            }
        }
    }
    out
}

impl UnusedReport {
    /// For people: one block per principal, at most `per_service` unused actions listed per
    /// service.
    pub fn to_text(&self, per_service: usize) -> String {
        let mut s = String::new();
        for p in &self.principals {
            let used_services = p.services.iter().filter(|x| x.used > 0).count();
            s.push_str(&format!(
                "{} ({} call(s)): {} of {} granted action(s) used, in {} of {} service(s)\n",
                p.principal,
                p.calls,
                p.used_actions,
                p.granted_actions,
                used_services,
                p.services.len()
            ));
            if !p.unused_services.is_empty() {
                s.push_str(&format!(
                    "  never used services: {}\n",
                    p.unused_services.join(", ")
                ));
            }
            for svc in p
                .services
                .iter()
                .filter(|x| x.used > 0 && !x.unused.is_empty())
            {
                let shown: Vec<&str> = svc
                    .unused
                    .iter()
                    .take(per_service)
                    .map(String::as_str)
                    .collect();
                let more = svc.unused.len().saturating_sub(per_service);
                s.push_str(&format!(
                    "  {}: {} of {} used; never used: {}{}\n",
                    svc.service,
                    svc.used,
                    svc.granted,
                    shown.join(", "),
                    if more > 0 {
                        format!(" (+{more} more)")
                    } else {
                        String::new()
                    }
                ));
            }
            if !p.used_not_granted.is_empty() {
                s.push_str(&format!(
                    "  used but not granted by the policies read: {}\n",
                    p.used_not_granted.join(", ")
                ));
            }
            for n in &p.not_read {
                s.push_str(&format!("  not read: {n}\n"));
            }
        }
        if self.unknown_principals > 0 {
            s.push_str(&format!(
                "{} principal(s) in the log are not users or roles of the snapshot\n",
                self.unknown_principals
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(text: &str) -> Policy {
        parse_policy(text).unwrap()
    }

    #[test]
    fn grants_expand_wildcards_and_honour_denies() {
        let p = policy(
            r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::b/*"},
            {"Effect":"Allow","Action":["sqs:SendMessage","sqs:DeleteQueue"],"Resource":"*"},
            {"Effect":"Deny","Action":"sqs:DeleteQueue","Resource":"*"}]}"#,
        );
        let g = granted_actions(&[p], "arn:aws:iam::1:role/r");
        assert!(g.contains("s3:GetObject"));
        assert!(
            g.contains("s3:GetBucketPolicy"),
            "allowed on the named resources"
        );
        assert!(g.contains("sqs:SendMessage"));
        assert!(!g.contains("sqs:DeleteQueue"), "denied");
        assert!(!g.contains("s3:PutObject"));
        assert!(
            g.iter()
                .all(|a| a.starts_with("s3:Get") || a == "sqs:SendMessage")
        );
    }

    #[test]
    fn not_action_grants_everything_else() {
        let p = policy(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}"#,
        );
        let g = granted_actions(&[p], "arn:aws:iam::1:user/u");
        assert!(g.contains("ec2:RunInstances"));
        assert!(!g.iter().any(|a| a.starts_with("iam:")));
    }
}
