//! An in-process organization behind [`Effects`]: each change is applied to a [`Snapshot`] the
//! way AWS would change what `rampart collect` reads back. It stands in for the APIs the moto
//! emulator lacks, and lets the planner's convergence be tested without any server: plan →
//! apply to the model → plan again must be empty.

use super::{AuditLog, Effects};
use crate::config::Config;
use crate::plan::log_archive::{CIS_NAMESPACE, cis_alarm_name};
use crate::plan::{Action, Change};
use rampart_core::sample::CIS_PATTERNS;
use rampart_snapshot::*;
use serde_json::json;
use std::sync::Mutex;

mod alerting;
mod identity;

/// The modelled organization.
pub struct SnapshotEffects {
    snap: Mutex<Snapshot>,
    allowed_regions: Vec<String>,
    audit_account: String,
}

impl SnapshotEffects {
    pub fn new(snap: Snapshot, cfg: &Config) -> SnapshotEffects {
        SnapshotEffects {
            snap: Mutex::new(snap),
            allowed_regions: cfg.organization.allowed_regions.clone(),
            audit_account: cfg.organization.audit_account.clone(),
        }
    }

    /// What `rampart collect` would read now.
    pub fn snapshot(&self) -> Snapshot {
        self.snap.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

fn ou_id_of(org: &Organization, path: &str) -> Option<String> {
    let mut parent = org.roots.first()?.id.clone();
    for name in path.split('/') {
        parent = org
            .organizational_units
            .iter()
            .find(|o| o.parent_id == parent && o.name == name)?
            .id
            .clone();
    }
    Some(parent)
}

impl Effects for SnapshotEffects {
    fn apply(&self, c: &Change, log: &AuditLog) -> Result<(), String> {
        let mut guard = self.snap.lock().unwrap_or_else(|p| p.into_inner());
        let snap = &mut *guard;
        if let Some(r) = identity::apply(snap, &c.action) {
            log.record(c, &c.account, &api_name(c), json!({}), &r);
            return r;
        }
        let org = snap.organization.as_mut().ok_or("no organization")?;
        let mgmt = org.management_account_id.clone();
        let account = match c.account.strip_prefix("name:") {
            Some(name) => org
                .accounts
                .iter()
                .find(|a| a.name == name)
                .map(|a| a.id.clone())
                .unwrap_or_default(),
            None => c.account.clone(),
        };
        let serial = org.organizational_units.len() + org.policies.len() + org.accounts.len();
        let region = c.region.clone().unwrap_or_default();
        let api = api_name(c);
        if c.action.is_alerting() {
            let r = region_mut(snap, &account, &region)
                .and_then(|r| alerting::apply(r, &account, &c.action));
            log.record(c, &account, &api, json!({}), &r);
            return r;
        }
        match &c.action {
            Action::EnableAllFeatures => org.feature_set = "ALL".into(),
            Action::EnableAwsServiceAccess { service_principal } => org
                .enabled_service_principals
                .push(service_principal.clone()),
            Action::EnablePolicyType { policy_type } => {
                org.roots[0].enabled_policy_types.push(policy_type.clone());
                // As AWS does: RCPFullAWSAccess on the root (rampart never touches it).
                if policy_type == "RESOURCE_CONTROL_POLICY" {
                    org.policies.push(OrgPolicy {
                        id: "p-RCPFullAWSAccess".into(),
                        name: "RCPFullAWSAccess".into(),
                        policy_type: policy_type.clone(),
                        aws_managed: true,
                        content: crate::rcp::RCP_FULL_AWS_ACCESS.into(),
                        targets: vec![org.roots[0].id.clone()],
                        ..Default::default()
                    });
                }
            }
            Action::CreateOu { path } => {
                let (parent, name) = match path.rsplit_once('/') {
                    Some((p, n)) => (ou_id_of(org, p).ok_or("parent OU missing")?, n),
                    None => (org.roots[0].id.clone(), path.as_str()),
                };
                org.organizational_units.push(OrganizationalUnit {
                    id: format!("ou-fake-{serial}"),
                    name: name.into(),
                    parent_id: parent,
                    ..Default::default()
                });
            }
            Action::CreateAccount {
                name,
                email,
                ou,
                quarantine,
            } => {
                let id = format!("{:012}", 900000000000u64 + serial as u64);
                let parent = ou_id_of(org, ou).ok_or("OU missing")?;
                org.accounts.push(OrgAccount {
                    id: id.clone(),
                    name: name.clone(),
                    email: email.clone(),
                    status: "ACTIVE".into(),
                    parent_id: parent,
                    ..Default::default()
                });
                if *quarantine {
                    org.policies
                        .iter_mut()
                        .find(|p| p.name == crate::plan::QUARANTINE_POLICY)
                        .ok_or("quarantine policy missing")?
                        .targets
                        .push(id.clone());
                }
                let regions = self
                    .allowed_regions
                    .iter()
                    .map(|r| RegionSnapshot {
                        region: r.clone(),
                        ..Default::default()
                    })
                    .collect();
                snap.accounts.push(AccountSnapshot {
                    account_id: id,
                    name: name.clone(),
                    regions,
                    ..Default::default()
                });
            }
            Action::MoveAccount {
                account_id, to_ou, ..
            } => {
                let ou = ou_id_of(org, to_ou).ok_or("OU missing")?;
                org.accounts
                    .iter_mut()
                    .find(|a| a.id == *account_id)
                    .ok_or("account missing")?
                    .parent_id = ou;
            }
            Action::CreatePolicy {
                name,
                content,
                policy_type,
                ..
            } => {
                if !org.roots[0]
                    .enabled_policy_types
                    .iter()
                    .any(|t| t == policy_type.as_str())
                {
                    return Err(format!(
                        "organizations:CreatePolicy: PolicyTypeNotEnabledException ({})",
                        policy_type.as_str()
                    ));
                }
                // As AWS does: a name is unique within its policy type.
                if !org
                    .policies
                    .iter()
                    .any(|p| p.name == *name && p.policy_type == policy_type.as_str())
                {
                    org.policies.push(OrgPolicy {
                        id: format!("p-fake{serial}"),
                        name: name.clone(),
                        policy_type: policy_type.as_str().into(),
                        content: content.clone(),
                        ..Default::default()
                    })
                }
            }
            Action::UpdatePolicy {
                policy_id, content, ..
            } => {
                org.policies
                    .iter_mut()
                    .find(|p| p.id == *policy_id)
                    .ok_or("policy missing")?
                    .content = content.clone()
            }
            Action::AttachPolicy {
                name,
                ou,
                policy_type,
            } => {
                let target = ou_id_of(org, ou).ok_or("OU missing")?;
                let p = org
                    .policies
                    .iter_mut()
                    .find(|p| p.name == *name && p.policy_type == policy_type.as_str())
                    .ok_or("policy missing")?;
                if !p.targets.contains(&target) {
                    p.targets.push(target);
                }
            }
            Action::DetachPolicy {
                policy_id, target, ..
            } => org
                .policies
                .iter_mut()
                .filter(|p| p.id == *policy_id)
                .for_each(|p| p.targets.retain(|t| t != target)),
            Action::RegisterDelegatedAdministrator {
                service_principal, ..
            } => {
                let audit = org
                    .accounts
                    .iter()
                    .find(|a| a.name == self.audit_account)
                    .ok_or("Audit account missing")?
                    .id
                    .clone();
                org.delegated_administrators.push(DelegatedAdministrator {
                    account_id: audit,
                    service_principal: service_principal.clone(),
                });
            }
            Action::CreateLogArchiveBuckets {
                bucket,
                access_log_bucket,
            } => {
                let a = account_mut(snap, &account)?;
                for name in [bucket, access_log_bucket] {
                    if !a.s3.buckets.iter().any(|b| b.name == *name) {
                        a.s3.buckets.push(Bucket {
                            name: name.clone(),
                            region: region.clone(),
                            object_lock: (name == bucket).then(|| ObjectLock {
                                enabled: true,
                                ..Default::default()
                            }),
                            ..Default::default()
                        });
                    }
                }
            }
            Action::ConfigureLogArchiveBucket {
                bucket,
                access_log_bucket,
                retention_days,
                object_lock_mode,
                policy,
                ..
            } => {
                let a = account_mut(snap, &account)?;
                let on = PublicAccessBlock {
                    block_public_acls: true,
                    ignore_public_acls: true,
                    block_public_policy: true,
                    restrict_public_buckets: true,
                };
                for b in a.s3.buckets.iter_mut() {
                    if b.name == *access_log_bucket {
                        b.public_access_block = Some(on);
                        b.encryption = vec!["AES256".into()];
                    }
                    if b.name == *bucket {
                        b.public_access_block = Some(on);
                        b.encryption = vec!["AES256".into()];
                        b.versioning = Some("Enabled".into());
                        b.object_lock = Some(ObjectLock {
                            enabled: true,
                            mode: Some(object_lock_mode.clone()),
                            days: Some(*retention_days as i32),
                            years: None,
                        });
                        b.lifecycle_rules = vec![LifecycleRule {
                            id: "rampart-retention".into(),
                            status: "Enabled".into(),
                            expiration_days: Some(*retention_days as i32),
                            noncurrent_expiration_days: Some(*retention_days as i32),
                        }];
                        b.logging_target_bucket = Some(access_log_bucket.clone());
                        b.policy = Some(policy.clone());
                    }
                }
            }
            Action::CreateTrailKey { alias, .. } => {
                let r = region_mut(snap, &mgmt, &region)?;
                if !r.kms_keys.iter().any(|k| k.key_id == *alias) {
                    r.kms_keys.push(KmsKey {
                        key_id: alias.clone(),
                        arn: format!("arn:aws:kms:{region}:{mgmt}:{alias}"),
                        key_manager: "CUSTOMER".into(),
                        key_state: "Enabled".into(),
                        rotation_enabled: Some(true),
                        ..Default::default()
                    });
                }
            }
            Action::CreateOrganizationTrail {
                name,
                log_group,
                kms_key,
                ..
            }
            | Action::UpdateTrail {
                name,
                log_group,
                kms_key,
                ..
            } => {
                let arn = format!("arn:aws:cloudtrail:{region}:{mgmt}:trail/{name}");
                let lg = format!("arn:aws:logs:{region}:{mgmt}:log-group:{log_group}:*");
                let a = account_mut(snap, &mgmt)?;
                a.trails.retain(|t| t.name != *name);
                a.trails.push(Trail {
                    name: name.clone(),
                    arn,
                    home_region: region.clone(),
                    owner_account_id: mgmt.clone(),
                    is_multi_region: true,
                    is_organization_trail: true,
                    include_global_service_events: true,
                    log_file_validation_enabled: true,
                    cloudwatch_logs_log_group_arn: Some(lg),
                    kms_key_id: Some(kms_key.clone()),
                    is_logging: Some(true),
                    ..Default::default()
                });
            }
            Action::StartLogging { name } => {
                for t in account_mut(snap, &mgmt)?.trails.iter_mut() {
                    if t.name == *name {
                        t.is_logging = Some(true);
                    }
                }
            }
            Action::PutCisAlarms {
                log_group,
                topic,
                emails,
                controls,
            } => {
                let topic_arn = format!("arn:aws:sns:{region}:{mgmt}:{topic}");
                let r = region_mut(snap, &mgmt, &region)?;
                if !r.sns_topics.iter().any(|t| t.arn == topic_arn) {
                    r.sns_topics.push(SnsTopic {
                        arn: topic_arn.clone(),
                        subscriptions: Vec::new(),
                        policy: None,
                    });
                }
                let t = r.sns_topics.iter_mut().find(|t| t.arn == topic_arn);
                if let Some(t) = t
                    && t.subscriptions.is_empty()
                {
                    t.subscriptions = emails
                        .iter()
                        .map(|e| SnsSubscription {
                            arn: "PendingConfirmation".into(),
                            protocol: "email".into(),
                            confirmed: false,
                            endpoint: Some(e.clone()),
                        })
                        .collect();
                }
                for (num, pattern) in CIS_PATTERNS
                    .iter()
                    .filter(|(n, _)| controls.iter().any(|c| c == n))
                {
                    let name = cis_alarm_name(num);
                    r.metric_filters.retain(|f| f.name != name);
                    r.metric_filters.push(MetricFilter {
                        name: name.clone(),
                        log_group_name: log_group.clone(),
                        pattern: pattern.to_string(),
                        metrics: vec![MetricRef {
                            name: name.clone(),
                            namespace: CIS_NAMESPACE.into(),
                        }],
                    });
                    r.alarms.retain(|a| a.name != name);
                    r.alarms.push(MetricAlarm {
                        name: name.clone(),
                        metric_name: Some(name.clone()),
                        namespace: Some(CIS_NAMESPACE.into()),
                        actions_enabled: true,
                        alarm_actions: vec![topic_arn.clone()],
                        ..Default::default()
                    });
                }
            }
            Action::EnableEbsDefaultEncryption => {
                region_mut(snap, &account, &region)?.ebs_encryption_by_default = true
            }
            Action::CreateGuardDutyDetector => {
                region_mut(snap, &account, &region)?.guardduty = Some(GuardDuty {
                    detector_id: "fake".into(),
                    status: "ENABLED".into(),
                    auto_enable_members: Some("NONE".into()),
                    ..Default::default()
                })
            }
            Action::EnableSecurityHub => {
                region_mut(snap, &account, &region)?.securityhub = Some(SecurityHub {
                    hub_arn: format!("arn:aws:securityhub:{region}:{account}:hub/default"),
                    enabled_standards: Some(Vec::new()),
                    // What the collector reads in the administrator's account once delegated.
                    auto_enable: Some(false),
                    ..Default::default()
                })
            }
            Action::EnableSecurityHubStandards { standards } => {
                let h = region_mut(snap, &account, &region)?
                    .securityhub
                    .as_mut()
                    .ok_or("Security Hub is not enabled")?;
                let on = h.enabled_standards.get_or_insert_with(Vec::new);
                for s in standards {
                    if !on.contains(s) {
                        on.push(s.clone());
                    }
                }
            }
            Action::EnableOrganizationAutoEnable { service_principal } => {
                let r = region_mut(snap, &account, &region)?;
                match service_principal.as_str() {
                    "guardduty.amazonaws.com" => {
                        r.guardduty
                            .as_mut()
                            .ok_or("no GuardDuty detector")?
                            .auto_enable_members = Some("ALL".into())
                    }
                    _ => {
                        r.securityhub
                            .as_mut()
                            .ok_or("Security Hub is not enabled")?
                            .auto_enable = Some(true)
                    }
                }
            }
            Action::CreateConfigAggregator { name } => region_mut(snap, &account, &region)?
                .config
                .aggregators
                .push(ConfigAggregator {
                    name: name.clone(),
                    organization: true,
                    all_regions: true,
                    ..Default::default()
                }),
            Action::CreateOrganizationAnalyzer { name } => region_mut(snap, &account, &region)?
                .access_analyzers
                .push(AccessAnalyzer {
                    name: name.clone(),
                    analyzer_type: "ORGANIZATION".into(),
                    status: "ACTIVE".into(),
                    ..Default::default()
                }),
            Action::StartConfigRecorder { bucket } => {
                let r = region_mut(snap, &account, &region)?;
                r.config.recorders = vec![ConfigRecorder {
                    name: "default".into(),
                    all_supported: true,
                    include_global_resource_types: true,
                    recording: true,
                    ..Default::default()
                }];
                r.config.delivery_channels = vec![DeliveryChannel {
                    name: "default".into(),
                    s3_bucket_name: Some(bucket.clone()),
                    sns_topic_arn: None,
                }];
            }
            Action::PutAccountPublicAccessBlock => {
                account_mut(snap, &account)?.s3.account_public_access_block =
                    Some(PublicAccessBlock {
                        block_public_acls: true,
                        ignore_public_acls: true,
                        block_public_policy: true,
                        restrict_public_buckets: true,
                    })
            }
            Action::UpdatePasswordPolicy {
                minimum_length,
                reuse_prevention,
            } => {
                account_mut(snap, &account)?.iam.password_policy = Some(PasswordPolicy {
                    minimum_password_length: Some(*minimum_length as i32),
                    password_reuse_prevention: Some(*reuse_prevention as i32),
                    ..Default::default()
                })
            }
            other => return Err(format!("{other:?} is not modelled")),
        }
        log.record(c, &account, &api, json!({}), &Ok(()));
        Ok(())
    }
}

/// The action's name, as the audit log of the model records it.
fn api_name(c: &Change) -> String {
    format!("{:?}", c.action)
        .split([' ', '{'])
        .next()
        .unwrap_or_default()
        .to_string()
}

fn account_mut<'a>(snap: &'a mut Snapshot, id: &str) -> Result<&'a mut AccountSnapshot, String> {
    snap.accounts
        .iter_mut()
        .find(|a| a.account_id == id)
        .ok_or_else(|| format!("account {id} is not in the model"))
}

fn region_mut<'a>(
    snap: &'a mut Snapshot,
    id: &str,
    region: &str,
) -> Result<&'a mut RegionSnapshot, String> {
    let a = account_mut(snap, id)?;
    if !a.regions.iter().any(|r| r.region == region) {
        a.regions.push(RegionSnapshot {
            region: region.into(),
            ..Default::default()
        });
    }
    a.regions
        .iter_mut()
        .find(|r| r.region == region)
        .ok_or_else(|| format!("region {region} missing"))
}
