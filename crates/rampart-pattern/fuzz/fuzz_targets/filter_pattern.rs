//! Any text as a CloudWatch Logs filter pattern: parsing never panics, and whatever parses can be
//! matched against JSON events and text lines without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_pattern::FilterPattern;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (pattern, event) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(p) = FilterPattern::parse(pattern) else {
        return;
    };
    let sample = serde_json::json!({
        "eventName": "ConsoleLogin", "errorCode": "AccessDenied", "userIdentity": {"type": "Root"},
        "additionalEventData": {"MFAUsed": "No"}, "n": 42, "list": [1, "a", null, {"b": true}]
    });
    std::hint::black_box(p.matches_json(&sample));
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(event) {
        std::hint::black_box(p.matches_json(&v));
    }
    std::hint::black_box(p.matches_text(event));
    std::hint::black_box(p.required_values("eventName"));
});
