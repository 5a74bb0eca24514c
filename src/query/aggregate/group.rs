//! `$group`: documents bucketed by the value of the `_id` expression, each
//! bucket running one state per accumulator. `$bucket`, `$bucketAuto` and
//! `$sortByCount` reuse the output fields and the grouping loop.

use std::collections::HashMap;

use bson::{Bson, Document};

use super::accumulators::{self, Accumulator, Argument, Factory};
use super::{blocking, Docs, Env, ParseCtx, Stage};
use crate::query::compare::equality_key;
use crate::query::expr::{Ctx, Expr};
use crate::query::{QueryError, QueryResult};

/// One output field of `$group`.
#[derive(Debug)]
pub(super) struct Field {
    /// The output field.
    name: String,
    /// Makes the accumulator state of a new group.
    factory: Factory,
    /// The argument expression; `None` for `$count`.
    arg: Option<Expr>,
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

/// Parses one `name: {$acc: arg}` field of `$group`.
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
    let (kind, factory) = accumulators::lookup(op)?;
    let arg = match (kind, arg) {
        (Argument::None, Bson::Document(d)) if d.is_empty() => None,
        (Argument::None, _) => {
            return Err(QueryError::new("$count takes no arguments, i.e. $count:{}"))
        }
        (Argument::Unary, Bson::Array(_)) => {
            return Err(QueryError::new(format!(
                "The {op} accumulator is a unary operator"
            )))
        }
        (Argument::Unary, arg) => Some(ctx.expr(arg)?),
    };
    Ok(Field {
        name: name.to_owned(),
        factory,
        arg,
    })
}

impl Stage for Group {
    fn apply<'a>(&'a self, input: Docs<'a>, env: &'a Env) -> Docs<'a> {
        blocking(input, move |input| {
            group_by(input, env, &self.fields, |ctx| {
                Ok(self.id.eval(ctx)?.map_or(Bson::Null, |v| v.into_owned()))
            })
        })
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
    let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut groups: Vec<(Bson, Vec<Box<dyn Accumulator>>)> = Vec::new();
    for doc in input {
        let doc = doc?;
        let ctx = env.ctx(&doc);
        let key = key(&ctx)?;
        let slot = *index.entry(equality_key(&key)).or_insert_with(|| {
            groups.push((key, start(fields)));
            groups.len() - 1
        });
        if let Some((_, states)) = groups.get_mut(slot) {
            accumulate(fields, states, &ctx)?;
        }
    }
    groups
        .into_iter()
        .map(|(key, mut states)| {
            let mut out = Document::new();
            out.insert("_id", key);
            finish(fields, &mut states, &mut out)?;
            Ok(out)
        })
        .collect()
}

/// Fresh accumulator states for one group of `fields`.
pub(super) fn start(fields: &[Field]) -> Vec<Box<dyn Accumulator>> {
    fields.iter().map(|f| (f.factory)()).collect()
}

/// Feeds one document (the root of `ctx`) to a group's states.
pub(super) fn accumulate(
    fields: &[Field],
    states: &mut [Box<dyn Accumulator>],
    ctx: &Ctx<'_>,
) -> QueryResult<()> {
    for (field, state) in fields.iter().zip(states.iter_mut()) {
        let value = match &field.arg {
            Some(expr) => expr.eval(ctx)?,
            None => None,
        };
        state.add(value.as_deref())?;
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
