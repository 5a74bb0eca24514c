//! The dashboard's JSON API over HTTP, on both stores: the exact shapes of
//! issue 13, the 400/404 answers for bad input, and the security checks
//! (Host header, traversal, read-only, credentials).

#[path = "../../../tests/common/mod.rs"]
mod common;
mod ui_support;

use serde_json::json;
use ui_support::{http, q, seed, Dashboard, SCRIPT};

fn seeded(uri: &str) -> anyhow::Result<(Dashboard, String)> {
    let experiment = common::unique("ui");
    seed(uri, &experiment)?;
    Ok((Dashboard::start(uri), experiment))
}

on_both_stores!(experiments_list_names_counts_and_activity, |uri| {
    let (ui, experiment) = seeded(uri)?;
    let (status, list) = ui.json("/api/experiments");
    assert_eq!(status, 200);
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == experiment.as_str())
        .expect("the seeded experiment is listed");
    assert_eq!(entry["runs"], 3);
    let last = entry["last_modified"].as_str().expect("an RFC 3339 string");
    assert!(last.ends_with('Z') && last.len() >= 20, "{last}");
    Ok(())
});

on_both_stores!(
    runs_are_filtered_sorted_paged_and_projected_by_the_store,
    |uri| {
        let (ui, e) = seeded(uri)?;
        let (status, page) = ui.json(&format!("/api/runs?experiment={e}"));
        assert_eq!(status, 200);
        assert_eq!(page["total"], 3);
        assert_eq!(page["runs"].as_array().unwrap().len(), 3);

        let sort = q(r#"{"metrics.f1": -1}"#);
        let (_, page) = ui.json(&format!("/api/runs?experiment={e}&sort={sort}&limit=2"));
        assert_eq!(page["total"], 3, "total counts every match, not the page");
        let ids: Vec<&str> = page["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["alpha", "beta"]);
        let (_, page) = ui.json(&format!(
            "/api/runs?experiment={e}&sort={sort}&limit=2&skip=2"
        ));
        assert_eq!(page["runs"][0]["_id"], "evil");

        let filter = q(r#"{"params.lr": {"$lt": 0.05}}"#);
        let (_, page) = ui.json(&format!(
            "/api/runs?experiment={e}&filter={filter}&fields=params.lr,metrics.f1"
        ));
        assert_eq!(page["total"], 1);
        let run = &page["runs"][0];
        assert_eq!(run["_id"], "beta");
        assert_eq!(run["params"], json!({"lr": 0.01}));
        assert_eq!(
            run["metrics"],
            json!({"f1": 0.7}),
            "the loss list is not sent: {run}"
        );
        assert_eq!(run["_yamlett"]["status"], "finished");
        assert!(
            run["_yamlett"]["created_at"]["$date"].is_string(),
            "relaxed Extended JSON dates: {run}"
        );
        assert!(run["_yamlett"].get("writers").is_none());
        Ok(())
    }
);

on_both_stores!(one_run_and_its_missing_neighbours, |uri| {
    let (ui, e) = seeded(uri)?;
    let (status, run) = ui.json(&format!("/api/run?experiment={e}&id=evil"));
    assert_eq!(status, 200);
    assert_eq!(run["params"]["kind"], SCRIPT);
    assert_eq!(run["_yamlett"]["status"], "running");
    let (_, alpha) = ui.json(&format!("/api/run?experiment={e}&id=alpha"));
    assert_eq!(alpha["model"]["codec"], "bincode-2-serde");
    assert!(alpha["model"]["sha256"].is_string());

    let (status, body) = ui.json(&format!("/api/run?experiment={e}&id=nope"));
    assert_eq!(status, 404);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("\"nope\" not found"),
        "{body}"
    );
    let (status, body) = ui.json("/api/runs?experiment=no_such_experiment_here");
    assert_eq!(status, 404);
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains("no_such_experiment_here") && message.contains(&e),
        "names the experiments there are: {message}"
    );
    let (status, _) = ui.json("/api/nothing");
    assert_eq!(status, 404);
    Ok(())
});

on_both_stores!(series_are_m4_sampled_with_nan_encoded_once, |uri| {
    let (ui, e) = seeded(uri)?;
    let (status, s) = ui.json(&format!(
        "/api/series?experiment={e}&id=alpha&key=metrics.loss&columns=20"
    ));
    assert_eq!(status, 200, "{s}");
    let steps = s["steps"].as_array().unwrap();
    let values = s["values"].as_array().unwrap();
    assert_eq!(steps.len(), values.len());
    assert!(
        steps.len() <= 80,
        "at most 4 points per column: {}",
        steps.len()
    );
    assert_eq!(steps.first(), Some(&json!(0)));
    assert_eq!(steps.last(), Some(&json!(499)));
    assert!(
        values.iter().any(|v| v.as_f64().is_some_and(|v| v > 5.0)),
        "the spike at 250 survives sampling"
    );
    assert_eq!(s["times"], json!([]));

    let (_, s) = ui.json(&format!(
        "/api/series?experiment={e}&id=beta&key=metrics.loss&from=150&to=260"
    ));
    assert_eq!(s["steps"][0], 150);
    assert_eq!(s["steps"].as_array().unwrap().last(), Some(&json!(260)));
    assert!(
        s["values"]
            .as_array()
            .unwrap()
            .contains(&json!({"$numberDouble": "NaN"})),
        "{s}"
    );

    let (status, _) = ui.json(&format!(
        "/api/series?experiment={e}&id=alpha&key=metrics.f1"
    ));
    assert_eq!(status, 404, "a number is no series");
    let (status, body) = ui.json(&format!(
        "/api/series?experiment={e}&id=alpha&key=metrics.loss&from=x"
    ));
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("`from`"));
    Ok(())
});

on_both_stores!(keys_and_aggregate, |uri| {
    let (ui, e) = seeded(uri)?;
    let (status, keys) = ui.json(&format!("/api/keys?experiment={e}"));
    assert_eq!(status, 200);
    let keys = keys.as_array().unwrap();
    let lr = keys
        .iter()
        .find(|k| k["key"] == "params.lr")
        .expect("params.lr");
    assert_eq!(
        lr,
        &json!({"key": "params.lr", "types": ["double"], "runs": 3})
    );
    let note = keys.iter().find(|k| k["key"] == "params.note").unwrap();
    assert_eq!(note["runs"], 1);
    assert!(keys
        .iter()
        .all(|k| !k["key"].as_str().unwrap().starts_with("_yamlett.writers")));

    let pipeline = q(
        r#"[{"$group": {"_id": "$params.kind", "mean": {"$avg": "$metrics.f1"}, "count": {"$sum": 1}}}, {"$sort": {"_id": -1}}]"#,
    );
    let (status, groups) = ui.json(&format!(
        "/api/aggregate?experiment={e}&pipeline={pipeline}"
    ));
    assert_eq!(status, 200, "{groups}");
    assert_eq!(groups[0]["_id"], "sgd");
    assert_eq!(groups[0]["count"], 2);
    assert!((groups[0]["mean"].as_f64().unwrap() - 0.8).abs() < 1e-9);
    Ok(())
});

on_both_stores!(bad_input_is_a_400_with_the_reason_never_a_500, |uri| {
    let (ui, e) = seeded(uri)?;
    let cases = [
        (
            format!("/api/runs?experiment={e}&filter={}", q(r#"{"a": }"#)),
            "not valid JSON",
        ),
        (
            format!("/api/runs?experiment={e}&filter={}", q("[1]")),
            "JSON object",
        ),
        (
            format!(
                "/api/runs?experiment={e}&filter={}",
                q(r#"{"a": {"$frobnicate": 1}}"#)
            ),
            "$frobnicate",
        ),
        (
            format!(
                "/api/runs?experiment={e}&sort={}",
                q(r#"{"a": "sideways"}"#)
            ),
            "sort",
        ),
        (format!("/api/runs?experiment={e}&limit=ten"), "`limit`"),
        (
            format!("/api/runs?experiment={e}&fields={}", q("$where")),
            "dotted key",
        ),
        (
            format!(
                "/api/aggregate?experiment={e}&pipeline={}",
                q(r#"[{"$frobnicate": {}}]"#)
            ),
            "$frobnicate",
        ),
        (
            // One stage alone is a pipeline of one (as for `yamlett agg`);
            // anything else that is not an array is refused.
            format!("/api/aggregate?experiment={e}&pipeline={}", q("1")),
            "array",
        ),
        (
            format!("/api/aggregate?experiment={e}"),
            "missing parameter `pipeline`",
        ),
        ("/api/runs".to_string(), "missing parameter `experiment`"),
    ];
    for (path, needle) in cases {
        let (status, body) = ui.json(&path);
        assert_eq!(status, 400, "{path}: {body}");
        let message = body["error"].as_str().unwrap();
        assert!(
            message.to_lowercase().contains(&needle.to_lowercase()),
            "{path}: {message:?} lacks {needle:?}"
        );
    }
    Ok(())
});

#[test]
fn host_header_that_is_not_ours_is_refused() -> anyhow::Result<()> {
    let dir = common::local_store();
    let (ui, _) = seeded(dir.path().to_str().unwrap())?;
    for host in [
        "evil.example",
        &format!("evil.example:{}", ui.port),
        "127.0.0.1:1",
        "",
    ] {
        for path in ["/", "/api/experiments", "/assets/app.js"] {
            let response = http(ui.port, "GET", path, host);
            assert_eq!(response.status, 403, "Host {host:?} {path}");
            assert!(!response.body.contains("runs"), "{}", response.body);
        }
    }
    for host in [
        format!("localhost:{}", ui.port),
        format!("127.0.0.1:{}", ui.port),
    ] {
        assert_eq!(
            http(ui.port, "GET", "/api/experiments", &host).status,
            200,
            "{host}"
        );
    }
    Ok(())
}

#[test]
fn static_paths_cannot_escape_and_the_server_is_read_only() -> anyhow::Result<()> {
    let dir = common::local_store();
    let (ui, e) = seeded(dir.path().to_str().unwrap())?;
    for path in [
        "/assets/../Cargo.toml",
        "/assets/..%2f..%2fCargo.toml",
        "/assets/%2e%2e/%2e%2e/Cargo.toml",
        "/../../../../etc/passwd",
        "/assets/..%5c..%5cCargo.toml",
        "/assets/Cargo.toml",
        "/assets/app.js/..",
    ] {
        let response = ui.get(path);
        assert!(
            matches!(response.status, 400 | 404),
            "{path}: {}",
            response.status
        );
        assert!(
            !response.body.contains("[package]") && !response.body.contains("root:"),
            "{path} leaked a file"
        );
    }
    let host = format!("127.0.0.1:{}", ui.port);
    for method in ["POST", "PUT", "DELETE"] {
        assert_eq!(
            http(ui.port, method, &format!("/api/runs?experiment={e}"), &host).status,
            405
        );
    }
    // Every view URL answers the page, with a policy that runs no inline script.
    for path in [
        "/",
        &format!("/experiments/{e}"),
        &format!("/experiments/{e}/runs/alpha"),
        &format!("/experiments/{e}/compare?ids=alpha,beta"),
    ] {
        let response = ui.get(path);
        assert_eq!(response.status, 200, "{path}");
        assert!(response.body.contains("/assets/app.js"));
        assert!(
            response.headers.contains("script-src 'self'"),
            "{}",
            response.headers
        );
    }
    let css = ui.get("/assets/style.css");
    assert_eq!(css.status, 200);
    assert!(css.headers.contains("text/css"));
    Ok(())
}

#[test]
fn a_uri_password_reaches_neither_the_page_nor_the_log() {
    // Nothing listens on port 9: every request fails, and says why.
    let ui =
        Dashboard::start("mongodb://alice:s3cr3t-pw@127.0.0.1:9/?serverSelectionTimeoutMS=300");
    let (status, body) = ui.json("/api/experiments");
    assert_eq!(status, 500, "an unreachable store is no bad input: {body}");
    assert!(
        body["error"].as_str().unwrap().contains("unreachable"),
        "{body}"
    );
    assert!(!body.to_string().contains("s3cr3t-pw"), "{body}");
    let page = ui.get("/");
    assert!(!page.body.contains("s3cr3t-pw"));
    let log = std::fs::read_to_string(&ui.stderr).unwrap();
    assert!(!log.contains("s3cr3t-pw"), "{log}");
    assert!(
        log.contains("/api/experiments"),
        "store failures are logged: {log}"
    );
}

on_both_stores!(
    hundred_thousand_deep_input_is_a_400_and_the_server_lives_on,
    |uri| {
        let (ui, e) = seeded(uri)?;
        const DEEP: usize = 100_000;
        let nested = |open: &str, inner: &str, close: &str| {
            format!("{}{inner}{}", open.repeat(DEEP), close.repeat(DEEP))
        };
        let deep_filter = nested(r#"{"a": "#, "1", "}");
        let deep_and = nested(r#"{"$and": ["#, "{}", "]}");
        let deep_expression = nested(r#"{"$add": [1, "#, "1", "]}");
        let cases = [
            format!("/api/runs?experiment={e}&filter={}", q(&deep_filter)),
            format!("/api/runs?experiment={e}&filter={}", q(&deep_and)),
            format!("/api/runs?experiment={e}&sort={}", q(&deep_filter)),
            format!(
                "/api/aggregate?experiment={e}&pipeline={}",
                q(&format!(r#"[{{"$match": {deep_and}}}]"#))
            ),
            format!(
                "/api/aggregate?experiment={e}&pipeline={}",
                q(&format!(
                    r#"[{{"$group": {{"_id": null, "x": {{"$sum": {deep_expression}}}}}}}]"#
                ))
            ),
            format!(
                "/api/aggregate?experiment={e}&pipeline={}",
                q(&nested("[", "1", "]"))
            ),
        ];
        for path in &cases {
            let (status, body) = ui.json(path);
            let shown = &path[..80];
            assert_eq!(status, 400, "{shown}…: {body}");
            let message = body["error"].as_str().expect("an error message");
            assert!(
                message.contains("recursion limit") || message.contains("deep"),
                "{shown}…: {message}"
            );
        }
        // Still serving, and nothing changed.
        let (status, page) = ui.json(&format!("/api/runs?experiment={e}"));
        assert_eq!(status, 200);
        assert_eq!(page["total"], 3);
        Ok(())
    }
);

on_both_stores!(keys_cover_every_run_and_follow_writes_and_deletes, |uri| {
    let (ui, e) = seeded(uri)?;
    let keys = |ui: &Dashboard| -> serde_json::Map<String, serde_json::Value> {
        let (status, keys) = ui.json(&format!("/api/keys?experiment={e}"));
        assert_eq!(status, 200, "{keys}");
        keys.as_array()
            .unwrap()
            .iter()
            .map(|k| (k["key"].as_str().unwrap().to_string(), k.clone()))
            .collect()
    };
    let before = keys(&ui);
    assert_eq!(before["params.lr"]["runs"], 3);
    assert!(!before.contains_key("params.only_late"));

    // A run written after the keys were first read, and a new key in an
    // existing run: both show, with the right counts.
    let open = |id: &str| {
        yamlett::Run::builder()
            .uri(uri)
            .experiment(&e)
            .id(id)
            .open()
    };
    let late = open("late")?;
    late.store("params.only_late", "x")?;
    late.store("params.lr", 7)?;
    late.finish()?;
    let beta = open("beta")?;
    beta.store("params.extra", true)?;
    beta.finish()?;
    let after = keys(&ui);
    assert_eq!(after["model"]["runs"], 1);
    assert_eq!(
        after["params.only_late"],
        json!({"key": "params.only_late", "types": ["string"], "runs": 1})
    );
    assert_eq!(
        after["params.lr"],
        json!({"key": "params.lr", "types": ["double", "int"], "runs": 4})
    );
    assert_eq!(after["params.extra"]["runs"], 1);
    assert_eq!(after["params.kind"]["runs"], 3);

    // Deleted runs take their keys with them.
    let deleted = yamlett::Experiment::builder()
        .uri(uri)
        .name(&e)
        .open()?
        .delete(yamlett::bson::doc! { "_id": { "$in": ["late", "alpha"] } })?;
    assert_eq!(deleted, 2);
    let last = keys(&ui);
    assert!(!last.contains_key("params.only_late"), "{last:?}");
    assert!(!last.contains_key("model"), "alpha's artifact key is gone");
    assert_eq!(last["params.note"]["runs"], 1);
    assert_eq!(last["params.lr"]["runs"], 2);
    assert_eq!(last["params.lr"]["types"], json!(["double"]));
    Ok(())
});
