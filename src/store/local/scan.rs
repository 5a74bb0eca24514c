//! Reading runs: a streaming scan of one experiment in natural order, with
//! the filter evaluated on the stored BSON bytes, and what `find` and
//! `aggregate` build on it.
//!
//! Only documents that match are decoded, and the scan never holds more
//! than the results being built: rows are read one by one from SQLite.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::ops::ControlFlow;

use bson::{Bson, Document, RawDocument, RawDocumentBuf};
use rusqlite::{Connection, Row};

use super::decoder::Decoder;
use super::{decode_raw as decode, invalid_query};
use crate::store::RawVisitor;
use crate::{FindOptions, Page};
use yamlett_query::advanced::Env;
use yamlett_query::Filter;
use yamlett_query::Pipeline;
use yamlett_query::Projection;
use yamlett_query::QueryError;
use yamlett_query::Sort;

/// How many matches a `find` decodes on its own before handing the rest to
/// a second thread: starting the thread (tens of µs) costs more than it
/// saves only for the smallest results, and decoding on the scanning thread
/// delays the scan. (At 256, the 5,000-run benchmark's 245 matches were all
/// decoded here: 7.3 ms median; handed off, 4.5 ms.)
const DECODE_ALONE: u64 = 16;

/// The runs of one experiment in insertion order; the `(experiment)` index
/// ends with the rowid, so SQLite walks it without sorting.
pub(super) const SELECT_RUNS: &str =
    "SELECT seq, bson FROM runs WHERE experiment = ?1 ORDER BY seq";

/// One run of one experiment, through the `(experiment, id)` index.
const SELECT_RUN: &str = "SELECT seq, bson FROM runs WHERE experiment = ?1 AND id = ?2";

/// The one run a filter can match when it names an `_id`: a run's `_id` is
/// its row's `id` (the embedded store keeps string ids only), so the scan
/// reads that row through the index and tests the filter on it alone.
/// Opening a run and `run.data()` look a run up this way; without it each
/// read every run of the experiment.
pub(super) fn named_id(filter: &Document) -> Option<&str> {
    match filter.get("_id")? {
        Bson::String(id) => Some(id),
        Bson::Document(op) if op.len() == 1 => op.get_str("$eq").ok(),
        _ => None,
    }
}

/// Calls `visit` with the insertion sequence number and the raw bytes of
/// each run of `experiment` that matches `filter`, in natural order, until
/// it returns `Break`; only the run `only` when the filter names one (see
/// [`named_id`]). The bytes are borrowed from SQLite's row buffer, not
/// copied.
pub(super) fn scan(
    conn: &Connection,
    experiment: &str,
    only: Option<&str>,
    filter: Option<&Filter>,
    mut visit: impl FnMut(i64, &RawDocument) -> anyhow::Result<ControlFlow<()>>,
) -> anyhow::Result<()> {
    let mut stmt = conn.prepare_cached(if only.is_some() {
        SELECT_RUN
    } else {
        SELECT_RUNS
    })?;
    let mut rows = match only {
        None => stmt.query([experiment])?,
        Some(id) => stmt.query([experiment, id])?,
    };
    while let Some(row) = rows.next()? {
        if let Some((seq, raw)) = matching_row(row, filter)? {
            if visit(seq, raw)?.is_break() {
                break;
            }
        }
    }
    Ok(())
}

/// The row's sequence number and document if it matches `filter`.
fn matching_row<'r>(
    row: &'r Row<'_>,
    filter: Option<&Filter>,
) -> anyhow::Result<Option<(i64, &'r RawDocument)>> {
    let seq: i64 = row.get(0)?;
    let raw = RawDocument::from_bytes(row.get_ref(1)?.as_blob()?)
        .map_err(|err| anyhow::anyhow!("the stored run #{seq} is corrupt: {err}"))?;
    match filter {
        Some(filter) if !filter.matches_raw(raw).map_err(invalid_query)? => Ok(None),
        _ => Ok(Some((seq, raw))),
    }
}

/// A compiled `find`: everything is parsed before the scan starts, so an
/// invalid sort or projection is reported even when nothing matches, as
/// the server does.
pub(super) struct FindQuery {
    filter: Filter,
    /// The `_id` the filter names, if any (see [`named_id`]).
    only: Option<String>,
    sort: Option<Sort>,
    projection: Option<Projection>,
    skip: u64,
    /// `None` for no limit; MongoDB reads a limit of 0 as none.
    limit: Option<u64>,
}

/// Whether a scan goes on counting matches once the runs it returns are
/// complete (a page and its total) or stops there (a plain `find`).
#[derive(Clone, Copy, PartialEq)]
enum Count {
    All,
    UntilFull,
}

impl FindQuery {
    /// Compiles the filter and options.
    pub(super) fn parse(filter: &Document, options: &FindOptions) -> Result<FindQuery, QueryError> {
        Ok(FindQuery {
            filter: Filter::parse(filter)?,
            only: named_id(filter).map(str::to_owned),
            sort: options.sort.as_ref().map(Sort::parse).transpose()?,
            projection: options
                .projection
                .as_ref()
                .map(Projection::parse)
                .transpose()?,
            skip: options.skip.unwrap_or(0),
            limit: options.limit.filter(|&n| n > 0),
        })
    }

    /// [`scan`] with this query's filter, reading only the run it names if
    /// it names one.
    fn scan(
        &self,
        conn: &Connection,
        experiment: &str,
        visit: impl FnMut(i64, &RawDocument) -> anyhow::Result<ControlFlow<()>>,
    ) -> anyhow::Result<()> {
        scan(
            conn,
            experiment,
            self.only.as_deref(),
            Some(&self.filter),
            visit,
        )
    }

    /// Runs the query over `experiment`.
    pub(super) fn run(&self, conn: &Connection, experiment: &str) -> anyhow::Result<Vec<Document>> {
        Ok(self.execute(conn, experiment, Count::UntilFull)?.runs)
    }

    /// Runs the query over `experiment` and counts every match, in the same
    /// single scan.
    pub(super) fn page(&self, conn: &Connection, experiment: &str) -> anyhow::Result<Page> {
        self.execute(conn, experiment, Count::All)
    }

    /// The runs, and how many matches the scan counted: all of them with
    /// [`Count::All`].
    fn execute(&self, conn: &Connection, experiment: &str, count: Count) -> anyhow::Result<Page> {
        let (total, docs) = match &self.sort {
            None => self.natural(conn, experiment, count)?,
            Some(sort) => match self.limit {
                Some(limit) => self.top(conn, experiment, sort, limit)?,
                None => self.sorted(conn, experiment, sort)?,
            },
        };
        let runs = match &self.projection {
            None => docs,
            Some(projection) => docs
                .iter()
                .map(|doc| projection.apply(doc).map_err(invalid_query))
                .collect::<anyhow::Result<_>>()?,
        };
        Ok(Page { total, runs })
    }

    /// Without a sort: skipped matches are counted, not decoded, and the
    /// scan stops as soon as the limit is reached unless it counts them all.
    ///
    /// Decoding the matches into `Document`s costs about as much as the scan
    /// itself, so past [`DECODE_ALONE`] matches a second thread decodes
    /// them (from copies of their bytes) while this one goes on scanning.
    fn natural(
        &self,
        conn: &Connection,
        experiment: &str,
        count: Count,
    ) -> anyhow::Result<(u64, Vec<Document>)> {
        let mut matched: u64 = 0;
        let mut found: u64 = 0;
        let mut docs = Vec::new();
        std::thread::scope(|threads| -> anyhow::Result<()> {
            let mut decoder: Option<Decoder<'_>> = None;
            let scanned = self.scan(conn, experiment, |_, raw| {
                matched += 1;
                let full = self.limit.is_some_and(|n| found >= n);
                if matched <= self.skip || full {
                    return Ok(ControlFlow::Continue(()));
                }
                found += 1;
                if found <= DECODE_ALONE {
                    docs.push(decode(raw)?);
                } else {
                    decoder
                        .get_or_insert_with(|| Decoder::spawn(threads))
                        .push(raw)?;
                }
                let full = self.limit.is_some_and(|n| found >= n);
                Ok(if full && count == Count::UntilFull {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                })
            });
            let rest = decoder.map(Decoder::finish);
            scanned?;
            if let Some(rest) = rest {
                docs.extend(rest?);
            }
            Ok(())
        })?;
        Ok((matched, docs))
    }

    /// A sort without a limit: every match, stably sorted (`sort_by` is
    /// stable and the scan is in insertion order, so ties keep it).
    fn sorted(
        &self,
        conn: &Connection,
        experiment: &str,
        sort: &Sort,
    ) -> anyhow::Result<(u64, Vec<Document>)> {
        let mut docs = Vec::new();
        self.scan(conn, experiment, |_, raw| {
            docs.push(decode(raw)?);
            Ok(ControlFlow::Continue(()))
        })?;
        docs.sort_by(|a, b| sort.compare(a, b));
        let total = docs.len() as u64;
        let skip = usize::try_from(self.skip).unwrap_or(usize::MAX);
        Ok((total, docs.into_iter().skip(skip).collect()))
    }

    /// A sort with a limit: only the best `skip + limit` matches are kept,
    /// in a max-heap whose top is the worst of them, so memory stays bounded
    /// however many runs match. Each match is ranked by its sort key alone,
    /// the values at the sort's paths read from its raw bytes; one that
    /// enters the heap keeps a copy of its bytes, and only the page's runs
    /// are decoded, at the end. Every match is counted on the way.
    fn top(
        &self,
        conn: &Connection,
        experiment: &str,
        sort: &Sort,
        limit: u64,
    ) -> anyhow::Result<(u64, Vec<Document>)> {
        let keep = usize::try_from(self.skip.saturating_add(limit)).unwrap_or(usize::MAX);
        let mut heap: BinaryHeap<Ranked<'_>> =
            BinaryHeap::with_capacity(keep.min(1024).saturating_add(1));
        let mut total: u64 = 0;
        self.scan(conn, experiment, |seq, raw| {
            total += 1;
            let key = sort.raw_key_values(raw);
            // A later run that ties with the worst kept one ranks after it
            // (stable order), so only a strictly better key gets in.
            let full = heap.len() >= keep;
            if full
                && heap
                    .peek()
                    .is_some_and(|worst| sort.compare_key_values(&key, &worst.key).is_ge())
            {
                return Ok(ControlFlow::Continue(()));
            }
            heap.push(Ranked {
                sort,
                seq,
                key,
                raw: raw.to_owned(),
            });
            if heap.len() > keep {
                heap.pop();
            }
            Ok(ControlFlow::Continue(()))
        })?;
        let skip = usize::try_from(self.skip).unwrap_or(usize::MAX);
        let docs = heap
            .into_sorted_vec()
            .into_iter()
            .skip(skip)
            .map(|ranked| decode(&ranked.raw))
            .collect::<anyhow::Result<_>>()?;
        Ok((total, docs))
    }
}

impl FindQuery {
    /// Runs the query over `experiment`, handing each result to `visit` as
    /// it is found. Without a sort nothing is held: the scan's own bytes go
    /// to `visit` (decoded and encoded again only to apply a projection).
    /// A sort needs its matches first: they are built as [`FindQuery::run`]
    /// builds them (the best skip + limit, or all of them) and then handed
    /// over one by one.
    pub(super) fn each(
        &self,
        conn: &Connection,
        experiment: &str,
        visit: &mut RawVisitor<'_>,
    ) -> anyhow::Result<()> {
        if self.sort.is_some() {
            for doc in self.run(conn, experiment)? {
                if visit(&RawDocumentBuf::try_from(&doc)?)?.is_break() {
                    break;
                }
            }
            return Ok(());
        }
        let mut to_skip = self.skip;
        let mut found: u64 = 0;
        self.scan(conn, experiment, |_, raw| {
            if to_skip > 0 {
                to_skip -= 1;
                return Ok(ControlFlow::Continue(()));
            }
            found += 1;
            let flow = match &self.projection {
                None => visit(raw)?,
                Some(projection) => {
                    let shown = projection.apply(&decode(raw)?).map_err(invalid_query)?;
                    visit(&RawDocumentBuf::try_from(&shown)?)?
                }
            };
            let full = self.limit.is_some_and(|n| found >= n);
            Ok(if full { ControlFlow::Break(()) } else { flow })
        })
    }
}

/// A match in the top-k heap, ordered by the sort and then by insertion
/// order, which makes the result the same as a stable sort's.
struct Ranked<'s> {
    sort: &'s Sort,
    seq: i64,
    /// The values at the sort's paths ([`Sort::raw_key_values`]).
    key: Vec<Bson>,
    raw: RawDocumentBuf,
}

impl Ord for Ranked<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sort
            .compare_key_values(&self.key, &other.key)
            .then(self.seq.cmp(&other.seq))
    }
}

impl PartialOrd for Ranked<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked<'_> {}

/// A compiled aggregation, planned for the scan: a leading `$match` is
/// evaluated on the raw bytes, so runs it rejects are never decoded, and a
/// `$group` right after it reads the runs' raw bytes too (see
/// [`GroupFeed`](yamlett_query::advanced::GroupFeed)).
pub(super) struct AggregatePlan {
    /// The leading `$match`'s filter.
    filter: Option<Filter>,
    /// The stages after the leading `$match`.
    rest: Pipeline,
}

impl AggregatePlan {
    /// Compiles `pipeline`. The whole pipeline is compiled first, so errors
    /// are reported exactly as the engine reports them.
    pub(super) fn parse(pipeline: &[Document]) -> Result<AggregatePlan, QueryError> {
        let whole = Pipeline::parse(pipeline)?;
        if whole.leading_filter().is_none() {
            return Ok(AggregatePlan {
                filter: None,
                rest: whole,
            });
        }
        let filter = match pipeline[0].get("$match") {
            Some(Bson::Document(spec)) => Filter::parse(spec)?,
            // A leading filter the store cannot rebuild: leave it in the
            // pipeline, which is always correct.
            _ => {
                return Ok(AggregatePlan {
                    filter: None,
                    rest: whole,
                })
            }
        };
        Ok(AggregatePlan {
            filter: Some(filter),
            rest: Pipeline::parse(&pipeline[1..])?,
        })
    }

    /// Runs the aggregation over `experiment`, streaming the runs into it.
    /// The experiments its stages read besides (`$lookup`, `$unionWith`)
    /// are loaded whole first: the engine only sees documents.
    pub(super) fn run(&self, conn: &Connection, experiment: &str) -> anyhow::Result<Vec<Document>> {
        let mut env = Env::default();
        for foreign in self.rest.foreign() {
            let docs = all_runs(conn, &foreign)?;
            env.insert(foreign, docs);
        }
        if let Some(mut group) = self.rest.leading_group(&env) {
            scan(conn, experiment, None, self.filter.as_ref(), |_, raw| {
                group.add_raw(raw).map_err(invalid_query)?;
                Ok(ControlFlow::Continue(()))
            })?;
            let groups = group.finish().map_err(invalid_query)?;
            return self
                .rest
                .run_after_first(groups.into_iter(), &env)
                .map_err(invalid_query);
        }
        let mut stmt = conn.prepare_cached(SELECT_RUNS)?;
        let mut rows = stmt.query([experiment])?;
        // The pipeline pulls documents from an iterator, which cannot return
        // errors: the first one is kept here and the stream ends there.
        let mut failure: Option<anyhow::Error> = None;
        let docs = std::iter::from_fn(|| loop {
            let step = match rows.next() {
                Ok(Some(row)) => matching_row(row, self.filter.as_ref())
                    .and_then(|m| m.map(|(_, raw)| decode(raw)).transpose()),
                Ok(None) => return None,
                Err(err) => Err(err.into()),
            };
            match step {
                Ok(Some(doc)) => return Some(doc),
                Ok(None) => {}
                Err(err) => {
                    failure = Some(err);
                    return None;
                }
            }
        });
        let result = self.rest.run_in(docs, &env);
        if let Some(err) = failure {
            return Err(err);
        }
        result.map_err(invalid_query)
    }
}

/// Every run of `experiment`, decoded, in insertion order.
fn all_runs(conn: &Connection, experiment: &str) -> anyhow::Result<Vec<Document>> {
    let mut docs = Vec::new();
    scan(conn, experiment, None, None, |_, raw| {
        docs.push(decode(raw)?);
        Ok(ControlFlow::Continue(()))
    })?;
    Ok(docs)
}
