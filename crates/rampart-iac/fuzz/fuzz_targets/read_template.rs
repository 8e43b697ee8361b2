//! Any bytes as a template or plan: the YAML and JSON readers, the intrinsic-function resolver
//! (`!Ref`, `!Sub`, `!If`, conditions, mappings, aliases) and every check never panic; an error
//! always carries a position.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_iac::checks::Env;
use rampart_iac::model::ReadOptions;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let opts = ReadOptions::default();
    match rampart_iac::read(text, &opts) {
        Ok(dep) => {
            let env = Env {
                account: "111122223333".into(),
                ..Env::default()
            };
            let findings = rampart_iac::check("fuzz.yaml", &dep, &env);
            let _ = format!("{findings:?}").len();
        }
        Err(e) => assert!(!e.message.is_empty()),
    }
});
