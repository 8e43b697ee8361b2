//! What a check sees: the account (and region) under evaluation, plus an organization-wide view
//! computed once per run, so that centrally satisfied controls are credited to every member.

use crate::proof::{Chain, Guardrails, Unreadable};
use crate::{AuditSettings, Outcome};
use chrono::{DateTime, Utc};
use rampart_snapshot::{
    AccountSnapshot, CollectionError, LogGroup, MetricAlarm, MetricFilter, RegionSnapshot,
    Snapshot, SnsTopic, Trail,
};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

const SCP: &str = "SERVICE_CONTROL_POLICY";
const RCP: &str = "RESOURCE_CONTROL_POLICY";

/// A trail together with the account whose snapshot lists it.
#[derive(Debug, Clone, Copy)]
pub struct TrailRef<'a> {
    pub account_id: &'a str,
    pub trail: &'a Trail,
}

/// Where a log group lives, with the metric filters, alarms and topics of that account and region.
#[derive(Debug, Clone, Copy)]
pub struct LogGroupHome<'a> {
    pub account_id: &'a str,
    pub region: &'a RegionSnapshot,
    pub log_group: &'a LogGroup,
}

impl<'a> LogGroupHome<'a> {
    pub fn metric_filters(&self) -> impl Iterator<Item = &'a MetricFilter> + 'a {
        let name = self.log_group.name.as_str();
        self.region
            .metric_filters
            .iter()
            .filter(move |f| f.log_group_name == name)
    }
    pub fn alarms(&self) -> &'a [MetricAlarm] {
        &self.region.alarms
    }
    pub fn topics(&self) -> &'a [SnsTopic] {
        &self.region.sns_topics
    }
}

/// Organization-wide facts, computed once per evaluation.
#[derive(Debug)]
pub struct OrgView<'a> {
    pub snapshot: &'a Snapshot,
    pub settings: &'a AuditSettings,
    pub management_account: Option<&'a str>,
    pub audit_account: Option<String>,
    pub log_archive_account: Option<String>,
    /// Organization trails found in any account.
    pub org_trails: Vec<TrailRef<'a>>,
    pub now: DateTime<Utc>,
    /// Regions workloads may use: from settings, else the regions the collection asked for.
    pub allowed_regions: Vec<String>,
    /// SCP/RCP documents parsed once into the evaluator's model, by policy id (or the parser's
    /// `line:column: message`).
    policy_models: HashMap<&'a str, Result<rampart_policy::Policy, String>>,
    /// SNS topics of every account and region, by ARN.
    topics: HashMap<&'a str, &'a SnsTopic>,
    /// S3 buckets of every collected account, by name: `(owner account, bucket)`.
    buckets: HashMap<&'a str, (&'a str, &'a rampart_snapshot::Bucket)>,
    /// Collected accounts by id.
    accounts: HashMap<&'a str, &'a AccountSnapshot>,
    /// Organization member ids (the management account included).
    members: std::collections::HashSet<&'a str>,
    /// Active organization-wide Access Analyzers by region: `(owner account, analyzer)`.
    org_analyzers: HashMap<&'a str, (&'a str, &'a rampart_snapshot::AccessAnalyzer)>,
    /// Guardrail chains per account, compiled once for the five guardrail controls.
    guardrails_cache: RefCell<HashMap<String, Result<Rc<Guardrails>, Unreadable>>>,
    /// CIS 4.x verdicts per (log group ARN, control number); the org trail's group is shared.
    pub(crate) monitoring_cache: RefCell<HashMap<(String, String), Outcome>>,
}

fn find_by_name(snapshot: &Snapshot, needles: &[&str]) -> Option<String> {
    let org = snapshot.organization.as_ref()?;
    org.accounts
        .iter()
        .find(|a| {
            let n = a.name.to_ascii_lowercase().replace(['-', '_'], " ");
            needles
                .iter()
                .any(|needle| n == *needle || n.contains(needle))
        })
        .map(|a| a.id.clone())
}

impl<'a> OrgView<'a> {
    pub fn new(snapshot: &'a Snapshot, settings: &'a AuditSettings) -> OrgView<'a> {
        let now = settings
            .now
            .as_deref()
            .or(Some(snapshot.generated_at.as_str()))
            .and_then(parse_time)
            .unwrap_or_else(Utc::now);
        let org_trails = snapshot
            .accounts
            .iter()
            .flat_map(|a| {
                a.trails
                    .iter()
                    .filter(|t| t.is_organization_trail)
                    .map(move |t| TrailRef {
                        account_id: a.account_id.as_str(),
                        trail: t,
                    })
            })
            .collect();
        let policy_models = snapshot
            .organization
            .iter()
            .flat_map(|o| o.policies.iter())
            .map(|p| {
                let model = rampart_policy::parse_policy(&p.content).map_err(|e| e.to_string());
                (p.id.as_str(), model)
            })
            .collect();
        let topics = snapshot
            .accounts
            .iter()
            .flat_map(|a| a.regions.iter())
            .flat_map(|r| r.sns_topics.iter())
            .map(|t| (t.arn.as_str(), t))
            .collect();
        let allowed_regions = if settings.allowed_regions.is_empty() {
            snapshot.collection.requested_regions.clone()
        } else {
            settings.allowed_regions.clone()
        };
        let accounts = snapshot
            .accounts
            .iter()
            .map(|a| (a.account_id.as_str(), a))
            .collect();
        let members = snapshot
            .organization
            .iter()
            .flat_map(|o| {
                o.accounts
                    .iter()
                    .map(|a| a.id.as_str())
                    .chain(std::iter::once(o.management_account_id.as_str()))
            })
            .collect();
        let mut org_analyzers = HashMap::new();
        for a in &snapshot.accounts {
            for r in &a.regions {
                if let Some(an) = r.access_analyzers.iter().find(|x| {
                    x.status == "ACTIVE"
                        && (x.analyzer_type == "ORGANIZATION"
                            || x.analyzer_type == "ORGANIZATION_EXTERNAL_ACCESS")
                }) {
                    org_analyzers
                        .entry(r.region.as_str())
                        .or_insert((a.account_id.as_str(), an));
                }
            }
        }
        let buckets = snapshot
            .accounts
            .iter()
            .flat_map(|a| {
                a.s3.buckets
                    .iter()
                    .map(move |b| (b.name.as_str(), (a.account_id.as_str(), b)))
            })
            .collect();
        OrgView {
            buckets,
            accounts,
            members,
            org_analyzers,
            allowed_regions,
            policy_models,
            topics,
            monitoring_cache: RefCell::new(HashMap::new()),
            guardrails_cache: RefCell::new(HashMap::new()),
            snapshot,
            settings,
            management_account: snapshot
                .organization
                .as_ref()
                .map(|o| o.management_account_id.as_str()),
            audit_account: settings
                .audit_account
                .clone()
                .or_else(|| find_by_name(snapshot, &["audit", "security tooling"])),
            log_archive_account: settings
                .log_archive_account
                .clone()
                .or_else(|| find_by_name(snapshot, &["log archive", "logarchive", "log archive"])),
            org_trails,
            now,
        }
    }

    /// Organization trails that cover `account` (an org trail covers every member).
    pub fn org_trails_covering(&self, account: &str) -> impl Iterator<Item = &TrailRef<'a>> + '_ {
        let member = self.members.contains(account);
        self.org_trails.iter().filter(move |_| member)
    }

    /// Finds the log group a trail delivers to (by ARN), in whichever account and region it lives.
    pub fn log_group_home(&self, log_group_arn: &str) -> Option<LogGroupHome<'a>> {
        let arn = log_group_arn.trim_end_matches(":*");
        let parts: Vec<&str> = arn.split(':').collect();
        // arn:aws:logs:REGION:ACCOUNT:log-group:NAME
        let (region, account, name) = match parts.as_slice() {
            [_, _, _, region, account, _, name, ..] => (*region, *account, *name),
            _ => return None,
        };
        let acct = self.account(account)?;
        let reg = acct.regions.iter().find(|r| r.region == region)?;
        let lg = reg.log_groups.iter().find(|g| g.name == name)?;
        Some(LogGroupHome {
            account_id: acct.account_id.as_str(),
            region: reg,
            log_group: lg,
        })
    }

    /// The policies of `policy_type` in force for `account`, level by level from the root down
    /// to the account itself.
    fn chain(&self, account: &str, policy_type: &str) -> Result<Chain, Unreadable> {
        let mut chain = Chain::default();
        let Some(org) = self.snapshot.organization.as_ref() else {
            return Ok(chain);
        };
        let kind = if policy_type == RCP { "RCP" } else { "SCP" };
        for target in org.path_to(account) {
            let mut policies = Vec::new();
            for p in org.policies_on(&target, policy_type) {
                match self.policy_models.get(p.id.as_str()) {
                    Some(Ok(m)) => policies.push((p.name.clone(), m.clone())),
                    Some(Err(reason)) => {
                        return Err(Unreadable {
                            kind,
                            policy: p.name.clone(),
                            reason: reason.clone(),
                        });
                    }
                    None => {}
                }
            }
            chain.push(target, policies);
        }
        Ok(chain)
    }

    /// The RCPs in force for resources of `account`: `None` when RCPs are not enabled, or for
    /// the management account, whose resources no RCP restricts.
    pub fn rcp_chain(&self, account: &str) -> Result<Option<Chain>, Unreadable> {
        let Some(org) = self.snapshot.organization.as_ref() else {
            return Ok(None);
        };
        let enabled = org
            .roots
            .iter()
            .any(|r| r.enabled_policy_types.iter().any(|t| t == RCP));
        if !enabled || self.management_account == Some(account) {
            return Ok(None);
        }
        self.chain(account, RCP).map(Some)
    }

    /// The SCPs and RCPs in force for `account` (a member: SCPs never apply to the management
    /// account), in the evaluator's model.
    /// Built once per account and shared by every guardrail control.
    pub fn guardrails(&self, account: &str) -> Result<Rc<Guardrails>, Unreadable> {
        if let Some(g) = self.guardrails_cache.borrow().get(account) {
            return g.clone();
        }
        let built = self
            .chain(account, SCP)
            .and_then(|scps| Ok(Rc::new(Guardrails::new(scps, self.rcp_chain(account)?))));
        self.guardrails_cache
            .borrow_mut()
            .insert(account.to_string(), built.clone());
        built
    }

    /// A bucket of any collected account, with its owner.
    pub fn bucket(&self, name: &str) -> Option<(&'a str, &'a rampart_snapshot::Bucket)> {
        self.buckets.get(name).copied()
    }

    /// A collected account by id.
    pub fn account(&self, id: &str) -> Option<&'a AccountSnapshot> {
        self.accounts.get(id).copied()
    }

    /// The active organization-wide Access Analyzer in `region`, with its owner account.
    pub fn org_analyzer(
        &self,
        region: &str,
    ) -> Option<(&'a str, &'a rampart_snapshot::AccessAnalyzer)> {
        self.org_analyzers.get(region).copied()
    }

    /// An SNS topic anywhere in the snapshot.
    pub fn sns_topic(&self, arn: &str) -> Option<&'a SnsTopic> {
        self.topics.get(arn).copied()
    }

    pub fn delegated_admin(&self, service_principal: &str) -> Option<&'a str> {
        self.snapshot
            .organization
            .as_ref()
            .and_then(|o| o.delegated_admin_for(service_principal))
    }

    pub fn in_organization(&self) -> bool {
        self.snapshot.organization.is_some()
    }
}

/// The view one check runs with.
pub struct Ctx<'a> {
    pub snapshot: &'a Snapshot,
    pub org: &'a OrgView<'a>,
    pub account: &'a AccountSnapshot,
    pub region: Option<&'a RegionSnapshot>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        snapshot: &'a Snapshot,
        org: &'a OrgView<'a>,
        account: &'a AccountSnapshot,
        region: Option<&'a RegionSnapshot>,
    ) -> Ctx<'a> {
        Ctx {
            snapshot,
            org,
            account,
            region,
        }
    }

    pub fn account_id(&self) -> &'a str {
        &self.account.account_id
    }

    pub fn region_name(&self) -> &'a str {
        self.region.map(|r| r.region.as_str()).unwrap_or("global")
    }

    /// The region under evaluation; regional checks only run with one (see [`crate::Scope`]).
    pub fn reg(&self) -> &'a RegionSnapshot {
        static EMPTY: std::sync::OnceLock<RegionSnapshot> = std::sync::OnceLock::new();
        self.region
            .unwrap_or_else(|| EMPTY.get_or_init(RegionSnapshot::default))
    }

    /// A resource string for account-level verdicts.
    pub fn account_resource(&self) -> String {
        format!(
            "arn:{}:iam::{}:root",
            partition(self.snapshot),
            self.account.account_id
        )
    }

    /// The first collection error that makes `api` unobservable here as a whole (errors about
    /// one resource are in [`Ctx::resource_errors`]).
    pub fn collection_error(&self, api: &str) -> Option<&'a CollectionError> {
        // An account-wide failure (`api` "*", e.g. the role could not be assumed) names the
        // role as its resource but still leaves every API of the account unobserved.
        self.errors_for(api)
            .find(|e| e.resource.is_none() || e.api == "*")
    }

    /// Collection errors for `api` that concern a single resource (a bucket, a key).
    pub fn resource_errors(
        &self,
        api: &str,
    ) -> impl Iterator<Item = &'a CollectionError> + use<'a> {
        self.errors_for(api)
            .filter(|e| e.resource.is_some() && e.api != "*")
    }

    fn errors_for(&self, api: &str) -> impl Iterator<Item = &'a CollectionError> + use<'a> {
        let here = self.region.map(|r| r.region.as_str());
        let me = self.account.account_id.as_str();
        let hit = |e: &CollectionError| {
            (e.api == "*" || e.api.starts_with(api))
                && (e.region.is_none() || e.region.as_deref() == here)
        };
        let org_level = |e: &CollectionError| {
            (e.account_id.is_empty() || e.account_id == me) && e.api.starts_with(api)
        };
        let found: Vec<&'a CollectionError> = self
            .account
            .errors
            .iter()
            .filter(|e| hit(e))
            .chain(
                self.region
                    .into_iter()
                    .flat_map(|r| r.errors.iter())
                    .filter(|e| hit(e)),
            )
            .chain(self.snapshot.errors.iter().filter(|e| org_level(e)))
            .collect();
        found.into_iter()
    }

    /// True when the region under evaluation is one workloads may use (or none are configured).
    pub fn region_allowed(&self) -> bool {
        let allowed = &self.org.allowed_regions;
        allowed.is_empty() || allowed.iter().any(|r| r == self.region_name())
    }

    pub fn allowed_regions(&self) -> &'a [String] {
        &self.org.allowed_regions
    }

    /// The region proofs and org-level facts are anchored to: the first allowed region, or us-east-1.
    pub fn home_region(&self) -> &'a str {
        self.org
            .allowed_regions
            .first()
            .map(String::as_str)
            .unwrap_or("us-east-1")
    }

    /// Days from an RFC 3339 timestamp to the evaluation's "now"; `None` when absent or unparsable.
    pub fn days_since(&self, ts: Option<&str>) -> Option<i64> {
        let t = parse_time(ts?)?;
        Some((self.org.now - t).num_days())
    }

    pub fn is_management_account(&self) -> bool {
        self.org.management_account == Some(self.account_id())
    }
}

pub(crate) fn partition(s: &Snapshot) -> &str {
    if s.partition.is_empty() {
        "aws"
    } else {
        &s.partition
    }
}

/// Parses RFC 3339 and the credential report's `2024-01-02T03:04:05+00:00` forms.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })
}
