//! The decision: AWS's documented evaluation logic over every policy layer, with an
//! explanation of which statements decided it.

use crate::cond::{self, Lookup, Vals};
use crate::glob::{self, Ch, Glob, chars_of};
use crate::model::{Effect, Policy, PrincipalKind, Principals, Statement, Version};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

/// A request context value. Strings, lists (multi-valued keys such as `aws:TagKeys`),
/// booleans (`aws:SecureTransport`) and numbers (`aws:MultiFactorAuthAge`). Conditions compare
/// them as text, as AWS does (`true`, `3600`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ContextValue {
    String(String),
    List(Vec<String>),
    Bool(bool),
    Number(f64),
}

impl ContextValue {
    fn vals(&self) -> Vals<'_> {
        match self {
            ContextValue::String(s) => Vals::One(Cow::Borrowed(s.as_str())),
            ContextValue::List(l) => Vals::Many(l),
            ContextValue::Bool(b) => Vals::One(Cow::Borrowed(if *b { "true" } else { "false" })),
            ContextValue::Number(n) => Vals::One(Cow::Owned(number_text(*n))),
        }
    }
}

fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// One request: who (`principal`), does what (`action`), to what (`resource`), with which
/// context keys. Account ids default to the ones in the ARNs.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub action: String,
    pub resource: String,
    /// The account that owns the resource (S3 ARNs carry none: pass it).
    pub resource_account: Option<String>,
    /// The caller's ARN (user, role, `assumed-role` session, `federated-user`, account root),
    /// a service principal (`cloudtrail.amazonaws.com`), or `None` for an anonymous request.
    pub principal: Option<String>,
    pub principal_account: Option<String>,
    /// Context keys (names case-insensitive). `aws:PrincipalArn`, `aws:PrincipalAccount`,
    /// `aws:username` and `aws:ResourceAccount` are derived when not given.
    pub context: BTreeMap<String, ContextValue>,
}

/// One level of an organization's path: root, each OU, then the account, in order.
#[derive(Debug, Clone)]
pub struct OrgLevel {
    pub id: String,
    pub policies: Vec<Policy>,
}

/// Every policy that takes part in a decision. `None` for `scps`/`rcps` means "not in an
/// organization" (or, for SCPs, the management account, which SCPs do not restrict).
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    pub identity: Vec<Policy>,
    /// Each boundary must allow (a principal has at most one in AWS).
    pub boundaries: Vec<Policy>,
    pub session: Option<Policy>,
    pub resource: Option<Policy>,
    pub scps: Option<Vec<OrgLevel>>,
    pub rcps: Option<Vec<OrgLevel>>,
    /// The policy of the VPC endpoint the request goes through; `None` when it does not go
    /// through one (or the service does not support endpoint policies: AWS then allows full
    /// access through the endpoint). A layer of its own: it grants nothing, and a request it
    /// does not allow is denied whatever the other policies say.
    pub vpc_endpoint: Option<Policy>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Decision {
    Allowed,
    ImplicitlyDenied,
    ExplicitlyDenied,
}

/// The policy layers of the AWS evaluation logic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Layer {
    ResourceControlPolicy,
    ServiceControlPolicy,
    ResourcePolicy,
    IdentityPolicy,
    PermissionBoundary,
    SessionPolicy,
    VpcEndpointPolicy,
}

/// A statement that applied to the request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementRef {
    /// Index of the policy within its layer (or org level).
    pub policy: usize,
    /// Index of the statement within the policy.
    pub statement: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub effect: Effect,
    pub line: usize,
    pub column: usize,
}

/// What one layer (or one org level) said.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerReport {
    pub layer: Layer,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_level: Option<String>,
    /// `Allowed`, `ImplicitlyDenied` (no applicable Allow) or `ExplicitlyDenied`.
    pub result: Decision,
    pub statements: Vec<StatementRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explain {
    /// The rule of the AWS evaluation logic that decided.
    pub reason: String,
    /// Which layer decided (absent when allowed by the ordinary intersection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deciding_layer: Option<Layer>,
    pub same_account: bool,
    pub layers: Vec<LayerReport>,
    /// How rampart read an unusual request (a wildcard or incomplete resource ARN), so the
    /// answer is not mistaken for more than it says.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub decision: Decision,
    pub explain: Explain,
}

/// The action AWS answers without an authorization check.
const CALLER_IDENTITY: &str = "sts:GetCallerIdentity";

/// Evaluates one request (compiles the set first; use [`CompiledPolicySet`] for many).
pub fn evaluate(req: &Request, set: &PolicySet) -> Evaluation {
    CompiledPolicySet::new(set).evaluate(req)
}

/// Interned lower-cased service prefixes and `service:action` names, so a request's action is
/// looked up once and each policy answers with the statements that name it.
#[derive(Debug, Clone, Default)]
struct Interner {
    services: FxMap,
    actions: FxMap,
}

type FxMap = HashMap<String, u32, std::hash::BuildHasherDefault<Fx>>;

/// The Fx hash (as in rustc): a few cycles per word, ample for short interned names.
#[derive(Default, Clone, Copy)]
pub(crate) struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl Interner {
    fn id(map: &mut FxMap, key: &str) -> u32 {
        if let Some(&id) = map.get(key) {
            return id;
        }
        let next = map.len() as u32;
        map.insert(key.to_string(), next);
        next
    }
}

/// A policy indexed by action: literal actions map straight to their statements; wildcard
/// action names by service; `NotAction` and wildcard services go to the generic list.
#[derive(Debug, Clone)]
struct Indexed {
    policy: Policy,
    /// (action id, statements naming it literally), sorted by id.
    exact: Vec<(u32, Vec<u32>)>,
    /// (service id, statements with a wildcard action name in that service), sorted by id.
    by_service: Vec<(u32, Vec<u32>)>,
    generic: Vec<u32>,
}

/// Removes repeats from `v[start..]` (sorted): a statement naming an action twice is listed once.
fn dedup_tail(v: &mut Vec<(u32, u32)>, start: usize) {
    let mut w = start;
    for r in start..v.len() {
        if w == start || v[w - 1] != v[r] {
            v[w] = v[r];
            w += 1;
        }
    }
    v.truncate(w);
}

/// (id, statement) pairs in statement order → (id, statements) sorted by id, statements in order.
fn group(mut pairs: Vec<(u32, u32)>) -> Vec<(u32, Vec<u32>)> {
    pairs.sort_unstable();
    let mut out: Vec<(u32, Vec<u32>)> = Vec::new();
    for (id, st) in pairs {
        match out.last_mut() {
            Some((last, sts)) if *last == id => sts.push(st),
            _ => out.push((id, vec![st])),
        }
    }
    out
}

impl Indexed {
    fn new(policy: Policy, ids: &mut Interner) -> Indexed {
        // (id, statement) pairs, sorted then grouped: no tree per policy.
        let mut exact: Vec<(u32, u32)> = Vec::new();
        let mut by_service: Vec<(u32, u32)> = Vec::new();
        let mut generic = Vec::new();
        let mut key = String::new();
        for (i, s) in policy.statements.iter().enumerate() {
            let i = i as u32;
            let acts = &s.action.actions;
            if s.action.negated {
                generic.push(i);
            } else if acts.iter().all(|a| a.literal_parts().is_some()) {
                let start = exact.len();
                for (svc, name) in acts.iter().filter_map(|a| a.literal_parts()) {
                    key.clear();
                    key.push_str(svc);
                    key.push(':');
                    key.push_str(name);
                    exact.push((Interner::id(&mut ids.actions, &key), i));
                }
                exact[start..].sort_unstable();
                dedup_tail(&mut exact, start);
            } else if acts.iter().all(|a| a.service().is_some()) {
                let start = by_service.len();
                for svc in acts.iter().filter_map(|a| a.service()) {
                    by_service.push((Interner::id(&mut ids.services, svc), i));
                }
                by_service[start..].sort_unstable();
                dedup_tail(&mut by_service, start);
            } else {
                generic.push(i);
            }
        }
        Indexed {
            policy,
            exact: group(exact),
            by_service: group(by_service),
            generic,
        }
    }

    /// Candidate statements; the flag says the action is already known to match.
    fn candidates<'a>(
        &'a self,
        service: Option<u32>,
        action: Option<u32>,
    ) -> impl Iterator<Item = (usize, &'a Statement, bool)> + 'a {
        let find = |list: &'a [(u32, Vec<u32>)], id: Option<u32>| -> &'a [u32] {
            match id.map(|id| list.binary_search_by_key(&id, |e| e.0)) {
                Some(Ok(i)) => &list[i].1,
                _ => &[],
            }
        };
        let exact = find(&self.exact, action).iter().map(|&i| (i, true));
        let rest = find(&self.by_service, service)
            .iter()
            .chain(self.generic.iter())
            .map(|&i| (i, false));
        exact
            .chain(rest)
            .map(move |(i, known)| (i as usize, &self.policy.statements[i as usize], known))
    }
}

/// A [`PolicySet`] compiled once for many requests.
#[derive(Debug, Clone)]
pub struct CompiledPolicySet {
    ids: Interner,
    identity: Vec<Indexed>,
    boundaries: Vec<Indexed>,
    session: Option<Indexed>,
    resource: Option<Indexed>,
    vpc_endpoint: Option<Indexed>,
    scps: Option<Vec<(String, Vec<Indexed>)>>,
    rcps: Option<Vec<(String, Vec<Indexed>)>>,
}

/// How a resource-policy statement's `Principal` matched the caller, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Grant {
    /// The caller's account: a delegation; the identity side must still allow.
    Account,
    /// The caller's role ARN: the boundary and session policy still apply (same account).
    Role,
    /// The caller itself (user, session, service), `"*"`, or via `NotPrincipal`.
    Direct,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    Anonymous,
    Root,
    User,
    Role,
    /// `assumed-role/ROLE/SESSION` (the role name is in `Prepared::role`).
    RoleSession,
    FederatedUser,
    Service,
    Other,
}

struct Prepared<'r> {
    req: &'r Request,
    /// The role name of a role session, else empty.
    role: &'r str,
    service: &'r str,
    name: &'r str,
    shape: Shape,
    service_id: Option<u32>,
    action_id: Option<u32>,
    /// `aws:PrincipalArn` (the role ARN for role sessions), built on first use.
    arn: std::cell::OnceCell<Option<String>>,
    slr: bool,
    principal_account: Option<&'r str>,
    resource_account: Option<&'r str>,
    /// Set when the request's resource stands for many resources (a wildcard or an incomplete
    /// ARN): the pattern they all match (see [`resource_set`]).
    resource_set: Option<Vec<Ch>>,
    /// The resource to match when it names one resource (escapes resolved).
    resource: Cow<'r, str>,
}

/// What a request's resource names. `*` alone is the resource of actions without a resource
/// type (AWS's own notation) and is matched as written, as is every complete ARN. An ARN with a
/// `*` or `?` names every resource it matches; an incomplete ARN (fewer than six segments, or
/// an empty resource segment: `arn:aws:sqs`, `arn:aws:s3:::`) names every resource whose ARN
/// starts with it. For those, rampart answers only what holds for every resource named. A
/// literal `*`, `?` or `$` in a resource name (an S3 key may hold one) is written `${*}`,
/// `${?}`, `${$}`, as in policies.
fn resource_set(resource: &str) -> Option<(Vec<Ch>, String)> {
    if resource == "*" {
        return None;
    }
    let chars = request_resource_chars(resource);
    let wild = chars.iter().any(|c| !matches!(c, Ch::C(_)));
    let incomplete = resource.starts_with("arn:") && {
        let mut segments = resource.splitn(6, ':');
        segments.nth(5).is_none_or(str::is_empty)
    };
    if incomplete {
        let mut set = chars;
        if !resource.ends_with(':') && resource.splitn(6, ':').count() < 6 {
            set.push(Ch::C(':'));
        }
        if set.last() != Some(&Ch::Star) {
            set.push(Ch::Star);
        }
        let note = format!(
            "the request's resource \"{resource}\" is not a complete ARN (arn:partition:service:region:account:resource): read as every resource whose ARN starts with it; Allowed or ExplicitlyDenied is given only when it holds for every one of them"
        );
        return Some((set, note));
    }
    if wild {
        let note = format!(
            "the request's resource \"{resource}\" contains wildcards: read as every resource it matches; a statement counts only if its Resource covers all of them (Allowed and ExplicitlyDenied hold for every one), and a Deny that covers only some of them makes the answer ImplicitlyDenied"
        );
        return Some((chars, note));
    }
    None
}

/// The request's resource as pattern positions: `*` and `?` are wildcards, `${*}`, `${?}` and
/// `${$}` literal characters.
fn request_resource_chars(resource: &str) -> Vec<Ch> {
    let mut out = Vec::with_capacity(resource.len());
    let mut rest = resource;
    while let Some(c) = rest.chars().next() {
        if let Some(lit) = ["${*}", "${?}", "${$}"]
            .iter()
            .find(|e| rest.starts_with(*e))
        {
            out.push(Ch::C(lit.as_bytes()[2] as char));
            rest = &rest[4..];
            continue;
        }
        out.push(match c {
            '*' => Ch::Star,
            '?' => Ch::One,
            c => Ch::C(c),
        });
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The request's resource with the `${*}`, `${?}`, `${$}` escapes resolved (borrowed when it
/// has none, as every ordinary ARN).
fn literal_resource(resource: &str) -> Cow<'_, str> {
    if !resource.contains("${") {
        return Cow::Borrowed(resource);
    }
    Cow::Owned(
        request_resource_chars(resource)
            .into_iter()
            .map(|c| match c {
                Ch::C(c) => c,
                Ch::One => '?',
                Ch::Star => '*',
            })
            .collect(),
    )
}

fn arn_account(arn: &str) -> Option<String> {
    arn_account_ref(arn).map(str::to_string)
}

fn arn_account_ref(arn: &str) -> Option<&str> {
    let acct = arn.split(':').nth(4)?;
    (acct.len() == 12 && acct.bytes().all(|b| b.is_ascii_digit())).then_some(acct)
}

fn shape_of(p: Option<&str>) -> (Shape, &str) {
    let Some(p) = p else {
        return (Shape::Anonymous, "");
    };
    let mut it = p.splitn(6, ':');
    let parts = [
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
    ];
    if let [Some("arn"), Some(_), Some(svc), Some(_), Some(_), Some(res)] = parts {
        match svc {
            "iam" if res == "root" => return (Shape::Root, ""),
            "iam" if res.starts_with("user/") => return (Shape::User, ""),
            "iam" if res.starts_with("role/") => return (Shape::Role, ""),
            "sts" if res.starts_with("assumed-role/") => {
                let role = res["assumed-role/".len()..].split('/').next().unwrap_or("");
                return (Shape::RoleSession, role);
            }
            "sts" if res.starts_with("federated-user/") => return (Shape::FederatedUser, ""),
            _ => return (Shape::Other, ""),
        }
    }
    if p.ends_with(".amazonaws.com") || p.ends_with(".amazonaws.com.cn") {
        (Shape::Service, "")
    } else {
        (Shape::Other, "")
    }
}

fn principal_arn_of(p: Option<&str>, shape: &Shape, role: &str) -> Option<String> {
    {
        let p = p?;
        match shape {
            Shape::RoleSession => {
                let parts: Vec<&str> = p.splitn(6, ':').collect();
                Some(format!(
                    "arn:{}:iam::{}:role/{role}",
                    parts.get(1).unwrap_or(&"aws"),
                    parts.get(4).unwrap_or(&"")
                ))
            }
            Shape::Service | Shape::Anonymous => None,
            _ => Some(p.to_string()),
        }
    }
}

impl Prepared<'_> {
    fn arn(&self) -> Option<&str> {
        self.arn
            .get_or_init(|| principal_arn_of(self.req.principal.as_deref(), &self.shape, self.role))
            .as_deref()
    }

    fn principal_arn(&self) -> Option<String> {
        self.arn().map(str::to_string)
    }

    fn derived(&self, key: &str) -> Option<Cow<'_, str>> {
        if !key.starts_with("aws:") && key != "kms:calleraccount" {
            return None;
        }
        match key {
            "aws:principalarn" => self.arn().map(Cow::Borrowed),
            // KMS's name for the caller's account; SNS's legacy `aws:SourceOwner` is the
            // calling account too when an IAM principal (not a service) calls.
            "aws:principalaccount" | "kms:calleraccount" => {
                self.principal_account.map(Cow::Borrowed)
            }
            "aws:sourceowner" if self.shape != Shape::Service => {
                self.principal_account.map(Cow::Borrowed)
            }
            "aws:resourceaccount" => self.resource_account.map(Cow::Borrowed),
            "aws:username" if self.shape == Shape::User => self
                .req
                .principal
                .as_deref()?
                .rsplit('/')
                .next()
                .map(Cow::Borrowed),
            "aws:principalisawsservice" => Some(Cow::Borrowed(if self.shape == Shape::Service {
                "true"
            } else {
                "false"
            })),
            "aws:principalservicename" if self.shape == Shape::Service => {
                self.req.principal.as_deref().map(Cow::Borrowed)
            }
            _ => None,
        }
    }

    fn given(&self, key_lower: &str) -> Option<&ContextValue> {
        self.req
            .context
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key_lower))
            .map(|(_, v)| v)
    }

    fn is_service_linked_role(&self) -> bool {
        let p = self.req.principal.as_deref().unwrap_or("");
        match &self.shape {
            Shape::Role => {
                p.contains(":role/aws-service-role/")
                    || p.rsplit('/')
                        .next()
                        .is_some_and(|n| n.starts_with("AWSServiceRoleFor"))
            }
            Shape::RoleSession => self.role.starts_with("AWSServiceRoleFor"),
            _ => false,
        }
    }
}

impl Lookup for Prepared<'_> {
    fn values(&self, key_lower: &str) -> Option<Vals<'_>> {
        if let Some(v) = self.given(key_lower) {
            return Some(v.vals());
        }
        self.derived(key_lower).map(Vals::One)
    }

    fn single(&self, key_lower: &str) -> Option<String> {
        match self.given(key_lower) {
            Some(ContextValue::List(_)) => None,
            Some(v) => v.vals().iter().next().map(str::to_string),
            None => self.derived(key_lower).map(Cow::into_owned),
        }
    }
}

#[derive(Default)]
struct Outcome {
    allow: bool,
    deny: bool,
    /// A Deny statement applies to some, not all, of the resources a wildcard request names.
    partial_deny: bool,
    grant: Option<Grant>,
    refs: Vec<StatementRef>,
}

impl Outcome {
    fn result(&self) -> Decision {
        if self.deny {
            Decision::ExplicitlyDenied
        } else if self.allow {
            Decision::Allowed
        } else {
            Decision::ImplicitlyDenied
        }
    }
}

impl CompiledPolicySet {
    pub fn new(set: &PolicySet) -> CompiledPolicySet {
        CompiledPolicySet::from_set(set.clone())
    }

    /// Compiles a set it takes over, without copying its policies (the `simulate` loop: one set
    /// per request, used once).
    pub fn from_set(set: PolicySet) -> CompiledPolicySet {
        let mut ids = Interner::default();
        fn all(pols: Vec<Policy>, ids: &mut Interner) -> Vec<Indexed> {
            pols.into_iter().map(|p| Indexed::new(p, ids)).collect()
        }
        let levels = |l: Option<Vec<OrgLevel>>, ids: &mut Interner| {
            l.map(|v| {
                v.into_iter()
                    .map(|lvl| (lvl.id, all(lvl.policies, ids)))
                    .collect()
            })
        };
        let scps = levels(set.scps, &mut ids);
        let rcps = levels(set.rcps, &mut ids);
        let one = |p: Option<Policy>, ids: &mut Interner| p.map(|p| Indexed::new(p, ids));
        let session = one(set.session, &mut ids);
        let resource = one(set.resource, &mut ids);
        let vpc_endpoint = one(set.vpc_endpoint, &mut ids);
        let identity = all(set.identity, &mut ids);
        let boundaries = all(set.boundaries, &mut ids);
        CompiledPolicySet {
            ids,
            identity,
            boundaries,
            session,
            resource,
            vpc_endpoint,
            scps,
            rcps,
        }
    }

    /// The decision alone (no explanation is built): the fast path.
    pub fn decide(&self, req: &Request) -> Decision {
        self.run(req, false).decision
    }

    /// The decision with its explanation.
    pub fn evaluate(&self, req: &Request) -> Evaluation {
        self.run(req, true)
    }

    fn run(&self, req: &Request, trace: bool) -> Evaluation {
        // sts:GetCallerIdentity needs no permission: AWS answers it for every authenticated
        // caller, even when a policy denies it explicitly (STS API reference, GetCallerIdentity:
        // "the same information is returned when access is denied"). No authorization check
        // is made, so no policy of any kind (SCP, RCP, endpoint policy included) takes part.
        let caller_identity = req.principal.is_some()
            && req.action.len() == CALLER_IDENTITY.len()
            && req.action.eq_ignore_ascii_case(CALLER_IDENTITY);
        if caller_identity && !trace {
            return Evaluation {
                decision: Decision::Allowed,
                explain: Explain {
                    reason: String::new(),
                    deciding_layer: None,
                    same_account: true,
                    layers: Vec::new(),
                    notes: Vec::new(),
                },
            };
        }
        let set = resource_set(&req.resource);
        let (pattern, note) = match set {
            Some((p, n)) => (Some(p), Some(n)),
            None => (None, None),
        };
        let mut partial: Option<Layer> = None;
        let mut e = self.run_layers(req, trace, pattern, &mut partial);
        if let Some(layer) = partial
            && e.decision == Decision::Allowed
        {
            e.decision = Decision::ImplicitlyDenied;
            e.explain.deciding_layer = Some(layer);
            if trace {
                e.explain.reason = "a Deny statement applies to some of the resources the request names: the request is not allowed for all of them".into();
            }
        }
        if trace {
            e.explain.notes.extend(note);
        }
        if caller_identity {
            // Only the traced path reaches here: show what the policies say, then the rule.
            e.explain.reason = format!(
                "sts:GetCallerIdentity needs no permission: AWS allows it for every authenticated caller, even against an explicit deny (STS API reference); the policies alone would say {:?}",
                e.decision
            );
            e.decision = Decision::Allowed;
            e.explain.deciding_layer = None;
        }
        e
    }

    fn run_layers(
        &self,
        req: &Request,
        trace: bool,
        resource_set: Option<Vec<Ch>>,
        partial: &mut Option<Layer>,
    ) -> Evaluation {
        // Lower-case the action on the stack: no allocation for ordinary action names.
        let mut buf = [0u8; 128];
        let owned;
        let lower: &str = match buf.get_mut(..req.action.len()) {
            Some(b) => {
                b.copy_from_slice(req.action.as_bytes());
                b.make_ascii_lowercase();
                std::str::from_utf8(b).unwrap_or_default()
            }
            None => {
                owned = req.action.to_ascii_lowercase();
                &owned
            }
        };
        let (service, name) = lower.split_once(':').unwrap_or((lower, ""));
        let (shape, role) = shape_of(req.principal.as_deref());
        let principal_account = req
            .principal_account
            .as_deref()
            .or_else(|| req.principal.as_deref().and_then(arn_account_ref));
        let resource_account = req
            .resource_account
            .as_deref()
            .or_else(|| arn_account_ref(&req.resource));
        let mut p = Prepared {
            req,
            service_id: self.ids.services.get(service).copied(),
            action_id: self.ids.actions.get(lower).copied(),
            role,
            service,
            name,
            arn: std::cell::OnceCell::new(),
            slr: false,
            shape,
            principal_account,
            resource_account,
            resource_set,
            resource: literal_resource(&req.resource),
        };
        p.slr = p.is_service_linked_role();
        let same_account = match (p.principal_account, p.resource_account) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        let anonymous = p.shape == Shape::Anonymous;
        let mut layers: Vec<LayerReport> = Vec::new();
        let mut explicit: Option<Layer> = None;

        let mut record =
            |layer: Layer, org: Option<&str>, o: Outcome, layers: &mut Vec<LayerReport>| {
                if o.deny && explicit.is_none() {
                    explicit = Some(layer);
                }
                if o.partial_deny && partial.is_none() {
                    *partial = Some(layer);
                }
                if trace {
                    layers.push(LayerReport {
                        layer,
                        org_level: org.map(str::to_string),
                        result: o.result(),
                        statements: o.refs,
                    });
                }
            };

        // RCPs: resource side; every org level must allow; not for service-linked roles, and
        // only for the services that support RCPs.
        let mut rcp_gap: Option<String> = None;
        if let Some(levels) = &self.rcps
            && !p.slr
            && crate::catalog::catalog().rcp_services.contains(p.service)
        {
            for (id, pols) in levels {
                let o = self.layer(pols, &p, Side::Principal, trace);
                if !o.allow && rcp_gap.is_none() {
                    rcp_gap = Some(id.clone());
                }
                let denied = o.deny;
                record(Layer::ResourceControlPolicy, Some(id), o, &mut layers);
                if denied && !trace {
                    return fast_deny(Layer::ResourceControlPolicy, same_account);
                }
            }
        }
        // SCPs: principal side; not for anonymous callers, service principals or service-linked roles.
        let mut scp_gap: Option<String> = None;
        if let Some(levels) = &self.scps
            && !anonymous
            && p.shape != Shape::Service
            && !p.slr
        {
            for (id, pols) in levels {
                let o = self.layer(pols, &p, Side::Principal, trace);
                if !o.allow && scp_gap.is_none() {
                    scp_gap = Some(id.clone());
                }
                let denied = o.deny;
                record(Layer::ServiceControlPolicy, Some(id), o, &mut layers);
                if denied && !trace {
                    return fast_deny(Layer::ServiceControlPolicy, same_account);
                }
            }
        }
        // The VPC endpoint policy: every request through the endpoint, whoever makes it.
        let mut endpoint_ok = true;
        if let Some(ep) = &self.vpc_endpoint {
            let o = self.layer(std::slice::from_ref(ep), &p, Side::Endpoint, trace);
            endpoint_ok = o.allow;
            let denied = o.deny;
            record(Layer::VpcEndpointPolicy, None, o, &mut layers);
            if denied && !trace {
                return fast_deny(Layer::VpcEndpointPolicy, same_account);
            }
        }
        let mut grant = None;
        if let Some(rp) = &self.resource {
            let o = self.layer(std::slice::from_ref(rp), &p, Side::Resource, trace);
            if o.allow {
                grant = o.grant;
            }
            let denied = o.deny;
            record(Layer::ResourcePolicy, None, o, &mut layers);
            if denied && !trace {
                return fast_deny(Layer::ResourcePolicy, same_account);
            }
        }
        // The identity side exists only for authenticated IAM principals.
        let iam_caller = !anonymous && p.shape != Shape::Service;
        let mut identity_allow = p.shape == Shape::Root;
        if iam_caller && !self.identity.is_empty() {
            let o = self.layer(&self.identity, &p, Side::Principal, trace);
            identity_allow |= o.allow;
            let denied = o.deny;
            record(Layer::IdentityPolicy, None, o, &mut layers);
            if denied && !trace {
                return fast_deny(Layer::IdentityPolicy, same_account);
            }
        }
        let mut boundary_ok = true;
        if iam_caller && p.shape != Shape::Root {
            for b in &self.boundaries {
                let o = self.layer(std::slice::from_ref(b), &p, Side::Principal, trace);
                boundary_ok &= o.allow;
                let denied = o.deny;
                record(Layer::PermissionBoundary, None, o, &mut layers);
                if denied && !trace {
                    return fast_deny(Layer::PermissionBoundary, same_account);
                }
            }
        }
        let mut session_ok = p.shape != Shape::FederatedUser;
        if let (true, Some(s)) = (iam_caller, &self.session) {
            let o = self.layer(std::slice::from_ref(s), &p, Side::Principal, trace);
            session_ok = o.allow;
            let denied = o.deny;
            record(Layer::SessionPolicy, None, o, &mut layers);
            if denied && !trace {
                return fast_deny(Layer::SessionPolicy, same_account);
            }
        }

        let done = |decision: Decision,
                    layer: Option<Layer>,
                    reason: &str,
                    layers: Vec<LayerReport>| Evaluation {
            decision,
            explain: Explain {
                reason: if trace {
                    reason.to_string()
                } else {
                    String::new()
                },
                deciding_layer: layer,
                same_account,
                layers,
                notes: Vec::new(),
            },
        };
        use Decision::*;
        if let Some(l) = explicit {
            return done(
                ExplicitlyDenied,
                Some(l),
                "an applicable Deny statement wins over every Allow (explicit deny)",
                layers,
            );
        }
        if let Some(id) = rcp_gap {
            let why = if trace {
                format!(
                    "no resource control policy attached at org level {id} allows the request: every level from the root to the resource's account must allow"
                )
            } else {
                String::new()
            };
            return done(
                ImplicitlyDenied,
                Some(Layer::ResourceControlPolicy),
                &why,
                layers,
            );
        }
        if let Some(id) = scp_gap {
            let why = if trace {
                format!(
                    "no service control policy attached at org level {id} allows the request: every level from the root to the principal's account must allow"
                )
            } else {
                String::new()
            };
            return done(
                ImplicitlyDenied,
                Some(Layer::ServiceControlPolicy),
                &why,
                layers,
            );
        }
        if !endpoint_ok {
            return done(
                ImplicitlyDenied,
                Some(Layer::VpcEndpointPolicy),
                "the request goes through a VPC endpoint whose policy does not allow it: an endpoint policy grants nothing but every request through the endpoint must be allowed by it",
                layers,
            );
        }
        if anonymous || p.shape == Shape::Service {
            return if grant == Some(Grant::Direct) {
                done(
                    Allowed,
                    Some(Layer::ResourcePolicy),
                    "the resource-based policy grants this principal (anonymous and service principals can only be allowed by a resource-based policy)",
                    layers,
                )
            } else {
                done(
                    ImplicitlyDenied,
                    Some(Layer::ResourcePolicy),
                    "anonymous and service principals need a resource-based policy that allows them",
                    layers,
                )
            };
        }
        if same_account {
            match grant {
                Some(Grant::Direct) => {
                    return done(
                        Allowed,
                        Some(Layer::ResourcePolicy),
                        "same account: the resource-based policy allows this user, session or everyone directly; identity policies and boundaries are not needed",
                        layers,
                    );
                }
                Some(Grant::Role) if boundary_ok && session_ok => {
                    return done(
                        Allowed,
                        Some(Layer::ResourcePolicy),
                        "same account: the resource-based policy allows the caller's role; the boundary and session policy (if any) allow too",
                        layers,
                    );
                }
                None if self.resource_must_grant(&p) => {
                    return done(
                        ImplicitlyDenied,
                        Some(Layer::ResourcePolicy),
                        "IAM role trust policies and KMS key policies must allow the principal (or its account) explicitly; an identity policy alone is not enough",
                        layers,
                    );
                }
                _ => {}
            }
        } else if grant.is_none() {
            return done(
                ImplicitlyDenied,
                Some(Layer::ResourcePolicy),
                "cross-account: the resource-based policy in the resource's account must allow the principal or its account",
                layers,
            );
        }
        if !identity_allow {
            return done(
                ImplicitlyDenied,
                Some(Layer::IdentityPolicy),
                "no identity-based policy allows the request",
                layers,
            );
        }
        if !boundary_ok {
            return done(
                ImplicitlyDenied,
                Some(Layer::PermissionBoundary),
                "the permissions boundary does not allow the request",
                layers,
            );
        }
        if !session_ok {
            return done(
                ImplicitlyDenied,
                Some(Layer::SessionPolicy),
                "the session policy does not allow the request (federated-user sessions need one)",
                layers,
            );
        }
        let why = if same_account {
            "allowed: identity policy allows and no boundary, session policy, SCP or RCP denies"
        } else {
            "allowed: both accounts allow (identity side and resource-based policy)"
        };
        done(Allowed, None, why, layers)
    }

    /// Role trust policies and KMS key policies must name the principal or its account.
    fn resource_must_grant(&self, p: &Prepared<'_>) -> bool {
        let r = &p.req.resource;
        let sts_on_role = p.service == "sts"
            && matches!(p.name, n if n.starts_with("assumerole") || n == "tagsession" || n == "setsourceidentity");
        sts_on_role && r.contains(":role/")
            || r.starts_with("arn:") && r.split(':').nth(2) == Some("kms") && r.contains(":key/")
    }

    fn layer(&self, pols: &[Indexed], p: &Prepared<'_>, side: Side, trace: bool) -> Outcome {
        let mut o = Outcome::default();
        for (pi, ix) in pols.iter().enumerate() {
            let version = ix.policy.version;
            for (si, st, known) in ix.candidates(p.service_id, p.action_id) {
                if o.deny && !trace {
                    return o;
                }
                let grant = match side {
                    Side::Principal => None,
                    Side::Resource => match principal_grant(st, p) {
                        Some(g) => Some(g),
                        None => continue,
                    },
                    // In an endpoint policy an account names its root user only: there is no
                    // policy in the account to complete a delegation (PrivateLink guide).
                    Side::Endpoint => match principal_grant(st, p) {
                        Some(Grant::Account) if p.shape != Shape::Root => continue,
                        Some(g) => Some(g),
                        None => continue,
                    },
                };
                match (statement_applies(st, version, p, known), st.effect) {
                    (Applies::No, _) | (Applies::Partly, Effect::Allow) => continue,
                    (Applies::Partly, Effect::Deny) => o.partial_deny = true,
                    (Applies::Fully, Effect::Deny) => o.deny = true,
                    (Applies::Fully, Effect::Allow) => {
                        o.allow = true;
                        o.grant = o.grant.max(grant);
                    }
                }
                if trace {
                    o.refs.push(StatementRef {
                        policy: pi,
                        statement: si,
                        sid: st.sid.clone(),
                        effect: st.effect,
                        line: st.line,
                        column: st.column,
                    });
                }
            }
        }
        if trace {
            o.refs.sort_by_key(|r| (r.policy, r.statement));
        }
        o
    }
}

/// Which side of the request a layer's policies speak for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Identity policies, boundaries, session policies, SCPs, RCPs: no `Principal` element.
    Principal,
    /// The resource-based policy: its statements name who they are for.
    Resource,
    /// The VPC endpoint policy: names who may use the endpoint, and grants nothing.
    Endpoint,
}

/// Whether a statement applies to a request. `Partly` only for a request that names many
/// resources (see [`resource_set`]): the statement covers some of them, not all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applies {
    Fully,
    Partly,
    No,
}

/// The fast path's answer once any layer has an applicable Deny: nothing else can change it.
fn fast_deny(layer: Layer, same_account: bool) -> Evaluation {
    Evaluation {
        decision: Decision::ExplicitlyDenied,
        explain: Explain {
            reason: String::new(),
            deciding_layer: Some(layer),
            same_account,
            layers: Vec::new(),
            notes: Vec::new(),
        },
    }
}

fn statement_applies(
    st: &Statement,
    version: Version,
    p: &Prepared<'_>,
    action_known: bool,
) -> Applies {
    let a = &st.action;
    if !action_known {
        let hit = a.actions.iter().any(|x| x.matches_lower(p.service, p.name));
        if hit == a.negated {
            return Applies::No;
        }
    }
    let mut applies = Applies::Fully;
    if let Some(r) = &st.resource {
        let rendered = |rp| rendered_resource(rp, version, p);
        match &p.resource_set {
            None => {
                let hit = r
                    .resources
                    .iter()
                    .any(|rp| rendered(rp).is_some_and(|g| g.is_match(&p.resource)));
                if hit == r.negated {
                    return Applies::No;
                }
            }
            Some(set) => {
                // A pattern that covers every resource named, or meets some of them.
                let (mut covered, mut met) = (false, false);
                for g in r.resources.iter().filter_map(rendered) {
                    let c = chars_of(&g);
                    covered |= glob::covers(&c, set);
                    met |= covered || glob::intersects(&c, set);
                }
                applies = match (r.negated, covered, met) {
                    (false, true, _) | (true, _, false) => Applies::Fully,
                    (false, false, false) | (true, true, _) => return Applies::No,
                    _ => Applies::Partly,
                };
            }
        }
    }
    if st.conditions.iter().all(|c| cond::holds(c, p)) {
        applies
    } else {
        Applies::No
    }
}

/// A statement's resource pattern with its policy variables filled in from the request; `None`
/// when a variable has no value (AWS: the pattern then matches nothing).
fn rendered_resource<'g>(
    rp: &'g crate::model::ResourcePattern,
    version: Version,
    p: &Prepared<'_>,
) -> Option<Cow<'g, Glob>> {
    match (&rp.template, version) {
        (Some(parts), Version::V2012) => {
            let look = |k: &str| p.single(k);
            glob::render_glob(parts, true, &look).map(Cow::Owned)
        }
        _ => Some(Cow::Borrowed(&rp.glob)),
    }
}

/// The caller's identities from the account outwards, for `NotPrincipal` (AWS may check the
/// account, then the role, then the session: all must be listed to be exempt).
fn identity_chain(p: &Prepared<'_>) -> Vec<String> {
    let mut chain = Vec::new();
    let Some(arn) = p.req.principal.as_deref() else {
        return chain;
    };
    let partition = arn.split(':').nth(1).unwrap_or("aws");
    if let Some(acct) = p.principal_account
        && p.shape != Shape::Service
    {
        chain.push(format!("arn:{partition}:iam::{acct}:root"));
    }
    if p.shape == Shape::RoleSession
        && let Some(r) = p.principal_arn()
    {
        chain.push(r);
    }
    if p.shape != Shape::Root {
        chain.push(arn.to_string());
    }
    chain
}

fn principal_grant(st: &Statement, p: &Prepared<'_>) -> Option<Grant> {
    let Some(pe) = &st.principal else {
        // Resource-based and endpoint policy statements must name their principals; AWS
        // rejects one without `Principal`/`NotPrincipal`. Read as naming nobody, never as
        // everyone: it neither grants nor denies (lint reports it, RP013).
        return None;
    };
    if pe.negated {
        let Principals::Map(map) = &pe.principals else {
            return None; // NotPrincipal "*" excludes everyone.
        };
        let chain = identity_chain(p);
        let listed = |id: &str| {
            map.iter().any(|(kind, vals)| {
                vals.iter()
                    .any(|v| v == "*" || principal_value_is(*kind, v, id, p))
            })
        };
        let exempt = !chain.is_empty() && chain.iter().all(|id| listed(id));
        return (!exempt).then_some(Grant::Direct);
    }
    match &pe.principals {
        Principals::Any => Some(Grant::Direct),
        Principals::Map(map) => {
            let mut best = None;
            for (kind, vals) in map {
                for v in vals {
                    best = best.max(match_one(*kind, v, p));
                }
            }
            best
        }
    }
}

/// Does one `NotPrincipal` entry name identity `id`?
fn principal_value_is(kind: PrincipalKind, v: &str, id: &str, p: &Prepared<'_>) -> bool {
    match kind {
        PrincipalKind::Aws => {
            if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) {
                id.ends_with(":root") && arn_account(id).as_deref() == Some(v)
            } else {
                v == id
            }
        }
        _ => {
            p.req
                .principal
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case(v))
                && v == id
        }
    }
}

fn match_one(kind: PrincipalKind, v: &str, p: &Prepared<'_>) -> Option<Grant> {
    if kind == PrincipalKind::Aws && v == "*" {
        // {"AWS": "*"} equals "*" for anonymous callers [D-principal §All principals].
        return (p.shape != Shape::Service).then_some(Grant::Direct);
    }
    let caller = p.req.principal.as_deref()?;
    match kind {
        PrincipalKind::Aws => {
            let account = if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) {
                Some(v)
            } else if v.starts_with("arn:")
                && v.ends_with(":root")
                && v.split(':').nth(2) == Some("iam")
            {
                arn_account_ref(v)
            } else {
                None
            };
            if let Some(a) = account {
                return (p.shape != Shape::Service && p.principal_account == Some(a))
                    .then_some(Grant::Account);
            }
            if v == caller {
                return Some(match p.shape {
                    Shape::Role => Grant::Role,
                    _ => Grant::Direct,
                });
            }
            if p.shape == Shape::RoleSession {
                let role = p.role;
                // A role ARN (any path) covers the sessions of that role.
                let parts: Vec<&str> = v.splitn(6, ':').collect();
                if parts.len() == 6
                    && parts[2] == "iam"
                    && p.principal_account == Some(parts[4])
                    && parts[5].starts_with("role/")
                    && parts[5].rsplit('/').next() == Some(role)
                {
                    return Some(Grant::Role);
                }
            }
            None
        }
        PrincipalKind::Service => {
            (p.shape == Shape::Service && v.eq_ignore_ascii_case(caller)).then_some(Grant::Direct)
        }
        PrincipalKind::Federated | PrincipalKind::CanonicalUser => {
            (v == "*" || v == caller).then_some(Grant::Direct)
        }
    }
}
