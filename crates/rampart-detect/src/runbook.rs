//! Runbooks: what a responder does about an alert, written next to the rule that raises it
//! (each built-in `Def` carries its own) and rendered here — as Markdown (the generated
//! docs/runbooks), as plain text (`rampart runbook`), and as the few lines an alert message
//! carries. Commands are templates: `{account}`, `{principal}`, `{access_key}`, … are filled
//! from an [`Alert`] when one is given and shown as `<account>` otherwise.
//!
//! A runbook is keyed by a rule id or, for the findings of other services that intake adds
//! later, a finding type: [`catalogue`] is the one list both will live in.

use crate::alert::Alert;
use crate::ir::{RuleMeta, RuleSource};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

/// A rule's runbook. Every section is required ([`Runbook::problems`] says which is empty).
#[derive(Debug, Clone, PartialEq)]
pub struct Runbook {
    /// One line saying what happened; alert messages lead with it.
    pub summary: String,
    /// Why it matters: what an attacker gains, what is lost.
    pub why: String,
    pub triage: Vec<Step>,
    pub containment: Vec<Step>,
    pub recovery: Vec<Step>,
    pub escalation: Vec<Escalation>,
}

/// One step: what to do and why, and the commands that do it (possibly none).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Step {
    pub text: String,
    pub commands: Vec<Command>,
    /// The `rampart respond` action that performs this step.
    pub respond: Option<&'static str>,
}

/// A command template: a shell line (AWS CLI, `rampart`) or a SQL query.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Command {
    pub lang: Lang,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Shell,
    Sql,
}

/// Who to tell, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct Escalation {
    pub to: Contact,
    pub when: String,
}

/// The roles runbooks escalate to; the names people know them by come from `[detect.escalation]`
/// ([`Contacts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Contact {
    SecurityOnCall,
    AccountOwner,
    IdentityAdmins,
    OrgAdmins,
}

impl Contact {
    pub const ALL: [Contact; 4] = [
        Contact::SecurityOnCall,
        Contact::AccountOwner,
        Contact::IdentityAdmins,
        Contact::OrgAdmins,
    ];

    /// The key naming it in `[detect.escalation]`.
    pub fn key(self) -> &'static str {
        match self {
            Contact::SecurityOnCall => "security_oncall",
            Contact::AccountOwner => "account_owner",
            Contact::IdentityAdmins => "identity_admins",
            Contact::OrgAdmins => "org_admins",
        }
    }

    fn default_name(self) -> &'static str {
        match self {
            Contact::SecurityOnCall => "Security on-call",
            Contact::AccountOwner => "Account owner",
            Contact::IdentityAdmins => "Identity administrators",
            Contact::OrgAdmins => "Organization administrators",
        }
    }

    pub fn parse(key: &str) -> Option<Contact> {
        Contact::ALL.into_iter().find(|c| c.key() == key)
    }
}

/// The names (a team, a rota, a channel) each [`Contact`] is rendered as.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contacts(BTreeMap<Contact, String>);

impl Contacts {
    /// Contacts from `key = name` pairs (`[detect.escalation]`); an unknown key is an error
    /// naming the known ones.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Contacts, String> {
        let mut m = BTreeMap::new();
        for (k, v) in pairs {
            let c = Contact::parse(k).ok_or_else(|| {
                let known: Vec<_> = Contact::ALL.iter().map(|c| c.key()).collect();
                format!("unknown escalation role `{k}`: use {}", known.join(", "))
            })?;
            m.insert(c, v.to_string());
        }
        Ok(Contacts(m))
    }

    pub fn name(&self, c: Contact) -> &str {
        self.0.get(&c).map_or(c.default_name(), String::as_str)
    }
}

// ------------------------------------------------------------------------ building runbooks

impl Runbook {
    pub fn new(summary: &str, why: &str) -> Runbook {
        Runbook {
            summary: summary.to_string(),
            why: why.to_string(),
            triage: Vec::new(),
            containment: Vec::new(),
            recovery: Vec::new(),
            escalation: Vec::new(),
        }
    }
    pub fn triage(mut self, steps: impl IntoIterator<Item = Step>) -> Runbook {
        self.triage.extend(steps);
        self
    }
    pub fn contain(mut self, steps: impl IntoIterator<Item = Step>) -> Runbook {
        self.containment.extend(steps);
        self
    }
    pub fn recover(mut self, steps: impl IntoIterator<Item = Step>) -> Runbook {
        self.recovery.extend(steps);
        self
    }
    pub fn escalate(mut self, to: Contact, when: &str) -> Runbook {
        self.escalation.push(Escalation {
            to,
            when: when.to_string(),
        });
        self
    }

    /// What is missing: an empty section, a step without text, an empty command, or a
    /// placeholder no alert field or environment name fills (a misspelling).
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (name, empty) in [
            ("summary", self.summary.trim().is_empty()),
            ("why", self.why.trim().is_empty()),
            ("triage", self.triage.is_empty()),
            ("containment", self.containment.is_empty()),
            ("recovery", self.recovery.is_empty()),
            ("escalation", self.escalation.is_empty()),
        ] {
            if empty {
                out.push(format!("empty section `{name}`"));
            }
        }
        for p in placeholders_in(&self.summary) {
            if !PLACEHOLDERS.iter().any(|(n, _)| *n == p) {
                out.push(format!("unknown placeholder `{{{p}}}` in the summary"));
            }
        }
        if self.summary.contains('\n') {
            out.push("the summary is more than one line".into());
        }
        for s in self.steps() {
            if s.text.trim().is_empty() {
                out.push("a step without text".into());
            }
            for p in placeholders_in(&s.text) {
                if !PLACEHOLDERS.iter().any(|(n, _)| *n == p) {
                    out.push(format!("unknown placeholder `{{{p}}}` in `{}`", s.text));
                }
            }
            for c in &s.commands {
                if c.text.trim().is_empty() {
                    out.push(format!("an empty command in step `{}`", s.text));
                }
                for p in placeholders_in(&c.text) {
                    if !PLACEHOLDERS.iter().any(|(n, _)| *n == p) {
                        out.push(format!("unknown placeholder `{{{p}}}` in `{}`", c.text));
                    }
                }
            }
        }
        if self.escalation.iter().any(|e| e.when.trim().is_empty()) {
            out.push("an escalation without a reason".into());
        }
        out
    }

    fn steps(&self) -> impl Iterator<Item = &Step> {
        self.triage
            .iter()
            .chain(&self.containment)
            .chain(&self.recovery)
    }

    /// The first command of the triage: the one an alert message quotes.
    pub fn first_command(&self) -> Option<&Command> {
        self.triage.iter().flat_map(|s| &s.commands).next()
    }
}

/// A step that is advice only.
pub fn note(text: &str) -> Step {
    Step {
        text: text.to_string(),
        commands: Vec::new(),
        respond: None,
    }
}

/// A step with one shell command.
pub fn sh(text: &str, command: &str) -> Step {
    note(text).sh(command)
}

/// A step with one SQL query.
pub fn sql(text: &str, query: &str) -> Step {
    note(text).sql(query)
}

impl Step {
    /// Adds a shell command.
    pub fn sh(mut self, command: &str) -> Step {
        self.commands.push(Command {
            lang: Lang::Shell,
            text: command.to_string(),
        });
        self
    }
    /// Adds a SQL query, written on one line: it is laid out one clause a line.
    pub fn sql(mut self, query: &str) -> Step {
        let mut text = query.trim().to_string();
        for (clause, at) in [
            (" FROM ", "\nFROM "),
            (" WHERE ", "\nWHERE "),
            (" AND ", "\n  AND "),
            (" GROUP BY ", "\nGROUP BY "),
            (" ORDER BY ", "\nORDER BY "),
        ] {
            text = text.replace(clause, at);
        }
        self.commands.push(Command {
            lang: Lang::Sql,
            text,
        });
        self
    }
    /// Names the `rampart respond` action that performs the step.
    pub fn respond(mut self, action: &'static str) -> Step {
        self.respond = Some(action);
        self
    }
}

// ----------------------------------------------------------------- steps shared by families

/// Steps several runbooks share, written once.
pub mod common {
    use super::{Step, note, sh, sql};

    /// The event itself, from CloudTrail's 90-day event history in its region.
    pub fn read_event() -> Step {
        sh(
            "Read the event that raised the alert (CloudTrail event history, 90 days, in the event's region).",
            "aws cloudtrail lookup-events --region {region} --lookup-attributes AttributeKey=EventId,AttributeValue={event_id} --query 'Events[].CloudTrailEvent' --output text",
        )
    }

    /// What the calling principal did in the two hours around the event: the organization
    /// trail through CloudTrail Lake or Athena, and `rampart detect` over the same window.
    pub fn principal_activity() -> Step {
        sql(
            "List everything the principal did from an hour before to an hour after the event, in every region. CloudTrail Lake:",
            "SELECT eventTime, awsRegion, eventSource, eventName, errorCode, sourceIPAddress, userAgent \
             FROM {event_data_store} \
             WHERE userIdentity.arn = '{principal}' AND eventTime >= '{start_sql}' AND eventTime <= '{end_sql}' \
             ORDER BY eventTime",
        )
        .sql(
            "-- or Athena, over the organization trail's table\n\
             SELECT eventtime, awsregion, eventsource, eventname, errorcode, sourceipaddress, useragent \
             FROM {athena_table} \
             WHERE useridentity.arn = '{principal}' AND eventtime >= '{start}' AND eventtime <= '{end}' \
             ORDER BY eventtime",
        )
    }

    /// Every rule over the window, to see what else the same actor set off.
    pub fn detect_window() -> Step {
        sh(
            "Run every rule over the same window of the organization trail: other alerts show what else the actor did.",
            "rampart detect {trail_logs} --since {start} --until {end}",
        )
    }

    /// Recent calls made with one access key.
    pub fn key_activity() -> Step {
        sh(
            "List the calls made with the caller's access key (AKIA… is a long-lived user key, ASIA… a session).",
            "aws cloudtrail lookup-events --region {region} --lookup-attributes AttributeKey=AccessKeyId,AttributeValue={access_key} --start-time {start} --end-time {end}",
        )
    }

    /// Recent changes to one resource, by name.
    pub fn resource_history() -> Step {
        sh(
            "List the other recent calls on the same resource: who changed it before and after.",
            "aws cloudtrail lookup-events --region {region} --lookup-attributes AttributeKey=ResourceName,AttributeValue={resource} --start-time {start} --end-time {end}",
        )
    }

    /// Asking the principal's owner whether it was them.
    pub fn confirm_with_owner() -> Step {
        note(
            "Ask the principal's owner (the person, or the team owning the role or pipeline) whether they made this call, out of band (not by replying to a message the caller could read). A planned change has a ticket or a pull request.",
        )
    }

    /// Disabling an IAM user's access key (reversible).
    pub fn disable_key() -> Step {
        sh(
            "If the call was not the owner's, disable the access key that made it (reversible: set it `Active` again once cleared).",
            "aws iam update-access-key --user-name {user_name} --access-key-id {access_key} --status Inactive",
        )
        .respond("disable-access-key")
    }

    /// Denying everything to the calling principal and revoking its sessions.
    pub fn quarantine_principal() -> Step {
        sh(
            "If the principal is compromised, deny it everything (a user; for a role use `attach-role-policy --role-name {role_name}`) …",
            "aws iam attach-user-policy --user-name {user_name} --policy-arn arn:aws:iam::aws:policy/AWSDenyAll",
        )
        .sh(
            "# … and revoke a role's sessions issued before now\naws iam put-role-policy --role-name {role_name} --policy-name rampart-revoke-sessions --policy-document \"{\\\"Version\\\":\\\"2012-10-17\\\",\\\"Statement\\\":[{\\\"Effect\\\":\\\"Deny\\\",\\\"Action\\\":\\\"*\\\",\\\"Resource\\\":\\\"*\\\",\\\"Condition\\\":{\\\"DateLessThan\\\":{\\\"aws:TokenIssueTime\\\":\\\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\\\"}}}]}\"",
        )
        .respond("quarantine-principal")
    }

    /// The principal's credentials, for a post-incident review.
    pub fn review_credentials() -> Step {
        sh(
            "Review the user's credentials: every access key and when it was last used, the console password and MFA devices.",
            "aws iam list-access-keys --user-name {user_name}",
        )
        .sh("aws iam get-access-key-last-used --access-key-id {access_key}")
        .sh("aws iam list-mfa-devices --user-name {user_name}")
    }

    /// The root user's credentials in a member account, read through a privileged root session
    /// (centralized root access) from the management or IAM delegated administrator account.
    pub fn root_credentials() -> Step {
        sh(
            "Check the root user's credentials: access keys present, MFA enabled (account summary, from the account itself) …",
            "aws iam get-account-summary --query 'SummaryMap.[AccountAccessKeysPresent,AccountMFAEnabled]'",
        )
        .sh("# … or, with centralized root access, from the management account\naws sts assume-root --region {region} --target-principal {account} --task-policy-arn arn=arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials")
    }

    /// Removing a member account's root credentials (password, keys, MFA, certificates).
    pub fn delete_root_credentials() -> Step {
        sh(
            "Remove the member account's root credentials with a privileged root session (centralized root access), then delete the keys and login profile with the credentials it returns.",
            "aws sts assume-root --region {region} --target-principal {account} --task-policy-arn arn=arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials",
        )
    }

    /// Re-running rampart's own controls after a fix.
    pub fn audit_again() -> Step {
        sh(
            "Re-run rampart's controls in the alert's region: the account's results must be back to passing.",
            "rampart audit --regions {region} --fail-on high",
        )
    }

    /// Restoring the baseline from rampart.toml (guardrails, logging, security services).
    pub fn apply_baseline() -> Step {
        sh(
            "Converge the account back to the baseline rampart.toml describes (review the plan first).",
            "rampart plan && rampart apply",
        )
    }

    /// Recording the incident's outcome.
    pub fn record_outcome() -> Step {
        note(
            "Record what was found and done (ticket or incident log); if the rule fired on legitimate work, note why so the next responder closes it faster, or suppress the pattern in the rule's configuration.",
        )
    }
}

// ----------------------------------------------------------------------------- placeholders

/// Every placeholder a command may use, with what fills it. Names the alert cannot fill
/// (`{event_data_store}`, `{athena_table}`, `{trail_logs}`) describe the reader's environment
/// and always render as `<name>`.
pub const PLACEHOLDERS: &[(&str, &str)] = &[
    ("account", "the account the event was recorded in"),
    ("region", "the event's region"),
    ("principal", "the caller's ARN"),
    ("user_name", "the calling IAM user's name (from its ARN)"),
    (
        "role_name",
        "the calling role's name (from an assumed-role ARN)",
    ),
    (
        "access_key",
        "the access key id of the call, when the alert's matched fields carry it",
    ),
    (
        "resource",
        "the resource the call named (bucket, trail, user, role, key, instance, …)",
    ),
    (
        "target_user",
        "the IAM user the call acted on (the alert's resource)",
    ),
    (
        "target_role",
        "the IAM role the call acted on (the alert's resource)",
    ),
    (
        "bucket",
        "the S3 bucket the call named (the alert's resource)",
    ),
    ("trail", "the trail the call named (the alert's resource)"),
    (
        "security_group",
        "the security group (the alert's resource when it is an `sg-` id)",
    ),
    (
        "network_acl",
        "the network ACL (the alert's resource when it is an `acl-` id)",
    ),
    (
        "internet_gateway",
        "the internet gateway (the alert's resource when it is an `igw-` id)",
    ),
    (
        "route_table",
        "the route table (the alert's resource when it is an `rtb-` id)",
    ),
    (
        "vpc",
        "the VPC (the alert's resource when it is a `vpc-` id)",
    ),
    (
        "instance_id",
        "the EC2 instance (the alert's resource, or the instance a role session is named after)",
    ),
    (
        "detector_id",
        "the GuardDuty detector (the alert's resource for a GuardDuty call)",
    ),
    ("source_ip", "the caller's source address"),
    ("user_agent", "the caller's user agent"),
    ("event_name", "the API call"),
    ("event_source", "the service that logged the call"),
    ("event_id", "the CloudTrail event id"),
    ("event_time", "when the call was made (RFC 3339)"),
    (
        "start",
        "an hour before the first event of the alert (RFC 3339)",
    ),
    (
        "end",
        "an hour after the last event of the alert (RFC 3339)",
    ),
    ("start_sql", "`start` as CloudTrail Lake writes times"),
    ("end_sql", "`end` as CloudTrail Lake writes times"),
    ("rule_id", "the rule's id"),
    (
        "event_data_store",
        "your CloudTrail Lake event data store (ARN or id)",
    ),
    (
        "athena_table",
        "your Athena table over the organization trail",
    ),
    (
        "trail_logs",
        "where the organization trail's logs are (s3://bucket/prefix or a local copy)",
    ),
];

/// The `{name}` placeholders of a template (lowercase letters and `_` between braces; JSON's
/// `{"…"}` is not one).
fn placeholders_in(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        rest = &rest[i + 1..];
        if let Some(j) = rest.find('}') {
            let name = &rest[..j];
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
                out.push(name);
                rest = &rest[j + 1..];
            }
        }
    }
    out
}

/// What fills the placeholders: an alert's fields, or nothing (every placeholder stays
/// `<name>`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Values(BTreeMap<&'static str, String>);

impl Values {
    /// The values an alert gives. Only what the alert says is filled: a placeholder whose
    /// value it does not carry stays `<name>` rather than being guessed.
    pub fn of(alert: &Alert) -> Values {
        let mut m = BTreeMap::new();
        let mut put = |k: &'static str, v: Option<&str>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                m.insert(k, v.to_string());
            }
        };
        put("account", alert.account());
        put("region", alert.region());
        put("principal", alert.principal());
        put("resource", alert.resource());
        for k in ["target_user", "target_role", "bucket", "trail"] {
            put(k, alert.resource());
        }
        // ids whose shape says what they are: filled only when the resource is one
        let resource = alert.resource().unwrap_or_default();
        for (k, prefix) in [
            ("security_group", "sg-"),
            ("network_acl", "acl-"),
            ("internet_gateway", "igw-"),
            ("route_table", "rtb-"),
            ("vpc", "vpc-"),
            ("instance_id", "i-"),
        ] {
            put(k, Some(resource).filter(|r| r.starts_with(prefix)));
        }
        // an instance role's session is named after its instance
        if !resource.starts_with("i-") {
            let session = alert.principal().and_then(session_of_arn);
            put("instance_id", session.filter(|s| s.starts_with("i-")));
        }
        if alert.event_source() == Some("guardduty.amazonaws.com") {
            put("detector_id", Some(resource));
        }
        put("source_ip", alert.source_ip());
        put("user_agent", alert.user_agent());
        put("event_name", alert.event_name());
        put("event_source", alert.event_source());
        put("event_id", alert.event_id());
        put("event_time", alert.event_time());
        put("rule_id", Some(alert.rule_id()));
        if let Some(p) = alert.principal() {
            put("user_name", user_of_arn(p));
            put("role_name", role_of_arn(p));
        }
        let matched = alert.matched().to_map();
        let key = matched
            .iter()
            .find(|(k, _)| k.ends_with("accessKeyId"))
            .and_then(|(_, v)| v.as_str());
        put("access_key", key);
        let first = alert.first_seen().or(alert.event_time());
        let last = alert.last_seen().or(alert.event_time());
        let shifted = |t: Option<&str>, by: i64| {
            t.and_then(rampart_trail::time::parse_time)
                .map(|s| s.saturating_add(by))
        };
        if let Some(s) = shifted(first, -3600) {
            put("start", Some(&rfc3339(s)));
            put("start_sql", Some(&lake_time(s)));
        }
        if let Some(s) = shifted(last, 3600) {
            put("end", Some(&rfc3339(s)));
            put("end_sql", Some(&lake_time(s)));
        }
        Values(m)
    }

    /// A value set by hand (tests, and callers that know more than the alert).
    pub fn set(&mut self, name: &'static str, value: &str) {
        self.0.insert(name, value.to_string());
    }

    /// `template` with every known placeholder filled, or shown as `<name>` when it has no
    /// value. Values are inserted as they are; they come from the alert, which carries no
    /// secrets.
    pub fn fill(&self, template: &str) -> String {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(i) = rest.find('{') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            let name = after
                .find('}')
                .map(|j| &after[..j])
                .filter(|n| PLACEHOLDERS.iter().any(|(p, _)| p == n));
            match name {
                Some(n) => {
                    match self.0.get(n) {
                        Some(v) => out.push_str(v),
                        None => {
                            out.push('<');
                            out.push_str(n);
                            out.push('>');
                        }
                    }
                    rest = &after[n.len() + 1..];
                }
                None => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// `alice` of `arn:aws:iam::111122223333:user/path/alice`.
fn user_of_arn(arn: &str) -> Option<&str> {
    let (_, res) = arn.split_once(":user/")?;
    res.rsplit('/').next()
}

/// `web` of `arn:aws:sts::…:assumed-role/web/session` or `arn:aws:iam::…:role/path/web`.
fn role_of_arn(arn: &str) -> Option<&str> {
    if let Some((_, rest)) = arn.split_once(":assumed-role/") {
        return rest.split('/').next();
    }
    let (_, res) = arn.split_once(":role/")?;
    res.rsplit('/').next()
}

/// `i-0abc` of `arn:aws:sts::…:assumed-role/web/i-0abc`.
fn session_of_arn(arn: &str) -> Option<&str> {
    let (_, rest) = arn.split_once(":assumed-role/")?;
    rest.split_once('/').map(|(_, session)| session)
}

fn rfc3339(secs: i64) -> String {
    let (day, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        rampart_trail::time::day_path(day).replace('/', "-"),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn lake_time(secs: i64) -> String {
    rfc3339(secs)
        .replace('T', " ")
        .trim_end_matches('Z')
        .to_string()
}

// ----------------------------------------------------------------------------- the catalogue

/// A runbook with the rule (or finding type) it answers.
#[derive(Debug, Clone)]
pub struct Entry {
    pub rule: RuleMeta,
    pub runbook: Runbook,
}

/// Every built-in rule's runbook, in catalogue order: the rule files' own, then the sign-in
/// tracker's and the baseline's. Finding types of other services join this list when intake
/// normalizes them.
pub fn catalogue() -> &'static [Entry] {
    static ALL: OnceLock<Vec<Entry>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut v: Vec<Entry> = crate::rules::builtin(&crate::rules::BuiltinConfig::default())
            .into_iter()
            .map(|b| Entry {
                rule: b.rule.meta,
                runbook: b.runbook,
            })
            .collect();
        v.extend(crate::signin::SigninTracker::runbooks());
        v.extend(crate::baseline::Baseline::runbooks());
        v
    })
}

/// The runbook of `id` (a rule id or finding type, any case).
pub fn find(id: &str) -> Option<&'static Entry> {
    catalogue()
        .iter()
        .find(|e| e.rule.id.eq_ignore_ascii_case(id.trim()))
}

/// Resolves another service's finding type (`guardduty`, `Recon:IAMUser/MaliciousIPCaller`)
/// to its runbook. Those runbooks live beside their normalization (crate rampart-findings,
/// which depends on this one), which installs its resolver here at start-up.
pub type FindingRunbooks = fn(RuleSource, &str) -> Option<&'static Entry>;

static FINDING_RUNBOOKS: OnceLock<FindingRunbooks> = OnceLock::new();

/// Installs the finding-type resolver (the first call wins; later ones are ignored).
pub fn install_finding_runbooks(resolve: FindingRunbooks) {
    let _ = FINDING_RUNBOOKS.set(resolve);
}

/// The runbook of an alert: its rule's, or its finding type's once a resolver is installed.
pub fn find_for(alert: &Alert) -> Option<&'static Entry> {
    let source = alert.rule_source();
    if source.is_finding() {
        return FINDING_RUNBOOKS
            .get()
            .and_then(|f| f(source, alert.rule_id()));
    }
    find(alert.rule_id())
}

/// The argument `rampart runbook` takes for an alert: the rule id, or `SOURCE:TYPE` for a
/// finding (`guardduty:Recon:IAMUser/MaliciousIPCaller`).
pub fn runbook_key(alert: &Alert) -> String {
    if alert.rule_source().is_finding() {
        format!("{}:{}", alert.rule_source(), alert.rule_id())
    } else {
        alert.rule_id().to_string()
    }
}

/// Up to `n` catalogue ids closest to `id` (edit distance, ignoring case), nearest first.
pub fn closest(id: &str, n: usize) -> Vec<&'static str> {
    let want = id.trim().to_ascii_uppercase();
    let mut v: Vec<(usize, &str)> = catalogue()
        .iter()
        .map(|e| {
            let have = e.rule.id.to_ascii_uppercase();
            // a prefix (`RD-TAMPER`) is as close as it gets
            let d = if have.starts_with(&want) {
                0
            } else {
                edit_distance(&want, &have)
            };
            (d, e.rule.id.as_str())
        })
        .collect();
    v.sort();
    v.into_iter().take(n).map(|(_, id)| id).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

// -------------------------------------------------------------------------------- rendering

/// How a runbook is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Text,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "markdown" | "md" => Some(Format::Markdown),
            "text" | "txt" => Some(Format::Text),
            _ => None,
        }
    }
}

/// Renders `entry`'s runbook, its commands filled from `alert` when given.
pub fn render(entry: &Entry, alert: Option<&Alert>, contacts: &Contacts, format: Format) -> String {
    let values = alert.map(Values::of).unwrap_or_default();
    let mut r = Renderer {
        out: String::new(),
        format,
        values: &values,
    };
    r.document(entry, alert, contacts);
    r.out
}

struct Renderer<'a> {
    out: String,
    format: Format,
    values: &'a Values,
}

impl Renderer<'_> {
    fn md(&self) -> bool {
        self.format == Format::Markdown
    }

    fn heading(&mut self, text: &str) {
        if self.md() {
            let _ = writeln!(self.out, "\n## {text}\n");
        } else {
            let _ = writeln!(
                self.out,
                "\n{}\n{}",
                text.to_uppercase(),
                "-".repeat(text.len())
            );
        }
    }

    fn document(&mut self, e: &Entry, alert: Option<&Alert>, contacts: &Contacts) {
        let m = &e.rule;
        let rb = &e.runbook;
        let attack = m.attack.join(", ");
        if self.md() {
            let _ = writeln!(self.out, "# {}: {}\n", m.id, m.title);
            let _ = writeln!(
                self.out,
                "Severity **{}** · ATT&CK {} · source {}\n\n> {}",
                m.severity.as_str(),
                if attack.is_empty() { "-" } else { &attack },
                m.source,
                self.values.fill(&rb.summary)
            );
        } else {
            let title = format!("{}: {}", m.id, m.title);
            let _ = writeln!(self.out, "{title}\n{}", "=".repeat(title.chars().count()));
            let _ = writeln!(
                self.out,
                "Severity {} | ATT&CK {} | source {}\n\n{}",
                m.severity.as_str(),
                if attack.is_empty() { "-" } else { &attack },
                m.source,
                self.values.fill(&rb.summary)
            );
        }
        if let Some(a) = alert {
            self.alert(a);
        }
        self.heading("What happened");
        let _ = writeln!(self.out, "{}", m.description);
        self.heading("Why it matters");
        let _ = writeln!(self.out, "{}", rb.why);
        self.heading("Triage");
        self.steps(&rb.triage);
        if !m.false_positives.is_empty() {
            let _ = writeln!(self.out, "\nKnown benign causes:");
            for f in &m.false_positives {
                let _ = writeln!(self.out, "- {f}");
            }
        }
        self.heading("Containment");
        self.steps(&rb.containment);
        self.heading("Recovery");
        self.steps(&rb.recovery);
        self.heading("Escalation");
        for esc in &rb.escalation {
            if self.md() {
                let _ = writeln!(self.out, "- **{}**: {}", contacts.name(esc.to), esc.when);
            } else {
                let _ = writeln!(self.out, "- {}: {}", contacts.name(esc.to), esc.when);
            }
        }
    }

    /// The alert's own fields, so the page stands alone.
    fn alert(&mut self, a: &Alert) {
        self.heading("This alert");
        let rows = [
            ("Time", a.event_time()),
            ("Account", a.account()),
            ("Region", a.region()),
            ("Principal", a.principal()),
            ("Source IP", a.source_ip()),
            ("Call", a.event_name()),
            ("Resource", a.resource()),
            ("Outcome", Some(a.outcome().as_str())),
            ("Event id", a.event_id()),
        ];
        for (k, v) in rows {
            if let Some(v) = v {
                if self.md() {
                    let _ = writeln!(self.out, "- {k}: `{v}`");
                } else {
                    let _ = writeln!(self.out, "- {k}: {v}");
                }
            }
        }
        if a.count > 1 {
            let _ = writeln!(self.out, "- Repeats: {}", a.count);
        }
    }

    fn steps(&mut self, steps: &[Step]) {
        for (i, s) in steps.iter().enumerate() {
            let _ = writeln!(self.out, "{}. {}", i + 1, self.values.fill(&s.text));
            if let Some(action) = s.respond {
                if self.md() {
                    let _ = writeln!(self.out, "   (`rampart respond` action: `{action}`)");
                } else {
                    let _ = writeln!(self.out, "   (rampart respond action: {action})");
                }
            }
            for (n, c) in s.commands.iter().enumerate() {
                let text = self.values.fill(&c.text);
                if !self.md()
                    && n > 0
                    && (text.contains('\n') || s.commands[n - 1].text.contains('\n'))
                {
                    // queries of several lines stay apart in plain text
                    self.out.push('\n');
                }
                if self.md() {
                    let lang = match c.lang {
                        Lang::Shell => "sh",
                        Lang::Sql => "sql",
                    };
                    let _ = writeln!(self.out, "\n   ```{lang}");
                    for line in text.lines() {
                        let _ = writeln!(self.out, "   {line}");
                    }
                    let _ = writeln!(self.out, "   ```");
                } else {
                    for line in text.lines() {
                        let _ = writeln!(self.out, "      {line}");
                    }
                }
            }
            if self.md() && !s.commands.is_empty() {
                // a blank line after the last code block ends the list item's blocks
                self.out.push('\n');
            }
        }
    }
}

/// The lines an alert message adds: the runbook's summary, its first triage command filled
/// from the alert, and where the whole runbook is. `None` for a rule without a runbook.
pub fn message_lines(alert: &Alert) -> Option<String> {
    let e = find_for(alert)?;
    let values = Values::of(alert);
    let mut s = values.fill(&e.runbook.summary);
    if let Some(c) = e.runbook.first_command() {
        let _ = write!(s, "\nFirst step: `{}`", values.fill(&c.text));
    }
    let _ = write!(s, "\nRunbook: `rampart runbook {}`", runbook_key(alert));
    Some(s)
}

// ------------------------------------------------------------------------------------ docs

/// The generated docs/runbooks: one Markdown file per runbook plus `README.md`, the index,
/// as (file name, content). `rampart runbook --all --out docs/runbooks` writes them, and a
/// test fails when the committed files differ.
pub fn docs() -> Vec<(String, String)> {
    let contacts = Contacts::default();
    let mut index = String::from(
        "# Runbooks\n\nGenerated from the rules' code by `rampart runbook --all --out docs/runbooks`; do not edit by hand.\nEach runbook is also printed by `rampart runbook RULE_ID`, with its commands filled from an alert by `--alert FILE`.\n\nPlaceholders in the commands:\n\n",
    );
    for (name, what) in PLACEHOLDERS {
        let _ = writeln!(index, "- `<{name}>`: {what}");
    }
    index.push_str("\n| Rule | Severity | Title | What happened |\n|---|---|---|---|\n");
    let mut files = Vec::new();
    for e in catalogue() {
        let file = format!("{}.md", e.rule.id);
        let _ = writeln!(
            index,
            "| [{}]({file}) | {} | {} | {} |",
            e.rule.id,
            e.rule.severity.as_str(),
            e.rule.title.replace('|', "\\|"),
            e.runbook.summary.replace('|', "\\|")
        );
        files.push((file, render(e, None, &contacts, Format::Markdown)));
    }
    files.insert(0, ("README.md".to_string(), index));
    files
}

#[cfg(test)]
mod tests;
