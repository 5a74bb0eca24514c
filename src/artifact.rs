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
