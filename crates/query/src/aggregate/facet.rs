//! `$facet`: several sub-pipelines over the same input, their results
//! gathered into one document `{<name>: [<results>], …}`.

use std::collections::BTreeSet;

use bson::{Bson, Document};

use super::{blocking, stage_entry, sub_pipeline_specs, Docs, Env, ParseCtx, Pipeline, Stage};
use crate::expr::{path_segments, type_name};
use crate::{QueryError, QueryResult};

/// The stages the server refuses inside a `$facet` sub-pipeline (most of
/// them are not supported here at all, and are refused as unknown then).
const NOT_IN_FACET: &[&str] = &[
    "$facet",
    "$collStats",
    "$geoNear",
    "$indexStats",
    "$out",
    "$merge",
    "$planCacheStats",
    "$search",
    "$searchMeta",
    "$vectorSearch",
    "$changeStream",
    "$changeStreamSplitLargeEvent",
    "$currentOp",
    "$listLocalSessions",
    "$listSessions",
    "$listSearchIndexes",
    "$documents",
];

/// `$facet`.
#[derive(Debug)]
struct Facet {
    /// The output fields and their sub-pipelines, in specification order.
    facets: Vec<(String, Pipeline)>,
}

impl Stage for Facet {
    fn apply<'a>(&'a self, input: Docs<'a>, env: &'a Env) -> Docs<'a> {
        blocking(input, move |input| {
            // Every sub-pipeline reads the whole input, so it is held once.
            let docs = input.collect::<QueryResult<Vec<Document>>>()?;
            let mut out = Document::new();
            for (name, pipeline) in &self.facets {
                let results = pipeline
                    .stream(Box::new(docs.iter().cloned().map(Ok)), env)
                    .map(|doc| doc.map(Bson::Document))
                    .collect::<QueryResult<Vec<Bson>>>()?;
                out.insert(name.clone(), results);
            }
            Ok(vec![out])
        })
    }

    fn foreign(&self, experiments: &mut BTreeSet<String>) {
        for (_, pipeline) in &self.facets {
            experiments.extend(pipeline.foreign());
        }
    }
}

/// Parses `$facet`: a non-empty document of sub-pipelines, none of which
/// may use a stage refused inside `$facet` (a `$facet` included, even
/// nested in a `$lookup`).
pub(super) fn parse_facet(arg: &Bson, ctx: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    if ctx.in_facet() {
        return Err(not_allowed("$facet"));
    }
    let spec = match arg {
        Bson::Document(spec) if !spec.is_empty() => spec,
        _ => {
            return Err(QueryError::new(format!(
                "the $facet specification must be a non-empty object, but found: {arg}"
            )))
        }
    };
    let sub_ctx = ctx.facet()?;
    let mut facets = Vec::with_capacity(spec.len());
    for (name, value) in spec {
        // A facet name is one field name: no '$' prefix, no '.'.
        if path_segments(name)?.len() != 1 {
            return Err(QueryError::new(
                "FieldPath field names may not contain '.'. Consider using $getField or \
                 $setField.",
            ));
        }
        if !matches!(value, Bson::Array(_)) {
            return Err(QueryError::new(format!(
                "arguments to $facet must be arrays, {name} is type {}",
                type_name(Some(value))
            )));
        }
        let stages = sub_pipeline_specs(&format!("$facet field '{name}'"), value)?;
        for stage in &stages {
            let (stage_name, _) = stage_entry(stage)?;
            if NOT_IN_FACET.contains(&stage_name) {
                return Err(not_allowed(stage_name));
            }
        }
        facets.push((name.clone(), Pipeline::parse_in(&stages, &sub_ctx)?));
    }
    Ok(Box::new(Facet { facets }))
}

/// The server's error for a stage refused inside `$facet`.
fn not_allowed(stage: &str) -> QueryError {
    QueryError::new(format!(
        "{stage} is not allowed to be used within a $facet stage"
    ))
}
