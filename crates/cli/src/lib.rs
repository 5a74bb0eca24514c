//! The pieces of the `yamlett` command that other front ends reuse (the
//! dashboard among them): reading MongoDB documents people type on a
//! command line, and flattening runs into dotted keys for tables and CSV.
//!
//! ```
//! use yamlett_cli::{json, keys};
//! let run = json::parse_document("RUN", r#"{"_id": "a", "metrics": {"f1": 0.9, "loss": [1, 0.5]}}"#)?;
//! let flat: Vec<(String, String)> = keys::flatten(&run)
//!     .into_iter()
//!     .map(|(key, value)| (key, keys::cell(value)))
//!     .collect();
//! assert_eq!(flat[1], ("metrics.f1".to_string(), "0.9".to_string()));
//! assert_eq!(flat[2], ("metrics.loss".to_string(), "[1,0.5]".to_string()));
//! # Ok::<(), json::UsageError>(())
//! ```
#![warn(missing_docs)]

pub mod json;
pub mod keys;
