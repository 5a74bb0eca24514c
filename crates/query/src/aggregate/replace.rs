//! `$replaceRoot` and `$replaceWith`: each document replaced by the value
//! of an expression, which must be a document.

use bson::{Bson, Document};

use super::{map_each, Docs, Env, ParseCtx, Stage};
use crate::expr::{type_name, Expr};
use crate::{QueryError, QueryResult};

/// `$replaceRoot: {newRoot: <expr>}` and its alias `$replaceWith: <expr>`.
#[derive(Debug)]
struct ReplaceRoot(Expr);

impl Stage for ReplaceRoot {
    fn apply<'a>(&'a self, input: Docs<'a>, env: &'a Env) -> Docs<'a> {
        map_each(input, move |doc| {
            let value = self.0.eval(&env.ctx(&doc))?;
            match value.as_deref() {
                Some(Bson::Document(root)) => Ok(Some(root.clone())),
                other => Err(not_a_document(other, &doc)),
            }
        })
    }
}

/// The server's error for a new root that is not a document (missing
/// included).
fn not_a_document(value: Option<&Bson>, doc: &Document) -> QueryError {
    let shown = value.map_or_else(|| "MISSING".to_owned(), ToString::to_string);
    QueryError::new(format!(
        "'newRoot' expression must evaluate to an object, but resulting value was: {shown}. \
         Type of resulting value: '{}'. Input document: {doc}",
        type_name(value)
    ))
}

/// Parses `$replaceRoot`, whose only option is `newRoot`.
pub(super) fn parse_replace_root(arg: &Bson, ctx: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    let Bson::Document(spec) = arg else {
        return Err(QueryError::new(format!(
            "expected an object as specification for $replaceRoot stage, got {}",
            type_name(Some(arg))
        )));
    };
    let mut new_root = None;
    for (key, value) in spec {
        match key.as_str() {
            "newRoot" => new_root = Some(ctx.expr(value)?),
            _ => {
                return Err(QueryError::new(format!(
                    "unrecognized option to $replaceRoot stage: {key}, only valid option is \
                     'newRoot'."
                )))
            }
        }
    }
    let new_root = new_root
        .ok_or_else(|| QueryError::new("no newRoot specified for the $replaceRoot stage"))?;
    Ok(Box::new(ReplaceRoot(new_root)))
}

/// Parses `$replaceWith`, whose argument is the new root expression itself.
pub(super) fn parse_replace_with(arg: &Bson, ctx: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    Ok(Box::new(ReplaceRoot(ctx.expr(arg)?)))
}
