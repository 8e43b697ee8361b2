//! Built-in snapshots: a compliant organization that unit tests bend one setting at a time, the
//! demo organization (with deliberate gaps) and the synthetic 1,000-account benchmark input.
//!
//! Building them in code keeps them in step with the snapshot model: a renamed field is a
//! compile error here, not a silently ignored key in a JSON fixture.

use rampart_snapshot::*;

pub const MANAGEMENT: &str = "111111111111";
pub const LOG_ARCHIVE: &str = "222222222222";
pub const AUDIT: &str = "333333333333";
pub const ORG_TRAIL_LOG_GROUP: &str = "aws-cloudtrail-logs-org";
pub const HOME_REGION: &str = "us-east-1";

/// The CIS v3.0 monitoring patterns as a careful operator deploys them (section 4.1–4.15).
pub const CIS_PATTERNS: [(&str, &str); 15] = [
    (
        "4.1",
        r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }"#,
    ),
    (
        "4.2",
        r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }"#,
    ),
    (
        "4.3",
        r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
    ),
    (
        "4.4",
        "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
    ),
    (
        "4.5",
        "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
    ),
    (
        "4.6",
        r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#,
    ),
    (
        "4.7",
        "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }",
    ),
    (
        "4.8",
        "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }",
    ),
    (
        "4.9",
        "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }",
    ),
    (
        "4.10",
        "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
    ),
    (
        "4.11",
        "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }",
    ),
    (
        "4.12",
        "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
    ),
    (
        "4.13",
        "{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }",
    ),
    (
        "4.14",
        "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }",
    ),
    (
        "4.15",
        r#"{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }"#,
    ),
];

const FULL_AWS_ACCESS: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// The baseline guardrails as one SCP: protects the security services, the trail, the
/// organization membership and account-level S3 Block Public Access; the platform role is exempt.
pub const GUARDRAIL_SCP: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "ProtectTrail", "Effect": "Deny",
     "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors"],
     "Resource": "*",
     "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/RampartPlatform"}}},
    {"Sid": "StayInOrg", "Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"},
    {"Sid": "ProtectSecurityServices", "Effect": "Deny",
     "Action": ["guardduty:DeleteDetector", "guardduty:DisassociateFromAdministratorAccount", "guardduty:UpdateDetector",
                "securityhub:DisableSecurityHub", "securityhub:DisassociateFromAdministratorAccount",
                "config:StopConfigurationRecorder", "config:DeleteConfigurationRecorder", "config:DeleteDeliveryChannel",
                "access-analyzer:DeleteAnalyzer"],
     "Resource": "*",
     "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/RampartPlatform"}}},
    {"Sid": "ProtectAccountBpa", "Effect": "Deny", "Action": "s3:PutAccountPublicAccessBlock", "Resource": "*",
     "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/RampartPlatform"}}}
  ]
}"#;

/// Region deny: everything regional outside the allowed regions, with global services exempt.
pub fn region_deny_scp(allowed: &[&str]) -> String {
    let regions = allowed
        .iter()
        .map(|r| format!("\"{r}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Sid": "DenyOtherRegions", "Effect": "Deny",
  "NotAction": ["iam:*", "organizations:*", "sts:*", "account:*", "budgets:*", "ce:*", "cloudfront:*", "health:*",
                "route53:*", "route53domains:*", "support:*", "waf:*", "globalaccelerator:*", "kms:*", "s3:GetAccountPublicAccessBlock",
                "s3:PutAccountPublicAccessBlock", "s3:ListAllMyBuckets", "sso:*", "trustedadvisor:*"],
  "Resource": "*",
  "Condition": {{"StringNotEquals": {{"aws:RequestedRegion": [{regions}]}},
                "ArnNotLike": {{"aws:PrincipalArn": "arn:aws:iam::*:role/RampartPlatform"}}}}}}]}}"#
    )
}

pub fn tls_only_policy(bucket: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"TlsOnly","Effect":"Deny","Principal":"*","Action":"s3:*",
"Resource":["arn:aws:s3:::{bucket}","arn:aws:s3:::{bucket}/*"],"Condition":{{"Bool":{{"aws:SecureTransport":"false"}}}}}}]}}"#
    )
}

fn org_trail_bucket() -> String {
    format!("rampart-org-cloudtrail-{LOG_ARCHIVE}")
}

/// A bucket configured as CIS and the baseline ask.
pub fn good_bucket(name: &str, region: &str) -> Bucket {
    Bucket {
        name: name.into(),
        region: region.into(),
        creation_date: Some("2024-01-01T00:00:00Z".into()),
        policy: Some(tls_only_policy(name)),
        public_access_block: Some(all_on()),
        logging_target_bucket: Some("rampart-s3-access-logs".into()),
        encryption: vec!["aws:kms".into()],
        versioning: Some("Enabled".into()),
        mfa_delete: Some("Enabled".into()),
        object_lock: None,
        lifecycle_rules: vec![],
    }
}

fn all_on() -> PublicAccessBlock {
    PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    }
}

fn good_region(account: &str, region: &str) -> RegionSnapshot {
    let vpc = format!("vpc-{}{}", &account[8..], region.len());
    let admin = (account != AUDIT).then(|| AUDIT.to_string());
    RegionSnapshot {
        region: region.into(),
        errors: vec![],
        ebs_encryption_by_default: true,
        guardduty: Some(GuardDuty {
            detector_id: format!("det{account}{region}"),
            status: "ENABLED".into(),
            administrator_account_id: admin.clone(),
            organization_admin_accounts: if account == MANAGEMENT {
                vec![AUDIT.into()]
            } else {
                vec![]
            },
            auto_enable_members: (account == AUDIT).then(|| "ALL".into()),
        }),
        securityhub: Some(SecurityHub {
            hub_arn: format!("arn:aws:securityhub:{region}:{account}:hub/default"),
            subscribed_at: Some("2024-01-01T00:00:00Z".into()),
            administrator_account_id: admin,
            enabled_standards: Some(vec![format!(
                "arn:aws:securityhub:{region}::standards/cis-aws-foundations-benchmark/v/3.0.0"
            )]),
            auto_enable: (account == AUDIT).then_some(true),
            ..Default::default()
        }),
        config: ConfigService {
            recorders: vec![ConfigRecorder {
                name: "default".into(),
                role_arn: format!(
                    "arn:aws:iam::{account}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
                ),
                all_supported: true,
                include_global_resource_types: region == HOME_REGION,
                recording: true,
                last_status: Some("SUCCESS".into()),
            }],
            delivery_channels: vec![DeliveryChannel {
                name: "default".into(),
                s3_bucket_name: Some(format!("rampart-config-{LOG_ARCHIVE}")),
                sns_topic_arn: None,
            }],
            aggregators: if account == AUDIT && region == HOME_REGION {
                vec![ConfigAggregator {
                    name: "org".into(),
                    arn: format!(
                        "arn:aws:config:{region}:{account}:config-aggregator/config-aggregator-org"
                    ),
                    organization: true,
                    all_regions: true,
                }]
            } else {
                vec![]
            },
        },
        access_analyzers: if account == AUDIT {
            vec![AccessAnalyzer {
                name: "org-analyzer".into(),
                arn: format!("arn:aws:access-analyzer:{region}:{account}:analyzer/org-analyzer"),
                analyzer_type: "ORGANIZATION".into(),
                status: "ACTIVE".into(),
            }]
        } else {
            vec![]
        },
        kms_keys: vec![KmsKey {
            key_id: format!("k-{account}-{region}"),
            arn: format!("arn:aws:kms:{region}:{account}:key/k-{account}-{region}"),
            key_manager: "CUSTOMER".into(),
            key_state: "Enabled".into(),
            key_spec: "SYMMETRIC_DEFAULT".into(),
            rotation_enabled: Some(true),
            policy: None,
        }],
        vpcs: vec![Vpc {
            vpc_id: vpc.clone(),
            is_default: false,
            cidr_block: "10.0.0.0/16".into(),
        }],
        flow_logs: vec![FlowLog {
            flow_log_id: format!("fl-{vpc}"),
            resource_id: vpc.clone(),
            status: "ACTIVE".into(),
            traffic_type: "ALL".into(),
        }],
        security_groups: vec![
            SecurityGroup {
                group_id: format!("sg-default-{}", &vpc[4..]),
                group_name: "default".into(),
                vpc_id: Some(vpc.clone()),
                ingress: vec![],
                egress: vec![],
            },
            SecurityGroup {
                group_id: format!("sg-web-{}", &vpc[4..]),
                group_name: "web".into(),
                vpc_id: Some(vpc.clone()),
                ingress: vec![SgRule {
                    ip_protocol: "tcp".into(),
                    from_port: Some(443),
                    to_port: Some(443),
                    ipv4_ranges: vec!["0.0.0.0/0".into()],
                    ..SgRule::default()
                }],
                egress: vec![],
            },
        ],
        network_acls: vec![NetworkAcl {
            network_acl_id: format!("acl-{}", &vpc[4..]),
            vpc_id: vpc.clone(),
            is_default: true,
            entries: vec![
                NaclEntry {
                    rule_number: 100,
                    protocol: "-1".into(),
                    rule_action: "allow".into(),
                    egress: false,
                    cidr_block: Some("10.0.0.0/8".into()),
                    ..NaclEntry::default()
                },
                NaclEntry {
                    rule_number: 110,
                    protocol: "6".into(),
                    rule_action: "allow".into(),
                    egress: false,
                    cidr_block: Some("0.0.0.0/0".into()),
                    from_port: Some(443),
                    to_port: Some(443),
                    ..NaclEntry::default()
                },
            ],
        }],
        instances: vec![Ec2Instance {
            instance_id: format!("i-{account}{}", region.len()),
            state: "running".into(),
            http_tokens: Some("required".into()),
            http_endpoint: Some("enabled".into()),
            iam_instance_profile_arn: Some(format!("arn:aws:iam::{account}:instance-profile/app")),
        }],
        rds_instances: vec![RdsInstance {
            db_instance_identifier: "app-db".into(),
            arn: format!("arn:aws:rds:{region}:{account}:db:app-db"),
            engine: "postgres".into(),
            storage_encrypted: true,
            publicly_accessible: false,
            auto_minor_version_upgrade: true,
            multi_az: true,
        }],
        efs_file_systems: vec![EfsFileSystem {
            file_system_id: "fs-1".into(),
            arn: format!("arn:aws:elasticfilesystem:{region}:{account}:file-system/fs-1"),
            encrypted: true,
        }],
        log_groups: vec![],
        metric_filters: vec![],
        alarms: vec![],
        sns_topics: vec![],
        event_rules: vec![],
    }
}

/// CloudTrail → CloudWatch Logs monitoring, as deployed on the org trail's log group.
pub fn add_cis_monitoring(region: &mut RegionSnapshot, account: &str) {
    let topic = format!("arn:aws:sns:{}:{account}:security-alerts", region.region);
    region.log_groups.push(LogGroup {
        name: ORG_TRAIL_LOG_GROUP.into(),
        arn: format!(
            "arn:aws:logs:{}:{account}:log-group:{ORG_TRAIL_LOG_GROUP}:*",
            region.region
        ),
        retention_in_days: Some(731),
        kms_key_id: None,
    });
    for (num, pattern) in CIS_PATTERNS {
        let metric = format!("cis-{num}");
        region.metric_filters.push(MetricFilter {
            name: format!("cis-{num}-filter"),
            log_group_name: ORG_TRAIL_LOG_GROUP.into(),
            pattern: pattern.into(),
            metrics: vec![MetricRef {
                name: metric.clone(),
                namespace: "CISBenchmark".into(),
            }],
        });
        region.alarms.push(MetricAlarm {
            name: format!("cis-{num}-alarm"),
            arn: format!(
                "arn:aws:cloudwatch:{}:{account}:alarm:cis-{num}-alarm",
                region.region
            ),
            metric_name: Some(metric),
            namespace: Some("CISBenchmark".into()),
            actions_enabled: true,
            alarm_actions: vec![topic.clone()],
        });
    }
    region.sns_topics.push(SnsTopic {
        arn: topic.clone(),
        subscriptions: vec![SnsSubscription {
            arn: format!("{topic}:0f3c"),
            protocol: "email".into(),
            confirmed: true,
            endpoint: None,
        }],
        policy: None,
    });
}

fn good_account(id: &str, name: &str, regions: &[&str]) -> AccountSnapshot {
    let mut acct = AccountSnapshot {
        account_id: id.into(),
        name: name.into(),
        errors: vec![],
        iam: Iam {
            credential_report: vec![CredentialReportRow {
                user: "<root_account>".into(),
                arn: format!("arn:aws:iam::{id}:root"),
                user_creation_time: Some("2023-01-01T00:00:00Z".into()),
                password_enabled: true,
                password_last_used: Some("2023-02-01T00:00:00Z".into()),
                mfa_active: true,
                ..CredentialReportRow::default()
            }],
            password_policy: Some(PasswordPolicy {
                minimum_password_length: Some(14),
                require_symbols: true,
                require_numbers: true,
                require_uppercase_characters: true,
                require_lowercase_characters: true,
                allow_users_to_change_password: true,
                max_password_age: Some(90),
                password_reuse_prevention: Some(24),
                hard_expiry: false,
            }),
            account_summary: [("AccountMFAEnabled".to_string(), 1), ("AccountAccessKeysPresent".to_string(), 0)]
                .into_iter()
                .collect(),
            users: vec![],
            roles: vec![IamRole {
                name: "SupportTeam".into(),
                arn: format!("arn:aws:iam::{id}:role/SupportTeam"),
                path: "/".into(),
                trust_policy: format!(
                    r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{id}:root"}},"Action":"sts:AssumeRole"}}]}}"#
                ),
                attached_policies: vec!["arn:aws:iam::aws:policy/AWSSupportAccess".into()],
                ..IamRole::default()
            }],
            policies: vec![ManagedPolicy {
                arn: "arn:aws:iam::aws:policy/AWSSupportAccess".into(),
                name: "AWSSupportAccess".into(),
                aws_managed: true,
                attachment_count: 1,
                document: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["support:*"],"Resource":"*"}]}"#.into(),
                ..ManagedPolicy::default()
            }],
            virtual_mfa_devices: vec![],
            server_certificates: vec![],
            saml_providers: vec![],
            groups: vec![],
            authorization_details: true,
        },
        s3: S3 {
            account_public_access_block: Some(all_on()),
            buckets: vec![],
        },
        trails: vec![],
        regions: regions.iter().map(|r| good_region(id, r)).collect(),
    };
    if id == LOG_ARCHIVE {
        let mut b = good_bucket(&org_trail_bucket(), HOME_REGION);
        b.object_lock = Some(ObjectLock {
            enabled: true,
            mode: Some("COMPLIANCE".into()),
            days: Some(730),
            years: None,
        });
        b.lifecycle_rules = vec![LifecycleRule {
            id: "retain-2y".into(),
            status: "Enabled".into(),
            expiration_days: Some(2555),
            noncurrent_expiration_days: Some(2555),
        }];
        acct.s3.buckets.push(b);
    }
    if id == MANAGEMENT {
        acct.trails.push(Trail {
            name: "org-trail".into(),
            arn: format!("arn:aws:cloudtrail:{HOME_REGION}:{MANAGEMENT}:trail/org-trail"),
            home_region: HOME_REGION.into(),
            owner_account_id: MANAGEMENT.into(),
            is_multi_region: true,
            is_organization_trail: true,
            include_global_service_events: true,
            log_file_validation_enabled: true,
            s3_bucket_name: Some(org_trail_bucket()),
            s3_key_prefix: None,
            kms_key_id: Some(format!("arn:aws:kms:{HOME_REGION}:{LOG_ARCHIVE}:key/trail")),
            cloudwatch_logs_log_group_arn: Some(format!(
                "arn:aws:logs:{HOME_REGION}:{MANAGEMENT}:log-group:{ORG_TRAIL_LOG_GROUP}:*"
            )),
            cloudwatch_logs_role_arn: Some(format!(
                "arn:aws:iam::{MANAGEMENT}:role/CloudTrailToLogs"
            )),
            sns_topic_arn: None,
            is_logging: Some(true),
            event_selectors: vec![EventSelector {
                read_write_type: "All".into(),
                include_management_events: true,
                data_resources: vec![DataResource {
                    resource_type: "AWS::S3::Object".into(),
                    values: vec!["arn:aws:s3".into()],
                }],
            }],
            advanced_event_selectors: vec![],
        });
        if let Some(home) = acct.regions.iter_mut().find(|r| r.region == HOME_REGION) {
            add_cis_monitoring(home, MANAGEMENT);
        }
    }
    acct
}

/// A fully compliant organization: management, Log Archive, Audit and `workloads` member accounts
/// under the OU layout the seeds describe, in `regions` (the first is the home region).
pub fn compliant_org(workloads: usize, regions: &[&str]) -> Snapshot {
    let mut org = Organization {
        id: "o-rampart0001".into(),
        arn: format!("arn:aws:organizations::{MANAGEMENT}:organization/o-rampart0001"),
        management_account_id: MANAGEMENT.into(),
        management_account_email: "aws-management@example.com".into(),
        feature_set: "ALL".into(),
        roots: vec![OrgRoot {
            id: "r-root".into(),
            arn: format!("arn:aws:organizations::{MANAGEMENT}:root/o-rampart0001/r-root"),
            name: "Root".into(),
            enabled_policy_types: vec![
                "SERVICE_CONTROL_POLICY".into(),
                "RESOURCE_CONTROL_POLICY".into(),
            ],
        }],
        organizational_units: [
            ("ou-security", "Security", "r-root"),
            ("ou-infra", "Infrastructure", "r-root"),
            ("ou-sandbox", "Sandbox", "r-root"),
            ("ou-workloads", "Workloads", "r-root"),
            ("ou-prod", "Prod", "ou-workloads"),
            ("ou-test", "Test", "ou-workloads"),
        ]
        .iter()
        .map(|(id, name, parent)| OrganizationalUnit {
            id: id.to_string(),
            arn: format!("arn:aws:organizations::{MANAGEMENT}:ou/o-rampart0001/{id}"),
            name: name.to_string(),
            parent_id: parent.to_string(),
        })
        .collect(),
        accounts: vec![],
        policies: vec![
            OrgPolicy {
                id: "p-FullAWSAccess".into(),
                name: "FullAWSAccess".into(),
                policy_type: "SERVICE_CONTROL_POLICY".into(),
                aws_managed: true,
                content: FULL_AWS_ACCESS.into(),
                targets: vec!["r-root".into()],
                ..OrgPolicy::default()
            },
            OrgPolicy {
                id: "p-guardrails".into(),
                name: "rampart-guardrails".into(),
                policy_type: "SERVICE_CONTROL_POLICY".into(),
                content: GUARDRAIL_SCP.into(),
                targets: vec!["r-root".into()],
                ..OrgPolicy::default()
            },
            OrgPolicy {
                id: "p-regions".into(),
                name: "rampart-region-deny".into(),
                policy_type: "SERVICE_CONTROL_POLICY".into(),
                content: region_deny_scp(regions),
                targets: vec!["r-root".into()],
                ..OrgPolicy::default()
            },
        ],
        delegated_administrators: [
            "guardduty.amazonaws.com",
            "securityhub.amazonaws.com",
            "config.amazonaws.com",
            "access-analyzer.amazonaws.com",
        ]
        .iter()
        .map(|s| DelegatedAdministrator {
            account_id: AUDIT.into(),
            service_principal: s.to_string(),
        })
        .collect(),
        enabled_service_principals: vec![
            "cloudtrail.amazonaws.com".into(),
            "guardduty.amazonaws.com".into(),
            "securityhub.amazonaws.com".into(),
            "config.amazonaws.com".into(),
            "config-multiaccountsetup.amazonaws.com".into(),
            "access-analyzer.amazonaws.com".into(),
        ],
        iam_features: Some(vec![
            "RootCredentialsManagement".into(),
            "RootSessions".into(),
        ]),
    };
    let mut accounts = vec![
        (MANAGEMENT.to_string(), "Management".to_string(), "r-root"),
        (
            LOG_ARCHIVE.to_string(),
            "Log Archive".to_string(),
            "ou-security",
        ),
        (AUDIT.to_string(), "Audit".to_string(), "ou-security"),
    ];
    for i in 0..workloads {
        let ou = ["ou-prod", "ou-test", "ou-sandbox", "ou-infra"][i % 4];
        let name = match ou {
            "ou-prod" => format!("workload-prod-{i}"),
            "ou-test" => format!("workload-test-{i}"),
            "ou-sandbox" => format!("sandbox-{i}"),
            _ => format!("shared-services-{i}"),
        };
        accounts.push((format!("{:012}", 400_000_000_000u64 + i as u64), name, ou));
    }
    let mut snaps = Vec::new();
    for (id, name, parent) in &accounts {
        org.accounts.push(OrgAccount {
            id: id.clone(),
            arn: format!("arn:aws:organizations::{MANAGEMENT}:account/o-rampart0001/{id}"),
            name: name.clone(),
            email: format!("aws+{id}@example.com"),
            status: "ACTIVE".into(),
            parent_id: parent.to_string(),
            joined_timestamp: Some("2024-01-01T00:00:00Z".into()),
        });
        snaps.push(good_account(id, name, regions));
    }
    // As in AWS, FullAWSAccess starts out attached to every OU and account.
    let everyone: Vec<String> = org
        .organizational_units
        .iter()
        .map(|o| o.id.clone())
        .chain(org.accounts.iter().map(|a| a.id.clone()))
        .collect();
    org.policies[0].targets.extend(everyone);
    Snapshot {
        schema_version: SCHEMA_VERSION,
        generated_at: "2026-11-01T00:00:00Z".into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        partition: "aws".into(),
        caller_account_id: MANAGEMENT.into(),
        collection: CollectionInfo {
            requested_regions: regions.iter().map(|r| r.to_string()).collect(),
            role_name: "OrganizationAccountAccessRole".into(),
            ..CollectionInfo::default()
        },
        identity_center: Some(identity_center(&org, regions[0])),
        organization: Some(org),
        accounts: snaps,
        errors: vec![],
    }
}

/// Identity Center enabled in the management account, the security team's read-only audit
/// permission set assigned in every account.
fn identity_center(org: &Organization, region: &str) -> IdentityCenter {
    let instance = "arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6";
    let audit =
        "arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-0a1b2c3d4e5f6a7b".to_string();
    IdentityCenter {
        region: region.to_string(),
        instance: Some(SsoInstance {
            instance_arn: instance.into(),
            identity_store_id: "d-9067a1b2c3".into(),
            owner_account_id: org.management_account_id.clone(),
            status: "ACTIVE".into(),
        }),
        permission_sets: vec![PermissionSet {
            arn: audit.clone(),
            name: "SecurityAudit".into(),
            session_duration: Some("PT4H".into()),
            managed_policies: vec!["arn:aws:iam::aws:policy/SecurityAudit".into()],
            ..Default::default()
        }],
        groups: vec![IdentityGroup {
            group_id: "9067a1b2c3-security".into(),
            display_name: "security".into(),
            description: Some("Security team".into()),
        }],
        assignments: org
            .accounts
            .iter()
            .map(|a| AccountAssignment {
                account_id: a.id.clone(),
                permission_set_arn: audit.clone(),
                principal_type: "GROUP".into(),
                principal_id: "9067a1b2c3-security".into(),
            })
            .collect(),
        errors: vec![],
    }
}

/// The 17 regions enabled by default in a commercial AWS account.
pub const DEFAULT_REGIONS: [&str; 17] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "sa-east-1",
];

/// A large organization for benchmarks: `accounts` accounts × `regions` regions, with a
/// deterministic sprinkle of the usual gaps so that every control has work to do.
pub fn synthetic_org(accounts: usize, regions: usize) -> Snapshot {
    let regions: Vec<&str> = DEFAULT_REGIONS
        .iter()
        .copied()
        .cycle()
        .take(regions.max(1))
        .collect();
    let mut s = compliant_org(accounts.saturating_sub(3), &regions);
    for (i, a) in s.accounts.iter_mut().enumerate() {
        if i % 7 == 3 {
            a.iam.credential_report[0].access_key_1_active = true;
        }
        if i % 5 == 4 {
            a.iam.users.push(IamUser {
                name: "ci-deployer".into(),
                arn: format!("arn:aws:iam::{}:user/ci-deployer", a.account_id),
                has_console_password: true,
                access_keys: vec![AccessKey {
                    id: "AKIAEXAMPLE".into(),
                    status: "Active".into(),
                    create_date: Some("2025-01-01T00:00:00Z".into()),
                    last_used_date: Some("2026-10-30T00:00:00Z".into()),
                }],
                attached_policies: vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
                ..IamUser::default()
            });
        }
        for (j, r) in a.regions.iter_mut().enumerate() {
            if (i + j) % 11 == 0 {
                r.ebs_encryption_by_default = false;
            }
            if (i + j) % 13 == 0 {
                r.security_groups[1].ingress.push(SgRule {
                    ip_protocol: "tcp".into(),
                    from_port: Some(22),
                    to_port: Some(22),
                    ipv4_ranges: vec!["0.0.0.0/0".into()],
                    ..SgRule::default()
                });
            }
            if (i + j) % 17 == 0 {
                r.config.recorders[0].recording = false;
            }
        }
    }
    s
}

/// The demo organization: Management, Log Archive, Audit and five workload/sandbox accounts in
/// three regions, with the gaps real organizations have. Every gap is listed in [`DEMO_GAPS`].
pub fn demo_org() -> Snapshot {
    let regions = ["us-east-1", "eu-west-1", "eu-central-1"];
    let mut s = compliant_org(5, &regions);
    s.generated_at = "2026-11-20T09:00:00Z".into();
    let names = [
        "payments-prod",
        "payments-test",
        "sandbox-data-science",
        "shared-network",
        "checkout-prod",
    ];
    for (i, n) in names.iter().enumerate() {
        let id = format!("{:012}", 400_000_000_000u64 + i as u64);
        if let Some(a) = s.accounts.iter_mut().find(|a| a.account_id == id) {
            a.name = n.to_string();
        }
        if let Some(o) = s
            .organization
            .as_mut()
            .and_then(|o| o.accounts.iter_mut().find(|a| a.id == id))
        {
            o.name = n.to_string();
            o.parent_id = ["ou-prod", "ou-test", "ou-sandbox", "ou-infra", "ou-prod"][i].into();
        }
    }
    let acct = |s: &mut Snapshot, id: &str| -> usize {
        s.accounts
            .iter()
            .position(|a| a.account_id == id)
            .unwrap_or(0)
    };
    let (prod, test, sandbox, infra) = (
        acct(&mut s, "400000000000"),
        acct(&mut s, "400000000001"),
        acct(&mut s, "400000000002"),
        acct(&mut s, "400000000003"),
    );
    // Guardrails: the region deny was attached to Workloads only, so Sandbox and Infrastructure are open.
    if let Some(p) = s.organization.as_mut().and_then(|o| {
        o.policies
            .iter_mut()
            .find(|p| p.name == "rampart-region-deny")
    }) {
        p.targets = vec!["ou-workloads".into()];
    }
    // Sandbox: root keys in use, an IAM user without MFA and with admin rights attached directly.
    {
        let a = &mut s.accounts[sandbox];
        let root = &mut a.iam.credential_report[0];
        root.access_key_1_active = true;
        root.access_key_1_last_rotated = Some("2023-03-01T00:00:00Z".into());
        root.access_key_1_last_used_date = Some("2026-11-18T00:00:00Z".into());
        a.iam
            .account_summary
            .insert("AccountAccessKeysPresent".into(), 1);
        a.iam.users.push(IamUser {
            name: "data-scientist".into(),
            arn: format!("arn:aws:iam::{}:user/data-scientist", a.account_id),
            create_date: Some("2024-05-01T00:00:00Z".into()),
            has_console_password: true,
            access_keys: vec![AccessKey {
                id: "AKIADEMO0000SANDBOX1".into(),
                status: "Active".into(),
                create_date: Some("2024-05-01T00:00:00Z".into()),
                last_used_date: Some("2026-08-01T00:00:00Z".into()),
            }],
            attached_policies: vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
            ..IamUser::default()
        });
        a.iam.policies.push(ManagedPolicy {
            arn: "arn:aws:iam::aws:policy/AdministratorAccess".into(),
            name: "AdministratorAccess".into(),
            aws_managed: true,
            attachment_count: 1,
            document: FULL_AWS_ACCESS.into(),
            ..ManagedPolicy::default()
        });
        a.iam.password_policy = None;
        a.regions[2].guardduty = None;
        a.regions[2].securityhub = None;
        a.regions[0].security_groups[1].ingress.push(SgRule {
            ip_protocol: "tcp".into(),
            from_port: Some(22),
            to_port: Some(22),
            ipv4_ranges: vec!["0.0.0.0/0".into()],
            ..SgRule::default()
        });
        a.s3.account_public_access_block = None;
        let mut b = good_bucket("sandbox-ds-scratch-400000000002", "us-east-1");
        b.policy = None;
        b.public_access_block = None;
        b.mfa_delete = None;
        a.s3.buckets.push(b);
    }
    // Audit does not auto-enable members in eu-central-1, so the sandbox gap is not covered there.
    if let Some(a) = s.accounts.iter_mut().find(|a| a.account_id == AUDIT) {
        if let Some(g) = a.regions[2].guardduty.as_mut() {
            g.auto_enable_members = Some("NEW".into());
        }
        if let Some(h) = a.regions[2].securityhub.as_mut() {
            h.auto_enable = Some(false);
        }
    }
    // Prod: EBS default encryption off in one region; a public, unencrypted legacy database.
    {
        let a = &mut s.accounts[prod];
        a.regions[2].ebs_encryption_by_default = false;
        let db = &mut a.regions[0].rds_instances[0];
        db.db_instance_identifier = "legacy-ledger".into();
        db.arn = format!("arn:aws:rds:us-east-1:{}:db:legacy-ledger", a.account_id);
        db.storage_encrypted = false;
        db.publicly_accessible = true;
        a.regions[0].kms_keys[0].rotation_enabled = Some(false);
    }
    // Test: IMDSv1 instances and a default security group still carrying its rules.
    {
        let a = &mut s.accounts[test];
        a.regions[0].instances[0].http_tokens = Some("optional".into());
        a.regions[1].security_groups[0].ingress.push(SgRule {
            ip_protocol: "-1".into(),
            group_refs: vec!["sg-default".into()],
            ..SgRule::default()
        });
        a.regions[1].flow_logs.clear();
    }
    // Infrastructure: Config stopped in one region; the audit role cannot read the credential report.
    {
        let a = &mut s.accounts[infra];
        a.regions[1].config.recorders[0].recording = false;
        let id = a.account_id.clone();
        a.errors.push(CollectionError {
            account_id: id,
            region: None,
            api: "iam:GetCredentialReport".into(),
            code: "AccessDenied".into(),
            message: "User: arn:aws:sts::400000000003:assumed-role/OrganizationAccountAccessRole/rampart is not authorized to perform: iam:GenerateCredentialReport".into(),
            resource: None,
        });
    }
    // Monitoring: the root-usage filter was typed with "root" (never matches), and nobody
    // deployed the Organizations-changes filter.
    if let Some(m) = s.accounts.iter_mut().find(|a| a.account_id == MANAGEMENT) {
        let home = &mut m.regions[0];
        if let Some(f) = home
            .metric_filters
            .iter_mut()
            .find(|f| f.name == "cis-4.3-filter")
        {
            f.pattern = r#"{ $.userIdentity.type = "root" }"#.into();
        }
        home.metric_filters.retain(|f| f.name != "cis-4.15-filter");
        home.alarms.retain(|a| a.name != "cis-4.15-alarm");
    }
    // Log archive: a lifecycle rule someone added to save money expires logs after one year.
    if let Some(la) = s.accounts.iter_mut().find(|a| a.account_id == LOG_ARCHIVE) {
        la.s3.buckets[0].lifecycle_rules.push(LifecycleRule {
            id: "cost-saving".into(),
            status: "Enabled".into(),
            expiration_days: Some(365),
            noncurrent_expiration_days: Some(30),
        });
    }
    s
}

/// What is wrong in [`demo_org`], for the demo's narrative and its tests.
pub const DEMO_GAPS: &[(&str, &str)] = &[
    (
        "base-scp-region-deny",
        "region deny attached to Workloads only: Sandbox and Infrastructure can use any region",
    ),
    ("cis-1.4", "root access key active in sandbox-data-science"),
    (
        "cis-1.10",
        "console user without MFA in sandbox-data-science",
    ),
    (
        "cis-1.16",
        "AdministratorAccess attached in sandbox-data-science",
    ),
    ("cis-2.1.1", "sandbox scratch bucket allows plain HTTP"),
    (
        "cis-2.2.1",
        "EBS default encryption off in payments-prod eu-central-1",
    ),
    ("cis-2.3.1", "legacy-ledger database unencrypted"),
    ("cis-2.3.3", "legacy-ledger database public"),
    (
        "cis-3.3",
        "Config recorder stopped in shared-network eu-west-1",
    ),
    (
        "cis-4.3",
        "root-usage filter never matches (\"root\" vs \"Root\")",
    ),
    ("cis-4.15", "no filter for Organizations changes"),
    (
        "cis-5.2",
        "SSH open to the internet in sandbox-data-science",
    ),
    ("cis-5.6", "IMDSv1 allowed in payments-test"),
    (
        "base-guardduty",
        "GuardDuty off in sandbox eu-central-1, no auto-enable there",
    ),
    (
        "base-log-archive-bucket",
        "lifecycle expires CloudTrail logs after 365 days",
    ),
];

#[cfg(test)]
mod demo_tests {
    use super::*;
    use crate::{AuditSettings, Status, evaluate};

    #[test]
    fn every_documented_demo_gap_fails_and_the_rest_is_credited() {
        let s = demo_org();
        let f = evaluate(&s, &AuditSettings::default());
        for (control, why) in DEMO_GAPS {
            assert!(
                f.iter()
                    .any(|x| x.control == *control && x.status == Status::Fail),
                "{control}: {why}"
            );
        }
        assert!(
            f.iter()
                .any(|x| x.status == Status::Error && x.account_id == "400000000003")
        );
        // Members are credited by the organization trail: no CIS 3.1 failure anywhere.
        assert!(
            f.iter()
                .filter(|x| x.control == "cis-3.1")
                .all(|x| x.status == Status::Pass)
        );
        // Round-trips through JSON as `rampart audit --snapshot` would read it.
        let back = Snapshot::from_json("demo.json", &s.to_json()).unwrap();
        assert_eq!(evaluate(&back, &AuditSettings::default()), f);
    }
}
