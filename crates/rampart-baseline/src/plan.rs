//! The plan: the desired baseline (`rampart.toml` + generated guardrails) compared with a
//! snapshot of the organization, as ordered, typed changes. Drift is the same comparison after
//! out-of-band changes, so `plan` shows exactly what drifted.
//!
//! Covered today: Organizations (SCP policy type, OUs, accounts and their OU, guardrail SCPs
//! created/updated/attached, rampart-owned SCPs detached when no longer wanted), the organization
//! trail (present, logging, multi-region, log file validation), delegated administration of the
//! security services, and per account and allowed region: EBS default encryption, GuardDuty,
//! Config recording, account S3 Block Public Access and the IAM password policy. Not yet: the log
//! archive bucket settings, KMS, CIS 4.x alarms and Security Hub standards.

use crate::config::Config;
use crate::guardrails::{Block, Scp, build_guardrails};
use crate::proof::prove;
use rampart_snapshot::{AccountSnapshot, Organization, Snapshot};
use serde::Serialize;
use std::collections::BTreeMap;

/// Prefix of every SCP rampart creates: rampart only ever detaches or changes policies it owns.
pub const OWNED_PREFIX: &str = "rampart-";

/// One API-level change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
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
    },
    MoveAccount {
        account_id: String,
        name: String,
        to_ou: String,
    },
    CreatePolicy {
        name: String,
        blocks: Vec<Block>,
        content: String,
    },
    UpdatePolicy {
        policy_id: String,
        name: String,
        content: String,
    },
    AttachPolicy {
        name: String,
        ou: String,
    },
    DetachPolicy {
        policy_id: String,
        name: String,
        target: String,
    },
    CreateOrganizationTrail {
        name: String,
        bucket: String,
    },
    UpdateTrail {
        name: String,
        multi_region: bool,
        log_file_validation: bool,
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
    StartConfigRecorder,
    PutAccountPublicAccessBlock,
    UpdatePasswordPolicy {
        minimum_length: u32,
        reuse_prevention: u32,
    },
}

/// A change: where, what, whether it destroys something, and what it waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub changes: Vec<Change>,
    /// Accounts or regions the snapshot could not observe: no change is planned for them.
    pub unobserved: Vec<String>,
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

    // SCP policy type on the root.
    let root = org.roots.first().map(|r| r.id.clone()).unwrap_or_default();
    let mut policy_type_dep = Vec::new();
    if !org.roots.iter().any(|r| {
        r.enabled_policy_types
            .iter()
            .any(|t| t == "SERVICE_CONTROL_POLICY")
    }) {
        policy_type_dep.push(b.add(
            "policy-type:scp".into(),
            &mgmt,
            None,
            Action::EnablePolicyType {
                policy_type: "SERVICE_CONTROL_POLICY".into(),
            },
            format!("enable service control policies on root {root}"),
            vec![],
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
        let deps: Vec<String> = ou_dep.get(&a.ou).cloned().into_iter().collect();
        match org.accounts.iter().find(|x| x.name == a.name) {
            None => {
                b.add(
                    format!("account:{}", a.name),
                    &format!("name:{}", a.name),
                    None,
                    Action::CreateAccount {
                        name: a.name.clone(),
                        email: a.email.clone(),
                        ou: a.ou.clone(),
                    },
                    format!("create account {} <{}> in OU {}", a.name, a.email, a.ou),
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
    let settings = cfg.guardrail_settings();
    let mut wanted: BTreeMap<String, Vec<Scp>> = BTreeMap::new();
    let mut failures = Vec::new();
    for (ou, blocks) in cfg.blocks_by_ou() {
        let scps = build_guardrails(&ou, &blocks, &settings)
            .map_err(|e| PlanError::Guardrail(format!("OU {ou}: {e}")))?;
        let proof = prove(&ou, &scps, &settings);
        failures.extend(proof.failures());
        wanted.insert(ou, scps);
    }
    if !failures.is_empty() {
        return Err(PlanError::ProofFailed(failures));
    }
    let scp_policies = || {
        org.policies
            .iter()
            .filter(|p| p.policy_type == "SERVICE_CONTROL_POLICY")
    };
    for (ou, scps) in &wanted {
        let ou_id = paths.get(ou);
        for s in scps {
            let existing = scp_policies().find(|p| p.name == s.name);
            let mut deps: Vec<String> = policy_type_dep.clone();
            let policy_dep = match existing {
                None => Some(b.add(
                    format!("scp:{}", s.name),
                    &mgmt,
                    None,
                    Action::CreatePolicy {
                        name: s.name.clone(),
                        blocks: s.blocks.clone(),
                        content: s.content.clone(),
                    },
                    format!(
                        "create SCP {} ({} characters: {})",
                        s.name,
                        s.content.len(),
                        s.blocks.iter().map(|b| b.name()).collect::<Vec<_>>().join(", ")
                    ),
                    policy_type_dep.clone(),
                )),
                Some(p) if !same_json(&p.content, &s.content) => Some(b.add(
                    format!("scp:{}", s.name),
                    &mgmt,
                    None,
                    Action::UpdatePolicy {
                        policy_id: p.id.clone(),
                        name: s.name.clone(),
                        content: s.content.clone(),
                    },
                    format!("update SCP {} ({}) to the generated content", s.name, p.id),
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
                    &mgmt,
                    None,
                    Action::AttachPolicy {
                        name: s.name.clone(),
                        ou: ou.clone(),
                    },
                    format!("attach SCP {} to OU {ou}", s.name),
                    deps,
                );
            }
        }
    }
    // rampart-owned SCPs attached where the configuration no longer wants them.
    let wanted_names: Vec<&str> = wanted
        .values()
        .flat_map(|v| v.iter().map(|s| s.name.as_str()))
        .collect();
    for p in scp_policies().filter(|p| p.name.starts_with(OWNED_PREFIX)) {
        let keep_target = wanted
            .iter()
            .find(|(_, v)| v.iter().any(|s| s.name == p.name))
            .and_then(|(ou, _)| paths.get(ou));
        for t in &p.targets {
            if wanted_names.contains(&p.name.as_str()) && keep_target == Some(t) {
                continue;
            }
            b.add(
                format!("detach:{}:{t}", p.name),
                &mgmt,
                None,
                Action::DetachPolicy {
                    policy_id: p.id.clone(),
                    name: p.name.clone(),
                    target: t.clone(),
                },
                format!(
                    "detach rampart-owned SCP {} from {t} (no longer in rampart.toml)",
                    p.name
                ),
                vec![],
            );
        }
    }

    // Organization trail (in the management account).
    let trail_name = &cfg.log_archive.trail_name;
    let trail = snap
        .accounts
        .iter()
        .filter(|a| a.account_id == mgmt)
        .flat_map(|a| a.trails.iter())
        .find(|t| t.name == *trail_name && t.is_organization_trail);
    match trail {
        None => {
            b.add(
                format!("trail:{trail_name}"),
                &mgmt,
                cfg.organization.allowed_regions.first().map(String::as_str),
                Action::CreateOrganizationTrail {
                    name: trail_name.clone(),
                    bucket: cfg.log_archive.bucket.clone(),
                },
                format!(
                    "create organization trail {trail_name} (all regions, log file validation) into s3://{}",
                    cfg.log_archive.bucket
                ),
                vec![],
            );
        }
        Some(t) => {
            if !t.is_multi_region || !t.log_file_validation_enabled {
                b.add(
                    format!("trail-settings:{trail_name}"),
                    &mgmt,
                    Some(&t.home_region),
                    Action::UpdateTrail {
                        name: trail_name.clone(),
                        multi_region: true,
                        log_file_validation: true,
                    },
                    format!("make trail {trail_name} multi-region with log file validation"),
                    vec![],
                );
            }
            if t.is_logging == Some(false) {
                b.add(
                    format!("trail-logging:{trail_name}"),
                    &mgmt,
                    Some(&t.home_region),
                    Action::StartLogging {
                        name: trail_name.clone(),
                    },
                    format!("start logging on trail {trail_name} (it was stopped)"),
                    vec![],
                );
            }
        }
    }

    // Delegated administration of the security services by the Audit account.
    let audit = org
        .accounts
        .iter()
        .find(|a| a.name == cfg.organization.audit_account);
    let audit_ref = audit
        .map(|a| a.id.clone())
        .unwrap_or_else(|| format!("name:{}", cfg.organization.audit_account));
    let svc = &cfg.security_services;
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
        let done = org
            .delegated_administrators
            .iter()
            .any(|d| d.service_principal == p && Some(&d.account_id) == audit.map(|a| &a.id));
        if !done {
            let deps = if audit.is_none() {
                vec![format!("account:{}", cfg.organization.audit_account)]
            } else {
                vec![]
            };
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

    // Every account and allowed region.
    for a in &snap.accounts {
        if a.errors.iter().any(|e| e.api == "*") {
            unobserved.push(format!("account {} (could not be entered)", a.account_id));
            continue;
        }
        account_changes(cfg, a, &mut b, &mut unobserved);
    }

    let changes = order(b.changes);
    Ok(Plan {
        changes,
        unobserved,
    })
}

fn account_changes(
    cfg: &Config,
    a: &AccountSnapshot,
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
        if cfg.security_services.config
            && !r.config.recorders.iter().any(|c| c.recording)
            && !failed("config:")
        {
            b.add(
                format!("config:{id}:{region}"),
                id,
                Some(region),
                Action::StartConfigRecorder,
                format!("record all resources with AWS Config in account {id} region {region}"),
                vec![],
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
        s
    }
}

#[cfg(test)]
mod tests;
