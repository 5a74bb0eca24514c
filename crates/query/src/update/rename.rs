//! `$rename`: moves a value from one path to another. Neither path may go
//! through an array, and a missing source makes the rename a no-op.

use bson::{Bson, Document};

use super::display;
use super::path::{container_existing, container_for_create, ContainerMut, FieldPath};
use crate::{QueryError, QueryResult};

/// Parses one `from: "to"` pair of a `$rename`, returning both paths.
pub(crate) fn parse(from: &str, to: &Bson) -> QueryResult<(FieldPath, FieldPath)> {
    let Bson::String(to) = to else {
        return Err(QueryError::new(format!(
            "The 'to' field for $rename must be a string: {from}: {}",
            display::value(to)
        )));
    };
    let source = FieldPath::parse(from)?;
    let target = FieldPath::parse(to)?;
    if source.is_positional() {
        return Err(QueryError::new(format!(
            "The source field for $rename may not be dynamic: {from}"
        )));
    }
    if target.is_positional() {
        return Err(QueryError::new(format!(
            "The destination field for $rename may not be dynamic: {to}"
        )));
    }
    if from == to {
        return Err(QueryError::new(format!(
            "The source and target field for $rename must differ: {from}: \"{to}\""
        )));
    }
    if is_path_prefix(from, to) || is_path_prefix(to, from) {
        return Err(QueryError::new(format!(
            "The source and target field for $rename must not be on the same path: {from}: \"{to}\""
        )));
    }
    Ok((source, target))
}

/// Whether `prefix` names `path` or one of its ancestors.
fn is_path_prefix(prefix: &str, path: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// Checks a rename against the document: `Ok(true)` when it will move a
/// value, `Ok(false)` when the source is missing.
pub(crate) fn check(doc: &Document, from: &FieldPath, to: &FieldPath) -> QueryResult<bool> {
    if find_source(doc, from)?.is_none() {
        return Ok(false);
    }
    check_destination(doc, to)?;
    Ok(true)
}

/// The source value; reaching it through an array is an error.
fn find_source<'a>(doc: &'a Document, from: &FieldPath) -> QueryResult<Option<&'a Bson>> {
    let Some(mut current) = doc.get(from.part(0)) else {
        return Ok(None);
    };
    for i in 1..from.len() {
        let holder = from.part(i - 1);
        current = match current {
            Bson::Document(d) => match d.get(from.part(i)) {
                Some(value) => value,
                None => return Ok(None),
            },
            Bson::Array(items) => match from.index(i) {
                Some(index) if index < items.len() => {
                    return Err(QueryError::new(format!(
                        "The source field cannot be an array element, '{}' in doc with {} has an array field called '{holder}'",
                        from.dotted(),
                        display::id_of(doc)
                    )));
                }
                Some(_) => return Ok(None),
                None => return Err(cannot_traverse(holder, from, current)),
            },
            other => return Err(cannot_traverse(holder, from, other)),
        };
    }
    Ok(Some(current))
}

/// The error for a source path going through the non-container `holder`.
fn cannot_traverse(holder: &str, path: &FieldPath, value: &Bson) -> QueryError {
    QueryError::new(format!(
        "cannot use the part ({holder} of {}) to traverse the element ({})",
        path.dotted(),
        display::element(holder, value)
    ))
}

/// The destination's existing prefix must be documents only.
fn check_destination(doc: &Document, to: &FieldPath) -> QueryResult<()> {
    let mut container = doc;
    for i in 0..to.len() - 1 {
        let holder = to.part(i);
        container = match container.get(holder) {
            None => return Ok(()),
            Some(Bson::Document(d)) => d,
            Some(Bson::Array(_)) if to.index(i + 1).is_some() => {
                return Err(QueryError::new(format!(
                    "The destination field cannot be an array element, '{}' in doc with {} has an array field called '{holder}'",
                    to.dotted(),
                    display::id_of(doc)
                )));
            }
            Some(other) => {
                return Err(QueryError::new(format!(
                    "Cannot create field '{}' in element {}",
                    to.part(i + 1),
                    display::element(holder, other)
                )));
            }
        };
    }
    Ok(())
}

/// Moves the value; [`check`] has accepted the rename.
pub(crate) fn apply(doc: &mut Document, from: &FieldPath, to: &FieldPath) {
    let value = match container_existing(doc, from) {
        Some(ContainerMut::Doc(parent)) => parent.remove(from.last()),
        _ => None,
    };
    let Some(value) = value else { return };
    if let Some(slot) = container_for_create(doc, to).and_then(|c| c.slot(to)) {
        slot.put(value);
    }
}
