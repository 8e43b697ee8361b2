//! What routing remembers between runs: the routed alerts and their acks, the outbox of
//! deliveries not yet made, digest buffers, rate windows, scheduled escalations, and the
//! delivery log that makes every (alert, route) pair go out once. Kept as a JSON snapshot plus
//! an append-only journal of deliveries (one line per delivery, so a crash after a delivery
//! and before the next snapshot does not send it again).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Version of the state file's layout.
pub const STATE_VERSION: u32 = 1;

/// An acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub at: i64,
}

/// A routed alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    /// Its `rampart.alert/v1` record (messages are built from it, escalations too).
    pub record: Value,
    /// When it was first routed (Unix seconds).
    pub routed_at: i64,
    /// The routes it matched.
    pub routes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack: Option<Ack>,
}

/// Why a delivery is in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PendingKind {
    Alert,
    Escalation { from: String, after_secs: i64 },
    Acknowledged { by: String },
    Digest,
}

/// A delivery still to make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub route: String,
    /// The delivery's key in the route's log: the alert id, `ack:ID` or `digest:ROUTE:DUE`.
    pub key: String,
    /// The alerts it carries (one, or a digest's).
    pub ids: Vec<String>,
    #[serde(flatten)]
    pub kind: PendingKind,
    pub attempts: u32,
    /// Not tried again before this time.
    pub next_try: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Alerts waiting for a route's digest (or held back by its rate limit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buffer {
    pub due: i64,
    pub ids: Vec<String>,
}

/// A route's current rate-limit window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start: i64,
    pub sent: u32,
}

/// An escalation due unless the alert is acknowledged first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scheduled {
    pub id: String,
    pub from: String,
    pub to: String,
    pub due: i64,
    pub after_secs: i64,
}

/// The whole routing state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    #[serde(default)]
    pub version: u32,
    #[serde(default)]
    pub alerts: BTreeMap<String, Stored>,
    #[serde(default)]
    pub outbox: Vec<Pending>,
    /// Per route, the keys delivered (alert ids, digest and ack keys).
    #[serde(default)]
    pub delivered: BTreeMap<String, BTreeSet<String>>,
    #[serde(default)]
    pub digests: BTreeMap<String, Buffer>,
    #[serde(default)]
    pub rate: BTreeMap<String, Window>,
    #[serde(default)]
    pub escalations: Vec<Scheduled>,
    /// (route, alert id) pairs in the outbox or a buffer: rebuilt on load.
    #[serde(skip)]
    queued: HashSet<(String, String)>,
}

/// One journal line: a delivery made.
#[derive(Debug, Serialize, Deserialize)]
struct Delivered {
    route: String,
    keys: Vec<String>,
}

impl State {
    /// A state from its JSON snapshot and the journal lines written after it.
    pub fn restore(snapshot: Option<&str>, journal: &str) -> Result<State, String> {
        let lines: Vec<&str> = journal.lines().filter(|l| !l.trim().is_empty()).collect();
        let mut delivered = Vec::new();
        for (n, line) in lines.iter().enumerate() {
            match serde_json::from_str::<Delivered>(line) {
                Ok(d) => delivered.push((d.route, d.keys)),
                // a line cut short by a crash is the last one; anything else is corruption
                Err(_) if n + 1 == lines.len() => {}
                Err(e) => return Err(format!("journal line {}: {e}", n + 1)),
            }
        }
        State::restore_from(snapshot, delivered)
    }

    /// A state from its JSON snapshot and the deliveries recorded since (or ever: recording a
    /// delivery twice changes nothing).
    pub fn restore_from(
        snapshot: Option<&str>,
        delivered: impl IntoIterator<Item = (String, Vec<String>)>,
    ) -> Result<State, String> {
        let mut s: State = match snapshot {
            Some(t) if !t.trim().is_empty() => {
                serde_json::from_str(t).map_err(|e| format!("not a routing state ({e})"))?
            }
            _ => State::default(),
        };
        if s.version > STATE_VERSION {
            return Err(format!(
                "written by a newer rampart (state version {}, this one reads {STATE_VERSION})",
                s.version
            ));
        }
        s.version = STATE_VERSION;
        for (route, keys) in delivered {
            s.delivered.entry(route).or_default().extend(keys);
        }
        let done = &s.delivered;
        s.outbox
            .retain(|p| !done.get(&p.route).is_some_and(|d| d.contains(&p.key)));
        s.reindex();
        // a digest's alerts journaled as delivered are no longer queued in its buffer
        let queued: Vec<(String, String)> = s
            .queued
            .iter()
            .filter(|(r, id)| s.is_delivered(r, id))
            .cloned()
            .collect();
        for q in queued {
            s.queued.remove(&q);
        }
        Ok(s)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The journal line for a delivery of `keys` on `route`.
    pub fn journal_line(route: &str, keys: &[String]) -> String {
        serde_json::to_string(&Delivered {
            route: route.to_string(),
            keys: keys.to_vec(),
        })
        .unwrap_or_default()
    }

    fn reindex(&mut self) {
        let mut q = HashSet::new();
        for p in &self.outbox {
            for id in &p.ids {
                q.insert((p.route.clone(), id.clone()));
            }
        }
        for (route, b) in &self.digests {
            for id in &b.ids {
                q.insert((route.clone(), id.clone()));
            }
        }
        self.queued = q;
    }

    /// Records a delivery (the caller has taken it out of the outbox).
    pub(crate) fn record_delivered(&mut self, route: &str, ids: &[String], keys: &[String]) {
        self.delivered
            .entry(route.to_string())
            .or_default()
            .extend(keys.iter().cloned());
        for id in ids {
            self.queued.remove(&(route.to_string(), id.clone()));
        }
    }

    /// Drops the queued escalation messages of an alert (it was acknowledged meanwhile).
    pub(crate) fn cancel_escalations(&mut self, id: &str) {
        let mut dropped = Vec::new();
        self.outbox.retain(|p| {
            let drop = matches!(p.kind, PendingKind::Escalation { .. }) && p.key == id;
            if drop {
                dropped.push((p.route.clone(), p.key.clone()));
            }
            !drop
        });
        for d in dropped {
            self.queued.remove(&d);
        }
    }

    /// Already delivered, queued or buffered for this route.
    pub fn claimed(&self, route: &str, id: &str) -> bool {
        self.delivered.get(route).is_some_and(|d| d.contains(id))
            || self.queued.contains(&(route.to_string(), id.to_string()))
    }

    pub fn is_delivered(&self, route: &str, key: &str) -> bool {
        self.delivered.get(route).is_some_and(|d| d.contains(key))
    }

    pub(crate) fn enqueue(&mut self, p: Pending) {
        for id in &p.ids {
            self.queued.insert((p.route.clone(), id.clone()));
        }
        self.outbox.push(p);
    }

    pub(crate) fn buffer(&mut self, route: &str, id: &str, due: i64) {
        let b = self.digests.entry(route.to_string()).or_insert(Buffer {
            due,
            ids: Vec::new(),
        });
        b.due = b.due.min(due);
        b.ids.push(id.to_string());
        self.queued.insert((route.to_string(), id.to_string()));
    }

    /// Forget alerts routed before `cutoff` that have nothing left to do (delivered, nothing
    /// buffered or scheduled): the state stays small however long `detect --follow` runs.
    pub fn prune(&mut self, cutoff: i64) {
        let busy: HashSet<&str> = self
            .outbox
            .iter()
            .flat_map(|p| p.ids.iter())
            .chain(self.digests.values().flat_map(|b| b.ids.iter()))
            .chain(self.escalations.iter().map(|e| &e.id))
            .map(String::as_str)
            .collect();
        let old: Vec<String> = self
            .alerts
            .iter()
            .filter(|(id, s)| s.routed_at < cutoff && !busy.contains(id.as_str()))
            .map(|(id, _)| id.clone())
            .collect();
        for id in old {
            if let Some(s) = self.alerts.remove(&id) {
                for r in &s.routes {
                    if let Some(d) = self.delivered.get_mut(r) {
                        d.remove(&id);
                        d.remove(&format!("ack:{id}"));
                    }
                }
            }
        }
    }
}

/// Where a state lives on disk: `FILE` (snapshot) and `FILE.journal`.
pub struct StateFile {
    path: PathBuf,
    journal: PathBuf,
}

impl StateFile {
    pub fn new(path: &Path) -> StateFile {
        let mut j = path.as_os_str().to_owned();
        j.push(".journal");
        StateFile {
            path: path.to_path_buf(),
            journal: PathBuf::from(j),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn load(&self) -> Result<State, String> {
        let read = |p: &Path| match std::fs::read_to_string(p) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", p.display())),
        };
        let snapshot = read(&self.path)?;
        let journal = read(&self.journal)?.unwrap_or_default();
        State::restore(snapshot.as_deref(), &journal).map_err(|e| {
            format!(
                "{}: {e}; move it aside to start afresh",
                self.path.display()
            )
        })
    }

    /// Writes the snapshot (a temporary file renamed over the old one), then empties the
    /// journal it now contains.
    pub fn save(&self, s: &State) -> Result<(), String> {
        let err = |e: std::io::Error| format!("cannot write {}: {e}", self.path.display());
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let mut tmp = self.path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        {
            let mut f = std::fs::File::create(&tmp).map_err(err)?;
            f.write_all(s.to_json().as_bytes()).map_err(err)?;
            f.sync_all().map_err(err)?;
        }
        std::fs::rename(&tmp, &self.path).map_err(err)?;
        match std::fs::remove_file(&self.journal) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!("cannot remove {}: {e}", self.journal.display())),
        }
    }
}

/// Where deliveries are journaled as they happen.
pub trait Journal {
    fn delivered(&mut self, route: &str, keys: &[String]) -> Result<(), String>;
}

/// Where a router's state is kept between runs: a [`StateFile`], or the history store (the
/// binary implements it over `rampart-store`).
pub trait Persist: Journal {
    fn load(&mut self) -> Result<State, String>;
    fn save(&mut self, s: &State) -> Result<(), String>;
    /// An acknowledgement as it is made (the snapshot keeps it too).
    fn acked(&mut self, _id: &str, _ack: &Ack) -> Result<(), String> {
        Ok(())
    }
    /// Acknowledgements recorded outside the router, by alert id: the store's alert-state
    /// table, which the dashboard writes too. Read when the router starts and before each
    /// tick ([`crate::Router::adopt_acks`]), so a dashboard ack stops a running escalation.
    fn acks(&mut self) -> Result<Vec<(String, Ack)>, String> {
        Ok(Vec::new())
    }
    /// Where, for people (`rampart-routes.json`, the store's redacted URL).
    fn describe(&self) -> String;
}

impl Persist for StateFile {
    fn load(&mut self) -> Result<State, String> {
        StateFile::load(self)
    }
    fn save(&mut self, s: &State) -> Result<(), String> {
        StateFile::save(self, s)
    }
    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

impl Journal for StateFile {
    fn delivered(&mut self, route: &str, keys: &[String]) -> Result<(), String> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.journal)
            .map_err(|e| format!("cannot append to {}: {e}", self.journal.display()))?;
        writeln!(f, "{}", State::journal_line(route, keys))
            .map_err(|e| format!("cannot append to {}: {e}", self.journal.display()))
    }
}

/// A journal in memory (tests, benchmarks, or a caller that persists otherwise).
#[derive(Debug, Default, Clone)]
pub struct MemoryJournal(pub String);

impl Journal for MemoryJournal {
    fn delivered(&mut self, route: &str, keys: &[String]) -> Result<(), String> {
        self.0.push_str(&State::journal_line(route, keys));
        self.0.push('\n');
        Ok(())
    }
}
