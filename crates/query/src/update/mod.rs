//! Update documents (`{$set: {...}, $push: {...}}`) applied to stored
//! documents, with the semantics of a MongoDB 8 server.
//!
//! An update is parsed once into a list of operations sorted the way the
//! server applies them (since 5.0: field by field, lexicographically, numeric
//! names numerically), which also fixes the order new fields are appended
//! in. No two operations may touch overlapping paths, so each one can be
//! checked against the original document before any is applied: that is
//! what makes [`Update::apply`] all-or-nothing without copying the document.

mod arrays;
mod display;
mod path;
mod rename;
mod scalar;
#[cfg(test)]
mod tests;

use std::cmp::Ordering;

use bson::{Bson, DateTime, Document};

use self::arrays::PushSpec;
use self::path::{
    container_existing, container_for_create, resolve_existing, resolve_for_create,
    ConflictTracker, ContainerMut, FieldPath, Slot, Target,
};
use self::scalar::{Arith, DateKind};
use crate::compare::equal;
use crate::filter::ElementMatcher;
use crate::{QueryError, QueryResult};

/// What an update is applied in the context of.
#[derive(Debug, Clone, Copy)]
pub struct UpdateContext {
    /// The update creates the document (an upsert): `$setOnInsert` applies.
    pub is_insert: bool,
    /// The time `$currentDate` writes.
    pub now: DateTime,
}

/// A parsed update document, ready to apply to many documents.
#[derive(Debug, Clone)]
pub struct Update {
    /// In the order the server applies them.
    ops: Vec<Op>,
    /// Some paths may alias each other (`a.1` and `a.01`), so checking every
    /// operation against the original document is not enough: apply them one
    /// at a time to a copy instead.
    stepwise: bool,
    /// The document's shape, for [`Update::reparse`]; `None` for an update
    /// with a `$rename`, whose operand is a path.
    shape: Option<Shape>,
}

/// Where each field of a parsed update document went: what a document of
/// the same operators and fields, in the same order, needs no parse for.
#[derive(Debug, Clone, Default)]
struct Shape {
    /// Each operator (its index in [`OPERATORS`]) and how many fields it has.
    operators: Vec<(usize, usize)>,
    /// For each field, in document order, its operation's index in `ops`.
    fields: Vec<usize>,
}

/// One operator applied to one path.
#[derive(Debug, Clone)]
struct Op {
    /// The path written (for `$rename`, the destination).
    path: FieldPath,
    /// What it does there.
    kind: OpKind,
}

/// An operator with its compiled operand.
#[derive(Debug, Clone)]
enum OpKind {
    /// `$set`.
    Set(Bson),
    /// `$setOnInsert`: `$set` on inserts only.
    SetOnInsert(Bson),
    /// `$unset`.
    Unset,
    /// `$inc` or `$mul` with its numeric operand.
    Arith(Arith, Bson),
    /// `$min` (keep `Less`) or `$max` (keep `Greater`).
    MinMax(Ordering, Bson),
    /// `$currentDate`.
    CurrentDate(DateKind),
    /// `$push`.
    Push(Box<PushSpec>),
    /// `$addToSet` with the values to add.
    AddToSet(Vec<Bson>),
    /// `$pop`: true removes the first element, false the last.
    Pop(bool),
    /// `$pull` with its condition.
    Pull(Box<ElementMatcher>),
    /// `$pullAll` with the values to remove.
    PullAll(Vec<Bson>),
    /// `$rename` from this path to the op's path.
    Rename(FieldPath),
}

/// The update operators we apply.
const OPERATORS: [&str; 14] = [
    "$set",
    "$unset",
    "$inc",
    "$mul",
    "$min",
    "$max",
    "$rename",
    "$push",
    "$addToSet",
    "$pop",
    "$pull",
    "$pullAll",
    "$currentDate",
    "$setOnInsert",
];

impl Update {
    /// Parses an update document, validating every operator, operand and
    /// path, and rejecting overlapping paths across operators.
    pub fn parse(update: &Document) -> QueryResult<Update> {
        crate::depth::check_nesting(update, "update")?;
        let Some(first) = update.keys().next() else {
            return Err(QueryError::new(
                "The update document is empty: replacement-style updates are not supported here, \
                 use update operators such as $set",
            ));
        };
        if !first.starts_with('$') {
            return Err(QueryError::new(format!(
                "Replacement-style updates are not supported here (found field '{first}'): \
                 use update operators such as $set"
            )));
        }
        let fields = update
            .values()
            .map(|v| v.as_document().map_or(0, Document::len))
            .sum();
        let mut ops = Vec::with_capacity(fields);
        let mut tracker = ConflictTracker::with_capacity(fields);
        let mut operators = Vec::with_capacity(update.len());
        for (operator, operand) in update {
            let Some(at) = OPERATORS.iter().position(|o| o == operator) else {
                return Err(QueryError::new(format!(
                    "Unknown modifier: {operator}. Expected a valid update modifier or pipeline-style \
                     update specified as an array"
                )));
            };
            let Bson::Document(fields) = operand else {
                return Err(QueryError::new(format!(
                    "Modifiers operate on fields but we found type {} instead. For example: \
                     {{$mod: {{<field>: ...}}}} not {{{operator}: {}}}",
                    display::type_name(operand),
                    display::value(operand)
                )));
            };
            operators.push((at, fields.len()));
            for (field, value) in fields {
                // Like the server, each field's operand is validated before
                // its path is checked for conflicts, field by field.
                let op = Op::parse(operator, field, value)?;
                // A rename registers its source, then its destination.
                match (&op.kind, value) {
                    (OpKind::Rename(from), Bson::String(to)) => {
                        tracker.register(field, from)?;
                        tracker.register(to, &op.path)?;
                    }
                    _ => tracker.register(field, &op.path)?,
                }
                ops.push(op);
            }
        }
        let stepwise = ops.iter().any(|op| {
            op.path.has_ambiguous_index()
                || matches!(&op.kind, OpKind::Rename(from) if from.has_ambiguous_index())
        });
        let renames = ops.iter().any(|op| matches!(op.kind, OpKind::Rename(_)));
        let (ops, fields) = sorted(ops);
        Ok(Update {
            ops,
            stepwise,
            shape: (!renames).then_some(Shape { operators, fields }),
        })
    }

    /// Parses `update` into `self`: the same as `*self = Update::parse(update)?`,
    /// and the same errors, but cheap when `update` has the shape of the
    /// document `self` was parsed from (the same operators with the same
    /// fields in the same order; the values may differ). Then only the new
    /// values are read, into the memory the old ones held, which is what
    /// a writer sending one update after another of one shape (a training
    /// loop's flushes) spends most of a parse on. On error `self` is
    /// unchanged.
    ///
    /// ```
    /// use bson::doc;
    /// use yamlett_query::{Update, UpdateContext};
    ///
    /// let context = UpdateContext { is_insert: false, now: bson::DateTime::now() };
    /// let mut update = Update::parse(&doc! { "$set": { "step": 1 }, "$inc": { "n": 1 } })?;
    /// let mut run = doc! { "_id": "a" };
    /// update.apply(&mut run, &context)?;
    /// update.reparse(&doc! { "$set": { "step": 2 }, "$inc": { "n": 5 } })?; // same shape
    /// update.apply(&mut run, &context)?;
    /// assert_eq!(run, doc! { "_id": "a", "step": 2, "n": 6 });
    /// assert!(update.reparse(&doc! { "$inc": { "n": "x" } }).is_err());
    /// update.apply(&mut run, &context)?; // still the last good update
    /// assert_eq!(run, doc! { "_id": "a", "step": 2, "n": 11 });
    /// # Ok::<(), yamlett_query::QueryError>(())
    /// ```
    pub fn reparse(&mut self, update: &Document) -> QueryResult<()> {
        if !self.has_shape_of(update) {
            *self = Update::parse(update)?;
            return Ok(());
        }
        crate::depth::check_nesting(update, "update")?;
        let Some(shape) = &self.shape else {
            unreachable!("checked by has_shape_of")
        };
        // First every operand that needs parsing, in document order (the
        // errors `parse` would report first, as the paths are unchanged),
        // so that an error leaves `self` as it was; values are copied after.
        let mut parsed = Vec::new();
        let mut field_ops = shape.fields.iter();
        for (operator, fields) in fields_of(update) {
            for ((field, value), &at) in fields.iter().zip(field_ops.by_ref()) {
                if !self.ops[at].kind.holds_value() {
                    parsed.push((at, Op::parse(operator, field, value)?.kind));
                }
            }
        }
        let mut parsed = parsed.into_iter();
        let mut field_ops = shape.fields.iter();
        for (_, fields) in fields_of(update) {
            for ((_, value), &at) in fields.iter().zip(field_ops.by_ref()) {
                match &mut self.ops[at].kind {
                    OpKind::Set(old) | OpKind::SetOnInsert(old) | OpKind::MinMax(_, old) => {
                        assign(old, value)
                    }
                    kind => {
                        if let Some((_, new)) = parsed.next() {
                            *kind = new;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether `update` has the operators and fields, in order, of the
    /// document this update was parsed from.
    fn has_shape_of(&self, update: &Document) -> bool {
        let Some(shape) = &self.shape else {
            return false;
        };
        if update.len() != shape.operators.len() {
            return false;
        }
        let mut field_ops = shape.fields.iter();
        for ((operator, operand), &(at, n)) in update.iter().zip(&shape.operators) {
            let Bson::Document(fields) = operand else {
                return false;
            };
            if OPERATORS[at] != operator || fields.len() != n {
                return false;
            }
            for (field, &op) in fields.keys().zip(field_ops.by_ref()) {
                if self.ops[op].path.dotted() != field {
                    return false;
                }
            }
        }
        true
    }

    /// Applies the update to `doc`. On error `doc` is left unchanged.
    pub fn apply(&self, doc: &mut Document, ctx: &UpdateContext) -> QueryResult<()> {
        if self.stepwise || self.active(ctx).any(|op| op.check(doc, ctx).is_err()) {
            // Rare: replay one operation at a time on a copy, which is the
            // server's exact semantics, so the error describes the document
            // as it was when that operation ran.
            return self.apply_stepwise(doc, ctx);
        }
        for op in self.active(ctx) {
            op.mutate(doc, ctx);
        }
        Ok(())
    }

    /// The operations that run in this context, in order.
    fn active<'s>(&'s self, ctx: &'s UpdateContext) -> impl Iterator<Item = &'s Op> + 's {
        self.ops
            .iter()
            .filter(|op| ctx.is_insert || !matches!(op.kind, OpKind::SetOnInsert(_)))
    }

    /// Checks and applies each operation in turn on a copy, committing the
    /// copy only if all succeed.
    fn apply_stepwise(&self, doc: &mut Document, ctx: &UpdateContext) -> QueryResult<()> {
        let mut copy = doc.clone();
        for op in self.active(ctx) {
            op.check(&copy, ctx)?;
            op.mutate(&mut copy, ctx);
        }
        *doc = copy;
        Ok(())
    }
}

/// The `(operator, fields)` pairs of an update document whose operands
/// are all documents (as [`Update::has_shape_of`] checked).
fn fields_of(update: &Document) -> impl Iterator<Item = (&str, &Document)> {
    update
        .iter()
        .filter_map(|(operator, operand)| Some((operator.as_str(), operand.as_document()?)))
}

/// Makes `target` equal to `source`, reusing the memory `target` holds
/// where both have the same structure (a document with the same keys in
/// the same order, an array of the same length, a string): updating a
/// run's summary document at every flush then allocates nothing.
fn assign(target: &mut Bson, source: &Bson) {
    match (target, source) {
        (Bson::Document(to), Bson::Document(from))
            if to.len() == from.len() && to.keys().zip(from.keys()).all(|(a, b)| a == b) =>
        {
            for ((_, to), (_, from)) in to.iter_mut().zip(from) {
                assign(to, from);
            }
        }
        (Bson::Array(to), Bson::Array(from)) if to.len() == from.len() => {
            for (to, from) in to.iter_mut().zip(from) {
                assign(to, from);
            }
        }
        (Bson::String(to), Bson::String(from)) => to.clone_from(from),
        (target, source) => *target = source.clone(),
    }
}

/// Sorts operations into the server's application order, and says where
/// each went (`at[i]`: the new index of operation `i`). An insertion
/// sort of indexes by binary search: the server's path order is not a
/// strict total order for mixed numeric and text names, and this never
/// panics on that, while moving only small indexes.
fn sorted(ops: Vec<Op>) -> (Vec<Op>, Vec<usize>) {
    let mut order: Vec<usize> = Vec::with_capacity(ops.len());
    for i in 0..ops.len() {
        let at =
            order.partition_point(|&j| ops[j].path.apply_order(&ops[i].path) != Ordering::Greater);
        order.insert(at, i);
    }
    let mut at = vec![0; order.len()];
    for (new, &old) in order.iter().enumerate() {
        at[old] = new;
    }
    let mut slots: Vec<Option<Op>> = ops.into_iter().map(Some).collect();
    let ops = order
        .into_iter()
        .filter_map(|i| slots.get_mut(i).and_then(Option::take))
        .collect();
    (ops, at)
}

impl OpKind {
    /// Whether the operand is a value stored as given (`$set`,
    /// `$setOnInsert`, `$min`, `$max`), which any value is valid for.
    fn holds_value(&self) -> bool {
        matches!(
            self,
            OpKind::Set(_) | OpKind::SetOnInsert(_) | OpKind::MinMax(..)
        )
    }
}

impl Op {
    /// Parses one `field: operand` pair of `operator`.
    fn parse(operator: &str, field: &str, operand: &Bson) -> QueryResult<Op> {
        if operator == "$rename" {
            let (from, to) = rename::parse(field, operand)?;
            return Ok(Op {
                path: to,
                kind: OpKind::Rename(from),
            });
        }
        let path = FieldPath::parse(field)?;
        if path.is_positional() {
            return Err(QueryError::new(format!(
                "The positional operators $, $[] and $[<identifier>] are not supported by the \
                 embedded query engine (in update path '{field}')"
            )));
        }
        let kind = match operator {
            "$set" => OpKind::Set(operand.clone()),
            "$setOnInsert" => OpKind::SetOnInsert(operand.clone()),
            "$unset" => OpKind::Unset,
            "$inc" => OpKind::Arith(Arith::Add, Arith::Add.parse_operand(field, operand)?),
            "$mul" => OpKind::Arith(Arith::Mul, Arith::Mul.parse_operand(field, operand)?),
            "$min" => OpKind::MinMax(Ordering::Less, operand.clone()),
            "$max" => OpKind::MinMax(Ordering::Greater, operand.clone()),
            "$currentDate" => OpKind::CurrentDate(DateKind::parse(operand)?),
            "$push" => OpKind::Push(Box::new(PushSpec::parse(operand)?)),
            "$addToSet" => OpKind::AddToSet(arrays::parse_add_to_set(operand)?),
            "$pop" => OpKind::Pop(arrays::parse_pop(field, operand)?),
            "$pull" => OpKind::Pull(Box::new(ElementMatcher::parse(operand)?)),
            "$pullAll" => OpKind::PullAll(arrays::parse_pull_all(operand)?),
            other => return Err(QueryError::new(format!("Unknown modifier: {other}"))),
        };
        Ok(Op { path, kind })
    }

    /// Whether the operation creates its path when missing.
    fn creates(&self) -> bool {
        !matches!(
            self.kind,
            OpKind::Unset
                | OpKind::Pop(_)
                | OpKind::Pull(_)
                | OpKind::PullAll(_)
                | OpKind::Rename(_)
        )
    }

    /// Checks, without modifying `doc`, that applying this operation to it
    /// succeeds.
    fn check(&self, doc: &Document, ctx: &UpdateContext) -> QueryResult<()> {
        self.check_path(doc)?;
        self.check_id_unchanged(doc, ctx)
    }

    /// [`Op::check`] but for the immutability of `_id`.
    fn check_path(&self, doc: &Document) -> QueryResult<()> {
        match &self.kind {
            OpKind::Rename(from) => {
                rename::check(doc, from, &self.path)?;
            }
            _ if self.creates() => {
                let current = match resolve_for_create(doc, &self.path)? {
                    Target::Present(value) => Some(value),
                    Target::Missing => None,
                };
                self.check_value(current, doc)?;
            }
            _ => {
                if let Some(current) = resolve_existing(doc, &self.path) {
                    self.check_value(Some(current), doc)?;
                }
            }
        }
        Ok(())
    }

    /// The type and arithmetic checks of the value at the path.
    fn check_value(&self, current: Option<&Bson>, doc: &Document) -> QueryResult<()> {
        let path = self.path.dotted();
        match (&self.kind, current) {
            (OpKind::Arith(op, operand), Some(old)) => {
                op.apply_to(old, operand, self.path.last(), doc)?;
            }
            (OpKind::Arith(op, operand), None) => {
                op.value_for_missing(operand)?;
            }
            (OpKind::Pull(matcher), Some(Bson::Array(items))) => {
                arrays::check_pull(items, matcher)?
            }
            (OpKind::Push(_), Some(v)) if !is_array(v) => {
                return Err(arrays::not_an_array("$push", path, v, doc));
            }
            (OpKind::AddToSet(_), Some(v)) if !is_array(v) => {
                return Err(arrays::not_an_array("$addToSet", path, v, doc));
            }
            (OpKind::Pop(_), Some(v)) if !is_array(v) => {
                return Err(arrays::not_an_array("$pop", path, v, doc));
            }
            (OpKind::Pull(_) | OpKind::PullAll(_), Some(v)) if !is_array(v) => {
                return Err(arrays::not_an_array("$pull", path, v, doc));
            }
            _ => {}
        }
        Ok(())
    }

    /// `_id` is immutable once the document has one: an operation that
    /// could touch it is tried on a copy of just `_id` (plus a rename's
    /// source) and must leave it equal.
    fn check_id_unchanged(&self, doc: &Document, ctx: &UpdateContext) -> QueryResult<()> {
        let Some(id) = doc.get("_id") else {
            return Ok(());
        };
        let from = match &self.kind {
            OpKind::Rename(from) => Some(from),
            _ => None,
        };
        let touched = [Some(&self.path), from]
            .into_iter()
            .flatten()
            .find(|p| p.part(0) == "_id");
        let Some(touched) = touched else {
            return Ok(());
        };
        let mut probe = Document::new();
        probe.insert("_id", id.clone());
        if let Some(source) = from.and_then(|f| doc.get(f.part(0)).map(|v| (f.part(0), v))) {
            probe.insert(source.0, source.1.clone());
        }
        let immutable = || {
            QueryError::new(format!(
                "Performing an update on the path '{}' would modify the immutable field '_id'",
                touched.dotted()
            ))
        };
        // A rename that moves anything into or out of `_id` modifies it, even
        // when the moved value happens to be equal (as the server reports).
        if let Some(from) = from {
            return match rename::check(&probe, from, &self.path)? {
                true => Err(immutable()),
                false => Ok(()),
            };
        }
        // The probe holds everything the operation reads, so it fails
        // exactly when the full document does.
        self.check_path(&probe)?;
        self.mutate(&mut probe, ctx);
        match probe.get("_id") {
            Some(new) if equal(new, id) => Ok(()),
            _ => Err(immutable()),
        }
    }

    /// Applies the operation; [`Op::check`] has accepted it.
    fn mutate(&self, doc: &mut Document, ctx: &UpdateContext) {
        match &self.kind {
            OpKind::Rename(from) => rename::apply(doc, from, &self.path),
            OpKind::Unset => match container_existing(doc, &self.path) {
                Some(ContainerMut::Doc(parent)) => {
                    parent.remove(self.path.last());
                }
                Some(ContainerMut::Array(items)) => {
                    if let Some(item) = self
                        .path
                        .index(self.path.len() - 1)
                        .and_then(|i| items.get_mut(i))
                    {
                        *item = Bson::Null;
                    }
                }
                None => {}
            },
            _ if self.creates() => {
                let slot = container_for_create(doc, &self.path).and_then(|c| c.slot(&self.path));
                match slot {
                    Some(Slot::Present(value)) => self.update_present(value, ctx),
                    Some(vacant) => {
                        if let Some(value) = self.value_for_missing(ctx) {
                            vacant.put(value);
                        }
                    }
                    None => {}
                }
            }
            _ => {
                let slot = container_existing(doc, &self.path).and_then(|c| c.slot(&self.path));
                if let Some(Slot::Present(value)) = slot {
                    self.update_present(value, ctx);
                }
            }
        }
    }

    /// Updates an existing value in place.
    fn update_present(&self, target: &mut Bson, ctx: &UpdateContext) {
        match (&self.kind, target) {
            (OpKind::Set(v), target) => assign(target, v),
            (OpKind::SetOnInsert(v), target) => assign(target, v),
            (OpKind::Arith(op, operand), target) => {
                if let Some(result) = op.result(target, operand) {
                    *target = result;
                }
            }
            (OpKind::MinMax(keep, v), target) if scalar::replaces(*keep, v, target) => {
                assign(target, v)
            }
            (OpKind::CurrentDate(kind), target) => *target = kind.value(ctx.now),
            (OpKind::Push(spec), Bson::Array(items)) => spec.apply(items),
            (OpKind::AddToSet(values), Bson::Array(items)) => arrays::add_to_set(items, values),
            (OpKind::Pop(first), Bson::Array(items)) => {
                if *first {
                    if !items.is_empty() {
                        items.remove(0);
                    }
                } else {
                    items.pop();
                }
            }
            (OpKind::Pull(matcher), Bson::Array(items)) => arrays::pull(items, matcher),
            (OpKind::PullAll(values), Bson::Array(items)) => arrays::pull_all(items, values),
            _ => {}
        }
    }

    /// The value a creating operation stores at a missing path.
    fn value_for_missing(&self, ctx: &UpdateContext) -> Option<Bson> {
        match &self.kind {
            OpKind::Set(v) | OpKind::SetOnInsert(v) | OpKind::MinMax(_, v) => Some(v.clone()),
            OpKind::Arith(op, operand) => op.value_for_missing(operand).ok(),
            OpKind::CurrentDate(kind) => Some(kind.value(ctx.now)),
            OpKind::Push(spec) => Some(spec.new_array()),
            OpKind::AddToSet(values) => {
                let mut items = Vec::with_capacity(values.len());
                arrays::add_to_set(&mut items, values);
                Some(Bson::Array(items))
            }
            _ => None,
        }
    }
}

/// Whether `value` is an array.
fn is_array(value: &Bson) -> bool {
    matches!(value, Bson::Array(_))
}
