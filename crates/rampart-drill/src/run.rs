//! Running a drill: remove leftovers, make the scenario's calls, wait for the expected alert in
//! the event feed, deliver it, and always remove the canaries. Every outcome is data in
//! [`DrillResult`]; nothing here stops early without cleaning up.

use crate::scenario::{Canary, Plan, Scenario, substitute};
use rampart_detect::{Alert, Detector, Engine, Rule};
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// The sandbox account the scenario acts in (the AWS implementation is in `rampart-aws`).
pub trait Sandbox {
    fn account(&self) -> &str;
    /// Makes one call; on success, its request id and the outputs later steps may use
    /// (`accessKeyId`).
    fn call(
        &mut self,
        event_source: &str,
        event_name: &str,
        params: &Value,
    ) -> Result<Response, String>;
    /// Removes a canary and everything in it; one that is already gone is removed.
    fn remove(&mut self, canary: &Canary) -> Result<(), String>;
    /// Canaries (named `rampart-drill-…`) still present, from this or an interrupted drill.
    fn leftovers(&mut self) -> Result<Vec<Canary>, String>;
}

/// What a successful call returned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Response {
    pub request_id: Option<String>,
    pub outputs: Vec<(String, String)>,
}

/// Where CloudTrail records appear: the organization trail's bucket on AWS, a directory
/// written by a test harness on the emulator.
pub trait EventFeed {
    /// A name safe to print.
    fn name(&self) -> String;
    /// Records that appeared since the last poll (each one CloudTrail record's JSON).
    fn poll(&mut self) -> Result<Vec<Vec<u8>>, String>;
}

/// Where the alert goes (the configured sinks).
pub trait Deliver {
    /// Delivers to every sink; an error names the sinks that failed.
    fn deliver(&mut self, alert: &Alert) -> Result<(), String>;
}

/// Wall time, replaceable in tests.
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
    fn sleep(&self, d: Duration);
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d)
    }
}

/// How long to wait for the event and how often to look.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub timeout: Duration,
    pub poll: Duration,
}

/// One stage's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "detail", rename_all = "lowercase")]
pub enum Check {
    Pass,
    Fail(String),
    /// Not attempted because an earlier stage failed (why).
    Skipped(String),
}

impl Check {
    pub fn passed(&self) -> bool {
        matches!(self, Check::Pass)
    }
    pub fn label(&self) -> &'static str {
        match self {
            Check::Pass => "pass",
            Check::Fail(_) => "FAIL",
            Check::Skipped(_) => "skipped",
        }
    }
    pub fn detail(&self) -> Option<&str> {
        match self {
            Check::Pass => None,
            Check::Fail(d) | Check::Skipped(d) => Some(d),
        }
    }
}

/// One call the drill made: the drill's own log (what it did, when, and AWS's request id).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Call {
    pub event_source: String,
    pub event_name: String,
    pub params: Value,
    /// Milliseconds since the epoch, just before the call.
    pub at_ms: i64,
    pub request_id: Option<String>,
    pub error: Option<String>,
}

/// Everything a drill found out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrillResult {
    pub scenario: Scenario,
    pub account: String,
    pub run_id: String,
    pub expected_rule: String,
    pub started_ms: i64,
    pub finished_ms: i64,
    /// When the trigger call was made.
    pub action_ms: Option<i64>,
    /// When the feed first showed an event the expected rule raised an alert on.
    pub detected_ms: Option<i64>,
    /// When every sink had the alert.
    pub alerted_ms: Option<i64>,
    pub alert_id: Option<String>,
    pub acted: Check,
    pub detected: Check,
    pub alerted: Check,
    pub cleaned: Check,
    /// Canaries of earlier, interrupted drills removed first.
    pub leftovers_removed: Vec<Canary>,
    pub calls: Vec<Call>,
}

impl DrillResult {
    /// Acted, detected, alerted and cleaned up.
    pub fn passed(&self) -> bool {
        self.acted.passed()
            && self.detected.passed()
            && self.alerted.passed()
            && self.cleaned.passed()
    }
    pub fn time_to_detect(&self) -> Option<Duration> {
        since(self.action_ms, self.detected_ms)
    }
    pub fn time_to_alert(&self) -> Option<Duration> {
        since(self.action_ms, self.alerted_ms)
    }
}

fn since(from: Option<i64>, to: Option<i64>) -> Option<Duration> {
    Some(Duration::from_millis((to? - from?).max(0) as u64))
}

/// The pieces a drill runs with.
pub struct Drill<'a> {
    pub sandbox: &'a mut dyn Sandbox,
    pub feed: &'a mut dyn EventFeed,
    pub deliver: &'a mut dyn Deliver,
    pub clock: &'a dyn Clock,
    /// The expected rule, compiled (the caller loads it from the built-in catalogue).
    pub rule: Rule,
    pub timing: Timing,
    /// Told about each call as it is made (`--call-log`).
    pub on_call: &'a mut dyn FnMut(&Call),
}

impl Drill<'_> {
    /// Runs `scenario` as run `run_id`. Leftovers are removed first; the canaries are removed
    /// at the end whatever happened before.
    pub fn run(&mut self, scenario: Scenario, run_id: &str) -> DrillResult {
        let plan = scenario.plan(run_id);
        let mut r = DrillResult {
            scenario,
            account: self.sandbox.account().to_string(),
            run_id: run_id.to_string(),
            expected_rule: scenario.expected_rule().to_string(),
            started_ms: self.clock.now_ms(),
            finished_ms: 0,
            action_ms: None,
            detected_ms: None,
            alerted_ms: None,
            alert_id: None,
            acted: Check::Skipped("not started".into()),
            detected: Check::Skipped("the scenario's calls did not complete".into()),
            alerted: Check::Skipped("nothing was detected".into()),
            cleaned: Check::Pass,
            leftovers_removed: Vec::new(),
            calls: Vec::new(),
        };
        let mut cleanup_errors = Vec::new();
        match remove_leftovers(self.sandbox) {
            Ok(removed) => r.leftovers_removed = removed,
            Err(errors) => cleanup_errors.extend(errors),
        }
        r.acted = self.act(&plan, &mut r);
        if r.acted.passed() {
            self.verify(&plan, &mut r);
        }
        for c in &plan.canaries {
            if let Err(e) = self.sandbox.remove(c) {
                cleanup_errors.push(format!("{c}: {e}"));
            }
        }
        if !cleanup_errors.is_empty() {
            r.cleaned = Check::Fail(format!(
                "{}; remove it with `rampart drill cleanup --account {}`",
                cleanup_errors.join("; "),
                r.account
            ));
        }
        r.finished_ms = self.clock.now_ms();
        r
    }

    /// The scenario's calls in order; the first failure ends them.
    fn act(&mut self, plan: &Plan, r: &mut DrillResult) -> Check {
        let mut vars = vec![("account".to_string(), r.account.clone())];
        for step in &plan.steps {
            let params = match substitute(&step.params, &vars) {
                Ok(p) => p,
                Err(e) => return Check::Fail(format!("{}: {e}", step.event_name)),
            };
            let at_ms = self.clock.now_ms();
            let out = self
                .sandbox
                .call(step.event_source, step.event_name, &params);
            let call = Call {
                event_source: step.event_source.to_string(),
                event_name: step.event_name.to_string(),
                params,
                at_ms,
                request_id: out.as_ref().ok().and_then(|o| o.request_id.clone()),
                error: out.as_ref().err().cloned(),
            };
            (self.on_call)(&call);
            r.calls.push(call);
            match out {
                Ok(resp) => {
                    if step.trigger {
                        r.action_ms = Some(at_ms);
                    }
                    vars.extend(resp.outputs);
                }
                Err(e) => return Check::Fail(format!("{}: {e}", step.event_name)),
            }
        }
        Check::Pass
    }

    /// Polls the feed until the expected rule raises an alert on an event of this run, then
    /// delivers that alert.
    fn verify(&mut self, plan: &Plan, r: &mut DrillResult) {
        let engine = Engine::new(vec![self.rule.clone()]);
        let mut det = Detector::new(&engine, 0);
        let deadline = self.clock.now_ms() + self.timing.timeout.as_millis() as i64;
        let mut last_error = None;
        let found = loop {
            match self.feed.poll() {
                Ok(records) => {
                    if let Some(a) = first_alert(&mut det, &records, &plan.marker) {
                        break Some(a);
                    }
                }
                Err(e) => last_error = Some(e),
            }
            if self.clock.now_ms() >= deadline {
                break None;
            }
            self.clock.sleep(self.timing.poll);
        };
        let Some(alert) = found else {
            let why = last_error.map(|e| format!(" (last read error: {e})"));
            r.detected = Check::Fail(format!(
                "no {} alert for {} in {} within {} s{}",
                r.expected_rule,
                plan.marker,
                self.feed.name(),
                self.timing.timeout.as_secs(),
                why.unwrap_or_default()
            ));
            return;
        };
        r.detected_ms = Some(self.clock.now_ms());
        r.detected = Check::Pass;
        r.alert_id = Some(alert.id());
        r.alerted = match self.deliver.deliver(&alert) {
            Ok(()) => {
                r.alerted_ms = Some(self.clock.now_ms());
                Check::Pass
            }
            Err(e) => Check::Fail(e),
        };
    }
}

/// The first alert the detector raises on a record that names this run's canary. Records of
/// other principals and resources are not looked at: the trail holds the whole organization.
fn first_alert(det: &mut Detector<'_>, records: &[Vec<u8>], marker: &str) -> Option<Alert> {
    let mut out = Vec::new();
    for raw in records {
        if !contains(raw, marker.as_bytes()) {
            continue;
        }
        // a record the detector cannot read is not the drill's evidence; keep looking
        let _ = det.process(raw, &String::new, &mut out);
        det.flush(&mut out);
        if let Some(a) = out.drain(..).next() {
            return Some(a);
        }
    }
    None
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Removes every canary left by earlier drills; the errors name each canary that stayed.
pub fn remove_leftovers(sandbox: &mut dyn Sandbox) -> Result<Vec<Canary>, Vec<String>> {
    let mut found = sandbox
        .leftovers()
        .map_err(|e| vec![format!("listing leftover canaries: {e}")])?;
    found.sort();
    let mut removed = Vec::new();
    let mut errors = Vec::new();
    for c in found {
        match sandbox.remove(&c) {
            Ok(()) => removed.push(c),
            Err(e) => errors.push(format!("{c}: {e}")),
        }
    }
    if errors.is_empty() {
        Ok(removed)
    } else {
        Err(errors)
    }
}
