//! The plan: the desired baseline (`rampart.toml` + generated guardrails) compared with a
//! snapshot of the organization, as ordered, typed changes. Drift is the same comparison after
//! out-of-band changes, so `plan` shows exactly what drifted.
//!
//! Covered: Organizations (trusted service access, SCP policy type, OUs, accounts and their OU,
//! the quarantine SCP on new accounts until they are baselined, guardrail SCPs and data-perimeter
//! RCPs created/updated/attached, rampart-owned ones detached when no longer wanted), the Log
//! Archive buckets (object
//! lock, versioning, lifecycle, access logging, Block Public Access, encryption, the CloudTrail-
//! only TLS-only organization-only policy), the organization trail (present, logging,
//! multi-region, log file validation, CloudWatch Logs), the CIS 4.x metric filters and alarms,
//! delegated administration of the security services, and per account and allowed region: EBS
//! default encryption, GuardDuty, Security Hub, Config recording, account S3 Block Public Access
//! and the IAM password policy; central alerting in the Audit account ([`alerting`]). Not yet:
//! the trail's KMS key, Security Hub standards, the Config aggregator and the organization Access
//! Analyzer.

use crate::config::Config;
use crate::guardrails::{Block, Scp, build_guardrails};
use crate::proof::prove;
use crate::rcp::{build_rcps, prove_rcps};
use rampart_snapshot::{AccountSnapshot, Organization, Snapshot};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Prefix of every SCP rampart creates: rampart only ever detaches or changes policies it owns.
pub const OWNED_PREFIX: &str = "rampart-";

/// The quarantine SCP new accounts carry until they are baselined.
pub const QUARANTINE_POLICY: &str = "rampart-quarantine-1";

/// One API-level change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    EnableAllFeatures,
    EnableAwsServiceAccess {
        service_principal: String,
    },
    EnablePolicyType {
        policy_type: String,
    },
    CreateOu {
        path: String,
    },
    CreateAccount {
        name: String,
        email: String,
        ou: String,
        /// Attach the quarantine SCP as soon as the account exists.
        quarantine: bool,
    },
    MoveAccount {
        account_id: String,
        name: String,
        to_ou: String,
    },
    CreatePolicy {
        name: String,
        /// The guardrail (or RCP) block names the policy carries.
        blocks: Vec<String>,
        content: String,
        #[serde(default)]
        policy_type: PolicyType,
    },
    UpdatePolicy {
        policy_id: String,
        name: String,
        content: String,
    },
    AttachPolicy {
        name: String,
        ou: String,
        #[serde(default)]
        policy_type: PolicyType,
    },
    DetachPolicy {
        policy_id: String,
        name: String,
        target: String,
    },
    CreateLogArchiveBuckets {
        bucket: String,
        access_log_bucket: String,
    },
    ConfigureLogArchiveBucket {
        bucket: String,
        access_log_bucket: String,
        retention_days: u32,
        object_lock_mode: String,
        policy: String,
        /// The settings found missing (all of them are written: each put is idempotent).
        fix: Vec<String>,
    },
    CreateTrailKey {
        /// `alias/…` of the key.
        alias: String,
        trail: String,
        /// Account id (or `name:<account name>`) whose principals may decrypt the logs.
        log_archive_account: String,
    },
    CreateOrganizationTrail {
        name: String,
        bucket: String,
        /// CloudWatch Logs group the trail also delivers to (for the CIS 4.x alarms).
        log_group: String,
        /// KMS key (alias) the log files are encrypted with.
        kms_key: String,
    },
    UpdateTrail {
        name: String,
        bucket: String,
        log_group: String,
        kms_key: String,
    },
    PutCisAlarms {
        log_group: String,
        topic: String,
        emails: Vec<String>,
        /// CIS numbers (`4.1` …) whose filter and alarm are missing or wrong.
        controls: Vec<String>,
    },
    StartLogging {
        name: String,
    },
    RegisterDelegatedAdministrator {
        service_principal: String,
        account: String,
    },
    EnableEbsDefaultEncryption,
    CreateGuardDutyDetector,
    EnableSecurityHub,
    EnableSecurityHubStandards {
        /// Standards ARNs (`arn:aws:securityhub:<region>::standards/…`).
        standards: Vec<String>,
    },
    /// From the delegated administrator: the service is turned on for every new member.
    EnableOrganizationAutoEnable {
        service_principal: String,
    },
    CreateConfigAggregator {
        name: String,
    },
    CreateOrganizationAnalyzer {
        name: String,
    },
    StartConfigRecorder {
        /// Delivery channel bucket (the Log Archive bucket).
        bucket: String,
    },
    PutAccountPublicAccessBlock,
    UpdatePasswordPolicy {
        minimum_length: u32,
        reuse_prevention: u32,
    },
    // IAM Identity Center ([`identity`]): made in the management account, in Identity Center's
    // region. Permission sets and groups are named; the effects resolve the names.
    CreatePermissionSet {
        name: String,
        description: String,
        session_duration: String,
    },
    UpdatePermissionSet {
        name: String,
        description: String,
        session_duration: String,
    },
    DeletePermissionSet {
        name: String,
        permission_set_arn: String,
    },
    AttachManagedPolicyToPermissionSet {
        permission_set: String,
        policy_arn: String,
    },
    DetachManagedPolicyFromPermissionSet {
        permission_set: String,
        policy_arn: String,
    },
    AttachCustomerManagedPolicyReference {
        permission_set: String,
        policy: rampart_snapshot::PolicyReference,
    },
    DetachCustomerManagedPolicyReference {
        permission_set: String,
        policy: rampart_snapshot::PolicyReference,
    },
    PutInlinePolicyToPermissionSet {
        permission_set: String,
        policy: String,
    },
    DeleteInlinePolicyFromPermissionSet {
        permission_set: String,
    },
    PutPermissionsBoundaryToPermissionSet {
        permission_set: String,
        boundary: rampart_snapshot::PermissionsBoundary,
    },
    DeletePermissionsBoundaryFromPermissionSet {
        permission_set: String,
    },
    /// Pushes a changed permission set to the accounts it is assigned in.
    ProvisionPermissionSet {
        permission_set: String,
    },
    CreateGroup {
        name: String,
        description: String,
    },
    DeleteGroup {
        name: String,
        group_id: String,
    },
    CreateAccountAssignment {
        permission_set: String,
        group: String,
        account_id: String,
    },
    DeleteAccountAssignment {
        permission_set: String,
        permission_set_arn: String,
        /// `GROUP` or `USER`.
        principal_type: String,
        principal_id: String,
        account_id: String,
    },
    // Central alerting ([`alerting`]): in the Audit account's home region.
    /// Creates the topic (idempotent), sets [`alerting::topic_policy`] and subscribes `emails`.
    PutAlertTopic {
        topic: String,
        emails: Vec<String>,
    },
    /// Puts the rule (enabled, with `event_pattern`) and its one target, the alert topic.
    PutAlertRule {
        rule: String,
        event_pattern: String,
        topic: String,
    },
    /// Creates (or, with an ARN, updates) Security Hub's cross-region finding aggregator.
    PutFindingAggregator {
        /// Linked regions (`SPECIFIED_REGIONS`): the allowed regions but the home one.
        regions: Vec<String>,
        aggregator_arn: Option<String>,
    },
    CreateSecurityHubMembers {
        account_ids: Vec<String>,
    },
}

impl Action {
    /// A central-alerting change ([`alerting`]).
    pub fn is_alerting(&self) -> bool {
        matches!(
            self,
            Action::PutAlertTopic { .. }
                | Action::PutAlertRule { .. }
                | Action::PutFindingAggregator { .. }
                | Action::CreateSecurityHubMembers { .. }
        )
    }
}

/// The Organizations policy types rampart generates: both go through the same create, update,
/// attach and detach calls, with the type as a parameter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyType {
    #[default]
    #[serde(rename = "SERVICE_CONTROL_POLICY")]
    Scp,
    #[serde(rename = "RESOURCE_CONTROL_POLICY")]
    Rcp,
}

impl PolicyType {
    /// The Organizations API name.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::Scp => "SERVICE_CONTROL_POLICY",
            PolicyType::Rcp => "RESOURCE_CONTROL_POLICY",
        }
    }

    /// `SCP` or `RCP`, for people.
    pub fn short(self) -> &'static str {
        match self {
            PolicyType::Scp => "SCP",
            PolicyType::Rcp => "RCP",
        }
    }
}

/// A change: where, what, whether it destroys something, and what it waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Stable within a plan: `kind:account:region:object`.
    pub id: String,
    /// Account id, or `name:<account name>` for an account that does not exist yet.
    pub account: String,
    pub region: Option<String>,
    #[serde(flatten)]
    pub action: Action,
    pub destructive: bool,
    pub depends_on: Vec<String>,
    /// One line for people.
    pub description: String,
}

/// The ordered changes, dependencies first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub changes: Vec<Change>,
    /// Accounts or regions the snapshot could not observe: no change is planned for them.
    pub unobserved: Vec<String>,
    /// Permission-set grants the guardrails in force deny wherever the set is assigned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dead_grants: Vec<identity::DeadGrant>,
    /// Lint warnings on the permission sets' inline policies (errors stop the plan).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_warnings: Vec<String>,
}

/// The plan cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    Guardrail(String),
    #[error("refusing to plan guardrails that fail their proofs:\n{}", .0.join("\n"))]
    ProofFailed(Vec<String>),
    #[error(
        "the snapshot has no organization: run `rampart collect` with the management account's credentials"
    )]
    NoOrganization,
    #[error("refusing to plan inline policies with lint errors:\n{}", .0.join("\n"))]
    InlinePolicy(Vec<String>),
}

/// OU path (`Workloads/Prod`) → id, from the snapshot.
fn ou_paths(org: &Organization) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for ou in &org.organizational_units {
        let mut names = vec![ou.name.clone()];
        let mut parent = ou.parent_id.clone();
        let mut guard = 0;
        while let Some(p) = org.organizational_units.iter().find(|o| o.id == parent) {
            names.push(p.name.clone());
            parent = p.parent_id.clone();
            guard += 1;
            if guard > 10 {
                break;
            }
        }
        names.reverse();
        out.insert(names.join("/"), ou.id.clone());
    }
    out
}

fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

struct Builder {
    changes: Vec<Change>,
}

impl Builder {
    fn add(
        &mut self,
        id: String,
        account: &str,
        region: Option<&str>,
        action: Action,
        description: String,
        depends_on: Vec<String>,
    ) -> String {
        let destructive = matches!(action, Action::DetachPolicy { .. });
        self.changes.push(Change {
            id: id.clone(),
            account: account.to_string(),
            region: region.map(str::to_string),
            action,
            destructive,
            depends_on,
            description,
        });
        id
    }
}

/// Compares `cfg` with `snap`.
pub fn plan(cfg: &Config, snap: &Snapshot) -> Result<Plan, PlanError> {
    let org = snap
        .organization
        .as_ref()
        .ok_or(PlanError::NoOrganization)?;
    let mgmt = org.management_account_id.clone();
    let mut b = Builder {
        changes: Vec::new(),
    };
    let mut unobserved = Vec::new();

    // All features (SCPs need them), then the SCP and RCP policy types on the root.
    let root = org.roots.first().map(|r| r.id.clone()).unwrap_or_default();
    let mut features_dep = Vec::new();
    if !org.feature_set.is_empty() && org.feature_set != "ALL" {
        features_dep.push(b.add(
            "all-features".into(),
            &mgmt,
            None,
            Action::EnableAllFeatures,
            "enable all features in the organization (every member account must accept the handshake)"
                .into(),
            vec![],
        ));
    }
    let mut policy_type_dep = Vec::new();
    let mut rcp_type_dep = Vec::new();
    for (kind, id, what) in [
        (
            "SERVICE_CONTROL_POLICY",
            "policy-type:scp",
            "service control policies",
        ),
        (
            "RESOURCE_CONTROL_POLICY",
            "policy-type:rcp",
            "resource control policies",
        ),
    ] {
        if !org
            .roots
            .iter()
            .any(|r| r.enabled_policy_types.iter().any(|t| t == kind))
        {
            let change = b.add(
                id.into(),
                &mgmt,
                None,
                Action::EnablePolicyType {
                    policy_type: kind.into(),
                },
                format!("enable {what} on root {root}"),
                features_dep.clone(),
            );
            if kind == "SERVICE_CONTROL_POLICY" {
                policy_type_dep.push(change);
            } else {
                rcp_type_dep.push(change);
            }
        }
    }

    // Trusted access for the services that work across the organization.
    let svc = &cfg.security_services;
    let mut access_dep: BTreeMap<&str, String> = BTreeMap::new();
    for (wanted, p) in [
        (true, "cloudtrail.amazonaws.com"),
        (svc.guardduty, "guardduty.amazonaws.com"),
        (svc.security_hub, "securityhub.amazonaws.com"),
        (svc.config, "config.amazonaws.com"),
        (svc.access_analyzer, "access-analyzer.amazonaws.com"),
    ] {
        if wanted && !org.enabled_service_principals.iter().any(|x| x == p) {
            let id = b.add(
                format!("service-access:{p}"),
                &mgmt,
                None,
                Action::EnableAwsServiceAccess {
                    service_principal: p.into(),
                },
                format!("enable trusted access for {p} in the organization"),
                vec![],
            );
            access_dep.insert(p, id);
        }
    }

    // The quarantine SCP, which new accounts carry until they are baselined.
    let settings = cfg.guardrail_settings();
    let quarantine = build_guardrails("quarantine", &[Block::Quarantine], &settings)
        .map_err(|e| PlanError::Guardrail(format!("quarantine: {e}")))?
        .remove(0);
    debug_assert_eq!(quarantine.name, QUARANTINE_POLICY);
    let quarantine_policy = org
        .policies
        .iter()
        .find(|p| p.policy_type == "SERVICE_CONTROL_POLICY" && p.name == quarantine.name);
    let creating_accounts = cfg
        .accounts
        .iter()
        .any(|a| !org.accounts.iter().any(|x| x.name == a.name));
    let mut quarantine_dep = Vec::new();
    if cfg.guardrails.quarantine_new_accounts && creating_accounts && quarantine_policy.is_none() {
        quarantine_dep.push(b.add(
            format!("scp:{}", quarantine.name),
            &mgmt,
            None,
            Action::CreatePolicy {
                name: quarantine.name.clone(),
                blocks: block_names(&quarantine.blocks),
                content: quarantine.content.clone(),
                policy_type: PolicyType::Scp,
            },
            format!(
                "create SCP {} (denies all but the exempt roles; new accounts carry it until baselined)",
                quarantine.name
            ),
            policy_type_dep.clone(),
        ));
    }

    // OUs, parents first.
    let paths = ou_paths(org);
    let mut ou_dep: BTreeMap<String, String> = BTreeMap::new();
    for path in &cfg.organization.ous {
        if !paths.contains_key(path) {
            let parent_dep = path
                .rsplit_once('/')
                .and_then(|(p, _)| ou_dep.get(p).cloned())
                .into_iter()
                .collect();
            let id = b.add(
                format!("ou:{path}"),
                &mgmt,
                None,
                Action::CreateOu { path: path.clone() },
                format!("create OU {path}"),
                parent_dep,
            );
            ou_dep.insert(path.clone(), id);
        }
    }

    // Accounts, by name.
    for a in &cfg.accounts {
        let mut deps: Vec<String> = ou_dep.get(&a.ou).cloned().into_iter().collect();
        match org.accounts.iter().find(|x| x.name == a.name) {
            None => {
                let quarantine = cfg.guardrails.quarantine_new_accounts;
                if quarantine {
                    deps.extend(quarantine_dep.iter().cloned());
                }
                b.add(
                    format!("account:{}", a.name),
                    &format!("name:{}", a.name),
                    None,
                    Action::CreateAccount {
                        name: a.name.clone(),
                        email: a.email.clone(),
                        ou: a.ou.clone(),
                        quarantine,
                    },
                    format!(
                        "create account {} <{}> in OU {}{}",
                        a.name,
                        a.email,
                        a.ou,
                        if quarantine {
                            " (quarantined until baselined)"
                        } else {
                            ""
                        }
                    ),
                    deps,
                );
            }
            Some(x) => {
                let in_ou = paths.get(&a.ou).is_some_and(|id| *id == x.parent_id);
                if !in_ou {
                    b.add(
                        format!("move:{}", x.id),
                        &x.id,
                        None,
                        Action::MoveAccount {
                            account_id: x.id.clone(),
                            name: a.name.clone(),
                            to_ou: a.ou.clone(),
                        },
                        format!("move account {} ({}) to OU {}", a.name, x.id, a.ou),
                        deps,
                    );
                }
            }
        }
    }

    // Guardrails: prove before anything is created or changed.
    let mut wanted: BTreeMap<String, Vec<Scp>> = BTreeMap::new();
    let mut failures = Vec::new();
    for (ou, blocks) in cfg.blocks_by_ou() {
        let scps = build_guardrails(&ou, &blocks, &settings)
            .map_err(|e| PlanError::Guardrail(format!("OU {ou}: {e}")))?;
        let proof = prove(&ou, &scps, &settings);
        failures.extend(proof.failures());
        wanted.insert(ou, scps);
    }
    let wanted: BTreeMap<String, Vec<Wanted>> = wanted
        .into_iter()
        .map(|(ou, scps)| {
            let w = scps
                .into_iter()
                .map(|s| Wanted {
                    blocks: block_names(&s.blocks),
                    name: s.name,
                    content: s.content,
                })
                .collect();
            (ou, w)
        })
        .collect();

    // Resource control policies (the data perimeter): proved with the SCPs (nothing is planned
    // if either fails), then converged the same way.
    let rcp_blocks = cfg.rcp_blocks_by_ou();
    let rcp_settings = cfg.rcp_settings(&org.id);
    let mut wanted_rcps: BTreeMap<String, Vec<Wanted>> = BTreeMap::new();
    for (ou, blocks) in rcp_blocks {
        let rcps = build_rcps(&ou, &blocks, &rcp_settings)
            .map_err(|e| PlanError::Guardrail(format!("RCPs of OU {ou}: {e}")))?;
        failures.extend(prove_rcps(&ou, &rcps, &rcp_settings).failures());
        let w = rcps
            .into_iter()
            .map(|r| Wanted {
                blocks: r.blocks.iter().map(|b| b.name().to_string()).collect(),
                name: r.name,
                content: r.content,
            })
            .collect();
        wanted_rcps.insert(ou, w);
    }
    if !failures.is_empty() {
        return Err(PlanError::ProofFailed(failures));
    }
    converge_policies(
        &mut b,
        org,
        &paths,
        &ou_dep,
        PolicyType::Scp,
        &wanted,
        &policy_type_dep,
        Some(quarantine.name.as_str()),
    );
    converge_policies(
        &mut b,
        org,
        &paths,
        &ou_dep,
        PolicyType::Rcp,
        &wanted_rcps,
        &rcp_type_dep,
        None,
    );

    let log_archive =
        log_archive::plan_log_archive(cfg, snap, org, &mut b, &access_dep, &mut unobserved);

    // Delegated administration of the security services by the Audit account.
    let audit = org
        .accounts
        .iter()
        .find(|a| a.name == cfg.organization.audit_account);
    let audit_ref = audit
        .map(|a| a.id.clone())
        .unwrap_or_else(|| format!("name:{}", cfg.organization.audit_account));
    let mut principals = Vec::new();
    if svc.guardduty {
        principals.push("guardduty.amazonaws.com");
    }
    if svc.security_hub {
        principals.push("securityhub.amazonaws.com");
    }
    if svc.config {
        principals.push("config.amazonaws.com");
    }
    if svc.access_analyzer {
        principals.push("access-analyzer.amazonaws.com");
    }
    for p in principals {
        let done = audit.is_some_and(|a| delegated_to(snap, org, p, &a.id));
        // Security Hub reports its administrator per account; if those reads failed, the
        // delegation cannot be judged.
        let unread = p == "securityhub.amazonaws.com"
            && snap
                .accounts
                .iter()
                .flat_map(|a| a.regions.iter())
                .any(|r| {
                    r.errors
                        .iter()
                        .any(|e| e.api == "securityhub:GetAdministratorAccount")
                });
        if !done && unread {
            unobserved.push(format!(
                "delegated administrator of {p} (securityhub:GetAdministratorAccount could not be read)"
            ));
        } else if !done {
            let mut deps = if audit.is_none() {
                vec![format!("account:{}", cfg.organization.audit_account)]
            } else {
                vec![]
            };
            deps.extend(access_dep.get(p).cloned());
            b.add(
                format!("delegated-admin:{p}"),
                &mgmt,
                None,
                Action::RegisterDelegatedAdministrator {
                    service_principal: p.into(),
                    account: audit_ref.clone(),
                },
                format!(
                    "make {} ({audit_ref}) the delegated administrator of {p}",
                    cfg.organization.audit_account
                ),
                deps,
            );
        }
    }

    if let Some(audit) = audit {
        audit_changes(cfg, snap, org, &audit.id, &mut b, &mut unobserved);
    }

    // Every account and allowed region.
    for a in &snap.accounts {
        if a.errors.iter().any(|e| e.api == "*") {
            unobserved.push(format!("account {} (could not be entered)", a.account_id));
            continue;
        }
        account_changes(cfg, a, &log_archive, &mut b, &mut unobserved);
    }

    // Quarantined accounts with nothing left to baseline are released.
    if let Some(q) = quarantine_policy {
        for t in &q.targets {
            let observed = snap
                .accounts
                .iter()
                .any(|a| a.account_id == *t && !a.errors.iter().any(|e| e.api == "*"));
            if observed && !b.changes.iter().any(|c| c.account == *t) {
                b.add(
                    format!("release:{t}"),
                    &mgmt,
                    None,
                    Action::DetachPolicy {
                        policy_id: q.id.clone(),
                        name: q.name.clone(),
                        target: t.clone(),
                    },
                    format!("release account {t} from quarantine (its baseline is in place)"),
                    vec![],
                );
            }
        }
    }

    let checked = identity::plan_identity(cfg, snap, org, &mut b, &mut unobserved)?;
    alerting::plan_alerting(cfg, snap, org, &mut b, &mut unobserved);

    let changes = order(b.changes);
    Ok(Plan {
        changes,
        unobserved,
        dead_grants: checked.dead_grants,
        policy_warnings: checked.warnings,
    })
}

fn block_names(blocks: &[Block]) -> Vec<String> {
    blocks.iter().map(|b| b.name().to_string()).collect()
}

/// A generated policy the plan wants attached to an OU.
struct Wanted {
    name: String,
    blocks: Vec<String>,
    content: String,
}

/// Creates, updates and attaches the generated policies of `kind` to their OUs, and detaches
/// rampart-owned ones of that kind (but `keep`, which has its own life cycle) from targets the
/// configuration no longer names. Policies rampart does not own are never touched.
#[allow(clippy::too_many_arguments)]
fn converge_policies(
    b: &mut Builder,
    org: &Organization,
    paths: &BTreeMap<String, String>,
    ou_dep: &BTreeMap<String, String>,
    kind: PolicyType,
    wanted: &BTreeMap<String, Vec<Wanted>>,
    type_dep: &[String],
    keep: Option<&str>,
) {
    let mgmt = org.management_account_id.as_str();
    let existing_of_kind = || {
        org.policies
            .iter()
            .filter(move |p| p.policy_type == kind.as_str())
    };
    let (id_prefix, what) = match kind {
        PolicyType::Scp => ("scp", "SCP"),
        PolicyType::Rcp => ("rcp", "RCP"),
    };
    for (ou, policies) in wanted {
        let ou_id = paths.get(ou);
        for s in policies {
            let existing = existing_of_kind().find(|p| p.name == s.name);
            let mut deps: Vec<String> = type_dep.to_vec();
            let policy_dep = match existing {
                None => Some(b.add(
                    format!("{id_prefix}:{}", s.name),
                    mgmt,
                    None,
                    Action::CreatePolicy {
                        name: s.name.clone(),
                        blocks: s.blocks.clone(),
                        content: s.content.clone(),
                        policy_type: kind,
                    },
                    format!(
                        "create {what} {} ({} characters: {})",
                        s.name,
                        s.content.len(),
                        s.blocks.join(", ")
                    ),
                    type_dep.to_vec(),
                )),
                Some(p) if !same_json(&p.content, &s.content) => Some(b.add(
                    format!("{id_prefix}:{}", s.name),
                    mgmt,
                    None,
                    Action::UpdatePolicy {
                        policy_id: p.id.clone(),
                        name: s.name.clone(),
                        content: s.content.clone(),
                    },
                    format!(
                        "update {what} {} ({}) to the generated content",
                        s.name, p.id
                    ),
                    vec![],
                )),
                Some(_) => None,
            };
            deps.extend(policy_dep);
            deps.extend(ou_dep.get(ou).cloned());
            let attached = match (existing, ou_id) {
                (Some(p), Some(id)) => p.targets.contains(id),
                _ => false,
            };
            if !attached {
                b.add(
                    format!("attach:{}:{ou}", s.name),
                    mgmt,
                    None,
                    Action::AttachPolicy {
                        name: s.name.clone(),
                        ou: ou.clone(),
                        policy_type: kind,
                    },
                    format!("attach {what} {} to OU {ou}", s.name),
                    deps,
                );
            }
        }
    }
    // rampart-owned policies attached where the configuration no longer wants them.
    for p in existing_of_kind()
        .filter(|p| p.name.starts_with(OWNED_PREFIX) && Some(p.name.as_str()) != keep)
    {
        let keep_target = wanted
            .iter()
            .find(|(_, v)| v.iter().any(|s| s.name == p.name))
            .and_then(|(ou, _)| paths.get(ou));
        for t in &p.targets {
            if keep_target == Some(t) {
                continue;
            }
            b.add(
                format!("detach:{}:{t}", p.name),
                mgmt,
                None,
                Action::DetachPolicy {
                    policy_id: p.id.clone(),
                    name: p.name.clone(),
                    target: t.clone(),
                },
                format!(
                    "detach rampart-owned {what} {} from {t} (no longer in rampart.toml)",
                    p.name
                ),
                vec![],
            );
        }
    }
}

/// The Security Hub standards rampart.toml can name, with the path of each standard's regional
/// ARN (`arn:aws:securityhub:REGION::standards/PATH`, as `DescribeStandards` lists them). Security
/// Hub offers CIS AWS Foundations v5.0.0, v3.0.0 and v1.4.0 this way (v1.2.0 only as a global
/// `ruleset` ARN, not offered here).
pub const STANDARDS: &[(&str, &str)] = &[
    ("fsbp", "aws-foundational-security-best-practices/v/1.0.0"),
    ("cis-5.0", "cis-aws-foundations-benchmark/v/5.0.0"),
    ("cis-3.0", "cis-aws-foundations-benchmark/v/3.0.0"),
    ("cis-1.4", "cis-aws-foundations-benchmark/v/1.4.0"),
    ("nist-800-53", "nist-800-53/v/5.0.0"),
    ("pci-dss", "pci-dss/v/3.2.1"),
];

/// The Security Hub standard ARN for a `standards` name of rampart.toml.
pub fn standard_arn(name: &str, region: &str) -> Option<String> {
    let (_, path) = STANDARDS.iter().find(|(n, _)| *n == name)?;
    Some(format!("arn:aws:securityhub:{region}::standards/{path}"))
}

/// Name of the Config aggregator and the Access Analyzer rampart creates in the Audit account.
pub const ORGANIZATION_VIEW: &str = "rampart-organization";

/// What the Audit account runs for the whole organization, once it is observed as the delegated
/// administrator: auto-enable for new members, the Config aggregator, the organization analyzer.
/// Settings only the administrator can read are planned once read (a later round of `apply`);
/// a read that failed is reported, never guessed.
fn audit_changes(
    cfg: &Config,
    snap: &Snapshot,
    org: &Organization,
    audit: &str,
    b: &mut Builder,
    unobserved: &mut Vec<String>,
) {
    let Some(acct) = snap
        .accounts
        .iter()
        .find(|a| a.account_id == audit && !a.errors.iter().any(|e| e.api == "*"))
    else {
        return;
    };
    let svc = &cfg.security_services;
    for (i, region) in cfg.organization.allowed_regions.iter().enumerate() {
        let Some(r) = acct.regions.iter().find(|r| r.region == *region) else {
            continue;
        };
        let failed = |api: &str| r.errors.iter().any(|e| e.api.starts_with(api));
        let mut auto = |principal: &str, on: Option<bool>, api: &str| {
            if !delegated_to(snap, org, principal, audit) {
                return;
            }
            match on {
                Some(true) => {}
                Some(false) => {
                    b.add(
                        format!("auto-enable:{principal}:{region}"),
                        audit,
                        Some(region),
                        Action::EnableOrganizationAutoEnable {
                            service_principal: principal.into(),
                        },
                        format!("turn on {principal} for every new member account in {region} (from the Audit account {audit})"),
                        vec![],
                    );
                }
                None if failed(api) => unobserved.push(format!(
                    "{principal} organization auto-enable in {region} ({api} could not be read)"
                )),
                None => unobserved.push(format!(
                    "{principal} organization auto-enable in {region} (not readable yet: the Audit account {audit} is not registered as its administrator with Organizations, or has no detector there)"
                )),
            }
        };
        if svc.guardduty {
            let on = r
                .guardduty
                .as_ref()
                .and_then(|g| g.auto_enable_members.as_deref())
                .map(|m| m == "ALL");
            auto(
                "guardduty.amazonaws.com",
                on,
                "guardduty:DescribeOrganizationConfiguration",
            );
        }
        if svc.security_hub {
            let on = r.securityhub.as_ref().and_then(|h| h.auto_enable);
            auto(
                "securityhub.amazonaws.com",
                on,
                "securityhub:DescribeOrganizationConfiguration",
            );
        }
        if svc.access_analyzer {
            if failed("access-analyzer:") {
                unobserved.push(format!(
                    "the organization Access Analyzer in {region} (access-analyzer:ListAnalyzers could not be read in {audit})"
                ));
            } else if !r
                .access_analyzers
                .iter()
                .any(|a| a.analyzer_type == "ORGANIZATION")
            {
                b.add(
                    format!("analyzer:{audit}:{region}"),
                    audit,
                    Some(region),
                    Action::CreateOrganizationAnalyzer {
                        name: ORGANIZATION_VIEW.into(),
                    },
                    format!("create the organization Access Analyzer in the Audit account {audit} region {region}"),
                    vec!["delegated-admin:access-analyzer.amazonaws.com".into()],
                );
            }
        }
        // One aggregator, in the home region, sees every account and region.
        if svc.config && i == 0 {
            if failed("config:DescribeConfigurationAggregators") {
                unobserved.push(format!(
                    "the Config aggregator in {region} (config:DescribeConfigurationAggregators could not be read in {audit})"
                ));
            } else if !r
                .config
                .aggregators
                .iter()
                .any(|a| a.organization && a.all_regions)
            {
                b.add(
                    format!("aggregator:{audit}:{region}"),
                    audit,
                    Some(region),
                    Action::CreateConfigAggregator {
                        name: ORGANIZATION_VIEW.into(),
                    },
                    format!("create the organization-wide Config aggregator in the Audit account {audit} region {region}"),
                    vec!["delegated-admin:config.amazonaws.com".into()],
                );
            }
        }
    }
}

/// Whether `account` administers `principal`'s service for the organization: registered with
/// Organizations, or (GuardDuty, Security Hub, whose own APIs make the delegation) as the
/// services themselves report it.
fn delegated_to(snap: &Snapshot, org: &Organization, principal: &str, account: &str) -> bool {
    if org
        .delegated_administrators
        .iter()
        .any(|d| d.service_principal == principal && d.account_id == account)
    {
        return true;
    }
    let regions = || snap.accounts.iter().flat_map(|a| a.regions.iter());
    match principal {
        "guardduty.amazonaws.com" => regions().any(|r| {
            r.guardduty
                .as_ref()
                .is_some_and(|g| g.organization_admin_accounts.iter().any(|x| x == account))
        }),
        "securityhub.amazonaws.com" => regions().any(|r| {
            r.securityhub
                .as_ref()
                .is_some_and(|h| h.administrator_account_id.as_deref() == Some(account))
        }),
        _ => false,
    }
}

fn account_changes(
    cfg: &Config,
    a: &AccountSnapshot,
    log_archive: &log_archive::LogArchiveRefs,
    b: &mut Builder,
    unobserved: &mut Vec<String>,
) {
    let id = &a.account_id;
    let bpa = a.s3.account_public_access_block.as_ref();
    let bpa_ok = bpa.is_some_and(|p| {
        p.block_public_acls
            && p.ignore_public_acls
            && p.block_public_policy
            && p.restrict_public_buckets
    });
    if !bpa_ok
        && !a
            .errors
            .iter()
            .any(|e| e.api.starts_with("s3control:GetPublicAccessBlock"))
    {
        b.add(
            format!("bpa:{id}"),
            id,
            None,
            Action::PutAccountPublicAccessBlock,
            format!("turn on all four S3 Block Public Access settings for account {id}"),
            vec![],
        );
    }
    let pw_ok = a.iam.password_policy.as_ref().is_some_and(|p| {
        p.minimum_password_length.unwrap_or(0) >= 14
            && p.password_reuse_prevention.unwrap_or(0) >= 24
    });
    if !pw_ok
        && !a
            .errors
            .iter()
            .any(|e| e.api.starts_with("iam:GetAccountPasswordPolicy"))
    {
        b.add(
            format!("password-policy:{id}"),
            id,
            None,
            Action::UpdatePasswordPolicy {
                minimum_length: 14,
                reuse_prevention: 24,
            },
            format!("set the IAM password policy of account {id} to 14+ characters, 24 remembered (CIS 1.8/1.9)"),
            vec![],
        );
    }
    for region in &cfg.organization.allowed_regions {
        let Some(r) = a.regions.iter().find(|r| &r.region == region) else {
            unobserved.push(format!(
                "account {id} region {region} (not in the snapshot)"
            ));
            continue;
        };
        let failed = |api: &str| r.errors.iter().any(|e| e.api.starts_with(api));
        if !r.ebs_encryption_by_default && !failed("ec2:GetEbsEncryptionByDefault") {
            b.add(
                format!("ebs:{id}:{region}"),
                id,
                Some(region),
                Action::EnableEbsDefaultEncryption,
                format!("enable EBS default encryption in account {id} region {region}"),
                vec![],
            );
        }
        if cfg.security_services.guardduty
            && r.guardduty.as_ref().is_none_or(|g| g.status != "ENABLED")
            && !failed("guardduty:")
        {
            b.add(
                format!("guardduty:{id}:{region}"),
                id,
                Some(region),
                Action::CreateGuardDutyDetector,
                format!("enable GuardDuty in account {id} region {region}"),
                vec!["delegated-admin:guardduty.amazonaws.com".into()],
            );
        }
        if cfg.security_services.security_hub && r.securityhub.is_none() && !failed("securityhub:")
        {
            b.add(
                format!("securityhub:{id}:{region}"),
                id,
                Some(region),
                Action::EnableSecurityHub,
                format!("enable Security Hub in account {id} region {region}"),
                vec!["delegated-admin:securityhub.amazonaws.com".into()],
            );
        }
        if cfg.security_services.security_hub
            && let Some(h) = &r.securityhub
        {
            let wanted: Vec<String> = cfg
                .security_services
                .standards
                .iter()
                .filter_map(|n| standard_arn(n, region))
                .collect();
            match &h.enabled_standards {
                Some(on) => {
                    let missing: Vec<String> =
                        wanted.into_iter().filter(|w| !on.contains(w)).collect();
                    if !missing.is_empty() {
                        b.add(
                            format!("standards:{id}:{region}"),
                            id,
                            Some(region),
                            Action::EnableSecurityHubStandards {
                                standards: missing.clone(),
                            },
                            format!(
                                "enable Security Hub standards {} in account {id} region {region}",
                                missing
                                    .iter()
                                    .map(|a| a.rsplit_once("standards/").map_or(a.as_str(), |x| x.1))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                            vec![],
                        );
                    }
                }
                None if !wanted.is_empty() => unobserved.push(format!(
                    "Security Hub standards in account {id} region {region} (securityhub:GetEnabledStandards could not be read)"
                )),
                None => {}
            }
        }
        if cfg.security_services.config
            && !r.config.recorders.iter().any(|c| c.recording)
            && !failed("config:")
        {
            b.add(
                format!("config:{id}:{region}"),
                id,
                Some(region),
                Action::StartConfigRecorder {
                    bucket: cfg.log_archive.bucket.clone(),
                },
                format!(
                    "record all resources with AWS Config in account {id} region {region}, delivered to s3://{}",
                    cfg.log_archive.bucket
                ),
                log_archive.bucket_dep.clone(),
            );
        }
    }
}

/// Dependencies first (stable otherwise); dependencies on changes not in the plan are dropped.
fn order(changes: Vec<Change>) -> Vec<Change> {
    let ids: Vec<String> = changes.iter().map(|c| c.id.clone()).collect();
    let mut pending: Vec<Change> = changes
        .into_iter()
        .map(|mut c| {
            c.depends_on.retain(|d| ids.contains(d));
            c
        })
        .collect();
    let mut done: Vec<String> = Vec::new();
    let mut out = Vec::new();
    while !pending.is_empty() {
        let before = pending.len();
        let mut rest = Vec::new();
        for c in pending {
            if c.depends_on.iter().all(|d| done.contains(d)) {
                done.push(c.id.clone());
                out.push(c);
            } else {
                rest.push(c);
            }
        }
        pending = rest;
        if pending.len() == before {
            // A cycle cannot come from the planner; keep the rest in order rather than loop.
            out.append(&mut pending);
        }
    }
    out
}

impl Plan {
    /// The plan for people: one line per change, destructive ones marked.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        if self.changes.is_empty() {
            s.push_str("No changes: the organization matches rampart.toml.\n");
        }
        for (i, c) in self.changes.iter().enumerate() {
            let mark = if c.destructive { "!" } else { "+" };
            s.push_str(&format!("{mark} {:>3}. {}\n", i + 1, c.description));
        }
        let destructive = self.changes.iter().filter(|c| c.destructive).count();
        if !self.changes.is_empty() {
            s.push_str(&format!(
                "\n{} change(s), {destructive} destructive (marked !).\n",
                self.changes.len()
            ));
        }
        for u in &self.unobserved {
            s.push_str(&format!("not observed, nothing planned: {u}\n"));
        }
        for w in &self.policy_warnings {
            s.push_str(&format!("warning: {w}\n"));
        }
        for d in &self.dead_grants {
            s.push_str(&format!("dead grant: {}\n", d.describe()));
        }
        s
    }
}

pub mod alerting;
pub mod identity;
pub mod log_archive;

#[cfg(test)]
pub(crate) mod tests;
