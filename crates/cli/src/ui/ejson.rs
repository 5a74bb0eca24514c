//! Relaxed Extended JSON in and out of the API.
//!
//! Filters, sorts and pipelines arrive as relaxed Extended JSON, as
//! `mongoexport --query` and mongosh take them; documents leave as relaxed
//! Extended JSON, where a number JSON cannot hold (NaN, ±inf) is
//! `{"$numberDouble": "NaN"}` (`"Infinity"`, `"-Infinity"`): the one encoding
//! the API uses everywhere, series values included.
//!
//! `parse_document` and `parse_pipeline` do the job of the command line's
//! `json.rs` (branch `cli`); the two are to become one at merge.

use serde_json::Value;
use yamlett::bson::{Bson, Document};

/// Why a parameter is not the JSON it should be; shown to the user as is.
#[derive(Debug)]
pub struct JsonError(pub String);

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn parse_value(what: &str, text: &str) -> Result<Bson, JsonError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|err| JsonError(format!("{what} is not valid JSON: {err}")))?;
    Bson::try_from(value)
        .map_err(|err| JsonError(format!("{what} is not valid Extended JSON: {err}")))
}

/// A filter, sort or projection: one JSON object. An empty text is `{}`.
pub fn parse_document(what: &str, text: &str) -> Result<Document, JsonError> {
    if text.trim().is_empty() {
        return Ok(Document::new());
    }
    match parse_value(what, text)? {
        Bson::Document(doc) => Ok(doc),
        other => Err(JsonError(format!(
            "{what} must be a JSON object, not {}",
            type_name(&other)
        ))),
    }
}

/// A pipeline: a JSON array of stage objects.
pub fn parse_pipeline(text: &str) -> Result<Vec<Document>, JsonError> {
    match parse_value("pipeline", text)? {
        Bson::Array(stages) => stages
            .into_iter()
            .enumerate()
            .map(|(i, stage)| match stage {
                Bson::Document(doc) => Ok(doc),
                other => Err(JsonError(format!(
                    "pipeline stage {i} must be a JSON object, not {}",
                    type_name(&other)
                ))),
            })
            .collect(),
        other => Err(JsonError(format!(
            "pipeline must be a JSON array of stages, not {}",
            type_name(&other)
        ))),
    }
}

/// A document (or any value) as relaxed Extended JSON.
pub fn to_json(value: Bson) -> Value {
    value.into_relaxed_extjson()
}

/// A double in the API's one encoding: a JSON number when finite, else
/// `{"$numberDouble": "NaN" | "Infinity" | "-Infinity"}`.
pub fn double(value: f64) -> Value {
    Bson::Double(value).into_relaxed_extjson()
}

/// The BSON type name, as `$type` spells it (for `/api/keys`).
pub fn type_name(value: &Bson) -> &'static str {
    match value {
        Bson::Double(_) => "double",
        Bson::String(_) => "string",
        Bson::Array(_) => "array",
        Bson::Document(_) => "object",
        Bson::Boolean(_) => "bool",
        Bson::Null => "null",
        Bson::RegularExpression(_) => "regex",
        Bson::JavaScriptCode(_) => "javascript",
        Bson::JavaScriptCodeWithScope(_) => "javascriptWithScope",
        Bson::Int32(_) => "int",
        Bson::Int64(_) => "long",
        Bson::Timestamp(_) => "timestamp",
        Bson::Binary(_) => "binData",
        Bson::ObjectId(_) => "objectId",
        Bson::DateTime(_) => "date",
        Bson::Symbol(_) => "symbol",
        Bson::Decimal128(_) => "decimal",
        Bson::Undefined => "undefined",
        Bson::MaxKey => "maxKey",
        Bson::MinKey => "minKey",
        Bson::DbPointer(_) => "dbPointer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_doubles_have_one_encoding() {
        assert_eq!(
            double(f64::NAN),
            serde_json::json!({"$numberDouble": "NaN"})
        );
        assert_eq!(
            double(f64::INFINITY),
            serde_json::json!({"$numberDouble": "Infinity"})
        );
        assert_eq!(
            double(-f64::INFINITY),
            serde_json::json!({"$numberDouble": "-Infinity"})
        );
        assert_eq!(double(0.5), serde_json::json!(0.5));
    }

    #[test]
    fn bad_json_says_where() {
        let err = parse_document("filter", "{\"a\": }").unwrap_err();
        assert!(
            err.0.contains("filter is not valid JSON") && err.0.contains("column"),
            "{err}"
        );
        assert!(parse_document("sort", "[1]")
            .unwrap_err()
            .0
            .contains("JSON object"));
        assert!(parse_pipeline("{}").unwrap_err().0.contains("array"));
        assert_eq!(parse_document("filter", " ").unwrap(), Document::new());
    }

    #[test]
    fn extended_json_is_understood() {
        let doc = parse_document("filter", r#"{"x": {"$numberLong": "5"}}"#).unwrap();
        assert_eq!(doc.get("x"), Some(&Bson::Int64(5)));
    }
}
