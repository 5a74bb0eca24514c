//! The query engine alone: a filter evaluated per document, on raw BSON
//! (as the embedded store evaluates it, without decoding) and on a decoded
//! document, over runs shaped like the other benchmarks'.
//!
//! ```sh
//! cargo bench -p yamlett-query --bench engine
//! ```

use std::hint::black_box;

use bson::{doc, Document, RawDocumentBuf};
use criterion::{Criterion, Throughput};
use yamlett_query::Filter;

/// A run of about 60 nested fields; one in four has `fit_intercept`, n
/// spreads over 500..5000, f1 over 0.5..1.
fn run(i: u32) -> Document {
    let mut model = Document::new();
    for k in 0..26 {
        model.insert(format!("param_{k:02}"), f64::from(i % 97) * f64::from(k));
    }
    model.insert("fit_intercept", i.is_multiple_of(4));
    model.insert("solver", ["lbfgs", "saga", "sag"][(i % 3) as usize]);
    model.insert("hidden_layers", vec![128, 64, 32]);
    let mut metrics = Document::new();
    for k in 0..20 {
        metrics.insert(
            format!("metric_{k:02}"),
            f64::from((i * 7 + k) % 101) / 100.0,
        );
    }
    metrics.insert("f1_score", 0.5 + f64::from(i % 1000) / 2000.0);
    metrics.insert(
        "loss",
        (0..8)
            .map(|s| 1.0 / (f64::from(s) + 1.5))
            .collect::<Vec<_>>(),
    );
    doc! {
        "_id": format!("run-{i:06}"),
        "params": { "model": model },
        "data": { "dataset": "iris", "n_observations": 500 + (i * 37) % 4500, "n_features": 4 },
        "metrics": metrics,
        "_yamlett": { "status": "finished", "host": "machine", "pid": 1234 },
    }
}

fn main() {
    let filter = Filter::parse(&doc! {
        "params.model.fit_intercept": true,
        "data.n_observations": { "$gte": 3000 },
        "metrics.f1_score": { "$gte": 0.9 },
    })
    .expect("a valid filter");
    let docs: Vec<Document> = (0..1000).map(run).collect();
    let raws: Vec<RawDocumentBuf> = docs
        .iter()
        .map(|d| RawDocumentBuf::try_from(d).expect("encodable"))
        .collect();
    let matched = raws
        .iter()
        .filter(|r| filter.matches_raw(r).expect("evaluates"))
        .count();
    eprintln!("the filter matches {matched} of {} runs", raws.len());

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("filter_3_predicates_per_document");
    group.throughput(Throughput::Elements(raws.len() as u64));
    group.bench_function("raw_bson", |b| {
        b.iter(|| {
            raws.iter()
                .filter(|r| filter.matches_raw(black_box(r)).unwrap_or(false))
                .count()
        })
    });
    group.bench_function("decoded_document", |b| {
        b.iter(|| {
            docs.iter()
                .filter(|d| filter.matches(black_box(d)).unwrap_or(false))
                .count()
        })
    });
    group.finish();
    c.final_summary();
}
