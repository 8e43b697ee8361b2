//! Where findings come from, and one pull over every service and region. A [`FindingSource`]
//! returns a service's findings in one region as the service's JSON; rampart-aws implements it
//! on the AWS SDK, [`FileSource`] on exported files (`aws guardduty get-findings` output, an
//! EventBridge archive) and stands in for what an emulator lacks. [`pull`] reads every
//! (service, region), normalizes, deduplicates against the [`State`] and moves the cursors;
//! one failing source is counted and reported, never stops the rest.

use crate::intake::{Decision, State, Tally};
use crate::{Finding, Service, normalize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// A reader of findings.
pub trait FindingSource {
    /// `service`'s findings in `region` updated at or after `since` (every one without it), as
    /// the service's JSON (see [`crate::normalize`]). An error is one line naming the call.
    fn findings(
        &self,
        service: Service,
        region: &str,
        since: Option<&str>,
    ) -> Result<Vec<Value>, String>;

    /// The Security Hub cross-region aggregation region, when one is configured (then Security
    /// Hub is read there only). `home` is where to ask.
    fn securityhub_aggregator(&self, home: &str) -> Result<Option<String>, String> {
        let _ = home;
        Ok(None)
    }
}

/// Findings read from files: per service, a JSON document (`{"Findings": [...]}` as the CLI
/// prints it, `{"findings": [...]}`, `{"EvaluationResults": [...]}`, or an array) or JSON Lines
/// (one finding, or one EventBridge event with a `detail`, per line). A finding's region is its
/// own `Region`/`region`; one without is in every region asked.
#[derive(Debug, Default, Clone)]
pub struct FileSource {
    by_service: BTreeMap<Service, Vec<Value>>,
}

impl FileSource {
    /// Adds `service`'s findings from `path`.
    pub fn add_file(&mut self, service: Service, path: &Path) -> Result<usize, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read findings file {}: {e}", path.display()))?;
        let items =
            parse_items(&text).map_err(|e| format!("findings file {}: {e}", path.display()))?;
        let n = items.len();
        self.by_service.entry(service).or_default().extend(items);
        Ok(n)
    }

    /// Adds findings already parsed (tests, the emulator's stand-ins).
    pub fn add(&mut self, service: Service, items: impl IntoIterator<Item = Value>) {
        self.by_service.entry(service).or_default().extend(items);
    }

    pub fn services(&self) -> impl Iterator<Item = Service> + '_ {
        self.by_service.keys().copied()
    }
}

/// The findings of a file's text (see [`FileSource`]).
pub fn parse_items(text: &str) -> Result<Vec<Value>, String> {
    let trimmed = text.trim_start();
    let unwrap_event = |v: Value| match v.get("detail") {
        Some(d) if v.get("detail-type").is_some() => d.clone(),
        _ => v,
    };
    if trimmed.starts_with('[') || (trimmed.starts_with('{') && !text.trim().contains('\n')) {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
        return Ok(list_of(v).into_iter().map(unwrap_event).collect());
    }
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Ok(list_of(v).into_iter().map(unwrap_event).collect());
    }
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value =
            serde_json::from_str(line).map_err(|e| format!("line {}: not JSON ({e})", n + 1))?;
        out.push(unwrap_event(v));
    }
    Ok(out)
}

fn list_of(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        Value::Object(mut o) => {
            for k in [
                "Findings",
                "findings",
                "EvaluationResults",
                "AggregateEvaluationResults",
            ] {
                if let Some(Value::Array(a)) = o.remove(k) {
                    return a;
                }
            }
            vec![Value::Object(o)]
        }
        other => vec![other],
    }
}

fn region_of(v: &Value) -> Option<&str> {
    ["Region", "region", "AwsRegion"]
        .iter()
        .find_map(|k| v.get(k).and_then(Value::as_str))
}

fn updated_of(v: &Value) -> Option<&str> {
    ["UpdatedAt", "updatedAt", "ResultRecordedTime"]
        .iter()
        .find_map(|k| v.get(k).and_then(Value::as_str))
}

impl FindingSource for FileSource {
    fn findings(
        &self,
        service: Service,
        region: &str,
        since: Option<&str>,
    ) -> Result<Vec<Value>, String> {
        Ok(self
            .by_service
            .get(&service)
            .into_iter()
            .flatten()
            .filter(|v| region_of(v).is_none_or(|r| r == region))
            .filter(|v| match (since, updated_of(v)) {
                (Some(s), Some(u)) => !crate::intake::is_newer(s, u),
                _ => true,
            })
            .cloned()
            .collect())
    }
}

/// Each service from its own source: the SDK for most, files (or a fake) for the rest.
pub struct Routed<'a> {
    pub default: &'a dyn FindingSource,
    pub overrides: BTreeMap<Service, &'a dyn FindingSource>,
}

impl FindingSource for Routed<'_> {
    fn findings(
        &self,
        service: Service,
        region: &str,
        since: Option<&str>,
    ) -> Result<Vec<Value>, String> {
        self.overrides
            .get(&service)
            .copied()
            .unwrap_or(self.default)
            .findings(service, region, since)
    }
    fn securityhub_aggregator(&self, home: &str) -> Result<Option<String>, String> {
        self.overrides
            .get(&Service::SecurityHub)
            .copied()
            .unwrap_or(self.default)
            .securityhub_aggregator(home)
    }
}

/// One finding a pull processed, with what the intake decided.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub finding: Finding,
    pub decision: Decision,
}

/// What a pull did.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Pulled>,
    pub tally: Tally,
    /// One line per source (service and region) that could not be read, or finding that could
    /// not be normalized.
    pub errors: Vec<String>,
    /// Sources read successfully.
    pub sources_read: usize,
}

/// Reads `services` in `regions` (Security Hub only in its aggregation region when there is
/// one), from each source's cursor in `state`; records every finding in `state`.
pub fn pull(
    source: &dyn FindingSource,
    services: &[Service],
    regions: &[String],
    state: &mut State,
) -> Report {
    let mut report = Report::default();
    for &service in services {
        let mut service_regions = regions.to_vec();
        if service == Service::SecurityHub
            && let Some(home) = regions.first()
        {
            match source.securityhub_aggregator(home) {
                Ok(Some(agg)) => service_regions = vec![agg],
                Ok(None) => {}
                Err(e) => report.errors.push(e),
            }
        }
        for region in &service_regions {
            let cursor_key = format!("{}/{region}", service.as_str());
            let since = state.cursor(&cursor_key).map(str::to_string);
            let items = match source.findings(service, region, since.as_deref()) {
                Ok(items) => items,
                Err(e) => {
                    report.errors.push(e);
                    continue;
                }
            };
            report.sources_read += 1;
            for item in &items {
                match normalize::finding(service, item) {
                    Ok(f) => {
                        let decision = state.ingest(&f);
                        report.tally.add(decision);
                        state.advance(&cursor_key, &f.updated_at);
                        report.findings.push(Pulled {
                            finding: f,
                            decision,
                        });
                    }
                    Err(e) => report.errors.push(format!("{region}: {e}")),
                }
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Failing;
    impl FindingSource for Failing {
        fn findings(&self, s: Service, r: &str, _: Option<&str>) -> Result<Vec<Value>, String> {
            Err(format!("{}:{r}: AccessDenied", s.as_str()))
        }
    }

    fn gd(id: &str, at: &str, count: u64, region: &str) -> Value {
        json!({"Id": id, "Type": "Recon:IAMUser/MaliciousIPCaller", "Severity": 5, "AccountId": "111122223333",
            "Region": region, "UpdatedAt": at, "Service": {"Count": count}})
    }

    #[test]
    fn a_second_pull_alerts_nothing_and_updates_count_per_the_rule() {
        let mut files = FileSource::default();
        files.add(
            Service::GuardDuty,
            [
                gd("a", "2026-12-01T10:00:00Z", 1, "us-east-1"),
                gd("b", "2026-12-01T10:05:00Z", 1, "eu-west-1"),
            ],
        );
        let regions = vec!["us-east-1".to_string(), "eu-west-1".to_string()];
        let mut state = State::default();
        let r = pull(&files, &[Service::GuardDuty], &regions, &mut state);
        assert_eq!((r.tally.new, r.sources_read), (2, 2));
        assert_eq!(
            state.cursor("guardduty/eu-west-1"),
            Some("2026-12-01T10:05:00Z")
        );
        let r = pull(&files, &[Service::GuardDuty], &regions, &mut state);
        assert_eq!(r.tally.new + r.tally.realerted, 0);
        files.add(
            Service::GuardDuty,
            [gd("a", "2026-12-01T11:00:00Z", 2, "us-east-1")],
        );
        let r = pull(&files, &[Service::GuardDuty], &regions, &mut state);
        assert_eq!(r.tally.realerted, 1, "{:?}", r.tally);
    }

    #[test]
    fn one_failing_source_does_not_stop_the_rest() {
        let mut files = FileSource::default();
        files.add(
            Service::GuardDuty,
            [gd("a", "2026-12-01T10:00:00Z", 1, "us-east-1")],
        );
        let routed = Routed {
            default: &Failing,
            overrides: [(Service::GuardDuty, &files as &dyn FindingSource)].into(),
        };
        let mut state = State::default();
        let r = pull(
            &routed,
            &[Service::SecurityHub, Service::GuardDuty],
            &["us-east-1".to_string()],
            &mut state,
        );
        assert_eq!(
            r.errors,
            vec!["securityhub:us-east-1: AccessDenied".to_string()]
        );
        assert_eq!(r.tally.new, 1);
    }

    #[test]
    fn files_in_every_shape() {
        let doc = r#"{"Findings": [{"Id": "a"}, {"Id": "b"}]}"#;
        assert_eq!(parse_items(doc).unwrap().len(), 2);
        let pretty = "{\n  \"findings\": [\n {\"id\": \"a\"}\n]\n}";
        assert_eq!(parse_items(pretty).unwrap().len(), 1);
        let lines = "{\"detail-type\": \"GuardDuty Finding\", \"detail\": {\"id\": \"a\"}}\n{\"Id\": \"b\"}\n";
        let items = parse_items(lines).unwrap();
        assert_eq!(items[0]["id"], "a");
        assert!(
            parse_items("{\"a\":1}\nnot json\n")
                .unwrap_err()
                .contains("line 2")
        );
    }
}
