//! The engine's fuzzer: arbitrary BSON filters, updates and pipelines,
//! built from every operator name the engine knows (and some it does not),
//! thrown at arbitrary documents. The only property is robustness: no
//! panic and no hang, whatever the input.
//!
//! It runs for a bounded time, `YAMLETT_FUZZ_SECONDS` (default 10), so CI
//! always runs it; set it higher for a soak. Operator names come from the
//! engine's own tables, so new operators are fuzzed as soon as they exist.
//! A failure prints the case and the seed (`YAMLETT_FUZZ_SEED`) to replay.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bson::{Bson, Document};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use super::aggregate::{stage_names, Env, Pipeline};
use super::expr::operator_names;
use super::filter::Filter;
use super::projection::Projection;
use super::sort::SortSpec;
use super::update::{Update, UpdateContext};
use super::QueryResult;

/// Query and update operators, and names that are no operator at all.
const OTHER_NAMES: &[&str] = &[
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$nin",
    "$and",
    "$or",
    "$nor",
    "$not",
    "$exists",
    "$type",
    "$regex",
    "$options",
    "$mod",
    "$expr",
    "$all",
    "$elemMatch",
    "$size",
    "$set",
    "$unset",
    "$inc",
    "$mul",
    "$min",
    "$max",
    "$rename",
    "$push",
    "$each",
    "$slice",
    "$sort",
    "$position",
    "$addToSet",
    "$pop",
    "$pull",
    "$currentDate",
    "$setOnInsert",
    "$sum",
    "$avg",
    "$first",
    "$last",
    "$count",
    "$bogus",
    "$",
    "$$ROOT",
    "$$CURRENT",
    "$$REMOVE",
    "$$x",
    "$a",
    "$a.b",
    "$a.0",
    "a",
    "a.b",
    "a.0",
    "a.$",
    "a.$[]",
    "b",
    "_id",
    "",
    ".",
    "0",
];

/// Any operator or field name the fuzzer may use.
fn names() -> Vec<&'static str> {
    let mut names = operator_names();
    names.extend(stage_names());
    names.extend(OTHER_NAMES);
    names
}

/// Arbitrary BSON: every scalar type the engine distinguishes, nested in
/// arrays and documents whose keys are operator and field names.
fn value(names: Vec<&'static str>) -> impl Strategy<Value = Bson> {
    let leaf = prop_oneof![
        Just(Bson::Null),
        any::<bool>().prop_map(Bson::Boolean),
        prop_oneof![Just(0), Just(1), Just(-1), Just(i32::MIN), any::<i32>()].prop_map(Bson::Int32),
        prop_oneof![Just(i64::MAX), Just(i64::MIN), any::<i64>()].prop_map(Bson::Int64),
        prop_oneof![
            Just(0.5),
            Just(-0.0),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(1e300),
            any::<f64>()
        ]
        .prop_map(Bson::Double),
        prop_oneof![Just("1.5"), Just("-0"), Just("NaN"), Just("1E+6144")].prop_map(|s| {
            Bson::Decimal128(s.parse().unwrap_or(bson::Decimal128::from_bytes([0; 16])))
        }),
        prop::sample::select(names.clone()).prop_map(|s| Bson::String(s.to_owned())),
        "[a-z.$\\\\^*()\\[]{0,6}".prop_map(Bson::String),
        any::<i64>().prop_map(|ms| Bson::DateTime(bson::DateTime::from_millis(ms / 1000))),
        Just(Bson::RegularExpression(bson::Regex {
            pattern: "^a".try_into().expect("a valid C string"),
            options: "i".try_into().expect("a valid C string"),
        })),
    ];
    leaf.prop_recursive(4, 40, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Bson::Array),
            prop::collection::vec((prop::sample::select(names.clone()), inner), 0..4).prop_map(
                |fields| Bson::Document(
                    fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )
            ),
        ]
    })
}

fn document(names: Vec<&'static str>) -> impl Strategy<Value = Document> {
    prop::collection::vec((prop::sample::select(names.clone()), value(names)), 0..5)
        .prop_map(|fields| fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// One case: documents, and a filter, an update, a projection, a sort and
/// a pipeline to throw at them.
#[derive(Debug, Clone)]
struct Case {
    docs: Vec<Document>,
    filter: Document,
    update: Document,
    projection: Document,
    pipeline: Vec<Document>,
}

fn case() -> impl Strategy<Value = Case> {
    let n = names();
    let stages = stage_names();
    let stage = (prop::sample::select(stages), value(n.clone())).prop_map(|(name, arg)| {
        let mut stage = Document::new();
        stage.insert(name, arg);
        stage
    });
    (
        prop::collection::vec(document(n.clone()), 0..4),
        document(n.clone()),
        document(n.clone()),
        document(n),
        prop::collection::vec(stage, 0..4),
    )
        .prop_map(|(docs, filter, update, projection, pipeline)| Case {
            docs,
            filter,
            update,
            projection,
            pipeline,
        })
}

/// Runs one case through every entry point of the engine.
fn exercise(case: &Case) {
    if let Ok(filter) = Filter::parse(&case.filter) {
        for doc in &case.docs {
            let _ = filter.matches(doc);
            if let Ok(raw) = bson::RawDocumentBuf::try_from(doc) {
                let _ = filter.matches_raw(&raw);
            }
        }
    }
    if let Ok(update) = Update::parse(&case.update) {
        for (i, doc) in case.docs.iter().enumerate() {
            let context = UpdateContext {
                is_insert: i % 2 == 0,
                now: bson::DateTime::from_millis(0),
            };
            let _ = update.apply(&mut doc.clone(), &context);
        }
    }
    if let Ok(projection) = Projection::parse(&case.projection) {
        for doc in &case.docs {
            let _ = projection.apply(doc);
        }
    }
    if let Ok(sort) = SortSpec::parse(&case.projection) {
        let mut docs = case.docs.clone();
        docs.sort_by(|a, b| sort.compare(a, b));
    }
    if let Ok(pipeline) = Pipeline::parse(&case.pipeline) {
        let decoded = pipeline.run(case.docs.clone().into_iter());
        group_raw_agrees(&pipeline, &case.docs, &decoded);
    }
}

/// A leading `$group` fed raw documents (as the embedded store feeds it)
/// outputs what the pipeline outputs over decoded ones, when both succeed.
fn group_raw_agrees(pipeline: &Pipeline, docs: &[Document], decoded: &QueryResult<Vec<Document>>) {
    let env = Env::default();
    let Some(mut feed) = pipeline.leading_group(&env) else {
        return;
    };
    // Random and clock-reading pipelines differ between any two runs.
    let text = format!("{pipeline:?}");
    if ["$rand", "$sample", "NOW", "CLUSTER_TIME"]
        .iter()
        .any(|word| text.contains(word))
    {
        return;
    }
    let raw = docs
        .iter()
        .filter_map(|doc| bson::RawDocumentBuf::try_from(doc).ok())
        .try_for_each(|raw| feed.add_raw(&raw))
        .and_then(|()| feed.finish())
        .and_then(|groups| pipeline.run_after_first(groups.into_iter(), &env));
    if let (Ok(decoded), Ok(raw)) = (decoded, &raw) {
        if docs
            .iter()
            .all(|doc| bson::RawDocumentBuf::try_from(doc).is_ok())
        {
            // Debug strings, so that NaN equals NaN.
            assert_eq!(
                format!("{decoded:?}"),
                format!("{raw:?}"),
                "raw $group differs"
            );
        }
    }
}

#[test]
fn the_engine_survives_arbitrary_queries() {
    let seconds: u64 = std::env::var("YAMLETT_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let seed: u64 = std::env::var("YAMLETT_FUZZ_SEED")
        .ok()
        .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        });
    let deadline = Duration::from_secs(seconds);
    // The case being run, for the report if it panics or hangs.
    let current: Arc<Mutex<Option<Case>>> = Arc::default();
    let worker_current = Arc::clone(&current);
    let worker = std::thread::spawn(move || {
        let mut bytes = [0_u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
        let mut runner = TestRunner::new_with_rng(Config::default(), rng);
        let strategy = case();
        let start = Instant::now();
        let mut cases = 0_u64;
        while start.elapsed() < deadline {
            let Ok(tree) = strategy.new_tree(&mut runner) else {
                continue;
            };
            let case = tree.current();
            *worker_current
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(case.clone());
            exercise(&case);
            cases += 1;
        }
        cases
    });
    // A case may take a while on a busy machine, but never this long.
    let grace = Duration::from_secs(60);
    let give_up = Instant::now() + deadline + grace;
    while !worker.is_finished() {
        assert!(
            Instant::now() < give_up,
            "the engine hangs (seed {seed:x}) on {:?}",
            current.lock().unwrap_or_else(PoisonError::into_inner)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    match worker.join() {
        Ok(cases) => eprintln!("fuzz: {cases} cases in {seconds} s, seed {seed:x}, no panic"),
        Err(_) => panic!(
            "the engine panicked (seed {seed:x}; replay with YAMLETT_FUZZ_SEED={seed:x}) on {:?}",
            current.lock().unwrap_or_else(PoisonError::into_inner)
        ),
    }
}
