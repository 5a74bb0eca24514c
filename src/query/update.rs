// STUB — replaced at merge
//! Minimal stand-in for the update engine: `$set`, `$unset`, `$push` with `$each`, `$setOnInsert` on documents.
use bson::{Bson, Document};

use super::{QueryError, QueryResult};

/// A parsed update.
#[derive(Debug, Clone)]
pub(crate) struct Update {
    spec: Document,
}

/// Context of an update application.
#[derive(Debug, Clone)]
pub(crate) struct UpdateContext {
    pub(crate) is_insert: bool,
    pub(crate) now: bson::DateTime,
}

impl Update {
    pub(crate) fn parse(update: &Document) -> QueryResult<Update> {
        for (op, _) in update {
            if !matches!(op.as_str(), "$set" | "$unset" | "$push" | "$setOnInsert") {
                return Err(QueryError::new(format!("Unknown modifier: {op}")));
            }
        }
        Ok(Update {
            spec: update.clone(),
        })
    }

    pub(crate) fn apply(&self, doc: &mut Document, ctx: &UpdateContext) -> QueryResult<()> {
        let mut out = doc.clone();
        for (op, fields) in &self.spec {
            let Bson::Document(fields) = fields else {
                continue;
            };
            for (path, value) in fields {
                match op.as_str() {
                    "$set" => set(&mut out, path, value.clone())?,
                    "$setOnInsert" if ctx.is_insert => set(&mut out, path, value.clone())?,
                    "$unset" => {
                        let (parent, last) = walk(&mut out, path)?;
                        parent.remove(last);
                    }
                    "$push" => {
                        let items = match value {
                            Bson::Document(d) if d.contains_key("$each") => {
                                d.get_array("$each").unwrap().clone()
                            }
                            v => vec![v.clone()],
                        };
                        let (parent, last) = walk(&mut out, path)?;
                        match parent.get_mut(last) {
                            Some(Bson::Array(a)) => a.extend(items),
                            Some(_) => return Err(QueryError::new("The field must be an array")),
                            None => {
                                parent.insert(last, items);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        *doc = out;
        Ok(())
    }
}

fn walk<'a, 'p>(doc: &'a mut Document, path: &'p str) -> QueryResult<(&'a mut Document, &'p str)> {
    let mut parts: Vec<&str> = path.split('.').collect();
    let last = parts.pop().unwrap();
    let mut cur = doc;
    for p in parts {
        let entry = cur
            .entry(p.to_owned())
            .or_insert_with(|| Bson::Document(Document::new()));
        cur = match entry {
            Bson::Document(d) => d,
            other => {
                return Err(QueryError::new(format!(
                    "Cannot create field in element {{{p}: {other}}}"
                )))
            }
        };
    }
    Ok((cur, last))
}

fn set(doc: &mut Document, path: &str, value: Bson) -> QueryResult<()> {
    let (parent, last) = walk(doc, path)?;
    parent.insert(last, value);
    Ok(())
}
