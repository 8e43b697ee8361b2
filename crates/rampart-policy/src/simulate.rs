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

use crate::eval::{ContextValue, OrgLevel, PolicySet, Request};
use crate::json::{self, Node, Val};
use crate::model::Policy;
use crate::parse::{Lower, ParseError};

/// One simulation: a request and the policies that decide it.
#[derive(Debug, Clone)]
pub struct Simulation {
    pub request: Request,
    pub policies: PolicySet,
}

/// Parses a simulate document (a single object or an array of objects).
pub fn parse_simulations(text: &str) -> Result<Vec<Simulation>, ParseError> {
    // One line index for the whole input, shared by every policy in it; items are lowered as
    // they are read.
    let l = Lower::new(text);
    let mut out = Vec::new();
    json::for_each_item(
        text,
        |node| {
            match &node.val {
                Val::Obj(_) => out.push(simulation(&l, &node)?),
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
            Ok(())
        },
        |e| l.err(e.pos, e.msg),
    )?;
    Ok(out)
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

fn policy(l: &Lower<'_>, n: &Node<'_>) -> Result<Policy, ParseError> {
    match &n.val {
        // A policy given as a JSON string (as AWS APIs return them) is parsed in its own text.
        Val::Str(s) => crate::parse::parse_policy(s)
            .map_err(|e| l.err(n.pos, format!("in the policy string: {e}"))),
        _ => l.policy(n),
    }
}

fn policies(l: &Lower<'_>, n: &Node<'_>, what: &str) -> Result<Vec<Policy>, ParseError> {
    match &n.val {
        Val::Arr(items) => items.iter().map(|i| policy(l, i)).collect(),
        other => Err(l.err(
            n.pos,
            format!(
                "{what} must be an array of policies, found {}",
                other.kind()
            ),
        )),
    }
}

fn levels(l: &Lower<'_>, n: &Node<'_>, what: &str) -> Result<Vec<OrgLevel>, ParseError> {
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
                "policies" => pols = Some(policies(l, v, "\"policies\"")?),
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

fn simulation(l: &Lower<'_>, n: &Node<'_>) -> Result<Simulation, ParseError> {
    let mut req = None;
    let mut set = PolicySet::default();
    for (k, v) in members(l, n, "a simulation")? {
        match k.name.as_ref() {
            "request" => req = Some(request(l, v)?),
            "identityPolicies" => set.identity = policies(l, v, "\"identityPolicies\"")?,
            "permissionBoundaries" => set.boundaries = policies(l, v, "\"permissionBoundaries\"")?,
            "permissionBoundary" => set.boundaries = vec![policy(l, v)?],
            "sessionPolicy" => set.session = if matches!(v.val, Val::Null) { None } else { Some(policy(l, v)?) },
            "resourcePolicy" => set.resource = if matches!(v.val, Val::Null) { None } else { Some(policy(l, v)?) },
            "vpcEndpointPolicy" => set.vpc_endpoint = if matches!(v.val, Val::Null) { None } else { Some(policy(l, v)?) },
            "serviceControlPolicies" => set.scps = Some(levels(l, v, "\"serviceControlPolicies\"")?),
            "resourceControlPolicies" => set.rcps = Some(levels(l, v, "\"resourceControlPolicies\"")?),
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
}
