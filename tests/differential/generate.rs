//! Property-based differential cases: random document sets with small value
//! domains (so predicates do match), and many random filters and sorted
//! finds per set (inserting is the slow part, querying is cheap).
//!
//! A random filter finds nothing in most document sets, so most filters
//! are drawn from the inserted documents instead ([`present`]): conditions
//! that a value found in one document satisfies, alone, and'ed, or'ed with
//! a random filter; a quarter are random filters (which produce every
//! operator), and sorted finds mostly `$or` several filters.
//!
//! Constructs on which the test server is known to contradict the manual
//! (the `deviations` of `corpus.rs`) are not generated:
//! - `$mod` only gets two int32 arguments (no floats, NaN, strings, extra
//!   elements), and never on a positional path (`a.0`);
//! - `$all` only gets scalars other than null, and at most one on a
//!   dotted path;
//! - `$elemMatch` never starts with a logical operator;
//! - `$expr` only names top-level fields (no `$a.b` through arrays), and
//!   `$eq`/`$ne` compare a field with a constant, never two fields (the
//!   server finds `[false]` equal to `[0]`);
//! - no BinData, no operator documents mixing `$op` keys with field names;
//! - sorts only on top-level fields and array positions (`a.0`), not on
//!   field names reached through arrays of documents (the server orders a
//!   wholly missing path before elements lacking the field).

use bson::{Bson, Decimal128, Document};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};

use std::sync::atomic::{AtomicUsize, Ordering};

use super::{find, Agreement, Case, Pair};

/// Runners working in parallel threads, each with its own seed.
pub(crate) const PARTS: u64 = 4;
/// Document sets per runner (`YAMLETT_DIFF_SETS` overrides, to fuzz longer).
const SETS_PER_PART: u32 = 16;
/// Filters per document set.
const FILTERS_PER_SET: usize = 56;
/// Sorted, projected, paged finds per document set.
const FINDS_PER_SET: usize = 14;

const FIELDS: [&str; 3] = ["a", "b", "c"];
const KEYS: [&str; 2] = ["b", "c"];
const PATHS: [&str; 9] = ["a", "b", "c", "a.b", "a.c", "a.0", "a.1", "a.b.c", "b.c"];
/// Sort keys: no field names under arrays of documents (a known deviation).
const SORT_PATHS: [&str; 5] = ["a", "b", "c", "a.0", "a.1"];

pub(crate) fn dec(text: &str) -> Bson {
    Bson::Decimal128(text.parse::<Decimal128>().expect("decimal"))
}

fn scalar() -> BoxedStrategy<Bson> {
    prop_oneof![
        3 => Just(Bson::Null),
        6 => (0i32..3).prop_map(Bson::Int32),
        2 => (1i64..3).prop_map(Bson::Int64),
        2 => prop::sample::select(&[1.0, 1.5, -0.0][..]).prop_map(Bson::Double),
        1 => Just(Bson::Double(f64::NAN)),
        2 => prop::sample::select(&["1", "2.5"][..]).prop_map(dec),
        3 => prop::sample::select(&["x", "y", "xy", "X"][..]).prop_map(|s| Bson::String(s.into())),
        2 => any::<bool>().prop_map(Bson::Boolean),
    ]
    .boxed()
}

/// `$all: [null]` not matching missing fields is a known server deviation.
fn non_null_scalar() -> BoxedStrategy<Bson> {
    scalar()
        .prop_filter("$all: [null] is a server deviation", |v| *v != Bson::Null)
        .boxed()
}

fn value() -> BoxedStrategy<Bson> {
    scalar()
        .prop_recursive(3, 16, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Bson::Array),
                prop::collection::vec((prop::sample::select(&KEYS[..]), inner), 0..3)
                    .prop_map(|fields| Bson::Document(fields_doc(fields))),
            ]
        })
        .boxed()
}

pub(crate) fn fields_doc(fields: Vec<(&str, Bson)>) -> Document {
    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

pub(crate) fn doc_of(key: &str, value: Bson) -> Document {
    let mut d = Document::new();
    d.insert(key, value);
    d
}

pub(crate) fn op_doc(key: &str, value: Bson) -> Bson {
    Bson::Document(doc_of(key, value))
}

/// A document set: `_id`s d0, d1, … and up to three top-level fields.
fn documents() -> impl Strategy<Value = Vec<Document>> {
    prop::collection::vec(
        prop::collection::vec((prop::sample::select(&FIELDS[..]), value()), 0..4),
        4..10,
    )
    .prop_map(|docs| {
        docs.into_iter()
            .enumerate()
            .map(|(i, fields)| {
                let mut d = Document::new();
                d.insert("_id", format!("d{i}"));
                d.extend(fields_doc(fields));
                d
            })
            .collect()
    })
}

const COMPARISONS: [&str; 6] = ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"];

/// A condition on one path: a value (equality) or an operator document.
fn condition() -> BoxedStrategy<Bson> {
    let op = || prop::sample::select(&COMPARISONS[..]);
    let leaf = prop_oneof![
        4 => value(),
        8 => (op(), value()).prop_map(|(op, v)| op_doc(op, v)),
        2 => prop::collection::vec(value(), 0..4).prop_map(|v| op_doc("$in", Bson::Array(v))),
        2 => prop::collection::vec(value(), 0..4).prop_map(|v| op_doc("$nin", Bson::Array(v))),
        2 => prop::collection::vec(non_null_scalar(), 0..3).prop_map(|v| op_doc("$all", Bson::Array(v))),
        2 => any::<bool>().prop_map(|b| op_doc("$exists", Bson::Boolean(b))),
        2 => prop_oneof![
            prop::sample::select(
                &["number", "array", "object", "null", "string", "double", "int", "long", "decimal", "bool"][..]
            )
            .prop_map(|t| Bson::String(t.into())),
            prop::sample::select(&[1, 2, 3, 4, 8, 10, 16, 18, 19][..]).prop_map(Bson::Int32),
        ]
        .prop_map(|t| op_doc("$type", t)),
        2 => (0i32..4).prop_map(|n| op_doc("$size", Bson::Int32(n))),
        1 => prop::sample::select(&[[2, 1], [2, 0], [3, 2], [-2, -1]][..])
            .prop_map(|[d, r]| op_doc("$mod", Bson::Array(vec![Bson::Int32(d), Bson::Int32(r)]))),
        2 => (prop::sample::select(&["^x", "y$", "x", "^X$"][..]), any::<bool>()).prop_map(
            |(re, insensitive)| {
                let mut d = doc_of("$regex", Bson::String(re.into()));
                if insensitive {
                    d.insert("$options", "i");
                }
                Bson::Document(d)
            }
        ),
        2 => (op(), scalar()).prop_map(|(op, v)| op_doc("$not", op_doc(op, v))),
        1 => prop::collection::vec((op(), scalar()), 1..3).prop_map(|ops| {
            // A range: {$gt: x, $lt: y}.
            Bson::Document(ops.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
        }),
    ];
    leaf.prop_recursive(2, 8, 2, |inner| {
        let op = || prop::sample::select(&COMPARISONS[..]);
        prop_oneof![
            (op(), scalar()).prop_map(|(op, v)| op_doc("$elemMatch", op_doc(op, v))),
            prop::collection::vec((prop::sample::select(&KEYS[..]), inner.clone()), 1..3)
                .prop_map(|fields| op_doc("$elemMatch", Bson::Document(fields_doc(fields)))),
            inner.prop_map(|c| match c {
                Bson::Document(d) if d.keys().all(|k| k.starts_with('$')) && !d.is_empty() => {
                    op_doc("$not", Bson::Document(d))
                }
                other => other,
            }),
        ]
    })
    .boxed()
}

/// `$all` with several values on a dotted path is a known server deviation.
fn avoids_deviations(path: &str, condition: &Bson) -> bool {
    match condition {
        Bson::Document(d) => d.iter().all(|(k, v)| match (k.as_str(), v) {
            ("$all", Bson::Array(items)) => !path.contains('.') || items.len() <= 1,
            ("$mod", _) => !path
                .split('.')
                .any(|segment| segment.bytes().all(|b| b.is_ascii_digit())),
            ("$elemMatch", Bson::Document(inner)) => inner
                .iter()
                .all(|(k, v)| avoids_deviations(&format!("{path}.{k}"), v)),
            ("$not", inner) => avoids_deviations(path, inner),
            _ => true,
        }),
        _ => true,
    }
}

fn clause() -> BoxedStrategy<Document> {
    let field = (prop::sample::select(&PATHS[..]), condition())
        .prop_filter("known server deviation", |(p, c)| avoids_deviations(p, c))
        .prop_map(|(p, c)| doc_of(p, c));
    let expr = (
        prop::sample::select(&COMPARISONS[..]),
        prop::sample::select(&["$a", "$b", "$c"][..]),
        prop_oneof![
            scalar(),
            prop::sample::select(&["$a", "$b", "$c"][..]).prop_map(|p| Bson::String(p.into()))
        ],
    )
        .prop_filter(
            "$eq/$ne of two fields is a known server deviation",
            |(op, _, rhs)| {
                !(matches!(*op, "$eq" | "$ne")
                    && matches!(rhs, Bson::String(s) if s.starts_with('$')))
            },
        )
        .prop_map(|(op, path, rhs)| {
            doc_of(
                "$expr",
                op_doc(op, Bson::Array(vec![Bson::String(path.into()), rhs])),
            )
        });
    prop_oneof![6 => field, 1 => expr].boxed()
}

pub(crate) fn filter() -> BoxedStrategy<Document> {
    clause()
        .prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                (
                    prop::sample::select(&["$and", "$or", "$nor"][..]),
                    prop::collection::vec(inner.clone(), 1..4),
                )
                    .prop_map(|(op, clauses)| {
                        doc_of(
                            op,
                            Bson::Array(clauses.into_iter().map(Bson::Document).collect()),
                        )
                    }),
                // Several conditions in one filter document (an implicit $and).
                prop::collection::vec(inner, 2..3).prop_map(|clauses| {
                    let mut d = Document::new();
                    for c in clauses {
                        for (k, v) in c {
                            if !d.contains_key(&k) {
                                d.insert(k, v);
                            }
                        }
                    }
                    d
                }),
            ]
        })
        .boxed()
}

/// A value found in an inserted document, and where.
#[derive(Clone, Debug)]
struct Found {
    /// The path a filter names it by (`a`, `a.b`, `a.0`, …).
    path: String,
    value: Bson,
    /// `value` is the path's whole value (perhaps reached through an
    /// array of documents), not one element of an array there: `$size`
    /// and `$elemMatch` see it whole.
    whole: bool,
}

/// What a filter can find in `doc`: every field's value at its path, the
/// fields of embedded documents (also through arrays of them), the
/// elements of arrays (by the array's path and by position). `_id` only
/// if nothing else is there.
fn found_in(doc: &Document) -> Vec<Found> {
    fn walk(path: String, value: &Bson, out: &mut Vec<Found>) {
        match value {
            Bson::Document(d) => {
                for (k, v) in d {
                    walk(format!("{path}.{k}"), v, out);
                }
            }
            Bson::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    out.push(Found {
                        path: path.clone(),
                        value: item.clone(),
                        whole: false,
                    });
                    if i < 2 {
                        walk(format!("{path}.{i}"), item, out);
                    }
                    if let Bson::Document(d) = item {
                        for (k, v) in d {
                            walk(format!("{path}.{k}"), v, out);
                        }
                    }
                }
            }
            _ => {}
        }
        out.push(Found {
            path,
            value: value.clone(),
            whole: true,
        });
    }
    let mut out = Vec::new();
    for (k, v) in doc.iter().filter(|(k, _)| *k != "_id") {
        walk(k.clone(), v, &mut out);
    }
    if out.is_empty() {
        walk(
            "_id".to_owned(),
            doc.get("_id").unwrap_or(&Bson::Null),
            &mut out,
        );
    }
    out
}

/// `$type`'s name for `value`'s type.
pub(crate) fn type_name(value: &Bson) -> &'static str {
    match value {
        Bson::Double(_) => "double",
        Bson::String(_) => "string",
        Bson::Document(_) => "object",
        Bson::Array(_) => "array",
        Bson::Boolean(_) => "bool",
        Bson::Int32(_) => "int",
        Bson::Int64(_) => "long",
        Bson::Decimal128(_) => "decimal",
        _ => "null",
    }
}

fn positional(path: &str) -> bool {
    path.split('.')
        .any(|segment| segment.bytes().all(|b| b.is_ascii_digit()))
}

/// A condition that `found`'s document satisfies, by `kind`: equality,
/// `$exists`, `$type`, a bound or a range around the value, `$in` with
/// `other`, `$not` of `$ne`, or by the value's type `$size`, `$regex`,
/// `$mod`, `$all`, `$elemMatch`, `$expr`. Kinds that do not fit the value
/// (or a known deviation: see the header) fall back to equality.
fn condition_on(found: &Found, kind: u8, variant: u8, other: &Bson) -> Document {
    let Found { path, value, whole } = found;
    let flag = variant.is_multiple_of(2);
    let v = value.clone();
    let on = |c: Bson| doc_of(path, c);
    let numeric = matches!(
        value,
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_)
    );
    match (kind, value) {
        (0 | 1, _) => on(v),
        (2, _) => on(op_doc("$exists", Bson::Boolean(true))),
        (3, _) if numeric && flag => on(op_doc("$type", Bson::String("number".into()))),
        (3, _) => on(op_doc("$type", Bson::String(type_name(value).into()))),
        (4, _) => on(op_doc(if flag { "$gte" } else { "$lte" }, v)),
        (5, _) => {
            let mut range = doc_of("$gte", v.clone());
            range.insert("$lte", v);
            on(Bson::Document(range))
        }
        (6, _) => {
            let items = if flag {
                vec![v, other.clone()]
            } else {
                vec![other.clone(), v]
            };
            on(op_doc("$in", Bson::Array(items)))
        }
        (7, _) => on(op_doc("$not", op_doc("$ne", v))),
        (8, Bson::Array(items)) if *whole => on(op_doc("$size", Bson::Int32(items.len() as i32))),
        (8, Bson::String(text)) => {
            let mut d = doc_of("$regex", Bson::String(format!("^{text}$")));
            if flag {
                d.insert("$options", "i");
            }
            on(Bson::Document(d))
        }
        (8, Bson::Int32(_) | Bson::Int64(_)) if !positional(path) => {
            let n = match value {
                Bson::Int32(n) => i64::from(*n),
                Bson::Int64(n) => *n,
                _ => unreachable!(),
            };
            let remainder = Bson::Int32(n.rem_euclid(2) as i32);
            on(op_doc("$mod", Bson::Array(vec![Bson::Int32(2), remainder])))
        }
        (9, Bson::Array(items)) => {
            // `$all` of its scalars, but one on a dotted path (a deviation).
            let most = if path.contains('.') { 1 } else { 2 };
            let all: Vec<Bson> = items
                .iter()
                .filter(|i| !matches!(i, Bson::Null | Bson::Array(_) | Bson::Document(_)))
                .take(most)
                .cloned()
                .collect();
            if all.is_empty() {
                on(v)
            } else {
                on(op_doc("$all", Bson::Array(all)))
            }
        }
        (10, Bson::Array(items)) if *whole => match items.first() {
            Some(Bson::Document(d)) if !d.is_empty() => {
                let (k, inner) = d.iter().next().expect("a field");
                on(op_doc("$elemMatch", op_doc(k, inner.clone())))
            }
            Some(first) => on(op_doc(
                "$elemMatch",
                op_doc(if flag { "$gte" } else { "$eq" }, first.clone()),
            )),
            None => on(v),
        },
        (11, _)
            if !path.contains('.')
                && *whole
                && !matches!(value, Bson::Array(_) | Bson::Document(_)) =>
        {
            let op = ["$eq", "$gte", "$lte"][usize::from(variant % 3)];
            doc_of(
                "$expr",
                op_doc(op, Bson::Array(vec![Bson::String(format!("${path}")), v])),
            )
        }
        _ => on(v),
    }
}

/// A filter that the inserted documents mostly satisfy: a random filter
/// finds nothing in most small document sets, and tests little then.
/// Mostly conditions drawn from one document (see [`condition_on`]), one
/// alone or several and'ed; sometimes or'ed with a random filter or and'ed
/// with a `$nor` of one; and in a quarter of the cases a random filter.
fn present(docs: &[Document]) -> BoxedStrategy<Document> {
    let found: Vec<Vec<Found>> = docs.iter().map(found_in).collect();
    let any_value: Vec<Bson> = found.iter().flatten().map(|f| f.value.clone()).collect();
    let conditions = prop::collection::vec(
        (
            any::<prop::sample::Index>(),
            0u8..12,
            any::<prop::sample::Index>(),
            any::<u8>(),
        ),
        1..4,
    );
    (any::<prop::sample::Index>(), conditions, 0u8..16, filter())
        .prop_map(move |(doc, conditions, how, generic)| {
            let found = &found[doc.index(found.len())];
            let mut own: Vec<Document> = conditions
                .into_iter()
                .map(|(at, kind, other, variant)| {
                    let other = &any_value[other.index(any_value.len())];
                    condition_on(&found[at.index(found.len())], kind, variant, other)
                })
                .collect();
            let all = |own: Vec<Document>| -> Bson {
                Bson::Array(own.into_iter().map(Bson::Document).collect())
            };
            match how {
                0..=5 => own.swap_remove(0),
                // Several conditions in one filter document (an implicit $and).
                6..=8 => {
                    let mut d = Document::new();
                    for (k, v) in own.into_iter().flatten() {
                        if !d.contains_key(&k) {
                            d.insert(k, v);
                        }
                    }
                    d
                }
                9 => doc_of("$and", all(own)),
                10 => doc_of(
                    "$or",
                    Bson::Array(vec![
                        Bson::Document(generic),
                        Bson::Document(own.swap_remove(0)),
                    ]),
                ),
                11 => {
                    let nor = doc_of("$nor", Bson::Array(vec![Bson::Document(generic)]));
                    own.truncate(1);
                    own.push(nor);
                    doc_of("$and", all(own))
                }
                _ => generic,
            }
        })
        .boxed()
}

/// A sorted (with an `_id` tie-breaker), projected, paged find.
fn sorted_find(docs: &[Document]) -> BoxedStrategy<Case> {
    let projection = prop::sample::select(vec![
        None,
        Some(bson::doc! { "a": 1 }),
        Some(bson::doc! { "a": 0 }),
        Some(bson::doc! { "a.b": 1, "c": 1 }),
        Some(bson::doc! { "a.b": 0 }),
        Some(bson::doc! { "_id": 0, "b": 1 }),
        Some(bson::doc! { "a": { "$slice": 1 } }),
        Some(bson::doc! { "a": { "$slice": -2 } }),
        Some(bson::doc! { "a": { "$slice": [1, 1] } }),
    ]);
    // Skipping needs several documents: mostly an `$or` of filters drawn
    // from (likely) different documents.
    let filter =
        prop::collection::vec(present(docs), 1..5).prop_map(|mut filters| match filters.len() {
            1 => filters.swap_remove(0),
            _ => doc_of(
                "$or",
                Bson::Array(filters.into_iter().map(Bson::Document).collect()),
            ),
        });
    (
        filter,
        prop::collection::vec(
            (prop::sample::select(&SORT_PATHS[..]), prop::bool::ANY),
            1..3,
        ),
        projection,
        0u64..3,
        prop::option::of(1u64..4),
    )
        .prop_map(|(filter, keys, projection, skip, limit)| {
            let mut sort = Document::new();
            for (path, up) in keys {
                if !sort.contains_key(path) {
                    sort.insert(path, if up { 1 } else { -1 });
                }
            }
            sort.insert("_id", 1);
            let mut case = find(filter).sort(sort).skip(skip);
            if let Some(p) = projection {
                case = case.project(p);
            }
            if let Some(n) = limit {
                case = case.limit(n);
            }
            case
        })
        .boxed()
}

fn batch() -> impl Strategy<Value = (Vec<Document>, Vec<Case>)> {
    documents().prop_flat_map(|docs| {
        (
            prop::collection::vec(present(&docs).prop_map(find), FILTERS_PER_SET),
            prop::collection::vec(sorted_find(&docs), FINDS_PER_SET),
        )
            .prop_map(move |(mut cases, finds)| {
                cases.extend(finds);
                (docs.clone(), cases)
            })
    })
}

/// The seed: `YAMLETT_DIFF_SEED` (hex) to replay, else a fresh one.
pub(crate) fn seed() -> u64 {
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *SEED.get_or_init(|| match std::env::var("YAMLETT_DIFF_SEED") {
        Ok(hex) => u64::from_str_radix(hex.trim_start_matches("0x"), 16)
            .expect("YAMLETT_DIFF_SEED is a hex u64"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    })
}

pub(crate) fn sets_per_part() -> u32 {
    std::env::var("YAMLETT_DIFF_SETS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(SETS_PER_PART)
}

/// Runs every part, each in its own thread; panics with every failure.
pub fn run_all() {
    eprintln!(
        "generated: YAMLETT_DIFF_SEED={:x}: {PARTS} x {} document sets x {} queries",
        seed(),
        sets_per_part(),
        FILTERS_PER_SET + FINDS_PER_SET
    );
    let tally = Tally::default();
    let failures: Vec<String> = std::thread::scope(|s| {
        let tally = &tally;
        let handles: Vec<_> = (0..PARTS)
            .map(|part| s.spawn(move || run_batches(part, batch(), sets_per_part(), tally)))
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().expect("generator thread").err())
            .collect()
    });
    eprintln!("generated: {tally}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// How many generated cases the stores agreed on, by [`Agreement`],
/// shared by the parts' threads and printed at the end of a run: a
/// generator whose cases mostly fail or find nothing tests little.
#[derive(Default)]
pub(crate) struct Tally {
    refused: AtomicUsize,
    empty: AtomicUsize,
    docs: AtomicUsize,
}

impl Tally {
    fn count(&self, agreement: Agreement) {
        let counter = match agreement {
            Agreement::Refused => &self.refused,
            Agreement::Empty => &self.empty,
            Agreement::Docs => &self.docs,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [refused, empty, docs] =
            [&self.refused, &self.empty, &self.docs].map(|c| c.load(Ordering::Relaxed));
        let total = (refused + empty + docs).max(1);
        let share = |n: usize| 100.0 * n as f64 / total as f64;
        write!(
            f,
            "{total} cases agreed: {docs} ({:.1} %) on documents, {empty} ({:.1} %) on none, {refused} ({:.1} %) refused by both",
            share(docs),
            share(empty),
            share(refused),
        )
    }
}

/// Runs one part of the generated cases: `sets` batches (a document set
/// and the cases to run on it) drawn from `batches` with the part's seed.
pub(crate) fn run_batches(
    part: u64,
    batches: impl Strategy<Value = (Vec<Document>, Vec<Case>)>,
    sets: u32,
    tally: &Tally,
) -> Result<(), String> {
    let seed = seed();
    let part_seed = seed.wrapping_add(part);
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(8) {
        chunk.copy_from_slice(&part_seed.to_le_bytes());
    }
    let config = Config {
        cases: sets,
        failure_persistence: None,
        // Every shrink step inserts a document set again: keep it short.
        max_shrink_iters: 40,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
    let result = runner.run(&batches, |(docs, cases)| {
        let pair = Pair::with("generated", &docs);
        let failures: Vec<String> = cases
            .iter()
            .filter_map(|c| match pair.compare(c) {
                Ok(agreement) => {
                    tally.count(agreement);
                    None
                }
                Err(failure) => Some(failure),
            })
            .collect();
        if failures.is_empty() {
            Ok(())
        } else {
            let docs: Vec<String> = docs.iter().map(|d| d.to_string()).collect();
            Err(TestCaseError::fail(format!(
                "documents:\n  {}\n{}",
                docs.join("\n  "),
                failures.join("\n\n")
            )))
        }
    });
    match result {
        Ok(()) => Ok(()),
        Err(TestError::Fail(reason, _)) => Err(format!(
            "YAMLETT_DIFF_SEED={seed:x} part {part}: the stores disagree (minimal batch):\n{reason}"
        )),
        Err(err) => Err(format!("YAMLETT_DIFF_SEED={seed:x} part {part}: {err}")),
    }
}
