//! TEMPORARY profiling: engine time with each every-event rule left out.
use rampart_detect::input::{Parsed, ReadStats, Reader};
use rampart_detect::{BuiltinConfig, Engine, builtin};
use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
        .collect();
    files.sort();
    let mut rules: Vec<_> = builtin(&BuiltinConfig {
        allowed_regions: vec!["eu-west-1".into(), "us-east-1".into(), "us-west-2".into()],
        ..Default::default()
    })
    .into_iter()
    .filter(|b| b.disabled.is_none())
    .map(|b| b.rule)
    .collect();
    let sd = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora/sigma-aws");
    rules.extend(rampart_detect::sigma::load_dir(&sd).unwrap().rules);
    let mut raws: Vec<Vec<u8>> = Vec::new();
    let mut reader = Reader::new();
    let mut issues = Vec::new();
    for f in &files {
        let mut st = ReadStats::default();
        reader.read_file_batches(f, &mut st, &mut issues, &mut |p| {
            let Parsed::Events(evs, _) = p else { return };
            for ev in evs {
                raws.push(ev.raw().to_vec());
            }
        });
    }
    raws.truncate(60000);
    for r in rules.iter().filter(|r| r.index.event_names.is_none()) {
        println!("{} {:?}", r.meta.id, r.index);
    }
    let once = |engine: &Engine| -> f64 {
        let mut memo = rampart_detect::engine::ValueMemo::default();
        let mut st = rampart_detect::EvalStats::default();
        let mut hits = 0usize;
        let t0 = Instant::now();
        for r in &raws {
            let ev = rampart_detect::Event::parse(r).unwrap();
            engine.evaluate_with(&ev, Some(&mut memo), &mut st, |_| hits += 1);
        }
        std::hint::black_box(hits);
        t0.elapsed().as_secs_f64() * 1e9 / raws.len() as f64
    };
    if let Ok(id) = std::env::var("RULE") {
        let e = if id == "ALL" {
            Engine::new(rules.clone())
        } else {
            Engine::new(rules.iter().filter(|r| r.meta.id == id).cloned().collect())
        };
        let mut memo = rampart_detect::engine::ValueMemo::default();
        let mut st = rampart_detect::EvalStats::default();
        let mut hits = 0usize;
        for f in &files {
            let mut rs = ReadStats::default();
            reader.read_file_batches(f, &mut rs, &mut issues, &mut |p| {
                let Parsed::Events(evs, _) = p else { return };
                for ev in evs {
                    e.evaluate_with(ev, Some(&mut memo), &mut st, |_| hits += 1);
                }
            });
        }
        println!("{hits}");
        return;
    }
    let any: Vec<usize> = (0..rules.len())
        .filter(|&i| rules[i].index.event_names.is_none())
        .collect();
    let mut configs: Vec<(String, Engine)> = vec![
        ("parse only".into(), Engine::new(vec![])),
        ("all".into(), Engine::new(rules.clone())),
    ];
    for &i in &any {
        configs.push((
            format!("only {}", rules[i].meta.id),
            Engine::new(vec![rules[i].clone()]),
        ));
    }
    let named: Vec<_> = rules
        .iter()
        .filter(|r| r.index.event_names.is_some())
        .cloned()
        .collect();
    configs.push(("named only".into(), Engine::new(named)));
    let mut best = vec![f64::MAX; configs.len()];
    for _ in 0..15 {
        for (k, (_, e)) in configs.iter().enumerate() {
            best[k] = best[k].min(once(e));
        }
    }
    println!("{} events", raws.len());
    for (k, (name, _)) in configs.iter().enumerate() {
        println!(
            "{:<50} {:>6.0} ns/ev  (this - parse: {:>5.0})",
            name,
            best[k],
            best[k] - best[0]
        );
    }
}
