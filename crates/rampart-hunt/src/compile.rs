//! Rule IR → rule data: the document the Spark runner (`runner.py`) evaluates in one pass.
//!
//! The IR is first written as data (the condition tree, paths, predicates). How the runner
//! evaluates it is the [`Evaluation`]: the runner's Python interpreter of that data, or each
//! rule compiled to one Spark SQL predicate ([`crate::sql`]). Every rule either becomes data
//! with the local engine's semantics, or is listed as unsupported with the reason (a judge that
//! runs the policy engine, a text-form filter pattern, a regular expression Java or Python would
//! read differently). In the SQL evaluation a leaf SQL cannot express exactly (or only with a
//! large expression) is evaluated by the runner's Python code while it reads the event, that
//! leaf only, and listed with its reason ([`Compiled::fallbacks`]). Nothing is dropped silently.

use rampart_detect::ir::{
    Condition, Items, NumOp, OnFailure, Predicate, Quantifier, Reach, Rule, Segment, StrOp,
};
use serde::Serialize;
use serde_json::{Value, json};

/// Version of the rule data document; the runner refuses another.
pub const RULE_DATA_VERSION: u32 = 2;

/// How the Spark job evaluates the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Evaluation {
    /// The runner's Python interpreter of the rule data, row by row: the default while the SQL
    /// form costs more CPU per event (BENCHMARKS.md, "rampart hunt").
    #[default]
    Interpret,
    /// Each rule as one Spark SQL predicate over columns computed once per event.
    Sql,
}

impl Evaluation {
    pub fn as_str(self) -> &'static str {
        match self {
            Evaluation::Interpret => "interpret",
            Evaluation::Sql => "sql",
        }
    }
}

/// The most SQL text one leaf may take; a larger leaf (a quantifier over nested arrays, whose
/// SQL unrolls the nesting) is evaluated by the runner's Python code instead, which keeps the
/// job's plan small enough for Spark's analyzer.
pub const LEAF_SQL_BUDGET: usize = 20_000;

/// A rule the Spark job cannot evaluate, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unsupported {
    pub id: String,
    pub title: String,
    pub reason: String,
}

/// A leaf of a compiled rule that the runner evaluates in Python (while reading the event), and
/// why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fallback {
    pub rule: String,
    pub leaf: Value,
    pub reason: String,
}

/// The compiled rule set: the rule document plus what could not be compiled.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// `{"version": 2, "evaluation": .., "rules": [..], "leaves": [..], "columns": {..}}`: per
    /// rule its metadata, `condition` (as data) and, in the SQL evaluation, `sql`, the
    /// predicate; `leaves` the conditions (as data) the runner evaluates in Python into the
    /// column `fb`; `columns` what the predicates read, computed once per event.
    pub data: Value,
    /// Ids of the compiled rules, in order.
    pub ids: Vec<String>,
    /// Each compiled rule's condition as data (after the engine's rewrites), in order: what the
    /// SQL was generated from (`--explain`, the differential test's event generator).
    pub conditions: Vec<Value>,
    pub fallbacks: Vec<Fallback>,
    pub unsupported: Vec<Unsupported>,
}

/// Compile `rules` (as loaded by `--rules`) for the default [`Evaluation`].
pub fn compile(rules: &[Rule]) -> Compiled {
    compile_for(rules, Evaluation::default())
}

/// Compile `rules` into rule data for `evaluation`. Each condition is first put through the
/// engine's own exact rewrites (`optimize::condition`), so the alerts report the same fields
/// as the local engine's.
pub fn compile_for(rules: &[Rule], evaluation: Evaluation) -> Compiled {
    let mut out = Vec::new();
    let mut ids = Vec::new();
    let mut conditions = Vec::new();
    let mut fallbacks = Vec::new();
    let mut unsupported = Vec::new();
    let sql = crate::sql::Generator::default();
    for rule in rules {
        let cond = rampart_detect::optimize::condition(rule.condition.clone());
        let before = fallbacks.len();
        let mark = sql.mark();
        let compiled = condition(&cond).and_then(|c| match evaluation {
            Evaluation::Interpret => Ok((c, None)),
            Evaluation::Sql => rule_predicate(&sql, rule, &c, &mut fallbacks).map(|s| (c, Some(s))),
        });
        match compiled {
            Ok((c, sql)) => {
                ids.push(rule.meta.id.clone());
                out.push(rule_data(rule, &cond, &c, sql));
                conditions.push(c);
            }
            Err(reason) => {
                fallbacks.truncate(before);
                sql.rollback(mark);
                unsupported.push(Unsupported {
                    id: rule.meta.id.clone(),
                    title: rule.meta.title.clone(),
                    reason,
                });
            }
        }
    }
    let leaves: Vec<&Value> = fallbacks.iter().map(|f| &f.leaf).collect();
    let cols = sql.columns();
    let named = |v: &[(String, String)], prefix: &str| -> Vec<Value> {
        v.iter()
            .enumerate()
            .map(|(i, (_, s))| json!([format!("{prefix}{i}"), s]))
            .collect()
    };
    Compiled {
        data: json!({
            "version": RULE_DATA_VERSION,
            "evaluation": evaluation.as_str(),
            "rules": out,
            "leaves": leaves,
            "columns": { "values": named(&cols.values, "pv"), "leaves": named(&cols.leaves, "pt") },
        }),
        ids,
        conditions,
        fallbacks,
        unsupported,
    }
}

/// The rule's SQL predicate: its index keys (as `Engine::candidates` filters events) and its
/// condition; a leaf with no exact (or no small) SQL form reads the runner's Python result.
fn rule_predicate(
    sql: &crate::sql::Generator,
    rule: &Rule,
    c: &Value,
    fallbacks: &mut Vec<Fallback>,
) -> Result<String, String> {
    let lits = |v: &[String]| {
        v.iter()
            .map(|s| crate::sql::lit(&s.to_ascii_lowercase()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    // the helper columns _nk/_n, _sk/_s, _tk/_t are the runner's (see runner.py, `index_columns`)
    if let Some(names) = &rule.index.event_names {
        parts.push(if names.is_empty() {
            "_nk = 2".to_string()
        } else {
            format!(
                "((_nk = 0 AND array_contains(array({l}), '')) OR (_nk = 1 AND array_contains(array({l}), _n)) OR _nk = 2)",
                l = lits(names)
            )
        });
    }
    if let Some(sources) = &rule.index.event_sources {
        parts.push(if sources.is_empty() {
            "_sk = 2".to_string()
        } else {
            format!("(_sk = 2 OR array_contains(array({}), _s))", lits(sources))
        });
    }
    if let Some(types) = &rule.index.identity_types {
        parts.push(if types.is_empty() {
            "_tk = 2".to_string()
        } else {
            format!(
                "(_tk = 2 OR (_tk = 1 AND array_contains(array({}), _t)))",
                lits(types)
            )
        });
    }
    // the shared columns this rule reads are computed on the events it is evaluated on
    let lower = |v: &[String]| v.iter().map(|s| s.to_ascii_lowercase()).collect();
    sql.reach(match (&rule.index.event_names, &rule.index.event_sources) {
        (Some(n), _) => crate::sql::Reach::Names(lower(n)),
        (None, Some(s)) => crate::sql::Reach::Sources(lower(s)),
        (None, None) => crate::sql::Reach::Every,
    });
    parts.push(leaves_to_sql(sql, &rule.meta.id, c, fallbacks)?);
    Ok(format!("({})", parts.join(" AND ")))
}

fn leaves_to_sql(
    sql: &crate::sql::Generator,
    rule: &str,
    c: &Value,
    fallbacks: &mut Vec<Fallback>,
) -> Result<String, String> {
    let Some((kind, a)) = c.as_object().and_then(|m| m.iter().next()) else {
        return Err(format!("malformed rule data: {c}"));
    };
    match kind.as_str() {
        "all" | "any" => {
            let parts = a
                .as_array()
                .ok_or_else(|| format!("malformed rule data: {c}"))?
                .iter()
                .map(|x| leaves_to_sql(sql, rule, x, fallbacks))
                .collect::<Result<Vec<_>, _>>()?;
            if parts.is_empty() {
                return Ok(if kind == "all" { "true" } else { "false" }.into());
            }
            let op = if kind == "all" { " AND " } else { " OR " };
            Ok(format!("({})", parts.join(op)))
        }
        "not" => Ok(format!("(NOT {})", leaves_to_sql(sql, rule, a, fallbacks)?)),
        _ => {
            let mark = sql.mark();
            let reason = match sql.condition(c) {
                Ok(s) if s.len() <= LEAF_SQL_BUDGET => return Ok(format!("coalesce({s}, false)")),
                Ok(s) => format!(
                    "its SQL form takes {} bytes, over the {LEAF_SQL_BUDGET} a leaf may take (nested arrays unrolled)",
                    s.len()
                ),
                Err(reason) => reason,
            };
            sql.rollback(mark);
            fallbacks.push(Fallback {
                rule: rule.to_string(),
                leaf: c.clone(),
                reason,
            });
            Ok(format!("coalesce(fb[{}], false)", fallbacks.len() - 1))
        }
    }
}

/// The stateful built-in detectors, which are no predicate over one event: listed as
/// unsupported whenever the built-in rules are asked for.
pub fn stateful_builtins() -> Vec<Unsupported> {
    let mut out: Vec<Unsupported> = rampart_detect::SigninTracker::catalogue()
        .into_iter()
        .map(|r| Unsupported {
            id: r.meta.id.clone(),
            title: r.meta.title.clone(),
            reason: "stateful: counts sign-in failures across events within a window (run `rampart detect` on the period instead)".into(),
        })
        .collect();
    out.push(Unsupported {
        id: "baseline".into(),
        title: "First-seen behaviour per principal (--baseline)".into(),
        reason: "stateful: learns each principal's history in event order (run `rampart detect --baseline` instead)".into(),
    });
    out
}

fn rule_data(rule: &Rule, cond: &Condition, data: &Value, sql: Option<String>) -> Value {
    let m = &rule.meta;
    let mut reported: Vec<(String, Value)> = rampart_detect::engine::reported_fields(cond)
        .into_iter()
        .map(|f| (f.as_str().to_string(), path(f.segments())))
        .collect();
    reported.sort_by(|a, b| a.0.cmp(&b.0));
    let on_failure = match m.on_failure {
        OnFailure::Report => json!("report"),
        OnFailure::Silent => json!("silent"),
        OnFailure::Attempt { lower } => json!({
            "title": format!("{}{}", rampart_detect::ATTEMPT_PREFIX, m.title),
            "severity": m.severity.lowered(lower).as_str(),
        }),
    };
    json!({
        "id": m.id,
        "source": m.source.to_string(),
        "title": m.title,
        "severity": m.severity.as_str(),
        "attack": m.attack,
        "author": m.author,
        "license": m.license,
        "on_failure": on_failure,
        "index": {
            "event_names": rule.index.event_names.as_ref().map(|v| lower_all(v)),
            "event_sources": rule.index.event_sources.as_ref().map(|v| lower_all(v)),
            "identity_types": rule.index.identity_types.as_ref().map(|v| lower_all(v)),
        },
        "reported": reported.into_iter().map(|(t, p)| json!([t, p])).collect::<Vec<_>>(),
        "condition": data,
        "sql": sql,
    })
}

fn lower_all(v: &[String]) -> Vec<String> {
    v.iter().map(|s| s.to_ascii_lowercase()).collect()
}

/// A path as data: a key is a string, `[n]` a number, `[*]` the string `"[*]"` wrapped in an
/// array (`["*"]`) so that a key named `*` stays a key.
fn path(segs: &[Segment]) -> Value {
    Value::Array(
        segs.iter()
            .map(|s| match s {
                Segment::Key(k) => json!(k),
                Segment::Index(i) => json!(i),
                Segment::AnyIndex => json!(["*"]),
            })
            .collect(),
    )
}

fn condition(c: &Condition) -> Result<Value, String> {
    Ok(match c {
        Condition::Const(b) => json!({ "const": b }),
        Condition::All(cs) => {
            json!({ "all": cs.iter().map(condition).collect::<Result<Vec<_>, _>>()? })
        }
        Condition::Any(cs) => {
            json!({ "any": cs.iter().map(condition).collect::<Result<Vec<_>, _>>()? })
        }
        Condition::Not(c) => json!({ "not": condition(c)? }),
        Condition::Match { field, reach, pred } => json!({ "match": {
            "path": path(field.segments()),
            "anywhere": *reach == Reach::Anywhere,
            "pred": predicate(pred)?,
        }}),
        Condition::Pattern(p) => match p.to_data() {
            Some(d) => {
                check_pattern_regexes(&d)?;
                json!({ "pattern": d })
            }
            None => {
                return Err(format!(
                    "filter pattern `{}` is a text pattern (terms, space-delimited or regex): only JSON patterns compile to Spark",
                    p.as_str()
                ));
            }
        },
        Condition::RawContains(lit) => json!({ "raw_contains": lit.text }),
        Condition::AnyItem(q) => quantifier(q)?,
        Condition::Judge(j) => {
            return Err(format!(
                "its `{}` verdict is the policy engine's access analysis in Rust, which has no Spark form",
                j.key()
            ));
        }
    })
}

fn quantifier(q: &Quantifier) -> Result<Value, String> {
    Ok(json!({ "any_item": {
        "path": path(q.path.segments()),
        "items": match q.items { Items::Elements => "elements", Items::Members => "members" },
        "decode_json": q.decode_json,
        "cond": condition(&q.cond)?,
    }}))
}

fn predicate(p: &Predicate) -> Result<Value, String> {
    Ok(match p {
        Predicate::Str(m) => json!({ "str": {
            "op": match m.op {
                StrOp::Equals => "equals",
                StrOp::Contains => "contains",
                StrOp::StartsWith => "startswith",
                StrOp::EndsWith => "endswith",
                StrOp::Wildcard => "wildcard",
            },
            "needle": m.needle,
            "ci": m.case_insensitive,
        }}),
        Predicate::OneOf {
            values,
            case_insensitive,
        } => json!({ "one_of": { "values": values, "ci": case_insensitive } }),
        Predicate::Regex(r) => {
            check_regex(r.as_str())?;
            json!({ "regex": { "pattern": r.as_str(), "ci": r.case_insensitive() } })
        }
        Predicate::Num(op, x) => {
            if !x.is_finite() {
                return Err(format!(
                    "numeric comparison with {x}, which JSON cannot carry"
                ));
            }
            json!({ "num": { "op": num_op(*op), "value": x } })
        }
        Predicate::Cidr(nets) => json!({ "cidr": nets
            .iter()
            .map(|n| format!("{}/{}", n.addr, n.prefix))
            .collect::<Vec<_>>() }),
        Predicate::Null => json!({ "null": true }),
        Predicate::Exists(b) => json!({ "exists": b }),
        Predicate::Bool(b) => json!({ "bool": b }),
        Predicate::FieldRef {
            other,
            case_insensitive,
        } => json!({ "field_ref": { "path": path(other.segments()), "ci": case_insensitive } }),
        Predicate::ContainsAny(set) => {
            json!({ "contains_any": { "needles": set.needles, "ci": set.case_insensitive } })
        }
        Predicate::Any(ps) => {
            json!({ "any": ps.iter().map(predicate).collect::<Result<Vec<_>, _>>()? })
        }
        Predicate::All(ps) => {
            json!({ "all": ps.iter().map(predicate).collect::<Result<Vec<_>, _>>()? })
        }
    })
}

fn num_op(op: NumOp) -> &'static str {
    match op {
        NumOp::Eq => "eq",
        NumOp::Ne => "ne",
        NumOp::Lt => "lt",
        NumOp::Le => "le",
        NumOp::Gt => "gt",
        NumOp::Ge => "ge",
    }
}

/// Regular expressions are evaluated by Java's regex in the job ([`crate::sql::java_regex`]
/// rewrites `$` to `\z` and sets the flags that make Java read the rest as Rust does), and by
/// Python's `re` in a leaf evaluated in Python. Constructs the engines read differently are refused here, so
/// such a rule is listed as unsupported rather than matched differently.
pub fn check_regex(p: &str) -> Result<(), String> {
    let refuse = |what: &str| {
        Err(format!(
            "regular expression `{p}` uses {what}, which Java's regex (the Spark job's) reads differently from rampart's engine"
        ))
    };
    let b = p.as_bytes();
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                let Some(&n) = b.get(i + 1) else {
                    return refuse("a trailing backslash");
                };
                match n {
                    b'p' | b'P' => return refuse("Unicode classes (\\p{..})"),
                    b'z' => return refuse("\\z"),
                    b'x' if b.get(i + 2) == Some(&b'{') => return refuse("\\x{..} escapes"),
                    b'u' | b'U' | b'N' | b'0'..=b'9' | b'v' | b'<' | b'>' => {
                        return refuse("this escape");
                    }
                    b'b' if b.get(i + 2) == Some(&b'{') => return refuse("\\b{..} boundaries"),
                    _ => {}
                }
                i += 2;
                continue;
            }
            b'[' if in_class && b.get(i + 1) == Some(&b':') => {
                return refuse("POSIX classes ([[:alpha:]])");
            }
            b'[' if in_class => return refuse("nested character classes"),
            b'[' => {
                in_class = true;
                // a `]` right after `[` or `[^` is a literal in both engines
                if b.get(i + 1) == Some(&b'^') {
                    i += 1;
                }
                if b.get(i + 1) == Some(&b']') {
                    i += 1;
                }
            }
            b']' if in_class => in_class = false,
            b'{' if !in_class && b.get(i + 1) == Some(&b',') => {
                return refuse("a repetition without a minimum ({,n})");
            }
            b'&' | b'-' | b'~' if in_class && b.get(i + 1) == Some(&b[i]) => {
                return refuse("class set operations (&&, --, ~~)");
            }
            b'(' if !in_class && b.get(i + 1) == Some(&b'?') => {
                let rest = &p[i + 2..];
                if !(rest.starts_with(':')
                    || rest.starts_with("P<")
                    || rest.starts_with('=')
                    || rest.starts_with('!'))
                {
                    return refuse("inline flags or group syntax");
                }
                if rest.starts_with('=') || rest.starts_with('!') {
                    return refuse("look-around (which rampart's engine rejects)");
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

fn check_pattern_regexes(d: &Value) -> Result<(), String> {
    match d {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "regex"
                    && let Some(p) = v.as_str()
                {
                    check_regex(p)?;
                }
                check_pattern_regexes(v)?;
            }
            Ok(())
        }
        Value::Array(a) => a.iter().try_for_each(check_pattern_regexes),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_detect::ir::{FieldPath, RuleMeta, RuleSource, Severity};

    fn rule(id: &str, c: Condition) -> Rule {
        Rule::new(RuleMeta::new(id, RuleSource::Sigma, "t", Severity::High), c)
    }

    #[test]
    fn conditions_become_data() {
        let c = Condition::All(vec![
            Condition::eq("eventName", "StopLogging"),
            Condition::Match {
                field: FieldPath::parse("a.b[*].c[2]").unwrap(),
                reach: Reach::Anywhere,
                pred: Predicate::Regex(rampart_detect::ir::compile_regex("^x+$", true).unwrap()),
            },
        ]);
        let out = compile_for(&[rule("r1", c)], Evaluation::Sql);
        assert!(out.unsupported.is_empty(), "{:?}", out.unsupported);
        let r = &out.data["rules"][0];
        assert_eq!(r["index"]["event_names"], json!(["stoplogging"]));
        let text = out.conditions[0].to_string();
        assert!(text.contains(r#""path":["a","b",["*"],"c",2]"#), "{text}");
        assert!(
            text.contains(r#""regex":{"ci":true,"pattern":"^x+$"}"#),
            "{text}"
        );
        // the predicate: the index keys, then the condition
        let sql = r["sql"].as_str().unwrap();
        assert!(
            sql.contains("array_contains(array('stoplogging'), _n)"),
            "{sql}"
        );
        assert!(sql.contains("RLIKE '(?iuUd)^x+\\\\z'"), "{sql}");
        // the fields the alerts report, by name, with their paths
        assert_eq!(
            r["reported"],
            json!([
                ["a.b[*].c[2]", ["a", "b", ["*"], "c", 2]],
                ["eventName", ["eventName"]]
            ])
        );
    }

    #[test]
    fn what_cannot_compile_is_listed_with_a_reason() {
        let p = rampart_pattern::FilterPattern::parse("ERROR -Exiting").unwrap();
        let out = compile(&[
            rule("text", Condition::Pattern(Box::new(p))),
            rule(
                "re",
                Condition::field(
                    "x",
                    Predicate::Regex(rampart_detect::ir::compile_regex(r"\p{L}+", false).unwrap()),
                ),
            ),
            rule("ok", Condition::eq("eventName", "A")),
        ]);
        assert_eq!(out.ids, vec!["ok".to_string()]);
        assert_eq!(out.unsupported.len(), 2);
        assert!(out.unsupported[0].reason.contains("text pattern"));
        assert!(out.unsupported[1].reason.contains("Unicode classes"));
    }

    #[test]
    fn a_leaf_without_an_exact_sql_form_runs_in_python_and_is_listed() {
        let nets = vec![
            rampart_detect::Cidr::parse("10.0.0.0/8").unwrap(),
            rampart_detect::Cidr::parse("fc00::/7").unwrap(),
        ];
        let c = Condition::All(vec![
            Condition::eq("eventName", "A"),
            Condition::field("sourceIPAddress", Predicate::Cidr(nets)),
        ]);
        let out = compile_for(&[rule("r", c)], Evaluation::Sql);
        assert!(out.unsupported.is_empty());
        assert_eq!(out.fallbacks.len(), 1);
        assert!(
            out.fallbacks[0].reason.contains("IPv6"),
            "{:?}",
            out.fallbacks
        );
        assert_eq!(out.data["leaves"][0], out.fallbacks[0].leaf);
        let sql = out.data["rules"][0]["sql"].as_str().unwrap();
        assert!(sql.contains("coalesce(fb[0], false)"), "{sql}");
    }

    #[test]
    fn a_leaf_over_the_budget_runs_in_python_and_leaves_no_columns_behind() {
        // a quantifier nested three deep unrolls past the budget
        let inner = |k: &str| {
            Condition::any_item(
                k,
                Items::Elements,
                Condition::All(vec![
                    Condition::eq("a.b.c", "x"),
                    Condition::eq("d.e.f", "y"),
                    Condition::eq("g.h.i", "z"),
                ]),
            )
        };
        let nest = |k: &str, c: Condition| {
            Condition::any_item(k, Items::Elements, Condition::Any(vec![c.clone(), c]))
        };
        let big = nest("p", nest("q", nest("r", inner("s"))));
        let out = compile_for(
            &[
                rule("big", big),
                rule("small", Condition::eq("eventName", "A")),
            ],
            Evaluation::Sql,
        );
        assert!(out.unsupported.is_empty());
        assert_eq!(out.fallbacks.len(), 1, "{:?}", out.fallbacks);
        assert!(out.fallbacks[0].reason.contains("a leaf may take"));
        // the big leaf's columns were dropped: only the small rule's remain
        let values = out.data["columns"]["values"].as_array().unwrap();
        assert_eq!(values.len(), 1, "{values:?}");
        assert!(
            out.data["rules"][0]["sql"]
                .as_str()
                .unwrap()
                .contains("fb[0]")
        );
    }

    #[test]
    fn shared_columns_are_computed_only_where_their_readers_are_evaluated() {
        let on = |name: &str| {
            Condition::All(vec![
                Condition::eq("eventName", name),
                Condition::eq("requestParameters.bucketName", "b"),
            ])
        };
        let out = compile_for(
            &[rule("a", on("PutObject")), rule("b", on("DeleteBucket"))],
            Evaluation::Sql,
        );
        let values = out.data["columns"]["values"].as_array().unwrap();
        let bucket = values
            .iter()
            .map(|v| v[1].as_str().unwrap())
            .find(|s| s.contains("bucketName"))
            .unwrap();
        assert!(
            bucket.starts_with(
                "CASE WHEN _nk = 2 OR (_nk = 1 AND _n IN ('deletebucket', 'putobject')) THEN "
            ),
            "{bucket}"
        );
        // a reader with no index keys is evaluated on every event: the column is too
        let out = compile_for(
            &[
                rule("a", on("PutObject")),
                rule("c", Condition::eq("requestParameters.bucketName", "b")),
            ],
            Evaluation::Sql,
        );
        let values = out.data["columns"]["values"].as_array().unwrap();
        assert!(
            values
                .iter()
                .map(|v| v[1].as_str().unwrap())
                .any(|s| s.contains("bucketName") && !s.starts_with("CASE WHEN _nk")),
            "{values:?}"
        );
    }

    #[test]
    fn the_interpreter_gets_conditions_and_no_sql() {
        let out = compile_for(
            &[rule("r", Condition::eq("eventName", "A"))],
            Evaluation::Interpret,
        );
        assert_eq!(out.data["evaluation"], "interpret");
        assert!(out.data["rules"][0]["sql"].is_null());
        assert_eq!(out.data["rules"][0]["condition"], out.conditions[0]);
        assert!(out.data["columns"]["values"].as_array().unwrap().is_empty());
    }

    #[test]
    fn patterns_share_one_column_per_selector() {
        let p = |s: &str| {
            Condition::Pattern(Box::new(rampart_pattern::FilterPattern::parse(s).unwrap()))
        };
        let out = compile_for(
            &[
                rule("p1", p("{ ($.eventName = A) || ($.errorCode = 5) }")),
                rule("p2", p("{ $.eventName = B }")),
            ],
            Evaluation::Sql,
        );
        assert!(out.unsupported.is_empty() && out.fallbacks.is_empty());
        let names: Vec<&str> = out.data["columns"]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c[1].as_str().unwrap())
            .collect();
        let event_name = names.iter().filter(|s| s.contains("eventName")).count();
        assert_eq!(event_name, 1, "{names:?}");
    }

    #[test]
    fn regexes_java_reads_alike_pass() {
        for ok in [
            "^a.*b$",
            r"[\w.-]+@x",
            "(?:ab|cd)+",
            "[]a]",
            "[^]a]",
            r"\d{3}",
            "(?P<n>x)",
        ] {
            assert!(check_regex(ok).is_ok(), "{ok}");
        }
        for bad in [
            r"\p{L}",
            r"a\z",
            "(?i)a",
            "[[:alpha:]]",
            "[a&&b]",
            "(?=a)",
            r"\1",
            r"a\v",
            r"\<a\>",
            "a{,3}",
        ] {
            assert!(check_regex(bad).is_err(), "{bad}");
        }
    }
}
