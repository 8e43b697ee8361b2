//! CloudFormation templates: parameters, mappings and conditions resolved where they can be,
//! intrinsic functions evaluated, every resource's properties turned into [`V`]s that keep the
//! position they were written at.
//!
//! What cannot be known before the stack is created stays unknown: a parameter without a default
//! (unless `--parameter` gives it), `Fn::ImportValue`, `Fn::GetAZs`, `Fn::Cidr`, a condition
//! that depends on those. Resource references resolve to stand-ins that keep which resource they
//! name, so a bucket policy can be joined to its bucket and an ARN built for the access analysis.

use crate::model::{
    Deployment, InlineSuppression, ReadOptions, Resource, STAND_IN_ACCOUNT, Source,
};
use crate::node::{Kind, Node, Pos, SyntaxError};
use crate::value::{V, Val};
use std::cell::RefCell;
use std::collections::HashMap;

/// Is `doc` a CloudFormation template? (A `Resources` map whose entries have a `Type`, or the
/// format version key.)
pub fn looks_like(doc: &Node) -> bool {
    doc.get("AWSTemplateFormatVersion").is_some()
        || doc
            .get("Resources")
            .and_then(Node::as_map)
            .is_some_and(|m| m.iter().any(|(_, r)| r.get("Type").is_some()))
}

pub fn read(doc: &Node, opts: &ReadOptions) -> Result<Deployment, SyntaxError> {
    let Some(resources) = doc.get("Resources") else {
        return Err(SyntaxError {
            pos: doc.pos,
            message: "no `Resources` section: not a CloudFormation template".into(),
        });
    };
    let Some(entries) = resources.as_map() else {
        return Err(SyntaxError {
            pos: resources.pos,
            message: format!(
                "`Resources` must be a mapping, not {}",
                resources.kind_name()
            ),
        });
    };
    let mut types = HashMap::new();
    for (k, r) in entries {
        let Some(t) = r.get("Type").and_then(Node::as_str) else {
            return Err(SyntaxError {
                pos: k.pos,
                message: format!("resource `{}` has no `Type`", k.name),
            });
        };
        types.insert(k.name.as_str(), (t, r));
    }
    let cx = Resolver {
        doc,
        opts,
        types,
        conditions: RefCell::new(HashMap::new()),
        naming: RefCell::new(Vec::new()),
    };
    let mut out = Vec::new();
    let mut skipped = 0;
    for (k, r) in entries {
        let (type_name, _) = cx.types[k.name.as_str()];
        let mut conditional = None;
        if let Some(cond) = r.get("Condition").and_then(Node::as_str) {
            match cx.condition(cond, 0) {
                Some(false) => {
                    skipped += 1;
                    continue;
                }
                Some(true) => {}
                None => {
                    conditional = Some(format!(
                        "created only if condition `{cond}` holds, which cannot be decided before deploy"
                    ))
                }
            }
        }
        let props = match r.get("Properties") {
            Some(p) => cx
                .resolve(p, 0)
                .unwrap_or(V::new(Val::Map(Vec::new()), p.pos)),
            None => V::new(Val::Map(Vec::new()), k.pos),
        };
        let props = match props.val {
            Val::Map(_) | Val::Unknown(_) => props,
            _ => {
                return Err(SyntaxError {
                    pos: props.pos,
                    message: format!("`Properties` of `{}` must be a mapping", k.name),
                });
            }
        };
        out.push(Resource {
            id: k.name.clone(),
            type_name: type_name.to_string(),
            pos: k.pos,
            props,
            suppressions: suppressions(r.get("Metadata"))?,
            links: HashMap::new(),
            conditional,
        });
    }
    Ok(Deployment {
        source: Source::CloudFormation,
        region: opts.region.clone(),
        resources: out,
        skipped,
    })
}

/// `Metadata: {rampart: {suppress: [{control: cis-2.1.4, reason: "…"}]}}`. A suppression
/// without a reason is an error: it could not be reviewed.
fn suppressions(meta: Option<&Node>) -> Result<Vec<InlineSuppression>, SyntaxError> {
    let Some(list) = meta
        .and_then(|m| m.get("rampart"))
        .and_then(|r| r.get("suppress"))
    else {
        return Ok(Vec::new());
    };
    let items: &[Node] = match &list.kind {
        Kind::Seq(v) => v,
        _ => std::slice::from_ref(list),
    };
    items
        .iter()
        .map(|s| {
            let control = s.get("control").and_then(Node::as_str);
            let reason = s.get("reason").and_then(Node::as_str).map(str::trim);
            match (control, reason) {
                (Some(c), Some(r)) if !r.is_empty() => Ok(InlineSuppression {
                    control: c.to_string(),
                    reason: r.to_string(),
                    pos: s.pos,
                }),
                _ => Err(SyntaxError {
                    pos: s.pos,
                    message: "a rampart suppression needs `control` and a non-empty `reason`"
                        .into(),
                }),
            }
        })
        .collect()
}

struct Resolver<'a> {
    doc: &'a Node,
    opts: &'a ReadOptions,
    /// Logical id → (type, declaration).
    types: HashMap<&'a str, (&'a str, &'a Node)>,
    /// Memoised conditions (`None` inside = cannot be decided).
    conditions: RefCell<HashMap<String, Option<bool>>>,
    /// Resources whose name property is being resolved (a name that refers to itself stops here).
    naming: RefCell<Vec<String>>,
}

/// Deeper intrinsic nesting than this is refused (a condition cycle, or a hostile template).
const MAX_RESOLVE_DEPTH: usize = 64;

fn unknown(why: impl Into<String>, pos: Pos) -> V {
    V::new(Val::Unknown(why.into()), pos)
}

impl Resolver<'_> {
    fn account(&self) -> Val {
        match &self.opts.account {
            Some(a) => Val::Str(a.clone()),
            None => Val::Symbol(STAND_IN_ACCOUNT.into()),
        }
    }

    fn region(&self) -> Val {
        match &self.opts.region {
            Some(r) => Val::Str(r.clone()),
            None => Val::Symbol("us-east-1".into()),
        }
    }

    fn text(v: &Val) -> Option<&str> {
        match v {
            Val::Str(s) | Val::Num(s) | Val::Symbol(s) => Some(s),
            Val::Ref { text, .. } => Some(text),
            _ => None,
        }
    }

    /// `Ref` to a parameter, a pseudo parameter or a resource. `None`: `AWS::NoValue`.
    fn reference(&self, name: &str, pos: Pos) -> Option<V> {
        let val = match name {
            "AWS::NoValue" => return None,
            "AWS::AccountId" => self.account(),
            "AWS::Region" => self.region(),
            "AWS::Partition" => Val::Str(partition(self.opts.region.as_deref()).into()),
            "AWS::URLSuffix" => Val::Str("amazonaws.com".into()),
            "AWS::StackName" => Val::Symbol("stack".into()),
            "AWS::StackId" => {
                Val::Symbol("arn:aws:cloudformation:us-east-1:111122223333:stack/stack/id".into())
            }
            "AWS::NotificationARNs" => {
                Val::Unknown("AWS::NotificationARNs is given at deploy time".into())
            }
            _ => {
                if let Some(p) = self.doc.get("Parameters").and_then(|p| p.get(name)) {
                    return Some(self.parameter(name, p, pos));
                }
                if let Some((t, decl)) = self.types.get(name) {
                    return Some(V::new(
                        Val::Ref {
                            resource: name.to_string(),
                            text: ref_text(t, name, decl, self),
                        },
                        pos,
                    ));
                }
                Val::Unknown(format!(
                    "`Ref {name}` names no parameter or resource of this template"
                ))
            }
        };
        Some(V::new(val, pos))
    }

    fn parameter(&self, name: &str, decl: &Node, pos: Pos) -> V {
        let given = self.opts.parameters.get(name).cloned();
        let value = given.or_else(|| {
            decl.get("Default").and_then(|d| match &d.kind {
                Kind::String(s) | Kind::Number(s) => Some(s.clone()),
                Kind::Bool(b) => Some(b.to_string()),
                _ => None,
            })
        });
        let Some(value) = value else {
            return unknown(
                format!("parameter `{name}` has no Default and no --parameter value"),
                pos,
            );
        };
        let ty = decl.get("Type").and_then(Node::as_str).unwrap_or("String");
        if ty.starts_with("List<") || ty == "CommaDelimitedList" {
            let items = value
                .split(',')
                .map(|s| V::new(Val::Str(s.trim().to_string()), pos))
                .collect();
            return V::new(Val::List(items), pos);
        }
        if ty.starts_with("AWS::SSM::Parameter::Value") {
            return unknown(
                format!("parameter `{name}` is read from SSM Parameter Store at deploy time"),
                pos,
            );
        }
        V::new(Val::Str(value), pos)
    }

    /// Resolves a node; `None` when it is `AWS::NoValue` (the property is left out).
    fn resolve(&self, n: &Node, depth: usize) -> Option<V> {
        if depth > MAX_RESOLVE_DEPTH {
            return Some(unknown("intrinsic functions nested too deeply", n.pos));
        }
        let val = match &n.kind {
            Kind::Null => Val::Null,
            Kind::Bool(b) => Val::Bool(*b),
            Kind::Number(s) => Val::Num(s.clone()),
            Kind::String(s) => Val::Str(s.clone()),
            Kind::Seq(items) => Val::List(
                items
                    .iter()
                    .filter_map(|i| self.resolve(i, depth + 1))
                    .collect(),
            ),
            Kind::Map(m) => {
                if m.len() == 1 {
                    let (k, arg) = &m[0];
                    if k.name == "Ref" || k.name.starts_with("Fn::") {
                        return self.intrinsic(&k.name, arg, n.pos, depth + 1);
                    }
                }
                Val::Map(
                    m.iter()
                        .filter_map(|(k, v)| {
                            self.resolve(v, depth + 1)
                                .map(|v| (k.name.clone(), k.pos, v))
                        })
                        .collect(),
                )
            }
        };
        Some(V::new(val, n.pos))
    }

    fn intrinsic(&self, name: &str, arg: &Node, pos: Pos, depth: usize) -> Option<V> {
        let args: &[Node] = match &arg.kind {
            Kind::Seq(v) => v,
            _ => std::slice::from_ref(arg),
        };
        let bad = |what: &str| Some(unknown(format!("{name}: {what}"), pos));
        match name {
            "Ref" => match arg.as_str() {
                Some(r) => self.reference(r, pos),
                None => bad("expects a name"),
            },
            "Fn::GetAtt" => {
                let (res, attr) = match (args.first().and_then(Node::as_str), args.get(1)) {
                    (Some(r), Some(a)) if args.len() == 2 => match self.resolve(a, depth) {
                        Some(V {
                            val: Val::Str(a), ..
                        }) => (r.to_string(), a),
                        _ => return bad("the attribute name cannot be known"),
                    },
                    (Some(s), None) => match s.split_once('.') {
                        Some((r, a)) => (r.to_string(), a.to_string()),
                        None => return bad("expects [resource, attribute]"),
                    },
                    _ => return bad("expects [resource, attribute]"),
                };
                let Some((t, decl)) = self.types.get(res.as_str()) else {
                    return bad(&format!("`{res}` is not a resource of this template"));
                };
                Some(V::new(
                    Val::Ref {
                        text: attr_text(t, &res, &attr, decl, self),
                        resource: res,
                    },
                    pos,
                ))
            }
            "Fn::Sub" => {
                let (template, vars) = match args {
                    [t, vars] if matches!(arg.kind, Kind::Seq(_)) => (t, Some(vars)),
                    _ => (&args[0], None),
                };
                let Some(text) = template.as_str() else {
                    return bad("expects a string");
                };
                Some(self.sub(text, vars, pos, depth))
            }
            "Fn::Join" => {
                let [delim, list] = args else {
                    return bad("expects [delimiter, list]");
                };
                let Some(delim) = delim.as_str() else {
                    return bad("the delimiter must be a string");
                };
                let list = self.resolve(list, depth)?;
                if let Val::Unknown(why) = &list.val {
                    return Some(unknown(why.clone(), pos));
                }
                let mut parts = Vec::new();
                for item in list.items() {
                    parts.push(item.clone());
                }
                Some(concat(&parts, delim, pos))
            }
            "Fn::Select" => {
                let [idx, list] = args else {
                    return bad("expects [index, list]");
                };
                let idx = self.resolve(idx, depth)?;
                let list = self.resolve(list, depth)?;
                let Some(i) = Self::text(&idx.val).and_then(|s| s.parse::<usize>().ok()) else {
                    return Some(unknown("Fn::Select: the index cannot be known", pos));
                };
                match &list.val {
                    Val::List(items) => match items.get(i) {
                        Some(v) => Some(v.clone()),
                        None => bad("index out of range"),
                    },
                    Val::Unknown(why) => Some(unknown(why.clone(), pos)),
                    _ => bad("expects a list"),
                }
            }
            "Fn::Split" => {
                let [delim, s] = args else {
                    return bad("expects [delimiter, string]");
                };
                let (Some(delim), Some(s)) = (delim.as_str(), self.resolve(s, depth)) else {
                    return bad("expects [delimiter, string]");
                };
                match &s.val {
                    Val::Str(text) => Some(V::new(
                        Val::List(
                            text.split(delim)
                                .map(|p| V::new(Val::Str(p.to_string()), pos))
                                .collect(),
                        ),
                        pos,
                    )),
                    Val::Unknown(why) => Some(unknown(why.clone(), pos)),
                    _ => Some(unknown("Fn::Split of a value decided at deploy time", pos)),
                }
            }
            "Fn::FindInMap" => {
                if args.len() < 3 {
                    return bad("expects [map, top-level key, second-level key]");
                }
                let keys: Vec<Option<String>> = args[..3]
                    .iter()
                    .map(|a| match self.resolve(a, depth).map(|v| v.val) {
                        Some(Val::Str(s) | Val::Num(s)) => Some(s),
                        _ => None,
                    })
                    .collect();
                let [Some(m), Some(k1), Some(k2)] = &keys[..] else {
                    return Some(unknown(
                        "Fn::FindInMap: a key is decided at deploy time",
                        pos,
                    ));
                };
                match self
                    .doc
                    .get("Mappings")
                    .and_then(|x| x.get(m))
                    .and_then(|x| x.get(k1))
                    .and_then(|x| x.get(k2))
                {
                    Some(v) => self.resolve(v, depth),
                    None => match args.get(3).and_then(|d| d.get("DefaultValue")) {
                        Some(d) => self.resolve(d, depth),
                        None => bad(&format!("no entry {m}/{k1}/{k2} in Mappings")),
                    },
                }
            }
            "Fn::If" => {
                let [cond, yes, no] = args else {
                    return bad("expects [condition, value if true, value if false]");
                };
                let Some(c) = cond.as_str() else {
                    return bad("the condition must be a name");
                };
                match self.condition(c, depth) {
                    Some(true) => self.resolve(yes, depth),
                    Some(false) => self.resolve(no, depth),
                    None => {
                        let (a, b) = (self.resolve(yes, depth), self.resolve(no, depth));
                        if a.as_ref().map(|v| &v.val) == b.as_ref().map(|v| &v.val) {
                            return a;
                        }
                        Some(unknown(
                            format!(
                                "depends on condition `{c}`, which cannot be decided before deploy"
                            ),
                            pos,
                        ))
                    }
                }
            }
            "Fn::Base64" => self.resolve(arg, depth),
            "Fn::Equals" | "Fn::And" | "Fn::Or" | "Fn::Not" => {
                let one = Node::new(
                    Kind::Map(vec![(
                        crate::node::Key {
                            name: name.to_string(),
                            pos,
                        },
                        arg.clone(),
                    )]),
                    pos,
                );
                Some(match self.truth(&one, depth) {
                    Some(b) => V::new(Val::Bool(b), pos),
                    None => unknown(format!("{name} cannot be decided before deploy"), pos),
                })
            }
            "Fn::ImportValue" => Some(unknown(
                "Fn::ImportValue: exported by another stack, known only at deploy",
                pos,
            )),
            "Fn::GetAZs" => Some(unknown("Fn::GetAZs: the zones are listed at deploy", pos)),
            "Fn::Cidr" => Some(unknown("Fn::Cidr: computed at deploy", pos)),
            other => Some(unknown(format!("{other} is evaluated at deploy"), pos)),
        }
    }

    /// `Fn::Sub`: `${Name}`, `${Res.Attr}`, `${!Literal}`.
    fn sub(&self, text: &str, vars: Option<&Node>, pos: Pos, depth: usize) -> V {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            parts.push(V::new(Val::Str(rest[..start].to_string()), pos));
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                parts.push(V::new(Val::Str(rest[start..].to_string()), pos));
                rest = "";
                break;
            };
            let name = after[..end].trim();
            rest = &after[end + 1..];
            if let Some(lit) = name.strip_prefix('!') {
                parts.push(V::new(Val::Str(format!("${{{lit}}}")), pos));
                continue;
            }
            let value = if let Some(v) = vars.and_then(|m| m.get(name)) {
                self.resolve(v, depth)
            } else if let Some((res, attr)) =
                name.split_once('.').filter(|_| !name.starts_with("AWS::"))
            {
                let node = Node::new(
                    Kind::Seq(vec![
                        Node::new(Kind::String(res.into()), pos),
                        Node::new(Kind::String(attr.into()), pos),
                    ]),
                    pos,
                );
                self.intrinsic("Fn::GetAtt", &node, pos, depth)
            } else {
                self.reference(name, pos)
            };
            if let Some(v) = value {
                parts.push(v);
            }
        }
        parts.push(V::new(Val::Str(rest.to_string()), pos));
        concat(&parts, "", pos)
    }

    /// A named condition: `Some(truth)`, or `None` when it depends on what is unknown.
    fn condition(&self, name: &str, depth: usize) -> Option<bool> {
        if let Some(c) = self.conditions.borrow().get(name) {
            return *c;
        }
        // A cycle resolves to "undecided" rather than recursing forever.
        self.conditions.borrow_mut().insert(name.to_string(), None);
        let value = self
            .doc
            .get("Conditions")
            .and_then(|c| c.get(name))
            .and_then(|n| self.truth(n, depth + 1));
        self.conditions.borrow_mut().insert(name.to_string(), value);
        value
    }

    fn truth(&self, n: &Node, depth: usize) -> Option<bool> {
        if depth > MAX_RESOLVE_DEPTH {
            return None;
        }
        let (k, arg) = match n.as_map() {
            Some([(k, v)]) => (k.name.as_str(), v),
            _ => {
                return match &n.kind {
                    Kind::Bool(b) => Some(*b),
                    Kind::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
                    Kind::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
                    _ => None,
                };
            }
        };
        let items: &[Node] = match &arg.kind {
            Kind::Seq(v) => v,
            _ => std::slice::from_ref(arg),
        };
        match k {
            "Condition" => self.condition(arg.as_str()?, depth + 1),
            "Fn::Not" => self.truth(items.first()?, depth + 1).map(|b| !b),
            "Fn::And" | "Fn::Or" => {
                let want = k == "Fn::Or";
                let mut undecided = false;
                for i in items {
                    match self.truth(i, depth + 1) {
                        Some(b) if b == want => return Some(want),
                        Some(_) => {}
                        None => undecided = true,
                    }
                }
                if undecided { None } else { Some(!want) }
            }
            "Fn::Equals" => {
                let [a, b] = items else { return None };
                let a = self.resolve(a, depth + 1)?;
                let b = self.resolve(b, depth + 1)?;
                let exact = |v: &Val| match v {
                    Val::Str(s) | Val::Num(s) => Some(s.clone()),
                    Val::Bool(b) => Some(b.to_string()),
                    _ => None,
                };
                Some(exact(&a.val)? == exact(&b.val)?)
            }
            _ => match self.resolve(n, depth + 1)?.val {
                Val::Bool(b) => Some(b),
                Val::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
                Val::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
                _ => None,
            },
        }
    }
}

/// Joins resolved parts: known text stays known, a stand-in or reference makes the result a
/// stand-in, anything unknown makes it unknown.
fn concat(parts: &[V], delim: &str, pos: Pos) -> V {
    let mut out = String::new();
    let mut exact = true;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(delim);
        }
        match &p.val {
            Val::Str(s) | Val::Num(s) => out.push_str(s),
            Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Val::Symbol(s) | Val::Ref { text: s, .. } => {
                exact = false;
                out.push_str(s);
            }
            Val::Unknown(why) => return unknown(why.clone(), p.pos),
            Val::Null => {}
            Val::List(_) | Val::Map(_) => {
                return unknown("a list or mapping where text was expected", p.pos);
            }
        }
    }
    V::new(
        if exact {
            Val::Str(out)
        } else {
            Val::Symbol(out)
        },
        pos,
    )
}

fn partition(region: Option<&str>) -> &'static str {
    match region {
        Some(r) if r.starts_with("cn-") => "aws-cn",
        Some(r) if r.starts_with("us-gov-") => "aws-us-gov",
        _ => "aws",
    }
}

/// The name property of a resource as text (known, or a stand-in such as
/// `svc-${AWS::AccountId}` without `--account`), when the template sets one.
fn literal_name(decl: &Node, prop: &str, id: &str, r: &Resolver<'_>) -> Option<String> {
    let node = decl.get("Properties")?.get(prop)?;
    if let Some(s) = node.as_str() {
        return Some(s.to_string());
    }
    if r.naming.borrow().iter().any(|n| n == id) {
        return None;
    }
    r.naming.borrow_mut().push(id.to_string());
    let v = r.resolve(node, 0);
    r.naming.borrow_mut().pop();
    match v?.val {
        Val::Str(s) | Val::Symbol(s) => Some(s),
        _ => None,
    }
}

/// What `Ref` of a resource returns, as a representative text.
fn ref_text(type_name: &str, id: &str, decl: &Node, r: &Resolver<'_>) -> String {
    let acct = Resolver::text(&r.account())
        .unwrap_or(STAND_IN_ACCOUNT)
        .to_string();
    let region = Resolver::text(&r.region())
        .unwrap_or("us-east-1")
        .to_string();
    let lower = id.to_ascii_lowercase();
    match type_name {
        "AWS::S3::Bucket" => literal_name(decl, "BucketName", id, r).unwrap_or(lower),
        "AWS::SNS::Topic" => format!(
            "arn:aws:sns:{region}:{acct}:{}",
            literal_name(decl, "TopicName", id, r).unwrap_or(lower)
        ),
        "AWS::SQS::Queue" => format!(
            "https://sqs.{region}.amazonaws.com/{acct}/{}",
            literal_name(decl, "QueueName", id, r).unwrap_or(lower)
        ),
        "AWS::IAM::Role" => literal_name(decl, "RoleName", id, r).unwrap_or(lower),
        _ => lower,
    }
}

/// What `Fn::GetAtt` returns, as a representative text (ARNs in this account and region).
fn attr_text(type_name: &str, id: &str, attr: &str, decl: &Node, r: &Resolver<'_>) -> String {
    let acct = Resolver::text(&r.account())
        .unwrap_or(STAND_IN_ACCOUNT)
        .to_string();
    let region = Resolver::text(&r.region())
        .unwrap_or("us-east-1")
        .to_string();
    let name = ref_text(type_name, id, decl, r);
    if attr != "Arn" {
        return format!("{name}.{attr}");
    }
    let service = type_name
        .split("::")
        .nth(1)
        .unwrap_or("unknown")
        .to_ascii_lowercase();
    let lower = id.to_ascii_lowercase();
    match type_name {
        "AWS::S3::Bucket" => format!("arn:aws:s3:::{name}"),
        "AWS::IAM::Role" => format!("arn:aws:iam::{acct}:role/{name}"),
        "AWS::IAM::User" => format!("arn:aws:iam::{acct}:user/{lower}"),
        "AWS::SQS::Queue" => format!(
            "arn:aws:sqs:{region}:{acct}:{}",
            literal_name(decl, "QueueName", id, r).unwrap_or(lower)
        ),
        "AWS::SNS::Topic" => name,
        "AWS::KMS::Key" => format!("arn:aws:kms:{region}:{acct}:key/{lower}"),
        "AWS::Lambda::Function" => format!("arn:aws:lambda:{region}:{acct}:function:{lower}"),
        "AWS::SecretsManager::Secret" => {
            format!("arn:aws:secretsmanager:{region}:{acct}:secret:{lower}")
        }
        "AWS::ECR::Repository" => format!("arn:aws:ecr:{region}:{acct}:repository/{lower}"),
        _ => format!("arn:aws:{service}:{region}:{acct}:{lower}"),
    }
}
