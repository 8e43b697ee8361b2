//! Turns policy JSON into the model, with errors that give line, column and what AWS expects.

use crate::cond;
use crate::glob::{self, Glob};
use crate::json::{self, Key, Node, Val};
use crate::model::*;
use std::fmt;

/// A policy that AWS would reject, located in the source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong and what AWS expects instead.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Parses one policy document of any kind (identity, resource, trust, boundary, session, SCP,
/// RCP, VPC endpoint). Kind-specific rules (e.g. `Principal` not allowed in an SCP) are checked
/// by the linter, not here: this accepts every form AWS's grammar accepts.
pub fn parse_policy(text: &str) -> Result<Policy, ParseError> {
    let l = Lower::new(text);
    let node = json::parse(text).map_err(|e| l.err(e.pos, e.msg))?;
    l.policy(&node)
}

/// Lowers JSON nodes of one input text to the model. Positions become line and column through
/// one [`json::LineIndex`] per text, built on first use and shared by every policy lowered from
/// it: no lookup rescans the text.
pub(crate) struct Lower<'t> {
    pub text: &'t str,
    index: std::cell::OnceCell<json::LineIndex>,
}

impl<'t> Lower<'t> {
    pub fn new(text: &'t str) -> Lower<'t> {
        Lower {
            text,
            index: std::cell::OnceCell::new(),
        }
    }

    pub fn line_col(&self, pos: usize) -> (usize, usize) {
        self.index
            .get_or_init(|| json::LineIndex::new(self.text))
            .line_col(self.text, pos)
    }

    pub fn err(&self, pos: usize, msg: impl Into<String>) -> ParseError {
        let (line, column) = self.line_col(pos);
        ParseError {
            line,
            column,
            message: msg.into(),
        }
    }

    /// Lowers one policy document node of this text.
    pub fn policy(&self, node: &Node<'_>) -> Result<Policy, ParseError> {
        let Val::Obj(members) = &node.val else {
            return Err(self.err(
                node.pos,
                format!(
                    "a policy must be a JSON object with \"Version\" and \"Statement\", found {}",
                    node.val.kind()
                ),
            ));
        };
        self.no_duplicates(members, "policy")?;
        let mut version = Version::V2008;
        let mut version_present = false;
        let mut id = None;
        let mut statements = None;
        for (k, v) in members {
            match k.name.as_ref() {
                "Version" => {
                    version_present = true;
                    version = match &v.val {
                        Val::Str(s) if s == "2012-10-17" => Version::V2012,
                        Val::Str(s) if s == "2008-10-17" => Version::V2008,
                        _ => {
                            return Err(self.err(
                                v.pos,
                                "\"Version\" must be \"2012-10-17\" (current) or \"2008-10-17\"",
                            ));
                        }
                    }
                }
                "Id" => id = Some(self.string(v, "\"Id\"")?),
                "Statement" => statements = Some(v),
                other => {
                    return Err(self.err(
                        k.pos,
                        format!("unknown top-level element \"{other}\": AWS accepts only \"Version\", \"Id\" and \"Statement\" (names are case-sensitive)"),
                    ));
                }
            }
        }
        let Some(st) = statements else {
            return Err(self.err(
                node.pos,
                "missing \"Statement\": a policy needs at least one statement",
            ));
        };
        let list: Vec<&Node<'_>> = match &st.val {
            Val::Obj(_) => vec![st],
            Val::Arr(items) => items.iter().collect(),
            _ => {
                return Err(self.err(
                    st.pos,
                    format!(
                        "\"Statement\" must be an object or an array of objects, found {}",
                        st.val.kind()
                    ),
                ));
            }
        };
        if list.is_empty() {
            return Err(self.err(
                st.pos,
                "\"Statement\" is empty: a policy needs at least one statement",
            ));
        }
        let mut out = Vec::with_capacity(list.len());
        for s in list {
            out.push(self.statement(s, version)?);
        }
        Ok(Policy {
            version,
            version_present,
            id,
            statements: out,
        })
    }

    fn no_duplicates(&self, members: &[(Key<'_>, Node<'_>)], what: &str) -> Result<(), ParseError> {
        if members.len() < 2 {
            return Ok(());
        }
        // Objects are small (a statement has at most nine elements), but a condition block
        // may list many keys: past a handful, a set keeps this linear.
        let mut seen = std::collections::HashSet::new();
        for (i, (k, _)) in members.iter().enumerate() {
            let repeated = if members.len() <= 16 {
                members[..i].iter().any(|(p, _)| p.name == k.name)
            } else {
                !seen.insert(k.name.as_ref())
            };
            if repeated {
                return Err(self.err(
                    k.pos,
                    format!(
                        "duplicate \"{}\" in {what}: AWS rejects repeated element names",
                        k.name
                    ),
                ));
            }
        }
        Ok(())
    }

    fn string(&self, v: &Node<'_>, what: &str) -> Result<String, ParseError> {
        match &v.val {
            Val::Str(s) => Ok(s.to_string()),
            other => Err(self.err(
                v.pos,
                format!("{what} must be a string, found {}", other.kind()),
            )),
        }
    }

    /// A string or a non-empty array of strings. `what` names the element, only on errors.
    fn strings(&self, v: &Node<'_>, what: impl Fn() -> String) -> Result<Vec<String>, ParseError> {
        match &v.val {
            Val::Str(s) => Ok(vec![s.to_string()]),
            Val::Arr(items) => {
                if items.is_empty() {
                    return Err(self.err(
                        v.pos,
                        format!(
                            "{} is an empty array: AWS expects at least one value",
                            what()
                        ),
                    ));
                }
                items
                    .iter()
                    .map(|i| match &i.val {
                        Val::Str(s) => Ok(s.to_string()),
                        other => Err(self.err(
                            i.pos,
                            format!(
                                "each value of {} must be a string, found {}",
                                what(),
                                other.kind()
                            ),
                        )),
                    })
                    .collect()
            }
            other => Err(self.err(
                v.pos,
                format!(
                    "{} must be a string or an array of strings, found {}",
                    what(),
                    other.kind()
                ),
            )),
        }
    }

    fn statement(&self, node: &Node<'_>, version: Version) -> Result<Statement, ParseError> {
        let Val::Obj(members) = &node.val else {
            return Err(self.err(
                node.pos,
                format!(
                    "each statement must be a JSON object, found {}",
                    node.val.kind()
                ),
            ));
        };
        self.no_duplicates(members, "statement")?;
        let (line, column) = self.line_col(node.pos);
        let mut sid = None;
        let mut effect = None;
        let mut principal: Option<PrincipalElement> = None;
        let mut action: Option<ActionElement> = None;
        let mut resource: Option<ResourceElement> = None;
        let mut conditions = Vec::new();
        for (k, v) in members {
            match k.name.as_ref() {
                "Sid" => sid = Some(self.string(v, "\"Sid\"")?),
                "Effect" => {
                    effect = Some(match &v.val {
                        Val::Str(s) if s == "Allow" => Effect::Allow,
                        Val::Str(s) if s == "Deny" => Effect::Deny,
                        _ => {
                            return Err(self.err(
                                v.pos,
                                "\"Effect\" must be \"Allow\" or \"Deny\" (case-sensitive)",
                            ));
                        }
                    })
                }
                "Principal" | "NotPrincipal" => {
                    let negated = k.name == "NotPrincipal";
                    if principal.is_some() {
                        return Err(self.err(
                            k.pos,
                            "a statement may have \"Principal\" or \"NotPrincipal\", not both",
                        ));
                    }
                    principal = Some(PrincipalElement {
                        negated,
                        principals: self.principals(v, &k.name)?,
                    });
                }
                "Action" | "NotAction" => {
                    if action.is_some() {
                        return Err(self.err(
                            k.pos,
                            "a statement may have \"Action\" or \"NotAction\", not both",
                        ));
                    }
                    let negated = k.name == "NotAction";
                    let mut actions = Vec::new();
                    let vals = self.strings(v, || format!("\"{}\"", k.name))?;
                    for a in vals {
                        actions.push(self.action(&a, v.pos)?);
                    }
                    action = Some(ActionElement { negated, actions });
                }
                "Resource" | "NotResource" => {
                    if resource.is_some() {
                        return Err(self.err(
                            k.pos,
                            "a statement may have \"Resource\" or \"NotResource\", not both",
                        ));
                    }
                    let negated = k.name == "NotResource";
                    let vals = self.strings(v, || format!("\"{}\"", k.name))?;
                    let resources = vals
                        .into_iter()
                        .map(|r| resource_pattern(r, version))
                        .collect();
                    resource = Some(ResourceElement { negated, resources });
                }
                "Condition" => conditions = self.conditions(v, version)?,
                other => {
                    return Err(self.err(
                        k.pos,
                        format!("unknown statement element \"{other}\": AWS accepts Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource and Condition (case-sensitive)"),
                    ));
                }
            }
        }
        let Some(effect) = effect else {
            return Err(self.err(
                node.pos,
                "statement has no \"Effect\": AWS expects \"Allow\" or \"Deny\"",
            ));
        };
        let Some(action) = action else {
            return Err(self.err(
                node.pos,
                "statement has no \"Action\" or \"NotAction\": AWS requires one of them",
            ));
        };
        Ok(Statement {
            sid,
            effect,
            principal,
            action,
            resource,
            conditions,
            line,
            column,
        })
    }

    fn action(&self, a: &str, pos: usize) -> Result<ActionPattern, ParseError> {
        if a == "*" {
            return Ok(ActionPattern {
                text: a.into(),
                service: Glob::Any,
                name: Glob::Any,
            });
        }
        let Some((svc, name)) = a.split_once(':') else {
            return Err(self.err(
                pos,
                format!(
                    "action \"{a}\" must be \"*\" or \"service:ActionName\" (e.g. \"s3:GetObject\")"
                ),
            ));
        };
        if svc.is_empty() || name.is_empty() || name.contains(':') {
            return Err(self.err(
                pos,
                format!(
                    "action \"{a}\" must be \"*\" or \"service:ActionName\" (e.g. \"s3:GetObject\")"
                ),
            ));
        }
        if !svc
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*' || c == '?')
        {
            return Err(self.err(pos, format!("action \"{a}\": the service prefix may contain only letters, digits and hyphens")));
        }
        Ok(ActionPattern {
            text: a.into(),
            service: Glob::new(&svc.to_ascii_lowercase()),
            name: Glob::new(&name.to_ascii_lowercase()),
        })
    }

    fn principals(&self, v: &Node<'_>, elem: &str) -> Result<Principals, ParseError> {
        match &v.val {
            Val::Str(s) if s == "*" => Ok(Principals::Any),
            Val::Str(_) => Err(self.err(v.pos, format!("\"{elem}\" must be \"*\" or an object such as {{\"AWS\": \"arn:aws:iam::111122223333:root\"}}"))),
            Val::Obj(members) => {
                self.no_duplicates(members, elem)?;
                if members.is_empty() {
                    return Err(self.err(v.pos, format!("\"{elem}\" is empty: AWS expects AWS, Service, Federated or CanonicalUser")));
                }
                let mut out = Vec::new();
                for (k, val) in members {
                    let kind = match k.name.as_ref() {
                        "AWS" => PrincipalKind::Aws,
                        "Service" => PrincipalKind::Service,
                        "Federated" => PrincipalKind::Federated,
                        "CanonicalUser" => PrincipalKind::CanonicalUser,
                        other => {
                            return Err(self.err(k.pos, format!("unknown principal type \"{other}\": AWS expects AWS, Service, Federated or CanonicalUser")));
                        }
                    };
                    let vals = self.strings(val, || format!("\"{elem}\".\"{}\"", k.name))?;
                    for p in &vals {
                        if p != "*" && p.contains('*') {
                            return Err(self.err(val.pos, format!("principal \"{p}\": AWS does not allow wildcards inside a principal; use \"*\" with a condition such as aws:PrincipalArn")));
                        }
                    }
                    out.push((kind, vals));
                }
                Ok(Principals::Map(out))
            }
            other => Err(self.err(v.pos, format!("\"{elem}\" must be \"*\" or an object, found {}", other.kind()))),
        }
    }

    fn conditions(&self, v: &Node<'_>, version: Version) -> Result<Vec<Condition>, ParseError> {
        let Val::Obj(ops) = &v.val else {
            return Err(self.err(
                v.pos,
                format!(
                    "\"Condition\" must be an object of operators, found {}",
                    v.val.kind()
                ),
            ));
        };
        self.no_duplicates(ops, "Condition")?;
        let mut out = Vec::new();
        for (opk, block) in ops {
            let (qualifier, operator, if_exists) = parse_operator(&opk.name)
                .ok_or_else(|| self.err(opk.pos, format!("unknown condition operator \"{}\": AWS expects e.g. StringEquals, StringLike, NumericLessThan, DateGreaterThan, Bool, BinaryEquals, IpAddress, ArnLike or Null, optionally with the IfExists suffix and a ForAllValues:/ForAnyValue: prefix", opk.name)))?;
            if operator == Operator::Null && if_exists {
                return Err(self.err(opk.pos, "\"NullIfExists\" is not a valid operator: Null already tests whether the key exists"));
            }
            let Val::Obj(keys) = &block.val else {
                return Err(self.err(
                    block.pos,
                    format!(
                        "condition operator \"{}\" must map to an object of key: value(s)",
                        opk.name
                    ),
                ));
            };
            if keys.is_empty() {
                return Err(self.err(
                    block.pos,
                    format!("condition operator \"{}\" has no keys", opk.name),
                ));
            }
            self.no_duplicates(keys, &format!("\"{}\"", opk.name))?;
            for (key, vals) in keys {
                let raw: Vec<(usize, String)> = match &vals.val {
                    Val::Arr(items) => {
                        if items.is_empty() {
                            return Err(self.err(vals.pos, format!("condition key \"{}\" has an empty array: AWS expects at least one value", key.name)));
                        }
                        items
                            .iter()
                            .map(|i| self.scalar(i, &key.name).map(|s| (i.pos, s)))
                            .collect::<Result<_, _>>()?
                    }
                    _ => vec![(vals.pos, self.scalar(vals, &key.name)?)],
                };
                let mut values = Vec::with_capacity(raw.len());
                for (pos, text) in raw {
                    let compiled = compile_value(operator, &text, version).map_err(|m| {
                        self.err(pos, format!("condition key \"{}\": {m}", key.name))
                    })?;
                    values.push(ConditionValue { text, compiled });
                }
                out.push(Condition {
                    qualifier,
                    operator,
                    if_exists,
                    key: key.name.to_string(),
                    key_lower: key.name.to_ascii_lowercase(),
                    values,
                });
            }
        }
        Ok(out)
    }

    fn scalar(&self, v: &Node<'_>, key: &str) -> Result<String, ParseError> {
        match &v.val {
            Val::Str(s) => Ok(s.to_string()),
            Val::Bool(b) => Ok(b.to_string()),
            Val::Num(n) => Ok((*n).to_string()),
            other => Err(self.err(v.pos, format!("condition key \"{key}\": values must be strings, numbers or booleans, found {}", other.kind()))),
        }
    }
}

fn resource_pattern(r: String, version: Version) -> ResourcePattern {
    let template = if version == Version::V2012 {
        glob::template(&r)
    } else {
        None
    };
    ResourcePattern {
        glob: Glob::new(&r),
        template,
        text: r,
    }
}

/// Splits `ForAnyValue:StringLikeIfExists` into its parts (names are case-insensitive).
pub(crate) fn parse_operator(s: &str) -> Option<(Option<SetQualifier>, Operator, bool)> {
    let (qualifier, rest) = match s.split_once(':') {
        Some((q, r)) if q.eq_ignore_ascii_case("ForAllValues") => {
            (Some(SetQualifier::ForAllValues), r)
        }
        Some((q, r)) if q.eq_ignore_ascii_case("ForAnyValue") => {
            (Some(SetQualifier::ForAnyValue), r)
        }
        Some(_) => return None,
        None => (None, s),
    };
    if let Some(op) = Operator::from_name(rest) {
        return Some((qualifier, op, false));
    }
    let n = rest.len();
    if n > 8 && rest.is_char_boundary(n - 8) && rest[n - 8..].eq_ignore_ascii_case("IfExists") {
        let op = Operator::from_name(&rest[..n - 8])?;
        return Some((qualifier, op, true));
    }
    None
}

/// Pre-compiles a condition value for its operator. Errors are values AWS rejects.
fn compile_value(op: Operator, text: &str, version: Version) -> Result<Compiled, String> {
    let vars = version == Version::V2012 && op.allows_variables();
    Ok(match op.family() {
        OperatorFamily::String | OperatorFamily::Arn => {
            if vars && let Some(t) = glob::template(text) {
                return Ok(Compiled::Template(t));
            }
            let wild = matches!(
                op,
                Operator::StringLike
                    | Operator::StringNotLike
                    | Operator::ArnLike
                    | Operator::ArnNotLike
                    | Operator::ArnEquals
                    | Operator::ArnNotEquals
            );
            if op.family() == OperatorFamily::Arn {
                Compiled::Arn(glob::split_colons(glob::toks_of(&Glob::new(text)), 6))
            } else if wild {
                Compiled::Glob(Glob::new(text))
            } else if matches!(
                op,
                Operator::StringEqualsIgnoreCase | Operator::StringNotEqualsIgnoreCase
            ) {
                Compiled::Glob(Glob::Exact(text.to_lowercase()))
            } else {
                Compiled::Glob(Glob::Exact(text.to_string()))
            }
        }
        OperatorFamily::Numeric => match text.trim().parse::<f64>() {
            Ok(n) if n.is_finite() => Compiled::Num(n),
            _ => Compiled::Invalid,
        },
        OperatorFamily::Date => match cond::parse_date(text) {
            Some(d) => Compiled::Date(d),
            None => Compiled::Invalid,
        },
        OperatorFamily::Bool => match text.to_ascii_lowercase().as_str() {
            "true" => Compiled::Bool(true),
            "false" => Compiled::Bool(false),
            _ => Compiled::Invalid,
        },
        OperatorFamily::Null => match text.to_ascii_lowercase().as_str() {
            "true" => Compiled::Bool(true),
            "false" => Compiled::Bool(false),
            _ => {
                return Err(format!(
                    "the Null operator takes \"true\" (key absent) or \"false\" (key present), found \"{text}\""
                ));
            }
        },
        OperatorFamily::Binary => Compiled::Glob(Glob::Exact(text.to_string())),
        OperatorFamily::Ip => match cond::parse_ip(text) {
            Some(n) => Compiled::Ip(n),
            None => {
                return Err(format!(
                    "\"{text}\" is not an IPv4/IPv6 address or CIDR block (e.g. \"203.0.113.0/24\" or \"2001:db8::/32\")"
                ));
            }
        },
    })
}
