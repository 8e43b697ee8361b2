//! Test helpers: alerts to route, and a transport that records or refuses.

use crate::format::Outgoing;
use crate::router::{Refusal, Transport};
use rampart_detect::ir::{Condition, Rule, RuleMeta, RuleSource, Severity};
use rampart_detect::{Alert, Event};

/// An alert of `rule_id` at `sev` for CloudTrail event `event_id` in account 111122223333.
pub fn alert_for(rule_id: &str, sev: Severity, event_id: &str) -> Alert {
    let rule = Rule::new(
        RuleMeta::new(
            rule_id,
            RuleSource::Builtin,
            "Access key created for another user",
            sev,
        ),
        Condition::eq("eventName", "CreateAccessKey"),
    );
    let raw = format!(
        r#"{{"eventName":"CreateAccessKey","eventSource":"iam.amazonaws.com","eventID":"{event_id}","eventTime":"2026-12-06T10:00:00Z","recipientAccountId":"111122223333","awsRegion":"eu-west-1","userIdentity":{{"arn":"arn:aws:iam::111122223333:user/mallory"}},"requestParameters":{{"userName":"<bob>"}}}}"#
    );
    Alert::new(&rule, &Event::parse(raw.as_bytes()).unwrap(), None)
}

/// Records what it is asked to send; refuses while `up` is false.
#[derive(Default)]
pub struct Recorder {
    pub up: bool,
    pub sent: Vec<Outgoing>,
    pub refused: u64,
}

impl Transport for Recorder {
    fn send(&mut self, out: &Outgoing) -> Result<(), Refusal> {
        if self.up {
            self.sent.push(out.clone());
            Ok(())
        } else {
            self.refused += 1;
            Err(Refusal {
                message: "connect: Connection refused".into(),
                retry_after: None,
            })
        }
    }
}
