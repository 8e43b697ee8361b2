//! SigmaHQ rules for CloudTrail (`logsource: product: aws, service: cloudtrail`), lowered into
//! the rule IR.
//!
//! Supported: dotted and array field paths; value lists (any) and `|all`; wildcards `*` `?` with
//! `\` escapes; the modifiers `contains`, `startswith`, `endswith`, `re` (with `i`, `m`, `s`),
//! `cidr`, `exists`, `fieldref`, `gt`/`gte`/`lt`/`lte`; `null`; selections as maps (and) or lists
//! of maps (or); conditions with `and`, `or`, `not`, parentheses, `1 of x*`, `all of x*`,
//! `1 of them`, `all of them`. A string test on a top-level field that holds an object (e.g.
//! `requestParameters|contains: x`) matches any string inside that object. A field holding an
//! array is tested element by element by every modifier, `null` included (`[]` and `[null]`
//! are null); docs/detect.md has the table of value type × modifier.
//!
//! Unsupported, each reported with the reason and never skipped silently: other log sources,
//! aggregations (`| count()`) and correlations (`near`), `timeframe`, `expand` placeholders,
//! encoding modifiers (`base64`, `windash`, `utf16`…), keyword (field-less) searches.

use crate::ir::{
    Cidr, Condition, FieldPath, NumOp, Predicate, Reach, Rule, RuleMeta, RuleSource, Severity,
    StrMatch, StrOp, compile_regex,
};
use crate::source::{LoadReport, Unsupported};
use serde_yaml::Value as Yaml;
use std::path::Path;

/// Licence of SigmaHQ rules; every alert from one credits its author.
pub const SIGMA_LICENSE: &str = "DRL-1.1";

/// Top-level CloudTrail fields whose values are objects: a string test on them looks inside.
const OBJECT_FIELDS: &[&str] = &[
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "userIdentity",
    "resources",
    "serviceEventDetails",
    "tlsDetails",
];

/// Loads every `.yml`/`.yaml` under `dir` (recursively, in path order). `Err` only when `dir`
/// itself cannot be read.
pub fn load_dir(dir: &Path) -> Result<LoadReport, String> {
    let meta = std::fs::metadata(dir).map_err(|e| {
        format!(
            "cannot read Sigma rules at {}: {e}; pass an existing directory as sigma:DIR",
            dir.display()
        )
    })?;
    let mut files = Vec::new();
    let mut report = LoadReport::default();
    if meta.is_file() {
        files.push(dir.to_path_buf());
    } else {
        collect_files(dir, &mut files, &mut report);
        files.sort();
    }
    for f in files {
        let path = f.display().to_string();
        match std::fs::read_to_string(&f) {
            Ok(text) => match load_str(&text, &path) {
                Ok(rule) => report.rules.push(rule),
                Err(u) => report.unsupported.push(u),
            },
            Err(e) => report.unsupported.push(Unsupported {
                id: path.clone(),
                title: String::new(),
                path,
                reason: format!("cannot read the file: {e}"),
            }),
        }
    }
    Ok(report)
}

/// The `.yml`/`.yaml` files under `dir`; a directory that cannot be read is reported (as an
/// unsupported entry with the reason), never skipped silently.
fn collect_files(dir: &Path, out: &mut Vec<std::path::PathBuf>, report: &mut LoadReport) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            let path = dir.display().to_string();
            report.unsupported.push(Unsupported {
                id: path.clone(),
                title: String::new(),
                path,
                reason: format!("cannot read the directory: {e}"),
            });
            return;
        }
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_files(&p, out, report);
        } else if matches!(
            p.extension().and_then(|x| x.to_str()),
            Some("yml") | Some("yaml")
        ) {
            out.push(p);
        }
    }
}

/// Lowers one rule document; `path` names it in messages and becomes the rule's origin.
pub fn load_str(text: &str, path: &str) -> Result<Rule, Unsupported> {
    let doc: Yaml = serde_yaml::from_str(text).map_err(|e| Unsupported {
        id: path.to_string(),
        title: String::new(),
        path: path.to_string(),
        reason: format!("invalid YAML: {e}"),
    })?;
    let id = str_field(&doc, "id").unwrap_or_else(|| path.to_string());
    let title = str_field(&doc, "title").unwrap_or_default();
    let fail = |reason: String| Unsupported {
        id: id.clone(),
        title: title.clone(),
        path: path.to_string(),
        reason,
    };
    if !doc.is_mapping() {
        return Err(fail(
            "not a Sigma rule: the document is not a mapping".into(),
        ));
    }
    let product = doc["logsource"]["product"].as_str().unwrap_or("");
    let service = doc["logsource"]["service"].as_str().unwrap_or("");
    if !product.eq_ignore_ascii_case("aws") || !service.eq_ignore_ascii_case("cloudtrail") {
        return Err(fail(format!(
            "log source product `{product}` service `{service}` is not aws/cloudtrail"
        )));
    }
    let detection = &doc["detection"];
    let Some(map) = detection.as_mapping() else {
        return Err(fail("no `detection` section".into()));
    };
    if map.contains_key("timeframe") {
        return Err(fail(
            "`timeframe` (a correlation window) is not supported: rampart alerts per event".into(),
        ));
    }
    let mut selections: Vec<(String, Condition)> = Vec::new();
    for (k, v) in map {
        let Some(name) = k.as_str() else {
            return Err(fail("a detection key is not a string".into()));
        };
        if name == "condition" {
            continue;
        }
        let c = lower_selection(v).map_err(|why| fail(format!("selection `{name}`: {why}")))?;
        selections.push((name.to_string(), c));
    }
    let conditions: Vec<String> = match &detection["condition"] {
        Yaml::String(s) => vec![s.clone()],
        Yaml::Sequence(list) => list
            .iter()
            .map(|c| c.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| fail("`condition` list holds a non-string".into()))?,
        _ => return Err(fail("no `condition`".into())),
    };
    let mut parts = Vec::new();
    for c in &conditions {
        parts.push(
            parse_condition(c, &selections)
                .map_err(|why| fail(format!("condition `{c}`: {why}")))?,
        );
    }
    let condition = if parts.len() == 1 {
        parts.pop().unwrap_or(Condition::Const(false))
    } else {
        Condition::Any(parts)
    };

    let level = str_field(&doc, "level").unwrap_or_else(|| "medium".into());
    let severity = Severity::parse(&level).unwrap_or(Severity::Medium);
    let mut meta = RuleMeta::new(id.clone(), RuleSource::Sigma, title.clone(), severity);
    meta.description = str_field(&doc, "description")
        .unwrap_or_default()
        .trim()
        .to_string();
    meta.author = Some(str_field(&doc, "author").unwrap_or_else(|| "unknown".into()));
    meta.license = Some(SIGMA_LICENSE.into());
    meta.references = str_list(&doc["references"]);
    meta.false_positives = str_list(&doc["falsepositives"]);
    meta.attack = str_list(&doc["tags"])
        .iter()
        .filter_map(|t| attack_id(t))
        .collect();
    meta.origin = Some(path.to_string());
    Ok(Rule::new(meta, condition))
}

fn str_field(doc: &Yaml, key: &str) -> Option<String> {
    match &doc[key] {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn str_list(v: &Yaml) -> Vec<String> {
    match v {
        Yaml::Sequence(s) => s
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Yaml::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// `attack.t1562.008` → `T1562.008`; tactic tags are not technique ids.
fn attack_id(tag: &str) -> Option<String> {
    let t = tag.strip_prefix("attack.")?;
    let rest = t.strip_prefix('t').or_else(|| t.strip_prefix('T'))?;
    let digits = rest.split('.').next()?;
    (digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("T{}", rest.to_ascii_uppercase()))
}

/// A selection: a map (every field must match) or a list of maps (any of them).
fn lower_selection(v: &Yaml) -> Result<Condition, String> {
    match v {
        Yaml::Mapping(m) => {
            let mut all = Vec::new();
            for (k, val) in m {
                let key = k
                    .as_str()
                    .ok_or_else(|| "a field name is not a string".to_string())?;
                all.push(lower_field(key, val)?);
            }
            Ok(Condition::All(all))
        }
        Yaml::Sequence(items) if items.iter().all(Yaml::is_mapping) && !items.is_empty() => {
            Ok(Condition::Any(
                items
                    .iter()
                    .map(lower_selection)
                    .collect::<Result<Vec<_>, _>>()?,
            ))
        }
        Yaml::Sequence(_) | Yaml::String(_) => Err(
            "keyword (field-less) search is not supported: CloudTrail events are structured, name the field"
                .into(),
        ),
        _ => Err("a selection must be a map of fields or a list of maps".into()),
    }
}

/// `field|mod1|mod2: value(s)`.
fn lower_field(key: &str, val: &Yaml) -> Result<Condition, String> {
    let mut parts = key.split('|');
    let field_text = parts.next().unwrap_or_default();
    let mods: Vec<&str> = parts.collect();
    let field = FieldPath::parse(field_text).map_err(|e| e.to_string())?;
    let mut op = StrOp::Equals;
    let mut all = false;
    let mut regex = false;
    let mut re_flags = (false, false, false); // i, m, s
    let mut special: Option<&str> = None;
    for m in &mods {
        match *m {
            "contains" => op = StrOp::Contains,
            "startswith" => op = StrOp::StartsWith,
            "endswith" => op = StrOp::EndsWith,
            "all" => all = true,
            "re" => regex = true,
            "i" if regex => re_flags.0 = true,
            "m" if regex => re_flags.1 = true,
            "s" if regex => re_flags.2 = true,
            "cidr" | "exists" | "fieldref" | "gt" | "gte" | "lt" | "lte" => special = Some(m),
            "expand" => {
                return Err(format!(
                    "field `{field_text}` uses `expand`: the placeholder needs a value from your environment (not supported)"
                ));
            }
            other => {
                return Err(format!(
                    "modifier `{other}` on field `{field_text}` is not supported"
                ));
            }
        }
    }
    let values: Vec<&Yaml> = match val {
        Yaml::Sequence(s) => s.iter().collect(),
        v => vec![v],
    };
    if values.is_empty() {
        return Err(format!("field `{field_text}` has an empty value list"));
    }
    let mut preds = Vec::new();
    for v in &values {
        let p = if let Some(sp) = special {
            special_predicate(sp, v, field_text)?
        } else if regex {
            let pat =
                scalar_text(v).ok_or_else(|| format!("`re` on `{field_text}` needs a string"))?;
            let mut flags = String::new();
            if re_flags.1 {
                flags.push('m');
            }
            if re_flags.2 {
                flags.push('s');
            }
            let pat = if flags.is_empty() {
                pat
            } else {
                format!("(?{flags}){pat}")
            };
            Predicate::Regex(compile_regex(&pat, re_flags.0).map_err(|e| e.to_string())?)
        } else if matches!(v, Yaml::Null) {
            Predicate::Null
        } else {
            let text = scalar_text(v).ok_or_else(|| {
                format!("field `{field_text}` has a value that is not a scalar or null")
            })?;
            string_predicate(op, &text)
        };
        preds.push(p);
    }
    let pred = if preds.len() == 1 {
        preds.pop().unwrap_or(Predicate::Null)
    } else if all {
        Predicate::All(preds)
    } else {
        Predicate::Any(preds)
    };
    // A string test on an object-valued field looks at every string inside it. Any other
    // field is tested on its value, an array element by element, whatever the modifier (see
    // "Values of every type" in docs/detect.md): `contains` is no exception, so it takes the
    // same fast paths as equality (typed header, per-value memo).
    let on_object = field.segments().len() == 1
        && field
            .top_level_key()
            .is_some_and(|k| OBJECT_FIELDS.contains(&k));
    let stringy = special.is_none() && !matches!(pred, Predicate::Null);
    let reach = if stringy && on_object {
        Reach::Anywhere
    } else {
        Reach::Path
    };
    Ok(Condition::Match { field, reach, pred })
}

fn special_predicate(m: &str, v: &Yaml, field: &str) -> Result<Predicate, String> {
    let text = scalar_text(v).ok_or_else(|| format!("`{m}` on `{field}` needs a scalar value"))?;
    Ok(match m {
        "cidr" => Predicate::Cidr(vec![Cidr::parse(&text).map_err(|e| e.to_string())?]),
        "exists" => match v {
            Yaml::Bool(b) => Predicate::Exists(*b),
            _ => return Err(format!("`exists` on `{field}` needs true or false")),
        },
        "fieldref" => Predicate::FieldRef {
            other: FieldPath::parse(&text).map_err(|e| e.to_string())?,
            case_insensitive: true,
        },
        _ => {
            let x: f64 = text
                .parse()
                .map_err(|_| format!("`{m}` on `{field}` needs a number, got `{text}`"))?;
            let op = match m {
                "gt" => NumOp::Gt,
                "gte" => NumOp::Ge,
                "lt" => NumOp::Lt,
                _ => NumOp::Le,
            };
            Predicate::Num(op, x)
        }
    })
}

fn scalar_text(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Sigma string values are case-insensitive, with `*`/`?` wildcards and `\` escapes.
fn string_predicate(op: StrOp, text: &str) -> Predicate {
    if has_wildcard(text) {
        let glob = match op {
            StrOp::Contains => format!("*{text}*"),
            StrOp::StartsWith => format!("{text}*"),
            StrOp::EndsWith => format!("*{text}"),
            _ => text.to_string(),
        };
        Predicate::Str(StrMatch::new(StrOp::Wildcard, &glob, true))
    } else {
        Predicate::Str(StrMatch::new(op, &unescape(text), true))
    }
}

/// True when `s` has a `*` or `?` that is not escaped.
fn has_wildcard(s: &str) -> bool {
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '*' || c == '?' {
            return true;
        }
    }
    false
}

/// Removes Sigma escapes (`\*`, `\?`, `\\`); other backslashes are literal.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && matches!(chars.peek(), Some('*') | Some('?') | Some('\\')) {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

// ---- condition expressions ----

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    And,
    Or,
    Not,
    Open,
    Close,
    OneOf,
    AllOf,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    if s.split_whitespace().any(|w| w.eq_ignore_ascii_case("near")) {
        return Err("`near` correlations between selections are not supported".into());
    }
    if s.contains('|') {
        return Err(
            "aggregation (`| count()` …) is not supported: rampart alerts per event".into(),
        );
    }
    let spaced = s.replace('(', " ( ").replace(')', " ) ");
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let lw = w.to_ascii_lowercase();
        match lw.as_str() {
            "and" => out.push(Tok::And),
            "or" => out.push(Tok::Or),
            "not" => out.push(Tok::Not),
            "(" => out.push(Tok::Open),
            ")" => out.push(Tok::Close),
            "near" => return Err("`near` correlations are not supported".into()),
            "1" | "any" | "all"
                if words
                    .get(i + 1)
                    .is_some_and(|n| n.eq_ignore_ascii_case("of")) =>
            {
                out.push(if lw == "all" { Tok::AllOf } else { Tok::OneOf });
                i += 1;
            }
            _ if lw.parse::<u32>().is_ok()
                && words
                    .get(i + 1)
                    .is_some_and(|n| n.eq_ignore_ascii_case("of")) =>
            {
                return Err(format!(
                    "`{w} of` is not supported (only `1 of` and `all of`)"
                ));
            }
            _ => out.push(Tok::Ident(w.to_string())),
        }
        i += 1;
    }
    Ok(out)
}

struct CondParser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    selections: &'a [(String, Condition)],
}

fn parse_condition(s: &str, selections: &[(String, Condition)]) -> Result<Condition, String> {
    let mut p = CondParser {
        toks: tokenize(s)?,
        pos: 0,
        selections,
    };
    let c = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!("unexpected `{:?}`", p.toks[p.pos]));
    }
    Ok(c)
}

impl CondParser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn or(&mut self) -> Result<Condition, String> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap_or(Condition::Const(false))
        } else {
            Condition::Any(parts)
        })
    }
    fn and(&mut self) -> Result<Condition, String> {
        let mut parts = vec![self.unary()?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap_or(Condition::Const(true))
        } else {
            Condition::All(parts)
        })
    }
    fn unary(&mut self) -> Result<Condition, String> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::Not) => {
                self.pos += 1;
                Ok(Condition::Not(Box::new(self.unary()?)))
            }
            Some(Tok::Open) => {
                self.pos += 1;
                let c = self.or()?;
                if self.peek() != Some(&Tok::Close) {
                    return Err("missing `)`".into());
                }
                self.pos += 1;
                Ok(c)
            }
            Some(t @ (Tok::OneOf | Tok::AllOf)) => {
                self.pos += 1;
                let Some(Tok::Ident(pat)) = self.toks.get(self.pos).cloned() else {
                    return Err("`of` needs a selection name or pattern".into());
                };
                self.pos += 1;
                let matched: Vec<Condition> = self
                    .selections
                    .iter()
                    .filter(|(name, _)| {
                        pat == "them" || crate::ir::glob_match(pat.as_bytes(), name.as_bytes())
                    })
                    .map(|(_, c)| c.clone())
                    .collect();
                if matched.is_empty() {
                    return Err(format!("no selection matches `{pat}`"));
                }
                Ok(if t == Tok::AllOf {
                    Condition::All(matched)
                } else {
                    Condition::Any(matched)
                })
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                self.selections
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, c)| c.clone())
                    .ok_or_else(|| format!("unknown selection `{name}`"))
            }
            Some(t) => Err(format!("unexpected `{t:?}`")),
            None => Err("the condition ends too early".into()),
        }
    }
}

#[cfg(test)]
mod tests;
