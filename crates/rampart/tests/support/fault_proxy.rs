//! A fault-injecting HTTP proxy for the emulator tests: it sits between rampart and moto,
//! forwards every request, and answers chosen ones with an AWS error instead (AccessDenied on an
//! AssumeRole, AccessDenied on one API, throttling), which moto itself never does.
//!
//! It learns which account an access key belongs to from the AssumeRole responses it forwards,
//! so a fault can target one member account. Plain HTTP/1.1 on loopback, one thread per client
//! connection, keep-alive towards the client and one connection per request towards moto.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// What the proxy knows about one request when deciding whether to inject a fault.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// From the SigV4 credential scope.
    pub service: String,
    pub region: String,
    /// The account the signing key belongs to, when the proxy has seen its AssumeRole.
    pub account: Option<String>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The operation: `X-Amz-Target` (JSON protocols), `Action=` (query protocols) or the path.
    pub fn operation(&self) -> String {
        if let Some(t) = self.header("x-amz-target") {
            return t.rsplit('.').next().unwrap_or(t).to_string();
        }
        let body = String::from_utf8_lossy(&self.body);
        let query = self.target.split_once('?').map(|x| x.1).unwrap_or("");
        for part in body.split('&').chain(query.split('&')) {
            if let Some(a) = part.strip_prefix("Action=") {
                return a.to_string();
            }
        }
        self.target.split('?').next().unwrap_or("").to_string()
    }
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// An injected answer.
#[derive(Debug, Clone)]
pub struct Fault {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Fault {
    /// An error in the AWS query/XML protocols (STS, IAM, EC2 use this envelope shape).
    pub fn xml(status: u16, code: &str, message: &str) -> Fault {
        Fault {
            status,
            content_type: "text/xml",
            headers: Vec::new(),
            body: format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
            ),
        }
    }
    /// An EC2-style XML error.
    pub fn ec2(status: u16, code: &str, message: &str) -> Fault {
        Fault {
            status,
            content_type: "text/xml",
            headers: Vec::new(),
            body: format!(
                "<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>"
            ),
        }
    }
    /// A REST-JSON / JSON-protocol error.
    pub fn json(status: u16, code: &str, message: &str) -> Fault {
        Fault {
            status,
            content_type: "application/json",
            headers: vec![("x-amzn-ErrorType", code.to_string())],
            body: format!("{{\"__type\":\"{code}\",\"message\":\"{message}\"}}"),
        }
    }
}

type Matcher = Box<dyn Fn(&Request) -> bool + Send + Sync>;

struct Rule {
    name: String,
    matches: Matcher,
    fault: Fault,
    /// `None` = every matching request; `Some(n)` = the next n matching requests.
    remaining: Option<usize>,
    hits: usize,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    key_accounts: HashMap<String, String>,
    /// Requests in flight per service, and the most seen at once.
    in_flight: HashMap<String, usize>,
    max_in_flight: HashMap<String, usize>,
}

/// The running proxy; it stops with the test process.
pub struct FaultProxy {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fault proxy");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let st = st.clone();
                let upstream = upstream.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, &upstream, &st);
                });
            }
        });
        FaultProxy { url, state }
    }

    /// Answers requests matching `matches` with `fault`: `times` = None for always.
    pub fn inject(
        &self,
        name: &str,
        times: Option<usize>,
        fault: Fault,
        matches: impl Fn(&Request) -> bool + Send + Sync + 'static,
    ) {
        self.state.lock().unwrap().rules.push(Rule {
            name: name.to_string(),
            matches: Box::new(matches),
            fault,
            remaining: times,
            hits: 0,
        });
    }

    /// The most requests seen in flight at once, per service, since the last reset.
    pub fn max_in_flight(&self) -> HashMap<String, usize> {
        self.state.lock().unwrap().max_in_flight.clone()
    }

    pub fn reset_in_flight(&self) {
        self.state.lock().unwrap().max_in_flight.clear();
    }

    /// How many requests each rule answered.
    pub fn hits(&self) -> HashMap<String, usize> {
        let st = self.state.lock().unwrap();
        st.rules.iter().map(|r| (r.name.clone(), r.hits)).collect()
    }
}

fn serve(conn: TcpStream, upstream: &str, state: &Mutex<State>) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut writer = conn;
    loop {
        let Some(mut req) = read_request(&mut reader)? else {
            return Ok(());
        };
        let key = req
            .header("authorization")
            .and_then(|a| a.split("Credential=").nth(1))
            .map(|c| c.split('/').map(str::to_string).collect::<Vec<_>>())
            .unwrap_or_default();
        if key.len() >= 4 {
            req.region = key[2].clone();
            req.service = key[3].clone();
            req.account = state.lock().unwrap().key_accounts.get(&key[0]).cloned();
        }
        let fault = {
            let mut st = state.lock().unwrap();
            let n = st.in_flight.entry(req.service.clone()).or_default();
            *n += 1;
            let n = *n;
            let max = st.max_in_flight.entry(req.service.clone()).or_default();
            *max = (*max).max(n);
            let mut chosen = None;
            for rule in st.rules.iter_mut() {
                if rule.remaining != Some(0) && (rule.matches)(&req) {
                    rule.hits += 1;
                    if let Some(n) = rule.remaining.as_mut() {
                        *n -= 1;
                    }
                    chosen = Some(rule.fault.clone());
                    break;
                }
            }
            chosen
        };
        let (status_line, headers, body) = match fault {
            Some(f) => {
                let mut h = vec![("Content-Type".to_string(), f.content_type.to_string())];
                h.extend(f.headers.iter().map(|(k, v)| (k.to_string(), v.clone())));
                (
                    format!("HTTP/1.1 {} Fault", f.status),
                    h,
                    f.body.into_bytes(),
                )
            }
            None => forward(&req, upstream)?,
        };
        if let Some(n) = state.lock().unwrap().in_flight.get_mut(&req.service) {
            *n = n.saturating_sub(1);
        }
        if req.operation() == "AssumeRole" {
            learn_key(state, &req, &body);
        }
        write!(writer, "{status_line}\r\n")?;
        for (k, v) in &headers {
            write!(writer, "{k}: {v}\r\n")?;
        }
        if req.method == "HEAD" {
            write!(writer, "\r\n")?;
        } else {
            write!(writer, "Content-Length: {}\r\n\r\n", body.len())?;
            writer.write_all(&body)?;
        }
        writer.flush()?;
    }
}

/// Remembers which account the credentials from an AssumeRole response act in.
fn learn_key(state: &Mutex<State>, req: &Request, response: &[u8]) {
    let body = req.body_text();
    let Some(arn) = body
        .split('&')
        .find_map(|p| p.strip_prefix("RoleArn="))
        .map(|a| a.replace("%3A", ":").replace("%2F", "/"))
    else {
        return;
    };
    let Some(account) = arn.split(':').nth(4) else {
        return;
    };
    let text = String::from_utf8_lossy(response);
    if let Some(key) = text
        .split("<AccessKeyId>")
        .nth(1)
        .and_then(|r| r.split("</AccessKeyId>").next())
    {
        state
            .lock()
            .unwrap()
            .key_accounts
            .insert(key.trim().to_string(), account.to_string());
    }
}

fn read_request(r: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("/").to_string();
    let headers = read_headers(r)?;
    let len = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked")
    });
    let body = if chunked {
        read_chunked(r)?
    } else {
        let mut b = vec![0; len];
        r.read_exact(&mut b)?;
        b
    };
    Ok(Some(Request {
        method,
        target,
        headers,
        body,
        service: String::new(),
        region: String::new(),
        account: None,
    }))
}

fn read_headers(r: &mut impl BufRead) -> std::io::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            return Ok(headers);
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
}

fn read_chunked(r: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let mut size = String::new();
        r.read_line(&mut size)?;
        let n =
            usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
        if n == 0 {
            let _ = read_headers(r)?;
            return Ok(out);
        }
        let mut chunk = vec![0; n + 2];
        r.read_exact(&mut chunk)?;
        out.extend_from_slice(&chunk[..n]);
    }
}

/// Status line, headers and body of an answer.
type Response = (String, Vec<(String, String)>, Vec<u8>);

/// Sends the request to moto on a fresh connection and returns its answer, de-chunked.
fn forward(req: &Request, upstream: &str) -> std::io::Result<Response> {
    let mut up = TcpStream::connect(upstream)?;
    write!(up, "{} {} HTTP/1.1\r\n", req.method, req.target)?;
    for (k, v) in &req.headers {
        let k_l = k.to_ascii_lowercase();
        if k_l == "connection" || k_l == "transfer-encoding" || k_l == "content-length" {
            continue;
        }
        write!(up, "{k}: {v}\r\n")?;
    }
    write!(
        up,
        "Connection: close\r\nContent-Length: {}\r\n\r\n",
        req.body.len()
    )?;
    up.write_all(&req.body)?;
    up.flush()?;
    let mut r = BufReader::new(up);
    let mut status_line = String::new();
    r.read_line(&mut status_line)?;
    let headers = read_headers(&mut r)?;
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked")
    });
    let body = if req.method == "HEAD" {
        Vec::new()
    } else if chunked {
        read_chunked(&mut r)?
    } else {
        let mut b = Vec::new();
        r.read_to_end(&mut b)?;
        b
    };
    let keep: Vec<(String, String)> = headers
        .into_iter()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            req.method == "HEAD"
                || !(k == "connection" || k == "transfer-encoding" || k == "content-length")
        })
        .filter(|(k, _)| !k.eq_ignore_ascii_case("connection"))
        .collect();
    Ok((status_line.trim_end().to_string(), keep, body))
}
