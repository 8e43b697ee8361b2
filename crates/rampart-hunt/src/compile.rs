//! Rule IR → rule data: the JSON document the Spark runner (`runner.py`) interprets.
//!
//! Every rule either becomes data the runner evaluates with the local engine's semantics, or is
//! listed as unsupported with the reason (a judge that runs the policy engine, a text-form
//! filter pattern, a regular expression Python's `re` would read differently). Nothing is
//! dropped silently.

use rampart_detect::ir::{
    Condition, Items, NumOp, OnFailure, Predicate, Quantifier, Reach, Rule, Segment, StrOp,
};
use serde::Serialize;
use serde_json::{Value, json};

/// Version of the rule data document; the runner refuses another.
pub const RULE_DATA_VERSION: u32 = 1;

/// A rule the Spark job cannot evaluate, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unsupported {
    pub id: String,
    pub title: String,
    pub reason: String,
}

/// The compiled rule set: the rule data document plus what could not be compiled.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// `{"version": 1, "rules": [..]}` (see `docs/hunt.md`, "Rule data").
    pub data: Value,
    /// Ids of the compiled rules, in order.
    pub ids: Vec<String>,
    pub unsupported: Vec<Unsupported>,
}

/// Compile `rules` (as loaded by `--rules`) into rule data. Each condition is first put through
/// the engine's own exact rewrites (`optimize::condition`), so the alerts report the same
/// fields as the local engine's.
pub fn compile(rules: &[Rule]) -> Compiled {
    let mut out = Vec::new();
    let mut ids = Vec::new();
    let mut unsupported = Vec::new();
    for rule in rules {
        let cond = rampart_detect::optimize::condition(rule.condition.clone());
        match condition(&cond) {
            Ok(c) => {
                ids.push(rule.meta.id.clone());
                out.push(rule_data(rule, &cond, c));
            }
            Err(reason) => unsupported.push(Unsupported {
                id: rule.meta.id.clone(),
                title: rule.meta.title.clone(),
                reason,
            }),
        }
    }
    Compiled {
        data: json!({ "version": RULE_DATA_VERSION, "rules": out }),
        ids,
        unsupported,
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

fn rule_data(rule: &Rule, cond: &Condition, c: Value) -> Value {
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
        "condition": c,
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

/// Regular expressions are evaluated by Python's `re` in the job (the runner rewrites `$` to
/// `\Z`, which is what Rust's `$` means). Constructs the two engines read differently are
/// refused here, so such a rule is listed as unsupported rather than matched differently.
pub fn check_regex(p: &str) -> Result<(), String> {
    let refuse = |what: &str| {
        Err(format!(
            "regular expression `{p}` uses {what}, which Python's re (the Spark job's) reads differently from rampart's engine"
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
                    b'u' | b'U' | b'N' | b'0'..=b'9' => return refuse("this escape"),
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
        let out = compile(&[rule("r1", c)]);
        assert!(out.unsupported.is_empty(), "{:?}", out.unsupported);
        let r = &out.data["rules"][0];
        assert_eq!(r["index"]["event_names"], json!(["stoplogging"]));
        let text = r["condition"].to_string();
        assert!(text.contains(r#""path":["a","b",["*"],"c",2]"#), "{text}");
        assert!(
            text.contains(r#""regex":{"ci":true,"pattern":"^x+$"}"#),
            "{text}"
        );
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
    fn regexes_python_reads_alike_pass() {
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
        ] {
            assert!(check_regex(bad).is_err(), "{bad}");
        }
    }
}
