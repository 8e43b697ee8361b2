//! Resource control policies (RCPs) from named blocks: the organization's data perimeter.
//!
//! An SCP limits what our principals may do; an RCP limits what anyone may do to our resources,
//! outsiders included. The `perimeter-*` blocks deny access to one service's resources by
//! principals outside the organization, with the published data-perimeter exceptions: AWS
//! services acting for an account of the organization (`aws:SourceOrgID`), configured trusted
//! accounts, and resources tagged `dp:exclude:identity = true`. `require-tls` denies every
//! request to those services made without TLS. The chosen perimeter blocks share two statements
//! (their actions merged); the result is packed within the RCP quotas like the SCPs.
//!
//! RCP syntax rules (enforced by construction and checked with the linter in the tests): only
//! `Deny`, `"Principal": "*"`, no `NotPrincipal`/`NotAction`, only services that support RCPs.

use crate::guardrails::{GuardrailError, document, pack_first_fit};
use rampart_policy::proofs::rcp_chain;
use rampart_policy::{CompiledPolicySet, ContextValue, Decision, OrgLevel, Request, parse_policy};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt;

/// Organizations' size quota for one RCP document (characters).
pub const RCP_MAX_CHARS: usize = 5120;
/// RCPs one target can carry besides `RCPFullAWSAccess`.
pub const RCPS_PER_TARGET: usize = 4;
/// The AWS-managed RCP AWS attaches to every root, OU and account when RCPs are enabled.
pub const RCP_FULL_AWS_ACCESS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;
/// The resource tag that lifts the perimeter for one resource (the published convention).
pub const EXCLUDE_TAG: &str = "aws:ResourceTag/dp:exclude:identity";

/// A named RCP block (the names are what `rampart.toml` uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RcpBlock {
    PerimeterS3,
    PerimeterKms,
    PerimeterSqs,
    PerimeterSecretsManager,
    PerimeterSts,
    /// Deny requests made without TLS to every perimeter service.
    RequireTls,
}

impl RcpBlock {
    pub const ALL: [RcpBlock; 6] = [
        RcpBlock::PerimeterS3,
        RcpBlock::PerimeterKms,
        RcpBlock::PerimeterSqs,
        RcpBlock::PerimeterSecretsManager,
        RcpBlock::PerimeterSts,
        RcpBlock::RequireTls,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RcpBlock::PerimeterS3 => "perimeter-s3",
            RcpBlock::PerimeterKms => "perimeter-kms",
            RcpBlock::PerimeterSqs => "perimeter-sqs",
            RcpBlock::PerimeterSecretsManager => "perimeter-secretsmanager",
            RcpBlock::PerimeterSts => "perimeter-sts",
            RcpBlock::RequireTls => "require-tls",
        }
    }

    pub fn parse(name: &str) -> Option<RcpBlock> {
        RcpBlock::ALL.into_iter().find(|b| b.name() == name)
    }

    /// One line for the plan and the docs.
    pub fn summary(self) -> &'static str {
        match self {
            RcpBlock::PerimeterS3 => {
                "S3 buckets and objects only for principals of the organization"
            }
            RcpBlock::PerimeterKms => "KMS keys only for principals of the organization",
            RcpBlock::PerimeterSqs => "SQS queues only for principals of the organization",
            RcpBlock::PerimeterSecretsManager => {
                "Secrets Manager secrets only for principals of the organization"
            }
            RcpBlock::PerimeterSts => "roles can be assumed only by principals of the organization",
            RcpBlock::RequireTls => {
                "no request without TLS to S3, KMS, SQS, Secrets Manager or STS"
            }
        }
    }

    /// The service prefix a perimeter block covers (`None` for `require-tls`).
    pub fn service(self) -> Option<&'static str> {
        Some(match self {
            RcpBlock::PerimeterS3 => "s3",
            RcpBlock::PerimeterKms => "kms",
            RcpBlock::PerimeterSqs => "sqs",
            RcpBlock::PerimeterSecretsManager => "secretsmanager",
            RcpBlock::PerimeterSts => "sts",
            RcpBlock::RequireTls => return None,
        })
    }

    /// Actions denied to outside principals. STS leaves out the web-identity and SAML
    /// federation calls: their callers are never principals of any organization.
    fn identity_actions(self) -> &'static [&'static str] {
        match self {
            RcpBlock::PerimeterS3 => &["s3:*"],
            RcpBlock::PerimeterKms => &["kms:*"],
            RcpBlock::PerimeterSqs => &["sqs:*"],
            RcpBlock::PerimeterSecretsManager => &["secretsmanager:*"],
            RcpBlock::PerimeterSts => &[
                "sts:AssumeRole",
                "sts:DecodeAuthorizationMessage",
                "sts:GetAccessKeyInfo",
                "sts:GetFederationToken",
                "sts:GetServiceBearerToken",
                "sts:GetSessionToken",
                "sts:SetContext",
            ],
            RcpBlock::RequireTls => &[],
        }
    }

    /// A request the proofs make for the block: action and a resource of `account`.
    fn probe(self, account: &str) -> Option<(&'static str, String)> {
        Some(match self {
            RcpBlock::PerimeterS3 => ("s3:GetObject", "arn:aws:s3:::rampart-probe/key".into()),
            RcpBlock::PerimeterKms => (
                "kms:Decrypt",
                format!("arn:aws:kms:us-east-1:{account}:key/0b0e1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d"),
            ),
            RcpBlock::PerimeterSqs => (
                "sqs:SendMessage",
                format!("arn:aws:sqs:us-east-1:{account}:rampart-probe"),
            ),
            RcpBlock::PerimeterSecretsManager => (
                "secretsmanager:GetSecretValue",
                format!("arn:aws:secretsmanager:us-east-1:{account}:secret:rampart-probe-AbCdEf"),
            ),
            RcpBlock::PerimeterSts => (
                "sts:AssumeRole",
                format!("arn:aws:iam::{account}:role/rampart-probe"),
            ),
            RcpBlock::RequireTls => return None,
        })
    }
}

impl fmt::Display for RcpBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for RcpBlock {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <String as serde::Deserialize>::deserialize(d)?;
        RcpBlock::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown RCP block `{name}`")))
    }
}

impl serde::Serialize for RcpBlock {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Services every `require-tls` statement covers: the perimeter services.
const TLS_ACTIONS: &[&str] = &["s3:*", "kms:*", "sqs:*", "secretsmanager:*", "sts:*"];

/// What the RCP blocks need to know about the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RcpSettings {
    /// `o-…`: the organization whose principals are inside the perimeter.
    pub org_id: String,
    /// Accounts outside the organization still let in (a vendor, an AWS-owned account that
    /// delivers logs); they are also trusted as the source of a service's request.
    pub trusted_accounts: Vec<String>,
}

/// A generated RCP.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rcp {
    /// `rampart-rcp-<ou>-<n>`: rampart owns every policy whose name starts with `rampart-`.
    pub name: String,
    pub blocks: Vec<RcpBlock>,
    /// Minified JSON document.
    pub content: String,
}

/// Why the RCPs of a target cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RcpError {
    #[error(
        "the organization id is unknown: the perimeter RCPs need it (run `rampart collect` with the management account's credentials)"
    )]
    NoOrgId,
    #[error(
        "RCPs for `{target}` need {needed} policies but a target takes at most {RCPS_PER_TARGET} besides RCPFullAWSAccess"
    )]
    TooMany { target: String, needed: usize },
    #[error(
        "the perimeter statements alone are {chars} characters, over the {RCP_MAX_CHARS}-character RCP quota: list fewer trusted accounts"
    )]
    TooLarge { chars: usize },
    #[error("{0}")]
    Guardrail(#[from] GuardrailError),
}

fn statement(sid: &str, actions: &[&str], condition: Value) -> Value {
    json!({
        "Sid": sid,
        "Effect": "Deny",
        "Principal": "*",
        "Action": actions,
        "Resource": "*",
        "Condition": condition
    })
}

/// The perimeter's two statements for `blocks` (their services merged), or none.
fn perimeter_statements(blocks: &[RcpBlock], settings: &RcpSettings) -> Vec<Value> {
    let services: Vec<RcpBlock> = blocks
        .iter()
        .copied()
        .filter(|b| b.service().is_some())
        .collect();
    if services.is_empty() {
        return Vec::new();
    }
    let identity: Vec<&str> = services
        .iter()
        .flat_map(|b| b.identity_actions().iter().copied())
        .collect();
    let deputy: Vec<String> = services
        .iter()
        .filter_map(|b| b.service())
        .map(|s| format!("{s}:*"))
        .collect();
    let deputy: Vec<&str> = deputy.iter().map(String::as_str).collect();
    let mut outsider = serde_json::Map::new();
    outsider.insert("aws:PrincipalOrgID".into(), json!(settings.org_id));
    let mut foreign_source = serde_json::Map::new();
    foreign_source.insert("aws:SourceOrgID".into(), json!(settings.org_id));
    if !settings.trusted_accounts.is_empty() {
        outsider.insert(
            "aws:PrincipalAccount".into(),
            json!(settings.trusted_accounts),
        );
        foreign_source.insert("aws:SourceAccount".into(), json!(settings.trusted_accounts));
    }
    outsider.insert(EXCLUDE_TAG.into(), json!("true"));
    foreign_source.insert(EXCLUDE_TAG.into(), json!("true"));
    vec![
        statement(
            "PerimeterOrgPrincipalsOnly",
            &identity,
            json!({
                "StringNotEqualsIfExists": outsider,
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}
            }),
        ),
        statement(
            "PerimeterServicesForOrgOnly",
            &deputy,
            json!({
                "StringNotEqualsIfExists": foreign_source,
                "Null": {"aws:SourceAccount": "false"},
                "Bool": {"aws:PrincipalIsAWSService": "true"}
            }),
        ),
    ]
}

/// The RCPs for one target (an OU path): the perimeter (one unit) and `require-tls`, packed
/// first-fit within the size quota, at most [`RCPS_PER_TARGET`] of them.
pub fn build_rcps(
    target: &str,
    blocks: &[RcpBlock],
    settings: &RcpSettings,
) -> Result<Vec<Rcp>, RcpError> {
    let mut blocks = blocks.to_vec();
    blocks.sort();
    blocks.dedup();
    if blocks.is_empty() {
        return Ok(Vec::new());
    }
    let perimeter: Vec<RcpBlock> = blocks
        .iter()
        .copied()
        .filter(|b| b.service().is_some())
        .collect();
    if !perimeter.is_empty() && !settings.org_id.starts_with("o-") {
        return Err(RcpError::NoOrgId);
    }
    let mut units: Vec<(Vec<RcpBlock>, Vec<Value>)> = Vec::new();
    if !perimeter.is_empty() {
        let st = perimeter_statements(&perimeter, settings);
        let chars = document(&st).len();
        if chars > RCP_MAX_CHARS {
            return Err(RcpError::TooLarge { chars });
        }
        units.push((perimeter, st));
    }
    if blocks.contains(&RcpBlock::RequireTls) {
        units.push((
            vec![RcpBlock::RequireTls],
            vec![statement(
                "RequireTls",
                TLS_ACTIONS,
                json!({"Bool": {"aws:SecureTransport": "false"}}),
            )],
        ));
    }
    let packs = pack_first_fit(units, RCP_MAX_CHARS);
    if packs.len() > RCPS_PER_TARGET {
        return Err(RcpError::TooMany {
            target: target.to_string(),
            needed: packs.len(),
        });
    }
    let slug = crate::guardrails::slug(target);
    Ok(packs
        .into_iter()
        .enumerate()
        .map(|(i, (blocks, st))| Rcp {
            name: format!("rampart-rcp-{slug}-{}", i + 1),
            blocks,
            content: document(&st),
        })
        .collect())
}

/// RCPFullAWSAccess as the policy engine reads it.
pub fn full_access() -> rampart_policy::Policy {
    parse_policy(RCP_FULL_AWS_ACCESS).unwrap_or_else(|_| unreachable!("constant policy parses"))
}

/// An account's RCP chain: `RCPFullAWSAccess` at the root, each level of `ou_levels` (id and
/// generated RCPs) and the account.
pub fn chain(
    ou_levels: Vec<(String, Vec<rampart_policy::Policy>)>,
    account: &str,
) -> Vec<OrgLevel> {
    let full = full_access();
    let mut levels = vec![OrgLevel {
        id: "root".into(),
        policies: vec![full.clone()],
    }];
    for (id, rcps) in ou_levels {
        let mut policies = vec![full.clone()];
        policies.extend(rcps);
        levels.push(OrgLevel { id, policies });
    }
    levels.push(OrgLevel {
        id: account.into(),
        policies: vec![full],
    });
    levels
}

const PROBE_ACCOUNT: &str = "123456789012";
const MEMBER_ACCOUNT: &str = "210987654321";
const OUTSIDE_ACCOUNT: &str = "999999999999";
const OTHER_ORG: &str = "o-notours00000";

/// One probe of a proof: who, in which context, and what must happen.
struct Probe {
    claim: String,
    principal: String,
    context: Vec<(&'static str, ContextValue)>,
    must_allow: bool,
}

fn s(v: &str) -> ContextValue {
    ContextValue::String(v.to_string())
}

/// Proves one target's RCPs against their blocks' promises with the policy engine: outsiders
/// are denied each perimeter service, principals of the organization and AWS services acting
/// for it are not, AWS services acting for another organization are denied (confused deputy),
/// trusted accounts are let in, and `require-tls` denies plain-HTTP requests from everyone while
/// letting TLS ones through.
pub fn prove_rcps(target: &str, rcps: &[Rcp], settings: &RcpSettings) -> crate::proof::Proof {
    use crate::proof::Claim;
    let mut claims = Vec::new();
    let mut policies = Vec::new();
    for r in rcps {
        match parse_policy(&r.content) {
            Ok(p) => policies.push(p),
            Err(e) => claims.push(Claim {
                block: None,
                claim: format!("{} is a valid policy", r.name),
                holds: false,
                detail: Some(e.to_string()),
            }),
        }
    }
    let levels = chain(vec![(target.to_string(), policies)], PROBE_ACCOUNT);
    let compiled = rcp_chain(&levels);
    let blocks: Vec<RcpBlock> = rcps.iter().flat_map(|r| r.blocks.iter().copied()).collect();
    let tls = blocks.contains(&RcpBlock::RequireTls);
    let org = settings.org_id.as_str();
    for &b in &blocks {
        let Some((action, resource)) = b.probe(PROBE_ACCOUNT) else {
            continue;
        };
        let mut probes = vec![
            Probe {
                claim: format!("{b}: denies {action} to a role of another organization"),
                principal: format!("arn:aws:iam::{OUTSIDE_ACCOUNT}:role/outsider"),
                context: vec![("aws:PrincipalOrgID", s(OTHER_ORG))],
                must_allow: false,
            },
            Probe {
                claim: format!("{b}: denies {action} to a user of an account in no organization"),
                principal: format!("arn:aws:iam::{OUTSIDE_ACCOUNT}:user/outsider"),
                context: vec![],
                must_allow: false,
            },
            Probe {
                claim: format!(
                    "{b}: allows {action} to a role of another account of the organization"
                ),
                principal: format!("arn:aws:iam::{MEMBER_ACCOUNT}:role/app"),
                context: vec![("aws:PrincipalOrgID", s(org))],
                must_allow: true,
            },
            Probe {
                claim: format!(
                    "{b}: allows {action} to an AWS service acting for the organization"
                ),
                principal: service_for(b).into(),
                context: vec![
                    ("aws:SourceOrgID", s(org)),
                    ("aws:SourceAccount", s(MEMBER_ACCOUNT)),
                ],
                must_allow: true,
            },
            Probe {
                claim: format!(
                    "{b}: denies {action} to an AWS service acting for another organization"
                ),
                principal: service_for(b).into(),
                context: vec![
                    ("aws:SourceOrgID", s(OTHER_ORG)),
                    ("aws:SourceAccount", s(OUTSIDE_ACCOUNT)),
                ],
                must_allow: false,
            },
            Probe {
                claim: format!(
                    "{b}: allows {action} to an outsider on a resource tagged dp:exclude:identity=true"
                ),
                principal: format!("arn:aws:iam::{OUTSIDE_ACCOUNT}:role/outsider"),
                context: vec![
                    ("aws:PrincipalOrgID", s(OTHER_ORG)),
                    ("aws:ResourceTag/dp:exclude:identity", s("true")),
                ],
                must_allow: true,
            },
        ];
        for t in &settings.trusted_accounts {
            probes.push(Probe {
                claim: format!("{b}: allows {action} to trusted account {t}"),
                principal: format!("arn:aws:iam::{t}:role/vendor"),
                context: vec![],
                must_allow: true,
            });
        }
        if tls {
            probes.push(Probe {
                claim: format!(
                    "require-tls: denies {action} without TLS, even inside the organization"
                ),
                principal: format!("arn:aws:iam::{MEMBER_ACCOUNT}:role/app"),
                context: vec![
                    ("aws:PrincipalOrgID", s(org)),
                    ("aws:SecureTransport", ContextValue::Bool(false)),
                ],
                must_allow: false,
            });
        }
        for p in probes {
            claims.push(run_probe(&compiled, action, &resource, p));
        }
    }
    if tls {
        // TLS holds whatever the perimeter blocks chosen: probe every perimeter service.
        for b in RcpBlock::ALL {
            let Some((action, resource)) = b.probe(PROBE_ACCOUNT) else {
                continue;
            };
            if blocks.contains(&b) {
                continue;
            }
            for (secure, must_allow) in [(false, false), (true, true)] {
                let p = Probe {
                    claim: format!(
                        "require-tls: {} {action} {} TLS",
                        if must_allow { "allows" } else { "denies" },
                        if secure { "with" } else { "without" }
                    ),
                    principal: format!("arn:aws:iam::{MEMBER_ACCOUNT}:role/app"),
                    context: vec![
                        ("aws:PrincipalOrgID", s(org)),
                        ("aws:SecureTransport", ContextValue::Bool(secure)),
                    ],
                    must_allow,
                };
                claims.push(run_probe(&compiled, action, &resource, p));
            }
        }
    }
    crate::proof::Proof {
        target: target.to_string(),
        claims,
    }
}

/// A service principal that acts on the block's resources for its customers.
fn service_for(b: RcpBlock) -> &'static str {
    match b {
        RcpBlock::PerimeterS3 => "cloudtrail.amazonaws.com",
        RcpBlock::PerimeterKms => "logs.amazonaws.com",
        RcpBlock::PerimeterSqs => "sns.amazonaws.com",
        RcpBlock::PerimeterSecretsManager => "lambda.amazonaws.com",
        RcpBlock::PerimeterSts | RcpBlock::RequireTls => "lambda.amazonaws.com",
    }
}

fn run_probe(
    compiled: &CompiledPolicySet,
    action: &str,
    resource: &str,
    p: Probe,
) -> crate::proof::Claim {
    let mut context: BTreeMap<String, ContextValue> = p
        .context
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    context
        .entry("aws:SecureTransport".into())
        .or_insert(ContextValue::Bool(true));
    let req = Request {
        action: action.into(),
        resource: resource.into(),
        resource_account: Some(PROBE_ACCOUNT.into()),
        principal: Some(p.principal.clone()),
        context,
        ..Request::default()
    };
    let decision = compiled.decide(&req);
    let holds = (decision == Decision::Allowed) == p.must_allow;
    crate::proof::Claim {
        block: None,
        claim: p.claim,
        holds,
        detail: (!holds).then(|| format!("{} gets {decision:?}", p.principal)),
    }
}

#[cfg(test)]
mod tests;
