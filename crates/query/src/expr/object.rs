//! Building documents: `$mergeObjects`, `$objectToArray`, `$arrayToObject`.

use std::borrow::Cow;

use bson::{doc, Bson, Document};

use super::ops::{take, type_name};
use super::Value;
use crate::{QueryError, QueryResult};

/// Wraps a computed value.
fn some<'a>(value: Bson) -> QueryResult<Value<'a>> {
    Ok(Some(Cow::Owned(value)))
}

/// `$mergeObjects`: the documents' fields, later ones overwriting earlier
/// ones in place; null and missing documents are skipped. Like the
/// accumulator it shares its code with in the server, a single array
/// argument merges the array's elements.
pub(crate) fn merge_objects(args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let operands: Vec<Option<&Bson>> = match args.as_slice() {
        [single] => match single.as_deref() {
            Some(Bson::Array(items)) => items.iter().map(Some).collect(),
            other => vec![other],
        },
        _ => args.iter().map(|a| a.as_deref()).collect(),
    };
    let mut out = Document::new();
    for operand in operands {
        match operand {
            None | Some(Bson::Null | Bson::Undefined) => {}
            Some(Bson::Document(doc)) => {
                for (key, value) in doc {
                    out.insert(key.clone(), value.clone());
                }
            }
            Some(other) => {
                return Err(QueryError::new(format!(
                    "$mergeObjects requires object inputs, but input {other} is of type {}",
                    type_name(Some(other))
                )))
            }
        }
    }
    some(Bson::Document(out))
}

/// `$objectToArray`: `[{k: name, v: value}, …]` in field order.
pub(crate) fn object_to_array(mut args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let arg = take(&mut args, 0);
    match arg.as_deref() {
        None | Some(Bson::Null | Bson::Undefined) => some(Bson::Null),
        Some(Bson::Document(doc)) => some(Bson::Array(
            doc.iter()
                .map(|(k, v)| Bson::Document(doc! { "k": k.clone(), "v": v.clone() }))
                .collect(),
        )),
        other => Err(QueryError::new(format!(
            "$objectToArray requires a document input, found: {}",
            type_name(other)
        ))),
    }
}

/// A key of `$arrayToObject`: a string without NUL bytes.
fn object_key(key: Option<&Bson>, wrong_type: impl FnOnce(&str) -> String) -> QueryResult<&str> {
    match key {
        Some(Bson::String(s)) if s.contains('\0') => Err(QueryError::new(
            "Key field cannot contain an embedded null byte",
        )),
        Some(Bson::String(s)) => Ok(s),
        other => Err(QueryError::new(wrong_type(type_name(other)))),
    }
}

/// One `[key, value]` pair of `$arrayToObject`.
fn pair_of_array(elem: &Bson) -> QueryResult<(&str, &Bson)> {
    let Bson::Array(pair) = elem else {
        return Err(QueryError::new(format!(
            "$arrayToObject requires a consistent input format. Elements must all be arrays or \
             all be objects. Array was detected, now found: {}",
            type_name(Some(elem))
        )));
    };
    let [key, value] = pair.as_slice() else {
        return Err(QueryError::new(format!(
            "$arrayToObject requires an array of size 2 arrays,found array of size: {}",
            pair.len()
        )));
    };
    let key = object_key(Some(key), |t| {
        format!(
            "$arrayToObject requires an array of key-value pairs, where the key must be of type \
             string. Found key type: {t}"
        )
    })?;
    Ok((key, value))
}

/// One `{k: key, v: value}` pair of `$arrayToObject`.
fn pair_of_document(elem: &Bson) -> QueryResult<(&str, &Bson)> {
    let Bson::Document(pair) = elem else {
        return Err(QueryError::new(format!(
            "$arrayToObject requires a consistent input format. Elements must all be arrays or \
             all be objects. Object was detected, now found: {}",
            type_name(Some(elem))
        )));
    };
    if pair.len() != 2 {
        return Err(QueryError::new(format!(
            "$arrayToObject requires an object keys of 'k' and 'v'. Found incorrect number of \
             keys:{}",
            pair.len()
        )));
    }
    let (Some(key), Some(value)) = (pair.get("k"), pair.get("v")) else {
        return Err(QueryError::new(format!(
            "$arrayToObject requires an object with keys 'k' and 'v'. Missing either or both \
             keys from: {pair}"
        )));
    };
    let key = object_key(Some(key), |t| {
        format!(
            "$arrayToObject requires an object with keys 'k' and 'v', where the value of 'k' \
             must be of type string. Found type: {t}"
        )
    })?;
    Ok((key, value))
}

/// `$arrayToObject`: a document from `[[k, v], …]` or `[{k, v}, …]` (the
/// first element decides which); a repeated key keeps its first position
/// and its last value.
pub(crate) fn array_to_object(mut args: Vec<Value<'_>>) -> QueryResult<Value<'_>> {
    let arg = take(&mut args, 0);
    let items = match arg.as_deref() {
        None | Some(Bson::Null | Bson::Undefined) => return some(Bson::Null),
        Some(Bson::Array(items)) => items,
        other => {
            return Err(QueryError::new(format!(
                "$arrayToObject requires an array input, found: {}",
                type_name(other)
            )))
        }
    };
    let pair: fn(&Bson) -> QueryResult<(&str, &Bson)> = match items.first() {
        None => return some(Bson::Document(Document::new())),
        Some(Bson::Array(_)) => pair_of_array,
        Some(Bson::Document(_)) => pair_of_document,
        Some(other) => {
            return Err(QueryError::new(format!(
                "Unrecognised input type format for $arrayToObject: {}",
                type_name(Some(other))
            )))
        }
    };
    let mut out = Document::new();
    for item in items {
        let (key, value) = pair(item)?;
        out.insert(key, value.clone());
    }
    some(Bson::Document(out))
}
