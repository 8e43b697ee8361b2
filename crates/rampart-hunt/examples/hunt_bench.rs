//! The `rampart hunt` benchmark's two sides without building the `rampart` CLI (BENCHMARKS.md,
//! "rampart hunt"), both on the built-in rules plus a SigmaHQ folder:
//!
//!     hunt_bench emit sql|interpret SIGMA_DIR INPUT OUT JOB_DIR   # runner.py + job.json for spark-submit
//!     hunt_bench local SIGMA_DIR INPUT ALERTS.jsonl               # the local engine, one thread
//!
//! `local` runs only the rules the Spark job supports, alerts unaggregated, as the job does.

use rampart_detect::input::{ReadStats, Reader};
use rampart_detect::{BuiltinConfig, Detector, Engine, Rule};
use rampart_hunt::compile::{Evaluation, compile_for};
use rampart_hunt::{Job, layout};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

const USAGE: &str = "usage: hunt_bench emit sql|interpret SIGMA_DIR INPUT OUT JOB_DIR | hunt_bench local SIGMA_DIR INPUT ALERTS.jsonl";

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["emit", evaluation, sigma, input, out, dir] => emit(evaluation, sigma, input, out, dir),
        ["local", sigma, input, alerts] => local(sigma, input, alerts),
        _ => Err(USAGE.into()),
    }
}

fn rules(sigma: &str) -> Result<Vec<Rule>, String> {
    let mut rules: Vec<Rule> = rampart_detect::builtin(&BuiltinConfig::default())
        .into_iter()
        .filter(|b| b.disabled.is_none())
        .map(|b| b.rule)
        .collect();
    let sigma = rampart_detect::sigma::load_dir(Path::new(sigma))
        .map_err(|e| format!("cannot load Sigma rules from {sigma}: {e}"))?;
    rules.extend(sigma.rules);
    Ok(rules)
}

fn emit(evaluation: &str, sigma: &str, input: &str, out: &str, dir: &str) -> Result<(), String> {
    let evaluation = match evaluation {
        "sql" => Evaluation::Sql,
        "interpret" => Evaluation::Interpret,
        other => return Err(format!("unknown evaluation `{other}`: sql or interpret")),
    };
    let compiled = compile_for(&rules(sigma)?, evaluation);
    eprintln!(
        "{} rules compiled, {} unsupported, {} Python leaves",
        compiled.ids.len(),
        compiled.unsupported.len(),
        compiled.fallbacks.len()
    );
    let job = Job {
        rules: compiled.data,
        inputs: vec![layout::input(input, None, None, 0)],
        since: None,
        until: None,
        output: out.to_string(),
    };
    job.emit(Path::new(dir))?;
    Ok(())
}

fn local(sigma: &str, input: &str, alerts: &str) -> Result<(), String> {
    let mut rules = rules(sigma)?;
    // the rules the Spark job evaluates (the same set `emit` writes)
    let supported: BTreeSet<String> = compile_for(&rules, Evaluation::Sql)
        .ids
        .into_iter()
        .collect();
    rules.retain(|r| supported.contains(&r.meta.id));
    let started = std::time::Instant::now();
    let engine = Engine::new(rules);
    let mut det = Detector::new(&engine, 0);
    let mut reader = Reader::new();
    let (mut stats, mut issues, mut out) = (ReadStats::default(), Vec::new(), Vec::new());
    let files = rampart_detect::input::discover(Path::new(input), None, None)
        .map_err(|e| format!("cannot list {input}: {e}"))?;
    for f in files {
        reader.read_file_batches(&f, &mut stats, &mut issues, &mut |p| {
            let _ = det.process_parsed(p, &|n| format!("record {n}"), &mut out);
        });
    }
    det.finish(&mut out)?;
    let file = std::fs::File::create(alerts).map_err(|e| format!("cannot write {alerts}: {e}"))?;
    let mut w = std::io::BufWriter::new(file);
    for a in &out {
        writeln!(w, "{}", a.to_json_line()).map_err(|e| format!("cannot write {alerts}: {e}"))?;
    }
    w.flush()
        .map_err(|e| format!("cannot write {alerts}: {e}"))?;
    eprintln!(
        "local engine: {} rules, {} events, {} alerts, {} skipped, {:.2} s",
        supported.len(),
        det.stats.events,
        out.len(),
        stats.skipped + det.stats.skipped,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
