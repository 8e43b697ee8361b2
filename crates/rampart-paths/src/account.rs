//! One account's IAM as the analysis reads it: every policy parsed once into an arena (with the
//! two condition-relaxed variants the decisions need), the principals with indexes into it, and
//! the SCPs in force from the snapshot's organization.

use crate::relax::{Relaxed, relax};
use rampart_policy::{OrgLevel, Policy, parse_policy};
use rampart_snapshot::{AccountSnapshot, Snapshot};
use std::collections::HashMap;

/// A parsed policy with a label a reader can find it by (`arn:…:policy/X`, `role/R inline P`).
#[derive(Debug, Clone)]
pub struct Labeled {
    pub label: String,
    pub policy: Relaxed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    User,
    Role,
    Group,
}

/// A user, role or group: what it is and which arena policies make its permissions.
#[derive(Debug, Clone)]
pub struct Node {
    pub kind: NodeKind,
    pub name: String,
    pub arn: String,
    /// Identity policies (a user's include its groups' policies).
    pub identity: Vec<usize>,
    /// The permissions boundary (users and roles).
    pub boundary: Option<usize>,
    /// A user's groups (node indexes).
    pub groups: Vec<usize>,
    /// A role's trust policy.
    pub trust: Option<usize>,
    /// Customer managed policies attached directly (ARNs), for the policy-version methods.
    pub attached: Vec<String>,
    pub instance_profiles: Vec<String>,
    /// A user with a console password (`UpdateLoginProfile` applies, `CreateLoginProfile` not).
    pub console_password: bool,
}

impl Node {
    /// The ARN a request from this node carries: a role acts through a session.
    pub fn caller_arn(&self, account: &str, partition: &str) -> String {
        match self.kind {
            NodeKind::Role => format!(
                "arn:{partition}:sts::{account}:assumed-role/{}/rampart-paths",
                self.name
            ),
            _ => self.arn.clone(),
        }
    }
}

/// A customer managed policy and its versions (arena indexes).
#[derive(Debug, Clone)]
pub struct Managed {
    pub arn: String,
    pub aws_managed: bool,
    pub default: Option<usize>,
    /// `(version id, arena index)` of every non-default version.
    pub others: Vec<(String, usize)>,
}

/// The account, ready for the methods.
#[derive(Debug, Clone)]
pub struct AccountIam {
    pub account_id: String,
    pub partition: String,
    pub arena: Vec<Labeled>,
    pub nodes: Vec<Node>,
    pub managed: HashMap<String, Managed>,
    /// SCPs in force: `None` outside an organization and for the management account.
    pub scps: Option<Vec<OrgLevel>>,
    pub scps_relaxed: Option<(Vec<OrgLevel>, Vec<OrgLevel>)>,
    /// SCP names per level, parallel to `scps`.
    pub scp_names: Vec<Vec<String>>,
    pub org_id: Option<String>,
    /// What the analysis could not read (a policy it could not parse, a missing document).
    pub warnings: Vec<String>,
}

/// An account the snapshot cannot analyse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountError(pub String);

impl std::fmt::Display for AccountError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AccountError {}

impl AccountIam {
    /// Reads account `account_id` of the snapshot.
    pub fn from_snapshot(snapshot: &Snapshot, account_id: &str) -> Result<Self, AccountError> {
        let account = snapshot.account(account_id).ok_or_else(|| {
            AccountError(format!(
                "account {account_id} is not in the snapshot; pass one of its accounts with --account"
            ))
        })?;
        let partition = if snapshot.partition.is_empty() {
            "aws".to_string()
        } else {
            snapshot.partition.clone()
        };
        let (scps, scp_names, org_id) = scp_chain(snapshot, account_id)?;
        Ok(Self::build(account, &partition, scps, scp_names, org_id))
    }

    fn build(
        account: &AccountSnapshot,
        partition: &str,
        scps: Option<Vec<OrgLevel>>,
        scp_names: Vec<Vec<String>>,
        org_id: Option<String>,
    ) -> Self {
        let mut me = AccountIam {
            account_id: account.account_id.clone(),
            partition: partition.to_string(),
            arena: Vec::new(),
            nodes: Vec::new(),
            managed: HashMap::new(),
            scps_relaxed: scps.as_ref().map(|levels| relax_levels(levels)),
            scps,
            scp_names,
            org_id,
            warnings: Vec::new(),
        };
        let iam = &account.iam;
        if !iam.authorization_details {
            me.warnings.push(format!(
                "account {}: the snapshot has no GetAccountAuthorizationDetails data (groups, inline policy documents, boundaries): re-run `rampart collect` for a complete analysis",
                account.account_id
            ));
        }
        for p in &iam.policies {
            let default = me.add(&p.arn, &p.document);
            let others = p
                .versions
                .iter()
                .filter(|v| !v.is_default)
                .filter_map(|v| {
                    let label = format!("{} version {}", p.arn, v.version_id);
                    me.add(&label, &v.document)
                        .map(|i| (v.version_id.clone(), i))
                })
                .collect();
            me.managed.insert(
                p.arn.clone(),
                Managed {
                    arn: p.arn.clone(),
                    aws_managed: p.aws_managed,
                    default,
                    others,
                },
            );
        }
        let mut group_index = HashMap::new();
        for g in &iam.groups {
            let mut identity = me.attached(&g.attached_policies, &g.arn);
            for ip in &g.inline_policy_documents {
                let label = format!("group/{} inline {}", g.name, ip.name);
                identity.extend(me.add(&label, &ip.document));
            }
            group_index.insert(g.name.clone(), me.nodes.len());
            me.nodes.push(Node {
                kind: NodeKind::Group,
                name: g.name.clone(),
                arn: g.arn.clone(),
                identity,
                boundary: None,
                groups: Vec::new(),
                trust: None,
                attached: g.attached_policies.clone(),
                instance_profiles: Vec::new(),
                console_password: false,
            });
        }
        for u in &iam.users {
            let mut identity = me.attached(&u.attached_policies, &u.arn);
            for ip in &u.inline_policy_documents {
                let label = format!("user/{} inline {}", u.name, ip.name);
                identity.extend(me.add(&label, &ip.document));
            }
            let mut groups = Vec::new();
            for g in &u.groups {
                match group_index.get(g) {
                    Some(&gi) => {
                        identity.extend(me.nodes[gi].identity.iter().copied());
                        groups.push(gi);
                    }
                    None if iam.authorization_details => me.warnings.push(format!(
                        "user {}: group {g} is not in the snapshot; its policies are left out",
                        u.arn
                    )),
                    None => {}
                }
            }
            let boundary = me.boundary(u.permissions_boundary.as_deref(), &u.arn);
            me.nodes.push(Node {
                kind: NodeKind::User,
                name: u.name.clone(),
                arn: u.arn.clone(),
                identity,
                boundary,
                groups,
                trust: None,
                attached: u.attached_policies.clone(),
                instance_profiles: Vec::new(),
                console_password: u.has_console_password,
            });
        }
        for r in &iam.roles {
            let mut identity = me.attached(&r.attached_policies, &r.arn);
            for ip in &r.inline_policy_documents {
                let label = format!("role/{} inline {}", r.name, ip.name);
                identity.extend(me.add(&label, &ip.document));
            }
            let boundary = me.boundary(r.permissions_boundary.as_deref(), &r.arn);
            let trust = me.add(&format!("role/{} trust policy", r.name), &r.trust_policy);
            me.nodes.push(Node {
                kind: NodeKind::Role,
                name: r.name.clone(),
                arn: r.arn.clone(),
                identity,
                boundary,
                groups: Vec::new(),
                trust,
                attached: r.attached_policies.clone(),
                instance_profiles: r.instance_profiles.clone(),
                console_password: false,
            });
        }
        me
    }

    /// Parses a document into the arena; a warning (and `None`) when it does not parse.
    pub(crate) fn add(&mut self, label: &str, document: &str) -> Option<usize> {
        if document.trim().is_empty() {
            self.warnings
                .push(format!("{label}: no document in the snapshot; left out"));
            return None;
        }
        match parse_policy(document) {
            Ok(p) => {
                self.arena.push(Labeled {
                    label: label.to_string(),
                    policy: relax(p),
                });
                Some(self.arena.len() - 1)
            }
            Err(e) => {
                self.warnings
                    .push(format!("{label}: cannot be evaluated ({e}); left out"));
                None
            }
        }
    }

    fn attached(&mut self, arns: &[String], owner: &str) -> Vec<usize> {
        let mut out = Vec::new();
        for arn in arns {
            match self.managed.get(arn).map(|m| m.default) {
                Some(Some(i)) => out.push(i),
                Some(None) => {}
                None => self.warnings.push(format!(
                    "{owner}: attached policy {arn} is not in the snapshot; left out"
                )),
            }
        }
        out
    }

    fn boundary(&mut self, arn: Option<&str>, owner: &str) -> Option<usize> {
        let arn = arn?;
        match self.managed.get(arn).and_then(|m| m.default) {
            Some(i) => Some(i),
            None => {
                // An unreadable boundary still bounds: an empty one allows nothing, the safe
                // side for "who can become admin" is to say so rather than drop it.
                self.warnings.push(format!(
                    "{owner}: permissions boundary {arn} is not in the snapshot; read as allowing nothing"
                ));
                let label = format!("{arn} (boundary, not collected)");
                self.add(&label, r#"{"Version":"2012-10-17","Statement":[]}"#)
            }
        }
    }

    pub fn node_by_arn(&self, arn: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.arn == arn)
    }

    pub(crate) fn policy(&self, i: usize) -> &Policy {
        &self.arena[i].policy.original
    }
}

fn relax_levels(levels: &[OrgLevel]) -> (Vec<OrgLevel>, Vec<OrgLevel>) {
    let map = |pick: fn(&Relaxed) -> &Policy| {
        levels
            .iter()
            .map(|l| OrgLevel {
                id: l.id.clone(),
                policies: l
                    .policies
                    .iter()
                    .map(|p| pick(&relax(p.clone())).clone())
                    .collect(),
            })
            .collect()
    };
    (map(|r| &r.may), map(|r| &r.must))
}

type Chain = (Option<Vec<OrgLevel>>, Vec<Vec<String>>, Option<String>);

/// The SCPs in force for the account, level by level from the root (levels the snapshot shows
/// no SCP on are left out, as the audit does). `None` outside an organization and for the
/// management account, which SCPs do not restrict.
fn scp_chain(snapshot: &Snapshot, account: &str) -> Result<Chain, AccountError> {
    let Some(org) = snapshot.organization.as_ref() else {
        return Ok((None, Vec::new(), None));
    };
    let org_id = (!org.id.is_empty()).then(|| org.id.clone());
    if org.management_account_id == account {
        return Ok((None, Vec::new(), org_id));
    }
    let mut levels = Vec::new();
    let mut names = Vec::new();
    for target in org.path_to(account) {
        let mut policies = Vec::new();
        let mut level_names = Vec::new();
        for p in org.policies_on(&target, "SERVICE_CONTROL_POLICY") {
            let parsed = parse_policy(&p.content).map_err(|e| {
                AccountError(format!(
                    "SCP `{}` ({}) on {target} cannot be evaluated: {e}; fix it or collect again",
                    p.name, p.id
                ))
            })?;
            policies.push(parsed);
            level_names.push(p.name.clone());
        }
        if !policies.is_empty() {
            levels.push(OrgLevel {
                id: target,
                policies,
            });
            names.push(level_names);
        }
    }
    Ok((Some(levels), names, org_id))
}
