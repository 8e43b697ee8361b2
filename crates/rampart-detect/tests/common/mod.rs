//! What the corpus-driven tests share: where the corpora are and the full rule set.

use rampart_detect::{BuiltinConfig, Engine, builtin};
use std::path::PathBuf;

pub fn corpora() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora")
}

/// Every active built-in rule under `cfg` and every supported SigmaHQ rule of the corpus.
pub fn engine(cfg: &BuiltinConfig) -> Engine {
    let mut rules: Vec<_> = builtin(cfg)
        .into_iter()
        .filter(|b| b.disabled.is_none())
        .map(|b| b.rule)
        .collect();
    rules.extend(
        rampart_detect::sigma::load_dir(&corpora().join("sigma-aws"))
            .unwrap()
            .rules,
    );
    Engine::new(rules)
}
