//! Aggregation pipelines: parsed once into a list of stage objects, then run
//! over a stream of documents.
//!
//! The stages are table-driven: [`STAGES`] maps each stage name to a parser
//! that builds a [`Stage`] object. A stage consumes the documents the
//! previous one produced. Adding a stage means one struct implementing
//! [`Stage`] and one table entry.

mod accumulators;
mod group;
mod project;
mod stages;

use bson::{Bson, Document};

use crate::query::filter::Filter;
use crate::query::{QueryError, QueryResult};

/// One compiled pipeline stage.
pub(crate) trait Stage: std::fmt::Debug + Send + Sync {
    /// Transforms the documents that reach this stage.
    fn run(&self, input: Vec<Document>) -> QueryResult<Vec<Document>>;

    /// The filter of a `$match` stage, so a store can push it down.
    fn as_filter(&self) -> Option<&Filter> {
        None
    }
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

    /// Runs the pipeline over the input documents.
    pub(crate) fn run(&self, input: impl Iterator<Item = Document>) -> QueryResult<Vec<Document>> {
        let mut docs: Vec<Document> = input.collect();
        for stage in &self.stages {
            docs = stage.run(docs)?;
        }
        Ok(docs)
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

#[cfg(test)]
mod tests;
