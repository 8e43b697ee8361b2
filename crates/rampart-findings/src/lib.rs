//! Findings intake without AWS: the findings of GuardDuty, Security Hub, IAM Access Analyzer
//! and AWS Config, as the services' APIs return them (JSON), normalized to one [`Finding`],
//! then to a `rampart.alert/v1` [`Alert`] (so they go through the same sinks as rampart's own
//! detections) and to OCSF; [`intake`] deduplicates them across pulls and decides which
//! updates are worth a new alert; [`runbooks`] says what a responder does about each type.
//! The AWS calls live in rampart-aws (`findings.rs`); this crate never talks to AWS.

pub mod intake;
pub mod normalize;
pub mod runbooks;
pub mod source;

use rampart_detect::Alert;
use rampart_detect::ir::{RuleSource, Severity};
use serde_json::{Value, json};

/// The services findings are pulled from; each names its alerts' `rule_source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    GuardDuty,
    SecurityHub,
    AccessAnalyzer,
    Config,
}

impl Service {
    pub const ALL: [Service; 4] = [
        Service::GuardDuty,
        Service::SecurityHub,
        Service::AccessAnalyzer,
        Service::Config,
    ];

    pub fn rule_source(self) -> RuleSource {
        match self {
            Service::GuardDuty => RuleSource::GuardDuty,
            Service::SecurityHub => RuleSource::SecurityHub,
            Service::AccessAnalyzer => RuleSource::AccessAnalyzer,
            Service::Config => RuleSource::Config,
        }
    }

    /// `guardduty`, `securityhub`, `access-analyzer`, `config` (the `rule_source`).
    pub fn as_str(self) -> &'static str {
        match self {
            Service::GuardDuty => "guardduty",
            Service::SecurityHub => "securityhub",
            Service::AccessAnalyzer => "access-analyzer",
            Service::Config => "config",
        }
    }

    pub fn parse(s: &str) -> Option<Service> {
        Service::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The service's event source, as CloudTrail names it (the alert's `event_source`).
    pub fn event_source(self) -> &'static str {
        match self {
            Service::GuardDuty => "guardduty.amazonaws.com",
            Service::SecurityHub => "securityhub.amazonaws.com",
            Service::AccessAnalyzer => "access-analyzer.amazonaws.com",
            Service::Config => "config.amazonaws.com",
        }
    }
}

/// Whether a finding is still open. A closed finding (archived, resolved, suppressed,
/// compliant again) is kept so a later reopening is recognised, but raises nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Closed => "closed",
        }
    }
}

/// One finding of any service, normalized. `id` is the service's own finding id (ARN for
/// Security Hub and Access Analyzer); with the service it identifies the finding across pulls.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub service: Service,
    pub id: String,
    /// The finding type: the alert's `rule_id` and the key of its runbook.
    pub finding_type: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub account: Option<String>,
    pub region: Option<String>,
    /// The affected resource (ARN or id).
    pub resource: Option<String>,
    pub resource_type: Option<String>,
    /// The acting principal, when the service names one.
    pub principal: Option<String>,
    pub source_ip: Option<String>,
    pub created_at: Option<String>,
    /// When the service last changed the finding (RFC 3339): the intake cursor.
    pub updated_at: String,
    /// How many times the service saw the activity (GuardDuty's `Service.Count`; 1 elsewhere).
    pub count: u64,
    pub status: Status,
    /// The raw status words (`ARCHIVED`, `NOTIFIED`, `NON_COMPLIANT`, …), for people.
    pub state: String,
    /// The product that produced it (Security Hub aggregates other products' findings).
    pub product: Option<String>,
}

impl Finding {
    /// The `rampart.alert/v1` alert for this finding: `rule_source` the service, `rule_id`
    /// the finding type, `event_id` the finding id, the timestamps those of the finding.
    pub fn to_alert(&self) -> Alert {
        let record = json!({
            "schema": "rampart.alert/v1",
            "rule_id": self.finding_type,
            "rule_source": self.service.as_str(),
            "title": self.title,
            "severity": self.severity.as_str(),
            "attack": [],
            "event_id": self.id,
            "event_time": self.updated_at,
            "event_source": self.service.event_source(),
            "event_name": Value::Null,
            "account": self.account,
            "region": self.region,
            "principal": self.principal,
            "source_ip": self.source_ip,
            "resource": self.resource,
            "matched": {
                "finding_type": self.finding_type,
                "status": self.state,
                "resource_type": self.resource_type,
                "product": self.product,
                "created_at": self.created_at,
                "description": truncate(&self.description, 500),
            },
            "count": self.count,
            "first_seen": self.created_at.as_deref().unwrap_or(&self.updated_at),
            "last_seen": self.updated_at,
            "outcome": "success",
        });
        let mut record = record;
        if self.resource_type.as_deref() == Some("AccessKey") {
            // runbooks fill `{access_key}` from a matched `…accessKeyId`
            record["matched"]["accessKeyId"] = json!(self.resource);
        }
        // the record is built above with every required field: from_record cannot refuse it
        Alert::from_record(&record).expect("a complete rampart.alert/v1 record")
    }

    /// The OCSF Detection Finding (class 2004) for this finding; `activity` says whether it
    /// is new, an update, or closes it.
    pub fn to_ocsf(&self, activity: Activity) -> Value {
        let ms = |t: Option<&str>| {
            t.and_then(rampart_trail::time::parse_time)
                .map(|s| s * 1000)
        };
        let (activity_id, activity_name) = activity.ocsf();
        let (status_id, status) = match (self.status, activity) {
            (Status::Closed, _) => (4, "Resolved"),
            (Status::Open, Activity::Create) => (1, "New"),
            (Status::Open, _) => (2, "In Progress"),
        };
        let sev = self.severity.as_str();
        json!({
            "class_uid": 2004,
            "class_name": "Detection Finding",
            "category_uid": 2,
            "category_name": "Findings",
            "activity_id": activity_id,
            "activity_name": activity_name,
            "type_uid": 200400 + u64::from(activity_id),
            "severity_id": self.severity.ocsf_id(),
            "severity": format!("{}{}", sev[..1].to_uppercase(), &sev[1..]),
            "status_id": status_id,
            "status": status,
            "status_detail": self.state,
            "time": ms(Some(&self.updated_at)),
            "count": self.count,
            "message": format!("{} ({})", self.title, self.finding_type),
            "metadata": {
                "version": "1.1.0",
                "product": {
                    "name": self.product.as_deref().unwrap_or(self.service.as_str()),
                    "vendor_name": "AWS",
                },
                "uid": self.id,
                "log_name": self.service.as_str(),
            },
            "finding_info": {
                "uid": self.id,
                "title": self.title,
                "desc": self.description,
                "types": [self.finding_type],
                "created_time": ms(self.created_at.as_deref()),
                "modified_time": ms(Some(&self.updated_at)),
                "first_seen_time": ms(self.created_at.as_deref()),
                "last_seen_time": ms(Some(&self.updated_at)),
                "analytic": {"uid": self.finding_type, "name": self.title, "type_id": 1, "type": "Rule", "category": self.service.as_str()},
            },
            "cloud": {"provider": "AWS", "region": self.region, "account": {"uid": self.account}},
            "actor": {"user": {"uid": self.principal}},
            "src_endpoint": {"ip": self.source_ip},
            "resources": self.resource.as_ref().map(|r| vec![json!({"uid": r, "type": self.resource_type})]).unwrap_or_default(),
        })
    }
}

/// What a pull did with a finding, as OCSF's activity says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    Create,
    Update,
    Close,
}

impl Activity {
    fn ocsf(self) -> (u8, &'static str) {
        match self {
            Activity::Create => (1, "Create"),
            Activity::Update => (2, "Update"),
            Activity::Close => (3, "Close"),
        }
    }
}

/// At most `n` characters of `s` (on a character boundary), with `…` when cut.
fn truncate(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
