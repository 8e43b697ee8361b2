//! CloudWatch Logs filter patterns: parse them, and evaluate them against log events.
//!
//! rampart reads the metric filters deployed in an account and must decide what they *do*, not
//! what their text looks like: the audit's CIS 4.x controls evaluate each deployed pattern against
//! positive and negative CloudTrail events, and the detection engine accepts patterns as rules.
//!
//! Four pattern forms are supported, as AWS documents them:
//!
//! | form | example | matches when |
//! |---|---|---|
//! | JSON | `{ ($.eventName = ConsoleLogin) && ($.additionalEventData.MFAUsed != "Yes") }` | the event is JSON and the expression holds |
//! | terms | `ERROR -Exiting`, `"Failed to process"`, `?ERROR ?WARN` | every term (or, with `?`, any term) occurs; `-term` must not occur |
//! | space-delimited | `[ip, user, ..., status = 4*, bytes > 1000]` | the line's whitespace-separated fields satisfy the conditions |
//! | regex | `%AccessDenied|Unauthorized%` | the regular expression matches somewhere in the line |
//!
//! An empty pattern (or `""`) matches every event.
//!
//! # JSON expression semantics
//! - Selectors: `$.a.b`, `$.a[0].b`, `$.a[*]`-free (array elements are addressed by index).
//! - `=` / `!=` compare strings exactly and case-sensitively; `*` in the value is a wildcard for
//!   any run of characters. A value that is a number compares numerically with a numeric field.
//!   A value between `%…%` is a regular expression.
//! - `<`, `<=`, `>`, `>=` compare numerically; a non-numeric field does not match.
//! - `IS TRUE` / `IS FALSE` test a boolean field; `IS NULL` a JSON `null`; `EXISTS` /
//!   `NOT EXISTS` test presence.
//! - A comparison on a missing field is false, for `!=` too (use `NOT EXISTS` to test absence).
//! - `&&` binds tighter than `||`; parentheses group. (`A || B && C` is `A || (B && C)`.)
//!
//! The parser never panics; errors name the column and what was expected.

use regex::Regex;
use serde_json::Value;
use std::fmt;

mod delimited;
mod terms;

pub use delimited::DelimitedPattern;
pub use terms::TermsPattern;

/// A parse failure: the 1-based character column and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "filter pattern column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for PatternError {}

/// A parsed filter pattern, ready to evaluate many events.
#[derive(Debug, Clone)]
pub struct FilterPattern {
    text: String,
    kind: Kind,
    /// For JSON patterns: the distinct top-level keys its selectors start with.
    top_keys: Option<Vec<String>>,
}

#[derive(Debug, Clone)]
enum Kind {
    All,
    Json(Expr),
    Terms(TermsPattern),
    Delimited(DelimitedPattern),
    Regex(Regex),
}

impl FilterPattern {
    /// Parses any of the four pattern forms.
    pub fn parse(text: &str) -> Result<FilterPattern, PatternError> {
        let trimmed = text.trim();
        let lead = text.len() - text.trim_start().len();
        let kind = if trimmed.is_empty() || trimmed == "\"\"" {
            Kind::All
        } else if trimmed.starts_with('{') {
            Kind::Json(parse_json_pattern(trimmed, lead)?)
        } else if trimmed.starts_with('[') {
            Kind::Delimited(DelimitedPattern::parse(trimmed, lead)?)
        } else if trimmed.len() >= 2
            && trimmed.starts_with('%')
            && trimmed.ends_with('%')
            && !trimmed[1..trimmed.len() - 1].contains('%')
        {
            Kind::Regex(compile_regex(&trimmed[1..trimmed.len() - 1], lead + 1)?)
        } else {
            Kind::Terms(TermsPattern::parse(trimmed, lead)?)
        };
        let top_keys = match &kind {
            Kind::Json(e) => {
                let mut keys = Vec::new();
                e.top_keys(&mut keys).then_some(keys)
            }
            _ => None,
        };
        Ok(FilterPattern {
            text: text.to_string(),
            kind,
            top_keys,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True for a `{ … }` JSON pattern.
    pub fn is_json(&self) -> bool {
        matches!(self.kind, Kind::Json(_))
    }

    /// Evaluates the pattern against a JSON log event (e.g. one CloudTrail record).
    ///
    /// Non-JSON patterns are evaluated against the event's compact JSON text, which is how the
    /// event reaches CloudWatch Logs from CloudTrail.
    pub fn matches_json(&self, event: &Value) -> bool {
        match &self.kind {
            Kind::All => true,
            Kind::Json(e) => e.eval(&event),
            _ => self.matches_text(&event.to_string()),
        }
    }

    /// Evaluates a JSON pattern against an event seen through `source`, which answers each
    /// selector without a document (a rule engine reads the values from the raw bytes). The
    /// answer is the one [`FilterPattern::matches_json`] gives on the event's document as long as
    /// `source` resolves selectors as [`Lookup for &Value`](Lookup) does. `None` for the other
    /// pattern forms, which read the event's text.
    pub fn matches_lookup(&self, source: &impl Lookup) -> Option<bool> {
        match &self.kind {
            Kind::All => Some(true),
            Kind::Json(e) => Some(e.eval(source)),
            _ => None,
        }
    }

    /// Evaluates the pattern against one raw log line. A JSON pattern parses the line as JSON
    /// and never matches a line that is not a JSON object or array.
    pub fn matches_text(&self, line: &str) -> bool {
        match &self.kind {
            Kind::All => true,
            Kind::Json(e) => match serde_json::from_str::<Value>(line) {
                Ok(v) => e.eval(&&v),
                Err(_) => false,
            },
            Kind::Terms(t) => t.matches(line),
            Kind::Delimited(d) => d.matches(line),
            Kind::Regex(r) => r.is_match(line),
        }
    }

    /// The pattern as data, for evaluators outside this crate (the Spark job of `rampart
    /// hunt` interprets it): `{"all": true}` for the empty pattern, `{"json": expr}` for a JSON
    /// pattern; `None` for the text forms (terms, space-delimited, regex), which have no such
    /// form. An expression is `{"and": [..]}`, `{"or": [..]}` or `{"cmp": {"path": [..],
    /// "test": ..}}`, a path step a key (string) or an index (number).
    pub fn to_data(&self) -> Option<Value> {
        match &self.kind {
            Kind::All => Some(serde_json::json!({ "all": true })),
            Kind::Json(e) => Some(serde_json::json!({ "json": e.to_data() })),
            _ => None,
        }
    }

    /// For JSON patterns: the top-level keys of the event its selectors read (`$.a.b` reads
    /// `a`). Evaluating the pattern on an object holding only those members gives the same
    /// result as on the whole event, so a caller can skip parsing the rest. `None` for other
    /// pattern forms, which read the whole text.
    pub fn top_level_keys(&self) -> Option<&[String]> {
        self.top_keys.as_deref()
    }

    /// For JSON patterns: the values `field` must equal for the pattern to match, when the
    /// pattern pins them in every branch (e.g. `eventName` → `["StopLogging", "DeleteTrail"]`).
    /// `None` when any value could match. Lets a rule engine index patterns by event name.
    pub fn required_values(&self, field: &str) -> Option<Vec<String>> {
        match &self.kind {
            Kind::Json(e) => {
                let path = parse_selector_text(field);
                e.required_values(&path).map(|mut v| {
                    v.sort();
                    v.dedup();
                    v
                })
            }
            _ => None,
        }
    }
}

impl fmt::Display for FilterPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

// ---------------------------------------------------------------------------- JSON expressions

/// One step of a selector: `$.a[0]` is `[Key("a"), Index(0)]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone)]
enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Cmp(Vec<Step>, Test),
}

#[derive(Debug, Clone)]
enum Test {
    Eq(Literal),
    Ne(Literal),
    Num(NumOp, f64),
    IsTrue,
    IsFalse,
    IsNull,
    Exists,
    NotExists,
}

#[derive(Debug, Clone, Copy)]
enum NumOp {
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
enum Literal {
    /// An exact string (also compared numerically when it is a number).
    Exact {
        text: String,
        number: Option<f64>,
    },
    /// A string with `*` wildcards, split on the stars.
    Glob(Vec<String>),
    Regex(Regex),
}

/// What a selector reached, as a [`Lookup`] reports it.
#[derive(Debug, Clone)]
pub enum Found<'a> {
    /// A JSON string (decoded).
    Str(&'a str),
    /// Any other JSON value.
    Json(std::borrow::Cow<'a, Value>),
}

/// Resolves a selector in an event. A selector steps into objects by key and into arrays by
/// index only (no fan-out); a step that meets another kind of value reaches nothing.
pub trait Lookup {
    fn lookup(&self, path: &[Step]) -> Option<Found<'_>>;
}

impl Lookup for &Value {
    fn lookup(&self, path: &[Step]) -> Option<Found<'_>> {
        match lookup(self, path)? {
            Value::String(s) => Some(Found::Str(s)),
            v => Some(Found::Json(std::borrow::Cow::Borrowed(v))),
        }
    }
}

impl Test {
    fn to_data(&self) -> Value {
        use serde_json::json;
        match self {
            Test::Eq(l) => json!({ "eq": l.to_data() }),
            Test::Ne(l) => json!({ "ne": l.to_data() }),
            Test::Num(op, n) => {
                let op = match op {
                    NumOp::Lt => "lt",
                    NumOp::Le => "le",
                    NumOp::Gt => "gt",
                    NumOp::Ge => "ge",
                };
                json!({ "num": { "op": op, "value": n } })
            }
            Test::IsTrue => json!("is_true"),
            Test::IsFalse => json!("is_false"),
            Test::IsNull => json!("is_null"),
            Test::Exists => json!("exists"),
            Test::NotExists => json!("not_exists"),
        }
    }
}

impl Literal {
    fn to_data(&self) -> Value {
        use serde_json::json;
        match self {
            Literal::Exact { text, number } => {
                json!({ "exact": { "text": text, "number": number } })
            }
            Literal::Glob(parts) => json!({ "glob": parts }),
            Literal::Regex(r) => json!({ "regex": r.as_str() }),
        }
    }

    fn matches_found(&self, f: &Found<'_>) -> bool {
        match (self, f) {
            (Literal::Exact { text, .. }, Found::Str(s)) => *s == text,
            (Literal::Glob(parts), Found::Str(s)) => glob_match(parts, s),
            (Literal::Regex(r), Found::Str(s)) => r.is_match(s),
            (_, Found::Json(v)) => self.matches(v),
        }
    }

    fn matches(&self, v: &Value) -> bool {
        match (self, v) {
            (
                Literal::Exact {
                    number: Some(n), ..
                },
                Value::Number(x),
            ) => x.as_f64().is_some_and(|x| x == *n),
            (Literal::Exact { text, .. }, Value::String(s)) => s == text,
            (Literal::Exact { text, .. }, Value::Bool(b)) => {
                text == if *b { "true" } else { "false" }
            }
            (Literal::Exact { text, .. }, Value::Number(x)) => x.to_string() == *text,
            (Literal::Glob(parts), Value::String(s)) => glob_match(parts, s),
            (Literal::Glob(parts), Value::Number(x)) => glob_match(parts, &x.to_string()),
            (Literal::Regex(r), Value::String(s)) => r.is_match(s),
            (Literal::Regex(r), Value::Number(x)) => r.is_match(&x.to_string()),
            _ => false,
        }
    }
}

/// `parts` are the pieces between `*`s: the first must be a prefix, the last a suffix, the rest
/// found in order.
pub(crate) fn glob_match(parts: &[String], s: &str) -> bool {
    match parts {
        [] => true,
        [only] => only == s,
        [first, middle @ .., last] => {
            if s.len() < first.len() + last.len()
                || !s.starts_with(first.as_str())
                || !s.ends_with(last.as_str())
            {
                return false;
            }
            let mut rest = &s[first.len()..s.len() - last.len()];
            for m in middle {
                match rest.find(m.as_str()) {
                    Some(i) => rest = &rest[i + m.len()..],
                    None => return false,
                }
            }
            true
        }
    }
}

fn lookup<'a>(v: &'a Value, path: &[Step]) -> Option<&'a Value> {
    let mut cur = v;
    for step in path {
        cur = match (step, cur) {
            (Step::Key(k), Value::Object(m)) => m.get(k)?,
            (Step::Index(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn as_number(v: &Found<'_>) -> Option<f64> {
    match v {
        Found::Json(v) => match &**v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
            _ => None,
        },
        Found::Str(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
    }
}

impl Expr {
    fn to_data(&self) -> Value {
        use serde_json::json;
        match self {
            Expr::And(xs) => json!({ "and": xs.iter().map(Expr::to_data).collect::<Vec<_>>() }),
            Expr::Or(xs) => json!({ "or": xs.iter().map(Expr::to_data).collect::<Vec<_>>() }),
            Expr::Cmp(path, test) => {
                let path: Vec<Value> = path
                    .iter()
                    .map(|s| match s {
                        Step::Key(k) => json!(k),
                        Step::Index(i) => json!(i),
                    })
                    .collect();
                json!({ "cmp": { "path": path, "test": test.to_data() } })
            }
        }
    }

    /// Adds the first key of every selector to `out`; false when a selector starts with an index.
    fn top_keys(&self, out: &mut Vec<String>) -> bool {
        match self {
            Expr::And(xs) | Expr::Or(xs) => xs.iter().all(|x| x.top_keys(out)),
            Expr::Cmp(path, _) => match path.first() {
                Some(Step::Key(k)) => {
                    if !out.contains(k) {
                        out.push(k.clone());
                    }
                    true
                }
                _ => false,
            },
        }
    }

    fn eval(&self, event: &impl Lookup) -> bool {
        match self {
            Expr::And(xs) => xs.iter().all(|x| x.eval(event)),
            Expr::Or(xs) => xs.iter().any(|x| x.eval(event)),
            Expr::Cmp(path, test) => {
                let found = event.lookup(path);
                let json = |want: &Value| matches!(&found, Some(Found::Json(v)) if **v == *want);
                match test {
                    Test::Exists => found.is_some(),
                    Test::NotExists => found.is_none(),
                    Test::IsNull => json(&Value::Null),
                    Test::IsTrue => json(&Value::Bool(true)),
                    Test::IsFalse => json(&Value::Bool(false)),
                    Test::Eq(lit) => found.as_ref().is_some_and(|v| lit.matches_found(v)),
                    Test::Ne(lit) => found.as_ref().is_some_and(|v| {
                        !matches!(v, Found::Json(j) if j.is_null()) && !lit.matches_found(v)
                    }),
                    Test::Num(op, n) => {
                        found
                            .as_ref()
                            .and_then(as_number)
                            .is_some_and(|x| match op {
                                NumOp::Lt => x < *n,
                                NumOp::Le => x <= *n,
                                NumOp::Gt => x > *n,
                                NumOp::Ge => x >= *n,
                            })
                    }
                }
            }
        }
    }

    fn required_values(&self, path: &[Step]) -> Option<Vec<String>> {
        match self {
            Expr::Cmp(p, Test::Eq(Literal::Exact { text, .. })) if p == path => {
                Some(vec![text.clone()])
            }
            Expr::Cmp(..) => None,
            // Any conjunct that pins the field pins the whole conjunction.
            Expr::And(xs) => xs.iter().find_map(|x| x.required_values(path)),
            // Every branch must pin it.
            Expr::Or(xs) => {
                let mut all = Vec::new();
                for x in xs {
                    all.extend(x.required_values(path)?);
                }
                Some(all)
            }
        }
    }
}

fn parse_selector_text(field: &str) -> Vec<Step> {
    let field = field.strip_prefix("$.").unwrap_or(field);
    let mut out = Vec::new();
    for part in field.split('.') {
        let (name, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            out.push(Step::Key(name.to_string()));
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                out.push(Step::Index(i));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------- JSON parser

/// A character cursor over the pattern, reporting 1-based columns offset by `base`.
pub(crate) struct Cursor<'a> {
    chars: Vec<char>,
    pos: usize,
    base: usize,
    _src: &'a str,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(src: &'a str, base: usize) -> Self {
        Cursor {
            chars: src.chars().collect(),
            pos: 0,
            base,
            _src: src,
        }
    }
    pub(crate) fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }
    pub(crate) fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }
    pub(crate) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }
    pub(crate) fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }
    pub(crate) fn eat(&mut self, s: &str) -> bool {
        let n = s.chars().count();
        if self.chars.len() >= self.pos + n
            && self.chars[self.pos..self.pos + n]
                .iter()
                .copied()
                .eq(s.chars())
        {
            self.pos += n;
            true
        } else {
            false
        }
    }
    /// Eats a keyword (case-insensitive) that is followed by a non-word character.
    pub(crate) fn eat_keyword(&mut self, kw: &str) -> bool {
        let n = kw.chars().count();
        if self.chars.len() < self.pos + n {
            return false;
        }
        let word: String = self.chars[self.pos..self.pos + n].iter().collect();
        let boundary = self
            .chars
            .get(self.pos + n)
            .is_none_or(|c| !(c.is_alphanumeric() || *c == '_'));
        if word.eq_ignore_ascii_case(kw) && boundary {
            self.pos += n;
            true
        } else {
            false
        }
    }
    /// Reads up to whitespace, a character `stop` accepts, or `&&` / `||`.
    pub(crate) fn read_word(&mut self, stop: impl Fn(char) -> bool) -> String {
        let mut s = String::new();
        while let Some(ch) = self.peek() {
            let op = (ch == '&' && self.peek_at(1) == Some('&'))
                || (ch == '|' && self.peek_at(1) == Some('|'));
            if ch.is_whitespace() || stop(ch) || op {
                break;
            }
            s.push(ch);
            self.bump();
        }
        s
    }

    /// Reads a `"…"` string (the cursor is on the opening quote); `\` escapes the next character.
    pub(crate) fn read_quoted(&mut self) -> Result<String, PatternError> {
        self.bump();
        let mut s = String::new();
        loop {
            match self.bump() {
                Some('\\') => match self.bump() {
                    Some(ch) => s.push(ch),
                    None => return Err(self.err("unterminated string: missing closing `\"`")),
                },
                Some('"') => return Ok(s),
                Some(ch) => s.push(ch),
                None => return Err(self.err("unterminated string: missing closing `\"`")),
            }
        }
    }

    /// Reads a `%…%` regular expression body (the cursor is on the opening `%`).
    pub(crate) fn read_regex_body(&mut self) -> Result<String, PatternError> {
        self.bump();
        let mut s = String::new();
        loop {
            match self.bump() {
                Some('%') => return Ok(s),
                Some(ch) => s.push(ch),
                None => {
                    return Err(self.err("unterminated regular expression: missing closing `%`"));
                }
            }
        }
    }

    pub(crate) fn err(&self, message: impl Into<String>) -> PatternError {
        PatternError {
            column: self.base + self.pos + 1,
            message: message.into(),
        }
    }
    pub(crate) fn found(&self) -> String {
        match self.peek() {
            Some(c) => format!("found `{c}`"),
            None => "found the end of the pattern".to_string(),
        }
    }
}

fn parse_json_pattern(src: &str, base: usize) -> Result<Expr, PatternError> {
    let mut c = Cursor::new(src, base);
    if !c.eat("{") {
        return Err(c.err("expected `{` to open a JSON pattern"));
    }
    let e = parse_or(&mut c, 0)?;
    c.skip_ws();
    if !c.eat("}") {
        return Err(c.err(format!(
            "expected `&&`, `||` or `}}` to close the JSON pattern, {}",
            c.found()
        )));
    }
    c.skip_ws();
    if !c.at_end() {
        return Err(c.err(format!(
            "unexpected text after the closing `}}`: {}",
            c.found()
        )));
    }
    Ok(e)
}

/// Nesting depth is bounded so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 64;

fn parse_or(c: &mut Cursor, depth: usize) -> Result<Expr, PatternError> {
    let mut xs = vec![parse_and(c, depth)?];
    loop {
        c.skip_ws();
        if c.eat("||") {
            xs.push(parse_and(c, depth)?);
        } else {
            break;
        }
    }
    Ok(if xs.len() == 1 {
        xs.pop().unwrap_or(Expr::Or(Vec::new()))
    } else {
        Expr::Or(xs)
    })
}

fn parse_and(c: &mut Cursor, depth: usize) -> Result<Expr, PatternError> {
    let mut xs = vec![parse_unary(c, depth)?];
    loop {
        c.skip_ws();
        if c.eat("&&") {
            xs.push(parse_unary(c, depth)?);
        } else {
            break;
        }
    }
    Ok(if xs.len() == 1 {
        xs.pop().unwrap_or(Expr::And(Vec::new()))
    } else {
        Expr::And(xs)
    })
}

fn parse_unary(c: &mut Cursor, depth: usize) -> Result<Expr, PatternError> {
    c.skip_ws();
    if depth > MAX_DEPTH {
        return Err(c.err("parentheses nested too deeply"));
    }
    if c.eat("(") {
        let e = parse_or(c, depth + 1)?;
        c.skip_ws();
        if !c.eat(")") {
            return Err(c.err(format!("expected `)` to close the group, {}", c.found())));
        }
        return Ok(e);
    }
    parse_comparison(c)
}

fn parse_selector(c: &mut Cursor) -> Result<Vec<Step>, PatternError> {
    if !c.eat("$") {
        return Err(c.err(format!(
            "expected a selector such as `$.eventName` or a `(`, {}",
            c.found()
        )));
    }
    let mut steps = Vec::new();
    loop {
        match c.peek() {
            Some('.') => {
                c.bump();
                let mut name = String::new();
                while let Some(ch) = c.peek() {
                    if ch.is_alphanumeric() || matches!(ch, '_' | '-' | '@' | ':' | '$') {
                        name.push(ch);
                        c.bump();
                    } else {
                        break;
                    }
                }
                if name.is_empty() {
                    return Err(c.err(format!("expected a field name after `.`, {}", c.found())));
                }
                steps.push(Step::Key(name));
            }
            Some('[') => {
                c.bump();
                let mut digits = String::new();
                while let Some(ch) = c.peek().filter(char::is_ascii_digit) {
                    digits.push(ch);
                    c.bump();
                }
                let idx = digits.parse::<usize>().map_err(|_| {
                    c.err(format!(
                        "expected an array index such as `[0]`, {}",
                        c.found()
                    ))
                })?;
                if !c.eat("]") {
                    return Err(c.err(format!("expected `]` after the array index, {}", c.found())));
                }
                steps.push(Step::Index(idx));
            }
            _ => break,
        }
    }
    if steps.is_empty() {
        return Err(c.err("expected `.field` or `[index]` after `$`"));
    }
    Ok(steps)
}

fn parse_comparison(c: &mut Cursor) -> Result<Expr, PatternError> {
    let path = parse_selector(c)?;
    c.skip_ws();
    let test = if c.eat_keyword("IS") {
        c.skip_ws();
        if c.eat_keyword("NULL") {
            Test::IsNull
        } else if c.eat_keyword("TRUE") {
            Test::IsTrue
        } else if c.eat_keyword("FALSE") {
            Test::IsFalse
        } else {
            return Err(c.err(format!(
                "expected NULL, TRUE or FALSE after IS, {}",
                c.found()
            )));
        }
    } else if c.eat_keyword("NOT") {
        c.skip_ws();
        if !c.eat_keyword("EXISTS") {
            return Err(c.err(format!("expected EXISTS after NOT, {}", c.found())));
        }
        Test::NotExists
    } else if c.eat_keyword("EXISTS") {
        Test::Exists
    } else if c.eat("!=") {
        Test::Ne(parse_literal(c)?)
    } else if c.eat("<=") {
        Test::Num(NumOp::Le, parse_number(c)?)
    } else if c.eat(">=") {
        Test::Num(NumOp::Ge, parse_number(c)?)
    } else if c.eat("<") {
        Test::Num(NumOp::Lt, parse_number(c)?)
    } else if c.eat(">") {
        Test::Num(NumOp::Gt, parse_number(c)?)
    } else if c.eat("=") {
        Test::Eq(parse_literal(c)?)
    } else {
        return Err(c.err(format!(
            "expected an operator (=, !=, <, <=, >, >=, IS, NOT EXISTS, EXISTS) after the selector, {}",
            c.found()
        )));
    };
    Ok(Expr::Cmp(path, test))
}

fn parse_number(c: &mut Cursor) -> Result<f64, PatternError> {
    c.skip_ws();
    let start = c.pos;
    let raw = read_bare(c);
    raw.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .ok_or(PatternError {
            column: c.base + start + 1,
            message: format!("expected a number after a numeric comparison, found `{raw}`"),
        })
}

/// Reads an unquoted value: up to whitespace, `)`, `}`, `&&` or `||`.
fn read_bare(c: &mut Cursor) -> String {
    c.read_word(|ch| ch == ')' || ch == '}')
}

fn parse_literal(c: &mut Cursor) -> Result<Literal, PatternError> {
    c.skip_ws();
    let start = c.pos;
    let text = match c.peek() {
        Some('"') => c.read_quoted()?,
        Some('%') => {
            let s = c.read_regex_body()?;
            return Ok(Literal::Regex(compile_regex(&s, c.base + start + 1)?));
        }
        _ => {
            let s = read_bare(c);
            if s.is_empty() {
                return Err(c.err(format!(
                    "expected a value after the operator, {}",
                    c.found()
                )));
            }
            s
        }
    };
    if text.contains('*') {
        Ok(Literal::Glob(text.split('*').map(str::to_string).collect()))
    } else {
        let number = text.parse::<f64>().ok().filter(|f| f.is_finite());
        Ok(Literal::Exact { text, number })
    }
}

/// Compiles a `%…%` regular expression, rejecting what CloudWatch Logs rejects (parentheses).
pub(crate) fn compile_regex(src: &str, column: usize) -> Result<Regex, PatternError> {
    if let Some(i) = src.find(['(', ')']) {
        return Err(PatternError {
            column: column + src[..i].chars().count(),
            message: "CloudWatch Logs regular expressions cannot contain `(` or `)`".into(),
        });
    }
    if src.is_empty() {
        return Err(PatternError {
            column,
            message: "empty regular expression between `%` and `%`".into(),
        });
    }
    regex::RegexBuilder::new(src)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| PatternError {
            column,
            message: format!(
                "invalid regular expression: {}",
                e.to_string().lines().last().unwrap_or("")
            ),
        })
}

#[cfg(test)]
mod tests;
