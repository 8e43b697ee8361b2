//! The AWS side of `rampart apply`: each planned change made with the SDK in the account and
//! region it names (AssumeRole into members), idempotently — a resource that already exists is
//! success, not an error — and every state-changing call written to the audit log.

use crate::access::{Access, Counters, describe, pages};
use crate::{CollectError, CollectOptions};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use rampart_baseline::Config;
use rampart_baseline::apply::{AuditLog, Effects};
use rampart_baseline::plan::log_archive::{CIS_NAMESPACE, cis_alarm_name, trail_key_policy};
use rampart_baseline::plan::{Action, Change, PolicyType, QUARANTINE_POLICY};
use rampart_core::sample::CIS_PATTERNS;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod alerting;
mod identity;

/// Role CloudTrail assumes to deliver to CloudWatch Logs.
pub const TRAIL_LOGS_ROLE: &str = "rampart-cloudtrail-logs";

/// Role AWS Config assumes in the Audit account to read the organization for the aggregator.
pub const CONFIG_AGGREGATOR_ROLE: &str = "rampart-config-aggregator";

/// Names the plan uses, resolved to ids as they are read or created.
#[derive(Default)]
struct Names {
    root: String,
    ous: HashMap<String, String>,
    policies: HashMap<String, String>,
    /// Resource control policies by name (a name is unique within its type only).
    rcps: HashMap<String, String>,
    accounts: HashMap<String, String>,
}

impl Names {
    fn policies_of(&mut self, kind: PolicyType) -> &mut HashMap<String, String> {
        match kind {
            PolicyType::Scp => &mut self.policies,
            PolicyType::Rcp => &mut self.rcps,
        }
    }
}

fn sdk_policy_type(kind: PolicyType) -> aws_sdk_organizations::types::PolicyType {
    match kind {
        PolicyType::Scp => aws_sdk_organizations::types::PolicyType::ServiceControlPolicy,
        PolicyType::Rcp => aws_sdk_organizations::types::PolicyType::ResourceControlPolicy,
    }
}

/// Makes planned changes with the AWS SDK.
pub struct AwsEffects {
    rt: tokio::runtime::Runtime,
    base: Access,
    management: String,
    role_name: String,
    allowed_regions: Vec<String>,
    audit_account: String,
    sessions: tokio::sync::Mutex<HashMap<String, Access>>,
    names: Mutex<Names>,
    /// Identity Center instance, permission-set and group names (read on first use).
    sso: tokio::sync::Mutex<Option<identity::SsoNames>>,
}

/// What one call's failure means for the change.
enum Tolerate<'a> {
    /// Any error fails the change.
    Nothing,
    /// These error codes mean "already done".
    Codes(&'a [&'a str]),
}

impl AwsEffects {
    /// Signs in, checks the caller is the management account, and reads the names the plan
    /// refers to (root, OUs, SCPs, accounts).
    pub fn connect(opts: &CollectOptions, cfg: &Config) -> Result<AwsEffects, CollectError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| CollectError::Runtime(e.to_string()))?;
        let (base, management, names) = rt.block_on(async {
            let base = Access::from_env(opts, Arc::new(Counters::default())).await?;
            let caller = base.caller_identity().await?;
            let org = base.organizations(&base.home_region());
            let described = org.describe_organization().send().await.map_err(|e| {
                let (code, message) = describe(&e);
                CollectError::Options(format!(
                    "organizations:DescribeOrganization failed ({code}: {message}); `rampart apply` runs with the management account's credentials"
                ))
            })?;
            let management = described
                .organization()
                .and_then(|o| o.master_account_id())
                .unwrap_or_default()
                .to_string();
            if management != caller.account_id {
                return Err(CollectError::Options(format!(
                    "the credentials are for account {}, not the management account {management}: `rampart apply` runs from the management account",
                    caller.account_id
                )));
            }
            let names = read_names(&base).await.map_err(CollectError::Options)?;
            Ok((base, management, names))
        })?;
        Ok(AwsEffects {
            rt,
            base,
            management,
            role_name: cfg.organization.role_name.clone(),
            allowed_regions: cfg.organization.allowed_regions.clone(),
            audit_account: cfg.organization.audit_account.clone(),
            sessions: tokio::sync::Mutex::new(HashMap::new()),
            names: Mutex::new(names),
            sso: tokio::sync::Mutex::new(None),
        })
    }

    /// API requests sent so far (including retries).
    pub fn api_calls(&self) -> u64 {
        self.base.counters().attempts()
    }

    fn names(&self) -> std::sync::MutexGuard<'_, Names> {
        self.names.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The account id a change acts in (`name:X` resolved through accounts created so far).
    fn account_of(&self, c: &Change) -> Result<String, String> {
        if matches!(c.action, Action::CreateAccount { .. }) {
            return Ok(self.management.clone());
        }
        self.resolve(&c.account)
    }

    /// An account id, or `name:X` resolved through the accounts read or created so far.
    fn resolve(&self, account: &str) -> Result<String, String> {
        match account.strip_prefix("name:") {
            Some(name) => self.names().accounts.get(name).cloned().ok_or_else(|| {
                format!("account `{name}` does not exist yet (its creation did not succeed)")
            }),
            None => Ok(account.to_string()),
        }
    }

    async fn session(&self, account: &str) -> Result<Access, String> {
        if account == self.management {
            return Ok(self.base.clone());
        }
        let mut cache = self.sessions.lock().await;
        if let Some(s) = cache.get(account) {
            return Ok(s.clone());
        }
        let s = self
            .base
            .assume(account, &self.role_name)
            .await
            .map_err(|e| e.message)?;
        cache.insert(account.to_string(), s.clone());
        Ok(s)
    }

    async fn run(&self, c: &Change, log: &AuditLog) -> Result<(), String> {
        let account = self.account_of(c)?;
        let region = c.region.clone().unwrap_or_else(|| self.base.home_region());
        let s = self.session(&account).await?;
        let call = Call {
            log,
            change: c,
            account: &account,
            region: &region,
        };
        let org = || self.base.organizations(&self.base.home_region());
        match &c.action {
            Action::EnableAllFeatures => {
                let r = org().enable_all_features().send().await;
                call.done(
                    "organizations:EnableAllFeatures",
                    json!({}),
                    Tolerate::Codes(&["HandshakeConstraintViolationException"]),
                    r,
                )?;
            }
            Action::EnableAwsServiceAccess { service_principal } => {
                let r = org()
                    .enable_aws_service_access()
                    .service_principal(service_principal)
                    .send()
                    .await;
                call.done(
                    "organizations:EnableAWSServiceAccess",
                    json!({"ServicePrincipal": service_principal}),
                    Tolerate::Nothing,
                    r,
                )?;
            }
            Action::EnablePolicyType { policy_type } => {
                let root = self.names().root.clone();
                let r = org()
                    .enable_policy_type()
                    .root_id(&root)
                    .policy_type(policy_type.as_str().into())
                    .send()
                    .await;
                call.done(
                    "organizations:EnablePolicyType",
                    json!({"RootId": root, "PolicyType": policy_type}),
                    Tolerate::Codes(&["PolicyTypeAlreadyEnabledException"]),
                    r,
                )?;
            }
            Action::CreateOu { path } => {
                let (parent_path, name) = match path.rsplit_once('/') {
                    Some((p, n)) => (Some(p), n),
                    None => (None, path.as_str()),
                };
                let parent = match parent_path {
                    None => self.names().root.clone(),
                    Some(p) => self
                        .names()
                        .ous
                        .get(p)
                        .cloned()
                        .ok_or_else(|| format!("parent OU `{p}` does not exist"))?,
                };
                let r = org()
                    .create_organizational_unit()
                    .parent_id(&parent)
                    .name(name)
                    .tags(tag()?)
                    .send()
                    .await;
                let id = match call.done(
                    "organizations:CreateOrganizationalUnit",
                    json!({"ParentId": parent, "Name": name}),
                    Tolerate::Codes(&["DuplicateOrganizationalUnitException"]),
                    r,
                )? {
                    Some(out) => out
                        .organizational_unit()
                        .and_then(|o| o.id())
                        .unwrap_or_default()
                        .to_string(),
                    None => child_ou(&self.base, &parent, name).await?,
                };
                self.names().ous.insert(path.clone(), id);
            }
            Action::CreateAccount {
                name,
                email,
                ou,
                quarantine,
            } => {
                self.create_account(&call, name, email, ou, *quarantine)
                    .await?
            }
            Action::MoveAccount {
                account_id, to_ou, ..
            } => {
                let target = self
                    .names()
                    .ous
                    .get(to_ou)
                    .cloned()
                    .ok_or_else(|| format!("OU `{to_ou}` does not exist"))?;
                self.move_account(&call, account_id, &target).await?;
            }
            Action::CreatePolicy {
                name,
                blocks,
                content,
                policy_type,
            } => {
                let r = org()
                    .create_policy()
                    .name(name)
                    .description(format!("Managed by rampart: {}", blocks.join(", ")))
                    .content(content)
                    .r#type(sdk_policy_type(*policy_type))
                    .tags(tag()?)
                    .send()
                    .await;
                let id = match call.done(
                    "organizations:CreatePolicy",
                    json!({"Name": name, "Type": policy_type.as_str(), "Content": content}),
                    Tolerate::Codes(&["DuplicatePolicyException"]),
                    r,
                )? {
                    Some(out) => out
                        .policy()
                        .and_then(|p| p.policy_summary())
                        .and_then(|s| s.id())
                        .unwrap_or_default()
                        .to_string(),
                    None => policy_id(&self.base, name, *policy_type).await?,
                };
                self.names()
                    .policies_of(*policy_type)
                    .insert(name.clone(), id);
            }
            Action::UpdatePolicy {
                policy_id, content, ..
            } => {
                let r = org()
                    .update_policy()
                    .policy_id(policy_id)
                    .content(content)
                    .send()
                    .await;
                call.done(
                    "organizations:UpdatePolicy",
                    json!({"PolicyId": policy_id, "Content": content}),
                    Tolerate::Nothing,
                    r,
                )?;
            }
            Action::AttachPolicy {
                name,
                ou,
                policy_type,
            } => {
                let (policy, target) = {
                    let mut n = self.names();
                    let target = n.ous.get(ou).cloned();
                    (n.policies_of(*policy_type).get(name).cloned(), target)
                };
                let policy = policy
                    .ok_or_else(|| format!("{} `{name}` does not exist", policy_type.short()))?;
                let target = target.ok_or_else(|| format!("OU `{ou}` does not exist"))?;
                self.attach(&call, &policy, &target).await?;
            }
            Action::DetachPolicy {
                policy_id, target, ..
            } => {
                let r = org()
                    .detach_policy()
                    .policy_id(policy_id)
                    .target_id(target)
                    .send()
                    .await;
                call.done(
                    "organizations:DetachPolicy",
                    json!({"PolicyId": policy_id, "TargetId": target}),
                    Tolerate::Codes(&["PolicyNotAttachedException"]),
                    r,
                )?;
            }
            Action::RegisterDelegatedAdministrator {
                service_principal, ..
            } => {
                let admin = self
                    .names()
                    .accounts
                    .get(&self.audit_account)
                    .cloned()
                    .ok_or_else(|| {
                        format!("the Audit account `{}` does not exist", self.audit_account)
                    })?;
                self.delegate(&call, service_principal, &admin).await?;
            }
            Action::CreateLogArchiveBuckets {
                bucket,
                access_log_bucket,
            } => {
                let s3 = s.s3(&region);
                for (name, lock) in [(access_log_bucket, false), (bucket, true)] {
                    let mut req = s3.create_bucket().bucket(name);
                    if region != "us-east-1" {
                        req = req.create_bucket_configuration(
                            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                                .location_constraint(region.as_str().into())
                                .build(),
                        );
                    }
                    if lock {
                        req = req.object_lock_enabled_for_bucket(true);
                    }
                    let r = req.send().await;
                    call.done(
                        "s3:CreateBucket",
                        json!({"Bucket": name, "ObjectLockEnabledForBucket": lock}),
                        Tolerate::Codes(&["BucketAlreadyOwnedByYou"]),
                        r,
                    )?;
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
                self.configure_buckets(
                    &call,
                    &s,
                    bucket,
                    access_log_bucket,
                    *retention_days,
                    object_lock_mode,
                    policy,
                )
                .await?
            }
            Action::CreateTrailKey {
                alias,
                trail,
                log_archive_account,
            } => {
                let la = self.resolve(log_archive_account)?;
                let policy = trail_key_policy(&self.management, &la, &region, trail);
                self.trail_key(&call, &s, alias, &policy).await?;
            }
            Action::CreateOrganizationTrail {
                name,
                bucket,
                log_group,
                kms_key,
            } => {
                let (lg, role) = self.trail_logs(&call, log_group).await?;
                let r = s
                    .cloudtrail(&region)
                    .create_trail()
                    .name(name)
                    .kms_key_id(kms_key)
                    .s3_bucket_name(bucket)
                    .is_multi_region_trail(true)
                    .is_organization_trail(true)
                    .include_global_service_events(true)
                    .enable_log_file_validation(true)
                    .cloud_watch_logs_log_group_arn(&lg)
                    .cloud_watch_logs_role_arn(&role)
                    .send()
                    .await;
                let created = call.done(
                    "cloudtrail:CreateTrail",
                    json!({"Name": name, "S3BucketName": bucket, "IsOrganizationTrail": true,
                           "IsMultiRegionTrail": true, "EnableLogFileValidation": true,
                           "IncludeGlobalServiceEvents": true, "CloudWatchLogsLogGroupArn": lg,
                           "KmsKeyId": kms_key}),
                    Tolerate::Codes(&["TrailAlreadyExistsException"]),
                    r,
                )?;
                if created.is_none() {
                    self.update_trail(&call, &s, name, bucket, &lg, &role, kms_key)
                        .await?;
                }
                self.start_logging(&call, &s, name).await?;
            }
            Action::UpdateTrail {
                name,
                bucket,
                log_group,
                kms_key,
            } => {
                let (lg, role) = self.trail_logs(&call, log_group).await?;
                self.update_trail(&call, &s, name, bucket, &lg, &role, kms_key)
                    .await?;
            }
            Action::StartLogging { name } => self.start_logging(&call, &s, name).await?,
            Action::PutCisAlarms {
                log_group,
                topic,
                emails,
                controls,
            } => {
                self.cis_alarms(&call, &s, log_group, topic, emails, controls)
                    .await?
            }
            Action::EnableEbsDefaultEncryption => {
                let r = s
                    .ec2(&region)
                    .enable_ebs_encryption_by_default()
                    .send()
                    .await;
                call.done(
                    "ec2:EnableEbsEncryptionByDefault",
                    json!({}),
                    Tolerate::Nothing,
                    r,
                )?;
            }
            Action::CreateGuardDutyDetector => {
                let gd = s.guardduty(&region);
                let existing = gd
                    .list_detectors()
                    .send()
                    .await
                    .map_err(|e| call.failed("guardduty:ListDetectors", &e))?;
                match existing.detector_ids().first() {
                    Some(id) => {
                        let r = gd
                            .update_detector()
                            .detector_id(id)
                            .enable(true)
                            .send()
                            .await;
                        call.done(
                            "guardduty:UpdateDetector",
                            json!({"DetectorId": id, "Enable": true}),
                            Tolerate::Nothing,
                            r,
                        )?;
                    }
                    None => {
                        let r = gd.create_detector().enable(true).send().await;
                        call.done(
                            "guardduty:CreateDetector",
                            json!({"Enable": true}),
                            Tolerate::Nothing,
                            r,
                        )?;
                    }
                }
            }
            Action::EnableSecurityHub => {
                let r = s
                    .securityhub(&region)
                    .enable_security_hub()
                    .enable_default_standards(false)
                    .send()
                    .await;
                call.done(
                    "securityhub:EnableSecurityHub",
                    json!({"EnableDefaultStandards": false}),
                    Tolerate::Codes(&["ResourceConflictException"]),
                    r,
                )?;
            }
            Action::EnableSecurityHubStandards { standards } => {
                let requests = standards
                    .iter()
                    .map(|arn| {
                        aws_sdk_securityhub::types::StandardsSubscriptionRequest::builder()
                            .standards_arn(arn)
                            .build()
                    })
                    .collect::<Vec<_>>();
                let r = s
                    .securityhub(&region)
                    .batch_enable_standards()
                    .set_standards_subscription_requests(Some(requests))
                    .send()
                    .await;
                call.done(
                    "securityhub:BatchEnableStandards",
                    json!({"StandardsArns": standards}),
                    Tolerate::Nothing,
                    r,
                )?;
            }
            Action::EnableOrganizationAutoEnable { service_principal } => {
                if service_principal == "guardduty.amazonaws.com" {
                    let gd = s.guardduty(&region);
                    let detectors = gd
                        .list_detectors()
                        .send()
                        .await
                        .map_err(|e| call.failed("guardduty:ListDetectors", &e))?;
                    let id = detectors
                        .detector_ids()
                        .first()
                        .ok_or("the Audit account has no GuardDuty detector in this region")?;
                    let r = gd
                        .update_organization_configuration()
                        .detector_id(id)
                        .auto_enable_organization_members(
                            aws_sdk_guardduty::types::AutoEnableMembers::All,
                        )
                        .send()
                        .await;
                    call.done(
                        "guardduty:UpdateOrganizationConfiguration",
                        json!({"DetectorId": id, "AutoEnableOrganizationMembers": "ALL"}),
                        Tolerate::Nothing,
                        r,
                    )?;
                } else {
                    let r = s
                        .securityhub(&region)
                        .update_organization_configuration()
                        .auto_enable(true)
                        .auto_enable_standards(
                            aws_sdk_securityhub::types::AutoEnableStandards::Default,
                        )
                        .send()
                        .await;
                    call.done(
                        "securityhub:UpdateOrganizationConfiguration",
                        json!({"AutoEnable": true, "AutoEnableStandards": "DEFAULT"}),
                        Tolerate::Nothing,
                        r,
                    )?;
                }
            }
            Action::CreateConfigAggregator { name } => {
                self.config_aggregator(&call, &s, name).await?
            }
            Action::CreateOrganizationAnalyzer { name } => {
                let r = s
                    .accessanalyzer(&region)
                    .create_analyzer()
                    .analyzer_name(name)
                    .r#type(aws_sdk_accessanalyzer::types::Type::Organization)
                    .send()
                    .await;
                call.done(
                    "access-analyzer:CreateAnalyzer",
                    json!({"AnalyzerName": name, "Type": "ORGANIZATION"}),
                    Tolerate::Codes(&["ConflictException"]),
                    r,
                )?;
            }
            Action::StartConfigRecorder { bucket } => {
                self.config_recorder(&call, &s, bucket).await?
            }
            Action::PutAccountPublicAccessBlock => {
                let r = s
                    .s3control(&region)
                    .put_public_access_block()
                    .account_id(&account)
                    .public_access_block_configuration(
                        aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
                            .block_public_acls(true)
                            .ignore_public_acls(true)
                            .block_public_policy(true)
                            .restrict_public_buckets(true)
                            .build(),
                    )
                    .send()
                    .await;
                call.done(
                    "s3control:PutPublicAccessBlock",
                    json!({"BlockPublicAcls": true, "IgnorePublicAcls": true,
                           "BlockPublicPolicy": true, "RestrictPublicBuckets": true}),
                    Tolerate::Nothing,
                    r,
                )?;
            }
            a if a.is_identity() => self.identity(&call, &s, a).await?,
            a if a.is_alerting() => alerting::apply(&call, &s, a).await?,
            Action::UpdatePasswordPolicy {
                minimum_length,
                reuse_prevention,
            } => {
                let r = s
                    .iam(&region)
                    .update_account_password_policy()
                    .minimum_password_length(*minimum_length as i32)
                    .password_reuse_prevention(*reuse_prevention as i32)
                    .require_symbols(true)
                    .require_numbers(true)
                    .require_uppercase_characters(true)
                    .require_lowercase_characters(true)
                    .allow_users_to_change_password(true)
                    .send()
                    .await;
                call.done(
                    "iam:UpdateAccountPasswordPolicy",
                    json!({"MinimumPasswordLength": minimum_length,
                           "PasswordReusePrevention": reuse_prevention}),
                    Tolerate::Nothing,
                    r,
                )?;
            }
            // Every Identity Center change went to `identity` above.
            other => return Err(format!("{other:?}: no AWS effect for this change")),
        }
        Ok(())
    }

    async fn create_account(
        &self,
        call: &Call<'_>,
        name: &str,
        email: &str,
        ou: &str,
        quarantine: bool,
    ) -> Result<(), String> {
        let org = self.base.organizations(&self.base.home_region());
        let existing = self.names().accounts.get(name).cloned();
        let id = match existing {
            Some(id) => id,
            None => {
                let r = org
                    .create_account()
                    .account_name(name)
                    .email(email)
                    .tags(tag()?)
                    .send()
                    .await;
                let out = call
                    .done(
                        "organizations:CreateAccount",
                        json!({"AccountName": name, "Email": email}),
                        Tolerate::Nothing,
                        r,
                    )?
                    .ok_or("organizations:CreateAccount returned nothing")?;
                let request = out
                    .create_account_status()
                    .and_then(|s| s.id())
                    .unwrap_or_default()
                    .to_string();
                self.wait_for_account(&request).await?
            }
        };
        self.names().accounts.insert(name.to_string(), id.clone());
        if quarantine {
            let q = self
                .names()
                .policies
                .get(QUARANTINE_POLICY)
                .cloned()
                .ok_or("the quarantine SCP does not exist")?;
            self.attach(call, &q, &id).await?;
        }
        let target = self
            .names()
            .ous
            .get(ou)
            .cloned()
            .ok_or_else(|| format!("OU `{ou}` does not exist"))?;
        self.move_account(call, &id, &target).await
    }

    /// Polls `DescribeCreateAccountStatus` until the account exists (creation is asynchronous
    /// and takes minutes in AWS).
    async fn wait_for_account(&self, request: &str) -> Result<String, String> {
        use aws_sdk_organizations::types::CreateAccountState;
        let org = self.base.organizations(&self.base.home_region());
        let mut delay = Duration::from_millis(200);
        let deadline = std::time::Instant::now() + Duration::from_secs(30 * 60);
        loop {
            let st = org
                .describe_create_account_status()
                .create_account_request_id(request)
                .send()
                .await
                .map_err(|e| failure("organizations:DescribeCreateAccountStatus", &e))?;
            let status = st.create_account_status().ok_or("no status returned")?;
            match status.state() {
                Some(CreateAccountState::Succeeded) => {
                    return status
                        .account_id()
                        .map(str::to_string)
                        .ok_or_else(|| "account creation succeeded without an id".into());
                }
                Some(CreateAccountState::Failed) => {
                    return Err(format!(
                        "organizations:CreateAccount failed: {}",
                        status
                            .failure_reason()
                            .map(|r| r.as_str())
                            .unwrap_or("no reason given")
                    ));
                }
                _ if std::time::Instant::now() > deadline => {
                    return Err(format!(
                        "account creation {request} still in progress after 30 minutes; run `rampart apply` again later"
                    ));
                }
                _ => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    async fn move_account(&self, call: &Call<'_>, id: &str, target: &str) -> Result<(), String> {
        let org = self.base.organizations(&self.base.home_region());
        let parents = org
            .list_parents()
            .child_id(id)
            .send()
            .await
            .map_err(|e| call.failed("organizations:ListParents", &e))?;
        let source = parents
            .parents()
            .first()
            .and_then(|p| p.id())
            .unwrap_or_default()
            .to_string();
        if source == target {
            return Ok(());
        }
        let r = org
            .move_account()
            .account_id(id)
            .source_parent_id(&source)
            .destination_parent_id(target)
            .send()
            .await;
        call.done(
            "organizations:MoveAccount",
            json!({"AccountId": id, "SourceParentId": source, "DestinationParentId": target}),
            Tolerate::Codes(&["DuplicateAccountException"]),
            r,
        )?;
        Ok(())
    }

    async fn attach(&self, call: &Call<'_>, policy: &str, target: &str) -> Result<(), String> {
        let r = self
            .base
            .organizations(&self.base.home_region())
            .attach_policy()
            .policy_id(policy)
            .target_id(target)
            .send()
            .await;
        call.done(
            "organizations:AttachPolicy",
            json!({"PolicyId": policy, "TargetId": target}),
            Tolerate::Codes(&["DuplicatePolicyAttachmentException"]),
            r,
        )?;
        Ok(())
    }

    /// Delegation through the service's own API where it has one (GuardDuty and Security Hub,
    /// in every allowed region), else through Organizations.
    async fn delegate(&self, call: &Call<'_>, principal: &str, admin: &str) -> Result<(), String> {
        let org = self.base.organizations(&self.base.home_region());
        let register = || async {
            let r = org
                .register_delegated_administrator()
                .account_id(admin)
                .service_principal(principal)
                .send()
                .await;
            call.done(
                "organizations:RegisterDelegatedAdministrator",
                json!({"AccountId": admin, "ServicePrincipal": principal}),
                Tolerate::Codes(&["AccountAlreadyRegisteredException"]),
                r,
            )
            .map(|_| ())
        };
        match principal {
            "guardduty.amazonaws.com" => {
                register().await?;
                for region in &self.allowed_regions {
                    let r = self
                        .base
                        .guardduty(region)
                        .enable_organization_admin_account()
                        .admin_account_id(admin)
                        .send()
                        .await;
                    call.in_region(region).done(
                        "guardduty:EnableOrganizationAdminAccount",
                        json!({"AdminAccountId": admin}),
                        Tolerate::Codes(&["BadRequestException"]),
                        r,
                    )?;
                }
            }
            "securityhub.amazonaws.com" => {
                for region in &self.allowed_regions {
                    let r = self
                        .base
                        .securityhub(region)
                        .enable_organization_admin_account()
                        .admin_account_id(admin)
                        .send()
                        .await;
                    call.in_region(region).done(
                        "securityhub:EnableOrganizationAdminAccount",
                        json!({"AdminAccountId": admin}),
                        Tolerate::Codes(&["ResourceConflictException"]),
                        r,
                    )?;
                }
            }
            _ => register().await?,
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn configure_buckets(
        &self,
        call: &Call<'_>,
        s: &Access,
        bucket: &str,
        access_bucket: &str,
        retention_days: u32,
        lock_mode: &str,
        policy: &str,
    ) -> Result<(), String> {
        use aws_sdk_s3::types::*;
        let s3 = s.s3(call.region);
        let days = retention_days as i32;
        let bpa = || {
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build()
        };
        let sse = || -> Result<ServerSideEncryptionConfiguration, String> {
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(ServerSideEncryption::Aes256)
                                .build()
                                .map_err(|e| e.to_string())?,
                        )
                        .build(),
                )
                .build()
                .map_err(|e| e.to_string())
        };
        let all = json!({"BlockPublicAcls": true, "IgnorePublicAcls": true,
                         "BlockPublicPolicy": true, "RestrictPublicBuckets": true});
        for b in [access_bucket, bucket] {
            let r = s3
                .put_public_access_block()
                .bucket(b)
                .public_access_block_configuration(bpa())
                .send()
                .await;
            call.done(
                "s3:PutPublicAccessBlock",
                json!({"Bucket": b, "PublicAccessBlockConfiguration": all}),
                Tolerate::Nothing,
                r,
            )?;
            let r = s3
                .put_bucket_encryption()
                .bucket(b)
                .server_side_encryption_configuration(sse()?)
                .send()
                .await;
            call.done(
                "s3:PutBucketEncryption",
                json!({"Bucket": b, "SSEAlgorithm": "AES256"}),
                Tolerate::Nothing,
                r,
            )?;
        }
        let access_policy = json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "ServerAccessLogs",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": format!("arn:aws:s3:::{access_bucket}/*"),
                "Condition": {
                    "ArnLike": {"aws:SourceArn": format!("arn:aws:s3:::{bucket}")},
                    "StringEquals": {"aws:SourceAccount": call.account}
                }
            }, {
                "Sid": "DenyWithoutTls",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [format!("arn:aws:s3:::{access_bucket}"), format!("arn:aws:s3:::{access_bucket}/*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            }]
        })
        .to_string();
        for (b, p) in [(access_bucket, access_policy.as_str()), (bucket, policy)] {
            let r = s3.put_bucket_policy().bucket(b).policy(p).send().await;
            call.done(
                "s3:PutBucketPolicy",
                json!({"Bucket": b, "Policy": p}),
                Tolerate::Nothing,
                r,
            )?;
        }
        let r = s3
            .put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await;
        call.done(
            "s3:PutBucketVersioning",
            json!({"Bucket": bucket, "Status": "Enabled"}),
            Tolerate::Nothing,
            r,
        )?;
        let r = s3
            .put_object_lock_configuration()
            .bucket(bucket)
            .object_lock_configuration(
                ObjectLockConfiguration::builder()
                    .object_lock_enabled(ObjectLockEnabled::Enabled)
                    .rule(
                        ObjectLockRule::builder()
                            .default_retention(
                                DefaultRetention::builder()
                                    .mode(ObjectLockRetentionMode::from(lock_mode))
                                    .days(days)
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await;
        call.done(
            "s3:PutObjectLockConfiguration",
            json!({"Bucket": bucket, "Mode": lock_mode, "Days": days}),
            Tolerate::Nothing,
            r,
        )?;
        let rule = LifecycleRule::builder()
            .id("rampart-retention")
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("").build())
            .expiration(LifecycleExpiration::builder().days(days).build())
            .noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(days)
                    .build(),
            )
            .build()
            .map_err(|e| e.to_string())?;
        let r = s3
            .put_bucket_lifecycle_configuration()
            .bucket(bucket)
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .rules(rule)
                    .build()
                    .map_err(|e| e.to_string())?,
            )
            .send()
            .await;
        call.done(
            "s3:PutBucketLifecycleConfiguration",
            json!({"Bucket": bucket, "ExpirationDays": days, "NoncurrentDays": days}),
            Tolerate::Nothing,
            r,
        )?;
        let r = s3
            .put_bucket_logging()
            .bucket(bucket)
            .bucket_logging_status(
                BucketLoggingStatus::builder()
                    .logging_enabled(
                        LoggingEnabled::builder()
                            .target_bucket(access_bucket)
                            .target_prefix(format!("{bucket}/"))
                            .build()
                            .map_err(|e| e.to_string())?,
                    )
                    .build(),
            )
            .send()
            .await;
        call.done(
            "s3:PutBucketLogging",
            json!({"Bucket": bucket, "TargetBucket": access_bucket}),
            Tolerate::Nothing,
            r,
        )?;
        Ok(())
    }

    /// The trail's key under `alias`: created (rotation on) or, if the alias exists, its policy
    /// set to `policy`.
    async fn trail_key(
        &self,
        call: &Call<'_>,
        s: &Access,
        alias: &str,
        policy: &str,
    ) -> Result<(), String> {
        let kms = s.kms(call.region);
        let existing = match kms.describe_key().key_id(alias).send().await {
            Ok(d) => d.key_metadata().map(|m| m.key_id().to_string()),
            Err(e) if describe(&e).0 == "NotFoundException" => None,
            Err(e) => return Err(call.failed("kms:DescribeKey", &e)),
        };
        let key = match existing {
            Some(key) => {
                let r = kms
                    .put_key_policy()
                    .key_id(&key)
                    .policy_name("default")
                    .policy(policy)
                    .send()
                    .await;
                call.done(
                    "kms:PutKeyPolicy",
                    json!({"KeyId": key, "Policy": policy}),
                    Tolerate::Nothing,
                    r,
                )?;
                key
            }
            None => {
                let r = kms
                    .create_key()
                    .description("Managed by rampart: encrypts the organization trail")
                    .policy(policy)
                    .tags(
                        aws_sdk_kms::types::Tag::builder()
                            .tag_key("rampart:managed")
                            .tag_value("true")
                            .build()
                            .map_err(|e| e.to_string())?,
                    )
                    .send()
                    .await;
                let key = call
                    .done(
                        "kms:CreateKey",
                        json!({"Description": "organization trail", "Policy": policy}),
                        Tolerate::Nothing,
                        r,
                    )?
                    .and_then(|o| o.key_metadata().map(|m| m.key_id().to_string()))
                    .ok_or("kms:CreateKey returned no key id")?;
                let r = kms
                    .create_alias()
                    .alias_name(alias)
                    .target_key_id(&key)
                    .send()
                    .await;
                call.done(
                    "kms:CreateAlias",
                    json!({"AliasName": alias, "TargetKeyId": key}),
                    Tolerate::Codes(&["AlreadyExistsException"]),
                    r,
                )?;
                key
            }
        };
        let r = kms.enable_key_rotation().key_id(&key).send().await;
        call.done(
            "kms:EnableKeyRotation",
            json!({"KeyId": key}),
            Tolerate::Nothing,
            r,
        )?;
        Ok(())
    }

    /// The trail's log group and the role CloudTrail delivers to it with; returns their ARNs.
    async fn trail_logs(
        &self,
        call: &Call<'_>,
        log_group: &str,
    ) -> Result<(String, String), String> {
        let region = call.region;
        let m = &self.management;
        let logs = self.base.logs(region);
        let r = logs
            .create_log_group()
            .log_group_name(log_group)
            .send()
            .await;
        call.done(
            "logs:CreateLogGroup",
            json!({"logGroupName": log_group}),
            Tolerate::Codes(&["ResourceAlreadyExistsException"]),
            r,
        )?;
        let r = logs
            .put_retention_policy()
            .log_group_name(log_group)
            .retention_in_days(365)
            .send()
            .await;
        call.done(
            "logs:PutRetentionPolicy",
            json!({"logGroupName": log_group, "retentionInDays": 365}),
            Tolerate::Nothing,
            r,
        )?;
        let lg = format!("arn:aws:logs:{region}:{m}:log-group:{log_group}:*");
        let trust = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": m}}}]})
        .to_string();
        let iam = self.base.iam(region);
        let r = iam
            .create_role()
            .role_name(TRAIL_LOGS_ROLE)
            .assume_role_policy_document(&trust)
            .description(
                "Managed by rampart: CloudTrail delivers the organization trail to CloudWatch Logs",
            )
            .send()
            .await;
        call.done(
            "iam:CreateRole",
            json!({"RoleName": TRAIL_LOGS_ROLE, "AssumeRolePolicyDocument": trust}),
            Tolerate::Codes(&["EntityAlreadyExists"]),
            r,
        )?;
        let allow = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": format!("arn:aws:logs:{region}:{m}:log-group:{log_group}:log-stream:*")}]})
        .to_string();
        let r = iam
            .put_role_policy()
            .role_name(TRAIL_LOGS_ROLE)
            .policy_name("deliver-to-log-group")
            .policy_document(&allow)
            .send()
            .await;
        call.done(
            "iam:PutRolePolicy",
            json!({"RoleName": TRAIL_LOGS_ROLE, "PolicyDocument": allow}),
            Tolerate::Nothing,
            r,
        )?;
        Ok((lg, format!("arn:aws:iam::{m}:role/{TRAIL_LOGS_ROLE}")))
    }

    #[allow(clippy::too_many_arguments)]
    async fn update_trail(
        &self,
        call: &Call<'_>,
        s: &Access,
        name: &str,
        bucket: &str,
        lg: &str,
        role: &str,
        kms_key: &str,
    ) -> Result<(), String> {
        let r = s
            .cloudtrail(call.region)
            .update_trail()
            .name(name)
            .kms_key_id(kms_key)
            .s3_bucket_name(bucket)
            .is_multi_region_trail(true)
            .is_organization_trail(true)
            .include_global_service_events(true)
            .enable_log_file_validation(true)
            .cloud_watch_logs_log_group_arn(lg)
            .cloud_watch_logs_role_arn(role)
            .send()
            .await;
        call.done(
            "cloudtrail:UpdateTrail",
            json!({"Name": name, "S3BucketName": bucket, "IsOrganizationTrail": true,
                   "IsMultiRegionTrail": true, "EnableLogFileValidation": true,
                   "IncludeGlobalServiceEvents": true, "CloudWatchLogsLogGroupArn": lg,
                           "KmsKeyId": kms_key}),
            Tolerate::Nothing,
            r,
        )?;
        Ok(())
    }

    async fn start_logging(&self, call: &Call<'_>, s: &Access, name: &str) -> Result<(), String> {
        let r = s
            .cloudtrail(call.region)
            .start_logging()
            .name(name)
            .send()
            .await;
        call.done(
            "cloudtrail:StartLogging",
            json!({"Name": name}),
            Tolerate::Nothing,
            r,
        )?;
        Ok(())
    }

    async fn cis_alarms(
        &self,
        call: &Call<'_>,
        s: &Access,
        log_group: &str,
        topic: &str,
        emails: &[String],
        controls: &[String],
    ) -> Result<(), String> {
        let topic_arn = put_topic(call, s, topic, emails).await?;
        let logs = s.logs(call.region);
        let cw = s.cloudwatch(call.region);
        for (num, pattern) in CIS_PATTERNS
            .iter()
            .filter(|(n, _)| controls.iter().any(|c| c == n))
        {
            let name = cis_alarm_name(num);
            let r = logs
                .put_metric_filter()
                .log_group_name(log_group)
                .filter_name(&name)
                .filter_pattern(*pattern)
                .metric_transformations(
                    aws_sdk_cloudwatchlogs::types::MetricTransformation::builder()
                        .metric_name(&name)
                        .metric_namespace(CIS_NAMESPACE)
                        .metric_value("1")
                        .build()
                        .map_err(|e| e.to_string())?,
                )
                .send()
                .await;
            call.done(
                "logs:PutMetricFilter",
                json!({"logGroupName": log_group, "filterName": name, "filterPattern": pattern}),
                Tolerate::Nothing,
                r,
            )?;
            let r = cw
                .put_metric_alarm()
                .alarm_name(&name)
                .alarm_description(format!("CIS AWS Foundations {num}: managed by rampart"))
                .metric_name(&name)
                .namespace(CIS_NAMESPACE)
                .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
                .period(300)
                .evaluation_periods(1)
                .threshold(1.0)
                .comparison_operator(
                    aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanOrEqualToThreshold,
                )
                .treat_missing_data("notBreaching")
                .actions_enabled(true)
                .alarm_actions(&topic_arn)
                .send()
                .await;
            call.done(
                "cloudwatch:PutMetricAlarm",
                json!({"AlarmName": name, "MetricName": name, "Namespace": CIS_NAMESPACE,
                       "AlarmActions": [topic_arn]}),
                Tolerate::Nothing,
                r,
            )?;
        }
        Ok(())
    }

    /// The organization aggregator, with the role Config uses to read the organization.
    async fn config_aggregator(
        &self,
        call: &Call<'_>,
        s: &Access,
        name: &str,
    ) -> Result<(), String> {
        let iam = s.iam(call.region);
        let trust = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"},
            "Action": "sts:AssumeRole"}]})
        .to_string();
        let r = iam
            .create_role()
            .role_name(CONFIG_AGGREGATOR_ROLE)
            .assume_role_policy_document(&trust)
            .description("Managed by rampart: Config reads the organization for the aggregator")
            .send()
            .await;
        call.done(
            "iam:CreateRole",
            json!({"RoleName": CONFIG_AGGREGATOR_ROLE, "AssumeRolePolicyDocument": trust}),
            Tolerate::Codes(&["EntityAlreadyExists"]),
            r,
        )?;
        let managed = "arn:aws:iam::aws:policy/service-role/AWSConfigRoleForOrganizations";
        let r = iam
            .attach_role_policy()
            .role_name(CONFIG_AGGREGATOR_ROLE)
            .policy_arn(managed)
            .send()
            .await;
        call.done(
            "iam:AttachRolePolicy",
            json!({"RoleName": CONFIG_AGGREGATOR_ROLE, "PolicyArn": managed}),
            Tolerate::Nothing,
            r,
        )?;
        let role = format!(
            "arn:aws:iam::{}:role/{CONFIG_AGGREGATOR_ROLE}",
            call.account
        );
        let r = s
            .config_service(call.region)
            .put_configuration_aggregator()
            .configuration_aggregator_name(name)
            .organization_aggregation_source(
                aws_sdk_config::types::OrganizationAggregationSource::builder()
                    .role_arn(&role)
                    .all_aws_regions(true)
                    .build()
                    .map_err(|e| e.to_string())?,
            )
            .send()
            .await;
        call.done(
            "config:PutConfigurationAggregator",
            json!({"ConfigurationAggregatorName": name, "RoleArn": role, "AllAwsRegions": true}),
            Tolerate::Nothing,
            r,
        )?;
        Ok(())
    }

    async fn config_recorder(
        &self,
        call: &Call<'_>,
        s: &Access,
        bucket: &str,
    ) -> Result<(), String> {
        use aws_sdk_config::types::*;
        let iam = s.iam(call.region);
        let r = iam
            .create_service_linked_role()
            .aws_service_name("config.amazonaws.com")
            .send()
            .await;
        call.done(
            "iam:CreateServiceLinkedRole",
            json!({"AWSServiceName": "config.amazonaws.com"}),
            Tolerate::Codes(&["InvalidInput", "EntityAlreadyExists"]),
            r,
        )?;
        let role = format!(
            "arn:aws:iam::{}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
            call.account
        );
        // Global resources (IAM) are recorded once, in the home region.
        let global = self.allowed_regions.first().map(String::as_str) == Some(call.region);
        let c = s.config_service(call.region);
        let r = c
            .put_configuration_recorder()
            .configuration_recorder(
                ConfigurationRecorder::builder()
                    .name("default")
                    .role_arn(&role)
                    .recording_group(
                        RecordingGroup::builder()
                            .all_supported(true)
                            .include_global_resource_types(global)
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await;
        call.done(
            "config:PutConfigurationRecorder",
            json!({"Name": "default", "RoleARN": role, "AllSupported": true,
                   "IncludeGlobalResourceTypes": global}),
            Tolerate::Nothing,
            r,
        )?;
        let r = c
            .put_delivery_channel()
            .delivery_channel(
                DeliveryChannel::builder()
                    .name("default")
                    .s3_bucket_name(bucket)
                    .build(),
            )
            .send()
            .await;
        call.done(
            "config:PutDeliveryChannel",
            json!({"Name": "default", "S3BucketName": bucket}),
            Tolerate::Nothing,
            r,
        )?;
        let r = c
            .start_configuration_recorder()
            .configuration_recorder_name("default")
            .send()
            .await;
        call.done(
            "config:StartConfigurationRecorder",
            json!({"ConfigurationRecorderName": "default"}),
            Tolerate::Nothing,
            r,
        )?;
        Ok(())
    }
}

impl Effects for AwsEffects {
    fn apply(&self, change: &Change, log: &AuditLog) -> Result<(), String> {
        self.rt.block_on(self.run(change, log))
    }
}

/// One change's calls: each outcome goes to the audit log with the change, account and region.
/// Creates the SNS topic (idempotent) and subscribes the emails not yet subscribed; its ARN.
/// Shared by the CIS alarms' topic and the central alert topic.
async fn put_topic(
    call: &Call<'_>,
    s: &Access,
    topic: &str,
    emails: &[String],
) -> Result<String, String> {
    let sns = s.sns(call.region);
    let r = sns.create_topic().name(topic).send().await;
    let topic_arn = call
        .done(
            "sns:CreateTopic",
            json!({"Name": topic}),
            Tolerate::Nothing,
            r,
        )?
        .and_then(|o| o.topic_arn().map(str::to_string))
        .ok_or("sns:CreateTopic returned no ARN")?;
    let subscribed = sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic_arn)
        .send()
        .await
        .map_err(|e| call.failed("sns:ListSubscriptionsByTopic", &e))?;
    for email in emails {
        if subscribed
            .subscriptions()
            .iter()
            .any(|x| x.endpoint() == Some(email.as_str()))
        {
            continue;
        }
        let r = sns
            .subscribe()
            .topic_arn(&topic_arn)
            .protocol("email")
            .endpoint(email)
            .send()
            .await;
        call.done(
            "sns:Subscribe",
            json!({"TopicArn": topic_arn, "Protocol": "email", "Endpoint": email}),
            Tolerate::Nothing,
            r,
        )?;
    }
    Ok(topic_arn)
}

struct Call<'a> {
    log: &'a AuditLog,
    change: &'a Change,
    account: &'a str,
    region: &'a str,
}

impl<'a> Call<'a> {
    fn in_region(&self, region: &'a str) -> Call<'a> {
        Call {
            log: self.log,
            change: self.change,
            account: self.account,
            region,
        }
    }

    fn failed<E>(&self, api: &str, e: &SdkError<E, HttpResponse>) -> String
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let (code, message) = describe(e);
        format!(
            "{api} in account {} ({}): {code}: {message}",
            self.account, self.region
        )
    }

    /// Logs the outcome; `Ok(None)` when a tolerated error says it was already done.
    fn done<T, E>(
        &self,
        api: &str,
        mut params: Value,
        tolerate: Tolerate<'_>,
        r: Result<T, SdkError<E, HttpResponse>>,
    ) -> Result<Option<T>, String>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        if let Some(o) = params.as_object_mut() {
            o.insert("region".into(), Value::String(self.region.to_string()));
        }
        let (out, logged) = match r {
            Ok(v) => (Ok(Some(v)), Ok(())),
            Err(e) => {
                let (code, _) = describe(&e);
                match tolerate {
                    Tolerate::Codes(codes) if codes.contains(&code.as_str()) => (Ok(None), Ok(())),
                    _ => {
                        let line = self.failed(api, &e);
                        (Err(line.clone()), Err(line))
                    }
                }
            }
        };
        self.log
            .record(self.change, self.account, api, params, &logged);
        out
    }
}

/// The ownership tag on what rampart creates.
fn tag() -> Result<aws_sdk_organizations::types::Tag, String> {
    aws_sdk_organizations::types::Tag::builder()
        .key("rampart:managed")
        .value("true")
        .build()
        .map_err(|e| e.to_string())
}

async fn child_ou(base: &Access, parent: &str, name: &str) -> Result<String, String> {
    let org = base.organizations(&base.home_region());
    let listed = pages!(org.list_organizational_units_for_parent().parent_id(parent))
        .map_err(|e| failure("organizations:ListOrganizationalUnitsForParent", &e))?;
    listed
        .iter()
        .flat_map(|p| p.organizational_units())
        .find(|o| o.name() == Some(name))
        .and_then(|o| o.id())
        .map(str::to_string)
        .ok_or_else(|| format!("OU `{name}` exists but could not be found under {parent}"))
}

/// One line for a failed read outside any change.
fn failure<E>(api: &str, e: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let (code, message) = describe(e);
    format!("{api}: {code}: {message}")
}

async fn policy_id(base: &Access, name: &str, kind: PolicyType) -> Result<String, String> {
    let mut n = read_names(base).await?;
    n.policies_of(kind)
        .get(name)
        .cloned()
        .ok_or_else(|| format!("{} `{name}` exists but could not be listed", kind.short()))
}

/// Root, OU paths, SCP names and account names → ids.
async fn read_names(base: &Access) -> Result<Names, String> {
    let org = base.organizations(&base.home_region());
    let roots = org
        .list_roots()
        .send()
        .await
        .map_err(|e| failure("organizations:ListRoots", &e))?;
    let mut names = Names {
        root: roots
            .roots()
            .first()
            .and_then(|r| r.id())
            .unwrap_or_default()
            .to_string(),
        ..Default::default()
    };
    let mut queue = vec![(names.root.clone(), String::new())];
    while let Some((parent, prefix)) = queue.pop() {
        let listed = pages!(
            org.list_organizational_units_for_parent()
                .parent_id(&parent)
        )
        .map_err(|e| failure("organizations:ListOrganizationalUnitsForParent", &e))?;
        for ou in listed.iter().flat_map(|p| p.organizational_units()) {
            let path = format!("{prefix}{}", ou.name().unwrap_or_default());
            let id = ou.id().unwrap_or_default().to_string();
            queue.push((id.clone(), format!("{path}/")));
            names.ous.insert(path, id);
        }
    }
    let policies = pages!(
        org.list_policies()
            .filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
    )
    .map_err(|e| failure("organizations:ListPolicies", &e))?;
    for p in policies.iter().flat_map(|p| p.policies()) {
        names.policies.insert(
            p.name().unwrap_or_default().to_string(),
            p.id().unwrap_or_default().to_string(),
        );
    }
    // RCPs: none to list while the policy type is not enabled (the plan enables it first).
    if let Ok(rcps) = pages!(
        org.list_policies()
            .filter(aws_sdk_organizations::types::PolicyType::ResourceControlPolicy)
    ) {
        for p in rcps.iter().flat_map(|p| p.policies()) {
            names.rcps.insert(
                p.name().unwrap_or_default().to_string(),
                p.id().unwrap_or_default().to_string(),
            );
        }
    }
    let accounts =
        pages!(org.list_accounts()).map_err(|e| failure("organizations:ListAccounts", &e))?;
    for a in accounts.iter().flat_map(|p| p.accounts()) {
        names.accounts.insert(
            a.name().unwrap_or_default().to_string(),
            a.id().unwrap_or_default().to_string(),
        );
    }
    Ok(names)
}
