//! Dotted update paths: parsing, the order the server applies them in,
//! conflict detection, and walking a document along a path.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use bson::{Bson, Document};

use super::display;
use crate::{QueryError, QueryResult};

/// The server refuses to pad an array past this index with nulls.
const MAX_ARRAY_INDEX: usize = 1_500_000;

/// One parsed dotted path such as `params.model.C`.
#[derive(Debug, Clone)]
pub(crate) struct FieldPath {
    /// The path as written.
    dotted: String,
    /// Its segments, at least one.
    parts: Vec<Part>,
}

/// A segment of a path: its byte range in the dotted string and, when it is
/// all digits, the array index it names.
#[derive(Debug, Clone, Copy)]
struct Part {
    /// Byte offset of the segment's start.
    start: usize,
    /// Byte offset just past its end.
    end: usize,
    /// The array index it names, when all digits.
    index: Option<usize>,
}

impl FieldPath {
    /// Parses and validates a path of an update operator.
    pub(crate) fn parse(dotted: &str) -> QueryResult<FieldPath> {
        if dotted.is_empty() {
            return Err(QueryError::new("An empty update path is not valid."));
        }
        if dotted.contains('\0') {
            return Err(QueryError::new(format!(
                "The update path '{}' contains a NUL byte, which is not allowed.",
                dotted.escape_debug()
            )));
        }
        let mut parts = Vec::with_capacity(4);
        let mut start = 0;
        for segment in dotted.split('.') {
            if segment.is_empty() {
                return Err(QueryError::new(format!(
                    "The update path '{dotted}' contains an empty field name, which is not allowed."
                )));
            }
            let end = start + segment.len();
            parts.push(Part {
                start,
                end,
                index: array_index(segment),
            });
            start = end + 1;
        }
        Ok(FieldPath {
            dotted: dotted.to_string(),
            parts,
        })
    }

    /// The path as written.
    pub(crate) fn dotted(&self) -> &str {
        &self.dotted
    }

    /// Number of segments (at least one).
    pub(crate) fn len(&self) -> usize {
        self.parts.len()
    }

    /// Segment `i` as text.
    pub(crate) fn part(&self, i: usize) -> &str {
        self.parts
            .get(i)
            .map_or("", |p| &self.dotted[p.start..p.end])
    }

    /// Segment `i` as an array index, when it is all digits.
    pub(crate) fn index(&self, i: usize) -> Option<usize> {
        self.parts.get(i).and_then(|p| p.index)
    }

    /// The last segment.
    pub(crate) fn last(&self) -> &str {
        self.part(self.len() - 1)
    }

    /// Whether a segment is a positional operator (`$`, `$[]`, `$[id]`),
    /// which needs a query match we do not have.
    pub(crate) fn is_positional(&self) -> bool {
        (0..self.len()).any(|i| {
            let part = self.part(i);
            part == "$" || part.starts_with("$[")
        })
    }

    /// Whether a numeric segment has a leading zero (`a.01`): such a path
    /// may name the same array element as another (`a.1`) although the
    /// strings differ, so the update must be applied step by step.
    pub(crate) fn has_ambiguous_index(&self) -> bool {
        (0..self.len()).any(|i| {
            self.index(i).is_some() && self.part(i).len() > 1 && self.part(i).starts_with('0')
        })
    }

    /// The order the server applies paths in (MongoDB 5.0+): segment by
    /// segment, numeric names numerically and others lexicographically.
    pub(crate) fn apply_order(&self, other: &FieldPath) -> Ordering {
        // Segments wholly inside the common byte prefix are equal: skip them
        // (sibling paths like `params.model.*` share long prefixes).
        let common = self
            .dotted
            .bytes()
            .zip(other.dotted.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        let skip = self.parts.iter().take_while(|p| p.end < common).count();
        for (a, b) in self.parts.iter().zip(&other.parts).skip(skip) {
            let left = &self.dotted.as_bytes()[a.start..a.end];
            let right = &other.dotted.as_bytes()[b.start..b.end];
            // Two numeric names of different lengths compare by length (so
            // `2` comes before `10`); everything else compares bytewise.
            let order = if a.index.is_some() && b.index.is_some() && left.len() != right.len() {
                left.len().cmp(&right.len())
            } else {
                left.cmp(right)
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        self.parts.len().cmp(&other.parts.len())
    }
}

/// The index a segment names, if it is all ASCII digits (saturating, so an
/// absurd index fails the padding limit rather than overflowing).
fn array_index(segment: &str) -> Option<usize> {
    if segment.is_empty() || !segment.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(segment.bytes().fold(0usize, |n, b| {
        n.saturating_mul(10).saturating_add(usize::from(b - b'0'))
    }))
}

/// Detects two paths of one update that overlap: the same path twice, or
/// one a prefix of the other, across all operators.
#[derive(Debug)]
pub(crate) struct ConflictTracker<'a> {
    /// Every registered path (true) and every proper prefix of one (false).
    seen: HashMap<&'a str, bool, BuildHasherDefault<FnvHasher>>,
}

/// FNV-1a: paths are short and come from the application itself, so a
/// simple fast hash beats the default DoS-resistant one here.
#[derive(Debug)]
pub(crate) struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> Self {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl<'a> ConflictTracker<'a> {
    /// A tracker for about `paths` paths.
    pub(crate) fn with_capacity(paths: usize) -> Self {
        ConflictTracker {
            seen: HashMap::with_capacity_and_hasher(paths.saturating_mul(2), Default::default()),
        }
    }

    /// Registers `path`, whose text `dotted` outlives the tracker, failing
    /// with the server's message if it overlaps a path registered before.
    pub(crate) fn register(&mut self, dotted: &'a str, path: &FieldPath) -> QueryResult<()> {
        let prefixes = || {
            path.parts[..path.parts.len() - 1]
                .iter()
                .map(|p| &dotted[..p.end])
        };
        if let Some(at) = prefixes().find(|p| self.seen.get(p) == Some(&true)) {
            return Err(conflict(dotted, at));
        }
        if self.seen.contains_key(dotted) {
            return Err(conflict(dotted, dotted));
        }
        for prefix in prefixes() {
            self.seen.entry(prefix).or_insert(false);
        }
        self.seen.insert(dotted, true);
        Ok(())
    }
}

/// The server's conflict error.
fn conflict(path: &str, at: &str) -> QueryError {
    QueryError::new(format!(
        "Updating the path '{path}' would create a conflict at '{at}'"
    ))
}

/// What a creating operator finds at its path.
#[derive(Debug)]
pub(crate) enum Target<'a> {
    /// The path exists.
    Present(&'a Bson),
    /// The path does not exist and can be created.
    Missing,
}

/// Walks `path` as an operator that may create it ($set, $inc, $push, …):
/// intermediate values must be documents or arrays indexed by number.
pub(crate) fn resolve_for_create<'a>(
    doc: &'a Document,
    path: &FieldPath,
) -> QueryResult<Target<'a>> {
    let mut container = Container::Doc(doc);
    for i in 0..path.len() {
        let found = match container {
            Container::Doc(d) => d.get(path.part(i)),
            Container::Array(items) => {
                let Some(index) = path.index(i) else {
                    // Arrays are only entered from segment i - 1, which names them.
                    let holder = path.part(i.saturating_sub(1));
                    return Err(cannot_create(
                        path.part(i),
                        holder,
                        &Bson::Array(items.clone()),
                    ));
                };
                if index > MAX_ARRAY_INDEX && index >= items.len() {
                    return Err(QueryError::new(format!(
                        "can't backfill array to larger than {MAX_ARRAY_INDEX} elements"
                    )));
                }
                items.get(index)
            }
        };
        let Some(value) = found else {
            return Ok(Target::Missing);
        };
        if i + 1 == path.len() {
            return Ok(Target::Present(value));
        }
        container = match value {
            Bson::Document(d) => Container::Doc(d),
            Bson::Array(items) => Container::Array(items),
            other => return Err(cannot_create(path.part(i + 1), path.part(i), other)),
        };
    }
    Ok(Target::Missing)
}

/// The value at `path` for operators that never create it ($unset, $pop,
/// $pull, $pullAll): `None` when any step is missing or not traversable.
pub(crate) fn resolve_existing<'a>(doc: &'a Document, path: &FieldPath) -> Option<&'a Bson> {
    let mut current = doc.get(path.part(0))?;
    for i in 1..path.len() {
        current = match current {
            Bson::Document(d) => d.get(path.part(i))?,
            Bson::Array(items) => items.get(path.index(i)?)?,
            _ => return None,
        };
    }
    Some(current)
}

/// The error for creating `field` inside the non-container `holder: value`.
fn cannot_create(field: &str, holder: &str, value: &Bson) -> QueryError {
    QueryError::new(format!(
        "Cannot create field '{field}' in element {}",
        display::element(holder, value)
    ))
}

/// A read-only document or array being walked.
#[derive(Clone, Copy)]
enum Container<'a> {
    /// A document.
    Doc(&'a Document),
    /// An array, entered through a numeric segment.
    Array(&'a Vec<Bson>),
}

/// A mutable place a path's last segment lives in.
pub(crate) enum ContainerMut<'a> {
    /// A field of a document.
    Doc(&'a mut Document),
    /// An element of an array.
    Array(&'a mut Vec<Bson>),
}

/// Where the last segment of a path is, for writing.
pub(crate) enum Slot<'a> {
    /// The value exists.
    Present(&'a mut Bson),
    /// A missing field of a document.
    Field(&'a mut Document, &'a str),
    /// A missing element of an array (past its end).
    Element(&'a mut Vec<Bson>, usize),
}

impl Slot<'_> {
    /// Stores `value` here, padding an array with nulls up to the index.
    pub(crate) fn put(self, value: Bson) {
        match self {
            Slot::Present(target) => *target = value,
            Slot::Field(doc, key) => {
                doc.insert(key, value);
            }
            Slot::Element(items, index) => {
                items.resize(index, Bson::Null);
                items.push(value);
            }
        }
    }
}

/// The container of `path`'s last segment, creating missing intermediate
/// documents. Only called after [`resolve_for_create`] accepted the path,
/// so every step is traversable; `None` would mean a bug, not bad input.
pub(crate) fn container_for_create<'a>(
    doc: &'a mut Document,
    path: &FieldPath,
) -> Option<ContainerMut<'a>> {
    let mut container = ContainerMut::Doc(doc);
    for i in 0..path.len() - 1 {
        let part = path.part(i);
        let value = match container {
            ContainerMut::Doc(d) => {
                if !d.contains_key(part) {
                    d.insert(part, Document::new());
                }
                d.get_mut(part)?
            }
            ContainerMut::Array(items) => {
                let index = path.index(i)?;
                if index >= items.len() {
                    items.resize(index, Bson::Null);
                    items.push(Bson::Document(Document::new()));
                }
                items.get_mut(index)?
            }
        };
        container = into_container(value)?;
    }
    Some(container)
}

/// The container of `path`'s last segment if every step exists.
pub(crate) fn container_existing<'a>(
    doc: &'a mut Document,
    path: &FieldPath,
) -> Option<ContainerMut<'a>> {
    let mut container = ContainerMut::Doc(doc);
    for i in 0..path.len() - 1 {
        let value = match container {
            ContainerMut::Doc(d) => d.get_mut(path.part(i))?,
            ContainerMut::Array(items) => items.get_mut(path.index(i)?)?,
        };
        container = into_container(value)?;
    }
    Some(container)
}

/// A document or array value as a container to walk into.
fn into_container(value: &mut Bson) -> Option<ContainerMut<'_>> {
    match value {
        Bson::Document(d) => Some(ContainerMut::Doc(d)),
        Bson::Array(items) => Some(ContainerMut::Array(items)),
        _ => None,
    }
}

impl<'a> ContainerMut<'a> {
    /// The slot of the path's last segment in this container.
    pub(crate) fn slot(self, path: &'a FieldPath) -> Option<Slot<'a>> {
        let last = path.last();
        match self {
            ContainerMut::Doc(d) => {
                if d.contains_key(last) {
                    d.get_mut(last).map(Slot::Present)
                } else {
                    Some(Slot::Field(d, last))
                }
            }
            ContainerMut::Array(items) => {
                let index = path.index(path.len() - 1)?;
                if index < items.len() {
                    items.get_mut(index).map(Slot::Present)
                } else {
                    Some(Slot::Element(items, index))
                }
            }
        }
    }
}
