//! Decompressed input → events: a sequence of JSON documents, each a CloudTrail
//! `{"Records": […]}` object, a single event, an EventBridge envelope (its `detail` is the
//! event), CloudTrail Lake query results (`QueryResultRows`) or an array of any of these.
//! Documents may follow one another (JSON Lines, `zcat *.json.gz`, concatenated files).
//!
//! The `{"Records": [` prefix CloudTrail writes is read incrementally, one scan per record (the
//! scan that finds a record's end reads its header), and events are handed over in runs of
//! [`BATCH`]. A document that does not parse is reported with its position and skipped: a
//! one-line document (JSON Lines) alone, a document spanning lines with the rest of the input.

use crate::event::{Event, EventError};
use crate::read::{Issue, MAX_EVENT_BYTES, Parsed, ReadStats};
use crate::scan::{ScanError, skip_ws, string_end, value_end};

/// The most events handed over at once. Parsing a run of records and then running the
/// consumer over them (instead of alternating record by record) keeps each side's code in the
/// instruction cache and its branches predicted: with rules loaded, the two together are far
/// larger than the cache. Small enough that the run's events stay in the second-level cache.
pub const BATCH: usize = 32;

/// Where a buffer sits in its input, so that positions in issues are the input's: a stream is
/// read a buffer at a time, and record numbers go on from one buffer to the next.
#[derive(Debug, Default)]
pub struct Place {
    /// Bytes of the input before the buffer.
    pub byte: usize,
    /// Newlines in the input before the buffer.
    pub line: usize,
    /// Records read before the buffer (the next record is `record + 1`).
    pub record: usize,
    /// Bytes of the buffer's first line that came before the buffer.
    column: usize,
    /// Lines that did not parse, not reported yet (more may follow in the next buffer).
    failed: Option<Failed>,
    /// The last of them had no line end yet: the next buffer starts inside it.
    skipping: bool,
}

impl Place {
    /// Reports what is still pending at the end of the input.
    pub fn finish(&mut self, issues: &mut Vec<Issue>) {
        if let Some(f) = self.failed.take() {
            issues.push(f.issue(self.skipping));
        }
        self.skipping = false;
    }
}

/// Reads every document of `text` (see the module documentation); `place` says where `text`
/// starts in its input and is advanced past what was read. With `more` (a stream: more input
/// may follow), a document cut off by the end of `text` is left unread: returns how much of
/// `text` was read, for the caller to keep the rest and call again once more has arrived.
/// Call [`Place::finish`] at the end of the input.
pub fn read_documents(
    name: &str,
    text: &[u8],
    place: &mut Place,
    more: bool,
    stats: &mut ReadStats,
    issues: &mut Vec<Issue>,
    each: &mut dyn FnMut(Parsed<'_, '_>),
) -> usize {
    let mut docs = Documents {
        name,
        text,
        place,
        utf8: Utf8Ahead::new(text),
        batch: Batch::new(),
    };
    let read = docs.read_all(more, stats, issues, each);
    if more {
        // where the next buffer starts (a whole input needs no more: the count of its lines
        // would cost more than a tenth of reading it)
        let text = &text[..read];
        place.byte += text.len();
        place.line += memchr::memchr_iter(b'\n', text).count();
        place.column = match memchr::memrchr(b'\n', text) {
            Some(k) => text.len() - k - 1,
            None => place.column + text.len(),
        };
    }
    read
}

/// A document that did not parse: where (offset in the buffer) and why.
struct Broken {
    at: usize,
    why: String,
    /// The scan ran off the end of the buffer: with more input to come, not (yet) damage.
    cut: bool,
}

/// Consecutive one-line documents that did not parse, reported as one issue.
#[derive(Debug)]
struct Failed {
    location: String,
    why: String,
    /// The whole line was skipped (else the rest of it, from the damage).
    whole: bool,
    /// The damage is where the input ends.
    at_end: bool,
    more: usize,
}

impl Failed {
    /// The issue, once it is known whether the input ended inside the last line skipped.
    fn issue(self, to_end: bool) -> Issue {
        let what = if self.whole {
            "line"
        } else {
            "rest of the line"
        };
        let why = self.why;
        let message = match (self.more, to_end) {
            (0, true) => {
                let hint = if self.at_end {
                    " (the input ends there: truncated?)"
                } else {
                    ""
                };
                format!("{why}{hint}; rest of this input skipped")
            }
            (0, false) => format!("{why}; {what} skipped"),
            (n, to_end) => format!(
                "{why}; {what} skipped, and the {n} line(s) after it, which did not parse either{}",
                if to_end {
                    " (to the end of the input)"
                } else {
                    ""
                }
            ),
        };
        Issue {
            location: self.location,
            message,
        }
    }
}

struct Documents<'n, 'a, 'p> {
    name: &'n str,
    text: &'a [u8],
    place: &'p mut Place,
    utf8: Utf8Ahead<'a>,
    batch: Batch<'a>,
}

impl<'a> Documents<'_, 'a, '_> {
    fn read_all(
        &mut self,
        more: bool,
        stats: &mut ReadStats,
        issues: &mut Vec<Issue>,
        each: &mut dyn FnMut(Parsed<'_, '_>),
    ) -> usize {
        let text = self.text;
        let mut i = 0;
        if self.place.skipping {
            // inside a line that did not parse: go on after its end
            match memchr::memchr(b'\n', text) {
                Some(k) => {
                    self.place.skipping = false;
                    i = k + 1;
                }
                None => return text.len(),
            }
        }
        i = skip_ws(text, i);
        while i < text.len() {
            let start = i;
            if more
                && matches!(text[i], b'{' | b'[')
                && value_end(text, i).is_err_and(|e| incomplete(text, &e))
            {
                // cut off by the end of what has arrived: read it once it is whole
                self.batch.hand_over(each);
                return start;
            }
            let records_before = self.place.record;
            let (kept_before, skipped_before) = (stats.records, stats.skipped);
            let read = match text[i] {
                b'{' => self.object(i, true, stats, issues, each),
                b'[' => self.items(i, false, stats, issues, each),
                _ => Err(Broken {
                    at: i,
                    why: "expected a JSON object or array".into(),
                    cut: false,
                }),
            };
            match read {
                Ok(end) => {
                    self.report_failed(issues);
                    i = skip_ws(text, end);
                }
                Err(b)
                    if more
                        && b.cut
                        && (stats.records, stats.skipped) == (kept_before, skipped_before) =>
                {
                    // cut off by the end of what has arrived, nothing of it handed over:
                    // read it again once more has come
                    self.place.record = records_before;
                    self.batch.hand_over(each);
                    return start;
                }
                Err(b) => {
                    self.batch.hand_over(each);
                    // Go on at the next line: after the document's first line when nothing
                    // of it was read (a broken line of JSON Lines may have swallowed the lines
                    // after it), else after the line of the damage (never read a record twice).
                    let from = if self.place.record == records_before {
                        start
                    } else {
                        b.at.min(text.len())
                    };
                    self.fail_line(from, from == start, b, stats, issues);
                    match memchr::memchr(b'\n', &text[from..]) {
                        Some(k) => i = skip_ws(text, from + k + 1),
                        None => {
                            self.place.skipping = true;
                            self.batch.hand_over(each);
                            return text.len();
                        }
                    }
                }
            }
        }
        self.batch.hand_over(each);
        text.len()
    }

    /// Where a problem is and what it is: `name:line L` (the line of `at`), with the column of
    /// the damage (and its line, when another) in the message.
    fn locate(&self, at: usize, damage: usize, why: &str) -> (String, String) {
        let text = self.text;
        let line_of =
            |k: usize| self.place.line + memchr::memchr_iter(b'\n', &text[..k]).count() + 1;
        let line = line_of(at);
        let column = match memchr::memrchr(b'\n', &text[..damage]) {
            Some(k) => damage - k,
            None => self.place.column + damage + 1,
        };
        let damage_line = line_of(damage);
        let why = if damage_line == line {
            format!("{why} (column {column})")
        } else {
            format!("{why} (line {damage_line}, column {column})")
        };
        (format!("{}:line {line}", self.name), why)
    }

    /// Counts a document that did not parse, whose line (`whole`) or the rest of whose line
    /// from `at` is skipped; consecutive ones are reported as one issue.
    fn fail_line(
        &mut self,
        at: usize,
        whole: bool,
        b: Broken,
        stats: &mut ReadStats,
        issues: &mut Vec<Issue>,
    ) {
        stats.skipped += 1;
        match &mut self.place.failed {
            Some(f) => f.more += 1,
            None => {
                let damage = b.at.min(self.text.len());
                let (location, why) = self.locate(at, damage, &b.why);
                self.place.failed = Some(Failed {
                    location,
                    why,
                    whole,
                    at_end: damage == self.text.len(),
                    more: 0,
                })
            }
        }
        if self.place.failed.as_ref().is_some_and(|f| f.more >= 1000) {
            self.report_failed(issues);
        }
    }

    fn report_failed(&mut self, issues: &mut Vec<Issue>) {
        if let Some(f) = self.place.failed.take() {
            issues.push(f.issue(false));
        }
    }

    /// The record number of the next record.
    #[inline]
    fn next_record(&mut self) -> usize {
        self.place.record += 1;
        self.place.record
    }

    /// A record that is not an object: counted, named, skipped.
    fn not_an_object(&mut self, n: usize, stats: &mut ReadStats, issues: &mut Vec<Issue>) {
        stats.skipped += 1;
        issues.push(Issue {
            location: format!("{}:record {n}", self.name),
            message: "record is not a JSON object; skipped".into(),
        });
    }

    /// Keeps the event just parsed into the batch's next slot as record `n` (unless too large).
    #[inline]
    fn keep(
        &mut self,
        n: usize,
        len: usize,
        stats: &mut ReadStats,
        issues: &mut Vec<Issue>,
        each: &mut dyn FnMut(Parsed<'_, '_>),
    ) {
        if len > MAX_EVENT_BYTES {
            stats.skipped += 1;
            issues.push(Issue {
                location: format!("{}:record {n}", self.name),
                message: format!(
                    "record is {len} bytes, over the {MAX_EVENT_BYTES} byte limit; skipped"
                ),
            });
        } else {
            stats.records += 1;
            self.batch.keep(n, each);
        }
    }

    /// The object at `i`: a `{"Records": …}` envelope, an EventBridge envelope, Lake query
    /// results or an event. Returns its end.
    fn object(
        &mut self,
        i: usize,
        top: bool,
        stats: &mut ReadStats,
        issues: &mut Vec<Issue>,
        each: &mut dyn FnMut(Parsed<'_, '_>),
    ) -> Result<usize, Broken> {
        let text = self.text;
        if let Some(a) = records_first(text, i) {
            let end = self.items(a, true, stats, issues, each)?;
            return envelope_end(text, end);
        }
        let utf8 = self.utf8.ahead_of(i);
        let slot = self.batch.next_slot();
        let end = slot
            .parse_into(text, utf8, i)
            .map_err(|e| broken(text, i, e))?;
        if slot.header().event_name.is_none() && slot.has_member_index() {
            let span = |key: &str| slot.member(key).map(|(s, e)| (i + s, i + e));
            let (records, detail, detail_type, rows) = (
                span("Records"),
                span("detail"),
                span("detail-type"),
                span("QueryResultRows"),
            );
            if let Some((s, _)) = records.filter(|&(s, _)| text[s] == b'[') {
                self.items(s, true, stats, issues, each)?;
                return Ok(end);
            }
            if let (Some((s, _)), Some(_)) = (detail, detail_type)
                && text[s] == b'{'
            {
                let n = self.next_record();
                let utf8 = self.utf8.ahead_of(s);
                let slot = self.batch.next_slot();
                let detail_end = slot
                    .parse_into(text, utf8, s)
                    .map_err(|e| broken(text, s, e))?;
                self.keep(n, detail_end - s, stats, issues, each);
                return Ok(end);
            }
            if let Some((s, e)) = rows.filter(|_| top) {
                self.lake_rows(&text[s..e], stats, issues, each);
                return Ok(end);
            }
        }
        let n = self.next_record();
        self.keep(n, end - i, stats, issues, each);
        Ok(end)
    }

    /// The elements of the array at `a`. In a `Records` member (`records`) each object is an
    /// event, parsed in the one scan that finds its end; in an array of documents an object may
    /// also be an envelope. Other values are counted and skipped. Returns the array's end.
    fn items(
        &mut self,
        a: usize,
        records: bool,
        stats: &mut ReadStats,
        issues: &mut Vec<Issue>,
        each: &mut dyn FnMut(Parsed<'_, '_>),
    ) -> Result<usize, Broken> {
        let text = self.text;
        let mut i = skip_ws(text, a + 1);
        if text.get(i) == Some(&b']') {
            return Ok(i + 1);
        }
        loop {
            i = match text.get(i) {
                Some(b'{') if records => self.record(i, stats, issues, each)?,
                Some(b'{') => self.object(i, false, stats, issues, each)?,
                _ => {
                    let n = self.place.record + 1;
                    let end = value_end(text, i).map_err(|e| Broken {
                        at: e.offset,
                        why: format!("record {n}: {}", e.message),
                        cut: cut_off(text, e.offset, e.message),
                    })?;
                    self.next_record();
                    self.not_an_object(n, stats, issues);
                    end
                }
            };
            i = skip_ws(text, i);
            match text.get(i) {
                Some(b',') => i = skip_ws(text, i + 1),
                Some(b']') => return Ok(i + 1),
                _ => {
                    return Err(Broken {
                        at: i,
                        why: "expected `,` or `]` between records".into(),
                        cut: i >= text.len(),
                    });
                }
            }
        }
    }

    /// The record at `i` (an object), parsed as an event. Returns its end.
    #[inline]
    fn record(
        &mut self,
        i: usize,
        stats: &mut ReadStats,
        issues: &mut Vec<Issue>,
        each: &mut dyn FnMut(Parsed<'_, '_>),
    ) -> Result<usize, Broken> {
        let n = self.next_record();
        let utf8 = self.utf8.ahead_of(i);
        let slot = self.batch.next_slot();
        match slot.parse_into(self.text, utf8, i) {
            Ok(end) => {
                self.keep(n, end - i, stats, issues, each);
                Ok(end)
            }
            Err(e) => {
                let b = broken(self.text, i, e);
                Err(Broken {
                    why: format!("record {n}: {}", b.why),
                    ..b
                })
            }
        }
    }

    /// CloudTrail Lake query results (`GetQueryResults`: rows of one-member objects, every
    /// value a string): each row becomes an event of its columns, a column whose text is a
    /// JSON object or array being that value; a row of one column holding a whole event (an
    /// object with `eventName`) is that event.
    fn lake_rows(
        &mut self,
        rows: &[u8],
        stats: &mut ReadStats,
        issues: &mut Vec<Issue>,
        each: &mut dyn FnMut(Parsed<'_, '_>),
    ) {
        use serde_json::{Map, Value};
        let parsed: Result<Vec<Vec<Map<String, Value>>>, _> = serde_json::from_slice(rows);
        let rows = match parsed {
            Ok(r) => r,
            Err(e) => {
                stats.skipped += 1;
                issues.push(Issue {
                    location: format!("{}:record {}", self.name, self.place.record + 1),
                    message: format!("QueryResultRows is not a list of rows of columns ({e})"),
                });
                return;
            }
        };
        let mut lines = Vec::new();
        for row in rows {
            let mut event = Map::new();
            for (k, v) in row.into_iter().flatten() {
                let v = match v {
                    Value::String(s) if s.starts_with(['{', '[']) => {
                        serde_json::from_str(&s).unwrap_or(Value::String(s))
                    }
                    v => v,
                };
                event.insert(k, v);
            }
            let whole = (event.len() == 1)
                .then(|| event.values().next())
                .flatten()
                .filter(|v| v.get("eventName").is_some())
                .cloned();
            let event = whole.unwrap_or(Value::Object(event));
            serde_json::to_writer(&mut lines, &event).expect("a Value serializes");
            lines.push(b'\n');
        }
        self.batch.hand_over(each);
        // the rows' events are read from their own buffer, numbered on from this input's
        let mut at = Place {
            record: self.place.record,
            ..Place::default()
        };
        read_documents(self.name, &lines, &mut at, false, stats, issues, each);
        at.finish(issues);
        self.place.record = at.record;
    }
}

/// Whether a scan failed only because `text` ends too early: a string, object or array not
/// closed yet, or a literal or number running to the end (`tru` may become `true`).
fn incomplete(text: &[u8], e: &ScanError) -> bool {
    cut_off(text, e.offset, e.message)
}

/// [`incomplete`] for a scan error's offset and message.
fn cut_off(text: &[u8], offset: usize, message: &str) -> bool {
    offset >= text.len()
        || message.starts_with("unterminated")
        || message == "a value is missing"
        || (message == "invalid literal"
            && !text[offset.min(text.len())..]
                .iter()
                .any(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t' | b':')))
}

fn broken(text: &[u8], start: usize, e: EventError) -> Broken {
    match e {
        EventError::Json { offset, message } => Broken {
            at: offset,
            cut: cut_off(text, offset, &message),
            why: format!("invalid JSON: {message}"),
        },
        EventError::NotObject => Broken {
            at: start,
            why: "not a JSON object".into(),
            cut: false,
        },
    }
}

/// The `[` of the `Records` array when the object at `i` begins `{ "Records": [` (as
/// CloudTrail writes it).
fn records_first(text: &[u8], i: usize) -> Option<usize> {
    let k = skip_ws(text, i + 1);
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
}

/// The end of a `{"Records": […], …}` envelope whose array ends at `i`: the members after it
/// are checked, not read.
fn envelope_end(text: &[u8], i: usize) -> Result<usize, Broken> {
    let mut j = skip_ws(text, i);
    while text.get(j) == Some(&b',') {
        let k = skip_ws(text, j + 1);
        let end = (|| {
            let (kend, _) = string_end(text, k).ok()?;
            let c = skip_ws(text, kend);
            (text.get(c) == Some(&b':')).then_some(())?;
            value_end(text, skip_ws(text, c + 1)).ok()
        })();
        match end {
            Some(end) => j = skip_ws(text, end),
            None => {
                return Err(Broken {
                    at: k,
                    why: "malformed member after `Records`".into(),
                    // a member still arriving, or damage: judged by whether it reaches the end
                    cut: value_end(text, k).is_err_and(|e| incomplete(text, &e))
                        || text[k..].iter().all(|&b| b != b'}'),
                });
            }
        }
    }
    if text.get(j) == Some(&b'}') {
        Ok(j + 1)
    } else {
        Err(Broken {
            at: j,
            why: "expected the end of the `Records` object".into(),
            cut: j >= text.len(),
        })
    }
}

/// UTF-8 validation of a buffer a chunk ahead of the reader: strings inside the validated
/// prefix are sliced, never validated one by one, and each chunk is still in cache when the
/// records in it are scanned (a separate pass over a whole decompressed file would read it from
/// memory twice).
pub(crate) struct Utf8Ahead<'a> {
    buf: &'a [u8],
    /// `buf[..valid]` is UTF-8.
    valid: usize,
    /// An invalid sequence was found at `valid`: validate no further.
    stopped: bool,
}

impl<'a> Utf8Ahead<'a> {
    pub(crate) const CHUNK: usize = 64 * 1024;

    pub(crate) fn new(buf: &'a [u8]) -> Utf8Ahead<'a> {
        Utf8Ahead {
            buf,
            valid: 0,
            stopped: false,
        }
    }

    /// The validated prefix of the buffer, extended to a chunk past `at` when it ends closer.
    pub(crate) fn ahead_of(&mut self, at: usize) -> Option<&'a str> {
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
    #[inline]
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
