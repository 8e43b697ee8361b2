//! Impact replay: before a guardrail is attached, replay recent CloudTrail events of the accounts
//! it would govern against the proposed SCPs (with the policy engine) and report which principals'
//! calls would have been denied, with counts and examples. The proposed RCPs are replayed the
//! same way from the resource side: calls to member accounts' resources in S3, KMS, SQS, Secrets
//! Manager and STS, with the caller inside the organization when its account is a member — so
//! the report names the outside callers the data perimeter would stop.
//!
//! Each account's chain is what the plan would leave in place: `FullAWSAccess` plus the
//! generated guardrails at every OU on the account's path. Existing SCPs are left out on purpose:
//! they already apply, so the calls in the logs got past them; the question is what the new
//! guardrails would add. No I/O: the caller feeds events.

use crate::config::Config;
use crate::guardrails::build_guardrails;
use crate::rcp::build_rcps;
use rampart_policy::{CompiledPolicySet, ContextValue, Decision, OrgLevel, PolicySet, Request};
use rampart_snapshot::Snapshot;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const FULL_AWS_ACCESS: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// The services the RCP blocks govern.
const RCP_SERVICES: &[&str] = &["s3", "kms", "sqs", "secretsmanager", "sts"];

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

impl DeniedPrincipal {
    /// One block for people: `principal <where> account (ou): counts`, then the examples.
    fn write(&self, s: &mut String, place: &str) {
        let top: Vec<String> = self
            .actions
            .iter()
            .map(|(a, n)| format!("{a} ×{n}"))
            .collect();
        s.push_str(&format!(
            "  {} {place} {} ({}): {} call(s) denied: {}\n",
            self.principal,
            self.account,
            self.ou,
            self.denied,
            top.join(", ")
        ));
        for e in &self.examples {
            s.push_str(&format!("      e.g. {e}\n"));
        }
    }
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
    /// The proposed RCPs: calls to member accounts' resources in the RCP services, evaluated.
    pub rcp_evaluated: u64,
    /// Of those, calls by callers outside the organization (anonymous ones included).
    pub rcp_external: u64,
    /// Of those, calls whose record has no `tlsDetails`: taken as made over TLS.
    pub rcp_tls_not_logged: u64,
    /// RCP calls not evaluated, by reason (AWS services, whose source is not logged).
    pub rcp_skipped: BTreeMap<String, u64>,
    /// Callers whose calls the proposed RCPs would deny (`account` is the resource's account),
    /// most denied first.
    pub rcp_denied: Vec<DeniedPrincipal>,
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
        let rcps = self.rcp_text();
        if self.denied.is_empty() {
            s.push_str("No replayed call would have been denied.\n");
            s.push_str(&rcps);
            return s;
        }
        s.push_str(&format!(
            "{} principal(s) would have had calls denied:\n",
            self.denied.len()
        ));
        for d in &self.denied {
            d.write(&mut s, "in");
        }
        s.push_str(&rcps);
        s
    }

    /// The RCP part, empty when no RCP would govern a replayed call.
    fn rcp_text(&self) -> String {
        let skipped: u64 = self.rcp_skipped.values().sum();
        if self.rcp_evaluated == 0 && skipped == 0 {
            return String::new();
        }
        let mut s = format!(
            "Resource control policies: {} call(s) to member accounts' resources evaluated, {} by callers outside the organization",
            self.rcp_evaluated, self.rcp_external
        );
        if skipped > 0 {
            let why: Vec<String> = self
                .rcp_skipped
                .iter()
                .map(|(k, v)| format!("{v} {k}"))
                .collect();
            s.push_str(&format!(", {skipped} skipped ({})", why.join(", ")));
        }
        s.push_str(".\n");
        if self.rcp_tls_not_logged > 0 {
            s.push_str(&format!(
                "  {} call(s) have no tlsDetails in their record and were taken as made over TLS.\n",
                self.rcp_tls_not_logged
            ));
        }
        if self.rcp_denied.is_empty() {
            s.push_str("No replayed call would have been denied by the RCPs.\n");
            return s;
        }
        s.push_str(&format!(
            "{} caller(s) would have had calls to our resources denied by the RCPs:\n",
            self.rcp_denied.len()
        ));
        for d in &self.rcp_denied {
            d.write(&mut s, "on resources of");
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
    org_id: String,
    /// Every account of the organization (the management account included).
    members: BTreeSet<String>,
    /// Member accounts whose OU path carries RCPs: the proposed RCP chain, isolated.
    rcp_chains: BTreeMap<String, (String, CompiledPolicySet)>,
    rcp_by_caller: BTreeMap<(String, String), DeniedPrincipal>,
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
        let rcp_settings = cfg.rcp_settings(&org.id);
        let mut rcps_by_ou: BTreeMap<String, Vec<rampart_policy::Policy>> = BTreeMap::new();
        for (ou, blocks) in cfg.rcp_blocks_by_ou() {
            let mut policies = Vec::new();
            for r in build_rcps(&ou, &blocks, &rcp_settings).map_err(|e| e.to_string())? {
                policies.push(
                    rampart_policy::parse_policy(&r.content)
                        .map_err(|e| format!("{}: {e}", r.name))?,
                );
            }
            rcps_by_ou.insert(ou, policies);
        }
        let mut rcp_chains = BTreeMap::new();
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
            let rcp_levels: Vec<(String, Vec<rampart_policy::Policy>)> = (1..=names.len())
                .map(|i| {
                    let path = names[..i].join("/");
                    let policies = rcps_by_ou.get(&path).cloned().unwrap_or_default();
                    (path, policies)
                })
                .collect();
            // RCPs never restrict the management account's resources.
            if a.id != org.management_account_id && rcp_levels.iter().any(|(_, p)| !p.is_empty()) {
                let levels = crate::rcp::chain(rcp_levels, &a.id);
                rcp_chains.insert(
                    a.id.clone(),
                    (ou.clone(), rampart_policy::proofs::rcp_chain(&levels)),
                );
            }
            chains.insert(a.id.clone(), (ou, CompiledPolicySet::new(&set)));
        }
        Ok(Replayer {
            management: org.management_account_id.clone(),
            chains,
            report: ReplayReport::default(),
            by_principal: BTreeMap::new(),
            org_id: org.id.clone(),
            members: org.accounts.iter().map(|a| a.id.clone()).collect(),
            rcp_chains,
            rcp_by_caller: BTreeMap::new(),
        })
    }

    fn skip(&mut self, why: &str) {
        *self.report.skipped.entry(why.to_string()).or_default() += 1;
    }

    /// Replays one CloudTrail record (its document) against the proposed SCPs and RCPs.
    pub fn observe(&mut self, ev: &Value) {
        self.report.events += 1;
        self.observe_rcp(ev);
        self.observe_scp(ev);
    }

    /// The resource side: a call to a member account's resource in an RCP service, decided by
    /// that account's proposed RCP chain with what the record says of the caller.
    fn observe_rcp(&mut self, ev: &Value) {
        if self.rcp_chains.is_empty() {
            return;
        }
        let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let (Some(source), Some(name)) = (s(ev.get("eventSource")), s(ev.get("eventName"))) else {
            return;
        };
        let Some(prefix) = service_prefix(&source) else {
            return;
        };
        if !RCP_SERVICES.contains(&prefix) {
            return;
        }
        let Some(resource_account) = s(ev.get("recipientAccountId")) else {
            return;
        };
        if !self.rcp_chains.contains_key(&resource_account) {
            return;
        }
        let ui = ev.get("userIdentity");
        let ty = s(ui.and_then(|u| u.get("type"))).unwrap_or_default();
        if ty == "AWSService" || s(ev.get("eventType")).as_deref() == Some("AwsServiceEvent") {
            let why = "made by AWS services (the source organization is not logged)";
            *self.report.rcp_skipped.entry(why.into()).or_default() += 1;
            return;
        }
        let arn = s(ui.and_then(|u| u.get("arn")));
        let caller_account = s(ui.and_then(|u| u.get("accountId")))
            .or_else(|| {
                arn.as_deref()
                    .and_then(|a| a.split(':').nth(4))
                    .map(str::to_string)
            })
            .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()));
        let principal = match (&arn, &caller_account) {
            (Some(a), _) => Some(a.clone()),
            (None, Some(acct)) if ty == "Root" => Some(format!("arn:aws:iam::{acct}:root")),
            (None, Some(acct)) => Some(format!("arn:aws:iam::{acct}:root")),
            // `ANONYMOUS_PRINCIPAL` and other unsigned calls.
            (None, None) => None,
        };
        let inside = caller_account
            .as_ref()
            .is_some_and(|a| self.members.contains(a));
        let action = format!("{prefix}:{name}");
        let mut context = BTreeMap::new();
        if inside {
            context.insert(
                "aws:PrincipalOrgID".to_string(),
                ContextValue::String(self.org_id.clone()),
            );
        }
        if ev.get("tlsDetails").is_none() {
            self.report.rcp_tls_not_logged += 1;
        }
        context.insert("aws:SecureTransport".into(), ContextValue::Bool(true));
        let req = Request {
            action: action.clone(),
            resource: "*".into(),
            resource_account: Some(resource_account.clone()),
            principal: principal.clone(),
            principal_account: caller_account.clone(),
            context,
        };
        self.report.rcp_evaluated += 1;
        if !inside {
            self.report.rcp_external += 1;
        }
        let (ou, chain) = &self.rcp_chains[&resource_account];
        if chain.decide(&req) == Decision::Allowed {
            return;
        }
        let ou = ou.clone();
        let who = principal.unwrap_or_else(|| "anonymous".into());
        let example = format!(
            "{} {action} from {} ({})",
            s(ev.get("eventTime")).unwrap_or_default(),
            s(ev.get("sourceIPAddress")).unwrap_or_default(),
            s(ev.get("eventID")).unwrap_or_default()
        );
        count_denied(
            &mut self.rcp_by_caller,
            resource_account,
            ou,
            who,
            action,
            example,
        );
    }

    /// The principal side: the call decided by the caller's account's proposed SCP chain.
    fn observe_scp(&mut self, ev: &Value) {
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
        let example = format!(
            "{} {action} in {region} ({})",
            s(ev.get("eventTime")).unwrap_or_default(),
            s(ev.get("eventID")).unwrap_or_default()
        );
        count_denied(
            &mut self.by_principal,
            account,
            ou,
            principal,
            action,
            example,
        );
    }

    pub fn finish(mut self) -> ReplayReport {
        let most_first = |m: BTreeMap<(String, String), DeniedPrincipal>| {
            let mut v: Vec<DeniedPrincipal> = m.into_values().collect();
            v.sort_by(|a, b| b.denied.cmp(&a.denied).then(a.principal.cmp(&b.principal)));
            v
        };
        self.report.denied = most_first(self.by_principal);
        self.report.rcp_denied = most_first(self.rcp_by_caller);
        self.report
    }
}

/// Counts one denied call of `principal` in `account`, keeping the first few as examples.
fn count_denied(
    by: &mut BTreeMap<(String, String), DeniedPrincipal>,
    account: String,
    ou: String,
    principal: String,
    action: String,
    example: String,
) {
    let d = by
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
    *d.actions.entry(action).or_default() += 1;
    if d.examples.len() < EXAMPLES {
        d.examples.push(example);
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
