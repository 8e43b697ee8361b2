//! Real databases for tests and benchmarks: a temporary SQLite file, or a database in a
//! throwaway PostgreSQL cluster (initdb + pg_ctl from Debian's `postgresql` package, a unix
//! socket in a temporary directory, no TCP) that stops when the process ends.
//!
//! PostgreSQL binaries are found on PATH, then in `/usr/lib/postgresql/*/bin`. When they are
//! missing, PostgreSQL tests fail and say to run `scripts/install-test-deps.sh`, unless
//! `RAMPART_SKIP_POSTGRES=1` is set (then they are skipped with a notice). As root the server
//! runs as the `postgres` system user (initdb refuses root).

use crate::Store;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A database for one test: open it as many times as the test needs (each `open` is a new
/// connection, as a second rampart process would have).
pub struct TestDb {
    url: String,
    /// Keeps the SQLite file's directory alive.
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Opens the store; panics with the store's error (tests only).
    pub fn open(&self) -> Store {
        Store::open(&self.url).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The SQLite file, for tests that look at the file itself.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        self.url.strip_prefix("sqlite://").map(PathBuf::from)
    }
}

/// A new SQLite file in a temporary directory.
pub fn sqlite_db() -> TestDb {
    let dir = tempfile::Builder::new()
        .prefix("rampart-store-")
        .tempdir()
        .expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("rampart.db").display());
    TestDb {
        url,
        _dir: Some(dir),
    }
}

/// A new, empty database in this process's PostgreSQL cluster; `None` (after a notice) when
/// `RAMPART_SKIP_POSTGRES=1`. Panics when PostgreSQL is missing or does not start.
pub fn postgres_db() -> Option<TestDb> {
    if std::env::var("RAMPART_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
        eprintln!("RAMPART_SKIP_POSTGRES=1: skipping the PostgreSQL half of this test");
        return None;
    }
    let cluster = shared_cluster().unwrap_or_else(|e| panic!("{e}"));
    Some(TestDb {
        url: cluster.create_database().unwrap_or_else(|e| panic!("{e}")),
        _dir: None,
    })
}

/// Runs a test body on SQLite and then on PostgreSQL (each with a fresh database).
pub fn on_both(body: impl Fn(&TestDb)) {
    body(&sqlite_db());
    if let Some(db) = postgres_db() {
        body(&db);
    }
}

static CLUSTER: OnceLock<Result<PgCluster, String>> = OnceLock::new();

/// The cluster shared by all tests of this process, started on first use.
pub fn shared_cluster() -> Result<&'static PgCluster, String> {
    CLUSTER
        .get_or_init(|| PgCluster::start(Durability::Fast))
        .as_ref()
        .map_err(Clone::clone)
}

/// How the server writes: `Fast` (no fsync, for tests) or `Full` (PostgreSQL's defaults, for
/// benchmarks that should show what a real server costs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Fast,
    Full,
}

/// A throwaway PostgreSQL cluster listening only on a unix socket in its temporary directory.
pub struct PgCluster {
    dir: PathBuf,
    bin: PathBuf,
    as_postgres_user: bool,
    databases: AtomicUsize,
}

const PORT: u16 = 5432;

fn missing() -> String {
    "PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin): run \
     scripts/install-test-deps.sh, or set RAMPART_SKIP_POSTGRES=1 to skip the PostgreSQL tests"
        .to_string()
}

/// The directory holding initdb, pg_ctl and postgres.
fn find_bin_dir() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let initdb = dir.join("initdb");
            if initdb.is_file() {
                let real = std::fs::canonicalize(&initdb).unwrap_or(initdb);
                let bin = real.parent()?.to_path_buf();
                if bin.join("pg_ctl").is_file() && bin.join("postgres").is_file() {
                    return Some(bin);
                }
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b)
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

impl PgCluster {
    /// initdb into a new temporary directory and start the server. A watcher process stops the
    /// server and removes the directory when this process exits, however it exits.
    pub fn start(durability: Durability) -> Result<PgCluster, String> {
        let bin = find_bin_dir().ok_or_else(missing)?;
        let dir = tempfile::Builder::new()
            .prefix("rampart-pg-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?
            .keep();
        let as_postgres_user = running_as_root();
        let cluster = PgCluster {
            dir,
            bin,
            as_postgres_user,
            databases: AtomicUsize::new(0),
        };
        std::fs::create_dir_all(cluster.socket_dir())
            .map_err(|e| format!("cannot create the socket directory: {e}"))?;
        if as_postgres_user {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&cluster.dir)
                .status()
                .map_err(|e| format!("cannot run chown: {e}"))?;
            if !status.success() {
                return Err(format!(
                    "chown postgres {} failed; is there a `postgres` system user? (scripts/install-test-deps.sh installs it)",
                    cluster.dir.display()
                ));
            }
        }
        cluster.spawn_watcher()?;
        let data = cluster.data_dir();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )?;
        let mut options = format!(
            "-c listen_addresses='' -k {} -p {PORT} -c max_connections=100",
            cluster.socket_dir().display()
        );
        if durability == Durability::Fast {
            options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        cluster.run(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-l",
                &cluster.dir.join("server.log").to_string_lossy(),
                "-w",
                "-t",
                "60",
                "-o",
                &options,
                "start",
            ],
        )?;
        Ok(cluster)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// The unix socket directory (kept short: socket paths are limited to ~100 bytes).
    pub fn socket_dir(&self) -> PathBuf {
        self.dir.join("s")
    }

    /// Runs a server program (as `postgres` when we are root), failing with its output.
    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let exe = self.bin.join(program);
        let mut cmd = if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd
            .args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
        if !out.status.success() {
            let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            return Err(format!(
                "{program} failed ({}): {} {} {}",
                out.status,
                String::from_utf8_lossy(&out.stdout).trim(),
                String::from_utf8_lossy(&out.stderr).trim(),
                log.lines().rev().take(5).collect::<Vec<_>>().join(" | ")
            ));
        }
        Ok(())
    }

    /// A shell that waits for this process to end, then stops the server and deletes the
    /// directory: statics are never dropped, so the cluster cannot stop itself.
    fn spawn_watcher(&self) -> Result<(), String> {
        let pg_ctl = self.bin.join("pg_ctl");
        let stop = format!(
            "{}'{}' -D '{}' -m immediate stop",
            if self.as_postgres_user {
                "runuser -u postgres -- "
            } else {
                ""
            },
            pg_ctl.display(),
            self.data_dir().display()
        );
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            dir = self.dir.display()
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start the cluster watcher: {e}"))?;
        Ok(())
    }

    /// A URL for `database` over the unix socket (the path percent-encoded as the host).
    pub fn url(&self, database: &str) -> String {
        let socket: String = self
            .socket_dir()
            .to_string_lossy()
            .chars()
            .map(|c| match c {
                '/' => "%2F".to_string(),
                c => c.to_string(),
            })
            .collect();
        format!("postgres://postgres@{socket}:{PORT}/{database}")
    }

    /// Creates a new empty database and returns its URL.
    pub fn create_database(&self) -> Result<String, String> {
        let n = self.databases.fetch_add(1, Ordering::SeqCst);
        let name = format!("rampart_test_{n}");
        let admin = self.url("postgres");
        let mut client = postgres::Client::connect(&admin, postgres::NoTls)
            .map_err(|e| format!("cannot connect to the test cluster at {admin}: {e}"))?;
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(|e| format!("cannot create database {name}: {e}"))?;
        Ok(self.url(&name))
    }

    /// The cluster's directory (data, log, socket).
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data_dir();
        let _ = self.run(
            "pg_ctl",
            &["-D", &data.to_string_lossy(), "-m", "fast", "stop"],
        );
    }
}
