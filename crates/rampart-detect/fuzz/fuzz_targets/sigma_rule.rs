//! Any text as a Sigma rule: loading never panics; a rule that loads can be evaluated on an event.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_detect::event::Event;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rule) = rampart_detect::sigma::load_str(text, "fuzz.yml") {
        let raw = br#"{"eventName":"ConsoleLogin","eventSource":"signin.amazonaws.com","userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"},"requestParameters":{"a":[1,"x",{"b":null}]},"sourceIPAddress":"10.0.0.1"}"#;
        let ev = Event::parse(raw).expect("static event");
        std::hint::black_box(rampart_detect::engine::eval(&rule.condition, &ev));
    } else if let Err(u) = rampart_detect::sigma::load_str(text, "fuzz.yml") {
        assert!(!u.reason.is_empty());
    }
});
