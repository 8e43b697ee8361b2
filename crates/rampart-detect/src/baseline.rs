//! Per-principal baselines: which regions, high-risk APIs, source networks and user-agent
//! families each principal uses. Each principal is learned for a period of event time after its
//! own first event; afterwards the first use of a new combination raises an alert. State lives
//! in SQLite between runs, bounded to `max_entries` rows (principal rows included; the least
//! recently seen are forgotten first).
//!
//! **Principal key** ([`principal_key`]): an assumed-role session is its role
//! (`sessionContext.sessionIssuer.arn`, else `arn:PARTITION:iam::ACCOUNT:role/ROLE` derived from
//! the `…:assumed-role/ROLE/SESSION` ARN, which does not carry the role's path), so every session
//! of a role, IAM Identity Center (`AWSReservedSSO_*`) sessions included, shares one baseline; a
//! federated user (`GetFederationToken`) is the IAM user or root that issued its token (its
//! `sessionIssuer`, else its own ARN); IAM users and root are their ARN. AWS service principals
//! (`type` `AWSService`) are not baselined.
//!
//! **Store** (`PRAGMA user_version` 2): `seen(principal, kind, value, last_seen)` with kind
//! 1 region, 2 high-risk API, 3 source network, 4 user-agent family;
//! `principals(principal, first_seen, last_seen)`; `meta` (a store written before version 2 kept
//! a global `learning_start` there: it is left in place and used once, as the first-seen time
//! of the principals found in the old rows).

use crate::alert::{Alert, parse_time};
use crate::event::Event;
use crate::ir::{Condition, Rule, RuleMeta, RuleSource, Severity};
use crate::runbook::{Contact, Entry, Runbook, common, note, sql};
use hashbrown::HashMap;
use rampart_trail::scan::Member;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::net::IpAddr;
use std::path::Path;

/// Baseline settings.
#[derive(Debug, Clone)]
pub struct BaselineConfig {
    /// Seconds of event time after a principal's first event during which its combinations are
    /// learned without alerting.
    pub learning_secs: i64,
    /// Upper bound on remembered rows: (principal, kind, value) rows plus one row per principal.
    pub max_entries: usize,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        BaselineConfig {
            learning_secs: 14 * 86400,
            max_entries: 200_000,
        }
    }
}

/// APIs whose first use by a principal is worth a look.
const HIGH_RISK: &[&str] = &[
    "iam:CreateUser",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:AttachUserPolicy",
    "iam:AttachRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:CreatePolicyVersion",
    "sts:GetFederationToken",
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "s3:PutBucketPolicy",
    "s3:PutBucketAcl",
    "ec2:ModifySnapshotAttribute",
    "ec2:ModifyImageAttribute",
    "ec2:GetPasswordData",
    "rds:ModifyDBSnapshotAttribute",
    "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "ssm:GetParameters",
    "ssm:SendCommand",
    "ssm:StartSession",
    "lambda:UpdateFunctionCode20150331v2",
    "lambda:AddPermission20150331v2",
    "cloudtrail:StopLogging",
    "cloudtrail:DeleteTrail",
    "organizations:LeaveOrganization",
];

/// The store's schema (`PRAGMA user_version`): 2 added `principals` and kind 4; stores written
/// before say 0.
const SCHEMA_VERSION: i64 = 2;

/// What a `seen` row remembers; the discriminant is the `kind` column.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Region = 1,
    Api = 2,
    Network = 3,
    Agent = 4,
}

/// How many kinds there are (and rules the baseline raises, one per kind).
const KINDS: usize = 4;

impl Kind {
    const ALL: [Kind; KINDS] = [Kind::Region, Kind::Api, Kind::Network, Kind::Agent];

    /// Position in [`Kind::ALL`], in [`Principal::facts`] and in the rules.
    fn index(self) -> usize {
        self as usize - 1
    }

    /// The key of the value in an alert's `matched` object.
    fn field(self) -> &'static str {
        match self {
            Kind::Region => "awsRegion",
            Kind::Api => "api",
            Kind::Network => "sourceNetwork",
            Kind::Agent => "userAgentFamily",
        }
    }
}

/// When a row was last seen (event time) and whether the store lacks that yet.
#[derive(Debug, Clone, Copy)]
struct Stamp {
    last_seen: i64,
    dirty: bool,
}

/// One principal: its `principals` row and its `seen` rows, by kind.
struct Principal {
    first_seen: i64,
    last_seen: i64,
    dirty: bool,
    /// Per kind ([`Kind::index`]): value → when last seen.
    facts: [HashMap<String, Stamp>; KINDS],
}

impl Principal {
    fn new(first_seen: i64, last_seen: i64, dirty: bool) -> Principal {
        Principal {
            first_seen,
            last_seen,
            dirty,
            facts: Default::default(),
        }
    }

    /// Rows it takes in the store: its own and its facts.
    fn rows(&self) -> usize {
        1 + self.facts.iter().map(HashMap::len).sum::<usize>()
    }
}

/// The baseline store.
pub struct Baseline {
    conn: Connection,
    cfg: BaselineConfig,
    /// Everything the store holds (read at open), by principal key.
    principals: HashMap<String, Principal>,
    /// Rows in `principals`, counted as the store counts them.
    rows: usize,
    /// Forgotten since the last save, to delete from the store (with their `seen` rows).
    evicted_principals: Vec<String>,
    /// Forgotten `seen` rows since the last save: principal, kind index, value.
    evicted_facts: Vec<(String, usize, String)>,
    rules: [Rule; KINDS],
}

fn meta_rule(id: &str, title: &str, sev: Severity, attack: &str, desc: &str) -> Rule {
    Rule::new(
        RuleMeta {
            attack: vec![attack.into()],
            description: desc.into(),
            false_positives: vec!["New legitimate work after the learning period".into()],
            author: Some("rampart".into()),
            license: Some("Apache-2.0".into()),
            ..RuleMeta::new(id, RuleSource::Baseline, title, sev)
        },
        Condition::Const(true),
    )
}

const UPSERT_SEEN: &str = "INSERT INTO seen(principal, kind, value, last_seen) VALUES(?1, ?2, ?3, ?4) \
     ON CONFLICT(principal, kind, value) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)";

const UPSERT_PRINCIPAL: &str = "INSERT INTO principals(principal, first_seen, last_seen) VALUES(?1, ?2, ?3) \
     ON CONFLICT(principal) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), \
     last_seen = max(last_seen, excluded.last_seen)";

impl Baseline {
    /// Open (creating) the store at `path`; `:memory:` works for tests. A store written by an
    /// earlier version is migrated in place (see the module documentation).
    pub fn open(path: &Path, cfg: BaselineConfig) -> Result<Baseline, String> {
        let ctx = |e: rusqlite::Error| format!("baseline store {}: {e}", path.display());
        let mut conn = Connection::open(path).map_err(ctx)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(ctx)?;
        if version > SCHEMA_VERSION {
            return Err(format!(
                "baseline store {}: written by a newer rampart (schema {version}; this one reads up to {SCHEMA_VERSION})",
                path.display()
            ));
        }
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
             CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS seen(principal TEXT NOT NULL, kind INTEGER NOT NULL, value TEXT NOT NULL,
                 last_seen INTEGER NOT NULL, PRIMARY KEY(principal, kind, value)) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS principals(principal TEXT PRIMARY KEY, first_seen INTEGER NOT NULL,
                 last_seen INTEGER NOT NULL) WITHOUT ROWID;",
        )
        .map_err(ctx)?;
        if version < SCHEMA_VERSION {
            migrate(&mut conn).map_err(ctx)?;
        }
        let (principals, rows) = load(&conn).map_err(ctx)?;
        Ok(Baseline {
            conn,
            cfg,
            principals,
            rows,
            evicted_principals: Vec::new(),
            evicted_facts: Vec::new(),
            rules: Baseline::catalogue(),
        })
    }

    /// The rules a baseline raises, in kind order (for `rules list`: no store is opened).
    pub fn catalogue() -> [Rule; KINDS] {
        [
            meta_rule(
                "RD-BASE-REGION",
                "Principal active in a new region",
                Severity::Medium,
                "T1535",
                "First call by this principal in this region after its learning period.",
            ),
            meta_rule(
                "RD-BASE-API",
                "Principal used a high-risk API for the first time",
                Severity::Medium,
                "T1078",
                "First use of a sensitive API by this principal after its learning period.",
            ),
            meta_rule(
                "RD-BASE-NETWORK",
                "Long-lived access key used from a new network",
                Severity::Medium,
                "T1078.004",
                "An IAM user's access key (AKIA…) was used from a /24 (IPv4) or /48 (IPv6) it had not used before.",
            ),
            meta_rule(
                "RD-BASE-AGENT",
                "Long-lived access key used with a new kind of client",
                Severity::Low,
                "T1078",
                "An IAM user's access key (AKIA…) called AWS from an address with a user-agent family (aws-cli, boto3, terraform, …) its principal had not used before.",
            ),
        ]
    }

    /// The runbooks of [`Baseline::catalogue`]'s rules, in its order: first-seen behaviour of
    /// one principal, read against that principal's own history.
    pub fn runbooks() -> Vec<Entry> {
        let history = || {
            sql(
                "Compare with the principal's usual behaviour: its regions, APIs, networks and user agents over the last 30 days. CloudTrail Lake:",
                "SELECT awsRegion, eventSource, eventName, sourceIPAddress, userAgent, count(*) AS calls FROM {event_data_store} WHERE userIdentity.arn = '{principal}' AND eventTime >= date_add('day', -30, timestamp '{start_sql}') GROUP BY awsRegion, eventSource, eventName, sourceIPAddress, userAgent ORDER BY calls DESC",
            )
        };
        Self::catalogue()
            .into_iter()
            .map(|r| {
                let runbook = match r.meta.id.as_str() {
                    "RD-BASE-REGION" => Runbook::new(
                        "{principal} was active in {region} for the first time after its learning period.",
                        "A principal that suddenly works in a new region may be a stolen credential used where nobody looks (crypto-mining, staging).",
                    )
                    .triage([common::read_event(), history(), common::principal_activity(), common::confirm_with_owner()])
                    .contain([
                        note("If the owner did not expand to the region: stop what was created there, then disable the credential."),
                        common::disable_key(),
                    ])
                    .recover([
                        note("A legitimate expansion needs no action: the baseline learns the region from now on (and RD-GD-002 needs the region in `allowed_regions`)."),
                        common::record_outcome(),
                    ])
                    .escalate(Contact::AccountOwner, "to confirm the expansion")
                    .escalate(Contact::SecurityOnCall, "when resources appeared in the region unexplained"),
                    "RD-BASE-API" => Runbook::new(
                        "{principal} used a high-risk API, {event_name}, for the first time after its learning period.",
                        "High-risk APIs (IAM, KMS, logging, sharing) are what an attacker calls after taking a credential; a principal that never needed them before is worth a question.",
                    )
                    .triage([common::read_event(), history(), common::principal_activity(), common::confirm_with_owner()])
                    .contain([
                        note("If the call was not planned, revert its effect (the other alerts of the window show which) and disable the credential."),
                        common::disable_key(),
                        common::quarantine_principal(),
                    ])
                    .recover([
                        note("A new duty of the principal needs no action beyond the record; consider whether it should have the permission at all."),
                        common::record_outcome(),
                    ])
                    .escalate(Contact::AccountOwner, "to confirm the new use")
                    .escalate(Contact::SecurityOnCall, "when the owner does not recognise it"),
                    "RD-BASE-NETWORK" => Runbook::new(
                        "Long-lived access key of {principal} used from a new network, {source_ip}.",
                        "A user key used from an address block it never used is the typical sign of a leaked key (committed to a repository, left in a CI log).",
                    )
                    .triage([common::key_activity(), history(), common::principal_activity(), common::confirm_with_owner()])
                    .contain([common::disable_key()])
                    .recover([
                        note("If the key leaked, delete it, issue a new one only if the user cannot move to a role, and find where it leaked (repository history, CI logs)."),
                        common::review_credentials(),
                        common::record_outcome(),
                    ])
                    .escalate(Contact::SecurityOnCall, "when the owner does not recognise the network")
                    .escalate(Contact::AccountOwner, "to confirm a new office, VPN or runner"),
                    _ => Runbook::new(
                        "Long-lived access key of {principal} used with a new kind of client ({user_agent}).",
                        "A key that always came from one tool (Terraform, a boto3 service) suddenly used from another is often a copied key in someone else's hands.",
                    )
                    .triage([common::key_activity(), history(), common::confirm_with_owner()])
                    .contain([common::disable_key()])
                    .recover([
                        note("A new tool of the owner needs no action beyond the record; otherwise rotate the key and find where it was copied."),
                        common::record_outcome(),
                    ])
                    .escalate(Contact::AccountOwner, "to confirm the new client")
                    .escalate(Contact::SecurityOnCall, "when the owner does not recognise it"),
                };
                Entry { rule: r.meta, runbook }
            })
            .collect()
    }

    /// The rules this baseline can raise.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Number of remembered rows (principal rows included).
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Whether `t` (event time) is inside the learning period of `principal` (a key as
    /// [`principal_key`] makes it); a principal not seen yet would start learning at `t`.
    pub fn learning(&self, principal: &str, t: i64) -> bool {
        match self.principals.get(principal) {
            Some(p) => t < p.first_seen.saturating_add(self.cfg.learning_secs),
            None => self.cfg.learning_secs > 0,
        }
    }

    /// Observe one event; first-seen combinations after the principal's learning period become
    /// alerts, with `origin` (called only when one is raised) naming the record.
    pub fn observe(
        &mut self,
        ev: &Event<'_>,
        origin: Option<&dyn Fn() -> String>,
        out: &mut Vec<Alert>,
    ) {
        let h = ev.header();
        let Some(t) = h.event_time.as_deref().and_then(parse_time) else {
            return;
        };
        let Some(id) = identity_of(ev) else { return };
        let Some(arn) = id.arn else { return };
        if id.kind == Some("AWSService") {
            return;
        }
        let key = principal_key(arn, id.issuer);
        let long_lived = id.access_key_id.is_some_and(|k| k.starts_with("AKIA"));
        // an address, not a service calling on the principal's behalf (`ec2.amazonaws.com`)
        let address = h
            .source_ip_address
            .as_deref()
            .and_then(|ip| ip.parse::<IpAddr>().ok());
        let mut facts: SmallVec<[(Kind, Cow<'_, str>); KINDS]> = SmallVec::new();
        if let Some(r) = h.aws_region.as_deref() {
            facts.push((Kind::Region, Cow::Borrowed(r)));
        }
        if let (Some(src), Some(name)) = (h.event_source.as_deref(), h.event_name.as_deref())
            && let Some(api) = high_risk(src, name)
        {
            facts.push((Kind::Api, Cow::Borrowed(api)));
        }
        if long_lived && let Some(a) = address {
            facts.push((Kind::Network, Cow::Owned(network_of(a))));
        }
        if let Some(family) = h.user_agent.as_deref().and_then(agent_family) {
            facts.push((Kind::Agent, family));
        }
        if !self.principals.contains_key(key.as_ref()) {
            self.principals
                .insert(key.to_string(), Principal::new(t, t, true));
            self.rows += 1;
        }
        let Some(p) = self.principals.get_mut(key.as_ref()) else {
            return;
        };
        if t < p.first_seen {
            p.first_seen = t;
            p.dirty = true;
        }
        if t > p.last_seen {
            p.last_seen = t;
            p.dirty = true;
        }
        let learning = t < p.first_seen.saturating_add(self.cfg.learning_secs);
        for (kind, value) in facts {
            let known = &mut p.facts[kind.index()];
            if let Some(s) = known.get_mut(value.as_ref()) {
                if t > s.last_seen {
                    s.last_seen = t;
                    s.dirty = true;
                }
                continue;
            }
            let alerts = match kind {
                Kind::Agent => long_lived && address.is_some(),
                _ => true,
            };
            if alerts && !learning {
                let rule = &self.rules[kind.index()];
                let mut a = Alert::new(rule, ev, origin.map(|o| o()));
                a.set_matched(kind.field(), Value::String(value.to_string()));
                a.set_matched("baselinePrincipal", Value::String(key.to_string()));
                out.push(a);
            }
            known.insert(
                value.into_owned(),
                Stamp {
                    last_seen: t,
                    dirty: true,
                },
            );
            self.rows += 1;
        }
        if self.rows
            > self
                .cfg
                .max_entries
                .saturating_add(self.cfg.max_entries / 10)
        {
            self.evict();
        }
    }

    /// Forget the least recently seen rows down to `max_entries`. A principal's row is last
    /// seen no earlier than any of its facts and, at equal times, comes after them: it is
    /// forgotten only with all of them.
    fn evict(&mut self) {
        let excess = self.rows.saturating_sub(self.cfg.max_entries);
        if excess == 0 {
            return;
        }
        let victims: Vec<(bool, String, usize, String)> = {
            // (last seen, principal row?, principal, kind index, value): a total order, so the
            // same rows go whatever the map's order
            let mut all: Vec<(i64, bool, &str, usize, &str)> = Vec::with_capacity(self.rows);
            for (name, p) in &self.principals {
                all.push((p.last_seen, true, name, 0, ""));
                for (k, known) in p.facts.iter().enumerate() {
                    all.extend(
                        known
                            .iter()
                            .map(|(v, s)| (s.last_seen, false, name.as_str(), k, v.as_str())),
                    );
                }
            }
            let excess = excess.min(all.len());
            if excess < all.len() {
                all.select_nth_unstable(excess);
            }
            all.truncate(excess);
            all.into_iter()
                .map(|(_, is_principal, name, k, v)| {
                    (is_principal, name.to_string(), k, v.to_string())
                })
                .collect()
        };
        for (is_principal, name, k, value) in victims {
            if is_principal {
                if let Some(p) = self.principals.remove(&name) {
                    self.rows = self.rows.saturating_sub(p.rows());
                    self.evicted_principals.push(name);
                }
            } else if let Some(p) = self.principals.get_mut(&name)
                && p.facts[k].remove(&value).is_some()
            {
                self.rows = self.rows.saturating_sub(1);
                self.evicted_facts.push((name, k, value));
            }
        }
    }

    /// Write pending changes and enforce the size bound on disk (the store then holds exactly
    /// what this baseline remembers).
    pub fn save(&mut self) -> Result<(), String> {
        self.evict();
        let e = |e: rusqlite::Error| format!("baseline store: {e}");
        let tx = self.conn.transaction().map_err(e)?;
        {
            let mut forget_principal = tx
                .prepare("DELETE FROM principals WHERE principal = ?1")
                .map_err(e)?;
            let mut forget_its_facts = tx
                .prepare("DELETE FROM seen WHERE principal = ?1")
                .map_err(e)?;
            let mut forget_fact = tx
                .prepare("DELETE FROM seen WHERE principal = ?1 AND kind = ?2 AND value = ?3")
                .map_err(e)?;
            let mut put_principal = tx.prepare(UPSERT_PRINCIPAL).map_err(e)?;
            let mut put_fact = tx.prepare(UPSERT_SEEN).map_err(e)?;
            for name in &self.evicted_principals {
                forget_principal.execute([name]).map_err(e)?;
                forget_its_facts.execute([name]).map_err(e)?;
            }
            for (name, k, value) in &self.evicted_facts {
                forget_fact
                    .execute(params![name, Kind::ALL[*k] as i64, value])
                    .map_err(e)?;
            }
            for (name, p) in &self.principals {
                if p.dirty {
                    put_principal
                        .execute(params![name, p.first_seen, p.last_seen])
                        .map_err(e)?;
                }
                for (k, known) in p.facts.iter().enumerate() {
                    for (value, s) in known.iter().filter(|(_, s)| s.dirty) {
                        put_fact
                            .execute(params![name, Kind::ALL[k] as i64, value, s.last_seen])
                            .map_err(e)?;
                    }
                }
            }
        }
        tx.commit().map_err(e)?;
        self.evicted_principals.clear();
        self.evicted_facts.clear();
        for p in self.principals.values_mut() {
            p.dirty = false;
            for s in p.facts.iter_mut().flat_map(|known| known.values_mut()) {
                s.dirty = false;
            }
        }
        Ok(())
    }
}

/// Brings a store written before [`SCHEMA_VERSION`] up to it, keeping its rows: rows keyed by an
/// assumed-role session are folded into the session's role (the key is derived from the ARN, so
/// a role with a path is keyed without it), and each principal of the old rows gets a
/// `principals` row whose first-seen time is the old global `learning_start` (the earliest of
/// its rows without one), so what the old store had learned stays learned.
fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    let learning_start: Option<i64> = tx
        .query_row("SELECT v FROM meta WHERE k = 'learning_start'", [], |r| {
            r.get::<_, String>(0)
        })
        .optional()?
        .and_then(|v| v.parse().ok());
    let sessions: Vec<(String, i64, String, i64)> = {
        let mut st = tx.prepare(
            "SELECT principal, kind, value, last_seen FROM seen WHERE principal LIKE '%:assumed-role/%'",
        )?;
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .flatten()
            .collect()
    };
    for (principal, kind, value, last_seen) in sessions {
        let role = principal_key(&principal, None);
        if role != principal {
            tx.execute(
                "DELETE FROM seen WHERE principal = ?1 AND kind = ?2 AND value = ?3",
                params![principal, kind, value],
            )?;
            tx.execute(UPSERT_SEEN, params![role, kind, value, last_seen])?;
        }
    }
    tx.execute(
        "INSERT OR IGNORE INTO principals(principal, first_seen, last_seen)
         SELECT principal, min(coalesce(?1, min(last_seen)), min(last_seen)), max(last_seen)
         FROM seen GROUP BY principal",
        params![learning_start],
    )?;
    tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))?;
    tx.commit()
}

/// Everything the store holds, and how many rows that is. Rows of an unknown kind are deleted
/// (they would escape the bound); a `seen` row whose principal has no row gets one, to be
/// written on the next save.
fn load(conn: &Connection) -> rusqlite::Result<(HashMap<String, Principal>, usize)> {
    conn.execute(
        "DELETE FROM seen WHERE kind NOT BETWEEN 1 AND ?1",
        [KINDS as i64],
    )?;
    let mut principals: HashMap<String, Principal> = HashMap::new();
    {
        let mut st = conn.prepare("SELECT principal, first_seen, last_seen FROM principals")?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for (name, first, last) in rows.flatten() {
            principals.insert(name, Principal::new(first, last, false));
        }
    }
    let mut st = conn.prepare("SELECT principal, kind, value, last_seen FROM seen")?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    for (name, kind, value, last_seen) in rows.flatten() {
        let Some(&k) = Kind::ALL.iter().find(|k| **k as i64 == kind) else {
            continue;
        };
        let p = principals
            .entry(name)
            .or_insert_with(|| Principal::new(last_seen, last_seen, true));
        if p.dirty {
            p.first_seen = p.first_seen.min(last_seen);
            p.last_seen = p.last_seen.max(last_seen);
        }
        p.facts[k.index()].insert(
            value,
            Stamp {
                last_seen,
                dirty: false,
            },
        );
    }
    let rows = principals.values().map(Principal::rows).sum();
    Ok((principals, rows))
}

/// The principal an event's baseline is kept for, from `userIdentity.arn` and
/// `userIdentity.sessionContext.sessionIssuer.arn`: an assumed-role session
/// (`arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION`) is its role, the issuer when given,
/// else `arn:PARTITION:iam::ACCOUNT:role/ROLE` (the session ARN does not carry the role's path);
/// a federated user (`…:federated-user/NAME`) is its issuer when given; anything else (IAM
/// users, root) is its ARN.
pub fn principal_key<'a>(arn: &'a str, issuer: Option<&'a str>) -> Cow<'a, str> {
    let issuer = issuer.filter(|i| !i.is_empty());
    if arn.contains(":assumed-role/") {
        return match (issuer, role_of_session(arn)) {
            (Some(i), _) => Cow::Borrowed(i),
            (None, Some(role)) => Cow::Owned(role),
            (None, None) => Cow::Borrowed(arn),
        };
    }
    match issuer {
        Some(i) if arn.contains(":federated-user/") => Cow::Borrowed(i),
        _ => Cow::Borrowed(arn),
    }
}

/// `arn:PARTITION:iam::ACCOUNT:role/ROLE` of an assumed-role session ARN.
fn role_of_session(arn: &str) -> Option<String> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(_service), Some(_region), Some(account), Some(res)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let rest = res.strip_prefix("assumed-role/")?;
    let role = rest.split_once('/').map_or(rest, |(role, _session)| role);
    (!role.is_empty()).then(|| format!("arn:{partition}:iam::{account}:role/{role}"))
}

/// The longest user-agent family kept; longer ones are cut.
const MAX_FAMILY: usize = 64;

/// The family of a `userAgent`: the product token, without its version, lower-cased, so that
/// upgrades of a tool are not new families. `None` for an empty agent.
///
/// - The token is the text before the first `/`, white space, `,`, `;`, `(`, `)` or `"`, after
///   any leading `[` (`aws-cli/2.15.1 Python/3.11…` → `aws-cli`, `[Boto3/1.26 …]` → `boto3`,
///   `aws-sdk-go-v2/1.17 os/linux…` → `aws-sdk-go-v2`, `console.amazonaws.com` as it is).
/// - `APN/1.0 PARTNER/1.0 PRODUCT/1.0 …` (AWS Partner Network) is the product
///   (`APN/1.0 HashiCorp/1.0 Terraform/1.5.7 …` → `terraform`), else the partner.
/// - A token followed by ` Console` or ` Internal` keeps that word (`AWS Internal` →
///   `aws-internal`, `RDS Console, aws-internal/3 …` → `rds-console`).
/// - `Mozilla` and `Opera` (any browser, the console's sign-in) are `browser`.
/// - A trailing `_` or `-` and 8 or more hex digits and dashes with a digit among them (a UUID
///   or run id) is dropped (`stratus-red-team_39f95f43-cd2f-…` → `stratus-red-team`).
/// - Characters other than ASCII letters, digits and `.`, `_`, `-`, `+` become `_`; at most 64
///   are kept.
pub fn agent_family(ua: &str) -> Option<Cow<'_, str>> {
    let s = ua.trim_start_matches(|c: char| c == '[' || c.is_whitespace());
    let mut token = product_token(s);
    let mut second = None;
    if token.eq_ignore_ascii_case("apn") {
        let mut words = s.split_whitespace().skip(1).filter(|w| !w.starts_with('('));
        let partner = words.next();
        if let Some(w) = words.next().or(partner) {
            token = product_token(w);
        }
    } else if let Some(next) = s
        .get(token.len()..)
        .and_then(|rest| rest.strip_prefix(' '))
        .map(product_token)
        && (next.eq_ignore_ascii_case("console") || next.eq_ignore_ascii_case("internal"))
    {
        second = Some(next);
    }
    let family = match second {
        None => {
            let t = strip_run_id(token);
            if t.len() <= MAX_FAMILY && t.bytes().all(is_family_byte) {
                Cow::Borrowed(t)
            } else {
                Cow::Owned(family_text(t))
            }
        }
        Some(next) => Cow::Owned(family_text(&format!("{}-{next}", strip_run_id(token)))),
    };
    match family.as_ref() {
        "" => None,
        "mozilla" | "opera" => Some(Cow::Borrowed("browser")),
        _ => Some(family),
    }
}

/// The text of `s` before its first separator (see [`agent_family`]).
fn product_token(s: &str) -> &str {
    let end = s
        .find(|c: char| c == '/' || c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '"'))
        .unwrap_or(s.len());
    s[..end].trim_end_matches(']')
}

/// Whether a family keeps this byte as it is.
fn is_family_byte(b: u8) -> bool {
    matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' | b'+')
}

/// `s` lower-cased, other characters replaced, cut to [`MAX_FAMILY`].
fn family_text(s: &str) -> String {
    s.chars()
        .take(MAX_FAMILY)
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii() && is_family_byte(c as u8) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `s` without a trailing run id: `_` or `-` then 8 or more hex digits and dashes, a digit
/// among them.
fn strip_run_id(s: &str) -> &str {
    for (i, b) in s.bytes().enumerate() {
        if i == 0 || !matches!(b, b'_' | b'-') {
            continue;
        }
        let rest = &s.as_bytes()[i + 1..];
        if rest.len() >= 8
            && rest.iter().all(|b| b.is_ascii_hexdigit() || *b == b'-')
            && rest.iter().any(u8::is_ascii_digit)
        {
            return &s[..i];
        }
    }
    s
}

/// `service:Name` when that API is in [`HIGH_RISK`] (the service is the first label of
/// `eventSource`).
fn high_risk(source: &str, name: &str) -> Option<&'static str> {
    let svc = source.split('.').next().unwrap_or(source);
    HIGH_RISK.iter().copied().find(|api| {
        api.len() == svc.len() + 1 + name.len()
            && api.starts_with(svc)
            && api.as_bytes().get(svc.len()) == Some(&b':')
            && api.ends_with(name)
    })
}

/// What the baseline reads from `userIdentity` (string members; anything else is absent).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Identity<'x> {
    arn: Option<&'x str>,
    access_key_id: Option<&'x str>,
    kind: Option<&'x str>,
    /// `sessionContext.sessionIssuer.arn`, read only for role sessions and federated users.
    issuer: Option<&'x str>,
}

/// Whether [`principal_key`] uses the issuer of a principal with this ARN.
fn needs_issuer(arn: Option<&str>) -> bool {
    arn.is_some_and(|a| a.contains(":assumed-role/") || a.contains(":federated-user/"))
}

/// The identity of an event, from the members the reader indexed when they can answer, else
/// from the document; `None` when the record is not a JSON document.
fn identity_of<'x>(ev: &'x Event<'_>) -> Option<Identity<'x>> {
    identity_indexed(ev).or_else(|| identity_doc(ev))
}

/// [`identity_doc`] from the reader's index of `userIdentity`, without a document; `None` when
/// the index cannot tell (no index, escaped keys, `userIdentity` not an object, a value read
/// that is not a plain string: escaped, or of another type).
fn identity_indexed<'x, 'e>(ev: &'x Event<'e>) -> Option<Identity<'x>> {
    if !ev.has_member_index() {
        return None;
    }
    let Some(object) = ev.member("userIdentity") else {
        return Some(Identity::default());
    };
    // one pass over the members (the reader's, for the `userIdentity` it walked); of a repeated
    // key the last counts, as in a document
    let [arn, access_key_id, kind, context] = ev
        .with_members_of(object.0, |members| {
            let mut found = [None; 4];
            for m in members {
                // a member of an earlier `userIdentity` (the key repeated): the document keeps
                // only the last
                if m.value.0 < object.0 || m.value.1 > object.1 {
                    continue;
                }
                let slot = match m.key {
                    b"arn" => 0,
                    b"accessKeyId" => 1,
                    b"type" => 2,
                    b"sessionContext" => 3,
                    _ => continue,
                };
                found[slot] = Some(*m);
            }
            found
        })
        .ok()?;
    let plain = |m: Option<Member<'e>>| -> Option<Option<&'x str>> {
        match m {
            None => Some(None),
            Some(m) => ev.member_str(&m).map(Some),
        }
    };
    let arn = plain(arn)?;
    let issuer = match context {
        Some(m) if needs_issuer(arn) => issuer_indexed(ev, m.value.0)?,
        _ => None,
    };
    Some(Identity {
        arn,
        access_key_id: plain(access_key_id)?,
        kind: plain(kind)?,
        issuer,
    })
}

/// `sessionIssuer.arn` of the `sessionContext` at `context` when absent or a plain string;
/// `None` when the raw members cannot tell (an object that is not one, escapes).
fn issuer_indexed<'x>(ev: &'x Event<'_>, context: usize) -> Option<Option<&'x str>> {
    let Some(issuer) = ev.member_of(context, "sessionIssuer").ok()? else {
        return Some(None);
    };
    match ev.member_of(issuer.0, "arn").ok()? {
        None => Some(None),
        Some(span) => ev.plain_str(span).map(Some),
    }
}

/// The identity as the event's document has it (the last of repeated keys; members that are
/// not strings, and members of values that are not objects, are absent).
fn identity_doc<'x>(ev: &'x Event<'_>) -> Option<Identity<'x>> {
    let doc = ev.doc()?;
    let Some(ui) = doc.get("userIdentity") else {
        return Some(Identity::default());
    };
    let string = |k: &str| ui.get(k).and_then(Value::as_str);
    let arn = string("arn");
    Some(Identity {
        arn,
        access_key_id: string("accessKeyId"),
        kind: string("type"),
        issuer: if needs_issuer(arn) {
            ui.pointer("/sessionContext/sessionIssuer/arn")
                .and_then(Value::as_str)
        } else {
            None
        },
    })
}

/// The network an address belongs to for baselining: IPv4 /24, IPv6 /48.
fn network_of(address: IpAddr) -> String {
    match address {
        IpAddr::V4(a) => {
            let o = a.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(time: &str, region: &str, name: &str, ip: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({"eventTime": time, "awsRegion": region, "eventSource": "iam.amazonaws.com", "eventName": name,
            "sourceIPAddress": ip, "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/alice", "accessKeyId": "AKIAX"}}))
        .unwrap()
    }

    fn observe(b: &mut Baseline, r: &[u8]) -> Vec<Alert> {
        let mut out = Vec::new();
        b.observe(&Event::parse(r).unwrap(), None, &mut out);
        out
    }

    #[test]
    fn learns_then_alerts_on_first_seen_and_persists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.sqlite");
        let cfg = BaselineConfig {
            learning_secs: 86400,
            max_entries: 1000,
        };
        let mut b = Baseline::open(&path, cfg.clone()).unwrap();
        assert!(
            observe(
                &mut b,
                &raw(
                    "2024-01-01T00:00:00Z",
                    "eu-west-1",
                    "ListUsers",
                    "198.51.100.1"
                )
            )
            .is_empty()
        );
        // still learning: a new region is learned silently
        assert!(
            observe(
                &mut b,
                &raw(
                    "2024-01-01T10:00:00Z",
                    "us-east-1",
                    "CreateUser",
                    "198.51.100.2"
                )
            )
            .is_empty()
        );
        b.save().unwrap();
        drop(b);
        let mut b = Baseline::open(&path, cfg).unwrap();
        // after learning: known things are quiet
        assert!(
            observe(
                &mut b,
                &raw(
                    "2024-01-03T00:00:00Z",
                    "eu-west-1",
                    "CreateUser",
                    "198.51.100.9"
                )
            )
            .is_empty()
        );
        // new region + new high-risk API + new network
        let a = observe(
            &mut b,
            &raw(
                "2024-01-03T00:01:00Z",
                "ap-south-1",
                "CreateAccessKey",
                "203.0.113.5",
            ),
        );
        let ids: Vec<&str> = a.iter().map(|a| a.rule_id()).collect();
        assert_eq!(
            ids,
            vec!["RD-BASE-REGION", "RD-BASE-API", "RD-BASE-NETWORK"]
        );
        assert_eq!(a[0].matched().get("awsRegion"), Some(json!("ap-south-1")));
        // only once
        assert!(
            observe(
                &mut b,
                &raw(
                    "2024-01-03T00:02:00Z",
                    "ap-south-1",
                    "CreateAccessKey",
                    "203.0.113.6"
                )
            )
            .is_empty()
        );
    }

    /// A record at `time` in `region` by `identity`, with `extra` top-level members.
    fn rec(time: &str, region: &str, identity: Value, extra: Value) -> Vec<u8> {
        let mut v = json!({"eventTime": time, "awsRegion": region, "eventSource": "ec2.amazonaws.com",
            "eventName": "DescribeInstances", "sourceIPAddress": "198.51.100.7", "userIdentity": identity});
        if let (Some(o), Value::Object(x)) = (v.as_object_mut(), extra) {
            o.extend(x);
        }
        serde_json::to_vec(&v).unwrap()
    }

    fn session(role: &str, session: &str, issuer: Option<&str>) -> Value {
        let mut v = json!({"type": "AssumedRole", "accessKeyId": "ASIAX",
            "arn": format!("arn:aws:sts::111122223333:assumed-role/{role}/{session}")});
        if let Some(i) = issuer {
            v["sessionContext"] =
                json!({"sessionIssuer": {"type": "Role", "arn": i, "userName": role}});
        }
        v
    }

    /// A store at `path` learning for `learning_secs`, of at most `max_entries` rows.
    fn store(path: &Path, learning_secs: i64, max_entries: usize) -> Baseline {
        let cfg = BaselineConfig {
            learning_secs,
            max_entries,
        };
        Baseline::open(path, cfg).unwrap()
    }

    /// `SELECT count(*) FROM <from>` in the store.
    fn count(b: &Baseline, from: &str) -> i64 {
        b.conn
            .query_row(&format!("SELECT count(*) FROM {from}"), [], |r| r.get(0))
            .unwrap()
    }

    fn ids(a: &[Alert]) -> Vec<&str> {
        a.iter().map(|a| a.rule_id()).collect()
    }

    fn day(n: u32) -> String {
        format!("2024-02-{:02}T12:00:00Z", n)
    }

    fn short_learning() -> BaselineConfig {
        BaselineConfig {
            learning_secs: 86400,
            max_entries: 1000,
        }
    }

    /// Every session of a role is the role: a new session in the role's usual region is quiet,
    /// with or without `sessionIssuer` (IAM Identity Center roles too); a new region alerts.
    #[test]
    fn assumed_role_sessions_are_keyed_by_their_role() {
        let mut b = Baseline::open(Path::new(":memory:"), short_learning()).unwrap();
        let deploy = "arn:aws:iam::111122223333:role/deploy";
        let sso = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef";
        let learn = [
            session("deploy", "ci-1", Some(deploy)),
            session(
                "AWSReservedSSO_Admin_0123456789abcdef",
                "alice@example.com",
                Some(sso),
            ),
        ];
        for id in learn {
            assert!(observe(&mut b, &rec(&day(1), "eu-west-1", id, json!({}))).is_empty());
        }
        let quiet = [
            session("deploy", "ci-2", Some(deploy)),
            // no sessionContext: the role is read from the assumed-role ARN
            session("deploy", "ci-3", None),
            session(
                "AWSReservedSSO_Admin_0123456789abcdef",
                "bob@example.com",
                Some(sso),
            ),
        ];
        for id in quiet {
            let a = observe(&mut b, &rec(&day(5), "eu-west-1", id.clone(), json!({})));
            assert!(a.is_empty(), "{id}: {:?}", ids(&a));
        }
        let a = observe(
            &mut b,
            &rec(
                &day(5),
                "sa-east-1",
                session("deploy", "ci-4", None),
                json!({}),
            ),
        );
        assert_eq!(ids(&a), ["RD-BASE-REGION"]);
        // the derived key is the role's ARN, so the region is known to the session that names
        // its issuer
        let a = observe(
            &mut b,
            &rec(
                &day(5),
                "sa-east-1",
                session("deploy", "ci-5", Some(deploy)),
                json!({}),
            ),
        );
        assert!(a.is_empty(), "{:?}", ids(&a));
    }

    /// A federated user (GetFederationToken) is keyed by the user who issued the token, so a
    /// new federated name is not a new principal; IAM users and root stay distinct.
    #[test]
    fn federated_users_are_keyed_by_their_issuer_and_users_by_their_arn() {
        let mut b = Baseline::open(Path::new(":memory:"), short_learning()).unwrap();
        let fed = |name: &str| {
            json!({"type": "FederatedUser", "accessKeyId": "ASIAF",
                "arn": format!("arn:aws:sts::111122223333:federated-user/{name}"),
                "sessionContext": {"sessionIssuer": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/broker"}}})
        };
        let user = json!({"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/broker", "accessKeyId": "ASIAU"});
        let root = json!({"type": "Root", "arn": "arn:aws:iam::111122223333:root", "accessKeyId": "ASIAR"});
        assert!(observe(&mut b, &rec(&day(1), "eu-west-1", fed("a"), json!({}))).is_empty());
        assert!(observe(&mut b, &rec(&day(1), "eu-west-1", root.clone(), json!({}))).is_empty());
        assert!(observe(&mut b, &rec(&day(5), "eu-west-1", fed("b"), json!({}))).is_empty());
        assert!(observe(&mut b, &rec(&day(5), "eu-west-1", user, json!({}))).is_empty());
        let a = observe(&mut b, &rec(&day(5), "us-east-2", root, json!({})));
        assert_eq!(ids(&a), ["RD-BASE-REGION"]);
    }

    /// Learning is per principal: one that first appears long after another is learned for
    /// its own period (across runs: its first-seen time is stored), then alerts.
    #[test]
    fn learning_period_is_per_principal_and_persists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.sqlite");
        let user = |n: &str| json!({"type": "IAMUser", "arn": format!("arn:aws:iam::111122223333:user/{n}"), "accessKeyId": "ASIAU"});
        let mut b = Baseline::open(&path, short_learning()).unwrap();
        assert!(observe(&mut b, &rec(&day(1), "eu-west-1", user("old"), json!({}))).is_empty());
        // `new` first appears on day 10, long after `old`'s learning: still learning
        assert!(observe(&mut b, &rec(&day(10), "eu-west-1", user("new"), json!({}))).is_empty());
        assert!(
            observe(
                &mut b,
                &rec("2024-02-10T20:00:00Z", "us-west-2", user("new"), json!({}))
            )
            .is_empty()
        );
        // `old` is past learning
        let a = observe(&mut b, &rec(&day(10), "ap-south-1", user("old"), json!({})));
        assert_eq!(ids(&a), ["RD-BASE-REGION"]);
        b.save().unwrap();
        drop(b);
        let mut b = Baseline::open(&path, short_learning()).unwrap();
        assert!(
            observe(
                &mut b,
                &rec(
                    "2024-02-11T06:00:00Z",
                    "ca-central-1",
                    user("new"),
                    json!({})
                )
            )
            .is_empty(),
            "within `new`'s learning period, across runs"
        );
        assert!(observe(&mut b, &rec(&day(12), "us-west-2", user("new"), json!({}))).is_empty());
        let a = observe(&mut b, &rec(&day(12), "me-south-1", user("new"), json!({})));
        assert_eq!(ids(&a), ["RD-BASE-REGION"]);
    }

    /// A long-lived key with a user-agent family it never used alerts (low); a new version of a
    /// known family, temporary credentials and calls made by a service on the key's behalf do
    /// not.
    #[test]
    fn new_user_agent_family_of_a_long_lived_key_alerts() {
        let mut b = Baseline::open(Path::new(":memory:"), short_learning()).unwrap();
        let key = json!({"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/ci", "accessKeyId": "AKIAEXAMPLE"});
        let temp = json!({"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/dev", "accessKeyId": "ASIAEXAMPLE"});
        let ua = |u: &str| json!({"userAgent": u});
        let cli = "aws-cli/2.13.0 Python/3.11.4 Linux/6.1 exe/x86_64.ubuntu.22 prompt/off command/ec2.describe-instances";
        for id in [&key, &temp] {
            assert!(observe(&mut b, &rec(&day(1), "eu-west-1", id.clone(), ua(cli))).is_empty());
        }
        let newer = "aws-cli/2.15.1 Python/3.11.6 Linux/6.5 exe/x86_64.ubuntu.24";
        assert!(observe(&mut b, &rec(&day(5), "eu-west-1", key.clone(), ua(newer))).is_empty());
        let boto = "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.5 lang/python#3.12.1";
        let a = observe(&mut b, &rec(&day(5), "eu-west-1", key.clone(), ua(boto)));
        assert_eq!(ids(&a), ["RD-BASE-AGENT"]);
        assert_eq!(a[0].severity(), Severity::Low);
        assert_eq!(a[0].attack(), ["T1078"]);
        assert_eq!(a[0].matched().get("userAgentFamily"), Some(json!("boto3")));
        // once
        assert!(observe(&mut b, &rec(&day(6), "eu-west-1", key.clone(), ua(boto))).is_empty());
        // temporary credentials: tracked, never alerted
        assert!(observe(&mut b, &rec(&day(5), "eu-west-1", temp, ua(boto))).is_empty());
        // a service calling on the key's behalf (source is the service, not an address)
        let by_service = json!({"userAgent": "cloudformation.amazonaws.com", "sourceIPAddress": "cloudformation.amazonaws.com"});
        assert!(observe(&mut b, &rec(&day(5), "eu-west-1", key, by_service)).is_empty());
    }

    /// Baseline alerts carry the record's origin, as rule alerts do.
    #[test]
    fn baseline_alerts_carry_the_origin() {
        let engine = crate::Engine::new(Vec::new());
        let b = store(Path::new(":memory:"), 0, 100);
        let mut det = crate::Detector::new(&engine, 0).with_baseline(b);
        let mut out = Vec::new();
        let user = json!({"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/a"});
        let r = rec(&day(1), "eu-west-1", user, json!({}));
        det.process(&r, &|| "f.json:record 7".to_string(), &mut out)
            .unwrap();
        det.finish(&mut out).unwrap();
        assert_eq!(ids(&out), ["RD-BASE-REGION"]);
        assert_eq!(out[0].origin.as_deref(), Some("f.json:record 7"));
    }

    /// The bound counts every row, per-principal rows included.
    #[test]
    fn bound_counts_principal_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.sqlite");
        let mut b = store(&path, 0, 10);
        for i in 0..40 {
            let user =
                json!({"type": "IAMUser", "arn": format!("arn:aws:iam::111122223333:user/u{i}")});
            observe(
                &mut b,
                &rec(
                    &format!("2024-01-01T00:{i:02}:00Z"),
                    "eu-west-1",
                    user,
                    json!({}),
                ),
            );
        }
        b.save().unwrap();
        let (seen, principals) = (count(&b, "seen"), count(&b, "principals"));
        assert!(seen + principals <= 10, "{seen} + {principals}");
        assert!(principals > 0 && b.len() as i64 == seen + principals);
        // the most recent principal is kept, with its facts
        let last = count(
            &b,
            "seen WHERE principal = 'arn:aws:iam::111122223333:user/u39'",
        );
        assert_eq!(last, 1);
    }

    /// Forgotten rows leave the store on save; a forgotten principal that comes back is new
    /// again (its learning starts over) and is stored again.
    #[test]
    fn forgotten_principals_leave_the_store_and_may_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.sqlite");
        let user = |n: &str| json!({"type": "IAMUser", "arn": format!("arn:aws:iam::1:user/{n}")});
        let mut b = store(&path, 0, 2);
        assert_eq!(
            observe(&mut b, &rec(&day(1), "eu-west-1", user("a"), json!({}))).len(),
            1
        );
        b.save().unwrap();
        // `b` pushes `a` out (its region, then itself), then `a` comes back and pushes `b` out
        observe(&mut b, &rec(&day(2), "eu-west-1", user("b"), json!({})));
        assert!(!b.principals.contains_key("arn:aws:iam::1:user/a"));
        let again = observe(&mut b, &rec(&day(3), "eu-west-1", user("a"), json!({})));
        assert_eq!(ids(&again), ["RD-BASE-REGION"]);
        b.save().unwrap();
        drop(b);
        let b = store(&path, 0, 2);
        assert_eq!(b.len(), 2);
        assert_eq!(count(&b, "seen") + count(&b, "principals"), 2);
        let first: i64 = b
            .conn
            .query_row("SELECT first_seen FROM principals", [], |r| r.get(0))
            .unwrap();
        assert_eq!(Some(first), parse_time(&day(3)));
    }

    /// A store written before per-principal learning (no `principals` table, one global
    /// `learning_start`, rows keyed by session ARNs) opens: its rows are kept (sessions folded
    /// into their role), each principal gets a first-seen time, and what it knew stays known.
    #[test]
    fn old_store_is_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);
                 CREATE TABLE seen(principal TEXT NOT NULL, kind INTEGER NOT NULL, value TEXT NOT NULL,
                     last_seen INTEGER NOT NULL, PRIMARY KEY(principal, kind, value)) WITHOUT ROWID;
                 INSERT INTO meta VALUES('learning_start', '1704067200');
                 INSERT INTO seen VALUES('arn:aws:iam::111122223333:user/alice', 1, 'eu-west-1', 1704153600);
                 INSERT INTO seen VALUES('arn:aws:sts::111122223333:assumed-role/deploy/ci-1', 1, 'eu-west-1', 1704153600);
                 INSERT INTO seen VALUES('arn:aws:sts::111122223333:assumed-role/deploy/ci-2', 1, 'eu-west-1', 1704240000);
                 INSERT INTO seen VALUES('arn:aws:sts::111122223333:assumed-role/deploy/ci-2', 1, 'us-east-1', 1704240000);",
            )
            .unwrap();
        }
        let mut b = Baseline::open(&path, short_learning()).unwrap();
        let alice = json!({"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"});
        assert!(observe(&mut b, &rec(&day(1), "eu-west-1", alice.clone(), json!({}))).is_empty());
        let a = observe(&mut b, &rec(&day(1), "eu-north-1", alice, json!({})));
        assert_eq!(
            ids(&a),
            ["RD-BASE-REGION"],
            "alice learned from the old start"
        );
        let role = session(
            "deploy",
            "ci-9",
            Some("arn:aws:iam::111122223333:role/deploy"),
        );
        for r in ["eu-west-1", "us-east-1"] {
            assert!(observe(&mut b, &rec(&day(1), r, role.clone(), json!({}))).is_empty());
        }
        b.save().unwrap();
        let rows: Vec<(String, i64, i64)> = {
            let mut st = b
                .conn
                .prepare(
                    "SELECT principal, first_seen, last_seen FROM principals ORDER BY principal",
                )
                .unwrap();
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "arn:aws:iam::111122223333:role/deploy",
                "arn:aws:iam::111122223333:user/alice"
            ]
        );
        assert!(rows.iter().all(|r| r.1 == 1704067200), "{rows:?}");
        let old_meta: String = b
            .conn
            .query_row("SELECT v FROM meta WHERE k = 'learning_start'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(old_meta, "1704067200");
        assert_eq!(count(&b, "seen WHERE principal LIKE '%assumed-role%'"), 0);
    }

    #[test]
    fn principal_keys() {
        let cases: &[(&str, Option<&str>, &str)] = &[
            (
                "arn:aws:iam::1:user/alice",
                None,
                "arn:aws:iam::1:user/alice",
            ),
            (
                "arn:aws:iam::1:root",
                Some("arn:aws:iam::1:role/x"),
                "arn:aws:iam::1:root",
            ),
            (
                "arn:aws:sts::1:assumed-role/deploy/i-0abc",
                None,
                "arn:aws:iam::1:role/deploy",
            ),
            (
                "arn:aws-cn:sts::1:assumed-role/deploy/s",
                Some(""),
                "arn:aws-cn:iam::1:role/deploy",
            ),
            (
                "arn:aws:sts::1:assumed-role/AWSReservedSSO_Admin_ab12/alice@example.com",
                Some(
                    "arn:aws:iam::1:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_ab12",
                ),
                "arn:aws:iam::1:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_ab12",
            ),
            (
                "arn:aws:sts::1:assumed-role/nosession",
                None,
                "arn:aws:iam::1:role/nosession",
            ),
            // not an ARN: kept as it is
            ("x:assumed-role/y/z", None, "x:assumed-role/y/z"),
            (
                "arn:aws:sts::1:federated-user/bob",
                Some("arn:aws:iam::1:user/broker"),
                "arn:aws:iam::1:user/broker",
            ),
            (
                "arn:aws:sts::1:federated-user/bob",
                None,
                "arn:aws:sts::1:federated-user/bob",
            ),
        ];
        for (arn, issuer, want) in cases {
            assert_eq!(principal_key(arn, *issuer), *want, "{arn} {issuer:?}");
        }
    }

    #[test]
    fn user_agent_families() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "aws-cli/2.13.0 Python/3.11.4 Linux/6.1 exe/x86_64.ubuntu.22 prompt/off",
                Some("aws-cli"),
            ),
            (
                "aws-cli/1.18.69 Python/3.8.10 Linux/5.4 botocore/1.17.0",
                Some("aws-cli"),
            ),
            (
                "[Boto3/1.26.165 Python/3.10.6 Linux/5.19.0-46-generic Botocore/1.29.165]",
                Some("boto3"),
            ),
            ("Boto3/1.26.165 Python/3.10.6", Some("boto3")),
            (
                "aws-sdk-go/1.41.4 (go1.18.3; linux; amd64) amazon-ssm-agent/",
                Some("aws-sdk-go"),
            ),
            (
                "aws-sdk-go-v2/1.17.0 os/linux lang/go/1.18.10",
                Some("aws-sdk-go-v2"),
            ),
            (
                "APN/1.0 HashiCorp/1.0 Terraform/1.1.2 (+https://www.terraform.io) terraform-provider-aws/3.76.1",
                Some("terraform"),
            ),
            (
                "[APN/1.0 HashiCorp/1.0 Terraform/1.1.2 (+https://www.terraform.io)]",
                Some("terraform"),
            ),
            ("APN/1.0 Acme/2.1", Some("acme")),
            ("APN/1.0", Some("apn")),
            ("console.amazonaws.com", Some("console.amazonaws.com")),
            ("signin.amazonaws.com", Some("signin.amazonaws.com")),
            ("AWS Internal", Some("aws-internal")),
            (
                "RDS Console, aws-internal/3 aws-sdk-java/1.11.975 Linux/5.10",
                Some("rds-console"),
            ),
            (
                "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488]",
                Some("s3console"),
            ),
            (
                "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:102.0) Gecko/20100101 Firefox/102.0",
                Some("browser"),
            ),
            (
                "stratus-red-team_39f95f43-cd2f-4beb-b69e-be60b6fe1f57",
                Some("stratus-red-team"),
            ),
            (
                "[stratus-red-team_b1d7e3ac-1a0f-40b2-b062-a4297558e42f]",
                Some("stratus-red-team"),
            ),
            ("python-requests/2.31.0", Some("python-requests")),
            ("aws-sdk-java-deadbeef", Some("aws-sdk-java-deadbeef")),
            ("Ünïcode/1.0", Some("_n_code")),
            ("", None),
            ("   ", None),
            ("[]", None),
            ("/1.0", None),
        ];
        for (ua, want) in cases {
            assert_eq!(agent_family(ua).as_deref(), *want, "{ua:?}");
        }
        let long = "x".repeat(500);
        assert_eq!(agent_family(&long).map(|f| f.len()), Some(MAX_FAMILY));
        // already normal: borrowed from the agent
        assert!(matches!(
            agent_family("aws-cli/2.0"),
            Some(Cow::Borrowed("aws-cli"))
        ));
    }

    fn identity_cases() -> Vec<String> {
        let mut cases: Vec<String> = [
            r#"{"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a","accessKeyId":"AKIA1"}}"#,
            r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::1:role/p/r"}}}}"#,
            r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s","sessionContext":{"attributes":{}}}}"#,
            r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s","sessionContext":"x"}}"#,
            r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s","sessionContext":{"sessionIssuer":7}}}"#,
            r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::1:role/\u0072"}}}}"#,
            r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s","sessionContext":{"sessionIssuer":{"arn":null}}}}"#,
            r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s","sessionContext":{"sessionIssuer":{"a\u0072n":"arn:aws:iam::1:role/e"}}}}"#,
            r#"{"userIdentity":{"type":"FederatedUser","arn":"arn:aws:sts::1:federated-user/f","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::1:user/u"}}}}"#,
            r#"{"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/\u00e9"}}"#,
            r#"{"userIdentity":{"type":"IAMUser","a\u0072n":"arn:aws:iam::1:user/k"}}"#,
            r#"{"userIdentity":{"type":"IAMUser","arn":5,"accessKeyId":true}}"#,
            r#"{"userIdentity":{"type":null,"arn":"arn:aws:iam::1:user/a","accessKeyId":["AKIA"]}}"#,
            r#"{"userIdentity":{"arn":"arn:aws:iam::1:user/a","arn":"arn:aws:iam::1:user/b"}}"#,
            r#"{"userIdentity":{"arn":"arn:aws:iam::1:user/a","type":"IAMUser"},"userIdentity":{"arn":"arn:aws:iam::1:user/b"}}"#,
            r#"{"userIdentity":{"arn":"arn:aws:iam::1:user/a"},"userIdentity":"gone"}"#,
            r#"{"userIdentity":"arn:aws:iam::1:user/a"}"#,
            r#"{"userIdentity":null}"#,
            r#"{"userIdentity":{}}"#,
            r#"{"eventName":"X"}"#,
            r#"{"userIdentit\u0079":{"arn":"arn:aws:iam::1:user/a"}}"#,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        cases.push(
            r#"{"userIdentity":{"type":"AWSService","invokedBy":"ec2.amazonaws.com"},"awsRegion":"eu-west-1"}"#
                .into(),
        );
        cases
    }

    /// The reader's index, where it answers, reads the identity the document has: on edge cases
    /// and on every event of the corpus, which it answers almost always.
    #[test]
    fn indexed_identity_is_the_documents() {
        for raw in identity_cases() {
            let ev = Event::parse(raw.as_bytes()).unwrap();
            let indexed = identity_indexed(&ev);
            let doc = identity_doc(&ev);
            if let Some(i) = indexed {
                assert_eq!(Some(i), doc, "{raw}");
            }
            assert_eq!(identity_of(&ev), doc, "{raw}");
        }
        let plain = r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s","accessKeyId":"ASIA1","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::1:role/r"}}}}"#;
        let ev = Event::parse(plain.as_bytes()).unwrap();
        assert_eq!(
            identity_indexed(&ev).and_then(|i| i.issuer),
            Some("arn:aws:iam::1:role/r")
        );
        assert!(!ev.doc_built(), "no document for a plain identity");

        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/corpora/cloudtrail");
        let files = crate::input::discover(&root, None, None).unwrap();
        assert!(files.len() > 10, "corpus missing at {}", root.display());
        let mut reader = crate::input::Reader::new();
        let (mut st, mut issues) = (crate::input::ReadStats::default(), Vec::new());
        let (mut events, mut answered) = (0usize, 0usize);
        for f in &files {
            reader.read_file_events(f, &mut st, &mut issues, &mut |ev, _| {
                let Ok(ev) = ev else { return };
                events += 1;
                let indexed = identity_indexed(ev);
                if indexed.is_some() {
                    answered += 1;
                    assert!(!ev.doc_built());
                }
                let doc = identity_doc(ev);
                if let Some(i) = indexed {
                    assert_eq!(Some(i), doc, "{}", String::from_utf8_lossy(ev.raw()));
                }
            });
        }
        assert!(events > 1000, "{events}");
        assert!(answered * 100 >= events * 99, "{answered} of {events}");
    }

    /// Odd identities do not panic; an escaped ARN is read decoded (from the document).
    #[test]
    fn odd_identities() {
        let mut b = Baseline::open(Path::new(":memory:"), short_learning()).unwrap();
        for raw in identity_cases() {
            let r = raw.replacen(
                '{',
                r#"{"eventTime":"2024-02-01T12:00:00Z","awsRegion":"eu-west-1","userAgent":"aws-cli/2","sourceIPAddress":"::1","#,
                1,
            );
            assert!(observe(&mut b, r.as_bytes()).is_empty(), "{r}");
        }
        let e = json!({"type": "IAMUser", "arn": "arn:aws:iam::1:user/\u{e9}"});
        assert!(observe(&mut b, &rec(&day(5), "eu-west-1", e.clone(), json!({}))).is_empty());
        assert_eq!(
            ids(&observe(&mut b, &rec(&day(5), "eu-south-2", e, json!({})))),
            ["RD-BASE-REGION"]
        );
    }

    #[test]
    fn migration_is_idempotent_and_newer_stores_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.sqlite");
        let user = json!({"type": "IAMUser", "arn": "arn:aws:iam::1:user/a"});
        {
            let mut b = Baseline::open(&path, short_learning()).unwrap();
            observe(&mut b, &rec(&day(1), "eu-west-1", user.clone(), json!({})));
            b.save().unwrap();
        }
        for _ in 0..2 {
            let mut b = Baseline::open(&path, short_learning()).unwrap();
            assert_eq!(b.len(), 2);
            assert!(!b.learning("arn:aws:iam::1:user/a", parse_time(&day(3)).unwrap()));
            assert!(b.learning("arn:aws:iam::1:user/a", parse_time(&day(1)).unwrap()));
            assert!(
                observe(&mut b, &rec(&day(3), "eu-west-1", user.clone(), json!({}))).is_empty()
            );
            b.save().unwrap();
        }
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA user_version = 99")
            .unwrap();
        let e = Baseline::open(&path, short_learning()).err().unwrap();
        assert!(e.contains("newer"), "{e}");
        std::fs::write(
            dir.path().join("junk"),
            b"not a database at all, not at all",
        )
        .unwrap();
        assert!(Baseline::open(&dir.path().join("junk"), short_learning()).is_err());
    }

    #[test]
    fn size_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.sqlite");
        let mut b = store(&path, 0, 10);
        for i in 0..50 {
            observe(
                &mut b,
                &raw(
                    &format!("2024-01-01T00:{:02}:00Z", i),
                    &format!("r-{i}"),
                    "ListUsers",
                    "10.0.0.1",
                ),
            );
        }
        b.save().unwrap();
        assert!(b.len() <= 10);
        let n = count(&b, "seen") + count(&b, "principals");
        assert!(n <= 10, "{n}");
    }
}
