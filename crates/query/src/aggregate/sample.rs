//! `$sample`: `size` documents chosen uniformly at random (all of them, in
//! random order, when there are fewer).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use bson::{Bson, Document};

use super::{blocking, Docs, Env, ParseCtx, Stage};
use crate::{QueryError, QueryResult};

/// `$sample`.
#[derive(Debug)]
struct Sample(u64);

impl Stage for Sample {
    fn apply<'a>(&'a self, input: Docs<'a>, _: &'a Env) -> Docs<'a> {
        blocking(input, move |input| {
            let size = usize::try_from(self.0).unwrap_or(usize::MAX);
            let mut rng = Rng::seeded();
            // Reservoir sampling: holds at most `size` documents while the
            // input streams through, each kept with equal probability.
            let mut kept: Vec<Document> = Vec::new();
            let mut seen: u64 = 0;
            for doc in input {
                let doc = doc?;
                seen += 1;
                if kept.len() < size {
                    kept.push(doc);
                } else if let Some(slot) = usize::try_from(rng.below(seen))
                    .ok()
                    .and_then(|j| kept.get_mut(j))
                {
                    *slot = doc;
                }
            }
            // The reservoir keeps input order for the first `size`: shuffle.
            for i in (1..kept.len()).rev() {
                let j = usize::try_from(rng.below(i as u64 + 1)).unwrap_or(0);
                kept.swap(i, j);
            }
            Ok(kept)
        })
    }
}

/// A small pseudo-random generator (splitmix64), seeded from the
/// standard library's per-process random hash keys: sampling needs no
/// cryptographic quality, only a fresh choice each run.
struct Rng(u64);

impl Rng {
    /// A generator with a random seed.
    fn seeded() -> Rng {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(0x5eed);
        Rng(hasher.finish())
    }

    /// The next 64 random bits.
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`); the modulo bias is negligible here.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Parses `$sample: {size: <non-negative number>}`; a fractional size is
/// truncated, as the server reads it as a 64-bit integer.
pub(super) fn parse_sample(arg: &Bson, _: &ParseCtx) -> QueryResult<Box<dyn Stage>> {
    let Bson::Document(spec) = arg else {
        return Err(QueryError::new(
            "the $sample stage specification must be an object",
        ));
    };
    let mut size = None;
    for (key, value) in spec {
        if key != "size" {
            return Err(QueryError::new(format!(
                "unrecognized option to $sample: {key}"
            )));
        }
        let n = match value {
            Bson::Int32(i) => i64::from(*i),
            Bson::Int64(i) => *i,
            // Saturating, and NaN becomes 0, as the server's conversion.
            Bson::Double(f) => *f as i64,
            Bson::Decimal128(d) => {
                let f = crate::compare::decimal_to_f64(d);
                f.round_ties_even() as i64
            }
            _ => return Err(QueryError::new("size argument to $sample must be a number")),
        };
        size = Some(
            u64::try_from(n)
                .map_err(|_| QueryError::new("size argument to $sample must not be negative"))?,
        );
    }
    let size = size.ok_or_else(|| QueryError::new("$sample stage must specify a size"))?;
    Ok(Box::new(Sample(size)))
}
