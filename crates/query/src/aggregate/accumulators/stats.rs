//! `$stdDevPop` and `$stdDevSamp`.

use bson::Bson;

use super::basic::parse_unary;
use super::{Accumulator, AccumulatorSpec};
use crate::aggregate::ParseCtx;
use crate::expr::Num;
use crate::QueryResult;

/// Parses `$stdDevPop`.
pub(super) fn parse_std_dev_pop(
    name: &'static str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    parse_unary(
        name,
        arg,
        ctx,
        || Box::new(StdDev::new(false)),
        || Bson::Null,
    )
}

/// Parses `$stdDevSamp`.
pub(super) fn parse_std_dev_samp(
    name: &'static str,
    arg: &Bson,
    ctx: &ParseCtx,
) -> QueryResult<Box<dyn AccumulatorSpec>> {
    parse_unary(
        name,
        arg,
        ctx,
        || Box::new(StdDev::new(true)),
        || Bson::Null,
    )
}

/// A standard deviation over the numeric inputs (as doubles; anything else
/// is ignored), always a double: null without numbers, and for a sample of
/// one. Welford's online algorithm, as the server uses: one pass, and no
/// catastrophic cancellation from summing squares.
#[derive(Debug)]
struct StdDev {
    /// Whether this is the sample (n - 1) deviation.
    sample: bool,
    /// How many numbers were seen.
    count: u64,
    /// Their running mean.
    mean: f64,
    /// The running sum of squared differences from the mean.
    m2: f64,
}

impl StdDev {
    /// A fresh state.
    fn new(sample: bool) -> StdDev {
        StdDev {
            sample,
            count: 0,
            mean: 0.0,
            m2: 0.0,
        }
    }
}

impl Accumulator for StdDev {
    fn add(&mut self, value: Option<&Bson>) -> QueryResult<()> {
        let Some(x) = value.and_then(Num::of).map(Num::to_f64) else {
            return Ok(());
        };
        self.count += 1;
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (x - self.mean);
        Ok(())
    }

    fn result(&self) -> QueryResult<Bson> {
        let divisor = match (self.count, self.sample) {
            (0, _) | (1, true) => return Ok(Bson::Null),
            (n, true) => n - 1,
            (n, false) => n,
        };
        Ok(Bson::Double((self.m2 / divisor as f64).sqrt()))
    }
}
