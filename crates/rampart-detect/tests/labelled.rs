//! Precision and recall of the built-in and baseline rules over labelled CloudTrail events.
//!
//! `tests/labelled/<rule-id>.jsonl` holds, per rule, full CloudTrail records written from AWS's
//! documentation of each API: a first line describing the set
//! (`{"rule", "about", "labels", "config"?, "baseline"?}`), then one event per line,
//! `{"expect": "fire" | "attempt" | "silent", "note": "why", "event": {…}}`:
//!
//! - `fire`: the detected action succeeded; the rule must raise an alert (CIS 4.x rules keep
//!   CIS's definition: a refused call that the benchmark's pattern matches is `fire`);
//! - `attempt`: the action was tried and failed; the rule may stay silent or raise an alert
//!   whose `outcome` is `failure`, but an alert that reports a success is a defect;
//! - `silent`: a benign look-alike (same service, similar names, reads, the rule's documented
//!   false positives); any alert is a false positive.
//!
//! Each file is run through the engine as `rampart detect` runs it (every active built-in rule
//! under the file's `config`, sign-in tracking with its thresholds, no aggregation; with
//! `baseline`, a fresh baseline store learning for `learning_days`). `config` takes
//! `allowed_regions`, `instance_networks`, `uses_sso`, the organization (`organization_id`,
//! `organization_accounts`: without the accounts, RD-EXP-014 is active) and the `[detect]`
//! sign-in thresholds (`signin_window_minutes`, `spray_users`, `brute_force_failures`). and only the alerts of the file's rule are scored, read back from
//! their JSON Lines record (`outcome` when present, else success). The test fails when a rule
//! falls below the floor recorded in [`FLOORS`]; the floors are today's measured numbers,
//! including where the engine disagrees with a label, so raising a floor is how a fix is kept.
//!
//! `cargo test -p rampart-detect --test labelled -- --nocapture` prints the table;
//! `RAMPART_UPDATE_DOCS=1` also writes it into `docs/detect.md` between its markers.

use rampart_detect::baseline::{Baseline, BaselineConfig};
use rampart_detect::{
    Builtin, BuiltinConfig, Cidr, Detector, Engine, SigninConfig, SigninTracker, builtin,
};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What a rule must keep: precision and recall of its `fire` events at least these, and at most
/// this many `attempt` events reported as successes. A rule that raises no alert at all has no
/// false positives: its precision counts as 1.
struct Floor {
    rule: &'static str,
    precision: f64,
    recall: f64,
    attempts_as_success: usize,
}

const fn floor(
    rule: &'static str,
    precision: f64,
    recall: f64,
    attempts_as_success: usize,
) -> Floor {
    Floor {
        rule,
        precision,
        recall,
        attempts_as_success,
    }
}

/// Today's measured numbers (see docs/detect.md, "Measured precision and recall"). Raise a
/// floor when a rule gets better; never lower one to let a change through.
const FLOORS: &[Floor] = &[
    floor("RD-CIS-4.1", 1.0, 1.0, 0),
    floor("RD-CIS-4.2", 1.0, 1.0, 0),
    floor("RD-CIS-4.3", 1.0, 1.0, 0),
    floor("RD-CIS-4.4", 1.0, 1.0, 0),
    floor("RD-CIS-4.5", 1.0, 1.0, 0),
    floor("RD-CIS-4.6", 1.0, 1.0, 0),
    floor("RD-CIS-4.7", 1.0, 1.0, 0),
    floor("RD-CIS-4.8", 1.0, 1.0, 0),
    floor("RD-CIS-4.9", 1.0, 1.0, 0),
    floor("RD-CIS-4.10", 1.0, 1.0, 0),
    floor("RD-CIS-4.11", 1.0, 1.0, 0),
    floor("RD-CIS-4.12", 1.0, 1.0, 0),
    floor("RD-CIS-4.13", 1.0, 1.0, 0),
    floor("RD-CIS-4.14", 1.0, 1.0, 0),
    floor("RD-CIS-4.15", 1.0, 1.0, 0),
    floor("RD-TAMPER-001", 1.0, 1.0, 0),
    floor("RD-TAMPER-002", 1.0, 1.0, 0),
    floor("RD-TAMPER-003", 1.0, 1.0, 0),
    floor("RD-TAMPER-004", 1.0, 1.0, 0),
    floor("RD-TAMPER-005", 1.0, 1.0, 0),
    floor("RD-TAMPER-006", 1.0, 1.0, 0),
    floor("RD-TAMPER-007", 1.0, 1.0, 0),
    floor("RD-TAMPER-008", 1.0, 1.0, 0),
    floor("RD-TAMPER-009", 1.0, 1.0, 0),
    floor("RD-TAMPER-010", 1.0, 1.0, 0),
    floor("RD-TAMPER-011", 1.0, 1.0, 0),
    floor("RD-EXP-001", 1.0, 1.0, 0),
    floor("RD-EXP-002", 1.0, 1.0, 0),
    // AWS's default topic policy (AWS * under `AWS:SourceOwner` = the owner) is judged open:
    // the access analysis does not read `AWS:SourceOwner` as pinning an account
    floor("RD-EXP-003", 1.0, 1.0, 0),
    // AWS * limited by kms:CallerAccount to an outside account raises nothing
    floor("RD-EXP-004", 1.0, 1.0, 0),
    floor("RD-EXP-005", 1.0, 1.0, 0),
    floor("RD-EXP-006", 1.0, 1.0, 0),
    floor("RD-EXP-007", 1.0, 1.0, 0),
    floor("RD-EXP-008", 1.0, 1.0, 0),
    floor("RD-EXP-009", 1.0, 1.0, 0),
    floor("RD-EXP-010", 1.0, 1.0, 0),
    floor("RD-EXP-011", 1.0, 1.0, 0),
    // an OpenID Connect trust whose subject condition is the wildcard `*` counts as scoped
    floor("RD-EXP-012", 1.0, 1.0, 0),
    floor("RD-EXP-013", 1.0, 1.0, 0),
    floor("RD-EXP-014", 1.0, 1.0, 0),
    floor("RD-TAMPER-012", 1.0, 1.0, 0),
    floor("RD-TAMPER-013", 1.0, 1.0, 0),
    floor("RD-IAM-001", 1.0, 1.0, 0),
    floor("RD-IAM-002", 1.0, 1.0, 0),
    floor("RD-IAM-003", 1.0, 1.0, 0),
    floor("RD-IAM-004", 1.0, 1.0, 0),
    floor("RD-IAM-005", 1.0, 1.0, 0),
    floor("RD-IAM-006", 1.0, 1.0, 0),
    floor("RD-IAM-007", 1.0, 1.0, 0),
    floor("RD-IAM-008", 1.0, 1.0, 0),
    floor("RD-IAM-009", 1.0, 1.0, 0),
    // a burst of refused Identity Center passwords that never succeeds is raised from its last
    // `CredentialVerification` Failure, which `outcome_of` reads as a success (no error code)
    floor("RD-IAM-010", 1.0, 1.0, 0),
    floor("RD-IAM-011", 1.0, 1.0, 0),
    floor("RD-GD-001", 1.0, 1.0, 0),
    floor("RD-GD-002", 1.0, 1.0, 0),
    floor("RD-GD-003", 1.0, 1.0, 0),
    floor("RD-BASE-AGENT", 1.0, 1.0, 0),
    floor("RD-BASE-API", 1.0, 1.0, 0),
    floor("RD-BASE-NETWORK", 1.0, 1.0, 0),
    floor("RD-BASE-REGION", 1.0, 1.0, 0),
];

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/labelled")
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    Fire,
    Attempt,
    Silent,
}

impl Expect {
    /// The label as the files write it.
    fn name(self) -> &'static str {
        match self {
            Expect::Fire => "fire",
            Expect::Attempt => "attempt",
            Expect::Silent => "silent",
        }
    }
}

/// What the rule did with one event: nothing, or an alert reporting a success or a failure.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Raised {
    No,
    Success,
    Failure,
}

struct Labelled {
    line: usize,
    expect: Expect,
    note: String,
    event: Value,
}

struct Set {
    rule: String,
    file: String,
    config: BuiltinConfig,
    signin: SigninConfig,
    learning_days: Option<f64>,
    events: Vec<Labelled>,
}

/// Fields every labelled record carries, as CloudTrail writes them.
const REQUIRED: &[&str] = &[
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "requestParameters",
    "responseElements",
    "eventID",
    "eventType",
    "recipientAccountId",
];

/// Whether the call failed: an error code, a console sign-in that CloudTrail records as a
/// failure without one, or a sign-in step of IAM Identity Center whose
/// `serviceEventDetails.<eventName>` is `Failure` (e.g. a refused `CredentialVerification`).
fn failed(e: &Value) -> bool {
    let name = e["eventName"].as_str().unwrap_or_default();
    e.get("errorCode").is_some()
        || ["ConsoleLogin", "SwitchRole"].iter().any(|k| {
            e.pointer(&format!("/responseElements/{k}"))
                .and_then(Value::as_str)
                == Some("Failure")
        })
        || e.get("serviceEventDetails")
            .and_then(|d| d.get(name))
            .and_then(Value::as_str)
            == Some("Failure")
}

fn strings(v: Option<&Value>, what: &str) -> Result<Vec<String>, String> {
    match v {
        None => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|s| {
                s.as_str()
                    .map(str::to_string)
                    .ok_or(format!("{what}: not a string: {s}"))
            })
            .collect(),
        Some(other) => Err(format!("{what}: not an array of strings: {other}")),
    }
}

/// Reads and checks one labelled file; every problem is one line naming the file and line.
fn read_set(path: &Path) -> Result<Set, String> {
    let file = path.file_name().unwrap().to_string_lossy().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{file}: {e}"))?;
    let mut lines = text.lines().enumerate();
    let (_, head) = lines.next().ok_or(format!("{file}: empty"))?;
    let head: Value =
        serde_json::from_str(head).map_err(|e| format!("{file}:1: header is not JSON: {e}"))?;
    let rule = head["rule"]
        .as_str()
        .ok_or(format!("{file}:1: header has no \"rule\""))?
        .to_string();
    if file != format!("{rule}.jsonl") {
        return Err(format!("{file}: holds rule {rule}: name it {rule}.jsonl"));
    }
    if head["about"].as_str().is_none_or(str::is_empty) {
        return Err(format!("{file}:1: header has no \"about\""));
    }
    let cfg = head.get("config").cloned().unwrap_or(Value::Null);
    let mut config = BuiltinConfig {
        allowed_regions: strings(cfg.get("allowed_regions"), &format!("{file}:1"))?,
        ..BuiltinConfig::default()
    };
    for n in strings(cfg.get("instance_networks"), &format!("{file}:1"))? {
        config
            .instance_networks
            .push(Cidr::parse(&n).map_err(|e| format!("{file}:1: instance_networks {n}: {e}"))?);
    }
    if let Some(b) = cfg.get("uses_sso") {
        config.uses_sso = b
            .as_bool()
            .ok_or(format!("{file}:1: uses_sso is not a boolean"))?;
    }
    // the organization, as `[detect]` or a snapshot gives it to the exposure rules
    if let Some(id) = cfg.get("organization_id") {
        let id = id
            .as_str()
            .ok_or(format!("{file}:1: organization_id is not a string"))?;
        config.organization.id = Some(id.to_string());
    }
    if cfg.get("organization_accounts").is_some() {
        if config.organization.id.is_none() {
            return Err(format!(
                "{file}:1: organization_accounts needs organization_id"
            ));
        }
        let accounts = strings(cfg.get("organization_accounts"), &format!("{file}:1"))?;
        config.organization.accounts = Some(accounts.into_iter().collect());
    }
    // the sign-in thresholds, as `[detect]` names them
    let mut signin = SigninConfig::default();
    let count = |key: &str| -> Result<Option<u64>, String> {
        cfg.get(key)
            .map(|v| {
                v.as_u64()
                    .ok_or(format!("{file}:1: {key} is not a whole number"))
            })
            .transpose()
    };
    if let Some(m) = count("signin_window_minutes")? {
        signin.window_secs = m as i64 * 60;
    }
    if let Some(n) = count("spray_users")? {
        signin.spray_users = n as usize;
    }
    if let Some(n) = count("brute_force_failures")? {
        signin.brute_force_failures = n as usize;
    }
    signin.check().map_err(|e| format!("{file}:1: {e}"))?;
    let learning_days = match head.get("baseline") {
        None => None,
        Some(b) => Some(
            b["learning_days"]
                .as_f64()
                .ok_or(format!("{file}:1: baseline needs \"learning_days\""))?,
        ),
    };
    let mut events = Vec::new();
    let mut last_time = String::new();
    for (i, l) in lines {
        let at = format!("{file}:{}", i + 1);
        let v: Value = serde_json::from_str(l).map_err(|e| format!("{at}: not JSON: {e}"))?;
        let expect = match v["expect"].as_str() {
            Some("fire") => Expect::Fire,
            Some("attempt") => Expect::Attempt,
            Some("silent") => Expect::Silent,
            other => {
                return Err(format!(
                    "{at}: expect is {other:?}, not fire|attempt|silent"
                ));
            }
        };
        let note = v["note"].as_str().unwrap_or_default().to_string();
        if note.is_empty() {
            return Err(format!("{at}: no note says why"));
        }
        let event = v["event"].clone();
        for f in REQUIRED {
            if event.get(f).is_none() {
                return Err(format!("{at}: the event has no {f}"));
            }
        }
        if event.get("errorCode").is_some() && event.get("errorMessage").is_none() {
            return Err(format!("{at}: errorCode without errorMessage"));
        }
        if expect == Expect::Attempt && !failed(&event) {
            return Err(format!("{at}: an attempt must be a failed call"));
        }
        // CIS 4.x keep the benchmark's definition, under which refused calls can fire
        if expect == Expect::Fire && failed(&event) && !rule.starts_with("RD-CIS-") {
            return Err(format!(
                "{at}: a failed call is an attempt, not fire (only CIS 4.x count failures as fire)"
            ));
        }
        let time = event["eventTime"].as_str().unwrap_or_default().to_string();
        if learning_days.is_some() && time < last_time {
            return Err(format!(
                "{at}: baseline events must be in time order (learning first)"
            ));
        }
        last_time = time;
        events.push(Labelled {
            line: i + 1,
            expect,
            note,
            event,
        });
    }
    if events.len() < 5 {
        return Err(format!(
            "{file}: {} labelled events; at least 5 are needed",
            events.len()
        ));
    }
    Ok(Set {
        rule,
        file,
        config,
        signin,
        learning_days,
        events,
    })
}

#[derive(Default)]
struct Score {
    fire: usize,
    attempt: usize,
    silent: usize,
    tp: usize,
    fp: usize,
    fn_: usize,
    /// Successful `fire` events reported as failures.
    success_as_failure: usize,
    attempt_silent: usize,
    attempt_as_attempt: usize,
    attempt_as_success: usize,
    /// One line per event where the engine and the label disagree.
    disagreements: Vec<String>,
}

impl Score {
    fn precision(&self) -> Option<f64> {
        (self.tp + self.fp > 0).then(|| self.tp as f64 / (self.tp + self.fp) as f64)
    }
    fn recall(&self) -> Option<f64> {
        (self.fire > 0).then(|| self.tp as f64 / self.fire as f64)
    }
}

/// What an alert's JSON Lines record reports: `outcome: "failure"` is a failed attempt; a
/// record without `outcome` (alerts written before the field existed) reports a success.
fn outcome_of(record: &Value) -> Raised {
    match record["outcome"].as_str() {
        Some("failure") => Raised::Failure,
        _ => Raised::Success,
    }
}

/// Runs one set through the engine as `rampart detect` does and scores the set's rule.
fn score(set: &Set, catalogue: &[Builtin]) -> Result<Score, String> {
    let rules: Vec<_> = catalogue
        .iter()
        .filter(|b| b.disabled.is_none())
        .map(|b| b.rule.clone())
        .collect();
    let signin_rule = SigninTracker::catalogue()
        .iter()
        .any(|r| r.meta.id == set.rule);
    if set.learning_days.is_none() && !signin_rule && !rules.iter().any(|r| r.meta.id == set.rule) {
        return Err(format!(
            "{}: rule {} is not an active built-in rule under the file's config",
            set.file, set.rule
        ));
    }
    let engine = Engine::new(rules);
    // sign-in tracking on, as `rampart detect` runs with the `[detect]` thresholds
    let mut det = Detector::new(&engine, 0).with_signin(set.signin.clone());
    if let Some(days) = set.learning_days {
        if !Baseline::catalogue().iter().any(|r| r.meta.id == set.rule) {
            return Err(format!("{}: {} is not a baseline rule", set.file, set.rule));
        }
        let cfg = BaselineConfig {
            learning_secs: (days * 86400.0) as i64,
            ..BaselineConfig::default()
        };
        det = det.with_baseline(Baseline::open(Path::new(":memory:"), cfg)?);
    }
    let mut alerts = Vec::new();
    for l in &set.events {
        let raw = serde_json::to_vec(&l.event).expect("serialises");
        let origin = format!("{}:{}", set.file, l.line);
        det.process(&raw, &|| origin.clone(), &mut alerts)
            .map_err(|i| format!("{}:{}: not read as an event: {i}", set.file, l.line))?;
    }
    det.finish(&mut alerts)?;
    // what the set's rule raised, by line, read back from the alert's JSON Lines record
    let mut raised: BTreeMap<usize, Raised> = BTreeMap::new();
    for a in alerts.iter().filter(|a| a.rule_id() == set.rule) {
        let rec: Value = serde_json::from_str(&a.to_json_line()).expect("alert record is JSON");
        let line: usize = rec["origin"]
            .as_str()
            .and_then(|o| o.rsplit(':').next())
            .and_then(|n| n.parse().ok())
            .expect("origin names the line");
        let outcome = outcome_of(&rec);
        let slot = raised.entry(line).or_insert(outcome);
        if outcome == Raised::Success {
            *slot = Raised::Success;
        }
    }
    let mut s = Score::default();
    for l in &set.events {
        let got = raised.get(&l.line).copied().unwrap_or(Raised::No);
        let mut disagree = |how: &str| {
            s.disagreements.push(format!(
                "{}:{} {} {} — labelled {}, {how} ({})",
                set.file,
                l.line,
                l.event["eventSource"].as_str().unwrap_or("?"),
                l.event["eventName"].as_str().unwrap_or("?"),
                l.expect.name(),
                l.note
            ))
        };
        match (l.expect, got) {
            (Expect::Fire, Raised::No) => {
                s.fire += 1;
                s.fn_ += 1;
                disagree("no alert");
            }
            (Expect::Fire, r) => {
                s.fire += 1;
                s.tp += 1;
                if r == Raised::Failure && !failed(&l.event) {
                    s.success_as_failure += 1;
                    disagree("alert reports a failure");
                }
            }
            (Expect::Attempt, Raised::No) => {
                s.attempt += 1;
                s.attempt_silent += 1;
            }
            (Expect::Attempt, Raised::Failure) => {
                s.attempt += 1;
                s.attempt_as_attempt += 1;
            }
            (Expect::Attempt, Raised::Success) => {
                s.attempt += 1;
                s.attempt_as_success += 1;
                disagree("alert reports a success");
            }
            (Expect::Silent, Raised::No) => s.silent += 1,
            (Expect::Silent, _) => {
                s.silent += 1;
                s.fp += 1;
                disagree("alert raised");
            }
        }
    }
    Ok(s)
}

fn pct(v: Option<f64>) -> String {
    v.map_or("–".to_string(), |v| format!("{:.0}%", v * 100.0))
}

/// The Markdown table (and the list of disagreements) written into docs/detect.md.
fn table(scores: &BTreeMap<String, Score>, unmeasured: &[String]) -> String {
    let mut t = String::new();
    t.push_str("| rule | fire / attempt / silent | TP | FP | FN | precision | recall | attempts: silent / as attempt / as success |\n");
    t.push_str("|---|---|---|---|---|---|---|---|\n");
    let (mut tp, mut fp, mut fn_, mut n) = (0, 0, 0, 0);
    for (rule, s) in ordered(scores) {
        let _ = writeln!(
            t,
            "| {rule} | {} / {} / {} | {} | {} | {} | {} | {} | {} / {} / {} |",
            s.fire,
            s.attempt,
            s.silent,
            s.tp,
            s.fp,
            s.fn_,
            pct(s.precision()),
            pct(s.recall()),
            s.attempt_silent,
            s.attempt_as_attempt,
            s.attempt_as_success
        );
        tp += s.tp;
        fp += s.fp;
        fn_ += s.fn_;
        n += s.fire + s.attempt + s.silent;
    }
    let _ = writeln!(
        t,
        "| **all {} rules, {n} events** | | {tp} | {fp} | {fn_} | {} | {} | |",
        scores.len(),
        pct(Some(tp as f64 / (tp + fp).max(1) as f64)),
        pct(Some(tp as f64 / (tp + fn_).max(1) as f64)),
    );
    if !unmeasured.is_empty() {
        let _ = writeln!(
            t,
            "\nNo labelled set yet (not measured): {}.",
            unmeasured.join(", ")
        );
    }
    let all: Vec<&String> = ordered(scores)
        .flat_map(|(_, s)| &s.disagreements)
        .collect();
    if !all.is_empty() {
        let _ = writeln!(
            t,
            "\nWhere the engine disagrees with a label ({}):\n",
            all.len()
        );
        for d in all {
            let _ = writeln!(t, "- {d}");
        }
    }
    t
}

/// Rules in catalogue order: CIS, tampering, identity, GuardDuty-like, baselines; by number
/// within a family.
fn ordered(scores: &BTreeMap<String, Score>) -> impl Iterator<Item = (&String, &Score)> {
    let family = |r: &str| {
        ["RD-CIS-", "RD-TAMPER-", "RD-IAM-", "RD-GD-", "RD-BASE-"]
            .iter()
            .position(|p| r.starts_with(p))
            .unwrap_or(9)
    };
    let number = |r: &str| -> Vec<u32> {
        r.rsplit('-')
            .next()
            .unwrap_or("")
            .split('.')
            .filter_map(|n| n.parse().ok())
            .collect()
    };
    let mut v: Vec<_> = scores.iter().collect();
    v.sort_by_key(|(r, _)| (family(r), number(r), r.to_string()));
    v.into_iter()
}

const BEGIN: &str = "<!-- labelled-table:begin (RAMPART_UPDATE_DOCS=1 cargo test -p rampart-detect --test labelled) -->";
const END: &str = "<!-- labelled-table:end -->";

fn update_docs(table: &str) -> Result<(), String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/detect.md");
    let doc = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) else {
        return Err(format!(
            "{}: the markers {BEGIN} and {END} are missing",
            path.display()
        ));
    };
    let out = format!("{}{BEGIN}\n\n{table}\n{}", &doc[..b], &doc[e..]);
    std::fs::write(&path, out).map_err(|e| format!("{}: {e}", path.display()))
}

#[test]
fn labelled_events_precision_and_recall() {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("tests/labelled exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    paths.sort();
    let mut problems = Vec::new();
    let mut scores = BTreeMap::new();
    let mut ids = HashSet::new();
    for p in &paths {
        let set = match read_set(p) {
            Ok(s) => s,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        for l in &set.events {
            let id = l.event["eventID"].as_str().unwrap_or_default().to_string();
            if !ids.insert(id.clone()) {
                problems.push(format!("{}:{}: eventID {id} used twice", set.file, l.line));
            }
        }
        let catalogue = builtin(&set.config);
        match score(&set, &catalogue) {
            Ok(s) => {
                scores.insert(set.rule.clone(), s);
            }
            Err(e) => problems.push(e),
        }
    }
    assert!(problems.is_empty(), "labelled sets: {problems:#?}");

    let mut catalogue: Vec<String> = builtin(&BuiltinConfig::default())
        .iter()
        .map(|b| b.rule.meta.id.clone())
        .collect();
    catalogue.extend(Baseline::catalogue().iter().map(|r| r.meta.id.clone()));
    let unmeasured: Vec<String> = catalogue
        .into_iter()
        .filter(|r| !scores.contains_key(r))
        .collect();
    let t = table(&scores, &unmeasured);
    println!("{t}");
    if std::env::var_os("RAMPART_UPDATE_DOCS").is_some() {
        update_docs(&t).unwrap();
    }

    let mut below = Vec::new();
    for f in FLOORS {
        let Some(s) = scores.get(f.rule) else {
            below.push(format!("{}: has a floor but no labelled set", f.rule));
            continue;
        };
        let p = s.precision().unwrap_or(1.0);
        let r = s.recall().unwrap_or(1.0);
        if p + 1e-9 < f.precision {
            below.push(format!(
                "{}: precision {p:.3} < floor {}",
                f.rule, f.precision
            ));
        }
        if r + 1e-9 < f.recall {
            below.push(format!("{}: recall {r:.3} < floor {}", f.rule, f.recall));
        }
        if s.attempt_as_success > f.attempts_as_success {
            below.push(format!(
                "{}: {} attempts reported as successes > {}",
                f.rule, s.attempt_as_success, f.attempts_as_success
            ));
        }
        if s.success_as_failure > 0 {
            below.push(format!(
                "{}: {} successful calls reported as failures",
                f.rule, s.success_as_failure
            ));
        }
    }
    for rule in scores.keys() {
        if !FLOORS.iter().any(|f| f.rule == rule) {
            below.push(format!(
                "{rule}: labelled set without a floor in FLOORS (tests/labelled.rs)"
            ));
        }
    }
    assert!(below.is_empty(), "{below:#?}");
}

/// The checks of [`read_set`] and the counting of [`score`], on sets built from a real one.
mod harness {
    use super::*;

    /// The lines of `RD-TAMPER-001.jsonl`: header, two fires, two attempts, four silents.
    fn tamper_lines() -> Vec<String> {
        std::fs::read_to_string(dir().join("RD-TAMPER-001.jsonl"))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn write(lines: &[String]) -> (tempfile::TempDir, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("RD-TAMPER-001.jsonl");
        std::fs::write(&p, lines.join("\n")).unwrap();
        (d, p)
    }

    /// Line `n` (1-based) with its label replaced.
    fn relabel(lines: &mut [String], n: usize, from: &str, to: &str) {
        let old = format!("\"expect\": \"{from}\"");
        assert!(lines[n - 1].contains(&old), "line {n} is not {from}");
        lines[n - 1] = lines[n - 1].replace(&old, &format!("\"expect\": \"{to}\""));
    }

    fn problem(lines: &[String]) -> String {
        let (_d, p) = write(lines);
        match read_set(&p) {
            Ok(_) => panic!("read without a problem"),
            Err(e) => e,
        }
    }

    #[test]
    fn bad_sets_are_refused_with_the_line() {
        let mut l = tamper_lines();
        relabel(&mut l, 2, "fire", "maybe");
        assert!(
            problem(&l).contains("RD-TAMPER-001.jsonl:2: expect is"),
            "{}",
            problem(&l)
        );

        let mut l = tamper_lines();
        relabel(&mut l, 2, "fire", "attempt");
        assert!(problem(&l).contains(":2: an attempt must be a failed call"));

        let mut l = tamper_lines();
        relabel(&mut l, 4, "attempt", "fire");
        assert!(problem(&l).contains(":4: a failed call is an attempt"));

        let mut l = tamper_lines();
        l[2] = l[2].replace("\"userAgent\"", "\"agent\"");
        assert!(problem(&l).contains(":3: the event has no userAgent"));

        let l = tamper_lines()[..5].to_vec();
        assert!(problem(&l).contains("4 labelled events; at least 5"));

        let mut l = tamper_lines();
        l[0] = l[0].replace("RD-TAMPER-001", "RD-TAMPER-002");
        assert!(problem(&l).contains("name it RD-TAMPER-002.jsonl"));
    }

    /// `tamper_lines` with its header's `config` replaced.
    fn with_config(config: &str) -> Vec<String> {
        let mut l = tamper_lines();
        let mut head: Value = serde_json::from_str(&l[0]).unwrap();
        head["config"] = serde_json::from_str(config).unwrap();
        l[0] = head.to_string();
        l
    }

    #[test]
    fn organization_and_signin_settings_are_read_and_checked() {
        let (_d, p) = write(&with_config(
            r#"{"organization_id": "o-a1b2c3d4e5", "organization_accounts": ["111122223333"],
                "signin_window_minutes": 10, "spray_users": 4, "brute_force_failures": 3}"#,
        ));
        let set = read_set(&p).unwrap();
        assert_eq!(set.config.organization.id.as_deref(), Some("o-a1b2c3d4e5"));
        assert_eq!(
            set.config.organization.accounts,
            Some(["111122223333".to_string()].into_iter().collect())
        );
        assert_eq!(
            (
                set.signin.window_secs,
                set.signin.spray_users,
                set.signin.brute_force_failures
            ),
            (600, 4, 3)
        );
        // the account list is what switches RD-EXP-014 off
        let active = |set: &Set| {
            builtin(&set.config)
                .iter()
                .any(|b| b.rule.meta.id == "RD-EXP-014" && b.disabled.is_none())
        };
        assert!(!active(&set));
        let (_d, p) = write(&with_config(r#"{"organization_id": "o-a1b2c3d4e5"}"#));
        assert!(active(&read_set(&p).unwrap()));

        let l = with_config(r#"{"organization_accounts": ["111122223333"]}"#);
        assert!(problem(&l).contains(":1: organization_accounts needs organization_id"));
        let l = with_config(r#"{"spray_users": 1}"#);
        assert!(problem(&l).contains(":1: spray_users must be at least 2"));
        let l = with_config(r#"{"brute_force_failures": "ten"}"#);
        assert!(problem(&l).contains(":1: brute_force_failures is not a whole number"));
    }

    #[test]
    fn scores_count_each_kind_of_disagreement() {
        let catalogue = builtin(&BuiltinConfig::default());
        let (_d, p) = write(&tamper_lines());
        let s = score(&read_set(&p).unwrap(), &catalogue).unwrap();
        assert_eq!((s.fire, s.attempt, s.silent), (2, 2, 4));
        assert_eq!((s.tp, s.fp, s.fn_), (2, 0, 0));

        // a fire event relabelled silent is a false positive; a silent one relabelled fire
        // (StartLogging) is a false negative
        let mut l = tamper_lines();
        relabel(&mut l, 2, "fire", "silent");
        relabel(&mut l, 6, "silent", "fire");
        let (_d, p) = write(&l);
        let s = score(&read_set(&p).unwrap(), &catalogue).unwrap();
        assert_eq!((s.tp, s.fp, s.fn_), (1, 1, 1));
        assert_eq!(s.precision(), Some(0.5));
        assert_eq!(s.recall(), Some(0.5));
        assert_eq!(s.disagreements.len(), 2 + s.attempt_as_success);
        assert!(s.disagreements[0].contains("RD-TAMPER-001.jsonl:2 cloudtrail.amazonaws.com StopLogging — labelled silent, alert raised"), "{:?}", s.disagreements);
        assert_eq!(
            s.attempt_silent + s.attempt_as_attempt + s.attempt_as_success,
            2
        );
    }

    #[test]
    fn failed_sign_ins_are_failed_calls() {
        let step = |outcome: &str| {
            serde_json::json!({"eventName": "CredentialVerification",
                "serviceEventDetails": {"CredentialVerification": outcome}})
        };
        assert!(failed(&step("Failure")));
        assert!(!failed(&step("Success")));
        assert!(failed(
            &serde_json::json!({"eventName": "ConsoleLogin", "responseElements": {"ConsoleLogin": "Failure"}})
        ));
        assert!(failed(
            &serde_json::json!({"eventName": "PutKeyPolicy", "errorCode": "AccessDenied"})
        ));
        assert!(!failed(
            &serde_json::json!({"eventName": "ConsoleLogin", "responseElements": {"ConsoleLogin": "Success"}})
        ));
    }

    #[test]
    fn outcome_is_read_from_the_record() {
        assert_eq!(
            outcome_of(&serde_json::json!({"rule_id": "x"})),
            Raised::Success
        );
        assert_eq!(
            outcome_of(&serde_json::json!({"outcome": "success"})),
            Raised::Success
        );
        assert_eq!(
            outcome_of(&serde_json::json!({"outcome": "failure"})),
            Raised::Failure
        );
    }

    #[test]
    fn the_docs_table_lies_between_its_markers() {
        let doc = std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/detect.md"),
        )
        .unwrap();
        let (b, e) = (doc.find(BEGIN).unwrap(), doc.find(END).unwrap());
        assert!(b < e && doc[b..e].contains("| RD-TAMPER-001 |"));
    }
}
