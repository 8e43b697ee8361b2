//! The checks: one per control, each with a reader for CloudFormation and one for Terraform
//! plans that produce the property the control judges — the same type the audit builds from a
//! live account where one exists (`rampart_snapshot::SgRule`, `PublicAccessBlock`,
//! `Ec2Instance`), judged by the audit's own function (`open_ports`, `all_on`, `imds_judge`,
//! `grants_full_admin`, the TLS-only proof, the access analysis).
//!
//! A property that cannot be known before deploy gives UNKNOWN at its position, never PASS.

use crate::model::{Deployment, Resource, Source};
use crate::node::Pos;
use crate::value::{Got, V, Val, boolean, integer, present, string, to_json};
use rampart_core::controls::network::{
    ADMIN_PORTS, IPV4_WORLD, IPV6_WORLD, imds_judge, open_ports,
};
use rampart_policy::access::{Outsider, ResourceKind, analyze_text};
use rampart_snapshot::{Ec2Instance, PublicAccessBlock, SgRule};
use std::collections::HashSet;

/// What a check says about one resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Pass(String),
    /// With the position of the offending property, when there is one.
    Fail(String, Option<Pos>),
    Unknown(String, Pos),
    /// The control does not apply to this resource (a bucket that is not a log bucket).
    Skip,
}

/// What the checks may know about where the deployment goes.
#[derive(Default)]
pub struct Env {
    /// The account deployed to, or the stand-in account `${AWS::AccountId}` resolves to.
    pub account: String,
    pub org_id: Option<String>,
    /// Accounts of the organization (from a snapshot): not "external".
    pub org_accounts: HashSet<String>,
    /// EBS encryption by default in the target account and region, when a snapshot says.
    pub ebs_default: Option<bool>,
    pub guardrails: Option<GuardrailEnv>,
}

/// The target account's SCP (and RCP) chain, for [`guardrail_impact`].
pub struct GuardrailEnv {
    pub guardrails: rampart_core::proof::Guardrails,
    /// The guardrails as one policy set (the caller's identity allowing everything), built once.
    set: rampart_policy::PolicySet,
    /// `--region`, when given: the region the deployment goes to (a plan's provider region
    /// otherwise).
    pub default_region: Option<String>,
    /// False for the management account, whose resources no RCP restricts.
    pub resource_in_member: bool,
    /// The role that deploys (`--deploy-role`), or a stand-in role of the account.
    pub principal: String,
}

impl GuardrailEnv {
    pub fn new(
        guardrails: rampart_core::proof::Guardrails,
        default_region: Option<String>,
        resource_in_member: bool,
        principal: String,
    ) -> GuardrailEnv {
        let set = rampart_policy::PolicySet {
            identity: vec![allow_all()],
            scps: Some(guardrails.scps.levels.clone()),
            rcps: guardrails
                .rcps
                .as_ref()
                .filter(|_| resource_in_member)
                .map(|c| c.levels.clone()),
            ..rampart_policy::PolicySet::default()
        };
        GuardrailEnv {
            guardrails,
            set,
            default_region,
            resource_in_member,
            principal,
        }
    }
}

pub struct Subject<'a> {
    pub dep: &'a Deployment,
    pub res: &'a Resource,
    pub env: &'a Env,
}

pub struct Check {
    pub control: &'static str,
    /// CloudFormation resource types read.
    pub cfn: &'static [&'static str],
    /// Terraform resource types read.
    pub tf: &'static [&'static str],
    pub judge: fn(&Subject<'_>) -> Verdict,
}

impl Check {
    pub fn applies(&self, source: Source, type_name: &str) -> bool {
        match source {
            Source::CloudFormation => self.cfn.contains(&type_name),
            Source::TerraformPlan => self.tf.contains(&type_name),
        }
    }
}

pub static CHECKS: &[Check] = &[
    Check {
        control: "cis-2.1.4",
        cfn: &["AWS::S3::Bucket"],
        tf: &[
            "aws_s3_bucket_public_access_block",
            "aws_s3_account_public_access_block",
        ],
        judge: block_public_access,
    },
    Check {
        control: "cis-2.1.1",
        cfn: &["AWS::S3::Bucket"],
        tf: &["aws_s3_bucket"],
        judge: tls_only,
    },
    Check {
        control: "iac-s3-kms-encryption",
        cfn: &["AWS::S3::Bucket"],
        tf: &["aws_s3_bucket"],
        judge: s3_kms,
    },
    Check {
        control: "base-log-archive-bucket",
        cfn: &["AWS::S3::Bucket"],
        tf: &["aws_s3_bucket"],
        judge: log_bucket,
    },
    Check {
        control: "cis-5.2",
        cfn: &["AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress"],
        tf: &[
            "aws_security_group",
            "aws_security_group_rule",
            "aws_vpc_security_group_ingress_rule",
        ],
        judge: sg_ipv4,
    },
    Check {
        control: "cis-5.3",
        cfn: &["AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress"],
        tf: &[
            "aws_security_group",
            "aws_security_group_rule",
            "aws_vpc_security_group_ingress_rule",
        ],
        judge: sg_ipv6,
    },
    Check {
        control: "cis-2.3.1",
        cfn: &["AWS::RDS::DBInstance", "AWS::RDS::DBCluster"],
        tf: &["aws_db_instance", "aws_rds_cluster"],
        judge: rds_encrypted,
    },
    Check {
        control: "cis-2.3.2",
        cfn: &["AWS::RDS::DBInstance"],
        tf: &["aws_db_instance"],
        judge: rds_minor_upgrade,
    },
    Check {
        control: "cis-2.3.3",
        cfn: &["AWS::RDS::DBInstance"],
        tf: &["aws_db_instance"],
        judge: rds_private,
    },
    Check {
        control: "cis-2.2.1",
        cfn: &[],
        tf: &["aws_ebs_encryption_by_default"],
        judge: ebs_default,
    },
    Check {
        control: "iac-ebs-volume-encryption",
        cfn: &[
            "AWS::EC2::Volume",
            "AWS::EC2::LaunchTemplate",
            "AWS::EC2::Instance",
        ],
        tf: &["aws_ebs_volume", "aws_launch_template", "aws_instance"],
        judge: ebs_volume,
    },
    Check {
        control: "cis-5.6",
        cfn: &["AWS::EC2::Instance", "AWS::EC2::LaunchTemplate"],
        tf: &["aws_instance", "aws_launch_template"],
        judge: imdsv2,
    },
    Check {
        control: "cis-3.6",
        cfn: &["AWS::KMS::Key"],
        tf: &["aws_kms_key"],
        judge: kms_rotation,
    },
    Check {
        control: "cis-3.1",
        cfn: &["AWS::CloudTrail::Trail"],
        tf: &["aws_cloudtrail"],
        judge: trail_multi_region,
    },
    Check {
        control: "cis-3.2",
        cfn: &["AWS::CloudTrail::Trail"],
        tf: &["aws_cloudtrail"],
        judge: trail_validation,
    },
    Check {
        control: "cis-3.5",
        cfn: &["AWS::CloudTrail::Trail"],
        tf: &["aws_cloudtrail"],
        judge: trail_kms,
    },
    Check {
        control: "cis-2.4.1",
        cfn: &["AWS::EFS::FileSystem"],
        tf: &["aws_efs_file_system"],
        judge: efs_encrypted,
    },
    Check {
        control: "cis-3.7",
        cfn: &["AWS::EC2::VPC"],
        tf: &["aws_vpc"],
        judge: flow_logs,
    },
    Check {
        control: "cis-1.16",
        cfn: IAM_POLICY_CFN,
        tf: IAM_POLICY_TF,
        judge: full_admin,
    },
    Check {
        control: "iac-iam-policy-lint",
        cfn: IAM_POLICY_CFN,
        tf: IAM_POLICY_TF,
        judge: policy_lint,
    },
    Check {
        control: "iac-iam-trust-exposure",
        cfn: &["AWS::IAM::Role"],
        tf: &["aws_iam_role"],
        judge: trust_exposure,
    },
    Check {
        control: "iac-resource-policy-exposure",
        cfn: &[
            "AWS::S3::BucketPolicy",
            "AWS::SQS::QueuePolicy",
            "AWS::SNS::TopicPolicy",
            "AWS::KMS::Key",
            "AWS::Lambda::Permission",
            "AWS::ECR::Repository",
            "AWS::SecretsManager::ResourcePolicy",
        ],
        tf: &[
            "aws_s3_bucket_policy",
            "aws_sqs_queue_policy",
            "aws_sns_topic_policy",
            "aws_kms_key",
            "aws_lambda_permission",
            "aws_ecr_repository_policy",
            "aws_secretsmanager_secret_policy",
        ],
        judge: resource_policy_exposure,
    },
    Check {
        control: "iac-guardrail-impact",
        cfn: crate::actions::CFN_TYPES,
        tf: crate::actions::TF_TYPES,
        judge: guardrail_impact,
    },
];

const IAM_POLICY_CFN: &[&str] = &[
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::IAM::Group",
];
const IAM_POLICY_TF: &[&str] = &[
    "aws_iam_policy",
    "aws_iam_role_policy",
    "aws_iam_user_policy",
    "aws_iam_group_policy",
    "aws_iam_role",
];

/// `let x = known!(got, "what")`: the value, `None` when absent, or return UNKNOWN.
macro_rules! known {
    ($got:expr, $what:expr) => {
        match $got {
            Got::Yes(v) => Some(v),
            Got::Absent => None,
            Got::Unknown { why, pos } => return Verdict::Unknown(format!("{}: {why}", $what), pos),
        }
    };
}

fn cfn(s: &Subject<'_>) -> bool {
    s.dep.source == Source::CloudFormation
}

fn pos_of(v: Option<&V>) -> Option<Pos> {
    v.map(|v| v.pos)
}

fn name(s: &Subject<'_>) -> String {
    format!("{} ({})", s.res.id, s.res.type_name)
}

/// A simple "this flag must be true" judgement.
fn flag(s: &Subject<'_>, path: &[&str], default: bool, pass: &str, fail: &str) -> Verdict {
    let v = s.res.prop(path);
    let on = known!(boolean(v), path.join(".")).unwrap_or(default);
    if on {
        Verdict::Pass(format!("{}: {pass}", s.res.id))
    } else {
        Verdict::Fail(format!("{}: {fail}", s.res.id), pos_of(v))
    }
}

// ------------------------------------------------------------------ S3

/// The bucket's name as other resources refer to it.
fn bucket_name(r: &Resource, source: Source) -> Option<String> {
    let key = if source == Source::CloudFormation {
        "BucketName"
    } else {
        "bucket"
    };
    match r.props.get(key).map(|v| &v.val) {
        Some(Val::Str(s) | Val::Symbol(s)) => Some(s.clone()),
        _ if source == Source::CloudFormation => Some(r.id.to_ascii_lowercase()),
        _ => None,
    }
}

/// Resources of `types` whose `prop` refers to `target` (by reference or by its name).
fn attached<'a>(s: &Subject<'a>, types: &[&str], prop: &str) -> Vec<&'a Resource> {
    let name = bucket_name(s.res, s.dep.source);
    s.dep
        .resources
        .iter()
        .filter(|r| types.contains(&r.type_name.as_str()))
        .filter(|r| {
            r.link(prop) == Some(s.res.id.as_str())
                || match (r.props.get(prop).map(|v| &v.val), &name) {
                    (Some(Val::Str(v)), Some(n)) => v == n || v.ends_with(&format!(":::{n}")),
                    _ => false,
                }
        })
        .collect()
}

fn block_public_access(s: &Subject<'_>) -> Verdict {
    let (cfg, keys) = if cfn(s) {
        match s.res.prop(&["PublicAccessBlockConfiguration"]) {
            // AWS turns all four settings on for every bucket created since April 2023.
            None => {
                return Verdict::Pass(format!(
                    "{}: no PublicAccessBlockConfiguration, so AWS's default for new buckets applies (all four settings on)",
                    s.res.id
                ));
            }
            Some(v) => (
                v,
                [
                    "BlockPublicAcls",
                    "IgnorePublicAcls",
                    "BlockPublicPolicy",
                    "RestrictPublicBuckets",
                ],
            ),
        }
    } else {
        (
            &s.res.props,
            [
                "block_public_acls",
                "ignore_public_acls",
                "block_public_policy",
                "restrict_public_buckets",
            ],
        )
    };
    let mut got = [false; 4];
    let mut off = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        got[i] = known!(boolean(cfg.get(k)), k).unwrap_or(false);
        if !got[i] {
            off.push((*k, cfg.get(k).map(|v| v.pos).or(Some(cfg.pos))));
        }
    }
    let pab = PublicAccessBlock {
        block_public_acls: got[0],
        ignore_public_acls: got[1],
        block_public_policy: got[2],
        restrict_public_buckets: got[3],
    };
    if pab.all_on() {
        Verdict::Pass(format!("{}: Block Public Access fully on", s.res.id))
    } else {
        let names: Vec<&str> = off.iter().map(|(k, _)| *k).collect();
        Verdict::Fail(
            format!(
                "{}: Block Public Access is not fully on ({} off)",
                s.res.id,
                names.join(", ")
            ),
            off.first().and_then(|(_, p)| *p),
        )
    }
}

/// Policy text from a property: a document written as a mapping, or a JSON string.
fn policy_text(v: &V, what: &str) -> Result<String, Verdict> {
    match &v.val {
        Val::Str(s) => Ok(s.clone()),
        Val::Map(_) | Val::List(_) => to_json(v)
            .map(|j| j.to_string())
            .map_err(|(why, pos)| Verdict::Unknown(format!("{what}: {why}"), pos)),
        Val::Unknown(why) => Err(Verdict::Unknown(format!("{what}: {why}"), v.pos)),
        _ => Err(Verdict::Unknown(
            format!("{what} is decided at deploy time"),
            v.pos,
        )),
    }
}

fn tls_only(s: &Subject<'_>) -> Verdict {
    let (types, prop, doc) = if cfn(s) {
        (&["AWS::S3::BucketPolicy"][..], "Bucket", "PolicyDocument")
    } else {
        (&["aws_s3_bucket_policy"][..], "bucket", "policy")
    };
    let name = bucket_name(s.res, s.dep.source).unwrap_or_else(|| s.res.id.clone());
    let policies = attached(s, types, prop);
    let Some(p) = policies.first() else {
        return Verdict::Fail(
            format!("{}: no bucket policy, so plain HTTP is allowed", s.res.id),
            None,
        );
    };
    let Some(v) = p.props.get(doc) else {
        return Verdict::Fail(
            format!("{}: bucket policy {} has no document", s.res.id, p.id),
            None,
        );
    };
    let text = match policy_text(v, &format!("policy of {}", p.id)) {
        Ok(t) => t,
        Err(v) => return v,
    };
    let policy = match rampart_policy::parse_policy(&text) {
        Ok(p) => p,
        Err(e) => {
            return Verdict::Fail(
                format!(
                    "{}: bucket policy {} is not a valid policy: {e}",
                    s.res.id, p.id
                ),
                Some(v.pos),
            );
        }
    };
    let proof = rampart_policy::proofs::insecure_transport_proof(
        Some(&policy),
        None,
        &name,
        &s.env.account,
    );
    if proof.proved() {
        Verdict::Pass(format!(
            "{}: bucket policy {} denies every request without TLS",
            s.res.id, p.id
        ))
    } else if !proof.complete && proof.denied {
        Verdict::Unknown(
            format!(
                "{}: bucket policy {} tests more combinations of condition values than the evaluator tries",
                s.res.id, p.id
            ),
            v.pos,
        )
    } else {
        let how = proof
            .counterexample
            .map(|c| format!(": {} is not denied", c.describe()))
            .unwrap_or_default();
        Verdict::Fail(
            format!(
                "{}: bucket policy {} does not deny all principals when aws:SecureTransport is false{how}",
                s.res.id, p.id
            ),
            Some(v.pos),
        )
    }
}

fn s3_kms(s: &Subject<'_>) -> Verdict {
    let rule = if cfn(s) {
        s.res
            .prop(&["BucketEncryption", "ServerSideEncryptionConfiguration"])
            .map(|v| (v, &["ServerSideEncryptionByDefault", "SSEAlgorithm"][..]))
    } else {
        let cfgs = attached(
            s,
            &["aws_s3_bucket_server_side_encryption_configuration"],
            "bucket",
        );
        cfgs.first()
            .and_then(|c| c.prop(&["rule"]))
            .or_else(|| {
                s.res
                    .prop(&["server_side_encryption_configuration", "rule"])
            })
            .map(|v| {
                (
                    v,
                    &["apply_server_side_encryption_by_default", "sse_algorithm"][..],
                )
            })
    };
    let Some((rules, path)) = rule else {
        return Verdict::Fail(
            format!(
                "{}: no default encryption configured, so new objects get SSE-S3, not a KMS key",
                s.res.id
            ),
            None,
        );
    };
    if let Some((why, pos)) = rules.first_unknown() {
        return Verdict::Unknown(format!("{}: default encryption: {why}", s.res.id), pos);
    }
    for r in rules.items() {
        let alg = r.at(path);
        match known!(string(alg), "SSEAlgorithm") {
            Some(a) if a.starts_with("aws:kms") => {
                return Verdict::Pass(format!("{}: default encryption is {a}", s.res.id));
            }
            Some(a) => {
                return Verdict::Fail(
                    format!("{}: default encryption is {a}, not a KMS key", s.res.id),
                    pos_of(alg),
                );
            }
            None => {}
        }
    }
    Verdict::Fail(
        format!("{}: the encryption rule names no algorithm", s.res.id),
        Some(rules.pos),
    )
}

/// Is this bucket a log destination (a trail's, another bucket's access logs, flow logs)?
fn log_role(s: &Subject<'_>) -> Option<String> {
    let (trail_types, trail_prop, logging) = if cfn(s) {
        (&["AWS::CloudTrail::Trail"][..], "S3BucketName", None)
    } else {
        (
            &["aws_cloudtrail"][..],
            "s3_bucket_name",
            Some(("aws_s3_bucket_logging", "target_bucket")),
        )
    };
    if let Some(t) = attached(s, trail_types, trail_prop).first() {
        return Some(format!("trail {} delivers to it", t.id));
    }
    if let Some((t, p)) = logging
        && let Some(l) = attached(s, &[t], p).first()
    {
        return Some(format!("{} sends access logs to it", l.id));
    }
    if cfn(s) {
        let name = bucket_name(s.res, s.dep.source);
        for r in s.dep.of_type(&["AWS::S3::Bucket"]) {
            let dest = r.prop(&["LoggingConfiguration", "DestinationBucketName"]);
            let hit = dest.is_some_and(|d| {
                d.target() == Some(s.res.id.as_str())
                    || matches!((&d.val, &name), (Val::Str(v), Some(n)) if v == n)
            });
            if hit && r.id != s.res.id {
                return Some(format!("bucket {} sends access logs to it", r.id));
            }
        }
    }
    None
}

fn log_bucket(s: &Subject<'_>) -> Verdict {
    let Some(role) = log_role(s) else {
        return Verdict::Skip;
    };
    let mut missing = Vec::new();
    let mut at = None;
    if cfn(s) {
        let v = s.res.prop(&["VersioningConfiguration", "Status"]);
        if known!(string(v), "VersioningConfiguration.Status").as_deref() != Some("Enabled") {
            missing.push("versioning");
            at = at.or(pos_of(v));
        }
        let v = s.res.prop(&["ObjectLockEnabled"]);
        if !known!(boolean(v), "ObjectLockEnabled").unwrap_or(false) {
            missing.push("object lock");
            at = at.or(pos_of(v));
        }
        if s.res.prop(&["LoggingConfiguration"]).is_none() {
            missing.push("access logging");
        }
    } else {
        let versioning = attached(s, &["aws_s3_bucket_versioning"], "bucket");
        let status = versioning
            .first()
            .and_then(|v| v.prop(&["versioning_configuration", "status"]));
        let legacy = s.res.prop(&["versioning", "enabled"]);
        let on = match (status, legacy) {
            (Some(st), _) => {
                known!(string(Some(st)), "versioning_configuration.status").as_deref()
                    == Some("Enabled")
            }
            (None, l) => known!(boolean(l), "versioning.enabled").unwrap_or(false),
        };
        if !on {
            missing.push("versioning");
            at = at.or(pos_of(status.or(legacy)));
        }
        let v = s.res.prop(&["object_lock_enabled"]);
        if !known!(boolean(v), "object_lock_enabled").unwrap_or(false) {
            missing.push("object lock");
            at = at.or(pos_of(v));
        }
        if attached(s, &["aws_s3_bucket_logging"], "bucket").is_empty()
            && s.res.prop(&["logging", "target_bucket"]).is_none()
        {
            missing.push("access logging");
        }
    }
    if missing.is_empty() {
        Verdict::Pass(format!(
            "{}: log bucket ({role}) is versioned, object-locked and access-logged",
            s.res.id
        ))
    } else {
        Verdict::Fail(
            format!(
                "{}: log bucket ({role}) lacks {}",
                s.res.id,
                missing.join(", ")
            ),
            at,
        )
    }
}

// ------------------------------------------------------------------ security groups

/// The ingress rules of a group or a stand-alone rule resource, as the audit's `SgRule`s.
fn ingress_rules(s: &Subject<'_>) -> Result<Vec<(SgRule, Pos)>, Verdict> {
    let r = s.res;
    let one = |v: &V,
               proto: &str,
               from: &str,
               to: &str,
               v4: &str,
               v6: &str|
     -> Result<(SgRule, Pos), Verdict> {
        let what = |k: &str| format!("{}.{k}", r.id);
        let get = |k: &str| -> Result<Option<String>, Verdict> {
            match string(v.get(k)) {
                Got::Yes(x) => Ok(Some(x)),
                Got::Absent => Ok(None),
                Got::Unknown { why, pos } => {
                    Err(Verdict::Unknown(format!("{}: {why}", what(k)), pos))
                }
            }
        };
        let list = |k: &str| -> Result<Vec<String>, Verdict> {
            let Some(x) = v.get(k) else {
                return Ok(Vec::new());
            };
            x.items()
                .iter()
                .map(|i| match string(Some(i)) {
                    Got::Yes(s) => Ok(Some(s)),
                    Got::Absent => Ok(None),
                    Got::Unknown { why, pos } => {
                        Err(Verdict::Unknown(format!("{}: {why}", what(k)), pos))
                    }
                })
                .filter_map(Result::transpose)
                .collect()
        };
        let port = |k: &str| -> Result<Option<i32>, Verdict> {
            match integer(v.get(k)) {
                Got::Yes(n) => Ok(Some(n as i32)),
                Got::Absent => Ok(None),
                Got::Unknown { why, pos } => {
                    Err(Verdict::Unknown(format!("{}: {why}", what(k)), pos))
                }
            }
        };
        let mut from_port = port(from)?;
        let mut to_port = port(to)?;
        // -1 in a port field means "all" for ICMP and for protocol -1.
        if from_port == Some(-1) {
            from_port = None;
        }
        if to_port == Some(-1) {
            to_port = None;
        }
        Ok((
            SgRule {
                ip_protocol: get(proto)?
                    .unwrap_or_else(|| "-1".into())
                    .to_ascii_lowercase(),
                from_port,
                to_port,
                ipv4_ranges: list(v4)?,
                ipv6_ranges: list(v6)?,
                ..SgRule::default()
            },
            v.pos,
        ))
    };
    let cfn_keys = ("IpProtocol", "FromPort", "ToPort", "CidrIp", "CidrIpv6");
    match r.type_name.as_str() {
        "AWS::EC2::SecurityGroup" => match r.props.get("SecurityGroupIngress") {
            None => Ok(Vec::new()),
            Some(v) if v.is_unknown() => Err(Verdict::Unknown(
                format!(
                    "{}.SecurityGroupIngress: {}",
                    r.id,
                    v.first_unknown().map(|u| u.0).unwrap_or("")
                ),
                v.pos,
            )),
            Some(v) => v
                .items()
                .iter()
                .map(|i| {
                    one(
                        i, cfn_keys.0, cfn_keys.1, cfn_keys.2, cfn_keys.3, cfn_keys.4,
                    )
                })
                .collect(),
        },
        "AWS::EC2::SecurityGroupIngress" => Ok(vec![one(
            &r.props, cfn_keys.0, cfn_keys.1, cfn_keys.2, cfn_keys.3, cfn_keys.4,
        )?]),
        "aws_security_group" => match r.props.get("ingress") {
            None => Ok(Vec::new()),
            Some(v) if v.is_unknown() => Err(Verdict::Unknown(
                format!("{}.ingress: known after apply", r.id),
                v.pos,
            )),
            Some(v) => v
                .items()
                .iter()
                .map(|i| {
                    one(
                        i,
                        "protocol",
                        "from_port",
                        "to_port",
                        "cidr_blocks",
                        "ipv6_cidr_blocks",
                    )
                })
                .collect(),
        },
        "aws_security_group_rule" => {
            if known_or(string(r.props.get("type")), "type", &r.id)?.as_deref() != Some("ingress") {
                return Ok(Vec::new());
            }
            Ok(vec![one(
                &r.props,
                "protocol",
                "from_port",
                "to_port",
                "cidr_blocks",
                "ipv6_cidr_blocks",
            )?])
        }
        "aws_vpc_security_group_ingress_rule" => Ok(vec![one(
            &r.props,
            "ip_protocol",
            "from_port",
            "to_port",
            "cidr_ipv4",
            "cidr_ipv6",
        )?]),
        _ => Ok(Vec::new()),
    }
}

fn known_or<T>(g: Got<T>, what: &str, id: &str) -> Result<Option<T>, Verdict> {
    match g {
        Got::Yes(v) => Ok(Some(v)),
        Got::Absent => Ok(None),
        Got::Unknown { why, pos } => Err(Verdict::Unknown(format!("{id}.{what}: {why}"), pos)),
    }
}

fn sg_world(s: &Subject<'_>, world: &str) -> Verdict {
    let rules = match ingress_rules(s) {
        Ok(r) => r,
        Err(v) => return v,
    };
    for (rule, pos) in &rules {
        let open = open_ports(std::slice::from_ref(rule), ADMIN_PORTS, world);
        if !open.is_empty() {
            let ports: Vec<String> = open.iter().map(i32::to_string).collect();
            return Verdict::Fail(
                format!(
                    "{}: admits {world} to port(s) {}",
                    s.res.id,
                    ports.join(", ")
                ),
                Some(*pos),
            );
        }
    }
    Verdict::Pass(format!(
        "{}: admits nothing from {world} to 22/3389",
        s.res.id
    ))
}

fn sg_ipv4(s: &Subject<'_>) -> Verdict {
    sg_world(s, IPV4_WORLD)
}

fn sg_ipv6(s: &Subject<'_>) -> Verdict {
    sg_world(s, IPV6_WORLD)
}

// ------------------------------------------------------------------ RDS, EBS, EFS

fn rds_encrypted(s: &Subject<'_>) -> Verdict {
    if cfn(s) {
        // An Aurora instance's storage is its cluster's: judged on the DBCluster.
        if s.res.type_name == "AWS::RDS::DBInstance"
            && s.res.prop(&["DBClusterIdentifier"]).is_some()
        {
            return Verdict::Skip;
        }
        flag(
            s,
            &["StorageEncrypted"],
            false,
            "storage is encrypted",
            "storage is NOT encrypted (StorageEncrypted is not true)",
        )
    } else {
        if s.res.type_name == "aws_db_instance"
            && matches!(string(s.res.prop(&["cluster_identifier"])), Got::Yes(c) if !c.is_empty())
        {
            return Verdict::Skip;
        }
        flag(
            s,
            &["storage_encrypted"],
            false,
            "storage is encrypted",
            "storage is NOT encrypted",
        )
    }
}

fn rds_minor_upgrade(s: &Subject<'_>) -> Verdict {
    let key = if cfn(s) {
        "AutoMinorVersionUpgrade"
    } else {
        "auto_minor_version_upgrade"
    };
    flag(
        s,
        &[key],
        true,
        "auto minor version upgrade is on",
        "auto minor version upgrade is off",
    )
}

fn rds_private(s: &Subject<'_>) -> Verdict {
    let key = if cfn(s) {
        "PubliclyAccessible"
    } else {
        "publicly_accessible"
    };
    let v = s.res.prop(&[key]);
    // Without a subnet group the instance lands in the default VPC, where AWS makes it public.
    let default = cfn(s) && s.res.prop(&["DBSubnetGroupName"]).is_none();
    let public = known!(boolean(v), key).unwrap_or(default);
    if public {
        let why = if v.is_none() {
            " (no PubliclyAccessible and no DBSubnetGroupName: public by default)"
        } else {
            ""
        };
        Verdict::Fail(
            format!("{}: is publicly accessible{why}", s.res.id),
            pos_of(v),
        )
    } else {
        Verdict::Pass(format!("{}: not publicly accessible", s.res.id))
    }
}

fn ebs_default(s: &Subject<'_>) -> Verdict {
    flag(
        s,
        &["enabled"],
        true,
        "EBS encryption by default is on",
        "EBS encryption by default is off",
    )
}

/// Every block device the resource declares: `(encrypted flag, where)`.
fn block_devices<'a>(s: &Subject<'a>) -> Vec<(Option<&'a V>, Pos)> {
    let r = s.res;
    let mut out = Vec::new();
    let mut each = |list: Option<&'a V>, path: &[&str]| {
        if let Some(list) = list {
            for d in list.items() {
                // Device mappings that are not EBS (instance store, NoDevice) have nothing to encrypt.
                if cfn(s) && d.get("Ebs").is_none() {
                    continue;
                }
                out.push((d.at(path), d.pos));
            }
        }
    };
    match r.type_name.as_str() {
        "AWS::EC2::Volume" | "aws_ebs_volume" => {
            let k = if cfn(s) { "Encrypted" } else { "encrypted" };
            out.push((r.props.get(k), r.pos));
        }
        "AWS::EC2::LaunchTemplate" => each(
            r.prop(&["LaunchTemplateData", "BlockDeviceMappings"]),
            &["Ebs", "Encrypted"],
        ),
        "AWS::EC2::Instance" => each(r.props.get("BlockDeviceMappings"), &["Ebs", "Encrypted"]),
        "aws_launch_template" => each(r.props.get("block_device_mappings"), &["ebs", "encrypted"]),
        "aws_instance" => {
            each(r.props.get("root_block_device"), &["encrypted"]);
            each(r.props.get("ebs_block_device"), &["encrypted"]);
        }
        _ => {}
    }
    out
}

fn ebs_volume(s: &Subject<'_>) -> Verdict {
    let devices = block_devices(s);
    if devices.is_empty() {
        return Verdict::Skip;
    }
    let mut plain = Vec::new();
    for (flag, pos) in &devices {
        match known!(boolean(*flag), format!("{}: Encrypted", s.res.id)) {
            Some(true) => {}
            Some(false) => plain.push(flag.map_or(*pos, |f| f.pos)),
            // Not set: encrypted only if the account's default encryption is on.
            None => match s.env.ebs_default {
                Some(true) => {}
                _ => plain.push(*pos),
            },
        }
    }
    if plain.is_empty() {
        let credit = if devices.iter().any(|(f, _)| f.is_none()) {
            " (unset devices credited to the account's EBS default encryption)"
        } else {
            ""
        };
        Verdict::Pass(format!(
            "{}: every EBS volume is encrypted{credit}",
            s.res.id
        ))
    } else {
        let note = match s.env.ebs_default {
            Some(false) => " (and EBS default encryption is off in the target account)",
            _ => "",
        };
        Verdict::Fail(
            format!(
                "{}: {} of {} EBS volume(s) not set to encrypted{note}",
                s.res.id,
                plain.len(),
                devices.len()
            ),
            plain.first().copied(),
        )
    }
}

fn imdsv2(s: &Subject<'_>) -> Verdict {
    let r = s.res;
    let (opts, tokens, endpoint) = match r.type_name.as_str() {
        "AWS::EC2::LaunchTemplate" => (
            r.prop(&["LaunchTemplateData", "MetadataOptions"]),
            "HttpTokens",
            "HttpEndpoint",
        ),
        "AWS::EC2::Instance" => {
            // CloudFormation instances take metadata options from a launch template only.
            let Some(lt) = r.props.get("LaunchTemplate") else {
                return Verdict::Fail(
                    format!(
                        "{}: no launch template with MetadataOptions, so IMDSv1 stays allowed (unless the AMI or the account default requires IMDSv2)",
                        r.id
                    ),
                    None,
                );
            };
            let target = lt
                .get("LaunchTemplateId")
                .or(lt.get("LaunchTemplateName"))
                .and_then(V::target);
            return match target.and_then(|t| s.dep.resource(t)) {
                Some(t) => {
                    let sub = Subject {
                        dep: s.dep,
                        res: t,
                        env: s.env,
                    };
                    match imdsv2(&sub) {
                        Verdict::Pass(m) => {
                            Verdict::Pass(format!("{}: through launch template {m}", r.id))
                        }
                        Verdict::Fail(m, p) => {
                            Verdict::Fail(format!("{}: through launch template {m}", r.id), p)
                        }
                        v => v,
                    }
                }
                None => Verdict::Unknown(
                    format!("{}: launch template is defined outside this template", r.id),
                    lt.pos,
                ),
            };
        }
        _ => (
            r.prop(&["metadata_options"]),
            "http_tokens",
            "http_endpoint",
        ),
    };
    let t = opts.and_then(|o| o.get(tokens));
    let e = opts.and_then(|o| o.get(endpoint));
    let inst = Ec2Instance {
        http_tokens: known!(string(t), tokens),
        http_endpoint: known!(string(e), endpoint),
        ..Ec2Instance::default()
    };
    match imds_judge(&inst) {
        Ok(why) => Verdict::Pass(format!("{}: {why}", r.id)),
        Err(why) => Verdict::Fail(
            format!("{}: {why} ({tokens} is not `required`)", r.id),
            pos_of(t.or(opts)),
        ),
    }
}

fn kms_rotation(s: &Subject<'_>) -> Verdict {
    let (spec_key, usage_key, rot) = if cfn(s) {
        ("KeySpec", "KeyUsage", "EnableKeyRotation")
    } else {
        (
            "customer_master_key_spec",
            "key_usage",
            "enable_key_rotation",
        )
    };
    let spec = known!(string(s.res.prop(&[spec_key])), spec_key)
        .unwrap_or_else(|| "SYMMETRIC_DEFAULT".into());
    let usage = known!(string(s.res.prop(&[usage_key])), usage_key)
        .unwrap_or_else(|| "ENCRYPT_DECRYPT".into());
    if spec != "SYMMETRIC_DEFAULT" || usage != "ENCRYPT_DECRYPT" {
        return Verdict::Skip;
    }
    flag(s, &[rot], false, "rotates automatically", "does not rotate")
}

fn efs_encrypted(s: &Subject<'_>) -> Verdict {
    let k = if cfn(s) { "Encrypted" } else { "encrypted" };
    flag(s, &[k], false, "is encrypted", "is NOT encrypted")
}

// ------------------------------------------------------------------ CloudTrail, VPC

fn trail_multi_region(s: &Subject<'_>) -> Verdict {
    let (multi, logging) = if cfn(s) {
        ("IsMultiRegionTrail", "IsLogging")
    } else {
        ("is_multi_region_trail", "enable_logging")
    };
    let m = s.res.prop(&[multi]);
    let l = s.res.prop(&[logging]);
    let is_multi = known!(boolean(m), multi).unwrap_or(false);
    let is_logging = known!(boolean(l), logging).unwrap_or(!cfn(s));
    match (is_multi, is_logging) {
        (true, true) => Verdict::Pass(format!("{}: multi-region trail, logging", s.res.id)),
        (false, _) => Verdict::Fail(format!("{}: not a multi-region trail", s.res.id), pos_of(m)),
        (true, false) => Verdict::Fail(format!("{}: trail is not logging", s.res.id), pos_of(l)),
    }
}

fn trail_validation(s: &Subject<'_>) -> Verdict {
    let k = if cfn(s) {
        "EnableLogFileValidation"
    } else {
        "enable_log_file_validation"
    };
    flag(
        s,
        &[k],
        false,
        "log file validation is on",
        "log file validation is off",
    )
}

fn trail_kms(s: &Subject<'_>) -> Verdict {
    let k = if cfn(s) { "KMSKeyId" } else { "kms_key_id" };
    let v = s.res.prop(&[k]);
    if known!(present(v), k).unwrap_or(false) {
        Verdict::Pass(format!("{}: logs are encrypted with a KMS key", s.res.id))
    } else {
        Verdict::Fail(
            format!(
                "{}: no {k}, so logs are encrypted with SSE-S3 only",
                s.res.id
            ),
            pos_of(v),
        )
    }
}

fn flow_logs(s: &Subject<'_>) -> Verdict {
    let found = if cfn(s) {
        s.dep.of_type(&["AWS::EC2::FlowLog"]).find(|f| {
            f.link("ResourceId") == Some(s.res.id.as_str())
                || f.props.get("ResourceIds").is_some_and(|ids| {
                    ids.items()
                        .iter()
                        .any(|i| i.target() == Some(s.res.id.as_str()))
                })
        })
    } else {
        s.dep
            .of_type(&["aws_flow_log"])
            .find(|f| f.link("vpc_id") == Some(s.res.id.as_str()))
    };
    match found {
        Some(f) => Verdict::Pass(format!(
            "{}: flow log {} records its traffic",
            s.res.id, f.id
        )),
        None => Verdict::Fail(
            format!(
                "{}: no flow log in this deployment records the VPC's traffic",
                s.res.id
            ),
            None,
        ),
    }
}

// ------------------------------------------------------------------ IAM and resource policies

/// Identity policy documents a resource carries: `(label, text or UNKNOWN, position)`.
fn identity_policies(s: &Subject<'_>) -> Vec<(String, Result<String, Verdict>, Pos)> {
    let r = s.res;
    let mut out = Vec::new();
    let mut add = |label: String, v: &V| out.push((label.clone(), policy_text(v, &label), v.pos));
    match r.type_name.as_str() {
        "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => {
            if let Some(d) = r.props.get("PolicyDocument") {
                add(format!("{} policy", r.id), d);
            }
        }
        "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::Group" => {
            for p in r.props.get("Policies").map(V::items).unwrap_or(&[]) {
                if let Some(d) = p.get("PolicyDocument") {
                    let name = match &p.get("PolicyName").map(|n| &n.val) {
                        Some(Val::Str(n)) => n.clone(),
                        _ => "inline".into(),
                    };
                    add(format!("{} inline policy {name}", r.id), d);
                }
            }
        }
        "aws_iam_role" => {
            for p in r.props.get("inline_policy").map(V::items).unwrap_or(&[]) {
                if let Some(d) = p.get("policy") {
                    add(format!("{} inline policy", r.id), d);
                }
            }
        }
        _ => {
            if let Some(d) = r.props.get("policy") {
                add(format!("{} policy", r.id), d);
            }
        }
    }
    out
}

fn full_admin(s: &Subject<'_>) -> Verdict {
    let docs = identity_policies(s);
    if docs.is_empty() {
        return Verdict::Skip;
    }
    for (label, text, pos) in docs {
        let text = match text {
            Ok(t) => t,
            Err(v) => return v,
        };
        match rampart_core::controls::iam_policies::grants_full_admin(&text) {
            Ok(true) => return Verdict::Fail(format!("{label} allows \"*\" on \"*\""), Some(pos)),
            Ok(false) => {}
            Err(e) => return Verdict::Fail(format!("{label} is not valid JSON: {e}"), Some(pos)),
        }
    }
    Verdict::Pass(format!(
        "{}: no policy grants full administrative access",
        s.res.id
    ))
}

fn policy_lint(s: &Subject<'_>) -> Verdict {
    let docs = identity_policies(s);
    if docs.is_empty() {
        return Verdict::Skip;
    }
    for (label, text, pos) in docs {
        let text = match text {
            Ok(t) => t,
            Err(v) => return v,
        };
        let errors: Vec<String> =
            rampart_policy::lint::lint(&text, rampart_policy::lint::PolicyKind::Identity)
                .into_iter()
                .filter(|f| f.severity == rampart_policy::lint::Severity::Error)
                .map(|f| format!("{} {}", f.code, f.message))
                .collect();
        if !errors.is_empty() {
            return Verdict::Fail(format!("{label}: {}", errors.join("; ")), Some(pos));
        }
    }
    Verdict::Pass(format!("{}: policies lint clean", s.res.id))
}

fn describe(who: &Outsider) -> String {
    match who {
        Outsider::Public => "anyone (public)".into(),
        Outsider::AnyAccount => "any AWS account".into(),
        Outsider::Account(a) => format!("account {a}"),
        Outsider::SameOrganization(a) => format!("organization member {a}"),
        Outsider::Organization(o) => format!("organization {o}"),
        Outsider::Service(p) => format!("{p} acting for other accounts"),
        Outsider::Federated(f) => format!("federated identities of {f}"),
    }
}

/// Who outside the organization the policy lets in (empty: nobody), or a verdict when that
/// cannot be decided.
fn outsiders(
    text: &str,
    kind: ResourceKind,
    env: &Env,
    label: &str,
    pos: Pos,
) -> Result<Vec<String>, Verdict> {
    let report = analyze_text(text, kind, &env.account, env.org_id.as_deref())
        .map_err(|e| Verdict::Fail(format!("{label} is not a valid policy: {e}"), Some(pos)))?;
    let who: Vec<String> = report
        .findings
        .iter()
        .filter(|f| match &f.who {
            Outsider::SameOrganization(_) => false,
            Outsider::Account(a) => !env.org_accounts.contains(a) && a != &env.account,
            // A service principal in a trust policy is how services use a role.
            Outsider::Service(_) => kind != ResourceKind::Trust,
            _ => true,
        })
        .map(|f| {
            let actions = f
                .actions
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            format!("{} ({actions})", describe(&f.who))
        })
        .collect();
    if who.is_empty() && !report.complete {
        return Err(Verdict::Unknown(
            format!("{label}: the access analysis exceeded its budget; no proof either way"),
            pos,
        ));
    }
    Ok(who)
}

fn trust_exposure(s: &Subject<'_>) -> Verdict {
    let k = if cfn(s) {
        "AssumeRolePolicyDocument"
    } else {
        "assume_role_policy"
    };
    let Some(v) = s.res.props.get(k) else {
        return Verdict::Skip;
    };
    let label = format!("{} trust policy", s.res.id);
    let text = match policy_text(v, &label) {
        Ok(t) => t,
        Err(v) => return v,
    };
    match outsiders(&text, ResourceKind::Trust, s.env, &label, v.pos) {
        Ok(who) if who.is_empty() => {
            Verdict::Pass(format!("{label} trusts only this organization"))
        }
        Ok(who) => Verdict::Fail(
            format!("{label} lets {} assume the role", who.join("; ")),
            Some(v.pos),
        ),
        Err(v) => v,
    }
}

/// A Lambda permission as the resource-policy statement AWS adds for it.
fn lambda_statement(s: &Subject<'_>) -> Result<(String, Pos), Verdict> {
    let r = s.res;
    let keys: [&str; 6] = if cfn(s) {
        [
            "Principal",
            "Action",
            "FunctionName",
            "SourceAccount",
            "SourceArn",
            "PrincipalOrgID",
        ]
    } else {
        [
            "principal",
            "action",
            "function_name",
            "source_account",
            "source_arn",
            "principal_org_id",
        ]
    };
    let text = |k: &str| -> Result<Option<String>, Verdict> {
        match r.props.get(k).map(|v| (&v.val, v.pos)) {
            None | Some((Val::Null, _)) => Ok(None),
            Some((Val::Str(x) | Val::Symbol(x), _)) => Ok(Some(x.clone())),
            Some((Val::Ref { text, .. }, _)) => Ok(Some(text.clone())),
            Some((Val::Unknown(why), pos)) => {
                Err(Verdict::Unknown(format!("{}.{k}: {why}", r.id), pos))
            }
            Some((_, pos)) => Err(Verdict::Unknown(format!("{}.{k}: not a string", r.id), pos)),
        }
    };
    let Some(principal) = text(keys[0])? else {
        return Err(Verdict::Skip);
    };
    let action = text(keys[1])?.unwrap_or_else(|| "lambda:InvokeFunction".into());
    let function = text(keys[2])?.unwrap_or_else(|| "function".into());
    let arn = if function.starts_with("arn:") {
        function
    } else {
        format!(
            "arn:aws:lambda:us-east-1:{}:function:{function}",
            s.env.account
        )
    };
    let principal = if principal == "*" {
        serde_json::json!("*")
    } else if principal.ends_with(".amazonaws.com") || principal.ends_with(".amazonaws.com.cn") {
        serde_json::json!({"Service": principal})
    } else {
        serde_json::json!({"AWS": principal})
    };
    let mut cond = serde_json::Map::new();
    if let Some(a) = text(keys[3])? {
        cond.insert(
            "StringEquals".into(),
            serde_json::json!({"aws:SourceAccount": a}),
        );
    }
    if let Some(a) = text(keys[4])? {
        cond.insert("ArnLike".into(), serde_json::json!({"aws:SourceArn": a}));
    }
    if let Some(o) = text(keys[5])? {
        let e = cond
            .entry("StringEquals")
            .or_insert_with(|| serde_json::json!({}));
        e["aws:PrincipalOrgID"] = serde_json::json!(o);
    }
    let mut st = serde_json::json!({"Effect": "Allow", "Principal": principal, "Action": action, "Resource": arn});
    if !cond.is_empty() {
        st["Condition"] = serde_json::Value::Object(cond);
    }
    Ok((
        serde_json::json!({"Version": "2012-10-17", "Statement": [st]}).to_string(),
        r.pos,
    ))
}

fn resource_policy_exposure(s: &Subject<'_>) -> Verdict {
    let r = s.res;
    let (kind, key) = match r.type_name.as_str() {
        "AWS::S3::BucketPolicy" => (ResourceKind::S3, "PolicyDocument"),
        "AWS::SQS::QueuePolicy" => (ResourceKind::Sqs, "PolicyDocument"),
        "AWS::SNS::TopicPolicy" => (ResourceKind::Sns, "PolicyDocument"),
        "AWS::KMS::Key" => (ResourceKind::Kms, "KeyPolicy"),
        "AWS::ECR::Repository" => (ResourceKind::Ecr, "RepositoryPolicyText"),
        "AWS::SecretsManager::ResourcePolicy" => (ResourceKind::SecretsManager, "ResourcePolicy"),
        "aws_s3_bucket_policy" => (ResourceKind::S3, "policy"),
        "aws_sqs_queue_policy" => (ResourceKind::Sqs, "policy"),
        "aws_sns_topic_policy" => (ResourceKind::Sns, "policy"),
        "aws_kms_key" => (ResourceKind::Kms, "policy"),
        "aws_ecr_repository_policy" => (ResourceKind::Ecr, "policy"),
        "aws_secretsmanager_secret_policy" => (ResourceKind::SecretsManager, "policy"),
        _ => (ResourceKind::Lambda, ""),
    };
    let label = format!("{} policy", r.id);
    let (text, pos) = if kind == ResourceKind::Lambda {
        match lambda_statement(s) {
            Ok(x) => x,
            Err(v) => return v,
        }
    } else {
        let Some(v) = r.props.get(key) else {
            return Verdict::Skip;
        };
        // No policy written: AWS's default (a KMS key's grants its own account only).
        if matches!(&v.val, Val::Unknown(why) if why == crate::value::PROVIDER_DEFAULT) {
            return Verdict::Skip;
        }
        match policy_text(v, &label) {
            Ok(t) => (t, v.pos),
            Err(v) => return v,
        }
    };
    match outsiders(&text, kind, s.env, &label, pos) {
        Ok(who) if who.is_empty() => {
            Verdict::Pass(format!("{label} grants nothing outside the organization"))
        }
        Ok(who) => Verdict::Fail(format!("{label} grants {}", who.join("; ")), Some(pos)),
        Err(v) => v,
    }
}

// ------------------------------------------------------------------ guardrails

fn guardrail_impact(s: &Subject<'_>) -> Verdict {
    let Some(g) = &s.env.guardrails else {
        return Verdict::Skip;
    };
    let actions = crate::actions::implied(s.dep.source, &s.res.type_name);
    if actions.is_empty() {
        return Verdict::Skip;
    }
    let Some(region) = s.dep.region.clone().or_else(|| g.default_region.clone()) else {
        return Verdict::Unknown(
            format!(
                "{}: the region is not known (pass --region), so the guardrails cannot be asked",
                s.res.id
            ),
            s.res.pos,
        );
    };
    let mut denied = Vec::new();
    for action in actions {
        let mut context = std::collections::BTreeMap::new();
        context.insert(
            "aws:RequestedRegion".to_string(),
            rampart_policy::ContextValue::String(region.clone()),
        );
        let req = rampart_policy::Request {
            action: action.to_string(),
            resource: "*".into(),
            resource_account: Some(s.env.account.clone()),
            principal: Some(g.principal.clone()),
            context,
            ..rampart_policy::Request::default()
        };
        let e = rampart_policy::evaluate(&req, &g.set);
        if e.decision != rampart_policy::Decision::Allowed {
            let why = rampart_core::proof::explain(
                Some(&g.guardrails.scps),
                g.guardrails.rcps.as_ref(),
                &e,
            );
            denied.push(format!("{action} in {region}: {why}"));
        }
    }
    if denied.is_empty() {
        Verdict::Pass(format!(
            "{}: the guardrails allow {}",
            name(s),
            actions.join(", ")
        ))
    } else {
        Verdict::Fail(
            format!("{}: the deploy will fail: {}", name(s), denied.join("; ")),
            None,
        )
    }
}

fn allow_all() -> rampart_policy::Policy {
    static P: std::sync::OnceLock<rampart_policy::Policy> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        rampart_policy::parse_policy(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
            .unwrap_or_else(|_| unreachable!("constant policy parses"))
    })
    .clone()
}
