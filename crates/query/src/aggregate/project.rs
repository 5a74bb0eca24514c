//! `$project`, `$addFields`/`$set` and `$unset`, which share one compiled
//! form: a tree of field names whose leaves include, exclude or compute.

use bson::{Bson, Document};

use super::{map_each, Docs, Env, ParseCtx, Stage};
use crate::expr::{path_segments, type_name, Ctx, Expr};
use crate::{QueryError, QueryResult};

/// What a projection does with one field.
#[derive(Debug)]
enum Action {
    /// Keep the field (inclusion projections).
    Include,
    /// Drop the field (exclusion projections, `$unset`).
    Exclude,
    /// Set the field to the expression's value (left out when missing).
    Compute(Expr),
    /// Apply a sub-projection to the field's document (or to each document
    /// in its array).
    Nested(Tree),
}

/// The fields of one document level, in specification order.
#[derive(Debug, Default)]
struct Tree {
    /// Field names and what to do with them.
    fields: Vec<(String, Action)>,
}

impl Tree {
    /// Adds an action at a dotted path, creating sub-trees on the way.
    fn insert(&mut self, segments: &[String], action: Action, full: &str) -> QueryResult<()> {
        let collision = || QueryError::new(format!("Path collision at {full}"));
        let Some((first, rest)) = segments.split_first() else {
            return Err(collision());
        };
        let existing = self.fields.iter_mut().find(|(name, _)| name == first);
        match (existing, rest.is_empty()) {
            (None, true) => self.fields.push((first.clone(), action)),
            (None, false) => {
                let mut sub = Tree::default();
                sub.insert(rest, action, full)?;
                self.fields.push((first.clone(), Action::Nested(sub)));
            }
            (Some((_, Action::Nested(sub))), false) => sub.insert(rest, action, full)?,
            (Some(_), _) => return Err(collision()),
        }
        Ok(())
    }

    /// Whether any leaf computes a value.
    fn has_computed(&self) -> bool {
        self.fields.iter().any(|(_, action)| match action {
            Action::Compute(_) => true,
            Action::Nested(sub) => sub.has_computed(),
            _ => false,
        })
    }

    /// The action for a field name at this level.
    fn get(&self, name: &str) -> Option<&Action> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }
}

/// How deeply projection specifications may nest.
const MAX_DEPTH: usize = 200;

/// Whether a projection keeps what it names or everything but.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Keep only what is named (and `_id`).
    Inclusion,
    /// Keep everything but what is named.
    Exclusion,
}

/// `$project`.
#[derive(Debug)]
struct Project {
    /// What to do with each field.
    tree: Tree,
    /// Inclusion or exclusion.
    mode: Mode,
}

/// Reads one `$project` value: a flag, a sub-projection or an expression.
fn project_action(value: &Bson, path: &str, depth: usize, ctx: &ParseCtx) -> QueryResult<Action> {
    Ok(match value {
        Bson::Boolean(b) => flag(*b),
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_) => {
            flag(crate::expr::is_truthy(Some(value)))
        }
        Bson::Document(doc) if doc.keys().next().is_some_and(|k| !k.starts_with('$')) => {
            if depth >= MAX_DEPTH {
                return Err(QueryError::new(
                    "projection nesting depth exceeds the limit",
                ));
            }
            let mut sub = Tree::default();
            for (key, value) in doc {
                let full = format!("{path}.{key}");
                let action = project_action(value, &full, depth + 1, ctx)?;
                sub.insert(&path_segments(key)?, action, &full)?;
            }
            Action::Nested(sub)
        }
        Bson::Document(doc) if doc.is_empty() => {
            return Err(QueryError::new(format!(
                "An empty sub-projection is not a valid value. Found empty object at path {path}"
            )))
        }
        other => Action::Compute(ctx.expr(other)?),
    })
}

/// `true`/non-zero includes, `false`/zero excludes.
fn flag(include: bool) -> Action {
    if include {
        Action::Include
    } else {
        Action::Exclude
    }
}

/// Finds whether a tree includes/computes and whether it excludes
/// (a top-level `_id: 0` or `_id: 1` fits either kind of projection).
fn scan(tree: &Tree, top: bool, includes: &mut bool, excludes: &mut bool) {
    for (name, action) in &tree.fields {
        match action {
            Action::Include | Action::Exclude if top && name == "_id" => {}
            Action::Include | Action::Compute(_) => *includes = true,
            Action::Exclude => *excludes = true,
            Action::Nested(sub) => scan(sub, false, includes, excludes),
        }
    }
}

/// Parses `$project`, deciding between inclusion and exclusion.
pub(super) fn parse_project(arg: &Bson, ctx: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    let Bson::Document(spec) = arg else {
        return Err(QueryError::new("$project specification must be an object"));
    };
    if spec.is_empty() {
        return Err(QueryError::new(
            "projection specification must have at least one field",
        ));
    }
    let mut tree = Tree::default();
    for (key, value) in spec {
        let action = project_action(value, key, 0, ctx)?;
        tree.insert(&path_segments(key)?, action, key)?;
    }
    let (mut includes, mut excludes) = (false, false);
    scan(&tree, true, &mut includes, &mut excludes);
    if includes && excludes {
        return Err(QueryError::new(
            "$project cannot mix inclusion and exclusion (other than excluding _id)",
        ));
    }
    // `{_id: 1}` alone is an inclusion projection of just `_id`.
    let only_id = !excludes && matches!(tree.get("_id"), Some(Action::Include));
    let mode = if includes || only_id {
        Mode::Inclusion
    } else {
        Mode::Exclusion
    };
    if mode == Mode::Inclusion && tree.get("_id").is_none() {
        // _id is kept unless excluded explicitly.
        tree.fields.insert(0, ("_id".to_owned(), Action::Include));
    }
    Ok(Box::new(Project { tree, mode }))
}

impl Stage for Project {
    fn apply<'a>(&'a self, input: Docs<'a>, env: &'a Env) -> Docs<'a> {
        map_each(input, move |mut doc| match self.mode {
            Mode::Inclusion => include(&self.tree, &doc, &env.ctx(&doc)).map(Some),
            Mode::Exclusion => {
                exclude(&self.tree, &mut doc);
                Ok(Some(doc))
            }
        })
    }
}

/// An inclusion projection of one document level: the kept fields in the
/// document's order, then computed ones (a computed `_id` stays first).
fn include(tree: &Tree, doc: &Document, ctx: &Ctx<'_>) -> QueryResult<Document> {
    let mut out = Document::new();
    if let Some(Action::Compute(expr)) = tree.get("_id") {
        if let Some(v) = expr.eval(ctx)? {
            out.insert("_id", v.into_owned());
        }
    }
    for (name, value) in doc {
        match (tree.get(name), value) {
            (Some(Action::Include), _) => {
                out.insert(name.clone(), value.clone());
            }
            (Some(Action::Nested(sub)), Bson::Document(d)) => {
                out.insert(name.clone(), include(sub, d, ctx)?);
            }
            (Some(Action::Nested(sub)), Bson::Array(items)) => {
                out.insert(name.clone(), include_array(sub, items, ctx)?);
            }
            _ => {}
        }
    }
    for (name, action) in &tree.fields {
        match action {
            Action::Compute(expr) if name != "_id" => {
                if let Some(v) = expr.eval(ctx)? {
                    out.insert(name.clone(), v.into_owned());
                }
            }
            // A sub-projection with computed fields creates the document.
            Action::Nested(sub) if sub.has_computed() && !out.contains_key(name) => {
                out.insert(name.clone(), include(sub, &Document::new(), ctx)?);
            }
            _ => {}
        }
    }
    Ok(out)
}

/// A sub-projection over an array: documents are projected, nested arrays
/// recursed into, and scalars dropped (or replaced by the computed fields).
fn include_array(sub: &Tree, items: &[Bson], ctx: &Ctx<'_>) -> QueryResult<Bson> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Bson::Document(d) => out.push(Bson::Document(include(sub, d, ctx)?)),
            Bson::Array(inner) => out.push(include_array(sub, inner, ctx)?),
            _ if sub.has_computed() => {
                out.push(Bson::Document(include(sub, &Document::new(), ctx)?))
            }
            _ => {}
        }
    }
    Ok(Bson::Array(out))
}

/// An exclusion projection, in place.
fn exclude(tree: &Tree, doc: &mut Document) {
    for (name, action) in &tree.fields {
        match action {
            Action::Exclude => {
                doc.remove(name);
            }
            Action::Nested(sub) => match doc.get_mut(name) {
                Some(Bson::Document(d)) => exclude(sub, d),
                Some(Bson::Array(items)) => exclude_array(sub, items),
                _ => {}
            },
            _ => {}
        }
    }
}

/// An exclusion over an array: applied to its documents and nested arrays.
fn exclude_array(sub: &Tree, items: &mut [Bson]) {
    for item in items {
        match item {
            Bson::Document(d) => exclude(sub, d),
            Bson::Array(inner) => exclude_array(sub, inner),
            _ => {}
        }
    }
}

/// `$unset`: an exclusion projection of the named paths.
pub(super) fn parse_unset(arg: &Bson, _: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    let names: Vec<&str> = match arg {
        Bson::String(s) => vec![s.as_str()],
        Bson::Array(items) if items.is_empty() => {
            return Err(QueryError::new(
                "$unset specification must be a string or an array with at least one field",
            ))
        }
        Bson::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str().ok_or_else(|| {
                    QueryError::new(
                        "$unset specification must be a string or an array containing only \
                         string values",
                    )
                })
            })
            .collect::<QueryResult<_>>()?,
        _ => {
            return Err(QueryError::new(
                "$unset specification must be a string or an array",
            ))
        }
    };
    let mut tree = Tree::default();
    for name in names {
        tree.insert(&path_segments(name)?, Action::Exclude, name)?;
    }
    Ok(Box::new(Project {
        tree,
        mode: Mode::Exclusion,
    }))
}

/// `$addFields` / `$set`.
#[derive(Debug)]
struct AddFields(Tree);

/// Parses `$addFields`/`$set`: every value is an expression.
pub(super) fn parse_add_fields(arg: &Bson, ctx: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    let Bson::Document(spec) = arg else {
        return Err(QueryError::new(format!(
            "$addFields specification stage must be an object, got {}",
            type_name(Some(arg))
        )));
    };
    let mut tree = Tree::default();
    for (key, value) in spec {
        tree.insert(&path_segments(key)?, Action::Compute(ctx.expr(value)?), key)?;
    }
    Ok(Box::new(AddFields(tree)))
}

impl Stage for AddFields {
    fn apply<'a>(&'a self, input: Docs<'a>, env: &'a Env) -> Docs<'a> {
        map_each(input, move |mut doc| {
            // Evaluate everything against the input first, then change the
            // document in place: no copy of the document is needed.
            let mut values = Vec::new();
            eval_leaves(&self.0, &env.ctx(&doc), &mut values)?;
            set_fields(&self.0, &mut doc, &values);
            Ok(Some(doc))
        })
    }
}

/// Evaluates the computed leaves of a tree, depth first.
fn eval_leaves(tree: &Tree, ctx: &Ctx<'_>, out: &mut Vec<Option<Bson>>) -> QueryResult<()> {
    for (_, action) in &tree.fields {
        match action {
            Action::Compute(expr) => out.push(expr.eval(ctx)?.map(|v| v.into_owned())),
            Action::Nested(sub) => eval_leaves(sub, ctx, out)?,
            Action::Include | Action::Exclude => {}
        }
    }
    Ok(())
}

impl Tree {
    /// How many computed leaves the tree has (its share of the values).
    fn leaf_count(&self) -> usize {
        self.fields
            .iter()
            .map(|(_, action)| match action {
                Action::Compute(_) => 1,
                Action::Nested(sub) => sub.leaf_count(),
                Action::Include | Action::Exclude => 0,
            })
            .sum()
    }
}

/// Sets one level's computed fields from `values` (this tree's leaves, in
/// [`eval_leaves`] order); a missing value removes the field.
fn set_fields(tree: &Tree, doc: &mut Document, values: &[Option<Bson>]) {
    let mut next = 0;
    for (name, action) in &tree.fields {
        match action {
            Action::Compute(_) => {
                match values.get(next) {
                    Some(Some(v)) => {
                        doc.insert(name.clone(), v.clone());
                    }
                    _ => {
                        doc.remove(name);
                    }
                }
                next += 1;
            }
            Action::Nested(sub) => {
                let count = sub.leaf_count();
                let sub_values = values.get(next..next + count).unwrap_or_default();
                next += count;
                match doc.get_mut(name) {
                    Some(Bson::Document(d)) => set_fields(sub, d, sub_values),
                    Some(Bson::Array(items)) => set_fields_array(sub, items, sub_values),
                    _ => {
                        let mut d = Document::new();
                        set_fields(sub, &mut d, sub_values);
                        doc.insert(name.clone(), d);
                    }
                }
            }
            Action::Include | Action::Exclude => {}
        }
    }
}

/// `{"a.b": x}` on an array `a` sets `b` in every element; scalars become
/// documents holding just the new fields.
fn set_fields_array(sub: &Tree, items: &mut [Bson], values: &[Option<Bson>]) {
    for item in items {
        match item {
            Bson::Document(d) => set_fields(sub, d, values),
            Bson::Array(inner) => set_fields_array(sub, inner, values),
            other => {
                let mut d = Document::new();
                set_fields(sub, &mut d, values);
                *other = Bson::Document(d);
            }
        }
    }
}
