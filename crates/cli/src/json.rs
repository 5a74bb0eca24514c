//! MongoDB documents as people type them: relaxed Extended JSON, as
//! `mongoexport --query` and `mongosh` take them (`{"metrics.f1": {"$gt":
//! 0.9}}`, `{"_yamlett.created_at": {"$gte": {"$date": "2026-01-01T00:00:00Z"}}}`),
//! and documents written back out the same way.
//!
//! A parse error says where the text went wrong (line and column, with the
//! line and a caret), because FILTER arguments are typed by hand in a shell.

use std::fmt;

use yamlett::bson::{Bson, Document};

/// Bad input on the command line: a FILTER that is not JSON, a sort that is
/// not a document… The command exits with status 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Parses `text` as one document in relaxed (or canonical) Extended JSON.
/// `what` names the argument in errors (`FILTER`, `--sort`).
///
/// ```
/// use yamlett_cli::json::parse_document;
/// let filter = parse_document("FILTER", r#"{"metrics.f1": {"$gte": 0.9}, "n": {"$numberLong": "5"}}"#)?;
/// assert_eq!(filter.get_document("metrics.f1")?.get_f64("$gte")?, 0.9);
/// assert_eq!(filter.get_i64("n")?, 5);
///
/// let err = parse_document("FILTER", "{\"a\": 1,\n \"b\" 2}").unwrap_err();
/// assert!(err.0.contains("line 2, column 6"), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn parse_document(what: &str, text: &str) -> Result<Document, UsageError> {
    match parse_value(what, text)? {
        Bson::Document(doc) => Ok(doc),
        other => Err(UsageError(format!(
            "{what} must be a JSON object ({{…}}), not {}",
            kind(&other)
        ))),
    }
}

/// Parses `text` as an aggregation pipeline: a JSON array of stage
/// documents (one stage document alone is a pipeline of one stage).
///
/// ```
/// use yamlett_cli::json::parse_pipeline;
/// let pipeline = parse_pipeline("PIPELINE", r#"[{"$match": {}}, {"$count": "n"}]"#)?;
/// assert_eq!(pipeline.len(), 2);
/// assert!(parse_pipeline("PIPELINE", "[1]").is_err());
/// # Ok::<(), yamlett_cli::json::UsageError>(())
/// ```
pub fn parse_pipeline(what: &str, text: &str) -> Result<Vec<Document>, UsageError> {
    match parse_value(what, text)? {
        Bson::Document(stage) => Ok(vec![stage]),
        Bson::Array(stages) => stages
            .into_iter()
            .enumerate()
            .map(|(i, stage)| match stage {
                Bson::Document(stage) => Ok(stage),
                other => Err(UsageError(format!(
                    "{what}: stage {i} must be a JSON object, not {}",
                    kind(&other)
                ))),
            })
            .collect(),
        other => Err(UsageError(format!(
            "{what} must be a JSON array of stages ([{{…}}, …]), not {}",
            kind(&other)
        ))),
    }
}

/// A document as one line of relaxed Extended JSON (JSON Lines).
pub fn to_line(doc: &Document) -> String {
    Bson::Document(doc.clone())
        .into_relaxed_extjson()
        .to_string()
}

/// A document as indented relaxed Extended JSON.
pub fn to_pretty(doc: &Document) -> String {
    let value = Bson::Document(doc.clone()).into_relaxed_extjson();
    serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
}

/// Any value as compact relaxed Extended JSON.
pub fn value_text(value: &Bson) -> String {
    value.clone().into_relaxed_extjson().to_string()
}

fn parse_value(what: &str, text: &str) -> Result<Bson, UsageError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|err| syntax_error(what, text, &err))?;
    Bson::try_from(value).map_err(|err| UsageError(format!("{what}: invalid Extended JSON: {err}")))
}

/// Says where the JSON went wrong: the message, the position, the line and
/// a caret under the column.
fn syntax_error(what: &str, text: &str, err: &serde_json::Error) -> UsageError {
    let (line, column) = (err.line(), err.column());
    let message = err.to_string();
    // serde_json appends " at line L column C"; the position is given below.
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(head, _)| head);
    let mut out = format!("{what} is not valid JSON: {message} at line {line}, column {column}");
    if let Some(source) = text.lines().nth(line.saturating_sub(1)) {
        let (shown, at) = excerpt(source, column.saturating_sub(1));
        let caret = " ".repeat(at);
        out.push_str(&format!("\n  {shown}\n  {caret}^"));
    }
    if text.contains('\'') || looks_unquoted(text) {
        out.push_str(
            "\nkeys and strings need double quotes, e.g. '{\"metrics.f1\": {\"$gt\": 0.9}}'",
        );
    }
    UsageError(out)
}

/// The part of an input line shown under a syntax error, and the place of
/// character `at` in it: the whole line when it is short, else the 60
/// characters before `at` and 20 after, marked `…` where cut (a generated
/// filter can be a megabyte on one line, and the error is printed, logged
/// and sent back by the dashboard).
fn excerpt(line: &str, at: usize) -> (String, usize) {
    const BEFORE: usize = 60;
    const AFTER: usize = 20;
    let chars = line.chars().count();
    let at = at.min(chars);
    let start = at.saturating_sub(BEFORE);
    let end = (at + AFTER).min(chars);
    let mut shown = String::new();
    if start > 0 {
        shown.push('…');
    }
    shown.extend(line.chars().skip(start).take(end - start));
    if end < chars {
        shown.push('…');
    }
    (shown, at - start + usize::from(start > 0))
}

/// `{a: 1}` or `{$gt: 1}`: a mongosh habit JSON does not allow.
fn looks_unquoted(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| {
        (b == b'{' || b == b',')
            && bytes[i + 1..]
                .iter()
                .find(|c| !c.is_ascii_whitespace())
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'$' || *c == b'_')
    })
}

fn kind(value: &Bson) -> &'static str {
    match value {
        Bson::Array(_) => "an array",
        Bson::String(_) => "a string",
        Bson::Boolean(_) => "a boolean",
        Bson::Null => "null",
        Bson::Document(_) => "an object",
        _ => "a number",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_point_at_the_problem() {
        let err = parse_document("FILTER", r#"{"a": }"#).unwrap_err().0;
        assert!(err.starts_with("FILTER is not valid JSON: "), "{err}");
        assert!(err.contains("line 1, column 7"), "{err}");
        assert!(err.contains("\n  {\"a\": }\n        ^"), "{err}");
        let err = parse_document("FILTER", "{a: 1}").unwrap_err().0;
        assert!(err.contains("double quotes"), "{err}");
        let err = parse_document("--sort", "[1]").unwrap_err().0;
        assert_eq!(err, "--sort must be a JSON object ({…}), not an array");
        // A megabyte on one line: the error shows only around the problem.
        let long = format!(
            "{{\"a\": [{}1,, {}2]}}",
            "1, ".repeat(300_000),
            "2, ".repeat(50)
        );
        let err = parse_document("FILTER", &long).unwrap_err().0;
        assert!(err.len() < 400, "{} bytes", err.len());
        let shown: Vec<&str> = err.lines().collect();
        assert!(
            shown[1].starts_with("  …") && shown[1].ends_with('…'),
            "{err}"
        );
        let caret = shown[2].find('^').unwrap();
        assert_eq!(shown[1].chars().nth(caret), Some(','), "{err}");
    }

    #[test]
    fn extended_json_types_and_key_order() {
        let doc = parse_document(
            "SORT",
            r#"{"z": -1, "a": 1, "d": {"$date": "2026-01-02T03:04:05Z"}, "big": 9007199254740993}"#,
        )
        .unwrap();
        assert_eq!(doc.keys().collect::<Vec<_>>(), ["z", "a", "d", "big"]);
        assert!(matches!(doc.get("z"), Some(Bson::Int32(-1))));
        assert!(matches!(doc.get("d"), Some(Bson::DateTime(_))));
        assert!(matches!(
            doc.get("big"),
            Some(Bson::Int64(9007199254740993))
        ));
        assert_eq!(
            to_line(&doc),
            r#"{"z":-1,"a":1,"d":{"$date":"2026-01-02T03:04:05Z"},"big":9007199254740993}"#
        );
    }
}
