//! `$switch: {branches: [{case, then}, …], default}`: the `then` of the
//! first truthy `case`, else `default`, else an error.

use std::sync::Arc;

use bson::Bson;

use super::named::{named_args, Wording};
use super::ops::type_name;
use super::special::SpecialForm;
use super::{is_truthy, Ctx, Node, Scope, Value};
use crate::{QueryError, QueryResult};

/// A compiled `$switch`.
#[derive(Debug)]
struct Switch {
    /// `(case, then)` pairs, tried in order.
    branches: Vec<(Node, Node)>,
    /// The value when no case is truthy; without it that is an error.
    default: Option<Node>,
}

/// `$switch`'s error wording.
const SWITCH: Wording = Wording {
    not_object: |found| format!("$switch requires an object as an argument, found: {found}"),
    unknown: |name| format!("$switch found an unknown argument: {name}"),
    missing: |_| "$switch requires at least one branch.".to_owned(),
};

/// One branch's error wording.
const BRANCH: Wording = Wording {
    not_object: |found| format!("$switch expected each branch to be an object, found: {found}"),
    unknown: |name| format!("$switch found an unknown argument to a branch: {name}"),
    missing: |name| format!("$switch requires each branch have a '{name}' expression"),
};

/// Parses `$switch`.
pub(crate) fn parse_switch(arg: &Bson, scope: &mut Scope) -> QueryResult<Node> {
    let [branches, default] = named_args(arg, ["branches", "default"], &SWITCH)?;
    let branches = match branches {
        None => &[][..],
        Some(Bson::Array(items)) => items.as_slice(),
        Some(other) => {
            return Err(QueryError::new(format!(
                "$switch expected an array for 'branches', found: {}",
                type_name(Some(other))
            )))
        }
    };
    let mut parsed = Vec::with_capacity(branches.len());
    for branch in branches {
        let [case, then] = named_args(branch, ["case", "then"], &BRANCH)?;
        let case = case.ok_or_else(|| QueryError::new((BRANCH.missing)("case")))?;
        let then = then.ok_or_else(|| QueryError::new((BRANCH.missing)("then")))?;
        parsed.push((Node::parse(case, scope)?, Node::parse(then, scope)?));
    }
    if parsed.is_empty() {
        return Err(QueryError::new((SWITCH.missing)("branches")));
    }
    let default = default.map(|d| Node::parse(d, scope)).transpose()?;
    Ok(Node::Special(Arc::new(Switch {
        branches: parsed,
        default,
    })))
}

impl SpecialForm for Switch {
    fn eval<'a>(&'a self, ctx: &Ctx<'a>) -> QueryResult<Value<'a>> {
        for (case, then) in &self.branches {
            if is_truthy(case.eval(ctx)?.as_deref()) {
                return then.eval(ctx);
            }
        }
        match &self.default {
            Some(default) => default.eval(ctx),
            None => Err(QueryError::new(
                "$switch could not find a matching branch for an input, and no default was \
                 specified.",
            )),
        }
    }
}
