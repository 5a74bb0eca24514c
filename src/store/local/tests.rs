//! Tests of the embedded store, each in its own temporary directory.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::thread;

use bson::{doc, spec::BinarySubtype, Binary, Bson, Document};
use rusqlite::Connection;

use super::schema::{APPLICATION_ID, DB_FILE};
use super::*;

/// The yamlett error inside `err`.
fn kind(err: &anyhow::Error) -> &Error {
    err.downcast_ref::<Error>()
        .unwrap_or_else(|| panic!("not a yamlett error: {err:#}"))
}

/// A fresh store in a fresh directory (kept alive by the returned guard).
fn store() -> (tempfile::TempDir, LocalStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    (dir, store)
}

/// Upserts `run_id` with `$set` of `fields`.
fn set(store: &LocalStore, experiment: &str, run_id: &str, fields: Document) {
    store
        .update_run(experiment, run_id, &doc! {}, &doc! { "$set": fields }, true)
        .unwrap();
}

/// The `_id`s of `docs`, in order.
fn ids(docs: &[Document]) -> Vec<&str> {
    docs.iter().map(|d| d.get_str("_id").unwrap()).collect()
}

/// The one run `run_id` of `experiment`.
fn get(store: &LocalStore, experiment: &str, run_id: &str) -> Document {
    let mut found = store
        .find(experiment, &doc! { "_id": run_id }, &FindOptions::new())
        .unwrap();
    assert_eq!(found.len(), 1);
    found.remove(0)
}

#[test]
fn open_creates_directory_and_database_then_reopens() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("nested").join("store");
    let store = LocalStore::open(&dir).unwrap();
    assert!(dir.join(DB_FILE).is_file());
    assert_eq!(store.location(), dir.display().to_string());
    assert!(store.collection("e").is_none());
    set(&store, "e", "r1", doc! { "a": 1 });
    drop(store);

    let reopened = LocalStore::open(&dir).unwrap();
    assert_eq!(get(&reopened, "e", "r1"), doc! { "_id": "r1", "a": 1 });
    let conn = Connection::open(dir.join(DB_FILE)).unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let app: i32 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .unwrap();
    assert_eq!(app, APPLICATION_ID);
}

#[test]
fn an_empty_file_becomes_a_store() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(DB_FILE), b"").unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    set(&store, "e", "r", doc! { "x": 1 });
    assert_eq!(store.count("e", &doc! {}).unwrap(), 1);
}

#[test]
fn a_newer_schema_is_refused_naming_the_version_needed() {
    let dir = tempfile::tempdir().unwrap();
    drop(LocalStore::open(dir.path()).unwrap());
    let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
    conn.pragma_update(None, "user_version", 7).unwrap();
    conn.execute(
        "UPDATE meta SET value = '9.9.9' WHERE key = 'written_by'",
        [],
    )
    .unwrap();
    drop(conn);

    let err = LocalStore::open(dir.path()).unwrap_err();
    let Error::Config { reason } = kind(&err) else {
        panic!("{err:#}")
    };
    assert!(reason.contains("schema version 7"), "{reason}");
    assert!(reason.contains("yamlett 9.9.9 or later"), "{reason}");
}

/// Every file in `dir` with its bytes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// Opening a store whose database path holds `contents` fails with a
/// Config error mentioning `why`, and leaves the directory byte for byte
/// as it was (no `-wal` or `-shm` either).
fn assert_refused_untouched(dir: &Path, why: &str) {
    let before = snapshot(dir);
    let err = LocalStore::open(dir).unwrap_err();
    let Error::Config { reason } = kind(&err) else {
        panic!("{err:#}")
    };
    assert!(reason.contains("is not a yamlett store"), "{reason}");
    assert!(reason.contains(why), "{reason}");
    assert_eq!(snapshot(dir), before);
}

#[test]
fn a_text_file_is_refused_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(DB_FILE), "my notes\n".repeat(50)).unwrap();
    assert_refused_untouched(dir.path(), "not a SQLite database");
    fs::write(dir.path().join(DB_FILE), "short").unwrap();
    assert_refused_untouched(dir.path(), "too short");
}

#[test]
fn a_foreign_sqlite_database_is_refused_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(conn);
    assert_refused_untouched(dir.path(), "application_id 0x0");

    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "application_id", 1234).unwrap();
    drop(conn);
    assert_refused_untouched(dir.path(), "another application");
}

#[test]
fn a_directory_at_the_database_path_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join(DB_FILE)).unwrap();
    let err = LocalStore::open(dir.path()).unwrap_err();
    assert!(matches!(kind(&err), Error::Config { .. }), "{err:#}");
}

#[test]
fn update_without_upsert_of_a_missing_run_is_not_found() {
    let (_dir, store) = store();
    let err = store
        .update_run("e", "r", &doc! {}, &doc! { "$set": { "a": 1 } }, false)
        .unwrap_err();
    assert!(matches!(kind(&err), Error::NotFound { .. }), "{err:#}");
    assert_eq!(store.count("e", &doc! {}).unwrap(), 0);
}

#[test]
fn upsert_then_update() {
    let (_dir, store) = store();
    let first = doc! {
        "$set": { "params.lr": 0.1, "metrics.f1": 0.5 },
        "$setOnInsert": { "_yamlett.created": "now" },
        "$push": { "losses": { "$each": [3, 2] } },
    };
    store.update_run("e", "r", &doc! {}, &first, true).unwrap();
    let second = doc! {
        "$set": { "metrics.f1": 0.75 },
        "$setOnInsert": { "_yamlett.created": "later" },
        "$push": { "losses": 1 },
    };
    store
        .update_run("e", "r", &doc! {}, &second, false)
        .unwrap();
    assert_eq!(
        get(&store, "e", "r"),
        doc! {
            "_id": "r",
            "params": { "lr": 0.1 },
            "metrics": { "f1": 0.75 },
            "_yamlett": { "created": "now" },
            "losses": [3, 2, 1],
        }
    );
}

#[test]
fn the_json_column_answers_json_extract() {
    let (dir, store) = store();
    set(
        &store,
        "e",
        "r",
        doc! { "metrics": { "f1_score": 0.9 }, "n": 3_i64 },
    );
    let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
    let (f1, json): (f64, String) = conn
        .query_row(
            "SELECT json_extract(json, '$.metrics.f1_score'), json FROM run_documents WHERE id = 'r'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(f1, 0.9);
    // Relaxed Extended JSON, in the document's field order.
    assert_eq!(json, r#"{"_id":"r","metrics":{"f1_score":0.9},"n":3}"#);
}

#[test]
fn an_engine_error_changes_nothing() {
    let (_dir, store) = store();
    set(&store, "e", "r", doc! { "a": 1, "list": 5 });
    let before = get(&store, "e", "r");
    let update = doc! { "$set": { "b": 2 }, "$push": { "list": 1 } };
    let err = store
        .update_run("e", "r", &doc! {}, &update, false)
        .unwrap_err();
    assert!(matches!(kind(&err), Error::InvalidQuery(_)), "{err:#}");
    let err = store
        .update_run("e", "r", &doc! {}, &doc! { "$bogus": { "a": 1 } }, false)
        .unwrap_err();
    assert!(matches!(kind(&err), Error::InvalidQuery(_)), "{err:#}");
    assert_eq!(get(&store, "e", "r"), before);
}

#[test]
fn a_document_over_16_mib_is_refused_and_the_run_is_unchanged() {
    let (_dir, store) = store();
    set(&store, "e", "r", doc! { "a": 1 });
    let before = get(&store, "e", "r");
    let big = Binary {
        subtype: BinarySubtype::Generic,
        bytes: vec![0; MAX_DOCUMENT_SIZE],
    };
    let err = store
        .update_run(
            "e",
            "r",
            &doc! {},
            &doc! { "$set": { "blob.data": big } },
            false,
        )
        .unwrap_err();
    let Error::DocumentTooLarge { key, size } = kind(&err) else {
        panic!("{err:#}")
    };
    assert_eq!(key, "blob.data");
    assert!(*size > MAX_DOCUMENT_SIZE);
    assert_eq!(get(&store, "e", "r"), before);

    // Just under the limit is accepted.
    let fits = Binary {
        subtype: BinarySubtype::Generic,
        bytes: vec![0; MAX_DOCUMENT_SIZE - 100],
    };
    store
        .update_run("e", "r2", &doc! {}, &doc! { "$set": { "b": fits } }, true)
        .unwrap();
}

#[test]
fn natural_order_is_insertion_order_and_updates_keep_it() {
    let (_dir, store) = store();
    for id in ["r3", "r1", "r2"] {
        set(&store, "e", id, doc! { "x": 1 });
    }
    set(&store, "other", "r0", doc! { "x": 1 });
    set(&store, "e", "r1", doc! { "x": 2 });
    let all = store.find("e", &doc! {}, &FindOptions::new()).unwrap();
    assert_eq!(ids(&all), ["r3", "r1", "r2"]);
}

#[test]
fn a_filter_naming_an_id_reads_that_run_and_still_tests_the_rest() {
    let (_dir, store) = store();
    for (id, x) in [("a", 1), ("b", 2), ("c", 3)] {
        set(&store, "e", id, doc! { "x": x });
    }
    set(&store, "other", "b", doc! { "x": 2 });
    let find = |filter: Document| store.find("e", &filter, &FindOptions::new()).unwrap();
    assert_eq!(ids(&find(doc! { "_id": "b" })), ["b"]);
    assert_eq!(ids(&find(doc! { "_id": { "$eq": "c" } })), ["c"]);
    assert_eq!(ids(&find(doc! { "_id": "b", "x": 2 })), ["b"]);
    assert!(find(doc! { "_id": "b", "x": 3 }).is_empty());
    assert!(find(doc! { "_id": "zz" }).is_empty());
    assert_eq!(store.count("e", &doc! { "_id": "a" }).unwrap(), 1);
    assert_eq!(
        store
            .count("e", &doc! { "_id": "a", "x": { "$gt": 1 } })
            .unwrap(),
        0
    );
    // Not a plain equality: every run is read and tested.
    assert_eq!(ids(&find(doc! { "_id": { "$gte": "b" } })), ["b", "c"]);
    assert_eq!(
        ids(&find(doc! { "_id": { "$eq": "a", "$ne": "b" } })),
        ["a"]
    );
    let page = store
        .find_page(
            "e",
            &doc! { "_id": "c" },
            &FindOptions::new().sort(doc! { "x": -1 }),
        )
        .unwrap();
    assert_eq!((page.total, ids(&page.runs)), (1, vec!["c"]));
}

/// Ten runs `r0`..`r9` with `score = i % 3` and `i`.
fn scored() -> (tempfile::TempDir, LocalStore) {
    let (dir, store) = store();
    for i in 0..10 {
        set(
            &store,
            "e",
            &format!("r{i}"),
            doc! { "score": i % 3, "i": i, "p": { "q": i } },
        );
    }
    (dir, store)
}

#[test]
fn find_with_filter_skip_and_limit_in_natural_order() {
    let (_dir, store) = scored();
    let found = store
        .find("e", &doc! { "score": 1 }, &FindOptions::new())
        .unwrap();
    assert_eq!(ids(&found), ["r1", "r4", "r7"]);
    let found = store
        .find("e", &doc! {}, &FindOptions::new().skip(2).limit(3))
        .unwrap();
    assert_eq!(ids(&found), ["r2", "r3", "r4"]);
    // A limit of 0 is no limit, as in MongoDB.
    let found = store
        .find("e", &doc! {}, &FindOptions::new().skip(8).limit(0))
        .unwrap();
    assert_eq!(ids(&found), ["r8", "r9"]);
    let found = store
        .find("e", &doc! {}, &FindOptions::new().skip(20))
        .unwrap();
    assert!(found.is_empty());
    assert!(store
        .find("nope", &doc! {}, &FindOptions::new())
        .unwrap()
        .is_empty());
}

#[test]
fn find_with_sort_is_stable_with_and_without_limit() {
    let (_dir, store) = scored();
    let sort = doc! { "score": -1 };
    let all = store
        .find("e", &doc! {}, &FindOptions::new().sort(sort.clone()))
        .unwrap();
    let expected = ["r2", "r5", "r8", "r1", "r4", "r7", "r0", "r3", "r6", "r9"];
    assert_eq!(ids(&all), expected);
    // The bounded heap gives the same slice as the full sort, ties included.
    for (skip, limit) in [(0, 1), (0, 4), (2, 3), (5, 5), (8, 10), (12, 1)] {
        let page = store
            .find(
                "e",
                &doc! {},
                &FindOptions::new()
                    .sort(sort.clone())
                    .skip(skip)
                    .limit(limit),
            )
            .unwrap();
        let want: Vec<&str> = expected
            .iter()
            .copied()
            .skip(skip as usize)
            .take(limit as usize)
            .collect();
        assert_eq!(ids(&page), want, "skip {skip} limit {limit}");
    }
    let nested = store
        .find(
            "e",
            &doc! {},
            &FindOptions::new().sort(doc! { "p.q": -1 }).limit(2),
        )
        .unwrap();
    assert_eq!(ids(&nested), ["r9", "r8"]);
}

#[test]
fn find_with_projection() {
    let (_dir, store) = scored();
    let found = store
        .find(
            "e",
            &doc! { "i": 4 },
            &FindOptions::new().projection(doc! { "score": 1 }),
        )
        .unwrap();
    assert_eq!(found, [doc! { "_id": "r4", "score": 1 }]);
}

#[test]
fn invalid_find_options_are_invalid_queries_even_without_runs() {
    let (_dir, store) = store();
    for options in [
        FindOptions::new().sort(doc! { "a": 2 }),
        FindOptions::new().projection(doc! { "a": 1, "b": 0 }),
    ] {
        let err = store.find("e", &doc! {}, &options).unwrap_err();
        assert!(matches!(kind(&err), Error::InvalidQuery(_)), "{err:#}");
    }
    let err = store
        .find("e", &doc! { "$where": "1" }, &FindOptions::new())
        .unwrap_err();
    assert!(matches!(kind(&err), Error::InvalidQuery(_)), "{err:#}");
}

#[test]
fn count_with_and_without_filter() {
    let (_dir, store) = scored();
    assert_eq!(store.count("e", &doc! {}).unwrap(), 10);
    assert_eq!(store.count("e", &doc! { "score": 0 }).unwrap(), 4);
    assert_eq!(store.count("e", &doc! { "p.q": 3 }).unwrap(), 1);
    assert_eq!(store.count("none", &doc! {}).unwrap(), 0);
    let err = store.count("e", &doc! { "$bad": 1 }).unwrap_err();
    assert!(matches!(kind(&err), Error::InvalidQuery(_)), "{err:#}");
}

#[test]
fn aggregate_pushes_the_leading_match_down() {
    let (_dir, store) = scored();
    let pipeline = [doc! { "$match": { "score": 2 } }, doc! { "$limit": 2 }];
    let out = store.aggregate("e", &pipeline).unwrap();
    assert_eq!(ids(&out), ["r2", "r5"]);
    let out = store.aggregate("e", &[doc! { "$limit": 1 }]).unwrap();
    assert_eq!(ids(&out), ["r0"]);
    let err = store.aggregate("e", &[doc! { "$nope": 1 }]).unwrap_err();
    assert!(matches!(kind(&err), Error::InvalidQuery(_)), "{err:#}");
}

#[test]
fn experiments_are_distinct_and_sorted() {
    let (_dir, store) = store();
    assert!(store.experiments().unwrap().is_empty());
    for (experiment, id) in [("zeta", "1"), ("alpha", "1"), ("zeta", "2"), ("Beta", "1")] {
        set(&store, experiment, id, doc! { "x": 1 });
    }
    assert_eq!(store.experiments().unwrap(), ["Beta", "alpha", "zeta"]);
}

#[test]
fn the_natural_order_scan_uses_the_index_without_sorting() {
    let (dir, _store) = store();
    let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
    let plan: Vec<String> = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {}", scan::SELECT_RUNS))
        .unwrap()
        .query_map(["e"], |r| r.get(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let plan = plan.join("\n");
    assert!(plan.contains("runs_by_experiment"), "{plan}");
    assert!(!plan.contains("TEMP B-TREE"), "{plan}");
}

#[test]
fn artifacts_round_trip_including_20_mib() {
    let (dir, store) = store();
    let small = b"hello".to_vec();
    let big: Vec<u8> = (0..20 * 1024 * 1024_u32).map(|i| (i % 251) as u8).collect();
    for bytes in [&small, &big, &Vec::new()] {
        let location = store
            .put_artifact("e", "../../r", "/etc/passwd", bytes)
            .unwrap();
        let Bson::Document(fields) = &location else {
            panic!("{location}")
        };
        assert_eq!(fields.get_str("store").unwrap(), "local");
        let hex = fields.get_str("sha256").unwrap();
        assert!(dir
            .path()
            .join("artifacts")
            .join(&hex[..2])
            .join(hex)
            .is_file());
        assert_eq!(&store.get_artifact(&location).unwrap(), bytes);
    }
    // The same bytes again: same location, still readable.
    let again = store.put_artifact("x", "y", "z", &small).unwrap();
    assert_eq!(store.get_artifact(&again).unwrap(), small);
    // No temporary file is left behind.
    for entry in fs::read_dir(dir.path().join("artifacts")).unwrap() {
        for file in fs::read_dir(entry.unwrap().path()).unwrap() {
            let name = file.unwrap().file_name();
            assert!(!name.to_string_lossy().starts_with(".tmp"), "{name:?}");
        }
    }
}

#[test]
fn a_corrupt_artifact_is_a_checksum_error_and_a_missing_one_not_found() {
    let (dir, store) = store();
    let location = store.put_artifact("e", "r", "k", b"precious").unwrap();
    let hex = location
        .as_document()
        .unwrap()
        .get_str("sha256")
        .unwrap()
        .to_owned();
    let path = dir.path().join("artifacts").join(&hex[..2]).join(&hex);
    fs::write(&path, b"Precious").unwrap();
    let err = store.get_artifact(&location).unwrap_err();
    let Error::Artifact { reason, .. } = kind(&err) else {
        panic!("{err:#}")
    };
    assert!(reason.contains("checksum mismatch"), "{reason}");
    fs::remove_file(&path).unwrap();
    let err = store.get_artifact(&location).unwrap_err();
    assert!(matches!(kind(&err), Error::NotFound { .. }), "{err:#}");
}

#[test]
fn invalid_artifact_locations_are_refused() {
    let (_dir, store) = store();
    let good = "a".repeat(64);
    for location in [
        Bson::String(good.clone()),
        Bson::Document(doc! { "sha256": good.clone() }),
        Bson::Document(doc! { "store": "mongodb", "sha256": good.clone() }),
        Bson::Document(doc! { "store": "local" }),
        Bson::Document(doc! { "store": "local", "sha256": "A".repeat(64) }),
        Bson::Document(doc! { "store": "local", "sha256": "a".repeat(63) }),
        Bson::Document(doc! { "store": "local", "sha256": format!("../{}", "a".repeat(61)) }),
        Bson::Document(doc! { "store": "local", "sha256": 12 }),
    ] {
        let err = store.get_artifact(&location).unwrap_err();
        let Error::Artifact { reason, .. } = kind(&err) else {
            panic!("{location}: {err:#}")
        };
        assert!(reason.starts_with("invalid location"), "{reason}");
    }
}

/// Runs `threads` threads, each upserting `per_thread` runs and pushing to
/// one shared run, through `store_for(thread)`.
fn write_concurrently(
    store_for: impl Fn(usize) -> Arc<LocalStore>,
    tag: &str,
    threads: usize,
    per_thread: usize,
) {
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let store = store_for(t);
            let tag = tag.to_owned();
            thread::spawn(move || {
                for i in 0..per_thread {
                    let id = format!("{tag}-{t}-{i}");
                    store
                        .update_run(
                            "e",
                            &id,
                            &doc! {},
                            &doc! { "$set": { "i": i as i64 } },
                            true,
                        )
                        .unwrap();
                    store
                        .update_run(
                            "e",
                            "shared",
                            &doc! {},
                            &doc! { "$push": { "log": &id } },
                            true,
                        )
                        .unwrap();
                    // Reads interleave with the writes.
                    store.count("e", &doc! {}).unwrap();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
}

/// The number of entries pushed to the shared run.
fn shared_log_len(store: &LocalStore) -> usize {
    get(store, "e", "shared").get_array("log").unwrap().len()
}

#[test]
fn threads_write_concurrently_through_one_store_and_through_several() {
    let dir = tempfile::tempdir().unwrap();
    let shared = Arc::new(LocalStore::open(dir.path()).unwrap());
    write_concurrently(|_| Arc::clone(&shared), "one", 4, 20);
    // Separate stores have separate connections, so they contend in SQLite.
    write_concurrently(
        |_| Arc::new(LocalStore::open(dir.path()).unwrap()),
        "many",
        4,
        20,
    );
    assert_eq!(shared_log_len(&shared), 160);
    assert_eq!(shared.count("e", &doc! {}).unwrap(), 161);
}

/// Set in a child process by the multi-process test: the store directory.
const CHILD_DIR: &str = "YAMLETT_LOCAL_STORE_TEST_CHILD_DIR";

/// The writer a child process runs; a no-op in the normal test run.
#[test]
fn child_process_writer() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let tag = format!("p{}", std::process::id());
    write_concurrently(
        |_| Arc::new(LocalStore::open(Path::new(&dir)).unwrap()),
        &tag,
        4,
        25,
    );
}

#[test]
fn processes_write_concurrently_without_busy_errors() {
    if std::env::var(CHILD_DIR).is_ok() {
        return;
    }
    const PROCESSES: usize = 8;
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..PROCESSES)
        .map(|_| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "store::local::tests::child_process_writer",
                    "--test-threads=1",
                ])
                .env(CHILD_DIR, dir.path())
                .output_async()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "child failed: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(shared_log_len(&store), PROCESSES * 4 * 25);
    assert_eq!(
        store.count("e", &doc! {}).unwrap(),
        (PROCESSES * 4 * 25 + 1) as u64
    );
}

/// Spawning with captured output, so children run in parallel.
trait SpawnCaptured {
    fn output_async(&mut self) -> std::process::Child;
}

impl SpawnCaptured for Command {
    fn output_async(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }
}

/// A store written by yamlett 0.1 (schema 1: BSON and JSON in one table)
/// is migrated in place on open: the runs stay, the JSON moves to
/// `runs_json`, and both keep working.
#[test]
fn a_schema_1_store_is_migrated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(schema::DB_FILE);
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE runs (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, experiment TEXT NOT NULL,
                id TEXT NOT NULL, bson BLOB NOT NULL, json TEXT NOT NULL,
                UNIQUE (experiment, id));
             CREATE INDEX runs_by_experiment ON runs (experiment);
             CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             INSERT INTO meta VALUES ('written_by', '0.1.0');
             PRAGMA application_id = 1498238036; PRAGMA user_version = 1;",
        )
        .unwrap();
        let run = doc! { "_id": "old", "metrics": { "f1": 0.5 } };
        conn.execute(
            "INSERT INTO runs (experiment, id, bson, json) VALUES ('e', 'old', ?1, ?2)",
            (
                run.to_vec().unwrap(),
                Bson::Document(run.clone())
                    .into_relaxed_extjson()
                    .to_string(),
            ),
        )
        .unwrap();
    }
    let store = LocalStore::open(dir.path()).unwrap();
    let found = store
        .find("e", &doc! { "metrics.f1": 0.5 }, &FindOptions::new())
        .unwrap();
    assert_eq!(found, vec![doc! { "_id": "old", "metrics": { "f1": 0.5 } }]);
    set(&store, "e", "old", doc! { "metrics.f1": 0.75 });
    // SQL tools read the database, where a logged update lands when folded.
    store.settle("e", "r").unwrap();
    let conn = Connection::open(&path).unwrap();
    let version: i32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, schema::SCHEMA_VERSION);
    let f1: f64 = conn
        .query_row(
            "SELECT json_extract(json, '$.metrics.f1') FROM run_documents WHERE id = 'old'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(f1, 0.75);
}

/// A `find` with more matches than one thread decodes alone hands the rest
/// to a second thread: every run still comes back, once, in natural order,
/// with skip and limit applied.
#[test]
fn a_large_find_returns_every_match_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    for i in 0..700_i64 {
        set(
            &store,
            "e",
            &format!("r{i:04}"),
            doc! { "i": i, "even": i % 2 == 0 },
        );
    }
    let ids = |docs: Vec<Document>| -> Vec<i64> {
        docs.iter().map(|d| d.get_i64("i").unwrap()).collect()
    };
    let all = store.find("e", &doc! {}, &FindOptions::new()).unwrap();
    assert_eq!(ids(all), (0..700).collect::<Vec<_>>());
    let even = store
        .find(
            "e",
            &doc! { "even": true },
            &FindOptions::new().skip(10).limit(300),
        )
        .unwrap();
    assert_eq!(ids(even), (20..620).step_by(2).collect::<Vec<_>>());
}

/// The write logs in a store directory.
fn log_files(dir: &Path) -> Vec<std::path::PathBuf> {
    match fs::read_dir(dir.join(writelog::LOG_DIR)) {
        Ok(entries) => entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The `steps` the run `r` holds.
fn steps(store: &LocalStore) -> Vec<i64> {
    get(store, "e", "r")
        .get_array("steps")
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect()
}

/// Pushes `step` to `steps` of the run `r`.
fn push(store: &LocalStore, step: i64) {
    store
        .update_run(
            "e",
            "r",
            &doc! {},
            &doc! { "$push": { "steps": step } },
            true,
        )
        .unwrap();
}

#[test]
fn updates_wait_in_the_log_until_a_fold_and_queries_see_them_at_once() {
    let (dir, store) = store();
    set(&store, "e", "r", doc! { "n": 1 });
    for step in 0..10 {
        push(&store, step);
    }
    // In the log, not yet in the database: SQL does not see them...
    let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
    let in_sql = |conn: &Connection| -> Option<String> {
        conn.query_row(
            "SELECT json_extract(json, '$.steps') FROM run_documents WHERE id = 'r'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(in_sql(&conn), None);
    assert_eq!(log_files(dir.path()).len(), 1);
    // ...but a query does: it folds first.
    assert_eq!(steps(&store), (0..10).collect::<Vec<_>>());
    assert_eq!(in_sql(&conn).unwrap(), "[0,1,2,3,4,5,6,7,8,9]");
}

#[test]
fn the_log_of_an_ended_process_is_folded_then_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let ended = LocalStore::open(dir.path()).unwrap();
    set(&ended, "e", "r", doc! { "n": 1 });
    for step in 0..5 {
        push(&ended, step);
    }
    // Dropping the store closes its log, which releases its lock: to the
    // others it is the log of a process that ended.
    drop(ended);
    let [log] = log_files(dir.path()).try_into().unwrap();
    // A record torn by the crash: its frame promises more than is there.
    let mut torn = fs::OpenOptions::new().append(true).open(&log).unwrap();
    std::io::Write::write_all(&mut torn, &[200, 0, 0, 0, 1, 2, 3, 4, 5]).unwrap();
    drop(torn);

    let store = LocalStore::open(dir.path()).unwrap();
    assert!(
        log_files(dir.path()).is_empty(),
        "folded at open, then deleted"
    );
    assert_eq!(steps(&store), (0..5).collect::<Vec<_>>());
}

#[test]
fn a_corrupt_record_stops_the_fold_of_its_log_there() {
    let dir = tempfile::tempdir().unwrap();
    let ended = LocalStore::open(dir.path()).unwrap();
    set(&ended, "e", "r", doc! { "n": 1 });
    for step in 0..3 {
        push(&ended, step);
    }
    drop(ended);
    let [log] = log_files(dir.path()).try_into().unwrap();
    // Flip a byte of the last record's payload: its checksum fails.
    let mut bytes = fs::read(&log).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0xff;
    fs::write(&log, bytes).unwrap();

    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(steps(&store), [0, 1]);
}

#[test]
fn updates_of_one_run_from_two_writers_fold_in_the_order_they_were_logged() {
    let dir = tempfile::tempdir().unwrap();
    // Two stores on one directory: two writers, two logs, as two processes.
    let a = LocalStore::open(dir.path()).unwrap();
    let b = LocalStore::open(dir.path()).unwrap();
    set(&a, "e", "r", doc! { "n": 1 });
    for step in 0..40 {
        push(if step % 3 == 0 { &a } else { &b }, step);
    }
    assert_eq!(log_files(dir.path()).len(), 2);
    assert_eq!(steps(&a), (0..40).collect::<Vec<_>>());
    assert_eq!(steps(&b), (0..40).collect::<Vec<_>>());
}

/// The reason and one other column of the only row of `rejected`.
fn rejected(dir: &Path, column: &str) -> (String, String) {
    Connection::open(dir.join(DB_FILE))
        .unwrap()
        .query_row(&format!("SELECT reason, {column} FROM rejected"), [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap()
}

#[test]
fn a_conflicting_update_from_another_writer_is_set_aside_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let a = LocalStore::open(dir.path()).unwrap();
    let b = LocalStore::open(dir.path()).unwrap();
    set(&a, "e", "r", doc! { "n": 1 });
    push(&a, 0); // a's copy: steps is an array
                 // b makes steps a number; a, not knowing, pushes to it.
    b.update_run("e", "r", &doc! {}, &doc! { "$set": { "steps": 7 } }, true)
        .unwrap();
    push(&a, 1);
    assert_eq!(get(&a, "e", "r").get("steps"), Some(&Bson::Int32(7)));
    let (reason, update) = rejected(dir.path(), "update_json");
    assert!(reason.contains("steps"), "{reason}");
    assert!(update.contains(r#""$push":{"steps":1}"#), "{update}");
}

/// A flush of `values` onto a series that held `held` points (all in
/// bucket 0), as a run handle sends it: the summary and the append.
fn log_points(store: &LocalStore, writer: &str, number: i64, held: i64, values: &[f64]) {
    let mut points = crate::series::Series::default();
    for (i, value) in values.iter().enumerate() {
        points.push(held + i as i64, *value, bson::DateTime::now());
    }
    let append = crate::series::Append {
        key: "loss".to_owned(),
        start: held,
        summary: crate::series::BucketSummary::of(0, &points).unwrap(),
        points,
    };
    let field = format!("_yamlett.writers.{writer}");
    let count = held + values.len() as i64;
    store
        .update_run_with_series(
            "e",
            "r",
            &doc! { &field: { "$not": { "$gte": number } } },
            &doc! { "$set": { "loss": { "count": count }, &field: number } },
            &[append],
        )
        .unwrap();
}

#[test]
fn two_writers_logging_one_series_keep_every_point() {
    let dir = tempfile::tempdir().unwrap();
    let a = LocalStore::open(dir.path()).unwrap();
    let b = LocalStore::open(dir.path()).unwrap();
    set(&a, "e", "r", doc! { "n": 1 });
    // b's copy of the run is from before a's points: its write passes its
    // own check and is caught when the logs are folded.
    b.update_run("e", "r", &doc! {}, &doc! { "$set": { "x": 1 } }, true)
        .unwrap();
    log_points(&a, "wa", 1, 0, &[1.0, 2.0, 3.0]);
    log_points(&b, "wb", 1, 0, &[-1.0, -2.0]);
    let run = get(&a, "e", "r");
    assert_eq!(
        run.get_document("loss").unwrap().get_i64("count").unwrap(),
        3
    );
    let stored = a
        .series_buckets("e", "r", Some("loss"), crate::store::Buckets::All)
        .unwrap();
    assert_eq!(stored[0].points.values, [1.0, 2.0, 3.0]);
    let (reason, points) = rejected(dir.path(), "points_json");
    assert!(reason.contains("another handle"), "{reason}");
    assert!(points.contains(r#""values":[-1.0,-2.0]"#), "{points}");
}

#[test]
fn a_long_log_is_emptied_once_folded() {
    let (dir, store) = store();
    set(&store, "e", "r", doc! { "n": 1 });
    let text = "x".repeat(100_000);
    // 50 records of 100 KB: past the 4 MiB at which a folded log restarts.
    for i in 0..50 {
        store
            .update_run(
                "e",
                "r",
                &doc! {},
                &doc! { "$set": { format!("t{i}"): &text } },
                true,
            )
            .unwrap();
    }
    store.settle("e", "r").unwrap();
    let [log] = log_files(dir.path()).try_into().unwrap();
    let len = fs::metadata(&log).unwrap().len();
    assert!(len < 4 << 20, "5 MB logged, {len} bytes left");
    // And appending to it goes on working.
    push(&store, 1);
    assert_eq!(get(&store, "e", "r").get_str("t49").unwrap().len(), 100_000);
    assert_eq!(steps(&store), [1]);
}

#[test]
fn an_idle_writers_log_reaches_sql_within_seconds() {
    let (dir, store) = store();
    set(&store, "e", "r", doc! { "n": 1 });
    push(&store, 7);
    let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
    let start = std::time::Instant::now();
    loop {
        let steps: Option<String> = conn
            .query_row(
                "SELECT json_extract(json, '$.steps') FROM run_documents WHERE id = 'r'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        if steps.as_deref() == Some("[7]") {
            break;
        }
        // Folded by the background thread after a second idle: no read,
        // no flush, no end of run here.
        assert!(start.elapsed().as_secs() < 10, "never folded");
        thread::sleep(std::time::Duration::from_millis(100));
    }
    drop(store);
}

#[test]
fn log_files_no_process_holds_or_registers_are_swept_at_open() {
    let (dir, store) = store();
    set(&store, "e", "r", doc! { "n": 1 });
    push(&store, 1); // this store's own log: registered and held
    let logs = dir.path().join(writelog::LOG_DIR);
    // Left by processes that died before registering their logs.
    fs::write(logs.join("deadbeef.log"), b"YMLTLOG1\0\0\0\0\0\0\0\0").unwrap();
    // One being created (recent: left alone) and a stale one.
    fs::write(logs.join("cafe.new"), b"").unwrap();
    fs::write(logs.join("stale.new"), b"").unwrap();
    let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    fs::File::options()
        .write(true)
        .open(logs.join("stale.new"))
        .unwrap()
        .set_modified(long_ago)
        .unwrap();
    let again = LocalStore::open(dir.path()).unwrap();
    let mut left: Vec<_> = fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.contains(&"cafe.new".to_owned()), "{left:?}");
    assert!(
        left.iter()
            .any(|name| name.ends_with(".log") && name != "deadbeef.log"),
        "{left:?}"
    );
    assert_eq!(steps(&again), [1]);
}

#[test]
fn with_full_durability_every_append_is_synced_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open_with(dir.path(), schema::Durability::Power).unwrap();
    set(&store, "e", "r", doc! { "n": 1 });
    for step in 0..3 {
        push(&store, step);
    }
    drop(store);
    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(steps(&store), [0, 1, 2]);
}

#[test]
fn flushes_of_one_shape_reuse_the_parse_and_large_ones_are_not_kept() {
    let (_dir, store) = store();
    let condition = |n: i64| doc! { "w": { "$not": { "$gte": n } } };
    // The same shape every time, then a value of another type, then a
    // condition that no longer matches: each answer is a fresh parse's.
    for n in 1..=3_i64 {
        let update =
            doc! { "$set": { "w": n, "s": { "count": n, "min": 0.5 } }, "$inc": { "k": 1 } };
        store
            .update_run("e", "r", &condition(n), &update, true)
            .unwrap();
    }
    let update = doc! { "$set": { "w": 4_i64, "s": "text" }, "$inc": { "k": "x" } };
    assert!(matches!(
        kind(
            &store
                .update_run("e", "r", &condition(4), &update, true)
                .unwrap_err()
        ),
        Error::InvalidQuery(_)
    ));
    let update =
        doc! { "$set": { "w": 9_i64, "s": { "count": 9_i64, "min": 0.1 } }, "$inc": { "k": 1 } };
    store
        .update_run("e", "r", &condition(3), &update, true)
        .unwrap(); // applied before
    let run = store
        .find("e", &doc! {}, &FindOptions::new())
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(run.get_i64("w").unwrap(), 3);
    assert_eq!(run.get_i32("k").unwrap(), 3);
    assert_eq!(
        run.get_document("s").unwrap(),
        &doc! { "count": 3_i64, "min": 0.5 }
    );

    let large = doc! { "$set": { "blob": "x".repeat(5000) } };
    let mut budget = KEPT_UPDATE_BYTES;
    assert!(!fits_in(&large, &mut budget));
    let summary = doc! { "$set": { "metrics.loss": { "count": 1_i64, "first": 0.5, "last": 0.5,
    "min": 0.5, "max": 0.5, "sum": 0.5, "step": 0_i64 }, "_yamlett.last_modified_at": bson::DateTime::now(),
    "_yamlett.writers.w0123456789abcdef0123456789abcdef": 7_i64 } };
    let mut budget = KEPT_UPDATE_BYTES;
    assert!(fits_in(&summary, &mut budget));
    store.update_run("e", "r", &doc! {}, &large, false).unwrap();
    assert!(store.last_parsed.lock().unwrap().is_none());
}
