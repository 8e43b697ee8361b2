//! One event as the engine sees it: the raw JSON bytes, a borrowed typed header of the top-level
//! string fields most rules test, and a document built only when a rule needs any other field.

use crate::scan::Member;
use serde_json::Value;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};

/// Top-level CloudTrail fields read without building a DOM (strings borrowed from the input
/// when they contain no escapes), and which of them are present with a value that is not a
/// string: rules must see such a value as present (`errorCode: 5` is not `null`), so the typed
/// view never turns it into "absent".
#[derive(Debug, Default)]
pub struct Header<'a> {
    pub event_source: Option<Cow<'a, str>>,
    pub event_name: Option<Cow<'a, str>>,
    pub event_time: Option<Cow<'a, str>>,
    pub aws_region: Option<Cow<'a, str>>,
    pub source_ip_address: Option<Cow<'a, str>>,
    pub user_agent: Option<Cow<'a, str>>,
    pub event_id: Option<Cow<'a, str>>,
    pub error_code: Option<Cow<'a, str>>,
    pub recipient_account_id: Option<Cow<'a, str>>,
    pub event_type: Option<Cow<'a, str>>,
    /// Bit `i`: header field `i` is present with a value that is not a string (null, a number,
    /// a boolean, an object, an array); its string slot is then `None`.
    not_strings: u16,
}

/// A header field as the event holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderValue<'h> {
    /// The member is not in the event.
    Absent,
    /// The member is a string (escapes decoded).
    Str(&'h str),
    /// The member is present with another JSON value (null included): only the value itself
    /// can answer a test, from the raw bytes or the document.
    NotString,
}

impl<'a> Header<'a> {
    /// The header of one record by a structural scan of its top-level members: values of other
    /// members are skipped, never decoded.
    pub fn scan(
        raw: &'a [u8],
        members: &mut SmallVec<[Member<'a>; 24]>,
    ) -> Result<Header<'a>, EventError> {
        let start = crate::scan::skip_ws(raw, 0);
        let (h, end, _) = Header::scan_members(raw, None, start, members, &mut SmallVec::new())?;
        if crate::scan::skip_ws(raw, end) != raw.len() {
            return Err(EventError::Json {
                offset: end,
                message: "trailing characters after the record".into(),
            });
        }
        Ok(h)
    }

    /// The header of the object at `raw[start]`, recording every member and, in the same pass,
    /// the members of `userIdentity` (which most rules read); returns the header, the end of
    /// the object and where `userIdentity` starts when it was walked. `text` is `raw` when the
    /// caller already knows it is UTF-8 (strings are then sliced, not validated again).
    fn scan_members(
        raw: &'a [u8],
        text: Option<&'a str>,
        start: usize,
        members: &mut SmallVec<[Member<'a>; 24]>,
        identity: &mut SmallVec<[Member<'a>; 16]>,
    ) -> Result<(Header<'a>, usize, Option<usize>), EventError> {
        let mut h = Header::default();
        let mut bad: Option<EventError> = None;
        let mut on_identity = |m| identity.push(m);
        let (end, identity_at) =
            crate::scan::members_and_nested(raw, start, b"userIdentity", &mut on_identity, |m| {
                members.push(m);
                let Some(i) = Header::field_of(m.key) else {
                    return true;
                };
                match string_value(raw, text, m.value, m.value_escaped) {
                    Ok(v) => {
                        h.set(i, v);
                        true
                    }
                    Err(e) => {
                        bad = Some(e);
                        false
                    }
                }
            })
            .map_err(|e| EventError::Json {
                offset: e.offset,
                message: e.message.to_string(),
            })?;
        if let Some(e) = bad {
            return Err(e);
        }
        Ok((h, end, identity_at))
    }

    /// The header field named by a top-level key, `None` if the key is not a header field.
    /// `Some(None)` means "a header field, absent in this event or not a string".
    pub fn get(&self, key: &str) -> Option<Option<&str>> {
        Header::field_index(key).map(|i| self.get_index(i))
    }

    /// The position of a top-level key among the header fields, so callers that test the same
    /// field on every event resolve the name once ([`Header::get_index`]).
    pub fn field_index(key: &str) -> Option<u8> {
        Header::field_of(key.as_bytes())
    }

    /// [`Header::field_index`] of a raw key, for every member of every record: length, first
    /// byte and (among the nine-byte `event…`/`errorCode` keys) seventh byte name at most one
    /// candidate, so a key costs one comparison.
    #[inline]
    fn field_of(key: &[u8]) -> Option<u8> {
        let index = match (key.len(), *key.first()?) {
            (11, b'e') => 0,
            (9, b'e') => match key[6] {
                b'a' => 1,
                b'i' => 2,
                b'o' => 7,
                b'y' => 9,
                _ => return None,
            },
            (9, b'a') => 3,
            (15, b's') => 4,
            (9, b'u') => 5,
            (7, b'e') => 6,
            (18, b'r') => 8,
            _ => return None,
        };
        crate::scan::same_bytes(key, HEADER_KEYS[usize::from(index)].as_bytes()).then_some(index)
    }

    /// Records the last occurrence of header field `index`: its string, or (`None`) a value
    /// of another type.
    fn set(&mut self, index: u8, value: Option<Cow<'a, str>>) {
        let bit = 1u16 << index;
        if value.is_some() {
            self.not_strings &= !bit;
        } else {
            self.not_strings |= bit;
        }
        *self.slot_mut(index) = value;
    }

    /// The header of a document (events built from one): the same fields and types the scan
    /// of its bytes records.
    pub fn of_value(doc: &Value) -> Header<'static> {
        let mut h = Header::default();
        if let Value::Object(members) = doc {
            for (k, v) in members {
                if let Some(i) = Header::field_of(k.as_bytes()) {
                    h.set(i, v.as_str().map(|s| Cow::Owned(s.to_string())));
                }
            }
        }
        h
    }

    /// Header field `index` with its presence and type: [`Header::get_index`] answers `None`
    /// both for an absent member and for one that is not a string, which tests of presence
    /// (`null`, `exists`) must tell apart.
    pub fn value_at(&self, index: u8) -> HeaderValue<'_> {
        match self.get_index(index) {
            Some(s) => HeaderValue::Str(s),
            None if index < 16 && self.not_strings >> index & 1 == 1 => HeaderValue::NotString,
            None => HeaderValue::Absent,
        }
    }

    fn slot_mut(&mut self, index: u8) -> &mut Option<Cow<'a, str>> {
        match index {
            0 => &mut self.event_source,
            1 => &mut self.event_name,
            2 => &mut self.event_time,
            3 => &mut self.aws_region,
            4 => &mut self.source_ip_address,
            5 => &mut self.user_agent,
            6 => &mut self.event_id,
            7 => &mut self.error_code,
            8 => &mut self.recipient_account_id,
            _ => &mut self.event_type,
        }
    }

    /// The header field at `index` (from [`Header::field_index`]) when it is a string; `None`
    /// when absent or of another type (see [`Header::value_at`]).
    pub fn get_index(&self, index: u8) -> Option<&str> {
        match index {
            0 => &self.event_source,
            1 => &self.event_name,
            2 => &self.event_time,
            3 => &self.aws_region,
            4 => &self.source_ip_address,
            5 => &self.user_agent,
            6 => &self.event_id,
            7 => &self.error_code,
            8 => &self.recipient_account_id,
            9 => &self.event_type,
            _ => return None,
        }
        .as_deref()
    }
}

/// How many fields the typed header holds.
pub const HEADER_FIELDS: usize = 10;

/// The typed header's keys, by [`Header::field_index`].
pub const HEADER_KEYS: [&str; HEADER_FIELDS] = [
    "eventSource",
    "eventName",
    "eventTime",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "eventID",
    "errorCode",
    "recipientAccountId",
    "eventType",
];

/// The `userIdentity` members rules read most, each with a slot: a rule resolves its path to
/// the slot (a static key) once, and [`Event::identity_member_at`] searches for that key.
const IDENTITY_KEYS: [&str; 8] = [
    "type",
    "arn",
    "principalId",
    "accountId",
    "accessKeyId",
    "userName",
    "invokedBy",
    "sessionContext",
];

/// The slot of `userIdentity.<key>`, if `key` is one of the keys rules read most (`type`,
/// `arn`, …).
pub fn identity_slot(key: &str) -> Option<u8> {
    slot_of(key.as_bytes())
}

/// [`identity_slot`] on raw key bytes: length and first byte name at most one candidate, so
/// each key costs one comparison.
fn slot_of(key: &[u8]) -> Option<u8> {
    let slot = match (key.len(), *key.first()?) {
        (4, b't') => 0,
        (3, b'a') => 1,
        (11, b'p') => 2,
        (9, b'a') => 3,
        (11, b'a') => 4,
        (8, b'u') => 5,
        (9, b'i') => 6,
        (14, b's') => 7,
        _ => return None,
    };
    crate::scan::same_bytes(key, IDENTITY_KEYS[slot].as_bytes()).then_some(slot as u8)
}

/// Why an input record is not an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("invalid JSON at byte {offset}: {message}")]
    Json { offset: usize, message: String },
    #[error("record is not a JSON object")]
    NotObject,
}

/// An event ready for rule evaluation.
pub struct Event<'a> {
    raw: &'a [u8],
    /// `raw` as text when the reader validated its buffer as UTF-8 once (strings inside it are
    /// then sliced without validating each again).
    text: Option<&'a str>,
    /// Whether `members` can answer [`Event::member`] (scanned, no escaped top-level key).
    indexed: bool,
    header: Header<'a>,
    /// Every top-level member (key and value span), so a field outside the header is found
    /// without a document; empty for events built from a document.
    members: SmallVec<[Member<'a>; 24]>,
    /// Members of nested objects already walked, so several rules reading
    /// `userIdentity.sessionContext.*` walk it once.
    nested: RefCell<NestedCache<'a>>,
    /// Where `userIdentity` starts when the reader walked it as an object.
    identity_at: Option<usize>,
    /// `userIdentity`'s members, indexed by the reader in the same pass as the header (kept
    /// out of `nested` so the common case allocates nothing); usable only when `identity_ok`
    /// (walked, no escaped key).
    identity_members: SmallVec<[Member<'a>; 16]>,
    identity_ok: bool,
    doc: OnceCell<Option<Value>>,
}

/// Walked nested objects: their members side by side in one list (one allocation per event at
/// most), and per object its start and its range in that list (`None`: could not be walked).
#[derive(Default)]
struct NestedCache<'a> {
    /// Inline for the common case (a `sessionContext` and its `sessionIssuer`, a short
    /// `requestParameters`): a heap buffer per event cost more than the walks themselves.
    members: SmallVec<[Member<'a>; 16]>,
    objects: SmallVec<[(usize, Option<MemberRange>); 4]>,
}

/// Where one walked object's members are in [`NestedCache::members`].
type MemberRange = (u32, u32);

impl<'a> Event<'a> {
    /// Parse the header from raw record bytes. Fails when the bytes are not a JSON object.
    pub fn parse(raw: &'a [u8]) -> Result<Event<'a>, EventError> {
        let start = crate::scan::skip_ws(raw, 0);
        let (ev, end) = Event::parse_at(raw, start)?;
        if crate::scan::skip_ws(raw, end) != raw.len() {
            return Err(EventError::Json {
                offset: end,
                message: "trailing characters after the record".into(),
            });
        }
        Ok(ev)
    }

    /// Parses the record that starts at `buf[start]` and ends wherever its closing brace is:
    /// the one scan that finds the record's end also reads its header. Returns the event (its
    /// `raw` is exactly the record) and the end offset.
    pub fn parse_at(buf: &'a [u8], start: usize) -> Result<(Event<'a>, usize), EventError> {
        Event::parse_at_text(buf, None, start)
    }

    /// [`Event::parse_at`] for a buffer the caller validated as UTF-8, in whole or in part
    /// (`text` is a prefix of `buf` as a string): strings inside it are sliced, never validated
    /// again; strings past it are validated one by one.
    pub fn parse_at_text(
        buf: &'a [u8],
        text: Option<&'a str>,
        start: usize,
    ) -> Result<(Event<'a>, usize), EventError> {
        let mut ev = Event::empty();
        let end = ev.parse_into(buf, text, start)?;
        Ok((ev, end))
    }

    /// An event with nothing in it, for [`Event::parse_into`] to fill.
    pub fn empty() -> Event<'a> {
        Event {
            raw: &[],
            text: None,
            indexed: false,
            header: Header::default(),
            members: SmallVec::new(),
            nested: RefCell::default(),
            identity_at: None,
            identity_members: SmallVec::new(),
            identity_ok: false,
            doc: OnceCell::new(),
        }
    }

    /// [`Event::parse_at_text`] into this event, replacing what it held: a reader parses every
    /// record of a file into one event, so the member lists (a few kilobytes) are never moved
    /// or reallocated. Returns the record's end.
    pub fn parse_into(
        &mut self,
        buf: &'a [u8],
        text: Option<&'a str>,
        start: usize,
    ) -> Result<usize, EventError> {
        debug_assert!(text.is_none_or(|t| t.as_ptr() == buf.as_ptr() && t.len() <= buf.len()));
        self.members.clear();
        self.identity_members.clear();
        let nested = self.nested.get_mut();
        nested.members.clear();
        nested.objects.clear();
        self.doc = OnceCell::new();
        self.raw = &[];
        self.text = None;
        self.indexed = false;
        self.identity_at = None;
        self.identity_ok = false;
        if buf.get(start) != Some(&b'{') {
            return Err(EventError::NotObject);
        }
        let (header, end, identity_at) = Header::scan_members(
            buf,
            text,
            start,
            &mut self.members,
            &mut self.identity_members,
        )?;
        for m in self
            .members
            .iter_mut()
            .chain(self.identity_members.iter_mut())
        {
            m.value = (m.value.0 - start, m.value.1 - start);
        }
        self.header = header;
        self.identity_at = identity_at.map(|at| at - start);
        self.identity_ok = !self.identity_members.iter().any(|m| m.key_escaped);
        self.indexed = !self.members.is_empty() && !self.members.iter().any(|m| m.key_escaped);
        self.raw = &buf[start..end];
        // `start` and `end` are at `{` and just past `}`: character boundaries
        self.text = text.and_then(|t| t.get(start..end));
        Ok(end)
    }

    /// `userIdentity`'s members as the reader indexed them; `None` when it was not walked or
    /// has escaped keys.
    fn identity_list(&self) -> Option<&[Member<'a>]> {
        (self.identity_at.is_some() && self.identity_ok).then_some(&self.identity_members[..])
    }

    /// An event from an already-built document (tests, `rules test`, EventBridge envelopes).
    pub fn from_value(raw: &'a [u8], doc: Value) -> Event<'a> {
        let header = Header::of_value(&doc);
        let cell = OnceCell::new();
        let _ = cell.set(Some(doc));
        Event {
            raw,
            header,
            doc: cell,
            ..Event::empty()
        }
    }

    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The span of the top-level member `key` in [`Event::raw`] (the last one if repeated, as a
    /// document would keep it). `None` when absent or when the event has no member index (built
    /// from a document; use [`Event::doc`] then), see [`Event::has_member_index`].
    pub fn member(&self, key: &str) -> Option<(usize, usize)> {
        let key = key.as_bytes();
        let first = key.first().copied();
        self.members
            .iter()
            .rev()
            // the first byte rules out almost every other key before a full comparison
            .find(|m| m.key.first().copied() == first && crate::scan::same_bytes(m.key, key))
            .map(|m| m.value)
    }

    /// The text of the JSON string at `span` (quotes included) when it has no escapes; `None`
    /// for escaped strings, other JSON types and invalid UTF-8.
    pub fn plain_str(&self, (s, e): (usize, usize)) -> Option<&'a str> {
        let v = self.raw.get(s..e)?;
        if v.len() < 2 || v[0] != b'"' || memchr::memchr(b'\\', v).is_some() {
            return None;
        }
        match self.text {
            Some(t) => t.get(s + 1..e - 1),
            None => std::str::from_utf8(&v[1..v.len() - 1]).ok(),
        }
    }

    /// The value span of `userIdentity.<key>` from the members the reader indexed: `Some(None)`
    /// when `userIdentity` or the key is absent; `None` when the index cannot answer (no member
    /// index, `userIdentity` not an object or not walked, escaped keys; use [`Event::member`]
    /// and [`Event::member_of`] or the document then).
    pub fn identity_member(&self, key: &str) -> Option<Option<Member<'a>>> {
        if !self.indexed {
            return None;
        }
        if self.identity_at.is_none() {
            // no `userIdentity` object was walked: absent, or present as something else
            return self.member("userIdentity").is_none().then_some(None);
        }
        let list = self.identity_list()?;
        let key = key.as_bytes();
        let first = key.first().copied();
        Some(
            list.iter()
                .rev()
                .find(|m| m.key.first().copied() == first && crate::scan::same_bytes(m.key, key))
                .copied(),
        )
    }

    /// [`Event::identity_member`] for a key known by its slot ([`identity_slot`]). A search of
    /// the `userIdentity` members (a dozen, told apart by first byte) is cheaper than indexing
    /// them all for the two or three keys an event's rules read (measured: a table of every
    /// slot, built on first use, cost an event four times what its searches did).
    pub fn identity_member_at(&self, slot: u8) -> Option<Option<Member<'a>>> {
        self.identity_member(IDENTITY_KEYS.get(usize::from(slot))?)
    }

    /// The text of a member's value when it is a JSON string without escapes (the scan that
    /// found the member already knows whether it has any).
    pub fn member_str(&self, m: &Member<'a>) -> Option<&'a str> {
        let (s, e) = m.value;
        if m.value_escaped || self.raw.get(s) != Some(&b'"') || e < s + 2 {
            return None;
        }
        match self.text {
            Some(t) => t.get(s + 1..e - 1),
            None => std::str::from_utf8(&self.raw[s + 1..e - 1]).ok(),
        }
    }

    /// The value span of member `key` of the object that starts at `raw[obj]` (the last one if
    /// repeated). `Err(())` when the object cannot be walked or has escaped keys (use the
    /// document then). Each object is walked once per event.
    #[allow(clippy::result_unit_err)]
    pub fn member_of(&self, obj: usize, key: &str) -> Result<Option<(usize, usize)>, ()> {
        self.with_members_of(obj, |list| {
            list.iter()
                .rev()
                .find(|m| crate::scan::same_bytes(m.key, key.as_bytes()))
                .map(|m| m.value)
        })
    }

    /// Calls `f` with the members of the object that starts at `raw[obj]`, in order (for
    /// callers that look for several keys in one pass). `Err(())` as for [`Event::member_of`].
    #[allow(clippy::result_unit_err)]
    pub fn with_members_of<R>(
        &self,
        obj: usize,
        f: impl FnOnce(&[Member<'a>]) -> R,
    ) -> Result<R, ()> {
        if self.identity_at == Some(obj) {
            return self.identity_list().map(f).ok_or(());
        }
        let mut cache = self.nested.borrow_mut();
        let range = match cache.objects.iter().find(|(start, _)| *start == obj) {
            Some(&(_, range)) => range,
            None => {
                let cache = &mut *cache;
                let from = cache.members.len();
                let walked = crate::scan::members(self.raw, obj, |m| {
                    cache.members.push(m);
                    true
                });
                let to = cache.members.len();
                let ok = walked.is_ok() && !cache.members[from..].iter().any(|m| m.key_escaped);
                let range = ok.then_some((from as u32, to as u32));
                cache.objects.push((obj, range));
                range
            }
        };
        let (from, to) = range.ok_or(())?;
        Ok(f(&cache.members[from as usize..to as usize]))
    }

    /// Whether [`Event::member`] can answer: the event was scanned from bytes and no top-level
    /// key needed unescaping.
    pub fn has_member_index(&self) -> bool {
        self.indexed
    }

    pub fn header(&self) -> &Header<'a> {
        &self.header
    }

    /// The full document, built on first use. `None` only if the bytes parsed as a header but not
    /// as a document (cannot happen for valid JSON).
    pub fn doc(&self) -> Option<&Value> {
        self.doc
            .get_or_init(|| serde_json::from_slice(self.raw).ok())
            .as_ref()
    }

    /// The document if a rule already built it (never builds one).
    pub fn doc_if_built(&self) -> Option<&Value> {
        self.doc.get().and_then(Option::as_ref)
    }

    /// Whether the document has been built (for measuring how often rules need it).
    pub fn doc_built(&self) -> bool {
        self.doc.get().is_some()
    }
}

/// A string member's value: borrowed when it has no escapes, decoded otherwise; other JSON
/// types give `None` (the header records them as present, see [`HeaderValue::NotString`]).
fn string_value<'a>(
    raw: &'a [u8],
    text: Option<&'a str>,
    (s, e): (usize, usize),
    escaped: bool,
) -> Result<Option<Cow<'a, str>>, EventError> {
    let v = &raw[s..e];
    if v.first() != Some(&b'"') {
        return Ok(None);
    }
    let inner = &v[1..v.len() - 1];
    let bad = |message: String| EventError::Json { offset: s, message };
    // the scan that found the member knows whether the string has escapes
    if !escaped {
        // after `"` and before `"`: character boundaries of a UTF-8 text
        if let Some(t) = text.and_then(|t| t.get(s + 1..e - 1)) {
            return Ok(Some(Cow::Borrowed(t)));
        }
        return std::str::from_utf8(inner)
            .map(|t| Some(Cow::Borrowed(t)))
            .map_err(|_| bad("invalid UTF-8 in a string".into()));
    }
    serde_json::from_slice::<String>(v)
        .map(|t| Some(Cow::Owned(t)))
        .map_err(|e| bad(strip_position(&e.to_string())))
}

#[allow(dead_code)]
fn byte_offset(raw: &[u8], line: usize, column: usize) -> usize {
    let mut l = 1;
    for (i, b) in raw.iter().enumerate() {
        if l == line {
            return i + column.saturating_sub(1);
        }
        if *b == b'\n' {
            l += 1;
        }
    }
    raw.len()
}

fn strip_position(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// The acting principal of an event: the ARN, else `type:principalId`, else `userName`.
pub fn principal_of(doc: &Value) -> Option<String> {
    let ui = doc.get("userIdentity")?;
    if let Some(arn) = ui.get("arn").and_then(Value::as_str) {
        return Some(arn.to_string());
    }
    let ty = ui.get("type").and_then(Value::as_str).unwrap_or("");
    if let Some(p) = ui.get("principalId").and_then(Value::as_str) {
        return Some(format!("{ty}:{p}"));
    }
    ui.get("userName")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| (!ty.is_empty()).then(|| ty.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_borrowed_and_doc_lazy() {
        let raw = br#"{"eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com","x":{"y":[1,2]}}"#;
        let e = Event::parse(raw).unwrap();
        assert!(matches!(
            e.header().event_name,
            Some(Cow::Borrowed("StopLogging"))
        ));
        assert_eq!(e.header().get("eventName"), Some(Some("StopLogging")));
        assert_eq!(e.header().get("errorCode"), Some(None));
        assert_eq!(e.header().get("x"), None);
        assert!(!e.doc_built());
        assert_eq!(e.doc().unwrap()["x"]["y"][1], 2);
        assert!(e.doc_built());
    }

    /// A header member that is not a string is present (not absent) in the header, read from
    /// bytes or from a document; the last of repeated keys decides.
    #[test]
    fn header_values_keep_their_presence() {
        let cases: &[(&[u8], HeaderValue)] = &[
            (br#"{"errorCode":"X"}"#, HeaderValue::Str("X")),
            (br#"{"errorCode":"\u0058"}"#, HeaderValue::Str("X")),
            (br#"{}"#, HeaderValue::Absent),
            (br#"{"errorCode":5}"#, HeaderValue::NotString),
            (br#"{"errorCode":null}"#, HeaderValue::NotString),
            (br#"{"errorCode":true}"#, HeaderValue::NotString),
            (br#"{"errorCode":{"x":1}}"#, HeaderValue::NotString),
            (br#"{"errorCode":["a"]}"#, HeaderValue::NotString),
            (br#"{"errorCode":[]}"#, HeaderValue::NotString),
            (br#"{"errorCode":5,"errorCode":"X"}"#, HeaderValue::Str("X")),
            (
                br#"{"errorCode":"X","errorCode":5}"#,
                HeaderValue::NotString,
            ),
        ];
        let i = Header::field_index("errorCode").unwrap();
        for (raw, want) in cases {
            let shown = String::from_utf8_lossy(raw);
            let e = Event::parse(raw).unwrap();
            assert_eq!(e.header().value_at(i), *want, "{shown}");
            let doc: Value = serde_json::from_slice(raw).unwrap();
            let e = Event::from_value(raw, doc);
            assert_eq!(e.header().value_at(i), *want, "{shown} as a document");
        }
    }

    #[test]
    fn header_fields_name_their_keys() {
        for (i, k) in HEADER_KEYS.iter().enumerate() {
            assert_eq!(Header::field_index(k), Some(i as u8), "{k}");
            let mut h = Header::default();
            *h.slot_mut(i as u8) = Some(Cow::Borrowed("v"));
            assert_eq!(h.get_index(i as u8), Some("v"), "{k}");
        }
        for other in [
            "eventNamE",
            "eventXame",
            "errorCodes",
            "eventtime",
            "",
            "e",
            "eventTyp",
            "userAgenT",
            "awsregion",
            "eventid",
            "requestID",
        ] {
            assert_eq!(Header::field_index(other), None, "{other}");
        }
    }

    #[test]
    fn identity_slots_name_their_keys() {
        for (i, k) in IDENTITY_KEYS.iter().enumerate() {
            assert_eq!(identity_slot(k), Some(i as u8));
        }
        for other in ["sessionIssuer", "tipe", "", "accountIX", "principalIx"] {
            assert_eq!(identity_slot(other), None, "{other}");
        }
    }

    #[test]
    fn bad_records() {
        assert_eq!(Event::parse(b"[1]").err(), Some(EventError::NotObject));
        assert_eq!(Event::parse(b"  ").err(), Some(EventError::NotObject));
        assert!(matches!(
            Event::parse(b"{\"a\":").err(),
            Some(EventError::Json { .. })
        ));
    }
}
