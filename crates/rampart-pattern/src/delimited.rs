//! Space-delimited patterns: `[ip, user, ..., status = 4*, bytes > 1000]`.
//!
//! The line is split into fields on whitespace; a `"quoted"` or `[bracketed]` run counts as one
//! field. Each pattern field names a position and may constrain it; `...` skips any number of
//! fields. Without `...` the line must have exactly as many fields as the pattern.

use crate::{Cursor, PatternError, compile_regex, glob_match};
use regex::Regex;

#[derive(Debug, Clone)]
pub struct DelimitedPattern {
    fields: Vec<Field>,
}

#[derive(Debug, Clone)]
enum Field {
    Ellipsis,
    /// A named position, with an optional condition (a disjunction of conjunctions).
    Named(Vec<Vec<Cond>>),
}

#[derive(Debug, Clone)]
enum Cond {
    Eq(Value),
    Ne(Value),
    Lt(f64),
    Le(f64),
    Gt(f64),
    Ge(f64),
}

#[derive(Debug, Clone)]
enum Value {
    Text(String),
    Glob(Vec<String>),
    Regex(Regex),
}

impl Value {
    fn matches(&self, s: &str) -> bool {
        match self {
            Value::Text(t) => {
                t == s || matches!((t.parse::<f64>(), s.parse::<f64>()), (Ok(a), Ok(b)) if a == b)
            }
            Value::Glob(parts) => glob_match(parts, s),
            Value::Regex(r) => r.is_match(s),
        }
    }
}

impl Cond {
    fn holds(&self, s: &str) -> bool {
        let num = || s.parse::<f64>().ok();
        match self {
            Cond::Eq(v) => v.matches(s),
            Cond::Ne(v) => !v.matches(s),
            Cond::Lt(n) => num().is_some_and(|x| x < *n),
            Cond::Le(n) => num().is_some_and(|x| x <= *n),
            Cond::Gt(n) => num().is_some_and(|x| x > *n),
            Cond::Ge(n) => num().is_some_and(|x| x >= *n),
        }
    }
}

impl DelimitedPattern {
    pub(crate) fn parse(src: &str, base: usize) -> Result<DelimitedPattern, PatternError> {
        let mut c = Cursor::new(src, base);
        if !c.eat("[") {
            return Err(c.err("expected `[` to open a space-delimited pattern"));
        }
        let mut fields = Vec::new();
        loop {
            c.skip_ws();
            if c.eat("]") {
                break;
            }
            if !fields.is_empty() {
                if !c.eat(",") {
                    return Err(c.err(format!("expected `,` or `]` between fields, {}", c.found())));
                }
                c.skip_ws();
            }
            if c.eat("...") {
                fields.push(Field::Ellipsis);
                continue;
            }
            fields.push(parse_field(&mut c)?);
            if fields.len() > 256 {
                return Err(c.err("too many fields in a space-delimited pattern"));
            }
        }
        c.skip_ws();
        if !c.at_end() {
            return Err(c.err(format!("unexpected text after `]`: {}", c.found())));
        }
        Ok(DelimitedPattern { fields })
    }

    pub fn matches(&self, line: &str) -> bool {
        let tokens = tokenize(line);
        match_from(&self.fields, &tokens)
    }
}

fn match_from(fields: &[Field], tokens: &[&str]) -> bool {
    match fields.split_first() {
        None => tokens.is_empty(),
        Some((Field::Ellipsis, rest)) => {
            (0..=tokens.len()).any(|skip| match_from(rest, &tokens[skip..]))
        }
        Some((Field::Named(alts), rest)) => match tokens.split_first() {
            None => false,
            Some((tok, more)) => {
                (alts.is_empty() || alts.iter().any(|all| all.iter().all(|c| c.holds(tok))))
                    && match_from(rest, more)
            }
        },
    }
}

fn parse_name(c: &mut Cursor) -> Result<String, PatternError> {
    let mut name = String::new();
    while let Some(ch) = c
        .peek()
        .filter(|ch| ch.is_alphanumeric() || *ch == '_' || *ch == '-' || *ch == '.')
    {
        name.push(ch);
        c.bump();
    }
    if name.is_empty() {
        return Err(c.err(format!("expected a field name, {}", c.found())));
    }
    Ok(name)
}

fn parse_field(c: &mut Cursor) -> Result<Field, PatternError> {
    let name = parse_name(c)?;
    let mut alts: Vec<Vec<Cond>> = Vec::new();
    let mut current: Vec<Cond> = Vec::new();
    let mut expect_name = false;
    loop {
        c.skip_ws();
        if expect_name {
            let again = parse_name(c)?;
            if again != name {
                return Err(c.err(format!(
                    "a field's conditions must all be on `{name}`, found `{again}`"
                )));
            }
            c.skip_ws();
        }
        let cond = if c.eat("!=") {
            Cond::Ne(parse_value(c)?)
        } else if c.eat("<=") {
            Cond::Le(parse_num(c)?)
        } else if c.eat(">=") {
            Cond::Ge(parse_num(c)?)
        } else if c.eat("<") {
            Cond::Lt(parse_num(c)?)
        } else if c.eat(">") {
            Cond::Gt(parse_num(c)?)
        } else if c.eat("=") {
            Cond::Eq(parse_value(c)?)
        } else if expect_name {
            return Err(c.err(format!(
                "expected a comparison after `{name}`, {}",
                c.found()
            )));
        } else {
            break;
        };
        current.push(cond);
        c.skip_ws();
        if c.eat("&&") {
            expect_name = true;
        } else if c.eat("||") {
            alts.push(std::mem::take(&mut current));
            expect_name = true;
        } else {
            break;
        }
    }
    if !current.is_empty() {
        alts.push(current);
    }
    Ok(Field::Named(alts))
}

fn parse_num(c: &mut Cursor) -> Result<f64, PatternError> {
    c.skip_ws();
    let raw = read_token(c);
    raw.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .ok_or_else(|| c.err(format!("expected a number, found `{raw}`")))
}

fn read_token(c: &mut Cursor) -> String {
    c.read_word(|ch| ch == ',' || ch == ']')
}

fn parse_value(c: &mut Cursor) -> Result<Value, PatternError> {
    c.skip_ws();
    let start_col = c.base + c.pos + 1;
    let text = match c.peek() {
        Some('"') => c.read_quoted()?,
        Some('%') => {
            let s = c.read_regex_body()?;
            return Ok(Value::Regex(compile_regex(&s, start_col + 1)?));
        }
        _ => read_token(c),
    };
    if text.is_empty() {
        return Err(c.err(format!("expected a value, {}", c.found())));
    }
    Ok(if text.contains('*') {
        Value::Glob(text.split('*').map(str::to_string).collect())
    } else {
        Value::Text(text)
    })
}

/// Splits a log line into fields: whitespace separates, `"…"` and `[…]` group.
fn tokenize(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let (start, end, next) = match bytes[i] {
            b'"' => match line[i + 1..].find('"') {
                Some(j) => (i + 1, i + 1 + j, i + 2 + j),
                None => (i, line.len(), line.len()),
            },
            b'[' => match line[i + 1..].find(']') {
                Some(j) => (i + 1, i + 1 + j, i + 2 + j),
                None => (i, line.len(), line.len()),
            },
            _ => {
                let mut j = i;
                while j < bytes.len() && !bytes[j].is_ascii_whitespace() {
                    j += 1;
                }
                (i, j, j)
            }
        };
        out.push(&line[start..end]);
        i = next;
    }
    out
}
