//! Relaxed Extended JSON out of the API: documents leave as relaxed
//! Extended JSON, where a number JSON cannot hold (NaN, ±inf) is
//! `{"$numberDouble": "NaN"}` (`"Infinity"`, `"-Infinity"`): the one encoding
//! the API uses everywhere, series values included. Filters, sorts and
//! pipelines come in through the command line's parser,
//! [`yamlett_cli::json`].

use serde_json::Value;
use yamlett::bson::Bson;

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
}
