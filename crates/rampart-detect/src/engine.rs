//! Rule evaluation: an index from `eventName` to the rules that can match it, and the evaluator
//! over one [`Event`]. Conditions on header fields are answered from the typed header; any other
//! field builds the event's document once.

use crate::event::{Event, HeaderValue};
use crate::ir::{Condition, FieldPath, Items, NumOp, Predicate, Quantifier, Reach, Rule, Segment};
use hashbrown::HashMap;
use rampart_trail::scan;
use serde_json::Value;
use smallvec::SmallVec;
use std::net::IpAddr;

/// A set of compiled rules, indexed for evaluation.
pub struct Engine {
    rules: Vec<Rule>,
    /// lowercased eventName → rule indexes
    by_name: HashMap<Box<[u8]>, Vec<u32>>,
    /// rules that accept any eventName
    any_name: Vec<u32>,
    /// per rule: lowercased eventSource values it accepts (None = any)
    sources: Vec<Option<Vec<Box<[u8]>>>>,
    /// per rule: the `userIdentity.type` values it accepts (None = any)
    identity_types: Vec<Option<Vec<Box<[u8]>>>>,
    /// per rule: its text as alerts carry it, shared by all of them
    texts: Vec<std::sync::Arc<crate::alert::RuleText>>,
    /// per rule: (memo group, bit) when its answer is cached per value ([`ValueMemo`])
    memo_slot: Vec<Option<(u8, u8)>>,
    /// per memo group: the header field its rules read, and the rules (bit order)
    memo_groups: Vec<(u8, Vec<u32>)>,
}

/// What a [`crate::detector::Detector`] remembers across events to evaluate the next ones
/// faster; kept by the caller because the engine is shared between threads. Both caches are
/// bounded: a table is emptied when it reaches `capacity` entries.
///
/// - The candidate rules of each (eventSource, eventName) pair as events spell it: the name
///   index, the lowercasing and the source filters run once per pair, not once per event (an
///   account's events use a few hundred pairs).
/// - The answers of the rules that run on every event and read one typed-header field only,
///   with a scan of it (`userAgent|contains: [kali, parrot, pentoo]`), per distinct value of
///   the field: user agents repeat (a workload sends the same few all day), so most events
///   cost one hash lookup instead of the scans.
pub struct ValueMemo {
    tables: Vec<MemoTable>,
    plans: hashbrown::HashTable<Plan>,
    hasher: hashbrown::DefaultHashBuilder,
    capacity: usize,
    /// The engine the tables hold answers of (its address): another engine starts afresh.
    owner: usize,
}

/// One memo group's answers by value, and the last value looked up with its answers:
/// consecutive events mostly share their user agent (two in three in the corpus, where a tool
/// makes its calls in a burst), and a comparison with the last value costs less than hashing
/// it.
#[derive(Default)]
struct MemoTable {
    by_value: HashMap<Box<str>, u64>,
    last: Option<(String, u64)>,
}

/// The typed header's `eventSource` and `eventName` (`header_fields_of_the_index` checks them).
const EVENT_SOURCE: u8 = 0;
const EVENT_NAME: u8 = 1;

/// The most memo groups an engine keeps: one per typed-header field at most.
const MEMO_GROUPS: usize = rampart_trail::event::HEADER_FIELDS;

/// The candidate rules of one (eventSource, eventName) pair, in evaluation order.
struct Plan {
    hash: u64,
    source: Box<str>,
    name: Box<str>,
    rules: Box<[u32]>,
}

impl ValueMemo {
    /// A memo holding at most `capacity` values per group (and as many plans).
    pub fn new(capacity: usize) -> ValueMemo {
        ValueMemo {
            tables: Vec::new(),
            plans: hashbrown::HashTable::new(),
            hasher: hashbrown::DefaultHashBuilder::default(),
            capacity: capacity.max(1),
            owner: 0,
        }
    }

    /// Forget what was remembered for another engine.
    fn adopt(&mut self, engine: &Engine) {
        let owner = engine as *const Engine as usize;
        if self.owner != owner || self.tables.len() != engine.memo_groups.len() {
            self.tables.clear();
            self.tables
                .resize_with(engine.memo_groups.len(), MemoTable::default);
            self.plans.clear();
            self.owner = owner;
        }
    }
}

impl Default for ValueMemo {
    fn default() -> Self {
        ValueMemo::new(4096)
    }
}

/// The header field a condition reads when it reads exactly one (and nothing else), and
/// whether it scans that field's text (a search whose cost grows with the value).
fn one_header_field(c: &Condition, field: &mut Option<u8>, scans: &mut bool) -> bool {
    match c {
        Condition::Const(_) => true,
        Condition::All(cs) | Condition::Any(cs) => {
            cs.iter().all(|c| one_header_field(c, field, scans))
        }
        Condition::Not(c) => one_header_field(c, field, scans),
        Condition::Pattern(_)
        | Condition::RawContains(_)
        | Condition::AnyItem(_)
        | Condition::Judge(_) => false,
        Condition::Match {
            field: f,
            reach,
            pred,
        } => {
            let Some(h) = f.header_index() else {
                return false;
            };
            if *reach != Reach::Path || has_field_ref(pred) || field.is_some_and(|x| x != h) {
                return false;
            }
            *field = Some(h);
            *scans |= scans_text(pred);
            true
        }
    }
}

fn scans_text(p: &Predicate) -> bool {
    match p {
        Predicate::Str(m) => matches!(
            m.op,
            crate::ir::StrOp::Contains | crate::ir::StrOp::Wildcard
        ),
        Predicate::ContainsAny(_) | Predicate::Regex(_) => true,
        Predicate::Any(ps) | Predicate::All(ps) => ps.iter().any(scans_text),
        _ => false,
    }
}

/// Counters an engine run reports.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EvalStats {
    /// Events that met at least one candidate rule.
    pub candidates: u64,
    /// Events whose full document had to be built.
    pub docs_built: u64,
}

impl std::ops::AddAssign for EvalStats {
    fn add_assign(&mut self, o: EvalStats) {
        self.candidates += o.candidates;
        self.docs_built += o.docs_built;
    }
}

impl Engine {
    pub fn new(rules: Vec<Rule>) -> Engine {
        let rules: Vec<Rule> = rules
            .into_iter()
            .map(|mut r| {
                r.condition = crate::optimize::condition(r.condition);
                r
            })
            .collect();
        let mut by_name: HashMap<Box<[u8]>, Vec<u32>> = HashMap::new();
        let mut any_name = Vec::new();
        let mut sources = Vec::with_capacity(rules.len());
        let mut identity_types = Vec::with_capacity(rules.len());
        for (i, r) in rules.iter().enumerate() {
            match &r.index.event_names {
                Some(names) => {
                    let mut seen: Vec<Vec<u8>> = Vec::new();
                    for n in names {
                        let k = n.to_ascii_lowercase().into_bytes();
                        if !seen.contains(&k) {
                            by_name
                                .entry(k.clone().into_boxed_slice())
                                .or_default()
                                .push(i as u32);
                            seen.push(k);
                        }
                    }
                }
                None => any_name.push(i as u32),
            }
            sources.push(r.index.event_sources.as_ref().map(|v| {
                v.iter()
                    .map(|s| s.to_ascii_lowercase().into_bytes().into_boxed_slice())
                    .collect()
            }));
            identity_types.push(r.index.identity_types.as_ref().map(|v| {
                v.iter()
                    .map(|s| s.to_ascii_lowercase().into_bytes().into_boxed_slice())
                    .collect()
            }));
        }
        let texts = rules
            .iter()
            .map(|r| std::sync::Arc::new(crate::alert::RuleText::of(r)))
            .collect();
        // every-event rules that read one header field, by field; a field is memoized when
        // one of its rules scans it (then the others ride along on the same lookup)
        let mut by_field: Vec<(u8, Vec<u32>, bool)> = Vec::new();
        for &i in &any_name {
            let (mut field, mut scans) = (None, false);
            if !one_header_field(&rules[i as usize].condition, &mut field, &mut scans) {
                continue;
            }
            let Some(h) = field else { continue };
            match by_field.iter_mut().find(|(f, _, _)| *f == h) {
                Some((_, rs, s)) => {
                    rs.push(i);
                    *s |= scans;
                }
                None => by_field.push((h, vec![i], scans)),
            }
        }
        let mut memo_slot = vec![None; rules.len()];
        let mut memo_groups: Vec<(u8, Vec<u32>)> = Vec::new();
        for (h, mut rs, scans) in by_field {
            if !scans || memo_groups.len() == MEMO_GROUPS {
                continue;
            }
            rs.truncate(64);
            for (bit, &i) in rs.iter().enumerate() {
                memo_slot[i as usize] = Some((memo_groups.len() as u8, bit as u8));
            }
            memo_groups.push((h, rs));
        }
        Engine {
            memo_slot,
            memo_groups,
            texts,
            rules,
            by_name,
            any_name,
            sources,
            identity_types,
        }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Rule `i`'s text as its alerts carry it.
    pub fn rule_text(&self, i: usize) -> &std::sync::Arc<crate::alert::RuleText> {
        &self.texts[i]
    }

    /// Rules accepting any event name (each one costs every event something).
    pub fn unindexed(&self) -> usize {
        self.any_name.len()
    }

    /// Evaluate every candidate rule on `ev`, calling `hit` with the index of each rule that matches.
    pub fn evaluate(&self, ev: &Event<'_>, stats: &mut EvalStats, hit: impl FnMut(usize)) {
        self.evaluate_with(ev, None, stats, hit)
    }

    /// [`Engine::evaluate`], with the answers of one-field rules cached in `memo` across events.
    pub fn evaluate_with(
        &self,
        ev: &Event<'_>,
        memo: Option<&mut ValueMemo>,
        stats: &mut EvalStats,
        mut hit: impl FnMut(usize),
    ) {
        let h = ev.header();
        // the index is keyed on strings: a name or source of another type (an array holding
        // the name, a number) cannot be looked up, and every rule judges it instead
        let key = |i| match h.value_at(i) {
            HeaderValue::Str(s) => Some(s),
            HeaderValue::Absent => Some(""),
            HeaderValue::NotString => None,
        };
        let (name, source) = (key(EVENT_NAME), key(EVENT_SOURCE));
        let mut fresh: SmallVec<[u32; 16]> = SmallVec::new();
        let (plan, mut tables): (&[u32], _) = match memo {
            Some(m) => {
                m.adopt(self);
                let ValueMemo {
                    tables,
                    plans,
                    hasher,
                    capacity,
                    ..
                } = m;
                let plan = match (source, name) {
                    (Some(source), Some(name)) => self.plan(plans, hasher, *capacity, source, name),
                    _ => {
                        self.candidates(source, name, |i| fresh.push(i));
                        &fresh
                    }
                };
                (plan, Some((tables, *capacity)))
            }
            None => {
                self.candidates(source, name, |i| fresh.push(i));
                (&fresh, None)
            }
        };
        if plan.is_empty() {
            return;
        }
        stats.candidates += 1;
        // the event's `userIdentity.type`, read once when a rule is indexed on it
        let mut kind: Option<IdentityType> = None;
        // per memo group, this event's answers (read once per event)
        let mut answers = [None::<u64>; MEMO_GROUPS];
        for &i in plan {
            let i = i as usize;
            if let Some(types) = &self.identity_types[i] {
                match *kind.get_or_insert_with(|| identity_type(ev)) {
                    IdentityType::Absent => continue,
                    IdentityType::Is(t)
                        if !types.iter().any(|x| x.eq_ignore_ascii_case(t.as_bytes())) =>
                    {
                        continue;
                    }
                    _ => {}
                }
            }
            let matched = match (tables.as_mut(), self.memo_slot[i]) {
                (Some((tables, capacity)), Some((g, bit))) => {
                    let g = usize::from(g);
                    let bits = match answers[g] {
                        Some(bits) => bits,
                        None => {
                            let bits = self.memo_answers(&mut tables[g], *capacity, g, ev);
                            answers[g] = Some(bits);
                            bits
                        }
                    };
                    bits >> bit & 1 == 1
                }
                _ => eval(&self.rules[i].condition, ev),
            };
            if matched {
                hit(i);
            }
        }
        if ev.doc_built() {
            stats.docs_built += 1;
        }
    }
}

impl Engine {
    /// The candidate rules of events from `source` named `name`: the rules indexed under the
    /// name (any case) and those accepting any name, less those whose sources exclude
    /// `source`; in evaluation order. `None` is a value the index cannot judge (not a
    /// string): no rule is left out on its account.
    fn candidates(&self, source: Option<&str>, name: Option<&str>, mut each: impl FnMut(u32)) {
        let Some(name) = name else {
            for i in 0..self.rules.len() as u32 {
                if self.source_admits(i, source) {
                    each(i);
                }
            }
            return;
        };
        let mut buf = [0u8; 96];
        let heap;
        let lower: &[u8] = if name.len() <= buf.len() {
            let b = &mut buf[..name.len()];
            b.copy_from_slice(name.as_bytes());
            b.make_ascii_lowercase();
            b
        } else {
            heap = name.to_ascii_lowercase();
            heap.as_bytes()
        };
        let named = self.by_name.get(lower).map(Vec::as_slice).unwrap_or(&[]);
        for &i in named.iter().chain(self.any_name.iter()) {
            if self.source_admits(i, source) {
                each(i);
            }
        }
    }

    /// Whether rule `i`'s index admits events from `source` (`None`: a source the index cannot
    /// judge).
    fn source_admits(&self, i: u32, source: Option<&str>) -> bool {
        match (&self.sources[i as usize], source) {
            (Some(srcs), Some(source)) => srcs
                .iter()
                .any(|s| s.eq_ignore_ascii_case(source.as_bytes())),
            _ => true,
        }
    }

    /// [`Engine::candidates`] of (`source`, `name`), remembered in `plans`.
    fn plan<'m>(
        &self,
        plans: &'m mut hashbrown::HashTable<Plan>,
        hasher: &hashbrown::DefaultHashBuilder,
        capacity: usize,
        source: &str,
        name: &str,
    ) -> &'m [u32] {
        use std::hash::BuildHasher;
        let hash = hasher.hash_one((source, name));
        let same = |p: &Plan| p.hash == hash && *p.name == *name && *p.source == *source;
        let plans = match plans.find_entry(hash, same) {
            Ok(found) => return &found.into_mut().rules,
            Err(absent) => absent.into_table(),
        };
        if plans.len() >= capacity {
            plans.clear();
        }
        let mut rules = Vec::new();
        self.candidates(Some(source), Some(name), |i| rules.push(i));
        let plan = Plan {
            hash,
            source: source.into(),
            name: name.into(),
            rules: rules.into(),
        };
        &plans.insert_unique(hash, plan, |p| p.hash).into_mut().rules
    }

    /// The answers (bit per rule) of memo group `g`'s rules on `ev`: from `table` when its
    /// field's value was seen, else evaluated (and remembered).
    fn memo_answers(
        &self,
        table: &mut MemoTable,
        capacity: usize,
        g: usize,
        ev: &Event<'_>,
    ) -> u64 {
        let (field, rules) = &self.memo_groups[g];
        let evaluate = || {
            rules.iter().enumerate().fold(0u64, |bits, (b, &i)| {
                bits | u64::from(eval(&self.rules[i as usize].condition, ev)) << b
            })
        };
        let Some(value) = ev.header().get_index(*field) else {
            return evaluate();
        };
        if let Some((last, bits)) = &table.last
            && last == value
        {
            return *bits;
        }
        let bits = match table.by_value.get(value) {
            Some(&bits) => bits,
            None => {
                let bits = evaluate();
                if table.by_value.len() >= capacity {
                    table.by_value.clear();
                }
                table.by_value.insert(value.into(), bits);
                bits
            }
        };
        match &mut table.last {
            Some((last, last_bits)) => {
                last.clear();
                last.push_str(value);
                *last_bits = bits;
            }
            None => table.last = Some((value.to_string(), bits)),
        }
        bits
    }
}

/// An event's `userIdentity.type`, as far as the reader's index can tell without a document.
#[derive(Clone, Copy)]
enum IdentityType<'a> {
    /// No `userIdentity`, or no `type` in it.
    Absent,
    /// A string without escapes.
    Is(&'a str),
    /// Anything else (an array, an escaped string, an event without an index): evaluate.
    Unknown,
}

/// The reader's slot for `userIdentity.type` (`type_has_the_first_identity_slot` checks it).
const TYPE_SLOT: u8 = 0;

fn identity_type<'a>(ev: &Event<'a>) -> IdentityType<'a> {
    match ev.identity_member_at(TYPE_SLOT) {
        Some(None) => IdentityType::Absent,
        Some(Some(m)) => ev
            .member_str(&m)
            .map_or(IdentityType::Unknown, IdentityType::Is),
        None => IdentityType::Unknown,
    }
}

/// Evaluate a condition on an event.
pub fn eval(c: &Condition, ev: &Event<'_>) -> bool {
    match c {
        Condition::Const(b) => *b,
        Condition::All(cs) => cs.iter().all(|c| eval(c, ev)),
        Condition::Any(cs) => cs.iter().any(|c| eval(c, ev)),
        Condition::Not(c) => !eval(c, ev),
        Condition::Pattern(p) => pattern_matches(p, ev),
        Condition::RawContains(lit) => lit.found_in(ev.raw()),
        Condition::Judge(j) => ev.doc().is_some_and(|d| j.judge(d).is_some()),
        Condition::AnyItem(q) => {
            // the reached values parsed from their raw spans: a quantified condition reads
            // several fields of each item, so each is parsed once, not walked per field
            if ev.doc_if_built().is_none()
                && let Some(spans) = resolve_raw_spans(&q.path, ev)
                && let Some(owned) = spans
                    .iter()
                    .map(|&(s, e)| serde_json::from_slice::<Value>(&ev.raw()[s..e]).ok())
                    .collect::<Option<Vec<Value>>>()
            {
                return some_item(q, &owned.iter().collect::<Vec<_>>());
            }
            let Some(doc) = ev.doc() else { return false };
            let mut vals = Vec::new();
            q.path.resolve(doc, &mut vals);
            some_item(q, &vals)
        }
        Condition::Match { field, reach, pred } => {
            // A header field: a string or an absent member is answered from the typed header;
            // a value of another type (null, a number, an array…) goes the generic way below,
            // so its own type decides, exactly as on the document.
            if *reach == Reach::Path
                && let Some(idx) = field.header_index()
                && !has_field_ref(pred)
            {
                match ev.header().value_at(idx) {
                    HeaderValue::Str(s) => return test_str_pred(pred, s),
                    HeaderValue::Absent => return test_strs(pred, &[]),
                    HeaderValue::NotString => {}
                }
            }
            // `userIdentity.<key>`, the members most rules read: straight from the reader's index.
            if *reach == Reach::Path
                && let Some(key) = field.identity_key()
                && !has_field_ref(pred)
                && ev.doc_if_built().is_none()
                && let Some(member) = match field.identity_slot() {
                    Some(slot) => ev.identity_member_at(slot),
                    None => ev.identity_member(key),
                }
            {
                match member {
                    None => return test_strs(pred, &[]),
                    Some(m) => {
                        if let Some(s) = ev.member_str(&m) {
                            return test_strs(pred, &[s]);
                        }
                    }
                }
            }
            // A field compared with another (`fieldref`): when both reach only plain strings,
            // compare them in place.
            if let Predicate::FieldRef {
                other,
                case_insensitive,
            } = pred
                && *reach == Reach::Path
                && ev.doc_if_built().is_none()
                && let Some(answer) = field_ref_raw(field, other, *case_insensitive, ev)
            {
                return answer;
            }
            // Outside the header: read just the reached values from the raw bytes, so most
            // events never need a document.
            if !has_field_ref(pred)
                && ev.doc_if_built().is_none()
                && let Some(spans) = resolve_raw_spans(field, ev)
            {
                let raw = ev.raw();
                // Plain strings (the common case) are tested in place, without a value.
                if *reach == Reach::Path
                    && let Some(strs) = plain_strings(ev, &spans)
                {
                    return test_strs(pred, &strs);
                }
                let Some(owned) = spans
                    .iter()
                    .map(|(s, e)| serde_json::from_slice::<Value>(&raw[*s..*e]).ok())
                    .collect::<Option<Vec<Value>>>()
                else {
                    return false;
                };
                let mut vals: Vec<&Value> = owned.iter().collect();
                if *reach == Reach::Anywhere {
                    let mut leaves = Vec::new();
                    for v in vals {
                        collect_leaves(v, &mut leaves);
                    }
                    vals = leaves;
                }
                return test_values(pred, &vals, &Value::Null);
            }
            let Some(doc) = ev.doc() else { return false };
            match_in(field, *reach, pred, doc)
        }
    }
}

/// A `Match` judged on a document (or on a quantifier's item, its paths relative to it).
fn match_in(field: &FieldPath, reach: Reach, pred: &Predicate, root: &Value) -> bool {
    let mut vals = Vec::new();
    field.resolve(root, &mut vals);
    if reach == Reach::Anywhere {
        let mut leaves = Vec::new();
        for v in vals {
            collect_leaves(v, &mut leaves);
        }
        vals = leaves;
    }
    test_values(pred, &vals, root)
}

/// Whether some item of `vals` (the values `q.path` reached) passes `q.cond`.
fn some_item(q: &Quantifier, vals: &[&Value]) -> bool {
    vals.iter().any(|&v| {
        let decoded;
        let v = match v {
            Value::String(s) if q.decode_json => match serde_json::from_str::<Value>(s) {
                Ok(d) => {
                    decoded = d;
                    &decoded
                }
                Err(_) => return false,
            },
            v => v,
        };
        match (q.items, v) {
            (Items::Elements, Value::Array(items)) => items.iter().any(|i| eval_in(&q.cond, i)),
            (Items::Elements, item) => eval_in(&q.cond, item),
            (Items::Members, Value::Object(m)) => m.iter().any(|(k, v)| {
                let mut item = serde_json::Map::with_capacity(2);
                item.insert("key".into(), Value::String(k.clone()));
                item.insert("value".into(), v.clone());
                eval_in(&q.cond, &Value::Object(item))
            }),
            (Items::Members, _) => false,
        }
    })
}

/// A condition judged on a value rather than an event: a quantifier's item, every path
/// relative to it.
fn eval_in(c: &Condition, item: &Value) -> bool {
    match c {
        Condition::Const(b) => *b,
        Condition::All(cs) => cs.iter().all(|c| eval_in(c, item)),
        Condition::Any(cs) => cs.iter().any(|c| eval_in(c, item)),
        Condition::Not(c) => !eval_in(c, item),
        Condition::Pattern(p) => p.matches_json(item),
        Condition::RawContains(lit) => serde_json::to_vec(item).is_ok_and(|t| lit.found_in(&t)),
        Condition::Match { field, reach, pred } => match_in(field, *reach, pred, item),
        Condition::Judge(j) => j.judge(item).is_some(),
        Condition::AnyItem(q) => {
            let mut vals = Vec::new();
            q.path.resolve(item, &mut vals);
            some_item(q, &vals)
        }
    }
}

/// A JSON filter pattern's view of an event without a document: each selector is walked in the
/// raw bytes through the reader's member index, a plain string is answered in place and any
/// other value is parsed on its own. A walk that cannot answer (escaped keys, an event without
/// a member index) sets `failed`, and the caller judges the pattern on the document instead.
struct RawLookup<'a, 'e> {
    ev: &'a Event<'e>,
    failed: std::cell::Cell<bool>,
}

impl rampart_pattern::Lookup for RawLookup<'_, '_> {
    fn lookup(&self, path: &[rampart_pattern::Step]) -> Option<rampart_pattern::Found<'_>> {
        use rampart_pattern::{Found, Step};
        let ev = self.ev;
        let raw = ev.raw();
        let fail = || {
            self.failed.set(true);
            None
        };
        let Some((Step::Key(first), rest)) = path.split_first() else {
            return fail();
        };
        let mut span = ev.member(first)?;
        for step in rest {
            span = match (step, raw.get(span.0)) {
                (Step::Key(k), Some(b'{')) => match ev.member_of(span.0, k) {
                    Ok(found) => found?,
                    Err(()) => return fail(),
                },
                (Step::Index(n), Some(b'[')) => {
                    let (mut i, mut nth) = (0, None);
                    if scan::elements(raw, span.0, |a, b| {
                        if i == *n {
                            nth = Some((a, b));
                        }
                        i += 1;
                    })
                    .is_err()
                    {
                        return fail();
                    }
                    nth?
                }
                _ => return None,
            };
        }
        if let Some(s) = ev.plain_str(span) {
            return Some(Found::Str(s));
        }
        match serde_json::from_slice::<Value>(&raw[span.0..span.1]) {
            Ok(v) => Some(Found::Json(std::borrow::Cow::Owned(v))),
            Err(_) => fail(),
        }
    }
}

/// A filter pattern judged on the event: on the raw bytes when the reader indexed them, on the
/// document otherwise.
fn pattern_matches(p: &rampart_pattern::FilterPattern, ev: &Event<'_>) -> bool {
    if ev.doc_if_built().is_none() && ev.has_member_index() {
        let view = RawLookup {
            ev,
            failed: std::cell::Cell::new(false),
        };
        if let Some(m) = p.matches_lookup(&view)
            && !view.failed.get()
        {
            return m;
        }
    }
    ev.doc().is_some_and(|d| p.matches_json(d))
}

/// The spans of the values `field` reaches in the raw event (same semantics as
/// [`FieldPath::resolve`] on the document: arrays fan out, the last of repeated keys wins).
/// `None` when the raw walk cannot answer (escaped keys, malformed bytes): use the document.
pub(crate) fn resolve_raw_spans(field: &FieldPath, ev: &Event<'_>) -> Option<Spans> {
    if !ev.has_member_index() {
        return None;
    }
    let (first, rest) = field.segments().split_first()?;
    let Segment::Key(k) = first else {
        return None;
    };
    let mut spans = Spans::new();
    if let Some(span) = ev.member(k) {
        walk_raw(rest, ev, span, &mut spans)?;
    }
    Some(spans)
}

/// [`Predicate::FieldRef`] judged on the raw bytes: does any string `field` reaches equal any
/// string `other` reaches. `None` (use the document) unless every reached value on both sides
/// is a string without escapes.
fn field_ref_raw(
    field: &FieldPath,
    other: &FieldPath,
    case_insensitive: bool,
    ev: &Event<'_>,
) -> Option<bool> {
    let ours = plain_strings(ev, &resolve_raw_spans(field, ev)?)?;
    let theirs = plain_strings(ev, &resolve_raw_spans(other, ev)?)?;
    Some(ours.iter().any(|a| {
        theirs.iter().any(|b| {
            if case_insensitive {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        })
    }))
}

/// Value spans reached by a path: almost always one, never worth a heap allocation.
pub(crate) type Spans = SmallVec<[(usize, usize); 4]>;

/// The spans as `&str` when every one is a JSON string without escapes.
fn plain_strings<'r>(ev: &Event<'r>, spans: &[(usize, usize)]) -> Option<SmallVec<[&'r str; 4]>> {
    spans.iter().map(|&span| ev.plain_str(span)).collect()
}

/// [`test_values`] over reached values that are all strings.
fn test_strs(p: &Predicate, strs: &[&str]) -> bool {
    match p {
        Predicate::Null => strs.is_empty(),
        Predicate::Exists(want) => strs.is_empty() != *want,
        Predicate::All(ps) => ps.iter().all(|p| test_strs(p, strs)),
        Predicate::Any(ps) => ps.iter().any(|p| test_strs(p, strs)),
        Predicate::Bool(_) | Predicate::FieldRef { .. } => false,
        _ => strs.iter().any(|s| test_str(p, s)),
    }
}

fn walk_raw(segs: &[Segment], ev: &Event<'_>, span: (usize, usize), out: &mut Spans) -> Option<()> {
    let Some((first, rest)) = segs.split_first() else {
        out.push(span);
        return Some(());
    };
    let b = ev.raw();
    match (first, b.get(span.0)) {
        (Segment::Key(k), Some(b'{')) => {
            if let Some(v) = ev.member_of(span.0, k).ok()? {
                walk_raw(rest, ev, v, out)?;
            }
        }
        (Segment::Key(_), Some(b'[')) => {
            let mut items: SmallVec<[(usize, usize); 8]> = SmallVec::new();
            scan::elements(b, span.0, |s, e| items.push((s, e))).ok()?;
            for it in items {
                walk_raw(segs, ev, it, out)?;
            }
        }
        (Segment::Index(n), Some(b'[')) => {
            let mut items: SmallVec<[(usize, usize); 8]> = SmallVec::new();
            scan::elements(b, span.0, |s, e| items.push((s, e))).ok()?;
            if let Some(it) = items.get(*n) {
                walk_raw(rest, ev, *it, out)?;
            }
        }
        (Segment::AnyIndex, Some(b'[')) => {
            let mut items: SmallVec<[(usize, usize); 8]> = SmallVec::new();
            scan::elements(b, span.0, |s, e| items.push((s, e))).ok()?;
            for it in items {
                walk_raw(rest, ev, it, out)?;
            }
        }
        _ => {}
    }
    Some(())
}

/// Field references need the document even when the tested field is in the header.
fn has_field_ref(p: &Predicate) -> bool {
    match p {
        Predicate::FieldRef { .. } => true,
        Predicate::Any(ps) | Predicate::All(ps) => ps.iter().any(has_field_ref),
        _ => false,
    }
}

fn collect_leaves<'v>(v: &'v Value, out: &mut Vec<&'v Value>) {
    match v {
        Value::Object(m) => m.values().for_each(|c| collect_leaves(c, out)),
        Value::Array(a) => a.iter().for_each(|c| collect_leaves(c, out)),
        _ => out.push(v),
    }
}

/// A predicate over the set of values a path reached. One array semantics for every
/// predicate: a reached array stands for its elements (nested arrays too), so a test holds
/// when some element passes it, `All` when each of its tests is passed by some element, and
/// `Null` when no element is a value other than `null` (absent, `null`, `[]`, `[null]`).
/// `Exists` asks whether the path reached anything at all (`null` and `[]` included).
fn test_values(p: &Predicate, vals: &[&Value], doc: &Value) -> bool {
    match p {
        Predicate::Null => !any_element(vals, &mut |v| !v.is_null()),
        Predicate::Exists(want) => vals.is_empty() != *want,
        Predicate::All(ps) => ps.iter().all(|p| test_values(p, vals, doc)),
        Predicate::Any(ps) => ps.iter().any(|p| test_values(p, vals, doc)),
        Predicate::FieldRef {
            other,
            case_insensitive,
        } => {
            let mut others = Vec::new();
            other.resolve(doc, &mut others);
            any_element(vals, &mut |v| {
                let Some(a) = scalar_text(v) else {
                    return false;
                };
                any_element(&others, &mut |o| {
                    scalar_text(o).is_some_and(|b| {
                        if *case_insensitive {
                            a.eq_ignore_ascii_case(&b)
                        } else {
                            a == b
                        }
                    })
                })
            })
        }
        _ => any_element(vals, &mut |v| test_one(p, v)),
    }
}

/// Whether `f` holds for some element of `vals`, an array standing for its elements (at any
/// depth): the one array semantics of [`test_values`].
fn any_element(vals: &[&Value], f: &mut dyn FnMut(&Value) -> bool) -> bool {
    fn each(v: &Value, f: &mut dyn FnMut(&Value) -> bool) -> bool {
        match v {
            Value::Array(items) => items.iter().any(|i| each(i, f)),
            v => f(v),
        }
    }
    vals.iter().any(|v| each(v, f))
}

fn test_one(p: &Predicate, v: &Value) -> bool {
    match (p, v) {
        (Predicate::Bool(b), Value::Bool(x)) => b == x,
        (Predicate::Bool(_), _) => false,
        (Predicate::Num(op, x), Value::Number(n)) => n.as_f64().is_some_and(|n| cmp(*op, n, *x)),
        (_, Value::String(s)) => test_str(p, s),
        (_, Value::Number(n)) => test_str(p, &n.to_string()),
        (_, Value::Bool(b)) => test_str(p, if *b { "true" } else { "false" }),
        _ => false,
    }
}

fn test_str_pred(p: &Predicate, s: &str) -> bool {
    match p {
        Predicate::Any(ps) if ps.len() > 1 && s.is_ascii() && s.len() <= 512 => {
            // Several case-insensitive tests of one string (a list of Sigma `contains`
            // values): lower it once.
            let mut buf = [0u8; 512];
            let low = &mut buf[..s.len()];
            low.copy_from_slice(s.as_bytes());
            low.make_ascii_lowercase();
            let low = std::str::from_utf8(low).expect("ASCII stays UTF-8");
            ps.iter().any(|p| match p {
                Predicate::Str(m) if m.case_insensitive => m.test_lowered(low),
                _ => test_str_pred(p, s),
            })
        }
        Predicate::Any(ps) => ps.iter().any(|p| test_str_pred(p, s)),
        Predicate::All(ps) => ps.iter().all(|p| test_str_pred(p, s)),
        Predicate::Null | Predicate::Exists(false) => false,
        Predicate::Exists(true) => true,
        _ => test_str(p, s),
    }
}

/// A predicate on one string value (for tests of the optimizer).
#[cfg(test)]
pub(crate) fn test_pred_on_str(p: &Predicate, s: &str) -> bool {
    test_str_pred(p, s)
}

fn test_str(p: &Predicate, s: &str) -> bool {
    match p {
        Predicate::Str(m) => m.test(s),
        Predicate::OneOf {
            values,
            case_insensitive,
        } => {
            if *case_insensitive {
                values
                    .iter()
                    .any(|v| v.eq_ignore_ascii_case(s) || (!s.is_ascii() && *v == s.to_lowercase()))
            } else {
                values
                    .iter()
                    .any(|v| scan::same_bytes(v.as_bytes(), s.as_bytes()))
            }
        }
        Predicate::Regex(r) => r.is_match(s),
        Predicate::ContainsAny(set) => set.test(s),
        Predicate::Num(op, x) => s.trim().parse::<f64>().is_ok_and(|n| cmp(*op, n, *x)),
        Predicate::Cidr(nets) => s
            .trim()
            .parse::<IpAddr>()
            .is_ok_and(|ip| nets.iter().any(|n| n.contains(ip))),
        // a string is never a JSON boolean, whatever its text (`"true"`)
        Predicate::Bool(_) => false,
        Predicate::Any(ps) => ps.iter().any(|p| test_str(p, s)),
        Predicate::All(ps) => ps.iter().all(|p| test_str(p, s)),
        Predicate::Exists(want) => *want,
        Predicate::Null | Predicate::FieldRef { .. } => false,
    }
}

fn cmp(op: NumOp, a: f64, b: f64) -> bool {
    match op {
        NumOp::Eq => a == b,
        NumOp::Ne => a != b,
        NumOp::Lt => a < b,
        NumOp::Le => a <= b,
        NumOp::Gt => a > b,
        NumOp::Ge => a >= b,
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The fields a matching rule tested positively, with their values in `doc`: what an alert's
/// `matched` object holds (alerts write it from raw spans; this is its definition on a document).
pub fn matched_fields(c: &Condition, doc: &Value) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    for f in reported_fields(c) {
        if let Some(v) = resolve_value(&f, doc) {
            out.insert(f.as_str().to_string(), v);
        }
    }
    add_judgements(c, doc, &mut out);
    out
}

/// Whether `c` holds a [`Condition::Judge`] outside a `not` (its alerts report the finding).
pub fn has_judgement(c: &Condition) -> bool {
    match c {
        Condition::All(cs) | Condition::Any(cs) => cs.iter().any(has_judgement),
        Condition::Judge(_) => true,
        _ => false,
    }
}

/// Adds what each judge of `c` (outside a `not`) finds in `doc` to `out`, under its key.
pub fn add_judgements(c: &Condition, doc: &Value, out: &mut serde_json::Map<String, Value>) {
    match c {
        Condition::All(cs) | Condition::Any(cs) => {
            cs.iter().for_each(|c| add_judgements(c, doc, out))
        }
        Condition::Judge(j) => {
            if let Some(found) = j.judge(doc) {
                out.insert(j.key().to_string(), found);
            }
        }
        _ => {}
    }
}

/// The fields the alerts of a rule with condition `c` report: those it tests positively (not
/// under a `not`), each once, in the order the condition names them. Computed once per rule
/// (see `RuleText`), not per alert.
pub fn reported_fields(c: &Condition) -> Vec<FieldPath> {
    let mut out = Vec::new();
    collect_fields(c, false, &mut out);
    out
}

/// [`resolve_value`] read from the raw bytes: only the reached spans are parsed. `None` when
/// the raw walk cannot answer (use a document then).
pub fn resolve_value_raw(field: &FieldPath, ev: &Event<'_>) -> Option<Option<Value>> {
    let spans = resolve_raw_spans(field, ev)?;
    let raw = ev.raw();
    let mut vals = spans
        .iter()
        .map(|&(s, e)| serde_json::from_slice::<Value>(&raw[s..e]).ok())
        .collect::<Option<Vec<Value>>>()?;
    Some(match vals.len() {
        0 => None,
        1 => vals.pop(),
        _ => Some(Value::Array(vals)),
    })
}

/// The value(s) a path reaches: one value, an array of several, or `None`.
pub fn resolve_value(field: &FieldPath, doc: &Value) -> Option<Value> {
    let mut vals = Vec::new();
    field.resolve(doc, &mut vals);
    match vals.len() {
        0 => None,
        1 => Some(vals[0].clone()),
        _ => Some(Value::Array(vals.into_iter().cloned().collect())),
    }
}

fn collect_fields(c: &Condition, negated: bool, out: &mut Vec<FieldPath>) {
    let mut add = |f: FieldPath| {
        if !out.iter().any(|x| x.as_str() == f.as_str()) {
            out.push(f);
        }
    };
    match c {
        Condition::All(cs) | Condition::Any(cs) => {
            cs.iter().for_each(|c| collect_fields(c, negated, out))
        }
        Condition::Not(c) => collect_fields(c, !negated, out),
        Condition::Match { field, .. } if !negated => add(field.clone()),
        // the values whose items were tested (a policy's statements), not the item's fields
        Condition::AnyItem(q) if !negated && !q.path.segments().is_empty() => add(q.path.clone()),
        Condition::Pattern(p) if !negated => {
            // the pattern's selectors are private to rampart-pattern: show the usual suspects
            // among the members it reads
            let reads = |f: &str| {
                p.top_level_keys().is_none_or(|keys| {
                    let first = f.split('.').next().unwrap_or(f);
                    keys.iter().any(|k| k == first)
                })
            };
            for f in [
                "eventSource",
                "eventName",
                "errorCode",
                "errorMessage",
                "userIdentity.type",
                "additionalEventData.MFAUsed",
            ] {
                if !reads(f) {
                    continue;
                }
                add(FieldPath::parse(f).expect("static path"));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::*;
    use serde_json::json;

    pub(super) fn ev_matches(c: &Condition, v: Value) -> bool {
        let raw = serde_json::to_vec(&v).unwrap();
        let ev = Event::parse(&raw).unwrap();
        eval(c, &ev)
    }

    pub(super) fn m(field: &str, reach: Reach, pred: Predicate) -> Condition {
        Condition::Match {
            field: FieldPath::parse(field).unwrap(),
            reach,
            pred,
        }
    }

    #[test]
    fn predicates() {
        let e = json!({"eventName":"PutBucketPolicy","sourceIPAddress":"10.1.2.3","n":"443","k":5,
            "ro":false,"a":{"b":[{"c":"Hello World"},{"c":"x"}]},"userIdentity":{"userName":"bob"},"requestParameters":{"userName":"BOB"}});
        let s = |op, n, ci| Predicate::Str(StrMatch::new(op, n, ci));
        assert!(ev_matches(
            &m(
                "eventName",
                Reach::Path,
                s(StrOp::Equals, "putbucketpolicy", true)
            ),
            e.clone()
        ));
        assert!(!ev_matches(
            &m(
                "eventName",
                Reach::Path,
                s(StrOp::Equals, "putbucketpolicy", false)
            ),
            e.clone()
        ));
        assert!(ev_matches(
            &m(
                "eventName",
                Reach::Path,
                s(StrOp::Wildcard, "Put*Policy", false)
            ),
            e.clone()
        ));
        assert!(ev_matches(
            &m("a.b.c", Reach::Path, s(StrOp::Contains, "world", true)),
            e.clone()
        ));
        assert!(ev_matches(
            &m("a.b.c", Reach::Path, s(StrOp::StartsWith, "x", false)),
            e.clone()
        ));
        assert!(ev_matches(
            &m("a.b.c", Reach::Path, s(StrOp::EndsWith, "World", false)),
            e.clone()
        ));
        assert!(ev_matches(
            &m("a", Reach::Anywhere, s(StrOp::Contains, "lo w", true)),
            e.clone()
        ));
        assert!(!ev_matches(
            &m("a", Reach::Path, s(StrOp::Contains, "lo w", true)),
            e.clone()
        ));
        assert!(ev_matches(
            &m("n", Reach::Path, Predicate::Num(NumOp::Ge, 443.0)),
            e.clone()
        ));
        assert!(ev_matches(
            &m("k", Reach::Path, Predicate::Num(NumOp::Lt, 6.0)),
            e.clone()
        ));
        assert!(!ev_matches(
            &m("k", Reach::Path, Predicate::Num(NumOp::Gt, 6.0)),
            e.clone()
        ));
        assert!(ev_matches(
            &m("ro", Reach::Path, Predicate::Bool(false)),
            e.clone()
        ));
        assert!(ev_matches(
            &m("ro", Reach::Path, s(StrOp::Equals, "false", true)),
            e.clone()
        ));
        let cidr = Predicate::Cidr(vec![Cidr::parse("10.0.0.0/8").unwrap()]);
        assert!(ev_matches(
            &m("sourceIPAddress", Reach::Path, cidr.clone()),
            e.clone()
        ));
        assert!(ev_matches(
            &m("missing", Reach::Path, Predicate::Null),
            e.clone()
        ));
        assert!(ev_matches(
            &m("errorCode", Reach::Path, Predicate::Null),
            e.clone()
        ));
        assert!(!ev_matches(
            &m("k", Reach::Path, Predicate::Null),
            e.clone()
        ));
        assert!(ev_matches(
            &m("k", Reach::Path, Predicate::Exists(true)),
            e.clone()
        ));
        assert!(ev_matches(
            &m("nope", Reach::Path, Predicate::Exists(false)),
            e.clone()
        ));
        assert!(ev_matches(
            &m(
                "eventName",
                Reach::Path,
                Predicate::Regex(compile_regex("^Put.*Policy$", false).unwrap())
            ),
            e.clone()
        ));
        let all = Predicate::All(vec![
            s(StrOp::Contains, "hello", true),
            s(StrOp::Contains, "x", false),
        ]);
        assert!(ev_matches(&m("a.b.c", Reach::Path, all), e.clone()));
        let all = Predicate::All(vec![
            s(StrOp::Contains, "hello", true),
            s(StrOp::Contains, "zzz", false),
        ]);
        assert!(!ev_matches(&m("a.b.c", Reach::Path, all), e.clone()));
        let fr = |ci| Predicate::FieldRef {
            other: FieldPath::parse("requestParameters.userName").unwrap(),
            case_insensitive: ci,
        };
        assert!(ev_matches(
            &m("userIdentity.userName", Reach::Path, fr(true)),
            e.clone()
        ));
        assert!(!ev_matches(
            &m("userIdentity.userName", Reach::Path, fr(false)),
            e.clone()
        ));
        let c = Condition::All(vec![
            Condition::eq("eventName", "PutBucketPolicy"),
            Condition::not(Condition::eq("k", "5")),
        ]);
        assert!(!ev_matches(&c, e.clone()));
        let p = rampart_pattern::FilterPattern::parse("{ $.a.b[0].c = \"Hello*\" }").unwrap();
        assert!(ev_matches(&Condition::Pattern(Box::new(p)), e));
    }

    /// `AnyItem` asks one item to pass every test: separate `Match`es over the same array are
    /// each satisfied by a different element.
    #[test]
    fn quantified_conditions_test_one_item_at_a_time() {
        let eq = |f: &str, v: &str| Condition::eq(f, v);
        let allow_star = Condition::All(vec![eq("Effect", "Allow"), eq("Principal", "*")]);
        let deny_star_and_allow_one = json!({"p": {"Statement": [
            {"Effect": "Deny", "Principal": "*"},
            {"Effect": "Allow", "Principal": "arn:aws:iam::1:root"}]}});
        let allow_star_in_array = json!({"p": {"Statement": [
            {"Effect": "Deny", "Principal": "x"}, {"Effect": "Allow", "Principal": "*"}]}});
        let allow_star_alone = json!({"p": {"Statement": {"Effect": "Allow", "Principal": "*"}}});
        let q = Condition::any_item("p.Statement", Items::Elements, allow_star.clone());
        // the two tests side by side hold on the first event; the quantifier does not
        let flat = Condition::All(vec![
            eq("p.Statement.Effect", "Allow"),
            eq("p.Statement.Principal", "*"),
        ]);
        assert!(ev_matches(&flat, deny_star_and_allow_one.clone()));
        assert!(!ev_matches(&q, deny_star_and_allow_one.clone()));
        assert!(ev_matches(&q, allow_star_in_array.clone()));
        assert!(ev_matches(&q, allow_star_alone.clone()));
        assert!(!ev_matches(&q, json!({"p": {"Statement": []}})));
        assert!(!ev_matches(&q, json!({"p": {}})));
        assert!(!ev_matches(&q, json!({"p": {"Statement": "*"}})));
        // on a document as on the raw bytes
        for v in [
            deny_star_and_allow_one,
            allow_star_in_array,
            allow_star_alone,
        ] {
            let raw = serde_json::to_vec(&v).unwrap();
            assert_eq!(
                eval(&q, &Event::parse(&raw).unwrap()),
                eval(&q, &Event::from_value(&raw, v.clone()))
            );
        }
        // a policy logged as a JSON string is parsed; one that does not parse has no items
        let doc = |d: &str| json!({"p": d});
        let qs = Condition::any_item_of_json(
            "p",
            Condition::any_item("Statement", Items::Elements, allow_star),
        );
        assert!(ev_matches(
            &qs,
            doc(r#"{"Statement":[{"Effect":"Allow","Principal":"*"}]}"#)
        ));
        assert!(ev_matches(
            &qs,
            json!({"p": {"Statement": {"Effect":"Allow","Principal":"*"}}})
        ));
        assert!(!ev_matches(
            &qs,
            doc(r#"{"Statement":[{"Effect":"Deny","Principal":"*"}]}"#)
        ));
        assert!(!ev_matches(
            &qs,
            doc(r#"{"Statement":[{"Effect":"Allow","Principal":"*"}"#)
        ));
        assert!(!ev_matches(&qs, doc("")));
        // members: an operator and the keys under it, as one item each
        let restricting = Condition::any_item(
            "c",
            Items::Members,
            Condition::All(vec![
                Condition::not(Condition::field(
                    "key",
                    Predicate::Str(StrMatch::new(StrOp::Contains, "not", true)),
                )),
                Condition::any_item("value", Items::Members, eq("key", "aws:SourceIp")),
            ]),
        );
        assert!(ev_matches(
            &restricting,
            json!({"c": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}})
        ));
        assert!(!ev_matches(
            &restricting,
            json!({"c": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}})
        ));
        assert!(!ev_matches(
            &restricting,
            json!({"c": {"IpAddress": {"aws:x": "1"}, "NotIpAddress": {"aws:SourceIp": "1"}}})
        ));
        assert!(!ev_matches(&restricting, json!({"c": ["IpAddress"]})));
        // the item itself, and a negated quantifier ("no item is …")
        let only = Condition::not(Condition::any_item(
            "xs",
            Items::Elements,
            Condition::not(Condition::itself(Predicate::OneOf {
                values: vec!["management".into()],
                case_insensitive: true,
            })),
        ));
        assert!(ev_matches(
            &only,
            json!({"xs": ["Management", "MANAGEMENT"]})
        ));
        assert!(!ev_matches(&only, json!({"xs": ["Management", "Data"]})));
        assert!(ev_matches(&only, json!({"xs": "management"})));
    }

    #[test]
    fn index_routes_only_candidates() {
        let r =
            |id: &str, c| Rule::new(RuleMeta::new(id, RuleSource::Builtin, id, Severity::Low), c);
        let engine = Engine::new(vec![
            r(
                "a",
                Condition::All(vec![
                    Condition::eq("eventSource", "s3.amazonaws.com"),
                    Condition::eq("eventName", "PutBucketPolicy"),
                ]),
            ),
            r("b", Condition::eq("errorCode", "AccessDenied")),
        ]);
        assert_eq!(engine.unindexed(), 1);
        let run = |v: Value| {
            let raw = serde_json::to_vec(&v).unwrap();
            let ev = Event::parse(&raw).unwrap();
            let mut hits = Vec::new();
            let mut st = EvalStats::default();
            engine.evaluate(&ev, &mut st, |i| hits.push(i));
            (hits, st)
        };
        let (h, st) = run(
            json!({"eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","errorCode":"AccessDenied"}),
        );
        assert_eq!(h, vec![0, 1]);
        assert_eq!(
            st.docs_built, 0,
            "header-only rules must not build a document"
        );
        assert_eq!(
            run(json!({"eventSource":"ec2.amazonaws.com","eventName":"PutBucketPolicy"})).0,
            Vec::<usize>::new()
        );
    }
}

/// Differential: conditions answered from raw bytes (header scan, member spans, nested walks)
/// agree with the same conditions answered from the full document, on random events.
#[cfg(test)]
mod raw_vs_doc {
    use super::tests::{ev_matches, m};
    use super::*;
    use crate::ir::{Cidr, ContainsSet, NumOp, Rule, StrMatch, StrOp, compile_regex};
    use proptest::prelude::*;
    use serde_json::json;

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-5i64..5).prop_map(Value::from),
            prop::sample::select(vec!["a", "B", "ab", "x\"y", "é", "a\\b", "Root", ""])
                .prop_map(|s| Value::String(s.to_string())),
            // JSON documents logged as strings (policy documents)
            prop::sample::select(vec![r#"["a",{"type":"Root"}]"#, r#"{"a":1,"b":["a"]}"#])
                .prop_map(|s| Value::String(s.to_string())),
        ]
    }

    /// Strings only, some equal ignoring case, one escaped.
    fn text() -> impl Strategy<Value = Value> {
        prop::sample::select(vec!["a", "A", "Root", "ROOT", "x\"y", ""])
            .prop_map(|s| Value::String(s.to_string()))
    }

    fn value() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec(
                    (prop::sample::select(vec!["a", "b", "type", "c"]), inner),
                    0..4
                )
                .prop_map(|kv| Value::Object(
                    kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                )),
            ]
        })
    }

    fn event() -> impl Strategy<Value = Value> {
        prop::collection::vec(
            (
                prop::sample::select(vec!["eventName", "userIdentity", "a", "b", "errorCode"]),
                value(),
            ),
            0..5,
        )
        .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
    }

    fn predicate() -> impl Strategy<Value = Predicate> {
        prop_oneof![
            Just(Predicate::Null),
            any::<bool>().prop_map(Predicate::Exists),
            prop::sample::select(vec!["a", "b", "Root", "x\"y", "1", "true"])
                .prop_map(|s| Predicate::Str(StrMatch::new(StrOp::Equals, s, true))),
            prop::sample::select(vec!["a", "o", "\\"]).prop_map(|s| Predicate::Str(StrMatch::new(
                StrOp::Contains,
                s,
                false
            ))),
            (-2.0f64..2.0).prop_map(|x| Predicate::Num(NumOp::Gt, x)),
            any::<bool>().prop_map(Predicate::Bool),
            (
                prop::sample::select(vec!["a", "b[*].type", "userIdentity.type", "a.b"]),
                any::<bool>()
            )
                .prop_map(|(other, ci)| Predicate::FieldRef {
                    other: FieldPath::parse(other).unwrap(),
                    case_insensitive: ci,
                }),
        ]
    }

    /// A JSON value of every type a header field (or an indexed `userIdentity` member) can
    /// hold in a malformed or hostile record: strings of every shape the predicates below
    /// care about, numbers, booleans, `null`, objects, arrays (empty, of `null`, mixed,
    /// nested).
    fn any_json() -> impl Strategy<Value = Value> {
        let scalar = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            prop::sample::select(vec![json!(5), json!(-1), json!(2.5), json!(0)]),
            prop::sample::select(vec![
                "StopLogging",
                "stoplogging",
                "s3.amazonaws.com",
                "10.1.2.3",
                "2001:db8::1",
                "AccessDenied",
                "5",
                "true",
                "",
                "x\"y",
                "\u{212a}ali",
                "Root",
                "kali linux",
            ])
            .prop_map(|s| Value::String(s.to_string())),
        ];
        scalar.prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                prop::collection::vec((prop::sample::select(vec!["x", "type"]), inner), 0..2)
                    .prop_map(|kv| Value::Object(
                        kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
                    )),
            ]
        })
    }

    /// Every predicate kind, with operands that can hit the values of [`any_json`].
    fn any_predicate() -> impl Strategy<Value = Predicate> {
        let needle = || {
            prop::sample::select(vec![
                "stoplogging",
                "StopLogging",
                "s3",
                "10.1",
                "5",
                "true",
                "",
                "kali",
                "K",
                "x\"y",
            ])
        };
        let op = prop::sample::select(vec![
            StrOp::Equals,
            StrOp::Contains,
            StrOp::StartsWith,
            StrOp::EndsWith,
            StrOp::Wildcard,
        ]);
        let leaf = prop_oneof![
            (op, needle(), any::<bool>()).prop_map(|(op, n, ci)| {
                let n = if op == StrOp::Wildcard {
                    format!("{n}*")
                } else {
                    n.to_string()
                };
                Predicate::Str(StrMatch::new(op, &n, ci))
            }),
            (prop::collection::vec(needle(), 1..3), any::<bool>()).prop_map(|(vs, ci)| {
                Predicate::OneOf {
                    values: vs
                        .iter()
                        .map(|v| if ci { v.to_lowercase() } else { v.to_string() })
                        .collect(),
                    case_insensitive: ci,
                }
            }),
            prop::sample::select(vec!["^Stop", "^[0-9]+$", "amazonaws", "^$", "(?i)KALI"])
                .prop_map(|r| Predicate::Regex(compile_regex(r, false).unwrap())),
            (
                prop::sample::select(vec![
                    NumOp::Eq,
                    NumOp::Ne,
                    NumOp::Lt,
                    NumOp::Le,
                    NumOp::Gt,
                    NumOp::Ge,
                ]),
                prop::sample::select(vec![0.0, 2.5, 5.0]),
            )
                .prop_map(|(op, x)| Predicate::Num(op, x)),
            prop::sample::select(vec!["10.0.0.0/8", "2001:db8::/32", "0.0.0.0/0"])
                .prop_map(|c| Predicate::Cidr(vec![Cidr::parse(c).unwrap()])),
            Just(Predicate::Null),
            any::<bool>().prop_map(Predicate::Exists),
            any::<bool>().prop_map(Predicate::Bool),
            (
                prop::collection::vec(needle().prop_filter("non-empty", |n| !n.is_empty()), 1..4),
                any::<bool>()
            )
                .prop_filter_map("a set", |(ns, ci)| {
                    let ns = ns
                        .iter()
                        .map(|n| if ci { n.to_lowercase() } else { n.to_string() })
                        .collect();
                    ContainsSet::new(ns, ci).map(Predicate::ContainsAny)
                }),
            prop::sample::select(vec!["eventName", "userAgent", "a"]).prop_map(|o| {
                Predicate::FieldRef {
                    other: FieldPath::parse(o).unwrap(),
                    case_insensitive: true,
                }
            }),
        ];
        leaf.prop_recursive(2, 6, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..3).prop_map(Predicate::Any),
                prop::collection::vec(inner, 1..3).prop_map(Predicate::All),
            ]
        })
    }

    /// Every path with a fast path: the typed header's fields (all of them, whatever the
    /// reader adds), the `userIdentity` members the reader indexes, and one of each kind that
    /// does not.
    fn fast_paths() -> Vec<&'static str> {
        let others = [
            "userIdentity.type",
            "userIdentity.arn",
            "userIdentity.sessionContext",
            "userIdentity.other",
            "a",
        ];
        rampart_trail::event::HEADER_KEYS
            .iter()
            .copied()
            .chain(others)
            .collect()
    }

    /// A condition of `All`s and `Match`es judged on the document alone (the reference the
    /// fast paths are held to).
    fn match_in_condition(c: &Condition, doc: &Value) -> bool {
        match c {
            Condition::All(cs) => cs.iter().all(|c| match_in_condition(c, doc)),
            Condition::Match { field, reach, pred } => match_in(field, *reach, pred, doc),
            other => unreachable!("not used here: {other:?}"),
        }
    }

    #[test]
    fn header_fields_of_the_index() {
        use rampart_trail::event::Header;
        assert_eq!(Header::field_index("eventSource"), Some(EVENT_SOURCE));
        assert_eq!(Header::field_index("eventName"), Some(EVENT_NAME));
    }

    /// The defects the fast paths had: a header field that is not a string was "absent"
    /// (`errorCode: 5` matched `null`), and an absent one failed `Any([Null, …])`.
    #[test]
    fn header_values_of_every_type_are_present() {
        let null = m("errorCode", Reach::Path, Predicate::Null);
        for v in [
            json!(5),
            json!({"x": 1}),
            json!(["a"]),
            json!(true),
            json!(""),
            json!([null, "a"]),
        ] {
            assert!(!ev_matches(&null, json!({"errorCode": v})), "{v}");
        }
        for v in [json!(null), json!([]), json!([null]), json!([[]])] {
            assert!(ev_matches(&null, json!({"errorCode": v})), "{v}");
        }
        assert!(ev_matches(&null, json!({})));
        let null_or_denied = m(
            "errorCode",
            Reach::Path,
            Predicate::Any(vec![
                Predicate::Null,
                Predicate::Str(StrMatch::new(StrOp::Equals, "accessdenied", true)),
            ]),
        );
        assert!(ev_matches(&null_or_denied, json!({"eventName": "x"})));
        assert!(ev_matches(
            &null_or_denied,
            json!({"errorCode": "AccessDenied"})
        ));
        assert!(!ev_matches(
            &null_or_denied,
            json!({"errorCode": "Throttled"})
        ));
        let five = m(
            "errorCode",
            Reach::Path,
            Predicate::Str(StrMatch::new(StrOp::Equals, "5", true)),
        );
        assert!(ev_matches(&five, json!({"errorCode": 5})));
        assert!(ev_matches(&five, json!({"errorCode": ["4", 5]})));
        // a string is never a boolean, on the header as anywhere else
        let t = m("errorCode", Reach::Path, Predicate::Bool(true));
        assert!(!ev_matches(&t, json!({"errorCode": "true"})));
        assert!(ev_matches(&t, json!({"errorCode": true})));
        // the last of repeated keys decides, as in a document
        let raw = br#"{"errorCode":"x","errorCode":7}"#;
        assert!(!eval(&null, &Event::parse(raw).unwrap()));
        let raw = br#"{"errorCode":7,"errorCode":null}"#;
        assert!(eval(&null, &Event::parse(raw).unwrap()));
    }

    /// An event name that is not a string (an array holding it) cannot be looked up in the
    /// index: the rules indexed on the name still judge it.
    #[test]
    fn the_index_admits_names_that_are_not_strings() {
        use crate::ir::{RuleMeta, RuleSource, Severity};
        let rule = |c: Condition| {
            Rule::new(
                RuleMeta::new("r", RuleSource::Builtin, "r", Severity::Low),
                c,
            )
        };
        let ci = |f: &str, v: &str| {
            Condition::field(f, Predicate::Str(StrMatch::new(StrOp::Equals, v, true)))
        };
        let engine = Engine::new(vec![
            rule(Condition::All(vec![
                ci("eventSource", "cloudtrail.amazonaws.com"),
                ci("eventName", "StopLogging"),
            ])),
            rule(ci("eventName", "5")),
        ]);
        assert!(engine.rules[0].index.event_names.is_some());
        for (raw, want) in [
            (
                r#"{"eventSource":"cloudtrail.amazonaws.com","eventName":["StopLogging"]}"#,
                vec![0],
            ),
            (
                r#"{"eventSource":["cloudtrail.amazonaws.com"],"eventName":"StopLogging"}"#,
                vec![0],
            ),
            (
                r#"{"eventSource":"s3.amazonaws.com","eventName":["StopLogging"]}"#,
                vec![],
            ),
            (r#"{"eventName":5}"#, vec![1]),
        ] {
            let event = Event::parse(raw.as_bytes()).unwrap();
            let mut memo = ValueMemo::default();
            for with_memo in [false, true] {
                let mut hits = Vec::new();
                let memo = with_memo.then_some(&mut memo);
                engine.evaluate_with(&event, memo, &mut EvalStats::default(), |i| hits.push(i));
                assert_eq!(hits, want, "{raw}");
            }
        }
    }

    #[test]
    fn type_has_the_first_identity_slot() {
        assert_eq!(rampart_trail::event::identity_slot("type"), Some(TYPE_SLOT));
    }

    proptest! {
        #[test]
        fn raw_and_document_agree(
            ev in event(),
            path in prop::sample::select(vec![
                "a", "b", "eventName", "userIdentity.type", "a.b", "a.a.c", "b[0]", "b[*].type", "a[1].b",
            ]),
            pred in predicate(),
            anywhere in any::<bool>(),
        ) {
            let raw = serde_json::to_vec(&ev).unwrap();
            let cond = Condition::Match {
                field: FieldPath::parse(path).unwrap(),
                reach: if anywhere { Reach::Anywhere } else { Reach::Path },
                pred,
            };
            let from_raw = eval(&cond, &Event::parse(&raw).unwrap());
            let from_doc = eval(&cond, &Event::from_value(&raw, ev.clone()));
            prop_assert_eq!(from_raw, from_doc, "{} on {}", path, String::from_utf8_lossy(&raw));
        }

        /// Every field with a fast path (typed header, indexed `userIdentity` members, raw
        /// spans) answers every predicate kind exactly as the document does, for values of
        /// every JSON type; and the engine (its name/source/identity index and the per-value
        /// memo included) fires exactly the rules whose condition holds on the document.
        #[test]
        fn fast_paths_agree_with_the_document(
            fields in prop::collection::vec(
                (prop::sample::select(fast_paths()), prop::option::of(any_json())),
                1..6,
            ),
            identity_itself in prop::option::of(prop::sample::select(vec![json!(null), json!([]), json!("Root"), json!([{"type": "Root"}])])),
            tests in prop::collection::vec(
                (prop::sample::select(fast_paths()), any_predicate(), any::<bool>()),
                1..5,
            ),
        ) {
            use crate::ir::{RuleMeta, RuleSource, Severity};
            let mut doc = serde_json::Map::new();
            for (path, value) in &fields {
                let Some(value) = value else { continue };
                match path.split_once('.') {
                    Some((outer, inner)) => {
                        let o = doc.entry(outer).or_insert_with(|| json!({}));
                        if let Value::Object(o) = o {
                            o.insert(inner.to_string(), value.clone());
                        }
                    }
                    None => {
                        doc.insert(path.to_string(), value.clone());
                    }
                }
            }
            if let Some(v) = identity_itself {
                doc.insert("userIdentity".into(), v);
            }
            let doc = Value::Object(doc);
            let raw = serde_json::to_vec(&doc).unwrap();
            let shown = String::from_utf8_lossy(&raw).to_string();
            let mut rules = Vec::new();
            let mut expect = Vec::new();
            for (i, (path, pred, anywhere)) in tests.into_iter().enumerate() {
                let field = FieldPath::parse(path).unwrap();
                let reach = if anywhere { Reach::Anywhere } else { Reach::Path };
                let want = match_in(&field, reach, &pred, &doc);
                let cond = Condition::Match { field, reach, pred };
                for e in [Event::parse(&raw).unwrap(), Event::from_value(&raw, doc.clone())] {
                    prop_assert_eq!(eval(&cond, &e), want, "{:?} on {}", cond, shown);
                }
                if want {
                    expect.push(i);
                }
                // the rule also pins the name, source or identity type, so the index is used
                let pin = match i % 3 {
                    0 => Condition::eq("eventName", "StopLogging"),
                    1 => Condition::field("eventSource", Predicate::Str(StrMatch::new(StrOp::Equals, "s3.amazonaws.com", true))),
                    _ => Condition::field("userIdentity.type", Predicate::Str(StrMatch::new(StrOp::Equals, "root", true))),
                };
                let pinned = Condition::All(vec![pin, cond.clone()]);
                if match_in_condition(&pinned, &doc) {
                    expect.push(100 + i);
                }
                rules.push((i, cond));
                rules.push((100 + i, pinned));
            }
            let ids: Vec<usize> = rules.iter().map(|(i, _)| *i).collect();
            let engine = Engine::new(
                rules
                    .into_iter()
                    .map(|(_, c)| Rule::new(RuleMeta::new("r", RuleSource::Sigma, "r", Severity::Low), c))
                    .collect(),
            );
            expect.sort();
            let event = Event::parse(&raw).unwrap();
            let mut memo = ValueMemo::default();
            for with_memo in [false, true] {
                let mut hits: Vec<usize> = Vec::new();
                engine.evaluate_with(&event, with_memo.then_some(&mut memo), &mut EvalStats::default(), |r| hits.push(ids[r]));
                hits.sort();
                prop_assert_eq!(&hits, &expect, "memo {} on {}", with_memo, shown);
            }
        }

        /// A quantified condition (items of arrays or objects, strings parsed as JSON, nested
        /// and negated) gives the same answer on the raw bytes as on the document, and the
        /// same optimized as written.
        #[test]
        fn quantified_conditions_on_raw_and_document_agree(
            ev in event(),
            path in prop::sample::select(vec!["a", "b", "a.b", "b[*]", "userIdentity", "a.c"]),
            members in any::<bool>(),
            decode_json in any::<bool>(),
            inner in prop::sample::select(vec!["a", "b", "type", "key", "value", "value.a", "b[0]"]),
            pred in predicate(),
            other in prop::sample::select(vec!["c", "key", "type"]),
            nested in any::<bool>(),
            negate in any::<bool>(),
        ) {
            let raw = serde_json::to_vec(&ev).unwrap();
            let items = if members { Items::Members } else { Items::Elements };
            let test = Condition::Match { field: FieldPath::parse(inner).unwrap(), reach: Reach::Path, pred };
            let test = if negate { Condition::not(test) } else { test };
            let cond = if nested {
                Condition::All(vec![
                    Condition::any_item(other, Items::Elements, Condition::itself(Predicate::Exists(true))),
                    Condition::any_item("", items, test),
                ])
            } else {
                test
            };
            let q = Condition::AnyItem(Box::new(crate::ir::Quantifier {
                path: FieldPath::parse(path).unwrap(),
                items,
                decode_json,
                cond,
            }));
            let from_raw = eval(&q, &Event::parse(&raw).unwrap());
            let from_doc = eval(&q, &Event::from_value(&raw, ev.clone()));
            prop_assert_eq!(from_raw, from_doc, "{:?} on {}", q, String::from_utf8_lossy(&raw));
            let optimized = crate::optimize::condition(q.clone());
            prop_assert_eq!(eval(&optimized, &Event::parse(&raw).unwrap()), from_raw);
        }

        /// A field compared with another (`fieldref`) gives the same answer on the raw bytes as
        /// on the document.
        #[test]
        fn field_refs_on_raw_and_document_agree(
            ev in prop::collection::vec(
                (
                    prop::sample::select(vec!["a", "b", "userIdentity"]),
                    prop_oneof![
                        text(),
                        leaf(),
                        prop::collection::vec(text(), 0..3).prop_map(Value::Array),
                        text().prop_map(|v| serde_json::json!({"type": v, "b": "ROOT"})),
                    ],
                ),
                0..4,
            )
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
            path in prop::sample::select(vec!["a", "b", "userIdentity.type", "a.b", "b[*]"]),
            other in prop::sample::select(vec!["a", "b[*]", "userIdentity.type", "userIdentity.b"]),
            case_insensitive in any::<bool>(),
        ) {
            let raw = serde_json::to_vec(&ev).unwrap();
            let cond = Condition::field(path, Predicate::FieldRef {
                other: FieldPath::parse(other).unwrap(),
                case_insensitive,
            });
            let from_raw = eval(&cond, &Event::parse(&raw).unwrap());
            let from_doc = eval(&cond, &Event::from_value(&raw, ev.clone()));
            prop_assert_eq!(from_raw, from_doc, "{} = {} on {}", path, other, String::from_utf8_lossy(&raw));
        }

        /// Values read for an alert from raw spans are the values the document gives.
        #[test]
        fn raw_values_match_the_document(
            ev in event(),
            path in prop::sample::select(vec![
                "a", "b", "userIdentity.type", "a.b", "a.a.c", "b[0]", "b[*].type", "a[1].b",
            ]),
        ) {
            let raw = serde_json::to_vec(&ev).unwrap();
            let field = FieldPath::parse(path).unwrap();
            if let Some(v) = resolve_value_raw(&field, &Event::parse(&raw).unwrap()) {
                prop_assert_eq!(v, resolve_value(&field, &ev), "{} on {}", path, String::from_utf8_lossy(&raw));
            }
        }

        /// The optimizer's rewrites (one pass for a `contains` list, cheapest test first) never
        /// change an answer.
        #[test]
        fn optimized_conditions_agree(
            ev in event(),
            tests in prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "a", "b", "eventName", "userIdentity.type", "a.b", "b[*].type",
                    ]),
                    prop::collection::vec(
                        prop::sample::select(vec!["a", "B", "Ro", "x\"", "\u{e9}", "o", "K"]),
                        1..4,
                    ),
                    any::<bool>(),
                    any::<bool>(),
                    any::<bool>(),
                ),
                1..5,
            ),
            all in any::<bool>(),
        ) {
            let raw = serde_json::to_vec(&ev).unwrap();
            let children: Vec<Condition> = tests
                .into_iter()
                .map(|(path, needles, ci, negate, anywhere)| {
                    let m = Condition::Match {
                        field: FieldPath::parse(path).unwrap(),
                        reach: if anywhere { Reach::Anywhere } else { Reach::Path },
                        pred: Predicate::Any(
                            needles
                                .iter()
                                .map(|n| Predicate::Str(StrMatch::new(StrOp::Contains, n, ci)))
                                .collect(),
                        ),
                    };
                    if negate { Condition::not(m) } else { m }
                })
                .collect();
            let cond = if all { Condition::All(children) } else { Condition::Any(children) };
            let optimized = crate::optimize::condition(cond.clone());
            for e in [Event::parse(&raw).unwrap(), Event::from_value(&raw, ev.clone())] {
                prop_assert_eq!(eval(&cond, &e), eval(&optimized, &e), "{}", String::from_utf8_lossy(&raw));
            }
        }

        /// Candidate rules remembered per (eventSource, eventName) pair (over a stream of
        /// events, names and sources in any case, a bound small enough to be emptied on the
        /// way) give the hits of looking the candidates up for every event.
        #[test]
        fn planned_candidates_agree(
            events in prop::collection::vec(
                (
                    prop::sample::select(vec!["GetObject", "getobject", "GETOBJECT", "ListUsers", "", "long"]),
                    prop::sample::select(vec!["s3.amazonaws.com", "S3.Amazonaws.com", "iam.amazonaws.com", "-"]),
                    prop::sample::select(vec!["eu-west-1", "us-east-1"]),
                ),
                1..30,
            ),
        ) {
            use crate::ir::{RuleMeta, RuleSource, Severity};
            let rule = |c: Condition| Rule::new(RuleMeta::new("r", RuleSource::Builtin, "r", Severity::Low), c);
            let ci = |f: &str, v: &str| Condition::field(f, Predicate::Str(StrMatch::new(StrOp::Equals, v, true)));
            let long = "L".repeat(120);
            let rules = vec![
                rule(Condition::eq("eventName", "GetObject")),
                rule(Condition::All(vec![ci("eventSource", "s3.amazonaws.com"), ci("eventName", "getobject")])),
                rule(Condition::one_of("eventSource", &["iam.amazonaws.com", "s3.amazonaws.com"])),
                rule(Condition::field("awsRegion", Predicate::Str(StrMatch::new(StrOp::Contains, "west", false)))),
                rule(Condition::All(vec![ci("eventName", &long), ci("eventSource", "iam.amazonaws.com")])),
            ];
            let engine = Engine::new(rules);
            let mut memo = ValueMemo::new(2);
            for (name, source, region) in events {
                let name = if name == "long" { long.to_lowercase() } else { name.to_string() };
                let source = if source == "-" { String::new() } else { format!(r#","eventSource":"{source}""#) };
                let raw = format!(r#"{{"eventName":"{name}","awsRegion":"{region}"{source}}}"#).into_bytes();
                let event = Event::parse(&raw).unwrap();
                let (mut with, mut without) = (Vec::new(), Vec::new());
                engine.evaluate_with(&event, Some(&mut memo), &mut EvalStats::default(), |i| with.push(i));
                engine.evaluate(&event, &mut EvalStats::default(), |i| without.push(i));
                prop_assert_eq!(with, without, "{}", String::from_utf8_lossy(&raw));
            }
        }

        /// Answers cached per header value (the memo, over a stream of events, with a bound
        /// small enough to be emptied on the way) are the answers of evaluating every rule.
        #[test]
        fn memoized_answers_agree(
            agents in prop::collection::vec(
                prop::option::of(prop::sample::select(vec![
                    "aws-cli/2.0 kali", "Boto3/1.2", "KALI linux", "parrot", "TruffleHog",
                    "\\u006bali", "x\\\"y kali",
                ])),
                1..24,
            ),
            regions in prop::collection::vec(prop::sample::select(vec!["eu-west-1", "us-east-1"]), 24),
        ) {
            use crate::ir::{RuleMeta, RuleSource, Severity};
            let rule = |c: Condition| Rule::new(RuleMeta::new("r", RuleSource::Builtin, "r", Severity::Low), c);
            let contains = |n: &str, ci| Predicate::Str(StrMatch::new(StrOp::Contains, n, ci));
            let rules = vec![
                // one header field, scanned: memoized (the optimizer makes the first a set)
                rule(Condition::field("userAgent", Predicate::Any(vec![contains("kali", true), contains("parrot", true)]))),
                rule(Condition::field("userAgent", Predicate::Str(StrMatch::new(StrOp::Equals, "trufflehog", true)))),
                rule(Condition::All(vec![
                    Condition::field("userAgent", contains("li", false)),
                    Condition::not(Condition::field("userAgent", Predicate::Exists(false))),
                ])),
                rule(Condition::not(Condition::field("userAgent", contains("kali", false)))),
                // two fields: evaluated every time
                rule(Condition::All(vec![
                    Condition::field("userAgent", contains("kali", true)),
                    Condition::eq("awsRegion", "eu-west-1"),
                ])),
                rule(Condition::field("awsRegion", contains("west", false))),
            ];
            let engine = Engine::new(rules);
            prop_assert!(engine.memo_groups.len() == 2, "{:?}", engine.memo_groups);
            let mut memo = ValueMemo::new(3);
            for (agent, region) in agents.iter().zip(&regions) {
                let ua = agent.map(|a| format!(r#","userAgent":"{a}""#)).unwrap_or_default();
                let raw = format!(r#"{{"eventName":"X","awsRegion":"{region}"{ua}}}"#).into_bytes();
                let event = Event::parse(&raw).unwrap();
                let (mut with, mut without) = (Vec::new(), Vec::new());
                engine.evaluate_with(&event, Some(&mut memo), &mut EvalStats::default(), |i| with.push(i));
                engine.evaluate(&event, &mut EvalStats::default(), |i| without.push(i));
                prop_assert_eq!(with, without, "{}", String::from_utf8_lossy(&raw));
            }
        }

        /// The index (event name, source, `userIdentity.type`) only ever skips rules that
        /// would not have matched: the engine's hits are the rules whose condition holds.
        #[test]
        fn the_index_skips_only_rules_that_cannot_match(
            name in prop::sample::select(vec!["GetObject", "getobject", "ConsoleLogin"]),
            // raw JSON text: `R\u006fot` is `Root` written with an escape
            kind in prop::sample::select(vec![
                "null", "\"Root\"", "\"ROOT\"", "\"AssumedRole\"", "[\"Root\"]", "5",
                "\"R\\u006fot\"", "\"IAMUser\"",
            ]),
            has_identity in any::<bool>(),
            has_type in any::<bool>(),
        ) {
            use crate::ir::{RuleMeta, RuleSource, Severity};
            let rule = |c: Condition| Rule::new(RuleMeta::new("r", RuleSource::Builtin, "r", Severity::Low), c);
            let pattern = |t: &str| Condition::Pattern(Box::new(rampart_pattern::FilterPattern::parse(t).unwrap()));
            let ci = |v: &str| Condition::field("userIdentity.type", Predicate::Str(StrMatch::new(StrOp::Equals, v, true)));
            let rules = vec![
                rule(Condition::eq("userIdentity.type", "Root")),
                rule(ci("assumedrole")),
                rule(pattern(r#"{ $.userIdentity.type = "Root" }"#)),
                rule(pattern(r#"{ $.userIdentity.type = 5 }"#)),
                rule(Condition::All(vec![Condition::eq("eventName", "GetObject"), ci("root")])),
                rule(Condition::Any(vec![ci("root"), ci("iamuser")])),
                rule(Condition::not(ci("root"))),
            ];
            let engine = Engine::new(rules.clone());
            let identity = match (has_identity, has_type) {
                (false, _) => String::new(),
                (true, false) => r#","userIdentity":{"arn":"a"}"#.to_string(),
                (true, true) => format!(r#","userIdentity":{{"type":{kind}}}"#),
            };
            let raw = format!(r#"{{"eventName":"{name}"{identity}}}"#).into_bytes();
            let event = Event::parse(&raw).unwrap();
            let mut hits = Vec::new();
            engine.evaluate(&event, &mut EvalStats::default(), |i| hits.push(i));
            hits.sort();
            let expect: Vec<usize> = (0..rules.len())
                .filter(|&i| eval(&rules[i].condition, &event))
                .collect();
            prop_assert_eq!(hits, expect, "{}", String::from_utf8_lossy(&raw));
        }

        /// A JSON filter pattern judged on the members it reads (parsed from raw spans) agrees
        /// with the pattern judged on the whole document.
        #[test]
        fn patterns_on_raw_members_and_document_agree(
            ev in event(),
            text in prop::sample::select(vec![
                "{ $.eventName = \"a\" }",
                "{ ($.userIdentity.type = Root) && ($.a NOT EXISTS) }",
                "{ $.a.b[0] = 1 || $.b IS NULL }",
                "{ $.errorCode = \"*B*\" && $.userIdentity.c != \"x\" }",
                "{ $.a > 0 || $.b IS TRUE }",
                "{ $.userIdentity.a.type EXISTS }",
                "{ $.b[1].type = \"R*\" || $.b[0] IS FALSE }",
                "{ $.a.b != \"x\" && $.errorCode NOT EXISTS }",
                "{ $.a.b[0] <= 2 || $.userIdentity.type = %^R.?o% }",
                "{ $.b[0].c IS NULL || $.a = 1.0 }",
                "{ $.b[0] EXISTS }",
                "{ $.a[1] = \"a\" || $.userIdentity[0] NOT EXISTS }",
            ]),
        ) {
            let raw = serde_json::to_vec(&ev).unwrap();
            let cond = Condition::Pattern(Box::new(rampart_pattern::FilterPattern::parse(text).unwrap()));
            let from_raw = eval(&cond, &Event::parse(&raw).unwrap());
            let from_doc = eval(&cond, &Event::from_value(&raw, ev.clone()));
            prop_assert_eq!(from_raw, from_doc, "{} on {}", text, String::from_utf8_lossy(&raw));
        }
    }
}
