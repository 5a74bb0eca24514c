//! The JSON API under `/api`: one function per endpoint, each taking the
//! query string's parameters and answering a JSON value or an [`ApiError`].
//! Documents are relaxed Extended JSON: read by the command line's parser
//! ([`yamlett_cli::json`]), written by [`super::ejson`].

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{json, Value};
use yamlett::bson::{doc, Bson, Document};
use yamlett::{Experiment, FindOptions};

use yamlett_cli::json::{self, UsageError};

use super::{ejson, keys, sample, status};

/// The query string's parameters, decoded.
pub type Params = HashMap<String, String>;

/// Rows a runs page holds unless `limit` says otherwise, and at most.
const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 1000;
/// Columns a series is sampled to unless `columns` says otherwise, and at most.
const DEFAULT_COLUMNS: usize = 1000;
const MAX_COLUMNS: usize = 10_000;

/// Why a request got no answer, with the HTTP status it maps to.
#[derive(Debug, PartialEq)]
pub enum ApiError {
    /// 400: the request is wrong (a bad filter, a missing parameter); the
    /// message is the parser's or the query engine's.
    BadRequest(String),
    /// 404: no such experiment, run or series.
    NotFound(String),
    /// 500: the store failed (unreachable, I/O); never caused by the input.
    Store(String),
}

impl ApiError {
    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest(_) => 400,
            ApiError::NotFound(_) => 404,
            ApiError::Store(_) => 500,
        }
    }

    /// The message shown to the user.
    pub fn message(&self) -> &str {
        match self {
            ApiError::BadRequest(m) | ApiError::NotFound(m) | ApiError::Store(m) => m,
        }
    }
}

/// A parse error names the parameter and points at the column (the page
/// shows it in a monospaced, pre-wrapped box, caret line included).
impl From<UsageError> for ApiError {
    fn from(err: UsageError) -> Self {
        ApiError::BadRequest(err.0)
    }
}

/// Sorts a library error into bad input (400), missing (404) or a store
/// failure (500). The library's messages never hold a credential.
fn classify(err: anyhow::Error) -> ApiError {
    match err.downcast_ref::<yamlett::Error>() {
        Some(
            yamlett::Error::InvalidQuery(_)
            | yamlett::Error::InvalidKey { .. }
            | yamlett::Error::InvalidName { .. }
            | yamlett::Error::InvalidValue { .. }
            | yamlett::Error::Conflict { .. },
        ) => ApiError::BadRequest(err.to_string()),
        Some(yamlett::Error::NotFound { .. }) => ApiError::NotFound(err.to_string()),
        _ => ApiError::Store(format!("{err:#}")),
    }
}

/// The API over one store.
pub struct Api {
    uri: Option<String>,
    /// Open experiment handles, by name: opening one per request would
    /// repeat the store's lookups.
    open: Mutex<HashMap<String, Experiment>>,
    /// Every run's keys, by experiment, for `/api/keys`.
    keys: Mutex<HashMap<String, keys::KeyIndex>>,
}

impl Api {
    /// The API over the store at `uri` (default: the library's choice).
    pub fn new(uri: Option<&str>) -> Api {
        Api {
            uri: uri.map(str::to_string),
            open: Mutex::new(HashMap::new()),
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// Answers `GET /api/<endpoint>?<params>`.
    pub fn handle(&self, endpoint: &str, params: &Params) -> Result<Value, ApiError> {
        match endpoint {
            "experiments" => self.experiments(),
            "runs" => self.runs(params),
            "run" => self.run(params),
            "series" => self.series(params),
            "keys" => self.keys(params),
            "aggregate" => self.aggregate(params),
            _ => Err(ApiError::NotFound(format!(
                "no API endpoint /api/{endpoint}"
            ))),
        }
    }

    fn names(&self) -> Result<Vec<String>, ApiError> {
        match &self.uri {
            Some(uri) => yamlett::experiments_in(uri),
            None => yamlett::experiments(),
        }
        .map_err(classify)
    }

    /// The experiment named by the `experiment` parameter; 404 (naming the
    /// experiments there are) when the store has none of that name.
    fn experiment(&self, params: &Params) -> Result<Experiment, ApiError> {
        let name = required(params, "experiment")?;
        if let Some(open) = self
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
        {
            return Ok(open.clone());
        }
        let names = self.names()?;
        if !names.iter().any(|n| n == name) {
            return Err(ApiError::NotFound(format!(
                "experiment {name:?} not found; the store holds: {}",
                if names.is_empty() {
                    "no experiments".to_string()
                } else {
                    names.join(", ")
                }
            )));
        }
        self.open_experiment(name)
    }

    fn open_experiment(&self, name: &str) -> Result<Experiment, ApiError> {
        let mut builder = Experiment::builder().name(name);
        if let Some(uri) = &self.uri {
            builder = builder.uri(uri.clone());
        }
        let experiment = builder.open().map_err(classify)?;
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), experiment.clone());
        Ok(experiment)
    }

    /// `[{"name", "runs", "last_modified"}]`, by name.
    fn experiments(&self) -> Result<Value, ApiError> {
        let mut out = Vec::new();
        for name in self.names()? {
            let experiment = self.open_experiment(&name)?;
            let summary = experiment.summary().map_err(classify)?;
            let runs = summary.runs;
            let last_modified = match summary.last_activity {
                Some(at) => json!(at.try_to_rfc3339_string().ok()),
                None => Value::Null,
            };
            out.push(json!({ "name": name, "runs": runs, "last_modified": last_modified }));
        }
        Ok(Value::Array(out))
    }

    /// `{"total", "runs"}`: one page of the matching runs, sorted and paged
    /// by the store; `total` counts every match.
    fn runs(&self, params: &Params) -> Result<Value, ApiError> {
        let experiment = self.experiment(params)?;
        let filter = document(params, "filter")?;
        let sort = document(params, "sort")?;
        let limit = integer(params, "limit", DEFAULT_LIMIT)?.clamp(1, MAX_LIMIT);
        let skip = integer(params, "skip", 0)?;
        let mut options = FindOptions::new().limit(limit).skip(skip);
        if !sort.is_empty() {
            options = options.sort(sort);
        }
        if let Some(fields) = params.get("fields").filter(|f| !f.trim().is_empty()) {
            options = options.projection(projection(fields)?);
        }
        // One read for the page and its total: the embedded store scans the
        // runs once, ranking each match by its sort key alone.
        let page = experiment.find_page(filter, options).map_err(classify)?;
        let total = page.total;
        let runs: Vec<Value> = page
            .runs
            .into_iter()
            .map(|run| run_json(&experiment, run))
            .collect();
        Ok(json!({ "total": total, "runs": runs }))
    }

    /// The run document; 404 when there is none with that id.
    fn run(&self, params: &Params) -> Result<Value, ApiError> {
        let experiment = self.experiment(params)?;
        let run = find_run(&experiment, required(params, "id")?)?;
        Ok(run_json(&experiment, run))
    }

    /// `{"steps", "values", "times"}`: the M4 sample of a series
    /// (`Experiment::series_sampled`), or of a numeric list stored with
    /// `push`, within `from..=to`.
    fn series(&self, params: &Params) -> Result<Value, ApiError> {
        let experiment = self.experiment(params)?;
        let id = required(params, "id")?;
        let key = required(params, "key")?;
        let columns =
            (integer(params, "columns", DEFAULT_COLUMNS as u64)? as usize).clamp(1, MAX_COLUMNS);
        let from = signed(params, "from")?;
        let to = signed(params, "to")?;
        let range = match (from, to) {
            (None, None) => None,
            (from, to) => Some(from.unwrap_or(i64::MIN)..=to.unwrap_or(i64::MAX)),
        };
        let run = find_run(&experiment, id)?;
        if is_series(&run, key) {
            let series = experiment
                .series_sampled(id, key, columns, range)
                .map_err(classify)?;
            let times: Vec<i64> = series.times.iter().map(|t| t.timestamp_millis()).collect();
            return Ok(points_json(series.steps, series.values, times));
        }
        let list = match yamlett_cli::keys::lookup(&run, key) {
            Some(Bson::Array(list)) => list,
            _ => {
                return Err(ApiError::NotFound(format!(
                    "run {id:?} has no series or numeric list under {key:?}"
                )))
            }
        };
        let values: Vec<f64> = list
            .iter()
            .map(|v| number(Some(v)))
            .collect::<Option<_>>()
            .ok_or_else(|| {
                ApiError::BadRequest(format!("{key:?} holds a list that is not all numbers"))
            })?;
        let points = sample::m4(&values, columns, range);
        Ok(points_json(points.steps, points.values, Vec::new()))
    }

    /// `[{"key", "types", "runs"}]`: the dotted keys of every run of the
    /// experiment, from its [`keys::KeyIndex`], brought up to date first.
    fn keys(&self, params: &Params) -> Result<Value, ApiError> {
        let experiment = self.experiment(params)?;
        // One lock for all experiments: a refresh is one `$group` when
        // nothing changed, and two page loads asking at once for a cold
        // index should not both read every run.
        let mut indexes = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let index = indexes.entry(experiment.name().to_string()).or_default();
        index.refresh(&experiment).map_err(classify)?;
        let stats = index.stats();
        drop(indexes);
        Ok(Value::Array(
            stats
                .into_iter()
                .map(|(key, s)| json!({ "key": key, "types": s.types, "runs": s.runs }))
                .collect(),
        ))
    }

    /// `[document, …]`: the pipeline's results.
    fn aggregate(&self, params: &Params) -> Result<Value, ApiError> {
        let experiment = self.experiment(params)?;
        let pipeline = json::parse_pipeline("pipeline", required(params, "pipeline")?)?;
        let out = experiment.aggregate(pipeline).map_err(classify)?;
        Ok(Value::Array(
            out.into_iter()
                .map(|d| ejson::to_json(Bson::Document(d)))
                .collect(),
        ))
    }
}

fn find_run(experiment: &Experiment, id: &str) -> Result<Document, ApiError> {
    experiment
        .find_one(doc! { "_id": id })
        .map_err(classify)?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "run {id:?} not found in experiment {:?}",
                experiment.name()
            ))
        })
}

/// Whether `key` is one of the run's series (listed in `_yamlett.series`).
fn is_series(run: &Document, key: &str) -> bool {
    run.get_document("_yamlett")
        .ok()
        .and_then(|meta| meta.get_array("series").ok())
        .is_some_and(|keys| keys.iter().any(|k| k.as_str() == Some(key)))
}

/// `{"steps", "values", "times"}`: values in the one non-finite encoding,
/// times in milliseconds since the Unix epoch (empty for a pushed list).
fn points_json(steps: Vec<i64>, values: Vec<f64>, times: Vec<i64>) -> Value {
    json!({
        "steps": steps,
        "values": values.into_iter().map(ejson::double).collect::<Vec<_>>(),
        "times": times,
    })
}

/// A run as the page receives it: its status decided by [`status`].
fn run_json(experiment: &Experiment, mut run: Document) -> Value {
    status::apply(experiment, &mut run);
    ejson::to_json(Bson::Document(run))
}

/// The projection for `fields=a.b,c`: those keys, the id and what the
/// status rule and the table need; a key under another chosen key is
/// dropped (MongoDB refuses both `a` and `a.b`).
fn projection(fields: &str) -> Result<Document, ApiError> {
    let mut keys: Vec<&str> = status::STATUS_FIELDS.to_vec();
    keys.extend(["_yamlett.created_at", "_yamlett.last_modified_at"]);
    for field in fields.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        if field.starts_with('$') || field.split('.').any(str::is_empty) {
            return Err(ApiError::BadRequest(format!(
                "fields: {field:?} is not a dotted key"
            )));
        }
        keys.push(field);
    }
    keys.sort_unstable();
    keys.dedup();
    let mut projection = doc! { "_id": 1 };
    for key in &keys {
        let covered = keys.iter().any(|other| {
            key.len() > other.len() && key.starts_with(other) && key.as_bytes()[other.len()] == b'.'
        });
        if !covered && *key != "_id" {
            projection.insert(*key, 1);
        }
    }
    Ok(projection)
}

fn number(value: Option<&Bson>) -> Option<f64> {
    match value? {
        Bson::Double(v) => Some(*v),
        Bson::Int32(v) => Some(f64::from(*v)),
        Bson::Int64(v) => Some(*v as f64),
        _ => None,
    }
}

fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, ApiError> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::BadRequest(format!("missing parameter `{name}`")))
}

/// A filter or sort parameter; absent or blank is `{}` (match all, no
/// sort), as the page sends an empty box.
fn document(params: &Params, name: &str) -> Result<Document, ApiError> {
    match params.get(name).filter(|text| !text.trim().is_empty()) {
        None => Ok(Document::new()),
        Some(text) => Ok(json::parse_document(name, text)?),
    }
}

fn integer(params: &Params, name: &str, default: u64) -> Result<u64, ApiError> {
    match params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(text) => text.parse().map_err(|_| {
            ApiError::BadRequest(format!(
                "`{name}` must be a non-negative integer, not {text:?}"
            ))
        }),
    }
}

fn signed(params: &Params, name: &str) -> Result<Option<i64>, ApiError> {
    match params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| {
            ApiError::BadRequest(format!("`{name}` must be an integer step, not {text:?}"))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_keeps_what_the_table_needs_without_collisions() {
        let p = projection("params.C, _yamlett,metrics.f1").unwrap();
        assert_eq!(
            p,
            doc! { "_id": 1, "_yamlett": 1, "metrics.f1": 1, "params.C": 1 }
        );
        assert!(matches!(projection("$where"), Err(ApiError::BadRequest(_))));
        assert!(matches!(projection("a..b"), Err(ApiError::BadRequest(_))));
    }

    #[test]
    fn blank_documents_match_all_and_bad_ones_say_where() {
        let mut params = Params::new();
        assert_eq!(document(&params, "filter"), Ok(Document::new()));
        params.insert("filter".into(), " ".into());
        assert_eq!(document(&params, "filter"), Ok(Document::new()));
        params.insert("filter".into(), r#"{"a": }"#.into());
        let Err(ApiError::BadRequest(message)) = document(&params, "filter") else {
            panic!("a bad filter is a 400");
        };
        assert!(message.contains("filter is not valid JSON"), "{message}");
        assert!(message.contains("line 1, column 7"), "{message}");
    }
}
