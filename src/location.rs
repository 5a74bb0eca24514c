//! Which store a process talks to: `YAMLETT_URI`, or a builder's `.uri()`.
//!
//! `mongodb://` and `mongodb+srv://` URIs select the MongoDB store; anything
//! else is the directory of an embedded store, `./.yamlett` when unset. The
//! URI may hold a password, so this is the one place that sees it whole:
//! everything shown to people goes through [`Location::redacted`].

use std::fmt;
use std::path::{Path, PathBuf};

use crate::Error;

/// The environment variable that chooses the default store.
pub const URI_ENV: &str = "YAMLETT_URI";

/// The embedded store's directory when `YAMLETT_URI` is unset.
pub const DEFAULT_LOCAL_DIR: &str = ".yamlett";

/// A parsed store location. Its `Debug` never shows a password.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) enum Location {
    /// A MongoDB deployment.
    MongoDb {
        /// The URI as given, credentials included: handed to the driver only.
        uri: String,
        /// The URI with its password and secret options replaced by `***`.
        redacted: String,
    },
    /// An embedded store in a directory (absolute, so two spellings of one
    /// directory share one store).
    Local {
        /// The store directory.
        dir: PathBuf,
    },
}

impl Location {
    /// The location named by `YAMLETT_URI`, or the default local store.
    pub(crate) fn from_env() -> Result<Location, Error> {
        match std::env::var(URI_ENV) {
            Ok(uri) => Location::parse(&uri),
            Err(std::env::VarError::NotPresent) => Location::local(Path::new(DEFAULT_LOCAL_DIR)),
            Err(std::env::VarError::NotUnicode(_)) => Err(Error::Config {
                reason: format!("{URI_ENV} is not valid UTF-8"),
            }),
        }
    }

    /// Parses a URI or a local directory path.
    pub(crate) fn parse(uri: &str) -> Result<Location, Error> {
        let trimmed = uri.trim();
        if trimmed.is_empty() {
            return Err(Error::Config {
                reason: format!(
                    "the store URI is empty; set {URI_ENV} to a mongodb:// URI or a directory, or unset it for ./{DEFAULT_LOCAL_DIR}"
                ),
            });
        }
        if trimmed.starts_with("mongodb://") || trimmed.starts_with("mongodb+srv://") {
            return Ok(Location::MongoDb {
                uri: trimmed.to_owned(),
                redacted: redact(trimmed),
            });
        }
        if let Some(scheme_end) = trimmed.find("://") {
            let scheme = &trimmed[..scheme_end];
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            {
                return Err(Error::Config {
                    reason: format!(
                        "unsupported store URI scheme {scheme:?}: use mongodb://, mongodb+srv:// or a directory path"
                    ),
                });
            }
        }
        if trimmed.contains('\0') {
            return Err(Error::Config {
                reason: "a store directory path cannot contain a NUL byte".to_owned(),
            });
        }
        Location::local(Path::new(trimmed))
    }

    fn local(dir: &Path) -> Result<Location, Error> {
        let dir = if dir.is_absolute() {
            dir.to_path_buf()
        } else {
            std::env::current_dir()
                .map_err(|err| Error::Config {
                    reason: format!(
                        "cannot resolve the store directory {}: {err}",
                        dir.display()
                    ),
                })?
                .join(dir)
        };
        Ok(Location::Local { dir })
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::MongoDb { redacted, .. } => f.debug_tuple("MongoDb").field(redacted).finish(),
            Location::Local { dir } => f.debug_tuple("Local").field(dir).finish(),
        }
    }
}

/// Query options whose values are secrets.
fn is_secret_option(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["password", "secret", "token", "authmechanismproperties"]
        .iter()
        .any(|word| name.contains(word))
}

/// Replaces the password of a `mongodb://user:password@host` URI, and the
/// values of secret query options, with `***`.
pub(crate) fn redact(uri: &str) -> String {
    let Some(scheme_end) = uri.find("://") else {
        return uri.to_owned();
    };
    let (scheme, rest) = uri.split_at(scheme_end + 3);
    // The authority ends at the first '/' or '?'; user info ends at its last '@'.
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let (user_info, hosts) = authority.split_at(at);
            match user_info.find(':') {
                Some(colon) => format!("{}:***{hosts}", &user_info[..colon]),
                None => authority.to_owned(),
            }
        }
        None => authority.to_owned(),
    };
    let tail = match tail.find('?') {
        Some(q) => {
            let (path, query) = tail.split_at(q + 1);
            let options: Vec<String> = query
                .split('&')
                .map(|option| match option.split_once('=') {
                    Some((name, _)) if is_secret_option(name) => format!("{name}=***"),
                    _ => option.to_owned(),
                })
                .collect();
            format!("{path}{}", options.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("mongodb://alice:s3cr%40t@db1:27017,db2/ml?authSource=admin"),
            "mongodb://alice:***@db1:27017,db2/ml?authSource=admin"
        );
        assert_eq!(
            redact("mongodb+srv://bob:p@ss@cluster0.example.net/?tlsCertificateKeyFilePassword=hunter2&w=1"),
            "mongodb+srv://bob:***@cluster0.example.net/?tlsCertificateKeyFilePassword=***&w=1"
        );
        assert_eq!(redact("mongodb://localhost"), "mongodb://localhost");
        assert_eq!(
            redact("mongodb://carol@localhost"),
            "mongodb://carol@localhost"
        );
    }

    #[test]
    fn debug_never_shows_the_password() {
        let location = Location::parse("mongodb://u:topsecret@h/db").unwrap();
        assert!(!format!("{location:?}").contains("topsecret"));
        match location {
            Location::MongoDb { redacted, .. } => assert!(!redacted.contains("topsecret")),
            Location::Local { .. } => unreachable!(),
        }
    }

    #[test]
    fn other_schemes_are_refused_and_paths_are_local() {
        assert!(matches!(
            Location::parse("http://x"),
            Err(Error::Config { .. })
        ));
        assert!(matches!(Location::parse("  "), Err(Error::Config { .. })));
        match Location::parse("runs/store").unwrap() {
            Location::Local { dir } => assert!(dir.is_absolute() && dir.ends_with("runs/store")),
            other => panic!("{other:?}"),
        }
    }
}
