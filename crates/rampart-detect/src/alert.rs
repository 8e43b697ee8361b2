//! Alerts: the stable JSON Lines schema, OCSF Detection Finding (class 2004), a readable table, and
//! aggregation of repeats (same rule, principal and resource within a window).

use crate::engine::resolve_value;
use crate::event::{Event, principal_of};
use crate::ir::{
    ATTEMPT_PREFIX, Condition, OnFailure, Outcome, Rule, RuleSource, Segment, Severity,
};
use serde::Serialize;
use serde_json::{Value, json};
use smallvec::SmallVec;
use std::sync::Arc;

/// Version tag written in every JSON Lines alert; bumped only on incompatible changes.
pub const SCHEMA: &str = "rampart.alert/v1";

/// How many event ids an aggregated alert lists (the first ones folded into it; `count`
/// says how many there were in all).
pub const MAX_EVENT_IDS: usize = 16;

/// One alert (possibly standing for `count` aggregated repeats). It serializes as the
/// documented schema (docs/detect.md, field order and names of [`AlertRecord`]); new fields may
/// be added, none renamed or removed. An alert's text is one allocation (its origin a second):
/// the rule's text is shared with every alert of the rule, and the event's strings and the matched fields (as JSON
/// text) are kept back to back in one buffer (read them with [`Alert::event_id`],
/// [`Alert::principal`], [`Alert::matched`], …).
#[derive(Debug, Clone)]
pub struct Alert {
    rule: Arc<RuleText>,
    /// event id, time, source, name, account, region, principal, source IP, user agent,
    /// resource, and the matched fields as a JSON object
    text: EventText,
    /// Whether the call it reports succeeded (part of the aggregation key).
    outcome: Outcome,
    /// Number of events this alert stands for (1 unless aggregated).
    pub count: u64,
    /// Ids of the events folded into it after the first, at most [`MAX_EVENT_IDS`] - 1.
    folded_ids: Vec<String>,
    /// First and last aggregated event times, once a merge moved them off the event's time.
    first_seen: Option<String>,
    last_seen: Option<String>,
    /// Where the event came from (`file:record`), when known.
    pub origin: Option<String>,
}

impl PartialEq for Alert {
    fn eq(&self, other: &Alert) -> bool {
        (Arc::ptr_eq(&self.rule, &other.rule) || self.rule == other.rule)
            && self.text == other.text
            && self.outcome == other.outcome
            && self.count == other.count
            && self.folded_ids == other.folded_ids
            && self.first_seen == other.first_seen
            && self.last_seen == other.last_seen
            && self.origin == other.origin
    }
}

/// An alert as written (JSON Lines): the schema's fields in order.
#[derive(Serialize)]
pub struct AlertRecord<'a> {
    pub schema: &'static str,
    pub rule_id: &'a str,
    pub rule_source: RuleSource,
    pub title: &'a str,
    pub severity: Severity,
    pub attack: &'a [String],
    pub event_id: Option<&'a str>,
    pub event_time: Option<&'a str>,
    pub event_source: Option<&'a str>,
    pub event_name: Option<&'a str>,
    pub account: Option<&'a str>,
    pub region: Option<&'a str>,
    pub principal: Option<&'a str>,
    pub source_ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// The main resource acted on (bucket, trail, user, role, …) when the request names one.
    pub resource: Option<&'a str>,
    pub matched: Matched<'a>,
    pub author: Option<&'a str>,
    pub license: Option<&'a str>,
    pub count: u64,
    /// Event times of the first and last aggregated events.
    pub first_seen: Option<&'a str>,
    pub last_seen: Option<&'a str>,
    pub origin: Option<&'a str>,
    /// `success` or `failure` (an `errorCode`, or a failed `ConsoleLogin`).
    pub outcome: Outcome,
    /// CloudTrail's `errorCode` of the (first) event, when the call failed with one.
    pub error_code: Option<&'a str>,
    /// The ids of the events folded into this alert, in the order they came: the first
    /// [`MAX_EVENT_IDS`] (`count` is the total).
    pub event_ids: EventIds<'a>,
}

/// An alert's event ids: the first event's, then those folded into it.
#[derive(Debug, Clone, Copy)]
pub struct EventIds<'a> {
    first: Option<&'a str>,
    folded: &'a [String],
}

impl<'a> EventIds<'a> {
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.first
            .into_iter()
            .chain(self.folded.iter().map(String::as_str))
    }
}

impl Serialize for EventIds<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl Serialize for Alert {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.record().serialize(s)
    }
}

/// The fields a rule tested, with their values in the event: a JSON object's text, keys in
/// order (as a `serde_json::Map` writes them), written once when the alert is built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Matched<'a>(&'a str);

impl<'a> Matched<'a> {
    /// The object's JSON text, e.g. `{"eventName":"StopLogging"}`.
    pub fn as_json(&self) -> &'a str {
        self.0
    }

    /// The fields as a map.
    pub fn to_map(&self) -> serde_json::Map<String, Value> {
        serde_json::from_str(self.0).unwrap_or_default()
    }

    /// One field's value.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.to_map().remove(key)
    }
}

impl Serialize for Matched<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match serde_json::from_str::<&serde_json::value::RawValue>(self.0) {
            Ok(raw) => raw.serialize(s),
            Err(_) => serde_json::Map::new().serialize(s),
        }
    }
}

/// One reader per packed event string: `name => FIELD` defines `Alert::name()`.
macro_rules! event_text {
    ($($(#[$doc:meta])* $name:ident => $field:ident,)*) => {
        $(
            $(#[$doc])*
            pub fn $name(&self) -> Option<&str> {
                self.text.get(EventText::$field)
            }
        )*
    };
}

/// The event's strings an alert carries and its matched fields, back to back in one buffer.
#[derive(Debug, Clone, PartialEq, Default)]
struct EventText {
    buf: String,
    /// Per field ([`EventText::EVENT_ID`] …), its end in `buf`; a field starts where the one
    /// before it ends (an absent field is empty there).
    ends: [u32; EventText::FIELDS],
    /// Bit per field: present.
    present: u16,
}

impl EventText {
    const EVENT_ID: usize = 0;
    const EVENT_TIME: usize = 1;
    const EVENT_SOURCE: usize = 2;
    const EVENT_NAME: usize = 3;
    const ACCOUNT: usize = 4;
    const REGION: usize = 5;
    const PRINCIPAL: usize = 6;
    const SOURCE_IP: usize = 7;
    const USER_AGENT: usize = 8;
    const RESOURCE: usize = 9;
    const ERROR_CODE: usize = 10;
    /// The matched fields' JSON object (always present, last).
    const MATCHED: usize = 11;
    const FIELDS: usize = 12;

    /// Packs the event's strings, then the matched object's JSON text (one allocation of the
    /// exact size).
    fn new(values: [Option<&str>; EventText::MATCHED], matched: &str) -> EventText {
        let len: usize = values.iter().flatten().map(|v| v.len()).sum();
        let mut buf = String::with_capacity(len + matched.len());
        let mut ends = [0u32; EventText::FIELDS];
        let mut present = 0u16;
        for (i, v) in values.into_iter().enumerate() {
            if let Some(v) = v {
                buf.push_str(v);
                present |= 1 << i;
            }
            ends[i] = buf.len() as u32;
        }
        buf.push_str(matched);
        ends[EventText::MATCHED] = buf.len() as u32;
        present |= 1 << EventText::MATCHED;
        EventText { buf, ends, present }
    }

    fn get(&self, field: usize) -> Option<&str> {
        if self.present >> field & 1 == 0 {
            return None;
        }
        let start = if field == 0 { 0 } else { self.ends[field - 1] };
        self.buf.get(start as usize..self.ends[field] as usize)
    }

    /// Replaces the matched object (the last field) with `json`.
    fn set_matched(&mut self, json: &str) {
        let start = self.ends[EventText::MATCHED - 1] as usize;
        self.buf.truncate(start);
        self.buf.push_str(json);
        self.ends[EventText::MATCHED] = self.buf.len() as u32;
    }
}

/// The rule's text in every alert it raises, built once per rule and shared by its alerts.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleText {
    id: String,
    source: RuleSource,
    title: String,
    severity: Severity,
    attack: Vec<String>,
    author: Option<String>,
    license: Option<String>,
    /// The fields its alerts report ([`crate::engine::reported_fields`]), in the order of
    /// their names (the order of the matched object's keys), each with its key as JSON text
    /// (`"name":`).
    reported: Vec<(crate::ir::FieldPath, String)>,
    /// Its condition holds a judge, whose finding its alerts report too.
    judged: bool,
    /// The text of its alerts for a failed call ([`OnFailure`]).
    on_failure: FailureText,
}

/// A rule's text for failed calls.
#[derive(Debug, Clone, PartialEq)]
enum FailureText {
    /// The success text (the alert's `outcome` tells them apart).
    Same,
    /// The "Attempted" title at a lower severity.
    Attempt(Arc<RuleText>),
    /// No alert.
    Silent,
}

impl RuleText {
    pub fn of(rule: &Rule) -> RuleText {
        let m = &rule.meta;
        let mut reported: Vec<(crate::ir::FieldPath, String)> =
            crate::engine::reported_fields(&rule.condition)
                .into_iter()
                .map(|f| {
                    let mut key = String::new();
                    push_json_str(&mut key, f.as_str());
                    key.push(':');
                    (f, key)
                })
                .collect();
        reported.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        let text = RuleText {
            id: m.id.clone(),
            source: m.source,
            title: m.title.clone(),
            severity: m.severity,
            attack: m.attack.clone(),
            author: m.author.clone(),
            license: m.license.clone(),
            reported,
            judged: crate::engine::has_judgement(&rule.condition),
            on_failure: FailureText::Same,
        };
        let on_failure = match m.on_failure {
            OnFailure::Report => FailureText::Same,
            OnFailure::Silent => FailureText::Silent,
            OnFailure::Attempt { lower } => FailureText::Attempt(Arc::new(RuleText {
                title: format!("{ATTEMPT_PREFIX}{}", m.title),
                severity: m.severity.lowered(lower),
                ..text.clone()
            })),
        };
        RuleText { on_failure, ..text }
    }

    /// The text of this rule's alert for a call with `outcome`; `None` when the rule stays
    /// silent on it.
    pub fn for_outcome(self: &Arc<RuleText>, outcome: Outcome) -> Option<&Arc<RuleText>> {
        match (outcome, &self.on_failure) {
            (Outcome::Success, _) | (Outcome::Failure, FailureText::Same) => Some(self),
            (Outcome::Failure, FailureText::Attempt(t)) => Some(t),
            (Outcome::Failure, FailureText::Silent) => None,
        }
    }
}

/// Whether the call `ev` records succeeded (see [`Outcome`]). The error code is in the typed
/// header; only a `ConsoleLogin` reads one more member.
pub fn outcome_of(ev: &Event<'_>) -> Outcome {
    let h = ev.header();
    if h.error_code.is_some() {
        return Outcome::Failure;
    }
    match h.event_name.as_deref() {
        Some("ConsoleLogin") => {}
        // Identity Center's sign-in steps write their result under `serviceEventDetails`
        Some(step @ ("CredentialChallenge" | "CredentialVerification" | "UserAuthentication")) => {
            let failed = ev
                .doc()
                .and_then(|d| {
                    d.get("serviceEventDetails")?
                        .get(step)?
                        .as_str()
                        .map(str::to_owned)
                })
                .is_some_and(|v| v == "Failure");
            return if failed {
                Outcome::Failure
            } else {
                Outcome::Success
            };
        }
        _ => return Outcome::Success,
    }
    // a walk of the raw bytes answers unless the event has no member index or the walk fails
    let from_raw = || -> Option<bool> {
        if !ev.has_member_index() {
            return None;
        }
        let Some((s, _)) = ev.member("responseElements") else {
            return Some(false);
        };
        if ev.raw()[s] != b'{' {
            return Some(false);
        }
        Some(match ev.member_of(s, "ConsoleLogin").ok()? {
            Some(span) => raw_string(ev, span).as_deref() == Some("Failure"),
            None => false,
        })
    };
    let failed = from_raw().unwrap_or_else(|| {
        ev.doc()
            .and_then(|d| d.pointer("/responseElements/ConsoleLogin"))
            .and_then(Value::as_str)
            == Some("Failure")
    });
    if failed {
        Outcome::Failure
    } else {
        Outcome::Success
    }
}

/// Appends `s` as a JSON string, escaped as `serde_json` escapes it (so a matched object
/// written here reads exactly as one serialized from a `serde_json::Map`).
pub(crate) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    let mut from = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[from..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xf)] as char);
        } else {
            out.push_str(esc);
        }
        from = i + 1;
    }
    out.push_str(&s[from..]);
    out.push('"');
}

/// Appends a value as `serde_json` writes it.
fn push_json_value(out: &mut String, v: &Value) {
    match v {
        Value::String(s) => push_json_str(out, s),
        _ => out.push_str(&serde_json::to_string(v).unwrap_or_default()),
    }
}

/// Appends the JSON value at `raw[s..e]` as `serde_json` would write it once parsed: copied
/// when it is already in that form (a string without escapes or control characters, `true`,
/// `false`, `null`), parsed and written otherwise; false when it does not parse.
fn push_raw_value(out: &mut String, ev: &Event<'_>, (s, e): (usize, usize)) -> bool {
    let bytes = &ev.raw()[s..e];
    if let Some(t) = ev.plain_str((s, e))
        && !t.bytes().any(|b| b < 0x20)
    {
        out.push('"');
        out.push_str(t);
        out.push('"');
        return true;
    }
    if let b"true" | b"false" | b"null" = bytes {
        out.push_str(std::str::from_utf8(bytes).unwrap_or("null"));
        return true;
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => {
            push_json_value(out, &v);
            true
        }
        Err(_) => false,
    }
}

/// The top-level members an alert reads, parsed from their raw spans: `userIdentity` and
/// `requestParameters` (principal, resource) and the first key of every field the rule tested.
/// `None` when the event has no member index (then the document is used).
fn narrow_view(ev: &Event<'_>, keys: &[&str]) -> Option<Value> {
    if !ev.has_member_index() {
        return None;
    }
    let mut m = serde_json::Map::new();
    for key in keys {
        if let Some((s, e)) = ev.member(key)
            && let Ok(v) = serde_json::from_slice::<Value>(&ev.raw()[s..e])
        {
            m.insert((*key).to_string(), v);
        }
    }
    Some(Value::Object(m))
}

/// Adds to `out` the first key of every field `c` tests outside the typed header.
fn tested_top_keys<'c>(c: &'c Condition, out: &mut SmallVec<[&'c str; 8]>) {
    let mut add = |k: &'c str| {
        if rampart_trail::event::Header::field_index(k).is_none() && !out.contains(&k) {
            out.push(k);
        }
    };
    match c {
        Condition::All(cs) | Condition::Any(cs) => cs.iter().for_each(|c| tested_top_keys(c, out)),
        Condition::Not(c) => tested_top_keys(c, out),
        Condition::Match { field, .. } => {
            if let Some(Segment::Key(k)) = field.segments().first() {
                add(k);
            }
        }
        Condition::AnyItem(q) => {
            if let Some(Segment::Key(k)) = q.path.segments().first() {
                add(k);
            }
        }
        Condition::Pattern(p) => match p.top_level_keys() {
            Some(keys) => keys.iter().for_each(|k| add(k)),
            None => ["errorMessage", "userIdentity", "additionalEventData"]
                .into_iter()
                .for_each(add),
        },
        Condition::Const(_) | Condition::RawContains(_) | Condition::Judge(_) => {}
    }
}

const RESOURCE_KEYS: &[&str] = &[
    "bucketName",
    "name",
    "trailName",
    "userName",
    "roleName",
    "groupName",
    "policyArn",
    "groupId",
    "detectorId",
    "keyId",
    "instanceId",
    "functionName",
    "secretId",
    "snapshotId",
    "imageId",
    "dBSnapshotIdentifier",
    "policyId",
    "resolverQueryLogConfigId",
    "vpcId",
    "routeTableId",
    "networkAclId",
    "internetGatewayId",
    "flowLogIds",
    "trailARN",
];

/// [`RESOURCE_KEYS`] by key length (indexes; `u8::MAX` ends a list): a member's key is
/// compared with the few resource keys of its length, not with all of them.
const RESOURCE_BY_LEN: [[u8; 6]; 25] = {
    let mut table = [[u8::MAX; 6]; 25];
    let mut i = 0;
    while i < RESOURCE_KEYS.len() {
        let len = RESOURCE_KEYS[i].len();
        let mut j = 0;
        // (a seventh key of one length fails the build here)
        while table[len][j] != u8::MAX {
            j += 1;
        }
        table[len][j] = i as u8;
        i += 1;
    }
    table
};

/// The position of `key` in [`RESOURCE_KEYS`].
fn resource_key_index(key: &[u8]) -> Option<usize> {
    RESOURCE_BY_LEN
        .get(key.len())?
        .iter()
        .take_while(|&&i| i != u8::MAX)
        .map(|&i| usize::from(i))
        .find(|&i| rampart_trail::scan::same_bytes(RESOURCE_KEYS[i].as_bytes(), key))
}

fn resource_of(doc: &Value) -> Option<String> {
    let rp = doc.get("requestParameters")?.as_object()?;
    for k in RESOURCE_KEYS {
        if let Some(s) = rp.get(*k).and_then(Value::as_str) {
            return Some(s.to_string());
        }
    }
    if let Some(ids) = rp
        .get("instancesSet")
        .and_then(|v| v.get("items"))
        .and_then(|v| v.get(0))
        .and_then(|v| v.get("instanceId"))
    {
        return ids.as_str().map(str::to_string);
    }
    None
}

/// A string member's value from its raw span: decoded when escaped; `None` when not a string.
fn raw_string<'e>(ev: &Event<'e>, (s, e): (usize, usize)) -> Option<std::borrow::Cow<'e, str>> {
    if let Some(t) = ev.plain_str((s, e)) {
        return Some(t.into());
    }
    let v = &ev.raw()[s..e];
    if v.len() < 2 || v[0] != b'"' {
        return None;
    }
    serde_json::from_slice::<String>(v).ok().map(Into::into)
}

/// Member `key` of the object at `obj` as a string (`Some(None)`: absent or not a string);
/// `None` when the object cannot be walked from the raw bytes.
fn raw_member_str<'e>(
    ev: &Event<'e>,
    obj: usize,
    key: &str,
) -> Option<Option<std::borrow::Cow<'e, str>>> {
    let span = ev.member_of(obj, key).ok()?;
    Some(span.and_then(|sp| raw_string(ev, sp)))
}

/// The reader's slot for `userIdentity.accountId`.
const ACCOUNT_ID_SLOT: u8 = 3;

/// (principal, resource) as read from an event's bytes: borrowed from the event unless
/// escaped or composed.
pub(crate) type GroupOfRaw<'e> = (
    Option<std::borrow::Cow<'e, str>>,
    Option<std::borrow::Cow<'e, str>>,
);

/// [`principal_of`] and [`resource_of`] read from the raw bytes, without building values:
/// the aggregation key of an alert. `None` when the raw walk cannot answer (use a document).
pub(crate) fn group_of_raw<'e>(ev: &Event<'e>) -> Option<GroupOfRaw<'e>> {
    if !ev.has_member_index() {
        return None;
    }
    let raw = ev.raw();
    // where the member's object starts; a member that is not an object (`null`, a string …)
    // names no principal or resource, as if absent
    let object_at = |key: &str| -> Option<Option<usize>> {
        match ev.member(key) {
            Some((s, _)) if raw[s] == b'{' => Some(Some(s)),
            _ => Some(None),
        }
    };
    let principal = match object_at("userIdentity")? {
        None => None,
        Some(ui) => {
            if let Some(arn) = raw_member_str(ev, ui, "arn")? {
                Some(arn)
            } else {
                let ty = raw_member_str(ev, ui, "type")?.unwrap_or_default();
                if let Some(p) = raw_member_str(ev, ui, "principalId")? {
                    Some(format!("{ty}:{p}").into())
                } else {
                    raw_member_str(ev, ui, "userName")?.or_else(|| (!ty.is_empty()).then_some(ty))
                }
            }
        }
    };
    let resource = match object_at("requestParameters")? {
        None => None,
        Some(rp) => 'found: {
            // one pass over the members: per resource key, its last occurrence (as a document
            // keeps it); then the first key, in RESOURCE_KEYS order, whose value is a string
            let mut last = [None; RESOURCE_KEYS.len()];
            ev.with_members_of(rp, |members| {
                for m in members {
                    if let Some(k) = resource_key_index(m.key) {
                        last[k] = Some(m.value);
                    }
                }
            })
            .ok()?;
            for span in last.into_iter().flatten() {
                if let Some(v) = raw_string(ev, span) {
                    break 'found Some(v);
                }
            }
            // instancesSet.items[0].instanceId
            let Some((s, _)) = ev.member_of(rp, "instancesSet").ok()? else {
                break 'found None;
            };
            if raw[s] != b'{' {
                break 'found None;
            }
            let Some((s, _)) = ev.member_of(s, "items").ok()? else {
                break 'found None;
            };
            if raw[s] != b'[' {
                break 'found None;
            }
            let mut first = None;
            rampart_trail::scan::elements(raw, s, |a, b| {
                if first.is_none() {
                    first = Some((a, b));
                }
            })
            .ok()?;
            match first {
                Some((a, _)) if raw[a] == b'{' => raw_member_str(ev, a, "instanceId")?,
                _ => None,
            }
        }
    };
    Some((principal, resource))
}

/// Writes the matched object of a rule's `reported` fields (in key order) to `buf`: each
/// field's value from the typed header, else from its raw spans, else from `base` (a narrow
/// view or the document); absent fields are left out. The text is the one `serde_json` writes
/// for the `Map` of those values.
fn write_matched<'d>(
    buf: &mut String,
    reported: &[(crate::ir::FieldPath, String)],
    ev: &Event<'_>,
    base: &dyn Fn() -> Option<&'d Value>,
) {
    let h = ev.header();
    buf.push('{');
    let mut first = true;
    for (f, key) in reported {
        let at = buf.len();
        if !first {
            buf.push(',');
        }
        buf.push_str(key);
        let written = if let Some(i) = f.header_index() {
            match h.get_index(i) {
                Some(v) => {
                    push_json_str(buf, v);
                    true
                }
                None => false,
            }
        } else {
            let raw = if ev.doc_if_built().is_none() {
                crate::engine::resolve_raw_spans(f, ev)
            } else {
                None
            };
            let value_at = buf.len();
            let from_raw = raw.and_then(|spans| match spans.as_slice() {
                [] => Some(false),
                [one] => push_raw_value(buf, ev, *one).then_some(true),
                many => {
                    buf.push('[');
                    for (k, &span) in many.iter().enumerate() {
                        if k > 0 {
                            buf.push(',');
                        }
                        if !push_raw_value(buf, ev, span) {
                            return None;
                        }
                    }
                    buf.push(']');
                    Some(true)
                }
            });
            match from_raw {
                Some(w) => w,
                None => {
                    buf.truncate(value_at);
                    match base().and_then(|d| resolve_value(f, d)) {
                        Some(v) => {
                            push_json_value(buf, &v);
                            true
                        }
                        None => false,
                    }
                }
            }
        };
        if written {
            first = false;
        } else {
            buf.truncate(at);
        }
    }
    buf.push('}');
}

impl Alert {
    /// Build the alert for `rule` matching `ev`, with the rule's text for the call's outcome
    /// (a rule silent on failures gets its success text here: the caller asked for an alert;
    /// the detector never asks for it).
    pub fn new(rule: &Rule, ev: &Event<'_>, origin: Option<String>) -> Alert {
        let outcome = outcome_of(ev);
        let text = Arc::new(RuleText::of(rule));
        let text = text.for_outcome(outcome).unwrap_or(&text).clone();
        Alert::build(rule, &text, ev, origin, None, outcome, &mut String::new())
    }

    /// [`Alert::new`] with the aggregation key already read from the raw bytes
    /// ([`group_of_raw`]): then an alert whose tested fields can be read from raw spans parses
    /// no sub-document at all. The matched object is written to `scratch` (the caller's, kept
    /// between alerts) and then copied once into the alert's buffer. `text` is the rule's text
    /// for `outcome` ([`RuleText::for_outcome`]).
    pub(crate) fn build(
        rule: &Rule,
        text: &Arc<RuleText>,
        ev: &Event<'_>,
        origin: Option<String>,
        group: Option<&GroupOfRaw<'_>>,
        outcome: Outcome,
        scratch: &mut String,
    ) -> Alert {
        let h = ev.header();
        // Built only when needed: the document if a rule already built it, otherwise only the
        // members an alert reads, so most alerts never pay for a full document.
        let narrow: std::cell::OnceCell<Option<Value>> = std::cell::OnceCell::new();
        let base = || -> Option<&Value> {
            if let Some(d) = ev.doc_if_built() {
                return Some(d);
            }
            narrow
                .get_or_init(|| {
                    let mut keys: SmallVec<[&str; 8]> = SmallVec::new();
                    keys.extend(["userIdentity", "requestParameters"]);
                    tested_top_keys(&rule.condition, &mut keys);
                    narrow_view(ev, &keys)
                })
                .as_ref()
                .or_else(|| ev.doc())
        };
        type Text<'t> = Option<std::borrow::Cow<'t, str>>;
        let (principal, resource): (Text<'_>, Text<'_>) = match group {
            Some((p, r)) => (p.as_deref().map(Into::into), r.as_deref().map(Into::into)),
            None => (
                base().and_then(principal_of).map(Into::into),
                base().and_then(resource_of).map(Into::into),
            ),
        };
        // the recipient account, else the caller's (read from the raw members when it can be)
        let account: Option<std::borrow::Cow<'_, str>> = match h.recipient_account_id.as_deref() {
            Some(a) => Some(a.into()),
            None => match ev.identity_member_at(ACCOUNT_ID_SLOT) {
                Some(m) => m.and_then(|m| raw_string(ev, m.value)),
                None => base()
                    .and_then(|d| d.pointer("/userIdentity/accountId"))
                    .and_then(Value::as_str)
                    .map(Into::into),
            },
        };
        let values = [
            h.event_id.as_deref(),
            h.event_time.as_deref(),
            h.event_source.as_deref(),
            h.event_name.as_deref(),
            account.as_deref(),
            h.aws_region.as_deref(),
            principal.as_deref(),
            h.source_ip_address.as_deref(),
            h.user_agent.as_deref(),
            resource.as_deref(),
            h.error_code.as_deref(),
        ];
        scratch.clear();
        write_matched(scratch, &text.reported, ev, &base);
        if text.judged
            && let Some(doc) = ev.doc()
        {
            // what the rule's judges found (rare alerts: re-judged here, not kept per event)
            let mut m: serde_json::Map<String, Value> =
                serde_json::from_str(scratch).unwrap_or_default();
            crate::engine::add_judgements(&rule.condition, doc, &mut m);
            *scratch = serde_json::to_string(&m).unwrap_or_else(|_| "{}".into());
        }
        let text_out = EventText::new(values, scratch);
        Alert {
            rule: text.clone(),
            text: text_out,
            outcome,
            count: 1,
            folded_ids: Vec::new(),
            first_seen: None,
            last_seen: None,
            origin,
        }
    }

    /// An alert read back from its JSON Lines record (`rampart.alert/v1`), as another engine
    /// wrote it (the Spark job of `rampart hunt`), so it can go through the same sinks. The
    /// record's fields are taken as written; an unknown schema, source, severity or outcome
    /// is an error naming the field.
    pub fn from_record(v: &Value) -> Result<Alert, String> {
        let s = |k: &str| v.get(k).and_then(Value::as_str);
        if s("schema") != Some(SCHEMA) {
            return Err(format!("not a {SCHEMA} record (schema {:?})", s("schema")));
        }
        let need = |k: &str| s(k).ok_or_else(|| format!("{SCHEMA} record without `{k}`"));
        let source = need("rule_source").and_then(|s| {
            RuleSource::parse(s).ok_or_else(|| format!("unknown rule_source `{s}`"))
        })?;
        let severity = Severity::parse(need("severity")?)
            .ok_or_else(|| format!("unknown severity {:?}", s("severity")))?;
        let outcome = match s("outcome") {
            Some("failure") => Outcome::Failure,
            Some("success") | None => Outcome::Success,
            Some(other) => return Err(format!("unknown outcome `{other}`")),
        };
        let strings = |k: &str| -> Vec<String> {
            v.get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let rule = Arc::new(RuleText {
            id: need("rule_id")?.to_string(),
            source,
            title: need("title")?.to_string(),
            severity,
            attack: strings("attack"),
            author: s("author").map(str::to_string),
            license: s("license").map(str::to_string),
            reported: Vec::new(),
            judged: false,
            on_failure: FailureText::Same,
        });
        let matched = match v.get("matched") {
            Some(m @ Value::Object(_)) => m.to_string(),
            _ => "{}".to_string(),
        };
        let values = [
            s("event_id"),
            s("event_time"),
            s("event_source"),
            s("event_name"),
            s("account"),
            s("region"),
            s("principal"),
            s("source_ip"),
            s("user_agent"),
            s("resource"),
            s("error_code"),
        ];
        let mut folded_ids = strings("event_ids");
        if s("event_id").is_some() && !folded_ids.is_empty() {
            folded_ids.remove(0);
        }
        let mut a = Alert {
            rule,
            text: EventText::new(values, &matched),
            outcome,
            count: v.get("count").and_then(Value::as_u64).unwrap_or(1),
            folded_ids,
            first_seen: None,
            last_seen: None,
            origin: s("origin").map(str::to_string),
        };
        if s("first_seen") != s("event_time") {
            set_time(&mut a.first_seen, s("first_seen"));
        }
        if s("last_seen") != s("event_time") {
            set_time(&mut a.last_seen, s("last_seen"));
        }
        Ok(a)
    }

    /// This alert's stable identity (`rampart alerts ack ID`, `rampart respond ID`): see
    /// [`alert_id`]. The same alert read back from JSON Lines or the store has the same id.
    pub fn id(&self) -> String {
        alert_id(
            &self.rule.source.to_string(),
            &self.rule.id,
            self.event_id(),
            self.account(),
        )
    }

    pub fn rule_id(&self) -> &str {
        &self.rule.id
    }
    pub fn rule_source(&self) -> RuleSource {
        self.rule.source
    }
    pub fn title(&self) -> &str {
        &self.rule.title
    }
    pub fn severity(&self) -> Severity {
        self.rule.severity
    }
    /// MITRE ATT&CK technique ids.
    pub fn attack(&self) -> &[String] {
        &self.rule.attack
    }
    /// Rule author (credited for Sigma rules, DRL 1.1).
    pub fn author(&self) -> Option<&str> {
        self.rule.author.as_deref()
    }
    pub fn license(&self) -> Option<&str> {
        self.rule.license.as_deref()
    }

    /// Fields the rule tested, with their values in the event.
    pub fn matched(&self) -> Matched<'_> {
        Matched(self.text.get(EventText::MATCHED).unwrap_or("{}"))
    }

    /// Adds (or replaces) one matched field.
    pub fn set_matched(&mut self, key: &str, value: Value) {
        let mut m = self.matched().to_map();
        m.insert(key.to_string(), value);
        let json = serde_json::to_string(&m).unwrap_or_else(|_| "{}".into());
        self.text.set_matched(&json);
    }

    /// Replaces the matched object with `m` (an alert a stateful detector summarises).
    pub(crate) fn replace_matched(&mut self, m: &serde_json::Map<String, Value>) {
        let json = serde_json::to_string(m).unwrap_or_else(|_| "{}".into());
        self.text.set_matched(&json);
    }

    /// This alert's event fields under `rule` (a stateful detector's alert takes the fields of
    /// the event that decided it).
    pub(crate) fn with_rule(&self, rule: &Rule) -> Alert {
        Alert {
            rule: Arc::new(RuleText::of(rule)),
            ..self.clone()
        }
    }

    /// The first and last event times this alert stands for.
    pub(crate) fn set_span(&mut self, first: &str, last: &str) {
        set_time(&mut self.first_seen, Some(first));
        set_time(&mut self.last_seen, Some(last));
    }

    /// The record written for this alert (JSON Lines).
    pub fn record(&self) -> AlertRecord<'_> {
        AlertRecord {
            schema: SCHEMA,
            rule_id: &self.rule.id,
            rule_source: self.rule.source,
            title: &self.rule.title,
            severity: self.rule.severity,
            attack: &self.rule.attack,
            event_id: self.event_id(),
            event_time: self.event_time(),
            event_source: self.event_source(),
            event_name: self.event_name(),
            account: self.account(),
            region: self.region(),
            principal: self.principal(),
            source_ip: self.source_ip(),
            user_agent: self.user_agent(),
            resource: self.resource(),
            matched: self.matched(),
            author: self.author(),
            license: self.license(),
            count: self.count,
            first_seen: self.first_seen(),
            last_seen: self.last_seen(),
            origin: self.origin.as_deref(),
            outcome: self.outcome,
            error_code: self.error_code(),
            event_ids: self.event_ids(),
        }
    }

    /// Whether the call succeeded (an aggregated alert folds only calls of one outcome).
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// The ids of the events it stands for, first ones first (at most [`MAX_EVENT_IDS`]).
    pub fn event_ids(&self) -> EventIds<'_> {
        EventIds {
            first: self.event_id(),
            folded: &self.folded_ids,
        }
    }

    event_text! {
        event_id => EVENT_ID,
        event_time => EVENT_TIME,
        event_source => EVENT_SOURCE,
        event_name => EVENT_NAME,
        account => ACCOUNT,
        region => REGION,
        principal => PRINCIPAL,
        source_ip => SOURCE_IP,
        user_agent => USER_AGENT,
        /// The main resource acted on (bucket, trail, user, role, …) when the request names one.
        resource => RESOURCE,
        /// CloudTrail's `errorCode` when the call failed with one.
        error_code => ERROR_CODE,
    }

    /// Time of the first aggregated event.
    pub fn first_seen(&self) -> Option<&str> {
        self.first_seen.as_deref().or_else(|| self.event_time())
    }
    /// Time of the last aggregated event.
    pub fn last_seen(&self) -> Option<&str> {
        self.last_seen.as_deref().or_else(|| self.event_time())
    }

    /// Count one more event, with id `id` and time `t`, into this alert's group.
    fn merge_event(&mut self, id: Option<&str>, t: Option<&str>) {
        if let Some(id) = id
            && self.folded_ids.len() + 1 < MAX_EVENT_IDS
        {
            self.folded_ids.push(id.to_string());
        }
        self.count += 1;
        if t > self.last_seen() {
            set_time(&mut self.last_seen, t);
        }
        if t < self.first_seen() {
            set_time(&mut self.first_seen, t);
        }
    }

    /// Folds `other`, an alert of the same group, into this one.
    fn merge_alert(&mut self, other: &Alert) {
        for id in other.event_ids().iter() {
            if self.folded_ids.len() + 1 < MAX_EVENT_IDS {
                self.folded_ids.push(id.to_string());
            }
        }
        self.count += other.count;
        if other.last_seen() > self.last_seen() {
            set_time(&mut self.last_seen, other.last_seen());
        }
        if other.first_seen() < self.first_seen() {
            set_time(&mut self.first_seen, other.first_seen());
        }
    }

    /// One JSON Lines record.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// OCSF 1.1 Detection Finding (class_uid 2004). `status_id` is the finding's own status
    /// (New); the API call's outcome is the `api.response` of the call: `error` carries the
    /// error code of a failed call (`Failure` for a failed console sign-in, which has none),
    /// absent on success; `unmapped.outcome` says `success` or `failure`. The folded events'
    /// ids are `finding_info.related_events`.
    pub fn to_ocsf(&self) -> Value {
        let time = self.event_time().and_then(parse_time).map(|t| t * 1000);
        let first = self.first_seen().and_then(parse_time).map(|t| t * 1000);
        let last = self.last_seen().and_then(parse_time).map(|t| t * 1000);
        json!({
            "class_uid": 2004,
            "class_name": "Detection Finding",
            "category_uid": 2,
            "category_name": "Findings",
            "activity_id": 1,
            "activity_name": "Create",
            "type_uid": 200401,
            "severity_id": self.severity().ocsf_id(),
            "severity": capitalise(self.severity().as_str()),
            "status_id": 1,
            "status": "New",
            "time": time,
            "count": self.count,
            "message": format!("{} ({})", self.title(), self.rule_id()),
            "metadata": {
                "version": "1.1.0",
                "product": {"name": "rampart", "vendor_name": "rampart", "version": env!("CARGO_PKG_VERSION")},
                "uid": self.event_id(),
            },
            "finding_info": {
                "uid": format!("{}:{}", self.rule_id(), self.event_id().unwrap_or("")),
                "title": self.title(),
                "analytic": {"uid": self.rule_id(), "name": self.title(), "type_id": 1, "type": "Rule", "category": self.rule_source().to_string()},
                "attacks": self.attack().iter().map(|t| json!({"technique": {"uid": t}})).collect::<Vec<_>>(),
                "first_seen_time": first,
                "last_seen_time": last,
                "related_events": self.event_ids().iter().map(|id| json!({"uid": id})).collect::<Vec<_>>(),
                "src_url": Value::Null,
            },
            "cloud": {"provider": "AWS", "region": self.region(), "account": {"uid": self.account()}},
            "actor": {"user": {"uid": self.principal()}},
            "src_endpoint": {"ip": self.source_ip(), "svc_name": Value::Null},
            "api": self.ocsf_api(),
            "resources": self.resource().map(|r| vec![json!({"uid": r})]).unwrap_or_default(),
            "evidences": [{"data": self.matched().to_map()}],
            "unmapped": {"author": self.author(), "license": self.license(), "origin": self.origin, "outcome": self.outcome},
        })
    }

    /// OCSF `api`: the operation, its service and, for a failed call, its response's error.
    fn ocsf_api(&self) -> Value {
        let mut api =
            json!({"operation": self.event_name(), "service": {"name": self.event_source()}});
        if self.outcome == Outcome::Failure {
            api["response"] = json!({"error": self.error_code().unwrap_or("Failure")});
        }
        api
    }

    /// How the call ended, for people: `None` on success, else the error code or `failed`.
    fn failure_note(&self) -> Option<&str> {
        (self.outcome == Outcome::Failure).then(|| self.error_code().unwrap_or("failed"))
    }

    /// The short text used by chat sinks; no secrets, one line.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "[{}] {} ({})",
            self.severity().as_str().to_uppercase(),
            self.title(),
            self.rule_id()
        );
        if let Some(p) = self.principal() {
            s.push_str(&format!(" by {p}"));
        }
        if let Some(e) = self.event_name() {
            s.push_str(&format!(": {e}"));
        }
        if let Some(f) = self.failure_note() {
            s.push_str(&format!(" ({f})"));
        }
        if let Some(r) = self.resource() {
            s.push_str(&format!(" on {r}"));
        }
        if let (Some(a), Some(r)) = (self.account(), self.region()) {
            s.push_str(&format!(" in {a}/{r}"));
        }
        if self.count > 1 {
            s.push_str(&format!(" ×{}", self.count));
        }
        if let (RuleSource::Sigma, Some(a)) = (self.rule_source(), self.author()) {
            s.push_str(&format!(" — Sigma rule by {a}"));
        }
        s
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// Render alerts as a fixed-width table (for terminals).
pub fn table(alerts: &[Alert]) -> String {
    let rows: Vec<[String; 7]> = alerts
        .iter()
        .map(|a| {
            [
                a.event_time().unwrap_or_default().to_string(),
                a.severity().as_str().to_string(),
                a.rule_id().to_string(),
                a.title().to_string(),
                a.principal().unwrap_or("-").to_string(),
                match a.failure_note() {
                    Some(f) => format!("{} ({f})", a.event_name().unwrap_or_default()),
                    None => a.event_name().unwrap_or_default().to_string(),
                },
                a.count.to_string(),
            ]
        })
        .collect();
    let head = [
        "TIME",
        "SEVERITY",
        "RULE",
        "TITLE",
        "PRINCIPAL",
        "EVENT",
        "COUNT",
    ];
    let mut w: Vec<usize> = head.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count().min(60));
        }
    }
    let mut out = String::new();
    let line = |cells: &[&str], out: &mut String| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let c: String = c.chars().take(60).collect();
                format!("{c:<width$}", width = w[i])
            })
            .collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(&head, &mut out);
    for r in &rows {
        line(&r.iter().map(String::as_str).collect::<Vec<_>>(), &mut out);
    }
    out
}

pub use rampart_trail::time::parse_time;

/// Overwrites a group's first or last event time in place (times have one length, so the
/// buffer is reused instead of allocating per merged event).
fn set_time(slot: &mut Option<String>, t: Option<&str>) {
    match (slot.as_mut(), t) {
        (Some(s), Some(t)) => {
            s.clear();
            s.push_str(t);
        }
        _ => *slot = t.map(str::to_string),
    }
}

/// An aggregation key, borrowed from an alert or an event: the rule, the outcome, the event
/// name, the principal and the resource. The outcome keeps failed attempts out of a group of
/// successes; the event name keeps a graver call (`DeleteTrail`) out of the group of a milder
/// one (`StopLogging`) of the same rule, so every API a rule covers is reported on its own.
#[derive(Hash, PartialEq, Eq, Clone, Copy)]
pub(crate) struct GroupKey<'a> {
    pub rule_id: &'a str,
    pub outcome: Outcome,
    pub event_name: Option<&'a str>,
    pub principal: Option<&'a str>,
    pub resource: Option<&'a str>,
}

impl<'a> GroupKey<'a> {
    fn of(a: &'a Alert) -> GroupKey<'a> {
        GroupKey {
            rule_id: a.rule_id(),
            outcome: a.outcome,
            event_name: a.event_name(),
            principal: a.principal(),
            resource: a.resource(),
        }
    }
}

/// An open group: the first alert (holding the count and first/last times), its sequence
/// number (age), its start (epoch seconds) and the hash of its key.
struct Group {
    hash: u64,
    seq: u64,
    start: i64,
    /// When it opened, in a streaming aggregator (see [`Aggregator::streaming`]).
    opened: Option<std::time::Instant>,
    alert: Alert,
}

/// Folds repeats of one [`GroupKey`] (rule, outcome, event name, principal, resource) within
/// `window` seconds of event time into one alert with a count and the first event ids. Memory is bounded: at most `max_open` groups are held; when the bound is
/// reached the oldest tenth of them (at least one) is emitted.
///
/// Groups live in a slab; the hash table holds only (key hash, slot) pairs, so a lookup probes
/// a small table and reads a group's alert only when the hashes agree (no key is copied).
/// A queue keeps the slots in the order their groups opened, so the oldest are found without
/// a search of all of them.
pub struct Aggregator {
    window: i64,
    max_open: usize,
    index: hashbrown::HashTable<(u64, u32)>,
    groups: Vec<Option<Group>>,
    /// Empty slots of `groups`.
    free: Vec<u32>,
    /// (seq, slot) per opened group, oldest first; an entry whose slot no longer holds that
    /// group (closed since) is skipped, and such entries are dropped once they are half the
    /// queue.
    order: std::collections::VecDeque<(u64, u32)>,
    open: usize,
    hasher: hashbrown::DefaultHashBuilder,
    seq: u64,
    streaming: bool,
}

impl Aggregator {
    /// `window` 0 disables aggregation (every alert is emitted at once).
    pub fn new(window_secs: u64, max_open: usize) -> Aggregator {
        Aggregator {
            window: window_secs as i64,
            max_open: max_open.max(1),
            index: hashbrown::HashTable::new(),
            groups: Vec::new(),
            free: Vec::new(),
            order: std::collections::VecDeque::new(),
            open: 0,
            hasher: hashbrown::DefaultHashBuilder::default(),
            seq: 0,
            streaming: false,
        }
    }

    /// For a live stream (`--follow`): a group's first alert is emitted at once (count 1), and
    /// when the group closes its alert is emitted again only if repeats were folded into it
    /// (with the total count and first/last times). [`Aggregator::expire`] closes groups a
    /// window after they opened, in wall-clock time, so a quiet stream still reports.
    pub fn streaming(mut self) -> Aggregator {
        self.streaming = true;
        self
    }

    /// A closed group's alert, unless a streaming aggregator already emitted all it holds.
    fn emit_closed(&self, a: Alert, out: &mut Vec<Alert>) {
        if !self.streaming || a.count > 1 {
            out.push(a);
        }
    }

    /// Closes the groups of a streaming aggregator that opened a window or more before `now`.
    pub fn expire(&mut self, now: std::time::Instant, out: &mut Vec<Alert>) {
        let window = std::time::Duration::from_secs(self.window.max(0) as u64);
        while let Some(&(seq, slot)) = self.order.front() {
            let Some(g) = self.groups[slot as usize].as_ref().filter(|g| g.seq == seq) else {
                self.order.pop_front();
                continue;
            };
            if g.opened.is_none_or(|t| now.duration_since(t) < window) {
                break;
            }
            self.order.pop_front();
            let a = self.close(slot);
            self.emit_closed(a, out);
        }
    }

    /// The window it was made with.
    pub fn window_secs(&self) -> u64 {
        self.window as u64
    }

    fn hash(&self, key: GroupKey<'_>) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(key)
    }

    /// The slot of the open group with `key` (whose hash is `hash`).
    fn find(&self, hash: u64, key: GroupKey<'_>) -> Option<u32> {
        let groups = &self.groups;
        self.index
            .find(hash, |&(h, slot)| {
                h == hash
                    && groups[slot as usize]
                        .as_ref()
                        .is_some_and(|g| GroupKey::of(&g.alert) == key)
            })
            .map(|&(_, slot)| slot)
    }

    /// Count one more event (id `event_id`) into the open group of `key` when its window still
    /// covers the event's time `t` (epoch seconds of `event_time`; 0 when absent or
    /// unreadable), exactly as [`Aggregator::push`] would merge an alert with those values;
    /// false when the alert must be built and pushed. Lets the detector skip building an alert
    /// that would only raise a count (and parse an event's time once for all its rules).
    pub(crate) fn merge_at(
        &mut self,
        key: GroupKey<'_>,
        event_id: Option<&str>,
        event_time: Option<&str>,
        t: i64,
    ) -> bool {
        if self.window == 0 {
            return false;
        }
        let Some(slot) = self.find(self.hash(key), key) else {
            return false;
        };
        let Some(g) = self.groups[slot as usize].as_mut() else {
            return false;
        };
        if (t - g.start).abs() > self.window {
            return false;
        }
        g.alert.merge_event(event_id, event_time);
        true
    }

    /// Add an alert; completed alerts are pushed to `out`.
    pub fn push(&mut self, a: Alert, out: &mut Vec<Alert>) {
        if self.window == 0 {
            out.push(a);
            return;
        }
        let t = a.event_time().and_then(parse_time).unwrap_or(0);
        let hash = self.hash(GroupKey::of(&a));
        if let Some(slot) = self.find(hash, GroupKey::of(&a)) {
            let g = self.groups[slot as usize]
                .as_mut()
                .expect("an indexed slot holds a group");
            if (t - g.start).abs() <= self.window {
                g.alert.merge_alert(&a);
                return;
            }
            let closed = self.close(slot);
            self.emit_closed(closed, out);
        }
        if self.open >= self.max_open {
            self.evict_oldest(out);
        }
        self.seq += 1;
        let opened = self.streaming.then(|| {
            out.push(a.clone());
            std::time::Instant::now()
        });
        let group = Group {
            hash,
            seq: self.seq,
            start: t,
            opened,
            alert: a,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.groups[slot as usize] = Some(group);
                slot
            }
            None => {
                self.groups.push(Some(group));
                (self.groups.len() - 1) as u32
            }
        };
        self.index.insert_unique(hash, (hash, slot), |&(h, _)| h);
        self.order.push_back((self.seq, slot));
        self.open += 1;
        if self.order.len() > 2 * self.open + 16 {
            let groups = &self.groups;
            self.order.retain(|&(seq, slot)| {
                groups[slot as usize].as_ref().is_some_and(|g| g.seq == seq)
            });
        }
    }

    /// Removes the group in `slot` and returns its alert.
    fn close(&mut self, slot: u32) -> Alert {
        let g = self.groups[slot as usize]
            .take()
            .expect("an open group's slot holds it");
        if let Ok(entry) = self.index.find_entry(g.hash, |&(_, s)| s == slot) {
            entry.remove();
        }
        self.free.push(slot);
        self.open -= 1;
        g.alert
    }

    /// Emits the oldest tenth of the open groups (at least one), oldest first.
    fn evict_oldest(&mut self, out: &mut Vec<Alert>) {
        let mut n = (self.max_open / 10).clamp(1, self.open);
        while n > 0 {
            let Some((seq, slot)) = self.order.pop_front() else {
                break;
            };
            if self.groups[slot as usize]
                .as_ref()
                .is_some_and(|g| g.seq == seq)
            {
                let a = self.close(slot);
                self.emit_closed(a, out);
                n -= 1;
            }
        }
    }

    /// Emit every open group, oldest first.
    pub fn flush(&mut self, out: &mut Vec<Alert>) {
        while let Some((seq, slot)) = self.order.pop_front() {
            if self.groups[slot as usize]
                .as_ref()
                .is_some_and(|g| g.seq == seq)
            {
                let a = self.close(slot);
                self.emit_closed(a, out);
            }
        }
        debug_assert_eq!(self.open, 0);
        self.index.clear();
        self.groups.clear();
        self.free.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Condition, RuleMeta};

    fn alert_for(time: &str, user: &str) -> Alert {
        let rule = Rule::new(
            RuleMeta {
                attack: vec!["T1562.008".into()],
                ..RuleMeta::new("RD-X", RuleSource::Builtin, "Trail stopped", Severity::High)
            },
            Condition::eq("eventName", "StopLogging"),
        );
        let raw = serde_json::to_vec(&json!({"eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com","eventTime":time,
            "eventID":"e1","awsRegion":"eu-west-1","recipientAccountId":"111122223333","sourceIPAddress":"1.2.3.4",
            "userIdentity":{"type":"IAMUser","arn":format!("arn:aws:iam::111122223333:user/{user}")},"requestParameters":{"name":"t"}}))
        .unwrap();
        Alert::new(&rule, &Event::parse(&raw).unwrap(), Some("f.json:1".into()))
    }

    /// The JSON Lines record keeps the documented field order.
    #[test]
    fn record_fields_in_schema_order() {
        let line = alert_for("2024-07-31T13:06:24Z", "bob").to_json_line();
        let order = [
            "schema",
            "rule_id",
            "rule_source",
            "title",
            "severity",
            "attack",
            "event_id",
            "event_time",
            "event_source",
            "event_name",
            "account",
            "region",
            "principal",
            "source_ip",
            "user_agent",
            "resource",
            "matched",
            "author",
            "license",
            "count",
            "first_seen",
            "last_seen",
            "origin",
            "outcome",
            "error_code",
            "event_ids",
        ];
        let at: Vec<usize> = order
            .iter()
            .map(|k| {
                line.find(&format!("\"{k}\":"))
                    .unwrap_or_else(|| panic!("{k} in {line}"))
            })
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{line}");
    }

    /// A record read back (as `rampart hunt` reads the Spark job's) writes the same line.
    #[test]
    fn records_read_back_write_the_same_line() {
        let line = alert_for("2024-07-31T13:06:24Z", "bob").to_json_line();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(Alert::from_record(&v).unwrap().to_json_line(), line);
        let mut bad = v.clone();
        bad["severity"] = json!("urgent");
        assert!(Alert::from_record(&bad).unwrap_err().contains("severity"));
        assert!(Alert::from_record(&json!({"schema": "x"})).is_err());
    }

    proptest::proptest! {
        /// The packed event strings read back as written, present or absent, in any mix.
        #[test]
        fn event_text_reads_back_what_it_packed(
            values in proptest::collection::vec(proptest::option::of("[a-zé/:]{0,6}"), EventText::MATCHED),
        ) {
            let arr: [Option<&str>; EventText::MATCHED] = std::array::from_fn(|i| values[i].as_deref());
            let t = EventText::new(arr, "{}");
            for (i, v) in values.iter().enumerate() {
                proptest::prop_assert_eq!(t.get(i), v.as_deref());
            }
            proptest::prop_assert_eq!(t.get(EventText::MATCHED), Some("{}"));
        }

        /// Strings are escaped exactly as `serde_json` escapes them.
        #[test]
        fn json_strings_are_written_as_serde_json_writes_them(s in "(?s).{0,12}") {
            let mut out = String::new();
            push_json_str(&mut out, &s);
            proptest::prop_assert_eq!(out, serde_json::to_string(&s).unwrap());
        }
    }

    #[test]
    fn schema_fields() {
        let a = alert_for("2024-07-31T13:06:24Z", "bob");
        let v: Value = serde_json::from_str(&a.to_json_line()).unwrap();
        assert_eq!(v["schema"], SCHEMA);
        assert_eq!(v["rule_id"], "RD-X");
        assert_eq!(v["rule_source"], "builtin");
        assert_eq!(v["severity"], "high");
        assert_eq!(v["principal"], "arn:aws:iam::111122223333:user/bob");
        assert_eq!(v["resource"], "t");
        assert_eq!(v["matched"]["eventName"], "StopLogging");
        assert_eq!(v["count"], 1);
        let o = a.to_ocsf();
        assert_eq!(o["class_uid"], 2004);
        assert_eq!(o["type_uid"], 200401);
        assert_eq!(o["severity_id"], 4);
        assert_eq!(o["time"], 1722431184000i64);
        assert_eq!(
            o["finding_info"]["attacks"][0]["technique"]["uid"],
            "T1562.008"
        );
        assert!(table(&[a]).lines().nth(1).unwrap().contains("RD-X"));
    }

    fn event(extra: Value) -> Vec<u8> {
        let mut e = json!({"eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com",
            "eventTime":"2024-07-31T13:00:00Z","eventID":"e1","awsRegion":"eu-west-1",
            "userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob"},
            "requestParameters":{"name":"t"}});
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        serde_json::to_vec(&e).unwrap()
    }

    /// A call failed when it has an error code, or is a console sign-in answered `Failure`;
    /// read from the raw bytes and from a document alike.
    #[test]
    fn outcome_of_failed_calls_and_sign_ins() {
        let cases = [
            (json!({}), Outcome::Success),
            (json!({"errorCode": "AccessDenied"}), Outcome::Failure),
            (
                json!({"errorCode": "Client.UnauthorizedOperation"}),
                Outcome::Failure,
            ),
            (
                json!({"errorCode": "TrailNotFoundException"}),
                Outcome::Failure,
            ),
            (
                json!({"eventName": "ConsoleLogin", "responseElements": {"ConsoleLogin": "Failure"}}),
                Outcome::Failure,
            ),
            (
                json!({"eventName": "ConsoleLogin", "responseElements": {"ConsoleLogin": "Success"}}),
                Outcome::Success,
            ),
            (
                json!({"eventName": "ConsoleLogin", "responseElements": null}),
                Outcome::Success,
            ),
            (
                json!({"eventName": "ConsoleLogin", "responseElements": {"ConsoleLogin": "ESCAPED"}}),
                Outcome::Failure,
            ),
            // only a console sign-in's response says failure this way
            (
                json!({"responseElements": {"ConsoleLogin": "Failure"}}),
                Outcome::Success,
            ),
        ];
        for (extra, want) in cases {
            let raw = event(extra.clone());
            let raw = String::from_utf8(raw)
                .unwrap()
                .replace("ESCAPED", "Fail\\u0075re");
            let ev = Event::parse(raw.as_bytes()).unwrap();
            assert_eq!(outcome_of(&ev), want, "{raw}");
            let doc: Value = serde_json::from_str(&raw).unwrap();
            assert_eq!(
                outcome_of(&Event::from_value(raw.as_bytes(), doc)),
                want,
                "{raw}"
            );
        }
    }

    fn rule_with(on_failure: OnFailure) -> Rule {
        Rule::new(
            RuleMeta {
                on_failure,
                ..RuleMeta::new(
                    "RD-X",
                    RuleSource::Builtin,
                    "Trail stopped",
                    Severity::Critical,
                )
            },
            Condition::eq("eventName", "StopLogging"),
        )
    }

    /// A failed call's alert carries `outcome` and `error_code` in JSON and OCSF; an attempt
    /// rule words it "Attempted" at a lower severity, a reporting rule keeps its title.
    #[test]
    fn failed_calls_are_reported_as_such() {
        let raw = event(json!({"errorCode": "AccessDenied"}));
        let ev = Event::parse(&raw).unwrap();
        let a = Alert::new(&rule_with(OnFailure::Attempt { lower: 1 }), &ev, None);
        let v: Value = serde_json::from_str(&a.to_json_line()).unwrap();
        assert_eq!(v["outcome"], "failure");
        assert_eq!(v["error_code"], "AccessDenied");
        assert_eq!(v["title"], format!("{ATTEMPT_PREFIX}Trail stopped"));
        assert_eq!(v["severity"], "high");
        assert_eq!(v["event_ids"], json!(["e1"]));
        let o = a.to_ocsf();
        assert_eq!(o["api"]["response"]["error"], "AccessDenied");
        assert_eq!(o["unmapped"]["outcome"], "failure");
        assert_eq!(o["status_id"], 1, "the finding's own status stays New");
        assert_eq!(o["severity_id"], 4);
        assert!(
            a.summary().contains("StopLogging (AccessDenied)"),
            "{}",
            a.summary()
        );
        assert!(table(std::slice::from_ref(&a)).contains("StopLogging (AccessDenied)"));

        let reported = Alert::new(&rule_with(OnFailure::Report), &ev, None);
        assert_eq!(
            (reported.title(), reported.severity()),
            ("Trail stopped", Severity::Critical)
        );
        assert_eq!(reported.outcome(), Outcome::Failure);

        let ok = Alert::new(
            &rule_with(OnFailure::Attempt { lower: 1 }),
            &Event::parse(&event(json!({}))).unwrap(),
            None,
        );
        let v: Value = serde_json::from_str(&ok.to_json_line()).unwrap();
        assert_eq!(
            (v["outcome"].as_str(), v["title"].as_str()),
            (Some("success"), Some("Trail stopped"))
        );
        assert_eq!(v["error_code"], Value::Null);
        assert!(ok.to_ocsf()["api"].get("response").is_none());
        // a failed console sign-in has no error code
        let login = event(
            json!({"eventName": "ConsoleLogin", "responseElements": {"ConsoleLogin": "Failure"}}),
        );
        let login_rule = Rule::new(
            RuleMeta {
                on_failure: OnFailure::Report,
                ..RuleMeta::new("RD-L", RuleSource::Builtin, "Sign-in", Severity::Low)
            },
            Condition::eq("eventName", "ConsoleLogin"),
        );
        let a = Alert::new(&login_rule, &Event::parse(&login).unwrap(), None);
        assert_eq!((a.outcome(), a.error_code()), (Outcome::Failure, None));
        assert_eq!(a.to_ocsf()["api"]["response"]["error"], "Failure");
    }

    #[test]
    fn severities_lower_to_info_at_most() {
        assert_eq!(Severity::Critical.lowered(1), Severity::High);
        assert_eq!(Severity::High.lowered(2), Severity::Low);
        assert_eq!(Severity::Low.lowered(3), Severity::Info);
        assert_eq!(Severity::Medium.lowered(0), Severity::Medium);
    }

    /// A group folds only one outcome and one event name: a failed attempt is not counted into
    /// the successes, and a graver call (DeleteTrail) is never hidden in the alert of a milder
    /// one (StopLogging) of the same rule, principal and resource. The aggregated alert lists
    /// the first [`MAX_EVENT_IDS`] event ids of its events and counts them all.
    #[test]
    fn groups_never_hide_a_failure_or_another_call() {
        let rule = Rule::new(
            RuleMeta::new(
                "RD-X",
                RuleSource::Builtin,
                "Trail stopped or deleted",
                Severity::Critical,
            ),
            Condition::one_of("eventName", &["StopLogging", "DeleteTrail"]),
        );
        let alert = |i: usize, extra: Value| {
            let mut extra = extra;
            extra["eventID"] = json!(format!("e{i}"));
            extra["eventTime"] = json!(format!("2024-07-31T13:{:02}:00Z", i % 60));
            Alert::new(&rule, &Event::parse(&event(extra)).unwrap(), None)
        };
        for streaming in [false, true] {
            let mut agg = Aggregator::new(3600, 100);
            if streaming {
                agg = agg.streaming();
            }
            let mut out = Vec::new();
            for i in 0..40 {
                agg.push(alert(i, json!({})), &mut out);
            }
            agg.push(alert(40, json!({"errorCode": "AccessDenied"})), &mut out);
            agg.push(alert(41, json!({"eventName": "DeleteTrail"})), &mut out);
            agg.push(alert(42, json!({})), &mut out);
            if streaming {
                // each group's first alert is out at once: the failure and the DeleteTrail too
                let firsts: Vec<_> = out
                    .iter()
                    .map(|a| (a.event_name().unwrap(), a.outcome()))
                    .collect();
                assert_eq!(
                    firsts,
                    [
                        ("StopLogging", Outcome::Success),
                        ("StopLogging", Outcome::Failure),
                        ("DeleteTrail", Outcome::Success)
                    ]
                );
                out.clear();
            }
            agg.flush(&mut out);
            let groups: Vec<_> = out
                .iter()
                .filter(|a| !streaming || a.count > 1)
                .map(|a| (a.event_name().unwrap(), a.outcome(), a.count))
                .collect();
            let want: &[(&str, Outcome, u64)] = if streaming {
                &[("StopLogging", Outcome::Success, 41)]
            } else {
                &[
                    ("StopLogging", Outcome::Success, 41),
                    ("StopLogging", Outcome::Failure, 1),
                    ("DeleteTrail", Outcome::Success, 1),
                ]
            };
            assert_eq!(groups, want);
            let ids: Vec<_> = out[0].event_ids().iter().collect();
            let first: Vec<String> = (0..MAX_EVENT_IDS).map(|i| format!("e{i}")).collect();
            assert_eq!(ids, first);
            let v: Value = serde_json::from_str(&out[0].to_json_line()).unwrap();
            assert_eq!(v["event_ids"].as_array().unwrap().len(), MAX_EVENT_IDS);
            assert_eq!(v["count"], 41);
            let related = &out[0].to_ocsf()["finding_info"]["related_events"];
            assert_eq!(related.as_array().unwrap().len(), MAX_EVENT_IDS);
            assert_eq!(related[1]["uid"], "e1");
        }
    }

    #[test]
    fn time_parsing() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("2024-02-29T12:00:00Z"), Some(1709208000));
        assert_eq!(parse_time("2024-13-01T00:00:00Z"), None);
        assert_eq!(parse_time("nope"), None);
    }

    #[test]
    fn aggregation_counts_within_window_and_bounds_memory() {
        let mut agg = Aggregator::new(300, 2);
        let mut out = Vec::new();
        agg.push(alert_for("2024-07-31T13:00:00Z", "bob"), &mut out);
        agg.push(alert_for("2024-07-31T13:01:00Z", "bob"), &mut out);
        agg.push(alert_for("2024-07-31T13:02:00Z", "eve"), &mut out);
        assert!(out.is_empty());
        // outside the window: the bob group is emitted, a new one starts
        agg.push(alert_for("2024-07-31T14:00:00Z", "bob"), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].count, 2);
        assert_eq!(out[0].last_seen(), Some("2024-07-31T13:01:00Z"));
        // a third key evicts the oldest open group (eve)
        agg.push(alert_for("2024-07-31T14:00:00Z", "mallory"), &mut out);
        assert_eq!(out.len(), 2);
        assert!(out[1].principal().unwrap().ends_with("eve"));
        agg.flush(&mut out);
        assert_eq!(out.len(), 4);
        assert_eq!(out.iter().map(|a| a.count).sum::<u64>(), 5);
    }

    /// A streaming aggregator reports a group's first alert at once and its total only when
    /// repeats were folded, when the group closes: by a later event, by eviction, by its
    /// window passing in wall-clock time, or at the end.
    #[test]
    fn streaming_reports_first_alerts_at_once_and_totals_at_close() {
        let mut agg = Aggregator::new(300, 10).streaming();
        let mut out = Vec::new();
        agg.push(alert_for("2024-07-31T13:00:00Z", "bob"), &mut out);
        assert_eq!(out.len(), 1, "the first alert of a group is sent at once");
        assert_eq!(out[0].count, 1);
        agg.push(alert_for("2024-07-31T13:01:00Z", "bob"), &mut out);
        agg.push(alert_for("2024-07-31T13:02:00Z", "bob"), &mut out);
        agg.push(alert_for("2024-07-31T13:02:00Z", "eve"), &mut out);
        assert_eq!(out.len(), 2, "repeats are folded, a new key is sent");
        // the window has not passed: nothing closes
        agg.expire(std::time::Instant::now(), &mut out);
        assert_eq!(out.len(), 2);
        // once it has, bob's group is reported with its total; eve's (no repeats) is not
        // sent twice
        let later = std::time::Instant::now() + std::time::Duration::from_secs(301);
        agg.expire(later, &mut out);
        assert_eq!(
            out.len(),
            3,
            "{:?}",
            out.iter().map(|a| a.count).collect::<Vec<_>>()
        );
        assert_eq!(out[2].count, 3);
        assert_eq!(out[2].last_seen(), Some("2024-07-31T13:02:00Z"));
        assert_eq!(agg.open, 0);
        // a closed group's key opens a new group: sent at once again
        agg.push(alert_for("2024-07-31T13:03:00Z", "bob"), &mut out);
        assert_eq!(out.len(), 4);
        agg.flush(&mut out);
        assert_eq!(out.len(), 4, "nothing folded since");
    }

    proptest::proptest! {
        /// Eviction emits the oldest tenth of the open groups (at least one) once the bound is
        /// reached, oldest first, with their counts (the reference below sorts them all).
        #[test]
        fn eviction_emits_the_oldest_groups(
            pushes in proptest::collection::vec((0usize..5, 0i64..900), 0..60),
            max_open in proptest::prop_oneof![1usize..4, 10usize..25],
        ) {
            let users = ["a", "b", "c", "d", "e"];
            let time = |s: i64| format!("2024-07-31T13:{:02}:{:02}Z", s / 60 % 60, s % 60);
            let mut agg = Aggregator::new(300, max_open);
            let mut out = Vec::new();
            // reference: (user, count, start, seq) per open group; evict the least seq
            let mut open: Vec<(usize, u64, i64, u64)> = Vec::new();
            let mut expect: Vec<(usize, u64)> = Vec::new();
            let mut seq = 0;
            for (u, t) in pushes {
                let t = t.min(3599);
                agg.push(alert_for(&time(t), users[u]), &mut out);
                if let Some(i) = open.iter().position(|g| g.0 == u) {
                    if (t - open[i].2).abs() <= 300 {
                        open[i].1 += 1;
                        continue;
                    }
                    let g = open.remove(i);
                    expect.push((g.0, g.1));
                }
                if open.len() >= max_open {
                    open.sort_by_key(|g| g.3);
                    for g in open.drain(..(max_open / 10).clamp(1, max_open)) {
                        expect.push((g.0, g.1));
                    }
                }
                seq += 1;
                open.push((u, 1, t, seq));
            }
            agg.flush(&mut out);
            open.sort_by_key(|g| g.3);
            expect.extend(open.iter().map(|g| (g.0, g.1)));
            let got: Vec<(usize, u64)> = out
                .iter()
                .map(|a| {
                    let p = a.principal().unwrap();
                    (users.iter().position(|u| p.ends_with(&format!("/{u}"))).unwrap(), a.count)
                })
                .collect();
            proptest::prop_assert_eq!(got, expect);
        }
    }

    /// Groups closed by their window (not by eviction) leave entries in the age queue; the
    /// queue is compacted, so a long run with few open groups holds little.
    #[test]
    fn closed_groups_do_not_accumulate() {
        let mut agg = Aggregator::new(300, 10_000);
        let mut out = Vec::new();
        for i in 0..1000 {
            // each alert ten minutes after the last: every push closes its user's open group
            let m = i * 10;
            let t = format!(
                "2024-07-{:02}T{:02}:{:02}:00Z",
                1 + m / 1440,
                m / 60 % 24,
                m % 60
            );
            agg.push(alert_for(&t, "bob"), &mut out);
            agg.push(alert_for(&t, "eve"), &mut out);
            assert!(agg.order.len() <= 2 * agg.open + 17, "{}", agg.order.len());
        }
        assert_eq!((agg.open, out.len()), (2, 1998));
        assert!(agg.groups.len() <= 3);
        agg.flush(&mut out);
        assert_eq!(out.len(), 2000);
        assert!(out[1998].principal().unwrap().ends_with("bob"));
    }

    /// A group pushed as an alert is found again by the event's borrowed key, and only by it.
    #[test]
    fn merges_find_the_group_pushed_for_the_same_key() {
        let mut agg = Aggregator::new(300, 10);
        let mut out = Vec::new();
        let a = alert_for("2024-07-31T13:00:00Z", "bob");
        let (p, r) = (
            a.principal().map(str::to_string),
            a.resource().map(str::to_string),
        );
        agg.push(a, &mut out);
        let t = parse_time("2024-07-31T13:01:00Z").unwrap();
        let at = Some("2024-07-31T13:01:00Z");
        let key = GroupKey {
            rule_id: "RD-X",
            outcome: Outcome::Success,
            event_name: Some("StopLogging"),
            principal: p.as_deref(),
            resource: r.as_deref(),
        };
        let id = Some("e2");
        for other in [
            GroupKey {
                rule_id: "RD-Y",
                ..key
            },
            GroupKey {
                resource: None,
                ..key
            },
            GroupKey {
                principal: None,
                ..key
            },
            GroupKey {
                outcome: Outcome::Failure,
                ..key
            },
            GroupKey {
                event_name: Some("DeleteTrail"),
                ..key
            },
        ] {
            assert!(!agg.merge_at(other, id, at, t));
        }
        assert!(agg.merge_at(key, id, at, t));
        agg.flush(&mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].count, 2);
        assert_eq!(out[0].last_seen(), at);
        assert_eq!(out[0].event_ids().iter().collect::<Vec<_>>(), ["e1", "e2"]);
    }

    #[test]
    fn account_id_has_its_identity_slot() {
        assert_eq!(
            rampart_trail::event::identity_slot("accountId"),
            Some(ACCOUNT_ID_SLOT)
        );
    }

    #[test]
    fn resource_keys_are_found_by_length() {
        for (i, k) in RESOURCE_KEYS.iter().enumerate() {
            assert_eq!(resource_key_index(k.as_bytes()), Some(i), "{k}");
            let mut other = k.as_bytes().to_vec();
            other[0] ^= 0x20;
            assert_eq!(resource_key_index(&other), None, "{k}");
            assert_eq!(resource_key_index(&k.as_bytes()[1..]), None, "{k}");
        }
        assert_eq!(resource_key_index(b""), None);
        assert_eq!(resource_key_index(&[b'x'; 40]), None);
    }

    mod raw_group {
        use super::super::*;
        use proptest::prelude::*;

        fn scalar() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(Value::Null),
                Just(json!(7)),
                prop::sample::select(vec!["arn:aws:iam::1:user/a", "Root", "", "x\"y", "i-1"])
                    .prop_map(|s| Value::String(s.to_string())),
            ]
        }

        fn object(keys: Vec<&'static str>) -> impl Strategy<Value = Value> {
            prop::collection::vec((prop::sample::select(keys), scalar()), 0..4).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            })
        }

        /// Any JSON value, a few levels deep, with the awkward cases of serialization.
        fn any_value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(|n| json!(n)),
                (-1e6f64..1e6).prop_map(|f| json!(f)),
                Just(json!(1e300)),
                "(?s).{0,6}".prop_map(Value::String),
                prop::sample::select(vec!["a\"b", "c\\d", "\u{1}", "é/ü", "x\ny", ""])
                    .prop_map(|s| Value::String(s.to_string())),
            ];
            leaf.prop_recursive(3, 16, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    prop::collection::vec(
                        (prop::sample::select(vec!["a", "b", "c", "z"]), inner),
                        0..4
                    )
                    .prop_map(|kv| Value::Object(
                        kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                    )),
                ]
            })
        }

        fn matched_event() -> impl Strategy<Value = Value> {
            (
                prop::collection::vec(
                    (
                        prop::sample::select(vec![
                            "userIdentity",
                            "requestParameters",
                            "responseElements",
                        ]),
                        any_value(),
                    ),
                    0..4,
                ),
                // typed-header fields: strings (a header field of another type reads as absent)
                prop::collection::vec(
                    (
                        prop::sample::select(vec!["eventName", "userAgent", "errorCode"]),
                        prop_oneof![
                            "(?s).{0,6}",
                            prop::sample::select(vec!["a\"b", "\u{1f}x", "é"])
                                .prop_map(str::to_string),
                        ],
                    ),
                    0..3,
                ),
                prop::collection::vec(
                    (
                        prop::sample::select(vec!["a", "b", "list", "arn"]),
                        any_value(),
                    ),
                    0..4,
                ),
            )
                .prop_map(|(top, header, rp)| {
                    let mut m: serde_json::Map<String, Value> =
                        top.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                    for (k, v) in header {
                        m.insert(k.to_string(), Value::String(v));
                    }
                    if !rp.is_empty() {
                        m.insert(
                            "requestParameters".into(),
                            Value::Object(
                                rp.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
                            ),
                        );
                    }
                    Value::Object(m)
                })
        }

        fn event() -> impl Strategy<Value = Value> {
            let ui = prop_oneof![
                object(vec![
                    "arn",
                    "type",
                    "principalId",
                    "userName",
                    "accountId",
                    "x"
                ]),
                scalar(),
            ];
            let instances = object(vec!["instanceId", "y"]).prop_map(|i| json!({"items": [i]}));
            let rp = prop_oneof![
                object(vec!["bucketName", "name", "roleName", "z"]),
                (object(vec!["z"]), instances).prop_map(|(mut o, i)| {
                    o["instancesSet"] = i;
                    o
                }),
                scalar(),
            ];
            (proptest::option::of(ui), proptest::option::of(rp)).prop_map(|(ui, rp)| {
                let mut m = serde_json::Map::new();
                m.insert("eventName".into(), json!("X"));
                if let Some(u) = ui {
                    m.insert("userIdentity".into(), u);
                }
                if let Some(r) = rp {
                    m.insert("requestParameters".into(), r);
                }
                Value::Object(m)
            })
        }

        proptest! {
            /// The aggregation key read from raw bytes is the one an alert built from the
            /// document carries, so skipping the build never changes which group counts it.
            #[test]
            fn raw_account_matches_the_document(doc in event()) {
                let raw = serde_json::to_vec(&doc).unwrap();
                let rule = Rule::new(
                    crate::ir::RuleMeta::new("r", RuleSource::Builtin, "r", Severity::Low),
                    Condition::Const(true),
                );
                let from_raw = Alert::new(&rule, &Event::parse(&raw).unwrap(), None);
                let from_doc = Alert::new(&rule, &Event::from_value(&raw, doc.clone()), None);
                prop_assert_eq!(from_raw.account(), from_doc.account());
            }

            /// The matched object written from the header and raw spans is, byte for byte, the
            /// `serde_json` text of the map built from the document (numbers, escapes, control
            /// characters, arrays, sub-objects, absent and null fields included).
            #[test]
            fn matched_text_is_the_documents_map(
                doc in matched_event(),
                fields in prop::collection::vec(prop::sample::select(vec![
                    "eventName", "userAgent", "errorCode", "userIdentity.arn", "userIdentity",
                    "requestParameters", "requestParameters.a", "requestParameters.b.c",
                    "requestParameters.list", "requestParameters.list.c", "responseElements",
                    "nope", "requestParameters.a.b",
                ]), 0..5),
            ) {
                let cond = Condition::All(
                    fields
                        .iter()
                        .map(|f| Condition::Match {
                            field: crate::ir::FieldPath::parse(f).unwrap(),
                            reach: crate::ir::Reach::Path,
                            pred: crate::ir::Predicate::Exists(true),
                        })
                        .collect(),
                );
                let rule = Rule::new(
                    crate::ir::RuleMeta::new("r", RuleSource::Builtin, "r", Severity::Low),
                    cond,
                );
                let raw = serde_json::to_vec(&doc).unwrap();
                // the document as read back (serde_json's float parsing may move a last digit)
                let doc: Value = serde_json::from_slice(&raw).unwrap();
                let want = serde_json::to_string(&crate::engine::matched_fields(&rule.condition, &doc)).unwrap();
                let from_raw = Alert::new(&rule, &Event::parse(&raw).unwrap(), None);
                prop_assert_eq!(from_raw.matched().as_json(), want.as_str());
                let from_doc = Alert::new(&rule, &Event::from_value(&raw, doc.clone()), None);
                prop_assert_eq!(from_doc.matched().as_json(), want.as_str());
                // and the alert's JSON line carries it as an object
                let line: Value = serde_json::from_str(&from_raw.to_json_line()).unwrap();
                prop_assert_eq!(&line["matched"], &serde_json::from_str::<Value>(&want).unwrap());
            }

            #[test]
            fn raw_group_key_matches_the_document(doc in event()) {
                let raw = serde_json::to_vec(&doc).unwrap();
                let ev = Event::parse(&raw).unwrap();
                // the reader indexes every top-level member: the raw walk always answers
                let (principal, resource) = group_of_raw(&ev).expect("an indexed event");
                prop_assert_eq!(principal.map(|p| p.into_owned()), principal_of(&doc));
                prop_assert_eq!(resource.map(|r| r.into_owned()), resource_of(&doc));
            }
        }
    }
}

/// An alert's id from the columns that identify it: 16 lowercase hex digits of FNV-1a (64 bit)
/// over `rule_source`, `rule_id`, the first event id and the account, separated by 0x1f. A
/// plain, documented hash so the store, the CLI and other tools can compute it from stored
/// columns; uniqueness rests on CloudTrail's event ids (and the services' finding ids).
pub fn alert_id(
    rule_source: &str,
    rule_id: &str,
    event_id: Option<&str>,
    account: Option<&str>,
) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let parts = [
        rule_source,
        rule_id,
        event_id.unwrap_or(""),
        account.unwrap_or(""),
    ];
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            h = (h ^ 0x1f).wrapping_mul(0x0100_0000_01b3);
        }
        for b in part.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod alert_id_tests {
    use super::alert_id;

    #[test]
    fn alert_id_is_fnv1a_of_the_identifying_columns() {
        // FNV-1a 64 of the empty input is its offset basis; separators count as bytes.
        let empty = alert_id("", "", None, None);
        assert_eq!(empty.len(), 16);
        assert_ne!(empty, "cbf29ce484222325");
        let a = alert_id("builtin", "RD-TAMPER-001", Some("e1"), Some("111122223333"));
        let b = alert_id("builtin", "RD-TAMPER-001", Some("e2"), Some("111122223333"));
        let c = alert_id("builtinR", "D-TAMPER-001", Some("e1"), Some("111122223333"));
        assert_ne!(a, b);
        assert_ne!(a, c, "the separator keeps fields apart");
        assert_eq!(
            a,
            alert_id("builtin", "RD-TAMPER-001", Some("e1"), Some("111122223333"))
        );
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }
}
