//! `$group`: documents bucketed by the value of the `_id` expression, each
//! bucket running one state per accumulator. `$bucket`, `$bucketAuto` and
//! `$sortByCount` reuse the output fields and the grouping loop.

use std::collections::HashMap;

use bson::{Bson, Document, RawDocument};

use super::accumulators::{self, Accumulator, AccumulatorSpec};
use super::{blocking, Docs, Env, ParseCtx, Stage};
use crate::compare::write_equality_key;
use crate::expr::{Ctx, Expr, Root};
use crate::path::RawDoc;
use crate::{QueryError, QueryResult};

/// One accumulated output field, `name: {$acc: arg}`, of `$group` (and of
/// the stages that accumulate the same way, `$bucket`/`$bucketAuto`).
///
/// Per group: [`Field::start`] makes the state, [`Field::add`] feeds it each
/// document, and the state's `finish` gives the field's value. The
/// expressions were parsed in the stage's [`ParseCtx`], so they see the
/// enclosing `let` variables, whose values come from the [`Env`].
#[derive(Debug)]
pub(super) struct Field {
    /// The output field.
    pub(super) name: String,
    /// The parsed accumulator.
    spec: Box<dyn AccumulatorSpec>,
}

impl Field {
    /// A fresh state for the group whose key is `key` (`n` of `$topN` & co
    /// may depend on it, as `$_id`, and on the variables in `env`).
    pub(super) fn start(&self, key: &Bson, env: &Env) -> QueryResult<Box<dyn Accumulator>> {
        let mut init = Document::new();
        init.insert("_id", key.clone());
        self.spec.start(&env.ctx(&init))
    }

    /// Feeds one document of the group to its state.
    pub(super) fn add(&self, state: &mut dyn Accumulator, ctx: &Ctx<'_>) -> QueryResult<()> {
        let value = self.spec.input(ctx)?;
        state.add(value.as_deref())
    }
}

/// `$group`.
#[derive(Debug)]
struct Group {
    /// The group key expression.
    id: Expr,
    /// The accumulated output fields, in specification order.
    fields: Vec<Field>,
}

/// Parses `$group`.
pub(super) fn parse_group(arg: &Bson, ctx: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    let Bson::Document(spec) = arg else {
        return Err(QueryError::new(
            "a group's fields must be specified in an object",
        ));
    };
    let mut id = None;
    let mut fields = Vec::new();
    for (name, value) in spec {
        if name == "_id" {
            id = Some(ctx.expr(value)?);
        } else {
            fields.push(parse_field(name, value, ctx)?);
        }
    }
    let id = id.ok_or_else(|| QueryError::new("a group specification must include an _id"))?;
    Ok(Box::new(Group { id, fields }))
}

/// Parses one `name: {$acc: arg}` output field; its expressions may read
/// the variables of `ctx`.
pub(super) fn parse_field(name: &str, value: &Bson, ctx: &ParseCtx) -> QueryResult<Field> {
    if name.contains('.') {
        return Err(QueryError::new(format!(
            "the group aggregate field name '{name}' cannot be used because $group's field \
             names cannot contain '.'"
        )));
    }
    if name.starts_with('$') {
        return Err(QueryError::new(format!(
            "the group aggregate field name '{name}' cannot be an operator name"
        )));
    }
    let Bson::Document(acc) = value else {
        return Err(QueryError::new(format!(
            "The field '{name}' must be an accumulator object"
        )));
    };
    let mut entries = acc.iter();
    let (Some((op, arg)), None) = (entries.next(), entries.next()) else {
        return Err(QueryError::new(format!(
            "$group accumulator for '{name}' must be a single-op doc"
        )));
    };
    Ok(Field {
        name: name.to_owned(),
        spec: accumulators::parse(op, arg, ctx)?,
    })
}

impl Stage for Group {
    fn apply<'a>(&'a self, input: Docs<'a>, env: &'a Env) -> Docs<'a> {
        blocking(input, move |input| {
            group_by(input, env, &self.fields, |ctx| self.key(ctx))
        })
    }

    fn feed<'a>(&'a self, env: &'a Env) -> Option<GroupFeed<'a>> {
        Some(GroupFeed {
            group: self,
            groups: Groups::new(&self.fields, env),
        })
    }
}

impl Group {
    /// The group key of the document in `ctx`: missing groups with null.
    fn key(&self, ctx: &Ctx<'_>) -> QueryResult<Bson> {
        Ok(self.id.eval(ctx)?.map_or(Bson::Null, |v| v.into_owned()))
    }
}

/// A `$group` that a store feeds stored documents one by one, in raw BSON,
/// from outside the pipeline (see `Stage::feed`): the key and
/// accumulator expressions read the raw bytes, so a run is never decoded
/// whole, or even in part, only the values the expressions reach.
pub struct GroupFeed<'a> {
    /// The stage.
    group: &'a Group,
    /// The groups so far.
    groups: Groups<'a>,
}

impl GroupFeed<'_> {
    /// Adds one document to its group.
    pub fn add_raw(&mut self, doc: &RawDocument) -> QueryResult<()> {
        let ctx = Ctx::with_root(Root::Raw(RawDoc::new(doc)), self.groups.env.vars());
        let key = self.group.key(&ctx)?;
        self.groups.add(key, &ctx)
    }

    /// The stage's output: one document per group.
    pub fn finish(self) -> QueryResult<Vec<Document>> {
        self.groups.finish()
    }
}

/// Drains the input into groups keyed by `key` (evaluated per document),
/// one document at a time: one `{_id: key, <fields>}` per group, in
/// first-seen order (the server's order is unspecified).
pub(super) fn group_by(
    input: Docs<'_>,
    env: &Env,
    fields: &[Field],
    mut key: impl FnMut(&Ctx<'_>) -> QueryResult<Bson>,
) -> QueryResult<Vec<Document>> {
    let mut groups = Groups::new(fields, env);
    for doc in input {
        let doc = doc?;
        let ctx = env.ctx(&doc);
        let key = key(&ctx)?;
        groups.add(key, &ctx)?;
    }
    groups.finish()
}

/// The groups being built: each key's accumulator states, in first-seen
/// order, and an index from the key's equality bytes (so that 1, 1.0 and
/// NumberLong(1) are one group, as for the server).
struct Groups<'a> {
    fields: &'a [Field],
    env: &'a Env,
    index: HashMap<Vec<u8>, usize>,
    groups: Vec<(Bson, Vec<Box<dyn Accumulator>>)>,
    /// The equality bytes of the last key, reused from one document to the
    /// next: most documents join an existing group, and then looking the
    /// key up needs no allocation.
    scratch: Vec<u8>,
}

impl<'a> Groups<'a> {
    fn new(fields: &'a [Field], env: &'a Env) -> Groups<'a> {
        Groups {
            fields,
            env,
            index: HashMap::new(),
            groups: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Feeds the document of `ctx` to the group of `key`, starting it if
    /// it is new.
    fn add(&mut self, key: Bson, ctx: &Ctx<'_>) -> QueryResult<()> {
        self.scratch.clear();
        write_equality_key(&key, &mut self.scratch);
        let slot = match self.index.get(self.scratch.as_slice()) {
            Some(slot) => *slot,
            None => {
                let states = self
                    .fields
                    .iter()
                    .map(|f| f.start(&key, self.env))
                    .collect::<QueryResult<_>>()?;
                self.index.insert(self.scratch.clone(), self.groups.len());
                self.groups.push((key, states));
                self.groups.len() - 1
            }
        };
        if let Some((_, states)) = self.groups.get_mut(slot) {
            accumulate(self.fields, states, ctx)?;
        }
        Ok(())
    }

    /// One `{_id: key, <fields>}` per group.
    fn finish(self) -> QueryResult<Vec<Document>> {
        let fields = self.fields;
        self.groups
            .into_iter()
            .map(|(key, mut states)| {
                let mut out = Document::new();
                out.insert("_id", key);
                finish(fields, &mut states, &mut out)?;
                Ok(out)
            })
            .collect()
    }
}

/// Fresh accumulator states for one group of `fields` with no key (a
/// `$bucketAuto` bucket, whose `_id` is known only once it is full): their
/// parameters see an empty document, as in a window, and the variables in
/// `env`.
pub(super) fn start(fields: &[Field], env: &Env) -> QueryResult<Vec<Box<dyn Accumulator>>> {
    let init = Document::new();
    let ctx = env.ctx(&init);
    fields.iter().map(|f| f.spec.start(&ctx)).collect()
}

/// Feeds one document (the root of `ctx`) to a group's states.
pub(super) fn accumulate(
    fields: &[Field],
    states: &mut [Box<dyn Accumulator>],
    ctx: &Ctx<'_>,
) -> QueryResult<()> {
    for (field, state) in fields.iter().zip(states.iter_mut()) {
        field.add(state.as_mut(), ctx)?;
    }
    Ok(())
}

/// Appends a group's results to `out`, one field each.
pub(super) fn finish(
    fields: &[Field],
    states: &mut [Box<dyn Accumulator>],
    out: &mut Document,
) -> QueryResult<()> {
    for (field, state) in fields.iter().zip(states.iter_mut()) {
        out.insert(field.name.clone(), state.finish()?);
    }
    Ok(())
}

/// Parses the `output` document of `$bucket`/`$bucketAuto` (accumulator
/// fields as in `$group`); `None` gives their default `{count: {$sum: 1}}`.
pub(super) fn parse_output(output: Option<&Document>, ctx: &ParseCtx) -> QueryResult<Vec<Field>> {
    match output {
        Some(spec) => spec
            .iter()
            .map(|(name, value)| parse_field(name, value, ctx))
            .collect(),
        None => Ok(vec![parse_field(
            "count",
            &Bson::Document(bson::doc! {"$sum": 1}),
            ctx,
        )?]),
    }
}
