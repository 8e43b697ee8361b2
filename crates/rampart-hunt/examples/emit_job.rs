//! Writes a hunt job (runner.py + job.json) for the built-in rules and a SigmaHQ folder without
//! building the `rampart` CLI: the benchmark's and the profiler's job (BENCHMARKS.md, "rampart hunt").
//!
//!     cargo run --release -p rampart-hunt --example emit_job -- sql|interpret SIGMA_DIR INPUT OUT JOB_DIR

use rampart_detect::{BuiltinConfig, Rule};
use rampart_hunt::compile::{Evaluation, compile_for};
use rampart_hunt::{Job, layout};
use std::path::Path;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [evaluation, sigma, input, out, dir] = args.as_slice() else {
        return Err("usage: emit_job sql|interpret SIGMA_DIR INPUT OUT JOB_DIR".into());
    };
    let evaluation = match evaluation.as_str() {
        "sql" => Evaluation::Sql,
        "interpret" => Evaluation::Interpret,
        other => return Err(format!("unknown evaluation `{other}`: sql or interpret")),
    };
    let mut rules: Vec<Rule> = rampart_detect::builtin(&BuiltinConfig::default())
        .into_iter()
        .filter(|b| b.disabled.is_none())
        .map(|b| b.rule)
        .collect();
    let sigma = rampart_detect::sigma::load_dir(Path::new(sigma))
        .map_err(|e| format!("cannot load Sigma rules from {sigma}: {e}"))?;
    rules.extend(sigma.rules);
    let compiled = compile_for(&rules, evaluation);
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
        output: out.clone(),
    };
    job.emit(Path::new(dir))?;
    Ok(())
}
