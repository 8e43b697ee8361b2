//! Alert sinks with retries. A sink that still fails after its retries never loses alerts: they
//! are appended to a spool file (JSON Lines) and the failure is reported.

use crate::alert::Alert;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::Duration;

/// Where alerts go.
pub trait Sink {
    /// A name safe to print (never contains secrets such as webhook paths).
    fn name(&self) -> String;
    /// Deliver a batch, in order; on failure, say how many of its first alerts were delivered
    /// (they are not sent again).
    fn send(&mut self, alerts: &[Alert]) -> Result<(), Failure>;
}

/// Why a delivery stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Alerts at the start of the batch that were delivered before it.
    pub delivered: usize,
    pub message: String,
    /// How long the receiver asked to be left alone (HTTP 429 `Retry-After`).
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// Nothing of the batch was delivered.
    pub fn none(message: impl Into<String>) -> Failure {
        Failure {
            delivered: 0,
            message: message.into(),
            retry_after: None,
        }
    }
}

/// A refused or failed request, and the wait a 429 asked for.
struct Refused {
    message: String,
    retry_after: Option<Duration>,
}

impl From<String> for Refused {
    fn from(message: String) -> Refused {
        Refused {
            message,
            retry_after: None,
        }
    }
}

/// The longest `Retry-After` honoured; a receiver asking for more is retried sooner (and the
/// alerts spooled if it still refuses) rather than stalling the run.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// An HTTP status to a delivery result: 2xx delivered; 429 refused with its `Retry-After`
/// (seconds); anything else refused.
fn status_result(status: Option<u16>, retry_after: Option<&str>) -> Result<(), Refused> {
    match status {
        Some(c) if (200..300).contains(&c) => Ok(()),
        Some(429) => Err(Refused {
            message: "HTTP 429 (too many requests)".into(),
            retry_after: retry_after
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER)),
        }),
        Some(c) => Err(format!("HTTP {c}").into()),
        None => Err(String::from("no HTTP response").into()),
    }
}

/// Sends alerts one by one through `one`, stopping at the first refusal with the count sent.
fn one_by_one(
    alerts: &[Alert],
    mut one: impl FnMut(&Alert) -> Result<(), Refused>,
) -> Result<(), Failure> {
    for (k, a) in alerts.iter().enumerate() {
        if let Err(r) = one(a) {
            return Err(Failure {
                delivered: k,
                message: r.message,
                retry_after: r.retry_after,
            });
        }
    }
    Ok(())
}

/// Output format for stream sinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Ocsf,
    Table,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "jsonl" | "json" => Some(Format::Jsonl),
            "ocsf" => Some(Format::Ocsf),
            "table" => Some(Format::Table),
            _ => None,
        }
    }
}

/// Render a batch in `format` (the table gets a header per batch).
pub fn render(alerts: &[Alert], format: Format) -> String {
    match format {
        Format::Table => crate::alert::table(alerts),
        Format::Jsonl => alerts.iter().map(|a| a.to_json_line() + "\n").collect(),
        Format::Ocsf => alerts
            .iter()
            .map(|a| a.to_ocsf().to_string() + "\n")
            .collect(),
    }
}

/// Stdout or a file.
pub struct WriterSink {
    label: String,
    out: Box<dyn Write + Send>,
    format: Format,
}

impl WriterSink {
    pub fn new(label: impl Into<String>, out: Box<dyn Write + Send>, format: Format) -> WriterSink {
        WriterSink {
            label: label.into(),
            out,
            format,
        }
    }
}

impl Sink for WriterSink {
    fn name(&self) -> String {
        self.label.clone()
    }
    fn send(&mut self, alerts: &[Alert]) -> Result<(), Failure> {
        if alerts.is_empty() {
            return Ok(());
        }
        self.out
            .write_all(render(alerts, self.format).as_bytes())
            .and_then(|_| self.out.flush())
            .map_err(|e| Failure::none(e.to_string()))
    }
}

/// A Slack-compatible incoming webhook: `POST {"text": …}` per alert. `http://` is spoken
/// directly; `https://` goes through the system `curl` (URL passed on stdin, never on the
/// command line, so it does not show in process lists).
pub struct WebhookSink {
    url: String,
    timeout: Duration,
}

impl WebhookSink {
    pub fn new(url: &str) -> Result<WebhookSink, String> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "webhook {}: URL must start with http:// or https://",
                redact_url(url)
            ));
        }
        Ok(WebhookSink {
            url: url.to_string(),
            timeout: Duration::from_secs(10),
        })
    }

    /// POSTs one JSON body (a report, a digest), retrying once after a refusal that names a
    /// wait; the error names the redacted URL.
    pub fn post_json(&self, body: &str) -> Result<(), String> {
        let first = self.post(body);
        let second = match first {
            Err(Refused {
                retry_after: Some(wait),
                ..
            }) => {
                std::thread::sleep(wait.min(Duration::from_secs(30)));
                self.post(body)
            }
            other => other,
        };
        second.map_err(|r| format!("webhook {}: {}", redact_url(&self.url), r.message))
    }

    /// POSTs one JSON body with extra headers (a signature, an idempotency key), once, without
    /// retrying: the caller keeps its own retry schedule. The error names the redacted URL and
    /// the `Retry-After` a 429 asked for.
    pub fn post_with_headers(
        &self,
        body: &str,
        headers: &[(&str, &str)],
    ) -> Result<(), (String, Option<Duration>)> {
        self.post_headers(body, headers).map_err(|r| {
            (
                format!("webhook {}: {}", redact_url(&self.url), r.message),
                r.retry_after,
            )
        })
    }

    fn post(&self, body: &str) -> Result<(), Refused> {
        self.post_headers(body, &[])
    }

    fn post_headers(&self, body: &str, headers: &[(&str, &str)]) -> Result<(), Refused> {
        if let Some(rest) = self.url.strip_prefix("http://") {
            let (hostport, path) = match rest.find('/') {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, "/"),
            };
            let addr = if hostport.contains(':') {
                hostport.to_string()
            } else {
                format!("{hostport}:80")
            };
            let mut s = TcpStream::connect(&addr).map_err(|e| format!("connect: {e}"))?;
            s.set_read_timeout(Some(self.timeout)).ok();
            s.set_write_timeout(Some(self.timeout)).ok();
            let extra: String = headers
                .iter()
                .map(|(k, v)| format!("{k}: {v}\r\n"))
                .collect();
            let req = format!(
                "POST {path} HTTP/1.1\r\nHost: {hostport}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\nUser-Agent: rampart\r\n{extra}\r\n{body}",
                body.len()
            );
            s.write_all(req.as_bytes())
                .map_err(|e| format!("write: {e}"))?;
            let mut resp = Vec::new();
            s.read_to_end(&mut resp).map_err(|e| format!("read: {e}"))?;
            let text = String::from_utf8_lossy(&resp);
            let head = text.split("\r\n\r\n").next().unwrap_or("");
            let status = head
                .split_whitespace()
                .nth(1)
                .and_then(|c| c.parse::<u16>().ok());
            let retry_after = head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim().eq_ignore_ascii_case("retry-after").then_some(v)
            });
            status_result(status, retry_after)
        } else {
            self.post_with_curl_config(body, headers)
        }
    }

    fn post_with_curl_config(&self, body: &str, headers: &[(&str, &str)]) -> Result<(), Refused> {
        let dir = std::env::temp_dir().join(format!("rampart-webhook-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let cfg = dir.join("curl.cfg");
        let _ = std::fs::remove_file(&cfg);
        let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        let mut config = format!("url = \"{}\"\n", quote(&self.url));
        for (k, v) in headers {
            config.push_str(&format!("header = \"{}: {}\"\n", quote(k), quote(v)));
        }
        write_private(&cfg, config.as_bytes()).map_err(|e| e.to_string())?;
        let child = std::process::Command::new("curl")
            .args([
                "-sS",
                "--max-time",
                "10",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code} %header{retry-after}",
                "-H",
                "Content-Type: application/json",
                "--data-binary",
                "@-",
                "-K",
            ])
            .arg(&cfg)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn();
        let out = child.and_then(|mut c| {
            if let Some(mut stdin) = c.stdin.take() {
                stdin.write_all(body.as_bytes())?;
            }
            c.wait_with_output()
        });
        let _ = std::fs::remove_dir_all(&dir);
        let out = out.map_err(|e| format!("https webhooks need `curl` on PATH: {e}"))?;
        if out.status.success() {
            let written = String::from_utf8_lossy(&out.stdout);
            let mut parts = written.split_whitespace();
            let status = parts.next().and_then(|c| c.parse::<u16>().ok());
            status_result(status, parts.next())
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            Err(format!(
                "curl: {}",
                err.replace(&self.url, &redact_url(&self.url)).trim()
            )
            .into())
        }
    }
}

impl Sink for WebhookSink {
    fn name(&self) -> String {
        format!("webhook {}", redact_url(&self.url))
    }
    fn send(&mut self, alerts: &[Alert]) -> Result<(), Failure> {
        one_by_one(alerts, |a| {
            let body = serde_json::json!({"text": message_text(a), "rampart_alert": a}).to_string();
            self.post(&body)
        })
    }
}

/// The human text of an alert message: its one-line summary, then, for a rule with a runbook,
/// the runbook's summary, first triage command and `rampart runbook ID` (the JSON beside it
/// keeps the `rampart.alert/v1` schema unchanged).
pub fn message_text(a: &Alert) -> String {
    let mut text = match crate::runbook::message_lines(a) {
        Some(lines) => format!("{}\n{lines}", a.summary()),
        None => a.summary(),
    };
    if let Some(line) = MESSAGE_EXTRA.get().and_then(|f| f(a)) {
        text.push('\n');
        text.push_str(&line);
    }
    text
}

/// A line the binary adds to every alert message: `rampart respond`'s exact command from the
/// playbook (the playbook lives in a crate that depends on this one).
type MessageExtra = Box<dyn Fn(&Alert) -> Option<String> + Send + Sync>;
static MESSAGE_EXTRA: std::sync::OnceLock<MessageExtra> = std::sync::OnceLock::new();

/// Sets [`message_text`]'s extra line, once per process (later calls are ignored).
pub fn set_message_extra(f: MessageExtra) {
    let _ = MESSAGE_EXTRA.set(f);
}

/// Write a file readable only by its owner (it holds a secret URL).
fn write_private(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)?.write_all(data)
}

/// Hide everything after the host: webhook paths (Slack, Teams) are bearer secrets.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or(host);
    if rest.len() > host.len() {
        format!("{scheme}://{host}/…")
    } else {
        format!("{scheme}://{host}")
    }
}

/// Publishes to an SNS topic; the AWS SDK implementation lives in `rampart-aws`.
pub trait SnsPublisher: Send {
    fn publish(&self, topic_arn: &str, subject: &str, message: &str) -> Result<(), String>;
}

/// SNS: one message per alert, subject = the summary (truncated to SNS's 100 characters).
pub struct SnsSink {
    topic_arn: String,
    publisher: Box<dyn SnsPublisher>,
}

impl SnsSink {
    pub fn new(topic_arn: &str, publisher: Box<dyn SnsPublisher>) -> SnsSink {
        SnsSink {
            topic_arn: topic_arn.to_string(),
            publisher,
        }
    }
}

impl Sink for SnsSink {
    fn name(&self) -> String {
        format!("sns {}", self.topic_arn)
    }
    fn send(&mut self, alerts: &[Alert]) -> Result<(), Failure> {
        one_by_one(alerts, |a| {
            let subject: String = a
                .summary()
                .chars()
                .filter(|c| !c.is_control())
                .take(100)
                .collect();
            self.publisher
                .publish(&self.topic_arn, &subject, &a.to_json_line())
                .map_err(Refused::from)
        })
    }
}

/// What happened to a sink's deliveries.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SinkReport {
    pub name: String,
    pub delivered: u64,
    pub spooled: u64,
    pub errors: Vec<String>,
}

/// Sends every batch to every sink with retries; spools what still fails.
pub struct Dispatcher {
    sinks: Vec<(Box<dyn Sink>, SinkReport)>,
    retries: u32,
    backoff: Duration,
    spool: PathBuf,
}

impl Dispatcher {
    pub fn new(spool: PathBuf) -> Dispatcher {
        Dispatcher {
            sinks: Vec::new(),
            retries: 3,
            backoff: Duration::from_millis(200),
            spool,
        }
    }

    pub fn with_retries(mut self, retries: u32, backoff: Duration) -> Dispatcher {
        self.retries = retries;
        self.backoff = backoff;
        self
    }

    pub fn add(&mut self, sink: Box<dyn Sink>) {
        let name = sink.name();
        self.sinks.push((
            sink,
            SinkReport {
                name,
                ..Default::default()
            },
        ));
    }

    pub fn is_empty(&self) -> bool {
        self.sinks.is_empty()
    }

    /// Deliver a batch everywhere.
    pub fn send(&mut self, alerts: &[Alert]) {
        if alerts.is_empty() {
            return;
        }
        for (sink, rep) in &mut self.sinks {
            // what is still to deliver: a retry sends only what the sink did not take
            let mut rest = alerts;
            let mut last = String::new();
            for attempt in 0..=self.retries {
                match sink.send(rest) {
                    Ok(()) => {
                        rep.delivered += rest.len() as u64;
                        rest = &[];
                        break;
                    }
                    Err(f) => {
                        let taken = f.delivered.min(rest.len());
                        rep.delivered += taken as u64;
                        rest = &rest[taken..];
                        last = f.message;
                        if attempt < self.retries {
                            let wait = self.backoff * 2u32.pow(attempt);
                            std::thread::sleep(f.retry_after.map_or(wait, |r| r.max(wait)));
                        }
                    }
                }
            }
            if rest.is_empty() {
                continue;
            }
            let spooled = spool(&self.spool, &rep.name, rest);
            let spool_failed = spooled.is_err();
            match spooled {
                Ok(()) => {
                    rep.spooled += rest.len() as u64;
                    rep.errors.push(format!(
                        "{}: {last}; {} alert(s) kept in {}",
                        rep.name,
                        rest.len(),
                        self.spool.display()
                    ));
                }
                Err(e) => rep.errors.push(format!(
                    "{}: {last}; spooling to {} also failed ({e}); alerts follow on stderr",
                    rep.name,
                    self.spool.display()
                )),
            }
            if spool_failed {
                for a in rest {
                    eprintln!("{}", a.to_json_line());
                }
            }
        }
    }

    /// Per-sink results.
    pub fn reports(&self) -> Vec<SinkReport> {
        self.sinks.iter().map(|(_, r)| r.clone()).collect()
    }
}

fn spool(path: &PathBuf, sink: &str, alerts: &[Alert]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    for a in alerts {
        let mut v = serde_json::to_value(a).unwrap_or_default();
        v["spooled_for"] = serde_json::Value::String(sink.to_string());
        writeln!(f, "{v}")?;
    }
    f.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use crate::ir::{Condition, Rule, RuleMeta, RuleSource, Severity};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    fn alert() -> Alert {
        let rule = Rule::new(
            RuleMeta::new("RD-T", RuleSource::Builtin, "T", Severity::High),
            Condition::eq("eventName", "X"),
        );
        let raw = br#"{"eventName":"X","eventTime":"2024-01-01T00:00:00Z"}"#;
        Alert::new(&rule, &Event::parse(raw).unwrap(), None)
    }

    #[test]
    fn redacts_webhook_secrets() {
        assert_eq!(
            redact_url("https://hooks.slack.com/services/T0/B0/secret"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            redact_url("http://user:pw@127.0.0.1:9/x"),
            "http://127.0.0.1:9/…"
        );
        let s = WebhookSink::new("https://hooks.example/services/SECRET").unwrap();
        assert!(!s.name().contains("SECRET"));
    }

    #[test]
    fn webhook_posts_to_local_listener() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(String::new()));
        let g = got.clone();
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut buf = vec![0u8; 65536];
            let mut req = Vec::new();
            loop {
                let n = s.read(&mut buf).unwrap_or(0);
                req.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&req).to_string();
                if let Some(i) = text.find("\r\n\r\n") {
                    let len: usize = text
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .unwrap()
                        .trim()
                        .parse()
                        .unwrap();
                    if req.len() >= i + 4 + len || n == 0 {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            *g.lock().unwrap() = String::from_utf8_lossy(&req).to_string();
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                .unwrap();
        });
        let mut sink =
            WebhookSink::new(&format!("http://127.0.0.1:{port}/services/secret")).unwrap();
        sink.send(&[alert()]).unwrap();
        h.join().unwrap();
        let req = got.lock().unwrap().clone();
        assert!(req.starts_with("POST /services/secret HTTP/1.1"));
        let body = &req[req.find("\r\n\r\n").unwrap() + 4..];
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert!(v["text"].as_str().unwrap().contains("RD-T"));
    }

    /// A built-in rule's message carries its runbook's summary, first command (filled from the
    /// alert) and pointer; a rule without a runbook keeps the one-line summary.
    #[test]
    fn messages_carry_the_runbook() {
        let b = crate::rules::builtin(&crate::rules::BuiltinConfig::default())
            .into_iter()
            .find(|b| b.rule.meta.id == "RD-IAM-003")
            .unwrap();
        let a = crate::rules::alert_on(&b.rule, &b.positives[0]).unwrap();
        let text = message_text(&a);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], a.summary());
        assert!(
            lines[1].contains("created an access key for another IAM user"),
            "{text}"
        );
        assert!(
            lines[2].starts_with("First step: `aws iam list-access-keys --user-name "),
            "{text}"
        );
        assert!(!lines[2].contains("<target_user>"), "{text}");
        assert_eq!(lines[3], "Runbook: `rampart runbook RD-IAM-003`");
        assert_eq!(message_text(&alert()), alert().summary());
    }

    struct FailingSns(Arc<Mutex<u32>>);
    impl SnsPublisher for FailingSns {
        fn publish(&self, _: &str, _: &str, _: &str) -> Result<(), String> {
            *self.0.lock().unwrap() += 1;
            Err("throttled".into())
        }
    }

    #[test]
    fn failing_sink_retries_then_spools() {
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().join("spool.jsonl");
        let calls = Arc::new(Mutex::new(0));
        let mut d = Dispatcher::new(spool.clone()).with_retries(2, Duration::from_millis(1));
        d.add(Box::new(SnsSink::new(
            "arn:aws:sns:eu-west-1:1:t",
            Box::new(FailingSns(calls.clone())),
        )));
        d.send(&[alert(), alert()]);
        assert_eq!(*calls.lock().unwrap(), 3, "one try plus two retries");
        let r = &d.reports()[0];
        assert_eq!((r.delivered, r.spooled), (0, 2));
        assert!(r.errors[0].contains("throttled"));
        let text = std::fs::read_to_string(&spool).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(text.contains("\"spooled_for\":\"sns arn:aws:sns:eu-west-1:1:t\""));
    }

    /// A receiver that takes some alerts and then refuses: a retry sends only the rest, so every
    /// alert arrives exactly once, and only what was never delivered is spooled.
    struct Flaky {
        got: Arc<Mutex<Vec<String>>>,
        /// Per attempt: how many alerts it takes before refusing (None: takes all).
        takes: Vec<Option<usize>>,
    }
    impl Sink for Flaky {
        fn name(&self) -> String {
            "flaky".into()
        }
        fn send(&mut self, alerts: &[Alert]) -> Result<(), Failure> {
            let take = if self.takes.is_empty() {
                None
            } else {
                self.takes.remove(0)
            };
            let n = take.unwrap_or(alerts.len()).min(alerts.len());
            let mut got = self.got.lock().unwrap();
            got.extend(
                alerts[..n]
                    .iter()
                    .map(|a| a.event_id().unwrap().to_string()),
            );
            match take {
                Some(n) if n < alerts.len() => Err(Failure {
                    delivered: n,
                    message: "refused".into(),
                    retry_after: None,
                }),
                _ => Ok(()),
            }
        }
    }

    fn numbered(n: usize) -> Vec<Alert> {
        let rule = Rule::new(
            RuleMeta::new("RD-T", RuleSource::Builtin, "T", Severity::High),
            Condition::eq("eventName", "X"),
        );
        (0..n)
            .map(|k| {
                let raw = format!(r#"{{"eventName":"X","eventID":"a{k}"}}"#);
                Alert::new(&rule, &Event::parse(raw.as_bytes()).unwrap(), None)
            })
            .collect()
    }

    #[test]
    fn retries_send_only_what_was_not_delivered() {
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().join("spool.jsonl");
        let got = Arc::new(Mutex::new(Vec::new()));
        let mut d = Dispatcher::new(spool.clone()).with_retries(2, Duration::from_millis(1));
        d.add(Box::new(Flaky {
            got: got.clone(),
            takes: vec![Some(2), Some(1), None],
        }));
        d.send(&numbered(5));
        let want: Vec<String> = (0..5).map(|k| format!("a{k}")).collect();
        assert_eq!(*got.lock().unwrap(), want, "each alert once, in order");
        assert_eq!((d.reports()[0].delivered, d.reports()[0].spooled), (5, 0));
        assert!(!spool.exists());
        // a receiver that gives up half-way: only the undelivered alerts are spooled
        let got = Arc::new(Mutex::new(Vec::new()));
        let mut d = Dispatcher::new(spool.clone()).with_retries(1, Duration::from_millis(1));
        d.add(Box::new(Flaky {
            got: got.clone(),
            takes: vec![Some(1), Some(1)],
        }));
        d.send(&numbered(5));
        assert_eq!(got.lock().unwrap().len(), 2);
        assert_eq!((d.reports()[0].delivered, d.reports()[0].spooled), (2, 3));
        let kept = std::fs::read_to_string(&spool).unwrap();
        assert_eq!(kept.lines().count(), 3);
        assert!(
            kept.contains("\"a2\"") && !kept.contains("\"a1\""),
            "{kept}"
        );
    }

    /// HTTP 429 with `Retry-After`: the next attempt waits as asked, and delivers.
    #[test]
    fn webhook_honours_retry_after() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let mut times = Vec::new();
            for reply in [
                "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n",
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            ] {
                let (mut s, _) = l.accept().unwrap();
                times.push(std::time::Instant::now());
                s.set_read_timeout(Some(Duration::from_millis(300)))
                    .unwrap();
                let mut buf = [0u8; 65536];
                let _ = s.read(&mut buf);
                s.write_all(reply.as_bytes()).unwrap();
            }
            times
        });
        let dir = tempfile::tempdir().unwrap();
        let mut d =
            Dispatcher::new(dir.path().join("s.jsonl")).with_retries(2, Duration::from_millis(1));
        d.add(Box::new(
            WebhookSink::new(&format!("http://127.0.0.1:{port}/hook")).unwrap(),
        ));
        d.send(&[alert()]);
        let times = h.join().unwrap();
        assert!(
            times[1] - times[0] >= Duration::from_millis(950),
            "{times:?}"
        );
        assert_eq!((d.reports()[0].delivered, d.reports()[0].spooled), (1, 0));
        assert_eq!(
            status_result(Some(429), Some(" 3600"))
                .unwrap_err()
                .retry_after,
            Some(MAX_RETRY_AFTER),
            "a long wait is capped"
        );
    }

    #[test]
    fn webhook_to_closed_port_spools() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().join("s.jsonl");
        let mut d = Dispatcher::new(spool.clone()).with_retries(1, Duration::from_millis(1));
        d.add(Box::new(
            WebhookSink::new(&format!("http://127.0.0.1:{port}/hook/SECRET")).unwrap(),
        ));
        d.send(&[alert()]);
        let r = &d.reports()[0];
        assert_eq!(r.spooled, 1);
        assert!(!r.errors[0].contains("SECRET"));
        assert!(spool.exists());
    }
}
