//! `rampart init`: write a commented `rampart.toml` implementing the baseline, and
//! `rampart guardrails`: show the SCPs it generates for each OU with their proofs.

use crate::cli::{Exit, Global};
use crate::cmd::output;
use anyhow::{Context, bail};
use rampart_baseline::config::PLACEHOLDER_BUCKET;
use rampart_baseline::{Config, build_guardrails, init_template, prove};
use std::io::{BufRead, Write};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  rampart init                                   # email of the management account read from AWS\n  rampart init --email ops@example.com --regions eu-west-1,eu-central-1\n  rampart init --interactive\n  rampart guardrails                            # the SCPs rampart.toml generates, and their proofs"
)]
pub struct InitArgs {
    /// The management account's root email: the Log Archive and Audit addresses derive from it
    /// (`ops+log-archive@…`). Default: read from AWS Organizations, if reachable.
    #[arg(long)]
    pub email: Option<String>,
    /// Ask for the email and regions instead of taking the defaults.
    #[arg(long)]
    pub interactive: bool,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

pub fn run(g: &Global, a: &InitArgs) -> anyhow::Result<Exit> {
    let path = &g.config;
    if path.exists() && !a.force {
        bail!(
            "{} already exists; pass --force to overwrite it (or --config FILE to write elsewhere)",
            path.display()
        );
    }
    let mut email = a.email.clone();
    let mut regions = g.regions.clone();
    if a.interactive {
        let stdin = std::io::stdin();
        let mut lines = stdin.lock().lines();
        let mut ask = |q: &str, default: &str| -> anyhow::Result<String> {
            eprint!("{q} [{default}]: ");
            std::io::stderr().flush().ok();
            let answer = lines.next().transpose()?.unwrap_or_default();
            let answer = answer.trim();
            Ok(if answer.is_empty() {
                default.to_string()
            } else {
                answer.to_string()
            })
        };
        let e = ask(
            "Management account root email",
            email.as_deref().unwrap_or("security@example.com"),
        )?;
        email = Some(e);
        let r = ask(
            "Allowed regions, home region first",
            &if regions.is_empty() {
                "us-east-1".to_string()
            } else {
                regions.join(",")
            },
        )?;
        regions = r
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
    }
    let mut org_id = None;
    let email = match email {
        Some(e) => e,
        None => match management_email(g) {
            Ok((e, id)) => {
                org_id = Some(id).filter(|i| !i.is_empty());
                e
            }
            Err(why) => {
                output::note(
                    g,
                    format!(
                        "rampart: warning: {why}; using security@example.com — edit the [[accounts]] emails before applying"
                    ),
                );
                "security@example.com".to_string()
            }
        },
    };
    let mut text = init_template(&email, &regions);
    text.push('\n');
    text.push_str(rampart_schedule::config::DEFAULT_SECTION);
    if let Some(id) = &org_id {
        text = text.replace(PLACEHOLDER_BUCKET, &format!("rampart-org-trail-{id}"));
    }
    // What we write must be what we accept.
    Config::parse(&text, &path.display().to_string()).map_err(|e| {
        anyhow::anyhow!("internal error: the default configuration does not parse: {e}")
    })?;
    std::fs::write(path, &text).with_context(|| format!("cannot write {}", path.display()))?;
    output::note(
        g,
        format!(
            "wrote {}: review the accounts, OUs, regions and the log archive bucket name",
            path.display()
        ),
    );
    Ok(Exit::Ok)
}

#[cfg(feature = "aws")]
fn management_email(g: &Global) -> Result<(String, String), String> {
    rampart_aws::management_email(&crate::cmd::collect::options(g))
}

#[cfg(not(feature = "aws"))]
fn management_email(_g: &Global) -> Result<(String, String), String> {
    Err("this build has no AWS access to read the management account's email (pass --email)".into())
}

#[derive(Debug, clap::Args)]
pub struct GuardrailsArgs {}

/// Reads and validates `--config` (rampart.toml); the error says to run `rampart init` when the
/// file is missing.
pub fn load_config(g: &Global) -> anyhow::Result<Config> {
    let text = std::fs::read_to_string(&g.config).with_context(|| {
        format!(
            "cannot read {}; run `rampart init` first",
            g.config.display()
        )
    })?;
    let cfg = Config::parse(&text, &g.config.display().to_string()).map_err(anyhow::Error::msg)?;
    Ok(cfg)
}

/// One target's policies (name, size, blocks) and its proof, for people.
fn write_target(
    out: &mut String,
    title: &str,
    policies: &[(&str, usize, Vec<&str>)],
    proof: &rampart_baseline::Proof,
) {
    out.push_str(&format!("{title}\n"));
    for (name, chars, blocks) in policies {
        out.push_str(&format!(
            "  {name} ({chars} characters): {}\n",
            blocks.join(", ")
        ));
    }
    let held = proof.claims.iter().filter(|c| c.holds).count();
    out.push_str(&format!(
        "  proof: {held}/{} claims hold\n",
        proof.claims.len()
    ));
    for f in proof.failures() {
        out.push_str(&format!("  FAILS: {f}\n"));
    }
}

/// The organization id `rampart guardrails` writes into the RCPs it shows.
const EXAMPLE_ORG_ID: &str = "o-exampleorgid";

/// Prints every OU's generated SCPs and RCPs and the proof of each; exit 3 when a proof fails.
pub fn guardrails(g: &Global, _a: &GuardrailsArgs) -> anyhow::Result<Exit> {
    let cfg = load_config(g)?;
    let settings = cfg.guardrail_settings();
    let json = g.format.as_deref() == Some("json");
    let mut out = String::new();
    let mut doc = Vec::new();
    let mut failed = false;
    for (ou, blocks) in cfg.blocks_by_ou() {
        let scps = build_guardrails(&ou, &blocks, &settings)
            .map_err(|e| anyhow::anyhow!("{}: OU {ou}: {e}", g.config.display()))?;
        let proof = prove(&ou, &scps, &settings);
        failed |= !proof.holds();
        if json {
            doc.push(serde_json::json!({"ou": ou, "scps": scps, "proof": proof}));
            continue;
        }
        let policies: Vec<(&str, usize, Vec<&str>)> = scps
            .iter()
            .map(|s| {
                let names = s.blocks.iter().map(|b| b.name()).collect();
                (s.name.as_str(), s.content.len(), names)
            })
            .collect();
        write_target(&mut out, &format!("OU {ou}"), &policies, &proof);
    }
    // RCPs name the organization id, which only a snapshot knows: shown and proved here with a
    // stand-in; `plan` builds them with the real one.
    let rcp_settings = cfg.rcp_settings(EXAMPLE_ORG_ID);
    for (ou, blocks) in cfg.rcp_blocks_by_ou() {
        let rcps = rampart_baseline::build_rcps(&ou, &blocks, &rcp_settings)
            .map_err(|e| anyhow::anyhow!("{}: RCPs of OU {ou}: {e}", g.config.display()))?;
        let proof = rampart_baseline::prove_rcps(&ou, &rcps, &rcp_settings);
        failed |= !proof.holds();
        if json {
            doc.push(serde_json::json!({"ou": ou, "rcps": rcps, "proof": proof}));
            continue;
        }
        let policies: Vec<(&str, usize, Vec<&str>)> = rcps
            .iter()
            .map(|r| {
                let names = r.blocks.iter().map(|b| b.name()).collect();
                (r.name.as_str(), r.content.len(), names)
            })
            .collect();
        let title = format!("OU {ou} (RCPs, shown for organization {EXAMPLE_ORG_ID})");
        write_target(&mut out, &title, &policies, &proof);
    }
    if json {
        out = serde_json::to_string_pretty(&doc)? + "\n";
    }
    output::emit(g, &out)?;
    Ok(if failed { Exit::Findings } else { Exit::Ok })
}

#[cfg(test)]
mod tests {
    use crate::cli::{Cli, Exit};
    use clap::Parser;

    fn run(args: &[&str]) -> anyhow::Result<Exit> {
        let c = Cli::try_parse_from(args).expect("arguments parse");
        crate::cmd::run(&c)
    }

    #[test]
    fn init_then_guardrails() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("rampart.toml");
        let c = cfg.to_str().unwrap();
        let init = [
            "rampart",
            "init",
            "--email",
            "ops@example.com",
            "--regions",
            "eu-west-1",
            "--config",
            c,
        ];
        assert_eq!(run(&init).unwrap(), Exit::Ok);
        let text = std::fs::read_to_string(&cfg).unwrap();
        assert!(text.contains("ops+log-archive@example.com"));
        // Never overwritten by accident.
        let e = run(&init).unwrap_err().to_string();
        assert!(e.contains("already exists") && e.contains("--force"), "{e}");
        let out = dir.path().join("g.json");
        let g = [
            "rampart",
            "guardrails",
            "--config",
            c,
            "--format",
            "json",
            "-o",
            out.to_str().unwrap(),
        ];
        assert_eq!(run(&g).unwrap(), Exit::Ok);
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        assert_eq!(
            doc.as_array().unwrap().len(),
            4,
            "one entry per OU with guardrails"
        );
        for ou in doc.as_array().unwrap() {
            assert!(
                ou["proof"]["claims"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|c| c["holds"] == true)
            );
        }
        // A bad value: one error with file, line and column.
        std::fs::write(
            &cfg,
            text.replace(
                "object_lock_mode = \"GOVERNANCE\"",
                "object_lock_mode = \"LOOSE\"",
            ),
        )
        .unwrap();
        let e = run(&g).unwrap_err().to_string();
        assert!(
            e.contains("rampart.toml:") && e.contains("GOVERNANCE or COMPLIANCE"),
            "{e}"
        );
    }
}
