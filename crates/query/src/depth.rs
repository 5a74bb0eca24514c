//! How deep an input may nest, checked without recursion.
//!
//! Everything that reads a document recursively — the engine's parsers,
//! `Clone`, `Drop`, BSON encoding, a driver sending a command — uses one
//! stack frame (or several) per level of nesting. A filter of `$and` nested
//! 100,000 levels would overflow any thread's stack long before a parser's
//! own depth limit is reached, and a stack overflow aborts the process. So
//! every entry point checks the input's nesting first, with the loops here,
//! which use no stack per level and stop as soon as the limit is passed
//! (their memory is bounded by the limit too, not by the input).
//!
//! ```
//! use bson::{doc, Bson};
//! use yamlett_query::depth::{check_nesting, MAX_NESTING};
//!
//! assert!(check_nesting(&doc! { "a": { "b": [1] } }, "filter").is_ok());
//!
//! // A filter nested deeper than any parser should ever see.
//! let mut deep = Bson::Int32(1);
//! for _ in 0..10_000 {
//!     deep = Bson::Document(doc! { "$and": [deep] });
//! }
//! let Bson::Document(deep) = deep else { unreachable!() };
//! let err = check_nesting(&deep, "filter").unwrap_err();
//! assert!(err.message().contains(&MAX_NESTING.to_string()));
//! // Dropping it would recurse 20,000 levels: free it without recursion.
//! yamlett_query::depth::drop_deep(Bson::Document(deep));
//! ```

use bson::{Bson, Document};

use crate::{QueryError, QueryResult};

/// The deepest nesting of documents and arrays any input may have, the
/// top-level document counting as 1: the MongoDB server's own limit for
/// the BSON of a command (`maxBSONDepth`, 200), so both stores refuse the
/// same inputs. Well below what a parser's recursion can afford on a small
/// thread stack.
pub const MAX_NESTING: usize = 200;

/// Refuses `doc` (a filter, projection, sort, update or pipeline stage,
/// named by `what` in the message) when it nests deeper than
/// [`MAX_NESTING`], without recursion.
pub fn check_nesting(doc: &Document, what: &str) -> QueryResult<()> {
    check_nesting_within(doc, MAX_NESTING, what)
}

/// [`check_nesting`] with a limit of the caller's.
pub fn check_nesting_within(doc: &Document, limit: usize, what: &str) -> QueryResult<()> {
    match nesting_beyond(Level::Document(doc.values()), limit) {
        false => Ok(()),
        true => Err(QueryError::new(format!(
            "the {what} exceeds the nesting depth limit of {limit} levels"
        ))),
    }
}

/// Whether `value` has more than `levels` levels of documents and arrays,
/// itself included (a scalar has none), without recursion: a stored
/// value has MongoDB's 100 levels, minus those of the key it is stored
/// under.
pub fn value_nests_beyond(value: &Bson, levels: usize) -> bool {
    match value {
        Bson::Document(doc) => nesting_beyond(Level::Document(doc.values()), levels),
        Bson::Array(items) => nesting_beyond(Level::Array(items.iter()), levels),
        _ => false,
    }
}

/// A document or array being walked.
enum Level<'a> {
    Document(bson::document::Values<'a>),
    Array(std::slice::Iter<'a, Bson>),
}

/// Whether `top` has more than `limit` levels, itself included. Depth
/// first, with an explicit stack of iterators that never holds more than
/// `limit` of them.
fn nesting_beyond(top: Level<'_>, limit: usize) -> bool {
    if limit == 0 {
        return true;
    }
    let mut stack = vec![top];
    while let Some(level) = stack.last_mut() {
        let next = match level {
            Level::Document(values) => values.next(),
            Level::Array(items) => items.next(),
        };
        let child = match next {
            Some(Bson::Document(doc)) => Level::Document(doc.values()),
            Some(Bson::Array(items)) => Level::Array(items.iter()),
            Some(_) => continue,
            None => {
                stack.pop();
                continue;
            }
        };
        if stack.len() == limit {
            return true;
        }
        stack.push(child);
    }
    false
}

/// Frees a value of any depth without recursion (dropping a deeply nested
/// value the ordinary way recurses once per level). Whoever takes an input
/// by value and refuses it for its depth frees it with this.
pub fn drop_deep(value: Bson) {
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            // Each child moves to `pending` before its parent is freed, so
            // every drop here frees one shallow level.
            Bson::Document(doc) => pending.extend(doc.into_iter().map(|(_, child)| child)),
            Bson::Array(items) => pending.extend(items),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;

    fn nested(levels: usize, wrap: fn(Bson) -> Bson) -> Document {
        let mut value = Bson::Int32(1);
        for _ in 1..levels {
            value = wrap(value);
        }
        doc! { "v": value }
    }

    fn in_doc(value: Bson) -> Bson {
        Bson::Document(doc! { "d": value })
    }

    fn in_array(value: Bson) -> Bson {
        Bson::Array(vec![value])
    }

    #[test]
    fn counts_documents_and_arrays_alike_with_the_top_level_as_one() {
        for wrap in [in_doc as fn(Bson) -> Bson, in_array] {
            // `nested(n)` holds n - 1 wrappers below the top document.
            assert!(check_nesting_within(&nested(5, wrap), 5, "x").is_ok());
            let err = check_nesting_within(&nested(6, wrap), 5, "filter").unwrap_err();
            assert_eq!(
                err.message(),
                "the filter exceeds the nesting depth limit of 5 levels"
            );
        }
        assert!(check_nesting_within(&doc! {}, 1, "x").is_ok());
        assert!(check_nesting_within(&doc! { "a": {} }, 1, "x").is_err());
        assert!(check_nesting_within(&doc! {}, 0, "x").is_err());
        assert!(!value_nests_beyond(&Bson::Int32(1), 0));
        assert!(value_nests_beyond(&Bson::Array(vec![]), 0));
        assert!(!value_nests_beyond(
            &Bson::Array(vec![Bson::Array(vec![])]),
            2
        ));
        assert!(value_nests_beyond(
            &Bson::Array(vec![Bson::Array(vec![])]),
            1
        ));
    }

    #[test]
    fn a_deep_branch_after_shallow_ones_is_found() {
        let mut wide = doc! { "a": 1, "b": [1, 2, { "c": 3 }], "e": {} };
        wide.insert("z", nested(10, in_array));
        assert!(check_nesting_within(&wide, 11, "x").is_ok());
        assert!(check_nesting_within(&wide, 10, "x").is_err());
    }

    #[test]
    fn a_hundred_thousand_levels_are_refused_and_freed_on_a_small_stack() {
        let outcome = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let deep = nested(100_000, in_doc);
                let refused = check_nesting(&deep, "filter").is_err();
                drop_deep(Bson::Document(deep));
                refused
            })
            .expect("spawn")
            .join()
            .expect("no stack overflow");
        assert!(outcome);
    }
}
