//! The Identity Center changes of `rampart apply`, made with sso-admin and the identity store
//! in the management account. Permission sets and groups are named in the plan and resolved
//! here (re-read on a miss, so a set created earlier in the run is found); asynchronous
//! operations (assignments, provisioning) are waited for until they succeed or fail.

use super::{AwsEffects, Call, Tolerate};
use crate::access::{Access, pages};
use aws_sdk_ssoadmin::types::{
    CustomerManagedPolicyReference, PermissionsBoundary, PrincipalType, StatusValues, Tag,
    TargetType,
};
use rampart_baseline::plan::Action;
use rampart_baseline::plan::identity::MANAGED_TAG;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

/// The instance, and permission-set and group names resolved so far.
#[derive(Default, Clone)]
pub(super) struct SsoNames {
    instance_arn: String,
    identity_store_id: String,
    sets: HashMap<String, String>,
    groups: HashMap<String, String>,
}

fn reference(
    p: &rampart_snapshot::PolicyReference,
) -> Result<CustomerManagedPolicyReference, String> {
    CustomerManagedPolicyReference::builder()
        .name(&p.name)
        .path(&p.path)
        .build()
        .map_err(|e| e.to_string())
}

impl AwsEffects {
    /// Reads the instance, every permission set's name and every group's name.
    async fn read_sso_names(&self, s: &Access, region: &str) -> Result<SsoNames, String> {
        let sso = s.ssoadmin(region);
        let instances =
            pages!(sso.list_instances()).map_err(|e| super::failure("sso:ListInstances", &e))?;
        let i = instances
            .iter()
            .flat_map(|p| p.instances())
            .next()
            .ok_or_else(|| {
                format!("IAM Identity Center is not enabled in {region}: enable it in the console of the management account")
            })?;
        let mut names = SsoNames {
            instance_arn: i.instance_arn().unwrap_or_default().to_string(),
            identity_store_id: i.identity_store_id().unwrap_or_default().to_string(),
            ..Default::default()
        };
        let sets = pages!(sso.list_permission_sets().instance_arn(&names.instance_arn))
            .map_err(|e| super::failure("sso:ListPermissionSets", &e))?;
        for arn in sets.iter().flat_map(|p| p.permission_sets()) {
            let d = sso
                .describe_permission_set()
                .instance_arn(&names.instance_arn)
                .permission_set_arn(arn)
                .send()
                .await
                .map_err(|e| super::failure("sso:DescribePermissionSet", &e))?;
            if let Some(name) = d.permission_set().and_then(|p| p.name()) {
                names.sets.insert(name.to_string(), arn.clone());
            }
        }
        let store = s.identitystore(region);
        let groups = pages!(
            store
                .list_groups()
                .identity_store_id(&names.identity_store_id)
        )
        .map_err(|e| super::failure("identitystore:ListGroups", &e))?;
        for g in groups.iter().flat_map(|p| p.groups()) {
            if let Some(n) = g.display_name() {
                names.groups.insert(n.to_string(), g.group_id().to_string());
            }
        }
        Ok(names)
    }

    /// The cached names, read on first use or when `refresh`.
    async fn sso_names(&self, s: &Access, region: &str, refresh: bool) -> Result<SsoNames, String> {
        let mut cache = self.sso.lock().await;
        if refresh || cache.is_none() {
            *cache = Some(self.read_sso_names(s, region).await?);
        }
        Ok(cache.clone().unwrap_or_default())
    }

    /// The ARN of permission set `name`.
    async fn set_arn(&self, s: &Access, region: &str, name: &str) -> Result<String, String> {
        if let Some(a) = self.sso_names(s, region, false).await?.sets.get(name) {
            return Ok(a.clone());
        }
        self.sso_names(s, region, true)
            .await?
            .sets
            .get(name)
            .cloned()
            .ok_or_else(|| {
                format!("permission set `{name}` does not exist (its creation did not succeed)")
            })
    }

    async fn group_id(&self, s: &Access, region: &str, name: &str) -> Result<String, String> {
        if let Some(g) = self.sso_names(s, region, false).await?.groups.get(name) {
            return Ok(g.clone());
        }
        self.sso_names(s, region, true)
            .await?
            .groups
            .get(name)
            .cloned()
            .ok_or_else(|| format!("group `{name}` does not exist in the identity store (its creation did not succeed)"))
    }

    /// Makes one Identity Center change.
    pub(super) async fn identity(
        &self,
        call: &Call<'_>,
        s: &Access,
        action: &Action,
    ) -> Result<(), String> {
        let region = call.region;
        let sso = s.ssoadmin(region);
        let names = self.sso_names(s, region, false).await?;
        let inst = names.instance_arn.as_str();
        match action {
            Action::CreatePermissionSet {
                name,
                description,
                session_duration,
            } => {
                let tag = Tag::builder()
                    .key(MANAGED_TAG)
                    .value("true")
                    .build()
                    .map_err(|e| e.to_string())?;
                let mut req = sso
                    .create_permission_set()
                    .instance_arn(inst)
                    .name(name)
                    .session_duration(session_duration)
                    .tags(tag);
                if !description.is_empty() {
                    req = req.description(description);
                }
                let r = req.send().await;
                let out = call.done(
                    "sso:CreatePermissionSet",
                    json!({"Name": name, "SessionDuration": session_duration}),
                    Tolerate::Codes(&["ConflictException"]),
                    r,
                )?;
                if let Some(arn) = out
                    .as_ref()
                    .and_then(|o| o.permission_set())
                    .and_then(|p| p.permission_set_arn())
                    && let Some(n) = self.sso.lock().await.as_mut()
                {
                    n.sets.insert(name.clone(), arn.to_string());
                }
            }
            Action::UpdatePermissionSet {
                name,
                description,
                session_duration,
            } => {
                let ps = self.set_arn(s, region, name).await?;
                let mut req = sso
                    .update_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(&ps)
                    .session_duration(session_duration);
                if !description.is_empty() {
                    req = req.description(description);
                }
                let r = req.send().await;
                call.done(
                    "sso:UpdatePermissionSet",
                    json!({"PermissionSetArn": ps, "SessionDuration": session_duration}),
                    Tolerate::Nothing,
                    r,
                )?;
            }
            Action::DeletePermissionSet {
                permission_set_arn, ..
            } => {
                let r = sso
                    .delete_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(permission_set_arn)
                    .send()
                    .await;
                call.done(
                    "sso:DeletePermissionSet",
                    json!({"PermissionSetArn": permission_set_arn}),
                    Tolerate::Codes(&["ResourceNotFoundException"]),
                    r,
                )?;
            }
            Action::AttachManagedPolicyToPermissionSet {
                permission_set,
                policy_arn,
            } => {
                let ps = self.set_arn(s, region, permission_set).await?;
                let r = sso
                    .attach_managed_policy_to_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(&ps)
                    .managed_policy_arn(policy_arn)
                    .send()
                    .await;
                call.done(
                    "sso:AttachManagedPolicyToPermissionSet",
                    json!({"PermissionSetArn": ps, "ManagedPolicyArn": policy_arn}),
                    Tolerate::Codes(&["ConflictException"]),
                    r,
                )?;
            }
            Action::DetachManagedPolicyFromPermissionSet {
                permission_set,
                policy_arn,
            } => {
                let ps = self.set_arn(s, region, permission_set).await?;
                let r = sso
                    .detach_managed_policy_from_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(&ps)
                    .managed_policy_arn(policy_arn)
                    .send()
                    .await;
                call.done(
                    "sso:DetachManagedPolicyFromPermissionSet",
                    json!({"PermissionSetArn": ps, "ManagedPolicyArn": policy_arn}),
                    Tolerate::Codes(&["ResourceNotFoundException"]),
                    r,
                )?;
            }
            Action::AttachCustomerManagedPolicyReference {
                permission_set,
                policy,
            } => {
                let ps = self.set_arn(s, region, permission_set).await?;
                let r = sso
                    .attach_customer_managed_policy_reference_to_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(&ps)
                    .customer_managed_policy_reference(reference(policy)?)
                    .send()
                    .await;
                call.done(
                    "sso:AttachCustomerManagedPolicyReferenceToPermissionSet",
                    json!({"PermissionSetArn": ps, "Name": policy.name, "Path": policy.path}),
                    Tolerate::Codes(&["ConflictException"]),
                    r,
                )?;
            }
            Action::DetachCustomerManagedPolicyReference {
                permission_set,
                policy,
            } => {
                let ps = self.set_arn(s, region, permission_set).await?;
                let r = sso
                    .detach_customer_managed_policy_reference_from_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(&ps)
                    .customer_managed_policy_reference(reference(policy)?)
                    .send()
                    .await;
                call.done(
                    "sso:DetachCustomerManagedPolicyReferenceFromPermissionSet",
                    json!({"PermissionSetArn": ps, "Name": policy.name, "Path": policy.path}),
                    Tolerate::Codes(&["ResourceNotFoundException"]),
                    r,
                )?;
            }
            Action::PutInlinePolicyToPermissionSet {
                permission_set,
                policy,
            } => {
                let ps = self.set_arn(s, region, permission_set).await?;
                let r = sso
                    .put_inline_policy_to_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(&ps)
                    .inline_policy(policy)
                    .send()
                    .await;
                call.done(
                    "sso:PutInlinePolicyToPermissionSet",
                    json!({"PermissionSetArn": ps, "InlinePolicyCharacters": policy.len()}),
                    Tolerate::Nothing,
                    r,
                )?;
            }
            Action::DeleteInlinePolicyFromPermissionSet { permission_set } => {
                let ps = self.set_arn(s, region, permission_set).await?;
                let r = sso
                    .delete_inline_policy_from_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(&ps)
                    .send()
                    .await;
                call.done(
                    "sso:DeleteInlinePolicyFromPermissionSet",
                    json!({"PermissionSetArn": ps}),
                    Tolerate::Codes(&["ResourceNotFoundException"]),
                    r,
                )?;
            }
            Action::PutPermissionsBoundaryToPermissionSet {
                permission_set,
                boundary,
            } => {
                let ps = self.set_arn(s, region, permission_set).await?;
                let mut b = PermissionsBoundary::builder();
                if let Some(a) = &boundary.managed_policy_arn {
                    b = b.managed_policy_arn(a);
                }
                if let Some(c) = &boundary.customer_managed {
                    b = b.customer_managed_policy_reference(reference(c)?);
                }
                let r = sso
                    .put_permissions_boundary_to_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(&ps)
                    .permissions_boundary(b.build())
                    .send()
                    .await;
                call.done(
                    "sso:PutPermissionsBoundaryToPermissionSet",
                    json!({"PermissionSetArn": ps, "PermissionsBoundary": boundary}),
                    Tolerate::Nothing,
                    r,
                )?;
            }
            Action::DeletePermissionsBoundaryFromPermissionSet { permission_set } => {
                let ps = self.set_arn(s, region, permission_set).await?;
                let r = sso
                    .delete_permissions_boundary_from_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(&ps)
                    .send()
                    .await;
                call.done(
                    "sso:DeletePermissionsBoundaryFromPermissionSet",
                    json!({"PermissionSetArn": ps}),
                    Tolerate::Codes(&["ResourceNotFoundException"]),
                    r,
                )?;
            }
            Action::ProvisionPermissionSet { permission_set } => {
                let ps = self.set_arn(s, region, permission_set).await?;
                let r = sso
                    .provision_permission_set()
                    .instance_arn(inst)
                    .permission_set_arn(&ps)
                    .target_type(
                        aws_sdk_ssoadmin::types::ProvisionTargetType::AllProvisionedAccounts,
                    )
                    .send()
                    .await;
                let out = call.done(
                    "sso:ProvisionPermissionSet",
                    json!({"PermissionSetArn": ps, "TargetType": "ALL_PROVISIONED_ACCOUNTS"}),
                    Tolerate::Nothing,
                    r,
                )?;
                let status = out
                    .as_ref()
                    .and_then(|o| o.permission_set_provisioning_status());
                if let Some(st) = status
                    && st.status() == Some(&StatusValues::InProgress)
                {
                    let id = st.request_id().unwrap_or_default().to_string();
                    for _ in 0..60 {
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        let d = sso
                            .describe_permission_set_provisioning_status()
                            .instance_arn(inst)
                            .provision_permission_set_request_id(&id)
                            .send()
                            .await
                            .map_err(|e| {
                                call.failed("sso:DescribePermissionSetProvisioningStatus", &e)
                            })?;
                        let st = d.permission_set_provisioning_status();
                        match st.and_then(|s| s.status()) {
                            Some(StatusValues::Succeeded) => return Ok(()),
                            Some(StatusValues::Failed) => {
                                return Err(format!(
                                    "sso:ProvisionPermissionSet of {permission_set} failed: {}",
                                    st.and_then(|s| s.failure_reason())
                                        .unwrap_or("no reason given")
                                ));
                            }
                            _ => {}
                        }
                    }
                    return Err(format!(
                        "sso:ProvisionPermissionSet of {permission_set} still in progress after 2 minutes; run `rampart apply` again"
                    ));
                }
            }
            Action::CreateGroup { name, description } => {
                let store = s.identitystore(region);
                let r = store
                    .create_group()
                    .identity_store_id(&names.identity_store_id)
                    .display_name(name)
                    .description(description)
                    .send()
                    .await;
                let out = call.done(
                    "identitystore:CreateGroup",
                    json!({"DisplayName": name}),
                    Tolerate::Codes(&["ConflictException"]),
                    r,
                )?;
                if let Some(o) = out
                    && let Some(n) = self.sso.lock().await.as_mut()
                {
                    n.groups.insert(name.clone(), o.group_id().to_string());
                }
            }
            Action::DeleteGroup { group_id, .. } => {
                let store = s.identitystore(region);
                let r = store
                    .delete_group()
                    .identity_store_id(&names.identity_store_id)
                    .group_id(group_id)
                    .send()
                    .await;
                call.done(
                    "identitystore:DeleteGroup",
                    json!({"GroupId": group_id}),
                    Tolerate::Codes(&["ResourceNotFoundException"]),
                    r,
                )?;
            }
            Action::CreateAccountAssignment {
                permission_set,
                group,
                account_id,
            } => {
                let ps = self.set_arn(s, region, permission_set).await?;
                let principal = self.group_id(s, region, group).await?;
                let r = sso
                    .create_account_assignment()
                    .instance_arn(inst)
                    .target_id(account_id)
                    .target_type(TargetType::AwsAccount)
                    .permission_set_arn(&ps)
                    .principal_type(PrincipalType::Group)
                    .principal_id(&principal)
                    .send()
                    .await;
                let out = call.done(
                    "sso:CreateAccountAssignment",
                    json!({"TargetId": account_id, "PermissionSetArn": ps, "PrincipalType": "GROUP", "PrincipalId": principal}),
                    Tolerate::Codes(&["ConflictException"]),
                    r,
                )?;
                if let Some(st) = out
                    .as_ref()
                    .and_then(|o| o.account_assignment_creation_status())
                {
                    self.wait_assignment(call, &sso, inst, st, true).await?;
                }
            }
            Action::DeleteAccountAssignment {
                permission_set_arn,
                principal_type,
                principal_id,
                account_id,
                ..
            } => {
                let r = sso
                    .delete_account_assignment()
                    .instance_arn(inst)
                    .target_id(account_id)
                    .target_type(TargetType::AwsAccount)
                    .permission_set_arn(permission_set_arn)
                    .principal_type(PrincipalType::from(principal_type.as_str()))
                    .principal_id(principal_id)
                    .send()
                    .await;
                let out = call.done(
                    "sso:DeleteAccountAssignment",
                    json!({"TargetId": account_id, "PermissionSetArn": permission_set_arn, "PrincipalType": principal_type, "PrincipalId": principal_id}),
                    Tolerate::Codes(&["ResourceNotFoundException"]),
                    r,
                )?;
                if let Some(st) = out
                    .as_ref()
                    .and_then(|o| o.account_assignment_deletion_status())
                {
                    self.wait_assignment(call, &sso, inst, st, false).await?;
                }
            }
            other => return Err(format!("{other:?} is not an Identity Center change")),
        }
        Ok(())
    }

    /// Waits for an assignment's creation or deletion to finish.
    async fn wait_assignment(
        &self,
        call: &Call<'_>,
        sso: &aws_sdk_ssoadmin::Client,
        inst: &str,
        first: &aws_sdk_ssoadmin::types::AccountAssignmentOperationStatus,
        creating: bool,
    ) -> Result<(), String> {
        let mut status = first.clone();
        for _ in 0..60 {
            match status.status() {
                Some(StatusValues::Succeeded) | None => return Ok(()),
                Some(StatusValues::Failed) => {
                    return Err(format!(
                        "account assignment in {} failed: {}",
                        status.target_id().unwrap_or_default(),
                        status.failure_reason().unwrap_or("no reason given")
                    ));
                }
                _ => {}
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
            let id = status.request_id().unwrap_or_default().to_string();
            let next = if creating {
                sso.describe_account_assignment_creation_status()
                    .instance_arn(inst)
                    .account_assignment_creation_request_id(&id)
                    .send()
                    .await
                    .map_err(|e| call.failed("sso:DescribeAccountAssignmentCreationStatus", &e))?
                    .account_assignment_creation_status()
                    .cloned()
            } else {
                sso.describe_account_assignment_deletion_status()
                    .instance_arn(inst)
                    .account_assignment_deletion_request_id(&id)
                    .send()
                    .await
                    .map_err(|e| call.failed("sso:DescribeAccountAssignmentDeletionStatus", &e))?
                    .account_assignment_deletion_status()
                    .cloned()
            };
            match next {
                Some(n) => status = n,
                None => return Ok(()),
            }
        }
        Err("the account assignment is still in progress after 2 minutes; run `rampart apply` again".into())
    }
}
