//! Any bytes (plain, gzip-looking, JSON Lines, `{"Records": …}`): the reader never panics, every
//! record it yields parses into an event view or is reported, and counts add up.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_trail::{Event, ReadStats, Reader};

fuzz_target!(|data: &[u8]| {
    let mut reader = Reader::new();
    let mut stats = ReadStats::default();
    let mut issues = Vec::new();
    let mut records = 0usize;
    reader.read_bytes("fuzz", data, &mut stats, &mut issues, &mut |raw, _| {
        records += 1;
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
    let mut stats = ReadStats::default();
    let mut issues = Vec::new();
    reader.read_bytes_events("fuzz", data, &mut stats, &mut issues, &mut |ev, _| {
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
});
