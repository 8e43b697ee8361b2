//! The Spark job against the local engine, on a real local Spark: the same (rule, eventID)
//! pairs — and the same alerts, field for field but the origin — with `--aggregate 0`, for
//! every built-in rule the job supports, every supported SigmaHQ rule and the CIS filter
//! patterns; on the shared CloudTrail corpora and on generated events mutated toward each rule;
//! malformed records counted and skipped alike; the time window and partition pruning alike.
//!
//! Needs PySpark in `.venv` and Java (`bash scripts/install-test-deps.sh`); fails without them
//! unless `RAMPART_SKIP_SPARK=1`.

use rampart_detect::input::{ReadStats, Reader};
use rampart_detect::ir::Condition;
use rampart_detect::{BuiltinConfig, Cidr, Detector, Engine, Rule};
use rampart_hunt::compile::Evaluation;
use rampart_hunt::{Job, layout};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn corpora() -> PathBuf {
    workspace().join("../shared/corpora")
}

/// Every rule source the job is held to: built-ins, SigmaHQ, and the CIS 4.x filter patterns
/// (those of the built-in CIS rules, as a patterns file).
fn rules(dir: &Path) -> Vec<Rule> {
    let cfg = BuiltinConfig {
        allowed_regions: vec!["us-east-1".into(), "eu-west-1".into()],
        instance_networks: vec![Cidr::parse("10.0.0.0/8").unwrap()],
        ..BuiltinConfig::default()
    };
    let builtins: Vec<Rule> = rampart_detect::builtin(&cfg)
        .into_iter()
        .filter(|b| b.disabled.is_none())
        .map(|b| b.rule)
        .collect();
    let mut patterns = Vec::new();
    for r in &builtins {
        collect_patterns(&r.condition, &mut patterns);
    }
    assert!(patterns.len() >= 14, "CIS patterns: {}", patterns.len());
    let file = dir.join("cis.patterns");
    std::fs::write(&file, patterns.join("\n")).unwrap();
    let (pattern_rules, bad) = rampart_detect::patterns::load_file(&file).unwrap();
    assert!(bad.is_empty());
    let sigma = rampart_detect::sigma::load_dir(&corpora().join("sigma-aws/rules")).unwrap();
    assert!(sigma.rules.len() > 30, "sigma rules: {}", sigma.rules.len());
    let mut all = builtins;
    all.extend(pattern_rules);
    all.extend(sigma.rules);
    all
}

fn collect_patterns(c: &Condition, out: &mut Vec<String>) {
    match c {
        Condition::Pattern(p) => out.push(p.as_str().to_string()),
        Condition::All(cs) | Condition::Any(cs) => cs.iter().for_each(|c| collect_patterns(c, out)),
        Condition::Not(c) => collect_patterns(c, out),
        _ => {}
    }
}

/// What one engine produced: alerts (JSON records, origin removed) and counters.
#[derive(Debug)]
struct Run {
    alerts: Vec<Value>,
    events: u64,
    skipped: u64,
    out_of_window: u64,
}

fn local(rules: &[Rule], roots: &[PathBuf], since: Option<i64>, until: Option<i64>) -> Run {
    let engine = Engine::new(rules.to_vec());
    let mut det = Detector::new(&engine, 0).window(since, until);
    let mut reader = Reader::new();
    let mut stats = ReadStats::default();
    let mut issues = Vec::new();
    let mut out = Vec::new();
    for root in roots {
        for f in rampart_detect::input::discover(root, since, until).unwrap() {
            reader.read_file_batches(&f, &mut stats, &mut issues, &mut |p| {
                let _ = det.process_parsed(p, &|n| format!("record {n}"), &mut out);
            });
        }
    }
    det.finish(&mut out).unwrap();
    Run {
        alerts: out
            .iter()
            .map(|a| without_origin(serde_json::from_str(&a.to_json_line()).unwrap()))
            .collect(),
        events: det.stats.events,
        skipped: stats.skipped + det.stats.skipped,
        out_of_window: det.stats.out_of_window,
    }
}

fn without_origin(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("origin");
    v
}

fn spark(
    spark_submit: &Path,
    evaluation: Evaluation,
    rules: &[Rule],
    roots: &[PathBuf],
    since: Option<i64>,
    until: Option<i64>,
    work: &Path,
) -> Run {
    let compiled = rampart_hunt::compile::compile_for(rules, evaluation);
    assert!(
        compiled.unsupported.is_empty(),
        "{:?}",
        compiled.unsupported
    );
    let out = work.join("output");
    let job = Job {
        rules: compiled.data,
        inputs: roots
            .iter()
            .map(|r| layout::input(&r.display().to_string(), since, until, 0))
            .collect(),
        since,
        until,
        output: out.display().to_string(),
    };
    let (runner, path) = job.emit(&work.join("job")).unwrap();
    rampart_hunt::local::run(
        spark_submit,
        "local[2]",
        &runner,
        &path,
        &work.join("spark.log"),
    )
    .unwrap();
    // the runner's own lines: the evaluation it ran, the plan's size, the driver's heap
    let log = std::fs::read_to_string(work.join("spark.log")).unwrap_or_default();
    let said: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("rampart hunt:"))
        .collect();
    eprintln!("{}", said.join("\n"));
    if evaluation == Evaluation::Sql {
        assert!(
            log.contains("as Spark SQL"),
            "the job did not run the SQL predicates"
        );
    }
    let o = rampart_hunt::results::read_dir(&out).unwrap();
    Run {
        alerts: o.alerts.into_iter().map(without_origin).collect(),
        events: o.stats.events,
        skipped: o.stats.skipped,
        out_of_window: o.stats.out_of_window,
    }
}

/// The two runs agree: pairs, alerts, counters.
fn assert_same(what: &str, local: &Run, spark: &Run) {
    let pairs = |r: &Run| -> BTreeMap<(String, String), usize> {
        let mut m = BTreeMap::new();
        for a in &r.alerts {
            let k = (
                a["rule_id"].as_str().unwrap_or("").to_string(),
                a["event_id"].as_str().unwrap_or("").to_string(),
            );
            *m.entry(k).or_insert(0) += 1;
        }
        m
    };
    let (l, s) = (pairs(local), pairs(spark));
    let only_local: Vec<_> = l
        .iter()
        .filter(|(k, n)| s.get(*k) != Some(n))
        .take(20)
        .collect();
    let only_spark: Vec<_> = s
        .iter()
        .filter(|(k, n)| l.get(*k) != Some(n))
        .take(20)
        .collect();
    assert!(
        only_local.is_empty() && only_spark.is_empty(),
        "{what}: (rule, eventID) pairs differ\n  local engine only (or more often): {only_local:?}\n  Spark only (or more often): {only_spark:?}"
    );
    let key = |a: &Value| a.to_string();
    let mut la: Vec<&Value> = local.alerts.iter().collect();
    let mut sa: Vec<&Value> = spark.alerts.iter().collect();
    la.sort_by_key(|a| key(a));
    sa.sort_by_key(|a| key(a));
    for (x, y) in la.iter().zip(&sa) {
        assert_eq!(x, y, "{what}: the same pair's alerts differ");
    }
    assert_eq!(
        (local.events, local.skipped, local.out_of_window),
        (spark.events, spark.skipped, spark.out_of_window),
        "{what}: (events, skipped, out of window) differ"
    );
}

// --- generated events ------------------------------------------------------------------------

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A value to put at a path, or the path's removal.
#[derive(Debug, Clone)]
enum Put {
    Value(Value),
    Remove,
}

/// Paths a rule reads and values that move an event toward (or just across) each test.
fn atoms(c: &Value, prefix: &[Value], out: &mut Vec<(Vec<Value>, Vec<Put>)>) {
    let Some((kind, a)) = c.as_object().and_then(|m| m.iter().next()) else {
        return;
    };
    let join = |p: &Value| -> Vec<Value> {
        let mut v = prefix.to_vec();
        v.extend(p.as_array().cloned().unwrap_or_default());
        v
    };
    match kind.as_str() {
        "all" | "any" => a
            .as_array()
            .unwrap()
            .iter()
            .for_each(|c| atoms(c, prefix, out)),
        "not" => atoms(a, prefix, out),
        "match" => {
            let mut vals = Vec::new();
            pred_values(&a["pred"], &mut vals);
            out.push((join(&a["path"]), vals));
        }
        "pattern" => {
            if let Some(e) = a.get("json") {
                pattern_atoms(e, prefix, out);
            }
        }
        "any_item" => {
            let mut item = prefix.to_vec();
            item.extend(a["path"].as_array().cloned().unwrap_or_default());
            if a["items"] == "elements" && a["decode_json"] == false {
                item.push(json!(0));
                atoms(&a["cond"], &item, out);
            }
        }
        _ => {}
    }
}

fn pattern_atoms(e: &Value, prefix: &[Value], out: &mut Vec<(Vec<Value>, Vec<Put>)>) {
    let (kind, a) = e.as_object().unwrap().iter().next().unwrap();
    match kind.as_str() {
        "and" | "or" => a
            .as_array()
            .unwrap()
            .iter()
            .for_each(|x| pattern_atoms(x, prefix, out)),
        _ => {
            let mut path = prefix.to_vec();
            path.extend(a["path"].as_array().cloned().unwrap_or_default());
            let t = &a["test"];
            let vals = match t.as_str() {
                Some("exists") => vec![Put::Value(json!("present"))],
                Some("not_exists") => vec![Put::Remove],
                Some("is_null") => vec![Put::Value(Value::Null)],
                Some("is_true") => vec![Put::Value(json!(true))],
                Some("is_false") => vec![Put::Value(json!(false))],
                _ => {
                    let (tk, ta) = t.as_object().unwrap().iter().next().unwrap();
                    match tk.as_str() {
                        "eq" | "ne" => literal_values(ta),
                        _ => {
                            let x = ta["value"].as_f64().unwrap();
                            vec![
                                Put::Value(json!(x)),
                                Put::Value(json!(x + 1.0)),
                                Put::Value(json!(format!("{x}"))),
                            ]
                        }
                    }
                }
            };
            out.push((path, vals));
        }
    }
}

fn literal_values(l: &Value) -> Vec<Put> {
    let (kind, a) = l.as_object().unwrap().iter().next().unwrap();
    match kind.as_str() {
        "exact" => {
            let mut v = vec![Put::Value(a["text"].clone())];
            if let Some(n) = a["number"].as_f64() {
                v.push(Put::Value(json!(n)));
            }
            v
        }
        "glob" => {
            let parts: Vec<&str> = a
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            vec![Put::Value(json!(parts.join("Xy")))]
        }
        _ => vec![Put::Value(json!(regex_sample(a.as_str().unwrap_or(""))))],
    }
}

/// A crude string a regular expression may match: its literal characters.
fn regex_sample(p: &str) -> String {
    p.chars()
        .filter(|c| !"^$\\.*+?()[]{}|".contains(*c))
        .collect()
}

fn pred_values(p: &Value, out: &mut Vec<Put>) {
    let (kind, a) = p.as_object().unwrap().iter().next().unwrap();
    let s = |x: String| Put::Value(Value::String(x));
    match kind.as_str() {
        "str" => {
            let n = a["needle"].as_str().unwrap();
            out.push(s(match a["op"].as_str().unwrap() {
                "equals" => n.to_string(),
                "contains" => format!("x{n}y"),
                "startswith" => format!("{n}tail"),
                "endswith" => format!("head{n}"),
                _ => n.replace('\\', "").replace('*', "ab").replace('?', "c"),
            }));
        }
        "one_of" => a["values"]
            .as_array()
            .unwrap()
            .iter()
            .take(3)
            .for_each(|v| out.push(Put::Value(v.clone()))),
        "contains_any" => a["needles"]
            .as_array()
            .unwrap()
            .iter()
            .take(3)
            .for_each(|v| out.push(s(format!("a{}b", v.as_str().unwrap())))),
        "regex" => out.push(s(regex_sample(a["pattern"].as_str().unwrap()))),
        "num" => {
            let x = a["value"].as_f64().unwrap();
            out.push(Put::Value(json!(x)));
            out.push(Put::Value(json!(x + 1.0)));
            out.push(s(format!("{x}")));
        }
        "cidr" => {
            for net in a.as_array().unwrap().iter().take(2) {
                let net = net.as_str().unwrap();
                let addr = net.split('/').next().unwrap();
                let ip = match addr.parse::<std::net::Ipv4Addr>() {
                    Ok(v4) => std::net::Ipv4Addr::from(u32::from(v4).wrapping_add(5)).to_string(),
                    Err(_) => addr.to_string(),
                };
                out.push(s(ip));
            }
        }
        "null" => out.push(Put::Value(Value::Null)),
        "exists" => out.push(if a == true {
            s("present".into())
        } else {
            Put::Remove
        }),
        "bool" => out.push(Put::Value(a.clone())),
        "any" | "all" => a
            .as_array()
            .unwrap()
            .iter()
            .for_each(|p| pred_values(p, out)),
        _ => {}
    }
}

/// A value turned into a neighbour of another type or case (the semantics most likely to
/// differ between two engines: arrays, numbers, nulls, case).
fn mutate(v: &Value, rng: &mut Rng) -> Put {
    match rng.below(8) {
        0 => Put::Value(json!([v.clone()])),
        1 => Put::Value(json!(["other", [v.clone()]])),
        2 => Put::Value(Value::Null),
        3 => Put::Remove,
        4 => match v {
            Value::String(s) => Put::Value(json!(s.to_uppercase())),
            _ => Put::Value(json!(v.to_string())),
        },
        5 => match v {
            Value::String(s) => match s.parse::<f64>() {
                Ok(n) => Put::Value(json!(n)),
                Err(_) => Put::Value(json!(format!("{s} "))),
            },
            Value::Number(n) => Put::Value(json!(n.to_string())),
            _ => Put::Value(json!({"nested": v.clone()})),
        },
        6 => Put::Value(json!("unrelated-value")),
        _ => Put::Value(v.clone()),
    }
}

fn set_path(doc: &mut Value, path: &[Value], put: &Put) {
    let Some((first, rest)) = path.split_first() else {
        if let Put::Value(v) = put {
            *doc = v.clone();
        }
        return;
    };
    match first {
        Value::String(k) => {
            if !doc.is_object() {
                *doc = json!({});
            }
            let m = doc.as_object_mut().unwrap();
            if rest.is_empty() && matches!(put, Put::Remove) {
                m.remove(k);
                return;
            }
            set_path(m.entry(k.clone()).or_insert(Value::Null), rest, put);
        }
        Value::Number(n) => {
            let i = n.as_u64().unwrap_or(0).min(4) as usize;
            if !doc.is_array() {
                *doc = json!([]);
            }
            let a = doc.as_array_mut().unwrap();
            while a.len() <= i {
                a.push(json!({}));
            }
            set_path(&mut a[i], rest, put);
        }
        _ => {
            // [*]: one element
            if !doc.is_array() {
                *doc = json!([{}]);
            }
            let a = doc.as_array_mut().unwrap();
            if a.is_empty() {
                a.push(json!({}));
            }
            set_path(&mut a[0], rest, put);
        }
    }
}

fn template(id: &str, time: &str) -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::111122223333:user/alice",
            "accountId": "111122223333", "accessKeyId": "AKIAEXAMPLE", "userName": "alice"},
        "eventTime": time,
        "eventSource": "iam.amazonaws.com",
        "eventName": "ListUsers",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.5",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": null,
        "responseElements": null,
        "eventID": id,
        "readOnly": true,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "111122223333",
    })
}

/// Events mutated toward every compiled rule's condition (as data), `per_rule` each, on days
/// around `day0`.
fn generate(conditions: &[Value], per_rule: usize, seed: u64) -> Vec<Value> {
    let mut rng = Rng(seed);
    let mut out = Vec::new();
    let extra: Vec<(Vec<Value>, Vec<Put>)> = vec![
        (
            vec![json!("errorCode")],
            vec![Put::Value(json!("AccessDenied")), Put::Remove],
        ),
        (
            vec![json!("userIdentity"), json!("type")],
            vec![Put::Value(json!("Root")), Put::Value(json!("AssumedRole"))],
        ),
        (
            vec![json!("responseElements"), json!("ConsoleLogin")],
            vec![Put::Value(json!("Failure")), Put::Value(json!("Success"))],
        ),
    ];
    for (k, condition) in conditions.iter().enumerate() {
        let mut found = Vec::new();
        atoms(condition, &[], &mut found);
        for v in 0..per_rule {
            let day = 10 + rng.below(11);
            let time = format!(
                "2024-01-{day:02}T{:02}:{:02}:00Z",
                rng.below(24),
                rng.below(60)
            );
            let mut ev = template(&format!("gen-{k}-{v}"), &time);
            for (path, vals) in &found {
                if vals.is_empty() || (v > 0 && rng.chance(25)) {
                    continue;
                }
                let put = vals[if v == 0 { 0 } else { rng.below(vals.len()) }].clone();
                let put = match (&put, v > 1 && rng.chance(35)) {
                    (Put::Value(x), true) => mutate(x, &mut rng),
                    _ => put,
                };
                set_path(&mut ev, path, &put);
            }
            for (path, vals) in &extra {
                if rng.chance(20) {
                    set_path(&mut ev, path, &vals[rng.below(vals.len())]);
                }
            }
            // the id and time stay strings: they are how the runs are compared
            ev["eventID"] = json!(format!("gen-{k}-{v}"));
            out.push(ev);
        }
    }
    out
}

fn gz(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let f = std::fs::File::create(path).unwrap();
    let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap();
}

/// Writes `events` in the S3 delivery layout (a file per delivery day, the day its event time
/// says; events without one go to the first day), and malformed inputs both readers must count
/// and skip alike.
fn write_layout(root: &Path, events: &[Value]) {
    let mut by_day: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for e in events {
        let day = e["eventTime"]
            .as_str()
            .filter(|t| t.len() >= 10)
            .map(|t| t[..10].replace('-', "/"))
            .unwrap_or_else(|| "2024/01/10".into());
        by_day.entry(day).or_default().push(e);
    }
    let base = root.join("AWSLogs/o-exampleorg/111122223333/CloudTrail/us-east-1");
    for (day, evs) in &by_day {
        for (n, chunk) in evs.chunks(200).enumerate() {
            let doc = json!({ "Records": chunk });
            gz(
                &base
                    .join(day)
                    .join(format!("111122223333_CloudTrail_us-east-1_{n}.json.gz")),
                &doc.to_string(),
            );
        }
    }
    let bad = base.join("2024/01/15");
    let ev = |id: &str| template(id, "2024-01-15T08:00:00Z").to_string();
    // JSON Lines with a broken line, a non-object, a stray string, blank lines
    std::fs::write(
        bad.join("lines.jsonl"),
        format!(
            "{}\n{{\"eventName\": \n[1]\n\"text\"\n\n{}\n",
            ev("bad-1"),
            ev("bad-2")
        ),
    )
    .unwrap();
    // non-object records inside Records
    gz(
        &bad.join("nonobject.json.gz"),
        &format!(
            "{{\"Records\":[{},1,\"x\",null,{}]}}",
            ev("bad-3"),
            ev("bad-4")
        ),
    );
    // a truncated delivery: the records before the cut are read
    let whole = format!("{{\"Records\":[{},{}]}}", ev("bad-5"), ev("bad-6"));
    std::fs::write(bad.join("cut.json"), &whole[..whole.len() - 40]).unwrap();
    std::fs::write(bad.join("empty.json"), "  \n").unwrap();
    // an event without a time, an EventBridge envelope, an array of events
    let mut untimed = template("bad-7", "x");
    untimed.as_object_mut().unwrap().remove("eventTime");
    std::fs::write(
        bad.join("shapes.json"),
        format!(
            "{}\n{{\"version\":\"0\",\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":{}}}\n[{},{}]\n",
            untimed,
            ev("bad-8"),
            ev("bad-9"),
            ev("bad-10")
        ),
    )
    .unwrap();
    // digests are never read
    gz(
        &root.join(
            "AWSLogs/o-exampleorg/111122223333/CloudTrail-Digest/us-east-1/2024/01/15/d.json.gz",
        ),
        &format!("{{\"Records\":[{}]}}", ev("digest")),
    );
}

/// The evaluations the job is held to, one Spark job at a time: the rules compiled to Spark SQL
/// and the runner's interpreter (both, in CI); `RAMPART_HUNT_EVALUATION=sql` or `=interpret`
/// runs one.
fn evaluations() -> Vec<Evaluation> {
    match std::env::var("RAMPART_HUNT_EVALUATION").as_deref() {
        Ok("sql") => vec![Evaluation::Sql],
        Ok("interpret") => vec![Evaluation::Interpret],
        Ok(other) => panic!("RAMPART_HUNT_EVALUATION={other}: sql, interpret or unset (both)"),
        Err(_) => vec![Evaluation::Sql, Evaluation::Interpret],
    }
}

fn spark_submit() -> Option<PathBuf> {
    if std::env::var("RAMPART_SKIP_SPARK").as_deref() == Ok("1") {
        eprintln!("RAMPART_SKIP_SPARK=1: the Spark differential test is skipped");
        return None;
    }
    match rampart_hunt::local::find_spark_submit(&workspace()) {
        Ok(p) => Some(p),
        Err(e) => panic!(
            "the Spark differential test needs a local Spark: {e} (or set RAMPART_SKIP_SPARK=1 to skip it)"
        ),
    }
}

/// One Spark run over the shared corpora and the generated events (no window), one over the
/// generated events with a window: every pair, alert and counter the same as the local engine's.
#[test]
fn spark_job_agrees_with_the_local_engine() {
    let Some(spark_submit) = spark_submit() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let rules = rules(dir.path());
    // the SQL compile: what it supports, and the leaves it leaves to Python
    let compiled = rampart_hunt::compile::compile_for(&rules, Evaluation::Sql);
    let supported: BTreeSet<&str> = compiled.ids.iter().map(String::as_str).collect();
    // no rule dropped: each is compiled or listed with its reason
    let unsupported: BTreeSet<&str> = compiled.unsupported.iter().map(|u| u.id.as_str()).collect();
    for r in &rules {
        assert!(
            supported.contains(r.meta.id.as_str()) != unsupported.contains(r.meta.id.as_str()),
            "{} is neither compiled nor listed as unsupported (or both)",
            r.meta.id
        );
    }
    let rules: Vec<Rule> = rules
        .into_iter()
        .filter(|r| supported.contains(r.meta.id.as_str()))
        .collect();
    let n_sigma = rules
        .iter()
        .filter(|r| r.meta.source.to_string() == "sigma")
        .count();
    let n_pattern = rules
        .iter()
        .filter(|r| r.meta.source.to_string() == "pattern")
        .count();
    assert!(
        n_sigma > 30 && n_pattern >= 14,
        "sigma {n_sigma}, patterns {n_pattern}"
    );
    for u in &compiled.unsupported {
        // only the policy-engine judges of the exposure rules have no Spark form
        assert!(u.reason.contains("policy engine"), "{u:?}");
    }
    // the leaves left to Python are the documented kinds only
    for f in &compiled.fallbacks {
        assert!(
            f.reason.contains("IPv6") || f.reason.contains("a leaf may take"),
            "an undocumented Python fallback: {f:?}"
        );
    }
    assert_eq!(
        compiled.data["leaves"].as_array().unwrap().len(),
        compiled.fallbacks.len()
    );

    let generated = dir.path().join("generated");
    let events = generate(&compiled.conditions, 12, 0x5eed_1234_abcd_0001);
    write_layout(&generated, &events);
    let shared = corpora().join("cloudtrail");
    let roots = vec![
        shared.join("invictus-stratus-dataset"),
        shared.join("stratus-detonation-logs"),
        generated.clone(),
    ];

    // every rule, no window
    let l = local(&rules, &roots, None, None);
    assert!(l.skipped >= 8, "malformed inputs counted: {}", l.skipped);
    let fired: BTreeSet<&str> = l
        .alerts
        .iter()
        .filter(|a| {
            a["event_id"]
                .as_str()
                .is_some_and(|i| i.starts_with("gen-"))
        })
        .filter_map(|a| a["rule_id"].as_str())
        .collect();
    eprintln!(
        "differential: {} rules ({} Sigma, {} CIS patterns), {} events, {} alerts, {} skipped; {} rules fired on generated events",
        rules.len(),
        n_sigma,
        n_pattern,
        l.events,
        l.alerts.len(),
        l.skipped,
        fired.len()
    );
    assert!(
        fired.len() * 10 >= rules.len() * 8,
        "the generated events reach too few rules: {} of {}",
        fired.len(),
        rules.len()
    );
    // each evaluation's job on the same inputs and window: the same as the local run
    let agree = |run: &str, what: &str, roots: &[PathBuf], since, until, l: &Run| {
        for &e in &evaluations() {
            let work = dir.path().join(format!("{run}-{}", e.as_str()));
            let s = spark(&spark_submit, e, &rules, roots, since, until, &work);
            assert_same(&format!("{what} ({})", e.as_str()), l, &s);
        }
    };
    agree(
        "run1",
        "corpora and generated events",
        &roots,
        None,
        None,
        &l,
    );

    // a window: the days outside it are pruned, events outside it counted alike
    let t = |s: &str| rampart_detect::time::parse_time(s).unwrap();
    let (since, until) = (
        Some(t("2024-01-12T00:00:00Z")),
        Some(t("2024-01-17T12:00:00Z")),
    );
    let roots = vec![generated];
    let l = local(&rules, &roots, since, until);
    assert!(l.out_of_window > 0 && l.events > 0, "{l:?}");
    agree(
        "run2",
        "generated events, --since/--until",
        &roots,
        since,
        until,
        &l,
    );
}
