//! `find()` projections.
//!
//! A projection is either an *inclusion* (only the named fields, `_id` by
//! default, plus computed fields) or an *exclusion* (everything but the named
//! fields). `$slice` fits either; `$elemMatch` and computed fields make it an
//! inclusion. Like the server (MongoDB 4.4+), a value other than a number,
//! a boolean, a sub-projection, `$slice` or `$elemMatch` is an aggregation
//! expression: `{a: "x"}` sets `a` to `"x"`, `{a: "$b"}` copies `b`.
//!
//! Paths are parsed into a tree. Dotted paths descend through documents and
//! through arrays of documents at every level (nested arrays included);
//! numeric segments are field names here, as on the server. Included fields
//! keep the document's field order; computed fields follow, in spec order.
//!
//! `$slice` is applied after the rest, as the server does: the sliced path
//! is looked up without fanning out over arrays (numeric segments index
//! them), an array found there is sliced, anything else is kept as is. A
//! top-level field, and any field of an exclusion projection, is sliced in
//! place; a nested field of an inclusion projection is added after the
//! included fields of its parent, and only when the path exists (its
//! top-level field then takes its place in document order).

use bson::{Bson, Document};

use super::compare::Number;
use super::expr::Expr;
use super::filter::ElementMatcher;
use super::path::{array_index, get_path, MAX_PATH_DEPTH};
use super::{QueryError, QueryResult};

/// A parsed `find()` projection.
#[derive(Debug, Clone)]
pub struct Projection {
    /// Inclusion or exclusion.
    mode: Mode,
    /// The fields walked, as a tree of path segments.
    root: Tree,
    /// Computed fields, as (dotted path segments, expression), in spec order.
    computed: Vec<(Vec<String>, Expr)>,
    /// `$slice`s, as (dotted path segments, slice), in spec order.
    slices: Vec<(Vec<String>, Slice)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// Whether a projection lists what to keep or what to drop.
enum Mode {
    /// Keep only the named fields (and `_id`).
    Inclusion,
    /// Keep everything but the named fields.
    Exclusion,
}

/// The projection of one document level, by field name in spec order.
#[derive(Debug, Clone, Default)]
struct Tree {
    /// (field name, spec) in spec order; few enough for a linear search.
    fields: Vec<(String, Spec)>,
}

#[derive(Debug, Clone)]
/// What a projection does with one field.
enum Spec {
    /// Keep the field.
    Include,
    /// Drop the field.
    Exclude,
    /// Project the fields of the value (documents, and arrays of them).
    Sub(Tree),
    /// Applied after the walk (see the module documentation).
    Slice,
    /// Keep the first array element matching the condition.
    ElemMatch(ElementMatcher),
    /// Set by an expression; the value is filled in after the walk.
    Computed,
}

/// The argument of `$slice`: `n` or `[skip, limit]`.
#[derive(Debug, Clone, Copy)]
struct Slice {
    /// Elements to skip (negative: from the end), for `[skip, limit]`.
    skip: Option<i64>,
    /// Elements to keep; with no `skip`, negative keeps the last ones.
    limit: i64,
}

impl Tree {
    /// Drops the entries applied after the walk (top-level slices stay: the
    /// walk includes them) and the sub-trees left empty.
    fn prune(&mut self, top_level: bool) {
        self.fields.retain_mut(|(_, spec)| match spec {
            Spec::Slice => top_level,
            Spec::Computed => false,
            Spec::Sub(sub) => {
                sub.prune(false);
                !sub.fields.is_empty()
            }
            _ => true,
        });
    }

    /// The spec for field `name`, if any.
    fn get(&self, name: &str) -> Option<&Spec> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, s)| s)
    }
}

impl Projection {
    /// Parses a projection, rejecting what the server rejects.
    pub fn parse(spec: &Document) -> QueryResult<Projection> {
        crate::depth::check_nesting(spec, "projection")?;
        let mut builder = Builder::default();
        builder.add_document(spec, &[])?;
        let mut root = builder.root;
        // Only `_id` named: `{_id: 1}` includes it alone, `{_id: 0}` excludes it.
        let mode = builder.mode.unwrap_or(match root.get("_id") {
            Some(Spec::Include) => Mode::Inclusion,
            _ => Mode::Exclusion,
        });
        if mode == Mode::Inclusion && root.get("_id").is_none() {
            // _id is included unless excluded explicitly.
            root.fields.insert(0, ("_id".to_owned(), Spec::Include));
        }
        // Slices and computed fields are applied after the walk; without them
        // a sub-tree may be left with nothing to walk, and must not create
        // an empty document in an inclusion.
        root.prune(true);
        Ok(Projection {
            mode,
            root,
            computed: builder.computed,
            slices: builder.slices,
        })
    }

    /// The nested slices of an inclusion whose path exists in `doc`, by
    /// top-level field name.
    fn nested_slice_parents<'a>(&'a self, doc: &Document) -> Vec<&'a str> {
        self.slices
            .iter()
            .filter(|(path, _)| path.len() > 1 && get_path(doc, &path.join(".")).is_some())
            .filter_map(|(path, _)| path.first().map(String::as_str))
            .collect()
    }

    /// Gives each top-level field that a nested slice will fill its place
    /// in document order (an empty document until the slice is set).
    fn with_slice_parents(&self, doc: &Document, included: Document) -> Document {
        let parents = self.nested_slice_parents(doc);
        if parents.is_empty() {
            return included;
        }
        let mut included = included;
        let mut out = Document::new();
        for key in doc.keys() {
            if let Some(value) = included.remove(key) {
                out.insert(key.clone(), value);
            } else if parents.contains(&key.as_str()) {
                out.insert(key.clone(), Document::new());
            }
        }
        out.extend(included);
        out
    }

    /// Projects one document.
    pub fn apply(&self, doc: &Document) -> QueryResult<Document> {
        let mut out = match self.mode {
            Mode::Inclusion => self.with_slice_parents(doc, include_document(doc, &self.root)?),
            Mode::Exclusion => exclude_document(doc, &self.root)?,
        };
        for (path, expr) in &self.computed {
            if let Some(value) = expr.evaluate(doc)? {
                set_path(&mut out, path, value);
            }
        }
        for (path, slice) in &self.slices {
            if self.mode == Mode::Inclusion && path.len() > 1 {
                if let Some(value) = get_path(doc, &path.join(".")) {
                    set_path(&mut out, path, slice_value(value, *slice));
                }
            } else if let Some(Bson::Array(items)) = get_path_mut(&mut out, path) {
                *items = slice.apply(items);
            }
        }
        Ok(out)
    }
}

/// Accumulates the tree and decides the mode while parsing.
#[derive(Debug, Default)]
struct Builder {
    /// Decided by the first inclusion or exclusion met.
    mode: Option<Mode>,
    /// The tree so far.
    root: Tree,
    /// Computed fields so far.
    computed: Vec<(Vec<String>, Expr)>,
    /// Slices so far.
    slices: Vec<(Vec<String>, Slice)>,
}

impl Builder {
    /// Adds every entry of `spec`, whose paths are relative to `prefix`.
    fn add_document(&mut self, spec: &Document, prefix: &[String]) -> QueryResult<()> {
        for (key, value) in spec {
            let mut path = prefix.to_vec();
            path.extend(parse_field_name(key)?);
            if path.len() > MAX_PATH_DEPTH {
                return Err(QueryError::new("projection is nested too deeply"));
            }
            self.add(&path, value)?;
        }
        Ok(())
    }

    /// Adds the entry `path: value`.
    fn add(&mut self, path: &[String], value: &Bson) -> QueryResult<()> {
        let dotted = path.join(".");
        let is_id = dotted == "_id";
        let spec = match value {
            Bson::Boolean(_)
            | Bson::Int32(_)
            | Bson::Int64(_)
            | Bson::Double(_)
            | Bson::Decimal128(_) => {
                let include =
                    Number::of(value).map_or(value == &Bson::Boolean(true), |n| n.as_f64() != 0.0);
                match (include, is_id) {
                    (true, true) => Spec::Include,
                    (false, true) => Spec::Exclude,
                    (true, false) => {
                        self.require(Mode::Inclusion, &dotted)?;
                        Spec::Include
                    }
                    (false, false) => {
                        self.require(Mode::Exclusion, &dotted)?;
                        Spec::Exclude
                    }
                }
            }
            Bson::Document(sub) => match sub.keys().next().map(String::as_str) {
                None => {
                    return Err(QueryError::new(format!(
                        "Invalid empty sub-projection: {dotted}"
                    )))
                }
                Some("$slice") => {
                    self.slices.push((path.to_vec(), parse_slice(sub)?));
                    Spec::Slice
                }
                Some("$elemMatch") => {
                    if path.len() > 1 {
                        return Err(QueryError::new(
                            "Cannot use $elemMatch projection on a nested field.",
                        ));
                    }
                    self.require(Mode::Inclusion, &dotted)?;
                    Spec::ElemMatch(parse_elem_match(sub)?)
                }
                Some("$meta") => {
                    return Err(QueryError::new(format!(
                        "$meta projection (on {dotted}) is not supported"
                    )))
                }
                Some(op) if op.starts_with('$') => self.add_computed(path, &dotted, value)?,
                Some(_) => return self.add_document(sub, path),
            },
            _ => self.add_computed(path, &dotted, value)?,
        };
        insert(&mut self.root, path, spec, &dotted)
    }

    /// Records a computed field (an inclusion-only feature).
    fn add_computed(&mut self, path: &[String], dotted: &str, value: &Bson) -> QueryResult<Spec> {
        if self.mode == Some(Mode::Exclusion) {
            return Err(QueryError::new(format!(
                "Cannot use an expression {dotted}: {value} in an exclusion projection"
            )));
        }
        self.mode = Some(Mode::Inclusion);
        self.computed.push((path.to_vec(), Expr::parse(value)?));
        Ok(Spec::Computed)
    }

    /// Records that `field` needs `mode`, refusing a mix of the two.
    fn require(&mut self, mode: Mode, field: &str) -> QueryResult<()> {
        match (self.mode, mode) {
            (Some(Mode::Inclusion), Mode::Exclusion) => Err(QueryError::new(format!(
                "Cannot do exclusion on field {field} in inclusion projection"
            ))),
            (Some(Mode::Exclusion), Mode::Inclusion) => Err(QueryError::new(format!(
                "Cannot do inclusion on field {field} in exclusion projection"
            ))),
            _ => {
                self.mode = Some(mode);
                Ok(())
            }
        }
    }
}

/// Splits a projection key, refusing what the server refuses.
fn parse_field_name(key: &str) -> QueryResult<Vec<String>> {
    let segments: Vec<String> = key.split('.').map(str::to_owned).collect();
    if segments.iter().any(|s| s == "$") {
        return Err(QueryError::new(format!(
            "positional projection ({key}) is not supported"
        )));
    }
    if segments.iter().any(String::is_empty) {
        return Err(QueryError::new(
            "FieldPath field names may not be empty strings.",
        ));
    }
    if segments.iter().any(|s| s.starts_with('$')) {
        return Err(QueryError::new(format!(
            "FieldPath field names may not start with '$'. Consider using $getField or $setField. \
             (projection key: {key})"
        )));
    }
    Ok(segments)
}

/// Adds `spec` at `path`, refusing a path that lies under or over another.
fn insert(tree: &mut Tree, path: &[String], spec: Spec, dotted: &str) -> QueryResult<()> {
    let Some((name, rest)) = path.split_first() else {
        return Ok(());
    };
    let position = tree.fields.iter().position(|(k, _)| k == name);
    if rest.is_empty() {
        if position.is_some() {
            return Err(QueryError::new(format!("Path collision at {dotted}")));
        }
        tree.fields.push((name.clone(), spec));
        return Ok(());
    }
    let index = match position {
        Some(index) => index,
        None => {
            tree.fields.push((name.clone(), Spec::Sub(Tree::default())));
            tree.fields.len() - 1
        }
    };
    match tree.fields.get_mut(index) {
        Some((_, Spec::Sub(sub))) => insert(sub, rest, spec, dotted),
        _ => Err(QueryError::new(format!(
            "Path collision at {dotted} remaining portion {}",
            rest.join(".")
        ))),
    }
}

/// `$slice: n` or `$slice: [skip, limit]` (limit positive).
fn parse_slice(spec: &Document) -> QueryResult<Slice> {
    let invalid = || QueryError::new("$slice only supports numbers and [skip, limit] arrays");
    if spec.len() != 1 {
        return Err(invalid());
    }
    let whole = |value: &Bson| match Number::of(value) {
        Some(Number::Int(i)) => Ok(i),
        Some(Number::Float(f)) if f.is_finite() => {
            Ok(f.trunc().clamp(i64::MIN as f64, i64::MAX as f64) as i64)
        }
        _ => Err(invalid()),
    };
    match spec.get("$slice") {
        Some(Bson::Array(args)) => match args.as_slice() {
            [skip, limit] => {
                let limit = whole(limit)?;
                if limit <= 0 {
                    return Err(QueryError::new("$slice limit must be positive"));
                }
                Ok(Slice {
                    skip: Some(whole(skip)?),
                    limit,
                })
            }
            _ => Err(invalid()),
        },
        Some(limit) => Ok(Slice {
            skip: None,
            limit: whole(limit)?,
        }),
        None => Err(invalid()),
    }
}

/// The condition of an `$elemMatch` projection.
fn parse_elem_match(spec: &Document) -> QueryResult<ElementMatcher> {
    match spec.get("$elemMatch") {
        Some(cond @ Bson::Document(_)) if spec.len() == 1 => ElementMatcher::parse(cond),
        Some(other) if spec.len() == 1 => Err(QueryError::new(format!(
            "elemMatch: Invalid argument, object required, but got {:?}",
            other.element_type()
        ))),
        _ => Err(QueryError::new(
            "$elemMatch projection takes a single condition",
        )),
    }
}

impl Slice {
    /// The selected part of `items` (negative numbers count from the end).
    fn apply(self, items: &[Bson]) -> Vec<Bson> {
        let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
        let (start, count) = match self.skip {
            None if self.limit >= 0 => (0, self.limit),
            None => (len.saturating_add(self.limit).max(0), len),
            Some(skip) if skip >= 0 => (skip.min(len), self.limit),
            Some(skip) => (len.saturating_add(skip).max(0), self.limit),
        };
        let start = usize::try_from(start).unwrap_or(usize::MAX);
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        items.iter().skip(start).take(count).cloned().collect()
    }
}

/// `$slice` applies to arrays; other values pass unchanged.
fn slice_value(value: &Bson, slice: Slice) -> Bson {
    match value {
        Bson::Array(items) => Bson::Array(slice.apply(items)),
        other => other.clone(),
    }
}

/// Inclusion: the fields of `doc` the tree names, in document order.
fn include_document(doc: &Document, tree: &Tree) -> QueryResult<Document> {
    let mut out = Document::new();
    for (key, value) in doc {
        let Some(spec) = tree.get(key) else { continue };
        let projected = match spec {
            // Top-level slices are included here and sliced after the walk.
            Spec::Include | Spec::Slice => Some(value.clone()),
            // Computed fields were pruned (set after the walk).
            Spec::Exclude | Spec::Computed => None,
            Spec::Sub(sub) => match value {
                Bson::Document(inner) => Some(Bson::Document(include_document(inner, sub)?)),
                Bson::Array(items) => Some(Bson::Array(include_array(items, sub)?)),
                _ => None,
            },
            Spec::ElemMatch(matcher) => first_match(value, matcher)?,
        };
        if let Some(projected) = projected {
            out.insert(key.clone(), projected);
        }
    }
    Ok(out)
}

/// Inclusion inside an array keeps only (projected) documents and arrays.
fn include_array(items: &[Bson], tree: &Tree) -> QueryResult<Vec<Bson>> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Bson::Document(inner) => out.push(Bson::Document(include_document(inner, tree)?)),
            Bson::Array(nested) => out.push(Bson::Array(include_array(nested, tree)?)),
            _ => {}
        }
    }
    Ok(out)
}

/// Exclusion: `doc` without the fields the tree drops.
fn exclude_document(doc: &Document, tree: &Tree) -> QueryResult<Document> {
    let mut out = Document::new();
    for (key, value) in doc {
        let projected = match tree.get(key) {
            None | Some(Spec::Include | Spec::Slice) => Some(value.clone()),
            Some(Spec::Exclude) => None,
            Some(Spec::Sub(sub)) => Some(exclude_value(value, sub)?),
            // Not present in exclusion mode (refused or pruned at parse time).
            Some(Spec::ElemMatch(_) | Spec::Computed) => Some(value.clone()),
        };
        if let Some(projected) = projected {
            out.insert(key.clone(), projected);
        }
    }
    Ok(out)
}

/// Exclusion below a field: documents and arrays are walked, scalars kept.
fn exclude_value(value: &Bson, tree: &Tree) -> QueryResult<Bson> {
    Ok(match value {
        Bson::Document(inner) => Bson::Document(exclude_document(inner, tree)?),
        Bson::Array(items) => Bson::Array(
            items
                .iter()
                .map(|item| exclude_value(item, tree))
                .collect::<QueryResult<_>>()?,
        ),
        other => other.clone(),
    })
}

/// `$elemMatch` projection: the first matching element, as a one-element
/// array; nothing when the value is not an array or nothing matches.
fn first_match(value: &Bson, matcher: &ElementMatcher) -> QueryResult<Option<Bson>> {
    let Bson::Array(items) = value else {
        return Ok(None);
    };
    for item in items {
        if matcher.matches(item)? {
            return Ok(Some(Bson::Array(vec![item.clone()])));
        }
    }
    Ok(None)
}

/// The value at `path` in `doc`, following documents and indexing arrays
/// with numeric segments (no fan-out), for in-place updates.
fn get_path_mut<'a>(doc: &'a mut Document, path: &[String]) -> Option<&'a mut Bson> {
    let (first, rest) = path.split_first()?;
    let mut current = doc.get_mut(first)?;
    for segment in rest {
        current = match current {
            Bson::Document(inner) => inner.get_mut(segment)?,
            Bson::Array(items) => items.get_mut(array_index(segment)?)?,
            _ => return None,
        };
    }
    Some(current)
}

/// Sets a computed value at `path`, replacing non-documents on the way (as
/// the server does: `{"x.q": 1}` turns an array `x` into `{q: 1}`).
fn set_path(doc: &mut Document, path: &[String], value: Bson) {
    let Some((name, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        // Computed fields come after included ones: re-inserting moves it.
        doc.remove(name);
        doc.insert(name.clone(), value);
        return;
    }
    if !matches!(doc.get(name), Some(Bson::Document(_))) {
        doc.insert(name.clone(), Document::new());
    }
    if let Some(Bson::Document(inner)) = doc.get_mut(name) {
        set_path(inner, rest, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;

    fn sample() -> Document {
        doc! {
            "_id": 0,
            "z": 1,
            "a": {"c": 2, "b": 1},
            "x": [{"b": 1, "c": 2}, 3, [{"b": 5}], {"c": 1}],
        }
    }

    fn project(spec: Document) -> Document {
        Projection::parse(&spec)
            .unwrap_or_else(|e| panic!("{spec}: {e}"))
            .apply(&sample())
            .unwrap()
    }

    fn error(spec: Document) -> String {
        Projection::parse(&spec).unwrap_err().message().to_owned()
    }

    // Every expected document below is what the server returned for the
    // same projection of `sample()`.

    #[test]
    fn inclusion_keeps_document_order_and_id() {
        assert_eq!(
            project(doc! {"x.b": 1, "a": 1}),
            doc! {"_id": 0, "a": {"c": 2, "b": 1}, "x": [{"b": 1}, [{"b": 5}], {}]}
        );
        assert_eq!(project(doc! {"a.b": 1}), doc! {"_id": 0, "a": {"b": 1}});
        assert_eq!(
            project(doc! {"a": 1, "_id": 0}),
            doc! {"a": {"c": 2, "b": 1}}
        );
        assert_eq!(project(doc! {"_id": 1}), doc! {"_id": 0});
        assert_eq!(
            project(doc! {"a": 5}),
            doc! {"_id": 0, "a": {"c": 2, "b": 1}}
        );
        assert_eq!(
            project(doc! {"a": 1.5}),
            doc! {"_id": 0, "a": {"c": 2, "b": 1}}
        );
        assert_eq!(
            project(doc! {"a": {"b": 1}}),
            doc! {"_id": 0, "a": {"b": 1}}
        );
        assert_eq!(project(doc! {"q": 1}), doc! {"_id": 0});
        assert_eq!(project(doc! {"a.q": 1}), doc! {"_id": 0, "a": {}});
        assert_eq!(project(doc! {"z.q": 1}), doc! {"_id": 0});
        assert_eq!(
            project(doc! {"x.0": 1}),
            doc! {"_id": 0, "x": [{}, [{}], {}]}
        );
    }

    #[test]
    fn exclusion_walks_arrays_and_keeps_scalars() {
        assert_eq!(
            project(doc! {"x.b": 0}),
            doc! {"_id": 0, "z": 1, "a": {"c": 2, "b": 1}, "x": [{"c": 2}, 3, [{}], {"c": 1}]}
        );
        assert_eq!(
            project(doc! {"a": 0, "_id": 0}),
            doc! {"z": 1, "x": [{"b": 1, "c": 2}, 3, [{"b": 5}], {"c": 1}]}
        );
        assert_eq!(project(doc! {"_id": 0}).len(), 3);
        assert_eq!(project(doc! {}), sample());
        assert_eq!(project(doc! {"z.q": 0}), sample());
        assert_eq!(
            project(doc! {"a": {"b": 0, "c": 0}}),
            doc! {"_id": 0, "z": 1, "a": {}, "x": [{"b": 1, "c": 2}, 3, [{"b": 5}], {"c": 1}]}
        );
        assert_eq!(project(doc! {"a": false, "_id": false}).len(), 2);
    }

    #[test]
    fn slices() {
        let x = |spec: Document| project(spec).get("x").cloned().unwrap();
        assert_eq!(
            x(doc! {"x": {"$slice": 1}}),
            bson::bson!([{"b": 1, "c": 2}])
        );
        assert_eq!(x(doc! {"x": {"$slice": -1}}), bson::bson!([{"c": 1}]));
        assert_eq!(
            x(doc! {"x": {"$slice": [1, 2]}}),
            bson::bson!([3, [{"b": 5}]])
        );
        assert_eq!(x(doc! {"x": {"$slice": [-1, 1]}}), bson::bson!([{"c": 1}]));
        assert_eq!(x(doc! {"x": {"$slice": [10, 1]}}), bson::bson!([]));
        assert_eq!(
            x(doc! {"x": {"$slice": [-10, 2]}}),
            bson::bson!([{"b": 1, "c": 2}, 3])
        );
        assert_eq!(x(doc! {"x": {"$slice": 0}}), bson::bson!([]));
        assert_eq!(
            x(doc! {"x": {"$slice": -10}}),
            sample().get("x").cloned().unwrap()
        );
        assert_eq!(
            x(doc! {"x": {"$slice": 1.5}}),
            bson::bson!([{"b": 1, "c": 2}])
        );
        // Alone, $slice keeps the other fields; with inclusions it is one.
        assert_eq!(project(doc! {"x": {"$slice": 1}}).len(), 4);
        assert_eq!(project(doc! {"a": {"$slice": 1}}), sample());
        assert_eq!(
            project(doc! {"z": 1, "x": {"$slice": [-3, 1]}}),
            doc! {"_id": 0, "z": 1, "x": [3]}
        );
        assert_eq!(
            project(doc! {"x": {"$slice": 1}, "z": 0}),
            doc! {"_id": 0, "a": {"c": 2, "b": 1}, "x": [{"b": 1, "c": 2}]}
        );
        assert_eq!(
            project(doc! {"_id": 0, "x": {"$slice": 1}}),
            doc! {"z": 1, "a": {"c": 2, "b": 1}, "x": [{"b": 1, "c": 2}]}
        );
    }

    #[test]
    fn nested_slices_do_not_fan_out_over_arrays() {
        let docs = [
            doc! {"_id": 0, "z": 1, "b": {"c": [1, 2], "d": 1}},
            doc! {"_id": 1, "z": 1, "b": {"d": 1}},
            doc! {"_id": 2, "z": 1, "b": [{"c": [1, 2]}, {"d": 1}, 5, [{"c": [3, 4]}]]},
            doc! {"_id": 3, "z": 1, "b": 5},
            doc! {"_id": 4, "z": 1, "b": []},
            doc! {"_id": 5, "z": 1, "b": {"c": 7}},
        ];
        let apply = |spec: Document| -> Vec<Document> {
            let p = Projection::parse(&spec).unwrap();
            docs.iter().map(|d| p.apply(d).unwrap()).collect()
        };
        // server: the same documents.
        assert_eq!(
            apply(doc! {"z": 1, "b.c": {"$slice": 1}}),
            vec![
                doc! {"_id": 0, "z": 1, "b": {"c": [1]}},
                doc! {"_id": 1, "z": 1},
                doc! {"_id": 2, "z": 1},
                doc! {"_id": 3, "z": 1},
                doc! {"_id": 4, "z": 1},
                doc! {"_id": 5, "z": 1, "b": {"c": 7}},
            ]
        );
        let excluded = apply(doc! {"b.c": {"$slice": 1}});
        assert_eq!(
            excluded[0],
            doc! {"_id": 0, "z": 1, "b": {"c": [1], "d": 1}}
        );
        assert_eq!(excluded[2], docs[2]);
        assert_eq!(
            apply(doc! {"z": 1, "b.c": {"$slice": 1}, "b.d": 1}),
            vec![
                doc! {"_id": 0, "z": 1, "b": {"d": 1, "c": [1]}},
                doc! {"_id": 1, "z": 1, "b": {"d": 1}},
                doc! {"_id": 2, "z": 1, "b": [{}, {"d": 1}, [{}]]},
                doc! {"_id": 3, "z": 1},
                doc! {"_id": 4, "z": 1, "b": []},
                doc! {"_id": 5, "z": 1, "b": {"c": 7}},
            ]
        );
        // server: a numeric segment indexes the array.
        let indexed = Projection::parse(&doc! {"a.0": {"$slice": [1, 1]}}).unwrap();
        assert_eq!(
            indexed
                .apply(&doc! {"a": [[-1, 2, 3], [], {"1": 3}]})
                .unwrap(),
            doc! {"a": [[2], [], {"1": 3}]}
        );
    }

    #[test]
    fn elem_match_projection() {
        assert_eq!(
            project(doc! {"x": {"$elemMatch": {"b": 1}}}),
            doc! {"_id": 0, "x": [{"b": 1, "c": 2}]}
        );
        assert_eq!(
            project(doc! {"x": {"$elemMatch": {"c": {"$gte": 1}}}}),
            doc! {"_id": 0, "x": [{"b": 1, "c": 2}]}
        );
        assert_eq!(
            project(doc! {"x": {"$elemMatch": {"$gt": 2}}}),
            doc! {"_id": 0, "x": [3]}
        );
        assert_eq!(
            project(doc! {"a": {"$elemMatch": {"b": 1}}}),
            doc! {"_id": 0}
        );
        assert_eq!(
            project(doc! {"z": 1, "x": {"$elemMatch": {"b": 7}}}),
            doc! {"_id": 0, "z": 1}
        );
        assert_eq!(
            project(doc! {"x": {"$elemMatch": {"b": 1}}, "z": 1}),
            doc! {"_id": 0, "z": 1, "x": [{"b": 1, "c": 2}]}
        );
    }

    #[test]
    fn computed_fields_follow_included_ones() {
        assert_eq!(project(doc! {"a": "x"}), doc! {"_id": 0, "a": "x"});
        assert_eq!(
            project(doc! {"q": "x", "z": 1}),
            doc! {"_id": 0, "z": 1, "q": "x"}
        );
        assert_eq!(
            project(doc! {"a": "x", "z": 1}),
            doc! {"_id": 0, "z": 1, "a": "x"}
        );
        assert_eq!(project(doc! {"a": "$z"}), doc! {"_id": 0, "a": 1});
        assert_eq!(project(doc! {"a": null}), doc! {"_id": 0, "a": null});
        assert_eq!(project(doc! {"_id": 0, "q": "$nope"}), doc! {});
        assert_eq!(project(doc! {"_id": "x"}), doc! {"_id": "x"});
        assert_eq!(
            project(doc! {"z": 1, "a.q": "x"}),
            doc! {"_id": 0, "z": 1, "a": {"q": "x"}}
        );
        assert_eq!(project(doc! {"x.q": "v"}), doc! {"_id": 0, "x": {"q": "v"}});
        assert_eq!(
            project(doc! {"a": 1, "q": {"$eq": [1, 1]}}),
            doc! {"_id": 0, "a": {"c": 2, "b": 1}, "q": true}
        );
    }

    #[test]
    fn errors_like_the_server() {
        assert_eq!(
            error(doc! {"a": 1, "z": 0}),
            "Cannot do exclusion on field z in inclusion projection"
        );
        assert_eq!(
            error(doc! {"a": 0, "z": 1}),
            "Cannot do inclusion on field z in exclusion projection"
        );
        assert_eq!(
            error(doc! {"a": true, "z": false}),
            "Cannot do exclusion on field z in inclusion projection"
        );
        assert_eq!(
            error(doc! {"a": {"b": 1, "c": 0}}),
            "Cannot do exclusion on field a.c in inclusion projection"
        );
        assert_eq!(
            error(doc! {"x": {"$elemMatch": {"b": 1}}, "z": 0}),
            "Cannot do exclusion on field z in inclusion projection"
        );
        assert_eq!(
            error(doc! {"a": 0, "q": "x"}),
            "Cannot use an expression q: \"x\" in an exclusion projection"
        );
        assert_eq!(
            error(doc! {"a": 1, "a.b": 1}),
            "Path collision at a.b remaining portion b"
        );
        assert_eq!(error(doc! {"a.b": 1, "a": 1}), "Path collision at a");
        assert_eq!(
            error(doc! {"a.b": 1, "a": {"$slice": 1}}),
            "Path collision at a"
        );
        assert_eq!(
            error(doc! {"x": 1, "x.b": {"$slice": 1}}),
            "Path collision at x.b remaining portion b"
        );
        assert_eq!(error(doc! {"a": {}}), "Invalid empty sub-projection: a");
        assert!(error(doc! {"x.$": 1}).contains("not supported"));
        assert!(error(doc! {"a": {"$meta": "textScore"}}).contains("not supported"));
        assert!(error(doc! {"a": {"$foo": 1}}).contains("$foo"));
        assert_eq!(
            error(doc! {"x.b": {"$elemMatch": {"b": 1}}}),
            "Cannot use $elemMatch projection on a nested field."
        );
        assert!(error(doc! {"x": {"$elemMatch": 1}}).starts_with("elemMatch: Invalid argument"));
        assert!(error(doc! {"$a": 1}).contains("'$'"));
        assert!(error(doc! {"a..b": 1}).contains("empty"));
        assert!(error(doc! {"": 1}).contains("empty"));
        assert_eq!(
            error(doc! {"x": {"$slice": [1, -1]}}),
            "$slice limit must be positive"
        );
        assert!(error(doc! {"x": {"$slice": "a"}}).contains("$slice"));
        assert!(error(doc! {"x": {"$slice": [1]}}).contains("$slice"));
        assert!(error(doc! {"x": {"$slice": [1, 2, 3]}}).contains("$slice"));
        assert!(error(doc! {"x": {"$slice": f64::NAN}}).contains("$slice"));
    }
}
