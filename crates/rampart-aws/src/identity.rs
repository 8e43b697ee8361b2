//! IAM Identity Center, read in the management account: the instance, its permission sets (with
//! policies, boundary and tags), the identity store's groups, and the groups' account
//! assignments. A failed read is recorded in [`IdentityCenter::errors`], never taken as absent.

use crate::access::{Access, Recorder, pages};
use rampart_snapshot::*;

/// Reads Identity Center in `region` with the management account's session.
pub async fn collect(base: &Access, account_id: &str, region: &str) -> IdentityCenter {
    let sso = base.ssoadmin(region);
    let mut rec = Recorder::new(base, account_id, Some(region));
    let mut out = IdentityCenter {
        region: region.to_string(),
        ..Default::default()
    };
    let instances = rec.ok_pages("sso:ListInstances", None, pages!(sso.list_instances()));
    out.instance = instances
        .iter()
        .flatten()
        .flat_map(|p| p.instances())
        .next()
        .map(|i| SsoInstance {
            instance_arn: i.instance_arn().unwrap_or_default().to_string(),
            identity_store_id: i.identity_store_id().unwrap_or_default().to_string(),
            owner_account_id: i.owner_account_id().unwrap_or_default().to_string(),
            status: i
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
        });
    let Some(instance) = out.instance.clone() else {
        out.errors = rec.errors;
        return out;
    };
    let arn = instance.instance_arn.as_str();
    let listed = rec.ok_pages(
        "sso:ListPermissionSets",
        None,
        pages!(sso.list_permission_sets().instance_arn(arn)),
    );
    let set_arns: Vec<String> = listed
        .iter()
        .flatten()
        .flat_map(|p| p.permission_sets())
        .cloned()
        .collect();
    for ps in &set_arns {
        let r = Some(ps.as_str());
        let Some(d) = rec.ok(
            "sso:DescribePermissionSet",
            r,
            sso.describe_permission_set()
                .instance_arn(arn)
                .permission_set_arn(ps)
                .send()
                .await,
        ) else {
            continue;
        };
        let d = d.permission_set();
        let mut set = PermissionSet {
            arn: ps.clone(),
            name: d.and_then(|d| d.name()).unwrap_or_default().to_string(),
            description: d.and_then(|d| d.description()).map(str::to_string),
            session_duration: d.and_then(|d| d.session_duration()).map(str::to_string),
            ..Default::default()
        };
        if let Some(pages) = rec.ok_pages(
            "sso:ListManagedPoliciesInPermissionSet",
            r,
            pages!(
                sso.list_managed_policies_in_permission_set()
                    .instance_arn(arn)
                    .permission_set_arn(ps)
            ),
        ) {
            set.managed_policies = pages
                .iter()
                .flat_map(|p| p.attached_managed_policies())
                .filter_map(|m| m.arn().map(str::to_string))
                .collect();
        }
        if let Some(pages) = rec.ok_pages(
            "sso:ListCustomerManagedPolicyReferencesInPermissionSet",
            r,
            pages!(
                sso.list_customer_managed_policy_references_in_permission_set()
                    .instance_arn(arn)
                    .permission_set_arn(ps)
            ),
        ) {
            set.customer_managed_policies = pages
                .iter()
                .flat_map(|p| p.customer_managed_policy_references())
                .map(|c| PolicyReference {
                    name: c.name().to_string(),
                    path: c.path().unwrap_or("/").to_string(),
                })
                .collect();
        }
        if let Some(i) = rec.ok(
            "sso:GetInlinePolicyForPermissionSet",
            r,
            sso.get_inline_policy_for_permission_set()
                .instance_arn(arn)
                .permission_set_arn(ps)
                .send()
                .await,
        ) {
            set.inline_policy = i
                .inline_policy()
                .filter(|t| !t.trim().is_empty())
                .map(str::to_string);
        }
        if unavailable(&mut rec, "sso:GetPermissionsBoundaryForPermissionSet", ps) {
        } else if let Ok(b) = rec.absent_ok(
            "sso:GetPermissionsBoundaryForPermissionSet",
            r,
            &["ResourceNotFoundException"],
            sso.get_permissions_boundary_for_permission_set()
                .instance_arn(arn)
                .permission_set_arn(ps)
                .send()
                .await,
        ) {
            set.permissions_boundary = b.and_then(|b| {
                b.permissions_boundary().map(|b| PermissionsBoundary {
                    managed_policy_arn: b.managed_policy_arn().map(str::to_string),
                    customer_managed: b.customer_managed_policy_reference().map(|c| {
                        PolicyReference {
                            name: c.name().to_string(),
                            path: c.path().unwrap_or("/").to_string(),
                        }
                    }),
                })
            });
        }
        if unavailable(&mut rec, "sso:ListTagsForResource", ps) {
        } else if let Some(pages) = rec.ok_pages(
            "sso:ListTagsForResource",
            r,
            pages!(
                sso.list_tags_for_resource()
                    .instance_arn(arn)
                    .resource_arn(ps)
            ),
        ) {
            set.tags = pages
                .iter()
                .flat_map(|p| p.tags())
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect();
        }
        out.permission_sets.push(set);
    }

    // Groups, then each group's assignments (what rampart manages are group assignments).
    let store = base.identitystore(region);
    let groups = rec.ok_pages(
        "identitystore:ListGroups",
        None,
        pages!(
            store
                .list_groups()
                .identity_store_id(&instance.identity_store_id)
        ),
    );
    out.groups = groups
        .iter()
        .flatten()
        .flat_map(|p| p.groups())
        .map(|g| IdentityGroup {
            group_id: g.group_id().to_string(),
            display_name: g.display_name().unwrap_or_default().to_string(),
            description: g.description().map(str::to_string),
        })
        .collect();
    for g in out.groups.clone() {
        let Some(pages) = rec.ok_pages(
            "sso:ListAccountAssignmentsForPrincipal",
            Some(&g.group_id),
            pages!(
                sso.list_account_assignments_for_principal()
                    .instance_arn(arn)
                    .principal_id(&g.group_id)
                    .principal_type(aws_sdk_ssoadmin::types::PrincipalType::Group)
            ),
        ) else {
            continue;
        };
        for a in pages.iter().flat_map(|p| p.account_assignments()) {
            out.assignments.push(AccountAssignment {
                account_id: a.account_id().unwrap_or_default().to_string(),
                permission_set_arn: a.permission_set_arn().unwrap_or_default().to_string(),
                principal_type: a
                    .principal_type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_else(|| "GROUP".into()),
                principal_id: a.principal_id().unwrap_or_default().to_string(),
            });
        }
    }
    out.assignments.sort();
    out.assignments.dedup();
    out.errors = rec.errors;
    out
}

/// True when `api` already failed for an earlier permission set with an error that is not about
/// that set (the API is unavailable, e.g. an emulator that does not implement it): the failure
/// is recorded for `resource` too, without another call and its retries.
fn unavailable(rec: &mut Recorder<'_>, api: &str, resource: &str) -> bool {
    let earlier = rec
        .errors
        .iter()
        .find(|e| e.api == api && e.code != "ResourceNotFoundException")
        .cloned();
    let Some(mut e) = earlier else {
        return false;
    };
    e.message = format!(
        "not attempted: failed for permission set {} ({})",
        e.resource.as_deref().unwrap_or("?"),
        e.code
    );
    e.resource = Some(resource.to_string());
    rec.errors.push(e);
    true
}
