//! Reading CloudTrail input into raw records for the engine: `.json.gz` / `.json` with
//! `{"Records": [...]}`, JSON arrays, JSON Lines, single events and EventBridge envelopes,
//! directories in the S3 delivery layout (digests skipped, `--since/--until` pruning by the
//! `YYYY/MM/DD` key date), and stdin.
//!
//! This is the detection side's own small reader so `rampart detect` works on its own; the
//! dedicated streaming reader crate can replace it behind the same callback shape.

use crate::event::{Event, EventError};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Records above this size are skipped with a message (CloudTrail events are at most ~256 KB).
pub const MAX_EVENT_BYTES: usize = 2 * 1024 * 1024;

/// A problem with part of the input; the rest is still processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// `path` or `path:record N` or `path:line N`.
    pub location: String,
    pub message: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Counters for one read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReadStats {
    pub files: u64,
    pub records: u64,
    pub skipped: u64,
}

impl std::ops::AddAssign for ReadStats {
    fn add_assign(&mut self, o: ReadStats) {
        self.files += o.files;
        self.records += o.records;
        self.skipped += o.skipped;
    }
}

/// Reuses buffers and the decompressor across files.
pub struct Reader {
    gz: libdeflater::Decompressor,
    compressed: Vec<u8>,
    plain: Vec<u8>,
}

impl Default for Reader {
    fn default() -> Self {
        Reader::new()
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, rename = "Records")]
    records: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct EventBridge<'a> {
    #[serde(borrow)]
    detail: &'a RawValue,
    #[serde(rename = "detail-type")]
    _detail_type: serde::de::IgnoredAny,
}

impl Reader {
    pub fn new() -> Reader {
        Reader {
            gz: libdeflater::Decompressor::new(),
            compressed: Vec::new(),
            plain: Vec::new(),
        }
    }

    /// Read one file, calling `each(record_bytes, record_number)` per record.
    pub fn read_file(
        &mut self,
        path: &Path,
        stats: &mut ReadStats,
        issues: &mut Vec<Issue>,
        each: &mut dyn FnMut(&[u8], usize),
    ) {
        stats.files += 1;
        let name = path.display().to_string();
        self.compressed.clear();
        if let Err(e) =
            std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut self.compressed))
        {
            issues.push(Issue {
                location: name,
                message: format!("cannot read: {e}"),
            });
            stats.skipped += 1;
            return;
        }
        let data = std::mem::take(&mut self.compressed);
        self.read_bytes(&name, &data, stats, issues, each);
        self.compressed = data;
    }

    /// Read an in-memory object (gzip detected by its magic bytes).
    pub fn read_bytes(
        &mut self,
        name: &str,
        data: &[u8],
        stats: &mut ReadStats,
        issues: &mut Vec<Issue>,
        each: &mut dyn FnMut(&[u8], usize),
    ) {
        if data.starts_with(&[0x1f, 0x8b]) {
            if let Err(m) = self.gunzip(data) {
                issues.push(Issue {
                    location: name.to_string(),
                    message: m,
                });
                stats.skipped += 1;
                return;
            }
            let plain = std::mem::take(&mut self.plain);
            parse_records(name, &plain, stats, issues, each);
            self.plain = plain;
        } else {
            parse_records(name, data, stats, issues, each);
        }
    }

    /// Like [`Reader::read_file`], handing over parsed events one by one (see
    /// [`Reader::read_file_batches`]).
    pub fn read_file_events(
        &mut self,
        path: &Path,
        stats: &mut ReadStats,
        issues: &mut Vec<Issue>,
        each: &mut dyn FnMut(Result<&Event<'_>, EventError>, usize),
    ) {
        self.read_file_batches(path, stats, issues, &mut one_by_one(each));
    }

    /// Like [`Reader::read_file`], handing over parsed events a run at a time: a CloudTrail
    /// `{"Records": …}` object is read in one scan (each record's end is found by the same walk
    /// that reads its header) and its events come in runs of up to [`BATCH`]; other shapes go
    /// through [`parse_records`] and [`Event::parse`], one record at a time.
    pub fn read_file_batches(
        &mut self,
        path: &Path,
        stats: &mut ReadStats,
        issues: &mut Vec<Issue>,
        each: &mut dyn FnMut(Parsed<'_, '_>),
    ) {
        stats.files += 1;
        let name = path.display().to_string();
        self.compressed.clear();
        if let Err(e) =
            std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut self.compressed))
        {
            issues.push(Issue {
                location: name,
                message: format!("cannot read: {e}"),
            });
            stats.skipped += 1;
            return;
        }
        let data = std::mem::take(&mut self.compressed);
        self.read_bytes_batches(&name, &data, stats, issues, each);
        self.compressed = data;
    }

    /// Like [`Reader::read_bytes`], handing over parsed events one by one.
    pub fn read_bytes_events(
        &mut self,
        name: &str,
        data: &[u8],
        stats: &mut ReadStats,
        issues: &mut Vec<Issue>,
        each: &mut dyn FnMut(Result<&Event<'_>, EventError>, usize),
    ) {
        self.read_bytes_batches(name, data, stats, issues, &mut one_by_one(each));
    }

    /// Like [`Reader::read_bytes`], handing over parsed events a run at a time (see
    /// [`Reader::read_file_batches`]).
    pub fn read_bytes_batches(
        &mut self,
        name: &str,
        data: &[u8],
        stats: &mut ReadStats,
        issues: &mut Vec<Issue>,
        each: &mut dyn FnMut(Parsed<'_, '_>),
    ) {
        if data.starts_with(&[0x1f, 0x8b]) {
            if let Err(m) = self.gunzip(data) {
                issues.push(Issue {
                    location: name.to_string(),
                    message: m,
                });
                stats.skipped += 1;
                return;
            }
            let plain = std::mem::take(&mut self.plain);
            parse_event_batches(name, &plain, stats, issues, each);
            self.plain = plain;
        } else {
            parse_event_batches(name, data, stats, issues, each);
        }
    }

    fn gunzip(&mut self, data: &[u8]) -> Result<(), String> {
        let hint = if data.len() >= 4 {
            u32::from_le_bytes([
                data[data.len() - 4],
                data[data.len() - 3],
                data[data.len() - 2],
                data[data.len() - 1],
            ]) as usize
        } else {
            0
        };
        // ISIZE is only a hint (mod 2^32, garbage when truncated): trust it within a sane ratio.
        let sane = data.len().saturating_mul(64).max(1024);
        let mut size = if hint > 0 && hint <= sane {
            hint
        } else {
            data.len().saturating_mul(16).max(1024)
        };
        loop {
            self.plain.resize(size, 0);
            match self.gz.gzip_decompress(data, &mut self.plain) {
                Ok(n) => {
                    self.plain.truncate(n);
                    return Ok(());
                }
                Err(libdeflater::DecompressionError::InsufficientSpace) if size < (1 << 30) => {
                    size *= 2
                }
                Err(_) => return Err("corrupt or truncated gzip data".to_string()),
            }
        }
    }
}

/// UTF-8 validation of a buffer a chunk ahead of the reader: strings inside the validated
/// prefix are sliced, never validated one by one, and each chunk is still in cache when the
/// records in it are scanned (a separate pass over a whole decompressed file would read it from
/// memory twice).
struct Utf8Ahead<'a> {
    buf: &'a [u8],
    /// `buf[..valid]` is UTF-8.
    valid: usize,
    /// An invalid sequence was found at `valid`: validate no further.
    stopped: bool,
}

impl<'a> Utf8Ahead<'a> {
    const CHUNK: usize = 64 * 1024;

    fn new(buf: &'a [u8]) -> Utf8Ahead<'a> {
        Utf8Ahead {
            buf,
            valid: 0,
            stopped: false,
        }
    }

    /// The validated prefix of the buffer, extended to a chunk past `at` when it ends closer.
    fn ahead_of(&mut self, at: usize) -> Option<&'a str> {
        if !self.stopped && self.valid < self.buf.len() && self.valid < at + Self::CHUNK {
            let end = (self.valid + 2 * Self::CHUNK).min(self.buf.len());
            match simdutf8::compat::from_utf8(&self.buf[self.valid..end]) {
                Ok(_) => self.valid = end,
                Err(e) => {
                    self.valid += e.valid_up_to();
                    // a character cut by the chunk's end is validated with the next chunk
                    self.stopped = e.error_len().is_some() || end == self.buf.len();
                }
            }
        }
        // SAFETY: `buf[..valid]` was validated as UTF-8 above, chunk by chunk, each chunk
        // starting where the previous valid prefix ended (on a character boundary).
        Some(unsafe { std::str::from_utf8_unchecked(&self.buf[..self.valid]) })
    }
}

/// What the event reader hands over.
pub enum Parsed<'b, 'a> {
    /// Consecutive records parsed as events, and their record numbers (one per event).
    Events(&'b [Event<'a>], &'b [usize]),
    /// A record that is not an event (why), and its number.
    NotAnEvent(EventError, usize),
}

/// The most events handed over at once. Parsing a run of records and then running the
/// consumer over them (instead of alternating record by record) keeps each side's code in the
/// instruction cache and its branches predicted: with rules loaded, the two together are far
/// larger than the cache. Small enough that the run's events stay in the second-level cache.
pub const BATCH: usize = 32;

/// A per-event consumer as a [`Parsed`] consumer.
fn one_by_one<'f>(
    each: &'f mut dyn FnMut(Result<&Event<'_>, EventError>, usize),
) -> impl FnMut(Parsed<'_, '_>) + 'f {
    move |p| match p {
        Parsed::Events(events, numbers) => {
            for (ev, &n) in events.iter().zip(numbers) {
                each(Ok(ev), n);
            }
        }
        Parsed::NotAnEvent(e, n) => each(Err(e), n),
    }
}

/// Records parsed ahead of their consumer, handed over [`BATCH`] at a time. The slots are
/// reused record after record, so nothing large moves or is reallocated.
struct Batch<'a> {
    slots: Vec<Event<'a>>,
    /// Record numbers of the filled slots.
    numbers: [usize; BATCH],
    filled: usize,
}

impl<'a> Batch<'a> {
    fn new() -> Batch<'a> {
        Batch {
            slots: Vec::new(),
            numbers: [0; BATCH],
            filled: 0,
        }
    }

    /// The slot the next record is parsed into.
    fn next_slot(&mut self) -> &mut Event<'a> {
        if self.slots.len() == self.filled {
            self.slots.push(Event::empty());
        }
        &mut self.slots[self.filled]
    }

    /// Keep the record just parsed into [`Batch::next_slot`]; hand the batch over when full.
    fn keep(&mut self, number: usize, each: &mut dyn FnMut(Parsed<'_, '_>)) {
        self.numbers[self.filled] = number;
        self.filled += 1;
        if self.filled == BATCH {
            self.hand_over(each);
        }
    }

    /// Hand every kept record over, in order.
    fn hand_over(&mut self, each: &mut dyn FnMut(Parsed<'_, '_>)) {
        if self.filled > 0 {
            each(Parsed::Events(
                &self.slots[..self.filled],
                &self.numbers[..self.filled],
            ));
            self.filled = 0;
        }
    }
}

/// [`parse_event_batches`], handing events over one by one.
pub fn parse_events(
    name: &str,
    text: &[u8],
    stats: &mut ReadStats,
    issues: &mut Vec<Issue>,
    each: &mut dyn FnMut(Result<&Event<'_>, EventError>, usize),
) {
    parse_event_batches(name, text, stats, issues, &mut one_by_one(each));
}

/// Events of a decompressed object: the `{"Records": [` prefix CloudTrail writes is read
/// incrementally, one scan per record, and handed over in runs (see [`BATCH`]); anything else
/// goes through [`parse_records`], one record at a time.
pub fn parse_event_batches(
    name: &str,
    text: &[u8],
    stats: &mut ReadStats,
    issues: &mut Vec<Issue>,
    each: &mut dyn FnMut(Parsed<'_, '_>),
) {
    use crate::scan::{skip_ws, string_end, value_end};
    let start = skip_ws(text, 0);
    // `{` ws `"Records"` ws `:` ws `[`
    let array = (|| {
        if text.get(start) != Some(&b'{') {
            return None;
        }
        let k = skip_ws(text, start + 1);
        if text.get(k) != Some(&b'"') {
            return None;
        }
        let (kend, _) = string_end(text, k).ok()?;
        if &text[k..kend] != b"\"Records\"" {
            return None;
        }
        let c = skip_ws(text, kend);
        if text.get(c) != Some(&b':') {
            return None;
        }
        let a = skip_ws(text, c + 1);
        (text.get(a) == Some(&b'[')).then_some(a)
    })();
    let Some(a) = array else {
        parse_records(
            name,
            text,
            stats,
            issues,
            &mut |raw, n| match Event::parse(raw) {
                Ok(ev) => each(Parsed::Events(std::slice::from_ref(&ev), &[n])),
                Err(e) => each(Parsed::NotAnEvent(e, n)),
            },
        );
        return;
    };
    let stop = |stats: &mut ReadStats, issues: &mut Vec<Issue>, at: usize, why: &str| {
        stats.skipped += 1;
        issues.push(Issue {
            location: format!("{name}:byte {at}"),
            message: format!("{why}; rest of this file skipped"),
        });
    };
    let mut i = skip_ws(text, a + 1);
    let mut n = 0usize;
    let mut utf8 = Utf8Ahead::new(text);
    let mut batch = Batch::new();
    if text.get(i) == Some(&b']') {
        i += 1;
    } else {
        loop {
            n += 1;
            if text.get(i) == Some(&b'{') {
                match batch.next_slot().parse_into(text, utf8.ahead_of(i), i) {
                    Ok(end) => {
                        if end - i > MAX_EVENT_BYTES {
                            stats.skipped += 1;
                            issues.push(Issue {
                                location: format!("{name}:record {n}"),
                                message: format!(
                                    "record is {} bytes, over the {} byte limit; skipped",
                                    end - i,
                                    MAX_EVENT_BYTES
                                ),
                            });
                        } else {
                            stats.records += 1;
                            batch.keep(n, each);
                        }
                        i = end;
                    }
                    Err(e) => {
                        batch.hand_over(each);
                        stop(stats, issues, i, &format!("record {n}: {e}"));
                        return;
                    }
                }
            } else {
                match value_end(text, i) {
                    Ok(end) => {
                        stats.skipped += 1;
                        issues.push(Issue {
                            location: format!("{name}:record {n}"),
                            message: "record is not a JSON object; skipped".into(),
                        });
                        i = end;
                    }
                    Err(e) => {
                        batch.hand_over(each);
                        stop(stats, issues, e.offset, e.message);
                        return;
                    }
                }
            }
            i = skip_ws(text, i);
            match text.get(i) {
                Some(b',') => i = skip_ws(text, i + 1),
                Some(b']') => {
                    i += 1;
                    break;
                }
                _ => {
                    batch.hand_over(each);
                    stop(stats, issues, i, "expected `,` or `]` between records");
                    return;
                }
            }
        }
    }
    batch.hand_over(each);
    // Whatever follows the array in the envelope is checked but not read.
    let mut j = skip_ws(text, i);
    while text.get(j) == Some(&b',') {
        let k = skip_ws(text, j + 1);
        let ok = (|| {
            let (kend, _) = string_end(text, k).ok()?;
            let c = skip_ws(text, kend);
            (text.get(c) == Some(&b':')).then_some(())?;
            value_end(text, skip_ws(text, c + 1)).ok()
        })();
        match ok {
            Some(end) => j = skip_ws(text, end),
            None => {
                stop(stats, issues, k, "malformed member after `Records`");
                return;
            }
        }
    }
    if text.get(j) != Some(&b'}') || skip_ws(text, j + 1) != text.len() {
        stop(stats, issues, j, "expected the end of the `Records` object");
    }
}

/// Split a decompressed object into records and hand them over.
pub fn parse_records(
    name: &str,
    text: &[u8],
    stats: &mut ReadStats,
    issues: &mut Vec<Issue>,
    each: &mut dyn FnMut(&[u8], usize),
) {
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        issues.push(Issue {
            location: name.to_string(),
            message: "empty input".into(),
        });
        return;
    };
    let body = &text[start..];
    let mut emit = |raw: &[u8], n: usize, stats: &mut ReadStats, issues: &mut Vec<Issue>| {
        let first = raw.iter().find(|b| !b.is_ascii_whitespace());
        if first != Some(&b'{') {
            stats.skipped += 1;
            issues.push(Issue {
                location: format!("{name}:record {n}"),
                message: "record is not a JSON object; skipped".into(),
            });
        } else if raw.len() > MAX_EVENT_BYTES {
            stats.skipped += 1;
            issues.push(Issue {
                location: format!("{name}:record {n}"),
                message: format!(
                    "record is {} bytes, over the {} byte limit; skipped",
                    raw.len(),
                    MAX_EVENT_BYTES
                ),
            });
        } else {
            stats.records += 1;
            each(raw, n);
        }
    };
    if body[0] == b'[' {
        match serde_json::from_slice::<Vec<&RawValue>>(body) {
            Ok(v) => v
                .iter()
                .enumerate()
                .for_each(|(i, r)| emit(r.get().as_bytes(), i + 1, stats, issues)),
            Err(e) => json_error(name, text, start, &e, stats, issues),
        }
        return;
    }
    // The common case, CloudTrail's own `{"Records": [...]}`: split structurally, without a
    // parse of the whole object (each record is parsed on its own by the event view).
    if body[0] == b'{'
        && let Some(spans) = crate::scan::records(body)
    {
        for (i, (s, e)) in spans.into_iter().enumerate() {
            emit(&body[s..e], i + 1, stats, issues);
        }
        return;
    }
    // One JSON document ({"Records": …}, a single event, an EventBridge envelope) or JSON Lines.
    let mut de = serde_json::Deserializer::from_slice(body).into_iter::<&RawValue>();
    let first = de.next();
    let one_doc = matches!(first, Some(Ok(_)))
        && body[de.byte_offset()..]
            .iter()
            .all(|b| b.is_ascii_whitespace());
    if one_doc {
        let Some(Ok(doc)) = first else { return };
        let bytes = doc.get().as_bytes();
        if let Ok(env) = serde_json::from_slice::<Envelope<'_>>(bytes) {
            env.records
                .iter()
                .enumerate()
                .for_each(|(i, r)| emit(r.get().as_bytes(), i + 1, stats, issues));
        } else if let Ok(eb) = serde_json::from_slice::<EventBridge<'_>>(bytes) {
            emit(eb.detail.get().as_bytes(), 1, stats, issues);
        } else {
            emit(bytes, 1, stats, issues);
        }
        return;
    }
    if let Some(Err(e)) = &first
        && body[0] == b'{'
        && !body.contains(&b'\n')
    {
        json_error(name, text, start, e, stats, issues);
        return;
    }
    // JSON Lines: one record per non-empty line; a bad line is skipped, the rest processed.
    for (i, line) in body.split(|b| *b == b'\n').enumerate() {
        let line = trim(line);
        if line.is_empty() {
            continue;
        }
        let n = i + 1 + text[..start].iter().filter(|b| **b == b'\n').count();
        match serde_json::from_slice::<&RawValue>(line) {
            Ok(r) => {
                let bytes = r.get().as_bytes();
                if let Ok(eb) = serde_json::from_slice::<EventBridge<'_>>(bytes) {
                    emit(eb.detail.get().as_bytes(), n, stats, issues);
                } else {
                    emit(bytes, n, stats, issues);
                }
            }
            Err(e) => {
                stats.skipped += 1;
                issues.push(Issue {
                    location: format!("{name}:line {n}"),
                    message: format!("invalid JSON at column {}: {}", e.column(), strip(&e)),
                });
            }
        }
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let s = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let e = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(s, |e| e + 1);
    &b[s..e.max(s)]
}

fn strip(e: &serde_json::Error) -> String {
    let m = e.to_string();
    m.find(" at line ").map(|i| m[..i].to_string()).unwrap_or(m)
}

fn json_error(
    name: &str,
    text: &[u8],
    start: usize,
    e: &serde_json::Error,
    stats: &mut ReadStats,
    issues: &mut Vec<Issue>,
) {
    let lines_before = text[..start].iter().filter(|b| **b == b'\n').count();
    stats.skipped += 1;
    issues.push(Issue {
        location: format!("{name}:{}:{}", e.line() + lines_before, e.column()),
        message: format!("invalid JSON ({}); rest of this file skipped", strip(e)),
    });
}

/// Whether a file name is CloudTrail input (digests and other files are skipped).
pub fn is_trail_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.contains("CloudTrail-Digest")
        || name.starts_with('.')
        || p.iter().any(|c| c == "CloudTrail-Digest")
    {
        return false;
    }
    [".json.gz", ".json", ".jsonl", ".ndjson", ".gz", ".jsonl.gz"]
        .iter()
        .any(|s| name.ends_with(s))
}

/// `YYYY/MM/DD` in a delivery-layout path, as days since the epoch.
pub fn key_day(p: &Path) -> Option<i64> {
    let parts: Vec<&str> = p.iter().filter_map(|c| c.to_str()).collect();
    for w in parts.windows(3) {
        if w[0].len() == 4 && w[1].len() == 2 && w[2].len() == 2 {
            let t = crate::time::parse_time(&format!("{}-{}-{}T00:00:00Z", w[0], w[1], w[2]))?;
            return Some(t.div_euclid(86400));
        }
    }
    None
}

/// False when the key's delivery date (`…/YYYY/MM/DD/…`) lies wholly outside `since..until`
/// (epoch seconds), so the object need not be read at all; keys without a date are kept.
pub fn key_in_window(key: &Path, since: Option<i64>, until: Option<i64>) -> bool {
    match key_day(key) {
        Some(day) => {
            !(since.is_some_and(|s| day < s.div_euclid(86400))
                || until.is_some_and(|u| day > u.div_euclid(86400)))
        }
        None => true,
    }
}

/// Every input file under `root` (sorted), pruned by key date when `since`/`until` (epoch
/// seconds) are given.
pub fn discover(
    root: &Path,
    since: Option<i64>,
    until: Option<i64>,
) -> Result<Vec<PathBuf>, String> {
    if root.is_file() {
        return Ok(vec![root.to_path_buf()]);
    }
    if !root.is_dir() {
        return Err(format!("{}: no such file or directory", root.display()));
    }
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let rd = std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        for ent in rd.flatten() {
            let p = ent.path();
            if p.is_dir() {
                stack.push(p);
            } else if is_trail_file(&p)
                && key_in_window(p.strip_prefix(root).unwrap_or(&p), since, until)
            {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(data: &[u8]) -> (Vec<String>, ReadStats, Vec<Issue>) {
        let mut r = Reader::new();
        let mut st = ReadStats::default();
        let mut issues = Vec::new();
        let mut got = Vec::new();
        r.read_bytes("f", data, &mut st, &mut issues, &mut |b, _| {
            got.push(String::from_utf8_lossy(b).to_string())
        });
        (got, st, issues)
    }

    #[test]
    fn shapes() {
        assert_eq!(run(br#"{"Records":[{"a":1},{"b":2}]}"#).0.len(), 2);
        assert_eq!(run(br#"[{"a":1},{"b":2},{"c":3}]"#).0.len(), 3);
        assert_eq!(run(b"{\"a\":1}\n\n{\"b\":2}\n").0.len(), 2);
        assert_eq!(run(br#"{"eventName":"X"}"#).0, vec![r#"{"eventName":"X"}"#]);
        assert_eq!(
            run(br#"{"detail-type":"AWS API Call via CloudTrail","detail":{"eventName":"X"}}"#).0,
            vec![r#"{"eventName":"X"}"#]
        );
    }

    #[test]
    fn malformed_input_is_reported_and_the_rest_processed() {
        let (got, st, issues) = run(b"{\"a\":1}\n{\"b\":\n{\"c\":3}\n[1]\n");
        assert_eq!(got.len(), 2);
        assert_eq!(st.skipped, 2);
        assert_eq!(issues[0].location, "f:line 2");
        assert!(issues[1].message.contains("not a JSON object"));
        let (_, _, issues) = run(b"   ");
        assert_eq!(issues[0].message, "empty input");
        let (_, _, issues) = run(b"{\"Records\":[{\"a\":1},");
        assert!(issues[0].location.starts_with("f:1:"), "{issues:?}");
        let big = format!(
            "{{\"Records\":[{{\"x\":\"{}\"}},{{\"a\":1}}]}}",
            "y".repeat(MAX_EVENT_BYTES)
        );
        let (got, st, issues) = run(big.as_bytes());
        assert_eq!((got.len(), st.skipped), (1, 1));
        assert!(issues[0].location.ends_with("record 1"));
    }

    /// Events read the fast way (one scan per record) and the general way agree.
    fn events(data: &[u8]) -> (Vec<String>, ReadStats, Vec<Issue>) {
        let mut r = Reader::new();
        let mut st = ReadStats::default();
        let mut issues = Vec::new();
        let mut got = Vec::new();
        r.read_bytes_events("f", data, &mut st, &mut issues, &mut |ev, _| match ev {
            Ok(e) => got.push(String::from_utf8_lossy(e.raw()).to_string()),
            Err(e) => got.push(format!("error: {e}")),
        });
        (got, st, issues)
    }

    #[test]
    fn envelope_events_match_the_general_reader() {
        let doc = br#" {"Records": [ {"eventName":"A","x":{"y":[1,"]"]}} , {"eventName":"B"} ], "extra": {"k": [1]} } "#;
        let (fast, st, issues) = events(doc);
        let (slow, _, _) = run(doc);
        assert_eq!(fast, slow);
        assert_eq!((st.records, st.skipped), (2, 0));
        assert!(issues.is_empty(), "{issues:?}");
        // Events keep their member index: spans point into their own bytes.
        let mut r = Reader::new();
        let (mut st, mut is) = (ReadStats::default(), Vec::new());
        r.read_bytes_events("f", doc, &mut st, &mut is, &mut |ev, n| {
            let e = ev.unwrap();
            let (s, t) = e.member("eventName").unwrap();
            assert_eq!(
                &e.raw()[s..t],
                if n == 1 { &b"\"A\""[..] } else { &b"\"B\""[..] }
            );
        });
        assert_eq!(events(br#"{"Records":[]}"#).1.records, 0);
    }

    /// Events come in runs of at most [`BATCH`], in file order with their record numbers; a
    /// record that is skipped or stops the file hands over every event before it first.
    #[test]
    fn batches_keep_order_and_numbers() {
        let mut body = String::from("{\"Records\":[");
        for n in 1..=75 {
            if n > 1 {
                body.push(',');
            }
            match n {
                40 => body.push_str("[1]"),
                70 => body.push_str("{\"eventName\":tru}"),
                _ => body.push_str(&format!("{{\"eventName\":\"E{n}\"}}")),
            }
        }
        body.push_str("]}");
        let mut r = Reader::new();
        let (mut st, mut issues) = (ReadStats::default(), Vec::new());
        let mut seen = Vec::new();
        let mut runs = Vec::new();
        r.read_bytes_batches(
            "f",
            body.as_bytes(),
            &mut st,
            &mut issues,
            &mut |p| match p {
                Parsed::Events(evs, numbers) => {
                    assert_eq!(evs.len(), numbers.len());
                    runs.push(evs.len());
                    for (e, &n) in evs.iter().zip(numbers) {
                        assert_eq!(e.header().event_name.as_deref(), Some(&*format!("E{n}")));
                        seen.push(n);
                    }
                }
                Parsed::NotAnEvent(e, n) => panic!("record {n}: {e}"),
            },
        );
        let expect: Vec<usize> = (1..70).filter(|&n| n != 40).collect();
        assert_eq!(seen, expect);
        assert!(runs.iter().all(|&n| n <= BATCH), "{runs:?}");
        assert_eq!(runs.iter().sum::<usize>(), 68);
        assert_eq!((st.records, st.skipped), (68, 2));
        assert_eq!(issues.len(), 2);
        assert_eq!(issues[0].location, "f:record 40");
        assert!(issues[1].message.contains("record 70"), "{issues:?}");
        // One by one, the same events in the same order.
        let (got, _, _) = events(body.as_bytes());
        assert_eq!(got.len(), 68);
        // Records of other shapes come one at a time; a record that is not an event is named.
        let mut kinds = Vec::new();
        r.read_bytes_batches(
            "g",
            b"{\"eventName\":\"A\"}\n{\"eventName\":\"B\"}\n",
            &mut st,
            &mut issues,
            &mut |p| match p {
                Parsed::Events(evs, numbers) => kinds.push((evs.len(), numbers[0])),
                Parsed::NotAnEvent(_, n) => kinds.push((0, n)),
            },
        );
        assert_eq!(kinds, vec![(1, 1), (1, 2)]);
    }

    #[test]
    fn envelope_problems_are_reported() {
        // A non-object record is skipped, the rest read.
        let (got, st, issues) = events(br#"{"Records":[1,{"eventName":"B"}]}"#);
        assert_eq!(got, vec![r#"{"eventName":"B"}"#.to_string()]);
        assert_eq!(st.skipped, 1);
        assert_eq!(issues[0].location, "f:record 1");
        // A broken record stops the file with its position; earlier records were read.
        let (got, _, issues) = events(br#"{"Records":[{"a":1},{"b":tru},{"c":3}]}"#);
        assert_eq!(got.len(), 1);
        assert!(issues[0].location.starts_with("f:byte "), "{issues:?}");
        assert!(issues[0].message.contains("record 2"), "{issues:?}");
        // Truncated after the records.
        let (got, _, issues) = events(br#"{"Records":[{"a":1}]"#);
        assert_eq!(got.len(), 1);
        assert!(issues[0].message.contains("end of the `Records` object"));
        // Other shapes still work through the general path.
        let (got, _, _) = events(b"{\"a\":1}\n{\"b\":2}\n");
        assert_eq!(got.len(), 2);
        let (got, _, _) = events(br#"{"version":"0","detail-type":"AWS API Call via CloudTrail","detail":{"eventName":"X"}}"#);
        assert_eq!(got, vec![r#"{"eventName":"X"}"#.to_string()]);
    }

    #[test]
    fn gzip_and_truncation() {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(br#"{"Records":[{"a":1}]}"#).unwrap();
        let gz = e.finish().unwrap();
        assert_eq!(run(&gz).0.len(), 1);
        let (got, st, issues) = run(&gz[..gz.len() / 2]);
        assert!(got.is_empty());
        assert_eq!(st.skipped, 1);
        assert!(issues[0].message.contains("gzip"));
    }

    #[test]
    fn key_dates() {
        let p = Path::new("AWSLogs/1/CloudTrail/eu-west-1/2024/07/31/x.json.gz");
        assert_eq!(
            key_day(p),
            Some(crate::time::parse_time("2024-07-31T00:00:00Z").unwrap() / 86400)
        );
        assert!(!is_trail_file(Path::new(
            "1_CloudTrail-Digest_eu-west-1_x.json.gz"
        )));
        assert!(is_trail_file(Path::new("1_CloudTrail_eu-west-1_x.json.gz")));
        assert!(!is_trail_file(Path::new(
            "AWSLogs/1/CloudTrail-Digest/eu-west-1/2024/07/31/d.json.gz"
        )));
        let day = crate::time::parse_time("2024-07-31T12:00:00Z").unwrap();
        let key = Path::new("AWSLogs/1/CloudTrail/eu-west-1/2024/07/31/x.json.gz");
        assert!(key_in_window(key, Some(day), None));
        assert!(!key_in_window(key, Some(day + 86400), None));
        assert!(!key_in_window(key, None, Some(day - 86400)));
        assert!(key_in_window(Path::new("x.json"), Some(day), Some(day)));
    }
}

#[cfg(test)]
mod utf8_ahead {
    use super::Utf8Ahead;

    /// The validated prefix grows a chunk ahead of the reader, never splits a character and
    /// stops at the first invalid sequence.
    #[test]
    fn prefix_is_valid_and_stops_at_bad_bytes() {
        let mut text = String::new();
        while text.len() < 5 * Utf8Ahead::CHUNK {
            text.push_str("abc é 漢字 🙂 ");
        }
        let b = text.as_bytes();
        let mut v = Utf8Ahead::new(b);
        let mut last = 0;
        for at in (0..b.len()).step_by(1000) {
            let t = v.ahead_of(at).unwrap();
            assert!(t.len() >= last && b.starts_with(t.as_bytes()));
            assert!(t.len() == b.len() || t.len() >= at + Utf8Ahead::CHUNK);
            last = t.len();
        }
        assert_eq!(v.ahead_of(b.len()).unwrap().len(), b.len());
        let mut bad = b.to_vec();
        let cut = 3 * Utf8Ahead::CHUNK + 7;
        bad[cut] = 0xFF;
        let mut v = Utf8Ahead::new(&bad);
        for at in (0..bad.len()).step_by(4096) {
            assert!(v.ahead_of(at).unwrap().len() <= cut);
        }
        assert!(v.ahead_of(bad.len()).unwrap().len() >= cut - 4);
    }
}
