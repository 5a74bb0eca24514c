//! The simple stages: `$match`, `$sort`, `$limit`, `$skip`, `$unwind`, `$count`.

use bson::{Bson, Document};

use super::{blocking, map_each, set_path, Docs, Env, ParseCtx, Stage};
use crate::expr::path_segments;
use crate::expr::type_name;
use crate::filter::Filter;
use crate::sort::SortSpec;
use crate::{QueryError, QueryResult};

/// `$match`.
#[derive(Debug)]
struct Match(Filter);

impl Stage for Match {
    fn apply<'a>(&'a self, input: Docs<'a>, env: &'a Env) -> Docs<'a> {
        map_each(input, move |doc| {
            Ok(self.0.matches_with(&doc, env.vars())?.then_some(doc))
        })
    }

    fn as_filter(&self) -> Option<&Filter> {
        Some(&self.0)
    }
}

/// Parses `$match`.
pub(super) fn parse_match(arg: &Bson, ctx: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    match arg {
        Bson::Document(filter) => Ok(Box::new(Match(ctx.filter(filter)?))),
        _ => Err(QueryError::new(
            "the match filter must be an expression in an object",
        )),
    }
}

/// `$sort`: a stable sort, so equal keys keep their input order. With a
/// limit (a `$sort` right before a `$limit`) only the first `limit`
/// documents are kept while the input streams in.
#[derive(Debug)]
struct Sort {
    /// The sort keys.
    spec: SortSpec,
    /// How many documents the following `$limit` keeps, if coalesced.
    limit: Option<usize>,
}

impl Stage for Sort {
    fn apply<'a>(&'a self, input: Docs<'a>, _: &'a Env) -> Docs<'a> {
        blocking(input, move |input| match self.limit {
            None => {
                let mut docs = input.collect::<QueryResult<Vec<_>>>()?;
                docs.sort_by(|a, b| self.spec.compare(a, b));
                Ok(docs)
            }
            Some(k) => self.top(input, k),
        })
    }
}

impl Sort {
    /// The first `k` documents in sort order (ties in input order), holding
    /// at most about `2k` at a time: the buffer is sorted and cut back to
    /// `k` whenever it doubles, which keeps the earliest of equal keys since
    /// the sort is stable and later input is appended after them.
    fn top(&self, input: Docs<'_>, k: usize) -> QueryResult<Vec<Document>> {
        let cap = k.saturating_mul(2).max(64);
        let mut kept: Vec<Document> = Vec::new();
        for doc in input {
            kept.push(doc?);
            if kept.len() >= cap {
                kept.sort_by(|a, b| self.spec.compare(a, b));
                kept.truncate(k);
            }
        }
        kept.sort_by(|a, b| self.spec.compare(a, b));
        kept.truncate(k);
        Ok(kept)
    }
}

/// Parses a `$sort` specification.
fn sort_spec(arg: &Bson) -> QueryResult<SortSpec> {
    match arg {
        Bson::Document(spec) => {
            let sort = SortSpec::parse(spec)?;
            if sort.is_empty() {
                return Err(QueryError::new(
                    "$sort stage must have at least one sort key",
                ));
            }
            Ok(sort)
        }
        _ => Err(QueryError::new(
            "the $sort key specification must be an object",
        )),
    }
}

/// Parses `$sort`.
pub(super) fn parse_sort(arg: &Bson, _: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    Ok(Box::new(Sort {
        spec: sort_spec(arg)?,
        limit: None,
    }))
}

/// Parses a `$sort` followed by a `$limit` into one top-k stage.
pub(super) fn parse_sort_limit(sort: &Bson, limit: &Bson) -> QueryResult<Box<dyn Stage>> {
    let spec = sort_spec(sort)?;
    let limit = limit_argument(limit)?;
    Ok(Box::new(Sort {
        spec,
        limit: Some(usize::try_from(limit).unwrap_or(usize::MAX)),
    }))
}

/// Reads the non-negative integer argument of `$limit`/`$skip`, with the
/// server's messages.
fn count_argument(stage: &str, arg: &Bson) -> QueryResult<u64> {
    let invalid = |what: &str| {
        QueryError::new(format!(
            "invalid argument to {stage} stage: {what} {stage}: {arg}"
        ))
    };
    let n = match arg {
        Bson::Int32(i) => i64::from(*i),
        Bson::Int64(i) => *i,
        Bson::Double(f) if f.fract() != 0.0 || !f.is_finite() => {
            return Err(invalid("Expected an integer:"))
        }
        // In range of i64 after the check above, or saturated: fine for a count.
        Bson::Double(f) => *f as i64,
        Bson::Decimal128(d) => {
            let f = crate::compare::decimal_to_f64(d);
            if f.fract() != 0.0 || !f.is_finite() {
                return Err(invalid("Cannot represent as a 64-bit integer:"));
            }
            f as i64
        }
        _ => return Err(invalid("Expected a number in:")),
    };
    u64::try_from(n).map_err(|_| invalid("Expected a non-negative number in:"))
}

/// `$limit`.
#[derive(Debug)]
struct Limit(u64);

impl Stage for Limit {
    fn apply<'a>(&'a self, input: Docs<'a>, _: &'a Env) -> Docs<'a> {
        // An error counts as an item here, but it ends the run anyway.
        Box::new(input.take(usize::try_from(self.0).unwrap_or(usize::MAX)))
    }
}

/// Reads `$limit`'s argument, which must be positive.
fn limit_argument(arg: &Bson) -> QueryResult<u64> {
    match count_argument("$limit", arg)? {
        0 => Err(QueryError::new("the limit must be positive")),
        n => Ok(n),
    }
}

/// Parses `$limit`.
pub(super) fn parse_limit(arg: &Bson, _: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    Ok(Box::new(Limit(limit_argument(arg)?)))
}

/// `$skip`.
#[derive(Debug)]
struct Skip(u64);

impl Stage for Skip {
    fn apply<'a>(&'a self, input: Docs<'a>, _: &'a Env) -> Docs<'a> {
        // Only documents are skipped: an error always goes through.
        let mut left = self.0;
        Box::new(input.filter(move |item| {
            let skip = item.is_ok() && left > 0;
            left -= u64::from(skip);
            !skip
        }))
    }
}

/// Parses `$skip`.
pub(super) fn parse_skip(arg: &Bson, _: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    Ok(Box::new(Skip(count_argument("$skip", arg)?)))
}

/// `$count`: one document `{name: n}`, or none for no input.
#[derive(Debug)]
struct Count(String);

impl Stage for Count {
    fn apply<'a>(&'a self, input: Docs<'a>, _: &'a Env) -> Docs<'a> {
        blocking(input, move |input| {
            let mut count: u64 = 0;
            for item in input {
                item?;
                count += 1;
            }
            if count == 0 {
                return Ok(Vec::new());
            }
            let n = i32::try_from(count).map_or(Bson::Int64(count as i64), Bson::Int32);
            let mut doc = Document::new();
            doc.insert(self.0.clone(), n);
            Ok(vec![doc])
        })
    }
}

/// Parses `$count` and validates the output field name.
pub(super) fn parse_count(arg: &Bson, _: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    let name = match arg {
        Bson::String(s) if !s.is_empty() => s,
        _ => {
            return Err(QueryError::new(
                "the count field must be a non-empty string",
            ))
        }
    };
    if name.starts_with('$') {
        return Err(QueryError::new(
            "the count field cannot be a $-prefixed path",
        ));
    }
    if name.contains('.') {
        return Err(QueryError::new("the count field cannot contain '.'"));
    }
    if name == "_id" {
        // The server desugars $count into a $group whose _id this would repeat.
        return Err(QueryError::new("a group's _id may only be specified once"));
    }
    Ok(Box::new(Count(name.clone())))
}

/// `$unwind`.
#[derive(Debug)]
struct Unwind {
    /// The array field to unwind.
    path: Vec<String>,
    /// Where to put the element index, if asked.
    index_field: Option<Vec<String>>,
    /// Whether to keep documents whose array is missing, null or empty.
    preserve: bool,
}

impl Unwind {
    /// The value at the path, through documents only (an array on the way
    /// means the path is not there, as for the server's `$unwind`).
    fn value<'a>(&self, doc: &'a Document) -> Option<&'a Bson> {
        let (first, rest) = self.path.split_first()?;
        let mut current = doc.get(first)?;
        for segment in rest {
            current = match current {
                Bson::Document(d) => d.get(segment)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// The same value, to replace it.
    fn value_mut<'a>(&self, doc: &'a mut Document) -> Option<&'a mut Bson> {
        let (first, rest) = self.path.split_first()?;
        let mut current = doc.get_mut(first)?;
        for segment in rest {
            current = match current {
                Bson::Document(d) => d.get_mut(segment)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// Outputs the document unchanged (apart from the index field).
    fn pass(&self, mut doc: Document, index: Bson, out: &mut Vec<Document>) {
        if let Some(field) = &self.index_field {
            set_path(&mut doc, field, index);
        }
        out.push(doc);
    }
}

impl Stage for Unwind {
    fn apply<'a>(&'a self, input: Docs<'a>, _: &'a Env) -> Docs<'a> {
        Box::new(input.flat_map(move |item| -> Docs<'a> {
            match item {
                Ok(doc) => Box::new(self.unwind(doc).into_iter().map(Ok)),
                Err(err) => Box::new(std::iter::once(Err(err))),
            }
        }))
    }
}

impl Unwind {
    /// The documents one input document unwinds into.
    fn unwind(&self, mut doc: Document) -> Vec<Document> {
        let mut out = Vec::new();
        match self.value(&doc) {
            Some(Bson::Array(items)) if !items.is_empty() => {
                // Take the array out (leaving null in its place, so the
                // field keeps its position) to copy a smaller document.
                let items = match self.value_mut(&mut doc) {
                    Some(slot) => std::mem::replace(slot, Bson::Null),
                    None => return out,
                };
                let Bson::Array(items) = items else {
                    return out;
                };
                out.reserve(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    let mut copy = doc.clone();
                    if let Some(slot) = self.value_mut(&mut copy) {
                        *slot = item;
                    }
                    self.pass(copy, Bson::Int64(i as i64), &mut out);
                }
            }
            Some(Bson::Array(_)) if self.preserve => {
                // An empty array is removed from the preserved document.
                remove_path(&mut doc, &self.path);
                self.pass(doc, Bson::Null, &mut out);
            }
            Some(Bson::Null) | None | Some(Bson::Array(_)) => {
                if self.preserve {
                    self.pass(doc, Bson::Null, &mut out);
                }
            }
            // A non-array value is unwound as a one-element array.
            Some(_) => self.pass(doc, Bson::Null, &mut out),
        }
        out
    }
}

/// Removes a dotted path from a document, if it is there.
fn remove_path(doc: &mut Document, segments: &[String]) {
    let Some((last, parents)) = segments.split_last() else {
        return;
    };
    let mut current = doc;
    for segment in parents {
        current = match current.get_mut(segment) {
            Some(Bson::Document(d)) => d,
            _ => return,
        };
    }
    current.remove(last);
}

/// Parses `$unwind`'s path option, which must start with `$`.
fn unwind_path(path: &str) -> QueryResult<Vec<String>> {
    let Some(rest) = path.strip_prefix('$') else {
        return Err(QueryError::new(format!(
            "path option to $unwind stage should be prefixed with a '$': {path}"
        )));
    };
    if rest.is_empty() {
        return Err(QueryError::new("'$' by itself is not a valid FieldPath"));
    }
    path_segments(rest)
}

/// Parses `$unwind` in its string or document form.
pub(super) fn parse_unwind(arg: &Bson, _: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    let options = match arg {
        Bson::String(path) if path.is_empty() => {
            return Err(QueryError::new("no path specified to $unwind stage"))
        }
        Bson::String(path) => {
            let path = unwind_path(path)?;
            return Ok(Box::new(Unwind {
                path,
                index_field: None,
                preserve: false,
            }));
        }
        Bson::Document(options) => options,
        other => {
            return Err(QueryError::new(format!(
                "expected either a string or an object as specification for $unwind stage, got {}",
                type_name(Some(other))
            )))
        }
    };
    let mut unwind = Unwind {
        path: Vec::new(),
        index_field: None,
        preserve: false,
    };
    let mut has_path = false;
    for (key, value) in options {
        match (key.as_str(), value) {
            ("path", Bson::String(path)) => {
                unwind.path = unwind_path(path)?;
                has_path = true;
            }
            ("path", other) => {
                return Err(QueryError::new(format!(
                    "expected a string as the path for $unwind stage, got {}",
                    type_name(Some(other))
                )))
            }
            ("includeArrayIndex", Bson::String(name)) if !name.is_empty() => {
                if name.starts_with('$') {
                    return Err(QueryError::new(format!(
                        "includeArrayIndex option to $unwind stage should not be prefixed with a \
                         '$': {name}"
                    )));
                }
                unwind.index_field = Some(path_segments(name)?);
            }
            ("includeArrayIndex", other) => {
                return Err(QueryError::new(format!(
                    "expected a non-empty string for the includeArrayIndex  option to $unwind \
                     stage, got {}",
                    type_name(Some(other))
                )))
            }
            ("preserveNullAndEmptyArrays", Bson::Boolean(b)) => unwind.preserve = *b,
            ("preserveNullAndEmptyArrays", other) => {
                return Err(QueryError::new(format!(
                    "expected a boolean for the preserveNullAndEmptyArrays option to $unwind \
                     stage, got {}",
                    type_name(Some(other))
                )))
            }
            _ => {
                return Err(QueryError::new(format!(
                    "unrecognized option to $unwind stage: {key}"
                )))
            }
        }
    }
    if !has_path {
        return Err(QueryError::new("no path specified to $unwind stage"));
    }
    Ok(Box::new(unwind))
}
