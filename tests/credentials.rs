//! Credentials and transport: SCRAM-SHA-256 against a server started with
//! `--auth`, TLS with a throwaway CA, and passwords that never leak into
//! Debug, Display, errors or logs.

mod common;

use std::sync::Mutex;

use bson::doc;
use common::{unique, TestServer};
use yamlett::{Error, Experiment, Run};

const PASSWORD: &str = "Tr0ub4dor-3-yamlett-secret";

/// Every log line any test in this binary produces.
static LOGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct CapturingLogger;

impl log::Log for CapturingLogger {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        LOGS.lock()
            .unwrap()
            .push(format!("{} {}", record.target(), record.args()));
    }
    fn flush(&self) {}
}

fn capture_logs() {
    static LOGGER: CapturingLogger = CapturingLogger;
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Trace);
}

/// A server with `--auth` and one user, `alice`, whose password is [`PASSWORD`].
fn server_with_user(storage: &std::path::Path) -> TestServer {
    // Restarted on the same port: one no other test's server can take.
    let setup = TestServer::start_on(common::restartable_port(), storage, &[]);
    let client =
        mongodb::sync::Client::with_uri_str(format!("mongodb://127.0.0.1:{}", setup.port)).unwrap();
    client
        .database("admin")
        .run_command(doc! { "createUser": "alice", "pwd": PASSWORD, "roles": ["root"] })
        .run()
        .unwrap();
    let port = setup.port;
    setup.stop();
    TestServer::start_on(port, storage, &["--auth"])
}

fn assert_no_password(text: &str) {
    assert!(!text.contains(PASSWORD), "the password leaked into: {text}");
}

#[test]
fn scram_authentication_works_and_wrong_passwords_are_clear_errors() -> anyhow::Result<()> {
    capture_logs();
    let journal = common::outage_settings(1000);
    let storage = tempfile::tempdir()?;
    let server = server_with_user(storage.path());
    let uri = format!(
        "mongodb://alice:{PASSWORD}@127.0.0.1:{}/?authSource=admin&authMechanism=SCRAM-SHA-256",
        server.port
    );
    let experiment = unique("auth");

    let run = Run::builder().uri(&uri).experiment(&experiment).open()?;
    {
        let _guard = run.enter();
        run.store("params.lr", 0.1)?;
        run.push("loss", 0.5)?;
    }
    let runs = Experiment::builder().uri(&uri).name(&experiment).open()?;
    assert_eq!(runs.count(doc! { "params.lr": 0.1 })?, 1);
    assert_no_password(&format!("{run:?} {runs:?} {:?}", Run::builder().uri(&uri)));
    assert_no_password(&format!("{:?}", Experiment::builder().uri(&uri)));
    // A server-side error on an authenticated store.
    let err = runs.find(doc! { "x": { "$bogus": 1 } }).unwrap_err();
    assert_no_password(&format!("{err} {err:#} {err:?}"));

    // A wrong password: a typed authentication error, with no secret in it.
    let wrong = format!(
        "mongodb://alice:not-{PASSWORD}@127.0.0.1:{}/?authSource=admin",
        server.port
    );
    let err = Run::builder()
        .uri(&wrong)
        .experiment(&experiment)
        .open()
        .unwrap_err();
    assert!(
        matches!(
            err.downcast_ref::<Error>(),
            Some(Error::Authentication { .. })
        ),
        "{err:#}"
    );
    assert!(format!("{err}").contains("authentication"), "{err}");
    assert_no_password(&format!("{err} {err:#} {err:?}"));

    // No credentials at all: refused too.
    let anonymous = format!("mongodb://127.0.0.1:{}/", server.port);
    let err = Experiment::builder()
        .uri(&anonymous)
        .name(&experiment)
        .open()?
        .count(doc! {})
        .unwrap_err();
    assert!(
        matches!(
            err.downcast_ref::<Error>(),
            Some(Error::Authentication { .. })
        ),
        "{err:#}"
    );

    // A flush that cannot reach the server goes to the journal with a
    // warning; neither names the password.
    let guard = run.enter();
    run.store("params.after_outage", 1)?;
    server.stop();
    drop(guard);
    let logs = LOGS.lock().unwrap().join("\n");
    assert!(
        logs.contains("is unreachable") && logs.contains("journal"),
        "expected a warning, got: {logs}"
    );
    assert_no_password(&logs);
    let mut on_disk = Vec::new();
    for entry in std::fs::read_dir(&journal)? {
        on_disk.extend(std::fs::read(entry?.path())?);
    }
    assert!(
        on_disk
            .windows(b"params.after_outage".len())
            .any(|w| w == b"params.after_outage"),
        "the write is in the journal"
    );
    assert_no_password(&String::from_utf8_lossy(&on_disk));
    Ok(())
}

#[test]
fn tls_with_a_throwaway_ca() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let ca_key = rcgen::KeyPair::generate()?;
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "yamlett test CA");
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let server_key = rcgen::KeyPair::generate()?;
    let server_params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    let server_cert = server_params.signed_by(&server_key, &issuer)?;
    let ca_file = dir.path().join("ca.pem");
    let cert_file = dir.path().join("server.pem");
    let key_file = dir.path().join("server.key");
    std::fs::write(&ca_file, ca_cert.pem())?;
    std::fs::write(&cert_file, server_cert.pem())?;
    std::fs::write(&key_file, server_key.serialize_pem())?;

    let storage = dir.path().join("data");
    let server = TestServer::start(
        &storage,
        &[
            "--tls-cert-file",
            cert_file.to_str().unwrap(),
            "--tls-key-file",
            key_file.to_str().unwrap(),
            "--tls-ca-file",
            ca_file.to_str().unwrap(),
        ],
    );
    let uri = format!(
        "mongodb://localhost:{}/?tls=true&tlsCAFile={}",
        server.port,
        ca_file.display()
    );
    let run = Run::builder().uri(&uri).experiment(unique("tls")).open()?;
    run.store("metrics.acc", 0.9)?;
    assert_eq!(run.data()?.get_document("metrics")?.get_f64("acc")?, 0.9);

    // Without the CA the certificate is not trusted: the store is unreachable.
    let untrusted = format!(
        "mongodb://localhost:{}/?tls=true&serverSelectionTimeoutMS=2000",
        server.port
    );
    let err = Run::builder()
        .uri(&untrusted)
        .experiment(unique("tls"))
        .open()
        .unwrap_err();
    assert!(
        matches!(err.downcast_ref::<Error>(), Some(Error::Unreachable { .. })),
        "{err:#}"
    );
    Ok(())
}
