//! Checks CloudFormation templates and Terraform plans before they deploy, against the same
//! controls the audit judges a live organization by, and against the organization's guardrails.
//!
//! Data flow: a file is read into a [`node::Node`] tree that keeps every line and column
//! ([`yaml`], [`json`]); the CloudFormation reader ([`cfn`]) or the Terraform plan reader
//! ([`tf`]) turns it into a [`model::Deployment`] of resources with resolved properties
//! ([`value::V`]: known, a deploy-time stand-in, a reference, or *unknown*); the checks
//! ([`checks`]) judge each resource with the audit's controls and judging functions; findings
//! come out with file, line and column, suppressions applied.
//!
//! One definition per control: a check names the audit control it reads (`cis-2.1.4`,
//! `cis-5.2`, …) and reuses its id, title, severity, remediation and frameworks; the few
//! properties the audit cannot see have their own [`controls::CONTROLS`], in the same form.
//!
//! No AWS SDK: the guardrail impact reads the organization's SCPs from a snapshot.

pub mod actions;
pub mod cfn;
pub mod checks;
pub mod controls;
pub mod json;
pub mod model;
pub mod node;
pub mod tf;
pub mod value;
pub mod yaml;

use checks::{CHECKS, Env, Subject, Verdict};
use model::{Deployment, ReadOptions};
use node::SyntaxError;
use rampart_core::{Control, Severity};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Reads one template or plan from its text: JSON when it starts with `{`, YAML otherwise.
pub fn read(text: &str, opts: &ReadOptions) -> Result<Deployment, SyntaxError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let doc = if text.trim_start().starts_with('{') {
        json::parse(text)?
    } else {
        yaml::parse(text)?
    };
    if tf::looks_like(&doc) {
        tf::read(&doc, opts)
    } else if cfn::looks_like(&doc) {
        cfn::read(&doc, opts)
    } else {
        Err(SyntaxError {
            pos: doc.pos,
            message: "neither a CloudFormation template (no `Resources` with `Type`s) nor a Terraform plan (`terraform show -json` output)".into(),
        })
    }
}

/// The control a check reports under: the audit catalogue's, or an IaC-only one.
pub fn control(id: &str) -> Option<&'static Control> {
    rampart_core::catalogue()
        .into_iter()
        .chain(controls::CONTROLS.iter())
        .find(|c| c.id == id)
}

/// Every control `iac check` can report, in check order (no duplicates).
pub fn controls() -> Vec<&'static Control> {
    let mut v: Vec<&'static Control> = Vec::new();
    for c in CHECKS {
        if let Some(ctl) = control(c.control)
            && !v.iter().any(|x| x.id == ctl.id)
        {
            v.push(ctl);
        }
    }
    v
}

/// PASS and FAIL as in the audit; UNKNOWN where the audit would say ERROR: the value is not known
/// before deploy, so the control could not be judged (never a PASS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Pass,
    Fail,
    Unknown,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Unknown => "UNKNOWN",
        }
    }
}

/// Where a suppression came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suppressed {
    pub reason: String,
    /// `template` (the resource's Metadata) or `rampart.toml`.
    pub source: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    #[serde(serialize_with = "ser_control")]
    pub control: &'static Control,
    pub status: Status,
    pub file: String,
    pub line: u32,
    pub column: u32,
    /// Logical id or Terraform address.
    pub resource: String,
    pub resource_type: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppressed>,
}

fn ser_control<S: serde::Serializer>(c: &&'static Control, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let mut st = s.serialize_struct("Control", 5)?;
    st.serialize_field("id", c.id)?;
    st.serialize_field("title", c.title)?;
    st.serialize_field("severity", &c.severity)?;
    st.serialize_field("frameworks", c.frameworks)?;
    st.serialize_field(
        "remediation",
        &format!("{}\nCLI: {}", c.remediation_console, c.remediation_cli),
    )?;
    st.end()
}

impl Finding {
    pub fn severity(&self) -> Severity {
        self.control.severity
    }

    /// Counts towards `--fail-on`: an unsuppressed FAIL (and UNKNOWN when asked).
    pub fn gates(&self, fail_on: Severity, unknown_fails: bool) -> bool {
        self.suppressed.is_none()
            && self.severity() >= fail_on
            && (self.status == Status::Fail || (unknown_fails && self.status == Status::Unknown))
    }
}

/// A file that could not be checked.
#[derive(Debug, Clone, Serialize)]
pub struct FileError {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Runs every check on one deployment read from `file`.
pub fn check(file: &str, dep: &Deployment, env: &Env) -> Vec<Finding> {
    let mut out = Vec::new();
    for res in &dep.resources {
        for c in CHECKS
            .iter()
            .filter(|c| c.applies(dep.source, &res.type_name))
        {
            let Some(control) = control(c.control) else {
                continue;
            };
            let s = Subject { dep, res, env };
            let (status, message, pos) = match (c.judge)(&s) {
                Verdict::Skip => continue,
                Verdict::Pass(m) => (Status::Pass, m, res.pos),
                Verdict::Fail(m, p) => (Status::Fail, m, p.unwrap_or(res.pos)),
                Verdict::Unknown(m, p) => (Status::Unknown, m, p),
            };
            let message = match (&res.conditional, status) {
                (Some(why), Status::Fail) => format!("{message} ({why})"),
                _ => message,
            };
            let suppressed = res
                .suppressions
                .iter()
                .find(|s| rampart_core::suppress::glob(&s.control, control.id))
                .map(|s| Suppressed {
                    reason: s.reason.clone(),
                    source: "template",
                });
            out.push(Finding {
                control,
                status,
                file: file.to_string(),
                line: pos.line,
                column: pos.column,
                resource: res.id.clone(),
                resource_type: res.type_name.clone(),
                message,
                suppressed,
            });
        }
    }
    out
}

/// A `[[iac.suppress]]` entry of `rampart.toml`: `control`, `file` and `resource` accept `*` and
/// `?` wildcards; `reason` is required; `expires` (`YYYY-MM-DD`) ends it.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    #[serde(default)]
    pub control: Option<String>,
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub resource: Option<String>,
    pub reason: String,
    #[serde(default)]
    pub expires: Option<String>,
}

/// Marks findings matched by `rules` (those a template suppression did not already mark).
/// Returns warnings for entries that are expired, malformed or without a reason.
pub fn suppress(findings: &mut [Finding], rules: &[Suppression], today: &str) -> Vec<String> {
    let mut warnings = Vec::new();
    let glob = |p: &Option<String>, v: &str| {
        p.as_deref()
            .is_none_or(|p| rampart_core::suppress::glob(p, v))
    };
    for (i, r) in rules.iter().enumerate() {
        if r.reason.trim().is_empty() {
            warnings.push(format!("iac suppression #{} has no reason; ignored", i + 1));
            continue;
        }
        if let Some(e) = &r.expires {
            let valid = e.len() == 10 && e.as_bytes()[4] == b'-' && e.as_bytes()[7] == b'-';
            if !valid {
                warnings.push(format!(
                    "iac suppression #{}: expires `{e}` is not a YYYY-MM-DD date; ignored",
                    i + 1
                ));
                continue;
            }
            if e.as_str() < today {
                warnings.push(format!(
                    "iac suppression #{} expired on {e}; ignored — review the risk or extend it",
                    i + 1
                ));
                continue;
            }
        }
        for f in findings.iter_mut().filter(|f| f.suppressed.is_none()) {
            if glob(&r.control, f.control.id)
                && glob(&r.file, &f.file)
                && glob(&r.resource, &f.resource)
            {
                f.suppressed = Some(Suppressed {
                    reason: r.reason.clone(),
                    source: "rampart.toml",
                });
            }
        }
    }
    warnings
}

/// The outcome of checking paths.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub files: usize,
    pub resources: usize,
    pub findings: Vec<Finding>,
    pub errors: Vec<FileError>,
    /// Files under a directory that are neither templates nor plans (package.json, …).
    pub skipped: Vec<String>,
}

impl Report {
    pub fn count(&self, status: Status) -> usize {
        self.findings
            .iter()
            .filter(|f| f.status == status && f.suppressed.is_none())
            .count()
    }

    pub fn suppressed(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.suppressed.is_some())
            .count()
    }
}

/// Template-like files under `dir`, sorted.
fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> std::io::Result<()> {
    if depth > 32 {
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "node_modules" || name == "target" {
            continue;
        }
        let ft = e.file_type()?;
        if ft.is_dir() {
            walk(&p, out, depth + 1)?;
        } else if matches!(
            p.extension().and_then(|x| x.to_str()),
            Some("yaml" | "yml" | "json" | "template")
        ) {
            out.push(p);
        }
    }
    Ok(())
}

/// Checks every path (a file, or a directory searched for `.yaml`, `.yml`, `.json` and
/// `.template` files). A file that cannot be read is one [`FileError`] with its position; the
/// other files are still checked.
pub fn check_paths(paths: &[PathBuf], opts: &ReadOptions, env: &Env) -> Report {
    let mut report = Report::default();
    for path in paths {
        let (files, explicit) = if path.is_dir() {
            let mut v = Vec::new();
            if let Err(e) = walk(path, &mut v, 0) {
                report.errors.push(FileError {
                    file: path.display().to_string(),
                    line: 0,
                    column: 0,
                    message: format!("cannot list the directory: {e}"),
                });
            }
            (v, false)
        } else {
            (vec![path.clone()], true)
        };
        for f in files {
            let shown = f.display().to_string();
            let text = match std::fs::read(&f) {
                Ok(b) => match String::from_utf8(b) {
                    Ok(t) => t,
                    Err(_) => {
                        report.errors.push(FileError {
                            file: shown,
                            line: 1,
                            column: 1,
                            message: "not UTF-8 text".into(),
                        });
                        continue;
                    }
                },
                Err(e) => {
                    report.errors.push(FileError {
                        file: shown,
                        line: 0,
                        column: 0,
                        message: format!("cannot read: {e}"),
                    });
                    continue;
                }
            };
            match read(&text, opts) {
                Ok(dep) => {
                    report.files += 1;
                    report.resources += dep.resources.len();
                    report.findings.extend(check(&shown, &dep, env));
                }
                Err(e) if !explicit && e.message.starts_with("neither a CloudFormation") => {
                    report.skipped.push(shown);
                }
                Err(e) => report.errors.push(FileError {
                    file: shown,
                    line: e.pos.line,
                    column: e.pos.column,
                    message: e.message,
                }),
            }
        }
    }
    report
}
