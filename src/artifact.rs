//! Artifacts: values too big or too opaque for the run document (models,
//! tokenizers, arrays), serialized with bincode and kept by the store, with a
//! small reference in the run document.
//!
//! The reference records the codec, the size and the sha256 of the bytes, so
//! a load can prove it got back exactly what was stored, whichever store and
//! machine it comes from.

use bson::{doc, Bson, Document};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::store::Store;
use crate::Error;

/// Loads the artifact a run document references under `key`, as a `T`,
/// from `store`, checking its size and sha256.
pub(crate) fn load<T: DeserializeOwned>(
    store: &dyn Store,
    run: &Document,
    key: &str,
) -> anyhow::Result<T> {
    let reference = parse_reference(key, yamlett_query::advanced::get_path(run, key))?;
    let bytes =
        store
            .get_artifact(&reference.location)
            .map_err(|err| match err.downcast::<Error>() {
                Ok(Error::Artifact { reason, .. }) => Error::Artifact {
                    key: key.to_owned(),
                    reason,
                }
                .into(),
                Ok(other) => other.into(),
                Err(err) => err,
            })?;
    Ok(decode(key, &reference, &bytes)?)
}

/// An artifact a run references: what `yamlett show` lists, and what
/// deleting or copying a run carries along.
///
/// ```
/// # std::env::set_var("YAMLETT_URI", std::env::temp_dir().join("yamlett-doc-artifact-list"));
/// use yamlett::{Artifact, Run};
/// let run = Run::builder().experiment("doc-artifacts").open()?;
/// run.store_artifact("model.weights", &vec![1.0_f32, 2.0])?;
/// let artifacts = Artifact::of_run(&run.data()?);
/// assert_eq!(artifacts.len(), 1);
/// assert_eq!(artifacts[0].key, "model.weights");
/// assert_eq!(artifacts[0].codec, "bincode-2-serde");
/// assert_eq!(artifacts[0].sha256.len(), 64);
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Artifact {
    /// The dotted key the reference is stored under.
    pub key: String,
    /// How the bytes were serialized (`bincode-2-serde`).
    pub codec: String,
    /// The size of the stored bytes.
    pub size: u64,
    /// The hex SHA-256 of the stored bytes.
    pub sha256: String,
}

impl Artifact {
    /// Every artifact referenced by the run document `run`, in document
    /// order.
    pub fn of_run(run: &Document) -> Vec<Artifact> {
        references(run)
            .into_iter()
            .map(|(key, reference)| Artifact {
                key,
                codec: reference.get_str("codec").unwrap_or_default().to_owned(),
                size: match reference.get("size") {
                    Some(Bson::Int64(n)) => u64::try_from(*n).unwrap_or(0),
                    Some(Bson::Int32(n)) => u64::try_from(*n).unwrap_or(0),
                    _ => 0,
                },
                sha256: reference.get_str("sha256").unwrap_or_default().to_owned(),
            })
            .collect()
    }
}

/// Every artifact reference inside `run`, with its dotted key: a document
/// holding a string `codec`, a string `sha256` and a `location` (what
/// [`reference`] writes). Arrays are not searched: an artifact key is a
/// dotted path of field names.
pub(crate) fn references(run: &Document) -> Vec<(String, &Document)> {
    fn walk<'a>(prefix: &str, doc: &'a Document, out: &mut Vec<(String, &'a Document)>) {
        for (name, value) in doc {
            let Bson::Document(inner) = value else {
                continue;
            };
            let key = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            if is_reference(inner) {
                out.push((key, inner));
            } else {
                walk(&key, inner, out);
            }
        }
    }
    let mut out = Vec::new();
    walk("", run, &mut out);
    out
}

/// Whether a sub-document is an artifact reference.
fn is_reference(doc: &Document) -> bool {
    matches!(doc.get("codec"), Some(Bson::String(_)))
        && matches!(doc.get("sha256"), Some(Bson::String(_)))
        && doc.contains_key("location")
}

/// The store locations of every artifact `run` references.
pub(crate) fn locations(run: &Document) -> Vec<Bson> {
    references(run)
        .into_iter()
        .filter_map(|(_, reference)| reference.get("location").cloned())
        .collect()
}

/// The codec name written into references; a later format gets a new name
/// so old artifacts stay readable.
const CODEC: &str = "bincode-2-serde";

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Serializes an artifact.
pub(crate) fn encode<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<Vec<u8>, Error> {
    bincode::serde::encode_to_vec(value, config()).map_err(|err| Error::InvalidValue {
        key: key.to_owned(),
        reason: format!("cannot serialize the artifact with bincode: {err}"),
    })
}

/// The hex sha256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// The reference stored in the run document in place of the bytes.
pub(crate) fn reference(bytes: &[u8], sha256: String, location: Bson) -> Document {
    doc! {
        "codec": CODEC,
        "size": i64::try_from(bytes.len()).unwrap_or(i64::MAX),
        "sha256": sha256,
        "location": location,
    }
}

/// A reference read back from a run document.
pub(crate) struct Reference {
    pub(crate) sha256: String,
    pub(crate) location: Bson,
}

/// Reads the reference stored at `key`.
pub(crate) fn parse_reference(key: &str, value: Option<&Bson>) -> Result<Reference, Error> {
    let not_artifact = |reason: &str| Error::Artifact {
        key: key.to_owned(),
        reason: reason.to_owned(),
    };
    let Some(value) = value else {
        return Err(Error::NotFound {
            what: format!("artifact {key:?}"),
        });
    };
    let Bson::Document(reference) = value else {
        return Err(not_artifact(
            "the value stored at this key is not an artifact reference",
        ));
    };
    match reference.get_str("codec") {
        Ok(CODEC) => {}
        Ok(other) => return Err(not_artifact(&format!("unknown artifact codec {other:?}"))),
        Err(_) => {
            return Err(not_artifact(
                "the value stored at this key is not an artifact reference",
            ))
        }
    }
    let sha256 = reference
        .get_str("sha256")
        .map_err(|_| not_artifact("the reference has no sha256"))?
        .to_owned();
    let location = reference
        .get("location")
        .cloned()
        .ok_or_else(|| not_artifact("the reference has no location"))?;
    Ok(Reference { sha256, location })
}

/// Checks the bytes against the reference and deserializes them.
pub(crate) fn decode<T: DeserializeOwned>(
    key: &str,
    reference: &Reference,
    bytes: &[u8],
) -> Result<T, Error> {
    let actual = sha256_hex(bytes);
    if actual != reference.sha256 {
        return Err(Error::Artifact {
            key: key.to_owned(),
            reason: format!(
                "checksum mismatch: stored {}, read {actual}",
                reference.sha256
            ),
        });
    }
    let (value, read) =
        bincode::serde::decode_from_slice(bytes, config()).map_err(|err| Error::Artifact {
            key: key.to_owned(),
            reason: format!(
                "cannot deserialize into {}: {err}",
                std::any::type_name::<T>()
            ),
        })?;
    if read != bytes.len() {
        return Err(Error::Artifact {
            key: key.to_owned(),
            reason: format!(
                "cannot deserialize into {}: {} trailing bytes (was it stored as another type?)",
                std::any::type_name::<T>(),
                bytes.len() - read
            ),
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_checksum() {
        let weights = vec![0.5_f32, -1.25, 3.0];
        let bytes = encode("w", &weights).unwrap();
        let sha = sha256_hex(&bytes);
        let doc = reference(&bytes, sha, Bson::Null);
        let parsed = parse_reference("w", Some(&Bson::Document(doc))).unwrap();
        assert_eq!(decode::<Vec<f32>>("w", &parsed, &bytes).unwrap(), weights);
        let mut corrupt = bytes.clone();
        corrupt[1] ^= 0xff;
        assert!(matches!(
            decode::<Vec<f32>>("w", &parsed, &corrupt),
            Err(Error::Artifact { .. })
        ));
    }

    #[test]
    fn wrong_type_is_an_artifact_error() {
        let bytes = encode("w", &(1_u8, 2_u8, 3_u8)).unwrap();
        let parsed = Reference {
            sha256: sha256_hex(&bytes),
            location: Bson::Null,
        };
        assert!(matches!(
            decode::<u8>("w", &parsed, &bytes),
            Err(Error::Artifact { .. })
        ));
        assert!(matches!(
            decode::<String>("w", &parsed, &bytes),
            Err(Error::Artifact { .. })
        ));
    }

    #[test]
    fn sha256_of_empty_input() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
