//! Password spraying and brute force against console sign-in: failures counted across events in
//! a sliding window of event time, per source address (many distinct users: spraying) and per
//! user (many failures: brute force).
//!
//! **Attempts.** A console sign-in (`ConsoleLogin`, `responseElements.ConsoleLogin` `Success`
//! or `Failure`) and IAM Identity Center's sign-in steps (`CredentialChallenge`,
//! `CredentialVerification`, `UserAuthentication` on `signin.amazonaws.com` or
//! `sso.amazonaws.com`, with `serviceEventDetails.<step>` `Failure`; `UserAuthentication`
//! `Success` is a success). Refused API calls (`GetSessionToken`, `AssumeRole` with
//! AccessDenied) are not sign-ins and are not counted. The user is `additionalEventData.UserName`
//! (Identity Center), else `userIdentity.userName`, `root` for the root user, else the session
//! ARN, qualified by the account; a name AWS hides (`HIDDEN_DUE_TO_SECURITY_REASONS`: a user
//! that does not exist) is an unknown user, counted as a distinct user for spraying and never
//! keyed for brute force.
//!
//! **Bursts.** When `spray_users` distinct users failed from one source, or `brute_force_failures`
//! failures hit one user, within `window_secs`, a burst opens. It counts every further failure
//! (and the users and sources involved, named up to [`NAMED`]) and notes a success of the same
//! source or user, until a whole window passes without a failure or success on it; then one
//! alert is emitted: its count is the failures (and successes), its first/last times the
//! burst's, and a success after the failures raises it to critical with a title that says so.
//! "Passes" is measured by the newest sign-in event time seen, so a batch run gives the same
//! alerts however its files are split; [`SigninTracker::finish`] closes what is still open.
//!
//! **Bounded memory.** At most `max_tracked` sources and `max_tracked` users are remembered (the
//! least recently active are forgotten first), each with at most the threshold's number of
//! recent failures, and at most `max_tracked` bursts are open (the oldest is emitted early).
//!
//! **Threads.** The tracker learns from attempts in order. A worker of
//! [`crate::parallel::detect_files`] records each attempt with the number of alerts raised
//! before it, and the calling thread replays them between those alerts in file order
//! ([`crate::detector::Detector::absorb`]): the alerts are those of one thread.

use crate::alert::Alert;
use crate::event::Event;
use crate::ir::{Condition, Rule, RuleMeta, RuleSource, Severity};
use crate::runbook::{Contact, Entry, Runbook, common, note as advice, sh, sql};
use hashbrown::HashMap;
use serde_json::{Value, json};
use std::hash::{BuildHasher, Hash};

/// Sign-in failure thresholds (`[detect]` in rampart.toml).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigninConfig {
    /// The sliding window, in seconds of event time.
    pub window_secs: i64,
    /// Distinct users failing from one source within the window that make a spray.
    pub spray_users: usize,
    /// Failures on one user within the window that make a brute force.
    pub brute_force_failures: usize,
    /// Upper bound on remembered sources, on remembered users and on open bursts.
    pub max_tracked: usize,
}

impl Default for SigninConfig {
    fn default() -> Self {
        SigninConfig {
            window_secs: 30 * 60,
            spray_users: 10,
            brute_force_failures: 10,
            max_tracked: 10_000,
        }
    }
}

impl SigninConfig {
    /// A one-line error for a setting that cannot work.
    pub fn check(&self) -> Result<(), String> {
        if self.window_secs <= 0 {
            return Err("signin_window_minutes must be at least 1".into());
        }
        if self.spray_users < 2 {
            return Err("spray_users must be at least 2 (one user is brute force)".into());
        }
        if self.brute_force_failures < 2 {
            return Err("brute_force_failures must be at least 2".into());
        }
        if self.max_tracked == 0 {
            return Err("signin_max_tracked must be at least 1".into());
        }
        Ok(())
    }
}

/// Users (spraying) and sources (brute force) an alert names; more are counted, not named.
pub const NAMED: usize = 20;
/// Distinct users or sources a burst counts exactly; beyond, the count says "at least".
const DISTINCT_CAP: usize = 1_000;
/// The name standing for a user AWS hid.
const UNKNOWN: &str = "(unknown user)";

/// One sign-in attempt, read from an event (owned, so a worker thread can hand it over).
#[derive(Debug, Clone)]
pub struct Attempt {
    t: i64,
    failed: bool,
    source: Option<Box<str>>,
    /// `name@account`; `None` for a user AWS hid.
    user: Option<Box<str>>,
    /// The event's alert fields, which a burst's alert takes (its rule is replaced).
    event: Alert,
}

/// The event names of sign-in attempts, on [`SIGNIN_SOURCES`].
const STEPS: [&str; 4] = [
    "ConsoleLogin",
    "CredentialChallenge",
    "CredentialVerification",
    "UserAuthentication",
];
const SIGNIN_SOURCES: [&str; 2] = ["signin.amazonaws.com", "sso.amazonaws.com"];

/// Whether `ev` may be a sign-in attempt: read from the typed header only, so every other
/// event costs two comparisons.
pub fn maybe_attempt(ev: &Event<'_>) -> bool {
    let h = ev.header();
    h.event_source
        .as_deref()
        .is_some_and(|s| SIGNIN_SOURCES.contains(&s))
        && h.event_name.as_deref().is_some_and(|n| STEPS.contains(&n))
}

/// The attempt `ev` records, if it is one with a known outcome and a readable time.
pub fn attempt_of(
    ev: &Event<'_>,
    rule: &Rule,
    origin: Option<&dyn Fn() -> String>,
) -> Option<Attempt> {
    if !maybe_attempt(ev) {
        return None;
    }
    let h = ev.header();
    let t = h.event_time.as_deref().and_then(crate::alert::parse_time)?;
    let name = h.event_name.as_deref()?;
    let doc = ev.doc()?;
    let at = |p: &str| doc.pointer(p).and_then(Value::as_str);
    let failed = if name == "ConsoleLogin" {
        match at("/responseElements/ConsoleLogin") {
            Some("Success") => false,
            Some("Failure") => true,
            _ if doc.get("errorMessage").is_some_and(|m| !m.is_null()) => true,
            _ => return None,
        }
    } else {
        match doc
            .pointer(&format!("/serviceEventDetails/{name}"))
            .and_then(Value::as_str)
        {
            Some("Failure") => true,
            Some("Success") if name == "UserAuthentication" => false,
            _ => return None,
        }
    };
    let account = h
        .recipient_account_id
        .as_deref()
        .or_else(|| at("/userIdentity/accountId"))
        .unwrap_or("-");
    let kind = at("/userIdentity/type");
    let named = at("/additionalEventData/UserName")
        .or_else(|| at("/userIdentity/userName"))
        .or_else(|| (kind == Some("Root")).then_some("root"))
        .or_else(|| at("/userIdentity/arn"));
    let user = named
        .filter(|n| !n.is_empty() && *n != "HIDDEN_DUE_TO_SECURITY_REASONS")
        .map(|n| format!("{n}@{account}").into_boxed_str());
    Some(Attempt {
        t,
        failed,
        source: h.source_ip_address.as_deref().map(Into::into),
        user,
        event: Alert::new(rule, ev, origin.map(|o| o())),
    })
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Spray,
    BruteForce,
}

/// A source's or a user's recent failures (newest time first seen wins; at most the threshold).
#[derive(Debug)]
struct Recent {
    /// Newest event time seen on this key.
    newest: i64,
    /// Insertion order among keys, for a deterministic eviction at equal times.
    seq: u64,
    /// Spraying: (user id, name, last failure time, failures in window) per distinct user.
    /// Brute force: (0, source, failure time, 1) per failure.
    entries: Vec<(u64, Box<str>, i64, u64)>,
}

/// An open burst.
#[derive(Debug)]
struct Burst {
    seq: u64,
    first: i64,
    first_text: Option<String>,
    /// Last failure or success on the key: the burst closes a window after it.
    last: i64,
    failures: u64,
    successes: u64,
    /// Users tried (spraying) or sources used (brute force), named and counted.
    named: Vec<Box<str>>,
    distinct: hashbrown::HashSet<u64>,
    /// Sources (spraying) or users (brute force): the other side, named only.
    others: Vec<Box<str>>,
    /// The first success after the failures: who, when.
    success: Option<(Box<str>, String)>,
    /// The latest failure's event, or the first success's.
    event: Alert,
}

/// The sign-in failure detector: see the module documentation.
pub struct SigninTracker {
    cfg: SigninConfig,
    recent: [HashMap<Box<str>, Recent>; 2],
    open: HashMap<(Kind, Box<str>), Burst>,
    /// Newest sign-in event time seen.
    watermark: i64,
    /// Earliest time an open burst may close (`last + window`).
    next_close: i64,
    seq: u64,
    /// Ids of unknown users (each hidden name is a distinct user).
    unknown: u64,
    hasher: hashbrown::DefaultHashBuilder,
    rules: [Rule; 4],
}

impl SigninTracker {
    pub fn new(cfg: SigninConfig) -> SigninTracker {
        let [spray, brute] = SigninTracker::catalogue();
        let graver = |r: &Rule, title: &str| {
            let mut r = r.clone();
            r.meta.title = title.into();
            r.meta.severity = Severity::Critical;
            r
        };
        let rules = [
            graver(
                &spray,
                "Password spraying from one source, then a successful sign-in",
            ),
            graver(&brute, "Brute force on one user, then a successful sign-in"),
            spray,
            brute,
        ];
        SigninTracker {
            cfg,
            recent: [HashMap::new(), HashMap::new()],
            open: HashMap::new(),
            watermark: i64::MIN,
            next_close: i64::MAX,
            seq: 0,
            unknown: 0,
            hasher: hashbrown::DefaultHashBuilder::default(),
            rules,
        }
    }

    /// The rules the tracker raises (for `rules list`): with a success after the failures
    /// their alerts are critical and their titles say so.
    pub fn catalogue() -> [Rule; 2] {
        let rule = |id: &str, title: &str, attack: &str, desc: &str| {
            Rule::new(
                RuleMeta {
                    attack: vec![attack.into()],
                    description: desc.into(),
                    false_positives: vec![
                        "Many people signing in through one NAT or proxy address on a bad morning (raise `spray_users`)".into(),
                        "A script with a stale password retrying".into(),
                    ],
                    author: Some("rampart".into()),
                    license: Some("Apache-2.0".into()),
                    ..RuleMeta::new(id, RuleSource::Builtin, title, Severity::High)
                },
                Condition::Const(true),
            )
        };
        [
            rule(
                "RD-IAM-010",
                "Password spraying: many users failed to sign in from one source",
                "T1110.003",
                "At least `spray_users` distinct users failed to sign in to the console or IAM Identity Center from one source address within `signin_window_minutes` ([detect]). The alert names the source, the users tried (up to 20), the number of failures and whether a sign-in from that source succeeded afterwards (then critical).",
            ),
            rule(
                "RD-IAM-011",
                "Brute force: many failed sign-ins for one user",
                "T1110.001",
                "At least `brute_force_failures` failed console or IAM Identity Center sign-ins for one user within `signin_window_minutes` ([detect]). The alert names the user, the sources (up to 20), the number of failures and whether the user signed in afterwards (then critical).",
            ),
        ]
    }

    /// The runbooks of [`SigninTracker::catalogue`]'s rules, in its order.
    pub fn runbooks() -> Vec<Entry> {
        Self::catalogue()
            .into_iter()
            .map(|r| {
                let runbook = if r.meta.id == "RD-IAM-010" {
                    Runbook::new(
                        "Many users failed to sign in from one address, {source_ip}: password spraying.",
                        "Spraying tries a few common passwords against every user, staying under lockout thresholds; one weak password without MFA is enough, and the alert turns critical when a sign-in from the address succeeded.",
                    )
                    .triage([
                        sql(
                            "List every sign-in from the address, failed and successful, with the users tried. CloudTrail Lake:",
                            "SELECT eventTime, eventName, userIdentity.userName, recipientAccountId, errorMessage FROM {event_data_store} WHERE sourceIPAddress = '{source_ip}' AND eventSource = 'signin.amazonaws.com' AND eventTime >= '{start_sql}' AND eventTime <= '{end_sql}' ORDER BY eventTime",
                        ),
                        advice("The alert's matched fields name the users tried and whether a sign-in succeeded afterwards: a success is a compromised password."),
                        sh("Everything the address did beyond signing in.", "rampart detect {trail_logs} --since {start} --until {end}"),
                    ])
                    .contain([
                        advice("Block the address at the identity provider (IAM Identity Center or the external IdP) and, for IAM users, with a deny on `aws:SourceIp` in their group policy."),
                        sh("For a user whose sign-in succeeded: remove the console password and deny the user everything until reset.", "aws iam delete-login-profile --user-name <user_name>").respond("delete-login-profile"),
                        common::quarantine_principal(),
                    ])
                    .recover([
                        advice("Reset the passwords of every user tried who has no MFA, and require MFA for all of them."),
                        common::record_outcome(),
                    ])
                    .escalate(Contact::SecurityOnCall, "at once when a sign-in succeeded (critical); otherwise within the working day")
                    .escalate(Contact::IdentityAdmins, "to block the address and enforce MFA")
                } else {
                    Runbook::new(
                        "One user, {principal}, failed to sign in many times: brute force against their password.",
                        "Repeated guesses against one user aim at a known, valuable account; when a sign-in succeeded afterwards (critical) the password is broken.",
                    )
                    .triage([
                        sql(
                            "List the user's sign-ins, failed and successful, with their addresses. CloudTrail Lake:",
                            "SELECT eventTime, sourceIPAddress, userAgent, errorMessage, responseElements FROM {event_data_store} WHERE eventSource = 'signin.amazonaws.com' AND userIdentity.userName = '{user_name}' AND eventTime >= '{start_sql}' AND eventTime <= '{end_sql}' ORDER BY eventTime",
                        ),
                        sh("Check the user's MFA devices.", "aws iam list-mfa-devices --user-name {user_name}"),
                        common::confirm_with_owner(),
                    ])
                    .contain([
                        sh("If a sign-in succeeded and it was not the user: remove the console password.", "aws iam delete-login-profile --user-name {user_name}").respond("delete-login-profile"),
                        common::quarantine_principal(),
                        advice("Block the sources the alert lists at the identity provider."),
                    ])
                    .recover([
                        advice("Have the user set a new, unique password and register MFA; review what any successful session did."),
                        common::review_credentials(),
                        common::record_outcome(),
                    ])
                    .escalate(Contact::SecurityOnCall, "at once when a sign-in succeeded (critical)")
                    .escalate(Contact::IdentityAdmins, "to reset the user and enforce MFA")
                };
                Entry { rule: r.meta, runbook }
            })
            .collect()
    }

    /// The rule whose alert fields an [`Attempt`] carries.
    pub fn attempt_rule(&self) -> &Rule {
        &self.rules[2]
    }

    fn hash(&self, s: &str) -> u64 {
        self.hasher.hash_one(s)
    }

    /// Counts one attempt; bursts that a window of quiet has closed are appended to `out`.
    pub fn observe(&mut self, a: Attempt, out: &mut Vec<Alert>) {
        if a.t > self.watermark {
            self.watermark = a.t;
            if self.watermark > self.next_close {
                self.close_quiet(out);
            }
        }
        let keys = [
            (Kind::Spray, a.source.clone()),
            (Kind::BruteForce, a.user.clone()),
        ];
        for (kind, key) in keys {
            let Some(key) = key else { continue };
            if a.failed {
                self.fail(kind, key, &a);
            } else if let Some(b) = self.open.get_mut(&(kind, key)) {
                b.successes += 1;
                b.last = b.last.max(a.t);
                if b.success.is_none() {
                    let who = a.user.as_deref().unwrap_or(UNKNOWN);
                    let when = a.event.event_time().unwrap_or_default();
                    b.success = Some((who.into(), when.to_string()));
                    b.event = a.event.clone();
                }
            }
        }
        self.bound(out);
    }

    fn fail(&mut self, kind: Kind, key: Box<str>, a: &Attempt) {
        let window = self.cfg.window_secs;
        // what this failure adds to the key's entries: the user tried, or the source used
        let (id, name) = match kind {
            Kind::Spray => match a.user.as_deref() {
                Some(u) => (self.hash(u), u),
                None => {
                    self.unknown += 1;
                    (self.unknown | 1 << 63, UNKNOWN)
                }
            },
            Kind::BruteForce => {
                let s = a.source.as_deref().unwrap_or("-");
                (self.hash(s), s)
            }
        };
        if let Some(b) = self.open.get_mut(&(kind, key.clone())) {
            b.failures += 1;
            b.last = b.last.max(a.t);
            note(b, id, name, other(kind, a));
            if b.success.is_none() {
                b.event = a.event.clone();
            }
            self.next_close = self.next_close.min(b.last.saturating_add(window));
            return;
        }
        self.seq += 1;
        let seq = self.seq;
        let threshold = match kind {
            Kind::Spray => self.cfg.spray_users,
            Kind::BruteForce => self.cfg.brute_force_failures,
        };
        let r = self.recent[kind as usize]
            .entry(key.clone())
            .or_insert_with(|| Recent {
                newest: a.t,
                seq,
                entries: Vec::new(),
            });
        r.newest = r.newest.max(a.t);
        let from = r.newest.saturating_sub(window);
        r.entries.retain(|e| e.2 >= from);
        if a.t < from {
            return;
        }
        match kind {
            Kind::Spray => match r.entries.iter_mut().find(|e| e.0 == id) {
                Some(e) => {
                    e.2 = e.2.max(a.t);
                    e.3 += 1;
                }
                None => r.entries.push((id, name.into(), a.t, 1)),
            },
            Kind::BruteForce => r.entries.push((id, name.into(), a.t, 1)),
        }
        if r.entries.len() > threshold {
            // the oldest is the one a later failure would let fall out of the window first
            let oldest = (0..r.entries.len())
                .min_by_key(|&i| r.entries[i].2)
                .unwrap_or(0);
            r.entries.remove(oldest);
        }
        if r.entries.len() < threshold {
            return;
        }
        // threshold reached within the window: a burst opens with what led to it
        let r = self.recent[kind as usize]
            .remove(&key)
            .expect("just counted");
        let mut entries = r.entries;
        entries.sort_by_key(|e| e.2);
        let mut b = Burst {
            seq,
            first: entries.first().map_or(a.t, |e| e.2),
            first_text: None,
            last: a.t,
            failures: 0,
            successes: 0,
            named: Vec::new(),
            distinct: hashbrown::HashSet::new(),
            others: Vec::new(),
            success: None,
            event: a.event.clone(),
        };
        for (id, name, _, n) in &entries {
            b.failures += n;
            note(&mut b, *id, name, None);
        }
        if let Some(o) = other(kind, a) {
            b.others.push(o.into());
        }
        // the burst's first failure is known by its time; this one's text when it is it
        b.first_text = a
            .event
            .event_time()
            .filter(|_| b.first == a.t)
            .map(str::to_string);
        self.next_close = self.next_close.min(a.t.saturating_add(window));
        self.open.insert((kind, key), b);
    }

    /// Emits the bursts a window of quiet has closed (by the newest event time seen).
    fn close_quiet(&mut self, out: &mut Vec<Alert>) {
        let (window, now) = (self.cfg.window_secs, self.watermark);
        self.close_where(out, |b| b.last.saturating_add(window) < now);
    }

    /// Emits the bursts that were quiet for a window before `now` (epoch seconds, wall-clock
    /// time: a live stream that has gone quiet).
    pub fn expire(&mut self, now: i64, out: &mut Vec<Alert>) {
        let window = self.cfg.window_secs;
        self.close_where(out, |b| b.last.saturating_add(window) < now);
    }

    /// Emits every open burst (the end of the input).
    pub fn finish(&mut self, out: &mut Vec<Alert>) {
        self.close_where(out, |_| true);
    }

    /// Emits, oldest first, the open bursts `done` says are over.
    fn close_where(&mut self, out: &mut Vec<Alert>, done: impl Fn(&Burst) -> bool) {
        let mut closed: Vec<((Kind, Box<str>), Burst)> =
            self.open.extract_if(|_, b| done(b)).collect();
        closed.sort_by_key(|(_, b)| b.seq);
        for ((kind, key), b) in closed {
            out.push(self.alert(kind, &key, b));
        }
        let window = self.cfg.window_secs;
        self.next_close = self
            .open
            .values()
            .map(|b| b.last.saturating_add(window))
            .min()
            .unwrap_or(i64::MAX);
    }

    /// Keeps the remembered keys and the open bursts within `max_tracked`.
    fn bound(&mut self, out: &mut Vec<Alert>) {
        let max = self.cfg.max_tracked;
        let slack = max.saturating_add(max / 10);
        for recent in &mut self.recent {
            if recent.len() > slack {
                let mut ages: Vec<(i64, u64)> =
                    recent.values().map(|r| (r.newest, r.seq)).collect();
                ages.sort_unstable();
                let keep_from = ages[recent.len() - max];
                recent.retain(|_, r| (r.newest, r.seq) >= keep_from);
            }
        }
        if self.open.len() > max {
            let mut seqs: Vec<u64> = self.open.values().map(|b| b.seq).collect();
            seqs.sort_unstable();
            let cut = seqs[self.open.len() - max];
            self.close_where(out, |b| b.seq < cut);
        }
    }

    /// How many sources and users are remembered, and bursts open (for tests of the bound).
    pub fn tracked(&self) -> (usize, usize, usize) {
        (self.recent[0].len(), self.recent[1].len(), self.open.len())
    }

    fn alert(&self, kind: Kind, key: &str, b: Burst) -> Alert {
        let succeeded = b.success.is_some();
        let rule = &self.rules[kind as usize + if succeeded { 0 } else { 2 }];
        let mut a = b.event.with_rule(rule);
        let (key_name, named_name, count_name, threshold) = match kind {
            Kind::Spray => (
                "sourceIPAddress",
                "usersTried",
                "distinctUsers",
                self.cfg.spray_users,
            ),
            Kind::BruteForce => (
                "user",
                "sources",
                "distinctSources",
                self.cfg.brute_force_failures,
            ),
        };
        let mut m = serde_json::Map::new();
        m.insert(key_name.into(), json!(key));
        m.insert("failures".into(), json!(b.failures));
        m.insert(named_name.into(), json!(b.named));
        m.insert(count_name.into(), json!(b.distinct.len()));
        if b.distinct.len() >= DISTINCT_CAP {
            m.insert(format!("{count_name}AtLeast"), json!(true));
        }
        if !b.others.is_empty() {
            m.insert("userAgents".into(), json!(b.others));
        }
        m.insert("succeededAfter".into(), json!(succeeded));
        if let Some((who, when)) = &b.success {
            m.insert("successUser".into(), json!(who));
            m.insert("successTime".into(), json!(when));
            m.insert("successes".into(), json!(b.successes));
        }
        m.insert("threshold".into(), json!(threshold));
        m.insert("windowSeconds".into(), json!(self.cfg.window_secs));
        a.replace_matched(&m);
        a.count = b.failures + b.successes;
        let first = b.first_text.unwrap_or_else(|| time_text(b.first));
        a.set_span(&first, &time_text(b.last));
        a
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` of epoch seconds `t`, as CloudTrail writes times.
fn time_text(t: i64) -> String {
    let day = rampart_trail::time::day_path(t.div_euclid(86400)).replace('/', "-");
    let s = t.rem_euclid(86400);
    format!("{day}T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60)
}

/// What a failure adds to a burst beyond its key's entry: the user agent of a spray (sprays
/// from one address with one tool), nothing for brute force.
fn other(kind: Kind, a: &Attempt) -> Option<&str> {
    match kind {
        Kind::Spray => a.event.user_agent(),
        Kind::BruteForce => None,
    }
}

/// Counts `id` (named `name`) into the burst, and names `other` once.
fn note(b: &mut Burst, id: u64, name: &str, other: Option<&str>) {
    // unknown users are each counted, and named once
    if b.distinct.len() < DISTINCT_CAP
        && b.distinct.insert(id)
        && b.named.len() < NAMED
        && !b.named.iter().any(|x| x.as_ref() == name)
    {
        b.named.push(name.into());
    }
    if let Some(o) = other
        && b.others.len() < NAMED
        && !b.others.iter().any(|x| x.as_ref() == o)
    {
        b.others.push(o.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::console::{
        console_login, federated_sign_ins, hidden_user, iam_user, identity_center_step, root,
    };
    use crate::{Detector, Engine};

    const ACCOUNT: &str = "111122223333";

    /// `e` at `minute` past 10:00 on 2024-07-31, from `ip`.
    fn at(mut e: Value, minute: u32, ip: &str) -> Value {
        e["eventTime"] = json!(format!(
            "2024-07-31T{:02}:{:02}:00Z",
            10 + minute / 60,
            minute % 60
        ));
        e["sourceIPAddress"] = json!(ip);
        e
    }

    fn fail(user: &str, minute: u32, ip: &str) -> Value {
        at(
            console_login(iam_user(ACCOUNT, user), "Failure", Some("No")),
            minute,
            ip,
        )
    }

    fn ok(user: &str, minute: u32, ip: &str) -> Value {
        at(
            console_login(iam_user(ACCOUNT, user), "Success", Some("Yes")),
            minute,
            ip,
        )
    }

    fn cfg() -> SigninConfig {
        SigninConfig {
            window_secs: 600,
            spray_users: 5,
            brute_force_failures: 4,
            max_tracked: 1_000,
        }
    }

    /// The alerts a detector with only the sign-in tracker raises on `events`, in order.
    fn run(cfg: SigninConfig, events: &[Value]) -> Vec<Alert> {
        let engine = Engine::new(Vec::new());
        let mut det = Detector::new(&engine, 0).with_signin(cfg);
        let mut out = Vec::new();
        for (n, e) in events.iter().enumerate() {
            let raw = serde_json::to_vec(e).unwrap();
            det.process(&raw, &|| format!("test:record {n}"), &mut out)
                .unwrap();
        }
        det.finish(&mut out).unwrap();
        assert_eq!(det.stats.alerts, out.len() as u64, "every burst counted");
        out
    }

    fn matched(a: &Alert, key: &str) -> Value {
        a.matched().get(key).unwrap_or(Value::Null)
    }

    #[test]
    fn many_users_failing_from_one_source_is_a_spray() {
        let users = ["ann", "bob", "cid", "dan", "eve", "fay"];
        let events: Vec<Value> = users
            .iter()
            .enumerate()
            .map(|(i, u)| fail(u, i as u32, "203.0.113.9"))
            .collect();
        let alerts = run(cfg(), &events);
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        let a = &alerts[0];
        assert_eq!(a.rule_id(), "RD-IAM-010");
        assert_eq!(a.severity(), Severity::High);
        assert_eq!(matched(a, "sourceIPAddress"), json!("203.0.113.9"));
        assert_eq!(matched(a, "failures"), json!(6));
        assert_eq!(matched(a, "distinctUsers"), json!(6));
        assert_eq!(matched(a, "usersTried").as_array().unwrap().len(), 6);
        assert!(
            matched(a, "usersTried")
                .to_string()
                .contains("ann@111122223333")
        );
        assert_eq!(matched(a, "succeededAfter"), json!(false));
        assert_eq!(a.count, 6);
        assert_eq!(a.first_seen(), Some("2024-07-31T10:00:00Z"));
        assert_eq!(a.last_seen(), Some("2024-07-31T10:05:00Z"));
        assert_eq!(a.origin.as_deref(), Some("test:record 5"));
        // one user fewer than the threshold, or the same users spread beyond the window
        assert!(run(cfg(), &events[..4]).is_empty());
        let slow: Vec<Value> = users
            .iter()
            .enumerate()
            .map(|(i, u)| fail(u, i as u32 * 4, "203.0.113.9"))
            .collect();
        assert!(
            run(cfg(), &slow).is_empty(),
            "5 users need to fail within 10 minutes"
        );
        // the same users from five addresses
        let spread: Vec<Value> = users
            .iter()
            .enumerate()
            .map(|(i, u)| fail(u, i as u32, &format!("203.0.113.{i}")))
            .collect();
        assert!(run(cfg(), &spread).is_empty());
    }

    #[test]
    fn a_success_after_the_failures_is_graver() {
        let mut events: Vec<Value> = ["ann", "bob", "cid", "dan", "eve"]
            .iter()
            .enumerate()
            .map(|(i, u)| fail(u, i as u32, "203.0.113.9"))
            .collect();
        events.push(ok("dan", 7, "203.0.113.9"));
        let alerts = run(cfg(), &events);
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        let a = &alerts[0];
        assert_eq!(a.rule_id(), "RD-IAM-010");
        assert_eq!(a.severity(), Severity::Critical);
        assert!(
            a.title().contains("then a successful sign-in"),
            "{}",
            a.title()
        );
        assert_eq!(matched(a, "succeededAfter"), json!(true));
        assert_eq!(matched(a, "successUser"), json!("dan@111122223333"));
        assert_eq!(matched(a, "successTime"), json!("2024-07-31T10:07:00Z"));
        assert_eq!(
            a.principal(),
            Some("arn:aws:iam::111122223333:user/dan"),
            "the success's event"
        );
        assert_eq!(a.count, 6);
        // a success before the threshold is reached is just a sign-in
        let mut early = events.clone();
        let success = early.pop().unwrap();
        early.insert(2, at(success, 2, "203.0.113.9"));
        let alerts = run(cfg(), &early);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].severity(), Severity::High);
    }

    #[test]
    fn many_failures_on_one_user_is_brute_force() {
        let mut events: Vec<Value> = (0..4)
            .map(|i| fail("bob", i, &format!("198.51.100.{}", i % 2)))
            .collect();
        let alerts = run(cfg(), &events);
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        let a = &alerts[0];
        assert_eq!(a.rule_id(), "RD-IAM-011");
        assert_eq!(matched(a, "user"), json!("bob@111122223333"));
        assert_eq!(matched(a, "failures"), json!(4));
        assert_eq!(
            matched(a, "sources"),
            json!(["198.51.100.0", "198.51.100.1"])
        );
        assert_eq!(matched(a, "distinctSources"), json!(2));
        assert_eq!(a.severity(), Severity::High);
        events.push(fail("bob", 5, "198.51.100.7"));
        events.push(ok("bob", 6, "198.51.100.7"));
        let alerts = run(cfg(), &events);
        assert_eq!(alerts.len(), 1);
        let a = &alerts[0];
        assert_eq!(a.severity(), Severity::Critical);
        assert_eq!(matched(a, "failures"), json!(5));
        assert_eq!(matched(a, "successes"), json!(1));
        assert_eq!(a.count, 6);
        assert!(run(cfg(), &events[..3]).is_empty());
    }

    #[test]
    fn root_failures_count_and_hidden_names_are_distinct_unknown_users() {
        // `n` failed sign-ins of `identity` from `ip`, a minute apart
        let failures = |identity: fn(&str) -> Value, n: u32, ip: &str| -> Vec<Value> {
            (0..n)
                .map(|i| at(console_login(identity(ACCOUNT), "Failure", None), i, ip))
                .collect()
        };
        let alerts = run(cfg(), &failures(root, 4, "192.0.2.1"));
        assert_eq!(alerts.len(), 1);
        assert_eq!(matched(&alerts[0], "user"), json!("root@111122223333"));
        // five names that do not exist: a spray, but no one user was brute-forced
        let alerts = run(cfg(), &failures(hidden_user, 5, "192.0.2.2"));
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        assert_eq!(alerts[0].rule_id(), "RD-IAM-010");
        assert_eq!(matched(&alerts[0], "distinctUsers"), json!(5));
        assert_eq!(matched(&alerts[0], "usersTried"), json!([UNKNOWN]));
    }

    #[test]
    fn identity_center_failures_count_and_its_authentication_is_a_success() {
        let mut events: Vec<Value> = (0..4)
            .map(|i| {
                at(
                    identity_center_step("CredentialVerification", "alice", "Failure"),
                    i,
                    "192.0.2.3",
                )
            })
            .collect();
        // challenges and passed verifications are steps, not outcomes
        events.push(at(
            identity_center_step("CredentialChallenge", "alice", "Success"),
            5,
            "192.0.2.3",
        ));
        events.push(at(
            identity_center_step("CredentialVerification", "alice", "Success"),
            5,
            "192.0.2.3",
        ));
        events.push(at(
            identity_center_step("UserAuthentication", "alice", "Success"),
            6,
            "192.0.2.3",
        ));
        let alerts = run(cfg(), &events);
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        assert_eq!(alerts[0].rule_id(), "RD-IAM-011");
        assert_eq!(alerts[0].severity(), Severity::Critical);
        assert_eq!(matched(&alerts[0], "failures"), json!(4));
        // the older event source of Identity Center
        let mut old = identity_center_step("CredentialVerification", "bob", "Failure");
        old["eventSource"] = json!("sso.amazonaws.com");
        let events: Vec<Value> = (0..4).map(|i| at(old.clone(), i, "192.0.2.4")).collect();
        assert_eq!(run(cfg(), &events).len(), 1);
    }

    #[test]
    fn refused_calls_and_successful_sign_ins_are_not_failures() {
        let mut events = Vec::new();
        for i in 0..8 {
            for name in ["GetSessionToken", "AssumeRole"] {
                let mut e = crate::rules::ev(
                    "sts.amazonaws.com",
                    name,
                    json!({"errorCode": "AccessDenied", "errorMessage": "not authorized"}),
                );
                e["userIdentity"]["userName"] = json!(format!("u{i}"));
                events.push(at(e, i, "192.0.2.5"));
            }
            for e in federated_sign_ins() {
                events.push(at(e, i, "192.0.2.5"));
            }
            events.push(ok(&format!("u{i}"), i, "192.0.2.5"));
        }
        assert!(run(cfg(), &events).is_empty());
    }

    #[test]
    fn a_quiet_window_closes_a_burst_and_the_next_opens_anew() {
        let mut events: Vec<Value> = (0..4).map(|i| fail("bob", i, "198.51.100.1")).collect();
        // 30 minutes later (three windows of quiet), again
        events.extend((40..44).map(|i| fail("bob", i, "198.51.100.2")));
        let engine = Engine::new(Vec::new());
        let mut det = Detector::new(&engine, 0).with_signin(cfg());
        let mut out = Vec::new();
        for e in &events {
            det.process(&serde_json::to_vec(e).unwrap(), &|| "t".into(), &mut out)
                .unwrap();
        }
        assert_eq!(out.len(), 1, "the first burst closed when the second began");
        assert_eq!(out[0].last_seen(), Some("2024-07-31T10:03:00Z"));
        det.finish(&mut out).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].first_seen(), Some("2024-07-31T10:40:00Z"));
        assert_eq!(matched(&out[1], "failures"), json!(4));
    }

    #[test]
    fn memory_is_bounded() {
        let cfg = SigninConfig {
            max_tracked: 50,
            ..cfg()
        };
        let mut t = SigninTracker::new(cfg);
        let rule = t.attempt_rule().clone();
        let mut out = Vec::new();
        for i in 0..2_000u32 {
            // one failure per user and address, then sprays from many addresses
            let e = fail(
                &format!("u{i}"),
                i % 5,
                &format!("10.{}.{}.{}", i / 65536, i / 256 % 256, i % 256),
            );
            let raw = serde_json::to_vec(&e).unwrap();
            let ev = Event::parse(&raw).unwrap();
            t.observe(attempt_of(&ev, &rule, None).unwrap(), &mut out);
            let (sources, users, open) = t.tracked();
            assert!(
                sources <= 55 && users <= 55 && open <= 50,
                "{:?}",
                t.tracked()
            );
        }
        for i in 0..400u32 {
            let e = fail(&format!("v{}", i % 7), 6, &format!("192.0.2.{}", i / 7));
            let raw = serde_json::to_vec(&e).unwrap();
            let ev = Event::parse(&raw).unwrap();
            t.observe(attempt_of(&ev, &rule, None).unwrap(), &mut out);
            assert!(t.tracked().2 <= 50, "{:?}", t.tracked());
        }
        assert!(!out.is_empty(), "the oldest bursts were emitted early");
        t.finish(&mut out);
        assert_eq!(t.tracked().2, 0);
    }

    #[test]
    fn settings_that_cannot_work_are_refused() {
        assert_eq!(SigninConfig::default().check(), Ok(()));
        let with = |change: fn(&mut SigninConfig)| {
            let mut c = SigninConfig::default();
            change(&mut c);
            c
        };
        for bad in [
            with(|c| c.window_secs = 0),
            with(|c| c.spray_users = 1),
            with(|c| c.brute_force_failures = 0),
            with(|c| c.max_tracked = 0),
        ] {
            assert!(bad.check().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn times_are_written_as_cloudtrail_writes_them() {
        for s in [
            "2024-07-31T10:07:00Z",
            "1999-12-31T23:59:59Z",
            "2024-02-29T00:00:01Z",
        ] {
            assert_eq!(time_text(crate::alert::parse_time(s).unwrap()), s);
        }
    }
}
