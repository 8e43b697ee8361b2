//! `rampart serve` with TLS inside the process: a self-signed certificate made in the test,
//! a real listener on 127.0.0.1:0, and a rustls client that trusts only that certificate.

use chrono::Utc;
use rampart_serve::{AppState, Listen, Role, auth, serve_until};
use rampart_store::UserRecord;
use rampart_store::testing::sqlite_db;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

const PASSWORD: &str = "correct horse battery";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_serves_pages_with_secure_cookies_and_refuses_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();

    let db = sqlite_db();
    let mut store = db.open();
    store
        .add_user(&UserRecord {
            name: "ana".into(),
            role: Role::Admin.as_str().into(),
            password_hash: auth::hash_password(PASSWORD).unwrap(),
            created_at: Utc::now(),
        })
        .unwrap();
    let listen = Listen {
        addr: "127.0.0.1:0".parse().unwrap(),
        tls: Some((cert_path.clone(), key_path.clone())),
        behind_proxy: false,
    };
    let state = AppState::new(store, &listen);
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        serve_until(
            state,
            &listen,
            |addr| {
                let _ = ready_tx.send(addr);
            },
            async {
                let _ = stop_rx.await;
            },
        )
        .await
    });
    let addr: SocketAddr = ready_rx.await.unwrap();

    let mut roots = RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let client = ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = TlsConnector::from(Arc::new(client));
    let https = |request: String| {
        let connector = connector.clone();
        async move {
            let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            let name = ServerName::try_from("127.0.0.1").unwrap();
            let mut tls = connector.connect(name, tcp).await.unwrap();
            tls.write_all(request.as_bytes()).await.unwrap();
            let mut response = String::new();
            tls.read_to_string(&mut response).await.unwrap();
            response
        }
    };

    let health = https(format!(
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    ))
    .await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");

    let form = format!("user=ana&password={}&next=%2F", PASSWORD.replace(' ', "+"));
    let login = https(format!(
        "POST /login HTTP/1.1\r\nHost: {addr}\r\nOrigin: https://{addr}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{form}",
        form.len()
    ))
    .await;
    assert!(login.starts_with("HTTP/1.1 303"), "{login}");
    let cookie = login
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .unwrap_or_else(|| panic!("no session cookie: {login}"));
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );

    // Plain HTTP on the TLS port gets no HTTP answer.
    let mut plain = tokio::net::TcpStream::connect(addr).await.unwrap();
    plain
        .write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        plain.read_to_end(&mut answer),
    )
    .await;
    assert!(!answer.starts_with(b"HTTP/"), "plain HTTP was answered");

    stop_tx.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn unreadable_certificate_or_key_is_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let err = rampart_serve::tls::server_config(&missing, &missing).unwrap_err();
    assert!(
        err.contains("cannot read the TLS certificate") && err.contains("missing.pem"),
        "{err}"
    );
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").unwrap();
    let err = rampart_serve::tls::server_config(&empty, &missing).unwrap_err();
    assert!(err.contains("holds no PEM certificate"), "{err}");
    assert_eq!(err.lines().count(), 1);
}
