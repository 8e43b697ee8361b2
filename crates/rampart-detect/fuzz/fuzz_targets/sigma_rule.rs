//! Any text as a Sigma rule: loading never panics; a rule that loads can be evaluated on an
//! event, and the engine (optimized condition, index, per-value memo) agrees with the rule as
//! loaded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_detect::event::Event;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(rule) = rampart_detect::sigma::load_str(text, "fuzz.yml") else {
        if let Err(u) = rampart_detect::sigma::load_str(text, "fuzz.yml") {
            assert!(!u.reason.is_empty());
        }
        return;
    };
    // a well-formed event, and one whose header fields and `userIdentity` members hold values
    // of other types (arrays holding the name, a number, null, an object)
    let events: [&[u8]; 2] = [
        br#"{"eventName":"ConsoleLogin","eventSource":"signin.amazonaws.com","userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"},"requestParameters":{"a":[1,"x",{"b":null}]},"sourceIPAddress":"10.0.0.1"}"#,
        br#"{"eventName":["ConsoleLogin",null],"eventSource":5,"errorCode":null,"userAgent":{"x":"kali"},"userIdentity":{"type":["Root"],"arn":7},"sourceIPAddress":["10.0.0.1",[]],"eventType":[]}"#,
    ];
    for raw in events {
        let rule = rule.clone();
        let ev = Event::parse(raw).expect("static event");
        // read from the bytes (fast paths) or from the document: the same answer
        let doc = serde_json::from_slice(raw).expect("static event");
        let from_doc = rampart_detect::engine::eval(&rule.condition, &Event::from_value(raw, doc));
        let plain = rampart_detect::engine::eval(&rule.condition, &ev);
        assert_eq!(from_doc, plain);
        // the engine's rewrite of the rule (cheapest test first, `contains` lists merged)
        // and its index give the same answer as the rule as loaded
        let optimized = rampart_detect::optimize::condition(rule.condition.clone());
        assert_eq!(rampart_detect::engine::eval(&optimized, &ev), plain);
        let engine = rampart_detect::Engine::new(vec![rule]);
        let mut hit = false;
        engine.evaluate(&ev, &mut Default::default(), |_| hit = true);
        assert_eq!(hit, plain);
        // answers cached per header value: the first evaluation fills the memo, the second
        // reads it
        let mut memo = rampart_detect::engine::ValueMemo::default();
        for _ in 0..2 {
            let mut hit = false;
            engine.evaluate_with(&ev, Some(&mut memo), &mut Default::default(), |_| {
                hit = true
            });
            assert_eq!(hit, plain);
        }
    }
});
