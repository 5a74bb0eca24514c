//! Shared by the dashboard's tests and benchmark: a `yamlett ui` process on
//! a free port, a raw HTTP GET (so tests choose the `Host` header), and the
//! runs the tests look at.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use headless_chrome::{Browser, LaunchOptions};

use yamlett::bson::doc;
use yamlett::Run;

/// A `yamlett ui` process, killed when dropped.
pub struct Dashboard {
    child: Child,
    /// The port it serves on, on 127.0.0.1.
    pub port: u16,
    /// Where its stderr goes, to check what it logs.
    pub stderr: PathBuf,
    _dir: tempfile::TempDir,
}

impl Dashboard {
    /// Starts `yamlett ui --uri <uri> --port 0` and waits for its URL line.
    pub fn start(uri: &str) -> Dashboard {
        let dir = tempfile::tempdir().expect("temp dir");
        let stderr = dir.path().join("stderr");
        let mut child = Command::new(env!("CARGO_BIN_EXE_yamlett"))
            .args(["ui", "--uri", uri, "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .expect("start yamlett ui");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the URL line");
        let port = line
            .trim()
            .strip_prefix("yamlett ui: serving http://127.0.0.1:")
            .and_then(|rest| rest.trim_end_matches('/').parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "no URL line from yamlett ui: {line:?} (stderr: {:?})",
                    std::fs::read_to_string(&stderr)
                )
            });
        Dashboard {
            child,
            port,
            stderr,
            _dir: dir,
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// GET `path` with the right `Host` header.
    pub fn get(&self, path: &str) -> Response {
        http(self.port, "GET", path, &format!("127.0.0.1:{}", self.port))
    }

    /// GET an API path and parse its JSON body.
    pub fn json(&self, path: &str) -> (u16, serde_json::Value) {
        let response = self.get(path);
        let value = serde_json::from_str(&response.body)
            .unwrap_or_else(|err| panic!("{path}: not JSON ({err}): {}", response.body));
        (response.status, value)
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

/// One HTTP/1.1 request on its own connection, with the given `Host`.
pub fn http(port: u16, method: &str, path: &str, host: &str) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        unchunk(body)
    } else {
        body.to_string()
    };
    Response {
        status,
        headers: head.to_string(),
        body,
    }
}

fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// The text a parameter holds in the injection tests.
pub const SCRIPT: &str = "<script>window.__pwned = 1</script>";
pub const IMG: &str = "<img src=x onerror=\"window.__pwned = 2\">";

/// Three runs in `experiment`: `alpha` (finished, a 500-step pushed loss,
/// a 5,000-point logged series `metrics.acc` with a dip and NaNs, an
/// artifact), `beta` (finished, a loss that goes NaN) and `evil` (running,
/// parameters holding markup).
pub fn seed(uri: &str, experiment: &str) -> anyhow::Result<()> {
    let open = |id: &str| Run::builder().uri(uri).experiment(experiment).id(id).open();
    let alpha = open("alpha")?;
    {
        let _guard = alpha.enter();
        alpha.store("params", doc! { "lr": 0.1, "kind": "sgd", "layers": 2 })?;
        alpha.store("metrics.f1", 0.9)?;
        for step in 0..500 {
            alpha.push(
                "metrics.loss",
                1.0 / (1.0 + step as f64) + if step == 250 { 5.0 } else { 0.0 },
            )?;
        }
        alpha.store_artifact("model", &vec![0.5_f32, -1.25, 3.0])?;
    }
    {
        let _guard = alpha.enter();
        for step in 0..5000 {
            let value = match step {
                1234 => -7.0,
                4000..=4099 => f64::NAN,
                _ => (step as f64 * 0.01).sin(),
            };
            alpha.log("metrics.acc", value)?;
        }
    }
    alpha.finish()?;
    let beta = open("beta")?;
    {
        let _guard = beta.enter();
        beta.store("params", doc! { "lr": 0.01, "kind": "sgd", "layers": 3 })?;
        beta.store("metrics.f1", 0.7)?;
        for step in 0..300 {
            beta.push(
                "metrics.loss",
                if step >= 200 {
                    f64::NAN
                } else {
                    2.0 - step as f64 * 0.005
                },
            )?;
        }
    }
    beta.finish()?;
    let evil = open("evil")?;
    {
        let _guard = evil.enter();
        evil.store(
            "params",
            doc! { "lr": 0.5, "kind": SCRIPT, "layers": 1, "note": IMG },
        )?;
        evil.store("metrics.f1", 0.1)?;
    }
    // Left running: the handle is never dropped, so it never finishes.
    std::mem::forget(evil);
    Ok(())
}

/// Percent-encodes a query parameter value.
pub fn q(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `target/`, for screenshots.
pub fn target_dir() -> &'static Path {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp has a parent")
}

/// The system's Chromium; a clear failure when it is not installed.
pub fn chromium() -> PathBuf {
    for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if std::path::Path::new(path).exists() {
            return PathBuf::from(path);
        }
    }
    panic!("Chromium is not installed: run `apt-get install -y chromium` (scripts/test.sh does)");
}

/// A headless Chromium with a fresh profile, its flags as root needs them,
/// and nothing that reaches the network on its own.
pub fn browser(profile: &tempfile::TempDir) -> Browser {
    let args: Vec<&OsStr> = [
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    .iter()
    .map(OsStr::new)
    .collect();
    let options = LaunchOptions::default_builder()
        .path(Some(chromium()))
        .headless(true)
        .sandbox(false)
        .window_size(Some((1400, 1000)))
        .user_data_dir(Some(profile.path().to_path_buf()))
        .args(args)
        .idle_browser_timeout(Duration::from_secs(120))
        .build()
        .expect("launch options");
    Browser::new(options).expect("start Chromium")
}
