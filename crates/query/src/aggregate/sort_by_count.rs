//! `$sortByCount`: the server's shorthand for grouping by an expression,
//! counting each group, and sorting by the count, largest first.

use bson::{doc, Bson};

use super::group::{self, Field};
use super::{blocking, Docs, Env, ParseCtx, Stage};
use crate::expr::Expr;
use crate::sort::SortSpec;
use crate::{QueryError, QueryResult};

/// `$sortByCount`: `{$group: {_id: <expr>, count: {$sum: 1}}}` then
/// `{$sort: {count: -1}}` (groups of equal count in first-seen order).
#[derive(Debug)]
struct SortByCount {
    /// The group key.
    key: Expr,
    /// The one `count` field.
    fields: Vec<Field>,
    /// `{count: -1}`.
    sort: SortSpec,
}

impl Stage for SortByCount {
    fn apply<'a>(&'a self, input: Docs<'a>, env: &'a Env) -> Docs<'a> {
        blocking(input, move |input| {
            let mut groups = group::group_by(input, env, &self.fields, |ctx| {
                Ok(self.key.eval(ctx)?.map_or(Bson::Null, |v| v.into_owned()))
            })?;
            groups.sort_by(|a, b| self.sort.compare(a, b));
            Ok(groups)
        })
    }
}

/// Parses `$sortByCount`, whose argument must be a `$`-path or an operator
/// expression (not a literal or an expression object).
pub(super) fn parse_sort_by_count(arg: &Bson, ctx: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    let valid = match arg {
        Bson::String(s) => s.starts_with('$'),
        Bson::Document(d) => d.keys().next().is_some_and(|k| k.starts_with('$')),
        _ => {
            return Err(QueryError::new(
                "the sortByCount field must be specified as a string or as an object",
            ))
        }
    };
    if !valid {
        return Err(QueryError::new(
            "the sortByCount field must be defined as a $-prefixed path or an expression inside \
             an object",
        ));
    }
    Ok(Box::new(SortByCount {
        key: ctx.expr(arg)?,
        fields: group::parse_output(None, ctx)?,
        sort: SortSpec::parse(&doc! {"count": -1})?,
    }))
}
