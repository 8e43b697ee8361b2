//! The moto emulator for the end-to-end tests (shared by tests/emulator*.rs): start a server
//! on a free port, find its Python, and run the rampart binary against it.

#![allow(dead_code)]

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
