//! `rampart plan` and `rampart drift`: compare rampart.toml with a fresh (or saved) snapshot and
//! list the ordered, typed changes that would converge the organization. Read-only: `apply`
//! makes the changes.

use crate::cli::{Exit, Global};
use crate::cmd::output;
use anyhow::Context;
use rampart_baseline::plan;
use rampart_snapshot::Snapshot;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  rampart plan                                  # live: collect, then compare\n  rampart plan --snapshot snap.json --format json --out plan.json\n  rampart drift --format json                   # scheduled check: exit 4 when something drifted\n\nExit codes: 0 no changes, 4 changes pending, 1 error."
)]
pub struct PlanArgs {
    /// Compare with this saved snapshot (from `rampart collect`) instead of reading AWS.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Also write the plan as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replay the CloudTrail events under this file, directory or s3://bucket/prefix against
    /// the proposed guardrails and report which principals' calls they would deny.
    #[arg(long, value_name = "PATH")]
    pub replay: Option<PathBuf>,
    /// How the live collection runs (ignored with --snapshot).
    #[command(flatten)]
    pub collect: crate::cmd::collect::CollectArgs,
}

pub fn run(g: &Global, a: &PlanArgs, drift: bool) -> anyhow::Result<Exit> {
    let cfg = crate::cmd::init::load_config(g)?;
    let mut store = crate::cmd::store::for_recording(g)?;
    let started_at = crate::cmd::store::now();
    let snap = match &a.snapshot {
        Some(p) => Snapshot::load(p)?,
        None => collect_for(g, &a.collect, &cfg)?,
    };
    let p = plan(&cfg, &snap).map_err(|e| anyhow::anyhow!("{}: {e}", g.config.display()))?;
    let replay = match &a.replay {
        Some(path) => Some(replay(g, &cfg, &snap, path)?),
        None => None,
    };
    let mut doc = serde_json::to_value(&p)?;
    if let Some(r) = &replay {
        doc["replay"] = serde_json::to_value(r)?;
    }
    let json = serde_json::to_string_pretty(&doc)? + "\n";
    if let Some(out) = &a.out {
        std::fs::write(out, &json)
            .with_context(|| format!("cannot write the plan to {}", out.display()))?;
    }
    let rendered = match g.format.as_deref() {
        None | Some("text") | Some("table") => {
            let mut t = p.to_text();
            if drift && !p.changes.is_empty() {
                t = format!("Drift from {}:\n{t}", g.config.display());
            }
            if let Some(r) = &replay {
                t.push('\n');
                t.push_str(&r.to_text());
            }
            t
        }
        Some("json") => json,
        Some(f) => anyhow::bail!("`rampart plan` formats are text and json (got `{f}`)"),
    };
    output::emit(g, &rendered)?;
    if let Some(store) = store.as_mut() {
        let run = rampart_store::PlanRun {
            kind: if drift {
                rampart_store::RunKind::Drift
            } else {
                rampart_store::RunKind::Plan
            },
            started_at,
            finished_at: crate::cmd::store::now(),
            organization_id: snap.organization.as_ref().map(|o| o.id.clone()),
            unobserved: p.unobserved.clone(),
        };
        let id = store
            .record_plan(&run, &crate::cmd::store::change_rows(&p))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        crate::cmd::store::note_recorded(g, store, run.kind.as_str(), id);
    }
    Ok(if p.changes.is_empty() {
        Exit::Ok
    } else {
        Exit::Changes
    })
}

/// The global flags with the baseline's defaults: only the allowed regions (unless `--regions`
/// says otherwise) and the role from rampart.toml (unless `--role-name` was changed).
fn baseline_global(g: &Global, cfg: &rampart_baseline::Config) -> Global {
    let mut g = g.clone();
    if g.regions.is_empty() {
        g.regions = cfg.organization.allowed_regions.clone();
    }
    if g.role_name == "OrganizationAccountAccessRole" {
        g.role_name = cfg.organization.role_name.clone();
    }
    g
}

/// A live snapshot of what the baseline covers (narrower and faster than `rampart collect`:
/// only what the planner compares is read).
pub fn collect_for(
    g: &Global,
    a: &crate::cmd::collect::CollectArgs,
    cfg: &rampart_baseline::Config,
) -> anyhow::Result<Snapshot> {
    let bucket = &cfg.log_archive.bucket;
    let buckets = vec![
        bucket.clone(),
        rampart_baseline::plan::log_archive::access_log_bucket(bucket),
    ];
    crate::cmd::collect::collect_scoped(&baseline_global(g, cfg), a, Some(buckets))
}

/// AWS access options for the baseline verbs.
#[cfg(feature = "aws")]
pub fn baseline_options(g: &Global, cfg: &rampart_baseline::Config) -> rampart_aws::CollectOptions {
    crate::cmd::collect::options(&baseline_global(g, cfg))
}

/// Replays every CloudTrail record under `path` against the proposed guardrails; unreadable
/// files and records are counted and reported, never fatal.
fn replay(
    g: &Global,
    cfg: &rampart_baseline::Config,
    snap: &Snapshot,
    path: &std::path::Path,
) -> anyhow::Result<rampart_baseline::ReplayReport> {
    let mut r = rampart_baseline::Replayer::new(cfg, snap).map_err(anyhow::Error::msg)?;
    let mut reader = rampart_detect::input::Reader::new();
    let mut stats = rampart_detect::input::ReadStats::default();
    let mut issues = Vec::new();
    let mut bad = 0u64;
    let mut each = |raw: &[u8], _: usize| match serde_json::from_slice::<serde_json::Value>(raw) {
        Ok(v) => r.observe(&v),
        Err(_) => bad += 1,
    };
    let url = path.to_string_lossy();
    if url.starts_with("s3://") {
        crate::cmd::s3::for_each_object(g, &url, None, None, &mut |name, data| {
            stats.files += 1;
            match data {
                Ok(d) => reader.read_bytes(name, &d, &mut stats, &mut issues, &mut each),
                Err(message) => {
                    stats.skipped += 1;
                    issues.push(rampart_detect::input::Issue {
                        location: name.to_string(),
                        message,
                    });
                }
            }
        })?;
    } else {
        let files =
            rampart_detect::input::discover(path, None, None).map_err(anyhow::Error::msg)?;
        for f in &files {
            reader.read_file(f, &mut stats, &mut issues, &mut each);
        }
    }
    for i in &issues {
        output::note(
            g,
            format!("rampart: warning: {}: {}", i.location, i.message),
        );
    }
    let mut report = r.finish();
    if bad > 0 {
        report.skipped.insert("not valid JSON".into(), bad);
    }
    output::note(
        g,
        format!(
            "rampart: replay read {} file(s), {} record(s); {} file(s) or record(s) skipped",
            stats.files,
            report.events,
            stats.skipped + bad
        ),
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use crate::cli::{Cli, Exit};
    use clap::Parser;

    fn run(args: &[&str]) -> anyhow::Result<Exit> {
        crate::cmd::run(&Cli::try_parse_from(args).expect("arguments parse"))
    }

    /// The demo organization, planned against the default rampart.toml, needs changes (exit 4),
    /// in both formats, and the JSON plan is written where asked.
    #[test]
    fn plan_over_a_saved_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("rampart.toml");
        let snap = dir.path().join("snap.json");
        std::fs::write(&snap, rampart_core::sample::demo_org().to_json()).unwrap();
        let c = cfg.to_str().unwrap();
        run(&[
            "rampart",
            "init",
            "--email",
            "ops@example.com",
            "--regions",
            "us-east-1,eu-west-1",
            "--config",
            c,
        ])
        .unwrap();
        let out = dir.path().join("plan.json");
        let text = dir.path().join("plan.txt");
        let code = run(&[
            "rampart",
            "plan",
            "--snapshot",
            snap.to_str().unwrap(),
            "--config",
            c,
            "--out",
            out.to_str().unwrap(),
            "-o",
            text.to_str().unwrap(),
        ])
        .unwrap();
        assert_eq!(code, Exit::Changes);
        let plan: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        let changes = plan["changes"].as_array().unwrap();
        assert!(!changes.is_empty());
        assert!(
            changes
                .iter()
                .all(|c| c["action"].is_string() && c["id"].is_string())
        );
        let t = std::fs::read_to_string(&text).unwrap();
        assert!(t.contains("change(s)"), "{t}");
        // Replay of the Stratus corpus against the proposed guardrails: a report, never an error.
        let corpus = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpora/cloudtrail"
        );
        let json_out = dir.path().join("replay.json");
        let plan_with = |extra: &[&str]| {
            let mut args = vec![
                "rampart",
                "plan",
                "--snapshot",
                snap.to_str().unwrap(),
                "--config",
                c,
            ];
            args.extend_from_slice(extra);
            run(&args)
        };
        let code = plan_with(&[
            "--replay",
            corpus,
            "--format",
            "json",
            "-o",
            json_out.to_str().unwrap(),
        ])
        .unwrap();
        assert_eq!(code, Exit::Changes);
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json_out).unwrap()).unwrap();
        assert!(
            v["replay"]["events"].as_u64().unwrap() > 1000,
            "{}",
            v["replay"]
        );
        let e = plan_with(&["--replay", "s3://"]).unwrap_err().to_string();
        assert!(e.contains("s3://"), "{e}");
        // A missing config says what to do.
        let e = run(&[
            "rampart",
            "drift",
            "--snapshot",
            snap.to_str().unwrap(),
            "--config",
            dir.path().join("none.toml").to_str().unwrap(),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains("rampart init"), "{e}");
    }
}
