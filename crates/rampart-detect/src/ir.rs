//! The one compiled rule form. Built-in rules, Sigma rules and CloudWatch filter patterns all
//! lower into [`Rule`]; the engine only ever sees this form. See `IR.md` beside this file for how
//! to lower a new source into it.
//!
//! A rule is metadata ([`RuleMeta`]) plus a [`Condition`] tree over [`FieldPath`]s, plus an
//! [`IndexKeys`] set telling the engine which `eventSource`/`eventName` values the rule can ever
//! match, so an event only meets the rules that can fire on it.

use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::net::IpAddr;

/// Where a rule came from. Shown in alerts and `rampart rules list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleSource {
    /// Compiled into rampart (`crates/rampart-detect/src/rules`).
    Builtin,
    /// Loaded from a SigmaHQ-format YAML file.
    Sigma,
    /// A CloudWatch Logs filter pattern (one per line in a patterns file).
    Pattern,
    /// First-seen anomalies from the per-principal baseline store.
    Baseline,
    /// A GuardDuty finding (`rampart findings pull`); the rule id is the finding type.
    GuardDuty,
    /// A Security Hub finding (any integrated product); the rule id is its first type.
    SecurityHub,
    /// An IAM Access Analyzer finding (external or unused access).
    #[serde(rename = "access-analyzer")]
    AccessAnalyzer,
    /// A non-compliant AWS Config rule evaluation; the rule id is the Config rule's name.
    Config,
}

impl RuleSource {
    /// The name every output writes (`rule_source`), parsed back.
    pub fn parse(s: &str) -> Option<RuleSource> {
        Some(match s {
            "builtin" => RuleSource::Builtin,
            "sigma" => RuleSource::Sigma,
            "pattern" => RuleSource::Pattern,
            "baseline" => RuleSource::Baseline,
            "guardduty" => RuleSource::GuardDuty,
            "securityhub" => RuleSource::SecurityHub,
            "access-analyzer" => RuleSource::AccessAnalyzer,
            "config" => RuleSource::Config,
            _ => return None,
        })
    }

    /// Whether alerts of this source come from another service's findings (intake), not a rule.
    pub fn is_finding(self) -> bool {
        matches!(
            self,
            RuleSource::GuardDuty
                | RuleSource::SecurityHub
                | RuleSource::AccessAnalyzer
                | RuleSource::Config
        )
    }
}

impl fmt::Display for RuleSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RuleSource::Builtin => "builtin",
            RuleSource::Sigma => "sigma",
            RuleSource::Pattern => "pattern",
            RuleSource::Baseline => "baseline",
            RuleSource::GuardDuty => "guardduty",
            RuleSource::SecurityHub => "securityhub",
            RuleSource::AccessAnalyzer => "access-analyzer",
            RuleSource::Config => "config",
        })
    }
}

/// Alert severity, ordered so `--fail-on high` can compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Parse `info|informational|low|medium|high|critical` (Sigma levels included), any case.
    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.to_ascii_lowercase().as_str() {
            "info" | "informational" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
    /// The lowercase name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
    /// OCSF `severity_id` (1 informational … 5 critical).
    pub fn ocsf_id(self) -> u8 {
        match self {
            Severity::Info => 1,
            Severity::Low => 2,
            Severity::Medium => 3,
            Severity::High => 4,
            Severity::Critical => 5,
        }
    }
    /// `steps` levels lower, never below `info`: the severity of a failed attempt.
    pub fn lowered(self, steps: u8) -> Severity {
        const ORDER: [Severity; 5] = [
            Severity::Info,
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ];
        ORDER[(self as usize).saturating_sub(usize::from(steps))]
    }
}

/// Whether the API call an event records succeeded. A call failed when CloudTrail logged an
/// `errorCode` for it, or when it is a `ConsoleLogin` whose `responseElements.ConsoleLogin` is
/// `Failure` (failed sign-ins carry no error code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    #[default]
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

/// What a rule raises for a call that failed. A failed attempt is a different fact from the
/// action: its alert must never read as if the action happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnFailure {
    /// The same alert as on success (title, severity); its `outcome` says `failure`. For
    /// rules whose title is true of a failed call too, and for rules whose definition already
    /// decides about failures (CIS filter patterns, Sigma and user filter-pattern rules).
    #[default]
    Report,
    /// An "Attempted" alert ([`ATTEMPT_PREFIX`] before the title), `lower` severities down.
    Attempt { lower: u8 },
    /// No alert: the call failing is routine (counted in the run's `silenced` figure).
    Silent,
}

/// The start of an attempt alert's title (see [`OnFailure::Attempt`]).
pub const ATTEMPT_PREFIX: &str = "Attempted (failed): ";

impl OnFailure {
    /// The policy as written in `rampart rules list` and docs: `report`, `attempt -N`, `silent`.
    pub fn describe(self) -> String {
        match self {
            OnFailure::Report => "report".to_string(),
            OnFailure::Attempt { lower } => format!("attempt -{lower}"),
            OnFailure::Silent => "silent".to_string(),
        }
    }
}

impl Serialize for OnFailure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.describe())
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything about a rule except its logic. Sigma rules must fill `author` and `license`
/// (DRL 1.1 asks that the author be credited wherever a match is shown).
#[derive(Debug, Clone, Serialize)]
pub struct RuleMeta {
    /// Stable id: `RD-xxx` for built-ins, the Sigma `id` (UUID) for Sigma, `pattern:<file>:<line>`.
    pub id: String,
    pub source: RuleSource,
    pub title: String,
    pub severity: Severity,
    /// MITRE ATT&CK technique ids such as `T1562.008`.
    pub attack: Vec<String>,
    pub description: String,
    /// When the rule fires on benign activity.
    pub false_positives: Vec<String>,
    pub author: Option<String>,
    pub license: Option<String>,
    pub references: Vec<String>,
    /// Where it was loaded from (a file path), if not built in.
    pub origin: Option<String>,
    /// What the rule raises for a failed call ([`OnFailure::Report`] unless a built-in rule
    /// says otherwise).
    pub on_failure: OnFailure,
}

impl RuleMeta {
    /// Metadata with the required fields set and the rest empty.
    pub fn new(
        id: impl Into<String>,
        source: RuleSource,
        title: impl Into<String>,
        severity: Severity,
    ) -> RuleMeta {
        RuleMeta {
            id: id.into(),
            source,
            title: title.into(),
            severity,
            attack: Vec::new(),
            description: String::new(),
            false_positives: Vec::new(),
            author: None,
            license: None,
            references: Vec::new(),
            origin: None,
            on_failure: OnFailure::Report,
        }
    }
}

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// An object key. When the current value is an array, the key is looked up in every
    /// element (implicit array traversal, as Sigma and most users expect).
    Key(String),
    /// `[n]`: one array element.
    Index(usize),
    /// `[*]`: every array element (explicit traversal).
    AnyIndex,
}

/// A path into the event: `userIdentity.sessionContext.sessionIssuer.type`,
/// `requestParameters.ipPermissions.items[0].ipRanges.items[*].cidrIp`.
///
/// Resolution yields zero or more values: arrays met along the way fan out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldPath {
    text: String,
    segments: Vec<Segment>,
    /// The header field this one-key path names, resolved once (see `Header::field_index`).
    header: Option<u8>,
    /// The slot of `userIdentity.<key>` among the keys the event indexes (see
    /// [`rampart_trail::event::identity_slot`]).
    identity: Option<u8>,
    /// Whether the path is `userIdentity.<key>` (decided once: evaluation asks every time).
    in_identity: bool,
}

impl FieldPath {
    /// Parse a dotted path with optional `[n]` / `[*]` suffixes on any segment. A key that itself
    /// contains a dot can be written in quotes: `tags."aws:cloudformation"`.
    pub fn parse(text: &str) -> Result<FieldPath, IrError> {
        let mut segments = Vec::new();
        let b = text.as_bytes();
        let mut i = 0;
        let bad = |why: &str| IrError::BadPath {
            path: text.to_string(),
            why: why.to_string(),
        };
        if text.is_empty() {
            return Err(bad("empty path"));
        }
        while i < b.len() {
            // one key
            if b[i] == b'"' {
                let end = text[i + 1..]
                    .find('"')
                    .ok_or_else(|| bad("unterminated quote"))?
                    + i
                    + 1;
                segments.push(Segment::Key(text[i + 1..end].to_string()));
                i = end + 1;
            } else if b[i] != b'[' {
                let start = i;
                while i < b.len() && b[i] != b'.' && b[i] != b'[' {
                    i += 1;
                }
                if start == i {
                    return Err(bad("empty segment"));
                }
                segments.push(Segment::Key(text[start..i].to_string()));
            }
            // indexes
            while i < b.len() && b[i] == b'[' {
                let end = text[i..].find(']').ok_or_else(|| bad("unterminated ["))? + i;
                let inner = text[i + 1..end].trim();
                if inner == "*" {
                    segments.push(Segment::AnyIndex);
                } else {
                    let n: usize = inner
                        .parse()
                        .map_err(|_| bad("index must be a number or *"))?;
                    segments.push(Segment::Index(n));
                }
                i = end + 1;
            }
            if i < b.len() {
                if b[i] != b'.' {
                    return Err(bad("expected '.' between segments"));
                }
                i += 1;
                if i == b.len() {
                    return Err(bad("trailing '.'"));
                }
            }
        }
        Ok(FieldPath::new(text.to_string(), segments))
    }

    fn new(text: String, segments: Vec<Segment>) -> FieldPath {
        let header = match segments.as_slice() {
            [Segment::Key(k)] => rampart_trail::event::Header::field_index(k),
            _ => None,
        };
        let in_identity = matches!(segments.as_slice(), [Segment::Key(a), Segment::Key(_)] if a == "userIdentity");
        let identity = match segments.as_slice() {
            [_, Segment::Key(k)] if in_identity => rampart_trail::event::identity_slot(k),
            _ => None,
        };
        FieldPath {
            text,
            segments,
            header,
            identity,
            in_identity,
        }
    }

    /// The slot of a `userIdentity.<key>` path whose key the event indexes by slot.
    pub fn identity_slot(&self) -> Option<u8> {
        self.identity
    }

    /// The header field index when the path is one top-level key the typed header holds.
    pub fn header_index(&self) -> Option<u8> {
        self.header
    }

    /// The empty path: the value itself (the item a [`Quantifier`]'s condition tests).
    pub fn itself() -> FieldPath {
        FieldPath::from_keys(Vec::<String>::new())
    }

    /// A path from already-split keys (no parsing; keys may contain dots).
    pub fn from_keys<I: IntoIterator<Item = S>, S: Into<String>>(keys: I) -> FieldPath {
        let segments: Vec<Segment> = keys.into_iter().map(|k| Segment::Key(k.into())).collect();
        let text = segments
            .iter()
            .map(|s| match s {
                Segment::Key(k) => k.clone(),
                _ => String::new(),
            })
            .collect::<Vec<_>>()
            .join(".");
        FieldPath::new(text, segments)
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `key` when the path is `userIdentity.<key>`: the reader indexes these members, so the
    /// engine reads them without walking anything.
    pub fn identity_key(&self) -> Option<&str> {
        if !self.in_identity {
            return None;
        }
        match self.segments.as_slice() {
            [Segment::Key(a), Segment::Key(k)] if a == "userIdentity" => Some(k),
            _ => None,
        }
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The single top-level key if the path is exactly one key (`eventName`), used for indexing
    /// and for answering from the typed header without building a document.
    pub fn top_level_key(&self) -> Option<&str> {
        match self.segments.as_slice() {
            [Segment::Key(k)] => Some(k),
            _ => None,
        }
    }

    /// Every value the path reaches in `root` (arrays fan out), appended to `out`.
    /// A path that reaches nothing appends nothing; an explicit JSON `null` is appended.
    pub fn resolve<'v>(&self, root: &'v Value, out: &mut Vec<&'v Value>) {
        resolve_from(&self.segments, root, out);
    }
}

fn resolve_from<'v>(segs: &[Segment], v: &'v Value, out: &mut Vec<&'v Value>) {
    let Some((first, rest)) = segs.split_first() else {
        out.push(v);
        return;
    };
    match (first, v) {
        (Segment::Key(k), Value::Object(m)) => {
            if let Some(child) = m.get(k.as_str()) {
                resolve_from(rest, child, out);
            }
        }
        (Segment::Key(_), Value::Array(items)) => {
            for item in items {
                resolve_from(segs, item, out);
            }
        }
        (Segment::Index(n), Value::Array(items)) => {
            if let Some(child) = items.get(*n) {
                resolve_from(rest, child, out);
            }
        }
        (Segment::AnyIndex, Value::Array(items)) => {
            for item in items {
                resolve_from(rest, item, out);
            }
        }
        _ => {}
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// How a string predicate compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrOp {
    Equals,
    Contains,
    StartsWith,
    EndsWith,
    /// Glob: `*` any run, `?` one character; `\*`, `\?`, `\\` escape.
    Wildcard,
}

/// A string test. Scalars are compared through their text form (`true`, `42`), so Sigma's
/// `readOnly: false` and filter patterns' `$.x = 42` both work; objects never match, and the
/// engine tests an array element by element.
#[derive(Debug, Clone)]
pub struct StrMatch {
    pub op: StrOp,
    /// Stored lowercased when `case_insensitive`.
    pub needle: String,
    pub case_insensitive: bool,
    /// Prebuilt searcher for `Contains` (over the needle as stored).
    finder: Option<std::sync::Arc<memchr::memmem::Finder<'static>>>,
    needle_ascii: bool,
}

impl StrMatch {
    pub fn new(op: StrOp, needle: &str, case_insensitive: bool) -> StrMatch {
        let needle = if case_insensitive {
            needle.to_lowercase()
        } else {
            needle.to_string()
        };
        let finder = (op == StrOp::Contains).then(|| {
            std::sync::Arc::new(memchr::memmem::Finder::new(needle.as_bytes()).into_owned())
        });
        StrMatch {
            op,
            needle_ascii: needle.is_ascii(),
            needle,
            case_insensitive,
            finder,
        }
    }
    /// Test one string. ASCII input is compared case-insensitively in place (no allocation).
    pub fn test(&self, s: &str) -> bool {
        if !self.case_insensitive {
            return self.test_exact(s);
        }
        if self.op == StrOp::Equals && self.needle_ascii && s.len() != self.needle.len() {
            // Lowered, a string can equal an ASCII needle only if each of its characters
            // lowers to ASCII: ASCII itself (one byte each) or the Kelvin sign (three bytes,
            // lowered to `k`). So its length is between the needle's and three times it;
            // outside that range (a long user agent against a tool's name) no scan is needed.
            if s.len() < self.needle.len() || s.len() > 3 * self.needle.len() || s.is_ascii() {
                return false;
            }
        }
        if self.needle_ascii && s.is_ascii() {
            let (h, n) = (s.as_bytes(), self.needle.as_bytes());
            return match self.op {
                StrOp::Equals => h.eq_ignore_ascii_case(n),
                StrOp::StartsWith => h.len() >= n.len() && h[..n.len()].eq_ignore_ascii_case(n),
                StrOp::EndsWith => {
                    h.len() >= n.len() && h[h.len() - n.len()..].eq_ignore_ascii_case(n)
                }
                StrOp::Contains => {
                    // Lower a short haystack once on the stack, then one vectorised search.
                    let mut buf = [0u8; 512];
                    match (&self.finder, h.len() <= buf.len()) {
                        (Some(f), true) => {
                            let low = &mut buf[..h.len()];
                            low.copy_from_slice(h);
                            low.make_ascii_lowercase();
                            f.find(low).is_some()
                        }
                        _ => contains_ignore_ascii_case(h, n),
                    }
                }
                StrOp::Wildcard => {
                    if h.iter().any(u8::is_ascii_uppercase) {
                        self.test_exact(&s.to_ascii_lowercase())
                    } else {
                        self.test_exact(s)
                    }
                }
            };
        }
        self.test_exact(&s.to_lowercase())
    }
    /// Test a string the caller already lowered (ASCII), as [`StrMatch::test`] would the original.
    pub fn test_lowered(&self, lower: &str) -> bool {
        self.test_exact(lower)
    }

    fn test_exact(&self, s: &str) -> bool {
        match self.op {
            StrOp::Equals => s == self.needle,
            StrOp::Contains => match &self.finder {
                Some(f) => f.find(s.as_bytes()).is_some(),
                None => memchr::memmem::find(s.as_bytes(), self.needle.as_bytes()).is_some(),
            },
            StrOp::StartsWith => s.starts_with(self.needle.as_str()),
            StrOp::EndsWith => s.ends_with(self.needle.as_str()),
            StrOp::Wildcard => glob_match(self.needle.as_bytes(), s.as_bytes()),
        }
    }
}

/// `needle` (already lowercase) occurs in `h`, ASCII case-insensitively: find candidates for
/// the first byte in either case with `memchr2`, then compare the rest.
fn contains_ignore_ascii_case(h: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    if h.len() < needle.len() {
        return false;
    }
    let last = h.len() - needle.len();
    let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let mut i = 0;
    while i <= last {
        match memchr::memchr2(lo, up, &h[i..=last]) {
            Some(k) => {
                let at = i + k;
                if h[at + 1..at + needle.len()].eq_ignore_ascii_case(rest) {
                    return true;
                }
                i = at + 1;
            }
            None => return false,
        }
    }
    false
}

/// Glob match with `*`, `?` and backslash escapes; linear-time backtracking on the last `*`.
pub fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        if p < pat.len() {
            match pat[p] {
                b'*' => {
                    star = Some((p, i));
                    p += 1;
                    continue;
                }
                b'?' => {
                    // one UTF-8 character
                    p += 1;
                    i += utf8_len(s[i]);
                    continue;
                }
                b'\\'
                    if p + 1 < pat.len()
                        && matches!(pat[p + 1], b'*' | b'?' | b'\\')
                        && pat[p + 1] == s[i] =>
                {
                    p += 2;
                    i += 1;
                    continue;
                }
                b'\\' if p + 1 < pat.len() && matches!(pat[p + 1], b'*' | b'?' | b'\\') => {}
                c if c == s[i] => {
                    p += 1;
                    i += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, si)) => {
                p = sp + 1;
                i = si + 1;
                star = Some((sp, si + 1));
            }
            None => return false,
        }
    }
    while p < pat.len() && pat[p] == b'*' {
        p += 1;
    }
    p == pat.len()
}

fn utf8_len(b: u8) -> usize {
    match b {
        0..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// Numeric comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// An IP network for CIDR tests (`10.0.0.0/8`, `2001:db8::/32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    /// Parse `a.b.c.d/n`, `v6/n`, or a bare address (a /32 or /128).
    pub fn parse(s: &str) -> Result<Cidr, IrError> {
        let bad = || IrError::BadCidr(s.to_string());
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.trim().parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.trim().parse::<u8>().map_err(|_| bad())?,
            None => max,
        };
        if prefix > max {
            return Err(bad());
        }
        Ok(Cidr { addr, prefix })
    }
    /// Whether `ip` lies inside this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.prefix)
                };
                (u32::from(n) & mask) == (u32::from(a) & mask)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.prefix)
                };
                (u128::from(n) & mask) == (u128::from(a) & mask)
            }
            _ => false,
        }
    }
}

/// A test applied to the values a [`FieldPath`] reaches. Unless stated otherwise the predicate
/// holds when **any** reached value satisfies it, a reached array standing for its elements
/// (nested arrays too) whatever the predicate; a missing field satisfies nothing but `Null` /
/// `Exists(false)`.
#[derive(Debug, Clone)]
pub enum Predicate {
    /// One string test.
    Str(StrMatch),
    /// Exact membership in a set of strings (fast path for long value lists); values stored
    /// lowercased when `case_insensitive`.
    OneOf {
        values: Vec<String>,
        case_insensitive: bool,
    },
    /// Regular expression (search, not anchored, unless the pattern anchors itself).
    Regex(RegexMatch),
    /// Numeric comparison; numeric strings (`"443"`) are compared as numbers too.
    Num(NumOp, f64),
    /// The value is an IP address inside one of these networks.
    Cidr(Vec<Cidr>),
    /// The field has no value other than `null`: missing, `null`, `[]`, `[null]` (Sigma
    /// `field: null`, as Elasticsearch's `NOT _exists_` answers it).
    Null,
    /// `Exists(true)`: the field is present (even if `null` or `[]`); `Exists(false)`: it is
    /// absent.
    Exists(bool),
    /// The value is a JSON boolean equal to this (a string such as `"true"` never is).
    Bool(bool),
    /// The value equals (string form, case-insensitive when set) some value of another field.
    FieldRef {
        other: FieldPath,
        case_insensitive: bool,
    },
    /// Any of several substrings occurs (a list of `contains` values, as Sigma writes them):
    /// one scan instead of one search per value. Built by [`crate::optimize`].
    ContainsAny(ContainsSet),
    /// Any of the predicates holds.
    Any(Vec<Predicate>),
    /// Every predicate holds, each possibly on a different reached value or array element
    /// (Sigma `|all`).
    All(Vec<Predicate>),
}

/// How a [`Condition::Match`] reaches values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reach {
    /// The values the path resolves to.
    #[default]
    Path,
    /// Every scalar leaf anywhere under the values the path resolves to (Sigma's `contains`
    /// applied to a whole sub-object such as `requestParameters`).
    Anywhere,
}

/// The condition tree.
#[derive(Debug, Clone)]
pub enum Condition {
    /// Always this value (an empty `all`/`any` lowers to this).
    Const(bool),
    /// A predicate over a field.
    Match {
        field: FieldPath,
        reach: Reach,
        pred: Predicate,
    },
    /// Logical and.
    All(Vec<Condition>),
    /// Logical or.
    Any(Vec<Condition>),
    /// Logical not.
    Not(Box<Condition>),
    /// A CloudWatch Logs JSON filter pattern evaluated by `rampart-pattern`, kept whole so its
    /// exact AWS semantics (numeric coercion, `NOT EXISTS`, array indexing) are preserved.
    Pattern(Box<rampart_pattern::FilterPattern>),
    /// The raw event text contains this literal. A cheap pre-filter for rules that would otherwise
    /// build a document for every event; use it only as a *necessary* part of an `All` (JSON
    /// escaping means it can miss text that contains `"` or `\\`).
    RawContains(Box<Literal>),
    /// Some item of the values a path reaches satisfies a condition of its own, whose paths are
    /// relative to the item: "some statement of the policy allows `*` to everyone, without a
    /// condition", where separate `Match`es could each be satisfied by a different statement.
    AnyItem(Box<Quantifier>),
    /// A verdict that field tests cannot reach (what a resource policy lets outsiders do), given
    /// by a [`Judge`] on the event's document. Costly: put it in an `All` beside the
    /// `eventSource`/`eventName` tests, which the engine checks first.
    Judge(std::sync::Arc<dyn Judge>),
}

/// The judge of a [`Condition::Judge`]: a pure function of an event (or, inside a quantifier,
/// of the item), with what it found for the alert.
pub trait Judge: Send + Sync + fmt::Debug {
    /// What the judgement found when it holds (shown in the alert's `matched` object under
    /// [`Judge::key`]); `None` when it does not hold.
    fn judge(&self, event: &Value) -> Option<Value>;
    /// The key of the finding in `matched` (`exposure`).
    fn key(&self) -> &str;
}

/// The quantifier of [`Condition::AnyItem`]: which items, and the test each may pass.
#[derive(Debug, Clone)]
pub struct Quantifier {
    /// Where the items are, relative to the enclosing item (the event at the top). Arrays met
    /// along the way fan out as in a `Match`; [`FieldPath::itself`] is the enclosing value.
    pub path: FieldPath,
    /// What an item of a reached value is.
    pub items: Items,
    /// A reached string holding a JSON document is parsed, and its items are those of the
    /// document (IAM logs policy documents as strings); a string that does not parse has none.
    pub decode_json: bool,
    /// The test; it holds when some item passes it.
    pub cond: Condition,
}

/// The items of a value, for [`Quantifier::items`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Items {
    /// The elements of an array; any other value is its own single item (a policy's
    /// `Statement` is an object or an array of them).
    Elements,
    /// The members of an object, each seen as `{"key": <name>, "value": <value>}` (the
    /// operators of a policy `Condition`, the keys under an operator); other values have none.
    Members,
}

/// A literal searched for in raw event bytes, with its searcher built once.
#[derive(Debug, Clone)]
pub struct Literal {
    pub text: String,
    finder: memchr::memmem::Finder<'static>,
}

impl Literal {
    pub fn new(text: &str) -> Literal {
        Literal {
            text: text.to_string(),
            finder: memchr::memmem::Finder::new(text.as_bytes()).into_owned(),
        }
    }
    /// Whether `haystack` contains the literal (case-sensitive).
    pub fn found_in(&self, haystack: &[u8]) -> bool {
        self.finder.find(haystack).is_some()
    }
}

impl Condition {
    /// The raw event text contains `text` (see [`Condition::RawContains`]).
    pub fn raw_contains(text: &str) -> Condition {
        Condition::RawContains(Box::new(Literal::new(text)))
    }

    /// `field` equals one of `values` (case-sensitive): the common shape of built-in rules.
    pub fn one_of(field: &str, values: &[&str]) -> Condition {
        Condition::Match {
            field: FieldPath::parse(field).expect("static field path"),
            reach: Reach::Path,
            pred: Predicate::OneOf {
                values: values.iter().map(|s| s.to_string()).collect(),
                case_insensitive: false,
            },
        }
    }
    /// `field` equals `value` (case-sensitive).
    pub fn eq(field: &str, value: &str) -> Condition {
        Condition::one_of(field, &[value])
    }
    /// Some item of what `path` reaches passes `cond` (see [`Condition::AnyItem`]); `path` is
    /// `""` for the enclosing value itself.
    pub fn any_item(path: &str, items: Items, cond: Condition) -> Condition {
        Condition::AnyItem(Box::new(Quantifier {
            path: if path.is_empty() {
                FieldPath::itself()
            } else {
                FieldPath::parse(path).expect("static field path")
            },
            items,
            decode_json: false,
            cond,
        }))
    }
    /// [`Condition::any_item`] over the elements of a JSON document that is logged as a string
    /// (or an object, as CloudTrail logs some of them).
    pub fn any_item_of_json(path: &str, cond: Condition) -> Condition {
        Condition::AnyItem(Box::new(Quantifier {
            path: FieldPath::parse(path).expect("static field path"),
            items: Items::Elements,
            decode_json: true,
            cond,
        }))
    }
    /// The enclosing value itself passes `pred` (inside a quantifier: the item).
    pub fn itself(pred: Predicate) -> Condition {
        Condition::Match {
            field: FieldPath::itself(),
            reach: Reach::Path,
            pred,
        }
    }
    /// `field` passes `pred`.
    pub fn field(field: &str, pred: Predicate) -> Condition {
        Condition::Match {
            field: FieldPath::parse(field).expect("static field path"),
            reach: Reach::Path,
            pred,
        }
    }
    /// Logical not.
    #[allow(clippy::should_implement_trait)]
    pub fn not(c: Condition) -> Condition {
        Condition::Not(Box::new(c))
    }
}

/// Which events a rule can match; the engine indexes on it. `None` means "any value".
///
/// The engine gives an event to a rule when the event's `eventName` is in `event_names` (or the
/// rule accepts any name) **and** its `eventSource` is in `event_sources` (or any). Comparison is
/// ASCII-case-insensitive, so Sigma's case-insensitive equality indexes safely. A wrong key set
/// loses detections: when unsure, leave it `None` — [`IndexKeys::derive`] does this for you.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexKeys {
    pub event_sources: Option<Vec<String>>,
    pub event_names: Option<Vec<String>>,
    /// Values `userIdentity.type` must take (`Root`, `AssumedRole`, …), so that a rule about
    /// one kind of principal is skipped for events of every other kind without evaluating it.
    pub identity_types: Option<Vec<String>>,
}

impl IndexKeys {
    /// Accept every event.
    pub fn any() -> IndexKeys {
        IndexKeys::default()
    }

    /// Derive the keys from a condition: a field is constrained only when every way of
    /// satisfying the condition requires it to equal one of a known set of values.
    pub fn derive(cond: &Condition) -> IndexKeys {
        IndexKeys {
            event_sources: required_values(cond, "eventSource"),
            event_names: required_values(cond, "eventName"),
            // a numeric value could match a number written another way (`5` and `5.0` in a
            // filter pattern): such a set is no index
            identity_types: required_values(cond, "userIdentity.type")
                .filter(|v| v.iter().all(|x| x.trim().parse::<f64>().is_err())),
        }
    }
}

/// Whether `f` is the dotted path `field` (keys only).
fn path_is(f: &FieldPath, field: &str) -> bool {
    let mut keys = field.split('.');
    f.segments()
        .iter()
        .all(|s| matches!(s, Segment::Key(k) if keys.next() == Some(k.as_str())))
        && keys.next().is_none()
}

/// The set of values `field` must take for `cond` to hold, if the condition pins it; lowercased.
fn required_values(cond: &Condition, field: &str) -> Option<Vec<String>> {
    let mut v = match cond {
        Condition::Match {
            field: f,
            reach: Reach::Path,
            pred,
        } if path_is(f, field) => pred_values(pred)?,
        Condition::Match { .. }
        | Condition::Const(_)
        | Condition::Not(_)
        | Condition::RawContains(_)
        | Condition::AnyItem(_)
        | Condition::Judge(_) => return None,
        Condition::All(cs) => {
            // the intersection of the constrained children (any one constraint is enough)
            let mut acc: Option<Vec<String>> = None;
            for c in cs {
                if let Some(vals) = required_values(c, field) {
                    acc = Some(match acc {
                        None => vals,
                        Some(prev) => prev.into_iter().filter(|x| vals.contains(x)).collect(),
                    });
                }
            }
            acc?
        }
        Condition::Any(cs) => {
            if cs.is_empty() {
                return None;
            }
            let mut all = Vec::new();
            for c in cs {
                all.extend(required_values(c, field)?);
            }
            all
        }
        Condition::Pattern(p) => p.required_values(field)?,
    };
    for s in &mut v {
        s.make_ascii_lowercase();
    }
    v.sort();
    v.dedup();
    Some(v)
}

fn pred_values(p: &Predicate) -> Option<Vec<String>> {
    match p {
        Predicate::Str(StrMatch {
            op: StrOp::Equals,
            needle,
            ..
        }) => Some(vec![needle.clone()]),
        Predicate::Str(StrMatch {
            op: StrOp::Wildcard,
            needle,
            ..
        }) if !needle.contains(['*', '?', '\\']) => Some(vec![needle.clone()]),
        Predicate::OneOf { values, .. } => Some(values.clone()),
        Predicate::Any(ps) => {
            let mut all = Vec::new();
            for p in ps {
                all.extend(pred_values(p)?);
            }
            Some(all)
        }
        Predicate::All(ps) => ps.iter().find_map(pred_values),
        _ => None,
    }
}

/// Several substrings searched for in one pass (see [`Predicate::ContainsAny`]); it answers
/// exactly as `Any` of [`StrOp::Contains`] tests of the same needles would.
///
/// Haystacks are short (user agents, ARNs, names), where building a search per needle costs
/// more than the search: one vectorised scan finds the positions of the needles' first bytes
/// (at most three distinct ones) and only those positions are compared.
#[derive(Debug, Clone)]
pub struct ContainsSet {
    /// The needles as stored (lowercase and ASCII when `case_insensitive`).
    pub needles: Vec<String>,
    pub case_insensitive: bool,
    /// The distinct first bytes of the needles (one to three).
    firsts: Vec<u8>,
    /// For case-insensitive sets whose needles are all two bytes or longer and start with two
    /// letters: the distinct first two bytes, lowercase (see `find_folded`).
    pairs: Vec<(u8, u8)>,
}

impl ContainsSet {
    /// The set for `needles`; `None` when a needle is empty, a case-insensitive needle is not
    /// ASCII (ASCII case folding of the haystack would not be what Unicode lowering does), or
    /// the needles start with more than three distinct bytes.
    pub fn new(needles: Vec<String>, case_insensitive: bool) -> Option<ContainsSet> {
        if needles.is_empty()
            || needles.iter().any(|n| n.is_empty())
            || (case_insensitive && needles.iter().any(|n| !n.is_ascii()))
        {
            return None;
        }
        let mut firsts: Vec<u8> = needles.iter().map(|n| n.as_bytes()[0]).collect();
        firsts.sort_unstable();
        firsts.dedup();
        if firsts.len() > 3 {
            return None;
        }
        // `| 0x20` folds case only for letters: other bytes would be folded into each other
        let foldable =
            |n: &String| n.len() >= 2 && n.as_bytes()[..2].iter().all(u8::is_ascii_lowercase);
        let mut pairs: Vec<(u8, u8)> = if case_insensitive && needles.iter().all(foldable) {
            needles
                .iter()
                .map(|n| (n.as_bytes()[0], n.as_bytes()[1]))
                .collect()
        } else {
            Vec::new()
        };
        pairs.sort_unstable();
        pairs.dedup();
        Some(ContainsSet {
            needles,
            case_insensitive,
            firsts,
            pairs,
        })
    }

    /// Whether any needle occurs in `s`.
    pub fn test(&self, s: &str) -> bool {
        if !self.case_insensitive {
            return self.find_in(s.as_bytes());
        }
        // `None`: not ASCII, or needles the folded search cannot take
        if let Some(found) = self.find_folded(s.as_bytes()) {
            return found;
        }
        if s.is_ascii() {
            return self.find_in(s.to_ascii_lowercase().as_bytes());
        }
        // Unicode lowering, as `StrMatch` does (it can turn a non-ASCII character into an ASCII
        // one: the Kelvin sign into `k`).
        self.find_in(s.to_lowercase().as_bytes())
    }

    /// Case-insensitive search of an ASCII haystack without lowering it: every position whose
    /// first two bytes, case-folded, start a needle is a candidate, found sixteen positions at a
    /// time; only candidates are compared in full. `None` when the haystack is not ASCII or the
    /// needles do not all start with two letters.
    fn find_folded(&self, h: &[u8]) -> Option<bool> {
        let pairs = &self.pairs;
        if pairs.is_empty() {
            return None;
        }
        let at = |i: usize| {
            self.needles.iter().any(|n| {
                let n = n.as_bytes();
                h.len() - i >= n.len() && h[i..i + n.len()].eq_ignore_ascii_case(n)
            })
        };
        let mut i = match pair_candidates(h, pairs, &mut |i| at(i)) {
            Scan::Found => return Some(true),
            Scan::NotAscii => return None,
            Scan::Rest(i) => i,
        };
        if !h[i..].is_ascii() {
            return None;
        }
        while i + 1 < h.len() {
            if pairs
                .iter()
                .any(|&(x, y)| (h[i] | 0x20) == x && (h[i + 1] | 0x20) == y)
                && at(i)
            {
                return Some(true);
            }
            i += 1;
        }
        Some(false)
    }

    fn find_in(&self, h: &[u8]) -> bool {
        let at = |i: usize| {
            self.needles
                .iter()
                .any(|n| h[i..].starts_with(n.as_bytes()))
        };
        match self.firsts[..] {
            [a] => memchr::memchr_iter(a, h).any(at),
            [a, b] => memchr::memchr2_iter(a, b, h).any(at),
            [a, b, c] => memchr::memchr3_iter(a, b, c, h).any(at),
            _ => unreachable!("one to three first bytes"),
        }
    }
}

/// How a vectorised scan of a haystack ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// A candidate was confirmed.
    Found,
    /// No candidate in the blocks scanned; the caller checks the bytes from here on.
    Rest(usize),
    /// A non-ASCII byte: the caller takes the Unicode path.
    NotAscii,
}

/// Calls `at` with every position `i` of `h`, block by block up to the last 17-byte window,
/// where bytes `i` and `i + 1`, case-folded (`| 0x20`), are one of `pairs` (one to three),
/// until `at` returns true; stops at the first block holding a non-ASCII byte.
#[cfg(target_arch = "x86_64")]
fn pair_candidates(h: &[u8], pairs: &[(u8, u8)], at: &mut dyn FnMut(usize) -> bool) -> Scan {
    // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 CPU has it.
    unsafe { pair_candidates_sse2(h, pairs, at) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn pair_candidates_sse2(h: &[u8], pairs: &[(u8, u8)], at: &mut dyn FnMut(usize) -> bool) -> Scan {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    // three pairs always (repeating the last), so the loop below has no inner loop
    let pair = |k: usize| pairs[k.min(pairs.len() - 1)];
    let splat = |k: usize| {
        let (x, y) = pair(k);
        (_mm_set1_epi8(x as i8), _mm_set1_epi8(y as i8))
    };
    let ((x0, y0), (x1, y1), (x2, y2)) = (splat(0), splat(1), splat(2));
    let fold = _mm_set1_epi8(0x20);
    let mut i = 0;
    while i + 17 <= h.len() {
        let window = &h[i..i + 17];
        // SAFETY: `window` holds 17 bytes: both unaligned 16-byte loads stay inside it.
        let (a, b) = unsafe {
            (
                _mm_loadu_si128(window.as_ptr().cast::<__m128i>()),
                _mm_loadu_si128(window.as_ptr().add(1).cast::<__m128i>()),
            )
        };
        if _mm_movemask_epi8(a) != 0 {
            return Scan::NotAscii;
        }
        let (a, b) = (_mm_or_si128(a, fold), _mm_or_si128(b, fold));
        let hit = |x, y| _mm_and_si128(_mm_cmpeq_epi8(a, x), _mm_cmpeq_epi8(b, y));
        let any = _mm_or_si128(_mm_or_si128(hit(x0, y0), hit(x1, y1)), hit(x2, y2));
        let mut mask = _mm_movemask_epi8(any) as u32;
        while mask != 0 {
            if at(i + mask.trailing_zeros() as usize) {
                return Scan::Found;
            }
            mask &= mask - 1;
        }
        i += 16;
    }
    Scan::Rest(i)
}

#[cfg(not(target_arch = "x86_64"))]
fn pair_candidates(_h: &[u8], _pairs: &[(u8, u8)], _at: &mut dyn FnMut(usize) -> bool) -> Scan {
    Scan::Rest(0)
}

/// A compiled rule: metadata, logic, and the index keys.
#[derive(Debug, Clone)]
pub struct Rule {
    pub meta: RuleMeta,
    pub condition: Condition,
    pub index: IndexKeys,
}

impl Rule {
    /// A rule whose index keys are derived from its condition.
    pub fn new(meta: RuleMeta, condition: Condition) -> Rule {
        let index = IndexKeys::derive(&condition);
        Rule {
            meta,
            condition,
            index,
        }
    }
}

/// Errors building IR pieces (bad paths, CIDRs, regexes).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum IrError {
    #[error("bad field path `{path}`: {why}")]
    BadPath { path: String, why: String },
    #[error("bad CIDR `{0}`: expected a.b.c.d/n or an IPv6 network")]
    BadCidr(String),
    #[error("bad regular expression `{pattern}`: {why}")]
    BadRegex { pattern: String, why: String },
}

/// A compiled regular expression with the literal every match must contain, when it has one:
/// most strings lack the literal, and a `memmem` search rejects them far faster than the regex.
#[derive(Debug, Clone)]
pub struct RegexMatch {
    re: regex::Regex,
    required: Option<Box<Literal>>,
    case_insensitive: bool,
}

impl RegexMatch {
    pub fn is_match(&self, s: &str) -> bool {
        if let Some(lit) = &self.required
            && !lit.found_in(s.as_bytes())
        {
            return false;
        }
        self.re.is_match(s)
    }

    pub fn as_str(&self) -> &str {
        self.re.as_str()
    }

    /// Whether it was compiled case-insensitively (other evaluators of the IR need to know).
    pub fn case_insensitive(&self) -> bool {
        self.case_insensitive
    }
}

/// Compile a regex for [`Predicate::Regex`], with a size limit so a hostile rule cannot blow up.
pub fn compile_regex(pattern: &str, case_insensitive: bool) -> Result<RegexMatch, IrError> {
    let bad = |why: String| IrError::BadRegex {
        pattern: pattern.to_string(),
        why: why.lines().last().unwrap_or("").to_string(),
    };
    let re = regex::RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| bad(e.to_string()))?;
    let required = regex_syntax::ParserBuilder::new()
        .case_insensitive(case_insensitive)
        .build()
        .parse(pattern)
        .ok()
        .and_then(|hir| required_literal(&hir))
        .filter(|l| l.len() >= 2)
        .and_then(|l| String::from_utf8(l).ok())
        .map(|l| Box::new(Literal::new(&l)));
    Ok(RegexMatch {
        re,
        required,
        case_insensitive,
    })
}

/// The longest literal that every match of `hir` contains (case folding turns literals into
/// classes, so case-insensitive patterns mostly have none).
fn required_literal(hir: &regex_syntax::hir::Hir) -> Option<Vec<u8>> {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Literal(l) => Some(l.0.to_vec()),
        HirKind::Capture(c) => required_literal(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => required_literal(&r.sub),
        HirKind::Concat(subs) => {
            let mut best: Option<Vec<u8>> = None;
            let mut run: Vec<u8> = Vec::new();
            let keep = |cand: Vec<u8>, best: &mut Option<Vec<u8>>| {
                if best.as_ref().is_none_or(|b| cand.len() > b.len()) {
                    *best = Some(cand);
                }
            };
            for sub in subs {
                if let HirKind::Literal(l) = sub.kind() {
                    run.extend_from_slice(&l.0);
                    continue;
                }
                if !run.is_empty() {
                    keep(std::mem::take(&mut run), &mut best);
                }
                if let Some(inner) = required_literal(sub) {
                    keep(inner, &mut best);
                }
            }
            if !run.is_empty() {
                keep(run, &mut best);
            }
            best
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regexes_prefilter_on_their_required_literal() {
        let lit = |p: &str, ci: bool| compile_regex(p, ci).unwrap().required.map(|l| l.text);
        assert_eq!(
            lit(".+:assumed-role/aws:.+", false).as_deref(),
            Some(":assumed-role/aws:")
        );
        assert_eq!(lit("^(foo|bar)baz+qux", false).as_deref(), Some("qux"));
        assert_eq!(lit("a|b", false), None);
        assert_eq!(lit("abc", true), None);
        assert_eq!(lit("(?:xy)?z", false), None);
        let r = compile_regex(".+:assumed-role/aws:.+", false).unwrap();
        assert!(r.is_match("arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1"));
        assert!(!r.is_match("arn:aws:sts::1:assumed-role/admin/bob"));
    }

    #[test]
    fn paths_parse_and_resolve_through_arrays() {
        let p = FieldPath::parse("a.b[*].c").unwrap();
        assert_eq!(p.segments().len(), 4);
        let v: Value = serde_json::json!({"a":{"b":[{"c":1},{"c":2},{"d":3}]}});
        let mut out = Vec::new();
        p.resolve(&v, &mut out);
        assert_eq!(out, vec![&Value::from(1), &Value::from(2)]);
        // implicit traversal
        let mut out = Vec::new();
        FieldPath::parse("a.b.c").unwrap().resolve(&v, &mut out);
        assert_eq!(out.len(), 2);
        let mut out = Vec::new();
        FieldPath::parse("a.b[1].c").unwrap().resolve(&v, &mut out);
        assert_eq!(out, vec![&Value::from(2)]);
        assert!(FieldPath::parse("a..b").is_err());
        assert!(FieldPath::parse("a[x]").is_err());
        assert!(FieldPath::parse("").is_err());
        assert_eq!(
            FieldPath::parse("tags.\"aws:x.y\"").unwrap().segments()[1],
            Segment::Key("aws:x.y".into())
        );
    }

    #[test]
    fn case_insensitive_strings() {
        let t = |op, n: &str, s: &str| StrMatch::new(op, n, true).test(s);
        assert!(t(StrOp::Contains, "KALI", "Linux/6.0.0-kali3-amd64"));
        assert!(t(StrOp::StartsWith, "linux", "Linux/6"));
        assert!(t(StrOp::EndsWith, "AMD64", "x-amd64"));
        assert!(t(StrOp::Equals, "stoplogging", "StopLogging"));
        assert!(t(StrOp::Wildcard, "stop*", "StopLogging"));
        assert!(t(StrOp::Equals, "ÉTÉ", "été"));
        assert!(!t(StrOp::Contains, "kali", "Linux"));
        assert!(!StrMatch::new(StrOp::Equals, "a", false).test("A"));
    }

    /// The length bound of a case-insensitive `Equals` rests on this: the only characters
    /// that lower to ASCII are ASCII and the Kelvin sign (three bytes, lowered to one).
    #[test]
    fn only_ascii_and_kelvin_lower_to_ascii() {
        for c in (0..=0x10ffffu32).filter_map(char::from_u32) {
            let lower: String = c.to_lowercase().collect();
            if lower.is_ascii() {
                assert!(c.is_ascii() || c == '\u{212a}', "{c:?} lowers to {lower:?}");
                assert!(c.len_utf8() <= 3 * lower.len());
            }
        }
    }

    proptest::proptest! {
        /// Case-insensitive tests agree with lowering both sides, whatever the lengths and
        /// characters (Kelvin sign, dotted capital I, accents, ASCII).
        #[test]
        fn case_insensitive_tests_are_lowered_comparisons(
            needle in "[kKaA\u{212a}\u{130}éÉi]{0,4}",
            s in "[kKaA\u{212a}\u{130}éÉi]{0,12}",
        ) {
            let n = needle.to_lowercase();
            let l = s.to_lowercase();
            let t = |op| StrMatch::new(op, &needle, true).test(&s);
            proptest::prop_assert_eq!(t(StrOp::Equals), l == n);
            proptest::prop_assert_eq!(t(StrOp::StartsWith), l.starts_with(&n));
            proptest::prop_assert_eq!(t(StrOp::EndsWith), l.ends_with(&n));
            proptest::prop_assert_eq!(t(StrOp::Contains), l.contains(&n));
        }
    }

    #[test]
    fn glob() {
        assert!(glob_match(b"Delete*", b"DeleteTrail"));
        assert!(glob_match(b"*Trail", b"DeleteTrail"));
        assert!(glob_match(b"D?lete*l", b"DeleteTrail"));
        assert!(!glob_match(b"Delete?", b"Delete"));
        assert!(glob_match(b"a\\*b", b"a*b"));
        assert!(!glob_match(b"a\\*b", b"axb"));
        assert!(glob_match(b"*", b""));
        assert!(glob_match(b"*a*b*c*", b"xxaxxbxxcxx"));
    }

    #[test]
    fn cidr() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.2.3.4".parse().unwrap()));
        assert!(!c.contains("11.2.3.4".parse().unwrap()));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("1.1.1.1".parse().unwrap())
        );
        assert!(
            Cidr::parse("2001:db8::/32")
                .unwrap()
                .contains("2001:db8::1".parse().unwrap())
        );
        assert!(Cidr::parse("10.0.0.0/33").is_err());
    }

    #[test]
    fn index_keys_derive() {
        let c = Condition::All(vec![
            Condition::eq("eventSource", "cloudtrail.amazonaws.com"),
            Condition::Any(vec![
                Condition::eq("eventName", "StopLogging"),
                Condition::eq("eventName", "DeleteTrail"),
            ]),
        ]);
        let k = IndexKeys::derive(&c);
        assert_eq!(
            k.event_sources,
            Some(vec!["cloudtrail.amazonaws.com".to_string()])
        );
        assert_eq!(
            k.event_names,
            Some(vec!["deletetrail".to_string(), "stoplogging".to_string()])
        );
        // an or-branch without a name constraint makes the rule "any name"
        let c = Condition::Any(vec![
            Condition::eq("eventName", "A"),
            Condition::eq("errorCode", "X"),
        ]);
        assert_eq!(IndexKeys::derive(&c).event_names, None);
        // not never constrains
        assert_eq!(
            IndexKeys::derive(&Condition::not(Condition::eq("eventName", "A"))).event_names,
            None
        );
    }
}
