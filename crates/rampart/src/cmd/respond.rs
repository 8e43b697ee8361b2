//! `rampart respond`: contain what an alert found — plan from the playbook, guard, act, record
//! (audit log and store), undo. The pure part is `rampart-respond`; AWS is `rampart_aws::respond`.

use crate::cli::{Exit, Global};
use crate::cmd::output;
use anyhow::{Context, bail};
use rampart_detect::Alert;
use rampart_respond::{
    ActionRecord, AuditLog, Guards, Mode, Outcome, Plan, Request, RespondConfig, Responder, Target,
};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct RespondArgs {
    #[command(subcommand)]
    pub command: Option<RespondCommand>,
    /// The alert to contain (its 16-hex-digit id, as alert messages and `rampart runbook` show).
    #[arg(value_name = "ALERT_ID")]
    pub alert_id: Option<String>,
    /// Carry out the playbook's `approve` entries for the alert; without it the plan is printed
    /// and nothing is done.
    #[arg(long)]
    pub approve: bool,
    /// Find the alert in this JSON Lines file (`rampart detect --format json`) instead of the
    /// history store.
    #[arg(long, value_name = "FILE")]
    pub alerts: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum RespondCommand {
    /// Run one action on a target you name, without an alert.
    Action(ActionArgs),
    /// The recorded actions (audit log), oldest first.
    List,
    /// Put back what a recorded action changed (where AWS allows).
    Undo {
        /// The action's id (`act-…`, from `rampart respond list`).
        action_id: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct ActionArgs {
    /// disable-access-key, delete-login-profile, quarantine, restart-logging, enable-guardduty,
    /// enable-config-recorder, block-public-s3, isolate-instance.
    pub action: String,
    /// The account to act in (entered with --role-name unless it is the caller's).
    #[arg(long)]
    pub account: String,
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,
    /// What to act on; each action says what it takes (`rampart respond action X` shows it).
    #[arg(long)]
    pub target: Option<String>,
    /// block-public-s3: also turn on the account's S3 Block Public Access.
    #[arg(long)]
    pub account_level: bool,
    /// Act; without it the plan is printed and nothing is done.
    #[arg(long)]
    pub approve: bool,
}

/// rampart.toml as `respond` reads it: the playbook, the guards, the audit log's place.
pub struct Settings {
    pub cfg: RespondConfig,
    pub guards: Guards,
    pub log: AuditLog,
}

impl Settings {
    pub fn load(g: &Global) -> anyhow::Result<Settings> {
        let text = match std::fs::read_to_string(&g.config) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", g.config.display())),
        };
        let file = g.config.display().to_string();
        let cfg = RespondConfig::from_toml(&text, &file).map_err(anyhow::Error::msg)?;
        let mut guards = Guards::from_toml(&text).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
        if !guards.own_roles.contains(&g.role_name) {
            guards.own_roles.push(g.role_name.clone());
        }
        let dir = g.config.parent().unwrap_or(Path::new(""));
        let path = match &cfg.audit_log {
            Some(p) if p.is_absolute() => p.clone(),
            Some(p) => dir.join(p),
            None => dir.join("rampart-respond.jsonl"),
        };
        Ok(Settings {
            cfg,
            guards,
            log: AuditLog::new(path),
        })
    }

    /// Appends to the audit log, then the store when one is configured.
    fn keep(&self, g: &Global, rec: &ActionRecord) -> anyhow::Result<()> {
        self.log.append(rec).map_err(anyhow::Error::msg)?;
        if let Some(mut store) = crate::cmd::store::for_recording(g)? {
            store
                .record_response_action(&store_row(rec))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        Ok(())
    }
}

fn store_row(rec: &ActionRecord) -> rampart_store::ResponseAction {
    rampart_store::ResponseAction {
        id: rec.id.clone(),
        time: chrono::DateTime::parse_from_rfc3339(&rec.time)
            .map(|t| t.to_utc())
            .unwrap_or_else(|_| crate::cmd::store::now()),
        who: rec.who.clone(),
        alert_id: rec.alert_id.clone(),
        action: rec.action.to_string(),
        target: rec.target.to_arg().unwrap_or_else(|| rec.target.describe()),
        account: rec.account.clone(),
        region: rec.region.clone(),
        result: rec.result.as_str().into(),
        undoes: rec.undoes.clone(),
        json: serde_json::to_string(rec).unwrap_or_default(),
    }
}

pub fn run(g: &Global, a: &RespondArgs) -> anyhow::Result<Exit> {
    let settings = Settings::load(g)?;
    match (&a.command, &a.alert_id) {
        (Some(_), Some(id)) => {
            bail!("`{id}`: give either an alert id or a subcommand (action, list, undo), not both")
        }
        (Some(RespondCommand::Action(x)), _) => direct(g, &settings, x),
        (Some(RespondCommand::List), _) => list(g, &settings),
        (Some(RespondCommand::Undo { action_id }), _) => undo(g, &settings, action_id),
        (None, Some(id)) => for_alert(g, &settings, id, a),
        (None, None) => bail!(
            "give an alert id (`rampart respond ALERT_ID`), or `rampart respond action|list|undo`"
        ),
    }
}

fn direct(g: &Global, s: &Settings, x: &ActionArgs) -> anyhow::Result<Exit> {
    let action = rampart_respond::Action::parse(&x.action).map_err(anyhow::Error::msg)?;
    let plan = Plan {
        alert_id: None,
        action,
        mode: Mode::Approve,
        account: x.account.clone(),
        region: x.region.clone(),
        target: Target::parse(action, x.target.as_deref(), x.account_level),
    };
    carry_out(g, s, &[plan], x.approve)
}

/// Prints each plan; with `approve`, runs those with a target and no refusal.
fn carry_out(g: &Global, s: &Settings, plans: &[Plan], approve: bool) -> anyhow::Result<Exit> {
    let mut text = String::new();
    for p in plans {
        text.push_str(&p.render(&s.guards));
    }
    if !approve {
        output::emit(g, &text)?;
        output::note(g, "rampart: nothing done; add --approve to act");
        return Ok(Exit::Ok);
    }
    output::note(g, text.trim_end());
    let mut responder: Option<Box<dyn Responder>> = None;
    let mut exit = Exit::Ok;
    let mut lines = String::new();
    for p in plans {
        let target = match &p.target {
            Ok(t) => t,
            Err(e) => {
                eprintln!("rampart: error: {}: {e}", p.action);
                exit = Exit::Error;
                continue;
            }
        };
        let req = Request {
            action: p.action,
            target,
            account: &p.account,
            region: &p.region,
        };
        let rec = match s.guards.check(target) {
            // refused before connecting: recorded, no AWS call
            Err(_) => {
                rampart_respond::execute(&mut Refusing, &s.guards, &req, p.alert_id.as_deref())
            }
            Ok(()) => {
                if responder.is_none() {
                    responder = Some(connect(g)?);
                }
                let r = responder.as_deref_mut().expect("connected above");
                rampart_respond::execute(r, &s.guards, &req, p.alert_id.as_deref())
            }
        };
        s.keep(g, &rec)?;
        if matches!(rec.result, Outcome::Refused | Outcome::Failed) {
            eprintln!(
                "rampart: error: {} {}: {}",
                rec.action,
                rec.result.as_str(),
                rec.message
            );
            exit = Exit::Error;
        }
        lines.push_str(&line(&rec));
    }
    output::emit(g, &lines)?;
    Ok(exit)
}

/// Stands in for AWS when a guard refuses: never called.
struct Refusing;

impl Responder for Refusing {
    fn who(&self) -> String {
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    }
    fn apply(&mut self, _: &Request<'_>) -> Result<rampart_respond::Effect, String> {
        Err("refused".into())
    }
    fn undo(&mut self, _: &ActionRecord) -> Result<rampart_respond::Effect, String> {
        Err("refused".into())
    }
}

fn line(r: &ActionRecord) -> String {
    let what = match &r.undoes {
        Some(id) => format!("undo of {id} ({})", r.action),
        None => r.action.to_string(),
    };
    format!(
        "{}\t{}\t{what}\t{}\taccount {} {}\t{}\n",
        r.id,
        r.result.as_str(),
        r.target.describe(),
        r.account,
        r.region,
        r.message
    )
}

/// The alert with id `id`: from `--alerts FILE`, else from the history store's alerts.
fn find_alert(g: &Global, id: &str, file: Option<&Path>) -> anyhow::Result<Alert> {
    if let Some(f) = file {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        for (n, l) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let v: serde_json::Value = serde_json::from_str(l)
                .with_context(|| format!("{}:{}: not JSON", f.display(), n + 1))?;
            let a = Alert::from_record(&v)
                .map_err(|e| anyhow::anyhow!("{}:{}: {e}", f.display(), n + 1))?;
            if a.id() == id {
                return Ok(a);
            }
        }
        bail!("no alert {id} in {}", f.display());
    }
    let store = crate::cmd::store::for_reading(g).context(
        "rampart respond ALERT_ID finds the alert in the history store, or in --alerts FILE",
    )?;
    let far = chrono::DateTime::from_timestamp(i64::from(i32::MAX) * 2, 0).unwrap_or_default();
    let alerts = store
        .alerts(chrono::DateTime::UNIX_EPOCH, far)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for (_, row) in alerts {
        let this = rampart_detect::alert::alert_id(
            &row.rule_source,
            &row.rule_id,
            row.event_id.as_deref(),
            row.account.as_deref(),
        );
        if this == id {
            let v: serde_json::Value = serde_json::from_str(&row.json)
                .map_err(|e| anyhow::anyhow!("alert {id} in {}: {e}", store.url()))?;
            return Alert::from_record(&v).map_err(|e| anyhow::anyhow!("alert {id}: {e}"));
        }
    }
    bail!(
        "no alert {id} in {} (pass --alerts FILE to read a JSON Lines file)",
        store.url()
    )
}

fn for_alert(g: &Global, s: &Settings, id: &str, a: &RespondArgs) -> anyhow::Result<Exit> {
    let alert = find_alert(g, id, a.alerts.as_deref())?;
    let plans = s.cfg.plans_for(&alert);
    if plans.is_empty() {
        bail!(
            "no [[respond.playbook]] entry in {} matches rule {} ({}); act directly with `rampart respond action ACTION --account {} --target …`",
            g.config.display(),
            alert.rule_id(),
            alert.rule_source(),
            alert.account().unwrap_or("ACCOUNT")
        );
    }
    let (run, shown): (Vec<Plan>, Vec<Plan>) =
        plans.into_iter().partition(|p| p.mode != Mode::Suggest);
    if !shown.is_empty() {
        let mut text = String::from("suggested (run the command to act):\n");
        for p in &shown {
            text.push_str(&p.render(&s.guards));
        }
        output::note(g, text.trim_end());
    }
    if run.is_empty() {
        return Ok(Exit::Ok);
    }
    carry_out(g, s, &run, a.approve)
}

fn list(g: &Global, s: &Settings) -> anyhow::Result<Exit> {
    let records = s.log.read().map_err(anyhow::Error::msg)?;
    let text = if g.format.as_deref() == Some("json") {
        records
            .iter()
            .map(|r| serde_json::to_string(r).unwrap_or_default() + "\n")
            .collect()
    } else {
        records.iter().map(line).collect::<String>()
    };
    if records.is_empty() {
        output::note(
            g,
            format!("rampart: no actions in {}", s.log.path.display()),
        );
    }
    output::emit(g, &text)?;
    Ok(Exit::Ok)
}

fn undo(g: &Global, s: &Settings, id: &str) -> anyhow::Result<Exit> {
    let history = s.log.read().map_err(anyhow::Error::msg)?;
    let mut responder = connect(g)?;
    let rec =
        rampart_respond::undo(responder.as_mut(), &history, id).map_err(anyhow::Error::msg)?;
    s.keep(g, &rec)?;
    output::emit(g, &line(&rec))?;
    Ok(if rec.result == Outcome::Failed {
        eprintln!("rampart: error: undo failed: {}", rec.message);
        Exit::Error
    } else {
        Exit::Ok
    })
}

/// The playbook's `auto` entries, run by `rampart detect` on each batch of alerts. AWS is
/// reached only when an entry applies.
pub struct Auto {
    settings: Settings,
    responder: Option<Box<dyn Responder>>,
    global: Global,
}

impl Auto {
    /// `None` when the playbook has no `auto` entry.
    pub fn from_config(g: &Global) -> anyhow::Result<Option<Auto>> {
        let settings = Settings::load(g)?;
        Ok(rampart_respond::run::has_auto(&settings.cfg).then(|| Auto {
            settings,
            responder: None,
            global: g.clone(),
        }))
    }

    /// Runs the auto entries for `alerts`; a failure is reported, never fatal to detection.
    pub fn run(&mut self, alerts: &[Alert]) {
        let g = &self.global;
        let wanted = alerts.iter().any(|a| {
            self.settings
                .cfg
                .plans_for(a)
                .iter()
                .any(|p| p.mode == Mode::Auto && p.target.is_ok())
        });
        if !wanted {
            return;
        }
        if self.responder.is_none() {
            match connect(g) {
                Ok(r) => self.responder = Some(r),
                Err(e) => {
                    eprintln!("rampart: error: respond (auto): {e:#}");
                    return;
                }
            }
        }
        let Some(r) = self.responder.as_deref_mut() else {
            return;
        };
        let s = &self.settings;
        let mut keep = |rec: &ActionRecord| s.keep(g, rec).map_err(|e| format!("{e:#}"));
        match rampart_respond::run_auto(&s.cfg, &s.guards, r, alerts, &mut keep) {
            Ok(recs) => {
                for rec in recs {
                    output::note(
                        g,
                        format!("rampart: respond (auto): {}", line(&rec).trim_end()),
                    );
                }
            }
            Err(e) => eprintln!("rampart: error: respond (auto): {e}"),
        }
    }
}

/// Adds the playbook's line (the exact command) to every alert message the sinks send.
pub fn install_message_line(g: &Global) -> anyhow::Result<()> {
    let s = Settings::load(g)?;
    if !s.cfg.playbook.is_empty() {
        let cfg = s.cfg;
        rampart_detect::sink::set_message_extra(Box::new(move |a| cfg.message_line(a)));
    }
    Ok(())
}

#[cfg(feature = "aws")]
fn connect(g: &Global) -> anyhow::Result<Box<dyn Responder>> {
    let opts = crate::cmd::collect::options(g);
    let r = rampart_aws::respond::AwsResponder::connect(&opts)
        .map_err(|e| anyhow::anyhow!("respond: {e}"))?;
    Ok(Box::new(r))
}

#[cfg(not(feature = "aws"))]
fn connect(_g: &Global) -> anyhow::Result<Box<dyn Responder>> {
    bail!(
        "this rampart was built without AWS access (--no-default-features); build with the default `aws` feature to respond"
    )
}
