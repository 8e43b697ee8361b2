//! The history store from the command line's side: which store a verb records into (`--store`,
//! `--no-store`, `[store] url`), each verb's result turned into a recorded run, and the verbs
//! that look after the store itself (`rampart store prune|export|copy|info`).

use crate::cli::{Exit, Global};
use crate::cmd::output;
use anyhow::{Context, bail};
use rampart_store::{Store, Time};
use std::path::Path;

/// The `[store]` section of rampart.toml.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreSection {
    url: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct ConfigView {
    #[serde(default)]
    store: StoreSection,
}

/// The store URL a verb uses: `--store`, else `[store] url` in the configuration file (when the
/// file exists), else none. A relative SQLite path is resolved beside the configuration file.
pub fn configured_url(g: &Global) -> anyhow::Result<Option<String>> {
    if g.no_store {
        return Ok(None);
    }
    if let Some(url) = &g.store {
        return Ok(Some(url.clone()));
    }
    let text = match std::fs::read_to_string(&g.config) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", g.config.display())),
    };
    let view: ConfigView = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: [store]: {}", g.config.display(), e.message()))?;
    Ok(view.store.url.map(|u| beside_config(&u, &g.config)))
}

/// `sqlite://rampart.db` in `/etc/rampart/rampart.toml` means `/etc/rampart/rampart.db`.
fn beside_config(url: &str, config: &Path) -> String {
    match url.strip_prefix("sqlite://") {
        Some(path) if !path.is_empty() && !path.starts_with('/') && !path.starts_with(':') => {
            match config.parent().filter(|p| !p.as_os_str().is_empty()) {
                Some(dir) => format!("sqlite://{}", dir.join(path).display()),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// The store a recording verb writes to, opened before the verb does any slow work so that an
/// unreachable database stops it at once (exit 1, nothing done, nothing half-written).
pub fn for_recording(g: &Global) -> anyhow::Result<Option<Store>> {
    match configured_url(g)? {
        None => Ok(None),
        Some(url) => Ok(Some(open(&url)?)),
    }
}

/// The store a reading verb (`history`, `diff`, `report weekly`) needs.
pub fn for_reading(g: &Global) -> anyhow::Result<Store> {
    if g.no_store {
        bail!("--no-store: this command reads the history store; drop --no-store");
    }
    match configured_url(g)? {
        Some(url) => open(&url),
        None => bail!(
            "no history store: pass --store URL (e.g. --store sqlite://rampart.db) or add `[store] url = \"sqlite://rampart.db\"` to {} (`rampart init` writes it)",
            g.config.display()
        ),
    }
}

/// Opens a store; the error (one line, password redacted) comes from the store.
pub fn open(url: &str) -> anyhow::Result<Store> {
    Store::open(url).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Records one run and says so on stderr; a failure is the verb's error (exit 1), after the
/// verb's own output was written.
pub fn note_recorded(g: &Global, store: &Store, kind: &str, id: rampart_store::RunId) {
    if g.verbose > 0 {
        output::note(
            g,
            format!("rampart: {kind} run #{id} recorded in {}", store.url()),
        );
    }
}

/// Records a detection run and its alerts (`detect`, and `hunt` once its alerts are read
/// back): one function so that both verbs store the same rows the same way.
pub fn record_detection(
    g: &Global,
    store: &mut Store,
    run: &rampart_store::DetectRun,
    rows: &[rampart_store::AlertRow],
) -> anyhow::Result<()> {
    let id = store
        .record_detect(run, rows)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    note_recorded(g, store, "detect", id);
    Ok(())
}

/// Now, to the second (stored times are whole seconds).
pub fn now() -> Time {
    let t = chrono::Utc::now();
    chrono::DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// `400d`, `12w`, `24h`, `90m`: a length of time.
pub fn parse_age(s: &str) -> Result<chrono::Duration, String> {
    let s = s.trim();
    let bad =
        || format!("bad length of time `{s}`: use a number and a unit, e.g. 7d, 12w, 24h, 90m");
    let (num, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = num.parse().map_err(|_| bad())?;
    if n < 0 {
        return Err(bad());
    }
    Ok(match unit {
        "m" => chrono::Duration::minutes(n),
        "h" => chrono::Duration::hours(n),
        "d" => chrono::Duration::days(n),
        "w" => chrono::Duration::weeks(n),
        _ => return Err(bad()),
    })
}

// ---- what each verb records --------------------------------------------------------------

/// Every account of the snapshot with its OU path and what the collection could read.
pub fn observed_accounts(
    snapshot: &rampart_snapshot::Snapshot,
) -> Vec<rampart_store::ObservedAccount> {
    let paths = ou_paths(snapshot);
    snapshot
        .accounts
        .iter()
        .map(|a| rampart_store::ObservedAccount {
            account_id: a.account_id.clone(),
            name: a.name.clone(),
            ou_path: paths
                .get(a.account_id.as_str())
                .cloned()
                .unwrap_or_default(),
            regions: a.regions.iter().map(|r| r.region.clone()).collect(),
            unreachable: a.errors.iter().any(|e| e.api == "*"),
        })
        .collect()
}

/// Account id → `Root/Workloads/Prod`, from the organization's parent links.
pub fn ou_paths(snapshot: &rampart_snapshot::Snapshot) -> std::collections::HashMap<&str, String> {
    let mut out = std::collections::HashMap::new();
    let Some(org) = &snapshot.organization else {
        return out;
    };
    let ous: std::collections::HashMap<&str, (&str, &str)> = org
        .organizational_units
        .iter()
        .map(|o| (o.id.as_str(), (o.name.as_str(), o.parent_id.as_str())))
        .collect();
    for acct in &org.accounts {
        let mut names = Vec::new();
        let mut at = acct.parent_id.as_str();
        // Bounded walk: a malformed snapshot with a parent cycle must not hang the run.
        for _ in 0..16 {
            match ous.get(at) {
                Some((name, parent)) => {
                    names.push(*name);
                    at = parent;
                }
                None => break,
            }
        }
        names.push("Root");
        names.reverse();
        out.insert(acct.id.as_str(), names.join("/"));
    }
    out
}

/// Risks accepted in the store (with who and until when) mark their findings SUPPRESSED, as a
/// `[[suppress]]` entry would; an expired acceptance no longer does.
pub fn apply_acceptances(
    store: &Store,
    ev: &mut crate::cmd::audit::Evaluated,
) -> anyhow::Result<()> {
    let accepted = store.acceptances().map_err(|e| anyhow::anyhow!("{e}"))?;
    if accepted.is_empty() {
        return Ok(());
    }
    let today = chrono::Utc::now().date_naive();
    let live: std::collections::HashMap<&str, &rampart_store::Acceptance> = accepted
        .iter()
        .filter(|a| a.expires.is_none_or(|d| d >= today))
        .map(|a| (a.finding_id.as_str(), a))
        .collect();
    for f in &mut ev.findings {
        if f.suppressed.is_some() {
            continue;
        }
        if let Some(a) = live.get(f.id.as_str()) {
            f.suppressed = Some(rampart_core::Suppressed {
                reason: format!("accepted by {}: {}", a.who, a.reason),
                expires: a.expires.map(|d| d.to_string()),
            });
        }
    }
    ev.run.summary = rampart_core::Summary::of(&ev.findings);
    Ok(())
}

/// The audit as a recorded run.
pub fn audit_run(
    snapshot: &rampart_snapshot::Snapshot,
    run: &rampart_report::Run,
    started_at: Time,
) -> rampart_store::AuditRun {
    let errors = snapshot
        .errors
        .iter()
        .chain(snapshot.accounts.iter().flat_map(|a| {
            a.errors
                .iter()
                .chain(a.regions.iter().flat_map(|r| r.errors.iter()))
        }))
        .map(|e| {
            format!(
                "{} {} {}: {} {}",
                if e.account_id.is_empty() {
                    "organization"
                } else {
                    &e.account_id
                },
                e.region.as_deref().unwrap_or("global"),
                e.api,
                e.code,
                e.message
            )
        })
        .collect();
    let controls = match run.framework.as_deref() {
        Some(fw) => rampart_core::select(fw)
            .map(|c| c.iter().map(|c| c.id.to_string()).collect())
            .unwrap_or_default(),
        None => rampart_core::catalogue()
            .iter()
            .map(|c| c.id.to_string())
            .collect(),
    };
    rampart_store::AuditRun {
        started_at,
        finished_at: now(),
        source: run.source.clone(),
        organization_id: run.organization_id.clone(),
        framework: run.framework.clone(),
        rampart_version: env!("CARGO_PKG_VERSION").to_string(),
        catalogue_version: format!("{} controls", rampart_core::catalogue().len()),
        accounts: observed_accounts(snapshot),
        collection_errors: errors,
        controls,
    }
}

/// One alert as a stored row (its full `rampart.alert/v1` JSON kept beside the columns).
pub fn alert_row(a: &rampart_detect::Alert) -> rampart_store::AlertRow {
    let r = a.record();
    let sev = match a.severity() {
        rampart_detect::Severity::Info => rampart_core::Severity::Informational,
        rampart_detect::Severity::Low => rampart_core::Severity::Low,
        rampart_detect::Severity::Medium => rampart_core::Severity::Medium,
        rampart_detect::Severity::High => rampart_core::Severity::High,
        rampart_detect::Severity::Critical => rampart_core::Severity::Critical,
    };
    rampart_store::AlertRow {
        rule_id: r.rule_id.to_string(),
        rule_source: serde_json::to_value(r.rule_source)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        title: r.title.to_string(),
        severity: sev,
        account: r.account.map(str::to_string),
        region: r.region.map(str::to_string),
        principal: r.principal.map(str::to_string),
        event_time: r
            .event_time
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&chrono::Utc)),
        event_id: r.event_id.map(str::to_string),
        resource: r.resource.map(str::to_string),
        count: r.count,
        json: a.to_json_line().trim_end().to_string(),
    }
}

/// The changes of a plan as stored rows.
pub fn change_rows(plan: &rampart_baseline::plan::Plan) -> Vec<rampart_store::ChangeRow> {
    plan.changes
        .iter()
        .map(|c| {
            let json = serde_json::to_value(c).unwrap_or_default();
            rampart_store::ChangeRow {
                change_id: c.id.clone(),
                account: c.account.clone(),
                region: c.region.clone(),
                action: json
                    .get("action")
                    .and_then(|v| v.as_str())
                    .unwrap_or_else(|| c.id.split(':').next().unwrap_or(""))
                    .to_string(),
                description: c.description.clone(),
                destructive: c.destructive,
                json: json.to_string(),
            }
        })
        .collect()
}

/// The audit log's JSON entries (see `rampart_baseline::apply::AuditLog`) as stored rows.
pub fn apply_entries(entries: &[serde_json::Value]) -> Vec<rampart_store::ApplyEntry> {
    let text =
        |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    entries
        .iter()
        .map(|e| rampart_store::ApplyEntry {
            time: text(e, "time")
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
                .map_or_else(now, |t| t.with_timezone(&chrono::Utc)),
            change_id: text(e, "change").unwrap_or_default(),
            account: text(e, "account").unwrap_or_default(),
            region: text(e, "region"),
            api: text(e, "api").unwrap_or_default(),
            parameters_json: e
                .get("parameters")
                .map(|p| p.to_string())
                .unwrap_or_default(),
            outcome: text(e, "outcome").unwrap_or_default(),
        })
        .collect()
}

// ---- `rampart store …` ---------------------------------------------------------------------

#[derive(Debug, clap::Subcommand)]
pub enum StoreCommand {
    /// Schema version, backend and the number of rows of each table.
    Info,
    /// Check the store's consistency (SQLite integrity, rows of runs that do not exist,
    /// unfinished job runs); exit 1 with one line per problem.
    Check,
    /// Accept the risk of one finding (its id from audit output or `rampart diff --format
    /// json`): later audits report it SUPPRESSED, with the reason, who and until when.
    Accept {
        /// The finding's stable id (`rf-…`).
        #[arg(value_name = "FINDING_ID")]
        finding_id: String,
        /// Why the risk is accepted (shown in audits and reports).
        #[arg(long)]
        reason: String,
        /// Until when (YYYY-MM-DD); the finding counts again after it.
        #[arg(long, value_name = "DATE")]
        expires: Option<chrono::NaiveDate>,
        /// Who accepts it (default: $USER).
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Delete runs (and their alerts, changes and finding events) older than --keep; every
    /// finding's current state is kept.
    Prune {
        /// How much history to keep, e.g. 400d, 56w.
        #[arg(long, value_name = "AGE", value_parser = parse_age)]
        keep: chrono::Duration,
    },
    /// Write every row of the store as JSON Lines (one object per row, with its `type`);
    /// `--format jsonl` (the default and only format).
    Export,
    /// Copy the whole store into an empty one (e.g. from SQLite to PostgreSQL), verified by
    /// counting the rows of every table on both sides.
    Copy {
        /// The destination store URL (its password is best given in PGPASSWORD).
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

pub fn run(g: &Global, c: &StoreCommand) -> anyhow::Result<Exit> {
    let mut store = for_reading(g)?;
    match c {
        StoreCommand::Info => {
            let counts = store.counts().map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut text = format!(
                "store {} ({}, schema version {})\n",
                store.url(),
                store.backend_name(),
                store.schema_version().map_err(|e| anyhow::anyhow!("{e}"))?
            );
            for (table, n) in &counts.tables {
                text.push_str(&format!("  {table:<16} {n}\n"));
            }
            output::emit(g, &text)?;
        }
        StoreCommand::Check => {
            let problems = store.verify().map_err(|e| anyhow::anyhow!("{e}"))?;
            if !problems.is_empty() {
                bail!(
                    "store {} is not consistent: {}",
                    store.url(),
                    problems.join("; ")
                );
            }
            output::emit(g, &format!("store {}: consistent\n", store.url()))?;
        }
        StoreCommand::Accept {
            finding_id,
            reason,
            expires,
            by,
        } => {
            if reason.trim().is_empty() {
                bail!("--reason is required: say why the risk is accepted");
            }
            let who = by
                .clone()
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "unknown".into());
            store
                .accept(&rampart_store::Acceptance {
                    finding_id: finding_id.clone(),
                    reason: reason.clone(),
                    who: who.clone(),
                    expires: *expires,
                    created_at: now(),
                })
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            output::emit(
                g,
                &format!(
                    "accepted {finding_id} by {who}{}: later audits report it SUPPRESSED\n",
                    expires.map(|d| format!(" until {d}")).unwrap_or_default()
                ),
            )?;
        }
        StoreCommand::Prune { keep } => {
            let before = now() - *keep;
            let r = store.prune(before).map_err(|e| anyhow::anyhow!("{e}"))?;
            output::emit(
                g,
                &format!(
                    "pruned {} run(s) started before {}: {} finding event(s), {} alert(s), {} change(s), {} apply entr(ies) and {} finding(s) gone before then deleted; every other finding's state is kept\n",
                    r.runs,
                    before.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    r.events,
                    r.alerts,
                    r.changes,
                    r.apply_entries,
                    r.findings
                ),
            )?;
        }
        StoreCommand::Export => {
            if let Some(f) = g.format.as_deref().filter(|f| *f != "jsonl") {
                bail!("store export writes jsonl only (got `--format {f}`)");
            }
            let counts = match &g.output {
                Some(path) => {
                    let f = std::fs::File::create(path)
                        .with_context(|| format!("cannot write output file {}", path.display()))?;
                    let mut w = std::io::BufWriter::new(f);
                    let c = store
                        .export_jsonl(&mut w)
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    std::io::Write::flush(&mut w)
                        .with_context(|| format!("cannot write output file {}", path.display()))?;
                    c
                }
                None => {
                    let out = std::io::stdout();
                    let mut w = std::io::BufWriter::new(out.lock());
                    let c = store
                        .export_jsonl(&mut w)
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    std::io::Write::flush(&mut w).context("cannot write to stdout")?;
                    c
                }
            };
            output::note(g, format!("rampart: exported {} row(s)", counts.total()));
        }
        StoreCommand::Copy { to } => {
            let mut dest = open(to)?;
            let counts = store
                .copy_to(&mut dest)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            output::emit(
                g,
                &format!(
                    "copied {} row(s) from {} to {} (every table's count verified)\n",
                    counts.total(),
                    store.url(),
                    dest.url()
                ),
            )?;
        }
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_sqlite_paths_are_beside_the_config() {
        let cfg = Path::new("/etc/rampart/rampart.toml");
        assert_eq!(
            beside_config("sqlite://rampart.db", cfg),
            "sqlite:///etc/rampart/rampart.db"
        );
        assert_eq!(beside_config("sqlite:///x/y.db", cfg), "sqlite:///x/y.db");
        assert_eq!(beside_config("sqlite::memory:", cfg), "sqlite::memory:");
        assert_eq!(
            beside_config("sqlite://rampart.db", Path::new("rampart.toml")),
            "sqlite://rampart.db"
        );
        assert_eq!(beside_config("postgres://u@h/db", cfg), "postgres://u@h/db");
    }

    #[test]
    fn ages_parse() {
        assert_eq!(parse_age("400d").unwrap(), chrono::Duration::days(400));
        assert_eq!(parse_age("12w").unwrap(), chrono::Duration::weeks(12));
        assert!(parse_age("7").is_err());
        assert!(parse_age("-3d").is_err());
        assert!(parse_age("3y").unwrap_err().contains("7d"));
    }

    #[test]
    fn ou_paths_walk_to_the_root() {
        let s = rampart_core::sample::demo_org();
        let paths = ou_paths(&s);
        assert!(!paths.is_empty());
        assert!(paths.values().all(|p| p.starts_with("Root")), "{paths:?}");
        assert!(paths.values().any(|p| p.contains('/')), "{paths:?}");
    }
}
