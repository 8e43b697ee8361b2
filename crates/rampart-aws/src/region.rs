//! One region of one account: every regional service the controls read.

use crate::access::{Access, Recorder, pages};
use rampart_snapshot::*;

fn s(v: Option<&str>) -> String {
    v.unwrap_or_default().to_string()
}

/// What an account is to the organization, for the reads only such accounts can make.
#[derive(Debug, Clone, Default)]
pub struct Standing {
    /// The management account.
    pub management: bool,
    /// Service principals this account is the delegated administrator of.
    pub administers: Vec<String>,
}

impl Standing {
    fn administers(&self, principal: &str) -> bool {
        self.administers.iter().any(|p| p == principal)
    }

    /// The account that runs the security services for the organization (the Audit account),
    /// where central alerting lives.
    fn central(&self) -> bool {
        [
            "guardduty.amazonaws.com",
            "securityhub.amazonaws.com",
            "access-analyzer.amazonaws.com",
        ]
        .iter()
        .any(|p| self.administers(p))
    }
}

/// Returns the region's snapshot and the trails whose home region this is.
pub async fn collect_region(
    a: &Access,
    account_id: &str,
    region: &str,
    standing: &Standing,
    baseline: bool,
) -> (RegionSnapshot, Vec<Trail>) {
    let mut rec = Recorder::new(a, account_id, Some(region));
    let mut out = RegionSnapshot {
        region: region.to_string(),
        ..Default::default()
    };
    // The baseline verbs read the organization trail, the CIS alarms (management account) and
    // the organization Access Analyzer (its administrator) only where they live.
    let everything = !baseline;
    let trails = if everything || standing.management {
        trails(a, region, &mut rec).await
    } else {
        Vec::new()
    };
    if everything {
        ec2(a, region, &mut rec, &mut out).await;
    } else {
        ebs_default(a, region, &mut rec, &mut out).await;
    }
    guardduty(a, region, &mut rec, &mut out, standing).await;
    securityhub(a, region, &mut rec, &mut out, standing).await;
    config(a, region, &mut rec, &mut out).await;
    if everything || standing.administers("access-analyzer.amazonaws.com") {
        access_analyzer(a, region, &mut rec, &mut out).await;
    }
    if everything {
        kms(a, region, &mut rec, &mut out).await;
        rds(a, region, &mut rec, &mut out).await;
        efs(a, region, &mut rec, &mut out).await;
    }
    if everything || standing.management {
        logs(a, region, &mut rec, &mut out).await;
        alarms(a, region, &mut rec, &mut out).await;
        sns(a, region, &mut rec, &mut out).await;
    }
    // Central alerting, where it lives (the full collect reads it too, so a plan from a full
    // snapshot agrees with the baseline verbs' narrow read).
    if standing.central() {
        if !everything && !standing.management {
            sns(a, region, &mut rec, &mut out).await;
        }
        crate::alerting::collect(a, region, &mut rec, &mut out).await;
    }
    out.errors = rec.errors;
    (out, trails)
}

async fn trails(a: &Access, region: &str, rec: &mut Recorder<'_>) -> Vec<Trail> {
    let ct = a.cloudtrail(region);
    let mut out = Vec::new();
    let Some(list) = rec.ok(
        "cloudtrail:DescribeTrails",
        None,
        ct.describe_trails()
            .include_shadow_trails(false)
            .send()
            .await,
    ) else {
        return out;
    };
    for t in list.trail_list() {
        let home = s(t.home_region());
        if !home.is_empty() && home != region {
            continue;
        }
        let arn = s(t.trail_arn());
        let mut trail = Trail {
            name: s(t.name()),
            home_region: region.to_string(),
            owner_account_id: arn.split(':').nth(4).unwrap_or_default().to_string(),
            is_multi_region: t.is_multi_region_trail().unwrap_or(false),
            is_organization_trail: t.is_organization_trail().unwrap_or(false),
            include_global_service_events: t.include_global_service_events().unwrap_or(false),
            log_file_validation_enabled: t.log_file_validation_enabled().unwrap_or(false),
            s3_bucket_name: t.s3_bucket_name().map(str::to_string),
            s3_key_prefix: t.s3_key_prefix().map(str::to_string),
            kms_key_id: t.kms_key_id().map(str::to_string),
            cloudwatch_logs_log_group_arn: t.cloud_watch_logs_log_group_arn().map(str::to_string),
            cloudwatch_logs_role_arn: t.cloud_watch_logs_role_arn().map(str::to_string),
            sns_topic_arn: t.sns_topic_arn().map(str::to_string),
            arn: arn.clone(),
            ..Default::default()
        };
        trail.is_logging = rec
            .ok(
                "cloudtrail:GetTrailStatus",
                Some(&arn),
                ct.get_trail_status().name(&arn).send().await,
            )
            .and_then(|st| st.is_logging);
        if let Some(sel) = rec.ok(
            "cloudtrail:GetEventSelectors",
            Some(&arn),
            ct.get_event_selectors().trail_name(&arn).send().await,
        ) {
            trail.event_selectors = sel
                .event_selectors()
                .iter()
                .map(|e| EventSelector {
                    read_write_type: e
                        .read_write_type()
                        .map(|r| r.as_str().to_string())
                        .unwrap_or_else(|| "All".into()),
                    include_management_events: e.include_management_events().unwrap_or(true),
                    data_resources: e
                        .data_resources()
                        .iter()
                        .map(|d| DataResource {
                            resource_type: s(d.r#type()),
                            values: d.values().to_vec(),
                        })
                        .collect(),
                })
                .collect();
            trail.advanced_event_selectors = sel
                .advanced_event_selectors()
                .iter()
                .map(|a| AdvancedEventSelector {
                    name: a.name().map(str::to_string),
                    field_selectors: a
                        .field_selectors()
                        .iter()
                        .map(|f| AdvancedFieldSelector {
                            field: f.field().to_string(),
                            equals: f.equals().to_vec(),
                            starts_with: f.starts_with().to_vec(),
                            ends_with: f.ends_with().to_vec(),
                            not_equals: f.not_equals().to_vec(),
                            not_starts_with: f.not_starts_with().to_vec(),
                            not_ends_with: f.not_ends_with().to_vec(),
                        })
                        .collect(),
                })
                .collect();
        }
        out.push(trail);
    }
    out
}

async fn ebs_default(a: &Access, region: &str, rec: &mut Recorder<'_>, out: &mut RegionSnapshot) {
    if let Some(e) = rec.ok(
        "ec2:GetEbsEncryptionByDefault",
        None,
        a.ec2(region).get_ebs_encryption_by_default().send().await,
    ) {
        out.ebs_encryption_by_default = e.ebs_encryption_by_default.unwrap_or(false);
    }
}

async fn ec2(a: &Access, region: &str, rec: &mut Recorder<'_>, out: &mut RegionSnapshot) {
    let c = a.ec2(region);
    ebs_default(a, region, rec, out).await;
    if let Some(v) = rec.ok_pages("ec2:DescribeVpcs", None, pages!(c.describe_vpcs())) {
        out.vpcs = v
            .iter()
            .flat_map(|p| p.vpcs())
            .map(|v| Vpc {
                vpc_id: s(v.vpc_id()),
                is_default: v.is_default().unwrap_or(false),
                cidr_block: s(v.cidr_block()),
            })
            .collect();
    }
    if let Some(f) = rec.ok_pages("ec2:DescribeFlowLogs", None, pages!(c.describe_flow_logs())) {
        out.flow_logs = f
            .iter()
            .flat_map(|p| p.flow_logs())
            .map(|f| FlowLog {
                flow_log_id: s(f.flow_log_id()),
                resource_id: s(f.resource_id()),
                status: s(f.flow_log_status()),
                traffic_type: f
                    .traffic_type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
            })
            .collect();
    }
    let rule = |p: &aws_sdk_ec2::types::IpPermission| SgRule {
        ip_protocol: s(p.ip_protocol()),
        from_port: p.from_port(),
        to_port: p.to_port(),
        ipv4_ranges: p
            .ip_ranges()
            .iter()
            .filter_map(|r| r.cidr_ip().map(str::to_string))
            .collect(),
        ipv6_ranges: p
            .ipv6_ranges()
            .iter()
            .filter_map(|r| r.cidr_ipv6().map(str::to_string))
            .collect(),
        group_refs: p
            .user_id_group_pairs()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect(),
        prefix_lists: p
            .prefix_list_ids()
            .iter()
            .filter_map(|g| g.prefix_list_id().map(str::to_string))
            .collect(),
    };
    if let Some(g) = rec.ok_pages(
        "ec2:DescribeSecurityGroups",
        None,
        pages!(c.describe_security_groups()),
    ) {
        out.security_groups = g
            .iter()
            .flat_map(|p| p.security_groups())
            .map(|g| SecurityGroup {
                group_id: s(g.group_id()),
                group_name: s(g.group_name()),
                vpc_id: g.vpc_id().map(str::to_string),
                ingress: g.ip_permissions().iter().map(rule).collect(),
                egress: g.ip_permissions_egress().iter().map(rule).collect(),
            })
            .collect();
    }
    if let Some(n) = rec.ok_pages(
        "ec2:DescribeNetworkAcls",
        None,
        pages!(c.describe_network_acls()),
    ) {
        out.network_acls = n
            .iter()
            .flat_map(|p| p.network_acls())
            .map(|n| NetworkAcl {
                network_acl_id: s(n.network_acl_id()),
                vpc_id: s(n.vpc_id()),
                is_default: n.is_default().unwrap_or(false),
                entries: n
                    .entries()
                    .iter()
                    .map(|e| NaclEntry {
                        rule_number: e.rule_number().unwrap_or(0),
                        protocol: s(e.protocol()),
                        rule_action: e
                            .rule_action()
                            .map(|r| r.as_str().to_string())
                            .unwrap_or_default(),
                        egress: e.egress().unwrap_or(false),
                        cidr_block: e.cidr_block().map(str::to_string),
                        ipv6_cidr_block: e.ipv6_cidr_block().map(str::to_string),
                        from_port: e.port_range().and_then(|p| p.from()),
                        to_port: e.port_range().and_then(|p| p.to()),
                    })
                    .collect(),
            })
            .collect();
    }
    if let Some(r) = rec.ok_pages(
        "ec2:DescribeInstances",
        None,
        pages!(c.describe_instances()),
    ) {
        out.instances = r
            .iter()
            .flat_map(|p| p.reservations())
            .flat_map(|r| r.instances())
            .map(|i| Ec2Instance {
                instance_id: s(i.instance_id()),
                state: i
                    .state()
                    .and_then(|st| st.name())
                    .map(|n| n.as_str().to_string())
                    .unwrap_or_default(),
                http_tokens: i
                    .metadata_options()
                    .and_then(|m| m.http_tokens())
                    .map(|t| t.as_str().to_string()),
                http_endpoint: i
                    .metadata_options()
                    .and_then(|m| m.http_endpoint())
                    .map(|t| t.as_str().to_string()),
                iam_instance_profile_arn: i
                    .iam_instance_profile()
                    .and_then(|p| p.arn())
                    .map(str::to_string),
            })
            .collect();
    }
}

async fn guardduty(
    a: &Access,
    region: &str,
    rec: &mut Recorder<'_>,
    out: &mut RegionSnapshot,
    standing: &Standing,
) {
    let c = a.guardduty(region);
    let Some(list) = rec.ok_pages("guardduty:ListDetectors", None, pages!(c.list_detectors()))
    else {
        return;
    };
    let Some(id) = list.iter().flat_map(|p| p.detector_ids()).next().cloned() else {
        return;
    };
    let status = rec
        .ok(
            "guardduty:GetDetector",
            Some(&id),
            c.get_detector().detector_id(&id).send().await,
        )
        .and_then(|d| d.status().map(|s| s.as_str().to_string()))
        .unwrap_or_default();
    let admin = rec
        .absent_ok(
            "guardduty:GetAdministratorAccount",
            Some(&id),
            &["BadRequestException"],
            c.get_administrator_account().detector_id(&id).send().await,
        )
        .ok()
        .flatten()
        .and_then(|r| r.administrator.and_then(|a| a.account_id));
    let mut org_admins = Vec::new();
    if standing.management
        && let Some(r) = rec.ok_pages(
            "guardduty:ListOrganizationAdminAccounts",
            None,
            pages!(c.list_organization_admin_accounts()),
        )
    {
        org_admins = r
            .iter()
            .flat_map(|p| p.admin_accounts())
            .filter_map(|x| x.admin_account_id().map(str::to_string))
            .collect();
    }
    // Only the delegated administrator can read the organization's auto-enable setting.
    let mut auto_enable_members = None;
    if standing.administers("guardduty.amazonaws.com")
        && let Some(o) = rec.ok(
            "guardduty:DescribeOrganizationConfiguration",
            Some(&id),
            c.describe_organization_configuration()
                .detector_id(&id)
                .send()
                .await,
        )
    {
        auto_enable_members = Some(match o.auto_enable_organization_members() {
            Some(m) => m.as_str().to_string(),
            #[allow(deprecated)]
            None if o.auto_enable() == Some(true) => "NEW".to_string(),
            None => "NONE".to_string(),
        });
    }
    out.guardduty = Some(GuardDuty {
        detector_id: id,
        status,
        administrator_account_id: admin,
        organization_admin_accounts: org_admins,
        auto_enable_members,
    });
}

async fn securityhub(
    a: &Access,
    region: &str,
    rec: &mut Recorder<'_>,
    out: &mut RegionSnapshot,
    standing: &Standing,
) {
    let c = a.securityhub(region);
    let hub = match rec.absent_ok(
        "securityhub:DescribeHub",
        None,
        &["InvalidAccessException", "ResourceNotFoundException"],
        c.describe_hub().send().await,
    ) {
        Ok(Some(h)) => h,
        _ => return,
    };
    let admin = rec
        .absent_ok(
            "securityhub:GetAdministratorAccount",
            None,
            &["InvalidAccessException", "ResourceNotFoundException"],
            c.get_administrator_account().send().await,
        )
        .ok()
        .flatten()
        .and_then(|r| r.administrator.and_then(|a| a.account_id));
    let enabled_standards = rec
        .ok_pages(
            "securityhub:GetEnabledStandards",
            None,
            pages!(c.get_enabled_standards()),
        )
        .map(|pages| {
            pages
                .iter()
                .flat_map(|p| p.standards_subscriptions())
                .filter(|x| {
                    !matches!(
                        x.standards_status(),
                        Some(
                            aws_sdk_securityhub::types::StandardsStatus::Deleting
                                | aws_sdk_securityhub::types::StandardsStatus::Failed
                        )
                    )
                })
                .filter_map(|x| x.standards_arn().map(str::to_string))
                .collect()
        });
    let mut auto_enable = None;
    if standing.administers("securityhub.amazonaws.com")
        && let Some(o) = rec.ok(
            "securityhub:DescribeOrganizationConfiguration",
            None,
            c.describe_organization_configuration().send().await,
        )
    {
        auto_enable = o.auto_enable();
    }
    out.securityhub = Some(SecurityHub {
        hub_arn: s(hub.hub_arn()),
        subscribed_at: hub.subscribed_at().map(str::to_string),
        administrator_account_id: admin,
        enabled_standards,
        auto_enable,
        ..Default::default()
    });
}

async fn config(a: &Access, region: &str, rec: &mut Recorder<'_>, out: &mut RegionSnapshot) {
    let c = a.config_service(region);
    let statuses = rec
        .ok(
            "config:DescribeConfigurationRecorderStatus",
            None,
            c.describe_configuration_recorder_status().send().await,
        )
        .map(|r| r.configuration_recorders_status().to_vec())
        .unwrap_or_default();
    if let Some(r) = rec.ok(
        "config:DescribeConfigurationRecorders",
        None,
        c.describe_configuration_recorders().send().await,
    ) {
        out.config.recorders = r
            .configuration_recorders()
            .iter()
            .map(|r| {
                let name = s(r.name());
                let st = statuses.iter().find(|st| st.name() == Some(name.as_str()));
                ConfigRecorder {
                    role_arn: s(r.role_arn()),
                    all_supported: r
                        .recording_group()
                        .map(|g| g.all_supported())
                        .unwrap_or(false),
                    include_global_resource_types: r
                        .recording_group()
                        .map(|g| g.include_global_resource_types())
                        .unwrap_or(false),
                    recording: st.is_some_and(|st| st.recording()),
                    last_status: st
                        .and_then(|st| st.last_status())
                        .map(|x| x.as_str().to_string()),
                    name,
                }
            })
            .collect();
    }
    if let Some(d) = rec.ok(
        "config:DescribeDeliveryChannels",
        None,
        c.describe_delivery_channels().send().await,
    ) {
        out.config.delivery_channels = d
            .delivery_channels()
            .iter()
            .map(|d| DeliveryChannel {
                name: s(d.name()),
                s3_bucket_name: d.s3_bucket_name().map(str::to_string),
                sns_topic_arn: d.sns_topic_arn().map(str::to_string),
            })
            .collect();
    }
    if let Some(g) = rec.ok_pages(
        "config:DescribeConfigurationAggregators",
        None,
        pages!(c.describe_configuration_aggregators()),
    ) {
        out.config.aggregators = g
            .iter()
            .flat_map(|p| p.configuration_aggregators())
            .map(|g| ConfigAggregator {
                name: s(g.configuration_aggregator_name()),
                arn: s(g.configuration_aggregator_arn()),
                organization: g.organization_aggregation_source().is_some(),
                all_regions: g
                    .organization_aggregation_source()
                    .map(|o| o.all_aws_regions())
                    .unwrap_or(false)
                    || g.account_aggregation_sources()
                        .iter()
                        .any(|x| x.all_aws_regions()),
            })
            .collect();
    }
}

async fn access_analyzer(
    a: &Access,
    region: &str,
    rec: &mut Recorder<'_>,
    out: &mut RegionSnapshot,
) {
    let c = a.accessanalyzer(region);
    if let Some(r) = rec.ok_pages(
        "access-analyzer:ListAnalyzers",
        None,
        pages!(c.list_analyzers()),
    ) {
        out.access_analyzers = r
            .iter()
            .flat_map(|p| p.analyzers())
            .map(|x| AccessAnalyzer {
                name: x.name().to_string(),
                arn: x.arn().to_string(),
                analyzer_type: x.r#type().as_str().to_string(),
                status: x.status().as_str().to_string(),
            })
            .collect();
    }
}

async fn kms(a: &Access, region: &str, rec: &mut Recorder<'_>, out: &mut RegionSnapshot) {
    let c = a.kms(region);
    let Some(list) = rec.ok_pages("kms:ListKeys", None, pages!(c.list_keys())) else {
        return;
    };
    for k in list.iter().flat_map(|p| p.keys()) {
        let id = s(k.key_id());
        let Some(d) = rec
            .ok(
                "kms:DescribeKey",
                Some(&id),
                c.describe_key().key_id(&id).send().await,
            )
            .and_then(|d| d.key_metadata)
        else {
            continue;
        };
        let manager = d
            .key_manager()
            .map(|m| m.as_str().to_string())
            .unwrap_or_default();
        let state = d
            .key_state()
            .map(|m| m.as_str().to_string())
            .unwrap_or_default();
        let spec = d
            .key_spec()
            .map(|m| m.as_str().to_string())
            .unwrap_or_default();
        let rotation = if manager == "CUSTOMER" && spec == "SYMMETRIC_DEFAULT" && state == "Enabled"
        {
            rec.ok(
                "kms:GetKeyRotationStatus",
                Some(&id),
                c.get_key_rotation_status().key_id(&id).send().await,
            )
            .map(|r| r.key_rotation_enabled())
        } else {
            None
        };
        out.kms_keys.push(KmsKey {
            arn: s(d.arn()),
            key_id: id,
            key_manager: manager,
            key_state: state,
            key_spec: spec,
            rotation_enabled: rotation,
            policy: None,
        });
    }
}

async fn rds(a: &Access, region: &str, rec: &mut Recorder<'_>, out: &mut RegionSnapshot) {
    if let Some(r) = rec.ok_pages(
        "rds:DescribeDBInstances",
        None,
        pages!(a.rds(region).describe_db_instances()),
    ) {
        out.rds_instances = r
            .iter()
            .flat_map(|p| p.db_instances())
            .map(|d| RdsInstance {
                db_instance_identifier: s(d.db_instance_identifier()),
                arn: s(d.db_instance_arn()),
                engine: s(d.engine()),
                storage_encrypted: d.storage_encrypted().unwrap_or(false),
                publicly_accessible: d.publicly_accessible().unwrap_or(false),
                auto_minor_version_upgrade: d.auto_minor_version_upgrade().unwrap_or(false),
                multi_az: d.multi_az().unwrap_or(false),
            })
            .collect();
    }
}

async fn efs(a: &Access, region: &str, rec: &mut Recorder<'_>, out: &mut RegionSnapshot) {
    if let Some(r) = rec.ok_pages(
        "elasticfilesystem:DescribeFileSystems",
        None,
        pages!(a.efs(region).describe_file_systems()),
    ) {
        out.efs_file_systems = r
            .iter()
            .flat_map(|p| p.file_systems())
            .map(|f| EfsFileSystem {
                file_system_id: f.file_system_id().to_string(),
                arn: s(f.file_system_arn()),
                encrypted: f.encrypted().unwrap_or(false),
            })
            .collect();
    }
}

async fn logs(a: &Access, region: &str, rec: &mut Recorder<'_>, out: &mut RegionSnapshot) {
    let c = a.logs(region);
    let mut token = None;
    loop {
        let Some(p) = rec.ok(
            "logs:DescribeLogGroups",
            None,
            c.describe_log_groups()
                .set_next_token(token.clone())
                .send()
                .await,
        ) else {
            break;
        };
        out.log_groups
            .extend(p.log_groups().iter().map(|g| LogGroup {
                name: s(g.log_group_name()),
                arn: s(g.arn()),
                retention_in_days: g.retention_in_days(),
                kms_key_id: g.kms_key_id().map(str::to_string),
            }));
        token = p.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let mut token = None;
    loop {
        let Some(p) = rec.ok(
            "logs:DescribeMetricFilters",
            None,
            c.describe_metric_filters()
                .set_next_token(token.clone())
                .send()
                .await,
        ) else {
            break;
        };
        out.metric_filters
            .extend(p.metric_filters().iter().map(|f| {
                MetricFilter {
                    name: s(f.filter_name()),
                    log_group_name: s(f.log_group_name()),
                    pattern: s(f.filter_pattern()),
                    metrics: f
                        .metric_transformations()
                        .iter()
                        .map(|m| MetricRef {
                            name: m.metric_name().to_string(),
                            namespace: m.metric_namespace().to_string(),
                        })
                        .collect(),
                }
            }));
        token = p.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
}

async fn alarms(a: &Access, region: &str, rec: &mut Recorder<'_>, out: &mut RegionSnapshot) {
    let c = a.cloudwatch(region);
    let mut token = None;
    loop {
        let Some(p) = rec.ok(
            "cloudwatch:DescribeAlarms",
            None,
            c.describe_alarms()
                .set_next_token(token.clone())
                .send()
                .await,
        ) else {
            break;
        };
        out.alarms
            .extend(p.metric_alarms().iter().map(|m| MetricAlarm {
                name: s(m.alarm_name()),
                arn: s(m.alarm_arn()),
                metric_name: m.metric_name().map(str::to_string),
                namespace: m.namespace().map(str::to_string),
                actions_enabled: m.actions_enabled().unwrap_or(false),
                alarm_actions: m.alarm_actions().to_vec(),
            }));
        token = p.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
}

async fn sns(a: &Access, region: &str, rec: &mut Recorder<'_>, out: &mut RegionSnapshot) {
    let c = a.sns(region);
    let mut token = None;
    loop {
        let Some(p) = rec.ok(
            "sns:ListTopics",
            None,
            c.list_topics().set_next_token(token.clone()).send().await,
        ) else {
            break;
        };
        out.sns_topics.extend(p.topics().iter().map(|t| SnsTopic {
            arn: s(t.topic_arn()),
            subscriptions: Vec::new(),
            policy: None,
        }));
        token = p.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let mut token = None;
    loop {
        let Some(p) = rec.ok(
            "sns:ListSubscriptions",
            None,
            c.list_subscriptions()
                .set_next_token(token.clone())
                .send()
                .await,
        ) else {
            break;
        };
        for sub in p.subscriptions() {
            let topic = s(sub.topic_arn());
            let arn = s(sub.subscription_arn());
            if let Some(t) = out.sns_topics.iter_mut().find(|t| t.arn == topic) {
                t.subscriptions.push(SnsSubscription {
                    confirmed: arn.starts_with("arn:"),
                    arn,
                    protocol: s(sub.protocol()),
                    endpoint: sub.endpoint().map(str::to_string),
                });
            }
        }
        token = p.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
}
