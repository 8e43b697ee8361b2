//! The planner over snapshot fixtures: a converged organization plans nothing; each out-of-band
//! change plans exactly its repair; a fresh organization plans everything in dependency order.

use super::*;
use crate::config::init_template;
use rampart_snapshot::*;

pub(crate) const MGMT: &str = "111111111111";

/// An organization with only its management account, observed in `regions`: nothing of the
/// baseline exists.
pub(crate) fn fresh(regions: &[&str]) -> Snapshot {
    Snapshot {
        caller_account_id: MGMT.into(),
        organization: Some(Organization {
            id: "o-fresh".into(),
            management_account_id: MGMT.into(),
            feature_set: "ALL".into(),
            roots: vec![OrgRoot {
                id: "r-root".into(),
                ..Default::default()
            }],
            accounts: vec![OrgAccount {
                id: MGMT.into(),
                name: "Management".into(),
                status: "ACTIVE".into(),
                parent_id: "r-root".into(),
                ..Default::default()
            }],
            ..Default::default()
        }),
        accounts: vec![AccountSnapshot {
            account_id: MGMT.into(),
            regions: regions
                .iter()
                .map(|r| RegionSnapshot {
                    region: r.to_string(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// The default rampart.toml for eu-west-1 (home) and eu-central-1.
pub(crate) fn config() -> Config {
    Config::parse(
        &init_template(
            "ops@example.com",
            &["eu-west-1".into(), "eu-central-1".into()],
        ),
        "rampart.toml",
    )
    .unwrap()
}

fn account_id(i: usize) -> String {
    format!("{:012}", 200000000000u64 + i as u64)
}

/// An organization that already matches `cfg` in every respect the planner checks.
pub(crate) fn converged(cfg: &Config) -> Snapshot {
    let mut org = Organization {
        id: "o-test".into(),
        management_account_id: MGMT.into(),
        feature_set: "ALL".into(),
        roots: vec![OrgRoot {
            id: "r-root".into(),
            enabled_policy_types: vec![
                "SERVICE_CONTROL_POLICY".into(),
                "RESOURCE_CONTROL_POLICY".into(),
            ],
            ..Default::default()
        }],
        ..Default::default()
    };
    for (i, path) in cfg.organization.ous.iter().enumerate() {
        let (parent, name) = match path.rsplit_once('/') {
            Some((p, n)) => {
                let j = cfg.organization.ous.iter().position(|o| o == p).unwrap();
                (format!("ou-{j}"), n.to_string())
            }
            None => ("r-root".to_string(), path.clone()),
        };
        org.organizational_units.push(OrganizationalUnit {
            id: format!("ou-{i}"),
            name,
            parent_id: parent,
            ..Default::default()
        });
    }
    let ou_id = |path: &str| {
        format!(
            "ou-{}",
            cfg.organization.ous.iter().position(|o| o == path).unwrap()
        )
    };
    org.accounts.push(OrgAccount {
        id: MGMT.into(),
        name: "Management".into(),
        status: "ACTIVE".into(),
        parent_id: "r-root".into(),
        ..Default::default()
    });
    for (i, a) in cfg.accounts.iter().enumerate() {
        org.accounts.push(OrgAccount {
            id: account_id(i),
            name: a.name.clone(),
            email: a.email.clone(),
            status: "ACTIVE".into(),
            parent_id: ou_id(&a.ou),
            ..Default::default()
        });
    }
    let mut n = 0;
    for (ou, blocks) in cfg.blocks_by_ou() {
        for s in build_guardrails(&ou, &blocks, &cfg.guardrail_settings()).unwrap() {
            n += 1;
            org.policies.push(OrgPolicy {
                id: format!("p-{n}"),
                name: s.name,
                policy_type: "SERVICE_CONTROL_POLICY".into(),
                content: s.content,
                targets: vec![ou_id(&ou)],
                ..Default::default()
            });
        }
    }
    let audit = account_id(cfg.accounts.iter().position(|a| a.name == "Audit").unwrap());
    for p in [
        "guardduty.amazonaws.com",
        "securityhub.amazonaws.com",
        "config.amazonaws.com",
        "access-analyzer.amazonaws.com",
    ] {
        org.delegated_administrators.push(DelegatedAdministrator {
            account_id: audit.clone(),
            service_principal: p.into(),
        });
    }
    let mut accounts = Vec::new();
    for a in &org.accounts {
        let mut acct = AccountSnapshot {
            account_id: a.id.clone(),
            name: a.name.clone(),
            ..Default::default()
        };
        acct.s3.account_public_access_block = Some(PublicAccessBlock {
            block_public_acls: true,
            ignore_public_acls: true,
            block_public_policy: true,
            restrict_public_buckets: true,
        });
        acct.iam.password_policy = Some(PasswordPolicy {
            minimum_password_length: Some(14),
            password_reuse_prevention: Some(24),
            ..Default::default()
        });
        for r in &cfg.organization.allowed_regions {
            let mut region = RegionSnapshot {
                region: r.clone(),
                ebs_encryption_by_default: true,
                guardduty: Some(GuardDuty {
                    detector_id: "d-1".into(),
                    status: "ENABLED".into(),
                    ..Default::default()
                }),
                securityhub: Some(SecurityHub {
                    hub_arn: format!("arn:aws:securityhub:{r}:{}:hub/default", a.id),
                    ..Default::default()
                }),
                ..Default::default()
            };
            if a.id == MGMT && *r == cfg.organization.allowed_regions[0] {
                cis_alarms_in_place(cfg, &mut region);
            }
            let h = region.securityhub.as_mut().unwrap();
            h.enabled_standards = Some(
                cfg.security_services
                    .standards
                    .iter()
                    .filter_map(|n| standard_arn(n, r))
                    .collect(),
            );
            if a.id == audit {
                h.auto_enable = Some(true);
                region.guardduty.as_mut().unwrap().auto_enable_members = Some("ALL".into());
                region.access_analyzers.push(AccessAnalyzer {
                    name: "org".into(),
                    analyzer_type: "ORGANIZATION".into(),
                    status: "ACTIVE".into(),
                    ..Default::default()
                });
                if *r == cfg.organization.allowed_regions[0] {
                    region.config.aggregators.push(ConfigAggregator {
                        name: "org".into(),
                        organization: true,
                        all_regions: true,
                        ..Default::default()
                    });
                }
            }
            region.config.recorders.push(ConfigRecorder {
                name: "default".into(),
                recording: true,
                all_supported: true,
                ..Default::default()
            });
            acct.regions.push(region);
        }
        if a.id == MGMT {
            acct.trails.push(Trail {
                name: cfg.log_archive.trail_name.clone(),
                home_region: "eu-west-1".into(),
                owner_account_id: MGMT.into(),
                is_multi_region: true,
                is_organization_trail: true,
                include_global_service_events: true,
                log_file_validation_enabled: true,
                s3_bucket_name: Some(cfg.log_archive.bucket.clone()),
                kms_key_id: Some(format!("arn:aws:kms:eu-west-1:{MGMT}:key/k-1")),
                cloudwatch_logs_log_group_arn: Some(format!(
                    "arn:aws:logs:eu-west-1:{MGMT}:log-group:{}:*",
                    log_archive::trail_log_group(cfg)
                )),
                is_logging: Some(true),
                ..Default::default()
            });
        }
        if a.name == cfg.organization.log_archive_account {
            acct.s3.buckets = log_archive_buckets(cfg, "o-test");
        }
        accounts.push(acct);
    }
    org.enabled_service_principals = [
        "cloudtrail.amazonaws.com",
        "guardduty.amazonaws.com",
        "securityhub.amazonaws.com",
        "config.amazonaws.com",
        "access-analyzer.amazonaws.com",
    ]
    .map(String::from)
    .to_vec();
    let mut snap = Snapshot {
        schema_version: SCHEMA_VERSION,
        caller_account_id: MGMT.into(),
        organization: Some(org),
        accounts,
        ..Default::default()
    };
    alerting::tests::in_place(cfg, &mut snap);
    snap
}

/// The Log Archive bucket and its access-log bucket as the baseline wants them.
fn log_archive_buckets(cfg: &Config, org_id: &str) -> Vec<Bucket> {
    let la = &cfg.log_archive;
    let on = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };
    let access = log_archive::access_log_bucket(&la.bucket);
    vec![
        Bucket {
            name: la.bucket.clone(),
            region: "eu-west-1".into(),
            policy: Some(log_archive::bucket_policy(
                &la.bucket,
                org_id,
                MGMT,
                "eu-west-1",
                &la.trail_name,
            )),
            public_access_block: Some(on),
            logging_target_bucket: Some(access.clone()),
            encryption: vec!["aws:kms".into()],
            versioning: Some("Enabled".into()),
            object_lock: Some(ObjectLock {
                enabled: true,
                mode: Some(la.object_lock_mode.clone()),
                days: Some(la.retention_days as i32),
                years: None,
            }),
            lifecycle_rules: vec![LifecycleRule {
                id: "retention".into(),
                status: "Enabled".into(),
                expiration_days: Some(la.retention_days as i32),
                noncurrent_expiration_days: None,
            }],
            ..Default::default()
        },
        Bucket {
            name: access,
            region: "eu-west-1".into(),
            public_access_block: Some(on),
            encryption: vec!["AES256".into()],
            ..Default::default()
        },
    ]
}

/// CIS 4.1–4.15 filters (pattern text from the audit's reference list), alarms and a topic
/// with a subscription, on the organization trail's log group.
fn cis_alarms_in_place(cfg: &Config, r: &mut RegionSnapshot) {
    let topic = format!(
        "arn:aws:sns:eu-west-1:{MGMT}:{}",
        log_archive::alert_topic(cfg)
    );
    r.sns_topics.push(SnsTopic {
        arn: topic.clone(),
        subscriptions: vec![SnsSubscription {
            arn: "sub".into(),
            protocol: "email".into(),
            confirmed: true,
            endpoint: None,
        }],
        policy: None,
    });
    for (num, pattern) in rampart_core::sample::CIS_PATTERNS {
        let metric = format!("their-metric-{num}");
        r.metric_filters.push(MetricFilter {
            name: format!("their-filter-{num}"),
            log_group_name: log_archive::trail_log_group(cfg),
            pattern: pattern.to_string(),
            metrics: vec![MetricRef {
                name: metric.clone(),
                namespace: "Theirs".into(),
            }],
        });
        r.alarms.push(MetricAlarm {
            name: format!("their-alarm-{num}"),
            metric_name: Some(metric),
            namespace: Some("Theirs".into()),
            actions_enabled: true,
            alarm_actions: vec![topic.clone()],
            ..Default::default()
        });
    }
}

fn kinds(p: &Plan) -> Vec<String> {
    p.changes.iter().map(|c| c.id.clone()).collect()
}

#[test]
fn a_converged_organization_plans_nothing() {
    let cfg = config();
    let p = plan(&cfg, &converged(&cfg)).unwrap();
    assert!(p.changes.is_empty(), "{}", p.to_text());
    assert!(p.to_text().starts_with("No changes"));
}

#[test]
fn each_drift_plans_exactly_its_repair() {
    let cfg = config();
    let base = converged(&cfg);
    let prod = account_id(0);

    // An SCP detached.
    let mut s = base.clone();
    let o = s.organization.as_mut().unwrap();
    let pol = o
        .policies
        .iter_mut()
        .find(|p| p.name == "rampart-workloads-1")
        .unwrap();
    pol.targets.clear();
    assert_eq!(
        kinds(&plan(&cfg, &s).unwrap()),
        vec!["attach:rampart-workloads-1:Workloads"]
    );

    // An SCP edited out of band.
    let mut s = base.clone();
    let o = s.organization.as_mut().unwrap();
    let pol = o
        .policies
        .iter_mut()
        .find(|p| p.name == "rampart-sandbox-1")
        .unwrap();
    pol.content = pol.content.replace(
        "\"organizations:LeaveOrganization\"",
        "\"organizations:DescribeOrganization\"",
    );
    let p = plan(&cfg, &s).unwrap();
    assert_eq!(kinds(&p), vec!["scp:rampart-sandbox-1"]);
    assert!(matches!(p.changes[0].action, Action::UpdatePolicy { .. }));

    // EBS default encryption disabled in one account and region.
    let mut s = base.clone();
    s.accounts
        .iter_mut()
        .find(|a| a.account_id == prod)
        .unwrap()
        .regions[1]
        .ebs_encryption_by_default = false;
    assert_eq!(
        kinds(&plan(&cfg, &s).unwrap()),
        vec![format!("ebs:{prod}:eu-central-1")]
    );

    // The organization trail stopped.
    let mut s = base.clone();
    s.accounts
        .iter_mut()
        .find(|a| a.account_id == MGMT)
        .unwrap()
        .trails[0]
        .is_logging = Some(false);
    let p = plan(&cfg, &s).unwrap();
    assert_eq!(kinds(&p), vec!["trail-logging:rampart-org-trail"]);
    assert_eq!(p.changes[0].region.as_deref(), Some("eu-west-1"));

    // A GuardDuty detector deleted.
    let mut s = base.clone();
    s.accounts
        .iter_mut()
        .find(|a| a.account_id == prod)
        .unwrap()
        .regions[0]
        .guardduty = None;
    assert_eq!(
        kinds(&plan(&cfg, &s).unwrap()),
        vec![format!("guardduty:{prod}:eu-west-1")]
    );

    // Block Public Access weakened, password policy removed, Config stopped.
    let mut s = base.clone();
    let a = s
        .accounts
        .iter_mut()
        .find(|a| a.account_id == prod)
        .unwrap();
    a.s3.account_public_access_block
        .as_mut()
        .unwrap()
        .block_public_policy = false;
    a.iam.password_policy = None;
    a.regions[0].config.recorders[0].recording = false;
    let mut got = kinds(&plan(&cfg, &s).unwrap());
    got.sort();
    assert_eq!(
        got,
        vec![
            format!("bpa:{prod}"),
            format!("config:{prod}:eu-west-1"),
            format!("password-policy:{prod}")
        ]
    );
}

/// Asking for CIS v5.0 where v3.0 is enabled enables the v5.0 standard (its regional ARN) and
/// leaves v3.0 alone: the planner only adds standards.
#[test]
fn cis_v5_standard_is_enabled_where_missing() {
    let old = config();
    let mut cfg = config();
    cfg.security_services.standards = vec!["fsbp".into(), "cis-5.0".into()];
    let p = plan(&cfg, &converged(&old)).unwrap();
    let enables: Vec<&Action> = p
        .changes
        .iter()
        .filter(|c| c.id.starts_with("standards:"))
        .map(|c| &c.action)
        .collect();
    assert!(!enables.is_empty());
    for a in enables {
        let Action::EnableSecurityHubStandards { standards } = a else {
            panic!("{a:?}");
        };
        assert_eq!(standards.len(), 1, "{standards:?}");
        assert!(
            standards[0].starts_with("arn:aws:securityhub:eu-")
                && standards[0].ends_with("::standards/cis-aws-foundations-benchmark/v/5.0.0"),
            "{standards:?}"
        );
    }
    assert!(kinds(&plan(&cfg, &converged(&cfg)).unwrap()).is_empty());
}

#[test]
fn what_the_audit_account_runs_for_the_organization_drifts_too() {
    let cfg = config();
    let base = converged(&cfg);
    let prod = account_id(0);
    let audit = account_id(1);
    let mut s = base.clone();
    for a in s.accounts.iter_mut() {
        if a.account_id == prod {
            // CIS 3.0 disabled in one region.
            a.regions[0]
                .securityhub
                .as_mut()
                .unwrap()
                .enabled_standards
                .as_mut()
                .unwrap()
                .retain(|x| !x.contains("cis"));
        }
        if a.account_id == audit {
            a.regions[1].securityhub.as_mut().unwrap().auto_enable = Some(false);
            a.regions[0].access_analyzers.clear();
            a.regions[0].config.aggregators.clear();
        }
    }
    let mut got = kinds(&plan(&cfg, &s).unwrap());
    got.sort();
    assert_eq!(
        got,
        vec![
            format!("aggregator:{audit}:eu-west-1"),
            format!("analyzer:{audit}:eu-west-1"),
            "auto-enable:securityhub.amazonaws.com:eu-central-1".to_string(),
            format!("standards:{prod}:eu-west-1"),
        ]
    );
    let p = plan(&cfg, &s).unwrap();
    let st = p
        .changes
        .iter()
        .find(|c| c.id.starts_with("standards:"))
        .unwrap();
    assert_eq!(
        st.action,
        Action::EnableSecurityHubStandards {
            standards: vec![
                "arn:aws:securityhub:eu-west-1::standards/cis-aws-foundations-benchmark/v/3.0.0"
                    .into()
            ]
        }
    );
    // A setting that could not be read is reported, not repaired blind.
    let mut s = base.clone();
    for a in s.accounts.iter_mut().filter(|a| a.account_id == audit) {
        let r = &mut a.regions[0];
        r.guardduty.as_mut().unwrap().auto_enable_members = None;
        r.errors.push(CollectionError {
            api: "guardduty:DescribeOrganizationConfiguration".into(),
            code: "BadRequestException".into(),
            ..Default::default()
        });
    }
    let p = plan(&cfg, &s).unwrap();
    assert!(p.changes.is_empty(), "{}", p.to_text());
    assert!(
        p.unobserved
            .iter()
            .any(|u| u.contains("guardduty.amazonaws.com organization auto-enable in eu-west-1")),
        "{:?}",
        p.unobserved
    );
}

#[test]
fn only_rampart_owned_policies_are_detached_and_it_is_destructive() {
    let cfg = config();
    let mut s = converged(&cfg);
    let o = s.organization.as_mut().unwrap();
    o.policies.push(OrgPolicy {
        id: "p-old".into(),
        name: "rampart-retired-1".into(),
        policy_type: "SERVICE_CONTROL_POLICY".into(),
        content: "{}".into(),
        targets: vec!["ou-0".into()],
        ..Default::default()
    });
    o.policies.push(OrgPolicy {
        id: "p-theirs".into(),
        name: "team-guardrail".into(),
        policy_type: "SERVICE_CONTROL_POLICY".into(),
        content: "{}".into(),
        targets: vec!["ou-0".into()],
        ..Default::default()
    });
    let p = plan(&cfg, &s).unwrap();
    assert_eq!(kinds(&p), vec!["detach:rampart-retired-1:ou-0"]);
    assert!(p.changes[0].destructive);
    assert!(p.to_text().contains("1 destructive"));
}

#[test]
fn a_fresh_organization_plans_everything_in_dependency_order() {
    let cfg = config();
    let s = fresh(&["eu-west-1"]);
    let p = plan(&cfg, &s).unwrap();
    let pos = |id: &str| {
        p.changes
            .iter()
            .position(|c| c.id == id)
            .unwrap_or_else(|| panic!("{id} missing:\n{}", p.to_text()))
    };
    assert!(pos("policy-type:scp") < pos("scp:rampart-workloads-1"));
    pos("policy-type:rcp");
    assert!(pos("ou:Workloads") < pos("ou:Workloads/Prod"));
    assert!(pos("ou:Security") < pos("account:Audit"));
    assert!(pos("scp:rampart-workloads-1") < pos("attach:rampart-workloads-1:Workloads"));
    assert!(pos("account:Audit") < pos("delegated-admin:guardduty.amazonaws.com"));
    assert!(
        pos("delegated-admin:guardduty.amazonaws.com")
            < pos(&format!("guardduty:{MGMT}:eu-west-1"))
    );
    pos("trail:rampart-org-trail");
    pos(&format!("ebs:{MGMT}:eu-west-1"));
    // eu-central-1 was not collected: said, not guessed.
    assert!(
        p.unobserved.iter().any(|u| u.contains("eu-central-1")),
        "{:?}",
        p.unobserved
    );
    // Every dependency comes earlier.
    for (i, c) in p.changes.iter().enumerate() {
        for d in &c.depends_on {
            assert!(
                p.changes[..i].iter().any(|x| &x.id == d),
                "{} before {d}",
                c.id
            );
        }
    }
    assert!(p.changes.iter().all(|c| !c.destructive));
}

#[test]
fn an_unreachable_account_is_unobserved_not_planned() {
    let cfg = config();
    let mut s = converged(&cfg);
    let prod = account_id(0);
    let a = s
        .accounts
        .iter_mut()
        .find(|a| a.account_id == prod)
        .unwrap();
    a.regions.clear();
    a.errors.push(CollectionError {
        account_id: prod.clone(),
        api: "*".into(),
        code: "AccessDenied".into(),
        ..Default::default()
    });
    let p = plan(&cfg, &s).unwrap();
    assert!(p.changes.is_empty(), "{}", p.to_text());
    assert!(p.unobserved.iter().any(|u| u.contains(&prod)));
}

#[test]
fn an_organization_without_all_features_gets_them_first() {
    let cfg = config();
    let mut s = fresh(&["eu-west-1"]);
    s.organization.as_mut().unwrap().feature_set = "CONSOLIDATED_BILLING".into();
    let p = plan(&cfg, &s).unwrap();
    assert_eq!(p.changes[0].id, "all-features");
    for kind in ["policy-type:scp", "policy-type:rcp"] {
        let c = p.changes.iter().find(|c| c.id == kind).unwrap();
        assert_eq!(c.depends_on, vec!["all-features".to_string()]);
    }
}

/// The default configuration with the data perimeter on Workloads and TLS on Security.
pub(crate) fn config_with_rcps() -> Config {
    let text = init_template(
        "ops@example.com",
        &["eu-west-1".into(), "eu-central-1".into()],
    )
    .replace(
        "\n[log_archive]",
        "\n[guardrails.rcps]\ntrusted_accounts = [\"111122223333\"]\n[guardrails.rcps.attach]\n\"Workloads\" = [\"perimeter-s3\", \"perimeter-kms\", \"perimeter-sqs\", \"perimeter-secretsmanager\", \"perimeter-sts\", \"require-tls\"]\n\"Security\" = [\"require-tls\"]\n\n[log_archive]",
    );
    Config::parse(&text, "rampart.toml").unwrap()
}

/// The generated RCPs of `cfg`, attached where it wants them (`org.id` `o-test`).
fn with_rcps(cfg: &Config, mut s: Snapshot) -> Snapshot {
    let o = s.organization.as_mut().unwrap();
    for (ou, blocks) in cfg.rcp_blocks_by_ou() {
        let target = format!(
            "ou-{}",
            cfg.organization.ous.iter().position(|x| *x == ou).unwrap()
        );
        for r in crate::rcp::build_rcps(&ou, &blocks, &cfg.rcp_settings("o-test")).unwrap() {
            o.policies.push(OrgPolicy {
                id: format!("p-{}", r.name),
                name: r.name,
                policy_type: "RESOURCE_CONTROL_POLICY".into(),
                content: r.content,
                targets: vec![target.clone()],
                ..Default::default()
            });
        }
    }
    s
}

#[test]
fn rcps_are_created_attached_and_then_converged() {
    let cfg = config_with_rcps();
    let base = converged(&cfg);
    let p = plan(&cfg, &base).unwrap();
    assert_eq!(
        kinds(&p),
        vec![
            "rcp:rampart-rcp-security-1",
            "attach:rampart-rcp-security-1:Security",
            "rcp:rampart-rcp-workloads-1",
            "attach:rampart-rcp-workloads-1:Workloads",
        ],
        "{}",
        p.to_text()
    );
    match &p.changes[2].action {
        Action::CreatePolicy {
            policy_type,
            blocks,
            content,
            ..
        } => {
            assert_eq!(*policy_type, PolicyType::Rcp);
            assert_eq!(blocks.len(), 6, "{blocks:?}");
            assert!(content.contains("o-test") && content.contains("111122223333"));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        p.to_text()
            .contains("attach RCP rampart-rcp-workloads-1 to OU Workloads"),
        "{}",
        p.to_text()
    );
    // Serialized with its type, and read back.
    let json = serde_json::to_string(&p).unwrap();
    assert!(
        json.contains("\"policy_type\":\"RESOURCE_CONTROL_POLICY\""),
        "{json}"
    );
    let back: Plan = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);

    // In place: nothing to do.
    let done = with_rcps(&cfg, base.clone());
    let p = plan(&cfg, &done).unwrap();
    assert!(p.changes.is_empty(), "{}", p.to_text());

    // Edited out of band: updated back; detached: re-attached.
    let mut s = done.clone();
    let o = s.organization.as_mut().unwrap();
    let w = o
        .policies
        .iter_mut()
        .find(|p| p.name == "rampart-rcp-workloads-1")
        .unwrap();
    w.content = w.content.replace("\"sqs:*\",", "");
    o.policies
        .iter_mut()
        .find(|p| p.name == "rampart-rcp-security-1")
        .unwrap()
        .targets
        .clear();
    let p = plan(&cfg, &s).unwrap();
    assert_eq!(
        kinds(&p),
        vec![
            "attach:rampart-rcp-security-1:Security",
            "rcp:rampart-rcp-workloads-1"
        ]
    );
    assert!(matches!(p.changes[1].action, Action::UpdatePolicy { .. }));

    // No longer configured: detached (destructive); SCPs of the same name rule are untouched.
    let p = plan(&config(), &done).unwrap();
    assert_eq!(
        kinds(&p),
        vec![
            "detach:rampart-rcp-security-1:ou-0",
            "detach:rampart-rcp-workloads-1:ou-3"
        ]
    );
    assert!(p.changes.iter().all(|c| c.destructive));
    assert!(p.to_text().contains("detach rampart-owned RCP"));
}

#[test]
fn rcps_wait_for_their_policy_type_and_need_the_organization_id() {
    let cfg = config_with_rcps();
    let s = fresh(&["eu-west-1"]);
    let p = plan(&cfg, &s).unwrap();
    let pos = |id: &str| p.changes.iter().position(|c| c.id == id).unwrap();
    assert!(pos("policy-type:rcp") < pos("rcp:rampart-rcp-workloads-1"));
    let create = &p.changes[pos("rcp:rampart-rcp-workloads-1")];
    assert_eq!(create.depends_on, vec!["policy-type:rcp"]);
    let attach = &p.changes[pos("attach:rampart-rcp-workloads-1:Workloads")];
    assert!(attach.depends_on.contains(&"ou:Workloads".to_string()));
    // Without the organization id the perimeter cannot be written: a clear error.
    let mut s = s;
    s.organization.as_mut().unwrap().id.clear();
    let e = plan(&cfg, &s).unwrap_err().to_string();
    assert!(
        e.contains("RCPs of OU Workloads") && e.contains("organization id"),
        "{e}"
    );
}
