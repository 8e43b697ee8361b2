//! A small JSON reader that remembers where every value starts, so policy errors can name the
//! line and column. It is strict (RFC 8259) and bounded in depth, so no input can make it panic
//! or overflow the stack.

use std::borrow::Cow;

/// Nesting deeper than this is rejected: real policies nest four or five levels.
const MAX_DEPTH: usize = 64;

/// A JSON value with the byte offsets where it starts and ends (`text[pos..end]` is its source:
/// `simulate` keys its policy cache on it).
#[derive(Debug, Clone)]
pub(crate) struct Node<'a> {
    pub pos: usize,
    pub end: usize,
    pub val: Val<'a>,
}

#[derive(Debug, Clone)]
pub(crate) enum Val<'a> {
    Null,
    Bool(bool),
    Num(&'a str),
    Str(Cow<'a, str>),
    Arr(Vec<Node<'a>>),
    /// Members in document order, each key with its own position.
    Obj(Vec<(Key<'a>, Node<'a>)>),
}

#[derive(Debug, Clone)]
pub(crate) struct Key<'a> {
    pub pos: usize,
    pub name: Cow<'a, str>,
}

impl Val<'_> {
    pub fn kind(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Bool(_) => "a boolean",
            Val::Num(_) => "a number",
            Val::Str(_) => "a string",
            Val::Arr(_) => "an array",
            Val::Obj(_) => "an object",
        }
    }
}

/// A syntax error at a byte offset.
#[derive(Debug, Clone)]
pub(crate) struct SyntaxError {
    pub pos: usize,
    pub msg: String,
}

pub(crate) fn parse(text: &str) -> Result<Node<'_>, SyntaxError> {
    let mut p = Parser::new(text);
    let v = p.value(0)?;
    p.ws();
    if p.i < p.s.len() {
        return Err(p.err("unexpected text after the end of the JSON document"));
    }
    Ok(v)
}

/// Parses a document that is usually a large array, handing each top-level item over as soon
/// as it is read, so only one item's tree is alive at a time (a `simulate` file of 100,000
/// requests never exists as one tree). A document that is not an array is handed over whole;
/// the result says which it was. Errors from `item` stop the scan and are returned as they are.
pub(crate) fn for_each_item<'a, E>(
    text: &'a str,
    mut item: impl FnMut(Node<'a>) -> Result<(), E>,
    syntax: impl Fn(SyntaxError) -> E,
) -> Result<bool, E> {
    let mut p = Parser::new(text);
    if p.s.get(p.i) != Some(&b'[') {
        item(parse(text).map_err(&syntax)?)?;
        return Ok(false);
    }
    p.i += 1;
    p.ws();
    if p.s.get(p.i) == Some(&b']') {
        p.i += 1;
    } else {
        loop {
            p.ws();
            item(p.value(1).map_err(&syntax)?)?;
            p.ws();
            match p.s.get(p.i) {
                Some(b',') => p.i += 1,
                Some(b']') => {
                    p.i += 1;
                    break;
                }
                _ => return Err(syntax(p.err("expected `,` or `]` in array"))),
            }
        }
    }
    p.ws();
    if p.i < p.s.len() {
        return Err(syntax(
            p.err("unexpected text after the end of the JSON document"),
        ));
    }
    Ok(true)
}

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    i: usize,
}

impl<'a> Parser<'a> {
    /// A parser at the first value of `text`: a UTF-8 byte-order mark is tolerated, as the IAM
    /// console does, and leading whitespace skipped.
    fn new(text: &'a str) -> Parser<'a> {
        let mut p = Parser {
            s: text.as_bytes(),
            src: text,
            i: 0,
        };
        if p.s.starts_with(&[0xEF, 0xBB, 0xBF]) {
            p.i = 3;
        }
        p.ws();
        p
    }

    fn err(&self, msg: impl Into<String>) -> SyntaxError {
        SyntaxError {
            pos: self.i,
            msg: msg.into(),
        }
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(&c) = self.s.get(self.i) {
            if c == b' ' || c == b'\n' || c == b'\r' || c == b'\t' {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node<'a>, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(self.err(format!("JSON nested deeper than {MAX_DEPTH} levels")));
        }
        let pos = self.i;
        let val = match self.s.get(self.i) {
            None => return Err(self.err("unexpected end of input: expected a JSON value")),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Val::Str(self.string()?),
            Some(b't') => self.literal("true", Val::Bool(true))?,
            Some(b'f') => self.literal("false", Val::Bool(false))?,
            Some(b'n') => self.literal("null", Val::Null)?,
            Some(c) if *c == b'-' || c.is_ascii_digit() => Val::Num(self.number()?),
            Some(_) => {
                return Err(self.err(
                    "expected a JSON value (an object, array, string, number, true, false or null)",
                ));
            }
        };
        Ok(Node {
            pos,
            end: self.i,
            val,
        })
    }

    fn literal(&mut self, word: &str, v: Val<'a>) -> Result<Val<'a>, SyntaxError> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.err(format!("invalid literal: expected `{word}`")))
        }
    }

    fn number(&mut self) -> Result<&'a str, SyntaxError> {
        let start = self.i;
        if self.s.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        match self.s.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(c) if c.is_ascii_digit() => {
                while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                    self.i += 1;
                }
            }
            _ => return Err(self.err("invalid number: expected a digit")),
        }
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            if !self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                return Err(self.err("invalid number: expected a digit after `.`"));
            }
            while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                self.i += 1;
            }
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                return Err(self.err("invalid number: expected a digit in the exponent"));
            }
            while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                self.i += 1;
            }
        }
        Ok(&self.src[start..self.i])
    }

    fn string(&mut self) -> Result<Cow<'a, str>, SyntaxError> {
        self.i += 1; // opening quote
        let start = self.i;
        // Fast path: no escapes.
        loop {
            match self.s.get(self.i) {
                None => return Err(self.err("unterminated string: expected a closing `\"`")),
                Some(b'"') => {
                    let out = &self.src[start..self.i];
                    self.i += 1;
                    return Ok(Cow::Borrowed(out));
                }
                Some(b'\\') => break,
                Some(c) if *c < 0x20 => {
                    return Err(self.err("control character in string: escape it (e.g. \\n)"));
                }
                Some(_) => self.i += 1,
            }
        }
        let mut out = String::from(&self.src[start..self.i]);
        loop {
            match self.s.get(self.i) {
                None => return Err(self.err("unterminated string: expected a closing `\"`")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = match self.s.get(self.i) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.i += 1;
                            let hi = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                if self.s.get(self.i) != Some(&b'\\')
                                    || self.s.get(self.i + 1) != Some(&b'u')
                                {
                                    return Err(self.err("unpaired UTF-16 surrogate in \\u escape"));
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("invalid low surrogate in \\u escape"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            match char::from_u32(cp) {
                                Some(ch) => {
                                    out.push(ch);
                                    continue;
                                }
                                None => return Err(self.err("invalid \\u escape")),
                            }
                        }
                        _ => return Err(self.err("invalid escape: expected one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX")),
                    };
                    out.push(c);
                    self.i += 1;
                }
                Some(c) if *c < 0x20 => {
                    return Err(self.err("control character in string: escape it (e.g. \\n)"));
                }
                Some(_) => {
                    let run = self.i;
                    while let Some(&c) = self.s.get(self.i) {
                        if c == b'"' || c == b'\\' || c < 0x20 {
                            break;
                        }
                        self.i += 1;
                    }
                    out.push_str(&self.src[run..self.i]);
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.s.get(self.i) {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.err("invalid \\u escape: expected four hex digits")),
            };
            v = v * 16 + u32::from(d);
            self.i += 1;
        }
        Ok(v)
    }

    fn array(&mut self, depth: usize) -> Result<Val<'a>, SyntaxError> {
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b']') {
            self.i += 1;
            return Ok(Val::Arr(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth + 1)?);
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Val::Arr(items));
                }
                _ => return Err(self.err("expected `,` or `]` in array")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Val<'a>, SyntaxError> {
        self.i += 1;
        let mut members: Vec<(Key<'a>, Node<'a>)> = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(Val::Obj(members));
        }
        loop {
            self.ws();
            if self.s.get(self.i) != Some(&b'"') {
                return Err(self.err("expected a quoted member name in object"));
            }
            let kpos = self.i;
            let name = self.string()?;
            self.ws();
            if self.s.get(self.i) != Some(&b':') {
                return Err(self.err("expected `:` after member name"));
            }
            self.i += 1;
            self.ws();
            let v = self.value(depth + 1)?;
            members.push((Key { pos: kpos, name }, v));
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Val::Obj(members));
                }
                _ => return Err(self.err("expected `,` or `}` in object")),
            }
        }
    }
}

/// Where each line starts, and how many UTF-8 continuation bytes come before each 64-byte
/// block, built in one pass over the text. Every position lookup is then a binary search plus a
/// scan of at most one block, so a file with many policies (a `simulate` input of 100,000
/// requests) costs the same per statement as a file with one.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex {
    len: usize,
    line_starts: Vec<usize>,
    /// `cont_before[k]`: continuation bytes in `text[..k * BLOCK]`.
    cont_before: Vec<usize>,
}

const BLOCK: usize = 64;

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        // Two passes the compiler and memchr vectorise (one byte loop doing both did not): the
        // newlines, then the continuation bytes per block.
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
        let mut cont_before = Vec::with_capacity(bytes.len() / BLOCK + 2);
        let mut cont = 0usize;
        for block in bytes.chunks(BLOCK) {
            cont_before.push(cont);
            cont += block.iter().filter(|&&b| b & 0xC0 == 0x80).count();
        }
        cont_before.push(cont);
        LineIndex {
            len: bytes.len(),
            line_starts,
            cont_before,
        }
    }

    /// Continuation bytes in `text[..pos]`.
    fn cont(&self, text: &[u8], pos: usize) -> usize {
        let k = pos / BLOCK;
        self.cont_before[k]
            + text[k * BLOCK..pos]
                .iter()
                .filter(|&&b| b & 0xC0 == 0x80)
                .count()
    }

    /// 1-based line and column (in characters) of a byte offset of `text`, the text this index
    /// was built from.
    pub fn line_col(&self, text: &str, pos: usize) -> (usize, usize) {
        debug_assert_eq!(text.len(), self.len);
        let pos = pos.min(self.len);
        let line = self.line_starts.partition_point(|&s| s <= pos);
        let start = self.line_starts[line - 1];
        let bytes = text.as_bytes();
        // Count characters, not bytes; `pos` may fall inside a multi-byte char on errors.
        let col = pos - start - (self.cont(bytes, pos) - self.cont(bytes, start)) + 1;
        (line, col)
    }

    /// The byte offset of a 1-based line and character column (the inverse of
    /// [`LineIndex::line_col`]); a column past the end of the line gives the line's end.
    pub fn offset(&self, text: &str, line: usize, column: usize) -> Option<usize> {
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let end = self.line_starts.get(line).map_or(self.len, |&n| n - 1);
        let bytes = text.as_bytes();
        let want = column.saturating_sub(1);
        let base = self.cont(bytes, start);
        let chars_before = |b: usize| b - start - (self.cont(bytes, b) - base);
        if chars_before(end) <= want {
            return Some(end);
        }
        // The smallest b with more than `want` characters starting before it is one past the
        // first byte of character number `want`: that byte is the answer.
        let (mut lo, mut hi) = (start, end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if chars_before(mid) > want {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Some(lo - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_and_escapes() {
        let n = parse(r#" {"a": [1, -2.5e3, true, null, "x\u00e9\"\ud83d\ude00"]} "#).unwrap();
        let Val::Obj(m) = n.val else { panic!() };
        assert_eq!(m[0].0.name, "a");
        let Val::Arr(items) = &m[0].1.val else {
            panic!()
        };
        assert_eq!(items.len(), 5);
        let Val::Str(s) = &items[4].val else { panic!() };
        assert_eq!(s, "x\u{e9}\"\u{1F600}");
    }

    #[test]
    fn rejects_bad_json_with_position() {
        for (t, pos) in [
            ("{\"a\" 1}", 5),
            ("[1,]", 3),
            ("01", 1),
            ("\"\\q\"", 2),
            ("{} x", 3),
        ] {
            let e = parse(t).unwrap_err();
            assert_eq!(e.pos, pos, "{t}: {}", e.msg);
        }
    }

    #[test]
    fn depth_is_bounded() {
        let deep = "[".repeat(10_000);
        assert!(parse(&deep).is_err());
    }

    /// The obvious O(n) definition, as the reference the index must agree with.
    fn line_col_scan(text: &str, pos: usize) -> (usize, usize) {
        let before = &text.as_bytes()[..pos.min(text.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let col = before[start..]
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count()
            + 1;
        (line, col)
    }

    #[test]
    fn line_col_counts_chars() {
        let t = "ab\ncé d";
        assert_eq!(LineIndex::new(t).line_col(t, 7), (2, 4));
        assert_eq!(LineIndex::new("x").line_col("x", 0), (1, 1));
    }

    #[test]
    fn index_agrees_with_a_scan_everywhere_and_inverts() {
        // Lines longer than a block, multi-byte characters straddling block edges.
        let mut t = String::new();
        for i in 0..40 {
            t.push_str(&"é€x😀".repeat(i % 7 * 9));
            t.push_str(&"a".repeat(i * 3));
            t.push('\n');
        }
        let ix = LineIndex::new(&t);
        for pos in 0..=t.len() + 2 {
            let lc = ix.line_col(&t, pos);
            assert_eq!(lc, line_col_scan(&t, pos), "at {pos}");
            if t.is_char_boundary(pos.min(t.len())) {
                assert_eq!(
                    ix.offset(&t, lc.0, lc.1),
                    Some(pos.min(t.len())),
                    "at {pos}"
                );
            }
        }
        assert_eq!(ix.offset(&t, 0, 1), None);
        assert_eq!(ix.offset(&t, 1000, 1), None);
    }
}
