//! `$group`: documents bucketed by the value of the `_id` expression, each
//! bucket running one state per accumulator.

use std::collections::HashMap;

use bson::{Bson, Document};

use super::accumulators::{self, Accumulator, AccumulatorSpec};
use super::{blocking, Docs, Env, Stage};
use crate::query::compare::equality_key;
use crate::query::expr::{Ctx, Expr};
use crate::query::{QueryError, QueryResult};

/// One accumulated output field, `name: {$acc: arg}`, of `$group` (and of
/// the stages that accumulate the same way, `$bucket`/`$bucketAuto`).
///
/// Per group: [`Field::start`] makes the state, [`Field::add`] feeds it each
/// document, and the state's `finish` gives the field's value.
#[derive(Debug)]
pub(super) struct Field {
    /// The output field.
    pub(super) name: String,
    /// The parsed accumulator.
    spec: Box<dyn AccumulatorSpec>,
}

impl Field {
    /// A fresh state for the group whose key is `key` (`n` of `$topN` & co
    /// may depend on it, as `$_id`).
    pub(super) fn start(&self, key: &Bson) -> QueryResult<Box<dyn Accumulator>> {
        let mut init = Document::new();
        init.insert("_id", key.clone());
        self.spec.start(&init)
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
pub(super) fn parse_group(arg: &Bson) -> QueryResult<Box<dyn Stage>> {
    let Bson::Document(spec) = arg else {
        return Err(QueryError::new(
            "a group's fields must be specified in an object",
        ));
    };
    let mut id = None;
    let mut fields = Vec::new();
    for (name, value) in spec {
        if name == "_id" {
            id = Some(Expr::parse(value)?);
        } else {
            fields.push(parse_field(name, value)?);
        }
    }
    let id = id.ok_or_else(|| QueryError::new("a group specification must include an _id"))?;
    Ok(Box::new(Group { id, fields }))
}

/// Parses one `name: {$acc: arg}` output field.
pub(super) fn parse_field(name: &str, value: &Bson) -> QueryResult<Field> {
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
        spec: accumulators::parse(op, arg)?,
    })
}

impl Stage for Group {
    fn apply<'a>(&'a self, input: Docs<'a>, _: &'a Env) -> Docs<'a> {
        blocking(input, move |input| self.group(input))
    }
}

impl Group {
    /// Drains the input into the groups, one document at a time.
    fn group(&self, input: Docs<'_>) -> QueryResult<Vec<Document>> {
        // Groups in first-seen order (the server's order is unspecified).
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut groups: Vec<(Bson, Vec<Box<dyn Accumulator>>)> = Vec::new();
        for doc in input {
            let doc = doc?;
            let ctx = Ctx::new(&doc);
            let key = self.id.eval(&ctx)?.map_or(Bson::Null, |v| v.into_owned());
            let slot = match index.get(&equality_key(&key)) {
                Some(slot) => *slot,
                None => {
                    let states = self
                        .fields
                        .iter()
                        .map(|f| f.start(&key))
                        .collect::<QueryResult<_>>()?;
                    index.insert(equality_key(&key), groups.len());
                    groups.push((key, states));
                    groups.len() - 1
                }
            };
            let Some((_, states)) = groups.get_mut(slot) else {
                continue;
            };
            for (field, state) in self.fields.iter().zip(states.iter_mut()) {
                field.add(state.as_mut(), &ctx)?;
            }
        }
        groups
            .into_iter()
            .map(|(key, mut states)| {
                let mut out = Document::new();
                out.insert("_id", key);
                for (field, state) in self.fields.iter().zip(states.iter_mut()) {
                    out.insert(field.name.clone(), state.finish()?);
                }
                Ok(out)
            })
            .collect()
    }
}
