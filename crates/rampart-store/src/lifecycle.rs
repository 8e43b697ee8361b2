//! The finding lifecycle as pure functions: what one run does to one finding ([`step`]), and
//! which absent findings a run may declare gone ([`RunScope::covers`]).
//!
//! The store applies exactly these functions when it records an audit; the property test
//! replays whole histories through them in memory and compares with what the store kept.

use crate::model::{LifeEventKind, LifeStatus, Time};
use rampart_core::Status;
use std::collections::{HashMap, HashSet};

/// The part of a finding's life that events record and runs change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    pub status: LifeStatus,
    /// Inside an open problem period: FAIL, or ERROR after FAIL.
    pub open: bool,
    pub suppressed: bool,
    pub first_seen: Time,
    pub last_seen: Time,
    pub opened_at: Option<Time>,
    pub resolved_at: Option<Time>,
    pub reopened: u32,
}

/// What a run says about one finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// The run produced the finding.
    Present { status: Status, suppressed: bool },
    /// The run did not produce it although it observed its account, region and control
    /// without error ([`RunScope::covers`]). Absence outside an observed scope is no
    /// observation at all and must not be stepped.
    Gone,
}

/// The finding's state after one run, and the event to record if (status, open, suppressed)
/// changed. `None` when there is nothing to keep (a finding never seen is not gone).
///
/// Rules: FAIL opens a period (Opened; Reopened after an earlier resolution); PASS,
/// NOT_APPLICABLE, MANUAL or Gone end it (Resolved); ERROR leaves `open` as it was (an account
/// we cannot see is never resolved); suppression is a flag beside the status.
pub fn step(
    prev: Option<&State>,
    obs: Observation,
    at: Time,
) -> Option<(State, Option<LifeEventKind>)> {
    let (status, suppressed) = match obs {
        Observation::Present { status, suppressed } => (LifeStatus::from(status), suppressed),
        Observation::Gone => {
            let prev = prev?;
            (LifeStatus::Gone, prev.suppressed)
        }
    };
    let present = status != LifeStatus::Gone;
    let was_open = prev.is_some_and(|p| p.open);
    let open = match status {
        LifeStatus::Fail => true,
        LifeStatus::Error => was_open,
        _ => false,
    };
    let Some(prev) = prev else {
        let state = State {
            status,
            open,
            suppressed,
            first_seen: at,
            last_seen: at,
            opened_at: open.then_some(at),
            resolved_at: None,
            reopened: 0,
        };
        let kind = if open {
            LifeEventKind::Opened
        } else if status == LifeStatus::Error {
            LifeEventKind::Unobservable
        } else {
            LifeEventKind::Appeared
        };
        return Some((state, Some(kind)));
    };
    let mut state = prev.clone();
    state.status = status;
    state.open = open;
    state.suppressed = suppressed;
    if present {
        state.last_seen = at;
    }
    let kind = if open && !was_open {
        state.opened_at = Some(at);
        if prev.resolved_at.is_some() {
            state.reopened += 1;
            state.resolved_at = None;
            Some(LifeEventKind::Reopened)
        } else {
            Some(LifeEventKind::Opened)
        }
    } else if was_open && !open {
        state.resolved_at = Some(at);
        Some(LifeEventKind::Resolved)
    } else if status != prev.status {
        Some(match status {
            LifeStatus::Error => LifeEventKind::Unobservable,
            LifeStatus::Gone => LifeEventKind::Gone,
            _ if prev.status == LifeStatus::Gone => LifeEventKind::Appeared,
            _ => LifeEventKind::StatusChanged,
        })
    } else if suppressed != prev.suppressed {
        Some(if suppressed {
            LifeEventKind::Suppressed
        } else {
            LifeEventKind::Unsuppressed
        })
    } else {
        None
    };
    Some((state, kind))
}

/// What one audit observed: its controls, and per account whether it was entered, which
/// regions were read, and which (control, region) pairs reported ERROR.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunScope {
    pub controls: HashSet<String>,
    pub accounts: HashMap<String, AccountScope>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountScope {
    pub unreachable: bool,
    pub regions: HashSet<String>,
    /// (control, region) pairs with at least one ERROR finding in this run.
    pub errors: Vec<(String, String)>,
}

impl RunScope {
    /// The scope rule: a run may declare a finding gone only when it observed the finding's
    /// account (listed and entered), its region (read, or `global`), and its control
    /// (evaluated), and no ERROR finding of that control, account and region says the
    /// observation was incomplete.
    pub fn covers(&self, control: &str, account: &str, region: &str) -> bool {
        let Some(acc) = self.accounts.get(account) else {
            return false;
        };
        !acc.unreachable
            && (region == "global" || acc.regions.contains(region))
            && self.controls.contains(control)
            && !acc.errors.iter().any(|(c, r)| c == control && r == region)
    }

    /// The account and region were observed (the control set is not considered): what the
    /// diff calls observable.
    pub fn observes_place(&self, account: &str, region: &str) -> bool {
        self.accounts.get(account).is_some_and(|acc| {
            !acc.unreachable && (region == "global" || acc.regions.contains(region))
        })
    }

    /// An ERROR finding of this control, account and region was reported.
    pub fn has_error(&self, control: &str, account: &str, region: &str) -> bool {
        self.accounts
            .get(account)
            .is_some_and(|acc| acc.errors.iter().any(|(c, r)| c == control && r == region))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(day: u32) -> Time {
        chrono::Utc.with_ymd_and_hms(2026, 1, day, 0, 0, 0).unwrap()
    }

    fn present(status: Status) -> Observation {
        Observation::Present {
            status,
            suppressed: false,
        }
    }

    /// Steps a sequence of observations, returning the final state and the events.
    fn run(obs: &[Observation]) -> (Option<State>, Vec<LifeEventKind>) {
        let mut state: Option<State> = None;
        let mut events = Vec::new();
        for (i, o) in obs.iter().enumerate() {
            if let Some((s, e)) = step(state.as_ref(), *o, t(i as u32 + 1)) {
                events.extend(e);
                state = Some(s);
            }
        }
        (state, events)
    }

    #[test]
    fn fail_opens_pass_resolves_fail_reopens() {
        use LifeEventKind::*;
        let (s, ev) = run(&[
            present(Status::Pass),
            present(Status::Fail),
            present(Status::Fail),
            present(Status::Pass),
            present(Status::Fail),
        ]);
        assert_eq!(ev, vec![Appeared, Opened, Resolved, Reopened]);
        let s = s.unwrap();
        assert!(s.open);
        assert_eq!(s.first_seen, t(1));
        assert_eq!(s.last_seen, t(5));
        assert_eq!(s.opened_at, Some(t(5)));
        assert_eq!(s.resolved_at, None);
        assert_eq!(s.reopened, 1);
    }

    #[test]
    fn error_after_fail_keeps_the_period_open() {
        use LifeEventKind::*;
        let (s, ev) = run(&[
            present(Status::Fail),
            present(Status::Error),
            present(Status::Fail),
        ]);
        assert_eq!(ev, vec![Opened, Unobservable, StatusChanged]);
        let s = s.unwrap();
        assert!(s.open);
        assert_eq!(s.opened_at, Some(t(1)));
        assert_eq!(s.reopened, 0);
    }

    #[test]
    fn error_after_pass_does_not_open() {
        let (s, ev) = run(&[present(Status::Pass), present(Status::Error)]);
        assert_eq!(
            ev,
            vec![LifeEventKind::Appeared, LifeEventKind::Unobservable]
        );
        assert!(!s.unwrap().open);
    }

    #[test]
    fn gone_resolves_an_open_finding_and_is_remembered() {
        use LifeEventKind::*;
        let (s, ev) = run(&[present(Status::Fail), Observation::Gone, Observation::Gone]);
        assert_eq!(ev, vec![Opened, Resolved]);
        let s = s.unwrap();
        assert_eq!(s.status, LifeStatus::Gone);
        assert_eq!(s.last_seen, t(1));
        assert_eq!(s.resolved_at, Some(t(2)));
        let (_, ev) = run(&[
            present(Status::Pass),
            Observation::Gone,
            present(Status::Pass),
        ]);
        assert_eq!(ev, vec![Appeared, Gone, Appeared]);
    }

    #[test]
    fn never_seen_and_gone_is_nothing() {
        assert!(step(None, Observation::Gone, t(1)).is_none());
    }

    #[test]
    fn suppression_is_a_flag_beside_the_status() {
        let (s, ev) = run(&[
            present(Status::Fail),
            Observation::Present {
                status: Status::Fail,
                suppressed: true,
            },
            present(Status::Fail),
        ]);
        assert_eq!(
            ev,
            vec![
                LifeEventKind::Opened,
                LifeEventKind::Suppressed,
                LifeEventKind::Unsuppressed
            ]
        );
        assert!(s.unwrap().open);
    }

    #[test]
    fn unchanged_observations_write_no_event() {
        let (_, ev) = run(&[
            present(Status::NotApplicable),
            present(Status::NotApplicable),
            present(Status::NotApplicable),
        ]);
        assert_eq!(ev, vec![LifeEventKind::Appeared]);
    }

    #[test]
    fn scope_needs_account_region_control_and_no_error() {
        let mut scope = RunScope::default();
        scope.controls.insert("c1".into());
        scope.accounts.insert(
            "a".into(),
            AccountScope {
                unreachable: false,
                regions: ["eu-west-1".to_string()].into(),
                errors: vec![("c1".into(), "us-east-1".into())],
            },
        );
        scope.accounts.insert(
            "down".into(),
            AccountScope {
                unreachable: true,
                regions: ["eu-west-1".to_string()].into(),
                errors: vec![],
            },
        );
        assert!(scope.covers("c1", "a", "eu-west-1"));
        assert!(scope.covers("c1", "a", "global"));
        assert!(
            !scope.covers("c2", "a", "eu-west-1"),
            "control not evaluated"
        );
        assert!(!scope.covers("c1", "a", "ap-south-1"), "region not read");
        assert!(!scope.covers("c1", "b", "eu-west-1"), "account not listed");
        assert!(
            !scope.covers("c1", "down", "eu-west-1"),
            "account unreachable"
        );
        scope
            .accounts
            .get_mut("a")
            .unwrap()
            .regions
            .insert("us-east-1".into());
        assert!(!scope.covers("c1", "a", "us-east-1"), "ERROR in that place");
    }
}
