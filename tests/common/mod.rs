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
