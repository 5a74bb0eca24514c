//! A CSV whose columns are known only after its last row: `export`'s
//! header is the sorted union of the runs' dotted keys, and it comes first.
//!
//! Rows are read once and spooled to an anonymous temporary file as they
//! come, each cell under the number of its column in order of first
//! appearance; at the end the columns are sorted and the spool is read
//! back into the CSV. Memory holds the column names and one row, however
//! many runs there are, and every run is read in one pass: a run that gains
//! a key while it is exported cannot land in a row the header has no
//! column for, as it could with one pass for the keys and another for the
//! rows.
//!
//! Spooled row: its length in bytes (u32), then per cell its column number
//! (u32), its length (u32) and its text, little-endian.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::ops::Range;
use std::path::Path;

use yamlett::bson::{Bson, RawDocument};
use yamlett_cli::keys;

/// How much of the spool is buffered in memory, each way.
const SPOOL_BUFFER: usize = 1024 * 1024;

/// Rows being collected; [`CsvSpool::write_csv`] writes them out.
pub struct CsvSpool {
    /// Each column's number, in order of first appearance.
    columns: HashMap<String, u32>,
    spool: BufWriter<File>,
    /// The row being encoded.
    row: Vec<u8>,
}

impl CsvSpool {
    /// An empty table spooling into an anonymous file in `dir` (removed by
    /// the system when closed, even if the process is killed).
    pub fn new(dir: &Path) -> io::Result<CsvSpool> {
        let file = tempfile::tempfile_in(dir).map_err(|err| {
            io::Error::new(
                err.kind(),
                format!("cannot create a temporary file in {}: {err}", dir.display()),
            )
        })?;
        Ok(CsvSpool {
            columns: HashMap::new(),
            spool: BufWriter::with_capacity(SPOOL_BUFFER, file),
            row: Vec::new(),
        })
    }

    /// Adds a run as one row: each leaf under its dotted key, as
    /// [`keys::cell`] writes it.
    pub fn push(&mut self, run: &RawDocument) -> anyhow::Result<()> {
        let CsvSpool {
            columns,
            spool,
            row,
        } = self;
        row.clear();
        keys::for_each_leaf(run, &mut |key, value| {
            let column = match columns.get(key) {
                Some(&column) => column,
                None => {
                    let column = u32::try_from(columns.len())?;
                    columns.insert(key.to_owned(), column);
                    column
                }
            };
            let text = keys::cell(&Bson::try_from(value)?);
            row.extend_from_slice(&column.to_le_bytes());
            row.extend_from_slice(&u32::try_from(text.len())?.to_le_bytes());
            row.extend_from_slice(text.as_bytes());
            Ok(())
        })?;
        spool.write_all(&u32::try_from(row.len())?.to_le_bytes())?;
        spool.write_all(row)?;
        Ok(())
    }

    /// Writes the header (the keys, sorted) and every row, in the order
    /// they were pushed, to `out`.
    pub fn write_csv(self, out: impl Write) -> Result<(), csv::Error> {
        let mut names: Vec<(String, u32)> = self.columns.into_iter().collect();
        names.sort_unstable();
        // Where each column number lands in the sorted header.
        let mut position = vec![0; names.len()];
        for (at, (_, column)) in names.iter().enumerate() {
            position[column_index(*column)] = at;
        }
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record(names.iter().map(|(name, _)| name))?;

        let mut spool = self.spool.into_inner().map_err(|err| err.into_error())?;
        spool.rewind()?;
        let mut spool = BufReader::with_capacity(SPOOL_BUFFER, spool);
        let mut row = Vec::new();
        let mut cells: Vec<Range<usize>> = vec![0..0; names.len()];
        while let Some(length) = read_u32(&mut spool)? {
            row.resize(column_index(length), 0);
            spool.read_exact(&mut row)?;
            cells.iter_mut().for_each(|cell| *cell = 0..0);
            let mut at = 0;
            while at < row.len() {
                let column = column_index(u32_at(&row, at));
                let length = column_index(u32_at(&row, at + 4));
                at += 8;
                cells[position[column]] = at..at + length;
                at += length;
            }
            csv.write_record(cells.iter().map(|cell| &row[cell.clone()]))?;
        }
        csv.flush()?;
        Ok(())
    }
}

/// A u32 read from the spool as an index (lossless: usize is at least 32 bits here).
fn column_index(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// The little-endian u32 at `at` in an encoded row.
fn u32_at(row: &[u8], at: usize) -> u32 {
    let mut bytes = [0; 4];
    bytes.copy_from_slice(&row[at..at + 4]);
    u32::from_le_bytes(bytes)
}

/// The next row's length, or `None` at the end of the spool.
fn read_u32(spool: &mut impl Read) -> io::Result<Option<u32>> {
    let mut bytes = [0; 4];
    match spool.read_exact(&mut bytes) {
        Ok(()) => Ok(Some(u32::from_le_bytes(bytes))),
        Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
        Err(err) => Err(err),
    }
}
