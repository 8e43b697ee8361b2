//! The detection pipeline for one stream of records: time window, rule engine, baselines and
//! aggregation, with the counts `rampart detect` prints.

use crate::alert::{Aggregator, Alert, GroupKey, outcome_of, parse_time};
use crate::baseline::Baseline;
use crate::engine::{Engine, EvalStats, ValueMemo};
use crate::event::{Event, EventError};
use crate::input::{Issue, Parsed};
use crate::parallel::FileDone;
use crate::signin::{Attempt, SigninConfig, SigninTracker, attempt_of, maybe_attempt};
use smallvec::SmallVec;

/// Counters of a detection run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DetectStats {
    /// Records that parsed as events and were inside the time window.
    pub events: u64,
    /// Records that could not be evaluated (bad JSON inside a record).
    pub skipped: u64,
    /// Events outside `--since/--until`.
    pub out_of_window: u64,
    /// Events that raised at least one alert.
    pub alerted_events: u64,
    /// Alerts raised before aggregation.
    pub alerts: u64,
    /// Matches on failed calls that raised nothing: the rule's policy keeps failures of its
    /// calls silent (routine refusals).
    pub silenced: u64,
    pub eval: EvalStats,
}

impl std::ops::AddAssign for DetectStats {
    fn add_assign(&mut self, o: DetectStats) {
        self.events += o.events;
        self.skipped += o.skipped;
        self.out_of_window += o.out_of_window;
        self.alerted_events += o.alerted_events;
        self.alerts += o.alerts;
        self.silenced += o.silenced;
        self.eval += o.eval;
    }
}

/// Runs rules (and optionally baselines) over events.
pub struct Detector<'e> {
    engine: &'e Engine,
    baseline: Option<Baseline>,
    agg: Aggregator,
    since: Option<i64>,
    until: Option<i64>,
    /// Alerts of the event being processed (kept between events so its buffer is reused).
    fresh: Vec<Alert>,
    /// Answers of one-field rules per value seen (see [`ValueMemo`]).
    memo: ValueMemo,
    /// (event, rule) matches of the run of events being processed (buffer reused).
    hits: Vec<(u32, u32)>,
    /// Per event of that run, whether it is inside the time window (buffer reused).
    admitted: Vec<bool>,
    /// Where an alert's matched object is written before it is copied (buffer reused).
    scratch: String,
    signin: Signin,
    pub stats: DetectStats,
}

/// What a detector does with sign-in attempts (see [`crate::signin`]).
enum Signin {
    Off,
    /// Counts them (the detector that emits alerts).
    Track(Box<SigninTracker>),
    /// Records them with the number of alerts raised before each, for a tracker on another
    /// thread (a worker of [`crate::parallel::detect_files`]).
    Collect(Box<crate::ir::Rule>, Vec<(usize, Attempt)>),
}

impl<'e> Detector<'e> {
    pub fn new(engine: &'e Engine, aggregate_secs: u64) -> Detector<'e> {
        Detector {
            engine,
            baseline: None,
            agg: Aggregator::new(aggregate_secs, 10_000),
            since: None,
            until: None,
            fresh: Vec::new(),
            memo: ValueMemo::default(),
            hits: Vec::new(),
            admitted: Vec::new(),
            scratch: String::new(),
            signin: Signin::Off,
            stats: DetectStats::default(),
        }
    }

    /// Detect password spraying and brute force against sign-in ([`crate::signin`]).
    pub fn with_signin(mut self, cfg: SigninConfig) -> Self {
        self.signin = Signin::Track(Box::new(SigninTracker::new(cfg)));
        self
    }

    /// Record sign-in attempts for [`Detector::absorb`] on another detector (a worker's).
    pub(crate) fn collect_signin(mut self) -> Self {
        let [rule, _] = SigninTracker::catalogue();
        self.signin = Signin::Collect(Box::new(rule), Vec::new());
        self
    }

    /// The attempts recorded since the last call (see [`Detector::collect_signin`]).
    pub(crate) fn take_attempts(&mut self) -> Vec<(usize, Attempt)> {
        match &mut self.signin {
            Signin::Collect(_, v) => std::mem::take(v),
            _ => Vec::new(),
        }
    }

    /// Counts one attempt into the tracker, if this detector has one.
    fn observe_attempt(&mut self, a: Attempt, out: &mut Vec<Alert>) {
        if let Signin::Track(t) = &mut self.signin {
            let before = out.len();
            t.observe(a, out);
            self.stats.alerts += (out.len() - before) as u64;
        }
    }

    /// Only evaluate events with `since <= eventTime <= until` (epoch seconds).
    pub fn window(mut self, since: Option<i64>, until: Option<i64>) -> Self {
        self.since = since;
        self.until = until;
        self
    }

    /// The `--since/--until` bounds this detector admits events within.
    pub fn time_window(&self) -> (Option<i64>, Option<i64>) {
        (self.since, self.until)
    }

    /// At most `max` aggregation groups open at once (10,000 by default); see [`Aggregator`].
    pub fn open_groups(mut self, max: usize) -> Self {
        self.agg = Aggregator::new(self.agg.window_secs(), max);
        self
    }

    /// Aggregate for a live stream (`--follow`): see [`Aggregator::streaming`]; call
    /// [`Detector::expire`] now and then.
    pub fn streaming(mut self) -> Self {
        self.agg = std::mem::replace(&mut self.agg, Aggregator::new(0, 1)).streaming();
        self
    }

    /// Emits the groups of a streaming detector whose window has passed (wall-clock time).
    /// Sign-in bursts quiet for a window of wall-clock time are emitted too.
    pub fn expire(&mut self, out: &mut Vec<Alert>) {
        self.agg.expire(std::time::Instant::now(), out);
        if let Signin::Track(t) = &mut self.signin {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64);
            let before = out.len();
            t.expire(now, out);
            self.stats.alerts += (out.len() - before) as u64;
        }
    }

    pub fn with_baseline(mut self, b: Baseline) -> Self {
        self.baseline = Some(b);
        self
    }

    /// Evaluate one raw record. Completed (aggregated) alerts are appended to `out`.
    pub fn process(
        &mut self,
        raw: &[u8],
        origin: &dyn Fn() -> String,
        out: &mut Vec<Alert>,
    ) -> Result<(), Issue> {
        match Event::parse(raw) {
            Ok(ev) => self.process_event(Ok(&ev), origin, out),
            Err(e) => self.process_event(Err(e), origin, out),
        }
    }

    /// Evaluate one event the reader already parsed (see `Reader::read_file_events`); a record
    /// that is not an event is counted as skipped and returned as an issue.
    pub fn process_event(
        &mut self,
        ev: Result<&Event<'_>, EventError>,
        origin: &dyn Fn() -> String,
        out: &mut Vec<Alert>,
    ) -> Result<(), Issue> {
        let ev = match ev {
            Ok(e) => e,
            Err(e) => {
                self.stats.skipped += 1;
                return Err(Issue {
                    location: origin(),
                    message: e.to_string(),
                });
            }
        };
        if !self.admit(ev) {
            return Ok(());
        }
        let mut hits: SmallVec<[u32; 4]> = SmallVec::new();
        self.engine
            .evaluate_with(ev, Some(&mut self.memo), &mut self.stats.eval, |i| {
                hits.push(i as u32)
            });
        self.raise(ev, &hits, origin, out);
        Ok(())
    }

    /// What the reader handed over (see `Reader::read_file_batches`): events are evaluated as
    /// a run ([`Detector::process_events`]); a record that is not an event is counted as
    /// skipped and returned as an issue. `origin` names a record by its number.
    pub fn process_parsed(
        &mut self,
        parsed: Parsed<'_, '_>,
        origin: &dyn Fn(usize) -> String,
        out: &mut Vec<Alert>,
    ) -> Result<(), Issue> {
        match parsed {
            Parsed::Events(events, numbers) => {
                self.process_events(events, numbers, origin, out);
                Ok(())
            }
            Parsed::NotAnEvent(e, n) => self.process_event(Err(e), &|| origin(n), out),
        }
    }

    /// Evaluate a run of events: first every rule over every event, then the alerts (and
    /// baselines) event by event, in order. The result is that of [`Detector::process_event`]
    /// on each event in turn; doing each stage for the whole run keeps its code hot (the rule
    /// engine and the alert path together are larger than the instruction cache).
    /// `numbers[k]` is the record number of `events[k]`, passed to `origin` for an alert's
    /// origin.
    pub fn process_events(
        &mut self,
        events: &[Event<'_>],
        numbers: &[usize],
        origin: &dyn Fn(usize) -> String,
        out: &mut Vec<Alert>,
    ) {
        // (event, rule) pairs in event order; events outside the time window are left out
        let mut hits = std::mem::take(&mut self.hits);
        let mut admitted = std::mem::take(&mut self.admitted);
        hits.clear();
        admitted.clear();
        for (k, ev) in events.iter().enumerate() {
            let inside = self.admit(ev);
            admitted.push(inside);
            if inside {
                self.engine
                    .evaluate_with(ev, Some(&mut self.memo), &mut self.stats.eval, |i| {
                        hits.push((k as u32, i as u32))
                    });
            }
        }
        let mut rules: SmallVec<[u32; 4]> = SmallVec::new();
        let mut next = 0;
        for (k, ev) in events.iter().enumerate() {
            rules.clear();
            while let Some(&(e, i)) = hits.get(next)
                && e as usize == k
            {
                rules.push(i);
                next += 1;
            }
            let signin = !matches!(self.signin, Signin::Off) && maybe_attempt(ev);
            if admitted[k] && (!rules.is_empty() || self.baseline.is_some() || signin) {
                let n = numbers.get(k).copied().unwrap_or(0);
                self.raise(ev, &rules, &|| origin(n), out);
            }
        }
        self.hits = hits;
        self.admitted = admitted;
    }

    /// Whether `ev` is inside `--since/--until` (counted either way).
    fn admit(&mut self, ev: &Event<'_>) -> bool {
        if self.since.is_some() || self.until.is_some() {
            let t = ev.header().event_time.as_deref().and_then(parse_time);
            let outside = match t {
                Some(t) => self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t > u),
                None => true,
            };
            if outside {
                self.stats.out_of_window += 1;
                return false;
            }
        }
        self.stats.events += 1;
        true
    }

    /// The alerts of `ev` for the rules (indexes) it matched, and its baseline observations:
    /// aggregated into open groups, completed ones appended to `out`.
    fn raise(
        &mut self,
        ev: &Event<'_>,
        hits: &[u32],
        origin: &dyn Fn() -> String,
        out: &mut Vec<Alert>,
    ) {
        let mut fresh = std::mem::take(&mut self.fresh);
        // An alert that would only raise the count of an open group is not built: its group
        // key is read from the raw bytes.
        let group = if hits.is_empty() {
            None
        } else {
            crate::alert::group_of_raw(ev)
        };
        let (mut merged, mut built) = (0u64, 0u64);
        let h = ev.header();
        let event_time = h.event_time.as_deref();
        let outcome = if hits.is_empty() {
            Default::default()
        } else {
            outcome_of(ev)
        };
        let t = event_time
            .filter(|_| group.is_some())
            .and_then(parse_time)
            .unwrap_or(0);
        // Each alert goes into the aggregation before the next rule's is looked up, exactly as
        // pushing every alert in turn would (an alert can evict the group the next would join).
        for &i in hits {
            let i = i as usize;
            let rule = &self.engine.rules()[i];
            let Some(text) = self.engine.rule_text(i).for_outcome(outcome) else {
                self.stats.silenced += 1;
                continue;
            };
            if let Some((principal, resource)) = &group
                && self.agg.merge_at(
                    GroupKey {
                        rule_id: &rule.meta.id,
                        outcome,
                        event_name: h.event_name.as_deref(),
                        principal: principal.as_deref(),
                        resource: resource.as_deref(),
                    },
                    h.event_id.as_deref(),
                    event_time,
                    t,
                )
            {
                merged += 1;
                continue;
            }
            let alert = Alert::build(
                rule,
                text,
                ev,
                Some(origin()),
                group.as_ref(),
                outcome,
                &mut self.scratch,
            );
            self.agg.push(alert, out);
            built += 1;
        }
        if let Some(b) = &mut self.baseline {
            b.observe(ev, Some(origin), &mut fresh);
        }
        let raised = built + merged + fresh.len() as u64;
        if raised > 0 {
            self.stats.alerted_events += 1;
            self.stats.alerts += raised;
        }
        for a in fresh.drain(..) {
            self.agg.push(a, out);
        }
        self.fresh = fresh;
        if !matches!(self.signin, Signin::Off) && maybe_attempt(ev) {
            match &mut self.signin {
                Signin::Track(t) => {
                    if let Some(a) = attempt_of(ev, t.attempt_rule(), Some(origin)) {
                        self.observe_attempt(a, out);
                    }
                }
                Signin::Collect(rule, v) => {
                    if let Some(a) = attempt_of(ev, rule, Some(origin)) {
                        v.push((out.len(), a));
                    }
                }
                Signin::Off => {}
            }
        }
    }

    /// Takes in what a worker of [`crate::parallel::detect_files`] raised for one file, as if
    /// this detector had read the file itself: its counts are added and its alerts go through
    /// this detector's aggregation, in order (completed alerts are appended to `out`). The
    /// worker evaluated the file without this detector's baseline, so a detector with a
    /// baseline should read its files itself.
    ///
    /// The worker recorded the file's sign-in attempts with the number of alerts raised before
    /// each; they are counted between those alerts, as this detector would have counted them.
    pub fn absorb(&mut self, done: &mut FileDone, out: &mut Vec<Alert>) {
        self.stats += done.stats;
        let mut attempts = std::mem::take(&mut done.attempts).into_iter().peekable();
        for (k, a) in done.alerts.drain(..).enumerate() {
            while let Some((_, at)) = attempts.next_if(|(before, _)| *before <= k) {
                self.observe_attempt(at, out);
            }
            self.agg.push(a, out);
        }
        for (_, at) in attempts {
            self.observe_attempt(at, out);
        }
    }

    /// Whether this detector keeps a baseline (see [`Detector::absorb`]).
    pub fn has_baseline(&self) -> bool {
        self.baseline.is_some()
    }

    /// Emit every pending aggregated alert and sign-in burst, and save the baseline.
    pub fn finish(&mut self, out: &mut Vec<Alert>) -> Result<(), String> {
        if let Signin::Track(t) = &mut self.signin {
            let before = out.len();
            t.finish(out);
            self.stats.alerts += (out.len() - before) as u64;
        }
        self.agg.flush(out);
        match &mut self.baseline {
            Some(b) => b.save(),
            None => Ok(()),
        }
    }

    /// Emit aggregated alerts older than nothing (used by `--follow` between polls).
    pub fn flush(&mut self, out: &mut Vec<Alert>) {
        self.agg.flush(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{ATTEMPT_PREFIX, Outcome, Severity};
    use crate::rules::{BuiltinConfig, builtin, ev, failed_twin};
    use serde_json::json;

    /// Through the detector (the `merge_at` fast path included), with the built-in rules: a
    /// trail stopped three times, a refused stop, a deletion and a refused user creation give
    /// the stops (three event ids), the attempt one severity lower, the deletion on its own,
    /// and nothing for the user (a routine refusal, counted as silenced) but CIS 4.1's
    /// unauthorized-call alerts, which report their failure as CIS defines them.
    #[test]
    fn attempts_and_graver_calls_get_their_own_alerts() {
        let rules = builtin(&BuiltinConfig::default())
            .into_iter()
            .filter(|b| b.disabled.is_none())
            .map(|b| b.rule)
            .collect();
        let engine = Engine::new(rules);
        let ct = "cloudtrail.amazonaws.com";
        let stop = |i: u32| {
            ev(
                ct,
                "StopLogging",
                json!({"eventID": format!("stop-{i}"), "requestParameters": {"name": "org"}}),
            )
        };
        let mut events = vec![stop(1), stop(2), failed_twin(&stop(3)), stop(4)];
        events.push(ev(
            ct,
            "DeleteTrail",
            json!({"eventID": "delete", "requestParameters": {"name": "org"}}),
        ));
        events.push(failed_twin(&ev(
            "iam.amazonaws.com",
            "CreateUser",
            json!({"eventID": "user", "requestParameters": {"userName": "x"}}),
        )));
        for streaming in [false, true] {
            let mut det = Detector::new(&engine, 300);
            if streaming {
                det = det.streaming();
            }
            let mut out = Vec::new();
            for e in &events {
                det.process(&serde_json::to_vec(e).unwrap(), &|| "test".into(), &mut out)
                    .unwrap();
            }
            det.finish(&mut out).unwrap();
            let tamper: Vec<_> = out
                .iter()
                .filter(|a| a.rule_id() == "RD-TAMPER-001")
                .map(|a| {
                    (
                        a.event_name().unwrap(),
                        a.outcome(),
                        a.severity(),
                        a.count,
                        a.event_ids().iter().collect::<Vec<_>>(),
                    )
                })
                .collect();
            let mut want = vec![
                (
                    "StopLogging",
                    Outcome::Success,
                    Severity::Critical,
                    1,
                    vec!["stop-1"],
                ),
                (
                    "StopLogging",
                    Outcome::Failure,
                    Severity::High,
                    1,
                    vec!["stop-3"],
                ),
                (
                    "DeleteTrail",
                    Outcome::Success,
                    Severity::Critical,
                    1,
                    vec!["delete"],
                ),
                (
                    "StopLogging",
                    Outcome::Success,
                    Severity::Critical,
                    3,
                    vec!["stop-1", "stop-2", "stop-4"],
                ),
            ];
            if !streaming {
                // a batch run emits each group once, at its close, oldest first
                want.remove(0);
                want.rotate_left(2);
            }
            assert_eq!(tamper, want, "streaming: {streaming}");
            let attempt = out
                .iter()
                .find(|a| a.outcome() == Outcome::Failure && a.rule_id() == "RD-TAMPER-001")
                .unwrap();
            assert!(
                attempt.title().starts_with(ATTEMPT_PREFIX),
                "{}",
                attempt.title()
            );
            assert!(!out.iter().any(|a| a.rule_id() == "RD-IAM-007"));
            assert_eq!(det.stats.silenced, 1);
            let cis: Vec<_> = out
                .iter()
                .filter(|a| a.rule_id() == "RD-CIS-4.1")
                .map(|a| (a.outcome(), a.title()))
                .collect();
            assert_eq!(cis, [(Outcome::Failure, "Unauthorized API call"); 2]);
        }
    }
}
