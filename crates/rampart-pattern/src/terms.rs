//! Unstructured term patterns: `ERROR`, `"exact phrase"`, `-excluded`, `?either ?or`.

use crate::{Cursor, PatternError};

/// Terms that must (or, with `?`, may) occur in the raw log line, and terms that must not.
#[derive(Debug, Clone, Default)]
pub struct TermsPattern {
    required: Vec<String>,
    any_of: Vec<String>,
    excluded: Vec<String>,
}

impl TermsPattern {
    pub(crate) fn parse(src: &str, base: usize) -> Result<TermsPattern, PatternError> {
        let mut c = Cursor::new(src, base);
        let mut p = TermsPattern::default();
        loop {
            c.skip_ws();
            if c.at_end() {
                break;
            }
            let mode = match c.peek() {
                Some('-') => {
                    c.bump();
                    Mode::Exclude
                }
                Some('?') => {
                    c.bump();
                    Mode::Any
                }
                _ => Mode::Require,
            };
            let term = if c.peek() == Some('"') {
                c.read_quoted()?
            } else {
                // A bare term runs to the next whitespace; `&&` and `||` are plain text here.
                let mut s = String::new();
                while let Some(ch) = c.peek().filter(|ch| !ch.is_whitespace()) {
                    s.push(ch);
                    c.bump();
                }
                s
            };
            if term.is_empty() {
                if mode == Mode::Require {
                    continue; // `""` alone is the match-everything pattern
                }
                return Err(c.err("expected a term after `-` or `?`"));
            }
            match mode {
                Mode::Require => p.required.push(term),
                Mode::Any => p.any_of.push(term),
                Mode::Exclude => p.excluded.push(term),
            }
        }
        Ok(p)
    }

    /// Case-sensitive substring semantics, as CloudWatch Logs documents.
    pub fn matches(&self, line: &str) -> bool {
        self.required.iter().all(|t| line.contains(t.as_str()))
            && !self.excluded.iter().any(|t| line.contains(t.as_str()))
            && (self.any_of.is_empty() || self.any_of.iter().any(|t| line.contains(t.as_str())))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Require,
    Any,
    Exclude,
}
