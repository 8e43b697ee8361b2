//! The routing state machine, with time passed in: `submit` decides where each alert goes
//! (now, into a digest, or held back by a rate limit) and schedules its escalation; `tick`
//! fires due escalations and digests and makes the deliveries that are due, retrying failed
//! ones later with backoff. Nothing is dropped: a failed delivery stays in the outbox.

use crate::config::{Route, Routes};
use crate::format::{self, Kind, Outgoing};
use crate::matcher::{OrgTree, Subject, select};
use crate::state::{Ack, Journal, Pending, PendingKind, Scheduled, State, Stored};
use rampart_detect::Alert;

/// A refused delivery: a message safe to print, and how long the receiver asked to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub retry_after: Option<i64>,
}

/// Makes the requests (HTTP, SNS). Errors must not contain secrets.
pub trait Transport {
    fn send(&mut self, out: &Outgoing) -> Result<(), Refusal>;
}

/// Longest wait between two attempts of one delivery.
pub const MAX_BACKOFF_SECS: i64 = 300;

/// Wait before attempt `attempts + 1`: 5 s, 10 s, 20 s, … capped at [`MAX_BACKOFF_SECS`].
pub fn backoff(attempts: u32) -> i64 {
    (5i64 << attempts.saturating_sub(1).min(16)).min(MAX_BACKOFF_SECS)
}

/// How long routed alerts with nothing left to do are remembered (the delivery log keeps a
/// re-read alert from going out twice within it).
pub const RETENTION_SECS: i64 = 30 * 86400;

/// What a tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Messages delivered (a digest counts once).
    pub delivered: u64,
    /// Alerts those messages carried.
    pub alerts_delivered: u64,
    pub escalated: u64,
    pub digests: u64,
    /// Attempts that failed (the deliveries stay queued).
    pub failed: u64,
    /// Deliveries still queued after the tick.
    pub queued: u64,
    /// One line per failing route (no secrets).
    pub errors: Vec<String>,
}

/// An alert as `rampart alerts list` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub id: String,
    pub summary: String,
    pub routed_at: i64,
    pub routes: Vec<String>,
    pub ack: Option<Ack>,
    /// Routes still to deliver to (queued or buffered).
    pub pending: Vec<String>,
    /// The next escalation: target route and due time.
    pub escalation: Option<(String, i64)>,
}

pub struct Router {
    routes: Routes,
    org: OrgTree,
    pub state: State,
}

impl Router {
    pub fn new(routes: Routes, org: OrgTree, state: State) -> Router {
        Router { routes, org, state }
    }

    pub fn routes(&self) -> &Routes {
        &self.routes
    }

    /// Routes a batch at `now`; returns the alerts no route took (for the CLI's own sinks).
    pub fn submit(&mut self, alerts: &[Alert], now: i64) -> Vec<Alert> {
        let mut unrouted = Vec::new();
        for a in alerts {
            let picked = select(&self.routes.routes, &Subject::of(a), &self.org);
            if picked.is_empty() {
                unrouted.push(a.clone());
                continue;
            }
            let id = a.id();
            let names: Vec<String> = picked.iter().map(|r| r.name.clone()).collect();
            let stored = self
                .state
                .alerts
                .entry(id.clone())
                .or_insert_with(|| Stored {
                    record: serde_json::to_value(a).unwrap_or_default(),
                    routed_at: now,
                    routes: Vec::new(),
                    ack: None,
                });
            for n in &names {
                if !stored.routes.contains(n) {
                    stored.routes.push(n.clone());
                }
            }
            let acked = stored.ack.is_some();
            let routes: Vec<Route> = picked.into_iter().cloned().collect();
            for r in &routes {
                if self.state.claimed(&r.name, &id) {
                    continue;
                }
                self.place(r, a, &id, now);
                if !acked {
                    self.schedule_escalation(r, &id, now);
                }
            }
        }
        unrouted
    }

    /// Now, into the digest, or (over the rate limit) into the digest due at the window's end.
    fn place(&mut self, r: &Route, a: &Alert, id: &str, now: i64) {
        if let Some(d) = r.digest
            && a.severity() <= d.max_severity
        {
            let due = now.div_euclid(d.window_secs) * d.window_secs + d.window_secs;
            self.state.buffer(&r.name, id, due);
            return;
        }
        if let Some(limit) = r.rate_limit {
            let start = now.div_euclid(limit.per_secs) * limit.per_secs;
            let w = self
                .state
                .rate
                .entry(r.name.clone())
                .or_insert(crate::state::Window { start, sent: 0 });
            if w.start != start {
                *w = crate::state::Window { start, sent: 0 };
            }
            if w.sent >= limit.count {
                self.state.buffer(&r.name, id, start + limit.per_secs);
                return;
            }
            w.sent += 1;
        }
        self.state.enqueue(Pending {
            route: r.name.clone(),
            key: id.to_string(),
            ids: vec![id.to_string()],
            kind: PendingKind::Alert,
            attempts: 0,
            next_try: now,
            last_error: None,
        });
    }

    fn schedule_escalation(&mut self, r: &Route, id: &str, now: i64) {
        if let Some(e) = &r.escalation
            && !self
                .state
                .escalations
                .iter()
                .any(|s| s.id == id && s.to == e.to)
        {
            self.state.escalations.push(Scheduled {
                id: id.to_string(),
                from: r.name.clone(),
                to: e.to.clone(),
                due: now + e.after_secs,
                after_secs: e.after_secs,
            });
        }
    }

    /// Acknowledges an alert (a unique id prefix of at least 6 characters will do): its
    /// escalations are cancelled (also one due but still queued behind a failing receiver) and
    /// PagerDuty routes that paged it are told. Returns the id.
    pub fn ack(
        &mut self,
        id: &str,
        by: &str,
        comment: Option<&str>,
        now: i64,
    ) -> Result<String, String> {
        let id = self.resolve(id)?;
        if let Some(a) = &self.state.alerts[&id].ack {
            return Err(format!(
                "alert {id} was already acknowledged by {} at {}",
                a.by,
                crate::rfc3339(a.at)
            ));
        }
        self.acknowledge(
            &id,
            Ack {
                by: by.to_string(),
                comment: comment.map(str::to_string),
                at: now,
            },
            now,
        );
        Ok(id)
    }

    /// Takes in acknowledgements recorded outside this router (the store's one alert-state
    /// table, written by `rampart alerts ack` and by the dashboard's acknowledge or resolve):
    /// each routed alert not yet acknowledged is acknowledged exactly as [`Router::ack`] does,
    /// escalations cancelled and PagerDuty told. Unknown ids (alerts never routed) and alerts
    /// already acknowledged are left alone. Returns the ids newly acknowledged.
    pub fn adopt_acks(
        &mut self,
        acks: impl IntoIterator<Item = (String, Ack)>,
        now: i64,
    ) -> Vec<String> {
        let mut adopted = Vec::new();
        for (id, ack) in acks {
            let id = id.trim().to_ascii_lowercase();
            if self.state.alerts.get(&id).is_some_and(|s| s.ack.is_none()) {
                self.acknowledge(&id, ack, now);
                adopted.push(id);
            }
        }
        adopted
    }

    /// Marks `id` acknowledged, calls off its escalations and queues the PagerDuty ack.
    fn acknowledge(&mut self, id: &str, ack: Ack, now: i64) {
        let Some(stored) = self.state.alerts.get_mut(id) else {
            return;
        };
        let by = ack.by.clone();
        stored.ack = Some(ack);
        let routes = stored.routes.clone();
        // escalations not yet due, and those due but not yet delivered, are called off
        self.state.escalations.retain(|s| s.id != id);
        self.state.cancel_escalations(id);
        // every route that paged it (the first routes, and escalation targets delivered to)
        let paged: Vec<String> = self
            .routes
            .routes
            .iter()
            .filter(|r| matches!(r.destination, crate::config::Destination::PagerDuty { .. }))
            .filter(|r| routes.contains(&r.name) || self.state.is_delivered(&r.name, id))
            .map(|r| r.name.clone())
            .collect();
        for route in paged {
            let key = format!("ack:{id}");
            if self.state.is_delivered(&route, &key) {
                continue;
            }
            self.state.enqueue(Pending {
                route,
                key,
                ids: vec![id.to_string()],
                kind: PendingKind::Acknowledged { by: by.clone() },
                attempts: 0,
                next_try: now,
                last_error: None,
            });
        }
    }

    fn resolve(&self, id: &str) -> Result<String, String> {
        let id = id.trim().to_ascii_lowercase();
        if self.state.alerts.contains_key(&id) {
            return Ok(id);
        }
        if id.len() >= 6 {
            let found: Vec<&String> = self
                .state
                .alerts
                .keys()
                .filter(|k| k.starts_with(&id))
                .collect();
            match found[..] {
                [one] => return Ok(one.clone()),
                [] => {}
                _ => {
                    return Err(format!(
                        "{id} names {} alerts; give more of the id",
                        found.len()
                    ));
                }
            }
        }
        Err(format!(
            "no routed alert {id}; `rampart alerts list` shows the routed alerts"
        ))
    }

    /// Makes every queued delivery due now (a caller retrying within a run).
    pub fn retry_now(&mut self, now: i64) {
        for p in &mut self.state.outbox {
            p.next_try = p.next_try.min(now);
        }
    }

    /// Fires due escalations and digests, then makes the due deliveries.
    pub fn tick(
        &mut self,
        now: i64,
        transport: &mut dyn Transport,
        journal: &mut dyn Journal,
    ) -> TickReport {
        let mut rep = TickReport::default();
        self.fire_escalations(now, &mut rep);
        self.fire_digests(now, &mut rep);
        self.deliver(now, transport, journal, &mut rep);
        self.state.prune(now - RETENTION_SECS);
        rep.queued = self.state.outbox.len() as u64
            + self
                .state
                .digests
                .values()
                .map(|b| b.ids.len() as u64)
                .sum::<u64>();
        rep
    }

    fn fire_escalations(&mut self, now: i64, rep: &mut TickReport) {
        let (due, later): (Vec<Scheduled>, Vec<Scheduled>) =
            std::mem::take(&mut self.state.escalations)
                .into_iter()
                .partition(|s| s.due <= now);
        self.state.escalations = later;
        for s in due {
            let acked = self.state.alerts.get(&s.id).is_none_or(|a| a.ack.is_some());
            let Some(target) = self.routes.get(&s.to).cloned() else {
                continue;
            };
            if acked || self.state.claimed(&target.name, &s.id) {
                continue;
            }
            rep.escalated += 1;
            self.state.enqueue(Pending {
                route: target.name.clone(),
                key: s.id.clone(),
                ids: vec![s.id.clone()],
                kind: PendingKind::Escalation {
                    from: s.from.clone(),
                    after_secs: s.after_secs,
                },
                attempts: 0,
                next_try: now,
                last_error: None,
            });
            if let Some(stored) = self.state.alerts.get_mut(&s.id)
                && !stored.routes.contains(&target.name)
            {
                stored.routes.push(target.name.clone());
            }
            self.schedule_escalation(&target, &s.id, now);
        }
    }

    fn fire_digests(&mut self, now: i64, rep: &mut TickReport) {
        let due: Vec<String> = self
            .state
            .digests
            .iter()
            .filter(|(_, b)| b.due <= now)
            .map(|(r, _)| r.clone())
            .collect();
        for route in due {
            let b = self.state.digests.remove(&route).expect("listed");
            let key = format!("digest:{route}:{}", b.due);
            let ids: Vec<String> = b
                .ids
                .into_iter()
                .filter(|id| !self.state.is_delivered(&route, id))
                .collect();
            if ids.is_empty() || self.state.is_delivered(&route, &key) {
                continue;
            }
            rep.digests += 1;
            self.state.enqueue(Pending {
                route,
                key,
                ids,
                kind: PendingKind::Digest,
                attempts: 0,
                next_try: now,
                last_error: None,
            });
        }
    }

    fn deliver(
        &mut self,
        now: i64,
        transport: &mut dyn Transport,
        journal: &mut dyn Journal,
        rep: &mut TickReport,
    ) {
        // a route that refused in this tick is not tried again before its next retry time: an
        // outage costs one failed request per route and tick, not one per queued alert
        let mut down: Vec<(String, i64, String)> = Vec::new();
        let outbox = std::mem::take(&mut self.state.outbox);
        let mut kept = Vec::with_capacity(outbox.len());
        for mut p in outbox {
            if p.next_try > now {
                kept.push(p);
                continue;
            }
            if let Some((_, until, msg)) = down.iter().find(|(r, _, _)| *r == p.route) {
                p.next_try = *until;
                p.last_error = Some(msg.clone());
                kept.push(p);
                continue;
            }
            let out = match self.routes.get(&p.route) {
                None => Err(format!(
                    "route `{}` is no longer configured; {} kept in the outbox",
                    p.route, p.key
                )),
                Some(route) => self
                    .message(route, &p, now)
                    .map_err(|e| format!("route `{}`: {e}", p.route)),
            };
            let out = match out {
                Ok(o) => o,
                Err(e) => {
                    rep.errors.push(e);
                    kept.push(p);
                    continue;
                }
            };
            match transport.send(&out) {
                Ok(()) => {
                    let mut keys = vec![p.key.clone()];
                    if p.kind == PendingKind::Digest {
                        keys.extend(p.ids.iter().cloned());
                    }
                    if let Err(e) = journal.delivered(&p.route, &keys) {
                        rep.errors.push(e);
                    }
                    self.state.record_delivered(&p.route, &p.ids, &keys);
                    rep.delivered += 1;
                    rep.alerts_delivered += p.ids.len() as u64;
                }
                Err(refusal) => {
                    rep.failed += 1;
                    p.attempts += 1;
                    let wait = backoff(p.attempts).max(refusal.retry_after.unwrap_or(0));
                    p.next_try = now + wait;
                    p.last_error = Some(refusal.message.clone());
                    rep.errors.push(format!(
                        "route `{}`: {}; retried in {}",
                        p.route,
                        refusal.message,
                        format::human(wait)
                    ));
                    down.push((p.route.clone(), now + wait, refusal.message));
                    kept.push(p);
                }
            }
        }
        // what was queued meanwhile (nothing today) goes after what was kept
        kept.append(&mut self.state.outbox);
        self.state.outbox = kept;
    }

    fn alert(&self, id: &str) -> Result<Alert, String> {
        let s = self
            .state
            .alerts
            .get(id)
            .ok_or_else(|| format!("alert {id} is not in the routing state"))?;
        Alert::from_record(&s.record).map_err(|e| format!("alert {id}: {e}"))
    }

    fn message(&self, route: &Route, p: &Pending, now: i64) -> Result<Outgoing, String> {
        if p.kind == PendingKind::Digest {
            let alerts = p
                .ids
                .iter()
                .map(|id| self.alert(id))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(format::digest(
                &route.destination,
                &route.name,
                &p.key,
                &alerts,
                now,
            ));
        }
        let a = self.alert(&p.ids[0])?;
        let kind = match &p.kind {
            PendingKind::Escalation { from, after_secs } => Kind::Escalation {
                from: from.clone(),
                after_secs: *after_secs,
            },
            PendingKind::Acknowledged { by } => Kind::Acknowledged { by: by.clone() },
            _ => Kind::Alert,
        };
        Ok(format::outgoing(&route.destination, &a, &kind, now))
    }

    /// The routed alerts, newest first; only those not acknowledged with `open`.
    pub fn list(&self, open: bool) -> Vec<Listed> {
        let mut out: Vec<Listed> = self
            .state
            .alerts
            .iter()
            .filter(|(_, s)| !open || s.ack.is_none())
            .map(|(id, s)| Listed {
                id: id.clone(),
                summary: Alert::from_record(&s.record)
                    .map(|a| a.summary())
                    .unwrap_or_else(|e| format!("(unreadable record: {e})")),
                routed_at: s.routed_at,
                routes: s.routes.clone(),
                ack: s.ack.clone(),
                pending: s
                    .routes
                    .iter()
                    .filter(|r| !self.state.is_delivered(r, id))
                    .filter(|r| self.state.claimed(r, id))
                    .cloned()
                    .collect(),
                escalation: self
                    .state
                    .escalations
                    .iter()
                    .filter(|e| &e.id == id)
                    .min_by_key(|e| e.due)
                    .map(|e| (e.to.clone(), e.due)),
            })
            .collect();
        out.sort_by(|a, b| b.routed_at.cmp(&a.routed_at).then(a.id.cmp(&b.id)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Destination, Digest, Escalation, RateLimit, Secret};
    use crate::matcher::Match;
    use crate::state::MemoryJournal;
    use crate::testing::{Recorder, alert_for};
    use proptest::prelude::*;
    use rampart_detect::ir::Severity;
    use std::collections::HashMap;

    fn route(name: &str, dest: Destination) -> Route {
        Route {
            name: name.into(),
            matcher: Match::default(),
            continue_matching: false,
            destination: dest,
            rate_limit: None,
            digest: None,
            escalation: None,
        }
    }

    fn hook(name: &str) -> Destination {
        Destination::Webhook {
            url: Secret::new(format!("http://127.0.0.1:1/{name}")),
            hmac_key: None,
        }
    }

    fn router(routes: Vec<Route>) -> Router {
        Router::new(
            Routes {
                routes,
                org_snapshot: None,
            },
            OrgTree::default(),
            State::default(),
        )
    }

    /// (route URL path, alert id or digest ids) of every message sent.
    fn sent(rec: &Recorder) -> Vec<(String, Vec<String>, String)> {
        rec.sent
            .iter()
            .map(|o| match o {
                Outgoing::Http { url, body, .. } => {
                    let v: serde_json::Value = serde_json::from_str(body).unwrap();
                    let path = url.expose().rsplit('/').next().unwrap().to_string();
                    let kind = v["rampart_kind"].as_str().unwrap_or("").to_string();
                    let ids = match v["alerts"].as_array() {
                        Some(a) => a
                            .iter()
                            .map(|r| Alert::from_record(r).unwrap().id())
                            .collect(),
                        None => vec![v["alert_id"].as_str().unwrap_or("").to_string()],
                    };
                    (path, ids, kind)
                }
                Outgoing::Sns { .. } => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn rate_limit_folds_the_excess_into_one_digest() {
        let mut r = route("chat", hook("chat"));
        r.rate_limit = Some(RateLimit {
            count: 20,
            per_secs: 60,
        });
        let mut rt = router(vec![r]);
        let alerts: Vec<Alert> = (0..25)
            .map(|k| alert_for("RD-X", Severity::High, &format!("e{k}")))
            .collect();
        let mut rec = Recorder {
            up: true,
            ..Default::default()
        };
        let mut j = MemoryJournal::default();
        assert!(rt.submit(&alerts, 120).is_empty());
        let rep = rt.tick(120, &mut rec, &mut j);
        assert_eq!((rep.delivered, rep.queued), (20, 5));
        let rep = rt.tick(179, &mut rec, &mut j);
        assert_eq!(rep.delivered, 0, "held until the window ends");
        let rep = rt.tick(180, &mut rec, &mut j);
        assert_eq!(
            (rep.delivered, rep.alerts_delivered, rep.digests),
            (1, 5, 1)
        );
        let s = sent(&rec);
        assert_eq!(s.last().unwrap().2, "digest");
        let all: Vec<String> = s.iter().flat_map(|m| m.1.clone()).collect();
        let want: Vec<String> = alerts.iter().map(Alert::id).collect();
        assert_eq!(all, want, "every alert once, in order");
    }

    #[test]
    fn digest_batches_low_severities_per_window() {
        let mut r = route("chat", hook("chat"));
        r.digest = Some(Digest {
            window_secs: 3600,
            max_severity: Severity::Low,
        });
        let mut rt = router(vec![r]);
        let mut rec = Recorder {
            up: true,
            ..Default::default()
        };
        let mut j = MemoryJournal::default();
        rt.submit(&[alert_for("RD-L", Severity::Low, "a")], 3600 * 5 + 10);
        rt.submit(&[alert_for("RD-H", Severity::High, "b")], 3600 * 5 + 20);
        rt.submit(&[alert_for("RD-I", Severity::Info, "c")], 3600 * 5 + 3000);
        let rep = rt.tick(3600 * 5 + 3000, &mut rec, &mut j);
        assert_eq!(rep.delivered, 1, "the high one at once");
        let rep = rt.tick(3600 * 6, &mut rec, &mut j);
        assert_eq!((rep.delivered, rep.alerts_delivered), (1, 2));
        assert_eq!(sent(&rec)[1].1.len(), 2);
    }

    /// `first` escalating after 15 minutes to `oncall`, a webhook no alert matches by itself.
    fn escalating_to_oncall(mut first: Route) -> (Route, Route) {
        first.escalation = Some(Escalation {
            after_secs: 900,
            to: "oncall".into(),
        });
        let mut oncall = route("oncall", hook("oncall"));
        oncall.matcher.rule = vec![crate::matcher::Glob::new("NEVER")];
        (first, oncall)
    }

    /// Two high alerts routed at 0 and delivered by a receiver that is up.
    fn two_routed(rt: &mut Router) -> (Alert, Alert, Recorder, MemoryJournal) {
        let mut rec = Recorder {
            up: true,
            ..Default::default()
        };
        let mut j = MemoryJournal::default();
        let (a, b) = (
            alert_for("RD-X", Severity::High, "a"),
            alert_for("RD-X", Severity::High, "b"),
        );
        rt.submit(&[a.clone(), b.clone()], 0);
        rt.tick(0, &mut rec, &mut j);
        (a, b, rec, j)
    }

    #[test]
    fn escalation_fires_unless_acknowledged_and_chains() {
        let (first, mut oncall) = escalating_to_oncall(route("chat", hook("chat")));
        oncall.escalation = Some(Escalation {
            after_secs: 600,
            to: "boss".into(),
        });
        let mut boss = route("boss", hook("boss"));
        boss.matcher.rule = vec![crate::matcher::Glob::new("NEVER")];
        let mut rt = router(vec![first, oncall, boss]);
        let (a, b, mut rec, mut j) = two_routed(&mut rt);
        rt.ack(&b.id()[..8], "ana", Some("mine"), 60).unwrap();
        assert!(
            rt.ack(&b.id(), "bo", None, 61)
                .unwrap_err()
                .contains("already acknowledged by ana")
        );
        assert_eq!(rt.tick(899, &mut rec, &mut j).escalated, 0);
        assert_eq!(rt.tick(900, &mut rec, &mut j).escalated, 1);
        let s = sent(&rec);
        assert_eq!(s[2], ("oncall".into(), vec![a.id()], "escalation".into()));
        assert_eq!(rt.tick(1499, &mut rec, &mut j).escalated, 0);
        assert_eq!(rt.tick(1500, &mut rec, &mut j).escalated, 1);
        assert_eq!(sent(&rec)[3].0, "boss");
        assert_eq!(
            rt.tick(99_999, &mut rec, &mut j).escalated,
            0,
            "the chain ends"
        );
        assert_eq!(rec.sent.len(), 4, "b never escalated");
        let open = rt.list(true);
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].routes, ["chat", "oncall", "boss"]);
        assert_eq!(rt.list(false).len(), 2);
        assert!(
            rt.ack("ffffffffffff", "x", None, 0)
                .unwrap_err()
                .contains("no routed alert")
        );
    }

    #[test]
    fn pagerduty_is_told_of_the_ack() {
        let pd = route(
            "page",
            Destination::PagerDuty {
                routing_key: Secret::new("K"),
                url: "http://127.0.0.1:1/pd".into(),
            },
        );
        let mut rt = router(vec![pd]);
        let mut rec = Recorder {
            up: true,
            ..Default::default()
        };
        let mut j = MemoryJournal::default();
        let a = alert_for("RD-X", Severity::Critical, "a");
        rt.submit(std::slice::from_ref(&a), 0);
        rt.tick(0, &mut rec, &mut j);
        rt.ack(&a.id(), "ana", None, 5).unwrap();
        rt.tick(5, &mut rec, &mut j);
        let actions: Vec<String> = rec
            .sent
            .iter()
            .map(|o| match o {
                Outgoing::Http { body, .. } => {
                    let v: serde_json::Value = serde_json::from_str(body).unwrap();
                    assert_eq!(v["dedup_key"], a.id());
                    v["event_action"].as_str().unwrap().to_string()
                }
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(actions, ["trigger", "acknowledge"]);
    }

    /// An ack made elsewhere (the dashboard writes the store's alert-state table; the router
    /// reads it before each tick) stops the escalation chain like `rampart alerts ack`,
    /// tells PagerDuty once, and is not taken twice.
    #[test]
    fn an_ack_recorded_elsewhere_stops_escalation_and_tells_pagerduty() {
        let (first, oncall) = escalating_to_oncall(route(
            "page",
            Destination::PagerDuty {
                routing_key: Secret::new("K"),
                url: "http://127.0.0.1:1/pd".into(),
            },
        ));
        let mut rt = router(vec![first, oncall]);
        let (a, b, mut rec, mut j) = two_routed(&mut rt);
        let dashboard = Ack {
            by: "ana".into(),
            comment: Some("looking".into()),
            at: 60,
        };
        let adopted = rt.adopt_acks(
            [
                (b.id().to_ascii_uppercase(), dashboard.clone()),
                ("0123456789abcdef".into(), dashboard.clone()),
            ],
            60,
        );
        assert_eq!(adopted, [b.id()], "the unrouted id is left alone");
        assert!(rt.adopt_acks([(b.id(), dashboard.clone())], 61).is_empty());
        assert!(
            rt.ack(&b.id(), "bo", None, 62)
                .unwrap_err()
                .contains("already acknowledged by ana"),
            "the CLI sees the dashboard's ack"
        );
        assert_eq!(rt.tick(900, &mut rec, &mut j).escalated, 1, "only a");
        let oncall: Vec<_> = sent(&rec).into_iter().filter(|m| m.0 == "oncall").collect();
        assert_eq!(
            oncall,
            [("oncall".to_string(), vec![a.id()], "escalation".to_string())],
            "b never escalated"
        );
        let acks: Vec<&str> = rec
            .sent
            .iter()
            .filter_map(|o| match o {
                Outgoing::Http { body, .. } => {
                    let v: serde_json::Value = serde_json::from_str(body).unwrap();
                    (v["event_action"] == "acknowledge").then(|| {
                        assert_eq!(v["dedup_key"], b.id());
                        "acknowledge"
                    })
                }
                _ => None,
            })
            .collect();
        assert_eq!(acks, ["acknowledge"], "PagerDuty told once");
        assert_eq!(
            rt.list(false).iter().find(|l| l.id == b.id()).unwrap().ack,
            Some(dashboard)
        );
    }

    /// An escalation already due but queued behind a failing receiver is called off by an ack
    /// taken in from elsewhere, as by `rampart alerts ack`.
    #[test]
    fn an_ack_recorded_elsewhere_cancels_a_queued_escalation() {
        let (first, oncall) = escalating_to_oncall(route("chat", hook("chat")));
        let mut rt = router(vec![first, oncall]);
        let mut down = Recorder::default();
        let mut j = MemoryJournal::default();
        let a = alert_for("RD-X", Severity::High, "a");
        rt.submit(std::slice::from_ref(&a), 0);
        assert_eq!(rt.tick(900, &mut down, &mut j).escalated, 1);
        let ack = Ack {
            by: "ana".into(),
            comment: None,
            at: 901,
        };
        assert_eq!(rt.adopt_acks([(a.id(), ack)], 901), [a.id()]);
        let mut up = Recorder {
            up: true,
            ..Default::default()
        };
        rt.retry_now(902);
        rt.tick(902, &mut up, &mut j);
        assert_eq!(
            sent(&up)
                .into_iter()
                .map(|m| (m.0, m.2))
                .collect::<Vec<_>>(),
            [("chat".to_string(), "alert".to_string())],
            "the alert itself, never the escalation"
        );
    }

    /// A failing receiver: one refused request per route and tick, backoff between attempts,
    /// and everything once when it recovers.
    #[test]
    fn outage_backs_off_and_loses_nothing() {
        let mut rt = router(vec![route("hook", hook("hook"))]);
        let mut rec = Recorder::default();
        let mut j = MemoryJournal::default();
        let alerts: Vec<Alert> = (0..100)
            .map(|k| alert_for("RD-X", Severity::High, &format!("e{k}")))
            .collect();
        rt.submit(&alerts, 0);
        let rep = rt.tick(0, &mut rec, &mut j);
        assert_eq!((rep.failed, rep.queued), (1, 100));
        assert!(
            rep.errors[0].contains("Connection refused; retried in 5s"),
            "{:?}",
            rep.errors
        );
        assert_eq!(rt.tick(4, &mut rec, &mut j).failed, 0, "waits its backoff");
        assert_eq!(rt.tick(5, &mut rec, &mut j).failed, 1);
        rec.up = true;
        assert_eq!(
            rt.tick(6, &mut rec, &mut j).delivered,
            0,
            "still backing off"
        );
        let rep = rt.tick(15, &mut rec, &mut j);
        assert_eq!((rep.delivered, rep.queued), (100, 0));
        assert_eq!(backoff(1), 5);
        assert_eq!(backoff(30), MAX_BACKOFF_SECS);
    }

    /// Operations on a router whose receiver fails and recovers, whose process restarts from
    /// its last snapshot plus the delivery journal, with acks and the clock moving on.
    #[derive(Debug, Clone)]
    enum Op {
        Submit(Vec<(u8, u8)>),
        Advance(u16),
        Up(bool),
        Ack(u8),
        Save,
        Restart,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => proptest::collection::vec((0u8..40, 0u8..5), 1..6).prop_map(Op::Submit),
            3 => (1u16..4000).prop_map(Op::Advance),
            2 => any::<bool>().prop_map(Op::Up),
            1 => (0u8..40).prop_map(Op::Ack),
            1 => Just(Op::Save),
            1 => Just(Op::Restart),
        ]
    }

    fn sev(k: u8) -> Severity {
        [
            Severity::Info,
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ][k as usize]
    }

    fn proptest_routes() -> Vec<Route> {
        let mut page = route("page", hook("page"));
        page.matcher.min_severity = Some(Severity::High);
        page.continue_matching = true;
        page.rate_limit = Some(RateLimit {
            count: 2,
            per_secs: 60,
        });
        page.escalation = Some(Escalation {
            after_secs: 900,
            to: "boss".into(),
        });
        let mut chat = route("chat", hook("chat"));
        chat.digest = Some(Digest {
            window_secs: 3600,
            max_severity: Severity::Medium,
        });
        let mut boss = route("boss", hook("boss"));
        boss.matcher.rule = vec![crate::matcher::Glob::new("NEVER")];
        vec![page, chat, boss]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Every alert reaches every route it matched exactly once (alone or in a digest),
        /// whatever the failures, restarts and timing; an escalation goes out at most once,
        /// only for an alert not acknowledged before it was due, and always for one never
        /// acknowledged.
        #[test]
        fn exactly_once_per_matching_route(ops in proptest::collection::vec(op(), 1..40)) {
            let routes = proptest_routes();
            let mut rt = router(routes.clone());
            let mut rec = Recorder { up: true, ..Default::default() };
            let mut journal = MemoryJournal::default();
            let mut snapshot = rt.state.to_json();
            let mut now = 0i64;
            let mut submitted: HashMap<String, Severity> = HashMap::new();
            let mut ids_by_n: HashMap<u8, String> = HashMap::new();
            let mut acked_at: HashMap<String, i64> = HashMap::new();
            let mut first_routed: HashMap<String, i64> = HashMap::new();
            for op in ops {
                match op {
                    Op::Submit(batch) => {
                        let alerts: Vec<Alert> = batch.iter()
                            .map(|(n, s)| alert_for("RD-X", sev(*s), &format!("e{n}-{s}")))
                            .collect();
                        for (a, (n, _)) in alerts.iter().zip(&batch) {
                            submitted.entry(a.id()).or_insert(a.severity());
                            first_routed.entry(a.id()).or_insert(now);
                            ids_by_n.insert(*n, a.id());
                        }
                        rt.submit(&alerts, now);
                        // the CLI saves after routing a batch
                        snapshot = rt.state.to_json();
                        journal = MemoryJournal::default();
                    }
                    Op::Advance(s) => now += i64::from(s),
                    Op::Up(up) => rec.up = up,
                    Op::Ack(n) => if let Some(id) = ids_by_n.get(&n)
                        && rt.ack(id, "x", None, now).is_ok() {
                        acked_at.insert(id.clone(), now);
                        snapshot = rt.state.to_json();
                        journal = MemoryJournal::default();
                    },
                    Op::Save => { snapshot = rt.state.to_json(); journal = MemoryJournal::default(); }
                    Op::Restart => {
                        let st = State::restore(Some(&snapshot), &journal.0).unwrap();
                        rt = router(routes.clone());
                        rt.state = st;
                    }
                }
                rt.tick(now, &mut rec, &mut journal);
            }
            // recovery: the receiver comes back and time passes
            rec.up = true;
            for _ in 0..6 {
                now += 3600;
                rt.tick(now, &mut rec, &mut journal);
            }
            prop_assert!(rt.state.outbox.is_empty() && rt.state.digests.is_empty());
            let mut got: HashMap<(String, String), Vec<String>> = HashMap::new();
            for (route, ids, kind) in sent(&rec) {
                for id in ids {
                    got.entry((route.clone(), id)).or_default().push(kind.clone());
                }
            }
            for (id, s) in &submitted {
                let mut want = vec!["chat"];
                if *s >= Severity::High { want.insert(0, "page"); }
                for r in want {
                    let n = got.get(&(r.to_string(), id.clone())).map_or(0, Vec::len);
                    prop_assert_eq!(n, 1, "{} on {}", id, r);
                }
                let boss = got.get(&("boss".to_string(), id.clone())).map_or(0, Vec::len);
                prop_assert!(boss <= 1);
                if boss == 1 {
                    prop_assert!(*s >= Severity::High);
                    let due = first_routed[id] + 900;
                    prop_assert!(acked_at.get(id).is_none_or(|t| *t >= due),
                        "escalated after an ack before it was due");
                }
                if *s >= Severity::High && !acked_at.contains_key(id) {
                    prop_assert_eq!(boss, 1, "never acknowledged, so escalated");
                }
            }
            prop_assert!(got.keys().all(|(_, id)| submitted.contains_key(id)));
        }
    }
}
