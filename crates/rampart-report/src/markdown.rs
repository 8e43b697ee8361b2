//! Markdown: a summary, per-control counts and the open problems; fits a PR comment or a wiki.

use crate::{Options, Run, problems, shown_status};
use rampart_core::Finding;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn render(run: &Run, findings: &[Finding], opts: Options) -> String {
    let s = &run.summary;
    let mut out = String::from("# rampart audit\n\n");
    out.push_str(&format!(
        "Organization `{}` · {} account(s) · {} region(s) · {} controls · evaluated {} (snapshot {})\n\n",
        run.organization_id.as_deref().unwrap_or("standalone"),
        run.accounts,
        run.regions.len(),
        run.controls,
        run.evaluated_at,
        run.snapshot_generated_at
    ));
    out.push_str("| PASS | FAIL | ERROR | SUPPRESSED | MANUAL | NOT_APPLICABLE |\n|---:|---:|---:|---:|---:|---:|\n");
    out.push_str(&format!(
        "| {} | {} | {} | {} | {} | {} |\n\n",
        s.count("PASS"),
        s.count("FAIL"),
        s.count("ERROR"),
        s.count("SUPPRESSED"),
        s.count("MANUAL"),
        s.count("NOT_APPLICABLE")
    ));
    out.push_str("## Controls with problems\n\n| Control | Title | FAIL | ERROR | SUPPRESSED |\n|---|---|---:|---:|---:|\n");
    let titles: std::collections::BTreeMap<&str, &str> = findings
        .iter()
        .map(|f| (f.control.as_ref(), f.title.as_ref()))
        .collect();
    for (control, counts) in &s.by_control {
        let n = |k: &str| counts.get(k).copied().unwrap_or(0);
        if n("FAIL") + n("ERROR") + n("SUPPRESSED") > 0 {
            out.push_str(&format!(
                "| `{control}` | {} | {} | {} | {} |\n",
                cell(titles.get(control.as_str()).unwrap_or(&"")),
                n("FAIL"),
                n("ERROR"),
                n("SUPPRESSED")
            ));
        }
    }
    let rows: Vec<&Finding> = if opts.show_all {
        findings.iter().collect()
    } else {
        problems(findings)
    };
    out.push_str("\n## Findings\n\n| Status | Severity | Control | Account | Region | Resource | Message |\n|---|---|---|---|---|---|---|\n");
    for f in rows {
        out.push_str(&format!(
            "| {} | {} | `{}` | {} | {} | `{}` | {} |\n",
            shown_status(f),
            f.severity.as_str(),
            crate::control_label(f),
            f.account_id,
            f.region,
            cell(&f.resource),
            cell(&f.message)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::testdata::run_and_findings;
    use crate::{Format, Options, render};

    #[test]
    fn markdown_lists_problems() {
        let (run, f) = run_and_findings();
        let m = render(Format::Markdown, &run, &f, Options::default());
        assert!(m.starts_with("# rampart audit"));
        assert!(m.contains("| `cis-1.4` |"));
        assert!(m.contains("| SUPPRESSED | HIGH | `cis-2.3.1`"));
        assert!(!m.contains("| PASS | LOW"), "passes only with show_all");
    }
}
