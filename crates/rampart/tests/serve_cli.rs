//! `rampart serve user …` and `rampart serve token …` through the binary, and the refusals of
//! `rampart serve` itself (non-loopback without a proxy, in-process TLS).

use rampart_store::Store;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn rampart(dir: &Path, store: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .current_dir(dir)
        .args(["--store", store])
        .args(args)
        .env("USER", "tester")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run rampart");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

#[test]
fn users_and_tokens_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("r.db").display());
    let run = |args: &[&str], stdin: Option<&str>| rampart(dir.path(), &url, args, stdin);

    let out = run(
        &["serve", "user", "add", "ana", "--role", "admin"],
        Some("a long enough password\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pw = dir.path().join("bo.pw");
    std::fs::write(&pw, "another long password\n").unwrap();
    let out = run(
        &[
            "serve",
            "user",
            "add",
            "bo",
            "--role",
            "viewer",
            "--password-file",
            pw.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(
        &["serve", "user", "add", "cy", "--role", "viewer"],
        Some("short\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("shorter than 12 characters"));
    let out = run(
        &["serve", "user", "add", "cy", "--role", "boss"],
        Some("long enough password\n"),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = run(
        &["serve", "user", "add", "ana", "--role", "viewer"],
        Some("a long enough password\n"),
    );
    assert!(text(&out.stderr).contains("exists already"));
    assert!(
        run(
            &["serve", "user", "set-role", "bo", "--role", "operator"],
            None
        )
        .status
        .success()
    );
    let list = text(&run(&["serve", "user", "list"], None).stdout);
    assert!(
        list.contains("ana") && list.contains("admin") && list.contains("operator"),
        "{list}"
    );
    assert!(!list.contains("argon2"), "hashes are never shown");

    let out = run(
        &[
            "serve",
            "token",
            "create",
            "--name",
            "ci",
            "--role",
            "viewer",
            "--expires",
            "7d",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_string();
    assert!(token.starts_with("rpt_") && token.len() == 68, "{token}");
    let listed = text(&run(&["serve", "token", "list"], None).stdout);
    assert!(
        listed.contains("ci") && !listed.contains(&token[4..]),
        "{listed}"
    );
    assert!(
        run(&["serve", "token", "revoke", "ci"], None)
            .status
            .success()
    );
    assert!(text(&run(&["serve", "token", "list"], None).stdout).contains("revoked"));
    assert_eq!(
        run(&["serve", "token", "revoke", "ci"], None).status.code(),
        Some(1)
    );
    assert!(
        run(&["serve", "user", "remove", "bo"], None)
            .status
            .success()
    );

    let store = Store::open(&url).unwrap();
    let stored = store.api_tokens().unwrap();
    assert_ne!(stored[0].token_hash, token, "only the digest is stored");
    assert!(
        store
            .user("ana")
            .unwrap()
            .unwrap()
            .password_hash
            .starts_with("$argon2id$")
    );
    let actions: Vec<String> = store
        .audit_log(20)
        .unwrap()
        .into_iter()
        .rev()
        .map(|e| format!("{} {} {} {}", e.actor, e.via, e.action, e.target))
        .collect();
    assert_eq!(
        actions,
        vec![
            "tester cli user.add ana",
            "tester cli user.add bo",
            "tester cli user.set-role bo",
            "tester cli token.create ci",
            "tester cli token.revoke ci",
            "tester cli user.remove bo",
        ]
    );
}

#[test]
fn serve_refuses_to_expose_logins_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("r.db").display());
    let out = rampart(
        dir.path(),
        &url,
        &["serve", "--listen", "0.0.0.0:8080"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("refusing to listen on 0.0.0.0:8080") && err.contains("--behind-proxy"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    let out = rampart(
        dir.path(),
        &url,
        &["serve", "--tls-cert", "c.pem", "--tls-key", "k.pem"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot read the TLS certificate") && err.contains("c.pem"),
        "{err}"
    );
}
