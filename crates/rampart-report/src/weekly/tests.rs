use super::testdata::{HOSTILE, empty, hostile, report};
use super::*;
use proptest::prelude::*;
use regex::Regex;

const SECTION_IDS: [&str; 13] = [
    "summary",
    "trend",
    "by-ou",
    "by-account",
    "new",
    "resolved",
    "open",
    "mttr",
    "top-risks",
    "expiring",
    "alerts",
    "drift",
    "applied",
];

/// Every element the HTML renderer writes.
const ALLOWED_TAGS: [&str; 38] = [
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "h1",
    "h2",
    "h3",
    "p",
    "b",
    "i",
    "small",
    "br",
    "div",
    "section",
    "figure",
    "figcaption",
    "svg",
    "line",
    "text",
    "polyline",
    "circle",
    "rect",
    "g",
    "table",
    "caption",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "code",
    "span",
    "ul",
    "ol",
    "li",
    "pre",
];

fn html(r: &WeeklyReport) -> String {
    render(r, WeeklyFormat::Html)
}

fn md(r: &WeeklyReport) -> String {
    render(r, WeeklyFormat::Markdown)
}

/// The text of one `<section id=…>`.
fn section<'a>(h: &'a str, id: &str) -> &'a str {
    let start = h
        .find(&format!("<section id=\"{id}\""))
        .unwrap_or_else(|| panic!("section {id}"));
    let end = h[start..].find("</section>").unwrap() + start;
    &h[start..end]
}

#[test]
fn formats_parse_with_a_clear_error() {
    assert_eq!("HTML".parse::<WeeklyFormat>(), Ok(WeeklyFormat::Html));
    assert_eq!("md".parse::<WeeklyFormat>(), Ok(WeeklyFormat::Markdown));
    assert_eq!("json".parse::<WeeklyFormat>(), Ok(WeeklyFormat::Json));
    let e = "pdf".parse::<WeeklyFormat>().unwrap_err();
    assert!(
        e.contains("`pdf`") && e.contains("html, markdown, json"),
        "{e}"
    );
}

#[test]
fn html_has_every_section_once_in_order() {
    let id_attr = Regex::new(r#" id="([^"]+)""#).unwrap();
    for r in [report(30), empty()] {
        let h = html(&r);
        assert!(h.starts_with("<!DOCTYPE html>") && h.trim_end().ends_with("</html>"));
        let mut last = 0;
        for id in SECTION_IDS {
            let tag = format!("<section id=\"{id}\"");
            assert_eq!(h.matches(&tag).count(), 1, "{id}");
            let at = h.find(&tag).unwrap();
            assert!(at > last, "{id} out of order");
            last = at;
        }
        assert_eq!(
            h.matches("<section").count(),
            h.matches("</section>").count()
        );
        // Ids are unique across the page.
        let ids: Vec<&str> = id_attr
            .captures_iter(&h)
            .map(|c| c.get(1).unwrap().as_str())
            .collect();
        let unique: std::collections::BTreeSet<_> = ids.iter().collect();
        assert_eq!(ids.len(), unique.len(), "{ids:?}");
    }
}

#[test]
fn html_needs_nothing_from_elsewhere() {
    let external = [
        r#"(?i)\b(src|href|xlink:href|action|poster|srcset)\s*=\s*["']?\s*(https?:)?//"#,
        r"(?i)@import",
        r"(?i)url\s*\(",
        r"(?i)<(script|link|img|iframe|object|embed|image|use|foreignobject)\b",
    ];
    for r in [report(30), hostile(30), empty()] {
        let h = html(&r);
        for pattern in external {
            let re = Regex::new(pattern).unwrap();
            assert!(!re.is_match(&h), "{pattern}: {:?}", re.find(&h));
        }
    }
    // Without hostile text there is no address of any kind in the file.
    assert!(!html(&report(30)).contains("http"));
}

#[test]
fn html_escapes_every_untrusted_field() {
    let h = html(&hostile(30));
    // Every tag in the page is one the renderer writes.
    for c in Regex::new(r"</?([A-Za-z][A-Za-z0-9]*)")
        .unwrap()
        .captures_iter(&h)
    {
        let tag = c.get(1).unwrap().as_str().to_ascii_lowercase();
        assert!(
            ALLOWED_TAGS.contains(&tag.as_str()),
            "unexpected tag <{tag}>"
        );
    }
    assert!(
        !h.contains("alert('x')") && !h.contains("\"<"),
        "raw hostile text"
    );
    let escaped = "&quot;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;|`*_[img](http://evil.example/x.png)\nnext";
    // Each field, by the text it starts with, shows up escaped.
    for field in [
        "o-abc123",                                  // organization
        "2026-11-29T23:00:00Z",                      // last audit
        "2026-11-30T06:00:00Z",                      // generated
        "Root/Workloads/Dev",                        // OU key / path
        "dev-a",                                     // account name
        "333333333333",                              // account id
        "cis-5.2",                                   // control
        "No SSH from 0.0.0.0/0",                     // title
        "eu-west-1",                                 // region
        "arn:aws:s3:::bucket-5",                     // resource
        "message 7",                                 // message
        "--all",                                     // remediation
        "arn:aws:s3:::accepted-1",                   // accepted resource
        "vendor bucket 2",                           // reason
        "alice-0@example.com",                       // who
        "2026-12-06",                                // expires
        "sg-open",                                   // rule id
        "Security group opened to the world",        // rule title
        "arn:aws:iam::111111111111:user/deploy-bot", // principal
        "EBS default encryption turned off",         // drift
        "ec2:EnableEbsEncryptionByDefault",          // api
        "ebs-default-encryption",                    // change id
        "applied",                                   // outcome
        "2 of the last 12 weeks had no audit",       // note
    ] {
        let want = format!("{field}{escaped}");
        assert!(h.contains(&want), "{field} not shown escaped");
    }
    // Week labels that are not dates are shown whole, escaped, inside the SVG too.
    let mut r = hostile(3);
    r.trend[0].week_start = HOSTILE.into();
    let h = html(&r);
    let svg = &section(&h, "trend")[..section(&h, "trend").find("</svg>").unwrap()];
    assert!(svg.contains(">&quot;&lt;script&gt;alert"));
    assert!(!h.contains("<script"));
}

#[test]
fn html_numbers_match_the_data() {
    let r = report(40);
    let h = html(&r);
    let card = |id: &str| -> String {
        let re = Regex::new(&format!(r#"id="card-{id}"><b>([^<]*)</b>"#)).unwrap();
        re.captures(&h).expect(id)[1].to_string()
    };
    assert_eq!(card("score"), "84.5");
    assert_eq!(card("new"), r.counts.new.to_string());
    assert_eq!(card("resolved"), r.counts.resolved.to_string());
    assert_eq!(card("open"), r.counts.still_open.to_string());
    assert_eq!(card("alerts"), "42");
    assert_eq!(card("drift-found"), "3");
    assert_eq!(card("drift-repaired"), "2");
    assert_eq!(card("applied"), "1");
    assert!(section(&h, "summary").contains("▼ -1.2"));
    for (id, list) in [
        ("new", &r.new_failures),
        ("resolved", &r.resolved),
        ("open", &r.still_open),
    ] {
        let s = section(&h, id);
        assert!(s.contains(&format!("({})</h2>", list.len())), "{id}");
        assert_eq!(s.matches("<tr>").count(), list.len() + 1, "{id} rows");
    }
    // The trend table shows each week's score, gaps as n/a.
    let t = section(&h, "trend");
    for p in &r.trend {
        assert!(t.contains(&format!("<td>{}</td>", fmt_score(p.score))));
    }
    assert!(t.contains("2 week(s) without an audit"));
    // Top risks: rank, score and counts as ranked.
    let k = &r.top_risks[0];
    assert!(section(&h, "top-risks").contains(&format!(
        "{} account(s) · {} finding(s) · oldest {} day(s) · score {:.1}",
        k.accounts, k.findings, k.oldest_age_days, k.score
    )));
    let m = section(&h, "mttr");
    for row in &r.mttr {
        assert!(m.contains(&format!(
            "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
            row.resolved,
            fmt_days(row.mean_days),
            fmt_days(row.median_days)
        )));
    }
    assert!(section(&h, "expiring").contains("expired 2 day(s) ago"));
}

#[test]
fn html_prints_cleanly() {
    let h = html(&report(10));
    let style = &h[h.find("<style>").unwrap()..h.find("</style>").unwrap()];
    let print = &style[style.find("@media print").expect("print rules")..];
    for rule in [
        "break-inside:avoid",
        "thead{display:table-header-group}",
        "tr,",
    ] {
        assert!(print.contains(rule), "{rule}");
    }
    assert!(!h.contains("<details"), "collapsed content would not print");
}

#[test]
fn empty_report_says_so_everywhere() {
    let r = empty();
    let h = html(&r);
    for (id, says) in [
        ("trend", "No audits recorded"),
        ("by-ou", "No per-OU scores"),
        ("by-account", "No per-account scores"),
        ("new", "No new failures this week."),
        ("resolved", "No failures were resolved this week."),
        ("open", "No failures from earlier weeks are still open."),
        ("mttr", "No remediated findings to measure."),
        ("top-risks", "No open risks to rank."),
        ("expiring", "No accepted risks expire soon."),
        ("alerts", "No alerts this week."),
        ("drift", "No drift checks ran this week."),
        ("applied", "No changes applied this week."),
    ] {
        assert!(section(&h, id).contains(says), "{id}");
    }
    assert!(section(&h, "summary").contains("no audit in the period"));
    assert!(section(&h, "summary").contains("no audit recorded in the period"));
    assert!(!h.contains("NaN") && !h.contains("inf"));

    let m = md(&r);
    for says in [
        "No audits recorded",
        "No new failures this week.",
        "No open risks to rank.",
        "No alerts this week.",
        "No changes applied this week.",
        "**Note:** no audit recorded in the period",
    ] {
        assert!(m.contains(says), "{says}");
    }
    assert!(m.contains("| n/a | n/a | 0 | 0 | 0 | 0 | 0 | 0 | 0 |"));

    let p = slack_payload(&r);
    assert!(
        p["text"]
            .as_str()
            .unwrap()
            .contains("no audit in the period")
    );
    assert!(sns_subject(&r).contains("no audit"));
    let back: WeeklyReport = serde_json::from_str(&render(&r, WeeklyFormat::Json)).unwrap();
    assert_eq!(back, r);
}

/// Table rows in a Markdown text, grouped by table, each as its count of unescaped pipes.
fn md_tables(m: &str) -> Vec<Vec<usize>> {
    let mut tables = Vec::new();
    let mut cur: Vec<usize> = Vec::new();
    for line in m.lines() {
        if line.starts_with('|') {
            let mut pipes = 0;
            let mut escaped = false;
            for c in line.chars() {
                match c {
                    '\\' if !escaped => escaped = true,
                    '|' if !escaped => pipes += 1,
                    _ => escaped = false,
                }
                if c != '\\' {
                    escaped = false;
                }
            }
            assert!(line.ends_with('|'), "row cut short: {line}");
            cur.push(pipes);
        } else if !cur.is_empty() {
            tables.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        tables.push(cur);
    }
    tables
}

#[test]
fn markdown_tables_are_well_formed_even_with_hostile_text() {
    for r in [report(40), hostile(40), empty()] {
        let m = md(&r);
        let tables = md_tables(&m);
        assert!(!tables.is_empty());
        for t in tables {
            assert!(t.len() >= 3 || t.len() == 2, "header, separator, rows");
            assert!(t.iter().all(|n| *n == t[0]), "{t:?}");
        }
    }
}

#[test]
fn markdown_escapes_every_untrusted_field() {
    let m = md(&hostile(30));
    assert!(
        !m.contains("<script>") && !m.contains("[img]("),
        "markup got through"
    );
    // A fix's lines are bullets; hostile text inside one stays text.
    assert!(m.contains("--all\"\\<script\\>"));
    assert!(
        !m.contains("\nnext"),
        "a line break in a field starts a new line"
    );
    let escaped = "\"\\<script\\>alert('x')\\</script\\>\\&\\|\\`\\*\\_\\[img\\](http://evil.example/x.png) next";
    for field in [
        "o-abc123",
        "dev-a",
        "333333333333",
        "cis-5.2",
        "No SSH from 0.0.0.0/0",
        "arn:aws:s3:::bucket-5",
        "message 7",
        "vendor bucket 2",
        "alice-0@example.com",
        "Security group opened to the world",
        "arn:aws:iam::111111111111:user/deploy-bot",
        "EBS default encryption turned off",
        "ec2:EnableEbsEncryptionByDefault",
        "2 of the last 12 weeks had no audit",
    ] {
        assert!(
            m.contains(&format!("{field}{escaped}")),
            "{field} not shown escaped"
        );
    }
}

#[test]
fn markdown_numbers_match_and_long_lists_are_cut() {
    let r = report(150);
    let m = md(&r);
    assert!(m.starts_with("# rampart weekly security report\n"));
    assert!(m.contains(&format!(
        "| 84.5 | -1.2 | {} | {} | {} | 42 | 3 | 2 | 1 |",
        r.counts.new, r.counts.resolved, r.counts.still_open
    )));
    assert!(m.contains(&format!("## New failures ({})", r.new_failures.len())));
    assert!(m.contains(&format!("…and {} more", r.new_failures.len() - 25)));
    assert!(
        m.contains("`▁▂▂▂··▃▃▃▃▄▄`") || m.contains("··"),
        "trend line"
    );
    assert!(m.contains("1. **CRITICAL** cis-1.4"));
    assert!(m.contains("   - aws fix-cis-1.4 --all"));
}

#[test]
fn json_round_trips_with_its_schema() {
    for r in [report(20), hostile(20), empty()] {
        let j = render(&r, WeeklyFormat::Json);
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["schema"], "rampart.weekly/v1");
        assert_eq!(v["counts"]["new"], r.counts.new);
        assert!(v["trend"][4]["score"].is_null() || r.trend.iter().all(|p| p.score.is_none()));
        let back: WeeklyReport = serde_json::from_str(&j).unwrap();
        assert_eq!(back, r);
    }
    // A partial document reads, missing fields empty.
    let partial: WeeklyReport = serde_json::from_str(
        r#"{"schema":"rampart.weekly/v1","score":90.5,"trend":[{"week_start":"2026-11-23"}],"alerts":{"total":3}}"#,
    )
    .unwrap();
    assert_eq!(partial.score, Some(90.5));
    assert_eq!((partial.trend[0].score, partial.alerts.total), (None, 3));
    assert!(partial.new_failures.is_empty() && partial.alerts.by_rule.is_empty());
    let mut bare = report(3);
    bare.schema.clear();
    let v: serde_json::Value = serde_json::from_str(&render(&bare, WeeklyFormat::Json)).unwrap();
    assert_eq!(v["schema"], SCHEMA);
}

/// Checks a payload against the Block Kit shapes and limits the renderer relies on.
fn check_block_kit(p: &serde_json::Value) {
    assert!(p["text"].as_str().is_some_and(|t| !t.is_empty()));
    let blocks = p["blocks"].as_array().expect("blocks");
    assert!(!blocks.is_empty() && blocks.len() <= 50);
    let text_ok = |t: &serde_json::Value, max: usize| {
        let kind = t["type"].as_str().unwrap();
        assert!(kind == "mrkdwn" || kind == "plain_text", "{kind}");
        let s = t["text"].as_str().unwrap();
        assert!(
            !s.is_empty() && s.chars().count() <= max,
            "{} chars",
            s.len()
        );
        if kind == "mrkdwn" {
            assert!(!s.contains('<') && !s.contains('>'), "unescaped: {s}");
        }
    };
    for b in blocks {
        match b["type"].as_str().unwrap() {
            "header" => {
                assert_eq!(b["text"]["type"], "plain_text");
                text_ok(&b["text"], 150);
            }
            "section" => {
                if let Some(fields) = b["fields"].as_array() {
                    assert!(fields.len() <= 10);
                    fields.iter().for_each(|f| text_ok(f, 2000));
                } else {
                    text_ok(&b["text"], 3000);
                }
            }
            "context" => {
                let e = b["elements"].as_array().unwrap();
                assert!(!e.is_empty() && e.len() <= 10);
                e.iter().for_each(|t| text_ok(t, 3000));
            }
            "divider" => assert_eq!(b.as_object().unwrap().len(), 1),
            other => panic!("unexpected block {other}"),
        }
    }
    // Slack turns away messages whose blocks total much over 12,000 characters.
    assert!(serde_json::to_string(p).unwrap().len() < 12_000);
}

#[test]
fn slack_payload_is_block_kit_within_limits() {
    let r = report(40);
    let p = slack_payload(&r);
    check_block_kit(&p);
    let s = serde_json::to_string(&p).unwrap();
    for want in [
        "*Posture score*\\n84.5 (-1.2 vs the week before)",
        &format!("*New failures*\\n{}", r.counts.new),
        &format!("*Still open*\\n{}", r.counts.still_open),
        "*Alerts*\\n42",
        "Fix: Console: fix cis-1.4 in the console",
    ] {
        assert!(s.contains(want), "{want}");
    }
    assert!(
        !s.contains("aws fix-cis-1.4"),
        "only the first line of a fix"
    );
    let risks = p["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| {
            b["text"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("Fix:"))
        })
        .count();
    assert_eq!(risks, 5);

    // Hostile and oversized text is escaped and clipped.
    let mut big = hostile(40);
    big.top_risks[0].title = "&".repeat(5000);
    big.top_risks[1].remediation = format!("{}\nsecond", "x".repeat(10_000));
    big.notes = vec!["<!channel> ".repeat(2000)];
    big.organization_id = Some("o".repeat(4000));
    big.period_end = "9".repeat(400);
    check_block_kit(&slack_payload(&big));
}

#[test]
fn slack_payload_leaves_secrets_and_resources_out() {
    let secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let key_id = "AKIAIOSFODNN7EXAMPLE";
    let mut r = report(30);
    for f in r.new_failures.iter_mut().chain(&mut r.still_open) {
        f.resource = format!("arn:aws:iam::1:user/{key_id}");
        f.message = format!("aws_secret_access_key={secret_key}");
    }
    r.alerts.noisiest_principals[0].key = format!("{key_id}:{secret_key}");
    r.expiring[0].reason = secret_key.into();
    r.drift.items[0].description = secret_key.into();
    let s = serde_json::to_string(&slack_payload(&r)).unwrap();
    assert!(!s.contains(secret_key) && !s.contains(key_id));
    assert!(!s.contains("hooks.slack.com") && !s.contains("http"));
}

#[test]
fn sns_subject_is_short_ascii_one_line() {
    let r = report(30);
    let s = sns_subject(&r);
    assert_eq!(
        s,
        format!(
            "rampart weekly 2026-11-30: score 84.5 (-1.2), {} new, {} resolved, {} open, 42 alerts",
            r.counts.new, r.counts.resolved, r.counts.still_open
        )
    );
    let mut h = hostile(30);
    h.period_end = format!("{}é\n{HOSTILE}", "2".repeat(200));
    h.counts.new = u64::MAX;
    for r in [h, empty()] {
        let s = sns_subject(&r);
        assert!(!s.is_empty() && s.len() < 100, "{}", s.len());
        assert!(s.chars().all(|c| (' '..='~').contains(&c)), "{s}");
    }
}

fn item(control: &str, sev: Severity, account: &str, age: u64) -> FindingItem {
    FindingItem {
        finding_id: format!("{control}-{account}-{age}"),
        control: control.into(),
        title: format!("{control} title"),
        severity: sev,
        account_id: account.into(),
        account_name: String::new(),
        ou_path: String::new(),
        region: "us-east-1".into(),
        resource: "r".into(),
        message: "m".into(),
        age_days: age,
        opened_at: None,
    }
}

fn ranked(open: &[FindingItem]) -> Vec<String> {
    rank_risks(open, |_| None, 10)
        .into_iter()
        .map(|r| r.control)
        .collect()
}

#[test]
fn more_accounts_rank_higher() {
    let open = [
        item("a", Severity::High, "1", 10),
        item("b", Severity::High, "1", 10),
        item("b", Severity::High, "2", 10),
        // Many findings in one account weigh less than breadth.
        item("c", Severity::High, "3", 10),
        item("c", Severity::High, "3", 10),
        item("c", Severity::High, "3", 10),
    ];
    assert_eq!(ranked(&open), ["b", "a", "c"]);
    let r = rank_risks(&open, |_| None, 10);
    assert_eq!((r[0].accounts, r[0].findings), (2, 2));
    assert_eq!((r[2].accounts, r[2].findings), (1, 3));
}

#[test]
fn severity_and_age_rank_higher() {
    let open = [
        item("low", Severity::Low, "1", 10),
        item("crit", Severity::Critical, "1", 10),
        item("high-new", Severity::High, "1", 0),
        item("high-old", Severity::High, "1", 90),
    ];
    assert_eq!(ranked(&open), ["crit", "high-old", "high-new", "low"]);
    // Age never lifts a risk past the next severity up at equal breadth: a fresh CRITICAL stays
    // above a HIGH open for years, a fresh MEDIUM above an old LOW.
    let open = [
        item("old-high", Severity::High, "1", 3650),
        item("new-crit", Severity::Critical, "1", 0),
        item("old-low", Severity::Low, "1", 3650),
        item("new-medium", Severity::Medium, "1", 0),
    ];
    assert_eq!(
        ranked(&open),
        ["new-crit", "old-high", "new-medium", "old-low"]
    );
    // Age factor: 1 when fresh, rising with the log of age, 1.4 from a year on.
    assert!((age_factor(0) - 1.0).abs() < 1e-12);
    assert!(age_factor(1) > 1.0 && age_factor(30) > age_factor(7));
    assert!((age_factor(365) - 1.4).abs() < 1e-12 && age_factor(10_000) == age_factor(365));
}

#[test]
fn ties_go_by_control_and_top_cuts() {
    let open = [
        item("z", Severity::Medium, "1", 5),
        item("m", Severity::Medium, "1", 5),
        item("a", Severity::Medium, "1", 5),
    ];
    assert_eq!(ranked(&open), ["a", "m", "z"]);
    let top2 = rank_risks(&open, |c| Some(format!("fix {c}")), 2);
    assert_eq!(top2.len(), 2);
    assert_eq!(
        top2.iter().map(|r| r.rank).collect::<Vec<_>>(),
        [1, 2],
        "ranks from 1"
    );
    assert_eq!(top2[1].remediation, "fix m");
    assert!(rank_risks(&[], |_| None, 5).is_empty());
}

#[test]
fn a_control_takes_its_worst_severity_and_oldest_age() {
    let open = [
        item("x", Severity::Medium, "1", 3),
        item("x", Severity::High, "2", 40),
    ];
    let r = &rank_risks(&open, |_| None, 1)[0];
    assert_eq!((r.severity, r.oldest_age_days), (Severity::High, 40));
    assert!((r.score - risk_score(Severity::High, 2, 40)).abs() < 1e-9);
    assert!((risk_score(Severity::Critical, 1, 0) - 10.0).abs() < 1e-9);
}

#[test]
fn severity_counts_and_mttr() {
    use Severity::*;
    let c = severity_counts([Low, High, Low, Critical, Low]);
    assert_eq!(
        c.iter().map(|c| (c.severity, c.count)).collect::<Vec<_>>(),
        [(Critical, 1), (High, 1), (Low, 3)]
    );
    assert!(severity_counts([]).is_empty());
    let m = mttr_by_severity([
        (High, 2.0),
        (Low, 10.0),
        (High, 8.0),
        (High, 5.0),
        (Low, 20.0),
        (Low, f64::NAN),
        (Low, -1.0),
    ]);
    assert_eq!(m.len(), 2);
    assert_eq!((m[0].severity, m[0].resolved), (High, 3));
    assert_eq!((m[0].mean_days, m[0].median_days), (5.0, 5.0));
    assert_eq!((m[1].severity, m[1].resolved), (Low, 2));
    assert_eq!((m[1].mean_days, m[1].median_days), (15.0, 15.0));
}

#[test]
fn catalogue_remediation_reads_rampart_controls() {
    let fix = catalogue_remediation("cis-1.4").expect("cis-1.4 is in the catalogue");
    assert!(fix.lines().count() >= 1 && !first_line(&fix).is_empty());
    assert_eq!(catalogue_remediation("no-such-control"), None);
}

proptest! {
    #[test]
    fn ranking_is_ordered_and_complete(
        raw in proptest::collection::vec((0u8..6, 0u8..5, 0u8..8, 0u64..400), 0..60),
        top in 0usize..8,
    ) {
        let sev = [Severity::Informational, Severity::Low, Severity::Medium, Severity::High, Severity::Critical];
        let open: Vec<FindingItem> = raw
            .iter()
            .map(|(c, s, a, age)| item(&format!("c{c}"), sev[*s as usize], &format!("{a}"), *age))
            .collect();
        let controls: std::collections::BTreeSet<&str> = open.iter().map(|f| f.control.as_str()).collect();
        let r = rank_risks(&open, |_| None, top);
        prop_assert_eq!(r.len(), controls.len().min(top));
        for (i, k) in r.iter().enumerate() {
            prop_assert_eq!(k.rank as usize, i + 1);
            prop_assert!(k.score.is_finite() && k.score > 0.0);
            prop_assert!(k.accounts >= 1 && k.accounts <= k.findings);
            if i > 0 {
                let p = &r[i - 1];
                prop_assert!(p.score > k.score || (p.score == k.score && p.control < k.control));
            }
        }
    }

    #[test]
    fn escaping_never_lets_markup_through(s in "\\PC*|[<>&\"'|\\n`*_\\[\\]]{0,40}") {
        let h = crate::html::esc(&s);
        prop_assert!(!h.contains('<') && !h.contains('>') && !h.contains('"') && !h.contains('\''));
        let m = markdown::md(&s);
        prop_assert!(!m.contains('\n') && !m.contains('\r'));
        // Every pipe and angle bracket is preceded by an odd run of backslashes.
        let chars: Vec<char> = m.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            if matches!(c, '|' | '<' | '>' | '`' | '[') {
                let run = chars[..i].iter().rev().take_while(|b| **b == '\\').count();
                prop_assert!(run % 2 == 1, "unescaped {} in {:?}", c, m);
            }
        }
    }
}

proptest! {
    // Each case renders a whole report in every format: fewer cases keep the suite quick.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_text_in_every_field_stays_text(s in "\\PC{0,24}|[<>&\"'|\\\\\n`*_\\[\\]!()#]{0,24}") {
        let r = super::testdata::report_with(6, &|x| format!("{x}{s}"));
        let h = html(&r);
        prop_assert!(!h.contains("<script"));
        for c in Regex::new(r"<(/?)([A-Za-z!][A-Za-z0-9]*)").unwrap().captures_iter(&h) {
            let tag = c[2].to_ascii_lowercase();
            prop_assert!(ALLOWED_TAGS.contains(&tag.as_str()) || tag == "!doctype", "tag <{}>", tag);
        }
        for t in md_tables(&md(&r)) {
            prop_assert!(t.iter().all(|n| *n == t[0]), "{:?}", t);
        }
        let p = slack_payload(&r);
        let text = serde_json::to_string(&p).unwrap();
        prop_assert!(text.len() < 12_000);
        let subject = sns_subject(&r);
        prop_assert!(subject.len() < 100 && subject.chars().all(|c| (' '..='~').contains(&c)));
    }
}

#[test]
fn drills_section_appears_only_with_drills_in_the_period() {
    use rampart_store::testing::sqlite_db;
    let db = sqlite_db();
    let mut store = db.open();
    let now = chrono::DateTime::parse_from_rfc3339("2026-12-06T12:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let week = chrono::Duration::weeks(1);
    let empty_week = build(&store, now, week).unwrap();
    assert!(empty_week.drills.is_empty());
    assert!(!md(&empty_week).contains("Drills"));
    assert!(!html(&empty_week).contains("id=\"drills\""));
    assert!(
        !serde_json::to_string(&empty_week)
            .unwrap()
            .contains("drills")
    );

    let row = |scenario: &str, days_ago: i64, passed: bool| rampart_store::DrillRow {
        scenario: scenario.into(),
        account: "210987654321".into(),
        run_id: format!("r{days_ago}"),
        started_at: now - chrono::Duration::days(days_ago),
        finished_at: now - chrono::Duration::days(days_ago),
        expected_rule: "RD-TAMPER-001".into(),
        passed,
        acted: "pass".into(),
        detected: "pass".into(),
        alerted: if passed { "pass" } else { "fail" }.into(),
        cleaned: "pass".into(),
        time_to_detect_ms: Some(312_400),
        time_to_alert_ms: passed.then_some(313_000),
        alert_id: None,
        detail: if passed { "" } else { "webhook <down>" }.into(),
    };
    store.record_drill(&row("stop-logging", 2, true)).unwrap();
    store.record_drill(&row("access-key", 1, false)).unwrap();
    store.record_drill(&row("public-bucket", 30, true)).unwrap();
    let r = build(&store, now, week).unwrap();
    assert_eq!(r.drills.len(), 2, "only the period's drills");
    assert_eq!(r.drills[0].scenario, "stop-logging");
    assert_eq!(r.drills[0].time_to_detect_secs, Some(312.4));
    let m = md(&r);
    assert!(m.contains("## Drills (2)"), "{m}");
    assert!(m.contains("312.4 s") && m.contains("FAIL: webhook"), "{m}");
    let h = html(&r);
    let s = section(&h, "drills");
    assert!(s.contains("stop-logging") && s.contains("313.0 s"));
    assert!(s.contains("webhook &lt;down&gt;"), "escaped: {s}");
}
