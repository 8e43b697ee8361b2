//! Lint findings on the reference guardrails: no false errors on real, deployed policies.

use rampart_policy::lint::{PolicyKind, Severity, lint};

#[test]
fn reference_policies_lint_without_errors() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/reference/scps"))
        .find(|d| d.is_dir())
        .expect("shared/reference/scps beside a parent of the crate (e.g. /work/shared)");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("reference SCPs present") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".json") {
            continue;
        }
        let kind = if name.starts_with("BUCKET-POLICY") {
            PolicyKind::Resource
        } else if name.contains(".RCP.") {
            PolicyKind::Rcp
        } else {
            PolicyKind::Scp
        };
        let text = std::fs::read_to_string(&path).unwrap();
        let findings = lint(&text, kind);
        for f in &findings {
            eprintln!(
                "{name}:{}:{}: {} {:?} {}",
                f.line, f.column, f.code, f.severity, f.message
            );
        }
        let errors: Vec<_> = findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        seen += 1;
    }
    assert!(seen >= 10);
}
