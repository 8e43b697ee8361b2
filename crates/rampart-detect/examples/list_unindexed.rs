use rampart_detect::{BuiltinConfig, builtin};
use std::path::PathBuf;
fn main() {
    let mut rules: Vec<_> = builtin(&BuiltinConfig {
        allowed_regions: vec!["eu-west-1".into()],
        ..Default::default()
    })
    .into_iter()
    .filter(|b| b.disabled.is_none())
    .map(|b| b.rule)
    .collect();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/sigma-aws");
    rules.extend(rampart_detect::sigma::load_dir(&dir).unwrap().rules);
    for r in &rules {
        if r.index.event_names.is_none() {
            println!(
                "{} {:?}\n  {:?}\n",
                r.meta.id, r.index.event_sources, r.condition
            );
        }
    }
}
