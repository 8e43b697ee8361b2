//! The terminal table: problems first, then a one-line summary.

use crate::{Options, Run, problems, shown_status};
use rampart_core::{Finding, Severity, Status};

fn paint(s: &str, code: &str, on: bool) -> String {
    if on {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

fn status_color(f: &Finding) -> &'static str {
    if f.suppressed.is_some() {
        return "2";
    }
    match f.status {
        Status::Pass => "32",
        Status::Fail => "31",
        Status::Error => "35",
        _ => "2",
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

pub fn render(run: &Run, findings: &[Finding], opts: Options) -> String {
    let rows: Vec<&Finding> = if opts.show_all {
        let mut v: Vec<&Finding> = findings.iter().collect();
        if !crate::by_framework(findings) {
            v.sort_by(|a, b| {
                (&a.control, &a.account_id, &a.region).cmp(&(&b.control, &b.account_id, &b.region))
            });
        }
        v
    } else {
        problems(findings)
    };
    let headers = [
        "STATUS", "SEVERITY", "CONTROL", "ACCOUNT", "REGION", "RESOURCE", "MESSAGE",
    ];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|f| {
            [
                shown_status(f).to_string(),
                f.severity.as_str().to_string(),
                crate::control_label(f).into_owned(),
                f.account_id.clone(),
                f.region.clone(),
                truncate(&f.resource, 60),
                truncate(&f.message, 100),
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cols: &[String], widths: &[usize]| -> String {
        let mut s = String::new();
        for (i, (c, w)) in cols.iter().zip(widths).enumerate() {
            if i + 1 == cols.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = *w + c.len() - c.chars().count()));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    if !cells.is_empty() {
        out.push_str(&paint(
            &line(&headers.map(String::from), &widths),
            "1",
            opts.color,
        ));
        for (row, f) in cells.iter().zip(&rows) {
            let mut row = row.clone();
            let pad = widths[0] - row[0].len();
            row[0] = paint(&row[0], status_color(f), opts.color) + &" ".repeat(pad);
            let w = [
                0usize, widths[1], widths[2], widths[3], widths[4], widths[5], 0,
            ];
            let mut s = row[0].clone() + "  ";
            for i in 1..7 {
                if i == 6 {
                    s.push_str(&row[i]);
                } else {
                    s.push_str(&format!(
                        "{:<w$}  ",
                        row[i],
                        w = w[i] + row[i].len() - row[i].chars().count()
                    ));
                }
            }
            out.push_str(s.trim_end());
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str(&summary_line(run, opts.color));
    out
}

/// `rampart: 5 accounts, 2 regions, 70 controls — 1234 PASS, 12 FAIL, …`
pub fn summary_line(run: &Run, color: bool) -> String {
    let s = &run.summary;
    let part = |k: &str, code: &str| {
        let n = s.count(k);
        if n == 0 {
            None
        } else {
            Some(paint(&format!("{n} {k}"), code, color))
        }
    };
    let parts: Vec<String> = [
        part("PASS", "32"),
        part("FAIL", "31"),
        part("ERROR", "35"),
        part("SUPPRESSED", "2"),
        part("MANUAL", "2"),
        part("NOT_APPLICABLE", "2"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let gate = match run.fail_on {
        Some(sev) => format!(" (--fail-on {})", sev.as_str().to_ascii_lowercase()),
        None => String::new(),
    };
    let _ = Severity::Low;
    let framework = match &run.framework {
        Some(fw) => format!(" of {fw}"),
        None => String::new(),
    };
    format!(
        "{} account(s), {} region(s), {} controls{framework}: {}{gate}\n",
        run.accounts,
        run.regions.len(),
        run.controls,
        parts.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use crate::testdata::run_and_findings;
    use crate::{Format, Options, render};

    #[test]
    fn problems_first_no_color_by_default() {
        let (run, f) = run_and_findings();
        let t = render(Format::Table, &run, &f, Options::default());
        assert!(!t.contains('\x1b'));
        let first = t.lines().nth(1).unwrap();
        assert!(
            first.starts_with("FAIL") && first.contains("CRITICAL") && first.contains("cis-1.4"),
            "{first}"
        );
        assert!(t.contains("SUPPRESSED"));
        assert!(t.trim_end().ends_with("(--fail-on high)"));
        let c = render(
            Format::Table,
            &run,
            &f,
            Options {
                color: true,
                show_all: false,
            },
        );
        assert!(c.contains("\x1b[31mFAIL\x1b[0m"));
    }

    /// Reporting by CIS v5.0: rows name the v5.0 requirement before the control id, in every
    /// human format, and CSV gets it in its last column.
    #[test]
    fn framework_runs_name_the_requirement() {
        let (mut run, _) = run_and_findings();
        let mut s = rampart_core::sample::compliant_org(1, &["us-east-1"]);
        s.accounts[3].regions[0].ebs_encryption_by_default = false;
        s.accounts[3].regions[0].flow_logs.clear();
        let f = rampart_core::evaluate_framework(
            &s,
            &rampart_core::AuditSettings::default(),
            "cis-aws-5.0",
        )
        .unwrap();
        run.framework = Some("cis-aws-5.0".into());
        run.controls = rampart_core::select("cis-aws-5.0").unwrap().len();
        let t = render(Format::Table, &run, &f, Options::default());
        assert!(t.contains("cis-aws-5.0:5.1.1 (cis-2.2.1)"), "{t}");
        assert!(
            t.contains(&format!("{} controls of cis-aws-5.0:", run.controls)),
            "{t}"
        );
        // Same severity (MEDIUM): v5.0 3.7 (flow logs) before 5.1.1 (EBS), although by control
        // id cis-2.2.1 sorts before cis-3.7.
        for all in [false, true] {
            let t = render(
                Format::Table,
                &run,
                &f,
                Options {
                    color: false,
                    show_all: all,
                },
            );
            let at = |needle: &str| t.find(needle).unwrap_or_else(|| panic!("{needle}: {t}"));
            assert!(
                at("cis-aws-5.0:3.7 (cis-3.7)") < at("cis-aws-5.0:5.1.1 (cis-2.2.1)"),
                "{t}"
            );
        }
        let m = render(Format::Markdown, &run, &f, Options::default());
        assert!(m.contains("`cis-aws-5.0:5.1.1 (cis-2.2.1)`"), "{m}");
        let c = render(Format::Csv, &run, &f, Options::default());
        assert!(c.lines().next().unwrap().ends_with(",requirement"));
        assert!(c.contains(",cis-aws-5.0:5.1.1\r\n"));
        let j = render(Format::Json, &run, &f, Options::default());
        assert!(j.contains(r#""framework": "cis-aws-5.0""#), "{}", &j[..400]);
    }
}
