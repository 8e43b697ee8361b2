//! Organization discovery from the management account (or a member that may read it).

use crate::access::{Access, Recorder, pages};
use rampart_snapshot::{
    CollectionError, DelegatedAdministrator, OrgAccount, OrgPolicy, OrgRoot, Organization,
    OrganizationalUnit,
};

/// `None` for a standalone account; errors go to `errors`.
pub async fn discover(base: &Access, errors: &mut Vec<CollectionError>) -> Option<Organization> {
    let region = base.home_region();
    let org = base.organizations(&region);
    let mut rec = Recorder::new(base, "", None);
    let described = rec
        .absent_ok(
            "organizations:DescribeOrganization",
            None,
            &["AWSOrganizationsNotInUseException"],
            org.describe_organization().send().await,
        )
        .ok()
        .flatten();
    let Some(d) = described.and_then(|d| d.organization) else {
        errors.append(&mut rec.errors);
        return None;
    };
    let mut out = Organization {
        id: d.id.unwrap_or_default(),
        arn: d.arn.unwrap_or_default(),
        management_account_id: d.master_account_id.unwrap_or_default(),
        management_account_email: d.master_account_email.unwrap_or_default(),
        feature_set: d
            .feature_set
            .map(|f| f.as_str().to_string())
            .unwrap_or_default(),
        ..Default::default()
    };

    // Roots, then the OU tree breadth-first.
    let mut parents: Vec<String> = Vec::new();
    let mut token = None;
    loop {
        let Some(page) = rec.ok(
            "organizations:ListRoots",
            None,
            org.list_roots().set_next_token(token.clone()).send().await,
        ) else {
            break;
        };
        for r in page.roots() {
            let id = r.id().unwrap_or_default().to_string();
            parents.push(id.clone());
            out.roots.push(OrgRoot {
                id,
                arn: r.arn().unwrap_or_default().to_string(),
                name: r.name().unwrap_or_default().to_string(),
                enabled_policy_types: r
                    .policy_types()
                    .iter()
                    .filter(|p| p.status().is_some_and(|s| s.as_str() == "ENABLED"))
                    .filter_map(|p| p.r#type().map(|t| t.as_str().to_string()))
                    .collect(),
            });
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let mut queue = parents.clone();
    while let Some(parent) = queue.pop() {
        let mut token = None;
        loop {
            let r = org
                .list_organizational_units_for_parent()
                .parent_id(&parent)
                .set_next_token(token.clone())
                .send()
                .await;
            let Some(page) = rec.ok(
                "organizations:ListOrganizationalUnitsForParent",
                Some(&parent),
                r,
            ) else {
                break;
            };
            for ou in page.organizational_units() {
                let id = ou.id().unwrap_or_default().to_string();
                queue.push(id.clone());
                out.organizational_units.push(OrganizationalUnit {
                    id,
                    arn: ou.arn().unwrap_or_default().to_string(),
                    name: ou.name().unwrap_or_default().to_string(),
                    parent_id: parent.clone(),
                });
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        // Accounts directly under this parent give the account → parent map.
        let mut token = None;
        loop {
            let r = org
                .list_accounts_for_parent()
                .parent_id(&parent)
                .set_next_token(token.clone())
                .send()
                .await;
            let Some(page) = rec.ok("organizations:ListAccountsForParent", Some(&parent), r) else {
                break;
            };
            for a in page.accounts() {
                out.accounts.push(OrgAccount {
                    id: a.id().unwrap_or_default().to_string(),
                    arn: a.arn().unwrap_or_default().to_string(),
                    name: a.name().unwrap_or_default().to_string(),
                    email: a.email().unwrap_or_default().to_string(),
                    status: a
                        .status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    parent_id: parent.clone(),
                    joined_timestamp: a.joined_timestamp().map(|t| t.to_string()),
                });
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    out.accounts.sort_by(|a, b| a.id.cmp(&b.id));

    // SCPs and RCPs with content and targets.
    for kind in [
        aws_sdk_organizations::types::PolicyType::ServiceControlPolicy,
        aws_sdk_organizations::types::PolicyType::ResourceControlPolicy,
    ] {
        let mut token = None;
        loop {
            let r = org
                .list_policies()
                .filter(kind.clone())
                .set_next_token(token.clone())
                .send()
                .await;
            let page = match rec.absent_ok(
                "organizations:ListPolicies",
                None,
                &["PolicyTypeNotEnabledException"],
                r,
            ) {
                Ok(Some(p)) => p,
                _ => break,
            };
            for p in page.policies() {
                let id = p.id().unwrap_or_default().to_string();
                let content = rec
                    .ok(
                        "organizations:DescribePolicy",
                        Some(&id),
                        org.describe_policy().policy_id(&id).send().await,
                    )
                    .and_then(|d| d.policy.and_then(|p| p.content))
                    .unwrap_or_default();
                let mut targets = Vec::new();
                let mut t_token = None;
                loop {
                    let r = org
                        .list_targets_for_policy()
                        .policy_id(&id)
                        .set_next_token(t_token.clone())
                        .send()
                        .await;
                    let Some(tp) = rec.ok("organizations:ListTargetsForPolicy", Some(&id), r)
                    else {
                        break;
                    };
                    targets.extend(
                        tp.targets()
                            .iter()
                            .filter_map(|t| t.target_id().map(str::to_string)),
                    );
                    t_token = tp.next_token().map(str::to_string);
                    if t_token.is_none() {
                        break;
                    }
                }
                out.policies.push(OrgPolicy {
                    id,
                    arn: p.arn().unwrap_or_default().to_string(),
                    name: p.name().unwrap_or_default().to_string(),
                    description: p.description().unwrap_or_default().to_string(),
                    policy_type: kind.as_str().to_string(),
                    aws_managed: p.aws_managed(),
                    content,
                    targets,
                });
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }

    // Delegated administrators and the services each one administers.
    if let Some(pages) = rec.ok_pages(
        "organizations:ListDelegatedAdministrators",
        None,
        pages!(org.list_delegated_administrators()),
    ) {
        for admin in pages.iter().flat_map(|p| p.delegated_administrators()) {
            let id = admin.id().unwrap_or_default().to_string();
            if let Some(s) = rec.ok_pages(
                "organizations:ListDelegatedServicesForAccount",
                Some(&id),
                pages!(org.list_delegated_services_for_account().account_id(&id)),
            ) {
                for svc in s.iter().flat_map(|p| p.delegated_services()) {
                    out.delegated_administrators.push(DelegatedAdministrator {
                        account_id: id.clone(),
                        service_principal: svc.service_principal().unwrap_or_default().to_string(),
                    });
                }
            }
        }
    }
    if let Some(pages) = rec.ok_pages(
        "organizations:ListAWSServiceAccessForOrganization",
        None,
        pages!(org.list_aws_service_access_for_organization()),
    ) {
        out.enabled_service_principals = pages
            .iter()
            .flat_map(|p| p.enabled_service_principals())
            .filter_map(|p| p.service_principal().map(str::to_string))
            .collect();
    }
    // Centralized root access for member accounts (an IAM call, made in the management account).
    let iam = base.iam(&region);
    out.iam_features = match rec.absent_ok(
        "iam:ListOrganizationsFeatures",
        None,
        &["ServiceAccessNotEnabledException"],
        iam.list_organizations_features().send().await,
    ) {
        Ok(Some(f)) => Some(
            f.enabled_features()
                .iter()
                .map(|x| x.as_str().to_string())
                .collect(),
        ),
        // IAM's trusted access is off: no feature can be on.
        Ok(None) => Some(Vec::new()),
        Err(()) => None,
    };
    for e in &mut rec.errors {
        e.account_id = out.management_account_id.clone();
    }
    errors.append(&mut rec.errors);
    Some(out)
}
