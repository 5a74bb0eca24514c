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

mod accumulators;
mod group;
mod project;
mod stages;
mod window;

use std::collections::{BTreeSet, HashMap};

use bson::{Bson, Document};

use crate::query::filter::Filter;
use crate::query::{QueryError, QueryResult};

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
}

/// What a pipeline may read besides its input: the documents of the other
/// experiments its stages name (see [`Pipeline::foreign`]), loaded by the
/// store before the run.
#[derive(Debug, Default)]
pub(crate) struct Env {
    /// Documents of each foreign experiment, by name.
    experiments: HashMap<String, Vec<Document>>,
}

impl Env {
    /// Adds the documents of one foreign experiment.
    #[allow(dead_code)] // Used by the store once $lookup/$unionWith land.
    pub(crate) fn insert(&mut self, experiment: String, docs: Vec<Document>) {
        self.experiments.insert(experiment, docs);
    }

    /// The documents of a foreign experiment; an experiment that does not
    /// exist is empty, as a missing collection is for the server.
    #[allow(dead_code)] // Used by $lookup/$unionWith.
    pub(crate) fn experiment(&self, name: &str) -> &[Document] {
        self.experiments.get(name).map_or(&[], Vec::as_slice)
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

/// Builds a stage from its argument (the value under the stage name).
type StageParser = fn(&Bson) -> QueryResult<Box<dyn Stage>>;

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
    ("$setWindowFields", window::parse_set_window_fields),
];

/// A compiled aggregation pipeline.
#[derive(Debug)]
pub(crate) struct Pipeline {
    /// The stages, in order.
    stages: Vec<Box<dyn Stage>>,
}

impl Pipeline {
    /// Compiles a pipeline; each stage is a one-field document.
    pub(crate) fn parse(stages: &[Document]) -> QueryResult<Pipeline> {
        let stages = stages.iter().map(parse_stage).collect::<QueryResult<_>>()?;
        Ok(Pipeline { stages })
    }

    /// Runs the pipeline over the input documents, with no foreign
    /// experiments.
    #[cfg(test)]
    pub(crate) fn run(&self, input: impl Iterator<Item = Document>) -> QueryResult<Vec<Document>> {
        self.run_in(input, &Env::default())
    }

    /// Runs the pipeline over the input documents; `env` holds the foreign
    /// experiments named by [`Pipeline::foreign`].
    pub(crate) fn run_in<'a>(
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
    pub(crate) fn foreign(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for stage in &self.stages {
            stage.foreign(&mut out);
        }
        out
    }

    /// The filter of a leading `$match` stage, which a store may apply itself
    /// (the pipeline still applies it too, which is harmless).
    pub(crate) fn leading_filter(&self) -> Option<&Filter> {
        self.stages.first().and_then(|s| s.as_filter())
    }
}

/// Parses one `{$stage: arg}` document through the stage table.
fn parse_stage(spec: &Document) -> QueryResult<Box<dyn Stage>> {
    let mut fields = spec.iter();
    let (Some((name, arg)), None) = (fields.next(), fields.next()) else {
        return Err(QueryError::new(
            "A pipeline stage specification object must contain exactly one field.",
        ));
    };
    let (_, parse) = STAGES
        .iter()
        .find(|(n, _)| n == name)
        .ok_or_else(|| QueryError::new(format!("Unrecognized pipeline stage name: '{name}'")))?;
    parse(arg)
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
mod tests_window;
