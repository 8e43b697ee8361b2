//! docs/runbooks/findings is generated from the finding families' code (`rampart runbook --all
//! --out docs/runbooks`, or `RAMPART_UPDATE_DOCS=1 cargo test -p rampart-findings --test
//! runbook_docs`): this fails when a family has no page, a page differs, or one is left over.

use std::collections::BTreeSet;
use std::path::PathBuf;

#[test]
fn committed_finding_runbooks_match_the_code() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/runbooks/findings");
    let docs = rampart_findings::runbooks::docs();
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
        let name = e.file_name().to_string_lossy().into_owned();
        if !wanted.contains(name.as_str()) {
            problems.push(format!("{name}: no runbook generates it (delete it)"));
        }
    }
    // every service's families end with one matching any type: no finding goes without
    for s in rampart_findings::Service::ALL {
        assert!(
            rampart_findings::runbooks::find(s, "No:Such/Type").is_some(),
            "{} has no catch-all runbook",
            s.as_str()
        );
    }
    assert!(
        problems.is_empty(),
        "docs/runbooks/findings is out of date; regenerate with `rampart runbook --all --out docs/runbooks` \
         or `RAMPART_UPDATE_DOCS=1 cargo test -p rampart-findings --test runbook_docs`:\n{problems:#?}"
    );
}
