//! JSON templates and Terraform plans into [`Node`]s, keeping the line and column of every key
//! and value (serde_json does not). Strict RFC 8259: what CloudFormation and Terraform accept.

use crate::node::{Key, Kind, MAX_DEPTH, Node, Pos, SyntaxError};
use std::collections::HashMap;

pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let mut p = Reader {
        src: text.as_bytes(),
        text,
        i: 0,
        line: 1,
        line_start: 0,
        col_cache: std::cell::Cell::new((0, 0)),
    };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.i < p.src.len() {
        return Err(p.err("unexpected text after the document"));
    }
    Ok(v)
}

struct Reader<'a> {
    src: &'a [u8],
    text: &'a str,
    i: usize,
    line: u32,
    line_start: usize,
    /// `(byte offset, characters from the line start)` of the last position asked for: a
    /// one-line plan file (as `terraform show -json` writes it) would otherwise make every
    /// position cost the length of the line.
    col_cache: std::cell::Cell<(usize, usize)>,
}

impl Reader<'_> {
    fn pos(&self) -> Pos {
        let (at, chars) = self.col_cache.get();
        let (from, base) = if at >= self.line_start && at <= self.i {
            (at, chars)
        } else {
            (self.line_start, 0)
        };
        let col = base
            + self
                .text
                .get(from..self.i)
                .map_or(self.i - from, |s| s.chars().count());
        self.col_cache.set((self.i, col));
        Pos {
            line: self.line,
            column: col as u32 + 1,
        }
    }

    fn err(&self, msg: impl Into<String>) -> SyntaxError {
        SyntaxError {
            pos: self.pos(),
            message: msg.into(),
        }
    }

    fn ws(&mut self) {
        while let Some(&b) = self.src.get(self.i) {
            match b {
                b' ' | b'\t' | b'\r' => self.i += 1,
                b'\n' => {
                    self.i += 1;
                    self.line += 1;
                    self.line_start = self.i;
                }
                _ => break,
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        if depth >= MAX_DEPTH {
            return Err(self.err(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        let at = self.pos();
        let kind = match self.src.get(self.i) {
            None => return Err(self.err("unexpected end of the document: a value was expected")),
            Some(b'{') => {
                self.i += 1;
                self.object(depth)?
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.src.get(self.i) == Some(&b']') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        items.push(self.value(depth + 1)?);
                        self.ws();
                        match self.src.get(self.i) {
                            Some(b',') => self.i += 1,
                            Some(b']') => {
                                self.i += 1;
                                break;
                            }
                            _ => return Err(self.err("expected `,` or `]` in the list")),
                        }
                    }
                }
                Kind::Seq(items)
            }
            Some(b'"') => Kind::String(self.string()?),
            Some(b't') => self.word("true", Kind::Bool(true))?,
            Some(b'f') => self.word("false", Kind::Bool(false))?,
            Some(b'n') => self.word("null", Kind::Null)?,
            Some(b'-' | b'0'..=b'9') => Kind::Number(self.number()?),
            Some(_) => return Err(self.err("expected a JSON value")),
        };
        Ok(Node::new(kind, at))
    }

    fn object(&mut self, depth: usize) -> Result<Kind, SyntaxError> {
        let mut entries: Vec<(Key, Node)> = Vec::new();
        let mut seen: HashMap<String, Pos> = HashMap::new();
        self.ws();
        if self.src.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(Kind::Map(entries));
        }
        loop {
            self.ws();
            let kpos = self.pos();
            if self.src.get(self.i) != Some(&b'"') {
                return Err(self.err("expected a quoted key"));
            }
            let name = self.string()?;
            self.ws();
            if self.src.get(self.i) != Some(&b':') {
                return Err(self.err("expected `:` after the key"));
            }
            self.i += 1;
            self.ws();
            let v = self.value(depth + 1)?;
            if let Some(first) = seen.insert(name.clone(), kpos) {
                return Err(SyntaxError {
                    pos: kpos,
                    message: format!("duplicate key `{name}` (first at {first})"),
                });
            }
            entries.push((Key { name, pos: kpos }, v));
            self.ws();
            match self.src.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Kind::Map(entries));
                }
                _ => return Err(self.err("expected `,` or `}` in the object")),
            }
        }
    }

    fn word(&mut self, w: &str, k: Kind) -> Result<Kind, SyntaxError> {
        if self.src[self.i..].starts_with(w.as_bytes()) {
            self.i += w.len();
            Ok(k)
        } else {
            Err(self.err("expected a JSON value"))
        }
    }

    fn number(&mut self) -> Result<String, SyntaxError> {
        let start = self.i;
        while let Some(b) = self.src.get(self.i) {
            if b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E') {
                self.i += 1;
            } else {
                break;
            }
        }
        let s = &self.text[start..self.i];
        if s.parse::<f64>().is_err() || s.starts_with('+') {
            self.i = start;
            return Err(self.err(format!("`{s}` is not a number")));
        }
        Ok(s.to_string())
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        self.i += 1;
        let mut out = String::new();
        loop {
            let start = self.i;
            while let Some(&b) = self.src.get(self.i) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.i += 1;
            }
            out.push_str(&self.text[start..self.i]);
            match self.src.get(self.i) {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = match self.src.get(self.i) {
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
                            let code = if (0xD800..0xDC00).contains(&hi)
                                && self.src[self.i..].starts_with(b"\\u")
                            {
                                self.i += 2;
                                let lo = self.hex4()?;
                                0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF)
                            } else {
                                hi
                            };
                            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                            continue;
                        }
                        _ => return Err(self.err("invalid escape in string")),
                    };
                    self.i += 1;
                    out.push(c);
                }
                Some(_) => return Err(self.err("control character in string")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let h = self
            .text
            .get(self.i..self.i + 4)
            .and_then(|s| u32::from_str_radix(s, 16).ok())
            .ok_or_else(|| self.err("invalid \\u escape"))?;
        self.i += 4;
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_keys_and_values() {
        let doc =
            parse("{\n  \"Resources\": {\n    \"B\": {\"Type\": \"AWS::S3::Bucket\"}\n  }\n}")
                .unwrap();
        let (k, v) = doc.get("Resources").unwrap().entry("B").unwrap();
        assert_eq!((k.pos.line, k.pos.column), (3, 5));
        assert_eq!((v.pos.line, v.pos.column), (3, 10));
        let t = v.get("Type").unwrap();
        assert_eq!((t.pos.line, t.pos.column), (3, 19));
    }

    #[test]
    fn columns_count_characters() {
        let doc = parse("{\"é\": \"ü\", \"x\": 1}").unwrap();
        let (k, _) = doc.entry("x").unwrap();
        assert_eq!(k.pos.column, 12);
    }

    #[test]
    fn errors_name_the_position() {
        let e = parse("{\n  \"a\": 1,\n  \"b\" 2\n}").unwrap_err();
        assert_eq!((e.pos.line, e.pos.column), (3, 7));
        assert!(e.message.contains("expected `:`"));
        assert!(parse("[1, 2").is_err());
        assert!(parse("\"abc").is_err());
        assert!(
            parse("{\"a\":1,\"a\":2}")
                .unwrap_err()
                .message
                .contains("duplicate")
        );
        assert_eq!(parse("\"\\ud83d\\ude00\"").unwrap().as_str(), Some("😀"));
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let s = "[".repeat(100_000);
        assert!(parse(&s).unwrap_err().message.contains("nesting"));
    }
}
