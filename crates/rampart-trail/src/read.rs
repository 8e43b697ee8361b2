//! Reading CloudTrail input into raw records for the engine: `.json.gz` / `.json` with
//! `{"Records": [...]}`, JSON arrays, JSON Lines, single events and EventBridge envelopes,
//! directories in the S3 delivery layout (digests skipped, `--since/--until` pruning by the
//! `YYYY/MM/DD` key date), and stdin.
//!
//! This is the detection side's own small reader so `rampart detect` works on its own; the
//! dedicated streaming reader crate can replace it behind the same callback shape.

pub use crate::documents::{BATCH, Place, read_documents};
use crate::event::{Event, EventError};
use crate::gunzip::{Gunzip, Stop};
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
    gz: Gunzip,
    compressed: Vec<u8>,
    plain: Vec<u8>,
}

impl Default for Reader {
    fn default() -> Self {
        Reader::new()
    }
}

impl Reader {
    pub fn new() -> Reader {
        Reader {
            gz: Gunzip::new(),
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
        self.read_file_batches(path, stats, issues, &mut raw_records(each));
    }

    /// Read an in-memory object (gzip detected by its magic bytes), calling
    /// `each(record_bytes, record_number)` per record.
    pub fn read_bytes(
        &mut self,
        name: &str,
        data: &[u8],
        stats: &mut ReadStats,
        issues: &mut Vec<Issue>,
        each: &mut dyn FnMut(&[u8], usize),
    ) {
        self.read_bytes_batches(name, data, stats, issues, &mut raw_records(each));
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
    /// that reads its header) and its events come in runs of up to [`BATCH`]; every other shape
    /// is read too (see [`crate::documents`]).
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
    /// [`Reader::read_file_batches`]). Gzip data that is truncated or corrupt is reported, and
    /// the records that decompressed before the damage are read.
    pub fn read_bytes_batches(
        &mut self,
        name: &str,
        data: &[u8],
        stats: &mut ReadStats,
        issues: &mut Vec<Issue>,
        each: &mut dyn FnMut(Parsed<'_, '_>),
    ) {
        if data.starts_with(&[0x1f, 0x8b]) {
            let damage = self.gunzip(data);
            let plain = std::mem::take(&mut self.plain);
            if let Some(m) = damage {
                issues.push(Issue {
                    location: name.to_string(),
                    message: m,
                });
                if crate::scan::is_blank(&plain) {
                    stats.skipped += 1;
                } else {
                    let mut place = Place::default();
                    read_documents(name, &plain, &mut place, false, stats, issues, each);
                    place.finish(issues);
                }
            } else {
                parse_event_batches(name, &plain, stats, issues, each);
            }
            self.plain = plain;
        } else {
            parse_event_batches(name, data, stats, issues, each);
        }
    }

    /// Decompresses `data` into `self.plain`: libdeflate, member after member (the common case
    /// is one); damaged data again through a streaming decoder, which keeps what decompressed
    /// before the damage. Returns what was wrong.
    fn gunzip(&mut self, data: &[u8]) -> Option<String> {
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
        let size = if hint > 0 && hint <= sane {
            hint
        } else {
            data.len().saturating_mul(16)
        };
        match self.gz.members(data, size, MAX_PLAIN, &mut self.plain) {
            Ok(()) => None,
            Err(Stop::TooLarge) => Some(format!(
                "decompresses to more than {} MiB; the rest is not read",
                MAX_PLAIN >> 20
            )),
            Err(Stop::Damaged) => {
                self.plain.clear();
                let mut gz = flate2::read::MultiGzDecoder::new(data).take(MAX_PLAIN as u64);
                let e = gz
                    .read_to_end(&mut self.plain)
                    .err()
                    .map_or_else(|| "invalid gzip data".to_string(), |e| e.to_string());
                Some(format!(
                    "gzip data is corrupt or truncated ({e}) after {} decompressed bytes; the records before that are read",
                    self.plain.len()
                ))
            }
        }
    }
}

/// The most a compressed object may decompress to (1 GiB): CloudTrail's own files are a few MB.
const MAX_PLAIN: usize = 1 << 30;

/// What the event reader hands over.
pub enum Parsed<'b, 'a> {
    /// Consecutive records parsed as events, and their record numbers (one per event).
    Events(&'b [Event<'a>], &'b [usize]),
    /// A record that is not an event (why), and its number.
    NotAnEvent(EventError, usize),
}

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

/// The events of a decompressed object, handed over in runs (see [`crate::documents`]: every
/// shape of input, documents one after another); empty input is one skip.
pub fn parse_event_batches(
    name: &str,
    text: &[u8],
    stats: &mut ReadStats,
    issues: &mut Vec<Issue>,
    each: &mut dyn FnMut(Parsed<'_, '_>),
) {
    if crate::scan::is_blank(text) {
        stats.skipped += 1;
        issues.push(Issue {
            location: name.to_string(),
            message: "empty input".into(),
        });
        return;
    }
    let mut place = Place::default();
    read_documents(name, text, &mut place, false, stats, issues, each);
    place.finish(issues);
}

/// [`parse_event_batches`], handing over each record's bytes and number.
pub fn parse_records(
    name: &str,
    text: &[u8],
    stats: &mut ReadStats,
    issues: &mut Vec<Issue>,
    each: &mut dyn FnMut(&[u8], usize),
) {
    parse_event_batches(name, text, stats, issues, &mut raw_records(each));
}

/// A consumer of record bytes as a [`Parsed`] consumer.
fn raw_records<'f>(each: &'f mut dyn FnMut(&[u8], usize)) -> impl FnMut(Parsed<'_, '_>) + 'f {
    move |p| {
        if let Parsed::Events(events, numbers) = p {
            for (ev, &n) in events.iter().zip(numbers) {
                each(ev.raw(), n);
            }
        }
    }
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

/// False when the key's date (`…/YYYY/MM/DD/…`) rules out every event of `since..until`
/// (epoch seconds), so the object need not be read at all; keys without a date are kept. The
/// date is the day CloudTrail *delivered* the file, minutes after its events: a file delivered
/// on or before the day of `since` may hold events of that day, and one delivered the day after
/// `until` may hold events of `until`'s day (an event at 23:58 arrives after midnight).
pub fn key_in_window(key: &Path, since: Option<i64>, until: Option<i64>) -> bool {
    match key_day(key) {
        Some(day) => {
            !(since.is_some_and(|s| day < s.div_euclid(86400))
                || until.is_some_and(|u| day > u.div_euclid(86400) + 1))
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
        let (_, st, issues) = run(b"   ");
        assert_eq!(issues[0].message, "empty input");
        assert_eq!(st.skipped, 1, "an empty input is a skip");
        let (got, _, issues) = run(b"{\"Records\":[{\"a\":1},");
        assert_eq!(got.len(), 1, "the records before the cut are read");
        assert_eq!(issues[0].location, "f:line 1", "{issues:?}");
        assert!(issues[0].message.contains("(column 21)"), "{issues:?}");
        assert!(issues[0].message.contains("record 2"), "{issues:?}");
        assert!(issues[0].message.contains("truncated"), "{issues:?}");
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
        // JSON Lines events come in runs too
        assert_eq!(kinds, vec![(2, 1)]);
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
        assert_eq!(issues[0].location, "f:line 1", "{issues:?}");
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

    use crate::gunzip::gz as gzip;

    #[test]
    fn gzip_and_truncation() {
        let gz = gzip(br#"{"Records":[{"a":1}]}"#);
        assert_eq!(run(&gz).0.len(), 1);
        let (got, st, issues) = run(&gz[..gz.len() / 2]);
        assert!(got.is_empty());
        assert_eq!(st.skipped, 1);
        assert!(issues[0].message.contains("gzip"));
        // the records that decompressed before the damage are read, and the cut is named
        let mut body = String::from("{\"Records\":[");
        for n in 0..2000 {
            body.push_str(&format!("{{\"eventName\":\"E{n}\",\"pad\":\"{n:0>64}\"}},"));
        }
        body.push_str("{\"eventName\":\"last\"}]}");
        let gz = gzip(body.as_bytes());
        let (got, st, issues) = run(&gz[..gz.len() * 3 / 4]);
        assert!(got.len() > 500 && got.len() < 2001, "{}", got.len());
        assert!(got[0].contains("\"E0\""), "from the start");
        assert!(
            issues[0]
                .message
                .contains("gzip data is corrupt or truncated"),
            "{issues:?}"
        );
        assert!(
            issues[1].message.contains("rest of this input skipped"),
            "{issues:?}"
        );
        assert_eq!(st.skipped, 1, "the cut record");
        // members one after another (`cat a.gz b.gz`)
        let mut two = gzip(br#"{"Records":[{"a":1}]}"#);
        two.extend(gzip(br#"{"Records":[{"b":2},{"c":3}]}"#));
        let (got, _, issues) = run(&two);
        assert_eq!(got.len(), 3, "{issues:?}");
        assert!(issues.is_empty(), "{issues:?}");
    }

    #[test]
    fn documents_one_after_another() {
        // `zcat *.json.gz`: CloudTrail objects back to back, with or without a newline
        let (got, st, issues) = run(br#"{"Records":[{"a":1}]}{"Records":[{"b":2}]}
{"Records":[{"c":3},{"d":4}]}"#);
        assert_eq!(got.len(), 4, "{issues:?}");
        assert_eq!((st.records, st.skipped), (4, 0));
        // records are numbered through the whole input
        let mut numbers = Vec::new();
        let mut r = Reader::new();
        let (mut st, mut is) = (ReadStats::default(), Vec::new());
        r.read_bytes(
            "f",
            b"{\"Records\":[{\"a\":1},7]}\n{\"Records\":[8,{\"b\":2}]}",
            &mut st,
            &mut is,
            &mut |_, n| numbers.push(n),
        );
        assert_eq!(numbers, vec![1, 4]);
        assert_eq!(is[0].location, "f:record 2");
        assert_eq!(is[1].location, "f:record 3");
        // JSON Lines of envelopes, an array of EventBridge envelopes, Records not first
        let eb = r#"{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.s3","detail":{"eventName":"X"}}"#;
        let (got, _, issues) = run(format!("[{eb},{eb}]\n{{\"Records\":[{{\"eventName\":\"Y\"}}]}}\n{{\"extra\":1,\"Records\":[{{\"eventName\":\"Z\"}}]}}").as_bytes());
        assert_eq!(
            got,
            vec![
                r#"{"eventName":"X"}"#,
                r#"{"eventName":"X"}"#,
                r#"{"eventName":"Y"}"#,
                r#"{"eventName":"Z"}"#
            ],
            "{issues:?}"
        );
    }

    /// CloudTrail Lake query results (`aws cloudtrail get-query-results`): one event per row.
    #[test]
    fn lake_query_results() {
        let doc = br#"{"QueryStatus":"FINISHED","QueryResultRows":[
            [{"eventName":"StopLogging"},{"eventSource":"cloudtrail.amazonaws.com"},{"eventTime":"2024-07-31 13:06:24.000"},{"userIdentity":"{\"type\":\"Root\",\"arn\":\"arn:aws:iam::1:root\"}"}],
            [{"eventJson":"{\"eventName\":\"ConsoleLogin\",\"eventSource\":\"signin.amazonaws.com\"}"}]
        ],"QueryStatistics":{"ResultsCount":2}}"#;
        let mut r = Reader::new();
        let (mut st, mut is) = (ReadStats::default(), Vec::new());
        let mut got = Vec::new();
        r.read_bytes_events("f", doc, &mut st, &mut is, &mut |ev, n| {
            let ev = ev.unwrap();
            let h = ev.header();
            got.push((
                n,
                h.event_name.as_deref().map(String::from),
                ev.identity_member("type")
                    .flatten()
                    .and_then(|m| ev.member_str(&m))
                    .map(String::from),
            ));
        });
        assert!(is.is_empty(), "{is:?}");
        assert_eq!(
            got,
            vec![
                (1, Some("StopLogging".into()), Some("Root".into())),
                (2, Some("ConsoleLogin".into()), None),
            ]
        );
        let (_, st, is) = run(br#"{"QueryResultRows":{"not":"rows"}}"#);
        assert_eq!(st.skipped, 1);
        assert!(is[0].message.contains("QueryResultRows"), "{is:?}");
    }

    /// A broken line of JSON Lines costs that line; a broken record of a multi-line document
    /// costs the rest of its line, and no record is read twice.
    #[test]
    fn broken_lines_are_skipped_alone() {
        let (got, st, issues) =
            run(b"{\"a\":1}\n{\"b\":\n{\"c\":3}\nnot json\nnor this\n{\"d\":4}\n");
        assert_eq!(got, vec![r#"{"a":1}"#, r#"{"c":3}"#, r#"{"d":4}"#]);
        assert_eq!(st.skipped, 3);
        assert_eq!(issues.len(), 2, "{issues:?}");
        assert_eq!(issues[0].location, "f:line 2");
        assert_eq!(issues[1].location, "f:line 4");
        assert!(
            issues[1].message.contains("and the 1 line(s) after it"),
            "{issues:?}"
        );
        let (got, _, issues) = run(b"{\"Records\":[\n{\"a\":1},\n{\"b\":tru},\n{\"c\":3}\n]}\n");
        assert_eq!(got[..2], [r#"{"a":1}"#, r#"{"c":3}"#], "{issues:?}");
        assert_eq!(
            got.iter().filter(|g| g.contains("\"a\"")).count(),
            1,
            "read once"
        );
        assert_eq!(issues[0].location, "f:line 3");
        assert!(issues[0].message.contains("record 2"), "{issues:?}");
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
        // delivered on the 31st: may hold events of the 30th (late in the day), not earlier
        assert!(key_in_window(key, None, Some(day - 86400)));
        assert!(!key_in_window(key, None, Some(day - 2 * 86400)));
        assert!(key_in_window(Path::new("x.json"), Some(day), Some(day)));
    }
}
