//! Wildcard patterns (`*` = any run of characters, `?` = exactly one) and policy-variable
//! templates (`${aws:username}`, `${key, 'default'}`, `${*}`, `${?}`, `${$}`).

/// One piece of a wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Lit(String),
    Star,
    One,
}

/// A compiled wildcard pattern with fast paths for the common shapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Glob {
    Any,
    Exact(String),
    Prefix(String),
    Toks(Vec<Tok>),
}

impl Glob {
    /// Compiles `pattern`, treating `*` and `?` as wildcards.
    pub fn new(pattern: &str) -> Glob {
        let mut toks = Vec::new();
        let mut lit = String::new();
        for c in pattern.chars() {
            match c {
                '*' | '?' => {
                    if !lit.is_empty() {
                        toks.push(Tok::Lit(std::mem::take(&mut lit)));
                    }
                    toks.push(if c == '*' { Tok::Star } else { Tok::One });
                }
                _ => lit.push(c),
            }
        }
        if !lit.is_empty() {
            toks.push(Tok::Lit(lit));
        }
        Glob::from_toks(toks)
    }

    /// Builds a glob from tokens, merging adjacent literals and repeated stars.
    pub fn from_toks(toks: Vec<Tok>) -> Glob {
        let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
        for t in toks {
            match (out.last_mut(), t) {
                (Some(Tok::Star), Tok::Star) => {}
                (Some(Tok::Lit(a)), Tok::Lit(b)) => a.push_str(&b),
                (_, Tok::Lit(b)) if b.is_empty() => {}
                (_, t) => out.push(t),
            }
        }
        match out.as_slice() {
            [] => Glob::Exact(String::new()),
            [Tok::Star] => Glob::Any,
            [Tok::Lit(l)] => Glob::Exact(l.clone()),
            [Tok::Lit(l), Tok::Star] => Glob::Prefix(l.clone()),
            _ => Glob::Toks(out),
        }
    }

    pub fn is_match(&self, s: &str) -> bool {
        match self {
            Glob::Any => true,
            Glob::Exact(l) => s == l,
            Glob::Prefix(p) => s.starts_with(p.as_str()),
            Glob::Toks(t) => match_toks(t, s),
        }
    }
}

fn match_toks(toks: &[Tok], s: &str) -> bool {
    let (mut ti, mut si) = (0usize, 0usize);
    // Where to resume after the most recent star: (token after it, text position).
    let mut star: Option<(usize, usize)> = None;
    loop {
        if let Some(t) = toks.get(ti) {
            match t {
                Tok::Star => {
                    star = Some((ti + 1, si));
                    ti += 1;
                    continue;
                }
                Tok::Lit(l) => {
                    if s[si..].starts_with(l.as_str()) {
                        si += l.len();
                        ti += 1;
                        continue;
                    }
                }
                Tok::One => {
                    if let Some(c) = s[si..].chars().next() {
                        si += c.len_utf8();
                        ti += 1;
                        continue;
                    }
                }
            }
        } else if si == s.len() {
            return true;
        }
        // Mismatch: let the last star swallow one more character.
        match star {
            Some((sti, ssi)) => match s[ssi..].chars().next() {
                Some(c) => {
                    let nsi = ssi + c.len_utf8();
                    star = Some((sti, nsi));
                    ti = sti;
                    si = nsi;
                }
                None => return false,
            },
            None => return false,
        }
    }
}

/// A piece of a string that may contain policy variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// Literal text; `*` and `?` inside are wildcards where the context allows them.
    Text(String),
    /// A character produced by `${*}`, `${?}` or `${$}`: always literal.
    Char(char),
    /// `${key}` or `${key, 'default'}`; `key` is lower-cased (keys are case-insensitive).
    Var {
        key: String,
        default: Option<String>,
    },
}

/// Splits `s` into parts. Returns `None` when there is no `${…}` to substitute.
pub(crate) fn template(s: &str) -> Option<Vec<Part>> {
    if !s.contains("${") {
        return None;
    }
    let mut parts = Vec::new();
    let mut rest = s;
    let mut text = String::new();
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start + 2..].find('}') else {
            break;
        };
        let inner = &rest[start + 2..start + 2 + len];
        text.push_str(&rest[..start]);
        let part = match inner {
            "*" => Part::Char('*'),
            "?" => Part::Char('?'),
            "$" => Part::Char('$'),
            _ => {
                let (key, default) = match inner.split_once(',') {
                    Some((k, d)) => {
                        let d = d.trim();
                        let d = d
                            .strip_prefix('\'')
                            .and_then(|d| d.strip_suffix('\''))
                            .unwrap_or(d);
                        (k.trim(), Some(d.to_string()))
                    }
                    None => (inner.trim(), None),
                };
                Part::Var {
                    key: key.to_ascii_lowercase(),
                    default,
                }
            }
        };
        if !text.is_empty() {
            parts.push(Part::Text(std::mem::take(&mut text)));
        }
        parts.push(part);
        rest = &rest[start + 2 + len + 1..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    Some(parts)
}

/// Resolves a template to a glob. `lookup` returns the single value of a key; an unresolved
/// variable without a default yields `None` (AWS: the element then matches nothing).
pub(crate) fn render_glob(
    parts: &[Part],
    wild: bool,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Option<Glob> {
    let mut toks = Vec::new();
    for p in parts {
        match p {
            Part::Text(t) => {
                if wild {
                    toks.extend(glob_toks(Glob::new(t)));
                } else {
                    toks.push(Tok::Lit(t.clone()));
                }
            }
            Part::Char(c) => toks.push(Tok::Lit(c.to_string())),
            Part::Var { key, default } => {
                let v = lookup(key).or_else(|| default.clone())?;
                toks.push(Tok::Lit(v));
            }
        }
    }
    Some(Glob::from_toks(toks))
}

fn glob_toks(g: Glob) -> Vec<Tok> {
    match g {
        Glob::Any => vec![Tok::Star],
        Glob::Exact(l) => vec![Tok::Lit(l)],
        Glob::Prefix(p) => vec![Tok::Lit(p), Tok::Star],
        Glob::Toks(t) => t,
    }
}

/// The tokens of a glob (used to split ARN patterns into segments).
pub(crate) fn toks_of(g: &Glob) -> Vec<Tok> {
    glob_toks(g.clone())
}

/// Splits glob tokens at the first `n - 1` colons found in literal text, giving at most `n`
/// segment patterns (ARN segment matching for `ArnLike`).
pub(crate) fn split_colons(toks: Vec<Tok>, n: usize) -> Vec<Glob> {
    let mut segs: Vec<Vec<Tok>> = vec![Vec::new()];
    for t in toks {
        match t {
            Tok::Lit(l) => {
                let mut rest = l.as_str();
                while segs.len() < n {
                    match rest.find(':') {
                        Some(i) => {
                            if i > 0
                                && let Some(s) = segs.last_mut()
                            {
                                s.push(Tok::Lit(rest[..i].to_string()));
                            }
                            segs.push(Vec::new());
                            rest = &rest[i + 1..];
                        }
                        None => break,
                    }
                }
                if !rest.is_empty()
                    && let Some(s) = segs.last_mut()
                {
                    s.push(Tok::Lit(rest.to_string()));
                }
            }
            t => {
                if let Some(s) = segs.last_mut() {
                    s.push(t);
                }
            }
        }
    }
    segs.into_iter().map(Glob::from_toks).collect()
}

/// One position of a wildcard pattern, a character at a time, for comparing two patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ch {
    C(char),
    /// `?`: exactly one character.
    One,
    /// `*`: any run of characters.
    Star,
}

/// The positions of a compiled glob.
pub(crate) fn chars_of(g: &Glob) -> Vec<Ch> {
    let mut out = Vec::new();
    for t in toks_of(g) {
        match t {
            Tok::Lit(l) => out.extend(l.chars().map(Ch::C)),
            Tok::One => out.push(Ch::One),
            Tok::Star => out.push(Ch::Star),
        }
    }
    out
}

/// A bottom-up table over (position in `p`, position in `r`); `cell(i, j, table)` may read the
/// cells (i + 1, j), (i, j + 1) and (i + 1, j + 1), which are filled first.
fn table(
    p: &[Ch],
    r: &[Ch],
    cell: impl Fn(usize, usize, &dyn Fn(usize, usize) -> bool) -> bool,
) -> bool {
    let (m, n) = (p.len(), r.len());
    let w = n + 1;
    let mut t = vec![false; (m + 1) * w];
    for i in (0..=m).rev() {
        for j in (0..=n).rev() {
            let v = {
                let get = |a: usize, b: usize| t[a * w + b];
                cell(i, j, &get)
            };
            t[i * w + j] = v;
        }
    }
    t[0]
}

/// True when every string `r` can stand for is matched by `p` (`p` covers `r`). Sound, not
/// complete: a `*` of `r` must be absorbed by a `*` of `p`, so a "yes" is always right and a
/// "no" may be conservative (e.g. `a*` ∪ `b*` covering `[ab]*` is not seen).
pub(crate) fn covers(p: &[Ch], r: &[Ch]) -> bool {
    let (m, n) = (p.len(), r.len());
    table(p, r, |i, j, get| {
        if i == m {
            return j == n;
        }
        match p[i] {
            Ch::Star => get(i + 1, j) || (j < n && get(i, j + 1)),
            Ch::One => j < n && r[j] != Ch::Star && get(i + 1, j + 1),
            Ch::C(c) => j < n && r[j] == Ch::C(c) && get(i + 1, j + 1),
        }
    })
}

/// True when some string is matched by both patterns (exact).
pub(crate) fn intersects(p: &[Ch], r: &[Ch]) -> bool {
    let (m, n) = (p.len(), r.len());
    table(p, r, |i, j, get| {
        if i == m && j == n {
            return true;
        }
        let ps = i < m && p[i] == Ch::Star;
        let rs = j < n && r[j] == Ch::Star;
        // A star that produces nothing, or one character of the other side.
        if ps && (get(i + 1, j) || (j < n && !rs && get(i, j + 1))) {
            return true;
        }
        if rs && (get(i, j + 1) || (i < m && !ps && get(i + 1, j))) {
            return true;
        }
        i < m
            && j < n
            && !ps
            && !rs
            && match (p[i], r[j]) {
                (Ch::C(a), Ch::C(b)) => a == b && get(i + 1, j + 1),
                _ => get(i + 1, j + 1),
            }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        for (p, s, want) in [
            ("*", "", true),
            ("a*", "abc", true),
            ("a*c", "abbbc", true),
            ("a*c", "abbb", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*b*", "xxbxx", true),
            ("s3:get*", "s3:getobject", true),
            ("é?", "éü", true),
            ("a*b*c", "aXbYbZc", true),
            ("", "", true),
            ("", "x", false),
        ] {
            assert_eq!(Glob::new(p).is_match(s), want, "{p} vs {s}");
        }
    }

    #[test]
    fn templates() {
        let t = template("home/${aws:username}/${*}x${missing, 'dflt'}").unwrap();
        let look = |k: &str| (k == "aws:username").then(|| "bob".to_string());
        let g = render_glob(&t, true, &look).unwrap();
        assert!(g.is_match("home/bob/*xdflt"));
        assert!(!g.is_match("home/bob/yxdflt"));
        assert!(template("plain").is_none());
        let t = template("${nokey}").unwrap();
        assert!(render_glob(&t, true, &look).is_none());
    }

    #[test]
    fn arn_split() {
        let segs = split_colons(toks_of(&Glob::new("arn:aws:s3:::b/*:x")), 6);
        assert_eq!(segs.len(), 6);
        assert!(segs[5].is_match("b/k:x"));
    }

    #[test]
    fn pattern_relations() {
        let c = |s: &str| chars_of(&Glob::new(s));
        // (policy pattern, request pattern, covers, intersects)
        for (p, r, cov, meet) in [
            ("arn:aws:s3:::b/*", "arn:aws:s3:::b/*", true, true),
            ("arn:aws:s3:::b/*", "arn:aws:s3:::b/x/*", true, true),
            ("arn:aws:s3:::b/x/*", "arn:aws:s3:::b/*", false, true),
            ("arn:aws:s3:::b/?", "arn:aws:s3:::b/?", true, true),
            ("arn:aws:s3:::b/?", "arn:aws:s3:::b/*", false, true),
            ("arn:aws:s3:::c/*", "arn:aws:s3:::b/*", false, false),
            ("*", "arn:aws:sqs:*", true, true),
            ("arn:aws:sqs:*:1:q", "arn:aws:sqs:*", false, true),
            ("*a", "*b", false, false),
            ("*ab", "*b", false, true),
            ("a*b*c", "a*c", false, true),
            ("a*", "ab?d", true, true),
            ("a?", "a*", false, true),
            ("", "*", false, true),
            ("x", "", false, false),
        ] {
            assert_eq!(covers(&c(p), &c(r)), cov, "{p} covers {r}");
            assert_eq!(intersects(&c(p), &c(r)), meet, "{p} meets {r}");
            assert_eq!(
                intersects(&c(r), &c(p)),
                meet,
                "meets is symmetric: {r} {p}"
            );
        }
    }
}
