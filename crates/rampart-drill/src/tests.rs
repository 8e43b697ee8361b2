//! The drill runner with fakes: every scenario's own events raise its expected rule through the
//! real engine, and a failure at any step still removes every canary.

use crate::emulated::cloudtrail_record;
use crate::run::{Call, Clock, Deliver, Drill, EventFeed, Response, Sandbox, Timing};
use crate::scenario::{Canary, Scenario};
use crate::{Check, expected_rule};
use rampart_detect::Alert;
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

const ACCOUNT: &str = "210987654321";

/// A sandbox that keeps canaries in a set and fails the call or removal it is told to.
#[derive(Default)]
struct FakeSandbox {
    present: BTreeSet<Canary>,
    fail_call: Option<&'static str>,
    fail_remove: bool,
    fail_leftovers: bool,
    removed: Vec<Canary>,
    next: u32,
}

impl Sandbox for FakeSandbox {
    fn account(&self) -> &str {
        ACCOUNT
    }
    fn call(&mut self, _src: &str, name: &str, params: &Value) -> Result<Response, String> {
        self.next += 1;
        // a resource exists from the moment its creation is attempted (AWS may have made it)
        let named = |k: &str| params[k].as_str().map(str::to_string);
        match name {
            "CreateUser" => drop(
                self.present
                    .insert(Canary::User(named("userName").unwrap())),
            ),
            "CreateBucket" => drop(
                self.present
                    .insert(Canary::Bucket(named("bucketName").unwrap())),
            ),
            "CreateTrail" => drop(self.present.insert(Canary::Trail(named("name").unwrap()))),
            _ => {}
        }
        if self.fail_call == Some(name) {
            return Err(format!("{name} refused (AccessDenied)"));
        }
        let mut outputs = Vec::new();
        if name == "CreateAccessKey" {
            outputs.push(("accessKeyId".into(), format!("AKIA{}", self.next)));
        }
        if name == "DeleteAccessKey" {
            assert!(params["accessKeyId"].as_str().unwrap().starts_with("AKIA"));
        }
        Ok(Response {
            request_id: Some(format!("req-{}", self.next)),
            outputs,
        })
    }
    fn remove(&mut self, c: &Canary) -> Result<(), String> {
        if self.fail_remove {
            return Err("DeleteBucket: BucketNotEmpty".into());
        }
        self.present.remove(c);
        self.removed.push(c.clone());
        Ok(())
    }
    fn leftovers(&mut self) -> Result<Vec<Canary>, String> {
        if self.fail_leftovers {
            return Err("ListUsers refused".into());
        }
        Ok(self.present.iter().cloned().collect())
    }
}

/// A trail that delivers the records of the drill's calls after `delay_polls` polls.
struct CallFeed {
    calls: Rc<RefCell<Vec<Call>>>,
    delay_polls: Cell<u32>,
    given: usize,
    broken: bool,
}

impl EventFeed for CallFeed {
    fn name(&self) -> String {
        "fake trail".into()
    }
    fn poll(&mut self) -> Result<Vec<Vec<u8>>, String> {
        if self.broken {
            return Err("ListObjectsV2 refused".into());
        }
        if self.delay_polls.get() > 0 {
            self.delay_polls.set(self.delay_polls.get() - 1);
            return Ok(Vec::new());
        }
        let calls = self.calls.borrow();
        let out = calls[self.given..]
            .iter()
            .enumerate()
            .map(|(i, c)| {
                serde_json::to_vec(&cloudtrail_record(c, ACCOUNT, "us-east-1", self.given + i))
                    .unwrap()
            })
            .collect();
        self.given = calls.len();
        Ok(out)
    }
}

struct FakeSink {
    up: bool,
    got: Vec<Alert>,
}

impl Deliver for FakeSink {
    fn deliver(&mut self, alert: &Alert) -> Result<(), String> {
        if !self.up {
            return Err("webhook 127.0.0.1:9: connection refused; 1 alert(s) kept in spool".into());
        }
        self.got.push(alert.clone());
        Ok(())
    }
}

/// Time moves only when something sleeps or a call is made.
struct FakeClock(Cell<i64>);

impl Clock for FakeClock {
    fn now_ms(&self) -> i64 {
        self.0.set(self.0.get() + 10);
        self.0.get()
    }
    fn sleep(&self, d: Duration) {
        self.0.set(self.0.get() + d.as_millis() as i64);
    }
}

struct Outcome {
    result: crate::DrillResult,
    sandbox: FakeSandbox,
    sink: FakeSink,
}

fn drill(scenario: Scenario, mut sandbox: FakeSandbox, mut feed: CallFeed, up: bool) -> Outcome {
    let mut sink = FakeSink {
        up,
        got: Vec::new(),
    };
    let clock = FakeClock(Cell::new(1_780_000_000_000));
    let calls = feed.calls.clone();
    let mut on_call = |c: &Call| calls.borrow_mut().push(c.clone());
    let result = Drill {
        sandbox: &mut sandbox,
        feed: &mut feed,
        deliver: &mut sink,
        clock: &clock,
        rule: expected_rule(scenario).expect("expected rule is built in"),
        timing: Timing {
            timeout: Duration::from_secs(60),
            poll: Duration::from_secs(5),
        },
        on_call: &mut on_call,
    }
    .run(scenario, "t1");
    Outcome {
        result,
        sandbox,
        sink,
    }
}

fn feed(delay_polls: u32) -> CallFeed {
    CallFeed {
        calls: Rc::new(RefCell::new(Vec::new())),
        delay_polls: Cell::new(delay_polls),
        given: 0,
        broken: false,
    }
}

#[test]
fn every_scenario_is_detected_by_its_rule_and_alerted() {
    for s in Scenario::ALL {
        let o = drill(s, FakeSandbox::default(), feed(2), true);
        let r = &o.result;
        assert!(r.passed(), "{s:?}: {r:#?}");
        assert_eq!(o.sink.got.len(), 1);
        assert_eq!(o.sink.got[0].rule_id(), s.expected_rule());
        assert_eq!(r.alert_id.as_deref(), Some(o.sink.got[0].id().as_str()));
        assert!(
            o.sandbox.present.is_empty(),
            "{s:?} left {:?}",
            o.sandbox.present
        );
        // two empty polls of 5 s each before the events arrive
        let ttd = r.time_to_detect().unwrap();
        assert!(ttd >= Duration::from_secs(10), "{ttd:?}");
        assert!(r.time_to_alert().unwrap() >= ttd);
        assert!(r.calls.iter().all(|c| c.request_id.is_some()));
    }
}

#[test]
fn the_expected_rules_ignore_other_scenarios_events() {
    // each rule fires only on its own scenario's calls: a drill proves its own rule
    for s in Scenario::ALL {
        let rule = expected_rule(s).unwrap();
        for other in Scenario::ALL.into_iter().filter(|o| *o != s) {
            for (i, step) in other.plan("x").steps.iter().enumerate() {
                let call = Call {
                    event_source: step.event_source.into(),
                    event_name: step.event_name.into(),
                    params: crate::scenario::substitute(
                        &step.params,
                        &[
                            ("account".into(), ACCOUNT.into()),
                            ("accessKeyId".into(), "AKIA1".into()),
                        ],
                    )
                    .unwrap(),
                    at_ms: 0,
                    request_id: None,
                    error: None,
                };
                let rec = cloudtrail_record(&call, ACCOUNT, "us-east-1", i);
                assert!(
                    !rampart_detect::rules::fires(&rule, &rec),
                    "{} fires on {}'s {}",
                    s.expected_rule(),
                    other.name(),
                    step.event_name
                );
            }
        }
    }
}

#[test]
fn a_failing_call_at_any_step_still_removes_every_canary() {
    for s in Scenario::ALL {
        for step in s.plan("t1").steps {
            let sandbox = FakeSandbox {
                fail_call: Some(step.event_name),
                ..Default::default()
            };
            let o = drill(s, sandbox, feed(0), true);
            let r = &o.result;
            assert!(!r.passed());
            assert!(
                matches!(&r.acted, Check::Fail(m) if m.contains(step.event_name)),
                "{r:#?}"
            );
            assert!(matches!(r.detected, Check::Skipped(_)));
            assert!(matches!(r.alerted, Check::Skipped(_)));
            assert_eq!(r.cleaned, Check::Pass);
            assert!(
                o.sandbox.present.is_empty(),
                "{s:?}/{}: {:?}",
                step.event_name,
                o.sandbox.present
            );
            assert!(o.sink.got.is_empty());
        }
    }
}

#[test]
fn no_event_within_the_timeout_fails_detection_and_cleans_up() {
    let mut f = feed(1000);
    f.broken = false;
    let o = drill(Scenario::StopLogging, FakeSandbox::default(), f, true);
    let r = &o.result;
    assert!(r.acted.passed());
    let Check::Fail(why) = &r.detected else {
        panic!("{r:#?}")
    };
    assert!(
        why.contains("RD-TAMPER-001") && why.contains("60 s"),
        "{why}"
    );
    assert_eq!(r.time_to_detect(), None);
    assert!(o.sandbox.present.is_empty());

    let mut broken = feed(0);
    broken.broken = true;
    let o = drill(Scenario::AccessKey, FakeSandbox::default(), broken, true);
    let Check::Fail(why) = &o.result.detected else {
        panic!()
    };
    assert!(why.contains("ListObjectsV2 refused"), "{why}");
}

#[test]
fn a_sink_that_is_down_fails_alerted_but_not_detected() {
    let o = drill(
        Scenario::PublicBucket,
        FakeSandbox::default(),
        feed(0),
        false,
    );
    let r = &o.result;
    assert!(r.detected.passed());
    assert!(matches!(&r.alerted, Check::Fail(m) if m.contains("connection refused")));
    assert!(r.time_to_detect().is_some() && r.time_to_alert().is_none());
    assert!(!r.passed());
    assert!(o.sandbox.present.is_empty());
}

#[test]
fn leftovers_are_removed_first_and_a_failed_removal_is_reported() {
    let mut sandbox = FakeSandbox::default();
    let old = Canary::Bucket("rampart-drill-pub-old".into());
    sandbox.present.insert(old.clone());
    let o = drill(Scenario::AccessKey, sandbox, feed(0), true);
    assert_eq!(o.result.leftovers_removed, vec![old]);
    assert!(o.result.passed());

    let sandbox = FakeSandbox {
        fail_remove: true,
        ..Default::default()
    };
    let o = drill(Scenario::PublicBucket, sandbox, feed(0), true);
    let Check::Fail(why) = &o.result.cleaned else {
        panic!()
    };
    assert!(
        why.contains("rampart-drill-pub-t1") && why.contains("rampart drill cleanup --account"),
        "{why}"
    );
    assert!(!o.result.passed());

    let sandbox = FakeSandbox {
        fail_leftovers: true,
        ..Default::default()
    };
    let o = drill(Scenario::AccessKey, sandbox, feed(0), true);
    assert!(matches!(&o.result.cleaned, Check::Fail(m) if m.contains("ListUsers refused")));
    assert!(o.result.detected.passed(), "the drill itself still runs");
}
