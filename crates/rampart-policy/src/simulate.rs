//! The `rampart policy simulate` input: one JSON object, or an array of them, each a request
//! with the policies that take part. Errors point at the line and column in the input file.
//!
//! ```json
//! {"request": {"action": "s3:GetObject",
//!              "resource": {"resource": "arn:aws:s3:::b/k", "accountId": "111111111111"},
//!              "principal": "arn:aws:iam::222222222222:role/r",
//!              "context": {"aws:SourceIp": "10.0.0.1", "aws:PrincipalTag/team": ["a", "b"]}},
//!  "identityPolicies": [], "permissionBoundaries": [], "sessionPolicy": {},
//!  "resourcePolicy": {}, "vpcEndpointPolicy": {},
//!  "serviceControlPolicies": [{"orgIdentifier": "r-root", "policies": []}],
//!  "resourceControlPolicies": []}
//! ```
//!
//! `vpcEndpointPolicy` says the request goes through a VPC endpoint with that policy (absent or
//! `null`: not through an endpoint).

use crate::eval::{ContextValue, Fx, OrgLevel, PolicySet, Request};
use crate::json::{self, Node, Val};
use crate::model::Policy;
use crate::parse::{Lower, ParseError};
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;

/// One simulation: a request and the policies that decide it.
#[derive(Debug, Clone)]
pub struct Simulation {
    pub request: Request,
    pub policies: PolicySet,
}

/// How many distinct policy texts [`parse_simulations`] keeps lowered at a time.
pub const POLICY_CACHE_SIZE: usize = 4096;

/// Parses a simulate document (a single object or an array of objects).
///
/// A simulate file usually asks about many requests under the same policies (the same SCPs,
/// boundary or bucket policy): a policy text met a second time is lowered once and copied from
/// then on, with its statements' lines and columns moved to where this copy stands in the file.
pub fn parse_simulations(text: &str) -> Result<Vec<Simulation>, ParseError> {
    parse_simulations_with_cache(text, POLICY_CACHE_SIZE)
}

/// [`parse_simulations`] remembering at most `max_policies` distinct policy texts (`0`: none,
/// every policy is lowered from its JSON). The result is the same whatever the size.
pub fn parse_simulations_with_cache(
    text: &str,
    max_policies: usize,
) -> Result<Vec<Simulation>, ParseError> {
    let mut out = Vec::new();
    for_each_simulation(text, max_policies, |s| out.push(s))?;
    Ok(out)
}

/// Hands each simulation over as soon as it is read, in file order, and returns how many there
/// were: a 100,000-request file is never held in memory as a whole (only the current item's
/// JSON tree and the policy cache are). On an error nothing after it is handed over.
pub fn for_each_simulation(
    text: &str,
    max_policies: usize,
    mut each: impl FnMut(Simulation),
) -> Result<usize, ParseError> {
    // One line index for the whole input, shared by every policy in it.
    let l = Lower::new(text);
    let mut p = Policies {
        l: &l,
        cache: PolicyCache::new(max_policies),
    };
    let mut count = 0;
    json::for_each_item(
        text,
        |node| {
            match &node.val {
                Val::Obj(_) => each(simulation(&mut p, &node)?),
                other => {
                    return Err(l.err(
                        node.pos,
                        format!(
                            "expected a simulation object or an array of them, found {}",
                            other.kind()
                        ),
                    ));
                }
            }
            count += 1;
            Ok(())
        },
        |e| l.err(e.pos, e.msg),
    )?;
    Ok(count)
}

type FxBuild = BuildHasherDefault<Fx>;

/// Lowered policies by their exact source text. A text is lowered and kept only when it is met
/// a second time (the first sighting leaves just its hash), so a file whose policies are all
/// distinct pays a hash per policy and no copies. Bounded: when full it starts over.
struct PolicyCache<'t> {
    max: usize,
    seen: HashSet<u64, FxBuild>,
    /// By the text's hash; the text itself is compared on every hit.
    lowered: HashMap<u64, (&'t str, Cached), FxBuild>,
}

struct Cached {
    policy: Policy,
    /// Where each statement stands relative to the policy's start, to relocate a copy with one
    /// position lookup; `None` for a policy given as a JSON string (positions are within the
    /// string, the same wherever it stands).
    places: Option<Vec<Place>>,
}

/// A statement's place relative to the start of its policy text: `lines` below it; `column` is
/// counted from the policy's start when `lines == 0`, else it is the statement's own column
/// (its line starts inside the policy text, so the column is the same in every copy).
#[derive(Clone, Copy)]
struct Place {
    lines: usize,
    column: usize,
}

impl<'t> PolicyCache<'t> {
    fn new(max: usize) -> Self {
        PolicyCache {
            max,
            seen: HashSet::default(),
            lowered: HashMap::default(),
        }
    }

    /// The cached copy, or whether this text has been seen before (then it should be kept).
    fn lookup(&mut self, key: &'t str) -> Result<&Cached, bool> {
        use std::hash::BuildHasher;
        if self.max == 0 {
            return Err(false);
        }
        let h = FxBuild::default().hash_one(key);
        if self.lowered.get(&h).is_some_and(|(k, _)| *k == key) {
            return Ok(&self.lowered[&h].1);
        }
        if self.seen.len() >= self.max.saturating_mul(4) {
            self.seen.clear();
        }
        Err(!self.seen.insert(h))
    }

    fn keep(&mut self, key: &'t str, cached: Cached) {
        use std::hash::BuildHasher;
        if self.lowered.len() >= self.max {
            self.lowered.clear();
        }
        self.lowered
            .insert(FxBuild::default().hash_one(key), (key, cached));
    }
}

/// Lowers the policies of one input, through its cache.
struct Policies<'l, 't> {
    l: &'l Lower<'t>,
    cache: PolicyCache<'t>,
}

impl<'t> Policies<'_, 't> {
    fn policy(&mut self, n: &Node<'_>) -> Result<Policy, ParseError> {
        let l = self.l;
        let key = &l.text[n.pos..n.end];
        let seen = match self.cache.lookup(key) {
            Ok(c) => {
                let mut p = c.policy.clone();
                if let Some(places) = &c.places {
                    let (line, column) = l.line_col(n.pos);
                    for (st, at) in p.statements.iter_mut().zip(places) {
                        st.line = line + at.lines;
                        st.column = at.column + if at.lines == 0 { column } else { 0 };
                    }
                }
                return Ok(p);
            }
            Err(seen) => seen,
        };
        let (p, own_text) = match &n.val {
            // A policy given as a JSON string (as AWS APIs return them) is parsed in its own text.
            Val::Str(s) => (
                crate::parse::parse_policy(s)
                    .map_err(|e| l.err(n.pos, format!("in the policy string: {e}")))?,
                true,
            ),
            _ => (l.policy(n)?, false),
        };
        if seen {
            let places = (!own_text).then(|| {
                let (line, column) = l.line_col(n.pos);
                p.statements
                    .iter()
                    .map(|st| match st.line - line {
                        0 => Place {
                            lines: 0,
                            column: st.column - column,
                        },
                        lines => Place {
                            lines,
                            column: st.column,
                        },
                    })
                    .collect()
            });
            self.cache.keep(
                key,
                Cached {
                    policy: p.clone(),
                    places,
                },
            );
        }
        Ok(p)
    }

    fn policies(&mut self, n: &Node<'_>, what: &str) -> Result<Vec<Policy>, ParseError> {
        match &n.val {
            Val::Arr(items) => items.iter().map(|i| self.policy(i)).collect(),
            other => Err(self.l.err(
                n.pos,
                format!(
                    "{what} must be an array of policies, found {}",
                    other.kind()
                ),
            )),
        }
    }
}

fn members<'n, 'a>(
    l: &Lower<'_>,
    n: &'n Node<'a>,
    what: &str,
) -> Result<&'n [(json::Key<'a>, Node<'a>)], ParseError> {
    match &n.val {
        Val::Obj(m) => Ok(m),
        other => Err(l.err(
            n.pos,
            format!("{what} must be an object, found {}", other.kind()),
        )),
    }
}

fn text_of(l: &Lower<'_>, n: &Node<'_>, what: &str) -> Result<String, ParseError> {
    match &n.val {
        Val::Str(s) => Ok(s.to_string()),
        other => Err(l.err(
            n.pos,
            format!("{what} must be a string, found {}", other.kind()),
        )),
    }
}

fn levels(p: &mut Policies<'_, '_>, n: &Node<'_>, what: &str) -> Result<Vec<OrgLevel>, ParseError> {
    let l = p.l;
    let Val::Arr(items) = &n.val else {
        return Err(l.err(n.pos, format!("{what} must be an array of {{\"orgIdentifier\", \"policies\"}} objects from the root to the account")));
    };
    let mut out = Vec::new();
    for it in items {
        let mut id = None;
        let mut pols = None;
        for (k, v) in members(l, it, "each org level")? {
            match k.name.as_ref() {
                "orgIdentifier" => id = Some(text_of(l, v, "\"orgIdentifier\"")?),
                "policies" => pols = Some(p.policies(v, "\"policies\"")?),
                other => return Err(l.err(k.pos, format!("unknown key \"{other}\" in an org level: expected \"orgIdentifier\" and \"policies\""))),
            }
        }
        let Some(id) = id else {
            return Err(l.err(
                it.pos,
                "org level without \"orgIdentifier\" (root id, OU id or account id)",
            ));
        };
        out.push(OrgLevel {
            id,
            policies: pols.unwrap_or_default(),
        });
    }
    Ok(out)
}

fn context_value(l: &Lower<'_>, n: &Node<'_>) -> Result<ContextValue, ParseError> {
    Ok(match &n.val {
        Val::Str(s) => ContextValue::String(s.to_string()),
        Val::Bool(b) => ContextValue::Bool(*b),
        Val::Num(x) => {
            ContextValue::Number(x.parse().map_err(|_| l.err(n.pos, "number out of range"))?)
        }
        Val::Arr(items) => ContextValue::List(
            items
                .iter()
                .map(|i| match &i.val {
                    Val::Str(s) => Ok(s.to_string()),
                    Val::Bool(b) => Ok(b.to_string()),
                    Val::Num(x) => Ok(x.to_string()),
                    other => Err(l.err(
                        i.pos,
                        format!(
                            "context list values must be strings, found {}",
                            other.kind()
                        ),
                    )),
                })
                .collect::<Result<_, _>>()?,
        ),
        other => Err(l.err(
            n.pos,
            format!(
                "context values must be a string, boolean, number or array of strings, found {}",
                other.kind()
            ),
        ))?,
    })
}

fn request(l: &Lower<'_>, n: &Node<'_>) -> Result<Request, ParseError> {
    let mut r = Request::default();
    let mut action = false;
    let mut resource = false;
    for (k, v) in members(l, n, "\"request\"")? {
        match k.name.as_ref() {
            "action" => {
                r.action = text_of(l, v, "\"action\"")?;
                action = true;
            }
            "resource" => {
                resource = true;
                match &v.val {
                    Val::Str(s) => r.resource = s.to_string(),
                    _ => {
                        for (rk, rv) in members(l, v, "\"resource\"")? {
                            match rk.name.as_ref() {
                                "resource" => r.resource = text_of(l, rv, "\"resource.resource\"")?,
                                "accountId" => r.resource_account = Some(text_of(l, rv, "\"accountId\"")?),
                                "tags" => {
                                    for (tk, tv) in members(l, rv, "\"tags\"")? {
                                        r.context.insert(format!("aws:ResourceTag/{}", tk.name), ContextValue::String(text_of(l, tv, "a tag value")?));
                                    }
                                }
                                other => return Err(l.err(rk.pos, format!("unknown key \"{other}\" in \"resource\": expected \"resource\", \"accountId\" or \"tags\""))),
                            }
                        }
                    }
                }
            }
            "principal" => match &v.val {
                Val::Null => r.principal = None,
                _ => r.principal = Some(text_of(l, v, "\"principal\"")?),
            },
            "principalAccount" | "principalAccountId" => r.principal_account = Some(text_of(l, v, "\"principalAccount\"")?),
            "context" => {
                for (ck, cv) in members(l, v, "\"context\"")? {
                    r.context.insert(ck.name.to_string(), context_value(l, cv)?);
                }
            }
            other => return Err(l.err(k.pos, format!("unknown key \"{other}\" in \"request\": expected action, resource, principal, principalAccount, context"))),
        }
    }
    if !action {
        return Err(l.err(
            n.pos,
            "\"request\" needs an \"action\" such as \"s3:GetObject\"",
        ));
    }
    if !resource {
        return Err(l.err(
            n.pos,
            "\"request\" needs a \"resource\" (an ARN, or {\"resource\": ARN, \"accountId\": ID})",
        ));
    }
    Ok(r)
}

fn simulation(p: &mut Policies<'_, '_>, n: &Node<'_>) -> Result<Simulation, ParseError> {
    let l = p.l;
    let mut req = None;
    let mut set = PolicySet::default();
    for (k, v) in members(l, n, "a simulation")? {
        match k.name.as_ref() {
            "request" => req = Some(request(l, v)?),
            "identityPolicies" => set.identity = p.policies(v, "\"identityPolicies\"")?,
            "permissionBoundaries" => set.boundaries = p.policies(v, "\"permissionBoundaries\"")?,
            "permissionBoundary" => set.boundaries = vec![p.policy(v)?],
            "sessionPolicy" => set.session = if matches!(v.val, Val::Null) { None } else { Some(p.policy(v)?) },
            "resourcePolicy" => set.resource = if matches!(v.val, Val::Null) { None } else { Some(p.policy(v)?) },
            "vpcEndpointPolicy" => set.vpc_endpoint = if matches!(v.val, Val::Null) { None } else { Some(p.policy(v)?) },
            "serviceControlPolicies" => set.scps = Some(levels(p, v, "\"serviceControlPolicies\"")?),
            "resourceControlPolicies" => set.rcps = Some(levels(p, v, "\"resourceControlPolicies\"")?),
            other => return Err(l.err(k.pos, format!("unknown key \"{other}\": expected request, identityPolicies, permissionBoundaries, sessionPolicy, resourcePolicy, vpcEndpointPolicy, serviceControlPolicies, resourceControlPolicies"))),
        }
    }
    let Some(request) = req else {
        return Err(l.err(n.pos, "simulation without a \"request\" object"));
    };
    Ok(Simulation {
        request,
        policies: set,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Decision;

    #[test]
    fn issue_shape_round_trip() {
        let text = r#"{"request": {"action": "s3:GetObject",
             "resource": {"resource": "arn:aws:s3:::b/k", "accountId": "111111111111"},
             "principal": "arn:aws:iam::222222222222:role/r",
             "context": {"aws:SourceIp": "10.0.0.1", "aws:PrincipalTag/team": ["a", "b"]}},
          "identityPolicies": [{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}],
          "resourcePolicy": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "222222222222"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}},
          "serviceControlPolicies": [{"orgIdentifier": "r-root", "policies": [{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}]}]}"#;
        let sims = parse_simulations(text).unwrap();
        assert_eq!(sims.len(), 1);
        let e = crate::evaluate(&sims[0].request, &sims[0].policies);
        assert_eq!(e.decision, Decision::Allowed, "{e:?}");
        assert!(!e.explain.same_account);
    }

    #[test]
    fn errors_point_into_the_file() {
        let text = "[{\"request\": {\"action\": \"s3:GetObject\", \"resource\": \"*\"},\n \"identityPolicies\": [{\"Statement\": {\"Effect\": \"Allw\", \"Action\": \"*\"}}]}]";
        let e = parse_simulations(text).unwrap_err();
        assert_eq!((e.line, e.column), (2, 48), "{e}");
        assert!(e.message.contains("\"Allow\" or \"Deny\""));
    }

    #[test]
    fn a_repeated_policy_is_explained_where_it_stands() {
        let deny = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}"#;
        let item = |pad: &str| {
            format!(
                "{pad}{{\"request\": {{\"action\": \"s3:GetObject\", \"resource\": \"arn:aws:s3:::b/k\", \"principal\": \"arn:aws:iam::111111111111:user/u\"}},\n \"identityPolicies\": [{deny}]}}"
            )
        };
        let text = format!("[{},\n\n{},\n{}]", item(""), item("    "), item("\n"));
        for size in [0, POLICY_CACHE_SIZE] {
            let sims = parse_simulations_with_cache(&text, size).unwrap();
            let denies: Vec<(usize, usize)> = sims
                .iter()
                .map(|s| {
                    let e = crate::evaluate(&s.request, &s.policies);
                    assert_eq!(e.decision, Decision::ExplicitlyDenied);
                    let st = &e
                        .explain
                        .layers
                        .iter()
                        .find(|l| l.result == Decision::ExplicitlyDenied)
                        .unwrap()
                        .statements
                        .iter()
                        .find(|st| st.effect == crate::Effect::Deny)
                        .unwrap();
                    (st.line, st.column)
                })
                .collect();
            // The Deny statement is on the second line of each item's policy.
            assert_eq!(denies, [(3, 9), (7, 9), (11, 9)], "cache size {size}");
        }
    }
}
