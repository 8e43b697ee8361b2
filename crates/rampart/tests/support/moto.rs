//! The moto emulator and the rampart binary pointed at it: what every emulator test file needs
//! (emulator.rs, emulator_schedule.rs, emulator_alerting.rs, emulator_respond.rs). Each file uses a part of it.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub struct Moto {
    child: Child,
    pub url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start_moto() -> Moto {
    let server = std::env::var("RAMPART_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join(".venv/bin/moto_server"));
    assert!(
        server.exists(),
        "moto_server not found at {}: run scripts/install-test-deps.sh (or set RAMPART_MOTO_SERVER)",
        server.display()
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Moto { child, url }
}

pub fn python(server: &Path) -> PathBuf {
    server
        .parent()
        .map(|d| d.join("python"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| "python3".into())
}

pub fn rampart(moto: &Moto, args: &[&str]) -> std::process::Output {
    rampart_at(&moto.url, args)
}

pub fn rampart_at(endpoint: &str, args: &[&str]) -> std::process::Output {
    rampart_command(endpoint, args)
        .output()
        .expect("run rampart")
}

/// The rampart binary with the emulator's endpoint and test credentials.
pub fn rampart_command(endpoint: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rampart"));
    c.args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env_remove("AWS_PROFILE");
    c
}

/// Builds the fixture organization; returns role → account id.
pub fn build_fixture(moto: &Moto) -> HashMap<String, String> {
    let script = repo().join("crates/rampart/tests/support/emulator_org.py");
    let stdout = run_python(&[script.to_str().unwrap(), &moto.url]);
    let ids: HashMap<String, String> = serde_json::from_slice(&stdout).expect("fixture ids");
    assert_eq!(ids.len(), 6, "management + 5 members");
    ids
}

pub fn init_for_emulator(moto: &Moto, cfg: &std::path::Path) -> String {
    let init = rampart(
        moto,
        &[
            "init",
            "--regions",
            "us-east-1",
            "--config",
            cfg.to_str().unwrap(),
        ],
    );
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let text = std::fs::read_to_string(cfg)
        .unwrap()
        .replace("config = true", "config = false")
        .replace("finding_aggregator = true", "finding_aggregator = false")
        .replace(
            "policy/job-function/ViewOnlyAccess",
            "policy/ViewOnlyAccess",
        );
    std::fs::write(cfg, &text).unwrap();
    text
}

/// The moto_server the tests start (`RAMPART_MOTO_SERVER`, else the project's .venv).
pub fn moto_server() -> PathBuf {
    std::env::var("RAMPART_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join(".venv/bin/moto_server"))
}

/// Runs Python (with boto3, from moto's environment) with these arguments (a script file, or
/// `-c` and a script) and returns its stdout; panics with its stderr when it fails.
pub fn run_python(args: &[&str]) -> Vec<u8> {
    let out = Command::new(python(&moto_server()))
        .args(args)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs a helper script of tests/support with the venv's Python against `moto`; its stdout as
/// JSON.
pub fn support_script(moto: &Moto, script: &str, args: &[&str]) -> serde_json::Value {
    let server = std::env::var("RAMPART_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join(".venv/bin/moto_server"));
    let out = Command::new(python(&server))
        .arg(repo().join("crates/rampart/tests/support").join(script))
        .arg(&moto.url)
        .args(args)
        .output()
        .expect("run a support script");
    assert!(
        out.status.success(),
        "{script} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the support script's JSON")
}

/// Runs tests/support/baseline_ops.py (`bare`, `drift`, `census`, `fix-ebs ACCOUNT REGION`)
/// against moto; its JSON output.
pub fn baseline_ops(moto: &Moto, cmd: &str) -> Value {
    let server = std::env::var("RAMPART_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join(".venv/bin/moto_server"));
    let out = Command::new(python(&server))
        .arg(repo().join("crates/rampart/tests/support/baseline_ops.py"))
        .arg(moto.url.as_str())
        .args(cmd.split_whitespace())
        .output()
        .expect("run baseline_ops.py");
    assert!(
        out.status.success(),
        "baseline_ops {cmd} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("baseline_ops JSON")
}

/// Change ids of a `plan --format json` run.
pub fn planned(out: &std::process::Output) -> Vec<String> {
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "plan JSON: {e}; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut ids: Vec<String> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// Polls `done` every 100 ms; panics naming `what` after five minutes.
pub fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
