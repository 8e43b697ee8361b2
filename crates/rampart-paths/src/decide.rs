//! Every question the methods ask goes to the policy engine through here: one principal (its
//! identity policies, boundary and the account's SCPs, in the `may` and `must` variants), one
//! action on one resource, optionally with a resource policy (a role's trust policy).

use crate::account::{AccountIam, Node, NodeKind};
use crate::relax::is_known;
use rampart_policy::{
    CompiledPolicySet, ContextValue, Decision, Effect, Layer, Policy, PolicySet, Request,
    parse_policy,
};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

/// "Admin": full control of IAM on every resource — with it a principal grants itself `*:*`.
/// Each of these must be allowed on `*`.
pub const ADMIN_ACTIONS: &[&str] = &[
    "iam:AttachRolePolicy",
    "iam:AttachUserPolicy",
    "iam:PutRolePolicy",
    "iam:PutUserPolicy",
    "iam:CreatePolicyVersion",
    "iam:UpdateAssumeRolePolicy",
    "iam:CreateAccessKey",
    "iam:PassRole",
];

/// The policy an escalating principal would attach (the value of `iam:PolicyARN`).
pub const ADMIN_POLICY: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

/// A statement that allowed a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cite {
    /// `identity` or `trust`.
    pub layer: &'static str,
    /// The policy's ARN, or `user/NAME inline POLICY`, `role/NAME trust policy`.
    pub policy: String,
    /// The statement's `Sid`, else `#N` (0-based).
    pub statement: String,
}

impl std::fmt::Display for Cite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} statement {}", self.policy, self.statement)
    }
}

/// One request the engine allowed, with why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// The principal that makes the request (a role acts through a session).
    pub caller: String,
    pub action: String,
    pub resource: String,
    /// Context keys the analysis set (e.g. `iam:PassedToService`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub context: BTreeMap<String, String>,
    /// The trust policy taking part (an arena label), for `sts:AssumeRole`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_policy: Option<String>,
    pub allowed_by: Vec<Cite>,
    /// Set when the step holds only if conditions on keys a snapshot cannot know hold (the keys
    /// named): the engine allows it when they do and does not when they do not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditional: Option<String>,
    /// Set while `allowed_by` is still to be filled in: the graph decides a million requests
    /// but only the steps of reported paths need their statements, so those are explained when
    /// a path is walked.
    #[serde(skip)]
    pub(crate) explain_later: Option<Later>,
}

/// What explaining a check later needs beyond the check itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Later {
    /// The trust policy taking part (arena index).
    trust: Option<usize>,
}

/// One request to ask.
pub(crate) struct Ask {
    pub action: &'static str,
    pub resource: String,
    pub context: Vec<(&'static str, String)>,
    /// Arena index of a resource policy (a trust policy), or an ad hoc one.
    pub resource_policy: Option<ResourcePolicy>,
}

#[derive(Clone)]
pub(crate) enum ResourcePolicy {
    Arena(usize),
    /// A policy the method writes (a rewritten trust policy), with its label.
    Written(String, Box<crate::relax::Relaxed>),
}

impl Ask {
    pub fn on(action: &'static str, resource: impl Into<String>) -> Ask {
        Ask {
            action,
            resource: resource.into(),
            context: Vec::new(),
            resource_policy: None,
        }
    }

    pub fn with(mut self, key: &'static str, value: impl Into<String>) -> Ask {
        self.context.push((key, value.into()));
        self
    }

    pub fn trust(mut self, p: ResourcePolicy) -> Ask {
        self.resource_policy = Some(p);
        self
    }
}

/// A principal ready to ask about: its policy sets compiled once.
pub(crate) struct Actor {
    pub node: usize,
    pub caller: String,
    may_set: PolicySet,
    must_set: PolicySet,
    may: CompiledPolicySet,
    must: std::cell::OnceCell<CompiledPolicySet>,
    /// `may` plus a trust policy naming the account: answers the identity side of
    /// `sts:AssumeRole` on any role whose trust delegates to the account.
    delegated: std::cell::OnceCell<CompiledPolicySet>,
    /// The roles this actor can assume with the step, found once (several methods need them).
    pub assumable: std::cell::OnceCell<Vec<(usize, Check)>>,
    /// Per action: could a statement of the actor's own policies or the SCPs that tests an
    /// unknown key apply to it?
    unknown_for: RefCell<HashMap<&'static str, bool>>,
    /// Per action: the resource patterns of the actor's Allow statements for it (variables
    /// resolved), for the methods' syntactic filter.
    pub resource_patterns: RefCell<HashMap<&'static str, Vec<String>>>,
    /// `may`/`must` with a trust policy, per distinct trust document: thousands of roles share
    /// a handful of trust documents, so each is compiled once per actor, not once per role.
    trusted: RefCell<HashMap<usize, Rc<Trusted>>>,
}

/// An actor's sets with one trust policy as the resource policy.
struct Trusted {
    may: CompiledPolicySet,
    must: std::cell::OnceCell<CompiledPolicySet>,
}

pub(crate) struct Decider<'a> {
    pub acct: &'a AccountIam,
    base_context: BTreeMap<String, ContextValue>,
    /// Per arena index of a trust policy, the first arena index with the same document (made
    /// on first use).
    same_trust: std::sync::OnceLock<HashMap<usize, usize>>,
    /// Per node, [`Decider::is_admin`] and [`Decider::admin_if_granted`] once decided (the
    /// policy-on-an-assumable-role methods ask them about every role an actor reaches).
    admin: Vec<std::sync::OnceLock<Option<bool>>>,
    admin_granted: Vec<std::sync::OnceLock<Option<bool>>>,
}

impl<'a> Decider<'a> {
    pub fn new(acct: &'a AccountIam) -> Self {
        let mut base_context = BTreeMap::new();
        if let Some(org) = &acct.org_id {
            base_context.insert(
                "aws:PrincipalOrgID".to_string(),
                ContextValue::String(org.clone()),
            );
        }
        Decider {
            acct,
            base_context,
            same_trust: std::sync::OnceLock::new(),
            admin: (0..acct.nodes.len()).map(|_| Default::default()).collect(),
            admin_granted: (0..acct.nodes.len()).map(|_| Default::default()).collect(),
        }
    }

    fn same_trust(&self, trust: usize) -> usize {
        let map = self.same_trust.get_or_init(|| {
            let mut first: HashMap<String, usize> = HashMap::new();
            self.acct
                .nodes
                .iter()
                .filter_map(|n| n.trust)
                .map(|t| {
                    let doc = format!("{:?}", self.acct.arena[t].policy.original);
                    (t, *first.entry(doc).or_insert(t))
                })
                .collect()
        });
        map.get(&trust).copied().unwrap_or(trust)
    }

    /// The actor's compiled sets with this trust policy (compiled on first use per distinct
    /// document); `None` for a written policy, which is compiled per question.
    fn trusted(&self, actor: &Actor, rp: &ResourcePolicy) -> Option<Rc<Trusted>> {
        let ResourcePolicy::Arena(i) = rp else {
            return None;
        };
        let key = self.same_trust(*i);
        let mut cache = actor.trusted.borrow_mut();
        let t = cache.entry(key).or_insert_with(|| {
            let mut set = actor.may_set.clone();
            set.resource = Some(self.resource_variant(rp, true));
            Rc::new(Trusted {
                may: CompiledPolicySet::from_set(set),
                must: std::cell::OnceCell::new(),
            })
        });
        Some(t.clone())
    }

    /// The sets for a node, with its identity policies optionally replaced.
    fn sets(&self, identity: &[usize], boundary: Option<usize>) -> (PolicySet, PolicySet) {
        let a = self.acct;
        let pick = |f: fn(&crate::relax::Relaxed) -> &Policy| PolicySet {
            identity: identity
                .iter()
                .map(|&i| f(&a.arena[i].policy).clone())
                .collect(),
            boundaries: boundary
                .map(|b| vec![f(&a.arena[b].policy).clone()])
                .unwrap_or_default(),
            ..PolicySet::default()
        };
        let mut may = pick(|r| &r.may);
        let mut must = pick(|r| &r.must);
        if let Some((m, s)) = &a.scps_relaxed {
            may.scps = Some(m.clone());
            must.scps = Some(s.clone());
        }
        (may, must)
    }

    pub fn actor(&self, node: usize) -> Actor {
        let n = &self.acct.nodes[node];
        let (may_set, must_set) = self.sets(&n.identity, n.boundary);
        Actor {
            node,
            caller: n.caller_arn(&self.acct.account_id, &self.acct.partition),
            may: CompiledPolicySet::new(&may_set),
            may_set,
            must_set,
            must: std::cell::OnceCell::new(),
            delegated: std::cell::OnceCell::new(),
            trusted: RefCell::new(HashMap::new()),
            assumable: std::cell::OnceCell::new(),
            unknown_for: RefCell::new(HashMap::new()),
            resource_patterns: RefCell::new(HashMap::new()),
        }
    }

    fn request(&self, caller: &str, ask: &Ask) -> Request {
        let mut context = self.base_context.clone();
        for (k, v) in &ask.context {
            context.insert(k.to_string(), ContextValue::String(v.clone()));
        }
        Request {
            action: ask.action.to_string(),
            resource: ask.resource.clone(),
            principal: Some(caller.to_string()),
            context,
            ..Request::default()
        }
    }

    /// Could a statement testing a key a snapshot cannot know apply to `action`? Only then can
    /// the `must` variant answer differently from `may` (they differ in no other statement).
    fn unknown_may_apply(&self, actor: &Actor, ask: &Ask) -> bool {
        let applies = |p: &Policy| {
            p.statements.iter().any(|st| {
                st.action.actions.iter().any(|a| a.matches(ask.action)) != st.action.negated
                    && st.conditions.iter().any(|c| !is_known(&c.key))
            })
        };
        let trust = ask.resource_policy.as_ref().is_some_and(|rp| {
            applies(match rp {
                ResourcePolicy::Arena(i) => self.acct.policy(*i),
                ResourcePolicy::Written(_, r) => &r.original,
            })
        });
        trust
            || *actor
                .unknown_for
                .borrow_mut()
                .entry(ask.action)
                .or_insert_with(|| {
                    let node = &self.acct.nodes[actor.node];
                    node.identity
                        .iter()
                        .chain(node.boundary.iter())
                        .any(|&i| applies(self.acct.policy(i)))
                        || self
                            .acct
                            .scps
                            .iter()
                            .flatten()
                            .flat_map(|l| &l.policies)
                            .any(applies)
                })
    }

    fn resource_variant(&self, rp: &ResourcePolicy, may: bool) -> Policy {
        let r = match rp {
            ResourcePolicy::Arena(i) => &self.acct.arena[*i].policy,
            ResourcePolicy::Written(_, r) => r,
        };
        if may { r.may.clone() } else { r.must.clone() }
    }

    fn resource_label(&self, rp: &ResourcePolicy) -> String {
        match rp {
            ResourcePolicy::Arena(i) => self.acct.arena[*i].label.clone(),
            ResourcePolicy::Written(l, _) => l.clone(),
        }
    }

    /// The engine's answer in the `may` variant only (no explanation): the fast filter.
    pub fn may_allow(&self, actor: &Actor, ask: &Ask) -> bool {
        let req = self.request(&actor.caller, ask);
        match &ask.resource_policy {
            None => actor.may.decide(&req) == Decision::Allowed,
            Some(rp) => match self.trusted(actor, rp) {
                Some(t) => t.may.decide(&req) == Decision::Allowed,
                None => {
                    let mut set = actor.may_set.clone();
                    set.resource = Some(self.resource_variant(rp, true));
                    CompiledPolicySet::from_set(set).decide(&req) == Decision::Allowed
                }
            },
        }
    }

    /// Could the identity side allow `sts:AssumeRole` on `role_arn` for a trust that delegates
    /// to the account? (One compiled set per actor; a filter before the real question.)
    pub fn identity_may_assume(&self, actor: &Actor, role_arn: &str) -> bool {
        let c = actor.delegated.get_or_init(|| {
            let mut set = actor.may_set.clone();
            let doc = format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:{}:iam::{}:root"}},"Action":"sts:AssumeRole"}}]}}"#,
                self.acct.partition, self.acct.account_id
            );
            set.resource = parse_policy(&doc).ok();
            CompiledPolicySet::from_set(set)
        });
        let req = self.request(&actor.caller, &Ask::on("sts:AssumeRole", role_arn));
        c.decide(&req) == Decision::Allowed
    }

    /// The full answer: `None` when the engine does not allow the request even with every
    /// unknown condition in the caller's favour; else the step with the allowing statements.
    pub fn check(&self, actor: &Actor, ask: &Ask) -> Option<Check> {
        if !self.may_allow(actor, ask) {
            return None;
        }
        let req = self.request(&actor.caller, ask);
        let owned;
        let cached;
        let (may, must): (&CompiledPolicySet, &CompiledPolicySet) = match &ask.resource_policy {
            None => (
                &actor.may,
                actor
                    .must
                    .get_or_init(|| CompiledPolicySet::new(&actor.must_set)),
            ),
            Some(rp) if let Some(t) = self.trusted(actor, rp) => {
                cached = t;
                let must = cached.must.get_or_init(|| {
                    let mut set = actor.must_set.clone();
                    set.resource = Some(self.resource_variant(rp, false));
                    CompiledPolicySet::from_set(set)
                });
                (&cached.may, must)
            }
            Some(rp) => {
                let mut may = actor.may_set.clone();
                may.resource = Some(self.resource_variant(rp, true));
                let mut must = actor.must_set.clone();
                must.resource = Some(self.resource_variant(rp, false));
                owned = (
                    CompiledPolicySet::from_set(may),
                    CompiledPolicySet::from_set(must),
                );
                (&owned.0, &owned.1)
            }
        };
        let node = &self.acct.nodes[actor.node];
        // A written trust policy is not kept: explain now. Otherwise later, on a path.
        let (allowed_by, explain_later) = match &ask.resource_policy {
            Some(rp @ ResourcePolicy::Written(..)) => (
                self.cites(actor, may, &req, Some(self.resource_label(rp))),
                None,
            ),
            Some(ResourcePolicy::Arena(i)) => (Vec::new(), Some(Later { trust: Some(*i) })),
            None => (Vec::new(), Some(Later { trust: None })),
        };
        let conditional = (self.unknown_may_apply(actor, ask)
            && must.decide(&req) != Decision::Allowed)
            .then(|| self.unknown_note(node, ask));
        Some(Check {
            caller: actor.caller.clone(),
            action: ask.action.to_string(),
            resource: ask.resource.clone(),
            context: ask
                .context
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            resource_policy: ask
                .resource_policy
                .as_ref()
                .map(|rp| self.resource_label(rp)),
            allowed_by,
            conditional,
            explain_later,
        })
    }

    /// The Allow statements (identity and trust) the engine names for this request.
    fn cites(
        &self,
        actor: &Actor,
        may: &CompiledPolicySet,
        req: &Request,
        trust_label: Option<String>,
    ) -> Vec<Cite> {
        let node = &self.acct.nodes[actor.node];
        let e = may.evaluate(req);
        let mut allowed_by = Vec::new();
        for l in &e.explain.layers {
            let layer = match l.layer {
                Layer::IdentityPolicy => "identity",
                Layer::ResourcePolicy => "trust",
                _ => continue,
            };
            for s in l.statements.iter().filter(|s| s.effect == Effect::Allow) {
                let policy = match l.layer {
                    Layer::IdentityPolicy => node
                        .identity
                        .get(s.policy)
                        .map(|&i| self.acct.arena[i].label.clone())
                        .unwrap_or_default(),
                    _ => trust_label.clone().unwrap_or_default(),
                };
                allowed_by.push(Cite {
                    layer,
                    policy,
                    statement: s.sid.clone().unwrap_or_else(|| format!("#{}", s.statement)),
                });
            }
        }
        allowed_by
    }

    /// Fills in the allowing statements of a check `actor` made, if not done yet.
    pub fn explain(&self, actor: &Actor, check: &mut Check) {
        let Some(later) = check.explain_later.take() else {
            return;
        };
        let mut context = self.base_context.clone();
        for (k, v) in &check.context {
            context.insert(k.clone(), ContextValue::String(v.clone()));
        }
        let req = Request {
            action: check.action.clone(),
            resource: check.resource.clone(),
            principal: Some(actor.caller.clone()),
            context,
            ..Request::default()
        };
        check.allowed_by = match later.trust {
            None => self.cites(actor, &actor.may, &req, None),
            Some(i) => {
                let rp = ResourcePolicy::Arena(i);
                let label = Some(self.resource_label(&rp));
                match self.trusted(actor, &rp) {
                    Some(t) => self.cites(actor, &t.may, &req, label),
                    None => Vec::new(),
                }
            }
        };
    }

    /// Names the keys a snapshot cannot know that statements for this action test.
    fn unknown_note(&self, node: &Node, ask: &Ask) -> String {
        let mut keys: Vec<String> = Vec::new();
        let mut scan = |p: &Policy| {
            for st in &p.statements {
                let hit = st.action.actions.iter().any(|a| a.matches(ask.action));
                if hit == st.action.negated {
                    continue;
                }
                for c in &st.conditions {
                    if !is_known(&c.key) && !keys.contains(&c.key) {
                        keys.push(c.key.clone());
                    }
                }
            }
        };
        for &i in node.identity.iter().chain(node.boundary.iter()) {
            scan(self.acct.policy(i));
        }
        for l in self.acct.scps.iter().flatten() {
            l.policies.iter().for_each(&mut scan);
        }
        if let Some(rp) = &ask.resource_policy {
            scan(&self.resource_variant(rp, true));
            if let ResourcePolicy::Arena(i) = rp {
                scan(self.acct.policy(*i));
            }
        }
        if keys.is_empty() {
            "allowed only when conditions the snapshot cannot settle hold".to_string()
        } else {
            format!(
                "allowed only when conditions on {} hold (request context a snapshot does not know)",
                keys.join(", ")
            )
        }
    }

    /// Is a principal with these identity policies and boundary admin? `None` when not, else
    /// whether only conditionally.
    pub fn admin_with(
        &self,
        caller: &str,
        identity: &[usize],
        extra: Option<&Policy>,
        boundary: Option<usize>,
    ) -> Option<bool> {
        let (mut may, mut must) = self.sets(identity, boundary);
        if let Some(p) = extra {
            may.identity.push(p.clone());
            must.identity.push(p.clone());
        }
        let may = CompiledPolicySet::from_set(may);
        let ok = |c: &CompiledPolicySet| {
            ADMIN_ACTIONS.iter().all(|a| {
                let req =
                    self.request(caller, &Ask::on(a, "*").with("iam:PolicyARN", ADMIN_POLICY));
                c.decide(&req) == Decision::Allowed
            })
        };
        if !ok(&may) {
            return None;
        }
        Some(!ok(&CompiledPolicySet::from_set(must)))
    }

    /// Is the node admin as it stands?
    pub fn is_admin(&self, node: usize) -> Option<bool> {
        *self.admin[node].get_or_init(|| self.decide_admin(node))
    }

    fn decide_admin(&self, node: usize) -> Option<bool> {
        let n = &self.acct.nodes[node];
        let caller = n.caller_arn(&self.acct.account_id, &self.acct.partition);
        self.admin_with(&caller, &n.identity, None, n.boundary)
    }

    /// Would the node be admin if it attached `AdministratorAccess` to itself (its boundary and
    /// the SCPs still apply)?
    pub fn admin_if_granted(&self, node: usize) -> Option<bool> {
        *self.admin_granted[node].get_or_init(|| self.decide_admin_if_granted(node))
    }

    fn decide_admin_if_granted(&self, node: usize) -> Option<bool> {
        let n = &self.acct.nodes[node];
        if n.kind == NodeKind::Group {
            // A group's members bring their own boundaries; the group alone has none.
            return Some(false);
        }
        let caller = n.caller_arn(&self.acct.account_id, &self.acct.partition);
        self.admin_with(&caller, &n.identity, Some(allow_all()), n.boundary)
    }
}

/// An identity policy allowing everything: what "attach AdministratorAccess" adds.
pub(crate) fn allow_all() -> &'static Policy {
    static P: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        parse_policy(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        )
        .unwrap_or_else(|_| unreachable!("constant policy parses"))
    })
}
