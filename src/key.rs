//! What may be stored, and under which keys.
//!
//! A key is a dotted path (`params.model.C`) naming where a value goes in the
//! run document. Keys and values are checked here, before anything is
//! buffered or sent, so that bad input is refused with a typed error and the
//! stored run never changes because of it.

use std::borrow::Cow;

use bson::{Bson, RawBsonRef, RawDocument, RawDocumentBuf};
use serde::Serialize;

use crate::depth::serializer;
use crate::Error;
use yamlett_query::depth::value_nests_beyond;

/// The field under which yamlett keeps a run's own metadata.
pub(crate) const METADATA_FIELD: &str = "_yamlett";

/// The metadata field holding each writer's last write number (see the
/// run's `Stamp`): machinery that makes writes exactly-once, stored and
/// queryable, but kept out of every run document a user reads.
pub(crate) const WRITERS_FIELD: &str = "writers";

/// Removes the internal metadata ([`WRITERS_FIELD`]) from a run document
/// about to be handed to a user (`data()`, `find`, `find_one`).
pub(crate) fn hide_internal_fields(run: &mut bson::Document) {
    if let Ok(metadata) = run.get_document_mut(METADATA_FIELD) {
        metadata.remove(WRITERS_FIELD);
    }
}

/// [`hide_internal_fields`] for a run still in its BSON bytes: the run
/// itself when it holds no internal metadata, else a copy without it
/// (the elements' bytes copied as they are, nothing decoded).
pub(crate) fn hide_internal_fields_raw(
    run: &RawDocument,
) -> bson::error::Result<Cow<'_, RawDocument>> {
    let Some(RawBsonRef::Document(metadata)) = run.get(METADATA_FIELD)? else {
        return Ok(Cow::Borrowed(run));
    };
    if metadata.get(WRITERS_FIELD)?.is_none() {
        return Ok(Cow::Borrowed(run));
    }
    let mut shown = RawDocumentBuf::new();
    for element in run {
        let (name, value) = element?;
        if name.as_str() != METADATA_FIELD {
            shown.append(name, value);
            continue;
        }
        let mut kept = RawDocumentBuf::new();
        for element in metadata {
            let (name, value) = element?;
            if name.as_str() != WRITERS_FIELD {
                kept.append(name, value);
            }
        }
        shown.append(name, &kept);
    }
    Ok(Cow::Owned(shown))
}

/// MongoDB refuses documents nested deeper than this; both stores enforce
/// it here so they accept and refuse the same values.
pub(crate) const MAX_DEPTH: usize = 100;

/// Checks that `key` names a field a user may write.
pub(crate) fn validate_key(key: &str) -> Result<(), Error> {
    segments(key).map(|_| ())
}

/// Validates `key` (see [`validate_key`]) and returns how many segments it
/// has, in one pass over its bytes: this runs on every `store` and `push`.
pub(crate) fn segments(key: &str) -> Result<usize, Error> {
    let refuse = |reason: &str| {
        Err(Error::InvalidKey {
            key: key.to_owned(),
            reason: reason.to_owned(),
        })
    };
    if key.is_empty() {
        return refuse("a key cannot be empty");
    }
    let mut count = 1;
    let mut segment_start = true;
    for &byte in key.as_bytes() {
        match byte {
            0 => return refuse("a key cannot contain a NUL byte"),
            b'.' if segment_start => {
                return refuse(
                    "a key cannot have an empty segment (leading, trailing or double dot)",
                )
            }
            b'.' => {
                count += 1;
                segment_start = true;
                continue;
            }
            b'$' if segment_start => return refuse("a key segment cannot start with '$'"),
            _ => {}
        }
        segment_start = false;
    }
    if segment_start {
        return refuse("a key cannot have an empty segment (leading, trailing or double dot)");
    }
    if count > MAX_DEPTH {
        return refuse("a key can have at most 100 segments (MongoDB's nesting limit)");
    }
    match key.split('.').next() {
        Some("_id") => refuse("_id is the run id and cannot be written"),
        Some(METADATA_FIELD) => refuse("_yamlett is reserved for the run's metadata"),
        _ => Ok(count),
    }
}

/// Converts a value to BSON for storing under `key`, refusing anything the
/// stores could not hold faithfully.
/// `segments` is the key's segment count, from [`segments`].
pub(crate) fn to_bson<T: Serialize + ?Sized>(
    key: &str,
    segments: usize,
    value: &T,
) -> Result<Bson, Error> {
    // The key's own levels count: MongoDB limits the whole document.
    let levels = MAX_DEPTH.saturating_sub(segments);
    let too_deep = || Error::InvalidValue {
        key: key.to_owned(),
        reason: format!(
            "stored under a key of {segments} levels, {}; MongoDB allows {MAX_DEPTH} levels in all",
            serializer::too_deep(levels)
        ),
    };
    // Depth-limited, so a hostile value fails here instead of overflowing
    // the stack; the result is at most about `levels` deep, so the
    // recursive checks below are bounded too.
    let bson = serializer::to_bson(value, levels).map_err(|err| {
        if err.to_string().contains(&serializer::too_deep(levels)) {
            too_deep()
        } else {
            Error::InvalidValue {
                key: key.to_owned(),
                reason: err.to_string(),
            }
        }
    })?;
    // A serde level may make two BSON levels (`{variant: [...]}`): the
    // exact count is the engine's.
    if value_nests_beyond(&bson, levels) {
        return Err(too_deep());
    }
    check_field_names(key, &bson)?;
    Ok(bson)
}

/// Refuses nested field names that a dotted path could not address (`.`, a
/// leading `$`, empty) or that no store accepts (NUL). A state-dict name
/// such as `layer.1.weight` would otherwise be silently split into levels by
/// every later query, so it is an error that names the nested path.
fn check_field_names(path: &str, value: &Bson) -> Result<(), Error> {
    match value {
        Bson::Document(doc) => {
            for (name, child) in doc {
                let reason = if name.is_empty() {
                    Some("a nested field name cannot be empty")
                } else if name.contains('.') {
                    Some("a nested field name cannot contain '.'; use nested maps instead")
                } else if name.starts_with('$') {
                    Some("a nested field name cannot start with '$'")
                } else if name.contains('\0') {
                    Some("a nested field name cannot contain a NUL byte")
                } else {
                    None
                };
                let child_path = format!("{path}.{name}");
                if let Some(reason) = reason {
                    return Err(Error::InvalidValue {
                        key: child_path,
                        reason: reason.to_owned(),
                    });
                }
                check_field_names(&child_path, child)?;
            }
            Ok(())
        }
        Bson::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| match item {
                Bson::Document(_) | Bson::Array(_) => {
                    check_field_names(&format!("{path}.{i}"), item)
                }
                _ => Ok(()),
            }),
        _ => Ok(()),
    }
}

/// Checks an experiment name: it becomes a MongoDB collection name.
pub(crate) fn validate_experiment_name(name: &str) -> Result<(), Error> {
    let reason = if name.is_empty() {
        Some("an experiment name cannot be empty")
    } else if name.contains('\0') {
        Some("an experiment name cannot contain a NUL byte")
    } else if name.contains('$') {
        Some("an experiment name cannot contain '$'")
    } else if name.starts_with("system.") {
        Some("names starting with 'system.' are reserved by MongoDB")
    } else if name.starts_with(METADATA_FIELD) {
        Some("names starting with '_yamlett' are reserved by yamlett")
    } else if name.len() > 200 {
        Some("an experiment name can be at most 200 bytes")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidName {
            name: name.to_owned(),
            reason: reason.to_owned(),
        }),
        None => Ok(()),
    }
}

/// Checks a run id: it becomes the run document's `_id`.
pub(crate) fn validate_run_id(id: &str) -> Result<(), Error> {
    let reason = if id.is_empty() {
        Some("a run id cannot be empty")
    } else if id.contains('\0') {
        Some("a run id cannot contain a NUL byte")
    } else if id.len() > 1024 {
        Some("a run id can be at most 1024 bytes")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidName {
            name: id.to_owned(),
            reason: reason.to_owned(),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    #[test]
    fn good_keys_pass() {
        for key in [
            "a",
            "params.model.C",
            "metrics.f1_score",
            "a.0.b",
            "id",
            "yamlett",
        ] {
            validate_key(key).unwrap();
        }
    }

    #[test]
    fn bad_keys_are_refused() {
        for key in [
            "",
            ".a",
            "a.",
            "a..b",
            "$set",
            "a.$b",
            "a\0b",
            "_id",
            "_id.x",
            "_yamlett",
            "_yamlett.status",
        ] {
            assert!(
                matches!(validate_key(key), Err(Error::InvalidKey { .. })),
                "{key:?} was accepted"
            );
        }
    }

    #[test]
    fn values_that_bson_cannot_hold_are_refused() {
        assert!(matches!(
            to_bson("k", 1, &u64::MAX),
            Err(Error::InvalidValue { .. })
        ));
        let mut by_int = HashMap::new();
        by_int.insert(vec![1u8], 2);
        assert!(matches!(
            to_bson("k", 1, &by_int),
            Err(Error::InvalidValue { .. })
        ));
        assert_eq!(
            to_bson("k", 1, &(i64::MAX as u64)).unwrap(),
            Bson::Int64(i64::MAX)
        );
    }

    #[test]
    fn dotted_nested_names_are_refused_with_their_path() {
        let mut state = BTreeMap::new();
        state.insert("layer.1.weight", vec![0.5]);
        let mut model = BTreeMap::new();
        model.insert("state", state);
        match to_bson("model", 1, &model) {
            Err(Error::InvalidValue { key, .. }) => assert_eq!(key, "model.state.layer.1.weight"),
            other => panic!("{other:?}"),
        }
        let mut dollar = BTreeMap::new();
        dollar.insert("$where", 1);
        assert!(
            matches!(to_bson("x", 1, &vec![dollar]), Err(Error::InvalidValue { key, .. }) if key == "x.0.$where")
        );
    }

    #[test]
    fn values_nested_past_mongodb_limit_are_refused() {
        let deep = |depth: usize| {
            (0..depth).fold(Bson::Int32(1), |inner, _| {
                Bson::Document(bson::doc! { "d": inner })
            })
        };
        assert!(to_bson("a", 1, &deep(98)).is_ok());
        assert!(matches!(
            to_bson("a", 1, &deep(100)),
            Err(Error::InvalidValue { .. })
        ));
        assert!(matches!(
            to_bson("a.b.c", 3, &deep(98)),
            Err(Error::InvalidValue { .. })
        ));
        let long_key = vec!["k"; 101].join(".");
        assert!(matches!(
            validate_key(&long_key),
            Err(Error::InvalidKey { .. })
        ));
    }

    #[test]
    fn experiment_names_follow_mongodb_rules() {
        validate_experiment_name("iris").unwrap();
        validate_experiment_name("iris.v2").unwrap();
        for name in ["", "a$b", "system.users", "a\0", "_yamlett_artifacts.files"] {
            assert!(validate_experiment_name(name).is_err(), "{name:?}");
        }
    }
}
