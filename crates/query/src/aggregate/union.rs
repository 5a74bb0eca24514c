//! `$unionWith`: the input documents, then those of another experiment
//! (through an optional sub-pipeline).

use std::collections::BTreeSet;

use bson::Bson;

use super::{sub_pipeline_specs, Docs, Env, ParseCtx, Pipeline, Stage};
use crate::expr::type_name;
use crate::{QueryError, QueryResult};

/// `$unionWith`.
#[derive(Debug)]
struct UnionWith {
    /// The other experiment.
    coll: String,
    /// Run over the other experiment's documents (empty for the string
    /// form).
    pipeline: Pipeline,
}

impl Stage for UnionWith {
    fn apply<'a>(&'a self, input: Docs<'a>, env: &'a Env) -> Docs<'a> {
        // The other experiment is only read once the input is exhausted.
        let rest = std::iter::once(()).flat_map(move |()| {
            let docs = env.experiment(&self.coll).iter().cloned().map(Ok);
            self.pipeline.stream(Box::new(docs), env)
        });
        Box::new(input.chain(rest))
    }

    fn foreign(&self, experiments: &mut BTreeSet<String>) {
        experiments.insert(self.coll.clone());
        experiments.extend(self.pipeline.foreign());
    }
}

/// Parses `$unionWith: "<experiment>"` or `{coll, pipeline}`.
pub(super) fn parse_union_with(arg: &Bson, ctx: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    let spec = match arg {
        Bson::String(coll) => {
            return Ok(Box::new(UnionWith {
                coll: coll.clone(),
                pipeline: Pipeline::parse_in(&[], &ctx.sub_pipeline(&[])?)?,
            }))
        }
        Bson::Document(spec) => spec,
        other => {
            return Err(QueryError::new(format!(
                "the $unionWith stage specification must be an object or string, but found {}",
                type_name(Some(other))
            )))
        }
    };
    let mut coll = None;
    let mut pipeline = Vec::new();
    for (key, value) in spec {
        match (key.as_str(), value) {
            ("coll", Bson::String(name)) => coll = Some(name.clone()),
            ("coll", other) => {
                return Err(QueryError::new(format!(
                    "BSON field '$unionWith.coll' is the wrong type '{}', expected type 'string'",
                    type_name(Some(other))
                )))
            }
            ("pipeline", value) => {
                pipeline = sub_pipeline_specs("$unionWith's 'pipeline'", value)?;
            }
            _ => {
                return Err(QueryError::new(format!(
                    "BSON field '$unionWith.{key}' is an unknown field."
                )))
            }
        }
    }
    let coll = coll.ok_or_else(|| {
        QueryError::new(
            "$unionWith stage without explicit collection must have a pipeline with $documents \
             as first stage",
        )
    })?;
    Ok(Box::new(UnionWith {
        coll,
        pipeline: Pipeline::parse_in(&pipeline, &ctx.sub_pipeline(&[])?)?,
    }))
}
