//! A local HTTP receiver on 127.0.0.1 that answers with a status the test sets, records every
//! request, and can start on a port that refused connections before.

// shared by the tests and the benchmark; each uses part of it
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The status it was answered with.
    pub status: u16,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct Receiver {
    pub status: Arc<AtomicU16>,
    pub got: Arc<Mutex<Vec<Request>>>,
}

impl Receiver {
    /// A free port nobody listens on yet (connections are refused until `start`).
    pub fn reserve() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    /// Listens on `port`, answering `status` (changeable) to every request.
    pub fn start(port: u16, status: u16) -> Receiver {
        let l = TcpListener::bind(("127.0.0.1", port)).expect("the reserved port is free");
        let status = Arc::new(AtomicU16::new(status));
        let got = Arc::new(Mutex::new(Vec::new()));
        let (st, g) = (status.clone(), got.clone());
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(mut s) = conn else { continue };
                s.set_read_timeout(Some(Duration::from_secs(5))).ok();
                let Some(mut req) = read_request(&mut s) else {
                    continue;
                };
                let code = st.load(Ordering::SeqCst);
                req.status = code;
                g.lock().unwrap().push(req);
                let reply =
                    format!("HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                let _ = s.write_all(reply.as_bytes());
            }
        });
        Receiver { status, got }
    }

    pub fn set_status(&self, code: u16) {
        self.status.store(code, Ordering::SeqCst);
    }

    /// The requests answered 2xx.
    pub fn accepted(&self) -> Vec<Request> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|r| (200..300).contains(&r.status))
            .cloned()
            .collect()
    }
}

fn read_request(s: &mut std::net::TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(i) = text.find("\r\n\r\n") {
            let head = &text[..i];
            let mut lines = head.lines();
            let path = lines.next()?.split_whitespace().nth(1)?.to_string();
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect();
            let len: usize = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            if buf.len() >= i + 4 + len {
                let body = String::from_utf8_lossy(&buf[i + 4..i + 4 + len]).to_string();
                return Some(Request {
                    path,
                    headers,
                    body,
                    status: 0,
                });
            }
        }
    }
}

/// Secrets from a map instead of the process environment.
pub struct Env(pub HashMap<&'static str, String>);

impl rampart_route::config::SecretSource for Env {
    fn env(&self, var: &str) -> Option<String> {
        self.0.get(var).cloned()
    }
    fn file(&self, path: &str) -> Result<String, String> {
        Err(format!("{path}: not in this test"))
    }
}
