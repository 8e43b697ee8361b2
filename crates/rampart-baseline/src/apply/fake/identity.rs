//! Identity Center in the in-process model: each `[identity]` change applied to the snapshot's
//! [`IdentityCenter`] as sso-admin and the identity store would change what `collect` reads.

use crate::plan::Action;
use crate::plan::identity::MANAGED_TAG;
use rampart_snapshot::*;

/// Applies an Identity Center action; `None` when `action` is not one.
pub(super) fn apply(snap: &mut Snapshot, action: &Action) -> Option<Result<(), String>> {
    let ic = match snap.identity_center.as_mut() {
        Some(ic) if ic.instance.is_some() => Some(ic),
        _ => None,
    };
    if !action.is_identity() {
        return None;
    }
    let Some(ic) = ic else {
        return Some(Err("IAM Identity Center is not enabled".into()));
    };
    Some(change(ic, action))
}

fn set_mut<'a>(ic: &'a mut IdentityCenter, name: &str) -> Result<&'a mut PermissionSet, String> {
    ic.permission_sets
        .iter_mut()
        .find(|p| p.name == name)
        .ok_or_else(|| format!("permission set {name} does not exist"))
}

fn change(ic: &mut IdentityCenter, action: &Action) -> Result<(), String> {
    match action {
        Action::CreatePermissionSet {
            name,
            description,
            session_duration,
        } => {
            if ic.permission_sets.iter().any(|p| p.name == *name) {
                return Ok(());
            }
            let arn = format!(
                "{}/ps-fake{:04}",
                ic.instance
                    .as_ref()
                    .map(|i| i.instance_arn.as_str())
                    .unwrap_or_default(),
                ic.permission_sets.len()
            );
            ic.permission_sets.push(PermissionSet {
                arn,
                name: name.clone(),
                description: (!description.is_empty()).then(|| description.clone()),
                session_duration: Some(session_duration.clone()),
                tags: [(MANAGED_TAG.to_string(), "true".to_string())].into(),
                ..Default::default()
            });
        }
        Action::UpdatePermissionSet {
            name,
            description,
            session_duration,
        } => {
            let p = set_mut(ic, name)?;
            p.description = (!description.is_empty()).then(|| description.clone());
            p.session_duration = Some(session_duration.clone());
        }
        Action::DeletePermissionSet {
            permission_set_arn, ..
        } => {
            ic.assignments
                .retain(|a| a.permission_set_arn != *permission_set_arn);
            ic.permission_sets.retain(|p| p.arn != *permission_set_arn);
        }
        Action::AttachManagedPolicyToPermissionSet {
            permission_set,
            policy_arn,
        } => {
            let p = set_mut(ic, permission_set)?;
            if !p.managed_policies.contains(policy_arn) {
                p.managed_policies.push(policy_arn.clone());
            }
        }
        Action::DetachManagedPolicyFromPermissionSet {
            permission_set,
            policy_arn,
        } => set_mut(ic, permission_set)?
            .managed_policies
            .retain(|m| m != policy_arn),
        Action::AttachCustomerManagedPolicyReference {
            permission_set,
            policy,
        } => {
            let p = set_mut(ic, permission_set)?;
            if !p.customer_managed_policies.contains(policy) {
                p.customer_managed_policies.push(policy.clone());
            }
        }
        Action::DetachCustomerManagedPolicyReference {
            permission_set,
            policy,
        } => set_mut(ic, permission_set)?
            .customer_managed_policies
            .retain(|c| c != policy),
        Action::PutInlinePolicyToPermissionSet {
            permission_set,
            policy,
        } => set_mut(ic, permission_set)?.inline_policy = Some(policy.clone()),
        Action::DeleteInlinePolicyFromPermissionSet { permission_set } => {
            set_mut(ic, permission_set)?.inline_policy = None
        }
        Action::PutPermissionsBoundaryToPermissionSet {
            permission_set,
            boundary,
        } => set_mut(ic, permission_set)?.permissions_boundary = Some(boundary.clone()),
        Action::DeletePermissionsBoundaryFromPermissionSet { permission_set } => {
            set_mut(ic, permission_set)?.permissions_boundary = None
        }
        Action::ProvisionPermissionSet { permission_set } => {
            set_mut(ic, permission_set)?;
        }
        Action::CreateGroup { name, description } => {
            if !ic.groups.iter().any(|g| g.display_name == *name) {
                let group_id = format!("fake-group-{:04}", ic.groups.len());
                ic.groups.push(IdentityGroup {
                    group_id,
                    display_name: name.clone(),
                    description: Some(description.clone()),
                });
            }
        }
        Action::DeleteGroup { group_id, .. } => {
            ic.assignments
                .retain(|a| !(a.principal_type == "GROUP" && a.principal_id == *group_id));
            ic.groups.retain(|g| g.group_id != *group_id);
        }
        Action::CreateAccountAssignment {
            permission_set,
            group,
            account_id,
        } => {
            let ps = ic
                .permission_sets
                .iter()
                .find(|p| p.name == *permission_set)
                .ok_or_else(|| format!("permission set {permission_set} does not exist"))?
                .arn
                .clone();
            let principal_id = ic
                .groups
                .iter()
                .find(|g| g.display_name == *group)
                .ok_or_else(|| format!("group {group} does not exist"))?
                .group_id
                .clone();
            let a = AccountAssignment {
                account_id: account_id.clone(),
                permission_set_arn: ps,
                principal_type: "GROUP".into(),
                principal_id,
            };
            if !ic.assignments.contains(&a) {
                ic.assignments.push(a);
            }
        }
        Action::DeleteAccountAssignment {
            permission_set_arn,
            principal_type,
            principal_id,
            account_id,
            ..
        } => ic.assignments.retain(|a| {
            !(a.account_id == *account_id
                && a.permission_set_arn == *permission_set_arn
                && a.principal_type == *principal_type
                && a.principal_id == *principal_id)
        }),
        _ => return Err("not an Identity Center change".into()),
    }
    Ok(())
}
