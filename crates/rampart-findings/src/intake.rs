//! Deduplication across pulls: what is known of each finding (its last update, count, status
//! and severity) and, per source, the cursor the next pull starts from. A finding is alerted
//! once when first seen open; an update of it is alerted again only when it matters:
//!
//! - it **reopens** (was closed: archived, resolved, suppressed, compliant; now open again),
//! - its **severity rises**, or
//! - its **count at least doubles** since it was last alerted (GuardDuty's repeated activity:
//!   re-announced at 2, 4, 8, … times, not on every increment).
//!
//! Any other update (a later `updatedAt`, a workflow change that keeps it open, a count that
//! grows less) is recorded silently; closing it is recorded and raises nothing. An update
//! older than the one known (out of order, or the same finding read twice) changes nothing.
//! The state serializes to JSON (`--state FILE`), so a restart never re-alerts.

use crate::{Activity, Finding, Service, Status};
use rampart_detect::ir::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// What is remembered of one finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Known {
    pub updated_at: String,
    pub count: u64,
    /// The count when it was last alerted (the doubling rule's base).
    pub alerted_count: u64,
    pub status: Status,
    #[serde(with = "severity_name")]
    pub severity: Severity,
}

/// Severity as its lowercase name (the alert schema's), read back.
mod severity_name {
    use rampart_detect::ir::Severity;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(s: &Severity, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(s.as_str())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Severity, D::Error> {
        let name = String::deserialize(de)?;
        Severity::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown severity `{name}`")))
    }
}

/// What the intake decided for one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// First seen, open: alert.
    New,
    /// Known, and the update matters: alert again.
    Realert(Why),
    /// Known; recorded, no alert.
    Updated,
    /// It was open and is closed now; recorded, no alert.
    Closed,
    /// Nothing newer than what is known (or first seen already closed).
    Unchanged,
}

/// Why an update is alerted again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    Reopened,
    SeverityRose,
    CountDoubled,
}

impl Decision {
    pub fn alerts(self) -> bool {
        matches!(self, Decision::New | Decision::Realert(_))
    }
    /// The OCSF activity of a finding this decision writes.
    pub fn activity(self) -> Activity {
        match self {
            Decision::New => Activity::Create,
            Decision::Closed => Activity::Close,
            _ => Activity::Update,
        }
    }
}

/// The intake state: every finding seen, and one cursor per source (a service in an account
/// and region, or an aggregator).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// `updatedAt` of the newest finding read from each source.
    pub cursors: BTreeMap<String, String>,
    /// Keyed by `service/finding id`.
    pub findings: BTreeMap<String, Known>,
}

/// Counts of one pull's decisions, for the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub new: usize,
    pub realerted: usize,
    pub updated: usize,
    pub closed: usize,
    pub unchanged: usize,
}

impl Tally {
    pub fn add(&mut self, d: Decision) {
        match d {
            Decision::New => self.new += 1,
            Decision::Realert(_) => self.realerted += 1,
            Decision::Updated => self.updated += 1,
            Decision::Closed => self.closed += 1,
            Decision::Unchanged => self.unchanged += 1,
        }
    }
}

/// The key of a finding in [`State::findings`].
pub fn key(service: Service, id: &str) -> String {
    format!("{}/{id}", service.as_str())
}

/// Seconds since the epoch of a service timestamp (RFC 3339, fractions ignored).
pub fn epoch_seconds(s: &str) -> Option<i64> {
    rampart_trail::time::parse_time(s)
}

/// Whether `a` is a later service timestamp than `b`.
pub fn is_newer(a: &str, b: &str) -> bool {
    newer(a, b)
}

/// Orders two service timestamps: by the second they name, then as text (fractions).
fn newer(a: &str, b: &str) -> bool {
    let t = rampart_trail::time::parse_time;
    match (t(a), t(b)) {
        (Some(x), Some(y)) if x != y => x > y,
        _ => a > b,
    }
}

impl State {
    /// Records `f` and says whether it alerts.
    pub fn ingest(&mut self, f: &Finding) -> Decision {
        let k = key(f.service, &f.id);
        let Some(known) = self.findings.get_mut(&k) else {
            self.findings.insert(
                k,
                Known {
                    updated_at: f.updated_at.clone(),
                    count: f.count,
                    alerted_count: f.count,
                    status: f.status,
                    severity: f.severity,
                },
            );
            return match f.status {
                Status::Open => Decision::New,
                Status::Closed => Decision::Unchanged,
            };
        };
        if !newer(&f.updated_at, &known.updated_at) {
            return Decision::Unchanged;
        }
        let before = known.clone();
        known.updated_at = f.updated_at.clone();
        known.count = f.count;
        known.status = f.status;
        known.severity = f.severity;
        let decision = match (before.status, f.status) {
            (_, Status::Closed) if before.status == Status::Open => Decision::Closed,
            (_, Status::Closed) => Decision::Updated,
            (Status::Closed, Status::Open) => Decision::Realert(Why::Reopened),
            (Status::Open, Status::Open) if f.severity > before.severity => {
                Decision::Realert(Why::SeverityRose)
            }
            (Status::Open, Status::Open) if f.count >= before.alerted_count.saturating_mul(2) => {
                Decision::Realert(Why::CountDoubled)
            }
            _ => Decision::Updated,
        };
        if decision.alerts() {
            known.alerted_count = f.count;
        }
        decision
    }

    /// Moves `source`'s cursor to `updated_at` if that is newer.
    pub fn advance(&mut self, source: &str, updated_at: &str) {
        match self.cursors.get_mut(source) {
            Some(c) if !newer(updated_at, c) => {}
            Some(c) => *c = updated_at.to_string(),
            None => {
                self.cursors
                    .insert(source.to_string(), updated_at.to_string());
            }
        }
    }

    pub fn cursor(&self, source: &str) -> Option<&str> {
        self.cursors.get(source).map(String::as_str)
    }

    /// The state in `path`, or an empty one when the file does not exist yet.
    pub fn load(path: &Path) -> Result<State, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                format!(
                    "intake state {} is not valid ({e}): fix or move it (a new one re-alerts open findings once)",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(format!("cannot read intake state {}: {e}", path.display())),
        }
    }

    /// Writes the state to `path` atomically (a temporary file renamed over it), so a crash
    /// mid-write leaves the previous state.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let tmp = path.with_extension("tmp");
        let text = serde_json::to_string(self).map_err(|e| e.to_string())?;
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| format!("cannot write intake state {}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn finding(id: &str, at: &str, count: u64, status: Status, sev: Severity) -> Finding {
        Finding {
            service: Service::GuardDuty,
            id: id.into(),
            finding_type: "Recon:IAMUser/MaliciousIPCaller".into(),
            title: "t".into(),
            description: String::new(),
            severity: sev,
            account: Some("111122223333".into()),
            region: Some("us-east-1".into()),
            resource: None,
            resource_type: None,
            principal: None,
            source_ip: None,
            created_at: None,
            updated_at: at.into(),
            count,
            status,
            state: String::new(),
            product: None,
        }
    }

    const T1: &str = "2026-12-01T10:00:00Z";
    const T2: &str = "2026-12-01T11:00:00Z";
    const T3: &str = "2026-12-01T12:00:00Z";
    const T4: &str = "2026-12-01T13:00:00Z";

    #[test]
    fn the_update_rule() {
        use Status::*;
        let mut s = State::default();
        let m = Severity::Medium;
        assert_eq!(s.ingest(&finding("a", T1, 1, Open, m)), Decision::New);
        assert_eq!(s.ingest(&finding("a", T1, 1, Open, m)), Decision::Unchanged);
        assert_eq!(
            s.ingest(&finding("a", T2, 1, Open, m)),
            Decision::Updated,
            "a later time alone"
        );
        assert_eq!(
            s.ingest(&finding("a", T3, 2, Open, m)),
            Decision::Realert(Why::CountDoubled)
        );
        assert_eq!(
            s.ingest(&finding("a", T4, 3, Open, m)),
            Decision::Updated,
            "3 < 2*2"
        );
        assert_eq!(
            s.ingest(&finding(
                "a",
                "2026-12-01T14:00:00Z",
                3,
                Open,
                Severity::High
            )),
            Decision::Realert(Why::SeverityRose)
        );
        assert_eq!(
            s.ingest(&finding("a", "2026-12-01T15:00:00Z", 3, Closed, m)),
            Decision::Closed
        );
        assert_eq!(
            s.ingest(&finding("a", "2026-12-01T16:00:00Z", 3, Closed, m)),
            Decision::Updated
        );
        assert_eq!(
            s.ingest(&finding("a", "2026-12-01T17:00:00Z", 3, Open, m)),
            Decision::Realert(Why::Reopened)
        );
        assert_eq!(
            s.ingest(&finding("a", T1, 99, Closed, m)),
            Decision::Unchanged,
            "older updates change nothing"
        );
        assert_eq!(
            s.ingest(&finding("b", T1, 1, Closed, m)),
            Decision::Unchanged,
            "first seen closed"
        );
        assert_eq!(
            s.ingest(&finding("b", T2, 1, Open, m)),
            Decision::Realert(Why::Reopened)
        );
    }

    #[test]
    fn fractional_times_order_and_cursors_only_advance() {
        assert!(newer(
            "2026-12-01T10:00:00.500Z",
            "2026-12-01T10:00:00.100Z"
        ));
        assert!(newer("2026-12-01T10:00:01Z", "2026-12-01T10:00:00.900Z"));
        let mut s = State::default();
        s.advance("gd", T2);
        s.advance("gd", T1);
        assert_eq!(s.cursor("gd"), Some(T2));
        s.advance("gd", T3);
        assert_eq!(s.cursor("gd"), Some(T3));
    }

    #[test]
    fn state_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut s = State::load(&path).unwrap();
        assert_eq!(
            s.ingest(&finding("a", T1, 1, Status::Open, Severity::Low)),
            Decision::New
        );
        s.advance("gd", T1);
        s.save(&path).unwrap();
        let mut again = State::load(&path).unwrap();
        assert_eq!(again, s);
        assert_eq!(
            again.ingest(&finding("a", T1, 1, Status::Open, Severity::Low)),
            Decision::Unchanged
        );
        std::fs::write(&path, "{").unwrap();
        let e = State::load(&path).unwrap_err();
        assert!(e.contains("state.json") && e.contains("not valid"), "{e}");
    }

    fn arb_finding() -> impl Strategy<Value = Finding> {
        (0u8..6, 0i64..50, 1u64..20, any::<bool>(), 0u8..5).prop_map(
            |(id, minute, count, open, sev)| {
                let sev = [
                    Severity::Info,
                    Severity::Low,
                    Severity::Medium,
                    Severity::High,
                    Severity::Critical,
                ][sev as usize];
                let at = format!("2026-12-01T10:{minute:02}:00Z");
                let status = if open { Status::Open } else { Status::Closed };
                finding(&format!("f{id}"), &at, count, status, sev)
            },
        )
    }

    proptest! {
        /// Feeding the same findings again alerts nothing, and a restart from the saved state
        /// behaves as the state it saved.
        #[test]
        fn the_same_findings_twice_alert_once(fs in proptest::collection::vec(arb_finding(), 0..40)) {
            let mut s = State::default();
            let first: Vec<Decision> = fs.iter().map(|f| s.ingest(f)).collect();
            let again: Vec<Decision> = fs.iter().map(|f| s.ingest(f)).collect();
            prop_assert!(again.iter().all(|d| *d == Decision::Unchanged), "{again:?}");
            // every open finding seen first alerts exactly once on its first sight
            let mut seen = std::collections::BTreeSet::new();
            for (f, d) in fs.iter().zip(&first) {
                if seen.insert(f.id.clone()) {
                    prop_assert_eq!(*d == Decision::New, f.status == Status::Open);
                } else {
                    prop_assert!(*d != Decision::New);
                }
            }
            let text = serde_json::to_string(&s).unwrap();
            let back: State = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(back, s);
        }

        /// An update alerts exactly when it reopens, raises the severity or doubles the count.
        #[test]
        fn updates_alert_per_the_rule(a in arb_finding(), b in arb_finding()) {
            let mut s = State::default();
            let a2 = Finding { id: "x".into(), updated_at: "2026-12-01T10:00:00Z".into(), ..a };
            let b2 = Finding { id: "x".into(), updated_at: "2026-12-01T11:00:00Z".into(), ..b };
            s.ingest(&a2);
            let d = s.ingest(&b2);
            let matters = b2.status == Status::Open
                && (a2.status == Status::Closed
                    || b2.severity > a2.severity
                    || b2.count >= a2.count * 2);
            prop_assert_eq!(d.alerts(), matters, "{:?} then {:?}: {:?}", a2, b2, d);
        }
    }
}
