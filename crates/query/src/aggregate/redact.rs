//! `$redact`: each document, and each document inside it, kept whole,
//! pruned or descended into, as an expression decides.
//!
//! The expression is evaluated with `$$CURRENT` (so every `"$field"`) at
//! the document being decided and `$$ROOT` at the top-level one, and must
//! give one of `$$DESCEND`, `$$PRUNE` or `$$KEEP`. As in the server
//! (`DocumentSourceRedact`), those three are variables defined by the
//! stage whose values are the strings `"descend"`, `"prune"` and `"keep"`,
//! so a literal `"keep"` works as well. Descending keeps the scalar fields
//! and decides again for every embedded document, also inside arrays
//! (arrays of arrays included); a pruned embedded document is left out.

use bson::{Bson, Document};

use super::{map_each, Docs, Env, ParseCtx, Stage};
use crate::expr::{Binding, Ctx, Expr, Root, Scope};
use crate::{QueryError, QueryResult};

/// The variables `$redact` defines, after the enclosing ones, and their
/// values.
const MARKERS: [(&str, &str); 3] = [("DESCEND", "descend"), ("PRUNE", "prune"), ("KEEP", "keep")];

/// `$redact`.
#[derive(Debug)]
struct Redact {
    /// The decision, parsed with `CURRENT` and the markers in scope.
    expr: Expr,
    /// The markers' values, borrowed by every evaluation.
    markers: [Bson; 3],
}

/// What the expression decided for one document.
enum Decision {
    Descend,
    Prune,
    Keep,
}

impl Stage for Redact {
    fn apply<'a>(&'a self, input: Docs<'a>, env: &'a Env) -> Docs<'a> {
        map_each(input, move |doc| {
            let top = Bson::Document(doc);
            let Bson::Document(root) = &top else {
                return Ok(None);
            };
            self.redact_object(&top, root, env)
        })
    }
}

impl Redact {
    /// Decides for `current` (a document) under `root`.
    fn decide(&self, current: &Bson, root: &Document, env: &Env) -> QueryResult<Decision> {
        let mut vars: Vec<Option<Binding<'_>>> = env
            .vars()
            .iter()
            .map(|v| v.as_ref().map(Binding::Borrowed))
            .collect();
        vars.push(Some(Binding::Borrowed(current)));
        vars.extend(self.markers.iter().map(|m| Some(Binding::Borrowed(m))));
        let ctx = Ctx {
            root: Root::Doc(root),
            vars,
        };
        let value = self.expr.eval(&ctx)?;
        match value.as_deref() {
            Some(Bson::String(s)) if s == "descend" => Ok(Decision::Descend),
            Some(Bson::String(s)) if s == "prune" => Ok(Decision::Prune),
            Some(Bson::String(s)) if s == "keep" => Ok(Decision::Keep),
            other => Err(QueryError::new(format!(
                "$redact's expression should not return anything aside from the variables \
                 $$KEEP, $$DESCEND, and $$PRUNE, but returned {}",
                other.map_or_else(|| "MISSING".to_owned(), ToString::to_string)
            ))),
        }
    }

    /// The document `current` after redaction, `None` when pruned.
    fn redact_object(
        &self,
        current: &Bson,
        root: &Document,
        env: &Env,
    ) -> QueryResult<Option<Document>> {
        let Bson::Document(doc) = current else {
            return Ok(None);
        };
        match self.decide(current, root, env)? {
            Decision::Keep => Ok(Some(doc.clone())),
            Decision::Prune => Ok(None),
            Decision::Descend => {
                let mut out = Document::new();
                for (name, value) in doc {
                    if let Some(kept) = self.redact_value(value, root, env)? {
                        out.insert(name.clone(), kept);
                    }
                }
                Ok(Some(out))
            }
        }
    }

    /// A field's value after redaction: documents decided, arrays walked
    /// (their pruned documents left out), scalars kept.
    fn redact_value(&self, value: &Bson, root: &Document, env: &Env) -> QueryResult<Option<Bson>> {
        match value {
            Bson::Document(_) => Ok(self.redact_object(value, root, env)?.map(Bson::Document)),
            Bson::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(kept) = self.redact_value(item, root, env)? {
                        out.push(kept);
                    }
                }
                Ok(Some(Bson::Array(out)))
            }
            scalar => Ok(Some(scalar.clone())),
        }
    }
}

/// Parses `$redact`: any expression.
pub(super) fn parse_redact(arg: &Bson, ctx: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    let mut names = ctx.vars.clone();
    names.push("CURRENT".to_owned());
    names.extend(MARKERS.iter().map(|(name, _)| (*name).to_owned()));
    let expr = Expr::parse_in(arg, &Scope::with_outer(&names))?;
    Ok(Box::new(Redact {
        expr,
        markers: MARKERS.map(|(_, value)| Bson::String(value.to_owned())),
    }))
}
