//! `rampart detect`: run detection rules over CloudTrail logs and send the alerts to sinks.

use crate::cli::{Exit, Global};
use crate::cmd::{follow, output, s3};
use anyhow::{Context, bail};
use rampart_detect::baseline::{Baseline, BaselineConfig};
use rampart_detect::input::{self, Issue, Parsed, ReadStats, Reader};
use rampart_detect::sink::{Format, WriterSink};
use rampart_detect::{
    Alert, Builtin, BuiltinConfig, Detector, Engine, Rule, Severity, SigninConfig, parallel,
};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct DetectArgs {
    /// CloudTrail input: a file (.json.gz, .json, .jsonl), a directory in the S3 delivery layout,
    /// `-` for stdin, or s3://bucket/prefix (needs the `aws` build).
    #[arg(value_name = "PATH")]
    pub path: String,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Only events at or after this time (RFC 3339, YYYY-MM-DD, or an age such as 24h, 7d).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only events at or before this time (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Keep reading: poll a file for appended JSON Lines, or read stdin line by line.
    #[arg(long)]
    pub follow: bool,
    /// Exit 3 when an alert at or above this severity is raised (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
    /// Fold repeats (same rule, principal, resource) within this many seconds into one alert
    /// with a count; 0 turns aggregation off.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub aggregate: u64,
    /// Also POST each alert to this Slack-compatible webhook (the URL is a secret: prefer the
    /// environment variable).
    #[arg(
        long,
        env = "RAMPART_WEBHOOK_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub webhook: Option<String>,
    /// Also publish each alert to this SNS topic (one message per alert; needs the `aws` build).
    #[arg(long, env = "RAMPART_SNS_TOPIC", value_name = "TOPIC_ARN")]
    pub sns_topic: Option<String>,
    /// Where alerts a sink could not deliver are kept (JSON Lines).
    #[arg(long, value_name = "FILE", default_value = "rampart-undelivered.jsonl")]
    pub spool: PathBuf,
    /// Keep per-principal baselines in this SQLite file and alert on first-seen regions,
    /// high-risk APIs, and (for long-lived keys) source networks and user-agent families after
    /// each principal's learning period.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Learning period of the baseline, in days of event time after each principal's first
    /// event.
    #[arg(long, value_name = "DAYS", default_value_t = 14)]
    pub learning_days: u32,
    /// Threads that read and evaluate files of a directory at once (0: one per core). The
    /// alerts, their order and the counts are the same whatever the number; stdin, s3://,
    /// --follow and --baseline read on one thread.
    #[arg(long, short = 'j', value_name = "N", default_value_t = 0)]
    pub threads: usize,
}

/// Which rules to load; shared by `detect` and `rules`.
#[derive(Debug, Clone, clap::Args)]
pub struct RuleArgs {
    /// Rule sources, comma-separated: `builtin`, `sigma:DIR`, `patterns:FILE`.
    #[arg(
        long = "rules",
        value_name = "SOURCES",
        value_delimiter = ',',
        default_value = "builtin"
    )]
    pub sources: Vec<String>,
    /// Regions where API calls are expected (overrides `allowed_regions` of `[detect]`, else
    /// `[organization]`, else `[audit]`).
    #[arg(long, value_delimiter = ',', value_name = "REGIONS")]
    pub allowed_regions: Vec<String>,
    /// Read the organization's id and accounts from this `rampart collect` snapshot (overrides
    /// `organization_id` / `organization_accounts` of `[detect]`): the exposure rules then judge
    /// grants to named accounts as inside or outside the organization.
    #[arg(long, value_name = "FILE")]
    pub org_snapshot: Option<PathBuf>,
}

pub(crate) fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("unknown severity `{s}`: use info, low, medium, high or critical"))
}

/// `[detect]` in rampart.toml.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DetectConfig {
    #[serde(default)]
    allowed_regions: Vec<String>,
    #[serde(default)]
    instance_networks: Vec<String>,
    uses_sso: Option<bool>,
    organization_id: Option<String>,
    organization_accounts: Option<Vec<String>>,
    /// Sign-in failures (RD-IAM-010/011): the sliding window, in minutes.
    signin_window_minutes: Option<u64>,
    /// Distinct users failing from one source within the window (RD-IAM-010).
    spray_users: Option<usize>,
    /// Failures on one user within the window (RD-IAM-011).
    brute_force_failures: Option<usize>,
    /// Sources, users and open bursts remembered at most.
    signin_max_tracked: Option<usize>,
    /// Who runbooks escalate to: `security_oncall`, `account_owner`, `identity_admins`,
    /// `org_admins` = the name people know them by (a team, rota or channel).
    #[serde(default)]
    escalation: std::collections::BTreeMap<String, String>,
}

impl DetectConfig {
    /// The sign-in failure thresholds, defaults for what is not set.
    fn signin(&self) -> Result<SigninConfig, String> {
        let d = SigninConfig::default();
        let cfg = SigninConfig {
            window_secs: match self.signin_window_minutes {
                Some(m) => i64::try_from(m.saturating_mul(60)).unwrap_or(i64::MAX),
                None => d.window_secs,
            },
            spray_users: self.spray_users.unwrap_or(d.spray_users),
            brute_force_failures: self.brute_force_failures.unwrap_or(d.brute_force_failures),
            max_tracked: self.signin_max_tracked.unwrap_or(d.max_tracked),
        };
        cfg.check()?;
        Ok(cfg)
    }
}

/// The runbooks' escalation contacts from `[detect.escalation]` of `config` (defaults when the
/// file or the table is absent).
pub(crate) fn escalation_contacts(
    config: &Path,
) -> anyhow::Result<rampart_detect::runbook::Contacts> {
    let cfg: ConfigFile = match std::fs::read_to_string(config) {
        Ok(text) => toml::from_str(&text).with_context(|| {
            format!("config file {}: invalid [detect] section", config.display())
        })?,
        Err(_) => ConfigFile::default(),
    };
    rampart_detect::runbook::Contacts::from_pairs(
        cfg.detect
            .escalation
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    )
    .map_err(|e| anyhow::anyhow!("config file {}: [detect.escalation] {e}", config.display()))
}

/// `allowed_regions` of a section that belongs to other verbs (`[organization]`, which
/// `rampart init` writes, and `[audit]`): the region rule falls back to it. The section's other
/// keys are theirs to check.
#[derive(Debug, Default, Deserialize)]
struct RegionsOf {
    #[serde(default)]
    allowed_regions: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    detect: DetectConfig,
    #[serde(default)]
    organization: RegionsOf,
    #[serde(default)]
    audit: RegionsOf,
}

/// One rule as `rules list` shows it.
pub struct Listed {
    pub id: String,
    pub source: String,
    pub severity: String,
    pub status: String,
    pub title: String,
    pub attack: String,
    /// What the rule raises for a failed call: `report`, `attempt -N` or `silent`.
    pub on_failure: String,
}

/// Loaded rules plus everything that could not be loaded (never silent).
pub struct Loaded {
    pub rules: Vec<Rule>,
    pub builtins: Vec<Builtin>,
    pub listed: Vec<Listed>,
    pub rejected: usize,
    /// The sign-in failure detector's settings, when the built-in rules are loaded.
    pub signin: Option<SigninConfig>,
}

/// How `rules list` shows `r`, with `status`.
pub fn listed(r: &Rule, status: &str) -> Listed {
    Listed {
        id: r.meta.id.clone(),
        source: r.meta.source.to_string(),
        severity: r.meta.severity.to_string(),
        status: status.to_string(),
        title: r.meta.title.clone(),
        attack: r.meta.attack.join(" "),
        on_failure: r.meta.on_failure.describe(),
    }
}

/// Load the rules named by `--rules`, reading `[detect]` from the config file if present.
/// The allowed regions are the first set of `--allowed-regions`, `[detect]`, `[organization]`
/// and `[audit]` `allowed_regions`.
pub fn load_rules(g: &Global, a: &RuleArgs) -> anyhow::Result<Loaded> {
    let cfg_file: ConfigFile = match std::fs::read_to_string(&g.config) {
        Ok(text) => toml::from_str(&text).with_context(|| {
            format!(
                "config file {}: invalid [detect] section or `allowed_regions`",
                g.config.display()
            )
        })?,
        Err(_) => ConfigFile::default(),
    };
    let mut nets = Vec::new();
    for n in &cfg_file.detect.instance_networks {
        nets.push(rampart_detect::Cidr::parse(n).with_context(|| {
            format!(
                "config file {}: [detect] instance_networks",
                g.config.display()
            )
        })?);
    }
    let bcfg = BuiltinConfig {
        allowed_regions: [
            &a.allowed_regions,
            &cfg_file.detect.allowed_regions,
            &cfg_file.organization.allowed_regions,
            &cfg_file.audit.allowed_regions,
        ]
        .into_iter()
        .find(|r| !r.is_empty())
        .cloned()
        .unwrap_or_default(),
        instance_networks: nets,
        uses_sso: cfg_file.detect.uses_sso.unwrap_or(true),
        organization: match &a.org_snapshot {
            Some(path) => org_of_snapshot(path)?,
            None => org_of_config(&cfg_file.detect)
                .with_context(|| format!("config file {}: [detect]", g.config.display()))?,
        },
    };
    let mut out = Loaded {
        rules: Vec::new(),
        builtins: Vec::new(),
        listed: Vec::new(),
        rejected: 0,
        signin: None,
    };
    for src in &a.sources {
        let src = src.trim();
        if src == "builtin" {
            for b in rampart_detect::builtin(&bcfg) {
                match &b.disabled {
                    Some(why) => out
                        .listed
                        .push(listed(&b.rule, &format!("disabled: {why}"))),
                    None => {
                        out.listed.push(listed(&b.rule, "active"));
                        out.rules.push(b.rule.clone());
                    }
                }
                out.builtins.push(b);
            }
            let signin = cfg_file
                .detect
                .signin()
                .map_err(|e| anyhow::anyhow!("config file {}: [detect] {e}", g.config.display()))?;
            let status = format!(
                "active: {} users / {} failures within {} min",
                signin.spray_users,
                signin.brute_force_failures,
                signin.window_secs / 60
            );
            for r in rampart_detect::SigninTracker::catalogue() {
                out.listed.push(listed(&r, &status));
            }
            out.signin = Some(signin);
        } else if let Some(file) = src.strip_prefix("patterns:") {
            let (rules, bad) =
                rampart_detect::patterns::load_file(Path::new(file)).map_err(anyhow::Error::msg)?;
            for r in rules {
                out.listed.push(listed(&r, "active"));
                out.rules.push(r);
            }
            for b in bad {
                out.reject("pattern", b.id, String::new(), &b.reason);
            }
        } else if let Some(dir) = src.strip_prefix("sigma:") {
            load_sigma(Path::new(dir), &mut out)?;
        } else {
            bail!("unknown rule source `{src}`: use builtin, sigma:DIR or patterns:FILE");
        }
    }
    Ok(out)
}

/// The organization as `[detect]` names it: `organization_accounts` needs `organization_id`
/// (an account list without its organization would leave `aws:PrincipalOrgID` unjudged).
fn org_of_config(d: &DetectConfig) -> anyhow::Result<rampart_detect::OrgContext> {
    if let Some(id) = &d.organization_id
        && !(id.starts_with("o-") && id.len() > 2)
    {
        bail!("organization_id `{id}` is not an organization id (o-…)");
    }
    let accounts = match &d.organization_accounts {
        None => None,
        Some(list) => {
            if d.organization_id.is_none() {
                bail!("organization_accounts needs organization_id (o-…) beside it");
            }
            if let Some(bad) = list
                .iter()
                .find(|a| a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()))
            {
                bail!("organization_accounts: `{bad}` is not a 12-digit account id");
            }
            Some(list.iter().cloned().collect())
        }
    };
    Ok(rampart_detect::OrgContext {
        id: d.organization_id.clone(),
        accounts,
    })
}

/// The organization of a `rampart collect` snapshot (every account, whatever its status).
fn org_of_snapshot(path: &Path) -> anyhow::Result<rampart_detect::OrgContext> {
    let snap = rampart_snapshot::Snapshot::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some(org) = snap.organization.filter(|o| !o.id.is_empty()) else {
        bail!(
            "--org-snapshot {}: the snapshot has no organization (collected outside one, or by a member that cannot read it)",
            path.display()
        );
    };
    let mut accounts: std::collections::BTreeSet<String> =
        org.accounts.into_iter().map(|a| a.id).collect();
    if !org.management_account_id.is_empty() {
        accounts.insert(org.management_account_id);
    }
    Ok(rampart_detect::OrgContext {
        id: Some(org.id),
        accounts: Some(accounts),
    })
}

/// Every Sigma rule under `dir` is either active or listed as unsupported with the reason.
fn load_sigma(dir: &Path, out: &mut Loaded) -> anyhow::Result<()> {
    let report = rampart_detect::sigma::load_dir(dir).map_err(anyhow::Error::msg)?;
    for r in report.rules {
        out.listed.push(listed(&r, "active"));
        out.rules.push(r);
    }
    for u in report.unsupported {
        let reason = format!("{} ({})", u.reason, u.path);
        out.reject("sigma", u.id, u.title, &reason);
    }
    Ok(())
}

impl Loaded {
    /// Records a rule that could not be loaded, so `rules list` and the run summary show it.
    fn reject(&mut self, source: &str, id: String, title: String, reason: &str) {
        self.rejected += 1;
        self.listed.push(Listed {
            id,
            source: source.into(),
            severity: "-".into(),
            status: format!("unsupported: {reason}"),
            title,
            attack: String::new(),
            on_failure: "-".into(),
        });
    }
}

/// Parse `--since/--until`.
pub(crate) fn parse_when(s: &str) -> anyhow::Result<i64> {
    let s = s.trim();
    if let Some(t) = rampart_detect::alert::parse_time(s) {
        return Ok(t);
    }
    if let Some(t) = rampart_detect::alert::parse_time(&format!("{s}T00:00:00Z")) {
        return Ok(t);
    }
    let (num, unit) = s.split_at(s.len().saturating_sub(1));
    if let Ok(n) = num.parse::<i64>() {
        let secs = match unit {
            "s" => n,
            "m" => n * 60,
            "h" => n * 3600,
            "d" => n * 86400,
            "w" => n * 7 * 86400,
            "y" => n * 365 * 86400,
            _ => bail!(
                "bad time `{s}`: use RFC 3339 (2024-07-31T13:00:00Z), a date (2024-07-31) or an age (90m, 24h, 7d, 2y)"
            ),
        };
        return Ok(chrono::Utc::now().timestamp() - secs);
    }
    bail!(
        "bad time `{s}`: use RFC 3339 (2024-07-31T13:00:00Z), a date (2024-07-31) or an age (90m, 24h, 7d, 2y)"
    )
}

pub(crate) fn format_of(g: &Global) -> anyhow::Result<Format> {
    match g.format.as_deref() {
        None if output::to_terminal(g) => Ok(Format::Table),
        None => Ok(Format::Jsonl),
        Some(f) => Format::parse(f).ok_or_else(|| {
            anyhow::anyhow!("`rampart detect` formats are jsonl, table and ocsf (got `{f}`)")
        }),
    }
}

struct Run<'e> {
    det: Detector<'e>,
    dispatch: crate::cmd::alerts::Routed,
    table: bool,
    pending: Vec<Alert>,
    kept: Vec<Alert>,
    worst: Option<Severity>,
    issues: u64,
    quiet: bool,
    /// The alerts as store rows, when the run is recorded in the history store.
    recorded: Option<Vec<rampart_store::AlertRow>>,
    /// The playbook's `auto` entries (`[[respond.playbook]]`), when there are any.
    respond: Option<crate::cmd::respond::Auto>,
}

impl Run<'_> {
    fn issue(&mut self, i: &Issue) {
        self.issues += 1;
        if !self.quiet {
            eprintln!("rampart: warning: {i}");
        }
    }
    /// A run of events (or a record that is not one) from the reader; `loc` names a record
    /// by its number.
    fn record_parsed(&mut self, p: Parsed<'_, '_>, loc: &dyn Fn(usize) -> String) {
        if let Err(i) = self.det.process_parsed(p, loc, &mut self.pending) {
            self.issue(&i);
        }
    }
    /// Reads a stream (stdin, a followed file) as it arrives; alerts are sent whenever what
    /// has arrived is read, and, when following, whenever an aggregation window passes.
    fn stream(&mut self, name: &str, input: &mut dyn std::io::Read, stats: &mut ReadStats) {
        stats.files += 1;
        let mut issues = Vec::new();
        let mut to = Streamed { run: self, name };
        rampart_detect::stream::read_stream(name, input, stats, &mut issues, &mut to);
    }

    fn deliver(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.pending);
        for a in &batch {
            self.worst = self.worst.max(Some(a.severity()));
        }
        if let Some(rows) = self.recorded.as_mut() {
            rows.extend(batch.iter().map(crate::cmd::store::alert_row));
        }
        if self.table {
            self.kept.extend(batch.iter().cloned());
            // only chat/SNS sinks get batches now; the table is printed at the end
        }
        if let Some(auto) = self.respond.as_mut() {
            auto.run(&batch);
        }
        self.dispatch.send(&batch);
    }
}

/// A run reading a stream: events to the detector, and at each pause the issues reported,
/// expired groups emitted and alerts sent.
struct Streamed<'r, 'e> {
    run: &'r mut Run<'e>,
    name: &'r str,
}

impl rampart_detect::stream::Consumer for Streamed<'_, '_> {
    fn parsed(&mut self, p: Parsed<'_, '_>) {
        let name = self.name;
        self.run.record_parsed(p, &|n| format!("{name}:record {n}"));
    }
    fn idle(&mut self, issues: &mut Vec<Issue>) {
        for i in issues.drain(..) {
            self.run.issue(&i);
        }
        self.run.det.expire(&mut self.run.pending);
        self.run.deliver();
        self.run.dispatch.tick_periodically();
    }
}

pub fn run(g: &Global, a: &DetectArgs) -> anyhow::Result<Exit> {
    if a.path.starts_with("s3://") && a.follow {
        bail!(
            "--follow reads a local file or stdin; it cannot follow {}",
            a.path
        );
    }
    let since = a.since.as_deref().map(parse_when).transpose()?;
    let until = a.until.as_deref().map(parse_when).transpose()?;
    let format = format_of(g)?;
    let mut store = crate::cmd::store::for_recording(g)?;
    let started_at = crate::cmd::store::now();
    crate::cmd::respond::install_message_line(g)?;
    let loaded = load_rules(g, &a.rules)?;
    if loaded.rejected > 0 {
        output::note(
            g,
            format!(
                "rampart: {} rule(s) could not be loaded; see `rampart rules list`",
                loaded.rejected
            ),
        );
    }
    let engine = Engine::new(loaded.rules);
    let mut det = Detector::new(&engine, a.aggregate).window(since, until);
    if let Some(cfg) = loaded.signin {
        det = det.with_signin(cfg);
    }
    if a.follow {
        det = det.streaming();
    }
    if let Some(p) = &a.baseline {
        let cfg = BaselineConfig {
            learning_secs: a.learning_days as i64 * 86400,
            ..Default::default()
        };
        det = det.with_baseline(Baseline::open(p, cfg).map_err(anyhow::Error::msg)?);
    }
    // a table is printed at the end, sorted by nothing but arrival; when following, alerts are
    // printed as they come (a header per batch)
    let table = format == Format::Table && !a.follow;
    let mut writer: Option<Box<dyn rampart_detect::sink::Sink>> = None;
    if !table {
        let out: Box<dyn std::io::Write + Send> = match &g.output {
            Some(p) => Box::new(
                std::fs::File::create(p)
                    .with_context(|| format!("cannot write output file {}", p.display()))?,
            ),
            None => Box::new(std::io::stdout()),
        };
        let label = g
            .output
            .as_ref()
            .map(|p| format!("file {}", p.display()))
            .unwrap_or_else(|| "stdout".into());
        writer = Some(Box::new(WriterSink::new(label, out, format)));
    }
    let dispatch = crate::cmd::alerts::dispatcher(
        g,
        writer,
        a.webhook.as_deref(),
        a.sns_topic.as_deref(),
        &a.spool,
    )?;
    let mut run = Run {
        det,
        dispatch,
        table,
        pending: Vec::new(),
        kept: Vec::new(),
        worst: None,
        issues: 0,
        quiet: g.quiet,
        recorded: store.as_ref().map(|_| Vec::new()),
        respond: crate::cmd::respond::Auto::from_config(g)?,
    };
    let mut stats = ReadStats::default();
    let mut reader = Reader::new();
    let mut issues: Vec<Issue> = Vec::new();

    if a.path == "-" {
        if a.follow {
            let stop = follow::stop_on_signals().context("cannot watch for SIGINT/SIGTERM")?;
            run.stream("stdin", &mut follow::Piped::stdin(stop), &mut stats);
        } else {
            run.stream("stdin", &mut std::io::stdin().lock(), &mut stats);
        }
    } else if a.path.starts_with("s3://") {
        read_s3(g, &a.path, since, until, &mut run, &mut stats, &mut reader)?;
    } else {
        let root = Path::new(&a.path);
        let mut files = input::discover(root, since, until).map_err(anyhow::Error::msg)?;
        // never read rampart's own output (`-o`, the spool, the routing state) back as input
        let state = crate::cmd::alerts::state_beside(&a.spool);
        let own: Vec<PathBuf> = [g.output.as_deref(), Some(a.spool.as_path()), Some(&state)]
            .into_iter()
            .flatten()
            .filter_map(|p| p.canonicalize().ok())
            .collect();
        files.retain(|f| f.canonicalize().map_or(true, |c| !own.contains(&c)));
        if files.is_empty() {
            output::note(
                g,
                format!(
                    "rampart: warning: {}: no CloudTrail files found (.json.gz, .json, .jsonl)",
                    root.display()
                ),
            );
        }
        let threads = threads_for(g, a, files.len());
        if a.follow {
            let [file] = &files[..] else {
                bail!(
                    "--follow needs a single file (or `-` for stdin); {} holds {}",
                    root.display(),
                    files.len()
                );
            };
            let stop = follow::stop_on_signals().context("cannot watch for SIGINT/SIGTERM")?;
            let mut tail = follow::Tail::open(file, stop)
                .with_context(|| format!("cannot open {}", file.display()))?;
            run.stream(&file.display().to_string(), &mut tail, &mut stats);
        } else if threads > 1 {
            let settings = parallel::Settings {
                threads,
                since,
                until,
                origin: &|p, n| format!("{}:record {n}", p.display()),
            };
            parallel::detect_files(&engine, &files, &settings, &mut |mut done| {
                stats += done.read;
                for i in &done.issues {
                    run.issue(i);
                }
                run.det.absorb(&mut done, &mut run.pending);
                run.deliver();
            });
        } else {
            for f in &files {
                let name = f.display().to_string();
                reader.read_file_batches(f, &mut stats, &mut issues, &mut |p| {
                    run.record_parsed(p, &|n| format!("{name}:record {n}"))
                });
                for i in issues.drain(..) {
                    run.issue(&i);
                }
                run.deliver();
            }
        }
    }
    run.det
        .finish(&mut run.pending)
        .map_err(anyhow::Error::msg)?;
    run.deliver();
    if table {
        let text = rampart_detect::sink::render(&run.kept, Format::Table);
        if run.kept.is_empty() {
            output::note(g, "rampart: no alerts");
        } else {
            output::emit(g, &text)?;
        }
    }
    let st = run.det.stats;
    output::note(
        g,
        format!(
            "rampart: {} file(s), {} event(s) read, {} skipped, {} outside the time window, {} alerted on ({} alert(s) before aggregation), {} rule(s) loaded",
            stats.files,
            st.events,
            stats.skipped + st.skipped,
            st.out_of_window,
            st.alerted_events,
            st.alerts,
            engine.rules().len()
        ) + &if st.silenced > 0 {
            format!(
                "; {} failed call(s) left silent by their rule's policy",
                st.silenced
            )
        } else {
            String::new()
        },
    );
    if let Some(store) = store.as_mut() {
        let detect_run = rampart_store::DetectRun {
            started_at,
            finished_at: crate::cmd::store::now(),
            source: a.path.clone(),
            events: st.events,
            skipped: stats.skipped + st.skipped,
            files: stats.files,
            rules: engine.rules().len() as u64,
        };
        let rows = run.recorded.take().unwrap_or_default();
        crate::cmd::store::record_detection(g, store, &detect_run, &rows)?;
    }
    let mut sink_failed = false;
    for r in run.dispatch.reports() {
        for e in &r.errors {
            sink_failed = true;
            eprintln!("rampart: error: sink {e}");
        }
    }
    if sink_failed {
        eprintln!("rampart: undelivered alerts are in {}", a.spool.display());
    }
    // an alert that did not reach a sink is an error, whatever else was found
    if sink_failed {
        return Ok(Exit::Error);
    }
    if let (Some(limit), Some(worst)) = (a.fail_on, run.worst)
        && worst >= limit
    {
        return Ok(Exit::Findings);
    }
    Ok(Exit::Ok)
}

/// How many threads read the `files` of a directory: `--threads` (0: one per core), at most
/// one per file; one with `--follow` or `--baseline` (a baseline learns from events in order).
fn threads_for(g: &Global, a: &DetectArgs, files: usize) -> usize {
    let wanted = match a.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    if a.follow || a.baseline.is_some() {
        if a.threads > 1 {
            output::note(
                g,
                "rampart: --follow and --baseline read on one thread; --threads is ignored",
            );
        }
        return 1;
    }
    wanted.min(files).max(1)
}

/// Publishes through the AWS SDK (rampart-aws) with the global credentials and endpoint.
#[cfg(feature = "aws")]
pub(crate) struct SdkPublisher(pub(crate) rampart_aws::BlockingAws);

#[cfg(feature = "aws")]
impl rampart_detect::sink::SnsPublisher for SdkPublisher {
    fn publish(&self, topic_arn: &str, subject: &str, message: &str) -> Result<(), String> {
        self.0.publish_sns(topic_arn, subject, message)
    }
}

#[cfg(feature = "aws")]
pub(crate) fn sns_sink(
    g: &Global,
    topic: &str,
) -> anyhow::Result<Box<dyn rampart_detect::sink::Sink>> {
    if !topic.starts_with("arn:") || topic.split(':').count() != 6 {
        bail!("--sns-topic `{topic}` is not a topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)");
    }
    let aws = rampart_aws::BlockingAws::connect(&crate::cmd::collect::options(g))
        .map_err(|e| anyhow::anyhow!("--sns-topic {topic}: {e}"))?;
    Ok(Box::new(rampart_detect::sink::SnsSink::new(
        topic,
        Box::new(SdkPublisher(aws)),
    )))
}

#[cfg(not(feature = "aws"))]
pub(crate) fn sns_sink(
    _g: &Global,
    topic: &str,
) -> anyhow::Result<Box<dyn rampart_detect::sink::Sink>> {
    bail!(
        "--sns-topic {topic}: this rampart was built without AWS access (--no-default-features); build with the default `aws` feature"
    )
}

/// Reads every CloudTrail object under `s3://bucket/prefix` whose key date is in the window;
/// an object that cannot be read is a counted, reported skip.
fn read_s3(
    g: &Global,
    url: &str,
    since: Option<i64>,
    until: Option<i64>,
    run: &mut Run<'_>,
    stats: &mut ReadStats,
    reader: &mut Reader,
) -> anyhow::Result<()> {
    let mut issues = Vec::new();
    s3::for_each_object(g, url, since, until, &mut |name, data| {
        stats.files += 1;
        match data {
            Ok(data) => reader.read_bytes_batches(name, &data, stats, &mut issues, &mut |p| {
                run.record_parsed(p, &|n| format!("{name}:record {n}"))
            }),
            Err(e) => {
                stats.skipped += 1;
                issues.push(Issue {
                    location: name.to_string(),
                    message: e,
                });
            }
        }
        for i in issues.drain(..) {
            run.issue(&i);
        }
        run.deliver();
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn cli(args: &[&str]) -> crate::cli::Cli {
        crate::cli::Cli::try_parse_from(args).expect("arguments parse")
    }

    fn detect(args: &[&str]) -> anyhow::Result<Exit> {
        let c = cli(args);
        match &c.command {
            crate::cli::Command::Detect(a) => run(&c.global, a),
            _ => unreachable!(),
        }
    }

    /// Alerts a sink could not take make the run an error (exit 1) even when `--fail-on`
    /// would exit 3: the alerts are in the spool, and the exit code says so.
    #[test]
    fn a_failed_sink_is_an_error_before_findings() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x.jsonl");
        std::fs::write(
            &f,
            r#"{"eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com","eventTime":"2024-07-31T13:06:24Z","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/x"}}"#,
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let spool = dir.path().join("spool.jsonl");
        let hook = format!("http://127.0.0.1:{port}/hook");
        let out = dir.path().join("o");
        let conf = dir.path().join("none.toml");
        let code = detect(&[
            "rampart",
            "--quiet",
            "detect",
            f.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--fail-on",
            "low",
            "--webhook",
            &hook,
            "--spool",
            spool.to_str().unwrap(),
            "--config",
            conf.to_str().unwrap(),
        ])
        .unwrap();
        assert_eq!(code, Exit::Error);
        assert!(
            std::fs::read_to_string(&spool)
                .unwrap()
                .contains("RD-TAMPER-001")
        );
        assert!(
            std::fs::read_to_string(&out)
                .unwrap()
                .contains("RD-TAMPER-001")
        );
    }

    #[test]
    fn no_alerts_exit_zero_and_bad_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x.jsonl");
        std::fs::write(
            &f,
            "{\"eventName\":\"ListBuckets\",\"eventSource\":\"s3.amazonaws.com\"}\n",
        )
        .unwrap();
        let out = dir.path().join("o");
        let conf = dir.path().join("none.toml");
        let args = [
            "rampart",
            "detect",
            f.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--fail-on",
            "low",
            "--config",
            conf.to_str().unwrap(),
        ];
        assert_eq!(detect(&args).unwrap(), Exit::Ok);
        // S3 input: the SDK-free build says it needs the `aws` build; the aws build names the
        // bucket and the failed call (here an endpoint where nothing listens).
        let e = detect(&[
            "rampart",
            "detect",
            "s3://bucket/prefix",
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--profile",
            "rampart-test-none",
        ])
        .unwrap_err()
        .to_string();
        if cfg!(feature = "aws") {
            assert!(e.contains("bucket"), "{e}");
        } else {
            assert!(e.contains("aws"), "{e}");
        }
        assert!(
            detect(&[
                "rampart",
                "detect",
                "s3://",
                "--endpoint-url",
                "http://127.0.0.1:9"
            ])
            .unwrap_err()
            .to_string()
            .contains("s3://bucket/prefix")
                || !cfg!(feature = "aws")
        );
        let e = detect(&[
            "rampart",
            "detect",
            f.to_str().unwrap(),
            "--rules",
            "nope",
            "--config",
            conf.to_str().unwrap(),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("unknown rule source"));
        assert!(
            parse_when("2024-07-31").is_ok()
                && parse_when("24h").is_ok()
                && parse_when("yesterday").is_err()
        );
    }

    /// RD-GD-002 takes its regions from `--allowed-regions`, else `[detect]`, else
    /// `[organization]` (as `rampart init` writes it), else `[audit]`; with none it is listed
    /// disabled, saying where to set them.
    #[test]
    fn region_rule_falls_back_to_organization_then_audit_regions() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("rampart.toml");
        let init = rampart_baseline::init_template(
            "ops@example.com",
            &["eu-west-1".to_string(), "us-east-1".to_string()],
        );
        // (config text, --allowed-regions) → Some(region allowed, region not allowed) or
        // None when the rule is disabled
        let region_rule = |text: &str, flag: Option<&str>| {
            std::fs::write(&conf, text).unwrap();
            let mut args = vec!["rampart", "detect", "-", "--config", conf.to_str().unwrap()];
            if let Some(f) = flag {
                args.extend(["--allowed-regions", f]);
            }
            let c = cli(&args);
            let crate::cli::Command::Detect(a) = &c.command else {
                unreachable!()
            };
            let loaded = load_rules(&c.global, &a.rules).unwrap();
            let b = loaded
                .builtins
                .into_iter()
                .find(|b| b.rule.meta.id == "RD-GD-002")
                .expect("listed");
            let listed = loaded
                .listed
                .iter()
                .find(|l| l.id == "RD-GD-002")
                .unwrap()
                .status
                .clone();
            match b.disabled {
                Some(why) => {
                    assert!(listed.contains(&why), "{listed}");
                    Err(why)
                }
                None => Ok(move |region: &str| {
                    let e = serde_json::json!({"eventSource": "ec2.amazonaws.com",
                        "eventName": "RunInstances", "awsRegion": region});
                    rampart_detect::rules::fires(&b.rule, &e)
                }),
            }
        };
        let allows = |text: &str, flag: Option<&str>, region: &str| {
            !region_rule(text, flag).expect("active")(region)
        };
        // the file `rampart init` writes: [organization] only
        assert!(allows(&init, None, "eu-west-1"));
        assert!(!allows(&init, None, "ap-south-1"));
        let audit = "[audit]\nallowed_regions = [\"eu-central-1\"]\nlog_retention = 365\n";
        assert!(allows(audit, None, "eu-central-1"));
        assert!(!allows(audit, None, "eu-west-1"));
        // [organization] before [audit], [detect] before both, the flag before everything
        let both = format!("{init}\n{audit}");
        assert!(allows(&both, None, "eu-west-1") && !allows(&both, None, "eu-central-1"));
        let detect = format!("{both}\n[detect]\nallowed_regions = [\"sa-east-1\"]\n");
        assert!(allows(&detect, None, "sa-east-1") && !allows(&detect, None, "eu-west-1"));
        assert!(allows(&detect, Some("ca-central-1"), "ca-central-1"));
        assert!(!allows(&detect, Some("ca-central-1"), "sa-east-1"));
        // nowhere: disabled, and the reason names where to set the regions
        let why = region_rule("[detect]\nuses_sso = true\n", None)
            .err()
            .expect("disabled");
        for place in ["[detect]", "[organization]", "[audit]", "--allowed-regions"] {
            assert!(why.contains(place), "{why}");
        }
    }

    /// The exposure rules judge named accounts by `[detect]` or `--org-snapshot`; without
    /// either, RD-EXP-014 reports them at low severity; bad values are one-line errors.
    #[test]
    fn organization_from_config_or_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("rampart.toml");
        let load = |text: &str, snapshot: Option<&Path>| {
            std::fs::write(&conf, text).unwrap();
            let mut args = vec!["rampart", "detect", "-", "--config", conf.to_str().unwrap()];
            if let Some(s) = snapshot {
                args.extend(["--org-snapshot", s.to_str().unwrap()]);
            }
            let c = cli(&args);
            let crate::cli::Command::Detect(a) = &c.command else {
                unreachable!()
            };
            load_rules(&c.global, &a.rules)
        };
        let share = serde_json::json!({"eventSource": "ec2.amazonaws.com", "eventName": "ModifySnapshotAttribute",
            "recipientAccountId": "111122223333", "requestParameters": {"snapshotId": "snap-1",
            "createVolumePermission": {"add": {"items": [{"userId": "222233334444"}]}}}});
        // which exposure rules fire on a share with 222233334444
        let fired = |loaded: Loaded| -> Vec<String> {
            loaded
                .rules
                .iter()
                .filter(|r| {
                    r.meta.id.starts_with("RD-EXP") && rampart_detect::rules::fires(r, &share)
                })
                .map(|r| r.meta.id.clone())
                .collect()
        };
        assert_eq!(fired(load("", None).unwrap()), ["RD-EXP-014"]);
        let member = "[detect]\norganization_id = \"o-abc123\"\norganization_accounts = [\"111122223333\", \"222233334444\"]\n";
        assert!(fired(load(member, None).unwrap()).is_empty());
        let outsider = "[detect]\norganization_id = \"o-abc123\"\norganization_accounts = [\"111122223333\"]\n";
        assert_eq!(fired(load(outsider, None).unwrap()), ["RD-EXP-013"]);
        // the snapshot wins over [detect]
        let snap = dir.path().join("snapshot.json");
        let s = rampart_snapshot::Snapshot {
            schema_version: rampart_snapshot::SCHEMA_VERSION,
            organization: Some(rampart_snapshot::Organization {
                id: "o-abc123".into(),
                management_account_id: "111122223333".into(),
                accounts: vec![rampart_snapshot::OrgAccount {
                    id: "222233334444".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        std::fs::write(&snap, serde_json::to_string(&s).unwrap()).unwrap();
        assert!(fired(load(outsider, Some(&snap)).unwrap()).is_empty());
        // one-line errors
        for (text, says) in [
            (
                "[detect]\norganization_accounts = [\"111122223333\"]\n",
                "needs organization_id",
            ),
            (
                "[detect]\norganization_id = \"abc\"\n",
                "not an organization id",
            ),
            (
                "[detect]\norganization_id = \"o-abc123\"\norganization_accounts = [\"12\"]\n",
                "not a 12-digit",
            ),
        ] {
            let e = format!("{:#}", load(text, None).err().expect("refused"));
            assert!(e.contains(says), "{e}");
        }
        std::fs::write(&snap, r#"{"schema_version": 1}"#).unwrap();
        let e = format!("{:#}", load("", Some(&snap)).err().expect("refused"));
        assert!(e.contains("no organization"), "{e}");
    }

    /// `[detect]` sets the sign-in thresholds (defaults for the rest); a value that cannot work
    /// is one clear error; without the built-in rules there is no sign-in tracker.
    #[test]
    fn signin_thresholds_come_from_the_detect_section() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("rampart.toml");
        let load = |text: &str, rules: &str| {
            std::fs::write(&conf, text).unwrap();
            let c = cli(&[
                "rampart",
                "rules",
                "list",
                "--rules",
                rules,
                "--config",
                conf.to_str().unwrap(),
            ]);
            let crate::cli::Command::Rules(crate::cmd::rules::RulesCommand::List { rules }) =
                &c.command
            else {
                unreachable!()
            };
            load_rules(&c.global, rules)
        };
        let loaded = load(
            "[detect]
signin_window_minutes = 15
spray_users = 4
",
            "builtin",
        )
        .unwrap();
        let want = SigninConfig {
            window_secs: 900,
            spray_users: 4,
            ..SigninConfig::default()
        };
        assert_eq!(loaded.signin, Some(want));
        let status = &loaded
            .listed
            .iter()
            .find(|l| l.id == "RD-IAM-010")
            .expect("listed")
            .status;
        assert_eq!(status, "active: 4 users / 10 failures within 15 min");
        assert_eq!(
            load("", "builtin").unwrap().signin,
            Some(SigninConfig::default())
        );
        let err = load(
            "[detect]
brute_force_failures = 1
",
            "builtin",
        )
        .err()
        .expect("refused");
        let text = format!("{err:#}");
        assert!(
            text.contains("[detect] brute_force_failures must be at least 2"),
            "{text}"
        );
        assert!(!text.contains('\n'), "one line: {text}");
        let dir2 = tempfile::tempdir().unwrap();
        let patterns = dir2.path().join("p.patterns");
        std::fs::write(&patterns, "").unwrap();
        let only = load("", &format!("patterns:{}", patterns.display())).unwrap();
        assert_eq!(only.signin, None);
    }
}
