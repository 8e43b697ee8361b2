//! Terraform plans (`terraform show -json PLAN`): the planned values of every managed resource
//! (root and child modules), with what `resource_changes[].change.after_unknown` marks as
//! "known after apply" made unknown, and references between resources (from the plan's
//! `configuration`) kept, so a bucket's public access block is joined to its bucket even when
//! the bucket's name is only known after apply.
//!
//! Positions are those of the plan file (the JSON Terraform wrote), not of the `.tf` sources:
//! the plan does not record where in the sources a resource was declared.

use crate::model::{Deployment, ReadOptions, Resource, Source};
use crate::node::{Kind, Node, Pos, SyntaxError};
use crate::value::{V, Val};
use std::collections::HashMap;

pub fn looks_like(doc: &Node) -> bool {
    doc.get("format_version").is_some()
        && (doc.get("planned_values").is_some() || doc.get("resource_changes").is_some())
}

const AFTER_APPLY: &str = "known after apply";

pub fn read(doc: &Node, opts: &ReadOptions) -> Result<Deployment, SyntaxError> {
    let Some(root) = doc.get("planned_values").and_then(|p| p.get("root_module")) else {
        return Err(SyntaxError {
            pos: doc.pos,
            message: "no `planned_values.root_module`: write the plan with `terraform show -json PLANFILE`".into(),
        });
    };
    let mut unknowns: HashMap<&str, &Node> = HashMap::new();
    if let Some(Kind::Seq(changes)) = doc.get("resource_changes").map(|c| &c.kind) {
        for c in changes {
            if let (Some(addr), Some(au)) = (
                c.get("address").and_then(Node::as_str),
                c.get("change").and_then(|ch| ch.get("after_unknown")),
            ) {
                unknowns.insert(addr, au);
            }
        }
    }
    let mut config_refs = HashMap::new();
    if let Some(cfg) = doc.get("configuration").and_then(|c| c.get("root_module")) {
        collect_refs(cfg, "", &mut config_refs, 0);
    }
    let mut resources = Vec::new();
    walk_module(root, &unknowns, &mut resources, 0)?;
    // References: a top-level attribute whose expression names another resource.
    let by_config: HashMap<String, Vec<String>> =
        resources
            .iter()
            .fold(HashMap::new(), |mut m, r: &Resource| {
                m.entry(config_address(&r.id))
                    .or_default()
                    .push(r.id.clone());
                m
            });
    for r in &mut resources {
        let Some(attrs) = config_refs.get(&config_address(&r.id)) else {
            continue;
        };
        // Unknown attributes the configuration does not set are the provider's defaults.
        if let Val::Map(m) = &mut r.props.val {
            for (k, _, v) in m.iter_mut() {
                if v.is_unknown() && !attrs.iter().any(|(a, _)| a == k) {
                    v.val = Val::Unknown(crate::value::PROVIDER_DEFAULT.into());
                }
            }
        }
        for (attr, targets) in attrs {
            let Some(target) = targets.iter().find_map(|t| {
                let instances = by_config.get(t)?;
                let idx = index_of(&r.id);
                instances
                    .iter()
                    .find(|i| idx.is_some() && index_of(i) == idx)
                    .or(instances.first())
            }) else {
                continue;
            };
            r.links.insert(attr.clone(), target.clone());
            // An attribute known only after apply that names a resource is a reference to it.
            if let Val::Map(m) = &mut r.props.val
                && let Some((_, _, v)) = m.iter_mut().find(|(k, _, _)| k == attr)
                && v.is_unknown()
            {
                v.val = Val::Ref {
                    resource: target.clone(),
                    text: target.clone(),
                };
            }
        }
    }
    let region = opts.region.clone().or_else(|| provider_region(doc));
    Ok(Deployment {
        source: Source::TerraformPlan,
        region,
        resources,
        skipped: 0,
    })
}

/// `aws_s3_bucket.b["x"]` → `aws_s3_bucket.b`; module instance keys are dropped the same way.
fn config_address(addr: &str) -> String {
    let mut out = String::with_capacity(addr.len());
    let mut depth = 0;
    for c in addr.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn index_of(addr: &str) -> Option<&str> {
    let start = addr.rfind('[')?;
    addr.ends_with(']').then(|| &addr[start..])
}

/// The AWS provider's `region`, when the configuration sets it to a constant.
fn provider_region(doc: &Node) -> Option<String> {
    let providers = doc.get("configuration")?.get("provider_config")?.as_map()?;
    providers.iter().find_map(|(_, p)| {
        (p.get("name")?.as_str()? == "aws")
            .then(|| {
                p.get("expressions")?
                    .get("region")?
                    .get("constant_value")?
                    .as_str()
                    .map(str::to_string)
            })
            .flatten()
    })
}

/// configuration address → attribute → referenced configuration addresses.
type Refs = HashMap<String, Vec<(String, Vec<String>)>>;

fn collect_refs(module: &Node, prefix: &str, out: &mut Refs, depth: usize) {
    if depth > 32 {
        return;
    }
    if let Some(Kind::Seq(rs)) = module.get("resources").map(|r| &r.kind) {
        for r in rs {
            let Some(addr) = r.get("address").and_then(Node::as_str) else {
                continue;
            };
            let mut attrs = Vec::new();
            for (k, e) in r.get("expressions").and_then(Node::as_map).unwrap_or(&[]) {
                let refs: Vec<String> = match e.get("references").map(|x| &x.kind) {
                    Some(Kind::Seq(v)) => v
                        .iter()
                        .filter_map(Node::as_str)
                        .map(|s| format!("{prefix}{s}"))
                        .collect(),
                    _ => Vec::new(),
                };
                attrs.push((k.name.clone(), refs));
            }
            out.insert(format!("{prefix}{addr}"), attrs);
        }
    }
    for (name, call) in module
        .get("module_calls")
        .and_then(Node::as_map)
        .unwrap_or(&[])
    {
        if let Some(m) = call.get("module") {
            collect_refs(m, &format!("{prefix}module.{}.", name.name), out, depth + 1);
        }
    }
}

fn walk_module(
    module: &Node,
    unknowns: &HashMap<&str, &Node>,
    out: &mut Vec<Resource>,
    depth: usize,
) -> Result<(), SyntaxError> {
    if depth > 32 {
        return Err(SyntaxError {
            pos: module.pos,
            message: "modules nested more than 32 deep".into(),
        });
    }
    if let Some(Kind::Seq(rs)) = module.get("resources").map(|r| &r.kind) {
        for r in rs {
            if r.get("mode").and_then(Node::as_str) == Some("data") {
                continue;
            }
            let (Some(addr_node), Some(t)) =
                (r.get("address"), r.get("type").and_then(Node::as_str))
            else {
                return Err(SyntaxError {
                    pos: r.pos,
                    message: "a planned resource without `address` or `type`".into(),
                });
            };
            let addr = addr_node.as_str().unwrap_or_default();
            let values = r.get("values");
            let props = match values {
                Some(v) => merge(v, unknowns.get(addr).copied()),
                None => V::new(Val::Map(Vec::new()), r.pos),
            };
            out.push(Resource {
                id: addr.to_string(),
                type_name: t.to_string(),
                pos: addr_node.pos,
                props,
                suppressions: Vec::new(),
                links: HashMap::new(),
                conditional: None,
            });
        }
    }
    if let Some(Kind::Seq(children)) = module.get("child_modules").map(|c| &c.kind) {
        for c in children {
            walk_module(c, unknowns, out, depth + 1)?;
        }
    }
    Ok(())
}

fn unknown(pos: Pos) -> V {
    V::new(Val::Unknown(AFTER_APPLY.into()), pos)
}

/// Does this part of `after_unknown` mark anything unknown?
fn any_unknown(au: &Node) -> bool {
    match &au.kind {
        Kind::Bool(b) => *b,
        Kind::Seq(v) => v.iter().any(any_unknown),
        Kind::Map(m) => m.iter().any(|(_, v)| any_unknown(v)),
        _ => false,
    }
}

/// The planned value with the unknown parts of `after_unknown` made [`Val::Unknown`].
/// Recursion is bounded by the reader's nesting limit.
fn merge(v: &Node, au: Option<&Node>) -> V {
    if au.is_some_and(|a| matches!(a.kind, Kind::Bool(true))) {
        return unknown(v.pos);
    }
    let val = match &v.kind {
        Kind::Null => Val::Null,
        Kind::Bool(b) => Val::Bool(*b),
        Kind::Number(n) => Val::Num(n.clone()),
        Kind::String(s) => Val::Str(s.clone()),
        Kind::Seq(items) => {
            let aus: &[Node] = match au.map(|a| &a.kind) {
                Some(Kind::Seq(a)) => a,
                _ => &[],
            };
            Val::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| merge(item, aus.get(i)))
                    .collect(),
            )
        }
        Kind::Map(m) => {
            let mut entries: Vec<(String, Pos, V)> = m
                .iter()
                .map(|(k, item)| {
                    let a = au.and_then(|a| a.get(&k.name));
                    // Terraform writes an unknown attribute as null in the planned values.
                    let merged = if matches!(item.kind, Kind::Null) && a.is_some_and(any_unknown) {
                        unknown(item.pos)
                    } else {
                        merge(item, a)
                    };
                    (k.name.clone(), k.pos, merged)
                })
                .collect();
            // Unknown attributes may also be left out of the planned values entirely.
            for (k, a) in au.and_then(Node::as_map).unwrap_or(&[]) {
                if any_unknown(a) && !m.iter().any(|(mk, _)| mk.name == k.name) {
                    entries.push((k.name.clone(), k.pos, unknown(k.pos)));
                }
            }
            Val::Map(entries)
        }
    };
    V::new(val, v.pos)
}
