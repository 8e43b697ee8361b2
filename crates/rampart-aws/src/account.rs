//! One account: global services (IAM, S3), region discovery, and the regional fan-out.

use crate::CollectOptions;
use crate::access::{Access, Recorder, pages};
use crate::region;
use rampart_snapshot::*;
use std::sync::Arc;
use tokio::sync::Semaphore;

pub async fn collect_account(
    s: &Access,
    account_id: &str,
    name: &str,
    opts: &CollectOptions,
    sem: Arc<Semaphore>,
    standing: region::Standing,
) -> AccountSnapshot {
    let mut acct = AccountSnapshot {
        account_id: account_id.to_string(),
        name: name.to_string(),
        ..Default::default()
    };
    let home = s.home_region();
    let regions = discover_regions(s, account_id, &home, &opts.regions, &mut acct.errors).await;

    // Regions in parallel (bounded by the global semaphore), global services meanwhile.
    let mut handles = Vec::new();
    for r in regions {
        let s = s.clone();
        let sem = sem.clone();
        let id = account_id.to_string();
        let standing = standing.clone();
        let baseline = opts.baseline.is_some();
        handles.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await.ok();
            region::collect_region(&s, &id, &r, &standing, baseline).await
        }));
    }
    {
        let _permit = sem.clone().acquire_owned().await.ok();
        let mut rec = Recorder::new(s, account_id, None);
        acct.iam = collect_iam(s, &home, &mut rec, opts.baseline.is_some()).await;
        acct.s3 = collect_s3(s, account_id, &home, &mut rec, opts.baseline.as_ref()).await;
        acct.errors.append(&mut rec.errors);
    }
    for h in handles {
        match h.await {
            Ok((mut reg, trails)) => {
                for t in trails {
                    if !acct.trails.iter().any(|x| x.arn == t.arn) {
                        acct.trails.push(t);
                    }
                }
                reg.errors.sort_by(|a, b| a.api.cmp(&b.api));
                acct.regions.push(reg);
            }
            Err(e) => acct.errors.push(CollectionError {
                account_id: account_id.to_string(),
                api: "*".into(),
                code: "InternalError".into(),
                message: format!("region task failed: {e}"),
                ..Default::default()
            }),
        }
    }
    acct.regions.sort_by(|a, b| a.region.cmp(&b.region));
    acct.trails.sort_by(|a, b| a.arn.cmp(&b.arn));
    acct
}

/// Regions enabled in the account (`ec2:DescribeRegions`), filtered by `--regions`.
async fn discover_regions(
    s: &Access,
    account_id: &str,
    home: &str,
    wanted: &[String],
    errors: &mut Vec<CollectionError>,
) -> Vec<String> {
    let mut rec = Recorder::new(s, account_id, Some(home));
    let found = rec.ok(
        "ec2:DescribeRegions",
        None,
        s.ec2(home).describe_regions().send().await,
    );
    errors.append(&mut rec.errors);
    match found {
        Some(out) => {
            let enabled: Vec<String> = out
                .regions()
                .iter()
                .filter(|r| r.opt_in_status().is_none_or(|o| o != "not-opted-in"))
                .filter_map(|r| r.region_name().map(str::to_string))
                .collect();
            let mut chosen: Vec<String> = if wanted.is_empty() {
                enabled
            } else {
                let chosen: Vec<String> = wanted
                    .iter()
                    .filter(|w| enabled.contains(w))
                    .cloned()
                    .collect();
                for w in wanted.iter().filter(|w| !enabled.contains(w)) {
                    errors.push(CollectionError {
                        account_id: account_id.to_string(),
                        region: Some(w.clone()),
                        api: "*".into(),
                        code: "RegionNotEnabled".into(),
                        message: format!("region {w} is not enabled in account {account_id}; enable it or drop it from --regions"),
                        resource: None,
                    });
                }
                chosen
            };
            chosen.sort();
            chosen
        }
        // Discovery failed: fall back to what was asked for (or the home region), so that the
        // rest still runs and every failed call is reported per region.
        None if !wanted.is_empty() => wanted.to_vec(),
        None => vec![home.to_string()],
    }
}

fn ts(t: Option<&aws_smithy_types::DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
}

async fn password_policy(
    iam: &aws_sdk_iam::Client,
    rec: &mut Recorder<'_>,
) -> Option<PasswordPolicy> {
    let p = rec
        .absent_ok(
            "iam:GetAccountPasswordPolicy",
            None,
            &["NoSuchEntity"],
            iam.get_account_password_policy().send().await,
        )
        .ok()??;
    p.password_policy.map(|p| PasswordPolicy {
        minimum_password_length: p.minimum_password_length,
        require_symbols: p.require_symbols,
        require_numbers: p.require_numbers,
        require_uppercase_characters: p.require_uppercase_characters,
        require_lowercase_characters: p.require_lowercase_characters,
        allow_users_to_change_password: p.allow_users_to_change_password,
        max_password_age: p.max_password_age,
        password_reuse_prevention: p.password_reuse_prevention,
        hard_expiry: p.hard_expiry.unwrap_or(false),
    })
}

async fn collect_iam(s: &Access, home: &str, rec: &mut Recorder<'_>, baseline: bool) -> Iam {
    let iam = s.iam(home);
    let mut out = Iam::default();
    if baseline {
        out.password_policy = password_policy(&iam, rec).await;
        return out;
    }

    // Credential report: generate, wait until complete (bounded), read.
    let mut ready = false;
    for attempt in 0..10 {
        match rec.ok(
            "iam:GenerateCredentialReport",
            None,
            iam.generate_credential_report().send().await,
        ) {
            Some(r) if r.state().is_some_and(|st| st.as_str() == "COMPLETE") => {
                ready = true;
                break;
            }
            Some(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(200 * (attempt + 1))).await
            }
            None => break,
        }
    }
    if ready
        && let Some(r) = rec.ok(
            "iam:GetCredentialReport",
            None,
            iam.get_credential_report().send().await,
        )
    {
        let csv = r
            .content()
            .map(|b| String::from_utf8_lossy(b.as_ref()).into_owned())
            .unwrap_or_default();
        out.credential_report = parse_credential_report(&csv);
    }

    out.password_policy = password_policy(&iam, rec).await;
    if let Some(m) = rec
        .ok(
            "iam:GetAccountSummary",
            None,
            iam.get_account_summary().send().await,
        )
        .and_then(|sum| sum.summary_map)
    {
        out.account_summary = m
            .into_iter()
            .map(|(k, v)| (k.as_str().to_string(), i64::from(v)))
            .collect();
    }

    // Users and what hangs off them.
    let mut marker = None;
    loop {
        let Some(page) = rec.ok(
            "iam:ListUsers",
            None,
            iam.list_users().set_marker(marker.clone()).send().await,
        ) else {
            break;
        };
        for u in page.users() {
            let name = u.user_name().to_string();
            let mut user = IamUser {
                name: name.clone(),
                arn: u.arn().to_string(),
                create_date: ts(Some(u.create_date())),
                ..Default::default()
            };
            user.has_console_password = matches!(
                rec.absent_ok(
                    "iam:GetLoginProfile",
                    Some(&name),
                    &["NoSuchEntity"],
                    iam.get_login_profile().user_name(&name).send().await
                ),
                Ok(Some(_))
            );
            if let Some(m) = rec.ok_pages(
                "iam:ListMFADevices",
                Some(&name),
                pages!(iam.list_mfa_devices().user_name(&name)),
            ) {
                user.mfa_devices = m
                    .iter()
                    .flat_map(|p| p.mfa_devices())
                    .map(|d| d.serial_number().to_string())
                    .collect();
            }
            if let Some(k) = rec.ok_pages(
                "iam:ListAccessKeys",
                Some(&name),
                pages!(iam.list_access_keys().user_name(&name)),
            ) {
                for key in k.iter().flat_map(|p| p.access_key_metadata()) {
                    let id = key.access_key_id().unwrap_or_default().to_string();
                    let last = rec
                        .ok(
                            "iam:GetAccessKeyLastUsed",
                            Some(&id),
                            iam.get_access_key_last_used()
                                .access_key_id(&id)
                                .send()
                                .await,
                        )
                        .and_then(|l| l.access_key_last_used)
                        .and_then(|l| ts(l.last_used_date()));
                    user.access_keys.push(AccessKey {
                        id,
                        status: key
                            .status()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default(),
                        create_date: ts(key.create_date()),
                        last_used_date: last,
                    });
                }
            }
            if let Some(p) = rec.ok_pages(
                "iam:ListAttachedUserPolicies",
                Some(&name),
                pages!(iam.list_attached_user_policies().user_name(&name)),
            ) {
                user.attached_policies = p
                    .iter()
                    .flat_map(|p| p.attached_policies())
                    .filter_map(|a| a.policy_arn().map(str::to_string))
                    .collect();
            }
            if let Some(p) = rec.ok_pages(
                "iam:ListUserPolicies",
                Some(&name),
                pages!(iam.list_user_policies().user_name(&name)),
            ) {
                user.inline_policies = p.iter().flat_map(|p| p.policy_names().to_vec()).collect();
            }
            if let Some(g) = rec.ok_pages(
                "iam:ListGroupsForUser",
                Some(&name),
                pages!(iam.list_groups_for_user().user_name(&name)),
            ) {
                user.groups = g
                    .iter()
                    .flat_map(|p| p.groups())
                    .map(|g| g.group_name().to_string())
                    .collect();
            }
            out.users.push(user);
        }
        marker = page.marker().map(str::to_string);
        if !page.is_truncated() || marker.is_none() {
            break;
        }
    }

    // Roles with their attached policies (CIS 1.17 looks for AWSSupportAccess).
    let mut marker = None;
    loop {
        let Some(page) = rec.ok(
            "iam:ListRoles",
            None,
            iam.list_roles().set_marker(marker.clone()).send().await,
        ) else {
            break;
        };
        for r in page.roles() {
            let name = r.role_name().to_string();
            let attached = rec
                .ok_pages(
                    "iam:ListAttachedRolePolicies",
                    Some(&name),
                    pages!(iam.list_attached_role_policies().role_name(&name)),
                )
                .map(|p| {
                    p.iter()
                        .flat_map(|p| p.attached_policies())
                        .filter_map(|a| a.policy_arn().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            out.roles.push(IamRole {
                name,
                arn: r.arn().to_string(),
                path: r.path().to_string(),
                trust_policy: r
                    .assume_role_policy_document()
                    .map(|d| {
                        urlencoding::decode(d)
                            .map(|c| c.into_owned())
                            .unwrap_or_else(|_| d.to_string())
                    })
                    .unwrap_or_default(),
                attached_policies: attached,
                ..IamRole::default()
            });
        }
        marker = page.marker().map(str::to_string);
        if !page.is_truncated() || marker.is_none() {
            break;
        }
    }

    // Attached managed policies with their default document.
    let mut marker = None;
    loop {
        let r = iam
            .list_policies()
            .only_attached(true)
            .set_marker(marker.clone())
            .send()
            .await;
        let Some(page) = rec.ok("iam:ListPolicies", None, r) else {
            break;
        };
        for p in page.policies() {
            let arn = p.arn().unwrap_or_default().to_string();
            let version = p.default_version_id().unwrap_or("v1").to_string();
            let document = rec
                .ok(
                    "iam:GetPolicyVersion",
                    Some(&arn),
                    iam.get_policy_version()
                        .policy_arn(&arn)
                        .version_id(&version)
                        .send()
                        .await,
                )
                .and_then(|v| v.policy_version.and_then(|v| v.document))
                .map(|d| urlencoding::decode(&d).map(|c| c.into_owned()).unwrap_or(d))
                .unwrap_or_default();
            out.policies.push(ManagedPolicy {
                aws_managed: arn.contains(":iam::aws:policy/"),
                arn,
                name: p.policy_name().unwrap_or_default().to_string(),
                attachment_count: p.attachment_count().unwrap_or(0),
                document,
                ..ManagedPolicy::default()
            });
        }
        marker = page.marker().map(str::to_string);
        if !page.is_truncated() || marker.is_none() {
            break;
        }
    }

    authorization_details(&iam, rec, &mut out).await;

    if let Some(v) = rec.ok_pages(
        "iam:ListVirtualMFADevices",
        None,
        pages!(iam.list_virtual_mfa_devices()),
    ) {
        out.virtual_mfa_devices = v
            .iter()
            .flat_map(|p| p.virtual_mfa_devices())
            .map(|d| VirtualMfaDevice {
                serial_number: d.serial_number().to_string(),
                user_arn: d.user().map(|u| u.arn().to_string()),
            })
            .collect();
    }
    if let Some(c) = rec.ok_pages(
        "iam:ListServerCertificates",
        None,
        pages!(iam.list_server_certificates()),
    ) {
        out.server_certificates = c
            .iter()
            .flat_map(|p| p.server_certificate_metadata_list())
            .map(|m| ServerCertificate {
                name: m.server_certificate_name().to_string(),
                arn: m.arn().to_string(),
                expiration: ts(m.expiration()),
            })
            .collect();
    }
    if let Some(p) = rec.ok(
        "iam:ListSAMLProviders",
        None,
        iam.list_saml_providers().send().await,
    ) {
        out.saml_providers = p
            .saml_provider_list()
            .iter()
            .filter_map(|p| p.arn().map(str::to_string))
            .collect();
    }
    out
}

/// Parses the IAM credential report CSV; unknown columns are ignored, missing ones are empty.
pub fn parse_credential_report(csv: &str) -> Vec<CredentialReportRow> {
    let mut lines = csv.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let cols: Vec<&str> = header.split(',').collect();
    let idx = |name: &str| cols.iter().position(|c| *c == name);
    let date = |v: Option<&str>| -> Option<String> {
        v.filter(|s| !matches!(*s, "" | "N/A" | "no_information" | "not_supported"))
            .map(str::to_string)
    };
    let flag = |v: Option<&str>| v == Some("true");
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let get = |name: &str| idx(name).and_then(|i| f.get(i).copied());
            CredentialReportRow {
                user: get("user").unwrap_or_default().to_string(),
                arn: get("arn").unwrap_or_default().to_string(),
                user_creation_time: date(get("user_creation_time")),
                password_enabled: flag(get("password_enabled")),
                password_last_used: date(get("password_last_used")),
                password_last_changed: date(get("password_last_changed")),
                mfa_active: flag(get("mfa_active")),
                access_key_1_active: flag(get("access_key_1_active")),
                access_key_1_last_rotated: date(get("access_key_1_last_rotated")),
                access_key_1_last_used_date: date(get("access_key_1_last_used_date")),
                access_key_2_active: flag(get("access_key_2_active")),
                access_key_2_last_rotated: date(get("access_key_2_last_rotated")),
                access_key_2_last_used_date: date(get("access_key_2_last_used_date")),
            }
        })
        .collect()
}

async fn collect_s3(
    s: &Access,
    account_id: &str,
    home: &str,
    rec: &mut Recorder<'_>,
    baseline: Option<&crate::BaselineScope>,
) -> S3 {
    let mut out = S3::default();
    let control = s.s3control(home);
    if let Ok(p) = rec.absent_ok(
        "s3control:GetPublicAccessBlock",
        None,
        &["NoSuchPublicAccessBlockConfiguration"],
        control
            .get_public_access_block()
            .account_id(account_id)
            .send()
            .await,
    ) {
        out.account_public_access_block =
            p.and_then(|p| p.public_access_block_configuration)
                .map(|c| PublicAccessBlock {
                    block_public_acls: c.block_public_acls.unwrap_or(false),
                    ignore_public_acls: c.ignore_public_acls.unwrap_or(false),
                    block_public_policy: c.block_public_policy.unwrap_or(false),
                    restrict_public_buckets: c.restrict_public_buckets.unwrap_or(false),
                });
    }
    let s3 = s.s3(home);
    let Some(list) = rec.ok_pages("s3:ListBuckets", None, pages!(s3.list_buckets())) else {
        return out;
    };
    for b in list.iter().flat_map(|p| p.buckets()) {
        let name = b.name().unwrap_or_default().to_string();
        if baseline.is_some_and(|scope| !scope.buckets.contains(&name)) {
            continue;
        }
        let n = Some(name.as_str());
        let region = rec
            .ok(
                "s3:GetBucketLocation",
                n,
                s3.get_bucket_location().bucket(&name).send().await,
            )
            .map(|l| {
                l.location_constraint()
                    .map(|c| c.as_str().to_string())
                    .filter(|c| !c.is_empty())
                    .unwrap_or_else(|| "us-east-1".to_string())
            })
            .unwrap_or_else(|| home.to_string());
        let c = if region == home {
            s3.clone()
        } else {
            s.s3(&region)
        };
        let mut bucket = Bucket {
            name: name.clone(),
            region: region.clone(),
            creation_date: ts(b.creation_date()),
            ..Default::default()
        };
        if let Ok(p) = rec.absent_ok(
            "s3:GetBucketPolicy",
            n,
            &["NoSuchBucketPolicy"],
            c.get_bucket_policy().bucket(&name).send().await,
        ) {
            bucket.policy = p.and_then(|p| p.policy);
        }
        if let Ok(p) = rec.absent_ok(
            "s3:GetPublicAccessBlock",
            n,
            &["NoSuchPublicAccessBlockConfiguration"],
            c.get_public_access_block().bucket(&name).send().await,
        ) {
            bucket.public_access_block =
                p.and_then(|p| p.public_access_block_configuration)
                    .map(|c| PublicAccessBlock {
                        block_public_acls: c.block_public_acls.unwrap_or(false),
                        ignore_public_acls: c.ignore_public_acls.unwrap_or(false),
                        block_public_policy: c.block_public_policy.unwrap_or(false),
                        restrict_public_buckets: c.restrict_public_buckets.unwrap_or(false),
                    });
        }
        if let Some(l) = rec.ok(
            "s3:GetBucketLogging",
            n,
            c.get_bucket_logging().bucket(&name).send().await,
        ) {
            bucket.logging_target_bucket = l.logging_enabled.map(|e| e.target_bucket);
        }
        if let Ok(Some(e)) = rec.absent_ok(
            "s3:GetBucketEncryption",
            n,
            &["ServerSideEncryptionConfigurationNotFoundError"],
            c.get_bucket_encryption().bucket(&name).send().await,
        ) {
            bucket.encryption = e
                .server_side_encryption_configuration
                .map(|c| {
                    c.rules()
                        .iter()
                        .filter_map(|r| r.apply_server_side_encryption_by_default())
                        .map(|d| d.sse_algorithm().as_str().to_string())
                        .collect()
                })
                .unwrap_or_default();
        }
        if let Some(v) = rec.ok(
            "s3:GetBucketVersioning",
            n,
            c.get_bucket_versioning().bucket(&name).send().await,
        ) {
            bucket.versioning = v.status().map(|s| s.as_str().to_string());
            bucket.mfa_delete = v.mfa_delete().map(|s| s.as_str().to_string());
        }
        if let Ok(Some(o)) = rec.absent_ok(
            "s3:GetObjectLockConfiguration",
            n,
            &["ObjectLockConfigurationNotFoundError"],
            c.get_object_lock_configuration().bucket(&name).send().await,
        ) {
            bucket.object_lock = o.object_lock_configuration.map(|cfg| {
                let rule = cfg.rule().and_then(|r| r.default_retention());
                ObjectLock {
                    enabled: cfg
                        .object_lock_enabled()
                        .is_some_and(|e| e.as_str() == "Enabled"),
                    mode: rule.and_then(|r| r.mode()).map(|m| m.as_str().to_string()),
                    days: rule.and_then(|r| r.days()),
                    years: rule.and_then(|r| r.years()),
                }
            });
        }
        if let Ok(Some(l)) = rec.absent_ok(
            "s3:GetBucketLifecycleConfiguration",
            n,
            &["NoSuchLifecycleConfiguration"],
            c.get_bucket_lifecycle_configuration()
                .bucket(&name)
                .send()
                .await,
        ) {
            bucket.lifecycle_rules = l
                .rules()
                .iter()
                .map(|r| LifecycleRule {
                    id: r.id().unwrap_or_default().to_string(),
                    status: r.status().as_str().to_string(),
                    expiration_days: r.expiration().and_then(|e| e.days()),
                    noncurrent_expiration_days: r
                        .noncurrent_version_expiration()
                        .and_then(|e| e.noncurrent_days()),
                })
                .collect();
        }
        out.buckets.push(bucket);
    }
    out.buckets.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// URL-decoded policy text (IAM returns documents URL-encoded).
fn decoded(d: Option<&str>) -> String {
    let d = d.unwrap_or_default();
    urlencoding::decode(d)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| d.to_string())
}

fn inline_policies(list: &[aws_sdk_iam::types::PolicyDetail]) -> Vec<InlinePolicy> {
    list.iter()
        .map(|p| InlinePolicy {
            name: p.policy_name().unwrap_or_default().to_string(),
            document: decoded(p.policy_document()),
        })
        .collect()
}

/// `GetAccountAuthorizationDetails` (users, groups, roles, customer managed policies with every
/// version): inline policy documents, groups, boundaries and instance profiles for "who can
/// become admin", merged into what the list calls read. AWS managed policies come from
/// `ListPolicies` (attached ones); a boundary that is neither is read with `GetPolicy`.
async fn authorization_details(iam: &aws_sdk_iam::Client, rec: &mut Recorder<'_>, out: &mut Iam) {
    use aws_sdk_iam::types::EntityType;
    let Some(pages) = rec.ok_pages(
        "iam:GetAccountAuthorizationDetails",
        None,
        pages!(
            iam.get_account_authorization_details()
                .set_filter(Some(vec![
                    EntityType::User,
                    EntityType::Group,
                    EntityType::Role,
                    EntityType::LocalManagedPolicy,
                ]))
        ),
    ) else {
        return;
    };
    out.authorization_details = true;
    let boundary = |b: Option<&aws_sdk_iam::types::AttachedPermissionsBoundary>| {
        b.and_then(|b| b.permissions_boundary_arn())
            .map(str::to_string)
    };
    for page in &pages {
        for u in page.user_detail_list() {
            let name = u.user_name().unwrap_or_default();
            if let Some(user) = out.users.iter_mut().find(|x| x.name == name) {
                user.inline_policy_documents = inline_policies(u.user_policy_list());
                user.permissions_boundary = boundary(u.permissions_boundary());
                if user.groups.is_empty() {
                    user.groups = u.group_list().to_vec();
                }
            }
        }
        for g in page.group_detail_list() {
            out.groups.push(IamGroup {
                name: g.group_name().unwrap_or_default().to_string(),
                arn: g.arn().unwrap_or_default().to_string(),
                attached_policies: g
                    .attached_managed_policies()
                    .iter()
                    .filter_map(|a| a.policy_arn().map(str::to_string))
                    .collect(),
                inline_policy_documents: inline_policies(g.group_policy_list()),
            });
        }
        for r in page.role_detail_list() {
            let name = r.role_name().unwrap_or_default();
            if let Some(role) = out.roles.iter_mut().find(|x| x.name == name) {
                role.inline_policy_documents = inline_policies(r.role_policy_list());
                role.permissions_boundary = boundary(r.permissions_boundary());
                role.instance_profiles = r
                    .instance_profile_list()
                    .iter()
                    .map(|p| p.arn().to_string())
                    .collect();
            }
        }
        for p in page.policies() {
            let arn = p.arn().unwrap_or_default().to_string();
            let versions: Vec<PolicyVersion> = p
                .policy_version_list()
                .iter()
                .map(|v| PolicyVersion {
                    version_id: v.version_id().unwrap_or_default().to_string(),
                    is_default: v.is_default_version(),
                    document: decoded(v.document()),
                })
                .collect();
            let default = versions
                .iter()
                .find(|v| v.is_default)
                .map(|v| v.document.clone())
                .unwrap_or_default();
            match out.policies.iter_mut().find(|x| x.arn == arn) {
                Some(known) => known.versions = versions,
                None => out.policies.push(ManagedPolicy {
                    aws_managed: false,
                    name: p.policy_name().unwrap_or_default().to_string(),
                    attachment_count: p.attachment_count().unwrap_or(0),
                    document: default,
                    versions,
                    arn,
                }),
            }
        }
    }
    // Boundaries that are AWS managed and attached nowhere are in neither list.
    let missing: Vec<String> = out
        .users
        .iter()
        .filter_map(|u| u.permissions_boundary.clone())
        .chain(
            out.roles
                .iter()
                .filter_map(|r| r.permissions_boundary.clone()),
        )
        .filter(|b| !out.policies.iter().any(|p| &p.arn == b))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for arn in missing {
        let Some(version) = rec
            .ok(
                "iam:GetPolicy",
                Some(&arn),
                iam.get_policy().policy_arn(&arn).send().await,
            )
            .and_then(|p| p.policy)
            .and_then(|p| p.default_version_id)
        else {
            continue;
        };
        let document = rec
            .ok(
                "iam:GetPolicyVersion",
                Some(&arn),
                iam.get_policy_version()
                    .policy_arn(&arn)
                    .version_id(&version)
                    .send()
                    .await,
            )
            .and_then(|v| v.policy_version.and_then(|v| v.document))
            .map(|d| decoded(Some(&d)))
            .unwrap_or_default();
        out.policies.push(ManagedPolicy {
            aws_managed: arn.contains(":iam::aws:policy/"),
            name: arn.rsplit('/').next().unwrap_or_default().to_string(),
            document,
            arn,
            ..ManagedPolicy::default()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_report_rows() {
        let csv = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date\n\
<root_account>,arn:aws:iam::111111111111:root,2020-01-01T00:00:00+00:00,not_supported,2026-01-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A\n\
alice,arn:aws:iam::111111111111:user/alice,2021-01-01T00:00:00+00:00,true,no_information,N/A,N/A,false,true,2021-02-01T00:00:00+00:00,N/A\n";
        let rows = parse_credential_report(csv);
        assert_eq!(rows.len(), 2);
        assert!(rows[0].is_root() && rows[0].mfa_active && !rows[0].access_key_1_active);
        assert_eq!(
            rows[0].password_last_used.as_deref(),
            Some("2026-01-01T00:00:00+00:00")
        );
        assert!(rows[1].password_enabled && rows[1].access_key_1_active);
        assert_eq!(rows[1].password_last_used, None);
        assert_eq!(
            rows[1].access_key_2_last_rotated, None,
            "missing column is empty"
        );
        assert!(parse_credential_report("").is_empty());
    }
}
