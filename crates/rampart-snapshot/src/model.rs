//! The snapshot's types. Each struct documents which AWS API fills it, so a reader can check a
//! value against the console or the CLI.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One collection of an organization (or a standalone account).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Snapshot {
    /// [`crate::SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// RFC 3339 UTC time the collection started.
    pub generated_at: String,
    /// The rampart version that wrote it.
    pub tool_version: String,
    /// `aws`, `aws-cn` or `aws-us-gov`.
    pub partition: String,
    /// The account whose credentials ran the collection (`sts:GetCallerIdentity`).
    pub caller_account_id: String,
    /// How the collection went.
    pub collection: CollectionInfo,
    /// `None` when the caller is not in an organization, or is a member that cannot read it.
    pub organization: Option<Organization>,
    /// One entry per account examined (the caller's own for a standalone account).
    pub accounts: Vec<AccountSnapshot>,
    /// Failures not tied to one account (e.g. `organizations:ListAccounts`).
    pub errors: Vec<CollectionError>,
    /// IAM Identity Center, read from the management account (`None`: not collected, e.g. an
    /// older snapshot or a member account's credentials).
    pub identity_center: Option<IdentityCenter>,
}

/// Facts about the collection run itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct CollectionInfo {
    /// Regions requested with `--regions` (empty = every enabled region).
    pub requested_regions: Vec<String>,
    /// Role assumed in member accounts.
    pub role_name: String,
    /// Total AWS API calls made, including retries.
    pub api_calls: u64,
    /// Calls per `service:Operation`.
    pub calls_by_api: BTreeMap<String, u64>,
    /// Retries caused by throttling.
    pub throttle_retries: u64,
    /// Wall time of the collection in milliseconds.
    pub duration_ms: u64,
}

/// A failed read. Controls depending on `api` in this scope report ERROR rather than guess.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct CollectionError {
    /// Account the call was made in (empty for organization-level calls).
    pub account_id: String,
    /// Region of the call, or `None` for global services.
    pub region: Option<String>,
    /// `service:Operation`, e.g. `iam:GetAccountPasswordPolicy`; `*` when the whole account could
    /// not be reached (e.g. `sts:AssumeRole` failed), which every control then treats as an error.
    pub api: String,
    /// AWS error code (`AccessDenied`, `Throttling`, ...) or a transport class (`Timeout`, `Dispatch`).
    pub code: String,
    /// Human-readable message; never contains credentials.
    pub message: String,
    /// The resource the call was about, when it was about one (a bucket name, a key id).
    pub resource: Option<String>,
}

// ---------------------------------------------------------------- organization

/// AWS Organizations, read from the management account (or a delegated administrator).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Organization {
    /// `o-…`
    pub id: String,
    pub arn: String,
    pub management_account_id: String,
    pub management_account_email: String,
    /// `ALL` or `CONSOLIDATED_BILLING`.
    pub feature_set: String,
    pub roots: Vec<OrgRoot>,
    /// Every OU, with its parent (a root id or another OU id).
    pub organizational_units: Vec<OrganizationalUnit>,
    pub accounts: Vec<OrgAccount>,
    /// SCPs and RCPs with their content and targets (`ListPolicies`, `DescribePolicy`, `ListTargetsForPolicy`).
    pub policies: Vec<OrgPolicy>,
    /// `ListDelegatedAdministrators` × `ListDelegatedServicesForAccount`.
    pub delegated_administrators: Vec<DelegatedAdministrator>,
    /// `ListAWSServiceAccessForOrganization`.
    pub enabled_service_principals: Vec<String>,
    /// IAM `ListOrganizationsFeatures`: the centralized root access features on for member
    /// accounts (`RootCredentialsManagement`, `RootSessions`); empty when IAM's trusted access
    /// is off; `None` when not read (older snapshots, or the call failed: see the errors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iam_features: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct OrgRoot {
    /// `r-…`
    pub id: String,
    pub arn: String,
    pub name: String,
    /// Policy types enabled on the root, e.g. `SERVICE_CONTROL_POLICY`, `RESOURCE_CONTROL_POLICY`.
    pub enabled_policy_types: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct OrganizationalUnit {
    /// `ou-…`
    pub id: String,
    pub arn: String,
    pub name: String,
    /// A root id or an OU id.
    pub parent_id: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct OrgAccount {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub email: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`.
    pub status: String,
    /// The root or OU that holds the account.
    pub parent_id: String,
    pub joined_timestamp: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct OrgPolicy {
    /// `p-…`
    pub id: String,
    pub arn: String,
    pub name: String,
    pub description: String,
    /// `SERVICE_CONTROL_POLICY` or `RESOURCE_CONTROL_POLICY`.
    pub policy_type: String,
    pub aws_managed: bool,
    /// The policy document as JSON text.
    pub content: String,
    /// Root, OU and account ids the policy is attached to.
    pub targets: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct DelegatedAdministrator {
    pub account_id: String,
    /// e.g. `guardduty.amazonaws.com`.
    pub service_principal: String,
}

impl Organization {
    /// Ids from the root down to `target` (a root, OU or account id), root first, target last.
    /// Empty when the target is unknown.
    pub fn path_to(&self, target: &str) -> Vec<String> {
        let parent_of = |id: &str| -> Option<String> {
            if let Some(a) = self.accounts.iter().find(|a| a.id == id) {
                return Some(a.parent_id.clone());
            }
            self.organizational_units
                .iter()
                .find(|o| o.id == id)
                .map(|o| o.parent_id.clone())
        };
        let mut path = vec![target.to_string()];
        let mut cur = target.to_string();
        // Organizations allow at most 5 OU levels; the bound also guards against cycles in bad input.
        for _ in 0..16 {
            if self.roots.iter().any(|r| r.id == cur) {
                path.reverse();
                return path;
            }
            match parent_of(&cur) {
                Some(p) if !p.is_empty() => {
                    path.push(p.clone());
                    cur = p;
                }
                _ => return Vec::new(),
            }
        }
        Vec::new()
    }

    /// Policies of `policy_type` attached directly to `target`.
    pub fn policies_on<'a>(
        &'a self,
        target: &'a str,
        policy_type: &'a str,
    ) -> impl Iterator<Item = &'a OrgPolicy> + 'a {
        self.policies
            .iter()
            .filter(move |p| p.policy_type == policy_type && p.targets.iter().any(|t| t == target))
    }

    /// The delegated administrator account for `service_principal`, if any.
    pub fn delegated_admin_for(&self, service_principal: &str) -> Option<&str> {
        self.delegated_administrators
            .iter()
            .find(|d| d.service_principal == service_principal)
            .map(|d| d.account_id.as_str())
    }
}

// ---------------------------------------------------------------- account

/// Everything read inside one account (through the assumed role, or the caller's own credentials).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct AccountSnapshot {
    pub account_id: String,
    /// From Organizations, or the account alias for a standalone account.
    pub name: String,
    /// Failures that concern the whole account or a global service (IAM, S3 listing).
    pub errors: Vec<CollectionError>,
    pub iam: Iam,
    pub s3: S3,
    /// Trails visible in the account, each once (home-region view; shadow copies dropped).
    /// Organization trails created in the management account are listed there only.
    pub trails: Vec<Trail>,
    /// One entry per region examined, in region order.
    pub regions: Vec<RegionSnapshot>,
}

// ---------------------------------------------------------------- IAM

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Iam {
    /// Rows of `GetCredentialReport`, the root row (`<root_account>`) included.
    pub credential_report: Vec<CredentialReportRow>,
    /// `GetAccountPasswordPolicy`; `None` when the account has no password policy.
    pub password_policy: Option<PasswordPolicy>,
    /// `GetAccountSummary` (e.g. `AccountMFAEnabled`, `AccountAccessKeysPresent`).
    pub account_summary: BTreeMap<String, i64>,
    pub users: Vec<IamUser>,
    pub roles: Vec<IamRole>,
    /// Managed policies that are attached somewhere (`ListPolicies --only-attached`), AWS and customer.
    pub policies: Vec<ManagedPolicy>,
    /// `ListVirtualMFADevices`: lets us tell a virtual root MFA from a hardware one.
    pub virtual_mfa_devices: Vec<VirtualMfaDevice>,
    /// `ListServerCertificates`.
    pub server_certificates: Vec<ServerCertificate>,
    /// `ListSAMLProviders` ARNs.
    pub saml_providers: Vec<String>,
    /// `GetAccountAuthorizationDetails`: groups with their policies.
    pub groups: Vec<IamGroup>,
    /// True when `GetAccountAuthorizationDetails` was read: inline policy documents, groups,
    /// boundaries and policy versions are then complete (older snapshots lack them).
    pub authorization_details: bool,
}

/// One row of the IAM credential report. Dates are RFC 3339 or `None` for `N/A`/`no_information`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct CredentialReportRow {
    /// `<root_account>` for the root user.
    pub user: String,
    pub arn: String,
    pub user_creation_time: Option<String>,
    pub password_enabled: bool,
    pub password_last_used: Option<String>,
    pub password_last_changed: Option<String>,
    pub mfa_active: bool,
    pub access_key_1_active: bool,
    pub access_key_1_last_rotated: Option<String>,
    pub access_key_1_last_used_date: Option<String>,
    pub access_key_2_active: bool,
    pub access_key_2_last_rotated: Option<String>,
    pub access_key_2_last_used_date: Option<String>,
}

impl CredentialReportRow {
    pub fn is_root(&self) -> bool {
        self.user == "<root_account>"
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct PasswordPolicy {
    pub minimum_password_length: Option<i32>,
    pub require_symbols: bool,
    pub require_numbers: bool,
    pub require_uppercase_characters: bool,
    pub require_lowercase_characters: bool,
    pub allow_users_to_change_password: bool,
    pub max_password_age: Option<i32>,
    pub password_reuse_prevention: Option<i32>,
    pub hard_expiry: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct IamUser {
    pub name: String,
    pub arn: String,
    pub create_date: Option<String>,
    /// `GetLoginProfile` succeeded: the user has a console password.
    pub has_console_password: bool,
    /// `ListMFADevices` serial numbers.
    pub mfa_devices: Vec<String>,
    pub access_keys: Vec<AccessKey>,
    /// `ListAttachedUserPolicies` ARNs.
    pub attached_policies: Vec<String>,
    /// `ListUserPolicies` names.
    pub inline_policies: Vec<String>,
    /// `ListGroupsForUser` names.
    pub groups: Vec<String>,
    /// The inline policies' documents (`GetAccountAuthorizationDetails`).
    pub inline_policy_documents: Vec<InlinePolicy>,
    /// The permissions boundary's policy ARN, if any.
    pub permissions_boundary: Option<String>,
}

/// An inline (embedded) policy of a user, group or role.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct InlinePolicy {
    pub name: String,
    /// The document as JSON text (URL-decoded).
    pub document: String,
}

/// An IAM group (`GetAccountAuthorizationDetails`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct IamGroup {
    pub name: String,
    pub arn: String,
    /// Attached managed policy ARNs.
    pub attached_policies: Vec<String>,
    pub inline_policy_documents: Vec<InlinePolicy>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct AccessKey {
    pub id: String,
    /// `Active` or `Inactive`.
    pub status: String,
    pub create_date: Option<String>,
    pub last_used_date: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct IamRole {
    pub name: String,
    pub arn: String,
    pub path: String,
    /// The trust policy (`AssumeRolePolicyDocument`) as JSON text.
    pub trust_policy: String,
    /// `ListAttachedRolePolicies` ARNs.
    pub attached_policies: Vec<String>,
    /// The inline policies (`GetAccountAuthorizationDetails`).
    pub inline_policy_documents: Vec<InlinePolicy>,
    /// The permissions boundary's policy ARN, if any.
    pub permissions_boundary: Option<String>,
    /// ARNs of the instance profiles that hold the role (EC2 can run code as it).
    pub instance_profiles: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ManagedPolicy {
    pub arn: String,
    pub name: String,
    /// True for `arn:aws:iam::aws:policy/…`.
    pub aws_managed: bool,
    pub attachment_count: i32,
    /// The default version's document as JSON text (`GetPolicyVersion`).
    pub document: String,
    /// Every version (`GetAccountAuthorizationDetails`): `SetDefaultPolicyVersion` can make
    /// an older one current.
    pub versions: Vec<PolicyVersion>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct PolicyVersion {
    /// `v1`, `v2`, …
    pub version_id: String,
    pub is_default: bool,
    pub document: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct VirtualMfaDevice {
    pub serial_number: String,
    /// ARN of the user it is assigned to (`arn:aws:iam::<acct>:root` for root).
    pub user_arn: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ServerCertificate {
    pub name: String,
    pub arn: String,
    pub expiration: Option<String>,
}

// ---------------------------------------------------------------- S3

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct S3 {
    /// Account-level Block Public Access (`s3control:GetPublicAccessBlock`); `None` = not configured.
    pub account_public_access_block: Option<PublicAccessBlock>,
    pub buckets: Vec<Bucket>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    pub fn all_on(&self) -> bool {
        self.block_public_acls
            && self.ignore_public_acls
            && self.block_public_policy
            && self.restrict_public_buckets
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Bucket {
    pub name: String,
    pub region: String,
    pub creation_date: Option<String>,
    /// Bucket policy JSON text; `None` = no policy.
    pub policy: Option<String>,
    /// Bucket-level Block Public Access; `None` = not configured.
    pub public_access_block: Option<PublicAccessBlock>,
    /// Server access logging target bucket; `None` = logging off.
    pub logging_target_bucket: Option<String>,
    /// Default encryption algorithms (`AES256`, `aws:kms`, `aws:kms:dsse`); empty = none reported.
    pub encryption: Vec<String>,
    /// `Enabled`, `Suspended`, or `None` (never enabled).
    pub versioning: Option<String>,
    /// `Enabled` / `Disabled` / `None`.
    pub mfa_delete: Option<String>,
    pub object_lock: Option<ObjectLock>,
    pub lifecycle_rules: Vec<LifecycleRule>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ObjectLock {
    pub enabled: bool,
    /// `GOVERNANCE` or `COMPLIANCE` default retention mode.
    pub mode: Option<String>,
    pub days: Option<i32>,
    pub years: Option<i32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct LifecycleRule {
    pub id: String,
    /// `Enabled` or `Disabled`.
    pub status: String,
    pub expiration_days: Option<i32>,
    pub noncurrent_expiration_days: Option<i32>,
}

// ---------------------------------------------------------------- CloudTrail

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Trail {
    pub name: String,
    pub arn: String,
    pub home_region: String,
    /// Account that owns the trail (the management account for an organization trail).
    pub owner_account_id: String,
    pub is_multi_region: bool,
    pub is_organization_trail: bool,
    pub include_global_service_events: bool,
    pub log_file_validation_enabled: bool,
    pub s3_bucket_name: Option<String>,
    pub s3_key_prefix: Option<String>,
    pub kms_key_id: Option<String>,
    pub cloudwatch_logs_log_group_arn: Option<String>,
    pub cloudwatch_logs_role_arn: Option<String>,
    pub sns_topic_arn: Option<String>,
    /// `GetTrailStatus.IsLogging`; `None` when the status could not be read.
    pub is_logging: Option<bool>,
    pub event_selectors: Vec<EventSelector>,
    pub advanced_event_selectors: Vec<AdvancedEventSelector>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct EventSelector {
    /// `All`, `ReadOnly` or `WriteOnly`.
    pub read_write_type: String,
    pub include_management_events: bool,
    pub data_resources: Vec<DataResource>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct DataResource {
    /// e.g. `AWS::S3::Object`.
    pub resource_type: String,
    /// e.g. `arn:aws:s3` (all buckets) or `arn:aws:s3:::bucket/`.
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct AdvancedEventSelector {
    pub name: Option<String>,
    pub field_selectors: Vec<AdvancedFieldSelector>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct AdvancedFieldSelector {
    /// e.g. `eventCategory`, `resources.type`, `readOnly`.
    pub field: String,
    pub equals: Vec<String>,
    pub starts_with: Vec<String>,
    pub ends_with: Vec<String>,
    pub not_equals: Vec<String>,
    pub not_starts_with: Vec<String>,
    pub not_ends_with: Vec<String>,
}

// ---------------------------------------------------------------- regional

/// What one region of one account holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct RegionSnapshot {
    pub region: String,
    pub errors: Vec<CollectionError>,
    /// `ec2:GetEbsEncryptionByDefault`.
    pub ebs_encryption_by_default: bool,
    /// `None` = no detector in this region.
    pub guardduty: Option<GuardDuty>,
    /// `None` = Security Hub not enabled (`DescribeHub` → InvalidAccessException).
    pub securityhub: Option<SecurityHub>,
    pub config: ConfigService,
    /// Analyzers in this region; when the API could not be read, `errors` names it.
    pub access_analyzers: Vec<AccessAnalyzer>,
    pub kms_keys: Vec<KmsKey>,
    pub vpcs: Vec<Vpc>,
    pub flow_logs: Vec<FlowLog>,
    pub security_groups: Vec<SecurityGroup>,
    pub network_acls: Vec<NetworkAcl>,
    pub instances: Vec<Ec2Instance>,
    pub rds_instances: Vec<RdsInstance>,
    pub efs_file_systems: Vec<EfsFileSystem>,
    pub log_groups: Vec<LogGroup>,
    pub metric_filters: Vec<MetricFilter>,
    pub alarms: Vec<MetricAlarm>,
    pub sns_topics: Vec<SnsTopic>,
    /// EventBridge rules on the default bus whose name starts with `rampart-` (central
    /// alerting); read only in the Audit account.
    pub event_rules: Vec<EventRule>,
}

/// One EventBridge rule and the ARNs it sends to.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct EventRule {
    pub name: String,
    pub arn: String,
    /// The event pattern JSON text.
    pub event_pattern: String,
    /// `ENABLED` or `DISABLED`.
    pub state: String,
    /// Target ARNs (`ListTargetsByRule`).
    pub targets: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct GuardDuty {
    pub detector_id: String,
    /// `ENABLED` or `DISABLED`.
    pub status: String,
    /// `GetAdministratorAccount`: the administrator this member reports to.
    pub administrator_account_id: Option<String>,
    /// `ListOrganizationAdminAccounts` as seen from the management account.
    pub organization_admin_accounts: Vec<String>,
    /// `DescribeOrganizationConfiguration.AutoEnableOrganizationMembers` (`NEW`, `ALL`, `NONE`),
    /// when readable (only in the administrator account).
    pub auto_enable_members: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SecurityHub {
    pub hub_arn: String,
    pub subscribed_at: Option<String>,
    pub administrator_account_id: Option<String>,
    /// Enabled standards' ARNs when readable; `None` when the API is unavailable.
    pub enabled_standards: Option<Vec<String>>,
    /// `DescribeOrganizationConfiguration.AutoEnable`, when readable.
    pub auto_enable: Option<bool>,
    /// The cross-region finding aggregator (`ListFindingAggregators` + `GetFindingAggregator`),
    /// read in the administrator account; `None` when not read.
    pub finding_aggregator: Option<FindingAggregator>,
    /// Member account ids (`ListMembers`, only associated ones), read in the administrator
    /// account; `None` when not read.
    pub members: Option<Vec<String>>,
}

/// Security Hub's cross-region finding aggregator.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct FindingAggregator {
    pub arn: String,
    /// `ALL_REGIONS`, `ALL_REGIONS_EXCEPT_SPECIFIED`, `SPECIFIED_REGIONS` or `NO_REGIONS`.
    pub region_linking_mode: String,
    pub regions: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ConfigService {
    pub recorders: Vec<ConfigRecorder>,
    pub delivery_channels: Vec<DeliveryChannel>,
    pub aggregators: Vec<ConfigAggregator>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ConfigRecorder {
    pub name: String,
    pub role_arn: String,
    pub all_supported: bool,
    pub include_global_resource_types: bool,
    /// `DescribeConfigurationRecorderStatus.recording`.
    pub recording: bool,
    /// `SUCCESS`, `FAILURE`, `PENDING`, or `None`.
    pub last_status: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct DeliveryChannel {
    pub name: String,
    pub s3_bucket_name: Option<String>,
    pub sns_topic_arn: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ConfigAggregator {
    pub name: String,
    pub arn: String,
    /// True for an organization-wide aggregation source.
    pub organization: bool,
    pub all_regions: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct AccessAnalyzer {
    pub name: String,
    pub arn: String,
    /// `ACCOUNT`, `ORGANIZATION`, or the unused-access variants.
    pub analyzer_type: String,
    /// `ACTIVE`, `CREATING`, `DISABLED`, `FAILED`.
    pub status: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct KmsKey {
    pub key_id: String,
    pub arn: String,
    /// `CUSTOMER` or `AWS`.
    pub key_manager: String,
    /// `Enabled`, `Disabled`, `PendingDeletion`, …
    pub key_state: String,
    /// e.g. `SYMMETRIC_DEFAULT`.
    pub key_spec: String,
    /// `GetKeyRotationStatus`; `None` when not applicable or not readable.
    pub rotation_enabled: Option<bool>,
    /// Default key policy JSON text.
    pub policy: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Vpc {
    pub vpc_id: String,
    pub is_default: bool,
    pub cidr_block: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct FlowLog {
    pub flow_log_id: String,
    /// The VPC, subnet or ENI id it records.
    pub resource_id: String,
    /// `ACTIVE` etc.
    pub status: String,
    /// `ACCEPT`, `REJECT` or `ALL`.
    pub traffic_type: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SecurityGroup {
    pub group_id: String,
    pub group_name: String,
    pub vpc_id: Option<String>,
    pub ingress: Vec<SgRule>,
    pub egress: Vec<SgRule>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SgRule {
    /// `tcp`, `udp`, `icmp`, or `-1` for all.
    pub ip_protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub ipv4_ranges: Vec<String>,
    pub ipv6_ranges: Vec<String>,
    /// Referenced security group ids.
    pub group_refs: Vec<String>,
    pub prefix_lists: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct NetworkAcl {
    pub network_acl_id: String,
    pub vpc_id: String,
    pub is_default: bool,
    pub entries: Vec<NaclEntry>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct NaclEntry {
    pub rule_number: i32,
    /// Protocol number as a string; `-1` = all.
    pub protocol: String,
    /// `allow` or `deny`.
    pub rule_action: String,
    pub egress: bool,
    pub cidr_block: Option<String>,
    pub ipv6_cidr_block: Option<String>,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Ec2Instance {
    pub instance_id: String,
    /// `running`, `stopped`, …
    pub state: String,
    /// `required` (IMDSv2 only) or `optional`.
    pub http_tokens: Option<String>,
    /// `enabled` / `disabled`.
    pub http_endpoint: Option<String>,
    pub iam_instance_profile_arn: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct RdsInstance {
    pub db_instance_identifier: String,
    pub arn: String,
    pub engine: String,
    pub storage_encrypted: bool,
    pub publicly_accessible: bool,
    pub auto_minor_version_upgrade: bool,
    pub multi_az: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct EfsFileSystem {
    pub file_system_id: String,
    pub arn: String,
    pub encrypted: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct LogGroup {
    pub name: String,
    pub arn: String,
    pub retention_in_days: Option<i32>,
    pub kms_key_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct MetricFilter {
    pub name: String,
    pub log_group_name: String,
    /// The CloudWatch Logs filter pattern exactly as deployed.
    pub pattern: String,
    pub metrics: Vec<MetricRef>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct MetricRef {
    pub name: String,
    pub namespace: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct MetricAlarm {
    pub name: String,
    pub arn: String,
    pub metric_name: Option<String>,
    pub namespace: Option<String>,
    pub actions_enabled: bool,
    pub alarm_actions: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SnsTopic {
    pub arn: String,
    pub subscriptions: Vec<SnsSubscription>,
    /// The topic's access policy (`GetTopicAttributes` `Policy`), when read.
    pub policy: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SnsSubscription {
    pub arn: String,
    /// `email`, `https`, `lambda`, `sqs`, …
    pub protocol: String,
    /// Confirmed when the subscription ARN is a real ARN (not `PendingConfirmation`).
    pub confirmed: bool,
    /// The email address, URL or ARN it delivers to.
    pub endpoint: Option<String>,
}

// ---------------------------------------------------------------- identity center

/// IAM Identity Center (`sso-admin`) and its identity store, read in the management account.
/// Failed reads are in [`IdentityCenter::errors`]; what they would have filled is then unknown,
/// never taken as absent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct IdentityCenter {
    /// Region the instance was looked up in (`ListInstances` is regional).
    pub region: String,
    /// `None`: no instance (observed), unless `sso:ListInstances` is in `errors`.
    pub instance: Option<SsoInstance>,
    pub permission_sets: Vec<PermissionSet>,
    /// Groups of the instance's identity store (`identitystore:ListGroups`).
    pub groups: Vec<IdentityGroup>,
    /// Every account assignment of every permission set (`ListAccountsForProvisionedPermissionSet`
    /// × `ListAccountAssignments`).
    pub assignments: Vec<AccountAssignment>,
    pub errors: Vec<CollectionError>,
}

/// `sso:ListInstances`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SsoInstance {
    /// `arn:aws:sso:::instance/ssoins-…`
    pub instance_arn: String,
    /// `d-…`
    pub identity_store_id: String,
    pub owner_account_id: String,
    /// `ACTIVE`, `CREATE_IN_PROGRESS`, `DELETE_IN_PROGRESS`.
    pub status: String,
}

/// One permission set: `DescribePermissionSet`, its policies and boundary, and its tags.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct PermissionSet {
    pub arn: String,
    pub name: String,
    pub description: Option<String>,
    /// ISO 8601 duration (`PT1H`).
    pub session_duration: Option<String>,
    /// AWS managed policy ARNs (`ListManagedPoliciesInPermissionSet`).
    pub managed_policies: Vec<String>,
    /// `ListCustomerManagedPolicyReferencesInPermissionSet`.
    pub customer_managed_policies: Vec<PolicyReference>,
    /// `GetInlinePolicyForPermissionSet` (`None`: none, unless the read is in `errors`).
    pub inline_policy: Option<String>,
    /// `GetPermissionsBoundaryForPermissionSet` (`None`: none, unless the read is in `errors`).
    pub permissions_boundary: Option<PermissionsBoundary>,
    /// `ListTagsForResource`; `rampart:managed = true` marks the sets rampart created.
    pub tags: BTreeMap<String, String>,
}

/// A customer managed policy by name and path, as permission sets refer to them (the policy
/// itself lives in each account the set is provisioned to).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(default)]
pub struct PolicyReference {
    pub name: String,
    /// `/` unless given.
    pub path: String,
}

/// A permission set's permissions boundary: an AWS managed policy, or a customer managed one.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct PermissionsBoundary {
    pub managed_policy_arn: Option<String>,
    pub customer_managed: Option<PolicyReference>,
}

/// `identitystore:ListGroups`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct IdentityGroup {
    pub group_id: String,
    pub display_name: String,
    pub description: Option<String>,
}

/// One account assignment: a principal gets a permission set in an account.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(default)]
pub struct AccountAssignment {
    pub account_id: String,
    pub permission_set_arn: String,
    /// `GROUP` or `USER`.
    pub principal_type: String,
    pub principal_id: String,
}
