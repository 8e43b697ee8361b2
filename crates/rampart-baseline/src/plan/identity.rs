//! `[identity]` compared with the snapshot's Identity Center: permission sets (attributes,
//! managed and customer managed policies, inline policy, boundary), groups, and account
//! assignments, with assignments by OU expanded to the accounts the organization holds now.
//!
//! Ownership: rampart converges the permission sets and groups `[identity]` names. It deletes a
//! permission set only when it carries the `rampart:managed` tag it was created with, a group
//! only when its description carries [`GROUP_MARK`], and an assignment only when its permission
//! set is one rampart manages. Everything else in Identity Center is left alone.
//!
//! Inline policies are linted first (errors stop the plan), then each Allow statement is
//! checked with the policy engine against the SCPs in force in every account the set is
//! assigned to: a statement all of whose actions the SCPs deny there is a [`DeadGrant`].

use super::{Action, Builder, PlanError, same_json};
use crate::config::identity::{ROOT_PATH, boundary, policy_reference};
use crate::config::{Config, Identity};
use rampart_policy::lint::{PolicyKind, Severity, lint};
use rampart_policy::proofs::scp_chain_denies;
use rampart_policy::{ContextValue, OrgLevel, parse_policy};
use rampart_snapshot::{IdentityCenter, Organization, PermissionSet, Snapshot};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Tag rampart puts on the permission sets it creates (and only deletes those).
pub const MANAGED_TAG: &str = "rampart:managed";

/// Suffix of the description of the groups rampart creates (identity-store groups carry no
/// tags); only groups with it are ever deleted.
pub const GROUP_MARK: &str = "(managed by rampart)";

/// A group's description as rampart writes it.
pub fn group_description(description: &str) -> String {
    if description.is_empty() {
        GROUP_MARK.to_string()
    } else {
        format!("{description} {GROUP_MARK}")
    }
}

/// A permission-set statement the guardrails deny in accounts it is assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadGrant {
    pub permission_set: String,
    /// 0-based index of the statement in the inline policy, and its Sid if any.
    pub statement: usize,
    pub sid: Option<String>,
    /// The statement's actions as written.
    pub actions: Vec<String>,
    /// Accounts where every one of those actions is denied by the SCPs in force.
    pub accounts: Vec<String>,
    /// True when that is every account the set is assigned to.
    pub everywhere: bool,
}

impl DeadGrant {
    pub fn describe(&self) -> String {
        format!(
            "permission set {} inline statement {}{} ({}) is denied by the guardrails in {} ({}): it grants nothing there",
            self.permission_set,
            self.statement + 1,
            self.sid
                .as_deref()
                .map(|s| format!(" `{s}`"))
                .unwrap_or_default(),
            self.actions.join(", "),
            if self.everywhere {
                "every account it is assigned to"
            } else {
                "some of its accounts"
            },
            self.accounts.join(", ")
        )
    }
}

/// What the identity planner found besides changes.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    pub dead_grants: Vec<DeadGrant>,
    pub warnings: Vec<String>,
}

/// Plans `[identity]`; nothing when the section is absent.
pub(super) fn plan_identity(
    cfg: &Config,
    snap: &Snapshot,
    org: &Organization,
    b: &mut Builder,
    unobserved: &mut Vec<String>,
) -> Result<Checked, PlanError> {
    let Some(want) = &cfg.identity else {
        return Ok(Checked::default());
    };
    let mut checked = lint_inline(want)?;
    // Identity Center lives in the home region (the first allowed region).
    let region = cfg
        .organization
        .allowed_regions
        .first()
        .cloned()
        .unwrap_or_default();
    let Some(ic) = &snap.identity_center else {
        unobserved.push(
            "IAM Identity Center (not in the snapshot: collect with the management account's credentials)"
                .into(),
        );
        return Ok(checked);
    };
    let failed = |api: &str, resource: Option<&str>| {
        ic.errors.iter().any(|e| {
            e.api.starts_with(api) && (resource.is_none() || e.resource.as_deref() == resource)
        })
    };
    if ic.instance.is_none() {
        unobserved.push(if failed("sso:ListInstances", None) {
            format!("IAM Identity Center in {region} (sso:ListInstances could not be read)")
        } else {
            format!(
                "IAM Identity Center is not enabled in {region}: enable it for the organization in the IAM Identity Center console of the management account (AWS offers no API for that), then run `rampart apply` again"
            )
        });
        return Ok(checked);
    }
    if failed("sso:ListPermissionSets", None) || failed("sso:DescribePermissionSet", None) {
        unobserved.push(
            "Identity Center permission sets (sso:ListPermissionSets/DescribePermissionSet could not be read)"
                .into(),
        );
        return Ok(checked);
    }
    let mgmt = org.management_account_id.as_str();
    let r = Some(region.as_str());
    let mut ps_deps: BTreeMap<String, Vec<String>> = BTreeMap::new();

    // Permission sets.
    for p in &want.permission_sets {
        let mut deps = Vec::new();
        let existing = ic.permission_sets.iter().find(|x| x.name == p.name);
        let created = match existing {
            None => Some(b.add(
                format!("permission-set:{}", p.name),
                mgmt,
                r,
                Action::CreatePermissionSet {
                    name: p.name.clone(),
                    description: p.description.clone(),
                    session_duration: p.session_duration.clone(),
                },
                format!(
                    "create permission set {} (session {})",
                    p.name, p.session_duration
                ),
                vec![],
            )),
            Some(x) => {
                let same_description = x.description.as_deref().unwrap_or("") == p.description;
                let same_session =
                    x.session_duration.as_deref().unwrap_or("PT1H") == p.session_duration;
                if !same_description || !same_session {
                    deps.push(b.add(
                        format!("permission-set:{}", p.name),
                        mgmt,
                        r,
                        Action::UpdatePermissionSet {
                            name: p.name.clone(),
                            description: p.description.clone(),
                            session_duration: p.session_duration.clone(),
                        },
                        format!(
                            "update permission set {} (description, session {})",
                            p.name, p.session_duration
                        ),
                        vec![],
                    ));
                }
                None
            }
        };
        let after: Vec<String> = created.iter().cloned().collect();
        deps.extend(created.iter().cloned());
        let empty = PermissionSet::default();
        let have = existing.unwrap_or(&empty);
        let arn = existing.map(|x| x.arn.as_str());
        let mut each = |b: &mut Builder, kind: &str, what: &str, action: Action, text: String| {
            let destructive = matches!(
                action,
                Action::DetachManagedPolicyFromPermissionSet { .. }
                    | Action::DetachCustomerManagedPolicyReference { .. }
                    | Action::DeleteInlinePolicyFromPermissionSet { .. }
                    | Action::DeletePermissionsBoundaryFromPermissionSet { .. }
            );
            let id = b.add(
                format!("{kind}:{}:{what}", p.name),
                mgmt,
                r,
                action,
                text,
                after.clone(),
            );
            if destructive {
                mark_destructive(b);
            }
            deps.push(id);
        };
        // Managed policies.
        if existing.is_some() && failed("sso:ListManagedPoliciesInPermissionSet", arn) {
            unobserved.push(format!("managed policies of permission set {}", p.name));
        } else {
            for m in p
                .managed_policies
                .iter()
                .filter(|m| !have.managed_policies.contains(m))
            {
                each(
                    b,
                    "ps-policy",
                    m,
                    Action::AttachManagedPolicyToPermissionSet {
                        permission_set: p.name.clone(),
                        policy_arn: m.clone(),
                    },
                    format!("attach {m} to permission set {}", p.name),
                );
            }
            for m in have
                .managed_policies
                .iter()
                .filter(|m| !p.managed_policies.contains(m))
            {
                each(
                    b,
                    "ps-policy",
                    m,
                    Action::DetachManagedPolicyFromPermissionSet {
                        permission_set: p.name.clone(),
                        policy_arn: m.clone(),
                    },
                    format!(
                        "detach {m} from permission set {} (not in rampart.toml)",
                        p.name
                    ),
                );
            }
        }
        // Customer managed policy references.
        if existing.is_some() && failed("sso:ListCustomerManagedPolicyReferences", arn) {
            unobserved.push(format!(
                "customer managed policies of permission set {}",
                p.name
            ));
        } else {
            let wanted: Vec<_> = p
                .customer_managed_policies
                .iter()
                .map(|c| policy_reference(c))
                .collect();
            for c in wanted
                .iter()
                .filter(|c| !have.customer_managed_policies.contains(c))
            {
                each(
                    b,
                    "ps-cmp",
                    &format!("{}{}", c.path, c.name),
                    Action::AttachCustomerManagedPolicyReference {
                        permission_set: p.name.clone(),
                        policy: c.clone(),
                    },
                    format!(
                        "attach customer managed policy {}{} to permission set {}",
                        c.path, c.name, p.name
                    ),
                );
            }
            for c in have
                .customer_managed_policies
                .iter()
                .filter(|c| !wanted.contains(c))
            {
                each(
                    b,
                    "ps-cmp",
                    &format!("{}{}", c.path, c.name),
                    Action::DetachCustomerManagedPolicyReference {
                        permission_set: p.name.clone(),
                        policy: c.clone(),
                    },
                    format!(
                        "detach customer managed policy {}{} from permission set {} (not in rampart.toml)",
                        c.path, c.name, p.name
                    ),
                );
            }
        }
        // Inline policy.
        if existing.is_some() && failed("sso:GetInlinePolicyForPermissionSet", arn) {
            unobserved.push(format!("the inline policy of permission set {}", p.name));
        } else {
            match (&p.inline_policy, &have.inline_policy) {
                (Some(w), Some(h)) if same_json(w, h) => {}
                (Some(w), _) => each(
                    b,
                    "ps-inline",
                    "policy",
                    Action::PutInlinePolicyToPermissionSet {
                        permission_set: p.name.clone(),
                        policy: w.clone(),
                    },
                    format!("put the inline policy of permission set {}", p.name),
                ),
                (None, Some(_)) => each(
                    b,
                    "ps-inline",
                    "policy",
                    Action::DeleteInlinePolicyFromPermissionSet {
                        permission_set: p.name.clone(),
                    },
                    format!(
                        "delete the inline policy of permission set {} (not in rampart.toml)",
                        p.name
                    ),
                ),
                (None, None) => {}
            }
        }
        // Permissions boundary.
        if existing.is_some() && failed("sso:GetPermissionsBoundaryForPermissionSet", arn) {
            if p.permissions_boundary.is_some() {
                unobserved.push(format!(
                    "the permissions boundary of permission set {} (sso:GetPermissionsBoundaryForPermissionSet could not be read)",
                    p.name
                ));
            }
        } else {
            let wanted = p.permissions_boundary.as_deref().map(boundary);
            match (&wanted, &have.permissions_boundary) {
                (Some(w), Some(h)) if w == h => {}
                (Some(w), _) => each(
                    b,
                    "ps-boundary",
                    "boundary",
                    Action::PutPermissionsBoundaryToPermissionSet {
                        permission_set: p.name.clone(),
                        boundary: w.clone(),
                    },
                    format!(
                        "set the permissions boundary of permission set {} to {}",
                        p.name,
                        p.permissions_boundary.as_deref().unwrap_or_default()
                    ),
                ),
                (None, Some(_)) => each(
                    b,
                    "ps-boundary",
                    "boundary",
                    Action::DeletePermissionsBoundaryFromPermissionSet {
                        permission_set: p.name.clone(),
                    },
                    format!(
                        "remove the permissions boundary of permission set {} (not in rampart.toml)",
                        p.name
                    ),
                ),
                (None, None) => {}
            }
        }
        // A set already assigned somewhere is re-provisioned after it changes.
        if let Some(x) = existing
            && !deps.is_empty()
            && ic.assignments.iter().any(|a| a.permission_set_arn == x.arn)
        {
            let d = deps.clone();
            deps.push(b.add(
                format!("ps-provision:{}", p.name),
                mgmt,
                r,
                Action::ProvisionPermissionSet {
                    permission_set: p.name.clone(),
                },
                format!(
                    "provision permission set {} to the accounts it is assigned in",
                    p.name
                ),
                d,
            ));
        }
        ps_deps.insert(p.name.clone(), deps);
    }

    // Groups.
    let groups_read = !failed("identitystore:", None);
    let mut group_deps: BTreeMap<String, String> = BTreeMap::new();
    if !groups_read {
        unobserved.push(
            "Identity Center groups and assignments (identitystore:ListGroups could not be read)"
                .into(),
        );
        return Ok(checked);
    }
    for g in &want.groups {
        if !ic.groups.iter().any(|x| x.display_name == g.name) {
            let id = b.add(
                format!("group:{}", g.name),
                mgmt,
                r,
                Action::CreateGroup {
                    name: g.name.clone(),
                    description: group_description(&g.description),
                },
                format!("create group {} in the identity store", g.name),
                vec![],
            );
            group_deps.insert(g.name.clone(), id);
        }
    }

    // Assignments: wanted (account, permission set, group) from the organization as it is.
    let wanted = wanted_assignments(want, cfg, org);
    if failed("sso:ListAccountAssignments", None)
        || failed("sso:ListAccountsForProvisionedPermissionSet", None)
    {
        unobserved.push(
            "Identity Center account assignments (sso:ListAccountAssignments could not be read)"
                .into(),
        );
    } else {
        assignment_changes(want, ic, &wanted, &ps_deps, &group_deps, mgmt, r, b);
    }

    // Retired: rampart-created permission sets and groups no longer in rampart.toml.
    let retired_deps: Vec<String> = b
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::DeleteAccountAssignment { .. }))
        .map(|c| c.id.clone())
        .collect();
    for x in ic.permission_sets.iter().filter(|x| {
        x.tags.get(MANAGED_TAG).is_some_and(|v| v == "true")
            && want.permission_set(&x.name).is_none()
    }) {
        b.add(
            format!("permission-set-delete:{}", x.name),
            mgmt,
            r,
            Action::DeletePermissionSet {
                name: x.name.clone(),
                permission_set_arn: x.arn.clone(),
            },
            format!(
                "delete permission set {} (created by rampart, no longer in rampart.toml)",
                x.name
            ),
            retired_deps.clone(),
        );
        mark_destructive(b);
    }
    for g in ic.groups.iter().filter(|g| {
        g.description
            .as_deref()
            .is_some_and(|d| d.ends_with(GROUP_MARK))
            && !want.groups.iter().any(|w| w.name == g.display_name)
    }) {
        b.add(
            format!("group-delete:{}", g.display_name),
            mgmt,
            r,
            Action::DeleteGroup {
                name: g.display_name.clone(),
                group_id: g.group_id.clone(),
            },
            format!(
                "delete group {} (created by rampart, no longer in rampart.toml)",
                g.display_name
            ),
            retired_deps.clone(),
        );
        mark_destructive(b);
    }

    checked
        .dead_grants
        .extend(dead_grants(want, org, &wanted, &region));
    Ok(checked)
}

impl Action {
    /// True for the Identity Center changes this module plans.
    pub fn is_identity(&self) -> bool {
        matches!(
            self,
            Action::CreatePermissionSet { .. }
                | Action::UpdatePermissionSet { .. }
                | Action::DeletePermissionSet { .. }
                | Action::AttachManagedPolicyToPermissionSet { .. }
                | Action::DetachManagedPolicyFromPermissionSet { .. }
                | Action::AttachCustomerManagedPolicyReference { .. }
                | Action::DetachCustomerManagedPolicyReference { .. }
                | Action::PutInlinePolicyToPermissionSet { .. }
                | Action::DeleteInlinePolicyFromPermissionSet { .. }
                | Action::PutPermissionsBoundaryToPermissionSet { .. }
                | Action::DeletePermissionsBoundaryFromPermissionSet { .. }
                | Action::ProvisionPermissionSet { .. }
                | Action::CreateGroup { .. }
                | Action::DeleteGroup { .. }
                | Action::CreateAccountAssignment { .. }
                | Action::DeleteAccountAssignment { .. }
        )
    }
}

fn mark_destructive(b: &mut Builder) {
    if let Some(c) = b.changes.last_mut() {
        c.destructive = true;
    }
}

/// Lints every inline policy as an identity policy: errors stop the plan, warnings are kept.
fn lint_inline(want: &Identity) -> Result<Checked, PlanError> {
    let mut errors = Vec::new();
    let mut checked = Checked::default();
    for p in &want.permission_sets {
        let Some(text) = &p.inline_policy else {
            continue;
        };
        for f in lint(text, PolicyKind::Identity) {
            let line = format!(
                "permission set {} inline_policy {}:{}: {} {}",
                p.name, f.line, f.column, f.code, f.message
            );
            match f.severity {
                Severity::Error => errors.push(line),
                Severity::Warning => checked.warnings.push(line),
            }
        }
    }
    if errors.is_empty() {
        Ok(checked)
    } else {
        Err(PlanError::InlinePolicy(errors))
    }
}

/// Account ids under an OU id, recursively.
fn accounts_under(org: &Organization, ou_id: &str, out: &mut BTreeSet<String>) {
    for a in org
        .accounts
        .iter()
        .filter(|a| a.parent_id == ou_id && a.status == "ACTIVE")
    {
        out.insert(a.id.clone());
    }
    for child in org
        .organizational_units
        .iter()
        .filter(|o| o.parent_id == ou_id)
    {
        accounts_under(org, &child.id, out);
    }
}

type Wanted = BTreeSet<(String, String, String)>;

/// (account id, permission set, group) for every assignment, OUs expanded now.
fn wanted_assignments(want: &Identity, cfg: &Config, org: &Organization) -> Wanted {
    let paths = super::ou_paths(org);
    let mut out = Wanted::new();
    for a in &want.assignments {
        let mut accounts = BTreeSet::new();
        for ou in &a.ous {
            let id = if ou == ROOT_PATH {
                org.roots.first().map(|r| r.id.clone())
            } else {
                paths.get(ou).cloned()
            };
            if let Some(id) = id {
                accounts_under(org, &id, &mut accounts);
            }
        }
        for acct in &a.accounts {
            let id = if acct.len() == 12 && acct.chars().all(|c| c.is_ascii_digit()) {
                Some(acct.clone())
            } else {
                // A name from [[accounts]]; an account not created yet is assigned next round.
                cfg.accounts
                    .iter()
                    .find(|x| x.name == *acct)
                    .and_then(|x| org.accounts.iter().find(|o| o.name == x.name))
                    .map(|o| o.id.clone())
            };
            accounts.extend(id);
        }
        for id in accounts {
            out.insert((id, a.permission_set.clone(), a.group.clone()));
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn assignment_changes(
    want: &Identity,
    ic: &IdentityCenter,
    wanted: &Wanted,
    ps_deps: &BTreeMap<String, Vec<String>>,
    group_deps: &BTreeMap<String, String>,
    mgmt: &str,
    r: Option<&str>,
    b: &mut Builder,
) {
    let ps_name = |arn: &str| {
        ic.permission_sets
            .iter()
            .find(|p| p.arn == arn)
            .map(|p| p.name.clone())
    };
    let group_name = |id: &str| {
        ic.groups
            .iter()
            .find(|g| g.group_id == id)
            .map(|g| g.display_name.clone())
    };
    // What exists, as (account, permission set name, group name) where both are known.
    let mut have = Wanted::new();
    for a in &ic.assignments {
        let Some(ps) = ps_name(&a.permission_set_arn) else {
            continue;
        };
        let group = (a.principal_type == "GROUP")
            .then(|| group_name(&a.principal_id))
            .flatten();
        let key = group.map(|g| (a.account_id.clone(), ps.clone(), g));
        if let Some(k) = &key
            && wanted.contains(k)
        {
            have.insert(k.clone());
            continue;
        }
        // An assignment of a managed permission set that rampart.toml does not want.
        let managed = want.permission_set(&ps).is_some()
            || ic.permission_sets.iter().any(|p| {
                p.arn == a.permission_set_arn
                    && p.tags.get(MANAGED_TAG).is_some_and(|v| v == "true")
            });
        if managed {
            let who = key
                .map(|(_, _, g)| format!("group {g}"))
                .unwrap_or_else(|| format!("{} {}", a.principal_type, a.principal_id));
            b.add(
                format!("assignment-delete:{}:{ps}:{}", a.account_id, a.principal_id),
                mgmt,
                r,
                Action::DeleteAccountAssignment {
                    permission_set: ps.clone(),
                    permission_set_arn: a.permission_set_arn.clone(),
                    principal_type: a.principal_type.clone(),
                    principal_id: a.principal_id.clone(),
                    account_id: a.account_id.clone(),
                },
                format!(
                    "remove permission set {ps} from {who} in account {} (not in rampart.toml)",
                    a.account_id
                ),
                vec![],
            );
            mark_destructive(b);
        }
    }
    for (account, ps, group) in wanted.difference(&have) {
        let mut deps = ps_deps.get(ps).cloned().unwrap_or_default();
        deps.extend(group_deps.get(group).cloned());
        b.add(
            format!("assignment:{account}:{ps}:{group}"),
            mgmt,
            r,
            Action::CreateAccountAssignment {
                permission_set: ps.clone(),
                group: group.clone(),
                account_id: account.clone(),
            },
            format!("assign permission set {ps} to group {group} in account {account}"),
            deps,
        );
    }
}

/// The SCP chain (root, OUs, account) in force for `account`; `None` for the management account
/// (SCPs do not restrict it) or an account not in the organization.
fn scp_chain(org: &Organization, account: &str) -> Option<Vec<(String, Vec<String>)>> {
    if account == org.management_account_id {
        return None;
    }
    let acct = org.accounts.iter().find(|a| a.id == account)?;
    let mut ids = vec![acct.id.clone()];
    let mut parent = acct.parent_id.clone();
    for _ in 0..10 {
        ids.push(parent.clone());
        match org.organizational_units.iter().find(|o| o.id == parent) {
            Some(ou) => parent = ou.parent_id.clone(),
            None => break,
        }
    }
    ids.reverse();
    Some(
        ids.into_iter()
            .map(|id| {
                let docs = org
                    .policies
                    .iter()
                    .filter(|p| {
                        p.policy_type == "SERVICE_CONTROL_POLICY" && p.targets.contains(&id)
                    })
                    .map(|p| p.content.clone())
                    .collect();
                (id, docs)
            })
            .collect(),
    )
}

/// Every catalogue action an Allow statement's action patterns match.
fn expand(st: &rampart_policy::Statement) -> Vec<String> {
    let cat = rampart_policy::catalog::catalog();
    let mut out = Vec::new();
    for pat in &st.action.actions {
        if let Some(l) = pat.literal() {
            out.push(l);
            continue;
        }
        for (prefix, svc) in &cat.services {
            for a in &svc.actions {
                let full = format!("{prefix}:{}", a.name);
                if pat.matches(&full) {
                    out.push(full);
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// SCP documents per level → the parsed chain and the accounts under it.
type Chains = BTreeMap<Vec<Vec<String>>, (Vec<OrgLevel>, Vec<String>)>;

/// Inline-policy statements the SCPs in force deny in the accounts their set is assigned to.
fn dead_grants(
    want: &Identity,
    org: &Organization,
    wanted: &Wanted,
    region: &str,
) -> Vec<DeadGrant> {
    let mut out = Vec::new();
    let mut context = BTreeMap::new();
    context.insert(
        "aws:RequestedRegion".to_string(),
        ContextValue::String(region.to_string()),
    );
    for p in &want.permission_sets {
        let Some(policy) = p
            .inline_policy
            .as_deref()
            .and_then(|t| parse_policy(t).ok())
        else {
            continue;
        };
        let accounts: BTreeSet<&String> = wanted
            .iter()
            .filter(|(_, ps, _)| *ps == p.name)
            .map(|(a, _, _)| a)
            .collect();
        // Accounts with the same policies at every level decide alike: evaluate each chain once.
        let mut chains = Chains::new();
        let mut restricted = 0;
        for a in &accounts {
            let Some(chain) = scp_chain(org, a) else {
                continue;
            };
            restricted += 1;
            let key: Vec<Vec<String>> = chain.iter().map(|(_, d)| d.clone()).collect();
            let entry = chains.entry(key).or_insert_with(|| {
                let levels = chain
                    .iter()
                    .map(|(id, docs)| OrgLevel {
                        id: id.clone(),
                        policies: docs.iter().filter_map(|d| parse_policy(d).ok()).collect(),
                    })
                    .collect();
                (levels, Vec::new())
            });
            entry.1.push(a.to_string());
        }
        for (i, st) in policy.statements.iter().enumerate() {
            if st.effect != rampart_policy::Effect::Allow || st.action.negated {
                continue;
            }
            let actions = expand(st);
            if actions.is_empty() {
                continue;
            }
            let resources = statement_resources(st);
            let principal = |acct: &str| {
                format!(
                    "arn:aws:iam::{acct}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_{}_0000000000000000",
                    p.name
                )
            };
            let mut dead_in: Vec<String> = Vec::new();
            for (levels, accts) in chains.values() {
                let probe = principal(&accts[0]);
                let all_denied = actions.iter().all(|act| {
                    resources
                        .iter()
                        .all(|res| scp_chain_denies(levels, act, res, &probe, &context))
                });
                if all_denied {
                    dead_in.extend(accts.iter().cloned());
                }
            }
            if !dead_in.is_empty() {
                dead_in.sort();
                out.push(DeadGrant {
                    permission_set: p.name.clone(),
                    statement: i,
                    sid: st.sid.clone(),
                    actions: st.action.actions.iter().map(|a| a.text.clone()).collect(),
                    everywhere: dead_in.len() == restricted,
                    accounts: dead_in,
                });
            }
        }
    }
    out
}

/// The resources to probe a statement with: its own (wildcards and all), or `*`.
fn statement_resources(st: &rampart_policy::Statement) -> Vec<String> {
    match &st.resource {
        Some(r) if !r.negated && !r.resources.is_empty() => {
            r.resources.iter().map(|x| x.text.clone()).collect()
        }
        _ => vec!["*".into()],
    }
}

#[cfg(test)]
#[path = "identity_tests.rs"]
mod tests;
