//! Impact replay: before a guardrail is attached, replay recent CloudTrail events of the accounts
//! it would govern against the proposed SCPs (with the policy engine) and report which principals'
//! calls would have been denied, with counts and examples.
//!
//! Each account's chain is what the plan would leave in place: `FullAWSAccess` plus the
//! generated guardrails at every OU on the account's path. Existing SCPs are left out on purpose:
//! they already apply, so the calls in the logs got past them; the question is what the new
//! guardrails would add. No I/O: the caller feeds events.

use crate::config::Config;
use crate::guardrails::build_guardrails;
use rampart_policy::{CompiledPolicySet, ContextValue, Decision, OrgLevel, PolicySet, Request};
use rampart_snapshot::Snapshot;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

const FULL_AWS_ACCESS: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// How many example calls are kept per principal.
const EXAMPLES: usize = 3;

/// One principal whose calls the proposed guardrails would deny.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeniedPrincipal {
    pub account: String,
    /// The OU path the account is in.
    pub ou: String,
    pub principal: String,
    /// Calls that would have been denied.
    pub denied: u64,
    /// Denied calls per `service:Action`.
    pub actions: BTreeMap<String, u64>,
    /// A few of the calls: `time action region eventID`.
    pub examples: Vec<String>,
}

/// What the replay found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReplayReport {
    /// Events read.
    pub events: u64,
    /// Events evaluated against an account's proposed chain.
    pub evaluated: u64,
    /// Events not evaluated, by reason (management account, AWS service, unknown account, …).
    pub skipped: BTreeMap<String, u64>,
    /// Principals with denied calls, most denied first.
    pub denied: Vec<DeniedPrincipal>,
}

impl ReplayReport {
    /// For people: one block per principal.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "Impact replay: {} event(s) read, {} evaluated against the proposed guardrails",
            self.events, self.evaluated
        );
        let skipped: u64 = self.skipped.values().sum();
        if skipped > 0 {
            let why: Vec<String> = self
                .skipped
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect();
            s.push_str(&format!(", {skipped} skipped ({})", why.join(", ")));
        }
        s.push_str(".\n");
        if self.denied.is_empty() {
            s.push_str("No replayed call would have been denied.\n");
            return s;
        }
        s.push_str(&format!(
            "{} principal(s) would have had calls denied:\n",
            self.denied.len()
        ));
        for d in &self.denied {
            let top: Vec<String> = d.actions.iter().map(|(a, n)| format!("{a} ×{n}")).collect();
            s.push_str(&format!(
                "  {} in {} ({}): {} call(s) denied: {}\n",
                d.principal,
                d.account,
                d.ou,
                d.denied,
                top.join(", ")
            ));
            for e in &d.examples {
                s.push_str(&format!("      e.g. {e}\n"));
            }
        }
        s
    }
}

/// The replay: one compiled chain per member account, fed one event at a time.
pub struct Replayer {
    management: String,
    chains: BTreeMap<String, (String, CompiledPolicySet)>,
    report: ReplayReport,
    by_principal: BTreeMap<(String, String), DeniedPrincipal>,
}

impl Replayer {
    /// Builds every member account's proposed chain from `cfg` and the organization in `snap`.
    pub fn new(cfg: &Config, snap: &Snapshot) -> Result<Replayer, String> {
        let org = snap.organization.as_ref().ok_or(
            "the snapshot has no organization: replay needs the OU of each account".to_string(),
        )?;
        let full = rampart_policy::parse_policy(FULL_AWS_ACCESS).map_err(|e| e.to_string())?;
        let settings = cfg.guardrail_settings();
        let mut by_ou: BTreeMap<String, Vec<rampart_policy::Policy>> = BTreeMap::new();
        for (ou, blocks) in cfg.blocks_by_ou() {
            let scps = build_guardrails(&ou, &blocks, &settings).map_err(|e| e.to_string())?;
            let mut policies = vec![full.clone()];
            for s in scps {
                policies.push(
                    rampart_policy::parse_policy(&s.content)
                        .map_err(|e| format!("{}: {e}", s.name))?,
                );
            }
            by_ou.insert(ou, policies);
        }
        let mut chains = BTreeMap::new();
        for a in &org.accounts {
            // OU names from the account up to the root.
            let mut names = Vec::new();
            let mut parent = a.parent_id.clone();
            while let Some(ou) = org.organizational_units.iter().find(|o| o.id == parent) {
                names.push(ou.name.clone());
                parent = ou.parent_id.clone();
                if names.len() > 10 {
                    break;
                }
            }
            names.reverse();
            let mut levels = vec![OrgLevel {
                id: "root".into(),
                policies: vec![full.clone()],
            }];
            for i in 1..=names.len() {
                let path = names[..i].join("/");
                let policies = by_ou
                    .get(&path)
                    .cloned()
                    .unwrap_or_else(|| vec![full.clone()]);
                levels.push(OrgLevel { id: path, policies });
            }
            levels.push(OrgLevel {
                id: a.id.clone(),
                policies: vec![full.clone()],
            });
            let set = PolicySet {
                identity: vec![full.clone()],
                scps: Some(levels),
                ..PolicySet::default()
            };
            let ou = if names.is_empty() {
                "root".to_string()
            } else {
                names.join("/")
            };
            chains.insert(a.id.clone(), (ou, CompiledPolicySet::new(&set)));
        }
        Ok(Replayer {
            management: org.management_account_id.clone(),
            chains,
            report: ReplayReport::default(),
            by_principal: BTreeMap::new(),
        })
    }

    fn skip(&mut self, why: &str) {
        *self.report.skipped.entry(why.to_string()).or_default() += 1;
    }

    /// Replays one CloudTrail record (its document).
    pub fn observe(&mut self, ev: &Value) {
        self.report.events += 1;
        let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let ui = ev.get("userIdentity");
        let ty = s(ui.and_then(|u| u.get("type"))).unwrap_or_default();
        let (Some(source), Some(name)) = (s(ev.get("eventSource")), s(ev.get("eventName"))) else {
            return self.skip("without eventSource/eventName");
        };
        if ty == "AWSService" || s(ev.get("eventType")).as_deref() == Some("AwsServiceEvent") {
            return self.skip("made by AWS services (SCPs do not apply)");
        }
        let Some(account) =
            s(ev.get("recipientAccountId")).or_else(|| s(ui.and_then(|u| u.get("accountId"))))
        else {
            return self.skip("without an account");
        };
        if account == self.management {
            return self.skip("in the management account (SCPs do not apply)");
        }
        let principal = match s(ui.and_then(|u| u.get("arn"))) {
            Some(a) => a,
            None if ty == "Root" => format!("arn:aws:iam::{account}:root"),
            None => return self.skip("without a principal ARN"),
        };
        if principal.contains(":role/aws-service-role/")
            || principal.contains(":assumed-role/AWSServiceRoleFor")
        {
            return self.skip("by service-linked roles (SCPs do not apply)");
        }
        let Some(prefix) = service_prefix(&source) else {
            return self.skip("of sign-in and other non-IAM actions");
        };
        if !self.chains.contains_key(&account) {
            return self.skip("of accounts outside the organization");
        }
        let action = format!("{prefix}:{name}");
        let region = s(ev.get("awsRegion")).unwrap_or_else(|| "us-east-1".into());
        let mut context = BTreeMap::new();
        context.insert(
            "aws:RequestedRegion".to_string(),
            ContextValue::String(region.clone()),
        );
        let req = Request {
            action: action.clone(),
            resource: "*".into(),
            principal: Some(principal.clone()),
            principal_account: Some(account.clone()),
            context,
            ..Request::default()
        };
        self.report.evaluated += 1;
        let (ou, chain) = &self.chains[&account];
        if chain.decide(&req) == Decision::Allowed {
            return;
        }
        let ou = ou.clone();
        let d = self
            .by_principal
            .entry((account.clone(), principal.clone()))
            .or_insert_with(|| DeniedPrincipal {
                account,
                ou,
                principal,
                denied: 0,
                actions: BTreeMap::new(),
                examples: Vec::new(),
            });
        d.denied += 1;
        *d.actions.entry(action.clone()).or_default() += 1;
        if d.examples.len() < EXAMPLES {
            d.examples.push(format!(
                "{} {action} in {region} ({})",
                s(ev.get("eventTime")).unwrap_or_default(),
                s(ev.get("eventID")).unwrap_or_default()
            ));
        }
    }

    pub fn finish(mut self) -> ReplayReport {
        let mut denied: Vec<DeniedPrincipal> = self.by_principal.into_values().collect();
        denied.sort_by(|a, b| b.denied.cmp(&a.denied).then(a.principal.cmp(&b.principal)));
        self.report.denied = denied;
        self.report
    }
}

/// The IAM service prefix of a CloudTrail `eventSource`; `None` for sources whose events are not
/// IAM-authorized actions (console sign-in).
fn service_prefix(source: &str) -> Option<&str> {
    let host = source.strip_suffix(".amazonaws.com").unwrap_or(source);
    Some(match host {
        "signin" | "sso-directory" => return None,
        "monitoring" => "cloudwatch",
        "email" => "ses",
        "elasticloadbalancing" => "elasticloadbalancing",
        "tagging" => "tag",
        h => h,
    })
}

#[cfg(test)]
mod tests;
