//! What the corpus-driven tests share: where the corpora are and the full rule set.

use rampart_detect::{BuiltinConfig, Engine, builtin};
use std::path::PathBuf;

/// `../shared/corpora` beside the repository, or `RAMPART_CORPORA` (a checkout elsewhere, such
/// as a git worktree).
pub fn corpora() -> PathBuf {
    std::env::var_os("RAMPART_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora")
        })
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
