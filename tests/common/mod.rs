//! Shared helpers for the integration tests: which stores to run on, and
//! unique names so tests can share one server.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

/// The MongoDB test server. Tests that need it fail (never skip) when it is
/// missing: `scripts/test.sh` starts one and sets the variable.
pub fn mongodb_uri() -> String {
    std::env::var("YAMLETT_TEST_MONGODB_URI").unwrap_or_else(|_| {
        panic!("YAMLETT_TEST_MONGODB_URI is not set: run the suite with scripts/test.sh, or point it at a MongoDB server")
    })
}

/// A fresh embedded store directory, removed when dropped.
pub fn local_store() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("yamlett-test-")
        .tempdir()
        .expect("temp dir")
}

/// A name no other test (or earlier run of this one) uses.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    )
}

/// The store at `uri`, in a database of its own on MongoDB (unchanged for
/// an embedded store), for tests that look at the whole store, such as
/// garbage collection with no minimum age, which would otherwise take the
/// artifacts other tests are writing at that moment.
pub fn own_database(uri: &str) -> String {
    match uri.split_once("/?") {
        Some((server, options)) if uri.starts_with("mongodb://") => {
            format!("{server}/{}?{options}", unique("db"))
        }
        _ => uri.to_owned(),
    }
}

/// Runs a test body once per store: `on_both_stores!(name, |uri| { ... });`
/// defines `name::mongodb` and `name::local`, so a failure says which store.
#[macro_export]
macro_rules! on_both_stores {
    ($name:ident, |$uri:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn body($uri: &str) -> anyhow::Result<()> $body

            #[test]
            fn mongodb() -> anyhow::Result<()> {
                body(&$crate::common::mongodb_uri())
            }

            #[test]
            fn local() -> anyhow::Result<()> {
                let dir = $crate::common::local_store();
                body(dir.path().to_str().expect("utf-8 temp path"))
            }
        }
    };
}

/// A MongoDB-wire test server of the test's own (for auth, TLS and outage
/// tests), killed when dropped. Uses the binary `scripts/test.sh` installed
/// (`YAMLETT_TEST_SERVER_BIN`), else `secantusd-py` from PATH.
pub struct TestServer {
    child: std::process::Child,
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
}

impl TestServer {
    /// Starts a server keeping its data in `storage` (a directory, so a
    /// restart on the same directory keeps users and data), with extra flags.
    pub fn start(storage: &std::path::Path, flags: &[&str]) -> TestServer {
        let port = free_port();
        TestServer::start_on(port, storage, flags)
    }

    /// Like [`TestServer::start`], on a given port (to restart a stopped server).
    pub fn start_on(port: u16, storage: &std::path::Path, flags: &[&str]) -> TestServer {
        let bin =
            std::env::var("YAMLETT_TEST_SERVER_BIN").unwrap_or_else(|_| "secantusd-py".to_owned());
        let child = std::process::Command::new(&bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--log-level", "WARNING"])
            .arg("--storage-path")
            .arg(storage)
            .args(flags)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start the test server {bin:?} ({err}); run the suite with scripts/test.sh"));
        let mut server = TestServer { child, port };
        server.wait_until_listening();
        server
    }

    fn wait_until_listening(&mut self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the test server exited early: {status}");
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the test server did not listen within 60 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Stops the server the way an operator would (SIGTERM, so it flushes
    /// its storage), and waits for it to exit.
    pub fn stop(mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        self.kill();
    }

    /// Kills the server at once (SIGKILL): a crash, not a shutdown.
    pub fn crash(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A TCP port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Points the outage journal (`YAMLETT_JOURNAL_DIR`) at a directory of this
/// test process's own, and the flush timeout at `flush_timeout_ms`, before
/// any store opens; returns the journal directory. Every test of a binary
/// must ask for the same timeout (the environment is process-wide).
#[allow(dead_code)]
pub fn outage_settings(flush_timeout_ms: u64) -> std::path::PathBuf {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let dir = DIR.get_or_init(|| tempfile::tempdir().expect("journal dir"));
    std::env::set_var(yamlett::JOURNAL_DIR_ENV, dir.path());
    std::env::set_var(yamlett::FLUSH_TIMEOUT_ENV, flush_timeout_ms.to_string());
    dir.path().to_path_buf()
}

/// A port free on 127.0.0.1 now, outside the kernel's ephemeral range
/// (32768-60999 on Linux), for a server that will be stopped and started
/// again on it: [`free_port`] hands out ephemeral ports, so another test's
/// server could take this one while it is down.
#[allow(dead_code)]
pub fn restartable_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    // Spread over the range by process id, then walk it.
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 20_000 + (std::process::id() % 5_000) as u16;
    loop {
        let offset = NEXT.fetch_add(7, Ordering::Relaxed) % 10_000;
        let port = 20_000 + (base - 20_000 + offset) % 10_000;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A run's document, read straight from the MongoDB server at `uri`
/// (database `yamlett`), for outage tests that check what landed.
pub fn stored(uri: &str, experiment: &str, id: &str) -> yamlett::bson::Document {
    use yamlett::bson::{doc, Document};
    let client = yamlett::mongodb::sync::Client::with_uri_str(uri).unwrap();
    client
        .database("yamlett")
        .collection::<Document>(experiment)
        .find_one(doc! { "_id": id })
        .run()
        .unwrap()
        .unwrap_or_else(|| panic!("run {id} is not on the server"))
}

/// Asserts that `metrics.loss` holds 0..n: every value, once, in order.
pub fn assert_losses(doc: &yamlett::bson::Document, n: i64) {
    let losses: Vec<i64> = doc
        .get_document("metrics")
        .unwrap()
        .get_array("loss")
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(losses.len() as i64, n, "every value, once");
    assert!(
        losses.iter().copied().eq(0..n),
        "in order: first differences at {:?}",
        losses.iter().enumerate().find(|(i, v)| **v != *i as i64)
    );
}
