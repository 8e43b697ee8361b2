//! Per-rule evaluation cost over a directory of CloudTrail files (a profiling aid, not a
//! benchmark): each rule alone in an engine, over the same pre-read records.
use rampart_detect::input::{ReadStats, Reader};
use rampart_detect::{BuiltinConfig, Engine, EvalStats, Event, builtin};
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).expect("DIR"));
    let mut rules: Vec<_> = builtin(&BuiltinConfig {
        allowed_regions: vec!["eu-west-1".into(), "us-east-1".into(), "us-west-2".into()],
        ..Default::default()
    })
    .into_iter()
    .filter(|b| b.disabled.is_none())
    .map(|b| b.rule)
    .collect();
    let sig = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/sigma-aws");
    rules.extend(rampart_detect::sigma::load_dir(&sig).unwrap().rules);
    let mut records: Vec<Vec<u8>> = Vec::new();
    let mut reader = Reader::new();
    for f in rampart_detect::input::discover(&dir, None, None).unwrap() {
        let mut st = ReadStats::default();
        reader.read_file(&f, &mut st, &mut Vec::new(), &mut |raw, _| {
            records.push(raw.to_vec())
        });
    }
    let events: Vec<Event> = records.iter().map(|r| Event::parse(r).unwrap()).collect();
    let mut costs = Vec::new();
    let only = std::env::var("RULE").ok();
    for r in rules {
        let id = r.meta.id.clone();
        if only.as_ref().is_some_and(|o| *o != id) {
            continue;
        }
        let engine = Engine::new(vec![r]);
        let mut best = f64::MAX;
        let mut hits = 0;
        for _ in 0..5 {
            let t = Instant::now();
            hits = 0;
            let mut st = EvalStats::default();
            for e in &events {
                engine.evaluate(e, &mut st, |_| hits += 1);
            }
            best = best.min(t.elapsed().as_secs_f64());
        }
        costs.push((best * 1e9 / events.len() as f64, id, hits));
    }
    costs.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap());
    let total: f64 = costs.iter().map(|c| c.0).sum();
    println!("{} events; total {:.0} ns/event", events.len(), total);
    for (ns, id, hits) in costs.iter().take(25) {
        println!("{ns:8.1} ns/event  {hits:6} hits  {id}");
    }
}
