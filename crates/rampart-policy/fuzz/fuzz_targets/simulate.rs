//! Any bytes as a `rampart policy simulate` document: parsing and evaluation never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_policy::{evaluate, simulate::parse_simulations};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(sims) = parse_simulations(text) {
        for s in sims {
            let _ = evaluate(&s.request, &s.policies);
        }
    }
});
