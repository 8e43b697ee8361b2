//! The escalation methods: each says which requests a principal must be allowed to make to gain
//! another principal's permissions (or full control), and finds those edges by asking the
//! engine. The catalogue follows the published IAM privilege-escalation research (Rhino
//! Security Labs' list of 21 methods, Bishop Fox's iam-vulnerable scenarios) plus the
//! ordinary `sts:AssumeRole` edge.

use crate::account::NodeKind;
use crate::decide::{ADMIN_POLICY, Actor, Ask, Check, Decider, ResourcePolicy};
use crate::relax::relax;
use rampart_policy::{Decision, Effect, PrincipalKind, Principals, parse_policy};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// What an edge leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "node")]
pub enum To {
    /// The principal gains this node's permissions.
    Node(usize),
    /// The principal gains full control.
    Admin,
}

/// "Principal `from` can gain the permissions of `to`", by `method`, every request allowed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Edge {
    pub from: usize,
    pub to: To,
    pub method: &'static str,
    /// What the method acts on when it is not the target (a group, a policy, a role).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// The requests, in the order they are made. Their allowing statements (`allowed_by`) are
    /// named on the steps of the paths [`crate::Analysis::path`] and `paths` return.
    pub checks: Vec<Check>,
    /// Why the edge holds only under assumptions (conditions, resources not collected).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Edge {
    pub fn conditional(&self) -> bool {
        self.note.is_some() || self.checks.iter().any(|c| c.conditional.is_some())
    }
}

/// How a method works.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// `sts:AssumeRole` on a role whose trust policy and the caller's policies allow it.
    AssumeRole,
    /// Rewrite a role's trust policy to name oneself, then assume it.
    UpdateTrust,
    /// An action on another user that yields its credentials.
    UserCredential {
        action: &'static str,
        /// `Some(true)`: only for users with a console password; `Some(false)`: without one.
        needs_password: Option<bool>,
    },
    /// Add oneself to a group.
    AddToGroup,
    /// Write or attach a policy on oneself (`for_kind` is the actor's kind).
    OwnPolicy {
        action: &'static str,
        for_kind: NodeKind,
    },
    /// Write or attach a policy on a group one belongs to.
    OwnGroupPolicy { action: &'static str },
    /// A new default version of a customer managed policy one has.
    CreatePolicyVersion,
    /// Make another, stored version of a policy one has the default.
    SetDefaultPolicyVersion,
    /// Remove (`delete`) or replace one's own permissions boundary.
    Boundary {
        action: &'static str,
        for_kind: NodeKind,
    },
    /// Pass a role to a service that runs one's code with it.
    PassRole {
        service: &'static str,
        actions: &'static [&'static str],
        /// EC2 needs the role in an instance profile.
        instance_profile: bool,
    },
    /// Change the code of an existing resource that runs as a role (the resources are not in
    /// the snapshot: every role the service may assume is a candidate, conditionally).
    ExistingCode {
        service: &'static str,
        actions: &'static [&'static str],
    },
    /// Write or attach a policy on a role one can assume, then assume it.
    OtherRolePolicy { action: &'static str },
}

/// One method: a stable id, a one-line title and why it escalates.
#[derive(Debug, Clone, Copy)]
pub struct Method {
    pub id: &'static str,
    pub title: &'static str,
    pub doc: &'static str,
    pub kind: Kind,
}

macro_rules! method {
    ($id:literal, $title:literal, $doc:literal, $kind:expr) => {
        Method {
            id: $id,
            title: $title,
            doc: $doc,
            kind: $kind,
        }
    };
}

use Kind::*;
use NodeKind::{Role, User};

/// Every method, in the order the analysis tries them (the cheapest first).
pub const METHODS: &[Method] = &[
    method!(
        "sts-assume-role",
        "sts:AssumeRole",
        "The role's trust policy names the caller (or delegates to the account and the caller's policies allow sts:AssumeRole on it): the caller gets the role's session.",
        AssumeRole
    ),
    method!(
        "iam-update-assume-role-policy",
        "iam:UpdateAssumeRolePolicy + sts:AssumeRole",
        "The caller rewrites the role's trust policy to name itself and assumes the role.",
        UpdateTrust
    ),
    method!(
        "iam-create-access-key",
        "iam:CreateAccessKey on another user",
        "A new access key for another user is that user's credentials.",
        UserCredential {
            action: "iam:CreateAccessKey",
            needs_password: None
        }
    ),
    method!(
        "iam-create-login-profile",
        "iam:CreateLoginProfile on another user",
        "Setting a console password on a user without one lets the caller sign in as that user.",
        UserCredential {
            action: "iam:CreateLoginProfile",
            needs_password: Some(false)
        }
    ),
    method!(
        "iam-update-login-profile",
        "iam:UpdateLoginProfile on another user",
        "Changing another user's console password lets the caller sign in as that user.",
        UserCredential {
            action: "iam:UpdateLoginProfile",
            needs_password: Some(true)
        }
    ),
    method!(
        "iam-add-user-to-group",
        "iam:AddUserToGroup (self)",
        "A user that adds itself to a group gains the group's policies.",
        AddToGroup
    ),
    method!(
        "iam-put-user-policy",
        "iam:PutUserPolicy (self)",
        "A user that writes an inline policy on itself grants itself anything its boundary and the SCPs allow.",
        OwnPolicy {
            action: "iam:PutUserPolicy",
            for_kind: User
        }
    ),
    method!(
        "iam-attach-user-policy",
        "iam:AttachUserPolicy (self)",
        "A user that attaches AdministratorAccess to itself is admin within its boundary and the SCPs.",
        OwnPolicy {
            action: "iam:AttachUserPolicy",
            for_kind: User
        }
    ),
    method!(
        "iam-put-role-policy",
        "iam:PutRolePolicy (own role)",
        "A role session that writes an inline policy on its own role grants itself anything its boundary and the SCPs allow.",
        OwnPolicy {
            action: "iam:PutRolePolicy",
            for_kind: Role
        }
    ),
    method!(
        "iam-attach-role-policy",
        "iam:AttachRolePolicy (own role)",
        "A role session that attaches AdministratorAccess to its own role is admin within its boundary and the SCPs.",
        OwnPolicy {
            action: "iam:AttachRolePolicy",
            for_kind: Role
        }
    ),
    method!(
        "iam-put-group-policy",
        "iam:PutGroupPolicy (own group)",
        "A user that writes an inline policy on one of its groups grants itself anything its boundary and the SCPs allow.",
        OwnGroupPolicy {
            action: "iam:PutGroupPolicy"
        }
    ),
    method!(
        "iam-attach-group-policy",
        "iam:AttachGroupPolicy (own group)",
        "A user that attaches AdministratorAccess to one of its groups is admin within its boundary and the SCPs.",
        OwnGroupPolicy {
            action: "iam:AttachGroupPolicy"
        }
    ),
    method!(
        "iam-create-policy-version",
        "iam:CreatePolicyVersion",
        "A new default version of a customer managed policy attached to the caller (or its group) can say anything.",
        CreatePolicyVersion
    ),
    method!(
        "iam-set-default-policy-version",
        "iam:SetDefaultPolicyVersion",
        "Another stored version of a policy the caller has becomes the one in force; escalates when that version grants more.",
        SetDefaultPolicyVersion
    ),
    method!(
        "iam-delete-user-permissions-boundary",
        "iam:DeleteUserPermissionsBoundary (self)",
        "A user whose identity policies grant admin but whose boundary does not removes the boundary.",
        Boundary {
            action: "iam:DeleteUserPermissionsBoundary",
            for_kind: User
        }
    ),
    method!(
        "iam-delete-role-permissions-boundary",
        "iam:DeleteRolePermissionsBoundary (own role)",
        "A role whose identity policies grant admin but whose boundary does not removes the boundary.",
        Boundary {
            action: "iam:DeleteRolePermissionsBoundary",
            for_kind: Role
        }
    ),
    method!(
        "iam-put-user-permissions-boundary",
        "iam:PutUserPermissionsBoundary (self)",
        "A user replaces its boundary with a permissive policy, unleashing identity policies that grant admin.",
        Boundary {
            action: "iam:PutUserPermissionsBoundary",
            for_kind: User
        }
    ),
    method!(
        "iam-put-role-permissions-boundary",
        "iam:PutRolePermissionsBoundary (own role)",
        "A role replaces its boundary with a permissive policy, unleashing identity policies that grant admin.",
        Boundary {
            action: "iam:PutRolePermissionsBoundary",
            for_kind: Role
        }
    ),
    method!(
        "iam-put-role-policy-then-assume",
        "iam:PutRolePolicy on an assumable role",
        "The caller writes an admin inline policy on a role it can assume, then assumes it.",
        OtherRolePolicy {
            action: "iam:PutRolePolicy"
        }
    ),
    method!(
        "iam-attach-role-policy-then-assume",
        "iam:AttachRolePolicy on an assumable role",
        "The caller attaches AdministratorAccess to a role it can assume, then assumes it.",
        OtherRolePolicy {
            action: "iam:AttachRolePolicy"
        }
    ),
    method!(
        "passrole-lambda-invoke",
        "iam:PassRole + lambda:CreateFunction + lambda:InvokeFunction",
        "A new function running as the passed role executes the caller's code with the role's permissions.",
        PassRole {
            service: "lambda.amazonaws.com",
            actions: &["lambda:CreateFunction", "lambda:InvokeFunction"],
            instance_profile: false
        }
    ),
    method!(
        "passrole-lambda-event-source",
        "iam:PassRole + lambda:CreateFunction + lambda:CreateEventSourceMapping",
        "A new function running as the passed role is triggered by an event source (a stream or queue) instead of an invoke.",
        PassRole {
            service: "lambda.amazonaws.com",
            actions: &["lambda:CreateFunction", "lambda:CreateEventSourceMapping"],
            instance_profile: false
        }
    ),
    method!(
        "passrole-ec2-run-instances",
        "iam:PassRole + ec2:RunInstances",
        "An instance launched with the role's instance profile runs the caller's user data and serves the role's credentials.",
        PassRole {
            service: "ec2.amazonaws.com",
            actions: &["ec2:RunInstances"],
            instance_profile: true
        }
    ),
    method!(
        "passrole-cloudformation",
        "iam:PassRole + cloudformation:CreateStack",
        "A stack created with the role as its service role provisions whatever the caller's template says.",
        PassRole {
            service: "cloudformation.amazonaws.com",
            actions: &["cloudformation:CreateStack"],
            instance_profile: false
        }
    ),
    method!(
        "passrole-glue-dev-endpoint",
        "iam:PassRole + glue:CreateDevEndpoint",
        "A Glue development endpoint running as the role accepts the caller's SSH key and code.",
        PassRole {
            service: "glue.amazonaws.com",
            actions: &["glue:CreateDevEndpoint"],
            instance_profile: false
        }
    ),
    method!(
        "passrole-glue-job",
        "iam:PassRole + glue:CreateJob + glue:StartJobRun",
        "A Glue job running as the role executes the caller's script.",
        PassRole {
            service: "glue.amazonaws.com",
            actions: &["glue:CreateJob", "glue:StartJobRun"],
            instance_profile: false
        }
    ),
    method!(
        "passrole-datapipeline",
        "iam:PassRole + datapipeline:CreatePipeline + PutPipelineDefinition + ActivatePipeline",
        "A pipeline running as the role executes the caller's shell commands.",
        PassRole {
            service: "datapipeline.amazonaws.com",
            actions: &[
                "datapipeline:CreatePipeline",
                "datapipeline:PutPipelineDefinition",
                "datapipeline:ActivatePipeline"
            ],
            instance_profile: false
        }
    ),
    method!(
        "passrole-codebuild",
        "iam:PassRole + codebuild:CreateProject + codebuild:StartBuild",
        "A build project running as the role executes the caller's buildspec.",
        PassRole {
            service: "codebuild.amazonaws.com",
            actions: &["codebuild:CreateProject", "codebuild:StartBuild"],
            instance_profile: false
        }
    ),
    method!(
        "passrole-sagemaker-notebook",
        "iam:PassRole + sagemaker:CreateNotebookInstance + CreatePresignedNotebookInstanceUrl",
        "A notebook instance running as the role gives the caller a shell with the role's credentials.",
        PassRole {
            service: "sagemaker.amazonaws.com",
            actions: &[
                "sagemaker:CreateNotebookInstance",
                "sagemaker:CreatePresignedNotebookInstanceUrl"
            ],
            instance_profile: false
        }
    ),
    method!(
        "passrole-sagemaker-training",
        "iam:PassRole + sagemaker:CreateTrainingJob",
        "A training job running as the role executes the caller's container.",
        PassRole {
            service: "sagemaker.amazonaws.com",
            actions: &["sagemaker:CreateTrainingJob"],
            instance_profile: false
        }
    ),
    method!(
        "passrole-sagemaker-processing",
        "iam:PassRole + sagemaker:CreateProcessingJob",
        "A processing job running as the role executes the caller's container.",
        PassRole {
            service: "sagemaker.amazonaws.com",
            actions: &["sagemaker:CreateProcessingJob"],
            instance_profile: false
        }
    ),
    method!(
        "passrole-ecs-run-task",
        "iam:PassRole + ecs:RegisterTaskDefinition + ecs:RunTask",
        "A task definition with the role as task role runs the caller's container with its credentials.",
        PassRole {
            service: "ecs-tasks.amazonaws.com",
            actions: &["ecs:RegisterTaskDefinition", "ecs:RunTask"],
            instance_profile: false
        }
    ),
    method!(
        "lambda-update-function-code",
        "lambda:UpdateFunctionCode on an existing function",
        "Replacing the code of a function that runs as a role runs the caller's code as that role (no iam:PassRole needed).",
        ExistingCode {
            service: "lambda.amazonaws.com",
            actions: &["lambda:UpdateFunctionCode"]
        }
    ),
    method!(
        "glue-update-dev-endpoint",
        "glue:UpdateDevEndpoint on an existing endpoint",
        "Adding an SSH key to a development endpoint that runs as a role gives the caller a shell as that role.",
        ExistingCode {
            service: "glue.amazonaws.com",
            actions: &["glue:UpdateDevEndpoint"]
        }
    ),
];

/// The method with this id.
pub fn method(id: &str) -> Option<&'static Method> {
    METHODS.iter().find(|m| m.id == id)
}

/// Who each role's trust policy lets in, read once per account.
pub(crate) struct Trusts {
    /// Roles whose trust names this principal ARN.
    by_arn: HashMap<String, Vec<usize>>,
    /// Roles whose trust delegates to the account (the caller's policies must allow).
    delegated: Vec<usize>,
    /// Roles whose trust names `*` or uses `NotPrincipal`: every caller is a candidate.
    open: Vec<usize>,
    /// Roles each service principal may assume (decided by the engine).
    services: HashMap<&'static str, Vec<usize>>,
}

impl Trusts {
    pub fn new(d: &Decider<'_>) -> Trusts {
        let acct = d.acct;
        let mut t = Trusts {
            by_arn: HashMap::new(),
            delegated: Vec::new(),
            open: Vec::new(),
            services: HashMap::new(),
        };
        let root = format!("arn:{}:iam::{}:root", acct.partition, acct.account_id);
        let services: HashSet<&'static str> = METHODS
            .iter()
            .filter_map(|m| match m.kind {
                PassRole { service, .. } | ExistingCode { service, .. } => Some(service),
                _ => None,
            })
            .collect();
        for (ni, n) in acct.nodes.iter().enumerate() {
            let Some(ti) = n.trust else { continue };
            let trust = acct.policy(ti);
            let (mut open, mut delegated) = (false, false);
            for st in trust
                .statements
                .iter()
                .filter(|s| s.effect == Effect::Allow)
            {
                let Some(pe) = &st.principal else { continue };
                match (&pe.principals, pe.negated) {
                    (Principals::Any, _) | (_, true) => open = true,
                    (Principals::Map(map), false) => {
                        for (kind, vals) in map {
                            if *kind != PrincipalKind::Aws {
                                continue;
                            }
                            for v in vals {
                                if v == "*" {
                                    open = true;
                                } else if v == &acct.account_id || v == &root {
                                    delegated = true;
                                } else {
                                    t.by_arn.entry(v.clone()).or_default().push(ni);
                                }
                            }
                        }
                    }
                }
            }
            if open {
                t.open.push(ni);
            } else if delegated {
                t.delegated.push(ni);
            }
            let compiled = rampart_policy::CompiledPolicySet::new(&rampart_policy::PolicySet {
                resource: Some(acct.arena[ti].policy.may.clone()),
                ..Default::default()
            });
            for &svc in &services {
                let req = rampart_policy::Request {
                    action: "sts:AssumeRole".into(),
                    resource: n.arn.clone(),
                    principal: Some(svc.to_string()),
                    ..Default::default()
                };
                if compiled.decide(&req) == Decision::Allowed {
                    t.services.entry(svc).or_default().push(ni);
                }
            }
        }
        t
    }
}

/// `pattern` with its policy variables replaced: `${aws:username}` by the caller's user name
/// when it is a user, any other by `*`.
fn resolve_variables<'p>(pattern: &'p str, user: Option<&str>) -> std::borrow::Cow<'p, str> {
    if !pattern.contains("${") {
        return pattern.into();
    }
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else {
            out.push('*');
            return out.into();
        };
        let key = rest[start + 2..start + len].trim();
        match user {
            Some(name) if key.eq_ignore_ascii_case("aws:username") => out.push_str(name),
            _ => out.push('*'),
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out.into()
}

/// `*` any run of characters (`:` and `/` included), `?` exactly one, letters in any case.
/// Beyond ASCII it answers yes (a filter may only err that way).
fn wildcard_match(pattern: &str, text: &str) -> bool {
    if !pattern.is_ascii() || !text.is_ascii() {
        return true;
    }
    let (pattern, text) = (pattern.as_bytes(), text.as_bytes());
    let (mut p, mut t) = (0, 0);
    let mut back: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                back = Some((p, t));
                p += 1;
            }
            Some(&c) if c == b'?' || c.eq_ignore_ascii_case(&text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match back {
                Some((bp, bt)) => {
                    p = bp + 1;
                    t = bt + 1;
                    back = Some((bp, bt + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// Finds one actor's edges.
pub(crate) struct Finder<'d, 'a> {
    pub d: &'d Decider<'a>,
    pub trusts: &'d Trusts,
}

impl Finder<'_, '_> {
    /// Could any identity statement of the actor allow `action`? A syntactic filter that only
    /// skips questions the engine would answer "no" to.
    fn could(&self, actor: &Actor, action: &str) -> bool {
        let n = &self.d.acct.nodes[actor.node];
        n.identity.iter().any(|&i| {
            self.d.acct.arena[i].policy.may.statements.iter().any(|st| {
                st.effect == Effect::Allow
                    && st.action.actions.iter().any(|a| a.matches(action)) != st.action.negated
            })
        })
    }

    /// Could an identity Allow statement of the actor match `action` on `resource`? A syntactic
    /// superset of the engine's answer (wildcards matched ignoring case, a policy variable read
    /// as `*` except `${aws:username}` for a user, `NotResource` as anything): it only skips
    /// questions the engine would answer "no" to, before asking it for each of thousands of
    /// targets.
    fn could_on(&self, actor: &Actor, action: &'static str, resource: &str) -> bool {
        let mut cache = actor.resource_patterns.borrow_mut();
        let patterns = cache.entry(action).or_insert_with(|| {
            let n = &self.d.acct.nodes[actor.node];
            let user = (n.kind == NodeKind::User)
                .then(|| actor.caller.rsplit('/').next())
                .flatten();
            let mut patterns = Vec::new();
            for &i in &n.identity {
                for st in &self.d.acct.arena[i].policy.may.statements {
                    if st.effect != Effect::Allow
                        || st.action.actions.iter().any(|a| a.matches(action)) == st.action.negated
                    {
                        continue;
                    }
                    match &st.resource {
                        Some(r) if !r.negated => patterns.extend(
                            r.resources
                                .iter()
                                .map(|p| resolve_variables(&p.text, user).into_owned()),
                        ),
                        _ => patterns.push("*".to_string()),
                    }
                }
            }
            patterns
        });
        patterns.iter().any(|p| wildcard_match(p, resource))
    }

    /// A resource the actor may create `action` on: `*`, or a concrete instance of a pattern
    /// its own statements name (the caller picks the name).
    fn create_anything(&self, actor: &Actor, action: &'static str) -> Option<Check> {
        let n = &self.d.acct.nodes[actor.node];
        let mut probes = vec!["*".to_string()];
        for &i in &n.identity {
            for st in &self.d.acct.arena[i].policy.may.statements {
                if st.effect != Effect::Allow
                    || st.action.actions.iter().any(|a| a.matches(action)) == st.action.negated
                {
                    continue;
                }
                let Some(r) = &st.resource else { continue };
                if r.negated {
                    continue;
                }
                for p in &r.resources {
                    if p.text != "*" && !p.text.contains("${") {
                        let concrete = p.text.replace(['*', '?'], "x");
                        if !probes.contains(&concrete) {
                            probes.push(concrete);
                        }
                    }
                }
            }
        }
        probes
            .into_iter()
            .find_map(|r| self.d.check(actor, &Ask::on(action, r)))
    }

    fn roles(&self) -> impl Iterator<Item = usize> + '_ {
        let nodes = &self.d.acct.nodes;
        (0..nodes.len()).filter(move |&i| nodes[i].kind == NodeKind::Role)
    }

    /// The roles `actor` can assume directly, with the step (found once per actor).
    fn assumable<'x>(&self, actor: &'x Actor) -> &'x [(usize, Check)] {
        actor.assumable.get_or_init(|| self.find_assumable(actor))
    }

    fn find_assumable(&self, actor: &Actor) -> Vec<(usize, Check)> {
        let acct = self.d.acct;
        let me = &acct.nodes[actor.node];
        let mut seen = HashSet::new();
        let mut cands: Vec<usize> = Vec::new();
        let mut push = |r: usize, cands: &mut Vec<usize>| {
            if r != actor.node && seen.insert(r) {
                cands.push(r);
            }
        };
        for r in self.trusts.by_arn.get(&me.arn).into_iter().flatten() {
            push(*r, &mut cands);
        }
        for &r in &self.trusts.open {
            push(r, &mut cands);
        }
        if self.could(actor, "sts:AssumeRole") {
            for &r in &self.trusts.delegated {
                if self.d.identity_may_assume(actor, &acct.nodes[r].arn) {
                    push(r, &mut cands);
                }
            }
        }
        cands
            .into_iter()
            .filter_map(|r| {
                let n = &acct.nodes[r];
                let ask =
                    Ask::on("sts:AssumeRole", n.arn.clone()).trust(ResourcePolicy::Arena(n.trust?));
                self.d.check(actor, &ask).map(|c| (r, c))
            })
            .collect()
    }

    pub fn edges(&self, actor: &Actor, m: &'static Method, out: &mut Vec<Edge>) {
        let acct = self.d.acct;
        let me = &acct.nodes[actor.node];
        let edge = |to: To, via: Option<String>, checks: Vec<Check>| Edge {
            from: actor.node,
            to,
            method: m.id,
            via,
            checks,
            note: None,
        };
        if me.kind == NodeKind::Group && !matches!(m.kind, AssumeRole | PassRole { .. }) {
            // A group acts only through its members; the members' own edges cover the rest.
            return;
        }
        match m.kind {
            AssumeRole => {
                for (r, c) in self.assumable(actor) {
                    out.push(edge(To::Node(*r), None, vec![c.clone()]));
                }
            }
            UpdateTrust => {
                if !self.could(actor, "iam:UpdateAssumeRolePolicy") {
                    return;
                }
                for r in self.roles().filter(|&r| r != actor.node) {
                    let role = &acct.nodes[r];
                    let Some(update) = self.d.check(
                        actor,
                        &Ask::on("iam:UpdateAssumeRolePolicy", role.arn.clone()),
                    ) else {
                        continue;
                    };
                    let doc = format!(
                        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"sts:AssumeRole"}}]}}"#,
                        me.arn
                    );
                    let Ok(p) = parse_policy(&doc) else { continue };
                    let written = ResourcePolicy::Written(
                        format!("role/{} trust policy as rewritten", role.name),
                        Box::new(relax(p)),
                    );
                    let ask = Ask::on("sts:AssumeRole", role.arn.clone()).trust(written);
                    if let Some(assume) = self.d.check(actor, &ask) {
                        out.push(edge(To::Node(r), None, vec![update, assume]));
                    }
                }
            }
            UserCredential {
                action,
                needs_password,
            } => {
                if me.kind != NodeKind::User && me.kind != NodeKind::Role
                    || !self.could(actor, action)
                {
                    return;
                }
                for (u, user) in acct.nodes.iter().enumerate() {
                    if user.kind != NodeKind::User || u == actor.node {
                        continue;
                    }
                    if needs_password.is_some_and(|p| p != user.console_password)
                        || !self.could_on(actor, action, &user.arn)
                    {
                        continue;
                    }
                    if let Some(c) = self.d.check(actor, &Ask::on(action, user.arn.clone())) {
                        out.push(edge(To::Node(u), None, vec![c]));
                    }
                }
            }
            AddToGroup => {
                if me.kind != NodeKind::User || !self.could(actor, "iam:AddUserToGroup") {
                    return;
                }
                for (g, group) in acct.nodes.iter().enumerate() {
                    if group.kind != NodeKind::Group
                        || me.groups.contains(&g)
                        || !self.could_on(actor, "iam:AddUserToGroup", &group.arn)
                    {
                        continue;
                    }
                    if let Some(c) = self
                        .d
                        .check(actor, &Ask::on("iam:AddUserToGroup", group.arn.clone()))
                    {
                        out.push(edge(To::Node(g), None, vec![c]));
                    }
                }
            }
            OwnPolicy { action, for_kind } => {
                if me.kind != for_kind || !self.could(actor, action) {
                    return;
                }
                let ask = Ask::on(action, me.arn.clone()).with("iam:PolicyARN", ADMIN_POLICY);
                if let (Some(c), Some(_)) = (
                    self.d.check(actor, &ask),
                    self.d.admin_if_granted(actor.node),
                ) {
                    out.push(edge(To::Admin, None, vec![c]));
                }
            }
            OwnGroupPolicy { action } => {
                if me.kind != NodeKind::User || !self.could(actor, action) {
                    return;
                }
                if self.d.admin_if_granted(actor.node).is_none() {
                    return;
                }
                for &g in &me.groups {
                    let group = &acct.nodes[g];
                    let ask =
                        Ask::on(action, group.arn.clone()).with("iam:PolicyARN", ADMIN_POLICY);
                    if let Some(c) = self.d.check(actor, &ask) {
                        out.push(edge(To::Admin, Some(group.arn.clone()), vec![c]));
                    }
                }
            }
            CreatePolicyVersion | SetDefaultPolicyVersion => {
                let action = match m.kind {
                    CreatePolicyVersion => "iam:CreatePolicyVersion",
                    _ => "iam:SetDefaultPolicyVersion",
                };
                if !self.could(actor, action) {
                    return;
                }
                let mut attached: Vec<&String> = me.attached.iter().collect();
                for &g in &me.groups {
                    attached.extend(acct.nodes[g].attached.iter());
                }
                let mut seen = HashSet::new();
                for arn in attached {
                    let Some(p) = acct.managed.get(arn) else {
                        continue;
                    };
                    if p.aws_managed || !seen.insert(arn) {
                        continue;
                    }
                    let Some(c) = self.d.check(actor, &Ask::on(action, arn.clone())) else {
                        continue;
                    };
                    if matches!(m.kind, CreatePolicyVersion) {
                        if self.d.admin_if_granted(actor.node).is_some() {
                            out.push(edge(To::Admin, Some(arn.clone()), vec![c]));
                        }
                        continue;
                    }
                    for (version, vi) in &p.others {
                        let identity: Vec<usize> = me
                            .identity
                            .iter()
                            .map(|&i| if Some(i) == p.default { *vi } else { i })
                            .collect();
                        if self
                            .d
                            .admin_with(&actor.caller, &identity, None, me.boundary)
                            .is_some()
                        {
                            out.push(edge(
                                To::Admin,
                                Some(format!("{arn} version {version}")),
                                vec![c.clone()],
                            ));
                            break;
                        }
                    }
                }
            }
            Boundary { action, for_kind } => {
                if me.kind != for_kind || me.boundary.is_none() || !self.could(actor, action) {
                    return;
                }
                let ask = Ask::on(action, me.arn.clone());
                if let Some(c) = self.d.check(actor, &ask)
                    && self
                        .d
                        .admin_with(&actor.caller, &me.identity, None, None)
                        .is_some()
                {
                    out.push(edge(To::Admin, None, vec![c]));
                }
            }
            OtherRolePolicy { action } => {
                if !self.could(actor, action) {
                    return;
                }
                for (r, assume) in self.assumable(actor) {
                    let r = *r;
                    let role = &acct.nodes[r];
                    let ask = Ask::on(action, role.arn.clone()).with("iam:PolicyARN", ADMIN_POLICY);
                    if self.d.is_admin(r).is_some() || self.d.admin_if_granted(r).is_none() {
                        continue;
                    }
                    if let Some(c) = self.d.check(actor, &ask) {
                        out.push(edge(
                            To::Admin,
                            Some(role.arn.clone()),
                            vec![c, assume.clone()],
                        ));
                    }
                }
            }
            PassRole {
                service,
                actions,
                instance_profile,
            } => {
                let Some(roles) = self.trusts.services.get(service) else {
                    return;
                };
                if !self.could(actor, "iam:PassRole")
                    || !actions.iter().all(|a| self.could(actor, a))
                {
                    return;
                }
                let mut steps = Vec::new();
                for a in actions {
                    match self.create_anything(actor, a) {
                        Some(c) => steps.push(c),
                        None => return,
                    }
                }
                for &r in roles.iter().filter(|&&r| r != actor.node) {
                    let role = &acct.nodes[r];
                    if !self.could_on(actor, "iam:PassRole", &role.arn) {
                        continue;
                    }
                    let pass = Ask::on("iam:PassRole", role.arn.clone())
                        .with("iam:PassedToService", service);
                    let Some(pass) = self.d.check(actor, &pass) else {
                        continue;
                    };
                    let mut checks = vec![pass];
                    if instance_profile && role.instance_profiles.is_empty() {
                        // No profile holds the role: the caller must make one.
                        let profile = format!(
                            "arn:{}:iam::{}:instance-profile/rampart-paths",
                            acct.partition, acct.account_id
                        );
                        let mut ok = true;
                        for a in ["iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile"] {
                            match self.d.check(actor, &Ask::on(a, profile.clone())) {
                                Some(c) => checks.push(c),
                                None => ok = false,
                            }
                        }
                        if !ok {
                            continue;
                        }
                    }
                    checks.extend(steps.iter().cloned());
                    out.push(edge(To::Node(r), None, checks));
                }
            }
            ExistingCode { service, actions } => {
                let Some(roles) = self.trusts.services.get(service) else {
                    return;
                };
                if !actions.iter().all(|a| self.could(actor, a)) {
                    return;
                }
                let mut steps = Vec::new();
                for a in actions {
                    match self.create_anything(actor, a) {
                        Some(c) => steps.push(c),
                        None => return,
                    }
                }
                for &r in roles.iter().filter(|&&r| r != actor.node) {
                    let mut e = edge(To::Node(r), None, steps.clone());
                    e.note = Some(format!(
                        "the snapshot does not list {service} resources: holds if one runs as this role"
                    ));
                    out.push(e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{resolve_variables, wildcard_match};

    fn m(pattern: &str, user: Option<&str>, text: &str) -> bool {
        wildcard_match(&resolve_variables(pattern, user), text)
    }

    #[test]
    fn the_resource_filter_matches_at_least_what_the_engine_does() {
        let u = "arn:aws:iam::1:user/Alice";
        assert!(m("*", None, u));
        assert!(m("arn:aws:iam::*:user/*", None, u));
        assert!(m("arn:aws:iam::1:USER/alice", None, u), "ignores case");
        assert!(m("arn:aws:iam::?:user/al*e", None, u));
        assert!(m("arn:aws:iam::1:user/${aws:username}", Some("Alice"), u));
        assert!(m("arn:aws:iam::1:user/${aws:username}", None, u));
        assert!(m(
            "arn:aws:iam::1:user/${aws:PrincipalTag/x}",
            Some("bob"),
            u
        ));
        assert!(!m("arn:aws:iam::1:user/${aws:username}", Some("bob"), u));
        assert!(!m("arn:aws:iam::1:role/*", None, u));
        assert!(!m("arn:aws:iam::1:user/al?", None, u));
        assert!(!m("", None, u));
        assert!(
            m("arn:aws:iam::1:user/é?", None, "arn:aws:iam::1:user/x"),
            "non-ASCII: yes"
        );
    }
}
