//! Aggregation pipelines: parsed once into a list of stage objects, then run
//! over a stream of documents.
//!
//! The stages are table-driven: [`STAGES`] maps each stage name to a parser
//! that builds a [`Stage`] object. Each stage wraps the stream of documents
//! the previous one outputs into its own output stream, so streaming stages
//! (`$match`, `$project`, `$unwind`, `$limit`, …) hold one document at a
//! time and only blocking ones (`$sort`, `$group`) hold more. Adding a stage
//! means one struct implementing [`Stage`] and one table entry.
//!
//! The engine reads nothing but its input and [`Env`]: a stage that reads
//! other experiments (`$lookup`, `$unionWith`) names them through
//! [`Stage::foreign`], and the store loads them into the [`Env`] before the
//! run. That keeps the engine free of storage.
//!
//! Stages that run sub-pipelines (`$lookup`, `$unionWith`, `$facet`) parse
//! them with a [`ParseCtx`] that says which variables the enclosing stages
//! define (`$lookup`'s `let`); at run time the [`Env`] holds their values
//! in the same order.

pub(crate) mod accumulators;
mod bucket;
mod bucket_auto;
mod densify;
mod facet;
mod fill;
mod granularity;
mod group;
mod lookup;
mod partition;
mod project;
mod redact;
mod replace;
mod sample;
mod sort_by_count;
mod stages;
mod union;
mod window;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use bson::{Bson, Document};

use crate::expr::{Ctx, Expr, Scope};
use crate::filter::Filter;
use crate::{QueryError, QueryResult};
pub use group::GroupFeed;

/// A stream of documents between two stages. The first error ends the run:
/// whoever pulls it stops there.
pub(crate) type Docs<'a> = Box<dyn Iterator<Item = QueryResult<Document>> + 'a>;

/// One compiled pipeline stage.
pub(crate) trait Stage: std::fmt::Debug + Send + Sync {
    /// Wraps the documents reaching this stage into the ones it outputs.
    fn apply<'a>(&'a self, input: Docs<'a>, env: &'a Env) -> Docs<'a>;

    /// The filter of a `$match` stage, so a store can push it down.
    fn as_filter(&self) -> Option<&Filter> {
        None
    }

    /// Adds the experiments this stage reads besides its input.
    fn foreign(&self, _experiments: &mut BTreeSet<String>) {}

    /// A `$group`'s entry for documents fed from outside the pipeline, in
    /// raw BSON (see [`Pipeline::leading_group`]).
    fn feed<'a>(&'a self, _env: &'a Env) -> Option<GroupFeed<'a>> {
        None
    }
}

/// What a pipeline may read besides its input: the documents of the other
/// experiments its stages name (see [`Pipeline::foreign`]), loaded by the
/// store before the run, and the values of the variables that enclosing
/// stages define (inside `$lookup`'s pipeline).
#[derive(Debug, Default)]
pub struct Env {
    /// Documents of each foreign experiment, by name; shared with the
    /// environments of sub-pipelines.
    experiments: Arc<HashMap<String, Vec<Document>>>,
    /// Values of the variables of the [`ParseCtx`] the pipeline was parsed
    /// in, in the same order (`None` = missing).
    vars: Vec<Option<Bson>>,
}

impl Env {
    /// Adds the documents of one foreign experiment.
    pub fn insert(&mut self, experiment: String, docs: Vec<Document>) {
        Arc::make_mut(&mut self.experiments).insert(experiment, docs);
    }

    /// The documents of a foreign experiment; an experiment that does not
    /// exist is empty, as a missing collection is for the server.
    pub(crate) fn experiment(&self, name: &str) -> &[Document] {
        self.experiments.get(name).map_or(&[], Vec::as_slice)
    }

    /// The environment of a sub-pipeline parsed with
    /// [`ParseCtx::with_vars`]: the same experiments, and `values` for the
    /// new variables after this environment's own.
    pub(crate) fn with_vars(&self, values: Vec<Option<Bson>>) -> Env {
        let mut vars = self.vars.clone();
        vars.extend(values);
        Env {
            experiments: Arc::clone(&self.experiments),
            vars,
        }
    }

    /// The context to evaluate an expression (parsed with
    /// [`ParseCtx::expr`]) over `root`.
    pub(crate) fn ctx<'a>(&'a self, root: &'a Document) -> Ctx<'a> {
        Ctx::with_vars(root, &self.vars)
    }

    /// The values of the variables in scope, for [`Filter::matches_with`].
    pub(crate) fn vars(&self) -> &[Option<Bson>] {
        &self.vars
    }
}

/// How deeply sub-pipelines may nest (`$lookup` in `$facet` in …), as for
/// the server, so hostile input cannot exhaust the stack.
const MAX_SUB_PIPELINE_DEPTH: usize = 20;

/// Where a stage is parsed: the variables enclosing stages define, and
/// whether it is inside a `$facet`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ParseCtx {
    /// Variables defined by enclosing `$lookup`s, outermost first; the
    /// [`Env`] of the run holds their values in the same order.
    vars: Vec<String>,
    /// Inside a `$facet` sub-pipeline, where `$facet` itself is refused.
    in_facet: bool,
    /// How many sub-pipelines enclose this one.
    depth: usize,
}

impl ParseCtx {
    /// The scope expressions are parsed in.
    pub(crate) fn scope(&self) -> Scope {
        Scope::with_outer(&self.vars)
    }

    /// Compiles an expression that may read the variables in scope.
    pub(crate) fn expr(&self, spec: &Bson) -> QueryResult<Expr> {
        Expr::parse_in(spec, &self.scope())
    }

    /// Compiles a filter whose `$expr`s may read the variables in scope.
    pub(crate) fn filter(&self, spec: &Document) -> QueryResult<Filter> {
        Filter::parse_in(spec, &self.scope())
    }

    /// Whether the stage is inside a `$facet` sub-pipeline.
    pub(crate) fn in_facet(&self) -> bool {
        self.in_facet
    }

    /// The context of a sub-pipeline of this stage, with `names` defined
    /// after the variables already in scope; refused past
    /// [`MAX_SUB_PIPELINE_DEPTH`].
    pub(crate) fn sub_pipeline(&self, names: &[String]) -> QueryResult<ParseCtx> {
        if self.depth >= MAX_SUB_PIPELINE_DEPTH {
            return Err(QueryError::new(format!(
                "Maximum number of nested sub-pipelines exceeded. Limit is \
                 {MAX_SUB_PIPELINE_DEPTH}"
            )));
        }
        let mut vars = self.vars.clone();
        vars.extend(names.iter().cloned());
        Ok(ParseCtx {
            vars,
            in_facet: self.in_facet,
            depth: self.depth + 1,
        })
    }

    /// The context of a `$facet` sub-pipeline.
    pub(crate) fn facet(&self) -> QueryResult<ParseCtx> {
        let mut ctx = self.sub_pipeline(&[])?;
        ctx.in_facet = true;
        Ok(ctx)
    }
}

/// A streaming stage of one document in, at most one out.
pub(crate) fn map_each<'a>(
    input: Docs<'a>,
    f: impl Fn(Document) -> QueryResult<Option<Document>> + 'a,
) -> Docs<'a> {
    Box::new(input.filter_map(move |item| item.and_then(&f).transpose()))
}

/// A blocking stage: drains its whole input (stopping at the first error)
/// when the first output document is asked for, then outputs `f`'s result.
pub(crate) fn blocking<'a>(
    input: Docs<'a>,
    f: impl FnOnce(Docs<'a>) -> QueryResult<Vec<Document>> + 'a,
) -> Docs<'a> {
    Box::new(
        std::iter::once_with(move || f(input)).flat_map(|result| -> Docs<'a> {
            match result {
                Ok(docs) => Box::new(docs.into_iter().map(Ok)),
                Err(err) => Box::new(std::iter::once(Err(err))),
            }
        }),
    )
}

/// Builds a stage from its argument (the value under the stage name) and
/// where it sits.
type StageParser = fn(&Bson, &ParseCtx) -> QueryResult<Box<dyn Stage>>;

/// Every supported stage, by name.
static STAGES: &[(&str, StageParser)] = &[
    ("$match", stages::parse_match),
    ("$project", project::parse_project),
    ("$addFields", project::parse_add_fields),
    ("$set", project::parse_add_fields),
    ("$unset", project::parse_unset),
    ("$group", group::parse_group),
    ("$sort", stages::parse_sort),
    ("$limit", stages::parse_limit),
    ("$skip", stages::parse_skip),
    ("$unwind", stages::parse_unwind),
    ("$count", stages::parse_count),
    ("$replaceRoot", replace::parse_replace_root),
    ("$replaceWith", replace::parse_replace_with),
    ("$sortByCount", sort_by_count::parse_sort_by_count),
    ("$bucket", bucket::parse_bucket),
    ("$bucketAuto", bucket_auto::parse_bucket_auto),
    ("$facet", facet::parse_facet),
    ("$sample", sample::parse_sample),
    ("$lookup", lookup::parse_lookup),
    ("$unionWith", union::parse_union_with),
    ("$setWindowFields", window::parse_set_window_fields),
    ("$redact", redact::parse_redact),
    ("$fill", fill::parse_fill),
    ("$densify", densify::parse_densify),
];

/// A compiled aggregation pipeline.
#[derive(Debug)]
pub struct Pipeline {
    /// The stages, in order.
    stages: Vec<Box<dyn Stage>>,
}

impl Pipeline {
    /// Compiles a pipeline; each stage is a one-field document.
    pub fn parse(stages: &[Document]) -> QueryResult<Pipeline> {
        for stage in stages {
            crate::depth::check_nesting(stage, "pipeline stage")?;
        }
        Pipeline::parse_in(stages, &ParseCtx::default())
    }

    /// Compiles a (sub-)pipeline in a parse context. A `$sort` right before
    /// a `$limit` becomes one top-k stage, as the server coalesces them.
    pub(crate) fn parse_in(specs: &[Document], ctx: &ParseCtx) -> QueryResult<Pipeline> {
        let mut stages = Vec::with_capacity(specs.len());
        let mut rest = specs;
        while let Some((spec, after)) = rest.split_first() {
            let (name, arg) = stage_entry(spec)?;
            rest = after;
            if name == "$sort" {
                if let Some((next, after)) = rest.split_first() {
                    if let ("$limit", limit) = stage_entry(next)? {
                        stages.push(stages::parse_sort_limit(arg, limit)?);
                        rest = after;
                        continue;
                    }
                }
            }
            stages.push(parse_stage(name, arg, ctx)?);
        }
        Ok(Pipeline { stages })
    }

    /// Runs the pipeline over the input documents (the first error ends
    /// the run). Stages that read other collections see empty ones; use
    /// [`Pipeline::run_in`] to give them documents.
    pub fn run(&self, input: impl Iterator<Item = Document>) -> QueryResult<Vec<Document>> {
        self.run_in(input, &Env::default())
    }

    /// Runs the pipeline over the input documents; `env` holds the foreign
    /// experiments named by [`Pipeline::foreign`].
    pub fn run_in<'a>(
        &'a self,
        input: impl Iterator<Item = Document> + 'a,
        env: &'a Env,
    ) -> QueryResult<Vec<Document>> {
        self.stream(Box::new(input.map(Ok)), env).collect()
    }

    /// The pipeline as a stream over `input` (for stages that run a
    /// sub-pipeline, such as `$facet`).
    pub(crate) fn stream<'a>(&'a self, input: Docs<'a>, env: &'a Env) -> Docs<'a> {
        self.stages
            .iter()
            .fold(input, |docs, stage| stage.apply(docs, env))
    }

    /// The experiments the pipeline reads besides its input, which the
    /// store loads into the [`Env`].
    pub fn foreign(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for stage in &self.stages {
            stage.foreign(&mut out);
        }
        out
    }

    /// When the pipeline starts with a `$group`, its feed: a store can push
    /// its stored documents into it in raw BSON, then run the stages after
    /// it with [`Pipeline::run_after_first`] on what it outputs.
    pub fn leading_group<'a>(&'a self, env: &'a Env) -> Option<GroupFeed<'a>> {
        self.stages.first().and_then(|stage| stage.feed(env))
    }

    /// Runs the pipeline without its first stage over `input`, the first
    /// stage's output.
    pub fn run_after_first<'a>(
        &'a self,
        input: impl Iterator<Item = Document> + 'a,
        env: &'a Env,
    ) -> QueryResult<Vec<Document>> {
        let input: Docs<'a> = Box::new(input.map(Ok));
        self.stages
            .iter()
            .skip(1)
            .fold(input, |docs, stage| stage.apply(docs, env))
            .collect()
    }

    /// The filter of a leading `$match` stage, which a store may apply itself
    /// (the pipeline still applies it too, which is harmless).
    pub fn leading_filter(&self) -> Option<&Filter> {
        self.stages.first().and_then(|s| s.as_filter())
    }
}

/// The stage name and argument of a `{$stage: arg}` document.
pub(crate) fn stage_entry(spec: &Document) -> QueryResult<(&str, &Bson)> {
    let mut fields = spec.iter();
    let (Some((name, arg)), None) = (fields.next(), fields.next()) else {
        return Err(QueryError::new(
            "A pipeline stage specification object must contain exactly one field.",
        ));
    };
    Ok((name, arg))
}

/// Parses one stage through the stage table.
fn parse_stage(name: &str, arg: &Bson, ctx: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    let (_, parse) = STAGES
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| QueryError::new(format!("Unrecognized pipeline stage name: '{name}'")))?;
    parse(arg, ctx)
}

/// Reads a sub-pipeline argument (`$lookup`'s `pipeline`, `$unionWith`'s,
/// a `$facet` field): an array of stage documents. `what` names it in
/// errors.
pub(crate) fn sub_pipeline_specs(what: &str, arg: &Bson) -> QueryResult<Vec<Document>> {
    let Bson::Array(items) = arg else {
        return Err(QueryError::new(format!(
            "{what} must be an array of stage objects, but found type: {}",
            crate::expr::type_name(Some(arg))
        )));
    };
    items
        .iter()
        .map(|item| match item {
            Bson::Document(stage) => Ok(stage.clone()),
            other => Err(QueryError::new(format!(
                "{what} must contain only stage objects, but found type: {}",
                crate::expr::type_name(Some(other))
            ))),
        })
        .collect()
}

/// Sets a dotted path in a document, creating (or replacing non-document
/// values with) subdocuments on the way.
pub(crate) fn set_path(doc: &mut Document, segments: &[String], value: Bson) {
    let Some((last, parents)) = segments.split_last() else {
        return;
    };
    let mut current = doc;
    for segment in parents {
        if !matches!(current.get(segment), Some(Bson::Document(_))) {
            current.insert(segment.clone(), Document::new());
        }
        current = match current.get_mut(segment) {
            Some(Bson::Document(d)) => d,
            _ => return,
        };
    }
    current.insert(last.clone(), value);
}

/// Every stage's name, for the fuzzer.
#[cfg(test)]
pub(crate) fn stage_names() -> Vec<&'static str> {
    STAGES.iter().map(|(name, _)| *name).collect()
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_accumulators;
#[cfg(test)]
mod tests_fill;
#[cfg(test)]
mod tests_stages;
#[cfg(test)]
mod tests_window;
