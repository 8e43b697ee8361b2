//! Structural JSON scanning over bytes: find where strings, objects and arrays end and walk an
//! object's members without building values.
//!
//! This is what makes reading fast: splitting a `{"Records": [...]}` object into records and
//! pulling the handful of top-level fields the rule index needs touch each byte about once,
//! jumping through strings with `memchr`. It checks structure (balanced brackets, terminated
//! strings, well-formed scalars) but not every detail of JSON (escape sequences inside strings
//! are checked only when a string is decoded, and keys and colons are checked at the levels that
//! are walked, not inside skipped values); a full parse happens only when a rule needs the
//! whole document, and that parse reports anything the scan let through.

/// Where the scan stopped making sense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanError {
    pub offset: usize,
    pub message: &'static str,
}

type Res<T> = Result<T, ScanError>;

fn err<T>(offset: usize, message: &'static str) -> Res<T> {
    Err(ScanError { offset, message })
}

/// Byte equality for short keys (the common case: JSON member names of 4–16 bytes) without a
/// call to `memcmp`: one or two overlapping word compares.
#[inline(always)]
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
    let half = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().expect("4 bytes"));
    match n {
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        _ => a == b,
    }
}

/// Whether `text` holds nothing but JSON whitespace (space, tab, line feed, carriage return).
pub fn is_blank(text: &[u8]) -> bool {
    text.iter()
        .all(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
}

#[inline]
pub fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\n' | b'\r' | b'\t') {
        i += 1;
    }
    i
}

/// `i` if `b[i]` is `want` (compact JSON, the common case), else [`skip_ws`] from `i`: the
/// caller checks the byte it lands on either way.
#[inline(always)]
fn skip_ws_to(b: &[u8], i: usize, want: u8) -> usize {
    if b.get(i) == Some(&want) {
        i
    } else {
        skip_ws(b, i)
    }
}

/// `b[i]` is `"`: returns the index just past the closing quote and whether the string has
/// backslash escapes.
#[inline]
pub fn string_end(b: &[u8], i: usize) -> Res<(usize, bool)> {
    find_string_end(b, i).ok_or(ScanError {
        offset: i,
        message: "unterminated string",
    })
}

/// [`string_end`] with the error left to the caller: an `Option` comes back in registers, and
/// this runs for every key and string of every record. Most keys and values end within 32
/// bytes without an escape: that case is two vector compares, inlined at each call.
#[inline(always)]
fn find_string_end(b: &[u8], i: usize) -> Option<(usize, bool)> {
    #[cfg(target_arch = "x86_64")]
    if let Some(chunk) = b.get(i + 1..i + 33) {
        // two blocks in one mask: bit k is byte i + 1 + k
        let mask =
            sse2::quote_or_backslash(&chunk[..16]) | sse2::quote_or_backslash(&chunk[16..]) << 16;
        if mask != 0 {
            let at = i + 1 + mask.trailing_zeros() as usize;
            if b[at] == b'"' {
                return Some((at + 1, false));
            }
        }
    }
    find_string_end_slow(b, i)
}

/// [`find_string_end`] beyond its first 32 bytes (and near the end of the input, and on other
/// architectures): kept out
/// of line so the common case costs no call.
#[cold]
#[inline(never)]
fn find_string_end_slow(b: &[u8], i: usize) -> Option<(usize, bool)> {
    let mut j = i + 1;
    let mut escaped = false;
    // Most CloudTrail strings are short: look at the first 64 bytes sixteen at a time (one
    // vector compare for `"` and `\\`) before paying for a general search.
    #[cfg(target_arch = "x86_64")]
    {
        let mut blocks = 0;
        while blocks < 4 && j + 16 <= b.len() {
            let mask = sse2::quote_or_backslash(&b[j..j + 16]);
            if mask == 0 {
                j += 16;
                blocks += 1;
                continue;
            }
            let at = j + mask.trailing_zeros() as usize;
            if b[at] == b'"' {
                return Some((at + 1, escaped));
            }
            // a backslash: it and the byte it escapes are inside the string
            escaped = true;
            j = at + 2;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        // eight bytes at a time (SWAR: a word has a zero byte after XOR with the quote or
        // backslash pattern)
        const LO: u64 = 0x0101_0101_0101_0101;
        const HI: u64 = 0x8080_8080_8080_8080;
        let mut words = 0;
        while words < 4 && j + 8 <= b.len() {
            let w = u64::from_le_bytes(b[j..j + 8].try_into().expect("8 bytes"));
            let q = w ^ (LO * b'"' as u64);
            let s = w ^ (LO * b'\\' as u64);
            let hit = (q.wrapping_sub(LO) & !q | s.wrapping_sub(LO) & !s) & HI;
            if hit != 0 {
                let at = j + (hit.trailing_zeros() / 8) as usize;
                if b[at] == b'"' {
                    return Some((at + 1, false));
                }
                j = at;
                break;
            }
            j += 8;
            words += 1;
        }
    }
    loop {
        if j > b.len() {
            return None;
        }
        match memchr::memchr2(b'"', b'\\', &b[j..]) {
            Some(k) => {
                let at = j + k;
                if b[at] == b'"' {
                    return Some((at + 1, escaped));
                }
                escaped = true;
                j = at + 2;
            }
            None => return None,
        }
    }
}

/// SSE2 (part of every x86_64 CPU) for the scanner's short searches.
#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };

    /// Bit `k` set when `chunk[k]` is `"` or `\\`; `chunk` holds exactly 16 bytes.
    #[inline]
    pub fn quote_or_backslash(chunk: &[u8]) -> u32 {
        assert_eq!(chunk.len(), 16);
        // SAFETY: SSE2 is part of the x86_64 baseline; the load reads the 16 bytes of `chunk`.
        unsafe { mask(chunk) }
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    unsafe fn mask(chunk: &[u8]) -> u32 {
        // SAFETY: the caller passes 16 bytes.
        let v = unsafe { _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>()) };
        let hits = _mm_or_si128(
            _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8)),
            _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8)),
        );
        _mm_movemask_epi8(hits) as u32
    }
}

/// The end (exclusive) of the JSON value starting at `i` (no leading whitespace).
pub fn value_end(b: &[u8], i: usize) -> Res<usize> {
    match b.get(i) {
        Some(b'"') => string_end(b, i).map(|(e, _)| e),
        Some(b'{') | Some(b'[') => container_end(b, i),
        Some(_) => scalar_end(b, i),
        None => err(i, "a value is missing"),
    }
}

/// Deepest nesting the scanner follows; deeper input is reported, never a stack overflow.
pub const MAX_DEPTH: usize = 128;

fn container_end(b: &[u8], i: usize) -> Res<usize> {
    // The open brackets so `{]` is caught: one bit per level (1 = object).
    let mut stack = [0u64; MAX_DEPTH / 64];
    let mut depth = 0usize;
    let mut j = i;
    while j < b.len() {
        match b[j] {
            b'"' => {
                j = match find_string_end(b, j) {
                    Some((end, _)) => end,
                    None => return err(j, "unterminated string"),
                };
                continue;
            }
            c @ (b'{' | b'[') => {
                if depth == MAX_DEPTH {
                    return err(j, "nested too deeply");
                }
                let (w, bit) = (depth / 64, depth % 64);
                if c == b'{' {
                    stack[w] |= 1 << bit;
                } else {
                    stack[w] &= !(1 << bit);
                }
                depth += 1;
            }
            c @ (b'}' | b']') => {
                if depth == 0 {
                    return err(j, "mismatched bracket");
                }
                depth -= 1;
                let is_object = stack[depth / 64] >> (depth % 64) & 1 == 1;
                if is_object != (c == b'}') {
                    return err(j, "mismatched bracket");
                }
                if depth == 0 {
                    return Ok(j + 1);
                }
            }
            b' ' | b'\n' | b'\r' | b'\t' | b',' | b':' => {}
            _ => {
                j = scalar_end(b, j)?;
                continue;
            }
        }
        j += 1;
    }
    err(i, "unterminated object or array")
}

/// A number, `true`, `false` or `null`.
fn scalar_end(b: &[u8], i: usize) -> Res<usize> {
    let mut j = i;
    while j < b.len()
        && !matches!(
            b[j],
            b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t' | b':'
        )
    {
        j += 1;
    }
    let tok = &b[i..j];
    let ok = matches!(tok, b"true" | b"false" | b"null")
        || (!tok.is_empty()
            && (tok[0] == b'-' || tok[0].is_ascii_digit())
            && tok
                .iter()
                .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E')));
    if ok { Ok(j) } else { err(i, "invalid literal") }
}

/// One member of an object: the key's raw bytes (between the quotes), whether the key has
/// escapes, the value's span, and whether the value is a string with escapes (so that a plain
/// string value is read without searching it for backslashes again).
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    pub key: &'a [u8],
    pub key_escaped: bool,
    pub value_escaped: bool,
    pub value: (usize, usize),
}

/// Like [`members`], and in the same pass walks the value of member `nested_key` (when it is
/// an object) member by member, calling `nested` for each: the one object most rules read
/// (CloudTrail's `userIdentity`) is indexed for the cost of skipping it. Returns the end and
/// the start of the nested object, if it was walked (if its walk fails, it is skipped as any
/// other value and `None` is returned).
pub fn members_and_nested<'a>(
    b: &'a [u8],
    i: usize,
    nested_key: &[u8],
    nested: &mut dyn FnMut(Member<'a>),
    mut each: impl FnMut(Member<'a>) -> bool,
) -> Res<(usize, Option<usize>)> {
    if b.get(i) != Some(&b'{') {
        return err(i, "expected an object");
    }
    let mut walked = None;
    let mut j = skip_ws(b, i + 1);
    if b.get(j) == Some(&b'}') {
        return Ok((j + 1, None));
    }
    let mut going = true;
    loop {
        if b.get(j) != Some(&b'"') {
            return err(j, "expected a key");
        }
        let Some((kend, key_escaped)) = find_string_end(b, j) else {
            return err(j, "unterminated string");
        };
        let key = &b[j + 1..kend - 1];
        j = skip_ws_to(b, kend, b':');
        if b.get(j) != Some(&b':') {
            return err(j, "expected `:`");
        }
        j = skip_ws_to(b, j + 1, b'"');
        let mut value_escaped = false;
        let vend = if b.get(j) == Some(&b'"') {
            let Some((end, escaped)) = find_string_end(b, j) else {
                return err(j, "unterminated string");
            };
            value_escaped = escaped;
            end
        } else if !nested_key.is_empty() && same_bytes(key, nested_key) && b.get(j) == Some(&b'{') {
            match members_dyn(b, j, &mut |m| {
                nested(m);
                true
            }) {
                Ok(end) => {
                    walked = Some(j);
                    end
                }
                Err(_) => value_end(b, j)?,
            }
        } else {
            value_end(b, j)?
        };
        if going {
            going = each(Member {
                key,
                key_escaped,
                value_escaped,
                value: (j, vend),
            });
        }
        j = skip_ws_to(b, vend, b',');
        match b.get(j) {
            Some(b',') => j = skip_ws_to(b, j + 1, b'"'),
            Some(b'}') => return Ok((j + 1, walked)),
            _ => return err(j, "expected `,` or `}`"),
        }
    }
}

/// Walks the members of the object starting at `b[i] == '{'`, calling `each` per member; stops
/// early when `each` returns false. Returns the end of the object.
pub fn members<'a>(b: &'a [u8], i: usize, each: impl FnMut(Member<'a>) -> bool) -> Res<usize> {
    members_and_nested(b, i, b"", &mut |_| {}, each).map(|(end, _)| end)
}

/// [`members`] through a trait object: what the nested walk calls, so the generic walk does not
/// instantiate itself without end.
fn members_dyn<'a>(b: &'a [u8], i: usize, each: &mut dyn FnMut(Member<'a>) -> bool) -> Res<usize> {
    members_and_nested(b, i, b"", &mut |_| {}, each).map(|(end, _)| end)
}

/// Walks the elements of the array starting at `b[i] == '['`.
pub fn elements(b: &[u8], i: usize, mut each: impl FnMut(usize, usize)) -> Res<usize> {
    if b.get(i) != Some(&b'[') {
        return err(i, "expected an array");
    }
    let mut j = skip_ws(b, i + 1);
    if b.get(j) == Some(&b']') {
        return Ok(j + 1);
    }
    loop {
        let end = value_end(b, j)?;
        each(j, end);
        j = skip_ws(b, end);
        match b.get(j) {
            Some(b',') => j = skip_ws(b, j + 1),
            Some(b']') => return Ok(j + 1),
            _ => return err(j, "expected `,` or `]`"),
        }
    }
}

/// The spans of the records of a `{"Records": [...]}` document, or `None` when `doc` is not
/// exactly that shape (the caller then falls back to a full parse for its error messages).
pub fn records(doc: &[u8]) -> Option<Vec<(usize, usize)>> {
    let start = skip_ws(doc, 0);
    let mut array = None;
    let end = members(doc, start, |m| {
        if m.key == b"Records" {
            array = Some(m.value);
        }
        true
    })
    .ok()?;
    if skip_ws(doc, end) != doc.len() {
        return None;
    }
    let (a, _) = array?;
    let mut out = Vec::with_capacity(1024);
    elements(doc, a, |s, e| out.push((s, e))).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_of_values() {
        let b = br#"{"a":"x\"}","b":[1,{"c":null}],"d":-1.5e3,"e":true} "#;
        assert_eq!(value_end(b, 0), Ok(b.len() - 1));
        let mut keys = Vec::new();
        members(b, 0, |m| {
            keys.push((
                String::from_utf8_lossy(m.key).to_string(),
                String::from_utf8_lossy(&b[m.value.0..m.value.1]).to_string(),
            ));
            true
        })
        .unwrap();
        assert_eq!(
            keys,
            vec![
                ("a".into(), "\"x\\\"}\"".into()),
                ("b".into(), "[1,{\"c\":null}]".into()),
                ("d".into(), "-1.5e3".into()),
                ("e".into(), "true".into())
            ]
        );
    }

    /// Short-key equality sees a difference in any byte, at every length, and unequal lengths.
    #[test]
    fn same_bytes_is_byte_equality() {
        for n in 0..=24usize {
            let a: Vec<u8> = (0..n as u8).map(|i| b'a' + i).collect();
            assert!(same_bytes(&a, &a.clone()), "{n}");
            for p in 0..n {
                let mut b = a.clone();
                b[p] ^= 0x20;
                assert!(!same_bytes(&a, &b), "{n} {p}");
            }
            assert!(!same_bytes(&a, &a[..n.saturating_sub(1)]) || n == 0);
        }
    }

    /// The word-at-a-time search agrees with a byte-by-byte one on every string shape.
    #[test]
    fn string_end_agrees_with_a_naive_search() {
        fn naive(b: &[u8], i: usize) -> Option<(usize, bool)> {
            let (mut j, mut esc) = (i + 1, false);
            while j < b.len() {
                match b[j] {
                    b'"' => return Some((j + 1, esc)),
                    b'\\' => {
                        esc = true;
                        j += 2;
                    }
                    _ => j += 1,
                }
            }
            None
        }
        let alphabet = [b'a', b'"', b'\\', 0xC3, b'\n'];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 70) as usize;
            let mut b = vec![b'"'];
            let mut x = seed;
            for _ in 0..len {
                x = x.rotate_left(5) ^ 0x5851_F42D_4C95_7F2D;
                // mostly plain bytes, so long runs reach past the SWAR words
                let k = (x % 23) as usize;
                b.push(if k < alphabet.len() {
                    alphabet[k]
                } else {
                    b'a'
                });
            }
            assert_eq!(
                string_end(&b, 0).ok(),
                naive(&b, 0),
                "{}",
                String::from_utf8_lossy(&b)
            );
        }
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(value_end(deep.as_bytes(), 0).is_err());
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(value_end(ok.as_bytes(), 0), Ok(ok.len()));
        let long = format!("{{\"k\":\"{}\\\"{}\"}}", "x".repeat(40), "y".repeat(40));
        assert_eq!(value_end(long.as_bytes(), 0), Ok(long.len()));
    }

    #[test]
    fn records_of_an_envelope() {
        let doc = br#" {"Records": [ {"a":1} , {"b":"]"} ] } "#;
        let r = records(doc).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(&doc[r[1].0..r[1].1], br#"{"b":"]"}"#);
        assert!(records(br#"{"Records":[{"a":1},]}"#).is_none());
        assert!(records(br#"{"Records":[{"a":1}]} x"#).is_none());
        assert!(records(br#"{"Other":[]}"#).is_none());
        assert_eq!(records(br#"{"Records":[]}"#), Some(vec![]));
    }

    #[test]
    fn malformed_is_an_error_not_a_panic() {
        for bad in [
            &b"{"[..],
            b"{\"a\"",
            b"{\"a\":",
            b"{\"a\":tru}",
            b"{\"a\":[1}",
            b"{\"a\":\"x",
            b"{\"a\":\"x\\",
            b"{\"a\" 1}",
            b"{1:2}",
            b"[",
            b"{\"a\":[}",
        ] {
            let top = if bad.first() == Some(&b'{') {
                members(bad, 0, |_| true).map(|_| ())
            } else {
                value_end(bad, 0).map(|_| ())
            };
            assert!(top.is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
