//! Any bytes (plain, gzip-looking, JSON Lines, `{"Records": …}`, several documents): the reader
//! never panics, every record it yields parses into an event view or is reported, issues name
//! where they happened, and a stream read in pieces gives exactly what the whole input gives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_trail::stream::{Consumer, read_stream};
use rampart_trail::{Event, Issue, Parsed, ReadStats, Reader};
use std::io::{ErrorKind, Read};

/// Hands its bytes out `step` at a time, with a "nothing yet" between pieces.
struct Pieces<'a> {
    data: &'a [u8],
    step: usize,
    wait: bool,
}

impl Read for Pieces<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        self.wait = !self.wait;
        if self.wait && !self.data.is_empty() {
            return Err(ErrorKind::WouldBlock.into());
        }
        let n = self.step.min(out.len()).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

struct Collect(Vec<(Vec<u8>, usize)>);

impl Consumer for Collect {
    fn parsed(&mut self, p: Parsed<'_, '_>) {
        if let Parsed::Events(evs, ns) = p {
            self.0.extend(evs.iter().zip(ns).map(|(e, &n)| (e.raw().to_vec(), n)));
        }
    }
    fn idle(&mut self, _: &mut Vec<Issue>) {}
}

fuzz_target!(|data: &[u8]| {
    let mut reader = Reader::new();
    let mut stats = ReadStats::default();
    let mut issues = Vec::new();
    let mut records = Vec::new();
    reader.read_bytes("fuzz", data, &mut stats, &mut issues, &mut |raw, n| {
        records.push((raw.to_vec(), n));
        if let Ok(ev) = Event::parse(raw) {
            let h = ev.header();
            std::hint::black_box((h.event_name.is_some(), h.event_time.is_some()));
            std::hint::black_box(ev.doc().is_some());
        }
    });
    for i in &issues {
        assert!(!i.location.is_empty(), "an issue names where it happened");
    }
    // The one-scan event reader: every event it yields indexes spans inside its own bytes.
    let mut stats2 = ReadStats::default();
    let mut issues2 = Vec::new();
    reader.read_bytes_events("fuzz", data, &mut stats2, &mut issues2, &mut |ev, _| {
        if let Ok(ev) = ev {
            for key in ["eventName", "userIdentity", "requestParameters"] {
                if let Some((s, e)) = ev.member(key) {
                    assert!(s <= e && e <= ev.raw().len());
                    for inner in ["type", "arn", "sessionContext"] {
                        if let Ok(Some((a, b))) = ev.member_of(s, inner) {
                            assert!(s <= a && a <= b && b <= e, "nested spans lie inside their object");
                        }
                    }
                }
            }
            std::hint::black_box(ev.doc().is_some());
        }
    });
    // Plain (not gzip) input read as a stream in pieces: the same records, counts and issues.
    if !data.starts_with(&[0x1f, 0x8b]) {
        let step = 1 + data.first().map_or(0, |&b| b as usize % 7);
        let mut input = Pieces { data, step, wait: false };
        let (mut st, mut is) = (ReadStats::default(), Vec::new());
        let mut got = Collect(Vec::new());
        read_stream("fuzz", &mut input, &mut st, &mut is, &mut got);
        assert_eq!(got.0, records, "streamed records");
        assert_eq!((st.records, st.skipped), (stats.records, stats.skipped));
        assert_eq!(is, issues, "streamed issues");
    }
});
