//! The embedded store's series buckets: the table `series`, one row per
//! bucket, keyed by experiment, run, key and bucket number (in that order,
//! so a run's buckets are one range of the primary key: deleting them is
//! one range delete, and reading a series one range scan).
//!
//! Points are written like run updates: a flush appends them, packed, to
//! the write log record of its run update (one `write`), and a fold
//! applies them here, each bucket row written once per fold. SQLite turns
//! NaN into NULL, so every double lives in a blob of little-endian numbers
//! rather than in a REAL column (the layout is in the README).

use bson::DateTime;
use rusqlite::{params_from_iter, Connection, OptionalExtension, Transaction};

use crate::series::{self, Append, BucketSummary, PackedAppend, Point, Series, SeriesBucket};
use crate::store::Buckets;
use crate::Garbage;

/// The table, created by schema version 4.
pub(super) const SERIES_TABLE: &str = "
CREATE TABLE series (
    experiment TEXT NOT NULL,
    run        TEXT NOT NULL,     -- the run's _id
    key        TEXT NOT NULL,     -- the series' key in the run document
    bucket     INTEGER NOT NULL,  -- holds the series' points bucket*1000 .. bucket*1000+999
    count      INTEGER NOT NULL,  -- points in the bucket
    first_step INTEGER NOT NULL,
    last_step  INTEGER NOT NULL,
    summary    BLOB NOT NULL,     -- first, last, min, max points: (i64 step, f64 value, i64 ms) each
    steps      BLOB NOT NULL,     -- count x i64, little-endian
    vals       BLOB NOT NULL,     -- count x f64
    times      BLOB NOT NULL,     -- count x i64 milliseconds since the epoch
    PRIMARY KEY (experiment, run, key, bucket)
);
";

/// The points of `appends` as a document, `{series: [{key, steps, values,
/// times}, …]}`: how the table `rejected` keeps the points of a record it
/// sets aside.
pub(super) fn appends_document(appends: &[Append]) -> bson::Document {
    let series: Vec<bson::Bson> = appends
        .iter()
        .map(|append| {
            let points = &append.points;
            bson::Bson::Document(bson::doc! {
                "key": &append.key,
                "steps": points.steps.iter().map(|&s| bson::Bson::Int64(s)).collect::<Vec<_>>(),
                "values": points.values.iter().map(|&v| bson::Bson::Double(v)).collect::<Vec<_>>(),
                "times": points.times.iter().map(|&t| bson::Bson::DateTime(t)).collect::<Vec<_>>(),
            })
        })
        .collect();
    bson::doc! { "series": series }
}

/// One bucket being rewritten by a fold or a copy.
struct Row {
    points: Series,
}

/// Applies the appends of one run, in order. An append whose points the
/// bucket already holds (it held `start + n` points or more) was applied
/// before and is skipped; each touched bucket is written once.
pub(super) fn apply_appends<'a>(
    tx: &Transaction<'_>,
    experiment: &str,
    run: &str,
    appends: impl IntoIterator<Item = PackedAppend<'a>>,
) -> anyhow::Result<()> {
    // The buckets touched, in key then index order once sorted: a fold
    // of a training loop's records touches one or two per series, so a
    // search of this list costs less than a map keyed by an owned copy of
    // each record's key.
    let mut rows: Vec<(String, i64, Row)> = Vec::new();
    for append in appends {
        let index = append.summary.index;
        let found = rows
            .iter()
            .position(|(key, at, _)| *at == index && key == append.key);
        let row = match found {
            Some(found) => &mut rows[found].2,
            None => {
                let points =
                    read_bucket(tx, experiment, run, append.key, index)?.unwrap_or_default();
                let last = rows.len();
                rows.push((append.key.to_owned(), index, Row { points }));
                &mut rows[last].2
            }
        };
        let held = row.points.len() as i64;
        let n = append.len() as i64;
        if held >= append.start + n {
            continue; // applied before
        }
        if held != append.start {
            // Cannot happen while one handle writes a series: points were
            // logged for a bucket that misses earlier ones. They are kept.
            log::error!(
                "yamlett: series {:?} of run {run:?}: bucket {} holds {held} points, an append \
                 expected {}; its points are kept",
                append.key,
                append.summary.index,
                append.start
            );
        }
        let skip = (held - append.start).clamp(0, n) as usize;
        append.extend(&mut row.points, skip);
    }
    rows.sort_unstable_by(|(key, index, _), (other, other_index, _)| {
        (key, index).cmp(&(other, other_index))
    });
    for (key, index, row) in rows {
        write_bucket(tx, experiment, run, &key, index, &row.points)?;
    }
    Ok(())
}

/// The points of one bucket, if it exists.
fn read_bucket(
    conn: &Connection,
    experiment: &str,
    run: &str,
    key: &str,
    index: i64,
) -> anyhow::Result<Option<Series>> {
    Ok(conn
        .prepare_cached(
            "SELECT steps, vals, times FROM series
             WHERE experiment = ?1 AND run = ?2 AND key = ?3 AND bucket = ?4",
        )?
        .query_row((experiment, run, key, index), |row| {
            Ok(points_of(
                row.get_ref(0)?.as_blob()?,
                row.get_ref(1)?.as_blob()?,
                row.get_ref(2)?.as_blob()?,
            ))
        })
        .optional()?)
}

fn points_of(steps: &[u8], values: &[u8], times: &[u8]) -> Series {
    Series {
        steps: series::unblob(steps, i64::from_le_bytes),
        values: series::unblob(values, f64::from_le_bytes),
        times: series::unblob(times, |b| DateTime::from_millis(i64::from_le_bytes(b))),
    }
}

/// Writes a bucket whole, replacing the row if there is one.
fn write_bucket(
    conn: &Connection,
    experiment: &str,
    run: &str,
    key: &str,
    index: i64,
    points: &Series,
) -> anyhow::Result<()> {
    let Some(summary) = BucketSummary::of(index, points) else {
        return Ok(());
    };
    let mut packed = Vec::with_capacity(96);
    for point in [summary.first, summary.last, summary.min, summary.max] {
        packed.extend_from_slice(&point.step.to_le_bytes());
        packed.extend_from_slice(&point.value.to_le_bytes());
        packed.extend_from_slice(&point.time.timestamp_millis().to_le_bytes());
    }
    conn.prepare_cached(
        "INSERT OR REPLACE INTO series
         (experiment, run, key, bucket, count, first_step, last_step, summary, steps, vals, times)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute((
        experiment,
        run,
        key,
        index,
        summary.count,
        summary.first.step,
        summary.last.step,
        packed,
        series::blob(&points.steps, i64::to_le_bytes),
        series::blob(&points.values, f64::to_le_bytes),
        series::blob(&points.times, |t| t.timestamp_millis().to_le_bytes()),
    ))?;
    Ok(())
}

/// The bucket summaries of one series, in order.
pub(super) fn summaries(
    conn: &Connection,
    experiment: &str,
    run: &str,
    key: &str,
) -> anyhow::Result<Vec<BucketSummary>> {
    let mut stmt = conn.prepare_cached(
        "SELECT bucket, count, summary FROM series
         WHERE experiment = ?1 AND run = ?2 AND key = ?3 ORDER BY bucket",
    )?;
    let rows = stmt.query_map((experiment, run, key), |row| {
        let index: i64 = row.get(0)?;
        let count: i64 = row.get(1)?;
        let packed = row.get_ref(2)?.as_blob()?;
        Ok((index, count, summary_points(packed)))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (index, count, points) = row?;
        let points =
            points.ok_or_else(|| anyhow::anyhow!("a series bucket's summary is corrupt"))?;
        out.push(BucketSummary::from_points(index, count, points));
    }
    Ok(out)
}

fn summary_points(packed: &[u8]) -> Option<[Point; 4]> {
    if packed.len() != 96 {
        return None;
    }
    let number = |at: usize| {
        let mut eight = [0; 8];
        eight.copy_from_slice(&packed[at..at + 8]);
        eight
    };
    let point = |p: usize| Point {
        step: i64::from_le_bytes(number(p * 24)),
        value: f64::from_le_bytes(number(p * 24 + 8)),
        time: DateTime::from_millis(i64::from_le_bytes(number(p * 24 + 16))),
    };
    Some([point(0), point(1), point(2), point(3)])
}

/// Whole buckets of a run: of one series or all, ordered by key and index.
pub(super) fn buckets(
    conn: &Connection,
    experiment: &str,
    run: &str,
    key: Option<&str>,
    which: &Buckets<'_>,
) -> anyhow::Result<Vec<SeriesBucket>> {
    let mut sql = String::from(
        "SELECT key, bucket, steps, vals, times FROM series WHERE experiment = ?1 AND run = ?2",
    );
    let mut args: Vec<rusqlite::types::Value> =
        vec![experiment.to_owned().into(), run.to_owned().into()];
    if let Some(key) = key {
        sql.push_str(" AND key = ?3");
        args.push(key.to_owned().into());
    }
    match which {
        Buckets::All => {}
        Buckets::Indexes(indexes) => {
            let list: Vec<String> = indexes.iter().map(i64::to_string).collect();
            sql.push_str(&format!(" AND bucket IN ({})", list.join(",")));
        }
    }
    sql.push_str(" ORDER BY key, bucket");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |row| {
        Ok(SeriesBucket {
            key: row.get(0)?,
            index: row.get(1)?,
            points: points_of(
                row.get_ref(2)?.as_blob()?,
                row.get_ref(3)?.as_blob()?,
                row.get_ref(4)?.as_blob()?,
            ),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Writes whole buckets.
pub(super) fn put(
    tx: &Transaction<'_>,
    experiment: &str,
    run: &str,
    buckets: &[SeriesBucket],
) -> anyhow::Result<()> {
    for bucket in buckets {
        write_bucket(
            tx,
            experiment,
            run,
            &bucket.key,
            bucket.index,
            &bucket.points,
        )?;
    }
    Ok(())
}

/// Deletes a run's buckets.
pub(super) fn delete(conn: &Connection, experiment: &str, run: &str) -> anyhow::Result<()> {
    conn.prepare_cached("DELETE FROM series WHERE experiment = ?1 AND run = ?2")?
        .execute((experiment, run))?;
    Ok(())
}

/// The buckets of runs that no longer exist (deleted by a SQL tool, which
/// leaves the buckets behind), one [`Garbage`] per run, with the bytes of
/// their rows; with `remove`, deleted. One transaction, after a fold (a
/// fold writes a run and its buckets together): nothing written meanwhile
/// is taken for an orphan.
pub(super) fn orphans(tx: &Transaction<'_>, remove: bool) -> anyhow::Result<Vec<Garbage>> {
    let mut garbage = Vec::new();
    let mut stmt = tx.prepare_cached(
        "SELECT experiment, run, \
                sum(length(key) + length(summary) + length(steps) + length(vals) \
                    + length(times) + 40) \
         FROM series AS s \
         WHERE NOT EXISTS (SELECT 1 FROM runs AS r WHERE r.experiment = s.experiment AND r.id = s.run) \
         GROUP BY experiment, run",
    )?;
    let mut rows = stmt.query([])?;
    let mut gone = Vec::new();
    while let Some(row) = rows.next()? {
        let (experiment, run): (String, String) = (row.get(0)?, row.get(1)?);
        garbage.push(Garbage {
            kind: "series",
            name: format!("series of run {run} in experiment {experiment}"),
            bytes: row.get::<_, i64>(2)?.try_into().unwrap_or(0),
        });
        gone.push((experiment, run));
    }
    if remove {
        for (experiment, run) in &gone {
            delete(tx, experiment, run)?;
        }
    }
    Ok(garbage)
}
