//! Dotted field paths and how MongoDB walks documents along them.
//!
//! Two walks exist. [`get_path`] follows a path to at most one value (numeric
//! segments index arrays; no fan-out) — what updates and expressions need.
//! [`walk`] is the query walk: it fans out over arrays at every level, treats a
//! numeric segment both as an array index and as a field name of the documents
//! in the array, and reports every value (or absence) the path reaches.
//!
//! The query walk is written once over the [`Value`] / [`DocView`] traits so
//! the same code serves decoded documents (`&Bson`) and stored raw BSON
//! (`RawBsonRef`), which the embedded store filters without decoding.

use std::borrow::Cow;
use std::ops::ControlFlow;

use bson::raw::RawDocument;
use bson::spec::ElementType;
use bson::{Bson, Document};

use super::compare::Number;
use super::{QueryError, QueryResult};

/// Deepest path (in segments) accepted, so walking a path never recurses
/// without bound.
pub(crate) const MAX_PATH_DEPTH: usize = 200;

/// Follows `path` in `doc` without fanning out over arrays: a numeric segment
/// indexes an array, any other segment must name a field of a document.
pub fn get_path<'a>(doc: &'a Document, path: &str) -> Option<&'a Bson> {
    let mut segments = path.split('.');
    let mut current = doc.get(segments.next()?)?;
    for segment in segments {
        current = match current {
            Bson::Document(inner) => inner.get(segment)?,
            Bson::Array(items) => items.get(array_index(segment)?)?,
            _ => return None,
        };
    }
    Some(current)
}

/// The array index a path segment denotes, if it is all ASCII digits (the
/// server accepts leading zeros: `a.01` reaches `a[1]`).
pub(crate) fn array_index(segment: &str) -> Option<usize> {
    if segment.is_empty() || !segment.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    segment.parse().ok()
}

/// One segment of a parsed path, with its array-index reading precomputed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    /// The segment as a field name.
    pub(crate) name: String,
    /// The segment as an array index, when it is numeric.
    pub(crate) index: Option<usize>,
}

/// A dotted path parsed once, walked many times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldPath {
    dotted: String,
    segments: Vec<Segment>,
}

impl FieldPath {
    /// Splits `dotted` on dots. Empty segments are kept (they simply never
    /// match, as on the server); overly deep paths are refused.
    pub(crate) fn parse(dotted: &str) -> QueryResult<FieldPath> {
        let segments: Vec<Segment> = dotted
            .split('.')
            .map(|name| Segment {
                name: name.to_owned(),
                index: array_index(name),
            })
            .collect();
        if segments.len() > MAX_PATH_DEPTH {
            return Err(QueryError::new(format!(
                "FieldPath is too long (more than {MAX_PATH_DEPTH} components): {dotted}"
            )));
        }
        Ok(FieldPath {
            dotted: dotted.to_owned(),
            segments,
        })
    }

    /// The path as written.
    pub(crate) fn dotted(&self) -> &str {
        &self.dotted
    }

    /// The parsed segments (never empty).
    pub(crate) fn segments(&self) -> &[Segment] {
        &self.segments
    }
}

/// A read-only view of a BSON value, implemented for decoded (`&Bson`) and
/// raw (`RawBsonRef`) values so matching logic is written once.
pub(crate) trait Value<'a>: Copy + std::fmt::Debug {
    /// The matching document view.
    type Doc: DocView<'a, Value = Self>;
    /// Iterator over array elements.
    type Elements: Iterator<Item = Self>;

    /// The BSON element type.
    fn element_type(self) -> ElementType;
    /// The value as a document, if it is one (arrays are not).
    fn as_document(self) -> Option<Self::Doc>;
    /// The array elements, if the value is an array.
    fn elements(self) -> Option<Self::Elements>;
    /// The number held, if the value is numeric.
    fn number(self) -> Option<Number>;
    /// The text of a string or symbol.
    fn as_str(self) -> Option<&'a str>;
    /// The value of a boolean.
    fn as_bool(self) -> Option<bool>;
    /// A decoded copy (borrowed when already decoded). Used only where the
    /// full value is needed, e.g. comparing whole documents.
    fn to_bson(self) -> Option<Cow<'a, Bson>>;
    /// Whether the value is an array.
    fn is_array(self) -> bool {
        self.element_type() == ElementType::Array
    }
    /// Number of array elements (0 for non-arrays).
    fn array_len(self) -> usize {
        self.elements().map_or(0, Iterator::count)
    }
}

/// A read-only view of a document: field lookup by name.
pub(crate) trait DocView<'a>: Copy {
    /// The matching value view.
    type Value: Value<'a, Doc = Self>;
    /// The value of field `key`, if present.
    fn get(self, key: &str) -> Option<Self::Value>;
}

impl<'a> Value<'a> for &'a Bson {
    type Doc = &'a Document;
    type Elements = std::slice::Iter<'a, Bson>;

    fn element_type(self) -> ElementType {
        Bson::element_type(self)
    }
    fn as_document(self) -> Option<&'a Document> {
        match self {
            Bson::Document(d) => Some(d),
            _ => None,
        }
    }
    fn elements(self) -> Option<Self::Elements> {
        match self {
            Bson::Array(items) => Some(items.iter()),
            _ => None,
        }
    }
    fn number(self) -> Option<Number> {
        Number::of(self)
    }
    fn as_str(self) -> Option<&'a str> {
        match self {
            Bson::String(s) | Bson::Symbol(s) => Some(s),
            _ => None,
        }
    }
    fn as_bool(self) -> Option<bool> {
        match self {
            Bson::Boolean(b) => Some(*b),
            _ => None,
        }
    }
    fn to_bson(self) -> Option<Cow<'a, Bson>> {
        Some(Cow::Borrowed(self))
    }
    fn array_len(self) -> usize {
        match self {
            Bson::Array(items) => items.len(),
            _ => 0,
        }
    }
}

impl<'a> DocView<'a> for &'a Document {
    type Value = &'a Bson;
    fn get(self, key: &str) -> Option<&'a Bson> {
        Document::get(self, key)
    }
}

/// A raw BSON document: its bytes from the length prefix to the final NUL.
///
/// The query engine reads stored documents through this view rather than
/// `bson::RawDocument::get`, which validates every key it passes as UTF-8;
/// comparing key bytes directly makes field lookup several times faster on
/// the hot path. Malformed bytes end iteration (as if the fields were
/// absent) instead of panicking.
#[derive(Debug, Clone, Copy)]
pub struct RawDoc<'a>(&'a [u8]);

impl<'a> RawDoc<'a> {
    /// Views a raw document.
    pub fn new(doc: &'a RawDocument) -> RawDoc<'a> {
        RawDoc(doc.as_bytes())
    }

    /// The fields in order, as (key bytes, value).
    pub(crate) fn fields(self) -> RawFields<'a> {
        RawFields {
            bytes: self.0,
            pos: 4,
        }
    }

    /// The document decoded; `None` if the bytes are malformed.
    ///
    /// Walks the bytes with `RawFields` rather than the bson crate's
    /// iterator, which validates every key twice and copies nested
    /// documents before decoding them: this is what a `find` spends most
    /// of its time on when many runs match.
    pub fn decode(self) -> Option<Document> {
        let mut doc = Document::new();
        self.each_field(|key, value| {
            let key = std::str::from_utf8(key).ok()?;
            doc.insert(key.to_owned(), value.decode()?);
            Some(ControlFlow::Continue(()))
        })?;
        Some(doc)
    }

    /// The value of field `key`: `Some(None)` if it is absent, `None` if
    /// the bytes before it (or, when it is absent, anywhere) are malformed,
    /// which [`DocView::get`] cannot tell from absent.
    ///
    /// [`RawFields::read_field`] as one loop over the bytes not yet read:
    /// the filter's lookups are most of a selective `find`'s work, and
    /// keeping the position in a local slice rather than behind the
    /// iterator's `&mut self` takes about a third off each field passed.
    #[inline]
    pub(crate) fn find(self, key: &[u8]) -> Option<Option<RawValue<'a>>> {
        let mut rest = self.0.get(4..)?;
        loop {
            let (&kind, after_kind) = rest.split_first()?;
            if kind == 0 {
                // The end, if this NUL is the document's last byte.
                return after_kind.is_empty().then_some(None);
            }
            let kind = ElementType::from(kind)?;
            let (name, after_name) = after_kind.split_at_checked(nul_position(after_kind)?)?;
            let after_nul = after_name.get(1..)?;
            let (value, next) = after_nul.split_at_checked(value_size(kind, after_nul)?)?;
            if name == key {
                return Some(Some(RawValue { kind, bytes: value }));
            }
            rest = next;
        }
    }

    /// Calls `f` on every field, in order, until it breaks; `None` if `f`
    /// fails or the bytes are malformed anywhere before that (unlike
    /// [`RawDoc::fields`], which just stops).
    pub(crate) fn each_field(
        self,
        mut f: impl FnMut(&'a [u8], RawValue<'a>) -> Option<ControlFlow<()>>,
    ) -> Option<()> {
        let mut fields = self.fields();
        loop {
            // The terminating NUL, as the last byte: a complete document.
            if fields.pos + 1 == self.0.len() && self.0.get(fields.pos) == Some(&0) {
                return Some(());
            }
            let (key, value) = fields.read_field()?;
            if f(key, value)?.is_break() {
                return Some(());
            }
        }
    }
}

/// One raw BSON value: its element type and the bytes of its value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawValue<'a> {
    kind: ElementType,
    bytes: &'a [u8],
}

/// Iterator over the fields of a [`RawDoc`].
#[derive(Debug, Clone)]
pub(crate) struct RawFields<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for RawFields<'a> {
    type Item = (&'a [u8], RawValue<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.read_field();
        if item.is_none() {
            // End of document or malformed bytes: stop for good.
            self.pos = self.bytes.len();
        }
        item
    }
}

impl<'a> RawFields<'a> {
    /// Reads the field at `pos` and advances past it.
    ///
    /// Every lookup in a stored run passes the fields before the one it
    /// wants through here, so the value is cut from the rest by splitting
    /// slices (one bounds check each) rather than by index arithmetic.
    fn read_field(&mut self) -> Option<(&'a [u8], RawValue<'a>)> {
        let (&kind, rest) = self.bytes.get(self.pos..)?.split_first()?;
        let kind = ElementType::from(kind)?;
        let key_len = nul_position(rest)?;
        let (key, rest) = rest.split_at_checked(key_len)?;
        // `rest` starts with the key's NUL.
        let rest = rest.get(1..)?;
        let size = value_size(kind, rest)?;
        let bytes = rest.get(..size)?;
        // Type byte, key, NUL, value: all inside `self.bytes`, so no overflow.
        self.pos += 1 + key_len + 1 + size;
        Some((key, RawValue { kind, bytes }))
    }
}

/// The index of the first NUL byte in `bytes`: where a key ends.
///
/// Looks at eight bytes at a time: finding the end of each key it passes is
/// most of what a field lookup costs, and a byte-by-byte search took about
/// as many instructions as everything else a lookup does together.
fn nul_position(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    let mut at = 0;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        // The classic "has a zero byte" test: the lowest flagged byte is
        // always a real zero (false flags appear only above one), and with
        // little-endian loading the lowest byte is the first in memory.
        let zeros = word.wrapping_sub(ONES) & !word & HIGHS;
        if zeros != 0 {
            return Some(at + (zeros.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let tail = bytes.get(at..)?;
    tail.iter().position(|&b| b == 0).map(|p| at + p)
}

/// A little-endian i32 length at the start of `bytes`, if non-negative.
fn read_len(bytes: &[u8]) -> Option<usize> {
    let prefix: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
    usize::try_from(i32::from_le_bytes(prefix)).ok()
}

/// Number of bytes the value of an element of type `kind` occupies at the
/// start of `rest`.
fn value_size(kind: ElementType, rest: &[u8]) -> Option<usize> {
    use ElementType as T;
    let size = match kind {
        T::Null | T::Undefined | T::MinKey | T::MaxKey => 0,
        T::Boolean => 1,
        T::Int32 => 4,
        T::Double | T::Int64 | T::DateTime | T::Timestamp => 8,
        T::ObjectId => 12,
        T::Decimal128 => 16,
        T::String | T::Symbol | T::JavaScriptCode => read_len(rest)?.checked_add(4)?,
        T::EmbeddedDocument | T::Array | T::JavaScriptCodeWithScope => read_len(rest)?,
        T::Binary => read_len(rest)?.checked_add(5)?,
        T::DbPointer => read_len(rest)?.checked_add(16)?,
        T::RegularExpression => {
            let pattern = rest.iter().position(|&b| b == 0)?;
            let options = rest.get(pattern + 1..)?.iter().position(|&b| b == 0)?;
            pattern + options + 2
        }
    };
    Some(size)
}

impl<'a> RawValue<'a> {
    /// The first `N` bytes of a fixed-size value.
    fn fixed<const N: usize>(self) -> Option<[u8; N]> {
        self.bytes.get(..N)?.try_into().ok()
    }

    /// Decodes the value through a one-field wrapper document; used for the
    /// types the scalar decoder below does not handle.
    fn decode_wrapped(self) -> Option<Bson> {
        let total = self.bytes.len().checked_add(7)?;
        let mut buf = Vec::with_capacity(total);
        buf.extend_from_slice(&i32::try_from(total).ok()?.to_le_bytes());
        buf.push(self.kind as u8);
        buf.push(0); // empty key
        buf.extend_from_slice(self.bytes);
        buf.push(0);
        let raw = RawDocument::from_bytes(&buf).ok()?;
        let value = raw.get("").ok()??;
        Bson::try_from(value).ok()
    }

    /// Decodes the value; `None` if its bytes are malformed.
    pub(crate) fn decode(self) -> Option<Bson> {
        use ElementType as T;
        let value = match self.kind {
            T::Double => Bson::Double(f64::from_le_bytes(self.fixed()?)),
            T::Int32 => Bson::Int32(i32::from_le_bytes(self.fixed()?)),
            T::Int64 => Bson::Int64(i64::from_le_bytes(self.fixed()?)),
            T::Decimal128 => Bson::Decimal128(bson::Decimal128::from_bytes(self.fixed()?)),
            T::Boolean => Bson::Boolean(*self.bytes.first()? != 0),
            T::Null => Bson::Null,
            T::Undefined => Bson::Undefined,
            T::MinKey => Bson::MinKey,
            T::MaxKey => Bson::MaxKey,
            T::DateTime => Bson::DateTime(bson::DateTime::from_millis(i64::from_le_bytes(
                self.fixed()?,
            ))),
            T::ObjectId => Bson::ObjectId(bson::oid::ObjectId::from_bytes(self.fixed()?)),
            T::String => Bson::String(self.as_str()?.to_owned()),
            T::EmbeddedDocument => Bson::Document(RawDoc(self.bytes).decode()?),
            T::Array => {
                let mut items = Vec::new();
                RawDoc(self.bytes).each_field(|_, item| {
                    items.push(item.decode()?);
                    Some(ControlFlow::Continue(()))
                })?;
                Bson::Array(items)
            }
            _ => self.decode_wrapped()?,
        };
        Some(value)
    }
}

impl<'a> Value<'a> for RawValue<'a> {
    type Doc = RawDoc<'a>;
    type Elements = RawElements<'a>;

    fn element_type(self) -> ElementType {
        self.kind
    }
    fn as_document(self) -> Option<RawDoc<'a>> {
        (self.kind == ElementType::EmbeddedDocument).then_some(RawDoc(self.bytes))
    }
    fn elements(self) -> Option<RawElements<'a>> {
        (self.kind == ElementType::Array).then(|| RawElements(RawDoc(self.bytes).fields()))
    }
    fn number(self) -> Option<Number> {
        use ElementType as T;
        match self.kind {
            T::Int32 => Some(Number::Int(i64::from(i32::from_le_bytes(self.fixed()?)))),
            T::Int64 => Some(Number::Int(i64::from_le_bytes(self.fixed()?))),
            T::Double => Some(Number::Float(f64::from_le_bytes(self.fixed()?))),
            T::Decimal128 => Number::of(&self.decode()?),
            _ => None,
        }
    }
    fn as_str(self) -> Option<&'a str> {
        match self.kind {
            // Length prefix, UTF-8 bytes, trailing NUL.
            ElementType::String | ElementType::Symbol => {
                let text = self.bytes.get(4..self.bytes.len().checked_sub(1)?)?;
                std::str::from_utf8(text).ok()
            }
            _ => None,
        }
    }
    fn as_bool(self) -> Option<bool> {
        match self.kind {
            ElementType::Boolean => self.bytes.first().map(|&b| b != 0),
            _ => None,
        }
    }
    fn to_bson(self) -> Option<Cow<'a, Bson>> {
        self.decode().map(Cow::Owned)
    }
}

/// Iterator over the elements of a raw array.
#[derive(Debug, Clone)]
pub(crate) struct RawElements<'a>(RawFields<'a>);

impl<'a> Iterator for RawElements<'a> {
    type Item = RawValue<'a>;
    fn next(&mut self) -> Option<RawValue<'a>> {
        self.0.next().map(|(_, value)| value)
    }
}

impl<'a> DocView<'a> for RawDoc<'a> {
    type Value = RawValue<'a>;
    fn get(self, key: &str) -> Option<RawValue<'a>> {
        self.find(key.as_bytes()).flatten()
    }
}

/// What a query walk reached at the end of a path.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Reached<V> {
    /// The path is absent here (matches `null` and `$exists: false`).
    Missing,
    /// A value. `expand` says whether a leaf array should also be matched
    /// element by element (false when the array was reached by an explicit
    /// index such as `a.0`, which the server does not expand).
    Value {
        /// The value at the end of the path.
        value: V,
        /// Whether a leaf array is matched element-wise too.
        expand: bool,
    },
}

/// Walks `path` from `doc` the way the query engine does and calls `visit`
/// for everything reached, stopping early (and returning true) as soon as
/// `visit` returns true.
///
/// - a missing field (or a scalar where a document was needed) is reached as
///   [`Reached::Missing`];
/// - an array met before the last segment fans out: each document element is
///   walked with the remaining path (other elements are skipped), and a
///   numeric segment also selects the element at that index (out of range is
///   missing).
pub(crate) fn walk<'a, D, F>(doc: D, path: &[Segment], visit: &mut F) -> bool
where
    D: DocView<'a>,
    F: FnMut(Reached<D::Value>) -> bool,
{
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    match doc.get(&first.name) {
        None => visit(Reached::Missing),
        Some(value) => walk_value(value, rest, true, visit),
    }
}

/// Continues [`walk`] from `value` with the segments left in `rest`.
fn walk_value<'a, V, F>(value: V, rest: &[Segment], expand: bool, visit: &mut F) -> bool
where
    V: Value<'a>,
    F: FnMut(Reached<V>) -> bool,
{
    let Some(next) = rest.first() else {
        return visit(Reached::Value { value, expand });
    };
    if let Some(doc) = value.as_document() {
        return walk(doc, rest, visit);
    }
    let Some(elements) = value.elements() else {
        return visit(Reached::Missing);
    };
    if let Some(index) = next.index {
        let found = match value.elements().and_then(|mut e| e.nth(index)) {
            Some(element) => walk_value(element, &rest[1..], false, visit),
            None => visit(Reached::Missing),
        };
        if found {
            return true;
        }
    }
    for element in elements {
        if let Some(doc) = element.as_document() {
            if walk(doc, rest, visit) {
                return true;
            }
        }
    }
    false
}

/// Like [`walk`], but a leaf array reached with `expand` is offered element
/// by element first and then as a whole — the candidates an ordinary
/// predicate (`$eq`, `$gt`, `$type`, …) is tried on. `None` means missing.
/// The filter inlines this walk; the tests use it to check both views agree.
#[cfg(test)]
pub(crate) fn walk_leaves<'a, D, F>(doc: D, path: &[Segment], visit: &mut F) -> bool
where
    D: DocView<'a>,
    F: FnMut(Option<D::Value>) -> bool,
{
    walk(doc, path, &mut |reached| match reached {
        Reached::Missing => visit(None),
        Reached::Value { value, expand } => {
            if expand {
                if let Some(elements) = value.elements() {
                    for element in elements {
                        if visit(Some(element)) {
                            return true;
                        }
                    }
                }
            }
            visit(Some(value))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::{doc, RawDocumentBuf};

    fn reached(doc: &Document, path: &str) -> Vec<Option<Bson>> {
        let path = FieldPath::parse(path).unwrap();
        let mut out = Vec::new();
        walk_leaves(doc, path.segments(), &mut |v: Option<&Bson>| {
            out.push(v.cloned());
            false
        });
        let raw = RawDocumentBuf::try_from(doc).unwrap();
        let mut raw_out = Vec::new();
        walk_leaves(RawDoc::new(&raw), path.segments(), &mut |v: Option<
            RawValue,
        >| {
            raw_out.push(v.map(|v| v.to_bson().unwrap().into_owned()));
            false
        });
        assert_eq!(out, raw_out, "raw and decoded walks differ");
        out
    }

    #[test]
    fn get_path_follows_documents_and_indexes() {
        let d = doc! {"a": {"b": [10, {"c": 3}]}, "x": 1};
        assert_eq!(get_path(&d, "a.b.0"), Some(&Bson::Int32(10)));
        assert_eq!(get_path(&d, "a.b.1.c"), Some(&Bson::Int32(3)));
        assert_eq!(get_path(&d, "a.b.c"), None);
        assert_eq!(get_path(&d, "a.b.5"), None);
        assert_eq!(get_path(&d, "x.y"), None);
        assert_eq!(get_path(&d, "x"), Some(&Bson::Int32(1)));
        assert_eq!(get_path(&d, ""), None);
    }

    #[test]
    fn array_index_accepts_digits_only() {
        assert_eq!(array_index("0"), Some(0));
        assert_eq!(array_index("01"), Some(1));
        assert_eq!(array_index("-1"), None);
        assert_eq!(array_index(""), None);
        assert_eq!(array_index("1a"), None);
        assert_eq!(array_index("99999999999999999999999"), None);
    }

    #[test]
    fn missing_and_scalars_in_the_middle_are_missing() {
        assert_eq!(reached(&doc! {}, "a.b"), vec![None]);
        assert_eq!(reached(&doc! {"a": 5}, "a.b"), vec![None]);
        assert_eq!(reached(&doc! {"a": null}, "a.b"), vec![None]);
    }

    #[test]
    fn arrays_fan_out_over_documents_only() {
        let d = doc! {"a": [1, {"b": 2}, {"c": 3}, [{"b": 4}]]};
        assert_eq!(reached(&d, "a.b"), vec![Some(Bson::Int32(2)), None]);
        assert!(reached(&doc! {"a": []}, "a.b").is_empty());
    }

    #[test]
    fn leaf_arrays_offer_elements_then_the_array() {
        let d = doc! {"a": [1, [2]]};
        assert_eq!(
            reached(&d, "a"),
            vec![
                Some(Bson::Int32(1)),
                Some(Bson::Array(vec![Bson::Int32(2)])),
                Some(Bson::Array(vec![
                    Bson::Int32(1),
                    Bson::Array(vec![Bson::Int32(2)])
                ])),
            ]
        );
    }

    #[test]
    fn numeric_segments_index_and_name_fields() {
        let d = doc! {"a": [{"0": "field"}, [1, 2]]};
        // a.0 → element 0 (not expanded), then field "0" of each document.
        assert_eq!(
            reached(&d, "a.0"),
            vec![
                Some(Bson::Document(doc! {"0": "field"})),
                Some(Bson::String("field".into()))
            ]
        );
        // Indexed leaf arrays are not expanded.
        assert_eq!(
            reached(&d, "a.1"),
            vec![
                Some(Bson::Array(vec![Bson::Int32(1), Bson::Int32(2)])),
                None
            ]
        );
        assert_eq!(reached(&doc! {"a": [1]}, "a.5"), vec![None]);
        // After an index, traversal continues normally.
        assert_eq!(
            reached(&doc! {"a": [[{"b": 1}]]}, "a.0.b"),
            vec![Some(Bson::Int32(1))]
        );
    }

    #[test]
    fn find_tells_absent_from_malformed() {
        let raw = RawDocumentBuf::try_from(&doc! {"a": 1, "b": {"c": 2}}).unwrap();
        let doc = RawDoc::new(&raw);
        assert!(matches!(doc.find(b"a"), Some(Some(_))));
        assert!(matches!(doc.find(b"z"), Some(None)));
        // The second element's type byte (after "a"'s 4 + 1 + 2 + 4 bytes)
        // made a NUL: the document seems to end early, before its last byte.
        let mut bytes = raw.as_bytes().to_vec();
        bytes[11] = 0;
        let broken = RawDoc(&bytes);
        assert!(matches!(broken.find(b"a"), Some(Some(_))));
        assert!(broken.find(b"b").is_none());
        assert!(broken.get("b").is_none());
    }

    #[test]
    fn nul_position_finds_the_first_nul() {
        for len in 0..40 {
            for nul in 0..=len {
                let mut bytes: Vec<u8> = (0..len).map(|i| 1 + (i % 255) as u8).collect();
                // 0x80 bytes and 0x01 bytes around the NUL are the cases
                // the word-at-a-time test could confuse.
                for b in bytes.iter_mut().skip(nul) {
                    *b = 0x80;
                }
                if nul < len {
                    bytes[nul] = 0;
                    if nul + 1 < len {
                        bytes[nul + 1] = 0x01;
                    }
                }
                let expected = bytes.iter().position(|&b| b == 0);
                assert_eq!(nul_position(&bytes), expected, "{bytes:?}");
            }
        }
    }

    #[test]
    fn overly_deep_paths_are_refused() {
        let deep = vec!["a"; MAX_PATH_DEPTH + 1].join(".");
        assert!(FieldPath::parse(&deep).is_err());
        assert!(FieldPath::parse("a.b").is_ok());
    }
}
