//! Query filters (`find`, `$match`, `$elemMatch`, `$pull` conditions).
//!
//! A filter is parsed once into a tree of [`Node`]s and evaluated many times.
//! Evaluation is written once, generically over [`DocView`]/[`Value`], so the
//! same code matches decoded documents and raw stored BSON; the raw path
//! never decodes a document except to compare whole embedded documents or
//! arrays, or to run `$expr`.
//!
//! Semantics (checked against a MongoDB 8 server; see the tests):
//! - a path predicate holds when *any* value the path reaches satisfies it
//!   (see [`path::walk`](super::path::walk)); a leaf array is tried element
//!   by element and as a whole, except by `$size` and `$elemMatch`;
//! - `$ne`, `$nin`, `$not` and `$exists: false` are negations of the whole
//!   path predicate, so `{a: {$ne: 1}}` rejects `{a: [1, 2]}`;
//! - comparisons only match within a type bracket (MinKey/MaxKey operands
//!   excepted), a missing field compares as null, and NaN equals only NaN.

use std::cmp::Ordering;

use bson::spec::ElementType;
use bson::{Bson, Document, RawDocument};

use super::compare::{compare, element_type_bracket, type_bracket, Number};
use super::expr::{is_truthy, Expr, Scope};
use super::path::{walk, DocView, FieldPath, RawDoc, Reached, Value};
use super::pattern::Pattern;
use super::{QueryError, QueryResult};

/// Deepest nesting of operators accepted, so parsing and evaluation never
/// recurse without bound.
const MAX_DEPTH: usize = 200;

/// A compiled query filter.
#[derive(Debug, Clone)]
pub struct Filter {
    /// The compiled tree.
    root: Node,
}

impl Filter {
    /// Compiles `filter`, rejecting what the server rejects.
    pub fn parse(filter: &Document) -> QueryResult<Filter> {
        crate::depth::check_nesting(filter, "filter")?;
        Filter::parse_in(filter, &Scope::default())
    }

    /// Compiles `filter` into `self`: the same as `*self = Filter::parse(filter)?`,
    /// and the same errors, but cheap when `filter` differs from the
    /// document `self` was compiled from only in the numbers, strings,
    /// booleans, dates or nulls it compares with (by equality, `$eq`, `$ne`,
    /// `$gt`, `$gte`, `$lt` or `$lte`, under `$not` too): then only those
    /// values are read. A writer that sends one condition after another of
    /// one shape (a write number that grows) saves a parse each time. On
    /// error `self` is unchanged.
    ///
    /// ```
    /// use bson::doc;
    /// use yamlett_query::Filter;
    ///
    /// let mut newer = Filter::parse(&doc! { "writes": { "$not": { "$gte": 3 } } })?;
    /// assert!(newer.matches(&doc! { "writes": 2 })?);
    /// newer.reparse(&doc! { "writes": { "$not": { "$gte": 2 } } })?; // same shape
    /// assert!(!newer.matches(&doc! { "writes": 2 })?);
    /// newer.reparse(&doc! { "tags": "cpu", "writes": { "$lt": 5 } })?; // another
    /// assert!(newer.matches(&doc! { "tags": ["cpu"], "writes": 2 })?);
    /// assert!(newer.reparse(&doc! { "writes": { "$bogus": 1 } }).is_err());
    /// # Ok::<(), yamlett_query::QueryError>(())
    /// ```
    pub fn reparse(&mut self, filter: &Document) -> QueryResult<()> {
        // Checked whole first, so that nothing changes unless all of it fits.
        if rebind_query(&mut self.root, filter, false) {
            rebind_query(&mut self.root, filter, true);
            return Ok(());
        }
        *self = Filter::parse(filter)?;
        Ok(())
    }

    /// Compiles `filter` whose `$expr`s may read the variables of `scope`
    /// (a `$match` inside `$lookup`'s pipeline reads the `let` variables).
    pub(crate) fn parse_in(filter: &Document, scope: &Scope) -> QueryResult<Filter> {
        let root = parse_query(filter, 0, Some(scope))?;
        Ok(Filter { root })
    }

    /// Whether `doc` matches. Errors come only from `$expr` evaluation.
    pub fn matches(&self, doc: &Document) -> QueryResult<bool> {
        evaluate(&self.root, doc, &[])
    }

    /// Whether `doc` matches, `$expr` seeing `vars` as the values of the
    /// variables of the scope given to [`Filter::parse_in`].
    pub(crate) fn matches_with(&self, doc: &Document, vars: &[Option<Bson>]) -> QueryResult<bool> {
        evaluate(&self.root, doc, vars)
    }

    /// Whether the raw `doc` matches, reading only the fields the filter
    /// needs. Same semantics as [`Filter::matches`].
    pub fn matches_raw(&self, doc: &RawDocument) -> QueryResult<bool> {
        evaluate(&self.root, RawDoc::new(doc), &[])
    }
}

/// The condition of `$elemMatch` or `$pull`, applied to one value.
#[derive(Debug, Clone)]
pub(crate) struct ElementMatcher {
    /// The compiled condition.
    condition: ElementCondition,
}

impl ElementMatcher {
    /// Compiles a condition: an operator document applies to the value
    /// itself, another document is a query over the value (which must then
    /// be a document), anything else is equality with the value.
    pub(crate) fn parse(cond: &Bson) -> QueryResult<ElementMatcher> {
        let condition = match cond {
            Bson::Document(spec) => parse_element_condition(spec, 0)?,
            other => ElementCondition::Value(Pred::Cmp(CmpOp::Eq, Operand::new(other.clone()))),
        };
        Ok(ElementMatcher { condition })
    }

    /// Whether `value` satisfies the condition.
    pub(crate) fn matches(&self, value: &Bson) -> QueryResult<bool> {
        let mut errors = Errors::default();
        let matched = self.condition.test(value, &mut errors);
        errors.into_result(matched)
    }
}

// ---------------------------------------------------------------------------
// The compiled form
// ---------------------------------------------------------------------------

/// A node of the compiled filter tree.
#[derive(Debug, Clone)]
enum Node {
    /// All children hold (an empty filter is an empty `And`).
    And(Vec<Node>),
    /// Some child holds.
    Or(Vec<Node>),
    /// No child holds.
    Nor(Vec<Node>),
    /// The child does not hold (`$ne`, `$nin`, `$not`, `$exists: false`).
    Not(Box<Node>),
    /// Some value reached by the path satisfies the predicate.
    Path(FieldPath, Pred),
    /// An aggregation expression over the whole document is truthy.
    Expr(Box<Expr>),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    /// `$eq` (and implicit equality).
    Eq,
    /// `$gt`.
    Gt,
    /// `$gte`.
    Gte,
    /// `$lt`.
    Lt,
    /// `$lte`.
    Lte,
}

impl CmpOp {
    /// Whether a value ordered `order` against the operand satisfies it.
    fn accepts(self, order: Ordering) -> bool {
        match self {
            CmpOp::Eq => order == Ordering::Equal,
            CmpOp::Gt => order == Ordering::Greater,
            CmpOp::Gte => order != Ordering::Less,
            CmpOp::Lt => order == Ordering::Less,
            CmpOp::Lte => order != Ordering::Greater,
        }
    }
}

/// A comparison operand with its bracket and number precomputed.
#[derive(Debug, Clone)]
struct Operand {
    /// The operand itself.
    value: Bson,
    /// Its type bracket.
    bracket: i8,
    /// Its numeric value, if it is a number.
    number: Option<Number>,
    /// MinKey and MaxKey compare against values of every type.
    across_types: bool,
}

impl Operand {
    /// Precomputes what comparisons need from `value`.
    fn new(value: Bson) -> Operand {
        Operand {
            bracket: type_bracket(&value),
            number: Number::of(&value),
            across_types: matches!(value, Bson::MinKey | Bson::MaxKey),
            value,
        }
    }
}

/// Which types `$type` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypeSel {
    /// The alias `"number"`: any numeric type.
    Number,
    /// One BSON type.
    Exactly(ElementType),
}

/// A condition on one value (the server's `matchesSingleElement`).
/// `None` stands for a missing value.
#[derive(Debug, Clone)]
enum Pred {
    Cmp(CmpOp, Operand),
    /// `$in`: equal to one of the values or matched by one of the patterns.
    In(Vec<Operand>, Vec<Pattern>),
    Regex(Pattern),
    Exists,
    Type(Vec<TypeSel>),
    Mod {
        divisor: i64,
        remainder: i64,
    },
    Size(usize),
    ElemMatch(Box<ElementCondition>),
    /// Negation, inside `$elemMatch`'s value form only (path negations are
    /// [`Node::Not`]).
    Not(Box<Pred>),
    /// Conjunction, inside `$elemMatch`'s value form only.
    And(Vec<Pred>),
    /// Never holds (`$all: []`).
    Never,
}

/// What `$elemMatch` (or `$pull`) requires of one array element.
#[derive(Debug, Clone)]
enum ElementCondition {
    /// Operators applied to the element itself: `{$gte: 6, $lt: 9}`.
    Value(Pred),
    /// A query over the element, which must be a document: `{score: 8}`.
    Query(Node),
}

// ---------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------

/// Collects the first `$expr` error; evaluation itself returns plain bools
/// so the hot path carries no `Result`s. It also carries what `$expr`
/// needs besides the document: the values of the outer variables.
#[derive(Debug, Default)]
struct Errors<'v> {
    /// The first error met, if any.
    first: Option<QueryError>,
    /// The values of the variables `$expr` may read (see [`Filter::parse_in`]).
    vars: &'v [Option<Bson>],
}

impl Errors<'_> {
    /// Keeps `error` unless an earlier one was recorded.
    fn record(&mut self, error: QueryError) {
        self.first.get_or_insert(error);
    }

    /// The outcome: the first error, if any, else `matched`.
    fn into_result(self, matched: bool) -> QueryResult<bool> {
        match self.first {
            Some(error) => Err(error),
            None => Ok(matched),
        }
    }
}

/// Evaluates a filter tree on a document, surfacing `$expr` errors.
fn evaluate<'a, D: DocDecode<'a>>(root: &Node, doc: D, vars: &[Option<Bson>]) -> QueryResult<bool> {
    let mut errors = Errors { first: None, vars };
    let matched = root.test(doc, &mut errors);
    errors.into_result(matched)
}

/// A document view that can also be decoded, for `$expr` (which evaluates
/// over a decoded document).
trait DocDecode<'a>: DocView<'a> {
    /// Calls `f` on the decoded document (None if it cannot be decoded).
    fn with_decoded<R>(self, f: impl FnOnce(&Document) -> R) -> Option<R>;
}

impl<'a> DocDecode<'a> for &'a Document {
    fn with_decoded<R>(self, f: impl FnOnce(&Document) -> R) -> Option<R> {
        Some(f(self))
    }
}

impl<'a> DocDecode<'a> for RawDoc<'a> {
    fn with_decoded<R>(self, f: impl FnOnce(&Document) -> R) -> Option<R> {
        self.decode().map(|doc| f(&doc))
    }
}

impl Node {
    /// Whether `doc` satisfies the node.
    fn test<'a, D: DocDecode<'a>>(&self, doc: D, errors: &mut Errors) -> bool {
        match self {
            Node::And(children) => children.iter().all(|c| c.test(doc, errors)),
            Node::Or(children) => children.iter().any(|c| c.test(doc, errors)),
            Node::Nor(children) => !children.iter().any(|c| c.test(doc, errors)),
            Node::Not(child) => !child.test(doc, errors),
            Node::Path(path, pred) => test_path(doc, path, pred, errors),
            Node::Expr(expr) => {
                let vars = errors.vars;
                let outcome = doc.with_decoded(|d| expr.evaluate_with(d, vars));
                match outcome {
                    Some(Ok(value)) => is_truthy(value.as_ref()),
                    Some(Err(error)) => {
                        errors.record(error);
                        false
                    }
                    None => false,
                }
            }
        }
    }
}

/// Whether some value reached by `path` satisfies `pred`.
fn test_path<'a, D>(doc: D, path: &FieldPath, pred: &Pred, errors: &mut Errors) -> bool
where
    D: DocDecode<'a>,
    D::Value: Value<'a, Doc = D>,
{
    let expand = pred.expands_arrays();
    walk(doc, path.segments(), &mut |reached| match reached {
        Reached::Missing => pred.test::<D::Value>(None, errors),
        Reached::Value {
            value,
            expand: leaf,
        } => {
            if expand && leaf {
                if let Some(elements) = value.elements() {
                    for element in elements {
                        if pred.test(Some(element), errors) {
                            return true;
                        }
                    }
                }
            }
            pred.test(Some(value), errors)
        }
    })
}

impl Pred {
    /// `$size` and `$elemMatch` look at leaf arrays only as a whole.
    fn expands_arrays(&self) -> bool {
        !matches!(self, Pred::Size(_) | Pred::ElemMatch(_))
    }

    /// Whether one value (None: missing) satisfies the predicate.
    fn test<'a, V>(&self, value: Option<V>, errors: &mut Errors) -> bool
    where
        V: Value<'a>,
        V::Doc: DocDecode<'a>,
    {
        match self {
            Pred::Cmp(op, operand) => order_against(value, operand).is_some_and(|o| op.accepts(o)),
            Pred::In(operands, patterns) => {
                operands
                    .iter()
                    .any(|operand| order_against(value, operand) == Some(Ordering::Equal))
                    || value.is_some_and(|v| patterns.iter().any(|p| regex_matches(p, v)))
            }
            Pred::Regex(pattern) => value.is_some_and(|v| regex_matches(pattern, v)),
            Pred::Exists => value.is_some(),
            Pred::Type(types) => value.is_some_and(|v| type_matches(types, v.element_type())),
            Pred::Mod { divisor, remainder } => {
                value
                    .and_then(|v| v.number())
                    .and_then(truncate_number)
                    .is_some_and(|n| {
                        // i64::MIN % -1 overflows; its true remainder is 0.
                        n.checked_rem(*divisor).unwrap_or(0) == *remainder
                    })
            }
            Pred::Size(size) => value.is_some_and(|v| v.is_array() && v.array_len() == *size),
            Pred::ElemMatch(condition) => value
                .and_then(|v| v.elements())
                .is_some_and(|mut elements| elements.any(|e| condition.test(e, errors))),
            Pred::Not(inner) => !inner.test(value, errors),
            Pred::And(preds) => preds.iter().all(|p| p.test(value, errors)),
            Pred::Never => false,
        }
    }
}

impl ElementCondition {
    /// Whether one array element satisfies the condition.
    fn test<'a, V>(&self, element: V, errors: &mut Errors) -> bool
    where
        V: Value<'a>,
        V::Doc: DocDecode<'a>,
    {
        match self {
            ElementCondition::Value(pred) => pred.test(Some(element), errors),
            ElementCondition::Query(node) => match element.as_document() {
                Some(doc) => node.test(doc, errors),
                // The server treats array elements as objects too, but only
                // the empty query matches them (checked against the server).
                None => element.is_array() && matches!(node, Node::And(c) if c.is_empty()),
            },
        }
    }
}

/// How `value` (None: missing, compared as null) orders against `operand`,
/// or None when a query comparison cannot match: different type brackets
/// (unless the operand is MinKey/MaxKey), or NaN against a non-NaN number.
fn order_against<'a, V: Value<'a>>(value: Option<V>, operand: &Operand) -> Option<Ordering> {
    let bracket = value.map_or(element_type_bracket(ElementType::Null), |v| {
        element_type_bracket(v.element_type())
    });
    if bracket != operand.bracket {
        return operand.across_types.then(|| bracket.cmp(&operand.bracket));
    }
    let Some(value) = value else {
        // Missing against null (or MinKey/MaxKey, handled above).
        return Some(Ordering::Equal);
    };
    if let (Some(x), Some(y)) = (value.number(), operand.number) {
        return compare_numbers(x, y);
    }
    if let (Some(x), Bson::String(y) | Bson::Symbol(y)) = (value.as_str(), &operand.value) {
        // compare() orders strings by their bytes too; this skips decoding.
        return Some(x.as_bytes().cmp(y.as_bytes()));
    }
    if let (Some(x), Bson::Boolean(y)) = (value.as_bool(), &operand.value) {
        // As compare() orders them (false < true), without decoding.
        return Some(x.cmp(y));
    }
    value.to_bson().map(|v| compare(&v, &operand.value))
}

/// Numeric order for queries: NaN equals NaN and is unordered against every
/// other number (`{$lt: 5}` does not match NaN, `{$gte: NaN}` does).
fn compare_numbers(x: Number, y: Number) -> Option<Ordering> {
    match (is_nan(x), is_nan(y)) {
        (false, false) => Some(x.cmp(y)),
        (true, true) => Some(Ordering::Equal),
        _ => None,
    }
}

/// Whether `n` is a NaN (double or decimal).
fn is_nan(n: Number) -> bool {
    matches!(n, Number::Float(f) if f.is_nan())
}

/// A regex matches strings and symbols, and equals a stored regex with the
/// same pattern and options.
fn regex_matches<'a, V: Value<'a>>(pattern: &Pattern, value: V) -> bool {
    if let Some(text) = value.as_str() {
        return pattern.is_match(text);
    }
    if value.element_type() != ElementType::RegularExpression {
        return false;
    }
    match value.to_bson().as_deref() {
        Some(Bson::RegularExpression(r)) => {
            r.pattern.as_str() == pattern.source() && r.options.as_str() == pattern.options()
        }
        _ => false,
    }
}

/// Whether `$type` with `types` accepts a value of type `actual`.
fn type_matches(types: &[TypeSel], actual: ElementType) -> bool {
    types.iter().any(|t| match t {
        TypeSel::Number => matches!(
            actual,
            ElementType::Double | ElementType::Int32 | ElementType::Int64 | ElementType::Decimal128
        ),
        TypeSel::Exactly(expected) => *expected == actual,
    })
}

/// A number truncated toward zero to an i64, or None for NaN, infinities
/// and values out of range (which `$mod` never matches).
fn truncate_number(n: Number) -> Option<i64> {
    match n {
        Number::Int(i) => Some(i),
        Number::Float(f) => float_to_i64(f),
    }
}

/// `f` truncated toward zero, if it fits an i64.
fn float_to_i64(f: f64) -> Option<i64> {
    // 2^63 as a double: the first value past i64::MAX.
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    let whole = f.trunc();
    (whole.is_finite() && (-TWO_POW_63..TWO_POW_63).contains(&whole)).then_some(whole as i64)
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/// The error for filters nested beyond [`MAX_DEPTH`].
fn depth_error() -> QueryError {
    QueryError::new(format!(
        "exceeded depth limit of {MAX_DEPTH} when parsing the query filter"
    ))
}

/// Parses a query document: field conditions and top-level operators.
/// `expr_scope` is the scope `$expr` is parsed in, `None` inside
/// `$elemMatch`, where `$expr` is refused.
fn parse_query(filter: &Document, depth: usize, expr_scope: Option<&Scope>) -> QueryResult<Node> {
    if depth > MAX_DEPTH {
        return Err(depth_error());
    }
    let mut nodes = Vec::with_capacity(filter.len());
    for (key, value) in filter {
        if let Some(node) = parse_top_level(key, value, depth, expr_scope)? {
            nodes.push(node);
        }
    }
    Ok(single_or_and(nodes))
}

/// Whether `node` is what [`parse_query`] makes of `filter` but for the
/// values compared with (see [`Filter::reparse`]); with `write`, those
/// values are then taken from `filter`. Only plain comparisons fit: for
/// anything else this says no, and the filter is parsed whole.
fn rebind_query(node: &mut Node, filter: &Document, write: bool) -> bool {
    let field = |node: &mut Node, (key, value): (&String, &Bson)| {
        !key.starts_with('$') && rebind_field(node, key, value, write)
    };
    match (filter.len(), node) {
        (1, node) => filter.iter().next().is_some_and(|entry| field(node, entry)),
        (n, Node::And(nodes)) if n > 1 && nodes.len() == n => nodes
            .iter_mut()
            .zip(filter)
            .all(|(node, entry)| field(node, entry)),
        _ => false,
    }
}

/// [`rebind_query`] for the condition `value` on the field `key`.
fn rebind_field(node: &mut Node, key: &str, value: &Bson, write: bool) -> bool {
    match value {
        Bson::Document(spec) if is_operator_document(spec) => {
            rebind_operators(node, key, spec, write)
        }
        literal => rebind_path(node, key, CmpOp::Eq, literal, write),
    }
}

/// [`rebind_query`] for an operator document on the field `key`: what
/// [`parse_field`] makes of it, one node per operator.
fn rebind_operators(node: &mut Node, key: &str, spec: &Document, write: bool) -> bool {
    let operator = |node: &mut Node, (op, arg): (&String, &Bson)| {
        let ordering = match op.as_str() {
            "$eq" => CmpOp::Eq,
            "$gt" => CmpOp::Gt,
            "$gte" => CmpOp::Gte,
            "$lt" => CmpOp::Lt,
            "$lte" => CmpOp::Lte,
            "$ne" => {
                return match node {
                    Node::Not(inner) => rebind_path(inner, key, CmpOp::Eq, arg, write),
                    _ => false,
                }
            }
            "$not" => {
                return match (node, arg) {
                    (Node::Not(inner), Bson::Document(inner_spec))
                        if inner_spec.keys().all(|k| k.starts_with('$')) =>
                    {
                        rebind_operators(inner, key, inner_spec, write)
                    }
                    _ => false,
                }
            }
            _ => return false,
        };
        rebind_path(node, key, ordering, arg, write)
    };
    match (spec.len(), node) {
        (0, _) => false,
        (1, node) => spec
            .iter()
            .next()
            .is_some_and(|entry| operator(node, entry)),
        (n, Node::And(nodes)) if nodes.len() == n => nodes
            .iter_mut()
            .zip(spec)
            .all(|(node, entry)| operator(node, entry)),
        _ => false,
    }
}

/// [`rebind_query`] for one comparison of the field `key` with `value`:
/// a scalar whose comparison [`Operand::new`] fully describes.
fn rebind_path(node: &mut Node, key: &str, op: CmpOp, value: &Bson, write: bool) -> bool {
    let scalar = matches!(
        value,
        Bson::Double(_)
            | Bson::String(_)
            | Bson::Int32(_)
            | Bson::Int64(_)
            | Bson::Boolean(_)
            | Bson::DateTime(_)
            | Bson::Null
    );
    match node {
        Node::Path(path, Pred::Cmp(compiled, operand))
            if scalar && *compiled == op && path.dotted() == key =>
        {
            if write {
                *operand = Operand::new(value.clone());
            }
            true
        }
        _ => false,
    }
}

/// Collapses a one-child `And` so evaluation skips a level.
fn single_or_and(mut nodes: Vec<Node>) -> Node {
    if nodes.len() == 1 {
        if let Some(node) = nodes.pop() {
            return node;
        }
    }
    Node::And(nodes)
}

/// Parses one entry of a query document; `None` for entries that constrain
/// nothing (`$comment`).
fn parse_top_level(
    key: &str,
    value: &Bson,
    depth: usize,
    expr_scope: Option<&Scope>,
) -> QueryResult<Option<Node>> {
    let node = match key {
        "$and" => Node::And(parse_clauses(key, value, depth, expr_scope)?),
        "$or" => Node::Or(parse_clauses(key, value, depth, expr_scope)?),
        "$nor" => Node::Nor(parse_clauses(key, value, depth, expr_scope)?),
        "$comment" => return Ok(None),
        "$expr" => match expr_scope {
            Some(scope) => Node::Expr(Box::new(Expr::parse_in(value, scope)?)),
            None => {
                return Err(QueryError::new(
                    "$expr can only be applied to the top-level document",
                ))
            }
        },
        "$where" | "$text" | "$jsonSchema" | "$sampleRate" => {
            return Err(QueryError::new(format!("{key} is not supported")))
        }
        _ if key.starts_with('$') => {
            return Err(QueryError::new(format!(
                "unknown top level operator: {key}. If you have a field name that starts with a \
                 '$' symbol, consider using $getField or $setField."
            )))
        }
        _ => parse_field(FieldPath::parse(key)?, value, depth)?,
    };
    Ok(Some(node))
}

/// The clauses of `$and`, `$or` or `$nor`: a non-empty array of documents.
fn parse_clauses(
    op: &str,
    value: &Bson,
    depth: usize,
    expr_scope: Option<&Scope>,
) -> QueryResult<Vec<Node>> {
    let Bson::Array(items) = value else {
        return Err(QueryError::new(format!("{op} argument must be an array")));
    };
    if items.is_empty() {
        return Err(QueryError::new(format!(
            "{op} argument must be a non-empty array"
        )));
    }
    items
        .iter()
        .map(|item| match item {
            Bson::Document(clause) => parse_query(clause, depth + 1, expr_scope),
            _ => Err(QueryError::new(format!(
                "{op} argument's entries must be objects"
            ))),
        })
        .collect()
}

/// Whether a document is an operator document (`{$gt: 1}`) rather than a
/// literal to compare with: the server decides by its first field. DBRef
/// documents (`{$ref, $id}`) are literals.
fn is_operator_document(spec: &Document) -> bool {
    spec.keys()
        .next()
        .is_some_and(|k| k.starts_with('$') && !matches!(k.as_str(), "$ref" | "$id" | "$db"))
}

/// Parses the condition on one field.
fn parse_field(path: FieldPath, value: &Bson, depth: usize) -> QueryResult<Node> {
    match value {
        Bson::Document(spec) if is_operator_document(spec) => {
            let ops = parse_operators(spec, depth + 1, Some(path.dotted()))?;
            Ok(single_or_and(
                ops.into_iter().map(|op| op.into_node(&path)).collect(),
            ))
        }
        Bson::RegularExpression(r) => Ok(Node::Path(
            path,
            Pred::Regex(Pattern::new(r.pattern.as_str(), r.options.as_str())?),
        )),
        other => Ok(Node::Path(
            path,
            Pred::Cmp(CmpOp::Eq, Operand::new(other.clone())),
        )),
    }
}

/// One parsed operator of an operator document.
#[derive(Debug)]
enum Op {
    /// The predicate must hold for some value at the path.
    Holds(Pred),
    /// The predicate must hold for no value at the path (`$ne`, `$nin`,
    /// `$exists: false`).
    HoldsNowhere(Pred),
    /// `$not`: the conjunction of these operators must not hold.
    NotAll(Vec<Op>),
    /// `$all`: every one of these must hold (possibly at different elements).
    All(Vec<Pred>),
}

impl Op {
    /// The operator as a path-level node.
    fn into_node(self, path: &FieldPath) -> Node {
        match self {
            Op::Holds(pred) => Node::Path(path.clone(), pred),
            Op::HoldsNowhere(pred) => Node::Not(Box::new(Node::Path(path.clone(), pred))),
            Op::NotAll(ops) => Node::Not(Box::new(single_or_and(
                ops.into_iter().map(|op| op.into_node(path)).collect(),
            ))),
            Op::All(preds) if preds.is_empty() => Node::Path(path.clone(), Pred::Never),
            Op::All(preds) => single_or_and(
                preds
                    .into_iter()
                    .map(|pred| Node::Path(path.clone(), pred))
                    .collect(),
            ),
        }
    }

    /// The operator applied to a single value (`$elemMatch` value form).
    fn into_pred(self) -> Pred {
        match self {
            Op::Holds(pred) => pred,
            Op::HoldsNowhere(pred) => Pred::Not(Box::new(pred)),
            Op::NotAll(ops) => Pred::Not(Box::new(Pred::And(
                ops.into_iter().map(Op::into_pred).collect(),
            ))),
            Op::All(preds) if preds.is_empty() => Pred::Never,
            Op::All(preds) => Pred::And(preds),
        }
    }
}

/// Parses an operator document (`{$gt: 1, $lt: 5}`). `field` names the
/// field in error messages, when there is one.
fn parse_operators(spec: &Document, depth: usize, field: Option<&str>) -> QueryResult<Vec<Op>> {
    if depth > MAX_DEPTH {
        return Err(depth_error());
    }
    let mut ops = Vec::with_capacity(spec.len());
    for (key, arg) in spec {
        match key.as_str() {
            // Read together with $regex.
            "$options" if spec.contains_key("$regex") => {}
            "$options" => return Err(QueryError::new("$options needs a $regex")),
            "$regex" => ops.push(Op::Holds(parse_regex_operator(arg, spec.get("$options"))?)),
            _ => ops.push(parse_operator(key, arg, depth, field)?),
        }
    }
    Ok(ops)
}

/// Parses one operator other than `$regex`/`$options`.
fn parse_operator(key: &str, arg: &Bson, depth: usize, field: Option<&str>) -> QueryResult<Op> {
    let op = match key {
        "$eq" => Op::Holds(Pred::Cmp(CmpOp::Eq, Operand::new(arg.clone()))),
        "$gt" | "$gte" | "$lt" | "$lte" => Op::Holds(parse_ordering(key, arg, field)?),
        "$ne" => {
            if matches!(arg, Bson::RegularExpression(_)) {
                return Err(QueryError::new("Can't have regex as arg to $ne."));
            }
            Op::HoldsNowhere(Pred::Cmp(CmpOp::Eq, Operand::new(arg.clone())))
        }
        "$in" => Op::Holds(parse_in(key, arg)?),
        "$nin" => Op::HoldsNowhere(parse_in(key, arg)?),
        "$exists" => {
            if is_truthy(Some(arg)) {
                Op::Holds(Pred::Exists)
            } else {
                Op::HoldsNowhere(Pred::Exists)
            }
        }
        "$type" => Op::Holds(Pred::Type(parse_types(arg, field)?)),
        "$mod" => Op::Holds(parse_mod(arg)?),
        "$size" => Op::Holds(Pred::Size(parse_size(arg)?)),
        "$all" => Op::All(parse_all(arg, depth)?),
        "$elemMatch" => match arg {
            Bson::Document(spec) => Op::Holds(Pred::ElemMatch(Box::new(parse_element_condition(
                spec,
                depth + 1,
            )?))),
            _ => return Err(QueryError::new("$elemMatch needs an Object")),
        },
        "$not" => parse_not(arg, depth, field)?,
        "$near" | "$nearSphere" | "$geoWithin" | "$geoIntersects" | "$within" | "$maxDistance"
        | "$minDistance" | "$bitsAllSet" | "$bitsAllClear" | "$bitsAnySet" | "$bitsAnyClear"
        | "$where" | "$text" | "$jsonSchema" | "$expr" => {
            return Err(QueryError::new(format!("{key} is not supported")))
        }
        _ => return Err(QueryError::new(format!("unknown operator: {key}"))),
    };
    Ok(op)
}

/// `$gt`, `$gte`, `$lt`, `$lte`, which refuse regex operands.
fn parse_ordering(key: &str, arg: &Bson, field: Option<&str>) -> QueryResult<Pred> {
    if matches!(arg, Bson::RegularExpression(_)) {
        return Err(QueryError::new(format!(
            "Can't have RegEx as arg to non-equality predicate over field '{}'.",
            field.unwrap_or_default()
        )));
    }
    let op = match key {
        "$gt" => CmpOp::Gt,
        "$gte" => CmpOp::Gte,
        "$lt" => CmpOp::Lt,
        _ => CmpOp::Lte,
    };
    Ok(Pred::Cmp(op, Operand::new(arg.clone())))
}

/// `{$regex: "..", $options: ".."}` or `{$regex: /../flags}`; options given
/// both ways are combined.
fn parse_regex_operator(regex: &Bson, options: Option<&Bson>) -> QueryResult<Pred> {
    let extra = match options {
        None => "",
        Some(Bson::String(s)) => s.as_str(),
        Some(_) => return Err(QueryError::new("$options has to be a string")),
    };
    let pattern = match regex {
        Bson::String(source) => Pattern::new(source, extra)?,
        Bson::RegularExpression(r) => {
            let mut flags = r.options.as_str().to_owned();
            flags.extend(extra.chars().filter(|c| !r.options.as_str().contains(*c)));
            Pattern::new(r.pattern.as_str(), &flags)?
        }
        _ => return Err(QueryError::new("$regex has to be a string")),
    };
    Ok(Pred::Regex(pattern))
}

/// The list of `$in`/`$nin`: values and regexes, no operator documents.
fn parse_in(key: &str, arg: &Bson) -> QueryResult<Pred> {
    let Bson::Array(items) = arg else {
        return Err(QueryError::new(format!("{key} needs an array")));
    };
    let mut operands = Vec::new();
    let mut patterns = Vec::new();
    for item in items {
        match item {
            Bson::RegularExpression(r) => {
                patterns.push(Pattern::new(r.pattern.as_str(), r.options.as_str())?)
            }
            Bson::Document(d) if is_operator_document(d) => {
                return Err(QueryError::new(format!("cannot nest $ under {key}")))
            }
            other => operands.push(Operand::new(other.clone())),
        }
    }
    Ok(Pred::In(operands, patterns))
}

/// `$type`: one type or an array of types, by code or alias.
fn parse_types(arg: &Bson, field: Option<&str>) -> QueryResult<Vec<TypeSel>> {
    let types = match arg {
        Bson::Array(items) => items
            .iter()
            .map(parse_type)
            .collect::<QueryResult<Vec<_>>>()?,
        single => vec![parse_type(single)?],
    };
    if types.is_empty() {
        return Err(QueryError::new(format!(
            "{} must match at least one type",
            field.unwrap_or_default()
        )));
    }
    Ok(types)
}

/// One `$type` argument: an alias or a numeric code.
fn parse_type(arg: &Bson) -> QueryResult<TypeSel> {
    if let Bson::String(alias) = arg {
        return type_alias(alias)
            .ok_or_else(|| QueryError::new(format!("Unknown type name alias: {alias}")));
    }
    let Some(number) = Number::of(arg) else {
        return Err(QueryError::new(
            "type must be represented as a number or a string",
        ));
    };
    let code = match number {
        Number::Int(i) => Some(i),
        Number::Float(f) if f.fract() == 0.0 => float_to_i64(f),
        Number::Float(_) => None,
    };
    code.and_then(type_code).ok_or_else(|| {
        QueryError::new(format!(
            "Invalid numerical type code: {}",
            number_text(number)
        ))
    })
}

/// A number as the server prints it in error messages.
fn number_text(n: Number) -> String {
    match n {
        Number::Int(i) => i.to_string(),
        Number::Float(f) => f.to_string(),
    }
}

/// A numeric `$type` code (1–19, -1 MinKey, 127 MaxKey).
fn type_code(code: i64) -> Option<TypeSel> {
    let byte = match code {
        -1 => 0xFF,
        1..=19 | 127 => u8::try_from(code).ok()?,
        _ => return None,
    };
    ElementType::from(byte).map(TypeSel::Exactly)
}

/// A `$type` alias, as the server spells them.
fn type_alias(alias: &str) -> Option<TypeSel> {
    use ElementType as T;
    let element_type = match alias {
        "number" => return Some(TypeSel::Number),
        "double" => T::Double,
        "string" => T::String,
        "object" => T::EmbeddedDocument,
        "array" => T::Array,
        "binData" => T::Binary,
        "undefined" => T::Undefined,
        "objectId" => T::ObjectId,
        "bool" => T::Boolean,
        "date" => T::DateTime,
        "null" => T::Null,
        "regex" => T::RegularExpression,
        "dbPointer" => T::DbPointer,
        "javascript" => T::JavaScriptCode,
        "symbol" => T::Symbol,
        "javascriptWithScope" => T::JavaScriptCodeWithScope,
        "int" => T::Int32,
        "timestamp" => T::Timestamp,
        "long" => T::Int64,
        "decimal" => T::Decimal128,
        "minKey" => T::MinKey,
        "maxKey" => T::MaxKey,
        _ => return None,
    };
    Some(TypeSel::Exactly(element_type))
}

/// `$mod: [divisor, remainder]`: exactly two numbers, each truncated toward
/// zero to a 64-bit integer (NaN, infinities and out-of-range values are
/// refused, as since MongoDB 5.1), and a non-zero divisor.
fn parse_mod(arg: &Bson) -> QueryResult<Pred> {
    let Bson::Array(items) = arg else {
        return Err(QueryError::new("malformed mod, needs to be an array"));
    };
    let (divisor, remainder) = match items.as_slice() {
        [divisor, remainder] => (divisor, remainder),
        [] | [_] => return Err(QueryError::new("malformed mod, not enough elements")),
        _ => return Err(QueryError::new("malformed mod, too many elements")),
    };
    let divisor = mod_argument(divisor, "divisor")?;
    let remainder = mod_argument(remainder, "remainder")?;
    if divisor == 0 {
        return Err(QueryError::new("divisor cannot be 0"));
    }
    Ok(Pred::Mod { divisor, remainder })
}

/// A `$mod` argument truncated to an i64. NaN and infinities are "not a
/// number" (the server's wording); finite values beyond 64 bits are invalid.
fn mod_argument(value: &Bson, name: &str) -> QueryResult<i64> {
    let not_a_number = || QueryError::new(format!("malformed mod, {name} not a number"));
    let number = Number::of(value).ok_or_else(not_a_number)?;
    if !number.as_f64().is_finite() {
        return Err(not_a_number());
    }
    truncate_number(number).ok_or_else(|| {
        QueryError::new(format!(
            "malformed mod, {name} value is invalid :: caused by :: Out of bounds coercing to \
             integral value"
        ))
    })
}

/// `$size`: a non-negative whole number (of any numeric type).
fn parse_size(arg: &Bson) -> QueryResult<usize> {
    let Some(number) = Number::of(arg) else {
        return Err(QueryError::new(format!(
            "Failed to parse $size. Expected a number in: $size: {arg}"
        )));
    };
    let whole = match number {
        Number::Int(i) => Some(i),
        Number::Float(f) if f.fract() == 0.0 => float_to_i64(f),
        Number::Float(_) => None,
    };
    let Some(whole) = whole else {
        return Err(QueryError::new(format!(
            "Failed to parse $size. Expected an integer: $size: {arg}"
        )));
    };
    usize::try_from(whole).map_err(|_| {
        QueryError::new(format!(
            "Failed to parse $size. Expected a non-negative number in: $size: {arg}"
        ))
    })
}

/// `$all`: values (equality), regexes, or — all of them — `$elemMatch`
/// documents.
fn parse_all(arg: &Bson, depth: usize) -> QueryResult<Vec<Pred>> {
    let Bson::Array(items) = arg else {
        return Err(QueryError::new("$all needs an array"));
    };
    let is_elem_match = |item: &Bson| matches!(item, Bson::Document(d) if d.keys().next().is_some_and(|k| k == "$elemMatch"));
    if items.first().is_some_and(is_elem_match) {
        return items
            .iter()
            .map(|item| parse_all_elem_match(item, depth))
            .collect();
    }
    items
        .iter()
        .map(|item| match item {
            Bson::RegularExpression(r) => Ok(Pred::Regex(Pattern::new(
                r.pattern.as_str(),
                r.options.as_str(),
            )?)),
            Bson::Document(d) if is_operator_document(d) => {
                Err(QueryError::new("no $ expressions in $all"))
            }
            other => Ok(Pred::Cmp(CmpOp::Eq, Operand::new(other.clone()))),
        })
        .collect()
}

/// One `{$elemMatch: ..}` item of `$all`.
fn parse_all_elem_match(item: &Bson, depth: usize) -> QueryResult<Pred> {
    // The server's wording for mixing $elemMatch items with others.
    let inconsistent = || QueryError::new("no $ expressions in $all");
    let Bson::Document(d) = item else {
        return Err(inconsistent());
    };
    match (d.len(), d.get("$elemMatch")) {
        (1, Some(Bson::Document(spec))) => Ok(Pred::ElemMatch(Box::new(parse_element_condition(
            spec,
            depth + 1,
        )?))),
        (1, Some(_)) => Err(QueryError::new("$elemMatch needs an Object")),
        _ => Err(inconsistent()),
    }
}

/// `$not`: a regex or a non-empty operator document.
fn parse_not(arg: &Bson, depth: usize, field: Option<&str>) -> QueryResult<Op> {
    match arg {
        Bson::RegularExpression(r) => Ok(Op::HoldsNowhere(Pred::Regex(Pattern::new(
            r.pattern.as_str(),
            r.options.as_str(),
        )?))),
        Bson::Document(spec) if spec.is_empty() => {
            Err(QueryError::new("$not argument must be a non-empty object"))
        }
        Bson::Document(spec) => {
            if let Some(key) = spec.keys().find(|k| !k.starts_with('$')) {
                return Err(QueryError::new(format!("unknown operator: {key}")));
            }
            Ok(Op::NotAll(parse_operators(spec, depth + 1, field)?))
        }
        _ => Err(QueryError::new(
            "$not argument must be a regex or an object",
        )),
    }
}

/// The argument of `$elemMatch` (or a `$pull` document condition): operators
/// on the element itself, or a query over a document element. Logical
/// operators (`$and`, `$or`, `$nor`) make it a query.
fn parse_element_condition(spec: &Document, depth: usize) -> QueryResult<ElementCondition> {
    let first = spec.keys().next().map(String::as_str);
    let value_form = is_operator_document(spec)
        && !matches!(
            first,
            Some("$and" | "$or" | "$nor" | "$expr" | "$where" | "$text" | "$comment")
        );
    if !value_form {
        return Ok(ElementCondition::Query(parse_query(spec, depth + 1, None)?));
    }
    if let Some(key) = spec.keys().find(|k| !k.starts_with('$')) {
        return Err(QueryError::new(format!("unknown operator: {key}")));
    }
    let ops = parse_operators(spec, depth + 1, None)?;
    Ok(ElementCondition::Value(Pred::And(
        ops.into_iter().map(Op::into_pred).collect(),
    )))
}

#[cfg(test)]
mod tests {
    //! Expected results marked "server" were observed on a MongoDB 8 wire
    //! server with the same documents and filter.

    use super::*;
    use bson::{doc, Decimal128, RawDocumentBuf, Regex};

    fn re(pattern: &str, options: &str) -> Bson {
        Bson::RegularExpression(Regex {
            pattern: pattern.try_into().unwrap(),
            options: options.try_into().unwrap(),
        })
    }

    fn dec(text: &str) -> Bson {
        Bson::Decimal128(text.parse::<Decimal128>().unwrap())
    }

    fn oid(hex: &str) -> Bson {
        Bson::ObjectId(bson::oid::ObjectId::parse_str(hex).unwrap())
    }

    fn date(millis: i64) -> Bson {
        Bson::DateTime(bson::DateTime::from_millis(millis))
    }

    fn ts(time: u32, increment: u32) -> Bson {
        Bson::Timestamp(bson::Timestamp { time, increment })
    }

    fn bin(bytes: &[u8], subtype: u8) -> Bson {
        Bson::Binary(bson::Binary {
            subtype: subtype.into(),
            bytes: bytes.to_vec(),
        })
    }

    /// Indexes of the documents matching `filter`, checking that the raw and
    /// decoded evaluations agree.
    /// No document matches (typed, since serde_json's `PartialEq` impls make
    /// a bare `[]` ambiguous).
    const NONE: [i32; 0] = [];

    fn matching(docs: &[Document], filter: Document) -> Vec<i32> {
        let compiled = Filter::parse(&filter).unwrap_or_else(|e| panic!("{filter}: {e}"));
        let mut out = Vec::new();
        for (i, doc) in docs.iter().enumerate() {
            let decoded = compiled.matches(doc).unwrap();
            let raw = RawDocumentBuf::try_from(doc).unwrap();
            assert_eq!(
                compiled.matches_raw(&raw).unwrap(),
                decoded,
                "raw vs decoded on {doc}"
            );
            if decoded {
                out.push(i32::try_from(i).unwrap());
            }
        }
        out
    }

    fn assert_error(filter: Document, message: &str) {
        match Filter::parse(&filter) {
            Ok(_) => panic!("{filter} should be refused"),
            Err(e) => assert_eq!(e.message(), message, "{filter}"),
        }
    }

    #[test]
    fn null_missing_and_arrays() {
        let docs = vec![
            doc! {"a": [1, 2]},
            doc! {"a": [{"c": 1}]},
            doc! {"a": [[1]]},
            doc! {"a": [[{"b": 1}]]},
            doc! {"a": null},
            doc! {},
            doc! {"a": {"b": null}},
            doc! {"a": [{"b": 1}, {"b": [2, 3]}]},
            doc! {"a": []},
            doc! {"a": [null]},
            doc! {"a": 5},
            doc! {"a": [{"b": null}]},
        ];
        assert_eq!(
            matching(&docs, doc! {"a.b": null}),
            [1, 4, 5, 6, 10, 11],
            "{}",
            "{'a.b': None}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": null}),
            [4, 5, 9],
            "{}",
            "{'a': None}"
        );
        assert_eq!(
            matching(&docs, doc! {"a.b": {"$ne": null}}),
            [0, 2, 3, 7, 8, 9],
            "{}",
            "{'a.b': {'$ne': None}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$ne": null}}),
            [0, 1, 2, 3, 6, 7, 8, 10, 11],
            "{}",
            "{'a': {'$ne': None}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a.b": {"$exists": false}}),
            [0, 1, 2, 3, 4, 5, 8, 9, 10],
            "{}",
            "{'a.b': {'$exists': False}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a.b": {"$exists": true}}),
            [6, 7, 11],
            "{}",
            "{'a.b': {'$exists': True}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$exists": true}}),
            [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11],
            "{}",
            "{'a': {'$exists': True}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a.b": {"$in": [null]}}),
            [1, 4, 5, 6, 10, 11],
            "{}",
            "{'a.b': {'$in': [None]}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a.b": {"$nin": [null, 1]}}),
            [0, 2, 3, 8, 9],
            "{}",
            "{'a.b': {'$nin': [None, 1]}}"
        );
        assert_eq!(matching(&docs, doc! {"a": 1}), [0], "{}", "{'a': 1}");
        assert_eq!(matching(&docs, doc! {"a": [1]}), [2], "{}", "{'a': [1]}");
        assert_eq!(matching(&docs, doc! {"a.b": 1}), [7], "{}", "{'a.b': 1}");
        assert_eq!(matching(&docs, doc! {"a.b": 2}), [7], "{}", "{'a.b': 2}");
        assert_eq!(
            matching(&docs, doc! {"a.b": [2, 3]}),
            [7],
            "{}",
            "{'a.b': [2, 3]}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$size": 1}}),
            [1, 2, 3, 9, 11],
            "{}",
            "{'a': {'$size': 1}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$size": 0}}),
            [8],
            "{}",
            "{'a': {'$size': 0}}"
        );
        assert_eq!(matching(&docs, doc! {"a": []}), [8], "{}", "{'a': []}");
        assert_eq!(
            matching(&docs, doc! {"a": [null]}),
            [9],
            "{}",
            "{'a': [None]}"
        );
        assert_eq!(
            matching(&docs, doc! {"a.b": {"$gte": null}}),
            [1, 4, 5, 6, 10, 11],
            "{}",
            "{'a.b': {'$gte': None}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a.b": {"$lt": null}}),
            NONE,
            "{}",
            "{'a.b': {'$lt': None}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$type": "null"}}),
            [4, 9],
            "{}",
            "{'a': {'$type': 'null'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$type": "array"}}),
            [0, 1, 2, 3, 7, 8, 9, 11],
            "{}",
            "{'a': {'$type': 'array'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$elemMatch": {"$eq": null}}}),
            [9],
            "{}",
            "{'a': {'$elemMatch': {'$eq': None}}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a.b": {"$type": "array"}}),
            [7],
            "{}",
            "{'a.b': {'$type': 'array'}}"
        );
    }

    #[test]
    fn numeric_segments_and_nested_arrays() {
        let docs = vec![
            doc! {"a": [[1, 2]]},
            doc! {"a": [[1, 2], [3]]},
            doc! {"a": [{"b": 1}]},
            doc! {"a": [1]},
            doc! {"a": {"0": 1}},
            doc! {"a": [{"0": 1}]},
            doc! {"a": [5, 6]},
            doc! {"a": [{"b": [[1]]}]},
            doc! {"a": [{"b": {"c": 1}}, {"b": [{"c": 2}]}]},
            doc! {"a": []},
            doc! {"a": [[{"b": 1}]]},
        ];
        assert_eq!(
            matching(&docs, doc! {"a.0": 1}),
            [3, 4, 5],
            "{}",
            "{'a.0': 1}"
        );
        assert_eq!(
            matching(&docs, doc! {"a.0": [1, 2]}),
            [0, 1],
            "{}",
            "{'a.0': [1, 2]}"
        );
        assert_eq!(matching(&docs, doc! {"a.1": 3}), NONE, "{}", "{'a.1': 3}");
        assert_eq!(
            matching(&docs, doc! {"a.1": [3]}),
            [1],
            "{}",
            "{'a.1': [3]}"
        );
        assert_eq!(
            matching(&docs, doc! {"a.5": null}),
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
            "{}",
            "{'a.5': None}"
        );
        assert_eq!(
            matching(&docs, doc! {"a.0": null}),
            [2, 7, 8, 9],
            "{}",
            "{'a.0': None}"
        );
        assert_eq!(matching(&docs, doc! {"a.01": 6}), [6], "{}", "{'a.01': 6}");
        assert_eq!(
            matching(&docs, doc! {"a.0.b": 1}),
            [2, 10],
            "{}",
            "{'a.0.b': 1}"
        );
        assert_eq!(matching(&docs, doc! {"a.b": 1}), [2], "{}", "{'a.b': 1}");
        assert_eq!(
            matching(&docs, doc! {"a.b": [1]}),
            [7],
            "{}",
            "{'a.b': [1]}"
        );
        assert_eq!(
            matching(&docs, doc! {"a.b.0": [1]}),
            [7],
            "{}",
            "{'a.b.0': [1]}"
        );
        assert_eq!(
            matching(&docs, doc! {"a.b.c": 2}),
            [8],
            "{}",
            "{'a.b.c': 2}"
        );
        assert_eq!(
            matching(&docs, doc! {"a.b.c": {"$exists": true}}),
            [8],
            "{}",
            "{'a.b.c': {'$exists': True}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a.0": {"$exists": true}}),
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 10],
            "{}",
            "{'a.0': {'$exists': True}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a.0.0.b": 1}),
            [10],
            "{}",
            "{'a.0.0.b': 1}"
        );
        assert_eq!(
            matching(&docs, doc! {"a.0": {"$type": "array"}}),
            [0, 1, 10],
            "{}",
            "{'a.0': {'$type': 'array'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$size": 2}}),
            [1, 6, 8],
            "{}",
            "{'a': {'$size': 2}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a.0": {"$size": 2}}),
            [0, 1],
            "{}",
            "{'a.0': {'$size': 2}}"
        );
        assert_eq!(matching(&docs, doc! {"a": 2}), NONE, "{}", "{'a': 2}");
        assert_eq!(matching(&docs, doc! {"a": [3]}), [1], "{}", "{'a': [3]}");
    }

    #[test]
    fn comparisons_and_brackets() {
        let docs = vec![
            doc! {"a": [[1, 2]]},
            doc! {"a": f64::NAN},
            doc! {"a": 5},
            doc! {"a": "x"},
            doc! {"a": null},
            doc! {},
            doc! {"a": Bson::MinKey},
            doc! {"a": Bson::MaxKey},
            doc! {"a": [1, "x"]},
            doc! {"a": {"0": 1}},
            doc! {"a": dec("NaN")},
            doc! {"a": [f64::NAN]},
            doc! {"a": 5_i64},
            doc! {"a": 5.0},
            doc! {"a": dec("5")},
            doc! {"a": 4.999},
            doc! {"a": true},
            doc! {"a": {"b": 1, "c": 2}},
            doc! {"a": {"c": 2, "b": 1}},
            doc! {"a": 9007199254740993_i64},
            doc! {"a": -0.0},
            doc! {"a": f64::INFINITY},
        ];
        assert_eq!(
            matching(&docs, doc! {"a": {"$gt": Bson::MinKey}}),
            [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21],
            "{}",
            "{'a': {'$gt': MinKey()}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$lt": Bson::MaxKey}}),
            [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21],
            "{}",
            "{'a': {'$lt': MaxKey()}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$gte": Bson::MinKey}}),
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21],
            "{}",
            "{'a': {'$gte': MinKey()}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$gte": null}}),
            [4, 5],
            "{}",
            "{'a': {'$gte': None}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$gt": null}}),
            NONE,
            "{}",
            "{'a': {'$gt': None}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$lte": null}}),
            [4, 5],
            "{}",
            "{'a': {'$lte': None}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$lt": 5}}),
            [8, 15, 20],
            "{}",
            "{'a': {'$lt': 5}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$lte": 5}}),
            [2, 8, 12, 13, 14, 15, 20],
            "{}",
            "{'a': {'$lte': 5}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$gte": f64::NAN}}),
            [1, 10, 11],
            "{}",
            "{'a': {'$gte': nan}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$gt": f64::NAN}}),
            NONE,
            "{}",
            "{'a': {'$gt': nan}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$lte": f64::NAN}}),
            [1, 10, 11],
            "{}",
            "{'a': {'$lte': nan}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": f64::NAN}),
            [1, 10, 11],
            "{}",
            "{'a': nan}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$ne": f64::NAN}}),
            [0, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21],
            "{}",
            "{'a': {'$ne': nan}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$gt": "a"}}),
            [3, 8],
            "{}",
            "{'a': {'$gt': 'a'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$gt": []}}),
            [0, 8, 11],
            "{}",
            "{'a': {'$gt': []}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$gte": [1]}}),
            [0, 8],
            "{}",
            "{'a': {'$gte': [1]}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": 5}),
            [2, 12, 13, 14],
            "{}",
            "{'a': 5}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": dec("5.0")}),
            [2, 12, 13, 14],
            "{}",
            "{'a': Decimal128('5.0')}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$gt": 4.999}}),
            [2, 12, 13, 14, 19, 21],
            "{}",
            "{'a': {'$gt': 4.999}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$gt": 9007199254740992_i64}}),
            [19, 21],
            "{}",
            "{'a': {'$gt': 9007199254740992}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": 9007199254740992.0}),
            NONE,
            "{}",
            "{'a': 9007199254740992.0}"
        );
        assert_eq!(matching(&docs, doc! {"a": 0}), [20], "{}", "{'a': 0}");
        assert_eq!(
            matching(&docs, doc! {"a": {"$gt": 1e308_f64}}),
            [21],
            "{}",
            "{'a': {'$gt': 1e+308}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"b": 1, "c": 2}}),
            [17],
            "{}",
            "{'a': {'b': 1, 'c': 2}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"b": 1.0, "c": 2_i64}}),
            [17],
            "{}",
            "{'a': {'b': 1.0, 'c': 2}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$gt": {"b": 1}}}),
            [17, 18],
            "{}",
            "{'a': {'$gt': {'b': 1}}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$lt": true}}),
            NONE,
            "{}",
            "{'a': {'$lt': True}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$gte": false}}),
            [16],
            "{}",
            "{'a': {'$gte': False}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$in": [5, "x"]}}),
            [2, 3, 8, 12, 13, 14],
            "{}",
            "{'a': {'$in': [5, 'x']}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$nin": [5, null]}}),
            [0, 1, 3, 6, 7, 8, 9, 10, 11, 15, 16, 17, 18, 19, 20, 21],
            "{}",
            "{'a': {'$nin': [5, None]}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$ne": 5}}),
            [0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 16, 17, 18, 19, 20, 21],
            "{}",
            "{'a': {'$ne': 5}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$gt": 1, "$lt": 10}}),
            [2, 12, 13, 14, 15],
            "{}",
            "{'a': {'$gt': 1, '$lt': 10}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$eq": [1, "x"]}}),
            [8],
            "{}",
            "{'a': {'$eq': [1, 'x']}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$in": [[1, 2]]}}),
            [0],
            "{}",
            "{'a': {'$in': [[1, 2]]}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$in": []}}),
            NONE,
            "{}",
            "{'a': {'$in': []}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$nin": []}}),
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21],
            "{}",
            "{'a': {'$nin': []}}"
        );
    }

    #[test]
    fn regexes() {
        let docs = vec![
            doc! {"a": "x"},
            doc! {"a": re("^x", "i")},
            doc! {"a": re("^x", "")},
            doc! {"a": "X"},
            doc! {"a": ["y", "xa"]},
            doc! {"a": "a\nx"},
            doc! {"a": "ab\n"},
            doc! {"a": 5},
            doc! {"a": null},
            doc! {},
            doc! {"a": "٣"},
            doc! {"a": "a.b"},
        ];
        assert_eq!(
            matching(&docs, doc! {"a": re("^x", "")}),
            [0, 2, 4],
            "{}",
            "{'a': Regex('^x', 0)}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": re("^x", "i")}),
            [0, 1, 3, 4],
            "{}",
            "{'a': Regex('^x', re.IGNORECASE)}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$regex": "^x", "$options": "i"}}),
            [0, 1, 3, 4],
            "{}",
            "{'a': {'$regex': '^x', '$options': 'i'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$regex": re("^X", "i")}}),
            [0, 3, 4],
            "{}",
            "{'a': {'$regex': Regex('^X', re.IGNORECASE)}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$regex": "^x", "$options": "m"}}),
            [0, 4, 5],
            "{}",
            "{'a': {'$regex': '^x', '$options': 'm'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$regex": "b$"}}),
            [6, 11],
            "{}",
            "{'a': {'$regex': 'b$'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$regex": "b$", "$options": "m"}}),
            [6, 11],
            "{}",
            "{'a': {'$regex': 'b$', '$options': 'm'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$regex": "^\\d$"}}),
            [10],
            "{}",
            "{'a': {'$regex': '^\\\\d$'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$regex": "a\\.b"}}),
            [11],
            "{}",
            "{'a': {'$regex': 'a\\\\.b'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$regex": "a.x"}}),
            NONE,
            "{}",
            "{'a': {'$regex': 'a.x'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$regex": "a.x", "$options": "s"}}),
            [5],
            "{}",
            "{'a': {'$regex': 'a.x', '$options': 's'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$regex": " a # c\n", "$options": "x"}}),
            [4, 5, 6, 11],
            "{}",
            "{'a': {'$regex': ' a # c\\n', '$options': 'x'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$in": [re("^x", ""), 5]}}),
            [0, 2, 4, 7],
            "{}",
            "{'a': {'$in': [Regex('^x', 0), 5]}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$nin": [re("^x", "")]}}),
            [1, 3, 5, 6, 7, 8, 9, 10, 11],
            "{}",
            "{'a': {'$nin': [Regex('^x', 0)]}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$not": re("^x", "")}}),
            [1, 3, 5, 6, 7, 8, 9, 10, 11],
            "{}",
            "{'a': {'$not': Regex('^x', 0)}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$eq": re("^x", "")}}),
            [2],
            "{}",
            "{'a': {'$eq': Regex('^x', 0)}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$all": [re("^x", ""), re("a$", "")]}}),
            [4],
            "{}",
            "{'a': {'$all': [Regex('^x', 0), Regex('a$', 0)]}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$not": {"$regex": "x"}}}),
            [1, 2, 3, 6, 7, 8, 9, 10, 11],
            "{}",
            "{'a': {'$not': {'$regex': 'x'}}}"
        );
        assert_error(doc! {"a": {"$regex": 1}}, "$regex has to be a string");
        assert_error(doc! {"a": {"$options": "i"}}, "$options needs a $regex");
        assert_error(
            doc! {"a": {"$regex": "a", "$options": "q"}},
            "invalid flag in regex options: q",
        );
        assert_error(
            doc! {"a": {"$gt": re("x", "")}},
            "Can't have RegEx as arg to non-equality predicate over field 'a'.",
        );
        assert_error(
            doc! {"a": {"$ne": re("x", "")}},
            "Can't have regex as arg to $ne.",
        );
    }

    #[test]
    fn type_exists_mod_size() {
        let docs = vec![
            doc! {"a": 1},
            doc! {"a": 1_i64},
            doc! {"a": 1.5},
            doc! {"a": dec("1")},
            doc! {"a": "x"},
            doc! {"a": [1, "x"]},
            doc! {"a": []},
            doc! {"a": {"b": 1}},
            doc! {"a": null},
            doc! {},
            doc! {"a": true},
            doc! {"a": 5},
            doc! {"a": 5.9},
            doc! {"a": -5},
            doc! {"a": f64::NAN},
            doc! {"a": f64::INFINITY},
            doc! {"a": dec("5.5")},
            doc! {"a": [4, 7]},
            doc! {"a": "5"},
            doc! {"a": [[1, 2]]},
            doc! {"a": Bson::MinKey},
            doc! {"a": [[]]},
        ];
        assert_eq!(
            matching(&docs, doc! {"a": {"$type": "number"}}),
            [0, 1, 2, 3, 5, 11, 12, 13, 14, 15, 16, 17],
            "{}",
            "{'a': {'$type': 'number'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$type": "int"}}),
            [0, 5, 11, 13, 17],
            "{}",
            "{'a': {'$type': 'int'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$type": 18}}),
            [1],
            "{}",
            "{'a': {'$type': 18}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$type": 2.0}}),
            [4, 5, 18],
            "{}",
            "{'a': {'$type': 2.0}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$type": ["string", "bool"]}}),
            [4, 5, 10, 18],
            "{}",
            "{'a': {'$type': ['string', 'bool']}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$type": "array"}}),
            [5, 6, 17, 19, 21],
            "{}",
            "{'a': {'$type': 'array'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$type": 4}}),
            [5, 6, 17, 19, 21],
            "{}",
            "{'a': {'$type': 4}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$type": "object"}}),
            [7],
            "{}",
            "{'a': {'$type': 'object'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$type": "null"}}),
            [8],
            "{}",
            "{'a': {'$type': 'null'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$type": "minKey"}}),
            [20],
            "{}",
            "{'a': {'$type': 'minKey'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$type": -1}}),
            [20],
            "{}",
            "{'a': {'$type': -1}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$type": "decimal"}}),
            [3, 16],
            "{}",
            "{'a': {'$type': 'decimal'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$exists": true}}),
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21],
            "{}",
            "{'a': {'$exists': True}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$exists": false}}),
            [9],
            "{}",
            "{'a': {'$exists': False}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$exists": "x"}}),
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21],
            "{}",
            "{'a': {'$exists': 'x'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$exists": 0}}),
            [9],
            "{}",
            "{'a': {'$exists': 0}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$exists": null}}),
            [9],
            "{}",
            "{'a': {'$exists': None}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$mod": [2, 1]}}),
            [0, 1, 2, 3, 5, 11, 12, 16, 17],
            "{}",
            "{'a': {'$mod': [2, 1]}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$mod": [-2, -1]}}),
            [13],
            "{}",
            "{'a': {'$mod': [-2, -1]}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$mod": [2, -1]}}),
            [13],
            "{}",
            "{'a': {'$mod': [2, -1]}}"
        );
        // server: []; the manual truncates both arguments toward zero
        assert_eq!(
            matching(&docs, doc! {"a": {"$mod": [2.9, 1.9]}}),
            [0, 1, 2, 3, 5, 11, 12, 16, 17],
            "{}",
            "{'a': {'$mod': [2.9, 1.9]}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$mod": [dec("2"), 1]}}),
            [0, 1, 2, 3, 5, 11, 12, 16, 17],
            "{}",
            "{'a': {'$mod': [Decimal128('2'), 1]}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$mod": [4_i64, 0]}}),
            [17],
            "{}",
            "{'a': {'$mod': [4, 0]}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$size": 2}}),
            [5, 17],
            "{}",
            "{'a': {'$size': 2}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$size": 0}}),
            [6],
            "{}",
            "{'a': {'$size': 0}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$size": 2.0}}),
            [5, 17],
            "{}",
            "{'a': {'$size': 2.0}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$size": 1_i64}}),
            [19, 21],
            "{}",
            "{'a': {'$size': 1}}"
        );
        assert_error(doc! {"a": {"$type": "foo"}}, "Unknown type name alias: foo");
        assert_error(doc! {"a": {"$type": 99}}, "Invalid numerical type code: 99");
        assert_error(
            doc! {"a": {"$type": 2.5}},
            "Invalid numerical type code: 2.5",
        );
        assert_error(doc! {"a": {"$type": []}}, "a must match at least one type");
        assert_error(
            doc! {"a": {"$type": null}},
            "type must be represented as a number or a string",
        );
        assert_error(
            doc! {"a": {"$mod": 1}},
            "malformed mod, needs to be an array",
        );
        assert_error(
            doc! {"a": {"$mod": [1]}},
            "malformed mod, not enough elements",
        );
        assert_error(doc! {"a": {"$mod": [0, 1]}}, "divisor cannot be 0");
        assert_error(doc! {"a": {"$mod": [0.5, 0]}}, "divisor cannot be 0");
        assert_error(
            doc! {"a": {"$mod": ["a", 1]}},
            "malformed mod, divisor not a number",
        );
        assert_error(
            doc! {"a": {"$mod": [f64::NAN, 1]}},
            "malformed mod, divisor not a number",
        );
        assert_error(
            doc! {"a": {"$size": -1}},
            "Failed to parse $size. Expected a non-negative number in: $size: -1",
        );
        assert_error(
            doc! {"a": {"$size": 1.5}},
            "Failed to parse $size. Expected an integer: $size: 1.5",
        );
        assert_error(
            doc! {"a": {"$size": "1"}},
            "Failed to parse $size. Expected a number in: $size: \"1\"",
        );
        // server: [0, 1, 2, 3, 5, 11, 12, 16, 17]; the manual requires exactly two elements
        assert_error(
            doc! {"a": {"$mod": [2, 1, 3]}},
            "malformed mod, too many elements",
        );
        // server: []; the manual refuses NaN
        assert_error(
            doc! {"a": {"$mod": [2, f64::NAN]}},
            "malformed mod, remainder not a number",
        );
        // server: []; the manual requires numbers
        assert_error(
            doc! {"a": {"$mod": [2, "1"]}},
            "malformed mod, remainder not a number",
        );
        assert_error(
            doc! {"a": {"$mod": [f64::INFINITY, 1]}},
            "malformed mod, divisor not a number",
        );
        // server: []; the manual refuses values beyond 64 bits
        assert_error(doc! {"a": {"$mod": [2, 1e30_f64]}}, "malformed mod, remainder value is invalid :: caused by :: Out of bounds coercing to integral value");
    }

    #[test]
    fn all_and_elem_match() {
        let docs = vec![
            doc! {"a": [1, 2, 3]},
            doc! {"a": [[1, 2]]},
            doc! {"a": [{"b": 1, "c": 2}, {"b": 2, "c": 1}]},
            doc! {"a": [{"b": [{"c": 1}, {"c": 5}]}]},
            doc! {"a": 1},
            doc! {"a": [[1]]},
            doc! {"a": [1]},
            doc! {"a": []},
            doc! {"a": {"b": 1}},
            doc! {"a": [{"b": 1}]},
            doc! {"a": [5, 9, 12]},
            doc! {"a": [[{"b": 1}]]},
            doc! {"a": [null]},
        ];
        assert_eq!(
            matching(&docs, doc! {"a": {"$all": [1, 2]}}),
            [0],
            "{}",
            "{'a': {'$all': [1, 2]}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$all": [1]}}),
            [0, 4, 6],
            "{}",
            "{'a': {'$all': [1]}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$all": []}}),
            NONE,
            "{}",
            "{'a': {'$all': []}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$all": [[1, 2]]}}),
            [1],
            "{}",
            "{'a': {'$all': [[1, 2]]}}"
        );
        // server: [5]; the manual: $all of a nested array also matches an equal array
        assert_eq!(
            matching(&docs, doc! {"a": {"$all": [[1]]}}),
            [5, 6],
            "{}",
            "{'a': {'$all': [[1]]}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$elemMatch": {"b": 1, "c": 2}}}),
            [2],
            "{}",
            "{'a': {'$elemMatch': {'b': 1, 'c': 2}}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$elemMatch": {"b": 2, "c": 2}}}),
            NONE,
            "{}",
            "{'a': {'$elemMatch': {'b': 2, 'c': 2}}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a.b": 2, "a.c": 2}),
            [2],
            "{}",
            "{'a.b': 2, 'a.c': 2}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$elemMatch": {"$gte": 6, "$lt": 10}}}),
            [10],
            "{}",
            "{'a': {'$elemMatch': {'$gte': 6, '$lt': 10}}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$gte": 6, "$lt": 10}}),
            [10],
            "{}",
            "{'a': {'$gte': 6, '$lt': 10}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$elemMatch": {"$eq": 1}}}),
            [0, 6],
            "{}",
            "{'a': {'$elemMatch': {'$eq': 1}}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$elemMatch": {"0": 1}}}),
            NONE,
            "{}",
            "{'a': {'$elemMatch': {'0': 1}}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$elemMatch": {"$size": 2}}}),
            [1],
            "{}",
            "{'a': {'$elemMatch': {'$size': 2}}}"
        );
        assert_eq!(
            matching(
                &docs,
                doc! {"a": {"$elemMatch": {"b": {"$elemMatch": {"c": {"$gt": 4}}}}}}
            ),
            [3],
            "{}",
            "{'a': {'$elemMatch': {'b': {'$elemMatch': {'c': {'$gt': 4}}}}}}"
        );
        assert_eq!(
            matching(
                &docs,
                doc! {"a": {"$elemMatch": {"$elemMatch": {"$eq": 1}}}}
            ),
            [1, 5],
            "{}",
            "{'a': {'$elemMatch': {'$elemMatch': {'$eq': 1}}}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$elemMatch": {"$ne": 1}}}),
            [0, 1, 2, 3, 5, 9, 10, 11, 12],
            "{}",
            "{'a': {'$elemMatch': {'$ne': 1}}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$elemMatch": {"$not": {"$gt": 2}}}}),
            [0, 1, 2, 3, 5, 6, 9, 11, 12],
            "{}",
            "{'a': {'$elemMatch': {'$not': {'$gt': 2}}}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$elemMatch": {"$in": [2, 9]}}}),
            [0, 10],
            "{}",
            "{'a': {'$elemMatch': {'$in': [2, 9]}}}"
        );
        // server: ERR: unknown operator: $or; the manual (and MongoDB source): a logical operator first makes $elemMatch a query
        assert_eq!(
            matching(
                &docs,
                doc! {"a": {"$elemMatch": {"$or": [{"b": 2}, {"c": 2}]}}}
            ),
            [2],
            "{}",
            "{'a': {'$elemMatch': {'$or': [{'b': 2}, {'c': 2}]}}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$elemMatch": {}}}),
            [1, 2, 3, 5, 9, 11],
            "{}",
            "{'a': {'$elemMatch': {}}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$elemMatch": {"$exists": true}}}),
            [0, 1, 2, 3, 5, 6, 9, 10, 11, 12],
            "{}",
            "{'a': {'$elemMatch': {'$exists': True}}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$elemMatch": {"$eq": null}}}),
            [12],
            "{}",
            "{'a': {'$elemMatch': {'$eq': None}}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$elemMatch": {"b": null}}}),
            NONE,
            "{}",
            "{'a': {'$elemMatch': {'b': None}}}"
        );
        assert_eq!(
            matching(
                &docs,
                doc! {"a": {"$all": [{"$elemMatch": {"b": 1}}, {"$elemMatch": {"c": 1}}]}}
            ),
            [2],
            "{}",
            "{'a': {'$all': [{'$elemMatch': {'b': 1}}, {'$elemMatch': {'c': 1}}]}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$all": [{"$elemMatch": {"$gt": 10}}]}}),
            [10],
            "{}",
            "{'a': {'$all': [{'$elemMatch': {'$gt': 10}}]}}"
        );
        // server: []; the manual: $all is the $and of equalities, each may hold at a different element
        assert_eq!(
            matching(&docs, doc! {"a.b": {"$all": [1, 2]}}),
            [2],
            "{}",
            "{'a.b': {'$all': [1, 2]}}"
        );
        assert_error(doc! {"a": {"$all": 1}}, "$all needs an array");
        assert_error(doc! {"a": {"$elemMatch": 1}}, "$elemMatch needs an Object");
        assert_error(
            doc! {"a": {"$all": [{"$gt": 1}]}},
            "no $ expressions in $all",
        );
        assert_error(
            doc! {"a": {"$all": [{"$elemMatch": {"b": 1}}, 1]}},
            "no $ expressions in $all",
        );
        assert_error(
            doc! {"a": {"$all": [1, {"$elemMatch": {"b": 1}}]}},
            "no $ expressions in $all",
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$size": 1, "$all": [1]}}),
            [6],
            "{}",
            "{'a': {'$size': 1, '$all': [1]}}"
        );
    }

    #[test]
    fn logical_operators() {
        let docs = vec![
            doc! {"a": 1, "b": 2},
            doc! {"a": 2, "b": 2},
            doc! {"a": [1, 3]},
            doc! {},
            doc! {"a": 3},
        ];
        assert_eq!(
            matching(&docs, doc! {"$and": [{"a": 1}, {"b": 2}]}),
            [0],
            "{}",
            "{'$and': [{'a': 1}, {'b': 2}]}"
        );
        assert_eq!(
            matching(&docs, doc! {"$or": [{"a": 1}, {"a": 3}]}),
            [0, 2, 4],
            "{}",
            "{'$or': [{'a': 1}, {'a': 3}]}"
        );
        assert_eq!(
            matching(&docs, doc! {"$nor": [{"a": 1}, {"b": 2}]}),
            [3, 4],
            "{}",
            "{'$nor': [{'a': 1}, {'b': 2}]}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$not": {"$gt": 1}}}),
            [0, 3],
            "{}",
            "{'a': {'$not': {'$gt': 1}}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$not": {"$gt": 1, "$lt": 3}}}),
            [0, 3, 4],
            "{}",
            "{'a': {'$not': {'$gt': 1, '$lt': 3}}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$ne": 1}}),
            [1, 3, 4],
            "{}",
            "{'a': {'$ne': 1}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$nin": [1, 2]}}),
            [3, 4],
            "{}",
            "{'a': {'$nin': [1, 2]}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$gt": 1, "$lt": 3}}),
            [1, 2],
            "{}",
            "{'a': {'$gt': 1, '$lt': 3}}"
        );
        assert_eq!(
            matching(&docs, doc! {"$or": [{"a": 1}], "b": 2}),
            [0],
            "{}",
            "{'$or': [{'a': 1}], 'b': 2}"
        );
        assert_eq!(
            matching(&docs, doc! {"$comment": "hi"}),
            [0, 1, 2, 3, 4],
            "{}",
            "{'$comment': 'hi'}"
        );
        assert_eq!(matching(&docs, doc! {}), [0, 1, 2, 3, 4], "{}", "{}");
        assert_eq!(
            matching(
                &docs,
                doc! {"$and": [{"$or": [{"a": 2}, {"a": 3}]}, {"$nor": [{"b": 2}]}]}
            ),
            [2, 4],
            "{}",
            "{'$and': [{'$or': [{'a': 2}, {'a': 3}]}, {'$nor': [{'b': 2}]}]}"
        );
        assert_error(doc! {"$foo": 1}, "unknown top level operator: $foo. If you have a field name that starts with a '$' symbol, consider using $getField or $setField.");
        assert_error(doc! {"a": {"$foo": 1}}, "unknown operator: $foo");
        assert_error(doc! {"a": {"$in": 1}}, "$in needs an array");
        assert_error(doc! {"$and": []}, "$and argument must be a non-empty array");
        assert_error(doc! {"$or": 1}, "$or argument must be an array");
        assert_error(
            doc! {"$nor": [1]},
            "$nor argument's entries must be objects",
        );
        assert_error(
            doc! {"a": {"$not": 1}},
            "$not argument must be a regex or an object",
        );
        assert_error(
            doc! {"a": {"$not": {}}},
            "$not argument must be a non-empty object",
        );
        assert_error(doc! {"$not": {"a": 1}}, "unknown top level operator: $not. If you have a field name that starts with a '$' symbol, consider using $getField or $setField.");
        assert_error(doc! {"a": {"$not": {"b": 1}}}, "unknown operator: b");
        assert_error(doc! {"a": {"$nin": 1}}, "$nin needs an array");
        assert_error(
            doc! {"a": {"$eq": 1, "$comment": 1}},
            "unknown operator: $comment",
        );
        // server: []; MongoDB parses by the first key and refuses the field name
        assert_error(doc! {"a": {"$gt": 1, "b": 2}}, "unknown operator: b");
        assert_error(doc! {"a": {"$in": [{"$gt": 1}]}}, "cannot nest $ under $in");
        assert_eq!(
            matching(&docs, doc! {"a": {"b": 2, "$gt": 1}}),
            NONE,
            "{}",
            "{'a': {'b': 2, '$gt': 1}}"
        );
        assert_eq!(
            matching(&docs, doc! {"a": {"$eq": {"$gt": 1}}}),
            NONE,
            "{}",
            "{'a': {'$eq': {'$gt': 1}}}"
        );
    }
    #[test]
    fn other_types_and_whole_documents() {
        let docs = vec![
            doc! {"t": date(1704067200000), "o": oid("65a000000000000000000001"), "s": ts(5, 1), "b": bin(&[97, 98], 0), "n": {"x": 1, "y": [1, 2]}},
            doc! {"t": date(1704067201000), "o": oid("65a000000000000000000002"), "s": ts(5, 2), "b": bin(&[98], 0), "n": {"y": [1, 2], "x": 1}},
            doc! {"t": [date(1704067200005), date(1704067202000)], "o": [oid("65a000000000000000000001")], "b": bin(&[97, 98], 5), "n": [{"x": 1, "y": [1, 2]}]},
            doc! {"t": "x", "o": "x", "s": 5, "n": {"x": 1.0, "y": [1_i64, 2.0]}},
            doc! {"t": null, "o": null, "n": {"x": 1}},
        ];
        assert_eq!(
            matching(&docs, doc! {"t": {"$gt": date(1704067200500)}}),
            [1, 2],
            "{}",
            "{'t': {'$gt': datetime.datetime(2024, 1, 1, 0, 0, 0, 500000)}}"
        );
        assert_eq!(
            matching(&docs, doc! {"t": {"$lte": date(1704067200005)}}),
            [0, 2],
            "{}",
            "{'t': {'$lte': datetime.datetime(2024, 1, 1, 0, 0, 0, 5000)}}"
        );
        assert_eq!(
            matching(&docs, doc! {"t": date(1704067200000)}),
            [0],
            "{}",
            "{'t': datetime.datetime(2024, 1, 1, 0, 0)}"
        );
        assert_eq!(
            matching(&docs, doc! {"t": {"$type": "date"}}),
            [0, 1, 2],
            "{}",
            "{'t': {'$type': 'date'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"o": oid("65a000000000000000000001")}),
            [0, 2],
            "{}",
            "{'o': ObjectId('65a000000000000000000001')}"
        );
        assert_eq!(
            matching(&docs, doc! {"o": {"$gt": oid("65a000000000000000000001")}}),
            [1],
            "{}",
            "{'o': {'$gt': ObjectId('65a000000000000000000001')}}"
        );
        assert_eq!(
            matching(
                &docs,
                doc! {"o": {"$in": [oid("65a000000000000000000002"), "x"]}}
            ),
            [1, 3],
            "{}",
            "{'o': {'$in': [ObjectId('65a000000000000000000002'), 'x']}}"
        );
        assert_eq!(
            matching(&docs, doc! {"s": {"$gt": ts(5, 1)}}),
            [1],
            "{}",
            "{'s': {'$gt': Timestamp(5, 1)}}"
        );
        assert_eq!(
            matching(&docs, doc! {"s": {"$type": "timestamp"}}),
            [0, 1],
            "{}",
            "{'s': {'$type': 'timestamp'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"b": bin(&[97, 98], 0)}),
            [0],
            "{}",
            "{'b': Binary(b'ab', 0)}"
        );
        // server: []; the manual orders BinData by length, then subtype, then bytes
        assert_eq!(
            matching(&docs, doc! {"b": {"$gt": bin(&[98], 0)}}),
            [0, 2],
            "{}",
            "{'b': {'$gt': Binary(b'b', 0)}}"
        );
        assert_eq!(
            matching(&docs, doc! {"b": {"$type": "binData"}}),
            [0, 1, 2],
            "{}",
            "{'b': {'$type': 'binData'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"n": {"x": 1, "y": [1, 2]}}),
            [0, 2, 3],
            "{}",
            "{'n': {'x': 1, 'y': [1, 2]}}"
        );
        assert_eq!(
            matching(&docs, doc! {"n": {"y": [1, 2], "x": 1}}),
            [1],
            "{}",
            "{'n': {'y': [1, 2], 'x': 1}}"
        );
        assert_eq!(
            matching(&docs, doc! {"n": {"$gt": {"x": 1}}}),
            [0, 1, 2, 3],
            "{}",
            "{'n': {'$gt': {'x': 1}}}"
        );
        assert_eq!(
            matching(&docs, doc! {"n": {"$in": [{"x": 1}]}}),
            [4],
            "{}",
            "{'n': {'$in': [{'x': 1}]}}"
        );
        assert_eq!(
            matching(&docs, doc! {"n.y": [1, 2]}),
            [0, 1, 2, 3],
            "{}",
            "{'n.y': [1, 2]}"
        );
        assert_eq!(
            matching(&docs, doc! {"n.y": 2}),
            [0, 1, 2, 3],
            "{}",
            "{'n.y': 2}"
        );
        assert_eq!(
            matching(&docs, doc! {"n.y": {"$size": 2}}),
            [0, 1, 2, 3],
            "{}",
            "{'n.y': {'$size': 2}}"
        );
        assert_eq!(
            matching(&docs, doc! {"n": {"$elemMatch": {"x": 1}}}),
            [2],
            "{}",
            "{'n': {'$elemMatch': {'x': 1}}}"
        );
        assert_eq!(
            matching(&docs, doc! {"n.x": {"$type": "double"}}),
            [3],
            "{}",
            "{'n.x': {'$type': 'double'}}"
        );
        assert_eq!(
            matching(&docs, doc! {"n": {"$exists": true, "$ne": {"x": 1}}}),
            [0, 1, 2, 3],
            "{}",
            "{'n': {'$exists': True, '$ne': {'x': 1}}}"
        );
        assert_eq!(
            matching(&docs, doc! {"n.y.1": 2}),
            [0, 1, 2, 3],
            "{}",
            "{'n.y.1': 2}"
        );
        assert_eq!(
            matching(&docs, doc! {"n.y": {"$all": [2, 1]}}),
            [0, 1, 2, 3],
            "{}",
            "{'n.y': {'$all': [2, 1]}}"
        );
        // server: []; the manual: $all of a nested array matches an equal array
        assert_eq!(
            matching(&docs, doc! {"n.y": {"$all": [[1, 2]]}}),
            [0, 1, 2, 3],
            "{}",
            "{'n.y': {'$all': [[1, 2]]}}"
        );
    }

    #[test]
    fn expr_compares_fields_of_the_document() {
        let docs = vec![doc! {"a": 1, "b": 2}, doc! {"a": 3, "b": 2}, doc! {"a": 2}];
        assert_eq!(
            matching(&docs, doc! {"$expr": {"$gt": ["$a", "$b"]}}),
            vec![1, 2]
        );
        assert_eq!(
            matching(
                &docs,
                doc! {"$or": [{"$expr": {"$eq": ["$a", 1]}}, {"a": 2}]}
            ),
            vec![0, 2]
        );
        // server: a constant truthy $expr matches everything.
        assert_eq!(matching(&docs, doc! {"$expr": 1}), vec![0, 1, 2]);
        assert_eq!(matching(&docs, doc! {"$expr": 0}), Vec::<i32>::new());
        assert_error(
            doc! {"a": {"$elemMatch": {"$expr": 1}}},
            "$expr can only be applied to the top-level document",
        );
    }

    #[test]
    fn unsupported_operators_are_named() {
        for (filter, op) in [
            (doc! {"$where": "1"}, "$where"),
            (doc! {"$text": {"$search": "x"}}, "$text"),
            (doc! {"$jsonSchema": {}}, "$jsonSchema"),
            (doc! {"a": {"$near": [1, 2]}}, "$near"),
            (doc! {"a": {"$geoWithin": {}}}, "$geoWithin"),
            (doc! {"a": {"$bitsAllSet": 1}}, "$bitsAllSet"),
        ] {
            let err = Filter::parse(&filter).unwrap_err();
            assert_eq!(err.message(), format!("{op} is not supported"));
        }
    }

    #[test]
    fn comment_is_ignored_and_empty_filter_matches_all() {
        let docs = vec![doc! {"a": 1}, doc! {}];
        assert_eq!(matching(&docs, doc! {"$comment": "why"}), vec![0, 1]);
        assert_eq!(matching(&docs, doc! {"$comment": "why", "a": 1}), vec![0]);
        assert_eq!(matching(&docs, doc! {}), vec![0, 1]);
    }

    #[test]
    fn dbref_documents_are_literals() {
        let docs = vec![doc! {"r": {"$ref": "c", "$id": 1}}, doc! {"r": 1}];
        assert_eq!(
            matching(&docs, doc! {"r": {"$ref": "c", "$id": 1}}),
            vec![0]
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let mut filter = doc! {"a": 1};
        for _ in 0..300 {
            filter = doc! {"$and": [filter]};
        }
        assert!(Filter::parse(&filter)
            .unwrap_err()
            .message()
            .contains("depth"));
        let mut not = doc! {"$gt": 1};
        for _ in 0..300 {
            not = doc! {"$not": not};
        }
        assert!(Filter::parse(&doc! {"a": not}).is_err());
        let mut elem = doc! {"$gt": 1};
        for _ in 0..300 {
            elem = doc! {"$elemMatch": elem};
        }
        assert!(Filter::parse(&doc! {"a": elem}).is_err());
        let long_path = vec!["a"; 201].join(".");
        assert!(Filter::parse(&doc! {long_path: 1}).is_err());
    }

    #[test]
    fn nested_elem_match_and_depth_within_limits() {
        let docs = vec![
            doc! {"a": [[[1, 2]], [[3]]]},
            doc! {"a": [[[4]]]},
            doc! {"a": [{"b": [{"c": [5, 6]}]}]},
        ];
        let three = doc! {"a": {"$elemMatch": {"$elemMatch": {"$elemMatch": {"$eq": 3}}}}};
        assert_eq!(matching(&docs, three), vec![0]);
        let objects =
            doc! {"a": {"$elemMatch": {"b": {"$elemMatch": {"c": {"$elemMatch": {"$gt": 5}}}}}}};
        assert_eq!(matching(&docs, objects), vec![2]);
        assert_eq!(matching(&docs, doc! {"a.b.c": 6}), vec![2]);
    }

    #[test]
    fn element_matcher_forms() {
        let matcher = |cond: Bson| ElementMatcher::parse(&cond).unwrap();
        let range = matcher(bson::bson!({"$gte": 6, "$lt": 9}));
        assert!(range.matches(&Bson::Int32(6)).unwrap());
        assert!(range.matches(&Bson::Double(8.5)).unwrap());
        assert!(!range.matches(&Bson::Int32(9)).unwrap());
        // The value itself, not its elements.
        assert!(!range.matches(&bson::bson!([7])).unwrap());

        let query = matcher(bson::bson!({"score": 8, "item": "B"}));
        assert!(query
            .matches(&bson::bson!({"item": "B", "score": 8}))
            .unwrap());
        assert!(!query
            .matches(&bson::bson!({"item": "B", "score": 7}))
            .unwrap());
        assert!(!query.matches(&Bson::Int32(8)).unwrap());
        assert!(matcher(bson::bson!({"tags": "x"}))
            .matches(&bson::bson!({"tags": ["y", "x"]}))
            .unwrap());

        let scalar = matcher(Bson::Int32(3));
        assert!(scalar.matches(&Bson::Double(3.0)).unwrap());
        assert!(!scalar.matches(&Bson::String("3".into())).unwrap());
        assert!(!scalar.matches(&bson::bson!([3])).unwrap());
        let null = matcher(Bson::Null);
        assert!(null.matches(&Bson::Null).unwrap());
        assert!(!null.matches(&Bson::Undefined).unwrap());

        let ne = matcher(bson::bson!({"$ne": 2}));
        assert!(ne.matches(&Bson::Int32(1)).unwrap());
        assert!(!ne.matches(&Bson::Int64(2)).unwrap());
        let regex = matcher(bson::bson!({"$regex": "^a"}));
        assert!(regex.matches(&Bson::String("abc".into())).unwrap());
        assert!(ElementMatcher::parse(&bson::bson!({"$foo": 1})).is_err());
        assert!(ElementMatcher::parse(&bson::bson!({"$gt": 1, "b": 1})).is_err());
    }

    #[test]
    fn filters_are_shareable() {
        fn assert_traits<T: Send + Sync + Clone + std::fmt::Debug>() {}
        assert_traits::<Filter>();
        assert_traits::<ElementMatcher>();
    }

    #[test]
    fn malformed_raw_documents_do_not_panic() {
        let filter = Filter::parse(&doc! {"a.b": 1, "c": {"$exists": false}}).unwrap();
        let good = RawDocumentBuf::try_from(&doc! {"a": {"b": 1}, "z": "x"}).unwrap();
        let bytes = good.as_bytes();
        for cut in 0..bytes.len() {
            let mut broken = bytes.to_vec();
            broken[cut] = broken[cut].wrapping_add(0x41);
            if let Ok(raw) = RawDocument::from_bytes(&broken) {
                let _ = filter.matches_raw(raw);
            }
        }
    }
}

#[cfg(test)]
mod agreement {
    //! Property test: decoded and raw evaluation agree on random documents
    //! and filters.

    use super::*;
    use bson::RawDocumentBuf;
    use proptest::prelude::*;

    const KEYS: [&str; 4] = ["a", "b", "0", "1"];
    const PATHS: [&str; 8] = ["a", "b", "a.b", "a.0", "b.a.1", "0", "a.b.a", "a.1.b"];

    fn scalar() -> impl Strategy<Value = Bson> {
        prop_oneof![
            Just(Bson::Null),
            Just(Bson::Undefined),
            Just(Bson::MinKey),
            Just(Bson::MaxKey),
            (-3i32..3).prop_map(Bson::Int32),
            (-3i64..3).prop_map(Bson::Int64),
            prop_oneof![
                Just(f64::NAN),
                Just(-0.0),
                Just(1.5),
                Just(2.0),
                Just(f64::INFINITY)
            ]
            .prop_map(Bson::Double),
            Just(Bson::Decimal128("1".parse().unwrap())),
            prop_oneof![Just("a"), Just("ab"), Just("b"), Just("")]
                .prop_map(|s| Bson::String(s.into())),
            any::<bool>().prop_map(Bson::Boolean),
            (0i64..3).prop_map(|ms| Bson::DateTime(bson::DateTime::from_millis(ms))),
        ]
    }

    fn value() -> impl Strategy<Value = Bson> {
        scalar().prop_recursive(3, 24, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Bson::Array),
                prop::collection::vec((prop::sample::select(&KEYS[..]), inner), 0..3).prop_map(
                    |fields| Bson::Document(
                        fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                    )
                ),
            ]
        })
    }

    fn document() -> impl Strategy<Value = Document> {
        prop::collection::vec((prop::sample::select(&KEYS[..]), value()), 0..4)
            .prop_map(|fields| fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    fn condition() -> impl Strategy<Value = Bson> {
        let op = || prop::sample::select(&["$eq", "$ne", "$gt", "$gte", "$lt", "$lte"][..]);
        prop_oneof![
            value(),
            (op(), value()).prop_map(|(op, v)| Bson::Document(doc_of(op, v))),
            prop::collection::vec(value(), 0..3)
                .prop_map(|v| Bson::Document(doc_of("$in", Bson::Array(v)))),
            prop::collection::vec(value(), 0..3)
                .prop_map(|v| Bson::Document(doc_of("$nin", Bson::Array(v)))),
            prop::collection::vec(scalar(), 0..3)
                .prop_map(|v| Bson::Document(doc_of("$all", Bson::Array(v)))),
            any::<bool>().prop_map(|b| Bson::Document(doc_of("$exists", Bson::Boolean(b)))),
            prop::sample::select(&["number", "array", "object", "null", "string", "date"][..])
                .prop_map(|t| Bson::Document(doc_of("$type", Bson::String(t.into())))),
            (0i32..3).prop_map(|n| Bson::Document(doc_of("$size", Bson::Int32(n)))),
            Just(Bson::Document(doc_of("$mod", bson::bson!([2, 1])))),
            Just(Bson::Document(doc_of("$regex", Bson::String("^a".into())))),
            (op(), scalar()).prop_map(|(op, v)| Bson::Document(doc_of(
                "$elemMatch",
                Bson::Document(doc_of(op, v))
            ))),
            (prop::sample::select(&KEYS[..]), value()).prop_map(|(k, v)| Bson::Document(doc_of(
                "$elemMatch",
                Bson::Document(doc_of(k, v))
            ))),
            (op(), scalar())
                .prop_map(|(op, v)| Bson::Document(doc_of("$not", Bson::Document(doc_of(op, v))))),
        ]
    }

    fn doc_of(key: &str, value: Bson) -> Document {
        let mut d = Document::new();
        d.insert(key, value);
        d
    }

    fn filter() -> impl Strategy<Value = Document> {
        let clause =
            (prop::sample::select(&PATHS[..]), condition()).prop_map(|(p, c)| doc_of(p, c));
        clause.prop_recursive(2, 8, 3, |inner| {
            (
                prop::sample::select(&["$and", "$or", "$nor"][..]),
                prop::collection::vec(inner, 1..3),
            )
                .prop_map(|(op, clauses)| {
                    doc_of(
                        op,
                        Bson::Array(clauses.into_iter().map(Bson::Document).collect()),
                    )
                })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn decoded_and_raw_agree(docs in prop::collection::vec(document(), 1..4), filter in filter()) {
            let Ok(compiled) = Filter::parse(&filter) else { return Ok(()) };
            for doc in &docs {
                let raw = RawDocumentBuf::try_from(doc).unwrap();
                prop_assert_eq!(
                    compiled.matches(doc).unwrap(),
                    compiled.matches_raw(&raw).unwrap(),
                    "filter {} on {}", filter, doc
                );
            }
        }
    }
}

#[cfg(test)]
mod reparse_tests {
    use super::*;
    use bson::doc;

    /// `reparse` of `second` into the parse of `first` matches exactly the
    /// documents a parse of `second` does, or fails as it does, leaving
    /// the first filter intact.
    fn reparses_like_a_parse(first: Document, second: Document) {
        let docs = [
            doc! {},
            doc! { "a": 1, "b": "x" },
            doc! { "a": 3, "b": "y", "c": { "d": 2 } },
            doc! { "a": [1, 5], "b": null, "c": { "d": [0, 9] } },
            doc! { "a": 2.5, "b": true, "c": { "d": bson::DateTime::from_millis(3) } },
        ];
        let matched = |filter: &Filter| -> Vec<bool> {
            docs.iter().map(|d| filter.matches(d).unwrap()).collect()
        };
        let mut reparsed = Filter::parse(&first).expect("the first filter parses");
        match (reparsed.reparse(&second), Filter::parse(&second)) {
            (Ok(()), Ok(parsed)) => assert_eq!(matched(&reparsed), matched(&parsed), "{second:?}"),
            (Err(got), Err(expected)) => {
                assert_eq!(got.message(), expected.message(), "{second:?}");
                assert_eq!(matched(&reparsed), matched(&Filter::parse(&first).unwrap()));
            }
            (got, expected) => panic!("{second:?}: reparse {got:?}, parse {expected:?}"),
        }
    }

    #[test]
    fn reparse_is_a_parse() {
        let first = doc! {
            "a": { "$gte": 1, "$lt": 5 },
            "b": "x",
            "c.d": { "$not": { "$gt": 1 }, "$ne": 0 },
        };
        let cases = [
            // The same shape with other values, of other types too.
            doc! { "a": { "$gte": 2, "$lt": 2.6 }, "b": "y", "c.d": { "$not": { "$gt": 5 }, "$ne": 9 } },
            doc! { "a": { "$gte": "a", "$lt": null }, "b": true, "c.d": { "$not": { "$gt": bson::DateTime::from_millis(1) }, "$ne": 2 } },
            // Values that change the meaning or are refused.
            doc! { "a": { "$gte": [1], "$lt": 5 }, "b": { "x": 1 }, "c.d": { "$not": { "$gt": 1 }, "$ne": 0 } },
            doc! { "a": { "$gte": 1, "$lt": 5 }, "b": "x", "c.d": { "$not": { "$gt": bson::Regex { pattern: "a".try_into().unwrap(), options: String::new().try_into().unwrap() } }, "$ne": 0 } },
            doc! { "a": { "$gte": 1, "$lt": 5 }, "b": { "$in": [1] }, "c.d": { "$not": { "$gt": 1 }, "$ne": 0 } },
            // Other shapes.
            doc! { "a": { "$lt": 5, "$gte": 1 }, "b": "x", "c.d": { "$not": { "$gt": 1 }, "$ne": 0 } },
            doc! { "a": { "$gt": 1, "$lt": 5 }, "b": "x", "c.d": { "$not": { "$gt": 1 }, "$ne": 0 } },
            doc! { "b": "x", "a": { "$gte": 1, "$lt": 5 }, "c.d": { "$not": { "$gt": 1 }, "$ne": 0 } },
            doc! { "a": { "$gte": 1, "$lt": 5 }, "b": "x", "c.d": { "$not": { "$gt": 1 }, "$eq": 0 } },
            doc! { "a": { "$gte": 1, "$lt": 5 }, "b": "x", "c.d": { "$not": { "$gt": 1 }, "$bogus": 0 } },
            doc! { "a": { "$gte": 1, "$lt": 5 }, "b": "x", "c.d": { "$not": {}, "$ne": 0 } },
            doc! { "a": { "$gte": 1, "$lt": 5 }, "b": "x", "c.e": { "$not": { "$gt": 1 }, "$ne": 0 } },
            doc! { "a": { "$gte": 1, "$lt": 5 }, "b": "x" },
            doc! { "a": { "$gte": 1 } },
            doc! { "$comment": "x", "a": 1, "b": 2 },
            doc! {},
        ];
        for second in cases {
            reparses_like_a_parse(first.clone(), second);
        }
        // The one-condition filters a writer's stamp makes, and their kin.
        let stamp = |n: i64| doc! { "_yamlett.writers.w1": { "$not": { "$gte": n } } };
        reparses_like_a_parse(stamp(1), stamp(2));
        reparses_like_a_parse(stamp(1), doc! { "_yamlett.writers.w1": { "$ne": 2 } });
        reparses_like_a_parse(
            doc! { "a": { "$ne": 1 } },
            doc! { "a": { "$not": { "$eq": 3 } } },
        );
        reparses_like_a_parse(doc! { "a": 1 }, doc! { "a": { "$eq": 5 } });
        reparses_like_a_parse(doc! { "a": 1 }, doc! { "a": { "$gt": 0 } });
    }
}
