//! The history store's views: the list of recorded runs (`rampart history`) and what changed
//! between two audits (`rampart diff`), as text, JSON or Markdown.

use rampart_store::{Diff, DiffClass, DiffItem, RunKind, RunSummary};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The formats `history` and `diff` write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewFormat {
    Text,
    Json,
    Markdown,
}

impl std::str::FromStr for ViewFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "text" | "table" => Ok(ViewFormat::Text),
            "json" => Ok(ViewFormat::Json),
            "markdown" | "md" => Ok(ViewFormat::Markdown),
            other => Err(format!(
                "unknown format `{other}`: use text, json or markdown"
            )),
        }
    }
}

/// `2026-12-06 08:31`: minutes are enough to tell runs apart in a list.
fn when(t: &rampart_store::Time) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

fn score(s: Option<f64>) -> String {
    s.map_or_else(|| "-".to_string(), |s| format!("{s:.1}%"))
}

/// What a run found, in one short cell: PASS/FAIL counts for audits, alerts for detections,
/// changes for plans.
fn outcome(r: &RunSummary) -> String {
    match r.kind {
        RunKind::Audit => {
            let mut s = format!("{} pass, {} fail", r.pass, r.fail);
            if r.error > 0 {
                s.push_str(&format!(", {} error", r.error));
            }
            if r.suppressed > 0 {
                s.push_str(&format!(", {} suppressed", r.suppressed));
            }
            s
        }
        RunKind::Detect => format!("{} alert(s)", r.alerts),
        RunKind::Plan | RunKind::Drift => format!("{} pending change(s)", r.changes),
        RunKind::Apply => format!("{} call(s) logged", r.changes),
    }
}

/// The recorded runs, newest first as given.
pub fn render_runs(runs: &[RunSummary], format: ViewFormat) -> String {
    match format {
        ViewFormat::Json => serde_json::to_string_pretty(runs).unwrap_or_default() + "\n",
        ViewFormat::Markdown => {
            let mut out = String::from(
                "| run | time (UTC) | kind | scope | result | score |\n|---:|---|---|---|---|---:|\n",
            );
            for r in runs {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    r.id,
                    when(&r.started_at),
                    r.kind.as_str(),
                    md_cell(&r.scope),
                    outcome(r),
                    score(r.score)
                );
            }
            if runs.is_empty() {
                out.push_str("\nNo runs recorded yet.\n");
            }
            out
        }
        ViewFormat::Text => {
            if runs.is_empty() {
                return "No runs recorded yet: `rampart audit` (and detect, plan, drift, apply) record into the store.\n".into();
            }
            let rows: Vec<[String; 6]> = runs
                .iter()
                .map(|r| {
                    [
                        format!("#{}", r.id),
                        when(&r.started_at),
                        r.kind.as_str().to_string(),
                        r.scope.clone(),
                        outcome(r),
                        score(r.score),
                    ]
                })
                .collect();
            table(
                &["RUN", "TIME (UTC)", "KIND", "SCOPE", "RESULT", "SCORE"],
                &rows,
            )
        }
    }
}

/// Plain columns, padded to the widest cell.
fn table<const N: usize>(head: &[&str; N], rows: &[[String; N]]) -> String {
    let mut width = head.map(|h| h.chars().count());
    for r in rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
        let mut l = String::new();
        for (i, c) in cells.enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            let _ = write!(l, "{c:<w$}", w = width[i]);
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&mut out, &mut head.iter().copied());
    for r in rows {
        line(&mut out, &mut r.iter().map(String::as_str));
    }
    out
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// The headings of the diff's four groups, in the order they are shown.
const CLASSES: [(DiffClass, &str); 4] = [
    (DiffClass::New, "New failures"),
    (DiffClass::Resolved, "Resolved"),
    (DiffClass::NewlyUnobservable, "Newly unobservable"),
    (DiffClass::StillFailing, "Still failing"),
];

/// OU → (account id, account name) → control → items.
type Grouped<'a> =
    BTreeMap<&'a str, BTreeMap<(&'a str, &'a str), BTreeMap<&'a str, Vec<&'a DiffItem>>>>;

/// Items of one class grouped by OU, then account, then control (all sorted).
fn grouped(items: &[DiffItem], class: DiffClass) -> Grouped<'_> {
    let mut g: Grouped<'_> = BTreeMap::new();
    for i in items.iter().filter(|i| i.class == class) {
        g.entry(i.ou_path.as_str())
            .or_default()
            .entry((i.account_id.as_str(), i.account_name.as_str()))
            .or_default()
            .entry(i.control.as_str())
            .or_default()
            .push(i);
    }
    g
}

fn ou_label(ou: &str) -> &str {
    if ou.is_empty() { "(no OU)" } else { ou }
}

fn account_label(id: &str, name: &str) -> String {
    if name.is_empty() {
        id.to_string()
    } else {
        format!("{id} ({name})")
    }
}

fn headline(d: &Diff) -> String {
    format!(
        "Run #{} ({}) → run #{} ({}): {} new failure(s), {} resolved, {} still failing, {} newly unobservable; score {} → {}",
        d.from.id,
        when(&d.from.started_at),
        d.to.id,
        when(&d.to.started_at),
        d.count(DiffClass::New),
        d.count(DiffClass::Resolved),
        d.count(DiffClass::StillFailing),
        d.count(DiffClass::NewlyUnobservable),
        score(d.from.score),
        score(d.to.score),
    )
}

/// What changed between two audits. Text and Markdown group each class by OU, account and
/// control; "still failing" lists controls with their count (the full list is in JSON).
pub fn render_diff(d: &Diff, format: ViewFormat) -> String {
    match format {
        ViewFormat::Json => {
            let mut v = serde_json::to_value(d).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                let counts: serde_json::Map<String, serde_json::Value> = CLASSES
                    .iter()
                    .map(|(c, _)| (class_key(*c).to_string(), d.count(*c).into()))
                    .collect();
                o.insert("counts".into(), counts.into());
            }
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        ViewFormat::Text => {
            let mut out = headline(d) + "\n";
            for (class, title) in CLASSES {
                let g = grouped(&d.items, class);
                if g.is_empty() {
                    continue;
                }
                let _ = writeln!(out, "\n{title} ({}):", d.count(class));
                for (ou, accounts) in &g {
                    let _ = writeln!(out, "  {}", ou_label(ou));
                    for ((id, name), controls) in accounts {
                        let _ = writeln!(out, "    {}", account_label(id, name));
                        for (control, items) in controls {
                            if class == DiffClass::StillFailing {
                                let _ = writeln!(
                                    out,
                                    "      {control} {} — {} resource(s)",
                                    items[0].severity.as_str(),
                                    items.len()
                                );
                                continue;
                            }
                            for i in items {
                                let _ = writeln!(
                                    out,
                                    "      {control} {} {} {}: {}",
                                    i.severity.as_str(),
                                    i.region,
                                    i.resource,
                                    i.message
                                );
                            }
                        }
                    }
                }
            }
            out
        }
        ViewFormat::Markdown => {
            let mut out = format!("## {}\n", md_cell(&headline(d)));
            for (class, title) in CLASSES {
                let g = grouped(&d.items, class);
                let _ = writeln!(out, "\n### {title} ({})\n", d.count(class));
                if g.is_empty() {
                    out.push_str("None.\n");
                    continue;
                }
                out.push_str("| OU | account | control | severity | region | resource | detail |\n|---|---|---|---|---|---|---|\n");
                for (ou, accounts) in &g {
                    for ((id, name), controls) in accounts {
                        for (control, items) in controls {
                            if class == DiffClass::StillFailing {
                                let _ = writeln!(
                                    out,
                                    "| {} | {} | {} | {} | | {} resource(s) | |",
                                    md_cell(ou_label(ou)),
                                    md_cell(&account_label(id, name)),
                                    md_cell(control),
                                    items[0].severity.as_str(),
                                    items.len()
                                );
                                continue;
                            }
                            for i in items {
                                let _ = writeln!(
                                    out,
                                    "| {} | {} | {} | {} | {} | {} | {} |",
                                    md_cell(ou_label(ou)),
                                    md_cell(&account_label(id, name)),
                                    md_cell(control),
                                    i.severity.as_str(),
                                    md_cell(&i.region),
                                    md_cell(&i.resource),
                                    md_cell(&i.message)
                                );
                            }
                        }
                    }
                }
            }
            out
        }
    }
}

fn class_key(c: DiffClass) -> &'static str {
    match c {
        DiffClass::New => "new",
        DiffClass::Resolved => "resolved",
        DiffClass::StillFailing => "still_failing",
        DiffClass::NewlyUnobservable => "newly_unobservable",
    }
}
