//! The errors a caller may want to react to.
//!
//! Every fallible call returns [`anyhow::Result`]; the error inside is a
//! [`yamlett::Error`](Error) whenever the cause is one of these kinds, so
//! callers can branch with `err.downcast_ref::<yamlett::Error>()`.

use std::fmt;

use yamlett_query::QueryError;

/// What went wrong, in a form a program can match on.
///
/// No variant ever holds a credential: store locations are always shown with
/// the password replaced by `***`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A dotted key that cannot name a field: empty, an empty segment, a
    /// segment starting with `$`, a NUL byte, `_id`, or under `_yamlett`.
    InvalidKey {
        /// The key as given.
        key: String,
        /// Why it was refused.
        reason: String,
    },
    /// A value that cannot be stored as BSON (an unsigned integer above
    /// `i64::MAX`, a map with non-string keys, a nested field name with `.`
    /// or a leading `$`, …).
    InvalidValue {
        /// The key the value was stored under (with the nested path, if the
        /// problem is inside the value).
        key: String,
        /// Why it was refused.
        reason: String,
    },
    /// An experiment name or run id that the store cannot hold.
    InvalidName {
        /// The name as given.
        name: String,
        /// Why it was refused.
        reason: String,
    },
    /// A write that contradicts what is already stored, such as storing
    /// `a.b` where `a` holds a number, or pushing to a non-array.
    Conflict {
        /// The key of the refused write.
        key: String,
        /// The store's explanation.
        reason: String,
    },
    /// A filter, projection, sort, update or pipeline the query engine or
    /// server refuses.
    InvalidQuery(QueryError),
    /// The run document would exceed the 16 MiB BSON limit.
    DocumentTooLarge {
        /// The key whose write would have made it too large.
        key: String,
        /// The size the document would have had, in bytes.
        size: usize,
    },
    /// A run or artifact that does not exist.
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// An artifact that cannot be read back: wrong type, corrupt bytes or a
    /// checksum mismatch.
    Artifact {
        /// The artifact's key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The store cannot be reached (server down, timeout, network).
    Unreachable {
        /// The store's location, credentials redacted.
        store: String,
        /// The underlying cause.
        reason: String,
    },
    /// The store refused the credentials.
    Authentication {
        /// The store's location, credentials redacted.
        store: String,
        /// The store's explanation.
        reason: String,
    },
    /// A bad `YAMLETT_URI` or builder setting.
    Config {
        /// What is wrong.
        reason: String,
    },
    /// Any other failure reported by the store.
    Store {
        /// The store's location, credentials redacted.
        store: String,
        /// The store's message.
        message: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidKey { key, reason } => write!(f, "invalid key {key:?}: {reason}"),
            Error::InvalidValue { key, reason } => {
                write!(f, "invalid value for key {key:?}: {reason}")
            }
            Error::InvalidName { name, reason } => write!(f, "invalid name {name:?}: {reason}"),
            Error::Conflict { key, reason } => write!(f, "cannot write {key:?}: {reason}"),
            Error::InvalidQuery(err) => write!(f, "invalid query: {err}"),
            Error::DocumentTooLarge { key, size } => write!(
                f,
                "storing {key:?} would make the run document {size} bytes, over the 16 MiB BSON limit; store large values as artifacts (`store_artifact`), and log a metric step by step with `log`, not `push` (its points live outside the run document)"
            ),
            Error::NotFound { what } => write!(f, "{what} not found"),
            Error::Artifact { key, reason } => write!(f, "artifact {key:?}: {reason}"),
            Error::Unreachable { store, reason } => {
                write!(f, "store {store} is unreachable: {reason}")
            }
            Error::Authentication { store, reason } => {
                write!(f, "authentication to {store} failed: {reason}")
            }
            Error::Config { reason } => write!(f, "configuration: {reason}"),
            Error::Store { store, message } => write!(f, "store {store}: {message}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::InvalidQuery(err) => Some(err),
            _ => None,
        }
    }
}

impl From<QueryError> for Error {
    fn from(err: QueryError) -> Self {
        Error::InvalidQuery(err)
    }
}
