//! A self-contained HTML report: no scripts, fonts or images from anywhere else, so it can be
//! mailed, archived or opened offline. Summary, per-account and per-control tables, then each
//! control with problems: why it matters, how to fix it, and the failing resources.

use crate::{Run, problems, shown_status};
use rampart_core::Finding;
use std::collections::BTreeMap;
use std::fmt::Write;

pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

pub(crate) const STYLE: &str = "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;color:#1d2433;padding:0 1rem}
h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:2px solid #e3e7ef;padding-bottom:.3rem}
.meta{color:#5b6578}.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1.2rem 0}
.card{border-radius:8px;padding:.8rem 1.2rem;min-width:7rem;background:#f4f6fa}.card b{display:block;font-size:1.8rem}
.PASS{color:#17803d}.FAIL{color:#c62828}.ERROR{color:#8e24aa}.SUPPRESSED,.MANUAL,.NOT_APPLICABLE{color:#6b7280}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.6rem 0}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e3e7ef;vertical-align:top}
th{background:#f4f6fa}td.n{text-align:right;font-variant-numeric:tabular-nums}code{font-size:.85em;word-break:break-all}
.sev{font-weight:600;font-size:.8rem}.CRITICAL{color:#fff;background:#b71c1c;padding:0 .3rem;border-radius:3px}.HIGH{color:#c62828}.MEDIUM{color:#b26a00}.LOW,.INFORMATIONAL{color:#5b6578}
details{margin:.8rem 0;border:1px solid #e3e7ef;border-radius:8px;padding:.6rem 1rem}summary{cursor:pointer;font-weight:600}
pre{white-space:pre-wrap;background:#f4f6fa;padding:.6rem;border-radius:6px;font-size:.85rem}";

fn count(m: &BTreeMap<String, usize>, k: &str) -> usize {
    m.get(k).copied().unwrap_or(0)
}

pub fn render(run: &Run, findings: &[Finding]) -> String {
    let s = &run.summary;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>rampart audit report</title><style>{STYLE}</style></head><body>\n<h1>rampart audit report</h1>\n<p class=\"meta\">Organization <b>{}</b> · {} account(s) · regions {} · {} controls (CIS AWS Foundations v3.0 + baseline)<br>Evaluated {} · snapshot collected {} · source {}</p>\n",
        esc(run
            .organization_id
            .as_deref()
            .unwrap_or("standalone account")),
        run.accounts,
        esc(&run.regions.join(", ")),
        run.controls,
        esc(&run.evaluated_at),
        esc(&run.snapshot_generated_at),
        esc(&run.source)
    );
    h.push_str("<div class=\"cards\">");
    for k in [
        "PASS",
        "FAIL",
        "ERROR",
        "SUPPRESSED",
        "MANUAL",
        "NOT_APPLICABLE",
    ] {
        let _ = write!(
            h,
            "<div class=\"card\"><b class=\"{k}\">{}</b>{}</div>",
            s.count(k),
            k.replace('_', " ")
        );
    }
    h.push_str("</div>\n");
    if !run.warnings.is_empty() {
        h.push_str("<h2>Warnings</h2><ul>");
        for w in &run.warnings {
            let _ = write!(h, "<li>{}</li>", esc(w));
        }
        h.push_str("</ul>\n");
    }

    let names = &run.account_names;
    h.push_str("<h2>By account</h2>\n<table><tr><th>Account</th><th>PASS</th><th>FAIL</th><th>ERROR</th><th>SUPPRESSED</th><th>Score</th></tr>\n");
    for (acct, c) in &s.by_account {
        let (p, f, e) = (count(c, "PASS"), count(c, "FAIL"), count(c, "ERROR"));
        let score = (p * 100).checked_div(p + f + e).unwrap_or(100);
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code>{}</td><td class=\"n PASS\">{p}</td><td class=\"n FAIL\">{f}</td><td class=\"n ERROR\">{e}</td><td class=\"n\">{}</td><td class=\"n\">{score}%</td></tr>",
            esc(acct),
            names
                .get(acct)
                .map(|n| format!(" {}", esc(n)))
                .unwrap_or_default(),
            count(c, "SUPPRESSED")
        );
    }
    h.push_str("</table>\n");

    let catalogue: BTreeMap<&str, &rampart_core::Control> = rampart_core::catalogue()
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    h.push_str("<h2>By control</h2>\n<table><tr><th>Control</th><th>Title</th><th>Severity</th><th>PASS</th><th>FAIL</th><th>ERROR</th><th>SUPPRESSED</th><th>Frameworks</th></tr>\n");
    for c in rampart_core::catalogue() {
        let Some(counts) = s.by_control.get(c.id) else {
            continue;
        };
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"sev\"><span class=\"{}\">{}</span></td><td class=\"n PASS\">{}</td><td class=\"n FAIL\">{}</td><td class=\"n ERROR\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            c.id,
            esc(c.title),
            c.severity.as_str(),
            c.severity.as_str(),
            count(counts, "PASS"),
            count(counts, "FAIL"),
            count(counts, "ERROR"),
            count(counts, "SUPPRESSED"),
            esc(&c.frameworks.join(", "))
        );
    }
    h.push_str("</table>\n");

    h.push_str("<h2>Problems and how to fix them</h2>\n");
    let probs = problems(findings);
    if probs.is_empty() {
        h.push_str("<p class=\"PASS\">No failing or unreadable controls.</p>\n");
    }
    let mut by_control: Vec<(&str, Vec<&Finding>)> = Vec::new();
    for f in probs {
        match by_control.iter_mut().find(|(c, _)| *c == f.control) {
            Some((_, v)) => v.push(f),
            None => by_control.push((f.control.as_ref(), vec![f])),
        }
    }
    for (control, fs) in by_control {
        let c = catalogue.get(control);
        let open = fs.iter().filter(|f| f.suppressed.is_none()).count();
        let sev = fs[0].severity.as_str();
        let _ = writeln!(
            h,
            "<details{}><summary><span class=\"sev {sev}\">{sev}</span> <code>{}</code> {} — {} open, {} suppressed</summary>",
            if open > 0 { " open" } else { "" },
            esc(control),
            esc(&fs[0].title),
            open,
            fs.len() - open
        );
        if let Some(c) = c {
            let _ = writeln!(
                h,
                "<p><b>Why:</b> {}</p><p><b>Fix (console):</b> {}</p><pre>{}</pre>",
                esc(c.rationale),
                esc(c.remediation_console),
                esc(c.remediation_cli)
            );
        }
        h.push_str("<table><tr><th>Status</th><th>Account</th><th>Region</th><th>Resource</th><th>Message</th></tr>\n");
        for f in fs {
            let st = shown_status(f);
            let note = f.suppressed.as_ref().map(|s| {
                format!(
                    " <i>(suppressed: {}{})</i>",
                    esc(&s.reason),
                    s.expires
                        .as_deref()
                        .map(|e| format!(", until {}", esc(e)))
                        .unwrap_or_default()
                )
            });
            let _ = writeln!(
                h,
                "<tr><td class=\"{st}\">{st}</td><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td>{}{}</td></tr>",
                esc(&f.account_id),
                esc(&f.region),
                esc(&f.resource),
                esc(&f.message),
                note.unwrap_or_default()
            );
        }
        h.push_str("</table></details>\n");
    }
    h.push_str("<p class=\"meta\">Generated by rampart ");
    h.push_str(&esc(&run.version));
    h.push_str(". Finding ids are stable across runs.</p>\n</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use crate::testdata::run_and_findings;

    #[test]
    fn self_contained_and_escaped() {
        let (run, f) = run_and_findings();
        let h = super::render(&run, &f);
        assert!(h.starts_with("<!DOCTYPE html>") && h.trim_end().ends_with("</html>"));
        for external in ["<script", "src=", "href=\"http", "@import", "url("] {
            assert!(!h.contains(external), "{external}");
        }
        assert!(
            h.contains("not authorized &lt;script&gt;"),
            "messages are escaped"
        );
        assert!(h.contains("cis-1.4") && h.contains("Why:") && h.contains("By account"));
        assert!(h.contains("<code>222222222222</code> Log Archive"));
        assert!(h.contains(
            "(suppressed: migration &quot;Q1&quot;, ticket &lt;SEC-1&gt;, until 2099-01-01)"
        ));
    }
}
