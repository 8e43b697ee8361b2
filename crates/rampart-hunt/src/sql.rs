//! Rule data → Spark SQL: every condition as one boolean expression over the event read as a
//! `VARIANT` (`parse_json`), with the local engine's semantics.
//!
//! Why a variant and not only typed columns: the engine's tests depend on each value's JSON
//! type (the number `5` and the string `"5"` meet a numeric test alike but a boolean test
//! differently; `null` is not absent; a string holding JSON is not an object), which a typed
//! schema erases. `try_variant_get`/`schema_of_variant` keep it, so each leaf compiles exactly.
//!
//! Values a path reaches are an `array<variant>`: arrays met by a key fan out, and a reached
//! array stands for its elements, as in `engine.rs`. SQL has no recursion, so arrays nested in
//! arrays are followed [`DEPTH`] levels deep (documented in `docs/hunt.md`). A leaf with no
//! exact SQL form (an IPv6 CIDR test; a raw-text test inside a quantifier) is returned as an
//! error and the caller has the runner evaluate that one leaf in Python instead.

use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;

/// How deep arrays nested in arrays are followed (the local engine follows any depth).
pub const DEPTH: usize = 4;

/// What a path reaches on the event, computed once per event for every rule that reads it:
/// `values` (an `array<variant>`) and `leaves` (the values with arrays opened, each with its
/// text: `array<struct<v: variant, s: string>>`), as columns the rules' predicates name.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    /// `(name, sql)` over the event column `ev`, in order.
    pub values: Vec<(String, String)>,
    /// `(name, sql)` over the `values` columns, in order.
    pub leaves: Vec<(String, String)>,
}

/// Which events a rule's condition is evaluated on: its index keys, as `Engine::candidates`
/// filters events (lowercased names or sources; an empty set admits only a non-string value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    Every,
    Names(BTreeSet<String>),
    Sources(BTreeSet<String>),
}

/// The events a shared column is read on: the union of its readers' [`Reach`]. Outside it the
/// column is NULL and costs only this test, since no rule reading it gets past its own index
/// keys there (each predicate is `index keys AND condition`).
#[derive(Debug, Clone, Default)]
struct Guard {
    every: bool,
    names: Option<BTreeSet<String>>,
    sources: Option<BTreeSet<String>>,
}

impl Guard {
    fn add(&mut self, r: &Reach) {
        match r {
            Reach::Every => self.every = true,
            Reach::Names(n) => self
                .names
                .get_or_insert_with(BTreeSet::new)
                .extend(n.iter().cloned()),
            Reach::Sources(n) => self
                .sources
                .get_or_insert_with(BTreeSet::new)
                .extend(n.iter().cloned()),
        }
    }

    /// The test on the runner's index columns (`_nk`/`_n`, `_sk`/`_s`), or None for every event.
    fn sql(&self) -> Option<String> {
        if self.every || (self.names.is_none() && self.sources.is_none()) {
            return None;
        }
        let set = |v: &BTreeSet<String>| v.iter().map(|s| lit(s)).collect::<Vec<_>>().join(", ");
        let mut any = Vec::new();
        if let Some(n) = &self.names {
            // as the rules' own test: an absent name reads as '', a non-string one admits all
            any.push(match (n.is_empty(), n.contains("")) {
                (true, _) => "_nk = 2".to_string(),
                (false, true) => format!("_nk <> 1 OR _n IN ({})", set(n)),
                (false, false) => format!("_nk = 2 OR (_nk = 1 AND _n IN ({}))", set(n)),
            });
        }
        if let Some(n) = &self.sources {
            any.push(if n.is_empty() {
                "_sk = 2".to_string()
            } else {
                format!("_sk = 2 OR _s IN ({})", set(n))
            });
        }
        Some(any.join(" OR "))
    }
}

/// Generates the SQL of many rules' conditions, sharing the paths they read.
#[derive(Default)]
pub struct Generator {
    sql: Sql,
}

impl Generator {
    /// The SQL of one condition (rule data, see [`crate::compile`]) on the event `ev` (a
    /// variant column) with raw text `raw`, or why it has none.
    pub fn condition(&self, c: &Value) -> Result<String, String> {
        self.sql.cond(c, &Root::Event)
    }

    /// How many shared columns there are now, for [`Generator::rollback`].
    pub fn mark(&self) -> (usize, usize) {
        let c = self.sql.columns.borrow();
        (c.values.len(), c.leaves.len())
    }

    /// Forgets the shared columns registered since `mark` (a leaf that was not kept). The
    /// events earlier columns are computed on may stay wider than needed, never narrower.
    pub fn rollback(&self, mark: (usize, usize)) {
        let mut c = self.sql.columns.borrow_mut();
        c.values.truncate(mark.0);
        c.leaves.truncate(mark.1);
        let mut g = self.sql.guards.borrow_mut();
        g.0.truncate(mark.0);
        g.1.truncate(mark.1);
    }

    /// The events the conditions generated from now on are evaluated on.
    pub fn reach(&self, r: Reach) {
        *self.sql.reach.borrow_mut() = r;
    }

    /// The shared columns the conditions generated so far read, each computed only on the
    /// events some rule reading it is evaluated on (NULL elsewhere).
    pub fn columns(&self) -> Columns {
        let c = self.sql.columns.borrow();
        let g = self.sql.guards.borrow();
        let guarded = |v: &[(String, String)], g: &[Guard]| -> Vec<(String, String)> {
            v.iter()
                .zip(g)
                .map(|((k, s), g)| match g.sql() {
                    Some(t) => (k.clone(), format!("CASE WHEN {t} THEN {s} END")),
                    None => (k.clone(), s.clone()),
                })
                .collect()
        };
        Columns {
            values: guarded(&c.values, &g.0),
            leaves: guarded(&c.leaves, &g.1),
        }
    }
}

/// The SQL of one condition alone (its shared columns dropped): for tests.
#[cfg(test)]
pub fn condition(c: &Value) -> Result<String, String> {
    Generator::default().condition(c)
}

/// What a condition is evaluated on: the event (with its raw text) or an item of a quantifier.
enum Root {
    Event,
    Item(String),
}

impl Root {
    fn expr(&self) -> &str {
        match self {
            Root::Event => "ev",
            Root::Item(v) => v,
        }
    }
}

struct Sql {
    /// Lambda variables are numbered so that nested lambdas never shadow one another.
    next: Cell<usize>,
    columns: RefCell<Columns>,
    /// Per shared column (values, leaves): the events its readers are evaluated on.
    guards: RefCell<(Vec<Guard>, Vec<Guard>)>,
    /// The reach of the rule being generated.
    reach: RefCell<Reach>,
}

impl Default for Sql {
    fn default() -> Self {
        Sql {
            next: Cell::new(0),
            columns: RefCell::default(),
            guards: RefCell::default(),
            reach: RefCell::new(Reach::Every),
        }
    }
}

/// A SQL string literal holding exactly `s` (Spark's parser unescapes `\\`, `\'`, `\uXXXX`).
pub fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A double literal Spark reads back exactly.
fn dbl(x: f64) -> String {
    format!("CAST({} AS DOUBLE)", lit(&format!("{x:e}")))
}

const EMPTY: &str = "CAST(array() AS array<variant>)";

/// Rust's `char::is_whitespace` (the `White_Space` property), for `str::trim`.
const RUST_WS: &str = "[\\u0009-\\u000d\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";

/// Rust's `f64::from_str` grammar.
const RUST_FLOAT: &str =
    "(?i)^[+-]?(?:(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:e[+-]?[0-9]+)?|inf|infinity|nan)$";

impl Sql {
    fn var(&self, stem: &str) -> String {
        let n = self.next.get();
        self.next.set(n + 1);
        format!("{stem}{n}")
    }

    fn cond(&self, c: &Value, root: &Root) -> Result<String, String> {
        let (kind, a) = one(c)?;
        Ok(match kind {
            "const" => {
                if a.as_bool() == Some(true) {
                    "true".into()
                } else {
                    "false".into()
                }
            }
            "all" | "any" => {
                let parts = list(a)?
                    .iter()
                    .map(|x| self.cond(x, root))
                    .collect::<Result<Vec<_>, _>>()?;
                join(&parts, if kind == "all" { "AND" } else { "OR" })
            }
            "not" => format!("(NOT {})", self.cond(a, root)?),
            "match" => self.matches(a, root)?,
            "pattern" => self.pattern(a, root)?,
            "raw_contains" => match root {
                Root::Event => format!("(instr(raw, {}) > 0)", lit(text(a)?)),
                Root::Item(_) => {
                    return Err("a raw-text test inside a quantifier reads the item's compact JSON as serde_json writes it, which Spark's to_json does not reproduce".into());
                }
            },
            "any_item" => self.any_item(a, root)?,
            other => return Err(format!("unknown condition `{other}`")),
        })
    }

    // --- paths ---------------------------------------------------------------------------

    /// The values `path` reaches from `root`, as an `array<variant>`.
    fn resolve(&self, path: &Value, root: &str) -> Result<String, String> {
        let mut e = format!("array({root})");
        for step in list(path)? {
            e = match step {
                Value::String(k) => {
                    let x = self.var("x");
                    format!(
                        "flatten(transform({e}, {x} -> {}))",
                        self.key_step(&x, k, DEPTH)?
                    )
                }
                Value::Number(n) => {
                    let i = n
                        .as_u64()
                        .ok_or("a path index that is not a whole number")?;
                    let x = self.var("x");
                    let child = format!("try_variant_get({x}, '$[{i}]')");
                    format!(
                        "flatten(transform({e}, {x} -> CASE WHEN {child} IS NOT NULL THEN array({child}) ELSE {EMPTY} END))"
                    )
                }
                Value::Array(_) => {
                    let x = self.var("x");
                    format!(
                        "flatten(transform({e}, {x} -> coalesce({}, {EMPTY})))",
                        arr(&x)
                    )
                }
                _ => return Err("a path step that is neither a key nor an index".into()),
            };
        }
        Ok(e)
    }

    /// A key on `x`: the member of an object; on an array, the key of every element (arrays in
    /// arrays `depth` levels deep).
    fn key_step(&self, x: &str, k: &str, depth: usize) -> Result<String, String> {
        let child = format!("try_variant_get({x}, {})", lit(&key_path(k)?));
        let deeper = if depth == 0 {
            EMPTY.to_string()
        } else {
            let y = self.var("x");
            format!(
                "coalesce(flatten(transform({}, {y} -> {})), {EMPTY})",
                arr(x),
                self.key_step(&y, k, depth - 1)?
            )
        };
        Ok(format!(
            "CASE WHEN {child} IS NOT NULL THEN array({child}) ELSE {deeper} END"
        ))
    }

    /// The values with arrays replaced by their elements (`any_element`'s view).
    fn leaves(&self, e: &str, depth: usize) -> String {
        if depth == 0 {
            return e.to_string();
        }
        let x = self.var("x");
        format!(
            "flatten(transform({e}, {x} -> CASE WHEN {a} IS NOT NULL THEN {inner} ELSE array({x}) END))",
            a = arr(&x),
            inner = self.leaves(&arr(&x), depth - 1)
        )
    }

    /// Every scalar leaf under the values (objects' members and arrays' elements).
    fn anywhere(&self, e: &str, depth: usize) -> String {
        let x = self.var("x");
        let children = format!("coalesce(map_values({}), {})", obj(&x), arr(&x));
        let inner = if depth == 0 {
            // deeper than followed: what is left counts as one (non-matching) value
            format!("array({x})")
        } else {
            self.anywhere(&children, depth - 1)
        };
        format!(
            "flatten(transform({e}, {x} -> CASE WHEN {children} IS NOT NULL THEN {inner} ELSE array({x}) END))"
        )
    }

    // --- match ---------------------------------------------------------------------------

    fn matches(&self, m: &Value, root: &Root) -> Result<String, String> {
        let anywhere = m["anywhere"].as_bool() == Some(true);
        let vals = self.reached(&m["path"], anywhere, root)?;
        self.values(&m["pred"], &vals, root)
    }

    /// The values a path reaches (`anywhere`: their scalar leaves): a shared column on the
    /// event, inline SQL on a quantifier's item.
    fn reached(&self, path: &Value, anywhere: bool, root: &Root) -> Result<String, String> {
        let sql = |s: &Sql| -> Result<String, String> {
            let v = s.resolve(path, root.expr())?;
            Ok(if anywhere { s.anywhere(&v, DEPTH) } else { v })
        };
        match root {
            Root::Item(_) => sql(self),
            Root::Event => {
                let key = format!("{}{path}", if anywhere { "anywhere:" } else { "" });
                if let Some(name) = self.shared(&key, false) {
                    return Ok(name);
                }
                let text = sql(self)?;
                Ok(self.register(key, text, false))
            }
        }
    }

    /// The leaves of reached values, each with its text (a shared column for a shared
    /// `values` column).
    fn typed_leaves(&self, vals: &str) -> String {
        let x = self.var("x");
        let sql = format!(
            "transform({}, {x} -> named_struct('v', {x}, 's', {}))",
            self.leaves(vals, DEPTH),
            scalar_text(&x)
        );
        if !vals.starts_with("pv") {
            return sql;
        }
        match self.shared(vals, true) {
            Some(name) => name,
            None => self.register(vals.to_string(), sql, true),
        }
    }

    fn shared(&self, key: &str, leaves: bool) -> Option<String> {
        let cols = self.columns.borrow();
        let list = if leaves { &cols.leaves } else { &cols.values };
        let prefix = if leaves { "pt" } else { "pv" };
        let i = list.iter().position(|(k, _)| k == key)?;
        self.read_by_this_rule(i, leaves);
        Some(format!("{prefix}{i}"))
    }

    fn read_by_this_rule(&self, i: usize, leaves: bool) {
        let mut g = self.guards.borrow_mut();
        let list = if leaves { &mut g.1 } else { &mut g.0 };
        if list.len() <= i {
            list.resize(i + 1, Guard::default());
        }
        list[i].add(&self.reach.borrow());
    }

    fn register(&self, key: String, sql: String, leaves: bool) -> String {
        let mut cols = self.columns.borrow_mut();
        let list = if leaves {
            &mut cols.leaves
        } else {
            &mut cols.values
        };
        let prefix = if leaves { "pt" } else { "pv" };
        // the same SQL reached another way (a pattern's selector and a rule's path) is one column
        let i = match list.iter().position(|(_, s)| *s == sql) {
            Some(i) => i,
            None => {
                list.push((key, sql));
                list.len() - 1
            }
        };
        drop(cols);
        self.read_by_this_rule(i, leaves);
        format!("{prefix}{i}")
    }

    /// A predicate over the set of reached values (`test_values`).
    fn values(&self, p: &Value, vals: &str, root: &Root) -> Result<String, String> {
        let (kind, a) = one(p)?;
        Ok(match kind {
            "null" => {
                let e = self.var("e");
                format!(
                    "forall({}, {e} -> is_variant_null({e}.v))",
                    self.typed_leaves(vals)
                )
            }
            "exists" => {
                if a.as_bool() == Some(true) {
                    format!("(size({vals}) > 0)")
                } else {
                    format!("(size({vals}) = 0)")
                }
            }
            "all" | "any" => {
                let parts = list(a)?
                    .iter()
                    .map(|q| self.values(q, vals, root))
                    .collect::<Result<Vec<_>, _>>()?;
                join(&parts, if kind == "all" { "AND" } else { "OR" })
            }
            "field_ref" => {
                let others = self.reached(&a["path"], false, root)?;
                let ci = a["ci"].as_bool() == Some(true);
                let (x, y) = (self.var("e"), self.var("e"));
                let fold = |s: String| if ci { ascii_lower(&s) } else { s };
                format!(
                    "exists({}, {x} -> {x}.s IS NOT NULL AND exists({}, {y} -> {y}.s IS NOT NULL AND {} = {}))",
                    self.typed_leaves(vals),
                    self.typed_leaves(&others),
                    fold(format!("{y}.s")),
                    fold(format!("{x}.s")),
                )
            }
            _ => {
                let e = self.var("e");
                format!(
                    "exists({}, {e} -> coalesce({}, false))",
                    self.typed_leaves(vals),
                    self.one(p, &e)?
                )
            }
        })
    }

    /// A predicate on one leaf `e` (`e.v` the value, `e.s` its text) (`test_one`): booleans
    /// and numbers by their JSON type, every other test on the value's text.
    fn one(&self, p: &Value, e: &str) -> Result<String, String> {
        let (kind, a) = one(p)?;
        let x = format!("{e}.v");
        let s = format!("{e}.s");
        Ok(match kind {
            "bool" => format!(
                "(schema_of_variant({x}) = 'BOOLEAN' AND try_variant_get({x}, '$', 'boolean') = {})",
                if a.as_bool() == Some(true) {
                    "true"
                } else {
                    "false"
                }
            ),
            "num" => {
                let op = a["op"]
                    .as_str()
                    .ok_or("a numeric test without an operator")?;
                let v = a["value"]
                    .as_f64()
                    .ok_or("a numeric test without a value")?;
                format!(
                    "CASE WHEN {} THEN {} ELSE {} END",
                    is_number(&x),
                    cmp(op, &format!("try_variant_get({x}, '$', 'double')"), v),
                    cmp(op, &parse_f64(&s), v)
                )
            }
            _ => format!(
                "({s} IS NOT NULL AND coalesce({}, false))",
                self.text(p, &s)?
            ),
        })
    }

    /// A predicate on a value's text (`test_str`).
    fn text(&self, p: &Value, s: &str) -> Result<String, String> {
        let (kind, a) = one(p)?;
        Ok(match kind {
            "str" => {
                let needle = text(&a["needle"])?;
                let h = if a["ci"].as_bool() == Some(true) {
                    format!("lower({s})")
                } else {
                    s.to_string()
                };
                match a["op"].as_str().unwrap_or("") {
                    "equals" => format!("({h} = {})", lit(needle)),
                    "contains" => format!("(instr({h}, {}) > 0)", lit(needle)),
                    "startswith" => format!("startswith({h}, {})", lit(needle)),
                    "endswith" => format!("endswith({h}, {})", lit(needle)),
                    "wildcard" => format!("({h} RLIKE {})", lit(&glob_regex(needle))),
                    other => return Err(format!("unknown string test `{other}`")),
                }
            }
            "one_of" => {
                let values = list(&a["values"])?
                    .iter()
                    .map(|v| text(v).map(str::to_string))
                    .collect::<Result<Vec<_>, _>>()?;
                if values.is_empty() {
                    return Ok("false".into());
                }
                if a["ci"].as_bool() == Some(true) {
                    let folded: Vec<String> = values
                        .iter()
                        .map(|v| lit(&v.to_ascii_lowercase()))
                        .collect();
                    let exact: Vec<String> = values.iter().map(|v| lit(v)).collect();
                    format!(
                        "(array_contains(array({}), {}) OR ({s} NOT RLIKE '^[\\\\x00-\\\\x7f]*$' AND array_contains(array({}), lower({s}))))",
                        folded.join(", "),
                        ascii_lower(s),
                        exact.join(", ")
                    )
                } else {
                    let vs: Vec<String> = values.iter().map(|v| lit(v)).collect();
                    format!("array_contains(array({}), {s})", vs.join(", "))
                }
            }
            "regex" => {
                let pattern = text(&a["pattern"])?;
                let ci = a["ci"].as_bool() == Some(true);
                format!("({s} RLIKE {})", lit(&java_regex(pattern, ci)?))
            }
            "contains_any" => {
                let h = if a["ci"].as_bool() == Some(true) {
                    format!("lower({s})")
                } else {
                    s.to_string()
                };
                let needles = list(&a["needles"])?
                    .iter()
                    .map(|n| text(n).map(|n| format!("instr({h}, {}) > 0", lit(n))))
                    .collect::<Result<Vec<_>, _>>()?;
                if needles.is_empty() {
                    "false".into()
                } else {
                    join(&needles, "OR")
                }
            }
            "num" => {
                let op = a["op"]
                    .as_str()
                    .ok_or("a numeric test without an operator")?;
                let v = a["value"]
                    .as_f64()
                    .ok_or("a numeric test without a value")?;
                cmp(op, &parse_f64(s), v)
            }
            "cidr" => cidr(list(a)?, s)?,
            "bool" | "null" | "field_ref" => "false".into(),
            "exists" => {
                if a.as_bool() == Some(true) {
                    "true".into()
                } else {
                    "false".into()
                }
            }
            "any" | "all" => {
                let parts = list(a)?
                    .iter()
                    .map(|q| self.text(q, s).map(|t| format!("coalesce({t}, false)")))
                    .collect::<Result<Vec<_>, _>>()?;
                join(&parts, if kind == "all" { "AND" } else { "OR" })
            }
            other => return Err(format!("unknown predicate `{other}`")),
        })
    }

    // --- quantifiers ---------------------------------------------------------------------

    fn any_item(&self, q: &Value, root: &Root) -> Result<String, String> {
        let vals = self.resolve(&q["path"], root.expr())?;
        let v = self.var("v");
        let w = self.var("w");
        let decoded = if q["decode_json"].as_bool() == Some(true) {
            format!(
                "CASE WHEN schema_of_variant({v}) = 'STRING' THEN try_parse_json(try_variant_get({v}, '$', 'string')) ELSE {v} END"
            )
        } else {
            v.clone()
        };
        let per_item = match q["items"].as_str() {
            Some("elements") => {
                // an array's elements, or the value itself: the condition written once
                let i = self.var("i");
                let on_item = self.cond(&q["cond"], &Root::Item(i.clone()))?;
                format!(
                    "exists(coalesce({a}, array({w})), {i} -> coalesce({on_item}, false))",
                    a = arr(&w)
                )
            }
            Some("members") => {
                let m = self.var("m");
                let item =
                    format!("to_variant_object(named_struct('key', {m}.key, 'value', {m}.value))");
                let on_item = self.cond(&q["cond"], &Root::Item(item))?;
                format!(
                    "coalesce(exists(map_entries({}), {m} -> coalesce({on_item}, false)), false)",
                    obj(&w)
                )
            }
            _ => return Err("a quantifier over neither elements nor members".into()),
        };
        Ok(format!(
            "exists({vals}, {v} -> exists(array({decoded}), {w} -> {w} IS NOT NULL AND {per_item}))"
        ))
    }

    // --- CloudWatch filter patterns ------------------------------------------------------

    fn pattern(&self, p: &Value, root: &Root) -> Result<String, String> {
        if p.get("all").is_some() {
            return Ok("true".into());
        }
        self.pattern_expr(&p["json"], root)
    }

    fn pattern_expr(&self, e: &Value, root: &Root) -> Result<String, String> {
        let (kind, a) = one(e)?;
        match kind {
            "and" | "or" => {
                let parts = list(a)?
                    .iter()
                    .map(|x| self.pattern_expr(x, root))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(join(&parts, if kind == "and" { "AND" } else { "OR" }))
            }
            "cmp" => {
                let mut path = String::from("$");
                for step in list(&a["path"])? {
                    match step {
                        Value::String(k) => path.push_str(&key_path(k)?[1..]),
                        Value::Number(n) => path.push_str(&format!("[{n}]")),
                        _ => {
                            return Err("a selector step that is neither a key nor an index".into());
                        }
                    }
                }
                let f = format!("try_variant_get({}, {})", root.expr(), lit(&path));
                let f = match root {
                    // one column per selector, shared by every pattern that names it
                    Root::Event => {
                        let key = format!("selector:{path}");
                        match self.shared(&key, false) {
                            Some(name) => name,
                            None => self.register(key, f, false),
                        }
                    }
                    Root::Item(_) => f,
                };
                self.pattern_test(&a["test"], &f)
            }
            other => Err(format!("unknown filter-pattern expression `{other}`")),
        }
    }

    /// One selector's test on the value found (`f` is SQL NULL when the selector reaches
    /// nothing, a variant null for JSON `null`).
    fn pattern_test(&self, t: &Value, f: &str) -> Result<String, String> {
        if let Some(name) = t.as_str() {
            return Ok(match name {
                "exists" => format!("({f} IS NOT NULL)"),
                "not_exists" => format!("({f} IS NULL)"),
                "is_null" => format!("coalesce(is_variant_null({f}), false)"),
                "is_true" | "is_false" => format!(
                    "coalesce(schema_of_variant({f}) = 'BOOLEAN' AND try_variant_get({f}, '$', 'boolean') = {}, false)",
                    name == "is_true"
                ),
                other => return Err(format!("unknown filter-pattern test `{other}`")),
            });
        }
        let (kind, a) = one(t)?;
        Ok(match kind {
            "eq" => format!(
                "coalesce({f} IS NOT NULL AND {}, false)",
                self.literal(a, f)?
            ),
            "ne" => format!(
                "coalesce({f} IS NOT NULL AND NOT is_variant_null({f}) AND NOT coalesce({}, false), false)",
                self.literal(a, f)?
            ),
            "num" => {
                let op = a["op"]
                    .as_str()
                    .ok_or("a numeric test without an operator")?;
                let v = a["value"]
                    .as_f64()
                    .ok_or("a numeric test without a value")?;
                // pattern numbers: a JSON number, or a string that parses to a finite number
                let n = format!(
                    "CASE WHEN {num} THEN try_variant_get({f}, '$', 'double') WHEN schema_of_variant({f}) = 'STRING' THEN CASE WHEN isnan({p}) OR abs({p}) = double('Infinity') THEN NULL ELSE {p} END END",
                    num = is_number(f),
                    p = parse_f64(&format!("try_variant_get({f}, '$', 'string')")),
                );
                format!("coalesce({}, false)", cmp(op, &n, v))
            }
            other => return Err(format!("unknown filter-pattern test `{other}`")),
        })
    }

    /// A selector value's number text (see [`number_text`]): computed once per shared
    /// selector column.
    fn shared_number_text(&self, f: &str) -> String {
        if !f.starts_with("pv") {
            return number_text(f);
        }
        let key = format!("number_text:{f}");
        match self.shared(&key, true) {
            Some(name) => name,
            None => self.register(key, number_text(f), true),
        }
    }

    fn literal(&self, l: &Value, f: &str) -> Result<String, String> {
        let (kind, a) = one(l)?;
        let string = format!("schema_of_variant({f}) = 'STRING'");
        let s = format!("try_variant_get({f}, '$', 'string')");
        let number_text = self.shared_number_text(f);
        Ok(match kind {
            "exact" => {
                let t = text(&a["text"])?;
                let number = match a["number"].as_f64() {
                    Some(n) => format!(
                        "WHEN {} THEN try_variant_get({f}, '$', 'double') = {}",
                        is_number(f),
                        dbl(n)
                    ),
                    None => String::new(),
                };
                format!(
                    "CASE {number} WHEN {string} THEN {s} = {lt} WHEN schema_of_variant({f}) = 'BOOLEAN' THEN {lt} = CASE WHEN try_variant_get({f}, '$', 'boolean') THEN 'true' ELSE 'false' END WHEN {num} THEN {number_text} = {lt} ELSE false END",
                    lt = lit(t),
                    num = is_number(f),
                )
            }
            "glob" => {
                let parts = list(a)?
                    .iter()
                    .map(|p| text(p).map(str::to_string))
                    .collect::<Result<Vec<_>, _>>()?;
                let re = lit(&pattern_glob_regex(&parts));
                format!(
                    "CASE WHEN {string} THEN {s} RLIKE {re} WHEN {num} THEN {number_text} RLIKE {re} ELSE false END",
                    num = is_number(f)
                )
            }
            "regex" => {
                let re = lit(&java_regex(text(a)?, false)?);
                format!(
                    "CASE WHEN {string} THEN {s} RLIKE {re} WHEN {num} THEN {number_text} RLIKE {re} ELSE false END",
                    num = is_number(f)
                )
            }
            other => return Err(format!("unknown filter-pattern literal `{other}`")),
        })
    }
}

// --- building blocks ----------------------------------------------------------------------

fn one(v: &Value) -> Result<(&str, &Value), String> {
    match v.as_object() {
        Some(m) if m.len() == 1 => {
            let (k, a) = m.iter().next().ok_or("an empty rule-data object")?;
            Ok((k.as_str(), a))
        }
        _ => Err(format!("malformed rule data: {v}")),
    }
}

fn list(v: &Value) -> Result<&Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("malformed rule data: {v}"))
}

fn text(v: &Value) -> Result<&str, String> {
    v.as_str()
        .ok_or_else(|| format!("malformed rule data: {v}"))
}

fn join(parts: &[String], op: &str) -> String {
    if parts.is_empty() {
        return if op == "AND" { "true" } else { "false" }.into();
    }
    format!("({})", parts.join(&format!(" {op} ")))
}

/// `["key"]` as a variant path step; keys with quotes or backslashes have no path form here.
fn key_path(k: &str) -> Result<String, String> {
    if k.contains(['"', '\'', '\\']) || k.chars().any(char::is_control) {
        return Err(format!(
            "the key `{k}` holds a quote, a backslash or a control character, which a Spark variant path cannot name"
        ));
    }
    Ok(format!("$[\"{k}\"]"))
}

fn arr(x: &str) -> String {
    format!("try_variant_get({x}, '$', 'array<variant>')")
}

fn obj(x: &str) -> String {
    format!("try_variant_get({x}, '$', 'map<string,variant>')")
}

fn is_number(x: &str) -> String {
    format!("(schema_of_variant({x}) RLIKE '^(BIGINT|INT|SMALLINT|TINYINT|DOUBLE|FLOAT|DECIMAL)')")
}

fn ascii_lower(s: &str) -> String {
    format!("translate({s}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')")
}

/// `Some(op)` comparison of a double with a finite constant, false for NaN except `!=`
/// (Rust's and IEEE's NaN; Spark orders NaN above every number).
fn cmp(op: &str, d: &str, v: f64) -> String {
    let v = dbl(v);
    let sym = match op {
        "eq" => "=",
        "ne" => return format!("({d} IS NOT NULL AND (isnan({d}) OR {d} <> {v}))"),
        "lt" => "<",
        "le" => "<=",
        "gt" => ">",
        _ => ">=",
    };
    format!("({d} IS NOT NULL AND NOT isnan({d}) AND {d} {sym} {v})")
}

/// Rust's `s.trim().parse::<f64>()`: NULL when Rust refuses the text.
fn parse_f64(s: &str) -> String {
    let t = format!(
        "regexp_replace({s}, {}, '')",
        lit(&format!("^{RUST_WS}+|{RUST_WS}+$"))
    );
    format!(
        "CASE WHEN {t} RLIKE {re} THEN CASE WHEN lower({t}) RLIKE '^[+-]?nan$' THEN double('NaN') ELSE try_cast({t} AS DOUBLE) END END",
        re = lit(RUST_FLOAT)
    )
}

/// A scalar's text as the local engine reads it: a string itself, `true`/`false`, a number as
/// `serde_json` writes it; NULL for null, objects and arrays.
fn scalar_text(x: &str) -> String {
    format!(
        "CASE schema_of_variant({x}) WHEN 'STRING' THEN try_variant_get({x}, '$', 'string') WHEN 'BOOLEAN' THEN CASE WHEN try_variant_get({x}, '$', 'boolean') THEN 'true' ELSE 'false' END ELSE CASE WHEN {} THEN {} END END",
        is_number(x),
        number_text(x)
    )
}

/// A JSON number's text as `serde_json` (without arbitrary precision) writes it: integers that
/// fit an `i64`/`u64` as they are, every other number as the shortest `f64` text in ryu's
/// layout (`1.0`, `1e20`, `1.5e-7`). Java prints the same digits in another layout, which is
/// rearranged here.
fn number_text(x: &str) -> String {
    let t = format!("try_variant_get({x}, '$', 'string')");
    let ty = format!("schema_of_variant({x})");
    format!(
        "CASE WHEN {ty} = 'BIGINT' OR ({ty} IN ('DECIMAL(19,0)', 'DECIMAL(20,0)') AND NOT startswith({t}, '-') AND (length({t}) < 20 OR {t} <= '18446744073709551615')) THEN {t} ELSE {} END",
        ryu(&format!(
            "CAST(try_variant_get({x}, '$', 'double') AS STRING)"
        ))
    )
}

/// Java's `Double.toString` text `j` → ryu's layout.
fn ryu(j: &str) -> String {
    // let-bindings through one-element arrays: sign, digits without leading/trailing zeros and
    // the decimal point's position in them
    let re = "'^(-?)([0-9]+)\\\\.([0-9]+)(?:E(-?[0-9]+))?$'";
    let parts = format!(
        "named_struct('sign', regexp_extract({j}, {re}, 1), 'all', concat(regexp_extract({j}, {re}, 2), regexp_extract({j}, {re}, 3)), 'point', length(regexp_extract({j}, {re}, 2)) + coalesce(try_cast(nullif(regexp_extract({j}, {re}, 4), '') AS INT), 0))"
    );
    let norm = "named_struct('sign', p.sign, 'd', regexp_replace(regexp_replace(p.all, '^0+', ''), '0+$', ''), 'kk', p.point - (length(p.all) - length(regexp_replace(p.all, '^0+', ''))))";
    let body = "CASE WHEN q.d = '' THEN concat(q.sign, '0.0') \
        WHEN length(q.d) <= q.kk AND q.kk <= 16 THEN concat(q.sign, q.d, repeat('0', q.kk - length(q.d)), '.0') \
        WHEN 0 < q.kk AND q.kk <= 16 THEN concat(q.sign, substr(q.d, 1, q.kk), '.', substr(q.d, q.kk + 1)) \
        WHEN -5 < q.kk AND q.kk <= 0 THEN concat(q.sign, '0.', repeat('0', -q.kk), q.d) \
        WHEN length(q.d) = 1 THEN concat(q.sign, q.d, 'e', CAST(q.kk - 1 AS STRING)) \
        ELSE concat(q.sign, substr(q.d, 1, 1), '.', substr(q.d, 2), 'e', CAST(q.kk - 1 AS STRING)) END";
    format!("transform(transform(array({parts}), p -> {norm}), q -> {body})[0]")
}

/// A Java regex character for `c` taken literally.
fn quote_char(c: char, out: &mut String) {
    if c.is_ascii_alphanumeric() || !c.is_ascii() {
        out.push(c);
    } else {
        out.push('\\');
        out.push(c);
    }
}

/// rampart's wildcard (`*` any run, `?` one character, `\*`, `\?`, `\\` literal; any other
/// backslash is itself) as an anchored Java regex.
fn glob_regex(g: &str) -> String {
    let mut out = String::from("(?s)^");
    let mut it = g.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '\\' => match it.peek() {
                Some(&n) if matches!(n, '*' | '?' | '\\') => {
                    it.next();
                    quote_char(n, &mut out);
                }
                _ => quote_char('\\', &mut out),
            },
            c => quote_char(c, &mut out),
        }
    }
    out.push_str("\\z");
    out
}

/// A filter-pattern glob (`parts` between `*`s): starts with the first, ends with the last,
/// holds the middle ones in order between them.
fn pattern_glob_regex(parts: &[String]) -> String {
    if parts.is_empty() {
        return "(?s)^".into();
    }
    let mut out = String::from("(?s)^");
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(".*");
        }
        p.chars().for_each(|c| quote_char(c, &mut out));
    }
    out.push_str("\\z");
    out
}

/// A Rust `regex` pattern (already accepted by [`crate::compile::check_regex`]) as Java reads
/// it the same way: Unicode classes and case folding (`(?U)`, `(?u)`), only `\n` ends a line
/// (`(?d)`), `$` as the end of the text, `(?P<n>` as `(?<n>`.
pub fn java_regex(p: &str, ci: bool) -> Result<String, String> {
    let mut out = String::from(if ci { "(?iuUd)" } else { "(?Ud)" });
    let b: Vec<char> = p.chars().collect();
    let (mut i, mut in_class) = (0, false);
    while i < b.len() {
        let c = b[i];
        if c == '\\' {
            out.push(c);
            if let Some(&n) = b.get(i + 1) {
                out.push(n);
            }
            i += 2;
            continue;
        }
        if in_class {
            if c == ']' {
                in_class = false;
            }
            out.push(c);
            i += 1;
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                out.push('[');
                i += 1;
                if b.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if b.get(i) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
                continue;
            }
            '$' => out.push_str("\\z"),
            '(' if b.get(i + 1) == Some(&'?')
                && b.get(i + 2) == Some(&'P')
                && b.get(i + 3) == Some(&'<') =>
            {
                let name: String = b[i + 4..].iter().take_while(|c| **c != '>').collect();
                if name.is_empty()
                    || !name.chars().all(|c| c.is_ascii_alphanumeric())
                    || !name.starts_with(|c: char| c.is_ascii_alphabetic())
                {
                    return Err(format!(
                        "regular expression `{p}` names a group `{name}`, which Java's regex cannot name"
                    ));
                }
                out.push_str("(?<");
                i += 4;
                continue;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Ok(out)
}

/// An IPv4 CIDR membership test on a text (Rust's strict `Ipv4Addr` parse: four decimal
/// octets, no leading zeros, after `trim`). IPv6 networks have no SQL form here.
fn cidr(nets: &[Value], s: &str) -> Result<String, String> {
    let mut tests = Vec::new();
    for n in nets {
        let n = text(n)?;
        let (addr, prefix) = n.split_once('/').ok_or("a CIDR without a prefix")?;
        let Ok(a) = addr.parse::<std::net::Ipv4Addr>() else {
            return Err(format!(
                "the IPv6 network {n}: IPv6 parsing and masking has no exact Spark SQL form here"
            ));
        };
        let prefix: u32 = prefix
            .parse()
            .map_err(|_| "a CIDR prefix that is not a number")?;
        if prefix > 32 {
            return Err(format!("the CIDR {n} has a prefix over 32"));
        }
        let mask: u64 = if prefix == 0 {
            0
        } else {
            (u64::from(u32::MAX) << (32 - prefix)) & u64::from(u32::MAX)
        };
        tests.push(format!(
            "(ip & {mask}) = {}",
            u64::from(u32::from(a)) & mask
        ));
    }
    if tests.is_empty() {
        return Ok("false".into());
    }
    let octet = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])";
    let re = format!("^{octet}\\.{octet}\\.{octet}\\.{octet}$");
    let t = format!(
        "regexp_replace({s}, {}, '')",
        lit(&format!("^{RUST_WS}+|{RUST_WS}+$"))
    );
    let ip = format!(
        "try_cast(regexp_extract({t}, {re}, 1) AS BIGINT) * 16777216 + try_cast(regexp_extract({t}, {re}, 2) AS BIGINT) * 65536 + try_cast(regexp_extract({t}, {re}, 3) AS BIGINT) * 256 + try_cast(regexp_extract({t}, {re}, 4) AS BIGINT)",
        re = lit(&re)
    );
    Ok(format!(
        "({t} RLIKE {} AND exists(array({ip}), ip -> {}))",
        lit(&re),
        tests.join(" OR ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_what_spark_unescapes() {
        assert_eq!(lit(r"a'b\c"), r"'a\'b\\c'");
        assert_eq!(lit("x\ny"), r"'x\u000ay'");
    }

    #[test]
    fn globs_become_anchored_java_regexes() {
        assert_eq!(glob_regex("a*b?c"), "(?s)^a.*b.c\\z");
        assert_eq!(glob_regex(r"a\*b"), "(?s)^a\\*b\\z");
        assert_eq!(glob_regex(r"a\xb.c"), "(?s)^a\\\\xb\\.c\\z");
        assert_eq!(
            pattern_glob_regex(&["ab".into(), "c-d".into()]),
            "(?s)^ab.*c\\-d\\z"
        );
    }

    #[test]
    fn rust_regexes_read_alike_in_java() {
        assert_eq!(java_regex("^a.*$", false).unwrap(), "(?Ud)^a.*\\z");
        assert_eq!(java_regex("[$]x$", true).unwrap(), "(?iuUd)[$]x\\z");
        assert_eq!(java_regex("(?P<n1>a)", false).unwrap(), "(?Ud)(?<n1>a)");
        assert!(java_regex("(?P<my_name>a)", false).is_err());
        assert_eq!(java_regex("[]a]", false).unwrap(), "(?Ud)[\\]a]");
    }

    #[test]
    fn ipv6_networks_are_refused_with_a_reason() {
        let e = cidr(&[Value::from("fc00::/7")], "s").unwrap_err();
        assert!(e.contains("IPv6"), "{e}");
        assert!(
            cidr(&[Value::from("10.0.0.0/8")], "s")
                .unwrap()
                .contains("4278190080")
        );
    }

    #[test]
    fn keys_that_paths_cannot_name_are_refused() {
        assert!(key_path("a\"b").is_err());
        assert_eq!(key_path("a.b").unwrap(), "$[\"a.b\"]");
    }
}
