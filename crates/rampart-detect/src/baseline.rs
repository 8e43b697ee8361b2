//! Per-principal baselines: which regions, high-risk APIs and source networks each principal
//! uses. After a learning period (measured in event time), the first use of a new combination
//! raises an alert. State lives in SQLite between runs, bounded to `max_entries` rows (the
//! least recently seen are forgotten first).

use crate::alert::{Alert, parse_time};
use crate::event::Event;
use crate::ir::{Condition, Rule, RuleMeta, RuleSource, Severity};
use rusqlite::{Connection, params};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

/// Baseline settings.
#[derive(Debug, Clone)]
pub struct BaselineConfig {
    /// Seconds of event time after the first event during which nothing is alerted.
    pub learning_secs: i64,
    /// Upper bound on remembered (principal, kind, value) rows.
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

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct IdentityOnly<'a> {
    #[serde(borrow, default)]
    user_identity: Option<Ident<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Ident<'a> {
    #[serde(borrow, default)]
    arn: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    access_key_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "type")]
    kind: Option<Cow<'a, str>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Region = 1,
    Api = 2,
    Network = 3,
}

/// The baseline store.
pub struct Baseline {
    conn: Connection,
    cfg: BaselineConfig,
    learning_start: Option<i64>,
    /// (principal, kind, value) → last seen (event time)
    known: HashMap<(String, u8, String), i64>,
    dirty: Vec<(String, u8, String, i64)>,
    rules: [Rule; 3],
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

impl Baseline {
    /// Open (creating) the store at `path`; `:memory:` works for tests.
    pub fn open(path: &Path, cfg: BaselineConfig) -> Result<Baseline, String> {
        let conn = Connection::open(path)
            .map_err(|e| format!("baseline store {}: {e}", path.display()))?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
             CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS seen(principal TEXT NOT NULL, kind INTEGER NOT NULL, value TEXT NOT NULL,
                 last_seen INTEGER NOT NULL, PRIMARY KEY(principal, kind, value)) WITHOUT ROWID;",
        )
        .map_err(|e| format!("baseline store {}: {e}", path.display()))?;
        let learning_start = conn
            .query_row("SELECT v FROM meta WHERE k='learning_start'", [], |r| {
                r.get::<_, String>(0)
            })
            .ok()
            .and_then(|v| v.parse().ok());
        let mut known = HashMap::new();
        {
            let mut st = conn
                .prepare("SELECT principal, kind, value, last_seen FROM seen")
                .map_err(|e| e.to_string())?;
            let rows = st
                .query_map([], |r| {
                    Ok((
                        (
                            r.get::<_, String>(0)?,
                            r.get::<_, u8>(1)?,
                            r.get::<_, String>(2)?,
                        ),
                        r.get::<_, i64>(3)?,
                    ))
                })
                .map_err(|e| e.to_string())?;
            for row in rows.flatten() {
                known.insert(row.0, row.1);
            }
        }
        Ok(Baseline {
            conn,
            cfg,
            learning_start,
            known,
            dirty: Vec::new(),
            rules: [
                meta_rule(
                    "RD-BASE-REGION",
                    "Principal active in a new region",
                    Severity::Medium,
                    "T1535",
                    "First call by this principal in this region after the learning period.",
                ),
                meta_rule(
                    "RD-BASE-API",
                    "Principal used a high-risk API for the first time",
                    Severity::Medium,
                    "T1078",
                    "First use of a sensitive API by this principal after the learning period.",
                ),
                meta_rule(
                    "RD-BASE-NETWORK",
                    "Long-lived access key used from a new network",
                    Severity::Medium,
                    "T1078.004",
                    "An IAM user's access key (AKIA…) was used from a /24 (IPv4) or /48 (IPv6) it had not used before.",
                ),
            ],
        })
    }

    /// The rules this baseline can raise (for `rules list`).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Number of remembered rows.
    pub fn len(&self) -> usize {
        self.known.len()
    }

    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// Whether `t` (event time) is still inside the learning period.
    pub fn learning(&self, t: i64) -> bool {
        self.learning_start
            .is_none_or(|s| t < s + self.cfg.learning_secs)
    }

    /// Observe one event; first-seen combinations after learning become alerts.
    pub fn observe(&mut self, ev: &Event<'_>, origin: Option<&str>, out: &mut Vec<Alert>) {
        let h = ev.header();
        let Some(t) = h.event_time.as_deref().and_then(parse_time) else {
            return;
        };
        let Ok(id) = serde_json::from_slice::<IdentityOnly<'_>>(ev.raw()) else {
            return;
        };
        let Some(ui) = id.user_identity else { return };
        let Some(principal) = ui.arn.as_deref() else {
            return;
        };
        if ui.kind.as_deref() == Some("AWSService") {
            return;
        }
        if self.learning_start.is_none() {
            self.learning_start = Some(t);
            let _ = self.conn.execute(
                "INSERT OR REPLACE INTO meta(k, v) VALUES('learning_start', ?1)",
                params![t.to_string()],
            );
        }
        let learning = self.learning(t);
        let mut facts: Vec<(Kind, String)> = Vec::with_capacity(3);
        if let Some(r) = h.aws_region.as_deref() {
            facts.push((Kind::Region, r.to_string()));
        }
        if let (Some(src), Some(name)) = (h.event_source.as_deref(), h.event_name.as_deref()) {
            let svc = src.split('.').next().unwrap_or(src);
            let api = format!("{svc}:{name}");
            if HIGH_RISK.contains(&api.as_str()) {
                facts.push((Kind::Api, api));
            }
        }
        if ui
            .access_key_id
            .as_deref()
            .is_some_and(|k| k.starts_with("AKIA"))
            && let Some(net) = h.source_ip_address.as_deref().and_then(network_of)
        {
            facts.push((Kind::Network, net));
        }
        for (kind, value) in facts {
            let key = (principal.to_string(), kind as u8, value);
            match self.known.get_mut(&key) {
                Some(last) => {
                    if t > *last {
                        *last = t;
                        self.dirty.push((key.0, key.1, key.2, t));
                    }
                }
                None => {
                    if !learning {
                        let rule = &self.rules[kind as usize - 1];
                        let mut a = Alert::new(rule, ev, origin.map(str::to_string));
                        let field = match kind {
                            Kind::Region => "awsRegion",
                            Kind::Api => "api",
                            Kind::Network => "sourceNetwork",
                        };
                        a.set_matched(field, Value::String(key.2.clone()));
                        out.push(a);
                    }
                    self.known.insert(key.clone(), t);
                    self.dirty.push((key.0, key.1, key.2, t));
                }
            }
        }
        if self.known.len() > self.cfg.max_entries + self.cfg.max_entries / 10 {
            self.evict();
        }
    }

    /// Forget the least recently seen rows down to `max_entries`.
    fn evict(&mut self) {
        let excess = self.known.len().saturating_sub(self.cfg.max_entries);
        if excess == 0 {
            return;
        }
        let mut all: Vec<(i64, (String, u8, String))> =
            self.known.iter().map(|(k, v)| (*v, k.clone())).collect();
        all.sort_by_key(|(t, _)| *t);
        for (_, k) in all.into_iter().take(excess) {
            self.known.remove(&k);
        }
    }

    /// Write pending changes and enforce the size bound on disk.
    pub fn save(&mut self) -> Result<(), String> {
        self.evict();
        let tx = self.conn.transaction().map_err(|e| e.to_string())?;
        {
            let mut up = tx
                .prepare("INSERT INTO seen(principal, kind, value, last_seen) VALUES(?1, ?2, ?3, ?4) ON CONFLICT(principal, kind, value) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)")
                .map_err(|e| e.to_string())?;
            for (p, k, v, t) in self.dirty.drain(..) {
                if self.known.contains_key(&(p.clone(), k, v.clone())) {
                    up.execute(params![p, k, v, t]).map_err(|e| e.to_string())?;
                }
            }
            let n: i64 = tx
                .query_row("SELECT count(*) FROM seen", [], |r| r.get(0))
                .map_err(|e| e.to_string())?;
            let excess = n - self.cfg.max_entries as i64;
            if excess > 0 {
                tx.execute(
                    "DELETE FROM seen WHERE (principal, kind, value) IN (SELECT principal, kind, value FROM seen ORDER BY last_seen LIMIT ?1)",
                    params![excess],
                )
                .map_err(|e| e.to_string())?;
            }
        }
        tx.commit().map_err(|e| e.to_string())
    }
}

/// The network an address belongs to for baselining: IPv4 /24, IPv6 /48; `None` for AWS service
/// names such as `ec2.amazonaws.com`.
fn network_of(ip: &str) -> Option<String> {
    match ip.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(a) => {
            let o = a.octets();
            Some(format!("{}.{}.{}.0/24", o[0], o[1], o[2]))
        }
        std::net::IpAddr::V6(a) => {
            let s = a.segments();
            Some(format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]))
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

    #[test]
    fn size_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.sqlite");
        let mut b = Baseline::open(
            &path,
            BaselineConfig {
                learning_secs: 0,
                max_entries: 10,
            },
        )
        .unwrap();
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
        let n: i64 = b
            .conn
            .query_row("SELECT count(*) FROM seen", [], |r| r.get(0))
            .unwrap();
        assert!(n <= 10, "{n}");
    }
}
