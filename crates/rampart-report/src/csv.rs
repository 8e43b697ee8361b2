//! CSV (RFC 4180): one row per finding, every finding. Columns are only ever appended
//! (`requirement`, filled when the audit reports by a framework, came last).

use crate::shown_status;
use rampart_core::Finding;

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn render(findings: &[Finding]) -> String {
    let mut out = String::from(
        "id,control,title,frameworks,status,severity,account_id,region,resource,message,suppressed_reason,suppressed_expires,remediation,requirement\r\n",
    );
    for f in findings {
        let (reason, expires) = match &f.suppressed {
            Some(s) => (s.reason.as_str(), s.expires.as_deref().unwrap_or("")),
            None => ("", ""),
        };
        let status = if f.suppressed.is_some() {
            f.status.as_str()
        } else {
            shown_status(f)
        };
        let cols = [
            f.id.as_str(),
            &f.control,
            &f.title,
            &f.frameworks.join(" "),
            status,
            f.severity.as_str(),
            &f.account_id,
            &f.region,
            &f.resource,
            &f.message,
            reason,
            expires,
            &f.remediation,
            f.requirement.as_deref().unwrap_or(""),
        ];
        out.push_str(&cols.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::testdata::run_and_findings;

    #[test]
    fn quoting_and_row_count() {
        let (_, f) = run_and_findings();
        let c = super::render(&f);
        assert_eq!(
            c.matches("\r\n").count(),
            f.len() + 1,
            "newlines inside fields stay quoted"
        );
        assert!(c.contains("\"migration \"\"Q1\"\", ticket <SEC-1>\""));
    }
}
