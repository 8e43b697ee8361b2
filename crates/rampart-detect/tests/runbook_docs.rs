//! docs/runbooks is generated from the rules' code (`rampart runbook --all --out docs/runbooks`,
//! or `RAMPART_UPDATE_DOCS=1 cargo test -p rampart-detect --test runbook_docs`): this fails when
//! the committed files differ from what the code generates, or a file is left over.

use std::collections::BTreeSet;
use std::path::PathBuf;

#[test]
fn committed_runbooks_match_the_code() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/runbooks");
    let docs = rampart_detect::runbook::docs();
    if std::env::var_os("RAMPART_UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in &docs {
            std::fs::write(dir.join(name), text).unwrap();
        }
    }
    let mut problems = Vec::new();
    for (name, text) in &docs {
        match std::fs::read_to_string(dir.join(name)) {
            Ok(committed) if committed == *text => {}
            Ok(_) => problems.push(format!("{name}: differs from the code")),
            Err(_) => problems.push(format!("{name}: missing")),
        }
    }
    let wanted: BTreeSet<&str> = docs.iter().map(|(n, _)| n.as_str()).collect();
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        if e.path().is_dir() {
            // findings/ is rampart-findings' (tested there)
            continue;
        }
        let name = e.file_name().to_string_lossy().into_owned();
        if !wanted.contains(name.as_str()) {
            problems.push(format!("{name}: no runbook generates it (delete it)"));
        }
    }
    assert!(
        problems.is_empty(),
        "docs/runbooks is out of date; regenerate with `rampart runbook --all --out docs/runbooks` \
         or `RAMPART_UPDATE_DOCS=1 cargo test -p rampart-detect --test runbook_docs`:\n{problems:#?}"
    );
}
