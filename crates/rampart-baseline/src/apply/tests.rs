//! The executor over the in-process organization: a fresh organization converges (plan → apply
//! → plan is empty) in a bounded number of rounds, drift is repaired, a failure blocks only what
//! depends on it, concurrency stays within its bound, and every call reaches the audit log.

use super::fake::SnapshotEffects;
use super::*;
use crate::config::Config;
use crate::plan::tests::{MGMT, config};
use crate::plan::{Action, QUARANTINE_POLICY, plan};
use rampart_snapshot::*;
use std::sync::atomic::AtomicUsize;

fn fresh() -> Snapshot {
    crate::plan::tests::fresh(&["eu-west-1", "eu-central-1"])
}

/// Plans and applies until nothing is left; returns the rounds it took.
fn converge(cfg: &Config, fx: &SnapshotEffects, log: &AuditLog) -> usize {
    for round in 1..=5 {
        let p = plan(cfg, &fx.snapshot()).unwrap();
        if p.changes.is_empty() {
            return round - 1;
        }
        let r = execute(&p, fx, log, &ApplyOptions { concurrency: 4 });
        assert!(r.is_complete(), "round {round}: {}", r.to_text());
        assert_eq!(r.applied.len(), p.changes.len());
    }
    panic!(
        "did not converge in 5 rounds:\n{}",
        plan(cfg, &fx.snapshot()).unwrap().to_text()
    );
}

#[test]
fn a_fresh_organization_converges_and_quarantine_is_released() {
    let cfg = config();
    let fx = SnapshotEffects::new(fresh(), &cfg);
    let log = AuditLog::counting();
    let first = plan(&cfg, &fx.snapshot()).unwrap();
    let rounds = converge(&cfg, &fx, &log);
    // Round 1 builds the organization and creates the accounts (quarantined) and delegates to
    // Audit; round 2 baselines the new accounts and sets up what Audit runs for the organization;
    // round 3 turns on auto-enable (readable once Audit has its detector) and releases Log
    // Archive from quarantine; round 4 releases Audit.
    assert_eq!(rounds, 4);
    assert!(log.calls() as usize > first.changes.len());
    let snap = fx.snapshot();
    let org = snap.organization.as_ref().unwrap();
    let q = org
        .policies
        .iter()
        .find(|p| p.name == QUARANTINE_POLICY)
        .expect("quarantine policy created");
    assert!(q.targets.is_empty(), "still quarantined: {:?}", q.targets);
    assert_eq!(org.accounts.len(), 1 + cfg.accounts.len());
}

#[test]
fn drift_is_repaired_in_one_round() {
    let cfg = config();
    let fx = SnapshotEffects::new(fresh(), &cfg);
    let log = AuditLog::counting();
    converge(&cfg, &fx, &log);
    let mut s = fx.snapshot();
    let org = s.organization.as_mut().unwrap();
    org.policies
        .iter_mut()
        .find(|p| p.name == "rampart-workloads-1")
        .unwrap()
        .targets
        .clear();
    // Log Archive, not Audit: a detector re-created in Audit also needs its organization
    // auto-enable set again, in the next round.
    let member = org
        .accounts
        .iter()
        .find(|a| a.name == "Log Archive")
        .unwrap()
        .id
        .clone();
    for a in s.accounts.iter_mut() {
        if a.account_id == member {
            a.regions[0].ebs_encryption_by_default = false;
            a.regions[1].guardduty = None;
        }
        if a.account_id == MGMT {
            a.trails[0].is_logging = Some(false);
        }
    }
    let fx = SnapshotEffects::new(s, &cfg);
    let p = plan(&cfg, &fx.snapshot()).unwrap();
    let mut ids: Vec<&str> = p.changes.iter().map(|c| c.id.as_str()).collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![
            "attach:rampart-workloads-1:Workloads".to_string(),
            format!("ebs:{member}:eu-west-1"),
            format!("guardduty:{member}:eu-central-1"),
            "trail-logging:rampart-org-trail".into(),
        ]
    );
    assert_eq!(converge(&cfg, &fx, &log), 1);
}

/// Fails one change; counts how many run at once.
struct Flaky<'a> {
    inner: &'a SnapshotEffects,
    fail: &'a str,
    running: AtomicUsize,
    peak: AtomicUsize,
}

impl Effects for Flaky<'_> {
    fn apply(&self, change: &Change, log: &AuditLog) -> Result<(), String> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(std::time::Duration::from_millis(2));
        let r = if change.id == self.fail {
            let e = Err("organizations:CreateOrganizationalUnit: AccessDenied".to_string());
            log.record(change, &change.account, "CreateOu", json!({}), &e);
            e
        } else {
            self.inner.apply(change, log)
        };
        self.running.fetch_sub(1, Ordering::SeqCst);
        r
    }
}

#[test]
fn a_failure_blocks_only_its_dependents_and_concurrency_is_bounded() {
    let cfg = config();
    let fx = SnapshotEffects::new(fresh(), &cfg);
    let flaky = Flaky {
        inner: &fx,
        fail: "ou:Workloads",
        running: AtomicUsize::new(0),
        peak: AtomicUsize::new(0),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::append_to(&path).unwrap();
    let p = plan(&cfg, &fx.snapshot()).unwrap();
    let r = execute(&p, &flaky, &log, &ApplyOptions { concurrency: 3 });
    assert_eq!(r.failed.len(), 1);
    assert!(r.failed[0].reason.contains("AccessDenied"));
    let blocked: Vec<&str> = r.blocked.iter().map(|b| b.id.as_str()).collect();
    assert!(blocked.contains(&"ou:Workloads/Prod"), "{blocked:?}");
    assert!(blocked.contains(&"attach:rampart-workloads-1:Workloads"));
    assert!(r.applied.contains(&"ou:Security".to_string()));
    assert!(r.applied.contains(&"account:Audit".to_string()));
    assert_eq!(
        r.applied.len() + r.failed.len() + r.blocked.len(),
        p.changes.len()
    );
    let peak = flaky.peak.load(Ordering::SeqCst);
    assert!((2..=3).contains(&peak), "peak concurrency {peak}");
    // One line per call, each naming its change, account, API and outcome.
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, log.calls());
    assert_eq!(log.failures(), 1);
    for l in &lines {
        for k in ["time", "change", "account", "api", "parameters", "outcome"] {
            assert!(l.get(k).is_some(), "{k} missing in {l}");
        }
    }
    assert!(
        lines
            .iter()
            .any(|l| l["outcome"].as_str().unwrap().starts_with("error: "))
    );
    // Re-running after the failure is fixed converges without duplicates.
    let again = plan(&cfg, &fx.snapshot()).unwrap();
    assert!(
        again
            .changes
            .iter()
            .all(|c| !r.applied.contains(&c.id) || matches!(c.action, Action::DetachPolicy { .. }))
    );
    converge(&cfg, &fx, &AuditLog::counting());
    let snap = fx.snapshot();
    let org = snap.organization.as_ref().unwrap();
    let mut names: Vec<&str> = org
        .organizational_units
        .iter()
        .map(|o| o.name.as_str())
        .collect();
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n, "duplicate OUs: {names:?}");
}

#[test]
fn rcps_converge_on_the_fake_and_drift_is_repaired() {
    let cfg = crate::plan::tests::config_with_rcps();
    let fx = SnapshotEffects::new(fresh(), &cfg);
    let log = AuditLog::counting();
    converge(&cfg, &fx, &log);
    let snap = fx.snapshot();
    let org = snap.organization.as_ref().unwrap();
    let rcps: Vec<&OrgPolicy> = org
        .policies
        .iter()
        .filter(|p| p.policy_type == "RESOURCE_CONTROL_POLICY" && !p.aws_managed)
        .collect();
    assert_eq!(rcps.len(), 2, "{rcps:#?}");
    // AWS's own RCPFullAWSAccess stays where AWS put it.
    let full = org
        .policies
        .iter()
        .find(|p| p.name == "RCPFullAWSAccess")
        .expect("enabling RCPs attaches RCPFullAWSAccess");
    assert_eq!(full.targets, vec![org.roots[0].id.clone()]);
    assert!(rcps.iter().all(|p| p.targets.len() == 1));
    assert!(
        rcps.iter()
            .any(|p| p.content.contains(&format!("\"{}\"", org.id)))
    );
    assert!(plan(&cfg, &snap).unwrap().changes.is_empty());
    // Detached out of band: re-attached in one round.
    let mut s = snap.clone();
    s.organization
        .as_mut()
        .unwrap()
        .policies
        .iter_mut()
        .find(|p| p.name == "rampart-rcp-workloads-1")
        .unwrap()
        .targets
        .clear();
    let fx = SnapshotEffects::new(s, &cfg);
    assert_eq!(converge(&cfg, &fx, &log), 1);
}
