//! Hostile input across the whole API, on both stores: every case must be a
//! typed error, never a panic, and must leave the stored run and the
//! experiment exactly as they were.

mod common;

use std::collections::BTreeMap;

use bson::{doc, Bson, Document};
use common::unique;
use yamlett::{Error, Experiment, Run};

/// What a hostile call must fail with.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Key,
    Value,
    Name,
    Query,
    Conflict,
    TooLarge,
    Artifact,
    NotFound,
    Config,
}

impl Expect {
    fn matches(self, err: &Error) -> bool {
        matches!(
            (self, err),
            (Expect::Key, Error::InvalidKey { .. })
                | (Expect::Value, Error::InvalidValue { .. })
                | (Expect::Name, Error::InvalidName { .. })
                | (Expect::Query, Error::InvalidQuery(_))
                | (Expect::Conflict, Error::Conflict { .. })
                | (Expect::TooLarge, Error::DocumentTooLarge { .. })
                | (Expect::Artifact, Error::Artifact { .. })
                | (Expect::NotFound, Error::NotFound { .. })
                | (Expect::Config, Error::Config { .. })
        )
    }
}

struct Target<'a> {
    uri: &'a str,
    run: &'a Run,
    experiment: &'a Experiment,
}

type Call = Box<dyn Fn(&Target) -> anyhow::Result<()>>;

fn map_with_key(key: &str) -> BTreeMap<String, i32> {
    [(key.to_owned(), 1)].into_iter().collect()
}

fn nested_depth(depth: usize) -> Bson {
    (0..depth).fold(Bson::Int32(1), |inner, _| {
        Bson::Document(doc! { "d": inner })
    })
}

fn cases() -> Vec<(String, Expect, Call)> {
    let mut cases: Vec<(String, Expect, Call)> = Vec::new();
    let bad_keys = [
        "",
        ".",
        "..",
        "a.",
        ".a",
        "a..b",
        "$",
        "$set",
        "a.$b",
        "a\0b",
        "_id",
        "_id.x",
        "_yamlett",
        "_yamlett.status",
    ];
    for key in bad_keys {
        cases.push((
            format!("store key {key:?}"),
            Expect::Key,
            Box::new(move |t| t.run.store(key, 1)),
        ));
        cases.push((
            format!("push key {key:?}"),
            Expect::Key,
            Box::new(move |t| t.run.push(key, 1)),
        ));
        cases.push((
            format!("artifact key {key:?}"),
            Expect::Key,
            Box::new(move |t| t.run.store_artifact(key, &1)),
        ));
    }
    for key in ["", "$x", "a\0b"] {
        cases.push((
            format!("load_artifact key {key:?}"),
            Expect::Key,
            Box::new(move |t| t.run.load_artifact::<i32>(key).map(drop)),
        ));
    }
    let bad_nested = ["layer.1.weight", "$where", "", "nul\0"];
    for nested in bad_nested {
        cases.push((
            format!("nested field name {nested:?}"),
            Expect::Value,
            Box::new(move |t| t.run.store("state", map_with_key(nested))),
        ));
        cases.push((
            format!("nested field name {nested:?} inside an array"),
            Expect::Value,
            Box::new(move |t| t.run.store("states", vec![map_with_key(nested)])),
        ));
    }
    cases.push((
        "a value nested 150 levels deep".into(),
        Expect::Value,
        Box::new(|t| t.run.store("deep", nested_depth(150))),
    ));
    cases.push((
        "a key of 101 segments".into(),
        Expect::Key,
        Box::new(|t| t.run.store(&vec!["k"; 101].join("."), 1)),
    ));
    cases.push((
        "u64 above i64::MAX".into(),
        Expect::Value,
        Box::new(|t| t.run.store("n", u64::MAX)),
    ));
    cases.push((
        "u64 pushed".into(),
        Expect::Value,
        Box::new(|t| t.run.push("n", u64::MAX)),
    ));
    cases.push((
        "map with tuple keys".into(),
        Expect::Value,
        Box::new(|t| {
            t.run
                .store("m", [((1, 2), 3)].into_iter().collect::<BTreeMap<_, _>>())
        }),
    ));
    cases.push((
        "map with integer keys inside a struct field".into(),
        Expect::Value,
        Box::new(|t| {
            t.run.store(
                "m",
                vec![[(vec![1u8], 3)].into_iter().collect::<BTreeMap<_, _>>()],
            )
        }),
    ));
    cases.push((
        "a document past 16 MiB".into(),
        Expect::TooLarge,
        Box::new(|t| t.run.store("huge", "x".repeat(16 * 1024 * 1024 + 1))),
    ));
    cases.push((
        "a push past 16 MiB".into(),
        Expect::TooLarge,
        Box::new(|t| t.run.push("huge_list", "x".repeat(16 * 1024 * 1024 + 1))),
    ));
    cases.push((
        "store below a scalar".into(),
        Expect::Conflict,
        Box::new(|t| t.run.store("kept.x", 1)),
    ));
    cases.push((
        "push to a scalar".into(),
        Expect::Conflict,
        Box::new(|t| t.run.push("kept", 1)),
    ));
    cases.push((
        "push to a document".into(),
        Expect::Conflict,
        Box::new(|t| t.run.push("nested", 1)),
    ));
    for id in ["", "nul\0id"] {
        cases.push((
            format!("run id {id:?}"),
            Expect::Name,
            Box::new(move |t| Run::builder().uri(t.uri).id(id).open().map(drop)),
        ));
    }
    cases.push((
        "run id of 2000 bytes".into(),
        Expect::Name,
        Box::new(|t| {
            Run::builder()
                .uri(t.uri)
                .id("r".repeat(2000))
                .open()
                .map(drop)
        }),
    ));
    for name in [
        "",
        "a$b",
        "nul\0",
        "system.users",
        "_yamlett_artifacts.files",
        &"e".repeat(300),
    ] {
        let name = name.to_owned();
        cases.push((
            format!("experiment name {:?}", &name[..name.len().min(20)]),
            Expect::Name,
            Box::new(move |t| {
                Experiment::builder()
                    .uri(t.uri)
                    .name(name.clone())
                    .open()
                    .map(drop)
            }),
        ));
    }
    let bad_filters = [
        doc! { "$bogus": 1 },
        doc! { "a": { "$bogus": 1 } },
        doc! { "$and": 1 },
        doc! { "$and": [] },
        doc! { "$or": [1] },
        doc! { "a": { "$in": 5 } },
        doc! { "a": { "$nin": "x" } },
        doc! { "a": { "$size": -1 } },
        doc! { "a": { "$size": "x" } },
        doc! { "a": { "$regex": "(" } },
        doc! { "a": { "$mod": [0, 1] } },
        doc! { "a": { "$mod": [1] } },
        doc! { "a": { "$all": 1 } },
        doc! { "a": { "$elemMatch": 1 } },
        // Not `{ "$exists": true, "$bogus": 1 }`: mongod refuses it, but the
        // SecantusDB test server accepts it (the embedded store refuses it).
        doc! { "a": { "$not": 5 } },
        doc! { "$expr": { "$bogus": 1 } },
        doc! { "$where": "true" },
    ];
    for filter in bad_filters {
        cases.push((
            format!("filter {filter}"),
            Expect::Query,
            Box::new(move |t| t.experiment.find(filter.clone()).map(drop)),
        ));
    }
    let bad_pipelines: Vec<Vec<Document>> = vec![
        vec![doc! { "$bogus": {} }],
        vec![doc! {}],
        vec![doc! { "$match": {}, "$limit": 1 }],
        vec![doc! { "$group": { "n": { "$sum": 1 } } }],
        vec![doc! { "$group": { "_id": null, "x": { "$bogus": 1 } } }],
        vec![doc! { "$limit": -1 }],
        vec![doc! { "$limit": 0 }],
        vec![doc! { "$skip": "x" }],
        vec![doc! { "$unwind": 5 }],
        vec![doc! { "$unwind": "no_dollar" }],
        vec![doc! { "$project": { "a": 1, "b": 0 } }],
        vec![doc! { "$sort": { "a": 2 } }],
        vec![doc! { "$sort": {} }],
        vec![doc! { "$count": "" }],
        vec![doc! { "$count": "$x" }],
        vec![doc! { "$match": 5 }],
        vec![doc! { "$project": { "x": { "$bogus": 1 } } }],
        vec![doc! { "$project": { "x": { "$divide": [1, 0] } } }],
        vec![doc! { "$project": { "x": { "$size": "$kept" } } }],
    ];
    for pipeline in bad_pipelines {
        cases.push((
            format!("pipeline {pipeline:?}"),
            Expect::Query,
            Box::new(move |t| t.experiment.aggregate(pipeline.clone()).map(drop)),
        ));
    }
    cases.push((
        "artifact loaded as the wrong type".into(),
        Expect::Artifact,
        Box::new(|t| t.run.load_artifact::<Vec<String>>("model").map(drop)),
    ));
    cases.push((
        "artifact loaded from a plain value".into(),
        Expect::Artifact,
        Box::new(|t| t.run.load_artifact::<i32>("kept").map(drop)),
    ));
    cases.push((
        "missing artifact".into(),
        Expect::NotFound,
        Box::new(|t| t.run.load_artifact::<i32>("nope").map(drop)),
    ));
    for uri in ["http://example.com", "", "   ", "ftp://x/y"] {
        cases.push((
            format!("store URI {uri:?}"),
            Expect::Config,
            Box::new(move |_| Run::builder().uri(uri).open().map(drop)),
        ));
    }
    cases.push((
        "mongodb URI with a bad port".into(),
        Expect::Config,
        Box::new(|_| {
            Run::builder()
                .uri("mongodb://localhost:notaport")
                .open()
                .map(drop)
        }),
    ));
    cases.push((
        "mongodb URI without a host".into(),
        Expect::Config,
        Box::new(|_| Run::builder().uri("mongodb://").open().map(drop)),
    ));
    cases
}

/// What must not change: the run without its timestamps, and the number of
/// runs in the experiment.
fn snapshot(t: &Target) -> (Document, u64) {
    let mut data = t.run.data().expect("run data");
    if let Ok(meta) = data.get_document_mut("_yamlett") {
        meta.remove("last_modified_at");
    }
    (data, t.experiment.count(doc! {}).expect("count"))
}

on_both_stores!(
    every_hostile_call_is_a_typed_error_and_changes_nothing,
    |uri| {
        let name = unique("hostile");
        let run = Run::builder().uri(uri).experiment(&name).open()?;
        run.store("kept", 1)?;
        run.store("nested", doc! { "a": 1 })?;
        run.store_artifact("model", &(1_u8, 2.5_f64))?;
        let experiment = Experiment::builder().uri(uri).name(&name).open()?;
        let target = Target {
            uri,
            run: &run,
            experiment: &experiment,
        };
        let before = snapshot(&target);
        let cases = cases();
        assert!(cases.len() >= 60, "only {} cases", cases.len());
        let mut failures = Vec::new();
        for (case, expect, call) in &cases {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| call(&target)));
            match outcome {
                Err(_) => failures.push(format!("{case}: panicked")),
                Ok(Ok(())) => failures.push(format!("{case}: was accepted")),
                Ok(Err(err)) => match err.downcast_ref::<Error>() {
                    Some(kind) if expect.matches(kind) => {}
                    _ => failures.push(format!("{case}: expected {expect:?}, got {err:#}")),
                },
            }
            if snapshot(&target) != before {
                failures.push(format!("{case}: changed the stored data"));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} cases failed:\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n")
        );
        println!("{} hostile calls refused, nothing changed", cases.len());
        Ok(())
    }
);

/// Inputs nested far deeper than any stack can recurse.
const HOSTILE_LEVELS: usize = 100_000;

/// `seed` wrapped `levels` times, built without recursion.
fn wrapped(levels: usize, seed: Bson, wrap: impl Fn(Bson) -> Bson) -> Bson {
    (0..levels).fold(seed, |inner, _| wrap(inner))
}

fn document(value: Bson) -> Document {
    match value {
        Bson::Document(doc) => doc,
        other => panic!("not a document: {other:?}"),
    }
}

fn deep_and() -> Document {
    document(wrapped(
        HOSTILE_LEVELS,
        Bson::Document(doc! { "x": 1 }),
        |inner| Bson::Document(doc! { "$and": [inner] }),
    ))
}

fn deep_add() -> Bson {
    wrapped(HOSTILE_LEVELS, Bson::Int32(1), |inner| {
        Bson::Document(doc! { "$add": [inner, 1] })
    })
}

/// A user type as deep as it is long.
#[derive(serde::Serialize)]
struct Chain {
    next: Option<Box<Chain>>,
}

impl Drop for Chain {
    /// Frees the chain without recursing, as a type meant to be this deep
    /// has to.
    fn drop(&mut self) {
        let mut next = self.next.take();
        while let Some(mut link) = next {
            next = link.next.take();
        }
    }
}

/// Calls on inputs nested 100,000 levels deep (a stored value also 20,000),
/// each on a thread with a 256 KiB stack: each must be a typed error, with
/// no stack overflow (which would abort the whole test process).
/// A call that can run on a thread of its own.
type DeepCall = Box<dyn Fn(&Target) -> anyhow::Result<()> + Send + Sync>;

fn deep_cases() -> Vec<(&'static str, Expect, DeepCall)> {
    let deep_value = |levels| {
        wrapped(levels, Bson::Int32(1), |inner| {
            Bson::Document(doc! { "d": inner })
        })
    };
    let deep_array = || {
        wrapped(HOSTILE_LEVELS, Bson::Int32(1), |inner| {
            Bson::Array(vec![inner])
        })
    };
    vec![
        (
            "find, $and nested",
            Expect::Query,
            Box::new(|t| t.experiment.find(deep_and()).map(drop)),
        ),
        (
            "find_one, $and nested",
            Expect::Query,
            Box::new(|t| t.experiment.find_one(deep_and()).map(drop)),
        ),
        (
            "count, $and nested",
            Expect::Query,
            Box::new(|t| t.experiment.count(deep_and()).map(drop)),
        ),
        (
            "find, $expr of $add nested",
            Expect::Query,
            Box::new(|t| {
                t.experiment
                    .find(doc! { "$expr": { "$eq": [deep_add(), 2] } })
                    .map(drop)
            }),
        ),
        (
            "find, a nested sort",
            Expect::Query,
            Box::new(move |t| {
                let sort = document(deep_value(HOSTILE_LEVELS));
                t.experiment
                    .find_with(doc! {}, yamlett::FindOptions::new().sort(sort))
                    .map(drop)
            }),
        ),
        (
            "find, a nested projection",
            Expect::Query,
            Box::new(move |t| {
                let projection = doc! { "p": deep_value(HOSTILE_LEVELS) };
                t.experiment
                    .find_with(doc! {}, yamlett::FindOptions::new().projection(projection))
                    .map(drop)
            }),
        ),
        (
            "aggregate, $project of $add nested",
            Expect::Query,
            Box::new(|t| {
                t.experiment
                    .aggregate([doc! { "$project": { "x": deep_add() } }])
                    .map(drop)
            }),
        ),
        (
            "aggregate, $match of $and nested",
            Expect::Query,
            Box::new(|t| {
                t.experiment
                    .aggregate([doc! { "$match": {} }, doc! { "$match": deep_and() }])
                    .map(drop)
            }),
        ),
        (
            "aggregate, $group of an array nested",
            Expect::Query,
            Box::new(move |t| {
                t.experiment
                    .aggregate([doc! { "$group": { "_id": deep_array() } }])
                    .map(drop)
            }),
        ),
        (
            "store, a value nested 20,000 levels",
            Expect::Value,
            Box::new(move |t| {
                let value = deep_value(20_000);
                let result = t.run.store("deep", &value);
                yamlett_query::depth::drop_deep(value);
                result
            }),
        ),
        (
            "store, a value nested 100,000 levels",
            Expect::Value,
            Box::new(move |t| {
                let value = deep_value(HOSTILE_LEVELS);
                let result = t.run.store("deep", &value);
                yamlett_query::depth::drop_deep(value);
                result
            }),
        ),
        (
            "push, an array nested 100,000 levels",
            Expect::Value,
            Box::new(move |t| {
                let value = deep_array();
                let result = t.run.push("deep", &value);
                yamlett_query::depth::drop_deep(value);
                result
            }),
        ),
        (
            "store in a guard, a user type nested 20,000 levels",
            Expect::Value,
            Box::new(|t| {
                let chain = (0..20_000).fold(Chain { next: None }, |inner, _| Chain {
                    next: Some(Box::new(inner)),
                });
                let _guard = t.run.enter();
                t.run.store("chain", &chain)
            }),
        ),
    ]
}

on_both_stores!(deep_nesting_is_a_typed_error_on_a_small_stack, |uri| {
    let name = unique("deep");
    let run = Run::builder().uri(uri).experiment(&name).open()?;
    run.store("kept", 1)?;
    let experiment = Experiment::builder().uri(uri).name(&name).open()?;
    let target = Target {
        uri,
        run: &run,
        experiment: &experiment,
    };
    let before = snapshot(&target);
    let mut failures = Vec::new();
    for (case, expect, call) in deep_cases() {
        let outcome = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn_scoped(scope, || {
                    call(&target).map_err(|err| {
                        let matched = err
                            .downcast_ref::<Error>()
                            .is_some_and(|kind| expect.matches(kind));
                        (matched, format!("{err:#}"))
                    })
                })
                .expect("spawn")
                .join()
        });
        match outcome {
            Err(_) => failures.push(format!("{case}: panicked")),
            Ok(Ok(())) => failures.push(format!("{case}: was accepted")),
            Ok(Err((true, message))) => assert!(message.contains("levels"), "{case}: {message}"),
            Ok(Err((false, message))) => {
                failures.push(format!("{case}: expected {expect:?}, got {message}"))
            }
        }
        if snapshot(&target) != before {
            failures.push(format!("{case}: changed the stored data"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The store still answers.
    assert_eq!(experiment.count(doc! { "kept": 1 })?, 1);
    Ok(())
});

#[test]
fn an_invalid_query_error_says_its_message_once() -> anyhow::Result<()> {
    let dir = common::local_store();
    let experiment = Experiment::builder()
        .uri(dir.path().to_str().unwrap())
        .name("once")
        .open()?;
    let err = experiment.find(doc! { "$bogus": 1 }).unwrap_err();
    let chain = format!("{err:#}");
    let message = match err.downcast_ref::<Error>() {
        Some(Error::InvalidQuery(query)) => query.message().to_owned(),
        other => panic!("expected InvalidQuery, got {other:?}"),
    };
    assert_eq!(chain.matches(&message).count(), 1, "{chain}");
    assert_eq!(format!("{err:?}").matches(&message).count(), 1, "{err:?}");
    Ok(())
}
