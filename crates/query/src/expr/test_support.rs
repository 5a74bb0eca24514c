//! Helpers shared by the expression tests.

use bson::{doc, Bson, Decimal128, Document};

use super::*;

/// Evaluates an expression against `doc`.
pub(super) fn eval(spec: Bson, doc: &Document) -> QueryResult<Option<Bson>> {
    Expr::parse(&spec)?.evaluate(doc)
}

/// Evaluates an expression against `{_id: 0}`, which must succeed.
pub(super) fn ok(spec: Bson) -> Option<Bson> {
    eval(spec, &doc! {"_id": 0}).unwrap()
}

/// The message of the error an expression must fail with.
pub(super) fn err(spec: Bson) -> String {
    match eval(spec, &doc! {"_id": 0}) {
        Err(e) => e.message().to_owned(),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

/// A decimal128 from its text.
pub(super) fn dec(s: &str) -> Bson {
    Bson::Decimal128(s.parse::<Decimal128>().unwrap())
}
