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
    /// Deliver a batch; an error means nothing in the batch can be assumed delivered.
    fn send(&mut self, alerts: &[Alert]) -> Result<(), String>;
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
    fn send(&mut self, alerts: &[Alert]) -> Result<(), String> {
        if alerts.is_empty() {
            return Ok(());
        }
        self.out
            .write_all(render(alerts, self.format).as_bytes())
            .and_then(|_| self.out.flush())
            .map_err(|e| e.to_string())
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

    fn post(&self, body: &str) -> Result<(), String> {
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
            let req = format!(
                "POST {path} HTTP/1.1\r\nHost: {hostport}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\nUser-Agent: rampart\r\n\r\n{body}",
                body.len()
            );
            s.write_all(req.as_bytes())
                .map_err(|e| format!("write: {e}"))?;
            let mut resp = Vec::new();
            s.read_to_end(&mut resp).map_err(|e| format!("read: {e}"))?;
            let status = std::str::from_utf8(&resp)
                .ok()
                .and_then(|r| r.split_whitespace().nth(1))
                .and_then(|c| c.parse::<u16>().ok());
            match status {
                Some(c) if (200..300).contains(&c) => Ok(()),
                Some(c) => Err(format!("HTTP {c}")),
                None => Err("no HTTP response".into()),
            }
        } else {
            self.post_with_curl_config(body)
        }
    }

    fn post_with_curl_config(&self, body: &str) -> Result<(), String> {
        let dir = std::env::temp_dir().join(format!("rampart-webhook-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let cfg = dir.join("curl.cfg");
        let _ = std::fs::remove_file(&cfg);
        let escaped = self.url.replace('\\', "\\\\").replace('"', "\\\"");
        write_private(&cfg, format!("url = \"{escaped}\"\n").as_bytes())
            .map_err(|e| e.to_string())?;
        let child = std::process::Command::new("curl")
            .args([
                "-sS",
                "-f",
                "--max-time",
                "10",
                "-H",
                "Content-Type: application/json",
                "--data-binary",
                "@-",
                "-K",
            ])
            .arg(&cfg)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
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
            Ok(())
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            Err(format!(
                "curl: {}",
                err.replace(&self.url, &redact_url(&self.url)).trim()
            ))
        }
    }
}

impl Sink for WebhookSink {
    fn name(&self) -> String {
        format!("webhook {}", redact_url(&self.url))
    }
    fn send(&mut self, alerts: &[Alert]) -> Result<(), String> {
        for a in alerts {
            let body = serde_json::json!({"text": a.summary(), "rampart_alert": a}).to_string();
            self.post(&body)?;
        }
        Ok(())
    }
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
    fn send(&mut self, alerts: &[Alert]) -> Result<(), String> {
        for a in alerts {
            let subject: String = a
                .summary()
                .chars()
                .filter(|c| !c.is_control())
                .take(100)
                .collect();
            self.publisher
                .publish(&self.topic_arn, &subject, &a.to_json_line())?;
        }
        Ok(())
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
            let mut last = String::new();
            let mut ok = false;
            for attempt in 0..=self.retries {
                match sink.send(alerts) {
                    Ok(()) => {
                        ok = true;
                        break;
                    }
                    Err(e) => {
                        last = e;
                        if attempt < self.retries {
                            std::thread::sleep(self.backoff * 2u32.pow(attempt));
                        }
                    }
                }
            }
            if ok {
                rep.delivered += alerts.len() as u64;
                continue;
            }
            let spooled = spool(&self.spool, &rep.name, alerts);
            let spool_failed = spooled.is_err();
            match spooled {
                Ok(()) => {
                    rep.spooled += alerts.len() as u64;
                    rep.errors.push(format!(
                        "{}: {last}; {} alert(s) kept in {}",
                        rep.name,
                        alerts.len(),
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
                for a in alerts {
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
